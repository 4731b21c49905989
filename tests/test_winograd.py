"""conv2d's Winograd F(2×2, 3×3) path (csrc/winograd.pyx, ops/conv.py): the same numbers as the
direct loops and the numpy reference, forward and both gradients, gradcheck through Conv2dFn,
PyTorch, when the fast path takes it, and bad input."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu._C import conv as kernels
from tinygrad_edu._C import winograd
from tinygrad_edu.nn.functional import conv2d
from tinygrad_edu.ops import conv as conv_ops
from tinygrad_edu.reference import conv as ref

TOLERANCE = {np.float32: dict(rtol=2e-4, atol=2e-4), np.float64: dict(rtol=1e-10, atol=1e-10)}


@st.composite
def cases(draw):
    """Odd and even sizes (a last tile that sticks out), padding 0–2 and 'same', 1 channel up."""
    h, w = draw(st.integers(1, 9)), draw(st.integers(1, 9))
    padding = draw(st.sampled_from([0, 1, 2, (0, 1), (2, 1), "same"]))
    pad = (1, 1) if padding == "same" else ((padding, padding) if isinstance(padding, int) else padding)
    if h + 2 * pad[0] < 3 or w + 2 * pad[1] < 3:
        h, w = max(h, 3), max(w, 3)
    return dict(n=draw(st.integers(1, 3)), c=draw(st.integers(1, 5)), o=draw(st.integers(1, 5)),
                h=h, w=w, padding=padding, bias=draw(st.booleans()),
                dtype=draw(st.sampled_from([np.float32, np.float64])), seed=draw(st.integers(0, 99)))


def arrays(case):
    rng = np.random.default_rng(case["seed"])
    dt = case["dtype"]
    x = rng.standard_normal((case["n"], case["c"], case["h"], case["w"])).astype(dt)
    w = rng.standard_normal((case["o"], case["c"], 3, 3)).astype(dt)
    b = rng.standard_normal(case["o"]).astype(dt) if case["bias"] else None
    return x, w, b


def geometry(x, w, b, padding):
    return conv_ops.conv_geometry("conv2d", x.shape, w.shape, None if b is None else b.shape,
                                  1, padding, 1, 1)


@settings(max_examples=60, deadline=None)
@given(cases())
def test_conv2d_winograd_matches_direct_loops_and_reference(case):
    x, w, b = arrays(case)
    geo = geometry(x, w, b, case["padding"])
    h, U = conv_ops.winograd_forward(x, w, b, geo)
    g = np.random.default_rng(1).standard_normal(h.shape).astype(x.dtype)
    dx, dw = conv_ops.winograd_backward(x, U, g, True, True, geo)
    assert h.dtype == dx.dtype == dw.dtype == x.dtype
    tol = TOLERANCE[case["dtype"]]
    direct = [kernels.conv2d_forward_direct(x, w, b, geo.out_size, *geo.args),
              kernels.conv2d_grad_input_direct(g, w, x.shape[2:], *geo.args),
              kernels.conv2d_grad_weight_direct(x, g, (3, 3), *geo.args)]
    for ours, theirs in zip((h, dx, dw), direct):
        np.testing.assert_allclose(ours, theirs, **tol)
    if geo.padding == (geo.padding[0],) * 2 and case["padding"] != "same":   # the reference: symmetric
        x64, w64, g64 = x.astype(np.float64), w.astype(np.float64), g.astype(np.float64)
        b64 = None if b is None else b.astype(np.float64)
        reference = ref.conv2d_forward(x64, w64, b64, 1, geo.padding[0], 1, 1)
        np.testing.assert_allclose(h, reference, **tol)
        rdx, rdw, _ = ref.conv2d_backward(x64, w64, g64, 1, geo.padding[0], 1, 1)
        np.testing.assert_allclose(dx, rdx, **tol)
        np.testing.assert_allclose(dw, rdw, **tol)


@pytest.mark.parametrize("chunk_bytes", [1, 5000, 1 << 30])
def test_conv2d_winograd_chunks_of_the_batch_give_the_same_numbers(chunk_bytes, monkeypatch):
    """One sample per chunk, a few, or the whole batch at once: chunk boundaries change nothing
    (∂w sums the chunks in order; the rest is per sample)."""
    x, w, b = arrays(dict(n=5, c=4, o=3, h=7, w=6, bias=True, dtype=np.float64, seed=2))
    geo = geometry(x, w, b, 1)
    g = np.random.default_rng(3).standard_normal((5, 3, 7, 6))
    monkeypatch.setattr(conv_ops, "WINOGRAD_CHUNK_BYTES", chunk_bytes)
    h, U = conv_ops.winograd_forward(x, w, b, geo)
    dx, dw = conv_ops.winograd_backward(x, U, g, True, True, geo)
    np.testing.assert_allclose(h, kernels.conv2d_forward_direct(x, w, b, geo.out_size, *geo.args),
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dx, kernels.conv2d_grad_input_direct(g, w, x.shape[2:], *geo.args),
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dw, kernels.conv2d_grad_weight_direct(x, g, (3, 3), *geo.args),
                               rtol=1e-12, atol=1e-12)


def test_conv2d_winograd_only_the_needed_gradients():
    x, w, b = arrays(dict(n=2, c=3, o=4, h=6, w=6, bias=True, dtype=np.float64, seed=0))
    geo = geometry(x, w, b, 1)
    h, U = conv_ops.winograd_forward(x, w, b, geo)
    g = np.ones_like(h)
    dx, dw = conv_ops.winograd_backward(x, U, g, False, True, geo)
    assert dx is None and dw.shape == w.shape
    dx, dw = conv_ops.winograd_backward(x, U, g, True, False, geo)
    assert dw is None and dx.shape == x.shape


@pytest.fixture
def winograd_for_every_size(monkeypatch):
    """The fast path takes Winograd for any channel count (normally from 16 channels)."""
    monkeypatch.setattr(conv_ops, "WINOGRAD_MIN_CHANNELS", 1)


@pytest.mark.parametrize("padding", [0, 1, 2, "same"])
@pytest.mark.parametrize("size", [(5, 6), (4, 4), (3, 7)])
def test_conv2d_winograd_gradcheck(padding, size, winograd_for_every_size):
    rng = np.random.default_rng(3)
    x = tg.Tensor(rng.standard_normal((2, 2) + size), requires_grad=True)
    w = tg.Tensor(rng.standard_normal((3, 2, 3, 3)), requires_grad=True)
    b = tg.Tensor(rng.standard_normal(3), requires_grad=True)
    assert tg.gradcheck(lambda x, w, b: conv2d(x, w, b, padding=padding), (x, w, b))


def test_conv2d_fast_path_takes_winograd_where_it_applies(monkeypatch):
    """From 16 channels, 3×3, stride 1, dilation 1, groups 1: the Winograd kernels run."""
    calls = []
    real = conv_ops.winograd_forward
    monkeypatch.setattr(conv_ops, "winograd_forward", lambda *a: calls.append(1) or real(*a))
    rng = np.random.default_rng(0)
    x = tg.Tensor(rng.standard_normal((2, 16, 8, 8)).astype(np.float32), requires_grad=True)
    w16 = tg.Tensor(rng.standard_normal((16, 16, 3, 3)).astype(np.float32), requires_grad=True)
    conv2d(x, w16, padding=1).sum().backward()
    assert calls == [1]
    conv2d(x, w16, stride=2).sum().backward()                   # strided: im2col
    conv2d(x, w16[:8], padding=1)                               # 8 output channels: im2col
    conv2d(x, tg.Tensor(rng.standard_normal((16, 8, 3, 3)).astype(np.float32)), groups=2)
    with tg.use_backend("direct"):
        conv2d(x, w16, padding=1)
    assert calls == [1]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conv2d_winograd_layer_matches_im2col_layer(dtype, monkeypatch):
    """A 32→64 layer (the benchmark's), forward and gradients, against the im2col path."""
    rng = np.random.default_rng(4)
    x_data = rng.standard_normal((4, 32, 10, 11)).astype(dtype)
    w_data = (rng.standard_normal((64, 32, 3, 3)) * 0.1).astype(dtype)
    b_data = rng.standard_normal(64).astype(dtype)
    results = []
    for min_channels in (16, 10 ** 9):          # Winograd, then im2col
        monkeypatch.setattr(conv_ops, "WINOGRAD_MIN_CHANNELS", min_channels)
        x, w, b = (tg.Tensor(a, requires_grad=True) for a in (x_data, w_data, b_data))
        out = conv2d(x, w, b, padding=1)
        (out * out).sum().backward()
        results.append([out.data, x.grad, w.grad, b.grad])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, **TOLERANCE[dtype])


def test_conv2d_winograd_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    x_data = rng.standard_normal((3, 16, 9, 8)).astype(np.float32)
    w_data = (rng.standard_normal((20, 16, 3, 3)) * 0.2).astype(np.float32)
    g = rng.standard_normal((3, 20, 9, 8)).astype(np.float32)
    x, w = tg.Tensor(x_data, requires_grad=True), tg.Tensor(w_data, requires_grad=True)
    conv2d(x, w, padding="same").backward(g)
    tx = torch.tensor(x_data, requires_grad=True)
    tw = torch.tensor(w_data, requires_grad=True)
    out = torch.nn.functional.conv2d(tx, tw, padding="same")
    out.backward(torch.tensor(g))
    np.testing.assert_allclose(conv2d(x, w, padding="same").data, out.detach().numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(w.grad, tw.grad.numpy(), rtol=1e-4, atol=1e-3)


def test_conv2d_winograd_nan_reaches_the_outputs_it_reaches_in_the_formula():
    """A NaN in the input makes NaN exactly where the direct loop's sums hold it."""
    rng = np.random.default_rng(6)
    w = rng.standard_normal((16, 16, 3, 3))
    for _ in range(20):
        x = rng.standard_normal((1, 16, 7, 6))
        x[0, rng.integers(16), rng.integers(7), rng.integers(6)] = np.nan
        geo = geometry(x, w, None, 1)
        h, _ = conv_ops.winograd_forward(x, w, None, geo)
        direct = kernels.conv2d_forward_direct(x, w, None, geo.out_size, *geo.args)
        np.testing.assert_array_equal(np.isnan(h), np.isnan(direct))


@pytest.mark.parametrize("where", ["input", "grad_output"])
def test_conv2d_infinities_give_the_formulas_infinities(where):
    """Winograd's transforms subtract (inf − inf = NaN), so an input or upstream gradient
    holding ±inf takes the im2col path: the same ±inf as the direct loops."""
    rng = np.random.default_rng(7)
    x_data = rng.standard_normal((2, 16, 6, 6))
    w_data = np.abs(rng.standard_normal((16, 16, 3, 3)))
    g = np.ones((2, 16, 6, 6))
    (x_data if where == "input" else g)[0, 2, 3, 3] = np.inf
    results = []
    for backend in ("fast", "direct"):
        with tg.use_backend(backend):
            x, w = tg.Tensor(x_data, requires_grad=True), tg.Tensor(w_data, requires_grad=True)
            out = conv2d(x, w, padding=1)
            out.backward(g)
            results.append([out.data, x.grad, w.grad])
    for fast, direct in zip(*results):
        np.testing.assert_array_equal(np.isnan(fast), np.isnan(direct))
        np.testing.assert_array_equal(np.isinf(fast), np.isinf(direct))
        finite = np.isfinite(direct)
        np.testing.assert_allclose(fast[finite], direct[finite], rtol=1e-10)


def test_winograd_kernels_refuse_bad_arrays():
    with pytest.raises(TypeError, match="float32/float64"):
        winograd.input_transform(np.ones((1, 1, 4, 4), dtype=np.int64), (4, 4), (1, 1))
    with pytest.raises(TypeError, match="4 axes"):
        winograd.input_transform(np.ones((1, 4, 4)), (4, 4), (1, 1))
    with pytest.raises(ValueError, match="do not fit"):
        winograd.output_transform(np.ones((16, 2, 3)), np.zeros(2), 1, (4, 4))
    with pytest.raises(ValueError, match="does not fit"):
        winograd.input_adjoint(np.ones((16, 2, 3)), (1, 2, 4, 4), (4, 4), (1, 1))
    with pytest.raises(TypeError, match="C-contiguous"):
        winograd.output_adjoint(np.ones((1, 2, 4, 4)).transpose(0, 1, 3, 2))
    with pytest.raises(ValueError, match="contiguously"):
        winograd.input_adjoint(np.ones((16, 2, 2)).transpose(0, 2, 1), (2, 2, 2, 2), (2, 2), (0, 0))


def test_conv2d_winograd_second_backward_after_an_infinite_gradient():
    """retain_graph: a first backward whose gradient holds inf (taken by im2col) leaves the
    saved Winograd state alone, so a second, finite backward still gives the right gradients."""
    rng = np.random.default_rng(9)
    x = tg.Tensor(rng.standard_normal((2, 16, 6, 6)), requires_grad=True)
    w = tg.Tensor(rng.standard_normal((16, 16, 3, 3)), requires_grad=True)
    out = conv2d(x, w, padding=1)
    g = np.ones(out.shape)
    g_inf = g.copy()
    g_inf[0, 0, 0, 0] = np.inf
    out.backward(g_inf, retain_graph=True)
    x.grad = w.grad = None
    out.backward(g)
    geo = geometry(x.data, w.data, None, 1)
    np.testing.assert_allclose(w.grad, kernels.conv2d_grad_weight_direct(x.data, g, (3, 3), *geo.args),
                               rtol=1e-10)
    np.testing.assert_allclose(x.grad, kernels.conv2d_grad_input_direct(g, w.data, (6, 6), *geo.args),
                               rtol=1e-10)
