"""Factories: tensors made from a shape (zeros, ones, randn, arange, …), PyTorch's names.

`Tensor` inherits them from `FactoryMethods` (so `Tensor.zeros(2, 3)` and `tinygrad_edu.zeros(2,
3)` both work). Floats default to float32, as in PyTorch; the random ones draw from
tinygrad_edu's seeded generator (`manual_seed`).
"""

from __future__ import annotations

import numpy as np

from . import _state
from .dtypes import DEFAULT_FLOAT
from .tensor_shape import _as_shape


class FactoryMethods:
    """Class methods that make new leaf tensors."""

    __slots__ = ()

    @classmethod
    def _factory(cls, array: np.ndarray, requires_grad: bool):
        t = cls._make(array, False)
        return t.requires_grad_(True) if requires_grad else t

    @classmethod
    def zeros(cls, *shape, dtype=None, requires_grad=False) -> Tensor:
        return cls._factory(np.zeros(_as_shape(shape), dtype=dtype or DEFAULT_FLOAT), requires_grad)

    @classmethod
    def ones(cls, *shape, dtype=None, requires_grad=False) -> Tensor:
        return cls._factory(np.ones(_as_shape(shape), dtype=dtype or DEFAULT_FLOAT), requires_grad)

    @classmethod
    def full(cls, shape, fill_value, dtype=None, requires_grad=False) -> Tensor:
        shape = _as_shape((shape,)) if not isinstance(shape, (int, np.integer)) else (int(shape),)
        return cls._factory(np.full(shape, fill_value, dtype=dtype or DEFAULT_FLOAT), requires_grad)

    @classmethod
    def randn(cls, *shape, dtype=None, requires_grad=False) -> Tensor:
        """Standard normal samples from tinygrad_edu's seeded generator."""
        values = _state.rng().standard_normal(_as_shape(shape))
        return cls._factory(values.astype(dtype or DEFAULT_FLOAT), requires_grad)

    @classmethod
    def rand(cls, *shape, dtype=None, requires_grad=False) -> Tensor:
        """Uniform samples in [0, 1)."""
        values = _state.rng().random(_as_shape(shape))
        return cls._factory(values.astype(dtype or DEFAULT_FLOAT), requires_grad)

    @classmethod
    def uniform(cls, *shape, low=0.0, high=1.0, dtype=None, requires_grad=False) -> Tensor:
        """Uniform samples in [low, high)."""
        values = _state.rng().uniform(low, high, _as_shape(shape))
        return cls._factory(values.astype(dtype or DEFAULT_FLOAT), requires_grad)

    @classmethod
    def eye(cls, n: int, m: int | None = None, dtype=None, requires_grad=False) -> Tensor:
        return cls._factory(np.eye(n, m, dtype=dtype or DEFAULT_FLOAT), requires_grad)

    @classmethod
    def arange(cls, start, end=None, step=1, dtype=None, requires_grad=False) -> Tensor:
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
        return cls._factory(np.arange(start, end, step).astype(dtype), requires_grad)

    @classmethod
    def zeros_like(cls, t, dtype=None, requires_grad=False) -> Tensor:
        return cls._factory(np.zeros(t.shape, dtype=dtype or t.dtype), requires_grad)

    @classmethod
    def ones_like(cls, t, dtype=None, requires_grad=False) -> Tensor:
        return cls._factory(np.ones(t.shape, dtype=dtype or t.dtype), requires_grad)

    @classmethod
    def full_like(cls, t, fill_value, dtype=None, requires_grad=False) -> Tensor:
        return cls._factory(np.full(t.shape, fill_value, dtype=dtype or t.dtype), requires_grad)

    @classmethod
    def randn_like(cls, t, dtype=None, requires_grad=False) -> Tensor:
        return cls.randn(*t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)

    @classmethod
    def rand_like(cls, t, dtype=None, requires_grad=False) -> Tensor:
        return cls.rand(*t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)
