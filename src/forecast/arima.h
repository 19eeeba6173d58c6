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
 * @m: seasonal period (1 = none)
 *
 * Returns: (transfer full) the model auto.arima() would choose, or NULL.
 */
FcArimaModel *fc_arima_auto(const double *y, size_t n, int m, GError **error);

/* Fits the given order.  Returns: (transfer full) the model, or NULL. */
FcArimaModel *fc_arima_fit(const double *y, size_t n, const FcArimaOrder *order,
                           GError **error);

/* Forecasts @h steps with 80/95 % intervals into @ret. */
bool fc_arima_forecast(const FcArimaModel *model, size_t h, FcResult *ret,
                       GError **error);

double fc_arima_aicc(const FcArimaModel *model);
FcArimaOrder fc_arima_order(const FcArimaModel *model);
/* Returns: (transfer full) e.g. "ARIMA(2,0,1)(0,1,1)[24] with drift". */
char *fc_arima_describe(const FcArimaModel *model);

void fc_arima_free(FcArimaModel *model);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(FcArimaModel, fc_arima_free)
