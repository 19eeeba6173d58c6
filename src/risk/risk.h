/*
 * risk/risk.h: what the risk engine's modules share: the error domain and
 * the horizons every probability is given for.
 *
 * The risk engine is pure (../shared/STYLE.md section 1): it takes values
 * and times as arguments and never reads the clock or does I/O.  engine/
 * feeds it from the monitor and the forecaster and stores its results.
 *
 *   profile.h     per (domain, metric) series: rhythms, baseline, drift
 *   contention.h  per host or cell: P(demand > capacity) per horizon
 *   failure.h     per domain or host: P(disruption) from features, learnt
 *                 online from outcomes, calibrated, explained
 */
#pragma once

#include <glib.h>
#include <stdbool.h>

#include "util/latch.h"

#define RISK_ERROR (risk_error_quark())
GQuark risk_error_quark(void);

typedef enum {
    RISK_ERROR_INVALID, /* bad argument */
    RISK_ERROR_FORMAT,  /* a persisted model that cannot be read */
    RISK_ERROR_VERSION, /* a persisted model of another version */
    RISK_ERROR_LAST
} RiskErrorCode;

/* The horizons of every risk figure: 5 min, 15 min and 1 h. */
/* clang-format off */
#define RISK_HORIZONS(X)      \
    X(5M, "5m", 300)          \
    X(15M, "15m", 900)        \
    X(1H, "1h", 3600)
/* clang-format on */

typedef enum {
#define X(NAME, STR, SECONDS) RISK_HORIZON_##NAME,
    RISK_HORIZONS(X)
#undef X
        RISK_HORIZON_LAST
} RiskHorizon;

const char *risk_horizon_to_string(RiskHorizon h);
/* Returns: the horizon's length in seconds (0 for an invalid one). */
int risk_horizon_seconds(RiskHorizon h);
/* Returns: the horizon named @str ("5m", "15m", "1h"), or -1. */
int risk_horizon_from_string(const char *str);

/*
 * The alert rule umbrad applies to a risk probability (engine/predictor.c,
 * the "risk-alert" and "risk-clear" events) and umbra-risk-eval replays:
 * an alert opens when @p reaches @threshold while none is open, and closes
 * only once @p falls below RISK_ALERT_CLEAR_RATIO x @threshold, so a
 * probability wavering about the threshold raises one alert, not many
 * (util/latch.h).
 */
#define RISK_ALERT_CLEAR_RATIO 0.8

/* Updates *@open with @p (NaN or an infinity changes nothing).  Returns:
 * UTIL_LATCH_SET when an alert opens, UTIL_LATCH_RESET when it closes. */
UtilLatchChange risk_alert_step(bool *open, double p, double threshold);
