"""In-place operators with PyTorch's semantics: `+=`, `-=`, `*=`, `/=`, `x[i] = v`, `zero_()`, ….

`Tensor` (tensor.py) inherits these methods from `InplaceMethods`. Two cases:

- **Outside the graph** (under `no_grad()`, or when no operand requires grad): the numpy array
  is changed in place. This is the manual SGD step, `with no_grad(): p -= lr * p.grad`, and
  everything that holds `p` (a model, an optimizer) sees the new values.
- **In the graph** (an operand requires grad and recording is on): the op is recorded like any
  other, and the tensor becomes its result. `out = zeros(3); out[0] = (x * x).sum()` sends
  x's gradient through `out`. Ops that used the tensor before keep its earlier self (see
  `engine.inputs_of`). As in PyTorch, a leaf that requires grad refuses (its `.grad` would
  have no meaning), and so does a tensor that shares memory with a view of it in the graph.

Every in-place change bumps the tensor's version counter, shared with its views. An op that
saved the array for backward notes the version, and backward refuses to run on a changed
array ("modified by an inplace operation") instead of computing a wrong gradient:

>>> from tinygrad_edu import Tensor
>>> w = Tensor([1.0, 2.0], requires_grad=True); c = Tensor([3.0, 4.0])
>>> y = (w * c).sum()          # MulFn saved c for ∂y/∂w = c
>>> c[0] = 100.0
>>> y.backward()
Traceback (most recent call last):
RuntimeError: one of the arrays needed for gradient computation has been modified by an inplace operation: ...
"""

from __future__ import annotations

import numpy as np

from . import _state
from .engine import Node
from .ops import movement
from .tensor_shape import _convert_index

_UFUNCS = {"+=": np.add, "-=": np.subtract, "*=": np.multiply, "/=": np.true_divide,
           "//=": np.floor_divide, "%=": np.remainder}


class InplaceMethods:
    """The in-place operators and initialisers of Tensor."""

    __slots__ = ()

    def __iadd__(self, other): return self._update("+=", other, lambda x, o: x + o)
    def __isub__(self, other): return self._update("-=", other, lambda x, o: x - o)
    def __imul__(self, other): return self._update("*=", other, lambda x, o: x * o)
    def __itruediv__(self, other): return self._update("/=", other, lambda x, o: x / o)
    def __ifloordiv__(self, other): return self._update("//=", other, None)
    def __imod__(self, other): return self._update("%=", other, None)

    add_, sub_, mul_, div_ = __iadd__, __isub__, __imul__, __itruediv__

    def __setitem__(self, index, value) -> None:
        index = _convert_index(index)
        self._update("[…] =", value,
                     lambda x, v: movement.SetItemFn.apply(x, _cast_value(v, x), index), index)

    def zero_(self):
        """Fill with zeros in place (outside the graph)."""
        return self.fill_(0)

    def fill_(self, value):
        """Fill with `value` in place (outside the graph)."""
        return self._update("fill_", value,
                            lambda x, v: movement.SetItemFn.apply(x, _cast_value(v, x), ...), ...)

    # -- the two ways an in-place op runs ------------------------------------------------------
    def _update(self, symbol, other, recorded_op, index=None):
        wants_grad = self.requires_grad or (isinstance(other, Node) and other.requires_grad)
        if wants_grad and _state.grad_enabled():
            if recorded_op is None:
                raise RuntimeError(f"{symbol} has no gradient, so it can't change a tensor that "
                                   "requires grad in place; do it under no_grad()")
            self._update_in_graph(symbol, other, recorded_op)
        else:
            self._update_array(symbol, other, index)
        self._version[0] += 1
        return self

    def _update_array(self, symbol, other, index) -> None:
        """Change self.data in place (numpy's `out=`), with PyTorch's casting rule: a result
        of a higher kind (a float into an integer tensor) is refused."""
        value = other.data if isinstance(other, Node) else other
        if index is not None:  # x[index] = value, fill_
            self.data[index] = value
            return
        try:
            _UFUNCS[symbol](self.data, value, out=self.data, casting="same_kind")
        except TypeError as err:  # numpy's UFuncTypeError (a TypeError): float into int
            result = np.result_type(self.data, value)
            raise RuntimeError(f"{symbol}: result type {result} can't be cast to the desired "
                               f"output type {self.data.dtype} (tensor of shape "
                               f"{self.shape})") from err
        except ValueError as err:
            raise RuntimeError(f"{symbol}: a value of shape {np.shape(value)} can't be written "
                               f"into a tensor of shape {self.shape} ({err})") from None

    def _update_in_graph(self, symbol, other, recorded_op) -> None:
        """Record the op: self becomes its result, its earlier self is kept for the ops that
        already used it (self._history)."""
        if self._ctx is None and self.requires_grad:
            raise RuntimeError(f"a leaf tensor that requires grad is being used in an in-place "
                               f"operation ({symbol}); do it under no_grad() (as an optimizer "
                               "step does), or compute a new tensor instead")
        if len(self._version) > 1:
            raise RuntimeError(f"{symbol} on a tensor that shares memory with another tensor "
                               "(a view: reshape, transpose, slicing, detach) while a gradient "
                               "must flow through it is not supported; use .clone() first")
        earlier = self._make(self.data.copy(), self.requires_grad)  # self as it was
        earlier._ctx = self._ctx
        earlier._version = [self._version[0]]
        result = recorded_op(earlier, earlier if other is self else other)
        if result.shape != self.shape:
            raise RuntimeError(f"{symbol}: output with shape {self.shape} doesn't match the "
                               f"broadcast shape {result.shape}")
        if not np.can_cast(result.dtype, self.dtype, casting="same_kind"):
            raise RuntimeError(f"{symbol}: result type {result.dtype} can't be cast to the "
                               f"desired output type {self.dtype}")
        self.data[...] = result.data  # in place: every holder of self (and views) sees it
        self._history = (self._history or []) + [(self._version[0], earlier)]
        self._ctx = result._ctx
        self.requires_grad = True


def _cast_value(value, like):
    """x[index] = value keeps x's dtype (numpy assignment casts, as PyTorch's index_put_)."""
    if isinstance(value, Node):
        return value if value.dtype == like.dtype or value.dtype.kind != "f" \
            else value.to(like.dtype)
    return np.asarray(value, dtype=like.dtype)
