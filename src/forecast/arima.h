/*
 * forecast/arima.h: seasonal ARIMA with automatic order selection, after
 * Hyndman & Khandakar, "Automatic time series forecasting: the forecast
 * package for R" (JSS 2008): d by repeated KPSS tests, D by a seasonal
 * strength measure (STL, as forecast::auto.arima() defaults to), then a
 * stepwise search over (p,q)(P,Q) by AICc, each candidate fitted by
 * CSS then exact maximum likelihood (Kalman filter on the state-space
 * form), with mean/drift terms as R includes them.
 */
#pragma once

#include "forecast/forecast.h"

typedef struct {
    int p, d, q;   /* non-seasonal orders */
    int P, D, Q;   /* seasonal orders */
    int m;         /* seasonal period (1 = none) */
    bool constant; /* mean (d + D = 0) or drift (d + D = 1) */
} FcArimaOrder;

typedef struct FcArimaModel FcArimaModel;

/*
 * fc_arima_auto:
 * @y, @n: observations, all finite
 * @m: seasonal period (1 = none; periods above 400 are treated as none)
 * @error: FC_ERROR_EMPTY (n = 0), FC_ERROR_INVALID (a non-finite value),
 *   FC_ERROR_SHORT, FC_ERROR_NUMERIC
 *
 * R's auto.arima() with its defaults (see arima.c for the search and its
 * few deliberate differences).  A constant series, or one that
 * differencing makes constant, gets the exact model (sigma^2 = 0);
 * should every candidate fail, the plain ARIMA(0,d,0)(0,D,0) is used.
 *
 * Returns: (transfer full) the model auto.arima() would choose, or NULL.
 */
FcArimaModel *fc_arima_auto(const double *y, size_t n, int m, GError **error);

/*
 * fc_arima_fit:
 * @order: the orders; @order->constant asks for a mean (d + D = 0) or a
 *   drift (d + D = 1) and is ignored otherwise; p, q <= 20, P, Q <= 4,
 *   d <= 3, D <= 2, m <= 400
 * @error: FC_ERROR_INVALID, FC_ERROR_SHORT (n <= d + mD + p + mP),
 *   FC_ERROR_NUMERIC
 *
 * Fits the given order as forecast's Arima(method = "CSS-ML") does:
 * conditional sum of squares, then exact maximum likelihood (should the
 * CSS estimates not be stationary, where R stops with an error, the
 * likelihood search starts from zero instead).
 *
 * Returns: (transfer full) the model, or NULL.
 */
FcArimaModel *fc_arima_fit(const double *y, size_t n, const FcArimaOrder *order,
                           GError **error);

/*
 * fc_arima_forecast:
 * @ret: a result of horizon >= @h; mean, lo80..hi95, method, aicc and
 *   sigma2 are filled
 *
 * Forecasts @h steps with 80/95 % normal intervals from the state-space
 * forecast variances (the Kalman filter's end state, integration
 * included), as R's predict.Arima().
 *
 * Returns: false with FC_ERROR_INVALID (h = 0, @ret too short) or
 * FC_ERROR_NUMERIC (never with a model from this module).
 */
bool fc_arima_forecast(const FcArimaModel *model, size_t h, FcResult *ret,
                       GError **error);

/* Returns: the AICc of the exact fit, NAN when undefined (a series fitted
 * exactly, or n - d - mD <= k + 2). */
double fc_arima_aicc(const FcArimaModel *model);
FcArimaOrder fc_arima_order(const FcArimaModel *model);
/* Returns: (transfer full) e.g. "ARIMA(2,0,1)(0,1,1)[24] with drift". */
char *fc_arima_describe(const FcArimaModel *model);

/* Returns: the innovation variance the forecast uses: the residual sum
 * of squares over n - d - mD - k (k estimated coefficients), as
 * forecast's Arima() and auto.arima() report it; 0 for a series that
 * the model fits exactly. */
double fc_arima_sigma2(const FcArimaModel *model);
/* Returns: the exact Gaussian log-likelihood; NAN when sigma2 is 0. */
double fc_arima_loglik(const FcArimaModel *model);

/*
 * fc_arima_coef:
 * @ret_n: (out) how many
 *
 * Returns: (transfer none) the coefficients phi[p], theta[q], Phi[P],
 * Theta[Q] (R's ar, ma, sar, sma) then the mean or drift when the model
 * has one (R's intercept/drift: y_t - drift * t with t = 1..n).
 */
const double *fc_arima_coef(const FcArimaModel *model, size_t *ret_n);

/*
 * fc_arima_loglik_at:
 * @coef: coefficients in fc_arima_coef()'s layout (the mean or drift
 *   last when @order has one)
 *
 * The exact Gaussian log-likelihood of @y under @order with these
 * coefficients, sigma^2 concentrated out, of the n - d - mD differenced
 * observations (R: arima() of the differenced series with fixed
 * coefficients and SSinit = "Rossignol2011").
 *
 * Returns: the log-likelihood, or NAN with @error set (order invalid or
 * too long for @n, AR operator not stationary).
 */
double fc_arima_loglik_at(const double *y, size_t n, const FcArimaOrder *order,
                          const double *coef, GError **error);

/* How the chosen model's coefficients are estimated. */
typedef enum {
    FC_ARIMA_CSS_ML, /* CSS, then exact maximum likelihood (R's default) */
    FC_ARIMA_CSS,    /* conditional sum of squares only (R's method =
                      * "CSS"); the exact likelihood is evaluated at
                      * those coefficients for the criteria and the
                      * forecast */
} FcArimaMethod;

/* Options of fc_arima_auto_full(); fc_arima_auto() uses R's defaults. */
typedef struct {
    int max_p, max_q;     /* 5, 5 */
    int max_P, max_Q;     /* 2, 2 */
    int d, D;             /* differences, -1 = chosen by the tests */
    int approximation;    /* CSS during the search: -1 = R's rule (n > 150 or
                           * m > 12), 0 = never, 1 = always */
    FcArimaMethod method; /* FC_ARIMA_CSS_ML */
} FcArimaAutoOptions;

/* Fills @opts with R's auto.arima() defaults. */
void fc_arima_auto_options_init(FcArimaAutoOptions *opts);

/* As fc_arima_auto() with @opts (nullable: defaults). */
FcArimaModel *fc_arima_auto_full(const double *y, size_t n, int m,
                                 const FcArimaAutoOptions *opts,
                                 GError **error);

/*
 * Differencing tests, as forecast::ndiffs()/nsdiffs() with their
 * defaults (see arima-unitroot.c).
 *
 * fc_arima_kpss: the KPSS level-stationarity statistic with @lags
 *   Bartlett lags (-1: trunc(3 sqrt(n) / 13)); NAN when undefined.
 * fc_arima_ndiffs: differences (<= @max_d) until KPSS accepts at 5 %.
 * fc_arima_seasonal_strength: 1 - var(remainder) / var(season +
 *   remainder) in [0, 1]; 0 when n < 2 m + 1.
 * fc_arima_nsdiffs: 1 when that strength exceeds 0.64, else 0.
 */
double fc_arima_kpss(const double *x, size_t n, int lags);
int fc_arima_ndiffs(const double *x, size_t n, int max_d);
double fc_arima_seasonal_strength(const double *x, size_t n, int m);
int fc_arima_nsdiffs(const double *x, size_t n, int m);

void fc_arima_free(FcArimaModel *model);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(FcArimaModel, fc_arima_free)
