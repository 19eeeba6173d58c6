/*
 * tests/unit/test-forecaster.c: umbrad's forecaster on a real SQLite
 * store filled with three days of one-minute samples following a daily
 * cycle: the fit runs in the worker thread, the forecast at 5 min, 15 min
 * and 1 h follows the cycle, the intervals hold the truth, and the cheap
 * update moves the level after a shift without a refit; grid steps whose
 * mean leaves the forecast's band bring the refit forward, and only then.
 */
#include <math.h>
#include <string.h>

#include "cutest.h"
#include "engine/forecaster.h"
#include "util/clock.h"

#define UUID "11111111-2222-3333-4444-555555555555"
#define T0 (G_GINT64_CONSTANT(1700006400) * UTIL_USEC_PER_SEC)
#define MINUTE (60 * UTIL_USEC_PER_SEC)
#define DAYS 3

/* The truth: CPU % with a daily cycle and a little deterministic noise. */
static double
truth(int64_t t_us)
{
    double day = (double) (t_us - T0) / (86400.0 * UTIL_USEC_PER_SEC);

    return 40 + 25 * sin(2 * M_PI * day);
}

static double
noise(int64_t k)
{
    return ((double) ((k * 7919) % 101) - 50) / 50.0; /* in [-1, 1] */
}

static DomSample *
sample_at(int64_t t, double cpu)
{
    DomSample *s = dom_sample_new();

    s->uuid = g_strdup(UUID);
    s->name = g_strdup("web1");
    s->host = g_strdup("h1");
    s->cell = g_strdup("a");
    s->wall_us = t;
    s->state = DOM_STATE_RUNNING;
    s->vcpus = 1;
    s->cpu_pct = cpu;
    s->mem_used_kib = 100000;
    s->mem_max_kib = 131072;
    s->blk_rd_bps = s->blk_wr_bps = 4096;
    s->net_rx_bps = s->net_tx_bps = 100;
    return s;
}

/* A store in @dir with @n one-minute samples from T0: CPU following the
 * daily cycle (@cycle) or flat at 20 %, with the noise. */
static TsdbStore *
store_filled(const char *dir, int64_t n, bool cycle)
{
    g_autofree char *db = g_build_filename(dir, "umbra.db", NULL);
    TsdbStore *store = tsdb_store_open(db, NULL);

    CU_ASSERT_PTR_NOT_NULL_FATAL(store);
    tsdb_store_begin(store, NULL);
    for (int64_t k = 0; k < n; k++) {
        int64_t t = T0 + k * MINUTE;
        g_autoptr(DomSample) s =
            sample_at(t, (cycle ? truth(t) : 20) + noise(k));

        CU_ASSERT_TRUE_FATAL(tsdb_store_add_dom_sample(store, s, NULL));
    }
    CU_ASSERT_TRUE_FATAL(tsdb_store_commit(store, NULL));
    return store;
}

static void
test_forecast_follows_cycle(void)
{
    g_autofree char *dir = cutest_tmpdir();
    int64_t n = DAYS * 1440;
    g_autoptr(TsdbStore) store = store_filled(dir, n, true);
    g_autoptr(Forecaster) f = NULL;
    g_autoptr(ForecastView) v = NULL;
    g_autoptr(ForecastView) v2 = NULL;
    int64_t horizons[] = {300, 900, 3600};
    int64_t now = T0 + n * MINUTE;
    int covered = 0;

    util_clock_set_fake(1, now);
    f = forecaster_new(store, 900, FORECASTER_STEP_S, fc_default_model());
    CU_ASSERT_PTR_NULL(forecaster_get(f, UUID, FC_METRIC_CPU, now, horizons,
                                      3)); /* none yet: requests a fit */
    forecaster_drain(f);
    v = forecaster_get(f, UUID, FC_METRIC_CPU, now, horizons, 3);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    CU_ASSERT_EQUAL_FATAL(v->points->len, 3);
    CU_ASSERT_EQUAL(v->nobs, (size_t) n);
    for (guint i = 0; i < v->points->len; i++) {
        ForecastPoint *p = &g_array_index(v->points, ForecastPoint, i);
        double want = truth(p->time);

        fprintf(stderr,
                "  h=%" G_GINT64_FORMAT "s forecast %.2f truth %.2f "
                "95%% [%.2f, %.2f] (%s)\n",
                p->horizon_s, p->mean, want, p->lo95, p->hi95, v->method);
        CU_ASSERT_TRUE(fabs(p->mean - want) < 4.0);
        CU_ASSERT_TRUE(p->lo95 <= p->lo80 && p->lo80 <= p->mean &&
                       p->mean <= p->hi80 && p->hi80 <= p->hi95);
        covered += want >= p->lo95 && want <= p->hi95;
    }
    CU_ASSERT_EQUAL(covered, 3);
    /* Memory is constant: its forecast is that constant. */
    v2 = forecaster_get(f, UUID, FC_METRIC_MEM, now, horizons, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v2);
    CU_ASSERT_DOUBLE_EQUAL(g_array_index(v2->points, ForecastPoint, 0).mean,
                           100000, 1.0);

    /* A level shift of +20 after the fit: the cheap update follows it. */
    for (int k = 1; k <= 10; k++) {
        int64_t t = now + k * MINUTE;
        g_autoptr(DomSample) s = sample_at(t, truth(t) + 20);

        forecaster_observe(f, s);
    }
    {
        g_autoptr(ForecastView) v3 = forecaster_get(
            f, UUID, FC_METRIC_CPU, now + 10 * MINUTE, horizons, 1);
        ForecastPoint *p;

        CU_ASSERT_PTR_NOT_NULL_FATAL(v3);
        p = &g_array_index(v3->points, ForecastPoint, 0);
        CU_ASSERT_TRUE(v3->bias > 15);
        CU_ASSERT_TRUE(fabs(p->mean - (truth(p->time) + 20)) < 5.0);
    }
    util_clock_clear_fake();
    cutest_rmdir(dir);
}

/* Feeds grid step @j after @now (one minute each): two CPU samples,
 * @cpu - 1 and @cpu + 1, whose mean is @cpu. */
static void
observe_step(Forecaster *f, int64_t now, int64_t j, double cpu)
{
    for (int i = 0; i < 2; i++) {
        g_autoptr(DomSample) s =
            sample_at(now + j * MINUTE + (10 + 30 * i) * UTIL_USEC_PER_SEC,
                      cpu + (i ? 1 : -1));

        forecaster_observe(f, s);
    }
}

static void
test_surprise_refit(void)
{
    g_autofree char *dir = cutest_tmpdir();
    int64_t n = 6 * 60; /* six hours, flat at 20 % */
    g_autoptr(TsdbStore) store = store_filled(dir, n, false);
    g_autoptr(Forecaster) f = NULL;
    g_autoptr(ForecastView) v = NULL;
    g_autoptr(ForecastView) v2 = NULL;
    int64_t horizons[] = {300};
    int64_t now = T0 + n * MINUTE;
    int64_t due = now + 3600 * UTIL_USEC_PER_SEC / 4;
    const double steps[] = {20, 20, 20, 30, 20, 30, 10, 30, 30};

    util_clock_set_fake(1, now);
    f = forecaster_new(store, 3600, FORECASTER_STEP_S, fc_default_model());
    forecaster_request(f, UUID);
    forecaster_drain(f);
    v = forecaster_get(f, UUID, FC_METRIC_CPU, now, horizons, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    CU_ASSERT_FALSE(v->early);
    CU_ASSERT_EQUAL(v->fitted_at, now);
    /* Steps inside the band, one out, out on alternating sides, and the
     * last two above it (a step is judged once the next one begins): no
     * surprise yet. */
    for (guint j = 0; j < G_N_ELEMENTS(steps); j++) {
        observe_step(f, now, j, steps[j]);
    }
    CU_ASSERT_EQUAL(forecaster_early_refits(f), 0);
    /* The next step begins: two steps in a row above it, a surprise. */
    observe_step(f, now, 9, 30);
    CU_ASSERT_EQUAL(forecaster_early_refits(f), 1);
    observe_step(f, now, 10, 30); /* already brought forward */
    CU_ASSERT_EQUAL(forecaster_early_refits(f), 1);
    /* Not before a quarter of the refit period after the fit... */
    forecaster_tick(f, due - 1);
    forecaster_drain(f);
    v2 = forecaster_get(f, UUID, FC_METRIC_CPU, due, horizons, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v2);
    CU_ASSERT_EQUAL(v2->fitted_at, now);
    g_clear_pointer(&v2, forecast_view_free);
    /* ...but then, long before the schedule (now + 3600 s). */
    forecaster_tick(f, due);
    forecaster_drain(f);
    v2 = forecaster_get(f, UUID, FC_METRIC_CPU, due, horizons, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v2);
    CU_ASSERT_EQUAL(v2->fitted_at, due);
    CU_ASSERT_TRUE(v2->early);
    /* The new fit starts its own count: one step judged so far. */
    observe_step(f, now, 16, 30);
    observe_step(f, now, 17, 30);
    CU_ASSERT_EQUAL(forecaster_early_refits(f), 1);
    util_clock_clear_fake();
    cutest_rmdir(dir);
}

static void
test_tick_interval(void)
{
    g_autoptr(Forecaster) a = forecaster_new(NULL, 900, 60, FC_MODEL_ETS);
    g_autoptr(Forecaster) b = forecaster_new(NULL, 20, 10, FC_MODEL_ETS);
    g_autoptr(Forecaster) c = forecaster_new(NULL, 10, 60, FC_MODEL_ETS);

    CU_ASSERT_EQUAL(forecaster_tick_interval(a), 30);
    CU_ASSERT_EQUAL(forecaster_tick_interval(b), 5);
    CU_ASSERT_EQUAL(forecaster_tick_interval(c), 5);
}

static void
test_grid(void)
{
    g_autoptr(GPtrArray) hist =
        g_ptr_array_new_with_free_func((GDestroyNotify) dom_sample_free);
    g_autoptr(GArray) g = NULL;
    int64_t origin = 0;

    /* Two samples in minute 0, none in minute 1, one in minute 2. */
    g_ptr_array_add(hist, sample_at(T0 + 10 * UTIL_USEC_PER_SEC, 10));
    g_ptr_array_add(hist, sample_at(T0 + 50 * UTIL_USEC_PER_SEC, 20));
    g_ptr_array_add(hist, sample_at(T0 + 2 * MINUTE + 5, NAN));
    g_ptr_array_add(hist, sample_at(T0 + 2 * MINUTE + 9, 30));
    g = forecaster_grid(hist, FC_METRIC_CPU, MINUTE, &origin);
    CU_ASSERT_EQUAL_FATAL(g->len, 3);
    CU_ASSERT_DOUBLE_EQUAL(g_array_index(g, double, 0), 15, 1e-9);
    CU_ASSERT_TRUE(isnan(g_array_index(g, double, 1)));
    CU_ASSERT_DOUBLE_EQUAL(g_array_index(g, double, 2), 30, 1e-9);
    CU_ASSERT_EQUAL(origin, T0 + 2 * MINUTE);
}

static void
test_metric_names(void)
{
    for (int i = 0; i < FC_METRIC_LAST; i++) {
        CU_ASSERT_EQUAL(fc_metric_from_string(fc_metric_to_string(i)), i);
    }
    CU_ASSERT_EQUAL(fc_metric_from_string("gpu"), -1);
}

static const CutestCase cases[] = {
    {"forecast-follows-cycle", test_forecast_follows_cycle},
    {"surprise-refit", test_surprise_refit},
    {"tick-interval", test_tick_interval},
    {"grid", test_grid},
    {"metric-names", test_metric_names},
};

CUTEST_MAIN("forecaster", cases)
