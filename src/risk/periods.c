/*
 * risk/periods.c: seasonal period detection for the workload profiler
 * (risk_periods_detect() in profile.h).
 *
 * Input: a regular series of n values (one per bin), possibly with
 * missing values, heavy tails and trends.  Output: the periods it
 * repeats with, each with a strength in [0, 1].
 *
 *   1. clean:      missing values are interpolated linearly (the ends
 *                  carried), the series is centred on its median, scaled
 *                  by the median of its non-zero absolute deviations
 *                  (the MAD, except for a quantised or mostly flat
 *                  series with bursts, whose MAD is 0), made consistent
 *                  for the normal, and winsorised
 *                  at +-3 of those, so that one huge spike or a 1e300
 *                  cannot dominate, then detrended by least squares.  A
 *                  constant series has no period.
 *   2. spectrum:   zero-padded to m >= 2n (a power of two), one real FFT
 *                  gives the periodogram |X_j|^2, and the inverse FFT of
 *                  the periodogram the lagged cross sums
 *                  C(k) = sum_t x_t x_{t+k} for every lag at once.
 *   3. ACF:        with prefix sums of x and x^2, the autocorrelation at
 *                  lag k is Pearson's correlation of x[0, n-k) with
 *                  x[k, n): the share of variance a k-lagged copy
 *                  explains, unbiased by the shrinking overlap.
 *   4. candidates: each configured period k (day, week) is tested at its
 *                  exact lag; the highest local maxima of the periodogram
 *                  give other periods m / j, refined to the lag of the
 *                  highest ACF between m / (j + 1) and m / (j - 1),
 *                  which must also be the highest within 10 % of it.
 *                  Steps 2 to 4 run twice: on the series and on its
 *                  7-point moving average, so that a short recurring
 *                  event whose start jitters by a few bins (a daily job
 *                  at 02:00 +- 10 min) still correlates with itself.
 *                  Candidates still missed are tested a third time, on
 *                  the 7-point moving average of where the series was
 *                  winsorised (1 there, else 0): a short job on a quiet
 *                  series (a nightly backup on an idle VM) keeps little
 *                  of the variance once clipped, but its bursts recur at
 *                  the candidate's lag (an ACF of 0.5 at least there:
 *                  the few anomalies of a noisy series may recur by
 *                  chance, and do so weakly); bursts at random times do
 *                  not.
 *   5. accept:     a lag k is a period when k <= n / 2 (seen at least
 *                  twice), its ACF is significant (above 2 / sqrt(n) and
 *                  RISK_PERIOD_MIN_ACF) and is a hill: it exceeds the
 *                  lowest ACF between k / 2 and k by RISK_PERIOD_MIN_DIP.
 *                  The hill test rejects persistent but aperiodic series
 *                  (random walks, slow level drifts) whose ACF is high at
 *                  every lag but decreasing.
 *   6. reduce:     periods within 5 % of each other are merged (a
 *                  candidate wins, else the stronger); a period that is
 *                  a multiple of a shorter accepted one is kept only if
 *                  its ACF adds RISK_PERIOD_MIN_GAIN (the week over the
 *                  day: a week-lagged copy explains more than a
 *                  day-lagged one only when weekdays differ).
 *
 * The FFT-based search follows Vlachos, Yu & Castelli, "On periodicity
 * detection and structural periodic similarity", SDM 2005 (periodogram
 * hints validated on the ACF).  Cost: four FFTs of m <= 4 n points and a
 * sort for the median: O(n log n), about 1 ms for n = 4032 here.
 * Memory: about 2 m doubles, freed before returning.
 */
#include "risk/profile.h"

#include <gsl/gsl_fft_halfcomplex.h>
#include <gsl/gsl_fft_real.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/order.h"

#define RISK_PERIOD_MIN_ACF 0.2   /* ACF floor for a period */
#define RISK_PERIOD_BURST_ACF 0.5 /* the same, from the bursts alone */
#define RISK_PERIOD_MIN_DIP 0.1   /* the ACF hill's minimal height */
#define RISK_PERIOD_MIN_GAIN 0.05 /* ACF a multiple must add */
#define RISK_PERIOD_PEAKS 8       /* periodogram peaks examined */
#define RISK_PERIOD_MIN_LAG 3     /* shortest period considered, bins */
#define RISK_PERIOD_CLIP 3.0      /* winsorising, in robust sds */
#define RISK_PERIOD_MERGE 0.05    /* relative distance of equal periods */
#define RISK_PERIOD_MAX_FOUND 32  /* accepted periods before reduction */
#define RISK_PERIOD_SMOOTH 7      /* moving average for jittered events */
#define RISK_PERIOD_SMOOTH_MIN 56 /* shortest lag tested smoothed */

/* The cleaned series and its ACF. */
typedef struct {
    size_t n;
    size_t m;       /* FFT length, a power of two >= 2 n */
    double *x;      /* cleaned series (n) */
    double *pw;     /* periodogram, index j = frequency j / m (m / 2 + 1) */
    double *c;      /* lagged cross sums C(k) (n) */
    double *s1;     /* prefix sums of x (n + 1) */
    double *s2;     /* prefix sums of x^2 (n + 1) */
    double *acf;    /* ACF by lag, NAN until computed (n) */
    double *buf;    /* FFT buffer (m), also scratch for the median */
    double *burst;  /* 1 where the series was winsorised, else 0 (n) */
    size_t minlag;  /* shortest lag accepted */
    double min_acf; /* ACF floor (RISK_PERIOD_MIN_ACF unless bursts) */
} PeriodWork;

/*
 * Fills w->x with the interpolated, robustly standardised, winsorised
 * and detrended series.  Returns: false when nothing varies.
 */
static bool
period_clean(PeriodWork *w, const double *y)
{
    size_t n = w->n, prev = SIZE_MAX, nz = 0;
    double *tmp = w->buf;
    double med, scale, sx = 0, sxx = 0, sy = 0, sxy = 0, b, var = 0;

    for (size_t i = 0; i < n; i++) {
        if (!isfinite(y[i])) {
            continue;
        }
        /* Clamped so that differences below cannot overflow. */
        w->x[i] = CLAMP(y[i], -1e300, 1e300);
        if (prev == SIZE_MAX) {
            for (size_t j = 0; j < i; j++) {
                w->x[j] = w->x[i];
            }
        } else {
            for (size_t j = prev + 1; j < i; j++) {
                double a = (double) (j - prev) / (double) (i - prev);

                w->x[j] = w->x[prev] + a * (w->x[i] - w->x[prev]);
            }
        }
        prev = i;
    }
    if (prev == SIZE_MAX) {
        return false;
    }
    for (size_t j = prev + 1; j < n; j++) {
        w->x[j] = w->x[prev];
    }

    memcpy(tmp, w->x, n * sizeof(*tmp));
    med = util_median_inplace(tmp, n);
    /* The median of the non-zero absolute deviations: the MAD, unless
     * most values sit on the median (a quantised series, or a flat one
     * with bursts), where it is the typical size of a departure. */
    for (size_t i = 0; i < n; i++) {
        double d = fabs(w->x[i] / 2 - med / 2);

        if (d > 0) {
            tmp[nz++] = d;
        }
    }
    scale = 2 * util_median_inplace(tmp, nz) / 0.6744897501960817;
    if (!(scale > 0) || !isfinite(scale)) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        double z = (w->x[i] / 2 - med / 2) / (scale / 2);

        w->x[i] = CLAMP(z, -RISK_PERIOD_CLIP, RISK_PERIOD_CLIP);
        w->burst[i] = fabs(z) >= RISK_PERIOD_CLIP ? 1 : 0;
    }

    /* Least-squares line on t = 0 .. n - 1. */
    for (size_t i = 0; i < n; i++) {
        double t = (double) i;

        sx += t;
        sxx += t * t;
        sy += w->x[i];
        sxy += t * w->x[i];
    }
    b = (sxy - sx * sy / (double) n) / (sxx - sx * sx / (double) n);
    if (!isfinite(b)) {
        b = 0;
    }
    for (size_t i = 0; i < n; i++) {
        w->x[i] -= sy / (double) n + b * ((double) i - sx / (double) n);
        var += w->x[i] * w->x[i];
    }
    return var / (double) n > 1e-12;
}

/* Periodogram and lagged cross sums by FFT (see the file comment). */
static void
period_spectrum(PeriodWork *w)
{
    size_t n = w->n, m = w->m;
    double *buf = w->buf;

    memcpy(buf, w->x, n * sizeof(*buf));
    memset(buf + n, 0, (m - n) * sizeof(*buf));
    gsl_fft_real_radix2_transform(buf, 1, m);
    w->pw[0] = buf[0] * buf[0];
    for (size_t j = 1; j < m / 2; j++) {
        w->pw[j] = buf[j] * buf[j] + buf[m - j] * buf[m - j];
    }
    w->pw[m / 2] = buf[m / 2] * buf[m / 2];

    /* The inverse transform of |X|^2 (real, even) is the circular
     * autocorrelation; with m >= 2 n it does not wrap. */
    for (size_t j = 0; j <= m / 2; j++) {
        buf[j] = w->pw[j];
    }
    for (size_t j = m / 2 + 1; j < m; j++) {
        buf[j] = 0;
    }
    gsl_fft_halfcomplex_radix2_inverse(buf, 1, m);
    memcpy(w->c, buf, n * sizeof(*buf));

    w->s1[0] = w->s2[0] = 0;
    for (size_t i = 0; i < n; i++) {
        w->s1[i + 1] = w->s1[i] + w->x[i];
        w->s2[i + 1] = w->s2[i] + w->x[i] * w->x[i];
    }
    for (size_t k = 0; k < n; k++) {
        w->acf[k] = NAN;
    }
}

/* Pearson correlation of x[0, n-k) with x[k, n), in [-1, 1]. */
static double
period_acf(PeriodWork *w, size_t k)
{
    size_t n = w->n, len = n - k;
    double sa, sb, qa, qb, cov, va, vb, r;

    if (k == 0 || k >= n - 1) {
        return k == 0 ? 1 : 0;
    }
    if (!isnan(w->acf[k])) {
        return w->acf[k];
    }
    sa = w->s1[len] / (double) len;
    sb = (w->s1[n] - w->s1[k]) / (double) len;
    qa = w->s2[len] / (double) len - sa * sa;
    qb = (w->s2[n] - w->s2[k]) / (double) len - sb * sb;
    cov = w->c[k] / (double) len - sa * sb;
    va = MAX(qa, 0);
    vb = MAX(qb, 0);
    r = va > 1e-12 && vb > 1e-12 ? cov / sqrt(va * vb) : 0;
    r = CLAMP(r, -1, 1);
    w->acf[k] = r;
    return r;
}

/* Is lag @k a significant ACF hill (file comment, step 5)? */
static bool
period_is_hill(PeriodWork *w, size_t k)
{
    double r, lo;
    double floor_ = MAX(w->min_acf, 2 / sqrt((double) w->n));

    if (k < MAX(w->minlag, 2) || 2 * k > w->n) {
        return false;
    }
    r = lo = period_acf(w, k);
    if (r < floor_) {
        return false;
    }
    for (size_t l = k / 2; l < k; l++) {
        lo = MIN(lo, period_acf(w, l));
    }
    return r - lo >= RISK_PERIOD_MIN_DIP;
}

/* Is the ACF at @k the highest within RISK_PERIOD_MERGE * 2 of @k? (A
 * ripple beside the true period is not a period.) */
static bool
period_is_top(PeriodWork *w, size_t k, size_t maxlag)
{
    size_t span = MAX(1, (size_t) (2 * RISK_PERIOD_MERGE * (double) k));
    double r = period_acf(w, k);

    for (size_t l = k > span ? k - span : 1; l <= MIN(k + span, maxlag); l++) {
        if (period_acf(w, l) > r) {
            return false;
        }
    }
    return true;
}

/* Adds @lag to @found unless it is already there (merging, step 6). */
static size_t
period_add(RiskPeriod *found, size_t nfound, int lag, double r, bool cand)
{
    for (size_t i = 0; i < nfound; i++) {
        double tol = MAX(1, RISK_PERIOD_MERGE * found[i].period);

        if (fabs((double) (found[i].period - lag)) <= tol) {
            if (!found[i].candidate && (cand || r > found[i].strength)) {
                found[i].period = lag;
                found[i].strength = r;
                found[i].candidate = cand;
            }
            return nfound;
        }
    }
    if (nfound == RISK_PERIOD_MAX_FOUND) {
        return nfound;
    }
    found[nfound].period = lag;
    found[nfound].strength = r;
    found[nfound].candidate = cand;
    return nfound + 1;
}

static int
cmp_period_asc(const void *a, const void *b)
{
    const RiskPeriod *x = a, *y = b;

    return (x->period > y->period) - (x->period < y->period);
}

static int
cmp_period_strength(const void *a, const void *b)
{
    const RiskPeriod *x = a, *y = b;

    if (x->strength != y->strength) {
        return x->strength < y->strength ? 1 : -1;
    }
    return (x->period > y->period) - (x->period < y->period);
}

/* Periodogram peaks confirmed on the ACF (step 4). */
static size_t
period_peaks(PeriodWork *w, size_t maxlag, RiskPeriod *found, size_t nfound)
{
    size_t m = w->m, jlo, jhi, npeak = 0;
    size_t peak[RISK_PERIOD_PEAKS];

    jlo = MAX(1, (m + maxlag - 1) / maxlag);
    jhi = m / RISK_PERIOD_MIN_LAG;
    for (size_t j = MAX(jlo, 2); j <= jhi && j < m / 2; j++) {
        size_t pos;

        if (!(w->pw[j] > w->pw[j - 1] && w->pw[j] >= w->pw[j + 1])) {
            continue;
        }
        /* Insertion into the list of the highest, kept sorted. */
        for (pos = npeak; pos > 0 && w->pw[peak[pos - 1]] < w->pw[j]; pos--) {
            if (pos < RISK_PERIOD_PEAKS) {
                peak[pos] = peak[pos - 1];
            }
        }
        if (pos < RISK_PERIOD_PEAKS) {
            peak[pos] = j;
            npeak = MIN(npeak + 1, RISK_PERIOD_PEAKS);
        }
    }
    for (size_t i = 0; i < npeak; i++) {
        size_t j = peak[i], lo = m / (j + 1), hi = m / (j - 1), best = 0;
        double rbest = -2;

        lo = MAX(lo, 2);
        hi = MIN(hi, maxlag);
        for (size_t k = lo; k <= hi; k++) {
            double r = period_acf(w, k);

            if (r > rbest) {
                rbest = r;
                best = k;
            }
        }
        if (best > 0 && period_is_hill(w, best) &&
            period_is_top(w, best, maxlag)) {
            nfound = period_add(found, nfound, (int) best, rbest, false);
        }
    }
    return nfound;
}

/* Candidates, and with @peaks periodogram peaks, of the series in @w
 * (steps 2-5). */
static size_t
period_search(PeriodWork *w, const int *candidates, size_t ncand, size_t maxlag,
              bool peaks, RiskPeriod *found, size_t nfound)
{
    period_spectrum(w);
    for (size_t i = 0; i < ncand; i++) {
        int k = candidates[i];

        if (k >= 2 && (size_t) k <= maxlag && period_is_hill(w, k)) {
            nfound = period_add(found, nfound, k, period_acf(w, k), true);
        }
    }
    return peaks ? period_peaks(w, maxlag, found, nfound) : nfound;
}

/* w->x := a centred moving average of RISK_PERIOD_SMOOTH points of @y
 * (step 4). */
static void
period_smooth(PeriodWork *w, const double *y)
{
    size_t n = w->n, h = RISK_PERIOD_SMOOTH / 2;
    double *x = w->buf;

    memcpy(x, y, n * sizeof(*x));
    for (size_t i = 0; i < n; i++) {
        size_t lo = i >= h ? i - h : 0, hi = MIN(i + h, n - 1);
        double acc = 0;

        for (size_t j = lo; j <= hi; j++) {
            acc += x[j];
        }
        w->x[i] = acc / (double) (hi - lo + 1);
    }
}

/* The candidates not among @found, into @missed; long enough to be tested
 * smoothed.  Returns: how many. */
static size_t
period_missed(const int *cand, size_t ncand, const RiskPeriod *found,
              size_t nfound, int *missed)
{
    size_t nmissed = 0;

    for (size_t i = 0; i < ncand; i++) {
        bool seen = false;

        for (size_t j = 0; j < nfound; j++) {
            seen = seen || (found[j].candidate && found[j].period == cand[i]);
        }
        if (!seen && (size_t) cand[i] >= RISK_PERIOD_SMOOTH_MIN) {
            missed[nmissed++] = cand[i];
        }
    }
    return nmissed;
}

size_t
risk_periods_detect(const double *y, size_t n, const int *candidates,
                    int max_period, RiskPeriod *ret, size_t max)
{
    PeriodWork w = {0};
    RiskPeriod found[RISK_PERIOD_MAX_FOUND];
    int cand[RISK_MAX_PERIODS], missed[RISK_MAX_PERIODS];
    size_t nfound = 0, nkept = 0, maxlag, ncand = 0, nmissed = 0;
    g_autofree double *mem = NULL;

    if (!y || n < 2 * RISK_PERIOD_MIN_LAG + 2 || !ret || max == 0 ||
        max_period < 2) {
        return 0;
    }
    for (size_t i = 0; candidates && i < RISK_MAX_PERIODS && candidates[i];
         i++) {
        cand[ncand++] = candidates[i];
    }
    maxlag = MIN((size_t) max_period, n / 2);
    w.n = n;
    w.min_acf = RISK_PERIOD_MIN_ACF;
    w.m = 1;
    while (w.m < 2 * n) {
        w.m *= 2;
    }
    /* One block: x, c, acf, burst (n each), s1, s2 (n + 1),
     * pw (m / 2 + 1), buf (m). */
    mem = g_new(double, 6 * n + 3 + w.m / 2 + w.m);
    w.x = mem;
    w.c = w.x + n;
    w.acf = w.c + n;
    w.s1 = w.acf + n;
    w.s2 = w.s1 + n + 1;
    w.pw = w.s2 + n + 1;
    w.buf = w.pw + w.m / 2 + 1;
    w.burst = w.buf + w.m;
    if (!period_clean(&w, y)) {
        return 0;
    }
    nfound = period_search(&w, cand, ncand, maxlag, true, found, 0);

    /* Candidates missed, again on the smoothed series; smoothing
     * correlates neighbours, so only long lags count there. */
    nmissed = period_missed(cand, ncand, found, nfound, missed);
    if (nmissed > 0) {
        w.minlag = RISK_PERIOD_SMOOTH_MIN;
        period_smooth(&w, w.x);
        nfound =
            period_search(&w, missed, nmissed, maxlag, false, found, nfound);
    }
    /* And on where the series was winsorised, smoothed: a short job on an
     * otherwise quiet series (a nightly backup on an idle VM) is clipped
     * to a sliver of the variance above, but its bursts recur at the
     * candidate's lag.  Only candidates: the bursts' timing alone is too
     * little to search for any other period. */
    nmissed = period_missed(cand, ncand, found, nfound, missed);
    if (nmissed > 0) {
        w.min_acf = RISK_PERIOD_BURST_ACF;
        period_smooth(&w, w.burst);
        nfound =
            period_search(&w, missed, nmissed, maxlag, false, found, nfound);
    }

    /* Multiples of a shorter accepted period must add strength. */
    qsort(found, nfound, sizeof(*found), cmp_period_asc);
    for (size_t i = 0; i < nfound; i++) {
        bool keep = true;

        for (size_t j = 0; j < nkept && keep; j++) {
            double q = found[j].period, ratio = found[i].period / q;
            double k = round(ratio);

            if (k >= 2 && fabs(found[i].period - k * q) <=
                              MAX(1, RISK_PERIOD_MERGE * found[i].period)) {
                keep = found[i].strength >=
                       found[j].strength + RISK_PERIOD_MIN_GAIN;
            }
        }
        if (keep) {
            found[nkept++] = found[i];
        }
    }
    qsort(found, nkept, sizeof(*found), cmp_period_strength);
    for (size_t i = 0; i < nkept; i++) {
        found[i].strength = CLAMP(found[i].strength, 0, 1);
    }
    nkept = MIN(nkept, max);
    memcpy(ret, found, nkept * sizeof(*ret));
    return nkept;
}
