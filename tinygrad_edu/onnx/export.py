"""export(model, example_input, path): one traced forward pass, written as an ONNX model.

1. Trace: run the model once in eval mode and record every op with its arguments (_trace.py).
   With `batch_axis` (default 0) it runs a second time at another batch size; the axes whose
   size changed get the symbolic name "batch", so the file takes any batch size.
2. Convert: each recorded Function becomes ONNX nodes (_export_ops.EXPORTERS). Parameters and
   buffers become initialisers under their state_dict names ("0.weight", "bn1.running_mean").
   An op without a mapping stops the export with its name; nothing is written.
3. Check the model with onnx.checker, then write it atomically (a temporary file renamed over
   the target, as tinygrad_edu.save does), so a failed export never leaves half a file.
"""

from __future__ import annotations

import os

import numpy as np
import onnx
from onnx import helper, numpy_helper

from ..nn import Module
from .. import serialize
from ..tensor import Tensor
from . import _export_more_ops, _export_ops, _trace

EXPORTERS = {**_export_ops.EXPORTERS, **_export_more_ops.EXPORTERS}  # Function → converter

DEFAULT_OPSET = 17
MIN_OPSET = 13


class UnsupportedOpError(NotImplementedError):
    """An op of the model (or of the ONNX file) that has no mapping."""


class GraphBuilder:
    """The ONNX graph under construction: nodes, initialisers and a name for every value."""

    def __init__(self, trace, axes: dict, opset: int, leaf_names: dict):
        self.trace, self.axes, self.opset, self.leaf_names = trace, axes, opset, leaf_names
        self.nodes, self.initializers, self.names, self.taken = [], [], {}, set()
        self.counts: dict = {}
        self.leaf_arrays = {}  # id(array) → the parameter or buffer whose data it is
        self.scope = ""  # "/<module path>/": the start of the names of the nodes being written

    # -- names -------------------------------------------------------------------------------
    def unique(self, hint: str) -> str:
        n = self.counts.get(hint, 0)
        name = hint if n == 0 and hint not in self.taken else f"{hint}_{n}"
        while name in self.taken:
            n += 1
            name = f"{hint}_{n}"
        self.counts[hint] = n + 1
        self.taken.add(name)
        return name

    def dynamic(self, tensor) -> set:
        """The axes of `tensor` that follow the batch size."""
        return self.axes.get(id(tensor), set())

    def leaf_name(self, tensor):
        return self.leaf_names.get(id(tensor))

    # -- values ------------------------------------------------------------------------------
    def const(self, array, hint: str, exact: bool = False) -> str:
        """An initialiser holding `array`; `exact` keeps the hint as its name if it is free."""
        name = self.unique(hint) if not exact or hint in self.taken else hint
        self.taken.add(name)
        self.initializers.append(numpy_helper.from_array(np.asarray(array, order="C"), name))
        return name

    def ints(self, values) -> str:
        return self.const(np.array(values, dtype=np.int64), "shape" if len(values) > 1 else "axes")

    def value(self, tensor) -> str:
        """The name of a Tensor: made by an earlier node, or a leaf (an initialiser)."""
        if id(tensor) not in self.names:
            if self.dynamic(tensor):
                raise UnsupportedOpError(
                    f"export: a constant of shape {tensor.shape} depends on the batch size (made "
                    "outside the recorded ops, e.g. from a numpy array); pass batch_axis=None")
            name = self.leaf_name(tensor)
            self.names[id(tensor)] = self.const(tensor.data, name or "constant", exact=bool(name))
        return self.names[id(tensor)]

    def arg(self, call, i: int, dtype=None) -> str:
        """The name of argument i of a call: a Tensor's name, or a constant (a number, or an
        array: the array of a buffer, such as BatchNorm's running mean, keeps the buffer's name)."""
        value = call.args[i]
        if isinstance(value, Tensor):
            return self.value(value)
        owner = self.leaf_arrays.get(id(value)) if isinstance(value, np.ndarray) else None
        if owner is not None:
            return self.value(owner)
        dtype = dtype or call.outputs[0].data.dtype
        return self.const(np.asarray(value, dtype=dtype), "constant")

    def leaf_array(self, call, tensor, kind: str) -> np.ndarray:
        """The array of a parameter that is rewritten for ONNX (the recurrent gate order)."""
        if id(tensor) in self.names and id(tensor) not in self.leaf_names:
            raise self.unsupported(call, f"{kind} weights computed inside the model (they must "
                                   "be parameters or buffers)")
        return tensor.data

    def index_input(self, idx) -> str:
        """An embedding's indices: the graph input they came from, or a constant."""
        for t in self.trace.inputs:
            if t.data is idx or (t.data.shape == idx.shape and t.data.dtype.kind in "iu"
                                 and np.array_equal(t.data, idx)):
                name = self.value(t)
                if t.data.dtype != np.int64:
                    name = self.node("Cast", [name], to=onnx.TensorProto.INT64)
                return name
        if self.axes and any(self.axes.values()):
            raise UnsupportedOpError("export: embedding indices that are not a model input")
        return self.const(idx.astype(np.int64), "indices")

    @staticmethod
    def onnx_dtype(dtype) -> int:
        return helper.np_dtype_to_tensor_dtype(np.dtype(dtype))

    # -- nodes -------------------------------------------------------------------------------
    def out(self, call, i: int = 0) -> str:
        return self.names[id(call.outputs[i])]

    def node(self, op_type: str, inputs, outputs=None, n_outputs: int = 1, **attrs):
        """Add a node; returns its output name (a list of names if there are several)."""
        if outputs is None:
            outputs = [self.unique(f"{self.scope}{op_type}_output") for _ in range(n_outputs)]
        self.nodes.append(helper.make_node(op_type, list(inputs), list(outputs),
                                           name=self.unique(f"{self.scope}{op_type}"), **attrs))
        return outputs[0] if len(outputs) == 1 else list(outputs)

    def unsupported(self, call, what: str) -> UnsupportedOpError:
        return UnsupportedOpError(f"export: {call.op.__name__} cannot be exported to ONNX: {what}")


def _value_info(name: str, tensor, dynamic: set):
    shape = ["batch" if i in dynamic else n for i, n in enumerate(tensor.shape)]
    return helper.make_tensor_value_info(name, GraphBuilder.onnx_dtype(tensor.data.dtype), shape)


def _second_input(x: Tensor, axis: int) -> Tensor:
    """The example input at batch size + 1 (its first sample repeated)."""
    first = np.take(x.data, [0], axis=axis)
    return Tensor(np.concatenate([x.data, first], axis=axis))


def check_supported(calls) -> None:
    """Refuse, before anything is converted or written, a trace with an op that has no mapping."""
    for call in calls:
        if call.op not in EXPORTERS:
            raise UnsupportedOpError(
                f"export: the model uses {call.op.__name__} ({call.op.__module__}), which has no "
                f"ONNX mapping; supported: {', '.join(sorted(op.__name__ for op in EXPORTERS))}")


def to_onnx(model: Module, example_input, opset: int | None = None, batch_axis: int | None = 0,
            input_names=None, output_names=None, graph_name: str | None = None) -> onnx.ModelProto:
    """The ONNX model of `model` (what `export` writes), checked by onnx.checker."""
    opset = DEFAULT_OPSET if opset is None else int(opset)
    if not MIN_OPSET <= opset <= onnx.defs.onnx_opset_version():
        raise ValueError(f"export: opset {opset} is not supported; use {MIN_OPSET} to "
                         f"{onnx.defs.onnx_opset_version()} (default {DEFAULT_OPSET})")
    if not isinstance(model, Module):
        raise TypeError(f"export: model must be an nn.Module, got {type(model).__name__}")
    inputs = tuple(example_input) if isinstance(example_input, (tuple, list)) else (example_input,)
    inputs = tuple(x if isinstance(x, Tensor) else Tensor(np.asarray(x)) for x in inputs)
    trace = _trace.trace_model(model, inputs)
    check_supported(trace.calls)
    axes = {}
    if batch_axis is not None:
        for x in inputs:
            if x.ndim <= batch_axis % max(x.ndim, 1) or x.ndim == 0:
                raise ValueError(f"export: batch_axis={batch_axis} but an input has shape {x.shape}")
        other = _trace.trace_model(model, tuple(_second_input(x, batch_axis) for x in inputs))
        axes = _trace.batch_axes(trace, other)
    leaf_names = {}
    for table in (model.named_buffers(), model.named_parameters()):
        leaf_names.update({id(t): name for name, t in table})
    g = GraphBuilder(trace, axes, opset, leaf_names)
    for table in (model.named_buffers(), model.named_parameters()):
        g.leaf_arrays.update({id(t.data): t for _, t in table})
    input_names = list(input_names or (["input"] if len(inputs) == 1 else
                                       [f"input_{i}" for i in range(len(inputs))]))
    output_names = list(output_names or (["output"] if len(trace.outputs) == 1 else
                                         [f"output_{i}" for i in range(len(trace.outputs))]))
    if len(input_names) != len(inputs) or len(output_names) != len(trace.outputs):
        raise ValueError(f"export: {len(inputs)} inputs and {len(trace.outputs)} outputs, but "
                         f"{len(input_names)} input names and {len(output_names)} output names")
    for t, name in zip(trace.inputs, input_names):
        g.names[id(t)] = name
        g.taken.add(name)
    g.taken.update(output_names)
    wanted = {}  # id(output tensor) → its graph output name (the first, if returned twice)
    for t, name in zip(trace.outputs, output_names):
        wanted.setdefault(id(t), name)
    for call in trace.calls:
        path = trace.module_of.get(id(call.outputs[0]))
        g.scope = f"/{path.replace('.', '/')}/" if path else "/"  # nodes named as PyTorch names them
        for t in call.outputs:
            op_name = call.op.__name__.removesuffix("Fn")
            g.names[id(t)] = wanted.get(id(t)) or g.unique(f"{g.scope}{op_name}_output")
        EXPORTERS[call.op](g, call)
    g.scope = "/"
    for t, name in zip(trace.outputs, output_names):
        if g.value(t) != name:  # an input, a constant, or an output returned twice
            g.node("Identity", [g.value(t)], [name])
    graph = helper.make_graph(
        g.nodes, graph_name or type(model).__name__,
        [_value_info(n, t, g.dynamic(t)) for n, t in zip(input_names, trace.inputs)],
        [_value_info(n, t, g.dynamic(t)) for n, t in zip(output_names, trace.outputs)],
        initializer=g.initializers)
    opsets = [helper.make_opsetid("", opset)]
    proto = helper.make_model(graph, opset_imports=opsets, producer_name="tinygrad_edu",
                              ir_version=helper.find_min_ir_version_for(opsets))
    onnx.checker.check_model(proto, full_check=True)
    return proto


def export(model: Module, example_input, path, opset: int | None = None,
           batch_axis: int | None = 0, input_names=None, output_names=None) -> onnx.ModelProto:
    """Write `model` as an ONNX file at `path`, traced on `example_input` (a Tensor, or a tuple
    of Tensors for several inputs). The axis `batch_axis` of every input (None: none) is
    symbolic ("batch"). Returns the ModelProto that was written.

    >>> import os, tempfile, numpy as np, tinygrad_edu as tg, tinygrad_edu.nn as nn
    >>> path = os.path.join(tempfile.mkdtemp(), "mlp.onnx")
    >>> proto = export(nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3)),
    ...                tg.Tensor(np.ones((2, 4), np.float32)), path)
    >>> [node.op_type for node in proto.graph.node]
    ['Gemm', 'Relu', 'Gemm']
    >>> [init.name for init in proto.graph.initializer]
    ['0.weight', '0.bias', '2.weight', '2.bias']
    """
    proto = to_onnx(model, example_input, opset, batch_axis, input_names, output_names)
    write_atomically(proto.SerializeToString(), path)
    return proto


def write_atomically(data: bytes, path) -> None:
    """Write `data` to `path` as tinygrad_edu.save does: readers see the old file or the new one."""
    serialize.write_atomically(path, lambda f: f.write(data))
