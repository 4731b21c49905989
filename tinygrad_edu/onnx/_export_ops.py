"""Each of our Functions as ONNX nodes: one converter per Function, looked up in EXPORTERS.

A converter gets the graph under construction `g` (export.py's GraphBuilder) and one recorded
`call` (its Function, its arguments as they were given, its output). It reads the inputs' ONNX
names with `g.arg(call, i)` and writes nodes with `g.node(op_type, inputs, outputs, **attrs)`
whose last output is the call's output name `g.out(call)`.

The recurrent layers: ONNX stacks an LSTM's gates as (i, o, f, c), PyTorch as (i, f, g, o); a
GRU's as (z, r, h), PyTorch as (r, z, n). LSTM_ORDER and GRU_ORDER say which of our gate blocks
goes where (c and h are what we call g and n).
"""

from __future__ import annotations

import numpy as np

from ..nn import RNN
from ..ops import (activation, conv, elementwise, embedding, linear, matmul, movement, norm,
                   pool, reduce, rnn)

INT64_MAX, INT64_MIN = np.iinfo(np.int64).max, np.iinfo(np.int64).min
LSTM_ORDER = (0, 3, 1, 2)   # ONNX (i, o, f, c) ← our blocks (i, f, g, o)
GRU_ORDER = (1, 0, 2)       # ONNX (z, r, h) ← our blocks (r, z, n)


def reorder_gates(w: np.ndarray, order: tuple) -> np.ndarray:
    """The gate blocks (equal parts along axis 0) of w in a new order."""
    blocks = np.split(w, len(order), axis=0)
    return np.concatenate([blocks[i] for i in order], axis=0)


# ---------------------------------------------------------------------------------------------
# Elementwise and activations
# ---------------------------------------------------------------------------------------------
def _simple(op_type: str, n_inputs: int = 1, **fixed):
    def convert(g, call):
        g.node(op_type, [g.arg(call, i) for i in range(n_inputs)], [g.out(call)], **fixed)
    return convert


def _leaky_relu(g, call):
    g.node("LeakyRelu", [g.arg(call, 0)], [g.out(call)], alpha=float(call.args[1]))


def _elu(g, call):
    g.node("Elu", [g.arg(call, 0)], [g.out(call)], alpha=float(call.args[1]))


def _softmax(op_type):
    def convert(g, call):
        g.node(op_type, [g.arg(call, 0)], [g.out(call)], axis=int(call.args[1]))
    return convert


def _clip(g, call):
    _, low, high = call.args
    inputs = [g.arg(call, 0), "" if low is None else g.arg(call, 1),
              "" if high is None else g.arg(call, 2)]
    while inputs[-1] == "":
        inputs.pop()
    g.node("Clip", inputs, [g.out(call)])


def _where(g, call):
    cond = g.arg(call, 0, dtype=np.bool_)
    g.node("Where", [cond, g.arg(call, 1), g.arg(call, 2)], [g.out(call)])


def _cast(g, call):
    g.node("Cast", [g.arg(call, 0)], [g.out(call)], to=g.onnx_dtype(call.outputs[0].data.dtype))


def _dropout(g, call):
    """Only seen when dropout runs with training=True inside an eval-mode model: exported as
    what dropout is at inference time, the identity."""
    g.node("Identity", [g.arg(call, 0)], [g.out(call)])


# ---------------------------------------------------------------------------------------------
# Products, layers
# ---------------------------------------------------------------------------------------------
def _linear(g, call):
    x, weight, bias = call.args
    if x.ndim == 2:
        inputs = [g.arg(call, 0), g.arg(call, 1)] + ([g.arg(call, 2)] if bias is not None else [])
        g.node("Gemm", inputs, [g.out(call)], transB=1)
        return
    wt = g.node("Transpose", [g.arg(call, 1)], perm=[1, 0])
    if bias is None:
        g.node("MatMul", [g.arg(call, 0), wt], [g.out(call)])
    else:
        g.node("Add", [g.node("MatMul", [g.arg(call, 0), wt]), g.arg(call, 2)], [g.out(call)])


def _batch_norm(g, call):
    x, weight, bias, mean, var, eps, batch_stats = call.args
    if batch_stats:
        raise g.unsupported(call, "batch_norm with batch statistics (training=True, or "
                            "track_running_stats=False) has no ONNX inference form")
    channels = x.shape[1]
    scale = g.arg(call, 1) if weight is not None else g.const(np.ones(channels, x.dtype), "ones")
    shift = g.arg(call, 2) if bias is not None else g.const(np.zeros(channels, x.dtype), "zeros")
    g.node("BatchNormalization", [g.arg(call, 0), scale, shift, g.arg(call, 3), g.arg(call, 4)],
           [g.out(call)], epsilon=float(eps))


def _embedding(g, call):
    weight, idx, padding_idx = call.args
    g.node("Gather", [g.arg(call, 0), g.index_input(idx)], [g.out(call)], axis=0)


def _conv_attrs(x_size, w_shape, geo) -> dict:
    """Conv's attributes. Our geometry pads the start; the end gets the same padding when
    that gives the output size (as in PyTorch), else what ⌊(H + pads − d·(k−1) − 1)/s⌋ + 1 = OH
    asks for."""
    kernel = list(w_shape[2:])
    ends = []
    for n, o, s, p, d, k in zip(x_size, geo.out_size, geo.stride, geo.padding, geo.dilation, kernel):
        symmetric = (n + 2 * p - d * (k - 1) - 1) // s + 1 == o
        ends.append(p if symmetric else max(0, (o - 1) * s + d * (k - 1) + 1 - n - p))
    return dict(kernel_shape=kernel, strides=list(geo.stride), dilations=list(geo.dilation),
                pads=list(geo.padding) + ends, group=int(geo.groups))


def _conv2d(g, call):
    x, w, b, geo = call.args
    inputs = [g.arg(call, 0), g.arg(call, 1)] + ([g.arg(call, 2)] if b is not None else [])
    g.node("Conv", inputs, [g.out(call)], **_conv_attrs(x.shape[2:], w.shape, geo))


def _conv1d(g, call):
    x, w, b, geo = call.args
    flat = conv.ConvGeometry(geo.stride[1:], geo.padding[1:], geo.dilation[1:], geo.groups,
                             geo.out_size[1:])
    inputs = [g.arg(call, 0), g.arg(call, 1)] + ([g.arg(call, 2)] if b is not None else [])
    g.node("Conv", inputs, [g.out(call)], **_conv_attrs(x.shape[2:], w.shape, flat))


def _conv_transpose2d(g, call):
    x, w, b, geo = call.args
    kernel = w.shape[2:]
    output_padding = [o - ((n - 1) * s - 2 * p + d * (k - 1) + 1) for n, o, s, p, d, k in
                      zip(x.shape[2:], geo.out_size, geo.stride, geo.padding, geo.dilation, kernel)]
    inputs = [g.arg(call, 0), g.arg(call, 1)] + ([g.arg(call, 2)] if b is not None else [])
    g.node("ConvTranspose", inputs, [g.out(call)], kernel_shape=list(kernel),
           strides=list(geo.stride), dilations=list(geo.dilation), pads=list(geo.padding) * 2,
           output_padding=output_padding, group=int(geo.groups))


def _pool_attrs(x_size, window) -> dict:
    floor = [(n + 2 * p - d * (k - 1) - 1) // s + 1 for n, p, d, k, s in
             zip(x_size, window.padding, window.dilation, window.kernel, window.stride)]
    return dict(kernel_shape=list(window.kernel), strides=list(window.stride),
                pads=list(window.padding) * 2, ceil_mode=int(list(window.out_size) != floor))


def _batched(g, call, op_type, **attrs):
    """Pooling wants (N, C, H, W): an unbatched (C, H, W) input gets a batch axis and loses it."""
    x = call.args[0]
    if x.ndim == 4:
        g.node(op_type, [g.arg(call, 0)], [g.out(call)], **attrs)
        return
    batched = g.node("Unsqueeze", [g.arg(call, 0), g.ints([0])])
    g.node("Squeeze", [g.node(op_type, [batched], **attrs), g.ints([0])], [g.out(call)])


def _max_pool2d(g, call):
    x, window, indices = call.args[:3] if len(call.args) >= 3 else (*call.args, None)
    if indices is not None:
        raise g.unsupported(call, "max_pool2d with return_indices=True")
    _batched(g, call, "MaxPool", dilations=list(window.dilation), **_pool_attrs(x.shape[-2:], window))


def _avg_pool2d(g, call):
    x, window = call.args[:2]
    count_include_pad = call.args[2] if len(call.args) > 2 else True
    divisor = call.args[3] if len(call.args) > 3 else None
    if divisor is not None:
        raise g.unsupported(call, "avg_pool2d with divisor_override")
    _batched(g, call, "AveragePool", count_include_pad=int(bool(count_include_pad)),
             **_pool_attrs(x.shape[-2:], window))


def _resize_mode(n_in: int, n_out: int, src: np.ndarray):
    """The Resize attributes that pick exactly the source rows `src` (None if none do): ONNX
    computes the source from the float32 scale out/in."""
    scale = np.float32(n_out) / np.float32(n_in)
    dst = np.arange(n_out, dtype=np.float32)
    if int(np.floor(np.float32(n_in) * scale)) != n_out:
        return None
    asymmetric = np.minimum(np.floor(dst / scale), n_in - 1)
    if np.array_equal(asymmetric, src):
        return scale, ("asymmetric", "floor")
    half = (dst + np.float32(0.5)) / scale - np.float32(0.5)
    rounded = np.clip(np.where(half - np.floor(half) == 0.5, np.ceil(half), np.round(half)), 0, n_in - 1)
    if np.array_equal(rounded, src):
        return scale, ("half_pixel", "round_prefer_ceil")
    return None


def _upsample_nearest(g, call):
    x, src_h, src_w = call.args
    src = (np.asarray(src_h), np.asarray(src_w))
    modes = [_resize_mode(n, len(s), s) for n, s in zip(x.shape[-2:], src)]
    if all(modes) and modes[0][1] == modes[1][1]:
        transform, nearest = modes[0][1]
        scales = np.array([1, 1, modes[0][0], modes[1][0]], np.float32)
        g.node("Resize", [g.arg(call, 0), "", g.const(scales, "scales")], [g.out(call)],
               mode="nearest", coordinate_transformation_mode=transform, nearest_mode=nearest)
        return
    # No Resize mode picks these rows (an unusual scale factor): copy them with two Gathers.
    rows = g.node("Gather", [g.arg(call, 0), g.const(src[0].astype(np.int64), "rows")], axis=x.ndim - 2)
    g.node("Gather", [rows, g.const(src[1].astype(np.int64), "columns")], [g.out(call)], axis=x.ndim - 1)


# ---------------------------------------------------------------------------------------------
# Shapes
# ---------------------------------------------------------------------------------------------
def _reshape(g, call):
    x = call.args[0]
    out = call.outputs[0]
    dynamic_in, dynamic_out = g.dynamic(x), g.dynamic(out)
    if len(dynamic_out) > 1:
        raise g.unsupported(call, f"a reshape to {out.shape} with several batch-sized axes")
    if x.ndim >= 2 and out.ndim == 2 and dynamic_in == dynamic_out == {0} \
            and out.shape[1] == int(np.prod(x.shape[1:])):
        g.node("Flatten", [g.arg(call, 0)], [g.out(call)], axis=1)
        return
    shape = [-1 if i in dynamic_out else n for i, n in enumerate(out.shape)]
    g.node("Reshape", [g.arg(call, 0), g.ints(shape)], [g.out(call)])


def _permute(g, call):
    g.node("Transpose", [g.arg(call, 0)], [g.out(call)], perm=[int(a) for a in call.args[1]])


def _expand(g, call):
    x, out = call.args[0], call.outputs[0]
    lead = out.ndim - x.ndim
    shape = []
    for i, n in enumerate(out.shape):
        same = i >= lead and x.shape[i - lead] == n
        if i in g.dynamic(out) and not same:
            raise g.unsupported(call, "an expand to the batch size")
        shape.append(1 if same else n)
    g.node("Expand", [g.arg(call, 0), g.ints(shape)], [g.out(call)])


def _getitem(g, call):
    x, index = call.args[:2]
    items = list(index) if isinstance(index, tuple) else [index]
    if any(isinstance(i, np.ndarray) and i.dtype == np.bool_ for i in items):
        raise g.unsupported(call, "indexing with a boolean mask")
    consumed = sum(1 for i in items if i is not None and i is not Ellipsis)
    if any(i is Ellipsis for i in items):
        at = next(k for k, i in enumerate(items) if i is Ellipsis)
        items[at:at + 1] = [slice(None)] * (x.ndim - consumed)
    items += [slice(None)] * (x.ndim - sum(1 for i in items if i is not None))
    starts, ends, axes, steps_, squeeze, unsqueeze, gathers = [], [], [], [], [], [], []
    axis = out_axis = 0
    for item in items:
        if item is None:
            unsqueeze.append(out_axis)
            out_axis += 1
            continue
        if isinstance(item, slice):
            if item != slice(None) and item != slice(None, None, 1):
                step = 1 if item.step is None else int(item.step)
                starts.append(0 if item.start is None else int(item.start))
                ends.append(INT64_MAX if item.stop is None else int(item.stop))
                axes.append(axis)
                steps_.append(step)
            out_axis += 1
        elif isinstance(item, np.ndarray):
            gathers.append((axis, item.astype(np.int64)))
            out_axis += item.ndim
        else:
            i = int(item)
            starts.append(i)
            ends.append(INT64_MAX if i == -1 else i + 1)
            axes.append(axis)
            steps_.append(1)
            squeeze.append(axis)
        axis += 1
    if len(gathers) > 1 or (gathers and (unsqueeze or squeeze)):
        raise g.unsupported(call, "an index with several integer arrays, or arrays with ints/None")
    steps = []  # (op_type, extra inputs, attributes), applied in order
    if axes:
        steps.append(("Slice", [g.ints(starts), g.ints(ends), g.ints(axes), g.ints(steps_)], {}))
    for gather_axis, indices in gathers:
        steps.append(("Gather", [g.const(indices, "indices")], {"axis": gather_axis}))
    if squeeze:
        steps.append(("Squeeze", [g.ints(squeeze)], {}))
    if unsqueeze:
        steps.append(("Unsqueeze", [g.ints(unsqueeze)], {}))
    value = g.arg(call, 0)
    for k, (op_type, extra, attrs) in enumerate(steps or [("Identity", [], {})]):
        last = k == max(len(steps), 1) - 1
        value = g.node(op_type, [value] + extra, [g.out(call)] if last else None, **attrs)


def _flip(g, call):
    dims = [int(d) for d in call.args[1]]
    n = len(dims)
    g.node("Slice", [g.arg(call, 0), g.ints([-1] * n), g.ints([INT64_MIN] * n), g.ints(dims),
                     g.ints([-1] * n)], [g.out(call)])


def _cat(g, call):
    dim = int(call.args[0]) % call.outputs[0].ndim
    g.node("Concat", [g.arg(call, i) for i in range(1, len(call.args))], [g.out(call)], axis=dim)


def _stack(g, call):
    dim = int(call.args[0]) % call.outputs[0].ndim
    parts = [g.node("Unsqueeze", [g.arg(call, i), g.ints([dim])]) for i in range(1, len(call.args))]
    g.node("Concat", parts, [g.out(call)], axis=dim)


def _pad(g, call):
    x, widths, mode, value = call.args
    if any(b < 0 or a < 0 for b, a in widths):
        raise g.unsupported(call, "a pad with negative widths (cropping)")
    onnx_mode = {"constant": "constant", "reflect": "reflect", "replicate": "edge"}.get(mode)
    if onnx_mode is None:
        raise g.unsupported(call, f"padding mode {mode!r}")
    pads = [int(b) for b, _ in widths] + [int(a) for _, a in widths]
    inputs = [g.arg(call, 0), g.ints(pads)]
    if mode == "constant" and value:
        inputs.append(g.const(np.asarray(value, dtype=x.dtype).reshape(()), "pad_value"))
    g.node("Pad", inputs, [g.out(call)], mode=onnx_mode)


def _reduce(op_type: str, axes_as_input_from: int):
    def convert(g, call):
        x, dims, keepdim = call.args[:3]
        dims = range(x.ndim) if dims is None else dims if isinstance(dims, (tuple, list)) else (dims,)
        axes = [int(d) % max(x.ndim, 1) for d in dims]
        if g.opset >= axes_as_input_from:
            g.node(op_type, [g.arg(call, 0), g.ints(axes)], [g.out(call)], keepdims=int(bool(keepdim)))
        else:
            g.node(op_type, [g.arg(call, 0)], [g.out(call)], axes=axes, keepdims=int(bool(keepdim)))
    return convert


# ---------------------------------------------------------------------------------------------
# Recurrent layers
# ---------------------------------------------------------------------------------------------
def _initial_state(g, call, i):
    """An initial state argument: absent (our zeros) → "", a Tensor → (1, B, H)."""
    value = call.args[i]
    if value is None or (not hasattr(value, "_ctx") and not np.any(value)):
        return ""
    return g.node("Unsqueeze", [g.arg(call, i), g.ints([0])])


def _recurrent_weights(g, call, first: int, order: tuple, kind: str):
    w_ih, w_hh, b_ih, b_hh = call.args[first:first + 4]
    hidden = w_hh.shape[1]
    arrays = []
    for w in (w_ih, w_hh):
        arrays.append(reorder_gates(g.leaf_array(call, w, kind), order)[None])
    biases = [np.zeros(len(order) * hidden, w_ih.dtype) if b is None else
              reorder_gates(g.leaf_array(call, b, kind), order) for b in (b_ih, b_hh)]
    arrays.append(np.concatenate(biases)[None])
    base = g.leaf_name(w_ih) or kind
    names = [g.const(a, base.replace("weight_ih", letter) if "weight_ih" in base else f"{base}_{letter}",
                     exact=True) for a, letter in zip(arrays, "WRB")]
    return names, hidden


def _lstm(g, call):
    (w, r, b), hidden = _recurrent_weights(g, call, 3, LSTM_ORDER, "LSTM")
    h0, c0 = _initial_state(g, call, 1), _initial_state(g, call, 2)
    y, _, y_c = g.node("LSTM", [g.arg(call, 0), w, r, b, "", h0, c0], n_outputs=3, hidden_size=hidden)
    # our LSTMSequenceFn returns h_1 … h_T and then c_T, stacked: (T+1, B, H)
    g.node("Concat", [g.node("Squeeze", [y, g.ints([1])]), y_c], [g.out(call)], axis=0)


def _gru(g, call):
    (w, r, b), hidden = _recurrent_weights(g, call, 2, GRU_ORDER, "GRU")
    h0 = _initial_state(g, call, 1)
    y, _ = g.node("GRU", [g.arg(call, 0), w, r, b, "", h0], n_outputs=2, hidden_size=hidden,
                  linear_before_reset=1)
    g.node("Squeeze", [y, g.ints([1])], [g.out(call)])


def _rnn_module(g, call):
    """nn.RNN (a loop of small ops in our forward pass) as ONNX RNN ops, one per layer."""
    rnn_module = call.module
    if call.args[0].ndim != 3:
        raise g.unsupported(call, "an unbatched (2-D) input to nn.RNN")
    directions = rnn_module.num_directions
    x = g.arg(call, 0)
    if rnn_module.batch_first:
        x = g.node("Transpose", [x], perm=[1, 0, 2])
    finals = []
    for layer in range(rnn_module.num_layers):
        arrays = [[], [], []]
        for suffix in rnn_module._suffixes():
            w_ih, w_hh, b_ih, b_hh = rnn_module._layer_params(layer, suffix)
            arrays[0].append(w_ih.data)
            arrays[1].append(w_hh.data)
            zeros = np.zeros(w_hh.shape[0], w_hh.dtype)
            arrays[2].append(np.concatenate([zeros if b is None else b.data for b in (b_ih, b_hh)]))
        base = (g.leaf_name(rnn_module.weight_ih_l0) or "rnn.weight_ih_l0").rsplit(".", 1)[0]
        w, r, b = (g.const(np.stack(a), f"{base}.{letter}_l{layer}", exact=True)
                   for a, letter in zip(arrays, "WRB"))
        h0 = ""
        if len(call.args) > 1 and call.args[1] is not None:
            k = layer * directions
            h0 = g.node("Slice", [g.arg(call, 1), g.ints([k]), g.ints([k + directions]), g.ints([0])])
        act = "Tanh" if rnn_module.nonlinearity == "tanh" else "Relu"
        y, y_h = g.node("RNN", [x, w, r, b, "", h0], n_outputs=2, hidden_size=rnn_module.hidden_size,
                        activations=[act] * directions,
                        direction="bidirectional" if directions == 2 else "forward")
        finals.append(y_h)
        # (T, D, B, H) → (T, B, D·H), the next layer's input
        x = g.node("Reshape", [g.node("Transpose", [y], perm=[0, 2, 1, 3]), g.ints([0, 0, -1])])
    out_name, h_name = g.out(call, 0), g.out(call, 1)
    if rnn_module.batch_first:
        g.node("Transpose", [x], [out_name], perm=[1, 0, 2])
    else:
        g.node("Identity", [x], [out_name])
    g.node("Concat", finals, [h_name], axis=0)


EXPORTERS = {
    elementwise.AddFn: _simple("Add", 2), elementwise.SubFn: _simple("Sub", 2),
    elementwise.MulFn: _simple("Mul", 2), elementwise.DivFn: _simple("Div", 2),
    elementwise.PowFn: _simple("Pow", 2), elementwise.NegFn: _simple("Neg"),
    elementwise.ExpFn: _simple("Exp"), elementwise.LogFn: _simple("Log"),
    elementwise.SqrtFn: _simple("Sqrt"), elementwise.AbsFn: _simple("Abs"),
    elementwise.MaximumFn: _simple("Max", 2), elementwise.MinimumFn: _simple("Min", 2),
    elementwise.ClipFn: _clip, elementwise.WhereFn: _where, elementwise.CastFn: _cast,
    activation.ReLUFn: _simple("Relu"), activation.LeakyReLUFn: _leaky_relu,
    activation.ELUFn: _elu, activation.SigmoidFn: _simple("Sigmoid"),
    activation.TanhFn: _simple("Tanh"), activation.SoftmaxFn: _softmax("Softmax"),
    activation.LogSoftmaxFn: _softmax("LogSoftmax"), activation.DropoutFn: _dropout,
    matmul.MatMulFn: _simple("MatMul", 2), linear.LinearFn: _linear,
    norm.BatchNormFn: _batch_norm, embedding.EmbeddingFn: _embedding,
    conv.Conv2dFn: _conv2d, conv.Conv1dFn: _conv1d, conv.ConvTranspose2dFn: _conv_transpose2d,
    pool.MaxPool2dFn: _max_pool2d, pool.AvgPool2dFn: _avg_pool2d,
    pool.UpsampleNearest2dFn: _upsample_nearest,
    movement.ReshapeFn: _reshape, movement.PermuteFn: _permute, movement.ExpandFn: _expand,
    movement.GetItemFn: _getitem, movement.FlipFn: _flip, movement.CatFn: _cat,
    movement.StackFn: _stack, movement.PadFn: _pad,
    reduce.SumFn: _reduce("ReduceSum", 13), reduce.MeanFn: _reduce("ReduceMean", 18),
    reduce.AMaxFn: _reduce("ReduceMax", 18), reduce.AMinFn: _reduce("ReduceMin", 18),
    rnn.LSTMSequenceFn: _lstm, rnn.GRUSequenceFn: _gru,
    RNN: _rnn_module,
}

