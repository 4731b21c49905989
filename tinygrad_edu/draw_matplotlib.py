"""The graph picture without Graphviz: networkx sorts the graph into layers, matplotlib draws.

Used by `draw.Graph` when Graphviz is not installed (`pip install networkx matplotlib`). The
layers follow the forward pass from left to right, as Graphviz's `rankdir=LR` does: a node's
layer is one more than the deepest of its inputs.
"""

from __future__ import annotations

import io

__all__ = ["model_to_svg"]


def model_to_svg(nodes: list, edges: list, vertical: bool = False) -> str:
    """SVG text of a graph_model (nodes, edges): boxes for tensors, ovals for ops; the layers
    run left to right, or top to bottom with vertical=True."""
    try:
        import networkx as nx
        from matplotlib.figure import Figure
        from matplotlib.patches import FancyArrowPatch
    except ImportError as err:
        raise ImportError("drawing the graph without Graphviz needs networkx and matplotlib: "
                          "pip install networkx matplotlib") from err
    g = nx.MultiDiGraph()
    for n in nodes:
        g.add_node(n["id"])
    for e in edges:
        g.add_edge(e["src"], e["dst"])
    for layer, group in enumerate(nx.topological_generations(g)):
        for node in group:
            g.nodes[node]["layer"] = layer
    for node in nx.topological_sort(g):  # longest path from an input: a result sits after all
        for succ in g.successors(node):  # its inputs, not only after the nearest one
            g.nodes[succ]["layer"] = max(g.nodes[succ]["layer"], g.nodes[node]["layer"] + 1)
    for node in g:  # an input sits just before the first op that uses it, not far above
        if g.in_degree(node) == 0 and g.out_degree(node) > 0:
            g.nodes[node]["layer"] = min(g.nodes[s]["layer"] for s in g.successors(node)) - 1
    layers = 1 + max((g.nodes[n]["layer"] for n in g), default=0)
    columns = [[n["id"] for n in nodes if g.nodes[n["id"]]["layer"] == k] for k in range(layers)]
    tallest = max((len(c) for c in columns), default=1)
    pos = {node: (float(k), (len(column) - 1) / 2 - i)  # each layer a column, centred
           for k, column in enumerate(columns) for i, node in enumerate(column)}
    size = (1.55 * layers + 0.6, 0.95 * tallest + 0.5)
    limits = ((-0.6, layers - 0.4), (-tallest / 2 - 0.05, tallest / 2 + 0.05))
    if vertical:  # layers become rows, from the top down
        pos = {node: (-y * 1.7, -x) for node, (x, y) in pos.items()}
        size = (1.75 * tallest + 0.6, 0.85 * layers + 0.5)
        limits = ((-1.7 * tallest / 2 - 0.6, 1.7 * tallest / 2 + 0.6), (-layers + 0.55, 0.45))
    fig = Figure(figsize=size)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    ax.set_xlim(*limits[0])
    ax.set_ylim(*limits[1])
    texts = {}
    for n in nodes:
        x, y = pos[n["id"]]
        box = dict(boxstyle="round,pad=0.4" if n["shape"] == "box" else "circle,pad=0.3",
                   facecolor="#ffd966" if n["current"] else n["fill"],
                   edgecolor="#cc0000" if n["current"] else "#555555",
                   linewidth=2.5 if n["current"] else 0.8)
        texts[n["id"]] = ax.text(x, y, n["label"], ha="center", va="center", fontsize=7,
                                 family="DejaVu Sans", bbox=box, zorder=3)
    for e in edges:
        (x0, y0), (x1, y1) = pos[e["src"]], pos[e["dst"]]
        color = "#cc0000" if e["flow"] else "#666666"
        ax.add_patch(FancyArrowPatch((x0, y0), (x1, y1), arrowstyle="-|>", mutation_scale=10,
                                     color=color, linewidth=2.2 if e["flow"] else 0.9,
                                     patchA=texts[e["src"]].get_bbox_patch(),
                                     patchB=texts[e["dst"]].get_bbox_patch(), zorder=4))
        if e["label"]:
            ax.text((x0 + x1) / 2, (y0 + y1) / 2, e["label"], fontsize=6, color=color,
                    ha="center", va="bottom", zorder=4)
    out = io.StringIO()
    fig.savefig(out, format="svg", bbox_inches="tight")
    return out.getvalue()
