"""Picking and placing elements by index: gather, scatter_add, index_select, masked_fill.

gather and scatter_add are each other's backward: what gather reads, its gradient adds back to
the same places; what scatter_add adds, its gradient reads from there. Index arrays are int64
numpy arrays (checked by the Tensor methods, tensor_torch.py).
"""

from __future__ import annotations

import numpy as np

from ..function import Function
from .elementwise import zero_where


def along(index: np.ndarray, dim: int) -> tuple:
    """The full numpy index that reads x[…, index[i, j, k], …] (index on axis `dim`, the other
    axes counted by position): the `i, j, k` of gather's formula as broadcasting aranges."""
    grid = []
    for axis, n in enumerate(index.shape):
        if axis == dim:
            grid.append(index)
        else:
            shape = [1] * index.ndim
            shape[axis] = n
            grid.append(np.arange(n).reshape(shape))
    return tuple(grid)


class GatherFn(Function):
    """out[i][j][k] = x[index[i][j][k]][j][k] for dim = 0 (the index replaces the `dim` axis).

    ∂L/∂x: g added back where each value came from (np.add.at: an element picked twice gets
    both gradients); zero where nothing was picked.

    Shapes: x: (…);  index, out, g: index's shape (no larger than x outside `dim`);  ∂L/∂x: x's.
    """

    rule = "∂out/∂x = 1 where x was picked: g is added back at the gathered positions"

    @staticmethod
    def forward(ctx, x, dim, index):
        ctx.save_for_backward(index)
        ctx.shape, ctx.dim = x.shape, dim
        return x[along(index, dim)]

    @staticmethod
    def backward(ctx, g):
        (index,) = ctx.saved_tensors
        grad = np.zeros(ctx.shape, dtype=g.dtype)
        np.add.at(grad, along(index, ctx.dim), g)
        return grad, None, None


class ScatterAddFn(Function):
    """out = x, then out[index[i][j][k]][j][k] += src[i][j][k] for dim = 0.

    ∂L/∂x = g (x passes through unchanged);  ∂L/∂src = g read at the places src was added to
    (a gather of g), zero where src lies outside index's shape.

    Shapes: x, out, g: (…);  index: no larger than src;  src: (…).
    """

    rule = "∂out/∂x = 1, ∂out/∂src = 1 at its target: g to x, g gathered from the targets to src"

    @staticmethod
    def forward(ctx, x, dim, index, src):
        ctx.save_for_backward(index)
        ctx.dim, ctx.src_shape = dim, src.shape
        out = x.copy()
        picked = tuple(slice(0, n) for n in index.shape)
        np.add.at(out, along(index, dim), src[picked])
        return out

    @staticmethod
    def backward(ctx, g):
        (index,) = ctx.saved_tensors
        grad_src = None
        if ctx.needs_input_grad[3]:
            grad_src = np.zeros(ctx.src_shape, dtype=g.dtype)
            grad_src[tuple(slice(0, n) for n in index.shape)] = g[along(index, ctx.dim)]
        return g, None, None, grad_src


class IndexSelectFn(Function):
    """out = x with only the entries `index` (1-D) kept along `dim`, in that order (repeats
    allowed): out[…, i, …] = x[…, index[i], …].

    ∂L/∂x: g's slices added back to the entries they came from, zero for the others.

    Shapes: x: (…, n, …);  index: (k,);  out, g: (…, k, …);  ∂L/∂x: x's.
    """

    rule = "∂out/∂x = 1 at the selected entries: g's slices are added back where they came from"

    @staticmethod
    def forward(ctx, x, dim, index):
        ctx.save_for_backward(index)
        ctx.shape, ctx.dim = x.shape, dim
        return np.take(x, index, axis=dim)

    @staticmethod
    def backward(ctx, g):
        (index,) = ctx.saved_tensors
        grad = np.zeros(ctx.shape, dtype=g.dtype)
        np.add.at(grad, (slice(None),) * ctx.dim + (index,), g)
        return grad, None, None


class MaskedFillFn(Function):
    """out = value where mask, else x (the mask broadcasts to x's shape).

    ∂L/∂x = g where the mask is False, 0 where x was overwritten.

    Shapes: x, out, g: (…);  mask: bool, broadcastable to x;  value: a number.
    """

    rule = "∂out/∂x = 0 where filled, 1 elsewhere: g passes only where x was kept"

    @staticmethod
    def forward(ctx, x, mask, value):
        ctx.save_for_backward(mask)
        return np.where(mask, np.asarray(value, dtype=x.dtype), x)

    @staticmethod
    def backward(ctx, g):
        (mask,) = ctx.saved_tensors
        return zero_where(mask, g), None, None
