"""Optimizers: five steps from the same start give PyTorch's parameters; frozen parameters,
zero_grad, state_dict, StepLR."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_edu.nn as nn
from tinygrad_edu import Tensor, optim

CONFIGS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.5, maximize=True)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.1)),
    ("Adam", dict(lr=0.02, amsgrad=True, eps=1e-6)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, weight_decay=0.3, amsgrad=True)),
]


def _loss_ours(w, b, x):
    return ((x @ w + b).tanh() ** 2).sum() + (w * w * w).sum()


@pytest.mark.parametrize("name,kwargs", CONFIGS)
def test_five_steps_match_torch(name, kwargs):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    w0, b0, x = rng.standard_normal((3, 2)), rng.standard_normal(2), rng.standard_normal((4, 3))
    w, b = Tensor(w0.copy(), requires_grad=True), Tensor(b0.copy(), requires_grad=True)
    wt, bt = torch.tensor(w0, requires_grad=True), torch.tensor(b0, requires_grad=True)
    ours = getattr(optim, name)([w, b], **kwargs)
    theirs = getattr(torch.optim, name)([wt, bt], **kwargs)
    xt = torch.tensor(x)
    for _ in range(5):
        ours.zero_grad()
        _loss_ours(w, b, Tensor(x)).backward()
        ours.step()
        theirs.zero_grad()
        (((xt @ wt + bt).tanh() ** 2).sum() + (wt * wt * wt).sum()).backward()
        theirs.step()
    np.testing.assert_allclose(w.data, wt.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(b.data, bt.detach().numpy(), rtol=1e-10, atol=1e-12)


@settings(max_examples=10, deadline=None)
@given(lr=st.floats(1e-4, 0.5), momentum=st.floats(0, 0.99), wd=st.floats(0, 0.1),
       beta1=st.floats(0.5, 0.95), seed=st.integers(0, 100))
def test_random_settings_match_torch(lr, momentum, wd, beta1, seed):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    p0, grads = rng.standard_normal(4), rng.standard_normal((3, 4))
    for name, kwargs in [("SGD", dict(lr=lr, momentum=momentum, weight_decay=wd)),
                         ("Adam", dict(lr=lr, betas=(beta1, 0.999), weight_decay=wd)),
                         ("AdamW", dict(lr=lr, betas=(beta1, 0.99), weight_decay=wd))]:
        p, pt = Tensor(p0.copy(), requires_grad=True), torch.tensor(p0, requires_grad=True)
        ours, theirs = getattr(optim, name)([p], **kwargs), getattr(torch.optim, name)([pt], **kwargs)
        for g in grads:
            p.grad, pt.grad = g.copy(), torch.tensor(g)
            ours.step(), theirs.step()
        np.testing.assert_allclose(p.data, pt.detach().numpy(), rtol=1e-9, atol=1e-12)


def test_float32_parameters_stay_float32():
    model = nn.Linear(3, 2)
    opt = optim.Adam(model.parameters(), lr=0.1)
    model(Tensor(np.ones((2, 3), np.float32))).sum().backward()
    opt.step()
    assert model.weight.data.dtype == np.float32


def test_frozen_and_gradless_parameters_are_skipped():
    model = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1))
    model[0].requires_grad_(False)
    frozen = model[0].weight.data.copy()
    opt = optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
    model(Tensor(np.ones((1, 2), np.float32))).sum().backward()
    assert model[0].weight.grad is None
    before = model[1].weight.data.copy()
    opt.step()
    np.testing.assert_array_equal(model[0].weight.data, frozen)
    assert not np.allclose(model[1].weight.data, before)


def test_zero_grad_and_param_groups():
    a, b = Tensor([1.0], requires_grad=True), Tensor([2.0], requires_grad=True)
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 1.0}], lr=0.1)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 1.0]
    (a * b).sum().backward()
    opt.step()
    np.testing.assert_allclose(a.data, [1 - 0.1 * 2])
    np.testing.assert_allclose(b.data, [2 - 1.0 * 1])
    opt.zero_grad(set_to_none=False)
    assert a.grad[0] == 0
    opt.zero_grad()
    assert a.grad is None
    with pytest.raises(ValueError, match="more than one"):
        optim.SGD([{"params": [a]}, {"params": [a]}], lr=0.1)
    with pytest.raises(ValueError, match="empty"):
        optim.Adam([])
    with pytest.raises(ValueError):
        optim.SGD([a], lr=-1)
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD([a], lr=0.1, nesterov=True)
    assert "lr: 0.1" in repr(opt)


def test_state_dict_round_trip_continues_identically():
    rng = np.random.default_rng(1)
    p0, grads = rng.standard_normal(3), rng.standard_normal((6, 3))
    p1, p2 = Tensor(p0.copy(), requires_grad=True), Tensor(p0.copy(), requires_grad=True)
    o1 = optim.Adam([p1], lr=0.1)
    for g in grads[:3]:
        p1.grad = g.copy()
        o1.step()
    p2.data[:] = p1.data
    o2 = optim.Adam([p2], lr=0.5)
    o2.load_state_dict(o1.state_dict())
    assert o2.param_groups[0]["lr"] == 0.1
    for g in grads[3:]:
        p1.grad, p2.grad = g.copy(), g.copy()
        o1.step(), o2.step()
    np.testing.assert_array_equal(p1.data, p2.data)


def test_step_lr_matches_torch():
    torch = pytest.importorskip("torch")
    p, pt = Tensor([1.0], requires_grad=True), torch.tensor([1.0], requires_grad=True)
    ours = optim.StepLR(optim.SGD([p], lr=0.3), step_size=3, gamma=0.5)
    theirs = torch.optim.lr_scheduler.StepLR(torch.optim.SGD([pt], lr=0.3), step_size=3, gamma=0.5)
    for _ in range(10):
        assert ours.get_last_lr()[0] == pytest.approx(theirs.get_last_lr()[0])
        ours.optimizer.step(), theirs.optimizer.step()
        ours.step(), theirs.step()
    with pytest.raises(ValueError):
        optim.StepLR(ours.optimizer, step_size=0)
