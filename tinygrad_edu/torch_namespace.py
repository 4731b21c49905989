"""The torch-level functional namespace: `tinygrad_edu.exp(x)`, `tinygrad_edu.sum(x, dim=1)`,
`tinygrad_edu.matmul(a, b)`, … — every Tensor op also as a function with PyTorch's name and
signature, so code written as `torch.f(x, ...)` runs with `import tinygrad_edu as torch`.

The wrappers are generated from one list, METHODS: `f(input, *args, **kwargs)` is
`input.f(*args, **kwargs)` (a number or list as input becomes a Tensor first). The few that
do not take a tensor first (einsum, tensor, is_tensor, …) are written out below it.

>>> import tinygrad_edu as torch
>>> x = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
>>> torch.sum(x, dim=1), torch.exp(torch.zeros(2))
(tensor([3., 7.]), tensor([1., 1.]))
"""

from __future__ import annotations

import numpy as np

from . import devices
from .ops import linalg
from .tensor import Tensor

# Tensor methods that are also functions of the tensor, torch.<name>(input, ...)
METHODS = """
    add sub mul div pow matmul mm bmm dot outer maximum minimum clamp clip
    neg exp log sqrt abs square sin cos tan tanh sigmoid relu erf softplus
    floor ceil round sign isnan isinf isfinite
    sum mean var std max min amax amin argmax argmin norm logsumexp cumsum sort topk all any
    softmax log_softmax
    reshape flatten transpose permute squeeze unsqueeze flip t split chunk repeat tril triu
    gather scatter_add index_select masked_fill multinomial
    eq ne lt le gt ge allclose numel detach clone
""".split()


def _as_tensor_input(x):
    return x if isinstance(x, Tensor) else Tensor(x)


def _function_of(name: str):
    """torch.<name>(input, *args, **kwargs) = input.<name>(*args, **kwargs)."""
    method = getattr(Tensor, name)

    def function(input, *args, **kwargs):  # noqa: A002 - PyTorch's argument name
        return getattr(_as_tensor_input(input), name)(*args, **kwargs)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = (f"tinygrad_edu.{name}(input, …) is input.{name}(…):\n\n"
                        f"{method.__doc__ or ''}")
    return function


globals().update({name: _function_of(name) for name in METHODS})


# ---------------------------------------------------------------------------------------------
# The functions that do not take one tensor first
# ---------------------------------------------------------------------------------------------
def tensor(data, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of `data` (lists and floats give float32, as PyTorch)."""
    devices.check_device(device)
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """`data` as a tensor, sharing memory when it already is a numpy array of that dtype."""
    devices.check_device(device)
    if isinstance(data, Tensor):
        return data if dtype is None else data.to(dtype)
    if isinstance(data, np.ndarray) and (dtype is None or np.dtype(dtype) == data.dtype):
        return Tensor.from_numpy(data)
    return Tensor(data, dtype=dtype)


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def einsum(equation: str, *operands) -> Tensor:
    """Sum of products named by letters: einsum('ij,jk->ik', a, b) is a @ b, 'i,i->' a dot
    product, 'i,j->ij' an outer product, 'ii->' the trace, 'bij,bjk->bik' a batched matmul.
    Every operand must have the same dtype."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    operands = tuple(_as_tensor_input(t) for t in operands)
    if not operands:
        raise ValueError("einsum(): must provide at least one operand")
    if len({t.dtype for t in operands}) != 1:
        raise TypeError(f"einsum(): expected all operands to have the same dtype, got "
                        f"{[str(t.dtype) for t in operands]}")
    return linalg.EinsumFn.apply(equation, *operands)


def is_floating_point(x: Tensor) -> bool:
    return x.dtype.kind == "f"


def get_default_dtype():
    return np.dtype(np.float32)


from_numpy = Tensor.from_numpy
linspace, logspace = Tensor.linspace, Tensor.logspace
randint, randperm, empty = Tensor.randint, Tensor.randperm, Tensor.empty

__all__ = METHODS + ["tensor", "as_tensor", "is_tensor", "einsum", "is_floating_point",
                     "get_default_dtype", "from_numpy", "linspace", "logspace", "randint",
                     "randperm", "empty"]
