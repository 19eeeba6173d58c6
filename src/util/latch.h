/*
 * util/latch.h: a latch with hysteresis (a Schmitt trigger) on a noisy
 * level.  It sets when the level reaches one mark and resets only once
 * the level falls below a second, lower one, so a level wavering about
 * the first mark neither flaps nor drops.  umbrad's risk alerts
 * (risk/risk.h), the shadow manager's cutover alarm (shadow/plan.h) and
 * the benchmark's naive reference (both marks equal) are this rule.
 */
#pragma once

#include <stdbool.h>

typedef enum {
    UTIL_LATCH_KEPT,  /* no change */
    UTIL_LATCH_SET,   /* it set at this level */
    UTIL_LATCH_RESET, /* it reset at this level */
} UtilLatchChange;

/*
 * util_latch_step:
 * @on: the latch, updated
 * @v: the level now; NaN or an infinity changes nothing
 * @set_at: the latch sets when @v >= @set_at
 * @reset_below: it resets when @v < @reset_below (at most @set_at)
 *
 * Returns: what changed.
 */
UtilLatchChange util_latch_step(bool *on, double v, double set_at,
                                double reset_below);
