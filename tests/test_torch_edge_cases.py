"""Edge cases the differential fuzzer (test_fuzz_torch.py) found in pow, div, elu, var and std,
each compared with PyTorch: what an op saves for backward (so an in-place change afterwards
raises exactly where torch raises), float32 overflow in var/std, the quotient rule's
underflow, torch's exact kernels for x ** 0.5 and friends (signed zeros, ±∞), and var/std with
correction ≥ N.

Every test skips cleanly when torch is not installed.
"""

import numpy as np
import pytest

import tinygrad_edu.nn.functional as F
from tinygrad_edu import Tensor, no_grad
from tinygrad_edu.ops import reduce

# ∞ and NaN on purpose: numpy's (and torch's) warnings about them are expected here
pytestmark = [pytest.mark.filterwarnings("ignore::RuntimeWarning"),
              pytest.mark.filterwarnings("ignore::UserWarning")]


def _torch():
    return pytest.importorskip("torch")


def assert_same(mine, ref, rtol=1e-6, signed_zeros=False):
    """Same shape and dtype, NaN and ±∞ at the same places, finite values within rtol, and
    (signed_zeros) the same sign on every zero."""
    mine, ref = np.asarray(mine), np.asarray(ref)
    assert mine.shape == ref.shape and mine.dtype == ref.dtype, (mine, ref)
    assert np.array_equal(np.isnan(mine), np.isnan(ref)), (mine, ref)
    assert np.array_equal(np.isposinf(mine), np.isposinf(ref)), (mine, ref)
    assert np.array_equal(np.isneginf(mine), np.isneginf(ref)), (mine, ref)
    finite = np.isfinite(ref)
    np.testing.assert_allclose(mine[finite], ref[finite], rtol=rtol, atol=0)
    if signed_zeros:
        zero = ref == 0
        assert np.array_equal(np.signbit(mine[zero]), np.signbit(ref[zero])), (mine, ref)


def run_both(fn_ours, fn_torch, values, dtype=np.float32, upstream=None):
    """(value, grad) of fn on a leaf made from `values`, in both libraries; backward with
    `upstream` (default ones). A RuntimeError is returned as the string 'raises'."""
    torch = _torch()
    results = []
    for lib, fn in (("tg", fn_ours), ("torch", fn_torch)):
        x = (Tensor(np.array(values, dtype=dtype), requires_grad=True) if lib == "tg" else
             torch.tensor(np.array(values, dtype=dtype), requires_grad=True))
        try:
            y = fn(x)
            up = np.ones(y.shape, dtype) if upstream is None else \
                np.broadcast_to(np.asarray(upstream, dtype), y.shape).copy()
            y.backward(Tensor(up) if lib == "tg" else torch.tensor(up))
            value = y.data if lib == "tg" else y.detach().numpy()
            results.append((np.array(value), np.array(x.grad if lib == "tg" else x.grad.numpy())))
        except RuntimeError as err:
            assert "inplace" in str(err), err
            results.append("raises")
    return results


# ---------------------------------------------------------------------------------------------
# 1. What is saved: an in-place change of the result (or an input) raises iff torch raises
# ---------------------------------------------------------------------------------------------
def _changed_result(op):
    def fn(x):
        y = op(x)
        y += 1
        return y
    return fn


def test_pow_saves_what_torch_saves():
    """torch's pow(Tensor, Scalar) saves only the base: y = x**2; y += 1 still backpropagates.
    pow(Tensor, Tensor) and pow(number, Tensor) save the result too (∂/∂exponent = out·ln a),
    so there torch raises, whether the exponent requires grad or not."""
    torch = _torch()
    for exponent in (2, 0.5, -1, 3, 1.5, 0, -0.5, -2):
        mine, ref = run_both(_changed_result(lambda x: x ** exponent),
                             _changed_result(lambda x: x ** exponent), [1.0, 2.0])
        assert ref != "raises" and mine != "raises", exponent
        assert_same(mine[0], ref[0])
        assert_same(mine[1], ref[1])
    for requires in (True, False):
        raised = []
        for make in (Tensor, torch.tensor):
            x = make(np.array([1.5, 2.0], np.float32), requires_grad=True)
            e = make(np.array([2.0, 0.5], np.float32), requires_grad=requires)
            for y in (x ** e, 2.0 ** x):
                y += 1
                try:
                    y.sum().backward()
                    raised.append(False)
                except RuntimeError as err:
                    assert "inplace" in str(err)
                    raised.append(True)
        assert raised == [True, True, True, True]


def test_elu_result_changed_in_place_like_torch():
    torch = _torch()

    def double(f):
        def fn(x):
            y = f(x)
            y *= 2
            return y
        return fn
    mine, ref = run_both(double(F.elu), double(torch.nn.functional.elu), [-1.0, 1.0])
    assert_same(mine[0], ref[0])
    assert_same(mine[1], ref[1])          # [2/e, 2] = [0.736, 2]


def test_div_with_constant_denominator_saves_no_numerator_like_torch():
    """x / c (c needs no gradient) keeps only c, as torch: changing x afterwards is fine; and
    c / x (torch: x.reciprocal() * c) keeps neither x nor the result."""
    torch = _torch()
    for lib, make in (("tg", Tensor), ("torch", torch.tensor)):
        x = make(np.array([1.0, 2.0], np.float32), requires_grad=True)
        c = make(np.array([4.0, 8.0], np.float32))
        y = x / c
        z = 2.0 / x
        with (no_grad() if lib == "tg" else torch.no_grad()):
            x += 1
        (y.sum() + z.sum()).backward()  # raises before the fix in tinygrad_edu (not in torch)
        grad = x.grad if lib == "tg" else x.grad.numpy()
        np.testing.assert_allclose(grad, [0.25 - 2.0, 0.125 - 0.5])


@pytest.mark.parametrize("op", ["var", "std"])
def test_var_std_input_changed_in_place_raises_like_torch(op):
    """var and std save the input x (torch's var_backward reads it): changing x in place
    afterwards raises in both."""
    torch = _torch()
    raised = []
    for make, grad_off in ((Tensor, no_grad), (torch.tensor, torch.no_grad)):
        x = make(np.array([1.0, 2.0, 4.0], np.float32), requires_grad=True)
        y = getattr(x, op)()
        with grad_off():
            x *= 2
        try:
            y.backward()
            raised.append(False)
        except RuntimeError as err:
            assert "inplace" in str(err)
            raised.append(True)
    assert raised == [True, True]


# ---------------------------------------------------------------------------------------------
# 2. var / std in float32 do not overflow or underflow: float64 inside, as torch's CPU kernels
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("op", ["var", "std"])
def test_var_std_float32_extremes_match_torch(op):
    """std([3e19, −3e19]) is 4.24e19 with gradient ±0.707 (float32 squares overflowed: ∞ and
    0); std of 1e-30-sized values is 1.5e-30, not 0 (their squares underflowed)."""
    for values in ([3e19, -3e19], [3e38, -3e38], [1e-30, 2e-30, 4e-30], [1e20, 1.0001e20, 1e20]):
        for correction in (0, 1):
            mine, ref = run_both(lambda x: getattr(x, op)(correction=correction),
                                 lambda x: getattr(x, op)(correction=correction), values,
                                 upstream=0.7)
            assert_same(mine[0], ref[0], rtol=1e-5)
            assert_same(mine[1], ref[1], rtol=1e-5)


def test_var_float32_multi_output_uses_float64_mean_like_torch():
    """With several results torch's Welford kernel keeps the mean in float64: [3e38, 3e38]
    has variance 0 there (its whole-tensor var takes a float32 mean: ∞)."""
    values = [[3e38, 3e38], [1.0, 2.0]]
    for op in ("var", "std"):
        mine, ref = run_both(lambda x: getattr(x, op)(1), lambda x: getattr(x, op)(1), values)
        assert_same(mine[0], ref[0])
        assert_same(mine[1], ref[1])
    mine, ref = run_both(lambda x: x.var(), lambda x: x.var(), [3e38, 3e38])
    assert_same(mine[0], ref[0])
    # equal values: x̄ is exactly that value in torch (Welford; and the rounded float32 sum of
    # 36 copies of 1.2734375⁴ here), so the variance is exactly 0 and std's gradient 0
    for dtype in (np.float32, np.float64):
        values = np.full((3, 12), dtype(1.2734375) ** 4)
        values[2] = [1.0, 2.0] * 6
        for op, dim in (("std", 1), ("std", None), ("var", 1), ("var", None)):
            mine, ref = run_both(lambda x: getattr(x, op)(dim), lambda x: getattr(x, op)(dim),
                                 values[:2] if dim is None else values, dtype)
            assert_same(mine[0], ref[0])
            assert_same(mine[1], ref[1])


# ---------------------------------------------------------------------------------------------
# 3. the quotient rule: −g·((a/b)/b), no b·b to underflow
# ---------------------------------------------------------------------------------------------
def test_div_by_itself_has_zero_gradient_like_torch():
    """d(x/x)/dx = 1/x − (x/x)/x = 0 exactly, as torch; the old −x/(x·x) gave −∞ at −7e-34
    (x·x underflowed) and a residual elsewhere."""
    for dtype in (np.float32, np.float64):
        for a in (-7e-34, 1e-12, 1e30, 3e-20) + ((1e-160,) if dtype == np.float64 else ()):
            for upstream in (1.0, 0.7):  # with 0.7, g/x and g·(1/x) round apart, as in torch
                mine, ref = run_both(lambda x: x / x, lambda x: x / x, [a], dtype, upstream)
                assert_same(mine[0], ref[0])
                assert_same(mine[1], ref[1])
                assert upstream != 1.0 or mine[1][0] == 0, (dtype, a)


def test_div_denominator_gradient_like_torch():
    """∂(a/b)/∂b = −g·((a/b)/b): a zero numerator over a subnormal b gives 0 (0/(b·b) was
    0/0 = NaN), and no b·b underflows to 0 or overflows to ∞ where torch's gradient is finite."""
    torch = _torch()
    for a, b in ((0.0, 1e-40), (0.0, -3e-42), (1e-45, 1e-41), (1e-30, 1e-25), (3e30, 1e20),
                 (-2.0, 1e-40)):
        results = []
        for make in (Tensor, torch.tensor):
            x = make(np.array([a], np.float32), requires_grad=True)
            y = make(np.array([b], np.float32), requires_grad=True)
            out = x / y
            out.backward(make(np.array([0.7], np.float32)))
            results.append([np.array(t.grad if make is Tensor else t.grad.numpy()) for t in (x, y)])
        for mine, ref in zip(*results):
            assert_same(mine, ref, rtol=1e-6)


def test_number_over_tensor_is_reciprocal_times_number_like_torch():
    """torch computes c / x as x.reciprocal() * c: 0.5 / 2e-39 is ∞ there (1/x overflows)."""
    values = [2.0, 2e-39, -2e-39, 0.0, -0.0, np.inf, 1e-20, 3e-39]
    for c in (0.5, 2.0, 0.0, -3.0):
        mine, ref = run_both(lambda x: c / x, lambda x: c / x, values)
        assert_same(mine[0], ref[0], signed_zeros=True)
        assert_same(mine[1], ref[1])


# ---------------------------------------------------------------------------------------------
# 4. x ** number: torch's exact kernels (√, 1/√, a·a, …), forward and backward
# ---------------------------------------------------------------------------------------------
SPECIAL = [-np.inf, -3.0, -1.0, -0.0, 0.0, 1e-45, 0.5, 2.0, 1e20, np.inf, np.nan]


def test_pow_number_exponent_special_values_like_torch():
    """torch computes x ** 0.5 as √x, x ** −0.5 as 1/√x, x ** 2 as x·x, …: √−0 = −0 (pow: +0),
    1/√−0 = −∞ (pow: +∞), √−∞ = NaN (pow: +∞); and the backward's x ** (b − 1) likewise."""
    for dtype in (np.float32, np.float64):
        for exponent in (0.5, -0.5, 2, -1, -2, 3, 0, 1, 1.5, 2.5, -1.5, 4):
            mine, ref = run_both(lambda x: x ** exponent, lambda x: x ** exponent, SPECIAL, dtype)
            assert_same(mine[0], ref[0], signed_zeros=True)
            assert_same(mine[1], ref[1])


def test_pow_tensor_exponent_special_values_like_torch():
    """A tensor exponent runs C's pow in torch, even a 0-d one: (−∞)^0.5 = +∞, (−0)^0.5 = +0
    (numpy's √ shortcut for a broadcast exponent 0.5 gives NaN and −0)."""
    torch = _torch()
    for shape in ((), (1,), (len(SPECIAL),)):
        for exponent in (0.5, 1.5, -0.5, 2.0):
            e = np.full(shape, exponent, np.float32)
            mine, ref = run_both(lambda x: x ** Tensor(e), lambda x: x ** torch.tensor(e), SPECIAL)
            assert_same(mine[0], ref[0], signed_zeros=True)
            assert_same(mine[1], ref[1])


def test_clamp_keeps_a_value_equal_to_its_limit_like_torch():
    """torch's clamp returns x itself where x equals a limit: −0 clamped at max=0 stays −0, so
    1/out and log's gradient keep their sign (numpy's clip returned the limit, +0)."""
    values = [-0.0, 0.0, -1.0, 1.0, np.nan, 0.5]
    for low, high in ((None, 0.0), (0.0, None), (-0.0, None), (None, -0.0), (-0.0, 0.0),
                      (0.0, 1.0), (-1.0, 0.0), (2.0, 1.0), (0.5, 0.0), (0.0, -0.5)):
        mine, ref = run_both(lambda x: 1 / x.clamp(low, high), lambda x: 1 / x.clamp(low, high),
                             values)
        assert_same(mine[0], ref[0], signed_zeros=True)
        assert_same(mine[1], ref[1])


# ---------------------------------------------------------------------------------------------
# 5. elu's gradient from the input: α·eˣ, not out + α
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("alpha", [1.0, 0.5, 2.0])
def test_elu_gradient_for_very_negative_inputs_like_torch(alpha):
    torch = _torch()
    values = [-100.0, -30.0, -1e-30, -0.0, 0.0, -np.inf, np.inf, np.nan, 1.0]
    mine, ref = run_both(lambda x: F.elu(x, alpha),
                         lambda x: torch.nn.functional.elu(x, alpha), values)
    assert_same(mine[0], ref[0], signed_zeros=True)
    assert_same(mine[1], ref[1])
    assert mine[1][0] > 0      # α·e⁻¹⁰⁰ ≈ 3.7e-44·α, a float32 subnormal, not 0


def test_elu_nan_input_gradient_follows_torch_kernels():
    """A NaN input: torch's element-by-element kernel passes g, its vectorised one (blocks of
    two CPU vectors along contiguous memory) gives NaN; the split depends on the layout."""
    torch = _torch()
    from tinygrad_edu.ops import activation
    width = {"AVX512": 64, "AVX2": 32}.get(torch.backends.cpu.get_cpu_capability())
    if width != activation._SIMD_BYTES:
        pytest.skip("torch runs other vector kernels here than numpy's CPU features suggest")
    rng = np.random.default_rng(0)
    # summing the result over `dims` makes the incoming g a broadcast view (stride 0 there),
    # in both libraries
    for dtype in (np.float32, np.float64):
        for shape, dims in (((7,), None), ((40,), None), ((100,), None), ((2, 16), 0),
                            ((2, 16), (0, 1)), ((2, 2, 4, 4), None), ((3, 33), 1)):
            x = rng.standard_normal(shape).astype(dtype)
            x[rng.random(shape) < 0.4] = np.nan
            grads = []
            for lib, make, elu in (("tg", Tensor, F.elu), ("torch", torch.tensor,
                                                          torch.nn.functional.elu)):
                leaf = make(x, requires_grad=True)
                out = elu(leaf) if dims is None else elu(leaf).sum(dims)
                w = np.random.default_rng(1).standard_normal(out.shape).astype(dtype)
                out.backward(make(w))
                grads.append(leaf.grad if lib == "tg" else leaf.grad.numpy())
            assert_same(*grads)


def test_sigmoid_underflows_to_zero_like_torch():
    """torch computes σ(x) = 1/(1 + e⁻ˣ): exactly 0 once e⁻ˣ overflows (x < −88.7 in float32),
    where eˣ/(1 + eˣ) gives subnormals; log σ and the gradient through a log follow."""
    torch = _torch()
    values = [-80.0, -88.0, -88.8, -90.0, -101.3, -104.0, 20.0, 100.0, np.nan, -np.inf, np.inf]
    for dtype, extra in ((np.float32, []), (np.float64, [-700.0, -709.0, -720.0, -745.5])):
        mine, ref = run_both(lambda x: x.sigmoid(), lambda x: x.sigmoid(), values + extra, dtype)
        assert_same(mine[0], ref[0])
        assert_same(mine[1], ref[1])
        mine, ref = run_both(lambda x: x.sigmoid().log(), lambda x: x.sigmoid().log(),
                             values + extra, dtype)
        assert_same(mine[0], ref[0])
        assert_same(mine[1], ref[1])
    # the fuzzer's case: σ(log 1e-44) = σ(−101.3) is 0 in torch, so the gradient is 0
    mine, ref = run_both(lambda x: x.log().sigmoid(), lambda x: x.log().sigmoid(), [9.8e-45])
    assert_same(mine[1], ref[1])


# ---------------------------------------------------------------------------------------------
# 6. var / std with correction ≥ N: torch's forward divides by max(0, N − c), its backward by
#    N − c (dims named) or gives NaN/∞ (dim=None)
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("op", ["var", "std"])
def test_var_std_correction_at_least_count_with_dim_like_torch(op):
    """One element with correction 2: torch's value is NaN (0/max(0, 1 − 2)) but its gradient
    2/(1 − 2)·g·0 = −0, not NaN; N = correction gives 2/0 = ∞ times g·(x − x̄)."""
    for values, dim in (([5.0], 0), ([5.0, 6.0], 0), ([5.0, 5.0], 0), ([[1.0, 2.0], [3.0, 3.0]], 1),
                        ([[1.0], [3.0]], 1), ([5.0, 6.0, 8.0], 0)):
        for correction in (1, 2, 3):
            mine, ref = run_both(lambda x: getattr(x, op)(dim, correction=correction),
                                 lambda x: getattr(x, op)(dim, correction=correction), values,
                                 upstream=0.7)
            assert_same(mine[0], ref[0])
            assert_same(mine[1], ref[1])


@pytest.mark.parametrize("fn", [reduce.VarFn, reduce.StdFn])
@pytest.mark.parametrize("dims", [None, ()], ids=["None", "empty"])
@pytest.mark.parametrize("correction", [1, 2, 3])
def test_var_std_fn_dim_none_and_empty_rules_like_torch(fn, dims, correction):
    """VarFn/StdFn take torch's dim=None as dims=None and its dim=() as dims=(): both reduce
    every axis, but their backward differ where N ≤ correction. dim=None: g·NaN where x = x̄
    and g·∞ elsewhere (not 2/(N − c)·g·(x − x̄)); dim=(): torch's backward takes N = 1."""
    torch = _torch()
    torch_op = getattr(torch, "var" if fn is reduce.VarFn else "std")
    for values in ([5.0], [5.0, 6.0], [np.inf, 1.0], [np.nan, 1.0], 7.0, [[5.0, 6.0, 8.0]],
                   [0.0, 0.0], np.full((3, 3, 4), np.float32(1.2734375) ** 4)):
        mine, ref = run_both(lambda x: fn.apply(x, dims, False, correction),
                             lambda x: torch_op(x, dim=dims, correction=correction), values,
                             upstream=0.7)
        assert_same(mine[0], ref[0])
        assert_same(mine[1], ref[1])


def test_an_ellipsis_for_no_axes_does_not_separate_index_arrays():
    """numpy puts the arrays' axis first when `...` stands between them, even a `...` for no
    axes; PyTorch does not: zeros(1, 1, 1)[:0, [0], ..., [0]] is (0, 1), not numpy's (1, 0)."""
    torch = _torch()
    a = np.arange(6.0).reshape(1, 2, 3)
    for index in ((slice(None, 0), [0], Ellipsis, [0]), (slice(None), [1], Ellipsis, [0, 2]),
                  ([0], Ellipsis, slice(None), [2]), (Ellipsis, [0], [1])):
        mine = Tensor(a)[tuple(np.array(i) if isinstance(i, list) else i for i in index)]
        ref = torch.tensor(a)[tuple(torch.tensor(i) if isinstance(i, list) else i for i in index)]
        assert mine.shape == tuple(ref.shape), index
        np.testing.assert_array_equal(mine.data, ref.numpy())


def test_relu_keeps_negative_zero_like_torch():
    """torch.relu sets only x < 0 to 0: relu(−0) is −0, so 1/relu(x) is −∞ there."""
    mine, ref = run_both(lambda x: 1 / x.relu(), lambda x: 1 / x.relu(),
                         [-0.0, 0.0, -1.0, 2.0, np.nan, -np.inf])
    assert_same(mine[0], ref[0], signed_zeros=True)
    assert_same(mine[1], ref[1])
