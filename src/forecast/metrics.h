/*
 * forecast/metrics.h: forecast accuracy as the M4 competition measures
 * it (Makridakis, Spiliotis & Assimakopoulos, IJF 36, 2020).
 *
 * OWA of a method over a set of series is
 *   0.5 * (sMAPE / sMAPE_Naive2 + MASE / MASE_Naive2)
 * with sMAPE and MASE averaged over the series first.
 */
#pragma once

#include <stddef.h>

/* Returns: sMAPE in percent, 200/h * sum |y - f| / (|y| + |f|); terms
 * with y = f = 0 count as 0. */
double fc_smape(const double *actual, const double *forecast, size_t h);

/*
 * fc_mase:
 * @insample, @n: the training series
 * @m: seasonal period of the scaling naive (1 = naive)
 *
 * Returns: mean |y - f| over the mean in-sample |x_t - x_{t-m}|; NAN if
 * the scale is zero or n <= m.
 */
double fc_mase(const double *insample, size_t n, int m, const double *actual,
               const double *forecast, size_t h);

/* Returns: the fraction of @actual inside [@lo, @hi]. */
double fc_coverage(const double *actual, const double *lo, const double *hi,
                   size_t h);
