"""More of PyTorch's Tensor methods: math (sin, erf, floor, …), scans and sorting (cumsum, sort,
topk, logsumexp), indexing (gather, scatter_add, index_select, masked_fill), structure (repeat,
chunk, split, tril, triu), norms and products (norm, dot, outer, mm, bmm), tests (all, any,
isnan), `new_*` factories, the in-place initialisers normal_/uniform_, register_hook and the
device methods.

`Tensor` (tensor.py) inherits them from `TorchMethods`. Each method checks its arguments with
PyTorch's rules and messages, then calls one Function of ops/ (math, scan, index, structure,
linalg); results are made with `self._make`, so this module needs no import of tensor.py.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import _state, devices
from .engine import Node
from .ops import index as index_ops
from .ops import linalg, math, movement, scan, structure
from .tensor_inplace import _cast_value
from .tensor_shape import _as_shape, _data, _norm_dims


class SortResult(NamedTuple):
    """What sort and topk return, as PyTorch: the values and where they came from."""
    values: object
    indices: object


class _HookHandle:
    """Returned by register_hook: `handle.remove()` takes the hook off again."""

    def __init__(self, hooks: list, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self) -> None:
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


def _index_array(index, what: str) -> np.ndarray:
    """An integer index (tensor, array or list) as an int64 numpy array."""
    array = np.asarray(_data(index))
    if array.dtype.kind not in "iu":
        raise TypeError(f"{what}: the index must be an integer tensor, got dtype {array.dtype}")
    return array.astype(np.int64, copy=False)


class TorchMethods:
    """The methods listed above; `Tensor` inherits them."""

    __slots__ = ()

    # -- elementwise math ----------------------------------------------------------------------
    def neg(self): return -self
    def sin(self): return math.SinFn.apply(self._floating())
    def cos(self): return math.CosFn.apply(self._floating())
    def tan(self): return math.TanFn.apply(self._floating())
    def erf(self): return math.ErfFn.apply(self._floating())

    def softplus(self, beta: float = 1.0, threshold: float = 20.0):
        """log(1 + e^{βx}) / β, and x itself where βx > threshold."""
        return math.SoftplusFn.apply(self._floating(), float(beta), float(threshold))

    def floor(self): return self._rounding("floor")
    def ceil(self): return self._rounding("ceil")
    def sign(self): return self._rounding("sign")

    def round(self, decimals: int = 0):
        """Round half to even (as PyTorch and numpy); `decimals` digits after the point."""
        if decimals:
            scale = 10.0 ** decimals
            return (self * scale)._rounding("round") / scale
        return self._rounding("round")

    def _rounding(self, mode):
        """floor, ceil, round, sign: zero gradient. Integer tensors are already whole."""
        if self.data.dtype.kind in "iub" and mode != "sign":
            return self._make(self.data.copy(), False)
        return math.RoundingFn.apply(self, mode)

    def isnan(self): return self._make(np.isnan(self.data), False)
    def isinf(self): return self._make(np.isinf(self.data), False)
    def isfinite(self): return self._make(np.isfinite(self.data), False)

    def all(self, dim=None, keepdim=False):
        """True where every element (over `dim`) is nonzero; a bool tensor."""
        return self._make(np.asarray(np.all(self.data, self._one_dim(dim), keepdims=keepdim)), False)

    def any(self, dim=None, keepdim=False):
        """True where some element (over `dim`) is nonzero; a bool tensor."""
        return self._make(np.asarray(np.any(self.data, self._one_dim(dim), keepdims=keepdim)), False)

    def allclose(self, other, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False):
        """|self − other| ≤ atol + rtol·|other| everywhere (a Python bool)."""
        return bool(np.allclose(self.data, _data(other), rtol=rtol, atol=atol, equal_nan=equal_nan))

    def _one_dim(self, dim):
        return None if dim is None else _norm_dims(dim, self.ndim)[0] if self.ndim else None

    # -- scans and sorting ---------------------------------------------------------------------
    def cumsum(self, dim: int, dtype=None):
        """Running sum along `dim`: out_i = x_0 + … + x_i. Integers and bools sum in int64."""
        x = self.to(dtype) if dtype is not None else self
        if x.data.dtype.kind in "iub":
            x = x.to(np.int64)
        (axis,) = _norm_dims(dim, x.ndim) or (0,)
        return scan.CumsumFn.apply(x if x.ndim else x.reshape(1), axis).reshape(x.shape)

    def logsumexp(self, dim, keepdim: bool = False):
        """log Σ e^x over `dim`, without overflow."""
        return scan.LogsumexpFn.apply(self._floating(), _norm_dims(dim, self.ndim), bool(keepdim))

    def sort(self, dim: int = -1, descending: bool = False, stable: bool = False):
        """(values, indices) along `dim`, ascending (or descending). Ties keep their order.
        The values are x.gather(dim, indices), so the gradient goes back to where they were."""
        if self.ndim == 0:
            _norm_dims(dim, 0)
            return SortResult(self.clone(), self._make(np.zeros((), np.int64), False))
        (axis,) = _norm_dims(dim, self.ndim)
        key = self.data
        if descending:
            key = key.astype(np.int64) if key.dtype.kind in "ub" else key
            key = np.where(np.isnan(key), -np.inf, -key) if key.dtype.kind == "f" else -key
        indices = np.argsort(key, axis=axis, kind="stable")
        return SortResult(self.gather(axis, indices), self._make(indices, False))

    def topk(self, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):
        """The k largest (or smallest) values along `dim`, largest first, and their indices."""
        axis = _norm_dims(dim, self.ndim)[0] if self.ndim else 0
        n = self.shape[axis] if self.ndim else 1
        if not 0 <= k <= n:
            raise IndexError(f"topk: k ({k}) out of range for dimension {dim} of size {n} "
                             f"(tensor of shape {self.shape})")
        _, order = self.detach().sort(dim, descending=largest, stable=True)
        indices = order.data[(slice(None),) * axis + (slice(0, k),)] if self.ndim else order.data
        values = self.gather(axis, indices) if self.ndim else self * 1
        return SortResult(values, self._make(np.ascontiguousarray(indices), False))

    # -- indexing ------------------------------------------------------------------------------
    def gather(self, dim: int, index):
        """out[i][j][k] = self[index[i][j][k]][j][k] (dim 0; the index replaces axis `dim`)."""
        index = _index_array(index, "gather")
        (axis,) = _norm_dims(dim, self.ndim) or (0,)
        self._check_index_shape("gather", index, axis)
        return index_ops.GatherFn.apply(self, axis, index)

    def scatter_add(self, dim: int, index, src):
        """A copy of self with src added at the places index names along `dim`:
        out[index[i][j]][j] += src[i][j] (dim 0)."""
        index = _index_array(index, "scatter_add")
        src = src if isinstance(src, Node) else self._make(np.asarray(src, self.dtype), False)
        (axis,) = _norm_dims(dim, self.ndim) or (0,)
        self._check_index_shape("scatter_add", index, axis)
        if index.ndim != src.ndim or any(i > s for i, s in zip(index.shape, src.shape)):
            raise ValueError(f"scatter_add: index of shape {index.shape} must not be larger than "
                             f"src of shape {src.shape}")
        if src.dtype != self.dtype:
            raise TypeError(f"scatter_add: self ({self.dtype}) and src ({src.dtype}) must have "
                            "the same dtype")
        return index_ops.ScatterAddFn.apply(self, axis, index, src)

    def _check_index_shape(self, name, index, axis):
        if index.ndim != max(self.ndim, 1) or any(
                i > n for d, (i, n) in enumerate(zip(index.shape, self.shape)) if d != axis):
            raise ValueError(f"{name}: index of shape {index.shape} must have the tensor's number "
                             f"of dimensions and be no larger outside dim {axis} "
                             f"(tensor of shape {self.shape})")
        size = self.shape[axis] if self.ndim else 1
        if index.size and (index.min() < 0 or index.max() >= size):
            bad = int(index.max() if index.max() >= size else index.min())
            raise IndexError(f"{name}: index {bad} is out of bounds for dimension {axis} with "
                             f"size {size}")

    def index_select(self, dim: int, index):
        """The entries `index` (1-D) of axis `dim`, in that order."""
        index = _index_array(index, "index_select").reshape(-1)
        (axis,) = _norm_dims(dim, self.ndim) or (0,)
        size = self.shape[axis] if self.ndim else 1
        if index.size and (index.min() < 0 or index.max() >= size):
            raise IndexError(f"index_select: index out of range for dimension {dim} of size {size} "
                             f"(tensor of shape {self.shape})")
        return index_ops.IndexSelectFn.apply(self, axis, index)

    def masked_fill(self, mask, value):
        """value where mask is True (mask broadcasts to self's shape), self elsewhere."""
        mask = np.asarray(_data(mask))
        if mask.dtype != np.bool_:
            raise TypeError(f"masked_fill only supports boolean masks, but got mask with dtype "
                            f"{mask.dtype}")
        if np.broadcast_shapes(mask.shape, self.shape) != self.shape:
            raise ValueError(f"masked_fill: mask of shape {mask.shape} does not broadcast to the "
                             f"tensor's shape {self.shape}")
        value = _data(value)
        if np.ndim(value) != 0:
            raise ValueError(f"masked_fill only supports a 0-dimensional value, got shape "
                             f"{np.shape(value)}")
        return index_ops.MaskedFillFn.apply(self, mask, np.asarray(value).item())

    # -- structure -----------------------------------------------------------------------------
    def repeat(self, *sizes):
        """Tile: repeat the tensor sizes[i] times along axis i (np.tile, torch's repeat)."""
        sizes = _as_shape(sizes)
        if not sizes or len(sizes) < self.ndim:
            raise ValueError(f"repeat: number of repeat dims ({len(sizes)}) can not be smaller "
                             f"than the number of dimensions of the tensor ({self.ndim})")
        if any(n < 0 for n in sizes):
            raise ValueError(f"repeat: negative repeat count in {sizes}")
        return structure.RepeatFn.apply(self, sizes)

    def split(self, split_size_or_sections, dim: int = 0) -> tuple:
        """Pieces of size split_size along `dim` (the last may be smaller), or pieces of the
        listed sizes. Each piece is a view (a slice)."""
        (axis,) = _norm_dims(dim, self.ndim)
        n = self.shape[axis]
        if isinstance(split_size_or_sections, (int, np.integer)):
            step = int(split_size_or_sections)
            if step <= 0:
                raise ValueError(f"split expects split_size be positive, but got {step}")
            sizes = [min(step, n - start) for start in range(0, n, step)] or [0]
        else:
            sizes = [int(s) for s in split_size_or_sections]
            if sum(sizes) != n or any(s < 0 for s in sizes):
                raise ValueError(f"split_with_sizes expects split_sizes to sum exactly to {n} "
                                 f"(input tensor's size at dimension {dim}), but got {sizes}")
        starts = np.cumsum([0] + sizes[:-1])
        return tuple(self[(slice(None),) * axis + (slice(int(a), int(a) + s),)]
                     for a, s in zip(starts, sizes))

    def chunk(self, chunks: int, dim: int = 0) -> tuple:
        """`chunks` pieces of equal size ⌈n / chunks⌉ along `dim` (fewer if n is small)."""
        if not isinstance(chunks, (int, np.integer)) or chunks <= 0:
            raise ValueError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
        (axis,) = _norm_dims(dim, self.ndim)
        n = self.shape[axis]
        return self.split(max(-(-n // chunks), 1), axis) if n else self.split(1, axis) * chunks

    def tril(self, diagonal: int = 0):
        """The lower triangle of the last two axes (entries with j − i ≤ diagonal), 0 above."""
        return self._triangle(diagonal, False)

    def triu(self, diagonal: int = 0):
        """The upper triangle of the last two axes (entries with j − i ≥ diagonal), 0 below."""
        return self._triangle(diagonal, True)

    def _triangle(self, diagonal, upper):
        if self.ndim < 2:
            raise ValueError(f"{'triu' if upper else 'tril'}: input tensor must have at least 2 "
                             f"dimensions, got shape {self.shape}")
        return structure.TriangleFn.apply(self, int(diagonal), upper)

    def t(self):
        """The transpose of a matrix (1-D and 0-D tensors are returned as they are)."""
        if self.ndim > 2:
            raise ValueError(f"t() expects a tensor with <= 2 dimensions, but self is {self.ndim}D")
        return self.transpose(0, 1) if self.ndim == 2 else self.reshape(self.shape)

    # -- norms and products --------------------------------------------------------------------
    def norm(self, p="fro", dim=None, keepdim: bool = False):
        """‖x‖_p over `dim` (all elements when None): p = 2 ('fro'), 1, inf, or any p > 0."""
        p = 2 if p in ("fro", None) else p
        if isinstance(p, str) or not p > 0:
            raise ValueError(f"norm: p must be 'fro' or a number > 0 (inf allowed), got {p!r}")
        x = self._floating()
        return linalg.NormFn.apply(x, float(p), _norm_dims(dim, x.ndim), bool(keepdim))

    def dot(self, other):
        """Σ_i a_i b_i of two 1-D tensors of the same size."""
        other = self._same_kind(other, "dot")
        if self.ndim != 1 or other.ndim != 1 or self.shape != other.shape:
            raise ValueError(f"dot: 1D tensors of the same size expected, got shapes "
                             f"{self.shape} and {other.shape}")
        return linalg.EinsumFn.apply("i,i->", self, other)

    def outer(self, other):
        """out_ij = a_i b_j of two 1-D tensors."""
        other = self._same_kind(other, "outer")
        if self.ndim != 1 or other.ndim != 1:
            raise ValueError(f"outer: 1D tensors expected, got shapes {self.shape} and "
                             f"{other.shape}")
        return linalg.EinsumFn.apply("i,j->ij", self, other)

    def mm(self, other):
        """Matrix product of two 2-D tensors."""
        other = self._same_kind(other, "mm")
        if self.ndim != 2 or other.ndim != 2:
            raise ValueError(f"mm: 2D tensors expected, got shapes {self.shape} and {other.shape}")
        return self.matmul(other)

    def bmm(self, other):
        """Batched matrix product: (b, n, m) @ (b, m, p) → (b, n, p)."""
        other = self._same_kind(other, "bmm")
        if self.ndim != 3 or other.ndim != 3 or self.shape[0] != other.shape[0]:
            raise ValueError(f"bmm: 3D tensors with the same batch size expected, got shapes "
                             f"{self.shape} and {other.shape}")
        return self.matmul(other)

    def _same_kind(self, other, name):
        if not isinstance(other, Node):
            other = self._make(np.asarray(other, self.dtype), False)
        if other.dtype != self.dtype:
            raise TypeError(f"{name}: expected both operands to have the same dtype, got "
                            f"{self.dtype} and {other.dtype}")
        return other

    # -- sampling ------------------------------------------------------------------------------
    def multinomial(self, num_samples: int, replacement: bool = False):
        """Draw num_samples category indices per row, with probability ∝ the row's weights."""
        weights = np.atleast_2d(np.asarray(self.data, dtype=np.float64))
        if self.ndim not in (1, 2) or (weights < 0).any() or not np.isfinite(weights).all():
            raise ValueError(f"multinomial: expected 1-D or 2-D non-negative finite weights, got "
                             f"shape {self.shape}")
        rows = []
        for row in weights:
            total, nonzero = row.sum(), np.count_nonzero(row)
            if total <= 0 or (not replacement and num_samples > nonzero):
                raise RuntimeError(f"multinomial: cannot draw {num_samples} samples "
                                   f"{'' if replacement else 'without replacement '}from weights "
                                   f"with {nonzero} nonzero entries")
            rows.append(_state.rng().choice(row.size, num_samples, replace=replacement,
                                            p=row / total))
        out = np.array(rows, dtype=np.int64)
        return self._make(out if self.ndim == 2 else out[0], False)

    # -- new tensors like this one -------------------------------------------------------------
    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
        return self.new_full(_as_shape(size), 0, dtype, device, requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
        return self.new_full(_as_shape(size), 1, dtype, device, requires_grad)

    def new_empty(self, *size, dtype=None, device=None, requires_grad=False):
        return self.new_zeros(*size, dtype=dtype, device=device, requires_grad=requires_grad)

    def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
        """A tensor of `size` filled with fill_value, with this tensor's dtype unless given."""
        devices.check_device(device)
        out = self._make(np.full(_as_shape((size,)), fill_value, dtype=dtype or self.dtype), False)
        return out.requires_grad_(True) if requires_grad else out

    def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
        devices.check_device(device)
        out = self._make(np.array(_data(data), dtype=dtype or self.dtype), False)
        return out.requires_grad_(True) if requires_grad else out

    # -- in-place initialisers -----------------------------------------------------------------
    def normal_(self, mean: float = 0.0, std: float = 1.0):
        """Fill with samples of N(mean, std²) in place (as fill_: outside the graph)."""
        return self._fill_with("normal_", _state.rng().normal(mean, std, self.shape))

    def uniform_(self, a: float = 0.0, b: float = 1.0):
        """Fill with samples of U[a, b) in place."""
        return self._fill_with("uniform_", _state.rng().uniform(a, b, self.shape))

    def _fill_with(self, name, values):
        if self.data.dtype.kind != "f":
            raise TypeError(f"{name} expects a floating point tensor, got {self.dtype}")
        return self._update(name, values.astype(self.dtype),
                            lambda x, v: movement.SetItemFn.apply(x, _cast_value(v, x), ...), ...)

    # -- hooks ---------------------------------------------------------------------------------
    def register_hook(self, hook):
        """hook(grad) runs when the gradient of this tensor is computed during backward; what
        it returns (if not None) replaces that gradient. Returns a handle with remove()."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        make = self._make

        def on_grad(array):  # the engine hands numpy arrays; the hook sees a Tensor
            result = hook(make(array, False))
            if result is None:
                return None
            result = np.asarray(_data(result), dtype=array.dtype)
            if result.shape != array.shape:
                raise RuntimeError(f"hook returned a gradient of shape {result.shape} for a "
                                   f"tensor of shape {array.shape}")
            return result

        if getattr(self, "_hooks", None) is None:
            self._hooks = []
        self._hooks.append(on_grad)
        return _HookHandle(self._hooks, on_grad)

    # -- devices -------------------------------------------------------------------------------
    @property
    def device(self):
        """Always the CPU (devices.py)."""
        return devices.CPU

    is_cuda = False

    def cpu(self):
        return self

    def cuda(self, *args, **kwargs):
        raise devices._cpu_only("cuda")

