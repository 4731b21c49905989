"""Watch backpropagation happen: a step-by-step trace of the backward pass, and a gradient table.

`explain(loss)` (or `loss.backward(trace=True)`) walks the backward pass one op at a time and,
for every step, shows what a student would write on paper:

    step 2  Add   t4 = Add(t2, t3)   shapes (1,), (1,) → (1,)
            incoming  ∂L/∂t4 = [14.]
            rule      ∂(a+b)/∂a = 1,  ∂(a+b)/∂b = 1   (a sum passes g on unchanged)
            → t2      ∂L/∂t2 = [14.]
            → c       ∂L/∂c  = [14.]

Tensors are named `t0, t1, …` in the order the forward pass made them, or by the names you
give (`names={"a": a, ...}`, or simply `names=locals()`). Small tensors show their values; big
ones a summary (shape, mean, norm). The steps also come back as records (`BackwardStep`
dataclasses) for tutorials and tests.

>>> from tinygrad_edu.tensor import Tensor
>>> a = Tensor([2.0], requires_grad=True); b = Tensor([3.0], requires_grad=True)
>>> c = Tensor([1.0], requires_grad=True)
>>> L = ((a * b + c) ** 2).sum()
>>> steps = explain(L, names={"a": a, "b": b, "c": c, "L": L}, print_steps=False)
>>> [s.op for s in steps]
['Sum', 'Pow', 'Add', 'Mul']
>>> steps[-1].parents[0].name, steps[-1].parents[0].grad    # ∂L/∂a = 2(ab + c)·b
('a', array([42.], dtype=float32))

`gradient_table(fn, inputs)` checks every intermediate of a computation, not only the inputs:
the analytic ∂L/∂t from backward next to a finite-difference estimate (see its docstring).
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
import sys
import weakref
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from .function import Function
from .tensor import Tensor, _unbroadcast, run_backward, topological_order

__all__ = ["BackwardStep", "ParentGradient", "BackwardTrace", "explain", "trace_backward",
           "format_value", "graph_nodes", "tensor_names", "GradientRow", "gradient_table",
           "format_gradient_table"]

MAX_VALUES = 12  # tensors with at most this many elements are shown in full


# ---------------------------------------------------------------------------------------------
# Showing numbers
# ---------------------------------------------------------------------------------------------
def format_value(array, max_values: int = MAX_VALUES) -> str:
    """Small arrays in full (4 significant digits), big ones as shape, mean and norm.

    >>> format_value(np.array([1.0, 2.5]))
    '[1. , 2.5]'
    >>> format_value(np.ones((10, 10)))
    'shape (10, 10), mean 1, norm 10'
    """
    if array is None:
        return "—"
    array = np.asarray(array)
    if array.size <= max_values:
        if array.ndim == 0:
            return f"{array.item():.4g}"
        with np.printoptions(precision=4, suppress=True):
            text = np.array2string(array, separator=", ", max_line_width=10_000)
        return re.sub(r"\s*\n\s*", " ", text)  # one line: nested rows as "[[1, 2], [3, 4]]"
    values = array.astype(np.float64)
    return (f"shape {array.shape}, mean {values.mean():.4g}, "
            f"norm {np.sqrt(np.sum(values * values)):.4g}")


def formula(fn: Function | type) -> str:
    """The first paragraph of the op's docstring: forward and backward as formulas."""
    cls = fn if isinstance(fn, type) else type(fn)
    paragraph = (cls.__doc__ or "").strip().split("\n\n")[0]
    return " ".join(line.strip() for line in paragraph.splitlines())


def local_rule(fn: Function | type) -> str:
    """The op's local derivative rule: its `rule` attribute, else the docstring's lines that
    state a derivative (those with a ∂), else its first paragraph."""
    cls = fn if isinstance(fn, type) else type(fn)
    derivative_lines = [" ".join(line.split()) for line in (cls.__doc__ or "").splitlines()
                        if "∂" in line]
    return (getattr(cls, "rule", None) or ";  ".join(derivative_lines) or formula(cls)
            or "(no rule documented for this op)")


# ---------------------------------------------------------------------------------------------
# The graph: every tensor below a result, in forward order, with a name
# ---------------------------------------------------------------------------------------------
def graph_nodes(root: Tensor) -> list:
    """All tensors the graph of `root` was built from (constants too), each after its inputs,
    inputs visited in argument order (so `a * b` numbers a before b)."""
    return topological_order(root, constants=True)


def tensor_names(root: Tensor, names: Mapping[str, Any] | None = None) -> dict:
    """id(tensor) → name: the names given (e.g. `locals()`; non-tensors are ignored), else
    t0, t1, … in forward order."""
    given = {}
    for name, value in (names or {}).items():
        if isinstance(value, Tensor) and not name.startswith("_") and id(value) not in given:
            given[id(value)] = name
    taken = set(given.values())
    return {id(t): given.get(id(t), f"t{i}" if f"t{i}" not in taken else f"t{i}'")
            for i, t in enumerate(graph_nodes(root))}


# ---------------------------------------------------------------------------------------------
# Records
# ---------------------------------------------------------------------------------------------
@dataclass
class ParentGradient:
    """What one backward step hands to one input of its op."""

    position: int            # which positional argument of forward
    name: str                # the input tensor's name
    shape: tuple
    grad: np.ndarray | None  # this step's contribution to ∂L/∂input (None: needs no gradient)
    is_leaf: bool


@dataclass
class BackwardStep:
    """One step of the backward pass: one op turns ∂L/∂out into ∂L/∂(each input)."""

    step: int                     # 1 for the first op backward visits (the one nearest L)
    op: str                       # the Function's name, e.g. "Mul"
    output: str                   # name of the tensor the op made
    output_shape: tuple
    input_shapes: list            # shapes of the tensor arguments, in argument order
    grad_output: np.ndarray       # the incoming gradient ∂L/∂out (shape output_shape)
    rule: str                     # the local rule in symbols and words
    formula: str                  # forward and backward formulas (docstring's 1st paragraph)
    parents: list = field(default_factory=list)  # ParentGradient per tensor argument

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def __str__(self) -> str:
        return format_step(self)


class BackwardTrace(list):
    """The list of BackwardStep records of one backward pass, plus its totals.

    `gradients` maps each tensor's name to its total ∂L/∂tensor in this pass (leaves and
    intermediates alike); `str(trace)` is the printed trace.
    """

    def __init__(self, steps=(), root_name: str = "L", seed=None, gradients=None):
        super().__init__(steps)
        self.root_name = root_name
        self.seed = seed
        self.gradients = gradients if gradients is not None else {}
        self._grad_by_id: dict = {}
        self._leaf_names: set = set()

    def grad_of(self, tensor: Tensor):
        """Total ∂L/∂tensor in this pass (None if no gradient reached it)."""
        return self._grad_by_id.get(id(tensor))

    def __str__(self) -> str:
        lines = [format_header(self.root_name, self.seed)]
        lines += [format_step(s) for s in self]
        lines.append(format_footer(self))
        return "\n".join(lines)


def format_header(root_name: str, seed) -> str:
    return f"backward pass from {root_name}, starting with ∂L/∂{root_name} = {format_value(seed)}"


def format_step(s: BackwardStep, max_values: int = MAX_VALUES) -> str:
    inputs = ", ".join(p.name for p in s.parents)
    shapes = ", ".join(str(p.shape) for p in s.parents)
    width = max([len(p.name) for p in s.parents] + [len(s.output)])
    lines = [f"step {s.step:<3d} {s.op:<10s} {s.output} = {s.op}({inputs})   "
             f"shapes {shapes} → {s.output_shape}",
             f"         incoming  ∂L/∂{s.output} = {format_value(s.grad_output, max_values)}",
             f"         rule      {s.rule}"]
    if s.formula and s.formula != s.rule:
        lines.append(f"         formula   {s.formula}")
    for p in s.parents:
        if p.grad is None:
            what = "(no gradient needed)"
        else:
            what = f"∂L/∂{p.name:<{width}s} += {format_value(p.grad, max_values)}"
        lines.append(f"         → {p.name:<{width}s}  {what}")
    return "\n".join(lines)


def format_footer(trace: BackwardTrace) -> str:
    leaves = [(n, g) for n, g in trace.gradients.items() if n in trace._leaf_names]
    if not leaves:
        return "(no leaf received a gradient)"
    width = max(len(n) for n, _ in leaves)
    lines = ["gradients collected by the leaves in this pass:"]
    lines += [f"  ∂L/∂{n:<{width}s} = {format_value(g)}" for n, g in leaves]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Running the backward pass with a recorder attached
# ---------------------------------------------------------------------------------------------
_last_traces: dict = {}  # id(root) → (weakref to root, BackwardTrace): what explain replays


def _remember(root: Tensor, trace: BackwardTrace) -> None:
    key = id(root)
    _last_traces[key] = (weakref.ref(root, lambda _ref: _last_traces.pop(key, None)), trace)


def _recall(root: Tensor):
    entry = _last_traces.get(id(root))
    return entry[1] if entry is not None and entry[0]() is root else None


def _run_recorded(root: Tensor, seed: np.ndarray, retain_graph: bool, names=None,
                  print_steps: bool = False, file=None) -> BackwardTrace:
    """run_backward with a hook that turns every step into a BackwardStep (printed as it goes)."""
    out = file if file is not None else sys.stdout
    label = tensor_names(root, names)
    trace = BackwardTrace(root_name=label[id(root)], seed=np.array(seed, copy=True))
    totals: dict = {}  # id(tensor) → (tensor, ∂L/∂tensor so far)

    def add_total(t, g):
        previous = totals.get(id(t))
        totals[id(t)] = (t, g if previous is None else previous[1] + g)

    add_total(root, trace.seed)
    if root._ctx is None:  # explain(leaf): no step at all, the seed is its gradient
        trace._leaf_names.add(trace.root_name)
    if print_steps:
        print(format_header(trace.root_name, trace.seed), file=out)

    def on_step(node, ctx, grad_out, parent_grads):
        parents = []
        for position, (parent, need, pg) in enumerate(
                zip(ctx.parents, ctx.needs_input_grad, parent_grads)):
            if parent is None:
                continue  # a non-tensor argument (a size, a flag)
            grad = None
            if need and pg is not None:
                # the same bookkeeping as the engine: sum broadcast axes, cast to the input dtype
                grad = pg if pg.shape == parent.shape else _unbroadcast(pg, parent.shape, ctx)
                grad = np.array(grad, dtype=parent.dtype, copy=True)
                add_total(parent, grad)
                if parent._ctx is None:
                    trace._leaf_names.add(label.get(id(parent), "?"))
            parents.append(ParentGradient(position, label.get(id(parent), "?"),
                                          tuple(parent.shape), grad, parent._ctx is None))
        step = BackwardStep(step=len(trace) + 1, op=ctx.name, output=label.get(id(node), "?"),
                            output_shape=tuple(node.shape),
                            input_shapes=[p.shape for p in parents],
                            grad_output=np.array(grad_out, copy=True), rule=local_rule(ctx),
                            formula=formula(ctx),
                            parents=parents)
        trace.append(step)
        if print_steps:
            print(format_step(step), file=out)

    run_backward(root, seed, retain_graph, on_step=on_step)
    trace.gradients = {label[k]: totals[k][1] for k in label if k in totals}  # forward order
    trace._grad_by_id = {k: g for k, (_t, g) in totals.items()}
    if print_steps:
        print(format_footer(trace), file=out)
    _remember(root, trace)
    return trace


def trace_backward(root: Tensor, seed: np.ndarray, retain_graph: bool = False, names=None,
                   print_steps: bool = True, file=None) -> BackwardTrace:
    """The backward pass of `root` (seeded with ∂L/∂root = seed), printed step by step.

    This is what `root.backward(trace=True)` runs: gradients land in `.grad` exactly as with a
    plain backward(), and the steps come back as a BackwardTrace (a list of BackwardStep).
    """
    return _run_recorded(root, np.asarray(seed), retain_graph, names, print_steps, file)


@contextlib.contextmanager
def _grads_untouched(root: Tensor):
    """Put every `.grad` below root back as it was (explain only looks, it does not train)."""
    saved = [(t, None if t.grad is None else t.grad.copy()) for t in graph_nodes(root)]
    try:
        yield
    finally:
        for t, grad in saved:
            t.grad = grad


def _seed_for(tensor: Tensor, gradient) -> np.ndarray:
    if gradient is None:
        if tensor.data.size != 1:
            raise RuntimeError(f"explain() without a gradient needs a one-element tensor; this "
                               f"one has shape {tensor.shape}: pass gradient= of that shape")
        return np.ones_like(tensor.data)
    seed = np.asarray(gradient.data if isinstance(gradient, Tensor) else gradient,
                      dtype=tensor.dtype)
    if seed.shape != tensor.shape:
        raise ValueError(f"explain: gradient of shape {seed.shape} does not match the "
                         f"tensor's shape {tensor.shape}")
    return seed


def explain(tensor: Tensor, gradient=None, print_steps: bool = True, names=None,
            accumulate: bool = False, file=None) -> BackwardTrace:
    """Explain the backward pass of `tensor`, one op at a time; returns the BackwardTrace.

    Runs backward with retain_graph=True, so the graph survives and you can still call
    `tensor.backward()` afterwards. By default every `.grad` is left as it was (explain only
    shows; pass accumulate=True to keep the gradients, as backward would). If the graph was
    already freed by `backward(trace=True)`, the trace recorded then is replayed instead.

    tensor: usually the scalar loss; otherwise give `gradient` (∂L/∂tensor, same shape).
    names: a mapping name → tensor for readable output, e.g. `names=locals()`.
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"explain() needs a Tensor, got {type(tensor).__name__}")
    if not tensor.requires_grad:
        raise RuntimeError("explain(): this tensor does not require grad, so it has no backward "
                           "pass (none of its inputs had requires_grad=True)")
    freed = [t._ctx.name for t in graph_nodes(tensor) if t._ctx is not None and t._ctx._freed]
    if freed:
        recorded = _recall(tensor)
        if recorded is None:
            raise RuntimeError(
                f"explain(): backward() already freed this graph (first at {freed[0]}); call "
                "explain() before backward(), or use backward(retain_graph=True) or "
                "backward(trace=True) (whose trace explain can replay)")
        if print_steps:
            print(str(recorded), file=file if file is not None else sys.stdout)
        return recorded
    seed = _seed_for(tensor, gradient)
    guard = contextlib.nullcontext() if accumulate else _grads_untouched(tensor)
    with guard:
        return _run_recorded(tensor, seed, True, names, print_steps, file)


# ---------------------------------------------------------------------------------------------
# The gradient table: analytic vs numeric for every intermediate
# ---------------------------------------------------------------------------------------------
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

    Returns one GradientRow per tensor (inputs and intermediates, forward order).

    >>> from tinygrad_edu.tensor import Tensor
    >>> x = Tensor([0.5, -1.0], requires_grad=True)
    >>> rows = gradient_table(lambda x: (x.tanh() * x).sum(), [x], print_table=False)
    >>> [(r.name, r.op, r.ok) for r in rows]
    [('x', 'input', True), ('t1', 'Tanh', True), ('t2', 'Mul', True), ('t3', 'Sum', True)]
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

    with _grads_untouched(out):
        trace = _run_recorded(out, weights.astype(out.dtype), False, given)
    made_at = {id(result): k for k, (_c, _a, _k, result) in enumerate(tape.calls)}
    base = {id(result): result.data for _c, _a, _k, result in tape.calls}

    def loss(values) -> float:
        return float(np.sum(values[id(out)].astype(np.float64) * weights))

    rows = []
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
