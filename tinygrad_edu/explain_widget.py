"""Step through the backward pass in Jupyter: `explain(loss, interactive=True)`.

A slider and Back/Next buttons walk the backward pass one op at a time. At each step the graph
picture highlights the current op and colours the edges it sends gradients along, every
tensor shows the gradient it has collected so far, and a panel shows the incoming gradient,
the rule, the arithmetic with the numbers substituted and each input's `+=`.

`BackwardStepper` holds the state and draws nothing by itself, so it can be stepped and
checked from plain Python (the tests do); `widget()` wraps it in ipywidgets.

>>> import tinygrad_edu as tg
>>> a = tg.Tensor(2.0, requires_grad=True); b = tg.Tensor(3.0, requires_grad=True)
>>> f = a * b + a
>>> stepper = BackwardStepper(f, tg.explain(f, print_steps=False, names={"a": a, "b": b}))
>>> stepper.step.op, stepper.position, len(stepper)
('AddFn', 0, 2)
>>> stepper.next().step.op
'MulFn'
>>> {n: float(g) for n, g in stepper.leaf_gradients().items()}   # ∂f/∂a = b + 1, ∂f/∂b = a
{'a': 4.0, 'b': 2.0}
>>> stepper.back().step.op, list(stepper.leaf_gradients())     # after step 1: only a has one
('AddFn', ['a'])
"""

from __future__ import annotations

import sys
from html import escape

import numpy as np

from .display import graph_nodes, html_value
from .draw import MAX_VALUES, Graph
from .notebook import in_notebook

__all__ = ["BackwardStepper", "step_through"]


class BackwardStepper:
    """The state of a step-through: which step of `trace` (explain's result on `root`) is shown.

    position: 0-based index of the current step. `gradients_so_far()` are the totals after
    the current step (the root starts with its seed); `graph()` is the picture at this step.
    """

    def __init__(self, root, trace, max_values: int = MAX_VALUES):
        if len(trace._step_ids) != len(trace):
            raise ValueError("BackwardStepper needs a trace recorded by explain() on this graph")
        self.root, self.trace = root, trace
        self.max_values = max_values
        self.position = 0
        self._widget = None
        self._shown_in_cell = None
        nodes = {id(t): t for t in graph_nodes(root)}
        # the trace's own names, so that picture, panel and trace agree
        self.names = {name: nodes[key] for key, name in trace._label.items() if key in nodes}
        self._by_name = {name: key for key, name in trace._label.items()}

    def __len__(self) -> int:
        return len(self.trace)

    @property
    def step(self):
        """The current BackwardStep."""
        return self.trace[self.position]

    # -- moving ----------------------------------------------------------------------------
    def go(self, position: int) -> "BackwardStepper":
        """Show step `position` (0-based); clipped to the steps there are."""
        self.position = max(0, min(int(position), len(self) - 1))
        self._refresh()
        return self

    def next(self) -> "BackwardStepper":
        return self.go(self.position + 1)

    def back(self) -> "BackwardStepper":
        return self.go(self.position - 1)

    # -- what is shown ---------------------------------------------------------------------
    def gradients_so_far(self) -> dict:
        """id(tensor) → ∂L/∂tensor collected after steps 1 … position+1."""
        root_id = id(self.root)
        totals = {root_id: self.trace.seed}
        for step, (_out, inputs) in zip(self.trace[: self.position + 1],
                                        self.trace._step_ids[: self.position + 1]):
            for p in step.parents:
                if p.grad is None:
                    continue
                key = inputs[p.position]
                totals[key] = p.grad if key not in totals else np.asarray(totals[key] + p.grad)
        return totals

    def leaf_gradients(self) -> dict:
        """name → gradient collected so far, for the leaves that have one."""
        so_far = self.gradients_so_far()
        return {name: so_far[self._by_name[name]] for name in self.trace.leaf_gradients()
                if self._by_name.get(name) in so_far}

    def current_tensor(self):
        """The tensor whose op is the current step."""
        out_id = self.trace._step_ids[self.position][0]
        for t in graph_nodes(self.root):
            if id(t) == out_id:
                return t
        return None

    def graph(self) -> Graph:
        """The picture at this step: current op highlighted, gradients so far on every box."""
        return Graph(self.root, self.names, self.gradients_so_far(), self.max_values,
                     highlight=self.current_tensor())

    def panel_html(self) -> str:
        """The current step in words and numbers (HTML)."""
        s, mv = self.step, self.trace.max_values
        d = f"∂{escape(s.root)}/∂"
        parts = [f"<h4 style='margin:4px 0'>step {s.step} of {len(self)}: {escape(s.op)} "
                 f"made {escape(s.output)}</h4>",
                 f"<div><b>incoming</b> g = {d}{escape(s.output)} = "
                 f"{html_value(s.grad_output, mv)}</div>"]
        values = [f"{escape(p.name)} = {html_value(p.value, mv)}" for p in s.parents
                  if p.value is not None]
        if values:
            parts.append("<div><b>forward values</b> " + ",&nbsp; ".join(values) + "</div>")
        parts.append(f"<div><b>rule</b> {escape(s.rule)}</div>")
        for p in s.parents:
            if p.grad is None:
                parts.append(f"<div>→ {escape(p.name)}: no gradient needed</div>")
                continue
            how = escape(p.expression) + " = " if p.expression else ""
            parts.append(f"<div>→ <b>{d}{escape(p.name)}</b> += {how}"
                         f"{html_value(p.grad, mv)}</div>")
        if s.details:
            parts.append("<pre style='font-size:11px'>" + escape("\n".join(s.details)) + "</pre>")
        leaves = self.leaf_gradients()
        if leaves:
            parts.append("<div><b>leaves so far</b> " + ",&nbsp; ".join(
                f"{d}{escape(n)} = {html_value(g, mv)}" for n, g in leaves.items()) + "</div>")
        return "<div style='font-size:13px'>" + "".join(parts) + "</div>"

    def panel_text(self) -> str:
        """The current step as explain prints it."""
        return str(self.step)

    # -- the widget ------------------------------------------------------------------------
    def widget(self):
        """The ipywidgets box: slider, Back/Next, picture and panel (built once)."""
        if self._widget is None:
            import ipywidgets as w

            self._slider = w.IntSlider(value=self.position + 1, min=1, max=len(self),
                                       description="step", continuous_update=False)
            back, nxt = w.Button(description="◀ Back"), w.Button(description="Next ▶")
            self._picture, self._panel = w.HTML(), w.HTML()
            self._slider.observe(lambda change: self.go(change["new"] - 1), names="value")
            back.on_click(lambda _b: self.back())
            nxt.on_click(lambda _b: self.next())
            self._widget = w.VBox([w.HBox([back, self._slider, nxt]), self._picture,
                                   self._panel])
            self._refresh()
        return self._widget

    def _refresh(self) -> None:
        if self._widget is None:
            return
        if self._slider.value != self.position + 1:
            self._slider.value = self.position + 1  # its observer calls go() again: no-op
        svg = self.graph()._repr_svg_()
        self._picture.value = svg if svg is not None else f"<pre>{escape(self.graph())}</pre>"
        self._panel.value = self.panel_html()

    def _ipython_display_(self):
        from IPython import get_ipython
        from IPython.display import display

        shell = get_ipython()
        cell = getattr(shell, "execution_count", None)
        if cell is not None and cell == self._shown_in_cell:
            return  # explain() showed it already in this cell: the cell's result adds nothing
        display(self.widget())

    def __repr__(self) -> str:
        return (f"BackwardStepper(step {self.position + 1} of {len(self)}: {self.step.op}; "
                ".next(), .back(), .go(i))")


def step_through(root, trace, file=None, print_steps: bool = True):
    """explain(..., interactive=True): in Jupyter with ipywidgets, shows the step-through and
    returns its BackwardStepper; elsewhere prints why not and the text trace, and returns the
    trace."""
    out = file if file is not None else sys.stdout
    reason = None
    if not in_notebook():
        reason = "it runs outside a Jupyter notebook"
    else:
        try:
            import ipywidgets  # noqa: F401
        except ImportError:
            reason = "ipywidgets is not installed (pip install ipywidgets)"
    if reason is not None:
        print(f"explain(interactive=True): no step-through widget, because {reason}; "
              + ("here is the text trace instead." if print_steps else
                 "explain(loss) prints the steps."), file=out)
        if print_steps:
            print(str(trace), file=out)
        return trace
    from IPython import get_ipython
    from IPython.display import display

    stepper = BackwardStepper(root, trace)
    display(stepper.widget())
    stepper._shown_in_cell = getattr(get_ipython(), "execution_count", None)
    return stepper
