"""Optimizers (SGD, Adam, AdamW, RMSprop, Adagrad), with PyTorch's update equations.

An optimizer holds parameter groups (lists of parameters with their own lr etc.), reads each
parameter's `.grad` in `step()` and updates `.data` in place. Parameters with
requires_grad=False (frozen) or without a gradient are skipped.

>>> import numpy as np
>>> from tinygrad_edu import Tensor
>>> w = Tensor(np.array([1.0, -2.0]), requires_grad=True)
>>> opt = SGD([w], lr=0.1)
>>> (w * w).sum().backward()        # ∂/∂w = 2w
>>> opt.step()
>>> w.data                          # w − 0.1 · 2w
array([ 0.8, -1.6])
"""

from __future__ import annotations

import math
from typing import Iterable

import numpy as np

from ..tensor import Tensor


def _check(name: str, value, ok: bool) -> None:
    """Raise PyTorch's "Invalid <name>: <value>" unless ok. Callers write the test as
    `0.0 <= value` (not `value < 0`): every comparison with NaN is False, so NaN fails it."""
    if not ok:
        raise ValueError(f"Invalid {name}: {value}")


class Optimizer:
    """Base class: parameter groups, per-parameter state, zero_grad, state_dict."""

    def __init__(self, params: Iterable, defaults: dict):
        self.defaults = defaults
        self.state: dict = {}  # id(param) → that parameter's buffers
        self.param_groups: list = []
        params = list(params)
        if not params:
            raise ValueError("optimizer got an empty parameter list")
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, group: dict) -> None:
        group = dict(group)
        params = group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, got {type(p).__name__}")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        group["params"] = params
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        self.param_groups.append(group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients (None by default, as PyTorch ≥ 2.0; or fill with zeros)."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    p.grad[...] = 0

    def _params_with_grad(self, group):
        for p in group["params"]:
            if p.requires_grad and p.grad is not None:
                yield p

    def step(self) -> None:
        raise NotImplementedError

    def state_dict(self) -> dict:
        """{'state': {index: {name: array}}, 'param_groups': [{options, 'params': [indices]}]}
        with parameters numbered in group order, as PyTorch."""
        index, groups = {}, []
        for group in self.param_groups:
            numbers = []
            for p in group["params"]:
                index.setdefault(id(p), len(index))
                numbers.append(index[id(p)])
            groups.append({**{k: v for k, v in group.items() if k != "params"}, "params": numbers})
        state = {index[key]: {k: (v.copy() if isinstance(v, np.ndarray) else v)
                              for k, v in s.items()}
                 for key, s in self.state.items() if key in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups) or any(
                len(a["params"]) != len(b["params"]) for a, b in zip(groups, self.param_groups)):
            raise ValueError("loaded state dict has a different number of parameter groups "
                             "or parameters than this optimizer")
        params = [p for g in self.param_groups for p in g["params"]]
        for group, saved in zip(self.param_groups, groups):
            group.update({k: v for k, v in saved.items() if k != "params"})
        self.state = {id(params[i]): {k: (np.array(v) if isinstance(v, np.ndarray) else v)
                                      for k, v in s.items()}
                      for i, s in state_dict["state"].items()}

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params"]
        return "\n".join(lines + [")"])


class SGD(Optimizer):
    """Stochastic gradient descent, PyTorch's equations (g = ∂L/∂p):

        g ← g + weight_decay · p
        momentum:  b ← g (first step), then b ← momentum · b + (1 − dampening) · g
                   g ← g + momentum · b  (nesterov)   or   g ← b
        p ← p − lr · g          (p + lr · g with maximize=True)
    """

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False, maximize: bool = False):
        # PyTorch's checks and messages; unlike torch.optim.SGD, NaN is refused too
        _check("learning rate", lr, 0.0 <= lr)
        _check("momentum value", momentum, 0.0 <= momentum)
        _check("dampening value", dampening, not math.isnan(dampening))
        _check("weight_decay value", weight_decay, 0.0 <= weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening "
                             f"(got momentum={momentum}, dampening={dampening})")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize))

    def step(self) -> None:
        for group in self.param_groups:
            lr, momentum, wd = group["lr"], group["momentum"], group["weight_decay"]
            for p in self._params_with_grad(group):
                g = -p.grad if group["maximize"] else p.grad
                if wd:
                    g = g + wd * p.data
                if momentum:
                    state = self.state.setdefault(id(p), {})
                    buf = state.get("momentum_buffer")
                    if buf is None:
                        buf = state["momentum_buffer"] = np.array(g, copy=True)
                    else:
                        buf *= momentum
                        buf += (1 - group["dampening"]) * g
                    g = g + momentum * buf if group["nesterov"] else buf
                p.data -= lr * g


class Adam(Optimizer):
    """Adam (Kingma & Ba) with bias correction, PyTorch's equations, t = step number:

        g ← g + weight_decay · p          (L2 penalty; AdamW decays p directly instead)
        m ← β₁·m + (1 − β₁)·g            v ← β₂·v + (1 − β₂)·g²
        v̂ = max(v̂, v) with amsgrad, else v̂ = v
        p ← p − lr/(1 − β₁ᵗ) · m / (√v̂ / √(1 − β₂ᵗ) + ε)
    """

    decoupled = False

    def __init__(self, params, lr: float = 1e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False, maximize: bool = False):
        _check("learning rate", lr, 0.0 <= lr)
        _check("epsilon value", eps, 0.0 <= eps)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
        for i, beta in enumerate(betas):
            _check(f"beta parameter at index {i}", beta, 0.0 <= beta < 1.0)
        _check("weight_decay value", weight_decay, 0.0 <= weight_decay)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize))

    def step(self) -> None:
        for group in self.param_groups:
            lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
            wd = group["weight_decay"]
            for p in self._params_with_grad(group):
                g = -p.grad if group["maximize"] else p.grad
                if wd and self.decoupled:
                    p.data *= 1 - lr * wd
                elif wd:
                    g = g + wd * p.data
                state = self.state.setdefault(id(p), {})
                if not state:
                    state["step"] = 0
                    state["exp_avg"] = np.zeros_like(p.data)
                    state["exp_avg_sq"] = np.zeros_like(p.data)
                    if group["amsgrad"]:
                        state["max_exp_avg_sq"] = np.zeros_like(p.data)
                state["step"] += 1
                m, v = state["exp_avg"], state["exp_avg_sq"]
                m *= beta1
                m += (1 - beta1) * g
                v *= beta2
                v += (1 - beta2) * g * g
                if group["amsgrad"]:
                    np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
                    v = state["max_exp_avg_sq"]
                t = state["step"]
                step_size = lr / (1 - beta1 ** t)
                denom = np.sqrt(v) / math.sqrt(1 - beta2 ** t) + eps
                p.data -= step_size * (m / denom)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): first p ← p · (1 − lr·weight_decay),
    then the Adam step without any decay term in the gradient. Default weight_decay 0.01."""

    decoupled = True

    def __init__(self, params, lr: float = 1e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, maximize: bool = False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize)


class RMSprop(Optimizer):
    """RMSprop (Hinton), PyTorch's equations: divide g by a running root mean square of g.

        g ← g + weight_decay · p
        v ← α·v + (1 − α)·g²                      (square_avg)
        centered:  ḡ ← α·ḡ + (1 − α)·g,  v̂ = v − ḡ²  (a running variance), else v̂ = v
        momentum:  b ← momentum·b + g / (√v̂ + ε),  p ← p − lr·b
        else:      p ← p − lr · g / (√v̂ + ε)
    """

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False,
                 maximize: bool = False):
        _check("learning rate", lr, 0.0 <= lr)
        _check("epsilon value", eps, 0.0 <= eps)
        _check("momentum value", momentum, 0.0 <= momentum)
        _check("weight_decay value", weight_decay, 0.0 <= weight_decay)
        _check("alpha value", alpha, 0.0 <= alpha)
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered, maximize=maximize))

    def step(self) -> None:
        for group in self.param_groups:
            lr, alpha, eps = group["lr"], group["alpha"], group["eps"]
            momentum, wd = group["momentum"], group["weight_decay"]
            for p in self._params_with_grad(group):
                g = -p.grad if group["maximize"] else p.grad
                if wd:
                    g = g + wd * p.data
                state = self.state.setdefault(id(p), {})
                if not state:
                    state["step"] = 0
                    state["square_avg"] = np.zeros_like(p.data)
                    if momentum > 0:
                        state["momentum_buffer"] = np.zeros_like(p.data)
                    if group["centered"]:
                        state["grad_avg"] = np.zeros_like(p.data)
                state["step"] += 1
                v = state["square_avg"]
                v *= alpha
                v += (1 - alpha) * g * g
                if group["centered"]:
                    mean = state["grad_avg"]
                    mean += (1 - alpha) * (g - mean)
                    avg = np.sqrt(v - mean * mean) + eps
                else:
                    avg = np.sqrt(v) + eps
                if momentum > 0:
                    buf = state["momentum_buffer"]
                    buf *= momentum
                    buf += g / avg
                    p.data -= lr * buf
                else:
                    p.data -= lr * (g / avg)


class Adagrad(Optimizer):
    """Adagrad (Duchi et al.), PyTorch's equations, t = step number: each coordinate's step
    shrinks with the sum of its squared gradients so far.

        g ← g + weight_decay · p
        lr_t = lr / (1 + (t − 1) · lr_decay)
        s ← s + g²                               (state_sum, starts at initial_accumulator_value)
        p ← p − lr_t · g / (√s + ε)
    """

    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0.0, weight_decay: float = 0.0,
                 initial_accumulator_value: float = 0.0, eps: float = 1e-10,
                 maximize: bool = False):
        _check("learning rate", lr, 0.0 <= lr)
        _check("lr_decay value", lr_decay, 0.0 <= lr_decay)
        _check("weight_decay value", weight_decay, 0.0 <= weight_decay)
        _check("initial_accumulator_value value", initial_accumulator_value,
               0.0 <= initial_accumulator_value)
        _check("epsilon value", eps, 0.0 <= eps)
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      eps=eps, maximize=maximize))
        for group in self.param_groups:  # as PyTorch, the state exists from the start
            for p in group["params"]:
                self.state[id(p)] = {"step": 0, "sum": np.full_like(
                    p.data, group["initial_accumulator_value"])}

    def step(self) -> None:
        for group in self.param_groups:
            wd = group["weight_decay"]
            for p in self._params_with_grad(group):
                g = -p.grad if group["maximize"] else p.grad
                state = self.state.setdefault(id(p), {"step": 0, "sum": np.full_like(
                    p.data, group["initial_accumulator_value"])})  # (added to a group later)
                state["step"] += 1
                if wd:
                    g = g + wd * p.data
                lr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
                state["sum"] += g * g
                p.data -= lr * (g / (np.sqrt(state["sum"]) + group["eps"]))
