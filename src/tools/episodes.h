/*
 * tools/episodes.h: overload episodes of a simulated host and how alerts
 * on them fared, for umbra-risk-eval --contention (tools/risk-eval.c).
 *
 * The replay runs on a grid of EPISODES_STEP_S seconds.  An episode is a
 * run of two or more samples whose demand is above the capacity (a single
 * sample is counted apart).  An alert predicts an episode when it is
 * raised 1 to EPISODES_HORIZON samples (5 to 60 minutes) before its first
 * sample; an alert raised at or after that first sample, while the
 * episode lasts and with no other episode starting within the horizon,
 * saw the overload rather than foresaw it, and is counted as late:
 * neither right nor a false alarm.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

#define EPISODES_STEP_S 300
#define EPISODES_HORIZON 12

/* An overload episode: samples [start, end] above capacity. */
typedef struct {
    size_t start, end;
    bool scored; /* starts a horizon or more into the evaluation */
} Episode;

/*
 * episodes_find:
 * @demand: the summed demand, one sample per step
 * @w0, @end: the evaluated samples [@w0, @end)
 * @cap: the host's capacity
 * @episodes: GArray of Episode, appended to
 * @over, @singles: (out, nullable) samples above @cap, and single-sample
 *     overloads (not episodes)
 */
void episodes_find(const double *demand, size_t w0, size_t end, double cap,
                   GArray *episodes, size_t *over, size_t *singles);

/* How the alerts at one threshold fared. */
typedef struct {
    size_t alerts;    /* alerts with a horizon of outcome after them, not
                       * late */
    size_t right;     /* of which an episode began within the horizon */
    size_t late;      /* alerts raised during an episode (not counted) */
    size_t episodes;  /* scored episodes */
    size_t predicted; /* of which with an alert raised 1 to
                       * EPISODES_HORIZON samples before */
    size_t standing;  /* of which with the level >= the threshold the
                       * sample before (an alert raised earlier may still
                       * stand) */
    double recall, precision; /* NaN when there is nothing to divide by */
    double lead_min;          /* median lead of the predicted episodes */
} EpisodesScore;

/*
 * episodes_score:
 * @level: what the alerts watch, one value per step (a probability, or
 *     the naive reference's demand share)
 * @w0, @end: the evaluated samples
 * @episodes: from episodes_find()
 * @thr: an alert opens when @level reaches @thr with none open
 * @clear_ratio: it closes when @level falls below @clear_ratio x @thr
 *     (RISK_ALERT_CLEAR_RATIO for umbrad's rule, 1 to close as soon as
 *     the level is below @thr)
 * @holdoff_s: an alert opening sooner than this after the previous one
 *     raised is not raised (0: none)
 * @ret: the score
 */
void episodes_score(const double *level, size_t w0, size_t end,
                    GArray *episodes, double thr, double clear_ratio,
                    double holdoff_s, EpisodesScore *ret);
