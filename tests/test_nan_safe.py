"""Gradients at the edges, compared with PyTorch: infinite or NaN upstream gradients, NaN
inputs, zero variance, 0 to the power 0, and the checks of batch_norm and pad.

A mask that blocks the gradient must give an exact 0 even where the upstream gradient is ±∞ or
NaN (a multiply by the 0/1 mask gives 0·∞ = NaN there). The reference in each test is PyTorch
(float64, CPU); every torch comparison skips cleanly when torch is not installed.
"""

import numpy as np
import pytest

import tinygrad_edu as tg
import tinygrad_edu.nn.functional as F
from tinygrad_edu import Tensor
from tinygrad_edu.gradient_table import gradient_table
from tinygrad_edu.ops import reduce

INF, NAN = np.inf, np.nan

# ∞ and NaN on purpose: numpy's (and torch's) warnings about them are expected here
pytestmark = [pytest.mark.filterwarnings("ignore::RuntimeWarning"),
              pytest.mark.filterwarnings("ignore:std\\(\\):UserWarning")]


def _torch():
    return pytest.importorskip("torch")


def _upstreams(shape, seed=0):
    """+∞, −∞, NaN and an ordinary random upstream gradient of `shape`."""
    rng = np.random.default_rng(seed)
    return [np.full(shape, INF), np.full(shape, -INF), np.full(shape, NAN),
            rng.standard_normal(shape)]


def _ours(fn, inputs, upstream):
    xs = [Tensor(np.array(x, dtype=np.float64), requires_grad=True) for x in inputs]
    out = fn(*xs)
    out.backward(Tensor(np.asarray(upstream, dtype=np.float64)))
    return out.data, [x.grad for x in xs]


def _theirs(fn, inputs, upstream):
    torch = _torch()
    xs = [torch.tensor(np.array(x, dtype=np.float64), requires_grad=True) for x in inputs]
    out = fn(*xs)
    out.backward(torch.tensor(np.asarray(upstream, dtype=np.float64)))
    return out.detach().numpy(), [x.grad.numpy() for x in xs]


def assert_like_torch(ours, theirs, inputs, upstreams=None, rtol=1e-12):
    """Values and gradients of ours(*tensors) and theirs(*torch_tensors) agree, NaN for NaN and
    ±∞ for ±∞, for every upstream gradient (default: +∞, −∞, NaN and a random one)."""
    _torch()
    if upstreams is None:
        shape = ours(*[Tensor(np.array(x, dtype=np.float64)) for x in inputs]).shape
        upstreams = _upstreams(shape)
    for up in upstreams:
        value, grads = _ours(ours, inputs, up)
        ref_value, ref_grads = _theirs(theirs, inputs, up)
        np.testing.assert_allclose(value, ref_value, rtol=rtol, atol=0)
        for i, (g, ref) in enumerate(zip(grads, ref_grads)):
            assert g is not None, f"input {i} got no gradient"
            np.testing.assert_allclose(g, ref, rtol=rtol, atol=1e-300,
                                       err_msg=f"gradient of input {i}, upstream {up}")


X = [-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0, NAN, INF, -INF]


# =============================================================================================
# 1. masks: a blocked gradient is exactly 0, even when it is ±∞ or NaN
# =============================================================================================
def test_clamp_then_sqrt_is_zero_where_clamped_not_nan():
    # pairwise distances: d² = |a|² + |b|² − 2a·b can come out slightly negative by rounding
    x = Tensor([-1e-12, 0.0, 4.0], requires_grad=True, dtype=np.float64)
    x.clamp(min=0).sqrt().sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, INF, 0.25])  # as torch: 0 clamped, ∞ at 0 itself


def test_relu_then_sqrt_is_zero_where_blocked():
    x = Tensor([-1.0, 0.0, 4.0], requires_grad=True, dtype=np.float64)
    x.relu().sqrt().sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 0.25])


def test_maximum_then_sqrt_is_zero_where_not_chosen():
    x = Tensor([-1.0, 4.0], requires_grad=True, dtype=np.float64)
    x.maximum(0.0).sqrt().sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.25])


@pytest.mark.parametrize("name", ["relu", "clamp_min", "clamp_max", "clamp", "clamp_empty",
                                  "leaky_relu", "leaky_relu_0", "elu", "abs", "maximum_0",
                                  "minimum_0"])
def test_unary_masks_match_torch(name):
    torch = _torch()
    tnn = torch.nn.functional
    ours, theirs = {
        "relu": (lambda x: x.relu(), torch.relu),
        "clamp_min": (lambda x: x.clamp(min=0.0), lambda x: x.clamp(min=0.0)),
        "clamp_max": (lambda x: x.clamp(max=0.5), lambda x: x.clamp(max=0.5)),
        "clamp": (lambda x: x.clamp(-1.0, 1.0), lambda x: x.clamp(-1.0, 1.0)),
        "clamp_empty": (lambda x: x.clamp(1.0, -1.0), lambda x: x.clamp(1.0, -1.0)),  # min > max
        "leaky_relu": (lambda x: x.leaky_relu(0.1), lambda x: tnn.leaky_relu(x, 0.1)),
        "leaky_relu_0": (lambda x: F.leaky_relu(x, 0.0), lambda x: tnn.leaky_relu(x, 0.0)),
        "elu": (lambda x: x.elu(0.7), lambda x: tnn.elu(x, 0.7)),
        "abs": (lambda x: x.abs(), torch.abs),
        "maximum_0": (lambda x: x.maximum(0.0), lambda x: torch.maximum(x, torch.tensor(0.0))),
        "minimum_0": (lambda x: x.minimum(0.0), lambda x: torch.minimum(x, torch.tensor(0.0))),
    }[name]
    assert_like_torch(ours, theirs, [X])


A = [1.0, 2.0, 3.0, NAN, 1.0, NAN, INF, -INF, INF, 0.0, -0.0]
B = [2.0, 2.0, 1.0, 1.0, NAN, NAN, INF, 1.0, -INF, -0.0, 0.0]


@pytest.mark.parametrize("op", ["maximum", "minimum"])
def test_maximum_minimum_match_torch_with_nan_inf_and_ties(op):
    """As torch: a tie splits g in halves, a NaN operand makes BOTH inputs receive g (NaN is
    neither larger nor smaller), and the input not chosen receives exactly 0."""
    torch = _torch()
    assert_like_torch(lambda a, b: getattr(a, op)(b), getattr(torch, op), [A, B])


def test_maximum_minimum_broadcast_and_scalar_side_match_torch():
    torch = _torch()
    a = np.array([[-1.0], [0.0], [NAN]])
    b = np.array([[0.0, 1.0, -1.0, NAN]])
    for op in ("maximum", "minimum"):
        assert_like_torch(lambda x, y: getattr(x, op)(y), getattr(torch, op), [a, b])


def test_maximum_nan_gives_gradient_to_both_inputs():
    a = Tensor([NAN, 1.0], requires_grad=True, dtype=np.float64)
    b = Tensor([0.0, NAN], requires_grad=True, dtype=np.float64)
    a.maximum(b).sum().backward()
    np.testing.assert_array_equal(a.grad, [1.0, 1.0])
    np.testing.assert_array_equal(b.grad, [1.0, 1.0])


def test_where_matches_torch():
    torch = _torch()
    cond = np.array([True, False, True, False])
    assert_like_torch(lambda a, b: tg.where(cond, a, b),
                      lambda a, b: torch.where(torch.tensor(cond), a, b),
                      [[1.0, 2.0, NAN, INF], [3.0, NAN, 4.0, 5.0]])


def test_dropout_p1_matches_torch():
    """torch (CPU) computes dropout as x · mask, so its backward multiplies too: a dropped
    element with an infinite upstream gradient gets 0·∞ = NaN there, and so do we."""
    torch = _torch()
    assert_like_torch(lambda x: x.dropout(1.0), lambda x: torch.nn.functional.dropout(x, 1.0),
                      [[1.0, -2.0, INF, NAN]])


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_masks_keep_dtype_and_shape(dtype):
    x = Tensor(np.array([[-1.0, 2.0], [0.0, 3.0]], dtype=dtype), requires_grad=True)
    for fn in (lambda t: t.relu(), lambda t: t.clamp(-0.5, 2.5), lambda t: t.maximum(1.0),
               lambda t: t.minimum(1.0), lambda t: t.abs(), lambda t: t.elu()):
        x.grad = None
        fn(x).backward(Tensor(np.full((2, 2), INF, dtype=dtype)))
        assert x.grad.dtype == dtype and x.grad.shape == (2, 2)


@pytest.mark.parametrize("value", [-1.0, 0.0, 2.0, NAN])
def test_masks_on_0d_tensors_match_torch(value):
    torch = _torch()
    for ours, theirs in [(lambda t: t.relu(), torch.relu),
                         (lambda t: t.clamp(0.0, 1.0), lambda t: t.clamp(0.0, 1.0)),
                         (lambda t: t.clamp(min=0.0), lambda t: t.clamp(min=0.0)),
                         (lambda t: t.maximum(0.0), lambda t: torch.maximum(t, torch.tensor(0.0))),
                         (lambda t: t.abs(), torch.abs), (lambda t: t ** 0, lambda t: t ** 0),
                         (lambda t: t.amax(), torch.amax)]:
        assert_like_torch(ours, theirs, [np.array(value)])


def test_mask_gradients_at_ordinary_points_gradcheck():
    rng = np.random.default_rng(3)
    x = Tensor(rng.uniform(-2, 2, (3, 4)), requires_grad=True)
    x.data[np.abs(x.data) < 0.1] = 0.3          # away from the kink at 0
    x.data[np.abs(np.abs(x.data) - 1) < 0.1] = 0.5  # and from the clamp limits ±1
    y = Tensor(rng.uniform(-2, 2, (1, 4)), requires_grad=True)
    for fn in (lambda t: t.relu(), lambda t: t.clamp(-1.0, 1.0), lambda t: t.clamp(min=0.0),
               lambda t: t.clamp(max=0.0), lambda t: t.abs(), lambda t: t.elu(0.7),
               lambda t: t.leaky_relu(0.2)):
        assert tg.gradcheck(fn, (x,))
    assert tg.gradcheck(lambda a, b: a.maximum(b), (x, y))
    assert tg.gradcheck(lambda a, b: a.minimum(b), (x, y))


# =============================================================================================
# 2. std at zero variance: 0, as torch (not √'s ∞ times var's 0 = NaN)
# =============================================================================================
def _std(x, dim=None, correction=1, keepdim=False):
    """StdFn on its own (what Tensor.std runs)."""
    dims = tuple(range(x.ndim)) if dim is None else tuple(d % x.ndim for d in np.atleast_1d(dim))
    return reduce.StdFn.apply(x, tuple(sorted(dims)), keepdim, correction)


STD_INPUT = np.array([[2.0, 2.0, 2.0, 2.0], [1.0, 2.0, 4.0, 8.0], [3.0, 3.0, 5.0, 5.0]])


@pytest.mark.parametrize("dim", [None, 0, 1, (0, 1)])
@pytest.mark.parametrize("correction", [0, 1])
@pytest.mark.parametrize("keepdim", [False, True])
def test_std_fn_zero_variance_matches_torch(dim, correction, keepdim):
    torch = _torch()
    for x in (STD_INPUT, STD_INPUT.T.copy(), np.full((2, 3), 2.0)):  # a constant row, column, all
        assert_like_torch(lambda t: _std(t, dim, correction, keepdim),
                          lambda t: torch.std(t, dim=dim, correction=correction, keepdim=keepdim),
                          [x])


def test_std_fn_edge_cases_match_torch():
    torch = _torch()
    cases = [(np.array([5.0]), None, 1),          # one value, unbiased: 0/0 = NaN
             (np.array([5.0]), None, 0),          # one value, biased: 0
             (np.array([[1.0, 2.0], [3.0, 3.0]]), 1, 2),  # N = correction: ∞ and NaN
             (np.array([1.0, NAN, 3.0]), None, 1)]  # a NaN input
    for x, dim, correction in cases:
        assert_like_torch(lambda t: _std(t, dim, correction),
                          lambda t: torch.std(t, dim=dim, correction=correction), [x])


def test_std_fn_gradcheck():
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((3, 4, 2)), requires_grad=True)
    for dim, correction, keepdim in [(None, 1, False), (1, 0, True), ((0, 2), 1, False)]:
        assert tg.gradcheck(lambda t: _std(t, dim, correction, keepdim), (x,))


def test_var_at_zero_variance_matches_torch():
    torch = _torch()
    for dim in (None, 1):
        assert_like_torch(lambda t: t.var(dim), lambda t: torch.var(t, dim=dim),
                          [STD_INPUT], upstreams=[np.ones(() if dim is None else 3)])


def test_tensor_std_is_one_std_node_with_zero_gradient_at_zero_variance():
    """x.std() runs StdFn (needs tensor_shape.py's std to call reduce.StdFn)."""
    x = Tensor([[2.0, 2.0, 2.0], [1.0, 2.0, 4.0]], requires_grad=True, dtype=np.float64)
    out = x.std(1)
    assert isinstance(out._ctx, reduce.StdFn)
    out.sum().backward()
    assert np.all(np.isfinite(x.grad)) and np.all(x.grad[0] == 0)


# =============================================================================================
# 3. pow: x⁰ at 0, ∂(aᵇ)/∂b at a = 0 and a < 0, 0 to negative powers
# =============================================================================================
def test_pow_zero_exponent_at_zero_has_zero_gradient():
    x = Tensor([0.0, 2.0, -3.0], requires_grad=True, dtype=np.float64)
    (x ** 0).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 0.0])


def test_pow_zero_exponent_then_sqrt_at_zero():
    x = Tensor([0.0, 0.0], requires_grad=True, dtype=np.float64)
    (x ** 0).sqrt().sum().backward()  # sqrt'(1) = ½, times d(x⁰)/dx = 0
    np.testing.assert_array_equal(x.grad, [0.0, 0.0])


POW_A = [0.0, -0.0, 2.0, -2.0, 0.5, -0.5]
POW_B = [0.0, 1.0, 2.0, 3.0, -1.0, -2.0, 0.5]


def test_pow_tensor_tensor_matches_torch_on_a_grid():
    torch = _torch()
    a, b = np.meshgrid(POW_A, POW_B, indexing="ij")
    assert_like_torch(lambda x, y: x ** y, lambda x, y: x ** y, [a, b])


@pytest.mark.parametrize("exponent", [0, 0.0, 1, 2, 3, -1, -2, 0.5, -0.5])
def test_pow_scalar_exponent_matches_torch(exponent):
    _torch()
    # torch computes x ** ±0.5 as sqrt / rsqrt, whose sign at −0.0 differs from pow's (C's
    # pow(−0, ½) = +0): signed zeros aside, the rule is the same
    bases = POW_A if float(exponent).is_integer() else [a for a in POW_A if str(a) != "-0.0"]
    assert_like_torch(lambda x: x ** exponent, lambda x: x ** exponent, [bases + [NAN, INF]])


@pytest.mark.parametrize("base", [0.0, 2.0, -2.0, 0.5])
def test_pow_scalar_base_matches_torch(base):
    _torch()
    assert_like_torch(lambda x: base ** x, lambda x: base ** x, [POW_B + [NAN]])


def test_pow_gradcheck_at_ordinary_points():
    rng = np.random.default_rng(1)
    a = Tensor(rng.uniform(0.5, 2.0, (3, 4)), requires_grad=True)
    b = Tensor(rng.uniform(-2.0, 2.0, (1, 4)), requires_grad=True)
    assert tg.gradcheck(lambda x, y: x ** y, (a, b))
    n = Tensor(rng.uniform(-2.0, -0.5, (5,)), requires_grad=True)
    for k in (0, 1, 2, 3, -1):
        assert tg.gradcheck(lambda x: x ** k, (n,))
    e = Tensor(rng.uniform(0.5, 2, (4,)), requires_grad=True)
    assert tg.gradcheck(lambda x: 0.0 ** x, (e,))


# =============================================================================================
# 4. NaN inputs in max / amax / amin and max(dim)
# =============================================================================================
M = np.array([[1.0, NAN, 3.0, NAN], [1.0, 3.0, 3.0, 2.0], [INF, 0.0, INF, 1.0],
              [-INF, -INF, -INF, -INF]])


@pytest.mark.parametrize("op", ["amax", "amin"])
@pytest.mark.parametrize("dim,keepdim", [(None, False), (1, False), (1, True), (0, False),
                                         ((0, 1), False)])
def test_amax_amin_match_torch_with_nan_and_inf(op, dim, keepdim):
    """torch.amax/amin: g·[x = out] / #{x = out}. A NaN result equals no element, so a slice
    holding a NaN gets a NaN gradient everywhere (0/0), and ∞ upstream gives 0·∞ = NaN to the
    elements that are not the max: we match this, as is."""
    torch = _torch()
    kwargs = {} if dim is None else {"dim": dim, "keepdim": keepdim}
    assert_like_torch(lambda t: getattr(t, op)(**kwargs),
                      lambda t: getattr(torch, op)(t, **kwargs), [M])


@pytest.mark.parametrize("fn_name,torch_name", [("AMaxFn", "max"), ("AMinFn", "min")])
def test_whole_max_min_fn_with_nan_wins_match_torch(fn_name, torch_name):
    """torch.max(x) / torch.min(x) without dim: a NaN result is matched by the NaN elements,
    which share g evenly; every other element gets exactly 0 (also for an ∞ upstream)."""
    torch = _torch()
    fn = getattr(reduce, fn_name)
    for x in (M, M[1], M[2], M[3], np.array([2.0, NAN, NAN, 1.0])):
        dims = tuple(range(x.ndim))
        assert_like_torch(lambda t: fn.apply(t, dims, False, nan_wins=True),
                          getattr(torch, torch_name), [x])


def test_tensor_max_of_nan_shares_gradient_among_the_nans():
    """x.max() / x.min() run AMaxFn / AMinFn with nan_wins=True (needs tensor_shape.py)."""
    x = Tensor([1.0, NAN, 3.0, NAN], requires_grad=True, dtype=np.float64)
    x.max().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.5, 0.0, 0.5])
    x.grad = None
    x.min().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.5, 0.0, 0.5])


@pytest.mark.parametrize("op", ["max", "min"])
def test_max_min_with_dim_match_torch_with_nan(op):
    torch = _torch()
    assert_like_torch(lambda t: getattr(t, op)(1).values,
                      lambda t: getattr(torch, op)(t, 1).values, [M])
    ours = getattr(Tensor(M), op)(1).indices.data
    np.testing.assert_array_equal(ours, getattr(torch, op)(torch.tensor(M), 1).indices.numpy())


def test_amax_amin_gradcheck_without_ties():
    rng = np.random.default_rng(2)
    x = Tensor(rng.permutation(12).reshape(3, 4) / 3.0, requires_grad=True)
    for dims in ((0,), (1,), (0, 1)):
        for fn in (reduce.AMaxFn, reduce.AMinFn):
            assert tg.gradcheck(lambda t: fn.apply(t, dims, False), (x,))
            assert tg.gradcheck(lambda t: fn.apply(t, dims, True, nan_wins=True), (x,))


# =============================================================================================
# 5. batch_norm in training: the batch statistics are part of the op
# =============================================================================================
@pytest.mark.parametrize("shape", [(6, 3), (4, 2, 5), (3, 2, 2, 3)])
def test_batch_norm_training_gradient_table_is_all_ok(shape):
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal(shape) * 2 + 1, requires_grad=True)
    w = Tensor(rng.uniform(0.5, 2, shape[1]), requires_grad=True)
    b = Tensor(rng.standard_normal(shape[1]), requires_grad=True)
    c = rng.standard_normal(shape)
    rows = gradient_table(lambda x, w, b: (F.batch_norm(x, None, None, w, b, training=True)
                                           .tanh() * Tensor(c)).sum(),
                          [x, w, b], names={"x": x, "w": w, "b": b}, print_table=False)
    assert [r.op for r in rows if not r.ok] == []
    rows = gradient_table(lambda x: (F.batch_norm(x, None, None, training=True) ** 2 * Tensor(c))
                          .sum(), [x], print_table=False)
    assert all(r.ok for r in rows), [(r.name, r.op, r.max_abs_diff) for r in rows]


def test_batch_norm_eval_gradient_table_is_all_ok():
    rng = np.random.default_rng(1)
    x = Tensor(rng.standard_normal((4, 3, 2)), requires_grad=True)
    rm, rv = Tensor(rng.standard_normal(3)), Tensor(rng.uniform(0.5, 2, 3))
    rows = gradient_table(lambda x: (F.batch_norm(x, rm, rv, training=False) ** 2).sum(), [x],
                          print_table=False)
    assert all(r.ok for r in rows)


def test_batch_norm_training_running_stats_match_torch_also_without_grad():
    torch = _torch()
    rng = np.random.default_rng(2)
    x = rng.standard_normal((5, 3, 4)) * 3 + 2
    rm, rv = Tensor(np.zeros(3)), Tensor(np.ones(3))
    trm, trv = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    with tg.no_grad():
        out = F.batch_norm(Tensor(x), rm, rv, training=True, momentum=0.3)
    ref = torch.nn.functional.batch_norm(torch.tensor(x), trm, trv, training=True, momentum=0.3)
    np.testing.assert_allclose(out.data, ref.numpy(), atol=1e-12)
    np.testing.assert_allclose(rm.data, trm.numpy(), atol=1e-12)
    np.testing.assert_allclose(rv.data, trv.numpy(), atol=1e-12)


def test_batch_norm_training_gradcheck_without_running_stats():
    rng = np.random.default_rng(3)
    x = Tensor(rng.standard_normal((5, 2, 3)), requires_grad=True)
    w = Tensor(rng.uniform(0.5, 2, 2), requires_grad=True)
    b = Tensor(rng.standard_normal(2), requires_grad=True)
    assert tg.gradcheck(lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True), [x, w, b])


# =============================================================================================
# 6. pad: circular at most once around, replicate needs something to copy
# =============================================================================================
def test_circular_pad_larger_than_the_axis_raises_like_torch():
    torch = _torch()
    x = np.arange(6.0).reshape(1, 2, 3)
    for pad in [(4, 0), (0, 4), (1, 1, 3, 0)]:
        with pytest.raises(RuntimeError, match="wrapping around more than once"):
            torch.nn.functional.pad(torch.tensor(x), pad, mode="circular")
        with pytest.raises(ValueError, match="wrapping around more than once"):
            F.pad(Tensor(x), pad, mode="circular")


def test_circular_pad_of_exactly_the_axis_size_matches_torch():
    torch = _torch()
    x = np.random.default_rng(0).standard_normal((1, 2, 3))
    for pad in [(3, 3), (0, 3), (2, 1, 2, 0)]:
        assert_like_torch(lambda t: F.pad(t, pad, mode="circular"),
                          lambda t: torch.nn.functional.pad(t, pad, mode="circular"), [x],
                          upstreams=[np.random.default_rng(1).standard_normal(
                              torch.nn.functional.pad(torch.tensor(x), pad,
                                                      mode="circular").shape)])
    X = Tensor(x, requires_grad=True)
    assert tg.gradcheck(lambda t: F.pad(t, (3, 2), mode="circular"), [X])


@pytest.mark.parametrize("mode", ["replicate", "reflect"])
@pytest.mark.parametrize("shape,pad", [((1, 1, 0), (1, 1)), ((1, 1, 0), (0, 0)),
                                       ((1, 0, 3), (1, 1)), ((2, 0, 2, 2), (1, 1, 1, 1))])
def test_replicate_and_reflect_pad_of_an_empty_axis_raise_like_torch(mode, shape, pad):
    torch = _torch()
    with pytest.raises(RuntimeError):
        torch.nn.functional.pad(torch.zeros(shape), pad, mode=mode)
    with pytest.raises(ValueError, match="non-zero"):
        F.pad(Tensor(np.zeros(shape)), pad, mode=mode)


@pytest.mark.parametrize("mode", ["replicate", "reflect", "circular", "constant"])
def test_pad_with_an_empty_batch_matches_torch(mode):
    torch = _torch()
    out = F.pad(Tensor(np.zeros((0, 1, 3))), (1, 1), mode=mode)
    ref = torch.nn.functional.pad(torch.zeros(0, 1, 3), (1, 1), mode=mode)
    assert out.shape == tuple(ref.shape)


def test_circular_pad_of_an_empty_axis_matches_torch():
    torch = _torch()
    assert F.pad(Tensor(np.zeros((1, 1, 0))), (0, 0), mode="circular").shape == (1, 1, 0)
    assert tuple(torch.nn.functional.pad(torch.zeros(1, 1, 0), (0, 0), mode="circular").shape) \
        == (1, 1, 0)
    with pytest.raises(ValueError, match="wrapping around"):
        F.pad(Tensor(np.zeros((1, 1, 0))), (1, 0), mode="circular")
