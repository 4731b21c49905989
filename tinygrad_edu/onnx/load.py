"""load(path): an ONNX model as an nn.Module built from our layers and ops.

Each node becomes a step of `OnnxModel.forward` (_load_ops.BUILDERS): Conv → nn.Conv2d,
Gemm → nn.Linear, BatchNormalization → nn.BatchNorm2d, LSTM → nn.LSTM, Relu → nn.ReLU, ...,
and the shape ops (Reshape, Slice, Concat, Shape, ...) run as our Tensor ops or, on constant
shapes, in numpy. Floating-point initialisers become Parameters (BatchNorm's running statistics
buffers); they keep their names where they can: an initialiser "features.0.weight" used by a
Conv becomes the parameter `features.0.weight` of the loaded model, so a model exported from
tinygrad_edu or PyTorch loads back with its state_dict keys. Initialisers that only hold shapes,
axes, scales or single numbers stay constants.

A node whose op (or whose attributes) has no mapping stops the load with its name and op type.
"""

from __future__ import annotations

import re

import numpy as np
import onnx
from onnx import helper, numpy_helper

from ..nn import Module, Parameter
from ..tensor import Tensor
from . import _load_more_ops, _load_ops
from .export import UnsupportedOpError

BUILDERS = {**_load_ops.BUILDERS, **_load_more_ops.BUILDERS}  # ONNX op type → builder

# Node inputs that hold shapes, axes, scales or fill values, not data: an initialiser used only
# there stays a numpy constant instead of becoming a Parameter.
CONSTANT_SLOTS = {
    "Reshape": {1}, "Resize": {1, 2, 3}, "Slice": {1, 2, 3, 4}, "Squeeze": {1}, "Unsqueeze": {1},
    "Pad": {1, 2, 3}, "Clip": {1, 2}, "Expand": {1}, "ReduceSum": {1}, "ReduceMean": {1},
    "ReduceMax": {1}, "ReduceMin": {1}, "Dropout": {1, 2}, "ConstantOfShape": {0}, "Gather": {1},
}

# Ops that a weight may be computed with from initialisers alone (evaluated once, at load time).
FOLDABLE = {"Slice", "Concat", "Unsqueeze", "Squeeze", "Reshape", "Transpose", "Cast", "Identity",
            "Add", "Sub", "Mul", "Div", "Neg", "Expand"}


class Container(Module):
    """Holds loaded layers and parameters under the dotted names of the ONNX initialisers."""

    def forward(self, *args):
        raise NotImplementedError("a Container only holds layers of a loaded ONNX model")


class OnnxModel(Module):
    """An ONNX graph as a Module: `forward(*inputs)` runs its nodes in order with our ops.

    `steps` lists (node name, op type, input names, output names); the layers and Parameters
    are registered as usual (named_parameters, state_dict, train/eval, optimisers work)."""

    def __init__(self, input_names, output_names):
        super().__init__()
        self.input_names, self.output_names = list(input_names), list(output_names)
        self.steps, self._run, self.constants, self.initializer_params = [], [], {}, {}

    def forward(self, *inputs):
        if len(inputs) != len(self.input_names):
            raise TypeError(f"this ONNX model takes {len(self.input_names)} inputs "
                            f"({', '.join(self.input_names)}), got {len(inputs)}")
        values = dict(self.constants)
        values.update(self.initializer_params)
        values.update((n, x if isinstance(x, Tensor) else Tensor(np.asarray(x)))
                      for n, x in zip(self.input_names, inputs))
        for (name, op_type, ins, outs), run in zip(self.steps, self._run):
            result = run(*[values.get(n) if n else None for n in ins])
            results = result if isinstance(result, tuple) else (result,)
            for out_name, value in zip(outs, results):
                if out_name:
                    values[out_name] = value
        outputs = [values[n] if isinstance(values[n], Tensor) else Tensor(values[n])
                   for n in self.output_names]
        return outputs[0] if len(outputs) == 1 else tuple(outputs)

    def extra_repr(self) -> str:
        return f"inputs={self.input_names}, outputs={self.output_names}, {len(self.steps)} nodes"


def _attributes(node) -> dict:
    out = {}
    for attr in node.attribute:
        value = helper.get_attribute_value(attr)
        if isinstance(value, bytes):
            value = value.decode()
        elif isinstance(value, list) and value and isinstance(value[0], bytes):
            value = [v.decode() for v in value]
        out[attr.name] = value
    return out


def _identifier(name: str) -> str:
    name = re.sub(r"\W", "_", name.strip("/")) or "node"
    return name


class Loader:
    """What the builders of _load_ops ask for while the model is put together."""

    def __init__(self, proto: onnx.ModelProto):
        self.proto, self.graph = proto, proto.graph
        self.opset = next((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), 0)
        self.initializers = {t.name: numpy_helper.to_array(t) for t in self.graph.initializer}
        self.known = {}  # values known when loading (constants, folded shape arithmetic)
        self.producers = {out: node for node in self.graph.node for out in node.output}
        self.claimed = set()
        self.model = OnnxModel([i.name for i in self.graph.input if i.name not in self.initializers],
                               [o.name for o in self.graph.output])
        try:
            inferred = onnx.shape_inference.infer_shapes(proto).graph
        except Exception:  # noqa: BLE001 - shapes only help choose BatchNorm1d or 2d
            inferred = self.graph
        self.ranks = {}
        for info in list(inferred.value_info) + list(inferred.input) + list(inferred.output):
            if info.type.tensor_type.HasField("shape"):
                self.ranks[info.name] = len(info.type.tensor_type.shape.dim)

    # -- questions the builders ask ----------------------------------------------------------
    def unsupported(self, node, what: str) -> UnsupportedOpError:
        return UnsupportedOpError(f"load: node {node.name!r} ({node.op_type}): {what} is not supported")

    @staticmethod
    def has_input(node, i: int) -> bool:
        return i < len(node.input) and node.input[i] != ""

    def initializer(self, name: str):
        """The array of an initialiser, of a value known at load time, or of a value computed
        from initialisers only (PyTorch writes an LSTM's gate reordering as Slice and Concat
        nodes when it does not fold constants): such a subgraph is evaluated here, in numpy,
        and the initialisers it reads become constants."""
        if name in self.initializers:
            return self.initializers[name]
        if name in self.known:
            return self.known[name]
        node = self.producers.get(name)
        if node is None or node.op_type not in FOLDABLE:
            return None
        values = [self.initializer(n) if n else None for n in node.input]
        if any(v is None for n, v in zip(node.input, values) if n):
            return None
        result = BUILDERS[node.op_type](node, _attributes(node), self)(*values)
        results = result if isinstance(result, tuple) else (result,)
        if not all(isinstance(r, np.ndarray) for r in results):
            return None
        self.known.update(zip(node.output, results))
        self.claimed.update(n for n in node.input if n in self.initializers)
        return self.known[name]

    def weight(self, node, i: int) -> np.ndarray:
        value = self.initializer(node.input[i]) if self.has_input(node, i) else None
        if value is None:
            raise self.unsupported(node, f"input {i} ({node.input[i] if i < len(node.input) else ''!r}) "
                                   "that is not an initialiser")
        return value

    def known_value(self, name: str):
        return self.known.get(name)

    def rank(self, name: str):
        return self.ranks.get(name)

    # -- placing layers and parameters -------------------------------------------------------
    def _place(self, path: str, kind: str, value) -> bool:
        """Register value (a Module or a Parameter) at the dotted path; False if taken."""
        *parents, last = path.split(".")
        if not all(parents):
            return False
        owner = self.model
        for part in parents:
            child = owner._modules.get(part)
            if child is None:
                if hasattr(owner, part):
                    return False
                child = Container()
                owner.add_module(part, child)
            elif not isinstance(child, Container):
                return False
            owner = child
        if not last or hasattr(owner, last):
            return False
        if kind == "module":
            owner.add_module(last, value)
        else:
            owner.register_parameter(last, value)
        return True

    def _place_anywhere(self, paths, kind: str, value) -> str:
        for path in paths:
            if path and self._place(path, kind, value):
                return path
        base = _identifier(paths[-1])
        for k in range(10_000):  # base_0, base_1, …: the first free name
            if self._place(f"{base}_{k}", kind, value):
                return f"{base}_{k}"
        raise RuntimeError(f"load: found no free name for a {kind} near {paths[-1]!r}")

    def layer(self, node, module: Module, params=(), inputs=(0,), state=None, claimed=()):
        """Make `module` a layer of the model, its weights copied from the node's initialisers:
        params lists (attribute, input index[, transform]); state maps attribute → array."""
        names = []
        for attr, index, *transform in params:
            if not self.has_input(node, index):
                continue
            array = self.weight(node, index)
            if transform and transform[0] is not None:
                array = transform[0](array)
            target = getattr(module, attr)
            if target.data.shape != array.shape:
                raise self.unsupported(node, f"{attr} of shape {array.shape} (expected {target.data.shape})")
            target.data = np.array(array, dtype=target.data.dtype)
            names.append(node.input[index])
        for attr, array in (state or {}).items():
            dtype = np.float32 if array.dtype.kind == "f" else array.dtype
            getattr(module, attr).data = np.array(array, dtype=dtype)
        names += [node.input[i] for i in claimed if self.has_input(node, i)]
        self.claimed.update(names)
        prefixes = {n.rpartition(".")[0] for n in names}
        paths = [prefixes.pop()] if len(prefixes) == 1 else []
        # then the node's name read as a module path, as PyTorch and our export write it:
        # "/features/1/Relu" → "features.1" (the module that made it), else "features.1.Relu"
        parts = [part for part in re.split(r"[/.]", node.name) if part]
        paths += [".".join(parts[:-1]), ".".join(parts), node.op_type]
        self._place_anywhere(paths, "module", module)
        if inputs is None:
            return module
        return lambda *values: module(*[values[i] for i in inputs])


def _constant_node_value(node) -> np.ndarray:
    a = _attributes(node)
    if "value" in a:
        return numpy_helper.to_array(a["value"])
    for key, dtype in (("value_float", np.float32), ("value_floats", np.float32),
                       ("value_int", np.int64), ("value_ints", np.int64)):
        if key in a:
            return np.array(a[key], dtype=dtype)
    raise UnsupportedOpError(f"load: node {node.name!r} (Constant): only tensor, float and int "
                             "values are supported")


def _data_initializers(graph, initializers) -> set:
    """The floating-point initialisers that some node uses as data (→ Parameters)."""
    used = set()
    for node in graph.node:
        slots = CONSTANT_SLOTS.get(node.op_type, set())
        used.update(name for i, name in enumerate(node.input) if name and i not in slots)
    return {n for n in used if n in initializers and initializers[n].dtype.kind == "f"
            and initializers[n].ndim > 0}


def load(path) -> OnnxModel:
    """Read an ONNX file (a path, bytes or an onnx.ModelProto) as an OnnxModel in eval mode.

    >>> import os, tempfile, numpy as np, tinygrad_edu as tg, tinygrad_edu.nn as nn
    >>> from tinygrad_edu.onnx import export
    >>> path = os.path.join(tempfile.mkdtemp(), "mlp.onnx")
    >>> _ = export(nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3)), tg.ones(2, 4), path)
    >>> model = load(path)
    >>> [name for name, _ in model.named_parameters()]
    ['0.weight', '0.bias', '2.weight', '2.bias']
    >>> model(tg.ones(5, 4)).shape
    (5, 3)
    """
    if isinstance(path, onnx.ModelProto):
        proto = path
    elif isinstance(path, (bytes, bytearray)):
        proto = onnx.load_from_string(bytes(path))
    else:
        proto = onnx.load(path)
    b = Loader(proto)
    if b.opset < 13:
        raise UnsupportedOpError(f"load: the model uses opset {b.opset}; opset 13 or newer is "
                                 "supported (re-export it with a newer opset)")
    data_names = _data_initializers(b.graph, b.initializers)
    b.known.update((n, v) for n, v in b.initializers.items() if n not in data_names)
    model = b.model
    for node in b.graph.node:
        if node.domain not in ("", "ai.onnx"):
            raise UnsupportedOpError(f"load: node {node.name!r} ({node.domain}.{node.op_type}): "
                                     f"ops of the domain {node.domain!r} are not supported")
        if node.op_type == "Constant":
            b.known[node.output[0]] = _constant_node_value(node)
            continue
        builder = BUILDERS.get(node.op_type)
        if builder is None:
            raise UnsupportedOpError(
                f"load: node {node.name!r} has op type {node.op_type}, which has no mapping to "
                f"our layers; supported: {', '.join(sorted(BUILDERS) + ['Constant'])}")
        run = builder(node, _attributes(node), b)
        if all(n == "" or n in b.known for n in node.input) and node.op_type != "Shape":
            values = [b.known.get(n) if n else None for n in node.input]
            result = run(*values)
            results = result if isinstance(result, tuple) else (result,)
            if all(isinstance(r, np.ndarray) for r in results):  # shape arithmetic: fold it
                b.known.update(zip(node.output, results))
                continue
        model.steps.append((node.name, node.op_type, list(node.input), list(node.output)))
        model._run.append(run)
    b.known.update((n, b.initializers[n]) for n in b.claimed if n in b.initializers)
    for name in sorted(data_names - b.claimed, key=list(b.initializers).index):
        param = Parameter(b.initializers[name])
        b._place_anywhere([name, _identifier(name)], "parameter", param)
        model.initializer_params[name] = param
    model.constants.update(b.known)
    return model.eval()
