"""The gradient table: for every tensor of a computation, backward's ∂L/∂t next to a numeric one.

`gradcheck` checks the gradients of the inputs; this checks every intermediate too, so a wrong
backward is caught at the op that has it (see `gradient_table`).
"""

from __future__ import annotations

import contextlib
import sys
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from .display import format_value, graph_nodes, tensor_names
from .explain import explain
from .function import Function
from .tensor import Tensor

__all__ = ["GradientRow", "GradientTable", "gradient_table", "format_gradient_table"]


@dataclass
class GradientRow:
    """One tensor of the computation: its analytic gradient, a numeric estimate, the gap."""

    name: str
    op: str                  # the op that made it, or "input"
    shape: tuple
    analytic: np.ndarray     # ∂L/∂t from backward
    numeric: np.ndarray      # central differences (NaN where an element was not checked)
    max_abs_diff: float      # over the checked elements
    checked: int             # how many elements were perturbed
    ok: bool                 # max_abs_diff ≤ atol + rtol·max|numeric|


class GradientTable(list):
    """gradient_table's result: a list of GradientRow that prints as the text table and shows
    in Jupyter as an HTML table (same numbers)."""

    def __str__(self) -> str:
        return format_gradient_table(self)

    def _repr_html_(self) -> str:
        from .notebook import gradient_table_html
        return gradient_table_html(self)


class _Tape:
    """Every Function call made while running fn, with all its arguments: enough to replay the
    forward pass on plain arrays, from any point on, with one value changed."""

    def __init__(self):
        self.calls = []  # (Function subclass, args, kwargs, result Tensor)

    @contextlib.contextmanager
    def recording(self):
        # Function.apply is swapped for a recording version for the duration of fn (and put
        # back even if fn raises). Not thread-safe: a teaching tool, not a library hot path.
        original = Function.__dict__["apply"]

        def recording_apply(cls, *args, **kwargs):
            result = original.__func__(cls, *args, **kwargs)
            self.calls.append((cls, args, kwargs, result))
            return result

        Function.apply = classmethod(recording_apply)
        try:
            yield self
        finally:
            Function.apply = original

    def replay(self, values: dict, start: int) -> dict:
        """Recompute calls[start:] from `values` (id(tensor) → array); returns the new values."""
        values = dict(values)
        for cls, args, kwargs, result in self.calls[start:]:
            arrays = [values.get(id(a), a.data) if isinstance(a, Tensor) else a for a in args]
            ctx = cls()
            ctx.needs_input_grad = tuple(isinstance(a, Tensor) for a in args)
            values[id(result)] = np.asarray(cls.forward(ctx, *arrays, **kwargs))
        return values


def gradient_table(fn: Callable, inputs, eps: float = 1e-6, atol: float = 1e-5,
                   rtol: float = 1e-3, max_elements: int = 64, names=None, seed: int = 0,
                   print_table: bool = True, file=None) -> list:
    """Check every local gradient: for each tensor of fn's graph, backward vs finite differences.

    fn: a function of the tensors in `inputs` returning a Tensor. L is that tensor when it has
        one element, else Σ out·v with a fixed random v (as gradcheck does).
    The inputs are copied to float64 (your tensors and their .grad are not touched).

    How an intermediate t is perturbed: while fn runs once, every op call is recorded with all
    its arguments (a "tape"). To nudge element i of t by ±eps, the tape is replayed from the op
    after the one that made t, on plain arrays, with t's value replaced: only the part of the
    graph downstream of t is recomputed. Then numeric ∂L/∂t_i = (L₊ − L₋) / 2eps. Tensors with
    more than `max_elements` elements have a random sample of that many elements checked.
    Ops must be deterministic (dropout is, here: its mask is an argument, replayed as is).

    Returns a GradientTable: one GradientRow per tensor (inputs and intermediates, forward
    order), printed as a text table and shown in Jupyter as an HTML table.

    Examples:
        >>> from tinygrad_edu.tensor import Tensor
        >>> x = Tensor([0.5, -1.0], requires_grad=True)
        >>> rows = gradient_table(lambda x: (x.tanh() * x).sum(), [x], print_table=False)
        >>> [(r.name, r.op, r.ok) for r in rows]
        [('x', 'input', True), ('t1', 'TanhFn', True), ('t2', 'MulFn', True), ('t3', 'SumFn', True)]
    """
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    copies = [Tensor(t.data.astype(np.float64), requires_grad=t.requires_grad)
              if isinstance(t, Tensor) and t.dtype.kind == "f" else t for t in inputs]
    if not any(isinstance(t, Tensor) and t.requires_grad for t in copies):
        raise ValueError("gradient_table: no input has requires_grad=True")
    tape = _Tape()
    with tape.recording():
        out = fn(*copies)
    if not isinstance(out, Tensor) or not out.requires_grad:
        raise TypeError("gradient_table: fn must return a Tensor that depends on an input "
                        "with requires_grad=True")
    if not tape.calls or tape.calls[-1][3] is not out:
        raise RuntimeError("gradient_table: the ops of fn were not recorded (fn must build its "
                           "result from Function.apply calls on the given inputs)")
    rng = np.random.default_rng(seed)
    weights = np.ones(out.shape) if out.data.size == 1 else rng.standard_normal(out.shape)

    given = dict(names or {})
    if len(inputs) == 1 and not given:
        given = {"x": copies[0]}
    for name, original in list(given.items()):  # names may refer to the caller's tensors
        for orig, copy in zip(inputs, copies):
            if original is orig:
                given[name] = copy
    label = tensor_names(out, given)

    trace = explain(out, weights.astype(out.dtype), names=given, print_steps=False,
                    retain_graph=False)
    made_at = {id(result): k for k, (_c, _a, _k, result) in enumerate(tape.calls)}
    base = {id(result): result.data for _c, _a, _k, result in tape.calls}

    def loss(values) -> float:
        return float(np.sum(values[id(out)].astype(np.float64) * weights))

    rows = GradientTable()
    for t in graph_nodes(out):
        if not t.requires_grad:
            continue
        analytic = trace.grad_of(t)
        analytic = np.zeros(t.shape) if analytic is None else analytic.astype(np.float64)
        numeric = np.full(t.shape, np.nan)
        start = made_at.get(id(t), -1) + 1  # replay only what comes after t was made
        flat = np.arange(t.data.size)
        if flat.size > max_elements:
            flat = np.sort(rng.choice(flat, size=max_elements, replace=False))
        for i in flat:
            index = np.unravel_index(i, t.shape)
            nudged = {}
            for sign in (+1, -1):
                value = np.array(base.get(id(t), t.data), dtype=np.float64, copy=True)
                value[index] += sign * eps
                nudged[sign] = loss(tape.replay({**base, id(t): value}, start))
            numeric[index] = (nudged[+1] - nudged[-1]) / (2 * eps)
        checked = ~np.isnan(numeric)
        diff = float(np.max(np.abs(analytic - numeric)[checked])) if checked.any() else 0.0
        scale = float(np.max(np.abs(numeric[checked]))) if checked.any() else 0.0
        op = t._ctx.name if t._ctx is not None else "input"
        rows.append(GradientRow(label[id(t)], op, tuple(t.shape), analytic, numeric, diff,
                                int(checked.sum()), diff <= atol + rtol * scale))
    if print_table:
        print(format_gradient_table(rows), file=file if file is not None else sys.stdout)
    return rows


def format_gradient_table(rows: Sequence[GradientRow], max_values: int = 4) -> str:
    """The rows as a fixed-width text table."""
    header = ("tensor", "op", "shape", "analytic ∂L/∂t", "numeric", "max |diff|", "")
    table = [header]
    for r in rows:
        checked = "" if r.checked == r.analytic.size else f" ({r.checked} checked)"
        table.append((r.name, r.op, str(r.shape), format_value(r.analytic, max_values),
                      format_value(np.where(np.isnan(r.numeric), 0, r.numeric), max_values)
                      if r.checked == r.analytic.size else "sampled" + checked,
                      f"{r.max_abs_diff:.2e}", "ok" if r.ok else "MISMATCH"))
    widths = [max(len(row[c]) for row in table) for c in range(len(header))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip()
                     for row in table)
