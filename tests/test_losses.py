"""Losses: gradcheck of each, equality with PyTorch, stability for logits of ±1000, errors."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_edu.nn as nn
import tinygrad_edu.nn.functional as F
from tinygrad_edu import Tensor, gradcheck

REDUCTIONS = ["none", "mean", "sum"]


def _logits_and_target(seed, n, c, extra):
    rng = np.random.default_rng(seed)
    x = Tensor(rng.standard_normal((n, c) + extra), requires_grad=True)
    t = rng.integers(0, c, (n,) + extra)
    return rng, x, t


@settings(max_examples=10, deadline=None)
@given(n=st.integers(1, 4), c=st.integers(1, 4), spatial=st.booleans(),
       reduction=st.sampled_from(REDUCTIONS), smoothing=st.sampled_from([0.0, 0.2]),
       weighted=st.booleans(), seed=st.integers(0, 1000))
def test_cross_entropy_gradcheck(n, c, spatial, reduction, smoothing, weighted, seed):
    rng, x, t = _logits_and_target(seed, n, c, (2,) if spatial else ())
    w = rng.uniform(0.5, 2, c) if weighted else None
    t.flat[0] = -100  # one ignored target
    if (t != -100).sum() == 0 and reduction == "mean":
        t.flat[0] = 0
    assert gradcheck(lambda x: F.cross_entropy(x, t, w, reduction=reduction,
                                               label_smoothing=smoothing), [x])


@settings(max_examples=8, deadline=None)
@given(n=st.integers(1, 4), c=st.integers(1, 4), reduction=st.sampled_from(REDUCTIONS),
       seed=st.integers(0, 1000))
def test_nll_and_prob_target_gradcheck(n, c, reduction, seed):
    rng, x, t = _logits_and_target(seed, n, c, ())
    assert gradcheck(lambda x: F.nll_loss(x, t, reduction=reduction), [x])
    probs = rng.dirichlet(np.ones(c), n)
    assert gradcheck(lambda x: F.cross_entropy(x, probs, reduction=reduction), [x])


@settings(max_examples=8, deadline=None)
@given(shape=st.lists(st.integers(1, 3), min_size=1, max_size=3),
       reduction=st.sampled_from(REDUCTIONS), seed=st.integers(0, 1000))
def test_regression_and_binary_losses_gradcheck(shape, reduction, seed):
    rng = np.random.default_rng(seed)
    shape = tuple(shape)
    a = Tensor(rng.standard_normal(shape), requires_grad=True)
    b = Tensor(rng.standard_normal(shape), requires_grad=True)
    assert gradcheck(lambda a, b: F.mse_loss(a, b, reduction=reduction), [a, b])
    # keep |a − b| away from 0 and 1 where l1 / smooth_l1 have kinks
    b_far = Tensor(a.data + rng.choice([-1, 1], shape) * rng.uniform(0.1, 0.4, shape))
    assert gradcheck(lambda a: F.l1_loss(a, b_far, reduction=reduction), [a])
    assert gradcheck(lambda a: F.smooth_l1_loss(a, b_far, reduction=reduction), [a])
    p = Tensor(rng.uniform(0.05, 0.95, shape), requires_grad=True)
    t = Tensor(rng.uniform(0, 1, shape), requires_grad=True)
    assert gradcheck(lambda p, t: F.binary_cross_entropy(p, t, reduction=reduction), [p, t])
    z = Tensor(rng.standard_normal(shape) * 3, requires_grad=True)
    pw = rng.uniform(0.5, 3, shape[-1:])
    w = rng.uniform(0.5, 2, shape)
    assert gradcheck(lambda z, t: F.binary_cross_entropy_with_logits(
        z, t, weight=w, reduction=reduction, pos_weight=pw), [z, t])


def _both(torch, x):
    return Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_cross_entropy_matches_torch(reduction, smoothing):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 4, 3)) * 3
    t = rng.integers(0, 4, (5, 3))
    t[0, 0] = t[2, 1] = -100
    w = rng.uniform(0.5, 2, 4)
    ours, theirs = _both(torch, x)
    out = F.cross_entropy(ours, t, w, reduction=reduction, label_smoothing=smoothing)
    ref = torch.nn.functional.cross_entropy(theirs, torch.tensor(t), torch.tensor(w),
                                            reduction=reduction, label_smoothing=smoothing)
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-10, atol=1e-12)
    g = rng.standard_normal(out.shape)
    out.backward(Tensor(g))
    ref.backward(torch.tensor(g))
    np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_other_losses_match_torch():
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    p, t01 = rng.uniform(0.01, 0.99, (4, 3)), rng.uniform(0, 1, (4, 3))
    tb, tbt = Tensor(b), torch.tensor(b)
    pw = rng.uniform(0.5, 2, 3)
    cases = [
        (lambda x: F.mse_loss(x, tb), lambda x: tf.mse_loss(x, tbt), a),
        (lambda x: F.l1_loss(x, tb), lambda x: tf.l1_loss(x, tbt), a),
        (lambda x: F.smooth_l1_loss(x, tb, beta=0.5), lambda x: tf.smooth_l1_loss(x, tbt, beta=0.5), a),
        (lambda x: F.binary_cross_entropy(x, Tensor(t01)),
         lambda x: tf.binary_cross_entropy(x, torch.tensor(t01)), p),
        (lambda x: F.binary_cross_entropy_with_logits(x, Tensor(t01), pos_weight=pw),
         lambda x: tf.binary_cross_entropy_with_logits(x, torch.tensor(t01),
                                                       pos_weight=torch.tensor(pw)), a * 5),
        (lambda x: F.nll_loss(x.log_softmax(1), np.array([0, 2, 1, 1])),
         lambda x: tf.nll_loss(x.log_softmax(1), torch.tensor([0, 2, 1, 1])), a),
    ]
    for ours_fn, ref_fn, x in cases:
        ours, theirs = _both(torch, x)
        out, ref = ours_fn(ours), ref_fn(theirs)
        np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-10)
        out.backward()
        ref.backward()
        np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_exact_and_finite_for_huge_logits():
    x = Tensor(np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 0.0]]), requires_grad=True)
    loss = F.cross_entropy(x, np.array([1, 1]))
    assert loss.item() == pytest.approx(1000.0)  # (2000 + 0) / 2
    loss.backward()
    assert np.isfinite(x.grad).all()
    np.testing.assert_allclose(x.grad, [[0.5, -0.5, 0], [0, 0, 0]], atol=1e-12)
    z = Tensor(np.array([1000.0, -1000.0, 1000.0, -1000.0]), requires_grad=True)
    t = Tensor(np.array([0.0, 1.0, 1.0, 0.0]))
    bce = F.binary_cross_entropy_with_logits(z, t, reduction="none")
    np.testing.assert_allclose(bce.data, [1000, 1000, 0, 0])
    bce.sum().backward()
    np.testing.assert_allclose(z.grad, [1, -1, 0, 0])
    p = Tensor(np.array([0.0, 1.0]), requires_grad=True)
    clamped = F.binary_cross_entropy(p, Tensor(np.array([1.0, 0.0])), reduction="none")
    np.testing.assert_allclose(clamped.data, [100, 100])  # log clamped at −100, as PyTorch


def test_all_targets_ignored_gives_nan_loss_and_zero_gradient():
    x = Tensor(np.zeros((2, 3)), requires_grad=True)
    loss = F.cross_entropy(x, np.array([-100, -100]))
    assert np.isnan(loss.item())  # 0 / 0, as PyTorch
    loss.backward()
    np.testing.assert_array_equal(x.grad, 0)


def test_float32_dtype_kept():
    x = Tensor(np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32),
               requires_grad=True)
    loss = F.cross_entropy(x, np.array([0, 1, 3]))
    assert loss.dtype == np.float32
    loss.backward()
    assert x.grad.dtype == np.float32


def test_modules_wrap_functions():
    rng = np.random.default_rng(2)
    x = Tensor(rng.standard_normal((3, 4)))
    t = np.array([0, 3, 1])
    assert nn.CrossEntropyLoss()(x, t).item() == pytest.approx(F.cross_entropy(x, t).item())
    assert nn.NLLLoss(reduction="sum")(x, t).item() == pytest.approx(
        F.nll_loss(x, t, reduction="sum").item())
    y = Tensor(rng.standard_normal((3, 4)))
    assert nn.MSELoss()(x, y).item() == pytest.approx(F.mse_loss(x, y).item())
    assert nn.L1Loss()(x, y).item() == pytest.approx(F.l1_loss(x, y).item())
    assert nn.SmoothL1Loss()(x, y).item() == pytest.approx(F.smooth_l1_loss(x, y).item())
    assert nn.BCEWithLogitsLoss()(x, Tensor(y.data > 0).float()).item() > 0
    assert nn.BCELoss()(x.sigmoid(), Tensor(y.data > 0).float()).item() > 0
    assert "reduction='sum'" in repr(nn.MSELoss(reduction="sum"))


def test_bad_inputs_raise():
    x = Tensor(np.zeros((3, 4)))
    with pytest.raises(IndexError, match=r"\[0, 3\]"):
        F.cross_entropy(x, np.array([0, 4, 1]))
    with pytest.raises(ValueError, match="does not match"):
        F.cross_entropy(x, np.array([0, 1]))
    with pytest.raises(TypeError, match="integers"):
        F.nll_loss(x, np.array([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match="reduction"):
        F.mse_loss(x, x, reduction="avg")
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.binary_cross_entropy(Tensor(np.array([1.5])), Tensor(np.array([1.0])))
    with pytest.raises(ValueError, match="must match"):
        F.binary_cross_entropy_with_logits(x, Tensor(np.zeros(4)))
    with pytest.raises(ValueError, match="cannot be broadcast"):
        with pytest.warns(UserWarning):
            F.mse_loss(x, Tensor(np.zeros(3)))
