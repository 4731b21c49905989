"""GRU and GRUCell: gradcheck of both Functions and of the modules, PyTorch equality of outputs
and of every gradient, shapes and errors."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_edu as tg
import tinygrad_edu.nn as nn
from tinygrad_edu import Tensor, gradcheck
from tinygrad_edu.ops.rnn import GRUCellFn, GRUSequenceFn


def _t(rng, *shape, grad=True):
    return Tensor(rng.standard_normal(shape), requires_grad=grad)


@settings(max_examples=8, deadline=None)
@given(batch=st.integers(1, 3), hidden=st.integers(1, 3), seed=st.integers(0, 100))
def test_gru_cell_fn_gradcheck(batch, hidden, seed):
    rng = np.random.default_rng(seed)
    gi, gh, h = _t(rng, batch, 3 * hidden), _t(rng, batch, 3 * hidden), _t(rng, batch, hidden)
    assert gradcheck(lambda gi, gh, h: GRUCellFn.apply(gi, gh, h), [gi, gh, h])


@settings(max_examples=8, deadline=None)
@given(steps=st.integers(1, 4), batch=st.integers(1, 2), inp=st.integers(1, 3),
       hidden=st.integers(1, 3), bias=st.booleans(), seed=st.integers(0, 100))
def test_gru_sequence_fn_gradcheck(steps, batch, inp, hidden, bias, seed):
    rng = np.random.default_rng(seed)
    x, h0 = _t(rng, steps, batch, inp), _t(rng, batch, hidden)
    w_ih, w_hh = _t(rng, 3 * hidden, inp), _t(rng, 3 * hidden, hidden)
    b_ih = _t(rng, 3 * hidden) if bias else None
    b_hh = _t(rng, 3 * hidden) if bias else None
    assert gradcheck(lambda *a: GRUSequenceFn.apply(*a), [x, h0, w_ih, w_hh, b_ih, b_hh])


def test_gru_module_gradcheck_two_layers_bidirectional():
    tg.manual_seed(0)
    gru = nn.GRU(2, 3, num_layers=2, batch_first=True, bidirectional=True).double()
    rng = np.random.default_rng(2)
    x, h0 = _t(rng, 2, 3, 2), _t(rng, 4, 2, 3)
    assert gradcheck(lambda x, h0, w, b: gru(x, h0),
                     [x, h0, gru.weight_ih_l1, gru.bias_hh_l0_reverse])


def test_gru_cell_module_gradcheck():
    tg.manual_seed(0)
    cell = nn.GRUCell(3, 2).double()
    rng = np.random.default_rng(1)
    x, h = _t(rng, 2, 3), _t(rng, 2, 2)
    assert gradcheck(lambda x, h, w, b: cell(x, h), [x, h, cell.weight_hh, cell.bias_hh])


def _copy_to_torch(ours, theirs):
    import torch
    theirs.load_state_dict({k: torch.tensor(v.data) for k, v in ours.state_dict().items()})


@pytest.mark.parametrize("num_layers,batch_first,with_state,bias,bidirectional",
                         [(1, False, False, True, False), (2, True, True, True, False),
                          (3, False, True, False, False), (2, True, True, True, True),
                          (1, False, False, False, True)])
def test_gru_matches_torch(num_layers, batch_first, with_state, bias, bidirectional):
    torch = pytest.importorskip("torch")
    tg.manual_seed(3)
    kwargs = dict(num_layers=num_layers, batch_first=batch_first, bias=bias,
                  bidirectional=bidirectional)
    ours, theirs = nn.GRU(4, 5, **kwargs).double(), torch.nn.GRU(4, 5, **kwargs).double()
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    _copy_to_torch(ours, theirs)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 6, 4))
    batch = 3 if batch_first else 6
    h0 = rng.standard_normal((num_layers * (2 if bidirectional else 1), batch, 5))
    X, H = Tensor(x, requires_grad=True), Tensor(h0, requires_grad=True)
    Xt, Ht = torch.tensor(x, requires_grad=True), torch.tensor(h0, requires_grad=True)
    out, h = ours(X, H if with_state else None)
    out_t, h_t = theirs(Xt, Ht if with_state else None)
    np.testing.assert_allclose(out.data, out_t.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(h.data, h_t.detach().numpy(), atol=1e-12)
    weights = rng.standard_normal(out.shape)
    ((out * Tensor(weights)).sum() + (h * h).sum()).backward()
    ((out_t * torch.tensor(weights)).sum() + (h_t * h_t).sum()).backward()
    np.testing.assert_allclose(X.grad, Xt.grad.numpy(), atol=1e-12)
    if with_state:
        np.testing.assert_allclose(H.grad, Ht.grad.numpy(), atol=1e-12)
    theirs_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad, theirs_params[name].grad.numpy(), atol=1e-12,
                                   err_msg=name)


def test_gru_float32_matches_torch():
    torch = pytest.importorskip("torch")
    ours, theirs = nn.GRU(8, 16), torch.nn.GRU(8, 16)
    _copy_to_torch(ours, theirs)
    x = np.random.default_rng(0).standard_normal((20, 4, 8)).astype(np.float32)
    out, _ = ours(Tensor(x))
    out_t, _ = theirs(torch.tensor(x))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.data, out_t.detach().numpy(), atol=1e-5)


@pytest.mark.parametrize("bias", [True, False])
def test_gru_cell_matches_torch(bias):
    torch = pytest.importorskip("torch")
    tg.manual_seed(1)
    ours, theirs = nn.GRUCell(4, 5, bias=bias).double(), torch.nn.GRUCell(4, 5, bias=bias).double()
    _copy_to_torch(ours, theirs)
    rng = np.random.default_rng(1)
    x, h = rng.standard_normal((3, 4)), rng.standard_normal((3, 5))
    X, H = Tensor(x, requires_grad=True), Tensor(h, requires_grad=True)
    Xt, Ht = torch.tensor(x, requires_grad=True), torch.tensor(h, requires_grad=True)
    out, out_t = ours(X, H), theirs(Xt, Ht)
    np.testing.assert_allclose(out.data, out_t.detach().numpy(), atol=1e-12)
    (out * out).sum().backward()
    (out_t * out_t).sum().backward()
    np.testing.assert_allclose(X.grad, Xt.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(H.grad, Ht.grad.numpy(), atol=1e-12)
    theirs_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad, theirs_params[name].grad.numpy(), atol=1e-12,
                                   err_msg=name)
    # unbatched input and no state: zeros, as PyTorch
    np.testing.assert_allclose(ours(Tensor(x[0])).data,
                               theirs(torch.tensor(x[0])).detach().numpy(), atol=1e-12)


def test_gru_shapes_and_errors():
    gru = nn.GRU(3, 4, num_layers=2, batch_first=True)
    out, h = gru(Tensor.randn(2, 5, 3))
    assert out.shape == (2, 5, 4) and h.shape == (2, 2, 4)
    out, h = gru(Tensor.randn(5, 3))  # unbatched (T, input)
    assert out.shape == (5, 4) and h.shape == (2, 4)
    assert gru.weight_hh_l1.shape == (12, 4)
    with pytest.raises(ValueError, match="input has 2 features"):
        gru(Tensor.randn(2, 5, 2))
    with pytest.raises(ValueError, match="initial state of shape"):
        gru(Tensor.randn(2, 5, 3), Tensor.randn(1, 2, 4))
    with pytest.raises(ValueError, match="no cell state"):
        gru(Tensor.randn(2, 5, 3), (Tensor.randn(2, 2, 4), Tensor.randn(2, 2, 4)))
    with pytest.raises(TypeError, match="dtype"):
        gru(Tensor(np.zeros((2, 5, 3))))
    cell = nn.GRUCell(3, 4)
    with pytest.raises(ValueError, match="expected \\(B, 3\\)"):
        cell(Tensor.randn(2, 5))
    with pytest.raises(ValueError, match="state of shape"):
        cell(Tensor.randn(2, 3), Tensor.randn(3, 4))
    assert repr(cell) == "GRUCell(3, 4)"
