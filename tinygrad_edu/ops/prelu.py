"""The learnable and the random leaky ReLU: PReLUFn (a slope per channel, learnt) and RReLUFn
(a random slope per element while training). Deck 1's ReLU family; ReLU, LeakyReLU and ELU are
in activation.py.

    PReLU (He et al. 2015):  out = x if x > 0 else a_c · x      a_c: one learnt slope per channel
    RReLU (Xu et al. 2015):  out = x if x > 0 else a · x        a ~ U(lower, upper) per element
                             while training; a = (lower + upper)/2 in eval mode (a LeakyReLU)

As PyTorch, x = 0 counts as negative: the slope is the derivative there.
"""

from __future__ import annotations

import numpy as np

from ..function import Function


def _channel_view(weight, ndim: int):
    """The (C,) slopes shaped to broadcast along axis 1 of an ndim-D input: (1, C, 1, …, 1).
    Inputs of fewer than 2 dims have no channel axis: there the weight holds one slope."""
    if ndim < 2:
        return weight.reshape(())
    return weight.reshape((1, -1) + (1,) * (ndim - 2))


class PReLUFn(Function):
    """out = x where x > 0, a_c·x elsewhere, with a (C,) slope per channel c = axis 1 of x
    (or one slope, C = 1, for all elements).

        ∂L/∂x = g · (1 if x > 0 else a_c)
        ∂L/∂a_c = Σ over every axis but the channel of g · x · [x ≤ 0]

    Shapes: x, out, g: (N, C, …) (or any shape when C = 1);  a, ∂L/∂a: (C,).
    """

    rule = ("∂/∂x = 1 if x > 0 else a_c;  ∂/∂a_c = x where x ≤ 0: ∂L/∂a_c sums g·x over the "
            "channel's negative inputs")

    @staticmethod
    def forward(ctx, x, weight):
        a = _channel_view(weight, x.ndim)
        ctx.save_for_backward(x, weight)
        return np.where(x > 0, x, a * x)

    @staticmethod
    def backward(ctx, g):
        x, weight = ctx.saved_tensors
        a = _channel_view(weight, x.ndim)
        positive = x > 0
        grad_x = np.where(positive, g, g * a) if ctx.needs_input_grad[0] else None
        grad_a = None
        if ctx.needs_input_grad[1]:
            per_element = np.where(positive, 0, g * x)
            if weight.size == 1:
                grad_a = per_element.sum().reshape(weight.shape)
            else:
                axes = (0,) + tuple(range(2, x.ndim))  # every axis but the channel
                grad_a = per_element.sum(axis=axes)
        return grad_x, grad_a


class RReLUFn(Function):
    """out = x where x > 0, a·x elsewhere; `slopes` a (the random slopes, drawn by the caller
    from tinygrad_edu's seeded generator, or one number in eval mode) is not learnt.

        ∂L/∂x = g · (1 if x > 0 else a)

    Shapes: x, out, g: one shape (…);  slopes: x's shape, or a number.
    """

    rule = "∂/∂x = 1 if x > 0 else a: negative inputs pass g times their (random) slope"

    @staticmethod
    def forward(ctx, x, slopes):
        ctx.save_for_backward(x, slopes)
        return np.where(x > 0, x, slopes * x).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        x, slopes = ctx.saved_tensors
        return np.where(x > 0, g, g * slopes).astype(g.dtype, copy=False), None
