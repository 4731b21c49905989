"""max_pool2d, avg_pool2d, interpolate / upsample_nearest2d: direct vs fast vs reference, gradcheck,
PyTorch, bad input. Each test is named after its op (test_pool_*: several ops)."""

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu._C import avg_pool, max_pool, upsample
from tinygrad_edu.nn.functional import (avg_pool2d, interpolate, max_pool2d,
                                        upsample_nearest2d)
from tinygrad_edu.ops.pool import nearest_sources, pool_output_size
from tinygrad_edu.reference import pool as ref

MANY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FEW = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ---------------------------------------------------------------------------------------------
# case generation
# ---------------------------------------------------------------------------------------------
@st.composite
def pool_cases(draw, dilation=True, max_size=9):
    """A valid pooling configuration: shape, kernel, stride, padding, dilation, ceil_mode."""
    N, C = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    H, W = draw(st.integers(1, max_size)), draw(st.integers(1, max_size))
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dil = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) if dilation else (1, 1)
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)  # PyTorch's limit
    ceil_mode = draw(st.booleans())
    out = tuple(pool_output_size(n, k, s, p, d, ceil_mode)
                for n, k, s, p, d in zip((H, W), kernel, stride, padding, dil))
    assume(min(out) >= 1)
    return dict(shape=(N, C, H, W), kernel=kernel, stride=stride, padding=padding, dilation=dil,
                ceil_mode=ceil_mode, out=out)


def every_window_sees_input(case):
    """False for the odd dilated windows that fall entirely in the padding (PyTorch differs)."""
    for n, k, s, p, d, o in zip(case["shape"][2:], case["kernel"], case["stride"], case["padding"],
                                case["dilation"], case["out"]):
        for i in range(o):
            if not any(0 <= i * s - p + m * d < n for m in range(k)):
                return False
    return True


def make_input(shape, dtype, kind, seed):
    """kind: "normal", "ties" (few distinct values) or "distinct" (a scaled permutation)."""
    rng = np.random.default_rng(seed)
    size = int(np.prod(shape))
    if kind == "ties":
        return rng.integers(-2, 3, size=shape).astype(dtype)
    if kind == "distinct":
        return (rng.permutation(size).reshape(shape) - size / 2).astype(dtype) / 4
    return rng.standard_normal(shape).astype(dtype)


dtypes = st.sampled_from([np.float32, np.float64])
kinds = st.sampled_from(["normal", "ties", "distinct"])
seeds = st.integers(0, 2**31 - 1)


def _window_args(case):
    return case["kernel"], case["stride"], case["padding"]


# ---------------------------------------------------------------------------------------------
# direct == fast == reference (bit for bit)
# ---------------------------------------------------------------------------------------------
@MANY
@given(pool_cases(), dtypes, kinds, seeds)
def test_max_pool2d_direct_fast_reference_agree(case, dtype, kind, seed):
    x = make_input(case["shape"], dtype, kind, seed)
    args = (*_window_args(case), case["dilation"], case["out"])
    out_r, idx_r = ref.max_pool2d_forward(x, *args)
    g = make_input(out_r.shape, dtype, "normal", seed + 1)
    grad_r = ref.max_pool2d_backward(g, idx_r, x.shape[2:])
    for fast in (False, True):
        out, idx = max_pool.max_pool2d_forward(x, *args, fast=fast)
        np.testing.assert_array_equal(out, out_r)
        np.testing.assert_array_equal(idx, idx_r)
        assert out.dtype == dtype and idx.dtype == np.int64
        grad = max_pool.max_pool2d_backward(g, idx, x.shape[2:], fast=fast)
        np.testing.assert_array_equal(grad, grad_r)
        assert grad.dtype == dtype


@MANY
@given(pool_cases(dilation=False), dtypes, seeds, st.booleans(),
       st.one_of(st.none(), st.integers(1, 5)))
def test_avg_pool2d_direct_fast_reference_agree(case, dtype, seed, count_include_pad, divisor):
    x = make_input(case["shape"], dtype, "normal", seed)
    args = (*_window_args(case), case["out"], count_include_pad, divisor)
    out_r = ref.avg_pool2d_forward(x, *args)
    g = make_input(out_r.shape, dtype, "normal", seed + 1)
    grad_r = ref.avg_pool2d_backward(g, x.shape[2:], *_window_args(case), count_include_pad, divisor)
    for fast in (False, True):
        out = avg_pool.avg_pool2d_forward(x, *args, fast=fast)
        np.testing.assert_array_equal(out, out_r)
        grad = avg_pool.avg_pool2d_backward(g, x.shape[2:], *_window_args(case), count_include_pad,
                                     divisor, fast=fast)
        np.testing.assert_array_equal(grad, grad_r)


@MANY
@given(st.integers(1, 2), st.integers(1, 3), st.integers(1, 7), st.integers(1, 7),
       st.integers(1, 15), st.integers(1, 15), dtypes, seeds)
def test_upsample_nearest2d_direct_fast_reference_agree(N, C_, H, W, OH, OW, dtype, seed):
    x = make_input((N, C_, H, W), dtype, "normal", seed)
    src_h, src_w = nearest_sources(H, OH, None, False), nearest_sources(W, OW, None, False)
    out_r = ref.upsample_nearest2d_forward(x, src_h, src_w)
    g = make_input(out_r.shape, dtype, "normal", seed + 1)
    grad_r = ref.upsample_nearest2d_backward(g, src_h, src_w, (H, W))
    for fast in (False, True):
        np.testing.assert_array_equal(upsample.upsample_nearest2d_forward(x, src_h, src_w, fast=fast), out_r)
        np.testing.assert_array_equal(
            upsample.upsample_nearest2d_backward(g, src_h, src_w, (H, W), fast=fast), grad_r)


@pytest.mark.parametrize("H, W", [(8, 8), (7, 9), (2, 2), (5, 4), (3, 3), (2, 601)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pool_2x2_stride2_specialised_loops_agree(H, W, dtype):
    """The fast path's 2×2/stride-2 loops (odd sizes leave a row/column out) vs the direct ones."""
    x = make_input((2, 3, H, W), dtype, "ties", H * 10 + W)
    out_size = (H // 2, W // 2)
    g = make_input((2, 3) + out_size, dtype, "normal", 1)
    for_both = [max_pool.max_pool2d_forward(x, (2, 2), (2, 2), (0, 0), (1, 1), out_size, fast=f) for f in (0, 1)]
    np.testing.assert_array_equal(for_both[0][0], for_both[1][0])
    np.testing.assert_array_equal(for_both[0][1], for_both[1][1])
    grads = [max_pool.max_pool2d_backward(g, for_both[0][1], (H, W), fast=f) for f in (0, 1)]
    np.testing.assert_array_equal(grads[0], grads[1])
    avg = [avg_pool.avg_pool2d_forward(x, (2, 2), (2, 2), (0, 0), out_size, fast=f) for f in (0, 1)]
    np.testing.assert_array_equal(avg[0], avg[1])
    avg_grads = [avg_pool.avg_pool2d_backward(g, (H, W), (2, 2), (2, 2), (0, 0), fast=f) for f in (0, 1)]
    np.testing.assert_array_equal(avg_grads[0], avg_grads[1])
    np.testing.assert_array_equal(avg_grads[1], ref.avg_pool2d_backward(g, (H, W), (2, 2), (2, 2), (0, 0)))


@pytest.mark.parametrize("threads", [1, 2])
def test_pool_fast_path_with_threads_matches_direct(threads):
    """Big enough (≥ 65536 elements) for the fast path to split the planes across threads."""
    x = make_input((4, 16, 34, 33), np.float32, "ties", threads)
    src_h, src_w = nearest_sources(34, 68, None, False), nearest_sources(33, 50, None, False)
    previous = tg.get_num_threads()
    tg.set_num_threads(threads)       # the one pool every compiled kernel shares
    try:
        results = []
        for fast in (False, True):
            out, idx = max_pool.max_pool2d_forward(x, (3, 2), (2, 2), (1, 1), (1, 1), (17, 17), fast=fast)
            up = upsample.upsample_nearest2d_forward(x, src_h, src_w, fast=fast)
            avg = avg_pool.avg_pool2d_forward(x, (2, 2), (2, 2), (0, 0), (17, 16), fast=fast)
            results.append([out, idx, max_pool.max_pool2d_backward(out, idx, (34, 33), fast=fast), up,
                            upsample.upsample_nearest2d_backward(up, src_h, src_w, (34, 33), fast=fast), avg,
                            avg_pool.avg_pool2d_backward(avg, (34, 33), (2, 2), (2, 2), (0, 0), fast=fast)])
    finally:
        tg.set_num_threads(previous)
    for direct, fast in zip(*results):
        np.testing.assert_array_equal(direct, fast)


def test_max_pool2d_ties_first_maximum_wins():
    x = np.array([[[[1.0, 1.0], [1.0, 1.0]]]])
    for fast in (False, True):
        out, idx = max_pool.max_pool2d_forward(x, (2, 2), (2, 2), (0, 0), (1, 1), (1, 1), fast=fast)
        assert out[0, 0, 0, 0] == 1.0 and idx[0, 0, 0, 0] == 0


def test_pool_public_functions_use_the_selected_backend_and_agree():
    x = tg.Tensor(make_input((2, 3, 7, 6), np.float32, "ties", 0), requires_grad=True)
    results = []
    for backend in ("direct", "fast"):
        with tg.use_backend(backend):
            x.grad = None
            y = max_pool2d(x, 3, 2, 1) * 2 + avg_pool2d(x, 2, 1, 1, count_include_pad=False).sum() \
                + interpolate(x, size=(5, 9))[:, :, :4, :3].sum()
            y.sum().backward()
            results.append((y.data.copy(), x.grad.copy()))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])


# ---------------------------------------------------------------------------------------------
# gradcheck (float64)
# ---------------------------------------------------------------------------------------------
@FEW
@given(pool_cases(max_size=6), seeds)
def test_max_pool2d_gradcheck(case, seed):
    assume(every_window_sees_input(case))
    x = tg.Tensor(make_input(case["shape"], np.float64, "distinct", seed), requires_grad=True)
    assert tg.gradcheck(lambda t: max_pool2d(t, case["kernel"], case["stride"], case["padding"],
                                             case["dilation"], case["ceil_mode"]), [x])


@FEW
@given(pool_cases(dilation=False, max_size=6), seeds, st.booleans(),
       st.one_of(st.none(), st.integers(1, 5)))
def test_avg_pool2d_gradcheck(case, seed, count_include_pad, divisor):
    x = tg.Tensor(make_input(case["shape"], np.float64, "normal", seed), requires_grad=True)
    assert tg.gradcheck(lambda t: avg_pool2d(t, case["kernel"], case["stride"], case["padding"],
                                             case["ceil_mode"], count_include_pad, divisor), [x])


@FEW
@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 9), st.integers(1, 9), seeds)
def test_interpolate_gradcheck_size(H, W, OH, OW, seed):
    x = tg.Tensor(make_input((1, 2, H, W), np.float64, "normal", seed), requires_grad=True)
    assert tg.gradcheck(lambda t: interpolate(t, size=(OH, OW)), [x])


@pytest.mark.parametrize("scale", [1, 2, 3, (2, 1), 1.5])
def test_interpolate_gradcheck_scale_factor(scale):
    x = tg.Tensor(make_input((2, 1, 3, 4), np.float64, "normal", 3), requires_grad=True)
    assert tg.gradcheck(lambda t: interpolate(t, scale_factor=scale), [x])


def test_pool_gradcheck_three_dimensional_inputs():
    x = tg.Tensor(make_input((2, 5, 4), np.float64, "distinct", 4), requires_grad=True)
    assert tg.gradcheck(lambda t: max_pool2d(t, 2, 1), [x])
    assert tg.gradcheck(lambda t: avg_pool2d(t, (2, 3), padding=1), [x])
    assert tg.gradcheck(lambda t: interpolate(t, size=7), [x])  # (N, C, L): 1-D resizing


# ---------------------------------------------------------------------------------------------
# PyTorch
# ---------------------------------------------------------------------------------------------
def _torch_pair(x, torch):
    ours = tg.Tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    return ours, theirs


@MANY
@given(pool_cases(), dtypes, kinds, seeds)
def test_max_pool2d_matches_torch(case, dtype, kind, seed):
    torch = pytest.importorskip("torch")
    assume(every_window_sees_input(case))
    x = make_input(case["shape"], dtype, kind, seed)
    ours, theirs = _torch_pair(x, torch)
    args = (case["kernel"], case["stride"], case["padding"], case["dilation"], case["ceil_mode"])
    out, idx = max_pool2d(ours, *args, return_indices=True)
    t_out, t_idx = torch.nn.functional.max_pool2d(theirs, *args, return_indices=True)
    np.testing.assert_array_equal(out.data, t_out.detach().numpy())
    np.testing.assert_array_equal(idx.data, t_idx.numpy())
    g = make_input(out.shape, dtype, "normal", seed + 1)
    out.backward(g)
    t_out.backward(torch.tensor(g))
    np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=1e-6, atol=1e-6)


@MANY
@given(pool_cases(dilation=False), dtypes, seeds, st.booleans(),
       st.one_of(st.none(), st.integers(1, 5)))
def test_avg_pool2d_matches_torch(case, dtype, seed, count_include_pad, divisor):
    torch = pytest.importorskip("torch")
    x = make_input(case["shape"], dtype, "normal", seed)
    ours, theirs = _torch_pair(x, torch)
    args = (case["kernel"], case["stride"], case["padding"], case["ceil_mode"], count_include_pad,
            divisor)
    out = avg_pool2d(ours, *args)
    t_out = torch.nn.functional.avg_pool2d(theirs, *args)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out.data, t_out.detach().numpy(), rtol=tol, atol=tol)
    g = make_input(out.shape, dtype, "normal", seed + 1)
    out.backward(g)
    t_out.backward(torch.tensor(g))
    np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=tol, atol=tol)


@MANY
@given(st.integers(1, 2), st.integers(1, 2), st.integers(1, 9), st.integers(1, 9),
       st.one_of(st.tuples(st.integers(1, 20), st.integers(1, 20)).map(lambda s: ("size", s)),
                 st.sampled_from([2, 3, 0.5, 1.5, 2.5, (2, 3), (1.7, 0.8), 4, 7, 1 / 3])
                 .map(lambda s: ("scale_factor", s))),
       st.sampled_from(["nearest", "nearest-exact"]), seeds)
def test_interpolate_matches_torch(N, C_, H, W, how, mode, seed):
    torch = pytest.importorskip("torch")
    kwargs = {how[0]: how[1], "mode": mode}
    if how[0] == "scale_factor":
        factors = how[1] if isinstance(how[1], tuple) else (how[1], how[1])
        assume(int(H * factors[0]) >= 1 and int(W * factors[1]) >= 1)
    x = make_input((N, C_, H, W), np.float32, "normal", seed)
    ours, theirs = _torch_pair(x, torch)
    out = interpolate(ours, **kwargs)
    t_out = torch.nn.functional.interpolate(theirs, **kwargs)
    np.testing.assert_array_equal(out.data, t_out.detach().numpy())
    g = make_input(out.shape, np.float32, "normal", seed + 1)
    out.backward(g)
    t_out.backward(torch.tensor(g))
    np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=1e-5, atol=1e-5)


def test_interpolate_one_dimensional_and_recompute_match_torch():
    torch = pytest.importorskip("torch")
    x = make_input((2, 3, 5), np.float32, "normal", 7)
    for kwargs in (dict(size=12), dict(scale_factor=2.5), dict(scale_factor=1.7, recompute_scale_factor=True)):
        np.testing.assert_array_equal(interpolate(tg.Tensor(x), **kwargs).data,
                                      torch.nn.functional.interpolate(torch.tensor(x), **kwargs).numpy())
    x4 = make_input((1, 2, 5, 3), np.float32, "normal", 8)
    np.testing.assert_array_equal(
        upsample_nearest2d(tg.Tensor(x4), scale_factor=(1.6, 2.2)).data,
        torch.nn.functional.interpolate(torch.tensor(x4), scale_factor=(1.6, 2.2)).numpy())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("args", [dict(kernel_size=2), dict(kernel_size=3, stride=1, padding=1),
                                  dict(kernel_size=(2, 3), stride=(1, 2), ceil_mode=True)])
def test_max_pool2d_nan_propagates_as_torch(dtype, args):
    torch = pytest.importorskip("torch")
    x = make_input((2, 2, 6, 7), dtype, "ties", 5)
    rng = np.random.default_rng(0)
    x[rng.random(x.shape) < 0.15] = np.nan
    x[0, 0, 0, :3] = np.nan  # a window with several NaN
    for backend in ("direct", "fast"):
        with tg.use_backend(backend):
            ours, theirs = _torch_pair(x, torch)
            out, idx = max_pool2d(ours, **args, return_indices=True)
            t_out, t_idx = torch.nn.functional.max_pool2d(theirs, **args, return_indices=True)
            np.testing.assert_array_equal(out.data, t_out.detach().numpy())  # NaN == NaN here
            np.testing.assert_array_equal(idx.data, t_idx.numpy())
            out.sum().backward()
            t_out.sum().backward()
            np.testing.assert_array_equal(ours.grad, theirs.grad.numpy())
            avg = avg_pool2d(tg.Tensor(x), args["kernel_size"], args.get("stride"), args.get("padding", 0))
            t_avg = torch.nn.functional.avg_pool2d(torch.tensor(x), args["kernel_size"],
                                                   args.get("stride"), args.get("padding", 0))
            np.testing.assert_array_equal(np.isnan(avg.data), np.isnan(t_avg.numpy()))


def test_max_pool2d_nan_is_the_max_without_torch():
    x = np.array([[[[1.0, np.nan], [3.0, 2.0]]]])
    for fast in (False, True):
        out, idx = max_pool.max_pool2d_forward(x, (2, 2), (2, 2), (0, 0), (1, 1), (1, 1), fast=fast)
        assert np.isnan(out[0, 0, 0, 0]) and idx[0, 0, 0, 0] == 1


# ---------------------------------------------------------------------------------------------
# API details
# ---------------------------------------------------------------------------------------------
def test_pool_defaults_shapes_and_dtypes():
    x = tg.Tensor(np.arange(2 * 3 * 8 * 8, dtype=np.float64).reshape(2, 3, 8, 8))
    assert max_pool2d(x, 2).shape == (2, 3, 4, 4)  # stride defaults to kernel_size
    assert max_pool2d(x, 3, stride=2, padding=1, ceil_mode=True).shape == (2, 3, 5, 5)
    assert avg_pool2d(x, 3, ceil_mode=True).shape == (2, 3, 3, 3)
    assert max_pool2d(x, 2).dtype == np.float64 and avg_pool2d(x, 2).dtype == np.float64
    out, idx = max_pool2d(x, 2, return_indices=True)
    assert idx.dtype == np.int64 and idx.shape == out.shape and not idx.requires_grad
    assert interpolate(x, scale_factor=2).shape == (2, 3, 16, 16)
    assert interpolate(x, size=5).shape == (2, 3, 5, 5)
    assert max_pool2d(tg.Tensor(x.data[0]), 2).shape == (3, 4, 4)  # (C, H, W) input


def test_pool_empty_batch():
    x = tg.Tensor(np.zeros((0, 3, 6, 6), np.float32), requires_grad=True)
    for y in (max_pool2d(x, 2), avg_pool2d(x, 3, 1, 1), interpolate(x, scale_factor=2)):
        assert y.shape[:2] == (0, 3)
        y.sum().backward()
        assert x.grad.shape == (0, 3, 6, 6)


def test_pool_non_contiguous_and_float16_inputs():
    base = tg.Tensor(make_input((2, 3, 6, 8), np.float32, "normal", 9), requires_grad=True)
    view = base.permute(0, 1, 3, 2)  # its data is a transposed, non-contiguous numpy view
    assert not view.data.flags.c_contiguous
    y = max_pool2d(view, 2)
    np.testing.assert_array_equal(y.data, max_pool2d(tg.Tensor(np.ascontiguousarray(view.data)), 2).data)
    y.sum().backward()
    assert base.grad.shape == (2, 3, 6, 8) and base.grad.sum() == y.data.size
    half = tg.Tensor(base.data.astype(np.float16), requires_grad=True)
    z = avg_pool2d(half, 2)
    assert z.dtype == np.float16
    z.sum().backward()
    assert half.grad.dtype == np.float16
    np.testing.assert_allclose(half.grad, 0.25)


def test_interpolate_gradient_of_broadcast_upstream_and_no_grad():
    x = tg.Tensor(make_input((1, 1, 4, 4), np.float32, "distinct", 2), requires_grad=True)
    interpolate(x, scale_factor=3).mean().backward()  # g arrives as a stride-0 broadcast
    np.testing.assert_allclose(x.grad, np.full((1, 1, 4, 4), 9 / 144), rtol=1e-6)
    with tg.no_grad():
        assert not max_pool2d(x, 2).requires_grad


# ---------------------------------------------------------------------------------------------
# bad input: clear exceptions, no crash
# ---------------------------------------------------------------------------------------------
IMAGE = tg.Tensor(np.zeros((1, 2, 4, 4), dtype=np.float32))


@pytest.mark.parametrize("call, error, message", [
    (lambda: max_pool2d(tg.Tensor(np.zeros((4, 4), np.float32)), 2), ValueError, r"\(4, 4\)"),
    (lambda: max_pool2d(tg.Tensor(np.zeros((1, 1, 1, 4, 4), np.float32)), 2), ValueError, "4-D"),
    (lambda: max_pool2d(IMAGE, 0), ValueError, "kernel_size must be greater than zero"),
    (lambda: max_pool2d(IMAGE, 2, stride=0), ValueError, "stride must be greater than zero"),
    (lambda: max_pool2d(IMAGE, 2, stride=-1), ValueError, "stride"),
    (lambda: max_pool2d(IMAGE, 3, padding=-1), ValueError, "non-negative"),
    (lambda: max_pool2d(IMAGE, 2, padding=2), ValueError, "pad should be at most half of effective kernel size"),
    (lambda: avg_pool2d(IMAGE, 3, padding=2), ValueError, "pad should be at most half"),
    (lambda: max_pool2d(IMAGE, 3, padding=2, dilation=2), ValueError, "at most half of kernel size"),
    (lambda: max_pool2d(IMAGE, 2, dilation=0), ValueError, "dilation"),
    (lambda: max_pool2d(IMAGE, 5), ValueError, r"too small.*\(1, 2, 4, 4\)"),
    (lambda: avg_pool2d(IMAGE, (1, 6)), ValueError, "too small"),
    (lambda: max_pool2d(IMAGE, (2, 2, 2)), ValueError, "kernel_size"),
    (lambda: max_pool2d(IMAGE, 2.0), TypeError, "kernel_size"),
    (lambda: max_pool2d(tg.Tensor(np.zeros((1, 1, 4, 4), np.int64)), 2), TypeError, "int64"),
    (lambda: avg_pool2d(tg.Tensor(np.zeros((1, 1, 4, 4), np.int32)), 2), TypeError, "int32"),
    (lambda: interpolate(tg.Tensor(np.zeros((1, 1, 4, 4), np.int64)), scale_factor=2), TypeError, "int64"),
    (lambda: max_pool2d(tg.Tensor(np.zeros((1, 0, 4, 4), np.float32)), 2), ValueError, "non-empty"),
    (lambda: max_pool2d(np.zeros((1, 1, 4, 4)), 2), TypeError, "Tensor"),
    (lambda: avg_pool2d(IMAGE, 2, divisor_override=0), ValueError, "divisor_override"),
    (lambda: interpolate(IMAGE, scale_factor=2, mode="bicubic"), NotImplementedError, "bicubic"),
    (lambda: interpolate(IMAGE), ValueError, "either size or scale_factor"),
    (lambda: interpolate(IMAGE, size=4, scale_factor=2), ValueError, "only one of"),
    (lambda: interpolate(IMAGE, size=(4, 4, 4)), ValueError, "spatial dimensions"),
    (lambda: interpolate(IMAGE, size=0), ValueError, "greater than 0"),
    (lambda: interpolate(IMAGE, scale_factor=0.1), ValueError, "greater than 0"),
    (lambda: interpolate(IMAGE, scale_factor=-2), ValueError, "positive"),
    (lambda: interpolate(IMAGE, scale_factor=2, align_corners=True), ValueError, "align_corners"),
    (lambda: interpolate(tg.Tensor(np.zeros((1, 1, 2, 2, 2), np.float32)), scale_factor=2,
                         mode="bilinear"), ValueError, "5-D"),
    (lambda: interpolate(tg.Tensor(np.zeros((4, 4), np.float32)), scale_factor=2), ValueError, r"\(4, 4\)"),
])
def test_pool_bad_arguments_raise(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_pool_compiled_boundary_rejects_bad_arrays():
    x = np.zeros((1, 1, 4, 4), np.float32)
    with pytest.raises(TypeError):
        max_pool.max_pool2d_forward(x.astype(np.int32), (2, 2), (2, 2), (0, 0), (1, 1), (2, 2))
    with pytest.raises(ValueError, match="contiguous"):
        avg_pool.avg_pool2d_forward(np.zeros((1, 1, 4, 8), np.float32)[..., ::2], (2, 2), (2, 2), (0, 0), (2, 2))
    with pytest.raises(ValueError, match="dimensions"):
        max_pool.max_pool2d_forward(x[0], (2, 2), (2, 2), (0, 0), (1, 1), (2, 2))
    with pytest.raises(ValueError, match="stride"):
        max_pool.max_pool2d_forward(x, (2, 2), (0, 2), (0, 0), (1, 1), (2, 2))
    g = np.ones((1, 1, 2, 2), np.float32)
    with pytest.raises(ValueError, match="outside"):  # an index that would write out of bounds
        max_pool.max_pool2d_backward(g, np.full((1, 1, 2, 2), 16, np.int64), (4, 4))
    with pytest.raises(ValueError, match="does not match"):
        max_pool.max_pool2d_backward(g, np.zeros((1, 1, 2, 3), np.int64), (4, 4))
    with pytest.raises(ValueError, match="src_h"):
        upsample.upsample_nearest2d_forward(x, np.array([0, 4], np.int64), np.array([0], np.int64))
    with pytest.raises(ValueError, match="does not match"):
        upsample.upsample_nearest2d_backward(g, np.array([0], np.int64), np.array([0], np.int64), (4, 4))
    # a geometry whose windows run past the image is clipped, never read out of bounds
    out, idx = max_pool.max_pool2d_forward(x + 1, (3, 3), (3, 3), (0, 0), (1, 1), (5, 5))
    assert np.isinf(out[0, 0, -1, -1]) and idx[0, 0, -1, -1] == -1
    # each of the three modules checks at its own boundary (the checks: csrc/pool_common.pxi)
    with pytest.raises(TypeError, match=r"int64.*\(1, 1, 4, 4\)"):
        upsample.upsample_nearest2d_forward(x.astype(np.int64), np.array([0], np.int64),
                                            np.array([0], np.int64))
    with pytest.raises(TypeError, match="src_w"):
        upsample.upsample_nearest2d_forward(x, np.array([0], np.int64), [0, 1])
    with pytest.raises(TypeError, match="numpy array"):
        avg_pool.avg_pool2d_backward([[1.0]], (4, 4), (2, 2), (2, 2), (0, 0))
    with pytest.raises(ValueError, match="divisor_override"):
        avg_pool.avg_pool2d_forward(x, (2, 2), (2, 2), (0, 0), (2, 2), True, 0)
    with pytest.raises(ValueError, match="in_size"):
        avg_pool.avg_pool2d_backward(g, (0, 4), (2, 2), (2, 2), (0, 0))
    with pytest.raises(TypeError, match=r"int64.*\(1, 1, 2, 2\)"):
        max_pool.max_pool2d_backward(g, np.zeros((1, 1, 2, 2), np.int32), (4, 4))


def test_interpolate_1d_scale_factor_always_counts_as_torch():
    """PyTorch's 1-D nearest kernel has no same-size/double-size shortcut (its 2-D one does):
    a length-10 signal scaled by 1.05 is still 10 long, but reads src = ⌊dst / 1.05⌋."""
    torch = pytest.importorskip("torch")
    for n in range(2, 12):
        for scale in (0.75, 1.05, 1.3, 1.95, 2.05, 2.2, 2.5):
            x = np.arange(2 * n, dtype=np.float32).reshape(1, 2, n)
            ours = interpolate(tg.Tensor(x), scale_factor=scale).data
            theirs = torch.nn.functional.interpolate(torch.tensor(x), scale_factor=scale).numpy()
            np.testing.assert_array_equal(ours, theirs, err_msg=f"n={n}, scale={scale}")
            y = x.reshape(1, 1, 2, n)
            ours = interpolate(tg.Tensor(y), scale_factor=(scale, 1.3)).data
            theirs = torch.nn.functional.interpolate(torch.tensor(y), scale_factor=(scale, 1.3)).numpy()
            np.testing.assert_array_equal(ours, theirs, err_msg=f"2-D n={n}, scale={scale}")


@pytest.mark.parametrize("mode", ["nearest", "nearest-exact"])
@pytest.mark.parametrize("shape, kwargs", [((2, 3, 2, 3, 4), dict(scale_factor=2)),
                                           ((1, 2, 3, 2, 5), dict(scale_factor=(1.7, 0.5, 3))),
                                           ((2, 1, 4, 3, 2), dict(size=(3, 5, 1)))])
def test_interpolate_volumes_like_torch(shape, kwargs, mode):
    """5-D (N, C, D, H, W) nearest resizing: values and gradients equal torch's."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    a = rng.standard_normal(shape)
    t = torch.tensor(a, requires_grad=True)
    expected = torch.nn.functional.interpolate(t, mode=mode, **kwargs)
    x = tg.Tensor(a, requires_grad=True)
    out = interpolate(x, mode=mode, **kwargs)
    w = rng.standard_normal(tuple(expected.shape))
    expected.backward(torch.tensor(w))
    out.backward(tg.Tensor(w))
    np.testing.assert_array_equal(out.data, expected.detach().numpy())
    np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=1e-12, atol=1e-12)
    assert tg.gradcheck(lambda v: interpolate(v, mode=mode, **kwargs), [tg.Tensor(a, requires_grad=True)])
