/*
 * forecast/mstl.h: STL (Cleveland et al. 1990, robust loess) and MSTL
 * (Bandara, Hyndman & Bergmeir 2021) decomposition, and the stlf()-style
 * forecast: ETS on the seasonally adjusted series plus a seasonal naive
 * forecast of each seasonal component.
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
 */
bool fc_stl(const double *y, size_t n, int period, int s_window, bool robust,
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
 */
bool fc_mstl(const double *y, size_t n, const int *periods, size_t np,
             double **ret_seasonals, double *ret_trend, double *ret_remainder,
             size_t *ret_used, GError **error);

/*
 * fc_mstl_forecast:
 *
 * As R's stlf()/forecast(mstl()): ETS (auto, no season) on trend +
 * remainder, plus each seasonal component's last cycle repeated.
 * Intervals are the ETS intervals shifted by the seasonal forecast.
 * Returns: (transfer full) the forecast, or NULL.
 */
FcResult *fc_mstl_forecast(const double *y, size_t n, const int *periods,
                           size_t np, size_t h, GError **error);
