"""Regression tests for differences from PyTorch found by the differential fuzzer
(tests/test_fuzz_torch.py): each compares with torch directly."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import tinygrad_edu as tg  # noqa: E402
import tinygrad_edu.nn.functional as tg_F  # noqa: E402


def _both(values):
    return (tg.Tensor(np.array(values, dtype=np.float32), requires_grad=True),
            torch.tensor(np.array(values, dtype=np.float32), requires_grad=True))


def _outcome(fn, x):
    """'raises' if fn(x).sum().backward() raises, else x.grad."""
    try:
        fn(x).sum().backward()
    except RuntimeError:
        return "raises"
    return np.array(x.grad.detach().numpy() if hasattr(x.grad, "detach") else x.grad)


@pytest.mark.parametrize("op", ["add_", "sub_", "mul_", "div_"])
@pytest.mark.parametrize("view", [False, True])
def test_inplace_with_itself_as_operand(op, view):
    """x op= x: the operand is x itself, which the op changes; *= and /= saved it for
    backward, so backward refuses (as torch); += and -= saved nothing."""
    def fn(a):
        x = a * 1
        if view:
            x = x[0:1]
        getattr(x, op)(x)
        return x

    mine, ref = (_outcome(fn, a) for a in _both([1.0, 2.0]))
    if isinstance(ref, str):
        assert mine == ref
    else:
        np.testing.assert_allclose(mine, ref)


def test_max_pool2d_window_all_padding():
    """A max_pool2d window made only of padding (dilation > 1 allows it): −inf out, and no
    gradient. Torch itself is not run here: its CPU backward writes out of bounds for such a
    window (pytorch/pytorch#114216)."""
    x = tg.Tensor(np.arange(1.0, 5.0, dtype=np.float32).reshape(1, 1, 1, 4), requires_grad=True)
    # along H (size 1): kernel 2, dilation 2, padding 1 give one window, rows −1 and 1, neither
    # of them in the input
    out = tg_F.max_pool2d(x, kernel_size=(2, 1), stride=1, padding=(1, 0), dilation=(2, 1))
    assert out.shape == (1, 1, 1, 4)
    assert np.all(np.isneginf(out.data))
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, np.zeros((1, 1, 1, 4), dtype=np.float32))


@pytest.mark.parametrize("dim", [(), []])
def test_squeeze_empty_dims_drops_nothing(dim):
    """squeeze(()) names no axis (a reduction's dim=() means every axis, squeeze's does not)."""
    mine, ref = _both([[1.0]])
    assert tuple(mine.squeeze(dim).shape) == tuple(ref.squeeze(dim).shape) == (1, 1)


@pytest.mark.parametrize("shape,to", [((), ()), ((2,), (2,)), ((2,), (1, 2)), ((), (0,))])
def test_inplace_through_expand_that_repeats_nothing(shape, to):
    """An expand that repeats no element is a plain view: in-place changes go through it."""
    results = []
    for lib, tensor in ((tg, tg.Tensor), (torch, torch.tensor)):
        a = tensor(np.ones(shape, dtype=np.float32), requires_grad=True)
        x = a * 1
        v = x.expand(to)
        v += a
        (x * 2).sum().backward()
        results.append((np.array(x.detach().numpy() if lib is torch else x.data),
                        np.array(a.grad.numpy() if lib is torch else a.grad)))
    for mine, ref in zip(*results):
        np.testing.assert_allclose(mine, ref)


def test_inplace_through_empty_expand_bumps_the_version():
    """x.expand((0,)) is still a view of x: an in-place op on it changes x's version, and an
    op that saved x refuses backward (as torch)."""
    outcomes = []
    for tensor in (tg.Tensor, torch.tensor):
        a = tensor(np.float32(1.0), requires_grad=True)
        x = (a * 1).exp()          # exp saves its output x
        v = x.expand((0,))
        v += a
        outcomes.append(_outcome(lambda _: x, a))
    assert outcomes[0] == outcomes[1] == "raises"


@pytest.mark.parametrize("index", [(None,), (Ellipsis, None), 0])
def test_setitem_from_its_own_0d_self(index):
    """x[i] = x for a 0-d x: the value is read once and written (torch's fill_), no overlap."""
    for tensor, no_grad in ((tg.Tensor, tg.no_grad), (torch.tensor, torch.no_grad)):
        x = tensor(np.float32(3.0), requires_grad=True)
        with no_grad():
            x[index if index != 0 else ...] = x
        assert float(x.detach()) == 3.0


@pytest.mark.parametrize("case", ["unsqueeze_iadd", "step_slice_setitem"])
def test_overlap_by_torch_rule(case):
    """Same memory but other strides or shapes counts as partial overlap, as in torch:
    x.unsqueeze(0) += x, and y[::2] = y for y of shape (1, 1)."""
    for tensor, no_grad in ((tg.Tensor, tg.no_grad), (torch.tensor, torch.no_grad)):
        with no_grad(), pytest.raises(RuntimeError):
            if case == "unsqueeze_iadd":
                x = tensor(np.float32(3.0))
                v = x.unsqueeze(0)
                v += x
            else:
                y = tensor(np.zeros((1, 1), dtype=np.float32))
                y[::2] = y
def test_setitem_partial_overlap_still_refused():
    for tensor in (tg.Tensor, torch.tensor):
        x = tensor(np.arange(4.0, dtype=np.float32))
        with pytest.raises(RuntimeError):
            x[1:] = x[:3]


@pytest.mark.parametrize("n", [0, 2])
def test_setitem_advanced_index_from_itself_refused(n):
    """x[int array] = x: torch refuses (the value is the written-to tensor), even when empty."""
    for tensor, no_grad in ((tg.Tensor, tg.no_grad), (torch.tensor, torch.no_grad)):
        x = tensor(np.zeros((n, 1), dtype=np.float32))
        index = np.arange(n, dtype=np.int64)
        with no_grad(), pytest.raises(RuntimeError):
            x[index if tensor is tg.Tensor else torch.from_numpy(index)] = x


@pytest.mark.parametrize("op", ["var", "std"])
@pytest.mark.parametrize("values,correction", [([1.0], 2), ([0.0], 1), ([1.0, 3.0], 2)])
@pytest.mark.filterwarnings("ignore")
def test_var_std_dim_none_with_no_degrees_of_freedom(op, values, correction):
    """dim=None reaches VarFn/StdFn as None, so torch's dim=None rule for N ≤ correction
    applies in backward (NaN where x = x̄, ∞ elsewhere)."""
    grads = []
    for tensor in (tg.Tensor, torch.tensor):
        a = tensor(np.array(values), requires_grad=True)
        with np.errstate(all="ignore"):
            getattr(a, op)(correction=correction).backward()
        grads.append(np.array(a.grad))
    np.testing.assert_array_equal(grads[0], grads[1])


def test_setitem_expanded_from_itself_accepted():
    """x[None, None] = x: torch expands the value to (1, 1, n); every element reads itself."""
    for tensor, no_grad in ((tg.Tensor, tg.no_grad), (torch.tensor, torch.no_grad)):
        x = tensor(np.array([1.0, 2.0], dtype=np.float32))
        with no_grad():
            x[None, None] = x
        assert x.tolist() == [1.0, 2.0]


@pytest.mark.parametrize("setting", [False, True])
def test_mask_shape_checked_on_empty_tensor(setting):
    """A mask whose shape differs from the axes it covers: IndexError, also on an empty
    tensor (numpy does not check there)."""
    for tensor in (tg.Tensor, torch.tensor):
        x = tensor(np.zeros((0, 1, 1, 1)))
        mask = np.zeros((0,), dtype=bool)
        mask = mask if tensor is tg.Tensor else torch.from_numpy(mask)
        with pytest.raises(IndexError):
            if setting:
                x[..., mask] = 2.0
            else:
                x[..., mask]


@pytest.mark.parametrize("step", [-1, 0])
def test_setitem_refuses_nonpositive_step(step):
    """x[::-1] = v is refused as x[::-1] is (torch: ValueError)."""
    for tensor in (tg.Tensor, torch.tensor):
        x = tensor(np.zeros((1, 2), dtype=np.float32))
        with pytest.raises(ValueError):
            x[:, ::step] = 2.0


@pytest.mark.parametrize("index,n", [([0, 1], 2), ([0, 1], 1), ([True, False, True], 2),
                                     ([True, False, True], 1), (slice(0, 2), 2)])
def test_setitem_advanced_index_needs_same_dtype(index, n):
    """x[int array or mask] = a tensor of another dtype raises (index_put_), except a
    one-element value with a single mask (masked_fill); a slice converts (copy_)."""
    outcomes = []
    for tensor in (tg.Tensor, torch.tensor):
        x = tensor(np.zeros(3))
        v = tensor(np.ones(n, dtype=np.float32))
        i = index if isinstance(index, slice) else tensor(np.array(index))
        try:
            x[i] = v
            outcomes.append("ok")
        except RuntimeError:
            outcomes.append("raises")
    assert outcomes[0] == outcomes[1]


@pytest.mark.parametrize("before,after", [((), (0, ...)), ((), (slice(None), slice(None, None, 2))),
                                          ((None,), (0,)), ((), ("array", 0))])
def test_setitem_one_mask_beside_ints_and_slices_fills_any_dtype(before, after):
    """x[mask, 0, ...] = a one-element value of another dtype: the ints and slices pick a view,
    the mask is the only array, and torch fills (masked_fill) without a dtype check; a second
    array (an integer one) makes it index_put_, which raises (found by test_fuzz_torch.py)."""
    outcomes = []
    for tensor in (tg.Tensor, torch.tensor):
        x = tensor(np.zeros((3, 2, 2), dtype=np.float32))
        mask = tensor(np.array([False, False, True]))
        after_ = tuple(tensor(np.array([1])) if i == "array" else i for i in after)
        try:
            x[before + (mask,) + after_] = tensor(np.array([-1.0]))
            outcomes.append(np.asarray(x.data if isinstance(x, tg.Tensor) else x.numpy()).tolist())
        except RuntimeError:
            outcomes.append("raises")
    assert outcomes[0] == outcomes[1]
    assert (outcomes[0] == "raises") == ("array" in after)


def test_inplace_through_view_of_a_permuted_result():
    """log of a permuted tensor keeps its strides (not C-contiguous); an in-place change
    through a view of it works, with torch's values and gradients."""
    results = []
    for tensor in (tg.Tensor, torch.tensor):
        a = tensor(np.arange(1.0, 5.0).reshape(1, 2, 2, 1), requires_grad=True)
        v1 = a.permute(2, 1, 0, 3).log()
        v3 = v1.expand(2, 2, 1, 1)[()]
        v3 += tensor(np.full((2, 2, 1, 1), 0.5))
        v3.backward(tensor(np.arange(1.0, 5.0).reshape(2, 2, 1, 1)))
        if isinstance(v1, torch.Tensor):
            results.append((v1.detach().numpy(), a.grad.numpy()))
        else:
            results.append((v1.data, a.grad))
    np.testing.assert_allclose(results[0][0], results[1][0])
    np.testing.assert_allclose(results[0][1], results[1][1])


def test_setitem_one_mask_from_itself_one_element():
    """x[mask] = x for a one-element x: torch fills (masked_fill), no overlap refusal."""
    for tensor, no_grad in ((tg.Tensor, tg.no_grad), (torch.tensor, torch.no_grad)):
        x = tensor(np.array([2.0], dtype=np.float32))
        mask = np.array([True])
        with no_grad():
            x[mask if tensor is tg.Tensor else torch.from_numpy(mask)] = x
        assert float(x.sum()) == 2.0
