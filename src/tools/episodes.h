/*
 * tools/episodes.h: umbrad's alert rule replayed over a series (for the
 * NAB files and the contention replay of umbra-risk-eval), and overload
 * episodes of a simulated host and how alerts on them fared (--contention,
 * tools/risk-eval.c).
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

/* The alerts replayed so far (zero-initialise). */
typedef struct {
    bool open;     /* the latch (util/latch.h) is set */
    bool any;      /* an alert was raised */
    double last_s; /* when the last one was */
} EpisodesAlerts;

/*
 * episodes_alert_step:
 * @a: the replay's state
 * @level: the watched value at @t_s (a probability, or a demand share)
 * @t_s: its time, seconds
 * @thr, @clear_ratio: the latch sets at @thr and resets below
 *     @clear_ratio x @thr (RISK_ALERT_CLEAR_RATIO: umbrad's
 *     risk_alert_step(); 1: as soon as @level is below @thr)
 * @holdoff_s: when > 0, an alert is raised only this long after the
 *     previous one (a time that steps back counts as inside it); an alert
 *     the hold-off holds back still sets the latch, so the next needs the
 *     level to reset it first
 *
 * Returns: an alert is raised at @t_s.
 */
bool episodes_alert_step(EpisodesAlerts *a, double level, double t_s,
                         double thr, double clear_ratio, double holdoff_s);

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
