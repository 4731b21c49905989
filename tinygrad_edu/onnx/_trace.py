"""Tracing one forward pass: every op the engine records, with the arguments it was called with.

The engine already keeps, for each result, the Function that made it and its tensor inputs
(`tensor._ctx`, `ctx.parents`). An exporter needs a little more: the *other* arguments too
(a convolution's geometry, a softmax's axis, the number in `x * 0.5`, BatchNorm's eps). So for
the duration of one forward pass `record_calls` wraps `Function.apply` and notes, for every
result, the Function class and the full argument list. Afterwards `apply` is restored.

A few layers are exported as ONE ONNX op although our forward pass builds them from many small
ops (nn.RNN runs an unrolled loop of Linear/Add/Tanh). Forward hooks note their calls, and the
walk below treats such a module's outputs as made by the module itself.

>>> import numpy as np, tinygrad_edu as tg, tinygrad_edu.nn as nn
>>> trace = trace_model(nn.Sequential(nn.Linear(3, 2), nn.ReLU()), (tg.Tensor(np.ones((4, 3))),))
>>> [call.op.__name__ for call in trace.calls]
['LinearFn', 'ReLUFn']
"""

from __future__ import annotations

import threading
from typing import Any, NamedTuple

import numpy as np

from ..engine import Node
from ..function import Function
from ..grad_mode import enable_grad
from ..nn import RNN, Module
from ..tensor import Tensor

# Layers exported whole (one ONNX op) instead of op by op; GRU and LSTM are single Functions
# already, nn.RNN is a loop of small ops.
WHOLE_MODULES = (RNN,)
_LOCK = threading.Lock()


class Call(NamedTuple):
    """One recorded op: `op` (a Function subclass, or a Module class from WHOLE_MODULES), its
    arguments as given (Tensors and plain values), and its output Tensor(s)."""
    op: type
    args: tuple
    kwargs: dict
    outputs: tuple
    module: Any = None  # the Module instance for a whole-module call


class Trace(NamedTuple):
    inputs: tuple       # the input Tensors
    outputs: tuple      # the output Tensors (nested tuples flattened)
    calls: list         # the recorded calls, each after the calls its inputs came from
    leaves: list        # the Tensors the graph reads that no recorded call made (parameters,
                        # buffers, constants), in order of first use
    module_of: dict     # id(tensor) → the path of the innermost module that returned it


def _flatten(value) -> list:
    if isinstance(value, (tuple, list)):
        return [t for v in value for t in _flatten(v)]
    if isinstance(value, Tensor):
        return [value]
    raise TypeError(f"export: the model returned a {type(value).__name__}; only Tensors and "
                    "(nested) tuples or lists of Tensors can be exported")


class _Recorder:
    """Wraps Function.apply while tracing; `by_output` maps id(result) → Call."""

    def __init__(self, model: Module):
        self.model, self.by_output, self.keep = model, {}, []

    def __enter__(self):
        _LOCK.acquire()
        original = Function.__dict__["apply"]
        recorder = self

        def apply(cls, *args, **kwargs):
            out = original.__func__(cls, *args, **kwargs)
            if isinstance(out, Node) and out._ctx is not None:
                recorder.by_output[id(out)] = Call(cls, args, kwargs, (out,))
                recorder.keep.append(out)
            return out

        self.original = original
        Function.apply = classmethod(apply)
        self.handles, self.module_of = [], {}
        for path, module in self.model.named_modules():
            if isinstance(module, WHOLE_MODULES):
                self.handles.append(module.register_forward_hook(self._module_hook))
            self.handles.append(module.register_forward_hook(self._path_hook(path)))
        return self

    def _path_hook(self, path):
        """Notes the innermost module that returned each tensor (its path names the nodes)."""
        def hook(module, args, out):
            for t in _flatten_tensors(out):
                self.module_of.setdefault(id(t), path)
                self.keep.append(t)
        return hook

    def _module_hook(self, module, args, out):
        outputs = tuple(_flatten(out))
        call = Call(type(module), tuple(args), {}, outputs, module)
        for t in outputs:
            self.by_output[id(t)] = call
        self.keep.append(outputs)

    def __exit__(self, *exc):
        Function.apply = self.original
        for handle in self.handles:
            handle.remove()
        _LOCK.release()


def _tensor_args(call: Call) -> list:
    found = [a for a in call.args if isinstance(a, Tensor)]
    found += [t for a in call.args if isinstance(a, (tuple, list)) for t in _flatten_tensors(a)]
    return found


def _flatten_tensors(value) -> list:
    if isinstance(value, (tuple, list)):
        return [t for v in value for t in _flatten_tensors(v)]
    return [value] if isinstance(value, Tensor) else []


def _walk(outputs, by_output) -> tuple[list, list]:
    """Calls in dependency order (each after the calls that made its inputs), and the leaves."""
    calls, leaves, done = [], [], set()
    stack = [(t, False) for t in reversed(outputs)]
    while stack:
        tensor, inputs_done = stack.pop()
        call = by_output.get(id(tensor))
        key = id(call) if call is not None else id(tensor)
        if inputs_done:
            if key not in done:
                done.add(key)
                (calls if call is not None else leaves).append(call if call is not None else tensor)
            continue
        if key in done:
            continue
        stack.append((tensor, True))
        if call is not None:
            for parent in reversed(_tensor_args(call)):
                stack.append((parent, False))
    return calls, leaves


def trace_model(model: Module, inputs: tuple) -> Trace:
    """Run model(*inputs) once in eval mode with every op recorded; the model's train/eval
    flags and requires_grad flags are restored afterwards."""
    modes = [(m, m.training) for m in model.modules()]
    params = [(p, p.requires_grad) for p in model.parameters()]
    traced_inputs = []
    for x in inputs:
        if not isinstance(x, Tensor):
            raise TypeError(f"export: example inputs must be Tensors, got {type(x).__name__}")
        t = Tensor(x.data)
        if t.data.dtype.kind == "f":
            t.requires_grad_(True)  # so that every op that reads it is recorded
        traced_inputs.append(t)
    try:
        model.eval()
        for p, _ in params:
            p.requires_grad_(True)
        with _Recorder(model) as recorder, enable_grad():
            out = model(*traced_inputs)
        outputs = tuple(_flatten(out))
        calls, leaves = _walk(outputs, recorder.by_output)
    finally:
        for m, mode in modes:
            object.__setattr__(m, "training", mode)
        for p, flag in params:
            p.requires_grad_(flag)
    return Trace(tuple(traced_inputs), outputs, calls, leaves, recorder.module_of)


def batch_axes(trace: Trace, other: Trace) -> dict:
    """id(tensor) → the set of axes whose size differs between two traces of the same model at
    two batch sizes: the axes that follow the batch size (given a symbolic name in ONNX)."""
    if [c.op for c in trace.calls] != [c.op for c in other.calls] or \
            len(trace.leaves) != len(other.leaves):
        raise ValueError("export: the model runs different ops at two batch sizes, so the "
                         "batch size cannot be made symbolic; pass batch_axis=None")
    pairs = list(zip(trace.inputs, other.inputs)) + list(zip(trace.leaves, other.leaves))
    for a, b in zip(trace.calls, other.calls):
        pairs += list(zip(a.outputs, b.outputs))
    axes = {}
    for a, b in pairs:
        sa, sb = np.shape(a.data), np.shape(b.data)
        if len(sa) != len(sb):
            raise ValueError(f"export: a value has shape {sa} at one batch size and {sb} at "
                             "another; pass batch_axis=None to export fixed shapes")
        axes[id(a)] = {i for i, (m, n) in enumerate(zip(sa, sb)) if m != n}
    return axes
