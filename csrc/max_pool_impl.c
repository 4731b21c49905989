/* Max pooling of one (H, W) plane with 2x2 windows, stride 2, no padding: the most common case
 * of max_pool2d's fast path (csrc/max_pool.pyx), in plain C written so that the compiler
 * vectorises it.
 *
 * Window (i, j) holds   a b     at x[2i][2j]   x[2i][2j+1]
 *                       c d        x[2i+1][2j] x[2i+1][2j+1]
 * Candidates are taken in the order a, b, c, d and one replaces the current maximum only when
 * it is strictly larger (the FIRST maximum wins ties) or NaN (NaN propagates, as in PyTorch).
 * out[i][j] = the maximum, idx[i][j] = its position in the plane, 2i*W + 2j + (0, 1, W or W+1).
 *
 * Two passes per stretch of a row, because the compiler vectorises a loop that mixes float
 * values with 32-bit integers but not one that also writes 64-bit indices:
 *   1. best value and a code 0..3 (which of a b c d) per window: selects, no branches
 *      (random data would mispredict half of the branches);
 *   2. codes -> 64-bit plane positions.
 */
#include "max_pool_impl.h"

#define STRETCH 256 /* windows per pass: the codes stay in a small stack buffer */

#define DEFINE_MAX_POOL_2X2(T)                                                              \
    void max_pool_2x2_plane_##T(const T *x, T *out, int64_t *idx,                           \
                                ptrdiff_t W, ptrdiff_t OH, ptrdiff_t OW)                    \
    {                                                                                       \
        int32_t code[STRETCH];                                                              \
        for (ptrdiff_t i = 0; i < OH; i++) {                                                \
            for (ptrdiff_t j0 = 0; j0 < OW; j0 += STRETCH) {                                \
                ptrdiff_t n = OW - j0 < STRETCH ? OW - j0 : STRETCH;                        \
                const T *top = x + 2 * i * W + 2 * j0, *bottom = top + W;                   \
                T *out_row = out + i * OW + j0;                                             \
                for (ptrdiff_t j = 0; j < n; j++) {                                         \
                    T a = top[2 * j], b = top[2 * j + 1];                                   \
                    T c = bottom[2 * j], d = bottom[2 * j + 1];                             \
                    T best = a;                                                             \
                    int32_t which = 0;                                                      \
                    int take = (b > best) | (b != b);   /* b != b: b is NaN */              \
                    best = take ? b : best;                                                 \
                    which = take ? 1 : which;                                               \
                    take = (c > best) | (c != c);                                           \
                    best = take ? c : best;                                                 \
                    which = take ? 2 : which;                                               \
                    take = (d > best) | (d != d);                                           \
                    best = take ? d : best;                                                 \
                    which = take ? 3 : which;                                               \
                    out_row[j] = best;                                                      \
                    code[j] = which;                                                        \
                }                                                                           \
                int64_t *idx_row = idx + i * OW + j0;                                       \
                int64_t at = 2 * i * W + 2 * j0;          /* plane position of a */         \
                for (ptrdiff_t j = 0; j < n; j++)   /* which = 2*row + column in the window */ \
                    idx_row[j] = at + 2 * j + (code[j] & 1) + (int64_t)(code[j] >> 1) * W;  \
            }                                                                               \
        }                                                                                   \
    }

DEFINE_MAX_POOL_2X2(float)
DEFINE_MAX_POOL_2X2(double)
