"""Draw the graph behind a tensor: Graphviz DOT text always, SVG/PNG when Graphviz is installed.

One box per tensor, arrows in the direction the forward pass ran (inputs → result); backward
walks them the other way. Each box shows the tensor's name, the op that made it ("input" for
a leaf that requires grad, "const" for one that does not), its shape and, for small tensors,
its value and gradient.

>>> from tinygrad_edu.tensor import Tensor
>>> a = Tensor([2.0], requires_grad=True)
>>> dot = draw_graph((a * a).sum(), names={"a": a})
>>> print(dot.splitlines()[0])
digraph tinygrad_edu {
>>> sorted(line.strip() for line in dot.splitlines() if "->" in line)
['a -> t1 [label="0"];', 'a -> t1 [label="1"];', 't1 -> t2;']
"""

from __future__ import annotations

import re
from typing import Mapping

import numpy as np

from .display import format_value, graph_nodes, tensor_names
from .engine import inputs_of
from .tensor import Tensor

__all__ = ["draw_graph", "to_dot"]

MAX_VALUES = 6  # boxes show the values of tensors with at most this many elements

_WORD = re.compile(r"[A-Za-z_]\w*")  # a name usable as a DOT id without quotes

_COLORS = {"input": "#cfe2f3", "const": "#eeeeee", "op": "#ffffff", "root": "#fce5cd"}


def _quote(text: str) -> str:
    """A DOT string literal: backslashes and quotes escaped, lines joined by DOT's \\n."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _dot_ids(nodes: list, label: dict) -> dict:
    """id(tensor) → its DOT id: the name when it is a plain word not taken yet, else n<index>
    (or n<index>_<k> if a name took that too). One set lookup per node, so linear overall."""
    node_id, taken = {}, set()
    for i, t in enumerate(nodes):
        name = label[id(t)]
        if not (_WORD.fullmatch(name) and name not in taken):
            name, k = f"n{i}", 0
            while name in taken:
                k += 1
                name = f"n{i}_{k}"
        taken.add(name)
        node_id[id(t)] = name
    return node_id


def to_dot(tensor: Tensor, names: Mapping | None = None, gradients=None,
           max_values: int = MAX_VALUES) -> str:
    """The graph of `tensor` as DOT text (no dependency needed).

    names: name → tensor (e.g. `locals()`), else tensors are t0, t1, … in forward order.
    gradients: a BackwardTrace (from explain) to label every box with
        its ∂L/∂t; without it, boxes show `.grad` where a tensor has one (leaves, retain_grad).
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"draw_graph needs a Tensor, got {type(tensor).__name__}")
    nodes = graph_nodes(tensor)
    label = tensor_names(tensor, names)
    node_id = _dot_ids(nodes, label)
    lines = ["digraph tinygrad_edu {", "  rankdir=LR;",
             '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=10];',
             '  edge [fontsize=8, color="#666666"];']
    edges = []
    for t in nodes:
        name = node_id[id(t)]
        kind = t._ctx.name if t._ctx is not None else ("input" if t.requires_grad else "const")
        text = [f"{label[id(t)]}: {kind}", f"shape {tuple(t.shape)}"]
        if t.data.size <= max_values:
            text.append("value " + format_value(t.data))
        grad = gradients.grad_of(t) if gradients is not None else t.grad
        if grad is not None and np.size(grad) <= max_values:
            text.append("grad " + format_value(grad))
        color = _COLORS["root" if t is tensor else
                        ("op" if t._ctx is not None else kind)]
        lines.append(f"  {name} [label={_quote(chr(10).join(text))}, fillcolor={_quote(color)}];")
        if t._ctx is not None:
            # inputs_of, not _ctx.parents: after `b += 1`, an op that used b before the change
            # points at b's earlier self (its own box), not at the changed b
            parents = [(i, p) for i, p in enumerate(inputs_of(t._ctx)) if p is not None]
            for i, parent in parents:
                # with several tensor inputs the edge says which argument it is (a − b ≠ b − a)
                tag = f' [label="{i}"]' if len(parents) > 1 else ""
                edges.append(f"  {node_id[id(parent)]} -> {name}{tag};")
    return "\n".join(lines + edges + ["}"]) + "\n"


def draw_graph(tensor: Tensor, format: str | None = None, path: str | None = None,
               names: Mapping | None = None, gradients=None, max_values: int = MAX_VALUES):
    """Draw the graph of `tensor`.

    format=None: returns the DOT text (and writes it to `path` if given).
    format="svg"/"png"/"pdf": renders with Graphviz (the `graphviz` Python package and the
        `dot` program must be installed); writes to `path` and returns the path, or returns
        the rendered bytes when no path is given.
    names, gradients, max_values: see `to_dot`.
    """
    dot = to_dot(tensor, names, gradients, max_values)
    if format is None:
        if path is not None:
            with open(path, "w", encoding="utf-8") as f:
                f.write(dot)
        return dot
    if format not in ("svg", "png", "pdf"):
        raise ValueError(f"draw_graph: format must be None, 'svg', 'png' or 'pdf', got {format!r}")
    try:
        import graphviz  # optional: only needed for pictures
    except ImportError:
        raise RuntimeError(
            "draw_graph: rendering to {0} needs the 'graphviz' Python package and the Graphviz "
            "'dot' program: pip install graphviz, and apt install graphviz (Linux) or brew "
            "install graphviz (macOS). draw_graph(tensor) without format= returns the DOT text, "
            "which needs neither.".format(format)) from None
    try:
        picture = graphviz.Source(dot).pipe(format=format)
    except graphviz.ExecutableNotFound:
        raise RuntimeError(
            "draw_graph: the Graphviz 'dot' program was not found on PATH (the Python package "
            "is installed, the program is not): apt install graphviz (Linux) or brew install "
            "graphviz (macOS)") from None
    if path is None:
        return picture
    with open(path, "wb") as f:
        f.write(picture)
    return path
