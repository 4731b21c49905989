"""nn.functional: the stateless versions of the layers (`import tinygrad_edu.nn.functional as F`).

Fused ops defined here, each one Function with its backward written out (one graph node
instead of several, which is where a small model's time goes):
  linear       out = x Wᵀ + b
  batch_norm   out = γ · (x − μ) / √(σ² + ε) + β
  embedding    out = W[idx]
Convolution and pooling come from the compiled kernels (tinygrad_edu.ops.conv / ops.pool);
the losses live in nn/loss.py and are re-exported here.

>>> import numpy as np
>>> from tinygrad_edu import Tensor
>>> x = Tensor(np.ones((2, 3), dtype=np.float32))
>>> w = Tensor(np.full((4, 3), 0.5, dtype=np.float32), requires_grad=True)
>>> linear(x, w).shape
(2, 4)
"""

from __future__ import annotations

import numpy as np

from ..function import Function
from ..ops import activation as A
from ..ops import movement as MV
from ..tensor import Tensor
from .loss import (binary_cross_entropy, binary_cross_entropy_with_logits,  # noqa: F401
                   cross_entropy, l1_loss, mse_loss, nll_loss, smooth_l1_loss)

from ..ops.conv import conv1d, conv2d, conv_transpose2d  # noqa: F401  (compiled kernels)
from ..ops.pool import avg_pool2d, interpolate, max_pool2d  # noqa: F401


# ---------------------------------------------------------------------------------------------
# Activations (the ops live in ops/activation.py)
# ---------------------------------------------------------------------------------------------
def relu(x: Tensor) -> Tensor:
    return A.ReLU.apply(x)


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    return A.LeakyReLU.apply(x, float(negative_slope))


def elu(x: Tensor, alpha: float = 1.0) -> Tensor:
    return A.ELU.apply(x, float(alpha))


def sigmoid(x: Tensor) -> Tensor:
    return A.Sigmoid.apply(x)


def tanh(x: Tensor) -> Tensor:
    return A.Tanh.apply(x)


def softmax(x: Tensor, dim: int) -> Tensor:
    return x.softmax(dim)


def log_softmax(x: Tensor, dim: int) -> Tensor:
    return x.log_softmax(dim)


def dropout(x: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Zero each element with probability p, scale the others by 1/(1 − p); identity when
    not training. The mask comes from tinygrad_edu's seeded generator."""
    return x.dropout(p, training)


def one_hot(target, num_classes: int = -1) -> Tensor:
    """Class indices (any shape) → int64 one-hot vectors along a new last axis.

    >>> one_hot(Tensor(np.array([0, 2])), 3).tolist()
    [[1, 0, 0], [0, 0, 1]]
    """
    idx = np.asarray(target.data if isinstance(target, Tensor) else target)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"one_hot expects integer class indices, got dtype {idx.dtype}")
    if num_classes < 0:
        num_classes = int(idx.max()) + 1 if idx.size else 0
    if idx.size and (idx.min() < 0 or idx.max() >= num_classes):
        raise ValueError(f"one_hot: class values must be in [0, {num_classes - 1}], got range "
                         f"[{idx.min()}, {idx.max()}]")
    return Tensor((idx[..., None] == np.arange(num_classes)).astype(np.int64))


_PAD_MODES = ("constant", "reflect", "replicate", "circular")


def pad(x: Tensor, pad: tuple, mode: str = "constant", value: float = 0.0) -> Tensor:
    """PyTorch's pad: `pad` lists (before, after) pairs starting from the LAST dimension,
    e.g. (1, 1, 2, 2) pads the last axis by 1 and the one before it by 2."""
    if mode not in _PAD_MODES:
        raise ValueError(f"pad mode {mode!r} not supported, use one of {_PAD_MODES}")
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ValueError(f"pad {tuple(pad)} must have an even length of at most 2·{x.ndim} "
                         f"for a tensor of shape {x.shape}")
    widths = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        before, after = int(pad[2 * i]), int(pad[2 * i + 1])
        if before < 0 or after < 0:
            raise ValueError(f"negative padding {tuple(pad)} is not supported")
        axis = x.ndim - 1 - i
        if mode == "reflect" and max(before, after) >= x.shape[axis]:
            raise ValueError(f"reflect padding {before, after} must be smaller than the size "
                             f"{x.shape[axis]} of axis {axis}")
        widths[axis] = (before, after)
    return MV.Pad.apply(x, tuple(widths), mode, value)


# ---------------------------------------------------------------------------------------------
# linear
# ---------------------------------------------------------------------------------------------
class Linear(Function):
    """out = x Wᵀ + b.   x: (…, in), W: (out, in), b: (out,), out: (…, out).

    ∂L/∂x = g W    ∂L/∂W = gᵀ x  (summed over all leading axes)    ∂L/∂b = Σ g
    """

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


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """x Wᵀ + b, one graph node."""
    if x.ndim == 0 or x.shape[-1] != weight.shape[-1]:
        raise ValueError(f"linear: input of shape {x.shape} does not match weight of shape "
                         f"{weight.shape} (last dims must agree)")
    if bias is not None and bias.shape != (weight.shape[0],):
        raise ValueError(f"linear: bias of shape {bias.shape} for weight of shape {weight.shape}")
    return Linear.apply(x, weight, bias)


# ---------------------------------------------------------------------------------------------
# batch_norm
# ---------------------------------------------------------------------------------------------
class BatchNorm(Function):
    """out = γ · x̂ + β  with  x̂ = (x − μ) / √(σ² + ε), per channel (axis 1).

    x: (N, C) or (N, C, L) or (N, C, H, W); statistics over every axis but the channel one
    (m = N·L or N·H·W values per channel). In training μ, σ² are the batch mean and biased
    variance, and they depend on x, which gives the famous backward:

        ∂L/∂x = γ / (m·√(σ² + ε)) · (m·g − Σ g − x̂ · Σ g·x̂)

    In evaluation μ, σ² are the running statistics (constants):  ∂L/∂x = g · γ / √(σ² + ε).
    Both cases:  ∂L/∂γ = Σ g·x̂,   ∂L/∂β = Σ g.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, mean, var, eps, batch_stats):
        axes = (0,) + tuple(range(2, x.ndim))
        shape = (1, -1) + (1,) * (x.ndim - 2)  # broadcasts a (C,) vector over x
        inv_std = 1.0 / np.sqrt(var + eps)
        x_hat = (x - mean.reshape(shape)) * inv_std.reshape(shape)
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


def batch_norm(x: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Batch normalisation over axis 1, as torch.nn.functional.batch_norm.

    training=True normalises with the batch statistics and updates the running ones in place:
    running = (1 − momentum)·running + momentum·batch, with the UNBIASED batch variance.
    training=False normalises with running_mean / running_var.
    """
    if x.ndim < 2:
        raise ValueError(f"batch_norm expects an input of shape (N, C, ...), got {x.shape}")
    channels = x.shape[1]
    for name, t in (("weight", weight), ("bias", bias), ("running_mean", running_mean),
                    ("running_var", running_var)):
        if t is not None and t.shape != (channels,):
            raise ValueError(f"batch_norm: {name} of shape {t.shape} for an input with "
                             f"{channels} channels (shape {x.shape})")
    data = x.data
    axes = (0,) + tuple(range(2, data.ndim))
    if training:
        count = data.size // channels
        if count <= 1:
            raise ValueError(f"expected more than 1 value per channel when training, "
                             f"got input of shape {x.shape}")
        mean = data.mean(axis=axes)
        var = data.var(axis=axes)
        if running_mean is not None and running_var is not None:
            factor = momentum
            running_mean.data[...] = (1 - factor) * running_mean.data + factor * mean
            running_var.data[...] = ((1 - factor) * running_var.data
                                     + factor * var * count / (count - 1))
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm in evaluation mode needs running_mean and running_var")
        mean, var = running_mean.data, running_var.data
    mean, var = mean.astype(data.dtype, copy=False), var.astype(data.dtype, copy=False)
    return BatchNorm.apply(x, weight, bias, mean, var, eps, bool(training))


# ---------------------------------------------------------------------------------------------
# embedding
# ---------------------------------------------------------------------------------------------
class Embedding(Function):
    """out = W[idx].   idx: integers of any shape, W: (num, dim), out: idx.shape + (dim,).

    ∂L/∂W[k] = Σ of g over the positions where idx == k (a scatter-add);
    the row `padding_idx` gets no gradient.
    """

    @staticmethod
    def forward(ctx, weight, idx, padding_idx):
        ctx.num, ctx.idx, ctx.padding_idx = weight.shape[0], idx, padding_idx
        return weight[idx]

    @staticmethod
    def backward(ctx, g):
        from .._C import index_add  # compiled grad[idx[k]] += g[k]
        grad = np.zeros((ctx.num, g.shape[-1]), dtype=g.dtype)
        index_add.scatter_add(grad, ctx.idx.reshape(-1), g.reshape(-1, g.shape[-1]))
        if ctx.padding_idx is not None:
            grad[ctx.padding_idx] = 0
        return grad, None, None


def embedding(input, weight: Tensor, padding_idx: int | None = None) -> Tensor:
    """Rows of `weight` picked by the integer tensor `input`."""
    idx = np.asarray(input.data if isinstance(input, Tensor) else input)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"embedding indices must be integers, got dtype {idx.dtype}")
    num = weight.shape[0]
    if idx.size and (idx.min() < 0 or idx.max() >= num):
        raise IndexError(f"embedding index out of range: indices span [{idx.min()}, "
                         f"{idx.max()}] for a table of {num} rows")
    if padding_idx is not None and padding_idx < 0:
        padding_idx += num
    return Embedding.apply(weight, idx.astype(np.int64, copy=False), padding_idx)
