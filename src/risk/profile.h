/*
 * risk/profile.h: the workload profiler.
 *
 * One RiskProfile follows one series (a domain's CPU %, memory, I/O rate,
 * or any metric) sample by sample and learns what normal looks like:
 *
 * - rhythms: seasonal periods found in the data (the day and week
 *   candidates at the sampling rate, plus any strong period the
 *   periodogram and the autocorrelation agree on), re-detected as history
 *   grows (risk_periods_detect());
 * - a baseline: per phase of the strongest period(s) a robust expected
 *   value and spread (median-like level, MAD-like spread, updated with a
 *   slow exponential forgetting), so recurring event-driven patterns (a
 *   nightly job at 02:00) become part of normal and are reported as
 *   events rather than alarms;
 * - a drift score in [0, 1]: how far current behaviour departs from the
 *   baseline, from the standardised residuals (robust z), a change
 *   detector on them (CUSUM / Page-Hinkley, both directions) and an
 *   envelope detector (the smoothed deseasonalised value against the
 *   past week's range), mapped to [0, 1] by a calibration documented in
 *   docs/risk.md: on a series that keeps to its baseline, drift >= 0.5
 *   occurs in at most about one episode per week of data; a sustained
 *   shift of a few spreads reaches 0.5 within a few samples.
 *
 * Time is in seconds (any origin, e.g. Unix time) and only orders samples
 * and gives their phase: phase = floor(t / bin_s) mod period.  Samples may
 * be missing (NaN) or irregular; a sample older than the previous one (a
 * clock jump backwards) is ignored and counted.  Nothing ever returns NaN
 * or inf.  Deterministic: the same samples give the same scores.
 *
 * Cost: O(1) per sample apart from period re-detection, which runs every
 * `redetect` samples on the stored history (O(n log n), n <= history).
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

#include "risk/risk.h"

#define RISK_MAX_PERIODS 4
#define RISK_MAX_EVENTS 8

typedef struct RiskProfile RiskProfile;

typedef struct {
    double bin_s; /* baseline resolution in seconds (> 0); samples
                   * are grouped by floor(t / bin_s) */
    int candidates[RISK_MAX_PERIODS]; /* candidate periods in bins, 0 ends
                                       * the list (default: day, week) */
    int max_period;           /* longest period considered, bins (default:
                               * the longest candidate) */
    size_t history;           /* bins kept for period detection (default: two
                               * of max_period, at least 4096; 16 to 2^30;
                               * beyond 4096 bins, cells of a few bins are
                               * kept, at most 4096) */
    size_t min_history;       /* bins before drift is reported (learning;
                               * default: a quarter day, at least 32) */
    size_t redetect;          /* re-detect periods (and refit the baseline)
                               * every this many bins (default: a day, at
                               * least 512) */
    double half_life_s;       /* forgetting of the baseline, seconds (default:
                               * 0 = 3 of the longest period in use) */
    double level_half_life_s; /* forgetting of the level and spread,
                               * seconds (default: 0 = one day) */
    int relearn;              /* samples after an alarm over which the level is
                               * re-learnt and the score decays (default: 8;
                               * at most 32, 0 = none) */
} RiskProfileOptions;

/*
 * risk_profile_options_init:
 * @bin_s: the sampling step or a coarser bin, seconds
 *
 * Fills @o with the defaults for @bin_s: candidates one day and one week.
 */
void risk_profile_options_init(RiskProfileOptions *o, double bin_s);

/* A detected rhythm. */
typedef struct {
    int period;      /* bins */
    double strength; /* [0, 1]: autocorrelation at the period, i.e. the
                      * share of variance a period-lagged copy explains */
    bool candidate;  /* one of the configured candidates (day/week) */
} RiskPeriod;

/* A recurring event: a phase of a period at which the series departs
 * from its level on most cycles (a nightly job, a weekly backup). */
typedef struct {
    int period;       /* bins */
    int phase;        /* bin within the period where it starts */
    int length;       /* bins it lasts */
    double magnitude; /* fixed: mean excess over the level, in spreads
                       * (signed); varying: the largest spread factor
                       * over its phases (the spread there over the
                       * usual one, 3 or more) */
    int cycles;       /* cycles it was seen in */
    bool varying;     /* its start or size varies from cycle to cycle,
                       * so it shows as a wider spread over [phase,
                       * phase + length) rather than an offset */
} RiskEvent;

/* The profiler's view after the last sample. */
typedef struct {
    double drift;     /* [0, 1] */
    double z;         /* last robust standardised residual */
    double change;    /* change-detector statistic, in spreads */
    double expected;  /* baseline expectation at the last sample */
    double spread;    /* robust spread at that phase */
    double level;     /* robust level over all phases */
    bool learning;    /* too little history yet: drift is 0 */
    size_t samples;   /* samples taken */
    size_t missing;   /* NaN or inf samples */
    size_t backwards; /* samples ignored because time went backwards */
} RiskDrift;

/*
 * risk_profile_new:
 * @o: (nullable) options; NULL = risk_profile_options_init(o, 60)
 *
 * Returns: (transfer full) an empty profile, or NULL with RISK_ERROR_INVALID
 * when @o is inconsistent.
 */
RiskProfile *risk_profile_new(const RiskProfileOptions *o, GError **error);
void risk_profile_free(RiskProfile *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RiskProfile, risk_profile_free)

/*
 * risk_profile_update:
 * @t_s: the sample's time, seconds
 * @value: the sample (NaN = missing)
 *
 * Returns: the drift score after this sample, in [0, 1].
 */
double risk_profile_update(RiskProfile *p, double t_s, double value);

/* Fills @ret with the profiler's state after the last sample. */
void risk_profile_drift(const RiskProfile *p, RiskDrift *ret);

/*
 * risk_profile_expected:
 * @t_s: any time
 * @ret_mean, @ret_spread: (out) the baseline's expectation and spread at
 *   @t_s's phase
 *
 * Returns: false while learning (outputs untouched).
 */
bool risk_profile_expected(const RiskProfile *p, double t_s, double *ret_mean,
                           double *ret_spread);

/* Copies up to @max detected periods, strongest first.  Returns: how many. */
size_t risk_profile_periods(const RiskProfile *p, RiskPeriod *ret, size_t max);

/*
 * Copies up to @max recurring events: those at a fixed time (an offset of
 * the baseline) largest first, then those whose time or size varies (a
 * wider spread), largest factor first.  Returns: how many.
 */
size_t risk_profile_events(const RiskProfile *p, RiskEvent *ret, size_t max);

/*
 * risk_periods_detect:
 * @y, @n: a regular series (NaN = missing, interpolated for the search)
 * @candidates: periods to test whatever the periodogram says (0-ended,
 *   nullable)
 * @max_period: longest period considered (< n / 2 is required to report)
 * @ret, @max: (out) the periods found, strongest first
 *
 * A period is reported when it is seen at least twice in the data and its
 * autocorrelation is significant (above 2 / sqrt(n) and a fixed floor):
 * the candidates are checked directly; other periods come from the peaks
 * of the periodogram (GSL FFT of the detrended series), confirmed by the
 * autocorrelation at the nearest lag.  Multiples of a stronger period are
 * not reported unless they add strength (the week over the day).
 *
 * Returns: how many were written.
 */
size_t risk_periods_detect(const double *y, size_t n, const int *candidates,
                           int max_period, RiskPeriod *ret, size_t max);
