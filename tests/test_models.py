"""nn.models: parameter counts (torchvision's totals), shapes through summary, parameter names,
LeNet5Classic against the same network in PyTorch, ResNet18 against PyTorch's functional ops."""

import numpy as np
import pytest

import tinygrad_edu as tg
import tinygrad_edu.nn as nn
from tinygrad_edu import Tensor
from tinygrad_edu.nn import models


def _count(model):
    return sum(p.numel() for p in model.parameters())


def test_lenets_have_the_classic_count_and_differ_in_activation_and_pooling():
    classic, modern = models.LeNet5Classic(), models.LeNet5()
    assert _count(classic) == _count(modern) == 61_706
    kinds = [type(m).__name__ for m in classic]
    assert kinds.count("Tanh") == 4 and kinds.count("AvgPool2d") == 2 and "ReLU" not in kinds
    assert [type(m).__name__ for m in modern].count("MaxPool2d") == 2
    info = nn.summary(classic, (1, 32, 32), verbose=False)
    shapes = [shape for _, _, shape, _ in info.rows]
    # deck 2's Keras slide: 28×28×6, 14×14×6, 10×10×16, 5×5×16, 400, 120, 84, 10
    assert shapes[0] == "[1, 6, 28, 28]" and shapes[2] == "[1, 6, 14, 14]"
    assert shapes[3] == "[1, 16, 10, 10]" and shapes[5] == "[1, 16, 5, 5]"
    assert shapes[6:] == ["[1, 400]", "[1, 120]", "[1, 120]", "[1, 84]", "[1, 84]", "[1, 10]"]
    assert [count for *_, count in info.rows if count] == [156, 2416, 48120, 10164, 850]


def test_lenet5_classic_matches_torch():
    torch = pytest.importorskip("torch")
    tg.manual_seed(0)
    ours = models.LeNet5Classic().double()
    tn = torch.nn
    theirs = tn.Sequential(tn.Conv2d(1, 6, 5), tn.Tanh(), tn.AvgPool2d(2), tn.Conv2d(6, 16, 5),
                           tn.Tanh(), tn.AvgPool2d(2), tn.Flatten(), tn.Linear(400, 120),
                           tn.Tanh(), tn.Linear(120, 84), tn.Tanh(), tn.Linear(84, 10)).double()
    theirs.load_state_dict({k: torch.tensor(v.data) for k, v in ours.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((3, 1, 32, 32))
    np.testing.assert_allclose(ours(Tensor(x)).data, theirs(torch.tensor(x)).detach().numpy(),
                               atol=1e-12)


def test_resnet18_count_names_and_shapes():
    model = models.ResNet18()
    assert _count(model) == 11_689_512  # torchvision.models.resnet18
    names = dict(model.named_parameters())
    for name in ("conv1.weight", "bn1.weight", "layer1.0.conv1.weight", "layer2.0.downsample.0.weight",
                 "layer2.0.downsample.1.bias", "layer4.1.bn2.weight", "fc.weight", "fc.bias"):
        assert name in names, name
    assert "layer1.0.downsample.0.weight" not in names  # same size and stride: identity skip
    assert names["layer3.0.conv1.weight"].shape == (256, 128, 3, 3)
    assert "layer1.0.bn1.running_mean" in model.state_dict()
    small = models.ResNet18(num_classes=10)
    info = nn.summary(small, (3, 64, 64), verbose=False)
    assert info.rows[-1][2] == "[1, 10]" and info.total_params == 11_689_512 - 990 * 513


def test_resnet18_matches_torch_functional():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    tg.manual_seed(1)
    model = models.ResNet18(num_classes=5).double()
    for name, b in model.named_buffers():
        if name.endswith("running_var"):
            b.data[...] = np.random.default_rng(0).uniform(0.5, 2, b.shape)
    model.eval()
    p = {k: torch.tensor(v.data) for k, v in model.state_dict().items()}

    def bn(x, k):
        return F.batch_norm(x, p[k + ".running_mean"], p[k + ".running_var"], p[k + ".weight"],
                            p[k + ".bias"], False)

    def block(x, k, stride):
        out = F.relu(bn(F.conv2d(x, p[k + ".conv1.weight"], stride=stride, padding=1), k + ".bn1"))
        out = bn(F.conv2d(out, p[k + ".conv2.weight"], padding=1), k + ".bn2")
        skip = x
        if k + ".downsample.0.weight" in p:
            skip = bn(F.conv2d(x, p[k + ".downsample.0.weight"], stride=stride), k + ".downsample.1")
        return F.relu(out + skip)

    x = np.random.default_rng(2).standard_normal((2, 3, 40, 40))
    t = F.max_pool2d(F.relu(bn(F.conv2d(torch.tensor(x), p["conv1.weight"], stride=2, padding=3),
                                "bn1")), 3, 2, 1)
    for stage in range(1, 5):
        t = block(t, f"layer{stage}.0", 1 if stage == 1 else 2)
        t = block(t, f"layer{stage}.1", 1)
    expected = F.linear(t.mean((2, 3)), p["fc.weight"], p["fc.bias"])
    with tg.no_grad():
        np.testing.assert_allclose(model(Tensor(x)).data, expected.numpy(), atol=1e-10)


def test_alexnet_and_vgg_counts_and_shapes():
    """torchvision's totals: AlexNet 61,100,840, VGG-16 138,357,544, VGG-19 143,667,240."""
    alexnet = models.AlexNet()
    info = nn.summary(alexnet, (3, 224, 224), verbose=False)
    assert info.total_params == 61_100_840
    conv_shapes = [shape for _, kind, shape, _ in info.rows if kind == "Conv2d"]
    assert conv_shapes == ["[1, 64, 55, 55]", "[1, 192, 27, 27]", "[1, 384, 13, 13]",
                           "[1, 256, 13, 13]", "[1, 256, 13, 13]"]
    assert info.rows[-1][2] == "[1, 1000]"
    assert "features.0.weight" in alexnet.state_dict() and "classifier.6.bias" in alexnet.state_dict()
    del alexnet
    vgg = models.VGG16()
    info = nn.summary(vgg, (3, 224, 224), verbose=False)
    assert info.total_params == 138_357_544
    assert sum(kind == "Conv2d" for _, kind, _, _ in info.rows) == 13
    assert "features.28.weight" in vgg.state_dict() and "classifier.6.weight" in vgg.state_dict()
    del vgg
    assert _count(models.VGG19()) == 143_667_240


def test_fixed_size_models_explain_a_wrong_input_size():
    with pytest.raises(ValueError, match="256×6×6"):
        models.AlexNet(num_classes=2)(Tensor(np.zeros((1, 3, 128, 128), np.float32)))


# ---------------------------------------------------------------------------------------------
# padding="same" with a stride: Keras/TensorFlow's rule (deck 2's Conv2D(..., padding="same",
# strides=(2, 2))), which PyTorch refuses. Reference: zero-pad explicitly, then convolve.
# ---------------------------------------------------------------------------------------------
def test_same_padding_is_tensorflows_rule():
    F = nn.functional
    # TensorFlow's documented example: 13 rows, kernel 6, stride 5 → 3 rows, 1 zero on top, 2 below
    assert F.same_padding((13,), (6,), 5) == [(1, 2)]
    assert F.same_padding((7, 7), (3, 3), 2) == [(1, 1), (1, 1)]
    assert F.same_padding((8, 6), (3, 3), 2) == [(0, 1), (0, 1)]
    assert F.same_padding((5,), (3,), 1, 2) == [(2, 2)]          # stride 1: PyTorch's 'same'
    assert F.same_padding((4,), (1,), 3) == [(0, 0)]             # nothing needed
    with pytest.raises(ValueError, match="stride"):
        F.same_padding((4,), (3,), 0)


@pytest.mark.parametrize("size,kernel,stride,dilation", [((7, 6), (3, 3), 2, 1), ((8, 8), (4, 3), (2, 3), 1),
                                                         ((9, 5), (3, 2), 3, (1, 2)), ((13, 4), (6, 1), 5, 1)])
def test_conv2d_same_with_stride_matches_explicit_padding_in_torch(size, kernel, stride, dilation):
    torch = pytest.importorskip("torch")
    F = nn.functional
    rng = np.random.default_rng(5)
    x, w, b = rng.standard_normal((2, 3) + size), rng.standard_normal((4, 3) + kernel), rng.standard_normal(4)
    pads = F.same_padding(size, kernel, stride, dilation)
    X, W = Tensor(x, requires_grad=True), Tensor(w, requires_grad=True)
    out = F.conv2d(X, W, Tensor(b), stride=stride, padding="same", dilation=dilation)
    s = (stride, stride) if isinstance(stride, int) else stride
    assert out.shape[2:] == tuple(-(-n // k) for n, k in zip(size, s))     # ⌈n / stride⌉
    Xt, Wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    padded = torch.nn.functional.pad(Xt, (pads[1][0], pads[1][1], pads[0][0], pads[0][1]))
    ref = torch.nn.functional.conv2d(padded, Wt, torch.tensor(b), stride=stride, dilation=dilation)
    np.testing.assert_allclose(out.data, ref.detach().numpy(), atol=1e-12)
    g = rng.standard_normal(out.shape)
    (out * Tensor(g)).sum().backward()
    (ref * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(X.grad, Xt.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(W.grad, Wt.grad.numpy(), atol=1e-12)
    layer = nn.Conv2d(3, 4, kernel, stride=stride, padding="same", dilation=dilation).double()
    layer.weight.data[...], layer.bias.data[...] = w, b
    np.testing.assert_allclose(layer(Tensor(x)).data, out.data, atol=1e-12)


def test_conv_same_with_stride_gradcheck_and_conv1d():
    F = nn.functional
    rng = np.random.default_rng(6)
    x = Tensor(rng.standard_normal((1, 2, 6, 5)), requires_grad=True)
    w = Tensor(rng.standard_normal((2, 2, 2, 3)), requires_grad=True)
    assert tg.gradcheck(lambda x, w: F.conv2d(x, w, stride=2, padding="same"), [x, w])
    layer = nn.Conv1d(2, 3, 4, stride=3, padding="same")
    assert layer(tg.randn(1, 2, 10)).shape == (1, 3, 4)
