"""The teaching tools in Jupyter: HTML tables for explain's trace and for gradient_table.

`BackwardTrace._repr_html_` and `GradientTable._repr_html_` call these, so a trace or a table
that is a cell's result shows as a table with the same numbers as the printed text.
"""

from __future__ import annotations

import sys
from html import escape

from .display import MAX_VALUES, html_value

__all__ = ["in_notebook", "trace_html", "step_html", "gradient_table_html"]

_STYLE = ("<style>.tg-table td,.tg-table th{text-align:left;vertical-align:top;padding:3px 8px;"
          "border-bottom:1px solid #ddd;font-size:12px}.tg-table pre{font-size:11px}"
          ".tg-table .tg-rule{color:#555;max-width:28em}.tg-ok{color:#2a7d2a}"
          ".tg-bad{color:#c00;font-weight:bold}</style>")


def in_notebook() -> bool:
    """True inside a running Jupyter kernel (IPython with a kernel attached)."""
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    ip = shell.get_ipython() if hasattr(shell, "get_ipython") else None
    return ip is not None and getattr(ip, "kernel", None) is not None


def _parents_html(step, max_values: int) -> str:
    d = f"∂{step.root}/∂"
    rows = []
    for p in step.parents:
        if p.grad is None:
            rows.append(f"<div>→ <b>{escape(p.name)}</b>: no gradient needed</div>")
            continue
        how = escape(p.expression) + " = " if p.expression else ""
        rows.append(f"<div>→ <b>{escape(d + p.name)}</b> += {how}"
                    f"{html_value(p.grad, max_values)}</div>")
    return "".join(rows)


def step_html(step, max_values: int) -> str:
    """One step as a table row: step, op, incoming gradient, forward values, rule, parents."""
    values = "".join(f"<div>{escape(p.name)} = {html_value(p.value, max_values)}</div>"
                     for p in step.parents if p.value is not None)
    details = ""
    if step.details:
        details = ("<details><summary>worked out, entry by entry</summary><pre>"
                   + escape("\n".join(step.details)) + "</pre></details>")
    inputs = ", ".join(p.name for p in step.parents)
    return (f"<tr><td>{step.step}</td><td><b>{escape(step.op)}</b><br>"
            f"{escape(step.output)} = {escape(step.op)}({escape(inputs)})</td>"
            f"<td>g = ∂{escape(step.root)}/∂{escape(step.output)} = "
            f"{html_value(step.grad_output, max_values)}</td><td>{values}</td>"
            f"<td class='tg-rule'>{escape(step.rule)}</td>"
            f"<td>{_parents_html(step, max_values)}{details}</td></tr>")


def trace_html(trace) -> str:
    """A BackwardTrace as an HTML table, then the leaves' gradients."""
    mv = trace.max_values
    head = (f"<p>backward pass from <b>{escape(trace.root_name)}</b>, starting with "
            f"∂{escape(trace.symbol)}/∂{escape(trace.root_name)} = "
            f"{html_value(trace.seed, mv)}</p>")
    rows = "".join(step_html(s, mv) for s in trace)
    table = ("<table class='tg-table'><tr><th>step</th><th>op</th><th>incoming gradient</th>"
             "<th>forward values</th><th>rule</th><th>to each input</th></tr>"
             f"{rows}</table>")
    leaves = trace.leaf_gradients()
    foot = "<p>(no leaf received a gradient)</p>"
    if leaves:
        foot = ("<p>gradients collected by the leaves in this pass:</p><table class='tg-table'>"
                + "".join(f"<tr><td>∂{escape(trace.symbol)}/∂{escape(n)}</td>"
                          f"<td>{html_value(g, mv)}</td></tr>" for n, g in leaves.items())
                + "</table>")
    return _STYLE + head + table + foot


def gradient_table_html(rows, max_values: int = MAX_VALUES) -> str:
    """gradient_table's rows as an HTML table: analytic next to numeric, the gap, ok."""
    import numpy as np

    body = []
    for r in rows:
        full = r.checked == r.analytic.size
        numeric = html_value(np.where(np.isnan(r.numeric), 0, r.numeric), max_values) if full \
            else f"sampled ({r.checked} checked)"
        verdict = "<span class='tg-ok'>ok</span>" if r.ok else "<span class='tg-bad'>MISMATCH</span>"
        body.append(f"<tr><td>{escape(r.name)}</td><td>{escape(r.op)}</td><td>{r.shape}</td>"
                    f"<td>{html_value(r.analytic, max_values)}</td><td>{numeric}</td>"
                    f"<td>{r.max_abs_diff:.2e}</td><td>{verdict}</td></tr>")
    return (_STYLE + "<table class='tg-table'><tr><th>tensor</th><th>op</th><th>shape</th>"
            "<th>analytic ∂L/∂t</th><th>numeric</th><th>max |diff|</th><th></th></tr>"
            + "".join(body) + "</table>")
