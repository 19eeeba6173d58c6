/*
 * engine/forecaster.c: scheduled refits in a worker thread, cheap updates
 * on the main thread (see forecaster.h).
 *
 * Grid: forecast_step seconds (FORECASTER_STEP_S by default).  A fit
 * forecasts enough steps to cover an hour ahead until the next refit is
 * due (hour/step + refit/step + 10 steps).  Seasonal periods are one day and
 * one week in grid steps; the forecasting engine uses a period only when the
 * history holds two full cycles, and falls back to simpler models by itself.
 */
#include "engine/forecaster.h"

#include <math.h>
#include <string.h>

#include "util/clock.h"
#include "util/loop.h"

#define HISTORY_DAYS 14
#define FITS_PER_TICK 8
#define IDLE_FORGET_US (G_GINT64_CONSTANT(86400) * UTIL_USEC_PER_SEC)
#define BIAS_WEIGHT 0.3
/* A surprise: this many grid steps in a row whose mean lies outside the
 * fit's 80 % band, on the same side (the band is that of a step's mean,
 * not of one sample; by chance about 0.1^2 for independent errors). */
#define SURPRISE_RUN 2
#define TICK_MAX_S 30

static const char *const metric_names[] = {
#define X(NAME, STR, DESC) STR,
    FC_METRICS(X)
#undef X
};
static const char *const metric_descs[] = {
#define X(NAME, STR, DESC) DESC,
    FC_METRICS(X)
#undef X
};
G_STATIC_ASSERT(G_N_ELEMENTS(metric_names) == FC_METRIC_LAST);

const char *
fc_metric_to_string(FcMetric metric)
{
    return (int) metric >= 0 && metric < FC_METRIC_LAST ? metric_names[metric]
                                                        : "unknown";
}

const char *
fc_metric_describe(FcMetric metric)
{
    return (int) metric >= 0 && metric < FC_METRIC_LAST ? metric_descs[metric]
                                                        : "unknown";
}

int
fc_metric_from_string(const char *str)
{
    for (int i = 0; str && i < FC_METRIC_LAST; i++) {
        if (strcmp(str, metric_names[i]) == 0) {
            return i;
        }
    }
    return -1;
}

double
fc_metric_value(FcMetric metric, const DomSample *s)
{
    switch (metric) {
    case FC_METRIC_CPU:
        return s->cpu_pct;
    case FC_METRIC_MEM:
        return s->mem_used_kib ? (double) s->mem_used_kib : NAN;
    case FC_METRIC_BLK_RD:
        return s->blk_rd_bps;
    case FC_METRIC_BLK_WR:
        return s->blk_wr_bps;
    case FC_METRIC_NET_RX:
        return s->net_rx_bps;
    case FC_METRIC_NET_TX:
        return s->net_tx_bps;
    case FC_METRIC_LAST:
        break;
    }
    return NAN;
}

typedef struct {
    FcResult *result; /* steps origin+1 .. origin+h */
    int64_t fitted_at;
    int64_t origin;
    size_t nobs;
    double bias;
    double last_obs;
    bool early;     /* this fit was brought forward by a surprise */
    int out_side;   /* +1 above the 80 % band, -1 below, 0 inside */
    int out_run;    /* steps in a row on out_side */
    int64_t cur_k;  /* the step being averaged (steps after the origin) */
    double cur_sum; /* its samples' sum */
    int cur_n;      /* and count */
} MetricState;

typedef struct {
    char *uuid;
    int64_t next_fit;  /* wall us */
    int64_t last_seen; /* wall us */
    int64_t fitted_at; /* wall us of the last fit queued */
    bool queued;
    bool surprised; /* next_fit was brought forward */
    MetricState m[FC_METRIC_LAST];
} DomFc;

struct Forecaster {
    TsdbStore *store;
    int64_t refit_us;
    int64_t step_us; /* the grid step */
    size_t horizon;  /* steps per fit */
    FcModel model;
    GMainContext *ctx;
    GThreadPool *pool;
    GHashTable *doms; /* uuid -> DomFc* */
    guint pending;    /* jobs queued or running */
    guint stagger;    /* spreads first fits */
    guint64 early;    /* refits brought forward by a surprise */
    ForecasterFitFunc fit_fn;
    gpointer fit_data;
};

typedef struct {
    Forecaster *f;
    char *uuid;
    int64_t fitted_at;
    bool early;
    GArray *grid[FC_METRIC_LAST];
    int64_t origin[FC_METRIC_LAST];
    FcResult *result[FC_METRIC_LAST];
} Job;

static void
metric_state_clear(MetricState *ms)
{
    fc_result_free(ms->result);
    memset(ms, 0, sizeof(*ms));
}

static void
dom_fc_free(gpointer p)
{
    DomFc *d = p;

    for (int i = 0; i < FC_METRIC_LAST; i++) {
        metric_state_clear(&d->m[i]);
    }
    g_free(d->uuid);
    g_free(d);
}

static void
job_free(Job *j)
{
    for (int i = 0; i < FC_METRIC_LAST; i++) {
        if (j->grid[i]) {
            g_array_unref(j->grid[i]);
        }
        fc_result_free(j->result[i]);
    }
    g_free(j->uuid);
    g_free(j);
}

void
forecast_view_free(ForecastView *v)
{
    if (!v) {
        return;
    }
    g_free(v->method);
    if (v->points) {
        g_array_unref(v->points);
    }
    g_free(v);
}

GArray *
forecaster_grid(const GPtrArray *hist, FcMetric metric, int64_t step_us,
                int64_t *ret_origin)
{
    GArray *out = g_array_new(FALSE, TRUE, sizeof(double));
    g_autofree double *sum = NULL;
    g_autofree int *cnt = NULL;
    int64_t first, last;
    size_t n;

    *ret_origin = 0;
    if (!hist || hist->len == 0) {
        return out;
    }
    first = ((DomSample *) g_ptr_array_index(hist, 0))->wall_us / step_us;
    last = ((DomSample *) g_ptr_array_index(hist, hist->len - 1))->wall_us /
           step_us;
    if (last < first) {
        return out;
    }
    n = (size_t) (last - first + 1);
    sum = g_new0(double, n);
    cnt = g_new0(int, n);
    for (guint i = 0; i < hist->len; i++) {
        const DomSample *s = g_ptr_array_index(hist, i);
        int64_t k = s->wall_us / step_us - first;
        double v = fc_metric_value(metric, s);

        if (k < 0 || (size_t) k >= n || !isfinite(v)) {
            continue;
        }
        sum[k] += v;
        cnt[k]++;
    }
    g_array_set_size(out, (guint) n);
    for (size_t k = 0; k < n; k++) {
        g_array_index(out, double, k) = cnt[k] ? sum[k] / cnt[k] : NAN;
    }
    *ret_origin = last * step_us;
    return out;
}

/* Worker thread: pure numerics on the grids the main thread prepared. */
static void
job_run(gpointer data, gpointer user_data)
{
    Job *j = data;
    Forecaster *f = j->f;
    const int day = (int) (86400 * UTIL_USEC_PER_SEC / f->step_us);
    const int week = 7 * day;

    for (int i = 0; i < FC_METRIC_LAST; i++) {
        FcSeries s = {0};
        size_t finite = 0;

        if (!j->grid[i] || j->grid[i]->len < 3) {
            continue;
        }
        for (guint k = 0; k < j->grid[i]->len; k++) {
            finite += isfinite(g_array_index(j->grid[i], double, k));
        }
        if (finite < 3) {
            continue;
        }
        s.y = (const double *) j->grid[i]->data;
        s.n = j->grid[i]->len;
        s.periods[0] = day;
        s.periods[1] = week;
        j->result[i] = fc_forecast(f->model, &s, f->horizon, NULL);
    }
}

static gboolean
job_done(gpointer data)
{
    Job *j = data;
    Forecaster *f = j->f;
    DomFc *d = g_hash_table_lookup(f->doms, j->uuid);

    f->pending--;
    if (d) {
        d->queued = false;
        d->next_fit = j->fitted_at + f->refit_us;
        for (int i = 0; i < FC_METRIC_LAST; i++) {
            MetricState *ms = &d->m[i];

            if (!j->result[i]) {
                continue;
            }
            fc_result_free(ms->result);
            ms->result = g_steal_pointer(&j->result[i]);
            ms->fitted_at = j->fitted_at;
            ms->origin = j->origin[i];
            ms->nobs = j->grid[i]->len;
            ms->bias = 0;
            ms->early = j->early;
            ms->out_side = ms->out_run = 0;
            ms->cur_k = ms->cur_n = 0;
            ms->cur_sum = 0;
            ms->last_obs = NAN;
            for (guint k = j->grid[i]->len; k > 0; k--) {
                double v = g_array_index(j->grid[i], double, k - 1);

                if (isfinite(v)) {
                    ms->last_obs = v;
                    break;
                }
            }
        }
    }
    if (d && f->fit_fn) {
        f->fit_fn(d->uuid, f->fit_data);
    }
    job_free(j);
    return G_SOURCE_REMOVE;
}

static void
job_run_and_post(gpointer data, gpointer user_data)
{
    Job *j = data;

    job_run(j, user_data);
    util_context_post(j->f->ctx, job_done, j);
}

int64_t
forecaster_step(const Forecaster *f)
{
    return f->step_us / UTIL_USEC_PER_SEC;
}

int64_t
forecaster_tick_interval(const Forecaster *f)
{
    /* Half a period, so that a due refit waits at most that long. */
    int64_t s = MIN(f->refit_us, f->step_us) / 2 / UTIL_USEC_PER_SEC;

    return CLAMP(s, 1, TICK_MAX_S);
}

void
forecaster_set_fit_func(Forecaster *f, ForecasterFitFunc fn, gpointer data)
{
    f->fit_fn = fn;
    f->fit_data = data;
}

guint64
forecaster_early_refits(const Forecaster *f)
{
    return f->early;
}

Forecaster *
forecaster_new(TsdbStore *store, int64_t refit_s, int64_t step_s, FcModel model)
{
    Forecaster *f = g_new0(Forecaster, 1);

    f->store = store;
    f->refit_us = MAX(refit_s, 10) * UTIL_USEC_PER_SEC;
    f->step_us = CLAMP(step_s, 1, 86400) * UTIL_USEC_PER_SEC;
    f->horizon =
        (size_t) ((FORECASTER_HORIZON_S * UTIL_USEC_PER_SEC + f->refit_us) /
                  f->step_us) +
        10;
    f->model = model;
    f->ctx = g_main_context_ref_thread_default();
    f->pool = g_thread_pool_new(job_run_and_post, f, 1, FALSE, NULL);
    f->doms = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, dom_fc_free);
    return f;
}

void
forecaster_drain(Forecaster *f)
{
    while (f->pending > 0) {
        g_main_context_iteration(f->ctx, TRUE);
    }
}

void
forecaster_free(Forecaster *f)
{
    if (!f) {
        return;
    }
    /* Let running fits finish; their results land in the context. */
    g_thread_pool_free(f->pool, TRUE, TRUE);
    while (f->pending > 0 && g_main_context_iteration(f->ctx, FALSE)) {
    }
    g_hash_table_unref(f->doms);
    g_main_context_unref(f->ctx);
    g_free(f);
}

static DomFc *
dom_get(Forecaster *f, const char *uuid, int64_t now)
{
    DomFc *d = g_hash_table_lookup(f->doms, uuid);

    if (!d) {
        d = g_new0(DomFc, 1);
        d->uuid = g_strdup(uuid);
        /* Stagger the first fits over a few minutes. */
        d->next_fit =
            now + (int64_t) (f->stagger++ % 8) * 15 * UTIL_USEC_PER_SEC;
        g_hash_table_insert(f->doms, d->uuid, d);
    }
    return d;
}

/* Counts @v, a step's mean, against the fit's 80 % band at step @i; true
 * when it is the SURPRISE_RUN-th step in a row outside it on the same
 * side.  The band of a constant series has no width: rounding is not a
 * surprise. */
static bool
surprise_step(MetricState *ms, double v, size_t i)
{
    const FcResult *r = ms->result;
    double tol = 1e-9 * MAX(1, fabs(r->mean[i]));
    int side = v > r->hi80[i] + tol ? 1 : v < r->lo80[i] - tol ? -1 : 0;

    if (side == 0) {
        ms->out_side = ms->out_run = 0;
        return false;
    }
    if (side != ms->out_side) {
        ms->out_side = side;
        ms->out_run = 0;
    }
    return ++ms->out_run >= SURPRISE_RUN;
}

void
forecaster_observe(Forecaster *f, const DomSample *s)
{
    DomFc *d = dom_get(f, s->uuid, s->wall_us);
    int64_t step_us = f->step_us;
    bool surprised = false;

    d->last_seen = s->wall_us;
    for (int i = 0; i < FC_METRIC_LAST; i++) {
        MetricState *ms = &d->m[i];
        double v = fc_metric_value(i, s);
        int64_t k;

        if (!isfinite(v)) {
            continue;
        }
        ms->last_obs = v;
        if (!ms->result) {
            continue;
        }
        k = (s->wall_us - ms->origin) / step_us;
        if (k >= 1 && (size_t) k <= ms->result->h) {
            double err = v - ms->result->mean[k - 1];

            ms->bias = BIAS_WEIGHT * err + (1 - BIAS_WEIGHT) * ms->bias;
            /* A step is judged by its mean, once a later one begins. */
            if (k != ms->cur_k) {
                if (ms->cur_n > 0 && ms->cur_k >= 1 &&
                    surprise_step(ms, ms->cur_sum / ms->cur_n,
                                  (size_t) ms->cur_k - 1)) {
                    surprised = true;
                }
                ms->cur_k = k;
                ms->cur_sum = 0;
                ms->cur_n = 0;
            }
            ms->cur_sum += v;
            ms->cur_n++;
        }
    }
    /* The fit no longer describes the domain: bring the refit forward,
     * but not sooner than a grid step, nor a quarter of the refit
     * period, after the last one. */
    if (surprised && !d->queued) {
        int64_t due = d->fitted_at + MAX(step_us, f->refit_us / 4);

        due = MAX(due, s->wall_us);
        if (due < d->next_fit) {
            d->next_fit = due;
            d->surprised = true;
            f->early++;
            g_debug("forecaster: %s left its forecast band; refit brought "
                    "forward",
                    d->uuid);
        }
    }
}

static bool
queue_fit(Forecaster *f, DomFc *d, int64_t now)
{
    g_autoptr(GPtrArray) hist = NULL;
    Job *j;

    if (d->queued || !f->store) {
        return false;
    }
    hist = tsdb_store_dom_history(
        f->store, d->uuid, now - HISTORY_DAYS * 86400 * UTIL_USEC_PER_SEC, 0,
        NULL);
    if (!hist || hist->len < 3) {
        d->next_fit = now + f->refit_us / 4;
        d->surprised = false;
        return false;
    }
    j = g_new0(Job, 1);
    j->f = f;
    j->uuid = g_strdup(d->uuid);
    j->fitted_at = now;
    j->early = d->surprised;
    d->fitted_at = now;
    d->surprised = false;
    for (int i = 0; i < FC_METRIC_LAST; i++) {
        j->grid[i] = forecaster_grid(hist, i, f->step_us, &j->origin[i]);
    }
    d->queued = true;
    f->pending++;
    g_thread_pool_push(f->pool, j, NULL);
    return true;
}

void
forecaster_tick(Forecaster *f, int64_t now)
{
    GHashTableIter it;
    gpointer value;
    int fits = 0;

    g_hash_table_iter_init(&it, f->doms);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        DomFc *d = value;

        if (d->last_seen && now - d->last_seen > IDLE_FORGET_US && !d->queued) {
            g_hash_table_iter_remove(&it);
            continue;
        }
        if (fits < FITS_PER_TICK && d->next_fit <= now &&
            queue_fit(f, d, now)) {
            fits++;
        }
    }
}

void
forecaster_request(Forecaster *f, const char *uuid)
{
    int64_t now = util_clock_wall();

    queue_fit(f, dom_get(f, uuid, now), now);
}

ForecastView *
forecaster_get(Forecaster *f, const char *uuid, FcMetric metric, int64_t now,
               const int64_t *horizons_s, size_t nh)
{
    DomFc *d = g_hash_table_lookup(f->doms, uuid);
    MetricState *ms;
    ForecastView *v;
    int64_t step_us = f->step_us;

    if ((int) metric < 0 || metric >= FC_METRIC_LAST) {
        return NULL;
    }
    if (!d || !d->m[metric].result) {
        forecaster_request(f, uuid);
        return NULL;
    }
    ms = &d->m[metric];
    v = g_new0(ForecastView, 1);
    v->method = g_strdup(ms->result->method);
    v->fitted_at = ms->fitted_at;
    v->origin = ms->origin;
    v->nobs = ms->nobs;
    v->bias = ms->bias;
    v->early = ms->early;
    v->last_obs = ms->last_obs;
    v->points = g_array_new(FALSE, TRUE, sizeof(ForecastPoint));
    for (size_t i = 0; i < nh; i++) {
        ForecastPoint p = {0};
        int64_t target = now + horizons_s[i] * UTIL_USEC_PER_SEC;
        int64_t k = (target - ms->origin + step_us - 1) / step_us;

        if (k < 1) {
            k = 1;
        }
        if ((size_t) k > ms->result->h) {
            /* The fit is too old for this horizon: the refit is due. */
            continue;
        }
        p.horizon_s = horizons_s[i];
        p.time = target;
        p.mean = ms->result->mean[k - 1] + ms->bias;
        p.lo80 = ms->result->lo80[k - 1] + ms->bias;
        p.hi80 = ms->result->hi80[k - 1] + ms->bias;
        p.lo95 = ms->result->lo95[k - 1] + ms->bias;
        p.hi95 = ms->result->hi95[k - 1] + ms->bias;
        /* Every metric is a non-negative quantity. */
        p.mean = MAX(p.mean, 0);
        p.lo80 = MAX(p.lo80, 0);
        p.lo95 = MAX(p.lo95, 0);
        p.hi80 = MAX(p.hi80, p.mean);
        p.hi95 = MAX(p.hi95, p.hi80);
        g_array_append_val(v->points, p);
    }
    return v;
}
