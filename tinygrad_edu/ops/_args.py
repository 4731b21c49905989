"""Argument helpers shared by the ops and layers: one place for PyTorch's `_pair` rule."""

from __future__ import annotations

import numbers


def ntuple(value, n: int = 2, name: str = "argument", fname: str = "") -> tuple:
    """An int, or a sequence of 1 or n ints, as an n-tuple of Python ints (PyTorch's _pair).

    >>> ntuple(3), ntuple((1, 2)), ntuple([5], 2)
    ((3, 3), (1, 2), (5, 5))
    """
    where = f"{fname}: " if fname else ""
    values = tuple(value) if isinstance(value, (tuple, list)) else (value,)
    if len(values) == 1:
        values = values * n
    if len(values) != n:
        raise ValueError(f"{where}{name} must be an int or a tuple of {n} ints, got {value!r}")
    for v in values:
        if not isinstance(v, numbers.Integral) or isinstance(v, bool):
            raise TypeError(f"{where}{name} must hold ints, got {value!r}")
    return tuple(int(v) for v in values)
