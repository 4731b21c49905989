"""Batch normalisation as one Function, with the famous backward written out."""

from __future__ import annotations

import numpy as np

from ..function import Function


class BatchNormFn(Function):
    """out = γ · x̂ + β  with  x̂ = (x − μ) / √(σ² + ε), per channel (axis 1).

    x: (N, C) or (N, C, L) or (N, C, H, W); statistics over every axis but the channel one
    (m = N·L or N·H·W values per channel). In training (batch_stats=True) μ, σ² are the batch
    mean and biased variance, computed here from x (the `mean`, `var` arguments are not used),
    so they are part of the op; they depend on x, which gives the famous backward:

        ∂L/∂x = γ / (m·√(σ² + ε)) · (m·g − Σ g − x̂ · Σ g·x̂)

    In evaluation μ, σ² are the running statistics (constants):  ∂L/∂x = g · γ / √(σ² + ε).
    Both cases:  ∂L/∂γ = Σ g·x̂,   ∂L/∂β = Σ g.

    stats_out: a list that, in training, receives [μ, σ²] of the batch, for the caller's update
    of the running statistics (nn.functional.batch_norm).
    """

    rule = ("training: ∂L/∂x = γ/(m·√(σ²+ε)) · (m·g − Σg − x̂·Σ g·x̂);  evaluation: ∂L/∂x = "
            "g·γ/√(σ²+ε);  ∂L/∂γ = Σ g·x̂,  ∂L/∂β = Σ g  (sums over all axes but the channel)")

    @staticmethod
    def forward(ctx, x, weight, bias, mean, var, eps, batch_stats, *, stats_out=None):
        axes = (0,) + tuple(range(2, x.ndim))
        shape = (1, -1) + (1,) * (x.ndim - 2)  # broadcasts a (C,) vector over x
        if batch_stats:
            mean = x.mean(axis=axes)
            centered = x - mean.reshape(shape)
            var = np.mean(centered * centered, axis=axes)  # biased: divides by m
            if stats_out is not None:
                stats_out[:] = [mean, var]
        else:
            centered = x - mean.reshape(shape)
        inv_std = 1.0 / np.sqrt(var + eps)
        x_hat = centered * inv_std.reshape(shape)
        out = x_hat * weight.reshape(shape) if weight is not None else x_hat.copy()
        if bias is not None:
            out += bias.reshape(shape)
        ctx.save_for_backward(x_hat, inv_std, weight)
        ctx.axes, ctx.shape, ctx.batch_stats = axes, shape, batch_stats
        return out.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        x_hat, inv_std, weight = ctx.saved_tensors
        axes, shape = ctx.axes, ctx.shape
        sum_g = g.sum(axis=axes)
        sum_g_xhat = (g * x_hat).sum(axis=axes)
        grad_x = None
        if ctx.needs_input_grad[0]:
            scale = inv_std if weight is None else weight * inv_std
            if ctx.batch_stats:
                m = g.size // g.shape[1]
                grad_x = (scale / m).reshape(shape) * (
                    m * g - sum_g.reshape(shape) - x_hat * sum_g_xhat.reshape(shape))
            else:
                grad_x = g * scale.reshape(shape)
        return grad_x, sum_g_xhat, sum_g, None, None, None, None
