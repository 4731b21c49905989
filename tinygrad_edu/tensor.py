"""The Tensor: a numpy array that remembers how it was made, and `backward()` that walks back.

The whole engine in three ideas:
1. Every op is a `Function` (function.py, the ops in ops/). Calling it on Tensors computes the
   result and, when some input requires grad, stores the Function instance ("ctx") on the
   result as `_ctx`, with the input Tensors as `ctx.parents`. That chain of ctx → parents is
   the graph.
2. `backward()` hands the graph to the engine (engine.py): it orders the graph so that every
   tensor comes before the tensors it was made from, then visits each once: it asks the
   tensor's Function for the gradients of its inputs (the chain rule, one local step) and adds
   them to what those inputs have collected so far.
3. Leaves (tensors you made, with requires_grad=True) keep their total in `.grad`.

Reductions and movement (sum, reshape, indexing, …) live in tensor_shape.py, the in-place
operators (+=, x[i] = v, …) in tensor_inplace.py, the factories (zeros, randn, …) in
tensor_factories.py, PyTorch's further methods (sin, sort, gather, norm, register_hook, …) in
tensor_torch.py; Tensor inherits them.
"""

from __future__ import annotations

import functools
from typing import Any, Iterable, Sequence

import numpy as np

from . import _state
from .devices import split_to_args
from .dtypes import DEFAULT_FLOAT, is_number, promote_types, result_type
from .engine import Node, run_backward
from .ops import activation, elementwise, matmul, movement
from .tensor_factories import FactoryMethods
from .tensor_inplace import InplaceMethods
from .tensor_shape import (MaxResult, ShapeMethods, _as_shape, _convert_index, _data,  # noqa: F401
                           _norm_dims)
from .tensor_torch import TorchMethods


# ---------------------------------------------------------------------------------------------
# The Tensor
# ---------------------------------------------------------------------------------------------
class Tensor(Node, ShapeMethods, InplaceMethods, FactoryMethods, TorchMethods):
    """An n-dimensional array (numpy underneath, in `.data`) with reverse-mode autograd.

    >>> x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> y = (x * x).sum()          # y = Σ x²
    >>> y.backward()
    >>> x.grad                     # ∂y/∂x = 2x
    array([2., 4., 6.], dtype=float32)

    Dtypes follow PyTorch: lists and Python floats make float32, numpy arrays keep theirs, and
    an op on two dtypes promotes as PyTorch does (dtypes.py has the table):

    | a + b                              | result  |
    |------------------------------------|---------|
    | float32 tensor + 2.5 or np.float64  | float32 |
    | uint8 or int64 tensor + 2.5, / 255  | float32 |
    | float32 tensor + int64 tensor       | float32 |
    | float32 tensor + float64 tensor     | float64 |
    | float32 tensor + float64 0-d tensor | float32 |
    | int tensor / int tensor             | float32 |

    In-place operators (+=, x[i] = v) change this tensor, as in PyTorch (tensor_inplace.py).
    """

    __slots__ = ()  # the attributes the engine reads are declared by engine.Node
    __array_ufunc__ = None  # numpy_array + tensor calls Tensor.__radd__ instead of numpy's add

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None):
        if isinstance(data, Tensor):
            array = np.array(data.data, dtype=dtype)
        elif isinstance(data, np.ndarray) or isinstance(data, np.generic):
            array = np.array(data, dtype=dtype)
        else:  # Python scalars and (nested) lists: floats become float32, as in PyTorch
            array = np.array(data, dtype=dtype)
            if dtype is None and array.dtype == np.float64:
                array = array.astype(DEFAULT_FLOAT)
        if array.dtype == object or array.dtype.kind in "USV":
            raise TypeError(f"cannot make a Tensor from {type(data).__name__} "
                            f"(numpy dtype {array.dtype}); give numbers")
        self.data = array
        self.grad = None
        self.requires_grad = False
        self._ctx = None
        self._retains_grad = False
        self._version = [0]
        self._history = None
        self._base = self._hooks = None
        if requires_grad:
            self.requires_grad_(True)

    @staticmethod
    def _make(array: np.ndarray, requires_grad: bool) -> "Tensor":
        """Fast constructor for op results: no conversion, no checks."""
        t = object.__new__(Tensor)
        t.data = array
        t.grad = None
        t.requires_grad = requires_grad
        t._ctx = None
        t._retains_grad = False
        t._version = [0]
        t._history = None
        t._base = t._hooks = None
        return t

    # -- basic properties --------------------------------------------------------------------
    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self):
        return self.data.dtype

    def size(self, dim: int | None = None):
        """The shape (as PyTorch's `size()`), or the length of one dimension."""
        return self.data.shape if dim is None else self.data.shape[dim]

    def dim(self) -> int:
        return self.data.ndim

    def numel(self) -> int:
        return int(self.data.size)

    @property
    def is_leaf(self) -> bool:
        return self._ctx is None

    @property
    def grad_fn(self):
        """The Function node that made this tensor (None for leaves)."""
        return self._ctx

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="tensor(")
        extras = ""
        if self.data.dtype not in (np.float32, np.int64, np.bool_):
            extras += f", dtype={self.data.dtype}"
        if self._ctx is not None:
            extras += f", grad_fn=<{self._ctx.name}>"
        elif self.requires_grad:
            extras += ", requires_grad=True"
        return f"tensor({body}{extras})"

    __hash__ = object.__hash__  # __eq__ is elementwise, so hashing goes by identity

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def __array__(self, dtype=None, copy=None):
        return self.data if dtype is None else self.data.astype(dtype)

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise RuntimeError(f"the truth value of a tensor of shape {self.shape} is ambiguous")
        return bool(self.data)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    # -- leaving the graph -------------------------------------------------------------------
    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(f"item() needs a tensor with one element, got shape {self.shape}")
        return self.data.item()

    def tolist(self):
        return self.data.tolist()

    def numpy(self) -> np.ndarray:
        """The numpy array (shared, not copied). As PyTorch, refuses a tensor that requires
        grad: call `.detach().numpy()` to say you are leaving the graph on purpose."""
        if self.requires_grad:
            raise RuntimeError("can't call numpy() on a tensor that requires grad; "
                               "use tensor.detach().numpy()")
        return self.data

    def detach(self) -> "Tensor":
        """The same data (shared, with the same version counter) as a new leaf that does not
        require grad."""
        t = Tensor._make(self.data, False)
        t._version = self._version
        return t

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        """Set requires_grad in place (only leaves, only floating point); returns self."""
        if requires_grad and self.data.dtype.kind != "f":
            raise RuntimeError(f"only floating point tensors can require gradients, "
                               f"this one has dtype {self.data.dtype}")
        if not requires_grad and self._ctx is not None:
            raise RuntimeError("requires_grad_(False) on a non-leaf tensor; use detach()")
        self.requires_grad = bool(requires_grad)
        return self

    def retain_grad(self) -> None:
        """Keep `.grad` on this non-leaf tensor too after backward (leaves always keep it)."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad() on a tensor that does not require grad")
        self._retains_grad = True

    # -- dtype conversion --------------------------------------------------------------------
    def to(self, *args, **kwargs) -> "Tensor":
        """Convert to another dtype (to(dtype), to(device, dtype), to("cpu")): float → float
        stays differentiable. The device can only be "cpu" (devices.py)."""
        dtype = split_to_args(args, kwargs)
        if dtype is None or np.dtype(dtype) == self.data.dtype:
            return self
        dtype = np.dtype(dtype)
        if dtype.kind == "f" and self.data.dtype.kind == "f":
            return elementwise.CastFn.apply(self, dtype)
        return Tensor._make(self.data.astype(dtype), False)

    type = to

    def float(self) -> "Tensor":
        return self.to(np.float32)

    def double(self) -> "Tensor":
        return self.to(np.float64)

    def long(self) -> "Tensor":
        return self.to(np.int64)

    def int(self) -> "Tensor":
        return self.to(np.int32)

    def bool(self) -> "Tensor":
        return self.to(np.bool_)

    def contiguous(self) -> "Tensor":
        return self

    def clone(self) -> "Tensor":
        return self * 1 if self.requires_grad else Tensor._make(self.data.copy(), False)

    # -- arithmetic --------------------------------------------------------------------------
    # Each operator first brings its operands to one dtype by PyTorch's promotion rules
    # (dtypes.py), then calls its Function; Function.apply turns numpy's broadcast errors into
    # one that names both shapes.
    def __add__(self, other): return elementwise.AddFn.apply(*_promoted(self, other))
    def __radd__(self, other): return elementwise.AddFn.apply(*_promoted(other, self))
    def __sub__(self, other): return elementwise.SubFn.apply(*_promoted(self, other, subtract=True))
    def __rsub__(self, other): return elementwise.SubFn.apply(*_promoted(other, self, subtract=True))
    def __mul__(self, other): return elementwise.MulFn.apply(*_promoted(self, other))
    def __rmul__(self, other): return elementwise.MulFn.apply(*_promoted(other, self))
    def __truediv__(self, other): return elementwise.DivFn.apply(*_promoted(self, other, True))
    def __rtruediv__(self, other): return elementwise.DivFn.apply(*_promoted(other, self, True))
    def __pow__(self, other): return elementwise.PowFn.apply(*_promoted(self, other))
    def __rpow__(self, other): return elementwise.PowFn.apply(*_promoted(other, self))
    def __neg__(self): return elementwise.NegFn.apply(self)
    def __pos__(self): return self

    def __floordiv__(self, other): return self._integer_op(np.floor_divide, other, "//")
    def __rfloordiv__(self, other): return self._integer_op(np.floor_divide, other, "//", True)
    def __mod__(self, other): return self._integer_op(np.remainder, other, "%")
    def __rmod__(self, other): return self._integer_op(np.remainder, other, "%", True)

    def _integer_op(self, ufunc, other, symbol, reverse=False) -> "Tensor":
        """// and % with Python's signs (as PyTorch); no gradient flows through them."""
        a, b = _promoted(other, self) if reverse else _promoted(self, other)
        a_data, b_data = _data(a), _data(b)
        if np.result_type(a_data, b_data).kind in "iub" and np.any(np.asarray(b_data) == 0):
            raise ZeroDivisionError(f"integer {symbol} by zero (tensor of shape {self.shape})")
        return Tensor._make(np.asarray(ufunc(a_data, b_data)), False)

    def __matmul__(self, other): return self.matmul(other)
    def __rmatmul__(self, other): return Tensor(other, dtype=self.dtype).matmul(self) \
        if not isinstance(other, Tensor) else other.matmul(self)

    add, sub, mul, div, pow = __add__, __sub__, __mul__, __truediv__, __pow__
    floor_divide, remainder = __floordiv__, __mod__

    def matmul(self, other) -> "Tensor":
        """Matrix product with numpy's `@` rules: batched, broadcasting, 1-D operands. As in
        PyTorch, both operands must have the same dtype."""
        other = other if isinstance(other, Tensor) else Tensor(other, dtype=self.dtype)
        a, b = self.data, other.data
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError("matmul: both operands need at least one dimension, "
                             f"got shapes {a.shape} and {b.shape}")
        k_a, k_b = a.shape[-1], (b.shape[-2] if b.ndim > 1 else b.shape[0])
        if k_a != k_b:
            raise ValueError(f"matmul: shapes {a.shape} and {b.shape} are not aligned "
                             f"({k_a} != {k_b})")
        if a.dtype != b.dtype:
            raise TypeError(f"matmul: expected both operands to have the same dtype, got "
                            f"{a.dtype} {a.shape} and {b.dtype} {b.shape}; convert one (.to())")
        return matmul.MatMulFn.apply(self, other)

    def exp(self): return elementwise.ExpFn.apply(self._floating())
    def log(self): return elementwise.LogFn.apply(self._floating())
    def sqrt(self): return elementwise.SqrtFn.apply(self._floating())
    def abs(self): return elementwise.AbsFn.apply(self)
    def square(self): return self * self

    def maximum(self, other) -> "Tensor":
        return elementwise.MaximumFn.apply(*_promoted(self, other))

    def minimum(self, other) -> "Tensor":
        return elementwise.MinimumFn.apply(*_promoted(self, other))

    def _floating(self) -> "Tensor":
        """Self, or self in the default float dtype when it holds integers or bools (exp, log,
        sigmoid, … of an integer tensor are float32, as in PyTorch)."""
        return self if self.data.dtype.kind == "f" else self.to(DEFAULT_FLOAT)

    def clip(self, min=None, max=None) -> "Tensor":
        """Limit values to [min, max]; gradient flows only where the value was not clipped."""
        if min is None and max is None:
            raise ValueError("clip needs at least one of min and max")
        return elementwise.ClipFn.apply(self, min, max)

    clamp = clip

    # -- comparisons (no gradient) -------------------------------------------------------------
    def _compare(self, ufunc, other) -> "Tensor":
        return Tensor._make(ufunc(self.data, _data(other)), False)

    def __eq__(self, other): return self._compare(np.equal, other)  # type: ignore[override]
    def __ne__(self, other): return self._compare(np.not_equal, other)  # type: ignore[override]
    def __lt__(self, other): return self._compare(np.less, other)
    def __le__(self, other): return self._compare(np.less_equal, other)
    def __gt__(self, other): return self._compare(np.greater, other)
    def __ge__(self, other): return self._compare(np.greater_equal, other)
    eq, ne, lt, le, gt, ge = __eq__, __ne__, __lt__, __le__, __gt__, __ge__

    def __invert__(self):
        return Tensor._make(np.logical_not(self.data) if self.data.dtype == bool
                            else np.invert(self.data), False)

    def __and__(self, other): return self._compare(np.logical_and, other)
    def __or__(self, other): return self._compare(np.logical_or, other)

    # -- activations ---------------------------------------------------------------------------
    def relu(self): return activation.ReLUFn.apply(self)
    def sigmoid(self): return activation.SigmoidFn.apply(self._floating())
    def tanh(self): return activation.TanhFn.apply(self._floating())

    def leaky_relu(self, negative_slope: float = 0.01) -> "Tensor":
        """x where x > 0, else negative_slope · x."""
        return activation.LeakyReLUFn.apply(self, float(negative_slope))

    def elu(self, alpha: float = 1.0) -> "Tensor":
        """x where x > 0, else alpha · (eˣ − 1)."""
        return activation.ELUFn.apply(self, float(alpha))

    def dropout(self, p: float = 0.5, training: bool = True) -> "Tensor":
        """Zero each element with probability p and scale the rest by 1/(1 − p) (training only)."""
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        if not training or p == 0.0:
            return self
        keep = _state.rng().random(self.shape) >= p
        scale = 0.0 if p == 1.0 else 1.0 / (1.0 - p)
        return activation.DropoutFn.apply(self, (keep * scale).astype(self.dtype))

    def softmax(self, dim: int) -> "Tensor":
        """e^{x_i} / Σ_j e^{x_j} along `dim` (computed without overflow)."""
        if self.ndim == 0:  # one value: softmax over it is 1
            _norm_dims(dim, 0)
            return self.reshape(1).softmax(0).reshape(())
        (dim,) = _norm_dims(dim, self.ndim)
        return activation.SoftmaxFn.apply(self._floating(), dim)

    def log_softmax(self, dim: int) -> "Tensor":
        """x_i − log Σ_j e^{x_j} along `dim` (log-sum-exp: exact and finite)."""
        if self.ndim == 0:
            _norm_dims(dim, 0)
            return self.reshape(1).log_softmax(0).reshape(())
        (dim,) = _norm_dims(dim, self.ndim)
        return activation.LogSoftmaxFn.apply(self._floating(), dim)

    # -- backward ------------------------------------------------------------------------------
    def backward(self, gradient=None, retain_graph: bool = False, trace: bool = False):
        """Compute the gradient of this tensor with respect to every leaf that requires grad.

        gradient: ∂L/∂self (needed unless self has one element, where it defaults to 1).
        retain_graph: keep the saved values so backward can run through the graph again.
        To watch the steps, call `tinygrad_edu.explain(loss, accumulate=True)` instead: the same
        backward pass, printed step by step (`trace=True` is no longer taken here).
        """
        if trace:
            raise TypeError("backward(trace=True) moved to the teaching tools: call "
                            "tinygrad_edu.explain(loss, accumulate=True), which runs this "
                            "backward pass and prints every step")
        if self._base is not None and self._base[1] != len(self._base[0]._history or ()):
            self._refresh_view()  # a view whose root was changed in the graph since: read it now
        if not self.requires_grad:
            raise RuntimeError("backward() on a tensor that does not require grad: none of its "
                               "inputs had requires_grad=True (or it was made under no_grad)")
        if gradient is None:
            if self.data.size != 1:
                raise RuntimeError(f"backward() without a gradient needs a one-element tensor; "
                                   f"this one has shape {self.shape}: pass gradient= of that shape")
            seed = np.ones_like(self.data)
        else:
            seed = np.asarray(_data(gradient), dtype=self.data.dtype)
            if seed.shape != self.shape:
                raise ValueError(f"backward: gradient of shape {seed.shape} does not match "
                                 f"the tensor's shape {self.shape}")
        run_backward(self, seed, retain_graph)
        return None


# ---------------------------------------------------------------------------------------------
# Functions of several tensors
# ---------------------------------------------------------------------------------------------
def _as_tensors(tensors: Iterable, fname: str) -> list:
    """Tensors of one dtype, promoted as PyTorch does (float32 with int64 gives float32)."""
    tensors = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    if not tensors:
        raise ValueError(f"{fname}() needs at least one tensor")
    dtype = functools.reduce(promote_types, (t.dtype for t in tensors))
    return [t.to(dtype) for t in tensors]


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join tensors along an existing axis `dim`; all other axes must match."""
    tensors = _as_tensors(tensors, "cat")
    for position, t in enumerate(tensors):
        if t.ndim == 0:
            raise ValueError(f"cat: zero-dimensional tensor (at position {position}) cannot be "
                             "concatenated; use stack, or reshape it to (1,)")
    (axis,) = _norm_dims(dim, tensors[0].ndim)
    first = tensors[0].shape
    for t in tensors[1:]:
        if t.ndim != len(first) or any(a != b for i, (a, b) in enumerate(zip(t.shape, first))
                                       if i != axis):
            raise ValueError(f"cat: shapes {[x.shape for x in tensors]} differ outside dim {dim}")
    return movement.CatFn.apply(axis, *tensors)


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Stack same-shape tensors along a new axis `dim`."""
    tensors = _as_tensors(tensors, "stack")
    if len({t.shape for t in tensors}) != 1:
        raise ValueError(f"stack: all shapes must be equal, got {[t.shape for t in tensors]}")
    ndim = tensors[0].ndim + 1
    if not -ndim <= dim < ndim:
        raise IndexError(f"stack: dim {dim} out of range for {ndim} dimensions")
    return movement.StackFn.apply(dim % ndim, *tensors)


def where(condition, x, y) -> Tensor:
    """x where condition is true, else y (broadcasting); differentiable in x and y."""
    cond = np.asarray(_data(condition), dtype=bool)
    if not isinstance(x, Tensor) and not isinstance(y, Tensor):
        x = Tensor(x)  # apply needs one Tensor argument to make its result
    return elementwise.WhereFn.apply(cond, *_promoted(x, y))


# ---------------------------------------------------------------------------------------------
# Type promotion of the operands of a binary op
# ---------------------------------------------------------------------------------------------
def _promoted(a, b, true_divide: bool = False, subtract: bool = False) -> tuple:
    """a and b (one a Tensor, the other a Tensor, a number or array-like) in the dtype that
    PyTorch's rules give `a op b` (see dtypes.py); numbers stay Python numbers. With
    true_divide, integer results become the default float (int / int is float32)."""
    if type(a) is Tensor and type(b) is Tensor and a.data.dtype is b.data.dtype \
            and a.data.dtype.kind == "f":
        return a, b  # the common case, quickly
    if subtract and any(np.asarray(_data(x)).dtype == bool for x in (a, b)):
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported; "
                           "to invert a mask, use the `~` operator instead")
    a, b = (x.item() if isinstance(x, np.generic) else x for x in (a, b))
    if not isinstance(a, Tensor) and not is_number(a):
        a = Tensor(a)
    if not isinstance(b, Tensor) and not is_number(b):
        b = Tensor(b)
    dtype = result_type(a, b)
    if true_divide and dtype.kind != "f":
        dtype = DEFAULT_FLOAT
    return tuple(x.to(dtype) if isinstance(x, Tensor) else x for x in (a, b))
