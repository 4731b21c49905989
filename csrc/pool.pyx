# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
# distutils: sources = csrc/pool_impl.c
"""Pooling and nearest upsampling kernels, NCHW, float32 and float64: forward and backward.

Shapes: x (N, C, H, W) → out (N, C, OH, OW); g = ∂L/∂out (N, C, OH, OW); grad = ∂L/∂x (N, C, H, W).
Window (i, j) covers the input rows ih = i·sh − ph + m·dh (m < kh) and the columns
iw = j·sw − pw + k·dw (k < kw); positions outside the input are padding.

    max pool:   out[n,c,i,j] = max over the window          (padding = −inf; NaN wins; the FIRST
                idx[n,c,i,j] = ih·W + iw of that maximum       maximum wins ties)
                grad[n,c,·]  = Σ_(i,j) g[n,c,i,j] at position idx[n,c,i,j]   (scatter to the argmax)
    avg pool:   out[n,c,i,j] = (Σ over the window's input elements) / divisor(i, j)
                grad[n,c,ih,iw] = Σ over the windows containing (ih, iw) of g[n,c,i,j] / divisor(i, j)
                (divisor as PyTorch: the window size clipped to the padded input when padding
                counts, the number of real input elements when not, or a fixed override)
    nearest:    out[n,c,i,j] = x[n,c, src_h[i], src_w[j]]
                grad[n,c,y,x] = Σ over the (i, j) with src_h[i] = y, src_w[j] = x of g[n,c,i,j]

Two paths give the same numbers (the same operations in the same order):
- direct_*: loops that read like the formulas above, window by window, one thread;
- fast_*:   one (n, c) plane per task across the cores (prange; serial in a build without
            OpenMP), window bounds clipped once instead of tested per element, special loops
            for the common cases (2×2 / stride-2 windows: max in pool_impl.c, vectorised; ×2
            upsampling), backward zeroing one plane at a time while it is in cache instead of
            the whole gradient up front.

The Python wrappers check every array (dtype, contiguity, shapes, index ranges) before a loop
runs: no argument can make a loop read or write outside its arrays.
"""

import os

import numpy as np

cimport numpy as cnp
from cython cimport floating
from cython.parallel cimport prange
from libc.math cimport isnan, INFINITY
from libc.string cimport memset, memcpy

cnp.import_array()

ctypedef cnp.int64_t index_t

cdef extern from "pool_impl.h" nogil:
    void max_pool_2x2_plane_float(const float* x, float* out, index_t* idx,
                                  Py_ssize_t W, Py_ssize_t OH, Py_ssize_t OW) noexcept
    void max_pool_2x2_plane_double(const double* x, double* out, index_t* idx,
                                   Py_ssize_t W, Py_ssize_t OH, Py_ssize_t OW) noexcept



# ---------------------------------------------------------------------------------------------
# How many threads a loop uses
# ---------------------------------------------------------------------------------------------
def _default_threads():
    """OMP_NUM_THREADS if set, else the CPUs this process may run on."""
    try:
        return max(1, int(os.environ.get("OMP_NUM_THREADS", "").split(",")[0]))
    except ValueError:
        pass
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


cdef int MAX_THREADS = _default_threads()
cdef int THREADS = MAX_THREADS  # what the next loop may use (set by choose_threads)
# Planes are handed out in chunks of this many as threads become free ("dynamic"), so a thread
# that the OS pauses does not hold back a fixed half of the work.
cdef Py_ssize_t CHUNK = 8


_forced_threads = None


def force_threads(n=None):
    """Make the fast path use n threads for big jobs (None: back to choose_threads' choice)."""
    global _forced_threads
    _forced_threads = None if n is None else max(1, int(n))


def choose_threads():
    """Every CPU (or what force_threads set). Idle OpenMP threads sleep rather than spin
    (tinygrad_edu sets OMP_WAIT_POLICY=PASSIVE), so two threads are no slower than one even
    when another process keeps a core busy. Called before each fast-path loop."""
    global THREADS
    THREADS = MAX_THREADS if _forced_threads is None else _forced_threads
    return THREADS


cdef inline int threads_for(Py_ssize_t planes, Py_ssize_t plane_size) noexcept nogil:
    """One thread for small jobs (starting threads costs more than it saves), else THREADS."""
    return 1 if planes * plane_size < 65536 else THREADS


# =============================================================================================
# max pooling
# =============================================================================================

cdef void direct_max_pool_forward(const floating[:, :, :, ::1] x, floating[:, :, :, ::1] out,
                                  index_t[:, :, :, ::1] idx,
                                  Py_ssize_t kh, Py_ssize_t kw, Py_ssize_t sh, Py_ssize_t sw,
                                  Py_ssize_t ph, Py_ssize_t pw, Py_ssize_t dh, Py_ssize_t dw) noexcept nogil:
    """out = max over each window, idx = where it is (−1 if the window holds no input)."""
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
                            # strictly greater: the first maximum wins ties; NaN beats everything
                            if best_at < 0 or v > best or isnan(v):
                                best = v
                                best_at = ih * W + iw
                    out[n, c, i, j] = best
                    idx[n, c, i, j] = best_at


cdef void direct_max_pool_backward(const floating[:, :, ::1] g, const index_t[:, :, ::1] idx,
                                   floating[:, :, ::1] grad) noexcept nogil:
    """grad (N, C, H·W), zeroed by the caller: add each g to the input position of its maximum."""
    cdef Py_ssize_t n, c, p, at
    for n in range(g.shape[0]):
        for c in range(g.shape[1]):
            for p in range(g.shape[2]):
                at = idx[n, c, p]
                if at >= 0:  # −1: a window without input elements (its gradient goes nowhere)
                    grad[n, c, at] += g[n, c, p]


cdef inline bint beats(floating v, floating best) noexcept nogil:
    """v becomes the window's maximum: strictly larger (so the first maximum wins ties) or NaN."""
    return (v > best) | (v != v)  # v != v: v is NaN


cdef inline void max_plane_2x2(const floating* x, floating* out, index_t* idx,
                               Py_ssize_t W, Py_ssize_t OH, Py_ssize_t OW) noexcept nogil:
    """One plane, 2×2 windows with stride 2 and no padding (the loop is in pool_impl.c)."""
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


cdef void fast_max_pool_forward(const floating[:, :, :, ::1] x, floating[:, :, :, ::1] out,
                                index_t[:, :, :, ::1] idx,
                                Py_ssize_t kh, Py_ssize_t kw, Py_ssize_t sh, Py_ssize_t sw,
                                Py_ssize_t ph, Py_ssize_t pw, Py_ssize_t dh, Py_ssize_t dw) noexcept nogil:
    cdef Py_ssize_t H = x.shape[2], W = x.shape[3], OH = out.shape[2], OW = out.shape[3]
    cdef Py_ssize_t planes = x.shape[0] * x.shape[1], p
    cdef bint is_2x2 = (kh == 2 and kw == 2 and sh == 2 and sw == 2 and ph == 0 and pw == 0
                        and dh == 1 and dw == 1 and 2 * OH <= H and 2 * OW <= W)
    cdef const floating* xs = &x[0, 0, 0, 0]
    cdef floating* outs = &out[0, 0, 0, 0]
    cdef index_t* idxs = &idx[0, 0, 0, 0]
    for p in prange(planes, schedule="dynamic", chunksize=CHUNK,
                    num_threads=threads_for(planes, H * W)):
        if is_2x2:
            max_plane_2x2(xs + p * H * W, outs + p * OH * OW, idxs + p * OH * OW, W, OH, OW)
        else:
            max_plane(xs + p * H * W, outs + p * OH * OW, idxs + p * OH * OW,
                      H, W, OH, OW, kh, kw, sh, sw, ph, pw, dh, dw)


cdef void fast_max_pool_backward(const floating[:, :, ::1] g, const index_t[:, :, ::1] idx,
                                 floating[:, :, ::1] grad) noexcept nogil:
    """grad (N, C, H·W) uninitialised: each task zeroes its plane, then scatters into it."""
    cdef Py_ssize_t HW = grad.shape[2], P = g.shape[2]
    cdef Py_ssize_t planes = g.shape[0] * g.shape[1], plane, q
    cdef index_t at
    cdef const floating* gs = &g[0, 0, 0]
    cdef const index_t* idxs = &idx[0, 0, 0]
    cdef floating* grads = &grad[0, 0, 0]
    cdef floating* dst
    for plane in prange(planes, schedule="dynamic", chunksize=CHUNK,
                    num_threads=threads_for(planes, HW)):
        dst = grads + plane * HW
        memset(dst, 0, HW * sizeof(floating))
        for q in range(P):
            at = idxs[plane * P + q]
            if at >= 0:
                dst[at] = dst[at] + gs[plane * P + q]


# =============================================================================================
# average pooling
# =============================================================================================

cdef inline Py_ssize_t avg_divisor(Py_ssize_t h0, Py_ssize_t w0, Py_ssize_t kh, Py_ssize_t kw,
                                   Py_ssize_t H, Py_ssize_t W, Py_ssize_t ph, Py_ssize_t pw,
                                   bint count_include_pad, Py_ssize_t divisor_override) noexcept nogil:
    """PyTorch's divisor of the window starting at (h0, w0) (0 if it holds no input element)."""
    cdef Py_ssize_t h1 = min(h0 + kh, H + ph), w1 = min(w0 + kw, W + pw)
    cdef Py_ssize_t padded_size = (h1 - h0) * (w1 - w0)  # the window clipped to the padded input
    h0 = max(h0, 0)
    w0 = max(w0, 0)
    h1 = min(h1, H)
    w1 = min(w1, W)
    if h0 >= h1 or w0 >= w1:
        return 0
    if divisor_override > 0:
        return divisor_override
    if count_include_pad:
        return padded_size
    return (h1 - h0) * (w1 - w0)


cdef void direct_avg_pool_forward(const floating[:, :, :, ::1] x, floating[:, :, :, ::1] out,
                                  Py_ssize_t kh, Py_ssize_t kw, Py_ssize_t sh, Py_ssize_t sw,
                                  Py_ssize_t ph, Py_ssize_t pw, bint count_include_pad,
                                  Py_ssize_t divisor_override) noexcept nogil:
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3]
    cdef Py_ssize_t n, c, i, j, m, k, ih, iw, divisor
    cdef floating total
    for n in range(N):
        for c in range(C):
            for i in range(out.shape[2]):
                for j in range(out.shape[3]):
                    divisor = avg_divisor(i * sh - ph, j * sw - pw, kh, kw, H, W, ph, pw,
                                          count_include_pad, divisor_override)
                    total = 0
                    for m in range(kh):
                        ih = i * sh - ph + m
                        if ih < 0 or ih >= H:
                            continue  # padding adds 0
                        for k in range(kw):
                            iw = j * sw - pw + k
                            if iw < 0 or iw >= W:
                                continue
                            total = total + x[n, c, ih, iw]
                    out[n, c, i, j] = total / divisor if divisor > 0 else 0


cdef void direct_avg_pool_backward(const floating[:, :, :, ::1] g, floating[:, :, :, ::1] grad,
                                   Py_ssize_t kh, Py_ssize_t kw, Py_ssize_t sh, Py_ssize_t sw,
                                   Py_ssize_t ph, Py_ssize_t pw, bint count_include_pad,
                                   Py_ssize_t divisor_override) noexcept nogil:
    """grad zeroed by the caller: every input element of a window gets g / divisor."""
    cdef Py_ssize_t N = grad.shape[0], C = grad.shape[1], H = grad.shape[2], W = grad.shape[3]
    cdef Py_ssize_t n, c, i, j, m, k, ih, iw, divisor
    cdef floating share
    for n in range(N):
        for c in range(C):
            for i in range(g.shape[2]):
                for j in range(g.shape[3]):
                    divisor = avg_divisor(i * sh - ph, j * sw - pw, kh, kw, H, W, ph, pw,
                                          count_include_pad, divisor_override)
                    if divisor == 0:
                        continue
                    share = g[n, c, i, j] / divisor
                    for m in range(kh):
                        ih = i * sh - ph + m
                        if ih < 0 or ih >= H:
                            continue
                        for k in range(kw):
                            iw = j * sw - pw + k
                            if iw < 0 or iw >= W:
                                continue
                            grad[n, c, ih, iw] += share


cdef inline void avg_plane(const floating* x, floating* out,
                           Py_ssize_t H, Py_ssize_t W, Py_ssize_t OH, Py_ssize_t OW,
                           Py_ssize_t kh, Py_ssize_t kw, Py_ssize_t sh, Py_ssize_t sw,
                           Py_ssize_t ph, Py_ssize_t pw, bint count_include_pad,
                           Py_ssize_t divisor_override) noexcept nogil:
    cdef Py_ssize_t i, j, ih, iw, h0, w0, divisor
    cdef floating total
    for i in range(OH):
        h0 = i * sh - ph
        for j in range(OW):
            w0 = j * sw - pw
            divisor = avg_divisor(h0, w0, kh, kw, H, W, ph, pw, count_include_pad, divisor_override)
            total = 0
            for ih in range(max(h0, 0), min(h0 + kh, H)):
                for iw in range(max(w0, 0), min(w0 + kw, W)):
                    total = total + x[ih * W + iw]
            out[i * OW + j] = total / divisor if divisor > 0 else 0


cdef inline void avg_plane_2x2(const floating* x, floating* out, Py_ssize_t W, Py_ssize_t OH,
                               Py_ssize_t OW, floating divisor) noexcept nogil:
    """2×2 windows, stride 2, no padding; summed in the same order as the general loop."""
    cdef Py_ssize_t i, j
    cdef const floating* row0
    cdef const floating* row1
    cdef floating total
    for i in range(OH):
        row0 = x + 2 * i * W
        row1 = row0 + W
        for j in range(OW):
            total = 0
            total = total + row0[2 * j]
            total = total + row0[2 * j + 1]
            total = total + row1[2 * j]
            total = total + row1[2 * j + 1]
            out[i * OW + j] = total / divisor


cdef void fast_avg_pool_forward(const floating[:, :, :, ::1] x, floating[:, :, :, ::1] out,
                                Py_ssize_t kh, Py_ssize_t kw, Py_ssize_t sh, Py_ssize_t sw,
                                Py_ssize_t ph, Py_ssize_t pw, bint count_include_pad,
                                Py_ssize_t divisor_override) noexcept nogil:
    cdef Py_ssize_t H = x.shape[2], W = x.shape[3], OH = out.shape[2], OW = out.shape[3]
    cdef Py_ssize_t planes = x.shape[0] * x.shape[1], p
    cdef bint is_2x2 = (kh == 2 and kw == 2 and sh == 2 and sw == 2 and ph == 0 and pw == 0
                        and 2 * OH <= H and 2 * OW <= W)
    cdef floating divisor_2x2 = divisor_override if divisor_override > 0 else 4
    cdef const floating* xs = &x[0, 0, 0, 0]
    cdef floating* outs = &out[0, 0, 0, 0]
    for p in prange(planes, schedule="dynamic", chunksize=CHUNK,
                    num_threads=threads_for(planes, H * W)):
        if is_2x2:
            avg_plane_2x2(xs + p * H * W, outs + p * OH * OW, W, OH, OW, divisor_2x2)
        else:
            avg_plane(xs + p * H * W, outs + p * OH * OW, H, W, OH, OW, kh, kw, sh, sw, ph, pw,
                      count_include_pad, divisor_override)


cdef inline void avg_plane_backward(const floating* g, floating* grad,
                                    Py_ssize_t H, Py_ssize_t W, Py_ssize_t OH, Py_ssize_t OW,
                                    Py_ssize_t kh, Py_ssize_t kw, Py_ssize_t sh, Py_ssize_t sw,
                                    Py_ssize_t ph, Py_ssize_t pw, bint count_include_pad,
                                    Py_ssize_t divisor_override) noexcept nogil:
    cdef Py_ssize_t i, j, ih, iw, h0, w0, divisor
    cdef floating share
    memset(grad, 0, H * W * sizeof(floating))
    for i in range(OH):
        h0 = i * sh - ph
        for j in range(OW):
            w0 = j * sw - pw
            divisor = avg_divisor(h0, w0, kh, kw, H, W, ph, pw, count_include_pad, divisor_override)
            if divisor == 0:
                continue
            share = g[i * OW + j] / divisor
            for ih in range(max(h0, 0), min(h0 + kh, H)):
                for iw in range(max(w0, 0), min(w0 + kw, W)):
                    grad[ih * W + iw] = grad[ih * W + iw] + share


cdef inline void avg_plane_backward_2x2(const floating* g, floating* grad, Py_ssize_t H,
                                        Py_ssize_t W, Py_ssize_t OH, Py_ssize_t OW,
                                        floating divisor) noexcept nogil:
    """Non-overlapping windows: every input element gets exactly one share, written directly
    (rows and columns left over by an odd size get 0)."""
    cdef Py_ssize_t i, j
    cdef floating share
    cdef floating* row0
    cdef floating* row1
    for i in range(OH):
        row0 = grad + 2 * i * W
        row1 = row0 + W
        for j in range(OW):
            share = g[i * OW + j] / divisor
            row0[2 * j] = share
            row0[2 * j + 1] = share
            row1[2 * j] = share
            row1[2 * j + 1] = share
        if 2 * OW < W:  # the last column, outside every window
            row0[W - 1] = 0
            row1[W - 1] = 0
    if 2 * OH < H:  # the last row
        memset(grad + (H - 1) * W, 0, W * sizeof(floating))


cdef void fast_avg_pool_backward(const floating[:, :, :, ::1] g, floating[:, :, :, ::1] grad,
                                 Py_ssize_t kh, Py_ssize_t kw, Py_ssize_t sh, Py_ssize_t sw,
                                 Py_ssize_t ph, Py_ssize_t pw, bint count_include_pad,
                                 Py_ssize_t divisor_override) noexcept nogil:
    """grad uninitialised: every element is written."""
    cdef Py_ssize_t H = grad.shape[2], W = grad.shape[3], OH = g.shape[2], OW = g.shape[3]
    cdef Py_ssize_t planes = grad.shape[0] * grad.shape[1], p
    # the 2x2 loop covers all but at most one trailing row and column
    cdef bint is_2x2 = (kh == 2 and kw == 2 and sh == 2 and sw == 2 and ph == 0 and pw == 0
                        and 2 * OH <= H <= 2 * OH + 1 and 2 * OW <= W <= 2 * OW + 1)
    cdef floating divisor_2x2 = divisor_override if divisor_override > 0 else 4
    cdef const floating* gs = &g[0, 0, 0, 0]
    cdef floating* grads = &grad[0, 0, 0, 0]
    for p in prange(planes, schedule="dynamic", chunksize=CHUNK,
                    num_threads=threads_for(planes, H * W)):
        if is_2x2:
            avg_plane_backward_2x2(gs + p * OH * OW, grads + p * H * W, H, W, OH, OW, divisor_2x2)
        else:
            avg_plane_backward(gs + p * OH * OW, grads + p * H * W, H, W, OH, OW, kh, kw, sh, sw,
                               ph, pw, count_include_pad, divisor_override)


# =============================================================================================
# nearest upsampling
# =============================================================================================

cdef void direct_upsample_forward(const floating[:, :, :, ::1] x, floating[:, :, :, ::1] out,
                                  const index_t[::1] src_h, const index_t[::1] src_w) noexcept nogil:
    cdef Py_ssize_t n, c, i, j
    for n in range(out.shape[0]):
        for c in range(out.shape[1]):
            for i in range(out.shape[2]):
                for j in range(out.shape[3]):
                    out[n, c, i, j] = x[n, c, src_h[i], src_w[j]]


cdef void direct_upsample_backward(const floating[:, :, :, ::1] g, floating[:, :, :, ::1] grad,
                                   const index_t[::1] src_h, const index_t[::1] src_w) noexcept nogil:
    """grad zeroed by the caller."""
    cdef Py_ssize_t n, c, i, j
    for n in range(g.shape[0]):
        for c in range(g.shape[1]):
            for i in range(g.shape[2]):
                for j in range(g.shape[3]):
                    grad[n, c, src_h[i], src_w[j]] += g[n, c, i, j]


cdef bint doubles_columns(const index_t[::1] src_w, Py_ssize_t W) noexcept nogil:
    """True when src_w = 0 0 1 1 2 2 … (scale factor 2 along the row): the common case."""
    cdef Py_ssize_t j
    if src_w.shape[0] != 2 * W:
        return False
    for j in range(src_w.shape[0]):
        if src_w[j] != j // 2:
            return False
    return True


cdef inline void upsample_plane(const floating* x, floating* out, Py_ssize_t W,
                                Py_ssize_t OH, Py_ssize_t OW, const index_t* src_h,
                                const index_t* src_w, bint twice) noexcept nogil:
    """Row by row; an output row that repeats the previous source row is a copy of it.
    twice: src_w = 0 0 1 1 …, so each source pixel is written to two neighbours."""
    cdef Py_ssize_t i, j, k
    cdef const floating* src
    cdef floating* row
    for i in range(OH):
        row = out + i * OW
        if i > 0 and src_h[i] == src_h[i - 1]:
            memcpy(row, row - OW, OW * sizeof(floating))
            continue
        src = x + src_h[i] * W
        if twice:
            for k in range(W):
                row[2 * k] = src[k]
                row[2 * k + 1] = src[k]
        else:
            for j in range(OW):
                row[j] = src[src_w[j]]


cdef inline void upsample_plane_backward(const floating* g, floating* grad, Py_ssize_t H,
                                         Py_ssize_t W, Py_ssize_t OH, Py_ssize_t OW,
                                         const index_t* src_h, const index_t* src_w,
                                         bint twice) noexcept nogil:
    """The direct scatter, one plane at a time, in the same order of additions (same sums).
    twice: src_w = 0 0 1 1 …, so pixel k of the source row collects g[2k] then g[2k + 1]."""
    cdef Py_ssize_t i, j, k
    cdef const floating* grow
    cdef floating* dst
    memset(grad, 0, H * W * sizeof(floating))
    for i in range(OH):
        grow = g + i * OW
        dst = grad + src_h[i] * W
        if twice:
            for k in range(W):
                dst[k] = (dst[k] + grow[2 * k]) + grow[2 * k + 1]
        else:
            for j in range(OW):
                dst[src_w[j]] = dst[src_w[j]] + grow[j]


cdef void fast_upsample_forward(const floating[:, :, :, ::1] x, floating[:, :, :, ::1] out,
                                const index_t[::1] src_h, const index_t[::1] src_w) noexcept nogil:
    cdef Py_ssize_t H = x.shape[2], W = x.shape[3], OH = out.shape[2], OW = out.shape[3]
    cdef Py_ssize_t planes = x.shape[0] * x.shape[1], p
    cdef bint twice = doubles_columns(src_w, W)
    cdef const floating* xs = &x[0, 0, 0, 0]
    cdef floating* outs = &out[0, 0, 0, 0]
    for p in prange(planes, schedule="dynamic", chunksize=CHUNK,
                    num_threads=threads_for(planes, H * W + OH * OW)):
        upsample_plane(xs + p * H * W, outs + p * OH * OW, W, OH, OW, &src_h[0], &src_w[0], twice)


cdef void fast_upsample_backward(const floating[:, :, :, ::1] g, floating[:, :, :, ::1] grad,
                                 const index_t[::1] src_h, const index_t[::1] src_w) noexcept nogil:
    cdef Py_ssize_t H = grad.shape[2], W = grad.shape[3], OH = g.shape[2], OW = g.shape[3]
    cdef Py_ssize_t planes = grad.shape[0] * grad.shape[1], p
    cdef bint twice = doubles_columns(src_w, W)
    cdef const floating* gs = &g[0, 0, 0, 0]
    cdef floating* grads = &grad[0, 0, 0, 0]
    for p in prange(planes, schedule="dynamic", chunksize=CHUNK,
                    num_threads=threads_for(planes, H * W + OH * OW)):
        upsample_plane_backward(gs + p * OH * OW, grads + p * H * W, H, W, OH, OW,
                                &src_h[0], &src_w[0], twice)


# =============================================================================================
# Runners: typed views are taken with the GIL held, then one path runs without it
# =============================================================================================

def _run_max_forward(const floating[:, :, :, ::1] x, floating[:, :, :, ::1] out,
                     index_t[:, :, :, ::1] idx, Py_ssize_t kh, Py_ssize_t kw, Py_ssize_t sh,
                     Py_ssize_t sw, Py_ssize_t ph, Py_ssize_t pw, Py_ssize_t dh, Py_ssize_t dw,
                     bint fast):
    if fast:
        choose_threads()
    with nogil:
        if fast:
            fast_max_pool_forward(x, out, idx, kh, kw, sh, sw, ph, pw, dh, dw)
        else:
            direct_max_pool_forward(x, out, idx, kh, kw, sh, sw, ph, pw, dh, dw)


def _run_max_backward(const floating[:, :, ::1] g, const index_t[:, :, ::1] idx,
                      floating[:, :, ::1] grad, bint fast):
    if fast:
        choose_threads()
    with nogil:
        if fast:
            fast_max_pool_backward(g, idx, grad)
        else:
            direct_max_pool_backward(g, idx, grad)


def _run_avg_forward(const floating[:, :, :, ::1] x, floating[:, :, :, ::1] out,
                     Py_ssize_t kh, Py_ssize_t kw, Py_ssize_t sh, Py_ssize_t sw, Py_ssize_t ph,
                     Py_ssize_t pw, bint count_include_pad, Py_ssize_t divisor, bint fast):
    if fast:
        choose_threads()
    with nogil:
        if fast:
            fast_avg_pool_forward(x, out, kh, kw, sh, sw, ph, pw, count_include_pad, divisor)
        else:
            direct_avg_pool_forward(x, out, kh, kw, sh, sw, ph, pw, count_include_pad, divisor)


def _run_avg_backward(const floating[:, :, :, ::1] g, floating[:, :, :, ::1] grad,
                      Py_ssize_t kh, Py_ssize_t kw, Py_ssize_t sh, Py_ssize_t sw, Py_ssize_t ph,
                      Py_ssize_t pw, bint count_include_pad, Py_ssize_t divisor, bint fast):
    if fast:
        choose_threads()
    with nogil:
        if fast:
            fast_avg_pool_backward(g, grad, kh, kw, sh, sw, ph, pw, count_include_pad, divisor)
        else:
            direct_avg_pool_backward(g, grad, kh, kw, sh, sw, ph, pw, count_include_pad, divisor)


def _run_upsample_forward(const floating[:, :, :, ::1] x, floating[:, :, :, ::1] out,
                          const index_t[::1] src_h, const index_t[::1] src_w, bint fast):
    if fast:
        choose_threads()
    with nogil:
        if fast:
            fast_upsample_forward(x, out, src_h, src_w)
        else:
            direct_upsample_forward(x, out, src_h, src_w)


def _run_upsample_backward(const floating[:, :, :, ::1] g, floating[:, :, :, ::1] grad,
                           const index_t[::1] src_h, const index_t[::1] src_w, bint fast):
    if fast:
        choose_threads()
    with nogil:
        if fast:
            fast_upsample_backward(g, grad, src_h, src_w)
        else:
            direct_upsample_backward(g, grad, src_h, src_w)


# =============================================================================================
# Python entry points: check everything, allocate, run one path
# =============================================================================================

def _check_array(name, a, ndim):
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{name} must be a numpy array, got {type(a).__name__}")
    if a.dtype != np.float32 and a.dtype != np.float64:
        raise TypeError(f"{name} must be float32 or float64, got {a.dtype}")
    if a.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions, got shape {a.shape}")
    if not a.flags.c_contiguous:
        raise ValueError(f"{name} of shape {a.shape} must be C-contiguous")


def _check_window(kernel, stride, padding, dilation=(1, 1)):
    for label, pair, low in (("kernel_size", kernel, 1), ("stride", stride, 1),
                             ("padding", padding, 0), ("dilation", dilation, 1)):
        if len(pair) != 2 or any(int(v) < low for v in pair):
            raise ValueError(f"{label} must be two integers ≥ {low}, got {tuple(pair)}")


def _check_sizes(label, sizes):
    if len(sizes) != 2 or any(int(v) < 1 for v in sizes):
        raise ValueError(f"{label} must be two integers ≥ 1, got {tuple(sizes)}")
    return int(sizes[0]), int(sizes[1])


def _check_divisor(divisor_override):
    if divisor_override is None:
        return 0
    if int(divisor_override) < 1:
        raise ValueError(f"divisor_override must be a positive integer, got {divisor_override}")
    return int(divisor_override)


def _check_sources(src, size, axis):
    if not isinstance(src, np.ndarray) or src.dtype != np.int64 or src.ndim != 1:
        raise TypeError(f"src_{axis} must be a 1-D int64 numpy array")
    if src.size == 0:
        raise ValueError(f"src_{axis} must not be empty")
    if src.min() < 0 or src.max() >= size:
        raise ValueError(f"src_{axis} must index an axis of size {size}, got values in "
                         f"[{src.min()}, {src.max()}]")
    return np.ascontiguousarray(src)


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
    _run_max_forward(x, out, idx, kernel[0], kernel[1], stride[0], stride[1], padding[0],
                     padding[1], dilation[0], dilation[1], fast)
    return out, idx


def max_pool2d_backward(g, idx, in_size, bint fast=True):
    """∂L/∂x (N, C, H, W) from g and idx (N, C, OH, OW): g added at each argmax."""
    _check_array("g", g, 4)
    if not isinstance(idx, np.ndarray) or idx.dtype != np.int64 or not idx.flags.c_contiguous:
        raise TypeError("idx must be a C-contiguous int64 numpy array")
    if idx.shape != g.shape:
        raise ValueError(f"idx of shape {idx.shape} does not match g of shape {g.shape}")
    H, W = _check_sizes("in_size", in_size)
    N, C = g.shape[0], g.shape[1]
    if g.size == 0:
        return np.zeros((N, C, H, W), dtype=g.dtype)
    if idx.min() < -1 or idx.max() >= H * W:  # the scatter must stay inside its plane
        raise ValueError(f"idx holds positions outside a {H}x{W} plane")
    grad = (np.empty if fast else np.zeros)((N, C, H * W), dtype=g.dtype)
    _run_max_backward(g.reshape(N, C, -1), idx.reshape(N, C, -1), grad, fast)
    return grad.reshape(N, C, H, W)


def avg_pool2d_forward(x, kernel, stride, padding, out_size, bint count_include_pad=True,
                       divisor_override=None, bint fast=True):
    """Average pooling of x (N, C, H, W) to (N, C, OH, OW), divisors as PyTorch."""
    _check_array("x", x, 4)
    _check_window(kernel, stride, padding)
    OH, OW = _check_sizes("out_size", out_size)
    divisor = _check_divisor(divisor_override)
    out = np.zeros((x.shape[0], x.shape[1], OH, OW), dtype=x.dtype)
    if x.size == 0:
        return out
    _run_avg_forward(x, out, kernel[0], kernel[1], stride[0], stride[1], padding[0], padding[1],
                     count_include_pad, divisor, fast)
    return out


def avg_pool2d_backward(g, in_size, kernel, stride, padding, bint count_include_pad=True,
                        divisor_override=None, bint fast=True):
    """∂L/∂x (N, C, H, W) of average pooling from g (N, C, OH, OW)."""
    _check_array("g", g, 4)
    _check_window(kernel, stride, padding)
    H, W = _check_sizes("in_size", in_size)
    divisor = _check_divisor(divisor_override)
    if g.size == 0:
        return np.zeros((g.shape[0], g.shape[1], H, W), dtype=g.dtype)
    grad = (np.empty if fast else np.zeros)((g.shape[0], g.shape[1], H, W), dtype=g.dtype)
    _run_avg_backward(g, grad, kernel[0], kernel[1], stride[0], stride[1], padding[0], padding[1],
                      count_include_pad, divisor, fast)
    return grad


def upsample_nearest2d_forward(x, src_h, src_w, bint fast=True):
    """out[n, c, i, j] = x[n, c, src_h[i], src_w[j]]; out is (N, C, len(src_h), len(src_w))."""
    _check_array("x", x, 4)
    src_h = _check_sources(src_h, x.shape[2], "h")
    src_w = _check_sources(src_w, x.shape[3], "w")
    out = np.empty((x.shape[0], x.shape[1], src_h.size, src_w.size), dtype=x.dtype)
    if out.size == 0:
        return out
    _run_upsample_forward(x, out, src_h, src_w, fast)
    return out


def upsample_nearest2d_backward(g, src_h, src_w, in_size, bint fast=True):
    """∂L/∂x (N, C, H, W): each g[n, c, i, j] added to x's element (src_h[i], src_w[j])."""
    _check_array("g", g, 4)
    H, W = _check_sizes("in_size", in_size)
    src_h = _check_sources(src_h, H, "h")
    src_w = _check_sources(src_w, W, "w")
    if g.shape[2] != src_h.size or g.shape[3] != src_w.size:
        raise ValueError(f"g of shape {g.shape} does not match the {src_h.size}x{src_w.size} output")
    if g.size == 0:
        return np.zeros((g.shape[0], g.shape[1], H, W), dtype=g.dtype)
    grad = (np.empty if fast else np.zeros)((g.shape[0], g.shape[1], H, W), dtype=g.dtype)
    _run_upsample_backward(g, grad, src_h, src_w, fast)
    return grad
