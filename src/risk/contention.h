/*
 * risk/contention.h: the probability that demand on a host or a cell
 * exceeds its capacity within 5 minutes, 15 minutes and 1 hour.
 *
 * Input: for each domain on the host (or every host of the cell), the
 * forecast of one resource (CPU, memory or I/O) on a common grid of
 * horizons, as mean and 95 % interval (forecast/ gives both); the
 * resource's capacity.  Each domain's forecast at a horizon is read as a
 * normal distribution (sd = (hi95 - lo95) / (2 * 1.96); skewed intervals
 * use the half on the side of the capacity: the upper half while the summed
 * mean is below the capacity, the lower one otherwise, the other half when
 * one bound is unknown).  Demand is their sum, with a configurable
 * correlation rho between domains' errors (0 = independent, 1 = all err
 * together):
 *
 *   mean_t = sum mean_i,t    var_t = sum sd_i,t^2 + rho sum_{i != j} sd_i sd_j
 *
 * P(crossing within H) = max over grid steps t <= H of P(demand_t >
 * capacity): exact when forecast errors are perfectly correlated across
 * steps, which is close for the smooth paths of these models, and never
 * below the single-step risk.  A horizon's demand, sd and headroom are those
 * of its last grid step; when the grid's first step is already beyond a
 * horizon, that first step stands for it (so P never falls as the horizon
 * grows), and a grid shorter than 1 h has its last step stand for the
 * longer horizons.  The expected time of crossing is the first step at
 * which the mean path reaches the capacity, or, if it never does, the
 * first step where P exceeds 0.5 (under the normal model the mean rule
 * already covers it); none when neither happens.
 *
 * Pure, O(domains x steps).
 *
 * RiskContentionCal (below) replaces these probabilities by empirical ones
 * learnt from a host's own recent forecast errors.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

#include "risk/risk.h"

/* One domain's forecast of one resource on the common grid. */
typedef struct {
    const double *mean; /* nsteps values (NaN = unknown: contributes 0 to
                         * the mean and its last known sd) */
    const double *lo95; /* nsteps values */
    const double *hi95; /* nsteps values */
} RiskPath;

typedef struct {
    double p[RISK_HORIZON_LAST];        /* P(demand > capacity) within each */
    double demand[RISK_HORIZON_LAST];   /* mean demand at the horizon's end */
    double sd[RISK_HORIZON_LAST];       /* its sd */
    double headroom[RISK_HORIZON_LAST]; /* capacity - demand (may be < 0) */
    double t_cross_s;                   /* expected time of crossing from now,
                                         * seconds; INFINITY when none */
    double now_demand;                  /* the first step's mean demand */
} RiskContention;

/*
 * risk_contention_compute:
 * @paths, @npaths: the domains' forecasts (npaths may be 0: no demand)
 * @steps_s, @nsteps: the grid, seconds ahead, increasing, > 0
 * @capacity: the resource's capacity in the forecasts' unit (> 0)
 * @rho: correlation of errors between domains, [0, 1]
 * @ret: (out)
 *
 * Returns: false with RISK_ERROR_INVALID on a bad argument (@ret
 * untouched).  Probabilities are in [0, 1], never NaN.
 */
bool risk_contention_compute(const RiskPath *paths, size_t npaths,
                             const double *steps_s, size_t nsteps,
                             double capacity, double rho, RiskContention *ret,
                             GError **error);

/*
 * risk_exceed_prob:
 * Returns: P(X > capacity) for X normal(@mean, @sd) (a step function when
 * @sd is 0); in [0, 1].
 */
double risk_exceed_prob(double mean, double sd, double capacity);

/*
 * The empirical calibration of the summed forecast (RiskContentionCal).
 *
 * The normal model above reads each domain's interval and assumes one
 * correlation: peaks of the sum are poorly calibrated.  The calibrator
 * instead learns, from the host's own recent past, how the summed mean
 * path errs.  It keeps one origin per @step_s (the last @window of them):
 * the observed demand and the summed mean forecast 1..H steps ahead.  For
 * an origin s, a step k ahead, its error is r(s,k) = demand(s+k) -
 * mean(s,k), and its latest one-step error e(s) = demand(s) - mean(s-1,1).
 * Now (origin t), per step k:
 *
 *   phi_k   = least squares slope of r(., k) on e(.) over the window
 *             (how much of the current surprise persists k steps on);
 *   demand~ = mean(t,k) + phi_k e(t) + (r(s,k) - phi_k e(s))
 *
 * over every past origin s whose outcomes are known (conformal-style: the
 * recent distribution of the errors at each lead, no normal assumption,
 * and each past origin's errors kept together across leads, so their
 * dependence between steps is the observed one).  P(overload within H) is
 * the share of those origins for which demand~ exceeds the capacity for
 * @min_run consecutive steps, the first of them within H (1: any step
 * above; 2: an overload lasting at least two steps).
 *
 * Causal: only demand already observed enters.  Origins are taken at most
 * once per step; an outcome k steps after an origin is the origin taken
 * k steps (within half a step) later, so across a gap there is none and
 * the origins before it are not used.  Until @min_origins origins have known
 * outcomes the calibrator answers nothing, and the caller keeps the normal
 * model.
 */
typedef struct RiskContentionCal RiskContentionCal;

/*
 * risk_contention_cal_new:
 * @step_s: seconds between origins (> 0)
 * @window: origins kept (>= 2)
 * @min_run: consecutive steps above capacity that make an overload (>= 1)
 * @min_origins: origins with known outcomes needed before answering (>= 1)
 *
 * Returns: (transfer full) a new calibrator, free with
 * risk_contention_cal_free(); NULL with RISK_ERROR_INVALID on a bad
 * argument.
 */
RiskContentionCal *risk_contention_cal_new(double step_s, size_t window,
                                           size_t min_run, size_t min_origins,
                                           GError **error);
void risk_contention_cal_free(RiskContentionCal *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RiskContentionCal, risk_contention_cal_free)

/*
 * risk_contention_cal_observe:
 * @now_s: the time, seconds (any epoch; not decreasing)
 * @demand: the demand observed now (NaN: unknown)
 * @mean, @steps_s, @nsteps: the summed mean forecast on its grid (as given
 *   to risk_contention_compute(); risk_contention_sum_mean() sums it)
 *
 * Records an origin when @now_s falls in a later step slot (the time
 * divided by @step_s, rounded) than the last origin; other ticks are
 * ignored.  The path is read at multiples of @step_s by linear
 * interpolation (its first / last value outside the grid).  NaN values are
 * kept as unknown.  A recorded origin costs O(window x leads) (the slopes
 * are refreshed), any other call O(1).
 */
void risk_contention_cal_observe(RiskContentionCal *c, double now_s,
                                 double demand, const double *mean,
                                 const double *steps_s, size_t nsteps);

/*
 * risk_contention_cal_prob:
 * @now_s: the time, seconds (not before the last origin recorded)
 * @demand: the demand observed now (NaN: unknown)
 * @mean, @steps_s, @nsteps: the summed mean forecast made now
 * @capacity: the capacity (> 0)
 * @ret: (out) RISK_HORIZON_LAST values: P(an overload of @min_run steps
 *   begins within each horizon)
 *
 * The current surprise e(now) is @demand minus the forecast of the latest
 * origin at least half a step old, read at @now_s (0 when that origin is
 * more than 1.5 steps old or unknown).
 *
 * Returns: false when there is not enough history yet (fewer than
 * @min_origins usable past origins for some horizon) or the current path
 * is unknown; @ret is then untouched.  Probabilities are in [0, 1], never
 * NaN, and never fall as the horizon grows.  Cost O(window x leads).
 */
bool risk_contention_cal_prob(const RiskContentionCal *c, double now_s,
                              double demand, const double *mean,
                              const double *steps_s, size_t nsteps,
                              double capacity, double *ret);

/*
 * risk_contention_sum_mean:
 * Sets @ret[t] (nsteps values) to the sum of the finite means of @paths
 * at step t, as risk_contention_compute() does.
 */
void risk_contention_sum_mean(const RiskPath *paths, size_t npaths,
                              size_t nsteps, double *ret);
