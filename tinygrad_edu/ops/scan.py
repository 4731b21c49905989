"""Running sums and smooth maxima along an axis: cumsum, logsumexp.

(sort and topk need no Function of their own: their values are `x.gather(dim, indices)`, so
the gradient flows back through index.GatherFn to the positions the values came from.)
"""

from __future__ import annotations

import numpy as np

from ..function import Function


class CumsumFn(Function):
    """out_i = Σ_{j ≤ i} x_j along `dim`.

    Each x_j appears in every out_i with i ≥ j, so ∂L/∂x_j = Σ_{i ≥ j} g_i: the cumulative sum
    of g taken from the end (reverse, cumsum, reverse).

    Shapes: x, out, g, ∂L/∂x: one shape;  dim: an axis.
    """

    rule = "∂out_i/∂x_j = 1 for i ≥ j: x_j receives the sum of g from position j to the end"

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        return np.cumsum(x, axis=dim, dtype=x.dtype)

    @staticmethod
    def backward(ctx, g):
        reversed_g = np.flip(g, axis=ctx.dim)
        return np.flip(np.cumsum(reversed_g, axis=ctx.dim), axis=ctx.dim), None


class LogsumexpFn(Function):
    """out = log Σ_i e^{x_i} over `dims`, computed as m + log Σ e^{x_i − m} with m = max x
    (nothing overflows).

    ∂out/∂x_i = e^{x_i} / Σ_j e^{x_j} = e^{x_i − out}: the softmax. So ∂L/∂x = g · softmax(x).

    Shapes: x: (…);  out, g: x's shape without `dims` (size 1 there with keepdim);  ∂L/∂x: x's.
    """

    rule = "∂logsumexp(x)/∂x_i = softmax(x)_i = e^(x_i − out): g shared out by the softmax"

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.dims, ctx.keepdim = dims, keepdim
        if x.size == 0:
            out = np.full(np.sum(x, axis=dims, keepdims=True).shape, -np.inf, dtype=x.dtype)
        else:
            m = np.max(x, axis=dims, keepdims=True)
            m = np.where(np.isfinite(m), m, 0)  # all −∞ (or an ∞): shift by nothing
            out = m + np.log(np.sum(np.exp(x - m), axis=dims, keepdims=True))
        ctx.save_for_backward(x, out)
        return out if keepdim else np.squeeze(out, axis=dims)

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        if not ctx.keepdim:
            g = np.expand_dims(g, ctx.dims)
        return g * np.exp(x - out), None, None
