/*
 * risk/failure.h: the failure-risk model, its calibration and the
 * adaptive alert threshold.
 *
 * P(a domain or host is disrupted within the horizon) is a logistic
 * regression on a fixed, named feature vector (RISK_FEATURES below, each
 * scaled to about [0, 1]).  It starts from documented prior weights, so it
 * gives sensible probabilities before any outcome is known, and learns
 * online from labelled outcomes: each (features, happened?) pair moves the
 * weights by one Newton step of the penalised likelihood, the penalty
 * being a Gaussian prior centred on the prior weights, with the Hessian
 * accumulated (online Newton / recursive IRLS).  On a fixed data set one
 * pass lands close to the batch MAP fit, the gap shrinking about as 1/n
 * (0.07 in log-odds weights at n = 5000; tests/unit/test-failure.c checks
 * it).
 *
 * The model keeps its own reliability table (10 bins of predicted
 * probability: predictions, mean predicted, outcomes), from which
 * calibration (expected calibration error, Brier score) is reported, and
 * explains a prediction by each feature's contribution to the log-odds
 * relative to the prior's reference point.
 *
 * Persisted as versioned JSON (risk_model_to_json()): a model written with
 * another feature set or version is refused with RISK_ERROR_VERSION, and
 * the caller starts again from the prior.
 *
 * RiskThreshold adapts the alert threshold to a target precision from the
 * most recent resolved predictions.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

#include "risk/risk.h"

#define RISK_MODEL_VERSION 1

/* name, description, prior weight */
/* clang-format off */
#define RISK_FEATURES(X)                                                       \
    X(DRIFT, "drift", "largest drift score of the domain's metrics", 12.0)    \
    X(CONTENTION, "contention", "P(host CPU or memory exceeded within 1 h)",   \
      3.0)                                                                     \
    X(HEADROOM, "headroom", "1 - own forecast headroom (hi95 vs vCPUs)", 1.0) \
    X(MEM_PRESSURE, "mem_pressure", "host memory in use, fraction", 1.5)      \
    X(HOST_LOAD, "host_load", "host CPU busy fraction (steal proxy)", 1.0)    \
    X(IO_ERRORS, "io_errors", "log1p(I/O error events, last hour)", 2.0)      \
    X(WATCHDOG, "watchdog", "log1p(watchdog events, last day)", 2.0)          \
    X(CRASHES, "crashes", "log1p(crashes and pauses on error, last day)",     \
      2.0)                                                                     \
    X(LIFECYCLE, "lifecycle", "log1p(unexpected stops/restarts, last day)",  \
      1.0)                                                                     \
    X(INCIDENTS, "incidents", "log1p(incidents recorded, last week)", 1.0)    \
    X(SHADOW, "shadow_unhealthy", "1 when a shadow exists and lags or fails", \
      0.5)
/* clang-format on */

typedef enum {
#define X(NAME, STR, DESC, W) RISK_FEAT_##NAME,
    RISK_FEATURES(X)
#undef X
        RISK_FEAT_LAST
} RiskFeature;

/* The prior intercept: log-odds of a disruption within the horizon with
 * every feature at 0 (about 0.25 %).  With the drift weight of 12, a
 * drift of 0.5 alone (a departure rarer than once a week, risk/profile.h)
 * is even odds, 0.4 is 23 % and 0.6 is 77 %: before any outcome is known,
 * the default alert threshold of 0.5 alerts on drift above 0.5. */
#define RISK_PRIOR_INTERCEPT -6.0

const char *risk_feature_to_string(RiskFeature f);
const char *risk_feature_describe(RiskFeature f);
int risk_feature_from_string(const char *str);

typedef struct RiskModel RiskModel;

/* One feature's part in a prediction. */
typedef struct {
    RiskFeature feature;
    double value;        /* the input as used (0 for NaN, clamped) */
    double contribution; /* weight * value, log-odds */
} RiskReason;

/* A bin of the reliability table. */
typedef struct {
    double lo, hi;    /* predicted probability range */
    size_t n;         /* resolved predictions in it */
    double mean_pred; /* their mean predicted probability (NaN if n is 0) */
    double observed;  /* the fraction that happened (NaN if n is 0) */
} RiskReliabilityBin;

#define RISK_RELIABILITY_BINS 10

typedef struct {
    RiskReliabilityBin bins[RISK_RELIABILITY_BINS];
    size_t n;         /* resolved predictions */
    size_t positives; /* of which happened */
    double brier;     /* mean squared error of the probabilities (NaN if
                       * n is 0) */
    double ece;       /* expected calibration error: sum over bins of
                       * n_b / n |observed_b - mean_pred_b| (NaN if n is 0) */
} RiskReliability;

/*
 * risk_model_new:
 * @prior_precision: strength of the prior (the Gaussian's 1/variance per
 *   weight; 1 is a good default; clamped to [1e-6, 1e6], NaN is taken
 *   as 1)
 *
 * Returns: (transfer full) a model at its prior weights.
 */
RiskModel *risk_model_new(double prior_precision);
void risk_model_free(RiskModel *m);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RiskModel, risk_model_free)

/*
 * risk_model_predict:
 * @x: RISK_FEAT_LAST feature values (NaN = unknown, taken as 0; values
 *   are clamped to [-100, 100])
 * @ret_reasons: (nullable) (out) RISK_FEAT_LAST reasons, largest positive
 *   contribution first (ties in feature order)
 *
 * Returns: the probability, in (0, 1) (log-odds are clamped to +-35).
 */
double risk_model_predict(const RiskModel *m, const double *x,
                          RiskReason *ret_reasons);

/*
 * risk_model_update:
 * @x: the features the prediction was made from
 * @happened: the outcome
 *
 * One online Newton step; also records the prediction the model made for
 * @x before the step in the reliability table.  A step that would make a
 * weight non-finite is not taken (the example is still counted).
 */
void risk_model_update(RiskModel *m, const double *x, bool happened);

/* Weights (RISK_FEAT_LAST + 1: intercept last) and examples learnt from. */
const double *risk_model_weights(const RiskModel *m);
size_t risk_model_examples(const RiskModel *m);
void risk_model_reliability(const RiskModel *m, RiskReliability *ret);

/*
 * risk_model_fit_batch:
 * @x: n rows of RISK_FEAT_LAST features
 * @y: n outcomes
 *
 * The batch MAP fit (Newton to convergence) from the prior, the reference
 * the online updates converge to.  The model's accumulated Hessian is the
 * penalised likelihood's Hessian at the mode, so online updates can go on
 * from it; its reliability table is empty (no prediction was made before
 * learning) and its examples count is @n.  @n may be 0 (the prior).
 * Returns: (transfer full) the model.
 */
RiskModel *risk_model_fit_batch(const double *x, const bool *y, size_t n,
                                double prior_precision);

/* Returns: (transfer full) the model as JSON text. */
char *risk_model_to_json(const RiskModel *m);
/*
 * Returns: (transfer full) the model read back, or NULL with
 * RISK_ERROR_VERSION (another version or feature set),
 * RISK_ERROR_FORMAT (anything else wrong, including a Hessian that is not
 * positive definite) or RISK_ERROR_INVALID (@json NULL).
 */
RiskModel *risk_model_from_json(const char *json, GError **error);

/*
 * RiskThreshold: the alert threshold, adapted so that alerts reach a
 * target precision.  It remembers the last @window resolved predictions
 * (probability, outcome); after each one it sets the threshold to the
 * lowest value whose precision over that window is >= the target, with at
 * least @min_alerts alerts above it; until then (or when no value reaches
 * the target) it keeps the initial threshold.
 *
 * A prediction alerts when prob >= threshold; the candidate thresholds
 * are the probabilities in the window, so the threshold is always one of
 * them or @initial.  @window is clamped to [1, RISK_THRESHOLD_MAX_WINDOW],
 * @min_alerts is at least 1, @initial and @target_precision are clamped
 * to [0, 1]; NaN probabilities are ignored.  When no value reaches the
 * target the threshold goes back to @initial.  O(window log window) per
 * observation.
 */
typedef struct RiskThreshold RiskThreshold;

#define RISK_THRESHOLD_MAX_WINDOW 100000

RiskThreshold *risk_threshold_new(double initial, double target_precision,
                                  size_t window, size_t min_alerts);
void risk_threshold_free(RiskThreshold *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RiskThreshold, risk_threshold_free)
void risk_threshold_observe(RiskThreshold *t, double prob, bool happened);
double risk_threshold_value(const RiskThreshold *t);
/* Returns: the precision and recall over the window at the current
 * threshold (NaN when undefined); either pointer may be NULL. */
void risk_threshold_stats(const RiskThreshold *t, double *ret_precision,
                          double *ret_recall);
