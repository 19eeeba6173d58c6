/*
 * risk/risk.c: the risk engine's error domain, horizon names and alert
 * rule (risk.h).
 */
#include "risk/risk.h"

#include <string.h>

/* clang-format off */
G_DEFINE_QUARK(umbra-risk-error-quark, risk_error)
/* clang-format on */

static const struct {
    const char *name;
    int seconds;
} horizons[] = {
#define X(NAME, STR, SECONDS) {STR, SECONDS},
    RISK_HORIZONS(X)
#undef X
};
G_STATIC_ASSERT(G_N_ELEMENTS(horizons) == RISK_HORIZON_LAST);

const char *
risk_horizon_to_string(RiskHorizon h)
{
    if ((int) h < 0 || h >= RISK_HORIZON_LAST) {
        return "unknown";
    }
    return horizons[h].name;
}

int
risk_horizon_seconds(RiskHorizon h)
{
    if ((int) h < 0 || h >= RISK_HORIZON_LAST) {
        return 0;
    }
    return horizons[h].seconds;
}

int
risk_horizon_from_string(const char *str)
{
    for (int i = 0; str && i < RISK_HORIZON_LAST; i++) {
        if (strcmp(str, horizons[i].name) == 0) {
            return i;
        }
    }
    return -1;
}

UtilLatchChange
risk_alert_step(bool *open, double p, double threshold)
{
    return util_latch_step(open, p, threshold,
                           RISK_ALERT_CLEAR_RATIO * threshold);
}
