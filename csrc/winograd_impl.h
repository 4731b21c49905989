/* The four tile loops of Winograd F(2x2, 3x3) in plain C (the algorithm, and what each loop
 * computes: csrc/winograd.pyx). One function per loop and dtype; each runs over the samples
 * n0 ... n1-1. Tile arrays are 16 rows (one per position xi of a 4x4 tile), row xi starting at
 * base + xi * row_stride, element [c * T + t]. */
#ifndef WINOGRAD_IMPL_H
#define WINOGRAD_IMPL_H

#include <stddef.h>

#define WINOGRAD_DECLARE(REAL)                                                                   \
    int winograd_input_transform_##REAL(const REAL *x, REAL *V, ptrdiff_t row_stride,           \
        ptrdiff_t C, ptrdiff_t H, ptrdiff_t W, ptrdiff_t TH, ptrdiff_t TW, ptrdiff_t pad_h,      \
        ptrdiff_t pad_w, ptrdiff_t T, ptrdiff_t n0, ptrdiff_t n1);                               \
    int winograd_output_transform_##REAL(const REAL *M, ptrdiff_t row_stride, const REAL *bias, \
        REAL *h, ptrdiff_t O, ptrdiff_t OH, ptrdiff_t OW, ptrdiff_t TH, ptrdiff_t TW,            \
        ptrdiff_t T, ptrdiff_t n0, ptrdiff_t n1);                                                \
    int winograd_output_adjoint_##REAL(const REAL *g, REAL *dM, ptrdiff_t row_stride,           \
        ptrdiff_t O, ptrdiff_t OH, ptrdiff_t OW, ptrdiff_t TH, ptrdiff_t TW, ptrdiff_t T,        \
        ptrdiff_t n0, ptrdiff_t n1);                                                             \
    int winograd_input_adjoint_##REAL(const REAL *dV, ptrdiff_t row_stride, REAL *dx,           \
        ptrdiff_t C, ptrdiff_t H, ptrdiff_t W, ptrdiff_t TH, ptrdiff_t TW, ptrdiff_t pad_h,      \
        ptrdiff_t pad_w, ptrdiff_t T, ptrdiff_t n0, ptrdiff_t n1);

WINOGRAD_DECLARE(float)
WINOGRAD_DECLARE(double)

#endif
