/*
 * forecast/mstl.h: STL (Cleveland et al. 1990, robust loess) and MSTL
 * (Bandara, Hyndman & Bergmeir 2021) decomposition, and the stlf()-style
 * forecast: ETS on the seasonally adjusted series plus a seasonal naive
 * forecast of each seasonal component.
 *
 * The plain functions (fc_stl, fc_mstl, fc_mstl_forecast) behave as R's
 * stats::stl() and forecast::mstl()/stlf() with their defaults.  The
 * *_ex variants take every parameter explicitly, for tuned variants.
 *
 * Measured on the 276 M4 Hourly series of ../shared/data/m4_hourly
 * (h = 48; OWA against the official Naive2; R 4.2.2, forecast 8.20):
 *
 *   configuration                            sMAPE   MASE   OWA   cov95
 *   R stlf(ts(y, frequency = 24))            16.888  1.153  0.700  0.944
 *   fc_mstl_forecast, periods {24}           16.875  1.154  0.700  0.944
 *   R forecast(mstl(msts(y, c(24, 168))))    14.088  1.054  0.604  0.895
 *   fc_mstl_forecast, periods {24, 168}      14.115  1.059  0.605  0.895
 *     + seas_var                             14.115  1.059  0.605  0.946
 *     + robust                               14.131  1.303  0.659  0.922
 *     + lambda = 0 (log)                     12.280  1.150  0.577  0.889
 *     + lambda_auto                          12.033  1.065  0.551  0.880
 *     + lambda_auto, s_window {9, 15}        11.908  1.015  0.537  0.859
 *     + lambda_auto, s_window {9, 7},
 *       seas_var (best)                      11.646  1.039  0.535  0.909
 *     + the same, trend FC_MSTL_TREND_DAMPED 11.696  1.109  0.552  0.903
 *   fc_forecast()'s mstl: lambda_auto, seas_var,
 *     quick_ets (1.8 instead of 3.7 ms)      11.997  1.063  0.550  0.935
 *
 * Robust STL, wider seasonal windows, "periodic" seasonals, averaging
 * the last cycles and restricting the trend (damped or none) were all
 * worse.  On 50 Azure VM CPU series (5-minute samples, periods 288 and
 * 2016, h = 12, 8 origins each) lambda_auto cut MASE by 18 % and
 * seas_var brought 95 % coverage from 0.87 to 0.93, but s_window {9, 7}
 * did not help: lambda_auto + seas_var with R's windows is the safer
 * general choice, s_window {9, 7} an M4 Hourly refinement.
 *
 * The decomposition itself is about 0.25 ms for n = 960 with periods 24
 * and 168; the ETS fit dominates the forecast's cost.
 */
#pragma once

#include "forecast/forecast.h"

/*
 * fc_stl:
 * @y, @n: observations, all finite; n >= 2 * @period
 * @period: seasonal period >= 2
 * @s_window: seasonal loess window (odd, >= 7), or 0 for "periodic"
 * @robust: robustness iterations (outer loop) on
 * @ret_seasonal, @ret_trend, @ret_remainder: (out) arrays of @n, caller
 *   allocated; y = seasonal + trend + remainder
 *
 * As R's stl(x, s.window, robust = robust) with every other argument at
 * its default.  An even window is made odd (+1) and windows below 3 are
 * raised to 3, as R does.
 *
 * Returns: true on success; on failure sets @error (FC_ERROR_INVALID for
 * a bad period or a non-finite value, FC_ERROR_SHORT when n < 2 *
 * period) and leaves the outputs untouched.
 */
bool fc_stl(const double *y, size_t n, int period, int s_window, bool robust,
            double *ret_seasonal, double *ret_trend, double *ret_remainder,
            GError **error);

/* Every parameter of STL, named as R's stl() names them. */
typedef struct {
    int s_window; /* seasonal (cycle-subseries) loess span; 0 = periodic */
    int s_degree; /* its local polynomial degree, 0 or 1 (R: 0) */
    int t_window; /* trend loess span; 0 = R's default,
                   * nextodd(ceil(1.5 period / (1 - 1.5 / s_window))) */
    int t_degree; /* 0 or 1 (R: 1) */
    int l_window; /* low-pass loess span; 0 = nextodd(period) */
    int l_degree; /* 0 or 1 (R: t_degree) */
    int s_jump;   /* loess evaluated every jump points and interpolated */
    int t_jump;   /* linearly between; 0 = ceil(window / 10) as R */
    int l_jump;
    int inner; /* inner-loop passes (R: 2, or 1 when robust) */
    int outer; /* robustness passes (R: 0, or 15 when robust) */
} FcStlParams;

/*
 * fc_stl_params_init:
 * @p: (out) the parameters to fill
 * @s_window: seasonal window, 0 for periodic
 * @robust: as fc_stl()
 *
 * Fills @p with R's stl() defaults for @s_window and @robust; windows
 * and jumps that depend on the period are left 0 (resolved per call).
 */
void fc_stl_params_init(FcStlParams *p, int s_window, bool robust);

/*
 * fc_stl_ex:
 * @p: every parameter (see FcStlParams); zero windows/jumps take R's
 *   defaults
 *
 * As fc_stl(), with explicit parameters.
 */
bool fc_stl_ex(const double *y, size_t n, int period, const FcStlParams *p,
               double *ret_seasonal, double *ret_trend, double *ret_remainder,
               GError **error);

/*
 * fc_mstl:
 * @periods, @np: seasonal periods, ascending; periods with fewer than two
 *   full cycles in the data are dropped (as R's mstl())
 * @ret_seasonals: (out) @np arrays of @n, caller allocated; a dropped
 *   period's array is all zero
 * @ret_trend, @ret_remainder: (out) arrays of @n
 * @ret_used: (out) (nullable) how many periods were used
 *
 * As R's mstl(msts(y, seasonal.periods = periods)): a period p is used
 * when n > 2 p (R's rule); the used periods are each given to STL in
 * ascending order, with s.window = 7 + 4 i for the i-th (1-based), and
 * the whole sweep is repeated twice.  @periods need not be sorted;
 * @ret_seasonals follows the order of @periods.
 *
 * Returns: true on success; FC_ERROR_SHORT when no period is usable,
 * FC_ERROR_INVALID for non-finite input.
 */
bool fc_mstl(const double *y, size_t n, const int *periods, size_t np,
             double **ret_seasonals, double *ret_trend, double *ret_remainder,
             size_t *ret_used, GError **error);

/* Which ETS models may forecast the seasonally adjusted series. */
typedef enum {
    FC_MSTL_TREND_AUTO,   /* every non-seasonal ETS, by AICc (R's "ZZN") */
    FC_MSTL_TREND_DAMPED, /* only no trend or damped trend, by AICc */
    FC_MSTL_TREND_NONE,   /* only no trend: ETS(A,N,N) or ETS(M,N,N) */
    FC_MSTL_TREND_LAST
} FcMstlTrend;

/* MSTL and forecast options; fc_mstl_options_init() gives R's defaults. */
typedef struct {
    int iterate;                  /* sweeps over the periods (R: 2) */
    int s_window[FC_MAX_PERIODS]; /* per used period, in ascending order;
                                   * -1 = 7 + 4 (i + 1) (R); 0 = periodic;
                                   * periods past FC_MAX_PERIODS take R's */
    bool robust;                  /* robust STL (R's mstl default: false) */
    bool seas_var;                /* widen the intervals by the variance of the
                                   * seasonal naive forecasts: each component's mean
                                   * square cycle-to-cycle change times the cycles
                                   * ahead, plus the remainder's mean square (R:
                                   * false; its intervals, ETS's alone, are narrow) */
    FcMstlTrend trend;            /* ETS models allowed (R: auto) */
    double lambda;    /* Box-Cox parameter applied before decomposing
                       * when every observation is > 0; NAN = none (R) */
    bool lambda_auto; /* instead, choose lambda in [0, 1] by Guerrero's
                       * method over cycles of the shortest used period
                       * (R's BoxCox.lambda(x, lower = 0, upper = 1)) */
    bool quick_ets;   /* fit the ETS candidates with the quick budget
                       * (FcEtsAuto.quick; R: its optimiser's defaults) */
} FcMstlOptions;

/* fc_mstl_options_init: fills @o with R's mstl()/stlf() defaults. */
void fc_mstl_options_init(FcMstlOptions *o);

/* fc_mstl_ex: fc_mstl() with explicit options (@o nullable = defaults). */
bool fc_mstl_ex(const double *y, size_t n, const int *periods, size_t np,
                const FcMstlOptions *o, double **ret_seasonals,
                double *ret_trend, double *ret_remainder, size_t *ret_used,
                GError **error);

/*
 * fc_mstl_forecast:
 *
 * As R's stlf()/forecast(mstl()): ETS (auto, no season) on trend +
 * remainder, plus each seasonal component's last cycle repeated.
 * Intervals are the ETS intervals shifted by the seasonal forecast.
 * When no period has two full cycles, this is ETS on @y (as R's
 * forecast(mstl()) of a non-seasonal series).  result->method reads
 * e.g. "MSTL(24,168)+ETS(A,Ad,N)".
 *
 * Returns: (transfer full) the forecast, or NULL.
 */
FcResult *fc_mstl_forecast(const double *y, size_t n, const int *periods,
                           size_t np, size_t h, GError **error);

/*
 * fc_box_cox_lambda:
 * @y, @n: observations, all > 0
 * @period: length of the blocks compared (>= 2)
 * @lo, @hi: the range searched
 *
 * Guerrero (1993): the lambda in [@lo, @hi] that makes the ratio of
 * each block's standard deviation to its mean^(1 - lambda) most nearly
 * constant (smallest coefficient of variation), over the last whole
 * blocks of @period observations.
 *
 * Returns: lambda, or 1 when it cannot be estimated (fewer than two
 * blocks, a non-positive value).
 */
double fc_box_cox_lambda(const double *y, size_t n, int period, double lo,
                         double hi);

/* fc_mstl_forecast_ex: fc_mstl_forecast() with explicit options (@o
 * nullable = R's defaults). */
FcResult *fc_mstl_forecast_ex(const double *y, size_t n, const int *periods,
                              size_t np, size_t h, const FcMstlOptions *o,
                              GError **error);
