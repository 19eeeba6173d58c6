/*
 * forecast/forecast.h: umbra's forecasting engine, the public face.
 *
 * Pure numerics on plain double series: no libvirt, no daemon, no clock,
 * no I/O (../shared/STYLE.md section 1).  Every model takes a series
 * (NaN = a missing sample), the seasonal periods to consider, and a
 * horizon, and returns point forecasts with 80 % and 95 % prediction
 * intervals.  Results are deterministic for the same input.
 *
 *   model          module        fitted by
 *   snaive         forecast.c    -
 *   naive2         forecast.c    (M4's benchmark: naive on classical-
 *                                multiplicative deseasonalised data)
 *   ets            ets.c         ML over the admissible space, AICc choice
 *   arima          arima.c       CSS-ML, Hyndman-Khandakar stepwise
 *   mstl           mstl.c        robust STL per period, ETS on the
 *                                adjusted series, snaive seasonals
 *   combo          forecast.c    the default (fc_default_model()): mean
 *                                of ARIMA (period <= 350) and MSTL for a
 *                                seasonal series (M4 Hourly OWA 0.527,
 *                                against 0.551 MSTL, 0.593 ARIMA, 0.581
 *                                with ETS as a third member); ETS and ARIMA
 *                                when no period has two cycles; a single
 *                                member is used alone
 *
 * Errors: FC_ERROR domain.  A series the model cannot handle (too short,
 * all missing) is FC_ERROR_SHORT / FC_ERROR_EMPTY; callers fall back to a
 * simpler model (fc_forecast() does this itself).  No function ever
 * returns NaN or inf in a result.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

#define FC_ERROR (fc_error_quark())
GQuark fc_error_quark(void);

typedef enum {
    FC_ERROR_EMPTY,   /* no finite observation */
    FC_ERROR_SHORT,   /* too few observations for this model */
    FC_ERROR_INVALID, /* bad argument (h = 0, period < 2, ...) */
    FC_ERROR_NUMERIC, /* the fit failed numerically */
    FC_ERROR_LAST
} FcErrorCode;

/* clang-format off */
#define FC_MODELS(X)                  \
    X(SNAIVE, "snaive")               \
    X(NAIVE2, "naive2")               \
    X(ETS, "ets")                     \
    X(ARIMA, "arima")                 \
    X(MSTL, "mstl")                   \
    X(COMBO, "combo")
/* clang-format on */

/* clang-format off */
typedef enum {
#define X(NAME, STR) FC_MODEL_##NAME,
    FC_MODELS(X)
#undef X
    FC_MODEL_LAST
} FcModel;
/* clang-format on */

const char *fc_model_to_string(FcModel model);
/* Returns: the model named @str, or -1. */
int fc_model_from_string(const char *str);

#define FC_MAX_PERIODS 4

/* A series to forecast (borrowed pointers). */
typedef struct {
    const double *y;             /* observations, oldest first; NaN = missing */
    size_t n;                    /* how many */
    int periods[FC_MAX_PERIODS]; /* seasonal periods in samples, ascending,
                                  * each >= 2; 0-terminated if fewer */
} FcSeries;

/* A forecast (owned by the caller; free with fc_result_free()). */
typedef struct {
    size_t h;            /* horizon (steps) */
    double *mean;        /* h point forecasts */
    double *lo80, *hi80; /* 80 % prediction interval */
    double *lo95, *hi95; /* 95 % prediction interval */
    char *method;        /* e.g. "ETS(A,Ad,A)[24]" */
    double aicc;         /* of the fitted model; NAN if none */
    double sigma2;       /* residual variance on the fitted scale */
} FcResult;

FcResult *fc_result_new(size_t h);
void fc_result_free(FcResult *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(FcResult, fc_result_free)

/*
 * fc_forecast:
 * @model: which model
 * @s: the series
 * @h: horizon, >= 1
 * @error: FC_ERROR_* when even the simplest fallback is impossible
 *
 * Fits @model and forecasts @h steps.  When the series is too short or
 * degenerate for @model, falls back (mstl -> ets with the shortest
 * period -> ets without season -> naive) and says so in
 * result->method.  Missing samples are filled by linear interpolation
 * (seasonal where a full season is known) before fitting.
 *
 * Returns: (transfer full) the forecast, or NULL with @error set.
 */
FcResult *fc_forecast(FcModel model, const FcSeries *s, size_t h,
                      GError **error);

/* Returns: the model fc_forecast() users should pick by default (the one
 * the benchmark shows best; documented in docs/forecast.md). */
FcModel fc_default_model(void);
