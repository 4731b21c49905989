"""More converters (see _export_ops.py for the pattern): bilinear resizing, PReLU and RReLU, the
trigonometric and other unary functions, log-sum-exp and cumulative sums.

These ops live in newer op modules; a module or Function that is missing from the installed
version is skipped (the exporter then names the op as unsupported).
"""

from __future__ import annotations

import importlib

import numpy as np


def _function(module: str, name: str):
    try:
        return getattr(importlib.import_module(f"tinygrad_edu.ops.{module}"), name)
    except (ImportError, AttributeError):
        return None


def _unary(op_type: str):
    def convert(g, call):
        g.node(op_type, [g.arg(call, 0)], [g.out(call)])
    return convert


def _softplus(g, call):
    """softplus(βx)/β (PyTorch's threshold, where it returns x itself, changes less than 1e-8)."""
    beta = float(call.args[1]) if len(call.args) > 1 else 1.0
    if beta == 1.0:
        g.node("Softplus", [g.arg(call, 0)], [g.out(call)])
        return
    beta_name = g.const(np.asarray(beta, call.args[0].dtype), "beta")
    inner = g.node("Softplus", [g.node("Mul", [g.arg(call, 0), beta_name])])
    g.node("Div", [inner, beta_name], [g.out(call)])


def _prelu(g, call):
    """PRelu broadcasts the slope against the LAST axes: (C,) becomes (C, 1, …, 1)."""
    x, weight = call.args
    slope = g.arg(call, 1)
    if x.ndim > 2 and weight.data.size > 1:
        slope = g.node("Reshape", [slope, g.ints([-1] + [1] * (x.ndim - 2))])
    g.node("PRelu", [g.arg(call, 0), slope], [g.out(call)])


def _rrelu(g, call):
    """In eval mode RReLU is a LeakyReLU with the mean slope; training draws random slopes."""
    x, slopes = call.args
    if np.ndim(slopes) and np.unique(slopes).size > 1:
        raise g.unsupported(call, "rrelu with random slopes (training=True)")
    g.node("LeakyRelu", [g.arg(call, 0)], [g.out(call)], alpha=float(np.asarray(slopes).reshape(-1)[0]))


def _linear_resize_mode(weights: np.ndarray):
    """The Resize coordinate mode whose bilinear weights are `weights` (out, in), or None."""
    linear_weights = _function("pool", "linear_weights")
    out_size, in_size = weights.shape
    scale = np.float32(out_size) / np.float32(in_size)
    if linear_weights is None or np.floor(np.float32(in_size) * scale) != out_size:
        return None
    for mode, align in (("pytorch_half_pixel", False), ("align_corners", True)):
        if np.allclose(linear_weights(in_size, out_size, None, align), weights, atol=1e-6):
            return mode
    return None


def _upsample_bilinear(g, call):
    x, weights_h, weights_w = call.args
    modes = {_linear_resize_mode(np.asarray(w)) for w in (weights_h, weights_w)}
    if x.ndim == 4 and len(modes) == 1 and None not in modes:
        scales = np.array([1, 1, weights_h.shape[0] / weights_h.shape[1],
                           weights_w.shape[0] / weights_w.shape[1]], np.float32)
        g.node("Resize", [g.arg(call, 0), "", g.const(scales, "scales")], [g.out(call)],
               mode="linear", coordinate_transformation_mode=modes.pop())
        return
    # Bilinear resizing is linear: out = A_h · x · A_wᵀ, two matrix products (exact for any mode)
    rows = g.node("MatMul", [g.const(np.asarray(weights_h, x.dtype), "resize_rows"), g.arg(call, 0)])
    g.node("MatMul", [rows, g.const(np.asarray(weights_w, x.dtype).T, "resize_columns")], [g.out(call)])


def _logsumexp(g, call):
    x, dims, keepdim = call.args[:3]
    dims = dims if isinstance(dims, (tuple, list)) else (dims,)
    axes = [int(d) % max(x.ndim, 1) for d in dims]
    if g.opset >= 18:
        g.node("ReduceLogSumExp", [g.arg(call, 0), g.ints(axes)], [g.out(call)], keepdims=int(bool(keepdim)))
    else:
        g.node("ReduceLogSumExp", [g.arg(call, 0)], [g.out(call)], axes=axes, keepdims=int(bool(keepdim)))


def _cumsum(g, call):
    x, dim = call.args[:2]
    axis = g.const(np.array(int(dim) % x.ndim, np.int64), "axis")
    g.node("CumSum", [g.arg(call, 0), axis], [g.out(call)])


_TABLE = [
    ("math", "SinFn", _unary("Sin")), ("math", "CosFn", _unary("Cos")),
    ("math", "TanFn", _unary("Tan")), ("math", "ErfFn", _unary("Erf")),
    ("math", "SoftplusFn", _softplus), ("prelu", "PReLUFn", _prelu), ("prelu", "RReLUFn", _rrelu),
    ("pool", "UpsampleBilinear2dFn", _upsample_bilinear),
    ("scan", "LogsumexpFn", _logsumexp), ("scan", "CumsumFn", _cumsum),
]
EXPORTERS = {fn: convert for fn, convert in ((_function(m, n), c) for m, n, c in _TABLE) if fn is not None}
