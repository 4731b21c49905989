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
    _version       a one-element list, the count of in-place changes to the node's array
                   (shared with the views of that array, as PyTorch's version counter)
    _history       None, or [(version, node)]: what the node was before each in-place op that
                   was recorded in the graph (see `inputs_of`)
    _base          None, or [root, n] for a view of another node's memory: the node that owns
                   the memory and how many recorded in-place changes it had when the view was
                   last made current (tensor_inplace.py)
    _hooks         None, or a list of functions of the node's gradient (`register_hook`), run
                   when that gradient is complete; one that returns an array replaces it

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

__all__ = ["Node", "inputs_of", "topological_order", "run_backward", "run_hooks", "unbroadcast",
           "accumulate_grad"]


class Node:
    """The attributes above, as a base class: `Tensor` extends it with the user-facing API.
    Function.apply recognises its tensor arguments by this class."""

    __slots__ = ("data", "grad", "requires_grad", "_ctx", "_retains_grad", "_version", "_history",
                 "_base", "_hooks", "__weakref__")


def inputs_of(ctx) -> tuple:
    """The nodes ctx was computed from, each as it was when ctx used it.

    Usually that is just `ctx.parents`. But `a += b` (recorded in the graph) turns the tensor
    `a` into a new node while earlier ops still hold `a` as a parent: they used the value
    from before. So each op remembers its parents' versions (`ctx.parent_versions`), and `a`
    keeps its earlier selves in `a._history`; this picks the right one.
    """
    parents = ctx.parents
    for parent in parents:
        if parent is not None and parent._history is not None:
            return tuple(_as_of(p, v) for p, v in zip(parents, ctx.parent_versions))
    return parents


def _as_of(node, version):
    """The node as it was at `version`: the earlier self saved by the first in-place op after."""
    if node is None or node._history is None:
        return node
    for changed_at, earlier in node._history:
        if version <= changed_at:
            return earlier
    return node


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
            for parent in reversed(inputs_of(ctx)):  # reversed: the stack pops the first first
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


def _check_saved_versions(ctx) -> None:
    """Backward reads the arrays ctx saved: refuse if one was changed in place since."""
    for counter, version, shape, dtype in ctx.saved_versions:
        if counter[0] != version:
            raise RuntimeError(
                f"one of the arrays needed for gradient computation has been modified by an "
                f"inplace operation: {ctx.name} saved a tensor of shape {shape} ({dtype}) that "
                f"is now at version {counter[0]}; expected version {version} instead. Change "
                "it out of place (x = x + 1), or save a copy (.clone()) before changing it")


def _input_grads(ctx, parents, grad_out: np.ndarray) -> list:
    """One local step: ctx's backward, each result summed to its input's shape and dtype
    (None where an input needs no gradient)."""
    if ctx._freed:
        raise RuntimeError(
            f"trying to backward through the graph a second time ({ctx.name} already freed "
            "its saved values); call backward(retain_graph=True) the first time")
    _check_saved_versions(ctx)
    raw = type(ctx).backward(ctx, grad_out)
    if not isinstance(raw, tuple):
        raw = (raw,)
    if len(raw) != len(ctx.parents):
        raise RuntimeError(f"{ctx.name}.backward returned {len(raw)} gradients, "
                           f"forward took {len(ctx.parents)} arguments")
    grads = []
    for parent, need, grad in zip(parents, ctx.needs_input_grad, raw):
        if not need or grad is None:
            grads.append(None)
            continue
        if grad.shape != parent.data.shape:
            grad = unbroadcast(grad, parent.data.shape, ctx.name)
        if grad.dtype != parent.data.dtype:
            grad = grad.astype(parent.data.dtype)
        grads.append(grad)
    return grads


def run_hooks(node, grad: np.ndarray) -> np.ndarray:
    """The node's gradient after its hooks (`register_hook`): each may replace it."""
    for hook in list(getattr(node, "_hooks", None) or ()):
        result = hook(grad)
        if result is not None:
            grad = result
    return grad


def run_backward(root, seed: np.ndarray, retain_graph: bool = False, on_step=None,
                 capture: dict | None = None) -> None:
    """Reverse-mode differentiation from `root`, whose gradient ∂L/∂root is `seed`.

    capture: instead of accumulating into leaves' `.grad`, add the gradient of every node
    whose id is a key of this dict to its value (`autograd.grad`); no `.grad` is touched.

    on_step(node, ctx, grad_out, inputs, input_grads), if given, is called after each local step
    with the inputs (`inputs_of(ctx)`) and the gradients that step hands to each (already summed
    to the input's shape and cast to its dtype; None where none is needed). The teaching tools
    (explain) hook in there.
    """
    collected = {id(root): seed}  # ∂L/∂node collected so far, by id(node)
    anomaly = _state.anomaly_enabled()
    for node in reversed(topological_order(root)):
        grad_out = collected.pop(id(node), None)
        if grad_out is None:
            continue  # no gradient reached this node
        if getattr(node, "_hooks", None):  # register_hook: may replace the gradient
            grad_out = run_hooks(node, grad_out)
        ctx = node._ctx
        if capture is not None:
            if id(node) in capture:
                previous = capture[id(node)]
                capture[id(node)] = grad_out if previous is None else previous + grad_out
        elif ctx is None or node._retains_grad:
            accumulate_grad(node, grad_out)
        if ctx is None:
            continue
        inputs = inputs_of(ctx)
        input_grads = _input_grads(ctx, inputs, grad_out)
        for parent, grad in zip(inputs, input_grads):
            if grad is None:
                continue
            if anomaly:
                _state.check_finite(ctx, grad)
            previous = collected.get(id(parent))
            collected[id(parent)] = grad if previous is None else previous + grad
        if on_step is not None:
            on_step(node, ctx, grad_out, inputs, input_grads)
        if not retain_graph:
            ctx._free()
