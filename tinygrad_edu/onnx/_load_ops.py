"""Each ONNX op as our layers and ops: one builder per op type, looked up in BUILDERS.

A builder gets the node, its attributes `a` and the loader `b` (load.py's Loader), and returns
the function that computes the node from its input values. Values are Tensors (what gradients
flow through) or numpy arrays (shapes, axes and other constants, computed with numpy).
A node with weights in initialisers becomes one of our layers (`b.layer(...)` registers it,
so its weights are Parameters of the loaded model): Conv → nn.Conv2d, Gemm → nn.Linear,
LSTM → nn.LSTM, and so on. The recurrent layers get their gates back in PyTorch's order.
"""

from __future__ import annotations

import numpy as np

from .. import nn
from ..nn import functional as F
from ..tensor import Tensor, cat
from ._export_ops import GRU_ORDER, LSTM_ORDER, reorder_gates


def data(v) -> np.ndarray:
    return v.data if isinstance(v, Tensor) else np.asarray(v)


def _tensor_like(v, like):
    """v (a Tensor or an array) as a Tensor, floats in the dtype of `like` (a Tensor)."""
    if isinstance(v, Tensor):
        return v
    v = np.asarray(v)
    if v.dtype.kind == "f" and isinstance(like, Tensor) and like.dtype.kind == "f":
        v = v.astype(like.dtype)
    return Tensor(v)


def _binary(numpy_fn, tensor_fn):
    def build(node, a, b):
        def run(x, y):
            if not isinstance(x, Tensor) and not isinstance(y, Tensor):
                return numpy_fn(np.asarray(x), np.asarray(y))
            return tensor_fn(_tensor_like(x, y), _tensor_like(y, x))
        return run
    return build


def _unary(numpy_fn, method):
    def build(node, a, b):
        return lambda x: getattr(x, method)() if isinstance(x, Tensor) else numpy_fn(np.asarray(x))
    return build


def _module(make):
    """An op that is one of our parameter-free modules (ReLU, Tanh, ...)."""
    def build(node, a, b):
        return b.layer(node, make(a), [])
    return build


def _softmax_axis(node, a, b):
    if b.opset < 13:
        raise b.unsupported(node, "Softmax/LogSoftmax before opset 13 (flattening semantics)")
    return int(a.get("axis", -1))


# ---------------------------------------------------------------------------------------------
# Layers with weights
# ---------------------------------------------------------------------------------------------
def _symmetric_pads(node, a, b, n):
    if a.get("auto_pad", "NOTSET") not in ("NOTSET", "VALID"):
        raise b.unsupported(node, f"auto_pad={a['auto_pad']}")
    pads = list(a.get("pads", [0] * 2 * n))
    if pads[:n] != pads[n:]:
        return None, pads
    return tuple(pads[:n]), pads


def _padded_first(layer, pads, n):
    """Zero-pad the input by the (asymmetric) ONNX pads, then run `layer` (padding 0)."""
    flat = [v for i in reversed(range(n)) for v in (pads[i], pads[i + n])]
    return lambda x, *weights: layer(F.pad(x, tuple(flat)))


def _conv(node, a, b):
    w = b.weight(node, 1)
    n = w.ndim - 2
    if n not in (1, 2):
        raise b.unsupported(node, f"a {n}-D convolution")
    group = int(a.get("group", 1))
    padding, pads = _symmetric_pads(node, a, b, n)
    cls = nn.Conv1d if n == 1 else nn.Conv2d
    layer = cls(w.shape[1] * group, w.shape[0], w.shape[2:], stride=tuple(a.get("strides", [1] * n)),
                padding=padding or 0, dilation=tuple(a.get("dilations", [1] * n)), groups=group,
                bias=b.has_input(node, 2))
    run = b.layer(node, layer, [("weight", 1), ("bias", 2)])
    return run if padding is not None else _padded_first(run, pads, n)


def _conv_transpose(node, a, b):
    w = b.weight(node, 1)
    if w.ndim != 4 or "output_shape" in a:
        raise b.unsupported(node, "only 2-D ConvTranspose without output_shape")
    padding, _ = _symmetric_pads(node, a, b, 2)
    if padding is None:
        raise b.unsupported(node, "asymmetric pads")
    group = int(a.get("group", 1))
    layer = nn.ConvTranspose2d(w.shape[0], w.shape[1] * group, w.shape[2:],
                               stride=tuple(a.get("strides", [1, 1])), padding=padding,
                               output_padding=tuple(a.get("output_padding", [0, 0])), groups=group,
                               bias=b.has_input(node, 2), dilation=tuple(a.get("dilations", [1, 1])))
    return b.layer(node, layer, [("weight", 1), ("bias", 2)])


def _gemm(node, a, b):
    alpha, beta = float(a.get("alpha", 1.0)), float(a.get("beta", 1.0))
    trans_a, trans_b = int(a.get("transA", 0)), int(a.get("transB", 0))
    w = b.initializer(node.input[1])
    c = b.initializer(node.input[2]) if b.has_input(node, 2) else None
    if w is not None and w.ndim == 2 and alpha == beta == 1.0 and not trans_a and \
            (c is None or c.shape == (w.shape[0 if trans_b else 1],)):
        layer = nn.Linear(*(w.shape[::-1] if trans_b else w.shape), bias=c is not None)
        return b.layer(node, layer, [("weight", 1, None if trans_b else np.transpose), ("bias", 2)])

    def run(x, y, z=None):
        x = x.T if trans_a else x
        y = y.T if trans_b else y
        out = (x @ y) * alpha if alpha != 1.0 else x @ y
        return out if z is None else out + (z * beta if beta != 1.0 else z)
    return run


def _batch_norm(node, a, b):
    if int(a.get("training_mode", 0)):
        raise b.unsupported(node, "training_mode=1")
    scale = b.weight(node, 1)
    rank = b.rank(node.input[0])
    cls = nn.BatchNorm2d if rank == 4 else nn.BatchNorm1d
    # ONNX stores float32 attributes: 1e-5 arrives as 9.99999975e-06; keep 7 digits
    layer = cls(scale.shape[0], eps=float(f"{a.get('epsilon', 1e-5):.7g}"),
                momentum=float(f"{1 - a.get('momentum', 0.9):.7g}"))
    return b.layer(node, layer, [("weight", 1), ("bias", 2), ("running_mean", 3), ("running_var", 4)])


def _gather(node, a, b):
    axis = int(a.get("axis", 0))
    table = b.initializer(node.input[0])
    if table is not None and table.ndim == 2 and axis == 0 and table.dtype.kind == "f":
        layer = nn.Embedding(*table.shape)
        return b.layer(node, layer, [("weight", 0)], inputs=[1])

    def gather(x, idx):
        idx = data(idx).astype(np.int64)
        if not isinstance(x, Tensor):
            return np.take(np.asarray(x), idx, axis=axis)
        axis_ = axis % x.ndim
        index = (slice(None),) * axis_ + (int(idx) if idx.ndim == 0 else idx,)
        return x[index]
    return gather


def _recurrent(kind):
    def build(node, a, b):
        direction = a.get("direction", "forward")
        if direction not in ("forward", "bidirectional"):
            raise b.unsupported(node, f"direction={direction!r}")
        for name in ("clip", "activation_alpha", "activation_beta"):
            if name in a:
                raise b.unsupported(node, f"the attribute {name}")
        if int(a.get("input_forget", 0)):
            raise b.unsupported(node, "input_forget=1")
        if b.has_input(node, 4) or (kind == "LSTM" and b.has_input(node, 7)):
            raise b.unsupported(node, "sequence_lens or peepholes")
        w, r = b.weight(node, 1), b.weight(node, 2)
        bias = b.initializer(node.input[3]) if b.has_input(node, 3) else None
        hidden, batch_first = int(a["hidden_size"]), bool(int(a.get("layout", 0)))
        directions = w.shape[0]
        acts = [s.lower() for s in a.get("activations", [])]
        if kind == "LSTM":
            if acts and acts != ["sigmoid", "tanh", "tanh"] * directions:
                raise b.unsupported(node, f"activations {a['activations']}")
            layer, order = nn.LSTM(w.shape[2], hidden, bidirectional=directions == 2,
                                   batch_first=batch_first), np.argsort(LSTM_ORDER)
        elif kind == "GRU":
            if not int(a.get("linear_before_reset", 0)):
                raise b.unsupported(node, "linear_before_reset=0 (PyTorch's GRU resets after "
                                    "the linear map: linear_before_reset=1)")
            if acts and acts != ["sigmoid", "tanh"] * directions:
                raise b.unsupported(node, f"activations {a['activations']}")
            layer, order = nn.GRU(w.shape[2], hidden, bidirectional=directions == 2,
                                  batch_first=batch_first), np.argsort(GRU_ORDER)
        else:
            if len(set(acts)) > 1 or (acts and acts[0] not in ("tanh", "relu")):
                raise b.unsupported(node, f"activations {a['activations']}")
            layer, order = nn.RNN(w.shape[2], hidden, nonlinearity=acts[0] if acts else "tanh",
                                  bidirectional=directions == 2, batch_first=batch_first), (0,)
        state = {}
        for d, suffix in enumerate(layer._suffixes()):
            gates = len(order) * hidden
            state[f"weight_ih_l0{suffix}"] = reorder_gates(w[d], order)
            state[f"weight_hh_l0{suffix}"] = reorder_gates(r[d], order)
            both = np.zeros(2 * gates, w.dtype) if bias is None else bias[d]
            state[f"bias_ih_l0{suffix}"] = reorder_gates(both[:gates], order)
            state[f"bias_hh_l0{suffix}"] = reorder_gates(both[gates:], order)
        run = b.layer(node, layer, state=state, claimed=[1, 2, 3], inputs=None)
        return _recurrent_outputs(kind, run, directions, hidden, batch_first)
    return build


def _recurrent_outputs(kind, run, directions, hidden, batch_first):
    def forward(x, w=None, r=None, bias=None, seq=None, h0=None, c0=None, *rest):
        states = [s if s is None else _tensor_like(s, x) for s in (h0, c0)]
        if batch_first and states[0] is not None:  # layout=1: states are (B, D, H)
            states = [s if s is None else s.transpose(0, 1) for s in states]
        if kind == "LSTM":
            hx = None if states[0] is None else (states[0], states[1] if states[1] is not None
                                                 else Tensor(np.zeros(states[0].shape, x.dtype)))
            out, (h, c) = run(x, hx)
            finals = [h, c]
        else:
            out, h = run(x, states[0])
            finals = [h]
        lead = out.shape[:2]  # (T, B), or (B, T) with batch_first
        y = out.reshape(lead + (directions, hidden))
        y = y.permute(0, 2, 1, 3) if not batch_first else y   # ONNX: (T, D, B, H) or (B, T, D, H)
        if batch_first:
            finals = [f.transpose(0, 1) for f in finals]
        return (y, *finals)
    return forward


def _resize(node, a, b):
    mode = a.get("mode", "nearest")
    transform = a.get("coordinate_transformation_mode", "half_pixel")
    nearest = a.get("nearest_mode", "round_prefer_floor")
    align_corners = None
    if mode == "linear" and transform in ("pytorch_half_pixel", "half_pixel", "align_corners"):
        ours, align_corners = "bilinear", transform == "align_corners"
    elif mode != "nearest":
        raise b.unsupported(node, f"mode={mode!r} with coordinate_transformation_mode={transform!r}")
    elif (transform, nearest) == ("asymmetric", "floor"):
        ours = "nearest"
    elif (transform, nearest) == ("half_pixel", "round_prefer_ceil"):
        ours = "nearest-exact"
    else:
        raise b.unsupported(node, f"coordinate_transformation_mode={transform!r} with "
                            f"nearest_mode={nearest!r}")
    scales = b.known_value(node.input[2]) if b.has_input(node, 2) else None
    sizes = b.known_value(node.input[3]) if b.has_input(node, 3) else None
    if "axes" in a:
        raise b.unsupported(node, "the attribute axes")
    if scales is not None and scales.size:
        if list(scales[:2]) != [1, 1]:
            raise b.unsupported(node, f"scales {scales.tolist()} that resize the batch or channels")
        layer = nn.Upsample(scale_factor=tuple(float(s) for s in scales[2:]), mode=ours,
                            align_corners=align_corners)
    elif sizes is not None and sizes.size:
        layer = nn.Upsample(size=tuple(int(s) for s in sizes[2:]), mode=ours, align_corners=align_corners)
    else:
        raise b.unsupported(node, "scales and sizes that are not constants")
    return b.layer(node, layer, [])


# ---------------------------------------------------------------------------------------------
# Shapes
# ---------------------------------------------------------------------------------------------
def _reshape(node, a, b):
    def run(x, shape):
        shape = [int(s) for s in data(shape)]
        if not int(a.get("allowzero", 0)):
            shape = [x.shape[i] if s == 0 else s for i, s in enumerate(shape)]
        return x.reshape(tuple(shape)) if isinstance(x, Tensor) else np.reshape(x, shape)
    return run


def _flatten(node, a, b):
    axis = int(a.get("axis", 1))
    if axis == 1:
        return b.layer(node, nn.Flatten(), [])

    def run(x):
        axis_ = axis % x.ndim if x.ndim else 0
        return x.reshape((int(np.prod(x.shape[:axis_])), -1))
    return run


def _squeeze_unsqueeze(squeeze):
    def build(node, a, b):
        def run(x, axes=None):
            axes = a.get("axes") if axes is None else [int(v) for v in data(axes)]
            shape = list(x.shape)
            if squeeze:
                rank = len(shape)
                drop = {ax % rank for ax in axes} if axes is not None else \
                    {i for i, n in enumerate(shape) if n == 1}
                shape = [n for i, n in enumerate(shape) if i not in drop]
            else:
                rank = len(shape) + len(axes)
                for ax in sorted(ax % rank for ax in axes):
                    shape.insert(ax, 1)
            return x.reshape(tuple(shape)) if isinstance(x, Tensor) else np.reshape(x, shape)
        return run
    return build


def _slice(node, a, b):
    def run(x, starts, ends, axes=None, steps=None):
        starts, ends = data(starts).tolist(), data(ends).tolist()
        axes = list(range(len(starts))) if axes is None else data(axes).tolist()
        steps = [1] * len(starts) if steps is None else data(steps).tolist()
        if not isinstance(x, Tensor):
            index = [slice(None)] * np.ndim(x)
            for s, e, ax, st in zip(starts, ends, axes, steps):
                index[ax] = slice(s, e, st)
            return np.asarray(x)[tuple(index)]
        for s, e, ax, st in zip(starts, ends, axes, steps):
            ax %= x.ndim
            picked = np.arange(x.shape[ax])[slice(s, e, st)]
            if st < 0:  # PyTorch (and we) refuse negative steps: flip, then slice forward
                x = x.flip(ax)
                picked = x.shape[ax] - 1 - picked
            step = abs(st)
            first = int(picked[0]) if picked.size else 0
            x = x[(slice(None),) * ax + (slice(first, first + step * len(picked), step),)]
        return x
    return run


def _concat(node, a, b):
    axis = int(a["axis"])

    def run(*xs):
        if not any(isinstance(x, Tensor) for x in xs):
            return np.concatenate([np.asarray(x) for x in xs], axis=axis)
        return cat([_tensor_like(x, next(t for t in xs if isinstance(t, Tensor))) for x in xs], dim=axis)
    return run


def _expand(node, a, b):
    def run(x, shape):
        target = np.broadcast_shapes(tuple(x.shape), tuple(int(s) for s in data(shape)))
        if not isinstance(x, Tensor):
            return np.broadcast_to(x, target).copy()
        lead = len(target) - x.ndim
        x = x.reshape((1,) * lead + tuple(x.shape)) if lead else x
        return x.expand(*target)
    return run


def _pad(node, a, b):
    mode = {"constant": "constant", "reflect": "reflect", "edge": "replicate"}.get(a.get("mode", "constant"))
    if mode is None:
        raise b.unsupported(node, f"mode={a.get('mode')!r}")

    def run(x, pads, value=None, axes=None):
        pads = data(pads).tolist()
        n = len(pads) // 2
        axes = list(range(x.ndim)) if axes is None else [int(v) % x.ndim for v in data(axes)]
        widths = {ax: (pads[i], pads[i + n]) for i, ax in enumerate(axes)}
        flat = [w for ax in reversed(range(x.ndim)) for w in widths.get(ax, (0, 0))]
        while len(flat) > 2 and flat[-2:] == [0, 0]:  # unpadded leading axes: not listed
            flat = flat[:-2]
        fill = None if value is None or mode != "constant" else float(data(value).reshape(-1)[0])
        return F.pad(x, tuple(flat), mode=mode, value=fill)
    return run


def _reduce(method, numpy_fn):
    def build(node, a, b):
        def run(x, axes=None):
            axes = a.get("axes") if axes is None else data(axes).tolist()
            keep = bool(int(a.get("keepdims", 1)))
            if not axes:
                if int(a.get("noop_with_empty_axes", 0)):
                    return x
                axes = list(range(x.ndim))
            dims = tuple(int(v) % x.ndim for v in axes)
            if not isinstance(x, Tensor):
                return numpy_fn(np.asarray(x), axis=dims, keepdims=keep)
            return getattr(x, method)(dims, keepdim=keep)
        return run
    return build


def _clip(node, a, b):
    def run(x, low=None, high=None):
        low = None if low is None else float(data(low))
        high = None if high is None else float(data(high))
        return x.clamp(low, high) if isinstance(x, Tensor) else np.clip(x, low, high)
    return run


def _cast(node, a, b):
    from onnx import helper
    dtype = helper.tensor_dtype_to_np_dtype(int(a["to"]))
    return lambda x: x.to(dtype) if isinstance(x, Tensor) else np.asarray(x).astype(dtype)


def _where(node, a, b):
    def run(cond, x, y):
        from ..tensor import where
        if not isinstance(x, Tensor) and not isinstance(y, Tensor):
            return np.where(data(cond), x, y)
        return where(Tensor(data(cond).astype(bool)), _tensor_like(x, y), _tensor_like(y, x))
    return run


def _constant_of_shape(node, a, b):
    from onnx import numpy_helper
    fill = numpy_helper.to_array(a["value"]) if "value" in a else np.zeros(1, np.float32)
    return lambda shape: np.full(tuple(int(s) for s in data(shape)), fill.reshape(-1)[0], fill.dtype)


def _identity(node, a, b):
    return lambda x, *rest: x


def _dropout(node, a, b):
    ratio = b.known_value(node.input[1]) if b.has_input(node, 1) else None
    p = float(ratio) if ratio is not None else float(a.get("ratio", 0.5))
    return b.layer(node, nn.Dropout(p), [])


BUILDERS = {
    "Add": _binary(np.add, lambda x, y: x + y),
    "Sub": _binary(np.subtract, lambda x, y: x - y),
    "Mul": _binary(np.multiply, lambda x, y: x * y),
    "Div": _binary(lambda x, y: x // y if x.dtype.kind in "iu" else x / y, lambda x, y: x / y),
    "Pow": _binary(np.power, lambda x, y: x ** y),
    "MatMul": _binary(np.matmul, lambda x, y: x @ y),
    "Max": _binary(np.maximum, lambda x, y: x.maximum(y)),
    "Min": _binary(np.minimum, lambda x, y: x.minimum(y)),
    "Neg": _unary(np.negative, "__neg__"), "Exp": _unary(np.exp, "exp"),
    "Log": _unary(np.log, "log"), "Sqrt": _unary(np.sqrt, "sqrt"), "Abs": _unary(np.abs, "abs"),
    "Relu": _module(lambda a: nn.ReLU()), "Sigmoid": _module(lambda a: nn.Sigmoid()),
    "Tanh": _module(lambda a: nn.Tanh()),
    "LeakyRelu": _module(lambda a: nn.LeakyReLU(float(a.get("alpha", 0.01)))),
    "Elu": _module(lambda a: nn.ELU(float(a.get("alpha", 1.0)))),
    "Softmax": lambda node, a, b: b.layer(node, nn.Softmax(_softmax_axis(node, a, b)), []),
    "LogSoftmax": lambda node, a, b: b.layer(node, nn.LogSoftmax(_softmax_axis(node, a, b)), []),
    "Clip": _clip, "Where": _where, "Cast": _cast, "Identity": _identity, "Dropout": _dropout,
    "Gemm": _gemm, "Conv": _conv, "ConvTranspose": _conv_transpose,
    "BatchNormalization": _batch_norm, "Gather": _gather,
    "MaxPool": lambda node, a, b: _pool(node, a, b, "MaxPool"),
    "AveragePool": lambda node, a, b: _pool(node, a, b, "AveragePool"),
    "GlobalAveragePool": lambda node, a, b: (lambda x: x.mean(tuple(range(2, x.ndim)), keepdim=True)),
    "Resize": _resize, "LSTM": _recurrent("LSTM"), "GRU": _recurrent("GRU"), "RNN": _recurrent("RNN"),
    "Reshape": _reshape, "Flatten": _flatten, "Squeeze": _squeeze_unsqueeze(True),
    "Unsqueeze": _squeeze_unsqueeze(False), "Slice": _slice, "Concat": _concat,
    "Transpose": lambda node, a, b: (lambda x: x.permute(*a["perm"]) if isinstance(x, Tensor)
                                     else np.transpose(x, a["perm"])),
    "Expand": _expand, "Pad": _pad,
    "ReduceSum": _reduce("sum", np.sum), "ReduceMean": _reduce("mean", np.mean),
    "ReduceMax": _reduce("amax", np.max), "ReduceMin": _reduce("amin", np.min),
    "Shape": lambda node, a, b: (lambda x: np.array(x.shape, dtype=np.int64)),
    "ConstantOfShape": _constant_of_shape,
}


def _pool(node, a, b, op_type):
    kernel = tuple(a["kernel_shape"])
    if len(kernel) != 2:
        raise b.unsupported(node, f"{len(kernel)}-D pooling")
    if len(node.output) > 1 and node.output[1]:
        raise b.unsupported(node, "the Indices output")
    if int(a.get("storage_order", 0)):
        raise b.unsupported(node, "storage_order=1")
    padding, _ = _symmetric_pads(node, a, b, 2)
    if padding is None:
        raise b.unsupported(node, "asymmetric pads")
    stride = tuple(a.get("strides", [1, 1]))
    ceil = bool(int(a.get("ceil_mode", 0)))
    if op_type == "MaxPool":
        layer = nn.MaxPool2d(kernel, stride, padding, tuple(a.get("dilations", [1, 1])), ceil_mode=ceil)
    else:
        if tuple(a.get("dilations", [1, 1])) != (1, 1):
            raise b.unsupported(node, "dilations")
        layer = nn.AvgPool2d(kernel, stride, padding, ceil_mode=ceil,
                             count_include_pad=bool(int(a.get("count_include_pad", 0))))
    return b.layer(node, layer, [])
