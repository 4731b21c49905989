"""The `Function` base class: one differentiable op = one forward and one backward.

Every op of tinygrad_edu is a subclass of `Function` with two static methods that sit side by
side, exactly like PyTorch's `torch.autograd.Function`::

    class Mul(Function):
        '''out = a * b;  ∂out/∂a = b,  ∂out/∂b = a'''

        @staticmethod
        def forward(ctx, a, b):            # a, b: numpy arrays
            ctx.save_for_backward(a, b)
            return a * b

        @staticmethod
        def backward(ctx, grad_out):       # grad_out: numpy array, shape of out
            a, b = ctx.saved_tensors
            return grad_out * b, grad_out * a   # one gradient per forward argument

    y = Mul.apply(x1, x2)                  # Tensors in, Tensor out, graph recorded

Unlike PyTorch, `forward` and `backward` work on plain numpy arrays: the Tensor wrapping and
the graph are `apply`'s job, the broadcasting bookkeeping the engine's (engine.py), so the op
itself is only the math. `backward` returns one entry per positional argument of `forward`; use None for
arguments that are not tensors (sizes, flags) or that need no gradient. A returned gradient
may have the broadcast shape of the output: the engine sums it back to the input's shape.

Naming: a Function's name ends in `Fn` (`MulFn`, `Conv2dFn`), so it never shares a name with the
`nn` Module of the same op (`nn.Conv2d`). Each also states its local derivative in `rule`, the
text that `explain` shows at that step of the backward pass.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _state
from .engine import Node


class Function:
    """Base class of differentiable ops. An instance is the graph node ("ctx") of one call."""

    # After apply(): `parents` holds the positional arguments that were Tensors (None for the
    # others) and `needs_input_grad` says which of them require a gradient.
    # Defaults live on the class, so making a ctx needs no __init__ call (apply is the hot path).
    saved_tensors: tuple = ()
    rule: str = ""           # the local derivative in symbols and words, shown by explain
    _freed: bool = False
    parents: tuple = ()
    needs_input_grad: tuple = ()
    parent_versions: tuple = ()   # each parent's version when this op read it
    saved_versions: tuple = ()    # (counter, version, shape, dtype) of each tensor whose array
                                  # was saved: backward refuses if it changed in place since

    # -- the two methods every op writes -------------------------------------------------
    @staticmethod
    def forward(ctx: "Function", *args: Any, **kwargs: Any) -> np.ndarray:
        raise NotImplementedError("a Function subclass must define forward(ctx, *args)")

    @staticmethod
    def backward(ctx: "Function", grad_output: np.ndarray):
        raise NotImplementedError("a Function subclass must define backward(ctx, grad_output)")

    # -- helpers used inside forward -----------------------------------------------------
    def save_for_backward(self, *arrays: Any) -> None:
        """Keep what backward needs; freed after backward unless retain_graph=True."""
        self.saved_tensors = arrays

    @property
    def name(self) -> str:
        return type(self).__name__

    def _free(self) -> None:
        """Drop the saved arrays after backward. An op that saved nothing can run again (as in
        PyTorch, a second backward only fails where values were freed)."""
        if self.saved_tensors:
            self.saved_tensors = ()
            self._freed = True

    # -- running an op -------------------------------------------------------------------
    @classmethod
    def apply(cls, *args: Any, **kwargs: Any):
        """Run forward on the arrays inside the Tensor arguments and record the graph node.

        The result is made by the first Tensor argument's `_make`, so this module needs no
        import of the Tensor class (which sits above it)."""
        ctx = cls()
        arrays, parents, needs, versions = [], [], [], []
        first = None
        for a in args:  # one pass: unwrap Tensors and note which ones want a gradient
            if isinstance(a, Node):
                if a._base is not None and a._base[1] != len(a._base[0]._history or ()):
                    a._refresh_view()  # its memory's owner changed in the graph since
                first = a if first is None else first
                arrays.append(a.data)
                parents.append(a)
                needs.append(a.requires_grad)
                versions.append(a._version[0])
            else:
                arrays.append(a)
                parents.append(None)
                needs.append(False)
                versions.append(None)
        ctx.needs_input_grad = tuple(needs)  # set before forward: it may save less when False
        try:
            out = cls.forward(ctx, *arrays, **kwargs)
        except ValueError as err:
            if "broadcast" not in str(err):
                raise
            shapes = " and ".join(str(np.shape(a)) for a in arrays if hasattr(a, "shape"))
            raise ValueError(f"{cls.__name__}: shapes {shapes} cannot be broadcast together") from None
        if type(out) is not np.ndarray:  # numpy gives scalars for 0-d results: make an array
            scalar, out = out, np.asarray(out)
            if any(saved is scalar for saved in ctx.saved_tensors):  # saved the output itself:
                ctx.saved_tensors = tuple(out if saved is scalar else saved  # keep it watched
                                          for saved in ctx.saved_tensors)
        if first is None:
            raise TypeError(f"{cls.__name__}.apply needs at least one Tensor argument")
        if not (True in needs and _state._local.grad_enabled):
            return _share_version_of_view(first._make(out, False), parents)
        if out.dtype.kind != "f":
            raise TypeError(f"{cls.__name__} returned dtype {out.dtype}; only floating point "
                            "results can carry gradients")
        ctx.parents = tuple(parents)
        ctx.parent_versions = tuple(versions)
        result = _share_version_of_view(first._make(out, True), parents)
        result._ctx = ctx
        if ctx.saved_tensors:
            ctx.saved_versions = _versions_of_saved(ctx.saved_tensors, parents, result)
        return result


def _share_version_of_view(result, parents):
    """A result that is a numpy view of an input (reshape, transpose, x[1:]) shares that input's
    version counter: an in-place change through either one changes both. It also remembers the
    node that owns the memory (`_base`), for in-place changes recorded in the graph."""
    base = result.data.base
    if base is not None:
        for parent in parents:
            if parent is not None and (base is parent.data or base is parent.data.base):
                result._version = parent._version
                root = parent if parent._base is None else parent._base[0]
                result._base = [root, len(root._history or ())]
                break
    return result


def _versions_of_saved(saved, parents, result) -> tuple:
    """(counter, version, shape, dtype) of every input or output whose array (or a view of it)
    the op saved for backward: the engine compares the versions before it runs backward."""
    watched = []
    for array in saved:
        if type(array) is not np.ndarray:
            continue
        root = array if array.base is None else array.base
        for node in (*parents, result):
            if node is None:
                continue
            data = node.data
            if data is array or data is root or data.base is root:
                watched.append((node._version, node._version[0], data.shape, data.dtype))
    return tuple(watched)
