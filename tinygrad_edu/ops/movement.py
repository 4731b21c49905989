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
        return np.broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, g):
        return g, None


def _is_basic(index) -> bool:
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
        if _is_basic(index):
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
            grad_x = g.copy()
            grad_x[index] = 0
        grad_value = g[index] if ctx.needs_input_grad[1] else None
        return grad_x, grad_value, None


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
    """out = x padded; `widths` is numpy's ((before, after), ...) for every axis.

    constant: out = x placed inside a frame of `value`;  ∂L/∂x = g cut out of the frame.
    reflect / replicate / circular: each output element copies some input element, so
    ∂L/∂x_i = Σ of g over every output position that copied x_i (a scatter-add).

    Shapes: x: (d₀, …);  out, g: (d₀ + before₀ + after₀, …);  ∂L/∂x: x's shape.
    """

    rule = "padding only adds copies or constants: g is cut back to the input (summed over copies)"

    @staticmethod
    def forward(ctx, x, widths, mode, value):
        ctx.shape, ctx.widths, ctx.mode = x.shape, widths, mode
        if mode == "constant":
            return np.pad(x, widths, mode="constant", constant_values=value)
        # Pad a grid of element numbers the same way: it says which x element each output copies.
        source = np.pad(np.arange(x.size).reshape(x.shape), widths, mode=PAD_MODES[mode])
        ctx.save_for_backward(source)
        return x.reshape(-1)[source]

    @staticmethod
    def backward(ctx, g):
        if ctx.mode == "constant":
            inner = tuple(slice(before, before + n) for (before, _), n in zip(ctx.widths, ctx.shape))
            return g[inner], None, None, None
        (source,) = ctx.saved_tensors
        grad = np.bincount(source.ravel(), weights=g.ravel(), minlength=int(np.prod(ctx.shape)))
        return grad.reshape(ctx.shape).astype(g.dtype), None, None, None
