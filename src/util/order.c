/*
 * util/order.c: selection and median (order.h).  Expected O(n).
 */
#include "util/order.h"

#include <glib.h>
#include <math.h>

double
util_select_kth(double *v, size_t n, size_t k)
{
    size_t lo = 0, hi = n - 1;

    while (lo < hi) {
        double pivot = v[lo + (hi - lo) / 2];
        size_t i = lo, j = hi;

        while (i <= j) {
            while (v[i] < pivot) {
                i++;
            }
            while (v[j] > pivot) {
                j--;
            }
            if (i <= j) {
                double t = v[i];

                v[i] = v[j];
                v[j] = t;
                i++;
                if (j == 0) {
                    break;
                }
                j--;
            }
        }
        if (k <= j) {
            hi = j;
        } else if (k >= i) {
            lo = i;
        } else {
            break;
        }
    }
    return v[k];
}

double
util_median_inplace(double *v, size_t n)
{
    double hi;

    if (n == 0) {
        return 0;
    }
    hi = util_select_kth(v, n, n / 2);
    if (n % 2) {
        return hi;
    }
    /* The lower middle is the largest of the lower part. */
    {
        double lo = v[0];

        for (size_t i = 1; i < n / 2; i++) {
            lo = MAX(lo, v[i]);
        }
        return 0.5 * (lo + hi);
    }
}

double
util_median_finite(const double *v, size_t n)
{
    g_autofree double *c = g_new(double, n ? n : 1);
    size_t k = 0;

    for (size_t i = 0; i < n; i++) {
        if (isfinite(v[i])) {
            c[k++] = v[i];
        }
    }
    return k ? util_median_inplace(c, k) : NAN;
}
