/*
 * tests/unit/test-forecast.c: fc_forecast(), every model, on the series
 * that break forecasters: gaps, too short, constant, zeros, negative,
 * spikes, huge values; a pure seasonal signal is forecast near-exactly;
 * results are deterministic; never NaN or inf, intervals always ordered.
 */
#include <math.h>
#include <string.h>

#include "cutest.h"
#include "forecast/forecast.h"

#define H 48

/* Checks a result: finite, ordered intervals, horizon. */
static void
check_sane(const FcResult *r, const char *what)
{
    bool ok = r && r->h == H && r->method && *r->method;

    for (size_t i = 0; ok && i < H; i++) {
        ok = isfinite(r->mean[i]) && isfinite(r->lo80[i]) &&
             isfinite(r->hi80[i]) && isfinite(r->lo95[i]) &&
             isfinite(r->hi95[i]) && r->lo95[i] <= r->lo80[i] + 1e-9 &&
             r->lo80[i] <= r->mean[i] + 1e-9 &&
             r->mean[i] <= r->hi80[i] + 1e-9 && r->hi80[i] <= r->hi95[i] + 1e-9;
    }
    if (!ok) {
        fprintf(stderr, "  not sane: %s (%s)\n", what,
                r ? r->method : "no result");
    }
    CU_ASSERT_TRUE(ok);
}

static FcResult *
run(FcModel model, const double *y, size_t n, int p1, int p2)
{
    FcSeries s = {.y = y, .n = n, .periods = {p1, p2, 0}};
    g_autoptr(GError) err = NULL;
    FcResult *r = fc_forecast(model, &s, H, &err);

    if (!r) {
        fprintf(stderr, "  %s: %s\n", fc_model_to_string(model),
                err ? err->message : "?");
    }
    return r;
}

static double *
seasonal(size_t n, double level)
{
    double *y = g_new(double, n);

    for (size_t t = 0; t < n; t++) {
        y[t] = level + 10 * sin(2 * M_PI * (double) t / 24) +
               4 * cos(2 * M_PI * (double) t / 168);
    }
    return y;
}

static void
test_degenerate_series(void)
{
    const size_t n = 24 * 14;
    g_autofree double *constant = g_new(double, n);
    g_autofree double *zeros = g_new0(double, n);
    g_autofree double *negative = seasonal(n, -50);
    g_autofree double *gaps = seasonal(n, 100);
    g_autofree double *spike = seasonal(n, 100);
    g_autofree double *huge = seasonal(n, 100);
    g_autofree double *tiny = seasonal(n, 100);
    double five[5] = {1, 2, 3, 2, 1};
    double one[1] = {42};
    struct {
        const char *name;
        const double *y;
        size_t n;
    } cases[] = {
        {"constant", constant, n}, {"zeros", zeros, n},
        {"negative", negative, n}, {"30% gaps", gaps, n},
        {"spike", spike, n},       {"huge", huge, n},
        {"tiny", tiny, n},         {"five", five, 5},
        {"one", one, 1},           {"short", huge, 30},
    };

    for (size_t t = 0; t < n; t++) {
        constant[t] = 7.5;
        huge[t] *= 1e12;
        tiny[t] *= 1e-9;
        if ((t * 7) % 10 < 3) {
            gaps[t] = NAN;
        }
    }
    spike[n / 2] = 1e9;
    for (int m = 0; m < FC_MODEL_LAST; m++) {
        for (size_t c = 0; c < G_N_ELEMENTS(cases); c++) {
            g_autoptr(FcResult) r = run(m, cases[c].y, cases[c].n, 24, 168);
            g_autofree char *what = g_strdup_printf(
                "%s on %s", fc_model_to_string(m), cases[c].name);

            check_sane(r, what);
        }
    }
}

static void
test_constant_is_constant(void)
{
    double y[200];

    for (size_t t = 0; t < G_N_ELEMENTS(y); t++) {
        y[t] = 7.5;
    }
    for (int m = 0; m < FC_MODEL_LAST; m++) {
        g_autoptr(FcResult) r = run(m, y, G_N_ELEMENTS(y), 24, 0);

        CU_ASSERT_PTR_NOT_NULL_FATAL(r);
        for (size_t i = 0; i < H; i++) {
            CU_ASSERT_DOUBLE_EQUAL(r->mean[i], 7.5, 1e-6);
        }
    }
}

/* A pure signal of one period is forecast near-exactly by every model;
 * one of two periods (daily and weekly) by MSTL, the only model that
 * takes both (ARIMA takes the shorter, so the combination does not). */
static void
test_pure_seasonal_near_exact(void)
{
    const size_t n = 24 * 7 * 4;
    g_autofree double *one = g_new(double, n + H);
    g_autofree double *two = seasonal(n + H, 100);

    for (size_t t = 0; t < n + H; t++) {
        one[t] = 100 + 10 * sin(2 * M_PI * (double) t / 24);
    }
    for (int m = 0; m < FC_MODEL_LAST; m++) {
        g_autoptr(FcResult) r = run(m, one, n, 24, 0);
        double worst = 0;

        CU_ASSERT_PTR_NOT_NULL_FATAL(r);
        for (size_t i = 0; i < H; i++) {
            worst = MAX(worst, fabs(r->mean[i] - one[n + i]));
        }
        fprintf(stderr, "  one period, %s: worst error %.4f (%s)\n",
                fc_model_to_string(m), worst, r->method);
        CU_ASSERT_TRUE(worst < 0.1);
    }
    {
        g_autoptr(FcResult) r = run(FC_MODEL_MSTL, two, n, 24, 168);
        double worst = 0;

        CU_ASSERT_PTR_NOT_NULL_FATAL(r);
        for (size_t i = 0; i < H; i++) {
            worst = MAX(worst, fabs(r->mean[i] - two[n + i]));
        }
        fprintf(stderr, "  two periods, mstl: worst error %.4f (%s)\n", worst,
                r->method);
        CU_ASSERT_TRUE(worst < 0.1);
    }
}

static void
test_deterministic(void)
{
    g_autofree double *y = seasonal(24 * 21, 50);

    for (size_t t = 0; t < 24 * 21; t++) {
        y[t] += (double) ((t * 7919) % 13) - 6;
    }
    for (int m = 0; m < FC_MODEL_LAST; m++) {
        g_autoptr(FcResult) a = run(m, y, 24 * 21, 24, 168);
        g_autoptr(FcResult) b = run(m, y, 24 * 21, 24, 168);

        CU_ASSERT_PTR_NOT_NULL_FATAL(a);
        CU_ASSERT_PTR_NOT_NULL_FATAL(b);
        CU_ASSERT_STRING_EQUAL(a->method, b->method);
        CU_ASSERT_EQUAL(memcmp(a->mean, b->mean, H * sizeof(double)), 0);
        CU_ASSERT_EQUAL(memcmp(a->hi95, b->hi95, H * sizeof(double)), 0);
    }
}

static void
test_errors(void)
{
    double nans[10];
    FcSeries s = {.y = nans, .n = 10, .periods = {24}};
    FcSeries bad = {.y = nans, .n = 10, .periods = {1}};
    g_autoptr(GError) e1 = NULL;
    g_autoptr(GError) e2 = NULL;
    g_autoptr(GError) e3 = NULL;

    for (size_t i = 0; i < 10; i++) {
        nans[i] = NAN;
    }
    CU_ASSERT_PTR_NULL(fc_forecast(FC_MODEL_COMBO, &s, 5, &e1));
    CU_ASSERT_EQUAL(e1->code, FC_ERROR_EMPTY);
    nans[3] = 1;
    CU_ASSERT_PTR_NULL(fc_forecast(FC_MODEL_COMBO, &s, 0, &e2));
    CU_ASSERT_EQUAL(e2->code, FC_ERROR_INVALID);
    CU_ASSERT_PTR_NULL(fc_forecast(FC_MODEL_COMBO, &bad, 5, &e3));
    CU_ASSERT_EQUAL(e3->code, FC_ERROR_INVALID);
    CU_ASSERT_EQUAL(fc_model_from_string("combo"), FC_MODEL_COMBO);
    CU_ASSERT_EQUAL(fc_model_from_string("prophet"), -1);
}

static const CutestCase cases[] = {
    {"degenerate-series", test_degenerate_series},
    {"constant-is-constant", test_constant_is_constant},
    {"pure-seasonal-near-exact", test_pure_seasonal_near_exact},
    {"deterministic", test_deterministic},
    {"errors", test_errors},
};

CUTEST_MAIN("forecast", cases)
