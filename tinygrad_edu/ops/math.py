"""Elementwise functions of one tensor: sin, cos, tan, erf, softplus, and the rounding family.

Shapes: out, g (∂L/∂out) and the returned ∂L/∂x all have x's shape.
"""

from __future__ import annotations

import math

import numpy as np

from ..function import Function


class SinFn(Function):
    """out = sin x.   ∂L/∂x = g · cos x."""

    rule = "∂sin(x)/∂x = cos(x): g times the cosine of the input"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sin(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * np.cos(x)


class CosFn(Function):
    """out = cos x.   ∂L/∂x = −g · sin x."""

    rule = "∂cos(x)/∂x = −sin(x): minus g times the sine of the input"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.cos(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return -g * np.sin(x)


class TanFn(Function):
    """out = tan x.   ∂L/∂x = g · (1 + tan² x) = g · (1 + out²)."""

    rule = "∂tan(x)/∂x = 1 + tan²(x): g times (1 + out²)"

    @staticmethod
    def forward(ctx, x):
        out = np.tan(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g * (1 + out * out)


_erf = np.frompyfunc(math.erf, 1, 1)  # math.erf for every element (numpy itself has no erf)


class ErfFn(Function):
    """out = erf x = 2/√π ∫₀ˣ e^{−t²} dt.   ∂L/∂x = g · 2/√π · e^{−x²}."""

    rule = "∂erf(x)/∂x = 2/√π · e^(−x²): g times the Gaussian bump at the input"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.asarray(_erf(x), dtype=x.dtype) if x.size else np.zeros_like(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * (2 / math.sqrt(math.pi)) * np.exp(-x * x)


class SoftplusFn(Function):
    """out = 1/β · log(1 + e^{βx}), and out = x where βx > threshold (PyTorch's cut-off, where
    the two agree to float precision).   ∂L/∂x = g · σ(βx), and g past the threshold.

    Shapes: x, out, g: one shape;  beta, threshold: numbers."""

    rule = "∂softplus(x)/∂x = σ(βx): g times the sigmoid of β·x (1 past the threshold)"

    @staticmethod
    def forward(ctx, x, beta, threshold):
        ctx.save_for_backward(x)
        ctx.beta, ctx.threshold = beta, threshold
        linear = x * beta > threshold
        return np.where(linear, x, np.logaddexp(0, x * beta) / beta).astype(x.dtype)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        z = x * ctx.beta
        sigmoid = np.exp(-np.logaddexp(0, -z))  # σ(z) = 1/(1 + e^{−z}) without overflow
        return np.where(z > ctx.threshold, g, g * sigmoid), None, None


_ROUNDING = {"floor": np.floor, "ceil": np.ceil, "round": np.round, "sign": np.sign}


class RoundingFn(Function):
    """out = floor x, ceil x, round x (halves to even) or sign x: step functions.

    ∂L/∂x = 0: each is constant between its jumps (and has no derivative at them), so, as in
    PyTorch, no gradient flows through (an exact zero, not an error)."""

    rule = "∂floor(x)/∂x = 0 (also ceil, round, sign): a step function passes no gradient"

    @staticmethod
    def forward(ctx, x, mode):
        return _ROUNDING[mode](x)

    @staticmethod
    def backward(ctx, g):
        return np.zeros_like(g), None
