"""The torch-level namespace against PyTorch: every name that beginner code uses, called the
same way on both libraries (the same lambda, given `tinygrad_edu` or `torch` as `L`) on random
inputs: values, and gradients where differentiable. Then the pieces that are not one op:
autograd.grad/backward/Function, register_hook, factories and initialisers, utils.data, devices.
"""

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import torch_namespace

torch = pytest.importorskip("torch")

rng = np.random.default_rng(0)
A = rng.uniform(-2, 2, (3, 4))                      # float64 inputs (gradients compared)
B = rng.uniform(-2, 2, (3, 4))
P = rng.uniform(0.5, 2, (3, 4))                     # positive (log, sqrt, pow)
V, W = rng.uniform(-2, 2, 4), rng.uniform(-2, 2, 5)
M = rng.uniform(-1, 1, (4, 2))
BA, BB = rng.uniform(-1, 1, (2, 3,4)), rng.uniform(-1, 1, (2, 4, 2))
D = (rng.permutation(12).reshape(3, 4) + 0.5) / 3   # distinct values (sort, max, norm ∞)

# name → (call, inputs): call(L, *tensors) with L = tinygrad_edu or torch
FUNCTIONS = {
    "exp": (lambda L, x: L.exp(x), [A]),
    "log": (lambda L, x: L.log(x), [P]),
    "sin": (lambda L, x: L.sin(x), [A]),
    "cos": (lambda L, x: L.cos(x), [A]),
    "tan": (lambda L, x: L.tan(x / 2), [A]),
    "tanh": (lambda L, x: L.tanh(x), [A]),
    "sigmoid": (lambda L, x: L.sigmoid(x), [A]),
    "relu": (lambda L, x: L.relu(x), [A]),
    "sqrt": (lambda L, x: L.sqrt(x), [P]),
    "abs": (lambda L, x: L.abs(x), [A]),
    "pow": (lambda L, x, y: L.pow(x, y) + L.pow(x, 2) + L.pow(2.0, y), [P, B]),
    "add": (lambda L, x, y: L.add(x, y), [A, B]),
    "sub": (lambda L, x, y: L.sub(x, y), [A, B]),
    "mul": (lambda L, x, y: L.mul(x, y), [A, B]),
    "div": (lambda L, x, y: L.div(x, y), [A, P]),
    "matmul": (lambda L, x, y: L.matmul(x, y), [A, M]),
    "mm": (lambda L, x, y: L.mm(x, y), [A, M]),
    "bmm": (lambda L, x, y: L.bmm(x, y), [BA, BB]),
    "dot": (lambda L, x, y: L.dot(x, y), [V, V[::-1].copy()]),
    "outer": (lambda L, x, y: L.outer(x, y), [V, W]),
    "einsum": (lambda L, x, y: L.einsum("ij,jk->ik", x, y) + L.einsum("ii->", x[:, :3]), [A, M]),
    "sum": (lambda L, x: L.sum(x, dim=1), [A]),
    "mean": (lambda L, x: L.mean(x, dim=0, keepdim=True), [A]),
    "max": (lambda L, x: L.max(x), [D]),
    "max(dim)": (lambda L, x: L.max(x, dim=1), [D]),
    "max(a, b)": (lambda L, x, y: L.max(x, y), [A, B]),
    "min": (lambda L, x: L.min(x, 0), [D]),
    "argmax": (lambda L, x: L.argmax(x, dim=1), [D]),
    "argmin": (lambda L, x: L.argmin(x), [D]),
    "var": (lambda L, x: L.var(x, dim=1), [A]),
    "std": (lambda L, x: L.std(x), [A]),
    "norm": (lambda L, x: L.norm(x) + L.norm(x, p=1) + L.norm(x, float("inf")), [D]),
    "norm(dim)": (lambda L, x: L.norm(x, dim=1, keepdim=True), [A]),
    "logsumexp": (lambda L, x: L.logsumexp(x, dim=1), [A]),
    "cumsum": (lambda L, x: L.cumsum(x, dim=1), [A]),
    "sort": (lambda L, x: L.sort(x, dim=1, descending=True), [D]),
    "topk": (lambda L, x: L.topk(x, 2), [D]),
    "clamp": (lambda L, x: L.clamp(x, min=-0.5, max=1.0), [A]),
    "maximum": (lambda L, x, y: L.maximum(x, y), [A, B]),
    "minimum": (lambda L, x, y: L.minimum(x, y), [A, B]),
    "softmax": (lambda L, x: L.softmax(x, dim=1), [A]),
    "log_softmax": (lambda L, x: L.log_softmax(x, 0), [A]),
    "flatten": (lambda L, x: L.flatten(x), [BA]),
    "reshape": (lambda L, x: L.reshape(x, (4, 3)), [A]),
    "transpose": (lambda L, x: L.transpose(x, 0, 1), [A]),
    "permute": (lambda L, x: L.permute(x, (2, 0, 1)), [BA]),
    "squeeze": (lambda L, x: L.squeeze(L.unsqueeze(x, 1), 1), [A]),
    "unsqueeze": (lambda L, x: L.unsqueeze(x, -1), [A]),
    "split": (lambda L, x: L.split(x, 3, dim=1), [A]),
    "chunk": (lambda L, x: L.chunk(x, 2), [A]),
    "gather": (lambda L, x: L.gather(x, 1, L.tensor([[0, 0], [3, 1], [2, 2]])), [A]),
    "tril": (lambda L, x: L.tril(x), [A]),
    "triu": (lambda L, x: L.triu(x, diagonal=1), [A]),
    "where": (lambda L, x, y: L.where(x > 0, x, y), [A, B]),
    "isnan": (lambda L, x: L.isnan(L.log(x)), [A]),
    "allclose": (lambda L, x, y: L.allclose(x, x + 1e-9) and not L.allclose(x, y), [A, B]),
    "numel": (lambda L, x: L.numel(x), [BA]),
    "is_tensor": (lambda L, x: L.is_tensor(x) and not L.is_tensor(x.tolist()), [A]),
    "erf": (lambda L, x: L.erf(x), [A]),
    "softplus": (lambda L, x: L.softplus(x) if L is tg else torch.nn.functional.softplus(x), [A]),
    "linspace": (lambda L: L.linspace(-1, 1, 11) * 3, []),
    "logspace": (lambda L: L.logspace(-2, 2, 9, dtype=L.float64), []),
    "from_numpy": (lambda L: L.from_numpy(np.arange(6.0).reshape(2, 3)) * 2, []),
    "zeros": (lambda L: L.zeros(2, 3, dtype=L.float64) + L.ones((2, 3)), []),
    "cat": (lambda L, x, y: L.cat([x, y], dim=1), [A, B]),
    "stack": (lambda L, x, y: L.stack([x, y]), [A, B]),
}

# method calls: x.<name>(...)
METHODS = {
    "sin": (lambda L, x: x.sin(), [A]),
    "cos": (lambda L, x: x.cos(), [A]),
    "t": (lambda L, x: x.t(), [A]),
    "repeat": (lambda L, x: x.repeat(2, 1, 3), [A]),
    "norm": (lambda L, x: x.norm(p=2, dim=0), [A]),
    "cumsum": (lambda L, x: x.cumsum(0), [A]),
    "sort": (lambda L, x: x.sort(), [D]),
    "topk": (lambda L, x: x.topk(3, dim=1, largest=False), [D]),
    "logsumexp": (lambda L, x: x.logsumexp(dim=(0, 1)), [A]),
    "gather": (lambda L, x: x.gather(0, L.tensor([[2, 1, 0, 0]])), [A]),
    "scatter_add": (lambda L, x, y: x.scatter_add(0, L.tensor([[2, 1, 0, 0], [2, 2, 2, 1]]), y[:2]),
                    [A, B]),
    "chunk": (lambda L, x: x.chunk(3, dim=1), [A]),
    "split": (lambda L, x: x.split([1, 2], dim=0), [A]),
    "masked_fill": (lambda L, x: x.masked_fill(x > 0.5, -1.0), [A]),
    "softplus": (lambda L, x: x.softplus() if L is tg else torch.nn.functional.softplus(x), [A]),
    "erf": (lambda L, x: x.erf(), [A]),
    "floor": (lambda L, x: x.floor(), [A]),
    "ceil": (lambda L, x: x.ceil(), [A]),
    "round": (lambda L, x: x.round(), [A]),
    "sign": (lambda L, x: x.sign(), [A]),
    "all": (lambda L, x: (x > -3).all(), [A]),
    "any": (lambda L, x: (x > 1.9).any(dim=1), [A]),
    "index_select": (lambda L, x: x.index_select(1, L.tensor([3, 0, 3])), [A]),
    "new_zeros": (lambda L, x: x.new_zeros(2, 3) + x.new_ones((2, 3)) + x.new_full((2, 3), 2.0), [A]),
    "tril": (lambda L, x: x.tril(-1), [A]),
    "triu": (lambda L, x: x.triu(), [A]),
    "outer": (lambda L, x, y: x.outer(y), [V, W]),
    "dot": (lambda L, x: x.dot(x), [V]),
    "clone": (lambda L, x: x.clone(), [A]),
    "neg": (lambda L, x: x.neg(), [A]),
    "isinf": (lambda L, x: (x / 0.0).isinf(), [A]),
}


def _flat(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def _compare(call, arrays):
    ours_in = [tg.tensor(a, requires_grad=True) for a in arrays]
    theirs_in = [torch.tensor(a, requires_grad=True) for a in arrays]
    ours, theirs = call(tg, *ours_in), call(torch, *theirs_in)
    if not isinstance(theirs, (torch.Tensor, tuple, list)):  # a Python bool or number
        assert ours == theirs
        return
    ours, theirs = _flat(ours), _flat(theirs)
    assert len(ours) == len(theirs)
    loss_ours, loss_theirs = 0, 0
    for i, (a, b) in enumerate(zip(ours, theirs)):
        assert a.shape == tuple(b.shape), i
        assert a.dtype == np.dtype(str(b.dtype).removeprefix("torch.")), (i, a.dtype, b.dtype)
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-6, atol=1e-7)
        if b.requires_grad:
            w = np.random.default_rng(i).standard_normal(tuple(b.shape))
            loss_ours = loss_ours + (a * tg.tensor(w)).sum()
            loss_theirs = loss_theirs + (b * torch.tensor(w)).sum()
    if isinstance(loss_theirs, torch.Tensor):
        loss_ours.backward()
        loss_theirs.backward()
        for x, y in zip(ours_in, theirs_in):
            if y.grad is None:
                assert x.grad is None or not x.grad.any()
            else:
                np.testing.assert_allclose(x.grad, y.grad.numpy(), rtol=1e-6, atol=1e-9)


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # isnan(log(negative))
@pytest.mark.parametrize("name", FUNCTIONS)
def test_function_matches_torch(name):
    call, arrays = FUNCTIONS[name]
    _compare(call, arrays)


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")  # isinf(x / 0)
@pytest.mark.parametrize("name", METHODS)
def test_method_matches_torch(name):
    call, arrays = METHODS[name]
    _compare(call, arrays)


def test_every_generated_function_is_a_tensor_method():
    for name in torch_namespace.METHODS:
        assert callable(getattr(tg, name)) and callable(getattr(tg.Tensor, name)), name
        assert name in getattr(tg, name).__doc__
    assert tg.sum(tg.ones(2, 3), dim=1).tolist() == [3.0, 3.0]
    assert tg.exp([0.0]).tolist() == [1.0]  # a list as input becomes a tensor


# ------------------------------------------------------------------------- random factories
def test_randint_and_multinomial():
    tg.manual_seed(0)
    r = tg.randint(3, 7, (1000,))
    assert r.dtype == np.int64 and r.shape == (1000,) and set(r.tolist()) == {3, 4, 5, 6}
    assert tg.randint(5, (2, 3)).shape == (2, 3)
    probs = tg.tensor([[0.1, 0.0, 0.9], [1.0, 1.0, 2.0]])
    draws = probs.multinomial(4000, replacement=True)
    assert draws.shape == (2, 4000) and draws.dtype == np.int64
    assert (draws[0] != 1).all()
    np.testing.assert_allclose(np.bincount(draws.numpy()[1], minlength=3) / 4000,
                               [0.25, 0.25, 0.5], atol=0.03)
    once = tg.multinomial(tg.tensor([1.0, 1.0, 1.0]), 3)  # without replacement: a permutation
    assert sorted(once.tolist()) == [0, 1, 2]
    with pytest.raises(RuntimeError, match="cannot draw 3 samples without replacement"):
        tg.tensor([1.0, 0.0, 1.0]).multinomial(3)


def test_from_numpy_shares_memory():
    array = np.zeros(3, dtype=np.float64)
    t = tg.from_numpy(array)
    array[0] = 5
    t[1] = 7
    assert t.tolist() == [5, 7, 0] and array.tolist() == [5, 7, 0] and t.dtype == np.float64


def test_in_place_initialisers():
    tg.manual_seed(0)
    x = tg.empty(1000, 10)
    assert x.normal_(2.0, 0.5) is x
    assert x.numpy().mean() == pytest.approx(2.0, abs=0.02) and x.numpy().std() == pytest.approx(0.5, abs=0.02)
    x.uniform_(-1, 3)
    assert -1 <= x.numpy().min() and x.numpy().max() < 3
    assert x.fill_(4.0).numpy().max() == 4.0 and x.zero_().numpy().max() == 0.0
    w = tg.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        w.normal_()
    with tg.no_grad():
        w.uniform_()  # as nn.init does
    assert w.requires_grad and w.data.min() >= 0


# ------------------------------------------------------------------------- autograd
def test_autograd_function_is_our_function():
    assert tg.autograd.Function is tg.Function


def test_autograd_grad_returns_gradients_without_touching_grad():
    x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = tg.tensor([0.5], requires_grad=True)
    h = x * 3
    out = (h * h).sum() * y
    gx, gh = tg.autograd.grad(out, [x, h], retain_graph=True)
    xt = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    ht = xt * 3
    gxt, ght = torch.autograd.grad((ht * ht).sum() * 0.5, [xt, ht])
    np.testing.assert_allclose(gx.numpy(), gxt.numpy())
    np.testing.assert_allclose(gh.numpy(), ght.numpy())
    assert x.grad is None and y.grad is None
    (gy,) = tg.autograd.grad(out, y)
    assert gy.tolist() == pytest.approx([126.0])
    with pytest.raises(RuntimeError, match="not used to compute the outputs"):
        tg.autograd.grad((x * 2).sum(), [x, y])
    assert tg.autograd.grad((x * 2).sum(), [x, y], allow_unused=True)[1] is None


def test_autograd_grad_with_grad_outputs_and_several_outputs():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    a, b = x * 2, x * x
    (g,) = tg.autograd.grad([a, b], x, grad_outputs=[tg.ones(2), tg.tensor([1.0, 10.0])])
    assert g.tolist() == [2 + 2 * 1, 2 + 10 * 4]


def test_autograd_backward_accumulates():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    tg.autograd.backward([(x * x).sum(), x * 3], [None, tg.ones(2)])
    assert x.grad.tolist() == [5.0, 7.0]


def test_register_hook_sees_and_replaces_gradients_as_torch():
    results = []
    for L in (tg, torch):
        x = L.tensor([1.0, -2.0, 3.0], requires_grad=True)
        h = x * 2
        h.retain_grad()
        seen = []
        h.register_hook(lambda g: seen.append(g.tolist()))
        handle = h.register_hook(lambda g: g * 10)
        x.register_hook(lambda g: g + 1)
        (h * h).sum().backward(retain_graph=True)
        first = (seen[:], h.grad.tolist(), x.grad.tolist())
        handle.remove()
        x.grad = None
        (h * h).sum().backward()
        results.append((first, x.grad.tolist()))
    assert results[0] == results[1]
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        tg.zeros(2).register_hook(print)


# ------------------------------------------------------------------------- utils.data, devices
def test_utils_data_is_the_data_module():
    from tinygrad_edu.utils.data import DataLoader, TensorDataset
    assert DataLoader is tg.data.DataLoader and TensorDataset is tg.data.TensorDataset
    assert tg.utils.data.random_split is tg.data.random_split


def test_devices_are_the_cpu():
    device = tg.device("cpu")
    assert str(device) == "cpu" and repr(device) == "device(type='cpu')"
    assert tg.cuda.is_available() is False and tg.accelerator.is_available() is False
    assert tg.backends.mps.is_available() is False
    x = tg.randn(2, 3, device=device).to(device)
    assert x.device == device and x.cpu() is x and x.to("cpu", tg.float64).dtype == np.float64
    model = tg.nn.Linear(3, 2).to(device)
    assert model.cpu() is model and model(x).shape == (2, 2)
    assert model.to(device, tg.float64).weight.dtype == np.float64
    tg.set_default_device("cpu")
    assert tg.tensor([1.0], device="cpu:0").device == device


@pytest.mark.parametrize("name", ["cuda", "cuda:0", "mps", "xpu"])
def test_other_devices_raise_a_clear_error(name):
    message = "runs on the CPU only"
    with pytest.raises(RuntimeError, match=message):
        tg.device(name)
    with pytest.raises(RuntimeError, match=message):
        tg.zeros(2, device=name)
    with pytest.raises(RuntimeError, match=message):
        tg.ones(2).to(name)
    with pytest.raises(RuntimeError, match=message):
        tg.nn.Linear(2, 2).to(name)
    with pytest.raises(RuntimeError, match=message):
        tg.set_default_device(name)
    with pytest.raises(RuntimeError, match=message):
        tg.ones(2).cuda()
