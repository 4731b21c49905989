"""PyTorch weight exchange without pickle: our state_dict keys and layouts are PyTorch's.

For the architectures the tutorials build, the same network is written in torch.nn and in
tinygrad_edu.nn; weights go both ways (torch tensors, numpy arrays, an .npz file) and the two
give equal outputs. BatchNorm's running statistics and num_batches_tracked travel too, and the
LSTM's and GRU's `_l0` / `_reverse` weights.
"""

import numpy as np
import pytest

import tinygrad_edu as tg
import tinygrad_edu.nn as nn

torch = pytest.importorskip("torch")
tnn = torch.nn


# ---------------------------------------------------------------------------------------------
# The same architectures twice: `ours(nn)` builds with tinygrad_edu.nn, `ours(torch.nn)` with
# torch.nn (the names agree, so one function builds both)
# ---------------------------------------------------------------------------------------------
def mlp(m):
    return m.Sequential(m.Linear(64, 32), m.ReLU(), m.Dropout(0.2), m.Linear(32, 10))


def lenet_tanh(m):
    return m.Sequential(m.Conv2d(1, 6, 5), m.Tanh(), m.AvgPool2d(2), m.Conv2d(6, 16, 5), m.Tanh(),
                        m.AvgPool2d(2), m.Flatten(), m.Linear(400, 120), m.Tanh(),
                        m.Linear(120, 84), m.Tanh(), m.Linear(84, 10))


def lenet_relu(m):  # nn.LeNet5's layout
    return m.Sequential(m.Conv2d(1, 6, 5), m.ReLU(), m.MaxPool2d(2), m.Conv2d(6, 16, 5), m.ReLU(),
                        m.MaxPool2d(2), m.Flatten(), m.Linear(400, 120), m.ReLU(),
                        m.Linear(120, 84), m.ReLU(), m.Linear(84, 10))


def autoencoder(m):
    return m.Sequential(
        m.Conv2d(1, 8, 3, padding=1), m.ReLU(), m.MaxPool2d(2), m.Conv2d(8, 4, 1),
        m.ConvTranspose2d(4, 8, 2, stride=2), m.ReLU(), m.Conv2d(8, 1, 3, padding=1), m.Sigmoid())


def bn_net(m):
    """BasicBlock-like: conv, BatchNorm2d, a BatchNorm1d head."""
    return m.Sequential(m.Conv2d(3, 8, 3, padding=1, bias=False), m.BatchNorm2d(8), m.ReLU(),
                        m.Conv2d(8, 8, 3, stride=2, padding=1), m.BatchNorm2d(8), m.ELU(),
                        m.Flatten(), m.Linear(8 * 4 * 4, 16), m.BatchNorm1d(16),
                        m.LeakyReLU(0.1), m.Linear(16, 5))


def recurrent(cell_name):
    """A recurrent layer (LSTM, GRU or RNN; 2 layers, bidirectional) and a linear head."""

    def build(m):
        cell = getattr(m, cell_name)

        class Model(m.Module):
            def __init__(self):
                super().__init__()
                self.rnn = cell(8, 6, num_layers=2, batch_first=True, bidirectional=True)
                self.head = m.Linear(12, 3)

            def forward(self, x):
                out, _ = self.rnn(x)
                return self.head(out[:, -1])

        return Model()
    return build


def embedding_model(m):
    return m.Sequential(m.Embedding(20, 4), m.Flatten(), m.Linear(5 * 4, 3))


ARCHITECTURES = {
    "mlp": (mlp, (7, 64)), "lenet_tanh": (lenet_tanh, (3, 1, 32, 32)),
    "lenet_relu": (lenet_relu, (3, 1, 32, 32)), "autoencoder": (autoencoder, (2, 1, 8, 8)),
    "bn_net": (bn_net, (4, 3, 8, 8)), "lstm": (recurrent("LSTM"), (3, 5, 8)),
    "gru": (recurrent("GRU"), (3, 5, 8)), "rnn": (recurrent("RNN"), (3, 5, 8)),
    "embedding": (embedding_model, (3, 5)),
}


def _input(name, shape):
    rng = np.random.default_rng(0)
    if name == "embedding":
        return rng.integers(0, 20, shape).astype(np.int64)
    return rng.random(shape, dtype=np.float32)


def _train_a_little_torch(model, x):
    """Non-default BatchNorm statistics: a few training-mode passes (and num_batches_tracked)."""
    model.train()
    with torch.no_grad():
        for _ in range(3):
            model(x + torch.rand_like(x) if x.is_floating_point() else x)
    model.eval()


def _outputs_equal(ours, theirs, x):
    ours.eval()
    theirs.eval()
    with torch.no_grad():
        expected = theirs(torch.from_numpy(x)).numpy()
    got = ours(tg.Tensor(x)).detach().numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_torch_state_dict_loads_into_ours(name):
    build, shape = ARCHITECTURES[name]
    torch.manual_seed(0)
    theirs, ours = build(tnn), build(nn)
    x = _input(name, shape)
    _train_a_little_torch(theirs, torch.from_numpy(x))
    result = ours.load_state_dict(theirs.state_dict())        # torch tensors, strict
    assert result.missing_keys == [] and result.unexpected_keys == []
    _outputs_equal(ours, theirs, x)
    for key, value in theirs.state_dict().items():            # every buffer too
        np.testing.assert_array_equal(ours.state_dict()[key].numpy(), value.numpy())


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_our_state_dict_loads_into_torch(name):
    build, shape = ARCHITECTURES[name]
    tg.manual_seed(1)
    ours, theirs = build(nn), build(tnn)
    x = _input(name, shape)
    ours.train()
    for _ in range(2):  # BatchNorm statistics and num_batches_tracked move away from 0/1
        ours(tg.Tensor(x))
    arrays = {k: v.numpy() for k, v in ours.state_dict().items()}   # plain numpy arrays
    theirs.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in arrays.items()})
    _outputs_equal(ours, theirs, x)


def test_numpy_arrays_and_npz_round_trip(tmp_path):
    """tinygrad_edu → .npz → torch → numpy → tinygrad_edu, as in the README."""
    tg.manual_seed(2)
    ours = bn_net(nn)
    ours.train()
    ours(tg.Tensor(_input("bn_net", (4, 3, 8, 8))))
    tg.save(ours.state_dict(), tmp_path / "weights.npz")
    theirs = bn_net(tnn)
    with np.load(tmp_path / "weights.npz") as f:
        theirs.load_state_dict({k: torch.from_numpy(f[k]) for k in f.files})
    back = bn_net(nn)
    back.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    for key, value in ours.state_dict().items():
        np.testing.assert_array_equal(back.state_dict()[key].numpy(), value.numpy())
    assert int(back[1].num_batches_tracked.item()) == 1
    _outputs_equal(back, theirs, _input("bn_net", (2, 3, 8, 8)))


def test_keys_and_shapes_are_torchs():
    for name, (build, shape) in ARCHITECTURES.items():
        ours, theirs = build(nn), build(tnn)
        assert {k: tuple(v.shape) for k, v in ours.state_dict().items()} == \
            {k: tuple(v.shape) for k, v in theirs.state_dict().items()}, name


def test_lstm_reverse_and_layer_keys():
    lstm = nn.LSTM(3, 4, num_layers=2, bidirectional=True)
    keys = list(lstm.state_dict())
    assert "weight_ih_l1_reverse" in keys and "bias_hh_l0_reverse" in keys
    assert keys == list(tnn.LSTM(3, 4, num_layers=2, bidirectional=True).state_dict())


def test_load_state_dict_errors_name_the_key():
    ours = nn.BatchNorm2d(3)
    state = {k: v.clone() for k, v in tnn.BatchNorm2d(4).state_dict().items()}
    with pytest.raises(ValueError, match="size mismatch for weight"):
        ours.load_state_dict(state)
    with pytest.raises(KeyError, match="num_batches_tracked"):
        ours.load_state_dict({k: v for k, v in tnn.BatchNorm2d(3).state_dict().items()
                              if k != "num_batches_tracked"})
    with pytest.raises(TypeError, match="'weight' is not an array"):
        ours.load_state_dict({**tnn.BatchNorm2d(3).state_dict(), "weight": object()})


def test_the_readme_example_runs(tmp_path, monkeypatch):
    """README's torch ↔ tinygrad_edu snippet (a ```py block, so test_readme.py, which runs
    without torch too, leaves it to this file)."""
    import re
    from pathlib import Path
    text = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    blocks = [b for b in re.findall(r"```py\n(.*?)```", text, flags=re.S) if "load_state_dict" in b]
    assert len(blocks) == 1
    monkeypatch.chdir(tmp_path)
    exec(compile(blocks[0], "README.md torch example", "exec"), {})
    assert (tmp_path / "weights.npz").exists()
