"""Vector norms and einsum (which also gives dot, outer, trace and every matmul-like product).
"""

from __future__ import annotations

import numpy as np

from ..function import Function
from .elementwise import zero_where


class NormFn(Function):
    """out = ‖x‖_p over `dims`: (Σ |x_i|^p)^{1/p};  p = ∞: max |x_i|.

    ∂‖x‖_p/∂x_i = sign(x_i) · |x_i|^{p−1} / ‖x‖^{p−1}, so
      p = 2:  ∂L/∂x = g · x / ‖x‖            (0 where ‖x‖ = 0, as PyTorch)
      p = 1:  ∂L/∂x = g · sign(x)
      p = ∞:  ∂L/∂x = g · sign(x_i) on the elements where |x_i| is the max, shared evenly
              among ties.

    Shapes: x: (…);  out, g: x's shape without `dims` (size 1 there with keepdim);  ∂L/∂x: x's.
    """

    rule = "∂‖x‖_p/∂x = sign(x)·|x|^(p−1)/‖x‖^(p−1): for p = 2 that is g·x/‖x‖"

    @staticmethod
    def forward(ctx, x, p, dims, keepdim):
        ctx.p, ctx.dims, ctx.keepdim = p, dims, keepdim
        a = np.abs(x)
        if p == np.inf:
            out = np.max(a, axis=dims, keepdims=True, initial=0)
        elif p == 2:
            out = np.sqrt(np.sum(a * a, axis=dims, keepdims=True))
        elif p == 1:
            out = np.sum(a, axis=dims, keepdims=True)
        else:
            out = np.sum(a ** p, axis=dims, keepdims=True) ** (1.0 / p)
        out = out.astype(x.dtype, copy=False)
        ctx.save_for_backward(x, out)
        return out if keepdim else np.squeeze(out, axis=dims)

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        p = ctx.p
        if not ctx.keepdim:
            g = np.expand_dims(g, ctx.dims)
        if p == 1:
            return g * np.sign(x), None, None, None
        if p == np.inf:
            at_max = np.abs(x) == out
            share = at_max / np.maximum(np.sum(at_max, axis=ctx.dims, keepdims=True), 1)
            return g * np.sign(x) * share, None, None, None
        zero = out == 0
        safe = np.where(zero, 1, out)
        local = x / safe if p == 2 else np.sign(x) * np.abs(x) ** (p - 1) / safe ** (p - 1)
        return zero_where(zero, g * local), None, None, None


def parse_einsum(equation: str, ndims: list) -> tuple:
    """'ij,jk->ik' → (['ij', 'jk'], 'ik'). Without '->', the output is every letter that
    appears once, in alphabetical order (numpy's and PyTorch's implicit mode). '...' stands for
    the leading axes that the letters do not name; it becomes capital letters here, aligned
    from the right ('...ij' of a 4-D operand is 'ABij'), and leads the implicit output."""
    equation = equation.replace(" ", "")
    inputs, arrow, output = equation.partition("->")
    subscripts = inputs.split(",")
    if len(subscripts) != len(ndims):
        raise ValueError(f"einsum: {equation!r} names {len(subscripts)} operands, "
                         f"got {len(ndims)}")
    spare = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in equation]
    extra = [ndim - len(sub.replace("...", "")) if "..." in sub else 0
             for sub, ndim in zip(subscripts, ndims)]
    ellipsis = "".join(spare[:max(extra + [0])])
    expanded = []
    for sub, ndim, n in zip(subscripts, ndims, extra):
        if n < 0 or sub.count("...") > 1:
            raise ValueError(f"einsum: subscript {sub!r} of {equation!r} does not match an "
                             f"operand with {ndim} dimensions")
        sub = sub.replace("...", ellipsis[len(ellipsis) - n:])
        if len(sub) != ndim or not (sub.isalpha() or sub == ""):
            raise ValueError(f"einsum: subscript {sub!r} of {equation!r} does not match an "
                             f"operand with {ndim} dimensions")
        expanded.append(sub)
    letters = "".join(expanded)
    if arrow:
        output = output.replace("...", ellipsis)
    else:
        output = ellipsis + "".join(sorted(c for c in set(letters) if letters.count(c) == 1
                                           and c not in ellipsis))
    if any(c not in letters for c in output) or len(set(output)) != len(output):
        raise ValueError(f"einsum: output {output!r} of {equation!r} must name distinct letters "
                         "of the inputs")
    return expanded, output


class EinsumFn(Function):
    """out = einsum(equation, x₁, x₂, …): multiply the operands letter by letter and sum over
    every letter that the output does not name. Examples:
      'ij,jk->ik'  matmul   out_ik = Σ_j a_ij b_jk      'bij,bjk->bik'  bmm
      'i,i->'      dot      out = Σ_i a_i b_i           'i,j->ij'       outer  out_ij = a_i b_j
      'ii->'       trace    out = Σ_i a_ii

    ∂L/∂x_k is an einsum too: g times all the other operands, summed over every letter that x_k
    does not name ('ij,jk->ik' gives ∂L/∂a = einsum('ik,jk->ij', g, b) = g · bᵀ). A letter only x_k
    has is broadcast back over its size; an axis of size 1 that was broadcast is summed; a
    repeated letter (the diagonal of 'ii') is written onto that diagonal, zeros elsewhere.

    Shapes: as the equation says; g: the output's.
    """

    rule = "∂einsum/∂x_k = einsum of g with the other operands onto x_k's letters"

    @staticmethod
    def forward(ctx, equation, *operands):
        subscripts, output = parse_einsum(equation, [op.ndim for op in operands])
        ctx.subscripts, ctx.output = subscripts, output
        ctx.save_for_backward(*operands)
        return np.einsum(f"{','.join(subscripts)}->{output}", *operands)

    @staticmethod
    def backward(ctx, g):
        operands = ctx.saved_tensors
        sizes = {}  # each letter's size in the product: the largest (size-1 axes broadcast)
        for sub, op in zip(ctx.subscripts, operands):
            for c, n in zip(sub, op.shape):
                sizes[c] = max(sizes.get(c, 1), n)
        grads = [None]
        for k, (sub, op) in enumerate(zip(ctx.subscripts, operands)):
            if not ctx.needs_input_grad[k + 1]:
                grads.append(None)
                continue
            others = [(s, o) for i, (s, o) in enumerate(zip(ctx.subscripts, operands)) if i != k]
            reachable = set(ctx.output).union(*(s for s, _ in others))
            letters = "".join(dict.fromkeys(sub))  # x_k's letters, each once, in order
            kept = "".join(c for c in letters if c in reachable)
            spec = ",".join([ctx.output] + [s for s, _ in others]) + "->" + kept
            partial = np.einsum(spec, g, *(o for _, o in others))
            # letters only x_k has (summed away in forward): broadcast back over their size
            got = iter(partial.shape)
            partial = partial.reshape([next(got) if c in kept else 1 for c in letters])
            partial = np.broadcast_to(partial, [sizes[c] for c in letters])
            own = dict(zip(sub, op.shape))
            broadcast = tuple(i for i, c in enumerate(letters) if own[c] == 1 != sizes[c])
            if broadcast:  # x_k's size-1 axis met a longer one: sum over the copies
                partial = partial.sum(axis=broadcast, keepdims=True)
            if letters == sub:
                grad = np.array(partial, dtype=g.dtype)
            else:  # a repeated letter: write onto the diagonal (einsum gives a writable view)
                grad = np.zeros(op.shape, dtype=g.dtype)
                np.einsum(f"{sub}->{letters}", grad)[...] = partial
            grads.append(grad)
        return tuple(grads)
