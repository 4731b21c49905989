"""RNN, LSTM, LSTMCell, RNNCell: gradcheck, the plain-numpy reference loop, PyTorch equality,
shapes and errors."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_edu as tg
import tinygrad_edu.nn as nn
from tinygrad_edu import Tensor, gradcheck
from tinygrad_edu.ops.rnn import LSTMCellFn, LSTMSequenceFn
from tinygrad_edu.reference import lstm as ref


def _t(rng, *shape, grad=True):
    return Tensor(rng.standard_normal(shape), requires_grad=grad)


@settings(max_examples=8, deadline=None)
@given(batch=st.integers(1, 3), hidden=st.integers(1, 3), seed=st.integers(0, 100))
def test_lstm_cell_fn_gradcheck(batch, hidden, seed):
    rng = np.random.default_rng(seed)
    z, c = _t(rng, batch, 4 * hidden), _t(rng, batch, hidden)
    assert gradcheck(lambda z, c: LSTMCellFn.apply(z, c), [z, c])


@settings(max_examples=8, deadline=None)
@given(steps=st.integers(1, 3), batch=st.integers(1, 2), inp=st.integers(1, 3),
       hidden=st.integers(1, 3), bias=st.booleans(), seed=st.integers(0, 100))
def test_lstm_sequence_gradcheck(steps, batch, inp, hidden, bias, seed):
    rng = np.random.default_rng(seed)
    x = _t(rng, steps, batch, inp)
    h0, c0 = _t(rng, batch, hidden), _t(rng, batch, hidden)
    w_ih, w_hh = _t(rng, 4 * hidden, inp), _t(rng, 4 * hidden, hidden)
    b_ih = _t(rng, 4 * hidden) if bias else None
    b_hh = _t(rng, 4 * hidden) if bias else None
    inputs = [x, h0, c0, w_ih, w_hh, b_ih, b_hh]
    assert gradcheck(lambda *a: LSTMSequenceFn.apply(*a), inputs)


def test_lstm_cell_module_gradcheck():
    tg.manual_seed(0)
    cell = nn.LSTMCell(3, 2).double()
    rng = np.random.default_rng(1)
    x, h, c = _t(rng, 2, 3), _t(rng, 2, 2), _t(rng, 2, 2)
    assert gradcheck(lambda x, h, c, w: cell(x, (h, c)), [x, h, c, cell.weight_hh])


def test_lstm_module_gradcheck_two_layers_bidirectional():
    tg.manual_seed(0)
    lstm = nn.LSTM(2, 3, num_layers=2, batch_first=True, bidirectional=True).double()
    rng = np.random.default_rng(2)
    x = _t(rng, 2, 3, 2)
    h0, c0 = _t(rng, 4, 2, 3), _t(rng, 4, 2, 3)

    def fn(x, h0, c0, w, w_rev):
        out, (h, c) = lstm(x, (h0, c0))
        return out, h, c
    assert gradcheck(fn, [x, h0, c0, lstm.weight_ih_l1, lstm.weight_hh_l0_reverse])


@settings(max_examples=6, deadline=None)
@given(steps=st.integers(1, 3), batch=st.integers(1, 2), hidden=st.integers(1, 3),
       relu=st.booleans(), seed=st.integers(0, 100))
def test_rnn_gradcheck(steps, batch, hidden, relu, seed):
    tg.manual_seed(seed)
    rnn = nn.RNN(2, hidden, nonlinearity="relu" if relu else "tanh").double()
    rng = np.random.default_rng(seed)
    x, h0 = _t(rng, steps, batch, 2), _t(rng, 1, batch, hidden)
    assert gradcheck(lambda x, h0, w: rnn(x, h0), [x, h0, rnn.weight_hh_l0])


# ---------------------------------------------------------------------------------------------
# The LSTM Functions and nn.LSTM against the plain-numpy loop of reference/lstm.py (float64)
# ---------------------------------------------------------------------------------------------
TIGHT = dict(rtol=1e-10, atol=1e-10)


def _lstm_arrays(rng, steps, batch, inp, hidden, bias):
    """x, h0, c0, w_ih, w_hh, b_ih, b_hh as float64 arrays (biases None without bias)."""
    shapes = [(steps, batch, inp), (batch, hidden), (batch, hidden), (4 * hidden, inp),
              (4 * hidden, hidden)] + [(4 * hidden,)] * 2
    arrays = [rng.standard_normal(shape) for shape in shapes]
    return arrays if bias else arrays[:5] + [None, None]


def _assert_grads(ours, reference, names):
    for name, a, b in zip(names, ours, reference):
        if b is None:
            assert a is None, name
        else:
            np.testing.assert_allclose(a, b, err_msg=name, **TIGHT)


LSTM_INPUTS = ("x", "h0", "c0", "w_ih", "w_hh", "b_ih", "b_hh")
lstm_shapes = dict(steps=st.integers(1, 4), batch=st.integers(1, 3), inp=st.integers(1, 4),
                   hidden=st.integers(1, 4), bias=st.booleans(), seed=st.integers(0, 2**16))


@settings(max_examples=25, deadline=None)
@given(**lstm_shapes)
def test_lstm_sequence_fn_matches_reference(steps, batch, inp, hidden, bias, seed):
    rng = np.random.default_rng(seed)
    arrays = _lstm_arrays(rng, steps, batch, inp, hidden, bias)
    outputs, h_T, c_T, cache = ref.lstm_forward(*arrays)
    tensors = [None if a is None else Tensor(a, requires_grad=True) for a in arrays]
    y = LSTMSequenceFn.apply(*tensors)               # (T+1, B, H): h_1 … h_T, then c_T
    assert y.shape == (steps + 1, batch, hidden)
    np.testing.assert_allclose(y.data[:steps], outputs, **TIGHT)
    np.testing.assert_allclose(y.data[steps - 1], h_T, **TIGHT)
    np.testing.assert_allclose(y.data[steps], c_T, **TIGHT)
    upstream = rng.standard_normal(y.shape)
    (y * Tensor(upstream)).sum().backward()
    expected = ref.lstm_backward(upstream[:steps], None, upstream[steps], cache)
    _assert_grads([None if t is None else t.grad for t in tensors], expected, LSTM_INPUTS)


@settings(max_examples=25, deadline=None)
@given(**lstm_shapes)
def test_lstm_cell_fn_matches_reference_first_step(steps, batch, inp, hidden, bias, seed):
    rng = np.random.default_rng(seed)
    x, h0, c0, w_ih, w_hh, b_ih, b_hh = arrays = _lstm_arrays(rng, steps, batch, inp, hidden, bias)
    outputs, h_1, c_1, cache = ref.lstm_forward(x[:1], *arrays[1:])   # the first step only
    X, H0, C0, W_ih, W_hh, B_ih, B_hh = tensors = [
        None if a is None else Tensor(a, requires_grad=True) for a in (x[0],) + tuple(arrays[1:])]
    z = X @ W_ih.T + H0 @ W_hh.T
    if bias:
        z = z + B_ih + B_hh
    hc = LSTMCellFn.apply(z, C0)                     # (2, B, H): h_1, c_1
    np.testing.assert_allclose(hc.data[0], outputs[0], **TIGHT)
    np.testing.assert_allclose(hc.data[0], h_1, **TIGHT)
    np.testing.assert_allclose(hc.data[1], c_1, **TIGHT)
    d_h, d_c = rng.standard_normal((2, batch, hidden))
    (hc[0] * Tensor(d_h) + hc[1] * Tensor(d_c)).sum().backward()
    expected = list(ref.lstm_backward(d_h[None], None, d_c, cache))
    expected[0] = expected[0][0]                     # ∂x_1 of the (1, B, I) sequence
    _assert_grads([None if t is None else t.grad for t in tensors], expected, LSTM_INPUTS)


def _reference_lstm_module(lstm, x, h0, c0, d_out, d_hn, d_cn):
    """nn.LSTM (time-major x, no dropout) built from ref.lstm_forward/backward: every layer and
    direction one reference loop, the reverse direction on the flipped sequence. Returns
    (out, h_n, c_n) and the gradients {"x", "h0", "c0", parameter name: array}."""
    D, H = lstm.num_directions, lstm.hidden_size
    params = {name: p.data for name, p in lstm.named_parameters()}
    kinds = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    layer_in, caches, h_n, c_n = x, {}, [], []
    for layer in range(lstm.num_layers):
        outs = []
        for d, suffix in enumerate(lstm._suffixes()):
            k = layer * D + d
            weights = [params.get(f"{kind}_l{layer}{suffix}") for kind in kinds]
            seq = layer_in[::-1] if d else layer_in
            out, h, c, caches[k] = ref.lstm_forward(seq, h0[k], c0[k], *weights)
            outs.append(out[::-1] if d else out)
            h_n.append(h)
            c_n.append(c)
        layer_in = np.concatenate(outs, axis=-1)
    grads = {"h0": np.zeros_like(h0), "c0": np.zeros_like(c0)}
    d_layer_out = d_out
    for layer in reversed(range(lstm.num_layers)):
        d_layer_in = 0
        for d, suffix in enumerate(lstm._suffixes()):
            k = layer * D + d
            d_seq = d_layer_out[..., d * H:(d + 1) * H]
            dx, grads["h0"][k], grads["c0"][k], *dw = ref.lstm_backward(
                d_seq[::-1] if d else d_seq, d_hn[k], d_cn[k], caches[k])
            d_layer_in = d_layer_in + (dx[::-1] if d else dx)
            for kind, g in zip(kinds, dw):
                if g is not None:
                    grads[f"{kind}_l{layer}{suffix}"] = g
        d_layer_out = d_layer_in
    grads["x"] = d_layer_out
    return (layer_in, np.stack(h_n), np.stack(c_n)), grads


@settings(max_examples=20, deadline=None)
@given(steps=st.integers(1, 4), batch=st.integers(1, 3), inp=st.integers(1, 4),
       hidden=st.integers(1, 4), num_layers=st.integers(1, 2), bidirectional=st.booleans(),
       bias=st.booleans(), batch_first=st.booleans(), seed=st.integers(0, 2**16))
def test_lstm_module_matches_reference(steps, batch, inp, hidden, num_layers, bidirectional, bias,
                                       batch_first, seed):
    tg.manual_seed(seed)
    lstm = nn.LSTM(inp, hidden, num_layers=num_layers, bias=bias, batch_first=batch_first,
                   bidirectional=bidirectional).double()
    rng = np.random.default_rng(seed)
    states = num_layers * lstm.num_directions
    x = rng.standard_normal((steps, batch, inp))       # time-major for the reference
    h0, c0 = rng.standard_normal((2, states, batch, hidden))
    X = Tensor(x.transpose(1, 0, 2) if batch_first else x, requires_grad=True)
    H0, C0 = Tensor(h0, requires_grad=True), Tensor(c0, requires_grad=True)
    out, (h_n, c_n) = lstm(X, (H0, C0))
    d_out = rng.standard_normal((steps, batch, lstm.num_directions * hidden))
    d_hn, d_cn = rng.standard_normal((2, states, batch, hidden))
    (expected_out, expected_h, expected_c), grads = _reference_lstm_module(
        lstm, x, h0, c0, d_out, d_hn, d_cn)
    out_tm = out.data.transpose(1, 0, 2) if batch_first else out.data
    np.testing.assert_allclose(out_tm, expected_out, **TIGHT)
    np.testing.assert_allclose(h_n.data, expected_h, **TIGHT)
    np.testing.assert_allclose(c_n.data, expected_c, **TIGHT)
    d_out_bm = d_out.transpose(1, 0, 2) if batch_first else d_out
    (out * Tensor(d_out_bm)).sum().add((h_n * Tensor(d_hn)).sum()).add(
        (c_n * Tensor(d_cn)).sum()).backward()
    x_grad = X.grad.transpose(1, 0, 2) if batch_first else X.grad
    np.testing.assert_allclose(x_grad, grads["x"], err_msg="x", **TIGHT)
    np.testing.assert_allclose(H0.grad, grads["h0"], err_msg="h0", **TIGHT)
    np.testing.assert_allclose(C0.grad, grads["c0"], err_msg="c0", **TIGHT)
    names = [name for name, _ in lstm.named_parameters()]
    assert sorted(names) == sorted(set(grads) - {"x", "h0", "c0"})
    for name, p in lstm.named_parameters():
        np.testing.assert_allclose(p.grad, grads[name], err_msg=name, **TIGHT)


def _copy_to_torch(ours, theirs):
    import torch
    theirs.load_state_dict({k: torch.tensor(v.data) for k, v in ours.state_dict().items()})


@pytest.mark.parametrize("num_layers,batch_first,with_state,bias,bidirectional",
                         [(1, False, False, True, False), (2, True, True, True, False),
                          (3, False, True, False, False), (2, True, True, True, True),
                          (1, False, False, False, True)])
def test_lstm_matches_torch(num_layers, batch_first, with_state, bias, bidirectional):
    torch = pytest.importorskip("torch")
    tg.manual_seed(3)
    kwargs = dict(num_layers=num_layers, batch_first=batch_first, bias=bias,
                  bidirectional=bidirectional)
    ours = nn.LSTM(4, 5, **kwargs).double()
    theirs = torch.nn.LSTM(4, 5, **kwargs).double()
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    _copy_to_torch(ours, theirs)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 6, 4))
    batch = 3 if batch_first else 6
    states = num_layers * (2 if bidirectional else 1)
    h0 = rng.standard_normal((states, batch, 5))
    c0 = rng.standard_normal((states, batch, 5))
    X, H, C = (Tensor(a, requires_grad=True) for a in (x, h0, c0))
    Xt, Ht, Ct = (torch.tensor(a, requires_grad=True) for a in (x, h0, c0))
    out, (h, c) = ours(X, (H, C)) if with_state else ours(X)
    out_t, (h_t, c_t) = theirs(Xt, (Ht, Ct)) if with_state else theirs(Xt)
    np.testing.assert_allclose(out.data, out_t.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(h.data, h_t.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(c.data, c_t.detach().numpy(), atol=1e-12)
    weights = rng.standard_normal(out.shape)
    (out * Tensor(weights)).sum().add((h * h).sum()).add((c * 3).sum()).backward()
    ((out_t * torch.tensor(weights)).sum() + (h_t * h_t).sum() + (c_t * 3).sum()).backward()
    np.testing.assert_allclose(X.grad, Xt.grad.numpy(), atol=1e-10)
    if with_state:
        np.testing.assert_allclose(H.grad, Ht.grad.numpy(), atol=1e-10)
        np.testing.assert_allclose(C.grad, Ct.grad.numpy(), atol=1e-10)
    for (name, p), (name_t, p_t) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert name == name_t
        np.testing.assert_allclose(p.grad, p_t.grad.numpy(), atol=1e-10, err_msg=name)


def test_lstm_float32_matches_torch():
    torch = pytest.importorskip("torch")
    ours = nn.LSTM(8, 16)
    theirs = torch.nn.LSTM(8, 16)
    _copy_to_torch(ours, theirs)
    x = np.random.default_rng(0).standard_normal((5, 4, 8)).astype(np.float32)
    out, _ = ours(Tensor(x))
    out_t, _ = theirs(torch.tensor(x))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.data, out_t.detach().numpy(), atol=1e-5)


@pytest.mark.parametrize("nonlinearity,bidirectional", [("tanh", False), ("relu", False),
                                                        ("tanh", True)])
def test_rnn_matches_torch(nonlinearity, bidirectional):
    torch = pytest.importorskip("torch")
    kwargs = dict(num_layers=2, nonlinearity=nonlinearity, batch_first=True,
                  bidirectional=bidirectional)
    ours = nn.RNN(3, 4, **kwargs).double()
    theirs = torch.nn.RNN(3, 4, **kwargs).double()
    _copy_to_torch(ours, theirs)
    x = np.random.default_rng(1).standard_normal((2, 5, 3))
    X, Xt = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, h = ours(X)
    out_t, h_t = theirs(Xt)
    np.testing.assert_allclose(out.data, out_t.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(h.data, h_t.detach().numpy(), atol=1e-12)
    (out.sum() + h.sum()).backward()
    (out_t.sum() + h_t.sum()).backward()
    np.testing.assert_allclose(X.grad, Xt.grad.numpy(), atol=1e-10)
    np.testing.assert_allclose(ours.weight_hh_l0.grad, theirs.weight_hh_l0.grad.numpy(), atol=1e-10)


def test_cells_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    x, h, c = (rng.standard_normal(s) for s in ((3, 4), (3, 5), (3, 5)))
    ours, theirs = nn.LSTMCell(4, 5).double(), torch.nn.LSTMCell(4, 5).double()
    _copy_to_torch(ours, theirs)
    h1, c1 = ours(Tensor(x), (Tensor(h), Tensor(c)))
    h1t, c1t = theirs(torch.tensor(x), (torch.tensor(h), torch.tensor(c)))
    np.testing.assert_allclose(h1.data, h1t.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(c1.data, c1t.detach().numpy(), atol=1e-12)
    ours, theirs = nn.RNNCell(4, 5).double(), torch.nn.RNNCell(4, 5).double()
    _copy_to_torch(ours, theirs)
    np.testing.assert_allclose(ours(Tensor(x), Tensor(h)).data,
                               theirs(torch.tensor(x), torch.tensor(h)).detach().numpy(), atol=1e-12)


def test_lstm_equals_unrolled_cell():
    tg.manual_seed(4)
    lstm = nn.LSTM(3, 4).double()
    cell = nn.LSTMCell(3, 4).double()
    cell.load_state_dict({k[:-3]: v for k, v in lstm.state_dict().items()})
    x = Tensor(np.random.default_rng(0).standard_normal((5, 2, 3)))
    out, (h_n, c_n) = lstm(x)
    h = c = Tensor(np.zeros((2, 4)))
    for t in range(5):
        h, c = cell(x[t], (h, c))
        np.testing.assert_allclose(out.data[t], h.data, atol=1e-12)
    np.testing.assert_allclose(c_n.data[0], c.data, atol=1e-12)


def test_names_shapes_and_init_bounds():
    lstm = nn.LSTM(10, 20, num_layers=2)
    names = [n for n, _ in lstm.named_parameters()]
    assert names == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
                     "weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1"]
    assert lstm.weight_ih_l0.shape == (80, 10) and lstm.weight_ih_l1.shape == (80, 20)
    bound = 1 / np.sqrt(20)
    for p in lstm.parameters():
        assert np.abs(p.data).max() <= bound
        assert np.abs(p.data).max() > 0.8 * bound  # really spread over the interval
    assert nn.RNN(3, 7).weight_ih_l0.shape == (7, 3)
    assert nn.LSTMCell(3, 7).weight_hh.shape == (28, 7)


def test_unbatched_input():
    lstm = nn.LSTM(3, 4)
    out, (h, c) = lstm(Tensor.randn(6, 3))
    assert out.shape == (6, 4) and h.shape == (1, 4) and c.shape == (1, 4)
    out_b, _ = lstm(Tensor(Tensor.randn(6, 3).data[:, None]))
    assert out_b.shape == (6, 1, 4)


def test_bad_inputs_raise():
    lstm = nn.LSTM(3, 4)
    with pytest.raises(ValueError, match="input_size=3"):
        lstm(Tensor.randn(5, 2, 7))
    with pytest.raises(ValueError, match="initial state"):
        lstm(Tensor.randn(5, 2, 3), (Tensor.zeros(1, 3, 4), Tensor.zeros(1, 3, 4)))
    with pytest.raises(ValueError, match="2-D"):
        lstm(Tensor.randn(5))
    with pytest.raises(ValueError, match="empty"):
        lstm(Tensor.zeros(0, 2, 3))
    with pytest.raises(TypeError, match="dtype"):
        lstm(Tensor(np.zeros((5, 2, 3))))  # float64 input, float32 weights
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.RNN(3, 4, nonlinearity="sigmoid")


def test_dropout_between_layers_only_in_training():
    tg.manual_seed(0)
    lstm = nn.LSTM(3, 4, num_layers=2, dropout=0.5)
    x = Tensor.randn(4, 2, 3)
    lstm.eval()
    a, _ = lstm(x)
    b, _ = lstm(x)
    np.testing.assert_array_equal(a.data, b.data)
    lstm.train()
    c, _ = lstm(x)
    assert not np.allclose(a.data, c.data)
