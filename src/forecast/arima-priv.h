/*
 * forecast/arima-priv.h: the ARIMA module's internals, shared by
 * arima.c (fitting and order search), arima-kalman.c (likelihoods and
 * the state-space forecast) and arima-unitroot.c (differencing tests).
 * Not part of the public API; tests use arima.h only.
 */
#pragma once

#include "forecast/arima.h"

/*
 * The ARMA part of a model with both operators multiplied out:
 *
 *   (1 - a_1 B - ... - a_np B^np) w_t = (1 + b_1 B + ... + b_nq B^nq) e_t
 *
 * where np = p + m P and nq = q + m Q.  Both are kept dense (index 0
 * unused for @a, b[0] = 1) and as lists of their non-zero lags, which is
 * what the recursions walk: a seasonal model has few non-zero lags.
 */
typedef struct {
    int np, nq;   /* expanded AR and MA orders */
    int r;        /* state dimension max(np, nq + 1) */
    double *a;    /* AR coefficients a[1..np] (a[0] unused, 0) */
    double *b;    /* MA coefficients b[0..nq], b[0] = 1 */
    int *ar_lag;  /* lags with a non-zero AR coefficient */
    double *ar_c; /* their coefficients */
    int ar_nnz;   /* how many */
    int *ma_lag;  /* lags >= 1 with a non-zero MA coefficient */
    double *ma_c; /* their coefficients */
    int ma_nnz;   /* how many */
    int *ar_slag; /* lags an AR coefficient can occupy (i, jm, i + jm) */
    int ar_ns;    /* how many */
    int *ma_slag; /* the same for the MA operator */
    int ma_ns;    /* how many */
} ArimaArma;

/*
 * arima_arma_init:
 * @o: the orders (p, q, P, Q, m are used)
 * @arma: (out) sized for @o, coefficients zero; release with
 *   arima_arma_clear()
 */
void arima_arma_init(const FcArimaOrder *o, ArimaArma *arma);
void arima_arma_clear(ArimaArma *arma);

/*
 * arima_arma_set:
 * @coef: phi[p], theta[q], Phi[P], Theta[Q] in that order
 *
 * Multiplies the operators out into @arma.
 */
void arima_arma_set(ArimaArma *arma, const FcArimaOrder *o, const double *coef);

/*
 * arima_css:
 * @w, @nw: the differenced, de-meaned series
 * @buf: scratch of at least nw + nq + 1 doubles
 *
 * Conditional sum of squares: residuals are zero before lag np, then
 * follow the ARMA recursion.  Returns: the mean square of the nw - np
 * residuals, or INFINITY when it is not finite or nw <= np.
 */
double arima_css(const ArimaArma *arma, const double *w, size_t nw,
                 double *buf);

/*
 * arima_css_grad:
 * @buf: scratch of at least 2 (nw + nq + 1) doubles
 * @ret_ga: (out) np + 1 values: d s2 / d a_l at the structural AR lags
 *   (zero elsewhere)
 * @ret_gb: (out) nq + 1 values: d s2 / d b_l likewise
 * @ret_gc: (out) d s2 / d c where the series is w - c
 *
 * As arima_css(), with the gradient of the mean square by reverse-mode
 * differentiation of the residual recursion (one backward pass).
 * Returns: the mean square, or INFINITY (gradients then undefined).
 */
double arima_css_grad(const ArimaArma *arma, const double *w, size_t nw,
                      double *buf, double *ret_ga, double *ret_gb,
                      double *ret_gc);

/*
 * arima_css_adjoint:
 *
 * The backward pass of arima_css_grad() alone: @buf must hold the
 * residuals of an arima_css() call with the same @arma and @w that
 * returned a finite value.
 */
void arima_css_adjoint(const ArimaArma *arma, const double *w, size_t nw,
                       double *buf, double *ret_ga, double *ret_gb,
                       double *ret_gc);

/* Scratch space for arima_exact(); sized by arima_work_init(). */
typedef struct {
    int r, np;     /* sizes it was made for */
    double *gamma; /* autocovariances 0..r */
    double *psi;   /* psi weights 0..r */
    double *col;   /* first column of the stationary covariance */
    double *state; /* filtered state mean */
    double *kf;    /* T P Z' */
    double *wv;    /* Chandrasekhar factor W */
    double *tmp;   /* r + 1 scratch (padded AR coefficients) */
    double *gx;    /* autocovariances of the pure AR part, 0..r + nq + 1 */
    double *ar1;   /* np + 1 scratch: Levinson coefficients */
    double *ar2;   /* np + 1 scratch */
    double *kap;   /* np + 1: partial autocorrelations of the AR part */
    double *pmat;  /* r * r state covariance (only when tracked) */
} ArimaWork;

void arima_work_init(ArimaWork *ws, const ArimaArma *arma);
void arima_work_clear(ArimaWork *ws);

/*
 * arima_exact:
 * @w, @nw: the differenced, de-meaned series
 * @track: also keep the full state covariance in ws->pmat (for the
 *   forecast); costs O(r^2) per observation instead of O(r)
 * @resid: (nullable) (out) nw standardised innovations v_t / sqrt(F_t)
 * @ret_ssq, @ret_sumlog: (out) sum v^2 / F and sum log F
 *
 * The exact Gaussian likelihood of a stationary ARMA by the Kalman
 * filter started from the stationary state covariance, with the
 * Chandrasekhar recursions (Morf, Sidhu & Kailath 1974) in place of the
 * Riccati equation.  On return ws->state holds a_{n+1|n}.
 *
 * Returns: false when the model is not stationary enough to compute.
 */
bool arima_exact(const ArimaArma *arma, const double *w, size_t nw,
                 ArimaWork *ws, bool track, double *resid, double *ret_ssq,
                 double *ret_sumlog);

/*
 * arima_ss_forecast:
 * @ws: after arima_exact(..., track = true, ...)
 * @delta, @nd: the differencing operator 1 - delta_1 B - ... as
 *   delta[1..nd]
 * @xlast: the last @nd values of the undifferenced (de-meaned) series,
 *   newest first
 * @ret_mean, @ret_var: (out) @h forecasts of that series and their
 *   variances in units of sigma^2
 */
void arima_ss_forecast(const ArimaArma *arma, const ArimaWork *ws,
                       const double *delta, int nd, const double *xlast,
                       size_t h, double *ret_mean, double *ret_var);

/*
 * Parameter transforms for the maximum-likelihood search (Jones 1980):
 * unconstrained values -> partial autocorrelations (tanh) -> AR
 * coefficients by the Durbin-Levinson recursion, and back.
 */
void arima_ar_from_raw(const double *raw, int p, double *ret_phi);
/* Returns: false when @phi is not stationary. */
bool arima_ar_to_raw(const double *phi, int p, double *ret_raw);

/*
 * arima_ar_ok:
 * @sign: +1 for an AR operator 1 - sum c_i z^i, -1 for an MA operator
 *   1 + sum c_i z^i
 * @margin: every root must lie beyond this modulus (1 = unit circle)
 *
 * Returns: true when all roots of the operator lie outside |z| = @margin.
 */
bool arima_roots_ok(const double *c, int k, double sign, double margin);

/* Reflects the roots of 1 + sum theta_i z^i inside the unit circle to
 * their inverses (the equivalent invertible MA), in place. */
void arima_ma_invert(double *theta, int q);

/* The differencing operator (1 - B)^d (1 - B^m)^D as 1 - sum delta_i B^i;
 * @delta has d + m D + 1 entries.  Returns: nd = d + m D. */
int arima_delta(int d, int D, int m, double *delta);

/* Applies the operator to @y (n values): writes n - nd values. */
void arima_difference(const double *y, size_t n, const double *delta, int nd,
                      double *ret);

/* Solves the k x k system @lu x = @rhs in place (Gaussian elimination
 * with partial pivoting; @lu is destroyed).  Returns: false if (nearly)
 * singular. */
bool arima_solve(double *lu, int k, double *rhs);

/* Returns: true when @x is constant to R's all.equal() tolerance. */
bool arima_is_constant(const double *x, size_t n);
