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
 *
 * The empirical calibration (RiskContentionCal, contention.h) keeps a ring
 * of origins: per origin its time slot, observed demand, one-step surprise
 * and, per lead, the summed mean forecast and (once observed) its error.
 * Each recorded origin fills in the errors of the origins 1..leads steps
 * before it (when they lie exactly that many slots back) and refreshes the
 * slopes phi_k; a probability is then one pass over the ring, each past
 * origin's errors transported onto the current path.  Time is only what
 * the caller passes.
 */
#include "risk/contention.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

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

void
risk_contention_sum_mean(const RiskPath *paths, size_t npaths, size_t nsteps,
                         double *ret)
{
    for (size_t t = 0; t < nsteps; t++) {
        double mean = 0.0;

        for (size_t i = 0; i < npaths; i++) {
            if (usable(paths[i].mean[t])) {
                mean += paths[i].mean[t];
            }
        }
        ret[t] = isnan(mean) ? 0.0 : mean;
    }
}

/* --- the empirical calibration -------------------------------------- */

struct RiskContentionCal {
    double step_s;
    size_t window;      /* origins kept */
    size_t nlead;       /* leads stored per origin: 1..nlead steps */
    size_t min_run;     /* steps above capacity that make an overload */
    size_t min_origins; /* usable origins needed to answer */
    size_t horizon_steps[RISK_HORIZON_LAST];
    size_t n;    /* origins recorded so far (ring index: n % window) */
    double *t;   /* window: the origin's time */
    int64_t *k;  /* window: its step slot, round(t / step_s) */
    double *d;   /* window: the demand observed at it (NaN unknown) */
    double *e;   /* window: its one-step surprise (NaN unknown) */
    double *m;   /* window x nlead: mean forecast 1..nlead steps ahead */
    double *r;   /* window x nlead: its error, NaN until known */
    double *phi; /* nlead: the slopes, as of the last origin */
};

void
risk_contention_cal_free(RiskContentionCal *c)
{
    if (!c) {
        return;
    }
    g_free(c->t);
    g_free(c->k);
    g_free(c->d);
    g_free(c->e);
    g_free(c->m);
    g_free(c->r);
    g_free(c->phi);
    g_free(c);
}

RiskContentionCal *
risk_contention_cal_new(double step_s, size_t window, size_t min_run,
                        size_t min_origins, GError **error)
{
    RiskContentionCal *c;
    size_t longest = 0;

    if (!isfinite(step_s) || step_s <= 0 || window < 2 || min_run < 1 ||
        min_run > 64 || min_origins < 1 || window > (1u << 24)) {
        g_set_error(error, RISK_ERROR, RISK_ERROR_INVALID,
                    "calibration: step %g s, window %zu, run %zu, "
                    "min origins %zu",
                    step_s, window, min_run, min_origins);
        return NULL;
    }
    c = g_new0(RiskContentionCal, 1);
    c->step_s = step_s;
    c->window = window;
    c->min_run = min_run;
    c->min_origins = min_origins;
    for (int h = 0; h < RISK_HORIZON_LAST; h++) {
        double k = ceil((double) risk_horizon_seconds(h) / step_s - 1e-9);

        c->horizon_steps[h] = k >= 1 ? (size_t) k : 1;
        longest = MAX(longest, c->horizon_steps[h]);
    }
    c->nlead = longest + min_run - 1;
    c->t = g_new(double, window);
    c->k = g_new(int64_t, window);
    c->d = g_new(double, window);
    c->e = g_new(double, window);
    c->m = g_new(double, window * c->nlead);
    c->r = g_new(double, window * c->nlead);
    c->phi = g_new0(double, c->nlead);
    return c;
}

/* Returns: @mean (on @steps_s) at @at seconds ahead, linearly
 * interpolated; its first / last value outside the grid; NaN if the
 * neighbours are unknown. */
static double
path_at(const double *mean, const double *steps_s, size_t nsteps, double at)
{
    size_t j;

    if (at <= steps_s[0]) {
        return usable(mean[0]) ? mean[0] : NAN;
    }
    for (j = 1; j < nsteps && steps_s[j] < at; j++) {
    }
    if (j == nsteps) {
        return usable(mean[nsteps - 1]) ? mean[nsteps - 1] : NAN;
    }
    if (!usable(mean[j - 1]) || !usable(mean[j])) {
        return NAN;
    }
    return mean[j - 1] + (mean[j] - mean[j - 1]) * (at - steps_s[j - 1]) /
                             (steps_s[j] - steps_s[j - 1]);
}

/* The ring slot of origin @i (0 <= i < c->n, within the window). */
static inline size_t
slot(const RiskContentionCal *c, size_t i)
{
    return i % c->window;
}

/* Returns: the forecast that origin @i made for @lead steps ahead
 * (fractional, in [0, nlead]; lead 0 is its own demand), NaN if
 * unknown. */
static double
origin_forecast(const RiskContentionCal *c, size_t i, double lead)
{
    size_t s = slot(c, i);
    const double *m = c->m + s * c->nlead;
    double lo, f;
    size_t k;

    if (!(lead >= 0) || lead > (double) c->nlead) {
        return NAN;
    }
    k = (size_t) floor(lead);
    f = lead - (double) k;
    lo = k == 0 ? c->d[s] : m[k - 1];
    return f == 0 ? lo : lo + f * (m[k] - lo);
}

/* Returns: the surprise of @demand at @now_s against the forecast of the
 * latest origin at least half a step before (0 when unknown). */
static double
surprise(const RiskContentionCal *c, double now_s, double demand)
{
    for (size_t i = c->n; i-- > 0 && i + c->window > c->n;) {
        double lead = (now_s - c->t[slot(c, i)]) / c->step_s;
        double f;

        if (lead < 0.5) {
            continue;
        }
        if (lead > 1.5) {
            return 0.0;
        }
        f = origin_forecast(c, i, lead);
        return usable(f) && usable(demand) ? demand - f : 0.0;
    }
    return 0.0;
}

/* Recomputes the slopes phi_k over the window: least squares (no
 * intercept) of the errors r(., k) on the surprises e(.). */
static void
refresh_phi(RiskContentionCal *c)
{
    size_t first = c->n > c->window ? c->n - c->window : 0;

    for (size_t k = 0; k < c->nlead; k++) {
        double sxy = 0, sxx = 0;

        for (size_t i = first; i < c->n; i++) {
            size_t s = slot(c, i);
            double es = c->e[s], r = c->r[s * c->nlead + k];

            if (usable(es) && usable(r)) {
                sxy += es * r;
                sxx += es * es;
            }
        }
        c->phi[k] = sxx > 0 && isfinite(sxy / sxx) ? sxy / sxx : 0.0;
    }
}

void
risk_contention_cal_observe(RiskContentionCal *c, double now_s, double demand,
                            const double *mean, const double *steps_s,
                            size_t nsteps)
{
    int64_t k_now;
    size_t s;
    double *m, *r;

    if (!c || !isfinite(now_s) || !mean || !steps_s || nsteps == 0 ||
        fabs(now_s / c->step_s) > 1e15) {
        return;
    }
    /* One origin per step slot (the time rounded to a step), so ticks that
     * jitter around the step neither drift nor skip. */
    k_now = (int64_t) llround(now_s / c->step_s);
    if (c->n > 0 && k_now <= c->k[slot(c, c->n - 1)]) {
        return;
    }
    s = slot(c, c->n);
    c->t[s] = now_s;
    c->k[s] = k_now;
    c->d[s] = usable(demand) ? demand : NAN;
    c->e[s] = NAN;
    m = c->m + s * c->nlead;
    r = c->r + s * c->nlead;
    for (size_t k = 0; k < c->nlead; k++) {
        m[k] = path_at(mean, steps_s, nsteps, (double) (k + 1) * c->step_s);
        r[k] = NAN;
    }
    /* The outcome of earlier origins k steps ago (same slot distance). */
    for (size_t k = 1; k <= c->nlead && k <= c->n && k < c->window; k++) {
        size_t j = slot(c, c->n - k);

        if (c->k[j] == k_now - (int64_t) k) {
            c->r[j * c->nlead + k - 1] = c->d[s] - c->m[j * c->nlead + k - 1];
            if (k == 1) {
                c->e[s] = c->r[j * c->nlead];
            }
        }
    }
    c->n++;
    refresh_phi(c);
}

bool
risk_contention_cal_prob(const RiskContentionCal *c, double now_s,
                         double demand, const double *mean,
                         const double *steps_s, size_t nsteps, double capacity,
                         double *ret)
{
    size_t first = c && c->n > c->window ? c->n - c->window : 0;
    size_t used[RISK_HORIZON_LAST] = {0}, hit[RISK_HORIZON_LAST] = {0};
    size_t kneed = 0;
    g_autofree double *cur = NULL; /* per lead: the centre, phi_k e(now) */
    double out[RISK_HORIZON_LAST];
    double e_now;

    if (!c || !mean || !steps_s || nsteps == 0 || !isfinite(now_s) ||
        !isfinite(capacity) || capacity <= 0 || !ret || c->n == 0) {
        return false;
    }
    cur = g_new(double, c->nlead);
    e_now = surprise(c, now_s, demand);
    for (size_t k = 0; k < c->nlead; k++) {
        cur[k] = path_at(mean, steps_s, nsteps, (double) (k + 1) * c->step_s);
        if (!usable(cur[k])) {
            return false;
        }
        cur[k] += c->phi[k] * e_now;
    }
    for (int h = 0; h < RISK_HORIZON_LAST; h++) {
        kneed = MAX(kneed, c->horizon_steps[h] + c->min_run - 1);
    }
    /* One pass per past origin: how many leads are known, and the first
     * step of its first run above capacity (transported to now). */
    for (size_t i = first; i < c->n; i++) {
        size_t s = slot(c, i), run = 0, known = 0, start = SIZE_MAX;
        const double *r = c->r + s * c->nlead;
        double es = c->e[s];

        if (!usable(es)) {
            continue;
        }
        for (size_t k = 0; k < kneed; k++) {
            double v = cur[k] + r[k] - c->phi[k] * es;

            if (!usable(v)) {
                break;
            }
            known = k + 1;
            run = v > capacity ? run + 1 : 0;
            if (run >= c->min_run && start == SIZE_MAX) {
                start = k + 2 - c->min_run; /* 1-based step of the run */
            }
        }
        for (int h = 0; h < RISK_HORIZON_LAST; h++) {
            size_t kh = c->horizon_steps[h];

            if (known >= kh + c->min_run - 1) {
                used[h]++;
                hit[h] += start <= kh;
            }
        }
    }
    for (int h = 0; h < RISK_HORIZON_LAST; h++) {
        if (used[h] < c->min_origins) {
            return false;
        }
        out[h] = (double) hit[h] / (double) used[h];
        if (h > 0 && out[h] < out[h - 1]) {
            out[h] = out[h - 1];
        }
    }
    memcpy(ret, out, sizeof(out));
    return true;
}
