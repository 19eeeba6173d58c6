/*
 * tests/unit/test-failure.c: the failure-risk model and the adaptive
 * threshold (risk/failure.h).
 *
 * Synthetic data come from a known logistic model with a fixed-seed GRand,
 * so the true probabilities are known: after online training the model's
 * probabilities must match them and its reliability table must be
 * calibrated; one online pass must land near the batch MAP fit.  Also:
 * the prior's base rate, explanations, the JSON round trip and the
 * refusal of other versions, other feature sets and broken text, NaN
 * features, and the threshold settling at the target precision.
 */
#include "risk/failure.h"

#include <json-c/json.h>
#include <math.h>
#include <string.h>

#include "util/autoptr.h"

#include "cutest.h"

#define CHECK_NEAR(a, b, tol, what)                                            \
    do {                                                                       \
        double a_ = (a), b_ = (b);                                             \
        if (!(fabs(a_ - b_) <= (tol))) {                                       \
            fprintf(stderr, "%s: %.10g vs %.10g (tol %.3g)\n", (what), a_, b_, \
                    (double) (tol));                                           \
        }                                                                      \
        CU_ASSERT(fabs(a_ - b_) <= (tol));                                     \
    } while (0)

#define K RISK_FEAT_LAST
#define NW (RISK_FEAT_LAST + 1)

/* The true model of the synthetic data (intercept last): 45 % of the
 * examples are positive, probabilities spread over the whole [0, 1]. */
static const double w_true[NW] = {
    3.0,  /* drift */
    2.0,  /* contention */
    0.0,  /* headroom */
    1.0,  /* mem_pressure */
    -1.0, /* host_load */
    2.0,  /* io_errors */
    0.0,  /* watchdog */
    1.5,  /* crashes */
    0.5,  /* lifecycle */
    0.0,  /* incidents */
    1.0,  /* shadow_unhealthy */
    -5.0, /* intercept */
};

static double
sigmoid(double z)
{
    return 1.0 / (1.0 + exp(-z));
}

/* Draws one example: features uniform on [0, 1] (shadow_unhealthy 0 or
 * 1), the outcome from w_true.  Returns: the true probability. */
static double
draw(GRand *rng, double *x, bool *y)
{
    double z = w_true[K];

    for (size_t k = 0; k < K; k++) {
        x[k] = k == RISK_FEAT_SHADOW ? (g_rand_double(rng) < 0.2)
                                     : g_rand_double(rng);
        z += w_true[k] * x[k];
    }
    if (y) {
        *y = g_rand_double(rng) < sigmoid(z);
    }
    return sigmoid(z);
}

static double
prior_weight(size_t k)
{
    static const double prior[K] = {
#define X(NAME, STR, DESC, W) W,
        RISK_FEATURES(X)
#undef X
    };

    return k < K ? prior[k] : RISK_PRIOR_INTERCEPT;
}

static void
test_features(void)
{
    for (int k = 0; k < K; k++) {
        const char *name = risk_feature_to_string(k);

        CU_ASSERT_EQUAL(risk_feature_from_string(name), k);
        CU_ASSERT(strlen(risk_feature_describe(k)) > 0);
    }
    CU_ASSERT_STRING_EQUAL(risk_feature_to_string(RISK_FEAT_DRIFT), "drift");
    CU_ASSERT_STRING_EQUAL(risk_feature_to_string(RISK_FEAT_SHADOW),
                           "shadow_unhealthy");
    CU_ASSERT_EQUAL(risk_feature_from_string("nope"), -1);
    CU_ASSERT_EQUAL(risk_feature_from_string(NULL), -1);
    CU_ASSERT_STRING_EQUAL(risk_feature_to_string(K), "unknown");
}

/* Before any data: the prior weights and the documented base rate. */
static void
test_prior(void)
{
    g_autoptr(RiskModel) m = risk_model_new(1.0);
    double x[K] = {0};
    RiskReliability rel;

    CHECK_NEAR(risk_model_predict(m, x, NULL), 1 / (1 + exp(6.0)), 1e-15,
               "base rate");
    CU_ASSERT(risk_model_predict(m, x, NULL) > 0.002 &&
              risk_model_predict(m, x, NULL) < 0.003);
    for (size_t k = 0; k < NW; k++) {
        CU_ASSERT_EQUAL(risk_model_weights(m)[k], prior_weight(k));
    }
    x[RISK_FEAT_DRIFT] = 1;
    CHECK_NEAR(risk_model_predict(m, x, NULL),
               sigmoid(RISK_PRIOR_INTERCEPT + prior_weight(RISK_FEAT_DRIFT)),
               1e-15, "drift 1");
    x[RISK_FEAT_DRIFT] = 0.5;
    CHECK_NEAR(risk_model_predict(m, x, NULL), 0.5, 1e-12,
               "drift 0.5 is even odds (failure.h)");
    CU_ASSERT_EQUAL(risk_model_examples(m), 0);
    risk_model_reliability(m, &rel);
    CU_ASSERT_EQUAL(rel.n, 0);
    CU_ASSERT(isnan(rel.ece) && isnan(rel.brier));
    for (size_t b = 0; b < RISK_RELIABILITY_BINS; b++) {
        CHECK_NEAR(rel.bins[b].lo, b / 10.0, 1e-15, "bin lo");
        CHECK_NEAR(rel.bins[b].hi, (b + 1) / 10.0, 1e-15, "bin hi");
        CU_ASSERT_EQUAL(rel.bins[b].n, 0);
    }

    /* Extreme inputs stay inside (0, 1). */
    for (size_t k = 0; k < K; k++) {
        x[k] = 1e300;
    }
    CU_ASSERT(risk_model_predict(m, x, NULL) < 1);
    for (size_t k = 0; k < K; k++) {
        x[k] = -INFINITY;
    }
    CU_ASSERT(risk_model_predict(m, x, NULL) > 0);
}

/* Online training on 20000 examples of a known model: probabilities
 * match the true ones, the reliability table is calibrated. */
static void
test_calibration(void)
{
    g_autoptr(GRand) rng = g_rand_new_with_seed(20240601);
    g_autoptr(RiskModel) m = risk_model_new(1.0);
    double x[K], err_sum = 0, err_max = 0, true_brier = 0;
    RiskReliability rel;
    const size_t ntrain = 20000, ntest = 5000;
    size_t full_bins = 0;

    for (size_t i = 0; i < ntrain; i++) {
        bool y;
        double p = draw(rng, x, &y);

        true_brier += p * (1 - p);
        risk_model_update(m, x, y);
    }
    CU_ASSERT_EQUAL(risk_model_examples(m), ntrain);
    for (size_t i = 0; i < ntest; i++) {
        double p = draw(rng, x, NULL);
        double d = fabs(risk_model_predict(m, x, NULL) - p);

        err_sum += d;
        err_max = MAX(err_max, d);
    }
    fprintf(stderr, "calibration: mean |p - p_true| %.4f, max %.4f\n",
            err_sum / ntest, err_max);
    CU_ASSERT(err_sum / ntest < 0.02);
    CU_ASSERT(err_max < 0.08);
    for (size_t k = 0; k < NW; k++) {
        CHECK_NEAR(risk_model_weights(m)[k], w_true[k], 0.35, "weight");
    }

    risk_model_reliability(m, &rel);
    CU_ASSERT_EQUAL(rel.n, ntrain);
    fprintf(stderr,
            "calibration: n %zu positives %zu brier %.4f (true "
            "%.4f) ece %.4f\n",
            rel.n, rel.positives, rel.brier, true_brier / ntrain, rel.ece);
    for (size_t b = 0; b < RISK_RELIABILITY_BINS; b++) {
        const RiskReliabilityBin *bin = &rel.bins[b];
        double tol;

        fprintf(stderr, "  [%.1f, %.1f) n %5zu mean %.3f observed %.3f\n",
                bin->lo, bin->hi, bin->n, bin->mean_pred, bin->observed);
        if (bin->n == 0) {
            CU_ASSERT(isnan(bin->mean_pred) && isnan(bin->observed));
            continue;
        }
        CU_ASSERT(bin->mean_pred >= bin->lo && bin->mean_pred <= bin->hi);
        if (bin->n < 200) {
            continue;
        }
        full_bins++;
        /* Three binomial sds, plus what the early, still learning
         * predictions cost. */
        tol = 3 * sqrt(bin->mean_pred * (1 - bin->mean_pred) / bin->n) + 0.02;
        CHECK_NEAR(bin->observed, bin->mean_pred, tol, "bin");
    }
    CU_ASSERT(full_bins >= 6);
    CU_ASSERT(rel.ece < 0.02);
    CHECK_NEAR(rel.brier, true_brier / ntrain, 0.005, "Brier");

    /* The untrained prior on the same data is far from calibrated: the
     * check above can fail. */
    {
        g_autoptr(GRand) rng2 = g_rand_new_with_seed(20240601);
        g_autoptr(RiskModel) fixed = risk_model_new(1.0);
        double sum_p = 0, sum_y = 0;

        for (size_t i = 0; i < 2000; i++) {
            bool y;

            draw(rng2, x, &y);
            sum_p += risk_model_predict(fixed, x, NULL);
            sum_y += y;
        }
        fprintf(stderr, "prior: mean predicted %.3f, observed %.3f\n",
                sum_p / 2000, sum_y / 2000);
        CU_ASSERT(fabs(sum_p - sum_y) / 2000 > 0.05);
    }
}

/* Generates @n examples into @x, @y. */
static void
dataset(guint32 seed, double *x, bool *y, size_t n)
{
    g_autoptr(GRand) rng = g_rand_new_with_seed(seed);

    for (size_t i = 0; i < n; i++) {
        draw(rng, x + i * K, &y[i]);
    }
}

/* One online pass over a data set lands near the batch MAP fit on it.
 * Tolerance: 0.1 absolute per weight (the posterior sds here are
 * 0.15-0.4, so this is within a third of one), and predictions within
 * 0.01. */
static void
test_online_vs_batch(void)
{
    const size_t n = 5000;
    g_autofree double *x = g_new(double, n *K);
    g_autofree bool *y = g_new(bool, n);
    g_autoptr(RiskModel) online = risk_model_new(1.0);
    g_autoptr(RiskModel) batch = NULL;
    g_autoptr(RiskModel) small = NULL;
    double max_dw = 0, max_dp = 0;

    dataset(7, x, y, n);
    batch = risk_model_fit_batch(x, y, n, 1.0);
    CU_ASSERT_FATAL(batch != NULL);
    CU_ASSERT_EQUAL(risk_model_examples(batch), n);
    for (size_t i = 0; i < n; i++) {
        risk_model_update(online, x + i * K, y[i]);
    }
    for (size_t k = 0; k < NW; k++) {
        double dw =
            fabs(risk_model_weights(online)[k] - risk_model_weights(batch)[k]);

        fprintf(stderr, "  %-17s online %7.3f batch %7.3f true %5.1f\n",
                k < K ? risk_feature_to_string(k) : "intercept",
                risk_model_weights(online)[k], risk_model_weights(batch)[k],
                w_true[k]);
        max_dw = MAX(max_dw, dw);
    }
    for (size_t i = 0; i < n; i += 10) {
        double dp = fabs(risk_model_predict(online, x + i * K, NULL) -
                         risk_model_predict(batch, x + i * K, NULL));

        max_dp = MAX(max_dp, dp);
    }
    fprintf(stderr, "online vs batch: max |dw| %.4f, max |dp| %.4f\n", max_dw,
            max_dp);
    /* One pass from a prior far from the truth (the drift weight's prior
     * is 12): the online weights are within 0.15 and the probabilities
     * within 0.02 of the batch fit's; the gap shrinks as 1/n. */
    CU_ASSERT(max_dw < 0.15);
    CU_ASSERT(max_dp < 0.02);

    /* The batch fit is the mode: the gradient of the penalised
     * log-likelihood, computed here independently, vanishes there. */
    {
        const double *w = risk_model_weights(batch);
        double g[NW], gmax = 0;

        for (size_t k = 0; k < NW; k++) {
            g[k] = 1.0 * (w[k] - prior_weight(k));
        }
        for (size_t i = 0; i < n; i++) {
            double z = w[K], p;

            for (size_t k = 0; k < K; k++) {
                z += w[k] * x[i * K + k];
            }
            p = sigmoid(z);
            for (size_t k = 0; k < K; k++) {
                g[k] += (p - y[i]) * x[i * K + k];
            }
            g[K] += p - y[i];
        }
        for (size_t k = 0; k < NW; k++) {
            gmax = MAX(gmax, fabs(g[k]));
        }
        fprintf(stderr, "batch: max |gradient| at the mode %.3g\n", gmax);
        CU_ASSERT(gmax < 1e-6);
    }
    /* From the mode, a further update on an example
     * it already saw barely moves the weights... */
    {
        g_autoptr(RiskModel) again = risk_model_fit_batch(x, y, n, 1.0);
        double d = 0;

        risk_model_update(again, x, y[0]);
        for (size_t k = 0; k < NW; k++) {
            d = MAX(d, fabs(risk_model_weights(again)[k] -
                            risk_model_weights(batch)[k]));
        }
        CU_ASSERT(d < 0.01);
    }
    /* ...with no data it is the prior, and with little the prior holds
     * the weights near it. */
    small = risk_model_fit_batch(NULL, NULL, 0, 1.0);
    for (size_t k = 0; k < NW; k++) {
        CU_ASSERT_EQUAL(risk_model_weights(small)[k], prior_weight(k));
    }
    risk_model_free(small);
    small = risk_model_fit_batch(x, y, 20, 1000.0);
    for (size_t k = 0; k < NW; k++) {
        CHECK_NEAR(risk_model_weights(small)[k], prior_weight(k), 0.05,
                   "strong prior");
    }
}

/* The reasons: the feature that drives the log-odds first, sorted, and
 * adding up to the log-odds. */
static void
test_explain(void)
{
    g_autoptr(RiskModel) m = risk_model_new(1.0);
    double x[K] = {0};
    RiskReason r[K];
    double p, z;
    bool seen[K] = {false};

    x[RISK_FEAT_DRIFT] = 0.05;     /* 0.6 */
    x[RISK_FEAT_CONTENTION] = 0.9; /* 2.7 */
    x[RISK_FEAT_IO_ERRORS] = 0.5;  /* 1.0 */
    p = risk_model_predict(m, x, r);
    CU_ASSERT_EQUAL(r[0].feature, RISK_FEAT_CONTENTION);
    CHECK_NEAR(r[0].contribution, 2.7, 1e-12, "contention");
    CHECK_NEAR(r[0].value, 0.9, 0, "value");
    CU_ASSERT_EQUAL(r[1].feature, RISK_FEAT_IO_ERRORS);
    CU_ASSERT_EQUAL(r[2].feature, RISK_FEAT_DRIFT);
    z = RISK_PRIOR_INTERCEPT;
    for (size_t k = 0; k < K; k++) {
        z += r[k].contribution;
        CU_ASSERT(k == 0 || r[k - 1].contribution >= r[k].contribution);
        CU_ASSERT(!seen[r[k].feature]);
        seen[r[k].feature] = true;
    }
    CHECK_NEAR(log(p / (1 - p)), z, 1e-9, "contributions add up");

    /* The same input with a larger drift: drift leads. */
    x[RISK_FEAT_DRIFT] = 0.9; /* 3.6 */
    risk_model_predict(m, x, r);
    CU_ASSERT_EQUAL(r[0].feature, RISK_FEAT_DRIFT);

    /* A learnt negative weight comes last. */
    {
        g_autoptr(GRand) rng = g_rand_new_with_seed(3);
        double xi[K];

        for (size_t i = 0; i < 5000; i++) {
            bool y;

            draw(rng, xi, &y);
            risk_model_update(m, xi, y);
        }
        CU_ASSERT(risk_model_weights(m)[RISK_FEAT_HOST_LOAD] < 0);
        for (size_t k = 0; k < K; k++) {
            x[k] = 1;
        }
        risk_model_predict(m, x, r);
        CU_ASSERT_EQUAL(r[K - 1].feature, RISK_FEAT_HOST_LOAD);
        CU_ASSERT_EQUAL(r[0].feature, RISK_FEAT_DRIFT);
    }
}

/* Unknown (NaN) features are taken as 0, in predictions, reasons and
 * updates. */
static void
test_nan_features(void)
{
    g_autoptr(RiskModel) a = risk_model_new(1.0);
    g_autoptr(RiskModel) b = risk_model_new(1.0);
    double xn[K], x0[K];
    RiskReason r[K];

    for (size_t k = 0; k < K; k++) {
        xn[k] = x0[k] = 0.3;
    }
    xn[RISK_FEAT_DRIFT] = NAN;
    xn[RISK_FEAT_WATCHDOG] = NAN;
    x0[RISK_FEAT_DRIFT] = 0;
    x0[RISK_FEAT_WATCHDOG] = 0;
    CU_ASSERT_EQUAL(risk_model_predict(a, xn, r),
                    risk_model_predict(a, x0, NULL));
    for (size_t k = 0; k < K; k++) {
        CU_ASSERT(!isnan(r[k].value) && !isnan(r[k].contribution));
    }
    risk_model_update(a, xn, true);
    risk_model_update(b, x0, true);
    risk_model_update(a, xn, false);
    risk_model_update(b, x0, false);
    CU_ASSERT(memcmp(risk_model_weights(a), risk_model_weights(b),
                     NW * sizeof(double)) == 0);
    for (size_t k = 0; k < NW; k++) {
        CU_ASSERT(isfinite(risk_model_weights(a)[k]));
    }
    /* The drift weight did not move: its input was unknown. */
    CU_ASSERT_EQUAL(risk_model_weights(a)[RISK_FEAT_DRIFT], 12.0);
}

/* Returns: (transfer full) a model trained on 500 synthetic examples. */
static RiskModel *
trained_model(void)
{
    g_autoptr(GRand) rng = g_rand_new_with_seed(11);
    RiskModel *m = risk_model_new(2.0);
    double x[K];

    for (size_t i = 0; i < 500; i++) {
        bool y;

        draw(rng, x, &y);
        risk_model_update(m, x, y);
    }
    return m;
}

/* JSON round trip: identical predictions, weights, reliability, text. */
static void
test_json_roundtrip(void)
{
    g_autoptr(RiskModel) m = trained_model();
    g_autoptr(RiskModel) back = NULL;
    g_autoptr(GError) err = NULL;
    g_autoptr(GRand) rng = g_rand_new_with_seed(12);
    g_autofree char *json = risk_model_to_json(m);
    g_autofree char *json2 = NULL;
    RiskReliability r1, r2;
    double x[K];

    back = risk_model_from_json(json, &err);
    CU_ASSERT_FATAL(back != NULL);
    CU_ASSERT(err == NULL);
    json2 = risk_model_to_json(back);
    CU_ASSERT_STRING_EQUAL(json, json2);
    CU_ASSERT(memcmp(risk_model_weights(m), risk_model_weights(back),
                     NW * sizeof(double)) == 0);
    CU_ASSERT_EQUAL(risk_model_examples(back), 500);
    risk_model_reliability(m, &r1);
    risk_model_reliability(back, &r2);
    CU_ASSERT(memcmp(&r1, &r2, sizeof(r1)) == 0);
    for (size_t i = 0; i < 200; i++) {
        bool y;

        draw(rng, x, &y);
        CU_ASSERT_EQUAL(risk_model_predict(m, x, NULL),
                        risk_model_predict(back, x, NULL));
        /* Learning goes on identically. */
        risk_model_update(m, x, y);
        risk_model_update(back, x, y);
    }
    CU_ASSERT(memcmp(risk_model_weights(m), risk_model_weights(back),
                     NW * sizeof(double)) == 0);

    /* A fresh model and a batch fit round-trip too. */
    {
        g_autoptr(RiskModel) fresh = risk_model_new(1.0);
        g_autofree char *j = risk_model_to_json(fresh);
        g_autoptr(RiskModel) fb = risk_model_from_json(j, NULL);

        CU_ASSERT_FATAL(fb != NULL);
        CU_ASSERT(memcmp(risk_model_weights(fresh), risk_model_weights(fb),
                         NW * sizeof(double)) == 0);
    }
}

/* Returns: (transfer full) @json with @edit applied to its object. */
static char *
edit_json(const char *json, void (*edit)(json_object *o))
{
    g_autoptr(json_object) o = json_tokener_parse(json);

    g_assert(o);
    edit(o);
    return g_strdup(json_object_to_json_string(o));
}

static void
set_version_2(json_object *o)
{
    json_object_object_add(o, "version", json_object_new_int(2));
}

static void
set_version_0(json_object *o)
{
    json_object_object_add(o, "version", json_object_new_int(0));
}

static json_object *
features_of(json_object *o)
{
    json_object *f = NULL;

    json_object_object_get_ex(o, "features", &f);
    return f;
}

static void
drop_feature(json_object *o)
{
    json_object *f = features_of(o);

    json_object_array_del_idx(f, json_object_array_length(f) - 1, 1);
}

static void
add_feature(json_object *o)
{
    json_object_array_add(features_of(o), json_object_new_string("temp"));
}

static void
rename_feature(json_object *o)
{
    json_object_array_put_idx(features_of(o), 3, json_object_new_string("x"));
}

static void
swap_features(json_object *o)
{
    json_object *f = features_of(o);
    json_object *a = json_object_get(json_object_array_get_idx(f, 0));
    json_object *b = json_object_get(json_object_array_get_idx(f, 1));

    json_object_array_put_idx(f, 0, b);
    json_object_array_put_idx(f, 1, a);
}

static void
version_string(json_object *o)
{
    json_object_object_add(o, "version", json_object_new_string("1"));
}

static void
drop_weight(json_object *o)
{
    json_object *w = NULL;

    json_object_object_get_ex(o, "weights", &w);
    json_object_object_del(w, "crashes");
}

static void
string_weight(json_object *o)
{
    json_object *w = NULL;

    json_object_object_get_ex(o, "weights", &w);
    json_object_object_add(w, "drift", json_object_new_string("4"));
}

static void
negative_hessian(json_object *o)
{
    json_object *h = NULL;

    json_object_object_get_ex(o, "hessian", &h);
    json_object_array_put_idx(h, 0, json_object_new_double(-1));
}

static void
short_hessian(json_object *o)
{
    json_object *h = NULL;

    json_object_object_get_ex(o, "hessian", &h);
    json_object_array_del_idx(h, 0, 1);
}

static void
bad_reliability(json_object *o)
{
    json_object *r = NULL, *pos = NULL;

    json_object_object_get_ex(o, "reliability", &r);
    json_object_object_get_ex(r, "positives", &pos);
    json_object_array_put_idx(pos, 0, json_object_new_int(1000000));
}

static void
negative_examples(json_object *o)
{
    json_object_object_add(o, "examples", json_object_new_int(-3));
}

static void
zero_precision(json_object *o)
{
    json_object_object_add(o, "prior_precision", json_object_new_double(0));
}

static void
refused(const char *json, int code, const char *what)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(RiskModel) m = risk_model_from_json(json, &err);

    if (m || !g_error_matches(err, RISK_ERROR, code)) {
        fprintf(stderr, "%s: %s\n", what, err ? err->message : "accepted");
    }
    CU_ASSERT(m == NULL);
    CU_ASSERT(g_error_matches(err, RISK_ERROR, code));
}

/* Other versions and feature sets: RISK_ERROR_VERSION; broken text:
 * RISK_ERROR_FORMAT; never a crash. */
static void
test_json_refused(void)
{
    g_autoptr(RiskModel) m = trained_model();
    g_autofree char *json = risk_model_to_json(m);
    g_autoptr(GRand) rng = g_rand_new_with_seed(99);
    size_t len = strlen(json);
    struct {
        void (*edit)(json_object *o);
        int code;
        const char *what;
    } edits[] = {
        {set_version_2, RISK_ERROR_VERSION, "version 2"},
        {set_version_0, RISK_ERROR_VERSION, "version 0"},
        {drop_feature, RISK_ERROR_VERSION, "a feature less"},
        {add_feature, RISK_ERROR_VERSION, "a feature more"},
        {rename_feature, RISK_ERROR_VERSION, "a feature renamed"},
        {swap_features, RISK_ERROR_VERSION, "features reordered"},
        {version_string, RISK_ERROR_FORMAT, "version as a string"},
        {drop_weight, RISK_ERROR_FORMAT, "a weight missing"},
        {string_weight, RISK_ERROR_FORMAT, "a weight as a string"},
        {negative_hessian, RISK_ERROR_FORMAT, "Hessian not definite"},
        {short_hessian, RISK_ERROR_FORMAT, "Hessian short"},
        {bad_reliability, RISK_ERROR_FORMAT, "positives > n"},
        {negative_examples, RISK_ERROR_FORMAT, "negative examples"},
        {zero_precision, RISK_ERROR_FORMAT, "zero prior precision"},
    };
    const char *garbage[] = {
        "",
        " ",
        "null",
        "42",
        "\"model\"",
        "[]",
        "{}",
        "{\"version\":1}",
        "{\"version\":1,\"features\":7}",
        "not json at all",
        "{\"version\":1,,}",
        "\xff\xfe\x00",
        "{\"version\":1e999}",
    };

    for (size_t k = 0; k < G_N_ELEMENTS(edits); k++) {
        g_autofree char *j = edit_json(json, edits[k].edit);

        refused(j, edits[k].code, edits[k].what);
    }
    for (size_t k = 0; k < G_N_ELEMENTS(garbage); k++) {
        refused(garbage[k], RISK_ERROR_FORMAT, garbage[k]);
    }
    {
        /* A weight written as NaN (json-c reads the literal). */
        g_autofree char *j = g_strdup(json);
        char *w = strstr(j, "\"drift\":");

        CU_ASSERT_FATAL(w != NULL);
        w += strlen("\"drift\":");
        memcpy(w, "NaN", 3);
        while (w[3] != ',') {
            w[3] = ' ';
            w++;
        }
        refused(j, RISK_ERROR_FORMAT, "NaN weight");
    }
    {
        g_autofree char *j = g_strconcat(json, " x", NULL);
        g_autofree char *ok = g_strconcat(json, " \n", NULL);
        g_autoptr(RiskModel) m2 = risk_model_from_json(ok, NULL);

        refused(j, RISK_ERROR_FORMAT, "trailing data");
        CU_ASSERT(m2 != NULL);
    }
    refused(NULL, RISK_ERROR_INVALID, "NULL");

    /* Every truncation. */
    for (size_t l = 0; l < len; l++) {
        g_autofree char *j = g_strndup(json, l);
        g_autoptr(GError) err = NULL;
        g_autoptr(RiskModel) t = risk_model_from_json(j, &err);

        CU_ASSERT(t == NULL);
        CU_ASSERT(g_error_matches(err, RISK_ERROR, RISK_ERROR_FORMAT));
    }

    /* Random byte mutations: refused with a code, or a usable model. */
    for (size_t i = 0; i < 3000; i++) {
        g_autofree char *j = g_strdup(json);
        g_autoptr(GError) err = NULL;
        g_autoptr(RiskModel) t = NULL;
        int nmut = g_rand_int_range(rng, 1, 4);

        for (int k = 0; k < nmut; k++) {
            j[g_rand_int_range(rng, 0, len)] =
                (char) g_rand_int_range(rng, 1, 256);
        }
        t = risk_model_from_json(j, &err);
        if (t) {
            double x[K] = {0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 1};
            double p = risk_model_predict(t, x, NULL);

            CU_ASSERT(p > 0 && p < 1);
            risk_model_update(t, x, true);
            CU_ASSERT(isfinite(risk_model_weights(t)[0]));
        } else {
            CU_ASSERT(g_error_matches(err, RISK_ERROR, RISK_ERROR_FORMAT) ||
                      g_error_matches(err, RISK_ERROR, RISK_ERROR_VERSION));
        }
    }
}

/* A stream where probabilities above 0.3 are 90 % precise, those above
 * 0.1 only 40 %: the threshold settles near 0.3, where the precision
 * reaches the 0.8 target, and the stats report it. */
static void
test_threshold(void)
{
    const size_t window = 1000, n = 6000;
    g_autoptr(RiskThreshold) t = risk_threshold_new(0.5, 0.8, window, 20);
    g_autoptr(GRand) rng = g_rand_new_with_seed(5);
    g_autofree double *probs = g_new(double, n);
    g_autofree bool *hap = g_new(bool, n);
    double lo = 1, hi = 0, precision, recall;
    size_t a10 = 0, h10 = 0, a30 = 0, h30 = 0;
    size_t alerts = 0, hits = 0, positives = 0;

    for (size_t i = 0; i < n; i++) {
        double u = g_rand_double(rng);

        if (u < 1.0 / 6) {
            probs[i] = g_rand_double_range(rng, 0.3, 0.9);
            hap[i] = g_rand_double(rng) < 0.9;
        } else if (u < 5.0 / 6) {
            probs[i] = g_rand_double_range(rng, 0.1, 0.3);
            hap[i] = g_rand_double(rng) < 0.275;
        } else {
            probs[i] = g_rand_double_range(rng, 0, 0.1);
            hap[i] = g_rand_double(rng) < 0.02;
        }
        risk_threshold_observe(t, probs[i], hap[i]);
        if (i < 19) {
            /* Fewer than min_alerts: the initial threshold. */
            CU_ASSERT_EQUAL(risk_threshold_value(t), 0.5);
        }
        if (i >= 2 * window) {
            lo = MIN(lo, risk_threshold_value(t));
            hi = MAX(hi, risk_threshold_value(t));
        }
    }
    /* The stream is as described. */
    for (size_t i = n - window; i < n; i++) {
        a10 += probs[i] >= 0.1;
        h10 += probs[i] >= 0.1 && hap[i];
        a30 += probs[i] >= 0.3;
        h30 += probs[i] >= 0.3 && hap[i];
    }
    fprintf(stderr,
            "threshold: precision above 0.1 %.3f, above 0.3 %.3f; "
            "settled in [%.3f, %.3f], now %.3f\n",
            (double) h10 / a10, (double) h30 / a30, lo, hi,
            risk_threshold_value(t));
    CHECK_NEAR((double) h10 / a10, 0.4, 0.05, "stream above 0.1");
    CHECK_NEAR((double) h30 / a30, 0.9, 0.05, "stream above 0.3");
    CU_ASSERT(lo >= 0.24 && hi <= 0.34);

    /* The stats: the window at the current threshold. */
    for (size_t i = n - window; i < n; i++) {
        bool alert = probs[i] >= risk_threshold_value(t);

        alerts += alert;
        hits += alert && hap[i];
        positives += hap[i];
    }
    risk_threshold_stats(t, &precision, &recall);
    fprintf(stderr, "threshold: precision %.3f recall %.3f\n", precision,
            recall);
    CU_ASSERT(precision >= 0.8);
    CHECK_NEAR(precision, (double) hits / alerts, 1e-12, "precision");
    CHECK_NEAR(recall, (double) hits / positives, 1e-12, "recall");
    /* The lowest such threshold: one step lower falls below the target. */
    {
        double below = 0;
        size_t a = 0, h = 0;

        for (size_t i = n - window; i < n; i++) {
            if (probs[i] < risk_threshold_value(t)) {
                below = MAX(below, probs[i]);
            }
        }
        for (size_t i = n - window; i < n; i++) {
            a += probs[i] >= below;
            h += probs[i] >= below && hap[i];
        }
        CU_ASSERT((double) h / a < 0.8);
    }

    /* No value reaches the target: back to the initial threshold. */
    for (size_t i = 0; i < window; i++) {
        risk_threshold_observe(t, g_rand_double(rng), false);
    }
    CU_ASSERT_EQUAL(risk_threshold_value(t), 0.5);
    risk_threshold_stats(t, &precision, &recall);
    CU_ASSERT_EQUAL(precision, 0);
    CU_ASSERT(isnan(recall));
    /* NaN probabilities are ignored. */
    risk_threshold_observe(t, NAN, true);
    CU_ASSERT_EQUAL(risk_threshold_value(t), 0.5);
    {
        g_autoptr(RiskThreshold) e = risk_threshold_new(0.3, 0.8, 10, 1);

        risk_threshold_stats(e, &precision, &recall);
        CU_ASSERT(isnan(precision) && isnan(recall));
        risk_threshold_stats(e, NULL, NULL);
    }
}

/* umbrad's alert rule: one alert while P wavers about the threshold; it
 * closes below 0.8 x the threshold, and NaN changes nothing. */
static void
test_alert_rule(void)
{
    const double p[] = {0.1, 0.5, 0.45, 0.55, NAN, 0.41, 0.39, 0.6, 0.2};
    const UtilLatchChange want[] = {
        UTIL_LATCH_KEPT,  UTIL_LATCH_SET,  UTIL_LATCH_KEPT,
        UTIL_LATCH_KEPT,  UTIL_LATCH_KEPT, UTIL_LATCH_KEPT,
        UTIL_LATCH_RESET, UTIL_LATCH_SET,  UTIL_LATCH_RESET,
    };
    bool open = false;

    for (size_t i = 0; i < G_N_ELEMENTS(p); i++) {
        CU_ASSERT_EQUAL(risk_alert_step(&open, p[i], 0.5), want[i]);
    }
    CU_ASSERT_FALSE(open);
}

static const CutestCase cases[] = {
    {"features", test_features},
    {"prior", test_prior},
    {"calibration", test_calibration},
    {"online_vs_batch", test_online_vs_batch},
    {"explain", test_explain},
    {"nan_features", test_nan_features},
    {"json_roundtrip", test_json_roundtrip},
    {"json_refused", test_json_refused},
    {"threshold", test_threshold},
    {"alert_rule", test_alert_rule},
};

CUTEST_MAIN("failure", cases)
