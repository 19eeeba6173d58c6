/*
 * model/json.c: json-c codecs for samples, events and hook messages.
 */
#include "model/json.h"

#include <math.h>
#include <string.h>

/* clang-format off */
G_DEFINE_QUARK(umbra-model-error-quark, model_error)
/* clang-format on */

json_object *
model_json_double(double v)
{
    if (!isfinite(v)) {
        return NULL;
    }
    return json_object_new_double(round(v * 1000.0) / 1000.0);
}

double
model_json_get_double(json_object *obj, const char *key)
{
    json_object *v = NULL;

    if (!obj || !json_object_object_get_ex(obj, key, &v) || !v) {
        return NAN;
    }
    if (!json_object_is_type(v, json_type_double) &&
        !json_object_is_type(v, json_type_int)) {
        return NAN;
    }
    return json_object_get_double(v);
}

const char *
model_json_get_string(json_object *obj, const char *key)
{
    json_object *v = NULL;

    if (!obj || !json_object_object_get_ex(obj, key, &v) ||
        !json_object_is_type(v, json_type_string)) {
        return NULL;
    }
    return json_object_get_string(v);
}

int64_t
model_json_get_int(json_object *obj, const char *key, int64_t def)
{
    json_object *v = NULL;

    if (!obj || !json_object_object_get_ex(obj, key, &v) ||
        !(json_object_is_type(v, json_type_int) ||
          json_object_is_type(v, json_type_double))) {
        return def;
    }
    return json_object_get_int64(v);
}

static void
add_str(json_object *o, const char *key, const char *v)
{
    json_object_object_add(o, key, v ? json_object_new_string(v) : NULL);
}

json_object *
dom_sample_to_json(const DomSample *s)
{
    json_object *o = json_object_new_object();

    add_str(o, "name", s->name);
    add_str(o, "uuid", s->uuid);
    add_str(o, "host", s->host);
    add_str(o, "cell", s->cell);
    json_object_object_add(o, "time", json_object_new_int64(s->wall_us));
    add_str(o, "state", dom_state_to_string(s->state));
    json_object_object_add(o, "vcpus", json_object_new_int(s->vcpus));
    json_object_object_add(o, "cpu_pct", model_json_double(s->cpu_pct));
    json_object_object_add(o, "mem_used_kib",
                           json_object_new_uint64(s->mem_used_kib));
    json_object_object_add(o, "mem_max_kib",
                           json_object_new_uint64(s->mem_max_kib));
    json_object_object_add(o, "blk_rd_bps", model_json_double(s->blk_rd_bps));
    json_object_object_add(o, "blk_wr_bps", model_json_double(s->blk_wr_bps));
    json_object_object_add(o, "blk_rd_iops", model_json_double(s->blk_rd_iops));
    json_object_object_add(o, "blk_wr_iops", model_json_double(s->blk_wr_iops));
    json_object_object_add(o, "net_rx_bps", model_json_double(s->net_rx_bps));
    json_object_object_add(o, "net_tx_bps", model_json_double(s->net_tx_bps));
    json_object_object_add(o, "net_rx_pps", model_json_double(s->net_rx_pps));
    json_object_object_add(o, "net_tx_pps", model_json_double(s->net_tx_pps));
    json_object_object_add(o, "dirty_mbps", model_json_double(s->dirty_mbps));
    return o;
}

json_object *
host_sample_to_json(const HostSample *s)
{
    json_object *o = json_object_new_object();

    add_str(o, "host", s->host);
    add_str(o, "cell", s->cell);
    json_object_object_add(o, "time", json_object_new_int64(s->wall_us));
    json_object_object_add(o, "ncpus", json_object_new_int(s->ncpus));
    json_object_object_add(o, "cpu_pct", model_json_double(s->cpu_pct));
    json_object_object_add(o, "mem_total_kib",
                           json_object_new_uint64(s->mem_total_kib));
    json_object_object_add(o, "mem_avail_kib",
                           json_object_new_uint64(s->mem_avail_kib));
    json_object_object_add(o, "domains", json_object_new_int(s->domains));
    return o;
}

json_object *
umbra_event_to_json(const UmbraEvent *ev)
{
    json_object *o = json_object_new_object();

    json_object_object_add(o, "id", json_object_new_int64(ev->id));
    json_object_object_add(o, "time", json_object_new_int64(ev->wall_us));
    add_str(o, "source", event_source_to_string(ev->source));
    add_str(o, "host", ev->host);
    add_str(o, "domain", ev->domain);
    add_str(o, "uuid", ev->uuid);
    add_str(o, "type", ev->type);
    add_str(o, "detail", ev->detail);
    return o;
}

char *
model_hook_message_build(const char *hostname, const char *domain,
                         const char *uuid, const char *op, const char *sub,
                         const char *extra, int64_t wall_us)
{
    g_autoptr(json_object) o = json_object_new_object();

    json_object_object_add(o, "v", json_object_new_int(1));
    add_str(o, "hostname", hostname);
    add_str(o, "domain", domain);
    add_str(o, "uuid", uuid);
    add_str(o, "op", op);
    add_str(o, "sub", sub);
    add_str(o, "extra", extra);
    json_object_object_add(o, "time", json_object_new_int64(wall_us));
    return g_strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
}

static bool
valid_token(const char *s, size_t max)
{
    if (!s || !*s || strlen(s) > max) {
        return false;
    }
    return g_utf8_validate(s, -1, NULL);
}

UmbraEvent *
model_hook_message_parse(const char *buf, size_t len, char **ret_hostname,
                         GError **error)
{
    g_autoptr(json_tokener) tok = NULL;
    g_autoptr(json_object) o = NULL;
    const char *hostname, *domain, *op, *sub, *extra, *uuid;
    UmbraEvent *ev;
    g_autofree char *type = NULL;
    g_autofree char *detail = NULL;

    if (len > MODEL_HOOK_MSG_MAX) {
        g_set_error(error, MODEL_ERROR, MODEL_ERROR_TOO_LARGE,
                    "hook message of %zu bytes exceeds %d", len,
                    MODEL_HOOK_MSG_MAX);
        return NULL;
    }
    tok = json_tokener_new();
    o = json_tokener_parse_ex(tok, buf, (int) len);
    if (!o || !json_object_is_type(o, json_type_object)) {
        g_set_error(error, MODEL_ERROR, MODEL_ERROR_PARSE,
                    "hook message is not a JSON object");
        return NULL;
    }
    if (model_json_get_int(o, "v", 0) != 1) {
        g_set_error(error, MODEL_ERROR, MODEL_ERROR_INVALID,
                    "hook message has an unsupported version");
        return NULL;
    }
    hostname = model_json_get_string(o, "hostname");
    domain = model_json_get_string(o, "domain");
    op = model_json_get_string(o, "op");
    sub = model_json_get_string(o, "sub");
    extra = model_json_get_string(o, "extra");
    uuid = model_json_get_string(o, "uuid");
    if (!valid_token(hostname, 255) || !valid_token(domain, 255) ||
        !valid_token(op, 64)) {
        g_set_error(error, MODEL_ERROR, MODEL_ERROR_INVALID,
                    "hook message lacks hostname, domain or op");
        return NULL;
    }
    if (uuid && !g_uuid_string_is_valid(uuid)) {
        uuid = NULL;
    }
    type = g_strdup_printf("%s/%s", op, valid_token(sub, 64) ? sub : "-");
    if (valid_token(extra, 255) && strcmp(extra, "-") != 0) {
        detail = g_strdup_printf("extra=%s", extra);
    }
    ev = umbra_event_new(EVENT_SOURCE_HOOK, NULL, domain, uuid, type, detail);
    ev->wall_us = model_json_get_int(o, "time", 0);
    if (ret_hostname) {
        *ret_hostname = g_strdup(hostname);
    }
    return ev;
}
