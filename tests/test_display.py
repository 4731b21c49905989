"""The teaching tools in Jupyter: draw_graph's picture, the HTML tables of explain and
gradient_table, and the step-through of explain(loss, interactive=True)."""

import shutil
import sys

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import draw as draw_module
from tinygrad_edu import explain_widget
from tinygrad_edu.draw import MAX_PICTURE_NODES, Graph, draw_graph, to_dot
from tinygrad_edu.explain import BackwardTrace, explain, format_footer
from tinygrad_edu.explain_widget import BackwardStepper
from tinygrad_edu.gradient_table import GradientTable, format_gradient_table, gradient_table
from tinygrad_edu.tensor import Tensor


def known():
    """f = (a·b + c)² at a=2, b=3, c=1: f = 49, ∂f/∂a = 42, ∂f/∂b = 28, ∂f/∂c = 14."""
    a = Tensor(np.array(2.0), requires_grad=True)
    b = Tensor(np.array(3.0), requires_grad=True)
    c = Tensor(np.array(1.0), requires_grad=True)
    ab = a * b
    e = ab + c
    f = e ** 2
    return {"a": a, "b": b, "c": c, "ab": ab, "e": e, "f": f}


def has_graphviz() -> bool:
    try:
        import graphviz  # noqa: F401
    except ImportError:
        return False
    return shutil.which("dot") is not None


# ---------------------------------------------------------------------------------------------
# draw_graph's result
# ---------------------------------------------------------------------------------------------
def test_graph_is_the_dot_text_and_has_a_picture_with_op_nodes():
    t = known()
    graph = draw_graph(t["f"], names=t)
    assert isinstance(graph, Graph) and isinstance(graph, str)
    assert str(graph) == to_dot(t["f"], names=t) and type(str(graph)) is str
    assert graph.startswith("digraph")
    # the picture: an oval per op between its inputs and its result, leaves marked
    pic = graph.picture_dot
    assert pic.count("shape=ellipse") == 3 and 'label="MulFn"' in pic
    assert "a  (leaf)" in pic and "ab -> e__op" in pic and "e__op -> e" in pic
    assert "value 49" in pic


def test_picture_shows_values_and_gradients_big_arrays_summarised():
    W = Tensor(np.ones((10, 10)), requires_grad=True)
    L = (W * 3).sum()
    L.backward(retain_graph=True)
    pic = draw_graph(L).picture_dot
    assert "value mean 1, norm 10" in pic and "grad mean 3, norm 30" in pic
    assert "grad " not in draw_graph(L)  # the DOT text keeps showing small tensors only


@pytest.mark.skipif(not has_graphviz(), reason="Graphviz (package and dot) not installed")
def test_repr_svg_with_graphviz():
    t = known()
    svg = draw_graph(t["f"], names=t)._repr_svg_()
    assert "<svg" in svg and "MulFn" in svg and "(leaf)" in svg


def test_repr_svg_falls_back_to_networkx_and_matplotlib(monkeypatch):
    pytest.importorskip("networkx")
    pytest.importorskip("matplotlib")
    t = known()
    monkeypatch.setitem(sys.modules, "graphviz", None)  # as if Graphviz were not installed
    svg = draw_graph(t["f"], names=t)._repr_svg_()
    assert "<svg" in svg and "MulFn" in svg
    with pytest.raises(RuntimeError, match="graphviz"):
        draw_graph(t["f"]).to_svg("graphviz")
    with pytest.raises(ValueError, match="engine"):
        draw_graph(t["f"]).to_svg("dot")


def test_repr_svg_without_any_renderer_leaves_the_dot_text(monkeypatch):
    t = known()
    for name in ("graphviz", "networkx"):
        monkeypatch.setitem(sys.modules, name, None)
    graph = draw_graph(t["f"], names=t)
    assert graph._repr_svg_() is None  # Jupyter then shows the text (the DOT)
    assert repr(graph).startswith("'digraph")


def test_big_graph_picture_is_a_note_not_a_hang():
    x = Tensor(np.array([1.0]), requires_grad=True)
    y = x
    for _ in range(MAX_PICTURE_NODES):
        y = y * 1.0
    svg = draw_graph(y)._repr_svg_()
    assert "too many to draw inline" in svg


def test_highlight_colours_the_current_op_and_its_edges():
    t = known()
    graph = draw_graph(t["f"], names=t, highlight=t["e"])
    current = [ln for ln in graph.picture_dot.splitlines() if "penwidth" in ln]
    # the AddFn oval and its three edges: ab → op, c → op, op → e
    assert len(current) == 4 and any('label="AddFn"' in ln for ln in current)
    assert sum("->" in ln for ln in current) == 3
    assert sum("penwidth" in ln for ln in graph.splitlines()) == 3  # the DOT text: e's box
    assert "penwidth" not in draw_graph(t["f"], names=t)


# ---------------------------------------------------------------------------------------------
# HTML tables
# ---------------------------------------------------------------------------------------------
def test_trace_renders_as_an_html_table_with_the_printed_numbers():
    t = known()
    trace = explain(t["f"], names=t, print_steps=False)
    html = trace._repr_html_()
    assert html.count("<tr>") == 1 + len(trace) + 3  # header, the steps, the three leaves
    assert "backward pass from <b>f</b>" in html and "∂f/∂a" in html
    text = str(trace)
    for number in ("42", "28", "14", "g·b"):
        assert number in html and number in text
    assert "MulFn" in html and "PowFn" in html and "AddFn" in html
    assert "gradients collected by the leaves" in html and "gradients collected" in format_footer(trace)


def test_gradient_table_result_prints_and_renders():
    x = Tensor([0.5, -1.0], requires_grad=True)
    rows = gradient_table(lambda x: (x.tanh() * x).sum(), [x], print_table=False)
    assert isinstance(rows, GradientTable) and isinstance(rows, list)
    assert str(rows) == format_gradient_table(rows)
    html = rows._repr_html_()
    assert html.count("<tr>") == len(rows) + 1 and html.count(">ok<") == len(rows)
    assert "TanhFn" in html and "0.8553" in html and "0.8553" in str(rows)


# ---------------------------------------------------------------------------------------------
# The step-through
# ---------------------------------------------------------------------------------------------
def two_layer():
    rng = np.random.default_rng(0)
    X = Tensor(rng.standard_normal((4, 3)))
    W1 = Tensor(rng.standard_normal((3, 5)), requires_grad=True)
    W2 = Tensor(rng.standard_normal((5, 2)), requires_grad=True)
    H = (X @ W1).relu()
    L = ((H @ W2) ** 2).mean()
    return L, {"X": X, "W1": W1, "W2": W2, "H": H, "L": L}


def test_stepper_moves_and_collects_gradients_step_by_step():
    L, names = two_layer()
    trace = explain(L, names=names, print_steps=False)
    s = BackwardStepper(L, trace)
    assert len(s) == len(trace) == 5 and s.position == 0 and s.step.op == "MeanFn"
    assert s.back().position == 0                       # clipped at both ends
    assert s.go(99).position == len(s) - 1
    s.go(0)
    seen = []
    for k in range(len(s)):
        s.go(k)
        seen.append(set(s.leaf_gradients()))
        so_far = s.gradients_so_far()
        assert so_far[id(L)] == 1.0
        assert id(s.current_tensor()) == trace._step_ids[k][0]
    assert seen[0] == set() and seen[-1] == {"W1", "W2"}  # W2 arrives before W1
    assert seen.index({"W2"}) < seen.index({"W1", "W2"})
    for name, grad in s.leaf_gradients().items():        # at the end: the full gradients
        np.testing.assert_allclose(grad, trace.gradients[name])
    L.backward()
    np.testing.assert_allclose(s.leaf_gradients()["W1"], names["W1"].grad)


def test_stepper_shows_the_current_step_in_the_picture_and_the_panel():
    L, names = two_layer()
    s = BackwardStepper(L, explain(L, names=names, print_steps=False))
    s.go([st.output for st in s.trace].index("H"))      # the ReLU step
    graph = s.graph()
    current = [ln for ln in graph.picture_dot.splitlines() if "penwidth" in ln]
    assert any('label="ReLUFn"' in ln for ln in current)
    assert "grad " in graph.picture_dot                   # gradients so far on the boxes
    panel = s.panel_html()
    assert "step 4 of 5: ReLUFn made H" in panel
    assert "incoming" in panel and "rule" in panel and "∂L/∂" in panel and "+=" in panel
    assert "g·[" in panel                                  # ReLU's mask, written out
    assert "leaves so far" in panel and "W2" in panel
    assert s.panel_text() == str(s.step)
    assert "step 4 of 5" in repr(s)


def test_stepper_needs_a_trace_from_explain():
    L, _ = two_layer()
    with pytest.raises(ValueError, match="trace recorded by explain"):
        BackwardStepper(L, BackwardTrace([object()]))


def test_interactive_outside_a_notebook_says_so_and_prints_the_trace(capsys):
    t = known()
    result = explain(t["f"], names=t, interactive=True)
    out = capsys.readouterr().out
    assert isinstance(result, BackwardTrace)
    assert "no step-through widget" in out and "outside a Jupyter notebook" in out
    assert "step 3" in out and "∂f/∂a" in out
    explain(t["f"], names=t, interactive=True, print_steps=False)
    out = capsys.readouterr().out
    assert "no step-through widget" in out and "step 1" not in out


def test_interactive_without_ipywidgets_says_so(monkeypatch, capsys):
    t = known()
    monkeypatch.setattr(explain_widget, "in_notebook", lambda: True)
    monkeypatch.setitem(sys.modules, "ipywidgets", None)
    assert isinstance(explain(t["f"], interactive=True), BackwardTrace)
    assert "ipywidgets is not installed" in capsys.readouterr().out


def test_interactive_widget_in_a_notebook_steps_with_its_buttons(monkeypatch):
    pytest.importorskip("ipywidgets")
    pytest.importorskip("IPython")
    import IPython.display

    shown = []
    monkeypatch.setattr(explain_widget, "in_notebook", lambda: True)
    monkeypatch.setattr(IPython.display, "display", lambda *objs, **kw: shown.extend(objs))
    L, names = two_layer()
    stepper = explain(L, names=names, interactive=True)
    assert isinstance(stepper, BackwardStepper)
    widget = stepper.widget()
    assert shown == [widget]                               # explain showed it
    (back, slider, nxt), picture, panel = widget.children[0].children, *widget.children[1:]
    assert slider.value == 1 and slider.max == 5 and "step 1 of 5" in panel.value
    nxt.click()
    nxt.click()
    assert stepper.position == 2 and slider.value == 3 and "step 3 of 5" in panel.value
    back.click()
    assert stepper.position == 1 and "step 2 of 5" in panel.value
    slider.value = 5
    assert stepper.position == 4 and stepper.step.op == "MatMulFn"
    assert picture.value.lstrip().startswith(("<?xml", "<svg", "<pre"))
    stepper._ipython_display_()                            # outside a cell: shown again
    assert shown[-1] is widget


def test_explain_records_what_the_stepper_needs_without_keeping_tensors_alive():
    import gc
    import weakref

    L, names = two_layer()
    trace = explain(L, names=names, print_steps=False)
    assert len(trace._step_ids) == len(trace)
    ref = weakref.ref(L)
    del L, names
    gc.collect()
    assert ref() is None  # the trace holds ids and copies, not the graph
