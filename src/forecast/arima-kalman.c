/*
 * forecast/arima-kalman.c: the numerical core of the ARIMA module: the
 * multiplied-out ARMA operators, the conditional sum of squares, the
 * exact Gaussian likelihood, the state-space forecast, and the parameter
 * transforms and root checks that keep a model stationary and invertible.
 *
 * Exact likelihood.  The series is differenced first and the mean or
 * drift removed, so only a stationary ARMA(np, nq) remains.  It is put
 * in Harvey's state-space form (Harvey 1989, section 3.3; the form R's
 * arima() uses), state dimension r = max(np, nq + 1):
 *
 *   alpha_{t+1} = T alpha_t + R e_{t+1},   w_t = Z alpha_t,
 *   T = [a | I_{r-1} ; 0],  R = (1, b_1, ..., b_{r-1})',  Z = (1, 0, ...),
 *
 * and the Kalman filter starts from the stationary covariance P0 (which
 * solves P0 = T P0 T' + R R'), as in Gardner, Harvey & Phillips (1980).
 * Two things make it cheap for long seasonal models, where r reaches 50
 * and the Riccati recursion would cost O(r^2) per observation:
 *
 *   - only the first column of P0 is needed, and it follows in O(r np)
 *     from the autocovariances gamma and the psi weights:
 *     P0[j][0] = sum_{k>=j} a_{k+1} gamma(k+1-j) + b_k psi(k-j).  The
 *     autocovariances come from those of the pure AR part, found in
 *     O(np^2) by stepping its operator down to partial autocorrelations
 *     and running the Durbin-Levinson recursion back up (solving the
 *     linear system of Brockwell & Davis 1991, eq. 3.3.8, would cost
 *     O(np^3), 50 times more for a seasonal model), then
 *     gamma(k) = sum_ij b_i b_j gamma_AR(k + j - i);
 *   - because P0 is stationary, P_{t+1} - P_t has rank one, so the
 *     Chandrasekhar recursions (Morf, Sidhu & Kailath 1974; Herbst 2015)
 *     carry the filter with O(r) work per step:
 *
 *       F_{t+1} = F_t + M_t u^2,          u = Z W_t,
 *       k_{t+1} = k_t + M_t u T W_t,      k_t = T P_t Z',
 *       W_{t+1} = T W_t - (u / F_t) k_t,  M_{t+1} = M_t F_t / F_{t+1},
 *
 *     from W_1 = k_1, M_1 = -1 / F_1; once M W'W is negligible the
 *     filter has reached its steady state and only the mean is updated.
 *
 * The log-likelihood with sigma^2 concentrated out is, as in R's
 * arima(), -0.5 (n log(ssq / n) + sum log F_t + n + n log 2 pi) with
 * ssq = sum v_t^2 / F_t over the n differenced observations.
 *
 * Forecast.  The ARMA state at the end of the sample (mean and full
 * covariance, accumulated from the rank-one updates) is joined with the
 * last nd values of the undifferenced series into one state vector;
 * iterating that model's prediction equations gives the forecasts and
 * their variances, integration included.
 */
#include "forecast/arima-priv.h"

#include <complex.h>
#include <math.h>
#include <string.h>

void
arima_arma_init(const FcArimaOrder *o, ArimaArma *arma)
{
    int m = o->m > 1 ? o->m : 1;

    memset(arma, 0, sizeof(*arma));
    arma->np = o->p + m * o->P;
    arma->nq = o->q + m * o->Q;
    arma->r = MAX(arma->np, arma->nq + 1);
    arma->a = g_new0(double, arma->np + 1);
    arma->b = g_new0(double, arma->nq + 1);
    arma->b[0] = 1;
    arma->ar_lag = g_new0(int, arma->np + 1);
    arma->ar_c = g_new0(double, arma->np + 1);
    arma->ma_lag = g_new0(int, arma->nq + 1);
    arma->ma_c = g_new0(double, arma->nq + 1);
    arma->ar_slag = g_new0(int, arma->np + 1);
    arma->ma_slag = g_new0(int, arma->nq + 1);
    {
        g_autofree bool *ar = g_new0(bool, arma->np + 1);
        g_autofree bool *ma = g_new0(bool, arma->nq + 1);

        for (int j = 0; j <= (m > 1 ? o->P : 0); j++) {
            for (int i = 0; i <= o->p; i++) {
                ar[i + j * m] = i + j > 0;
            }
        }
        for (int j = 0; j <= (m > 1 ? o->Q : 0); j++) {
            for (int i = 0; i <= o->q; i++) {
                ma[i + j * m] = i + j > 0;
            }
        }
        for (int l = 1; l <= arma->np; l++) {
            if (ar[l]) {
                arma->ar_slag[arma->ar_ns++] = l;
            }
        }
        for (int l = 1; l <= arma->nq; l++) {
            if (ma[l]) {
                arma->ma_slag[arma->ma_ns++] = l;
            }
        }
    }
}

void
arima_arma_clear(ArimaArma *arma)
{
    g_free(arma->a);
    g_free(arma->b);
    g_free(arma->ar_lag);
    g_free(arma->ar_c);
    g_free(arma->ma_lag);
    g_free(arma->ma_c);
    g_free(arma->ar_slag);
    g_free(arma->ma_slag);
    memset(arma, 0, sizeof(*arma));
}

void
arima_arma_set(ArimaArma *arma, const FcArimaOrder *o, const double *coef)
{
    const double *phi = coef;
    const double *theta = phi + o->p;
    const double *sphi = theta + o->q;
    const double *stheta = sphi + o->P;
    int m = o->m > 1 ? o->m : 1;

    memset(arma->a, 0, sizeof(double) * (arma->np + 1));
    memset(arma->b, 0, sizeof(double) * (arma->nq + 1));
    arma->b[0] = 1;
    /* (1 - sum phi_i B^i)(1 - sum Phi_j B^jm) = 1 - sum a_k B^k. */
    for (int i = 1; i <= o->p; i++) {
        arma->a[i] += phi[i - 1];
    }
    for (int j = 1; j <= o->P; j++) {
        arma->a[(size_t) j * (size_t) m] += sphi[j - 1];
        for (int i = 1; i <= o->p; i++) {
            arma->a[i + j * m] -= phi[i - 1] * sphi[j - 1];
        }
    }
    /* (1 + sum theta_i B^i)(1 + sum Theta_j B^jm) = 1 + sum b_k B^k. */
    for (int i = 1; i <= o->q; i++) {
        arma->b[i] += theta[i - 1];
    }
    for (int j = 1; j <= o->Q; j++) {
        arma->b[(size_t) j * (size_t) m] += stheta[j - 1];
        for (int i = 1; i <= o->q; i++) {
            arma->b[i + j * m] += theta[i - 1] * stheta[j - 1];
        }
    }
    arma->ar_nnz = 0;
    for (int k = 1; k <= arma->np; k++) {
        if (arma->a[k] != 0) {
            arma->ar_lag[arma->ar_nnz] = k;
            arma->ar_c[arma->ar_nnz++] = arma->a[k];
        }
    }
    arma->ma_nnz = 0;
    for (int k = 1; k <= arma->nq; k++) {
        if (arma->b[k] != 0) {
            arma->ma_lag[arma->ma_nnz] = k;
            arma->ma_c[arma->ma_nnz++] = arma->b[k];
        }
    }
}

/*
 * The CSS recursions are latency-bound: every residual waits for the one
 * before.  They are written so that only the lag-1 MA term sits on that
 * chain: the AR part is a separate pass with no dependency between
 * steps, the other MA terms are summed before the lag-1 term is added,
 * and sums over the series use four accumulators.  (About 2x faster than
 * the plain loops; the rounding differs from them, not between runs.)
 */
static double
dot4(const double *a, const double *b, size_t n)
{
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t i = 0;

    for (; i + 4 <= n; i += 4) {
        s0 += a[i] * b[i];
        s1 += a[i + 1] * b[i + 1];
        s2 += a[i + 2] * b[i + 2];
        s3 += a[i + 3] * b[i + 3];
    }
    for (; i < n; i++) {
        s0 += a[i] * b[i];
    }
    return (s0 + s1) + (s2 + s3);
}

static double
sum4(const double *a, size_t n)
{
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t i = 0;

    for (; i + 4 <= n; i += 4) {
        s0 += a[i];
        s1 += a[i + 1];
        s2 += a[i + 2];
        s3 += a[i + 3];
    }
    for (; i < n; i++) {
        s0 += a[i];
    }
    return (s0 + s1) + (s2 + s3);
}

double
arima_css(const ArimaArma *arma, const double *w, size_t nw, double *buf)
{
    size_t np = (size_t) arma->np;
    size_t nq = (size_t) arma->nq;
    double *res = buf + nq; /* res[t] for t >= -nq; zero before np */
    int nma = arma->ma_nnz;
    double ssq;

    if (nw <= np) {
        return INFINITY;
    }
    memset(buf, 0, sizeof(double) * (nq + np));
    /* The AR part: res[t] = w[t] - sum a_k w[t - k]. */
    memcpy(res + np, w + np, sizeof(double) * (nw - np));
    for (int k = 0; k < arma->ar_nnz; k++) {
        const double c = arma->ar_c[k];
        const double *src = w + np - (size_t) arma->ar_lag[k];

        for (size_t t = 0; t < nw - np; t++) {
            res[np + t] -= c * src[t];
        }
    }
    /* The MA recursion, in place; lags ascend, so ma_lag[0] is the
     * shortest and goes last. */
    if (nma > 0) {
        const int *lag = arma->ma_lag;
        const double *c = arma->ma_c;
        const double c0 = c[0];
        const ptrdiff_t l0 = lag[0];

        for (size_t t = np; t < nw; t++) {
            double acc = 0;

            for (int k = nma - 1; k > 0; k--) {
                acc += c[k] * res[(ptrdiff_t) t - lag[k]];
            }
            res[t] = (res[t] - acc) - c0 * res[(ptrdiff_t) t - l0];
        }
    }
    ssq = dot4(res + np, res + np, nw - np) / (double) (nw - np);
    return isfinite(ssq) ? ssq : INFINITY;
}

double
arima_css_grad(const ArimaArma *arma, const double *w, size_t nw, double *buf,
               double *ret_ga, double *ret_gb, double *ret_gc)
{
    double s2 = arima_css(arma, w, nw, buf);

    if (!isfinite(s2)) {
        return INFINITY;
    }
    arima_css_adjoint(arma, w, nw, buf, ret_ga, ret_gb, ret_gc);
    return s2;
}

void
arima_css_adjoint(const ArimaArma *arma, const double *w, size_t nw,
                  double *buf, double *ret_ga, double *ret_gb, double *ret_gc)
{
    size_t np = (size_t) arma->np;
    size_t nq = (size_t) arma->nq;
    double *res = buf + nq;          /* res[t], zero before np */
    double *lam = buf + nq + nw + 1; /* lam[t], zero from nw on */
    int nma = arma->ma_nnz;
    size_t nu_n = nw - np;
    double nu = (double) nu_n, lsum, asum = 1;

    /* Adjoint: lam_t = d ssq / d e_t through every later residual. */
    memset(lam + nw, 0, sizeof(double) * (nq + 1));
    if (nma > 0) {
        const int *lag = arma->ma_lag;
        const double *c = arma->ma_c;
        const double c0 = c[0];
        const size_t l0 = (size_t) lag[0];

        for (size_t t = nw; t-- > np;) {
            double acc = 0;

            for (int k = nma - 1; k > 0; k--) {
                acc += c[k] * lam[t + (size_t) lag[k]];
            }
            lam[t] = (2 * res[t] - acc) - c0 * lam[t + l0];
        }
    } else {
        for (size_t t = np; t < nw; t++) {
            lam[t] = 2 * res[t];
        }
    }
    lsum = sum4(lam + np, nu_n);
    memset(ret_ga, 0, sizeof(double) * (np + 1));
    memset(ret_gb, 0, sizeof(double) * (nq + 1));
    for (int k = 0; k < arma->ar_ns; k++) {
        size_t lag = (size_t) arma->ar_slag[k];

        ret_ga[lag] = -dot4(lam + np, w + np - lag, nu_n) / nu;
    }
    for (int k = 0; k < arma->ma_ns; k++) {
        size_t lag = (size_t) arma->ma_slag[k];

        ret_gb[lag] = -dot4(lam + np, res + np - lag, nu_n) / nu;
    }
    for (int k = 0; k < arma->ar_nnz; k++) {
        asum -= arma->ar_c[k];
    }
    *ret_gc = -asum * lsum / nu;
}

void
arima_work_init(ArimaWork *ws, const ArimaArma *arma)
{
    int r = arma->r;
    int k = arma->np + 1;

    memset(ws, 0, sizeof(*ws));
    ws->r = r;
    ws->np = arma->np;
    ws->gamma = g_new0(double, r + 2);
    ws->psi = g_new0(double, r + 2);
    ws->col = g_new0(double, r + 1);
    ws->state = g_new0(double, r + 1);
    ws->kf = g_new0(double, r);
    ws->wv = g_new0(double, r + 1);
    ws->tmp = g_new0(double, r + 1);
    ws->gx = g_new0(double, r + arma->nq + 2);
    ws->ar1 = g_new0(double, k);
    ws->ar2 = g_new0(double, k);
    ws->kap = g_new0(double, k);
}

void
arima_work_clear(ArimaWork *ws)
{
    g_free(ws->gamma);
    g_free(ws->psi);
    g_free(ws->col);
    g_free(ws->state);
    g_free(ws->kf);
    g_free(ws->wv);
    g_free(ws->tmp);
    g_free(ws->gx);
    g_free(ws->ar1);
    g_free(ws->ar2);
    g_free(ws->kap);
    g_free(ws->pmat);
    memset(ws, 0, sizeof(*ws));
}

bool
arima_solve(double *lu, int k, double *rhs)
{
    double scale = 0;

    for (int i = 0; i < k * k; i++) {
        scale = MAX(scale, fabs(lu[i]));
    }
    for (int c = 0; c < k; c++) {
        int best = c;
        double piv;

        for (int i = c + 1; i < k; i++) {
            if (fabs(lu[i * k + c]) > fabs(lu[best * k + c])) {
                best = i;
            }
        }
        if (!(fabs(lu[best * k + c]) > 1e-13 * scale)) {
            return false;
        }
        if (best != c) {
            double t;

            for (int j = 0; j < k; j++) {
                t = lu[c * k + j];
                lu[c * k + j] = lu[best * k + j];
                lu[best * k + j] = t;
            }
            t = rhs[c];
            rhs[c] = rhs[best];
            rhs[best] = t;
        }
        piv = lu[c * k + c];
        for (int i = c + 1; i < k; i++) {
            double f = lu[i * k + c] / piv;

            if (f == 0) {
                continue;
            }
            for (int j = c; j < k; j++) {
                lu[i * k + j] -= f * lu[c * k + j];
            }
            rhs[i] -= f * rhs[c];
        }
    }
    for (int i = k - 1; i >= 0; i--) {
        double s = rhs[i];

        for (int j = i + 1; j < k; j++) {
            s -= lu[i * k + j] * rhs[j];
        }
        rhs[i] = s / lu[i * k + i];
    }
    return true;
}

/* Fills ws->psi[0..r], ws->gamma[0..r] (unit innovation variance) and
 * ws->col, the first column of P0.  Returns: false if not stationary. */
static bool
stationary_start(const ArimaArma *arma, ArimaWork *ws)
{
    int r = arma->r, np = arma->np, nq = arma->nq;
    double *psi = ws->psi, *gamma = ws->gamma, *col = ws->col;

    psi[0] = 1;
    for (int j = 1; j <= r; j++) {
        double s = j <= nq ? arma->b[j] : 0;

        for (int k = 0; k < arma->ar_nnz && arma->ar_lag[k] <= j; k++) {
            s += arma->ar_c[k] * psi[j - arma->ar_lag[k]];
        }
        psi[j] = s;
    }
    /* Autocovariances of the pure AR process x = e / a(B): its partial
     * autocorrelations by the step-down recursion, then Levinson's
     * recursion forward, gamma_x(k) = sum_j phi^(k)_j gamma_x(k - j)
     * (O(np^2), where solving the Yule-Walker system would be O(np^3)).
     * Then w = b(B) x: gamma(k) = sum_ij b_i b_j gamma_x(k + j - i). */
    {
        int lmax = r + nq + 1;
        double *gx = ws->gx, *cur = ws->ar1, *nxt = ws->ar2, *kap = ws->kap;
        double g0 = 1;

        memset(cur, 0, sizeof(double) * (size_t) (np + 1));
        for (int k = 0; k < arma->ar_nnz; k++) {
            cur[arma->ar_lag[k]] = arma->ar_c[k];
        }
        for (int k = np; k >= 1; k--) {
            double kk = cur[k], den = 1 - kk * kk;

            if (!(fabs(kk) < 1) || !(den > 1e-12)) {
                return false;
            }
            kap[k] = kk;
            g0 /= den;
            for (int j = 1; j < k; j++) {
                nxt[j] = (cur[j] + kk * cur[k - j]) / den;
            }
            memcpy(cur + 1, nxt + 1, sizeof(double) * (size_t) MAX(k - 1, 0));
        }
        if (!isfinite(g0)) {
            return false;
        }
        gx[0] = g0;
        for (int k = 1; k <= np; k++) {
            double sum = 0;

            /* cur holds phi^(k-1); nxt becomes phi^(k). */
            for (int j = 1; j < k; j++) {
                nxt[j] = cur[j] - kap[k] * cur[k - j];
            }
            nxt[k] = kap[k];
            for (int j = 1; j <= k; j++) {
                cur[j] = nxt[j];
                sum += nxt[j] * gx[k - j];
            }
            gx[k] = k <= lmax ? sum : 0;
            if (k == lmax) {
                break;
            }
        }
        for (int k = np + 1; k <= lmax; k++) {
            double sum = 0;

            for (int i = 0; i < arma->ar_nnz; i++) {
                sum += arma->ar_c[i] * gx[k - arma->ar_lag[i]];
            }
            gx[k] = sum;
        }
        for (int k = 0; k <= r; k++) {
            double sum = gx[k]; /* i = j = 0 */

            for (int i = 0; i < arma->ma_nnz; i++) {
                int li = arma->ma_lag[i];
                double bi = arma->ma_c[i];

                sum += bi * (gx[abs(k - li)] + gx[k + li]);
                for (int j = 0; j < arma->ma_nnz; j++) {
                    sum +=
                        bi * arma->ma_c[j] * gx[abs(k + arma->ma_lag[j] - li)];
                }
            }
            gamma[k] = sum;
        }
    }
    if (!(gamma[0] > 0) || !isfinite(gamma[0])) {
        return false;
    }
    memset(col, 0, sizeof(double) * (size_t) (r + 1));
    for (int i = 0; i < arma->ar_nnz; i++) {
        int l = arma->ar_lag[i];

        for (int j = 1; j < l; j++) {
            col[j] += arma->ar_c[i] * gamma[l - j];
        }
    }
    for (int i = 0; i < arma->ma_nnz; i++) {
        int k = arma->ma_lag[i];

        for (int j = 1; j <= k; j++) {
            col[j] += arma->ma_c[i] * psi[k - j];
        }
    }
    col[0] = gamma[0];
    return true;
}

/* Fills ws->pmat with the whole stationary covariance P0 from its first
 * column: P0 = T P0 T' + R R' read entry by entry, from the bottom
 * right corner up. */
static void
stationary_cov(const ArimaArma *arma, ArimaWork *ws)
{
    int r = arma->r;
    double *p = ws->pmat;
    double *col = ws->col;

#define A_(k) ((k) <= arma->np ? arma->a[k] : 0.0)
#define B_(k) ((k) <= arma->nq ? arma->b[k] : 0.0)
    for (int i = r - 1; i >= 1; i--) {
        for (int j = r - 1; j >= i; j--) {
            double v = A_(i + 1) * A_(j + 1) * col[0] + A_(i + 1) * col[j + 1] +
                       A_(j + 1) * col[i + 1] + B_(i) * B_(j);

            if (i + 1 < r && j + 1 < r) {
                v += p[(i + 1) * r + j + 1];
            }
            p[i * r + j] = v;
            p[j * r + i] = v;
        }
    }
#undef A_
#undef B_
    for (int j = 0; j < r; j++) {
        p[j] = col[j];
        p[(size_t) j * (size_t) r] = col[j];
    }
}

/* The O(r) body of one filter step (see arima_exact()); written for the
 * compiler to vectorise: no aliasing, every array padded with a zero. */
static void
chandrasekhar_step(int r, const double *restrict ap, double *restrict st,
                   double *restrict kf, double *restrict wv, double s0,
                   double vf, double u, double mu, double uf)
{
    for (int i = 0; i < r; i++) {
        double kold = kf[i];
        double x = wv[i + 1] + ap[i] * u;

        st[i] = st[i + 1] + ap[i] * s0 + kold * vf;
        kf[i] = kold + mu * x;
        wv[i] = x - uf * kold;
    }
}

bool
arima_exact(const ArimaArma *arma, const double *w, size_t nw, ArimaWork *ws,
            bool track, double *resid, double *ret_ssq, double *ret_sumlog)
{
    int r = arma->r;
    double *st = ws->state, *kf = ws->kf, *wv = ws->wv, *ap = ws->tmp;
    double f, mm, ssq = 0, sumlog = 0, fprod = 1;
    size_t t = 0;

    if (!stationary_start(arma, ws)) {
        return false;
    }
    if (track) {
        g_free(ws->pmat);
        ws->pmat = g_new0(double, (size_t) r *(size_t) r);
        stationary_cov(arma, ws);
    }
    /* ap[i] = a_{i+1}, zero-padded to r + 1; st and wv carry a zero at
     * index r so that the shift T reads it. */
    memset(ap, 0, sizeof(double) * (size_t) (r + 1));
    for (int k = 0; k < arma->ar_nnz; k++) {
        ap[arma->ar_lag[k] - 1] = arma->ar_c[k];
    }
    f = ws->col[0];
    for (int i = 0; i < r; i++) {
        kf[i] = ws->col[i + 1] * (i + 1 < r) + ap[i] * ws->col[0];
        st[i] = 0;
    }
    st[r] = 0;
    memcpy(wv, kf, sizeof(double) * (size_t) r);
    wv[r] = 0;
    mm = -1 / f;

    /* Transient: the Chandrasekhar recursions alongside the filter. */
    for (; t < nw; t++) {
        double v = w[t] - st[0];
        double vf = v / f;
        double s0 = st[0];
        double u = wv[0];
        double fn = f + mm * u * u;
        double uf = u / f;
        double mu = mm * u;
        double ww = 0;

        ssq += v * vf;
        fprod *= f;
        if (fprod > 1e100 || fprod < 1e-100) {
            sumlog += log(fprod);
            fprod = 1;
        }
        if (resid) {
            resid[t] = v / sqrt(f);
        }
        if (track) {
            /* P_{t+1} = P_t + M_t W_t W_t'. */
            for (int i = 0; i < r; i++) {
                double c = mm * wv[i];

                for (int j = 0; j < r; j++) {
                    ws->pmat[i * r + j] += c * wv[j];
                }
            }
        }
        /* a_{t+1} = T a_t + k_t v_t / F_t, k_{t+1} = k_t + M u T W,
         * W_{t+1} = T W - (u / F_t) k_t, with T x = (x_{i+1} + a_{i+1} x_0). */
        chandrasekhar_step(r, ap, st, kf, wv, s0, vf, u, mu, uf);
        if (t % 8 == 7) {
            for (int i = 0; i < r; i++) {
                ww += wv[i] * wv[i];
            }
        } else {
            ww = INFINITY;
        }
        mm = mm * f / fn;
        f = fn;
        if (!(f > 0) || !isfinite(f) || !isfinite(mm)) {
            return false;
        }
        if (fabs(mm) * ww < 1e-14 * f) {
            t++;
            break;
        }
    }
    /* Steady state: the gain no longer changes. */
    if (t < nw) {
        double lf = log(f);

        for (; t < nw; t++) {
            double v = w[t] - st[0];
            double vf = v / f;
            double s0 = st[0];

            ssq += v * vf;
            sumlog += lf;
            if (resid) {
                resid[t] = v / sqrt(f);
            }
            for (int i = 0; i < r; i++) {
                st[i] = st[i + 1] + ap[i] * s0 + kf[i] * vf;
            }
        }
    }
    sumlog += log(fprod);
    if (!isfinite(ssq) || !isfinite(sumlog)) {
        return false;
    }
    *ret_ssq = ssq;
    *ret_sumlog = sumlog;
    return true;
}

/* One step of the joint (ARMA state, lagged levels) transition applied
 * to @in, written to @out (both of length r + nd). */
static void
joint_step(const ArimaArma *arma, const double *delta, int nd, const double *in,
           double *out)
{
    int r = arma->r;
    double level = in[0];

    for (int i = 1; i <= nd; i++) {
        level += delta[i] * in[r + i - 1];
    }
    for (int i = 0; i + 1 < r; i++) {
        out[i] = in[i + 1];
    }
    out[r - 1] = 0;
    for (int k = 0; k < arma->ar_nnz; k++) {
        out[arma->ar_lag[k] - 1] += arma->ar_c[k] * in[0];
    }
    if (nd > 0) {
        for (int i = nd - 1; i >= 1; i--) {
            out[r + i] = in[r + i - 1];
        }
        out[r] = level;
    }
}

void
arima_ss_forecast(const ArimaArma *arma, const ArimaWork *ws,
                  const double *delta, int nd, const double *xlast, size_t h,
                  double *ret_mean, double *ret_var)
{
    int r = arma->r;
    int dim = r + nd;
    size_t sz = (size_t) dim * (size_t) dim;
    g_autofree double *s = g_new0(double, dim);
    g_autofree double *s2 = g_new0(double, dim);
    g_autofree double *c = g_new0(double, sz);
    g_autofree double *b = g_new0(double, sz);
    g_autofree double *col = g_new0(double, dim);
    g_autofree double *out = g_new0(double, dim);
    g_autofree double *hrow = g_new0(double, dim);

    memcpy(s, ws->state, sizeof(double) * (size_t) r);
    for (int i = 0; i < nd; i++) {
        s[r + i] = xlast[i];
    }
    for (int i = 0; i < r; i++) {
        for (int j = 0; j < r; j++) {
            c[i * dim + j] = ws->pmat[i * r + j];
        }
    }
    hrow[0] = 1;
    for (int i = 1; i <= nd; i++) {
        hrow[r + i - 1] = delta[i];
    }
    for (size_t k = 0; k < h; k++) {
        double mean = 0, var = 0;

        for (int i = 0; i < dim; i++) {
            double ci = 0;

            mean += hrow[i] * s[i];
            if (hrow[i] == 0) {
                continue;
            }
            for (int j = 0; j < dim; j++) {
                ci += c[i * dim + j] * hrow[j];
            }
            var += hrow[i] * ci;
        }
        ret_mean[k] = mean;
        ret_var[k] = var > 0 ? var : 0;
        if (k + 1 == h) {
            break;
        }
        joint_step(arma, delta, nd, s, s2);
        memcpy(s, s2, sizeof(double) * (size_t) dim);
        /* b = J c (column by column), then c = J b' + R R'. */
        for (int j = 0; j < dim; j++) {
            for (int i = 0; i < dim; i++) {
                col[i] = c[i * dim + j];
            }
            joint_step(arma, delta, nd, col, out);
            for (int i = 0; i < dim; i++) {
                b[i * dim + j] = out[i];
            }
        }
        for (int j = 0; j < dim; j++) {
            joint_step(arma, delta, nd, b + (size_t) j * dim, out);
            for (int i = 0; i < dim; i++) {
                c[i * dim + j] = out[i];
            }
        }
        for (int i = 0; i < r; i++) {
            double bi = i <= arma->nq ? arma->b[i] : 0;

            for (int j = 0; j < r; j++) {
                double bj = j <= arma->nq ? arma->b[j] : 0;

                c[i * dim + j] += bi * bj;
            }
        }
    }
}

void
arima_ar_from_raw(const double *raw, int p, double *ret_phi)
{
    double prev[64];
    double *tmp = p <= 64 ? prev : g_new0(double, p);

    for (int k = 0; k < p; k++) {
        double pacf = tanh(raw[k]);

        for (int j = 0; j < k; j++) {
            tmp[j] = ret_phi[j] - pacf * ret_phi[k - 1 - j];
        }
        for (int j = 0; j < k; j++) {
            ret_phi[j] = tmp[j];
        }
        ret_phi[k] = pacf;
    }
    if (tmp != prev) {
        g_free(tmp);
    }
}

/* Steps an AR operator down to its partial autocorrelations (the inverse
 * Durbin-Levinson recursion).  Returns: false if one reaches 1. */
static bool
step_down(const double *phi, int p, double *ret_pacf)
{
    g_autofree double *cur =
        g_memdup2(phi, sizeof(double) * (size_t) MAX(p, 1));
    g_autofree double *nxt = g_new0(double, MAX(p, 1));

    for (int k = p; k >= 1; k--) {
        double a = cur[k - 1];
        double den = 1 - a * a;

        if (!(fabs(a) < 1) || !(den > 0)) {
            return false;
        }
        ret_pacf[k - 1] = a;
        for (int j = 1; j < k; j++) {
            nxt[j - 1] = (cur[j - 1] + a * cur[k - j - 1]) / den;
        }
        memcpy(cur, nxt, sizeof(double) * (size_t) MAX(k - 1, 0));
    }
    return true;
}

bool
arima_ar_to_raw(const double *phi, int p, double *ret_raw)
{
    g_autofree double *pacf = g_new0(double, MAX(p, 1));

    if (!step_down(phi, p, pacf)) {
        return false;
    }
    for (int k = 0; k < p; k++) {
        ret_raw[k] = atanh(pacf[k]);
        if (!isfinite(ret_raw[k])) {
            return false;
        }
    }
    return true;
}

bool
arima_roots_ok(const double *c, int k, double sign, double margin)
{
    g_autofree double *s = g_new0(double, MAX(k, 1));
    g_autofree double *pacf = g_new0(double, MAX(k, 1));
    double f = 1;
    int last = 0;

    for (int i = 0; i < k; i++) {
        f *= margin;
        s[i] = sign * c[i] * f;
        if (c[i] != 0) {
            last = i + 1;
        }
    }
    return step_down(s, last, pacf);
}

/* Roots of 1 + c_1 z + ... + c_k z^k (c_k != 0) by the Aberth-Ehrlich
 * iteration.  Returns: false if it did not converge. */
static bool
poly_roots(const double *c, int k, double complex *z)
{
    /* Monic form: z^k + (c_{k-1}/c_k) z^{k-1} + ... + 1/c_k. */
    g_autofree double *mon = g_new0(double, k + 1);
    double rad = 0;

    for (int i = 0; i < k; i++) {
        mon[i] = (i == 0 ? 1.0 : c[i - 1]) / c[k - 1];
        rad = MAX(rad, fabs(mon[i]));
    }
    mon[k] = 1;
    rad = 1 + rad;
    for (int i = 0; i < k; i++) {
        double ang = 2 * G_PI * i / k + 0.4;

        z[i] = 0.5 * rad * (cos(ang) + I * sin(ang));
    }
    for (int it = 0; it < 500; it++) {
        double moved = 0;

        for (int i = 0; i < k; i++) {
            double complex pv = mon[k], dv = 0, sum = 0, corr;

            for (int j = k - 1; j >= 0; j--) {
                dv = dv * z[i] + pv;
                pv = pv * z[i] + mon[j];
            }
            for (int j = 0; j < k; j++) {
                if (j != i) {
                    sum += 1 / (z[i] - z[j]);
                }
            }
            if (cabs(pv) == 0) {
                continue;
            }
            corr = pv / dv;
            corr = corr / (1 - corr * sum);
            if (!isfinite(creal(corr)) || !isfinite(cimag(corr))) {
                return false;
            }
            z[i] -= corr;
            moved = MAX(moved, cabs(corr) / MAX(cabs(z[i]), 1e-300));
        }
        if (moved < 1e-14) {
            return true;
        }
    }
    return false;
}

void
arima_ma_invert(double *theta, int q)
{
    int q0 = 0;
    g_autofree double complex *z = NULL;
    g_autofree double complex *poly = NULL;
    bool any = false;

    for (int i = 0; i < q; i++) {
        if (theta[i] != 0) {
            q0 = i + 1;
        }
    }
    if (q0 == 0) {
        return;
    }
    if (q0 == 1) {
        if (fabs(theta[0]) > 1) {
            theta[0] = 1 / theta[0];
        }
        return;
    }
    z = g_new0(double complex, q0);
    if (!poly_roots(theta, q0, z)) {
        return;
    }
    for (int i = 0; i < q0; i++) {
        if (cabs(z[i]) < 1) {
            z[i] = 1 / z[i];
            any = true;
        }
    }
    if (!any) {
        return;
    }
    /* prod (1 - z / root_i), coefficient of z^0 first. */
    poly = g_new0(double complex, q0 + 1);
    poly[0] = 1;
    for (int i = 0; i < q0; i++) {
        for (int j = i + 1; j >= 1; j--) {
            poly[j] -= poly[j - 1] / z[i];
        }
    }
    for (int i = 0; i < q0; i++) {
        theta[i] = creal(poly[i + 1]);
    }
}

int
arima_delta(int d, int D, int m, double *delta)
{
    int nd = d + m * D;
    g_autofree double *poly = g_new0(double, nd + 1);
    int deg = 0;

    poly[0] = 1;
    for (int k = 0; k < d + D; k++) {
        int lag = k < d ? 1 : m;

        for (int j = deg + lag; j >= lag; j--) {
            poly[j] -= poly[j - lag];
        }
        deg += lag;
    }
    delta[0] = 0;
    for (int i = 1; i <= nd; i++) {
        delta[i] = -poly[i];
    }
    return nd;
}

void
arima_difference(const double *y, size_t n, const double *delta, int nd,
                 double *ret)
{
    for (size_t t = (size_t) nd; t < n; t++) {
        double v = y[t];

        for (int i = 1; i <= nd; i++) {
            if (delta[i] != 0) {
                v -= delta[i] * y[t - (size_t) i];
            }
        }
        ret[t - (size_t) nd] = v;
    }
}

bool
arima_is_constant(const double *x, size_t n)
{
    double dev = 0, mag = 0;

    for (size_t i = 0; i < n; i++) {
        dev += fabs(x[i] - x[0]);
        mag += fabs(x[i]);
    }
    if (n == 0) {
        return true;
    }
    dev /= (double) n;
    mag /= (double) n;
    return mag > 1.5e-8 ? dev / mag < 1.5e-8 : dev < 1.5e-8;
}
