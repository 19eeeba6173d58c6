/*
 * forecast/ets.c: exponential smoothing state-space models (ETS).
 *
 * The models are those of Hyndman, Koehler, Snyder & Grose, "A state
 * space framework for automatic forecasting using exponential smoothing
 * methods" (IJF 18, 2002) and Hyndman, Koehler, Ord & Snyder,
 * "Forecasting with Exponential Smoothing" (Springer, 2008), written
 * ETS(error, trend, season) with error A/M, trend N/A/Ad, season N/A/M.
 * With q = l + phi b the one-step forecast is mu = q, q + s or q s, and
 * the error is e = y - mu (A) or e = (y - mu) / mu (M).  Whatever the
 * error type, the states follow the same recursion in terms of y:
 *
 *   p  = y, y - s or y / s             (y without its season)
 *   l' = q + alpha (p - q)
 *   b' = phi b + beta (p - q)
 *   s' = s + gamma (y - q - s)  or  s + gamma (y / q - s)
 *
 * (the error-correction forms of the 2008 book's table 2.3 rewritten;
 * the error type only changes the likelihood and the variance).  The
 * likelihood is concentrated over the error variance, as in the 2002
 * paper: lik = n log(SSE) for additive errors and
 * n log(SSE) + 2 sum log|mu| for multiplicative ones; R's ets() reports
 * loglik = -lik / 2 and AICc with k = parameters + 1.
 *
 * Estimation: alpha, beta, gamma, phi and the initial states (l0, b0 and
 * m - 1 seasonal states, the m-th set by normalisation) are estimated
 * together by maximum likelihood over the "usual" region (alpha, beta,
 * gamma in [1e-4, 1 - 1e-4], beta <= alpha, gamma <= 1 - alpha, phi in
 * [0.8, 0.98]) intersected with the admissible (forecastable) region:
 * the roots of the characteristic polynomial of the discount matrix
 * D = F - g w' lie inside the unit circle (2008 book, chapter 10).  With
 * the matrix determinant lemma, and dropping the unit root that
 * seasonal models always carry,
 *
 *   P(z) = (1 + z + ... + z^(m-1)) ((z - phi)(z - 1 + alpha) + phi beta z)
 *          + gamma (z - phi)
 *
 * (no trend: phi = beta = 0; no season: m = 1, gamma = 0), tested by
 * the Schur-Cohn recursion in O(m^2) operations.
 *
 * The optimiser works on alpha, beta* = beta / alpha, gamma* =
 * gamma / (1 - alpha), phi (a box) and the states, in three stages:
 *
 *   start   the heuristic states (a classical decomposition of the first
 *           two or three seasons, a line through the first max(10, 2m)
 *           adjusted values; 2008 book, section 2.6.1) with a few alphas,
 *           with and without the slope: the best feasible one;
 *   rounds  Nelder-Mead over the (at most four) smoothing parameters
 *           with the states fixed, then Levenberg-Marquardt over the
 *           states (up to 25 of them for m = 24) with the smoothing
 *           parameters fixed, its Jacobian carried through the recursion
 *           in forward mode (for additive models the errors are linear
 *           in the states: one step is exact); twice;
 *   polish  projected BFGS over everything with the exact gradient of
 *           the likelihood from the adjoint (reverse mode) of the
 *           recursion, about three evaluations' cost, its Hessian
 *           started from Gauss-Newton's.
 *
 * R's ets() runs Nelder-Mead over all 30 numbers of an hourly seasonal
 * model for up to 2000 iterations; this finds likelihoods as good or
 * better (with R's candidates, a lower AICc on 263 of the 276 M4 Hourly
 * series) in a few hundred evaluations.  The series is divided by its mean
 * absolute value before fitting (both likelihoods are equivariant: the constant
 * 2 n log(scale) is added back) so that one set of step sizes and
 * tolerances fits every series.
 *
 * Selection (fc_ets_fit_auto()) follows R's ets(): error A/M, trend
 * N/Ad (and A if asked: see FC_ETS_AUTO_DEFAULT in ets.h for why not by
 * default), season N/A/M, except additive error with multiplicative
 * season; multiplicative components only for strictly positive data;
 * seasons only for 1 < m <= 24 and n >= 2m; a model only when n > its
 * parameter count + 4; the smallest AICc wins.  A constant series gets
 * ETS(A,N,N) with alpha = 0.9999 and zero variance.
 *
 * Forecasts: the state recursion without errors.  Prediction intervals
 * are normal with the exact variances for the linear models (class 1,
 * additive error and no multiplicative part) and for class 2
 * (multiplicative error, additive components) of the 2008 book, chapter
 * 6; models with a multiplicative season (class 3) use 2000 simulated
 * sample paths from a fixed seed, so results are deterministic.
 *
 * Workload: the likelihood loop touches O(1) memory per observation
 * (seasonal states live in a circular buffer), allocates nothing and
 * dominates the cost; an automatic fit of an hourly series (m = 24,
 * n = 700-1000, 10 candidate models) plus its forecast takes about
 * 17 ms of CPU, R's ets() and forecast() 2.7 s on the same machine.
 */
#include "forecast/ets.h"

#include <math.h>
#include <string.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "util/order.h"

/* The "usual" bounds of R's ets(). */
#define ETS_PAR_LO 1e-4
#define ETS_PAR_HI (1 - 1e-4)
#define ETS_PHI_LO 0.8
#define ETS_PHI_HI 0.98

/* Objective value of an infeasible point. */
#define ETS_PENALTY 1e30
/* Smallest one-step forecast a multiplicative model accepts (scaled). */
#define ETS_TINY 1e-10
/* Floor of SSE / n on the scaled data, so perfect fits stay finite. */
#define ETS_SSE_FLOOR 1e-24

/* Optimisation budget: rounds of (Nelder-Mead over the smoothing
 * parameters, at most ETS_NM_EVALS evaluations; Levenberg-Marquardt over
 * the states, ETS_LM_ITERS linearisations), then ETS_BFGS_ITERS
 * iterations of BFGS over everything. */
#define ETS_ROUNDS 2
#define ETS_NM_EVALS 100
#define ETS_LM_ITERS 3
#define ETS_BFGS_ITERS 60
/* Stop when the simplex's values differ by less than this (lik units). */
#define ETS_NM_TOL 1e-6
/* The quick budget (FcEtsAuto.quick): no Nelder-Mead, one
 * Levenberg-Marquardt linearisation of the states from the starting
 * smoothing parameters, then BFGS over everything to convergence.  On
 * non-seasonal series it reaches the full budget's AICc within 1 (the
 * test-ets fixtures); inside MSTL on M4 Hourly it is as accurate (MSTL's
 * OWA 0.550 vs 0.551) at half the time (1.8 vs 3.7 ms per series).
 * Seasonal models need the full one: the simplex finds gamma. */
#define ETS_QUICK_LM_ITERS 1
#define ETS_QUICK_BFGS_ITERS ETS_BFGS_ITERS

/* Sample paths for class 3 intervals: 2000, fewer beyond a horizon of
 * 1000 so that the paths stay under 16 MB. */
#define ETS_SIM_PATHS 2000
#define ETS_SIM_DOUBLES (2000 * 1000)
#define ETS_SIM_SEED 20240601UL

#define Z80 1.2815515655446004
#define Z95 1.959963984540054

/* A spec resolved into what the recursion needs. */
typedef struct {
    int err;     /* 0 additive, 1 multiplicative */
    int trend;   /* 0 none, 1 additive */
    bool damped; /* damped trend */
    int season;  /* 0 none, 1 additive, 2 multiplicative */
    int m;       /* seasonal period, 1 without season */
} EtsKind;

struct FcEtsModel {
    FcEtsSpec spec;   /* the model */
    EtsKind kind;     /* the same, resolved */
    size_t n;         /* observations fitted */
    FcEtsParams par;  /* parameters and initial states (data scale) */
    double level;     /* final level (data scale) */
    double slope;     /* final slope (data scale) */
    double *season;   /* m final seasonal states: season[k] is the one
                       * y[n + k] uses */
    int npar;         /* estimated parameters (R's length(par)) */
    double loglik;    /* -lik / 2 */
    double aic, aicc; /* information criteria (k = npar + 1) */
    double sigma2;    /* SSE / (n - npar) */
};

/* Scratch of one fit, allocated once per model (never in the loop). */
typedef struct {
    const double *y; /* scaled observations */
    size_t n;        /* how many */
    EtsKind k;       /* the model */
    int dim;         /* length of the optimised vector */
    int nfree;       /* how many of it the current stage moves */
    double *full;    /* the complete vector when a stage moves a prefix */
    double *seas;    /* m seasonal states, rewritten by each evaluation */
} EtsProblem;

/* Layout of the optimised vector: alpha, beta* (beta / alpha), gamma*
 * (gamma / (1 - alpha)), phi, l0, b0, s0[1..m-1]; absent ones skipped. */
typedef struct {
    int alpha, beta, gamma, phi, l0, b0, seas; /* indices or -1 */
    int nsmooth;                               /* smoothing parameters */
    int dim;                                   /* total */
} EtsLayout;

static EtsLayout
ets_layout(const EtsKind *k)
{
    EtsLayout lay = {-1, -1, -1, -1, -1, -1, -1, 0, 0};
    int i = 0;

    lay.alpha = i++;
    if (k->trend) {
        lay.beta = i++;
    }
    if (k->season) {
        lay.gamma = i++;
    }
    if (k->damped) {
        lay.phi = i++;
    }
    lay.nsmooth = i;
    lay.l0 = i++;
    if (k->trend) {
        lay.b0 = i++;
    }
    if (k->season) {
        lay.seas = i;
        i += k->m - 1;
    }
    lay.dim = i;
    return lay;
}

/* The smoothing parameters of a vector; false outside the usual box
 * (beta and gamma may fall short of their bound by rounding: the
 * optimiser's box for beta*, gamma* is computed from alpha). */
typedef struct {
    double alpha, beta, gamma, phi;
} EtsSmooth;

static bool
ets_unpack_smooth(const double *x, const EtsLayout *lay, EtsSmooth *ret)
{
    double a = x[lay->alpha];

    ret->alpha = a;
    ret->beta = 0;
    ret->gamma = 0;
    ret->phi = 1;
    if (!(a >= ETS_PAR_LO && a <= ETS_PAR_HI)) {
        return false;
    }
    if (lay->beta >= 0) {
        double bs = x[lay->beta];

        ret->beta = bs * a;
        if (!(bs <= 1 && ret->beta >= ETS_PAR_LO * (1 - 1e-12))) {
            return false;
        }
    }
    if (lay->gamma >= 0) {
        double gs = x[lay->gamma];

        ret->gamma = gs * (1 - a);
        if (!(gs <= 1 && ret->gamma >= ETS_PAR_LO * (1 - 1e-12))) {
            return false;
        }
    }
    if (lay->phi >= 0) {
        ret->phi = x[lay->phi];
        if (!(ret->phi >= ETS_PHI_LO && ret->phi <= ETS_PHI_HI)) {
            return false;
        }
    }
    return true;
}

/*
 * Admissibility: are all roots of P(z) (see the top of the file) inside
 * the unit circle?  Schur-Cohn: a polynomial a_0 + ... + a_d z^d has
 * them all inside iff |a_0| < |a_d| and (a_d p(z) - a_0 p*(z)) / z, of
 * degree d - 1, has them all inside (p* reverses the coefficients).
 */
static bool
ets_admissible(const EtsKind *k, const EtsSmooth *s)
{
    double a[FC_ETS_MAX_PERIOD + 3];
    double t[FC_ETS_MAX_PERIOD + 3];
    double phi = k->trend ? s->phi : 0;
    double beta = k->trend ? s->beta : 0;
    int m = k->season ? k->m : 1;
    double gamma = k->season ? s->gamma : 0;
    double c[3];
    int d = m + 1;

    /* (z - phi)(z - 1 + alpha) + phi beta z. */
    c[0] = phi * (1 - s->alpha);
    c[1] = s->alpha - 1 - phi + phi * beta;
    c[2] = 1;
    for (int i = 0; i <= d; i++) {
        a[i] = 0;
    }
    for (int j = 0; j < m; j++) {
        for (int i = 0; i < 3; i++) {
            a[i + j] += c[i];
        }
    }
    a[0] -= gamma * phi;
    a[1] += gamma;
    for (int deg = d; deg > 0; deg--) {
        double a0 = a[0];
        double ad = a[deg];
        double lead = ad * ad - a0 * a0;

        if (!(fabs(a0) < fabs(ad)) || !(lead > 0)) {
            return false;
        }
        for (int i = 0; i < deg; i++) {
            t[i] = (ad * a[i + 1] - a0 * a[deg - 1 - i]) / lead;
        }
        memcpy(a, t, sizeof(double) * (size_t) deg);
    }
    return true;
}

/*
 * The recursion over y: returns lik (see the top of the file) or
 * ETS_PENALTY when a multiplicative model breaks down.  @l, @b and
 * @seas (circular, phase 0 first) hold the initial states and receive
 * the final ones; @ret_sse, when not NULL, the sum of squared errors.
 * Inlined into one copy per error and season type so the loop carries no
 * dispatch.
 */
static G_ALWAYS_INLINE inline double
ets_loop(const double *y, size_t n, int m, const int err, const int season,
         double alpha, double beta, double gamma, double phi, double *l_io,
         double *b_io, double *seas, double *ret_sse)
{
    double l = *l_io, b = *b_io;
    double sse = 0, logsum = 0, prod = 1;
    int j = 0;

    for (size_t t = 0; t < n; t++) {
        double yt = y[t];
        double phib = phi * b;
        double q = l + phib;
        double s = season ? seas[j] : 0;
        double mu, p, e;

        if (season == 0) {
            mu = q;
            p = yt;
        } else if (season == 1) {
            mu = q + s;
            p = yt - s;
        } else {
            if (!(q > ETS_TINY)) {
                return ETS_PENALTY;
            }
            mu = q * s;
            p = yt / s;
        }
        if (err == 0) {
            e = yt - mu;
        } else {
            if (!(mu > ETS_TINY)) {
                return ETS_PENALTY;
            }
            e = (yt - mu) / mu;
            prod *= mu;
            if (prod > 1e100 || prod < 1e-100) {
                logsum += log(prod);
                prod = 1;
            }
        }
        sse += e * e;
        l = q + alpha * (p - q);
        b = phib + beta * (p - q);
        if (season == 1) {
            seas[j] = s + gamma * (yt - q - s);
        } else if (season == 2) {
            seas[j] = s + gamma * (yt / q - s);
        }
        if (season && ++j == m) {
            j = 0;
        }
    }
    *l_io = l;
    *b_io = b;
    if (ret_sse) {
        *ret_sse = sse;
    }
    if (sse < ETS_SSE_FLOOR * (double) n) {
        sse = ETS_SSE_FLOOR * (double) n;
    }
    {
        double lik = (double) n * log(sse) + 2 * (logsum + log(prod));

        return isfinite(lik) ? lik : ETS_PENALTY;
    }
}

/* Dispatches to the specialised copies of ets_loop(). */
static double
ets_run(const double *y, size_t n, const EtsKind *k, const EtsSmooth *sm,
        double *l, double *b, double *seas, double *ret_sse)
{
    double beta = k->trend ? sm->beta : 0;
    double phi = k->trend ? sm->phi : 0;
    int m = k->m;

    if (!k->trend) {
        *b = 0;
    }
#define ETS_CASE(E, S)                                                         \
    if (k->err == (E) && k->season == (S)) {                                   \
        return ets_loop(y, n, m, E, S, sm->alpha, beta, sm->gamma, phi, l, b,  \
                        seas, ret_sse);                                        \
    }
    ETS_CASE(0, 0)
    ETS_CASE(0, 1)
    ETS_CASE(0, 2)
    ETS_CASE(1, 0)
    ETS_CASE(1, 1)
    ETS_CASE(1, 2)
#undef ETS_CASE
    return ETS_PENALTY;
}

/* Fills the m seasonal states from the free m - 1 of a vector: phase 0
 * makes them sum to 0 (additive) or m (multiplicative).  False if a
 * multiplicative state is not positive. */
static bool
ets_unpack_season(const double *x, const EtsLayout *lay, const EtsKind *k,
                  double *seas)
{
    double sum = 0;

    for (int j = 1; j < k->m; j++) {
        seas[j] = x[lay->seas + j - 1];
        sum += seas[j];
    }
    if (k->season == 1) {
        seas[0] = -sum;
        return true;
    }
    seas[0] = k->m - sum;
    for (int j = 0; j < k->m; j++) {
        if (!(seas[j] > 0)) {
            return false;
        }
    }
    return true;
}

/* The objective of the optimiser: lik at the vector, stage-aware. */
static double
ets_objective(const double *xfree, EtsProblem *p)
{
    EtsLayout lay = ets_layout(&p->k);
    const double *x = xfree;
    EtsSmooth sm;
    double l, b = 0;

    if (p->nfree < p->dim) {
        memcpy(p->full, xfree, sizeof(double) * (size_t) p->nfree);
        x = p->full;
    }
    if (!ets_unpack_smooth(x, &lay, &sm) || !ets_admissible(&p->k, &sm)) {
        return ETS_PENALTY;
    }
    l = x[lay.l0];
    if (lay.b0 >= 0) {
        b = x[lay.b0];
    }
    if (p->k.season && !ets_unpack_season(x, &lay, &p->k, p->seas)) {
        return ETS_PENALTY;
    }
    return ets_run(p->y, p->n, &p->k, &sm, &l, &b, p->seas, NULL);
}

/*
 * Nelder-Mead with the dimension-adaptive coefficients of Gao & Han,
 * "Implementing the Nelder-Mead simplex algorithm with adaptive
 * parameters" (Comput. Optim. Appl. 51, 2012), over the (at most four)
 * smoothing parameters: robust where the box and the admissible region
 * cut the objective off, which derivative methods handle badly.
 * Minimises from
 * @x (overwritten with the best point) using initial steps @step, at
 * most @max_eval evaluations; @work holds (dim + 1) (dim + 5) doubles.
 * Returns: the best value.
 */
static double
ets_nelder_mead(EtsProblem *p, double *x, const double *step, int dim,
                int max_eval, double *work)
{
    double *sx = work;
    double *fv = sx + (size_t) (dim + 1) * dim;
    double *cen = fv + dim + 1;
    double *xr = cen + dim;
    double *xe = xr + dim;
    double *xc = xe + dim;
    double d = dim;
    double rho = 1, chi = dim > 2 ? 1 + 2 / d : 2;
    double gam = dim > 2 ? 0.75 - 0.5 / d : 0.5;
    double sig = dim > 2 ? 1 - 1 / d : 0.5;
    int nev = 0;
    int lo = 0;

#define VX(i) (sx + (size_t) dim * (size_t) (i))
    memcpy(VX(0), x, sizeof(double) * dim);
    fv[0] = ets_objective(x, p);
    nev++;
    for (int i = 1; i <= dim; i++) {
        double *v = VX(i);

        memcpy(v, x, sizeof(double) * dim);
        v[i - 1] += step[i - 1];
        fv[i] = ets_objective(v, p);
        nev++;
        if (fv[i] >= ETS_PENALTY) {
            v[i - 1] = x[i - 1] - step[i - 1];
            fv[i] = ets_objective(v, p);
            nev++;
        }
    }
    while (nev < max_eval) {
        int hi = 0, nh;
        double flo, fhi, fnh, fr;

        lo = 0;
        for (int i = 1; i <= dim; i++) {
            if (fv[i] < fv[lo]) {
                lo = i;
            }
            if (fv[i] > fv[hi]) {
                hi = i;
            }
        }
        nh = lo;
        for (int i = 0; i <= dim; i++) {
            if (i != hi && fv[i] > fv[nh]) {
                nh = i;
            }
        }
        flo = fv[lo];
        fhi = fv[hi];
        fnh = fv[nh];
        if (fhi - flo <= ETS_NM_TOL * (1 + fabs(flo)) && fhi < ETS_PENALTY) {
            break;
        }
        for (int j = 0; j < dim; j++) {
            double sum = 0;

            for (int i = 0; i <= dim; i++) {
                if (i != hi) {
                    sum += VX(i)[j];
                }
            }
            cen[j] = sum / d;
        }
        for (int j = 0; j < dim; j++) {
            xr[j] = cen[j] + rho * (cen[j] - VX(hi)[j]);
        }
        fr = ets_objective(xr, p);
        nev++;
        if (fr < flo) {
            double fe;

            for (int j = 0; j < dim; j++) {
                xe[j] = cen[j] + chi * (xr[j] - cen[j]);
            }
            fe = ets_objective(xe, p);
            nev++;
            if (fe < fr) {
                memcpy(VX(hi), xe, sizeof(double) * dim);
                fv[hi] = fe;
            } else {
                memcpy(VX(hi), xr, sizeof(double) * dim);
                fv[hi] = fr;
            }
            continue;
        }
        if (fr < fnh) {
            memcpy(VX(hi), xr, sizeof(double) * dim);
            fv[hi] = fr;
            continue;
        }
        {
            bool outside = fr < fhi;
            double fc;

            for (int j = 0; j < dim; j++) {
                double far = outside ? xr[j] : VX(hi)[j];

                xc[j] = cen[j] + gam * (far - cen[j]);
            }
            fc = ets_objective(xc, p);
            nev++;
            if (outside ? fc <= fr : fc < fhi) {
                memcpy(VX(hi), xc, sizeof(double) * dim);
                fv[hi] = fc;
                continue;
            }
        }
        /* Shrink towards the best vertex. */
        for (int i = 0; i <= dim; i++) {
            if (i == lo) {
                continue;
            }
            for (int j = 0; j < dim; j++) {
                VX(i)[j] = VX(lo)[j] + sig * (VX(i)[j] - VX(lo)[j]);
            }
            fv[i] = ets_objective(VX(i), p);
            nev++;
        }
    }
    lo = 0;
    for (int i = 1; i <= dim; i++) {
        if (fv[i] < fv[lo]) {
            lo = i;
        }
    }
    memcpy(x, VX(lo), sizeof(double) * dim);
    return fv[lo];
#undef VX
}

/*
 * Starting states (2008 book, section 2.6.1): seasonal indices from a
 * classical decomposition (centred moving average) of the first three
 * seasons, two when the series is shorter; level and slope from a least
 * squares line through the first max(10, 2m) seasonally adjusted
 * observations.  @seas receives m states by phase.  Returns: false when
 * a multiplicative decomposition is impossible.
 */
static bool
ets_init_states(const double *y, size_t n, const EtsKind *k, double *ret_l,
                double *ret_b, double *seas)
{
    int m = k->m;
    size_t maxn = MIN(n, (size_t) MAX(10, 2 * m));
    double sa_sum = 0, st = 0, stt = 0, sty = 0;

    if (k->season) {
        size_t len = n >= 3 * (size_t) m ? 3 * (size_t) m : 2 * (size_t) m;
        size_t half = (size_t) m / 2;
        double sum[FC_ETS_MAX_PERIOD] = {0};
        int cnt[FC_ETS_MAX_PERIOD] = {0};
        double mean = 0;

        for (size_t t = half; t + half < len; t++) {
            double ma = 0;

            if (m % 2 == 0) {
                ma = 0.5 * (y[t - half] + y[t + half]);
                for (size_t i = t - half + 1; i < t + half; i++) {
                    ma += y[i];
                }
            } else {
                for (size_t i = t - half; i <= t + half; i++) {
                    ma += y[i];
                }
            }
            ma /= m;
            if (k->season == 1) {
                sum[t % (size_t) m] += y[t] - ma;
            } else {
                if (!(ma > 0)) {
                    return false;
                }
                sum[t % (size_t) m] += y[t] / ma;
            }
            cnt[t % (size_t) m]++;
        }
        for (int j = 0; j < m; j++) {
            if (!cnt[j]) {
                return false;
            }
            seas[j] = sum[j] / cnt[j];
            mean += seas[j] / m;
        }
        for (int j = 0; j < m; j++) {
            if (k->season == 1) {
                seas[j] -= mean;
            } else {
                seas[j] = MAX(seas[j] / mean, 1e-2);
            }
        }
        if (k->season == 2) {
            mean = 0;
            for (int j = 0; j < m; j++) {
                mean += seas[j] / m;
            }
            for (int j = 0; j < m; j++) {
                seas[j] /= mean;
            }
        }
    }
    for (size_t t = 0; t < maxn; t++) {
        double v = y[t];

        if (k->season == 1) {
            v -= seas[t % (size_t) m];
        } else if (k->season == 2) {
            v /= seas[t % (size_t) m];
        }
        sa_sum += v;
        st += (double) (t + 1);
        stt += (double) (t + 1) * (double) (t + 1);
        sty += (double) (t + 1) * v;
    }
    if (!k->trend || maxn < 2) {
        *ret_l = sa_sum / (double) maxn;
        *ret_b = 0;
        return true;
    }
    {
        double nn = (double) maxn;
        double den = nn * stt - st * st;
        double slope = (nn * sty - st * sa_sum) / den;

        *ret_b = slope;
        *ret_l = (sa_sum - slope * st) / nn;
    }
    return true;
}

static int
ets_npar(const EtsKind *k)
{
    return ets_layout(k).dim;
}

static FcEtsModel *
ets_model_new(const EtsKind *k)
{
    FcEtsModel *model = g_new0(FcEtsModel, 1);

    model->kind = *k;
    model->spec.error = k->err ? 'M' : 'A';
    model->spec.trend = k->trend ? 'A' : 'N';
    model->spec.damped = k->damped;
    model->spec.season = "NAM"[k->season];
    model->season = g_new0(double, k->m);
    return model;
}

/*
 * Runs the model with fixed smoothing parameters and initial states
 * (scaled data) and fills everything else of @model: final states,
 * likelihood, criteria, variance; @scale maps back to the data.
 * Returns: false if the recursion breaks down.
 */
static bool
ets_finish(FcEtsModel *model, const double *ys, size_t n, double scale,
           const EtsSmooth *sm, double l0, double b0, const double *seas0)
{
    const EtsKind *k = &model->kind;
    double seas[FC_ETS_MAX_PERIOD];
    double l = l0, b = b0, sse = 0, lik;
    int m = k->m;
    int np = ets_npar(k);
    double nn = (double) n;
    double kk = np + 1;

    memcpy(seas, seas0, sizeof(double) * (size_t) m);
    lik = ets_run(ys, n, k, sm, &l, &b, seas, &sse);
    if (lik >= ETS_PENALTY) {
        return false;
    }
    model->n = n;
    model->npar = np;
    model->par.alpha = sm->alpha;
    model->par.beta = k->trend ? sm->beta : 0;
    model->par.gamma = k->season ? sm->gamma : 0;
    model->par.phi = k->damped ? sm->phi : 1;
    model->par.l0 = l0 * scale;
    model->par.b0 = k->trend ? b0 * scale : 0;
    for (int j = 0; j < m && k->season; j++) {
        model->par.s0[j] = k->season == 1 ? seas0[j] * scale : seas0[j];
    }
    model->level = l * scale;
    model->slope = k->trend ? b * scale : 0;
    for (int i = 0; i < m; i++) {
        double s = seas[(n + (size_t) i) % (size_t) m];

        model->season[i] = k->season == 1 ? s * scale : s;
    }
    if (!k->season) {
        model->season[0] = 0;
    }
    /* Back to the data's scale: both likelihoods move by 2 n log scale. */
    lik += 2 * nn * log(scale);
    model->loglik = -0.5 * lik;
    model->aic = lik + 2 * kk;
    model->aicc = nn - kk - 1 > 0
                      ? model->aic + 2 * kk * (kk + 1) / (nn - kk - 1)
                      : INFINITY;
    if (k->err == 0) {
        sse *= scale * scale;
    }
    model->sigma2 = nn > np ? sse / (nn - np) : sse / nn;
    return isfinite(model->loglik) && isfinite(model->sigma2);
}

/*
 * Cholesky factorisation in place of the symmetric positive
 * semi-definite @a (k x k, row major; the lower triangle receives L),
 * after a ridge of 1e-10 times the largest diagonal element.  Returns:
 * false if the matrix is numerically singular.
 */
static bool
ets_cholesky(double *a, int k)
{
    double ridge = 0;

    for (int i = 0; i < k; i++) {
        ridge = MAX(ridge, a[i * k + i]);
    }
    ridge *= 1e-10;
    for (int j = 0; j < k; j++) {
        double d = a[j * k + j] + ridge;

        for (int p = 0; p < j; p++) {
            d -= a[j * k + p] * a[j * k + p];
        }
        if (!(d > 0)) {
            return false;
        }
        d = sqrt(d);
        a[j * k + j] = d;
        for (int i = j + 1; i < k; i++) {
            double v = a[i * k + j];

            for (int p = 0; p < j; p++) {
                v -= a[i * k + p] * a[j * k + p];
            }
            a[i * k + j] = v / d;
        }
    }
    return true;
}

/* Solves L L' x = @b in place with the factor from ets_cholesky(). */
static void
ets_chol_solve(const double *a, double *b, int k)
{
    for (int i = 0; i < k; i++) {
        double v = b[i];

        for (int p = 0; p < i; p++) {
            v -= a[i * k + p] * b[p];
        }
        b[i] = v / a[i * k + i];
    }
    for (int i = k - 1; i >= 0; i--) {
        double v = b[i];

        for (int p = i + 1; p < k; p++) {
            v -= a[p * k + i] * b[p];
        }
        b[i] = v / a[i * k + i];
    }
}

/* Solves the symmetric positive semi-definite system @a @x = @b (@a
 * destroyed, @b receives x).  Returns: false if singular. */
static bool
ets_solve_spd(double *a, double *b, int k)
{
    if (!ets_cholesky(a, k)) {
        return false;
    }
    ets_chol_solve(a, b, k);
    return true;
}

/* Doubles of scratch ets_levmar() needs for @k columns, period @m. */
static size_t
ets_lm_work_size(int k, int m)
{
    return (size_t) k * (size_t) (2 * k + m + 12);
}

/* Lower and upper bounds of the smoothing coordinates of @x (alpha,
 * beta*, gamma*, phi); states are unbounded. */
static void
ets_box(const double *x, const EtsLayout *lay, int i, double *lo, double *hi)
{
    double a = x[lay->alpha];

    *lo = -INFINITY;
    *hi = INFINITY;
    if (i == lay->alpha) {
        *lo = ETS_PAR_LO;
        *hi = ETS_PAR_HI;
    } else if (i == lay->beta) {
        *lo = ETS_PAR_LO / a;
        *hi = 1;
    } else if (i == lay->gamma) {
        *lo = ETS_PAR_LO / (1 - a);
        *hi = 1;
    } else if (i == lay->phi) {
        *lo = ETS_PHI_LO;
        *hi = ETS_PHI_HI;
    }
}

/* Moves @x into the box (alpha first: the others' bounds depend on it). */
static void
ets_project(double *x, const EtsLayout *lay)
{
    for (int i = 0; i < lay->nsmooth; i++) {
        double lo, hi;

        ets_box(x, lay, i, &lo, &hi);
        x[i] = MIN(MAX(x[i], lo), hi);
    }
}

/*
 * The linearisation at @x: J'J (@hess, lower half filled, over the
 * columns from @c0 on, k of them) and the gradient @grad of the
 * objective scaled by S / (2n), from derivatives of every state with
 * respect to every free coordinate carried through the recursion
 * (forward mode).  For the smoothing coordinates the derivative has an
 * explicit term (e.g. d l' / d alpha includes p - q); the chain rule then
 * maps alpha, beta, gamma to the optimiser's alpha, beta*, gamma*.
 * Returns: false if the recursion breaks down.
 */
static bool
ets_linearise(EtsProblem *p, const double *x, int c0, double *hess,
              double *grad, double *tan, double *ret_sse)
{
    const EtsKind *kd = &p->k;
    EtsLayout lay = ets_layout(kd);
    int k = lay.dim - c0;
    int m = kd->m;
    double *dl = tan;
    double *db = dl + k;
    double *dmu = db + k;
    double *dp = dmu + k;
    double *dq = dp + k;
    double *glog = dq + k;
    double *row = glog + k;
    double *ds = row + k; /* m x k */
    /* Columns of the smoothing coordinates, or -1 when not free. */
    int ca = lay.alpha >= c0 ? lay.alpha - c0 : -1;
    int cb = lay.beta >= c0 ? lay.beta - c0 : -1;
    int cg = lay.gamma >= c0 ? lay.gamma - c0 : -1;
    int cp = lay.phi >= c0 ? lay.phi - c0 : -1;
    double seas[FC_ETS_MAX_PERIOD];
    double l, b = 0, sse = 0;
    double alpha, beta, gamma, phi;
    EtsSmooth sm;
    int j = 0;

    if (!ets_unpack_smooth(x, &lay, &sm)) {
        return false;
    }
    alpha = sm.alpha;
    beta = kd->trend ? sm.beta : 0;
    gamma = sm.gamma;
    phi = kd->trend ? sm.phi : 0;
    l = x[lay.l0];
    if (lay.b0 >= 0) {
        b = x[lay.b0];
    }
    if (kd->season && !ets_unpack_season(x, &lay, kd, seas)) {
        return false;
    }
    memset(hess, 0, sizeof(double) * (size_t) k * k);
    memset(grad, 0, sizeof(double) * k);
    memset(tan, 0, sizeof(double) * (size_t) k * (m + 7));
    if (lay.l0 >= c0) {
        dl[lay.l0 - c0] = 1;
    }
    if (lay.b0 >= c0) {
        db[lay.b0 - c0] = 1;
    }
    for (int s = 1; s < m && kd->season; s++) {
        int col = lay.seas + s - 1 - c0;

        if (col >= 0) {
            ds[s * k + col] = 1;
            ds[0 * k + col] = -1;
        }
    }
    for (size_t t = 0; t < p->n; t++) {
        double yt = p->y[t];
        double phib = phi * b;
        double q = l + phib;
        double s = kd->season ? seas[j] : 0;
        double *dsj = ds + (size_t) j * k;
        double mu, pp, e, de_dmu, resid;

        for (int i = 0; i < k; i++) {
            dq[i] = dl[i] + phi * db[i];
        }
        if (cp >= 0) {
            dq[cp] += b;
        }
        if (kd->season == 0) {
            mu = q;
            pp = yt;
            memcpy(dmu, dq, sizeof(double) * k);
            memset(dp, 0, sizeof(double) * k);
        } else if (kd->season == 1) {
            mu = q + s;
            pp = yt - s;
            for (int i = 0; i < k; i++) {
                dmu[i] = dq[i] + dsj[i];
                dp[i] = -dsj[i];
            }
        } else {
            if (!(q > ETS_TINY) || !(s > 0)) {
                return false;
            }
            mu = q * s;
            pp = yt / s;
            for (int i = 0; i < k; i++) {
                dmu[i] = s * dq[i] + q * dsj[i];
                dp[i] = -pp / s * dsj[i];
            }
        }
        if (kd->err == 0) {
            e = yt - mu;
            de_dmu = -1;
        } else {
            if (!(mu > ETS_TINY)) {
                return false;
            }
            e = (yt - mu) / mu;
            de_dmu = -yt / (mu * mu);
        }
        sse += e * e;
        /* The row of J, in the optimiser's coordinates. */
        for (int i = 0; i < k; i++) {
            row[i] = de_dmu * dmu[i];
        }
        if (ca >= 0) {
            double ra = row[ca], rb = cb >= 0 ? row[cb] : 0;
            double rg = cg >= 0 ? row[cg] : 0;

            if (cb >= 0) {
                row[cb] = alpha * rb;
            }
            if (cg >= 0) {
                row[cg] = (1 - alpha) * rg;
            }
            row[ca] = ra + (cb >= 0 ? x[lay.beta] * rb : 0) -
                      (cg >= 0 ? x[lay.gamma] * rg : 0);
        }
        for (int i = 0; i < k; i++) {
            double ri = row[i];
            double *hrow = hess + (size_t) i * k;

            grad[i] += ri * e;
            for (int c = 0; c <= i; c++) {
                hrow[c] += ri * row[c];
            }
        }
        if (kd->err) {
            /* d mu in the optimiser's coordinates, for sum log mu. */
            double ra = ca >= 0 ? dmu[ca] : 0;

            if (ca >= 0) {
                ra += (cb >= 0 ? x[lay.beta] * dmu[cb] : 0) -
                      (cg >= 0 ? x[lay.gamma] * dmu[cg] : 0);
            }
            for (int i = 0; i < k; i++) {
                double d = dmu[i];

                if (i == ca) {
                    d = ra;
                } else if (i == cb) {
                    d = alpha * dmu[i];
                } else if (i == cg) {
                    d = (1 - alpha) * dmu[i];
                }
                glog[i] += d / mu;
            }
        }
        /* State updates and their derivatives. */
        resid = pp - q;
        for (int i = 0; i < k; i++) {
            double dr = dp[i] - dq[i];

            dl[i] = dq[i] + alpha * dr;
            db[i] = phi * db[i] + beta * dr;
            if (kd->season == 1) {
                dsj[i] = dsj[i] + gamma * (-dq[i] - dsj[i]);
            } else if (kd->season == 2) {
                dsj[i] = dsj[i] + gamma * (-yt / (q * q) * dq[i] - dsj[i]);
            }
        }
        if (ca >= 0) {
            dl[ca] += resid;
        }
        if (cb >= 0) {
            db[cb] += resid;
        }
        if (cp >= 0) {
            db[cp] += b;
        }
        if (cg >= 0) {
            dsj[cg] += kd->season == 1 ? yt - q - s : yt / q - s;
        }
        l = q + alpha * resid;
        b = phib + beta * resid;
        if (kd->season == 1) {
            seas[j] = s + gamma * (yt - q - s);
        } else if (kd->season == 2) {
            seas[j] = s + gamma * (yt / q - s);
        }
        if (kd->season && ++j == m) {
            j = 0;
        }
    }
    if (!(sse > 0) || !isfinite(sse)) {
        return false;
    }
    *ret_sse = sse;
    if (kd->err) {
        /* n log S + 2 sum log mu = n log sum (e G)^2 with G the
         * geometric mean of mu: least squares in r = e G, whose
         * Jacobian is G (J + e gbar') with gbar = sum (dmu / mu) / n.
         * Dropping the common factor G^2, J'J gains
         * gbar (J'e)' + (J'e) gbar' + S gbar gbar' and J'e gains S gbar. */
        double nn = (double) p->n;

        for (int i = 0; i < k; i++) {
            for (int c = 0; c <= i; c++) {
                hess[i * k + c] += glog[i] / nn * grad[c] +
                                   grad[i] * glog[c] / nn +
                                   sse * glog[i] / nn * glog[c] / nn;
            }
        }
        for (int i = 0; i < k; i++) {
            grad[i] += sse / nn * glog[i];
        }
    }
    for (int i = 0; i < k; i++) {
        for (int c = i + 1; c < k; c++) {
            hess[i * k + c] = hess[c * k + i];
        }
    }
    return true;
}

/*
 * Levenberg-Marquardt on the coordinates of @x from @c0 on (0: every
 * parameter and state; the layout's l0: the states only), with the
 * smoothing coordinates kept in their box by projection (those at a
 * bound that the gradient pushes outwards are held there).  The model
 * is Gauss-Newton's on the errors plus, for multiplicative errors, the
 * gradient of 2 sum log mu (Hyndman et al. 2002's likelihood).  At most
 * @iters linearisations; @work holds ets_lm_work_size() doubles.
 * Returns: the new objective value (never worse than @f).
 */
static double
ets_levmar(EtsProblem *p, double *x, double f, int c0, int iters, double *work)
{
    EtsLayout lay = ets_layout(&p->k);
    int k = lay.dim - c0;
    double *hess = work;
    double *sys = hess + (size_t) k * k;
    double *grad = sys + (size_t) k * k;
    double *step = grad + k;
    double *xt = step + k;
    double *tan = xt + lay.dim; /* k (m + 7) */
    int *freecol = g_newa(int, k);
    int nf = p->nfree;
    double lambda = 1e-3;
    double sse;

    p->nfree = p->dim;
    for (int it = 0; it < iters; it++) {
        int nfree = 0;
        bool accepted = false;

        if (!ets_linearise(p, x, c0, hess, grad, tan, &sse)) {
            break;
        }
        /* Hold smoothing coordinates at a bound the step would cross. */
        for (int i = 0; i < k; i++) {
            int xi = c0 + i;
            double lo, hi;

            if (xi < lay.nsmooth) {
                ets_box(x, &lay, xi, &lo, &hi);
                if ((x[xi] <= lo + 1e-12 && grad[i] > 0) ||
                    (x[xi] >= hi - 1e-12 && grad[i] < 0)) {
                    continue;
                }
            }
            freecol[nfree++] = i;
        }
        if (nfree == 0) {
            break;
        }
        while (lambda < 1e10) {
            double fn;

            for (int a = 0; a < nfree; a++) {
                for (int b = 0; b < nfree; b++) {
                    sys[a * nfree + b] = hess[freecol[a] * k + freecol[b]];
                }
                sys[a * nfree + a] *= 1 + lambda;
                step[a] = -grad[freecol[a]];
            }
            if (!ets_solve_spd(sys, step, nfree)) {
                lambda *= 10;
                continue;
            }
            memcpy(xt, x, sizeof(double) * lay.dim);
            for (int a = 0; a < nfree; a++) {
                xt[c0 + freecol[a]] += step[a];
            }
            ets_project(xt, &lay);
            fn = ets_objective(xt, p);
            if (fn < f) {
                double gain = f - fn;

                memcpy(x, xt, sizeof(double) * lay.dim);
                f = fn;
                lambda = MAX(lambda / 5, 1e-9);
                accepted = gain > 1e-9 * (1 + fabs(f));
                break;
            }
            lambda *= 5;
        }
        if (!accepted) {
            break;
        }
    }
    p->nfree = nf;
    return f;
}

/*
 * The objective and its gradient with respect to every coordinate of
 * @x, by reverse-mode differentiation (the adjoint) of the recursion:
 * a forward pass that records the states, then a backward pass carrying
 * the sensitivity of lik to the level, slope and each seasonal slot.
 * Costs about three evaluations whatever the number of coordinates.
 * @traj holds 5 n doubles.  Returns: lik, or ETS_PENALTY (then @grad is
 * not set).
 */
static double
ets_gradient(EtsProblem *p, const double *x, double *grad, double *traj)
{
    const EtsKind *kd = &p->k;
    EtsLayout lay = ets_layout(kd);
    int m = kd->m;
    size_t n = p->n;
    double *tl = traj, *tb = tl + n, *ts = tb + n, *tmu = ts + n;
    double *te = tmu + n;
    double seas[FC_ETS_MAX_PERIOD];
    double sadj[FC_ETS_MAX_PERIOD] = {0};
    double l, b = 0, sse = 0, logsum = 0, prod = 1, lik, nn = (double) n;
    double alpha, beta, gamma, phi;
    double lbar = 0, bbar = 0, abar = 0, bebar = 0, gbar = 0, phibar = 0;
    EtsSmooth sm;
    int j = 0;

    if (!ets_unpack_smooth(x, &lay, &sm) || !ets_admissible(kd, &sm)) {
        return ETS_PENALTY;
    }
    alpha = sm.alpha;
    beta = kd->trend ? sm.beta : 0;
    gamma = sm.gamma;
    phi = kd->trend ? sm.phi : 0;
    l = x[lay.l0];
    if (lay.b0 >= 0) {
        b = x[lay.b0];
    }
    if (kd->season && !ets_unpack_season(x, &lay, kd, seas)) {
        return ETS_PENALTY;
    }
    for (size_t t = 0; t < n; t++) {
        double yt = p->y[t];
        double q = l + phi * b;
        double s = kd->season ? seas[j] : 0;
        double mu, pp, e;

        if (kd->season == 0) {
            mu = q;
            pp = yt;
        } else if (kd->season == 1) {
            mu = q + s;
            pp = yt - s;
        } else {
            if (!(q > ETS_TINY)) {
                return ETS_PENALTY;
            }
            mu = q * s;
            pp = yt / s;
        }
        if (kd->err == 0) {
            e = yt - mu;
        } else {
            if (!(mu > ETS_TINY)) {
                return ETS_PENALTY;
            }
            e = (yt - mu) / mu;
            prod *= mu;
            if (prod > 1e100 || prod < 1e-100) {
                logsum += log(prod);
                prod = 1;
            }
        }
        tl[t] = l;
        tb[t] = b;
        ts[t] = s;
        tmu[t] = mu;
        te[t] = e;
        sse += e * e;
        l = q + alpha * (pp - q);
        b = phi * b + beta * (pp - q);
        if (kd->season == 1) {
            seas[j] = s + gamma * (yt - q - s);
        } else if (kd->season == 2) {
            seas[j] = s + gamma * (yt / q - s);
        }
        if (kd->season && ++j == m) {
            j = 0;
        }
    }
    if (sse < ETS_SSE_FLOOR * nn) {
        sse = ETS_SSE_FLOOR * nn;
    }
    lik = nn * log(sse) + 2 * (logsum + log(prod));
    if (!isfinite(lik)) {
        return ETS_PENALTY;
    }
    /* Backward: j is the slot of time t. */
    for (size_t t = n; t-- > 0;) {
        double yt = p->y[t];
        double lt = tl[t], bt = tb[t], s = ts[t], mu = tmu[t], e = te[t];
        double q = lt + phi * bt;
        double pp, r, qbar = 0, sbar, mubar, pbar_t;

        j = (int) (t % (size_t) m);
        pp = kd->season == 0 ? yt : kd->season == 1 ? yt - s : yt / s;
        r = pp - q;
        sbar = kd->season ? sadj[j] : 0;
        /* l' = q + alpha r, b' = phi b + beta r. */
        qbar += lbar * (1 - alpha) - bbar * beta;
        pbar_t = lbar * alpha + bbar * beta;
        abar += lbar * r;
        bebar += bbar * r;
        phibar += bbar * bt;
        {
            double bnew = phi * bbar;
            double snew = 0;

            /* The seasonal update. */
            if (kd->season == 1) {
                snew = sbar * (1 - gamma);
                qbar -= sbar * gamma;
                gbar += sbar * (yt - q - s);
            } else if (kd->season == 2) {
                snew = sbar * (1 - gamma);
                qbar -= sbar * gamma * yt / (q * q);
                gbar += sbar * (yt / q - s);
            }
            /* The loss through mu. */
            if (kd->err == 0) {
                mubar = -2 * nn * e / sse;
            } else {
                mubar = -2 * nn * e / sse * yt / (mu * mu) + 2 / mu;
            }
            if (kd->season == 0) {
                qbar += mubar;
            } else if (kd->season == 1) {
                qbar += mubar;
                snew += mubar - pbar_t;
            } else {
                qbar += mubar * s;
                snew += mubar * q - pbar_t * yt / (s * s);
            }
            /* q = l + phi b. */
            lbar = qbar;
            bbar = bnew + qbar * phi;
            phibar += qbar * bt;
            if (kd->season) {
                sadj[j] = snew;
            }
        }
    }
    memset(grad, 0, sizeof(double) * (size_t) lay.dim);
    grad[lay.alpha] = abar;
    if (lay.beta >= 0) {
        grad[lay.beta] = alpha * bebar;
        grad[lay.alpha] += x[lay.beta] * bebar;
    }
    if (lay.gamma >= 0) {
        grad[lay.gamma] = (1 - alpha) * gbar;
        grad[lay.alpha] -= x[lay.gamma] * gbar;
    }
    if (lay.phi >= 0) {
        grad[lay.phi] = phibar;
    }
    grad[lay.l0] = lbar;
    if (lay.b0 >= 0) {
        grad[lay.b0] = bbar;
    }
    for (int s = 1; s < m && kd->season; s++) {
        grad[lay.seas + s - 1] = sadj[s] - sadj[0];
    }
    return lik;
}

/* Doubles of scratch ets_bfgs() needs. */
static size_t
ets_bfgs_work_size(int dim, int m, size_t n)
{
    return (size_t) dim * (size_t) (3 * dim + m + 20) + 5 * n;
}

/*
 * Projected BFGS (Broyden-Fletcher-Goldfarb-Shanno) over every
 * coordinate of @x with the adjoint gradient: the smoothing coordinates
 * stay in their box (those at a bound the gradient pushes against are
 * held), an Armijo backtracking line search along the projected path,
 * and the inverse Hessian started from the Gauss-Newton one
 * (S / 2n (J'J)^-1, see ets_linearise()), which puts the states and the
 * smoothing parameters on the right scales from the first step.  At most
 * @iters iterations; @work holds ets_bfgs_work_size() doubles.  Returns:
 * the new objective value (never worse than @f).
 */
static double
ets_bfgs(EtsProblem *p, double *x, double f, int iters, double *work)
{
    EtsLayout lay = ets_layout(&p->k);
    int k = lay.dim;
    double *hb = work;                 /* the Hessian approximation B */
    double *sys = hb + (size_t) k * k; /* B over the free coordinates */
    double *g = sys + (size_t) k * k;
    double *gn = g + k;
    double *d = gn + k;
    double *xn = d + k;
    double *s = xn + k;
    double *yv = s + k;
    double *bs = yv + k;
    double *tan = bs + k; /* k (m + 7) */
    double *traj = tan + (size_t) k * (size_t) (p->k.m + 7);
    int *freecol = g_newa(int, k);
    int nf = p->nfree;
    double sse;

    p->nfree = p->dim;
    if (!ets_linearise(p, x, 0, hb, gn, tan, &sse)) {
        p->nfree = nf;
        return f;
    }
    for (int i = 0; i < k * k; i++) {
        hb[i] *= 2 * (double) p->n / sse;
    }
    if (ets_gradient(p, x, g, traj) >= ETS_PENALTY) {
        p->nfree = nf;
        return f;
    }
    for (int it = 0; it < iters; it++) {
        double slope = 0, t = 1, fn = ETS_PENALTY, sy = 0, sbs = 0;
        int nfree = 0;
        bool ok = false;

        for (int i = 0; i < k; i++) {
            double lo, hi;

            if (i < lay.nsmooth) {
                ets_box(x, &lay, i, &lo, &hi);
                if ((x[i] <= lo + 1e-12 && g[i] > 0) ||
                    (x[i] >= hi - 1e-12 && g[i] < 0)) {
                    continue;
                }
            }
            freecol[nfree++] = i;
        }
        if (nfree == 0) {
            break;
        }
        for (int a = 0; a < nfree; a++) {
            for (int c = 0; c < nfree; c++) {
                sys[a * nfree + c] = hb[freecol[a] * k + freecol[c]];
            }
            d[a] = -g[freecol[a]];
        }
        if (!ets_solve_spd(sys, d, nfree)) {
            /* Restart from the diagonal. */
            for (int a = 0; a < nfree; a++) {
                int i = freecol[a];

                d[a] = -g[i] / MAX(hb[i * k + i], 1e-12);
            }
        }
        for (int a = nfree - 1; a >= 0; a--) {
            double v = d[a];

            d[a] = 0;
            d[freecol[a]] = v;
        }
        for (int i = 0, a = 0; i < k; i++) {
            if (a < nfree && freecol[a] == i) {
                a++;
            } else {
                d[i] = 0;
            }
            slope += d[i] * g[i];
        }
        if (!(slope < 0)) {
            break;
        }
        for (int ls = 0; ls < 30; ls++, t *= 0.5) {
            double dec = 0;

            for (int i = 0; i < k; i++) {
                xn[i] = x[i] + t * d[i];
            }
            ets_project(xn, &lay);
            for (int i = 0; i < k; i++) {
                dec += g[i] * (xn[i] - x[i]);
            }
            fn = ets_objective(xn, p);
            if (fn <= f + 1e-4 * dec) {
                ok = true;
                break;
            }
        }
        if (!ok) {
            break;
        }
        fn = ets_gradient(p, xn, gn, traj);
        if (fn >= ETS_PENALTY) {
            break;
        }
        for (int i = 0; i < k; i++) {
            double v = 0;

            s[i] = xn[i] - x[i];
            yv[i] = gn[i] - g[i];
            sy += s[i] * yv[i];
            for (int a = 0; a < k; a++) {
                v += hb[i * k + a] * (xn[a] - x[a]);
            }
            bs[i] = v;
        }
        for (int i = 0; i < k; i++) {
            sbs += s[i] * bs[i];
        }
        /* BFGS update of B, skipped when the curvature is not positive. */
        if (sbs > 0 && sy > 1e-8 * sbs) {
            for (int i = 0; i < k; i++) {
                for (int a = 0; a < k; a++) {
                    hb[i * k + a] += yv[i] * yv[a] / sy - bs[i] * bs[a] / sbs;
                }
            }
        }
        memcpy(x, xn, sizeof(double) * k);
        memcpy(g, gn, sizeof(double) * k);
        if (f - fn < 1e-10 * (1 + fabs(fn))) {
            f = fn;
            break;
        }
        f = fn;
    }
    p->nfree = nf;
    return f;
}

/*
 * Picks the starting point: the heuristic states with a few values of
 * alpha, with the regression's slope or none, and for multiplicative
 * errors with additive seasons (whose one-step forecasts must stay
 * positive) a shrunken seasonal pattern if need be.  @x holds the
 * default start and receives the best feasible one.  Returns: its
 * objective value, ETS_PENALTY if none is feasible.
 */
static double
ets_start(EtsProblem *p, const EtsLayout *lay, double *x)
{
    static const double alphas[] = {0, 0.5, 0.95};
    static const double shrink[] = {1, 0.5, 0.2, 0};
    const EtsKind *k = &p->k;
    double *best = g_newa(double, lay->dim);
    double *cand = g_newa(double, lay->dim);
    double fbest = ETS_PENALTY;
    /* The regression line passes through the mean of the first maxn
     * adjusted values, at t = (maxn + 1) / 2. */
    size_t maxn = MIN(p->n, (size_t) MAX(10, 2 * k->m));

    for (size_t si = 0; si < G_N_ELEMENTS(shrink); si++) {
        if (si > 0 && (k->season != 1 || fbest < ETS_PENALTY)) {
            break;
        }
        for (size_t ai = 0; ai < G_N_ELEMENTS(alphas); ai++) {
            for (int flat = 0; flat <= (lay->b0 >= 0); flat++) {
                double f;

                memcpy(cand, x, sizeof(double) * lay->dim);
                if (alphas[ai] > 0) {
                    cand[lay->alpha] = alphas[ai];
                    if (lay->gamma >= 0) {
                        /* gamma* = gamma / (1 - alpha): keep gamma. */
                        cand[lay->gamma] =
                            MIN(1, x[lay->gamma] * (1 - x[lay->alpha]) /
                                       (1 - alphas[ai]));
                    }
                }
                if (flat) {
                    /* No slope, and nearly no slope smoothing. */
                    cand[lay->l0] += cand[lay->b0] * 0.5 * (double) (maxn + 1);
                    cand[lay->b0] = 0;
                    cand[lay->beta] = MIN(1, 2 * ETS_PAR_LO / cand[lay->alpha]);
                }
                for (int j = 1; j < k->m && k->season; j++) {
                    cand[lay->seas + j - 1] *= shrink[si];
                }
                f = ets_objective(cand, p);
                if (f < fbest) {
                    fbest = f;
                    memcpy(best, cand, sizeof(double) * lay->dim);
                }
            }
        }
    }
    if (fbest < ETS_PENALTY) {
        memcpy(x, best, sizeof(double) * lay->dim);
    }
    return fbest;
}

/* Fits one model to the scaled series.  Returns: NULL if it cannot be
 * fitted (no starting point, breakdown). */
static FcEtsModel *
ets_fit_kind(const double *ys, size_t n, double scale, const EtsKind *k,
             bool quick)
{
    EtsLayout lay = ets_layout(k);
    int dim = lay.dim;
    int m = k->m;
    g_autofree double *x = g_new0(double, dim);
    g_autofree double *step = g_new0(double, dim);
    g_autofree double *full = g_new0(double, dim);
    g_autofree double *work = g_new0(double, (size_t) (dim + 1) * (dim + 5));
    g_autofree double *lmwork = g_new0(double, ets_lm_work_size(dim, k->m));
    g_autofree double *bfgswork =
        g_new0(double, ets_bfgs_work_size(dim, k->m, n));
    double seas[FC_ETS_MAX_PERIOD] = {0};
    double l0, b0, f;
    EtsProblem p = {ys, n, *k, dim, dim, full, seas};
    g_autoptr(FcEtsModel) model = NULL;
    EtsSmooth sm;

    if (!ets_init_states(ys, n, k, &l0, &b0, seas)) {
        return NULL;
    }
    /* Starting smoothing parameters (beta* = beta / alpha, gamma* =
     * gamma / (1 - alpha)) and states. */
    x[lay.alpha] = m > 1 ? 0.05 : 0.2;
    if (lay.beta >= 0) {
        x[lay.beta] = 0.1;
    }
    if (lay.gamma >= 0) {
        x[lay.gamma] = 0.05;
    }
    if (lay.phi >= 0) {
        x[lay.phi] = 0.978;
    }
    x[lay.l0] = l0;
    if (lay.b0 >= 0) {
        x[lay.b0] = b0;
    }
    for (int j = 1; j < m && k->season; j++) {
        x[lay.seas + j - 1] = seas[j];
    }
    for (int i = 0; i < lay.nsmooth; i++) {
        step[i] = 0.1;
    }
    f = ets_start(&p, &lay, x);
    if (f >= ETS_PENALTY) {
        return NULL;
    }
    /* Alternate Nelder-Mead over the smoothing parameters, the states
     * fixed (the rest of the vector is read from p.full), and
     * Levenberg-Marquardt over the states, the smoothing parameters
     * fixed; then polish everything together by BFGS. */
    for (int round = 0; round < (quick ? 1 : ETS_ROUNDS); round++) {
        double fprev = f;

        memcpy(full, x, sizeof(double) * dim);
        p.nfree = lay.nsmooth;
        if (!quick) {
            f = ets_nelder_mead(&p, x, step, lay.nsmooth, ETS_NM_EVALS, work);
        }
        p.nfree = dim;
        f = ets_levmar(&p, x, f, lay.l0,
                       quick ? ETS_QUICK_LM_ITERS : ETS_LM_ITERS, lmwork);
        for (int i = 0; i < lay.nsmooth; i++) {
            step[i] *= 0.5;
        }
        if (fprev - f < 1e-4 * (1 + fabs(f))) {
            break;
        }
    }
    f = ets_bfgs(&p, x, f, quick ? ETS_QUICK_BFGS_ITERS : ETS_BFGS_ITERS,
                 bfgswork);
    if (!ets_unpack_smooth(x, &lay, &sm)) {
        return NULL;
    }
    if (k->season && !ets_unpack_season(x, &lay, k, seas)) {
        return NULL;
    }
    model = ets_model_new(k);
    if (!ets_finish(model, ys, n, scale, &sm, x[lay.l0],
                    lay.b0 >= 0 ? x[lay.b0] : 0, seas)) {
        return NULL;
    }
    return g_steal_pointer(&model);
}

/* Resolves @spec for a series of @n values with period @m. */
static bool
ets_kind_from_spec(const FcEtsSpec *spec, int m, EtsKind *ret, GError **error)
{
    EtsKind k = {0, 0, false, 0, 1};

    if (spec->error != 'A' && spec->error != 'M') {
        goto bad;
    }
    k.err = spec->error == 'M';
    if (spec->trend == 'A') {
        k.trend = 1;
    } else if (spec->trend != 'N') {
        goto bad;
    }
    k.damped = spec->damped;
    if (k.damped && !k.trend) {
        goto bad;
    }
    if (spec->season == 'A') {
        k.season = 1;
    } else if (spec->season == 'M') {
        k.season = 2;
    } else if (spec->season != 'N') {
        goto bad;
    }
    if (k.season) {
        if (m < 2 || m > FC_ETS_MAX_PERIOD) {
            g_set_error(error, FC_ERROR, FC_ERROR_INVALID,
                        "a seasonal ETS model needs a period in 2..%d, not %d",
                        FC_ETS_MAX_PERIOD, m);
            return false;
        }
        k.m = m;
    }
    *ret = k;
    return true;
bad:
    g_set_error(error, FC_ERROR, FC_ERROR_INVALID, "invalid ETS spec %c%c%s%c",
                spec->error, spec->trend, spec->damped ? "d" : "",
                spec->season);
    return false;
}

/* Checks the series; returns its scale (mean absolute value, > 0) and
 * whether it is strictly positive, constant. */
static bool
ets_check_series(const double *y, size_t n, double *ret_scale,
                 bool *ret_positive, bool *ret_constant, GError **error)
{
    double sum = 0, lo = INFINITY, hi = -INFINITY;

    if (!y || n == 0) {
        g_set_error(error, FC_ERROR, FC_ERROR_EMPTY, "no observations");
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(y[i])) {
            g_set_error(error, FC_ERROR, FC_ERROR_INVALID,
                        "observation %zu is not finite", i);
            return false;
        }
        sum += fabs(y[i]);
        lo = MIN(lo, y[i]);
        hi = MAX(hi, y[i]);
    }
    *ret_scale = sum > 0 ? sum / (double) n : 1;
    if (!isfinite(*ret_scale)) {
        g_set_error(error, FC_ERROR, FC_ERROR_NUMERIC,
                    "observations too large");
        return false;
    }
    *ret_positive = lo > 0;
    *ret_constant = hi - lo <= 1e-12 * MAX(fabs(hi), fabs(lo));
    return true;
}

/* The degenerate fit of a constant series: ETS(A,N,N), alpha 0.9999. */
static FcEtsModel *
ets_constant(const double *y, size_t n)
{
    EtsKind k = {0, 0, false, 0, 1};
    FcEtsModel *model = ets_model_new(&k);
    double nn = (double) n;
    double scale = y[0] != 0 ? fabs(y[0]) : 1;
    /* The likelihood of a perfect fit, with the floor on SSE. */
    double lik = nn * log(ETS_SSE_FLOOR * nn) + 2 * nn * log(scale);

    model->n = n;
    model->npar = 2;
    model->par.alpha = ETS_PAR_HI;
    model->par.phi = 1;
    model->par.l0 = y[0];
    model->level = y[0];
    model->loglik = -0.5 * lik;
    model->aic = lik + 6;
    model->aicc = nn > 4 ? model->aic + 24 / (nn - 4) : model->aic;
    model->sigma2 = 0;
    return model;
}

FcEtsModel *
fc_ets_fit(const double *y, size_t n, int m, const FcEtsSpec *spec,
           GError **error)
{
    g_autofree double *ys = NULL;
    double scale;
    bool positive, constant;
    EtsKind k;
    FcEtsModel *model;

    if (!spec) {
        return fc_ets_fit_auto(y, n, m, NULL, error);
    }
    if (m < 1) {
        g_set_error(error, FC_ERROR, FC_ERROR_INVALID,
                    "seasonal period %d is below 1", m);
        return NULL;
    }
    if (!ets_check_series(y, n, &scale, &positive, &constant, error)) {
        return NULL;
    }
    if (!ets_kind_from_spec(spec, m, &k, error)) {
        return NULL;
    }
    if ((k.err || k.season == 2) && !positive) {
        g_set_error(error, FC_ERROR, FC_ERROR_INVALID,
                    "multiplicative ETS needs strictly positive data");
        return NULL;
    }
    if ((k.season && n < 2 * (size_t) m) || n <= (size_t) ets_npar(&k) + 4) {
        g_set_error(error, FC_ERROR, FC_ERROR_SHORT,
                    "%zu observations are too few for this ETS model", n);
        return NULL;
    }
    ys = g_new(double, n);
    for (size_t i = 0; i < n; i++) {
        ys[i] = y[i] / scale;
    }
    model = ets_fit_kind(ys, n, scale, &k, false);
    if (!model) {
        g_set_error(error, FC_ERROR, FC_ERROR_NUMERIC, "the ETS fit failed");
    }
    return model;
}

FcEtsModel *
fc_ets_fit_auto(const double *y, size_t n, int m, const FcEtsAuto *opts,
                GError **error)
{
    FcEtsAuto def = FC_ETS_AUTO_DEFAULT;
    g_autofree double *ys = NULL;
    g_autoptr(FcEtsModel) best = NULL;
    double scale;
    bool positive, constant;

    if (!opts) {
        opts = &def;
    }
    if (m < 1) {
        g_set_error(error, FC_ERROR, FC_ERROR_INVALID,
                    "seasonal period %d is below 1", m);
        return NULL;
    }
    if (!ets_check_series(y, n, &scale, &positive, &constant, error)) {
        return NULL;
    }
    if (constant) {
        return ets_constant(y, n);
    }
    ys = g_new(double, n);
    for (size_t i = 0; i < n; i++) {
        ys[i] = y[i] / scale;
    }
    for (int err = 0; err < 2; err++) {
        for (int trend = 0; trend < 3; trend++) {
            for (int season = 0; season < 3; season++) {
                EtsKind k = {err, trend > 0, trend == 2, season,
                             season ? m : 1};
                FcEtsModel *model;

                if ((err || season == 2) && !positive) {
                    continue;
                }
                if (err == 0 && season == 2) {
                    continue;
                }
                if ((trend == 1 && !opts->undamped_trend) ||
                    ((err || season == 2) && opts->additive_only)) {
                    continue;
                }
                if (season &&
                    (m < 2 || m > FC_ETS_MAX_PERIOD || n < 2 * (size_t) m)) {
                    continue;
                }
                if (n <= (size_t) ets_npar(&k) + 4) {
                    continue;
                }
                model = ets_fit_kind(ys, n, scale, &k, opts->quick);
                if (model && (!best || model->aicc < best->aicc)) {
                    fc_ets_free(best);
                    best = model;
                } else {
                    fc_ets_free(model);
                }
            }
        }
    }
    if (!best) {
        g_set_error(error, FC_ERROR, FC_ERROR_SHORT,
                    "no ETS model could be fitted to %zu observations", n);
        return NULL;
    }
    return g_steal_pointer(&best);
}

FcEtsModel *
fc_ets_apply(const double *y, size_t n, int m, const FcEtsSpec *spec,
             const FcEtsParams *par, GError **error)
{
    g_autofree double *ys = NULL;
    g_autoptr(FcEtsModel) model = NULL;
    double seas[FC_ETS_MAX_PERIOD] = {0};
    double scale;
    bool positive, constant;
    EtsKind k;
    EtsSmooth sm;

    if (!spec || !par) {
        g_set_error(error, FC_ERROR, FC_ERROR_INVALID, "no spec");
        return NULL;
    }
    if (!ets_check_series(y, n, &scale, &positive, &constant, error) ||
        !ets_kind_from_spec(spec, m, &k, error)) {
        return NULL;
    }
    if ((k.err || k.season == 2) && !positive) {
        g_set_error(error, FC_ERROR, FC_ERROR_INVALID,
                    "multiplicative ETS needs strictly positive data");
        return NULL;
    }
    ys = g_new(double, n);
    for (size_t i = 0; i < n; i++) {
        ys[i] = y[i] / scale;
    }
    for (int j = 0; j < k.m && k.season; j++) {
        seas[j] = k.season == 1 ? par->s0[j] / scale : par->s0[j];
    }
    sm.alpha = par->alpha;
    sm.beta = par->beta;
    sm.gamma = par->gamma;
    sm.phi = k.damped ? par->phi : 1;
    model = ets_model_new(&k);
    if (!ets_finish(model, ys, n, scale, &sm, par->l0 / scale,
                    k.trend ? par->b0 / scale : 0, seas)) {
        g_set_error(error, FC_ERROR, FC_ERROR_NUMERIC,
                    "the ETS recursion broke down");
        return NULL;
    }
    return g_steal_pointer(&model);
}

/* Point forecasts: the recursion without errors. */
static void
ets_point(const FcEtsModel *model, size_t h, double *mean)
{
    const EtsKind *k = &model->kind;
    double phi = model->par.phi;
    double damp = 0, pw = 1;

    for (size_t i = 0; i < h; i++) {
        double q, s;

        pw *= k->damped ? phi : 1;
        damp += pw;
        q = model->level + damp * model->slope;
        s = model->season[i % (size_t) k->m];
        mean[i] = k->season == 1 ? q + s : k->season == 2 ? q * s : q;
    }
}

/* c_j = alpha + beta (phi + ... + phi^j) + gamma [j mod m = 0], the
 * weights of past errors in the linear models (2008 book, chapter 6). */
static void
ets_cj(const FcEtsModel *model, size_t h, double *c)
{
    const EtsKind *k = &model->kind;
    double damp = 0, pw = 1;

    for (size_t j = 1; j < h; j++) {
        pw *= k->damped ? model->par.phi : 1;
        damp += pw;
        c[j] = model->par.alpha + (k->trend ? model->par.beta * damp : 0);
        if (k->season && j % (size_t) k->m == 0) {
            c[j] += model->par.gamma;
        }
    }
}

static double
ets_quantile(double *v, size_t n, double prob)
{
    double pos = prob * (double) (n - 1);
    size_t i = (size_t) floor(pos);
    double frac = pos - (double) i;
    double a = util_select_kth(v, n, i);
    double b = i + 1 < n ? util_select_kth(v, n, i + 1) : a;

    return a + frac * (b - a);
}

/* Intervals of class 3 (and any model with a multiplicative season):
 * quantiles of simulated sample paths, from a fixed seed. */
static void
ets_simulate(const FcEtsModel *model, size_t h, FcResult *ret)
{
    const EtsKind *k = &model->kind;
    size_t npaths = MAX(100, MIN(ETS_SIM_PATHS, ETS_SIM_DOUBLES / h));
    g_autofree double *paths = g_new(double, h *npaths);
    double seas[FC_ETS_MAX_PERIOD];
    double sd = sqrt(model->sigma2);
    double beta = k->trend ? model->par.beta : 0;
    double phi = k->trend ? model->par.phi : 0;
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);

    gsl_rng_set(rng, ETS_SIM_SEED);
    for (size_t path = 0; path < npaths; path++) {
        double l = model->level, b = model->slope;

        memcpy(seas, model->season, sizeof(double) * (size_t) k->m);
        for (size_t i = 0; i < h; i++) {
            size_t j = i % (size_t) k->m;
            double s = seas[j];
            double phib = phi * b;
            double q = l + phib;
            double mu = k->season == 1 ? q + s : k->season == 2 ? q * s : q;
            double eps = gsl_ran_gaussian_ziggurat(rng, sd);
            double yt = k->err ? mu * (1 + eps) : mu + eps;
            double p = k->season == 1   ? yt - s
                       : k->season == 2 ? (s != 0 ? yt / s : yt)
                                        : yt;

            paths[i * npaths + path] = yt;
            l = q + model->par.alpha * (p - q);
            b = phib + beta * (p - q);
            if (k->season == 1) {
                seas[j] = s + model->par.gamma * (yt - q - s);
            } else if (k->season == 2 && q != 0) {
                seas[j] = s + model->par.gamma * (yt / q - s);
            }
        }
    }
    gsl_rng_free(rng);
    for (size_t i = 0; i < h; i++) {
        double *v = paths + i * npaths;
        size_t nfin = 0;

        for (size_t path = 0; path < npaths; path++) {
            if (isfinite(v[path])) {
                v[nfin++] = v[path];
            }
        }
        if (nfin < npaths / 2) {
            ret->lo95[i] = ret->lo80[i] = ret->hi80[i] = ret->hi95[i] =
                ret->mean[i];
            continue;
        }
        ret->lo95[i] = ets_quantile(v, nfin, 0.025);
        ret->lo80[i] = ets_quantile(v, nfin, 0.10);
        ret->hi80[i] = ets_quantile(v, nfin, 0.90);
        ret->hi95[i] = ets_quantile(v, nfin, 0.975);
    }
}

bool
fc_ets_forecast(const FcEtsModel *model, size_t h, FcResult *ret,
                GError **error)
{
    g_autofree double *c = NULL;
    g_autofree double *theta = NULL;
    const EtsKind *k;
    double s2;

    if (!model || !ret || h == 0 || ret->h < h) {
        g_set_error(error, FC_ERROR, FC_ERROR_INVALID,
                    "invalid ETS forecast request");
        return false;
    }
    k = &model->kind;
    s2 = model->sigma2;
    ets_point(model, h, ret->mean);
    for (size_t i = 0; i < h; i++) {
        if (!isfinite(ret->mean[i])) {
            g_set_error(error, FC_ERROR, FC_ERROR_NUMERIC,
                        "the ETS forecast is not finite");
            return false;
        }
    }
    if (k->season == 2) {
        ets_simulate(model, h, ret);
    } else {
        c = g_new0(double, h);
        theta = g_new0(double, h);
        ets_cj(model, h, c);
        for (size_t i = 0; i < h; i++) {
            double var;

            if (k->err == 0) {
                /* Class 1: sigma2 (1 + sum_{j<h} c_j^2). */
                var = s2;
                for (size_t j = 1; j <= i; j++) {
                    var += s2 * c[j] * c[j];
                }
            } else {
                /* Class 2: theta_h = mu_h^2 + sigma2 sum_j c_j^2
                 * theta_{h-j}, var = (1 + sigma2) theta_h - mu_h^2. */
                double mu2 = ret->mean[i] * ret->mean[i];

                theta[i] = mu2;
                for (size_t j = 1; j <= i; j++) {
                    theta[i] += s2 * c[j] * c[j] * theta[i - j];
                }
                var = (1 + s2) * theta[i] - mu2;
            }
            var = isfinite(var) && var > 0 ? sqrt(var) : 0;
            ret->lo80[i] = ret->mean[i] - Z80 * var;
            ret->hi80[i] = ret->mean[i] + Z80 * var;
            ret->lo95[i] = ret->mean[i] - Z95 * var;
            ret->hi95[i] = ret->mean[i] + Z95 * var;
        }
    }
    for (size_t i = 0; i < h; i++) {
        if (!isfinite(ret->lo95[i]) || !isfinite(ret->hi95[i]) ||
            !isfinite(ret->lo80[i]) || !isfinite(ret->hi80[i])) {
            ret->lo95[i] = ret->lo80[i] = ret->hi80[i] = ret->hi95[i] =
                ret->mean[i];
        }
    }
    g_free(ret->method);
    ret->method = fc_ets_describe(model);
    ret->aicc = isfinite(model->aicc) ? model->aicc : NAN;
    ret->sigma2 = model->sigma2;
    return true;
}

double
fc_ets_aicc(const FcEtsModel *model)
{
    return model->aicc;
}

double
fc_ets_loglik(const FcEtsModel *model)
{
    return model->loglik;
}

double
fc_ets_sigma2(const FcEtsModel *model)
{
    return model->sigma2;
}

int
fc_ets_period(const FcEtsModel *model)
{
    return model->kind.m;
}

FcEtsSpec
fc_ets_spec(const FcEtsModel *model)
{
    return model->spec;
}

void
fc_ets_params(const FcEtsModel *model, FcEtsParams *ret)
{
    *ret = model->par;
}

char *
fc_ets_describe(const FcEtsModel *model)
{
    const FcEtsSpec *s = &model->spec;

    if (model->kind.season) {
        return g_strdup_printf("ETS(%c,%c%s,%c)[%d]", s->error, s->trend,
                               s->damped ? "d" : "", s->season, model->kind.m);
    }
    return g_strdup_printf("ETS(%c,%c%s,%c)", s->error, s->trend,
                           s->damped ? "d" : "", s->season);
}

void
fc_ets_free(FcEtsModel *model)
{
    if (!model) {
        return;
    }
    g_free(model->season);
    g_free(model);
}
