/*
 * engine/forecaster.h: per-domain load forecasts kept current in umbrad.
 *
 * For every active domain and metric (CPU %, memory used, block and
 * network bytes/s), the forecaster resamples the stored history onto a
 * one-minute grid (up to two weeks back), fits the default forecasting
 * model (forecast/, seasonal periods one day and one week, used when the
 * history holds two cycles) and keeps a 60-step (1 hour) forecast with
 * 80/95 % intervals.
 *
 * Refits run on a schedule (each domain every `refit` seconds, staggered)
 * in a worker thread, so a slow fit never stalls the main loop; the store
 * is only read on the main thread.  Between refits a cheap update keeps
 * the forecast anchored: the mean error of the observations that arrived
 * since the fit (exponentially weighted) shifts the level of the
 * remaining steps.  When the samples leave the fit's 80 % band (the means
 * of two grid steps in a row, on the same side, in any metric), the fit no
 * longer describes the domain: its refit is brought forward, to a grid step or
 * a quarter of the refit period after the last fit, whichever is later.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>

#include "forecast/forecast.h"
#include "model/types.h"
#include "tsdb/store.h"

/* clang-format off */
#define FC_METRICS(X)                    \
    X(CPU, "cpu", "CPU %")               \
    X(MEM, "mem", "memory used KiB")     \
    X(BLK_RD, "blk_rd", "block read B/s")   \
    X(BLK_WR, "blk_wr", "block write B/s")  \
    X(NET_RX, "net_rx", "network rx B/s")   \
    X(NET_TX, "net_tx", "network tx B/s")
/* clang-format on */

/* clang-format off */
typedef enum {
#define X(NAME, STR, DESC) FC_METRIC_##NAME,
    FC_METRICS(X)
#undef X
    FC_METRIC_LAST
} FcMetric;
/* clang-format on */

const char *fc_metric_to_string(FcMetric metric);
const char *fc_metric_describe(FcMetric metric);
/* Returns: the metric named @str, or -1. */
int fc_metric_from_string(const char *str);
/* Returns: @metric's value in @s (NAN if unknown). */
double fc_metric_value(FcMetric metric, const DomSample *s);

#define FORECASTER_STEP_S 60      /* the default grid step (forecast_step) */
#define FORECASTER_HORIZON_S 3600 /* every fit covers an hour ahead */

typedef struct Forecaster Forecaster;

/* One point of a forecast, as served to umbractl. */
typedef struct {
    int64_t horizon_s; /* seconds ahead of @now */
    int64_t time;      /* wall us the forecast is for */
    double mean, lo80, hi80, lo95, hi95;
} ForecastPoint;

/* What the forecaster knows of one domain and metric. */
typedef struct {
    char *method;      /* fitted model, e.g. "COMBO(...)" */
    int64_t fitted_at; /* wall us of the fit */
    int64_t origin;    /* wall us of the last grid step fitted */
    size_t nobs;       /* grid steps used */
    double bias;       /* cheap-update level shift */
    bool early;        /* the fit was brought forward by a surprise */
    double last_obs;   /* the last observed value */
    GArray *points;    /* ForecastPoint, at the asked horizons */
} ForecastView;

void forecast_view_free(ForecastView *v);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ForecastView, forecast_view_free)

/*
 * forecaster_new:
 * @store: (nullable) the store to read history from (borrowed)
 * @refit_s: how often each domain is refitted
 * @step_s: the grid step, seconds (FORECASTER_STEP_S normally)
 * @model: the model to use (fc_default_model() normally)
 *
 * Returns: (transfer full) a forecaster with its worker thread.
 */
Forecaster *forecaster_new(TsdbStore *store, int64_t refit_s, int64_t step_s,
                           FcModel model);

/* Returns: the grid step of @f, seconds. */
int64_t forecaster_step(const Forecaster *f);
/* Returns: how often forecaster_tick() should run, seconds: half the
 * refit period or of the grid step if shorter, 1 to 30 s. */
int64_t forecaster_tick_interval(const Forecaster *f);
/* Called on the main thread when a fit of @uuid has landed. */
typedef void (*ForecasterFitFunc)(const char *uuid, gpointer data);
/* Sets (or with NULL clears) the function told of each new fit. */
void forecaster_set_fit_func(Forecaster *f, ForecasterFitFunc fn,
                             gpointer data);
/* Returns: how many refits a surprise has brought forward so far. */
guint64 forecaster_early_refits(const Forecaster *f);
void forecaster_free(Forecaster *f);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Forecaster, forecaster_free)

/*
 * forecaster_observe:
 * @s: a new accepted sample of a domain (main thread)
 *
 * Feeds the cheap update and marks the domain as active.
 */
void forecaster_observe(Forecaster *f, const DomSample *s);

/*
 * forecaster_tick:
 * @now: wall clock, microseconds
 *
 * Main thread, every forecaster_tick_interval() seconds: queues the
 * refits that are due (at most a few per tick) and forgets domains idle
 * for a day.
 */
void forecaster_tick(Forecaster *f, int64_t now);

/* Fits @uuid now (queued ahead of the schedule); for tests and for
 * "umbractl forecast" on a domain that has none yet. */
void forecaster_request(Forecaster *f, const char *uuid);

/*
 * forecaster_get:
 * @uuid: domain
 * @metric: which metric
 * @now: wall clock, microseconds
 * @horizons_s: seconds ahead, each in (0, 3600]
 * @nh: how many
 *
 * Returns: (transfer full) the forecast at those horizons, or NULL when
 * none is ready yet (then a fit is requested).
 */
ForecastView *forecaster_get(Forecaster *f, const char *uuid, FcMetric metric,
                             int64_t now, const int64_t *horizons_s, size_t nh);

/* Blocks until the worker has no queued or running fit (tests). */
void forecaster_drain(Forecaster *f);

/*
 * forecaster_grid:
 * @hist: DomSample* oldest first
 * @metric: which metric
 * @step_us: grid step
 * @ret_origin: (out) wall us of the last grid step
 *
 * Averages @hist onto a regular grid ending at the last sample's step;
 * empty steps are NaN.  Returns: (transfer full) the values.  Exposed for
 * tests.
 */
GArray *forecaster_grid(const GPtrArray *hist, FcMetric metric, int64_t step_us,
                        int64_t *ret_origin);
