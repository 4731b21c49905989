"""Activations, softmax and dropout. `x`, `out` and `g` (= ∂L/∂out) all have the same shape."""

from __future__ import annotations

import numpy as np

from ..function import Function
from .elementwise import zero_where


class ReLUFn(Function):
    """out = max(x, 0).   ∂L/∂x = g where out > 0, exactly 0 where out ≤ 0.

    As PyTorch, "exactly": also where g is ±∞ or NaN (g · [x > 0] would give 0 · ∞ = NaN
    there), and a NaN input (out = NaN is not ≤ 0) passes g. Also as PyTorch, only x < 0
    becomes 0: −0 stays −0 (np.maximum(−0, 0) would give +0, and 1/out would flip to +∞).

    Shapes: x, out, g: one shape (…).

    >>> from tinygrad_edu import Tensor
    >>> x = Tensor([-1.0, 2.0], requires_grad=True)
    >>> x.relu().sum().backward()
    >>> x.grad
    array([0., 1.], dtype=float32)
    """

    rule = "∂relu(x)/∂x = [x > 0]: g passes where the input was positive, exactly 0 where ≤ 0"

    @staticmethod
    def forward(ctx, x):
        out = np.where(x < 0, x.dtype.type(0), x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return zero_where(out <= 0, g)


class LeakyReLUFn(Function):
    """out = x if x > 0 else slope·x.   ∂L/∂x = g · (1 if x > 0 else slope).

    Shapes: x, out, g: one shape (…);  slope: a number.
    """

    rule = "∂/∂x = 1 if x > 0 else slope: negative inputs pass a slope-sized share of g"

    @staticmethod
    def forward(ctx, x, negative_slope):
        ctx.save_for_backward(x)
        ctx.slope = negative_slope
        return np.where(x > 0, x, x * negative_slope)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return np.where(x > 0, g, g * ctx.slope), None


def _simd_bytes() -> int:
    """Bytes in one of PyTorch's CPU vectors on this machine: 64 where it runs AVX-512 kernels
    (the CPU has AVX512 F, BW, VL and DQ), else 32 (AVX2, and torch's default width)."""
    try:
        from numpy._core._multiarray_umath import __cpu_features__ as features
    except ImportError:  # numpy < 2
        try:
            from numpy.core._multiarray_umath import __cpu_features__ as features
        except ImportError:
            return 32
    avx512 = ("AVX512F", "AVX512BW", "AVX512VL", "AVX512DQ")
    return 64 if all(features.get(name) for name in avx512) else 32


_SIMD_BYTES = _simd_bytes()


def _vectorised_positions(x, g):
    """Where PyTorch's CPU loop over (g, x) runs its vectorised code, as a mask of x's shape
    (None: nowhere).

    torch walks the innermost run of memory that every operand covers contiguously (g may
    also repeat one value along it): blocks of two vectors (32 float32 with AVX-512) take the
    vectorised code, the last run % block elements the element-by-element code. Here that
    run is the trailing axes along which x is C-contiguous and g is either C-contiguous or
    constant (stride 0); any other layout counts as element-by-element. (Tensors above
    32768 elements are also split between threads, each with its own tail: not modelled.)
    """
    itemsize = x.itemsize
    g = np.broadcast_to(g, x.shape)
    run, g_constant = 0, False
    for size, x_stride, g_stride in zip(reversed(x.shape), reversed(x.strides),
                                        reversed(g.strides)):
        if size == 1:
            continue
        if run == 0:  # the innermost axis: x contiguous; g contiguous or one value repeated
            if x_stride != itemsize or g_stride not in (itemsize, 0):
                return None
            run, g_constant = size, g_stride == 0
        elif x_stride == itemsize * run and g_stride == (0 if g_constant else itemsize * run):
            run *= size  # this axis continues the run in both
        else:
            break
    cutoff = run - run % (2 * _SIMD_BYTES // itemsize)
    if cutoff == 0:
        return None
    return (np.arange(x.size) % run < cutoff).reshape(x.shape)


class ELUFn(Function):
    """out = x if x > 0 else α(eˣ − 1).   ∂L/∂x = g · (α·eˣ if x ≤ 0 else 1).

    As PyTorch's elu: the input x is saved (not out), and the gradient is computed from it,
    (g·α)·eˣ, so it stays exact for a very negative x (α·e⁻¹⁰⁰ ≈ 3.7e-44, where out + α would
    give 0), and the result may be changed in place before backward.

    A NaN input: torch's element-by-element kernel takes the "else" branch (x ≤ 0 is False)
    and passes g; its vectorised kernel takes the α·eˣ branch (x > 0 is False) and gives NaN.
    Which one runs depends on the memory layout and the CPU's vector width
    (`_vectorised_positions`); this follows the same split.

    Shapes: x, out, g: one shape (…);  α: a number.
    """

    rule = "∂elu(x)/∂x = α·eˣ if x ≤ 0, else 1"

    @staticmethod
    def forward(ctx, x, alpha):
        ctx.save_for_backward(x)
        ctx.alpha = alpha
        negative = np.copysign(np.minimum(x, 0), x)  # −0 stays −0: elu(−0) = α·(e⁻⁰ − 1) = −0
        return np.where(x > 0, x, alpha * np.expm1(negative))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        grad = np.where(x <= 0, g * ctx.alpha * np.exp(np.minimum(x, 0)), g)
        nan = np.isnan(x)
        if nan.any():
            vectorised = _vectorised_positions(x, g)
            if vectorised is not None:
                grad = np.where(nan & vectorised, np.nan, grad)
        return grad, None


class SigmoidFn(Function):
    """out = σ(x) = 1 / (1 + e⁻ˣ).   ∂L/∂x = g · (1 − out) · out.

    Computed as PyTorch computes it, 1 / (1 + e⁻ˣ) in x's dtype: below x ≈ −88.7 (float32) e⁻ˣ
    overflows to ∞ and σ(x) is exactly 0, as in torch (the form eˣ/(1 + eˣ) would give
    subnormals down to 1e-45 there, and so a different gradient after, say, a log).

    Shapes: x, out, g: one shape (…).
    """

    rule = "∂σ(x)/∂x = σ(x)·(1 − σ(x)): so ∂L/∂x = g · (1 − out) · out"

    @staticmethod
    def forward(ctx, x):
        with np.errstate(over="ignore"):  # e⁻ˣ = ∞ gives σ = 1/∞ = 0
            out = np.asarray(1 / (1 + np.exp(-x)))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g * (1 - out) * out


class TanhFn(Function):
    """out = tanh(x).   ∂L/∂x = g · (1 − out²).

    Shapes: x, out, g: one shape (…).
    """

    rule = "∂tanh(x)/∂x = 1 − tanh²(x): so ∂L/∂x = g · (1 − out²)"

    @staticmethod
    def forward(ctx, x):
        out = np.tanh(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g * (1 - out * out)


class SoftmaxFn(Function):
    """out_i = e^{x_i} / Σ_j e^{x_j} along `dim`.   ∂L/∂x = out · (g − Σ_j g_j·out_j).

    Shapes: x, out, g: one shape (…, n, …), n along `dim`;  the sum Σ_j runs along `dim`.
    """

    rule = "∂out_i/∂x_j = out_i·(δ_ij − out_j): g minus its out-weighted mean, times out"

    @staticmethod
    def forward(ctx, x, dim):
        top = x.max(axis=dim, keepdims=True, initial=-np.inf)  # (initial: an empty dim is fine)
        shifted = np.exp(x - top)  # minus the max: no overflow
        out = shifted / shifted.sum(axis=dim, keepdims=True)
        ctx.save_for_backward(out)
        ctx.dim = dim
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return out * (g - (g * out).sum(axis=ctx.dim, keepdims=True)), None


class LogSoftmaxFn(Function):
    """out_i = x_i − log Σ_j e^{x_j} along `dim`.   ∂L/∂x = g − softmax(x) · Σ_j g_j.

    Shapes: x, out, g: one shape (…, n, …), n along `dim`;  the sum Σ_j runs along `dim`.
    """

    rule = "∂out_i/∂x_j = δ_ij − softmax(x)_j: g minus softmax times the sum of g"

    @staticmethod
    def forward(ctx, x, dim):
        shifted = x - x.max(axis=dim, keepdims=True, initial=-np.inf)  # log-sum-exp: exact, finite
        out = shifted - np.log(np.exp(shifted).sum(axis=dim, keepdims=True))
        ctx.save_for_backward(out)
        ctx.dim = dim
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g - np.exp(out) * g.sum(axis=ctx.dim, keepdims=True), None


class DropoutFn(Function):
    """out = x · mask / (1 − p), mask_i ~ Bernoulli(1 − p).   ∂L/∂x = g · mask / (1 − p).

    `mask` is drawn by the caller (from tinygrad_edu's seeded generator) and passed in, already
    scaled, so forward and backward use the very same mask.

    A true multiply both ways, as PyTorch's dropout on the CPU (p = 1 included): a dropped
    element whose upstream g is ±∞ or NaN gets 0 · ∞ = NaN, as there.

    Shapes: x, mask, out, g: one shape (…).
    """

    rule = "∂(x·m)/∂x = m: g passes through the kept elements, scaled by 1/(1 − p)"

    @staticmethod
    def forward(ctx, x, scaled_mask):
        ctx.save_for_backward(scaled_mask)
        return x * scaled_mask

    @staticmethod
    def backward(ctx, g):
        (scaled_mask,) = ctx.saved_tensors
        return g * scaled_mask, None
