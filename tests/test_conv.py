"""conv2d, conv1d, conv_transpose2d: compiled direct and fast paths vs the reference loops,
gradcheck, PyTorch, bad input. Each test is named after its op (test_conv_*: several ops)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu._C import conv as kernels
from tinygrad_edu.nn.functional import conv1d, conv2d, conv_transpose2d
from tinygrad_edu.reference import conv as ref


# ---------------------------------------------------------------------------------------------
# Generated cases: non-square images and kernels, stride > 1 with padding, dilation, groups,
# odd sizes, batch 1, channel 1
# ---------------------------------------------------------------------------------------------
@st.composite
def conv_cases(draw, max_size=9):
    groups = draw(st.integers(1, 3))
    case = dict(
        n=draw(st.integers(1, 3)), c_per_group=draw(st.integers(1, 3)), groups=groups,
        o_per_group=draw(st.integers(1, 3)),
        kernel=(draw(st.integers(1, 4)), draw(st.integers(1, 4))),
        stride=(draw(st.integers(1, 3)), draw(st.integers(1, 3))),
        dilation=(draw(st.integers(1, 2)), draw(st.integers(1, 2))),
        dtype=draw(st.sampled_from([np.float32, np.float64])),
    )
    case["padding"] = tuple(draw(st.integers(0, k)) for k in case["kernel"])
    # the padded image must hold the dilated kernel: H + 2p ≥ d·(K−1) + 1
    case["size"] = tuple(
        draw(st.integers(max(1, d * (k - 1) + 1 - 2 * p), max(1, d * (k - 1) + 1 - 2 * p) + max_size))
        for k, p, d in zip(case["kernel"], case["padding"], case["dilation"]))
    return case


def make_arrays(case, seed=0):
    rng = np.random.default_rng(seed)
    c = case["c_per_group"] * case["groups"]
    o = case["o_per_group"] * case["groups"]
    x = rng.standard_normal((case["n"], c) + case["size"]).astype(case["dtype"])
    w = rng.standard_normal((o, case["c_per_group"]) + case["kernel"]).astype(case["dtype"])
    b = rng.standard_normal(o).astype(case["dtype"])
    return x, w, b


def tolerance(dtype):
    return dict(rtol=1e-4, atol=1e-4) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-10)


@settings(max_examples=40, deadline=None)
@given(conv_cases())
def test_conv2d_direct_fast_and_reference_kernels_agree(case):
    x, w, b = make_arrays(case)
    s, p, d, g = case["stride"], case["padding"], case["dilation"], case["groups"]
    h_ref = ref.conv2d_forward(x, w, b, s, p, d, g)
    dh = np.random.default_rng(1).standard_normal(h_ref.shape).astype(x.dtype)
    dx_ref, dw_ref, _ = ref.conv2d_backward(x, w, dh, s, p, d, g)
    out_size, in_size, kernel = h_ref.shape[2:], x.shape[2:], w.shape[2:]

    h_direct = kernels.conv2d_forward_direct(x, w, b, out_size, s, p, d, g)
    h_fast, cols = kernels.conv2d_forward_fast(x, w, b, out_size, s, p, d, g)
    dx_direct = kernels.conv2d_grad_input_direct(dh, w, in_size, s, p, d, g)
    dx_fast = kernels.conv2d_grad_input_fast(dh, w, in_size, s, p, d, g)
    dw_direct = kernels.conv2d_grad_weight_direct(x, dh, kernel, s, p, d, g)
    dw_fast = kernels.conv2d_grad_weight_fast(x, dh, kernel, s, p, d, g, cols=cols)
    dw_fast_recomputed = kernels.conv2d_grad_weight_fast(x, dh, kernel, s, p, d, g)

    tol = tolerance(x.dtype)
    for ours in (h_direct, h_fast):
        assert ours.dtype == x.dtype
        np.testing.assert_allclose(ours, h_ref, **tol)
    for ours in (dx_direct, dx_fast):
        assert ours.shape == x.shape and ours.dtype == x.dtype
        np.testing.assert_allclose(ours, dx_ref, **tol)
    for ours in (dw_direct, dw_fast, dw_fast_recomputed):
        assert ours.shape == w.shape and ours.dtype == x.dtype
        np.testing.assert_allclose(ours, dw_ref, **tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("c, o, kernel, stride, padding, dilation, groups", [
    (8, 6, (3, 3), 1, 1, 1, 1),            # products with more rows (C·KH·KW) than the
    (16, 4, (2, 3), (2, 1), (1, 0), 1, 2),  # generated cases reach
    (20, 6, (3, 2), 1, 2, (2, 1), 2),
    (14, 4, (3, 3), 2, 1, 1, 1),
])
def test_conv2d_wider_layers_match_reference(dtype, c, o, kernel, stride, padding, dilation, groups):
    rng = np.random.default_rng(14)
    x = rng.standard_normal((3, c, 7, 6)).astype(dtype)
    w = rng.standard_normal((o, c // groups) + kernel).astype(dtype)
    b = rng.standard_normal(o).astype(dtype)
    tx, tw, tb = (tg.Tensor(a, requires_grad=True) for a in (x, w, b))
    h = conv2d(tx, tw, tb, stride, padding, dilation, groups)
    dh = rng.standard_normal(h.shape).astype(dtype)
    h.backward(dh)
    dx_ref, dw_ref, db_ref = ref.conv2d_backward(x, w, dh, stride, padding, dilation, groups)
    tol = tolerance(dtype)
    np.testing.assert_allclose(h.data, ref.conv2d_forward(x, w, b, stride, padding, dilation, groups), **tol)
    np.testing.assert_allclose(tx.grad, dx_ref, **tol)
    np.testing.assert_allclose(tw.grad, dw_ref, **tol)
    np.testing.assert_allclose(tb.grad, db_ref, **tol)


@settings(max_examples=25, deadline=None)
@given(conv_cases(max_size=5), st.sampled_from(["fast", "direct"]))
def test_conv2d_autograd_matches_reference_on_both_paths(case, path):
    x, w, b = make_arrays(case)
    s, p, d, g = case["stride"], case["padding"], case["dilation"], case["groups"]
    tx, tw, tb = (tg.Tensor(a, requires_grad=True) for a in (x, w, b))
    with tg.use_backend(path):
        h = conv2d(tx, tw, tb, stride=s, padding=p, dilation=d, groups=g)
        dh = np.random.default_rng(2).standard_normal(h.shape).astype(x.dtype)
        h.backward(dh)
    dx_ref, dw_ref, db_ref = ref.conv2d_backward(x, w, dh, s, p, d, g)
    tol = tolerance(x.dtype)
    np.testing.assert_allclose(h.data, ref.conv2d_forward(x, w, b, s, p, d, g), **tol)
    np.testing.assert_allclose(tx.grad, dx_ref, **tol)
    np.testing.assert_allclose(tw.grad, dw_ref, **tol)
    np.testing.assert_allclose(tb.grad, db_ref, **tol)


@st.composite
def transpose_cases(draw):
    groups = draw(st.integers(1, 2))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    size = (draw(st.integers(1, 5)), draw(st.integers(1, 5)))
    output_padding = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation))
    # keep the output non-empty: 2p ≤ (H−1)·s + d·(K−1) + output_padding
    padding = tuple(draw(st.integers(0, ((n - 1) * s + d * (k - 1) + op) // 2))
                    for n, s, d, k, op in zip(size, stride, dilation, kernel, output_padding))
    return dict(n=draw(st.integers(1, 2)), c_in=groups * draw(st.integers(1, 2)), groups=groups,
                c_out_per_group=draw(st.integers(1, 2)), kernel=kernel, stride=stride,
                padding=padding, output_padding=output_padding, dilation=dilation, size=size,
                dtype=draw(st.sampled_from([np.float32, np.float64])))


@settings(max_examples=25, deadline=None)
@given(transpose_cases(), st.sampled_from(["fast", "direct"]))
def test_conv_transpose2d_matches_reference_on_both_paths(case, path):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((case["n"], case["c_in"]) + case["size"]).astype(case["dtype"])
    w = rng.standard_normal((case["c_in"], case["c_out_per_group"]) + case["kernel"]).astype(case["dtype"])
    b = rng.standard_normal(case["c_out_per_group"] * case["groups"]).astype(case["dtype"])
    args = (case["stride"], case["padding"], case["output_padding"], case["groups"], case["dilation"])
    tx, tw, tb = (tg.Tensor(a, requires_grad=True) for a in (x, w, b))
    with tg.use_backend(path):
        out = conv_transpose2d(tx, tw, tb, *args)
        g = rng.standard_normal(out.shape).astype(x.dtype)
        out.backward(g)
    dx_ref, dw_ref, db_ref = ref.conv_transpose2d_backward(x, w, g, *args)
    tol = tolerance(x.dtype)
    np.testing.assert_allclose(out.data, ref.conv_transpose2d_forward(x, w, b, *args), **tol)
    np.testing.assert_allclose(tx.grad, dx_ref, **tol)
    np.testing.assert_allclose(tw.grad, dw_ref, **tol)
    np.testing.assert_allclose(tb.grad, db_ref, **tol)


# ---------------------------------------------------------------------------------------------
# gradcheck (float64, random upstream gradient) over parameter grids
# ---------------------------------------------------------------------------------------------
def leaf(rng, *shape):
    return tg.Tensor(rng.standard_normal(shape), requires_grad=True)


CONV2D_GRID = [  # (x shape, weight shape, stride, padding, dilation, groups)
    ((2, 2, 5, 4), (3, 2, 3, 2), 1, 0, 1, 1),
    ((1, 4, 6, 5), (4, 2, 2, 3), (2, 1), (1, 2), 1, 2),
    ((2, 1, 7, 6), (2, 1, 3, 3), 2, 1, (2, 1), 1),
    ((1, 3, 5, 5), (3, 1, 3, 3), 1, "same", 1, 3),
    ((1, 2, 5, 6), (2, 2, 2, 4), 1, "same", (2, 1), 1),
    ((2, 2, 4, 4), (1, 2, 4, 4), 3, 2, 1, 1),
]


@pytest.mark.parametrize("path", ["fast", "direct"])
@pytest.mark.parametrize("x_shape, w_shape, stride, padding, dilation, groups", CONV2D_GRID)
def test_conv2d_gradcheck(path, x_shape, w_shape, stride, padding, dilation, groups):
    rng = np.random.default_rng(4)
    inputs = [leaf(rng, *x_shape), leaf(rng, *w_shape), leaf(rng, w_shape[0])]
    with tg.use_backend(path):
        assert tg.gradcheck(lambda x, w, b: conv2d(x, w, b, stride, padding, dilation, groups), inputs)


@settings(max_examples=15, deadline=None)
@given(st.integers(1, 3), st.integers(0, 2), st.integers(1, 2), st.sampled_from([1, 2]),
       st.integers(1, 3), st.integers(5, 8))
def test_conv1d_gradcheck(stride, padding, dilation, groups, kernel, length):
    rng = np.random.default_rng(5)
    inputs = [leaf(rng, 2, 2 * groups, length), leaf(rng, 2 * groups, 2, kernel), leaf(rng, 2 * groups)]
    assert tg.gradcheck(lambda x, w, b: conv1d(x, w, b, stride, padding, dilation, groups), inputs)


TRANSPOSE_GRID = [  # (x shape, weight shape, stride, padding, output_padding, groups, dilation)
    ((2, 2, 3, 4), (2, 3, 3, 2), 1, 0, 0, 1, 1),
    ((1, 4, 3, 3), (4, 1, 3, 3), 2, 1, 1, 2, 1),
    ((2, 1, 2, 3), (1, 2, 2, 3), (2, 3), (0, 1), (1, 2), 1, 1),
    ((1, 2, 3, 3), (2, 2, 2, 2), 1, 1, 1, 1, 2),
]


@pytest.mark.parametrize("path", ["fast", "direct"])
@pytest.mark.parametrize("x_shape, w_shape, stride, padding, output_padding, groups, dilation", TRANSPOSE_GRID)
def test_conv_transpose2d_gradcheck(path, x_shape, w_shape, stride, padding, output_padding, groups, dilation):
    rng = np.random.default_rng(6)
    inputs = [leaf(rng, *x_shape), leaf(rng, *w_shape), leaf(rng, w_shape[1] * groups)]
    with tg.use_backend(path):
        assert tg.gradcheck(lambda x, w, b: conv_transpose2d(
            x, w, b, stride, padding, output_padding, groups, dilation), inputs)


# ---------------------------------------------------------------------------------------------
# PyTorch agreement (forward and all three gradients)
# ---------------------------------------------------------------------------------------------
def compare_with_torch(ours_fn, torch_fn, arrays, rtol=1e-9, atol=1e-9):
    torch = pytest.importorskip("torch")
    ours = [tg.Tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, expected = ours_fn(*ours), torch_fn(*theirs)
    assert out.shape == tuple(expected.shape)
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=rtol, atol=atol)
    g = np.random.default_rng(7).standard_normal(out.shape).astype(arrays[0].dtype)
    out.backward(g)
    expected.backward(torch.tensor(g))
    for a, t in zip(ours, theirs):
        np.testing.assert_allclose(a.grad, t.grad.numpy(), rtol=rtol, atol=atol)


@settings(max_examples=15, deadline=None)
@given(conv_cases(max_size=6), st.sampled_from(["fast", "direct"]))
def test_conv2d_matches_torch(case, path):
    torch = pytest.importorskip("torch")
    x, w, b = make_arrays(case)
    s, p, d, g = case["stride"], case["padding"], case["dilation"], case["groups"]
    tol = tolerance(x.dtype)
    with tg.use_backend(path):
        compare_with_torch(lambda *t: conv2d(*t, stride=s, padding=p, dilation=d, groups=g),
                           lambda *t: torch.nn.functional.conv2d(*t, stride=s, padding=p, dilation=d, groups=g),
                           [x, w, b], **tol)


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("kernel, dilation", [((2, 3), 1), ((4, 1), (1, 2)), ((3, 3), 2)])
def test_conv2d_padding_same_and_valid_match_torch(kernel, dilation):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(8)
    x, w, b = rng.standard_normal((2, 2, 7, 6)), rng.standard_normal((3, 2) + kernel), rng.standard_normal(3)
    for padding in ("same", "valid"):
        compare_with_torch(lambda *t: conv2d(*t, padding=padding, dilation=dilation),
                           lambda *t: torch.nn.functional.conv2d(*t, padding=padding, dilation=dilation),
                           [x, w, b])


@pytest.mark.parametrize("stride, padding, dilation, groups", [(1, 0, 1, 1), (2, 1, 1, 2), (1, "same", 2, 1),
                                                               (3, 2, 2, 1), (1, "valid", 1, 2)])
def test_conv1d_matches_torch(stride, padding, dilation, groups):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(9)
    x, w, b = rng.standard_normal((3, 4, 9)), rng.standard_normal((6, 4 // groups, 4)), rng.standard_normal(6)
    compare_with_torch(lambda *t: conv1d(*t, stride=stride, padding=padding, dilation=dilation, groups=groups),
                       lambda *t: torch.nn.functional.conv1d(*t, stride=stride, padding=padding,
                                                             dilation=dilation, groups=groups),
                       [x, w, b])


@settings(max_examples=15, deadline=None)
@given(transpose_cases(), st.sampled_from(["fast", "direct"]))
def test_conv_transpose2d_matches_torch(case, path):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(10)
    x = rng.standard_normal((case["n"], case["c_in"]) + case["size"]).astype(case["dtype"])
    w = rng.standard_normal((case["c_in"], case["c_out_per_group"]) + case["kernel"]).astype(case["dtype"])
    b = rng.standard_normal(case["c_out_per_group"] * case["groups"]).astype(case["dtype"])
    args = (case["stride"], case["padding"], case["output_padding"], case["groups"], case["dilation"])
    with tg.use_backend(path):
        compare_with_torch(lambda *t: conv_transpose2d(*t, *args),
                           lambda *t: torch.nn.functional.conv_transpose2d(*t, *args),
                           [x, w, b], **tolerance(x.dtype))


def test_conv_unbatched_inputs_and_no_bias_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(11)
    x, w = rng.standard_normal((2, 5, 4)), rng.standard_normal((3, 2, 2, 2))
    compare_with_torch(lambda *t: conv2d(*t, padding=1), lambda *t: torch.nn.functional.conv2d(*t, padding=1),
                       [x, w])
    compare_with_torch(lambda *t: conv1d(*t), lambda *t: torch.nn.functional.conv1d(*t),
                       [rng.standard_normal((2, 7)), rng.standard_normal((3, 2, 3))])
    compare_with_torch(lambda *t: conv_transpose2d(*t, stride=2),
                       lambda *t: torch.nn.functional.conv_transpose2d(*t, stride=2),
                       [rng.standard_normal((3, 2, 3)), rng.standard_normal((3, 2, 2, 2))])


# ---------------------------------------------------------------------------------------------
# Details: dtypes, layouts, NaN, partial gradients
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conv2d_dtype_is_kept_through_forward_and_backward(dtype):
    x = tg.Tensor(np.ones((1, 2, 4, 4), dtype=dtype), requires_grad=True)
    w = tg.Tensor(np.ones((3, 2, 3, 3), dtype=dtype), requires_grad=True)
    h = conv2d(x, w, padding=1)
    h.sum().backward()
    assert h.dtype == dtype and x.grad.dtype == dtype and w.grad.dtype == dtype
    assert x.grad[0, 0, 1, 1] == 27.0 and w.grad[0, 0, 1, 1] == 16.0


@pytest.mark.parametrize("path", ["fast", "direct"])
def test_conv2d_non_contiguous_inputs_give_the_contiguous_answer(path):
    rng = np.random.default_rng(12)
    x = rng.standard_normal((6, 5, 3, 2)).transpose(3, 2, 0, 1)     # (2, 3, 6, 5), not contiguous
    w = rng.standard_normal((3, 3, 4, 3))[:, :, ::2, :]                # (3, 3, 2, 3), strided view
    assert not x.flags.c_contiguous and not w.flags.c_contiguous
    with tg.use_backend(path):
        h = conv2d(tg.Tensor(x), tg.Tensor(w), stride=(1, 2))
    np.testing.assert_allclose(h.data, ref.conv2d_forward(np.ascontiguousarray(x), np.ascontiguousarray(w),
                                                          stride=(1, 2)), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("path", ["fast", "direct"])
def test_conv_nan_in_nan_out(path):
    x = np.zeros((1, 1, 4, 4))
    x[0, 0, 1, 1] = np.nan
    with tg.use_backend(path):
        h = conv2d(tg.Tensor(x), tg.Tensor(np.ones((1, 1, 2, 2))))
        t = conv_transpose2d(tg.Tensor(x), tg.Tensor(np.ones((1, 1, 2, 2))))
    # the windows that touch X[1, 1] are NaN, the others are not
    assert np.isnan(h.data[0, 0, :2, :2]).all() and not np.isnan(h.data[0, 0, 2:, :]).any()
    assert np.isnan(t.data[0, 0, 1:3, 1:3]).all() and not np.isnan(t.data[0, 0, 3:, :]).any()


def test_conv2d_only_the_needed_gradients_are_computed():
    x = tg.Tensor(np.ones((1, 1, 3, 3)))
    w = tg.Tensor(np.ones((1, 1, 2, 2)), requires_grad=True)
    conv2d(x, w).sum().backward()
    assert x.grad is None
    np.testing.assert_array_equal(w.grad, np.full((1, 1, 2, 2), 4.0))


def test_conv2d_no_grad_runs_forward_only():
    w = tg.Tensor(np.ones((2, 1, 2, 2)), requires_grad=True)
    with tg.no_grad():
        h = conv2d(tg.Tensor(np.ones((1, 1, 3, 3))), w)
    assert not h.requires_grad
    np.testing.assert_array_equal(h.data, np.full((1, 2, 2, 2), 4.0))


@pytest.mark.parametrize("path", ["fast", "direct"])
def test_conv2d_empty_batch(path):
    """N = 0: an empty output, and backward gives an empty ∂x and zero ∂W, ∂b (as PyTorch)."""
    x = tg.Tensor(np.ones((0, 2, 5, 5)), requires_grad=True)
    w = tg.Tensor(np.ones((3, 2, 3, 3)), requires_grad=True)
    b = tg.Tensor(np.ones(3), requires_grad=True)
    with tg.use_backend(path):
        h = conv2d(x, w, b)
        assert h.shape == (0, 3, 3, 3)
        h.sum().backward()
        t = conv_transpose2d(tg.Tensor(np.ones((0, 3, 3, 3)), requires_grad=True), w)
        t.sum().backward()
    assert x.grad.shape == (0, 2, 5, 5)
    assert not w.grad.any() and not b.grad.any()


def _im2col_oracle(x, kernel, out_size, stride, padding, dilation):
    """cols[(c,m,k), (n,i,j)] = x[n, c, i·s+m·d−p, j·s+k·d−p], 0 outside x (numpy, slow)."""
    N, C, H, W = x.shape
    (KH, KW), (OH, OW) = kernel, out_size
    cols = np.zeros((C * KH * KW, N * OH * OW), dtype=x.dtype)
    for c in range(C):
        for m in range(KH):
            for k in range(KW):
                for i in range(OH):
                    for j in range(OW):
                        row = i * stride[0] + m * dilation[0] - padding[0]
                        col = j * stride[1] + k * dilation[1] - padding[1]
                        if 0 <= row < H and 0 <= col < W:
                            cols[(c * KH + m) * KW + k, np.arange(N) * OH * OW + i * OW + j] = \
                                x[:, c, row, col]
    return cols


@pytest.mark.parametrize("n, out_size, padding, dilation", [
    (16384, (1, 1), (0, 2), (1, 2)),   # conv2d, W = 1, KW = 3: column k = 0 starts at j = 2 > OW
    (3, (1, 1), (0, 2), (1, 5)),       # conv_transpose2d backward's out_size (output_padding 4)
])
def test_conv2d_im2col_first_column_past_the_output(n, out_size, padding, dilation):
    """Padding and dilation so large that a kernel column's first in-image position lies past the
    last output column: im2col wrote that column's zeros past its OW columns (into the next
    pixel's, the next row's, or past the end of cols); with the batch split across threads, a
    zero landed on a value already copied (wrong output), and at the end of cols on the heap."""
    x = np.random.default_rng(0).standard_normal((n, 1, 1, 1))
    kernel = (1, 3) if dilation[1] == 2 else (1, 1)
    cols = kernels.im2col(x, kernel, out_size, (1, 1), padding, dilation)
    np.testing.assert_array_equal(cols, _im2col_oracle(x, kernel, out_size, (1, 1), padding, dilation))


def test_conv_transpose2d_output_padding_past_stride_matches_reference():
    """output_padding 4 < dilation 5 with padding 2 (torch accepts it): the backward's im2col is
    the case above; ∂x and ∂W as the direct path gives them."""
    x = np.random.default_rng(0).standard_normal((2, 1, 1, 3))
    w = np.random.default_rng(1).standard_normal((1, 1, 1, 1))
    grads = []
    for path in ("fast", "direct"):
        xt, wt = tg.Tensor(x, requires_grad=True), tg.Tensor(w, requires_grad=True)
        with tg.use_backend(path):
            y = conv_transpose2d(xt, wt, None, stride=1, padding=(0, 2), output_padding=(0, 4),
                                 dilation=(1, 5))
            y.backward(np.arange(y.data.size, dtype=np.float64).reshape(y.shape))
        grads.append((y.data, xt.grad, wt.grad))
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------------------------------------
# Bad input: the right exception, the shapes in the message
# ---------------------------------------------------------------------------------------------
def f32(*shape):
    return tg.Tensor(np.zeros(shape, dtype=np.float32))


BAD_CONV2D = [  # (input, weight, kwargs, exception, text in the message)
    (f32(2, 3, 8), f32(4, 3, 3, 3), {}, ValueError, "(4, 3, 3, 3)"),             # 3-D input, 4-D weight: channel clash
    (f32(2, 3, 8, 8, 1), f32(4, 3, 3, 3), {}, ValueError, "(2, 3, 8, 8, 1)"),      # 5-D input
    (f32(2, 3, 8, 8), f32(4, 3, 3), {}, ValueError, "(4, 3, 3)"),                 # 3-D weight
    (f32(2, 3, 8, 8), f32(4, 2, 3, 3), {}, ValueError, "(2, 3, 8, 8)"),           # channels
    (f32(2, 4, 8, 8), f32(4, 2, 3, 3), {"groups": 3}, ValueError, "groups=3"),
    (f32(2, 4, 8, 8), f32(3, 2, 3, 3), {"groups": 2}, ValueError, "(3, 2, 3, 3)"),  # O % groups
    (f32(2, 3, 4, 4), f32(4, 3, 5, 5), {}, ValueError, "(2, 3, 4, 4)"),           # kernel > input
    (f32(2, 3, 4, 4), f32(4, 3, 3, 3), {"dilation": 2}, ValueError, "(2, 3, 4, 4)"),
    (f32(2, 3, 4, 4), f32(4, 3, 3, 3), {"stride": 0}, ValueError, "stride"),
    (f32(2, 3, 4, 4), f32(4, 3, 3, 3), {"stride": (1, -1)}, ValueError, "(1, -1)"),
    (f32(2, 3, 4, 4), f32(4, 3, 3, 3), {"dilation": 0}, ValueError, "dilation"),
    (f32(2, 3, 4, 4), f32(4, 3, 3, 3), {"padding": -1}, ValueError, "padding"),
    (f32(2, 3, 4, 4), f32(4, 3, 3, 3), {"padding": (1, 2, 3)}, ValueError, "(1, 2, 3)"),
    (f32(2, 3, 4, 4), f32(4, 3, 3, 3), {"padding": "full"}, ValueError, "full"),
    (f32(2, 3, 4, 4), f32(4, 3, 3, 3), {"stride": 1.5}, TypeError, "1.5"),
    (f32(2, 3, 4, 4), f32(4, 3, 3, 3), {"groups": 0}, ValueError, "groups"),
    (f32(2, 0, 4, 4), f32(4, 0, 3, 3), {}, ValueError, "non-empty"),   # torch: wrong shape
    (f32(2, 3, 4, 4), f32(0, 3, 3, 3), {}, ValueError, "non-empty"),
    (f32(1, 1, 1, 0), f32(2, 1, 3, 3), {"padding": 1}, ValueError, "empty batch"),   # as torch
    (f32(2, 1, 0, 5), f32(2, 1, 1, 1), {}, ValueError, "empty batch"),
    (f32(2, 3, 4, 4), f32(4, 3, 3, 3), {"bias": f32(3)}, ValueError, "(4, 3, 3, 3)"),
]


@pytest.mark.parametrize("x, w, kwargs, error, text", BAD_CONV2D)
def test_conv2d_bad_input_raises(x, w, kwargs, error, text):
    with pytest.raises(error) as info:
        conv2d(x, w, **kwargs)
    assert text in str(info.value)


def test_conv_bad_dtypes_raise_type_error():
    ints = tg.Tensor(np.zeros((1, 1, 3, 3), dtype=np.int64))
    with pytest.raises(TypeError, match=r"int64.*|.*\(1, 1, 3, 3\)"):
        conv2d(ints, f32(1, 1, 2, 2))
    with pytest.raises(TypeError, match=r"\(1, 1, 2, 2\)"):
        conv2d(f32(1, 1, 3, 3), tg.Tensor(np.zeros((1, 1, 2, 2), dtype=np.int32)))
    with pytest.raises(TypeError, match=r"float64.*float32|float32.*float64"):
        conv2d(tg.Tensor(np.zeros((1, 1, 3, 3))), f32(1, 1, 2, 2))
    with pytest.raises(TypeError, match=r"bias"):
        conv2d(f32(1, 1, 3, 3), f32(1, 1, 2, 2), tg.Tensor(np.zeros(1)))
    with pytest.raises(TypeError, match="float16"):
        conv1d(tg.Tensor(np.zeros((1, 1, 3), dtype=np.float16)), tg.Tensor(np.zeros((1, 1, 2), dtype=np.float16)))
    with pytest.raises(TypeError, match="ndarray"):
        conv2d(np.zeros((1, 1, 3, 3)), f32(1, 1, 2, 2))


def test_conv1d_bad_input_raises():
    with pytest.raises(ValueError, match=r"\(2, 3, 4, 5\)"):
        conv1d(f32(2, 3, 4, 5), f32(4, 3, 3))
    with pytest.raises(ValueError, match=r"\(2, 3, 2\)"):
        conv1d(f32(2, 3, 2), f32(4, 3, 3))
    with pytest.raises(ValueError, match=r"\(4, 2, 3\)"):
        conv1d(f32(2, 3, 8), f32(4, 2, 3))


BAD_TRANSPOSE = [  # (input, weight, kwargs, exception, text in the message)
    (f32(1, 3, 4, 4), f32(2, 3, 3, 3), {}, ValueError, "(1, 3, 4, 4)"),           # channels
    (f32(1, 3, 4, 4), f32(3, 2, 3, 3), {"groups": 2}, ValueError, "groups=2"),
    (f32(1, 2, 4, 4), f32(2, 2, 3, 3), {"stride": 2, "output_padding": 2}, ValueError, "output_padding"),
    (f32(1, 2, 4, 4), f32(2, 2, 3, 3), {"output_padding": 1}, ValueError, "(1, 1)"),   # ≥ stride and dilation
    (f32(1, 2, 4, 4), f32(2, 2, 3, 3), {"stride": 0}, ValueError, "stride"),
    (f32(1, 2, 4, 4), f32(2, 2, 3, 3), {"padding": -1}, ValueError, "padding"),
    (f32(1, 2, 4, 4), f32(2, 2, 3, 3), {"padding": "same"}, ValueError, "same"),
    (f32(1, 2, 1, 1), f32(2, 2, 1, 1), {"padding": 1}, ValueError, "(1, 2, 1, 1)"),    # empty output
    (f32(1, 2, 4, 4), f32(2, 2, 3), {}, ValueError, "(2, 2, 3)"),
    (f32(1, 2, 4, 4), f32(2, 2, 3, 3), {"bias": f32(3)}, ValueError, "(3,)"),
    (f32(2, 2, 0, 4), f32(2, 2, 3, 3), {}, ValueError, "empty batch"),             # as torch
]


@pytest.mark.parametrize("x, w, kwargs, error, text", BAD_TRANSPOSE)
def test_conv_transpose2d_bad_input_raises(x, w, kwargs, error, text):
    with pytest.raises(error) as info:
        conv_transpose2d(x, w, **kwargs)
    assert text in str(info.value)


def test_conv2d_compiled_boundary_checks_its_arguments_too():
    x, w = np.zeros((1, 2, 5, 5)), np.zeros((3, 2, 3, 3))
    geo = ((1, 1), (0, 0), (1, 1), 1)  # stride, padding, dilation, groups
    with pytest.raises(ValueError, match=r"\(1, 2, 5, 5\)"):
        kernels.conv2d_forward_direct(x, np.zeros((3, 1, 3, 3)), None, (3, 3), *geo)
    with pytest.raises(ValueError, match="positive"):
        kernels.conv2d_forward_fast(x, w, None, (3, 3), (0, 1), (0, 0), (1, 1), 1)
    with pytest.raises(ValueError, match="negative"):
        kernels.conv2d_grad_input_direct(np.zeros((1, 3, 3, 3)), w, (5, 5), (1, 1), (-1, 0), (1, 1), 1)
    with pytest.raises(TypeError, match="int64"):
        kernels.conv2d_grad_weight_fast(np.zeros((1, 2, 5, 5), dtype=np.int64), np.zeros((1, 3, 3, 3)),
                                        (3, 3), *geo)
    with pytest.raises(TypeError, match="float32"):
        kernels.conv2d_forward_direct(x.astype(np.float32), w, None, (3, 3), *geo)
    with pytest.raises(ValueError, match=r"\(1, 2, 5, 5\)"):  # grad_output with 2 channels, not 3
        kernels.conv2d_grad_input_fast(np.zeros((1, 2, 3, 3)), w, (5, 5), *geo)
    with pytest.raises(ValueError, match=r"\(1, 3, 3\)"):
        kernels.conv2d_grad_weight_direct(x, np.zeros((1, 3, 3)), (3, 3), *geo)
    with pytest.raises(ValueError, match=r"\(3, 3\)"):
        kernels.conv2d_backward_fast(x, w, np.zeros((3, 3)), None, True, True, *geo)
    with pytest.raises(ValueError, match="col2im"):
        kernels.col2im(np.zeros((1, 18, 8)), (1, 2, 5, 5), (3, 3), (3, 3), (1, 1), (0, 0), (1, 1))


# ---------------------------------------------------------------------------------------------
# The backend switch really changes the compiled path
# ---------------------------------------------------------------------------------------------
def test_conv2d_backend_switch_selects_the_compiled_path(monkeypatch):
    calls = []
    for name in ("conv2d_forward_direct", "conv2d_grad_input_direct", "conv2d_grad_weight_direct",
                 "conv2d_forward_fast", "conv2d_grad_input_fast", "conv2d_grad_weight_fast",
                 "conv2d_backward_fast"):
        original = getattr(kernels, name)
        monkeypatch.setattr(kernels, name, lambda *a, _f=original, _n=name, **k: calls.append(_n) or _f(*a, **k))
    rng = np.random.default_rng(13)
    x, w = rng.standard_normal((2, 3, 6, 5)), rng.standard_normal((4, 3, 3, 2))
    results = {}
    for path in ("direct", "fast"):
        calls.clear()
        tx, tw = tg.Tensor(x, requires_grad=True), tg.Tensor(w, requires_grad=True)
        with tg.use_backend(path):
            h = conv2d(tx, tw, stride=2, padding=1)
        h.backward(np.ones(h.shape))        # outside the block: backward keeps forward's path
        assert calls and all(name.endswith(f"_{path}") for name in calls)     # only this path ran
        assert f"conv2d_forward_{path}" in calls
        assert ({f"conv2d_grad_input_{path}", f"conv2d_grad_weight_{path}"} <= set(calls)
                or f"conv2d_backward_{path}" in calls)
        results[path] = (h.data, tx.grad, tw.grad)
    for direct, fast in zip(results["direct"], results["fast"]):
        np.testing.assert_allclose(direct, fast, rtol=1e-12, atol=1e-12)
    assert tg.get_backend() == "fast"
