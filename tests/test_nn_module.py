"""Module machinery: registration, traversal, modes, state_dict, repr, hooks, summary."""

import numpy as np
import pytest

import tinygrad_edu.nn as nn
from tinygrad_edu import Tensor


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.ReLU())
        self.head = nn.Linear(3, 2)
        self.blocks = nn.ModuleList([nn.Linear(2, 2), nn.Dropout(0.5)])
        self.scale = nn.Parameter(np.ones(1, np.float32))
        self.not_a_param = Tensor([1.0])

    def forward(self, x):
        x = self.head(self.features(x))
        for block in self.blocks:
            x = block(x)
        return x * self.scale


def test_registration_and_traversal():
    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == ["scale", "features.0.weight", "features.0.bias", "features.1.weight",
                     "features.1.bias", "head.weight", "head.bias", "blocks.0.weight",
                     "blocks.0.bias"]
    assert [n for n, _ in net.named_buffers()] == [
        "features.1.running_mean", "features.1.running_var", "features.1.num_batches_tracked"]
    assert [n for n, _ in net.named_children()] == ["features", "head", "blocks"]
    assert len(list(net.modules())) == 9
    assert isinstance(net.features[0], nn.Linear) and len(net.features) == 3
    assert isinstance(net.features[1:], nn.Sequential) and len(net.features[1:]) == 2
    net.head = nn.Linear(3, 5)  # replacing a module re-registers it
    assert net.head.out_features == 5
    del net.head
    assert "head" not in dict(net.named_children())
    with pytest.raises(AttributeError, match="no attribute"):
        net.missing


def test_shared_parameter_listed_once():
    layer = nn.Linear(2, 2)
    model = nn.Sequential(layer, nn.ReLU(), layer)
    assert len(list(model.parameters())) == 2


def test_train_eval_zero_grad_and_freezing():
    net = Net()
    net.eval()
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    out = net(Tensor(np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)))
    out.sum().backward()
    assert net.head.weight.grad is not None
    net.zero_grad(set_to_none=False)
    assert np.all(net.head.weight.grad == 0)
    net.zero_grad()
    assert net.head.weight.grad is None
    net.features.requires_grad_(False)
    assert [n for n, p in net.named_parameters() if p.requires_grad] == [
        "scale", "head.weight", "head.bias", "blocks.0.weight", "blocks.0.bias"]


def test_state_dict_round_trip_and_errors():
    a, b = Net(), Net()
    a.features[1].running_var.data[:] = 3.0
    b.load_state_dict(a.state_dict())
    for (k, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items()):
        np.testing.assert_array_equal(x.data, y.data, err_msg=k)
    weight_array = b.head.weight.data
    b.load_state_dict({k: v.data * 2 for k, v in a.state_dict().items()})
    assert b.head.weight.data is weight_array  # copied in place: optimizers keep working
    state = a.state_dict()
    del state["head.bias"]
    with pytest.raises(KeyError, match="head.bias"):
        b.load_state_dict(state)
    state["extra"] = Tensor([1.0])
    result = b.load_state_dict(state, strict=False)
    assert result.missing_keys == ["head.bias"] and result.unexpected_keys == ["extra"]
    bad = a.state_dict()
    bad["head.weight"] = Tensor(np.zeros((3, 3), np.float32))
    with pytest.raises(ValueError, match=r"head.weight.*\(3, 3\).*\(2, 3\)"):
        b.load_state_dict(bad)


def test_state_dict_loads_into_torch_and_back():
    torch = pytest.importorskip("torch")
    ours = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.Linear(3, 1))
    theirs = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.BatchNorm1d(3),
                                 torch.nn.Linear(3, 1))
    theirs.load_state_dict({k: torch.tensor(v.data) for k, v in ours.state_dict().items()})
    ours2 = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.Linear(3, 1))
    ours2.load_state_dict(theirs.state_dict())  # torch tensors accepted directly
    ours.eval(), ours2.eval(), theirs.eval()
    x = np.random.default_rng(0).standard_normal((2, 4)).astype(np.float32)
    np.testing.assert_allclose(ours2(Tensor(x)).data, theirs(torch.tensor(x)).detach().numpy(),
                               atol=1e-6)


def test_repr_and_errors():
    text = repr(Net())
    assert "(features): Sequential(" in text and "(0): Linear(in_features=4, out_features=3" in text
    assert "Dropout(p=0.5)" in text
    assert repr(nn.Parameter(np.zeros(1, np.float32))).startswith("Parameter containing:")

    class Forgot(nn.Module):
        def __init__(self):
            self.x = 1

    with pytest.raises(AttributeError, match="super"):
        Forgot()
    with pytest.raises(TypeError, match="not a Module"):
        nn.Sequential(nn.ReLU(), 3)
    with pytest.raises(NotImplementedError):
        nn.Module()(1)
    with pytest.raises(TypeError):
        nn.Module().register_parameter("w", Tensor([1.0]))


def test_hooks_apply_and_dtype_conversion():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    seen = []
    handle = model[0].register_forward_hook(lambda m, inp, out: seen.append(out.shape))
    model(Tensor(np.ones((4, 2), np.float32)))
    handle.remove()
    model(Tensor(np.ones((4, 2), np.float32)))
    assert seen == [(4, 3)]
    model[1].register_forward_hook(lambda m, inp, out: out * 0)
    assert np.all(model(Tensor(np.ones((1, 2), np.float32))).data == 0)
    visited = []
    model.apply(lambda m: visited.append(type(m).__name__))
    assert visited == ["Linear", "ReLU", "Sequential"]
    model.double()
    assert model[0].weight.dtype == np.float64
    layers = nn.ModuleList([nn.ReLU()]).extend([nn.Tanh(), nn.Sigmoid()])
    assert len(layers) == 3 and isinstance(layers[1:], nn.ModuleList)


def test_summary_counts():
    model = nn.Sequential(nn.Linear(10, 5), nn.BatchNorm1d(5), nn.ReLU(), nn.Linear(5, 2))
    model[0].requires_grad_(False)
    info = nn.summary(model, (10,), batch_size=3, verbose=False)
    assert info.total_params == 55 + 10 + 12
    assert info.frozen_params == 55 and info.trainable_params == 22
    assert [r[1] for r in info.rows] == ["Linear", "BatchNorm1d", "ReLU", "Linear"]
    assert info.rows[-1][2] == "[3, 2]"
    assert "Frozen params: 55" in str(info)
    assert model.training and int(model[1].num_batches_tracked.data) == 0  # untouched


def test_lenet5_summary_has_61706_parameters(capsys):
    pytest.importorskip("tinygrad_edu.ops.conv")
    pytest.importorskip("tinygrad_edu.ops.pool")
    info = nn.summary(nn.LeNet5(), (1, 32, 32))
    printed = capsys.readouterr().out
    assert info.total_params == 61706 and "Total params: 61,706" in printed
    shapes = [r[2] for r in info.rows]
    assert shapes[0] == "[1, 6, 28, 28]" and "[1, 16, 5, 5]" in shapes and shapes[-1] == "[1, 10]"
    lstm_info = nn.summary(nn.LSTM(3, 4, batch_first=True), (5, 3), verbose=False)
    assert lstm_info.total_params == 4 * 4 * (3 + 4 + 2)
    assert lstm_info.rows[0][2].startswith("[1, 5, 4]")
    with pytest.raises(TypeError):
        nn.summary(lambda x: x, (3,))
