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

Reductions and movement (sum, reshape, indexing, …) live in tensor_shape.py; Tensor inherits
them.
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

import numpy as np

from . import _state
from .engine import Node, run_backward
from .ops import activation, elementwise, matmul, movement
from .tensor_shape import (MaxResult, ShapeMethods, _as_shape, _convert_index, _data,  # noqa: F401
                           _norm_dims)

DEFAULT_FLOAT = np.float32


# ---------------------------------------------------------------------------------------------
# The Tensor
# ---------------------------------------------------------------------------------------------
class Tensor(Node, ShapeMethods):
    """An n-dimensional array (numpy underneath, in `.data`) with reverse-mode autograd.

    >>> x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> y = (x * x).sum()          # y = Σ x²
    >>> y.backward()
    >>> x.grad                     # ∂y/∂x = 2x
    array([2., 4., 6.], dtype=float32)
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
            extras += f", grad_fn=<{self._ctx.name}Backward>"
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
        """The same data (shared) as a new leaf that does not require grad."""
        return Tensor._make(self.data, False)

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
    def to(self, dtype) -> "Tensor":
        """Convert to another dtype. Float → float stays differentiable."""
        dtype = np.dtype(dtype)
        if dtype == self.data.dtype:
            return self
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
    # Arithmetic operators call their Function directly (the hot path of every model);
    # Function.apply turns numpy's broadcast errors into one that names both shapes.
    def __add__(self, other): return elementwise.AddFn.apply(self, other)
    def __radd__(self, other): return elementwise.AddFn.apply(other, self)
    def __sub__(self, other): return elementwise.SubFn.apply(self, other)
    def __rsub__(self, other): return elementwise.SubFn.apply(other, self)
    def __mul__(self, other): return elementwise.MulFn.apply(self, other)
    def __rmul__(self, other): return elementwise.MulFn.apply(other, self)
    def __truediv__(self, other): return elementwise.DivFn.apply(self, other)
    def __rtruediv__(self, other): return elementwise.DivFn.apply(other, self)
    def __pow__(self, other): return elementwise.PowFn.apply(self, other)
    def __rpow__(self, other): return elementwise.PowFn.apply(other, self)
    def __neg__(self): return elementwise.NegFn.apply(self)
    def __pos__(self): return self

    def __matmul__(self, other): return self.matmul(other)
    def __rmatmul__(self, other): return Tensor(other, dtype=self.dtype).matmul(self) \
        if not isinstance(other, Tensor) else other.matmul(self)

    add, sub, mul, div, pow = __add__, __sub__, __mul__, __truediv__, __pow__

    def matmul(self, other) -> "Tensor":
        """Matrix product with numpy's `@` rules: batched, broadcasting, 1-D operands."""
        a, b = self.data, _data(other)
        if a.ndim == 0 or np.ndim(b) == 0:
            raise ValueError("matmul: both operands need at least one dimension, "
                             f"got shapes {a.shape} and {np.shape(b)}")
        k_a, k_b = a.shape[-1], (np.shape(b)[-2] if np.ndim(b) > 1 else np.shape(b)[0])
        if k_a != k_b:
            raise ValueError(f"matmul: shapes {a.shape} and {np.shape(b)} are not aligned "
                             f"({k_a} != {k_b})")
        return matmul.MatMulFn.apply(self, other)

    def exp(self): return elementwise.ExpFn.apply(self)
    def log(self): return elementwise.LogFn.apply(self)
    def sqrt(self): return elementwise.SqrtFn.apply(self)
    def abs(self): return elementwise.AbsFn.apply(self)
    def square(self): return self * self

    def maximum(self, other) -> "Tensor":
        return elementwise.MaximumFn.apply(self, other)

    def minimum(self, other) -> "Tensor":
        return elementwise.MinimumFn.apply(self, other)

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

    def __setitem__(self, index, value) -> None:
        """In-place assignment, for tensors outside the graph (initialisation, masks)."""
        if (self.requires_grad or self._ctx is not None) and _state.grad_enabled():
            raise RuntimeError("in-place assignment to a tensor that requires grad would "
                               "break its gradient; do it under no_grad(), or build a new "
                               "tensor with where() or cat()")
        self.data[_convert_index(index)] = _data(value)

    # -- activations ---------------------------------------------------------------------------
    def relu(self): return activation.ReLUFn.apply(self)
    def sigmoid(self): return activation.SigmoidFn.apply(self)
    def tanh(self): return activation.TanhFn.apply(self)

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
        (dim,) = _norm_dims(dim, self.ndim)
        return activation.SoftmaxFn.apply(self, dim)

    def log_softmax(self, dim: int) -> "Tensor":
        """x_i − log Σ_j e^{x_j} along `dim` (log-sum-exp: exact and finite)."""
        (dim,) = _norm_dims(dim, self.ndim)
        return activation.LogSoftmaxFn.apply(self, dim)

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

    # -- factories -----------------------------------------------------------------------------
    @staticmethod
    def zeros(*shape, dtype=None, requires_grad=False) -> "Tensor":
        return _factory(np.zeros(_as_shape(shape), dtype=dtype or DEFAULT_FLOAT), requires_grad)

    @staticmethod
    def ones(*shape, dtype=None, requires_grad=False) -> "Tensor":
        return _factory(np.ones(_as_shape(shape), dtype=dtype or DEFAULT_FLOAT), requires_grad)

    @staticmethod
    def full(shape, fill_value, dtype=None, requires_grad=False) -> "Tensor":
        shape = _as_shape((shape,)) if not isinstance(shape, (int, np.integer)) else (int(shape),)
        return _factory(np.full(shape, fill_value, dtype=dtype or DEFAULT_FLOAT), requires_grad)

    @staticmethod
    def randn(*shape, dtype=None, requires_grad=False) -> "Tensor":
        """Standard normal samples from tinygrad_edu's seeded generator."""
        values = _state.rng().standard_normal(_as_shape(shape))
        return _factory(values.astype(dtype or DEFAULT_FLOAT), requires_grad)

    @staticmethod
    def rand(*shape, dtype=None, requires_grad=False) -> "Tensor":
        """Uniform samples in [0, 1)."""
        values = _state.rng().random(_as_shape(shape))
        return _factory(values.astype(dtype or DEFAULT_FLOAT), requires_grad)

    @staticmethod
    def uniform(*shape, low=0.0, high=1.0, dtype=None, requires_grad=False) -> "Tensor":
        """Uniform samples in [low, high)."""
        values = _state.rng().uniform(low, high, _as_shape(shape))
        return _factory(values.astype(dtype or DEFAULT_FLOAT), requires_grad)

    @staticmethod
    def eye(n: int, m: int | None = None, dtype=None, requires_grad=False) -> "Tensor":
        return _factory(np.eye(n, m, dtype=dtype or DEFAULT_FLOAT), requires_grad)

    @staticmethod
    def arange(start, end=None, step=1, dtype=None, requires_grad=False) -> "Tensor":
        """As PyTorch: integers give int64, any float gives float32."""
        if end is None:
            start, end = 0, start
        is_int = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = dtype or (np.int64 if is_int else DEFAULT_FLOAT)
        return _factory(np.arange(start, end, step).astype(dtype), requires_grad)

    @staticmethod
    def zeros_like(t, dtype=None, requires_grad=False) -> "Tensor":
        return _factory(np.zeros(t.shape, dtype=dtype or t.dtype), requires_grad)

    @staticmethod
    def ones_like(t, dtype=None, requires_grad=False) -> "Tensor":
        return _factory(np.ones(t.shape, dtype=dtype or t.dtype), requires_grad)

    @staticmethod
    def full_like(t, fill_value, dtype=None, requires_grad=False) -> "Tensor":
        return _factory(np.full(t.shape, fill_value, dtype=dtype or t.dtype), requires_grad)

    @staticmethod
    def randn_like(t, dtype=None, requires_grad=False) -> "Tensor":
        return Tensor.randn(*t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)

    @staticmethod
    def rand_like(t, dtype=None, requires_grad=False) -> "Tensor":
        return Tensor.rand(*t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)


def _factory(array: np.ndarray, requires_grad: bool) -> Tensor:
    t = Tensor._make(array, False)
    return t.requires_grad_(True) if requires_grad else t


# ---------------------------------------------------------------------------------------------
# Functions of several tensors
# ---------------------------------------------------------------------------------------------
def _as_tensors(tensors: Iterable, fname: str) -> list:
    tensors = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    if not tensors:
        raise ValueError(f"{fname}() needs at least one tensor")
    return tensors


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join tensors along an existing axis `dim`; all other axes must match."""
    tensors = _as_tensors(tensors, "cat")
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
    return elementwise.WhereFn.apply(cond, x, y)
