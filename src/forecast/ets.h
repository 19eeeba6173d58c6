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
 * @spec: (nullable) the model to fit; NULL selects by AICc as
 *   fc_ets_fit_auto() with its default options
 * @error: FC_ERROR_SHORT, FC_ERROR_NUMERIC, ...
 *
 * Returns: (transfer full) the fitted model, or NULL.
 */
FcEtsModel *fc_ets_fit(const double *y, size_t n, int m, const FcEtsSpec *spec,
                       GError **error);

/* Which models the automatic choice considers. */
typedef struct {
    bool undamped_trend; /* also undamped additive trends (R: yes) */
    bool additive_only;  /* additive error, trend and season only (R's
                          * additive.only) */
    bool quick;          /* the smaller optimisation budget (ets.c):
                          * for non-seasonal series that MSTL adjusted */
} FcEtsAuto;

/* R's ets() defaults. */
#define FC_ETS_AUTO_R ((FcEtsAuto){true, false, false})
/*
 * umbra's defaults: trends are damped.  An undamped trend fitted by
 * maximum likelihood on hourly data often carries an in-sample drift
 * that, extrapolated two days, ruins the forecast.  On the 276 M4 Hourly
 * series (h = 48, m = 24), sMAPE / MASE:
 *
 *   R 4.2 forecast 8.20 ets()                18.31 / 1.86
 *   umbra, R's candidates (FC_ETS_AUTO_R)    22.05 / 1.99
 *   umbra, FC_ETS_AUTO_DEFAULT               17.51 / 1.58
 *   umbra, additive_only                     16.53 / 1.41
 *
 * umbra reaches a lower AICc than R on 263 of the 276 with the same
 * candidates, and so picks undamped trends R's optimiser rarely gets
 * to; M4's own benchmarks tell the same story (Holt 29.2, Damped 19.3).
 */
#define FC_ETS_AUTO_DEFAULT ((FcEtsAuto){false, false, false})

/*
 * fc_ets_fit_auto:
 * @y, @n, @m: as fc_ets_fit()
 * @opts: (nullable) the candidate set; NULL is FC_ETS_AUTO_DEFAULT
 * @error: FC_ERROR_SHORT when no candidate can be fitted, ...
 *
 * Selects by AICc as R's ets() does: error A/M, trend N/Ad (and A with
 * @opts->undamped_trend), season N/A/M, except additive error with a
 * multiplicative season; multiplicative components only for strictly
 * positive data; seasons only for 1 < @m <= 24 and n >= 2 @m; a model
 * only when n exceeds its parameter count + 4.  A constant series gives
 * ETS(A,N,N) with zero variance.
 *
 * Returns: (transfer full) the chosen model, or NULL.
 */
FcEtsModel *fc_ets_fit_auto(const double *y, size_t n, int m,
                            const FcEtsAuto *opts, GError **error);

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

/* Longest seasonal period ETS handles (as R's ets()). */
#define FC_ETS_MAX_PERIOD 24

/*
 * The parameters of a fitted model, on the scale of the data.  R's
 * ets() reports the same quantities; its initial seasonal states
 * s1..sm (s1 the most recent) are s0[m - 1] .. s0[0] here.
 */
typedef struct {
    double alpha;                 /* level smoothing */
    double beta;                  /* slope smoothing (0 without trend) */
    double gamma;                 /* season smoothing (0 without season) */
    double phi;                   /* damping (1 unless damped) */
    double l0;                    /* initial level, the state before y[0] */
    double b0;                    /* initial slope (0 without trend) */
    double s0[FC_ETS_MAX_PERIOD]; /* initial seasonal states: s0[k] is the
                                   * one y[k] uses (k < m); additive ones
                                   * sum to 0, multiplicative ones to m */
} FcEtsParams;

/*
 * fc_ets_apply:
 * @y, @n, @m: as fc_ets_fit()
 * @spec: the model
 * @par: its parameters (not checked against the bounds)
 * @error: FC_ERROR_EMPTY, FC_ERROR_INVALID (bad spec, or multiplicative
 *   components on data that are not strictly positive),
 *   FC_ERROR_NUMERIC (the recursion broke down)
 *
 * Runs @spec with fixed parameters over @y without estimating anything:
 * the cheap update of a fitted model when new samples arrive (the AICc
 * counts the parameters as if estimated).
 *
 * Returns: (transfer full) the model, or NULL.
 */
FcEtsModel *fc_ets_apply(const double *y, size_t n, int m,
                         const FcEtsSpec *spec, const FcEtsParams *par,
                         GError **error);

/* fc_ets_params: fills @ret with the parameters of @model. */
void fc_ets_params(const FcEtsModel *model, FcEtsParams *ret);

/* Returns: the log-likelihood of @model as R's ets() reports it:
 * -0.5 * (n log SSE (+ 2 sum log |fitted|, multiplicative error)). */
double fc_ets_loglik(const FcEtsModel *model);

/* Returns: the variance of the one-step errors (relative errors for
 * multiplicative error), SSE / (n - number of parameters) as R. */
double fc_ets_sigma2(const FcEtsModel *model);

/* Returns: the seasonal period of @model (1 without season). */
int fc_ets_period(const FcEtsModel *model);

/* Returns: the AICc of the fitted model. */
double fc_ets_aicc(const FcEtsModel *model);
/* Returns: the fitted model's spec. */
FcEtsSpec fc_ets_spec(const FcEtsModel *model);
/* Returns: (transfer full) e.g. "ETS(M,Ad,N)". */
char *fc_ets_describe(const FcEtsModel *model);

void fc_ets_free(FcEtsModel *model);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(FcEtsModel, fc_ets_free)
