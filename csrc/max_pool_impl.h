/* max_pool2d's fast-path 2x2 / stride-2 loop in plain C (see max_pool_impl.c). */
#ifndef TINYGRAD_EDU_MAX_POOL_IMPL_H
#define TINYGRAD_EDU_MAX_POOL_IMPL_H

#include <stdint.h>
#include <stddef.h>

void max_pool_2x2_plane_float(const float *x, float *out, int64_t *idx,
                              ptrdiff_t W, ptrdiff_t OH, ptrdiff_t OW);
void max_pool_2x2_plane_double(const double *x, double *out, int64_t *idx,
                               ptrdiff_t W, ptrdiff_t OH, ptrdiff_t OW);

#endif
