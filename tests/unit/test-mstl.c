/*
 * tests/unit/test-mstl.c: STL and MSTL against R's stl() and mstl()
 * (fixtures in tests/data/forecast/mstl/, with the R calls that made
 * them), the stlf()-style forecast, and properties: both seasonal
 * components of a daily + weekly series are recovered, a pure seasonal
 * signal is forecast near-exactly, degenerate input neither crashes nor
 * yields NaN, and results are deterministic.
 */
#include <math.h>
#include <string.h>

#include "cutest.h"
#include "forecast/mstl.h"

#include "../data/forecast/mstl/fixtures.h"

/* Largest |a - b| over @n values. */
static double
max_diff(const double *a, const double *b, size_t n)
{
    double d = 0;

    for (size_t i = 0; i < n; i++) {
        d = fmax(d, fabs(a[i] - b[i]));
    }
    return d;
}

static bool
all_finite(const FcResult *r)
{
    for (size_t i = 0; i < r->h; i++) {
        if (!isfinite(r->mean[i]) || !isfinite(r->lo80[i]) ||
            !isfinite(r->hi80[i]) || !isfinite(r->lo95[i]) ||
            !isfinite(r->hi95[i])) {
            return false;
        }
    }
    return true;
}

/* The synthetic series of gen-fixtures.R (daily and weekly cycles). */
static double *
synth(size_t n)
{
    double *y = g_new(double, n);

    for (size_t i = 0; i < n; i++) {
        double t = (double) (i + 1);

        y[i] = 50 + 0.02 * t + 8 * sin(2 * M_PI * t / 24) +
               4 * sin(2 * M_PI * t / 168 + 1) + 1.5 * sin(0.37 * pow(t, 1.3));
    }
    return y;
}

/* Checks fc_stl() against an R decomposition of @y. */
static void
check_stl(const double *y, size_t n, int period, int s_window, bool robust,
          const double *r_seasonal, const double *r_trend, double tol)
{
    g_autofree double *s = g_new(double, n);
    g_autofree double *t = g_new(double, n);
    g_autofree double *r = g_new(double, n);

    CU_ASSERT_TRUE_FATAL(fc_stl(y, n, period, s_window, robust, s, t, r, NULL));
    CU_ASSERT(max_diff(s, r_seasonal, n) < tol);
    CU_ASSERT(max_diff(t, r_trend, n) < tol);
    for (size_t i = 0; i < n; i++) {
        CU_ASSERT_DOUBLE_EQUAL(s[i] + t[i] + r[i], y[i], 1e-9 * fabs(y[i]));
    }
}

static void
test_stl_nottem(void)
{
    size_t n = G_N_ELEMENTS(nottem_y);

    check_stl(nottem_y, n, 12, 7, false, nottem_sw7_seasonal, nottem_sw7_trend,
              1e-9);
    check_stl(nottem_y, n, 12, 0, false, nottem_per_seasonal, nottem_per_trend,
              1e-9);
}

/* Robust STL: umbra takes the exact median of |R| where R's partial sort
 * may not, so this fixture is one where the two agree. */
static void
test_stl_robust(void)
{
    check_stl(usacc_y, G_N_ELEMENTS(usacc_y), 12, 7, true, usacc_rob_seasonal,
              usacc_rob_trend, 1e-6);
}

static void
test_stl_errors(void)
{
    double y[48] = {0};
    double s[48], t[48], r[48];
    GError *err = NULL;

    CU_ASSERT_FALSE(fc_stl(y, 48, 1, 7, false, s, t, r, &err));
    CU_ASSERT_TRUE(g_error_matches(err, FC_ERROR, FC_ERROR_INVALID));
    g_clear_error(&err);
    CU_ASSERT_FALSE(fc_stl(y, 47, 24, 7, false, s, t, r, &err));
    CU_ASSERT_TRUE(g_error_matches(err, FC_ERROR, FC_ERROR_SHORT));
    g_clear_error(&err);
    y[5] = NAN;
    s[0] = 42;
    CU_ASSERT_FALSE(fc_stl(y, 48, 24, 7, false, s, t, r, &err));
    CU_ASSERT_TRUE(g_error_matches(err, FC_ERROR, FC_ERROR_INVALID));
    CU_ASSERT_EQUAL(s[0], 42); /* outputs untouched on failure */
    g_clear_error(&err);
    /* Exactly two cycles is enough. */
    y[5] = 1;
    CU_ASSERT_TRUE(fc_stl(y, 48, 24, 7, true, s, t, r, NULL));
}

/* Constant and huge series: S = 0, T = the level, R = 0, all finite. */
static void
test_stl_degenerate(void)
{
    double levels[] = {0, 3.5, 1e12, -1e12};

    for (size_t k = 0; k < G_N_ELEMENTS(levels); k++) {
        double y[100], s[100], t[100], r[100];

        for (size_t i = 0; i < 100; i++) {
            y[i] = levels[k];
        }
        for (int robust = 0; robust < 2; robust++) {
            CU_ASSERT_TRUE_FATAL(fc_stl(y, 100, 7, 11, robust, s, t, r, NULL));
            for (size_t i = 0; i < 100; i++) {
                CU_ASSERT(fabs(s[i]) <= 1e-9 * fmax(1, fabs(levels[k])));
                CU_ASSERT(fabs(t[i] - levels[k]) <=
                          1e-9 * fmax(1, fabs(levels[k])));
                CU_ASSERT(isfinite(r[i]));
            }
        }
    }
}

/* A pure periodic signal with a "periodic" seasonal is split exactly. */
static void
test_stl_pure_periodic(void)
{
    size_t n = 24 * 10;
    g_autofree double *y = g_new(double, n);
    g_autofree double *s = g_new(double, n);
    g_autofree double *t = g_new(double, n);
    g_autofree double *r = g_new(double, n);
    double mean = 0;

    for (size_t i = 0; i < n; i++) {
        y[i] = 20 + 5 * sin(2 * M_PI * (double) i / 24) + (i % 24 == 3 ? 7 : 0);
        mean += y[i] / (double) n;
    }
    CU_ASSERT_TRUE_FATAL(fc_stl(y, n, 24, 0, false, s, t, r, NULL));
    for (size_t i = 0; i < n; i++) {
        CU_ASSERT_DOUBLE_EQUAL(t[i], mean, 1e-6);
        CU_ASSERT_DOUBLE_EQUAL(s[i], y[i] - mean, 1e-6);
    }
}

static void
test_mstl_fixture(void)
{
    size_t n = G_N_ELEMENTS(synth_trend);
    g_autofree double *y = synth(n);
    g_autofree double *s24 = g_new(double, n);
    g_autofree double *s168 = g_new(double, n);
    g_autofree double *t = g_new(double, n);
    g_autofree double *r = g_new(double, n);
    double *seas[2] = {s24, s168};
    double *seas_rev[2] = {s168, s24};
    int periods[2] = {24, 168};
    int periods_rev[2] = {168, 24};
    size_t used = 0;

    CU_ASSERT_TRUE_FATAL(fc_mstl(y, n, periods, 2, seas, t, r, &used, NULL));
    CU_ASSERT_EQUAL(used, 2);
    CU_ASSERT(max_diff(s24, synth_s24, n) < 1e-8);
    CU_ASSERT(max_diff(s168, synth_s168, n) < 1e-8);
    CU_ASSERT(max_diff(t, synth_trend, n) < 1e-8);
    for (size_t i = 0; i < n; i++) {
        CU_ASSERT_DOUBLE_EQUAL(s24[i] + s168[i] + t[i] + r[i], y[i], 1e-9);
    }
    /* Unsorted periods: same decomposition, in the caller's order. */
    memset(s24, 0, n * sizeof(double));
    CU_ASSERT_TRUE_FATAL(
        fc_mstl(y, n, periods_rev, 2, seas_rev, t, r, &used, NULL));
    CU_ASSERT(max_diff(s24, synth_s24, n) < 1e-8);
    CU_ASSERT(max_diff(s168, synth_s168, n) < 1e-8);
}

/* Amplitude of the sinusoid of period @p and phase @phi in @s. */
static double
amplitude(const double *s, size_t from, size_t n, int p, double phi)
{
    double a = 0;

    for (size_t i = from; i < n; i++) {
        a += s[i] * sin(2 * M_PI * (double) i / p + phi);
    }
    return 2 * a / (double) (n - from);
}

/* Daily (amplitude 10) and weekly (amplitude 20) cycles over a trend and
 * deterministic noise: MSTL recovers both amplitudes within a few %. */
static void
test_mstl_recovers(void)
{
    size_t n = 168 * 6;
    g_autofree double *y = g_new(double, n);
    g_autofree double *s24 = g_new(double, n);
    g_autofree double *s168 = g_new(double, n);
    g_autofree double *t = g_new(double, n);
    g_autofree double *r = g_new(double, n);
    double *seas[2] = {s24, s168};
    int periods[2] = {24, 168};
    g_autoptr(GRand) rng = g_rand_new_with_seed(7);
    double a24, a168, cross;

    for (size_t i = 0; i < n; i++) {
        y[i] = 100 + 0.05 * (double) i + 10 * sin(2 * M_PI * (double) i / 24) +
               20 * sin(2 * M_PI * (double) i / 168 + 0.5) +
               g_rand_double_range(rng, -1, 1);
    }
    CU_ASSERT_TRUE_FATAL(fc_mstl(y, n, periods, 2, seas, t, r, NULL, NULL));
    a24 = amplitude(s24, 0, n, 24, 0);
    a168 = amplitude(s168, 0, n, 168, 0.5);
    cross = amplitude(s24, 0, n, 168, 0.5);
    CU_ASSERT_DOUBLE_EQUAL(a24, 10, 0.3);
    CU_ASSERT_DOUBLE_EQUAL(a168, 20, 0.6);
    CU_ASSERT(fabs(cross) < 0.6);
    /* The trend stays near the true line. */
    for (size_t i = 168; i < n - 168; i++) {
        CU_ASSERT(fabs(t[i] - (100 + 0.05 * (double) i)) < 2);
    }
}

static void
test_mstl_dropped(void)
{
    size_t n = 700;
    g_autofree double *y = synth(n);
    g_autofree double *s1 = g_new(double, n);
    g_autofree double *s2 = g_new(double, n);
    g_autofree double *t = g_new(double, n);
    g_autofree double *r = g_new(double, n);
    double *seas[2] = {s1, s2};
    int periods[2] = {24, 350};
    int tiny[2] = {1, 400};
    size_t used = 99;
    GError *err = NULL;

    /* n = 2 * 350: R's mstl() drops the period (it needs n > 2 p). */
    CU_ASSERT_TRUE_FATAL(fc_mstl(y, n, periods, 2, seas, t, r, &used, NULL));
    CU_ASSERT_EQUAL(used, 1);
    for (size_t i = 0; i < n; i++) {
        CU_ASSERT_EQUAL(s2[i], 0);
    }
    CU_ASSERT_FALSE(fc_mstl(y, n, tiny, 2, seas, t, r, &used, &err));
    CU_ASSERT_TRUE(g_error_matches(err, FC_ERROR, FC_ERROR_SHORT));
    g_clear_error(&err);
}

/* Compares a forecast with R's within @rel of the series' scale. */
static void
check_forecast(const FcResult *fc, const double *mean, const double *lo95,
               const double *hi95, double scale, double rel)
{
    CU_ASSERT(max_diff(fc->mean, mean, fc->h) < rel * scale);
    CU_ASSERT(max_diff(fc->lo95, lo95, fc->h) < 2 * rel * scale);
    CU_ASSERT(max_diff(fc->hi95, hi95, fc->h) < 2 * rel * scale);
}

static void
test_forecast_vs_r(void)
{
    size_t n = G_N_ELEMENTS(synth_trend);
    g_autofree double *y = synth(n);
    int periods[2] = {24, 168};
    g_autoptr(FcResult) fc2 = NULL;
    g_autoptr(FcResult) fc1 = NULL;

    fc2 = fc_mstl_forecast(y, n, periods, 2, 48, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(fc2);
    CU_ASSERT_EQUAL(fc2->h, 48);
    CU_ASSERT_TRUE(g_str_has_prefix(fc2->method, "MSTL(24,168)+ETS("));
    /* Looser here: umbra's ETS finds a better optimum on this adjusted
     * series (ETS(A,A,N), AICc 2144.9) than R's (ETS(A,Ad,N), 2152.7). */
    check_forecast(fc2, synth_fc2_mean, synth_fc2_lo95, synth_fc2_hi95, 10,
                   0.1);
    fc1 = fc_mstl_forecast(y, n, periods, 1, 48, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(fc1);
    CU_ASSERT_TRUE(g_str_has_prefix(fc1->method, "MSTL(24)+ETS("));
    check_forecast(fc1, synth_fc1_mean, synth_fc1_lo95, synth_fc1_hi95, 10,
                   0.03);
}

/* A pure daily + weekly signal is forecast near-exactly. */
static void
test_forecast_pure_seasonal(void)
{
    size_t n = 168 * 4, h = 48;
    g_autofree double *y = g_new(double, n + h);
    int periods[2] = {24, 168};
    g_autoptr(FcResult) fc = NULL;

    for (size_t i = 0; i < n + h; i++) {
        y[i] = 50 + 5 * sin(2 * M_PI * (double) i / 24) +
               3 * cos(2 * M_PI * (double) i / 168);
    }
    fc = fc_mstl_forecast(y, n, periods, 2, h, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(fc);
    CU_ASSERT(all_finite(fc));
    CU_ASSERT(max_diff(fc->mean, y + n, h) < 0.05);
    for (size_t i = 0; i < h; i++) {
        CU_ASSERT(fc->lo95[i] <= fc->lo80[i] + 1e-9);
        CU_ASSERT(fc->lo80[i] <= fc->mean[i] + 1e-9);
        CU_ASSERT(fc->mean[i] <= fc->hi80[i] + 1e-9);
        CU_ASSERT(fc->hi80[i] <= fc->hi95[i] + 1e-9);
    }
}

/* Constant, zero, huge, short and tiny series: a finite forecast or a
 * clear error, never a crash. */
static void
test_forecast_degenerate(void)
{
    size_t n = 400;
    g_autofree double *y = g_new(double, n);
    int periods[2] = {24, 168};
    double levels[] = {0, 7, 1e12};
    GError *err = NULL;

    for (size_t k = 0; k < G_N_ELEMENTS(levels); k++) {
        for (size_t i = 0; i < n; i++) {
            y[i] = levels[k];
        }
        for (size_t len = 1; len <= n; len = len * 3 + 1) {
            FcResult *fc = fc_mstl_forecast(y, len, periods, 2, 24, &err);

            if (fc) {
                CU_ASSERT(all_finite(fc));
                CU_ASSERT(fabs(fc->mean[0] - levels[k]) <=
                          1e-6 * fmax(1, levels[k]));
                fc_result_free(fc);
            } else {
                CU_ASSERT_PTR_NOT_NULL(err);
                g_clear_error(&err);
            }
        }
    }
    /* Huge values with a cycle. */
    for (size_t i = 0; i < n; i++) {
        y[i] = 1e12 * (2 + sin(2 * M_PI * (double) i / 24));
    }
    {
        g_autoptr(FcResult) fc = fc_mstl_forecast(y, n, periods, 2, 24, NULL);

        CU_ASSERT_PTR_NOT_NULL_FATAL(fc);
        CU_ASSERT(all_finite(fc));
        CU_ASSERT(fabs(fc->mean[0] / y[n - 24] - 1) < 0.01);
    }
    /* Short for every period: ETS on the series itself. */
    {
        g_autoptr(FcResult) fc = fc_mstl_forecast(y, 40, periods, 2, 5, NULL);

        CU_ASSERT_PTR_NOT_NULL_FATAL(fc);
        CU_ASSERT(all_finite(fc));
        CU_ASSERT_TRUE(g_str_has_prefix(fc->method, "MSTL()+"));
    }
    y[3] = NAN;
    CU_ASSERT_PTR_NULL(fc_mstl_forecast(y, n, periods, 2, 24, &err));
    CU_ASSERT_TRUE(g_error_matches(err, FC_ERROR, FC_ERROR_INVALID));
    g_clear_error(&err);
    y[3] = 1;
    CU_ASSERT_PTR_NULL(fc_mstl_forecast(y, n, periods, 2, 0, &err));
    CU_ASSERT_TRUE(g_error_matches(err, FC_ERROR, FC_ERROR_INVALID));
    g_clear_error(&err);
}

static void
test_deterministic(void)
{
    size_t n = 700;
    g_autofree double *y = synth(n);
    int periods[2] = {24, 168};
    g_autoptr(FcResult) a = fc_mstl_forecast(y, n, periods, 2, 48, NULL);
    g_autoptr(FcResult) b = fc_mstl_forecast(y, n, periods, 2, 48, NULL);

    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    CU_ASSERT_EQUAL(memcmp(a->mean, b->mean, 48 * sizeof(double)), 0);
    CU_ASSERT_EQUAL(memcmp(a->lo95, b->lo95, 48 * sizeof(double)), 0);
    CU_ASSERT_EQUAL(memcmp(a->hi80, b->hi80, 48 * sizeof(double)), 0);
    CU_ASSERT_STRING_EQUAL(a->method, b->method);
}

static void
test_box_cox_lambda(void)
{
    double y[48];

    CU_ASSERT_DOUBLE_EQUAL(
        fc_box_cox_lambda(airpass_y, G_N_ELEMENTS(airpass_y), 12, -1, 2),
        AIRPASS_LAMBDA, 1e-3);
    CU_ASSERT_DOUBLE_EQUAL(
        fc_box_cox_lambda(nottem_y, G_N_ELEMENTS(nottem_y), 12, 0, 1),
        NOTTEM_LAMBDA, 1e-3);
    /* Degenerate: too short, non-positive, constant. */
    for (size_t i = 0; i < 48; i++) {
        y[i] = 5;
    }
    CU_ASSERT_EQUAL(fc_box_cox_lambda(y, 30, 24, 0, 1), 1);
    {
        double l = fc_box_cox_lambda(y, 48, 24, 0, 1);

        CU_ASSERT(l >= 0 && l <= 1);
    }
    y[7] = 0;
    CU_ASSERT_EQUAL(fc_box_cox_lambda(y, 48, 24, 0, 1), 1);
}

/* The tuned options: Box-Cox, restricted trends, wider intervals. */
static void
test_forecast_options(void)
{
    size_t n = 700;
    g_autofree double *y = synth(n);
    int periods[2] = {24, 168};
    FcMstlOptions o;
    g_autoptr(FcResult) plain = NULL;
    g_autoptr(FcResult) wide = NULL;
    g_autoptr(FcResult) boxcox = NULL;
    g_autoptr(FcResult) flat = NULL;

    fc_mstl_options_init(&o);
    plain = fc_mstl_forecast_ex(y, n, periods, 2, 48, &o, NULL);
    o.seas_var = true;
    wide = fc_mstl_forecast_ex(y, n, periods, 2, 48, &o, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(plain);
    CU_ASSERT_PTR_NOT_NULL_FATAL(wide);
    for (size_t i = 0; i < 48; i++) {
        CU_ASSERT_EQUAL(plain->mean[i], wide->mean[i]);
        CU_ASSERT(wide->lo95[i] <= plain->lo95[i]);
        CU_ASSERT(wide->hi95[i] >= plain->hi95[i]);
        CU_ASSERT(wide->lo80[i] <= plain->lo80[i]);
    }
    o.lambda_auto = true;
    o.s_window[0] = 9;
    boxcox = fc_mstl_forecast_ex(y, n, periods, 2, 48, &o, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(boxcox);
    CU_ASSERT(all_finite(boxcox));
    CU_ASSERT(max_diff(boxcox->mean, plain->mean, 48) < 3);
    o.trend = FC_MSTL_TREND_NONE;
    flat = fc_mstl_forecast_ex(y, n, periods, 2, 48, &o, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(flat);
    CU_ASSERT_PTR_NOT_NULL(strstr(flat->method, ",N,N)"));
    /* A Box-Cox transform is skipped for a series with a zero. */
    y[10] = 0;
    {
        g_autoptr(FcResult) a = NULL;
        g_autoptr(FcResult) b = NULL;

        fc_mstl_options_init(&o);
        a = fc_mstl_forecast_ex(y, n, periods, 2, 48, &o, NULL);
        o.lambda = 0;
        b = fc_mstl_forecast_ex(y, n, periods, 2, 48, &o, NULL);
        CU_ASSERT_PTR_NOT_NULL_FATAL(a);
        CU_ASSERT_PTR_NOT_NULL_FATAL(b);
        CU_ASSERT_EQUAL(memcmp(a->mean, b->mean, 48 * sizeof(double)), 0);
    }
}

static const CutestCase cases[] = {
    {"stl_nottem", test_stl_nottem},
    {"stl_robust", test_stl_robust},
    {"stl_errors", test_stl_errors},
    {"stl_degenerate", test_stl_degenerate},
    {"stl_pure_periodic", test_stl_pure_periodic},
    {"mstl_fixture", test_mstl_fixture},
    {"mstl_recovers", test_mstl_recovers},
    {"mstl_dropped", test_mstl_dropped},
    {"forecast_vs_r", test_forecast_vs_r},
    {"forecast_pure_seasonal", test_forecast_pure_seasonal},
    {"forecast_degenerate", test_forecast_degenerate},
    {"deterministic", test_deterministic},
    {"box_cox_lambda", test_box_cox_lambda},
    {"forecast_options", test_forecast_options},
};

CUTEST_MAIN("mstl", cases)
