"""Watch backpropagation happen: the backward pass, one op at a time, as a student writes it.

`explain(loss)` walks the backward pass and, for every step, shows what a student would write
on paper: the op, the gradient that arrives, the op's local rule, and what flows to each input.
The steps also come back as records (`BackwardStep` dataclasses) for tutorials and tests.

>>> from tinygrad_edu.tensor import Tensor
>>> a = Tensor([2.0], requires_grad=True); b = Tensor([3.0], requires_grad=True)
>>> c = Tensor([1.0], requires_grad=True)
>>> L = ((a * b + c) ** 2).sum()
>>> steps = explain(L, names={"a": a, "b": b, "c": c, "L": L})
backward pass from L, starting with ∂L/∂L = 1
step 1   SumFn      L = SumFn(t5)   shapes (1,) → ()
         incoming  g = ∂L/∂L = 1
         values    t5 = [49.]
         rule      ∂(Σ x)/∂x_i = 1: every...
         formula   out = Σ_dims x.   ∂L/∂...
         → t5  ∂L/∂t5 += [1.]
step 2   PowFn      t5 = PowFn(t4)   shapes (1,) → (1,)
         incoming  g = ∂L/∂t5 = [1.]
         values    t4 = [7.]
         rule      ∂(aᵇ)/∂a = b·aᵇ⁻¹ (the...
         formula   out = aᵇ.   ∂L/∂a = g...
         → t4  ∂L/∂t4 += g·2·t4^(2−1) = [1.]·2·[7.]^(2−1) = [14.]
step 3   AddFn      t4 = AddFn(t2, c)   shapes (1,), (1,) → (1,)
         incoming  g = ∂L/∂t4 = [14.]
         values    t2 = [6.],  c = [1.]
         rule      ∂(a+b)/∂a = 1,  ∂(a+b)...
         formula   out = a + b.   ∂L/∂a =...
         → t2  ∂L/∂t2 += g = [14.]
         → c   ∂L/∂c  += g = [14.]
step 4   MulFn      t2 = MulFn(a, b)   shapes (1,), (1,) → (1,)
         incoming  g = ∂L/∂t2 = [14.]
         values    a = [2.],  b = [3.]
         rule      ∂(a·b)/∂a = b,  ∂(a·b)...
         formula   out = a · b.   ∂L/∂a =...
         → a   ∂L/∂a  += g·b = [14.]·[3.] = [42.]
         → b   ∂L/∂b  += g·a = [14.]·[2.] = [28.]
gradients collected by the leaves in this pass:
  ∂L/∂a = [42.]
  ∂L/∂b = [28.]
  ∂L/∂c = [14.]
>>> [s.op for s in steps]
['SumFn', 'PowFn', 'AddFn', 'MulFn']
>>> steps[-1].parents[0].name, steps[-1].parents[0].grad    # ∂L/∂a = 2(ab + c)·b
('a', array([42.], dtype=float32))

Each step shows the forward values its rule multiplies by, and the arithmetic with the numbers
where they are small (`g·b = [14.]·[3.]`). Arrays of up to `max_values` (40) elements print in
full, matrices row by row; a convolution or max-pool step on small inputs also writes out every
∂W entry as its sum (`∂W11 = X11·∂h11 + X12·∂h12 + …`) and where each pooled gradient goes
(explain_detail.py). In Jupyter the returned trace shows as a table (notebook.py), and
`explain(loss, interactive=True)` steps through the pass on the graph picture
(explain_widget.py).

The engine (engine.py) does the work: explain only hooks into its walk (`on_step`) and records
what each step hands on. `gradient_table` (gradient_table.py) checks each of those numbers
against finite differences; `draw_graph` (draw.py) draws the graph.
"""

from __future__ import annotations

import contextlib
import dataclasses
import sys
import weakref
from dataclasses import dataclass, field

import numpy as np

from .display import MAX_VALUES, format_value, graph_nodes, tensor_names
from .engine import run_backward
from .function import Function
from .tensor import Tensor

__all__ = ["BackwardStep", "ParentGradient", "BackwardTrace", "explain", "trace_backward",
           "local_rule", "formula"]


# ---------------------------------------------------------------------------------------------
# The rule of each op
# ---------------------------------------------------------------------------------------------
def formula(fn: Function | type) -> str:
    """The first paragraph of the op's docstring: forward and backward as formulas."""
    cls = fn if isinstance(fn, type) else type(fn)
    paragraph = (cls.__doc__ or "").strip().split("\n\n")[0]
    return " ".join(line.strip() for line in paragraph.splitlines())


def local_rule(fn: Function | type) -> str:
    """The op's local derivative rule: its `rule` attribute (every Function of ops/ has one)."""
    cls = fn if isinstance(fn, type) else type(fn)
    return cls.rule or f"(no rule: give {cls.__name__} a `rule` attribute to show one here)"


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
    value: np.ndarray | None = None  # the input's forward value (what the rule multiplies by)
    expression: str = ""     # the contribution as a formula, numbers substituted: "g·b = 14·3"


@dataclass
class BackwardStep:
    """One step of the backward pass: one op turns ∂L/∂out into ∂L/∂(each input)."""

    step: int                     # 1 for the first op backward visits (the one nearest L)
    op: str                       # the Function's name, e.g. "MulFn"
    output: str                   # name of the tensor the op made
    output_shape: tuple
    input_shapes: list            # shapes of the tensor arguments, in argument order
    grad_output: np.ndarray       # the incoming gradient ∂L/∂out (shape output_shape)
    rule: str                     # the local rule in symbols and words
    formula: str                  # forward and backward formulas (docstring's 1st paragraph)
    parents: list = field(default_factory=list)  # ParentGradient per tensor argument
    output_value: np.ndarray | None = None       # the op's forward result
    details: list = field(default_factory=list)  # written-out sums (conv), routes (max-pool)
    root: str = "L"               # the name of what is differentiated: ∂root/∂…

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def __str__(self) -> str:
        return format_step(self)


class BackwardTrace(list):
    """The list of BackwardStep records of one backward pass, plus its totals.

    `gradients` maps each tensor's name to its total ∂L/∂tensor in this pass (leaves and
    intermediates alike); `str(trace)` is the printed trace, and in Jupyter the trace shows
    as a table with the same numbers.
    """

    def __init__(self, steps=(), root_name: str = "L", seed=None, gradients=None,
                 max_values: int = MAX_VALUES, symbol: str | None = None):
        super().__init__(steps)
        self.root_name = root_name
        self.symbol = symbol or root_name  # ∂symbol/∂…: the root, or L when a gradient was given
        self.seed = seed
        self.gradients = gradients if gradients is not None else {}
        self.max_values = max_values
        self._grad_by_id: dict = {}
        self._leaf_names: set = set()
        self._step_ids: list = []  # per step: (id(output), [id(input) or None]) for the stepper
        self._label: dict = {}     # id(tensor) → the name the trace uses

    def grad_of(self, tensor: Tensor):
        """Total ∂L/∂tensor in this pass (None if no gradient reached it)."""
        return self._grad_by_id.get(id(tensor))

    def leaf_gradients(self) -> dict:
        """name → ∂L/∂leaf for the leaves that received a gradient, in forward order."""
        return {n: g for n, g in self.gradients.items() if n in self._leaf_names}

    def __str__(self) -> str:
        lines = [format_header(self.root_name, self.seed, self.symbol)]
        lines += [format_step(s, self.max_values) for s in self]
        lines.append(format_footer(self))
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        """Jupyter's hook: the steps as an HTML table (notebook.py)."""
        from .notebook import trace_html
        return trace_html(self)


_PAD = " " * 9  # the steps' body is indented under the op's name


def _labelled(prefix: str, text: str) -> str:
    """prefix + text, the text's further lines (a matrix's rows) aligned under its first."""
    return prefix + text.replace("\n", "\n" + " " * len(prefix))


def format_header(root_name: str, seed, symbol: str | None = None) -> str:
    symbol = symbol or root_name
    return (f"backward pass from {root_name}, starting with "
            f"∂{symbol}/∂{root_name} = {format_value(seed)}")


def format_step(s: BackwardStep, max_values: int = MAX_VALUES) -> str:
    """The printed form of one step (see explain's docstring for an example)."""
    def show(array):
        return format_value(array, max_values, multiline=True)

    inputs = ", ".join(p.name for p in s.parents)
    shapes = ", ".join(str(p.shape) for p in s.parents)
    width = max([len(p.name) for p in s.parents] + [len(s.output)])
    d = f"∂{s.root}/∂"
    lines = [f"step {s.step:<3d} {s.op:<10s} {s.output} = {s.op}({inputs})   "
             f"shapes {shapes} → {s.output_shape}",
             _labelled(f"{_PAD}incoming  g = {d}{s.output} = ", show(s.grad_output))]
    values = [(p.name, p.value) for p in s.parents if p.value is not None]
    templates = _templates_of(s.op)
    if s.output_value is not None and any(
            p.grad is not None and p.position < len(templates) and "{out}" in templates[p.position]
            for p in s.parents):  # σ, exp, tanh, √: their rule is written with the result
        values.append((s.output, s.output_value))
    shown = [(n, show(v)) for n, v in values]
    if shown and all("\n" not in text for _, text in shown):
        lines.append(f"{_PAD}values    " + ",  ".join(f"{n} = {text}" for n, text in shown))
    else:
        for i, (n, text) in enumerate(shown):
            lines.append(_labelled(f"{_PAD}{'values' if i == 0 else '':<10s}{n} = ", text))
    lines.append(f"{_PAD}rule      {s.rule}")
    if s.formula and s.formula != s.rule:
        lines.append(f"{_PAD}formula   {s.formula}")
    for p in s.parents:
        head = f"{_PAD}→ {p.name:<{width}s}  "
        if p.grad is None:
            lines.append(head + "(no gradient needed)")
            continue
        how = f"{p.expression} = " if p.expression else ""
        lines.append(_labelled(f"{head}{d}{p.name:<{width}s} += {how}", show(p.grad)))
    if s.details:
        lines.append(f"{_PAD}worked out, entry by entry:")
        lines += [f"{_PAD}  {line}" for line in s.details]
    return "\n".join(lines)


def _templates_of(op: str) -> tuple:
    from .explain_detail import TEMPLATES
    return TEMPLATES.get(op, ())


def format_footer(trace: BackwardTrace) -> str:
    leaves = list(trace.leaf_gradients().items())
    if not leaves:
        return "(no leaf received a gradient)"
    width = max(len(n) for n, _ in leaves)
    root = trace.symbol
    lines = ["gradients collected by the leaves in this pass:"]
    lines += [_labelled(f"  ∂{root}/∂{n:<{width}s} = ",
                        format_value(g, trace.max_values, multiline=True)) for n, g in leaves]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Running the backward pass with a recorder attached
# ---------------------------------------------------------------------------------------------
_last_traces: dict = {}  # id(root) → (weakref to root, BackwardTrace): what explain replays
_KEEP_VALUES = 100_000  # forward values up to this size are copied into the records


def _remember(root: Tensor, trace: BackwardTrace) -> None:
    key = id(root)
    _last_traces[key] = (weakref.ref(root, lambda _ref: _last_traces.pop(key, None)), trace)


def _recall(root: Tensor):
    entry = _last_traces.get(id(root))
    return entry[1] if entry is not None and entry[0]() is root else None


def _kept(array):
    """A copy of a forward value for the record (big ones are not kept)."""
    return np.array(array, copy=True) if array.size <= _KEEP_VALUES else None


def _run_recorded(root: Tensor, seed: np.ndarray, retain_graph: bool, names=None,
                  print_steps: bool = False, file=None, max_values: int = MAX_VALUES,
                  symbol: str | None = None) -> BackwardTrace:
    """run_backward with a hook that turns every step into a BackwardStep (printed as it goes)."""
    from .explain_detail import DETAILS, expressions, number_arguments

    out = file if file is not None else sys.stdout
    label = tensor_names(root, names, root_name="L")
    trace = BackwardTrace(root_name=label[id(root)], seed=np.array(seed, copy=True),
                          max_values=max_values, symbol=symbol)
    totals: dict = {}  # id(tensor) → (tensor, ∂L/∂tensor so far)

    def add_total(t, g):
        previous = totals.get(id(t))
        totals[id(t)] = (t, g if previous is None else np.asarray(previous[1] + g))

    trace._label = label
    add_total(root, trace.seed)
    if root._ctx is None:  # explain(leaf): no step at all, the seed is its gradient
        trace._leaf_names.add(trace.root_name)
    if print_steps:
        print(format_header(trace.root_name, trace.seed, trace.symbol), file=out)

    def on_step(node, ctx, grad_out, inputs, input_grads):
        # input_grads come from the engine already summed to each input's shape and cast
        arg_names = [None if p is None else label.get(id(p), "?") for p in inputs]
        arg_values = [None if p is None else p.data for p in inputs]
        number_arguments(ctx, arg_names, arg_values)  # x ** 2: the 2
        output = label.get(id(node), "?")
        texts = expressions(ctx.name, output, node.data, arg_names, arg_values, grad_out,
                            input_grads)
        detail = DETAILS.get(ctx.name)
        details = detail(ctx, arg_names, arg_values, output, grad_out, input_grads) \
            if detail is not None else []
        parents = []
        for position, (parent, grad) in enumerate(zip(inputs, input_grads)):
            if parent is None:
                continue  # a non-tensor argument (a size, a flag)
            if grad is not None:
                grad = np.array(grad, copy=True)  # the record keeps its own copy
                add_total(parent, grad)
                if parent._ctx is None:
                    trace._leaf_names.add(label.get(id(parent), "?"))
            parents.append(ParentGradient(position, arg_names[position], tuple(parent.shape),
                                          grad, parent._ctx is None, _kept(parent.data),
                                          texts[position]))
        step = BackwardStep(step=len(trace) + 1, op=ctx.name, output=output,
                            output_shape=tuple(node.shape),
                            input_shapes=[p.shape for p in parents],
                            grad_output=np.array(grad_out, copy=True), rule=local_rule(ctx),
                            formula=formula(ctx), parents=parents,
                            output_value=_kept(node.data), details=details,
                            root=trace.symbol)
        trace.append(step)
        trace._step_ids.append((id(node), [None if p is None else id(p) for p in inputs]))
        if print_steps:
            print(format_step(step, max_values), file=out)

    run_backward(root, seed, retain_graph, on_step=on_step)
    trace.gradients = {label[k]: totals[k][1] for k in label if k in totals}  # forward order
    trace._grad_by_id = {k: g for k, (_t, g) in totals.items()}
    if print_steps:
        print(format_footer(trace), file=out)
    _remember(root, trace)
    return trace


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
            accumulate: bool = False, file=None, retain_graph: bool = True,
            max_values: int = MAX_VALUES, interactive: bool = False):
    """Run the backward pass of `tensor` one op at a time, printing each step; returns the steps.

    The one entry point of the teaching tools for a traced backward:
    - explain(loss): shows the steps and leaves every `.grad` as it was (it only looks), and the
      graph survives, so `loss.backward()` can still run afterwards.
    - explain(loss, accumulate=True, retain_graph=False): exactly `loss.backward()`, printed:
      the gradients land in `.grad` and the graph is freed. Explaining that graph again
      replays the trace recorded then.
    - explain(loss, interactive=True): in Jupyter, a step-through of the backward pass (a
      slider and Next/Back buttons over the graph picture, explain_widget.py); returns the
      `BackwardStepper`. Elsewhere it says why not and prints the steps as usual (unless
      print_steps=False) and returns the trace.

    tensor: usually the scalar loss; otherwise give `gradient` (∂L/∂tensor, same shape).
    names: a mapping name → tensor for readable output, e.g. `names=locals()`. Parameters of a
        Module are named after their module path without it; the rest are t0, t1, …, and
        `tensor` itself is L.
    max_values: arrays with at most this many elements are printed in full (matrices row by
        row), bigger ones as shape, mean and norm.
    The result renders as an HTML table in Jupyter (same numbers as the printout).
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"explain() needs a Tensor, got {type(tensor).__name__}")
    if not tensor.requires_grad:
        raise RuntimeError("explain(): this tensor does not require grad, so it has no backward "
                           "pass (none of its inputs had requires_grad=True)")
    if interactive:
        from .explain_widget import step_through  # ipywidgets, only when asked for
        trace = explain(tensor, gradient, False, names, accumulate, file, retain_graph,
                        max_values)
        return step_through(tensor, trace, file=file, print_steps=print_steps)
    freed = [t._ctx.name for t in graph_nodes(tensor) if t._ctx is not None and t._ctx._freed]
    if freed:
        recorded = _recall(tensor)
        if recorded is None:
            raise RuntimeError(
                f"explain(): backward() already freed this graph (first at {freed[0]}); call "
                "explain() before backward(), or use backward(retain_graph=True) or "
                "explain(loss, accumulate=True, retain_graph=False) (whose trace explain can "
                "replay)")
        if print_steps:
            print(str(recorded), file=file if file is not None else sys.stdout)
        return recorded
    seed = _seed_for(tensor, gradient)
    guard = contextlib.nullcontext() if accumulate else _grads_untouched(tensor)
    with guard:
        # with a given gradient, what is differentiated is L = Σ tensor·gradient, not tensor
        return _run_recorded(tensor, seed, retain_graph, names, print_steps, file, max_values,
                             None if gradient is None else "L")


def trace_backward(root: Tensor, seed, retain_graph: bool = False, names=None,
                   print_steps: bool = True, file=None) -> BackwardTrace:
    """`root.backward(seed)` with every step printed: explain(root, seed, accumulate=True)."""
    return explain(root, seed, print_steps=print_steps, names=names, accumulate=True, file=file,
                   retain_graph=retain_graph)
