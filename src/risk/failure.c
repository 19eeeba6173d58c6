/*
 * risk/failure.c: the failure-risk model (a logistic regression learnt
 * online, calibrated and explained) and the adaptive alert threshold
 * (failure.h).
 *
 * Model.  With x~ = (x_1 .. x_K, 1) (K = RISK_FEAT_LAST features, the
 * intercept last), P(disruption) = sigma(w . x~).  The weights have a
 * Gaussian prior N(w0, I / lambda) centred on the documented prior
 * weights (RISK_FEATURES' 4th column, RISK_PRIOR_INTERCEPT), so the
 * posterior mode (MAP) minimises
 *
 *   L(w) = sum_i [log(1 + e^z_i) - y_i z_i] + lambda / 2 |w - w0|^2,
 *   z_i = w . x~_i.
 *
 * Online (risk_model_update()): the model keeps the weights and the
 * accumulated Hessian A (A_0 = lambda I).  For one example, with p the
 * prediction before the step:
 *
 *   A += p (1 - p) x~ x~^T,    w -= A^-1 (p - y) x~
 *
 * which is the exact minimiser of the prior plus each example's loss
 * replaced by its second-order expansion at the weights it was seen with
 * (online Newton, or recursive IRLS).  It tracks the batch MAP closely
 * once the weights settle (tests/unit/test-failure.c measures the gap).
 * Each step solves a (K+1)^2 = 12 x 12 system by Cholesky: about 1.5k
 * flops.
 *
 * Batch (risk_model_fit_batch()): Newton's method on L from w0, halving the
 * step while L does not fall, until the step is below 1e-10; the model's
 * Hessian is then L's Hessian at the mode, so online updates continue from
 * the batch fit as if they had made it.
 *
 * Calibration.  Each update first records the prediction the model made
 * for the example (before learning from it) in one of 10 bins of
 * predicted probability: count, sum of predictions, outcomes, and the
 * squared error; the reliability table, Brier score and expected
 * calibration error (sum over bins of n_b / n |observed_b - mean_b|) come
 * from those sums.  These are honest out-of-sample figures: no prediction
 * is scored after its own example was learnt.
 *
 * Explanation.  A feature's contribution is w_k x_k: its part of the
 * log-odds relative to the reference point x = 0 (where only the
 * intercept speaks); reasons are sorted by contribution, largest first.
 *
 * Persistence.  JSON with "version" (RISK_MODEL_VERSION), "features" (the
 * names, in order), "prior_precision", "examples", "weights" (by name, and
 * "intercept"), "hessian" (upper triangle, row-major) and "reliability".
 * Doubles are written with 17 significant digits, so a round trip gives
 * bit-identical predictions.  The reader checks every field, and a
 * Hessian that is not positive definite is refused.
 *
 * Threshold.  A ring of the last `window` resolved (probability, outcome)
 * pairs; after each, a sort by probability and one sweep from the top
 * give the precision of every candidate threshold (each distinct
 * probability in the window, alerting when prob >= threshold): the lowest
 * one with at least `min_alerts` alerts and precision >= the target wins.
 * O(window log window) per observation.
 *
 * Pure: no clock, no I/O; nothing here returns NaN except where failure.h
 * says "NaN when undefined".
 */
#include "risk/failure.h"

#include <json-c/json.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "util/autoptr.h"

#define NW (RISK_FEAT_LAST + 1) /* weights, intercept last */
#define NTRI (NW * (NW + 1) / 2)

/* Log-odds are clamped to this, so probabilities stay inside (0, 1). */
#define MAX_LOGIT 35.0
/* Feature values are clamped to this: the features are scaled to about
 * [0, 1] (counts through log1p), so anything larger is a broken input. */
#define MAX_FEATURE 100.0

#define PRIOR_PRECISION_MIN 1e-6
#define PRIOR_PRECISION_MAX 1e6

/* Batch fit: Newton iterations, step halvings, convergence. */
#define BATCH_MAX_ITER 100
#define BATCH_MAX_HALVINGS 40
#define BATCH_TOL 1e-10

/* ---------------------------------------------------------------------- */
/* Features */

static const struct {
    const char *name;
    const char *desc;
    double prior;
} features[] = {
#define X(NAME, STR, DESC, W) {STR, DESC, W},
    RISK_FEATURES(X)
#undef X
};
G_STATIC_ASSERT(G_N_ELEMENTS(features) == RISK_FEAT_LAST);

const char *
risk_feature_to_string(RiskFeature f)
{
    if ((int) f < 0 || f >= RISK_FEAT_LAST) {
        return "unknown";
    }
    return features[f].name;
}

const char *
risk_feature_describe(RiskFeature f)
{
    if ((int) f < 0 || f >= RISK_FEAT_LAST) {
        return "unknown feature";
    }
    return features[f].desc;
}

int
risk_feature_from_string(const char *str)
{
    for (int i = 0; str && i < RISK_FEAT_LAST; i++) {
        if (strcmp(str, features[i].name) == 0) {
            return i;
        }
    }
    return -1;
}

/* ---------------------------------------------------------------------- */
/* The model */

/* One bin of the reliability table, as sums. */
typedef struct {
    uint64_t n;         /* resolved predictions */
    uint64_t positives; /* of which happened */
    double sum_pred;    /* sum of their predicted probabilities */
} RelSums;

struct RiskModel {
    double prior_precision;             /* lambda */
    double w[NW];                       /* weights, intercept last */
    double hess[NW][NW];                /* accumulated Hessian A */
    uint64_t examples;                  /* examples learnt from */
    RelSums rel[RISK_RELIABILITY_BINS]; /* reliability table */
    double brier_sum;                   /* sum of (p - y)^2 */
};

static double
prior_weight(size_t k)
{
    return k < RISK_FEAT_LAST ? features[k].prior : RISK_PRIOR_INTERCEPT;
}

/* Fills @xt with the features as used (unknown = 0, clamped) and 1. */
static void
extend(const double *x, double xt[NW])
{
    for (size_t k = 0; k < RISK_FEAT_LAST; k++) {
        double v = x[k];

        if (isnan(v)) {
            v = 0.0;
        }
        xt[k] = CLAMP(v, -MAX_FEATURE, MAX_FEATURE);
    }
    xt[RISK_FEAT_LAST] = 1.0;
}

static double
dot(const double *a, const double *b)
{
    double s = 0.0;

    for (size_t k = 0; k < NW; k++) {
        s += a[k] * b[k];
    }
    return s;
}

/* Returns: sigma(@z), computed without overflow. */
static double
sigmoid(double z)
{
    double e;

    if (z >= 0) {
        return 1.0 / (1.0 + exp(-z));
    }
    e = exp(z);
    return e / (1.0 + e);
}

/* Returns: log(1 + e^@z) without overflow. */
static double
log1pexp(double z)
{
    return z > 0 ? z + log1p(exp(-z)) : log1p(exp(z));
}

static double
predict_xt(const double *w, const double xt[NW])
{
    double z = dot(w, xt);

    if (isnan(z)) {
        z = 0.0;
    }
    return sigmoid(CLAMP(z, -MAX_LOGIT, MAX_LOGIT));
}

/*
 * Solves A x = b for a symmetric positive definite A by Cholesky (A is
 * not modified).  Returns: false if A is not numerically positive
 * definite (@x untouched).
 */
static bool
solve_spd(const double a[NW][NW], const double *b, double *x)
{
    double l[NW][NW] = {{0}};
    double y[NW];

    for (size_t i = 0; i < NW; i++) {
        for (size_t j = 0; j <= i; j++) {
            double s = a[i][j];

            for (size_t k = 0; k < j; k++) {
                s -= l[i][k] * l[j][k];
            }
            if (i == j) {
                if (!(s > 1e-300) || !isfinite(s)) {
                    return false;
                }
                l[i][i] = sqrt(s);
            } else {
                l[i][j] = s / l[j][j];
            }
        }
    }
    for (size_t i = 0; i < NW; i++) {
        double s = b[i];

        for (size_t k = 0; k < i; k++) {
            s -= l[i][k] * y[k];
        }
        y[i] = s / l[i][i];
    }
    for (size_t i = NW; i-- > 0;) {
        double s = y[i];

        for (size_t k = i + 1; k < NW; k++) {
            s -= l[k][i] * x[k];
        }
        x[i] = s / l[i][i];
    }
    return true;
}

/* Adds @c @xt @xt^T to @a, keeping it exactly symmetric. */
static void
add_outer(double a[NW][NW], double c, const double xt[NW])
{
    for (size_t i = 0; i < NW; i++) {
        for (size_t j = i; j < NW; j++) {
            double v = c * xt[i] * xt[j];

            a[i][j] += v;
            if (j != i) {
                a[j][i] += v;
            }
        }
    }
}

static double
sanitize_precision(double lambda)
{
    if (isnan(lambda)) {
        return 1.0;
    }
    return CLAMP(lambda, PRIOR_PRECISION_MIN, PRIOR_PRECISION_MAX);
}

RiskModel *
risk_model_new(double prior_precision)
{
    RiskModel *m = g_new0(RiskModel, 1);

    m->prior_precision = sanitize_precision(prior_precision);
    for (size_t k = 0; k < NW; k++) {
        m->w[k] = prior_weight(k);
        m->hess[k][k] = m->prior_precision;
    }
    return m;
}

void
risk_model_free(RiskModel *m)
{
    g_free(m);
}

/* Sorts @r by contribution, largest first (then by feature, for ties). */
static void
sort_reasons(RiskReason *r, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        RiskReason v = r[i];
        size_t j = i;

        while (j > 0 && (r[j - 1].contribution < v.contribution ||
                         (r[j - 1].contribution == v.contribution &&
                          r[j - 1].feature > v.feature))) {
            r[j] = r[j - 1];
            j--;
        }
        r[j] = v;
    }
}

double
risk_model_predict(const RiskModel *m, const double *x, RiskReason *ret_reasons)
{
    double xt[NW];

    g_return_val_if_fail(m && x, 0.5);
    extend(x, xt);
    if (ret_reasons) {
        for (size_t k = 0; k < RISK_FEAT_LAST; k++) {
            ret_reasons[k].feature = k;
            ret_reasons[k].value = xt[k];
            ret_reasons[k].contribution = m->w[k] * xt[k];
        }
        sort_reasons(ret_reasons, RISK_FEAT_LAST);
    }
    return predict_xt(m->w, xt);
}

static size_t
bin_of(double p)
{
    size_t b = (size_t) (p * RISK_RELIABILITY_BINS);

    return MIN(b, RISK_RELIABILITY_BINS - 1);
}

void
risk_model_update(RiskModel *m, const double *x, bool happened)
{
    double xt[NW], g[NW], step[NW], w[NW];
    double y = happened ? 1.0 : 0.0;
    double p;
    RelSums *bin;

    g_return_if_fail(m && x);
    extend(x, xt);
    p = predict_xt(m->w, xt);

    bin = &m->rel[bin_of(p)];
    bin->n++;
    bin->positives += happened;
    bin->sum_pred += p;
    m->brier_sum += (p - y) * (p - y);

    add_outer(m->hess, p * (1.0 - p), xt);
    for (size_t k = 0; k < NW; k++) {
        g[k] = (p - y) * xt[k];
    }
    m->examples++;
    if (!solve_spd(m->hess, g, step)) {
        return;
    }
    for (size_t k = 0; k < NW; k++) {
        w[k] = m->w[k] - step[k];
        if (!isfinite(w[k])) {
            return;
        }
    }
    memcpy(m->w, w, sizeof(w));
}

const double *
risk_model_weights(const RiskModel *m)
{
    return m->w;
}

size_t
risk_model_examples(const RiskModel *m)
{
    return m->examples;
}

void
risk_model_reliability(const RiskModel *m, RiskReliability *ret)
{
    RiskReliability r = {0};
    double ece = 0.0;

    for (size_t b = 0; b < RISK_RELIABILITY_BINS; b++) {
        const RelSums *s = &m->rel[b];
        RiskReliabilityBin *o = &r.bins[b];

        o->lo = (double) b / RISK_RELIABILITY_BINS;
        o->hi = (double) (b + 1) / RISK_RELIABILITY_BINS;
        o->n = s->n;
        o->mean_pred = s->n ? s->sum_pred / s->n : NAN;
        o->observed = s->n ? (double) s->positives / s->n : NAN;
        r.n += s->n;
        r.positives += s->positives;
        if (s->n) {
            ece += s->n * fabs(o->observed - o->mean_pred);
        }
    }
    r.brier = r.n ? m->brier_sum / r.n : NAN;
    r.ece = r.n ? ece / r.n : NAN;
    *ret = r;
}

/* Returns: the batch objective L(@w) (see the file comment). */
static double
batch_loss(const double *w, const double *x, const bool *y, size_t n,
           double lambda)
{
    double l = 0.0, xt[NW];

    for (size_t i = 0; i < n; i++) {
        double z;

        extend(x + i * RISK_FEAT_LAST, xt);
        z = dot(w, xt);
        l += log1pexp(z) - (y[i] ? z : 0.0);
    }
    for (size_t k = 0; k < NW; k++) {
        double d = w[k] - prior_weight(k);

        l += 0.5 * lambda * d * d;
    }
    return l;
}

/* Fills @g and @h with L's gradient and Hessian at @w. */
static void
batch_derivatives(const double *w, const double *x, const bool *y, size_t n,
                  double lambda, double g[NW], double h[NW][NW])
{
    double xt[NW];

    memset(h, 0, sizeof(double) * NW * NW);
    for (size_t k = 0; k < NW; k++) {
        g[k] = lambda * (w[k] - prior_weight(k));
        h[k][k] = lambda;
    }
    for (size_t i = 0; i < n; i++) {
        double p;

        extend(x + i * RISK_FEAT_LAST, xt);
        p = sigmoid(dot(w, xt));
        for (size_t k = 0; k < NW; k++) {
            g[k] += (p - (y[i] ? 1.0 : 0.0)) * xt[k];
        }
        add_outer(h, p * (1.0 - p), xt);
    }
}

RiskModel *
risk_model_fit_batch(const double *x, const bool *y, size_t n,
                     double prior_precision)
{
    g_autoptr(RiskModel) m = risk_model_new(prior_precision);
    double g[NW], step[NW], trial[NW];
    double loss;

    g_return_val_if_fail(n == 0 || (x && y), NULL);
    loss = batch_loss(m->w, x, y, n, m->prior_precision);
    for (int it = 0; it < BATCH_MAX_ITER; it++) {
        double s = 1.0, max_step = 0.0, trial_loss = loss;
        bool moved = false;

        batch_derivatives(m->w, x, y, n, m->prior_precision, g, m->hess);
        if (!solve_spd(m->hess, g, step)) {
            break;
        }
        for (int half = 0; half < BATCH_MAX_HALVINGS; half++, s *= 0.5) {
            for (size_t k = 0; k < NW; k++) {
                trial[k] = m->w[k] - s * step[k];
            }
            trial_loss = batch_loss(trial, x, y, n, m->prior_precision);
            if (trial_loss <= loss) {
                moved = true;
                break;
            }
        }
        if (!moved) {
            break;
        }
        for (size_t k = 0; k < NW; k++) {
            max_step = MAX(max_step, fabs(trial[k] - m->w[k]));
        }
        memcpy(m->w, trial, sizeof(trial));
        loss = trial_loss;
        if (max_step < BATCH_TOL) {
            break;
        }
    }
    batch_derivatives(m->w, x, y, n, m->prior_precision, g, m->hess);
    m->examples = n;
    return g_steal_pointer(&m);
}

/* ---------------------------------------------------------------------- */
/* JSON */

char *
risk_model_to_json(const RiskModel *m)
{
    g_autoptr(json_object) o = json_object_new_object();
    json_object *names = json_object_new_array();
    json_object *weights = json_object_new_object();
    json_object *hess = json_object_new_array();
    json_object *rel = json_object_new_object();
    json_object *rel_n = json_object_new_array();
    json_object *rel_pos = json_object_new_array();
    json_object *rel_sum = json_object_new_array();

    g_return_val_if_fail(m, NULL);

    json_object_object_add(o, "version",
                           json_object_new_int(RISK_MODEL_VERSION));
    for (size_t k = 0; k < RISK_FEAT_LAST; k++) {
        json_object_array_add(names, json_object_new_string(features[k].name));
        json_object_object_add(weights, features[k].name,
                               json_object_new_double(m->w[k]));
    }
    json_object_object_add(weights, "intercept",
                           json_object_new_double(m->w[RISK_FEAT_LAST]));
    for (size_t i = 0; i < NW; i++) {
        for (size_t j = i; j < NW; j++) {
            json_object_array_add(hess, json_object_new_double(m->hess[i][j]));
        }
    }
    for (size_t b = 0; b < RISK_RELIABILITY_BINS; b++) {
        json_object_array_add(rel_n, json_object_new_uint64(m->rel[b].n));
        json_object_array_add(rel_pos,
                              json_object_new_uint64(m->rel[b].positives));
        json_object_array_add(rel_sum,
                              json_object_new_double(m->rel[b].sum_pred));
    }
    json_object_object_add(rel, "n", rel_n);
    json_object_object_add(rel, "positives", rel_pos);
    json_object_object_add(rel, "sum_pred", rel_sum);
    json_object_object_add(rel, "brier_sum",
                           json_object_new_double(m->brier_sum));

    json_object_object_add(o, "features", names);
    json_object_object_add(o, "prior_precision",
                           json_object_new_double(m->prior_precision));
    json_object_object_add(o, "examples", json_object_new_uint64(m->examples));
    json_object_object_add(o, "weights", weights);
    json_object_object_add(o, "hessian", hess);
    json_object_object_add(o, "reliability", rel);
    return g_strdup(json_object_to_json_string_ext(
        o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* Returns: the member @key of @o if it has type @type, else NULL. */
static json_object *
member(json_object *o, const char *key, json_type type)
{
    json_object *v = NULL;

    if (!json_object_object_get_ex(o, key, &v) || !v ||
        !json_object_is_type(v, type)) {
        return NULL;
    }
    return v;
}

/* Returns: the member @key of @o, whatever its type, or NULL. */
static json_object *
number_member(json_object *o, const char *key)
{
    json_object *v = NULL;

    if (!json_object_object_get_ex(o, key, &v)) {
        return NULL;
    }
    return v;
}

/* Reads a finite number (int or double) into @ret. */
static bool
get_double(json_object *v, double *ret)
{
    double d;

    if (!v || !(json_object_is_type(v, json_type_double) ||
                json_object_is_type(v, json_type_int))) {
        return false;
    }
    d = json_object_get_double(v);
    if (!isfinite(d)) {
        return false;
    }
    *ret = d;
    return true;
}

/* Reads a non-negative integer into @ret. */
static bool
get_count(json_object *v, uint64_t *ret)
{
    if (!v || !json_object_is_type(v, json_type_int)) {
        return false;
    }
    if (json_object_get_int64(v) < 0) {
        return false;
    }
    *ret = json_object_get_uint64(v);
    return true;
}

/* Returns: the array member @key of @o if it has @len elements. */
static json_object *
array_member(json_object *o, const char *key, size_t len)
{
    json_object *a = member(o, key, json_type_array);

    if (!a || json_object_array_length(a) != len) {
        return NULL;
    }
    return a;
}

/* Fills @m (the version and feature set already checked) from @o.
 * Returns: false with a message in @ret_what on a malformed field. */
static bool
model_from_object(RiskModel *m, json_object *o, const char **ret_what)
{
    json_object *weights, *hess, *rel, *rel_n, *rel_pos, *rel_sum;
    double lambda;
    uint64_t total = 0;

    *ret_what = "prior_precision";
    if (!get_double(number_member(o, "prior_precision"), &lambda) ||
        lambda != sanitize_precision(lambda)) {
        return false;
    }
    m->prior_precision = lambda;
    *ret_what = "examples";
    if (!get_count(member(o, "examples", json_type_int), &m->examples)) {
        return false;
    }

    *ret_what = "weights";
    weights = member(o, "weights", json_type_object);
    if (!weights) {
        return false;
    }
    for (size_t k = 0; k < NW; k++) {
        const char *key = k < RISK_FEAT_LAST ? features[k].name : "intercept";
        json_object *v = NULL;

        if (!json_object_object_get_ex(weights, key, &v) ||
            !get_double(v, &m->w[k])) {
            return false;
        }
    }

    *ret_what = "hessian";
    hess = array_member(o, "hessian", NTRI);
    if (!hess) {
        return false;
    }
    for (size_t i = 0, idx = 0; i < NW; i++) {
        for (size_t j = i; j < NW; j++, idx++) {
            double v;

            if (!get_double(json_object_array_get_idx(hess, idx), &v)) {
                return false;
            }
            m->hess[i][j] = m->hess[j][i] = v;
        }
    }
    {
        double b[NW] = {0}, sol[NW];

        if (!solve_spd(m->hess, b, sol)) {
            *ret_what = "hessian (not positive definite)";
            return false;
        }
    }

    *ret_what = "reliability";
    rel = member(o, "reliability", json_type_object);
    if (!rel) {
        return false;
    }
    rel_n = array_member(rel, "n", RISK_RELIABILITY_BINS);
    rel_pos = array_member(rel, "positives", RISK_RELIABILITY_BINS);
    rel_sum = array_member(rel, "sum_pred", RISK_RELIABILITY_BINS);
    if (!rel_n || !rel_pos || !rel_sum) {
        return false;
    }
    for (size_t b = 0; b < RISK_RELIABILITY_BINS; b++) {
        RelSums *s = &m->rel[b];

        if (!get_count(json_object_array_get_idx(rel_n, b), &s->n) ||
            !get_count(json_object_array_get_idx(rel_pos, b), &s->positives) ||
            !get_double(json_object_array_get_idx(rel_sum, b), &s->sum_pred) ||
            s->positives > s->n || s->sum_pred < 0 ||
            s->sum_pred > (double) s->n) {
            return false;
        }
        total += s->n;
    }
    if (!get_double(number_member(rel, "brier_sum"), &m->brier_sum) ||
        m->brier_sum < 0 || m->brier_sum > (double) total) {
        return false;
    }
    return true;
}

RiskModel *
risk_model_from_json(const char *json, GError **error)
{
    g_autoptr(json_tokener) tok = NULL;
    g_autoptr(json_object) o = NULL;
    g_autoptr(RiskModel) m = NULL;
    json_object *names, *ver;
    const char *what = NULL;
    size_t len;

    if (!json) {
        g_set_error(error, RISK_ERROR, RISK_ERROR_INVALID, "no model text");
        return NULL;
    }
    len = strlen(json);
    if (len > INT_MAX) {
        g_set_error(error, RISK_ERROR, RISK_ERROR_FORMAT,
                    "model text too long");
        return NULL;
    }
    tok = json_tokener_new();
    o = json_tokener_parse_ex(tok, json, (int) len);
    if (!o || json_tokener_get_error(tok) != json_tokener_success) {
        g_set_error(error, RISK_ERROR, RISK_ERROR_FORMAT,
                    "model: not JSON (%s)",
                    json_tokener_error_desc(json_tokener_get_error(tok)));
        return NULL;
    }
    for (size_t i = json_tokener_get_parse_end(tok); i < len; i++) {
        if (!g_ascii_isspace(json[i])) {
            g_set_error(error, RISK_ERROR, RISK_ERROR_FORMAT,
                        "model: trailing data at offset %zu", i);
            return NULL;
        }
    }
    if (!json_object_is_type(o, json_type_object)) {
        g_set_error(error, RISK_ERROR, RISK_ERROR_FORMAT,
                    "model: not a JSON object");
        return NULL;
    }
    ver = member(o, "version", json_type_int);
    if (!ver) {
        g_set_error(error, RISK_ERROR, RISK_ERROR_FORMAT,
                    "model: no integer version");
        return NULL;
    }
    if (json_object_get_int64(ver) != RISK_MODEL_VERSION) {
        g_set_error(error, RISK_ERROR, RISK_ERROR_VERSION,
                    "model: version %" G_GINT64_FORMAT ", expected %d",
                    (gint64) json_object_get_int64(ver), RISK_MODEL_VERSION);
        return NULL;
    }
    names = member(o, "features", json_type_array);
    if (!names) {
        g_set_error(error, RISK_ERROR, RISK_ERROR_FORMAT,
                    "model: no feature list");
        return NULL;
    }
    for (size_t k = 0; k < json_object_array_length(names); k++) {
        if (!json_object_is_type(json_object_array_get_idx(names, k),
                                 json_type_string)) {
            g_set_error(error, RISK_ERROR, RISK_ERROR_FORMAT,
                        "model: feature %zu is not a name", k);
            return NULL;
        }
    }
    if (json_object_array_length(names) != RISK_FEAT_LAST) {
        g_set_error(error, RISK_ERROR, RISK_ERROR_VERSION,
                    "model: %zu features, expected %d",
                    json_object_array_length(names), RISK_FEAT_LAST);
        return NULL;
    }
    for (size_t k = 0; k < RISK_FEAT_LAST; k++) {
        const char *name =
            json_object_get_string(json_object_array_get_idx(names, k));

        if (strcmp(name, features[k].name) != 0) {
            g_set_error(error, RISK_ERROR, RISK_ERROR_VERSION,
                        "model: feature %zu is '%s', expected '%s'", k, name,
                        features[k].name);
            return NULL;
        }
    }

    m = risk_model_new(1.0);
    if (!model_from_object(m, o, &what)) {
        g_set_error(error, RISK_ERROR, RISK_ERROR_FORMAT,
                    "model: bad or missing %s", what);
        return NULL;
    }
    return g_steal_pointer(&m);
}

/* ---------------------------------------------------------------------- */
/* The adaptive threshold */

typedef struct {
    double prob;   /* predicted probability */
    bool happened; /* outcome */
} Resolved;

struct RiskThreshold {
    double initial;    /* the threshold before enough evidence */
    double target;     /* target precision */
    double value;      /* the current threshold */
    size_t window;     /* capacity of @ring */
    size_t min_alerts; /* alerts needed for a precision to count */
    Resolved *ring;    /* the last resolved predictions */
    size_t len;        /* entries in @ring */
    size_t head;       /* next slot to write */
    Resolved *sorted;  /* scratch, @window entries */
};

RiskThreshold *
risk_threshold_new(double initial, double target_precision, size_t window,
                   size_t min_alerts)
{
    RiskThreshold *t = g_new0(RiskThreshold, 1);

    t->initial = isnan(initial) ? 0.5 : CLAMP(initial, 0.0, 1.0);
    t->target =
        isnan(target_precision) ? 1.0 : CLAMP(target_precision, 0.0, 1.0);
    t->value = t->initial;
    t->window = CLAMP(window, 1, RISK_THRESHOLD_MAX_WINDOW);
    t->min_alerts = MAX(min_alerts, 1);
    t->ring = g_new0(Resolved, t->window);
    t->sorted = g_new0(Resolved, t->window);
    return t;
}

void
risk_threshold_free(RiskThreshold *t)
{
    if (!t) {
        return;
    }
    g_free(t->ring);
    g_free(t->sorted);
    g_free(t);
}

static int
by_prob_desc(const void *a, const void *b)
{
    double pa = ((const Resolved *) a)->prob;
    double pb = ((const Resolved *) b)->prob;

    return (pa < pb) - (pa > pb);
}

void
risk_threshold_observe(RiskThreshold *t, double prob, bool happened)
{
    size_t alerts = 0, hits = 0;
    bool found = false;
    double best = t->initial;

    g_return_if_fail(t);
    if (isnan(prob)) {
        return;
    }
    t->ring[t->head] = (Resolved){CLAMP(prob, 0.0, 1.0), happened};
    t->head = (t->head + 1) % t->window;
    t->len = MIN(t->len + 1, t->window);

    memcpy(t->sorted, t->ring, t->len * sizeof(Resolved));
    qsort(t->sorted, t->len, sizeof(Resolved), by_prob_desc);
    for (size_t i = 0; i < t->len; i++) {
        alerts++;
        hits += t->sorted[i].happened;
        if (i + 1 < t->len && t->sorted[i + 1].prob == t->sorted[i].prob) {
            continue; /* a threshold cannot split equal probabilities */
        }
        if (alerts >= t->min_alerts &&
            (double) hits >= t->target * (double) alerts - 1e-9) {
            best = t->sorted[i].prob;
            found = true;
        }
    }
    t->value = found ? best : t->initial;
}

double
risk_threshold_value(const RiskThreshold *t)
{
    return t->value;
}

void
risk_threshold_stats(const RiskThreshold *t, double *ret_precision,
                     double *ret_recall)
{
    size_t alerts = 0, hits = 0, positives = 0;

    for (size_t i = 0; i < t->len; i++) {
        bool alert = t->ring[i].prob >= t->value;

        alerts += alert;
        hits += alert && t->ring[i].happened;
        positives += t->ring[i].happened;
    }
    if (ret_precision) {
        *ret_precision = alerts ? (double) hits / alerts : NAN;
    }
    if (ret_recall) {
        *ret_recall = positives ? (double) hits / positives : NAN;
    }
}
