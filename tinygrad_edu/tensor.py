"""The Tensor: a numpy array that remembers how it was made, and `backward()` that walks back.

The whole engine in three ideas:
1. Every op is a `Function` (function.py). Calling it on Tensors computes the result and, when
   some input requires grad, stores the Function instance ("ctx") on the result as `_ctx`,
   with the input Tensors as `ctx.parents`. That chain of ctx → parents is the graph.
2. `backward()` orders the graph so that every tensor comes before the tensors it was made
   from (a reverse topological order), then visits each once: it asks the tensor's Function
   for the gradients of its inputs (the chain rule, one local step) and adds them to what
   those inputs have collected so far.
3. Leaves (tensors you made, with requires_grad=True) keep their total in `.grad`.
"""

from __future__ import annotations

import numbers
from typing import Any, Iterable, NamedTuple, Sequence

import numpy as np

from . import _state, function
from .function import Function
from .ops import activation as A
from .ops import elementwise as E
from .ops import matmul as M
from .ops import movement as MV
from .ops import reduce as R

DEFAULT_FLOAT = np.float32


# ---------------------------------------------------------------------------------------------
# Helpers for arguments
# ---------------------------------------------------------------------------------------------
def _as_shape(shape: tuple) -> tuple:
    """Accept f(2, 3) and f((2, 3)) alike, as PyTorch's factories and reshape do."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    for n in shape:
        if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
            raise TypeError(f"shape entries must be ints, got {shape!r}")
    return tuple(int(n) for n in shape)


def _norm_dims(dim, ndim: int, name: str = "dim") -> tuple:
    """None → all axes; an int or a sequence → a sorted tuple of non-negative axes."""
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    out = []
    for d in dims:
        if not -max(ndim, 1) <= d < max(ndim, 1):
            raise IndexError(f"{name} {d} is out of range for a tensor with {ndim} dimensions")
        out.append(int(d) % max(ndim, 1))
    if len(set(out)) != len(out):
        raise ValueError(f"{name} {dim!r} names an axis twice")
    return tuple(sorted(out))


def _reduce_args(dim, keepdim, kwargs, fname):
    """PyTorch's dim/keepdim, with numpy's axis/keepdims accepted as aliases."""
    if "axis" in kwargs:
        if dim is not None:
            raise TypeError(f"{fname}() got both dim and axis")
        dim = kwargs.pop("axis")
    if "keepdims" in kwargs:
        keepdim = kwargs.pop("keepdims")
    if kwargs:
        raise TypeError(f"{fname}() got unexpected keyword arguments {sorted(kwargs)}")
    return dim, bool(keepdim)


def _data(x):
    return x.data if isinstance(x, Tensor) else x


def _convert_index(index):
    """Tensors inside an index become their numpy arrays; lists become integer arrays."""
    if isinstance(index, tuple):
        return tuple(_convert_index(i) for i in index)
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, list):
        return np.asarray(index)
    return index


def _unbroadcast(grad: np.ndarray, shape: tuple, ctx: Function) -> np.ndarray:
    """Sum a gradient of broadcast shape back to `shape` (the input's own shape).

    Broadcasting copied the input along the new leading axes and along its size-1 axes; the
    gradient of a copy is the sum over the copies.
    """
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    if grad.shape != shape:
        raise RuntimeError(f"{ctx.name}.backward returned a gradient of shape {grad.shape} "
                           f"for an input of shape {shape}")
    return grad


class MaxResult(NamedTuple):
    """What `max(dim)` / `min(dim)` return, as PyTorch: the values and their indices."""
    values: "Tensor"
    indices: "Tensor"


# ---------------------------------------------------------------------------------------------
# The Tensor
# ---------------------------------------------------------------------------------------------
class Tensor:
    """An n-dimensional array (numpy underneath, in `.data`) with reverse-mode autograd.

    >>> x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> y = (x * x).sum()          # y = Σ x²
    >>> y.backward()
    >>> x.grad                     # ∂y/∂x = 2x
    array([2., 4., 6.], dtype=float32)
    """

    __slots__ = ("data", "grad", "requires_grad", "_ctx", "_retains_grad", "__weakref__")
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
            return E.Cast.apply(self, dtype)
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
    def __add__(self, other): return E.Add.apply(self, other)
    def __radd__(self, other): return E.Add.apply(other, self)
    def __sub__(self, other): return E.Sub.apply(self, other)
    def __rsub__(self, other): return E.Sub.apply(other, self)
    def __mul__(self, other): return E.Mul.apply(self, other)
    def __rmul__(self, other): return E.Mul.apply(other, self)
    def __truediv__(self, other): return E.Div.apply(self, other)
    def __rtruediv__(self, other): return E.Div.apply(other, self)
    def __pow__(self, other): return E.Pow.apply(self, other)
    def __rpow__(self, other): return E.Pow.apply(other, self)
    def __neg__(self): return E.Neg.apply(self)
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
        return M.MatMul.apply(self, other)

    def exp(self): return E.Exp.apply(self)
    def log(self): return E.Log.apply(self)
    def sqrt(self): return E.Sqrt.apply(self)
    def abs(self): return E.Abs.apply(self)
    def square(self): return self * self

    def maximum(self, other) -> "Tensor":
        return E.Maximum.apply(self, other)

    def minimum(self, other) -> "Tensor":
        return E.Minimum.apply(self, other)

    def clip(self, min=None, max=None) -> "Tensor":
        """Limit values to [min, max]; gradient flows only where the value was not clipped."""
        if min is None and max is None:
            raise ValueError("clip needs at least one of min and max")
        return E.Clip.apply(self, min, max)

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

    def argmax(self, dim=None, keepdim=False) -> "Tensor":
        return Tensor._make(np.argmax(self.data, axis=dim, keepdims=keepdim), False)

    def argmin(self, dim=None, keepdim=False) -> "Tensor":
        return Tensor._make(np.argmin(self.data, axis=dim, keepdims=keepdim), False)

    # -- reductions ----------------------------------------------------------------------------
    def sum(self, dim=None, keepdim=False, **kwargs) -> "Tensor":
        """Σ over `dim` (all axes when None). `axis`/`keepdims` are accepted too."""
        dim, keepdim = _reduce_args(dim, keepdim, kwargs, "sum")
        return R.Sum.apply(self, _norm_dims(dim, self.ndim), keepdim)

    def mean(self, dim=None, keepdim=False, **kwargs) -> "Tensor":
        """Average over `dim` (all axes when None)."""
        dim, keepdim = _reduce_args(dim, keepdim, kwargs, "mean")
        return R.Mean.apply(self, _norm_dims(dim, self.ndim), keepdim)

    def var(self, dim=None, unbiased=True, keepdim=False, *, correction=None, **kwargs):
        """Variance over `dim`; unbiased (divides by N − 1) by default, as PyTorch."""
        dim, keepdim = _reduce_args(dim, keepdim, kwargs, "var")
        if correction is None:
            correction = 1 if unbiased else 0
        return R.Var.apply(self, _norm_dims(dim, self.ndim), keepdim, correction)

    def std(self, dim=None, unbiased=True, keepdim=False, *, correction=None, **kwargs):
        """Standard deviation: √var."""
        return self.var(dim, unbiased, keepdim, correction=correction, **kwargs).sqrt()

    def amax(self, dim=None, keepdim=False, **kwargs) -> "Tensor":
        """Largest value over `dim`; ties share the gradient evenly."""
        dim, keepdim = _reduce_args(dim, keepdim, kwargs, "amax")
        self._check_not_empty("amax")
        return R.AMax.apply(self, _norm_dims(dim, self.ndim), keepdim)

    def amin(self, dim=None, keepdim=False, **kwargs) -> "Tensor":
        """Smallest value over `dim`; ties share the gradient evenly."""
        dim, keepdim = _reduce_args(dim, keepdim, kwargs, "amin")
        self._check_not_empty("amin")
        return R.AMin.apply(self, _norm_dims(dim, self.ndim), keepdim)

    def max(self, dim=None, keepdim=False, **kwargs):
        """As PyTorch: `x.max()` is the largest value; `x.max(dim)` returns (values, indices),
        and the gradient goes to the element at each index (the first maximum)."""
        return self._extreme(np.argmax, "max", self.amax, dim, keepdim, kwargs)

    def min(self, dim=None, keepdim=False, **kwargs):
        """As PyTorch: `x.min()` is the smallest value; `x.min(dim)` returns (values, indices)."""
        return self._extreme(np.argmin, "min", self.amin, dim, keepdim, kwargs)

    def _extreme(self, arg_fn, name, whole, dim, keepdim, kwargs):
        if isinstance(dim, Tensor):  # x.max(other) is the elementwise maximum, as PyTorch
            return self.maximum(dim) if name == "max" else self.minimum(dim)
        dim, keepdim = _reduce_args(dim, keepdim, kwargs, name)
        if dim is None:
            return whole()
        self._check_not_empty(name)
        (axis,) = _norm_dims(dim, self.ndim)
        index = np.expand_dims(arg_fn(self.data, axis=axis), axis)
        values = R.TakeAlongDim.apply(self, index, axis, keepdim)
        indices = index if keepdim else np.squeeze(index, axis)
        return MaxResult(values, Tensor._make(indices, False))

    def _check_not_empty(self, name):
        if self.data.size == 0:
            raise RuntimeError(f"{name}() of an empty tensor of shape {self.shape}")

    # -- movement ------------------------------------------------------------------------------
    def reshape(self, *shape) -> "Tensor":
        """Same elements in a new shape; one entry may be −1 (inferred)."""
        shape = _as_shape(shape)
        try:
            np.empty(self.shape, dtype=bool).reshape(shape)  # validates cheaply, no data copied
        except ValueError:
            raise ValueError(f"cannot reshape a tensor of shape {self.shape} "
                             f"({self.data.size} elements) into shape {shape}") from None
        return MV.Reshape.apply(self, shape)

    view = reshape

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> "Tensor":
        """Merge the axes start_dim..end_dim into one."""
        if self.ndim == 0:
            return self.reshape(1)
        start, end = start_dim % self.ndim, end_dim % self.ndim
        shape = self.shape[:start] + (-1,) + self.shape[end + 1:]
        if self.data.size == 0:
            shape = self.shape[:start] + (int(np.prod(self.shape[start:end + 1])),) + self.shape[end + 1:]
        return self.reshape(shape)

    def permute(self, *order) -> "Tensor":
        """Reorder the axes: out.shape[i] = self.shape[order[i]]."""
        order = _as_shape(order)
        if sorted(d % max(self.ndim, 1) for d in order) != list(range(self.ndim)):
            raise ValueError(f"permute order {order} is not a permutation of the "
                             f"{self.ndim} axes of a tensor of shape {self.shape}")
        return MV.Permute.apply(self, tuple(d % self.ndim for d in order))

    def transpose(self, dim0: int, dim1: int) -> "Tensor":
        """Swap two axes."""
        order = list(range(self.ndim))
        (a,), (b,) = _norm_dims(dim0, self.ndim), _norm_dims(dim1, self.ndim)
        order[a], order[b] = order[b], order[a]
        return MV.Permute.apply(self, tuple(order))

    @property
    def T(self) -> "Tensor":
        """All axes reversed (the matrix transpose for 2-D tensors)."""
        return MV.Permute.apply(self, tuple(reversed(range(self.ndim))))

    def squeeze(self, dim=None) -> "Tensor":
        """Drop size-1 axes (all of them, or the given ones that have size 1)."""
        dims = _norm_dims(dim, self.ndim) if dim is not None else range(self.ndim)
        shape = tuple(n for i, n in enumerate(self.shape) if not (i in dims and n == 1))
        return self.reshape(shape)

    def unsqueeze(self, dim: int) -> "Tensor":
        """Insert a size-1 axis at position `dim`."""
        if not -self.ndim - 1 <= dim <= self.ndim:
            raise IndexError(f"unsqueeze dim {dim} out of range for shape {self.shape}")
        dim = dim % (self.ndim + 1)
        return self.reshape(self.shape[:dim] + (1,) + self.shape[dim:])

    def expand(self, *shape) -> "Tensor":
        """Repeat size-1 axes to `shape` without copying (−1 keeps a size)."""
        shape = _as_shape(shape)
        lead = len(shape) - self.ndim
        if lead < 0:
            raise ValueError(f"expand: shape {shape} has fewer axes than the tensor {self.shape}")
        shape = tuple(self.shape[i - lead] if n == -1 else n for i, n in enumerate(shape))
        try:
            np.broadcast_shapes(self.shape, shape)
            if np.broadcast_shapes(self.shape, shape) != shape:
                raise ValueError
        except ValueError:
            raise ValueError(f"cannot expand shape {self.shape} to {shape}") from None
        return MV.Expand.apply(self, shape)

    def expand_as(self, other: "Tensor") -> "Tensor":
        return self.expand(other.shape)

    def __getitem__(self, index) -> "Tensor":
        index = _convert_index(index)
        try:
            self.data[index]
        except IndexError as err:
            raise IndexError(f"{err} (tensor of shape {self.shape})") from None
        return MV.GetItem.apply(self, index)

    def __setitem__(self, index, value) -> None:
        """In-place assignment, for tensors outside the graph (initialisation, masks)."""
        if (self.requires_grad or self._ctx is not None) and _state.grad_enabled():
            raise RuntimeError("in-place assignment to a tensor that requires grad would "
                               "break its gradient; do it under no_grad(), or build a new "
                               "tensor with where() or cat()")
        self.data[_convert_index(index)] = _data(value)

    # -- activations ---------------------------------------------------------------------------
    def relu(self): return A.ReLU.apply(self)
    def sigmoid(self): return A.Sigmoid.apply(self)
    def tanh(self): return A.Tanh.apply(self)

    def leaky_relu(self, negative_slope: float = 0.01) -> "Tensor":
        """x where x > 0, else negative_slope · x."""
        return A.LeakyReLU.apply(self, float(negative_slope))

    def elu(self, alpha: float = 1.0) -> "Tensor":
        """x where x > 0, else alpha · (eˣ − 1)."""
        return A.ELU.apply(self, float(alpha))

    def dropout(self, p: float = 0.5, training: bool = True) -> "Tensor":
        """Zero each element with probability p and scale the rest by 1/(1 − p) (training only)."""
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        if not training or p == 0.0:
            return self
        keep = _state.rng().random(self.shape) >= p
        scale = 0.0 if p == 1.0 else 1.0 / (1.0 - p)
        return A.Dropout.apply(self, (keep * scale).astype(self.dtype))

    def softmax(self, dim: int) -> "Tensor":
        """e^{x_i} / Σ_j e^{x_j} along `dim` (computed without overflow)."""
        (dim,) = _norm_dims(dim, self.ndim)
        return A.Softmax.apply(self, dim)

    def log_softmax(self, dim: int) -> "Tensor":
        """x_i − log Σ_j e^{x_j} along `dim` (log-sum-exp: exact and finite)."""
        (dim,) = _norm_dims(dim, self.ndim)
        return A.LogSoftmax.apply(self, dim)

    # -- backward ------------------------------------------------------------------------------
    def backward(self, gradient=None, retain_graph: bool = False, trace: bool = False,
                 names=None):
        """Compute the gradient of this tensor with respect to every leaf that requires grad.

        gradient: ∂L/∂self (needed unless self has one element, where it defaults to 1).
        retain_graph: keep the saved values so backward can run through the graph again.
        trace: print each backward step as it happens (see tinygrad_edu.explain);
            the steps are also returned as a list of records.
        names: with trace, how to call the tensors in the printout ({name: tensor}, e.g.
            `names=locals()`); unnamed ones are t0, t1, … in the order they were made.
        """
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
        if trace:
            from .explain import trace_backward  # the teaching trace lives in explain.py
            return trace_backward(self, seed, retain_graph=retain_graph, names=names)
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


function.Tensor = Tensor  # see function.py: apply() wraps results in this class


# ---------------------------------------------------------------------------------------------
# backward: the engine
# ---------------------------------------------------------------------------------------------
def topological_order(root: Tensor, constants: bool = False) -> list:
    """Tensors of the graph below `root`, each after all it was made from: those that require
    grad (what backward visits), or every tensor with `constants=True` (what explain shows).

    Iterative depth-first search (no recursion, so a 100,000-op chain is fine): a tensor is
    appended only when everything it was computed from has been appended before it. Inputs are
    visited in argument order, so in `a * b` a comes before b.
    """
    order, visited = [], set()
    stack = [(root, False)]
    while stack:
        node, inputs_done = stack.pop()
        if inputs_done:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        ctx = node._ctx
        if ctx is not None:
            for parent in reversed(ctx.parents):  # reversed: the stack pops the first one first
                if parent is not None and (constants or parent.requires_grad) \
                        and id(parent) not in visited:
                    stack.append((parent, False))
    return order


def run_backward(root: Tensor, seed: np.ndarray, retain_graph: bool = False, on_step=None):
    """Reverse-mode differentiation from `root`, whose gradient is `seed`.

    on_step(node, ctx, grad_out, parent_grads) is called after each Function's backward; the
    teaching tools (explain, anomaly detection) hook in there.
    """
    grads = {id(root): seed}  # gradient collected so far by each tensor of the graph
    anomaly = _state.anomaly_enabled()
    for node in reversed(topological_order(root)):
        g = grads.pop(id(node), None)
        if g is None:
            continue  # no gradient reached this tensor
        ctx = node._ctx
        if ctx is None or node._retains_grad:
            _accumulate_into_grad(node, g)
        if ctx is None:
            continue
        if ctx._freed:
            raise RuntimeError(
                f"trying to backward through the graph a second time ({ctx.name} already freed "
                "its saved values); call backward(retain_graph=True) the first time")
        parent_grads = type(ctx).backward(ctx, g)
        if not isinstance(parent_grads, tuple):
            parent_grads = (parent_grads,)
        if len(parent_grads) != len(ctx.parents):
            raise RuntimeError(f"{ctx.name}.backward returned {len(parent_grads)} gradients, "
                               f"forward took {len(ctx.parents)} arguments")
        for parent, need, pg in zip(ctx.parents, ctx.needs_input_grad, parent_grads):
            if not need or pg is None:
                continue
            if pg.shape != parent.data.shape:
                pg = _unbroadcast(pg, parent.data.shape, ctx)
            if pg.dtype != parent.data.dtype:
                pg = pg.astype(parent.data.dtype)
            if anomaly:
                _state.check_finite(ctx, pg)
            key = id(parent)
            previous = grads.get(key)
            grads[key] = pg if previous is None else previous + pg
        if on_step is not None:
            on_step(node, ctx, g, parent_grads)
        if not retain_graph:
            ctx._free()


def _accumulate_into_grad(t: Tensor, g: np.ndarray) -> None:
    """Leaves sum their gradients across backward calls (`+=`, as PyTorch)."""
    if t.grad is None:
        t.grad = np.array(g, dtype=t.data.dtype, copy=True)  # own copy: g may be shared
    else:
        t.grad += g


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
    return MV.Cat.apply(axis, *tensors)


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Stack same-shape tensors along a new axis `dim`."""
    tensors = _as_tensors(tensors, "stack")
    if len({t.shape for t in tensors}) != 1:
        raise ValueError(f"stack: all shapes must be equal, got {[t.shape for t in tensors]}")
    ndim = tensors[0].ndim + 1
    if not -ndim <= dim < ndim:
        raise IndexError(f"stack: dim {dim} out of range for {ndim} dimensions")
    return MV.Stack.apply(dim % ndim, *tensors)


def where(condition, x, y) -> Tensor:
    """x where condition is true, else y (broadcasting); differentiable in x and y."""
    cond = np.asarray(_data(condition), dtype=bool)
    return E.Where.apply(cond, x, y)
