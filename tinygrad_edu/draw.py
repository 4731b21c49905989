"""Draw the graph behind a tensor: DOT text always, a picture inline in Jupyter.

One box per tensor, arrows in the direction the forward pass ran (inputs → result); backward
walks them the other way. Each box shows the tensor's name, the op that made it ("input" for
a leaf that requires grad, "const" for one that does not), its shape, its value and its
gradient (in full for small tensors, as mean and norm for big ones).

`draw_graph` returns a `Graph`: a `str` holding that DOT text (so `print`, `write_text` and
everything else that used the text keep working) that Jupyter shows as a picture
(`_repr_svg_`). The picture gives every op its own oval node between its inputs and its result
(as micrograd's `draw_dot`), left to right, or top to bottom when there are more than a few
ops (so it fits a notebook's width); it is drawn by Graphviz when the `graphviz` package and the `dot`
program are installed, else laid out with networkx and drawn with matplotlib.

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

__all__ = ["Graph", "draw_graph", "to_dot", "graph_model"]

MAX_VALUES = 6  # boxes show the values of tensors with at most this many elements
MAX_PICTURE_NODES = 400  # bigger graphs are not drawn inline (write them to a file instead)
VERTICAL_AFTER = 5  # pictures with more ops than this run top to bottom

_WORD = re.compile(r"[A-Za-z_]\w*")  # a name usable as a DOT id without quotes

_COLORS = {"input": "#cfe2f3", "const": "#eeeeee", "op": "#ffffff", "root": "#fce5cd",
           "opnode": "#fff2cc", "current": "#ffd966", "edge": "#666666", "flow": "#cc0000"}


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


def _grad_lookup(gradients):
    """A function tensor → ∂L/∂tensor (or None) from a BackwardTrace, a dict keyed by
    id(tensor), or None (then each tensor's own `.grad`)."""
    if gradients is None:
        return lambda t: t.grad
    if hasattr(gradients, "grad_of"):
        return gradients.grad_of
    return lambda t: gradients.get(id(t))


def _array_line(what: str, array, max_values: int) -> str:
    if np.size(array) <= max_values:
        return f"{what} {format_value(array, max_values)}"
    values = np.asarray(array, dtype=np.float64)
    return f"{what} mean {values.mean():.3g}, norm {np.sqrt(np.sum(values * values)):.3g}"


def graph_model(tensor: Tensor, names: Mapping | None = None, gradients=None,
                max_values: int = MAX_VALUES, highlight: Tensor | None = None,
                op_nodes: bool = False) -> tuple:
    """(nodes, edges) of the graph, the one description both DOT and the fallback draw.

    nodes: dicts id, label, fill, shape ("box" or "ellipse"), current (bool);
    edges: dicts src, dst, label ("" or the argument position), flow (bool: highlighted).
    highlight: a tensor made by an op: that op is drawn as the current step, and the edges it
        sends gradients back along are coloured. op_nodes: an oval node per op.
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"draw_graph needs a Tensor, got {type(tensor).__name__}")
    order = graph_nodes(tensor)
    label = tensor_names(tensor, names)
    node_id = _dot_ids(order, label)
    grad_of = _grad_lookup(gradients)
    nodes, edges = [], []
    for t in order:
        name, made = node_id[id(t)], t._ctx is not None
        kind = t._ctx.name if made else ("input" if t.requires_grad else "const")
        if op_nodes:
            first = label[id(t)] + ("" if made else f"  ({'leaf' if t.requires_grad else 'const'})")
        else:
            first = f"{label[id(t)]}: {kind}"
        text = [first, f"shape {tuple(t.shape)}"]
        if t.data.size <= max_values or op_nodes:
            text.append(_array_line("value", t.data, max_values))
        grad = grad_of(t)
        if grad is not None and (np.size(grad) <= max_values or op_nodes):
            text.append(_array_line("grad", grad, max_values))
        fill = _COLORS["root" if t is tensor else ("op" if made else kind)]
        current = highlight is t and not op_nodes
        nodes.append(dict(id=name, label="\n".join(text), fill=fill, shape="box",
                          current=current))
        if not made:
            continue
        # inputs_of, not _ctx.parents: after `b += 1`, an op that used b before the change
        # points at b's earlier self (its own box), not at the changed b
        parents = [(i, p) for i, p in enumerate(inputs_of(t._ctx)) if p is not None]
        flow = highlight is t
        target = name
        if op_nodes:
            target = f"{name}__op"
            nodes.append(dict(id=target, label=kind, fill=_COLORS["opnode"], shape="ellipse",
                              current=flow))
            edges.append(dict(src=target, dst=name, label="", flow=flow))
        for i, parent in parents:
            # with several tensor inputs the edge says which argument it is (a − b ≠ b − a)
            edges.append(dict(src=node_id[id(parent)], dst=target,
                              label=str(i) if len(parents) > 1 else "", flow=flow))
    return nodes, edges


def _vertical(nodes: list) -> bool:
    """Pictures of more than a few ops run top to bottom, so that they fit a notebook's width."""
    return sum(n["shape"] == "ellipse" for n in nodes) > VERTICAL_AFTER


def _model_to_dot(nodes: list, edges: list, rankdir: str = "LR") -> str:
    lines = ["digraph tinygrad_edu {", f"  rankdir={rankdir};",
             '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=10];',
             '  edge [fontsize=8, color="#666666"];']
    for n in nodes:
        extra = "" if n["shape"] == "box" else f", shape={n['shape']}"
        fill = _COLORS["current"] if n["current"] else n["fill"]
        if n["current"]:
            extra += ', color="#cc0000", penwidth=2.5'
        lines.append(f"  {n['id']} [label={_quote(n['label'])}, fillcolor={_quote(fill)}{extra}];")
    for e in edges:
        attrs = [f'label="{e["label"]}"'] if e["label"] else []
        if e["flow"]:
            attrs += [f'color="{_COLORS["flow"]}"', "penwidth=2.5"]
        lines.append(f"  {e['src']} -> {e['dst']}" + (f" [{', '.join(attrs)}]" if attrs else "")
                     + ";")
    return "\n".join(lines + ["}"]) + "\n"


def to_dot(tensor: Tensor, names: Mapping | None = None, gradients=None,
           max_values: int = MAX_VALUES, highlight: Tensor | None = None,
           op_nodes: bool = False) -> str:
    """The graph of `tensor` as DOT text (no dependency needed).

    names: name → tensor (e.g. `locals()`), else tensors are t0, t1, … in forward order
        (Parameters of a Module: their module path).
    gradients: a BackwardTrace (from explain) to label every box with its ∂L/∂t; without it,
        boxes show `.grad` where a tensor has one (leaves, retain_grad).
    highlight, op_nodes: see `graph_model`.
    """
    return _model_to_dot(*graph_model(tensor, names, gradients, max_values, highlight, op_nodes))


class Graph(str):
    """The DOT text of a graph (it *is* that string) that Jupyter shows as a picture.

    `picture_dot` is the DOT of the picture (an oval node per op); `to_svg()` draws it.
    """

    def __new__(cls, tensor: Tensor, names=None, gradients=None, max_values: int = MAX_VALUES,
                highlight: Tensor | None = None):
        self = super().__new__(cls, to_dot(tensor, names, gradients, max_values, highlight))
        self.model = graph_model(tensor, names, gradients, max_values, highlight, op_nodes=True)
        self.picture_dot = _model_to_dot(*self.model, "TB" if _vertical(self.model[0]) else "LR")
        self._svg = None
        return self

    def to_svg(self, engine: str = "auto") -> str:
        """The picture as SVG text. engine: "graphviz", "matplotlib" (networkx layout) or
        "auto" (Graphviz when it is installed, else matplotlib)."""
        if engine not in ("auto", "graphviz", "matplotlib"):
            raise ValueError(f"engine must be 'auto', 'graphviz' or 'matplotlib', got {engine!r}")
        if len(self.model[0]) > MAX_PICTURE_NODES:
            return _message_svg(f"{len(self.model[0])} nodes: too many to draw inline; "
                                "draw_graph(t, format='svg', path=...) writes the picture")
        if engine in ("auto", "graphviz"):
            try:
                return _render(self.picture_dot, "svg").decode("utf-8")
            except RuntimeError:
                if engine == "graphviz":
                    raise
        from .draw_matplotlib import model_to_svg  # networkx + matplotlib, imported on demand
        return model_to_svg(*self.model, vertical=_vertical(self.model[0]))

    def _repr_svg_(self):
        """Jupyter's hook: the picture (Graphviz, else networkx + matplotlib)."""
        if self._svg is None:
            try:
                self._svg = self.to_svg()
            except ImportError:
                return None  # neither Graphviz nor networkx + matplotlib: the DOT text shows
        return self._svg


def _message_svg(text: str) -> str:
    from html import escape
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{7 * len(text) + 20}" height="30">'
            f'<text x="10" y="20" font-family="Helvetica" font-size="12">{escape(text)}</text>'
            "</svg>")


def _render(dot: str, format: str) -> bytes:
    try:
        import graphviz  # optional: only needed for pictures
    except ImportError:
        raise RuntimeError(
            "draw_graph: rendering to {0} needs the 'graphviz' Python package and the Graphviz "
            "'dot' program: pip install graphviz, and apt install graphviz (Linux) or brew "
            "install graphviz (macOS). draw_graph(tensor) without format= returns the DOT text, "
            "which needs neither.".format(format)) from None
    try:
        return graphviz.Source(dot).pipe(format=format)
    except graphviz.ExecutableNotFound:
        raise RuntimeError(
            "draw_graph: the Graphviz 'dot' program was not found on PATH (the Python package "
            "is installed, the program is not): apt install graphviz (Linux) or brew install "
            "graphviz (macOS)") from None


def draw_graph(tensor: Tensor, format: str | None = None, path: str | None = None,
               names: Mapping | None = None, gradients=None, max_values: int = MAX_VALUES,
               highlight: Tensor | None = None):
    """Draw the graph of `tensor`.

    format=None: returns a `Graph`, the DOT text that Jupyter shows as a picture (and writes
        the text to `path` if given).
    format="svg"/"png"/"pdf": renders the picture with Graphviz (the `graphviz` Python package
        and the `dot` program must be installed); writes to `path` and returns the path, or
        returns the rendered bytes when no path is given.
    names, gradients, max_values, highlight: see `to_dot`.
    """
    graph = Graph(tensor, names, gradients, max_values, highlight)
    if format is None:
        if path is not None:
            with open(path, "w", encoding="utf-8") as f:
                f.write(graph)
        return graph
    if format not in ("svg", "png", "pdf"):
        raise ValueError(f"draw_graph: format must be None, 'svg', 'png' or 'pdf', got {format!r}")
    picture = _render(graph.picture_dot, format)
    if path is None:
        return picture
    with open(path, "wb") as f:
        f.write(picture)
    return path
