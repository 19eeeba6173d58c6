/*
 * model/config.c: a strict INI parser for umbra.conf.
 *
 * Grammar, one construct a line: blank, comment ('#' or ';' first),
 * "[section]", or "key = value".  A value may not span lines.  Trailing
 * comments are not stripped (a '#' can be part of a URI).
 * Every key is checked against a table of known keys per section kind,
 * with a parser that validates its range; the first problem found is
 * reported as "FILE:LINE: ...".
 */
#include "model/config.h"

#include "umbra-config.h"

#include <string.h>

#include "util/strutil.h"

/* clang-format off */
G_DEFINE_QUARK(umbra-config-error-quark, config_error)
/* clang-format on */

#define CONFIG_MAX_BYTES (1024 * 1024)

typedef enum {
    SECT_NONE,
    SECT_UMBRAD,
    SECT_HOST,
    SECT_CELL,
    SECT_GROUP,
} SectKind;

static void
config_host_free(gpointer p)
{
    ConfigHost *h = p;

    g_free(h->name);
    g_free(h->uri);
    g_free(h->cell);
    g_free(h);
}

static void
config_group_free(gpointer p)
{
    ConfigGroup *g = p;

    g_free(g->name);
    g_strfreev(g->domains);
    g_free(g);
}

static void
config_cell_free(gpointer p)
{
    ConfigCell *c = p;

    g_free(c->name);
    g_free(c->description);
    g_free(c);
}

void
umbra_config_free(UmbraConfig *cfg)
{
    if (!cfg) {
        return;
    }
    g_free(cfg->path);
    g_free(cfg->store_path);
    g_free(cfg->socket_path);
    g_free(cfg->hook_socket_path);
    g_free(cfg->spool_dir);
    g_free(cfg->socket_group);
    g_free(cfg->forecast_model);
    if (cfg->hosts) {
        g_ptr_array_unref(cfg->hosts);
    }
    g_free(cfg->shadow_cell);
    g_free(cfg->shadow_mode);
    g_strfreev(cfg->shadow_protect);
    g_free(cfg->shadow_pool);
    g_free(cfg->shadow_pool_path);
    if (cfg->groups) {
        g_ptr_array_unref(cfg->groups);
    }
    if (cfg->cells) {
        g_ptr_array_unref(cfg->cells);
    }
    g_free(cfg);
}

static UmbraConfig *
config_new_defaults(const char *path)
{
    UmbraConfig *cfg = g_new0(UmbraConfig, 1);

    cfg->path = g_strdup(path);
    cfg->interval_s = 10;
    cfg->store_path = g_strdup(UMBRA_STATEDIR "/umbra.db");
    cfg->socket_path = g_strdup(UMBRA_RUNDIR "/umbrad.sock");
    cfg->hook_socket_path = g_strdup(UMBRA_RUNDIR "/hook.sock");
    cfg->spool_dir = g_strdup(UMBRA_SPOOLDIR);
    cfg->socket_group = g_strdup("libvirt");
    cfg->retention_raw_s = 2 * 86400;
    cfg->retention_5m_s = 35 * 86400;
    cfg->retention_events_s = 35 * 86400;
    cfg->keepalive_interval_s = 5;
    cfg->keepalive_count = 3;
    cfg->reconnect_min_s = 1;
    cfg->reconnect_max_s = 60;
    cfg->forecast_model = g_strdup("combo");
    cfg->forecast_refit_s = 15 * 60;
    cfg->forecast_step_s = 60;
    cfg->risk = true;
    cfg->risk_threshold = 0.5;
    cfg->risk_precision = 0.8;
    cfg->risk_rho = 0.3;
    cfg->risk_interval_s = 60;
    cfg->shadow_cell = g_strdup("preferred");
    cfg->cpu_overcommit = 1.0;
    cfg->shadow_auto = true;
    cfg->reactive = false;
    cfg->reactive_cpu = 90;
    cfg->reactive_for_s = 30;
    cfg->migration_timeout_s = 300;
    cfg->link_mibps = 117;
    cfg->shadow_mode = g_strdup("warm");
    cfg->shadow_idle_s = 30 * 60;
    cfg->shadow_warm_boot_s = 20;
    cfg->shadow_pool = g_strdup("umbra");
    cfg->shadow_pool_path = g_strdup("/var/lib/libvirt/umbra");
    cfg->groups = g_ptr_array_new_with_free_func(config_group_free);
    cfg->hosts = g_ptr_array_new_with_free_func(config_host_free);
    cfg->cells = g_ptr_array_new_with_free_func(config_cell_free);
    return cfg;
}

static bool
valid_name(const char *s)
{
    if (!*s || strlen(s) > 64) {
        return false;
    }
    for (; *s; s++) {
        if (!g_ascii_isalnum(*s) && *s != '-' && *s != '_' && *s != '.') {
            return false;
        }
    }
    return true;
}

const ConfigCell *
umbra_config_find_cell(const UmbraConfig *cfg, const char *name)
{
    for (guint i = 0; name && i < cfg->cells->len; i++) {
        const ConfigCell *c = g_ptr_array_index(cfg->cells, i);

        if (strcmp(c->name, name) == 0) {
            return c;
        }
    }
    return NULL;
}

static ConfigCell *
config_cell_get(UmbraConfig *cfg, const char *name, bool create)
{
    ConfigCell *found = (ConfigCell *) umbra_config_find_cell(cfg, name);

    if (found) {
        return found;
    }
    if (create) {
        ConfigCell *c = g_new0(ConfigCell, 1);

        c->name = g_strdup(name);
        g_ptr_array_add(cfg->cells, c);
        return c;
    }
    return NULL;
}

const ConfigHost *
umbra_config_find_host(const UmbraConfig *cfg, const char *name)
{
    for (guint i = 0; name && i < cfg->hosts->len; i++) {
        const ConfigHost *h = g_ptr_array_index(cfg->hosts, i);

        if (strcmp(h->name, name) == 0) {
            return h;
        }
    }
    return NULL;
}

double
umbra_config_host_cpus(const UmbraConfig *cfg, const char *name,
                       double reported)
{
    const ConfigHost *ch = umbra_config_find_host(cfg, name);

    return ch && ch->cpus > 0 ? (double) ch->cpus : reported;
}

static bool
parse_range(const char *val, int64_t lo, int64_t hi, bool duration,
            int64_t *ret)
{
    int64_t v;

    if (duration ? !util_parse_duration(val, &v) : !util_parse_int64(val, &v)) {
        return false;
    }
    if (v < lo || v > hi) {
        return false;
    }
    *ret = v;
    return true;
}

#define ERR(code, ...)                                                         \
    do {                                                                       \
        g_autofree char *msg_ = g_strdup_printf(__VA_ARGS__);                  \
        g_set_error(error, CONFIG_ERROR, code, "%s:%d: %s", path, lineno,      \
                    msg_);                                                     \
        return false;                                                          \
    } while (0)

/* A comma-separated list of domain names into *@ret (replaced). */
static bool
parse_names(const char *path, int lineno, const char *key, const char *val,
            GStrv *ret, GError **error)
{
    g_auto(GStrv) parts = g_strsplit(val, ",", -1);
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);

    for (char **p = parts; *p; p++) {
        char *n = g_strstrip(*p);

        if (!*n) {
            continue;
        }
        if (strlen(n) > 200) {
            ERR(CONFIG_ERROR_VALUE,
                "key '%s': a domain name is longer than 200 characters", key);
        }
        g_ptr_array_add(names, g_strdup(n));
    }
    if (names->len == 0) {
        ERR(CONFIG_ERROR_VALUE, "key '%s': no domain names (comma-separated)",
            key);
    }
    g_ptr_array_add(names, NULL);
    g_strfreev(*ret);
    *ret = (GStrv) g_ptr_array_steal(names, NULL);
    return true;
}

static bool
config_set_umbrad(UmbraConfig *cfg, const char *path, int lineno,
                  const char *key, const char *val, GError **error)
{
    int64_t v;

    if (strcmp(key, "interval") == 0) {
        if (!parse_range(val, 1, 3600, true, &v)) {
            ERR(CONFIG_ERROR_VALUE,
                "key 'interval': '%s' is not a duration "
                "between 1s and 3600s",
                val);
        }
        cfg->interval_s = v;
    } else if (strcmp(key, "store") == 0 || strcmp(key, "socket") == 0 ||
               strcmp(key, "hook_socket") == 0 ||
               strcmp(key, "spool_dir") == 0) {
        char **dst = key[0] == 'h'   ? &cfg->hook_socket_path
                     : key[1] == 'p' ? &cfg->spool_dir
                     : key[1] == 't' ? &cfg->store_path
                                     : &cfg->socket_path;

        if (!g_path_is_absolute(val)) {
            ERR(CONFIG_ERROR_VALUE, "key '%s': '%s' is not an absolute path",
                key, val);
        }
        if (strlen(val) >= 100 && key[0] != 's') {
            ERR(CONFIG_ERROR_VALUE, "key '%s': socket path is too long", key);
        }
        g_free(*dst);
        *dst = g_strdup(val);
    } else if (strcmp(key, "socket_group") == 0) {
        g_free(cfg->socket_group);
        cfg->socket_group = g_strdup(val);
    } else if (strcmp(key, "retention_raw") == 0 ||
               strcmp(key, "retention_5m") == 0 ||
               strcmp(key, "retention_events") == 0) {
        if (!parse_range(val, 600, 3650 * 86400LL, true, &v)) {
            ERR(CONFIG_ERROR_VALUE,
                "key '%s': '%s' is not a duration "
                "between 10m and 3650d",
                key, val);
        }
        if (strcmp(key, "retention_raw") == 0) {
            cfg->retention_raw_s = v;
        } else if (strcmp(key, "retention_5m") == 0) {
            cfg->retention_5m_s = v;
        } else {
            cfg->retention_events_s = v;
        }
    } else if (strcmp(key, "keepalive_interval") == 0) {
        if (!parse_range(val, 1, 600, true, &v)) {
            ERR(CONFIG_ERROR_VALUE,
                "key '%s': '%s' is not between 1 and 600 "
                "seconds",
                key, val);
        }
        cfg->keepalive_interval_s = (int) v;
    } else if (strcmp(key, "keepalive_count") == 0) {
        if (!parse_range(val, 1, 100, false, &v)) {
            ERR(CONFIG_ERROR_VALUE,
                "key '%s': '%s' is not an integer between "
                "1 and 100",
                key, val);
        }
        cfg->keepalive_count = (int) v;
    } else if (strcmp(key, "reconnect_min") == 0 ||
               strcmp(key, "reconnect_max") == 0) {
        if (!parse_range(val, 1, 3600, true, &v)) {
            ERR(CONFIG_ERROR_VALUE,
                "key '%s': '%s' is not a duration between "
                "1s and 3600s",
                key, val);
        }
        if (strcmp(key, "reconnect_min") == 0) {
            cfg->reconnect_min_s = v;
        } else {
            cfg->reconnect_max_s = v;
        }
    } else if (strcmp(key, "forecast_model") == 0) {
        static const char *const models[] = {
            "combo", "mstl", "ets", "arima", "snaive", "naive2", "off",
        };
        bool known = false;

        for (size_t i = 0; i < G_N_ELEMENTS(models); i++) {
            known = known || strcmp(val, models[i]) == 0;
        }
        if (!known) {
            ERR(CONFIG_ERROR_VALUE,
                "key 'forecast_model': '%s' is not one "
                "of combo, mstl, ets, arima, snaive, naive2, off",
                val);
        }
        g_free(cfg->forecast_model);
        cfg->forecast_model = g_strdup(val);
    } else if (strcmp(key, "forecast_refit") == 0) {
        if (!parse_range(val, 10, 86400, true, &v)) {
            ERR(CONFIG_ERROR_VALUE,
                "key 'forecast_refit': '%s' is not a "
                "duration between 10s and 1d",
                val);
        }
        cfg->forecast_refit_s = v;
    } else if (strcmp(key, "forecast_step") == 0) {
        if (!parse_range(val, 10, 3600, true, &v)) {
            ERR(CONFIG_ERROR_VALUE,
                "key 'forecast_step': '%s' is not a "
                "duration between 10s and 1h",
                val);
        }
        cfg->forecast_step_s = v;
    } else if (strcmp(key, "shadow_cell") == 0) {
        if (strcmp(val, "preferred") != 0 && strcmp(val, "required") != 0) {
            ERR(CONFIG_ERROR_VALUE,
                "key 'shadow_cell': '%s' is not preferred or required", val);
        }
        g_free(cfg->shadow_cell);
        cfg->shadow_cell = g_strdup(val);
    } else if (strcmp(key, "migration_timeout") == 0) {
        if (!parse_range(val, 10, 86400, true, &v)) {
            ERR(CONFIG_ERROR_VALUE,
                "key 'migration_timeout': '%s' is not a duration between 10s "
                "and 1d",
                val);
        }
        cfg->migration_timeout_s = v;
    } else if (strcmp(key, "migration_bandwidth") == 0) {
        if (!parse_range(val, 0, 1000000, false, &v)) {
            ERR(CONFIG_ERROR_VALUE,
                "key 'migration_bandwidth': '%s' is not a whole number of "
                "MiB/s between 0 (no cap) and 1000000",
                val);
        }
        cfg->migration_bandwidth = v;
    } else if (strcmp(key, "link_mibps") == 0) {
        char *end = NULL;
        double d = g_ascii_strtod(val, &end);

        if (!end || end == val || *end || !(d >= 1 && d <= 1e6)) {
            ERR(CONFIG_ERROR_VALUE,
                "key 'link_mibps': '%s' is not a number between 1 and "
                "1000000 (MiB/s)",
                val);
        }
        cfg->link_mibps = d;
    } else if (strcmp(key, "cpu_overcommit") == 0) {
        char *end = NULL;
        double d = g_ascii_strtod(val, &end);

        if (!end || end == val || *end || !(d >= 1 && d <= 16)) {
            ERR(CONFIG_ERROR_VALUE,
                "key 'cpu_overcommit': '%s' is not a number between 1 and 16",
                val);
        }
        cfg->cpu_overcommit = d;
    } else if (strcmp(key, "shadow_protect") == 0) {
        if (!parse_names(path, lineno, key, val, &cfg->shadow_protect, error)) {
            return false;
        }
    } else if (strcmp(key, "shadow_auto") == 0) {
        if (strcmp(val, "on") != 0 && strcmp(val, "off") != 0) {
            ERR(CONFIG_ERROR_VALUE, "key 'shadow_auto': '%s' is not on or off",
                val);
        }
        cfg->shadow_auto = strcmp(val, "on") == 0;
    } else if (strcmp(key, "cutover_policy") == 0) {
        if (strcmp(val, "predictive") != 0 && strcmp(val, "reactive") != 0) {
            ERR(CONFIG_ERROR_VALUE,
                "key 'cutover_policy': '%s' is not predictive or reactive",
                val);
        }
        cfg->reactive = strcmp(val, "reactive") == 0;
    } else if (strcmp(key, "reactive_cpu") == 0) {
        char *end = NULL;
        double d = g_ascii_strtod(val, &end);

        if (!end || end == val || *end || !(d >= 10 && d <= 100)) {
            ERR(CONFIG_ERROR_VALUE,
                "key 'reactive_cpu': '%s' is not a percentage between 10 "
                "and 100",
                val);
        }
        cfg->reactive_cpu = d;
    } else if (strcmp(key, "reactive_for") == 0) {
        if (!parse_range(val, 1, 3600, true, &v)) {
            ERR(CONFIG_ERROR_VALUE,
                "key 'reactive_for': '%s' is not a duration between 1s and 1h",
                val);
        }
        cfg->reactive_for_s = v;
    } else if (strcmp(key, "shadow_mode") == 0) {
        if (strcmp(val, "warm") != 0 && strcmp(val, "cold") != 0) {
            ERR(CONFIG_ERROR_VALUE,
                "key 'shadow_mode': '%s' is not warm or cold", val);
        }
        g_free(cfg->shadow_mode);
        cfg->shadow_mode = g_strdup(val);
    } else if (strcmp(key, "shadow_idle") == 0) {
        if (!parse_range(val, 60, 7 * 86400, true, &v)) {
            ERR(CONFIG_ERROR_VALUE,
                "key 'shadow_idle': '%s' is not a duration between 1m and 7d",
                val);
        }
        cfg->shadow_idle_s = v;
    } else if (strcmp(key, "shadow_warm_boot") == 0) {
        if (!parse_range(val, 0, 600, true, &v)) {
            ERR(CONFIG_ERROR_VALUE,
                "key 'shadow_warm_boot': '%s' is not a duration between 0s "
                "and 10m",
                val);
        }
        cfg->shadow_warm_boot_s = v;
    } else if (strcmp(key, "shadow_pool") == 0) {
        if (!valid_name(val)) {
            ERR(CONFIG_ERROR_VALUE,
                "key 'shadow_pool': '%s' is not a valid pool name", val);
        }
        g_free(cfg->shadow_pool);
        cfg->shadow_pool = g_strdup(val);
    } else if (strcmp(key, "shadow_pool_path") == 0) {
        if (!g_path_is_absolute(val)) {
            ERR(CONFIG_ERROR_VALUE,
                "key 'shadow_pool_path': '%s' is not an absolute path", val);
        }
        g_free(cfg->shadow_pool_path);
        cfg->shadow_pool_path = g_strdup(val);
    } else if (strcmp(key, "risk_interval") == 0) {
        if (!parse_range(val, 1, 600, true, &v)) {
            ERR(CONFIG_ERROR_VALUE,
                "key 'risk_interval': '%s' is not a duration between 1s and "
                "10m",
                val);
        }
        cfg->risk_interval_s = v;
    } else if (strcmp(key, "risk") == 0) {
        if (strcmp(val, "on") != 0 && strcmp(val, "off") != 0) {
            ERR(CONFIG_ERROR_VALUE, "key 'risk': '%s' is not on or off", val);
        }
        cfg->risk = strcmp(val, "on") == 0;
    } else if (strcmp(key, "risk_threshold") == 0 ||
               strcmp(key, "risk_precision") == 0 ||
               strcmp(key, "risk_rho") == 0) {
        double lo = strcmp(key, "risk_rho") == 0 ? 0 : 0.01;
        double hi = strcmp(key, "risk_threshold") == 0 ? 0.99 : 1;
        char *end = NULL;
        double d = g_ascii_strtod(val, &end);

        if (!end || end == val || *end || !(d >= lo && d <= hi)) {
            ERR(CONFIG_ERROR_VALUE,
                "key '%s': '%s' is not a number between %g and %g", key, val,
                lo, hi);
        }
        if (strcmp(key, "risk_threshold") == 0) {
            cfg->risk_threshold = d;
        } else if (strcmp(key, "risk_precision") == 0) {
            cfg->risk_precision = d;
        } else {
            cfg->risk_rho = d;
        }
    } else {
        ERR(CONFIG_ERROR_UNKNOWN,
            "key '%s': unknown key in section [umbrad] "
            "(known: interval, store, socket, socket_group, hook_socket, "
            "spool_dir, retention_raw, retention_5m, retention_events, "
            "keepalive_interval, keepalive_count, reconnect_min, "
            "reconnect_max, forecast_model, forecast_refit, forecast_step, "
            "risk, "
            "risk_interval, risk_threshold, risk_precision, risk_rho, "
            "shadow_cell, cpu_overcommit, migration_timeout, link_mibps, "
            "migration_bandwidth, shadow_auto, cutover_policy, "
            "reactive_cpu, reactive_for, shadow_protect, "
            "shadow_mode, shadow_idle, "
            "shadow_warm_boot, "
            "shadow_pool, shadow_pool_path)",
            key);
    }
    return true;
}

static bool
config_set_host(ConfigHost *h, const char *path, int lineno, const char *key,
                const char *val, GError **error)
{
    if (strcmp(key, "uri") == 0) {
        if (!strstr(val, "://") && !g_str_has_suffix(val, ":///system")) {
            ERR(CONFIG_ERROR_VALUE,
                "key 'uri': '%s' is not a libvirt URI "
                "(e.g. qemu+tcp://10.0.0.1/system)",
                val);
        }
        g_free(h->uri);
        h->uri = g_strdup(val);
    } else if (strcmp(key, "cell") == 0) {
        if (!valid_name(val)) {
            ERR(CONFIG_ERROR_VALUE,
                "key 'cell': '%s' is not a valid cell "
                "name (letters, digits, '.', '-', '_')",
                val);
        }
        g_free(h->cell);
        h->cell = g_strdup(val);
    } else if (strcmp(key, "cpus") == 0) {
        int64_t v;

        if (!parse_range(val, 1, 4096, false, &v)) {
            ERR(CONFIG_ERROR_VALUE,
                "key 'cpus': '%s' is not a whole number of CPUs between 1 "
                "and 4096",
                val);
        }
        h->cpus = (int) v;
    } else {
        ERR(CONFIG_ERROR_UNKNOWN,
            "key '%s': unknown key in section "
            "[host:%s] (known: uri, cell, cpus)",
            key, h->name);
    }
    return true;
}

static bool
config_set_cell(ConfigCell *c, const char *path, int lineno, const char *key,
                const char *val, GError **error)
{
    if (strcmp(key, "description") == 0) {
        g_free(c->description);
        c->description = g_strdup(val);
    } else {
        ERR(CONFIG_ERROR_UNKNOWN,
            "key '%s': unknown key in section "
            "[cell:%s] (known: description)",
            key, c->name);
    }
    return true;
}

static bool
config_set_group(ConfigGroup *g, const char *path, int lineno, const char *key,
                 const char *val, GError **error)
{
    if (strcmp(key, "domains") == 0) {
        if (!parse_names(path, lineno, key, val, &g->domains, error)) {
            return false;
        }
    } else {
        ERR(CONFIG_ERROR_UNKNOWN,
            "key '%s': unknown key in section [group:%s] (known: domains)", key,
            g->name);
    }
    return true;
}

static bool
config_check(UmbraConfig *cfg, const char *path, GError **error)
{
    int lineno = 0;

    for (guint i = 0; i < cfg->groups->len; i++) {
        const ConfigGroup *g = cfg->groups->pdata[i];

        if (!g->domains) {
            ERR(CONFIG_ERROR_INCONSISTENT,
                "section [group:%s] has no 'domains' key", g->name);
        }
    }

    if (cfg->hosts->len == 0) {
        ERR(CONFIG_ERROR_INCONSISTENT, "no [host:NAME] section: umbrad needs "
                                       "at least one host to watch");
    }
    for (guint i = 0; i < cfg->hosts->len; i++) {
        ConfigHost *h = g_ptr_array_index(cfg->hosts, i);

        lineno = h->line;
        if (!h->uri) {
            ERR(CONFIG_ERROR_INCONSISTENT,
                "key 'uri': missing in section "
                "[host:%s]",
                h->name);
        }
        if (!h->cell) {
            h->cell = g_strdup("default");
        }
        config_cell_get(cfg, h->cell, true);
        for (guint j = 0; j < i; j++) {
            ConfigHost *o = g_ptr_array_index(cfg->hosts, j);

            if (strcmp(o->uri, h->uri) == 0) {
                ERR(CONFIG_ERROR_INCONSISTENT,
                    "key 'uri': host '%s' has the "
                    "same URI as host '%s' (line %d)",
                    h->name, o->name, o->line);
            }
        }
    }
    lineno = 0;
    if (cfg->reconnect_min_s > cfg->reconnect_max_s) {
        ERR(CONFIG_ERROR_INCONSISTENT, "key 'reconnect_min': larger than "
                                       "reconnect_max");
    }
    if (cfg->retention_5m_s < cfg->retention_raw_s) {
        ERR(CONFIG_ERROR_INCONSISTENT, "key 'retention_5m': shorter than "
                                       "retention_raw");
    }
    if (strcmp(cfg->socket_path, cfg->hook_socket_path) == 0) {
        ERR(CONFIG_ERROR_INCONSISTENT, "key 'hook_socket': same path as "
                                       "'socket'");
    }
    return true;
}

UmbraConfig *
umbra_config_parse(const char *path, const char *buf, size_t len,
                   GError **error)
{
    g_autoptr(UmbraConfig) cfg = config_new_defaults(path);
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    g_autoptr(GHashTable) seen = NULL;
    SectKind kind = SECT_NONE;
    ConfigHost *host = NULL;
    ConfigCell *cell = NULL;
    ConfigGroup *group = NULL;
    g_autofree char *sect_name = NULL;
    int lineno = 0;

    if (len > CONFIG_MAX_BYTES) {
        g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_IO,
                    "%s: file is larger than %d bytes", path, CONFIG_MAX_BYTES);
        return NULL;
    }
    if (memchr(buf, '\0', len) || !g_utf8_validate(buf, (gssize) len, NULL)) {
        g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_SYNTAX,
                    "%s: file is not UTF-8 text", path);
        return NULL;
    }
    text = g_strndup(buf, len);
    lines = g_strsplit(text, "\n", -1);
    seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

    for (char **lp = lines; *lp; lp++) {
        g_autofree char *line = g_strstrip(g_strdup(*lp));
        char *eq;
        g_autofree char *key = NULL;
        g_autofree char *val = NULL;
        g_autofree char *seen_key = NULL;
        bool ok = true;

        lineno++;
        if (!*line || line[0] == '#' || line[0] == ';') {
            continue;
        }
        if (line[0] == '[') {
            size_t l = strlen(line);
            char *name;

            if (line[l - 1] != ']') {
                g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_SYNTAX,
                            "%s:%d: section header '%s' lacks ']'", path,
                            lineno, line);
                return NULL;
            }
            line[l - 1] = '\0';
            g_free(sect_name);
            sect_name = g_strdup(g_strstrip(line + 1));
            if (g_hash_table_contains(seen, sect_name)) {
                g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_SYNTAX,
                            "%s:%d: section [%s] appears twice", path, lineno,
                            sect_name);
                return NULL;
            }
            g_hash_table_add(seen, g_strdup(sect_name));
            host = NULL;
            cell = NULL;
            group = NULL;
            if (strcmp(sect_name, "umbrad") == 0) {
                kind = SECT_UMBRAD;
            } else if (g_str_has_prefix(sect_name, "host:")) {
                name = sect_name + 5;
                if (!valid_name(name)) {
                    g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_VALUE,
                                "%s:%d: section [%s]: '%s' is not a valid "
                                "host name (letters, digits, '.', '-', '_')",
                                path, lineno, sect_name, name);
                    return NULL;
                }
                kind = SECT_HOST;
                host = g_new0(ConfigHost, 1);
                host->name = g_strdup(name);
                host->line = lineno;
                g_ptr_array_add(cfg->hosts, host);
            } else if (g_str_has_prefix(sect_name, "cell:")) {
                name = sect_name + 5;
                if (!valid_name(name)) {
                    g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_VALUE,
                                "%s:%d: section [%s]: '%s' is not a valid "
                                "cell name",
                                path, lineno, sect_name, name);
                    return NULL;
                }
                kind = SECT_CELL;
                cell = config_cell_get(cfg, name, true);
            } else if (g_str_has_prefix(sect_name, "group:")) {
                name = sect_name + 6;
                if (!valid_name(name)) {
                    g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_VALUE,
                                "%s:%d: section [%s]: '%s' is not a valid "
                                "group name",
                                path, lineno, sect_name, name);
                    return NULL;
                }
                kind = SECT_GROUP;
                group = g_new0(ConfigGroup, 1);
                group->name = g_strdup(name);
                g_ptr_array_add(cfg->groups, group);
            } else {
                g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_UNKNOWN,
                            "%s:%d: unknown section [%s] (known: [umbrad], "
                            "[cell:NAME], [host:NAME], [group:NAME])",
                            path, lineno, sect_name);
                return NULL;
            }
            continue;
        }
        eq = strchr(line, '=');
        if (!eq) {
            g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_SYNTAX,
                        "%s:%d: '%s' is not 'key = value'", path, lineno, line);
            return NULL;
        }
        *eq = '\0';
        key = g_strstrip(g_strdup(line));
        val = g_strstrip(g_strdup(eq + 1));
        if (!*key) {
            g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_SYNTAX,
                        "%s:%d: empty key before '='", path, lineno);
            return NULL;
        }
        if (kind == SECT_NONE) {
            g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_SYNTAX,
                        "%s:%d: key '%s' is outside any section", path, lineno,
                        key);
            return NULL;
        }
        if (!*val) {
            g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_VALUE,
                        "%s:%d: key '%s': empty value", path, lineno, key);
            return NULL;
        }
        seen_key = g_strdup_printf("%s\n%s", sect_name, key);
        if (g_hash_table_contains(seen, seen_key)) {
            g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_SYNTAX,
                        "%s:%d: key '%s' appears twice in [%s]", path, lineno,
                        key, sect_name);
            return NULL;
        }
        g_hash_table_add(seen, g_steal_pointer(&seen_key));
        switch (kind) {
        case SECT_UMBRAD:
            ok = config_set_umbrad(cfg, path, lineno, key, val, error);
            break;
        case SECT_HOST:
            ok = config_set_host(host, path, lineno, key, val, error);
            break;
        case SECT_CELL:
            ok = config_set_cell(cell, path, lineno, key, val, error);
            break;
        case SECT_GROUP:
            ok = config_set_group(group, path, lineno, key, val, error);
            break;
        case SECT_NONE:
            break;
        }
        if (!ok) {
            return NULL;
        }
    }
    if (!config_check(cfg, path, error)) {
        return NULL;
    }
    return g_steal_pointer(&cfg);
}

UmbraConfig *
umbra_config_load(const char *path, GError **error)
{
    g_autofree char *buf = NULL;
    gsize len = 0;
    g_autoptr(GError) err = NULL;

    if (!g_file_get_contents(path, &buf, &len, &err)) {
        g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_IO, "%s: %s", path,
                    err->message);
        return NULL;
    }
    return umbra_config_parse(path, buf, len, error);
}

const ConfigGroup *
umbra_config_group_of(const UmbraConfig *cfg, const char *domain)
{
    for (guint i = 0; domain && i < cfg->groups->len; i++) {
        const ConfigGroup *g = cfg->groups->pdata[i];

        if (g->domains &&
            g_strv_contains((const char *const *) g->domains, domain)) {
            return g;
        }
    }
    return NULL;
}
