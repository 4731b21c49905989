# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""conv2d kernels (NCHW cross-correlation): the forward and the gradients ∂X and ∂W, two paths.

The formulas: Conv2dFn in tinygrad_edu/ops/conv.py (∂b: a numpy sum there). The numpy oracle:
conv2d_forward / conv2d_backward in tinygrad_edu/reference/conv.py.

Shapes: x (N, C, H, W), w (O, C/groups, KH, KW), h = out (N, O, OH, OW), s stride, p padding
(top/left), d dilation. Group q of the channels sees input channels q·C/G … and makes outputs
q·O/G …; below, c runs over the input channels of o's group (c_in in the loops).

direct path: Conv2dFn's sums as loop nests: conv2d_forward_direct (h), conv2d_grad_input_direct
    (∂X: h's sum scattered back), conv2d_grad_weight_direct (∂W); the innermost loop runs along
    a row of h, so it walks contiguous memory.
fast path (conv2d_forward_fast, conv2d_grad_input_fast, conv2d_grad_weight_fast, and
    conv2d_backward_fast for both gradients): im2col copies every receptive field into a column,
    so each sum becomes one matrix product that BLAS (numpy's matmul) does at full speed:

    cols[(c,m,k), (n,i,j)] = X[n, c, i·s+m·d−p, j·s+k·d−p]           (C·KH·KW, N·OH·OW)
    h   = W (O, C·KH·KW) @ cols          (per group; h comes out as (O, N·OH·OW): transposed)
    ∂W  = ∂h (O, N·OH·OW) @ colsᵀ
    ∂X  = col2im(Wᵀ @ ∂h)   (col2im adds each column back where im2col took it from)

The output sizes are arguments, so padding='same' (even kernels) and output_padding need no
special case: positions outside X are skipped. Both paths share one pool of threads
(tinygrad_edu/threads.py, parallel_for): the direct loops over ranges of the batch (∂W's over
ranges of output channels), the fast path's copies over ranges of the batch.
"""

import numpy as np

from tinygrad_edu.scratch import scratch
from tinygrad_edu.threads import parallel_for

cimport numpy as cnp
from cython cimport floating

cnp.import_array()


cdef struct Geometry:
    Py_ssize_t stride_h, stride_w, pad_h, pad_w, dil_h, dil_w, groups


# ---------------------------------------------------------------------------------------------
# Checks at the compiled boundary (ops/conv.py checks first, with friendlier messages)
# ---------------------------------------------------------------------------------------------
cdef Geometry _geometry(stride, padding, dilation, Py_ssize_t groups) except *:
    cdef Geometry g
    g.stride_h, g.stride_w = stride
    g.pad_h, g.pad_w = padding
    g.dil_h, g.dil_w = dilation
    g.groups = groups
    if g.stride_h <= 0 or g.stride_w <= 0 or g.dil_h <= 0 or g.dil_w <= 0 or g.groups <= 0:
        raise ValueError(f"stride {tuple(stride)}, dilation {tuple(dilation)} and groups {groups} "
                         "must be positive")
    if g.pad_h < 0 or g.pad_w < 0:
        raise ValueError(f"padding {tuple(padding)} must not be negative")
    return g


cdef _check_shapes(tuple x_shape, tuple w_shape, tuple out_shape, Geometry g):
    """x (N, C, H, W), w (O, C/groups, KH, KW), out (N, O, OH, OW) must fit together."""
    if len(x_shape) != 4 or len(w_shape) != 4 or len(out_shape) != 4:
        raise ValueError(f"expected 4-D input, weight and output, got {x_shape}, {w_shape}, {out_shape}")
    n, c = x_shape[0], x_shape[1]
    o, c_per_group = w_shape[0], w_shape[1]
    if (c != c_per_group * g.groups or o % g.groups != 0 or out_shape[0] != n or out_shape[1] != o
            or min(x_shape) < 0 or min(w_shape) <= 0 or min(out_shape) < 0):
        raise ValueError(f"conv kernel: input {x_shape}, weight {w_shape} and output {out_shape} "
                         f"do not fit together with groups={g.groups}")


def _float_array(a, name):
    """a as a C-contiguous float32/float64 array (the only layouts the loops accept)."""
    a = np.asarray(a)
    if a.dtype != np.float32 and a.dtype != np.float64:
        raise TypeError(f"{name} must be float32 or float64, got {a.dtype}")
    return np.ascontiguousarray(a)


def _same_dtype(*arrays):
    if len({a.dtype for a in arrays}) != 1:
        raise TypeError(f"dtypes differ: {[str(a.dtype) for a in arrays]}")


# ---------------------------------------------------------------------------------------------
# Index helpers: which output columns j read inside the input row (so the inner loop has no if)
# ---------------------------------------------------------------------------------------------
cdef inline Py_ssize_t _first_inside(Py_ssize_t offset, Py_ssize_t stride) noexcept nogil:
    """Smallest j ≥ 0 with j·stride + offset ≥ 0."""
    if offset >= 0:
        return 0
    return (-offset + stride - 1) // stride


cdef inline Py_ssize_t _end_inside(Py_ssize_t offset, Py_ssize_t stride, Py_ssize_t size,
                                   Py_ssize_t out_size) noexcept nogil:
    """One past the largest j < out_size with j·stride + offset < size."""
    if size - offset <= 0:
        return 0
    cdef Py_ssize_t end = (size - offset + stride - 1) // stride
    return end if end < out_size else out_size


# ---------------------------------------------------------------------------------------------
# direct path: Conv2dFn's sums as loop nests
# ---------------------------------------------------------------------------------------------
cdef void _conv2d_forward_direct(const floating[:, :, :, ::1] x, const floating[:, :, :, ::1] w,
                                 const floating[::1] b, floating[:, :, :, ::1] h,
                                 Geometry g, Py_ssize_t n0, Py_ssize_t n1) noexcept nogil:
    """h = b + the sum over c, m, k of W·X (Conv2dFn's formula for h), samples n0 … n1−1."""
    cdef Py_ssize_t N = h.shape[0], O = h.shape[1], OH = h.shape[2], OW = h.shape[3]
    cdef Py_ssize_t H = x.shape[2], W = x.shape[3]
    cdef Py_ssize_t C_g = w.shape[1], KH = w.shape[2], KW = w.shape[3], O_g = O // g.groups
    cdef Py_ssize_t n, o, c, c_in, m, k, i, j, row, col0, j_start, j_end
    cdef floating weight
    for n in range(n0, n1):
        for o in range(O):
            for i in range(OH):
                for j in range(OW):
                    h[n, o, i, j] = b[o]
            for c in range(C_g):
                c_in = (o // O_g) * C_g + c                      # input channel in o's group
                for m in range(KH):
                    for k in range(KW):
                        weight = w[o, c, m, k]
                        col0 = k * g.dil_w - g.pad_w             # input column read by j = 0
                        j_start = _first_inside(col0, g.stride_w)
                        j_end = _end_inside(col0, g.stride_w, W, OW)
                        for i in range(OH):
                            row = i * g.stride_h + m * g.dil_h - g.pad_h
                            if row < 0 or row >= H:
                                continue                         # zero padding: adds nothing
                            for j in range(j_start, j_end):
                                h[n, o, i, j] += weight * x[n, c_in, row, j * g.stride_w + col0]


cdef void _conv2d_grad_input_direct(const floating[:, :, :, ::1] dh,
                                    const floating[:, :, :, ::1] w, floating[:, :, :, ::1] dx,
                                    Geometry g, Py_ssize_t n0, Py_ssize_t n1) noexcept nogil:
    """∂X += W·∂h at the positions h's sum read (Conv2dFn's formula for ∂X); dx starts at zero.
    Samples n0 … n1−1."""
    cdef Py_ssize_t N = dh.shape[0], O = dh.shape[1], OH = dh.shape[2], OW = dh.shape[3]
    cdef Py_ssize_t H = dx.shape[2], W = dx.shape[3]
    cdef Py_ssize_t C_g = w.shape[1], KH = w.shape[2], KW = w.shape[3], O_g = O // g.groups
    cdef Py_ssize_t n, o, c, c_in, m, k, i, j, row, col0, j_start, j_end
    cdef floating weight
    for n in range(n0, n1):
        for o in range(O):
            for c in range(C_g):
                c_in = (o // O_g) * C_g + c
                for m in range(KH):
                    for k in range(KW):
                        weight = w[o, c, m, k]
                        col0 = k * g.dil_w - g.pad_w
                        j_start = _first_inside(col0, g.stride_w)
                        j_end = _end_inside(col0, g.stride_w, W, OW)
                        for i in range(OH):
                            row = i * g.stride_h + m * g.dil_h - g.pad_h
                            if row < 0 or row >= H:
                                continue
                            for j in range(j_start, j_end):
                                dx[n, c_in, row, j * g.stride_w + col0] += weight * dh[n, o, i, j]


cdef void _conv2d_grad_weight_direct(const floating[:, :, :, ::1] x,
                                     const floating[:, :, :, ::1] dh, floating[:, :, :, ::1] dw,
                                     Geometry g, Py_ssize_t o0, Py_ssize_t o1) noexcept nogil:
    """∂W = the sum over n, i, j of X·∂h (Conv2dFn's formula for ∂W), channels o0 … o1−1."""
    cdef Py_ssize_t N = dh.shape[0], O = dh.shape[1], OH = dh.shape[2], OW = dh.shape[3]
    cdef Py_ssize_t H = x.shape[2], W = x.shape[3]
    cdef Py_ssize_t C_g = dw.shape[1], KH = dw.shape[2], KW = dw.shape[3], O_g = O // g.groups
    cdef Py_ssize_t n, o, c, c_in, m, k, i, j, row, col0, j_start, j_end
    cdef floating total
    for o in range(o0, o1):                                      # threads own whole rows of ∂W
        for c in range(C_g):
            c_in = (o // O_g) * C_g + c
            for m in range(KH):
                for k in range(KW):
                    col0 = k * g.dil_w - g.pad_w
                    j_start = _first_inside(col0, g.stride_w)
                    j_end = _end_inside(col0, g.stride_w, W, OW)
                    total = 0
                    for n in range(N):
                        for i in range(OH):
                            row = i * g.stride_h + m * g.dil_h - g.pad_h
                            if row < 0 or row >= H:
                                continue
                            for j in range(j_start, j_end):
                                total = total + x[n, c_in, row, j * g.stride_w + col0] * dh[n, o, i, j]
                    dw[o, c, m, k] = total


# The same loops without the GIL, for one range of parallel_for
cdef void _forward_direct_range(const floating[:, :, :, ::1] x, const floating[:, :, :, ::1] w,
                                const floating[::1] b, floating[:, :, :, ::1] h, Geometry g,
                                Py_ssize_t n0, Py_ssize_t n1) noexcept:
    with nogil:
        _conv2d_forward_direct(x, w, b, h, g, n0, n1)


cdef void _grad_input_direct_range(const floating[:, :, :, ::1] dh, const floating[:, :, :, ::1] w,
                                   floating[:, :, :, ::1] dx, Geometry g,
                                   Py_ssize_t n0, Py_ssize_t n1) noexcept:
    with nogil:
        _conv2d_grad_input_direct(dh, w, dx, g, n0, n1)


cdef void _grad_weight_direct_range(const floating[:, :, :, ::1] x, const floating[:, :, :, ::1] dh,
                                    floating[:, :, :, ::1] dw, Geometry g,
                                    Py_ssize_t o0, Py_ssize_t o1) noexcept:
    with nogil:
        _conv2d_grad_weight_direct(x, dh, dw, g, o0, o1)


def conv2d_forward_direct(x, w, b, out_size, stride, padding, dilation, groups):
    """h = conv2d(x, w) + b with the loop nest of the formula. b may be None; out_size (OH, OW)."""
    x, w = _float_array(x, "input"), _float_array(w, "weight")
    b = np.zeros(w.shape[0], dtype=w.dtype) if b is None else _float_array(b, "bias")
    _same_dtype(x, w, b)
    cdef Geometry g = _geometry(stride, padding, dilation, groups)
    h = np.empty((x.shape[0], w.shape[0]) + tuple(out_size), dtype=x.dtype)
    _check_shapes(x.shape, w.shape, h.shape, g)
    if b.shape != (w.shape[0],):
        raise ValueError(f"bias of shape {b.shape} does not match weight {w.shape}")
    if x.dtype == np.float32:
        work = lambda n0, n1: _forward_direct_range[float](x, w, b, h, g, n0, n1)
    else:
        work = lambda n0, n1: _forward_direct_range[double](x, w, b, h, g, n0, n1)
    parallel_for(work, x.shape[0], h.size * w[0].size)
    return h


def conv2d_grad_input_direct(dh, w, in_size, stride, padding, dilation, groups):
    """∂X (N, C, *in_size) from ∂h (N, O, OH, OW) and w, scattering as the formula says."""
    dh, w = _float_array(dh, "grad_output"), _float_array(w, "weight")
    _same_dtype(dh, w)
    cdef Geometry g = _geometry(stride, padding, dilation, groups)
    dx = np.zeros((dh.shape[0], w.shape[1] * groups) + tuple(in_size), dtype=dh.dtype)
    _check_shapes(dx.shape, w.shape, dh.shape, g)
    if dh.dtype == np.float32:
        work = lambda n0, n1: _grad_input_direct_range[float](dh, w, dx, g, n0, n1)
    else:
        work = lambda n0, n1: _grad_input_direct_range[double](dh, w, dx, g, n0, n1)
    parallel_for(work, dh.shape[0], dh.size * w[0].size)
    return dx


def conv2d_grad_weight_direct(x, dh, kernel_size, stride, padding, dilation, groups):
    """∂W (O, C/groups, KH, KW) = Σ X·∂h over the batch and the output positions."""
    x, dh = _float_array(x, "input"), _float_array(dh, "grad_output")
    _same_dtype(x, dh)
    cdef Geometry g = _geometry(stride, padding, dilation, groups)
    if x.ndim != 4 or dh.ndim != 4 or x.shape[1] % groups:
        raise ValueError(f"input {x.shape} and grad_output {dh.shape}: expected 4-D arrays and "
                         f"channels divisible by groups={groups}")
    dw = np.empty((dh.shape[1], x.shape[1] // groups) + tuple(kernel_size), dtype=x.dtype)
    _check_shapes(x.shape, dw.shape, dh.shape, g)
    if x.dtype == np.float32:
        work = lambda o0, o1: _grad_weight_direct_range[float](x, dh, dw, g, o0, o1)
    else:
        work = lambda o0, o1: _grad_weight_direct_range[double](x, dh, dw, g, o0, o1)
    parallel_for(work, dw.shape[0], dh.size * dw[0].size)
    return dw


# ---------------------------------------------------------------------------------------------
# fast path: im2col / col2im in C, the products through numpy's matmul (BLAS)
#
# The columns of the whole batch sit side by side, cols (C·KH·KW, N·OH·OW), so each product is
# ONE large matrix product per group: BLAS runs those near peak on both cores, while many small
# per-sample products pay BLAS's thread start-up and hand-over every time (and on a busy machine
# each hand-over can stall). The price is two cheap transposes between (N, O, ·) and (O, N, ·).
#
# The copies run without the GIL on ranges of the batch, on the pool of threads every kernel
# shares (parallel_for); a waiting thread sleeps, so it never competes with BLAS for a core.
# ---------------------------------------------------------------------------------------------
cdef void _im2col(const floating[:, :, :, ::1] x, floating[:, ::1] cols, Py_ssize_t KH,
                  Py_ssize_t KW, Py_ssize_t OH, Py_ssize_t OW, Geometry g,
                  Py_ssize_t n_start, Py_ssize_t n_end) noexcept:
    """cols[(c·KH + m)·KW + k, (n·OH + i)·OW + j] = X[n, c, i·s+m·d−p, j·s+k·d−p]  (0 outside X)"""
    cdef Py_ssize_t C = x.shape[1], H = x.shape[2], W = x.shape[3]
    cdef Py_ssize_t n, c, m, k, i, j, r, row, col0, j_start, j_end, start
    with nogil:
        # one row r of cols at a time, its columns in order: the rows of cols lie far apart
        # (often a power-of-two distance, the worst case for caches), so jumping between them
        # for every sample would cost several times more than the copying itself
        for c in range(C):
            for m in range(KH):
                for k in range(KW):
                    r = (c * KH + m) * KW + k
                    col0 = k * g.dil_w - g.pad_w
                    # [0, j_start) zeros, [j_start, j_end) copied, [j_end, OW) zeros; clamped:
                    # with much padding and dilation the first column inside X lies past OW
                    j_start = min(_first_inside(col0, g.stride_w), OW)
                    j_end = max(_end_inside(col0, g.stride_w, W, OW), j_start)
                    for n in range(n_start, n_end):
                        for i in range(OH):
                            start = (n * OH + i) * OW             # column of output pixel (n, i, 0)
                            row = i * g.stride_h + m * g.dil_h - g.pad_h
                            if row < 0 or row >= H:
                                for j in range(OW):
                                    cols[r, start + j] = 0
                                continue
                            for j in range(j_start):
                                cols[r, start + j] = 0
                            for j in range(j_start, j_end):
                                cols[r, start + j] = x[n, c, row, j * g.stride_w + col0]
                            for j in range(j_end, OW):
                                cols[r, start + j] = 0


cdef void _col2im(const floating[:, ::1] cols, floating[:, :, :, ::1] dx, Py_ssize_t KH,
                  Py_ssize_t KW, Py_ssize_t OH, Py_ssize_t OW, Geometry g,
                  Py_ssize_t n_start, Py_ssize_t n_end) noexcept:
    """The adjoint of im2col: dX[n, c, i·s+m·d−p, j·s+k·d−p] += cols[(c,m,k), (n,i,j)]."""
    cdef Py_ssize_t C = dx.shape[1], H = dx.shape[2], W = dx.shape[3]
    cdef Py_ssize_t n, c, m, k, i, j, r, row, col0, j_start, j_end, start
    with nogil:
        for c in range(C):                                     # row by row of cols, as im2col
            for m in range(KH):
                for k in range(KW):
                    r = (c * KH + m) * KW + k
                    col0 = k * g.dil_w - g.pad_w
                    j_start = _first_inside(col0, g.stride_w)
                    j_end = _end_inside(col0, g.stride_w, W, OW)
                    for n in range(n_start, n_end):            # each chunk owns its dx[n]
                        for i in range(OH):
                            start = (n * OH + i) * OW
                            row = i * g.stride_h + m * g.dil_h - g.pad_h
                            if row < 0 or row >= H:
                                continue
                            for j in range(j_start, j_end):
                                dx[n, c, row, j * g.stride_w + col0] += cols[r, start + j]


cdef void _batch_first(const floating[:, ::1] src, const floating[::1] bias,
                       floating[:, :, ::1] dst, Py_ssize_t n_start, Py_ssize_t n_end) noexcept:
    """dst[n, o, p] = src[o, n·P + p] + bias[o]: the product's (O, N·P) back to (N, O, P)."""
    cdef Py_ssize_t O = dst.shape[1], P = dst.shape[2], n, o, p
    with nogil:
        for n in range(n_start, n_end):
            for o in range(O):
                for p in range(P):
                    dst[n, o, p] = src[o, n * P + p] + bias[o]


cdef void _channels_first(const floating[:, :, ::1] src, floating[:, ::1] dst,
                          Py_ssize_t n_start, Py_ssize_t n_end) noexcept:
    """dst[o, n·P + p] = src[n, o, p]: (N, O, P) → (O, N·P), the layout of the products."""
    cdef Py_ssize_t O = src.shape[1], P = src.shape[2], n, o, p
    with nogil:
        for n in range(n_start, n_end):
            for o in range(O):
                for p in range(P):
                    dst[o, n * P + p] = src[n, o, p]


def im2col(x, kernel_size, out_size, stride, padding, dilation):
    """cols (C·KH·KW, N·OH·OW): every receptive field of x (N, C, H, W) as one column."""
    x = _float_array(x, "input")
    cdef Geometry g = _geometry(stride, padding, dilation, 1)
    KH, KW = kernel_size
    OH, OW = out_size
    if x.ndim != 4 or KH <= 0 or KW <= 0 or OH < 0 or OW < 0:
        raise ValueError(f"im2col: input {x.shape}, kernel {kernel_size}, output {out_size}")
    cols = np.empty((x.shape[1] * KH * KW, x.shape[0] * OH * OW), dtype=x.dtype)
    if x.dtype == np.float32:
        work = lambda n0, n1: _im2col[float](x, cols, KH, KW, OH, OW, g, n0, n1)
    else:
        work = lambda n0, n1: _im2col[double](x, cols, KH, KW, OH, OW, g, n0, n1)
    parallel_for(work, x.shape[0], cols.size)
    return cols


def col2im(cols, in_shape, kernel_size, out_size, stride, padding, dilation):
    """dx of shape in_shape (N, C, H, W), every column of cols added back where im2col took it."""
    cols = _float_array(cols, "cols")
    cdef Geometry g = _geometry(stride, padding, dilation, 1)
    N, C, H, W = in_shape
    KH, KW = kernel_size
    OH, OW = out_size
    if cols.shape != (C * KH * KW, N * OH * OW) or min(in_shape) < 0:
        raise ValueError(f"col2im: cols {cols.shape} do not fit input {tuple(in_shape)}, "
                         f"kernel {kernel_size}, output {out_size}")
    dx = np.zeros(in_shape, dtype=cols.dtype)
    if cols.dtype == np.float32:
        work = lambda n0, n1: _col2im[float](cols, dx, KH, KW, OH, OW, g, n0, n1)
    else:
        work = lambda n0, n1: _col2im[double](cols, dx, KH, KW, OH, OW, g, n0, n1)
    parallel_for(work, N, cols.size)
    return dx


def _to_batch_first(product, bias, out_shape):
    """(O, N·OH·OW) + bias[o] → (N, O, OH, OW)."""
    N, O = out_shape[0], out_shape[1]
    out = np.empty((N, O, product.shape[1] // max(N, 1)), dtype=product.dtype)
    if product.dtype == np.float32:
        work = lambda n0, n1: _batch_first[float](product, bias, out, n0, n1)
    else:
        work = lambda n0, n1: _batch_first[double](product, bias, out, n0, n1)
    parallel_for(work, N, out.size)
    return out.reshape(out_shape)


def _to_channels_first(a):
    """(N, O, OH, OW) → (O, N·OH·OW): each channel's values of the whole batch in one row (a
    temporary, in this thread's scratch buffer "conv.rows": see tinygrad_edu/scratch.py)."""
    N, O = a.shape[0], a.shape[1]
    src = a.reshape(N, O, a.shape[2] * a.shape[3])  # (no −1: N may be 0)
    out = scratch("conv.rows", (O, N * src.shape[2]), a.dtype)
    if a.dtype == np.float32:
        work = lambda n0, n1: _channels_first[float](src, out, n0, n1)
    else:
        work = lambda n0, n1: _channels_first[double](src, out, n0, n1)
    parallel_for(work, N, out.size)
    return out


def conv2d_forward_fast(x, w, b, out_size, stride, padding, dilation, groups):
    """(h, cols): h = W @ im2col(x) (+ b), one product per group; cols are kept for ∂W."""
    x, w = _float_array(x, "input"), _float_array(w, "weight")
    _same_dtype(x, w)
    cdef Geometry g = _geometry(stride, padding, dilation, groups)
    N, O, G = x.shape[0], w.shape[0], groups
    _check_shapes(x.shape, w.shape, (N, O) + tuple(out_size), g)
    OH, OW = out_size
    cols = im2col(x, w.shape[2:], out_size, stride, padding, dilation)   # (C·KH·KW, N·OH·OW)
    bias = np.zeros(O, dtype=x.dtype) if b is None else _float_array(b, "bias")
    _same_dtype(x, bias)
    if bias.shape != (O,):
        raise ValueError(f"bias of shape {bias.shape} does not match weight {w.shape}")
    rows_per_group = cols.shape[0] // G
    w_groups = w.reshape(G, O // G, rows_per_group)
    # (G, O/G, rows) @ (G, rows, N·OH·OW) → (G, O/G, N·OH·OW), i.e. (O, N, OH·OW)
    h_channels_first = np.matmul(w_groups, cols.reshape(G, rows_per_group, N * OH * OW),
                                 out=scratch("conv.product", (G, O // G, N * OH * OW), x.dtype))
    return _to_batch_first(h_channels_first.reshape(O, N * OH * OW), bias, (N, O, OH, OW)), cols


def conv2d_grad_input_fast(dh, w, in_size, stride, padding, dilation, groups, dh_rows=None):
    """∂X = col2im(Wᵀ @ ∂h), one product per group (dh_rows: ∂h as (O, N·OH·OW), if at hand)."""
    dh, w = _float_array(dh, "grad_output"), _float_array(w, "weight")
    _same_dtype(dh, w)
    cdef Geometry g = _geometry(stride, padding, dilation, groups)
    N, O, OH, OW = dh.shape
    G, C = groups, w.shape[1] * groups
    in_shape = (N, C) + tuple(in_size)
    _check_shapes(in_shape, w.shape, dh.shape, g)
    rows_per_group = w.shape[1] * w.shape[2] * w.shape[3]
    w_t = w.reshape(G, O // G, rows_per_group).transpose(0, 2, 1)       # (G, rows, O/G)
    if dh_rows is None:
        dh_rows = _to_channels_first(dh)
    dcols = np.matmul(w_t, dh_rows.reshape(G, O // G, N * OH * OW),
                      out=scratch("conv.product", (G, rows_per_group, N * OH * OW), dh.dtype))
    return col2im(dcols.reshape(G * rows_per_group, N * OH * OW), in_shape, w.shape[2:],
                  (OH, OW), stride, padding, dilation)


def conv2d_grad_weight_fast(x, dh, kernel_size, stride, padding, dilation, groups, cols=None,
                            dh_rows=None):
    """∂W = ∂h @ colsᵀ, one product per group (cols = im2col(x), recomputed when not given)."""
    x, dh = _float_array(x, "input"), _float_array(dh, "grad_output")
    _same_dtype(x, dh)
    cdef Geometry g = _geometry(stride, padding, dilation, groups)
    if x.ndim != 4 or dh.ndim != 4 or x.shape[1] % groups:
        raise ValueError(f"input {x.shape} and grad_output {dh.shape}: expected 4-D arrays and "
                         f"channels divisible by groups={groups}")
    N, O, OH, OW = dh.shape
    G, C = groups, x.shape[1]
    w_shape = (O, C // G) + tuple(kernel_size)
    _check_shapes(x.shape, w_shape, dh.shape, g)
    if cols is None:
        cols = im2col(x, kernel_size, (OH, OW), stride, padding, dilation)
    elif cols.shape != (C * kernel_size[0] * kernel_size[1], N * OH * OW) or cols.dtype != x.dtype:
        raise ValueError(f"cols of shape {cols.shape} do not belong to input {x.shape}")
    rows_per_group = cols.shape[0] // G
    cols_t = cols.reshape(G, rows_per_group, N * OH * OW).transpose(0, 2, 1)
    if dh_rows is None:
        dh_rows = _to_channels_first(dh)
    dw = np.matmul(dh_rows.reshape(G, O // G, N * OH * OW), cols_t)   # (G, O/G, rows)
    return dw.reshape(w_shape)


def conv2d_backward_fast(x, w, dh, cols, need_input, need_weight, stride, padding, dilation,
                         groups):
    """(∂X or None, ∂W or None), sharing one transpose of ∂h to (O, N·OH·OW) between them."""
    dh = _float_array(dh, "grad_output")
    if dh.ndim != 4:
        raise ValueError(f"grad_output must be 4-D (N, O, OH, OW), got shape {dh.shape}")
    dh_rows = _to_channels_first(dh)
    geometry = (stride, padding, dilation, groups)
    dx = dw = None
    if need_input:
        dx = conv2d_grad_input_fast(dh, w, x.shape[2:], *geometry, dh_rows=dh_rows)
    if need_weight:
        dw = conv2d_grad_weight_fast(x, dh, w.shape[2:], *geometry, cols, dh_rows)
    return dx, dw
