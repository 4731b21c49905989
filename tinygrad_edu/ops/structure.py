"""Ops that rearrange a whole tensor: repeat (tile) and the triangles tril/triu.

(chunk and split need no Function: they are slices, x[a:b] along one axis.)
"""

from __future__ import annotations

import numpy as np

from ..function import Function


class RepeatFn(Function):
    """out = x tiled r_i times along each axis i (np.tile): out[a·n + j] = x[j] along an axis
    of size n repeated r times. Extra leading repeats add leading axes (x is read as size 1
    there).

    ∂L/∂x_j = Σ over the r copies of g at x_j's positions: g reshaped to (r₀, n₀, r₁, n₁, …)
    and summed over the r axes.

    Shapes: x: (n₀, …, n_k) padded with leading 1s to len(repeats);  out, g: (r₀n₀, r₁n₁, …).
    """

    rule = "∂out/∂x = 1 at each copy: x receives the sum of g over all of its copies"

    @staticmethod
    def forward(ctx, x, repeats):
        ctx.shape, ctx.repeats = x.shape, repeats
        return np.tile(x.reshape((1,) * (len(repeats) - x.ndim) + x.shape), repeats)

    @staticmethod
    def backward(ctx, g):
        sizes = (1,) * (g.ndim - len(ctx.shape)) + ctx.shape
        split = []
        for r, n in zip(ctx.repeats, sizes):
            split += [r, n]
        grad = g.reshape(split).sum(axis=tuple(range(0, len(split), 2)))
        return grad.reshape(ctx.shape), None


class TriangleFn(Function):
    """tril: out_ij = x_ij where j − i ≤ k, else 0;  triu: where j − i ≥ k (k = diagonal).
    Applied to the last two axes (a batch of matrices in front is fine).

    ∂L/∂x = the same triangle of g: the kept entries pass their gradient, the zeroed pass 0.

    Shapes: x, out, g, ∂L/∂x: (…, m, n);  k: an int.
    """

    rule = "∂tril(x)/∂x = 1 in the kept triangle, 0 outside: g gets the same triangle"

    @staticmethod
    def forward(ctx, x, k, upper):
        ctx.k, ctx.upper = k, upper
        return np.triu(x, k) if upper else np.tril(x, k)

    @staticmethod
    def backward(ctx, g):
        return (np.triu(g, ctx.k) if ctx.upper else np.tril(g, ctx.k)), None, None
