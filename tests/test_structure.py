"""The package's shape: imports only point down, every op is in the op index, one name per op.

A student follows an op from its public name to its Function, compiled kernel, reference loop
and tests (see tinygrad_edu/ops/__init__.py); these tests keep that map true.
"""

import ast
import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import numpy as np
import pytest

import tinygrad_edu as tg
import tinygrad_edu.nn as nn
import tinygrad_edu.nn.functional as F
from tinygrad_edu import ops
from tinygrad_edu.function import Function

PACKAGE = Path(tg.__file__).parent
ROOT = PACKAGE.parent
TESTS = Path(__file__).parent


# ---------------------------------------------------------------------------------------------
# The import graph
# ---------------------------------------------------------------------------------------------
def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_module(name: str) -> bool:
    relative = Path(*name.split("."))
    return (ROOT / relative).with_suffix(".py").exists() or (ROOT / relative / "__init__.py").exists()


def _imports_of(path: Path) -> set:
    """Every tinygrad_edu module that `path` imports (at module level or inside functions)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("tinygrad_edu")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("tinygrad_edu"):
                continue
            for alias in node.names:  # `from . import x` imports the module x when there is one
                sub = f"{target}.{alias.name}"
                found.add(sub if _is_module(sub) else target)
    found.discard(name)
    return {m for m in found if _is_module(m)}


def import_graph() -> dict:
    return {_module_name(p): _imports_of(p) for p in PACKAGE.rglob("*.py")}


def test_the_package_has_no_import_cycle():
    graph = import_graph()
    state, cycles = {}, []

    def visit(module, path):
        state[module] = "open"
        for target in sorted(graph.get(module, ())):
            if state.get(target) == "open":
                cycles.append(path[path.index(target):] + [target] if target in path else [module, target])
            elif target not in state:
                visit(target, path + [target])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert not cycles, "import cycles: " + "; ".join(" → ".join(c) for c in cycles)


def test_ops_never_import_upward():
    """ops/ (and the engine below it) know nothing of Tensor, nn or the teaching tools."""
    upper = ("tinygrad_edu.tensor", "tinygrad_edu.tensor_shape", "tinygrad_edu.nn",
             "tinygrad_edu.explain", "tinygrad_edu.optim", "tinygrad_edu.data")
    graph = import_graph()
    low = [m for m in graph if m.startswith("tinygrad_edu.ops") or m in (
        "tinygrad_edu.engine", "tinygrad_edu.function", "tinygrad_edu._state")]
    assert len(low) > 10
    bad = {m: sorted(t for t in graph[m] if t.startswith(upper)) for m in low}
    assert not {m: t for m, t in bad.items() if t}


def test_engine_knows_no_tensor_api():
    tree = ast.parse((PACKAGE / "engine.py").read_text(encoding="utf-8"))
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    attributes = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    assert "Tensor" not in names
    # what it reads of a node: the attributes of engine.Node, nothing of Tensor's methods
    tensor_api = {"item", "numpy", "detach", "_make", "requires_grad_", "retain_grad"}
    assert not attributes & tensor_api


# ---------------------------------------------------------------------------------------------
# The op index
# ---------------------------------------------------------------------------------------------
def all_functions() -> list:
    found = []
    for info in pkgutil.iter_modules(ops.__path__):
        module = importlib.import_module(f"tinygrad_edu.ops.{info.name}")
        found += [v for v in vars(module).values() if inspect.isclass(v)
                  and issubclass(v, Function) and v is not Function and v.__module__ == module.__name__]
    return found


def _resolve(package: str, dotted: str):
    module, _, attr = dotted.rpartition(".")
    return getattr(importlib.import_module(f"{package}.{module}"), attr)


def test_every_function_is_in_the_op_index_and_every_entry_exists():
    listed = {entry.function for entry in ops.INDEX}
    functions = {f"{f.__module__.rpartition('.')[2]}.{f.__name__}" for f in all_functions()}
    assert len(functions) >= 50
    assert functions - listed == set(), "Functions missing from ops.INDEX"
    assert listed - functions == set(), "ops.INDEX names Functions that do not exist"
    assert len({e.op for e in ops.INDEX}) == len(ops.INDEX), "an op is listed twice"


@pytest.mark.parametrize("entry", ops.INDEX, ids=lambda e: e.op)
def test_op_index_entry_points_at_real_kernels_references_and_tests(entry):
    for kernel in entry.kernels:
        assert callable(_resolve("tinygrad_edu._C", kernel)), kernel
    for loop in entry.reference:
        assert callable(_resolve("tinygrad_edu.reference", loop)), loop
    file, _, prefix = entry.tests.partition("::")
    source = (TESTS / file).read_text(encoding="utf-8")
    assert re.search(rf"^def {re.escape(prefix)}", source, re.M), entry.tests


@pytest.mark.parametrize("fn", all_functions(), ids=lambda f: f.__name__)
def test_every_function_has_one_name_a_formula_and_a_rule(fn):
    assert fn.__name__.endswith("Fn"), "a Function's name ends in Fn (nn.Conv2d is the Module)"
    assert (fn.__doc__ or "").strip(), "the formula goes in the docstring"
    assert "rule" in vars(fn) and len(fn.rule) > 10, "explain shows the op's `rule`"
    assert "forward" in vars(fn) and "backward" in vars(fn)


def test_function_and_module_names_never_collide():
    module_names = {name for name, v in vars(nn).items() if inspect.isclass(v)}
    assert not module_names & {f.__name__ for f in all_functions()}


# ---------------------------------------------------------------------------------------------
# Saved values are released with the graph
# ---------------------------------------------------------------------------------------------
def _exercise_every_op():
    """Run every Function once, with grad, through its public name."""
    tg.manual_seed(0)
    x = tg.randn(2, 3, 6, 6, requires_grad=True)
    v = tg.randn(4, 5, requires_grad=True)
    w = tg.randn(4, 5, requires_grad=True)
    m = tg.randn(5, 5, requires_grad=True)
    results = [
        v + w, v - w, v * w, v / (w.abs() + 1), (v.abs() + 1) ** w, -v, v.exp(), (v.abs() + 1).log(),
        (v.abs() + 1).sqrt(), v.abs(), v.maximum(w), v.minimum(w), v.clamp(-0.5, 0.5),
        tg.where(v.data > 0, v, w), v.double(), v.relu(), v.leaky_relu(), v.elu(), v.sigmoid(),
        v.tanh(), v.softmax(1), v.log_softmax(1), v.dropout(0.5), v @ m, v.reshape(5, 4),
        v.permute(1, 0), v[:1].expand(3, 5), v[[0, 0, 1]], tg.cat([v, w]), tg.stack([v, w]),
        F.pad(v, (1, 1), mode="reflect"), v.sum(), v.mean(), v.var(), v.std(), v.amax(), v.amin(),
        v.max(1).values, F.linear(v, m), F.batch_norm(v, None, None, training=True),
        F.embedding(tg.Tensor(np.array([0, 3])), m),
        F.conv2d(x, tg.randn(4, 3, 3, 3, requires_grad=True)),
        F.conv1d(x[:, :, 0], tg.randn(4, 3, 3, requires_grad=True)),
        F.conv_transpose2d(x, tg.randn(3, 2, 3, 3, requires_grad=True)),
        F.max_pool2d(x, 2), F.avg_pool2d(x, 2), F.interpolate(x, scale_factor=2),
        F.interpolate(x, scale_factor=2, mode="bilinear"),
        F.max_unpool2d(*F.max_pool2d(x, 2, return_indices=True), 2),
        F.nll_loss(v.log_softmax(1), tg.Tensor(np.array([0, 1, 2, 3]))),
        F.cross_entropy(v, tg.Tensor(np.array([0, 1, 2, 3]))),
        F.binary_cross_entropy(v.sigmoid(), tg.rand(4, 5)),
        F.binary_cross_entropy_with_logits(v, tg.rand(4, 5)),
        nn.LSTMCell(5, 3)(v)[0], nn.LSTM(5, 3)(v.reshape(2, 2, 5))[0],
        nn.GRUCell(5, 3)(v), nn.GRU(5, 3)(v.reshape(2, 2, 5))[0], nn.PReLU()(v), nn.RReLU()(v),
        v.sin(), v.cos(), v.tan(), v.erf(), v.softplus(), v.floor(), v.cumsum(1),
        v.logsumexp(1), v.gather(1, np.array([[0, 1]] * 4)), v.index_select(1, np.array([0, 2])),
        v.scatter_add(1, np.array([[0, 1]] * 4), w[:, :2]), v.masked_fill(v.data > 0, 0.0),
        v.repeat(2, 1), v.tril(), v.norm(), tg.einsum("ij,kj->ik", v, w),
    ]
    assigned = tg.zeros(4, 5)
    assigned[1] = v[0] * 2        # x[i] = value with a gradient: SetItemFn
    base = v * 1
    row = base[1]
    row += w[0]                   # through a view: AsStridedScatterFn, then AsStridedFn
    return results + [assigned, base, v.flip(0)]


def test_every_function_saves_arrays_through_save_for_backward():
    """Arrays kept on ctx outside save_for_backward would outlive backward (not freed)."""
    seen = {}
    original = Function.__dict__["apply"]

    def recording_apply(cls, *args, **kwargs):
        out = original.__func__(cls, *args, **kwargs)
        if out._ctx is not None:
            seen.setdefault(cls.__name__, out._ctx)
        return out

    Function.apply = classmethod(recording_apply)
    try:
        results = _exercise_every_op()
    finally:
        Function.apply = original
    assert {f.__name__ for f in all_functions()} <= set(seen), "every Function was exercised"
    for name, ctx in seen.items():
        stray = [k for k, value in vars(ctx).items() if isinstance(value, np.ndarray)]
        assert not stray, f"{name} keeps {stray} on ctx; use ctx.save_for_backward"
    for out in results:  # and backward frees what was saved
        out.sum().backward() if out.requires_grad else None
    assert all(ctx.saved_tensors == () for ctx in seen.values() if ctx._freed)


# ---------------------------------------------------------------------------------------------
# Files stay readable
# ---------------------------------------------------------------------------------------------
LONG_FILES = {}  # path → why it may be longer than 500 lines


def test_no_source_file_is_over_500_lines():
    files = list(PACKAGE.rglob("*.py")) + list((ROOT / "csrc").glob("*.pyx")) \
        + list((ROOT / "csrc").glob("*.pxi"))
    long = {str(p.relative_to(ROOT)): n for p in files
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 500}
    assert set(long) <= set(LONG_FILES), long
