/*
 * risk/contention.c: the probability that the demand on a host (or a
 * cell) exceeds its capacity within each horizon (contention.h).
 *
 * Input is what forecast/ gives per domain: a mean path and a 95 %
 * interval on a common grid of steps.  For each step t:
 *
 *   1. mean_t = sum over domains of the finite means (an unknown mean
 *      contributes 0);
 *   2. each domain's sd is read from its interval, on the side of the
 *      capacity: when mean_t is below the capacity the upper half
 *      (hi95 - mean) / 1.96, otherwise the lower half (mean - lo95) / 1.96
 *      (both equal (hi95 - lo95) / (2 * 1.96) for a symmetric interval).
 *      When that half is unknown the other one is used; when both are (or
 *      the mean is unknown) the domain keeps its last known sd, 0 before
 *      any;
 *   3. var_t = sum sd_i^2 + rho sum_{i != j} sd_i sd_j, computed in O(n) as
 *      (1 - rho) sum sd_i^2 + rho (sum sd_i)^2;
 *   4. p_t = P(N(mean_t, var_t) > capacity) (risk_exceed_prob()).
 *
 * Per horizon H, p = max of p_t over the steps t <= H (when the grid's
 * first step is already beyond H that first step stands for the horizon,
 * so probabilities never fall as the horizon grows); demand, sd and
 * headroom are those of the last such step.  The crossing time is the
 * first step (of the whole grid) whose mean reaches the capacity, else the
 * first whose p_t exceeds 0.5 (with a normal, p_t > 0.5 only where the
 * mean is above the capacity, so the second rule is a safeguard kept for
 * the contract), else INFINITY.
 *
 * Cost: O(domains x steps) time, O(domains) scratch.  Pure: no clock, no
 * I/O.  Nothing returns NaN.
 */
#include "risk/contention.h"

#include <math.h>

/* z of the two-sided 95 % normal interval. */
#define Z95 1.959963984540054

/* Step times are compared to horizons with this slack (seconds), so a grid
 * built by repeated addition still has its step at exactly 1 h. */
#define STEP_SLACK_S 1e-6

double
risk_exceed_prob(double mean, double sd, double capacity)
{
    double p;

    if (isnan(mean) || isnan(capacity)) {
        return 0.0;
    }
    if (isnan(sd)) {
        sd = 0.0;
    }
    sd = fabs(sd);
    if (isinf(mean) || isinf(capacity)) {
        if (isinf(mean) && isinf(capacity)) {
            return mean > 0 && capacity < 0 ? 1.0 : 0.0;
        }
        return isinf(mean) ? (mean > 0 ? 1.0 : 0.0)
                           : (capacity > 0 ? 0.0 : 1.0);
    }
    if (isinf(sd)) {
        return 0.5;
    }
    if (sd == 0.0) {
        return mean > capacity ? 1.0 : 0.0;
    }
    p = 0.5 * erfc((capacity - mean) / (sd * M_SQRT2));
    if (!(p >= 0.0)) {
        return 0.0;
    }
    return p > 1.0 ? 1.0 : p;
}

/* Returns: true if @v is a number we can use as a forecast value. */
static inline bool
usable(double v)
{
    return isfinite(v);
}

/* Returns: the sd of one domain at one step, from the half of its
 * interval on the capacity's side (@upper), or NaN when unknown. */
static double
path_sd(double mean, double lo, double hi, bool upper)
{
    double up = usable(hi) ? (hi - mean) / Z95 : NAN;
    double dn = usable(lo) ? (mean - lo) / Z95 : NAN;
    double sd;

    if (!usable(mean)) {
        return NAN;
    }
    sd = upper ? up : dn;
    if (isnan(sd)) {
        sd = upper ? dn : up;
    }
    if (isnan(sd)) {
        return NAN;
    }
    /* A mean outside its own interval: that half is empty. */
    return sd > 0 ? sd : 0.0;
}

static bool
check_args(const RiskPath *paths, size_t npaths, const double *steps_s,
           size_t nsteps, double capacity, double rho,
           const RiskContention *ret, GError **error)
{
    if (!ret) {
        g_set_error(error, RISK_ERROR, RISK_ERROR_INVALID, "no result");
        return false;
    }
    if (npaths > 0 && !paths) {
        g_set_error(error, RISK_ERROR, RISK_ERROR_INVALID, "no paths");
        return false;
    }
    for (size_t i = 0; i < npaths; i++) {
        if (!paths[i].mean || !paths[i].lo95 || !paths[i].hi95) {
            g_set_error(error, RISK_ERROR, RISK_ERROR_INVALID,
                        "path %zu lacks its mean or interval", i);
            return false;
        }
    }
    if (!steps_s || nsteps == 0) {
        g_set_error(error, RISK_ERROR, RISK_ERROR_INVALID, "empty grid");
        return false;
    }
    for (size_t t = 0; t < nsteps; t++) {
        if (!isfinite(steps_s[t]) || steps_s[t] <= 0 ||
            (t > 0 && !(steps_s[t] > steps_s[t - 1]))) {
            g_set_error(error, RISK_ERROR, RISK_ERROR_INVALID,
                        "grid step %zu (%g s) is not positive and increasing",
                        t, steps_s[t]);
            return false;
        }
    }
    if (!isfinite(capacity) || capacity <= 0) {
        g_set_error(error, RISK_ERROR, RISK_ERROR_INVALID,
                    "capacity %g is not positive", capacity);
        return false;
    }
    if (!(rho >= 0.0 && rho <= 1.0)) {
        g_set_error(error, RISK_ERROR, RISK_ERROR_INVALID,
                    "correlation %g is not in [0, 1]", rho);
        return false;
    }
    return true;
}

bool
risk_contention_compute(const RiskPath *paths, size_t npaths,
                        const double *steps_s, size_t nsteps, double capacity,
                        double rho, RiskContention *ret, GError **error)
{
    g_autofree double *last_sd = NULL;
    RiskContention r = {.t_cross_s = INFINITY};
    double horizon_s[RISK_HORIZON_LAST];
    bool seen[RISK_HORIZON_LAST] = {false};
    double t_p_half = INFINITY;

    if (!check_args(paths, npaths, steps_s, nsteps, capacity, rho, ret,
                    error)) {
        return false;
    }
    last_sd = g_new0(double, npaths > 0 ? npaths : 1);
    for (int h = 0; h < RISK_HORIZON_LAST; h++) {
        horizon_s[h] = risk_horizon_seconds(h);
    }

    for (size_t t = 0; t < nsteps; t++) {
        double mean = 0.0, sum_sd = 0.0, sum_sd2 = 0.0, var, sd, p;
        bool upper;

        for (size_t i = 0; i < npaths; i++) {
            if (usable(paths[i].mean[t])) {
                mean += paths[i].mean[t];
            }
        }
        if (isnan(mean)) {
            /* Only finite values were added: +huge and -huge overflowed. */
            mean = 0.0;
        }
        upper = mean < capacity;
        for (size_t i = 0; i < npaths; i++) {
            double s = path_sd(paths[i].mean[t], paths[i].lo95[t],
                               paths[i].hi95[t], upper);

            if (!isnan(s)) {
                last_sd[i] = s;
            }
            sum_sd += last_sd[i];
            sum_sd2 += last_sd[i] * last_sd[i];
        }
        var = (1.0 - rho) * sum_sd2 + rho * sum_sd * sum_sd;
        if (!isfinite(var)) {
            /* Overflowed sds (0 * inf when rho is 1 gives NaN). */
            sd = INFINITY;
        } else {
            sd = var > 0 ? sqrt(var) : 0.0;
        }
        p = risk_exceed_prob(mean, sd, capacity);

        if (t == 0) {
            r.now_demand = mean;
        }
        if (isinf(r.t_cross_s) && mean >= capacity) {
            r.t_cross_s = steps_s[t];
        }
        if (isinf(t_p_half) && p > 0.5) {
            t_p_half = steps_s[t];
        }
        for (int h = 0; h < RISK_HORIZON_LAST; h++) {
            /* The first step stands for a horizon shorter than it. */
            if (t > 0 && steps_s[t] > horizon_s[h] + STEP_SLACK_S) {
                continue;
            }
            r.p[h] = seen[h] ? MAX(r.p[h], p) : p;
            r.demand[h] = mean;
            r.sd[h] = sd;
            r.headroom[h] = capacity - mean;
            seen[h] = true;
        }
    }
    if (isinf(r.t_cross_s)) {
        r.t_cross_s = t_p_half;
    }
    *ret = r;
    return true;
}
