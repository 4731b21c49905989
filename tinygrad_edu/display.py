"""How the teaching tools show a graph: every tensor with a name, every array in one line.

Shared by explain (the step-by-step trace), gradient_table and draw_graph. Tensors are named
`t0, t1, …` in the order the forward pass made them, or by the names you give (`names=locals()`);
Parameters of a Module can be named after their module path with
`names=dict(model.named_parameters())`.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

import numpy as np

from .engine import Node, topological_order

__all__ = ["MAX_VALUES", "format_value", "graph_nodes", "tensor_names"]

MAX_VALUES = 12  # tensors with at most this many elements are shown in full


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


def graph_nodes(root) -> list:
    """All tensors the graph of `root` was built from (constants too), each after its inputs,
    inputs visited in argument order (so `a * b` numbers a before b)."""
    return topological_order(root, constants=True)


def tensor_names(root, names: Mapping[str, Any] | None = None) -> dict:
    """id(tensor) → name: the names given (e.g. `locals()`; non-tensors are ignored), else
    t0, t1, … in forward order."""
    given = {}
    for name, value in (names or {}).items():
        if isinstance(value, Node) and not name.startswith("_") and id(value) not in given:
            given[id(value)] = name
    taken = set(given.values())
    return {id(t): given.get(id(t), f"t{i}" if f"t{i}" not in taken else f"t{i}'")
            for i, t in enumerate(graph_nodes(root))}
