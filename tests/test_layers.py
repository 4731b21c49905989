"""Layers: default initialisation, gradcheck, equality with PyTorch, train/eval behaviour."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_edu as tg
import tinygrad_edu.nn as nn
import tinygrad_edu.nn.functional as F
from tinygrad_edu import Tensor, gradcheck


def _rand(rng, *shape, grad=True):
    return Tensor(rng.standard_normal(shape), requires_grad=grad)


def _copy_to_torch(ours, theirs):
    import torch
    theirs.load_state_dict({k: torch.tensor(np.asarray(v.data)) for k, v in ours.state_dict().items()})


# ---------------------------------------------------------------------------------------------
# Linear
# ---------------------------------------------------------------------------------------------
@settings(max_examples=10, deadline=None)
@given(lead=st.lists(st.integers(1, 3), min_size=1, max_size=2), fin=st.integers(1, 4),
       fout=st.integers(1, 4), bias=st.booleans(), seed=st.integers(0, 1000))
def test_linear_gradcheck(lead, fin, fout, bias, seed):
    rng = np.random.default_rng(seed)
    x, w = _rand(rng, *lead, fin), _rand(rng, fout, fin)
    b = _rand(rng, fout) if bias else None
    assert gradcheck(lambda x, w, b: F.linear(x, w, b), [x, w, b])


def test_linear_matches_torch_and_init_bounds():
    torch = pytest.importorskip("torch")
    tg.manual_seed(0)
    ours = nn.Linear(50, 30)
    bound = 1 / math.sqrt(50)
    assert np.abs(ours.weight.data).max() <= bound and np.abs(ours.bias.data).max() <= bound
    assert np.abs(ours.weight.data).max() > 0.9 * bound
    theirs = torch.nn.Linear(50, 30)
    _copy_to_torch(ours, theirs)
    x = np.random.default_rng(0).standard_normal((4, 50)).astype(np.float32)
    np.testing.assert_allclose(ours(Tensor(x)).data, theirs(torch.tensor(x)).detach().numpy(),
                               atol=1e-5)
    assert nn.Linear(3, 2, bias=False).bias is None
    with pytest.raises(ValueError, match=r"\(4, 7\)"):
        ours(Tensor(np.zeros((4, 7), np.float32)))


# ---------------------------------------------------------------------------------------------
# BatchNorm
# ---------------------------------------------------------------------------------------------
@settings(max_examples=10, deadline=None)
@given(shape=st.sampled_from([(3, 2), (2, 3, 2), (2, 2, 2, 3)]), training=st.booleans(),
       affine=st.booleans(), seed=st.integers(0, 1000))
def test_batch_norm_gradcheck(shape, training, affine, seed):
    rng = np.random.default_rng(seed)
    x = _rand(rng, *shape)
    c = shape[1]
    w = Tensor(rng.uniform(0.5, 2, c), requires_grad=True) if affine else None
    b = _rand(rng, c) if affine else None
    rm, rv = Tensor(rng.standard_normal(c)), Tensor(rng.uniform(0.5, 2, c))
    assert gradcheck(lambda x, w, b: F.batch_norm(x, Tensor(rm.data.copy()), Tensor(rv.data.copy()),
                                                  w, b, training), [x, w, b])


@pytest.mark.parametrize("cls,shape", [("BatchNorm1d", (8, 3)), ("BatchNorm1d", (4, 3, 5)),
                                       ("BatchNorm2d", (4, 3, 5, 2))])
@pytest.mark.parametrize("momentum", [0.1, None])
def test_batch_norm_matches_torch(cls, shape, momentum):
    torch = pytest.importorskip("torch")
    ours = getattr(nn, cls)(3, momentum=momentum).double()
    theirs = getattr(torch.nn, cls)(3, momentum=momentum).double()
    rng = np.random.default_rng(0)
    ours.weight.data[:] = rng.uniform(0.5, 2, 3)
    ours.bias.data[:] = rng.standard_normal(3)
    _copy_to_torch(ours, theirs)
    for step in range(3):  # training steps: outputs, gradients and running statistics
        x = rng.standard_normal(shape) * 2 + 1
        X, Xt = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        g = rng.standard_normal(shape)
        out, ref = ours(X), theirs(Xt)
        np.testing.assert_allclose(out.data, ref.detach().numpy(), atol=1e-10)
        out.backward(Tensor(g))
        ref.backward(torch.tensor(g))
        np.testing.assert_allclose(X.grad, Xt.grad.numpy(), atol=1e-10)
    np.testing.assert_allclose(ours.weight.grad, theirs.weight.grad.numpy(), atol=1e-10)
    np.testing.assert_allclose(ours.bias.grad, theirs.bias.grad.numpy(), atol=1e-10)
    for name in ("running_mean", "running_var"):
        np.testing.assert_allclose(getattr(ours, name).data,
                                   getattr(theirs, name).numpy(), atol=1e-12)
    assert int(ours.num_batches_tracked.data) == int(theirs.num_batches_tracked) == 3
    ours.eval(), theirs.eval()
    x = rng.standard_normal(shape)
    np.testing.assert_allclose(ours(Tensor(x)).data, theirs(torch.tensor(x)).detach().numpy(),
                               atol=1e-10)


def test_batch_norm_modes_and_errors():
    bn = nn.BatchNorm2d(2)
    x = Tensor(np.random.default_rng(0).standard_normal((4, 2, 3, 3)).astype(np.float32) * 5 + 3)
    y = bn(x)
    np.testing.assert_allclose(y.data.mean(axis=(0, 2, 3)), 0, atol=1e-5)
    assert not np.allclose(bn.running_mean.data, 0)
    bn.eval()
    before = bn.running_mean.data.copy()
    bn(x)
    np.testing.assert_array_equal(bn.running_mean.data, before)  # eval does not update
    with pytest.raises(ValueError, match="4-D"):
        bn(Tensor(np.zeros((2, 2), np.float32)))
    with pytest.raises(ValueError, match="3 channels"):
        bn(Tensor(np.zeros((2, 3, 2, 2), np.float32)))
    with pytest.raises(ValueError, match="more than 1 value"):
        nn.BatchNorm1d(2)(Tensor(np.zeros((1, 2), np.float32)))
    free = nn.BatchNorm1d(2, affine=False, track_running_stats=False)
    assert list(free.parameters()) == [] and free.state_dict() == {}
    free.eval()  # without running stats eval still uses the batch
    np.testing.assert_allclose(free(Tensor(np.array([[1.0, 2.0], [3.0, 6.0]]))).data,
                               [[-1, -1], [1, 1]], atol=1e-4)


# ---------------------------------------------------------------------------------------------
# Embedding, Dropout, activations, Flatten, pad
# ---------------------------------------------------------------------------------------------
@settings(max_examples=8, deadline=None)
@given(num=st.integers(1, 5), dim=st.integers(1, 3), idx_shape=st.sampled_from([(3,), (2, 3)]),
       use_padding=st.booleans(), seed=st.integers(0, 1000))
def test_embedding_gradcheck(num, dim, idx_shape, use_padding, seed):
    rng = np.random.default_rng(seed)
    w = _rand(rng, num, dim)
    idx = rng.integers(0, num, idx_shape)  # repeats likely: gradients must add up
    padding = 0 if use_padding else None
    assert gradcheck(lambda w: F.embedding(idx, w, padding), [w]) if not use_padding else True
    if use_padding:
        out = F.embedding(idx, w, padding)
        out.backward(Tensor(np.ones(out.shape)))
        assert np.all(w.grad[0] == 0)
        expected = np.bincount(idx.ravel(), minlength=num)[1:]
        np.testing.assert_allclose(w.grad[1:, 0], expected)


def test_embedding_module():
    torch = pytest.importorskip("torch")
    emb = nn.Embedding(10, 4, padding_idx=2)
    assert emb.weight.shape == (10, 4) and np.all(emb.weight.data[2] == 0)
    theirs = torch.nn.Embedding(10, 4, padding_idx=2)
    _copy_to_torch(emb, theirs)
    idx = np.array([[1, 2, 3], [9, 1, 1]])
    out, ref = emb(Tensor(idx)), theirs(torch.tensor(idx))
    np.testing.assert_allclose(out.data, ref.detach().numpy())
    out.sum().backward()
    ref.sum().backward()
    np.testing.assert_allclose(emb.weight.grad, theirs.weight.grad.numpy())
    with pytest.raises(IndexError, match="out of range"):
        emb(Tensor(np.array([10])))
    with pytest.raises(TypeError, match="integers"):
        emb(Tensor(np.array([1.0])))


def test_dropout_train_and_eval():
    tg.manual_seed(0)
    drop = nn.Dropout(0.25)
    x = Tensor(np.ones((200, 50), np.float32), requires_grad=True)
    y = drop(x)
    kept = y.data != 0
    assert 0.7 < kept.mean() < 0.8
    np.testing.assert_allclose(y.data[kept], 1 / 0.75)
    y.sum().backward()
    np.testing.assert_allclose(x.grad, kept / 0.75)
    drop.eval()
    assert drop(x) is x
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)


def test_activation_modules_match_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((3, 4)) * 3
    pairs = [(nn.ReLU(), torch.nn.ReLU()), (nn.LeakyReLU(0.2), torch.nn.LeakyReLU(0.2)),
             (nn.ELU(0.7), torch.nn.ELU(0.7)), (nn.Sigmoid(), torch.nn.Sigmoid()),
             (nn.Tanh(), torch.nn.Tanh()), (nn.Softmax(dim=1), torch.nn.Softmax(dim=1)),
             (nn.LogSoftmax(dim=0), torch.nn.LogSoftmax(dim=0)), (nn.Identity(), torch.nn.Identity()),
             (nn.Flatten(0), torch.nn.Flatten(0))]
    for ours, theirs in pairs:
        np.testing.assert_allclose(ours(Tensor(x)).data, theirs(torch.tensor(x)).numpy(),
                                   atol=1e-12, err_msg=repr(ours))


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_pad_matches_torch(mode):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((1, 2, 4, 5))
    X = Tensor(x, requires_grad=True)
    out = F.pad(X, (1, 2, 2, 1), mode=mode)
    ref = torch.nn.functional.pad(torch.tensor(x), (1, 2, 2, 1), mode=mode)
    np.testing.assert_allclose(out.data, ref.numpy())
    assert gradcheck(lambda x: F.pad(x, (1, 2, 2, 1), mode=mode), [X])
    with pytest.raises(ValueError):
        F.pad(X, (1, 2, 3))


def test_one_hot():
    np.testing.assert_array_equal(F.one_hot(Tensor(np.array([[1], [0]])), 3).data,
                                  [[[0, 1, 0]], [[1, 0, 0]]])
    assert F.one_hot(np.array([0, 4])).shape == (2, 5)
    with pytest.raises(ValueError, match="class values"):
        F.one_hot(np.array([3]), 2)
    with pytest.raises(TypeError):
        F.one_hot(np.array([1.0]))


def test_init_functions():
    tg.manual_seed(0)
    w = Tensor.zeros(64, 32, 3, 3)
    fan_in, fan_out = 32 * 9, 64 * 9
    nn.init.xavier_uniform_(w)
    assert np.abs(w.data).max() <= math.sqrt(6 / (fan_in + fan_out))
    nn.init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu")
    assert w.data.std() == pytest.approx(math.sqrt(2 / fan_out), rel=0.05)
    nn.init.xavier_normal_(w, gain=2)
    assert w.data.std() == pytest.approx(2 * math.sqrt(2 / (fan_in + fan_out)), rel=0.05)
    nn.init.kaiming_uniform_(w, a=math.sqrt(5))
    assert np.abs(w.data).max() <= 1 / math.sqrt(fan_in)
    assert nn.init.zeros_(w).data.sum() == 0 and nn.init.ones_(w).data.mean() == 1
    assert nn.init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    with pytest.raises(ValueError):
        nn.init.xavier_uniform_(Tensor.zeros(5))
    with pytest.raises(ValueError):
        nn.init.kaiming_uniform_(w, mode="fan_middle")


# ---------------------------------------------------------------------------------------------
# Convolution and pooling layers (need the compiled kernels)
# ---------------------------------------------------------------------------------------------
def test_conv_layers_match_torch():
    pytest.importorskip("tinygrad_edu.ops.conv")
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    cases = [
        (nn.Conv2d(3, 4, 3, stride=2, padding=1), torch.nn.Conv2d(3, 4, 3, stride=2, padding=1),
         (2, 3, 7, 6)),
        (nn.Conv2d(4, 4, 3, padding="same", groups=2, bias=False, padding_mode="reflect"),
         torch.nn.Conv2d(4, 4, 3, padding="same", groups=2, bias=False, padding_mode="reflect"),
         (1, 4, 5, 5)),
        (nn.Conv1d(2, 3, 3, padding=1), torch.nn.Conv1d(2, 3, 3, padding=1), (2, 2, 8)),
        (nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1, output_padding=1),
         torch.nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1, output_padding=1), (1, 3, 4, 4)),
    ]
    for ours, theirs, shape in cases:
        ours.double(), theirs.double()
        bound = 1 / math.sqrt(ours.weight.shape[1] * np.prod(ours.weight.shape[2:]))
        assert np.abs(ours.weight.data).max() <= bound
        assert ours.weight.shape == tuple(theirs.weight.shape)
        _copy_to_torch(ours, theirs)
        x = rng.standard_normal(shape)
        X, Xt = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        out, ref = ours(X), theirs(Xt)
        np.testing.assert_allclose(out.data, ref.detach().numpy(), atol=1e-10, err_msg=repr(ours))
        out.sum().backward()
        ref.sum().backward()
        np.testing.assert_allclose(X.grad, Xt.grad.numpy(), atol=1e-10)
        np.testing.assert_allclose(ours.weight.grad, theirs.weight.grad.numpy(), atol=1e-10)


def test_pool_layers_and_basic_block():
    pytest.importorskip("tinygrad_edu.ops.pool")
    pytest.importorskip("tinygrad_edu.ops.conv")
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(1).standard_normal((2, 3, 8, 8))
    pairs = [(nn.MaxPool2d(2), torch.nn.MaxPool2d(2)),
             (nn.MaxPool2d(3, stride=2, padding=1), torch.nn.MaxPool2d(3, stride=2, padding=1)),
             (nn.AvgPool2d(2), torch.nn.AvgPool2d(2)),
             (nn.Upsample(scale_factor=2), torch.nn.Upsample(scale_factor=2))]
    for ours, theirs in pairs:
        np.testing.assert_allclose(ours(Tensor(x)).data, theirs(torch.tensor(x)).numpy(),
                                   atol=1e-12, err_msg=repr(ours))
    block = nn.BasicBlock(3, 6, stride=2).double()
    assert [n for n, _ in block.named_children()] == ["conv1", "bn1", "relu", "conv2", "bn2",
                                                      "downsample"]
    out = block(Tensor(x, requires_grad=True))
    assert out.shape == (2, 6, 4, 4) and out.data.min() >= 0
    same = nn.BasicBlock(3, 3)
    assert same.downsample is None
    y = Tensor(x, requires_grad=True)
    same.double()(y).sum().backward()
    assert y.grad.shape == x.shape and same.conv1.weight.grad is not None
