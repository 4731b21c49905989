"""The engine: reverse-mode differentiation over a graph of nodes, in one page.

It knows nothing of the Tensor API. A node is anything with these attributes (tensor.py's
`Tensor` has them, and so does every op result):

    data           the numpy array of the node's value
    grad           where a leaf collects ∂L/∂node (None until a gradient arrives)
    requires_grad  whether a gradient is wanted for this node
    _ctx           the Function instance that made the node (None for a leaf); its `parents`
                   are the input nodes (None for non-tensor arguments), `needs_input_grad`
                   says which of them want a gradient
    _retains_grad  keep `.grad` on this non-leaf node too (`retain_grad()`)

The whole algorithm:
1. `topological_order(root)`: every node below root, each after the nodes it was made from.
2. `run_backward(root, seed)`: visit them in reverse, so each node's gradient is complete
   before it is used. For each: ask its Function for the gradients of its inputs (the chain
   rule, one local step), `unbroadcast` each to its input's shape, and add it to what that
   input has collected so far. Leaves keep their total in `.grad` (`accumulate_grad`).
"""

from __future__ import annotations

import numpy as np

from . import _state

__all__ = ["Node", "topological_order", "run_backward", "unbroadcast", "accumulate_grad"]


class Node:
    """The attributes above, as a base class: `Tensor` extends it with the user-facing API.
    Function.apply recognises its tensor arguments by this class."""

    __slots__ = ("data", "grad", "requires_grad", "_ctx", "_retains_grad", "__weakref__")


def topological_order(root, constants: bool = False) -> list:
    """Nodes of the graph below `root`, each after all it was made from: those that require
    grad (what backward visits), or every node with `constants=True` (what explain shows).

    Iterative depth-first search (no recursion, so a 100,000-op chain is fine): a node is
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


def unbroadcast(grad: np.ndarray, shape: tuple, op_name: str = "op") -> np.ndarray:
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
        raise RuntimeError(f"{op_name}.backward returned a gradient of shape {grad.shape} "
                           f"for an input of shape {shape}")
    return grad


def accumulate_grad(node, grad: np.ndarray) -> None:
    """Leaves sum their gradients across backward calls (`+=`, as PyTorch)."""
    if node.grad is None:
        node.grad = np.array(grad, dtype=node.data.dtype, copy=True)  # own copy: grad may be shared
    else:
        node.grad += grad


def _input_grads(ctx, grad_out: np.ndarray) -> list:
    """One local step: ctx's backward, each result summed to its input's shape and dtype
    (None where an input needs no gradient)."""
    if ctx._freed:
        raise RuntimeError(
            f"trying to backward through the graph a second time ({ctx.name} already freed "
            "its saved values); call backward(retain_graph=True) the first time")
    raw = type(ctx).backward(ctx, grad_out)
    if not isinstance(raw, tuple):
        raw = (raw,)
    if len(raw) != len(ctx.parents):
        raise RuntimeError(f"{ctx.name}.backward returned {len(raw)} gradients, "
                           f"forward took {len(ctx.parents)} arguments")
    grads = []
    for parent, need, grad in zip(ctx.parents, ctx.needs_input_grad, raw):
        if not need or grad is None:
            grads.append(None)
            continue
        if grad.shape != parent.data.shape:
            grad = unbroadcast(grad, parent.data.shape, ctx.name)
        if grad.dtype != parent.data.dtype:
            grad = grad.astype(parent.data.dtype)
        grads.append(grad)
    return grads


def run_backward(root, seed: np.ndarray, retain_graph: bool = False, on_step=None) -> None:
    """Reverse-mode differentiation from `root`, whose gradient ∂L/∂root is `seed`.

    on_step(node, ctx, grad_out, input_grads), if given, is called after each local step with
    the gradients that step hands to each input (already summed to the input's shape and cast
    to its dtype; None where none is needed). The teaching tools (explain) hook in there.
    """
    collected = {id(root): seed}  # ∂L/∂node collected so far, by id(node)
    anomaly = _state.anomaly_enabled()
    for node in reversed(topological_order(root)):
        grad_out = collected.pop(id(node), None)
        if grad_out is None:
            continue  # no gradient reached this node
        ctx = node._ctx
        if ctx is None or node._retains_grad:
            accumulate_grad(node, grad_out)
        if ctx is None:
            continue
        input_grads = _input_grads(ctx, grad_out)
        for parent, grad in zip(ctx.parents, input_grads):
            if grad is None:
                continue
            if anomaly:
                _state.check_finite(ctx, grad)
            previous = collected.get(id(parent))
            collected[id(parent)] = grad if previous is None else previous + grad
        if on_step is not None:
            on_step(node, ctx, grad_out, input_grads)
        if not retain_graph:
            ctx._free()
