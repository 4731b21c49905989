"""In-place operators and version counters, with PyTorch's semantics (and against PyTorch)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu import Tensor, no_grad

def _torch():
    return pytest.importorskip("torch")


# ---------------------------------------------------------------------------------------------
# outside the graph: the manual SGD step
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("op", ["+=", "-=", "*=", "/="])
def test_inplace_under_no_grad_changes_the_same_tensor(op):
    p = Tensor([1.0, 2.0], requires_grad=True)
    holder = [p]
    before = p.data.copy()
    with no_grad():
        q = p
        exec(f"q {op} 2.0")
    assert q is p and holder[0] is p
    expected = {"+=": before + 2, "-=": before - 2, "*=": before * 2, "/=": before / 2}[op]
    np.testing.assert_allclose(p.data, expected)
    assert p.is_leaf and p.requires_grad and p._version[0] == 1


def test_manual_sgd_step_trains():
    tg.manual_seed(0)
    w = tg.randn(3, requires_grad=True)
    target = Tensor([1.0, -2.0, 0.5])
    for _ in range(200):
        loss = ((w - target) ** 2).sum()
        w.grad = None
        loss.backward()
        with no_grad():
            w -= 0.1 * w.grad
    np.testing.assert_allclose(w.data, target.data, atol=1e-4)


def test_inplace_on_a_leaf_that_requires_grad_raises_as_pytorch():
    v = Tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        v += 1
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        v[0] = 3.0
    assert v.is_leaf and v.data[0] == 1.0


def test_inplace_casting_follows_pytorch():
    i = Tensor(np.array([1, 2, 3]))
    i += 2
    assert i.dtype == np.int64 and i.tolist() == [3, 4, 5]
    with pytest.raises(RuntimeError, match="can't be cast"):
        i += 0.5
    with pytest.raises(RuntimeError, match="can't be cast"):
        i /= 2
    f = Tensor([1.0, 2.0])
    f += Tensor(np.array([1.0, 1.0]))   # float64 into float32 is allowed
    assert f.dtype == np.float32
    with pytest.raises(RuntimeError, match="shape"):
        f += Tensor([1.0, 2.0, 3.0])


def test_zero_fill_and_setitem_outside_the_graph():
    t = Tensor([1.0, 2.0, 3.0])
    t[1] = 7.0
    t[Tensor(np.array([0]))] = -1.0
    assert t.tolist() == [-1.0, 7.0, 3.0]
    assert t.zero_() is t and t.tolist() == [0.0, 0.0, 0.0]
    assert t.fill_(2.5).tolist() == [2.5, 2.5, 2.5]
    assert t._version[0] == 4


# ---------------------------------------------------------------------------------------------
# in the graph
# ---------------------------------------------------------------------------------------------
def test_setitem_of_a_value_with_grad_keeps_the_gradient():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    out = tg.zeros(3)
    out[0] = (x * x).sum()
    out[1:] = x[1:] * 2
    out.sum().backward()
    np.testing.assert_allclose(x.grad, 2 * x.data + np.array([0.0, 2.0, 2.0]))


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from(["scalar", "slice", "mask", "ints"]))
def test_setitem_gradcheck(seed, kind):
    rng = np.random.default_rng(seed)
    x = Tensor(rng.standard_normal((4, 3)), requires_grad=True)
    v = Tensor(rng.standard_normal(3), requires_grad=True)
    index = {"scalar": 1, "slice": slice(1, 3), "mask": np.array([True, False, True, False]),
             "ints": np.array([3, 0])}[kind]

    def fn(x, v):
        y = x * 1.0
        y[index] = v * 2.0
        return y * y
    assert tg.gradcheck(fn, (x, v))


def test_inplace_in_the_graph_uses_the_earlier_value_for_earlier_ops():
    a = Tensor([1.0, 2.0], requires_grad=True)
    b = a * 1
    early = b + 1          # uses b before the change
    b *= 3                 # recorded: b is now 3·(a·1)
    (early + b).sum().backward()
    np.testing.assert_allclose(a.grad, [4.0, 4.0])
    assert b.grad_fn is not None and b.grad_fn.name == "MulFn"


def test_inplace_on_self_uses_the_value_before():
    a = Tensor([1.0, 2.0], requires_grad=True)
    b = a * 1
    b += b                 # b = 2a, the operand read before the change
    b.sum().backward()
    np.testing.assert_allclose(a.grad, [2.0, 2.0])


def test_inplace_mul_by_itself_refuses_backward():
    a = Tensor([1.0, 2.0], requires_grad=True)
    b = a * 1
    b *= b                # as PyTorch: the factor b that MulFn saved is changed by this op
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        b.sum().backward()


def test_changing_a_saved_array_makes_backward_raise():
    w = Tensor([1.0, 2.0], requires_grad=True)
    c = Tensor([3.0, 4.0])
    y = (w * c).sum()
    c[0] = 100.0
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_changing_a_saved_output_or_a_view_of_a_saved_array_raises():
    x = Tensor([1.0, 2.0], requires_grad=True)
    e = x.exp()            # ExpFn saves its output
    with no_grad():
        e += 1
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        e.sum().backward()
    c = Tensor([[3.0, 4.0]])
    y = (x * c.reshape(2)).sum()   # the saved array is a view of c
    c[0, 0] = 5.0
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_changing_an_array_nobody_saved_is_fine():
    x = Tensor([1.0, 2.0], requires_grad=True)
    c = Tensor([3.0, 4.0])
    y = (x + c).sum()      # AddFn saves nothing
    c += 1
    y.backward()
    np.testing.assert_allclose(x.grad, [1.0, 1.0])


def test_view_inplace_changes_its_base_with_gradients_as_pytorch():
    torch = _torch()

    def program(lib, tensor):
        x = tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
        h = x * 2
        v = h[1:3]
        early = (v * 1).sum()      # uses v before h changes
        h *= x                     # the base changes: v now reads the new values
        w = v * 10
        h[0] = h[1] * 3
        z = h.reshape(2, 2)
        z[1] += x[:2]              # through a view: h changes too
        zt = z.T
        zt[0] -= 1
        out = early + w.sum() + (h * h).sum() + (z * zt).sum()
        out.backward()
        return h, x.grad

    ours, our_grad = program(tg, Tensor)
    theirs, their_grad = program(torch, torch.tensor)
    np.testing.assert_allclose(ours.data, theirs.detach().numpy())
    np.testing.assert_allclose(our_grad, their_grad.numpy())


def test_view_inplace_then_a_transposed_view_of_the_base_as_pytorch():
    """h[0] += v (an in-place change through a view, recorded as a scatter into h), then
    h.transpose(0, 2): the gradient reaching the scatter is a transpose, not in C order; the
    written positions must still get 0 in h's own gradient (not twice g: found by
    tests/test_fuzz_torch.py). Also with h[0, [0]] = v, which writes through the view h[0]."""
    torch = _torch()

    def program(lib, tensor, write):
        a = tensor(np.arange(1.0, 5.0).reshape(1, 2, 2), requires_grad=True)
        h = a * 1
        write(h, tensor)
        out = h.transpose(0, 2)
        out.backward(tensor(np.arange(1.0, 5.0).reshape(out.shape)))
        return a.grad

    writes = (lambda h, t: h[0].__iadd__(t(np.ones((2, 2)))),
              lambda h, t: h.__setitem__((0, t(np.array([0]))), t(np.zeros((1, 2)))))
    for write in writes:
        ours, theirs = program(tg, Tensor, write), program(torch, torch.tensor, write)
        np.testing.assert_array_equal(ours, theirs.numpy())


def test_view_of_a_leaf_that_requires_grad_refuses_inplace():
    x = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="view of a leaf"):
        x[0] += 1
    with pytest.raises(RuntimeError, match="single memory location"):
        y = (x * 1)[None].expand(3, 2)
        y += 1


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000))
def test_view_inplace_gradcheck(seed):
    rng = np.random.default_rng(seed)
    x = Tensor(rng.standard_normal((3, 4)), requires_grad=True)
    u = Tensor(rng.standard_normal(4), requires_grad=True)

    def fn(x, u):
        h = x * 1.0
        row = h[1]
        row *= u                   # scatter into h
        col = h.T[2]
        col += 1.0
        return h * h
    assert tg.gradcheck(fn, (x, u))


def test_floordiv_and_mod_follow_python_signs_and_refuse_graph_tensors():
    t = Tensor(np.array([7, -7]))
    assert (t // 2).tolist() == [3, -4] and (t % 3).tolist() == [1, 2]
    assert (7 // Tensor(np.array([2]))).tolist() == [3] and (Tensor([5.5]) % 2).tolist() == [1.5]
    with pytest.raises(ZeroDivisionError):
        t // 0
    t //= 2
    assert t.tolist() == [3, -4]
    y = Tensor([1.0], requires_grad=True) * 1
    with pytest.raises(RuntimeError, match="no gradient"):
        y //= 2


def test_second_backward_through_ops_that_saved_nothing_works():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = (x + 1).sum()
    y.backward()
    y.backward()           # AddFn and SumFn saved nothing: nothing was freed
    np.testing.assert_allclose(x.grad, [2.0, 2.0])
    z = (x * x).sum()
    z.backward()
    with pytest.raises(RuntimeError, match="second time"):
        z.backward()


# ---------------------------------------------------------------------------------------------
# against PyTorch
# ---------------------------------------------------------------------------------------------
def _run(lib, tensor, x0, c0):
    x = tensor(x0.copy(), requires_grad=True)
    c = tensor(c0.copy())
    h = x * 2
    h += c
    h[0] = h[1] * 3
    h *= x
    out = lib.zeros(3, dtype=h.dtype)
    out[1:] = h[:2]
    out = out + 0
    out -= h
    out.sum().backward()
    return out, x.grad


def test_inplace_program_matches_torch():
    torch = _torch()
    x0, c0 = np.array([0.5, -1.0, 2.0]), np.array([1.0, 2.0, 3.0])
    ours, our_grad = _run(tg, Tensor, x0, c0)
    theirs, their_grad = _run(torch, torch.tensor, x0, c0)
    np.testing.assert_allclose(ours.data, theirs.detach().numpy())
    np.testing.assert_allclose(our_grad, their_grad.numpy())


def test_backward_from_a_view_written_through_another_view():
    """y is a view; a write through y[1] (a view of the same memory) changes y in the graph,
    so y.backward() must run through the write, as in PyTorch (not y's older history)."""
    torch = pytest.importorskip("torch")
    for index in (1, (0, np.array([], dtype=np.int64))):
        grads = []
        for lib, make in ((tg, lambda a: tg.Tensor(a, requires_grad=True)),
                          (torch, lambda a: torch.tensor(a, requires_grad=True))):
            x, v = make(np.arange(6.0).reshape(2, 3)), make(np.array([5.0]))
            y = (x * 2).t()                                   # (3, 2), a view
            z = y[index] if isinstance(index, int) else y[index[0]]
            if isinstance(index, int):
                z[0] = (v * 3)[0]
            else:
                z[lib.tensor(index[1]) if lib is torch else index[1]] = (v * 3)[:0]
            y.backward(lib.ones(3, 2, dtype=lib.float64))
            grads.append([np.asarray(t.grad) if lib is tg else t.grad.numpy() for t in (x, v)])
        for mine, ref in zip(*grads):
            np.testing.assert_array_equal(mine, ref)


def test_writes_into_an_expanded_tensor_are_refused_with_advice():
    """One rule (tensor_inplace._repeats_memory): no write into memory that repeats, whatever
    the index and with or without a graph; the message says to clone() first."""
    for requires_grad in (False, True):
        for index in ((0,), (slice(None),), (np.array([0]),), (np.array([], dtype=np.int64),)):
            a = Tensor(np.zeros(1), requires_grad=requires_grad)
            v = (a * 1).expand(2, 1)
            with pytest.raises(RuntimeError, match="single memory location.*clone"):
                v[index] = Tensor(np.ones(1))
        with pytest.raises(RuntimeError, match="single memory location.*clone"):
            v += 1
        with no_grad(), pytest.raises(RuntimeError, match="single memory location"):
            v.fill_(2.0)
    w = (Tensor(np.zeros(1)) * 1).expand(2, 1).clone()
    w[0] = Tensor(np.ones(1))   # after clone() it is an ordinary tensor
    np.testing.assert_array_equal(w.data, [[1.0], [0.0]])


def test_write_of_empty_x_into_itself_through_a_sliced_view_like_torch():
    """x[::2, [1, 1]] = x for an empty x: the slice makes a view first (torch's applySlicing),
    and an empty view overlaps nothing, so torch allows it (found by tests/test_fuzz_torch.py).
    With no view first (a whole axis, step 1, or no slice) it is x itself: refused, as torch."""
    torch = pytest.importorskip("torch")
    for lib, make, idx in ((tg, lambda s: Tensor(np.zeros(s)), lambda a: Tensor(np.array(a))),
                           (torch, torch.zeros, torch.tensor)):
        x = make((0, 2, 1, 1))
        with lib.no_grad():
            x[::2, idx([1, 1])] = x
        assert tuple(x.shape) == (0, 2, 1, 1)
        for index in ((slice(None), idx([1])), (slice(0, 0), idx([1])), (idx([]),)):
            with lib.no_grad(), pytest.raises(RuntimeError, match="single memory location"):
                x[index] = x


def test_write_of_x_into_its_own_unsqueezed_element_like_torch():
    """x[0, None] = x for x of shape (1,): PyTorch's unsqueeze keeps x's strides, so each element
    reads itself and torch allows it; numpy's None axis has stride 0, which must not count."""
    torch = pytest.importorskip("torch")
    for make, lib in ((lambda: Tensor(np.array([3.0])), tg), (lambda: torch.tensor([3.0]), torch)):
        x = make()
        with lib.no_grad():
            x[0, None] = x
        assert float(x[0]) == 3.0
