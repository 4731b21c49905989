"""Reductions. `dims` is a tuple of non-negative axes (already normalised by the Tensor method).

Shapes: x is (…), out drops the reduced axes (or keeps them as size 1 with keepdim). Every
backward first puts the reduced axes back as size 1 (`_restore`) so g broadcasts against x.
"""

from __future__ import annotations

import numpy as np

from ..function import Function
from .elementwise import zero_where


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


def _centered_and_variance(ctx, x, dims, keepdim, correction):
    """x − x̄ and var = Σ_dims (x − x̄)² / (N − correction); ctx keeps dims, keepdim and the
    divisor N − correction (0 when N ≤ correction, as PyTorch: var is then ∞ or NaN)."""
    centered = x - x.mean(axis=dims, keepdims=True)
    ctx.dims, ctx.keepdim = dims, keepdim
    ctx.denom = max(_count(x.shape, dims) - correction, 0)
    with np.errstate(divide="ignore", invalid="ignore"):  # N ≤ correction gives nan/inf
        return centered, np.sum(centered * centered, axis=dims, keepdims=keepdim) / ctx.denom


def _variance_backward(ctx, centered, g_var):
    """∂L/∂x = ∂L/∂var · 2(x − x̄)/(N − correction), ∂L/∂var given in the shape of var."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return _restore(g_var, ctx.dims, ctx.keepdim) * 2 * centered / ctx.denom


class VarFn(Function):
    """out = Σ_dims (x − x̄)² / (N − correction).   ∂L/∂x = g · 2(x − x̄) / (N − correction).

    correction=1 is the unbiased estimate (PyTorch's default), correction=0 the population one.

    Shapes: x: (…);  out, g: x's shape without the reduced axes;  ∂L/∂x: x's shape.
    """

    rule = "∂var/∂x_i = 2(x_i − x̄)/(N − correction): elements far from the mean get more"

    @staticmethod
    def forward(ctx, x, dims, keepdim, correction):
        centered, var = _centered_and_variance(ctx, x, dims, keepdim, correction)
        ctx.save_for_backward(centered)
        return var

    @staticmethod
    def backward(ctx, g):
        (centered,) = ctx.saved_tensors
        return _variance_backward(ctx, centered, g), None, None, None


class StdFn(Function):
    """out = √var = √(Σ_dims (x − x̄)² / (N − correction)).
    ∂L/∂x = g · (x − x̄) / ((N − correction) · out),  and 0 where out = 0.

    That is the chain rule through var:  ∂L/∂var = g / (2·out),  then VarFn's
    ∂L/∂x = ∂L/∂var · 2(x − x̄)/(N − correction). Where out = 0 (all the values are equal: zero
    variance) ∂L/∂var is taken as exactly 0, as PyTorch does, so ∂L/∂x = 0 there; x.var().sqrt()
    would give √'s ∞ times var's 0 = NaN instead.

    Shapes: x: (…);  out, g: x's shape without the reduced axes;  ∂L/∂x: x's shape.
    """

    rule = ("∂std/∂x_i = (x_i − x̄)/((N − correction)·std): elements far from the mean get "
            "more; 0 where std = 0 (all values equal)")

    @staticmethod
    def forward(ctx, x, dims, keepdim, correction):
        centered, var = _centered_and_variance(ctx, x, dims, keepdim, correction)
        out = np.sqrt(var)
        ctx.save_for_backward(centered, out)
        return out

    @staticmethod
    def backward(ctx, g):
        centered, out = ctx.saved_tensors
        with np.errstate(divide="ignore", invalid="ignore"):
            g_var = zero_where(out == 0, g / (2 * out))
        return _variance_backward(ctx, centered, g_var), None, None, None


def _winners_share(ctx, g):
    """∂L/∂x of amax/amin: g split evenly among the winners, the elements equal to the result.

    As torch.amax/amin: g / #winners · [x = out]. A result of NaN equals no element, so a slice
    holding a NaN gets 0/0 = NaN everywhere; and g = ∞ gives NaN (∞ · 0) to the losers.
    With nan_wins (torch.max(x) / torch.min(x), the whole tensor, no dim): the NaN elements are
    the winners of a NaN result, and the losers get exactly 0, whatever g is.
    """
    x, out = ctx.saved_tensors
    wins = x == out
    if ctx.nan_wins:
        wins |= np.isnan(x) & np.isnan(out)
    with np.errstate(divide="ignore", invalid="ignore"):  # the 0/0 of a NaN slice, above
        share = _restore(g, ctx.dims, ctx.keepdim) / wins.sum(axis=ctx.dims, keepdims=True)
        return zero_where(~wins, share) if ctx.nan_wins else share * wins


class AMaxFn(Function):
    """out = max over dims.   ∂L/∂x = g shared evenly among the elements equal to the max:
    ∂L/∂x_i = g · [x_i = out] / #{j: x_j = out}.

    NaN, as PyTorch: np.max returns NaN for a slice that holds one. amax (the default) then
    gives that whole slice a NaN gradient, as torch.amax; nan_wins=True (x.max() of the whole
    tensor, as torch.max()) shares g among the NaN elements instead, and 0 to the others.

    Shapes: x: (…);  out, g: x's shape without the reduced axes;  ∂L/∂x: x's shape.
    """

    rule = ("∂max/∂x_i = 1 for the largest element (shared on ties), 0 elsewhere: "
            "g goes to the winner")

    @staticmethod
    def forward(ctx, x, dims, keepdim, *, nan_wins=False):
        out = np.asarray(np.max(x, axis=dims, keepdims=True))  # an array even for 0-d x
        ctx.save_for_backward(x, out)
        ctx.dims, ctx.keepdim, ctx.nan_wins = dims, keepdim, nan_wins
        return out if keepdim else np.squeeze(out, axis=dims)

    @staticmethod
    def backward(ctx, g):
        return _winners_share(ctx, g), None, None


class AMinFn(Function):
    """out = min over dims.   ∂L/∂x = g shared evenly among the elements equal to the min:
    ∂L/∂x_i = g · [x_i = out] / #{j: x_j = out}.

    NaN: as AMaxFn (amax ↔ amin, torch.max() ↔ torch.min()).

    Shapes: x: (…);  out, g: x's shape without the reduced axes;  ∂L/∂x: x's shape.
    """

    rule = ("∂min/∂x_i = 1 for the smallest element (shared on ties), 0 elsewhere: "
            "g goes to the winner")

    @staticmethod
    def forward(ctx, x, dims, keepdim, *, nan_wins=False):
        out = np.asarray(np.min(x, axis=dims, keepdims=True))
        ctx.save_for_backward(x, out)
        ctx.dims, ctx.keepdim, ctx.nan_wins = dims, keepdim, nan_wins
        return out if keepdim else np.squeeze(out, axis=dims)

    @staticmethod
    def backward(ctx, g):
        return _winners_share(ctx, g), None, None


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
