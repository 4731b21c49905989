# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""conv2d for 3×3 kernels, stride 1, by Winograd's F(2×2, 3×3): the same numbers as Conv2dFn's
formulas (up to rounding) with 2.25 times fewer multiplications. The fast path uses it where it
pays (ops/conv.py, `winograd_applies`); the tutorials and the direct path keep the formula.

The idea, for one output tile of 2×2 pixels: it reads a 4×4 patch d of the (zero-padded) input,
and h_tile = Aᵀ [ (G w Gᵀ) ⊙ (Bᵀ d B) ] A, with ⊙ elementwise, for the small fixed matrices

    Bᵀ = [[1, 0, −1,  0],    G = [[1,    0,   0],     Aᵀ = [[1, 1,  1,  0],
          [0, 1,  1,  0],         [1/2,  1/2, 1/2],         [0, 1, −1, −1]]
          [0, −1, 1,  0],         [1/2, −1/2, 1/2],
          [0, 1,  0, −1]]         [0,    0,   1]]

16 products per tile instead of 36. Summed over the input channels c, the 16 elementwise
products become 16 matrix products that BLAS does (ξ = one of the 16 positions of a 4×4 tile,
t = a tile of the whole batch, T of them):

    V[ξ, c, t] = (Bᵀ d_{c,t} B)[ξ]       input transform      (16, C, T)    this file
    U[ξ, o, c] = (G w_{o,c} Gᵀ)[ξ]       weight transform     (16, O, C)    numpy (ops/conv.py)
    M[ξ]       = U[ξ] @ V[ξ]                                  (16, O, T)    BLAS
    h_tile     = Aᵀ M_{o,t} A (+ b)      output transform     (N, O, OH, OW) this file

Backward is the forward run backwards: each step's adjoint (transposed matrices, same order):

    ∂M_{o,t}   = A ∂h_tile Aᵀ            (output_adjoint, here)
    ∂U[ξ]      = ∂M[ξ] @ V[ξ]ᵀ,    ∂w = Gᵀ ∂U G         (BLAS; numpy)
    ∂V[ξ]      = U[ξ]ᵀ @ ∂M[ξ],    ∂d = B ∂V Bᵀ, added back onto the input patches (input_adjoint)

Shapes: x (N, C, H, W); tiles TH = ⌈OH/2⌉ × TW = ⌈OW/2⌉ per sample, t = (n·TH + ty)·TW + tx; the
patch of tile (ty, tx) starts at input row 2·ty − pad_h, column 2·tx − pad_w (zero outside x).
Each loop runs over ranges of the batch on the shared thread pool (parallel_for): one thread
writes each output element, so the results do not depend on the number of threads.
"""

import numpy as np

from tinygrad_edu.threads import parallel_for

cimport numpy as cnp
from cython cimport floating

cnp.import_array()


# ---------------------------------------------------------------------------------------------
# The four tile loops, each over the samples n0 … n1−1
# ---------------------------------------------------------------------------------------------
cdef void _input_transform(const floating[:, :, :, ::1] x, floating[:, ::1] V,
                           Py_ssize_t TH, Py_ssize_t TW, Py_ssize_t pad_h, Py_ssize_t pad_w,
                           Py_ssize_t n0, Py_ssize_t n1) noexcept nogil:
    """V[:, c, t] (here the row V[:, c·T + t]) = Bᵀ d B for the 4×4 patch d of tile t in channel c."""
    cdef Py_ssize_t C = x.shape[1], H = x.shape[2], W = x.shape[3], T = x.shape[0] * TH * TW
    cdef Py_ssize_t n, c, ty, tx, a, b, row, col, row0, col0, t
    cdef floating d[16]
    cdef floating s[16]
    for n in range(n0, n1):
        for c in range(C):
            for ty in range(TH):
                row0 = 2 * ty - pad_h
                for tx in range(TW):
                    col0 = 2 * tx - pad_w
                    for a in range(4):                      # the patch, 0 outside x
                        row = row0 + a
                        for b in range(4):
                            col = col0 + b
                            if 0 <= row < H and 0 <= col < W:
                                d[a * 4 + b] = x[n, c, row, col]
                            else:
                                d[a * 4 + b] = 0
                    for b in range(4):                      # s = Bᵀ d (combines rows)
                        s[b] = d[b] - d[8 + b]
                        s[4 + b] = d[4 + b] + d[8 + b]
                        s[8 + b] = d[8 + b] - d[4 + b]
                        s[12 + b] = d[4 + b] - d[12 + b]
                    t = (n * TH + ty) * TW + tx
                    for a in range(4):                      # V = s B (combines columns)
                        V[a * 4, c * T + t] = s[a * 4] - s[a * 4 + 2]
                        V[a * 4 + 1, c * T + t] = s[a * 4 + 1] + s[a * 4 + 2]
                        V[a * 4 + 2, c * T + t] = s[a * 4 + 2] - s[a * 4 + 1]
                        V[a * 4 + 3, c * T + t] = s[a * 4 + 1] - s[a * 4 + 3]


cdef void _output_transform(const floating[:, ::1] M, const floating[::1] bias,
                            floating[:, :, :, ::1] h, Py_ssize_t TH, Py_ssize_t TW,
                            Py_ssize_t n0, Py_ssize_t n1) noexcept nogil:
    """h's 2×2 tile = Aᵀ M_{o,t} A + b[o] (the part inside OH × OW)."""
    cdef Py_ssize_t O = h.shape[1], OH = h.shape[2], OW = h.shape[3], T = h.shape[0] * TH * TW
    cdef Py_ssize_t n, o, ty, tx, b, i, j, t
    cdef floating s[8]
    cdef floating y[4]
    for n in range(n0, n1):
        for o in range(O):
            for ty in range(TH):
                for tx in range(TW):
                    t = (n * TH + ty) * TW + tx
                    for b in range(4):                      # s = Aᵀ M (rows)
                        s[b] = M[b, o * T + t] + M[4 + b, o * T + t] + M[8 + b, o * T + t]
                        s[4 + b] = M[4 + b, o * T + t] - M[8 + b, o * T + t] - M[12 + b, o * T + t]
                    for i in range(2):                      # y = s A (columns)
                        y[i * 2] = s[i * 4] + s[i * 4 + 1] + s[i * 4 + 2]
                        y[i * 2 + 1] = s[i * 4 + 1] - s[i * 4 + 2] - s[i * 4 + 3]
                    for i in range(2):
                        for j in range(2):
                            if 2 * ty + i < OH and 2 * tx + j < OW:
                                h[n, o, 2 * ty + i, 2 * tx + j] = y[i * 2 + j] + bias[o]


cdef void _output_adjoint(const floating[:, :, :, ::1] g, floating[:, ::1] dM,
                          Py_ssize_t TH, Py_ssize_t TW, Py_ssize_t n0, Py_ssize_t n1) noexcept nogil:
    """∂M_{o,t} = A g_tile Aᵀ, g_tile the 2×2 tile of ∂h (0 outside OH × OW)."""
    cdef Py_ssize_t O = g.shape[1], OH = g.shape[2], OW = g.shape[3], T = g.shape[0] * TH * TW
    cdef Py_ssize_t n, o, ty, tx, a, i, j, t
    cdef floating y[4]
    cdef floating r[8]
    for n in range(n0, n1):
        for o in range(O):
            for ty in range(TH):
                for tx in range(TW):
                    for i in range(2):
                        for j in range(2):
                            if 2 * ty + i < OH and 2 * tx + j < OW:
                                y[i * 2 + j] = g[n, o, 2 * ty + i, 2 * tx + j]
                            else:
                                y[i * 2 + j] = 0
                    for j in range(2):                      # r = A y (rows: 2 → 4)
                        r[j] = y[j]
                        r[2 + j] = y[j] + y[2 + j]
                        r[4 + j] = y[j] - y[2 + j]
                        r[6 + j] = -y[2 + j]
                    t = (n * TH + ty) * TW + tx
                    for a in range(4):                      # ∂M = r Aᵀ (columns: 2 → 4)
                        dM[a * 4, o * T + t] = r[a * 2]
                        dM[a * 4 + 1, o * T + t] = r[a * 2] + r[a * 2 + 1]
                        dM[a * 4 + 2, o * T + t] = r[a * 2] - r[a * 2 + 1]
                        dM[a * 4 + 3, o * T + t] = -r[a * 2 + 1]


cdef void _input_adjoint(const floating[:, ::1] dV, floating[:, :, :, ::1] dx,
                         Py_ssize_t TH, Py_ssize_t TW, Py_ssize_t pad_h, Py_ssize_t pad_w,
                         Py_ssize_t n0, Py_ssize_t n1) noexcept nogil:
    """dx += B ∂V_{c,t} Bᵀ on each tile's patch (the part inside x); dx starts at zero."""
    cdef Py_ssize_t C = dx.shape[1], H = dx.shape[2], W = dx.shape[3], T = dx.shape[0] * TH * TW
    cdef Py_ssize_t n, c, ty, tx, a, b, row, col, row0, col0, t
    cdef floating v[16]
    cdef floating p[16]
    cdef floating dd
    for n in range(n0, n1):
        for c in range(C):
            for ty in range(TH):
                row0 = 2 * ty - pad_h
                for tx in range(TW):
                    col0 = 2 * tx - pad_w
                    t = (n * TH + ty) * TW + tx
                    for a in range(16):
                        v[a] = dV[a, c * T + t]
                    for b in range(4):                      # p = B v (rows)
                        p[b] = v[b]
                        p[4 + b] = v[4 + b] - v[8 + b] + v[12 + b]
                        p[8 + b] = v[4 + b] + v[8 + b] - v[b]
                        p[12 + b] = -v[12 + b]
                    for a in range(4):                      # ∂d = p Bᵀ (columns), added back
                        row = row0 + a
                        if row < 0 or row >= H:
                            continue
                        for b in range(4):
                            col = col0 + b
                            if col < 0 or col >= W:
                                continue
                            if b == 0:
                                dd = p[a * 4]
                            elif b == 1:
                                dd = p[a * 4 + 1] - p[a * 4 + 2] + p[a * 4 + 3]
                            elif b == 2:
                                dd = p[a * 4 + 1] + p[a * 4 + 2] - p[a * 4]
                            else:
                                dd = -p[a * 4 + 3]
                            dx[n, c, row, col] += dd


# ---------------------------------------------------------------------------------------------
# The same loops without the GIL, for one range of parallel_for
# ---------------------------------------------------------------------------------------------
cdef void _input_transform_range(const floating[:, :, :, ::1] x, floating[:, ::1] V,
                                 Py_ssize_t TH, Py_ssize_t TW, Py_ssize_t pad_h, Py_ssize_t pad_w,
                                 Py_ssize_t n0, Py_ssize_t n1) noexcept:
    with nogil:
        _input_transform(x, V, TH, TW, pad_h, pad_w, n0, n1)


cdef void _output_transform_range(const floating[:, ::1] M, const floating[::1] bias,
                                  floating[:, :, :, ::1] h, Py_ssize_t TH, Py_ssize_t TW,
                                  Py_ssize_t n0, Py_ssize_t n1) noexcept:
    with nogil:
        _output_transform(M, bias, h, TH, TW, n0, n1)


cdef void _output_adjoint_range(const floating[:, :, :, ::1] g, floating[:, ::1] dM,
                                Py_ssize_t TH, Py_ssize_t TW, Py_ssize_t n0, Py_ssize_t n1) noexcept:
    with nogil:
        _output_adjoint(g, dM, TH, TW, n0, n1)


cdef void _input_adjoint_range(const floating[:, ::1] dV, floating[:, :, :, ::1] dx,
                               Py_ssize_t TH, Py_ssize_t TW, Py_ssize_t pad_h, Py_ssize_t pad_w,
                               Py_ssize_t n0, Py_ssize_t n1) noexcept:
    with nogil:
        _input_adjoint(dV, dx, TH, TW, pad_h, pad_w, n0, n1)


# ---------------------------------------------------------------------------------------------
# Entry points (ops/conv.py has checked the shapes; these check what the loops rely on)
# ---------------------------------------------------------------------------------------------
def _tiles(out_size):
    OH, OW = out_size
    return (OH + 1) // 2, (OW + 1) // 2


def tile_array(rows, T, dtype):
    """An empty (16, rows, T) array for one of V, M, ∂M, ∂V. The 16 slices do not lie a power
    of two apart (sizes like 32·4096 would put them there): each is 64 bytes further on, so
    the 16 streams a tile loop reads or writes at once fall into different cache sets."""
    pad = 64 // np.dtype(dtype).itemsize
    return np.empty((16, rows * T + pad), dtype=dtype)[:, :rows * T].reshape(16, rows, T)


def _rows(a):
    """The (16, rows, T) array a as the 2-D array of its 16 slices, each slice one row (the
    padding between slices included), which is what the loops index: a[ξ, r, t] = rows[ξ, r·T + t]."""
    if (a.shape[1] > 1 and a.strides[1] != a.shape[2] * a.itemsize) or \
            (a.shape[2] > 1 and a.strides[2] != a.itemsize):   # (a length-1 axis: any stride)
        raise ValueError(f"a (16, rows, T) array must hold each slice contiguously, got strides "
                         f"{a.strides} for shape {a.shape}")
    return np.lib.stride_tricks.as_strided(a, (16, a.strides[0] // a.itemsize),
                                           (a.strides[0], a.itemsize))


def _check(a, name, ndim):
    """A float32/float64 array with ndim axes: C-contiguous (the images, 4 axes), or with each
    of its 16 slices contiguous (the tile arrays, 3 axes: `_rows` checks those)."""
    if not isinstance(a, np.ndarray) or a.dtype not in (np.float32, np.float64) or a.ndim != ndim \
            or (ndim == 4 and not a.flags.c_contiguous):
        raise TypeError(f"{name} must be a {'C-contiguous ' if ndim == 4 else ''}float32/float64 "
                        f"array with {ndim} axes, got {getattr(a, 'dtype', type(a).__name__)} of "
                        f"shape {np.shape(a)}")


def input_transform(x, out_size, padding):
    """V (16, C, T): every tile's 4×4 input patch, transformed (Bᵀ d B)."""
    _check(x, "input", 4)
    TH, TW = _tiles(out_size)
    N, C = x.shape[0], x.shape[1]
    V = tile_array(C, N * TH * TW, x.dtype)
    pad_h, pad_w = padding
    rows = _rows(V)
    if x.dtype == np.float32:
        work = lambda n0, n1: _input_transform_range[float](x, rows, TH, TW, pad_h, pad_w, n0, n1)
    else:
        work = lambda n0, n1: _input_transform_range[double](x, rows, TH, TW, pad_h, pad_w, n0, n1)
    parallel_for(work, N, V.size)
    return V


def output_transform(M, bias, N, out_size):
    """h (N, O, OH, OW) from M (16, O, T): Aᵀ M A + bias, tile by tile."""
    _check(M, "M", 3)
    TH, TW = _tiles(out_size)
    O = M.shape[1]
    if M.shape != (16, O, N * TH * TW) or bias.shape != (O,) or bias.dtype != M.dtype:
        raise ValueError(f"M {M.shape} and bias {bias.shape} do not fit {N} samples of {out_size}")
    h = np.empty((N, O) + tuple(out_size), dtype=M.dtype)
    rows = _rows(M)
    if M.dtype == np.float32:
        work = lambda n0, n1: _output_transform_range[float](rows, bias, h, TH, TW, n0, n1)
    else:
        work = lambda n0, n1: _output_transform_range[double](rows, bias, h, TH, TW, n0, n1)
    parallel_for(work, N, M.size)
    return h


def output_adjoint(g):
    """∂M (16, O, T) from ∂h (N, O, OH, OW): A g_tile Aᵀ, tile by tile."""
    _check(g, "grad_output", 4)
    N, O = g.shape[0], g.shape[1]
    TH, TW = _tiles(g.shape[2:])
    dM = tile_array(O, N * TH * TW, g.dtype)
    rows = _rows(dM)
    if g.dtype == np.float32:
        work = lambda n0, n1: _output_adjoint_range[float](g, rows, TH, TW, n0, n1)
    else:
        work = lambda n0, n1: _output_adjoint_range[double](g, rows, TH, TW, n0, n1)
    parallel_for(work, N, dM.size)
    return dM


def input_adjoint(dV, in_shape, out_size, padding):
    """∂x (in_shape) from ∂V (16, C, T): B ∂V Bᵀ added back onto every tile's patch."""
    _check(dV, "dV", 3)
    N, C = in_shape[0], in_shape[1]
    TH, TW = _tiles(out_size)
    if dV.shape != (16, C, N * TH * TW):
        raise ValueError(f"dV {dV.shape} does not fit input {tuple(in_shape)} and output {out_size}")
    dx = np.zeros(in_shape, dtype=dV.dtype)
    pad_h, pad_w = padding
    rows = _rows(dV)
    if dV.dtype == np.float32:
        work = lambda n0, n1: _input_adjoint_range[float](rows, dx, TH, TW, pad_h, pad_w, n0, n1)
    else:
        work = lambda n0, n1: _input_adjoint_range[double](rows, dx, TH, TW, pad_h, pad_w, n0, n1)
    parallel_for(work, N, dV.size)
    return dx
