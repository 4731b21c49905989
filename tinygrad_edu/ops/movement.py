"""Movement ops: they only rearrange elements, so backward rearranges g the opposite way."""

from __future__ import annotations

import numpy as np

from .._C import index_add
from ..function import Function


class ReshapeFn(Function):
    """out = x viewed with a new shape (same elements, same order).   ∂L/∂x = g reshaped back.

    Shapes: x: (…) with N elements;  out, g: `shape` (N elements);  ∂L/∂x: x's shape.
    """

    rule = "reshaping only renames positions: ∂L/∂x is g reshaped back"

    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        return np.reshape(x, shape)

    @staticmethod
    def backward(ctx, g):
        return np.reshape(g, ctx.shape), None


class PermuteFn(Function):
    """out = x with its axes reordered: out.shape[i] = x.shape[order[i]].   ∂L/∂x = g permuted
    by the inverse order.

    Shapes: x: (d₀, …, d_k);  out, g: (d_order[0], …, d_order[k]);  ∂L/∂x: x's shape.
    """

    rule = "the derivative of a permutation is the inverse permutation: g's axes are put back"

    @staticmethod
    def forward(ctx, x, order):
        ctx.order = order
        return np.transpose(x, order)

    @staticmethod
    def backward(ctx, g):
        return np.transpose(g, np.argsort(ctx.order)), None


class ExpandFn(Function):
    """out = x broadcast to `shape` (size-1 axes repeated).   ∂L/∂x = g summed over the
    repeated axes (the engine does the summing, as for any broadcast).

    Shapes: x: (…) with size-1 axes;  out, g: `shape`;  ∂L/∂x: x's shape.
    """

    rule = "an expanded input is used several times: its gradient is g summed over the copies"

    @staticmethod
    def forward(ctx, x, shape):
        if np.prod(shape) == x.size:  # nothing is repeated: a plain (writable) view, so that
            return x.reshape(shape)   # in-place changes work through it, as in PyTorch
        if np.prod(shape) == 0:  # no elements: an empty (writable) view of x, still x's memory
            return (x[None] if x.ndim == 0 else x)[..., :0].reshape(shape)
        return np.broadcast_to(x, shape)  # read-only: its elements share memory

    @staticmethod
    def backward(ctx, g):
        return g, None


def is_basic_index(index) -> bool:
    """True when numpy indexing with `index` picks each element at most once (no int arrays)."""
    items = index if isinstance(index, tuple) else (index,)
    for item in items:
        if isinstance(item, np.ndarray) and item.dtype != bool:
            return False
        if isinstance(item, (list, tuple)):
            return False
    return True


class GetItemFn(Function):
    """out = x[index] (numpy rules: ints, slices, None, ..., boolean masks, integer arrays).

    ∂L/∂x = zeros of x's shape with g scattered back to the picked positions. An integer array
    may pick an element twice; then its gradients add up (scatter-add, `np.add.at`).

    Shapes: x: (…);  out, g: the shape of x[index];  ∂L/∂x: x's shape.
    """

    rule = ("∂x[index]/∂x = 1 at the picked positions: "
            "g is scattered back (added where picked twice)")

    @staticmethod
    def forward(ctx, x, index):
        ctx.save_for_backward(index)  # may hold integer arrays: freed with the graph
        ctx.shape = x.shape
        return x[index]

    @staticmethod
    def backward(ctx, g):
        (index,) = ctx.saved_tensors
        grad = np.zeros(ctx.shape, dtype=g.dtype)
        if is_basic_index(index):
            grad[index] = g
        else:
            index_add.scatter_add(grad, index, g)  # compiled scatter-add (x[rows] and friends)
        return grad, None


class SetItemFn(Function):
    """out = x with out[index] = value (numpy's assignment rules: value broadcasts to x[index]).

    ∂L/∂x = g with the assigned positions set to 0 (their old values were overwritten);
    ∂L/∂value = g[index] (the engine sums it back to value's shape if value was broadcast).

    Shapes: x, out, g, ∂L/∂x: (…);  value: broadcastable to x[index];  ∂L/∂value: value's shape.
    This is what `x[index] = value` records when a gradient must flow through it.
    """

    rule = ("∂L/∂x = g with 0 where x was overwritten;  ∂L/∂value = g[index]: the assigned "
            "positions send their gradient to the value instead")

    @staticmethod
    def forward(ctx, x, value, index):
        out = x.copy()
        out[index] = value
        ctx.save_for_backward(index)
        return out

    @staticmethod
    def backward(ctx, g):
        (index,) = ctx.saved_tensors
        grad_x = None
        if ctx.needs_input_grad[0]:
            grad_x = np.array(g, copy=True)  # an array even when g is a 0-d scalar
            grad_x[index] = 0
        grad_value = g[index] if ctx.needs_input_grad[1] else None
        return grad_x, grad_value, None


class FlipFn(Function):
    """out = x with the order of the elements along `dims` reversed (a copy, as PyTorch).

    ∂L/∂x = g flipped back along the same dims.

    Shapes: x, out, g, ∂L/∂x: one shape (…);  dims: a tuple of axes.
    """

    rule = "flipping is its own inverse: g is flipped back along the same axes"

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return np.flip(x, dims).copy()

    @staticmethod
    def backward(ctx, g):
        return np.flip(g, ctx.dims), None


class AsStridedFn(Function):
    """out = the elements of root at `positions` (flat indices into root, one per element of
    out), as a view of root's memory: how a view (x[1:], x.T, x.reshape) is made current again
    after root was changed in place in the graph.

    ∂L/∂root = g added back at `positions` (a scatter-add: an expanded view repeats positions).

    Shapes: root: (…);  positions, out, g: the view's shape;  ∂L/∂root: root's shape.
    """

    rule = "∂L/∂root = g scattered back to the positions the view reads (added where repeated)"

    @staticmethod
    def forward(ctx, root, positions, view):
        ctx.save_for_backward(positions)
        ctx.size, ctx.shape = root.size, root.shape
        return view  # the existing numpy view of root's memory: it already holds the values

    @staticmethod
    def backward(ctx, g):
        (positions,) = ctx.saved_tensors
        flat = np.bincount(positions.ravel(), weights=np.ravel(g), minlength=ctx.size)
        return flat.reshape(ctx.shape).astype(g.dtype, copy=False), None, None


class AsStridedScatterFn(Function):
    """out = root with the elements at `positions` replaced by value: what an in-place change
    of a view (v += 1 for v = x[1:]) does to the tensor that owns the memory.

    ∂L/∂root = g with the written positions set to 0;  ∂L/∂value = g at those positions.

    Shapes: root, out, g, ∂L/∂root: (…);  positions, value, ∂L/∂value: the view's shape.
    """

    rule = ("∂L/∂root = g with 0 where the view wrote;  ∂L/∂value = g read at the view's "
            "positions")

    @staticmethod
    def forward(ctx, root, value, positions):
        out = root.copy()
        out.reshape(-1)[positions] = value
        ctx.save_for_backward(positions)
        return out

    @staticmethod
    def backward(ctx, g):
        (positions,) = ctx.saved_tensors
        grad_root = grad_value = None
        if ctx.needs_input_grad[0]:
            # a C-ordered copy: positions are flat indices in C order, and reshape(-1) of a
            # g in another layout (a transpose's gradient) would be a copy, not written through
            grad_root = np.array(g, copy=True, order="C")
            grad_root.reshape(-1)[positions] = 0
        if ctx.needs_input_grad[1]:
            grad_value = np.reshape(g, -1)[positions]
        return grad_root, grad_value, None


class CatFn(Function):
    """out = the inputs joined along `dim`.   ∂L/∂x_k = the slice of g where x_k landed.

    Shapes: x_k: (…, n_k, …);  out, g: (…, Σ_k n_k, …) along dim;  ∂L/∂x_k: x_k's shape.
    """

    rule = "each input owns a slice of the output: it gets that slice of g"

    @staticmethod
    def forward(ctx, dim, *xs):
        ctx.dim = dim
        ctx.bounds = np.cumsum([x.shape[dim] for x in xs])[:-1].tolist()  # where each input starts
        return np.concatenate(xs, axis=dim)

    @staticmethod
    def backward(ctx, g):
        return (None, *np.split(g, ctx.bounds, axis=ctx.dim))


class StackFn(Function):
    """out = the inputs stacked along a new axis `dim`.   ∂L/∂x_k = g[..., k, ...] on that axis.

    Shapes: x_k: (…), all alike;  out, g: (…, K, …) with the new axis K at dim;  ∂L/∂x_k: (…).
    """

    rule = "each input owns one index of the new axis: it gets g at that index"

    @staticmethod
    def forward(ctx, dim, *xs):
        ctx.dim = dim
        return np.stack(xs, axis=dim)

    @staticmethod
    def backward(ctx, g):
        return (None, *np.moveaxis(g, ctx.dim, 0))


# PyTorch's padding modes and their numpy names.
PAD_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "edge",
              "circular": "wrap"}


class PadFn(Function):
    """out = x padded; `widths` is numpy's ((before, after), ...) for every axis, and a
    negative width crops that side instead (as torch.nn.functional.pad does).

    constant: out = x (cropped where a width is negative) placed inside a frame of `value`;
        ∂L/∂x = g cut out of the frame, with 0 where x was cropped.
    reflect / replicate / circular: along each axis of size n, out[j] = x[src(j)] with
        k = j − before:  reflect   src = k mirrored at both ends: −k if k < 0,
                                         2(n−1) − k if k > n−1;
                         replicate src = k clamped to [0, n−1];
                         circular  src = the kept part (x without its cropped ends), wrapped:
                                   start + (j − max(before, 0)) mod (its length);
        each output element copies some input element, so
        ∂L/∂x_i = Σ of g over every output position that copied x_i (a scatter-add; 0 if none).

    Shapes: x: (d₀, …);  out, g: (d₀ + before₀ + after₀, …);  ∂L/∂x: x's shape.
    """

    rule = ("padding only adds copies or constants, a negative width crops: g is cut back to the "
            "input (summed over copies, 0 where cropped)")

    @staticmethod
    def _source(n, before, after, mode):
        """The x index that each output position of one axis copies (the formulas above)."""
        k = np.arange(n + before + after) - before
        if mode == "replicate":
            return np.clip(k, 0, n - 1)
        if mode == "reflect":
            k = np.abs(k)
            return np.where(k > n - 1, 2 * (n - 1) - k, k)
        start, kept = max(-before, 0), n - max(-before, 0) - max(-after, 0)  # circular
        if k.size == 0:
            return k
        if kept <= 0:
            raise ValueError(f"circular padding {before, after} of an axis of size {n}: "
                             "nothing is left to wrap around")
        return start + (np.arange(k.size) - max(before, 0)) % kept

    @staticmethod
    def forward(ctx, x, widths, mode, value):
        ctx.shape, ctx.widths, ctx.mode = x.shape, widths, mode
        if mode == "constant":
            if x.ndim == 0:
                return x.copy()
            kept = tuple(slice(max(-b, 0), n - max(-a, 0)) for (b, a), n in zip(widths, x.shape))
            return np.pad(x[kept], [(max(b, 0), max(a, 0)) for b, a in widths],
                          mode="constant", constant_values=value)
        # The element numbers of x, picked axis by axis: which x element each output copies.
        axes = [PadFn._source(n, b, a, mode) for (b, a), n in zip(widths, x.shape)]
        source = np.arange(x.size).reshape(x.shape)[np.ix_(*axes)]
        ctx.save_for_backward(source)
        return x.reshape(-1)[source]

    @staticmethod
    def backward(ctx, g):
        if ctx.mode == "constant":
            if g.ndim == 0:
                return g.copy(), None, None, None
            # the frame is cut off, and the cropped ends of x come back as zeros
            inner = tuple(slice(max(b, 0), g_n - max(a, 0))
                          for (b, a), g_n in zip(ctx.widths, g.shape))
            return (np.pad(g[inner], [(max(-b, 0), max(-a, 0)) for b, a in ctx.widths]),
                    None, None, None)
        (source,) = ctx.saved_tensors
        grad = np.bincount(source.ravel(), weights=g.ravel(), minlength=int(np.prod(ctx.shape)))
        return grad.reshape(ctx.shape).astype(g.dtype), None, None, None
