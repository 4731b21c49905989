"""Invalid arguments raise clear errors (where PyTorch raises), and 0-d tensors take dim 0/−1."""

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Tensor

BAD_CALLS = [
    ("permute(0, 5)", lambda x: x.permute(0, 5), IndexError, "out of range"),
    ("permute(0)", lambda x: x.permute(0), ValueError, "entries"),
    ("permute(1, 1)", lambda x: x.permute(1, 1), ValueError, "permutation"),
    ("flatten(1, 0)", lambda x: x.flatten(1, 0), ValueError, "start_dim"),
    ("flatten(0, 4)", lambda x: x.flatten(0, 4), IndexError, "out of range"),
    ("reshape(-2, 3)", lambda x: x.reshape(-2, 3), ValueError, "invalid shape"),
    ("reshape(-1, -1)", lambda x: x.reshape(-1, -1), ValueError, "at most one"),
    ("expand(-1, 2, 3)", lambda x: x.expand(-1, 2, 3), ValueError, "position 0"),
    ("expand(2, -2)", lambda x: x.expand(2, -2), ValueError, "size -2"),
    ("sum(dim=2)", lambda x: x.sum(dim=2), IndexError, "out of range"),
    ("transpose(0, 3)", lambda x: x.transpose(0, 3), IndexError, "out of range"),
]


@pytest.mark.parametrize("name,call,error,text", BAD_CALLS, ids=[c[0] for c in BAD_CALLS])
def test_bad_movement_arguments_raise(name, call, error, text):
    with pytest.raises(error, match=text):
        call(Tensor(np.ones((2, 3))))


@pytest.mark.parametrize("name,call,error,text", BAD_CALLS, ids=[c[0] for c in BAD_CALLS])
def test_torch_refuses_the_same_calls(name, call, error, text):
    torch = pytest.importorskip("torch")
    with pytest.raises((RuntimeError, IndexError, ValueError)):
        call(torch.ones(2, 3))


def test_arange_refuses_a_zero_or_wrong_sign_step():
    with pytest.raises(ValueError, match="nonzero"):
        tg.arange(0, 5, 0)
    with pytest.raises(ValueError, match="sign"):
        tg.arange(0, 5, -1)
    assert tg.arange(5, 0, -2).tolist() == [5, 3, 1]


@pytest.mark.parametrize("dim", [0, -1])
def test_zero_dim_tensors_take_dim_zero_as_pytorch(dim):
    x = Tensor(np.array(3.0), requires_grad=True)
    assert x.sum(dim).item() == 3.0 and x.mean(dim, keepdim=True).shape == ()
    values, indices = x.max(dim)
    assert values.item() == 3.0 and indices.item() == 0 and indices.shape == ()
    assert x.softmax(dim).item() == 1.0 and x.log_softmax(dim).item() == 0.0
    assert x.flatten().shape == (1,)
    (x.sum(dim) + x.amax(dim) + values).backward()
    assert x.grad == 3.0
    with pytest.raises(IndexError):
        x.sum(1)


def test_zero_dim_matches_torch():
    torch = pytest.importorskip("torch")
    t = torch.tensor(3.0)
    assert t.sum(0).item() == Tensor(np.array(3.0)).sum(0).item()
    assert tuple(t.max(0).indices.shape) == Tensor(np.array(3.0)).max(0).indices.shape
