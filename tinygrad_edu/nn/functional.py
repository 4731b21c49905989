"""nn.functional: the stateless versions of the layers (`import tinygrad_edu.nn.functional as F`).

Each function checks its arguments (PyTorch's rules, errors that name the shapes) and applies
one Function of ops/, where its forward, backward and formula sit side by side:

  linear            out = x Wᵀ + b                          ops/linear.py      LinearFn
  batch_norm        out = γ · (x − μ) / √(σ² + ε) + β       ops/norm.py        BatchNormFn
  embedding         out = W[idx]                            ops/embedding.py   EmbeddingFn
  conv1d/2d, conv_transpose2d (compiled kernels)            ops/conv.py        Conv2dFn, …
  max_pool2d, avg_pool2d, max_unpool2d, interpolate        ops/pool.py        MaxPool2dFn, …
  activations                                               ops/activation.py  ReLUFn, …
The losses live in nn/loss.py (their Functions in ops/loss.py) and are re-exported here.

>>> import numpy as np
>>> from tinygrad_edu import Tensor
>>> x = Tensor(np.ones((2, 3), dtype=np.float32))
>>> w = Tensor(np.full((4, 3), 0.5, dtype=np.float32), requires_grad=True)
>>> linear(x, w).shape
(2, 4)
"""

from __future__ import annotations

import numpy as np

from ..ops import activation, conv, pool
from ..ops._args import ntuple
from ..ops.embedding import EmbeddingFn
from ..ops.linear import LinearFn
from ..ops.movement import PAD_MODES, PadFn
from ..ops.norm import BatchNormFn
from ..tensor import Tensor
from .loss import (binary_cross_entropy, binary_cross_entropy_with_logits,  # noqa: F401
                   cross_entropy, l1_loss, mse_loss, nll_loss, smooth_l1_loss)

# The Functions' names before they took the Fn suffix, kept so old code still runs.
Linear, BatchNorm, Embedding = LinearFn, BatchNormFn, EmbeddingFn


# ---------------------------------------------------------------------------------------------
# Activations (the ops live in ops/activation.py)
# ---------------------------------------------------------------------------------------------
def relu(x: Tensor) -> Tensor:
    return activation.ReLUFn.apply(x)


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    return activation.LeakyReLUFn.apply(x, float(negative_slope))


def elu(x: Tensor, alpha: float = 1.0) -> Tensor:
    return activation.ELUFn.apply(x, float(alpha))


def sigmoid(x: Tensor) -> Tensor:
    return activation.SigmoidFn.apply(x)


def tanh(x: Tensor) -> Tensor:
    return activation.TanhFn.apply(x)


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


def pad(x: Tensor, pad: tuple, mode: str = "constant", value: float | None = None) -> Tensor:
    """PyTorch's pad: `pad` lists (before, after) pairs starting from the LAST dimension,
    e.g. (1, 1, 2, 2) pads the last axis by 1 and the one before it by 2.

    A negative width crops that side instead: pad(x, (-1, 1)) drops x's first element and
    appends one `value`. What each mode accepts, as PyTorch:
      "constant": up to x.ndim axes (len(pad) ≤ 2·x.ndim), cropping at most the whole axis;
        `value` fills the frame (None means 0).
      "reflect", "replicate", "circular": no `value` (None or 0); the last 1, 2 or 3 axes of
        an input with one or two more axes, (C, …) or (N, C, …) (else NotImplementedError);
        reflect and replicate: every axis but N non-empty, no padded axis of negative output
          size and not all of them of size 0; reflect also: widths < the axis size;
        circular: wraps around at most once: a width ≤ the size of the part of the axis left
          after cropping. (PyTorch returns uninitialised memory or copy artefacts when it wraps
          more than that kept part, or crops more than the axis; here that is a ValueError.)
    A mode that is not one of these four raises NotImplementedError, widths that are not ints
    TypeError, other bad arguments ValueError (where PyTorch raises RuntimeError).
    """
    if mode not in PAD_MODES:
        raise NotImplementedError(f"unrecognised padding mode {mode!r}, use one of "
                                  f"{tuple(PAD_MODES)}")
    if not isinstance(pad, (tuple, list)) or not all(
            isinstance(p, (int, np.integer)) and not isinstance(p, (bool, np.bool_)) for p in pad):
        raise TypeError(f"pad must be a tuple of ints, got {pad!r}")
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ValueError(f"pad {pad} must have an even length of at most 2·{x.ndim} "
                         f"for a tensor of shape {x.shape}")
    k = len(pad) // 2
    # widths[axis] = (before, after); pad starts from the last axis
    widths = [(0, 0)] * (x.ndim - k) + [(pad[2 * i], pad[2 * i + 1]) for i in reversed(range(k))]
    padded = list(range(x.ndim - k, x.ndim))
    if mode == "constant":
        for axis in padded:
            (before, after), n = widths[axis], x.shape[axis]
            if n + min(before, 0) + min(after, 0) < 0:
                raise ValueError(f"negative padding {before, after} of axis {axis} crops more "
                                 f"than its size {n} (input of shape {x.shape})")
        return PadFn.apply(x, tuple(widths), mode, 0.0 if value is None else value)

    if value is not None and value != 0:
        raise ValueError(f"padding mode {mode!r} takes no value, got value={value}")
    if k not in (1, 2, 3) or x.ndim not in (k + 1, k + 2):
        raise NotImplementedError(
            f"{mode} padding pads the last 1, 2 or 3 axes of an input with one or two more "
            f"axes ((C, …) or (N, C, …)): a pad of length {len(pad)} is not supported for an "
            f"input of shape {x.shape}")
    if mode in ("reflect", "replicate"):
        # as PyTorch: every axis but a batch axis N must be non-empty (something to copy)
        first = x.ndim - k - 1
        if 0 in x.shape[first:]:
            raise ValueError(f"{mode} padding expects non-zero sizes on every axis but a "
                             f"leading batch axis, got input of shape {x.shape}")
    for axis in padded:
        (before, after), n = widths[axis], x.shape[axis]
        if mode == "reflect" and max(before, after) >= n:
            raise ValueError(f"reflect padding {before, after} must be smaller than the size "
                             f"{n} of axis {axis}")
        if mode in ("reflect", "replicate") and n + before + after < 0:
            raise ValueError(f"{mode} padding {before, after} of axis {axis} (size {n}) "
                             f"gives a negative output size {n + before + after}")
        if mode == "circular":
            kept = n + min(before, 0) + min(after, 0)
            if kept < 0:
                raise ValueError(f"negative circular padding {before, after} of axis {axis} "
                                 f"crops more than its size {n}")
            if max(before, after) > kept:
                raise ValueError(f"circular padding {before, after} of axis {axis} (size {n}"
                                 f"{f', {kept} left after cropping' if kept != n else ''}) "
                                 "causes wrapping around more than once: it must be at most "
                                 "the size of the axis")
    out_sizes = [x.shape[axis] + sum(widths[axis]) for axis in padded]
    if mode in ("reflect", "replicate") and not any(out_sizes):
        # (as PyTorch: an empty output is refused only when every padded axis is empty)
        raise ValueError(f"{mode} padding {pad} of an input of shape {x.shape} leaves nothing: "
                         f"the padded axes would have sizes {tuple(out_sizes)}")
    return PadFn.apply(x, tuple(widths), mode, 0.0)


# ---------------------------------------------------------------------------------------------
# linear
# ---------------------------------------------------------------------------------------------
def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """x Wᵀ + b, one graph node."""
    if x.ndim == 0 or x.shape[-1] != weight.shape[-1]:
        raise ValueError(f"linear: input of shape {x.shape} does not match weight of shape "
                         f"{weight.shape} (last dims must agree)")
    if bias is not None and bias.shape != (weight.shape[0],):
        raise ValueError(f"linear: bias of shape {bias.shape} for weight of shape {weight.shape}")
    return LinearFn.apply(x, weight, bias)


# ---------------------------------------------------------------------------------------------
# batch_norm
# ---------------------------------------------------------------------------------------------
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
    if training:
        count = x.data.size // channels
        if count <= 1:
            raise ValueError(f"expected more than 1 value per channel when training, "
                             f"got input of shape {x.shape}")
        # The batch statistics are computed inside BatchNormFn (they depend on x, and the
        # backward differentiates through them); it hands them back for the running update.
        batch = []
        out = BatchNormFn.apply(x, weight, bias, None, None, eps, True, stats_out=batch)
        if running_mean is not None and running_var is not None:
            mean, var = batch
            running_mean.data[...] = (1 - momentum) * running_mean.data + momentum * mean
            running_var.data[...] = ((1 - momentum) * running_var.data
                                     + momentum * var * count / (count - 1))
        return out
    if running_mean is None or running_var is None:
        raise ValueError("batch_norm in evaluation mode needs running_mean and running_var")
    mean = running_mean.data.astype(x.data.dtype, copy=False)
    var = running_var.data.astype(x.data.dtype, copy=False)
    return BatchNormFn.apply(x, weight, bias, mean, var, eps, False)


# ---------------------------------------------------------------------------------------------
# embedding
# ---------------------------------------------------------------------------------------------
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
    return EmbeddingFn.apply(weight, idx.astype(np.int64, copy=False), padding_idx)


# ---------------------------------------------------------------------------------------------
# convolution (the Functions and the shape checks are in ops/conv.py)
# ---------------------------------------------------------------------------------------------
_FLOATS = (np.float32, np.float64)


def _check_conv_tensors(fn: str, input, weight, bias) -> None:
    for name, t in (("input", input), ("weight", weight), ("bias", bias)):
        if t is None and name == "bias":
            continue
        if not isinstance(t, Tensor):
            raise TypeError(f"{fn}: {name} must be a Tensor, got {type(t).__name__}")
        if t.dtype not in _FLOATS:
            raise TypeError(f"{fn}: {name} of shape {t.shape} has dtype {t.dtype}; "
                            "convolution needs float32 or float64")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.dtype != input.dtype:
            raise TypeError(f"{fn}: input {input.shape} has dtype {input.dtype} but {name} "
                            f"{t.shape} has dtype {t.dtype}; convert one of them (.to(dtype))")


def _batched(fn: str, input: Tensor, weight: Tensor, dims: int, layout: str):
    """Check ndim; an unbatched input (no N axis, as PyTorch allows) gets a batch of one."""
    if weight.ndim != dims + 2:
        raise ValueError(f"{fn}: expected a {dims + 2}-D weight {layout}, got shape {weight.shape}")
    if input.ndim == dims + 1:
        return input.unsqueeze(0), True
    if input.ndim != dims + 2:
        raise ValueError(f"{fn}: expected a {dims + 2}-D input (N, C, {'H, W' if dims == 2 else 'L'}) "
                         f"or {dims + 1}-D unbatched, got shape {input.shape}")
    return input, False


def _bias_shape(bias):
    return None if bias is None else bias.shape


def same_padding(size, kernel_size, stride=1, dilation=1) -> list:
    """Keras's padding='same': per axis (before, after) zeros for an output of ⌈size/stride⌉:
    total = max((out − 1)·s + d·(k − 1) + 1 − size, 0), the odd zero after (bottom/right).

    >>> same_padding((7, 6), (3, 3), stride=2)     # 7 → 4 rows: 1 + 1 zeros; 6 → 3 columns: 0 + 1
    [(1, 1), (0, 1)]
    """
    pads, n = [], len(kernel_size)
    for size_, k, s, d in zip(size, kernel_size, ntuple(stride, n, "stride"), ntuple(dilation, n, "dilation")):
        if s < 1 or d < 1:
            raise ValueError(f"same_padding: stride {stride} and dilation {dilation} must be positive")
        total = max((-(-size_ // s) - 1) * s + d * (k - 1) + 1 - size_, 0)
        pads.append((total // 2, total - total // 2))
    return pads


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (cross-correlation), as torch.nn.functional.conv2d (formulas: Conv2dFn).

    input (N, C, H, W) or (C, H, W); weight (O, C/groups, KH, KW); bias (O,) or None;
    stride, padding, dilation: int or (h, w); padding may also be 'valid' or 'same'.
    Returns (N, O, OH, OW), OH = ⌊(H + 2p − d·(KH−1) − 1) / s⌋ + 1. padding='same' with a
    stride > 1 (PyTorch refuses it) follows Keras: OH = ⌈H / s⌉ (see same_padding).

    >>> import tinygrad_edu as tg
    >>> conv2d(tg.ones(2, 3, 8, 8), tg.ones(4, 3, 3, 3), stride=2, padding=1).shape
    (2, 4, 4, 4)
    >>> conv2d(tg.ones(1, 1, 7, 7), tg.ones(1, 1, 3, 3), stride=2, padding="same").shape
    (1, 1, 4, 4)
    """
    _check_conv_tensors("conv2d", input, weight, bias)
    if isinstance(padding, str) and padding == "same" and ntuple(stride, 2, "stride") != (1, 1):
        (top, bottom), (left, right) = same_padding(input.shape[-2:], weight.shape[2:], stride, dilation)
        input, padding = pad(input, (left, right, top, bottom)), 0   # any odd zero: bottom/right
    x, unbatched = _batched("conv2d", input, weight, 2, "(O, C/groups, KH, KW)")
    geo = conv.conv_geometry("conv2d", x.shape, weight.shape, _bias_shape(bias),
                             stride, padding, dilation, groups)
    out = conv.Conv2dFn.apply(x, weight, bias, geo)
    return out.squeeze(0) if unbatched else out


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution, as torch.nn.functional.conv1d: conv2d on images of height 1.

    input (N, C, L) or (C, L); weight (O, C/groups, K); bias (O,) or None → (N, O, OL).

    >>> import tinygrad_edu as tg
    >>> conv1d(tg.ones(1, 1, 5), tg.ones(1, 1, 3)).numpy()
    array([[[3., 3., 3.]]], dtype=float32)
    """
    _check_conv_tensors("conv1d", input, weight, bias)
    x, unbatched = _batched("conv1d", input, weight, 1, "(O, C/groups, K)")
    geo = conv.conv_geometry("conv1d", x.shape, weight.shape, _bias_shape(bias),
                             stride, padding, dilation, groups)
    height_one = conv.ConvGeometry((1,) + geo.stride, (0,) + geo.padding, (1,) + geo.dilation,
                                   geo.groups, (1,) + geo.out_size)
    out = conv.Conv1dFn.apply(x, weight, bias, height_one)
    return out.squeeze(0) if unbatched else out


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """Transposed 2-D convolution, as torch.nn.functional.conv_transpose2d.

    input (N, C_in, H, W) or (C_in, H, W); weight (C_in, C_out/groups, KH, KW); bias (C_out,).
    Returns (N, C_out, OH, OW), OH = (H−1)·s − 2p + d·(KH−1) + output_padding + 1.
    output_padding (< stride or < dilation) only lengthens the output at the bottom/right.

    >>> import tinygrad_edu as tg
    >>> conv_transpose2d(tg.ones(1, 1, 2, 2), tg.ones(1, 1, 2, 2), stride=2).numpy()[0, 0]
    array([[1., 1., 1., 1.],
           [1., 1., 1., 1.],
           [1., 1., 1., 1.],
           [1., 1., 1., 1.]], dtype=float32)
    """
    _check_conv_tensors("conv_transpose2d", input, weight, bias)
    x, unbatched = _batched("conv_transpose2d", input, weight, 2, "(C_in, C_out/groups, KH, KW)")
    geo = conv.conv_transpose2d_geometry(x.shape, weight.shape, _bias_shape(bias), stride,
                                         padding, output_padding, groups, dilation)
    out = conv.ConvTranspose2dFn.apply(x, weight, bias, geo)
    return out.squeeze(0) if unbatched else out


# ---------------------------------------------------------------------------------------------
# pooling and resizing (the Functions and the window checks are in ops/pool.py)
# ---------------------------------------------------------------------------------------------
def _image(input, fname: str) -> np.ndarray:
    if not isinstance(input, Tensor):
        raise TypeError(f"{fname}: input must be a Tensor, got {type(input).__name__}")
    return input.data


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """2-D max pooling over (C, H, W) or (N, C, H, W), as torch.nn.functional.max_pool2d.

    stride defaults to kernel_size. With return_indices=True also returns the argmax of each
    window as a flat index ih·W + iw into its (H, W) plane (an int64 Tensor without gradient)."""
    x = _image(input, "max_pool2d")
    pool.check_image(x, "max_pool2d")
    window = pool.pool_window(x, "max_pool2d", kernel_size, stride, padding, dilation, ceil_mode)
    if not return_indices:
        return pool.MaxPool2dFn.apply(input, window, None)
    indices: list = []
    out = pool.MaxPool2dFn.apply(input, window, indices)
    return out, Tensor(indices[0])


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """2-D average pooling over (C, H, W) or (N, C, H, W), as torch.nn.functional.avg_pool2d."""
    x = _image(input, "avg_pool2d")
    pool.check_image(x, "avg_pool2d")
    window = pool.pool_window(x, "avg_pool2d", kernel_size, stride, padding, 1, ceil_mode)
    pool.check_divisor(divisor_override)
    return pool.AvgPool2dFn.apply(input, window, bool(count_include_pad), divisor_override)


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize (N, C, L), (N, C, H, W) or (N, C, D, H, W), as torch.nn.functional.interpolate.

    Give either `size` (the output's spatial size) or `scale_factor` (OH = ⌊H·scale⌋); an int or
    a per-axis tuple. Modes: "nearest" (src = ⌊dst·in/out⌋), "nearest-exact", "bilinear" (4-D)
    and "linear" (3-D) with align_corners=False (the default: src = (dst + ½)·in/out − ½) or True
    (src = dst·(in − 1)/(out − 1), the corner pixels' centres match); others NotImplementedError.

    >>> import tinygrad_edu as tg
    >>> interpolate(tg.Tensor([[[0., 1.]]]), scale_factor=2, mode="linear").tolist()
    [[[0.0, 0.25, 0.75, 1.0]]]
    >>> interpolate(tg.Tensor([[[0., 1.]]]), size=4, mode="linear", align_corners=True).numpy().round(3)
    array([[[0.   , 0.333, 0.667, 1.   ]]], dtype=float32)
    """
    fname = "interpolate"
    x = _image(input, fname)
    linear = mode in ("linear", "bilinear")
    if mode not in ("nearest", "nearest-exact", "linear", "bilinear"):
        raise NotImplementedError(f"{fname}: mode={mode!r} is not implemented; use 'nearest', "
                                  "'nearest-exact', 'linear' (3-D) or 'bilinear' (4-D)")
    if align_corners is not None and not linear:
        raise ValueError("align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | bicubic | trilinear")
    if antialias:
        if not linear:
            raise ValueError("Anti-alias option is restricted to bilinear and bicubic modes")
        raise NotImplementedError(f"{fname}: antialias=True is not implemented")
    if x.ndim not in (3, 4, 5) or (x.ndim == 5 and linear):
        raise ValueError(f"{fname}: expected a 3-D (N, C, L), 4-D (N, C, H, W) or, for nearest modes, "
                         f"5-D (N, C, D, H, W) input, got shape {x.shape}")
    if linear and x.ndim != {"linear": 3, "bilinear": 4}[mode]:
        raise ValueError(f"{fname}: got {x.ndim}-D input of shape {x.shape}, but {mode} mode needs "
                         f"{'3-D (N, C, L)' if mode == 'linear' else '4-D (N, C, H, W)'} input")
    if x.dtype.kind != "f":
        raise TypeError(f"{fname}: input must be a floating point tensor, got dtype {x.dtype} "
                        f"(shape {x.shape})")
    spatial = x.shape[2:]
    if any(s == 0 for s in x.shape[1:]):
        raise ValueError(f"{fname}: expected non-empty channel and spatial axes, got shape {x.shape}")
    out_size, scales = pool.interpolate_sizes(spatial, size, scale_factor, recompute_scale_factor, fname)
    if linear:
        dtype = np.float64 if x.dtype == np.float64 else np.float32
        weights = [pool.linear_weights(n, o, s, bool(align_corners), dtype)
                   for n, o, s in zip(spatial, out_size, scales)]
        if x.ndim == 3:  # 1-D: resize an image of height 1
            out = pool.UpsampleBilinear2dFn.apply(input.unsqueeze(2), np.ones((1, 1), dtype), weights[0])
            return out.squeeze(2)
        return pool.UpsampleBilinear2dFn.apply(input, weights[0], weights[1])
    exact = mode == "nearest-exact"
    sources = [pool.nearest_sources(n, o, s, exact, shortcuts=x.ndim > 3)
               for n, o, s in zip(spatial, out_size, scales)]
    if x.ndim == 5:  # volumes: pick the source slices along D, then resize each slice's (H, W)
        n, c = x.shape[:2]
        slices = input[:, :, sources[0]].reshape(n, c * out_size[0], *spatial[1:])
        out = pool.UpsampleNearest2dFn.apply(slices, sources[1], sources[2])
        return out.reshape(n, c, *out_size)
    if x.ndim == 3:  # 1-D: resize an image of height 1
        out = pool.UpsampleNearest2dFn.apply(input.unsqueeze(2), np.zeros(1, dtype=np.int64), sources[0])
        return out.squeeze(2)
    return pool.UpsampleNearest2dFn.apply(input, sources[0], sources[1])


def upsample_nearest2d(input, size=None, scale_factor=None):
    """interpolate(input, size, scale_factor, mode="nearest") for a 4-D input."""
    return interpolate(input, size=size, scale_factor=scale_factor, mode="nearest")


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The inverse of max_pool2d, as torch.nn.functional.max_unpool2d: each input value goes back
    to the position `indices` names (max_pool2d's return_indices: the flat index ih·W + iw in
    its (H, W) plane), zeros elsewhere. (C, h, w) or (N, C, h, w) → (…, OH, OW), by default
    OH = (h − 1)·stride − 2·padding + kernel_size; `output_size` picks one of the sizes that
    pooled to h (e.g. an odd H).

    >>> import tinygrad_edu as tg
    >>> x = tg.Tensor([[[[1., 3.], [4., 2.]]]])
    >>> pooled, idx = max_pool2d(x, 2, return_indices=True)
    >>> max_unpool2d(pooled, idx, 2).tolist()
    [[[[0.0, 0.0], [4.0, 0.0]]]]
    """
    fname = "max_unpool2d"
    x = _image(input, fname)
    idx = np.asarray(indices.data if isinstance(indices, Tensor) else indices)
    pool.check_image(x, fname)
    if idx.dtype != np.int64:
        raise TypeError(f"{fname}: indices must be int64 (max_pool2d's return_indices), got "
                        f"dtype {idx.dtype}")
    out_size = pool.unpool_output_size(x.shape, idx.shape, kernel_size, stride, padding, output_size)
    plane = out_size[0] * out_size[1]
    if idx.size and (idx.min() < 0 or idx.max() >= plane):
        raise IndexError(f"{fname}: found an invalid max index {idx.min() if idx.min() < 0 else idx.max()} "
                         f"(output planes are of size {out_size[0]}x{out_size[1]}, input {x.shape})")
    if x.ndim == 3:
        return pool.MaxUnpool2dFn.apply(input.unsqueeze(0), idx[None], out_size).squeeze(0)
    return pool.MaxUnpool2dFn.apply(input, idx, out_size)
