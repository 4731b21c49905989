"""Reductions. `dims` is a tuple of non-negative axes (already normalised by the Tensor method;
VarFn and StdFn also take None and (): every axis, with PyTorch's dim=None and dim=() rules in
their backward).

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


def _wide_sum(x, axes):
    """Σ over axes (kept as size 1) in a wider float than x's: float64, or long double for
    float64 x (so it is nearly exact; torch's own sums are accurate, but add in their own order)."""
    return np.sum(x, axis=axes, keepdims=True, dtype=np.float64 if x.dtype.itemsize < 8
                  else np.longdouble)


def _mean_in_dtype(x, axes, n):
    """x.mean(axes) as torch gives it in x's dtype: the sum rounded to x's dtype (∞ if it
    overflows, as torch's float32 sum), divided by N in x's dtype. A slice of equal values
    gets exactly that value back wherever the rounded sum is exact (so x − x̄ = 0 there)."""
    with np.errstate(over="ignore"):
        return _wide_sum(x, axes).astype(x.dtype) / x.dtype.type(n)


def _variance(ctx, x, dims, keepdim, correction):
    """var = Σ_dims (x − x̄)² / max(0, N − correction), computed as PyTorch's CPU kernels do:
    in float64, the caller rounding the result to x's dtype (so float32 values up to 3.4e38 do
    not overflow when squared, and 1e-30-sized ones do not underflow). x̄: where var has one
    element, torch's "all-reduce" takes x̄ = x.mean() in x's own dtype (float32 for float32 x),
    elsewhere its Welford kernel keeps x̄ in float64 too. N ≤ correction divides by 0 (∞ or NaN,
    as torch); an empty x gives NaN. Returns float64.

    dims: a tuple of axes; or None (torch's dim=None) or () (torch's dim=()): every axis, but
    each with its own rule in backward (see `_variance_backward`). ctx keeps what backward
    needs: the axes, keepdim, whether torch's dim=None rule applies, and the N − correction
    that backward divides by."""
    axes = tuple(range(x.ndim)) if not dims else dims
    n = _count(x.shape, axes)
    ctx.dims, ctx.keepdim = axes, keepdim
    ctx.none_rule = dims is None or x.ndim == 0
    ctx.dof = (1 if dims == () else n) - correction  # dim=(): torch's backward counts 1
    with np.errstate(all="ignore"):  # overflow, and the 0/0 of N ≤ correction: ∞ or NaN
        if x.size == 0:
            return np.full(np.sum(x, axis=axes, keepdims=keepdim).shape, np.nan)
        if x.size == n:  # one result: torch's all-reduce, x̄ = x.mean() in x's dtype
            mean = _mean_in_dtype(x, axes, n).astype(np.float64)
        else:  # torch's Welford kernel: x̄ in float64
            mean = (_wide_sum(x, axes) / n).astype(np.float64)
        centered = x.astype(np.float64, copy=False) - mean
        return np.sum(centered * centered, axis=axes, keepdims=keepdim) / max(n - correction, 0)


def _rounded(wide, dtype):
    """A float64 result in x's dtype, as an array (beyond float32's range it becomes ±∞)."""
    with np.errstate(over="ignore"):
        return np.asarray(wide, dtype=dtype)


def _variance_backward(ctx, x, g_var):
    """∂L/∂x from ∂L/∂var (in the shape of var), exactly as PyTorch's var_backward, in x's dtype:
    ∂L/∂x = (2/(N − correction) · g) · (x − x̄), with x̄ = x.mean(dims) recomputed from x in
    x's dtype (`_mean_in_dtype`).

    Where N ≤ correction torch has two rules. With dim=None (dims None here), or a 0-d x:
    ∂L/∂x = g·NaN where x = x̄ and g·∞ elsewhere. With dims named: the same formula, 2/0 = ∞
    for N = correction (∞·g·(x − x̄): NaN where x = x̄) and a negative 2/(N − correction) for
    N < correction (so one element with correction 2 gets g·(−2)·0 = 0). With dim=() torch
    reduces every axis but its backward takes N = 1 (2/(1 − correction)); so does this."""
    g = _restore(g_var, ctx.dims, ctx.keepdim)
    dof = ctx.dof
    with np.errstate(all="ignore"):
        mean = _mean_in_dtype(x, ctx.dims, _count(x.shape, ctx.dims)) if x.size else 0
        if dof <= 0 and ctx.none_rule:
            return g * np.where(x == mean, np.nan, np.inf).astype(g.dtype)
        factor = 2.0 / dof if dof != 0 else np.inf
        return factor * g * (x - mean)


class VarFn(Function):
    """out = Σ_dims (x − x̄)² / (N − correction).   ∂L/∂x = (2/(N − correction)) · g · (x − x̄).

    correction=1 is the unbiased estimate (PyTorch's default), correction=0 the population one.
    As PyTorch: the forward sums in float64 (`_variance`) and divides by max(0, N − correction);
    the input x is saved (not x − x̄) and x̄ recomputed in backward; N ≤ correction follows
    torch's rules (`_variance_backward`). dims=None and dims=() mean every axis, with torch's
    dim=None and dim=() rules.

    Shapes: x: (…);  out, g: x's shape without the reduced axes;  ∂L/∂x: x's shape.
    """

    rule = "∂var/∂x_i = 2(x_i − x̄)/(N − correction): elements far from the mean get more"

    @staticmethod
    def forward(ctx, x, dims, keepdim, correction):
        ctx.save_for_backward(x)
        return _rounded(_variance(ctx, x, dims, keepdim, correction), x.dtype)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return _variance_backward(ctx, x, g), None, None, None


class StdFn(Function):
    """out = √var = √(Σ_dims (x − x̄)² / (N − correction)).
    ∂L/∂x = g · (x − x̄) / ((N − correction) · out),  and 0 where out = 0.

    That is the chain rule through var:  ∂L/∂var = g / (out·2),  then VarFn's
    ∂L/∂x = (2/(N − correction) · ∂L/∂var) · (x − x̄). Where out = 0 (all the values are equal:
    zero variance) ∂L/∂var is taken as exactly 0, as PyTorch does, so ∂L/∂x = 0 there;
    x.var().sqrt() would give √'s ∞ times var's 0 = NaN instead. The forward takes √ in
    float64 before rounding (as torch), and x and out are saved (as torch).

    Shapes: x: (…);  out, g: x's shape without the reduced axes;  ∂L/∂x: x's shape.
    """

    rule = ("∂std/∂x_i = (x_i − x̄)/((N − correction)·std): elements far from the mean get "
            "more; 0 where std = 0 (all values equal)")

    @staticmethod
    def forward(ctx, x, dims, keepdim, correction):
        out = _rounded(np.sqrt(_variance(ctx, x, dims, keepdim, correction)), x.dtype)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        with np.errstate(divide="ignore", invalid="ignore"):
            g_var = zero_where(out == 0, g / (out * 2))
        return _variance_backward(ctx, x, g_var), None, None, None


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
