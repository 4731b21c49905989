# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""upsample_nearest2d (interpolate, mode="nearest"), NCHW, float32 and float64: forward (each
output pixel copies its source pixel) and backward (each source pixel sums the gradients of its
copies).

The formulas: UpsampleNearest2dFn in tinygrad_edu/ops/pool.py (which source pixel each output
pixel copies: nearest_sources there). The numpy oracle: upsample_nearest2d_forward /
upsample_nearest2d_backward in tinygrad_edu/reference/pool.py.

upsample_nearest2d_forward and upsample_nearest2d_backward check their arguments, then run one of
two loops that give the same numbers (the same additions in the same order):
- `_direct`: reads like the formula, pixel by pixel, one thread;
- `_fast`:   ranges of (n, c) planes across the cores (parallel_for), a repeated source row copied
             with memcpy, special loops for ×2 along the rows; backward zeroes one plane at a
             time while it is in cache instead of the whole gradient up front.
_upsample_nearest2d_forward / _upsample_nearest2d_backward pick the loop, Cython its float or
double version (from the arrays' dtype).
"""

include "pool_common.pxi"


# ---------------------------------------------------------------------------------------------
# Entry points: check everything, allocate, run one path
# ---------------------------------------------------------------------------------------------
def _check_sources(src, size, axis):
    """src_h / src_w: a non-empty 1-D int64 table of positions inside an axis of `size`."""
    if not isinstance(src, np.ndarray) or src.dtype != np.int64 or src.ndim != 1:
        raise TypeError(f"src_{axis} must be a 1-D int64 numpy array, got "
                        f"{getattr(src, 'dtype', type(src).__name__)} of shape {np.shape(src)}")
    if src.size == 0:
        raise ValueError(f"src_{axis} must not be empty")
    if src.min() < 0 or src.max() >= size:
        raise ValueError(f"src_{axis} must index an axis of size {size}, got values in "
                         f"[{src.min()}, {src.max()}]")
    return np.ascontiguousarray(src)


def upsample_nearest2d_forward(x, src_h, src_w, bint fast=True):
    """out[n, c, i, j] = x[n, c, src_h[i], src_w[j]]; out is (N, C, len(src_h), len(src_w))."""
    _check_array("x", x, 4)
    src_h = _check_sources(src_h, x.shape[2], "h")
    src_w = _check_sources(src_w, x.shape[3], "w")
    out = np.empty((x.shape[0], x.shape[1], src_h.size, src_w.size), dtype=x.dtype)
    if out.size == 0:
        return out
    planes = x.shape[0] * x.shape[1]
    if fast:
        parallel_for(lambda p0, p1: _upsample_nearest2d_forward(x, out, src_h, src_w, True, p0, p1),
                     planes, x.size + out.size)
    else:
        _upsample_nearest2d_forward(x, out, src_h, src_w, False, 0, planes)
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
    planes = g.shape[0] * g.shape[1]
    if fast:
        parallel_for(lambda p0, p1: _upsample_nearest2d_backward(g, grad, src_h, src_w, True, p0,
                                                                 p1), planes, g.size + grad.size)
    else:
        _upsample_nearest2d_backward(g, grad, src_h, src_w, False, 0, planes)
    return grad


# ---------------------------------------------------------------------------------------------
# One dispatch per direction: Cython takes the typed views (float or double, from the arrays'
# dtype) with the GIL held, then the chosen loop runs without it
# ---------------------------------------------------------------------------------------------
def _upsample_nearest2d_forward(const floating[:, :, :, ::1] x, floating[:, :, :, ::1] out,
                                const index_t[::1] src_h, const index_t[::1] src_w, bint fast,
                                Py_ssize_t p0, Py_ssize_t p1):
    with nogil:
        if fast:
            _upsample_nearest2d_forward_fast(x, out, src_h, src_w, p0, p1)
        else:
            _upsample_nearest2d_forward_direct(x, out, src_h, src_w)


def _upsample_nearest2d_backward(const floating[:, :, :, ::1] g, floating[:, :, :, ::1] grad,
                                 const index_t[::1] src_h, const index_t[::1] src_w, bint fast,
                                 Py_ssize_t p0, Py_ssize_t p1):
    with nogil:
        if fast:
            _upsample_nearest2d_backward_fast(g, grad, src_h, src_w, p0, p1)
        else:
            _upsample_nearest2d_backward_direct(g, grad, src_h, src_w)


# ---------------------------------------------------------------------------------------------
# direct loops: the formulas, pixel by pixel
# ---------------------------------------------------------------------------------------------
cdef void _upsample_nearest2d_forward_direct(
        const floating[:, :, :, ::1] x, floating[:, :, :, ::1] out, const index_t[::1] src_h,
        const index_t[::1] src_w) noexcept nogil:
    cdef Py_ssize_t n, c, i, j
    for n in range(out.shape[0]):
        for c in range(out.shape[1]):
            for i in range(out.shape[2]):
                for j in range(out.shape[3]):
                    out[n, c, i, j] = x[n, c, src_h[i], src_w[j]]


cdef void _upsample_nearest2d_backward_direct(
        const floating[:, :, :, ::1] g, floating[:, :, :, ::1] grad, const index_t[::1] src_h,
        const index_t[::1] src_w) noexcept nogil:
    """grad zeroed by the caller."""
    cdef Py_ssize_t n, c, i, j
    for n in range(g.shape[0]):
        for c in range(g.shape[1]):
            for i in range(g.shape[2]):
                for j in range(g.shape[3]):
                    grad[n, c, src_h[i], src_w[j]] += g[n, c, i, j]


# ---------------------------------------------------------------------------------------------
# fast loops: plane by plane across the cores
# ---------------------------------------------------------------------------------------------
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


cdef void _upsample_nearest2d_forward_fast(
        const floating[:, :, :, ::1] x, floating[:, :, :, ::1] out, const index_t[::1] src_h,
        const index_t[::1] src_w, Py_ssize_t p0, Py_ssize_t p1) noexcept nogil:
    cdef Py_ssize_t H = x.shape[2], W = x.shape[3], OH = out.shape[2], OW = out.shape[3], p
    cdef bint twice = doubles_columns(src_w, W)
    cdef const floating* xs = &x[0, 0, 0, 0]
    cdef floating* outs = &out[0, 0, 0, 0]
    for p in range(p0, p1):
        upsample_plane(xs + p * H * W, outs + p * OH * OW, W, OH, OW, &src_h[0], &src_w[0], twice)


cdef void _upsample_nearest2d_backward_fast(
        const floating[:, :, :, ::1] g, floating[:, :, :, ::1] grad, const index_t[::1] src_h,
        const index_t[::1] src_w, Py_ssize_t p0, Py_ssize_t p1) noexcept nogil:
    """grad uninitialised: each plane is zeroed, then scattered into."""
    cdef Py_ssize_t H = grad.shape[2], W = grad.shape[3], OH = g.shape[2], OW = g.shape[3], p
    cdef bint twice = doubles_columns(src_w, W)
    cdef const floating* gs = &g[0, 0, 0, 0]
    cdef floating* grads = &grad[0, 0, 0, 0]
    for p in range(p0, p1):
        upsample_plane_backward(gs + p * OH * OW, grads + p * H * W, H, W, OH, OW,
                                &src_h[0], &src_w[0], twice)
