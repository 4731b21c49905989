"""Matrix product, numpy's `@` rules (batched, broadcasting batch axes, 1-D operands)."""

from __future__ import annotations

import numpy as np

from ..function import Function


def _swap_last(m):
    return np.swapaxes(m, -1, -2)


class MatMulFn(Function):
    """out = a @ b.   ∂L/∂a = g @ bᵀ,  ∂L/∂b = aᵀ @ g.

    Shapes: a: (…, n, k),  b: (…, k, m),  out and g: (…, n, m);
    ∂L/∂a = g @ bᵀ: (…, n, k),   ∂L/∂b = aᵀ @ g: (…, k, m).

    A 1-D a is a row (1, k) and a 1-D b a column (k, 1) for the formulas; the extra axis is
    removed again afterwards. Broadcast batch axes are summed back by the engine.

    >>> import numpy as np
    >>> from tinygrad_edu import Tensor
    >>> a = Tensor(np.ones((2, 3)), requires_grad=True)
    >>> b = Tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
    >>> (a @ b).sum().backward()            # g = ones((2, 4))
    >>> a.grad                              # g @ bᵀ: each row holds the row sums of b
    array([[ 6., 22., 38.],
           [ 6., 22., 38.]])
    >>> b.grad.shape                        # aᵀ @ g
    (3, 4)
    """

    rule = ("∂out_ij/∂a_ik = b_kj,  ∂out_ij/∂b_kj = a_ik: summed over the outputs, "
            "∂L/∂a = g @ bᵀ and ∂L/∂b = aᵀ @ g")

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.matmul(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        a2 = a[np.newaxis, :] if a.ndim == 1 else a
        b2 = b[:, np.newaxis] if b.ndim == 1 else b
        # Give g back the axes a 1-D operand dropped: shape (…, n, m) as in the formulas.
        batch = np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
        g = g.reshape(batch + (a2.shape[-2], b2.shape[-1]))
        grad_a = grad_b = None
        if need_a:
            grad_a = np.matmul(g, _swap_last(b2))
            if a.ndim == 1:
                grad_a = np.squeeze(grad_a, -2)
        if need_b:
            grad_b = np.matmul(_swap_last(a2), g)
            if b.ndim == 1:
                grad_b = np.squeeze(grad_b, -1)
        return grad_a, grad_b
