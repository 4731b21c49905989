"""Activation modules: ReLU and its family (LeakyReLU, PReLU, RReLU, ELU), Sigmoid, Tanh,
Softmax, LogSoftmax; and the functional forms of PReLU and RReLU.

Deck 1's ReLU family, negative side only (x > 0 always gives x):

    ReLU        0                          LeakyReLU   0.01·x (a fixed slope)
    PReLU       a_c·x, a_c learnt          RReLU       a·x, a ~ U(1/8, 1/3) while training
    ELU         α·(eˣ − 1)

>>> import tinygrad_edu as tg
>>> act = PReLU()                        # one slope, 0.25 at the start, as PyTorch
>>> act(tg.Tensor([-2.0, 3.0])).tolist()
[-0.5, 3.0]
>>> RReLU().eval()(tg.Tensor([-24.0])).tolist()     # eval: the mean slope (1/8 + 1/3)/2
[-5.5]
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import _state
from ..ops.prelu import PReLUFn, RReLUFn
from ..tensor import Tensor
from . import functional as F
from .module import Module, Parameter


def prelu(x: Tensor, weight: Tensor) -> Tensor:
    """x where x > 0, weight_c·x elsewhere (torch.nn.functional.prelu; formulas: PReLUFn).
    weight: (C,) slopes for the C channels on axis 1 of x, or a single slope (1,)."""
    channels = x.shape[1] if x.ndim >= 2 else 1
    if weight.ndim > 1:
        raise ValueError(f"prelu: weight must be 0-D or 1-D, got shape {weight.shape}")
    if weight.numel() not in (1, channels):
        raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found "
                           f"parameter numbers = {weight.numel()} and channel size = {channels} "
                           f"(input shape {x.shape}; the channels are axis 1)")
    return PReLUFn.apply(x, weight)


def rrelu(x: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3,
          training: bool = False) -> Tensor:
    """Randomised leaky ReLU (torch.nn.functional.rrelu; formulas: RReLUFn). Training: each
    element gets its own slope a ~ U(lower, upper) from tinygrad_edu's seeded generator;
    otherwise the fixed slope (lower + upper)/2."""
    if training:
        slopes = _state.rng().uniform(lower, upper, x.shape).astype(x.dtype)
    else:
        slopes = np.asarray((lower + upper) / 2, dtype=x.dtype)
    return RReLUFn.apply(x, slopes)


class ReLU(Module):
    def forward(self, x):
        return F.relu(x)


class LeakyReLU(Module):
    def __init__(self, negative_slope: float = 0.01):
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class PReLU(Module):
    """The parametric ReLU: a learnt slope for the negative side, one per channel
    (num_parameters = C) or one for all (num_parameters = 1), starting at `init` (0.25).
    weight: (num_parameters,)."""

    def __init__(self, num_parameters: int = 1, init: float = 0.25):
        super().__init__()
        if not isinstance(num_parameters, int) or num_parameters < 1:
            raise ValueError(f"num_parameters must be a positive int, got {num_parameters!r}")
        self.num_parameters, self.init = num_parameters, init
        self.weight = Parameter(np.full(num_parameters, init, dtype=np.float32))

    def forward(self, x):
        return prelu(x, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class RReLU(Module):
    """The randomised leaky ReLU: slope a ~ U(lower, upper) per element while training, the
    mean slope (lower + upper)/2 in eval mode. No parameters."""

    def __init__(self, lower: float = 1.0 / 8, upper: float = 1.0 / 3):
        super().__init__()
        self.lower, self.upper = lower, upper

    def forward(self, x):
        return rrelu(x, self.lower, self.upper, self.training)

    def extra_repr(self) -> str:
        return f"lower={self.lower}, upper={self.upper}"


class ELU(Module):
    def __init__(self, alpha: float = 1.0):
        super().__init__()
        self.alpha = alpha

    def forward(self, x):
        return F.elu(x, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class Sigmoid(Module):
    def forward(self, x):
        return F.sigmoid(x)


class Tanh(Module):
    def forward(self, x):
        return F.tanh(x)


def _softmax_dim(dim, ndim: int, name: str) -> int:
    if dim is not None:
        return dim
    warnings.warn(f"implicit dimension choice for {name} has been deprecated; pass dim=",
                  stacklevel=3)
    return 0 if ndim in (0, 1, 3) else 1  # PyTorch's legacy rule


class Softmax(Module):
    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return F.softmax(x, _softmax_dim(self.dim, x.ndim, "softmax"))

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    def forward(self, x):
        return F.log_softmax(x, _softmax_dim(self.dim, x.ndim, "log_softmax"))
