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
from .tensor_shape import _convert_index, check_index, torch_index_stages

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
        index = check_index(_convert_index(index), self.shape)
        if isinstance(value, Node) and value.data.dtype != self.data.dtype and \
                not _picks_a_view(index) and not (_is_one_mask(index) and value.data.size == 1):
            raise RuntimeError(f"Index put requires the source and destination dtypes match, "
                               f"got {self.data.dtype} for the destination and "
                               f"{value.data.dtype} for the source")  # as PyTorch's index_put_
        stages = torch_index_stages(index)
        if stages is not None:  # ints with arrays: as PyTorch, through the view the ints pick
            self[stages[0]][stages[1]] = value
            return
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
        if _repeats_memory(self.data):  # PyTorch allows a few such writes (x[0] = v); not here
            raise RuntimeError(f"{symbol}: unsupported operation: more than one element of the "
                               "written-to tensor refers to a single memory location (an "
                               "expanded view); clone() it first")
        if isinstance(other, Node) and _overlap(self.data, other.data, index):
            raise RuntimeError(f"{symbol}: unsupported operation: some elements of the input "
                               "tensor and the written-to tensor refer to a single memory "
                               "location; clone() the tensor before the operation")
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
        already used it (self._history). A view passes the change on to the tensor that owns
        its memory (`_update_view_in_graph`)."""
        if self._base is not None:
            return self._update_view_in_graph(symbol, other, recorded_op)
        if self._ctx is None and self.requires_grad:
            raise RuntimeError(f"a leaf tensor that requires grad is being used in an in-place "
                               f"operation ({symbol}); do it under no_grad() (as an optimizer "
                               "step does), or compute a new tensor instead")
        earlier = self._earlier_self(operand_too=other is self)
        result = self._checked(symbol, recorded_op(earlier, earlier if other is self else other))
        self.data[...] = result.data  # in place: every holder of self (and views) sees it
        self._become(result, earlier, self._version[0])
        self._version[0] += 1

    def _update_view_in_graph(self, symbol, other, recorded_op) -> None:
        """v op= other for a view v of root's memory: v's new values are computed as for any
        tensor, then scattered into root (AsStridedScatterFn), and v becomes a view of the new
        root (AsStridedFn): gradients flow through the change to both, as in PyTorch."""
        root = self._base[0]
        if root._ctx is None and root.requires_grad:
            raise RuntimeError(f"a view of a leaf tensor that requires grad is being used in an "
                               f"in-place operation ({symbol}); do it under no_grad()")
        positions = _positions(self.data, root.data, symbol)
        if np.unique(positions).size != positions.size:
            raise RuntimeError(f"{symbol}: unsupported operation: more than one element of the "
                               "written-to tensor refers to a single memory location (an "
                               "expanded view); clone() it first")
        if self._base[1] != len(root._history or ()):
            self._refresh_view()
        earlier = self._earlier_self(operand_too=other is self)
        value = self._checked(symbol, recorded_op(earlier, earlier if other is self else other))
        earlier_root = root._earlier_self()
        new_root = movement.AsStridedScatterFn.apply(earlier_root, _cast_value(value, self),
                                                     positions)
        self.data[...] = value.data  # writes root's memory: root and every view see it
        before = self._version[0]
        root._become(new_root, earlier_root, before)
        self._version[0] += 1  # (shared with root) before the view reads the new root:
        view = movement.AsStridedFn.apply(root, positions, self.data)
        self._become(view, earlier, before)
        self._base = [root, len(root._history)]

    def _refresh_view(self) -> None:
        """Make this view read its root as it is now: the root was changed in place in the
        graph since the view was made, so the view's own graph node is out of date. Ops that
        used the view before keep its earlier self."""
        root = self._base[0]
        if not _state.grad_enabled():
            return  # nothing is recorded now; the next recorded use makes it current
        positions = _positions(self.data, root.data, "a view")
        earlier = self._make(self.data, self.requires_grad)
        earlier._ctx, earlier._version = self._ctx, [self._version[0] - 1]
        view = movement.AsStridedFn.apply(root, positions, self.data)
        self._history = (self._history or []) + [(self._version[0] - 1, earlier)]
        self._ctx, self.requires_grad = view._ctx, view.requires_grad
        self._base = [root, len(root._history or ())]

    # -- helpers -------------------------------------------------------------------------------
    def _earlier_self(self, operand_too=False):
        """A copy of self as it is now: the node that ops which already used self keep.

        operand_too: self is also the other operand (`x *= x`). In PyTorch that operand is x
        itself, which this very op then changes: an op that saved it for backward (`*=`, `/=`)
        refuses to run backward ("modified by an inplace operation"); `+=` and `-=` save
        nothing and are fine. Sharing self's version counter gives the same."""
        earlier = self._make(self.data.copy(), self.requires_grad)
        earlier._ctx = self._ctx
        earlier._version = self._version if operand_too else [self._version[0]]
        return earlier

    def _checked(self, symbol, result):
        if result.shape != self.shape:
            raise RuntimeError(f"{symbol}: output with shape {self.shape} doesn't match the "
                               f"broadcast shape {result.shape}")
        if not np.can_cast(result.dtype, self.dtype, casting="same_kind"):
            raise RuntimeError(f"{symbol}: result type {result.dtype} can't be cast to the "
                               f"desired output type {self.dtype}")
        return result

    def _become(self, result, earlier, version) -> None:
        """Self is now result's node in the graph; earlier stands for it up to `version`."""
        self._history = (self._history or []) + [(version, earlier)]
        self._ctx = result._ctx
        self.requires_grad = True


def _positions(view: np.ndarray, root: np.ndarray, what: str) -> np.ndarray:
    """For every element of `view` (a numpy view of root's memory), its flat index in root."""
    item = root.itemsize
    start = view.__array_interface__["data"][0] - root.__array_interface__["data"][0]
    if root.flags.c_contiguous and not start % item and not any(st % item for st in view.strides):
        flat = np.arange(root.size, dtype=np.int64)
        return np.lib.stride_tricks.as_strided(
            flat[start // item:], view.shape,
            tuple(st // item * flat.itemsize for st in view.strides)).copy()
    if view.size == 0:
        return np.zeros(view.shape, dtype=np.int64)
    # Any other layout (root itself permuted, as log(x.permute(…)) keeps x's strides): find
    # each view element's byte offset among root's, in root's C order
    root_offsets, view_offsets = _byte_offsets(root).ravel(), start + _byte_offsets(view)
    order = np.argsort(root_offsets, kind="stable")
    found = np.searchsorted(root_offsets[order], view_offsets).clip(0, max(root.size - 1, 0))
    if np.unique(root_offsets).size != root.size or \
            not np.array_equal(root_offsets[order][found], view_offsets):
        raise RuntimeError(f"{what}: an in-place change through this view is not supported "
                           "here; use .contiguous().clone() first")
    return order[found]


def _byte_offsets(a: np.ndarray) -> np.ndarray:
    """Each element's byte offset from a's first element, in a's shape."""
    offsets = np.zeros(a.shape, dtype=np.int64)
    for axis, (n, stride) in enumerate(zip(a.shape, a.strides)):
        offsets += (np.arange(n, dtype=np.int64) * stride).reshape(
            (n,) + (1,) * (a.ndim - axis - 1))
    return offsets


def _cast_value(value, like):
    """x[index] = value keeps x's dtype (numpy assignment casts, as PyTorch's index_put_)."""
    if isinstance(value, Node):
        return value if value.dtype == like.dtype or value.dtype.kind != "f" \
            else value.to(like.dtype)
    return np.asarray(value, dtype=like.dtype)


def _repeats_memory(a: np.ndarray) -> bool:
    """True when some elements of a share memory (an expanded view: stride 0 on an axis of
    size > 1). Writes into such a tensor are refused: PyTorch refuses those that write one
    element twice (x += 1, x[:] = v), warns and fails at backward for x[index_array] = v, and
    allows x[0] = v; one rule is easier to learn, and clone() is the way out in every case."""
    return a.size > 0 and any(stride == 0 and size > 1 for stride, size in zip(a.strides, a.shape))


def _overlap(target: np.ndarray, source: np.ndarray, index) -> bool:
    """True when writing into target reads memory it is writing (PyTorch refuses that). The
    very same elements are fine (`a += a`, `x[::2] = x[::2]`: each element reads itself), not
    an advanced index (x[mask] = x)."""
    advanced = index is not None and not _picks_a_view(index)
    if _is_one_mask(index) and source.size == 1:
        return False  # x[mask] = one value: read once, then filled in (torch's masked_fill)
    if advanced and _same_layout(target, source):
        # x[array] = x: torch refuses it even when nothing is written (the very same tensor).
        # But where the index's basic part makes a view first, an empty view overlaps nothing
        return target.size != 0 or not _basic_part_makes_a_view(index, target.shape)
    if index is not None and not advanced:
        target = target[index]  # the elements written: a view
    if not np.may_share_memory(target, source):
        return False
    if not advanced and _same_layout(target, source):
        return False
    if index is not None and not advanced and target.shape != source.shape and \
            _same_elements(target, source):
        return False  # x[None] = x: torch expands the value first, then each element reads itself
    if index is not None and source.ndim == 0:
        return False  # x[i] = a 0-d value: read once, then written everywhere (torch's fill_)
    try:
        return bool(np.shares_memory(target, source, max_work=10_000))
    except np.exceptions.TooHardError:  # an exact answer is too costly: assume they overlap
        return True


def _basic_part_makes_a_view(index, shape) -> bool:
    """Whether PyTorch, indexing with `index` (which holds arrays), first takes a view for its
    basic part: an int, None, or a slice other than a whole axis with step 1 (for such a slice
    and for ..., torch's applySlicing keeps the tensor itself)."""
    items = index if isinstance(index, tuple) else (index,)
    consumed = sum(np.ndim(i) if isinstance(i, np.ndarray) and i.dtype == bool else 1
                   for i in items if i is not None and i is not Ellipsis)
    axis = 0
    for item in items:
        if item is Ellipsis:
            axis += len(shape) - consumed
        elif item is None or isinstance(item, (int, np.integer)):
            return True
        elif isinstance(item, slice):
            if item.indices(shape[axis]) != (0, shape[axis], 1):
                return True
            axis += 1
        else:  # an integer array, or a boolean mask over mask.ndim axes
            axis += np.ndim(item) if isinstance(item, np.ndarray) and item.dtype == bool else 1
    return False


def _same_layout(a: np.ndarray, b: np.ndarray) -> bool:
    """The same address, shape and strides (every axis's, as torch compares them: y[::2] of a
    (1, 1) y has other strides than y, so `y[::2] = y` counts as a partial overlap there)."""
    return (a.__array_interface__["data"][0] == b.__array_interface__["data"][0]
            and a.shape == b.shape and _torch_strides(a) == _torch_strides(b) and a.dtype == b.dtype)


def _torch_strides(a: np.ndarray) -> tuple:
    """a's strides as PyTorch would have them: numpy gives an axis made by None stride 0, PyTorch's
    unsqueeze gives it the stride of the axis after it times that axis's size (x[0, None] of a
    (1,) x has x's own strides in PyTorch)."""
    strides = list(a.strides)
    for i in reversed(range(a.ndim)):
        if a.shape[i] == 1 and strides[i] == 0:
            strides[i] = a.shape[i + 1] * strides[i + 1] if i + 1 < a.ndim else a.itemsize
    return tuple(strides)


def _same_elements(target: np.ndarray, source: np.ndarray) -> bool:
    """Each element of target is written from itself: source broadcast to target's shape
    starts at the same address and steps alike along every axis longer than 1."""
    try:
        source = np.broadcast_to(source, target.shape)
    except ValueError:
        return False
    return (target.__array_interface__["data"][0] == source.__array_interface__["data"][0]
            and all(n <= 1 or a == b
                    for n, a, b in zip(target.shape, target.strides, source.strides)))


def _is_one_mask(index) -> bool:
    """x[mask] with a single boolean mask as the index's only array (ints, slices, None and ...
    may stand beside it: x[mask, 0, ...]): PyTorch fills it (masked_fill) from a one-element
    value of any dtype."""
    items = index if isinstance(index, tuple) else (index,)
    arrays = [item for item in items if isinstance(item, np.ndarray)]
    return len(arrays) == 1 and arrays[0].dtype == bool


def _picks_a_view(index) -> bool:
    """Ints, slices, None and ... only: numpy's "basic" indexing, whose result is a view."""
    items = index if isinstance(index, tuple) else (index,)
    return all(item is None or item is Ellipsis or isinstance(item, (slice, int, np.integer))
               for item in items)
