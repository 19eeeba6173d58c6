/*
 * util/order.h: order statistics of double arrays (selection, median),
 * shared by the forecasting and risk engines.
 */
#pragma once

#include <stddef.h>

/*
 * util_select_kth:
 * @v: @n values (n >= 1), reordered in place
 * @k: rank, 0-based, < @n
 *
 * Hoare's selection: afterwards v[k] holds the @k-th smallest value, no
 * value before it is larger and none after it is smaller.
 * Returns: that value.
 */
double util_select_kth(double *v, size_t n, size_t k);

/* Returns: the median of @n values, reordering @v; 0 when @n is 0. */
double util_median_inplace(double *v, size_t n);

/* Returns: the median of the finite values among @v's @n (NaN marks a
 * missing one), NaN when there are none; @v is left as it was. */
double util_median_finite(const double *v, size_t n);
