"""PReLU and RReLU: gradcheck of PReLUFn/RReLUFn, PyTorch equality (values, both gradients,
eval-mode RReLU), the random slopes' range while training, errors."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_edu as tg
import tinygrad_edu.nn as nn
from tinygrad_edu import Tensor, gradcheck
from tinygrad_edu.nn.activation import prelu, rrelu
from tinygrad_edu.ops.prelu import PReLUFn, RReLUFn


def _away_from_zero(rng, shape):
    """Inputs at least 0.1 from the kink at 0, where central differences are exact."""
    x = rng.standard_normal(shape)
    return np.where(np.abs(x) < 0.1, 0.5, x)


@settings(max_examples=12, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=0, max_size=4), per_channel=st.booleans(),
       seed=st.integers(0, 100))
def test_prelu_gradcheck(shape, per_channel, seed):
    rng = np.random.default_rng(seed)
    channels = shape[1] if per_channel and len(shape) >= 2 else 1
    x = Tensor(_away_from_zero(rng, tuple(shape)), requires_grad=True)
    a = Tensor(rng.uniform(0, 0.5, channels), requires_grad=True)
    assert gradcheck(lambda x, a: PReLUFn.apply(x, a), [x, a])
    assert gradcheck(prelu, [x, a])


@settings(max_examples=10, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=4), seed=st.integers(0, 100))
def test_rrelu_gradcheck(shape, seed):
    rng = np.random.default_rng(seed)
    x = Tensor(_away_from_zero(rng, tuple(shape)), requires_grad=True)
    slopes = rng.uniform(1 / 8, 1 / 3, tuple(shape))  # drawn once: the same in every evaluation
    assert gradcheck(lambda x: RReLUFn.apply(x, slopes), [x])
    assert gradcheck(lambda x: rrelu(x, 0.1, 0.3, training=False), [x])


@pytest.mark.parametrize("shape,num_parameters", [((2, 3, 4, 5), 3), ((2, 3, 4, 5), 1),
                                                  ((4, 3), 3), ((7,), 1), ((), 1), ((2, 3, 6), 3)])
def test_prelu_matches_torch(shape, num_parameters):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape)
    x.flat[0] = 0.0  # x = 0 counts as negative, as in PyTorch
    ours = nn.PReLU(num_parameters).double()
    theirs = torch.nn.PReLU(num_parameters).double()
    ours.weight.data[...] = rng.uniform(0, 0.5, num_parameters)
    theirs.weight.data = torch.tensor(ours.weight.data.copy())
    X, Xt = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, out_t = ours(X), theirs(Xt)
    np.testing.assert_allclose(out.data, out_t.detach().numpy(), atol=1e-15)
    g = rng.standard_normal(shape)
    (out * Tensor(g)).sum().backward()
    (out_t * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(X.grad, Xt.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(ours.weight.grad, theirs.weight.grad.numpy(), atol=1e-12)
    assert repr(ours) == repr(theirs)


def test_rrelu_eval_matches_torch():
    torch = pytest.importorskip("torch")
    x = np.array([-3.0, -0.5, 0.0, 0.5, 2.0])
    for lower, upper in ((1 / 8, 1 / 3), (0.1, 0.3)):
        ours, theirs = nn.RReLU(lower, upper).eval(), torch.nn.RReLU(lower, upper).eval()
        X, Xt = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        ours(X).sum().backward()
        theirs(Xt).sum().backward()
        np.testing.assert_allclose(ours(Tensor(x)).data, theirs(torch.tensor(x)).numpy(), atol=1e-15)
        np.testing.assert_allclose(X.grad, Xt.grad.numpy(), atol=1e-15)
        assert repr(ours) == repr(theirs)


def test_rrelu_training_draws_a_slope_per_element():
    tg.manual_seed(0)
    x = Tensor(-np.ones((200, 50)), requires_grad=True)
    out = nn.RReLU(0.1, 0.3)(x)  # a new module is in training mode
    slopes = -out.data
    assert slopes.min() >= 0.1 and slopes.max() <= 0.3
    assert abs(slopes.mean() - 0.2) < 0.005 and len(np.unique(slopes)) > 9000
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, slopes)  # ∂out/∂x = the slope each element drew
    positive = Tensor(np.array([0.5, 2.0]))
    np.testing.assert_array_equal(nn.RReLU()(positive).data, positive.data)
    tg.manual_seed(0)
    np.testing.assert_array_equal(nn.RReLU(0.1, 0.3)(Tensor(-np.ones((200, 50)))).data, out.data)


def test_rrelu_training_statistics_like_torch():
    torch = pytest.importorskip("torch")
    x = -np.ones(100_000)
    ours = -nn.RReLU()(Tensor(x)).data
    theirs = -torch.nn.RReLU()(torch.tensor(x)).numpy()
    for stat in (np.mean, np.min, np.max):
        assert abs(stat(ours) - stat(theirs)) < 0.003


def test_prelu_errors_and_float32():
    act = nn.PReLU(3)
    assert act.weight.shape == (3,) and act.weight.dtype == np.float32
    assert float(act.weight.data[0]) == 0.25
    assert act(Tensor.randn(2, 3, 4)).dtype == np.float32
    with pytest.raises(RuntimeError, match="parameter numbers = 3 and channel size = 4"):
        act(Tensor.randn(2, 4))
    with pytest.raises(RuntimeError, match="channel size = 1"):
        act(Tensor.randn(5))
    with pytest.raises(ValueError, match="num_parameters"):
        nn.PReLU(0)
    assert [name for name, _ in act.named_parameters()] == ["weight"]
