"""interpolate(mode="bilinear" / "linear"), nn.Upsample(mode="bilinear"), UpsamplingBilinear2d:
the matrix form (UpsampleBilinear2dFn) against the pixel loop of reference/upsample.py,
gradcheck, PyTorch (values and gradients, both align_corners modes), bad input."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tinygrad_edu as tg
import tinygrad_edu.nn as nn
from tinygrad_edu.nn.functional import interpolate
from tinygrad_edu.ops.pool import linear_weights
from tinygrad_edu.reference import upsample as ref

SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def resize_cases(draw):
    """A 4-D shape and either an output size or a scale factor (up or down), align_corners."""
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3)),
             draw(st.integers(1, 7)), draw(st.integers(1, 7)))
    if draw(st.booleans()):
        how = dict(size=(draw(st.integers(1, 12)), draw(st.integers(1, 12))))
    else:
        factors = st.sampled_from([0.5, 0.75, 1.0, 1.5, 2.0, 2.5, 3.0])
        how = dict(scale_factor=(draw(factors), draw(factors)))
        if min(int(n * f) for n, f in zip(shape[2:], how["scale_factor"])) < 1:
            how = dict(scale_factor=2)
        how["recompute_scale_factor"] = draw(st.sampled_from([None, True]))
    return shape, how, draw(st.booleans())


def _scales(how):
    """The scale factors PyTorch hands the kernel: only when given and not recomputed."""
    if "scale_factor" not in how or how.get("recompute_scale_factor"):
        return (None, None)
    f = how["scale_factor"]
    return tuple(f) if isinstance(f, tuple) else (f, f)


@SETTINGS
@given(resize_cases(), st.integers(0, 2**16))
def test_bilinear_matrix_form_equals_the_pixel_loop(case, seed):
    shape, how, corners = case
    x = tg.Tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True)
    y = interpolate(x, mode="bilinear", align_corners=corners, **how)
    expected = ref.upsample_bilinear2d_forward(x.data, y.shape[2:], corners, _scales(how))
    np.testing.assert_allclose(y.data, expected, rtol=1e-12, atol=1e-12)
    g = np.random.default_rng(seed + 1).standard_normal(y.shape)
    y.backward(g)
    np.testing.assert_allclose(x.grad, ref.upsample_bilinear2d_backward(g, shape[2:], corners, _scales(how)),
                               rtol=1e-12, atol=1e-12)


@SETTINGS
@given(resize_cases(), st.integers(0, 2**16))
def test_bilinear_gradcheck(case, seed):
    shape, how, corners = case
    x = tg.Tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True)
    assert tg.gradcheck(lambda t: interpolate(t, mode="bilinear", align_corners=corners, **how), [x])


def test_bilinear_gradcheck_linear_1d():
    x = tg.Tensor(np.random.default_rng(0).standard_normal((2, 3, 5)), requires_grad=True)
    for corners in (False, True):
        assert tg.gradcheck(lambda t: interpolate(t, size=9, mode="linear", align_corners=corners), [x])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("corners", [False, True])
@pytest.mark.parametrize("how", [dict(size=(9, 4)), dict(scale_factor=2), dict(scale_factor=(2.5, 1.7)),
                                 dict(scale_factor=0.5), dict(size=(6, 13)), dict(size=1),
                                 dict(scale_factor=(1.3, 3), recompute_scale_factor=True)])
def test_bilinear_matches_torch(dtype, corners, how):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 5, 7)).astype(dtype)
    ours = tg.Tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    y = interpolate(ours, mode="bilinear", align_corners=corners, **how)
    t = torch.nn.functional.interpolate(theirs, mode="bilinear", align_corners=corners, **how)
    assert y.shape == tuple(t.shape) and y.dtype == dtype
    tol = 1e-6 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(y.data, t.detach().numpy(), rtol=tol, atol=tol)
    g = rng.standard_normal(y.shape).astype(dtype)
    y.backward(g)
    t.backward(torch.tensor(g))
    np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=4 * tol, atol=4 * tol)


@pytest.mark.parametrize("corners", [False, True])
def test_bilinear_linear_1d_matches_torch(corners):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(1).standard_normal((2, 3, 6))
    for how in (dict(size=11), dict(scale_factor=1.5), dict(size=4)):
        y = interpolate(tg.Tensor(x), mode="linear", align_corners=corners, **how)
        t = torch.nn.functional.interpolate(torch.tensor(x), mode="linear", align_corners=corners, **how)
        np.testing.assert_allclose(y.data, t.numpy(), rtol=1e-13, atol=1e-13)


def test_bilinear_upsample_modules_match_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(2).standard_normal((1, 2, 4, 5)).astype(np.float32)
    pairs = [(nn.Upsample(scale_factor=2, mode="bilinear"),
              torch.nn.Upsample(scale_factor=2, mode="bilinear")),
             (nn.Upsample(size=(7, 3), mode="bilinear", align_corners=True),
              torch.nn.Upsample(size=(7, 3), mode="bilinear", align_corners=True)),
             (nn.UpsamplingBilinear2d(scale_factor=2), torch.nn.UpsamplingBilinear2d(scale_factor=2)),
             (nn.UpsamplingNearest2d(size=(6, 9)), torch.nn.UpsamplingNearest2d(size=(6, 9)))]
    for ours, theirs in pairs:
        np.testing.assert_allclose(ours(tg.Tensor(x)).data, theirs(torch.tensor(x)).numpy(),
                                   rtol=1e-6, atol=1e-6)
    assert "align_corners=True" in repr(pairs[1][0])


def test_bilinear_weights_are_convex_combinations():
    for n_in, n_out in ((1, 4), (3, 8), (8, 3), (5, 5), (4, 1)):
        for corners in (False, True):
            w = linear_weights(n_in, n_out, None, corners, np.float64)
            assert w.shape == (n_out, n_in) and (w >= 0).all()
            np.testing.assert_allclose(w.sum(axis=1), 1.0)
            assert ((w > 0).sum(axis=1) <= 2).all()       # two neighbours at most
    # align_corners=True keeps the corner pixels; False keeps the image's edges
    w = linear_weights(3, 7, None, True, np.float64)
    assert w[0, 0] == 1 and w[-1, -1] == 1 and w[3, 1] == 1


def test_bilinear_float16_and_constant_image():
    x = tg.Tensor(np.full((1, 1, 3, 4), 2.5, np.float16), requires_grad=True)
    y = interpolate(x, scale_factor=3, mode="bilinear")
    assert y.dtype == np.float16 and y.shape == (1, 1, 9, 12)
    np.testing.assert_array_equal(y.data, 2.5)      # the weights of each output sum to 1
    y.sum().backward()
    assert x.grad.dtype == np.float16
    assert abs(float(x.grad.astype(np.float64).sum()) - 108) < 1e-2   # the gradient's total is kept


def test_bilinear_bad_input():
    x4 = tg.Tensor(np.zeros((1, 1, 4, 4), np.float32))
    x3 = tg.Tensor(np.zeros((1, 1, 4), np.float32))
    with pytest.raises(ValueError, match="bilinear mode needs 4-D"):
        interpolate(x3, scale_factor=2, mode="bilinear")
    with pytest.raises(ValueError, match="linear mode needs 3-D"):
        interpolate(x4, scale_factor=2, mode="linear")
    with pytest.raises(NotImplementedError, match="bicubic"):
        interpolate(x4, scale_factor=2, mode="bicubic")
    with pytest.raises(NotImplementedError, match="antialias"):
        interpolate(x4, scale_factor=0.5, mode="bilinear", antialias=True)
    with pytest.raises(ValueError, match="align_corners"):
        interpolate(x4, scale_factor=2, mode="nearest", align_corners=True)
    with pytest.raises(ValueError, match="only one of size or scale_factor"):
        interpolate(x4, size=3, scale_factor=2, mode="bilinear")
    with pytest.raises(TypeError, match="floating point"):
        interpolate(tg.Tensor(np.zeros((1, 1, 4, 4), np.int64)), scale_factor=2, mode="bilinear")


def test_bilinear_empty_batch_and_non_contiguous_input():
    x = tg.Tensor(np.zeros((0, 3, 4, 4), np.float32), requires_grad=True)
    y = interpolate(x, scale_factor=2, mode="bilinear")
    assert y.shape == (0, 3, 8, 8)
    y.sum().backward()
    assert x.grad.shape == (0, 3, 4, 4)
    base = np.random.default_rng(3).standard_normal((1, 2, 5, 6))
    view = tg.Tensor(base).permute(0, 1, 3, 2)           # a transposed, non-contiguous view
    np.testing.assert_allclose(interpolate(view, size=(7, 3), mode="bilinear").data,
                               ref.upsample_bilinear2d_forward(np.ascontiguousarray(view.data), (7, 3)),
                               rtol=1e-12, atol=1e-12)
