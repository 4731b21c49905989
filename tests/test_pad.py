"""F.pad against torch.nn.functional.pad: which inputs each mode accepts (and the exception it
raises otherwise), negative widths (cropping), values and gradients.

The hypothesis test draws shapes with 0 to 5 axes (0-d, size-0 and size-1 axes included), pad
tuples of length 0 to 6 (negative, zero and large widths, and odd lengths), every mode, value=
and float32/float64, and checks that tinygrad_edu and torch both raise (NotImplementedError
where torch does, ValueError where torch raises RuntimeError) or give the same values and the
same gradient of a random-weighted sum.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_edu as tg
import tinygrad_edu.nn.functional as F
from tinygrad_edu import Tensor

torch = pytest.importorskip("torch")
TF = torch.nn.functional

MODES = ["constant", "reflect", "replicate", "circular"]


def _float64(x, requires_grad=True):
    return Tensor(np.asarray(x, dtype=np.float64), requires_grad=requires_grad)


def _expected_error(err):
    """The exception tinygrad_edu raises where torch raised `err`."""
    if isinstance(err, NotImplementedError):
        return NotImplementedError
    if isinstance(err, TypeError):
        return TypeError
    assert isinstance(err, RuntimeError), f"torch raised {type(err).__name__}: {err}"
    return ValueError


def _torch_circular_is_undefined(shape, pad):
    """torch's circular pad crops, then copies slices of its output into itself: when a width
    is larger than the part of the axis left after cropping (or the crop is larger than the
    axis) those copies overlap or read memory never written, so torch returns uninitialised
    values or copy artefacts, or raises, depending on the sizes. tinygrad_edu raises ValueError."""
    for i in range(len(pad) // 2):
        n, before, after = shape[len(shape) - 1 - i], pad[2 * i], pad[2 * i + 1]
        kept = n + min(before, 0) + min(after, 0)
        if kept < 0 or max(before, after) > kept:
            return True
    return False


def _torch_accepts_the_call(shape, pad, mode, value):
    """torch's checks that come before the circular size checks."""
    k = len(pad) // 2
    return (len(pad) % 2 == 0 and k <= len(shape) and (value is None or value == 0)
            and k in (1, 2, 3) and len(shape) in (k + 1, k + 2))


def _run_ours(x, pad, mode, value, weights_seed):
    X = Tensor(x, requires_grad=True)
    kwargs = {} if value is None else {"value": value}
    out = F.pad(X, pad, mode=mode, **kwargs)
    w = np.random.default_rng(weights_seed).standard_normal(out.shape).astype(x.dtype)
    (out * Tensor(w)).sum().backward()
    return out, w, X.grad


@st.composite
def pad_cases(draw):
    width = st.one_of(st.integers(-2, 2), st.integers(-3, 3), st.integers(-12, 12))
    if draw(st.integers(0, 2)) == 0:  # anything: most of these raise
        ndim = draw(st.integers(0, 5))
        shape = tuple(draw(st.lists(st.integers(0, 5), min_size=ndim, max_size=ndim)))
        length = draw(st.sampled_from([0, 2, 2, 4, 4, 6, 6, 1, 3]))
    else:  # (N, C, …) or (C, …) with 1, 2 or 3 padded axes: what every mode accepts
        k = draw(st.integers(1, 3))
        batch = [draw(st.integers(0, 3))] if draw(st.booleans()) else []
        shape = tuple(batch + draw(st.lists(st.one_of(st.integers(1, 5), st.integers(0, 5)),
                                            min_size=k + 1, max_size=k + 1)))
        length = 2 * k
        width = st.one_of(st.integers(-1, 1), st.integers(-1, 2), width)
    pad = tuple(draw(st.lists(width, min_size=length, max_size=length)))
    mode = draw(st.sampled_from(MODES))
    some_value = st.floats(-3, 3, allow_nan=False)  # the other modes refuse a value but 0
    value = draw(st.one_of(st.none(), st.just(0.0), some_value) if mode == "constant"
                 else st.sampled_from([None, None, None, 0.0, 1.5]))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    return shape, pad, mode, value, dtype


@settings(max_examples=500, deadline=None)
@given(pad_cases(), st.integers(0, 2**31 - 1))
def test_pad_matches_torch(case, seed):
    shape, pad, mode, value, dtype = case
    x = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    kwargs = {} if value is None else {"value": value}

    if (mode == "circular" and _torch_accepts_the_call(shape, pad, mode, value)
            and _torch_circular_is_undefined(shape, pad)):
        with pytest.raises(ValueError):
            F.pad(Tensor(x), pad, mode=mode, **kwargs)
        return

    t = torch.tensor(x, requires_grad=True)
    try:
        ref = TF.pad(t, pad, mode=mode, **kwargs)
    except Exception as err:  # noqa: BLE001 (any torch error: we must raise the matching one)
        with pytest.raises(_expected_error(err)):
            F.pad(Tensor(x, requires_grad=True), pad, mode=mode, **kwargs)
        return
    if min(ref.shape, default=0) < 0:
        # torch's 2-D reflect pad of an empty batch makes a tensor of negative size (shape
        # (0, 1, -1, 1) for (0, 1, 1, 1) padded by (0, 0, 0, -2)); every other path refuses
        with pytest.raises(ValueError, match="negative output size"):
            F.pad(Tensor(x), pad, mode=mode, **kwargs)
        return

    out, w, grad = _run_ours(x, pad, mode, value, seed)
    (ref * torch.tensor(w)).sum().backward()
    assert out.shape == tuple(ref.shape)
    assert out.dtype == dtype
    np.testing.assert_array_equal(out.data, ref.detach().numpy())  # copies: exactly equal
    assert grad.dtype == dtype
    if ref.numel() == 0:
        # nothing flows back from an empty output; torch's reflect/replicate backward leaves
        # its gradient uninitialised there (garbage such as -9.7e+36), so compare with 0
        np.testing.assert_array_equal(grad, np.zeros(shape))
        return
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(grad, t.grad.numpy(), rtol=tol, atol=tol)


# ---------------------------------------------------------------------------------------------
# 1. which inputs the non-constant modes accept
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("shape,pad", [
    ((3,), (1, 1)), ((), ()), ((2, 3), ()), ((2, 3), (1, 1, 1, 1)), ((5, 2, 3), (1, 1, 1, 1, 1, 1)),
    ((1, 1, 1, 1, 3), (1, 1)), ((1, 1, 1, 1), (1, 1, 1, 1, 1, 1, 1, 1))])
def test_non_constant_modes_refuse_the_inputs_torch_refuses(mode, shape, pad):
    with pytest.raises(NotImplementedError):
        TF.pad(torch.ones(shape), pad, mode=mode)
    with pytest.raises(NotImplementedError, match="last 1, 2 or 3 axes"):
        F.pad(Tensor(np.ones(shape)), pad, mode=mode)


def test_replicate_of_a_1d_input_raises_not_implemented():
    with pytest.raises(NotImplementedError):
        F.pad(Tensor([1.0, 2.0, 3.0]), (1, 1), mode="replicate")
    # with a channel axis it is supported, as in torch
    np.testing.assert_array_equal(F.pad(Tensor([[1.0, 2.0, 3.0]]), (1, 1), mode="replicate").data,
                                  [[1, 1, 2, 3, 3]])


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("shape,pad", [
    ((2, 3), (1, 1)), ((1, 2, 3), (1, 1)), ((2, 3, 4), (1, 1, 1, 1)), ((1, 2, 3, 4), (1, 1, 1, 1)),
    ((2, 3, 3, 4), (1, 1, 1, 1, 1, 1)), ((1, 2, 3, 3, 4), (1, 1, 1, 1, 1, 1))])
def test_non_constant_modes_on_unbatched_and_batched_inputs_match_torch(mode, shape, pad):
    x = np.random.default_rng(0).standard_normal(shape)
    ref = TF.pad(torch.tensor(x), pad, mode=mode)
    np.testing.assert_array_equal(F.pad(Tensor(x), pad, mode=mode).data, ref.numpy())


@pytest.mark.parametrize("mode", ["reflect", "replicate"])
@pytest.mark.parametrize("shape", [(0, 4, 4), (3, 0, 4), (1, 0, 4, 4)])
def test_zero_size_non_batch_axes_raise_like_torch(mode, shape):
    with pytest.raises(RuntimeError):
        TF.pad(torch.zeros(shape), (1, 1, 1, 1), mode=mode)
    with pytest.raises(ValueError, match="non-zero"):
        F.pad(Tensor(np.zeros(shape)), (1, 1, 1, 1), mode=mode)


@pytest.mark.parametrize("mode", MODES)
def test_zero_size_batch_axis_and_circular_or_constant_on_empty_channels_match_torch(mode):
    assert F.pad(Tensor(np.zeros((0, 2, 4, 4))), (1, 1, 1, 1), mode=mode).shape == (0, 2, 6, 6)
    if mode in ("circular", "constant"):  # torch has no non-empty check for these
        assert tuple(TF.pad(torch.zeros(0, 4, 4), (1, 1, 1, 1), mode=mode).shape) == (0, 6, 6)
        assert F.pad(Tensor(np.zeros((0, 4, 4))), (1, 1, 1, 1), mode=mode).shape == (0, 6, 6)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_non_constant_modes_take_no_value(mode):
    x = np.ones((1, 2, 3))
    with pytest.raises(RuntimeError):
        TF.pad(torch.tensor(x), (1, 1), mode=mode, value=2.0)
    with pytest.raises(ValueError, match="takes no value"):
        F.pad(Tensor(x), (1, 1), mode=mode, value=2.0)
    # value 0 is accepted, as in torch
    np.testing.assert_array_equal(F.pad(Tensor(x), (1, 1), mode=mode, value=0.0).data,
                                  TF.pad(torch.tensor(x), (1, 1), mode=mode, value=0.0).numpy())


def test_unknown_mode_and_non_integer_widths_raise_like_torch():
    x = np.ones((2, 3))
    with pytest.raises(NotImplementedError):
        TF.pad(torch.tensor(x), (1, 1), mode="mirror")
    with pytest.raises(NotImplementedError, match="mirror"):
        F.pad(Tensor(x), (1, 1), mode="mirror")
    for pad in [(1.0, 1), (True, 1), (1.5, 0)]:
        with pytest.raises(TypeError):
            TF.pad(torch.tensor(x), pad)
        with pytest.raises(TypeError, match="tuple of ints"):
            F.pad(Tensor(x), pad)
    np.testing.assert_array_equal(F.pad(Tensor(x), [np.int64(1), 0]).data,
                                  TF.pad(torch.tensor(x), [np.int64(1), 0]).numpy())


# ---------------------------------------------------------------------------------------------
# 2. negative widths
# ---------------------------------------------------------------------------------------------
def test_negative_constant_padding_crops():
    out = F.pad(Tensor([1.0, 2.0, 3.0]), (-1, 1))
    np.testing.assert_array_equal(out.data, [2.0, 3.0, 0.0])
    np.testing.assert_array_equal(F.pad(Tensor([1.0, 2.0, 3.0]), (-1, -1)).data, [2.0])
    np.testing.assert_array_equal(F.pad(Tensor([1.0, 2.0, 3.0]), (-3, 1), value=7.0).data, [7.0])
    assert F.pad(Tensor([1.0, 2.0, 3.0]), (-3, 0)).shape == (0,)


def test_negative_constant_padding_backward_scatters_zeros_where_cropped():
    x = Tensor([[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]], requires_grad=True)
    out = F.pad(x, (-1, 2, 1, -1), value=9.0)  # last axis: crop 1, add 2; first: add 1, crop 1
    np.testing.assert_array_equal(out.data, [[9, 9, 9, 9, 9], [2, 3, 4, 9, 9]])
    g = np.arange(10.0).reshape(2, 5)
    out.backward(Tensor(g))
    np.testing.assert_array_equal(x.grad, [[0, 5, 6, 7], [0, 0, 0, 0]])
    t = torch.tensor(x.data, requires_grad=True)
    TF.pad(t, (-1, 2, 1, -1), value=9.0).backward(torch.tensor(g))
    np.testing.assert_array_equal(x.grad, t.grad.numpy())


@pytest.mark.parametrize("shape,pad", [((3,), (-1, 1)), ((5,), (-2, -1)), ((2, 4), (-1, 2, 1, -1)),
                                       ((3, 4), (2, -3, -1, 0)), ((2, 3, 4), (-1, -1, 0, 2, -1, 1)),
                                       ((2, 3), (-3, 1)), ((4,), (3, -4))])
def test_negative_constant_padding_gradcheck(shape, pad):
    x = _float64(np.random.default_rng(1).standard_normal(shape))
    assert tg.gradcheck(lambda t: F.pad(t, pad, value=0.5), [x])


@pytest.mark.parametrize("pad", [(-4, 1), (-2, -2), (2, -4), (-5, 5)])
def test_constant_cropping_more_than_the_axis_raises_like_torch(pad):
    with pytest.raises(RuntimeError):
        TF.pad(torch.ones(3), pad)
    with pytest.raises(ValueError, match="crops more than"):
        F.pad(Tensor(np.ones(3)), pad)


NEGATIVE_NON_CONSTANT = [
    ("reflect", (2, 4), (-1, 2)), ("reflect", (2, 4), (-3, 2)), ("reflect", (2, 4), (-4, 1)),
    ("reflect", (2, 4), (2, -3)), ("reflect", (1, 3, 4), (-1, 1, 2, -2)),
    ("replicate", (2, 4), (-1, 2)), ("replicate", (2, 3), (-3, 3)), ("replicate", (2, 3), (-5, 3)),
    ("replicate", (1, 3, 4), (2, -3, -1, 2)),
    ("circular", (2, 4), (-1, 2)), ("circular", (2, 4), (-2, 2)), ("circular", (2, 4), (3, -1)),
    ("circular", (1, 3, 4), (-1, 3, 1, -1)),
]
EMPTY_OUTPUT = [("circular", (2, 3), (-3, 0)), ("reflect", (1, 3, 4), (-4, 0, 0, 1)),
                ("replicate", (1, 2, 2, 2), (-2, 0, -2, 0, 0, 0))]


@pytest.mark.parametrize("mode,shape,pad", NEGATIVE_NON_CONSTANT + EMPTY_OUTPUT)
def test_negative_padding_in_the_other_modes_matches_torch(mode, shape, pad):
    x = np.random.default_rng(2).standard_normal(shape)
    X = _float64(x)
    out = F.pad(X, pad, mode=mode)
    t = torch.tensor(x, requires_grad=True)
    ref = TF.pad(t, pad, mode=mode)
    np.testing.assert_array_equal(out.data, ref.detach().numpy())
    g = np.random.default_rng(3).standard_normal(out.shape)
    out.backward(Tensor(g))
    if out.data.size == 0:  # torch's reflect/replicate backward leaves garbage here
        np.testing.assert_array_equal(X.grad, np.zeros(shape))
        return
    ref.backward(torch.tensor(g))
    np.testing.assert_allclose(X.grad, t.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("mode,shape,pad", NEGATIVE_NON_CONSTANT)
def test_negative_padding_in_the_other_modes_gradcheck(mode, shape, pad):
    x = _float64(np.random.default_rng(4).standard_normal(shape))
    assert tg.gradcheck(lambda t: F.pad(t, pad, mode=mode), [x])


@pytest.mark.parametrize("mode,pad", [("reflect", (-3, -1)), ("reflect", (-5, 3)),
                                      ("reflect", (4, -1)), ("replicate", (-3, 0)),
                                      ("replicate", (-2, -2))])
def test_negative_reflect_and_replicate_padding_that_leaves_nothing_raises_like_torch(mode, pad):
    with pytest.raises(RuntimeError):
        TF.pad(torch.ones(2, 3), pad, mode=mode)
    with pytest.raises(ValueError):
        F.pad(Tensor(np.ones((2, 3))), pad, mode=mode)


@pytest.mark.parametrize("pad", [(-1, 3), (-2, 2), (3, -1), (2, -3), (-4, 1), (1, -5)])
def test_circular_wrapping_more_than_the_cropped_axis_raises(pad):
    # torch returns uninitialised memory or copy artefacts here (or raises, depending on sizes)
    with pytest.raises(ValueError, match="wrapping around|crops more"):
        F.pad(Tensor(np.ones((1, 3))), pad, mode="circular")


# ---------------------------------------------------------------------------------------------
# 3. the rest
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("mode", MODES)
def test_pad_keeps_the_dtype(dtype, mode):
    x = Tensor(np.ones((1, 2, 3), dtype=dtype), requires_grad=True)
    out = F.pad(x, (1, 2), mode=mode, **({"value": 0.1} if mode == "constant" else {}))
    assert out.dtype == dtype
    out.sum().backward()
    assert x.grad.dtype == dtype


def test_pad_of_a_0d_tensor_with_an_empty_pad_copies_it():
    x = _float64(3.0)
    out = F.pad(x, ())
    assert out.shape == () and out.item() == 3.0
    assert tuple(TF.pad(torch.tensor(3.0), ()).shape) == ()
    out.backward()
    assert x.grad == 1.0


def test_pad_output_does_not_share_memory_with_its_input():
    x = Tensor(np.arange(6.0).reshape(2, 3))
    for pad in [(0, 0), (-1, 0), (-1, -1, 0, 0)]:
        out = F.pad(x, pad)
        assert not np.shares_memory(out.data, x.data)
