"""summary(model, input_shape): a Keras-style table of layers, output shapes and parameter counts.

It runs one forward pass on zeros (no graph recorded) with a forward hook on every module, so
the output shapes are the real ones.

>>> import tinygrad_edu.nn as nn
>>> model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
>>> info = summary(model, (4,))
Layer (type)    Output Shape    Param #
=======================================
0 (Linear)      [1, 8]               40
1 (ReLU)        [1, 8]                0
2 (Linear)      [1, 2]               18
=======================================
Total params: 58
Trainable params: 58
Frozen params: 0
>>> info.total_params
58
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..grad_mode import no_grad
from ..tensor import Tensor
from .module import Module


@dataclass
class Summary:
    """What summary() found: one row (name, type, output shape, parameters) per layer."""
    rows: list = field(default_factory=list)
    total_params: int = 0
    trainable_params: int = 0
    frozen_params: int = 0

    def table(self) -> str:
        header = ("Layer (type)", "Output Shape", "Param #")
        cells = [(f"{name} ({kind})", shape, f"{count:,}") for name, kind, shape, count in self.rows]
        w0 = max([len(header[0])] + [len(c[0]) for c in cells]) + 4
        w1 = max([len(header[1])] + [len(c[1]) for c in cells]) + 4
        w2 = max([len(header[2])] + [len(c[2]) for c in cells])
        rule = "=" * (w0 + w1 + w2)
        lines = [header[0].ljust(w0) + header[1].ljust(w1) + header[2].rjust(w2), rule]
        lines += [a.ljust(w0) + b.ljust(w1) + c.rjust(w2) for a, b, c in cells]
        lines += [rule, f"Total params: {self.total_params:,}",
                  f"Trainable params: {self.trainable_params:,}",
                  f"Frozen params: {self.frozen_params:,}"]
        return "\n".join(lines)

    __str__ = table

    def __repr__(self) -> str:
        return (f"Summary(total_params={self.total_params}, trainable_params="
                f"{self.trainable_params}, frozen_params={self.frozen_params})")


def _shape_of(out) -> str:
    if isinstance(out, Tensor):
        return str(list(out.shape))
    if isinstance(out, (tuple, list)):
        return ", ".join(_shape_of(o) for o in out if isinstance(o, (Tensor, tuple, list)))
    return "-"


def summary(model: Module, input_shape, batch_size: int = 1, dtype=np.float32,
            verbose: bool = True) -> Summary:
    """Print (verbose=True) and return the table for an input of shape (batch_size, *input_shape).

    Rows are the leaf modules (and any module holding parameters of its own), in call order;
    a module called twice appears twice. Parameters shared between layers are counted once in
    the totals.
    """
    if not isinstance(model, Module):
        raise TypeError(f"summary expects an nn.Module, got {type(model).__name__}")
    shape = (batch_size,) + tuple(int(n) for n in input_shape)
    rows: list = []
    handles = []
    for name, module in model.named_modules():
        own = list(module._parameters.values())
        is_leaf = not module._modules
        if module is model and not is_leaf:
            continue
        if is_leaf or any(p is not None for p in own):
            def hook(m, inputs, out, name=name or type(module).__name__):
                count = sum(p.numel() for p in m._parameters.values() if p is not None)
                rows.append((name, type(m).__name__, _shape_of(out), count))
            handles.append(module.register_forward_hook(hook))
    was_training = model.training
    model.eval()  # no running-statistics update, no dropout
    try:
        with no_grad():
            model(Tensor(np.zeros(shape, dtype=dtype)))
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    params = list(model.parameters())
    result = Summary(rows=rows, total_params=sum(p.numel() for p in params),
                     trainable_params=sum(p.numel() for p in params if p.requires_grad))
    result.frozen_params = result.total_params - result.trainable_params
    if verbose:
        print(result.table())
    return result
