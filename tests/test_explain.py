"""explain (and trace_backward), gradient_table, draw_graph and anomaly mode."""

import re
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_edu import _state
from tinygrad_edu.draw import draw_graph, to_dot
from tinygrad_edu.display import format_value
from tinygrad_edu.explain import BackwardStep, explain, trace_backward
from tinygrad_edu.gradient_table import gradient_table
from tinygrad_edu.function import Function
from tinygrad_edu.gradcheck import gradcheck
from tinygrad_edu.grad_mode import detect_anomaly
from tinygrad_edu.tensor import Tensor


def abc(dtype=np.float64):
    a = Tensor(np.array(2.0, dtype=dtype), requires_grad=True)
    b = Tensor(np.array(3.0, dtype=dtype), requires_grad=True)
    c = Tensor(np.array(1.0, dtype=dtype), requires_grad=True)
    return a, b, c


def known_expression():
    """L = (a·b + c)² at a=2, b=3, c=1: L = 49, ∂L/∂a = 2·7·3 = 42, ∂L/∂b = 28, ∂L/∂c = 14."""
    a, b, c = abc()
    ab = a * b
    e = ab + c
    L = e ** 2
    return a, b, c, ab, e, L


# ---------------------------------------------------------------------------------------------
# The trace of a known expression
# ---------------------------------------------------------------------------------------------
def test_trace_of_known_expression_steps_order_and_numbers(capsys):
    a, b, c, ab, e, L = known_expression()
    steps = explain(L, names={"a": a, "b": b, "c": c, "ab": ab, "e": e, "L": L})
    assert [s.op for s in steps] == ["PowFn", "AddFn", "MulFn"]
    assert [s.step for s in steps] == [1, 2, 3]
    assert [s.output for s in steps] == ["L", "e", "ab"]
    assert [float(s.grad_output) for s in steps] == [1.0, 14.0, 14.0]
    pow_step, add_step, mul_step = steps
    assert [p.name for p in pow_step.parents] == ["e"]
    assert float(pow_step.parents[0].grad) == 14.0           # 2·e = 2·7
    assert [(p.name, float(p.grad)) for p in add_step.parents] == [("ab", 14.0), ("c", 14.0)]
    assert [(p.name, float(p.grad)) for p in mul_step.parents] == [("a", 42.0), ("b", 28.0)]
    assert [p.is_leaf for p in mul_step.parents] == [True, True]
    assert "∂(a·b)/∂a = b" in mul_step.rule
    assert "∂L/∂a = g · b" in mul_step.formula
    assert mul_step.output_shape == () and mul_step.input_shapes == [(), ()]
    printed = capsys.readouterr().out
    assert printed.index("step 1") < printed.index("step 2") < printed.index("step 3")
    assert "MulFn" in printed and "∂L/∂a" in printed and "42" in printed
    assert steps.gradients["a"] == 42.0 and steps.gradients["c"] == 14.0


def test_explain_leaves_grads_alone_and_keeps_graph():
    a, b, c, _ab, _e, L = known_expression()
    explain(L, print_steps=False)
    assert a.grad is None and b.grad is None and c.grad is None
    L.backward()  # the graph survived explain
    assert (float(a.grad), float(b.grad), float(c.grad)) == (42.0, 28.0, 14.0)
    explain(L, print_steps=False)  # grads still untouched, not doubled
    assert float(a.grad) == 42.0


def test_explain_accumulate_true_fills_grads():
    a, b, c, _ab, _e, L = known_expression()
    explain(L, print_steps=False, accumulate=True)
    assert (float(a.grad), float(b.grad), float(c.grad)) == (42.0, 28.0, 14.0)


def test_explain_as_backward_returns_records_sets_grads_and_frees(capsys):
    a, b, c, _ab, _e, L = known_expression()
    steps = explain(L, accumulate=True, retain_graph=False)
    assert [s.op for s in steps] == ["PowFn", "AddFn", "MulFn"]
    assert all(isinstance(s, BackwardStep) for s in steps)
    assert (float(a.grad), float(b.grad), float(c.grad)) == (42.0, 28.0, 14.0)
    out = capsys.readouterr().out
    assert "step 3" in out and "rule" in out
    # the graph is freed now, explain replays the recorded trace
    again = explain(L, print_steps=False)
    assert again is steps
    assert float(a.grad) == 42.0


def test_explain_after_plain_backward_says_graph_was_freed():
    *_, L = known_expression()
    L.backward()
    with pytest.raises(RuntimeError, match="freed"):
        explain(L, print_steps=False)


def test_trace_backward_with_seed_and_retain_graph():
    a = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = a * a
    steps = trace_backward(y, np.array([1.0, 10.0]), retain_graph=True, print_steps=False)
    np.testing.assert_allclose(a.grad, [2.0, 40.0])
    assert [p.grad.tolist() for p in steps[0].parents] == [[1.0, 20.0], [1.0, 20.0]]
    y.backward(np.array([1.0, 1.0]))  # retained
    np.testing.assert_allclose(a.grad, [4.0, 44.0])


def test_explain_errors():
    x = Tensor([1.0, 2.0])
    with pytest.raises(RuntimeError, match="does not require grad"):
        explain(x)
    with pytest.raises(TypeError, match="Tensor"):
        explain(np.ones(3))
    y = Tensor([1.0, 2.0], requires_grad=True) * 2
    with pytest.raises(RuntimeError, match=r"shape \(2,\)"):
        explain(y, print_steps=False)
    with pytest.raises(ValueError, match=r"\(3,\).*\(2,\)"):
        explain(y, gradient=np.ones(3), print_steps=False)
    steps = explain(y, gradient=np.ones(2), print_steps=False)
    assert steps[0].op == "MulFn"


def test_explain_of_a_leaf_has_no_steps():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    steps = explain(x, gradient=np.array([3.0, 4.0]), print_steps=False, names={"x": x})
    assert len(steps) == 0 and steps.gradients["x"].tolist() == [3.0, 4.0]
    assert "∂L/∂x = [3., 4.]" in str(steps) and x.grad is None


@pytest.mark.parametrize("module", ["elementwise", "activation", "reduce", "movement", "matmul"])
def test_every_op_documents_its_forward_backward_shapes_and_rule(module):
    import importlib
    mod = importlib.import_module(f"tinygrad_edu.ops.{module}")
    ops = [v for v in vars(mod).values()
           if isinstance(v, type) and issubclass(v, Function) and v is not Function]
    assert ops
    for op in ops:
        doc = op.__doc__ or ""
        assert doc.startswith("out"), op.__name__          # the forward formula comes first
        assert "∂L/∂" in doc or "g " in doc, op.__name__    # then the backward
        assert "Shapes:" in doc or "shape" in doc, op.__name__
        assert isinstance(op.rule, str) and op.rule, op.__name__


def test_to_dict_and_str():
    *_, L = known_expression()
    steps = explain(L, print_steps=False)
    record = steps[2].to_dict()
    assert record["op"] == "MulFn" and record["parents"][0]["grad"] == 42.0
    text = str(steps)
    assert text.startswith("backward pass from") and "gradients collected by the leaves" in text


# ---------------------------------------------------------------------------------------------
# Summaries of large tensors, broadcasting
# ---------------------------------------------------------------------------------------------
def test_large_tensors_are_summarised(capsys):
    x = Tensor(np.full((20, 30), 0.5), requires_grad=True)
    L = (x * 2).sum()
    steps = explain(L)
    out = capsys.readouterr().out
    assert "shape (20, 30), mean 2, norm" in out  # ∂L/∂x = 2 everywhere, ‖·‖ = 2·√600
    assert "norm 48.99" in out
    assert "[2., 2." not in out  # no dump of 600 numbers
    assert steps[1].parents[0].grad.shape == (20, 30)  # the record keeps the full array
    assert format_value(np.arange(3.0)) == "[0., 1., 2.]"
    assert format_value(np.float64(0.25)) == "0.25"
    assert format_value(np.ones((1, 1, 2, 2))) == "[[[[1., 1.], [1., 1.]]]]"  # one line


def test_broadcast_gradient_is_summed_to_parent_shape():
    x = Tensor(np.ones((4, 3)), requires_grad=True)
    bias = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    steps = explain((x + bias).sum(), print_steps=False)
    add = steps[1]
    assert add.op == "AddFn" and add.input_shapes == [(4, 3), (3,)]
    np.testing.assert_array_equal(add.parents[1].grad, [4.0, 4.0, 4.0])


def two_layer_network(dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    x = Tensor(rng.standard_normal((4, 3)).astype(dtype))
    y = Tensor(rng.standard_normal((4, 1)).astype(dtype))
    W1 = Tensor(rng.standard_normal((3, 5)).astype(dtype), requires_grad=True)
    b1 = Tensor(np.zeros(5, dtype=dtype), requires_grad=True)
    W2 = Tensor(rng.standard_normal((5, 1)).astype(dtype), requires_grad=True)
    b2 = Tensor(np.zeros(1, dtype=dtype), requires_grad=True)
    return x, y, [W1, b1, W2, b2]


def mlp_loss(x, y, W1, b1, W2, b2):
    h = (x @ W1 + b1).relu()
    pred = h @ W2 + b2
    return ((pred - y) ** 2).mean()


def test_two_layer_network_trace_matches_backward_and_torch():
    x, y, params = two_layer_network()
    loss = mlp_loss(x, y, *params)
    steps = explain(loss, print_steps=False, names={"W1": params[0], "b1": params[1],
                                                    "W2": params[2], "b2": params[3]})
    assert [s.op for s in steps] == ["MeanFn", "PowFn", "SubFn", "AddFn", "MatMulFn", "ReLUFn", "AddFn",
                                     "MatMulFn"]
    loss.backward()
    for name, p in zip(["W1", "b1", "W2", "b2"], params):
        np.testing.assert_allclose(steps.gradients[name], p.grad, rtol=1e-12)
    torch = pytest.importorskip("torch")
    tp = [torch.tensor(p.data, requires_grad=True) for p in params]
    tx, ty = torch.tensor(x.data), torch.tensor(y.data)
    tl = ((torch.relu(tx @ tp[0] + tp[1]) @ tp[2] + tp[3] - ty) ** 2).mean()
    tl.backward()
    for name, t in zip(["W1", "b1", "W2", "b2"], tp):
        np.testing.assert_allclose(steps.gradients[name], t.grad.numpy(), rtol=1e-10)


@settings(max_examples=25, deadline=None)
@given(rows=st.integers(1, 4), cols=st.integers(1, 4), op=st.sampled_from(
    ["mul", "div", "tanh", "sigmoid", "exp", "max", "softmax", "broadcast"]),
    seed=st.integers(0, 2**16))
def test_trace_agrees_with_backward_on_random_graphs(rows, cols, op, seed):
    rng = np.random.default_rng(seed)
    a = Tensor(rng.standard_normal((rows, cols)), requires_grad=True)
    b = Tensor(rng.uniform(0.5, 2.0, (rows, cols)), requires_grad=True)
    v = Tensor(rng.standard_normal(cols), requires_grad=True)
    fns = {"mul": lambda: (a * b * a).sum(), "div": lambda: (a / b).mean(),
           "tanh": lambda: (a.tanh() * b).sum(), "sigmoid": lambda: (a.sigmoid() + b).sum(),
           "exp": lambda: (a * 0.1).exp().sum(), "max": lambda: a.amax(1).sum(),
           "softmax": lambda: (a.softmax(1) * b).sum(), "broadcast": lambda: (a * v + b).sum()}
    L = fns[op]()
    steps = explain(L, print_steps=False)
    L.backward()
    for t in (a, b, v):
        if t.grad is not None:
            assert steps.grad_of(t) is not None
            np.testing.assert_allclose(steps.grad_of(t), t.grad, rtol=1e-12, atol=1e-15)
    # each step's incoming gradient is what the steps above it handed down
    handed = {}
    for s in steps:
        if s.step > 1:
            np.testing.assert_allclose(s.grad_output, handed[s.output], rtol=1e-12)
        for p in s.parents:
            if p.grad is not None:
                handed[p.name] = handed.get(p.name, 0) + p.grad


# ---------------------------------------------------------------------------------------------
# The gradient table
# ---------------------------------------------------------------------------------------------
def test_gradient_table_known_expression(capsys):
    a, b, c = abc()
    rows = gradient_table(lambda a, b, c: (a * b + c) ** 2, [a, b, c],
                          names={"a": a, "b": b, "c": c})
    by_name = {r.name: r for r in rows}
    assert [r.name for r in rows] == ["a", "b", "t2", "c", "t4", "t5"]
    assert [r.op for r in rows] == ["input", "input", "MulFn", "input", "AddFn", "PowFn"]
    assert float(by_name["a"].analytic) == pytest.approx(42.0)
    assert float(by_name["t2"].analytic) == pytest.approx(14.0)  # ∂L/∂(ab) = 2(ab + c)
    assert float(by_name["t2"].numeric) == pytest.approx(14.0, rel=1e-6)
    assert all(r.ok and r.max_abs_diff < 1e-6 for r in rows)
    assert a.grad is None  # the caller's tensors are not touched
    assert "MISMATCH" not in capsys.readouterr().out


@settings(max_examples=10, deadline=None)
@given(n=st.integers(1, 3), k=st.integers(1, 3), m=st.integers(1, 3), seed=st.integers(0, 999))
def test_gradient_table_every_intermediate_of_an_mlp(n, k, m, seed):
    rng = np.random.default_rng(seed)
    x = Tensor(rng.standard_normal((n, k)))
    W = Tensor(rng.standard_normal((k, m)), requires_grad=True)
    bias = Tensor(rng.standard_normal(m), requires_grad=True)
    rows = gradient_table(lambda W, bias: (x @ W + bias).tanh().sum(dim=1).log_softmax(0),
                          [W, bias], print_table=False, seed=seed)
    assert [r.op for r in rows] == ["input", "MatMulFn", "input", "AddFn", "TanhFn", "SumFn",
                                    "LogSoftmaxFn"]
    assert all(r.ok for r in rows), [(r.name, r.max_abs_diff) for r in rows]
    assert all(r.checked == np.prod(r.shape, dtype=int) for r in rows)


class WrongSquare(Function):
    """out = x²; backward deliberately forgets the factor 2 (to see the table catch it)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * x


def test_gradient_table_finds_the_wrong_local_gradient():
    x = Tensor(np.array([1.0, -2.0]), requires_grad=True)
    rows = gradient_table(lambda x: (WrongSquare.apply(x.exp()) * 3).sum(), [x],
                          print_table=False)
    status = {r.op: r.ok for r in rows}
    # everything downstream of the bad op is right; its input's gradient is wrong
    assert status == {"input": False, "ExpFn": False, "WrongSquare": True, "MulFn": True,
                      "SumFn": True}
    exp_row = rows[1]
    np.testing.assert_allclose(exp_row.numeric, 2 * exp_row.analytic, rtol=1e-5)


def test_gradient_table_samples_big_tensors_and_restores_apply():
    x = Tensor(np.linspace(-1, 1, 100), requires_grad=True)
    original = Function.__dict__["apply"]
    rows = gradient_table(lambda x: (x * x).sum(), x, max_elements=10, print_table=False)
    assert Function.__dict__["apply"] is original
    assert rows[0].checked == 10 and rows[0].ok
    assert np.isnan(rows[0].numeric).sum() == 90


def test_gradient_table_errors():
    with pytest.raises(ValueError, match="requires_grad"):
        gradient_table(lambda x: x * 2, [Tensor([1.0])], print_table=False)
    with pytest.raises(TypeError, match="Tensor"):
        gradient_table(lambda x: 3.0, [Tensor([1.0], requires_grad=True)], print_table=False)
    original = Function.__dict__["apply"]
    with pytest.raises(ZeroDivisionError):
        gradient_table(lambda x: 1 / 0, [Tensor([1.0], requires_grad=True)])
    assert Function.__dict__["apply"] is original


def test_gradcheck_of_the_traced_expression():
    """The expression the trace explains really has the gradients the trace prints."""
    a, b, c = abc()
    assert gradcheck(lambda a, b, c: (a * b + c) ** 2, [a, b, c])


# ---------------------------------------------------------------------------------------------
# draw_graph
# ---------------------------------------------------------------------------------------------
def parse_dot(dot):
    nodes = set(re.findall(r"^\s*(\w+) \[label=", dot, re.M))
    edges = re.findall(r"^\s*(\w+) -> (\w+)", dot, re.M)
    return nodes, edges


def test_dot_has_every_node_and_edge_of_a_known_graph():
    a, b, c, ab, e, L = known_expression()
    dot = draw_graph(L, names={"a": a, "b": b, "c": c, "ab": ab, "e": e, "L": L})
    assert dot.startswith("digraph") and dot.rstrip().endswith("}")
    nodes, edges = parse_dot(dot)
    assert nodes == {"a", "b", "c", "ab", "e", "L"}
    assert sorted(edges) == sorted([("a", "ab"), ("b", "ab"), ("ab", "e"), ("c", "e"),
                                    ("e", "L")])
    assert "MulFn" in dot and "PowFn" in dot and "shape ()" in dot and "value 49" in dot


def test_dot_shows_gradients_constants_and_summaries():
    x, y, params = two_layer_network()
    loss = mlp_loss(x, y, *params)
    steps = explain(loss, print_steps=False)
    dot = to_dot(loss, gradients=steps)
    nodes, edges = parse_dot(dot)
    assert len(nodes) == 14  # x, y, 4 parameters, 8 op results
    assert len(edges) == 13  # one per tensor argument: 5 ops with two, 3 (ReLU, Pow, Mean) one
    assert "const" in dot and "input" in dot and "MatMulFn" in dot
    assert "grad " in dot  # ∂L/∂t on small nodes from the trace
    loss.backward()
    plain = to_dot(loss)
    assert plain.count("grad ") == 3  # .grad of the small leaves b1, W2 (5 elements) and b2


def test_dot_same_input_twice_and_quoting():
    a = Tensor([1.0], requires_grad=True)
    dot = draw_graph((a * a).sum(), names={'a"b': a})
    nodes, _ = parse_dot(dot)
    assert nodes == {"n0", "t1", "t2"}  # a name that is not a word is shown, not used as id
    assert 'label="a\\"b: input' in dot
    nodes, edges = parse_dot(draw_graph((a * a).sum(), names={"a": a}))
    assert edges.count(("a", "t1")) == 2


def test_draw_graph_writes_dot_file(tmp_path):
    *_, L = known_expression()
    path = tmp_path / "g.dot"
    dot = draw_graph(L, path=str(path))
    assert path.read_text(encoding="utf-8") == dot


def test_draw_graph_render_needs_graphviz(monkeypatch):
    *_, L = known_expression()
    monkeypatch.setitem(sys.modules, "graphviz", None)  # import graphviz → ImportError
    with pytest.raises(RuntimeError, match="pip install graphviz"):
        draw_graph(L, format="svg")
    with pytest.raises(ValueError, match="format"):
        draw_graph(L, format="jpeg")
    with pytest.raises(TypeError, match="Tensor"):
        draw_graph([1, 2])


class FakeGraphviz:
    """Stands in for the graphviz package: records the DOT it was given."""

    class ExecutableNotFound(RuntimeError):
        pass

    def __init__(self, has_dot=True):
        self.has_dot, self.sources = has_dot, []

    def Source(self, dot):  # noqa: N802 - the package's name
        fake = self

        class _Source:
            def pipe(self, format):
                if not fake.has_dot:
                    raise FakeGraphviz.ExecutableNotFound("dot")
                fake.sources.append(dot)
                return b"<svg>" + format.encode() + b"</svg>"
        return _Source()


def test_draw_graph_render_path_with_a_stand_in_graphviz(monkeypatch, tmp_path):
    *_, L = known_expression()
    fake = FakeGraphviz()
    monkeypatch.setitem(sys.modules, "graphviz", fake)
    assert draw_graph(L, format="svg") == b"<svg>svg</svg>"
    assert fake.sources == [draw_graph(L).picture_dot]  # the picture: a node per op too
    path = tmp_path / "g.png"
    assert draw_graph(L, format="png", path=str(path)) == str(path)
    assert path.read_bytes() == b"<svg>png</svg>"
    monkeypatch.setitem(sys.modules, "graphviz", FakeGraphviz(has_dot=False))
    with pytest.raises(RuntimeError, match="'dot' program was not found"):
        draw_graph(L, format="svg")


def test_draw_graph_renders_svg_when_graphviz_is_installed(tmp_path):
    pytest.importorskip("graphviz")
    import shutil
    if shutil.which("dot") is None:
        pytest.skip("the Graphviz 'dot' program is not installed")
    *_, L = known_expression()
    out = draw_graph(L, format="svg", path=str(tmp_path / "g.svg"))
    assert (tmp_path / "g.svg").read_text().lstrip().startswith(("<?xml", "<svg"))
    assert out == str(tmp_path / "g.svg")


# ---------------------------------------------------------------------------------------------
# Anomaly mode
# ---------------------------------------------------------------------------------------------
def test_anomaly_mode_names_log_for_a_planted_log_of_zero():
    x = Tensor(np.array([1.0, 0.0, 2.0]), requires_grad=True)
    with np.errstate(divide="ignore"):
        L = x.log().sum()  # log(0) = −inf is allowed in the forward; backward: g / 0
        with detect_anomaly():
            with pytest.raises(FloatingPointError) as info:
                L.backward()
    message = str(info.value)
    assert "backward of Log" in message
    assert "first at index (1,)" in message and "zero" in message
    assert not _state.anomaly_enabled()


def test_without_anomaly_mode_the_nan_passes_silently():
    x = Tensor(np.array([1.0, 0.0]), requires_grad=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        x.log().sum().backward()
    assert np.isinf(x.grad[1])


def test_anomaly_mode_names_the_first_op_not_a_later_one():
    x = Tensor(np.array([4.0, 0.0]), requires_grad=True)
    with np.errstate(divide="ignore", invalid="ignore"), detect_anomaly():
        L = (x.sqrt() * 2).exp().sum()  # Exp, Mul are fine; Sqrt's backward divides by 0
        with pytest.raises(FloatingPointError, match="backward of Sqrt"):
            L.backward()


# ---------------------------------------------------------------------------------------------
# explain for matrices and convolutions: forward values, max_values, names, worked sums
# ---------------------------------------------------------------------------------------------
def test_header_and_steps_name_the_function_differentiated(capsys):
    a, b, c = abc()
    f = a * b + c
    explain(f, names={"a": a, "b": b, "c": c, "f": f})
    out = capsys.readouterr().out
    assert out.startswith("backward pass from f, starting with ∂f/∂f = 1")
    assert "∂f/∂a" in out and "∂L/" not in out.replace("formula", "").split("rule")[0]
    steps = explain(a * b, print_steps=False)             # unnamed: it is L
    assert steps.root_name == "L" and str(steps).startswith("backward pass from L, starting with ∂L/∂L")
    y = a * Tensor(np.array([1.0, 2.0]))                   # a given gradient: L = Σ y·gradient
    text = str(explain(y, gradient=np.ones(2), names={"y": y}, print_steps=False))
    assert text.startswith("backward pass from y, starting with ∂L/∂y = [1., 1.]")


def test_steps_show_the_forward_values_the_rule_uses(capsys):
    a, b, c = abc()
    s = a.sigmoid() * b
    explain(s, names={"a": a, "b": b, "s": s})
    out = capsys.readouterr().out
    assert "values    t1 = 0.8808,  b = 3" in out                  # σ(2) and b, for g·b
    assert "∂s/∂b  += g·t1 = 1·0.8808 = 0.8808" in out
    assert "∂s/∂t1 += g·b = 1·3 = 3" in out
    # sigmoid's rule is written with its result: that value is shown too
    assert "values    a = 2,  t1 = 0.8808" in out
    assert "∂s/∂a  += g·t1·(1 − t1) = 3·0.8808·(1 − 0.8808) = 0.315" in out


def test_max_values_prints_whole_matrices_row_by_row(capsys):
    x, y, params = two_layer_network()
    loss = mlp_loss(x, y, *params)
    steps = explain(loss, names={"W1": params[0], "x": x})
    out = capsys.readouterr().out
    rows = [ln for ln in out.splitlines() if ln.strip().startswith("[") and "]" in ln]
    assert rows, "matrix rows continue on their own lines"
    assert "∂L/∂W1 = [[" in out and "mean" not in out.split("∂L/∂W1 =")[-1].split("\n")[0]
    w1 = steps.gradients["W1"]
    assert f"{w1[0, 0]:.4f}".rstrip("0")[:5] in out           # the 3×5 ∂W1 is printed in full
    explain(loss, names={"W1": params[0]}, max_values=4)
    short = capsys.readouterr().out
    assert "shape (3, 5), mean" in short                       # summarised when asked
    assert str(steps).count("\n") > 40 and steps.max_values == 40


def test_parameters_are_named_after_their_module_path(capsys):
    from tinygrad_edu import nn
    import tinygrad_edu.nn.functional as F

    net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    x = Tensor(np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32))
    loss = F.cross_entropy(net(x), Tensor(np.array([0, 1, 1, 0, 1])))
    steps = explain(loss, names={"x": x})
    names = {p.name for s in steps for p in s.parents}
    assert {"0.weight", "0.bias", "2.weight", "2.bias", "x"} <= names
    assert set(steps.leaf_gradients()) == {"0.weight", "0.bias", "2.weight", "2.bias"}
    out = capsys.readouterr().out
    assert "LinearFn(t5, 2.weight, 2.bias)" in out or "LinearFn(t4, 2.weight, 2.bias)" in out
    assert "∂L/∂2.weight += gᵀ·" in out
    # the rules as the slides write them: Linear in clean symbols, cross-entropy with its 1/N
    linear = next(s for s in steps if s.op == "LinearFn")
    assert "∂L/∂x = g·W" in linear.rule and "∂L/∂W = gᵀ·x" in linear.rule
    ce = next(s for s in steps if s.op == "CrossEntropyFn")
    assert "/ N" in ce.rule and "softmax" in ce.rule
    names = {"first": net[0].weight}                           # given names win
    assert "first" in {p.name for s in explain(loss, names=names, print_steps=False)
                       for p in s.parents}


def test_conv_step_writes_out_every_dW_sum_with_numbers():
    import tinygrad_edu.nn.functional as F

    X = Tensor(np.arange(1.0, 10.0).reshape(1, 1, 3, 3), requires_grad=True)
    W = Tensor(np.array([[[[1.0, 2.0], [3.0, 4.0]]]]), requires_grad=True)
    b = Tensor(np.array([0.5]), requires_grad=True)
    h = F.conv2d(X, W, b)
    dh = np.array([[[[1.0, -1.0], [2.0, 0.5]]]])
    step = explain(h, gradient=dh, names={"X": X, "W": W, "b": b, "h": h}, print_steps=False)[0]
    lines = step.details
    assert lines[0] == ("∂W11 = X11·∂h11 + X12·∂h12 + X21·∂h21 + X22·∂h22 = "
                        "1·1 + 2·(-1) + 4·2 + 5·0.5 = 9.5")
    assert lines[3].startswith("∂W22 = X22·∂h11 + X23·∂h12 + X32·∂h21 + X33·∂h22") and \
        lines[3].endswith("= 19.5")
    assert lines[4] == "∂b1 = ∂h11 + ∂h12 + ∂h21 + ∂h22 = 1 + (-1) + 2 + 0.5 = 2.5"
    assert lines[5] == "∂X11 = W11·∂h11 = 1·1 = 1"
    assert any(ln.startswith("∂X22 = W22·∂h11 + W21·∂h12 + W12·∂h21 + W11·∂h22") for ln in lines)
    # every written-out sum evaluates to the engine's number
    for line in lines:
        numbers = line.split(" = ")[-2].replace("(", "").replace(")", "")
        total = sum(float(p.split("·")[0]) * float(p.split("·")[1]) if "·" in p else float(p)
                    for p in numbers.split(" + "))
        assert total == pytest.approx(float(line.split(" = ")[-1]))
    assert "worked out, entry by entry" in str(step)


def test_conv_sums_with_channels_stride_padding_use_index_notation():
    import tinygrad_edu.nn.functional as F

    rng = np.random.default_rng(1)
    X = Tensor(rng.standard_normal((1, 2, 3, 3)), requires_grad=True)
    W = Tensor(rng.standard_normal((2, 2, 2, 2)), requires_grad=True)
    h = F.conv2d(X, W, stride=2, padding=1)
    step = explain(h, gradient=rng.standard_normal(h.shape), names={"X": X, "W": W, "h": h},
                   print_steps=False)[0]
    dW = [ln for ln in step.details if ln.startswith("∂W[")]
    assert len(dW) == W.data.size and dW[0].startswith("∂W[0,0,0,0] = X[0,0,")
    for line, value in zip(dW, step.parents[1].grad.ravel()):
        assert line.endswith(f"= {format_value(np.float64(value))}")
    big = Tensor(rng.standard_normal((2, 3, 12, 12)), requires_grad=True)
    k = Tensor(rng.standard_normal((4, 3, 3, 3)), requires_grad=True)
    out = F.conv2d(big, k)
    assert explain(out, gradient=np.ones(out.shape), print_steps=False)[0].details == []


def test_max_pool_step_says_where_each_gradient_goes():
    import tinygrad_edu.nn.functional as F

    X = Tensor(np.array([[[[1.0, 4, 2, 0], [3, 5, 1, 1], [0, 2, 6, 1], [1, 1, 2, 3]]]]),
               requires_grad=True)
    h = F.max_pool2d(X, 2)
    step = explain(h, gradient=np.array([[[[0.1, 0.2], [0.3, 0.4]]]]),
                   names={"X": X, "h": h}, print_steps=False)[0]
    assert step.details[:4] == ["∂h11 = 0.1 → X22 (= 5, the maximum of its window)",
                                "∂h12 = 0.2 → X13 (= 2, the maximum of its window)",
                                "∂h21 = 0.3 → X32 (= 2, the maximum of its window)",
                                "∂h22 = 0.4 → X33 (= 6, the maximum of its window)"]
    assert "every other entry of ∂X is 0" in step.details[-1]
    # overlapping windows (stride 1) that share a maximum add their gradients there
    Y = Tensor(np.array([[[[1.0, 2, 1], [2, 9, 2], [1, 2, 1]]]]), requires_grad=True)
    p = F.max_pool2d(Y, 2, stride=1)
    step = explain(p, gradient=np.ones((1, 1, 2, 2)), names={"Y": Y, "p": p},
                   print_steps=False)[0]
    assert "∂Y22 = ∂p11 + ∂p12 + ∂p21 + ∂p22 = 4 (windows share this maximum)" in step.details
