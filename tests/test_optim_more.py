"""RMSprop, Adagrad and the learning-rate schedulers (optim.lr_scheduler): ten steps from the
same start give PyTorch's parameters and learning rates."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_edu import Tensor, optim
from tinygrad_edu.optim import lr_scheduler

CONFIGS = [
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, eps=1e-6, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.005, momentum=0.9)),
    ("RMSprop", dict(lr=0.005, centered=True, momentum=0.5)),
    ("RMSprop", dict(lr=0.01, maximize=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05, weight_decay=0.1)),
    ("Adagrad", dict(lr=0.05, initial_accumulator_value=0.5, eps=1e-6)),
    ("Adagrad", dict(lr=0.05, maximize=True)),
]


@pytest.mark.parametrize("name,kwargs", CONFIGS)
def test_ten_steps_match_torch(name, kwargs):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    w0, b0, x = rng.standard_normal((3, 2)), rng.standard_normal(2), rng.standard_normal((4, 3))
    w, b = Tensor(w0.copy(), requires_grad=True), Tensor(b0.copy(), requires_grad=True)
    wt, bt = torch.tensor(w0, requires_grad=True), torch.tensor(b0, requires_grad=True)
    ours, theirs = getattr(optim, name)([w, b], **kwargs), getattr(torch.optim, name)([wt, bt], **kwargs)
    xt = torch.tensor(x)
    for _ in range(10):
        ours.zero_grad()
        (((Tensor(x) @ w + b).tanh() ** 2).sum() + (w * w * w).sum()).backward()
        ours.step()
        theirs.zero_grad()
        (((xt @ wt + bt).tanh() ** 2).sum() + (wt * wt * wt).sum()).backward()
        theirs.step()
        np.testing.assert_allclose(w.data, wt.detach().numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(b.data, bt.detach().numpy(), rtol=1e-10, atol=1e-12)


@settings(max_examples=10, deadline=None)
@given(lr=st.floats(1e-4, 0.5), alpha=st.floats(0.5, 0.999), momentum=st.floats(0, 0.95),
       wd=st.floats(0, 0.1), centered=st.booleans(), lr_decay=st.floats(0, 0.5),
       seed=st.integers(0, 100))
def test_random_settings_match_torch(lr, alpha, momentum, wd, centered, lr_decay, seed):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    p0, grads = rng.standard_normal(4), rng.standard_normal((10, 4))
    for name, kwargs in [("RMSprop", dict(lr=lr, alpha=alpha, momentum=momentum,
                                          weight_decay=wd, centered=centered)),
                         ("Adagrad", dict(lr=lr, lr_decay=lr_decay, weight_decay=wd))]:
        p, pt = Tensor(p0.copy(), requires_grad=True), torch.tensor(p0.copy(), requires_grad=True)
        ours, theirs = getattr(optim, name)([p], **kwargs), getattr(torch.optim, name)([pt], **kwargs)
        for g in grads:
            p.grad, pt.grad = g.copy(), torch.tensor(g)
            ours.step()
            theirs.step()
        np.testing.assert_allclose(p.data, pt.detach().numpy(), rtol=1e-9, atol=1e-12)


def test_optimizers_refuse_bad_settings_with_torchs_messages():
    p = Tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match="Invalid alpha value: -0.5"):
        optim.RMSprop([p], alpha=-0.5)
    with pytest.raises(ValueError, match="Invalid lr_decay value: -1"):
        optim.Adagrad([p], lr_decay=-1)


def test_adagrad_state_dict_round_trip_continues_identically():
    p1, p2 = Tensor(np.array([1.0, -2.0]), requires_grad=True), Tensor(np.array([1.0, -2.0]), requires_grad=True)
    o1 = optim.Adagrad([p1], lr=0.1)
    for _ in range(3):
        p1.grad = p1.data * 2
        o1.step()
    p2.data[...] = p1.data
    o2 = optim.Adagrad([p2], lr=0.1)
    o2.load_state_dict(o1.state_dict())
    for _ in range(2):
        p1.grad, p2.grad = p1.data * 2, p2.data * 2
        o1.step()
        o2.step()
    np.testing.assert_array_equal(p1.data, p2.data)


# ---------------------------------------------------------------------------------- schedulers
SCHEDULERS = [
    ("StepLR", dict(step_size=3, gamma=0.5), "SGD"),
    ("MultiStepLR", dict(milestones=[2, 5, 5, 8], gamma=0.5), "SGD"),
    ("ExponentialLR", dict(gamma=0.8), "SGD"),
    ("LambdaLR", dict(lr_lambda=lambda epoch: 1 / (1 + epoch)), "SGD"),
    ("CosineAnnealingLR", dict(T_max=4, eta_min=0.01), "SGD"),
    ("CosineAnnealingLR", dict(T_max=10), "Adam"),
    ("OneCycleLR", dict(max_lr=1.0, total_steps=10), "SGD"),
    ("OneCycleLR", dict(max_lr=[1.0, 0.5], total_steps=12, anneal_strategy="linear",
                        three_phase=True), "SGD"),
    ("OneCycleLR", dict(max_lr=0.1, epochs=2, steps_per_epoch=5, pct_start=0.4), "Adam"),
]


def _optimizers(torch, name):
    """The same two parameter groups in both libraries."""
    groups = [dict(lr=0.1), dict(lr=0.3)]
    kwargs = dict(momentum=0.9) if name == "SGD" else {}
    ours = getattr(optim, name)([{"params": [Tensor([1.0], requires_grad=True)], **g}
                                 for g in groups], **kwargs)
    theirs = getattr(torch.optim, name)([{"params": [torch.ones(1, requires_grad=True)], **g}
                                         for g in groups], **kwargs)
    return ours, theirs


def _train_step(optimizer):
    for group in optimizer.param_groups:
        for p in group["params"]:
            p.grad = (p.data * 0.5) if isinstance(p, Tensor) else p.detach() * 0.5
    optimizer.step()


@pytest.mark.parametrize("name,kwargs,opt", SCHEDULERS, ids=lambda v: v if isinstance(v, str) else "")
def test_scheduler_matches_torch_for_ten_steps(name, kwargs, opt):
    torch = pytest.importorskip("torch")
    ours_opt, theirs_opt = _optimizers(torch, opt)
    ours = getattr(lr_scheduler, name)(ours_opt, **kwargs)
    theirs = getattr(torch.optim.lr_scheduler, name)(theirs_opt, **kwargs)
    for step in range(10):
        assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr(), rel=1e-12), step
        for ours_group, theirs_group in zip(ours_opt.param_groups, theirs_opt.param_groups):
            for key in ("lr", "momentum", "betas"):
                if key in theirs_group:
                    assert np.allclose(ours_group[key], theirs_group[key], rtol=1e-12), (step, key)
        _train_step(ours_opt)
        _train_step(theirs_opt)
        ours.step()
        theirs.step()
    for p, q in zip(ours_opt.param_groups, theirs_opt.param_groups):
        np.testing.assert_allclose(p["params"][0].data, q["params"][0].detach().numpy(), rtol=1e-5,
                                   atol=1e-6)  # float32 parameters


@pytest.mark.parametrize("kwargs", [dict(), dict(mode="max", threshold_mode="abs", threshold=0.1),
                                    dict(patience=1, cooldown=2, factor=0.5, min_lr=0.02),
                                    dict(patience=0, factor=0.3, min_lr=[0.01, 0.05])])
def test_reduce_lr_on_plateau_matches_torch(kwargs):
    torch = pytest.importorskip("torch")
    ours_opt, theirs_opt = _optimizers(torch, "SGD")
    ours = lr_scheduler.ReduceLROnPlateau(ours_opt, **kwargs)
    theirs = torch.optim.lr_scheduler.ReduceLROnPlateau(theirs_opt, **kwargs)
    metrics = [5.0, 4.0, 4.0, 3.99, 4.5, 4.5, 4.5, 3.0, 3.0, 3.0, 3.0, 3.0, 2.95, 6.0, 6.0]
    for metric in metrics:
        ours.step(metric)
        theirs.step(metric)
        assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr(), rel=1e-12), metric


def test_scheduler_state_dict_round_trip():
    opt = optim.SGD([Tensor([1.0], requires_grad=True)], lr=1.0)
    sched = lr_scheduler.CosineAnnealingLR(opt, T_max=5)
    for _ in range(3):
        sched.step()
    state = sched.state_dict()
    assert "optimizer" not in state and state["last_epoch"] == 3
    again = lr_scheduler.CosineAnnealingLR(optim.SGD([Tensor([1.0], requires_grad=True)], lr=1.0),
                                           T_max=5)
    again.load_state_dict(state)
    assert again.last_epoch == 3 and again.base_lrs == [1.0]
    assert sched.get_last_lr()[0] == pytest.approx((1 + math.cos(math.pi * 3 / 5)) / 2)


def test_one_cycle_needs_a_length_and_momentum():
    opt = optim.SGD([Tensor([1.0], requires_grad=True)], lr=1.0)
    with pytest.raises(ValueError, match="total_steps OR"):
        lr_scheduler.OneCycleLR(opt, max_lr=1.0)
    sched = lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=2)
    sched.step()
    sched.step()
    with pytest.raises(ValueError, match="Tried to step 3 times"):
        sched.step()


def test_the_old_import_paths_still_work():
    from tinygrad_edu.optim import SGD, Adam, AdamW, StepLR  # noqa: F401
    assert optim.StepLR is lr_scheduler.StepLR
