"""Type promotion, PyTorch's rules: which dtype `a + b` has.

Three kinds of operand, from strongest to weakest: tensors with dimensions, 0-d tensors, and
plain numbers (Python or numpy scalars). Each kind is first promoted within itself; then a
weaker kind changes the result only when it is of a higher category (bool < integer < float):

| a                 | b                          | a + b    | why                                  |
|-------------------|----------------------------|----------|--------------------------------------|
| float32 tensor    | 2.5, 2, np.float64(2)      | float32  | a number never raises a float dtype  |
| int64 tensor      | 2.5                        | float32  | int with float gives the default float |
| uint8 tensor      | 255.0                      | float32  | (so images / 255.0 stay float32)     |
| bool tensor       | 1                          | int64    | a higher category wins               |
| int32 tensor      | 5                          | int32    |                                      |
| float32 tensor    | int64 tensor               | float32  | float beats integer, whatever sizes  |
| float32 tensor    | float64 tensor             | float64  | same category: the larger            |
| uint8 tensor      | int8 tensor                | int16    | same category: big enough for both   |
| float32 (3,)      | float64 0-d tensor         | float32  | a 0-d tensor acts like a number      |
| int64 (3,)        | float64 0-d tensor         | float64  | ... unless its category is higher    |

`a / b` of integers gives the default float (float32), as PyTorch's true division.

>>> import numpy as np
>>> result_type(np.zeros(3, np.uint8), 255.0), result_type(np.zeros(3, np.float32), np.float64(2))
(dtype('float32'), dtype('float32'))
"""

from __future__ import annotations

import numbers

import numpy as np

DEFAULT_FLOAT = np.dtype(np.float32)
DEFAULT_INT = np.dtype(np.int64)
BOOL = np.dtype(np.bool_)

__all__ = ["DEFAULT_FLOAT", "promote_types", "result_type", "is_number"]


def _category(dtype: np.dtype) -> int:
    """0 bool, 1 integer, 2 floating point."""
    return {"b": 0, "i": 1, "u": 1, "f": 2}.get(dtype.kind, 3)


def promote_types(a, b) -> np.dtype:
    """The smallest dtype both tensors' dtypes fit in (torch.promote_types)."""
    a, b = np.dtype(a), np.dtype(b)
    if a == b:
        return a
    if _category(a) != _category(b):  # the higher category wins outright
        return a if _category(a) > _category(b) else b
    return np.promote_types(a, b)


def is_number(value) -> bool:
    """A Python or numpy scalar (not a tensor, list or array)."""
    return isinstance(value, (numbers.Number, np.generic)) and not isinstance(value, np.ndarray)


def _number_dtype(value) -> np.dtype:
    """What a plain number stands for: its category's default dtype."""
    if isinstance(value, (bool, np.bool_)):
        return BOOL
    if isinstance(value, (numbers.Integral, np.integer)):
        return DEFAULT_INT
    return DEFAULT_FLOAT


def _combine(stronger, weaker):
    """c10's combine_categories: the weaker kind only counts when its category is higher."""
    if stronger is None:
        return weaker
    if weaker is None or stronger.kind == "f":
        return stronger
    if stronger == BOOL or weaker.kind == "f":
        return promote_types(stronger, weaker)
    return stronger


def result_type(*operands) -> np.dtype:
    """The dtype of an elementwise op on `operands` (arrays, tensors with `.data`, numbers)."""
    dims = zero_dims = numbers_ = None
    for x in operands:
        if is_number(x):
            numbers_ = _number_dtype(x) if numbers_ is None else promote_types(numbers_, _number_dtype(x))
            continue
        array = x.data if hasattr(x, "data") and not isinstance(x, np.ndarray) else np.asarray(x)
        if array.ndim:
            dims = array.dtype if dims is None else promote_types(dims, array.dtype)
        else:
            zero_dims = array.dtype if zero_dims is None else promote_types(zero_dims, array.dtype)
    return _combine(dims, _combine(zero_dims, numbers_))
