/*
 * forecast/mstl.c: STL and MSTL decomposition and the stlf()-style
 * forecast (see mstl.h).
 *
 * STL (Cleveland, Cleveland, McRae & Terpenning, "STL: A Seasonal-Trend
 * Decomposition Procedure Based on Loess", J. Official Statistics 6,
 * 1990) splits y = S + T + R with two nested loops:
 *
 *   outer (robustness, `outer` passes after the first):
 *     inner (`inner` passes):
 *       1. detrend:            w = y - T
 *       2. cycle-subseries:    loess-smooth each of the `period`
 *                              subseries of w (span s_window), extended
 *                              by one point at each end -> C (n + 2p)
 *       3. low-pass of C:      moving averages of p, p, 3, then loess
 *                              (span l_window) -> L (n)
 *       4. seasonal:           S = C[p .. p + n) - L
 *       5. deseasonalise:      w = y - S
 *       6. trend:              loess-smooth w (span t_window) -> T
 *     robustness weights:     rw = B(|R| / (6 median |R|)), B the
 *                              bisquare; used by every loess except the
 *                              low-pass one.
 *
 * The loess here is the paper's: tricube neighbourhood weights over the
 * `span` nearest points (the span widened symmetrically when it exceeds
 * the series), a local constant or line, evaluated every `jump` points
 * and linearly interpolated in between.  Parameters and their defaults
 * follow R's stats::stl() so that decompositions agree with R's to
 * rounding.  A "periodic" seasonal (s_window 0) is an enormous window
 * whose result is then replaced by its cycle means.
 *
 * MSTL (Bandara, Hyndman & Bergmeir, "MSTL: A Seasonal-Trend
 * Decomposition Algorithm for Time Series with Multiple Seasonal
 * Patterns", 2021, arXiv:2107.13462) runs STL once per period, shortest
 * first, each on the series with the other seasonal components removed,
 * and repeats the sweep (R's forecast::mstl(): twice, s.window = 7 + 4 i).
 *
 * The forecast (Hyndman & Athanasopoulos, FPP2 section 6.8, R's stlf()):
 * ETS, chosen by AICc among the non-seasonal models, forecasts the
 * seasonally adjusted series T + R; each seasonal component is
 * forecast by repeating its last cycle; the two are summed, and the ETS
 * intervals are shifted by the seasonal forecast.
 *
 * Cost: every loess evaluation is O(span), with about n / jump of them
 * per smoothing, so one STL pass is O(n (s_window + t_window +
 * l_window) / 10); the M4 hourly series (n <= 960, periods 24 and 168)
 * decompose in well under a millisecond.  The ETS fit dominates.
 */
#include "forecast/mstl.h"

#include <math.h>
#include <string.h>

#include "forecast/ets.h"

/* Normal quantiles of the 80 % and 95 % intervals. */
#define FC_Z80 1.2815515655446004
#define FC_Z95 1.959963984540054

/* Workspace of one STL run (arrays sized for n + 2 period). */
typedef struct {
    double *rw;   /* robustness weights (n) */
    double *c;    /* extended cycle-subseries smooth (n + 2 p) */
    double *w1;   /* detrended / deseasonalised series (n + 2 p) */
    double *w2;   /* moving averages (n + 2 p) */
    double *sub;  /* one cycle-subseries (n / p + 3) */
    double *subw; /* its robustness weights */
    double *subs; /* its smooth, extended (n / p + 3) */
} StlWork;

/* Resolved parameters of one run. */
typedef struct {
    int np;
    int ns, nt, nl;
    int isdeg, itdeg, ildeg;
    int nsjump, ntjump, nljump;
    int ni, no;
    bool periodic;
} StlSpec;

static int
next_odd(double x)
{
    int v = (int) lround(x);

    return v % 2 == 0 ? v + 1 : v;
}

/*
 * The local fit from the weighted moments of a neighbourhood (a = sum w,
 * sd = sum w d, sdd = sum w d^2, sy = sum w y, sdy = sum w d y, with d
 * the offset from the fitted position): the weighted mean, or for
 * degree 1 the weighted least-squares line through it, evaluated at
 * d = 0.  Returns: false when every weight is zero.
 */
static bool
loess_finish(double a, double sd, double sdd, double sy, double sdy, double h,
             int deg, double range, double *ret)
{
    if (a <= 0) {
        return false;
    }
    *ret = sy / a;
    if (h > 0 && deg > 0) {
        double mean = sd / a;
        double var = fmax(sdd / a - mean * mean, 0);

        if (sqrt(var) > 0.001 * range) {
            *ret -= mean / var * (sdy / a - mean * sy / a);
        }
    }
    return true;
}

/* Tricube weight of distance @r in a neighbourhood of radius @h. */
static double
tricube(double r, double h)
{
    double q;

    if (r > 0.999 * h) {
        return 0;
    }
    if (r <= 0.001 * h) {
        return 1;
    }
    q = r / h;
    q = 1 - q * q * q;
    return q * q * q;
}

/*
 * One local fit at position @xs (0-based; may lie outside [0, n)), over
 * the points nleft..nright (inclusive, 0-based) of @y, with span @len:
 * tricube weights in |j - xs| / h (h the distance to the farther end of
 * the neighbourhood), times the robustness weights @rw (nullable), and
 * a weighted mean (@deg 0) or least-squares line (@deg 1).  Returns:
 * false (and leaves *ret) when every weight is zero.
 */
static bool
loess_at(const double *y, size_t n, size_t len, int deg, double xs,
         size_t nleft, size_t nright, const double *rw, double *ret)
{
    double range = (double) n - 1;
    double h = fmax(xs - (double) nleft, (double) nright - xs);
    double a = 0, sd = 0, sdd = 0, sy = 0, sdy = 0;

    if (len > n) {
        h += (double) ((len - n) / 2);
    }
    /* One pass accumulates the weighted moments in d = j - xs. */
    for (size_t j = nleft; j <= nright; j++) {
        double d = (double) j - xs;
        double w = tricube(fabs(d), h);

        if (w == 0) {
            continue;
        }
        if (rw) {
            w *= rw[j];
        }
        a += w;
        sd += w * d;
        sdd += w * d * d;
        sy += w * y[j];
        sdy += w * d * y[j];
    }
    return loess_finish(a, sd, sdd, sy, sdy, h, deg, range, ret);
}

/* Evaluates the local fit at point @i into ys[i] (y[i] if impossible). */
static void
loess_point(const double *y, size_t n, size_t len, int deg, size_t i,
            size_t nleft, size_t nright, const double *rw, double *ys)
{
    if (!loess_at(y, n, len, deg, (double) i, nleft, nright, rw, &ys[i])) {
        ys[i] = y[i];
    }
}

/*
 * The local fit at an interior point @i whose neighbourhood is
 * symmetric, i - half + 1 .. i + half - 1, with the tricube weights
 * precomputed in @kern (by distance; @ksum their sum).  Without
 * robustness weights the local line's slope term vanishes by symmetry,
 * leaving a fixed weighted mean.
 */
static void
loess_sym(const double *y, size_t n, int deg, size_t i, size_t half,
          const double *kern, double ksum, const double *rw, double *ys)
{
    double a = 0, sd = 0, sdd = 0, sy = 0, sdy = 0;

    if (!rw) {
        double fit = kern[0] * y[i];

        for (size_t d = 1; d < half; d++) {
            fit += kern[d] * (y[i - d] + y[i + d]);
        }
        ys[i] = fit / ksum;
        return;
    }
    for (size_t j = i + 1 - half; j < i + half; j++) {
        double d = (double) j - (double) i;
        double w = kern[j > i ? j - i : i - j] * rw[j];

        a += w;
        sd += w * d;
        sdd += w * d * d;
        sy += w * y[j];
        sdy += w * d * y[j];
    }
    if (!loess_finish(a, sd, sdd, sy, sdy, (double) (half - 1), deg,
                      (double) n - 1, &ys[i])) {
        ys[i] = y[i];
    }
}

/*
 * Loess smooth of @y (n points) into @ys with span @len, degree @deg,
 * evaluated every @jump points and interpolated linearly in between.
 */
static void
loess_smooth(const double *y, size_t n, int len_in, int deg, int jump_in,
             const double *rw, double *ys)
{
    size_t len = (size_t) len_in;
    size_t jump;

    if (n < 2) {
        ys[0] = y[0];
        return;
    }
    jump = MIN((size_t) MAX(jump_in, 1), n - 1);
    if (len >= n) {
        for (size_t i = 0; i < n; i += jump) {
            loess_point(y, n, len, deg, i, 0, n - 1, rw, ys);
        }
    } else if (jump == 1) {
        size_t half = (len + 1) / 2;
        size_t nleft = 0, nright = len - 1;

        for (size_t i = 0; i < n; i++) {
            if (i + 1 > half && nright != n - 1) {
                nleft++;
                nright++;
            }
            loess_point(y, n, len, deg, i, nleft, nright, rw, ys);
        }
    } else {
        size_t half = (len + 1) / 2;
        double stack_kern[64];
        g_autofree double *heap_kern = NULL;
        double *kern = stack_kern;
        double ksum = 0;

        if (half > G_N_ELEMENTS(stack_kern)) {
            kern = heap_kern = g_new(double, half);
        }
        for (size_t d = 0; d < half; d++) {
            kern[d] = tricube((double) d, (double) (half - 1));
            ksum += d ? 2 * kern[d] : kern[d];
        }
        for (size_t i = 0; i < n; i += jump) {
            if (i + 1 < half) {
                loess_point(y, n, len, deg, i, 0, len - 1, rw, ys);
            } else if (i + 1 >= n - half + 1) {
                loess_point(y, n, len, deg, i, n - len, n - 1, rw, ys);
            } else {
                loess_sym(y, n, deg, i, half, kern, ksum, rw, ys);
            }
        }
    }
    if (jump != 1) {
        size_t k;

        for (size_t i = 0; i + jump < n; i += jump) {
            double delta = (ys[i + jump] - ys[i]) / (double) jump;

            for (size_t j = i + 1; j < i + jump; j++) {
                ys[j] = ys[i] + delta * (double) (j - i);
            }
        }
        k = ((n - 1) / jump) * jump;
        if (k != n - 1) {
            size_t nleft = len >= n ? 0 : n - len;

            loess_point(y, n, len, deg, n - 1, nleft, n - 1, rw, ys);
            if (k != n - 2) {
                double delta = (ys[n - 1] - ys[k]) / (double) (n - 1 - k);

                for (size_t j = k + 1; j < n - 1; j++) {
                    ys[j] = ys[k] + delta * (double) (j - k);
                }
            }
        }
    }
}

/* Moving average of @len over @x (n points) into @ave (n - len + 1). */
static void
moving_average(const double *x, size_t n, size_t len, double *ave)
{
    double sum = 0;

    for (size_t i = 0; i < len; i++) {
        sum += x[i];
    }
    ave[0] = sum / (double) len;
    for (size_t j = 1; j + len <= n; j++) {
        sum += x[j + len - 1] - x[j - 1];
        ave[j] = sum / (double) len;
    }
}

/*
 * Step 2: smooths each cycle-subseries of @w (n points) and writes the
 * smooths, extended by one cycle at each end, into @c (n + 2 p).
 */
static void
cycle_subseries(const double *w, size_t n, const StlSpec *sp, bool userw,
                StlWork *wk)
{
    size_t p = (size_t) sp->np;
    size_t ns = (size_t) sp->ns;

    for (size_t j = 0; j < p; j++) {
        size_t k = (n - 1 - j) / p + 1;
        const double *rw = userw ? wk->subw : NULL;
        size_t nright = MIN(ns, k) - 1;
        size_t nleft = k > ns ? k - ns : 0;

        for (size_t i = 0; i < k; i++) {
            wk->sub[i] = w[i * p + j];
            wk->subw[i] = wk->rw[i * p + j];
        }
        loess_smooth(wk->sub, k, sp->ns, sp->isdeg, sp->nsjump, rw,
                     wk->subs + 1);
        if (!loess_at(wk->sub, k, ns, sp->isdeg, -1.0, 0, nright, rw,
                      &wk->subs[0])) {
            wk->subs[0] = wk->subs[1];
        }
        if (!loess_at(wk->sub, k, ns, sp->isdeg, (double) k, nleft, k - 1, rw,
                      &wk->subs[k + 1])) {
            wk->subs[k + 1] = wk->subs[k];
        }
        for (size_t m = 0; m < k + 2; m++) {
            wk->c[m * p + j] = wk->subs[m];
        }
    }
}

/* One call of the inner loop: @ni passes updating @season and @trend. */
static void
stl_inner(const double *y, size_t n, const StlSpec *sp, bool userw, StlWork *wk,
          double *season, double *trend)
{
    size_t p = (size_t) sp->np;

    for (int pass = 0; pass < sp->ni; pass++) {
        for (size_t i = 0; i < n; i++) {
            wk->w1[i] = y[i] - trend[i];
        }
        cycle_subseries(wk->w1, n, sp, userw, wk);
        /* Low-pass filter of C: p, p and 3 moving averages, then loess. */
        moving_average(wk->c, n + 2 * p, p, wk->w2);
        moving_average(wk->w2, n + p + 1, p, wk->w1);
        moving_average(wk->w1, n + 2, 3, wk->w2);
        loess_smooth(wk->w2, n, sp->nl, sp->ildeg, sp->nljump, NULL, wk->w1);
        for (size_t i = 0; i < n; i++) {
            season[i] = wk->c[p + i] - wk->w1[i];
        }
        for (size_t i = 0; i < n; i++) {
            wk->w1[i] = y[i] - season[i];
        }
        loess_smooth(wk->w1, n, sp->nt, sp->itdeg, sp->ntjump,
                     userw ? wk->rw : NULL, trend);
    }
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;

    return (x > y) - (x < y);
}

/* Bisquare robustness weights of the residuals y - season - trend. */
static void
robustness_weights(const double *y, size_t n, const double *season,
                   const double *trend, double *abs_r, double *rw)
{
    double cmad, c9, c1;

    for (size_t i = 0; i < n; i++) {
        abs_r[i] = fabs(y[i] - season[i] - trend[i]);
    }
    memcpy(rw, abs_r, n * sizeof(double));
    qsort(rw, n, sizeof(double), cmp_double);
    cmad = 3.0 * (rw[n / 2] + rw[n - 1 - n / 2]);
    c9 = 0.999 * cmad;
    c1 = 0.001 * cmad;
    for (size_t i = 0; i < n; i++) {
        double r = abs_r[i];

        if (r <= c1) {
            rw[i] = 1;
        } else if (r <= c9) {
            double u = r / cmad;

            rw[i] = (1 - u * u) * (1 - u * u);
        } else {
            rw[i] = 0;
        }
    }
}

/* Makes a span usable: at least 3 and odd. */
static int
fix_span(int v)
{
    v = MAX(v, 3);
    return v % 2 == 0 ? v + 1 : v;
}

static void
stl_resolve(const FcStlParams *p, size_t n, int period, StlSpec *sp)
{
    double s_window;

    sp->np = period;
    sp->periodic = p->s_window <= 0;
    s_window = sp->periodic ? 10.0 * (double) n + 1 : p->s_window;
    sp->isdeg = sp->periodic ? 0 : CLAMP(p->s_degree, 0, 1);
    sp->itdeg = CLAMP(p->t_degree, 0, 1);
    sp->ildeg = CLAMP(p->l_degree, 0, 1);
    sp->ns = fix_span((int) MIN(s_window, (double) G_MAXINT / 2));
    if (p->t_window > 0) {
        sp->nt = p->t_window;
    } else {
        sp->nt = next_odd(ceil(1.5 * period / (1 - 1.5 / s_window)));
    }
    sp->nl = p->l_window > 0 ? p->l_window : next_odd(period);
    sp->nsjump = p->s_jump > 0 ? p->s_jump : (int) ceil(s_window / 10);
    sp->ntjump = p->t_jump > 0 ? p->t_jump : (int) ceil(sp->nt / 10.0);
    sp->nljump = p->l_jump > 0 ? p->l_jump : (int) ceil(sp->nl / 10.0);
    sp->nt = fix_span(sp->nt);
    sp->nl = fix_span(sp->nl);
    sp->ni = MAX(p->inner, 1);
    sp->no = MAX(p->outer, 0);
}

void
fc_stl_params_init(FcStlParams *p, int s_window, bool robust)
{
    memset(p, 0, sizeof(*p));
    p->s_window = s_window;
    p->s_degree = 0;
    p->t_degree = 1;
    p->l_degree = 1;
    p->inner = robust ? 1 : 2;
    p->outer = robust ? 15 : 0;
}

static bool
check_series(const double *y, size_t n, GError **error)
{
    if (!y) {
        g_set_error(error, FC_ERROR, FC_ERROR_INVALID, "no series");
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(y[i])) {
            g_set_error(error, FC_ERROR, FC_ERROR_INVALID,
                        "non-finite observation at %zu", i);
            return false;
        }
    }
    return true;
}

bool
fc_stl_ex(const double *y, size_t n, int period, const FcStlParams *p,
          double *ret_seasonal, double *ret_trend, double *ret_remainder,
          GError **error)
{
    StlSpec sp;
    StlWork wk;
    size_t ext, nsub;
    g_autofree double *mem = NULL;
    g_autofree double *season = NULL;
    g_autofree double *trend = NULL;

    g_return_val_if_fail(p != NULL, false);
    if (period < 2) {
        g_set_error(error, FC_ERROR, FC_ERROR_INVALID,
                    "STL needs a period >= 2, not %d", period);
        return false;
    }
    if (n < 2 * (size_t) period) {
        g_set_error(error, FC_ERROR, FC_ERROR_SHORT,
                    "STL needs two full cycles (%zu < 2 * %d)", n, period);
        return false;
    }
    if (!check_series(y, n, error)) {
        return false;
    }
    stl_resolve(p, n, period, &sp);
    ext = n + 2 * (size_t) period;
    nsub = n / (size_t) period + 3;
    mem = g_new0(double, n + 3 * ext + 3 * nsub);
    wk.rw = mem;
    wk.c = wk.rw + n;
    wk.w1 = wk.c + ext;
    wk.w2 = wk.w1 + ext;
    wk.sub = wk.w2 + ext;
    wk.subw = wk.sub + nsub;
    wk.subs = wk.subw + nsub;
    season = g_new0(double, n);
    trend = g_new0(double, n);

    for (int k = 0;; k++) {
        stl_inner(y, n, &sp, k > 0, &wk, season, trend);
        if (k >= sp.no) {
            break;
        }
        robustness_weights(y, n, season, trend, wk.w1, wk.rw);
    }
    if (sp.periodic) {
        /* Exactly periodic: each phase's mean over the series. */
        size_t per = (size_t) period;

        for (size_t j = 0; j < per; j++) {
            double sum = 0;
            size_t cnt = 0;

            for (size_t i = j; i < n; i += per) {
                sum += season[i];
                cnt++;
            }
            for (size_t i = j; i < n; i += per) {
                season[i] = sum / (double) cnt;
            }
        }
    }
    for (size_t i = 0; i < n; i++) {
        ret_seasonal[i] = season[i];
        ret_trend[i] = trend[i];
        ret_remainder[i] = y[i] - season[i] - trend[i];
    }
    return true;
}

bool
fc_stl(const double *y, size_t n, int period, int s_window, bool robust,
       double *ret_seasonal, double *ret_trend, double *ret_remainder,
       GError **error)
{
    FcStlParams p;

    fc_stl_params_init(&p, s_window, robust);
    return fc_stl_ex(y, n, period, &p, ret_seasonal, ret_trend, ret_remainder,
                     error);
}

void
fc_mstl_options_init(FcMstlOptions *o)
{
    memset(o, 0, sizeof(*o));
    o->iterate = 2;
    for (int i = 0; i < FC_MAX_PERIODS; i++) {
        o->s_window[i] = -1;
    }
    o->robust = false;
    o->seas_var = false;
    o->trend = FC_MSTL_TREND_AUTO;
    o->lambda = NAN;
}

/* The seasonal window of the @i-th used period (0-based). */
static int
mstl_s_window(const FcMstlOptions *o, size_t i)
{
    if (i < FC_MAX_PERIODS && o->s_window[i] >= 0) {
        return o->s_window[i];
    }
    return 7 + 4 * (int) (i + 1);
}

/* Indices of the usable periods (n > 2 p), in ascending period order. */
static size_t
mstl_order(size_t n, const int *periods, size_t np, size_t *order)
{
    size_t used = 0;

    for (size_t i = 0; i < np; i++) {
        size_t pos;

        if (periods[i] < 2 || n <= 2 * (size_t) periods[i]) {
            continue;
        }
        /* Insertion sort, stable for equal periods. */
        pos = used;
        while (pos > 0 && periods[order[pos - 1]] > periods[i]) {
            order[pos] = order[pos - 1];
            pos--;
        }
        order[pos] = i;
        used++;
    }
    return used;
}

bool
fc_mstl_ex(const double *y, size_t n, const int *periods, size_t np,
           const FcMstlOptions *o, double **ret_seasonals, double *ret_trend,
           double *ret_remainder, size_t *ret_used, GError **error)
{
    FcMstlOptions defaults;
    g_autofree size_t *order = NULL;
    g_autofree double *deseas = NULL;
    g_autofree double *seas = NULL;
    g_autofree double *trend = NULL;
    g_autofree double *rem = NULL;
    size_t used;
    int iterate;

    if (!o) {
        fc_mstl_options_init(&defaults);
        o = &defaults;
    }
    if (!check_series(y, n, error)) {
        return false;
    }
    if (np > 0 && !periods) {
        g_set_error(error, FC_ERROR, FC_ERROR_INVALID, "no periods");
        return false;
    }
    order = g_new0(size_t, np + 1);
    used = mstl_order(n, periods, np, order);
    if (used == 0) {
        g_set_error(error, FC_ERROR, FC_ERROR_SHORT,
                    "MSTL needs a period with more than two full cycles");
        return false;
    }
    deseas = g_memdup2(y, n * sizeof(double));
    seas = g_new0(double, used *n);
    trend = g_new0(double, n);
    rem = g_new0(double, n);
    iterate = MAX(o->iterate, 1);
    for (int it = 0; it < iterate; it++) {
        for (size_t i = 0; i < used; i++) {
            double *s = seas + i * n;
            FcStlParams p;

            for (size_t t = 0; t < n; t++) {
                deseas[t] += s[t];
            }
            fc_stl_params_init(&p, mstl_s_window(o, i), o->robust);
            if (!fc_stl_ex(deseas, n, periods[order[i]], &p, s, trend, rem,
                           error)) {
                return false;
            }
            for (size_t t = 0; t < n; t++) {
                deseas[t] -= s[t];
            }
        }
    }
    for (size_t i = 0; i < np; i++) {
        memset(ret_seasonals[i], 0, n * sizeof(double));
    }
    for (size_t i = 0; i < used; i++) {
        memcpy(ret_seasonals[order[i]], seas + i * n, n * sizeof(double));
    }
    for (size_t t = 0; t < n; t++) {
        ret_trend[t] = trend[t];
        ret_remainder[t] = deseas[t] - trend[t];
    }
    if (ret_used) {
        *ret_used = used;
    }
    return true;
}

bool
fc_mstl(const double *y, size_t n, const int *periods, size_t np,
        double **ret_seasonals, double *ret_trend, double *ret_remainder,
        size_t *ret_used, GError **error)
{
    return fc_mstl_ex(y, n, periods, np, NULL, ret_seasonals, ret_trend,
                      ret_remainder, ret_used, error);
}

/*
 * Adds the seasonal naive forecast of one seasonal component @s (period
 * @p) to @fc, and to @var the variance of that forecast if the
 * component were a seasonal random walk: k times the mean square
 * cycle-to-cycle change, k the number of cycles ahead.  (The caller
 * adds the remainder's variance once: ETS's own variance comes from
 * one-step errors of the smooth adjusted series and misses how much a
 * day differs from the pattern the decomposition extracted.)
 */
static void
seasonal_forecast(const double *s, size_t n, size_t p, size_t h, double *fc,
                  double *var)
{
    double v = 0;

    for (size_t t = p; t < n; t++) {
        v += (s[t] - s[t - p]) * (s[t] - s[t - p]);
    }
    v /= (double) (n - p);
    for (size_t i = 0; i < h; i++) {
        fc[i] += s[n - p + i % p];
        var[i] += (double) (i / p + 1) * v;
    }
}

/* Widens the interval [lo, hi] around @mean by the variance @var at the
 * normal quantile @z, each side separately (ETS intervals may be
 * asymmetric). */
static void
widen(double mean, double var, double z, double *lo, double *hi)
{
    double dl = mean - *lo, dh = *hi - mean;

    *lo = mean - sqrt(dl * dl + z * z * var);
    *hi = mean + sqrt(dh * dh + z * z * var);
}

/* Box-Cox transform of a positive value. */
static double
box_cox(double y, double lambda)
{
    return lambda == 0 ? log(y) : (pow(y, lambda) - 1) / lambda;
}

/* Its inverse; values outside the transform's range map to 0. */
static double
inv_box_cox(double z, double lambda)
{
    double base;

    if (lambda == 0) {
        return exp(fmin(z, 700));
    }
    base = lambda * z + 1;
    return base > 0 ? pow(base, 1 / lambda) : 0;
}

/* Guerrero's criterion: the coefficient of variation of sd / mean^(1 -
 * lambda) over the blocks whose means and sds are given. */
static double
guerrero_cv(const double *mean, const double *sd, size_t nb, double lambda)
{
    double s = 0, ss = 0, m;

    for (size_t b = 0; b < nb; b++) {
        double r = sd[b] / pow(mean[b], 1 - lambda);

        s += r;
        ss += r * r;
    }
    m = s / (double) nb;
    if (!(m > 0)) {
        return INFINITY;
    }
    return sqrt(fmax(ss - s * m, 0) / (double) (nb - 1)) / m;
}

double
fc_box_cox_lambda(const double *y, size_t n, int period, double lo, double hi)
{
    const double gr = (sqrt(5.0) - 1) / 2;
    size_t p = (size_t) MAX(period, 2);
    size_t nb = n / p, start;
    g_autofree double *mean = NULL;
    g_autofree double *sd = NULL;
    double a = lo, b = hi, c, d, fc, fd;

    if (nb < 2 || !(lo <= hi)) {
        return 1;
    }
    start = n - nb * p;
    mean = g_new(double, nb);
    sd = g_new(double, nb);
    for (size_t k = 0; k < nb; k++) {
        const double *x = y + start + k * p;
        double s = 0, ss = 0;

        for (size_t i = 0; i < p; i++) {
            if (!(x[i] > 0) || !isfinite(x[i])) {
                return 1;
            }
            s += x[i];
        }
        mean[k] = s / (double) p;
        for (size_t i = 0; i < p; i++) {
            ss += (x[i] - mean[k]) * (x[i] - mean[k]);
        }
        sd[k] = sqrt(ss / (double) (p - 1));
    }
    /* Golden-section search to about 1e-4, as R's optimize(). */
    c = b - gr * (b - a);
    d = a + gr * (b - a);
    fc = guerrero_cv(mean, sd, nb, c);
    fd = guerrero_cv(mean, sd, nb, d);
    while (b - a > 1e-4) {
        if (fc < fd) {
            b = d;
            d = c;
            fd = fc;
            c = b - gr * (b - a);
            fc = guerrero_cv(mean, sd, nb, c);
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + gr * (b - a);
            fd = guerrero_cv(mean, sd, nb, d);
        }
    }
    return (a + b) / 2;
}

/*
 * Fits the non-seasonal ETS models @o allows to @y and returns the one
 * with the smallest AICc.
 */
static FcEtsModel *
fit_adjusted(const double *y, size_t n, const FcMstlOptions *o, GError **error)
{
    static const FcEtsSpec damped[] = {
        {'A', 'N', false, 'N'},
        {'M', 'N', false, 'N'},
        {'A', 'A', true, 'N'},
        {'M', 'A', true, 'N'},
    };
    size_t nspec = o->trend == FC_MSTL_TREND_NONE ? 2 : G_N_ELEMENTS(damped);
    FcEtsModel *best = NULL;
    bool positive = true;

    if (o->trend == FC_MSTL_TREND_AUTO) {
        /* R's candidate set, undamped trends included: stlf() fits
         * ets(model = "ZZN"). */
        FcEtsAuto r_set = FC_ETS_AUTO_R;

        r_set.quick = o->quick_ets;
        return fc_ets_fit_auto(y, n, 1, &r_set, error);
    }
    for (size_t i = 0; i < n; i++) {
        positive = positive && y[i] > 0;
    }
    for (size_t k = 0; k < nspec; k++) {
        FcEtsModel *m;

        if (damped[k].error == 'M' && !positive) {
            continue;
        }
        m = fc_ets_fit(y, n, 1, &damped[k], NULL);
        if (m && (!best || fc_ets_aicc(m) < fc_ets_aicc(best))) {
            fc_ets_free(best);
            best = m;
        } else {
            fc_ets_free(m);
        }
    }
    if (!best) {
        return fc_ets_fit(y, n, 1, NULL, error);
    }
    return best;
}

FcResult *
fc_mstl_forecast_ex(const double *y, size_t n, const int *periods, size_t np,
                    size_t h, const FcMstlOptions *o, GError **error)
{
    FcMstlOptions defaults;
    g_autofree size_t *order = NULL;
    g_autofree double *mem = NULL;
    g_autofree double **seas = NULL;
    g_autofree double *sfc = NULL;
    g_autofree double *svar = NULL;
    g_autofree double *adj = NULL;
    g_autoptr(FcEtsModel) model = NULL;
    g_autoptr(FcResult) r = NULL;
    g_autoptr(GString) name = NULL;
    g_autofree double *z = NULL;
    double *trend, *rem;
    size_t used = 0;
    bool transform;
    double lambda, rem_var = 0;

    if (!o) {
        fc_mstl_options_init(&defaults);
        o = &defaults;
    }
    if (h == 0) {
        g_set_error(error, FC_ERROR, FC_ERROR_INVALID, "horizon 0");
        return NULL;
    }
    if (!check_series(y, n, error)) {
        return NULL;
    }
    if (n == 0) {
        g_set_error(error, FC_ERROR, FC_ERROR_EMPTY, "empty series");
        return NULL;
    }
    if (np > 0 && !periods) {
        g_set_error(error, FC_ERROR, FC_ERROR_INVALID, "no periods");
        return NULL;
    }
    order = g_new0(size_t, np + 1);
    mem = g_new0(double, (np + 2) * n);
    seas = g_new0(double *, np + 1);
    for (size_t i = 0; i < np; i++) {
        seas[i] = mem + i * n;
    }
    trend = mem + np * n;
    rem = trend + n;
    sfc = g_new0(double, h);
    svar = g_new0(double, h);
    adj = g_memdup2(y, n * sizeof(double));
    lambda = o->lambda;
    transform = isfinite(lambda) || o->lambda_auto;
    for (size_t t = 0; transform && t < n; t++) {
        transform = y[t] > 0;
    }
    if (transform && o->lambda_auto) {
        size_t k = mstl_order(n, periods, np, order);

        lambda = fc_box_cox_lambda(y, n, k ? periods[order[0]] : 2, 0, 1);
    }
    if (transform) {
        z = g_new(double, n);
        for (size_t t = 0; t < n; t++) {
            z[t] = box_cox(y[t], lambda);
        }
        y = z;
        memcpy(adj, z, n * sizeof(double));
    }
    name = g_string_new("MSTL(");
    if (mstl_order(n, periods, np, order) > 0) {
        if (!fc_mstl_ex(y, n, periods, np, o, seas, trend, rem, &used, error)) {
            return NULL;
        }
        (void) mstl_order(n, periods, np, order);
        for (size_t i = 0; i < used; i++) {
            size_t k = order[i];

            g_string_append_printf(name, "%s%d", i ? "," : "", periods[k]);
            seasonal_forecast(seas[k], n, (size_t) periods[k], h, sfc, svar);
        }
        for (size_t t = 0; t < n; t++) {
            adj[t] = trend[t] + rem[t];
            rem_var += rem[t] * rem[t] / (double) n;
        }
        for (size_t i = 0; i < h; i++) {
            svar[i] += rem_var;
        }
    }
    g_string_append(name, ")+");

    model = fit_adjusted(adj, n, o, error);
    if (!model) {
        return NULL;
    }
    r = fc_result_new(h);
    if (!fc_ets_forecast(model, h, r, error)) {
        return NULL;
    }
    for (size_t i = 0; i < h; i++) {
        r->mean[i] += sfc[i];
        r->lo80[i] += sfc[i];
        r->hi80[i] += sfc[i];
        r->lo95[i] += sfc[i];
        r->hi95[i] += sfc[i];
        if (o->seas_var) {
            widen(r->mean[i], svar[i], FC_Z80, &r->lo80[i], &r->hi80[i]);
            widen(r->mean[i], svar[i], FC_Z95, &r->lo95[i], &r->hi95[i]);
        }
        if (transform) {
            r->mean[i] = inv_box_cox(r->mean[i], lambda);
            r->lo80[i] = inv_box_cox(r->lo80[i], lambda);
            r->hi80[i] = inv_box_cox(r->hi80[i], lambda);
            r->lo95[i] = inv_box_cox(r->lo95[i], lambda);
            r->hi95[i] = inv_box_cox(r->hi95[i], lambda);
        }
    }
    if (r->method) {
        g_string_append(name, r->method);
    } else {
        g_autofree char *d = fc_ets_describe(model);

        g_string_append(name, d);
    }
    g_free(r->method);
    r->method = g_string_free(g_steal_pointer(&name), FALSE);
    return g_steal_pointer(&r);
}

FcResult *
fc_mstl_forecast(const double *y, size_t n, const int *periods, size_t np,
                 size_t h, GError **error)
{
    return fc_mstl_forecast_ex(y, n, periods, np, h, NULL, error);
}
