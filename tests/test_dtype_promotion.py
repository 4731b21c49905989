"""Type promotion follows PyTorch: every pair of dtypes, 0-d and n-d tensors, Python and numpy
scalars, checked against the table in tinygrad_edu/dtypes.py and against torch itself."""

import itertools
import operator

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Tensor
from tinygrad_edu.dtypes import promote_types, result_type

DTYPES = [np.bool_, np.uint8, np.int32, np.int64, np.float32, np.float64]
SCALARS = [True, 3, 2.5, np.float64(2.0), np.int64(3), np.float32(1.5)]
OPS = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv}


def _tensor(dtype, ndim):
    values = np.array([1, 2, 3][: 3 if ndim else 1]).astype(dtype)
    return Tensor(values if ndim else values.reshape(()))


def _torch_dtype_name(t):
    return str(t.dtype).replace("torch.", "")


def _compare(symbol, ours_fn, theirs_fn, label):
    """Same dtype and values as torch, or the same refusal (PyTorch refuses − on bools)."""
    try:
        theirs = theirs_fn()
    except RuntimeError:
        with pytest.raises(RuntimeError):
            ours_fn()
        return
    ours = ours_fn()
    assert str(ours.dtype) == _torch_dtype_name(theirs), label
    np.testing.assert_allclose(ours.data.astype(np.float64), theirs.numpy().astype(np.float64),
                               rtol=1e-6)


def test_the_table_in_the_docs():
    f32, f64, i64, u8 = (np.zeros(3, d) for d in (np.float32, np.float64, np.int64, np.uint8))
    assert result_type(f32, 2.5) == result_type(f32, np.float64(2)) == np.float32
    assert result_type(i64, 2.5) == result_type(u8, 255.0) == np.float32
    assert result_type(np.zeros(3, bool), 1) == np.int64
    assert result_type(np.zeros(3, np.int32), 5) == np.int32
    assert result_type(f32, i64) == np.float32 and result_type(f32, f64) == np.float64
    assert result_type(u8, np.zeros(3, np.int8)) == np.int16
    assert result_type(f32, np.float64(1.0) * np.ones(())) == np.float32
    assert result_type(i64, np.ones((), np.float64)) == np.float64
    assert promote_types(np.bool_, np.uint8) == np.uint8


def test_uint8_images_divided_by_255_stay_float32_and_go_through_conv():
    images = Tensor(np.full((2, 1, 5, 5), 255, dtype=np.uint8)) / 255.0
    assert images.dtype == np.float32
    conv = tg.nn.Conv2d(1, 2, 3)
    assert conv(images).dtype == np.float32


def test_integer_division_and_float_functions_give_float32():
    i = Tensor(np.array([1, 2]))
    assert (i / 2).dtype == np.float32 and (i / i).dtype == np.float32
    assert i.exp().dtype == np.float32 and i.sigmoid().dtype == np.float32


@pytest.mark.parametrize("symbol", list(OPS))
@pytest.mark.parametrize("a_ndim,b_ndim", [(1, 1), (1, 0), (0, 1), (0, 0)])
def test_every_tensor_pair_matches_torch(symbol, a_ndim, b_ndim):
    torch = pytest.importorskip("torch")
    for a_dtype, b_dtype in itertools.product(DTYPES, DTYPES):
        a, b = _tensor(a_dtype, a_ndim), _tensor(b_dtype, b_ndim)
        ta, tb = torch.from_numpy(a.data.copy()), torch.from_numpy(b.data.copy())
        _compare(symbol, lambda: OPS[symbol](a, b), lambda: OPS[symbol](ta, tb),
                 (symbol, a_dtype, a_ndim, b_dtype, b_ndim))


@pytest.mark.parametrize("symbol", list(OPS))
def test_every_tensor_and_scalar_pair_matches_torch(symbol):
    torch = pytest.importorskip("torch")
    for dtype, scalar, reverse in itertools.product(DTYPES, SCALARS, (False, True)):
        a = _tensor(dtype, 1)
        ta = torch.from_numpy(a.data.copy())
        # torch takes numpy scalars as the Python numbers they hold
        tscalar = scalar.item() if isinstance(scalar, np.generic) else scalar
        op = OPS[symbol]
        _compare(symbol, lambda: op(scalar, a) if reverse else op(a, scalar),
                 lambda: op(tscalar, ta) if reverse else op(ta, tscalar),
                 (symbol, dtype, scalar, reverse))


def test_gradients_keep_each_inputs_dtype_after_promotion():
    a = Tensor(np.ones(3, np.float32), requires_grad=True)
    b = Tensor(np.ones(3, np.float64), requires_grad=True)
    (a * b).sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64


def test_matmul_needs_one_dtype_as_pytorch():
    with pytest.raises(TypeError, match="same dtype"):
        Tensor(np.ones((2, 2), np.float32)) @ Tensor(np.ones((2, 2), np.float64))
