"""The ops added for PyTorch's beginner code: gradcheck over hypothesis-generated shapes and
arguments, and the same calls compared with PyTorch (values and gradients; skipped without it).

sin cos tan erf softplus; floor ceil round sign (zero gradient); cumsum logsumexp sort topk;
gather scatter_add index_select masked_fill; repeat chunk split tril triu; norm dot outer einsum.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes

import tinygrad_edu as tg

SETTINGS = settings(max_examples=20, deadline=None)
shapes = array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)
nonempty_shapes = array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)
seeds = st.integers(0, 2**31 - 1)


def make(shape, seed, low=-2.0, high=2.0, distinct=False):
    """A float64 leaf of uniform values (all different with `distinct`, for sort and max)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(low, high, size=shape)
    if distinct and x.size:
        x = (rng.permutation(x.size).reshape(shape) + rng.uniform(0.1, 0.9, shape)) / 2.0
    return tg.Tensor(x, requires_grad=True)


def against_torch(ours, theirs, *arrays, atol=1e-10):
    """ours(*tg tensors) and theirs(*torch tensors) agree in value and in the gradient of
    Σ w·out (w random) with respect to every floating input."""
    torch = pytest.importorskip("torch")
    a = [tg.Tensor(x, requires_grad=x.dtype.kind == "f") for x in arrays]
    b = [torch.tensor(x, requires_grad=x.dtype.kind == "f") for x in arrays]
    out_a, out_b = ours(*a), theirs(*b)
    np.testing.assert_allclose(out_a.detach().numpy(), out_b.detach().numpy(), atol=atol)
    assert out_a.dtype == np.dtype(str(out_b.dtype).replace("torch.", ""))
    if not out_b.requires_grad:
        return
    w = np.random.default_rng(0).standard_normal(out_b.shape)
    (out_a * tg.Tensor(w)).sum().backward()
    (out_b * torch.tensor(w)).sum().backward()
    for x, y in zip(a, b):
        if y.requires_grad:
            np.testing.assert_allclose(x.grad, y.grad.numpy(), atol=1e-8, err_msg="gradient")


def draw_dim(data, ndim):
    return data.draw(st.integers(-max(ndim, 1), max(ndim, 1) - 1))


# ---------------------------------------------------------------------------------- math
@SETTINGS
@given(shapes, seeds)
@pytest.mark.parametrize("op", ["sin", "cos", "tan"])
def test_trig(op, shape, seed):
    x = make(shape, seed, -1.2, 1.2)  # tan stays away from ±π/2
    assert tg.gradcheck(lambda t: getattr(t, op)(), (x,))
    against_torch(lambda t: getattr(t, op)(), lambda t: getattr(t, op)(), x.data)


@SETTINGS
@given(shapes, seeds)
def test_erf(shape, seed):
    x = make(shape, seed, -3.0, 3.0)
    assert tg.gradcheck(lambda t: t.erf(), (x,))
    against_torch(lambda t: t.erf(), lambda t: t.erf(), x.data, atol=1e-14)


@SETTINGS
@given(shapes, seeds, st.sampled_from([0.5, 1.0, 3.0]), st.sampled_from([1.0, 20.0]))
def test_softplus(shape, seed, beta, threshold):
    x = make(shape, seed, -4.0, 4.0)
    # away from the threshold's kink, where the two branches differ by float rounding
    x.data[np.abs(x.data * beta - threshold) < 0.05] += 0.2
    assert tg.gradcheck(lambda t: t.softplus(beta, threshold), (x,))
    F = pytest.importorskip("torch.nn.functional")
    against_torch(lambda t: t.softplus(beta, threshold),
                  lambda t: F.softplus(t, beta, threshold), x.data)


@SETTINGS
@given(shapes, seeds)
@pytest.mark.parametrize("op", ["floor", "ceil", "round", "sign"])
def test_rounding(op, shape, seed):
    x = make(shape, seed, -3.0, 3.0)
    x.data[...] = np.where(np.abs(x.data - np.round(x.data)) < 0.05, x.data + 0.2, x.data)
    assert tg.gradcheck(lambda t: getattr(t, op)(), (x,))  # a step function: zero gradient
    getattr(x, op)().sum().backward()
    assert np.array_equal(x.grad, np.zeros(shape))
    against_torch(lambda t: getattr(t, op)(), lambda t: getattr(t, op)(), x.data)


def test_rounding_of_halves_and_integers():
    x = tg.tensor([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5])
    assert x.round().tolist() == [-2.0, -2.0, -0.0, 0.0, 2.0, 2.0]  # half to even, as torch
    assert tg.tensor([1.234, 5.678]).round(decimals=1).tolist() == pytest.approx([1.2, 5.7])
    ints = tg.tensor([3, -2])
    assert ints.floor().dtype == np.int64 and ints.sign().tolist() == [1, -1]


# ---------------------------------------------------------------------------------- scans
@SETTINGS
@given(nonempty_shapes, seeds, st.data())
def test_cumsum(shape, seed, data):
    dim = draw_dim(data, len(shape))
    x = make(shape, seed)
    assert tg.gradcheck(lambda t: t.cumsum(dim), (x,))
    against_torch(lambda t: t.cumsum(dim), lambda t: t.cumsum(dim), x.data)


@SETTINGS
@given(shapes, seeds, st.data(), st.booleans())
def test_logsumexp(shape, seed, data, keepdim):
    dim = draw_dim(data, len(shape)) if shape else 0
    x = make(shape, seed, -5.0, 5.0)
    assert tg.gradcheck(lambda t: t.logsumexp(dim, keepdim), (x,))
    against_torch(lambda t: t.logsumexp(dim, keepdim), lambda t: t.logsumexp(dim, keepdim), x.data)


def test_logsumexp_is_finite_for_huge_values():
    x = tg.tensor([[1000.0, 1000.0], [-1000.0, -np.inf]], dtype=tg.float64)
    np.testing.assert_allclose(x.logsumexp(1).data, [1000 + np.log(2), -1000.0])


@SETTINGS
@given(nonempty_shapes, seeds, st.data(), st.booleans())
def test_sort(shape, seed, data, descending):
    dim = draw_dim(data, len(shape))
    x = make(shape, seed, distinct=True)
    values, indices = x.sort(dim, descending=descending)
    np.testing.assert_array_equal(values.data, np.take_along_axis(x.data, indices.data, dim))
    assert tg.gradcheck(lambda t: t.sort(dim, descending)[0], (x,))
    against_torch(lambda t: t.sort(dim, descending)[0], lambda t: t.sort(dim, descending)[0], x.data)
    against_torch(lambda t: t.sort(dim, descending)[1], lambda t: t.sort(dim, descending)[1], x.data)


def test_sort_stable_keeps_the_order_of_ties():
    values, indices = tg.tensor([2.0, 1.0, 2.0, 1.0]).sort(descending=True, stable=True)
    assert values.tolist() == [2, 2, 1, 1] and indices.tolist() == [0, 2, 1, 3]


@SETTINGS
@given(nonempty_shapes, seeds, st.data(), st.booleans())
def test_topk(shape, seed, data, largest):
    dim = draw_dim(data, len(shape))
    k = data.draw(st.integers(0, shape[dim]))
    x = make(shape, seed, distinct=True)
    assert tg.gradcheck(lambda t: t.topk(k, dim, largest)[0], (x,))
    against_torch(lambda t: t.topk(k, dim, largest)[0], lambda t: t.topk(k, dim, largest)[0], x.data)
    against_torch(lambda t: t.topk(k, dim, largest)[1], lambda t: t.topk(k, dim, largest)[1], x.data)


def test_topk_refuses_k_larger_than_the_axis():
    with pytest.raises(IndexError, match="topk: k \\(4\\) out of range"):
        tg.zeros(3).topk(4)


# ---------------------------------------------------------------------------------- indexing
def index_into(rng, shape, dim, size_on_dim):
    """A random int64 index of `shape` (at most shape elsewhere) with values < size_on_dim."""
    return rng.integers(0, size_on_dim, size=shape).astype(np.int64)


@SETTINGS
@given(nonempty_shapes, seeds, st.data())
def test_gather(shape, seed, data):
    dim = draw_dim(data, len(shape))
    rng = np.random.default_rng(seed)
    index_shape = tuple(data.draw(st.integers(1, 4)) if d == dim % len(shape) else
                        data.draw(st.integers(1, n)) for d, n in enumerate(shape))
    index = index_into(rng, index_shape, dim, shape[dim])
    x = make(shape, seed)
    assert tg.gradcheck(lambda t: t.gather(dim, index), (x,))
    against_torch(lambda t, i: t.gather(dim, i), lambda t, i: t.gather(dim, i), x.data, index)


@SETTINGS
@given(nonempty_shapes, seeds, st.data())
def test_scatter_add(shape, seed, data):
    dim = draw_dim(data, len(shape))
    rng = np.random.default_rng(seed)
    src_shape = tuple(data.draw(st.integers(1, 4)) for _ in shape)
    index_shape = tuple(data.draw(st.integers(1, s)) if d == dim % len(shape) else
                        data.draw(st.integers(1, min(s, n)))
                        for d, (s, n) in enumerate(zip(src_shape, shape)))
    index = index_into(rng, index_shape, dim, shape[dim])
    x, src = make(shape, seed), make(src_shape, seed + 1)
    assert tg.gradcheck(lambda a, b: a.scatter_add(dim, index, b), (x, src))
    # torch's backward needs src of index's shape (its ∂src is g.gather(dim, index))
    src = src.data[tuple(slice(0, n) for n in index_shape)]
    against_torch(lambda a, i, b: a.scatter_add(dim, i, b),
                  lambda a, i, b: a.scatter_add(dim, i, b), x.data, index, src)


@SETTINGS
@given(nonempty_shapes, seeds, st.data())
def test_index_select(shape, seed, data):
    dim = draw_dim(data, len(shape))
    index = np.array(data.draw(st.lists(st.integers(0, shape[dim] - 1), max_size=5)), np.int64)
    x = make(shape, seed)
    assert tg.gradcheck(lambda t: t.index_select(dim, index), (x,))
    against_torch(lambda t, i: t.index_select(dim, i), lambda t, i: t.index_select(dim, i),
                  x.data, index)


@SETTINGS
@given(shapes, seeds, st.floats(-3, 3))
def test_masked_fill(shape, seed, value):
    mask = np.random.default_rng(seed).random(shape[1:]) > 0.5  # broadcasts over the first axis
    x = make(shape, seed)
    assert tg.gradcheck(lambda t: t.masked_fill(mask, value), (x,))
    against_torch(lambda t, m: t.masked_fill(m, value), lambda t, m: t.masked_fill(m, value),
                  x.data, mask)


def test_index_ops_name_bad_arguments():
    x = tg.zeros(2, 3)
    with pytest.raises(IndexError, match="out of bounds for dimension 1 with size 3"):
        x.gather(1, tg.tensor([[0, 3]]))
    with pytest.raises(TypeError, match="integer tensor"):
        x.index_select(0, tg.tensor([0.0]))
    with pytest.raises(TypeError, match="boolean masks"):
        x.masked_fill(tg.zeros(3), 1.0)


# ---------------------------------------------------------------------------------- structure
@SETTINGS
@given(shapes, seeds, st.data())
def test_repeat(shape, seed, data):
    extra = data.draw(st.integers(0 if shape else 1, 2))
    repeats = tuple(data.draw(st.integers(1, 3)) for _ in range(len(shape) + extra))
    x = make(shape, seed)
    assert tg.gradcheck(lambda t: t.repeat(*repeats), (x,))
    against_torch(lambda t: t.repeat(*repeats), lambda t: t.repeat(*repeats), x.data)


@SETTINGS
@given(nonempty_shapes, seeds, st.data())
def test_chunk_and_split(shape, seed, data):
    dim = draw_dim(data, len(shape))
    chunks, size = data.draw(st.integers(1, 5)), data.draw(st.integers(1, 5))
    x = make(shape, seed)
    assert tg.gradcheck(lambda t: tg.cat([p * (i + 1) for i, p in enumerate(t.chunk(chunks, dim))], dim), (x,))
    torch = pytest.importorskip("torch")
    for ours, theirs in [(x.chunk(chunks, dim), torch.tensor(x.data).chunk(chunks, dim)),
                         (x.split(size, dim), torch.tensor(x.data).split(size, dim))]:
        assert [p.shape for p in ours] == [tuple(p.shape) for p in theirs]
        for p, q in zip(ours, theirs):
            np.testing.assert_array_equal(p.data, q.numpy())
    sections = [1, shape[dim] - 1]
    assert [p.shape[dim] for p in x.split(sections, dim)] == sections


@SETTINGS
@given(array_shapes(min_dims=2, max_dims=3, min_side=1, max_side=4), seeds, st.integers(-2, 2))
def test_tril_triu(shape, seed, k):
    x = make(shape, seed)
    for op in ("tril", "triu"):
        assert tg.gradcheck(lambda t: getattr(t, op)(k), (x,))
        against_torch(lambda t: getattr(t, op)(k), lambda t: getattr(t, op)(k), x.data)


# ---------------------------------------------------------------------------------- linalg
@SETTINGS
@given(shapes, seeds, st.data(), st.sampled_from([1, 2, 3, float("inf"), "fro"]), st.booleans())
def test_norm(shape, seed, data, p, keepdim):
    dim = data.draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1))) if shape else None
    x = make(shape, seed, distinct=True)  # no ties for the ∞-norm, no zeros for p = 1
    assert tg.gradcheck(lambda t: t.norm(p, dim, keepdim), (x,))
    against_torch(lambda t: t.norm(p, dim, keepdim), lambda t: t.norm(p, dim, keepdim), x.data)


def test_norm_at_zero_has_zero_gradient_as_torch():
    x = tg.zeros(3, dtype=tg.float64, requires_grad=True)
    x.norm().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0]


@SETTINGS
@given(st.integers(1, 5), st.integers(1, 5), seeds)
def test_dot_outer(n, m, seed):
    a, b, c = make((n,), seed), make((n,), seed + 1), make((m,), seed + 2)
    assert tg.gradcheck(lambda x, y: x.dot(y), (a, b))
    assert tg.gradcheck(lambda x, y: x.outer(y), (a, c))
    against_torch(lambda x, y: x.dot(y), lambda x, y: x.dot(y), a.data, b.data)
    against_torch(lambda x, y: x.outer(y), lambda x, y: x.outer(y), a.data, c.data)


EINSUMS = {  # equation → operand shapes
    "ij,jk->ik": [(2, 3), (3, 4)],            # matmul
    "bij,bjk->bik": [(2, 2, 3), (2, 3, 2)],   # bmm
    "i,j->ij": [(3,), (4,)],                  # outer
    "i,i->": [(4,), (4,)],                    # dot
    "ii->": [(3, 3)],                         # trace
    "ii->i": [(3, 3)],                        # diagonal
    "ij->ji": [(2, 3)],                       # transpose
    "ij->i": [(2, 3)],                        # row sums
    "ij,jk": [(2, 3), (3, 2)],                # implicit output: ik
    "ij,ij->ij": [(2, 3), (2, 3)],            # elementwise product
    "ij,ij->i": [(1, 3), (2, 3)],             # a size-1 axis broadcasts
    "...ij,...jk->...ik": [(2, 2, 3), (2, 3, 2)],  # batched matmul with an ellipsis
    "...i,i": [(2, 3, 4), (4,)],              # implicit output: the ellipsis axes lead
    "b...,b": [(2, 3, 4), (2,)],              # ellipsis last
}


@pytest.mark.parametrize("equation", EINSUMS)
@SETTINGS
@given(seeds)
def test_einsum(equation, seed):
    operands = [make(s, seed + i) for i, s in enumerate(EINSUMS[equation])]
    assert tg.gradcheck(lambda *ts: tg.einsum(equation, *ts), operands)
    torch = pytest.importorskip("torch")
    against_torch(lambda *ts: tg.einsum(equation, *ts), lambda *ts: torch.einsum(equation, *ts),
                  *(t.data for t in operands))


def test_einsum_names_bad_equations():
    with pytest.raises(ValueError, match="does not match an operand with 2 dimensions"):
        tg.einsum("ijk,jk->i", tg.zeros(2, 3), tg.zeros(3, 2))
    with pytest.raises(ValueError, match="names 1 operands"):
        tg.einsum("ij->i", tg.zeros(2, 3), tg.zeros(3, 2))
    with pytest.raises(ValueError, match="does not match an operand with 1 dimensions"):
        tg.einsum("...ij->i", tg.zeros(3))
