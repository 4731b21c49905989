"""Reductions. `dims` is a tuple of non-negative axes (already normalised by the Tensor method).

Shapes: x is (…), out drops the reduced axes (or keeps them as size 1 with keepdim). Every
backward first puts the reduced axes back as size 1 (`_restore`) so g broadcasts against x.
"""

from __future__ import annotations

import numpy as np

from ..function import Function


def _restore(g, dims, keepdim):
    """Give g back the reduced axes as size-1 axes, so that it broadcasts against the input."""
    return g if keepdim else np.expand_dims(g, dims)


def _count(shape, dims):
    return int(np.prod([shape[d] for d in dims])) if dims else 1


class SumFn(Function):
    """out = Σ_dims x.   ∂L/∂x = g broadcast back over the summed axes (each x_i counted once).

    Shapes: x: (…);  out, g: x's shape without the summed axes (size 1 with keepdim);
    ∂L/∂x: x's shape.
    """

    rule = "∂(Σ x)/∂x_i = 1: every summed element receives g"

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.shape, ctx.dims, ctx.keepdim = x.shape, dims, keepdim
        return np.sum(x, axis=dims, keepdims=keepdim)

    @staticmethod
    def backward(ctx, g):
        return np.broadcast_to(_restore(g, ctx.dims, ctx.keepdim), ctx.shape), None, None


class MeanFn(Function):
    """out = (1/N) Σ_dims x, N = number of summed elements.   ∂L/∂x = g / N, broadcast back.

    Shapes: x: (…);  out, g: x's shape without the averaged axes (size 1 with keepdim);
    ∂L/∂x: x's shape.
    """

    rule = "∂(mean x)/∂x_i = 1/N: every element receives an equal share g/N"

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.shape, ctx.dims, ctx.keepdim = x.shape, dims, keepdim
        return np.mean(x, axis=dims, keepdims=keepdim)

    @staticmethod
    def backward(ctx, g):
        n = _count(ctx.shape, ctx.dims)
        return np.broadcast_to(_restore(g, ctx.dims, ctx.keepdim) / n, ctx.shape), None, None


class VarFn(Function):
    """out = Σ_dims (x − x̄)² / (N − correction).   ∂L/∂x = g · 2(x − x̄) / (N − correction).

    correction=1 is the unbiased estimate (PyTorch's default), correction=0 the population one.

    Shapes: x: (…);  out, g: x's shape without the reduced axes;  ∂L/∂x: x's shape.
    """

    rule = "∂var/∂x_i = 2(x_i − x̄)/(N − correction): elements far from the mean get more"

    @staticmethod
    def forward(ctx, x, dims, keepdim, correction):
        centered = x - x.mean(axis=dims, keepdims=True)
        denom = max(_count(x.shape, dims) - correction, 0)
        ctx.save_for_backward(centered)
        ctx.dims, ctx.keepdim, ctx.denom = dims, keepdim, denom
        with np.errstate(divide="ignore", invalid="ignore"):  # N ≤ correction gives nan/inf
            return np.sum(centered * centered, axis=dims, keepdims=keepdim) / denom

    @staticmethod
    def backward(ctx, g):
        (centered,) = ctx.saved_tensors
        with np.errstate(divide="ignore", invalid="ignore"):
            return _restore(g, ctx.dims, ctx.keepdim) * 2 * centered / ctx.denom, None, None, None


class AMaxFn(Function):
    """out = max over dims.   ∂L/∂x = g shared evenly among the elements equal to the max.

    Shapes: x: (…);  out, g: x's shape without the reduced axes;  ∂L/∂x: x's shape.
    """

    rule = ("∂max/∂x_i = 1 for the largest element (shared on ties), 0 elsewhere: "
            "g goes to the winner")

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        out = np.max(x, axis=dims, keepdims=True)
        ctx.save_for_backward(x, out)
        ctx.dims, ctx.keepdim = dims, keepdim
        return out if keepdim else np.squeeze(out, axis=dims)

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        is_max = x == out
        share = is_max / is_max.sum(axis=ctx.dims, keepdims=True)
        return _restore(g, ctx.dims, ctx.keepdim) * share, None, None


class AMinFn(Function):
    """out = min over dims.   ∂L/∂x = g shared evenly among the elements equal to the min.

    Shapes: x: (…);  out, g: x's shape without the reduced axes;  ∂L/∂x: x's shape.
    """

    rule = ("∂min/∂x_i = 1 for the smallest element (shared on ties), 0 elsewhere: "
            "g goes to the winner")

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        out = np.min(x, axis=dims, keepdims=True)
        ctx.save_for_backward(x, out)
        ctx.dims, ctx.keepdim = dims, keepdim
        return out if keepdim else np.squeeze(out, axis=dims)

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        is_min = x == out
        share = is_min / is_min.sum(axis=ctx.dims, keepdims=True)
        return _restore(g, ctx.dims, ctx.keepdim) * share, None, None


class TakeAlongDimFn(Function):
    """out = x[…, index, …] along one axis (index has size 1 on that axis).

    Used by `max(dim)` / `min(dim)`: the value at the arg-max. ∂L/∂x = g placed back at `index`,
    zero elsewhere — only the element that was picked receives gradient.

    Shapes: x: (…, n, …);  index: size 1 along dim;  out, g: x's shape without dim (size 1 with
    keepdim);  ∂L/∂x: x's shape.
    """

    rule = "∂out/∂x = 1 at the picked index, 0 elsewhere: g goes back where it was taken"

    @staticmethod
    def forward(ctx, x, index, dim, keepdim):
        ctx.save_for_backward(index)
        ctx.shape, ctx.dim, ctx.keepdim = x.shape, dim, keepdim
        out = np.take_along_axis(x, index, axis=dim)
        return out if keepdim else np.squeeze(out, axis=dim)

    @staticmethod
    def backward(ctx, g):
        (index,) = ctx.saved_tensors
        grad = np.zeros(ctx.shape, dtype=g.dtype)
        np.put_along_axis(grad, index, _restore(g, (ctx.dim,), ctx.keepdim), axis=ctx.dim)
        return grad, None, None, None
