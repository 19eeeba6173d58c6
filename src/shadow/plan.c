/*
 * shadow/plan.c: the migration plan (see plan.h).
 */
#include "shadow/plan.h"

#include <math.h>
#include <string.h>

#include "util/latch.h"

#define MULTIFD_MIN_MIB 4096.0
#define MULTIFD_CHANNELS 4

void
shadow_migration_plan(double mem_mib, double dirty_mibps, double disk_mib,
                      double link_mibps, ShadowMigrationPlan *ret)
{
    double d = isfinite(dirty_mibps) && dirty_mibps > 0 ? dirty_mibps : 0;
    double r;

    memset(ret, 0, sizeof(*ret));
    if (!(link_mibps > 0) || !isfinite(mem_mib) || mem_mib < 0) {
        ret->seconds = INFINITY;
        ret->why = "unknown link speed or memory size";
        return;
    }
    r = d / link_mibps;
    ret->xbzrle = r > 0.10;
    ret->auto_converge = r > 0.25;
    ret->postcopy = r > 0.50 || d >= link_mibps;
    ret->multifd = mem_mib >= MULTIFD_MIN_MIB ? MULTIFD_CHANNELS : 0;
    if (d >= link_mibps) {
        /* Pre-copy alone would never end; post-copy bounds it. */
        ret->seconds = INFINITY;
        ret->why = "dirty rate at or above the link speed: post-copy";
    } else {
        ret->seconds = mem_mib / (link_mibps - d);
        ret->why = r > 0.50   ? "dirty rate above half the link"
                   : r > 0.25 ? "dirty rate above a quarter of the link"
                   : r > 0.10 ? "dirty rate above a tenth of the link"
                              : "dirty rate low: plain pre-copy";
    }
    if (isfinite(disk_mib) && disk_mib > 0) {
        ret->seconds += disk_mib / link_mibps;
    }
}

bool
shadow_alarm_update(bool on, double p, double threshold)
{
    if (threshold > 0) {
        util_latch_step(&on, p, threshold, SHADOW_ALARM_OFF * threshold);
    }
    return on;
}

ShadowCutoverDecision
shadow_cutover_due(bool alarm, double p, double threshold, double t_trouble_s,
                   double migration_s, int64_t now, int64_t backoff_until)
{
    double need = alarm ? SHADOW_ALARM_OFF * threshold : threshold;

    if (!(p >= need) || !(threshold > 0)) {
        return SHADOW_CUTOVER_WAIT;
    }
    if (now < backoff_until) {
        return SHADOW_CUTOVER_BACKOFF;
    }
    if (isfinite(t_trouble_s) && t_trouble_s < 2 * migration_s) {
        return SHADOW_CUTOVER_LATE;
    }
    return SHADOW_CUTOVER_GO;
}
