"""Reductions and movement: the Tensor methods that change a tensor's shape.

`Tensor` (tensor.py) inherits these methods from `ShapeMethods`, a mixin that keeps tensor.py
short; each method checks its arguments with PyTorch's rules and then calls one Function of
ops/reduce.py or ops/movement.py. Results are made with `self._make`, so this module needs no
import of tensor.py (which sits above it).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .engine import Node
from .ops import movement, reduce

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


def _var_dims(dim, ndim: int):
    """var/std's axes: None stays None (torch's dim=None rule for N ≤ correction in backward,
    see reduce._variance_backward); dim=() is every axis, named (forward and backward agree;
    torch's backward counts N = 1 there, a quirk of torch not copied)."""
    return None if dim is None else _norm_dims(dim, ndim)


def _norm_dims(dim, ndim: int, name: str = "dim") -> tuple:
    """None → all axes; an int or a sequence → a sorted tuple of non-negative axes.

    As PyTorch, a 0-d tensor accepts dim 0 or −1 (and reducing it over that "axis" leaves it
    as it is): then the result is ()."""
    if dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0):
        return tuple(range(ndim))  # dim=() reduces every axis too, as PyTorch
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    out = []
    for d in dims:
        if not isinstance(d, (int, np.integer)) or isinstance(d, bool):
            raise TypeError(f"{name} must be an int or a tuple of ints, got {dim!r}")
        if not -max(ndim, 1) <= d < max(ndim, 1):
            raise IndexError(f"Dimension out of range (expected to be in range of "
                             f"[{-max(ndim, 1)}, {max(ndim, 1) - 1}], but got {d}): {name} {d} "
                             f"for a tensor with {ndim} dimensions")
        out.append(int(d) % max(ndim, 1))
    if len(set(out)) != len(out):
        raise ValueError(f"{name} {dim!r} names an axis twice")
    return tuple(sorted(out)) if ndim else ()


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
    return x.data if isinstance(x, Node) else x


def _as_view_index(index):
    """PyTorch's rule on top of numpy's: x[0] (or x[()]) of a tensor is a view that shares
    its memory, as x[1:] is. numpy copies an indexing that picks a single element, unless the
    index ends in `...`: so add one where only basic items are. (`check_index` has checked the
    index.)"""
    items = index if isinstance(index, tuple) else (index,)
    basic = all(item is None or item is Ellipsis or isinstance(item, (slice, int, np.integer))
                and not isinstance(item, bool) for item in items)
    if basic and not any(item is Ellipsis for item in items):
        return items + (Ellipsis,)
    return index


def torch_index_stages(index):
    """PyTorch applies integer indices before array indices (each int selects and drops its
    axis first); numpy broadcasts ints together with arrays, which moves the arrays' axes when
    a slice or None stands between them: zeros(2, 3, 4)[0, None, mask] is (1, 8) in PyTorch
    and (8, 1) in numpy. So an index with both is split in two: the ints (and slices, None)
    first, then the arrays on what is left. None when numpy's rule already agrees."""
    items = index if isinstance(index, tuple) else (index,)
    arrays = [isinstance(item, np.ndarray) and item.ndim > 0 for item in items]
    ints = [isinstance(item, (int, np.integer)) and not isinstance(item, bool) for item in items]
    if not (any(arrays) and any(ints)):
        return None
    first, then = [], []
    for item, is_array, is_int in zip(items, arrays, ints):
        if is_array:
            first += [slice(None)] * (item.ndim if item.dtype == bool else 1)
            then.append(item)
        elif is_int:
            first.append(item)
        else:  # slices, None, ...: applied first; afterwards their axis is kept as it is
            first.append(item)
            then.append(item if item is Ellipsis else slice(None))
    return tuple(first), tuple(then)


def _convert_index(index):
    """Tensors inside an index become their numpy arrays; lists become integer arrays."""
    if isinstance(index, tuple):
        return tuple(_convert_index(i) for i in index)
    if isinstance(index, Node):
        return index.data
    if isinstance(index, list):
        return np.asarray(index)
    return index


def check_index(index, shape):
    """PyTorch's rules on top of numpy's, for reading (x[i]) and writing (x[i] = v): no
    negative or zero slice steps, and a boolean mask has the shape of the axes it covers
    (numpy does not check that when the tensor is empty). Returns the index, without a `...`
    that stands for no axes: numpy counts even that as separating two arrays, so that their
    axis goes first; PyTorch does not (zeros(1, 1, 1)[:0, [0], ..., [0]] is (0, 1), not (1, 0))."""
    items = index if isinstance(index, tuple) else (index,)
    for item in items:
        if isinstance(item, slice) and item.step is not None and item.step <= 0:
            raise ValueError(f"step must be greater than zero, got slice {item}")

    def covered(item):  # how many axes of the tensor an index item uses
        if item is None or item is Ellipsis:
            return 0
        return item.ndim if isinstance(item, np.ndarray) and item.dtype == bool else 1

    axis = 0
    for item in items:
        if item is Ellipsis:
            axis += len(shape) - sum(covered(i) for i in items)
        elif isinstance(item, np.ndarray) and item.dtype == bool:
            if item.shape != tuple(shape[axis:axis + item.ndim]):
                raise IndexError(f"The shape of the mask {list(item.shape)} does not match the "
                                 f"shape of the indexed tensor {list(shape)} at index {axis}")
            axis += item.ndim
        else:
            axis += covered(item)
    if any(i is Ellipsis for i in items) and len(shape) == sum(covered(i) for i in items):
        items = tuple(i for i in items if i is not Ellipsis)
        return items if isinstance(index, tuple) or len(items) != 1 else items[0]
    return index


class MaxResult(NamedTuple):
    """What `max(dim)` / `min(dim)` return, as PyTorch: the values and their indices."""
    values: Tensor
    indices: Tensor


# ---------------------------------------------------------------------------------------------
# The methods
# ---------------------------------------------------------------------------------------------
class ShapeMethods:
    """Reductions (sum, mean, var, max, …) and movement (reshape, permute, expand, indexing)."""

    __slots__ = ()

    def argmax(self, dim=None, keepdim=False) -> Tensor:
        return self._make(np.argmax(self.data, axis=dim, keepdims=keepdim), False)

    def argmin(self, dim=None, keepdim=False) -> Tensor:
        return self._make(np.argmin(self.data, axis=dim, keepdims=keepdim), False)

    # -- reductions ----------------------------------------------------------------------------
    def sum(self, dim=None, keepdim=False, **kwargs) -> Tensor:
        """Σ over `dim` (all axes when None). `axis`/`keepdims` are accepted too."""
        dim, keepdim = _reduce_args(dim, keepdim, kwargs, "sum")
        return reduce.SumFn.apply(self, _norm_dims(dim, self.ndim), keepdim)

    def mean(self, dim=None, keepdim=False, **kwargs) -> Tensor:
        """Average over `dim` (all axes when None)."""
        dim, keepdim = _reduce_args(dim, keepdim, kwargs, "mean")
        return reduce.MeanFn.apply(self, _norm_dims(dim, self.ndim), keepdim)

    def var(self, dim=None, unbiased=True, keepdim=False, *, correction=None, **kwargs):
        """Variance over `dim`; unbiased (divides by N − 1) by default, as PyTorch."""
        dim, keepdim = _reduce_args(dim, keepdim, kwargs, "var")
        if correction is None:
            correction = 1 if unbiased else 0
        return reduce.VarFn.apply(self, _var_dims(dim, self.ndim), keepdim, correction)

    def std(self, dim=None, unbiased=True, keepdim=False, *, correction=None, **kwargs):
        """Standard deviation √var, one op: its gradient is 0 at zero variance, as PyTorch."""
        dim, keepdim = _reduce_args(dim, keepdim, kwargs, "std")
        if correction is None:
            correction = 1 if unbiased else 0
        return reduce.StdFn.apply(self, _var_dims(dim, self.ndim), keepdim, correction)

    def amax(self, dim=None, keepdim=False, **kwargs) -> Tensor:
        """Largest value over `dim`; ties share the gradient evenly."""
        dim, keepdim = _reduce_args(dim, keepdim, kwargs, "amax")
        dims = _norm_dims(dim, self.ndim)
        self._check_not_empty("amax", dims)
        return reduce.AMaxFn.apply(self, dims, keepdim)

    def amin(self, dim=None, keepdim=False, **kwargs) -> Tensor:
        """Smallest value over `dim`; ties share the gradient evenly."""
        dim, keepdim = _reduce_args(dim, keepdim, kwargs, "amin")
        dims = _norm_dims(dim, self.ndim)
        self._check_not_empty("amin", dims)
        return reduce.AMinFn.apply(self, dims, keepdim)

    def max(self, dim=None, keepdim=False, **kwargs):
        """As PyTorch: `x.max()` is the largest value; `x.max(dim)` returns (values, indices),
        and the gradient goes to the element at each index (the first maximum)."""
        return self._extreme(np.argmax, "max", reduce.AMaxFn, dim, keepdim, kwargs)

    def min(self, dim=None, keepdim=False, **kwargs):
        """As PyTorch: `x.min()` is the smallest value; `x.min(dim)` returns (values, indices)."""
        return self._extreme(np.argmin, "min", reduce.AMinFn, dim, keepdim, kwargs)

    def _extreme(self, arg_fn, name, whole, dim, keepdim, kwargs):
        if isinstance(dim, Node):  # x.max(other) is the elementwise maximum, as PyTorch
            return self.maximum(dim) if name == "max" else self.minimum(dim)
        dim, keepdim = _reduce_args(dim, keepdim, kwargs, name)
        if dim is None:  # as torch.max(x): the NaN elements of a NaN result share g
            self._check_not_empty(name, _norm_dims(None, self.ndim))
            return whole.apply(self, _norm_dims(None, self.ndim), False, nan_wins=True)
        self._check_not_empty(name, _norm_dims(dim, self.ndim))
        if self.ndim == 0:  # a 0-d tensor has one value at index 0, as PyTorch says
            _norm_dims(dim, 0)
            values, indices = self.reshape(1)._extreme(arg_fn, name, whole, 0, False, {})
            return MaxResult(values, indices)
        (axis,) = _norm_dims(dim, self.ndim)
        index = np.expand_dims(arg_fn(self.data, axis=axis), axis)
        values = reduce.TakeAlongDimFn.apply(self, index, axis, keepdim)
        indices = index if keepdim else np.squeeze(index, axis)
        return MaxResult(values, self._make(indices, False))

    def _check_not_empty(self, name, dims):
        """A max over an axis of size 0 has no value (the other axes may be empty)."""
        if any(self.shape[d] == 0 for d in dims):
            raise RuntimeError(f"{name}(): cannot reduce over an axis of size 0 in a tensor of "
                               f"shape {self.shape} (dims {dims})")

    # -- movement ------------------------------------------------------------------------------
    def reshape(self, *shape) -> Tensor:
        """Same elements in a new shape; one entry may be −1 (inferred)."""
        shape = _as_shape(shape)
        if any(n < -1 for n in shape) or shape.count(-1) > 1:
            raise ValueError(f"reshape: invalid shape {shape} for a tensor of shape {self.shape}: "
                             "sizes must be ≥ 0, with at most one −1 (inferred)")
        try:
            np.empty(self.shape, dtype=bool).reshape(shape)  # validates cheaply, no data copied
        except ValueError:
            raise ValueError(f"cannot reshape a tensor of shape {self.shape} "
                             f"({self.data.size} elements) into shape {shape}") from None
        return movement.ReshapeFn.apply(self, shape)

    view = reshape

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        """Merge the axes start_dim..end_dim into one."""
        if self.ndim == 0:
            _norm_dims(start_dim, 0, "start_dim"), _norm_dims(end_dim, 0, "end_dim")
            return self.reshape(1)
        (start,), (end,) = _norm_dims(start_dim, self.ndim, "start_dim"), \
            _norm_dims(end_dim, self.ndim, "end_dim")
        if start > end:
            raise ValueError(f"flatten() has invalid args: start_dim ({start_dim}) cannot come "
                             f"after end_dim ({end_dim}) for a tensor of shape {self.shape}")
        shape = self.shape[:start] + (-1,) + self.shape[end + 1:]
        if self.data.size == 0:
            shape = self.shape[:start] + (int(np.prod(self.shape[start:end + 1])),) + self.shape[end + 1:]
        return self.reshape(shape)

    def permute(self, *order) -> Tensor:
        """Reorder the axes: out.shape[i] = self.shape[order[i]]."""
        order = _as_shape(order)
        if len(order) != self.ndim:
            raise ValueError(f"permute: order {order} has {len(order)} entries, the tensor of "
                             f"shape {self.shape} has {self.ndim} axes")
        axes = [_norm_dims(d, self.ndim) for d in order]  # each in range, or IndexError
        axes = tuple(a[0] for a in axes if a)
        if sorted(axes) != list(range(self.ndim)):
            raise ValueError(f"permute order {order} is not a permutation of the "
                             f"{self.ndim} axes of a tensor of shape {self.shape}")
        return movement.PermuteFn.apply(self, axes)

    def transpose(self, dim0: int, dim1: int) -> Tensor:
        """Swap two axes."""
        order = list(range(self.ndim))
        if self.ndim == 0:  # dims 0 and −1 name the one "axis" of a 0-d tensor: nothing moves
            _norm_dims(dim0, 0), _norm_dims(dim1, 0)
            return movement.PermuteFn.apply(self, ())
        (a,), (b,) = _norm_dims(dim0, self.ndim), _norm_dims(dim1, self.ndim)
        order[a], order[b] = order[b], order[a]
        return movement.PermuteFn.apply(self, tuple(order))

    @property
    def T(self) -> Tensor:
        """All axes reversed (the matrix transpose for 2-D tensors)."""
        return movement.PermuteFn.apply(self, tuple(reversed(range(self.ndim))))

    def flip(self, *dims) -> Tensor:
        """Reverse the order of the elements along `dims` (a copy; x[::-1] is refused, as in
        PyTorch)."""
        dims = _norm_dims(dims[0] if len(dims) == 1 and isinstance(dims[0], (tuple, list))
                          else dims, self.ndim)
        return movement.FlipFn.apply(self, dims)

    def squeeze(self, dim=None) -> Tensor:
        """Drop size-1 axes (all of them, or the given ones that have size 1). As PyTorch,
        squeeze(()) names no axis and drops nothing (unlike a reduction's dim=())."""
        if isinstance(dim, (tuple, list)) and len(dim) == 0:
            dims = ()
        else:
            dims = _norm_dims(dim, self.ndim) if dim is not None else range(self.ndim)
        shape = tuple(n for i, n in enumerate(self.shape) if not (i in dims and n == 1))
        return self.reshape(shape)

    def unsqueeze(self, dim: int) -> Tensor:
        """Insert a size-1 axis at position `dim`."""
        if not -self.ndim - 1 <= dim <= self.ndim:
            raise IndexError(f"unsqueeze dim {dim} out of range for shape {self.shape}")
        dim = dim % (self.ndim + 1)
        return self.reshape(self.shape[:dim] + (1,) + self.shape[dim:])

    def expand(self, *shape) -> Tensor:
        """Repeat size-1 axes to `shape` without copying (−1 keeps a size)."""
        shape = _as_shape(shape)
        lead = len(shape) - self.ndim
        if lead < 0:
            raise ValueError(f"expand: shape {shape} has fewer axes than the tensor {self.shape}")
        for i, n in enumerate(shape):
            if n < -1 or (n == -1 and i < lead):
                raise ValueError(f"expand: size {n} at position {i} of {shape} is not allowed "
                                 f"(−1 keeps an existing axis of {self.shape}; new leading axes "
                                 "need a size ≥ 0)")
        shape = tuple(self.shape[i - lead] if n == -1 else n for i, n in enumerate(shape))
        try:
            np.broadcast_shapes(self.shape, shape)
            if np.broadcast_shapes(self.shape, shape) != shape:
                raise ValueError
        except ValueError:
            raise ValueError(f"cannot expand shape {self.shape} to {shape}") from None
        return movement.ExpandFn.apply(self, shape)

    def expand_as(self, other: Tensor) -> Tensor:
        return self.expand(other.shape)

    def __getitem__(self, index) -> Tensor:
        index = check_index(_convert_index(index), self.shape)
        stages = torch_index_stages(index)
        if stages is not None:  # ints with arrays: select with the ints first, as PyTorch
            return self[stages[0]][stages[1]]
        index = _as_view_index(index)
        try:
            self.data[index]
        except IndexError as err:
            raise IndexError(f"{err} (tensor of shape {self.shape})") from None
        return movement.GetItemFn.apply(self, index)
