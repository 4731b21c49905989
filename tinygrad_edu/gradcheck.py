"""gradcheck: compare backward's gradients with central finite differences.

For a function f of tensors x₁ … x_k and a random upstream gradient v (so that every output
element matters, not only their sum), the scalar L = Σ f(x)·v has

    analytic:  ∂L/∂x  from backward(v)
    numeric:   (L(x + ε·e_i) − L(x − ε·e_i)) / 2ε   for each element i of each input

and the two must agree: |analytic − numeric| ≤ atol + rtol·|numeric|, elementwise.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from .grad_mode import no_grad
from .tensor import Tensor, cat


class GradcheckError(AssertionError):
    """Raised by gradcheck when analytic and numeric gradients disagree."""


def _outputs(fn, inputs) -> tuple:
    out = fn(*inputs)
    outs = out if isinstance(out, (tuple, list)) else (out,)
    return tuple(o for o in outs if isinstance(o, Tensor))


def _weighted_sum(outs, vs) -> float:
    return float(sum(np.sum(o.data.astype(np.float64) * v) for o, v in zip(outs, vs)))


def numeric_grad(fn: Callable, inputs: Sequence[Tensor], vs, index: int, eps: float) -> np.ndarray:
    """Central differences of L = Σ fn(inputs)·v with respect to inputs[index]."""
    x = inputs[index].data
    grad = np.zeros(x.shape, dtype=np.float64)
    with no_grad():
        for i in np.ndindex(x.shape):
            original = x[i]
            x[i] = original + eps
            plus = _weighted_sum(_outputs(fn, inputs), vs)
            x[i] = original - eps
            minus = _weighted_sum(_outputs(fn, inputs), vs)
            x[i] = original
            grad[i] = (plus - minus) / (2 * eps)
    return grad


def gradcheck(fn: Callable, inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True, seed: int = 0) -> bool:
    """Check fn's backward against central differences, in float64.

    fn: takes the tensors of `inputs` and returns a Tensor (or a tuple of Tensors).
    inputs: a Tensor or a sequence of Tensors; those with requires_grad=True are checked and
        must be float64 (float32 differences are too coarse to tell a bug from rounding).
    Returns True, or raises GradcheckError naming, for each wrong input, the worst element
    with its analytic and numeric values (returns False instead when raise_exception=False).
    """
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    checked = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input has requires_grad=True")
    for i in checked:
        if inputs[i].dtype != np.float64:
            raise TypeError(f"gradcheck: input {i} has dtype {inputs[i].dtype}; "
                            "use float64 tensors (dtype=np.float64)")
    rng = np.random.default_rng(seed)

    saved_grads = [inputs[i].grad for i in checked]
    for i in checked:
        inputs[i].grad = None
    try:
        outs = _outputs(fn, inputs)
        vs = [rng.standard_normal(o.shape) for o in outs]
        analytic = _analytic_grads(outs, vs, [inputs[i] for i in checked])
    finally:
        for i, g in zip(checked, saved_grads):
            inputs[i].grad = g

    failures = []
    for k, i in enumerate(checked):
        numeric = numeric_grad(fn, inputs, vs, i, eps)
        error = np.abs(analytic[k] - numeric) - (atol + rtol * np.abs(numeric))
        if error.size and (np.max(error) > 0 or not np.all(np.isfinite(analytic[k]))):
            worst = np.unravel_index(np.nanargmax(np.where(np.isfinite(error), error, np.inf)),
                                     error.shape)
            failures.append(
                f"input {i} (shape {inputs[i].shape}): worst element {tuple(map(int, worst))}: "
                f"analytic {analytic[k][worst]:.8g} vs numeric {numeric[worst]:.8g} "
                f"(max abs difference {np.max(np.abs(analytic[k] - numeric)):.3g})")
    if failures:
        if raise_exception:
            raise GradcheckError("gradcheck failed:\n  " + "\n  ".join(failures))
        return False
    return True


def _analytic_grads(outs, vs, tensors) -> list:
    """∂(Σ outs·vs)/∂tensors by one backward pass through every output."""

    with_grad = [(o, v) for o, v in zip(outs, vs) if o.requires_grad]
    if with_grad:
        root = cat([o.reshape(-1) for o, _ in with_grad]) if len(with_grad) > 1 \
            else with_grad[0][0].reshape(-1)
        seed = np.concatenate([v.reshape(-1) for _, v in with_grad])
        root.backward(seed)
    return [t.grad if t.grad is not None else np.zeros(t.shape) for t in tensors]
