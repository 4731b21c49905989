"""`tinygrad_edu.autograd`, as `torch.autograd`: Function, grad and backward.

`Function` is the very class every op of the library is written with (function.py). One
difference from PyTorch: forward and backward receive and return numpy arrays, not Tensors
(so `input ** 3`, `grad_output * x` work as written; call numpy functions, not Tensor methods).

>>> import tinygrad_edu as torch
>>> x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
>>> (dx,) = torch.autograd.grad((x * x).sum(), x)    # ∂Σx²/∂x = 2x, x.grad untouched
>>> dx, x.grad
(tensor([2., 4., 6.]), None)
"""

from __future__ import annotations

import numpy as np

from .engine import run_backward
from .function import Function
from .grad_mode import detect_anomaly, enable_grad, no_grad
from .tensor import Tensor

__all__ = ["Function", "grad", "backward", "no_grad", "enable_grad", "detect_anomaly"]


def _as_list(tensors, what: str) -> list:
    items = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    for t in items:
        if not isinstance(t, Tensor):
            raise TypeError(f"{what} must be Tensors, got {type(t).__name__}")
    return items


def _seeds(outputs: list, grad_outputs) -> list:
    """∂L/∂output for each output: given, or 1 for one-element outputs (as backward())."""
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    grad_outputs = [grad_outputs] if isinstance(grad_outputs, Tensor) else list(grad_outputs)
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"grad_outputs has {len(grad_outputs)} entries for {len(outputs)} outputs")
    seeds = []
    for out, g in zip(outputs, grad_outputs):
        if g is None:
            if out.data.size != 1:
                raise RuntimeError(f"grad can be implicitly created only for scalar outputs; "
                                   f"this output has shape {out.shape}: pass grad_outputs")
            seeds.append(np.ones_like(out.data))
            continue
        seed = np.asarray(g.data if isinstance(g, Tensor) else g, dtype=out.data.dtype)
        if seed.shape != out.shape:
            raise ValueError(f"grad_outputs entry of shape {seed.shape} does not match the "
                             f"output's shape {out.shape}")
        seeds.append(seed)
    return seeds


def grad(outputs, inputs, grad_outputs=None, retain_graph: bool | None = None,
         create_graph: bool = False, allow_unused: bool = False) -> tuple:
    """The gradients of `outputs` with respect to `inputs`, returned as a tuple of Tensors
    (one per input) instead of being added to `.grad` (no `.grad` anywhere is touched).

    grad_outputs: ∂L/∂output for each output (needed unless it has one element).
    retain_graph: keep the graph's saved values for another backward (default: free them).
    allow_unused: an input the outputs do not depend on gets None instead of an error.
    """
    if create_graph:
        raise NotImplementedError("create_graph=True (higher-order gradients) is not supported: "
                                  "the backward pass works on numpy arrays, outside the graph")
    outputs, inputs = _as_list(outputs, "outputs"), _as_list(inputs, "inputs")
    for out in outputs:
        if not out.requires_grad:
            raise RuntimeError("element of outputs does not require grad and does not have a "
                               "grad_fn")
    for t in inputs:
        if not t.requires_grad:
            raise RuntimeError("one of the inputs does not require grad: there is no gradient "
                               "to compute for it")
    captured = {id(t): None for t in inputs}
    seeds = _seeds(outputs, grad_outputs)
    for i, (out, seed) in enumerate(zip(outputs, seeds)):
        keep = bool(retain_graph) or i < len(outputs) - 1  # later outputs may share the graph
        run_backward(out, seed, keep, capture=captured)
    result = []
    for position, t in enumerate(inputs):
        g = captured[id(t)]
        if g is None and not allow_unused:
            raise RuntimeError(f"one of the inputs (position {position}, shape {t.shape}) was "
                               "not used to compute the outputs; pass allow_unused=True to get "
                               "None for it")
        result.append(None if g is None else Tensor._make(np.array(g, dtype=t.data.dtype), False))
    return tuple(result)


def backward(tensors, grad_tensors=None, retain_graph: bool | None = None) -> None:
    """`t.backward(g)` for every tensor (gradients accumulate into the leaves' `.grad`)."""
    tensors = _as_list(tensors, "tensors")
    seeds = _seeds(tensors, grad_tensors)
    for i, (t, seed) in enumerate(zip(tensors, seeds)):
        keep = bool(retain_graph) or i < len(tensors) - 1
        t.backward(Tensor._make(seed, False), retain_graph=keep)

