# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""avg_pool2d, NCHW, float32 and float64: forward (each window's sum over its divisor) and
backward (each gradient shared among its window's inputs).

The formulas, and the divisor: AvgPool2dFn in tinygrad_edu/ops/pool.py (windows and padding:
that file's module docstring). The numpy oracle: avg_pool2d_forward / avg_pool2d_backward in
tinygrad_edu/reference/pool.py.

avg_pool2d_forward and avg_pool2d_backward check their arguments, then run one of two loops that
give the same numbers (the same additions in the same order):
- `_direct`: reads like the formula, window by window, one thread;
- `_fast`:   ranges of (n, c) planes across the cores (parallel_for), window bounds clipped once
             instead of tested per element, a special loop for 2×2 / stride-2 windows; backward
             writes (or zeroes) one plane at a time while it is in cache instead of zeroing the
             whole gradient up front.
_avg_pool2d_forward / _avg_pool2d_backward pick the loop (the fast one over planes p0 … p1−1),
Cython its float or double version (from the arrays' dtype).
"""

include "pool_common.pxi"


# ---------------------------------------------------------------------------------------------
# Entry points: check everything, allocate, run one path
# ---------------------------------------------------------------------------------------------
def _check_divisor(divisor_override):
    """0 for None (no override), else the positive divisor."""
    if divisor_override is None:
        return 0
    if int(divisor_override) < 1:
        raise ValueError(f"divisor_override must be a positive integer, got {divisor_override}")
    return int(divisor_override)


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
    window = (*kernel, *stride, *padding, count_include_pad, divisor)
    planes = x.shape[0] * x.shape[1]
    if fast:
        parallel_for(lambda p0, p1: _avg_pool2d_forward(x, out, *window, True, p0, p1),
                     planes, x.size + out.size)
    else:
        _avg_pool2d_forward(x, out, *window, False, 0, planes)
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
    window = (*kernel, *stride, *padding, count_include_pad, divisor)
    planes = g.shape[0] * g.shape[1]
    if fast:
        parallel_for(lambda p0, p1: _avg_pool2d_backward(g, grad, *window, True, p0, p1),
                     planes, grad.size + g.size)
    else:
        _avg_pool2d_backward(g, grad, *window, False, 0, planes)
    return grad


# ---------------------------------------------------------------------------------------------
# One dispatch per direction: Cython takes the typed views (float or double, from the arrays'
# dtype) with the GIL held, then the chosen loop runs without it
# ---------------------------------------------------------------------------------------------
def _avg_pool2d_forward(const floating[:, :, :, ::1] x, floating[:, :, :, ::1] out,
                        Py_ssize_t kh, Py_ssize_t kw, Py_ssize_t sh, Py_ssize_t sw, Py_ssize_t ph,
                        Py_ssize_t pw, bint count_include_pad, Py_ssize_t divisor, bint fast,
                        Py_ssize_t p0, Py_ssize_t p1):
    with nogil:
        if fast:
            _avg_pool2d_forward_fast(x, out, kh, kw, sh, sw, ph, pw, count_include_pad, divisor,
                                     p0, p1)
        else:
            _avg_pool2d_forward_direct(x, out, kh, kw, sh, sw, ph, pw, count_include_pad, divisor)


def _avg_pool2d_backward(const floating[:, :, :, ::1] g, floating[:, :, :, ::1] grad,
                         Py_ssize_t kh, Py_ssize_t kw, Py_ssize_t sh, Py_ssize_t sw, Py_ssize_t ph,
                         Py_ssize_t pw, bint count_include_pad, Py_ssize_t divisor, bint fast,
                         Py_ssize_t p0, Py_ssize_t p1):
    with nogil:
        if fast:
            _avg_pool2d_backward_fast(g, grad, kh, kw, sh, sw, ph, pw, count_include_pad, divisor,
                                      p0, p1)
        else:
            _avg_pool2d_backward_direct(g, grad, kh, kw, sh, sw, ph, pw, count_include_pad, divisor)


cdef inline Py_ssize_t avg_divisor(Py_ssize_t h0, Py_ssize_t w0, Py_ssize_t kh, Py_ssize_t kw,
                                   Py_ssize_t H, Py_ssize_t W, Py_ssize_t ph, Py_ssize_t pw,
                                   bint count_include_pad, Py_ssize_t divisor_override) noexcept nogil:
    """AvgPool2dFn's divisor of the window starting at (h0, w0) (0 if it holds no input)."""
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


# ---------------------------------------------------------------------------------------------
# direct loops: the formulas, window by window
# ---------------------------------------------------------------------------------------------
cdef void _avg_pool2d_forward_direct(
        const floating[:, :, :, ::1] x, floating[:, :, :, ::1] out, Py_ssize_t kh, Py_ssize_t kw,
        Py_ssize_t sh, Py_ssize_t sw, Py_ssize_t ph, Py_ssize_t pw, bint count_include_pad,
        Py_ssize_t divisor_override) noexcept nogil:
    """out = the window's sum / divisor."""
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


cdef void _avg_pool2d_backward_direct(
        const floating[:, :, :, ::1] g, floating[:, :, :, ::1] grad, Py_ssize_t kh, Py_ssize_t kw,
        Py_ssize_t sh, Py_ssize_t sw, Py_ssize_t ph, Py_ssize_t pw, bint count_include_pad,
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


# ---------------------------------------------------------------------------------------------
# fast loops: plane by plane across the cores
# ---------------------------------------------------------------------------------------------
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


cdef void _avg_pool2d_forward_fast(
        const floating[:, :, :, ::1] x, floating[:, :, :, ::1] out, Py_ssize_t kh, Py_ssize_t kw,
        Py_ssize_t sh, Py_ssize_t sw, Py_ssize_t ph, Py_ssize_t pw, bint count_include_pad,
        Py_ssize_t divisor_override, Py_ssize_t p0, Py_ssize_t p1) noexcept nogil:
    cdef Py_ssize_t H = x.shape[2], W = x.shape[3], OH = out.shape[2], OW = out.shape[3]
    cdef Py_ssize_t p
    cdef bint is_2x2 = (kh == 2 and kw == 2 and sh == 2 and sw == 2 and ph == 0 and pw == 0
                        and 2 * OH <= H and 2 * OW <= W)
    cdef floating divisor_2x2 = divisor_override if divisor_override > 0 else 4
    cdef const floating* xs = &x[0, 0, 0, 0]
    cdef floating* outs = &out[0, 0, 0, 0]
    for p in range(p0, p1):
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


cdef void _avg_pool2d_backward_fast(
        const floating[:, :, :, ::1] g, floating[:, :, :, ::1] grad, Py_ssize_t kh, Py_ssize_t kw,
        Py_ssize_t sh, Py_ssize_t sw, Py_ssize_t ph, Py_ssize_t pw, bint count_include_pad,
        Py_ssize_t divisor_override, Py_ssize_t p0, Py_ssize_t p1) noexcept nogil:
    """grad uninitialised: every element is written."""
    cdef Py_ssize_t H = grad.shape[2], W = grad.shape[3], OH = g.shape[2], OW = g.shape[3]
    cdef Py_ssize_t p
    # the 2x2 loop covers all but at most one trailing row and column
    cdef bint is_2x2 = (kh == 2 and kw == 2 and sh == 2 and sw == 2 and ph == 0 and pw == 0
                        and 2 * OH <= H <= 2 * OH + 1 and 2 * OW <= W <= 2 * OW + 1)
    cdef floating divisor_2x2 = divisor_override if divisor_override > 0 else 4
    cdef const floating* gs = &g[0, 0, 0, 0]
    cdef floating* grads = &grad[0, 0, 0, 0]
    for p in range(p0, p1):
        if is_2x2:
            avg_plane_backward_2x2(gs + p * OH * OW, grads + p * H * W, H, W, OH, OW, divisor_2x2)
        else:
            avg_plane_backward(gs + p * OH * OW, grads + p * H * W, H, W, OH, OW, kh, kw, sh, sw,
                               ph, pw, count_include_pad, divisor_override)
