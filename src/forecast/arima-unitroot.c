/*
 * forecast/arima-unitroot.c: how many differences an ARIMA model needs,
 * chosen as R's forecast::auto.arima() chooses them (Hyndman &
 * Khandakar 2008, section 3.2).
 *
 * Seasonal differences D (0 or 1): the seasonal strength of Wang, Smith
 * & Hyndman (2006), 1 - var(remainder) / var(seasonal + remainder) of an
 * additive decomposition, clipped to [0, 1]; D = 1 when it exceeds 0.64
 * (forecast::nsdiffs(test = "seas")).  The decomposition is STL with
 * seasonal window 11, not robust (mstl.c), as forecast's mstl() makes
 * it for one period; the classical one (centred moving-average trend,
 * per-position means of the detrended series) stands in should STL
 * refuse the series.
 *
 * Ordinary differences d: repeated KPSS tests (Kwiatkowski, Phillips,
 * Schmidt & Shin 1992) of level stationarity, differencing while the
 * null is rejected at 5 % (forecast::ndiffs()).  The statistic is
 *
 *   eta = n^-2 sum_t S_t^2 / s^2(l),  S_t = sum_{i<=t} (x_i - mean x),
 *
 * with the Newey-West long-run variance s^2(l) (Bartlett weights,
 * l = trunc(3 sqrt(n) / 13) lags, as forecast::ndiffs() asks urca for).
 * Its 5 % critical value is 0.463; the p-value R interpolates from the
 * table (0.347, 0.463, 0.574, 0.739) -> (10, 5, 2.5, 1 %) is below 5 %
 * exactly when eta > 0.463.
 */
#include "forecast/arima-priv.h"
#include "forecast/mstl.h"

#include <math.h>

#define KPSS_CRIT_5PCT 0.463
#define SEAS_STRENGTH_MIN 0.64

double
fc_arima_kpss(const double *x, size_t n, int lags)
{
    double mean = 0, num = 0, s2 = 0, cum = 0;
    g_autofree double *e = NULL;

    if (n < 2) {
        return NAN;
    }
    if (lags < 0) {
        lags = (int) trunc(3 * sqrt((double) n) / 13);
    }
    e = g_new0(double, n);
    for (size_t i = 0; i < n; i++) {
        mean += x[i];
    }
    mean /= (double) n;
    for (size_t i = 0; i < n; i++) {
        e[i] = x[i] - mean;
        cum += e[i];
        num += cum * cum;
        s2 += e[i] * e[i];
    }
    for (int l = 1; l <= lags && (size_t) l < n; l++) {
        double c = 0;

        for (size_t t = (size_t) l; t < n; t++) {
            c += e[t] * e[t - (size_t) l];
        }
        s2 += 2 * (1 - (double) l / (lags + 1)) * c;
    }
    s2 /= (double) n;
    num /= (double) n * (double) n;
    if (!(s2 > 0)) {
        return NAN;
    }
    return num / s2;
}

int
fc_arima_ndiffs(const double *x, size_t n, int max_d)
{
    g_autofree double *cur = g_memdup2(x, sizeof(double) * MAX(n, 1));
    size_t len = n;
    int d = 0;
    double stat;

    if (arima_is_constant(cur, len)) {
        return 0;
    }
    stat = fc_arima_kpss(cur, len, -1);
    if (!isfinite(stat)) {
        return 0;
    }
    while (stat > KPSS_CRIT_5PCT && d < max_d) {
        d++;
        for (size_t i = 0; i + 1 < len; i++) {
            cur[i] = cur[i + 1] - cur[i];
        }
        len--;
        if (arima_is_constant(cur, len)) {
            return d;
        }
        stat = fc_arima_kpss(cur, len, -1);
        if (!isfinite(stat)) {
            return d - 1;
        }
    }
    return d;
}

/* Returns: 1 - var(@rem) / var(@seas + @rem) over @n values, in [0, 1]. */
static double
strength_of(const double *seas, const double *rem, size_t n)
{
    double m1 = 0, m2 = 0, v1 = 0, v2 = 0;

    for (size_t t = 0; t < n; t++) {
        m1 += rem[t];
        m2 += seas[t] + rem[t];
    }
    m1 /= (double) n;
    m2 /= (double) n;
    for (size_t t = 0; t < n; t++) {
        double a = rem[t] - m1, b = seas[t] + rem[t] - m2;

        v1 += a * a;
        v2 += b * b;
    }
    if (!(v2 > 0)) {
        return 0;
    }
    return CLAMP(1 - v1 / v2, 0, 1);
}

/* The classical decomposition's strength, should STL refuse. */
static double
classical_strength(const double *x, size_t n, int m)
{
    size_t half = (size_t) m / 2;
    size_t lo = half, hi = n - half; /* the trend exists on [lo, hi) */
    g_autofree double *seas = g_new0(double, n);
    g_autofree double *rem = g_new0(double, n);
    g_autofree double *idx = g_new0(double, m);
    g_autofree int *num = g_new0(int, m);
    double smean = 0;

    for (size_t t = lo; t < hi; t++) {
        double ma = 0;

        if (m % 2 == 0) {
            ma = 0.5 * (x[t - half] + x[t + half]);
            for (size_t k = t - half + 1; k < t + half; k++) {
                ma += x[k];
            }
        } else {
            for (size_t k = t - half; k <= t + half; k++) {
                ma += x[k];
            }
        }
        rem[t] = x[t] - ma / m; /* detrended, for now */
        idx[t % (size_t) m] += rem[t];
        num[t % (size_t) m]++;
    }
    for (int k = 0; k < m; k++) {
        idx[k] = num[k] ? idx[k] / num[k] : 0;
        smean += idx[k] / m;
    }
    for (size_t t = lo; t < hi; t++) {
        seas[t] = idx[t % (size_t) m] - smean;
        rem[t] -= seas[t];
    }
    return strength_of(seas + lo, rem + lo, hi - lo);
}

double
fc_arima_seasonal_strength(const double *x, size_t n, int m)
{
    g_autofree double *seas = NULL;
    g_autofree double *trend = NULL;
    g_autofree double *rem = NULL;

    if (m < 2 || n < 2 * (size_t) m + 1) {
        return 0;
    }
    seas = g_new0(double, n);
    trend = g_new0(double, n);
    rem = g_new0(double, n);
    /* mstl()'s single-period decomposition: STL, seasonal window 11,
     * not robust. */
    if (!fc_stl(x, n, m, 11, false, seas, trend, rem, NULL)) {
        return classical_strength(x, n, m);
    }
    return strength_of(seas, rem, n);
}

int
fc_arima_nsdiffs(const double *x, size_t n, int m)
{
    if (m < 2 || n < 2 * (size_t) m + 1 || arima_is_constant(x, n)) {
        return 0;
    }
    return fc_arima_seasonal_strength(x, n, m) > SEAS_STRENGTH_MIN ? 1 : 0;
}
