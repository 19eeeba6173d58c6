/*
 * util/latch.c: a latch with hysteresis (latch.h).
 */
#include "util/latch.h"

#include <math.h>

UtilLatchChange
util_latch_step(bool *on, double v, double set_at, double reset_below)
{
    if (!isfinite(v)) {
        return UTIL_LATCH_KEPT;
    }
    if (!*on && v >= set_at) {
        *on = true;
        return UTIL_LATCH_SET;
    }
    if (*on && v < reset_below) {
        *on = false;
        return UTIL_LATCH_RESET;
    }
    return UTIL_LATCH_KEPT;
}
