"""More ONNX ops as our layers and ops (see _load_ops.py for the pattern): the trigonometric
and other unary functions, PRelu, ReduceLogSumExp and CumSum."""

from __future__ import annotations

import math

import numpy as np

from .. import nn
from ..tensor import Tensor
from ._load_ops import data


def _unary(method: str, numpy_fn):
    def build(node, a, b):
        return lambda x: getattr(x, method)() if isinstance(x, Tensor) else numpy_fn(np.asarray(x))
    return build


def _prelu(node, a, b):
    slope = b.weight(node, 1)
    layer = nn.PReLU(num_parameters=slope.size)
    return b.layer(node, layer, [("weight", 1, lambda s: s.reshape(-1))])


def _reduce_log_sum_exp(node, a, b):
    def run(x, axes=None):
        axes = a.get("axes") if axes is None else data(axes).tolist()
        dims = tuple(int(v) % x.ndim for v in (axes if axes else range(x.ndim)))
        return x.logsumexp(dims, keepdim=bool(int(a.get("keepdims", 1))))
    return run


def _cumsum(node, a, b):
    if int(a.get("exclusive", 0)) or int(a.get("reverse", 0)):
        raise b.unsupported(node, "exclusive or reverse cumulative sums")
    return lambda x, axis: x.cumsum(int(data(axis)))


BUILDERS = {
    "Sin": _unary("sin", np.sin), "Cos": _unary("cos", np.cos), "Tan": _unary("tan", np.tan),
    "Erf": _unary("erf", np.vectorize(math.erf)),
    "Softplus": _unary("softplus", lambda x: np.logaddexp(0, x)),
    "PRelu": _prelu, "ReduceLogSumExp": _reduce_log_sum_exp, "CumSum": _cumsum,
}
