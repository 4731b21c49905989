# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
# distutils: sources = csrc/winograd_impl.c
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

ops/conv.py runs these over chunks of the batch, so each tile array is still in the cache when
the next step reads it, and makes V again in backward rather than keeping it.

Shapes: x (N, C, H, W); tiles TH = ⌈OH/2⌉ × TW = ⌈OW/2⌉ per sample, t = (n·TH + ty)·TW + tx; the
patch of tile (ty, tx) starts at input row 2·ty − pad_h, column 2·tx − pad_w (zero outside x).
The four tile loops are plain C (winograd_loops.inc). Each runs over ranges of the batch on the
shared thread pool (parallel_for): one thread
writes each output element, so the results do not depend on the number of threads.
"""

import numpy as np

from tinygrad_edu.scratch import scratch
from tinygrad_edu.threads import parallel_for

cimport numpy as cnp
from cython cimport floating

cnp.import_array()


# ---------------------------------------------------------------------------------------------
# The four tile loops are plain C (winograd_loops.inc, through winograd_impl.c), one function per
# dtype; each runs over the samples n0 … n1−1 and reads or writes the tile arrays as 16 rows
# (`_rows`). Below: one call of each for one range of parallel_for, without the GIL.
# ---------------------------------------------------------------------------------------------
cdef extern from "winograd_impl.h" nogil:
    int winograd_input_transform_float(const float* x, float* V, Py_ssize_t rs, Py_ssize_t C,
        Py_ssize_t H, Py_ssize_t W, Py_ssize_t TH, Py_ssize_t TW, Py_ssize_t pad_h,
        Py_ssize_t pad_w, Py_ssize_t T, Py_ssize_t n0, Py_ssize_t n1)
    int winograd_input_transform_double(const double* x, double* V, Py_ssize_t rs, Py_ssize_t C,
        Py_ssize_t H, Py_ssize_t W, Py_ssize_t TH, Py_ssize_t TW, Py_ssize_t pad_h,
        Py_ssize_t pad_w, Py_ssize_t T, Py_ssize_t n0, Py_ssize_t n1)
    int winograd_output_transform_float(const float* M, Py_ssize_t rs, const float* bias,
        float* h, Py_ssize_t O, Py_ssize_t OH, Py_ssize_t OW, Py_ssize_t TH, Py_ssize_t TW,
        Py_ssize_t T, Py_ssize_t n0, Py_ssize_t n1)
    int winograd_output_transform_double(const double* M, Py_ssize_t rs, const double* bias,
        double* h, Py_ssize_t O, Py_ssize_t OH, Py_ssize_t OW, Py_ssize_t TH, Py_ssize_t TW,
        Py_ssize_t T, Py_ssize_t n0, Py_ssize_t n1)
    int winograd_output_adjoint_float(const float* g, float* dM, Py_ssize_t rs, Py_ssize_t O,
        Py_ssize_t OH, Py_ssize_t OW, Py_ssize_t TH, Py_ssize_t TW, Py_ssize_t T, Py_ssize_t n0,
        Py_ssize_t n1)
    int winograd_output_adjoint_double(const double* g, double* dM, Py_ssize_t rs, Py_ssize_t O,
        Py_ssize_t OH, Py_ssize_t OW, Py_ssize_t TH, Py_ssize_t TW, Py_ssize_t T, Py_ssize_t n0,
        Py_ssize_t n1)
    int winograd_input_adjoint_float(const float* dV, Py_ssize_t rs, float* dx, Py_ssize_t C,
        Py_ssize_t H, Py_ssize_t W, Py_ssize_t TH, Py_ssize_t TW, Py_ssize_t pad_h,
        Py_ssize_t pad_w, Py_ssize_t T, Py_ssize_t n0, Py_ssize_t n1)
    int winograd_input_adjoint_double(const double* dV, Py_ssize_t rs, double* dx, Py_ssize_t C,
        Py_ssize_t H, Py_ssize_t W, Py_ssize_t TH, Py_ssize_t TW, Py_ssize_t pad_h,
        Py_ssize_t pad_w, Py_ssize_t T, Py_ssize_t n0, Py_ssize_t n1)


cdef inline Py_ssize_t _row_stride(const floating[:, ::1] rows) noexcept:
    return rows.strides[0] // sizeof(floating)


cdef int _input_transform_range(const floating[:, :, :, ::1] x, floating[:, ::1] V,
                                Py_ssize_t TH, Py_ssize_t TW, Py_ssize_t pad_h, Py_ssize_t pad_w,
                                Py_ssize_t n0, Py_ssize_t n1) except -1:
    cdef Py_ssize_t rs = _row_stride(V), T = x.shape[0] * TH * TW
    cdef int status
    with nogil:
        if floating is float:
            status = winograd_input_transform_float(&x[0, 0, 0, 0], &V[0, 0], rs, x.shape[1],
                x.shape[2], x.shape[3], TH, TW, pad_h, pad_w, T, n0, n1)
        else:
            status = winograd_input_transform_double(&x[0, 0, 0, 0], &V[0, 0], rs, x.shape[1],
                x.shape[2], x.shape[3], TH, TW, pad_h, pad_w, T, n0, n1)
    if status:
        raise MemoryError("winograd: no memory for a row buffer")
    return 0


cdef int _output_transform_range(const floating[:, ::1] M, const floating[::1] bias,
                                 floating[:, :, :, ::1] h, Py_ssize_t TH, Py_ssize_t TW,
                                 Py_ssize_t n0, Py_ssize_t n1) except -1:
    cdef Py_ssize_t rs = _row_stride(M), T = h.shape[0] * TH * TW
    cdef int status
    with nogil:
        if floating is float:
            status = winograd_output_transform_float(&M[0, 0], rs, &bias[0], &h[0, 0, 0, 0],
                h.shape[1], h.shape[2], h.shape[3], TH, TW, T, n0, n1)
        else:
            status = winograd_output_transform_double(&M[0, 0], rs, &bias[0], &h[0, 0, 0, 0],
                h.shape[1], h.shape[2], h.shape[3], TH, TW, T, n0, n1)
    if status:
        raise MemoryError("winograd: no memory for a row buffer")
    return 0


cdef int _output_adjoint_range(const floating[:, :, :, ::1] g, floating[:, ::1] dM,
                               Py_ssize_t TH, Py_ssize_t TW, Py_ssize_t n0, Py_ssize_t n1) except -1:
    cdef Py_ssize_t rs = _row_stride(dM), T = g.shape[0] * TH * TW
    cdef int status
    with nogil:
        if floating is float:
            status = winograd_output_adjoint_float(&g[0, 0, 0, 0], &dM[0, 0], rs, g.shape[1],
                g.shape[2], g.shape[3], TH, TW, T, n0, n1)
        else:
            status = winograd_output_adjoint_double(&g[0, 0, 0, 0], &dM[0, 0], rs, g.shape[1],
                g.shape[2], g.shape[3], TH, TW, T, n0, n1)
    if status:
        raise MemoryError("winograd: no memory for a row buffer")
    return 0


cdef int _input_adjoint_range(const floating[:, ::1] dV, floating[:, :, :, ::1] dx,
                              Py_ssize_t TH, Py_ssize_t TW, Py_ssize_t pad_h, Py_ssize_t pad_w,
                              Py_ssize_t n0, Py_ssize_t n1) except -1:
    cdef Py_ssize_t rs = _row_stride(dV), T = dx.shape[0] * TH * TW
    cdef int status
    with nogil:
        if floating is float:
            status = winograd_input_adjoint_float(&dV[0, 0], rs, &dx[0, 0, 0, 0], dx.shape[1],
                dx.shape[2], dx.shape[3], TH, TW, pad_h, pad_w, T, n0, n1)
        else:
            status = winograd_input_adjoint_double(&dV[0, 0], rs, &dx[0, 0, 0, 0], dx.shape[1],
                dx.shape[2], dx.shape[3], TH, TW, pad_h, pad_w, T, n0, n1)
    if status:
        raise MemoryError("winograd: no memory for a row buffer")
    return 0


# ---------------------------------------------------------------------------------------------
# Entry points (ops/conv.py has checked the shapes; these check what the loops rely on)
# ---------------------------------------------------------------------------------------------
def _tiles(out_size):
    OH, OW = out_size
    return (OH + 1) // 2, (OW + 1) // 2


def tile_array(rows, T, dtype, scratch_name=None):
    """An empty (16, rows, T) array for one of V, M, ∂M, ∂V. The 16 slices do not lie a power
    of two apart (sizes like 32·4096 would put them there): each is 64 bytes further on, so
    the 16 streams a tile loop reads or writes at once fall into different cache sets.
    scratch_name: a temporary, in that scratch buffer of this thread (tinygrad_edu/scratch.py)."""
    pad = 64 // np.dtype(dtype).itemsize
    shape = (16, rows * T + pad)
    flat = np.empty(shape, dtype=dtype) if scratch_name is None else scratch(scratch_name, shape, dtype)
    return flat[:, :rows * T].reshape(16, rows, T)


def _rows(a):
    """The (16, rows, T) array a as the 2-D array of its 16 slices, each slice one row (the
    padding between slices included), which is what the loops index: a[ξ, r, t] = rows[ξ, r·T + t]."""
    if (a.shape[1] > 1 and a.strides[1] != a.shape[2] * a.itemsize) or \
            (a.shape[2] > 1 and a.strides[2] != a.itemsize):   # (a length-1 axis: any stride)
        raise ValueError(f"a (16, rows, T) array must hold each slice contiguously, got strides "
                         f"{a.strides} for shape {a.shape}")
    return np.lib.stride_tricks.as_strided(a, (16, a.strides[0] // a.itemsize),
                                           (a.strides[0], a.itemsize))


def _output_array(out, shape, dtype, make):
    """`out` checked against shape and dtype, or a new array from make (np.empty, np.zeros)."""
    if out is None:
        return make(shape, dtype=dtype)
    if not isinstance(out, np.ndarray) or out.shape != shape or out.dtype != dtype or \
            not out.flags.c_contiguous:
        raise ValueError(f"out must be a C-contiguous {np.dtype(dtype)} array of shape {shape}, "
                         f"got {getattr(out, 'dtype', type(out).__name__)} {np.shape(out)}")
    return out


def _check(a, name, ndim):
    """A float32/float64 array with ndim axes: C-contiguous (the images, 4 axes), or with each
    of its 16 slices contiguous (the tile arrays, 3 axes: `_rows` checks those)."""
    if not isinstance(a, np.ndarray) or a.dtype not in (np.float32, np.float64) or a.ndim != ndim \
            or (ndim == 4 and not a.flags.c_contiguous):
        raise TypeError(f"{name} must be a {'C-contiguous ' if ndim == 4 else ''}float32/float64 "
                        f"array with {ndim} axes, got {getattr(a, 'dtype', type(a).__name__)} of "
                        f"shape {np.shape(a)}")


def input_transform(x, out_size, padding, scratch_name=None):
    """V (16, C, T): every tile's 4×4 input patch, transformed (Bᵀ d B) (in a scratch buffer
    when scratch_name is given: see tile_array)."""
    _check(x, "input", 4)
    TH, TW = _tiles(out_size)
    N, C = x.shape[0], x.shape[1]
    V = tile_array(C, N * TH * TW, x.dtype, scratch_name)
    if x.size == 0:                      # no samples or channels, or only padding: zeros
        V[...] = 0
        return V
    pad_h, pad_w = padding
    rows = _rows(V)
    if x.dtype == np.float32:
        work = lambda n0, n1: _input_transform_range[float](x, rows, TH, TW, pad_h, pad_w, n0, n1)
    else:
        work = lambda n0, n1: _input_transform_range[double](x, rows, TH, TW, pad_h, pad_w, n0, n1)
    parallel_for(work, N, V.size)
    return V


def output_transform(M, bias, N, out_size, out=None):
    """h (N, O, OH, OW) from M (16, O, T): Aᵀ M A + bias, tile by tile (into `out` if given:
    a C-contiguous array of that shape, e.g. the rows of a larger batch)."""
    _check(M, "M", 3)
    TH, TW = _tiles(out_size)
    O = M.shape[1]
    if M.shape != (16, O, N * TH * TW) or bias.shape != (O,) or bias.dtype != M.dtype:
        raise ValueError(f"M {M.shape} and bias {bias.shape} do not fit {N} samples of {out_size}")
    h = _output_array(out, (N, O) + tuple(out_size), M.dtype, np.empty)
    if h.size == 0:
        return h
    bias = np.ascontiguousarray(bias)
    rows = _rows(M)
    if M.dtype == np.float32:
        work = lambda n0, n1: _output_transform_range[float](rows, bias, h, TH, TW, n0, n1)
    else:
        work = lambda n0, n1: _output_transform_range[double](rows, bias, h, TH, TW, n0, n1)
    parallel_for(work, N, M.size)
    return h


def output_adjoint(g, scratch_name=None):
    """∂M (16, O, T) from ∂h (N, O, OH, OW): A g_tile Aᵀ, tile by tile (in a scratch buffer
    when scratch_name is given: see tile_array)."""
    _check(g, "grad_output", 4)
    N, O = g.shape[0], g.shape[1]
    TH, TW = _tiles(g.shape[2:])
    dM = tile_array(O, N * TH * TW, g.dtype, scratch_name)
    if dM.size == 0:
        return dM
    rows = _rows(dM)
    if g.dtype == np.float32:
        work = lambda n0, n1: _output_adjoint_range[float](g, rows, TH, TW, n0, n1)
    else:
        work = lambda n0, n1: _output_adjoint_range[double](g, rows, TH, TW, n0, n1)
    parallel_for(work, N, dM.size)
    return dM


def input_adjoint(dV, in_shape, out_size, padding, out=None):
    """∂x (in_shape) from ∂V (16, C, T): B ∂V Bᵀ added back onto every tile's patch (added
    into `out` if given: a C-contiguous array of in_shape, zero where nothing else is added)."""
    _check(dV, "dV", 3)
    N, C = in_shape[0], in_shape[1]
    TH, TW = _tiles(out_size)
    if dV.shape != (16, C, N * TH * TW):
        raise ValueError(f"dV {dV.shape} does not fit input {tuple(in_shape)} and output {out_size}")
    dx = _output_array(out, tuple(in_shape), dV.dtype, np.zeros)
    if dx.size == 0 or dV.size == 0:
        return dx
    pad_h, pad_w = padding
    rows = _rows(dV)
    if dV.dtype == np.float32:
        work = lambda n0, n1: _input_adjoint_range[float](rows, dx, TH, TW, pad_h, pad_w, n0, n1)
    else:
        work = lambda n0, n1: _input_adjoint_range[double](rows, dx, TH, TW, pad_h, pad_w, n0, n1)
    parallel_for(work, N, dV.size)
    return dx
