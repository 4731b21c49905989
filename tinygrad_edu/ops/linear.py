"""The fully connected layer as one Function: out = x Wᵀ + b (one graph node, not three)."""

from __future__ import annotations

import numpy as np

from ..function import Function


class LinearFn(Function):
    """out = x Wᵀ + b.   x: (…, in), W: (out, in), b: (out,), out: (…, out).

    ∂L/∂x = g W        (…, out) @ (out, in) → (…, in)
    ∂L/∂W = gᵀ x       (out, …) @ (…, in) → (out, in), summed over all leading axes
    ∂L/∂b = Σ g        summed over all leading axes → (out,)
    """

    rule = ("out = x·Wᵀ + b, so with g = ∂L/∂out (N×out):  ∂L/∂x = g·W (N×in),  "
            "∂L/∂W = gᵀ·x (out×in),  ∂L/∂b = Σ_n g_n (out)")

    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        out = x @ weight.T
        if bias is not None:
            out += bias
        return out

    @staticmethod
    def backward(ctx, g):
        x, weight = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        g2 = g.reshape(-1, g.shape[-1])  # all leading axes are one batch axis
        grad_x = g @ weight if need_x else None
        grad_w = g2.T @ x.reshape(-1, x.shape[-1]) if need_w else None
        grad_b = g2.sum(axis=0) if need_b else None
        return grad_x, grad_w, grad_b
