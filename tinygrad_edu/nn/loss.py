"""Losses: functional forms (also in nn.functional) and the Module wrappers.

The Functions (forward, backward and formula of each) are in ops/loss.py. Every loss is exact and finite even for logits of ±1000: cross_entropy goes through
log_softmax (the log-sum-exp trick) and the logit form of binary cross-entropy through
softplus(z) = max(z, 0) + log(1 + e^{−|z|}), which never overflows.

>>> import numpy as np
>>> from tinygrad_edu import Tensor
>>> logits = Tensor([[1000.0, -1000.0], [0.0, 0.0]])
>>> round(cross_entropy(logits, Tensor(np.array([1, 0]))).item(), 3)   # (2000 + log 2) / 2
1000.347
"""

from __future__ import annotations

import warnings

import numpy as np

from ..ops.loss import BCEWithLogitsFn, BinaryCrossEntropyFn, CrossEntropyFn, NLLFn
from ..tensor import Tensor, where
from .module import Module

_REDUCTIONS = ("none", "mean", "sum")


def _check_reduction(reduction: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"reduction {reduction!r} is not one of {_REDUCTIONS}")


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    _check_reduction(reduction)
    if reduction == "mean":
        return loss.mean()
    return loss.sum() if reduction == "sum" else loss


def _target_array(target) -> np.ndarray:
    return np.asarray(target.data if isinstance(target, Tensor) else target)


def _as_tensor(t, like: Tensor) -> Tensor:
    return t if isinstance(t, Tensor) else Tensor(np.asarray(t, dtype=like.dtype))


# ---------------------------------------------------------------------------------------------
# nll_loss and cross_entropy
# ---------------------------------------------------------------------------------------------
def _check_class_target(input: Tensor, target: np.ndarray, ignore_index: int, name: str):
    if input.ndim not in (1,) and target.shape != (input.shape[0],) + input.shape[2:]:
        raise ValueError(f"{name}: target of shape {target.shape} does not match input of shape "
                         f"{input.shape} (expected {(input.shape[0],) + input.shape[2:]})")
    if target.dtype.kind not in "iu":
        raise TypeError(f"{name}: class-index targets must be integers, got dtype {target.dtype} "
                        "(for probabilities give a float target of the input's shape)")
    classes = input.shape[1] if input.ndim > 1 else input.shape[0]
    if target.size == 0 or (0 <= target.min() and target.max() < classes):
        return  # the common case, checked without building the mask below
    valid = target[target != ignore_index]
    if valid.size and (valid.min() < 0 or valid.max() >= classes):
        raise IndexError(f"{name}: target values must be in [0, {classes - 1}] "
                         f"(or ignore_index={ignore_index}), got range "
                         f"[{valid.min()}, {valid.max()}]")


def _class_weight(weight, classes: int, dtype) -> np.ndarray:
    if weight is None:
        return np.ones(classes, dtype=dtype)
    w = _target_array(weight).astype(dtype, copy=False)
    if w.shape != (classes,):
        raise ValueError(f"class weight of shape {w.shape} for {classes} classes")
    return w


def nll_loss(input: Tensor, target, weight=None, ignore_index: int = -100,
             reduction: str = "mean") -> Tensor:
    """Negative log likelihood of log-probabilities `input` (N, C, …) at class indices."""
    _check_reduction(reduction)
    t = _target_array(target)
    if input.ndim == 1:  # a single sample (C,) with a scalar target: a batch of one
        out = nll_loss(input.unsqueeze(0), t.reshape(1), weight, ignore_index, reduction)
        return out.reshape(()) if reduction == "none" else out
    _check_class_target(input, t, ignore_index, "nll_loss")
    w = _class_weight(weight, input.shape[1], input.dtype)
    return NLLFn.apply(input, t.astype(np.int64, copy=False), w, ignore_index, reduction)


def cross_entropy(input: Tensor, target, weight=None, ignore_index: int = -100,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Cross-entropy of logits `input` (N, C, …) or (C,) against class indices (N, …) or
    class probabilities (same shape as input), as torch.nn.functional.cross_entropy:
    log_softmax over axis 1 followed by nll_loss (fused into one node for class indices).
    With label_smoothing ε the target is (1 − ε)·one_hot + ε/C."""
    _check_reduction(reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"label_smoothing must be in [0, 1], got {label_smoothing}")
    class_dim = 0 if input.ndim == 1 else 1
    classes = input.shape[class_dim]
    t = _target_array(target)
    if t.dtype.kind in "iu" and input.ndim > 1 and label_smoothing == 0.0:  # the common case
        _check_class_target(input, t, ignore_index, "cross_entropy")
        w = _class_weight(weight, classes, input.dtype)
        return CrossEntropyFn.apply(input, t.astype(np.int64, copy=False), w, ignore_index,
                                  reduction)
    logp = input.log_softmax(class_dim)
    wshape = (classes,) + (1,) * (input.ndim - class_dim - 1)  # broadcasts over axis 1
    if t.dtype.kind == "f":  # class probabilities
        if t.shape != input.shape:
            raise ValueError(f"cross_entropy: probability target of shape {t.shape} must match "
                             f"input of shape {input.shape}")
        if label_smoothing > 0:
            t = t * (1 - label_smoothing) + label_smoothing / classes
        t = t.astype(input.dtype, copy=False)
        if weight is not None:
            t = t * _class_weight(weight, classes, input.dtype).reshape(wshape)
        loss = -(logp * t).sum(class_dim)
        if reduction == "mean":
            return loss.sum() / (input.numel() // classes)
        return _reduce(loss, reduction)
    nll = nll_loss(logp, t, weight, ignore_index, reduction)
    if label_smoothing == 0.0:
        return nll
    # PyTorch: (1 − ε)·nll + ε/C · Σ_c −w_c·logp_c, ignored targets left out.
    keep = t != ignore_index
    w = _class_weight(weight, classes, input.dtype)
    smooth = -(logp * w.reshape(wshape)).sum(class_dim) * keep.astype(input.dtype)
    if reduction == "mean":
        denom = w[np.where(keep, t, 0)][keep].sum() if weight is not None else keep.sum()
        smooth = smooth.sum() / float(denom)
    else:
        smooth = _reduce(smooth, reduction)
    return nll * (1 - label_smoothing) + smooth * (label_smoothing / classes)


# ---------------------------------------------------------------------------------------------
# regression losses
# ---------------------------------------------------------------------------------------------
def _broadcast_pair(input: Tensor, target, name: str):
    target = _as_tensor(target, input)
    if target.shape != input.shape:
        warnings.warn(f"{name}: target size {target.shape} differs from input size "
                      f"{input.shape}; they will be broadcast, which is likely a mistake",
                      stacklevel=3)
        try:
            np.broadcast_shapes(input.shape, target.shape)
        except ValueError:
            raise ValueError(f"{name}: input of shape {input.shape} and target of shape "
                             f"{target.shape} cannot be broadcast together") from None
    return target


def mse_loss(input: Tensor, target, reduction: str = "mean") -> Tensor:
    """(input − target)², averaged (mean), summed (sum) or per element (none)."""
    diff = input - _broadcast_pair(input, target, "mse_loss")
    return _reduce(diff * diff, reduction)


def l1_loss(input: Tensor, target, reduction: str = "mean") -> Tensor:
    """|input − target|."""
    return _reduce((input - _broadcast_pair(input, target, "l1_loss")).abs(), reduction)


def smooth_l1_loss(input: Tensor, target, reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """0.5·d²/β where |d| < β, else |d| − 0.5·β  (d = input − target)."""
    d = (input - _broadcast_pair(input, target, "smooth_l1_loss")).abs()
    if beta == 0:
        return _reduce(d, reduction)
    return _reduce(where(d.data < beta, d * d * (0.5 / beta), d - 0.5 * beta), reduction)


# ---------------------------------------------------------------------------------------------
# binary cross-entropy
# ---------------------------------------------------------------------------------------------
def binary_cross_entropy(input: Tensor, target, weight=None, reduction: str = "mean") -> Tensor:
    """BCE of probabilities `input` in [0, 1]. Prefer binary_cross_entropy_with_logits:
    it takes logits and is exact where p rounds to 0 or 1."""
    _check_reduction(reduction)
    target = _as_tensor(target, input)
    if target.shape != input.shape:
        raise ValueError(f"binary_cross_entropy: target of shape {target.shape} must match "
                         f"input of shape {input.shape}")
    p = input.data
    if p.size and (np.isnan(p).any() or p.min() < 0 or p.max() > 1):
        raise ValueError("binary_cross_entropy: all elements of input should be between 0 and 1 "
                         "(give probabilities, or use binary_cross_entropy_with_logits)")
    w = np.ones((), dtype=input.dtype) if weight is None else _target_array(weight).astype(input.dtype)
    return _reduce(BinaryCrossEntropyFn.apply(input, target, w), reduction)


def binary_cross_entropy_with_logits(input: Tensor, target, weight=None, reduction: str = "mean",
                                     pos_weight=None) -> Tensor:
    """BCE of σ(input) against target in [0, 1], computed from the logits (exact for ±1000)."""
    _check_reduction(reduction)
    target = _as_tensor(target, input)
    if target.shape != input.shape:
        raise ValueError(f"binary_cross_entropy_with_logits: target of shape {target.shape} "
                         f"must match input of shape {input.shape}")
    dtype = input.dtype
    w = np.ones((), dtype=dtype) if weight is None else _target_array(weight).astype(dtype)
    q = np.ones((), dtype=dtype) if pos_weight is None else _target_array(pos_weight).astype(dtype)
    return _reduce(BCEWithLogitsFn.apply(input, target, w, q), reduction)


# ---------------------------------------------------------------------------------------------
# Module wrappers
# ---------------------------------------------------------------------------------------------
class _Loss(Module):
    def __init__(self, reduction: str = "mean"):
        super().__init__()
        _check_reduction(reduction)
        self.reduction = reduction

    def extra_repr(self) -> str:
        return "" if self.reduction == "mean" else f"reduction={self.reduction!r}"


class CrossEntropyLoss(_Loss):
    """Module form of cross_entropy (logits and class indices)."""

    def __init__(self, weight=None, ignore_index: int = -100, reduction: str = "mean",
                 label_smoothing: float = 0.0):
        super().__init__(reduction)
        self.weight, self.ignore_index, self.label_smoothing = weight, ignore_index, label_smoothing

    def forward(self, input, target):
        return cross_entropy(input, target, self.weight, self.ignore_index, self.reduction,
                             self.label_smoothing)


class NLLLoss(_Loss):
    """Module form of nll_loss (log-probabilities and class indices)."""

    def __init__(self, weight=None, ignore_index: int = -100, reduction: str = "mean"):
        super().__init__(reduction)
        self.weight, self.ignore_index = weight, ignore_index

    def forward(self, input, target):
        return nll_loss(input, target, self.weight, self.ignore_index, self.reduction)



class MSELoss(_Loss):
    def forward(self, input, target):
        return mse_loss(input, target, self.reduction)


class L1Loss(_Loss):
    def forward(self, input, target):
        return l1_loss(input, target, self.reduction)


class SmoothL1Loss(_Loss):
    def __init__(self, reduction: str = "mean", beta: float = 1.0):
        super().__init__(reduction)
        self.beta = beta

    def forward(self, input, target):
        return smooth_l1_loss(input, target, self.reduction, self.beta)


class BCELoss(_Loss):
    def __init__(self, weight=None, reduction: str = "mean"):
        super().__init__(reduction)
        self.weight = weight

    def forward(self, input, target):
        return binary_cross_entropy(input, target, self.weight, self.reduction)


class BCEWithLogitsLoss(_Loss):
    def __init__(self, weight=None, reduction: str = "mean", pos_weight=None):
        super().__init__(reduction)
        self.weight, self.pos_weight = weight, pos_weight

    def forward(self, input, target):
        return binary_cross_entropy_with_logits(input, target, self.weight, self.reduction,
                                                self.pos_weight)
