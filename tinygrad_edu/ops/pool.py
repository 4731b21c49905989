"""Pooling, unpooling and upsampling: max_pool2d, avg_pool2d, max_unpool2d, interpolate
(mode "nearest", "nearest-exact", "bilinear" / "linear").

Shapes: x (N, C, H, W) or (C, H, W) → out (N, C, OH, OW); g = ∂L/∂out has out's shape and
∂L/∂x has x's. Window (i, j) covers the rows ih = i·sh − ph + m·dh (0 ≤ m < kh) and the columns
iw = j·sw − pw + k·dw (0 ≤ k < kw) of x; positions outside x are padding.

    max pool:  out[n,c,i,j] = max_(m,k) x[n,c,ih,iw]          padding counts as −inf
               ∂L/∂x[n,c,ih,iw] = Σ of g[n,c,i,j] over the windows whose maximum sits at (ih, iw)
    avg pool:  out[n,c,i,j] = Σ_(m,k) x[n,c,ih,iw] / divisor   padding adds 0
               ∂L/∂x[n,c,ih,iw] = Σ over the windows (i, j) holding (ih, iw) of g[n,c,i,j] / divisor
    nearest:   out[n,c,i,j] = x[n,c, ⌊i·H/OH⌋, ⌊j·W/OW⌋]
               ∂L/∂x[n,c,y,x] = Σ of g over the output pixels copied from (y, x)
    bilinear:  out[n,c] = A_h · x[n,c] · A_wᵀ  (A: each row mixes two neighbours, linear_weights)
               ∂L/∂x[n,c] = A_hᵀ · g[n,c] · A_w
    unpool:    out[n,c].flat[idx[k]] = x[n,c].flat[k], zeros elsewhere;  ∂L/∂x[k] = g.flat[idx[k]]

Output size (PyTorch's rule): OH = ⌊(H + 2·ph − dh·(kh − 1) − 1) / sh⌋ + 1, rounded up instead
with ceil_mode=True (but a window must start inside the image or its left padding).

A 4×4 image, 2×2 windows, stride 2. Max pooling keeps the largest value of each window and
sends the gradient back to where it was (the FIRST maximum when two tie, as in the bottom right):

>>> import tinygrad_edu as tg
>>> import tinygrad_edu.nn.functional as F
>>> x = tg.Tensor([[[[1., 3., 2., 0.],
...                  [4., 2., 1., 5.],
...                  [0., 6., 3., 3.],
...                  [2., 1., 1., 2.]]]], requires_grad=True)
>>> y = F.max_pool2d(x, 2)
>>> y.data[0, 0]
array([[4., 5.],
       [6., 3.]], dtype=float32)
>>> y.sum().backward()
>>> x.grad[0, 0]
array([[0., 0., 0., 0.],
       [1., 0., 0., 1.],
       [0., 1., 1., 0.],
       [0., 0., 0., 0.]], dtype=float32)

Average pooling takes each window's mean and shares the gradient equally among its 4 inputs:

>>> x.grad = None
>>> y = F.avg_pool2d(x, 2)
>>> y.data[0, 0]
array([[2.5 , 2.  ],
       [2.25, 2.25]], dtype=float32)
>>> y.sum().backward()
>>> x.grad[0, 0]
array([[0.25, 0.25, 0.25, 0.25],
       [0.25, 0.25, 0.25, 0.25],
       [0.25, 0.25, 0.25, 0.25],
       [0.25, 0.25, 0.25, 0.25]], dtype=float32)

Nearest upsampling copies each pixel into a 2×2 block; backward sums each block's gradient:

>>> z = tg.Tensor([[[[1., 2.], [3., 4.]]]], requires_grad=True)
>>> u = F.interpolate(z, scale_factor=2)
>>> u.data[0, 0]
array([[1., 1., 2., 2.],
       [1., 1., 2., 2.],
       [3., 3., 4., 4.],
       [3., 3., 4., 4.]], dtype=float32)
>>> u.sum().backward()
>>> z.grad[0, 0]
array([[4., 4.],
       [4., 4.]], dtype=float32)

One op, one name, all the way down (max_pool2d shown; avg_pool2d and upsample_nearest2d alike):

    F.max_pool2d (nn/functional.py)  →  MaxPool2dFn (here)  →  _C.max_pool.max_pool2d_forward
    (csrc/max_pool.pyx)  →  reference.pool.max_pool2d_forward (the oracle)  →  tests/test_pool.py

(avg_pool2d: _C.avg_pool, csrc/avg_pool.pyx; interpolate: _C.upsample, csrc/upsample.pyx.)

The loops are compiled: tinygrad_edu.use_backend("direct") picks the loops that read like the
formulas, "fast" (the default) the parallel ones; the reference holds the same kernels in numpy.
"""

from __future__ import annotations

import math
import numbers
from typing import NamedTuple

import numpy as np

from .._C import avg_pool, max_pool, upsample
from ..backend import get_backend
from ..function import Function
from ._args import ntuple

__all__ = ["MaxPool2dFn", "AvgPool2dFn", "UpsampleNearest2dFn", "UpsampleBilinear2dFn",
           "MaxUnpool2dFn", "pool_window", "pool_output_size", "check_image", "check_divisor",
           "interpolate_sizes", "nearest_sources", "linear_weights", "unpool_output_size"]


def _fast() -> bool:
    return get_backend() == "fast"


class Window(NamedTuple):
    """Where the pooling windows sit: each a pair (rows, columns)."""
    kernel: tuple
    stride: tuple
    padding: tuple
    dilation: tuple
    out_size: tuple


# ---------------------------------------------------------------------------------------------
# arrays in and out of the kernels: (C, H, W) becomes a batch of one, contiguous, float
# ---------------------------------------------------------------------------------------------
def _to_kernel(a: np.ndarray) -> np.ndarray:
    """4-D, C-contiguous float32/float64 (float16 computes in float32)."""
    if a.ndim == 3:
        a = a[None]
    if a.dtype not in (np.float32, np.float64):
        a = a.astype(np.float32)
    return np.ascontiguousarray(a)


def _from_kernel(a: np.ndarray, like_ndim: int, dtype) -> np.ndarray:
    """Undo _to_kernel: drop the batch axis we added and go back to the caller's dtype."""
    if like_ndim == 3:
        a = a[0]
    return a if a.dtype == dtype else a.astype(dtype)


class MaxPool2dFn(Function):
    """out[n,c,i,j] = max over window (i, j) of x[n,c,·,·]   (padding = −inf, first maximum wins)
    ∂L/∂x = each g[n,c,i,j] added at the position of its window's maximum (the saved argmax).

    x (N, C, H, W) or (C, H, W); out, g (…, OH, OW). `indices_out`, a list or None, receives the
    argmax array (ih·W + iw per window, int64, PyTorch's return_indices)."""

    rule = ("∂x[n,c,ih,iw] = Σ of g[n,c,i,j] over the windows (i, j) whose maximum sat at "
            "(ih, iw): each gradient goes back to its window's argmax, 0 elsewhere")

    @staticmethod
    def forward(ctx, x, window, indices_out=None):
        out, idx = max_pool.max_pool2d_forward(
            _to_kernel(x), window.kernel, window.stride, window.padding, window.dilation,
            window.out_size, fast=_fast())
        ctx.save_for_backward(idx)
        ctx.in_ndim, ctx.in_shape, ctx.in_dtype = x.ndim, x.shape, x.dtype
        if indices_out is not None:
            indices_out.append(idx[0] if x.ndim == 3 else idx)
        return _from_kernel(out, x.ndim, x.dtype)

    @staticmethod
    def backward(ctx, g):
        (idx,) = ctx.saved_tensors
        grad = max_pool.max_pool2d_backward(_to_kernel(g), idx, ctx.in_shape[-2:], fast=_fast())
        return _from_kernel(grad, ctx.in_ndim, ctx.in_dtype), None, None


class AvgPool2dFn(Function):
    """out[n,c,i,j] = Σ over window (i, j) of x[n,c,ih,iw] / divisor(i, j)
    ∂L/∂x[n,c,ih,iw] = Σ over the windows holding (ih, iw) of g[n,c,i,j] / divisor(i, j)

    divisor = divisor_override if given, else the window's size clipped to the padded image
    (count_include_pad=True) or its number of real image pixels (False)."""

    rule = ("∂x[n,c,ih,iw] = Σ over the windows (i, j) holding (ih, iw) of g[n,c,i,j] / divisor: "
            "each window shares its gradient equally among its inputs")

    @staticmethod
    def forward(ctx, x, window, count_include_pad=True, divisor_override=None):
        ctx.window, ctx.count_include_pad, ctx.divisor_override = window, count_include_pad, divisor_override
        ctx.in_ndim, ctx.in_shape, ctx.in_dtype = x.ndim, x.shape, x.dtype
        out = avg_pool.avg_pool2d_forward(
            _to_kernel(x), window.kernel, window.stride, window.padding, window.out_size,
            count_include_pad, divisor_override, fast=_fast())
        return _from_kernel(out, x.ndim, x.dtype)

    @staticmethod
    def backward(ctx, g):
        w = ctx.window
        grad = avg_pool.avg_pool2d_backward(
            _to_kernel(g), ctx.in_shape[-2:], w.kernel, w.stride, w.padding,
            ctx.count_include_pad, ctx.divisor_override, fast=_fast())
        return _from_kernel(grad, ctx.in_ndim, ctx.in_dtype), None, None, None


class UpsampleNearest2dFn(Function):
    """out[n,c,i,j] = x[n,c, src_h[i], src_w[j]]   (src_h, src_w: int64 source row/column tables)
    ∂L/∂x[n,c,y,x] = Σ of g[n,c,i,j] over the (i, j) with src_h[i] = y and src_w[j] = x."""

    rule = "∂x[n,c,y,x] = Σ of g over the output pixels copied from (y, x)"

    @staticmethod
    def forward(ctx, x, src_h, src_w):
        ctx.save_for_backward(src_h, src_w)
        ctx.in_ndim, ctx.in_shape, ctx.in_dtype = x.ndim, x.shape, x.dtype
        out = upsample.upsample_nearest2d_forward(_to_kernel(x), src_h, src_w, fast=_fast())
        return _from_kernel(out, x.ndim, x.dtype)

    @staticmethod
    def backward(ctx, g):
        src_h, src_w = ctx.saved_tensors
        grad = upsample.upsample_nearest2d_backward(
            _to_kernel(g), src_h, src_w, ctx.in_shape[-2:], fast=_fast())
        return _from_kernel(grad, ctx.in_ndim, ctx.in_dtype), None, None


class UpsampleBilinear2dFn(Function):
    """out[n,c] = A_h · x[n,c] · A_wᵀ     ∂L/∂x[n,c] = A_hᵀ · g[n,c] · A_w

    Bilinear resizing is linear in x: A_h (OH, H) and A_w (OW, W) hold the interpolation
    weights (linear_weights: at most two non-zeros per row, 1 − λ and λ, summing to 1), so
    out[n,c,i,j] = Σ_(y,x) A_h[i,y]·A_w[j,x]·x[n,c,y,x] mixes the 2×2 pixels around the source
    point. x (…, H, W) → out (…, OH, OW); the matrices are products with BLAS, no compiled loop."""

    rule = ("∂x[n,c] = A_hᵀ · g[n,c] · A_w: each output pixel hands its gradient back to the "
            "(up to) 4 pixels it mixed, times the same weights")

    @staticmethod
    def forward(ctx, x, weights_h, weights_w):
        ctx.save_for_backward(weights_h, weights_w)
        ctx.in_dtype = x.dtype
        out = weights_h @ x.astype(weights_h.dtype, copy=False) @ weights_w.T
        return out.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        weights_h, weights_w = ctx.saved_tensors
        grad = weights_h.T @ g.astype(weights_h.dtype, copy=False) @ weights_w
        return grad.astype(ctx.in_dtype, copy=False), None, None


class MaxUnpool2dFn(Function):
    """out[n,c].flat[idx[n,c,k]] = x[n,c].flat[k], 0 everywhere else (the inverse of max pooling)
    ∂L/∂x[n,c].flat[k] = g[n,c].flat[idx[n,c,k]]   (a gather: each input reads its gradient back)

    x, idx (N, C, h, w) with idx the flat position in each (OH, OW) output plane (max_pool2d's
    return_indices); out, g (N, C, OH, OW). When two inputs share a position the last one is
    kept and, as in PyTorch, both receive that position's gradient."""

    rule = "∂x[n,c,k] = g[n,c] at the flat position idx[n,c,k] where x[n,c,k] was put"

    @staticmethod
    def forward(ctx, x, idx, out_size):
        ctx.save_for_backward(idx)
        N, C, h, w = x.shape
        out = np.zeros((N, C, out_size[0] * out_size[1]), dtype=x.dtype)
        np.put_along_axis(out, idx.reshape(N, C, h * w), x.reshape(N, C, h * w), axis=2)
        return out.reshape(N, C, *out_size)

    @staticmethod
    def backward(ctx, g):
        (idx,) = ctx.saved_tensors
        N, C, h, w = idx.shape
        plane = g.shape[2] * g.shape[3]
        grad = np.take_along_axis(g.reshape(N, C, plane), idx.reshape(N, C, h * w), axis=2)
        return grad.reshape(idx.shape), None, None


# ---------------------------------------------------------------------------------------------
# argument checks: everything is validated here, before a kernel runs
# ---------------------------------------------------------------------------------------------
def check_image(x: np.ndarray, fname: str) -> None:
    """x must be a non-empty float (C, H, W) or (N, C, H, W) array (the batch may be empty)."""
    if x.ndim not in (3, 4):
        raise ValueError(f"{fname}: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, "
                         f"got shape {x.shape}")
    if x.dtype.kind != "f":
        raise TypeError(f"{fname}: input must be a floating point tensor, got dtype {x.dtype} "
                        f"(shape {x.shape})")
    if any(s == 0 for s in x.shape[-3:]):
        raise ValueError(f"{fname}: expected non-empty channel and spatial axes (the batch may "
                         f"be empty), got shape {x.shape}")


def pool_output_size(size: int, kernel: int, stride: int, padding: int, dilation: int = 1,
                     ceil_mode: bool = False) -> int:
    """PyTorch's pooling output length along one axis.

    >>> pool_output_size(32, 2, 2, 0), pool_output_size(5, 2, 2, 0), pool_output_size(5, 2, 2, 0, ceil_mode=True)
    (16, 2, 3)
    """
    span = size + 2 * padding - dilation * (kernel - 1) - 1 + (stride - 1 if ceil_mode else 0)
    out = span // stride + 1  # floor division, also for a negative span
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1  # the last window would start in the right padding: drop it
    return out


def pool_window(x, fname, kernel_size, stride, padding, dilation, ceil_mode) -> Window:
    """Check a pooling's arguments (PyTorch's rules) against x's shape and place its windows."""
    kernel = ntuple(kernel_size, 2, "kernel_size", fname)
    stride = kernel if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0) \
        else ntuple(stride, 2, "stride", fname)
    padding = ntuple(padding, 2, "padding", fname)
    dilation = ntuple(dilation, 2, "dilation", fname)
    for name, pair in (("kernel_size", kernel), ("stride", stride), ("dilation", dilation)):
        if min(pair) <= 0:
            raise ValueError(f"{fname}: {name} must be greater than zero, got {pair}")
    if min(padding) < 0:
        raise ValueError(f"{fname}: padding must be non-negative, got {padding}")
    for k, p, d in zip(kernel, padding, dilation):
        if p > ((k - 1) * d + 1) // 2:
            raise ValueError(f"{fname}: pad should be at most half of effective kernel size, but got "
                             f"pad={p}, kernel_size={k} and dilation={d}")
        if p > k // 2:  # PyTorch checks the kernel itself too, ignoring dilation
            raise ValueError(f"{fname}: pad should be at most half of kernel size, but got "
                             f"pad={p}, kernel_size={k} (dilation={d} does not count here)")
    H, W = x.shape[-2:]
    out_size = tuple(pool_output_size(n, k, s, p, d, ceil_mode)
                     for n, k, s, p, d in zip((H, W), kernel, stride, padding, dilation))
    if min(out_size) < 1:
        C = x.shape[-3]
        raise ValueError(f"{fname}: given input size ({C}x{H}x{W}), calculated output size "
                         f"({C}x{out_size[0]}x{out_size[1]}) is too small (input shape {x.shape}, "
                         f"kernel_size={kernel}, stride={stride}, padding={padding}, dilation={dilation})")
    return Window(kernel, stride, padding, dilation, out_size)


def check_divisor(divisor_override) -> None:
    """avg_pool2d's divisor_override: None or a positive int."""
    if divisor_override is None:
        return
    if not isinstance(divisor_override, numbers.Integral) or isinstance(divisor_override, bool):
        raise TypeError(f"avg_pool2d: divisor_override must be an int, got {divisor_override!r}")
    if divisor_override <= 0:
        raise ValueError(f"avg_pool2d: divisor_override must be positive, got {divisor_override}")


# ---------------------------------------------------------------------------------------------
# nearest resizing: which source pixel each output pixel copies
# ---------------------------------------------------------------------------------------------
def nearest_sources(in_size: int, out_size: int, scale, exact: bool,
                    shortcuts: bool = True) -> np.ndarray:
    """PyTorch's source index of each output position, computed in float32 as PyTorch does:
    src = ⌊dst · s⌋ ("nearest") or ⌊(dst + ½) · s⌋ ("nearest-exact"), clipped to in_size − 1,
    with s = 1/scale_factor when one was given, else in_size/out_size.

    PyTorch's 2-D "nearest" kernel takes two shortcuts whatever the scale factor: an output as
    long as the input copies it, one twice as long repeats each pixel (src = dst // 2). Its 1-D
    kernel does not (shortcuts=False), so there the scale factor always counts."""
    dst = np.arange(out_size, dtype=np.int64)
    if shortcuts and not exact and out_size == in_size:
        return dst
    if shortcuts and not exact and out_size == 2 * in_size:
        return dst // 2
    s = np.float32(1.0 / scale) if scale is not None and scale > 0 else np.float32(in_size) / np.float32(out_size)
    position = dst.astype(np.float32) + np.float32(0.5) if exact else dst.astype(np.float32)
    return np.minimum(np.floor(position * s).astype(np.int64), in_size - 1)


def interpolate_sizes(spatial, size, scale_factor, recompute_scale_factor, fname):
    """(output size, scale per axis or None) following torch.nn.functional.interpolate."""
    dims = len(spatial)
    if size is not None and scale_factor is not None:
        raise ValueError(f"{fname}: only one of size or scale_factor should be defined")
    if size is None and scale_factor is None:
        raise ValueError(f"{fname}: either size or scale_factor should be defined")
    if size is not None:
        sizes = tuple(size) if isinstance(size, (tuple, list)) else (size,) * dims
        if len(sizes) != dims:
            raise ValueError(f"{fname}: input and output must have the same number of spatial "
                             f"dimensions, but got input with spatial dimensions of {list(spatial)} "
                             f"and output size of {size}")
        for s in sizes:
            if not isinstance(s, numbers.Integral) or isinstance(s, bool):
                raise TypeError(f"{fname}: size must be integers, got {size!r}")
        out_size, scales = tuple(int(s) for s in sizes), (None,) * dims
    else:
        factors = tuple(scale_factor) if isinstance(scale_factor, (tuple, list)) else (scale_factor,) * dims
        if len(factors) != dims:
            raise ValueError(f"{fname}: input and scale_factor must have the same number of spatial "
                             f"dimensions, but got input with spatial dimensions of {list(spatial)} "
                             f"and scale_factor of {scale_factor}")
        for f in factors:
            if not isinstance(f, numbers.Real) or isinstance(f, bool) or not math.isfinite(f) or f <= 0:
                raise ValueError(f"{fname}: scale_factor must be positive finite numbers, got {scale_factor!r}")
        out_size = tuple(math.floor(float(n) * float(f)) for n, f in zip(spatial, factors))
        scales = (None,) * dims if recompute_scale_factor else tuple(float(f) for f in factors)
    if min(out_size) <= 0:
        raise ValueError(f"{fname}: input and output sizes should be greater than 0, but got input "
                         f"size {tuple(spatial)} and output size {out_size}")
    return out_size, scales


def linear_weights(in_size: int, out_size: int, scale, align_corners: bool, dtype=np.float32) -> np.ndarray:
    """The (out_size, in_size) matrix of (bi)linear resizing along one axis, PyTorch's rule:

        align_corners=True:  src = dst · (in − 1)/(out − 1)       (the corner pixels' centres match)
        align_corners=False: src = max((dst + ½) · s − ½, 0)      s = 1/scale_factor, or in/out
    then row dst gets 1 − λ at ⌊src⌋ and λ = src − ⌊src⌋ at ⌊src⌋ + 1 (clipped to the last pixel).
    Computed in `dtype` as PyTorch computes it (float32 for float32 images).

    >>> linear_weights(2, 4, None, align_corners=False)
    array([[1.  , 0.  ],
           [0.75, 0.25],
           [0.25, 0.75],
           [0.  , 1.  ]], dtype=float32)
    """
    dtype = np.dtype(dtype)
    if in_size == out_size:  # PyTorch's shortcut, whatever the scale factor says
        return np.eye(in_size, dtype=dtype)
    dst = np.arange(out_size).astype(dtype)
    if align_corners:
        ratio = dtype.type(in_size - 1) / dtype.type(out_size - 1) if out_size > 1 else dtype.type(0)
        src = dst * ratio
    else:
        ratio = dtype.type(1.0 / scale) if scale is not None and scale > 0 \
            else dtype.type(in_size) / dtype.type(out_size)
        src = np.maximum((dst + dtype.type(0.5)) * ratio - dtype.type(0.5), dtype.type(0))
    lo = np.minimum(np.floor(src).astype(np.int64), in_size - 1)
    lam = np.clip(src - lo.astype(dtype), 0, 1).astype(dtype)
    hi = lo + (lo < in_size - 1)
    weights = np.zeros((out_size, in_size), dtype=dtype)
    rows = np.arange(out_size)
    np.add.at(weights, (rows, lo), dtype.type(1) - lam)
    np.add.at(weights, (rows, hi), lam)
    return weights


def unpool_output_size(x_shape, idx_shape, kernel_size, stride, padding, output_size):
    """max_unpool2d's (OH, OW), checked as PyTorch: by default (h − 1)·s − 2p + k per axis; an
    explicit output_size ((OH, OW) or (N, C, OH, OW)) must lie strictly within ± stride of it."""
    fname = "max_unpool2d"
    if tuple(idx_shape) != tuple(x_shape):
        raise ValueError(f"{fname}: indices of shape {tuple(idx_shape)} must have the input's "
                         f"shape {tuple(x_shape)}")
    kernel = ntuple(kernel_size, 2, "kernel_size", fname)
    stride = kernel if stride is None else ntuple(stride, 2, "stride", fname)
    padding = ntuple(padding, 2, "padding", fname)
    if min(kernel) <= 0 or min(stride) <= 0 or min(padding) < 0:
        raise ValueError(f"{fname}: kernel_size {kernel} and stride {stride} must be positive, "
                         f"padding {padding} non-negative")
    default = tuple((n - 1) * s + k - 2 * p for n, k, s, p in zip(x_shape[-2:], kernel, stride, padding))
    if output_size is None:
        size = default
    else:
        size = tuple(int(v) for v in output_size)
        if len(size) == 4:
            size = size[2:]
        if len(size) != 2:
            raise ValueError(f"{fname}: output_size should be a sequence containing 2 or 4 "
                             f"elements, but it has a length of {len(size)}")
        for d in range(2):
            low, high = default[d] - stride[d], default[d] + stride[d]
            if not low < size[d] < high:
                raise ValueError(f'{fname}: invalid output_size "{tuple(output_size)}" (dim {d} '
                                 f"must be between {low} and {high}, for input {tuple(x_shape)})")
    if min(size) <= 0:
        raise ValueError(f"{fname}: output size {size} must be positive (input {tuple(x_shape)}, "
                         f"kernel_size={kernel}, stride={stride}, padding={padding})")
    return size
