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
