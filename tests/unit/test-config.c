/*
 * tests/unit/test-config.c: umbra.conf parsing, good and bad.
 */
#include <glib/gstdio.h>
#include <string.h>

#include "cutest.h"
#include "model/config.h"

static UmbraConfig *
parse(const char *text, GError **error)
{
    return umbra_config_parse("t.conf", text, strlen(text), error);
}

static void
test_good(void)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(UmbraConfig) cfg = parse("# comment\n"
                                       "[umbrad]\n"
                                       "interval = 2s\n"
                                       "store = /tmp/x.db\n"
                                       "retention_raw = 1d\n"
                                       "forecast_model = mstl\n"
                                       "forecast_refit = 5m\n"
                                       "forecast_step = 10s\n"
                                       "cutover_policy = reactive\n"
                                       "reactive_cpu = 85\n"
                                       "reactive_for = 1m\n"
                                       "risk_threshold = 0.3\n"
                                       "risk_precision = 0.9\n"
                                       "risk_rho = 0\n"
                                       "\n"
                                       "[cell:a]\n"
                                       "description = rack A\n"
                                       "[host:h1]\n"
                                       "uri = qemu+tcp://10.0.0.1/system\n"
                                       "cell = a\n"
                                       "[host:h2]\n"
                                       "uri = qemu+tcp://10.0.0.2/system\n"
                                       "cell = b\n"
                                       "cpus = 3\n"
                                       "[host:h3]\n"
                                       "uri = test:///default\n"
                                       "[group:shop]\n"
                                       "domains = web1, web2 ,db\n",
                                       &err);

    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    CU_ASSERT_EQUAL(cfg->interval_s, 2);
    CU_ASSERT_STRING_EQUAL(cfg->store_path, "/tmp/x.db");
    CU_ASSERT_EQUAL(cfg->retention_raw_s, 86400);
    CU_ASSERT_STRING_EQUAL(cfg->forecast_model, "mstl");
    CU_ASSERT_EQUAL(cfg->forecast_refit_s, 300);
    CU_ASSERT_EQUAL(cfg->forecast_step_s, 10);
    CU_ASSERT_TRUE(cfg->reactive);
    CU_ASSERT_DOUBLE_EQUAL(cfg->reactive_cpu, 85, 1e-12);
    CU_ASSERT_EQUAL(cfg->reactive_for_s, 60);
    CU_ASSERT_TRUE(cfg->risk);
    CU_ASSERT_DOUBLE_EQUAL(cfg->risk_threshold, 0.3, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(cfg->risk_precision, 0.9, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(cfg->risk_rho, 0, 1e-12);
    CU_ASSERT_STRING_EQUAL(cfg->shadow_cell, "preferred");
    CU_ASSERT_EQUAL(cfg->groups->len, 1);
    CU_ASSERT_STRING_EQUAL(umbra_config_group_of(cfg, "web2")->name, "shop");
    CU_ASSERT_STRING_EQUAL(umbra_config_group_of(cfg, "db")->name, "shop");
    CU_ASSERT_PTR_NULL(umbra_config_group_of(cfg, "web3"));
    CU_ASSERT_EQUAL(cfg->hosts->len, 3);
    CU_ASSERT_EQUAL(cfg->cells->len, 3);
    CU_ASSERT_STRING_EQUAL(umbra_config_find_host(cfg, "h2")->cell, "b");
    CU_ASSERT_EQUAL(umbra_config_find_host(cfg, "h2")->cpus, 3);
    CU_ASSERT_EQUAL(umbra_config_find_host(cfg, "h1")->cpus, 0);
    CU_ASSERT_STRING_EQUAL(umbra_config_find_host(cfg, "h3")->cell, "default");
    CU_ASSERT_STRING_EQUAL(
        ((ConfigCell *) g_ptr_array_index(cfg->cells, 0))->description,
        "rack A");
}

static void
test_defaults(void)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(UmbraConfig) cfg =
        parse("[host:h]\nuri = qemu:///system\n", &err);

    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    CU_ASSERT_EQUAL(cfg->interval_s, 10);
    CU_ASSERT_STRING_EQUAL(cfg->socket_path, "/run/umbra/umbrad.sock");
    CU_ASSERT_STRING_EQUAL(cfg->store_path, "/var/lib/umbra/umbra.db");
    CU_ASSERT_EQUAL(cfg->forecast_step_s, 60);
    CU_ASSERT_FALSE(cfg->reactive);
    CU_ASSERT_DOUBLE_EQUAL(cfg->reactive_cpu, 90, 1e-12);
    CU_ASSERT_EQUAL(cfg->reactive_for_s, 30);
}

/* Each bad config must fail with the expected code and a message that
 * names the file, the line and the key. */
static void
test_bad(void)
{
    static const struct {
        const char *text;
        int code;
        const char *needle;
    } cases[] = {
        {"[umbrad]\ninterval = 0\n[host:h]\nuri = qemu:///system\n",
         CONFIG_ERROR_VALUE, "t.conf:2: key 'interval'"},
        {"[umbrad]\ninterval = fast\n", CONFIG_ERROR_VALUE,
         "t.conf:2: key 'interval'"},
        {"[umbrad]\ninterval = 3601\n", CONFIG_ERROR_VALUE, ":2:"},
        {"[umbrad]\nintervall = 5\n", CONFIG_ERROR_UNKNOWN,
         "t.conf:2: key 'intervall': unknown key"},
        {"[umbrad\n", CONFIG_ERROR_SYNTAX, "t.conf:1:"},
        {"[host:h]\nuri = qemu:///system\ncpus = 0\n", CONFIG_ERROR_VALUE,
         "t.conf:3: key 'cpus'"},
        {"[umbrad]\nshadow_auto = maybe\n", CONFIG_ERROR_VALUE,
         "key 'shadow_auto'"},
        {"[umbrad]\ncpu_overcommit = 0.5\n", CONFIG_ERROR_VALUE,
         "key 'cpu_overcommit'"},
        {"[umbrad]\ncutover_policy = eager\n", CONFIG_ERROR_VALUE,
         "key 'cutover_policy'"},
        {"[umbrad]\nreactive_cpu = 101\n", CONFIG_ERROR_VALUE,
         "key 'reactive_cpu'"},
        {"[umbrad]\nforecast_step = 5s\n", CONFIG_ERROR_VALUE,
         "key 'forecast_step'"},
        {"[umbrad]\nshadow_mode = hot\n", CONFIG_ERROR_VALUE,
         "key 'shadow_mode'"},
        {"[umbrad]\nmigration_timeout = 1s\n", CONFIG_ERROR_VALUE,
         "key 'migration_timeout'"},
        {"interval = 5\n", CONFIG_ERROR_SYNTAX, "outside any section"},
        {"[umbrad]\njust words\n", CONFIG_ERROR_SYNTAX, "t.conf:2:"},
        {"[umbrad]\n[umbrad]\n", CONFIG_ERROR_SYNTAX, "t.conf:2: section"},
        {"[hosts:h]\n", CONFIG_ERROR_UNKNOWN, "unknown section [hosts:h]"},
        {"[host:h]\nuri = qemu:///system\nuri = qemu:///session\n",
         CONFIG_ERROR_SYNTAX, "t.conf:3: key 'uri' appears twice"},
        {"[host:h]\nuri = nonsense\n", CONFIG_ERROR_VALUE,
         "t.conf:2: key 'uri'"},
        {"[host:h]\ncell = a\n", CONFIG_ERROR_INCONSISTENT,
         "t.conf:1: key 'uri': missing"},
        {"[host:h1]\nuri = qemu:///system\n[host:h2]\nuri = qemu:///system\n",
         CONFIG_ERROR_INCONSISTENT, "t.conf:3: key 'uri'"},
        {"[umbrad]\ninterval = 5\n", CONFIG_ERROR_INCONSISTENT,
         "no [host:NAME]"},
        {"[host:bad name]\nuri = qemu:///system\n", CONFIG_ERROR_VALUE,
         "t.conf:1:"},
        {"[host:h]\nuri = qemu:///system\ncell = a b\n", CONFIG_ERROR_VALUE,
         "t.conf:3: key 'cell'"},
        {"[umbrad]\nstore = relative.db\n", CONFIG_ERROR_VALUE,
         "t.conf:2: key 'store'"},
        {"[umbrad]\nreconnect_min = 100\nreconnect_max = 10\n"
         "[host:h]\nuri = qemu:///system\n",
         CONFIG_ERROR_INCONSISTENT, "reconnect_min"},
        {"[umbrad]\ninterval =\n", CONFIG_ERROR_VALUE, "empty value"},
        {"[umbrad]\nforecast_model = prophet\n", CONFIG_ERROR_VALUE,
         "t.conf:2: key 'forecast_model'"},
        {"[umbrad]\nforecast_refit = 5s\n", CONFIG_ERROR_VALUE,
         "t.conf:2: key 'forecast_refit'"},
        {"[umbrad]\nrisk = maybe\n", CONFIG_ERROR_VALUE,
         "t.conf:2: key 'risk'"},
        {"[umbrad]\nshadow_cell = sometimes\n", CONFIG_ERROR_VALUE,
         "t.conf:2: key 'shadow_cell'"},
        {"[group:g]\ndomains = ,\n", CONFIG_ERROR_VALUE,
         "t.conf:2: key 'domains'"},
        {"[group:g]\nmembers = a\n", CONFIG_ERROR_UNKNOWN,
         "t.conf:2: key 'members'"},
        {"[umbrad]\nrisk_threshold = 1\n", CONFIG_ERROR_VALUE,
         "t.conf:2: key 'risk_threshold'"},
        {"[umbrad]\nrisk_precision = 0.9x\n", CONFIG_ERROR_VALUE,
         "t.conf:2: key 'risk_precision'"},
        {"[umbrad]\nrisk_rho = -0.1\n", CONFIG_ERROR_VALUE,
         "t.conf:2: key 'risk_rho'"},
    };

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) err = NULL;
        g_autoptr(UmbraConfig) cfg = parse(cases[i].text, &err);

        if (cfg) {
            fprintf(stderr, "case %zu: accepted\n", i);
        }
        CU_ASSERT_PTR_NULL(cfg);
        CU_ASSERT_PTR_NOT_NULL_FATAL(err);
        CU_ASSERT_EQUAL(err->domain, CONFIG_ERROR);
        CU_ASSERT_EQUAL(err->code, cases[i].code);
        if (!strstr(err->message, cases[i].needle)) {
            fprintf(stderr, "case %zu: '%s' lacks '%s'\n", i, err->message,
                    cases[i].needle);
            CU_FAIL("message does not name what is wrong");
        }
    }
}

static void
test_binary_and_missing(void)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(GError) err2 = NULL;
    g_autoptr(UmbraConfig) c1 =
        umbra_config_parse("b.conf", "[umbrad]\0\xff", 10, &err);
    g_autoptr(UmbraConfig) c2 =
        umbra_config_load("/nonexistent/umbra.conf", &err2);

    CU_ASSERT_PTR_NULL(c1);
    CU_ASSERT_EQUAL(err->code, CONFIG_ERROR_SYNTAX);
    CU_ASSERT_PTR_NULL(c2);
    CU_ASSERT_EQUAL(err2->code, CONFIG_ERROR_IO);
    CU_ASSERT_PTR_NOT_NULL(strstr(err2->message, "/nonexistent/umbra.conf"));
}

static void
test_load_file(void)
{
    g_autofree char *dir = cutest_tmpdir();
    g_autofree char *path = g_build_filename(dir, "u.conf", NULL);
    g_autoptr(GError) err = NULL;
    g_autoptr(UmbraConfig) cfg = NULL;

    g_file_set_contents(path, "[host:x]\nuri = qemu:///system\n", -1, NULL);
    cfg = umbra_config_load(path, &err);
    CU_ASSERT_PTR_NOT_NULL(cfg);
    CU_ASSERT_STRING_EQUAL(cfg->path, path);
    cutest_rmdir(dir);
}

static const CutestCase cases[] = {
    {"good", test_good},
    {"defaults", test_defaults},
    {"bad", test_bad},
    {"binary-and-missing", test_binary_and_missing},
    {"load-file", test_load_file},
};

CUTEST_MAIN("config", cases)
