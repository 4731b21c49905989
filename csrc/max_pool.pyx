# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
# distutils: sources = csrc/max_pool_impl.c
"""max_pool2d, NCHW, float32 and float64: forward (each window's maximum and where it sits) and
backward (each gradient added at its window's maximum).

The formulas: MaxPool2dFn in tinygrad_edu/ops/pool.py (windows and padding: that file's module
docstring). The numpy oracle: max_pool2d_forward / max_pool2d_backward in
tinygrad_edu/reference/pool.py.

max_pool2d_forward and max_pool2d_backward check their arguments, then run one of two loops that
give the same numbers (the same comparisons and additions in the same order):
- `_direct`: reads like the formula, window by window, one thread;
- `_fast`:   ranges of (n, c) planes across the cores (parallel_for), window bounds clipped once
             instead of tested per element, 2×2 / stride-2 windows in vectorised C
             (max_pool_impl.c); backward zeroes one plane at a time while it is in cache
             instead of the whole gradient up front.
_max_pool2d_forward / _max_pool2d_backward pick the loop (the fast one over planes p0 … p1−1),
Cython its float or double version (from the arrays' dtype).
"""

include "pool_common.pxi"

from libc.math cimport isnan, INFINITY

cdef extern from "max_pool_impl.h" nogil:
    void max_pool_2x2_plane_float(const float* x, float* out, index_t* idx,
                                  Py_ssize_t W, Py_ssize_t OH, Py_ssize_t OW) noexcept
    void max_pool_2x2_plane_double(const double* x, double* out, index_t* idx,
                                   Py_ssize_t W, Py_ssize_t OH, Py_ssize_t OW) noexcept


# ---------------------------------------------------------------------------------------------
# Entry points: check everything, allocate, run one path
# ---------------------------------------------------------------------------------------------
def max_pool2d_forward(x, kernel, stride, padding, dilation, out_size, bint fast=True):
    """(out, idx) of max pooling x (N, C, H, W) to (N, C, OH, OW); idx = ih·W + iw (int64)."""
    _check_array("x", x, 4)
    _check_window(kernel, stride, padding, dilation)
    OH, OW = _check_sizes("out_size", out_size)
    out = np.empty((x.shape[0], x.shape[1], OH, OW), dtype=x.dtype)
    idx = np.empty(out.shape, dtype=np.int64)
    if x.size == 0:  # an empty batch (or empty planes: every window is padding)
        out.fill(-np.inf)
        idx.fill(-1)
        return out, idx
    window = (*kernel, *stride, *padding, *dilation)
    planes = x.shape[0] * x.shape[1]
    if fast:
        parallel_for(lambda p0, p1: _max_pool2d_forward(x, out, idx, *window, True, p0, p1),
                     planes, x.size + 2 * out.size)
    else:
        _max_pool2d_forward(x, out, idx, *window, False, 0, planes)
    return out, idx


def max_pool2d_backward(g, idx, in_size, bint fast=True):
    """∂L/∂x (N, C, H, W) from g and idx (N, C, OH, OW): g added at each argmax."""
    _check_array("g", g, 4)
    if not isinstance(idx, np.ndarray) or idx.dtype != np.int64 or not idx.flags.c_contiguous:
        raise TypeError(f"idx must be a C-contiguous int64 numpy array (g has shape {g.shape})")
    if idx.shape != g.shape:
        raise ValueError(f"idx of shape {idx.shape} does not match g of shape {g.shape}")
    H, W = _check_sizes("in_size", in_size)
    N, C = g.shape[0], g.shape[1]
    if g.size == 0:
        return np.zeros((N, C, H, W), dtype=g.dtype)
    if idx.min() < -1 or idx.max() >= H * W:  # the scatter must stay inside its plane
        raise ValueError(f"idx of shape {idx.shape} holds positions outside a {H}x{W} plane")
    grad = (np.empty if fast else np.zeros)((N, C, H * W), dtype=g.dtype)  # fast: zeroed per plane
    g, idx = g.reshape(N, C, -1), idx.reshape(N, C, -1)
    if fast:
        parallel_for(lambda p0, p1: _max_pool2d_backward(g, idx, grad, True, p0, p1),
                     N * C, grad.size + 2 * g.size)
    else:
        _max_pool2d_backward(g, idx, grad, False, 0, N * C)
    return grad.reshape(N, C, H, W)


# ---------------------------------------------------------------------------------------------
# One dispatch per direction: Cython takes the typed views (float or double, from the arrays'
# dtype) with the GIL held, then the chosen loop runs without it
# ---------------------------------------------------------------------------------------------
def _max_pool2d_forward(const floating[:, :, :, ::1] x, floating[:, :, :, ::1] out,
                        index_t[:, :, :, ::1] idx, Py_ssize_t kh, Py_ssize_t kw, Py_ssize_t sh,
                        Py_ssize_t sw, Py_ssize_t ph, Py_ssize_t pw, Py_ssize_t dh, Py_ssize_t dw,
                        bint fast, Py_ssize_t p0, Py_ssize_t p1):
    with nogil:
        if fast:
            _max_pool2d_forward_fast(x, out, idx, kh, kw, sh, sw, ph, pw, dh, dw, p0, p1)
        else:
            _max_pool2d_forward_direct(x, out, idx, kh, kw, sh, sw, ph, pw, dh, dw)


def _max_pool2d_backward(const floating[:, :, ::1] g, const index_t[:, :, ::1] idx,
                         floating[:, :, ::1] grad, bint fast, Py_ssize_t p0, Py_ssize_t p1):
    with nogil:
        if fast:
            _max_pool2d_backward_fast(g, idx, grad, p0, p1)
        else:
            _max_pool2d_backward_direct(g, idx, grad)


# ---------------------------------------------------------------------------------------------
# direct loops: the formula, window by window
# ---------------------------------------------------------------------------------------------
cdef void _max_pool2d_forward_direct(
        const floating[:, :, :, ::1] x, floating[:, :, :, ::1] out, index_t[:, :, :, ::1] idx,
        Py_ssize_t kh, Py_ssize_t kw, Py_ssize_t sh, Py_ssize_t sw, Py_ssize_t ph, Py_ssize_t pw,
        Py_ssize_t dh, Py_ssize_t dw) noexcept nogil:
    """out = the max over each window, idx = where it is (−1 if the window holds no input)."""
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3]
    cdef Py_ssize_t n, c, i, j, m, k, ih, iw, best_at
    cdef floating v, best
    for n in range(N):
        for c in range(C):
            for i in range(out.shape[2]):
                for j in range(out.shape[3]):
                    best = -INFINITY
                    best_at = -1
                    for m in range(kh):
                        ih = i * sh - ph + m * dh
                        if ih < 0 or ih >= H:
                            continue  # padding row
                        for k in range(kw):
                            iw = j * sw - pw + k * dw
                            if iw < 0 or iw >= W:
                                continue  # padding column
                            v = x[n, c, ih, iw]
                            # strictly greater: the first maximum wins ties; NaN beats all
                            if best_at < 0 or v > best or isnan(v):
                                best = v
                                best_at = ih * W + iw
                    out[n, c, i, j] = best
                    idx[n, c, i, j] = best_at


cdef void _max_pool2d_backward_direct(
        const floating[:, :, ::1] g, const index_t[:, :, ::1] idx,
        floating[:, :, ::1] grad) noexcept nogil:
    """grad (N, C, H·W), zeroed by the caller: add each g to the input position of its maximum."""
    cdef Py_ssize_t n, c, p, at
    for n in range(g.shape[0]):
        for c in range(g.shape[1]):
            for p in range(g.shape[2]):
                at = idx[n, c, p]
                if at >= 0:  # −1: a window without input elements (its gradient goes nowhere)
                    grad[n, c, at] += g[n, c, p]


# ---------------------------------------------------------------------------------------------
# fast loops: plane by plane, planes p0 … p1−1 (one range of parallel_for)
# ---------------------------------------------------------------------------------------------
cdef inline bint beats(floating v, floating best) noexcept nogil:
    """v becomes the window's maximum: strictly larger (so the first maximum wins ties) or NaN."""
    return (v > best) | (v != v)  # v != v: v is NaN


cdef inline void max_plane_2x2(const floating* x, floating* out, index_t* idx,
                               Py_ssize_t W, Py_ssize_t OH, Py_ssize_t OW) noexcept nogil:
    """One plane, 2×2 windows with stride 2 and no padding (the loop is in max_pool_impl.c)."""
    if floating is float:
        max_pool_2x2_plane_float(x, out, idx, W, OH, OW)
    else:
        max_pool_2x2_plane_double(x, out, idx, W, OH, OW)


cdef inline Py_ssize_t first_inside(Py_ssize_t start, Py_ssize_t step) noexcept nogil:
    """The smallest m ≥ 0 with start + m·step ≥ 0 (skips the leading padding of a window)."""
    return 0 if start >= 0 else (-start + step - 1) // step


cdef inline Py_ssize_t end_inside(Py_ssize_t start, Py_ssize_t step, Py_ssize_t count,
                                  Py_ssize_t size) noexcept nogil:
    """One past the largest m < count with start + m·step < size (skips the trailing padding)."""
    cdef Py_ssize_t last
    if start >= size:
        return 0
    last = (size - 1 - start) // step + 1
    return count if last > count else last


cdef inline void max_plane(const floating* x, floating* out, index_t* idx,
                           Py_ssize_t H, Py_ssize_t W, Py_ssize_t OH, Py_ssize_t OW,
                           Py_ssize_t kh, Py_ssize_t kw, Py_ssize_t sh, Py_ssize_t sw,
                           Py_ssize_t ph, Py_ssize_t pw, Py_ssize_t dh, Py_ssize_t dw) noexcept nogil:
    """One plane, any window: the loops run over the in-image part of each window only."""
    cdef Py_ssize_t i, j, m, k, m0, m1, k0, k1, ih, iw, h0, w0
    cdef floating v, best
    cdef index_t best_at
    cdef bint take
    for i in range(OH):
        h0 = i * sh - ph
        m0 = first_inside(h0, dh)
        m1 = end_inside(h0, dh, kh, H)
        for j in range(OW):
            w0 = j * sw - pw
            k0 = first_inside(w0, dw)
            k1 = end_inside(w0, dw, kw, W)
            best = -INFINITY
            best_at = -1
            if m0 < m1 and k0 < k1:  # start from the first in-image element
                best = x[(h0 + m0 * dh) * W + w0 + k0 * dw]
                best_at = (h0 + m0 * dh) * W + w0 + k0 * dw
            for m in range(m0, m1):
                ih = h0 + m * dh
                for k in range(k0, k1):
                    iw = w0 + k * dw
                    v = x[ih * W + iw]
                    take = beats(v, best)
                    best = v if take else best
                    best_at = ih * W + iw if take else best_at
            out[i * OW + j] = best
            idx[i * OW + j] = best_at


cdef void _max_pool2d_forward_fast(
        const floating[:, :, :, ::1] x, floating[:, :, :, ::1] out, index_t[:, :, :, ::1] idx,
        Py_ssize_t kh, Py_ssize_t kw, Py_ssize_t sh, Py_ssize_t sw, Py_ssize_t ph, Py_ssize_t pw,
        Py_ssize_t dh, Py_ssize_t dw, Py_ssize_t p0, Py_ssize_t p1) noexcept nogil:
    cdef Py_ssize_t H = x.shape[2], W = x.shape[3], OH = out.shape[2], OW = out.shape[3], p
    cdef bint is_2x2 = (kh == 2 and kw == 2 and sh == 2 and sw == 2 and ph == 0 and pw == 0
                        and dh == 1 and dw == 1 and 2 * OH <= H and 2 * OW <= W)
    cdef const floating* xs = &x[0, 0, 0, 0]
    cdef floating* outs = &out[0, 0, 0, 0]
    cdef index_t* idxs = &idx[0, 0, 0, 0]
    for p in range(p0, p1):
        if is_2x2:
            max_plane_2x2(xs + p * H * W, outs + p * OH * OW, idxs + p * OH * OW, W, OH, OW)
        else:
            max_plane(xs + p * H * W, outs + p * OH * OW, idxs + p * OH * OW,
                      H, W, OH, OW, kh, kw, sh, sw, ph, pw, dh, dw)


cdef void _max_pool2d_backward_fast(
        const floating[:, :, ::1] g, const index_t[:, :, ::1] idx,
        floating[:, :, ::1] grad, Py_ssize_t p0, Py_ssize_t p1) noexcept nogil:
    """grad (N, C, H·W) uninitialised: each plane is zeroed, then scattered into."""
    cdef Py_ssize_t HW = grad.shape[2], P = g.shape[2], plane, q
    cdef index_t at
    cdef const floating* gs = &g[0, 0, 0]
    cdef const index_t* idxs = &idx[0, 0, 0]
    cdef floating* grads = &grad[0, 0, 0]
    cdef floating* dst
    for plane in range(p0, p1):
        dst = grads + plane * HW
        memset(dst, 0, HW * sizeof(floating))
        for q in range(P):
            at = idxs[plane * P + q]
            if at >= 0:
                dst[at] = dst[at] + gs[plane * P + q]
