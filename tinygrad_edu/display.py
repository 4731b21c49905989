"""How the teaching tools show a graph: every tensor with a name, every array readable.

Shared by explain (the step-by-step trace), gradient_table and draw_graph. Tensors are named
by the names you give (`names=locals()`), else Parameters of a Module after their module path
(`0.weight`, `fc1.bias`, as `model.named_parameters()` says), else `t0, t1, …` in the order the
forward pass made them.
"""

from __future__ import annotations

import gc
import html
import re
from typing import Any, Mapping

import numpy as np

from .engine import Node, topological_order

__all__ = ["MAX_VALUES", "format_value", "html_value", "graph_nodes", "tensor_names",
           "parameter_names"]

MAX_VALUES = 40  # tensors with at most this many elements are shown in full (a 4×5 matrix is)


def format_value(array, max_values: int = MAX_VALUES, multiline: bool = False) -> str:
    """Small arrays in full (4 significant digits), big ones as shape, mean and norm.

    multiline=True prints a matrix one row per line (as numpy does) instead of on one line.

    >>> format_value(np.array([1.0, 2.5]))
    '[1. , 2.5]'
    >>> format_value(np.ones((10, 10)))
    'shape (10, 10), mean 1, norm 10'
    >>> print(format_value(np.eye(2), multiline=True))
    [[1., 0.],
     [0., 1.]]
    """
    if array is None:
        return "—"
    array = np.asarray(array)
    if array.size <= max_values:
        if array.ndim == 0:
            return f"{array.item():.4g}"
        with np.printoptions(precision=4, suppress=True):
            text = np.array2string(array, separator=", ", max_line_width=10_000)
        if multiline:
            return text
        return re.sub(r"\s*\n\s*", " ", text)  # one line: nested rows as "[[1, 2], [3, 4]]"
    values = array.astype(np.float64)
    return (f"shape {array.shape}, mean {values.mean():.4g}, "
            f"norm {np.sqrt(np.sum(values * values)):.4g}")


def html_value(array, max_values: int = MAX_VALUES) -> str:
    """format_value for an HTML table cell: matrices row by row in a <pre>, escaped."""
    text = format_value(array, max_values, multiline=True)
    if "\n" in text:
        return f"<pre style='margin:0'>{html.escape(text)}</pre>"
    return f"<code>{html.escape(text)}</code>"


def graph_nodes(root) -> list:
    """All tensors the graph of `root` was built from (constants too), each after its inputs,
    inputs visited in argument order (so `a * b` numbers a before b)."""
    return topological_order(root, constants=True)


def parameter_names(nodes) -> dict:
    """id(Parameter) → its path in the Module that holds it (`0.weight`, `conv1.bias`), for the
    Parameters among `nodes`. The Modules are found among the live objects (gc), so no names
    need to be passed; a Module inside another is named from the outermost one."""
    from .nn.module import Module, Parameter  # the teaching tools sit above nn

    wanted = {id(t) for t in nodes if isinstance(t, Parameter)}
    if not wanted:
        return {}
    modules = [o for o in gc.get_objects() if issubclass(type(o), Module)]
    children = {id(child) for m in modules for child in m.__dict__.get("_modules", {}).values()}
    found = {}
    for root in modules:
        if id(root) in children:
            continue  # named from its outermost Module
        for name, p in root.named_parameters():
            if id(p) in wanted and id(p) not in found:
                found[id(p)] = name
        if len(found) == len(wanted):
            break
    return found


def tensor_names(root, names: Mapping[str, Any] | None = None, root_name: str | None = None,
                 ) -> dict:
    """id(tensor) → name: the names given (e.g. `locals()`; non-tensors are ignored), else a
    Parameter's module path, else t0, t1, … in forward order. root_name: what to call `root`
    when no name was given for it (explain calls it L)."""
    given = {}
    for name, value in (names or {}).items():
        if isinstance(value, Node) and not name.startswith("_") and id(value) not in given:
            given[id(value)] = name
    nodes = graph_nodes(root)
    for key, name in parameter_names([t for t in nodes if id(t) not in given]).items():
        given.setdefault(key, name)
    taken = set(given.values())
    if root_name is not None and id(root) not in given and root_name not in taken:
        given[id(root)] = root_name
        taken.add(root_name)
    return {id(t): given.get(id(t), f"t{i}" if f"t{i}" not in taken else f"t{i}'")
            for i, t in enumerate(nodes)}
