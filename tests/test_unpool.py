"""max_unpool2d / nn.MaxUnpool2d and max_pool2d(return_indices=True): the reference loops,
gradcheck, PyTorch (values, gradients, output_size), the pool → unpool round trip, bad input."""

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import tinygrad_edu as tg
import tinygrad_edu.nn as nn
from tinygrad_edu.nn.functional import max_pool2d, max_unpool2d
from tinygrad_edu.ops.pool import pool_output_size
from tinygrad_edu.reference import pool as ref

SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def pool_cases(draw):
    """A max pooling (no dilation, no ceil_mode: what unpooling inverts) and its input shape."""
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3)),
             draw(st.integers(1, 8)), draw(st.integers(1, 8)))
    out = [pool_output_size(n, k, s, p) for n, k, s, p in zip(shape[2:], kernel, stride, padding)]
    assume(min(out) >= 1)
    return shape, kernel, stride, padding


def distinct(shape, seed, dtype=np.float64):
    """Values without ties, so the argmax (and PyTorch's) is unambiguous."""
    size = int(np.prod(shape))
    return (np.random.default_rng(seed).permutation(size).reshape(shape) / size - 0.5).astype(dtype)


@SETTINGS
@given(pool_cases(), st.integers(0, 2**16))
def test_max_unpool2d_matches_the_reference_loops(case, seed):
    shape, kernel, stride, padding = case
    pooled, idx = max_pool2d(tg.Tensor(distinct(shape, seed)), kernel, stride, padding, return_indices=True)
    x = tg.Tensor(np.random.default_rng(seed).standard_normal(pooled.shape), requires_grad=True)
    y = max_unpool2d(x, idx, kernel, stride, padding, output_size=shape[2:])
    assert y.shape == shape
    np.testing.assert_array_equal(y.data, ref.max_unpool2d_forward(x.data, idx.data, shape[2:]))
    g = np.random.default_rng(seed + 1).standard_normal(y.shape)
    y.backward(g)
    np.testing.assert_array_equal(x.grad, ref.max_unpool2d_backward(g, idx.data))


@SETTINGS
@given(st.integers(1, 2), st.integers(1, 3), st.integers(1, 6), st.integers(1, 6), st.integers(0, 2**16))
def test_max_unpool2d_gradcheck(N, C, h, w, seed):
    """Distinct target positions (a random permutation): the exact derivative is the gather."""
    rng = np.random.default_rng(seed)
    OH, OW = 2 * h, 2 * w
    idx = np.stack([rng.permutation(OH * OW)[:h * w] for _ in range(N * C)]).reshape(N, C, h, w)
    x = tg.Tensor(rng.standard_normal((N, C, h, w)), requires_grad=True)
    assert tg.gradcheck(lambda t: max_unpool2d(t, tg.Tensor(idx), 2), [x])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("args", [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1),
                                  dict(kernel_size=(2, 3), stride=(1, 2)),
                                  dict(kernel_size=3, stride=1, padding=1)])
@pytest.mark.parametrize("size", [(8, 8), (7, 9)])
def test_max_unpool2d_matches_torch(dtype, args, size):
    """Pool with indices, unpool (to the original size), and both gradients, against PyTorch;
    overlapping windows (stride < kernel) send several maxima to one place."""
    torch = pytest.importorskip("torch")
    x = distinct((2, 3) + size, 0, dtype)
    ours, theirs = tg.Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    pooled, idx = max_pool2d(ours, return_indices=True, **args)
    t_pooled, t_idx = torch.nn.functional.max_pool2d(theirs, return_indices=True, **args)
    np.testing.assert_array_equal(idx.data, t_idx.numpy())
    unpool_args = {k: v for k, v in args.items()}
    y = max_unpool2d(pooled, idx, output_size=size, **unpool_args)
    t = torch.nn.functional.max_unpool2d(t_pooled, t_idx, output_size=size, **unpool_args)
    np.testing.assert_array_equal(y.data, t.detach().numpy())
    g = np.random.default_rng(1).standard_normal(y.shape).astype(dtype)
    y.backward(g)
    t.backward(torch.tensor(g))
    np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=1e-6, atol=1e-6)


def test_max_unpool2d_duplicate_indices_follow_torch():
    """Two values sent to one place: the last is kept, and both read that place's gradient."""
    torch = pytest.importorskip("torch")
    x = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    idx = np.array([[[[0, 0], [5, 5]]]])
    ours, theirs = tg.Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y = max_unpool2d(ours, tg.Tensor(idx), 2)
    t = torch.nn.functional.max_unpool2d(theirs, torch.tensor(idx), 2)
    np.testing.assert_array_equal(y.data, t.detach().numpy())
    assert y.data[0, 0, 0, 0] == 2.0 and y.data[0, 0, 1, 1] == 4.0
    g = np.arange(16.0).reshape(1, 1, 4, 4)
    y.backward(g)
    t.backward(torch.tensor(g))
    np.testing.assert_array_equal(ours.grad, theirs.grad.numpy())
    np.testing.assert_array_equal(ours.grad[0, 0], [[0.0, 0.0], [5.0, 5.0]])


def test_max_unpool2d_modules_and_unbatched_input():
    torch = pytest.importorskip("torch")
    x = distinct((3, 6, 5), 4, np.float32) + 1          # (C, H, W): no batch axis, no zeros
    pool, unpool = nn.MaxPool2d(2, return_indices=True), nn.MaxUnpool2d(2)
    pooled, idx = pool(tg.Tensor(x))
    t_pooled, t_idx = torch.nn.MaxPool2d(2, return_indices=True)(torch.tensor(x))
    y = unpool(pooled, idx, output_size=(6, 5))
    t = torch.nn.MaxUnpool2d(2)(t_pooled, t_idx, output_size=(6, 5))
    assert y.shape == (3, 6, 5)
    np.testing.assert_array_equal(y.data, t.numpy())
    even, even_idx = pool(tg.Tensor(x[:, :, :4]))
    assert unpool(even, even_idx).shape == (3, 6, 4)     # the default size: (h − 1)·s + k
    with pytest.raises(IndexError, match="invalid max index"):
        unpool(pooled, idx)                               # indices into a 5-wide plane, default 4
    assert unpool(pooled, idx, output_size=(1, 3, 7, 5)).shape == (3, 7, 5)   # (N, C, H, W) too
    assert repr(unpool) == "MaxUnpool2d(kernel_size=2, stride=2, padding=0)"
    # every kept value is the maximum of its window; the rest of the plane is zero
    assert (y.data != 0).sum() == pooled.data.size
    np.testing.assert_array_equal(np.sort(y.data[y.data != 0]), np.sort(pooled.data.ravel()))


def test_max_unpool2d_bad_input():
    x = tg.Tensor(np.ones((1, 1, 2, 2), np.float32))
    idx = tg.Tensor(np.zeros((1, 1, 2, 2), np.int64))
    with pytest.raises(ValueError, match="invalid output_size"):
        max_unpool2d(x, idx, 2, output_size=(6, 6))        # must lie strictly between 2 and 6
    with pytest.raises(ValueError, match="2 or 4 elements"):
        max_unpool2d(x, idx, 2, output_size=(4, 4, 4))
    with pytest.raises(IndexError, match="invalid max index 16"):
        max_unpool2d(x, tg.Tensor(np.array([[[[0, 1], [2, 16]]]])), 2)
    with pytest.raises(ValueError, match="must have the input's shape"):
        max_unpool2d(x, tg.Tensor(np.zeros((1, 1, 2, 3), np.int64)), 2)
    with pytest.raises(TypeError, match="int64"):
        max_unpool2d(x, tg.Tensor(np.zeros((1, 1, 2, 2), np.float32)), 2)
    with pytest.raises(ValueError, match="3-D .* or 4-D"):
        max_unpool2d(tg.Tensor(np.ones((2, 2), np.float32)), tg.Tensor(np.zeros((2, 2), np.int64)), 2)


def test_max_unpool2d_empty_batch():
    x = tg.Tensor(np.zeros((0, 3, 2, 2), np.float32), requires_grad=True)
    y = max_unpool2d(x, tg.Tensor(np.zeros((0, 3, 2, 2), np.int64)), 2)
    assert y.shape == (0, 3, 4, 4)
    y.sum().backward()
    assert x.grad.shape == (0, 3, 2, 2)
