"""Pooling and nearest upsampling: max_pool2d, avg_pool2d, interpolate (mode="nearest").

Shapes: x (N, C, H, W) or (C, H, W) → out (N, C, OH, OW); g = ∂L/∂out has out's shape and
∂L/∂x has x's. Window (i, j) covers the rows ih = i·sh − ph + m·dh (0 ≤ m < kh) and the columns
iw = j·sw − pw + k·dw (0 ≤ k < kw) of x; positions outside x are padding.

    max pool:  out[n,c,i,j] = max_(m,k) x[n,c,ih,iw]          padding counts as −inf
               ∂L/∂x[n,c,ih,iw] = Σ of g[n,c,i,j] over the windows whose maximum sits at (ih, iw)
    avg pool:  out[n,c,i,j] = Σ_(m,k) x[n,c,ih,iw] / divisor   padding adds 0
               ∂L/∂x[n,c,ih,iw] = Σ over the windows (i, j) holding (ih, iw) of g[n,c,i,j] / divisor
    nearest:   out[n,c,i,j] = x[n,c, ⌊i·H/OH⌋, ⌊j·W/OW⌋]
               ∂L/∂x[n,c,y,x] = Σ of g over the output pixels copied from (y, x)

Output size (PyTorch's rule): OH = ⌊(H + 2·ph − dh·(kh − 1) − 1) / sh⌋ + 1, rounded up instead
with ceil_mode=True (but a window must start inside the image or its left padding).

A 4×4 image, 2×2 windows, stride 2. Max pooling keeps the largest value of each window and
sends the gradient back to where it was (the FIRST maximum when two tie, as in the bottom right):

>>> import tinygrad_edu as tg
>>> x = tg.Tensor([[[[1., 3., 2., 0.],
...                  [4., 2., 1., 5.],
...                  [0., 6., 3., 3.],
...                  [2., 1., 1., 2.]]]], requires_grad=True)
>>> y = max_pool2d(x, 2)
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
>>> y = avg_pool2d(x, 2)
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
>>> u = interpolate(z, scale_factor=2)
>>> u.data[0, 0]
array([[1., 1., 2., 2.],
       [1., 1., 2., 2.],
       [3., 3., 4., 4.],
       [3., 3., 4., 4.]], dtype=float32)
>>> u.sum().backward()
>>> z.grad[0, 0]
array([[4., 4.],
       [4., 4.]], dtype=float32)

The loops are compiled (csrc/pool.pyx): tinygrad_edu.use_backend("direct") picks the loops that
read like the formulas, "fast" (the default) the parallel ones; tinygrad_edu/reference/pool.py
holds the same kernels in numpy.
"""

from __future__ import annotations

import math
import numbers
from typing import NamedTuple

import numpy as np

from ..backend import get_backend
from ..function import Function

__all__ = ["MaxPool2d", "AvgPool2d", "UpsampleNearest2d", "max_pool2d", "avg_pool2d",
           "interpolate", "upsample_nearest2d", "pool_output_size"]


def _kernels():
    """The compiled module (imported on first use, with a hint when it was never built)."""
    try:
        from .._C import pool
    except ImportError as error:  # pragma: no cover - only without a build
        raise ImportError("tinygrad_edu._C.pool is not built: run "
                          "`python setup.py build_ext --inplace` in the project root") from error
    return pool


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


class MaxPool2d(Function):
    """out[n,c,i,j] = max over window (i, j) of x[n,c,·,·]   (padding = −inf, first maximum wins)
    ∂L/∂x = each g[n,c,i,j] added at the position of its window's maximum (the saved argmax).

    x (N, C, H, W) or (C, H, W); out, g (…, OH, OW). `indices_out`, a list or None, receives the
    argmax array (ih·W + iw per window, int64, PyTorch's return_indices)."""

    @staticmethod
    def forward(ctx, x, window, indices_out=None):
        out, idx = _kernels().max_pool2d_forward(
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
        grad = _kernels().max_pool2d_backward(_to_kernel(g), idx, ctx.in_shape[-2:], fast=_fast())
        return _from_kernel(grad, ctx.in_ndim, ctx.in_dtype), None, None


class AvgPool2d(Function):
    """out[n,c,i,j] = Σ over window (i, j) of x[n,c,ih,iw] / divisor(i, j)
    ∂L/∂x[n,c,ih,iw] = Σ over the windows holding (ih, iw) of g[n,c,i,j] / divisor(i, j)

    divisor = divisor_override if given, else the window's size clipped to the padded image
    (count_include_pad=True) or its number of real image pixels (False)."""

    @staticmethod
    def forward(ctx, x, window, count_include_pad=True, divisor_override=None):
        ctx.window, ctx.count_include_pad, ctx.divisor_override = window, count_include_pad, divisor_override
        ctx.in_ndim, ctx.in_shape, ctx.in_dtype = x.ndim, x.shape, x.dtype
        out = _kernels().avg_pool2d_forward(
            _to_kernel(x), window.kernel, window.stride, window.padding, window.out_size,
            count_include_pad, divisor_override, fast=_fast())
        return _from_kernel(out, x.ndim, x.dtype)

    @staticmethod
    def backward(ctx, g):
        w = ctx.window
        grad = _kernels().avg_pool2d_backward(
            _to_kernel(g), ctx.in_shape[-2:], w.kernel, w.stride, w.padding,
            ctx.count_include_pad, ctx.divisor_override, fast=_fast())
        return _from_kernel(grad, ctx.in_ndim, ctx.in_dtype), None, None, None


class UpsampleNearest2d(Function):
    """out[n,c,i,j] = x[n,c, src_h[i], src_w[j]]   (src_h, src_w: int64 source row/column tables)
    ∂L/∂x[n,c,y,x] = Σ of g[n,c,i,j] over the (i, j) with src_h[i] = y and src_w[j] = x."""

    @staticmethod
    def forward(ctx, x, src_h, src_w):
        ctx.src_h, ctx.src_w = src_h, src_w
        ctx.in_ndim, ctx.in_shape, ctx.in_dtype = x.ndim, x.shape, x.dtype
        out = _kernels().upsample_nearest2d_forward(_to_kernel(x), src_h, src_w, fast=_fast())
        return _from_kernel(out, x.ndim, x.dtype)

    @staticmethod
    def backward(ctx, g):
        grad = _kernels().upsample_nearest2d_backward(
            _to_kernel(g), ctx.src_h, ctx.src_w, ctx.in_shape[-2:], fast=_fast())
        return _from_kernel(grad, ctx.in_ndim, ctx.in_dtype), None, None


# ---------------------------------------------------------------------------------------------
# argument checks: everything is validated here, before a kernel runs
# ---------------------------------------------------------------------------------------------
def _pair(value, name: str, fname: str) -> tuple:
    """An int or a 1-/2-sequence of ints → (rows, columns), as PyTorch's _pair."""
    values = tuple(value) if isinstance(value, (tuple, list)) else (value,)
    if len(values) == 1:
        values = values * 2
    if len(values) != 2:
        raise ValueError(f"{fname}: {name} must be an int or a pair of ints, got {value!r}")
    for v in values:
        if not isinstance(v, numbers.Integral) or isinstance(v, bool):
            raise TypeError(f"{fname}: {name} must be integers, got {value!r}")
    return tuple(int(v) for v in values)


def _data_of(input, fname: str) -> np.ndarray:
    from ..tensor import Tensor  # the Tensor class; ops modules are imported by tensor.py
    if not isinstance(input, Tensor):
        raise TypeError(f"{fname}: input must be a Tensor, got {type(input).__name__}")
    return input.data


def _check_image(x: np.ndarray, fname: str) -> None:
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


def _window(x, fname, kernel_size, stride, padding, dilation, ceil_mode) -> Window:
    kernel = _pair(kernel_size, "kernel_size", fname)
    stride = kernel if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0) \
        else _pair(stride, "stride", fname)
    padding = _pair(padding, "padding", fname)
    dilation = _pair(dilation, "dilation", fname)
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


# ---------------------------------------------------------------------------------------------
# the public functions (PyTorch's signatures and defaults)
# ---------------------------------------------------------------------------------------------
def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """2-D max pooling over (C, H, W) or (N, C, H, W), as torch.nn.functional.max_pool2d.

    stride defaults to kernel_size. With return_indices=True also returns the argmax of each
    window as a flat index ih·W + iw into its (H, W) plane (an int64 Tensor without gradient)."""
    from ..tensor import Tensor
    x = _data_of(input, "max_pool2d")
    _check_image(x, "max_pool2d")
    window = _window(x, "max_pool2d", kernel_size, stride, padding, dilation, ceil_mode)
    if not return_indices:
        return MaxPool2d.apply(input, window, None)
    indices: list = []
    out = MaxPool2d.apply(input, window, indices)
    return out, Tensor(indices[0])


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """2-D average pooling over (C, H, W) or (N, C, H, W), as torch.nn.functional.avg_pool2d."""
    x = _data_of(input, "avg_pool2d")
    _check_image(x, "avg_pool2d")
    window = _window(x, "avg_pool2d", kernel_size, stride, padding, 1, ceil_mode)
    if divisor_override is not None:
        if not isinstance(divisor_override, numbers.Integral) or isinstance(divisor_override, bool):
            raise TypeError(f"avg_pool2d: divisor_override must be an int, got {divisor_override!r}")
        if divisor_override <= 0:
            raise ValueError(f"avg_pool2d: divisor_override must be positive, got {divisor_override}")
    return AvgPool2d.apply(input, window, bool(count_include_pad), divisor_override)


def _nearest_sources(in_size: int, out_size: int, scale, exact: bool) -> np.ndarray:
    """PyTorch's source index of each output position, computed in float32 as PyTorch does:
    src = ⌊dst · s⌋ ("nearest") or ⌊(dst + ½) · s⌋ ("nearest-exact"), clipped to in_size − 1,
    with s = 1/scale_factor when one was given, else in_size/out_size."""
    dst = np.arange(out_size, dtype=np.int64)
    if not exact and out_size == in_size:
        return dst
    if not exact and out_size == 2 * in_size:
        return dst // 2
    s = np.float32(1.0 / scale) if scale is not None and scale > 0 else np.float32(in_size) / np.float32(out_size)
    position = dst.astype(np.float32) + np.float32(0.5) if exact else dst.astype(np.float32)
    return np.minimum(np.floor(position * s).astype(np.int64), in_size - 1)


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Nearest-neighbour resizing of (N, C, L) or (N, C, H, W), as torch.nn.functional.interpolate.

    Give either `size` (the output's spatial size) or `scale_factor` (OH = ⌊H·scale⌋); an int or
    a per-axis tuple. mode "nearest" (PyTorch's rule src = ⌊dst·in/out⌋) or "nearest-exact";
    other modes raise NotImplementedError."""
    fname = "interpolate"
    x = _data_of(input, fname)
    if mode not in ("nearest", "nearest-exact"):
        raise NotImplementedError(f"{fname}: mode={mode!r} is not implemented; only 'nearest' "
                                  "and 'nearest-exact'")
    if align_corners is not None:
        raise ValueError("align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | bicubic | trilinear")
    if antialias:
        raise ValueError("Anti-alias option is restricted to bilinear and bicubic modes")
    if x.ndim == 5:
        raise NotImplementedError(f"{fname}: 5-D (volume) input of shape {x.shape} is not implemented")
    if x.ndim not in (3, 4):
        raise ValueError(f"{fname}: expected a 3-D (N, C, L) or 4-D (N, C, H, W) input, got shape "
                         f"{x.shape}")
    if x.dtype.kind != "f":
        raise TypeError(f"{fname}: input must be a floating point tensor, got dtype {x.dtype} "
                        f"(shape {x.shape})")
    spatial = x.shape[2:]
    if any(s == 0 for s in x.shape[1:]):
        raise ValueError(f"{fname}: expected non-empty channel and spatial axes, got shape {x.shape}")
    out_size, scales = _interpolate_sizes(spatial, size, scale_factor, recompute_scale_factor, fname)
    exact = mode == "nearest-exact"
    sources = [_nearest_sources(n, o, s, exact) for n, o, s in zip(spatial, out_size, scales)]
    if x.ndim == 3:  # 1-D: resize an image of height 1
        out = UpsampleNearest2d.apply(input.unsqueeze(2), np.zeros(1, dtype=np.int64), sources[0])
        return out.squeeze(2)
    return UpsampleNearest2d.apply(input, sources[0], sources[1])


def _interpolate_sizes(spatial, size, scale_factor, recompute_scale_factor, fname):
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


def upsample_nearest2d(input, size=None, scale_factor=None):
    """interpolate(input, size, scale_factor, mode="nearest") for a 4-D input."""
    return interpolate(input, size=size, scale_factor=scale_factor, mode="nearest")
