"""ONNX export and import (tinygrad_edu.onnx), checked with the real tools at the other end.

- export → onnx.checker → onnxruntime gives our outputs (within 1e-5, float32) at two batch
  sizes, for every model the tutorials build and for a model using the remaining ops;
- export → load gives a model of our layers with the same outputs, the same gradients and the
  same state_dict keys;
- models exported by torch.onnx.export load and agree with torch;
- every op without a mapping fails with its name, and no file is written.
"""

import os
import re
import sys
import warnings

import numpy as np
import pytest

import tinygrad_edu as tg
import tinygrad_edu.nn as nn
import tinygrad_edu.nn.functional as F

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
import tinygrad_edu.onnx as tonnx  # noqa: E402
from tinygrad_edu.onnx._export_ops import GRU_ORDER, LSTM_ORDER, reorder_gates  # noqa: E402
from tinygrad_edu.onnx._trace import Call  # noqa: E402
from tinygrad_edu.onnx.export import EXPORTERS, check_supported  # noqa: E402


# ---------------------------------------------------------------------------------------------
# The tutorials' models (small sizes: the layers and their arguments are what matters)
# ---------------------------------------------------------------------------------------------
def mlp():  # tutorial 03
    return nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Dropout(0.2), nn.Linear(32, 10))


def lenet_tanh():  # tutorials 04 and 08
    return nn.Sequential(nn.Conv2d(1, 6, 5), nn.Tanh(), nn.AvgPool2d(2), nn.Conv2d(6, 16, 5), nn.Tanh(),
                         nn.AvgPool2d(2), nn.Flatten(), nn.Linear(400, 120), nn.Tanh(),
                         nn.Linear(120, 84), nn.Tanh(), nn.Linear(84, 10))


class ConvAutoencoder(nn.Module):  # tutorial 05
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                     nn.Conv2d(16, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                     nn.Conv2d(8, 4, 1))
        self.decoder = nn.Sequential(nn.ConvTranspose2d(4, 8, 2, stride=2), nn.ReLU(),
                                     nn.ConvTranspose2d(8, 16, 2, stride=2), nn.ReLU(),
                                     nn.Conv2d(16, 1, 3, padding=1), nn.Sigmoid())

    def forward(self, x):
        return self.decoder(self.encoder(x))


class RowReader(nn.Module):  # tutorial 06: a recurrent layer over the image rows, a linear head
    def __init__(self, cell=nn.LSTM, **options):
        super().__init__()
        self.lstm = cell(input_size=8, hidden_size=12, batch_first=True, **options)
        self.head = nn.Linear(12 * (2 if options.get("bidirectional") else 1), 10)

    def forward(self, x):
        output, _ = self.lstm(x)
        return self.head(output[:, -1])


def transfer_cnn():  # tutorial 07: features (conv, pool) and a new head
    features = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten())
    return nn.Sequential(features, nn.Sequential(nn.Linear(128, 16), nn.ReLU(), nn.Linear(16, 5)))


def resnet_blocks():  # BasicBlock/BatchNorm net
    return nn.Sequential(nn.BasicBlock(3, 8, stride=2), nn.BasicBlock(8, 8),
                         nn.Flatten(), nn.Linear(8 * 4 * 4, 4))


class BagOfWords(nn.Module):  # an Embedding model (padding_idx only changes training: no ONNX form)
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(30, 6)
        self.out = nn.Linear(6, 3)

    def forward(self, idx):
        return self.out(self.embedding(idx).mean(1)).log_softmax(1)


class Everything(nn.Module):
    """The ops no tutorial model uses: conv1d, upsampling, pads, slicing, cat/stack, flips,
    the other activations, reductions, elementwise maths."""

    def __init__(self):
        super().__init__()
        self.conv1d = nn.Conv1d(4, 4, 3, padding=1)
        self.up = nn.Upsample(scale_factor=2)
        self.bn = nn.BatchNorm1d(4)
        self.conv = nn.Conv2d(4, 4, 3, padding=1, padding_mode="reflect", groups=2)
        self.scale = nn.Parameter(np.linspace(0.5, 1.5, 4).astype(np.float32))

    def forward(self, x):                                    # x: (N, 4, 6)
        h = F.leaky_relu(self.bn(self.conv1d(x)), 0.2) + F.elu(x, 0.5) * self.scale[:, None]
        img = self.up(h.reshape(-1, 4, 2, 3))                # (N, 4, 4, 6)
        img = self.conv(F.pad(img, (1, 0, 0, 1), value=0.5))  # (N, 4, 5, 7)
        parts = [img[:, :2].flip(2), img[:, 2:, ::2].mean(2, keepdim=True).expand(-1, -1, 5, -1)]
        y = tg.cat(parts, dim=1).permute(0, 2, 3, 1)         # (N, 5, 7, 4)
        z = tg.stack([y.sum(3), y.amax(3), (y.abs() + 1).sqrt().log().mean(-1)], dim=1)
        z = z.clamp(-2.0, 2.0).maximum(tg.Tensor(np.float32(-1.5))) - z.exp() / 4
        return F.softmax(z.flatten(1), 1), F.log_softmax(-z[:, 0, 1:3], -1).sigmoid().tanh()


def fcn(up):  # tutorial 11: encoder, skips, transposed-conv / nearest / bilinear upsampling
    def block(c_in, c_out):
        return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU())

    def upsampler(c):
        if up == "transposed":
            return nn.ConvTranspose2d(c, c, 3, stride=2, padding=1, output_padding=1)
        return nn.Sequential(nn.Upsample(scale_factor=2, mode=up), nn.Conv2d(c, c, 3, padding=1))

    class FCN(nn.Module):
        def __init__(self):
            super().__init__()
            self.enc1, self.enc2, self.middle = block(1, 4), block(4, 8), block(8, 8)
            self.up2, self.dec2 = upsampler(8), block(16, 8)
            self.up1, self.dec1 = upsampler(8), block(12, 4)
            self.head = nn.Conv2d(4, 3, 1)

        def forward(self, x):
            s1 = self.enc1(x)
            s2 = self.enc2(F.max_pool2d(s1, 2))
            m = self.middle(F.max_pool2d(s2, 2))
            d2 = self.dec2(tg.cat([self.up2(m), s2], dim=1))
            return self.head(self.dec1(tg.cat([self.up1(d2), s1], dim=1)))
    return FCN


class Hourglass(nn.Module):  # tutorial 13: stride-2 convs, nearest upsampling, skips, LeakyReLU
    def __init__(self):
        super().__init__()
        def block(c_in, c_out, k=3, s=1):
            return [nn.Conv2d(c_in, c_out, k, stride=s, padding=k // 2), nn.BatchNorm2d(c_out),
                    nn.LeakyReLU(0.2)]
        self.skip = nn.Sequential(*block(4, 2, 1))
        self.down = nn.Sequential(*block(4, 6, 3, 2), *block(6, 6))
        self.up = nn.Sequential(nn.BatchNorm2d(8), *block(8, 6))
        self.upsample = nn.Upsample(scale_factor=2, mode="nearest")
        self.to_rgb = nn.Conv2d(6, 3, 1)

    def forward(self, x):
        skipped = self.skip(x)
        return self.to_rgb(self.up(tg.cat([self.upsample(self.down(x)), skipped], dim=1))).sigmoid()


class SmallResNet(nn.Module):  # tutorial 12: BasicBlocks, PReLU/RReLU, global average pooling
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4),
                                  nn.PReLU(4))
        self.blocks = nn.Sequential(nn.BasicBlock(4, 4), nn.BasicBlock(4, 8, stride=2))
        self.act = nn.RReLU()
        self.fc = nn.Linear(8, 10)

    def forward(self, x):
        return self.fc(self.act(self.blocks(self.stem(x))).mean(axis=(2, 3)))


class Functions(nn.Module):  # the remaining elementwise and scan functions
    def __init__(self):
        super().__init__()
        self.linear, self.prelu = nn.Linear(6, 6), nn.PReLU(1, init=0.1)

    def forward(self, x):
        h = self.linear(x)
        y = h.sin() + h.cos() * 0.5 + (h * 0.3).tan() + h.erf() + h.softplus() + h.softplus(beta=2.0)
        return y.cumsum(1), y.logsumexp(1, keepdim=True), self.prelu(h)


MODELS = {
    "mlp": (mlp, (64,)),
    "lenet_tanh": (lenet_tanh, (1, 32, 32)),
    "lenet5": (nn.LeNet5, (1, 32, 32)),
    "autoencoder": (ConvAutoencoder, (1, 16, 16)),
    "lstm_classifier": (RowReader, (8, 8)),
    "lstm_2_layers_bidirectional": (lambda: RowReader(num_layers=2, bidirectional=True), (8, 8)),
    "gru": (lambda: RowReader(nn.GRU, bidirectional=True), (8, 8)),
    "rnn": (lambda: RowReader(nn.RNN, num_layers=2), (8, 8)),
    "rnn_relu": (lambda: RowReader(nn.RNN, nonlinearity="relu", bidirectional=True), (8, 8)),
    "transfer_cnn": (transfer_cnn, (1, 16, 16)),
    "resnet_blocks": (resnet_blocks, (3, 8, 8)),
    "embedding": (BagOfWords, (7,)),
    "everything": (Everything, (4, 6)),
    "lenet5_classic": (nn.LeNet5Classic, (1, 32, 32)),
    "fcn_transposed": (fcn("transposed"), (1, 8, 8)),
    "fcn_nearest": (fcn("nearest"), (1, 8, 8)),
    "fcn_bilinear": (fcn("bilinear"), (1, 8, 8)),
    "hourglass": (Hourglass, (4, 8, 8)),
    "small_resnet": (SmallResNet, (1, 8, 8)),
    "functions": (Functions, (6,)),
}


def make_input(name, batch, seed=0):
    shape = (batch,) + MODELS[name][1]
    rng = np.random.default_rng(seed + batch)
    if name == "embedding":
        return rng.integers(0, 30, shape).astype(np.int64)
    return rng.standard_normal(shape).astype(np.float32)


def make_model(name):
    tg.manual_seed(0)
    model = MODELS[name][0]()
    rng = np.random.default_rng(1)
    for module in model.modules():  # BatchNorm with statistics that are not 0 and 1
        if isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
            module.running_mean.data[...] = rng.standard_normal(module.num_features) * 0.1
            module.running_var.data[...] = rng.uniform(0.5, 2, module.num_features)
            module.weight.data[...] = rng.uniform(0.5, 1.5, module.num_features)
    return model.eval()


def outputs(value):
    values = value if isinstance(value, tuple) else (value,)
    return [v.detach().numpy() for v in values]


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """Each model exported once (traced at batch size 2): name → (model, path)."""
    directory = tmp_path_factory.mktemp("onnx")
    done = {}
    for name in MODELS:
        model = make_model(name)
        path = directory / f"{name}.onnx"
        tonnx.export(model, tg.Tensor(make_input(name, 2)), path)
        done[name] = model, path
    return done


@pytest.mark.parametrize("name", MODELS)
def test_onnxruntime_gives_our_outputs_at_two_batch_sizes(name, exported):
    model, path = exported[name]
    proto = onnx.load(path)
    onnx.checker.check_model(proto, full_check=True)
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for batch in (1, 5):
        x = make_input(name, batch)
        got = session.run(None, {"input": x})
        for ours, theirs in zip(outputs(model(tg.Tensor(x))), got, strict=True):
            np.testing.assert_allclose(theirs, ours, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", MODELS)
def _same_parameter(model, loaded):
    """Each parameter of `model` → the loaded parameter that holds it: the one of the same name,
    else (the second layer or the reverse direction of a recurrent net, exported as separate
    ONNX nodes) the one with the same values."""
    theirs = dict(loaded.named_parameters())
    pairs = {}
    for key, p in model.named_parameters():
        match = theirs.get(key)
        if match is None or match.shape != p.shape:
            match = next(q for q in theirs.values() if q.shape == p.shape and np.array_equal(q.data, p.data))
        pairs[key] = match
    assert len({id(q) for q in pairs.values()}) == len(theirs) == len(pairs)
    return pairs


@pytest.mark.parametrize("name", MODELS)
def test_export_load_round_trip_outputs_and_gradients(name, exported):
    model, path = exported[name]
    loaded = tonnx.load(path)
    x = make_input(name, 3)
    floating = x.dtype.kind == "f"
    xa, xb = tg.Tensor(x, requires_grad=floating), tg.Tensor(x, requires_grad=floating)
    results = [model(xa), loaded(xb)]
    results = [r if isinstance(r, tuple) else (r,) for r in results]
    for a, b in zip(*results, strict=True):
        np.testing.assert_allclose(b.detach().numpy(), a.detach().numpy(), rtol=1e-6, atol=1e-6)
    weights = [tg.Tensor(np.random.default_rng(k).standard_normal(a.shape).astype(np.float32))
               for k, a in enumerate(results[0])]
    for outs in results:  # the same scalar of the outputs, backward through both models
        sum((r * w).sum() for r, w in zip(outs, weights)).backward()
    ours = dict(model.named_parameters())
    for key, q in _same_parameter(model, loaded).items():
        np.testing.assert_allclose(q.grad, ours[key].grad, rtol=1e-5, atol=1e-6, err_msg=key)
    if floating:
        np.testing.assert_allclose(xb.grad, xa.grad, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["mlp", "lenet5", "autoencoder", "lstm_classifier", "resnet_blocks",
                                  "embedding", "everything"])
def test_loaded_models_keep_the_state_dict_names(name, exported):
    model, path = exported[name]
    assert set(tonnx.load(path).state_dict()) == set(model.state_dict())


def test_the_node_lists_read_like_the_models(exported):
    ops = lambda name: [n.op_type for n in onnx.load(exported[name][1]).graph.node]  # noqa: E731
    assert ops("lenet_tanh") == ["Conv", "Tanh", "AveragePool", "Conv", "Tanh", "AveragePool",
                                 "Flatten", "Gemm", "Tanh", "Gemm", "Tanh", "Gemm"]
    assert ops("mlp") == ["Gemm", "Relu", "Gemm"]          # Dropout: the identity in eval mode
    assert "ConvTranspose" in ops("autoencoder") and "BatchNormalization" in ops("resnet_blocks")
    assert ops("lstm_classifier").count("LSTM") == 1 and ops("lstm_2_layers_bidirectional").count("LSTM") == 4
    assert ops("rnn").count("RNN") == 2 and ops("gru").count("GRU") == 2
    assert ops("embedding")[0] == "Gather" and "Resize" in ops("everything")
    names = [i.name for i in onnx.load(exported["resnet_blocks"][1]).graph.initializer]
    assert {"0.conv1.weight", "0.bn1.running_mean", "0.downsample.1.running_var"} <= set(names)


def test_loaded_models_are_made_of_our_layers(exported):
    loaded = tonnx.load(exported["resnet_blocks"][1])
    kinds = {type(m).__name__ for m in loaded.modules()}
    assert {"Conv2d", "BatchNorm2d", "ReLU", "Linear"} <= kinds
    assert isinstance(getattr(loaded, "0").bn1, nn.BatchNorm2d)       # at its original name
    assert isinstance(tonnx.load(exported["lstm_classifier"][1]).lstm, nn.LSTM)
    assert isinstance(tonnx.load(exported["embedding"][1]).embedding, nn.Embedding)


def test_a_loaded_model_fine_tunes(exported):
    from tinygrad_edu import optim
    model = tonnx.load(exported["mlp"][1]).train()
    x, y = tg.Tensor(make_input("mlp", 16)), tg.Tensor(np.arange(16) % 10)
    opt = optim.SGD(model.parameters(), lr=0.1)
    losses = []
    for _ in range(5):
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]


def test_gate_orders():
    w = np.repeat(np.arange(4), 2)[:, None]      # our LSTM blocks i, f, g, o = 0, 1, 2, 3
    assert reorder_gates(w, LSTM_ORDER)[::2, 0].tolist() == [0, 3, 1, 2]   # ONNX i, o, f, c
    w = np.repeat(np.arange(3), 2)[:, None]      # our GRU blocks r, z, n
    assert reorder_gates(w, GRU_ORDER)[::2, 0].tolist() == [1, 0, 2]       # ONNX z, r, h


def test_fixed_shapes_opset_and_several_inputs(tmp_path):
    class Two(nn.Module):
        def forward(self, a, b):
            return a @ b.transpose(0, 1), a
    a, b = tg.Tensor(np.ones((2, 3), np.float32)), tg.Tensor(np.full((4, 3), 2, np.float32))
    proto = tonnx.export(Two(), (a, b), tmp_path / "two.onnx", opset=18, batch_axis=None)
    assert proto.opset_import[0].version == 18
    assert [d.dim_value for d in proto.graph.input[0].type.tensor_type.shape.dim] == [2, 3]
    session = ort.InferenceSession(str(tmp_path / "two.onnx"))
    got = session.run(None, {"input_0": a.numpy(), "input_1": b.numpy()})
    np.testing.assert_allclose(got[0], np.full((2, 4), 6.0))
    with pytest.raises(ValueError, match="opset 11"):
        tonnx.export(Two(), (a, b), tmp_path / "x.onnx", opset=11)


def test_export_leaves_the_model_and_the_engine_as_they_were(tmp_path):
    from tinygrad_edu.function import Function
    apply = Function.__dict__["apply"]
    model = mlp().train()
    model[0].weight.requires_grad_(False)                  # a frozen layer stays frozen
    tonnx.export(model, tg.Tensor(make_input("mlp", 2)), tmp_path / "m.onnx")
    assert model.training and model[2].training
    assert not model[0].weight.requires_grad and model[3].weight.requires_grad
    assert Function.__dict__["apply"] is apply             # the recording wrapper is gone
    assert not [m for m in model.modules() if m._forward_hooks]


def test_the_readme_example_runs():
    """README's ONNX snippet (a ```py block: test_readme.py runs without the onnx extra too)."""
    from pathlib import Path
    text = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    blocks = [b for b in re.findall(r"```py\n(.*?)```", text, flags=re.S) if "tonnx.export" in b]
    assert len(blocks) == 1
    exec(compile(blocks[0], "README.md ONNX example", "exec"), {})


# ---------------------------------------------------------------------------------------------
# PyTorch's exporter at the other end
# ---------------------------------------------------------------------------------------------
def _torch_models(torch):
    tnn = torch.nn

    class Cnn(tnn.Module):
        def __init__(self):
            super().__init__()
            self.conv, self.bn = tnn.Conv2d(1, 4, 3, padding=1), tnn.BatchNorm2d(4)
            self.deconv = tnn.ConvTranspose2d(4, 4, 2, stride=2)
            self.fc = tnn.Linear(4 * 8 * 8, 10)

        def forward(self, x):
            x = tnn.functional.max_pool2d(torch.relu(self.bn(self.conv(x))), 2)
            x = tnn.functional.avg_pool2d(torch.sigmoid(self.deconv(x)), 2, ceil_mode=True)
            x = tnn.functional.interpolate(x, scale_factor=2)
            return torch.log_softmax(self.fc(x.flatten(1)), 1)

    class Recurrent(tnn.Module):
        def __init__(self):
            super().__init__()
            self.emb = tnn.Embedding(10, 8)
            self.lstm = tnn.LSTM(8, 6, num_layers=2, batch_first=True, bidirectional=True)
            self.gru, self.rnn = tnn.GRU(12, 5), tnn.RNN(5, 4, nonlinearity="relu")
            self.head = tnn.Linear(4, 3)

        def forward(self, idx):
            out, _ = self.lstm(self.emb(idx))
            out, _ = self.gru(out.transpose(0, 1))
            out, _ = self.rnn(out)
            return torch.softmax(self.head(out.mean(0)), -1)

    return {"cnn": (Cnn(), lambda b: torch.rand(b, 1, 8, 8)),
            "recurrent": (Recurrent(), lambda b: torch.randint(0, 10, (b, 5)))}


@pytest.mark.parametrize("name", ["cnn", "recurrent"])
@pytest.mark.parametrize("fold", [True, False])
def test_models_exported_by_torch_load_with_equal_outputs(name, fold, tmp_path):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    model, make = _torch_models(torch)[name]
    with torch.no_grad():  # BatchNorm statistics that are not 0 and 1
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 2)
    model.eval()
    path = tmp_path / f"{name}.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (make(2),), str(path), dynamo=False, do_constant_folding=fold,
                          input_names=["x"], output_names=["y"],
                          dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}})
    loaded = tonnx.load(path)
    for batch in (2, 3):
        x = make(batch)
        with torch.no_grad():
            expected = model(x).numpy()
        np.testing.assert_allclose(loaded(tg.Tensor(x.numpy())).detach().numpy(), expected,
                                   rtol=1e-5, atol=1e-5)
    if name == "cnn" and not fold:
        assert isinstance(loaded.bn, nn.BatchNorm2d) and isinstance(loaded.conv, nn.Conv2d)
        assert "bn.running_var" in loaded.state_dict()


# ---------------------------------------------------------------------------------------------
# Errors: ops without a mapping, atomic writes, the missing extra
# ---------------------------------------------------------------------------------------------
class Unsupported(nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn, self.linear = fn, nn.Linear(4, 4)

    def forward(self, x):
        return self.fn(self.linear(x))


UNSUPPORTED = {  # Function → a forward pass that uses it
    "VarFn": lambda x: x.var(1),
    "StdFn": lambda x: x.std(1),
    "TakeAlongDimFn": lambda x: x.max(1)[0],
    "CrossEntropyFn": lambda x: F.cross_entropy(x, tg.Tensor(np.zeros(x.shape[0], np.int64))),
    "LSTMCellFn": lambda x: nn.LSTMCell(4, 2)(x)[0],
    "MaxPool2dFn": lambda x: F.max_pool2d(x.reshape(-1, 1, 2, 2), 2, return_indices=True)[0],
    "AvgPool2dFn": lambda x: F.avg_pool2d(x.reshape(-1, 1, 2, 2), 2, divisor_override=3),
    "BatchNormFn": lambda x: F.batch_norm(x, None, None, training=True),
    "PadFn": lambda x: F.pad(x, (1, 1), mode="circular"),
}


@pytest.mark.parametrize("fn_name", UNSUPPORTED)
def test_unsupported_ops_fail_by_name_and_write_nothing(fn_name, tmp_path):
    path = tmp_path / "model.onnx"
    path.write_bytes(b"the previous file")
    with pytest.raises(tonnx.UnsupportedOpError, match=fn_name):
        tonnx.export(Unsupported(UNSUPPORTED[fn_name]), tg.Tensor(np.ones((3, 4), np.float32)), path)
    assert path.read_bytes() == b"the previous file"
    assert os.listdir(tmp_path) == ["model.onnx"]          # no temporary file left behind


def test_every_function_without_a_mapping_is_named_in_the_error():
    from test_structure import all_functions
    x = tg.Tensor(np.ones(2, np.float32))
    missing = [fn for fn in all_functions() if fn not in EXPORTERS]
    assert missing  # losses, cells, in-place writes, ...
    for fn in missing:
        with pytest.raises(tonnx.UnsupportedOpError, match=rf"uses {fn.__name__} \({fn.__module__}\)"):
            check_supported([Call(fn, (x,), {}, (x,))])


def _proto(node, inputs, outputs, initializers=()):
    graph = onnx.helper.make_graph([node], "g", inputs, outputs, list(initializers))
    return onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", 17)])


def _float(name, shape):
    return onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, shape)


def _weights(name, shape):
    return onnx.numpy_helper.from_array(np.ones(shape, np.float32), name)


make_node = onnx.helper.make_node
UNSUPPORTED_NODES = {  # case → (node, its initialisers)
    "an op without a mapping": (make_node("Einsum", ["x", "x"], ["y"], name="mystery",
                                          equation="ij,ij->ij"), []),
    "Resize cubic": (make_node("Resize", ["x", "", "s"], ["y"], name="up", mode="cubic"),
                     [onnx.numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "s")]),
    "reverse LSTM": (make_node("LSTM", ["x", "W", "R"], ["y"], name="rev", hidden_size=2,
                               direction="reverse"), [_weights("W", (1, 8, 4)), _weights("R", (1, 8, 2))]),
    "GRU that resets first": (make_node("GRU", ["x", "W", "R"], ["y"], name="gru", hidden_size=2),
                              [_weights("W", (1, 6, 4)), _weights("R", (1, 6, 2))]),
    "Conv with a computed weight": (make_node("Conv", ["x", "x"], ["y"], name="conv"), []),
    "MaxPool with indices": (make_node("MaxPool", ["x"], ["y", "i"], name="pool", kernel_shape=[2, 2]), []),
}


@pytest.mark.parametrize("case", UNSUPPORTED_NODES)
def test_load_names_the_unsupported_node_and_its_op(case):
    node, initializers = UNSUPPORTED_NODES[case]
    outputs = [_float(name, None) for name in node.output]
    proto = _proto(node, [_float("x", [1, 4, 4, 4])], outputs, initializers)
    with pytest.raises(tonnx.UnsupportedOpError, match=rf"node '{node.name}'.*{node.op_type}"):
        tonnx.load(proto)


def test_importing_without_onnx_names_the_extra(monkeypatch):
    import importlib
    monkeypatch.setitem(sys.modules, "onnx", None)                # as if it were not installed
    for name in [m for m in sys.modules if m.startswith("tinygrad_edu.onnx")]:
        monkeypatch.delitem(sys.modules, name)                     # restored afterwards
    with pytest.raises(ImportError, match=re.escape('pip install -e ".[onnx]"')):
        importlib.import_module("tinygrad_edu.onnx")
