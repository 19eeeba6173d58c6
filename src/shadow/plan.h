/*
 * shadow/plan.h: how to live-migrate a domain, from its memory size, its
 * measured dirty-page rate and the link (pure arithmetic, unit-tested).
 *
 * Pre-copy sends memory while the guest keeps dirtying it; it converges
 * when the link outruns the dirty rate.  The plan:
 *   - dirty rate at most 10 % of the link: plain pre-copy;
 *   - above 10 %: xbzrle (only the changed bytes of re-sent pages);
 *   - above 25 %: auto-converge too (QEMU throttles the vCPUs);
 *   - above 50 %, or when pre-copy would not converge: post-copy allowed
 *     as the last resort (switched to if pre-copy stalls);
 *   - 4 GiB of memory or more: multifd with 4 channels.
 * The time estimate is memory / (link - dirty rate) for pre-copy (with
 * the xbzrle and throttling help ignored, so it errs long), plus the
 * incremental disk layer at link speed.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    bool auto_converge;
    bool xbzrle;
    bool postcopy;
    int multifd;     /* channels, 0 = off */
    double seconds;  /* estimated duration; INFINITY if it cannot end */
    const char *why; /* one line: what drove the choice (static) */
} ShadowMigrationPlan;

/*
 * shadow_migration_plan:
 * @mem_mib: the domain's memory
 * @dirty_mibps: its dirty-page rate (NaN: unknown, taken as 0)
 * @disk_mib: the incremental disk data to send
 * @link_mibps: the link's speed (> 0)
 */
void shadow_migration_plan(double mem_mib, double dirty_mibps, double disk_mib,
                           double link_mibps, ShadowMigrationPlan *ret);

/* What shadow_cutover_due() decided. */
typedef enum {
    SHADOW_CUTOVER_WAIT,    /* risk below the threshold */
    SHADOW_CUTOVER_GO,      /* move now, with room to spare */
    SHADOW_CUTOVER_LATE,    /* move now, though trouble may come before
                             * the migration ends (or is there already):
                             * still the best move, said as such */
    SHADOW_CUTOVER_BACKOFF, /* due, but an earlier failure holds it back */
} ShadowCutoverDecision;

/* The alarm goes off only below this fraction of the threshold. */
#define SHADOW_ALARM_OFF 0.8

/*
 * shadow_alarm_update:
 * @on: the alarm as it was
 * @p, @threshold: as for shadow_cutover_due()
 *
 * The cutover alarm, with hysteresis: it goes on when @p reaches
 * @threshold and off only when @p falls below SHADOW_ALARM_OFF times it,
 * so that a risk hovering about the threshold (a quiet minute in the
 * domain's load while its neighbour keeps ramping up) neither drops a
 * move under way nor flaps (util/latch.h).  NaN, an infinity or a
 * threshold <= 0 leaves it as it was.
 * Returns: the alarm now.
 */
bool shadow_alarm_update(bool on, double p, double threshold);

/*
 * shadow_cutover_due:
 * @alarm: the alarm is on (shadow_alarm_update())
 * @p: the domain's probability of trouble soon (the larger of its
 *     failure and its host's contention within 15 minutes)
 * @threshold: the alert threshold
 * @t_trouble_s: the expected time of trouble (s from now; NaN/INFINITY
 *     unknown)
 * @migration_s: the plan's estimate (shadow_migration_plan())
 * @now, @backoff_until: wall us
 *
 * The automatic cutover rule: risk at or above the threshold (with the
 * alarm on, at or above SHADOW_ALARM_OFF times it) and no back-off
 * running.  Whether the expected time of trouble leaves room for
 * the migration (twice its estimate) tells GO from LATE.
 */
ShadowCutoverDecision shadow_cutover_due(bool alarm, double p, double threshold,
                                         double t_trouble_s, double migration_s,
                                         int64_t now, int64_t backoff_until);
