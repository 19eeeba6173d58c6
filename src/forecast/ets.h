/*
 * forecast/ets.h: exponential smoothing in the state-space framework of
 * Hyndman, Koehler, Snyder & Grose (2002) and Hyndman et al.,
 * "Forecasting with Exponential Smoothing" (2008): error A/M, trend
 * N/A/Ad, season N/A/M, fitted by maximum likelihood over the admissible
 * parameter space, the model chosen by AICc as R's forecast::ets() does.
 */
#pragma once

#include "forecast/forecast.h"

typedef struct {
    char error;  /* 'A' or 'M' */
    char trend;  /* 'N' or 'A' */
    bool damped; /* damped trend (only with trend 'A') */
    char season; /* 'N', 'A' or 'M' */
} FcEtsSpec;

typedef struct FcEtsModel FcEtsModel;

/*
 * fc_ets_fit:
 * @y: observations, all finite, oldest first
 * @n: how many
 * @m: seasonal period (1 = none); seasonal models need m <= 24 (as R) and
 *   at least two full seasons
 * @spec: (nullable) the model to fit; NULL selects by AICc among every
 *   admissible combination (multiplicative error/season only for
 *   strictly positive data, as R)
 * @error: FC_ERROR_SHORT, FC_ERROR_NUMERIC, ...
 *
 * Returns: (transfer full) the fitted model, or NULL.
 */
FcEtsModel *fc_ets_fit(const double *y, size_t n, int m, const FcEtsSpec *spec,
                       GError **error);

/*
 * fc_ets_forecast:
 * @model: a fitted model
 * @h: horizon
 * @ret: result of horizon >= @h to fill (mean, 80/95 % intervals,
 *   method, aicc, sigma2)
 *
 * Intervals: analytic variances for the linear (class 1-2) models,
 * simulation with a fixed seed otherwise (deterministic).
 */
bool fc_ets_forecast(const FcEtsModel *model, size_t h, FcResult *ret,
                     GError **error);

/* Returns: the AICc of the fitted model. */
double fc_ets_aicc(const FcEtsModel *model);
/* Returns: the fitted model's spec. */
FcEtsSpec fc_ets_spec(const FcEtsModel *model);
/* Returns: (transfer full) e.g. "ETS(M,Ad,N)". */
char *fc_ets_describe(const FcEtsModel *model);

void fc_ets_free(FcEtsModel *model);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(FcEtsModel, fc_ets_free)
