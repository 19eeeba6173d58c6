/*
 * tests/unit/test-arima.c: the ARIMA module against R's forecast package
 * (fixtures in tests/data/forecast/arima/, with the R calls that made
 * them), on simulated series with known structure, and on the
 * robustness cases: constant, zero, short, huge and invalid input,
 * determinism.
 */
#include "forecast/arima.h"

#include <math.h>

#include "cutest.h"
#include "../data/forecast/arima/fixtures.h"

#define H 12

/* Asserts |a - b| <= tol with a message naming @what. */
#define CHECK_NEAR(a, b, tol, what)                                            \
    do {                                                                       \
        double a_ = (a), b_ = (b);                                             \
        if (!(fabs(a_ - b_) <= (tol))) {                                       \
            fprintf(stderr, "%s: %.10g vs %.10g (tol %.3g)\n", (what), a_, b_, \
                    (double) (tol));                                           \
        }                                                                      \
        CU_ASSERT(fabs(a_ - b_) <= (tol));                                     \
    } while (0)

/* Returns: true if every value of @r is finite and the intervals nest. */
static bool
result_sane(const FcResult *r, size_t h)
{
    for (size_t i = 0; i < h; i++) {
        if (!isfinite(r->mean[i]) || !isfinite(r->lo80[i]) ||
            !isfinite(r->hi80[i]) || !isfinite(r->lo95[i]) ||
            !isfinite(r->hi95[i])) {
            return false;
        }
        if (!(r->lo95[i] <= r->lo80[i] && r->lo80[i] <= r->mean[i] &&
              r->mean[i] <= r->hi80[i] && r->hi80[i] <= r->hi95[i])) {
            return false;
        }
    }
    return true;
}

static FcResult *
forecast_or_fail(const FcArimaModel *mod, size_t h)
{
    g_autoptr(GError) err = NULL;
    FcResult *r = fc_result_new(h);

    CU_ASSERT_FATAL(fc_arima_forecast(mod, h, r, &err));
    CU_ASSERT(err == NULL);
    CU_ASSERT(result_sane(r, h));
    return r;
}

/* Fixed orders: coefficients, sigma^2, likelihood, AICc and forecasts as
 * R's Arima()/forecast() give them. */
static void
test_arima_fixture_fits(void)
{
    for (size_t k = 0; k < G_N_ELEMENTS(arima_fits); k++) {
        const ArimaFitFixture *f = &arima_fits[k];
        FcArimaOrder o = {f->p, f->d, f->q, f->P,
                          f->D, f->Q, f->m, f->constant != 0};
        g_autoptr(GError) err = NULL;
        g_autoptr(FcArimaModel) mod = fc_arima_fit(f->y, f->n, &o, &err);
        g_autoptr(FcResult) r = NULL;
        g_autofree char *what = NULL;
        const double *coef;
        size_t nc;
        double scale = 0;

        CU_ASSERT_FATAL(mod != NULL);
        coef = fc_arima_coef(mod, &nc);
        CU_ASSERT_EQUAL(nc, (size_t) f->ncoef);
        for (size_t i = 0; i < nc && i < (size_t) f->ncoef; i++) {
            what = g_strdup_printf("%s coef %zu", f->call, i);
            CHECK_NEAR(coef[i], f->coef[i], 2e-3 * MAX(1, fabs(f->coef[i])),
                       what);
            g_clear_pointer(&what, g_free);
        }
        /* R's sigma^2 also sums the tiny residuals of its diffuse start
         * (differenced models), a relative 0.2 % at most here. */
        what = g_strdup_printf("%s sigma2", f->call);
        CHECK_NEAR(fc_arima_sigma2(mod), f->sigma2, 3e-3 * f->sigma2, what);
        g_clear_pointer(&what, g_free);
        what = g_strdup_printf("%s loglik", f->call);
        CHECK_NEAR(fc_arima_loglik(mod), f->loglik, 0.02, what);
        g_clear_pointer(&what, g_free);
        what = g_strdup_printf("%s aicc", f->call);
        CHECK_NEAR(fc_arima_aicc(mod), f->aicc, 0.05, what);
        g_clear_pointer(&what, g_free);

        r = forecast_or_fail(mod, H);
        for (size_t i = 0; i < H; i++) {
            scale = MAX(scale, f->hi95[i] - f->lo95[i]);
        }
        for (size_t i = 0; i < H; i++) {
            what = g_strdup_printf("%s forecast %zu", f->call, i);
            CHECK_NEAR(r->mean[i], f->mean[i], 2e-3 * scale, what);
            CHECK_NEAR(r->lo80[i], f->lo80[i], 4e-3 * scale, what);
            CHECK_NEAR(r->hi80[i], f->hi80[i], 4e-3 * scale, what);
            CHECK_NEAR(r->lo95[i], f->lo95[i], 4e-3 * scale, what);
            CHECK_NEAR(r->hi95[i], f->hi95[i], 4e-3 * scale, what);
            g_clear_pointer(&what, g_free);
        }
    }
}

/* The exact likelihood at fixed coefficients (the Kalman filter, its
 * stationary start and the Chandrasekhar recursions), to 1e-7. */
static void
test_arima_fixture_loglik(void)
{
    for (size_t k = 0; k < G_N_ELEMENTS(arima_logliks); k++) {
        const ArimaLoglikFixture *f = &arima_logliks[k];
        FcArimaOrder o = {f->p, f->d, f->q, f->P,
                          f->D, f->Q, f->m, f->constant != 0};
        g_autoptr(GError) err = NULL;
        double ll = fc_arima_loglik_at(f->y, f->n, &o, f->coef, &err);

        CU_ASSERT(err == NULL);
        CHECK_NEAR(ll, f->loglik, 1e-7 * fabs(f->loglik), f->call);
    }
    /* A non-stationary AR operator has no stationary likelihood. */
    {
        g_autoptr(GError) err = NULL;
        FcArimaOrder o = {1, 0, 0, 0, 0, 0, 1, false};
        double bad = 1.5;

        CU_ASSERT(isnan(fc_arima_loglik_at(lh_y, 48, &o, &bad, &err)));
        CU_ASSERT(g_error_matches(err, FC_ERROR, FC_ERROR_NUMERIC));
    }
}

/* auto.arima(): the same differences, and the same model or one at
 * least as good by AICc. */
static void
test_arima_fixture_auto(void)
{
    for (size_t k = 0; k < G_N_ELEMENTS(arima_autos); k++) {
        const ArimaAutoFixture *f = &arima_autos[k];
        g_autoptr(GError) err = NULL;
        g_autoptr(FcArimaModel) mod = fc_arima_auto(f->y, f->n, f->m, &err);
        g_autoptr(FcResult) r = NULL;
        g_autofree char *desc = NULL;
        FcArimaOrder o;
        bool same;

        CU_ASSERT_FATAL(mod != NULL);
        o = fc_arima_order(mod);
        desc = fc_arima_describe(mod);
        same = o.p == f->p && o.q == f->q && o.P == f->P && o.Q == f->Q &&
               o.constant == (f->constant != 0);
        if (!same) {
            fprintf(stderr, "%s: umbra %s (AICc %.3f), R AICc %.3f\n", f->call,
                    desc, fc_arima_aicc(mod), f->aicc);
        }
        CU_ASSERT_EQUAL(o.d, f->d);
        CU_ASSERT_EQUAL(o.D, f->D);
        CU_ASSERT(same || fc_arima_aicc(mod) <= f->aicc + 0.01);
        if (same) {
            CHECK_NEAR(fc_arima_aicc(mod), f->aicc, 0.05, f->call);
        }
        r = forecast_or_fail(mod, 2 * (size_t) MAX(f->m, 6));
    }
}

/* The KPSS statistic, ndiffs() and nsdiffs(). */
static void
test_arima_fixture_kpss(void)
{
    for (size_t k = 0; k < G_N_ELEMENTS(arima_kpss); k++) {
        const ArimaKpssFixture *f = &arima_kpss[k];

        CHECK_NEAR(fc_arima_kpss(f->y, f->n, -1), f->kpss, 1e-9 * f->kpss,
                   f->call);
        CU_ASSERT_EQUAL(fc_arima_ndiffs(f->y, f->n, 2), f->ndiffs);
        if (f->m > 1) {
            CU_ASSERT_EQUAL(fc_arima_nsdiffs(f->y, f->n, f->m), f->nsdiffs);
        }
    }
}

/* Standard normal draws from a seeded GLib generator (Box-Muller). */
static void
normals(guint32 seed, double *out, size_t n)
{
    g_autoptr(GRand) rng = g_rand_new_with_seed(seed);

    for (size_t i = 0; i < n; i += 2) {
        double u1 = g_rand_double(rng), u2 = g_rand_double(rng);
        double rad = sqrt(-2 * log(1 - u1));

        out[i] = rad * cos(2 * G_PI * u2);
        if (i + 1 < n) {
            out[i + 1] = rad * sin(2 * G_PI * u2);
        }
    }
}

/* AICc of @o fitted to @y. */
static double
aicc_of(const double *y, size_t n, const FcArimaOrder *o)
{
    g_autoptr(FcArimaModel) mod = fc_arima_fit(y, n, o, NULL);

    CU_ASSERT_FATAL(mod != NULL);
    return fc_arima_aicc(mod);
}

/* A simulated AR(1): no differences, and a model as good as the true
 * order (AICc within 2; like R, the CSS-ranked search may settle on
 * AR(2) here). */
static void
test_arima_sim_ar1(void)
{
    enum { N = 300 };
    double e[N], y[N];
    FcArimaOrder truth = {1, 0, 0, 0, 0, 0, 1, true};
    g_autoptr(FcArimaModel) mod = NULL;
    FcArimaOrder o;
    const double *coef;
    size_t nc;

    normals(1, e, N);
    y[0] = 10 + e[0];
    for (size_t t = 1; t < N; t++) {
        y[t] = 10 + 0.7 * (y[t - 1] - 10) + e[t];
    }
    mod = fc_arima_auto(y, N, 1, NULL);
    CU_ASSERT_FATAL(mod != NULL);
    o = fc_arima_order(mod);
    CU_ASSERT_EQUAL(o.d, 0);
    CU_ASSERT(o.p >= 1);
    CU_ASSERT(fc_arima_aicc(mod) <= aicc_of(y, N, &truth) + 2);
    if (o.p == 1 && o.q == 0) {
        coef = fc_arima_coef(mod, &nc);
        CHECK_NEAR(coef[0], 0.7, 0.1, "AR(1) phi");
    }
}

/* A seasonal random walk y_t = y_{t-12} + e_t: one seasonal difference,
 * no ordinary one. */
static void
test_arima_sim_seasonal_rw(void)
{
    enum { N = 240, M = 12 };
    double e[N], y[N];
    g_autoptr(FcArimaModel) mod = NULL;
    g_autoptr(FcResult) r = NULL;
    FcArimaOrder o;

    normals(2, e, N);
    for (size_t t = 0; t < N; t++) {
        y[t] = (t < M ? 20 * sin(2 * G_PI * (double) t / M) : y[t - M]) + e[t];
    }
    mod = fc_arima_auto(y, N, M, NULL);
    CU_ASSERT_FATAL(mod != NULL);
    o = fc_arima_order(mod);
    CU_ASSERT_EQUAL(o.D, 1);
    CU_ASSERT_EQUAL(o.d, 0);
    r = forecast_or_fail(mod, 2 * (size_t) M);
    /* The forecast repeats the last season, give or take the noise. */
    for (size_t i = 0; i < 2 * (size_t) M; i++) {
        CHECK_NEAR(r->mean[i], y[N - M + i % M], 3.0, "seasonal RW forecast");
    }
}

/* The airline model (0,1,1)(0,1,1)[12]: both differences, and a model as
 * good as the true order (R picks ARIMA(0,1,1)(1,1,1)[12] on this
 * series, AICc 634.54 against 634.15). */
static void
test_arima_sim_airline(void)
{
    enum { N = 240, M = 12 };
    double e[N], w[N], u[N], y[N];
    FcArimaOrder truth = {0, 1, 1, 0, 1, 1, M, false};
    g_autoptr(FcArimaModel) mod = NULL;
    FcArimaOrder o;

    normals(4, e, N);
    /* w = (1 - 0.4 B)(1 - 0.6 B^12) e, then y = w integrated by
     * (1 - B^12) and (1 - B), from a level of 100. */
    for (size_t t = 0; t < N; t++) {
        w[t] = e[t] - 0.4 * (t >= 1 ? e[t - 1] : 0) -
               0.6 * (t >= M ? e[t - M] : 0) +
               0.24 * (t >= M + 1 ? e[t - M - 1] : 0);
        u[t] = w[t] + (t >= M ? u[t - M] : 0);
        y[t] = u[t] + (t >= 1 ? y[t - 1] : 100);
    }
    mod = fc_arima_auto(y, N, M, NULL);
    CU_ASSERT_FATAL(mod != NULL);
    o = fc_arima_order(mod);
    CU_ASSERT_EQUAL(o.D, 1);
    CU_ASSERT_EQUAL(o.d, 1);
    CU_ASSERT(fc_arima_aicc(mod) <= aicc_of(y, N, &truth) + 2);
}

/* A deterministic hourly-like series (n = 480 > 150: the search uses the
 * CSS approximation and refits the winner exactly). */
static void
test_arima_hourly_approx(void)
{
    enum { N = 480, M = 24 };
    double y[N];
    g_autoptr(FcArimaModel) mod = NULL;
    g_autoptr(FcResult) r = NULL;
    FcArimaOrder o;

    for (size_t i = 0; i < N; i++) {
        double t = (double) i + 1;

        y[i] = 50 + 0.02 * t + 8 * sin(2 * G_PI * t / 24) +
               3 * sin(4 * G_PI * t / 24 + 0.5) +
               1.5 * sin(0.37 * pow(t, 1.3)) + 0.8 * sin(1.7 * t);
    }
    mod = fc_arima_auto(y, N, M, NULL);
    CU_ASSERT_FATAL(mod != NULL);
    o = fc_arima_order(mod);
    CU_ASSERT_EQUAL(o.m, M);
    /* R chooses the same model (arima_synth_auto). */
    CU_ASSERT_EQUAL(o.d, arima_synth_auto.d);
    CU_ASSERT_EQUAL(o.D, arima_synth_auto.D);
    CU_ASSERT(fc_arima_aicc(mod) <= arima_synth_auto.aicc + 0.01);
    if (o.p == arima_synth_auto.p && o.q == arima_synth_auto.q &&
        o.P == arima_synth_auto.P && o.Q == arima_synth_auto.Q) {
        CHECK_NEAR(fc_arima_aicc(mod), arima_synth_auto.aicc, 0.05,
                   arima_synth_auto.call);
    }
    r = forecast_or_fail(mod, 48);
    /* The daily cycle carries on: a day ahead looks like the last day. */
    for (size_t i = 0; i < M; i++) {
        CHECK_NEAR(r->mean[i], y[N - M + i] + 0.02 * M, 4.0, "hourly forecast");
    }
}

/* method = CSS (what the combination uses): on the hourly series it
 * finds a model, its likelihood is the exact one at its own
 * coefficients, and its forecast carries the daily cycle as well. */
static void
test_arima_css_method(void)
{
    enum { N = 480, M = 24 };
    double y[N];
    FcArimaAutoOptions opts;
    g_autoptr(FcArimaModel) ml = NULL;
    g_autoptr(FcArimaModel) css = NULL;
    g_autoptr(FcResult) r = NULL;
    FcArimaOrder o;
    const double *coef;
    size_t nc;

    for (size_t i = 0; i < N; i++) {
        double t = (double) i + 1;

        y[i] = 50 + 0.02 * t + 8 * sin(2 * G_PI * t / 24) +
               3 * sin(4 * G_PI * t / 24 + 0.5) +
               1.5 * sin(0.37 * pow(t, 1.3)) + 0.8 * sin(1.7 * t);
    }
    fc_arima_auto_options_init(&opts);
    CU_ASSERT_EQUAL(opts.method, FC_ARIMA_CSS_ML);
    ml = fc_arima_auto_full(y, N, M, &opts, NULL);
    opts.method = FC_ARIMA_CSS;
    css = fc_arima_auto_full(y, N, M, &opts, NULL);
    CU_ASSERT_FATAL(ml != NULL && css != NULL);
    o = fc_arima_order(css);
    coef = fc_arima_coef(css, &nc);
    CU_ASSERT(isfinite(fc_arima_loglik(css)));
    CHECK_NEAR(fc_arima_loglik_at(y, N, &o, coef, NULL), fc_arima_loglik(css),
               1e-6 * fabs(fc_arima_loglik(css)), "CSS model's loglik");
    /* ML maximises the likelihood: CSS coefficients cannot beat it on
     * the same orders, and land close. */
    if (o.p == fc_arima_order(ml).p && o.q == fc_arima_order(ml).q &&
        o.P == fc_arima_order(ml).P && o.Q == fc_arima_order(ml).Q) {
        CU_ASSERT(fc_arima_loglik(css) <= fc_arima_loglik(ml) + 1e-6);
    }
    /* Not worse by much; here it is better: every CSS-ML refit of the
     * search's winners fails auto.arima()'s checks (as in R), leaving
     * the seasonal random walk, AICc 1921, while CSS keeps a
     * (2,0,2)(2,1,2) at 956. */
    CU_ASSERT(isfinite(fc_arima_aicc(css)));
    CU_ASSERT(fc_arima_aicc(css) < fc_arima_aicc(ml) + 20);
    r = forecast_or_fail(css, 48);
    for (size_t i = 0; i < M; i++) {
        CHECK_NEAR(r->mean[i], y[N - M + i] + 0.02 * M, 4.0, "CSS forecast");
    }
}

/* A pure seasonal signal is forecast (near) exactly. */
static void
test_arima_pure_seasonal(void)
{
    enum { N = 96, M = 12 };
    double y[N];
    g_autoptr(FcArimaModel) mod = NULL;
    g_autoptr(FcResult) r = NULL;

    for (size_t t = 0; t < N; t++) {
        y[t] = 5 + 3 * sin(2 * G_PI * (double) t / M) + (t % M == 3 ? 2 : 0);
    }
    mod = fc_arima_auto(y, N, M, NULL);
    CU_ASSERT_FATAL(mod != NULL);
    r = forecast_or_fail(mod, 2 * (size_t) M);
    for (size_t i = 0; i < 2 * (size_t) M; i++) {
        CHECK_NEAR(r->mean[i], y[N - M + i % M], 1e-6, "pure seasonal");
    }
}

/* Constant and all-zero series: a mean model, flat forecast, no NaN. */
static void
test_arima_constant(void)
{
    double vals[] = {0, 7.5, -3, 1e12};

    for (size_t k = 0; k < G_N_ELEMENTS(vals); k++) {
        double y[50];
        g_autoptr(FcArimaModel) mod = NULL;
        g_autoptr(FcArimaModel) fit = NULL;
        g_autoptr(FcResult) r = NULL;
        g_autoptr(FcResult) r2 = NULL;
        FcArimaOrder o = {1, 0, 1, 0, 0, 0, 1, true};

        for (size_t t = 0; t < G_N_ELEMENTS(y); t++) {
            y[t] = vals[k];
        }
        mod = fc_arima_auto(y, G_N_ELEMENTS(y), 12, NULL);
        CU_ASSERT_FATAL(mod != NULL);
        r = forecast_or_fail(mod, 5);
        for (size_t i = 0; i < 5; i++) {
            CHECK_NEAR(r->mean[i], vals[k], 1e-12 * fabs(vals[k]), "constant");
            CU_ASSERT_EQUAL(r->hi95[i], r->mean[i]);
        }
        /* Fixed orders on a constant series do not blow up either. */
        fit = fc_arima_fit(y, G_N_ELEMENTS(y), &o, NULL);
        if (fit) {
            r2 = forecast_or_fail(fit, 5);
            CHECK_NEAR(r2->mean[0], vals[k], 1e-6 * MAX(1, fabs(vals[k])),
                       "constant fit");
        }
    }
}

/* Series from one observation up: a model or a clear error, and
 * whatever comes back forecasts finite numbers. */
static void
test_arima_short(void)
{
    double y[30];
    int periods[] = {1, 4, 12, 24};

    for (size_t t = 0; t < G_N_ELEMENTS(y); t++) {
        y[t] = 10 + sin((double) t) + 0.1 * (double) t;
    }
    for (size_t k = 0; k < G_N_ELEMENTS(periods); k++) {
        for (size_t n = 1; n <= G_N_ELEMENTS(y); n++) {
            g_autoptr(GError) err = NULL;
            g_autoptr(FcArimaModel) mod = fc_arima_auto(y, n, periods[k], &err);

            if (!mod) {
                CU_ASSERT(err != NULL && err->domain == FC_ERROR);
                continue;
            }
            fc_result_free(forecast_or_fail(mod, 10));
        }
    }
    /* Orders the data cannot support: FC_ERROR_SHORT. */
    {
        g_autoptr(GError) err = NULL;
        FcArimaOrder o = {2, 1, 0, 1, 1, 0, 12, false};

        CU_ASSERT(fc_arima_fit(y, 10, &o, &err) == NULL);
        CU_ASSERT(g_error_matches(err, FC_ERROR, FC_ERROR_SHORT));
    }
}

/* Long periods: the search drops periods above 400 rather than build a
 * state thousands wide; fixed orders refuse them. */
static void
test_arima_long_period(void)
{
    enum { N = 3000 };
    g_autofree double *y = g_new0(double, N);
    g_autoptr(FcArimaModel) mod = NULL;
    g_autoptr(FcResult) r = NULL;
    g_autoptr(GError) err = NULL;
    FcArimaOrder o = {0, 0, 0, 0, 1, 0, 2016, false};
    double e[N];

    normals(5, e, N);
    for (size_t t = 0; t < N; t++) {
        y[t] = 20 + 5 * sin(2 * G_PI * (double) t / 288) + e[t];
    }
    mod = fc_arima_auto(y, N, 2016, NULL);
    CU_ASSERT_FATAL(mod != NULL);
    CU_ASSERT_EQUAL(fc_arima_order(mod).m, 1);
    r = forecast_or_fail(mod, 12);
    CU_ASSERT(fc_arima_fit(y, N, &o, &err) == NULL);
    CU_ASSERT(g_error_matches(err, FC_ERROR, FC_ERROR_INVALID));
}

/* Bad input: empty, non-finite, h = 0. */
static void
test_arima_invalid(void)
{
    double y[20];
    g_autoptr(GError) err = NULL;
    g_autoptr(GError) err2 = NULL;
    g_autoptr(GError) err3 = NULL;
    g_autoptr(FcArimaModel) mod = NULL;
    g_autoptr(FcResult) r = fc_result_new(1);

    for (size_t t = 0; t < G_N_ELEMENTS(y); t++) {
        y[t] = (double) (t % 5);
    }
    CU_ASSERT(fc_arima_auto(y, 0, 1, &err) == NULL);
    CU_ASSERT(g_error_matches(err, FC_ERROR, FC_ERROR_EMPTY));
    y[3] = NAN;
    CU_ASSERT(fc_arima_auto(y, 20, 1, &err2) == NULL);
    CU_ASSERT(g_error_matches(err2, FC_ERROR, FC_ERROR_INVALID));
    y[3] = 3;
    mod = fc_arima_auto(y, 20, 1, NULL);
    CU_ASSERT_FATAL(mod != NULL);
    CU_ASSERT(!fc_arima_forecast(mod, 0, r, &err3));
    CU_ASSERT(g_error_matches(err3, FC_ERROR, FC_ERROR_INVALID));
}

/* Scaling the series by 1e10 scales the forecasts and keeps the model. */
static void
test_arima_huge(void)
{
    const ArimaFitFixture *f = &arima_fits[2]; /* USAccDeaths, airline */
    g_autofree double *big = g_new0(double, f->n);
    FcArimaOrder o = {f->p, f->d, f->q, f->P, f->D, f->Q, f->m, false};
    g_autoptr(FcArimaModel) a = NULL;
    g_autoptr(FcArimaModel) b = NULL;
    g_autoptr(FcArimaModel) c = NULL;
    g_autoptr(FcResult) ra = NULL;
    g_autoptr(FcResult) rb = NULL;
    g_autoptr(FcResult) rc = NULL;

    for (size_t i = 0; i < f->n; i++) {
        big[i] = f->y[i] * 1e10;
    }
    a = fc_arima_fit(f->y, f->n, &o, NULL);
    b = fc_arima_fit(big, f->n, &o, NULL);
    CU_ASSERT_FATAL(a != NULL && b != NULL);
    ra = forecast_or_fail(a, H);
    rb = forecast_or_fail(b, H);
    for (size_t i = 0; i < H; i++) {
        CHECK_NEAR(rb->mean[i] / 1e10, ra->mean[i], 1e-3 * fabs(ra->mean[i]),
                   "scaled forecast");
        CHECK_NEAR(rb->hi95[i] / 1e10, ra->hi95[i], 1e-3 * fabs(ra->hi95[i]),
                   "scaled interval");
    }
    c = fc_arima_auto(big, f->n, f->m, NULL);
    CU_ASSERT_FATAL(c != NULL);
    rc = forecast_or_fail(c, H);
}

/* The same input gives bit-identical output. */
static void
test_arima_deterministic(void)
{
    const ArimaFitFixture *f = &arima_fits[5]; /* nottem */
    g_autoptr(FcArimaModel) a = fc_arima_auto(f->y, f->n, f->m, NULL);
    g_autoptr(FcArimaModel) b = fc_arima_auto(f->y, f->n, f->m, NULL);
    g_autoptr(FcResult) ra = NULL;
    g_autoptr(FcResult) rb = NULL;
    g_autofree char *da = NULL;
    g_autofree char *db = NULL;

    CU_ASSERT_FATAL(a != NULL && b != NULL);
    ra = forecast_or_fail(a, 24);
    rb = forecast_or_fail(b, 24);
    for (size_t i = 0; i < 24; i++) {
        /* Bit-identical, not merely close. */
        CU_ASSERT(ra->mean[i] == rb->mean[i]);
        CU_ASSERT(ra->hi95[i] == rb->hi95[i]);
    }
    da = fc_arima_describe(a);
    db = fc_arima_describe(b);
    CU_ASSERT_STRING_EQUAL(da, db);
    CU_ASSERT_STRING_EQUAL(ra->method, da);
}

/* Model names as R prints them. */
static void
test_arima_describe(void)
{
    struct {
        FcArimaOrder o;
        const char *want;
    } cases[] = {
        {{0, 1, 1, 0, 1, 1, 12, false}, "ARIMA(0,1,1)(0,1,1)[12]"},
        {{1, 0, 0, 0, 0, 0, 1, true}, "ARIMA(1,0,0) with non-zero mean"},
        {{1, 0, 0, 0, 0, 0, 1, false}, "ARIMA(1,0,0) with zero mean"},
        {{1, 1, 1, 0, 0, 0, 1, true}, "ARIMA(1,1,1) with drift"},
        {{2, 0, 1, 1, 1, 0, 12, true}, "ARIMA(2,0,1)(1,1,0)[12] with drift"},
    };

    for (size_t k = 0; k < G_N_ELEMENTS(cases); k++) {
        g_autoptr(FcArimaModel) mod =
            fc_arima_fit(nottem_y, 240, &cases[k].o, NULL);
        g_autofree char *d = NULL;

        CU_ASSERT_FATAL(mod != NULL);
        d = fc_arima_describe(mod);
        CU_ASSERT_STRING_EQUAL(d, cases[k].want);
    }
}

static const CutestCase cases[] = {
    {"arima_fixture_fits", test_arima_fixture_fits},
    {"arima_fixture_loglik", test_arima_fixture_loglik},
    {"arima_fixture_auto", test_arima_fixture_auto},
    {"arima_fixture_kpss", test_arima_fixture_kpss},
    {"arima_sim_ar1", test_arima_sim_ar1},
    {"arima_sim_seasonal_rw", test_arima_sim_seasonal_rw},
    {"arima_sim_airline", test_arima_sim_airline},
    {"arima_hourly_approx", test_arima_hourly_approx},
    {"arima_css_method", test_arima_css_method},
    {"arima_pure_seasonal", test_arima_pure_seasonal},
    {"arima_constant", test_arima_constant},
    {"arima_short", test_arima_short},
    {"arima_long_period", test_arima_long_period},
    {"arima_invalid", test_arima_invalid},
    {"arima_huge", test_arima_huge},
    {"arima_deterministic", test_arima_deterministic},
    {"arima_describe", test_arima_describe},
};

CUTEST_MAIN("arima", cases)
