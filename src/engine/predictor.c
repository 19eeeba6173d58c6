/*
 * engine/predictor.c: the risk engine in umbrad (see predictor.h).
 *
 * State per domain (PredDomain): one RiskProfile per forecast metric,
 * the times of recent events by kind (pruned past a week), the latest
 * features, probabilities and alert state.  State per host and cell is
 * recomputed every tick from the monitor's snapshot.
 *
 * Failure probabilities: the model predicts P(disruption within 1 h);
 * the shorter horizons assume a constant hazard over the hour:
 * p(H) = 1 - (1 - p(1 h))^(H / 1 h).  A host's (a cell's) failure
 * probability is that of any of its domains, 1 - prod(1 - p_i).
 */
#include "engine/predictor.h"

#include <math.h>
#include <string.h>

#include "model/json.h"
#include "placement/placement.h"
#include "risk/contention.h"
#include "risk/failure.h"
#include "risk/profile.h"
#include "util/clock.h"

/* clang-format off */
G_DEFINE_QUARK(umbra-predictor-error-quark, predictor_error)
/* clang-format on */

#define SEC G_GINT64_CONSTANT(1000000)
#define HOUR_US (3600 * SEC)
#define DAY_US (24 * HOUR_US)
#define WEEK_US (7 * DAY_US)
#define PROFILE_BIN_S 60
#define PROFILE_HISTORY_S (8 * 86400)
#define MODEL_NAME "failure"
#define PRIOR_PRECISION 1.0
#define THRESHOLD_WINDOW 500
#define THRESHOLD_MIN_ALERTS 5

/* The empirical calibration of each host's CPU contention (risk/
 * contention.h): a week of 5-minute origins, answering after a day, an
 * overload being 2 steps (10 min) above capacity. */
#define CAL_STEP_S 300
#define CAL_WINDOW 2016
#define CAL_MIN_RUN 2
#define CAL_MIN_ORIGINS 288

/* The contention grid: seconds ahead. */
static const int64_t grid_s[] = {60,  120,  180,  240,  300,  600,
                                 900, 1200, 1800, 2400, 3000, 3600};
#define NGRID G_N_ELEMENTS(grid_s)

/* Event kinds counted as features, and which are incidents. */
typedef enum {
    EVK_IO_ERROR,
    EVK_WATCHDOG,
    EVK_CRASH,
    EVK_LIFECYCLE,
    EVK_INCIDENT,
    EVK_LAST
} EventKind;

#define NMETRICS FC_METRIC_LAST

typedef struct {
    char *uuid;
    char *name;
    char *host;
    char *cell;
    char *tick_host; /* the host its probabilities were computed on */
    unsigned vcpus;
    double last[NMETRICS];       /* last observed values */
    int64_t last_us;             /* last sample, wall */
    RiskProfile *prof[NMETRICS]; /* NULL until created */
    bool warmed;                 /* history replayed */
    GArray *events[EVK_LAST];    /* int64_t wall us, oldest first */
    double x[RISK_FEAT_LAST];    /* latest features */
    double p1h;                  /* latest P(failure within 1 h) */
    RiskReason reasons[RISK_FEAT_LAST];
    bool have_p;         /* computed at least once */
    bool alerting;       /* a risk-alert is open */
    bool persistence;    /* no forecast yet */
    int64_t recorded_us; /* last stored prediction */
} PredDomain;

/* Contention of one host or cell and resource. */
typedef struct {
    RiskContention cpu, mem;
    bool have;
    double capacity_cpu, capacity_mem;
    unsigned domains;
} PredGroup;

struct Predictor {
    const UmbraConfig *cfg;
    Monitor *m;
    Forecaster *fc;
    TsdbStore *store;
    GHashTable *doms;  /* uuid -> PredDomain */
    GHashTable *hosts; /* name -> PredGroup */
    GHashTable *cells; /* name -> PredGroup */
    GHashTable *cals;  /* host name -> RiskContentionCal of its CPU */
    RiskModel *model;
    RiskThreshold *thr;
    int64_t last_tick;
    char *model_note; /* why the saved model was not used, if so */
};

static void
pred_domain_free(gpointer data)
{
    PredDomain *d = data;

    g_free(d->uuid);
    g_free(d->name);
    g_free(d->host);
    g_free(d->cell);
    g_free(d->tick_host);
    for (int i = 0; i < NMETRICS; i++) {
        risk_profile_free(d->prof[i]);
    }
    for (int k = 0; k < EVK_LAST; k++) {
        g_array_unref(d->events[k]);
    }
    g_free(d);
}

static PredDomain *
pred_domain_get(Predictor *p, const char *uuid, const char *name)
{
    g_autofree char *lc = g_ascii_strdown(uuid, -1);
    PredDomain *d = g_hash_table_lookup(p->doms, lc);

    if (!d) {
        d = g_new0(PredDomain, 1);
        d->uuid = g_steal_pointer(&lc);
        d->name = g_strdup(name ? name : d->uuid);
        for (int k = 0; k < EVK_LAST; k++) {
            d->events[k] = g_array_new(FALSE, FALSE, sizeof(int64_t));
        }
        for (int i = 0; i < NMETRICS; i++) {
            d->last[i] = NAN;
        }
        d->p1h = NAN;
        g_hash_table_insert(p->doms, d->uuid, d);
    } else if (name && strcmp(name, d->name) != 0) {
        g_free(d->name);
        d->name = g_strdup(name);
    }
    return d;
}

Predictor *
predictor_new(const UmbraConfig *cfg, Monitor *m, Forecaster *fc,
              TsdbStore *store)
{
    Predictor *p = g_new0(Predictor, 1);
    g_autofree char *saved = NULL;
    g_autoptr(GError) err = NULL;

    p->cfg = cfg;
    p->m = m;
    p->fc = fc;
    p->store = store;
    p->doms =
        g_hash_table_new_full(g_str_hash, g_str_equal, NULL, pred_domain_free);
    p->hosts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    p->cells = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    p->cals = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                    (GDestroyNotify) risk_contention_cal_free);
    if (store) {
        saved = tsdb_store_load_model(store, MODEL_NAME, &err);
    }
    if (saved) {
        p->model = risk_model_from_json(saved, &err);
        if (!p->model) {
            p->model_note =
                g_strdup_printf("saved model not used (%s): started from the "
                                "prior",
                                err ? err->message : "unreadable");
        }
    } else if (err) {
        p->model_note =
            g_strdup_printf("cannot read the saved model (%s)", err->message);
    }
    if (!p->model) {
        p->model = risk_model_new(PRIOR_PRECISION);
    }
    p->thr = risk_threshold_new(cfg->risk_threshold, cfg->risk_precision,
                                THRESHOLD_WINDOW, THRESHOLD_MIN_ALERTS);
    return p;
}

void
predictor_free(Predictor *p)
{
    if (!p) {
        return;
    }
    g_hash_table_unref(p->doms);
    g_hash_table_unref(p->hosts);
    g_hash_table_unref(p->cells);
    g_hash_table_unref(p->cals);
    risk_model_free(p->model);
    risk_threshold_free(p->thr);
    g_free(p->model_note);
    g_free(p);
}

/* --- samples and profiles ----------------------------------------------- */

static void note_event(PredDomain *d, EventKind k, int64_t when);
static EventKind kind_of_incident(const char *kind);

static void
feed(PredDomain *d, const DomSample *s)
{
    double t = (double) s->wall_us / 1e6;

    for (int i = 0; i < NMETRICS; i++) {
        double v = fc_metric_value(i, s);

        if (!d->prof[i]) {
            RiskProfileOptions o;

            risk_profile_options_init(&o, PROFILE_BIN_S);
            d->prof[i] = risk_profile_new(&o, NULL);
            if (!d->prof[i]) {
                continue;
            }
        }
        risk_profile_update(d->prof[i], t, v);
        if (isfinite(v)) {
            d->last[i] = v;
        }
    }
}

void
predictor_observe(Predictor *p, const DomSample *s)
{
    PredDomain *d;

    if (!s->uuid) {
        return;
    }
    d = pred_domain_get(p, s->uuid, s->name);
    if (!d->warmed) {
        /* Rebuild the baselines from the stored history (up to 8 days,
         * coarsened by the store beyond its raw retention). */
        g_autoptr(GPtrArray) hist = NULL;

        d->warmed = true;
        hist = monitor_domain_history(p->m, d->uuid, PROFILE_HISTORY_S, 20000,
                                      NULL);
        for (guint i = 0; hist && i < hist->len; i++) {
            const DomSample *h = hist->pdata[i];

            if (h->wall_us < s->wall_us) {
                feed(d, h);
            }
        }
        /* And the counters from its stored incidents of the last week. */
        if (p->store) {
            g_autoptr(GPtrArray) incs =
                tsdb_store_incidents(p->store, d->uuid, 1000, NULL);

            for (guint i = 0; incs && i < incs->len; i++) {
                const TsdbIncident *inc = incs->pdata[i];
                EventKind k = kind_of_incident(inc->kind);

                if (inc->wall_us <= s->wall_us - WEEK_US) {
                    continue;
                }
                if (k != EVK_LAST) {
                    note_event(d, k, inc->wall_us);
                }
                note_event(d, EVK_INCIDENT, inc->wall_us);
            }
        }
    }
    if (s->host && (!d->host || strcmp(d->host, s->host) != 0)) {
        g_free(d->host);
        d->host = g_strdup(s->host);
    }
    if (s->cell && (!d->cell || strcmp(d->cell, s->cell) != 0)) {
        g_free(d->cell);
        d->cell = g_strdup(s->cell);
    }
    if (s->vcpus) {
        d->vcpus = s->vcpus;
    }
    d->last_us = s->wall_us;
    feed(d, s);
}

/* --- events and incidents ----------------------------------------------- */

/* Returns: the incident kind @ev is, or NULL when it is none. */
static const char *
incident_kind(const UmbraEvent *ev)
{
    const char *t = ev->type, *dt = ev->detail ? ev->detail : "";

    if (ev->source != EVENT_SOURCE_LIBVIRT || !t) {
        return NULL;
    }
    if (strcmp(t, "io-error") == 0) {
        return "io-error";
    }
    if (strcmp(t, "watchdog") == 0) {
        return "watchdog";
    }
    if (strcmp(t, "crashed") == 0 ||
        (strcmp(t, "stopped") == 0 &&
         (strcmp(dt, "crashed") == 0 || strcmp(dt, "failed") == 0))) {
        return "crash";
    }
    if (strcmp(t, "suspended") == 0 &&
        (strcmp(dt, "ioerror") == 0 || strcmp(dt, "watchdog") == 0 ||
         strcmp(dt, "api-error") == 0 || strcmp(dt, "postcopy-failed") == 0)) {
        return "paused-error";
    }
    return NULL;
}

static void
note_event(PredDomain *d, EventKind k, int64_t when)
{
    g_array_append_val(d->events[k], when);
}

static EventKind
kind_of_incident(const char *kind)
{
    if (strcmp(kind, "io-error") == 0) {
        return EVK_IO_ERROR;
    }
    if (strcmp(kind, "watchdog") == 0) {
        return EVK_WATCHDOG;
    }
    if (strcmp(kind, "crash") == 0 || strcmp(kind, "paused-error") == 0) {
        return EVK_CRASH;
    }
    return EVK_LAST;
}

static bool
store_incident(Predictor *p, TsdbIncident *inc, GError **error)
{
    PredDomain *d = pred_domain_get(p, inc->uuid, inc->domain);
    EventKind k = kind_of_incident(inc->kind);

    if (k != EVK_LAST) {
        note_event(d, k, inc->wall_us);
    }
    note_event(d, EVK_INCIDENT, inc->wall_us);
    if (p->store && !tsdb_store_add_incident(p->store, inc, error)) {
        return false;
    }
    return true;
}

void
predictor_event(Predictor *p, const UmbraEvent *ev)
{
    const char *kind;

    if (!ev->uuid || !*ev->uuid) {
        return;
    }
    kind = incident_kind(ev);
    if (kind) {
        g_autoptr(TsdbIncident) inc = tsdb_incident_new();
        g_autoptr(GError) err = NULL;

        inc->wall_us = ev->wall_us;
        inc->uuid = g_ascii_strdown(ev->uuid, -1);
        inc->domain = g_strdup(ev->domain);
        inc->host = g_strdup(ev->host);
        inc->kind = g_strdup(kind);
        inc->source = g_strdup("libvirt");
        inc->note = g_strdup(ev->detail);
        if (!store_incident(p, inc, &err)) {
            g_message("incident of %s not stored: %s", inc->domain,
                      err->message);
        }
        return;
    }
    if (ev->source == EVENT_SOURCE_LIBVIRT && ev->type &&
        (strcmp(ev->type, "stopped") == 0 ||
         strcmp(ev->type, "started") == 0) &&
        !(ev->detail && strcmp(ev->detail, "migrated") == 0)) {
        note_event(pred_domain_get(p, ev->uuid, ev->domain), EVK_LIFECYCLE,
                   ev->wall_us);
    }
}

TsdbIncident *
predictor_add_incident(Predictor *p, const char *dom, const char *kind,
                       const char *note, int64_t when, GError **error)
{
    g_autoptr(TsdbIncident) inc = tsdb_incident_new();
    g_autoptr(DomSample) s = NULL;
    g_autoptr(GError) err = NULL;
    g_autofree char *detail = NULL;

    if (kind && (!*kind || strlen(kind) > 64 || strchr(kind, ' '))) {
        g_set_error(error, PREDICTOR_ERROR, PREDICTOR_ERROR_INVALID,
                    "incident kind must be one word of at most 64 characters");
        return NULL;
    }
    s = monitor_find_domain(p->m, dom, &err);
    if (!s) {
        g_set_error(error, PREDICTOR_ERROR, PREDICTOR_ERROR_UNKNOWN_DOMAIN,
                    "%s", err->message);
        return NULL;
    }
    inc->wall_us = when > 0 ? when : util_clock_wall();
    inc->uuid = g_ascii_strdown(s->uuid, -1);
    inc->domain = g_strdup(s->name);
    inc->host = g_strdup(s->host);
    inc->kind = g_strdup(kind ? kind : "operator");
    inc->source = g_strdup("operator");
    inc->note = g_strdup(note);
    if (!store_incident(p, inc, &err)) {
        g_set_error(error, PREDICTOR_ERROR, PREDICTOR_ERROR_STORE,
                    "incident not stored: %s", err->message);
        return NULL;
    }
    detail = g_strdup_printf("kind=%s%s%s", inc->kind, note ? " note=" : "",
                             note ? note : "");
    monitor_post_event(p->m, umbra_event_new(EVENT_SOURCE_DAEMON, inc->host,
                                             inc->domain, inc->uuid, "incident",
                                             detail));
    return g_steal_pointer(&inc);
}

/* --- the tick ----------------------------------------------------------- */

/* Events of kind @k in (now - @window, now]; prunes those past a week. */
static double
count_recent(PredDomain *d, EventKind k, int64_t now, int64_t window)
{
    GArray *a = d->events[k];
    guint drop = 0, n = 0;

    while (drop < a->len && g_array_index(a, int64_t, drop) <= now - WEEK_US) {
        drop++;
    }
    if (drop) {
        g_array_remove_range(a, 0, drop);
    }
    for (guint i = 0; i < a->len; i++) {
        int64_t t = g_array_index(a, int64_t, i);

        if (t > now - window && t <= now) {
            n++;
        }
    }
    return (double) n;
}

static double
domain_drift(const PredDomain *d, int *ret_metric)
{
    double best = 0;

    *ret_metric = -1;
    for (int i = 0; i < NMETRICS; i++) {
        RiskDrift dr;

        if (!d->prof[i]) {
            continue;
        }
        risk_profile_drift(d->prof[i], &dr);
        if (!dr.learning && dr.drift > best) {
            best = dr.drift;
            *ret_metric = i;
        }
    }
    return best;
}

/* One domain's forecast path of @metric on the grid, in the unit the
 * contention is computed in (CPUs for CPU %, KiB for memory). */
typedef struct {
    double mean[NGRID], lo95[NGRID], hi95[NGRID];
} PathBuf;

/* @cap: the most the domain can use (its vCPUs, for CPU), or INFINITY. */
static bool
domain_path(Predictor *p, PredDomain *d, int metric, double scale, double cap,
            int64_t now, PathBuf *ret)
{
    double last = d->last[metric];
    bool have = false;

    if (p->fc) {
        g_autoptr(ForecastView) v =
            forecaster_get(p->fc, d->uuid, metric, now, grid_s, NGRID);

        if (v && v->points->len == NGRID) {
            for (guint i = 0; i < NGRID; i++) {
                const ForecastPoint *pt =
                    &g_array_index(v->points, ForecastPoint, i);

                ret->mean[i] = MIN(pt->mean * scale, cap);
                ret->lo95[i] = MIN(pt->lo95 * scale, cap);
                ret->hi95[i] = MIN(pt->hi95 * scale, cap);
            }
            have = true;
        }
    }
    if (!have) {
        /* Persistence: the last value, no uncertainty. */
        for (guint i = 0; i < NGRID; i++) {
            ret->mean[i] = ret->lo95[i] = ret->hi95[i] = MIN(last * scale, cap);
        }
    }
    return have;
}

/* The CPUs @h plans with: its [host:NAME] cpus, else what libvirt says. */
static double
host_cpus(Predictor *p, const MonitorHost *h)
{
    return umbra_config_host_cpus(p->cfg, h->name,
                                  h->latest ? h->latest->ncpus : 0);
}

/* Computes contention of the domains @ds (PredDomain*) against @group's
 * capacities.  Also fills each domain's own CPU headroom into @headroom
 * (index of @ds), and marks domains without a forecast.  With @cal, the
 * CPU probabilities are its empirical ones once it has enough history. */
static void
group_compute(Predictor *p, GPtrArray *ds, PredGroup *g, int64_t now,
              double *headroom, RiskContentionCal *cal)
{
    guint n = ds->len;
    g_autofree PathBuf *cpu = g_new0(PathBuf, n ? n : 1);
    g_autofree PathBuf *mem = g_new0(PathBuf, n ? n : 1);
    g_autofree RiskPath *pc = g_new0(RiskPath, n ? n : 1);
    g_autofree RiskPath *pm = g_new0(RiskPath, n ? n : 1);
    double steps[NGRID], vcpus = 0;

    for (guint i = 0; i < NGRID; i++) {
        steps[i] = (double) grid_s[i];
    }
    for (guint i = 0; i < n; i++) {
        PredDomain *d = ds->pdata[i];
        double vc = d->vcpus ? (double) d->vcpus : 1;
        /* A domain never uses more than its vCPUs. */
        bool fc_cpu =
            domain_path(p, d, FC_METRIC_CPU, vc / 100, vc, now, &cpu[i]);

        vcpus += vc;
        d->persistence = !fc_cpu;
        pc[i].mean = cpu[i].mean;
        pc[i].lo95 = cpu[i].lo95;
        pc[i].hi95 = cpu[i].hi95;
        if (headroom) {
            double hi = cpu[i].hi95[NGRID - 1];

            headroom[i] = isfinite(hi) ? CLAMP(hi / vc, 0, 1) : 0;
        }
        domain_path(p, d, FC_METRIC_MEM, 1, INFINITY, now, &mem[i]);
        pm[i].mean = mem[i].mean;
        pm[i].lo95 = mem[i].lo95;
        pm[i].hi95 = mem[i].hi95;
    }
    g->have = false;
    g->domains = n;
    memset(&g->cpu, 0, sizeof(g->cpu));
    memset(&g->mem, 0, sizeof(g->mem));
    g->cpu.t_cross_s = g->mem.t_cross_s = INFINITY;
    if (g->capacity_cpu > 0 &&
        risk_contention_compute(pc, n, steps, NGRID, g->capacity_cpu,
                                p->cfg->risk_rho, &g->cpu, NULL)) {
        g->have = true;
    }
    if (g->have && vcpus <= g->capacity_cpu) {
        /* All its domains' vCPUs fit: no CPU contention is possible. */
        memset(g->cpu.p, 0, sizeof(g->cpu.p));
        g->cpu.t_cross_s = INFINITY;
    } else if (g->have && cal) {
        double sum[NGRID], pcal[RISK_HORIZON_LAST], demand = 0;
        double t_s = (double) now / (double) SEC;

        for (guint i = 0; i < n; i++) {
            const PredDomain *d = ds->pdata[i];
            double v = d->last[FC_METRIC_CPU];

            if (isfinite(v)) {
                demand += v * (d->vcpus ? (double) d->vcpus : 1) / 100;
            }
        }
        risk_contention_sum_mean(pc, n, NGRID, sum);
        risk_contention_cal_observe(cal, t_s, demand, sum, steps, NGRID);
        if (risk_contention_cal_prob(cal, t_s, demand, sum, steps, NGRID,
                                     g->capacity_cpu, pcal)) {
            memcpy(g->cpu.p, pcal, sizeof(pcal));
        }
    }
    if (g->capacity_mem > 0 &&
        !risk_contention_compute(pm, n, steps, NGRID, g->capacity_mem,
                                 p->cfg->risk_rho, &g->mem, NULL)) {
        memset(&g->mem, 0, sizeof(g->mem));
        g->mem.t_cross_s = INFINITY;
    }
}

static double
group_p(const PredGroup *g, RiskHorizon h)
{
    return g && g->have ? MAX(g->cpu.p[h], g->mem.p[h]) : 0;
}

static char *
features_json(const double *x)
{
    g_autoptr(json_object) o = json_object_new_object();

    for (int i = 0; i < RISK_FEAT_LAST; i++) {
        json_object_object_add(o, risk_feature_to_string(i),
                               model_json_double(x[i]));
    }
    return g_strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
}

static bool
features_from_json(const char *text, double *x)
{
    g_autoptr(json_object) o = text ? json_tokener_parse(text) : NULL;

    if (!o || !json_object_is_type(o, json_type_object)) {
        return false;
    }
    for (int i = 0; i < RISK_FEAT_LAST; i++) {
        json_object *v = NULL;

        x[i] = 0;
        if (json_object_object_get_ex(o, risk_feature_to_string(i), &v) && v &&
            (json_object_is_type(v, json_type_double) ||
             json_object_is_type(v, json_type_int))) {
            x[i] = json_object_get_double(v);
        }
    }
    return true;
}

static char *
reasons_text(const PredDomain *d)
{
    g_autoptr(GString) s = g_string_new(NULL);
    int shown = 0;

    for (int i = 0; i < RISK_FEAT_LAST && shown < 3; i++) {
        const RiskReason *r = &d->reasons[i];

        if (!(r->contribution > 0.05)) {
            continue;
        }
        g_string_append_printf(s, "%s%s %.2f", shown ? ", " : "",
                               risk_feature_to_string(r->feature), r->value);
        shown++;
    }
    return g_string_free(g_steal_pointer(&s), FALSE);
}

/* Learns from the predictions whose hour has passed. */
static void
resolve_due(Predictor *p, int64_t now)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(GPtrArray) due = NULL;
    bool learnt = false;

    if (!p->store) {
        return;
    }
    due = tsdb_store_due_predictions(p->store, now, 500, &err);
    if (!due) {
        g_message("risk: cannot read due predictions: %s", err->message);
        return;
    }
    for (guint i = 0; i < due->len; i++) {
        const TsdbPrediction *pr = due->pdata[i];
        double x[RISK_FEAT_LAST];
        int64_t n;
        bool happened;

        n = tsdb_store_count_incidents(p->store, pr->subject, pr->wall_us,
                                       pr->wall_us + pr->horizon_s * SEC, &err);
        if (n < 0) {
            g_message("risk: cannot count incidents: %s", err->message);
            return;
        }
        happened = n > 0;
        if (strcmp(pr->kind, "failure") == 0 &&
            features_from_json(pr->features, x)) {
            risk_model_update(p->model, x, happened);
            risk_threshold_observe(p->thr, pr->prob, happened);
            learnt = true;
        }
        if (!tsdb_store_resolve_prediction(p->store, pr->id, happened, now,
                                           &err)) {
            g_message("risk: cannot store an outcome: %s", err->message);
            return;
        }
    }
    if (learnt) {
        g_autofree char *text = risk_model_to_json(p->model);

        if (!tsdb_store_save_model(p->store, MODEL_NAME, text, now, &err)) {
            g_message("risk: cannot save the model: %s", err->message);
        }
    }
}

void
predictor_tick(Predictor *p, int64_t now)
{
    g_autoptr(GPtrArray) hosts = monitor_list_hosts(p->m);
    g_autoptr(GPtrArray) doms =
        monitor_list_domains(p->m, NULL, NULL, false, NULL);
    g_autoptr(GHashTable) by_host = g_hash_table_new_full(
        g_str_hash, g_str_equal, NULL, (GDestroyNotify) g_ptr_array_unref);
    g_autoptr(GHashTable) by_cell = g_hash_table_new_full(
        g_str_hash, g_str_equal, NULL, (GDestroyNotify) g_ptr_array_unref);
    g_autoptr(GHashTable) host_info = g_hash_table_new(g_str_hash, g_str_equal);
    double threshold = risk_threshold_value(p->thr);

    p->last_tick = now;
    g_hash_table_remove_all(p->hosts);
    g_hash_table_remove_all(p->cells);
    for (guint i = 0; doms && i < doms->len; i++) {
        const DomSample *s = doms->pdata[i];
        PredDomain *d;
        GPtrArray *a;

        if (!s->uuid || !s->host) {
            continue;
        }
        d = pred_domain_get(p, s->uuid, s->name);
        if (!d->host || strcmp(d->host, s->host) != 0) {
            g_free(d->host);
            d->host = g_strdup(s->host);
        }
        g_free(d->tick_host);
        d->tick_host = g_strdup(s->host);
        if (s->cell && (!d->cell || strcmp(d->cell, s->cell) != 0)) {
            g_free(d->cell);
            d->cell = g_strdup(s->cell);
        }
        if (s->vcpus) {
            d->vcpus = s->vcpus;
        }
        if (!(a = g_hash_table_lookup(by_host, d->host))) {
            a = g_ptr_array_new();
            g_hash_table_insert(by_host, d->host, a);
        }
        g_ptr_array_add(a, d);
        if (d->cell) {
            if (!(a = g_hash_table_lookup(by_cell, d->cell))) {
                a = g_ptr_array_new();
                g_hash_table_insert(by_cell, d->cell, a);
            }
            g_ptr_array_add(a, d);
        }
    }

    /* Hosts, then cells (capacity: the sum of their hosts'). */
    for (guint i = 0; i < hosts->len; i++) {
        const MonitorHost *h = hosts->pdata[i];
        PredGroup *g = g_new0(PredGroup, 1);
        PredGroup *c;
        GPtrArray *ds = g_hash_table_lookup(by_host, h->name);
        g_autoptr(GPtrArray) none = g_ptr_array_new();
        g_autofree double *headroom = NULL;
        RiskContentionCal *cal;

        g_hash_table_insert(host_info, h->name, (gpointer) h);
        if (h->latest) {
            g->capacity_cpu = host_cpus(p, h);
            g->capacity_mem = (double) h->latest->mem_total_kib;
        }
        ds = ds ? ds : none;
        headroom = g_new0(double, ds->len ? ds->len : 1);
        cal = g_hash_table_lookup(p->cals, h->name);
        if (!cal) {
            cal = risk_contention_cal_new(CAL_STEP_S, CAL_WINDOW, CAL_MIN_RUN,
                                          CAL_MIN_ORIGINS, NULL);
            g_hash_table_insert(p->cals, g_strdup(h->name), cal);
        }
        group_compute(p, ds, g, now, headroom, cal);
        for (guint j = 0; j < ds->len; j++) {
            PredDomain *d = ds->pdata[j];

            d->x[RISK_FEAT_HEADROOM] = headroom[j];
        }
        g_hash_table_insert(p->hosts, g_strdup(h->name), g);
        if (h->cell) {
            if (!(c = g_hash_table_lookup(p->cells, h->cell))) {
                c = g_new0(PredGroup, 1);
                g_hash_table_insert(p->cells, g_strdup(h->cell), c);
            }
            c->capacity_cpu += g->capacity_cpu;
            c->capacity_mem += g->capacity_mem;
        }
    }
    {
        GHashTableIter it;
        gpointer k, v;

        g_hash_table_iter_init(&it, p->cells);
        while (g_hash_table_iter_next(&it, &k, &v)) {
            GPtrArray *ds = g_hash_table_lookup(by_cell, k);
            g_autoptr(GPtrArray) none = g_ptr_array_new();

            group_compute(p, ds ? ds : none, v, now, NULL, NULL);
        }
    }

    /* Domains: features, probability, alerts, records. */
    for (guint i = 0; doms && i < doms->len; i++) {
        const DomSample *s = doms->pdata[i];
        g_autofree char *lc = s->uuid ? g_ascii_strdown(s->uuid, -1) : NULL;
        PredDomain *d = lc ? g_hash_table_lookup(p->doms, lc) : NULL;
        const PredGroup *g;
        const MonitorHost *h;
        UtilLatchChange change;
        int dm;

        if (!d || !d->host) {
            continue;
        }
        g = g_hash_table_lookup(p->hosts, d->host);
        h = g_hash_table_lookup(host_info, d->host);
        d->x[RISK_FEAT_DRIFT] = domain_drift(d, &dm);
        d->x[RISK_FEAT_CONTENTION] = group_p(g, RISK_HORIZON_1H);
        d->x[RISK_FEAT_MEM_PRESSURE] =
            h && h->latest && h->latest->mem_total_kib
                ? CLAMP(1 - (double) h->latest->mem_avail_kib /
                                (double) h->latest->mem_total_kib,
                        0, 1)
                : 0;
        d->x[RISK_FEAT_HOST_LOAD] =
            h && h->latest && isfinite(h->latest->cpu_pct)
                ? CLAMP(h->latest->cpu_pct / 100, 0, 1)
                : 0;
        d->x[RISK_FEAT_IO_ERRORS] =
            log1p(count_recent(d, EVK_IO_ERROR, now, HOUR_US));
        d->x[RISK_FEAT_WATCHDOG] =
            log1p(count_recent(d, EVK_WATCHDOG, now, DAY_US));
        d->x[RISK_FEAT_CRASHES] =
            log1p(count_recent(d, EVK_CRASH, now, DAY_US));
        d->x[RISK_FEAT_LIFECYCLE] =
            log1p(count_recent(d, EVK_LIFECYCLE, now, DAY_US));
        d->x[RISK_FEAT_INCIDENTS] =
            log1p(count_recent(d, EVK_INCIDENT, now, WEEK_US));
        d->x[RISK_FEAT_SHADOW] = 0;
        d->p1h = risk_model_predict(p->model, d->x, d->reasons);
        d->have_p = true;

        change = risk_alert_step(&d->alerting, d->p1h, threshold);
        if (change == UTIL_LATCH_SET) {
            g_autofree char *why = reasons_text(d);
            g_autofree char *detail =
                g_strdup_printf("p=%.2f within 1h (threshold %.2f): %s", d->p1h,
                                threshold, why);

            monitor_post_event(p->m, umbra_event_new(EVENT_SOURCE_DAEMON,
                                                     d->host, d->name, d->uuid,
                                                     "risk-alert", detail));
        } else if (change == UTIL_LATCH_RESET) {
            g_autofree char *detail = g_strdup_printf("p=%.2f", d->p1h);

            monitor_post_event(p->m, umbra_event_new(EVENT_SOURCE_DAEMON,
                                                     d->host, d->name, d->uuid,
                                                     "risk-clear", detail));
        }
        if (p->store && now - d->recorded_us >= PREDICTOR_RECORD_S * SEC) {
            g_autoptr(TsdbPrediction) pr = tsdb_prediction_new();
            g_autoptr(GError) err = NULL;

            pr->wall_us = now;
            pr->scope = g_strdup("domain");
            pr->subject = g_strdup(d->uuid);
            pr->name = g_strdup(d->name);
            pr->kind = g_strdup("failure");
            pr->horizon_s = 3600;
            pr->prob = d->p1h;
            pr->threshold = threshold;
            pr->features = features_json(d->x);
            if (tsdb_store_add_prediction(p->store, pr, &err)) {
                d->recorded_us = now;
            } else {
                g_message("risk: prediction of %s not stored: %s", d->name,
                          err->message);
            }
        }
    }
    resolve_due(p, now);
}

/* --- views -------------------------------------------------------------- */

static double
horizon_p(double p1h, RiskHorizon h)
{
    double frac = (double) risk_horizon_seconds(h) / 3600.0;

    if (!isfinite(p1h)) {
        return NAN;
    }
    return 1 - pow(1 - p1h, frac);
}

static json_object *
probs_json(double p1h)
{
    json_object *o = json_object_new_object();

    for (int h = 0; h < RISK_HORIZON_LAST; h++) {
        json_object_object_add(o, risk_horizon_to_string(h),
                               model_json_double(horizon_p(p1h, h)));
    }
    return o;
}

static json_object *
contention_json(const RiskContention *c, double capacity, const char *unit)
{
    json_object *o = json_object_new_object();
    json_object *pr = json_object_new_object();
    json_object *dm = json_object_new_object();
    json_object *lo = json_object_new_object();
    json_object *hi = json_object_new_object();

    for (int h = 0; h < RISK_HORIZON_LAST; h++) {
        const char *k = risk_horizon_to_string(h);

        json_object_object_add(pr, k, model_json_double(c->p[h]));
        json_object_object_add(dm, k, model_json_double(c->demand[h]));
        /* The normal approximation the probabilities come from. */
        json_object_object_add(
            lo, k, model_json_double(MAX(c->demand[h] - 1.96 * c->sd[h], 0)));
        json_object_object_add(
            hi, k, model_json_double(c->demand[h] + 1.96 * c->sd[h]));
    }
    json_object_object_add(o, "p", pr);
    json_object_object_add(o, "demand", dm);
    json_object_object_add(o, "demand_lo95", lo);
    json_object_object_add(o, "demand_hi95", hi);
    json_object_object_add(o, "capacity", model_json_double(capacity));
    json_object_object_add(o, "unit", json_object_new_string(unit));
    json_object_object_add(o, "now", model_json_double(c->now_demand));
    json_object_object_add(
        o, "t_cross_s",
        isfinite(c->t_cross_s) ? model_json_double(c->t_cross_s) : NULL);
    return o;
}

static json_object *
group_json(const char *kind, const char *name, const PredGroup *g,
           GPtrArray *members)
{
    json_object *o = json_object_new_object();
    json_object *c = json_object_new_object();
    double any = 1, tc = INFINITY;
    guint n = 0;

    json_object_object_add(o, kind, json_object_new_string(name));
    for (guint i = 0; members && i < members->len; i++) {
        const PredDomain *d = members->pdata[i];

        if (d->have_p) {
            any *= 1 - d->p1h;
            n++;
        }
    }
    json_object_object_add(o, "domains", json_object_new_int((int) n));
    json_object_object_add(o, "failure", probs_json(n ? 1 - any : 0));
    if (g && g->have) {
        json_object_object_add(
            c, "cpu", contention_json(&g->cpu, g->capacity_cpu, "CPUs"));
        tc = MIN(tc, g->cpu.t_cross_s);
        if (g->capacity_mem > 0) {
            json_object_object_add(
                c, "mem", contention_json(&g->mem, g->capacity_mem, "KiB"));
            tc = MIN(tc, g->mem.t_cross_s);
        }
    }
    json_object_object_add(o, "contention", c);
    {
        json_object *cp = json_object_new_object();

        for (int h = 0; h < RISK_HORIZON_LAST; h++) {
            json_object_object_add(cp, risk_horizon_to_string(h),
                                   model_json_double(group_p(g, h)));
        }
        json_object_object_add(o, "contention_p", cp);
    }
    json_object_object_add(o, "t_trouble_s",
                           isfinite(tc) ? model_json_double(tc) : NULL);
    return o;
}

static json_object *
domain_json(Predictor *p, const PredDomain *d)
{
    json_object *o = json_object_new_object();
    json_object *drift = json_object_new_object();
    json_object *reasons = json_object_new_array();
    const PredGroup *g =
        d->host ? g_hash_table_lookup(p->hosts, d->host) : NULL;
    double tc =
        g && g->have ? MIN(g->cpu.t_cross_s, g->mem.t_cross_s) : INFINITY;
    int dm = -1;
    double score = domain_drift(d, &dm);

    json_object_object_add(o, "domain", json_object_new_string(d->name));
    json_object_object_add(o, "uuid", json_object_new_string(d->uuid));
    json_object_object_add(o, "host",
                           d->host ? json_object_new_string(d->host) : NULL);
    json_object_object_add(o, "cell",
                           d->cell ? json_object_new_string(d->cell) : NULL);
    json_object_object_add(o, "risk_host",
                           d->tick_host ? json_object_new_string(d->tick_host)
                                        : NULL);
    json_object_object_add(o, "drift", model_json_double(score));
    json_object_object_add(
        o, "drift_metric",
        dm >= 0 ? json_object_new_string(fc_metric_to_string(dm)) : NULL);
    for (int i = 0; i < NMETRICS; i++) {
        RiskDrift dr;
        json_object *m;

        if (!d->prof[i]) {
            continue;
        }
        risk_profile_drift(d->prof[i], &dr);
        m = json_object_new_object();
        json_object_object_add(m, "drift", model_json_double(dr.drift));
        json_object_object_add(m, "z", model_json_double(dr.z));
        json_object_object_add(m, "expected", model_json_double(dr.expected));
        json_object_object_add(m, "spread", model_json_double(dr.spread));
        json_object_object_add(m, "last", model_json_double(d->last[i]));
        json_object_object_add(m, "learning",
                               json_object_new_boolean(dr.learning));
        json_object_object_add(drift, fc_metric_to_string(i), m);
    }
    json_object_object_add(o, "metrics", drift);
    json_object_object_add(o, "failure", d->have_p ? probs_json(d->p1h) : NULL);
    {
        json_object *cp = json_object_new_object();

        for (int h = 0; h < RISK_HORIZON_LAST; h++) {
            json_object_object_add(cp, risk_horizon_to_string(h),
                                   model_json_double(group_p(g, h)));
        }
        json_object_object_add(o, "contention_p", cp);
    }
    json_object_object_add(o, "t_trouble_s",
                           isfinite(tc) ? model_json_double(tc) : NULL);
    json_object_object_add(o, "threshold",
                           model_json_double(risk_threshold_value(p->thr)));
    json_object_object_add(o, "alert", json_object_new_boolean(d->alerting));
    json_object_object_add(
        o, "forecast",
        json_object_new_string(d->persistence ? "persistence" : "model"));
    for (int i = 0; d->have_p && i < RISK_FEAT_LAST; i++) {
        const RiskReason *r = &d->reasons[i];
        json_object *ro;

        if (!(fabs(r->contribution) > 1e-9)) {
            continue;
        }
        ro = json_object_new_object();
        json_object_object_add(
            ro, "feature",
            json_object_new_string(risk_feature_to_string(r->feature)));
        json_object_object_add(
            ro, "description",
            json_object_new_string(risk_feature_describe(r->feature)));
        json_object_object_add(ro, "value", model_json_double(r->value));
        json_object_object_add(ro, "contribution",
                               model_json_double(r->contribution));
        json_object_array_add(reasons, ro);
    }
    json_object_object_add(o, "reasons", reasons);
    return o;
}

static gint
dom_cmp(gconstpointer a, gconstpointer b)
{
    const PredDomain *x = *(const PredDomain *const *) a;
    const PredDomain *y = *(const PredDomain *const *) b;

    return g_strcmp0(x->name, y->name);
}

/* Domains currently on @host / in @cell (both nullable = all active). */
static GPtrArray *
members(Predictor *p, const char *host, const char *cell)
{
    GPtrArray *out = g_ptr_array_new();
    GHashTableIter it;
    gpointer k, v;

    g_hash_table_iter_init(&it, p->doms);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        PredDomain *d = v;

        if (!d->have_p || (host && g_strcmp0(d->host, host) != 0) ||
            (cell && g_strcmp0(d->cell, cell) != 0)) {
            continue;
        }
        g_ptr_array_add(out, d);
    }
    g_ptr_array_sort(out, dom_cmp);
    return out;
}

static PredDomain *
find_domain(Predictor *p, const char *dom, GError **error)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(DomSample) s = monitor_find_domain(p->m, dom, &err);
    g_autofree char *lc = NULL;
    PredDomain *d;

    if (!s) {
        g_set_error(error, PREDICTOR_ERROR, PREDICTOR_ERROR_UNKNOWN_DOMAIN,
                    "%s", err->message);
        return NULL;
    }
    lc = g_ascii_strdown(s->uuid, -1);
    d = g_hash_table_lookup(p->doms, lc);
    if (!d) {
        /* Known to the store but not seen since umbrad started. */
        d = pred_domain_get(p, s->uuid, s->name);
    }
    return d;
}

/* Adds the group view of each name of @names (hosts or cells, as
 * @is_host says; only @only when not NULL) to @arr, and with @only the
 * views of its domains to @ds.  Returns: whether @only was found. */
static bool
add_groups(Predictor *p, bool is_host, const char *const *names, guint n,
           const char *only, json_object *arr, json_object *ds)
{
    bool found = false;

    for (guint i = 0; i < n; i++) {
        const char *name = names[i];
        g_autoptr(GPtrArray) mem = NULL;

        if (only && strcmp(name, only) != 0) {
            continue;
        }
        found = true;
        mem = is_host ? members(p, name, NULL) : members(p, NULL, name);
        json_object_array_add(
            arr,
            group_json(is_host ? "host" : "cell", name,
                       g_hash_table_lookup(is_host ? p->hosts : p->cells, name),
                       mem));
        for (guint j = 0; only && j < mem->len; j++) {
            json_object_array_add(ds, domain_json(p, mem->pdata[j]));
        }
    }
    return found;
}

json_object *
predictor_risk_json(Predictor *p, const char *dom, const char *host,
                    const char *cell, GError **error)
{
    g_autoptr(json_object) o = json_object_new_object();
    json_object *ds = json_object_new_array();
    json_object *hs = json_object_new_array();
    json_object *cs = json_object_new_array();
    g_autoptr(GPtrArray) hosts = monitor_list_hosts(p->m);
    g_autofree const char **host_names = g_new0(const char *, hosts->len + 1);
    g_autofree const char **cell_names =
        g_new0(const char *, p->cfg->cells->len + 1);
    bool all = !dom && !host && !cell;

    json_object_object_add(o, "time", json_object_new_int64(p->last_tick));
    json_object_object_add(o, "threshold",
                           model_json_double(risk_threshold_value(p->thr)));
    json_object_object_add(o, "domains", ds);
    json_object_object_add(o, "hosts", hs);
    json_object_object_add(o, "cells", cs);
    for (guint i = 0; i < hosts->len; i++) {
        host_names[i] = ((const MonitorHost *) hosts->pdata[i])->name;
    }
    for (guint i = 0; i < p->cfg->cells->len; i++) {
        cell_names[i] = ((const ConfigCell *) p->cfg->cells->pdata[i])->name;
    }
    if (dom) {
        PredDomain *d = find_domain(p, dom, error);

        if (!d) {
            return NULL;
        }
        json_object_array_add(ds, domain_json(p, d));
    }
    if ((host || all) &&
        !add_groups(p, true, host_names, hosts->len, host, hs, ds) && host) {
        g_set_error(error, PREDICTOR_ERROR, PREDICTOR_ERROR_UNKNOWN_HOST,
                    "unknown host '%s'", host);
        return NULL;
    }
    if ((cell || all) &&
        !add_groups(p, false, cell_names, p->cfg->cells->len, cell, cs, ds) &&
        cell) {
        g_set_error(error, PREDICTOR_ERROR, PREDICTOR_ERROR_UNKNOWN_CELL,
                    "unknown cell '%s'", cell);
        return NULL;
    }
    if (all) {
        g_autoptr(GPtrArray) mem = members(p, NULL, NULL);

        for (guint j = 0; j < mem->len; j++) {
            json_object_array_add(ds, domain_json(p, mem->pdata[j]));
        }
    }
    return g_steal_pointer(&o);
}

json_object *
predictor_profile_json(Predictor *p, const char *dom, GError **error)
{
    PredDomain *d = find_domain(p, dom, error);
    json_object *o, *ms;

    if (!d) {
        return NULL;
    }
    o = json_object_new_object();
    ms = json_object_new_array();
    json_object_object_add(o, "domain", json_object_new_string(d->name));
    json_object_object_add(o, "uuid", json_object_new_string(d->uuid));
    json_object_object_add(o, "bin_s", json_object_new_int(PROFILE_BIN_S));
    for (int i = 0; i < NMETRICS; i++) {
        RiskPeriod per[RISK_MAX_PERIODS];
        RiskEvent evs[RISK_MAX_EVENTS];
        RiskDrift dr;
        json_object *m, *pa, *ea;
        size_t np, ne;
        double mean = NAN, spread = NAN;

        if (!d->prof[i]) {
            continue;
        }
        risk_profile_drift(d->prof[i], &dr);
        np = risk_profile_periods(d->prof[i], per, G_N_ELEMENTS(per));
        ne = risk_profile_events(d->prof[i], evs, G_N_ELEMENTS(evs));
        risk_profile_expected(d->prof[i], (double) d->last_us / 1e6, &mean,
                              &spread);
        m = json_object_new_object();
        pa = json_object_new_array();
        ea = json_object_new_array();
        json_object_object_add(m, "metric",
                               json_object_new_string(fc_metric_to_string(i)));
        json_object_object_add(m, "samples",
                               json_object_new_int64((int64_t) dr.samples));
        json_object_object_add(m, "learning",
                               json_object_new_boolean(dr.learning));
        json_object_object_add(m, "level", model_json_double(dr.level));
        json_object_object_add(m, "spread", model_json_double(dr.spread));
        json_object_object_add(m, "expected_now", model_json_double(mean));
        json_object_object_add(m, "spread_now", model_json_double(spread));
        json_object_object_add(m, "last", model_json_double(d->last[i]));
        json_object_object_add(m, "drift", model_json_double(dr.drift));
        for (size_t j = 0; j < np; j++) {
            json_object *po = json_object_new_object();

            json_object_object_add(
                po, "period_s",
                json_object_new_int64((int64_t) per[j].period * PROFILE_BIN_S));
            json_object_object_add(po, "strength",
                                   model_json_double(per[j].strength));
            json_object_object_add(po, "candidate",
                                   json_object_new_boolean(per[j].candidate));
            json_object_array_add(pa, po);
        }
        for (size_t j = 0; j < ne; j++) {
            json_object *eo = json_object_new_object();

            json_object_object_add(
                eo, "period_s",
                json_object_new_int64((int64_t) evs[j].period * PROFILE_BIN_S));
            json_object_object_add(
                eo, "offset_s",
                json_object_new_int64((int64_t) evs[j].phase * PROFILE_BIN_S));
            json_object_object_add(
                eo, "length_s",
                json_object_new_int64((int64_t) evs[j].length * PROFILE_BIN_S));
            json_object_object_add(eo, "magnitude",
                                   model_json_double(evs[j].magnitude));
            json_object_object_add(eo, "cycles",
                                   json_object_new_int(evs[j].cycles));
            json_object_object_add(eo, "varying",
                                   json_object_new_boolean(evs[j].varying));
            json_object_array_add(ea, eo);
        }
        json_object_object_add(m, "periods", pa);
        json_object_object_add(m, "events", ea);
        json_object_array_add(ms, m);
    }
    json_object_object_add(o, "metrics", ms);
    return o;
}

json_object *
predictor_model_json(Predictor *p)
{
    json_object *o = json_object_new_object();
    json_object *w = json_object_new_object();
    json_object *bins = json_object_new_array();
    const double *wt = risk_model_weights(p->model);
    RiskReliability rel;
    double prec = NAN, rec = NAN;

    risk_model_reliability(p->model, &rel);
    risk_threshold_stats(p->thr, &prec, &rec);
    for (int i = 0; i < RISK_FEAT_LAST; i++) {
        json_object_object_add(w, risk_feature_to_string(i),
                               model_json_double(wt[i]));
    }
    json_object_object_add(w, "intercept",
                           model_json_double(wt[RISK_FEAT_LAST]));
    for (int b = 0; b < RISK_RELIABILITY_BINS; b++) {
        json_object *bo = json_object_new_object();

        json_object_object_add(bo, "lo", model_json_double(rel.bins[b].lo));
        json_object_object_add(bo, "hi", model_json_double(rel.bins[b].hi));
        json_object_object_add(bo, "n",
                               json_object_new_int64((int64_t) rel.bins[b].n));
        json_object_object_add(bo, "mean_pred",
                               model_json_double(rel.bins[b].mean_pred));
        json_object_object_add(bo, "observed",
                               model_json_double(rel.bins[b].observed));
        json_object_array_add(bins, bo);
    }
    json_object_object_add(o, "version",
                           json_object_new_int(RISK_MODEL_VERSION));
    json_object_object_add(
        o, "examples",
        json_object_new_int64((int64_t) risk_model_examples(p->model)));
    json_object_object_add(o, "weights", w);
    json_object_object_add(o, "brier", model_json_double(rel.brier));
    json_object_object_add(o, "ece", model_json_double(rel.ece));
    json_object_object_add(o, "positives",
                           json_object_new_int64((int64_t) rel.positives));
    json_object_object_add(o, "reliability", bins);
    json_object_object_add(o, "threshold",
                           model_json_double(risk_threshold_value(p->thr)));
    json_object_object_add(o, "precision", model_json_double(prec));
    json_object_object_add(o, "recall", model_json_double(rec));
    json_object_object_add(o, "target_precision",
                           model_json_double(p->cfg->risk_precision));
    json_object_object_add(o, "note",
                           p->model_note ? json_object_new_string(p->model_note)
                                         : NULL);
    return o;
}

/* --- placement ------------------------------------------------------------ */

/* The 95 % upper demand over the next hour of @c (0 when unknown). */
static double
upper_demand(const RiskContention *c)
{
    double hi = 0;

    for (int h = 0; h < RISK_HORIZON_LAST; h++) {
        double v = c->demand[h] + 1.96 * c->sd[h];

        if (isfinite(v) && v > hi) {
            hi = v;
        }
    }
    return hi;
}

json_object *
predictor_place_json(Predictor *p, const char *dom, const char *rule,
                     const char *only_cell, const PlacementLedger *ledger,
                     GError **error)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(DomSample) s = monitor_find_domain(p->m, dom, &err);
    g_autoptr(GPtrArray) hosts = NULL;
    g_autoptr(GPtrArray) groups_mem = NULL;
    g_autoptr(PlacementDecision) d = NULL;
    g_autofree PlacementHost *ph = NULL;
    const ConfigGroup *grp;
    PlacementRequest req = {0};
    int r;
    json_object *o, *ca, *rq;

    r = placement_cell_rule_from_string(rule ? rule : p->cfg->shadow_cell);
    if (r < 0) {
        g_set_error(error, PREDICTOR_ERROR, PREDICTOR_ERROR_INVALID,
                    "cell rule '%s' is not preferred or required", rule);
        return NULL;
    }
    if (!s) {
        g_set_error(error, PREDICTOR_ERROR, PREDICTOR_ERROR_UNKNOWN_DOMAIN,
                    "%s", err->message);
        return NULL;
    }
    if (!s->host || s->state != DOM_STATE_RUNNING) {
        g_set_error(error, PREDICTOR_ERROR, PREDICTOR_ERROR_UNKNOWN_DOMAIN,
                    "domain '%s' is not running on a known host", s->name);
        return NULL;
    }
    grp = umbra_config_group_of(p->cfg, s->name);
    req.domain = s->name;
    req.host = s->host;
    req.cell = s->cell;
    req.group = grp ? grp->name : NULL;
    req.cpus = s->vcpus ? s->vcpus : 1;
    req.mem_kib = (double) s->mem_max_kib;
    req.io_bps = NAN;
    req.only_cell = only_cell;

    hosts = monitor_list_hosts(p->m);
    ph = g_new0(PlacementHost, hosts->len ? hosts->len : 1);
    /* Keeps the per-host group lists alive for the decision. */
    groups_mem = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < hosts->len; i++) {
        const MonitorHost *h = hosts->pdata[i];
        const PredGroup *g = g_hash_table_lookup(p->hosts, h->name);
        g_autoptr(GPtrArray) mem = members(p, h->name, NULL);
        g_autoptr(GPtrArray) shadows =
            placement_ledger_domains_on(ledger, h->name);
        const char **gl = g_new0(const char *, mem->len + shadows->len + 1);
        guint ng = 0;

        /* The shadows reserved on it count as members of their groups. */
        for (guint j = 0; j < shadows->len; j++) {
            const ConfigGroup *xg =
                umbra_config_group_of(p->cfg, shadows->pdata[j]);

            if (xg && g_strcmp0(shadows->pdata[j], s->name) != 0) {
                gl[ng++] = xg->name;
            }
        }

        for (guint j = 0; j < mem->len; j++) {
            const PredDomain *x = mem->pdata[j];
            const ConfigGroup *xg = umbra_config_group_of(p->cfg, x->name);

            if (xg && strcmp(x->uuid, s->uuid) != 0) {
                gl[ng++] = xg->name;
            }
        }
        g_ptr_array_add(groups_mem, gl);
        ph[i].name = h->name;
        ph[i].cell = h->cell;
        ph[i].reachable = h->state == HOST_STATE_CONNECTED && h->latest;
        ph[i].cpus = h->latest ? host_cpus(p, h) * p->cfg->cpu_overcommit : 0;
        ph[i].mem_kib = h->latest ? (double) h->latest->mem_total_kib : 0;
        ph[i].io_bps = NAN;
        ph[i].io_demand_bps = NAN;
        if (g && g->have) {
            ph[i].cpu_demand = upper_demand(&g->cpu);
            ph[i].mem_demand_kib = upper_demand(&g->mem);
        } else if (h->latest) {
            /* No risk tick yet: what the host uses now. */
            ph[i].cpu_demand = isfinite(h->latest->cpu_pct)
                                   ? h->latest->cpu_pct / 100 * h->latest->ncpus
                                   : 0;
            ph[i].mem_demand_kib =
                (double) (h->latest->mem_total_kib - h->latest->mem_avail_kib);
        }
        ph[i].groups = gl;
    }
    d = placement_decide(ph, hosts->len, &req, (PlacementCellRule) r, ledger,
                         &err);
    if (!d) {
        g_set_error(error, PREDICTOR_ERROR, PREDICTOR_ERROR_INVALID, "%s",
                    err->message);
        return NULL;
    }
    o = json_object_new_object();
    rq = json_object_new_object();
    ca = json_object_new_array();
    json_object_object_add(o, "domain", json_object_new_string(s->name));
    json_object_object_add(o, "uuid", json_object_new_string(s->uuid));
    json_object_object_add(o, "host", json_object_new_string(s->host));
    json_object_object_add(o, "cell",
                           s->cell ? json_object_new_string(s->cell) : NULL);
    json_object_object_add(
        o, "group", req.group ? json_object_new_string(req.group) : NULL);
    json_object_object_add(
        o, "rule", json_object_new_string(placement_cell_rule_to_string(r)));
    json_object_object_add(rq, "cpus", model_json_double(req.cpus));
    json_object_object_add(rq, "mem_kib", model_json_double(req.mem_kib));
    json_object_object_add(o, "request", rq);
    for (guint i = 0; i < d->candidates->len; i++) {
        const PlacementCandidate *c = d->candidates->pdata[i];
        json_object *co = json_object_new_object();
        const PlacementHost *h = NULL;

        for (guint j = 0; j < hosts->len; j++) {
            if (strcmp(ph[j].name, c->host) == 0) {
                h = &ph[j];
            }
        }
        json_object_object_add(co, "host", json_object_new_string(c->host));
        json_object_object_add(
            co, "cell", c->cell ? json_object_new_string(c->cell) : NULL);
        json_object_object_add(co, "eligible",
                               json_object_new_boolean(c->eligible));
        json_object_object_add(co, "score", model_json_double(c->score));
        json_object_object_add(co, "cpus",
                               model_json_double(h ? h->cpus : NAN));
        json_object_object_add(co, "cpu_demand",
                               model_json_double(h ? h->cpu_demand : NAN));
        json_object_object_add(co, "cpu_free", model_json_double(c->cpu_free));
        json_object_object_add(co, "mem_free_kib",
                               model_json_double(c->mem_free_kib));
        json_object_object_add(co, "reason", json_object_new_string(c->reason));
        json_object_array_add(ca, co);
    }
    json_object_object_add(o, "candidates", ca);
    json_object_object_add(
        o, "chosen",
        d->chosen >= 0
            ? json_object_new_string(
                  ((PlacementCandidate *) d->candidates->pdata[d->chosen])
                      ->host)
            : NULL);
    json_object_object_add(o, "reason", json_object_new_string(d->reason));
    return o;
}
