"""Factories: tensors made from a shape (zeros, ones, randn, arange, linspace, …), PyTorch's names.

`Tensor` inherits them from `FactoryMethods` (so `Tensor.zeros(2, 3)` and `tinygrad_edu.zeros(2,
3)` both work). Floats default to float32, as in PyTorch; the random ones draw from
tinygrad_edu's seeded generator (`manual_seed`). Every factory takes `device=` ("cpu", the only
device there is; devices.py).
"""

from __future__ import annotations

import numpy as np

from . import _state
from .devices import check_device
from .dtypes import DEFAULT_FLOAT
from .tensor_shape import _as_shape


def _float(dtype) -> np.dtype:
    return np.dtype(dtype) if dtype is not None else DEFAULT_FLOAT


class FactoryMethods:
    """Class methods that make new leaf tensors."""

    __slots__ = ()

    @classmethod
    def _factory(cls, array: np.ndarray, requires_grad: bool, device=None):
        check_device(device)  # "cpu" (or None): the only device there is
        t = cls._make(array, False)
        return t.requires_grad_(True) if requires_grad else t

    @classmethod
    def zeros(cls, *shape, dtype=None, requires_grad=False, device=None) -> Tensor:
        return cls._factory(np.zeros(_as_shape(shape), _float(dtype)), requires_grad, device)

    @classmethod
    def ones(cls, *shape, dtype=None, requires_grad=False, device=None) -> Tensor:
        return cls._factory(np.ones(_as_shape(shape), _float(dtype)), requires_grad, device)

    @classmethod
    def empty(cls, *shape, dtype=None, requires_grad=False, device=None) -> Tensor:
        """As torch.empty, but filled with zeros (uninitialised memory teaches nothing)."""
        return cls.zeros(*shape, dtype=dtype, requires_grad=requires_grad, device=device)

    @classmethod
    def full(cls, shape, fill_value, dtype=None, requires_grad=False, device=None) -> Tensor:
        shape = _as_shape((shape,)) if not isinstance(shape, (int, np.integer)) else (int(shape),)
        array = np.full(shape, fill_value, dtype=_float(dtype))
        return cls._factory(array, requires_grad, device)

    @classmethod
    def randn(cls, *shape, dtype=None, requires_grad=False, device=None) -> Tensor:
        """Standard normal samples from tinygrad_edu's seeded generator."""
        values = _state.rng().standard_normal(_as_shape(shape))
        return cls._factory(values.astype(_float(dtype)), requires_grad, device)

    @classmethod
    def rand(cls, *shape, dtype=None, requires_grad=False, device=None) -> Tensor:
        """Uniform samples in [0, 1)."""
        values = _state.rng().random(_as_shape(shape))
        return cls._factory(values.astype(_float(dtype)), requires_grad, device)

    @classmethod
    def uniform(cls, *shape, low=0.0, high=1.0, dtype=None, requires_grad=False,
                device=None) -> Tensor:
        """Uniform samples in [low, high)."""
        values = _state.rng().uniform(low, high, _as_shape(shape))
        return cls._factory(values.astype(_float(dtype)), requires_grad, device)

    @classmethod
    def randint(cls, low, high=None, size=None, dtype=None, requires_grad=False,
                device=None) -> Tensor:
        """Integers drawn uniformly from [low, high) (int64): randint(low=0, high, size)."""
        if size is None:  # torch.randint(high, size)
            low, high, size = 0, low, high
        if size is None:
            raise TypeError("randint() needs a size, e.g. randint(0, 10, (3,))")
        if high <= low:
            raise ValueError(f"randint: high ({high}) must be larger than low ({low})")
        values = _state.rng().integers(low, high, _as_shape((size,)))
        return cls._factory(values.astype(dtype or np.int64), requires_grad, device)

    @classmethod
    def randperm(cls, n: int, dtype=None, requires_grad=False, device=None) -> Tensor:
        """A random permutation of 0 … n−1 (int64)."""
        return cls._factory(_state.rng().permutation(n).astype(dtype or np.int64),
                            requires_grad, device)

    @classmethod
    def eye(cls, n: int, m: int | None = None, dtype=None, requires_grad=False,
            device=None) -> Tensor:
        return cls._factory(np.eye(n, m, dtype=_float(dtype)), requires_grad, device)

    @classmethod
    def arange(cls, start, end=None, step=1, dtype=None, requires_grad=False,
               device=None) -> Tensor:
        """As PyTorch: integers give int64, any float gives float32."""
        if end is None:
            start, end = 0, start
        if step == 0:
            raise ValueError(f"arange: step must be nonzero (start={start}, end={end})")
        if (end - start) * step < 0:
            raise ValueError(f"arange: upper bound and larger bound inconsistent with step sign "
                             f"(start={start}, end={end}, step={step})")
        is_int = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = dtype or (np.int64 if is_int else DEFAULT_FLOAT)
        return cls._factory(np.arange(start, end, step).astype(dtype), requires_grad, device)

    @classmethod
    def linspace(cls, start, end, steps: int, dtype=None, requires_grad=False,
                 device=None) -> Tensor:
        """`steps` evenly spaced values from start to end, both included (float32 default).

        Computed in float64 and then rounded, with PyTorch's symmetric formula: the first half
        counts up from start, the second half down from end (so both ends are exact)."""
        if not isinstance(steps, (int, np.integer)) or steps < 0:
            raise ValueError(f"linspace: number of steps must be a non-negative int, got {steps!r}")
        start, end = float(_scalar(start)), float(_scalar(end))
        i = np.arange(steps, dtype=np.float64)
        step = (end - start) / (steps - 1) if steps > 1 else 0.0
        half = steps // 2
        values = np.where(i < half, start + step * i, end - step * (steps - 1 - i))
        return cls._factory(values.astype(_float(dtype)), requires_grad, device)

    @classmethod
    def logspace(cls, start, end, steps: int, base: float = 10.0, dtype=None,
                 requires_grad=False, device=None) -> Tensor:
        """base ** linspace(start, end, steps)."""
        exponents = cls.linspace(start, end, steps, dtype=np.float64).data
        return cls._factory((base ** exponents).astype(_float(dtype)), requires_grad, device)

    @classmethod
    def from_numpy(cls, array: np.ndarray) -> Tensor:
        """A tensor that shares `array`'s memory (a change to one shows in the other), keeping
        its dtype, as torch.from_numpy."""
        if not isinstance(array, np.ndarray):
            raise TypeError(f"from_numpy expects a numpy array, got {type(array).__name__}")
        if array.dtype == object or array.dtype.kind in "USV":
            raise TypeError(f"from_numpy: can't convert a numpy array of dtype {array.dtype}")
        return cls._make(array, False)

    @classmethod
    def zeros_like(cls, t, dtype=None, requires_grad=False, device=None) -> Tensor:
        return cls._factory(np.zeros(t.shape, dtype=dtype or t.dtype), requires_grad, device)

    @classmethod
    def ones_like(cls, t, dtype=None, requires_grad=False, device=None) -> Tensor:
        return cls._factory(np.ones(t.shape, dtype=dtype or t.dtype), requires_grad, device)

    @classmethod
    def full_like(cls, t, fill_value, dtype=None, requires_grad=False, device=None) -> Tensor:
        array = np.full(t.shape, fill_value, dtype=dtype or t.dtype)
        return cls._factory(array, requires_grad, device)

    @classmethod
    def randn_like(cls, t, dtype=None, requires_grad=False, device=None) -> Tensor:
        return cls.randn(*t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad,
                         device=device)

    @classmethod
    def rand_like(cls, t, dtype=None, requires_grad=False, device=None) -> Tensor:
        return cls.rand(*t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad,
                        device=device)


def _scalar(x):
    """A number, or the value of a one-element tensor."""
    return x.item() if hasattr(x, "item") and not isinstance(x, (int, float)) else x
