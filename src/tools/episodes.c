/*
 * tools/episodes.c: overload episodes and the scoring of alerts on them
 * (episodes.h).
 */
#include "tools/episodes.h"

#include <math.h>

#include "util/latch.h"
#include "util/order.h"

bool
episodes_alert_step(EpisodesAlerts *a, double level, double t_s, double thr,
                    double clear_ratio, double holdoff_s)
{
    if (util_latch_step(&a->open, level, thr, clear_ratio * thr) !=
        UTIL_LATCH_SET) {
        return false;
    }
    if (a->any && holdoff_s > 0 && t_s - a->last_s < holdoff_s) {
        return false;
    }
    a->any = true;
    a->last_s = t_s;
    return true;
}

void
episodes_find(const double *demand, size_t w0, size_t end, double cap,
              GArray *episodes, size_t *over, size_t *singles)
{
    size_t n_over = 0, n_singles = 0;

    for (size_t t = w0; t < end;) {
        size_t e = t;

        if (!(demand[t] > cap)) {
            t++;
            continue;
        }
        while (e + 1 < end && demand[e + 1] > cap) {
            e++;
        }
        n_over += e - t + 1;
        if (e > t) {
            Episode ep = {.start = t, .end = e};

            ep.scored = t >= w0 + EPISODES_HORIZON;
            g_array_append_val(episodes, ep);
        } else {
            n_singles++;
        }
        t = e + 1;
    }
    if (over) {
        *over = n_over;
    }
    if (singles) {
        *singles = n_singles;
    }
}

void
episodes_score(const double *level, size_t w0, size_t end, GArray *episodes,
               double thr, double clear_ratio, double holdoff_s,
               EpisodesScore *ret)
{
    g_autoptr(GArray) alerts = g_array_new(FALSE, FALSE, sizeof(size_t));
    g_autofree double *leads = g_new(double, episodes->len + 1);
    EpisodesScore cs = {0};
    EpisodesAlerts rule = {0};

    for (size_t t = w0; t < end; t++) {
        if (episodes_alert_step(&rule, level[t], (double) (t * EPISODES_STEP_S),
                                thr, clear_ratio, holdoff_s)) {
            g_array_append_val(alerts, t);
        }
    }
    for (guint e = 0; e < episodes->len; e++) {
        const Episode *ep = &g_array_index(episodes, Episode, e);

        leads[e] = NAN;
        if (!ep->scored) {
            continue;
        }
        cs.episodes++;
        /* The earliest alert 1 to EPISODES_HORIZON samples before. */
        for (guint a = 0; a < alerts->len; a++) {
            size_t at = g_array_index(alerts, size_t, a);

            if (at + EPISODES_HORIZON >= ep->start && at < ep->start) {
                cs.predicted++;
                leads[e] = (double) ((ep->start - at) * EPISODES_STEP_S) / 60.0;
                break;
            }
        }
    }
    for (guint a = 0; a < alerts->len; a++) {
        size_t at = g_array_index(alerts, size_t, a);
        bool during = false, followed = false;

        if (at + EPISODES_HORIZON >= end) {
            continue;
        }
        for (guint e = 0; e < episodes->len; e++) {
            const Episode *ep = &g_array_index(episodes, Episode, e);

            /* An alert at an episode's first sample saw it, not foresaw
             * it: late, like one raised during it. */
            during |= ep->start <= at && ep->end >= at;
            followed |= ep->start > at && ep->start <= at + EPISODES_HORIZON;
        }
        if (during && !followed) {
            /* Raised once the overload had begun: neither a prediction
             * nor a false alarm. */
            cs.late++;
            continue;
        }
        cs.alerts++;
        cs.right += followed;
    }
    for (guint e = 0; e < episodes->len; e++) {
        const Episode *ep = &g_array_index(episodes, Episode, e);

        cs.standing +=
            ep->scored && ep->start > w0 && level[ep->start - 1] >= thr;
    }
    cs.recall =
        cs.episodes ? (double) cs.predicted / (double) cs.episodes : NAN;
    cs.precision = cs.alerts ? (double) cs.right / (double) cs.alerts : NAN;
    cs.lead_min = util_median_finite(leads, episodes->len);
    *ret = cs;
}
