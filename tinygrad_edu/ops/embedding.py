"""Embedding lookup: rows of a table picked by integer indices; backward is a scatter-add."""

from __future__ import annotations

import numpy as np

from .._C import index_add  # compiled grad[idx[k]] += g[k]
from ..function import Function


class EmbeddingFn(Function):
    """out = W[idx].   idx: integers of any shape, W: (num, dim), out: idx.shape + (dim,).

    ∂L/∂W[k] = Σ of g over the positions where idx == k (a scatter-add);
    the row `padding_idx` gets no gradient.
    """

    rule = "∂L/∂W[k] = Σ of g over the positions where idx == k (scatter-add); ∂W[padding_idx] = 0"

    @staticmethod
    def forward(ctx, weight, idx, padding_idx):
        ctx.save_for_backward(idx)
        ctx.num, ctx.padding_idx = weight.shape[0], padding_idx
        return weight[idx]

    @staticmethod
    def backward(ctx, g):
        (idx,) = ctx.saved_tensors
        grad = np.zeros((ctx.num, g.shape[-1]), dtype=g.dtype)
        index_add.scatter_add(grad, idx.reshape(-1), g.reshape(-1, g.shape[-1]))
        if ctx.padding_idx is not None:
            grad[ctx.padding_idx] = 0
        return grad, None, None
