/*
 * forecast/arima.c: seasonal ARIMA(p,d,q)(P,D,Q)[m] models: fitting,
 * the Hyndman-Khandakar order search, and forecasts with intervals.
 *
 * Model.  With x_t = y_t - mu (d + D = 0) or y_t - delta t (d + D = 1),
 *
 *   phi(B) Phi(B^m) (1 - B)^d (1 - B^m)^D x_t = theta(B) Theta(B^m) e_t,
 *
 * e_t ~ N(0, sigma^2), t = 1..n, the same parametrisation as R's
 * arima()/forecast::Arima(), so coefficients compare one to one.
 *
 * Fitting (R's method "CSS-ML").  The series is differenced once and for
 * all; the mean or drift becomes a constant in the differenced series
 * w.  First the conditional sum of squares (arima-kalman.c) is minimised
 * from zero coefficients and the least-squares constant, with its exact
 * gradient; those estimates start the exact Gaussian maximum likelihood
 * (concentrated in sigma^2, Kalman filter in arima-kalman.c), searched
 * over unconstrained parameters: AR operators through their partial
 * autocorrelations (tanh, Jones 1980), so every candidate is stationary;
 * MA operators free, then their roots reflected outside the unit circle
 * (the exact likelihood does not change).  The constant is searched on
 * the scale of ten standard errors of its least-squares estimate, as R
 * does.  The minimiser is a variable-metric BFGS with backtracking (see
 * minimize()), the method of R's optim(), with R's settings: the CSS
 * surface of a seasonal model often has several minima, and following
 * the same path lands in the same one, so the search below keeps and
 * rejects the same models as R.  (GSL's BFGS, with its different line
 * search, found other minima, and so other models, on some M4 series.)
 *
 * Order search (auto.arima(), Hyndman & Khandakar 2008, with R's
 * defaults): D from the seasonal strength and d from repeated KPSS tests
 * (arima-unitroot.c); then a stepwise walk from ARIMA(2,d,2)(1,D,1) and
 * the null, pure AR and pure MA models, each step trying the
 * neighbours that change p, q, P or Q by one (or two of them together)
 * and toggling the constant, moving to the first that lowers the AICc,
 * until none does or 94 models were fitted.  On long series (n > 150 or
 * m > 12) the walk compares conditional-sum-of-squares fits, their AICc
 * approximated with an offset taken from one exact fit of
 * ARIMA(0,d,0)(0,D,0); the winner (or the best of the rest, should its
 * exact fit fail) is then refitted exactly.  A model is rejected, as R
 * rejects it, when its AR or MA operator has a root within 1.01 of the
 * unit circle (so |Phi| < 1.01^-m for a seasonal coefficient) or when
 * the numerical Hessian of the objective gives a coefficient a negative
 * variance.
 *
 * Differences from R, deliberate or not: the exact likelihood here is
 * that of the differenced series, exact to rounding (it matches R's
 * arima(SSinit = "Rossignol2011") to 1e-12); R's default Gardner et al.
 * start is off by up to 1e-6 relatively on seasonal models, enough to
 * make its numerical Hessian indefinite and auto.arima() drop a good
 * model now and then, which this code does not imitate.  sigma^2 leaves
 * out the residuals of R's diffuse start (a 0.2 % difference at most on
 * the test series).  Beyond m = 200 no seasonal AR/MA terms are tried.
 *
 * Workload: an hourly series (n ~ 1000, m = 24) takes some 40 CSS fits
 * at O(n) per evaluation and one or a few exact fits at O(n r) per
 * evaluation (r <= 53): 0.1 s on average on one core, against about 25
 * s for R's auto.arima() on the same series.
 */
#include "forecast/arima-priv.h"

#include <float.h>
#include <math.h>
#include <string.h>

#define Z80 1.2815515655446004
#define Z95 1.959963984540054
#define OPT_MAXIT 100
#define OPT_RELTOL 1e-8
#define OPT_NDEPS 1e-3
#define BAD_OBJECTIVE 1e10
#define NMODELS 94

struct FcArimaModel {
    FcArimaOrder order;    /* as fitted: constant only with d + D <= 1 */
    size_t n;              /* observations */
    double *y;             /* the series (for the forecast's starting state) */
    double *coef;          /* phi, theta, Phi, Theta, then the constant */
    int ncoef;             /* how many */
    double sigma2;         /* innovation variance used by the forecast */
    double loglik;         /* exact log-likelihood (NAN if degenerate) */
    double aic, aicc, bic; /* information criteria (NAN if degenerate) */
};

typedef enum {
    FIT_CSS,       /* conditional sum of squares only */
    FIT_ML,        /* CSS for starting values, then exact ML */
    FIT_CSS_EXACT, /* CSS estimates, the exact likelihood evaluated there */
} FitMethod;

/* One fitting problem: the differenced series and the objective. */
typedef struct {
    FcArimaOrder o;   /* orders, m >= 1, constant only when allowed */
    int narma;        /* p + q + P + Q */
    int k;            /* optimised parameters: narma (+ 1 constant) */
    double creg;      /* the constant's coefficient in the differenced
                       * series: 1 for a mean, 1 or m for a drift */
    double beta0;     /* constant at the optimiser's origin */
    double bscale;    /* and its scale (optimiser units) */
    size_t nw;        /* differenced length, n - d - mD */
    const double *dy; /* differenced series (nw) */
    double *w;        /* dy less the constant (nw) */
    double *buf;      /* CSS scratch */
    double *coef;     /* coefficient scratch (narma + 1) */
    double *ga, *gb;  /* CSS gradient scratch (np + 1, nq + 1) */
    bool ml;          /* objective is the exact likelihood */
    ArimaArma arma;   /* operators of the current point */
    ArimaWork ws;     /* Kalman scratch */
    bool res_ok;      /* buf holds the CSS residuals at res_x */
    double res_x[64]; /* the point they belong to (k values) */
    double res_s2;    /* and their mean square */
} FitCtx;

/* What one fit produced. */
typedef struct {
    bool ok;         /* the fit succeeded */
    int k;           /* estimated coefficients */
    double *coef;    /* narma + 1 coefficients (last: constant or 0) */
    double sigma2;   /* ML sigma^2 (ssq / nw) or CSS mean square */
    double ssq;      /* residual sum of squares */
    double loglik;   /* exact log-likelihood (ML only) */
    bool degenerate; /* the series is fitted exactly: sigma^2 = 0 */
    bool accept;     /* passes auto.arima()'s checks: roots clear of the
                      * unit circle, variances all defined */
} FitOut;

static void
fit_out_clear(FitOut *out)
{
    g_free(out->coef);
    memset(out, 0, sizeof(*out));
}

static void
coef_from_params(const FitCtx *c, const double *x, double *coef)
{
    const FcArimaOrder *o = &c->o;

    if (c->ml) {
        arima_ar_from_raw(x, o->p, coef);
        memcpy(coef + o->p, x + o->p, sizeof(double) * (size_t) o->q);
        arima_ar_from_raw(x + o->p + o->q, o->P, coef + o->p + o->q);
        memcpy(coef + o->p + o->q + o->P, x + o->p + o->q + o->P,
               sizeof(double) * (size_t) o->Q);
    } else {
        memcpy(coef, x, sizeof(double) * (size_t) c->narma);
    }
    coef[c->narma] = c->o.constant ? c->beta0 + c->bscale * x[c->narma] : 0;
}

/* Returns: the objective at @x (coefficients written to c->coef). */
static double
objective(FitCtx *c, const double *x)
{
    const double *w = c->dy;
    double v;

    coef_from_params(c, x, c->coef);
    if (c->o.constant) {
        double off = c->creg * c->coef[c->narma];

        for (size_t t = 0; t < c->nw; t++) {
            c->w[t] = c->dy[t] - off;
        }
        w = c->w;
    }
    arima_arma_set(&c->arma, &c->o, c->coef);
    if (c->ml) {
        double ssq, sumlog;

        if (!arima_exact(&c->arma, w, c->nw, &c->ws, false, NULL, &ssq,
                         &sumlog)) {
            return BAD_OBJECTIVE;
        }
        v = 0.5 * log(MAX(ssq / (double) c->nw, DBL_MIN)) +
            0.5 * sumlog / (double) c->nw;
    } else {
        double s2 = arima_css(&c->arma, w, c->nw, c->buf);

        /* The line search's accepted point is where the gradient is
         * taken next: its residuals are kept for the backward pass. */
        c->res_ok = isfinite(s2);
        c->res_s2 = s2;
        memcpy(c->res_x, x, sizeof(double) * (size_t) c->k);
        v = 0.5 * log(MAX(s2, DBL_MIN));
    }
    return isfinite(v) ? v : BAD_OBJECTIVE;
}

/* The CSS objective and its exact gradient @g at @x.  Returns: the
 * objective (BAD_OBJECTIVE, @g zero, when undefined). */
static double
css_value_grad(FitCtx *c, const double *x, double *g)
{
    const FcArimaOrder *o = &c->o;
    const double *w = c->dy;
    const double *coef = c->coef;
    const double *phi = coef, *theta = phi + o->p;
    const double *sphi = theta + o->q, *stheta = sphi + o->P;
    double *gphi = g, *gtheta = g + o->p;
    double *gsphi = gtheta + o->q, *gstheta = gsphi + o->P;
    double s2, gc, f;
    int m = o->m;

    coef_from_params(c, x, c->coef);
    if (o->constant) {
        double off = c->creg * coef[c->narma];

        for (size_t t = 0; t < c->nw; t++) {
            c->w[t] = c->dy[t] - off;
        }
        w = c->w;
    }
    arima_arma_set(&c->arma, o, coef);
    if (c->res_ok && memcmp(x, c->res_x, sizeof(double) * (size_t) c->k) == 0) {
        s2 = c->res_s2;
        arima_css_adjoint(&c->arma, w, c->nw, c->buf, c->ga, c->gb, &gc);
    } else {
        s2 = arima_css_grad(&c->arma, w, c->nw, c->buf, c->ga, c->gb, &gc);
        c->res_ok = isfinite(s2);
        c->res_s2 = s2;
        memcpy(c->res_x, x, sizeof(double) * (size_t) c->k);
    }
    f = 0.5 * log(MAX(s2, DBL_MIN));
    memset(g, 0, sizeof(double) * (size_t) c->k);
    if (!isfinite(f) || !(s2 > 0)) {
        return isfinite(f) ? f : BAD_OBJECTIVE;
    }
    /* Chain rule through the products of the operators. */
    for (int i = 1; i <= o->p; i++) {
        double v = c->ga[i];

        for (int j = 1; j <= o->P; j++) {
            v -= sphi[j - 1] * c->ga[i + j * m];
        }
        gphi[i - 1] = v;
    }
    for (int j = 1; j <= o->P; j++) {
        double v = c->ga[(size_t) j * (size_t) m];

        for (int i = 1; i <= o->p; i++) {
            v -= phi[i - 1] * c->ga[i + j * m];
        }
        gsphi[j - 1] = v;
    }
    for (int i = 1; i <= o->q; i++) {
        double v = c->gb[i];

        for (int j = 1; j <= o->Q; j++) {
            v += stheta[j - 1] * c->gb[i + j * m];
        }
        gtheta[i - 1] = v;
    }
    for (int j = 1; j <= o->Q; j++) {
        double v = c->gb[(size_t) j * (size_t) m];

        for (int i = 1; i <= o->q; i++) {
            v += theta[i - 1] * c->gb[i + j * m];
        }
        gstheta[j - 1] = v;
    }
    if (o->constant) {
        g[c->narma] = gc * c->creg * c->bscale;
    }
    for (int i = 0; i < c->k; i++) {
        g[i] *= 0.5 / s2;
    }
    return f;
}

/* The gradient of the objective at @x into @g: exact for CSS, central
 * differences (step 1e-3 in optimiser units, as R's optim()) for ML. */
static void
gradient(FitCtx *c, const double *x, double *g)
{
    double xx[64];

    if (!c->ml) {
        css_value_grad(c, x, g);
        return;
    }
    memcpy(xx, x, sizeof(double) * (size_t) c->k);
    for (int i = 0; i < c->k; i++) {
        double hi, lo;

        xx[i] = x[i] + OPT_NDEPS;
        hi = objective(c, xx);
        xx[i] = x[i] - OPT_NDEPS;
        lo = objective(c, xx);
        xx[i] = x[i];
        if (hi < BAD_OBJECTIVE && lo < BAD_OBJECTIVE) {
            g[i] = (hi - lo) / (2 * OPT_NDEPS);
        } else {
            /* At the edge of the admissible region: one-sided, from the
             * valid side, or nothing. */
            double f0 = objective(c, x);

            if (hi < BAD_OBJECTIVE) {
                g[i] = (hi - f0) / OPT_NDEPS;
            } else if (lo < BAD_OBJECTIVE) {
                g[i] = (f0 - lo) / OPT_NDEPS;
            } else {
                g[i] = 0;
            }
        }
    }
}

/*
 * minimize:
 * @x: (inout) the start, then the minimum found (k values)
 *
 * A variable-metric (BFGS) minimiser with a backtracking line search:
 * Nash, "Compact Numerical Methods for Computers" (1990), algorithm 21,
 * the method behind R's optim(method = "BFGS"), with its settings
 * (acceptance 1e-4, step reduction 0.2, relative tolerance 1e-8, at most
 * 100 iterations).  The inverse Hessian estimate starts as the identity
 * and is reset to it whenever a step fails to descend.  Following the
 * same path as R matters: the CSS objective of a seasonal model often
 * has several local minima, and which one is found decides whether
 * auto.arima() keeps a model.
 */
static void
minimize(FitCtx *c, double *x)
{
    const double acctol = 1e-4, stepredn = 0.2, reltest = 10;
    int n = c->k;
    g_autofree double *g = g_new0(double, n);
    g_autofree double *gold = g_new0(double, n);
    g_autofree double *xold = g_new0(double, n);
    g_autofree double *t = g_new0(double, n);
    g_autofree double *bx = g_new0(double, n);
    g_autofree double *b = g_new0(double, (size_t) n *(size_t) n);
    double f, fmin;
    int iter = 0, gradcount = 1, ilast, count;

    if (n == 0) {
        return;
    }
    fmin = f = objective(c, x);
    if (!(f < BAD_OBJECTIVE)) {
        return;
    }
    gradient(c, x, g);
    ilast = gradcount;
    do {
        double gradproj = 0;

        if (ilast == gradcount) {
            memset(b, 0, sizeof(double) * (size_t) n * (size_t) n);
            for (int i = 0; i < n; i++) {
                b[i * n + i] = 1;
            }
        }
        memcpy(xold, x, sizeof(double) * (size_t) n);
        memcpy(gold, g, sizeof(double) * (size_t) n);
        for (int i = 0; i < n; i++) {
            double s = 0;

            for (int j = 0; j < n; j++) {
                s -= b[i * n + j] * g[j];
            }
            t[i] = s;
            gradproj += s * g[i];
        }
        if (gradproj < 0) {
            double step = 1;
            bool accepted = false;

            do {
                count = 0;
                for (int i = 0; i < n; i++) {
                    x[i] = xold[i] + step * t[i];
                    if (reltest + x[i] == reltest + xold[i]) {
                        count++;
                    }
                }
                if (count < n) {
                    f = objective(c, x);
                    accepted = f < BAD_OBJECTIVE &&
                               f <= fmin + gradproj * step * acctol;
                    if (!accepted) {
                        step *= stepredn;
                    }
                }
            } while (count != n && !accepted);
            if (!(fabs(f - fmin) > OPT_RELTOL * (fabs(fmin) + OPT_RELTOL))) {
                /* Too little change: treated as no progress. */
                count = n;
                fmin = f;
            }
            if (count < n) {
                double d1 = 0, d2 = 0;

                fmin = f;
                gradient(c, x, g);
                gradcount++;
                iter++;
                for (int i = 0; i < n; i++) {
                    t[i] *= step;
                    gold[i] = g[i] - gold[i];
                    d1 += t[i] * gold[i];
                }
                if (d1 > 0) {
                    for (int i = 0; i < n; i++) {
                        double s = 0;

                        for (int j = 0; j < n; j++) {
                            s += b[i * n + j] * gold[j];
                        }
                        bx[i] = s;
                        d2 += gold[i] * s;
                    }
                    d2 = 1 + d2 / d1;
                    for (int i = 0; i < n; i++) {
                        for (int j = 0; j < n; j++) {
                            b[i * n + j] += (d2 * t[i] * t[j] - bx[i] * t[j] -
                                             t[i] * bx[j]) /
                                            d1;
                        }
                    }
                } else {
                    ilast = gradcount;
                }
            } else if (ilast < gradcount) {
                /* No progress: once more from steepest descent. */
                count = 0;
                ilast = gradcount;
            }
        } else {
            count = 0;
            if (ilast == gradcount) {
                count = n;
            } else {
                ilast = gradcount;
            }
        }
        if (iter >= OPT_MAXIT) {
            break;
        }
        if (gradcount - ilast > 2 * n) {
            ilast = gradcount;
        }
    } while (count != n || ilast != gradcount);
}

/* Sets up the differenced series of @y for @o.  Returns: false when
 * too short (nw <= np). */
static bool
ctx_init(FitCtx *c, const double *y, size_t n, const FcArimaOrder *o,
         double *dy_store)
{
    g_autofree double *delta = NULL;
    int nd;

    memset(c, 0, sizeof(*c));
    c->o = *o;
    if (c->o.m < 2) {
        c->o.m = 1;
        c->o.P = c->o.D = c->o.Q = 0;
    }
    if (c->o.d + c->o.D > 1) {
        c->o.constant = false;
    }
    nd = c->o.d + c->o.m * c->o.D;
    if ((size_t) nd >= n ||
        (size_t) c->o.p + (size_t) c->o.m * (size_t) c->o.P >=
            n - (size_t) nd) {
        return false;
    }
    delta = g_new0(double, nd + 1);
    arima_delta(c->o.d, c->o.D, c->o.m, delta);
    c->nw = n - (size_t) nd;
    arima_difference(y, n, delta, nd, dy_store);
    c->dy = dy_store;
    c->narma = o->p + o->q + c->o.P + c->o.Q;
    c->k = c->narma + (c->o.constant ? 1 : 0);
    c->creg = c->o.d + c->o.D == 0 ? 1 : (c->o.d == 1 ? 1 : c->o.m);
    arima_arma_init(&c->o, &c->arma);
    arima_work_init(&c->ws, &c->arma);
    c->w = g_new0(double, c->nw);
    c->buf = g_new0(double, 2 * (c->nw + (size_t) c->arma.nq + 1));
    c->ga = g_new0(double, c->arma.np + 1);
    c->gb = g_new0(double, c->arma.nq + 1);
    c->coef = g_new0(double, c->narma + 1);
    return true;
}

static void
ctx_clear(FitCtx *c)
{
    arima_arma_clear(&c->arma);
    arima_work_clear(&c->ws);
    g_free(c->w);
    g_free(c->buf);
    g_free(c->coef);
    g_free(c->ga);
    g_free(c->gb);
}

/* Least-squares constant of the differenced series and its standard
 * error, in the constant's own units. */
static void
ls_constant(const FitCtx *c, double *ret_beta, double *ret_se)
{
    double mean = 0, ss = 0;

    for (size_t t = 0; t < c->nw; t++) {
        mean += c->dy[t];
    }
    mean /= (double) c->nw;
    for (size_t t = 0; t < c->nw; t++) {
        ss += (c->dy[t] - mean) * (c->dy[t] - mean);
    }
    *ret_beta = mean / c->creg;
    *ret_se = c->nw > 1
                  ? sqrt(ss / (double) (c->nw - 1) / (double) c->nw) / c->creg
                  : 0;
}

/* Evaluates the final exact (or CSS) fit at @coef into @out. */
static bool
finish(FitCtx *c, FitMethod method, const double *coef, FitOut *out)
{
    const double *w = c->dy;

    out->coef = g_memdup2(coef, sizeof(double) * (size_t) (c->narma + 1));
    out->k = c->k;
    if (c->o.constant) {
        for (size_t t = 0; t < c->nw; t++) {
            c->w[t] = c->dy[t] - c->creg * coef[c->narma];
        }
        w = c->w;
    }
    arima_arma_set(&c->arma, &c->o, coef);
    c->res_ok = false;
    if (method == FIT_CSS) {
        size_t used = c->nw - (size_t) c->arma.np;

        out->sigma2 = arima_css(&c->arma, w, c->nw, c->buf);
        out->ssq = out->sigma2 * (double) used;
        out->loglik = NAN;
        out->ok = isfinite(out->sigma2);
    } else {
        double ssq, sumlog;

        out->ok =
            arima_exact(&c->arma, w, c->nw, &c->ws, false, NULL, &ssq, &sumlog);
        if (out->ok) {
            double nw = (double) c->nw;

            out->sigma2 = ssq / nw;
            out->ssq = ssq;
            out->loglik = -0.5 * (nw * log(out->sigma2) + sumlog + nw +
                                  nw * log(2 * G_PI));
            out->ok = isfinite(out->loglik);
        }
    }
    if (out->ok && !(out->sigma2 > 0)) {
        out->degenerate = true;
    }
    return out->ok;
}

/* Returns: true when @coef's AR and MA operators keep their roots at
 * least 1.01 from the origin (forecast::auto.arima()'s acceptance). */
static bool
roots_clear(const FcArimaOrder *o, const double *coef)
{
    double ms = pow(1.01, o->m > 1 ? o->m : 1);
    const double *theta = coef + o->p;
    const double *sphi = theta + o->q;
    const double *stheta = sphi + o->P;

    return arima_roots_ok(coef, o->p, 1, 1.01) &&
           arima_roots_ok(sphi, o->P, 1, ms) &&
           arima_roots_ok(theta, o->q, -1, 1.01) &&
           arima_roots_ok(stheta, o->Q, -1, ms);
}

/*
 * variances_ok:
 * @x: the optimum, in optimiser units
 *
 * R's arima() estimates the coefficients' covariance as the inverse of
 * the numerical Hessian of its objective at the optimum (mapped through
 * the transform's Jacobian for the exact fit), and forecast's
 * auto.arima() rejects a model when one of those variances is negative
 * or undefined: a flat or saddle optimum, i.e. an over-parametrised
 * model.  This repeats that check with the same differences (steps of
 * 1e-3 in optimiser units).  Returns: true when the model passes.
 */
static bool
variances_ok(FitCtx *c, const double *x)
{
    int k = c->k;
    double h = OPT_NDEPS;
    g_autofree double *xx = g_memdup2(x, sizeof(double) * (size_t) k);
    g_autofree double *hess = g_new0(double, (size_t) k *(size_t) k);
    g_autofree double *lu = g_new0(double, (size_t) k *(size_t) k);
    g_autofree double *v = g_new0(double, (size_t) k *(size_t) k);
    g_autofree double *jac = g_new0(double, (size_t) k *(size_t) k);
    g_autofree double *c0 = g_new0(double, c->narma + 1);
    g_autofree double *c1 = g_new0(double, c->narma + 1);
    double f0;

    if (k == 0) {
        return true;
    }
    if (!c->ml) {
        /* Central differences of the exact gradient. */
        g_autofree double *gp = g_new0(double, k);
        g_autofree double *gm = g_new0(double, k);

        for (int j = 0; j < k; j++) {
            xx[j] = x[j] + h;
            css_value_grad(c, xx, gp);
            xx[j] = x[j] - h;
            css_value_grad(c, xx, gm);
            xx[j] = x[j];
            for (int i = 0; i < k; i++) {
                hess[i * k + j] = (gp[i] - gm[i]) / (2 * h);
            }
        }
        for (int i = 0; i < k; i++) {
            for (int j = 0; j < i; j++) {
                double sym = 0.5 * (hess[i * k + j] + hess[j * k + i]);

                hess[i * k + j] = hess[j * k + i] = sym;
            }
        }
    }
    f0 = objective(c, x);
    for (int i = 0; i < k && c->ml; i++) {
        for (int j = i; j < k; j++) {
            double fpp, fpm, fmp, fmm;

            if (i == j) {
                xx[i] = x[i] + 2 * h;
                fpp = objective(c, xx);
                xx[i] = x[i] - 2 * h;
                fmm = objective(c, xx);
                xx[i] = x[i];
                hess[i * k + i] = (fpp - 2 * f0 + fmm) / (4 * h * h);
                continue;
            }
            xx[i] = x[i] + h;
            xx[j] = x[j] + h;
            fpp = objective(c, xx);
            xx[j] = x[j] - h;
            fpm = objective(c, xx);
            xx[i] = x[i] - h;
            fmm = objective(c, xx);
            xx[j] = x[j] + h;
            fmp = objective(c, xx);
            xx[i] = x[i];
            xx[j] = x[j];
            hess[i * k + j] = (fpp - fpm - fmp + fmm) / (4 * h * h);
            hess[j * k + i] = hess[i * k + j];
        }
    }
    for (int i = 0; i < k * k; i++) {
        if (!isfinite(hess[i]) || fabs(hess[i]) >= BAD_OBJECTIVE) {
            return false;
        }
    }
    /* v = hess^-1, column by column. */
    for (int j = 0; j < k; j++) {
        double *col = v + (size_t) j * k;

        memcpy(lu, hess, sizeof(double) * (size_t) k * (size_t) k);
        col[j] = 1;
        if (!arima_solve(lu, k, col)) {
            return false;
        }
    }
    /* The exact fit's variances are J v J' with J the Jacobian of the
     * AR transform (forward differences, as R). */
    for (int i = 0; i < k; i++) {
        jac[i * k + i] = 1;
    }
    if (c->ml) {
        coef_from_params(c, x, c0);
        for (int j = 0; j < c->narma; j++) {
            bool ar = j < c->o.p ||
                      (j >= c->o.p + c->o.q && j < c->o.p + c->o.q + c->o.P);

            if (!ar) {
                continue;
            }
            xx[j] = x[j] + h;
            coef_from_params(c, xx, c1);
            xx[j] = x[j];
            for (int i = 0; i < c->narma; i++) {
                jac[i * k + j] = (c1[i] - c0[i]) / h;
            }
        }
    }
    for (int i = 0; i < k; i++) {
        double d = 0;

        for (int a = 0; a < k; a++) {
            for (int b = 0; b < k; b++) {
                d += jac[i * k + a] * v[b * k + a] * jac[i * k + b];
            }
        }
        if (!(d >= 0)) {
            return false;
        }
    }
    return true;
}

/*
 * fit_order:
 * @strict: fail, as R's arima() does, when the CSS estimates are not
 *   stationary; otherwise start the ML search from zero instead
 * @check: fill out->accept (roots_clear(), then variances_ok())
 *
 * Fits @o to @y by CSS or CSS-ML.  Returns: false if it failed.
 */
static bool
fit_order(const double *y, size_t n, const FcArimaOrder *o, FitMethod method,
          bool strict, bool check, FitOut *out)
{
    FitCtx c;
    g_autofree double *dy = g_new0(double, MAX(n, 1));
    g_autofree double *x = NULL;
    g_autofree double *coef = NULL;
    double se = 0;
    bool ok;

    memset(out, 0, sizeof(*out));
    if (!ctx_init(&c, y, n, o, dy)) {
        return false;
    }
    if (c.k > 60) {
        ctx_clear(&c);
        return false;
    }
    x = g_new0(double, c.k + 1);
    coef = g_new0(double, c.narma + 1);
    if (c.o.constant) {
        ls_constant(&c, &c.beta0, &se);
        c.bscale = 10 * se;
        if (!(c.bscale > 0)) {
            /* The differenced series is constant: fitted exactly. */
            coef[c.narma] = c.beta0;
            out->accept = true;
            ok = finish(&c, method, coef, out);
            ctx_clear(&c);
            return ok;
        }
    }
    c.ml = false;
    minimize(&c, x);
    coef_from_params(&c, x, coef);
    if (method == FIT_ML) {
        const FcArimaOrder *q = &c.o;
        double *phi = coef, *theta = coef + q->p;
        double *sphi = theta + q->q, *stheta = sphi + q->P;
        bool stat =
            arima_roots_ok(phi, q->p, 1, 1) && arima_roots_ok(sphi, q->P, 1, 1);

        if (!stat && strict) {
            ctx_clear(&c);
            return false;
        }
        if (!stat) {
            memset(phi, 0, sizeof(double) * (size_t) q->p);
            memset(sphi, 0, sizeof(double) * (size_t) q->P);
        }
        arima_ma_invert(theta, q->q);
        arima_ma_invert(stheta, q->Q);
        if (!arima_ar_to_raw(phi, q->p, x) ||
            !arima_ar_to_raw(sphi, q->P, x + q->p + q->q)) {
            ctx_clear(&c);
            return false;
        }
        memcpy(x + q->p, theta, sizeof(double) * (size_t) q->q);
        memcpy(x + q->p + q->q + q->P, stheta, sizeof(double) * (size_t) q->Q);
        if (q->constant) {
            c.beta0 = coef[c.narma];
            x[c.narma] = 0;
        }
        c.ml = true;
        minimize(&c, x);
        coef_from_params(&c, x, coef);
        arima_ma_invert(theta, q->q);
        arima_ma_invert(stheta, q->Q);
        memcpy(x + q->p, theta, sizeof(double) * (size_t) q->q);
        memcpy(x + q->p + q->q + q->P, stheta, sizeof(double) * (size_t) q->Q);
    }
    out->accept = !check || (roots_clear(&c.o, coef) && variances_ok(&c, x));
    ok = finish(&c, method == FIT_CSS ? FIT_CSS : FIT_ML, coef, out);
    ctx_clear(&c);
    return ok;
}

static FcArimaModel *
model_new(const double *y, size_t n, const FcArimaOrder *o, const FitOut *fit)
{
    FcArimaModel *mod = g_new0(FcArimaModel, 1);
    int narma = o->p + o->q + o->P + o->Q;

    mod->order = *o;
    mod->n = n;
    mod->y = g_memdup2(y, sizeof(double) * n);
    mod->ncoef = narma + (o->constant ? 1 : 0);
    mod->coef = g_new0(double, narma + 1);
    memcpy(mod->coef, fit->coef, sizeof(double) * (size_t) (narma + 1));
    if (!o->constant) {
        mod->coef[narma] = 0;
    }
    mod->loglik = mod->aic = mod->aicc = mod->bic = NAN;
    return mod;
}

/* Fills the information criteria of an exact fit (R: aic = -2 loglik +
 * 2 (k + 1); AICc and BIC on nstar = n - d - mD).  They stay NAN when
 * undefined: a deterministic fit, or too few observations for the AICc. */
static void
model_set_ic(FcArimaModel *mod, const FitOut *fit, size_t nstar)
{
    double npar = fit->k + 1;

    if (fit->degenerate || !isfinite(fit->loglik)) {
        return;
    }
    mod->loglik = fit->loglik;
    mod->aic = -2 * fit->loglik + 2 * npar;
    mod->aicc =
        (double) nstar - npar - 1 > 0
            ? mod->aic + 2 * npar * (npar + 1) / ((double) nstar - npar - 1)
            : NAN;
    mod->bic = mod->aic + npar * (log((double) nstar) - 2);
}

/* Returns: the innovation variance as forecast's Arima() and auto.arima()
 * report it: residual sum of squares / (nstar - k), k coefficients. */
static double
unbiased_sigma2(const FitOut *fit, size_t nstar)
{
    double den = (double) nstar - fit->k;

    if (fit->degenerate) {
        return 0;
    }
    return den > 0 ? fit->ssq / den : fit->sigma2;
}

/* Normalises @o (m, seasonal orders, constant) as the fit sees it. */
static FcArimaOrder
order_norm(const FcArimaOrder *o)
{
    FcArimaOrder r = *o;

    if (r.m < 2) {
        r.m = 1;
        r.P = r.D = r.Q = 0;
    }
    if (r.d + r.D > 1) {
        r.constant = false;
    }
    return r;
}

static bool
check_input(const double *y, size_t n, GError **error)
{
    if (n == 0 || !y) {
        g_set_error(error, FC_ERROR, FC_ERROR_EMPTY, "empty series");
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(y[i])) {
            g_set_error(error, FC_ERROR, FC_ERROR_INVALID,
                        "observation %zu is not finite", i);
            return false;
        }
    }
    return true;
}

/* Orders fc_arima_fit() accepts: non-negative, p, q <= 20, P, Q <= 4,
 * d <= 3, D <= 2, m <= 400. */
static bool
check_order(const FcArimaOrder *o, GError **error)
{
    if (!o || o->p < 0 || o->q < 0 || o->d < 0 || o->P < 0 || o->Q < 0 ||
        o->D < 0 || o->p > 20 || o->q > 20 || o->P > 4 || o->Q > 4 ||
        o->d > 3 || o->D > 2 || o->m > 400) {
        g_set_error(error, FC_ERROR, FC_ERROR_INVALID, "invalid ARIMA order");
        return false;
    }
    return true;
}

FcArimaModel *
fc_arima_fit(const double *y, size_t n, const FcArimaOrder *order,
             GError **error)
{
    FcArimaOrder o;
    FitOut fit;
    FcArimaModel *mod;
    size_t nd;

    if (!check_input(y, n, error)) {
        return NULL;
    }
    if (!check_order(order, error)) {
        return NULL;
    }
    o = order_norm(order);
    nd = (size_t) o.d + (size_t) o.m * (size_t) o.D;
    if (n <= nd + (size_t) (o.p + o.m * o.P)) {
        g_set_error(error, FC_ERROR, FC_ERROR_SHORT,
                    "%zu observations are too few for this ARIMA order", n);
        return NULL;
    }
    if (!fit_order(y, n, &o, FIT_ML, false, false, &fit)) {
        fit_out_clear(&fit);
        g_set_error(error, FC_ERROR, FC_ERROR_NUMERIC,
                    "the ARIMA likelihood could not be maximised");
        return NULL;
    }
    mod = model_new(y, n, &o, &fit);
    model_set_ic(mod, &fit, n - nd);
    mod->sigma2 = unbiased_sigma2(&fit, n - nd);
    fit_out_clear(&fit);
    return mod;
}

double
fc_arima_loglik_at(const double *y, size_t n, const FcArimaOrder *order,
                   const double *coef, GError **error)
{
    FcArimaOrder o;
    FitCtx c;
    g_autofree double *dy = NULL;
    const double *w;
    double ssq, sumlog, nw, ll = NAN;

    if (!check_input(y, n, error) || !check_order(order, error)) {
        return NAN;
    }
    o = order_norm(order);
    dy = g_new0(double, n);
    if (!ctx_init(&c, y, n, &o, dy)) {
        g_set_error(error, FC_ERROR, FC_ERROR_SHORT,
                    "%zu observations are too few for this ARIMA order", n);
        return NAN;
    }
    memcpy(c.coef, coef, sizeof(double) * (size_t) c.k);
    w = c.dy;
    if (c.o.constant) {
        for (size_t t = 0; t < c.nw; t++) {
            c.w[t] = c.dy[t] - c.creg * coef[c.narma];
        }
        w = c.w;
    }
    arima_arma_set(&c.arma, &c.o, c.coef);
    nw = (double) c.nw;
    if (arima_exact(&c.arma, w, c.nw, &c.ws, false, NULL, &ssq, &sumlog) &&
        ssq > 0) {
        ll = -0.5 * (nw * log(ssq / nw) + sumlog + nw + nw * log(2 * G_PI));
    } else {
        g_set_error(error, FC_ERROR, FC_ERROR_NUMERIC,
                    "the likelihood is not defined at these coefficients");
    }
    ctx_clear(&c);
    return ll;
}

/* --- auto.arima() ------------------------------------------------------ */

/* One row of the search's table of fitted models. */
typedef struct {
    int p, q, P, Q; /* orders */
    bool constant;  /* with mean/drift */
    double ic;      /* criterion (INFINITY when rejected) */
} Tried;

/* The search state. */
typedef struct {
    const double *y;          /* series */
    size_t n;                 /* its length */
    int d, D, m;              /* differences and period */
    bool approx;              /* CSS during the search */
    FitMethod final;          /* the final fit: FIT_ML or FIT_CSS_EXACT */
    bool use_aic;             /* AIC instead of AICc (n <= 3) */
    double offset;            /* CSS criterion offset */
    Tried tried[NMODELS + 8]; /* what was fitted */
    int ntried;               /* how many */
} Search;

/* Fits one candidate as forecast's myarima() does.  Returns: its
 * criterion, INFINITY when rejected; @out (nullable) gets the fit. */
static double
candidate(Search *s, int p, int q, int P, int Q, bool constant, bool approx,
          FitOut *out)
{
    FcArimaOrder o = {p, s->d, q, P, s->D, Q, s->m, constant};
    FitOut fit;
    double nstar = (double) s->n - s->d - (double) s->D * s->m;
    double npar, aic, ic;

    o = order_norm(&o);
    if (!fit_order(s->y, s->n, &o, approx ? FIT_CSS : s->final, true, true,
                   &fit) ||
        fit.degenerate) {
        fit_out_clear(&fit);
        return INFINITY;
    }
    npar = fit.k + 1;
    if (approx) {
        aic = s->offset + nstar * log(fit.sigma2) + 2 * npar;
    } else {
        aic = -2 * fit.loglik + 2 * npar;
    }
    if (s->use_aic) {
        ic = aic;
    } else {
        ic = nstar - npar - 1 > 0
                 ? aic + 2 * npar * (npar + 1) / (nstar - npar - 1)
                 : INFINITY;
    }
    if (!isfinite(ic) || !fit.accept) {
        ic = INFINITY;
    }
    if (out) {
        *out = fit;
    } else {
        fit_out_clear(&fit);
    }
    return ic;
}

static bool
is_new(const Search *s, int p, int q, int P, int Q, bool constant)
{
    for (int i = 0; i < s->ntried; i++) {
        const Tried *t = &s->tried[i];

        if (t->p == p && t->q == q && t->P == P && t->Q == Q &&
            t->constant == constant) {
            return false;
        }
    }
    return true;
}

static double
try_model(Search *s, int p, int q, int P, int Q, bool constant)
{
    double ic = candidate(s, p, q, P, Q, constant, s->approx, NULL);
    Tried *t = &s->tried[s->ntried++];

    t->p = p;
    t->q = q;
    t->P = P;
    t->Q = Q;
    t->constant = constant;
    t->ic = ic;
    return ic;
}

void
fc_arima_auto_options_init(FcArimaAutoOptions *opts)
{
    opts->max_p = 5;
    opts->max_q = 5;
    opts->max_P = 2;
    opts->max_Q = 2;
    opts->d = -1;
    opts->D = -1;
    opts->approximation = -1;
    opts->method = FC_ARIMA_CSS_ML;
}

/* The model for a series that differencing makes constant: no ARMA
 * terms, the constant fixed, sigma^2 = 0. */
static FcArimaModel *
exact_model(const double *y, size_t n, int d, int D, int m, const double *dx,
            size_t ndx)
{
    FcArimaOrder o = {0, d, 0, 0, D, 0, m, d + D <= 1};
    FitOut fit = {0};
    FcArimaModel *mod;
    double mean = 0;

    o = order_norm(&o);
    for (size_t i = 0; i < ndx; i++) {
        mean += dx[i] / (double) ndx;
    }
    if (d + D == 1 && D == 1 && d == 0) {
        mean /= m;
    }
    fit.k = o.constant ? 1 : 0;
    fit.coef = g_new0(double, 1);
    fit.coef[0] = mean;
    mod = model_new(y, n, &o, &fit);
    mod->sigma2 = 0;
    fit_out_clear(&fit);
    return mod;
}

FcArimaModel *
fc_arima_auto(const double *y, size_t n, int m, GError **error)
{
    return fc_arima_auto_full(y, n, m, NULL, error);
}

FcArimaModel *
fc_arima_auto_full(const double *y, size_t n, int m,
                   const FcArimaAutoOptions *opts, GError **error)
{
    FcArimaAutoOptions def;
    g_autofree Search *s = NULL;
    g_autofree double *dx = NULL;
    size_t ndx;
    int max_p, max_q, max_P, max_Q, d, D;
    int p, q, P, Q, best_i = -1, best_k;
    bool constant, allow_const;
    double best;
    FitOut fit = {0};
    FcArimaModel *mod;
    double nstar;

    if (!check_input(y, n, error)) {
        return NULL;
    }
    if (!opts) {
        fc_arima_auto_options_init(&def);
        opts = &def;
    }
    if (m < 2 || m > 400) {
        /* Periods beyond 400 samples (a week of 5-minute samples is
         * 2016) would make the state, and the forecast's joint state
         * with the differences, thousands wide: not modelled here (MSTL
         * handles such periods). */
        m = 1;
    }
    if (arima_is_constant(y, n)) {
        return exact_model(y, n, 0, 0, m, y, n);
    }
    max_p = MIN(opts->max_p, (int) (n / 3));
    max_q = MIN(opts->max_q, (int) (n / 3));
    max_P = MIN(opts->max_P, (int) (n / 3 / (size_t) m));
    max_Q = MIN(opts->max_Q, (int) (n / 3 / (size_t) m));
    if (m == 1 || m > 200) {
        /* Beyond m = 200 the 1.01 root margin below would need seasonal
         * coefficients under 1.01^-m < 0.14: such terms are never kept,
         * and fitting them costs O(m) state.  (R's own search is
         * impractically slow there.)  Seasonal differencing remains. */
        max_P = max_Q = 0;
    }

    /* Differences: D from the seasonal strength, then d by KPSS. */
    D = m > 1 ? (opts->D >= 0 ? opts->D : fc_arima_nsdiffs(y, n, m)) : 0;
    dx = g_memdup2(y, sizeof(double) * n);
    ndx = n;
    if (D > 0) {
        if ((size_t) D * (size_t) m >= n) {
            D = 0;
        } else {
            g_autofree double *delta = g_new0(double, D *m + 1);
            int nd = arima_delta(0, D, m, delta);

            arima_difference(y, n, delta, nd, dx);
            ndx = n - (size_t) nd;
            if (arima_is_constant(dx, ndx) && ndx > 1) {
                return exact_model(y, n, 0, D, m, dx, ndx);
            }
        }
    }
    d = opts->d >= 0 ? opts->d : fc_arima_ndiffs(dx, ndx, 2);
    if ((size_t) d >= ndx) {
        d = 0;
    }
    for (int i = 0; i < d; i++) {
        for (size_t t = 0; t + 1 < ndx; t++) {
            dx[t] = dx[t + 1] - dx[t];
        }
        ndx--;
    }
    if (ndx < 1) {
        g_set_error(error, FC_ERROR, FC_ERROR_SHORT,
                    "too few observations to difference");
        return NULL;
    }
    if (d > 0 && arima_is_constant(dx, ndx)) {
        return exact_model(y, n, d, D, m, dx, ndx);
    }
    if (m > 1) {
        if (max_P > 0) {
            max_p = MIN(max_p, m - 1);
        }
        if (max_Q > 0) {
            max_q = MIN(max_q, m - 1);
        }
    }

    s = g_new0(Search, 1);
    s->y = y;
    s->n = n;
    s->d = d;
    s->D = D;
    s->m = m;
    s->use_aic = n <= 3;
    s->final = opts->method == FC_ARIMA_CSS ? FIT_CSS_EXACT : FIT_ML;
    s->approx = opts->approximation >= 0 ? opts->approximation != 0
                                         : (n > 150 || m > 12);
    if (s->approx) {
        /* Offset: ties the CSS criterion to the exact likelihood's scale,
         * from one exact fit of ARIMA(0,d,0)(0,D,0) (with a mean when
         * undifferenced, as arima() includes one by default). */
        FcArimaOrder o = {0, d, 0, 0, D, 0, m, d + D == 0};
        FitOut off;

        o = order_norm(&o);
        if (fit_order(y, n, &o, FIT_ML, true, false, &off) && !off.degenerate) {
            s->offset = -2 * off.loglik - (double) n * log(off.sigma2);
        }
        fit_out_clear(&off);
    }
    allow_const = d + D <= 1;
    constant = allow_const;

    /* Starting models. */
    if (n < 10) {
        p = MIN(MIN(2, 1), max_p);
        q = MIN(MIN(2, 1), max_q);
        P = 0;
        Q = 0;
    } else {
        p = MIN(2, max_p);
        q = MIN(2, max_q);
        P = MIN(1, max_P);
        Q = MIN(1, max_Q);
    }
    best = try_model(s, p, q, P, Q, constant);
    best_k = s->ntried - 1;
    {
        double ic = try_model(s, 0, 0, 0, 0, constant);

        if (ic < best) {
            best = ic;
            best_k = s->ntried - 1;
            p = q = P = Q = 0;
        }
    }
    if (max_p > 0 || max_P > 0) {
        int pp = max_p > 0, PP = m > 1 && max_P > 0;
        double ic = try_model(s, pp, 0, PP, 0, constant);

        if (ic < best) {
            best = ic;
            best_k = s->ntried - 1;
            p = pp;
            P = PP;
            q = Q = 0;
        }
    }
    if (max_q > 0 || max_Q > 0) {
        int qq = max_q > 0, QQ = m > 1 && max_Q > 0;
        double ic = try_model(s, 0, qq, 0, QQ, constant);

        if (ic < best) {
            best = ic;
            best_k = s->ntried - 1;
            p = P = 0;
            q = qq;
            Q = QQ;
        }
    }
    if (constant) {
        double ic = try_model(s, 0, 0, 0, 0, false);

        if (ic < best) {
            best = ic;
            best_k = s->ntried - 1;
            p = q = P = Q = 0;
        }
    }

    /* The stepwise walk: move to the first neighbour that improves. */
    {
        int startk = 0;

        while (startk < s->ntried && s->ntried < NMODELS) {
            struct {
                int dp, dq, dP, dQ;
            } const steps[] = {
                {0, 0, -1, 0},  {0, 0, 0, -1}, {0, 0, 1, 0},  {0, 0, 0, 1},
                {0, 0, -1, -1}, {0, 0, -1, 1}, {0, 0, 1, -1}, {0, 0, 1, 1},
                {-1, 0, 0, 0},  {0, -1, 0, 0}, {1, 0, 0, 0},  {0, 1, 0, 0},
                {-1, -1, 0, 0}, {-1, 1, 0, 0}, {1, -1, 0, 0}, {1, 1, 0, 0},
            };
            bool moved = false;

            startk = s->ntried;
            for (size_t i = 0; i < G_N_ELEMENTS(steps) && !moved; i++) {
                int np_ = p + steps[i].dp, nq_ = q + steps[i].dq;
                int nP = P + steps[i].dP, nQ = Q + steps[i].dQ;
                double ic;

                if (np_ < 0 || nq_ < 0 || nP < 0 || nQ < 0 || np_ > max_p ||
                    nq_ > max_q || nP > max_P || nQ > max_Q ||
                    !is_new(s, np_, nq_, nP, nQ, constant)) {
                    continue;
                }
                if (s->ntried >= NMODELS) {
                    break;
                }
                ic = try_model(s, np_, nq_, nP, nQ, constant);
                if (ic < best) {
                    best = ic;
                    best_k = s->ntried - 1;
                    p = np_;
                    q = nq_;
                    P = nP;
                    Q = nQ;
                    moved = true;
                }
            }
            if (!moved && allow_const && s->ntried < NMODELS &&
                is_new(s, p, q, P, Q, !constant)) {
                double ic = try_model(s, p, q, P, Q, !constant);

                if (ic < best) {
                    best = ic;
                    best_k = s->ntried - 1;
                    constant = !constant;
                }
            }
        }
    }

    /* The exact fit of the winner, or of the next best should it fail. */
    nstar = (double) n - d - (double) D * m;
    if (s->approx) {
        int order[NMODELS + 8];
        int cnt = 0;

        for (int i = 0; i < s->ntried; i++) {
            if (isfinite(s->tried[i].ic)) {
                order[cnt++] = i;
            }
        }
        /* Stable insertion sort by criterion. */
        for (int i = 1; i < cnt; i++) {
            int v = order[i], j = i;

            while (j > 0 && s->tried[order[j - 1]].ic > s->tried[v].ic) {
                order[j] = order[j - 1];
                j--;
            }
            order[j] = v;
        }
        for (int i = 0; i < cnt; i++) {
            const Tried *t = &s->tried[order[i]];

            fit_out_clear(&fit);
            double ic =
                candidate(s, t->p, t->q, t->P, t->Q, t->constant, false, &fit);

            if (isfinite(ic)) {
                best_i = order[i];
                break;
            }
        }
    } else {
        if (isfinite(s->tried[best_k].ic)) {
            best_i = best_k;
        }
        if (best_i >= 0) {
            const Tried *t = &s->tried[best_i];

            if (!isfinite(candidate(s, t->p, t->q, t->P, t->Q, t->constant,
                                    false, &fit))) {
                best_i = -1;
            }
        }
    }
    if (best_i < 0) {
        /* No model passed: the plain (seasonal) random walk or white
         * noise, which always fits. */
        FcArimaOrder o = {0, d, 0, 0, D, 0, m, d + D <= 1};

        fit_out_clear(&fit);
        o = order_norm(&o);
        if (!fit_order(y, n, &o, FIT_ML, false, false, &fit)) {
            fit_out_clear(&fit);
            g_set_error(error, FC_ERROR, FC_ERROR_NUMERIC,
                        "no suitable ARIMA model found");
            return NULL;
        }
        mod = model_new(y, n, &o, &fit);
    } else {
        const Tried *t = &s->tried[best_i];
        FcArimaOrder o = {t->p, d, t->q, t->P, D, t->Q, m, t->constant};

        o = order_norm(&o);
        mod = model_new(y, n, &o, &fit);
    }
    model_set_ic(mod, &fit, (size_t) nstar);
    mod->sigma2 = unbiased_sigma2(&fit, (size_t) nstar);
    fit_out_clear(&fit);
    return mod;
}

/* --- forecasts and accessors ------------------------------------------- */

bool
fc_arima_forecast(const FcArimaModel *model, size_t h, FcResult *ret,
                  GError **error)
{
    const FcArimaOrder *o;
    g_autofree double *delta = NULL;
    int nd;
    size_t n, nw;
    g_autofree double *x = NULL;
    g_autofree double *w = NULL;
    g_autofree double *xlast = NULL;
    g_autofree double *mean = NULL;
    g_autofree double *var = NULL;
    ArimaArma arma;
    ArimaWork ws;
    double beta, ssq, sumlog;
    int narma;
    bool ok;

    if (!model || !ret || h == 0 || ret->h < h) {
        g_set_error(error, FC_ERROR, FC_ERROR_INVALID,
                    "invalid forecast request");
        return false;
    }
    o = &model->order;
    n = model->n;
    narma = o->p + o->q + o->P + o->Q;
    beta = o->constant ? model->coef[narma] : 0;
    delta = g_new0(double, o->d + o->m * o->D + 1);
    nd = arima_delta(o->d, o->D, o->m, delta);
    nw = n - (size_t) nd;
    x = g_new0(double, n);
    for (size_t t = 0; t < n; t++) {
        double reg = o->d + o->D == 0 ? 1 : (double) (t + 1);

        x[t] = model->y[t] - beta * reg;
    }
    w = g_new0(double, MAX(nw, 1));
    arima_difference(x, n, delta, nd, w);
    xlast = g_new0(double, nd + 1);
    for (int i = 0; i < nd; i++) {
        xlast[i] = x[n - 1 - (size_t) i];
    }
    arima_arma_init(o, &arma);
    arima_arma_set(&arma, o, model->coef);
    arima_work_init(&ws, &arma);
    ok = arima_exact(&arma, w, nw, &ws, true, NULL, &ssq, &sumlog);
    if (ok) {
        mean = g_new0(double, h);
        var = g_new0(double, h);
        arima_ss_forecast(&arma, &ws, delta, nd, xlast, h, mean, var);
    }
    arima_work_clear(&ws);
    arima_arma_clear(&arma);
    if (!ok) {
        g_set_error(error, FC_ERROR, FC_ERROR_NUMERIC,
                    "the ARIMA model cannot be filtered");
        return false;
    }
    for (size_t i = 0; i < h; i++) {
        double reg = o->d + o->D == 0 ? 1 : (double) (n + 1 + i);
        double sd = sqrt(var[i] * model->sigma2);

        ret->mean[i] = mean[i] + beta * reg;
        ret->lo80[i] = ret->mean[i] - Z80 * sd;
        ret->hi80[i] = ret->mean[i] + Z80 * sd;
        ret->lo95[i] = ret->mean[i] - Z95 * sd;
        ret->hi95[i] = ret->mean[i] + Z95 * sd;
        if (!isfinite(ret->lo95[i]) || !isfinite(ret->hi95[i])) {
            g_set_error(error, FC_ERROR, FC_ERROR_NUMERIC,
                        "the ARIMA forecast is not finite");
            return false;
        }
    }
    g_free(ret->method);
    ret->method = fc_arima_describe(model);
    ret->aicc = model->aicc;
    ret->sigma2 = model->sigma2;
    return true;
}

double
fc_arima_aicc(const FcArimaModel *model)
{
    return model->aicc;
}

double
fc_arima_sigma2(const FcArimaModel *model)
{
    return model->sigma2;
}

double
fc_arima_loglik(const FcArimaModel *model)
{
    return model->loglik;
}

const double *
fc_arima_coef(const FcArimaModel *model, size_t *ret_n)
{
    *ret_n = (size_t) model->ncoef;
    return model->coef;
}

FcArimaOrder
fc_arima_order(const FcArimaModel *model)
{
    return model->order;
}

char *
fc_arima_describe(const FcArimaModel *model)
{
    const FcArimaOrder *o = &model->order;
    GString *s = g_string_new(NULL);

    g_string_append_printf(s, "ARIMA(%d,%d,%d)", o->p, o->d, o->q);
    if (o->m > 1 && o->P + o->D + o->Q > 0) {
        g_string_append_printf(s, "(%d,%d,%d)[%d]", o->P, o->D, o->Q, o->m);
    }
    if (o->d + o->D == 0) {
        g_string_append(s, o->constant ? " with non-zero mean"
                                       : " with zero mean");
    } else if (o->constant) {
        g_string_append(s, " with drift");
    }
    return g_string_free(s, FALSE);
}

void
fc_arima_free(FcArimaModel *model)
{
    if (!model) {
        return;
    }
    g_free(model->y);
    g_free(model->coef);
    g_free(model);
}
