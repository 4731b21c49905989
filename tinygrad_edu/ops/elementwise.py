"""Elementwise arithmetic: forward and backward of each op side by side.

Shapes: inputs `a`, `b` broadcast (numpy rules) to the output shape; each backward returns
gradients of that broadcast shape and the engine sums them back to each input's own shape.
`g` is always ∂L/∂out, the gradient arriving from above.
"""

from __future__ import annotations

import numpy as np

from ..function import Function


def zero_where(drop, g):
    """np.where(drop, 0, g): g with an exact 0 wherever `drop` is True (`drop` broadcasts to g).

    This is how a gradient is blocked (relu, clamp, max, …), as PyTorch does: an exact 0 even
    where g is ±∞ or NaN. Multiplying g by a 0/1 mask would give 0·∞ = NaN there, e.g. for
    x.clamp(min=0).sqrt() at x < 0, whose sqrt backward sends ∞.

    Computed on the bit patterns, because np.where decides element by element and is several
    times slower than a multiply on the random masks of relu: the float whose bits are all 0
    is +0.0, so AND-ing g's bits with all-zero bits (drop) gives 0 and with all-one bits (keep)
    gives g unchanged.
    """
    g = np.asarray(g)
    if g.dtype.itemsize not in (2, 4, 8):  # no integer type of that size to view the bits as
        return np.where(drop, 0, g).astype(g.dtype, copy=False)
    bits = g.view(f"i{g.itemsize}")                     # the same memory, read as integers
    mask = np.asarray(drop).astype(bits.dtype)          # 1 where drop, 0 elsewhere
    mask -= 1                                           # 0 where drop, −1 (all bits 1) elsewhere
    if mask.shape != g.shape:  # shapes differ (drop and g broadcast): AND into a new array
        return (bits & mask).view(g.dtype)
    mask &= bits
    return mask.view(g.dtype)


class AddFn(Function):
    """out = a + b.   ∂L/∂a = g,  ∂L/∂b = g.

    Shapes: a, b: broadcastable;  out, g, and the returned ∂L/∂a, ∂L/∂b: the broadcast shape
    (the engine sums each back to its input's shape).
    """

    rule = "∂(a+b)/∂a = 1,  ∂(a+b)/∂b = 1: a sum hands g on unchanged to both inputs"

    @staticmethod
    def forward(ctx, a, b):
        return np.add(a, b)

    @staticmethod
    def backward(ctx, g):
        return g, g


class SubFn(Function):
    """out = a − b.   ∂L/∂a = g,  ∂L/∂b = −g.

    Shapes: a, b: broadcastable;  out, g: the broadcast shape.
    """

    rule = "∂(a−b)/∂a = 1,  ∂(a−b)/∂b = −1: g to a, −g to b"

    @staticmethod
    def forward(ctx, a, b):
        return np.subtract(a, b)

    @staticmethod
    def backward(ctx, g):
        return g, (-g if ctx.needs_input_grad[1] else None)


class MulFn(Function):
    """out = a · b.   ∂L/∂a = g · b,  ∂L/∂b = g · a.

    Shapes: a, b: broadcastable;  out, g: the broadcast shape.

    >>> from tinygrad_edu import Tensor
    >>> a, b = Tensor([2.0], requires_grad=True), Tensor([3.0], requires_grad=True)
    >>> (a * b).sum().backward()
    >>> a.grad, b.grad            # ∂L/∂a = b, ∂L/∂b = a
    (array([3.], dtype=float32), array([2.], dtype=float32))
    """

    rule = "∂(a·b)/∂a = b,  ∂(a·b)/∂b = a: each factor gets g times the other factor"

    @staticmethod
    def forward(ctx, a, b):
        need_a, need_b = ctx.needs_input_grad
        # save only the factor each gradient needs (as PyTorch): x * 3 saves nothing of x, so
        # changing x in place afterwards is fine
        ctx.save_for_backward(a if need_b else None, b if need_a else None)
        return np.multiply(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        return (g * b if need_a else None), (g * a if need_b else None)


class DivFn(Function):
    """out = a / b.   ∂L/∂a = g / b,  ∂L/∂b = −g · (a/b) / b.

    ∂L/∂b is PyTorch's formula, −g·((a/b)/b): the same as −g·a/b², but b² is not formed, so it
    does not underflow or overflow where a/b itself is fine (d(x/x)/dx is exactly 0, also at
    x = 1e-34 or a subnormal x, where b·b would be 0).

    A number divided by a tensor, c / b, is computed as PyTorch does it: (1/b) · c, so
    out = r·c and ∂L/∂b = −(g·c) · r², with r = 1/b (that is why 0.5 / b can be ∞ where b is
    a tiny subnormal: 1/b overflows first).

    Saved, as PyTorch: b whenever a gradient is needed, a only for ∂L/∂b (so a / c with a
    constant c keeps only c); for c / b only r.

    Shapes: a, b: broadcastable;  out, g: the broadcast shape.
    """

    rule = ("∂(a/b)/∂a = 1/b,  ∂(a/b)/∂b = −(a/b)/b: the quotient rule, one input at a time "
            "(c / b for a number c: r = 1/b, ∂/∂b = −c·r²)")

    @staticmethod
    def forward(ctx, a, b):
        if not isinstance(a, np.ndarray):  # a number over a tensor: reciprocal, then multiply
            r = np.reciprocal(b)
            ctx.save_for_backward(r)
            ctx.numerator = a
            return r * a
        need_a, need_b = ctx.needs_input_grad
        ctx.save_for_backward(a if need_b else None, b)
        return np.divide(a, b)

    @staticmethod
    def backward(ctx, g):
        if len(ctx.saved_tensors) == 1:  # c / b, as (1/b)·c
            (r,) = ctx.saved_tensors
            return None, -(g * ctx.numerator) * (r * r)
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        return (g / b if need_a else None), (-g * ((a / b) / b) if need_b else None)


def _pow_number(a, e):
    """a ** e for a number e, computed as PyTorch's pow(Tensor, Scalar) does on the CPU.

    torch picks an exact operation for the common exponents: e = 0 → 1, 1 → a, 0.5 → √a,
    2 → a·a, 3 → a·a·a, −0.5 → 1/√a, −1 → 1/a, −2 → 1/(a·a); and pow otherwise. They differ from
    pow where the sign of a zero or an infinity decides: (−0)^0.5 = √−0 = −0 and (−∞)^0.5 =
    √−∞ = NaN, where pow gives +0 and +∞; (−0)^−0.5 = 1/√−0 = −∞ (pow: +∞).
    """
    if a.dtype.kind != "f":
        return np.power(a, e)  # integers: as numpy (a negative e raises, as in torch)
    if e == 0:
        return np.ones_like(a)
    if e == 1:
        return a.copy()
    if e == 0.5:
        return np.sqrt(a)
    if e == 2:
        return a * a
    if e == 3:
        return a * a * a
    if e == -0.5:
        return 1 / np.sqrt(a)
    if e == -1:
        return 1 / a
    if e == -2:
        return 1 / (a * a)
    return np.power(a, e)


def _pow_elementwise(a, b):
    """a ** b with a tensor exponent b: C's pow for every element, as PyTorch's
    pow(Tensor, Tensor) (and pow(number, Tensor)).

    numpy takes √a for an exponent 0.5 that is the same along a whole row (b of size 1, or
    broadcast), and √ differs from pow at −0 (√−0 = −0, pow: +0) and at −∞ (√−∞ = NaN,
    pow: +∞): those places get pow's value back.
    """
    out = np.power(a, b)
    half = np.equal(b, 0.5)
    if half.any():
        wrong = half & (np.equal(a, 0) | np.equal(a, -np.inf))
        if wrong.any():
            out = np.where(wrong, np.where(np.equal(a, 0), 0.0, np.inf), out).astype(
                out.dtype, copy=False)
    return out


class PowFn(Function):
    """out = aᵇ.   ∂L/∂a = g · b · aᵇ⁻¹,  ∂L/∂b = g · aᵇ · ln a  (0 where a = 0 and b ≥ 0).

    The edges, as PyTorch: where b = 0, ∂L/∂a is exactly 0 (a⁰ = 1 is constant), also at a = 0
    where b · aᵇ⁻¹ would be 0 · ∞ = NaN, and whatever g is. Where a = 0 and b ≥ 0, aᵇ · ln a is
    replaced by its limit 0 before g multiplies it (so g = ±∞ still gives NaN there, as torch).
    ln a of a negative a is NaN, so ∂L/∂b is NaN there, even for an integer b.

    A number exponent (x ** 2, x ** 0.5) is computed as torch computes it (`_pow_number`: √a
    for 0.5, a·a for 2, …), forward and backward alike (aᵇ⁻¹ = a^−0.5 = 1/√a for b = 0.5).

    Saved, as PyTorch: for a number exponent only a (aᵇ⁻¹ is recomputed in backward, so the
    result may be changed in place afterwards); for a tensor exponent (or a number base,
    2 ** x) a, b and the result aᵇ, which ∂L/∂b needs.

    Shapes: a, b: broadcastable (b is often a Python number);  out, g: the broadcast shape.
    """

    rule = "∂(aᵇ)/∂a = b·aᵇ⁻¹ (the power rule),  ∂(aᵇ)/∂b = aᵇ·ln a (the exponential rule)"

    @staticmethod
    def forward(ctx, a, b):
        if not isinstance(b, np.ndarray):  # a number exponent: torch's pow(Tensor, Scalar)
            ctx.save_for_backward(a)
            ctx.exponent = b
            return _pow_number(a, b)
        out = _pow_elementwise(a, b)
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, g):
        need_a, need_b = ctx.needs_input_grad
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            if len(ctx.saved_tensors) == 1:  # a number exponent b
                (a,) = ctx.saved_tensors
                b = ctx.exponent
                if b == 0:
                    return np.zeros_like(g), None
                return g * (b * _pow_number(a, b - 1)), None
            a, b, out = ctx.saved_tensors
            grad_a = grad_b = None
            if need_a:
                grad_a = g * (b * _pow_elementwise(a, b - 1))
                exponent_zero = np.equal(b, 0)
                if exponent_zero.any():
                    grad_a = zero_where(exponent_zero, grad_a)
            if need_b:
                # As PyTorch, the 0 replaces aᵇ·ln a before g multiplies it (so g = ∞ gives NaN)
                grad_b = g * zero_where(np.equal(a, 0) & np.greater_equal(b, 0),
                                        out * np.log(a).astype(out.dtype, copy=False))
        return grad_a, grad_b


class NegFn(Function):
    """out = −a.   ∂L/∂a = −g.

    Shapes: a, out, g: one shape.
    """

    rule = "∂(−a)/∂a = −1: the gradient flips sign"

    @staticmethod
    def forward(ctx, a):
        return np.negative(a)

    @staticmethod
    def backward(ctx, g):
        return -g


class ExpFn(Function):
    """out = eᵃ.   ∂L/∂a = g · eᵃ = g · out.

    Shapes: a, out, g: one shape.
    """

    rule = "∂(eᵃ)/∂a = eᵃ: the exponential is its own derivative, so ∂L/∂a = g · out"

    @staticmethod
    def forward(ctx, a):
        out = np.exp(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g * out


class LogFn(Function):
    """out = ln a.   ∂L/∂a = g / a.

    Shapes: a, out, g: one shape.
    """

    rule = "∂(ln a)/∂a = 1/a: g divided by the input (infinite at a = 0)"

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.log(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g / a


class SqrtFn(Function):
    """out = √a.   ∂L/∂a = g / (2·√a) = g / (2·out).

    Shapes: a, out, g: one shape.
    """

    rule = "∂(√a)/∂a = 1/(2√a): g divided by twice the output"

    @staticmethod
    def forward(ctx, a):
        out = np.sqrt(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g / (2 * out)


class AbsFn(Function):
    """out = |a|.   ∂L/∂a = g · sign(a)   (sign 0 at a = 0 and at a = NaN, as PyTorch).

    Shapes: a, out, g: one shape.
    """

    rule = "∂|a|/∂a = sign(a): g passes with the input's sign (0 at a = 0 or NaN)"

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.abs(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        # [a > 0] − [a < 0] is sign(a), but 0 at a NaN (where np.sign gives NaN), as torch.sgn
        return g * ((a > 0).astype(g.dtype) - (a < 0))


def _split_ties(g, a, b):
    """g, halved where a = b: on a tie max(a, b) and min(a, b) share g equally."""
    tie = np.equal(a, b)
    return np.where(tie, g * 0.5, g) if tie.any() else g


class MaximumFn(Function):
    """out = max(a, b) elementwise.   g goes to the larger input; a tie splits it g/2, g/2.
    As a formula (PyTorch's): h = g/2 where a = b, else g;  ∂L/∂a = h, but exactly 0 where
    a < b;  ∂L/∂b = h, but exactly 0 where a > b. So where a or b is NaN (out is NaN, and
    neither is smaller) both inputs receive g.

    Shapes: a, b: broadcastable;  out, g: the broadcast shape.
    """

    rule = ("∂max(a,b)/∂a = [a > b] (½ on a tie),  ∂max(a,b)/∂b = [b > a] (½ on a tie): "
            "g goes to the larger input (to both where one is NaN)")

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.maximum(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        h = _split_ties(g, a, b)
        return (zero_where(np.less(a, b), h) if need_a else None,
                zero_where(np.greater(a, b), h) if need_b else None)


class MinimumFn(Function):
    """out = min(a, b) elementwise.   g goes to the smaller input; a tie splits it g/2, g/2.
    As a formula (PyTorch's): h = g/2 where a = b, else g;  ∂L/∂a = h, but exactly 0 where
    a > b;  ∂L/∂b = h, but exactly 0 where a < b. So where a or b is NaN (out is NaN, and
    neither is larger) both inputs receive g.

    Shapes: a, b: broadcastable;  out, g: the broadcast shape.
    """

    rule = ("∂min(a,b)/∂a = [a < b] (½ on a tie),  ∂min(a,b)/∂b = [b < a] (½ on a tie): "
            "g goes to the smaller input (to both where one is NaN)")

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.minimum(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        h = _split_ties(g, a, b)
        return (zero_where(np.greater(a, b), h) if need_a else None,
                zero_where(np.less(a, b), h) if need_b else None)


class ClipFn(Function):
    """out = min(max(a, low), high).   ∂L/∂a = g where low ≤ a ≤ high, else exactly 0
    (also where g is ±∞ or NaN, and where a is NaN; as PyTorch).

    A value equal to a limit stays itself, as in torch: so −0 clamped at 0 stays −0 (and +0
    clamped at −0 stays +0), where numpy's clip hands back the limit (1/out is −∞, not +∞).
    With low > high everything becomes high, as in torch and numpy.

    Shapes: a, out, g: one shape;  low, high: numbers or None (no limit).
    """

    rule = "∂clip(a)/∂a = [low ≤ a ≤ high]: g passes where the value was not clipped, 0 elsewhere"

    @staticmethod
    def forward(ctx, a, low, high):
        ctx.save_for_backward(a)
        ctx.low, ctx.high = low, high
        out = np.clip(a, low, high)
        if (low == 0 or high == 0) and a.dtype.kind == "f" and (
                low is None or high is None or low <= high):  # a zero limit: ±0 ties
            tie = (a == 0) & (out == 0)
            if tie.any():
                out = np.where(tie, a, out)
        return out

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        low, high = ctx.low, ctx.high
        if low is not None and high is not None:
            inside = (a >= low) & (a <= high)
        else:
            inside = a >= low if low is not None else a <= high
        return zero_where(~inside, g), None, None  # ~inside: also where a is NaN


class WhereFn(Function):
    """out = a where cond else b.   ∂L/∂a = g·cond,  ∂L/∂b = g·(not cond).

    Shapes: cond, a, b: broadcastable;  out, g: the broadcast shape;  cond gets no gradient.
    """

    rule = ("∂where(c,a,b)/∂a = c,  ∂where(c,a,b)/∂b = not c: "
            "g is routed to the branch that was picked")

    @staticmethod
    def forward(ctx, cond, a, b):
        ctx.save_for_backward(cond)
        return np.where(cond, a, b)

    @staticmethod
    def backward(ctx, g):
        (cond,) = ctx.saved_tensors
        zero = np.zeros((), dtype=g.dtype)
        return None, np.where(cond, g, zero), np.where(cond, zero, g)


class CastFn(Function):
    """out = a converted to another float dtype.   ∂L/∂a = g converted back.

    Shapes: a, out, g: one shape.
    """

    rule = "∂cast(a)/∂a = 1: g is converted back to a's dtype"

    @staticmethod
    def forward(ctx, a, dtype):
        ctx.input_dtype = a.dtype
        return a.astype(dtype)

    @staticmethod
    def backward(ctx, g):
        return g.astype(ctx.input_dtype), None
