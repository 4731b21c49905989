"""The Tensor and the graph: construction rules, backward semantics, grad modes, errors."""

import threading

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Function, Tensor


# ------------------------------------------------------------------ construction and dtypes
def test_lists_and_scalars_become_float32_numpy_keeps_dtype():
    assert Tensor([1.0, 2.0]).dtype == np.float32
    assert Tensor(3.0).dtype == np.float32 and Tensor(3.0).shape == ()
    assert Tensor(np.zeros(2)).dtype == np.float64
    assert Tensor([1, 2]).dtype == np.int64
    assert Tensor([1.0], dtype=np.float64).dtype == np.float64
    assert Tensor.zeros(2, 3).dtype == np.float32 and Tensor.zeros((2, 3)).shape == (2, 3)


def test_factories_and_like():
    tg.manual_seed(0)
    a = tg.randn(3, 4)
    tg.manual_seed(0)
    b = tg.randn(3, 4)
    np.testing.assert_array_equal(a.data, b.data)  # manual_seed makes runs repeatable
    assert tg.rand(5).data.min() >= 0 and tg.rand(5).data.max() < 1
    u = tg.uniform(1000, low=-2, high=3).data
    assert u.min() >= -2 and u.max() < 3
    np.testing.assert_array_equal(tg.eye(2).data, np.eye(2))
    np.testing.assert_array_equal(tg.arange(5).data, np.arange(5))
    assert tg.arange(0, 1, 0.25).dtype == np.float32
    assert tg.zeros_like(a).shape == a.shape and tg.ones_like(a, dtype=np.float64).dtype == np.float64
    assert tg.full((2, 2), 7.0).data.sum() == 28
    assert tg.randn(2, 2, requires_grad=True).requires_grad


def test_strings_and_objects_are_refused():
    with pytest.raises(TypeError):
        Tensor(["a", "b"])
    with pytest.raises(TypeError):
        Tensor([object()])


def test_integer_tensors_cannot_require_grad():
    with pytest.raises(RuntimeError, match="floating point"):
        Tensor([1, 2, 3], requires_grad=True)
    with pytest.raises(RuntimeError, match="floating point"):
        Tensor([1, 2]).requires_grad_()


def test_repr_size_item_tolist():
    t = Tensor([[1.0, 2.0]], requires_grad=True)
    assert "requires_grad=True" in repr(t)
    assert t.size() == (1, 2) and t.size(1) == 2 and t.dim() == 2 and t.numel() == 2
    assert Tensor([4.0]).item() == 4.0
    assert t.tolist() == [[1.0, 2.0]]
    with pytest.raises(RuntimeError, match="detach"):
        t.numpy()
    assert t.detach().numpy().shape == (1, 2)


# ------------------------------------------------------------------ backward semantics
def test_diamond_value_used_twice():
    x = Tensor([2.0, -1.0], requires_grad=True, dtype=np.float64)
    y = x * 3.0
    z = (y * y + y).sum()  # y feeds both branches: dz/dx = 3·(2y + 1)
    z.backward()
    np.testing.assert_allclose(x.grad, 3 * (2 * x.data * 3 + 1))


def test_gradients_accumulate_across_backward_calls():
    x = Tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    (x * 3.0).sum().backward()
    np.testing.assert_allclose(x.grad, 2 * x.data + 3)


def test_retain_graph_allows_second_backward_and_freed_graph_raises():
    x = Tensor([1.0, 2.0], requires_grad=True)
    loss = (x.exp() * x).sum()
    loss.backward(retain_graph=True)
    first = x.grad.copy()
    loss.backward()
    np.testing.assert_allclose(x.grad, 2 * first, rtol=1e-6)
    with pytest.raises(RuntimeError, match="second time"):
        loss.backward()


def test_non_scalar_backward_needs_gradient():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * 2.0
    with pytest.raises(RuntimeError, match=r"shape \(2,\)"):
        y.backward()
    y.backward(Tensor([1.0, 10.0]))
    np.testing.assert_allclose(x.grad, [2.0, 20.0])
    with pytest.raises(ValueError, match=r"\(3,\).*\(2,\)"):
        (x * 2.0).backward(np.ones(3))


def test_backward_without_grad_is_a_clear_error():
    with pytest.raises(RuntimeError, match="does not require grad"):
        Tensor([1.0]).sum().backward()


def test_deep_chain_of_100k_ops_is_not_recursive():
    x = Tensor([1.0], requires_grad=True, dtype=np.float64)
    y = x
    for _ in range(100_000):
        y = y + 1e-6
    y = y * 2.0
    y.backward(np.ones(1))
    np.testing.assert_allclose(x.grad, [2.0])


def test_intermediates_get_no_grad_unless_retained():
    x = Tensor([1.0, 2.0], requires_grad=True)
    h = x * 2.0
    k = x * 3.0
    k.retain_grad()
    (h * k).sum().backward()
    assert h.grad is None
    np.testing.assert_allclose(k.grad, h.data)
    assert x.is_leaf and not h.is_leaf and h.grad_fn is not None


def test_branches_not_requiring_grad_are_skipped():
    x = Tensor([1.0, 2.0], requires_grad=True)
    c = Tensor([5.0, 6.0])
    (x * c + c).sum().backward()
    assert c.grad is None
    np.testing.assert_allclose(x.grad, c.data)


# ------------------------------------------------------------------ grad modes
def test_no_grad_context_and_decorator():
    x = Tensor([1.0], requires_grad=True)
    with tg.no_grad():
        y = x * 2.0
        assert not tg.is_grad_enabled()
        with tg.enable_grad():
            assert (x * 2.0).requires_grad
    assert not y.requires_grad and y._ctx is None
    assert tg.is_grad_enabled()

    @tg.no_grad()
    def double(t):
        return t * 2.0

    assert not double(x).requires_grad
    assert (x * 2.0).requires_grad


def test_no_grad_is_thread_local():
    seen = {}

    def worker():
        seen["enabled"] = tg.is_grad_enabled()

    with tg.no_grad():
        thread = threading.Thread(target=worker)
        thread.start()
        thread.join()
    assert seen["enabled"] is True


def test_detach_and_requires_grad_():
    x = Tensor([1.0, 2.0], requires_grad=True)
    d = (x * 2.0).detach()
    assert not d.requires_grad and d._ctx is None
    with pytest.raises(RuntimeError, match="non-leaf|leaf"):
        (x * 2.0).requires_grad_(False)
    w = Tensor([1.0]).requires_grad_()
    assert w.requires_grad


def test_setitem_refused_on_graph_tensors_but_fine_under_no_grad():
    x = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="in-place"):
        x[0] = 5.0
    with tg.no_grad():
        x[0] = 5.0
    assert x.data[0] == 5.0


# ------------------------------------------------------------------ errors name shapes
def test_broadcast_error_names_both_shapes():
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(4,\)"):
        Tensor.ones(2, 3) + Tensor.ones(4)


def test_reshape_error_names_shapes():
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(4,\)"):
        Tensor.ones(2, 3).reshape(4)


def test_reduction_dim_out_of_range():
    with pytest.raises(IndexError, match="out of range"):
        Tensor.ones(2, 3).sum(dim=2)


# ------------------------------------------------------------------ Function and gradcheck
class Cube(Function):
    """out = x³.   ∂L/∂x = g · 3x²."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3 * x ** 2


class WrongCube(Cube):
    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 2 * x ** 2  # deliberately wrong


def test_custom_function_and_gradcheck():
    x = Tensor(np.array([0.5, -1.0, 2.0]), requires_grad=True)
    assert tg.gradcheck(Cube.apply, (x,))
    assert Cube.apply(x).grad_fn.name == "Cube"


def test_gradcheck_rejects_a_wrong_backward_and_names_the_worst_element():
    x = Tensor(np.array([0.5, -1.0, 2.0]), requires_grad=True)
    with pytest.raises(tg.GradcheckError, match=r"input 0.*worst element \(2,\).*analytic.*numeric"):
        tg.gradcheck(WrongCube.apply, (x,))
    assert tg.gradcheck(WrongCube.apply, (x,), raise_exception=False) is False


def test_gradcheck_uses_a_random_upstream_gradient():
    # sum() of a wrong permutation gradient is still right; a random v catches it.
    class WrongFlip(Function):
        @staticmethod
        def forward(ctx, x):
            return x[::-1].copy()

        @staticmethod
        def backward(ctx, g):
            return g  # should be g[::-1]

    x = Tensor(np.arange(4.0), requires_grad=True)
    with pytest.raises(tg.GradcheckError):
        tg.gradcheck(WrongFlip.apply, (x,))


def test_gradcheck_requires_float64_and_leaves_grad_untouched():
    with pytest.raises(TypeError, match="float64"):
        tg.gradcheck(lambda t: t * 2, (Tensor([1.0], requires_grad=True),))
    x = Tensor(np.ones(2), requires_grad=True)
    x.grad = np.full(2, 7.0)
    tg.gradcheck(lambda t: t * 2, (x,))
    np.testing.assert_array_equal(x.grad, [7.0, 7.0])


def test_backward_returning_wrong_count_is_reported():
    class Bad(Function):
        @staticmethod
        def forward(ctx, a, b):
            return a + b

        @staticmethod
        def backward(ctx, g):
            return (g,)

    a, b = Tensor([1.0], requires_grad=True), Tensor([2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="Bad.backward returned 1"):
        Bad.apply(a, b).sum().backward()


def test_compiled_extension_is_built_and_used():
    from tinygrad_edu._C import index_add

    grad = np.zeros((3, 2))
    index_add.scatter_add(grad, np.array([0, 0, 2]), np.ones((3, 2)))
    np.testing.assert_array_equal(grad, [[2, 2], [0, 0], [1, 1]])


# ------------------------------------------------------------------ the README's MLP example
def test_two_layer_mlp_learns_xor_like_data():
    tg.manual_seed(0)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((64, 2)).astype(np.float32)
    y = (X[:, 0] * X[:, 1] > 0).astype(np.float32).reshape(-1, 1)
    W1 = Tensor(rng.standard_normal((2, 16)) * 0.5, dtype=np.float32, requires_grad=True)
    b1 = Tensor.zeros(16, requires_grad=True)
    W2 = Tensor(rng.standard_normal((16, 1)) * 0.5, dtype=np.float32, requires_grad=True)
    b2 = Tensor.zeros(1, requires_grad=True)
    losses = []
    for _ in range(300):
        p = ((Tensor(X) @ W1 + b1).tanh() @ W2 + b2).sigmoid()
        loss = ((p - Tensor(y)) ** 2).mean()
        for param in (W1, b1, W2, b2):
            param.grad = None
        loss.backward()
        with tg.no_grad():
            for param in (W1, b1, W2, b2):
                param.data -= 1.0 * param.grad
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
