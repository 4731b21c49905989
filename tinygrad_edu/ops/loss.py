"""Loss Functions: negative log likelihood, cross-entropy, binary cross-entropy (of
probabilities and of logits), each forward and backward side by side.

The Tensor-level functions (nll_loss, cross_entropy, …) and the Module wrappers are in
nn/loss.py. Every loss is exact and finite even for logits of ±1000: cross-entropy goes through
log_softmax (the log-sum-exp trick), the logit form of binary cross-entropy through
softplus(z) = max(z, 0) + log(1 + e^{−|z|}), which never overflows.
"""

from __future__ import annotations

import numpy as np

from ..function import Function


def _pick(logp: np.ndarray, t: np.ndarray) -> np.ndarray:
    """logp[n, t[n, …], …] for every n, … (the class axis is axis 1)."""
    if logp.ndim == 2:  # the common (N, C) case: plain fancy indexing is fastest
        return logp[np.arange(len(t)), t]
    return np.take_along_axis(logp, t[:, None], axis=1)[:, 0]


def _place(shape: tuple, t: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Zeros of `shape` with values[n, …] written at class t[n, …]: the inverse of _pick."""
    out = np.zeros(shape, dtype=values.dtype)
    if len(shape) == 2:
        out[np.arange(len(t)), t] = values
    else:
        np.put_along_axis(out, t[:, None], values[:, None], axis=1)
    return out


def _nll_forward(ctx, logp, target, class_weight, ignore_index, reduction):
    """The NLL loss of log-probabilities; saves what _nll_backward needs (shared by both Fns)."""
    keep = target != ignore_index
    safe_target = np.where(keep, target, 0)  # any valid class; masked out by w below
    w = class_weight[safe_target] * keep  # (N, …): each target's weight, 0 if ignored
    loss = -w * _pick(logp, safe_target)
    total_weight = w.sum()
    ctx.shape, ctx.reduction = logp.shape, reduction
    if reduction == "none":
        return loss, (safe_target, w, total_weight)
    if reduction == "sum":
        return loss.sum(), (safe_target, w, total_weight)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = loss.sum() / total_weight  # nan when every target is ignored, as PyTorch
    return mean, (safe_target, w, total_weight)


def _nll_backward(ctx, g, safe_target, w, total_weight):
    """∂L/∂logp: −w[t_n]·g_n at class t_n, 0 elsewhere (g_n divided by Σ w for the mean)."""
    if ctx.reduction == "mean":  # (every target ignored: no gradient, as PyTorch)
        g = g / total_weight if total_weight != 0 else np.zeros_like(g)
    return _place(ctx.shape, safe_target, -w * g)


class NLLFn(Function):
    """loss_n = −w[t_n] · logp[n, t_n]   (0 where t_n == ignore_index).

    logp: (N, C, …), target t: (N, …). mean: Σ loss / Σ_n w[t_n] over the kept targets.
    ∂L/∂logp[n, c] = −w[t_n] · g_n  if c == t_n, else 0   (g_n divided by Σ w for mean).
    """

    rule = "∂L/∂logp[n, c] = −w[t_n]·g_n where c = t_n, else 0   (÷ Σ_n w[t_n] for the mean)"

    @staticmethod
    def forward(ctx, logp, target, class_weight, ignore_index, reduction):
        loss, saved = _nll_forward(ctx, logp, target, class_weight, ignore_index, reduction)
        ctx.save_for_backward(*saved)
        return loss

    @staticmethod
    def backward(ctx, g):
        return _nll_backward(ctx, g, *ctx.saved_tensors), None, None, None, None


class CrossEntropyFn(Function):
    """loss_n = −w[t_n] · log softmax(z_n)[t_n]   for logits z: (N, C, …), targets t: (N, …).

    log_softmax then NLL in one node. The backward is the famous
        ∂loss_n/∂z_n = w[t_n] · (softmax(z_n) − one_hot(t_n))
    obtained here as NLL's backward followed by log_softmax's (g − softmax · Σ_c g). With the
    mean reduction every loss_n is divided by N (by Σ_n w[t_n] with class weights).
    """

    rule = ("∂L/∂z_n = g·(softmax(z_n) − onehot(t_n)) / N: the mean's 1/N reaches every row "
            "(with class weights w: g·w[t_n]·(softmax(z_n) − onehot(t_n)) / Σ_n w[t_n])")

    @staticmethod
    def forward(ctx, z, target, class_weight, ignore_index, reduction):
        shifted = z - z.max(axis=1, keepdims=True)  # log-sum-exp trick: exact for ±1000
        logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        loss, saved = _nll_forward(ctx, logp, target, class_weight, ignore_index, reduction)
        ctx.save_for_backward(logp, *saved)
        return loss

    @staticmethod
    def backward(ctx, g):
        logp, *saved = ctx.saved_tensors
        grad_logp = _nll_backward(ctx, g, *saved)
        softmax = np.exp(logp)
        return grad_logp - softmax * grad_logp.sum(axis=1, keepdims=True), None, None, None, None


class BinaryCrossEntropyFn(Function):
    """loss = −w · (t·log p + (1 − t)·log(1 − p)), each log clamped at −100 as PyTorch.

    ∂loss/∂p = w · (p − t) / (p·(1 − p))   (the denominator kept ≥ 1e-12).
    ∂loss/∂t = w · (log(1 − p) − log p).
    """

    rule = "∂loss/∂p = w·(p − t) / (p·(1 − p)),  ∂loss/∂t = w·(log(1 − p) − log p)"

    @staticmethod
    def forward(ctx, p, t, w):
        with np.errstate(divide="ignore"):  # log 0 = −inf, clamped to −100 next
            log_p = np.maximum(np.log(p), -100)
            log_1mp = np.maximum(np.log1p(-p), -100)
        ctx.save_for_backward(p, t, w)
        return -w * (t * log_p + (1 - t) * log_1mp)

    @staticmethod
    def backward(ctx, g):
        p, t, w = ctx.saved_tensors
        grad_p = g * w * (p - t) / np.maximum(p * (1 - p), 1e-12)
        with np.errstate(divide="ignore"):
            grad_t = g * w * (np.maximum(np.log1p(-p), -100) - np.maximum(np.log(p), -100))
        return grad_p, (grad_t if ctx.needs_input_grad[1] else None), None


class BCEWithLogitsFn(Function):
    """loss = w · ((1 − t)·z + (1 + (q − 1)·t) · softplus(−z))   (q = pos_weight, default 1),
    the same as −w·(q·t·log σ(z) + (1 − t)·log(1 − σ(z))), written to never overflow.

    ∂loss/∂z = w · ((1 − t) − (1 + (q − 1)·t) · σ(−z))   which is w·(σ(z) − t) when q = 1.
    ∂loss/∂t = w · (−z + (q − 1) · softplus(−z)).
    """

    rule = ("∂loss/∂z = w·((1 − t) − (1 + (q − 1)·t)·σ(−z))  (= w·(σ(z) − t) when q = 1),  "
            "∂loss/∂t = w·(−z + (q − 1)·softplus(−z))")

    @staticmethod
    def forward(ctx, z, t, w, q):
        softplus_neg = np.maximum(-z, 0) + np.log1p(np.exp(-np.abs(z)))  # log(1 + e^{−z})
        scale = 1 + (q - 1) * t
        ctx.save_for_backward(z, t, w, q, softplus_neg)
        return w * ((1 - t) * z + scale * softplus_neg)

    @staticmethod
    def backward(ctx, g):
        z, t, w, q, softplus_neg = ctx.saved_tensors
        sig_neg = 0.5 * (1 - np.tanh(0.5 * z))  # σ(−z) = (1 − tanh(z/2)) / 2, stable
        grad_z = g * w * ((1 - t) - (1 + (q - 1) * t) * sig_neg)
        grad_t = g * w * (-z + (q - 1) * softplus_neg) if ctx.needs_input_grad[1] else None
        return grad_z, grad_t, None, None
