/*
 * risk/profile.c: the workload profiler (see profile.h): per series, a
 * baseline that knows the series' rhythms, and a calibrated drift score.
 *
 * Baseline: a robust double-seasonal Holt-Winters (Taylor, "Short-term
 * electricity demand forecasting using double seasonal exponential
 * smoothing", JORS 54, 2003; robust updates as in Gelper, Fried & Croux,
 * "Robust forecasting with exponential and Holt-Winters smoothing",
 * J. Forecasting 29, 2010):
 *
 *   expected(t) = L + S1[knot1(t)] + S2[knot2(t)]   (each S centred)
 *   spread(t)   = sigma * max(1, F[knot1(t)])
 *
 * L is the level; S1, S2 the offsets of the (at most) two strongest
 * periods in use, shortest first (day and week: S2 then holds only what
 * differs between weekdays), one knot per history cell; sigma a Huber
 * scale of the residuals; F a per-knot spread factor, so that a phase
 * that is always noisy (a job whose start jitters) is not surprising.
 * Each sample gives r = y - expected and z = r / spread, and
 *
 *   psi = clip(z, +-2.5) spread,  L += alpha psi,  S_j[k] += gamma_j psi,
 *   sigma += lambda (min(|z|, 3) spread / F / kappa(3) - sigma)
 *
 * with kappa(c) = E min(|Z|, c) (consistent for Gaussian noise); alpha
 * and lambda from level_half_life_s (default a day), gamma_j from
 * half_life_s counted in cycles of period j (default three of the
 * longest period in use) and shared by the samples of one knot visit.
 * The first 16 samples only give L (median) and sigma (MAD).
 *
 * Rhythms: the series is also kept as cell means (a cell is a bin, or a
 * few when the history would exceed 4096 cells) in a ring of `history`
 * bins; risk_periods_detect() (periods.c) runs on it when it first spans
 * twice a candidate and then every `redetect` bins.  The two strongest
 * periods (not within a ratio of 1.5 of each other) are used; a change
 * of that pair is adopted when proposed twice in a row, or at once when
 * none was in use.  At every detection the offsets are refitted from the
 * ring: per knot, the median over the cycles and over the two knots on
 * either side (a median keeps the edges of a run of three knots or
 * more), backfitted twice between the two periods; F from each
 * cell's absolute residual widened to the largest within 1/48 of the
 * period, at least two knots (half an hour of a day: a job whose start
 * jitters lands on the same knots every cycle), then the median of these over
 * the same neighbourhood, over that of all knots (a median across cycles, so a
 * one-off departure does not make its phase noisy); and, when the
 * periods change, L from the last cycle.  A nightly job seen on two
 * nights is thus part of normal after the next detection, and a
 * recurring event is a run of at most 1/16 of the period's knots whose
 * offset stands 3 spreads or more out of the median of the surrounding
 * knots (risk_profile_events()); a *varying* one, a run of knots of
 * the first period whose spread factor is 3 or more (a job whose time
 * or size varies), away from the fixed ones; unless some of its knots
 * stood 3 spreads out on one side in 4 of 5 of its cycles and the rest
 * of it seldom did: then fixed jobs too short for the pooled offsets,
 * reported as fixed events at those knots.
 *
 * Drift: three detectors, each giving a statistic q on the scale of |z|:
 *
 *   - level: q = |z|, the departure from the baseline;
 *   - shift: a two-sided CUSUM (Page, Biometrika 41, 1954) with
 *     reference k = 0.5 on the standardised one-step innovation
 *     e = (z - phi z_prev) / s_e, clipped to +-8 and less its running
 *     mean (phi: the residuals' lag-1 autocorrelation in [0, 0.95],
 *     z_prev winsorised at 3, s_e a robust scale of the innovations), so
 *     that persistent residuals of a smooth series do not accumulate
 *     while a step, a ramp or a change of slope does.  Its value G is
 *     put on the |z| scale through Siegmund's average run length
 *     ARL(G) = (exp(2kb) - 2kb - 1) / (2 k^2), b = G + 1.166, halved for
 *     two sides: q = Qinv(1 / (2 ARL));
 *   - envelope: m, the deseasonalised value (y - S1 - S2) smoothed with
 *     a half-life of 1/64 day (at least 2 samples), against the range
 *     of m over the past week, kept as the extremes of blocks of a
 *     quarter day (at least 4 bins): the reference is the 28 closed
 *     blocks but the two newest (so the last 6 to 12 hours are not yet
 *     normal), once it holds 4; q = u x / R, x how far m lies outside
 *     the reference range, R the median range of a reference block
 *     (floored at a quarter of the spread): a run starts when m leaves
 *     the week's range by one block range.  This sees a slow, sustained
 *     departure that the baseline and its spread would follow (a
 *     machine cooling over a day), which the level and shift detectors
 *     miss on a series with wide tails.
 *
 * Calibration (peaks over threshold, after Siffer et al., "Anomaly
 * detection in streams with extreme value theory", KDD 2017): for each
 * detector, runs of q above u = 2.5 are counted, and the maxima of the
 * runs fitted by a generalised Pareto distribution (moments, shape in
 * [-0.25, 0.9]); the rate and the excess moments start from the
 * Gaussian's (a prior worth three runs) and forget with a half-life of
 * four weeks of samples; a quarter of that weight is kept when the
 * periods in use change.  P(q) is the resulting rate of runs reaching q
 * per sample (below u, the Gaussian tail bent to meet the fitted rate),
 * never below half the Gaussian's.  On heavy-tailed or autocorrelated
 * real data the tail is learnt, so the statement below still holds.
 * With N the samples in a week (604800 s over the typical step) and the
 * D = 3 detectors sharing the budget:
 *
 *   A_i = 1 / P_i(q_i),  d_i = A_i / (A_i + D N),  drift = max d_i
 *
 * drift >= 0.5 exactly when a detector is at a level it reaches by
 * chance once in D N samples: on a series that keeps to its baseline,
 * drift >= 0.5 occurs in at most about one episode per week of data.
 * In general d = A / (A + DN) is the odds of "rarer than the budget":
 * 0.9 is nine times rarer, 0.1 nine times more common.  Checked by
 * tests/unit/test-profile.c on Gaussian-residual day + week data (0.2
 * to 4 episodes a week required; 0.59 measured at 5-minute samples,
 * 0.67 at 1-minute: the
 * envelope seldom fires on such data, so the budget is not all used),
 * and for speed once the week is learnt: a shift of 5 noise sds reaches
 * 0.5 on its first sample (at most the second), of 4 by the second (at
 * most the third), of 3 by about the third (at most the sixth), up or
 * down; of 2, by about the eighth.
 *
 * After an alarm (drift >= 0.5) the change detector restarts: for the
 * next `relearn` samples the detectors rest, the level is the alarm's
 * plus the median of the residuals since (a spike leaves it unchanged, a
 * sustained shift moves it at once), the score holds at the alarm's
 * while the departure persists (that median on the alarm's side, at
 * least half its residual and a spread out; the side of the CUSUM for an
 * alarm of another detector), and once that lapses (for good) is the
 * larger of the alarm's, decaying by 0.45 a sample from there, and the
 * level detector's view of
 * the residual against the alarm-time baseline; at the end sigma is
 * raised to the MAD of those residuals if larger.  The envelope counts
 * the smoothed value and the new level of the alarm and its relearning
 * as seen until their block enters the reference.  One change gives one
 * episode, then the baseline follows the new normal.
 *
 * Input hygiene: NaN and inf values are counted and skipped; values are
 * clamped to +-1e300 so that no difference overflows; a time before the
 * previous one is ignored and counted, one that cannot be binned is
 * counted as missing; after a gap of six typical steps the innovation
 * starts afresh; the spread is floored at 1e-12, 1e-9 |L| and 1 % of the
 * mean absolute residual, so a constant series gives finite z; every
 * output is clamped finite.
 *
 * Cost: about 0.2 us per sample (a few divisions, erfc, pow, exp and
 * an inverse normal; the envelope adds 0.05 us, its reference being
 * refreshed once a block); detection and refit every `redetect` bins
 * (default a day, at least 512) take 0.5 to 3 ms on 4096 cells, 1 to 3
 * us a sample amortised.  Memory: 4 bytes per history cell and per knot
 * (8 for the first period), and 0.5 KB for the envelope: about 28 KB
 * with day and week in use, at 5- or 1-minute bins alike (4096 cells; a
 * cell is 5 bins at 1 minute).
 */
#include "risk/profile.h"

#include <float.h>
#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/order.h"

#define PROF_DAY_S 86400.0
#define PROF_WEEK_S 604800.0
#define PROF_MAX_CELLS 4096     /* history ring capacity, cells */
#define PROF_WARMUP 16          /* samples before the first estimates */
#define PROF_HUBER 2.5          /* winsorising of the baseline updates */
#define PROF_SCALE_C 3.0        /* winsorising of the scale update */
#define PROF_ZMAX 50.0          /* |z| reported at most */
#define PROF_CUSUM_K 0.5        /* CUSUM reference, spreads */
#define PROF_CUSUM_CLIP 8.0     /* CUSUM increments at most, spreads */
#define PROF_AR_CLIP 3.0        /* winsorising for the autocorrelation */
#define PROF_PHI_MAX 0.95       /* largest lag-1 autocorrelation used */
#define PROF_INNOV_C 4.0        /* winsorising of the innovation scale */
#define PROF_TAIL_U 2.5         /* threshold of the Pareto tail */
#define PROF_TAIL_PRIOR 3.0     /* prior runs of the tail fit */
#define PROF_XI_MIN -0.25       /* lightest tail shape */
#define PROF_XI_MAX 0.9         /* heaviest tail shape */
#define PROF_TAIL_KEEP_NEW 0.25 /* calibration kept when the model changes */
#define PROF_TAIL_WEEKS 4.0     /* half-life of the tail statistics */
#define PROF_FMAX 20.0          /* largest per-knot spread factor */
#define PROF_GAP 6.0            /* a gap, in typical sampling steps */
#define PROF_DECAY 0.45         /* score decay per sample after an alarm */
#define PROF_PERSIST 0.5        /* share of its departure that persists */
#define PROF_RELEARN_MAX 32     /* longest relearning */
#define PROF_EVENT_Z 3.0        /* an event's offset, spreads */
#define PROF_EVENT_SHARE 16     /* an event lasts at most 1/16 of a period */
#define PROF_PERIOD_RATIO 1.5   /* least ratio of two periods in use */
#define PROF_POOL 2             /* knots either side pooled in a refit */
#define PROF_JITTER 48          /* a job's start jitters by 1/48 period */
#define PROF_FIXED_OF 5    /* a short job's knots hit in all but 1 cycle of 5 */
#define PROF_ENV_BLOCKS 28 /* envelope: blocks of reference (a week) */
#define PROF_ENV_PER_DAY 4 /* envelope blocks per day */
#define PROF_ENV_MIN 4     /* reference blocks before it reports */
#define PROF_ENV_RECENT 2  /* newest closed blocks not in the reference */
#define PROF_ENV_SMOOTH 64 /* its smoothing half-life: 1/64 day */

/* The detectors (file comment, "Drift"). */
enum { PROF_DET_LEVEL, PROF_DET_SHIFT, PROF_DET_RANGE, PROF_NDET };

/* Peaks over threshold of one detector's statistic q (file comment). */
typedef struct {
    double n;       /* samples (discounted) */
    double runs;    /* runs of q above the threshold (discounted) */
    double s1, s2;  /* sums of the runs' maximal excess, and squares */
    double run_max; /* maximum of the run in progress */
    bool in_run;
} ProfTail;

/* One seasonal component of the baseline. */
typedef struct {
    int period;   /* bins */
    int knots;    /* offsets per cycle */
    float *s;     /* offset per knot, not centred */
    float *f;     /* spread factor per knot (first component only) */
    double sum;   /* sum of s, to centre it */
    double gamma; /* update rate per sample */
} ProfSeason;

struct RiskProfile {
    RiskProfileOptions o;

    /* Rhythms: the history ring and the periods found in it. */
    int cell;            /* bins per history cell */
    size_t ncells;       /* ring capacity */
    float *hist;         /* cell means, NAN = no sample */
    size_t hist_len;     /* cells held */
    size_t hist_head;    /* where the next closed cell goes */
    int64_t cell_cur;    /* absolute index of the open cell */
    double cell_mean;    /* its running mean */
    size_t cell_cnt;     /* its samples */
    size_t since_detect; /* bins closed since the last detection */
    int64_t cells_seen;  /* cells closed since the first sample */
    RiskPeriod found[RISK_MAX_PERIODS]; /* last detection, bins */
    size_t nfound;
    ProfSeason season[2]; /* in use, shortest first */
    size_t nseason;
    int pending[2]; /* a proposed change of the periods in use */
    size_t npending;
    bool have_pending;

    /* Time. */
    bool have_t;
    double last_t; /* last accepted time */
    double dt;     /* typical sampling step, seconds */
    int64_t bin_first;

    /* Warm-up. */
    double warm[PROF_WARMUP];
    size_t nwarm;
    bool warm_done;

    /* Baseline and its rates. */
    double level;
    double sigma;     /* Huber scale of residual / F */
    double mean_abs;  /* mean absolute residual, for the floor */
    double alpha;     /* level rate per sample */
    double lambda;    /* scale rate per sample */
    double tail_rate; /* tail statistics' forgetting per sample */

    /* Short-term dependence and innovations. */
    double c00, c01; /* lag-0 and lag-1 moments of the winsorised z */
    double phi;
    double zw_prev;
    bool zw_prev_ok;
    double s_e; /* robust scale of the innovations */

    /* Detectors and their calibration. */
    double gpos, gneg;
    double ebias; /* mean of the standardised innovations */
    ProfTail tail[PROF_NDET];
    double tail_p0, tail_m1, tail_m2; /* Gaussian rate and excess moments */

    /* Envelope detector: the smoothed deseasonalised value against the
     * range of the past week's blocks. */
    double env_beta; /* smoothing rate per sample */
    double env_m;    /* the smoothed value */
    bool env_have_m;
    int64_t env_block_bins; /* bins per block */
    int64_t env_blk;        /* index of the open block */
    bool env_cur_any;
    double env_cur_lo, env_cur_hi; /* the open block's extremes */
    double env_lo[PROF_ENV_BLOCKS], env_hi[PROF_ENV_BLOCKS]; /* closed,
                                                              * NAN = empty */
    size_t env_head, env_len;
    bool env_ref_ok;               /* enough reference blocks */
    double env_ref_lo, env_ref_hi; /* reference range */
    double env_ref_rng;            /* median block range */
    bool env_alarm;                /* an alarm's extremes in force */
    double env_alarm_lo, env_alarm_hi;
    int64_t env_alarm_blk;

    /* Relearning after an alarm. */
    int relearn_left;
    size_t nrel;
    double rel[PROF_RELEARN_MAX];
    double level_alarm;
    double r_alarm; /* the alarm's departure (signed) */
    size_t held;    /* samples the score was held at the peak */
    bool lapsed;    /* the departure stopped persisting */
    double peak;

    RiskDrift d;
};

static double
kappa(double c)
{
    return sqrt(2 / M_PI) * (1 - exp(-c * c / 2)) + c * erfc(c / M_SQRT2);
}

static int64_t
floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;

    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int64_t
pos_mod(int64_t a, int64_t b)
{
    int64_t r = a % b;

    return r < 0 ? r + b : r;
}

void
risk_profile_options_init(RiskProfileOptions *o, double bin_s)
{
    long day, week;
    size_t n = 0;
    int longest = 0;

    memset(o, 0, sizeof(*o));
    if (!(bin_s > 0) || !isfinite(bin_s)) {
        bin_s = 60;
    }
    o->bin_s = bin_s;
    day = lround(PROF_DAY_S / bin_s);
    week = lround(PROF_WEEK_S / bin_s);
    if (day >= 2 && day <= INT_MAX / 4) {
        o->candidates[n++] = (int) day;
    }
    if (week >= 2 && week <= INT_MAX / 4) {
        o->candidates[n++] = (int) week;
    }
    for (size_t i = 0; i < n; i++) {
        longest = MAX(longest, o->candidates[i]);
    }
    o->max_period = MAX(longest, 4);
    o->history = 2 * (size_t) o->max_period;
    o->history = MAX(o->history, PROF_MAX_CELLS);
    o->min_history = MAX(n > 0 ? (size_t) o->candidates[0] / 4 : 0, 32);
    o->redetect = MAX(n > 0 ? (size_t) o->candidates[0] : 0, 512);
    o->half_life_s = 0;
    o->level_half_life_s = 0;
    o->relearn = 8;
}

/* Checks @o; returns: false with RISK_ERROR_INVALID when inconsistent. */
static bool
profile_options_check(const RiskProfileOptions *o, GError **error)
{
    const char *bad = NULL;

    if (!(o->bin_s > 0) || !isfinite(o->bin_s)) {
        bad = "bin_s must be positive";
    } else if (o->max_period < 2) {
        bad = "max_period must be at least 2";
    } else if (o->history < 16 || o->history > ((size_t) 1 << 30)) {
        bad = "history must be between 16 and 2^30 bins";
    } else if (o->redetect < 1) {
        bad = "redetect must be at least 1";
    } else if (o->half_life_s < 0 || !isfinite(o->half_life_s) ||
               o->level_half_life_s < 0 || !isfinite(o->level_half_life_s)) {
        bad = "half-lives must be positive (or 0 for the default)";
    } else if (o->relearn < 0 || o->relearn > PROF_RELEARN_MAX) {
        bad = "relearn must be between 0 and 32";
    }
    for (size_t i = 0; !bad && i < RISK_MAX_PERIODS && o->candidates[i]; i++) {
        if (o->candidates[i] < 2) {
            bad = "candidate periods must be at least 2 bins";
        }
    }
    if (bad) {
        g_set_error(error, RISK_ERROR, RISK_ERROR_INVALID, "profile: %s", bad);
        return false;
    }
    return true;
}

static void
profile_season_clear(ProfSeason *s)
{
    g_clear_pointer(&s->s, g_free);
    g_clear_pointer(&s->f, g_free);
    s->period = s->knots = 0;
    s->sum = 0;
}

void
risk_profile_free(RiskProfile *p)
{
    if (!p) {
        return;
    }
    profile_season_clear(&p->season[0]);
    profile_season_clear(&p->season[1]);
    g_free(p->hist);
    g_free(p);
}

RiskProfile *
risk_profile_new(const RiskProfileOptions *o, GError **error)
{
    RiskProfileOptions def;
    g_autoptr(RiskProfile) p = NULL;
    double u = PROF_TAIL_U, mills;

    if (!o) {
        risk_profile_options_init(&def, 60);
        o = &def;
    }
    if (!profile_options_check(o, error)) {
        return NULL;
    }
    p = g_new0(RiskProfile, 1);
    p->o = *o;
    p->cell = (int) ((o->history + PROF_MAX_CELLS - 1) / PROF_MAX_CELLS);
    p->ncells = (o->history + (size_t) p->cell - 1) / (size_t) p->cell;
    p->hist = g_new(float, p->ncells);
    p->dt = o->bin_s;
    p->c00 = 1;
    p->s_e = 1;
    /* The Gaussian tail beyond u: the rate of exceedances (runs of one
     * sample for an iid statistic) and the excess' first two moments
     * (from the inverse Mills ratio), the prior of every fit. */
    p->tail_p0 = erfc(u / M_SQRT2);
    mills = exp(-u * u / 2) / sqrt(2 * M_PI) / (p->tail_p0 / 2);
    p->tail_m1 = mills - u;
    p->tail_m2 = 1 - u * mills + u * u;
    p->env_block_bins =
        MAX(4, llround(PROF_DAY_S / PROF_ENV_PER_DAY / o->bin_s));
    p->d.learning = true;
    return g_steal_pointer(&p);
}

/* Samples in a week at the typical step. */
static double
profile_week_samples(const RiskProfile *p)
{
    return MAX(PROF_WEEK_S / p->dt, 16);
}

/* Per-sample rates from the half-lives and the typical step. */
static void
profile_rates(RiskProfile *p)
{
    double lhl =
        p->o.level_half_life_s > 0 ? p->o.level_half_life_s : PROF_DAY_S;
    double shl = p->o.half_life_s, longest = 0;

    p->alpha = 1 - exp2(-p->dt / lhl);
    p->lambda = p->alpha;
    p->env_beta = 1 - exp2(-1 / MAX(PROF_DAY_S / PROF_ENV_SMOOTH / p->dt, 2));
    p->tail_rate = 1 - exp2(-1 / (PROF_TAIL_WEEKS * profile_week_samples(p)));
    for (size_t j = 0; j < p->nseason; j++) {
        longest = MAX(longest, p->season[j].period * p->o.bin_s);
    }
    if (!(shl > 0)) {
        shl = 3 * longest;
    }
    for (size_t j = 0; j < p->nseason; j++) {
        ProfSeason *s = &p->season[j];
        double cycles = shl / (s->period * p->o.bin_s);
        double knot_s = s->period * p->o.bin_s / s->knots;
        double per_visit = MAX(knot_s / p->dt, 1);

        /* gamma per visit 1 - 2^(-1 / cycles), shared by the visit's
         * samples. */
        s->gamma = 1 - exp2(-1 / (cycles * per_visit));
    }
}

static int
profile_knot(const ProfSeason *s, int64_t bin)
{
    return (int) (pos_mod(bin, s->period) * s->knots / s->period);
}

/* The centred seasonal offsets at @bin. */
static double
profile_seasonal(const RiskProfile *p, int64_t bin)
{
    double v = 0;

    for (size_t j = 0; j < p->nseason; j++) {
        const ProfSeason *s = &p->season[j];

        v += s->s[profile_knot(s, bin)] - s->sum / s->knots;
    }
    return v;
}

static double
profile_factor(const RiskProfile *p, int64_t bin)
{
    if (p->nseason == 0) {
        return 1;
    }
    return MAX(1, p->season[0].f[profile_knot(&p->season[0], bin)]);
}

static double
profile_spread(const RiskProfile *p, double factor)
{
    double floor_ = MAX(1e-12, MAX(1e-9 * fabs(p->level), 0.01 * p->mean_abs));

    return MAX(p->sigma, floor_) * factor;
}

/* The history as a chronological array (NAN = missing). */
static double *
profile_history(const RiskProfile *p)
{
    double *y = g_new(double, MAX(p->hist_len, 1));
    size_t start = (p->hist_head + p->ncells - p->hist_len) % p->ncells;

    for (size_t i = 0; i < p->hist_len; i++) {
        y[i] = p->hist[(start + i) % p->ncells];
    }
    return y;
}

/* Absolute first bin of the @i-th oldest history cell. */
static int64_t
profile_history_bin(const RiskProfile *p, size_t i)
{
    return (p->cell_cur - (int64_t) p->hist_len + (int64_t) i) * p->cell;
}

/* The history and each cell's knot, for a refit. */
typedef struct {
    double *y; /* history, chronological (n) */
    size_t n;
    int *knot[2]; /* knot of each cell per component (n) */
    double base;  /* median of y */
    double *vals; /* scratch (n) */
    double *pool; /* scratch (n) */
    int *start;   /* scratch (knots + 1) */
    int *fill;    /* scratch (knots) */
} ProfRefit;

/* The centred offsets of every component but @skip at cell @i. */
static double
profile_refit_others(const RiskProfile *p, const ProfRefit *w, size_t i,
                     size_t skip)
{
    double v = 0;

    for (size_t o = 0; o < p->nseason; o++) {
        if (o != skip) {
            v += p->season[o].s[w->knot[o][i]];
        }
    }
    return v;
}

/*
 * Offsets of component @j by medians across cycles of the history minus
 * the other components (values grouped by knot with a counting sort),
 * then centred.
 */
static void
profile_fit_component(RiskProfile *p, size_t j, ProfRefit *w)
{
    ProfSeason *s = &p->season[j];
    int *start = w->start, *fill = w->fill, *knot = w->knot[j];
    int pool = MIN(PROF_POOL, (s->knots - 1) / 2);
    double sum = 0;

    memset(start, 0, (s->knots + 1) * sizeof(*start));
    memset(fill, 0, s->knots * sizeof(*fill));
    for (size_t i = 0; i < w->n; i++) {
        if (isfinite(w->y[i])) {
            start[knot[i] + 1]++;
        }
    }
    for (int k = 0; k < s->knots; k++) {
        start[k + 1] += start[k];
    }
    for (size_t i = 0; i < w->n; i++) {
        if (isfinite(w->y[i])) {
            w->vals[start[knot[i]] + fill[knot[i]]++] =
                w->y[i] - w->base - profile_refit_others(p, w, i, j);
        }
    }
    /* Each knot's median pools its neighbours': seasonal shapes are
     * smooth at this scale, and a run of PROF_POOL + 1 knots or more (a
     * 15-minute job at 5-minute bins) keeps its edges. */
    for (int k = 0; k < s->knots; k++) {
        size_t m = 0;

        for (int d = -pool; d <= pool; d++) {
            int kk = ((k + d) % s->knots + s->knots) % s->knots;

            memcpy(w->pool + m, w->vals + start[kk],
                   (size_t) fill[kk] * sizeof(double));
            m += (size_t) fill[kk];
        }
        s->s[k] = (float) util_median_inplace(w->pool, m);
    }
    /* Knots never seen take their neighbour's value. */
    for (int pass = 0; pass < 2; pass++) {
        for (int k = 0; k < s->knots; k++) {
            if (fill[k] == 0 && fill[(k + s->knots - 1) % s->knots] > 0) {
                s->s[k] = s->s[(k + s->knots - 1) % s->knots];
                fill[k] = 1;
            }
        }
    }
    for (int k = 0; k < s->knots; k++) {
        sum += s->s[k];
    }
    for (int k = 0; k < s->knots; k++) {
        s->s[k] -= (float) (sum / s->knots);
    }
    s->sum = 0;
}

/* The jitter window of a component of @knots, in knots either side:
 * PROF_JITTER of its period, at least PROF_POOL, less than half of it. */
static int
profile_jitter_knots(int knots)
{
    return MIN(MAX(PROF_POOL, knots / PROF_JITTER), (knots - 1) / 2);
}

/*
 * Spread factors of the first component.  Each cell's |residual| is
 * first widened to the largest within PROF_JITTER of it, so a recurring
 * job whose start jitters from one cycle to the next (a nightly job at
 * 03:05 one day, 03:35 the next) shows at the same knots on every cycle;
 * then per knot the median of these across cycles (pooled with the
 * PROF_POOL knots either side), over the median of them all.  A departure seen
 * on one cycle moves no median: it does not make its phase look noisy.
 */
static void
profile_fit_factors(RiskProfile *p, ProfRefit *w)
{
    ProfSeason *s = &p->season[0];
    int *start = w->start, *fill = w->fill, *knot = w->knot[0];
    int pool = MIN(PROF_POOL, (s->knots - 1) / 2);
    int jit = profile_jitter_knots(s->knots);
    g_autofree double *r = g_new(double, MAX(w->n, 1));
    size_t nres = 0;
    double scale;

    for (size_t i = 0; i < w->n; i++) {
        r[i] =
            fabs(w->y[i] - w->base - profile_refit_others(p, w, i, SIZE_MAX));
    }
    memset(start, 0, (s->knots + 1) * sizeof(*start));
    memset(fill, 0, s->knots * sizeof(*fill));
    for (size_t i = 0; i < w->n; i++) {
        double m = NAN;

        if (!isfinite(r[i])) {
            continue;
        }
        for (size_t d = i > (size_t) jit ? i - (size_t) jit : 0;
             d <= MIN(w->n - 1, i + (size_t) jit); d++) {
            if (isfinite(r[d]) && !(r[d] <= m)) {
                m = r[d];
            }
        }
        w->pool[nres++] = m;
        start[knot[i] + 1]++;
    }
    for (int k = 0; k < s->knots; k++) {
        start[k + 1] += start[k];
    }
    nres = 0;
    for (size_t i = 0; i < w->n; i++) {
        if (isfinite(r[i])) {
            w->vals[start[knot[i]] + fill[knot[i]]++] = w->pool[nres++];
        }
    }
    memcpy(w->pool, w->vals, nres * sizeof(double));
    scale = util_median_inplace(w->pool, nres);
    for (int k = 0; k < s->knots; k++) {
        size_t m = 0;
        double f = 1;

        for (int d = -pool; d <= pool; d++) {
            int kk = ((k + d) % s->knots + s->knots) % s->knots;

            memcpy(w->pool + m, w->vals + start[kk],
                   (size_t) fill[kk] * sizeof(double));
            m += (size_t) fill[kk];
        }
        if (m > 0 && scale > 0) {
            f = util_median_inplace(w->pool, m) / scale;
        }
        s->f[k] = (float) CLAMP(f, 0, PROF_FMAX);
    }
}

/*
 * Refits the offsets and spread factors from the history (file comment,
 * "Rhythms"); the level too when @set_level.
 */
static void
profile_refit(RiskProfile *p, bool set_level)
{
    ProfRefit w = {0};
    size_t n = p->hist_len, nv = 0, last;
    int maxk = 1;
    g_autofree int *knots = NULL;
    g_autofree int *start = NULL;
    g_autofree int *fill = NULL;
    g_autofree double *vals = NULL;
    g_autofree double *y = NULL;

    if (p->nseason == 0 || n == 0) {
        return;
    }
    y = profile_history(p);
    vals = g_new(double, 2 * n);
    w.pool = vals + n;
    knots = g_new(int, 2 * n);
    w.y = y;
    w.n = n;
    w.vals = vals;
    for (size_t j = 0; j < p->nseason; j++) {
        const ProfSeason *s = &p->season[j];

        w.knot[j] = knots + j * n;
        for (size_t i = 0; i < n; i++) {
            w.knot[j][i] = profile_knot(s, profile_history_bin(p, i));
        }
        maxk = MAX(maxk, s->knots);
        memset(p->season[j].s, 0, s->knots * sizeof(float));
        p->season[j].sum = 0;
    }
    start = g_new(int, maxk + 1);
    fill = g_new(int, maxk);
    w.start = start;
    w.fill = fill;
    for (size_t i = 0; i < n; i++) {
        if (isfinite(y[i])) {
            vals[nv++] = y[i];
        }
    }
    w.base = util_median_inplace(vals, nv);
    for (int it = 0; it < 2; it++) {
        for (size_t j = 0; j < p->nseason; j++) {
            profile_fit_component(p, j, &w);
        }
    }
    profile_fit_factors(p, &w);
    if (!set_level) {
        return;
    }
    /* The level: the median deseasonalised value over the last cycle. */
    last = MIN(n, (size_t) ((p->season[0].period + p->cell - 1) / p->cell));
    nv = 0;
    for (size_t i = n - last; i < n; i++) {
        if (isfinite(y[i])) {
            vals[nv++] = y[i] - profile_refit_others(p, &w, i, SIZE_MAX);
        }
    }
    if (nv > 0) {
        p->level = util_median_inplace(vals, nv);
    }
}

/* Forgets the envelope detector's reference (file comment, "Drift"). */
static void
profile_env_reset(RiskProfile *p)
{
    p->env_have_m = false;
    p->env_cur_any = false;
    p->env_head = p->env_len = 0;
    p->env_ref_ok = false;
    p->env_alarm = false;
}

/* The reference of the envelope: the closed blocks but the
 * PROF_ENV_RECENT newest. */
static void
profile_env_reference(RiskProfile *p)
{
    double rng[PROF_ENV_BLOCKS], lo = INFINITY, hi = -INFINITY;
    size_t n = 0;

    for (size_t i = PROF_ENV_RECENT; i < p->env_len; i++) {
        size_t k = (p->env_head + PROF_ENV_BLOCKS - 1 - i) % PROF_ENV_BLOCKS;

        if (isfinite(p->env_lo[k])) {
            lo = MIN(lo, p->env_lo[k]);
            hi = MAX(hi, p->env_hi[k]);
            rng[n++] = p->env_hi[k] / 2 - p->env_lo[k] / 2;
        }
    }
    p->env_ref_ok = n >= PROF_ENV_MIN;
    if (p->env_ref_ok) {
        p->env_ref_lo = lo;
        p->env_ref_hi = hi;
        p->env_ref_rng = 2 * util_median_inplace(rng, n);
    }
}

/* Closes the open block and any empty ones up to @blk. */
static void
profile_env_advance(RiskProfile *p, int64_t blk)
{
    int64_t steps = MIN(blk - p->env_blk, PROF_ENV_BLOCKS);

    for (int64_t i = 0; i < steps; i++) {
        bool any = i == 0 && p->env_cur_any;

        p->env_lo[p->env_head] = any ? p->env_cur_lo : NAN;
        p->env_hi[p->env_head] = any ? p->env_cur_hi : NAN;
        p->env_head = (p->env_head + 1) % PROF_ENV_BLOCKS;
        p->env_len = MIN(p->env_len + 1, PROF_ENV_BLOCKS);
    }
    p->env_blk = blk;
    p->env_cur_any = false;
    profile_env_reference(p);
}

/*
 * The envelope detector on the sample @value at @bin: returns how far the
 * smoothed deseasonalised value lies outside the reference range, in
 * median block ranges (0 inside or without a reference).
 */
static double
profile_env_update(RiskProfile *p, int64_t bin, double value)
{
    int64_t blk = floor_div(bin, p->env_block_bins);
    double v = value - profile_seasonal(p, bin), lo, hi, rng, x;

    if (!p->env_have_m) {
        p->env_m = v;
        p->env_have_m = true;
        p->env_blk = blk;
    } else {
        if (blk > p->env_blk) {
            profile_env_advance(p, blk);
        }
        p->env_m += p->env_beta * (v - p->env_m);
    }
    p->env_m = CLAMP(p->env_m, -1e300, 1e300);
    p->env_cur_lo = p->env_cur_any ? MIN(p->env_cur_lo, p->env_m) : p->env_m;
    p->env_cur_hi = p->env_cur_any ? MAX(p->env_cur_hi, p->env_m) : p->env_m;
    p->env_cur_any = true;
    if (p->env_alarm && blk > p->env_alarm_blk + PROF_ENV_RECENT) {
        p->env_alarm = false;
    }
    if (!p->env_ref_ok) {
        return 0;
    }
    lo = p->env_ref_lo;
    hi = p->env_ref_hi;
    if (p->env_alarm) {
        lo = MIN(lo, p->env_alarm_lo);
        hi = MAX(hi, p->env_alarm_hi);
    }
    rng = MAX(p->env_ref_rng, 0.25 * profile_spread(p, 1));
    x = MAX(lo / 2 - p->env_m / 2, p->env_m / 2 - hi / 2) * 2 / rng;
    return isnan(x) ? 0 : CLAMP(x, 0, PROF_ZMAX);
}

/* An alarm: @v (deseasonalised) joins the envelope until its block is
 * in the reference. */
static void
profile_env_alarm(RiskProfile *p, double v)
{
    if (!p->env_have_m || !isfinite(v)) {
        return;
    }
    p->env_alarm_lo = p->env_alarm ? MIN(p->env_alarm_lo, v) : v;
    p->env_alarm_hi = p->env_alarm ? MAX(p->env_alarm_hi, v) : v;
    p->env_alarm = true;
    p->env_alarm_blk = p->env_blk;
}

/* Switches to the periods @per (bins, ascending) and refits. */
static void
profile_use_periods(RiskProfile *p, const int *per, size_t nper)
{
    profile_season_clear(&p->season[0]);
    profile_season_clear(&p->season[1]);
    p->nseason = nper;
    for (size_t j = 0; j < nper; j++) {
        ProfSeason *s = &p->season[j];

        s->period = per[j];
        s->knots = (per[j] + p->cell - 1) / p->cell;
        s->s = g_new0(float, s->knots);
        if (j == 0) {
            s->f = g_new(float, s->knots);
            for (int k = 0; k < s->knots; k++) {
                s->f[k] = 1;
            }
        }
    }
    profile_rates(p);
    profile_refit(p, true);
    /* The envelope was of the old deseasonalised values. */
    profile_env_reset(p);
    /* The calibration described the old model's residuals: it keeps a
     * quarter of its weight. */
    for (int i = 0; i < PROF_NDET; i++) {
        ProfTail *t = &p->tail[i];
        double keep = PROF_TAIL_KEEP_NEW;

        t->n *= keep;
        t->runs *= keep;
        t->s1 *= keep;
        t->s2 *= keep;
    }
}

/* Runs the period detection on the history and adopts its result. */
static void
profile_detect(RiskProfile *p)
{
    g_autofree double *y = profile_history(p);
    int cand[RISK_MAX_PERIODS] = {0}, per[2];
    RiskPeriod found[RISK_MAX_PERIODS];
    size_t nc = 0, nf, nper = 0;
    bool same;

    for (size_t i = 0; i < RISK_MAX_PERIODS && p->o.candidates[i]; i++) {
        int c = (p->o.candidates[i] + p->cell / 2) / p->cell;

        if (c >= 2) {
            cand[nc++] = c;
        }
    }
    nf = risk_periods_detect(y, p->hist_len, cand,
                             MAX(p->o.max_period / p->cell, 2), found,
                             RISK_MAX_PERIODS);
    for (size_t i = 0; i < nf; i++) {
        int bins = found[i].period * p->cell;

        for (size_t c = 0; found[i].candidate && c < nc; c++) {
            if (cand[c] == found[i].period) {
                bins = p->o.candidates[c];
            }
        }
        found[i].period = bins;
    }
    memcpy(p->found, found, nf * sizeof(*found));
    p->nfound = nf;

    /* The two strongest, unless nearly equal (beating components). */
    for (size_t i = 0; i < nf && nper < 2; i++) {
        if (nper == 0 || MAX(per[0], found[i].period) >=
                             PROF_PERIOD_RATIO * MIN(per[0], found[i].period)) {
            per[nper++] = found[i].period;
        }
    }
    if (nper == 2 && per[0] > per[1]) {
        int t = per[0];

        per[0] = per[1];
        per[1] = t;
    }
    same = nper == p->nseason;
    for (size_t j = 0; same && j < nper; j++) {
        same = per[j] == p->season[j].period;
    }
    if (same) {
        p->have_pending = false;
        profile_refit(p, false);
        return;
    }
    if (p->nseason == 0 ||
        (p->have_pending && p->npending == nper &&
         memcmp(p->pending, per, nper * sizeof(*per)) == 0)) {
        p->have_pending = false;
        profile_use_periods(p, per, nper);
        return;
    }
    p->have_pending = true;
    p->npending = nper;
    memcpy(p->pending, per, nper * sizeof(*per));
}

/* Has the history just become long enough to show a candidate twice
 * (after growing by @steps cells)? */
static bool
profile_history_milestone(const RiskProfile *p, int64_t steps)
{
    for (size_t i = 0; i < RISK_MAX_PERIODS && p->o.candidates[i]; i++) {
        int64_t need =
            2 * (((int64_t) p->o.candidates[i] + p->cell - 1) / p->cell);

        if (p->cells_seen >= need && p->cells_seen - steps < need) {
            return true;
        }
    }
    return false;
}

/* Closes the open cell and any empty ones up to @cell. */
static void
profile_history_advance(RiskProfile *p, int64_t cell)
{
    int64_t steps = cell - p->cell_cur;
    int64_t fill = MIN(steps, (int64_t) p->ncells + 1);

    for (int64_t i = 0; i < fill; i++) {
        float v = NAN;

        if (i == 0 && p->cell_cnt > 0) {
            v = (float) CLAMP(p->cell_mean, -FLT_MAX, FLT_MAX);
        }
        p->hist[p->hist_head] = v;
        p->hist_head = (p->hist_head + 1) % p->ncells;
        p->hist_len = MIN(p->hist_len + 1, p->ncells);
    }
    p->cells_seen = MIN(p->cells_seen + steps, INT64_MAX / 4);
    p->cell_cur = cell;
    p->cell_mean = 0;
    p->cell_cnt = 0;
    p->since_detect +=
        (size_t) MIN(steps, (int64_t) p->ncells) * (size_t) p->cell;
    if (p->hist_len >= 16 && (p->since_detect >= p->o.redetect ||
                              profile_history_milestone(p, steps))) {
        p->since_detect = 0;
        profile_detect(p);
    }
}

/* Median and MAD-based warm-up of the level and spread. */
static void
profile_warm_init(RiskProfile *p)
{
    double v[PROF_WARMUP], med;
    size_t n = p->nwarm, nz = 0;

    memcpy(v, p->warm, n * sizeof(*v));
    med = util_median_inplace(v, n);
    /* The median non-zero deviation: the MAD unless most values are
     * equal (then the typical size of a departure, or 0 if none). */
    for (size_t i = 0; i < n; i++) {
        double d = fabs(p->warm[i] / 2 - med / 2) * 2;

        if (d > 0) {
            v[nz++] = MIN(d, DBL_MAX / 4);
        }
    }
    p->level = med;
    p->sigma = util_median_inplace(v, nz) / 0.6744897501960817;
    p->mean_abs = p->sigma * sqrt(2 / M_PI);
    p->warm_done = true;
    profile_rates(p);
}

/*
 * Rate per sample of runs of the statistic reaching @q, for the tail @t
 * (file comment, "Calibration").
 */
static double
profile_tail_p(const RiskProfile *p, const ProfTail *t, double q)
{
    double n0 = PROF_TAIL_PRIOR / p->tail_p0;
    double pu = (t->runs + PROF_TAIL_PRIOR) / (t->n + n0);
    double m1 =
        (t->s1 + PROF_TAIL_PRIOR * p->tail_m1) / (t->runs + PROF_TAIL_PRIOR);
    double m2 =
        (t->s2 + PROF_TAIL_PRIOR * p->tail_m2) / (t->runs + PROF_TAIL_PRIOR);
    double var = MAX(m2 - m1 * m1, 1e-12), xi, beta, y, pr;
    double nominal = erfc(q / M_SQRT2);

    pu = MAX(pu, p->tail_p0 / 2);
    if (q <= PROF_TAIL_U) {
        /* From 1 at q = 0 to pu at u, shaped like the Gaussian. */
        pr = pow(nominal, log(pu) / log(p->tail_p0));
    } else {
        /* Generalised Pareto by moments (Hosking & Wallis 1987). */
        xi = CLAMP(0.5 * (1 - m1 * m1 / var), PROF_XI_MIN, PROF_XI_MAX);
        y = q - PROF_TAIL_U;
        if (fabs(xi) <= 1e-6) {
            pr = pu * exp(-y / MAX(m1, 1e-6));
        } else {
            beta = MAX(0.5 * m1 * (m1 * m1 / var + 1), 1e-6);
            /* A light tail (xi < 0) ends at u + beta / -xi. */
            pr = pu * pow(MAX(1 + xi * y / beta, 0), -1 / xi);
        }
    }
    /* Never more than twice as sensitive as the nominal calibration. */
    return CLAMP(MAX(pr, nominal / 2), 0, 1);
}

static void
profile_tail_update(RiskProfile *p, ProfTail *t, double q)
{
    double keep = 1 - p->tail_rate;

    t->n = keep * t->n + 1;
    t->runs *= keep;
    t->s1 *= keep;
    t->s2 *= keep;
    if (q > PROF_TAIL_U) {
        t->run_max = t->in_run ? MAX(t->run_max, q) : q;
        t->in_run = true;
    } else if (t->in_run) {
        double y = MIN(t->run_max - PROF_TAIL_U, 100);

        t->runs += 1;
        t->s1 += y;
        t->s2 += y * y;
        t->in_run = false;
    }
}

/* Siegmund's ARL of a one-sided CUSUM with threshold @h. */
static double
profile_cusum_arl(double h)
{
    double b = 2 * PROF_CUSUM_K * (h + 1.166);

    return (exp(b) - b - 1) / (2 * PROF_CUSUM_K * PROF_CUSUM_K);
}

/* The score of an average run length @arl (file comment). */
static double
profile_score(const RiskProfile *p, double arl)
{
    double n = PROF_NDET * profile_week_samples(p);

    if (!(arl > 0)) {
        return 0;
    }
    return CLAMP(arl / (arl + n), 0, 1);
}

/*
 * An alarm of score @drift on a sample of residual @r (@spread at its
 * phase): the detectors rest and the level is relearnt.  The departure's
 * side is that of @r, or when @r is within a spread (an alarm of the
 * change or envelope detector) that of the larger CUSUM side, a spread
 * out.
 */
static void
profile_relearn_start(RiskProfile *p, double drift, double r, double spread)
{
    p->relearn_left = p->o.relearn;
    p->nrel = 0;
    p->level_alarm = p->level;
    p->r_alarm = fabs(r) >= spread ? r : p->gpos >= p->gneg ? spread : -spread;
    p->held = 0;
    p->lapsed = false;
    p->peak = drift;
    p->gpos = p->gneg = 0;
    p->zw_prev_ok = false;
}

/* One sample while relearning: returns the (decaying) score. */
static double
profile_relearn_step(RiskProfile *p, double r0, double spread, double factor)
{
    double tmp[PROF_RELEARN_MAX], live, shift;

    p->rel[p->nrel++] = r0;
    memcpy(tmp, p->rel, p->nrel * sizeof(*tmp));
    shift = util_median_inplace(tmp, p->nrel);
    p->level = p->level_alarm + shift;
    p->relearn_left--;
    if (p->relearn_left == 0 && p->nrel >= 5) {
        double med = util_median_inplace(tmp, p->nrel), mad;

        for (size_t i = 0; i < p->nrel; i++) {
            tmp[i] = fabs(p->rel[i] - med);
        }
        mad = util_median_inplace(tmp, p->nrel) / 0.6744897501960817 / factor;
        p->sigma = MAX(p->sigma, mad);
    }
    if (p->relearn_left == 0) {
        p->gpos = p->gneg = 0;
        p->zw_prev_ok = false;
    }
    /* The departure persists while the median of the samples since the
     * alarm stays on its side, at least half as far out and a spread
     * out: the score holds (one noisy sample of a shift does not end the
     * episode and the next begin a second).  Once it lapses it decays
     * from there, never held again, but not below what the level
     * detector makes of the departure now. */
    if (!p->lapsed && shift * p->r_alarm > 0 &&
        fabs(shift) >= MAX(PROF_PERSIST * fabs(p->r_alarm), spread)) {
        p->held = p->nrel;
        return p->peak;
    }
    p->lapsed = true;
    live = profile_score(
        p, 1 / MAX(profile_tail_p(p, &p->tail[PROF_DET_LEVEL],
                                  MIN(fabs(r0) / spread, PROF_ZMAX)),
                   1e-300));
    return MAX(p->peak * pow(PROF_DECAY, (double) (p->nrel - p->held)), live);
}

/*
 * The detectors on the standardised residual @z (file comment, "Drift"):
 * updates their state and calibration, returns the drift score (0 while
 * @learning).
 */
static double
profile_detectors(RiskProfile *p, double z, double env, bool learning)
{
    double q[PROF_NDET], ez, ec, arl, drift = 0;

    /* The innovation, in units of its own robust scale, less its mean
     * (skewed residuals would otherwise drive the CUSUM). */
    ez = z - (p->zw_prev_ok ? p->phi * p->zw_prev : 0);
    ec = CLAMP(ez / p->s_e, -PROF_CUSUM_CLIP, PROF_CUSUM_CLIP) - p->ebias;
    p->ebias += p->lambda * ec;
    p->s_e +=
        p->lambda *
        (MIN(fabs(ez), PROF_INNOV_C * p->s_e) / kappa(PROF_INNOV_C) - p->s_e);
    p->s_e = MAX(p->s_e, 1e-3);

    p->gpos = MAX(0, p->gpos + ec - PROF_CUSUM_K);
    p->gneg = MAX(0, p->gneg - ec - PROF_CUSUM_K);
    arl = profile_cusum_arl(MAX(p->gpos, p->gneg)) / 2;

    /* Each statistic as the |z| with the same nominal rate. */
    q[PROF_DET_LEVEL] = fabs(z);
    q[PROF_DET_SHIFT] = gsl_cdf_ugaussian_Qinv(0.5 / CLAMP(arl, 1, 1e300));
    q[PROF_DET_RANGE] = MIN(PROF_TAIL_U * env, PROF_ZMAX);
    for (int i = 0; i < PROF_NDET; i++) {
        double pr = profile_tail_p(p, &p->tail[i], q[i]);

        drift = MAX(drift, profile_score(p, 1 / MAX(pr, 1e-300)));
        if (!learning && (i != PROF_DET_RANGE || p->env_ref_ok)) {
            profile_tail_update(p, &p->tail[i], q[i]);
        }
    }
    if (learning) {
        p->gpos = p->gneg = 0;
        return 0;
    }
    return drift;
}

/* Updates the baseline with the residual @r (@z in spreads) at @bin. */
static void
profile_learn(RiskProfile *p, int64_t bin, double r, double z, double spread,
              double factor)
{
    double psi = CLAMP(z, -PROF_HUBER, PROF_HUBER) * spread, zw;

    p->level += p->alpha * psi;
    for (size_t j = 0; j < p->nseason; j++) {
        ProfSeason *s = &p->season[j];
        int k = profile_knot(s, bin);

        s->s[k] += (float) (s->gamma * psi);
        s->sum += s->gamma * psi;
        if (s->f) {
            double fz = MIN(fabs(z) * factor, PROF_FMAX) / sqrt(2 / M_PI);

            s->f[k] += (float) (s->gamma * (fz - s->f[k]));
        }
    }
    p->sigma += p->lambda * (MIN(fabs(z), PROF_SCALE_C) * spread / factor /
                                 kappa(PROF_SCALE_C) -
                             p->sigma);
    p->mean_abs +=
        p->lambda * (MIN(fabs(r), 20 * MAX(p->mean_abs, spread)) - p->mean_abs);

    /* Short-term dependence: lag-1 autocorrelation of the winsorised z. */
    zw = CLAMP(z, -PROF_AR_CLIP, PROF_AR_CLIP);
    if (p->zw_prev_ok) {
        p->c01 += p->lambda * (zw * p->zw_prev - p->c01);
        p->c00 += p->lambda * (zw * zw - p->c00);
        p->phi = p->c00 > 1e-9 ? CLAMP(p->c01 / p->c00, 0, PROF_PHI_MAX) : 0;
    }
    p->zw_prev = zw;
    p->zw_prev_ok = true;
}

double
risk_profile_update(RiskProfile *p, double t_s, double value)
{
    double b, dt, e, factor, spread, r, z, drift, env;
    int64_t bin, cell;
    bool learning;

    g_return_val_if_fail(p != NULL, 0);

    if (!isfinite(t_s)) {
        p->d.missing++;
        return p->d.drift;
    }
    if (p->have_t && t_s < p->last_t) {
        p->d.backwards++;
        return p->d.drift;
    }
    b = floor(t_s / p->o.bin_s);
    if (!(fabs(b) < 4e18 / PROF_MAX_CELLS)) {
        p->d.missing++;
        return p->d.drift;
    }
    if (!isfinite(value)) {
        p->d.missing++;
        if (!p->have_t) {
            /* Learning counts from the first sample, known or not (the
             * first sample of a domain in umbrad has no rates yet). */
            p->bin_first = (int64_t) b;
            p->cell_cur = floor_div((int64_t) b, p->cell);
        }
        p->last_t = t_s;
        p->have_t = true;
        return p->d.drift;
    }
    value = CLAMP(value, -1e300, 1e300);
    bin = (int64_t) b;
    cell = floor_div(bin, p->cell);
    dt = p->have_t ? t_s - p->last_t : p->dt;
    if (!p->have_t) {
        p->bin_first = bin;
        p->cell_cur = cell;
    }
    p->have_t = true;
    p->last_t = t_s;
    p->d.samples++;
    if (dt > 0) {
        p->dt += 0.02 * (MIN(dt, 4 * p->dt) - p->dt);
    }
    if (dt > PROF_GAP * p->dt) {
        p->zw_prev_ok = false;
    }

    /* History. */
    if (cell != p->cell_cur) {
        profile_history_advance(p, cell);
    }
    p->cell_cnt++;
    p->cell_mean +=
        value / (double) p->cell_cnt - p->cell_mean / (double) p->cell_cnt;

    if (!p->warm_done) {
        p->warm[p->nwarm++] = value;
        if (p->nwarm == PROF_WARMUP) {
            profile_warm_init(p);
        }
        p->d.level = p->d.expected = p->warm[0];
        return 0;
    }
    learning = bin - p->bin_first < (int64_t) p->o.min_history;

    e = p->level + profile_seasonal(p, bin);
    factor = profile_factor(p, bin);
    spread = profile_spread(p, factor);
    r = value - e;
    z = CLAMP(r / spread, -PROF_ZMAX, PROF_ZMAX);
    if (isnan(z)) {
        z = 0;
    }

    env = profile_env_update(p, bin, value);
    if (p->relearn_left > 0) {
        drift = profile_relearn_step(
            p, value - p->level_alarm - profile_seasonal(p, bin), spread,
            factor);
        profile_env_alarm(p, p->env_m);
        profile_env_alarm(p, p->level);
    } else {
        drift = profile_detectors(p, z, env, learning);
        profile_learn(p, bin, r, z, spread, factor);
        if (!learning && drift >= 0.5) {
            profile_relearn_start(p, drift, r, spread);
            profile_env_alarm(p, p->env_m);
        }
    }

    p->d.drift = CLAMP(drift, 0, 1);
    p->d.z = z;
    p->d.change = MIN(MAX(p->gpos, p->gneg), 1e6);
    p->d.expected = e;
    p->d.spread = spread;
    p->d.level = p->level;
    p->d.learning = learning;
    return p->d.drift;
}

void
risk_profile_drift(const RiskProfile *p, RiskDrift *ret)
{
    g_return_if_fail(p != NULL && ret != NULL);
    *ret = p->d;
}

bool
risk_profile_expected(const RiskProfile *p, double t_s, double *ret_mean,
                      double *ret_spread)
{
    double b;
    int64_t bin;

    g_return_val_if_fail(p != NULL, false);
    b = floor(t_s / p->o.bin_s);
    if (p->d.learning || !p->warm_done || !(fabs(b) < 4e18 / PROF_MAX_CELLS)) {
        return false;
    }
    bin = (int64_t) b;
    if (ret_mean) {
        *ret_mean = p->level + profile_seasonal(p, bin);
    }
    if (ret_spread) {
        *ret_spread = profile_spread(p, profile_factor(p, bin));
    }
    return true;
}

size_t
risk_profile_periods(const RiskProfile *p, RiskPeriod *ret, size_t max)
{
    size_t n;

    g_return_val_if_fail(p != NULL, 0);
    n = MIN(max, p->nfound);
    if (n > 0) {
        memcpy(ret, p->found, n * sizeof(*ret));
    }
    return n;
}

/* Cycles of the history in which the event @ev of component @s (knots
 * @k0 to @k0 + @len, around the centred offset @ref) shows: the mean
 * excess over its cells is at least half the event's. */
static int
profile_event_cycles(const RiskProfile *p, const ProfSeason *s,
                     const RiskEvent *ev, int k0, int len, double ref)
{
    g_autofree double *y = profile_history(p);
    double spread = profile_spread(p, 1), acc = 0;
    int64_t cycle = INT64_MIN;
    int cnt = 0, seen = 0;

    for (size_t i = 0; i <= p->hist_len; i++) {
        int64_t bin = i < p->hist_len ? profile_history_bin(p, i) : 0;
        int64_t c = i < p->hist_len ? floor_div(bin, s->period) : INT64_MIN;
        int k, off;

        if (c != cycle) {
            if (cnt > 0 && (acc / cnt) * ev->magnitude >=
                               0.5 * ev->magnitude * ev->magnitude * spread) {
                seen++;
            }
            cycle = c;
            acc = 0;
            cnt = 0;
        }
        if (i == p->hist_len || !isfinite(y[i])) {
            continue;
        }
        k = profile_knot(s, bin);
        off = (k - k0 + s->knots) % s->knots;
        if (off < len) {
            double other =
                profile_seasonal(p, bin) - (s->s[k] - s->sum / s->knots) + ref;

            acc += y[i] - p->level - other;
            cnt++;
        }
    }
    return seen;
}

/* Whether any of the @len knots from @k0 (circular, of @kn) is flagged. */
static bool
profile_knots_flagged(const bool *flags, int kn, int k0, int len)
{
    for (int i = 0; i < MIN(len, kn); i++) {
        if (flags[((k0 + i) % kn + kn) % kn]) {
            return true;
        }
    }
    return false;
}

/*
 * The history over the @len knots from @k0 (of the first component): per
 * knot and side (2 * knot; + 1 below the baseline), the cells that stood
 * PROF_EVENT_Z usual spreads from it into @hits and the sum of their
 * residuals into @sum (both of 2 * @len, zeroed).  Returns: the cycles in
 * which some cell did, counted from the run's start, so that a run across
 * the period's end is one occurrence.
 */
static int
profile_burst_scan(const RiskProfile *p, int k0, int len, int *hits,
                   double *sum)
{
    const ProfSeason *s = &p->season[0];
    g_autofree double *y = profile_history(p);
    double spread = profile_spread(p, 1);
    int64_t cycle = INT64_MIN;
    int seen = 0;

    for (size_t i = 0; i < p->hist_len; i++) {
        int64_t bin = profile_history_bin(p, i);
        int off = (profile_knot(s, bin) - k0 + s->knots) % s->knots;
        int64_t c = floor_div(bin - (int64_t) k0 * p->cell, s->period);
        double r;

        if (!isfinite(y[i]) || off >= len) {
            continue;
        }
        r = y[i] - p->level - profile_seasonal(p, bin);
        if (fabs(r) < PROF_EVENT_Z * spread) {
            continue;
        }
        hits[2 * off + (r < 0)]++;
        sum[2 * off + (r < 0)] += r;
        if (c != cycle) {
            cycle = c;
            seen++;
        }
    }
    return seen;
}

/* Whether a knot hit in @hits of @cycles is hit often enough. */
static bool
profile_fixed_hit(int hits, int cycles)
{
    return hits * PROF_FIXED_OF >= cycles * (PROF_FIXED_OF - 1);
}

/*
 * Whether a burst over the @len knots from @k0 (of the first component)
 * is short jobs at fixed times, from profile_burst_scan()'s @hits and
 * @sum over it and the @cycles it found.  Offsets are fitted as medians pooled
 * over PROF_POOL knots either side, so a job shorter than PROF_POOL + 1
 * knots leaves them and shows only in the spread factors; this tells it
 * from one whose time varies.  A *hit* is a cycle in which a knot stood
 * PROF_EVENT_Z usual spreads out on one side; it is, when the burst was
 * seen in 3 @cycles or more, each run of knots hit on one side in all
 * but 1 of PROF_FIXED_OF of them or more, with no more hits than 1 in
 * PROF_FIXED_OF of them on that side elsewhere (beyond a knot either side of
 * such a run: a job whose start wanders hits its middle knots on many cycles by
 * chance, and the others too).  When so, writes one fixed event per such
 * run into @ev (room for @room; its magnitude the mean departure there
 * when hit, in usual spreads; its cycles the fewest hits of its knots).
 * Returns: how many (0: not fixed, @ev untouched).
 */
static size_t
profile_fixed_burst(const RiskProfile *p, int k0, int len, int cycles,
                    const int *hits, const double *sum, RiskEvent *ev,
                    size_t room)
{
    const ProfSeason *s = &p->season[0];
    g_autofree bool *near = g_new0(bool, 2 * len);
    double spread = profile_spread(p, 1);
    size_t nev = 0;
    int runs = 0;

    if (cycles < 3 || room == 0) {
        return 0;
    }
    /* The runs, and the knots within one of them. */
    for (int side = 0; side < 2; side++) {
        int stray = 0, side_runs = 0;

        for (int i = 0; i < len; i++) {
            if (profile_fixed_hit(hits[2 * i + side], cycles)) {
                side_runs++;
                for (int d = -1; d <= 1; d++) {
                    if (i + d >= 0 && i + d < len) {
                        near[2 * (i + d) + side] = true;
                    }
                }
            }
        }
        for (int i = 0; i < len; i++) {
            stray += near[2 * i + side] ? 0 : hits[2 * i + side];
        }
        if (side_runs > 0 && stray * PROF_FIXED_OF > cycles) {
            return 0;
        }
        runs += side_runs;
    }
    if (runs == 0) {
        return 0;
    }
    for (int side = 0; side < 2; side++) {
        for (int i = 0; i < len && nev < room;) {
            RiskEvent e = {.period = s->period, .cycles = INT_MAX};
            int n = 0;

            while (i + n < len &&
                   profile_fixed_hit(hits[2 * (i + n) + side], cycles)) {
                int h = hits[2 * (i + n) + side];

                e.magnitude += sum[2 * (i + n) + side] / h / spread;
                e.cycles = MIN(e.cycles, h);
                n++;
            }
            if (n == 0) {
                i++;
                continue;
            }
            e.phase =
                (int) ((int64_t) ((k0 + i) % s->knots) * s->period / s->knots);
            e.length = (int) MAX((int64_t) n * s->period / s->knots, 1);
            e.magnitude = CLAMP(e.magnitude / n, -1e6, 1e6);
            ev[nev++] = e;
            i += n;
        }
    }
    return nev;
}

/*
 * The varying events of the first component into @ev (room for @room):
 * runs of knots whose spread factor is PROF_EVENT_Z or more, no longer
 * than a fixed event may be plus the jitter window either side, seen on
 * two cycles at least, and not within the jitter window of a knot of a
 * fixed event (@fixed, a flag per knot: a job at a fixed time whose size
 * varies is reported once).  Returns: how many.
 */
static size_t
profile_varying_events(const RiskProfile *p, const bool *fixed, RiskEvent *ev,
                       size_t room)
{
    const ProfSeason *s = &p->season[0];
    int kn = s->knots, k0 = -1, jit, w;
    size_t nev = 0;

    if (p->nseason == 0 || !s->f || kn < 4) {
        return 0;
    }
    jit = profile_jitter_knots(kn);
    w = MAX(2, kn / PROF_EVENT_SHARE) + 2 * jit;
    for (int k = 0; k < kn && k0 < 0; k++) {
        if (s->f[k] < PROF_EVENT_Z) {
            k0 = k;
        }
    }
    for (int i = 0; k0 >= 0 && i < kn && nev < room;) {
        int k = (k0 + i) % kn, len = 0;
        double top = 0;
        g_autofree int *hits = NULL; /* profile_burst_scan()'s */
        g_autofree double *sum = NULL;

        if (s->f[k] < PROF_EVENT_Z) {
            i++;
            continue;
        }
        while (i + len < kn && s->f[(k + len) % kn] >= PROF_EVENT_Z) {
            top = MAX(top, s->f[(k + len) % kn]);
            len++;
        }
        i += len;
        if (len > w ||
            profile_knots_flagged(fixed, kn, k - jit, len + 2 * jit)) {
            continue;
        }
        ev[nev] = (RiskEvent){
            .period = s->period,
            .phase = (int) ((int64_t) k * s->period / kn),
            .length = (int) MAX((int64_t) len * s->period / kn, 1),
            .magnitude = top,
            .varying = true,
        };
        hits = g_new0(int, 2 * len);
        sum = g_new0(double, 2 * len);
        ev[nev].cycles = profile_burst_scan(p, k, len, hits, sum);
        if (ev[nev].cycles >= 2) {
            size_t nf = profile_fixed_burst(p, k, len, ev[nev].cycles, hits,
                                            sum, ev + nev, room - nev);

            nev += MAX(nf, 1);
        }
    }
    return nev;
}

static int
cmp_event(const void *a, const void *b)
{
    const RiskEvent *x = a, *y = b;
    double mx = fabs(x->magnitude), my = fabs(y->magnitude);

    if (x->varying != y->varying) {
        return x->varying ? 1 : -1;
    }
    if (mx != my) {
        return mx < my ? 1 : -1;
    }
    return (x->phase > y->phase) - (x->phase < y->phase);
}

size_t
risk_profile_events(const RiskProfile *p, RiskEvent *ret, size_t max)
{
    RiskEvent ev[3 * RISK_MAX_EVENTS];
    size_t nev = 0;
    double spread;
    g_autofree bool *fixed = NULL; /* knots of the first component's
                                    * fixed events */

    g_return_val_if_fail(p != NULL, 0);
    if (!p->warm_done) {
        return 0;
    }
    spread = profile_spread(p, 1);
    if (p->nseason > 0) {
        fixed = g_new0(bool, p->season[0].knots);
    }
    for (size_t j = 0; j < p->nseason; j++) {
        const ProfSeason *s = &p->season[j];
        int kn = s->knots, w = MAX(2, kn / PROF_EVENT_SHARE);
        g_autofree double *a = g_new(double, kn);
        g_autofree double *ref = g_new(double, kn);
        g_autofree double *tmp = g_new(double, 2 * w + 1);
        int k0 = -1;

        /* Each knot against the median of the knots around it: an event
         * stands out of its neighbourhood, a daily shape does not. */
        for (int k = 0; k < kn; k++) {
            for (int d = -w; d <= w; d++) {
                tmp[d + w] = s->s[((k + d) % kn + kn) % kn] - s->sum / kn;
            }
            ref[k] = util_median_inplace(tmp, (size_t) (2 * w + 1));
            a[k] = (s->s[k] - s->sum / kn - ref[k]) / spread;
        }
        /* Start scanning at a quiet knot so no run wraps. */
        for (int k = 0; k < kn && k0 < 0; k++) {
            if (fabs(a[k]) < PROF_EVENT_Z) {
                k0 = k;
            }
        }
        if (k0 < 0) {
            continue;
        }
        for (int i = 0; i < kn && nev < 2 * RISK_MAX_EVENTS;) {
            int k = (k0 + i) % kn, len = 0;
            double sign = a[k] > 0 ? 1 : -1, sum = 0;

            if (fabs(a[k]) < PROF_EVENT_Z) {
                i++;
                continue;
            }
            while (i + len < kn && fabs(a[(k + len) % kn]) >= PROF_EVENT_Z &&
                   a[(k + len) % kn] * sign > 0) {
                sum += a[(k + len) % kn];
                len++;
            }
            i += len;
            if (len > w) {
                continue;
            }
            ev[nev].period = s->period;
            ev[nev].phase = (int) ((int64_t) k * s->period / kn);
            ev[nev].length = (int) MAX((int64_t) len * s->period / kn, 1);
            ev[nev].magnitude = CLAMP(sum / len, -1e6, 1e6);
            ev[nev].varying = false;
            ev[nev].cycles =
                profile_event_cycles(p, s, &ev[nev], k, len, ref[k]);
            if (ev[nev].cycles >= 2) {
                for (int d = 0; j == 0 && d < len; d++) {
                    fixed[(k + d) % kn] = true;
                }
                nev++;
            }
        }
    }
    if (fixed) {
        nev +=
            profile_varying_events(p, fixed, ev + nev, G_N_ELEMENTS(ev) - nev);
    }
    qsort(ev, nev, sizeof(*ev), cmp_event);
    nev = MIN(nev, MIN(max, RISK_MAX_EVENTS));
    if (nev > 0) {
        memcpy(ret, ev, nev * sizeof(*ret));
    }
    return nev;
}
