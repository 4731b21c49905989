"""Matrix product, numpy's `@` rules (batched, broadcasting batch axes, 1-D operands)."""

from __future__ import annotations

import numpy as np

from ..function import Function


def _swap_last(m):
    return np.swapaxes(m, -1, -2)


class MatMul(Function):
    """out = a @ b.   a: (…, n, k), b: (…, k, m), out: (…, n, m).

    ∂L/∂a = g @ bᵀ   (…, n, k)        ∂L/∂b = aᵀ @ g   (…, k, m)

    A 1-D a is a row (1, k) and a 1-D b a column (k, 1) for the formulas; the extra axis is
    removed again afterwards. Broadcast batch axes are summed back by the engine.
    """

    rule = ("∂(a@b)/∂a = g @ bᵀ,  ∂(a@b)/∂b = aᵀ @ g: "
            "out_ij = Σ_k a_ik·b_kj, so a_ik meets every b_kj it multiplied")

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.matmul(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        a2 = a[np.newaxis, :] if a.ndim == 1 else a
        b2 = b[:, np.newaxis] if b.ndim == 1 else b
        # Give g back the axes a 1-D operand dropped: shape (…, n, m) as in the formulas.
        batch = np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
        g = g.reshape(batch + (a2.shape[-2], b2.shape[-1]))
        grad_a = grad_b = None
        if need_a:
            grad_a = np.matmul(g, _swap_last(b2))
            if a.ndim == 1:
                grad_a = np.squeeze(grad_a, -2)
        if need_b:
            grad_b = np.matmul(_swap_last(a2), g)
            if b.ndim == 1:
                grad_b = np.squeeze(grad_b, -1)
        return grad_a, grad_b
