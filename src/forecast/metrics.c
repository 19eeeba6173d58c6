/*
 * forecast/metrics.c: sMAPE, MASE and interval coverage (metrics.h).
 */
#include "forecast/metrics.h"

#include <math.h>

double
fc_smape(const double *actual, const double *forecast, size_t h)
{
    double s = 0;

    if (h == 0) {
        return NAN;
    }
    for (size_t i = 0; i < h; i++) {
        double den = fabs(actual[i]) + fabs(forecast[i]);

        if (den > 0) {
            s += fabs(actual[i] - forecast[i]) / den;
        }
    }
    return 200.0 * s / (double) h;
}

double
fc_mase(const double *insample, size_t n, int m, const double *actual,
        const double *forecast, size_t h)
{
    double scale = 0, err = 0;

    if (m < 1 || n <= (size_t) m || h == 0) {
        return NAN;
    }
    for (size_t t = (size_t) m; t < n; t++) {
        scale += fabs(insample[t] - insample[t - (size_t) m]);
    }
    scale /= (double) (n - (size_t) m);
    if (!(scale > 0)) {
        return NAN;
    }
    for (size_t i = 0; i < h; i++) {
        err += fabs(actual[i] - forecast[i]);
    }
    return err / (double) h / scale;
}

double
fc_coverage(const double *actual, const double *lo, const double *hi, size_t h)
{
    size_t in = 0;

    if (h == 0) {
        return NAN;
    }
    for (size_t i = 0; i < h; i++) {
        if (actual[i] >= lo[i] && actual[i] <= hi[i]) {
            in++;
        }
    }
    return (double) in / (double) h;
}
