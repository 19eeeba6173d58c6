/*
 * tests/unit/test-profile.c: the workload profiler (risk/profile.h).
 *
 * Period detection (day and week found in a series that has both,
 * nothing in white noise, a non-candidate 8 h period from the
 * periodogram, degenerate input); the drift score (low on a long
 * stationary seasonal series, above 0.5 within a few samples of a level
 * shift of a few spreads either way or of a fourfold noise, a slow
 * decline on a wandering, spiky series caught by the envelope detector,
 * a nightly job learnt and reported as an event, bad input and long
 * gaps, determinism) and its calibration (episodes of
 * drift >= 0.5 per week of Gaussian-residual seasonal data, at 5-minute
 * and 1-minute samples).  Every series is synthetic from a fixed seed.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cutest.h"
#include "risk/profile.h"

#define DAY_S 86400.0
#define WEEK_S 604800.0
#define T0 1400000000.0 /* a Monday-ish origin, any would do */

/* A Gaussian deviate from @r (Box-Muller). */
static double
gauss(GRand *r)
{
    double u = g_rand_double(r), v = g_rand_double(r);

    return sqrt(-2 * log(1 - u)) * cos(2 * M_PI * v);
}

/* Daily and weekly rhythm (weekends lower) around 50, at time @t. */
static double
rhythm(double t)
{
    double week_phase = fmod(t - T0, WEEK_S) / DAY_S;

    return 50 + 8 * sin(2 * M_PI * t / DAY_S) + 4 * sin(2 * M_PI * t / WEEK_S) +
           (week_phase >= 5 ? -6 : 0);
}

/* @n samples every @step seconds of rhythm() plus N(0, @sd) noise. */
static double *
seasonal_series(size_t n, double step, double sd, guint32 seed)
{
    g_autoptr(GRand) r = g_rand_new_with_seed(seed);
    double *y = g_new(double, n);

    for (size_t i = 0; i < n; i++) {
        y[i] = rhythm(T0 + (double) i * step) + sd * gauss(r);
    }
    return y;
}

static RiskProfile *
new_profile(double bin_s)
{
    RiskProfileOptions o;
    RiskProfile *p;

    risk_profile_options_init(&o, bin_s);
    p = risk_profile_new(&o, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    return p;
}

/* Counts the onsets of drift >= 0.5 in @d[from, n). */
static size_t
episodes(const double *d, size_t from, size_t n)
{
    size_t k = 0;

    for (size_t i = from; i < n; i++) {
        if (d[i] >= 0.5 && (i == 0 || d[i - 1] < 0.5)) {
            k++;
        }
    }
    return k;
}

static bool
has_period(const RiskPeriod *per, size_t n, int period, int tol)
{
    for (size_t i = 0; i < n; i++) {
        if (abs(per[i].period - period) <= tol) {
            return true;
        }
    }
    return false;
}

static void
test_periods_day_week(void)
{
    /* 5-minute samples over 3 weeks, and hourly samples over 4. */
    struct {
        double step;
        size_t n;
    } c[] = {{300, 3 * 2016}, {3600, 4 * 168}};

    for (size_t k = 0; k < G_N_ELEMENTS(c); k++) {
        int day = (int) (DAY_S / c[k].step), week = (int) (WEEK_S / c[k].step);
        int cand[] = {day, week, 0};
        g_autofree double *y = seasonal_series(c[k].n, c[k].step, 2, 7);
        RiskPeriod per[RISK_MAX_PERIODS];
        size_t n;

        n = risk_periods_detect(y, c[k].n, cand, week, per, G_N_ELEMENTS(per));
        CU_ASSERT(has_period(per, n, day, 0));
        CU_ASSERT(has_period(per, n, week, 0));
        CU_ASSERT_EQUAL(n, 2);
        for (size_t i = 0; i < n; i++) {
            CU_ASSERT(per[i].candidate);
            CU_ASSERT(per[i].strength > 0.5 && per[i].strength <= 1);
            if (i > 0) {
                CU_ASSERT(per[i].strength <= per[i - 1].strength);
            }
        }
    }
}

static void
test_periods_white_noise(void)
{
    int cand[] = {288, 2016, 0};

    for (guint32 seed = 1; seed <= 5; seed++) {
        g_autoptr(GRand) r = g_rand_new_with_seed(seed);
        size_t n = 3 * 2016;
        g_autofree double *y = g_new(double, n);
        RiskPeriod per[RISK_MAX_PERIODS];

        for (size_t i = 0; i < n; i++) {
            y[i] = 10 + gauss(r);
        }
        CU_ASSERT_EQUAL(risk_periods_detect(y, n, cand, 2016, per, 4), 0);
    }
}

static void
test_periods_non_candidate(void)
{
    /* An 8-hour cycle at 5-minute samples (96 bins) over 3 weeks: the
     * day (a multiple) adds nothing, so only 96 is reported. */
    g_autoptr(GRand) r = g_rand_new_with_seed(3);
    int cand[] = {288, 2016, 0};
    size_t n = 3 * 2016;
    g_autofree double *y = g_new(double, n);
    RiskPeriod per[RISK_MAX_PERIODS];
    size_t k;

    for (size_t i = 0; i < n; i++) {
        y[i] = 20 + 5 * sin(2 * M_PI * (double) i / 96) + gauss(r);
    }
    k = risk_periods_detect(y, n, cand, 2016, per, 4);
    CU_ASSERT_EQUAL_FATAL(k, 1);
    CU_ASSERT(abs(per[0].period - 96) <= 2);
    CU_ASSERT_FALSE(per[0].candidate);
    CU_ASSERT(per[0].strength > 0.8);
}

/*
 * A quiet series (5 +- 1) with a 10-minute job (60) every night at 03:00,
 * 5-minute samples over 8 days: the winsorising leaves the job a sliver
 * of the variance, yet the day is found, from where the bursts recur
 * (also when the start wanders +-10 minutes).  The same bursts at random
 * times give no period.
 */
static void
test_periods_quiet_nightly_job(void)
{
    int cand[] = {288, 2016, 0};
    size_t n = 8 * 288;

    for (guint32 seed = 1; seed <= 5; seed++) {
        g_autoptr(GRand) r = g_rand_new_with_seed(seed);
        g_autofree double *y = g_new(double, n);
        g_autofree double *z = g_new(double, n);
        RiskPeriod per[RISK_MAX_PERIODS];
        size_t k;

        for (int jit = 0; jit <= 2; jit += 2) {
            for (size_t i = 0; i < n; i++) {
                y[i] = 5 + g_rand_double_range(r, -1, 1);
            }
            for (size_t d = 0; d < n / 288; d++) {
                size_t at = d * 288 + 36 + g_rand_int_range(r, -jit, jit + 1);

                y[at] = y[at + 1] = 60;
            }
            k = risk_periods_detect(y, n, cand, 2016, per, 4);
            CU_ASSERT_EQUAL(k, 1);
            CU_ASSERT(has_period(per, k, 288, 0));
        }
        for (size_t i = 0; i < n; i++) {
            z[i] = 5 + g_rand_double_range(r, -1, 1);
        }
        for (size_t d = 0; d < n / 288; d++) {
            size_t at = (size_t) g_rand_int_range(r, 0, (gint32) n - 1);

            z[at] = z[at + 1] = 60;
        }
        CU_ASSERT_EQUAL(risk_periods_detect(z, n, cand, 2016, per, 4), 0);
    }
}

static void
test_periods_degenerate(void)
{
    int cand[] = {24, 168, 0};
    double y[1000];
    RiskPeriod per[RISK_MAX_PERIODS];

    for (size_t i = 0; i < G_N_ELEMENTS(y); i++) {
        y[i] = 5;
    }
    CU_ASSERT_EQUAL(risk_periods_detect(y, 1000, cand, 168, per, 4), 0);
    for (size_t i = 0; i < G_N_ELEMENTS(y); i++) {
        y[i] = NAN;
    }
    CU_ASSERT_EQUAL(risk_periods_detect(y, 1000, cand, 168, per, 4), 0);
    CU_ASSERT_EQUAL(risk_periods_detect(y, 3, cand, 168, per, 4), 0);
    CU_ASSERT_EQUAL(risk_periods_detect(NULL, 1000, cand, 168, per, 4), 0);

    /* A daily rhythm with holes, infinities and huge values is still
     * found, and nothing overflows. */
    for (size_t i = 0; i < G_N_ELEMENTS(y); i++) {
        y[i] = 10 * sin(2 * M_PI * (double) i / 24);
        if (i % 13 == 0) {
            y[i] = NAN;
        } else if (i % 97 == 0) {
            y[i] = i % 2 ? INFINITY : -INFINITY;
        } else if (i % 101 == 0) {
            y[i] = i % 2 ? 1e300 : -DBL_MAX;
        }
    }
    CU_ASSERT(risk_periods_detect(y, 1000, cand, 168, per, 4) >= 1);
    CU_ASSERT(has_period(per, 1, 24, 0));
    CU_ASSERT(isfinite(per[0].strength));
}

static void
test_drift_stationary(void)
{
    /* Eight weeks of 5-minute samples that keep to their rhythm. */
    size_t n = 8 * 2016, from = 2016, high = 0;
    g_autofree double *y = seasonal_series(n, 300, 1.5, 11);
    g_autofree double *d = g_new(double, n);
    g_autoptr(RiskProfile) p = new_profile(300);
    RiskPeriod per[RISK_MAX_PERIODS];
    size_t k;
    double mean = 0, err = 0, worst = 0;

    for (size_t i = 0; i < n; i++) {
        d[i] = risk_profile_update(p, T0 + (double) i * 300, y[i]);
        CU_ASSERT(d[i] >= 0 && d[i] <= 1);
    }
    for (size_t i = from; i < n; i++) {
        high += d[i] >= 0.5;
        mean += d[i] / (double) (n - from);
    }
    /* Low almost always, and about one episode a week (calibration). */
    CU_ASSERT(high <= (n - from) / 200);
    CU_ASSERT(mean < 0.05);
    CU_ASSERT(episodes(d, from, n) <= 4 * 7);

    /* The rhythms were found and the baseline follows them. */
    k = risk_profile_periods(p, per, G_N_ELEMENTS(per));
    CU_ASSERT(has_period(per, k, 288, 0));
    CU_ASSERT(has_period(per, k, 2016, 0));
    for (size_t i = 0; i < 2016; i++) {
        double t = T0 + (double) (n + i) * 300, mu, sd;

        CU_ASSERT_TRUE_FATAL(risk_profile_expected(p, t, &mu, &sd));
        err += fabs(mu - rhythm(t)) / 2016;
        worst = MAX(worst, fabs(mu - rhythm(t)));
        CU_ASSERT(sd > 1.2 && sd < 2.5);
    }
    /* Within a third of the noise on average; the weekend's edges are
     * blurred by the week's half-hour knots. */
    CU_ASSERT(err < 0.5);
    CU_ASSERT(worst < 6);
}

/* Steps the series by @delta spreads at sample @at, returns the first
 * sample (relative to @at) with drift >= 0.5, or -1. */
static int
shift_detected_after(double delta, size_t at, guint32 seed)
{
    double sd = 2;
    size_t n = at + 48;
    g_autofree double *y = seasonal_series(n, 300, sd, seed);
    g_autoptr(RiskProfile) p = new_profile(300);

    for (size_t i = 0; i < n; i++) {
        double d = risk_profile_update(p, T0 + (double) i * 300,
                                       y[i] + (i >= at ? delta * sd : 0));

        if (i >= at && d >= 0.5) {
            return (int) (i - at);
        }
    }
    return -1;
}

static void
test_drift_level_shift(void)
{
    /* After six weeks (the week learnt, the calibration settled); in
     * units of the noise, which the profiler's spread slightly exceeds. */
    size_t at = 6 * 2016 + 100;

    for (guint32 seed = 1; seed <= 3; seed++) {
        for (int sign = -1; sign <= 1; sign += 2) {
            int d5 = shift_detected_after(5 * sign, at, seed);
            int d4 = shift_detected_after(4 * sign, at, seed);
            int d3 = shift_detected_after(3 * sign, at, seed);

            CU_ASSERT(d5 >= 0 && d5 <= 2);
            CU_ASSERT(d4 >= 0 && d4 <= 5);
            CU_ASSERT(d3 >= 0 && d3 <= 10);
        }
    }
}

/* The noise grows fourfold at 6 weeks: seen within a few samples. */
static void
test_drift_variance_change(void)
{
    size_t at = 6 * 2016 + 100, n = at + 288;

    for (guint32 seed = 1; seed <= 3; seed++) {
        g_autoptr(GRand) r = g_rand_new_with_seed(seed);
        g_autoptr(RiskProfile) p = new_profile(300);
        int first = -1;

        for (size_t i = 0; i < n; i++) {
            double t = T0 + (double) i * 300;
            double d = risk_profile_update(
                p, t, rhythm(t) + (i >= at ? 8 : 2) * gauss(r));

            if (i >= at && d >= 0.5 && first < 0) {
                first = (int) (i - at);
            }
        }
        CU_ASSERT(first >= 0 && first <= 12);
    }
}

/*
 * A slow decline (the shape of a failing machine's temperature): on a
 * series that wanders (AR(1), phi 0.98, sd about 5) and has spikes of
 * 20 on 1 % of the samples, so the level and shift detectors have learnt
 * wide tails, the level falls by 30 over 12 hours and stays.  The
 * envelope detector sees the smoothed value leave the past week's range
 * and reports it once within 18 hours of the start; the level and shift
 * detectors alone miss most of these.
 */
static void
test_drift_slow_decline(void)
{
    size_t at = 3 * 2016 + 100, n = at + 3 * 288;

    for (guint32 seed = 1; seed <= 4; seed++) {
        g_autoptr(GRand) r = g_rand_new_with_seed(seed);
        g_autoptr(RiskProfile) p = new_profile(300);
        g_autofree double *d = g_new(double, n);
        double ar = 0;
        int first = -1;

        for (size_t i = 0; i < n; i++) {
            double t = T0 + (double) i * 300, y = rhythm(t);
            double spike = 0;

            ar = 0.98 * ar + gauss(r);
            if (g_rand_double(r) < 0.01) {
                spike = g_rand_double(r) < 0.5 ? -20 : 20;
            }
            y += ar + spike + gauss(r);
            if (i >= at) {
                y -= 30 * MIN((double) (i - at) / 144, 1);
            }
            d[i] = risk_profile_update(p, t, y);
            if (i >= at && d[i] >= 0.5 && first < 0) {
                first = (int) (i - at);
            }
        }
        CU_ASSERT(first >= 0 && first <= 216);
        CU_ASSERT(episodes(d, at, n) <= 3);
    }
}

/*
 * A shift is reported once, then re-learnt: drift falls back.  One
 * episode, on every seed: a sample of the shift that noise brings nearer
 * the old level must not end it (and the next begin a second).
 */
static void
test_drift_relearns(void)
{
    size_t at = 3 * 2016 + 100, n = at + 2016;

    for (guint32 seed = 1; seed <= 8; seed++) {
        g_autofree double *y = seasonal_series(n, 300, 2, seed);
        g_autoptr(RiskProfile) p = new_profile(300);
        g_autofree double *d = g_new(double, n);
        RiskDrift rd;

        for (size_t i = 0; i < n; i++) {
            d[i] = risk_profile_update(p, T0 + (double) i * 300,
                                       y[i] + (i >= at ? 10 : 0));
        }
        CU_ASSERT(episodes(d, at, at + 12) == 1);
        CU_ASSERT(episodes(d, at + 12, n) <= 2);
        risk_profile_drift(p, &rd);
        CU_ASSERT(fabs(rd.level - 60) < 3);
        CU_ASSERT(rd.drift < 0.5);
    }
}

/*
 * A smaller shift, 4 noise sds, on 40 seeds: one episode in its first 12
 * samples on nearly all (a sample of the shift nearer the old level, or
 * a spread fitted wider at its phase, can still lose the hold).
 */
static void
test_drift_relearns_smaller(void)
{
    size_t at = 3 * 2016 + 100, n = at + 288, split = 0;

    for (guint32 seed = 1; seed <= 40; seed++) {
        g_autofree double *y = seasonal_series(n, 300, 2, 100 + seed);
        g_autoptr(RiskProfile) p = new_profile(300);
        g_autofree double *d = g_new(double, n);

        for (size_t i = 0; i < n; i++) {
            d[i] = risk_profile_update(p, T0 + (double) i * 300,
                                       y[i] + (i >= at ? 8 : 0));
        }
        split += episodes(d, at, at + 12) != 1;
    }
    printf("\n    4-sd shift: not one episode in 12 samples on %zu of 40 "
           "seeds\n",
           split);
    CU_ASSERT(split <= 6);
}

/* The rhythm plus a nightly job: 30 minutes from 02:00 at +12. */
static double
nightly(double t, double noise)
{
    double tod = fmod(t, DAY_S);

    return 20 + 5 * sin(2 * M_PI * t / DAY_S) +
           (tod >= 7200 && tod < 9000 ? 12 : 0) + noise;
}

static void
test_nightly_event(void)
{
    g_autoptr(GRand) r = g_rand_new_with_seed(21);
    g_autoptr(RiskProfile) p = new_profile(300);
    size_t n = 10 * 288, job_high = 0, job_samples = 0;
    RiskEvent ev[RISK_MAX_EVENTS];
    size_t k;
    bool found = false;
    double t0 = 1400025600; /* midnight, UTC */

    for (size_t i = 0; i < n; i++) {
        double t = t0 + (double) i * 300, tod = fmod(t, DAY_S);
        double d = risk_profile_update(p, t, nightly(t, gauss(r)));

        /* From the fourth night on, the job is normal. */
        if (i >= 3 * 288 && tod >= 7200 && tod < 9600) {
            job_samples++;
            job_high += d >= 0.5;
        }
    }
    CU_ASSERT(job_samples > 0);
    CU_ASSERT_EQUAL(job_high, 0);

    k = risk_profile_events(p, ev, G_N_ELEMENTS(ev));
    CU_ASSERT_FATAL(k >= 1);
    for (size_t i = 0; i < k; i++) {
        if (ev[i].period == 288 && abs(ev[i].phase - 24) <= 1 &&
            abs(ev[i].length - 6) <= 2 && ev[i].magnitude > 3 &&
            ev[i].cycles >= 5) {
            found = true;
        }
    }
    CU_ASSERT(found);
    /* The job is the largest thing that recurs, and at a fixed time. */
    CU_ASSERT(ev[0].period == 288 && abs(ev[0].phase - 24) <= 1);
    for (size_t i = 0; i < k; i++) {
        CU_ASSERT(!ev[i].varying);
    }
}

/*
 * Ten nights of the rhythm plus a 10-minute job at +12 from 02:00 and,
 * with @second, another from 02:30 (two knots each: too short to move
 * the pooled offsets, so they show in the spread factors).  Returns: the
 * profile's events in @ev, how many.
 */
static size_t
short_jobs(guint32 seed, bool second, RiskEvent *ev, size_t max)
{
    g_autoptr(GRand) r = g_rand_new_with_seed(seed);
    g_autoptr(RiskProfile) p = new_profile(300);
    double t0 = 1400025600; /* midnight, UTC */

    for (size_t i = 0; i < 10 * 288; i++) {
        double t = t0 + (double) i * 300, tod = fmod(t, DAY_S);
        bool job = (tod >= 7200 && tod < 7800) ||
                   (second && tod >= 9000 && tod < 9600);

        risk_profile_update(p, t,
                            20 + 5 * sin(2 * M_PI * t / DAY_S) +
                                (job ? 12 : 0) + gauss(r));
    }
    return risk_profile_events(p, ev, max);
}

/* A short job at a fixed time: reported once, at its time, not varying. */
static void
test_short_job(void)
{
    for (guint32 seed = 1; seed <= 3; seed++) {
        RiskEvent ev[RISK_MAX_EVENTS];
        size_t k = short_jobs(seed, false, ev, G_N_ELEMENTS(ev));

        CU_ASSERT_EQUAL_FATAL(k, 1);
        CU_ASSERT(!ev[0].varying && ev[0].period == 288 && ev[0].phase == 24 &&
                  ev[0].length == 2 && ev[0].magnitude > 3 &&
                  ev[0].cycles >= 8);
    }
}

/* Two short jobs half an hour apart: one run of high spread factors,
 * reported as two fixed events. */
static void
test_two_short_jobs(void)
{
    for (guint32 seed = 1; seed <= 3; seed++) {
        RiskEvent ev[RISK_MAX_EVENTS];
        size_t k = short_jobs(seed, true, ev, G_N_ELEMENTS(ev));

        CU_ASSERT_EQUAL_FATAL(k, 2);
        for (size_t i = 0; i < k; i++) {
            CU_ASSERT(!ev[i].varying && ev[i].length == 2 &&
                      ev[i].magnitude > 3 && ev[i].cycles >= 8);
        }
        CU_ASSERT(MIN(ev[0].phase, ev[1].phase) == 24 &&
                  MAX(ev[0].phase, ev[1].phase) == 30);
    }
}

/*
 * A job at a fixed time whose size varies (02:00 for 30 minutes, +4 to
 * +20 a night): reported once, not also as a varying event over the same
 * phases.
 */
static void
test_sized_job_once(void)
{
    for (guint32 seed = 1; seed <= 3; seed++) {
        g_autoptr(GRand) r = g_rand_new_with_seed(seed);
        g_autoptr(RiskProfile) p = new_profile(300);
        double t0 = 1400025600, size = 12; /* midnight, UTC */
        RiskEvent ev[RISK_MAX_EVENTS];
        size_t k, near = 0;

        for (size_t i = 0; i < 10 * 288; i++) {
            double t = t0 + (double) i * 300, tod = fmod(t, DAY_S);

            if (i % 288 == 0) {
                size = g_rand_double_range(r, 4, 20);
            }
            risk_profile_update(p, t,
                                20 + 5 * sin(2 * M_PI * t / DAY_S) +
                                    (tod >= 7200 && tod < 9000 ? size : 0) +
                                    gauss(r));
        }
        k = risk_profile_events(p, ev, G_N_ELEMENTS(ev));
        for (size_t i = 0; i < k; i++) {
            near += ev[i].phase + ev[i].length >= 18 && ev[i].phase <= 30;
        }
        CU_ASSERT(k >= 1 && !ev[0].varying && abs(ev[0].phase - 24) <= 1);
        CU_ASSERT_EQUAL(near, 1);
    }
}

/*
 * A nightly job whose start jitters: 10 minutes at +12 noise sds, from
 * 03:00 give or take 20 minutes.  Its knots differ every night, so no
 * median across nights sees it; once learnt, it must still be normal.
 */
static void
test_jittered_job(void)
{
    for (guint32 seed = 1; seed <= 3; seed++) {
        g_autoptr(GRand) r = g_rand_new_with_seed(seed);
        g_autoptr(RiskProfile) p = new_profile(300);
        size_t n = 14 * 288, job_high = 0, job_samples = 0, k;
        double t0 = 1400025600; /* midnight, UTC */
        int start = 0;
        RiskEvent ev[RISK_MAX_EVENTS];
        bool found;

        for (size_t i = 0; i < n; i++) {
            double t = t0 + (double) i * 300, tod = fmod(t, DAY_S), d;
            int slot = (int) (tod / 300);
            bool job;

            if (slot == 0) {
                start = 36 + g_rand_int_range(r, -4, 5); /* 03:00 +-20 min */
            }
            job = slot >= start && slot < start + 2;
            d = risk_profile_update(p, t,
                                    20 + 5 * sin(2 * M_PI * t / DAY_S) +
                                        (job ? 12 : 0) + gauss(r));
            /* From the fifth night on, the job is normal. */
            if (i >= 4 * 288 && job) {
                job_samples++;
                job_high += d >= 0.5;
            }
        }
        CU_ASSERT(job_samples >= 18);
        CU_ASSERT_EQUAL(job_high, 0);

        /* Reported as a varying event covering 02:40-03:30. */
        k = risk_profile_events(p, ev, G_N_ELEMENTS(ev));
        found = false;
        for (size_t i = 0; i < k; i++) {
            if (ev[i].varying && ev[i].period == 288 && ev[i].phase <= 32 &&
                ev[i].phase + ev[i].length >= 42 && ev[i].length <= 24 &&
                ev[i].magnitude >= 3 && ev[i].cycles >= 10) {
                found = true;
            }
            /* Nothing else recurs. */
            CU_ASSERT(ev[i].varying);
        }
        CU_ASSERT(found);
    }
}

static bool
drift_finite(const RiskDrift *d)
{
    return isfinite(d->drift) && d->drift >= 0 && d->drift <= 1 &&
           isfinite(d->z) && isfinite(d->change) && isfinite(d->expected) &&
           isfinite(d->spread) && isfinite(d->level);
}

static void
test_bad_input(void)
{
    g_autoptr(GRand) r = g_rand_new_with_seed(9);
    g_autoptr(RiskProfile) p = new_profile(60);
    g_autoptr(RiskProfile) c = new_profile(60);
    RiskDrift rd;
    RiskPeriod per[RISK_MAX_PERIODS];
    RiskEvent ev[RISK_MAX_EVENTS];
    double t = T0, mu, sd;
    size_t i;

    /* NaN and infinities, huge values, time going backwards, a gap of
     * three days, and repeated timestamps. */
    for (i = 0; i < 6000; i++) {
        double v = 30 + 3 * sin(2 * M_PI * t / DAY_S) + gauss(r), d;

        if (i % 50 == 7) {
            v = NAN;
        } else if (i % 50 == 8) {
            v = i % 100 < 50 ? INFINITY : -INFINITY;
        } else if (i % 501 == 9) {
            v = i % 2 ? 1e300 : -1e300;
        } else if (i % 777 == 10) {
            v = DBL_MAX;
        }
        if (i == 3000) {
            t += 3 * DAY_S;
        }
        d = risk_profile_update(p, t, v);
        CU_ASSERT(isfinite(d) && d >= 0 && d <= 1);
        if (i % 333 == 5) {
            d = risk_profile_update(p, t - 600, 30);
            CU_ASSERT(isfinite(d) && d >= 0 && d <= 1);
        }
        if (i % 250 != 0) {
            t += 60;
        }
        risk_profile_drift(p, &rd);
        CU_ASSERT(drift_finite(&rd));
    }
    risk_profile_drift(p, &rd);
    CU_ASSERT_EQUAL(rd.missing, 6000 / 50 * 2);
    CU_ASSERT_EQUAL(rd.backwards, (6000 - 5 + 332) / 333);
    CU_ASSERT_EQUAL(rd.samples, 6000 - rd.missing);
    if (risk_profile_expected(p, t, &mu, &sd)) {
        CU_ASSERT(isfinite(mu) && isfinite(sd) && sd > 0);
    }
    CU_ASSERT(risk_profile_periods(p, per, 4) <= 4);
    CU_ASSERT(risk_profile_events(p, ev, RISK_MAX_EVENTS) <= RISK_MAX_EVENTS);

    /* A constant series: spread 0 must not divide by zero; a change
     * after it is a departure. */
    for (i = 0; i < 3000; i++) {
        double d = risk_profile_update(c, T0 + (double) i * 60, 42);

        CU_ASSERT(d >= 0 && d <= 1);
        if (i > 1000) {
            CU_ASSERT(d < 0.5);
        }
    }
    risk_profile_drift(c, &rd);
    CU_ASSERT(drift_finite(&rd));
    CU_ASSERT(rd.spread > 0);
    CU_ASSERT_DOUBLE_EQUAL(rd.expected, 42, 1e-9);
    CU_ASSERT(risk_profile_update(c, T0 + 3000 * 60, 43) >= 0.5);
    risk_profile_drift(c, &rd);
    CU_ASSERT(drift_finite(&rd));
    /* Time that cannot be binned is refused, not crashed on. */
    CU_ASSERT(risk_profile_update(c, 1e300, 1) <= 1);
    CU_ASSERT(risk_profile_update(c, NAN, 1) <= 1);
}

/* Gaps longer than the envelope's week, a clock going back, NaN runs
 * and a constant stretch: finite scores, and the series is followed
 * again after each gap. */
static void
test_gaps(void)
{
    g_autoptr(GRand) r = g_rand_new_with_seed(17);
    g_autoptr(RiskProfile) p = new_profile(300);
    double t = T0;
    RiskDrift rd;
    size_t high = 0;

    for (size_t i = 0; i < 12000; i++) {
        double v = rhythm(t) + 2 * gauss(r), d;

        if (i >= 5000 && i < 5300) {
            v = NAN;
        } else if (i >= 7000 && i < 7600) {
            v = 50;
        }
        if (i == 3000 || i == 9000) {
            t += 10 * DAY_S;
        }
        if (i == 6000) {
            t -= 2 * DAY_S;
        }
        d = risk_profile_update(p, t, v);
        CU_ASSERT(isfinite(d) && d >= 0 && d <= 1);
        risk_profile_drift(p, &rd);
        CU_ASSERT(drift_finite(&rd));
        if (i >= 11000) {
            high += d >= 0.5;
        }
        t += 300;
    }
    /* Mostly quiet a few days after the last gap. */
    CU_ASSERT(high < 50);
    CU_ASSERT(rd.backwards > 0);
}

static void
test_deterministic(void)
{
    size_t n = 4 * 2016;
    g_autofree double *y = seasonal_series(n, 300, 2, 4);
    g_autofree double *a = g_new(double, n);
    g_autofree double *b = g_new(double, n);
    g_autoptr(RiskProfile) p = new_profile(300);
    g_autoptr(RiskProfile) q = new_profile(300);
    RiskDrift da, db;

    for (size_t i = 0; i < n; i++) {
        double v = i % 1000 == 999 ? y[i] + 30 : y[i];

        a[i] = risk_profile_update(p, T0 + (double) i * 300, v);
        b[i] = risk_profile_update(q, T0 + (double) i * 300, v);
    }
    CU_ASSERT_EQUAL(memcmp(a, b, n * sizeof(*a)), 0);
    risk_profile_drift(p, &da);
    risk_profile_drift(q, &db);
    CU_ASSERT_EQUAL(memcmp(&da, &db, sizeof(da)), 0);
}

/* Episodes of drift >= 0.5 per week on Gaussian-residual seasonal data
 * at one sampling step, over @weeks weeks and @seeds seeds, the first
 * @skip weeks left out (learning the week takes two). */
static double
episodes_per_week(double step, int weeks, int skip, int seeds)
{
    size_t per_week = (size_t) (WEEK_S / step), n = per_week * weeks, total = 0;

    for (int s = 0; s < seeds; s++) {
        g_autofree double *y = seasonal_series(n, step, 1, 100 + s);
        g_autofree double *d = g_new(double, n);
        g_autoptr(RiskProfile) p = new_profile(step);

        RiskPeriod per[RISK_MAX_PERIODS];
        size_t k;

        for (size_t i = 0; i < n; i++) {
            d[i] = risk_profile_update(p, T0 + (double) i * step, y[i]);
        }
        total += episodes(d, per_week * skip, n);
        /* Both rhythms found, at whatever cell size. */
        k = risk_profile_periods(p, per, G_N_ELEMENTS(per));
        CU_ASSERT(has_period(per, k, (int) per_week, 0));
        CU_ASSERT(has_period(per, k, (int) (DAY_S / step), 0));
    }
    return (double) total / (double) (seeds * (weeks - skip));
}

static void
test_calibration(void)
{
    double five = episodes_per_week(300, 10, 2, 4);
    double one = episodes_per_week(60, 5, 2, 3);

    printf("\n    episodes of drift >= 0.5 per week: %.2f at 5 min, %.2f at "
           "1 min\n",
           five, one);
    /* About one a week (profile.c, "Calibration"); a generous band. */
    CU_ASSERT(five >= 0.2 && five <= 4);
    CU_ASSERT(one >= 0.2 && one <= 4);
}

static void
test_options(void)
{
    RiskProfileOptions o;
    g_autoptr(GError) err = NULL;
    RiskProfile *p;

    risk_profile_options_init(&o, 300);
    CU_ASSERT_EQUAL(o.candidates[0], 288);
    CU_ASSERT_EQUAL(o.candidates[1], 2016);
    CU_ASSERT_EQUAL(o.candidates[2], 0);
    CU_ASSERT_EQUAL(o.max_period, 2016);
    CU_ASSERT(o.history >= 2 * 2016);
    CU_ASSERT(o.min_history > 0 && o.min_history <= 288);
    CU_ASSERT(o.redetect > 0);
    CU_ASSERT_EQUAL(o.relearn, 8);

    /* A bin longer than half a day leaves the day out. */
    risk_profile_options_init(&o, 2 * DAY_S);
    CU_ASSERT_EQUAL(o.candidates[0], 4);
    CU_ASSERT_EQUAL(o.candidates[1], 0);

    risk_profile_options_init(&o, 300);
    o.bin_s = 0;
    p = risk_profile_new(&o, &err);
    CU_ASSERT_PTR_NULL(p);
    CU_ASSERT(g_error_matches(err, RISK_ERROR, RISK_ERROR_INVALID));
    g_clear_error(&err);

    risk_profile_options_init(&o, 300);
    o.candidates[0] = 1;
    CU_ASSERT_PTR_NULL(risk_profile_new(&o, &err));
    CU_ASSERT(g_error_matches(err, RISK_ERROR, RISK_ERROR_INVALID));
    g_clear_error(&err);

    risk_profile_options_init(&o, 300);
    o.relearn = 100;
    CU_ASSERT_PTR_NULL(risk_profile_new(&o, &err));
    g_clear_error(&err);

    /* NULL options: one-minute defaults; a fresh profile is learning. */
    p = risk_profile_new(NULL, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    {
        RiskDrift d;
        double mu;

        risk_profile_drift(p, &d);
        CU_ASSERT(d.learning);
        CU_ASSERT_EQUAL(d.samples, 0);
        CU_ASSERT_FALSE(risk_profile_expected(p, T0, &mu, NULL));
        CU_ASSERT_EQUAL(risk_profile_events(p, NULL, 0), 0);
    }
    risk_profile_free(p);
    risk_profile_free(NULL);

    /* A first sample without a value (umbrad's first sample of a domain
     * has no rates) still starts the learning period: a jump an hour later
     * is no drift yet. */
    p = risk_profile_new(NULL, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    risk_profile_update(p, T0, NAN);
    for (int i = 1; i <= 60; i++) {
        risk_profile_update(p, T0 + 60.0 * i, i < 50 ? 10 + (i % 3) : 90);
    }
    {
        RiskDrift d;

        risk_profile_drift(p, &d);
        CU_ASSERT(d.learning);
        CU_ASSERT_EQUAL(d.drift, 0);
    }
    risk_profile_free(p);
}

static const CutestCase cases[] = {
    {"periods_day_week", test_periods_day_week},
    {"periods_white_noise", test_periods_white_noise},
    {"periods_non_candidate", test_periods_non_candidate},
    {"periods_quiet_nightly_job", test_periods_quiet_nightly_job},
    {"periods_degenerate", test_periods_degenerate},
    {"drift_stationary", test_drift_stationary},
    {"drift_level_shift", test_drift_level_shift},
    {"drift_variance_change", test_drift_variance_change},
    {"drift_slow_decline", test_drift_slow_decline},
    {"drift_relearns", test_drift_relearns},
    {"nightly_event", test_nightly_event},
    {"jittered_job", test_jittered_job},
    {"sized_job_once", test_sized_job_once},
    {"short_job", test_short_job},
    {"two_short_jobs", test_two_short_jobs},
    {"drift_relearns_smaller", test_drift_relearns_smaller},
    {"bad_input", test_bad_input},
    {"gaps", test_gaps},
    {"deterministic", test_deterministic},
    {"calibration", test_calibration},
    {"options", test_options},
};

CUTEST_MAIN("profile", cases)
