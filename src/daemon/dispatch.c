/*
 * daemon/dispatch.c: one function per RPC method, in a table.
 *
 * Parameters are validated here (type and range); the monitor answers.
 * "events" with follow registers the client as a follower: every new
 * event is pushed to it until it disconnects.
 */
#include "daemon/dispatch.h"

#include <math.h>
#include <string.h>
#include <unistd.h>

#include "model/json.h"
#include "umbra-config.h"
#include "util/clock.h"

struct Dispatch {
    Monitor *m;
    Forecaster *fc;    /* NULL when forecasting is off */
    Predictor *pred;   /* NULL when the risk engine is off */
    ShadowManager *sm; /* likewise */
    const UmbraConfig *cfg;
    int64_t started;       /* wall us */
    GHashTable *followers; /* RpcServerClient* -> Follower* */
    guint sub_id;
};

typedef struct {
    int64_t id; /* request id to echo */
    char *uuid; /* filter, may be NULL */
} Follower;

static void
follower_free(gpointer p)
{
    Follower *f = p;

    g_free(f->uuid);
    g_free(f);
}

static void
on_event(const UmbraEvent *ev, gpointer data)
{
    Dispatch *d = data;
    GHashTableIter it;
    gpointer key, value;

    g_hash_table_iter_init(&it, d->followers);
    while (g_hash_table_iter_next(&it, &key, &value)) {
        Follower *f = value;
        g_autofree char *line = NULL;

        if (f->uuid && g_strcmp0(f->uuid, ev->uuid) != 0) {
            continue;
        }
        line = rpc_reply_event(f->id, umbra_event_to_json(ev));
        rpc_server_client_send(key, line);
    }
}

Dispatch *
dispatch_new(Monitor *m, const UmbraConfig *cfg, Forecaster *fc)
{
    Dispatch *d = g_new0(Dispatch, 1);

    d->m = m;
    d->fc = fc;
    d->cfg = cfg;
    d->started = util_clock_wall();
    d->followers = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL,
                                         follower_free);
    d->sub_id = monitor_subscribe(m, on_event, d);
    return d;
}

void
dispatch_set_predictor(Dispatch *d, Predictor *p)
{
    d->pred = p;
}

void
dispatch_set_shadows(Dispatch *d, ShadowManager *sm)
{
    d->sm = sm;
}

void
dispatch_free(Dispatch *d)
{
    if (!d) {
        return;
    }
    monitor_unsubscribe(d->m, d->sub_id);
    g_hash_table_unref(d->followers);
    g_free(d);
}

void
dispatch_client_gone(RpcServerClient *client, gpointer data)
{
    Dispatch *d = data;

    g_hash_table_remove(d->followers, client);
}

/* ---- parameter helpers ---- */

static bool
param_string(json_object *params, const char *key, bool required,
             const char **ret, GError **error)
{
    json_object *v = NULL;

    if (!json_object_object_get_ex(params, key, &v) || !v) {
        if (required) {
            g_set_error(error, RPC_ERROR, RPC_ERROR_BAD_REQUEST,
                        "missing parameter '%s'", key);
            return false;
        }
        *ret = NULL;
        return true;
    }
    if (!json_object_is_type(v, json_type_string) ||
        json_object_get_string_len(v) == 0 ||
        json_object_get_string_len(v) > 256) {
        g_set_error(error, RPC_ERROR, RPC_ERROR_BAD_REQUEST,
                    "parameter '%s' must be a non-empty string of at most "
                    "256 bytes",
                    key);
        return false;
    }
    *ret = json_object_get_string(v);
    return true;
}

static bool
param_int(json_object *params, const char *key, int64_t def, int64_t lo,
          int64_t hi, int64_t *ret, GError **error)
{
    json_object *v = NULL;
    int64_t x;

    if (!json_object_object_get_ex(params, key, &v) || !v) {
        *ret = def;
        return true;
    }
    if (!json_object_is_type(v, json_type_int)) {
        g_set_error(error, RPC_ERROR, RPC_ERROR_BAD_REQUEST,
                    "parameter '%s' must be an integer", key);
        return false;
    }
    x = json_object_get_int64(v);
    if (x < lo || x > hi) {
        g_set_error(error, RPC_ERROR, RPC_ERROR_BAD_REQUEST,
                    "parameter '%s' must be between %" G_GINT64_FORMAT
                    " and %" G_GINT64_FORMAT,
                    key, lo, hi);
        return false;
    }
    *ret = x;
    return true;
}

static bool
param_bool(json_object *params, const char *key, bool *ret, GError **error)
{
    json_object *v = NULL;

    if (!json_object_object_get_ex(params, key, &v) || !v) {
        *ret = false;
        return true;
    }
    if (!json_object_is_type(v, json_type_boolean)) {
        g_set_error(error, RPC_ERROR, RPC_ERROR_BAD_REQUEST,
                    "parameter '%s' must be a boolean", key);
        return false;
    }
    *ret = json_object_get_boolean(v);
    return true;
}

static void
monitor_error_to_rpc(GError *src, GError **error)
{
    RpcErrorCode code = RPC_ERROR_INTERNAL;

    if (src->domain == MONITOR_ERROR) {
        switch ((MonitorErrorCode) src->code) {
        case MONITOR_ERROR_UNKNOWN_DOMAIN:
            code = RPC_ERROR_UNKNOWN_DOMAIN;
            break;
        case MONITOR_ERROR_UNKNOWN_HOST:
            code = RPC_ERROR_UNKNOWN_HOST;
            break;
        case MONITOR_ERROR_UNKNOWN_CELL:
            code = RPC_ERROR_UNKNOWN_CELL;
            break;
        default:
            break;
        }
    }
    g_set_error_literal(error, RPC_ERROR, code, src->message);
}

/* ---- methods ---- */

typedef json_object *(*MethodFunc)(Dispatch *d, RpcServerClient *client,
                                   int64_t id, json_object *params,
                                   GError **error);

static json_object *
m_ping(Dispatch *d, RpcServerClient *client, int64_t id, json_object *params,
       GError **error)
{
    return json_object_new_object();
}

static json_object *
m_hello(Dispatch *d, RpcServerClient *client, int64_t id, json_object *params,
        GError **error)
{
    json_object *o = json_object_new_object();
    MonitorCounters c;

    monitor_get_counters(d->m, &c);
    json_object_object_add(o, "daemon", json_object_new_string("umbrad"));
    json_object_object_add(o, "version", json_object_new_string(UMBRA_VERSION));
    json_object_object_add(o, "protocol",
                           json_object_new_int(RPC_PROTOCOL_VERSION));
    json_object_object_add(o, "pid", json_object_new_int(getpid()));
    json_object_object_add(o, "started", json_object_new_int64(d->started));
    json_object_object_add(o, "interval",
                           json_object_new_int64(d->cfg->interval_s));
    json_object_object_add(o, "store",
                           json_object_new_string(d->cfg->store_path));
    json_object_object_add(o, "samples_written",
                           json_object_new_uint64(c.samples_written));
    json_object_object_add(o, "samples_pending",
                           json_object_new_uint64(c.samples_pending));
    json_object_object_add(o, "samples_dropped",
                           json_object_new_uint64(c.samples_dropped));
    json_object_object_add(o, "hosts",
                           json_object_new_int((int) d->cfg->hosts->len));
    json_object_object_add(o, "domains", json_object_new_int(c.domains));
    return o;
}

static json_object *
m_list(Dispatch *d, RpcServerClient *client, int64_t id, json_object *params,
       GError **error)
{
    const char *host, *cell;
    bool inactive;
    g_autoptr(GError) err = NULL;
    g_autoptr(GPtrArray) doms = NULL;
    json_object *arr, *o;

    if (!param_string(params, "host", false, &host, error) ||
        !param_string(params, "cell", false, &cell, error) ||
        !param_bool(params, "inactive", &inactive, error)) {
        return NULL;
    }
    doms = monitor_list_domains(d->m, host, cell, inactive, &err);
    if (!doms) {
        monitor_error_to_rpc(err, error);
        return NULL;
    }
    arr = json_object_new_array();
    for (guint i = 0; i < doms->len; i++) {
        json_object_array_add(arr,
                              dom_sample_to_json(g_ptr_array_index(doms, i)));
    }
    o = json_object_new_object();
    json_object_object_add(o, "domains", arr);
    return o;
}

static json_object *
host_to_json(const MonitorHost *h)
{
    json_object *o = json_object_new_object();
    const HostSample *s = h->latest;
    bool up = h->state == HOST_STATE_CONNECTED;

    json_object_object_add(o, "name", json_object_new_string(h->name));
    json_object_object_add(o, "uri", json_object_new_string(h->uri));
    json_object_object_add(o, "cell", json_object_new_string(h->cell));
    json_object_object_add(
        o, "state", json_object_new_string(host_state_to_string(h->state)));
    json_object_object_add(o, "hostname",
                           h->hostname ? json_object_new_string(h->hostname)
                                       : NULL);
    json_object_object_add(o, "last_error",
                           h->last_error ? json_object_new_string(h->last_error)
                                         : NULL);
    json_object_object_add(
        o, "connected_since",
        h->connected_since ? json_object_new_int64(h->connected_since) : NULL);
    if (h->retry_at) {
        int64_t ms = (h->retry_at - util_clock_wall()) / 1000;

        json_object_object_add(o, "retry_in_ms",
                               json_object_new_int64(ms > 0 ? ms : 0));
    }
    json_object_object_add(o, "reconnects",
                           json_object_new_int((int) h->reconnects));
    json_object_object_add(
        o, "last_sample",
        h->last_sample ? json_object_new_int64(h->last_sample) : NULL);
    json_object_object_add(o, "ncpus",
                           s ? json_object_new_int(s->ncpus) : NULL);
    json_object_object_add(o, "cpu_pct",
                           s && up ? model_json_double(s->cpu_pct) : NULL);
    json_object_object_add(o, "mem_total_kib",
                           s ? json_object_new_uint64(s->mem_total_kib) : NULL);
    json_object_object_add(o, "mem_avail_kib",
                           s && up ? json_object_new_uint64(s->mem_avail_kib)
                                   : NULL);
    json_object_object_add(o, "domains", json_object_new_int((int) h->domains));
    return o;
}

static json_object *
m_hosts(Dispatch *d, RpcServerClient *client, int64_t id, json_object *params,
        GError **error)
{
    g_autoptr(GPtrArray) hosts = monitor_list_hosts(d->m);
    json_object *arr = json_object_new_array();
    json_object *o = json_object_new_object();

    for (guint i = 0; i < hosts->len; i++) {
        json_object_array_add(arr, host_to_json(g_ptr_array_index(hosts, i)));
    }
    json_object_object_add(o, "hosts", arr);
    return o;
}

static json_object *
m_cells(Dispatch *d, RpcServerClient *client, int64_t id, json_object *params,
        GError **error)
{
    g_autoptr(GPtrArray) hosts = monitor_list_hosts(d->m);
    g_autoptr(GPtrArray) doms =
        monitor_list_domains(d->m, NULL, NULL, false, NULL);
    json_object *arr = json_object_new_array();
    json_object *o = json_object_new_object();

    for (guint i = 0; i < d->cfg->cells->len; i++) {
        const ConfigCell *cell = g_ptr_array_index(d->cfg->cells, i);
        json_object *c = json_object_new_object();
        json_object *names = json_object_new_array();
        int connected = 0, ndoms = 0, vcpus = 0, ncpus = 0;
        uint64_t mem_total = 0, mem_avail = 0;
        double cpu_sum = 0;
        int cpu_n = 0;

        for (guint j = 0; j < hosts->len; j++) {
            const MonitorHost *h = g_ptr_array_index(hosts, j);

            if (strcmp(h->cell, cell->name) != 0) {
                continue;
            }
            json_object_array_add(names, json_object_new_string(h->name));
            if (h->state != HOST_STATE_CONNECTED || !h->latest) {
                continue;
            }
            connected++;
            ncpus += (int) h->latest->ncpus;
            mem_total += h->latest->mem_total_kib;
            mem_avail += h->latest->mem_avail_kib;
            if (isfinite(h->latest->cpu_pct)) {
                cpu_sum += h->latest->cpu_pct;
                cpu_n++;
            }
        }
        for (guint j = 0; doms && j < doms->len; j++) {
            const DomSample *s = g_ptr_array_index(doms, j);

            if (g_strcmp0(s->cell, cell->name) == 0) {
                ndoms++;
                vcpus += (int) s->vcpus;
            }
        }
        json_object_object_add(c, "name", json_object_new_string(cell->name));
        json_object_object_add(c, "description",
                               cell->description
                                   ? json_object_new_string(cell->description)
                                   : NULL);
        json_object_object_add(c, "hosts", names);
        json_object_object_add(c, "hosts_connected",
                               json_object_new_int(connected));
        json_object_object_add(c, "domains", json_object_new_int(ndoms));
        json_object_object_add(c, "vcpus", json_object_new_int(vcpus));
        json_object_object_add(c, "ncpus", json_object_new_int(ncpus));
        json_object_object_add(
            c, "cpu_pct", cpu_n ? model_json_double(cpu_sum / cpu_n) : NULL);
        json_object_object_add(c, "mem_total_kib",
                               json_object_new_uint64(mem_total));
        json_object_object_add(c, "mem_avail_kib",
                               json_object_new_uint64(mem_avail));
        json_object_array_add(arr, c);
    }
    json_object_object_add(o, "cells", arr);
    return o;
}

static json_object *
m_domstats(Dispatch *d, RpcServerClient *client, int64_t id,
           json_object *params, GError **error)
{
    const char *dom;
    int64_t history, max_points;
    g_autoptr(GError) err = NULL;
    g_autoptr(DomSample) s = NULL;
    json_object *o, *arr;

    if (!param_string(params, "domain", true, &dom, error) ||
        !param_int(params, "history", 0, 0, 400 * 86400LL, &history, error) ||
        !param_int(params, "max_points", 600, 1, 100000, &max_points, error)) {
        return NULL;
    }
    s = monitor_find_domain(d->m, dom, &err);
    if (!s) {
        monitor_error_to_rpc(err, error);
        return NULL;
    }
    o = json_object_new_object();
    json_object_object_add(o, "domain", dom_sample_to_json(s));
    arr = json_object_new_array();
    if (history > 0) {
        g_autoptr(GPtrArray) hist = monitor_domain_history(
            d->m, s->uuid, history, (guint) max_points, &err);

        if (!hist) {
            json_object_put(o);
            json_object_put(arr);
            g_set_error_literal(error, RPC_ERROR, RPC_ERROR_INTERNAL,
                                err->message);
            return NULL;
        }
        for (guint i = 0; i < hist->len; i++) {
            json_object_array_add(
                arr, dom_sample_to_json(g_ptr_array_index(hist, i)));
        }
    }
    json_object_object_add(o, "history", arr);
    return o;
}

static json_object *
m_events(Dispatch *d, RpcServerClient *client, int64_t id, json_object *params,
         GError **error)
{
    const char *dom;
    int64_t since, limit;
    bool follow;
    g_autoptr(GError) err = NULL;
    g_autoptr(GPtrArray) evs = NULL;
    g_autofree char *uuid = NULL;
    json_object *o, *arr;

    if (!param_int(params, "since", 0, 0, G_MAXINT64, &since, error) ||
        !param_int(params, "limit", 50, 1, 1000, &limit, error) ||
        !param_string(params, "domain", false, &dom, error) ||
        !param_bool(params, "follow", &follow, error)) {
        return NULL;
    }
    if (dom) {
        g_autoptr(DomSample) s = monitor_find_domain(d->m, dom, &err);

        if (!s) {
            monitor_error_to_rpc(err, error);
            return NULL;
        }
        uuid = g_strdup(s->uuid);
    }
    evs = monitor_events(d->m, since, uuid, (guint) limit, &err);
    if (!evs) {
        g_set_error_literal(error, RPC_ERROR, RPC_ERROR_INTERNAL, err->message);
        return NULL;
    }
    arr = json_object_new_array();
    for (guint i = 0; i < evs->len; i++) {
        json_object_array_add(arr,
                              umbra_event_to_json(g_ptr_array_index(evs, i)));
    }
    o = json_object_new_object();
    json_object_object_add(o, "events", arr);
    if (follow) {
        Follower *f = g_new0(Follower, 1);

        f->id = id;
        f->uuid = g_steal_pointer(&uuid);
        g_hash_table_replace(d->followers, client, f);
    }
    return o;
}

static json_object *
forecast_to_json(const Forecaster *fc, FcMetric metric, const ForecastView *v)
{
    json_object *o = json_object_new_object();
    json_object *pts = json_object_new_array();

    json_object_object_add(o, "metric",
                           json_object_new_string(fc_metric_to_string(metric)));
    json_object_object_add(o, "description",
                           json_object_new_string(fc_metric_describe(metric)));
    json_object_object_add(o, "method", json_object_new_string(v->method));
    json_object_object_add(o, "fitted_at", json_object_new_int64(v->fitted_at));
    json_object_object_add(o, "origin", json_object_new_int64(v->origin));
    json_object_object_add(o, "step_s",
                           json_object_new_int((int) forecaster_step(fc)));
    json_object_object_add(o, "observations",
                           json_object_new_int64((int64_t) v->nobs));
    json_object_object_add(o, "last", model_json_double(v->last_obs));
    json_object_object_add(o, "bias", model_json_double(v->bias));
    json_object_object_add(
        o, "refit", json_object_new_string(v->early ? "surprise" : "schedule"));
    for (guint i = 0; i < v->points->len; i++) {
        const ForecastPoint *p = &g_array_index(v->points, ForecastPoint, i);
        json_object *po = json_object_new_object();

        json_object_object_add(po, "horizon_s",
                               json_object_new_int64(p->horizon_s));
        json_object_object_add(po, "time", json_object_new_int64(p->time));
        json_object_object_add(po, "mean", model_json_double(p->mean));
        json_object_object_add(po, "lo80", model_json_double(p->lo80));
        json_object_object_add(po, "hi80", model_json_double(p->hi80));
        json_object_object_add(po, "lo95", model_json_double(p->lo95));
        json_object_object_add(po, "hi95", model_json_double(p->hi95));
        json_object_array_add(pts, po);
    }
    json_object_object_add(o, "points", pts);
    return o;
}

static json_object *
m_forecast(Dispatch *d, RpcServerClient *client, int64_t id,
           json_object *params, GError **error)
{
    const char *dom, *metric_name;
    int metric = -1;
    int64_t horizons[16] = {300, 900, 3600};
    size_t nh = 3;
    json_object *harr = NULL;
    g_autoptr(GError) err = NULL;
    g_autoptr(DomSample) s = NULL;
    json_object *o, *fcs, *pending;
    int64_t now = util_clock_wall();

    if (!param_string(params, "domain", true, &dom, error) ||
        !param_string(params, "metric", false, &metric_name, error)) {
        return NULL;
    }
    if (metric_name && (metric = fc_metric_from_string(metric_name)) < 0) {
        g_set_error(error, RPC_ERROR, RPC_ERROR_BAD_REQUEST,
                    "unknown metric '%s' (cpu, mem, blk_rd, blk_wr, net_rx, "
                    "net_tx)",
                    metric_name);
        return NULL;
    }
    if (json_object_object_get_ex(params, "horizons", &harr) && harr) {
        size_t n = json_object_is_type(harr, json_type_array)
                       ? json_object_array_length(harr)
                       : 0;

        if (n == 0 || n > G_N_ELEMENTS(horizons)) {
            g_set_error(error, RPC_ERROR, RPC_ERROR_BAD_REQUEST,
                        "'horizons' must be an array of 1 to 16 integers");
            return NULL;
        }
        for (size_t i = 0; i < n; i++) {
            json_object *v = json_object_array_get_idx(harr, i);

            if (!json_object_is_type(v, json_type_int) ||
                json_object_get_int64(v) < 1 ||
                json_object_get_int64(v) > 3600) {
                g_set_error(error, RPC_ERROR, RPC_ERROR_BAD_REQUEST,
                            "each horizon must be an integer number of "
                            "seconds between 1 and 3600");
                return NULL;
            }
            horizons[i] = json_object_get_int64(v);
        }
        nh = n;
    }
    s = monitor_find_domain(d->m, dom, &err);
    if (!s) {
        monitor_error_to_rpc(err, error);
        return NULL;
    }
    if (!d->fc) {
        g_set_error(error, RPC_ERROR, RPC_ERROR_BAD_REQUEST,
                    "forecasting is off in umbrad's configuration "
                    "(forecast_model = off)");
        return NULL;
    }
    o = json_object_new_object();
    fcs = json_object_new_array();
    pending = json_object_new_array();
    json_object_object_add(o, "domain", json_object_new_string(s->name));
    json_object_object_add(o, "uuid", json_object_new_string(s->uuid));
    json_object_object_add(o, "time", json_object_new_int64(now));
    for (int mi = 0; mi < FC_METRIC_LAST; mi++) {
        g_autoptr(ForecastView) v = NULL;

        if (metric >= 0 && mi != metric) {
            continue;
        }
        v = forecaster_get(d->fc, s->uuid, mi, now, horizons, nh);
        if (v && v->points->len > 0) {
            json_object_array_add(fcs, forecast_to_json(d->fc, mi, v));
        } else {
            json_object_array_add(
                pending, json_object_new_string(fc_metric_to_string(mi)));
        }
    }
    json_object_object_add(o, "forecasts", fcs);
    json_object_object_add(o, "pending", pending);
    return o;
}

static bool
risk_on(Dispatch *d, GError **error)
{
    if (!d->pred) {
        g_set_error(error, RPC_ERROR, RPC_ERROR_BAD_REQUEST,
                    "the risk engine is off in umbrad's configuration "
                    "(risk = off)");
        return false;
    }
    return true;
}

static void
predictor_error_to_rpc(GError *src, GError **error)
{
    RpcErrorCode code = RPC_ERROR_INTERNAL;

    if (src->domain == PREDICTOR_ERROR) {
        switch ((PredictorErrorCode) src->code) {
        case PREDICTOR_ERROR_UNKNOWN_DOMAIN:
            code = RPC_ERROR_UNKNOWN_DOMAIN;
            break;
        case PREDICTOR_ERROR_UNKNOWN_HOST:
            code = RPC_ERROR_UNKNOWN_HOST;
            break;
        case PREDICTOR_ERROR_UNKNOWN_CELL:
            code = RPC_ERROR_UNKNOWN_CELL;
            break;
        case PREDICTOR_ERROR_INVALID:
            code = RPC_ERROR_BAD_REQUEST;
            break;
        default:
            break;
        }
    }
    g_set_error_literal(error, RPC_ERROR, code, src->message);
}

static json_object *
m_risk(Dispatch *d, RpcServerClient *client, int64_t id, json_object *params,
       GError **error)
{
    const char *dom, *host, *cell;
    g_autoptr(GError) err = NULL;
    json_object *o;

    if (!param_string(params, "domain", false, &dom, error) ||
        !param_string(params, "host", false, &host, error) ||
        !param_string(params, "cell", false, &cell, error)) {
        return NULL;
    }
    if ((dom != NULL) + (host != NULL) + (cell != NULL) > 1) {
        g_set_error(error, RPC_ERROR, RPC_ERROR_BAD_REQUEST,
                    "give at most one of 'domain', 'host' and 'cell'");
        return NULL;
    }
    if (!risk_on(d, error)) {
        return NULL;
    }
    o = predictor_risk_json(d->pred, dom, host, cell, &err);
    if (!o) {
        predictor_error_to_rpc(err, error);
    }
    return o;
}

static json_object *
m_profile(Dispatch *d, RpcServerClient *client, int64_t id, json_object *params,
          GError **error)
{
    const char *dom;
    g_autoptr(GError) err = NULL;
    json_object *o;

    if (!param_string(params, "domain", true, &dom, error) ||
        !risk_on(d, error)) {
        return NULL;
    }
    o = predictor_profile_json(d->pred, dom, &err);
    if (!o) {
        predictor_error_to_rpc(err, error);
    }
    return o;
}

static json_object *
m_incident(Dispatch *d, RpcServerClient *client, int64_t id,
           json_object *params, GError **error)
{
    const char *dom, *kind, *note;
    int64_t when;
    g_autoptr(GError) err = NULL;
    g_autoptr(TsdbIncident) inc = NULL;
    json_object *o;

    if (!param_string(params, "domain", true, &dom, error) ||
        !param_string(params, "kind", false, &kind, error) ||
        !param_string(params, "note", false, &note, error) ||
        !param_int(params, "time", 0, 0, G_MAXINT64, &when, error) ||
        !risk_on(d, error)) {
        return NULL;
    }
    if (when > util_clock_wall() + 60 * G_USEC_PER_SEC) {
        g_set_error(error, RPC_ERROR, RPC_ERROR_BAD_REQUEST,
                    "an incident cannot be in the future");
        return NULL;
    }
    inc = predictor_add_incident(d->pred, dom, kind, note, when, &err);
    if (!inc) {
        predictor_error_to_rpc(err, error);
        return NULL;
    }
    o = json_object_new_object();
    json_object_object_add(o, "id", json_object_new_int64(inc->id));
    json_object_object_add(o, "time", json_object_new_int64(inc->wall_us));
    json_object_object_add(o, "domain", json_object_new_string(inc->domain));
    json_object_object_add(o, "uuid", json_object_new_string(inc->uuid));
    json_object_object_add(o, "kind", json_object_new_string(inc->kind));
    json_object_object_add(
        o, "note", inc->note ? json_object_new_string(inc->note) : NULL);
    return o;
}

static json_object *
m_place(Dispatch *d, RpcServerClient *client, int64_t id, json_object *params,
        GError **error)
{
    const char *dom, *rule;
    g_autoptr(GError) err = NULL;
    json_object *o;

    if (!param_string(params, "domain", true, &dom, error) ||
        !param_string(params, "rule", false, &rule, error) ||
        !risk_on(d, error)) {
        return NULL;
    }
    o = predictor_place_json(d->pred, dom, rule, NULL,
                             shadow_manager_ledger(d->sm), &err);
    if (!o) {
        predictor_error_to_rpc(err, error);
    }
    return o;
}

static void
shadow_error_to_rpc(GError *src, GError **error)
{
    RpcErrorCode code = RPC_ERROR_INTERNAL;

    if (src->domain == SHADOW_MANAGER_ERROR) {
        switch ((ShadowManagerErrorCode) src->code) {
        case SHADOW_MANAGER_ERROR_UNKNOWN_DOMAIN:
            code = RPC_ERROR_UNKNOWN_DOMAIN;
            break;
        case SHADOW_MANAGER_ERROR_NO_SHADOW:
            code = RPC_ERROR_NO_SHADOW;
            break;
        case SHADOW_MANAGER_ERROR_EXISTS:
        case SHADOW_MANAGER_ERROR_BUSY:
            code = RPC_ERROR_CONFLICT;
            break;
        case SHADOW_MANAGER_ERROR_NO_CAPACITY:
            code = RPC_ERROR_NO_CAPACITY;
            break;
        case SHADOW_MANAGER_ERROR_INVALID:
            code = RPC_ERROR_BAD_REQUEST;
            break;
        default:
            break;
        }
    }
    g_set_error_literal(error, RPC_ERROR, code, src->message);
}

static bool
shadows_on(Dispatch *d, GError **error)
{
    if (!d->sm) {
        g_set_error(error, RPC_ERROR, RPC_ERROR_BAD_REQUEST,
                    "shadows need the risk engine, which is off in umbrad's "
                    "configuration (risk = off)");
        return false;
    }
    return true;
}

static json_object *
m_shadow_list(Dispatch *d, RpcServerClient *client, int64_t id,
              json_object *params, GError **error)
{
    if (!shadows_on(d, error)) {
        return NULL;
    }
    return shadow_manager_list_json(d->sm);
}

/* shadow-info, shadow-retire: {"domain": DOM} */
static json_object *
shadow_one(Dispatch *d, json_object *params, bool retire, GError **error)
{
    const char *dom;
    g_autoptr(GError) err = NULL;
    json_object *o;

    if (!param_string(params, "domain", true, &dom, error) ||
        !shadows_on(d, error)) {
        return NULL;
    }
    o = retire ? shadow_manager_retire(d->sm, dom, &err)
               : shadow_manager_info_json(d->sm, dom, &err);
    if (!o) {
        shadow_error_to_rpc(err, error);
    }
    return o;
}

static json_object *
m_shadow_info(Dispatch *d, RpcServerClient *client, int64_t id,
              json_object *params, GError **error)
{
    return shadow_one(d, params, false, error);
}

static json_object *
m_shadow_retire(Dispatch *d, RpcServerClient *client, int64_t id,
                json_object *params, GError **error)
{
    return shadow_one(d, params, true, error);
}

static json_object *
m_shadow_create(Dispatch *d, RpcServerClient *client, int64_t id,
                json_object *params, GError **error)
{
    const char *dom, *cell, *mode;
    g_autoptr(GError) err = NULL;
    json_object *o;

    if (!param_string(params, "domain", true, &dom, error) ||
        !param_string(params, "cell", false, &cell, error) ||
        !param_string(params, "mode", false, &mode, error) ||
        !shadows_on(d, error)) {
        return NULL;
    }
    if (cell && !umbra_config_find_cell(d->cfg, cell)) {
        g_set_error(error, RPC_ERROR, RPC_ERROR_UNKNOWN_CELL,
                    "no cell '%s' in umbrad's configuration", cell);
        return NULL;
    }
    o = shadow_manager_create(d->sm, dom, cell, mode, &err);
    if (!o) {
        shadow_error_to_rpc(err, error);
    }
    return o;
}

static json_object *
m_cutover(Dispatch *d, RpcServerClient *client, int64_t id, json_object *params,
          GError **error)
{
    const char *dom;
    bool now = false;
    g_autoptr(GError) err = NULL;
    json_object *o;

    if (!param_string(params, "domain", true, &dom, error) ||
        !param_bool(params, "now", &now, error) || !shadows_on(d, error)) {
        return NULL;
    }
    o = shadow_manager_cutover(d->sm, dom, now, &err);
    if (!o) {
        shadow_error_to_rpc(err, error);
    }
    return o;
}

static json_object *
m_risk_model(Dispatch *d, RpcServerClient *client, int64_t id,
             json_object *params, GError **error)
{
    if (!risk_on(d, error)) {
        return NULL;
    }
    return predictor_model_json(d->pred);
}

static const struct {
    const char *name;
    MethodFunc func;
} methods[] = {
    {"ping", m_ping},
    {"hello", m_hello},
    {"list", m_list},
    {"hosts", m_hosts},
    {"cells", m_cells},
    {"domstats", m_domstats},
    {"events", m_events},
    {"forecast", m_forecast},
    {"risk", m_risk},
    {"profile", m_profile},
    {"incident", m_incident},
    {"risk-model", m_risk_model},
    {"place", m_place},
    {"shadow-list", m_shadow_list},
    {"shadow-info", m_shadow_info},
    {"shadow-create", m_shadow_create},
    {"shadow-retire", m_shadow_retire},
    {"cutover", m_cutover},
};

json_object *
dispatch_handle(RpcServerClient *client, int64_t id, const char *method,
                json_object *params, gpointer data, GError **error)
{
    Dispatch *d = data;

    for (size_t i = 0; i < G_N_ELEMENTS(methods); i++) {
        if (strcmp(methods[i].name, method) == 0) {
            return methods[i].func(d, client, id, params, error);
        }
    }
    g_set_error(error, RPC_ERROR, RPC_ERROR_UNKNOWN_METHOD,
                "unknown method '%s'", method);
    return NULL;
}
