"""The arithmetic behind one backward step, written out with its numbers (used by explain).

- `expressions`: for the common ops, what each input receives as a formula in the names of the
  graph, with the numbers substituted when they are small: `∂f/∂q += g·z = 1·(-4) = -4`.
- `conv_sums`: for a convolution on small inputs, every ∂W entry (and ∂b, ∂X entry) as its
  written-out sum, the slides' `∂W11 = X11·∂h11 + X12·∂h12 + X21·∂h21 + X22·∂h22 = … = 9.5`.
- `pool_routes`: for a max-pool, where each pooled gradient goes (its window's argmax).

>>> import numpy as np
>>> import tinygrad_edu as tg
>>> import tinygrad_edu.nn.functional as F
>>> X = tg.Tensor(np.arange(1.0, 10.0).reshape(1, 1, 3, 3))
>>> W = tg.Tensor(np.array([[[[1.0, 2.0], [3.0, 4.0]]]]), requires_grad=True)
>>> h = F.conv2d(X, W)
>>> trace = tg.explain(h, gradient=np.array([[[[1.0, -1.0], [2.0, 0.5]]]]),
...                    names={"X": X, "W": W, "h": h}, print_steps=False)
>>> print(trace[0].details[0])
∂W11 = X11·∂h11 + X12·∂h12 + X21·∂h21 + X22·∂h22 = 1·1 + 2·(-1) + 4·2 + 5·0.5 = 9.5
"""

from __future__ import annotations

import itertools

import numpy as np

from .display import format_value

__all__ = ["expressions", "number_arguments", "conv_sums", "pool_routes", "MAX_TERMS"]

MAX_TERMS = 16       # a sum with more terms than this is not written out
MAX_ENTRIES = 40     # nor are more entries than this (∂W of a big kernel)
SMALL = 4            # operands with at most this many elements are substituted by their numbers

# What input i of each op receives, in the names of the graph: {g} the incoming gradient,
# {out} the op's result, {0}, {1}, … its tensor arguments by position.
TEMPLATES = {
    "AddFn": ("{g}", "{g}"),
    "SubFn": ("{g}", "−{g}"),
    "MulFn": ("{g}·{1}", "{g}·{0}"),
    "DivFn": ("{g}/{1}", "−{g}·{0}/{1}²"),
    "NegFn": ("−{g}",),
    "PowFn": ("{g}·{1}·{0}^({1}−1)", "{g}·{out}·ln {0}"),
    "ExpFn": ("{g}·{out}",),
    "LogFn": ("{g}/{0}",),
    "SqrtFn": ("{g}/(2·{out})",),
    "ReLUFn": ("{g}·[{0} > 0]",),
    "SigmoidFn": ("{g}·{out}·(1 − {out})",),
    "TanhFn": ("{g}·(1 − {out}²)",),
    "MatMulFn": ("{g}·{1}ᵀ", "{0}ᵀ·{g}"),
    "LinearFn": ("{g}·{1}", "{g}ᵀ·{0}", "Σ_rows {g}"),
    "CrossEntropyFn": ("{g}·(softmax({0}) − onehot(target)) / N",),
}


def _number(value) -> str:
    text = format_value(value, SMALL)
    return f"({text})" if text.startswith("-") and np.ndim(value) == 0 else text


def number_arguments(ctx, names: list, values: list) -> None:
    """Put the number arguments an op kept (x ** 2 keeps its exponent) among the names and
    values, so that formulas can show them."""
    exponent = getattr(ctx, "exponent", None)
    if exponent is not None and len(names) > 1 and names[1] is None:
        names[1] = format_value(np.asarray(exponent))
        values[1] = np.asarray(exponent)


def _fill(template: str, values: dict) -> str:
    for key, value in values.items():
        template = template.replace("{" + key + "}", value)
    return template


def expressions(op: str, output: str, out_value, names: list, values: list, grad_out,
                grads: list) -> list:
    """For each tensor argument: 'formula = numbers = result', 'formula' or '' (no template).

    names/values/grads: per forward argument (None where it is not a tensor / has no gradient).
    """
    template = TEMPLATES.get(op)
    result = []
    for position, grad in enumerate(grads):
        if template is None or position >= len(template) or grad is None:
            result.append("")
            continue
        text = template[position]
        needed = {"g": grad_out, "out": out_value}
        needed.update({str(i): v for i, v in enumerate(values)})
        symbols = {"g": "g", "out": output}
        symbols.update({str(i): n for i, n in enumerate(names) if n is not None})
        keys = [k for k in needed if "{" + k + "}" in text]
        if any(k not in symbols or needed[k] is None for k in keys):
            result.append("")  # refers to a non-tensor argument (x ** 2): no formula
            continue
        symbolic = _fill(text, {k: symbols[k] for k in keys})
        small = all(np.size(needed[k]) <= SMALL and np.ndim(needed[k]) <= 1 for k in keys)
        if small and np.size(grad) <= SMALL and op != "CrossEntropyFn":
            numbers = _fill(text, {k: _number(needed[k]) for k in keys})
            if numbers != symbolic and len(keys) > 1:  # "g = 3 = 3" says nothing
                symbolic = f"{symbolic} = {numbers}"
        result.append(symbolic)
    return result


# ---------------------------------------------------------------------------------------------
# Convolution: every entry as its sum
# ---------------------------------------------------------------------------------------------
def _indexer(name: str, slide: bool):
    """X[n,c,i,j] as 'X12' (slide notation, 1-based, when batch and channels are 1) or
    'X[0,0,0,1]' (numpy's)."""
    if slide:
        return lambda idx: f"{name}{idx[-2] + 1}{idx[-1] + 1}"
    return lambda idx: f"{name}[{','.join(str(int(i)) for i in idx)}]"


def _sum_line(target: str, terms: list, value) -> str:
    """'∂W11 = X11·∂h11 + … = 1·1 + … = 9.5' from terms (symbol, number text)."""
    if not terms:
        return f"{target} = 0 (no output position uses it)"
    symbols = " + ".join(s for s, _ in terms)
    numbers = " + ".join(n for _, n in terms)
    return f"{target} = {symbols} = {numbers} = {format_value(value)}"


def conv_sums(ctx, names: list, values: list, output: str, grad_out, grads: list) -> list:
    """Each ∂W, ∂b (and ∂X) entry of a Conv2dFn step as its written-out sum, when small."""
    geo = getattr(ctx, "geo", None)
    if geo is None or len(values) < 2 or values[0] is None or values[1] is None:
        return []
    x, w, g = np.asarray(values[0]), np.asarray(values[1]), np.asarray(grad_out)
    if x.ndim != 4 or w.ndim != 4 or g.ndim != 4:
        return []
    n_, c_, height, width = x.shape
    o_, cg, kh, kw = w.shape
    _, _, oh, ow = g.shape
    (sh, sw), (ph, pw), (dh, dw), groups = geo.stride, geo.padding, geo.dilation, geo.groups
    if n_ * o_ * oh * ow * cg * kh * kw > 20_000:
        return []
    slide = n_ == 1 and c_ == 1 and o_ == 1 and max(height, width, kh, kw) < 10
    xname, wname = names[0] or "X", names[1] or "W"
    X, Wt = _indexer(xname, slide), _indexer(wname, slide)
    H = _indexer("∂" + output, slide)
    per_group = o_ // groups
    dw_terms, dx_terms = {}, {}
    for n, o, i, j, c, m, k in itertools.product(range(n_), range(o_), range(oh), range(ow),
                                                 range(cg), range(kh), range(kw)):
        ih, iw = i * sh + m * dh - ph, j * sw + k * dw - pw
        if not (0 <= ih < height and 0 <= iw < width):
            continue  # a zero of the padding: contributes nothing
        channel = (o // per_group) * cg + c
        h_idx, x_idx, w_idx = (n, o, i, j), (n, channel, ih, iw), (o, c, m, k)
        dw_terms.setdefault(w_idx, []).append(
            (f"{X(x_idx)}·{H(h_idx)}", f"{_number(x[x_idx])}·{_number(g[h_idx])}"))
        dx_terms.setdefault(x_idx, []).append(
            (f"{Wt(w_idx)}·{H(h_idx)}", f"{_number(w[w_idx])}·{_number(g[h_idx])}"))
    lines = []
    if grads[1] is not None and w.size <= MAX_ENTRIES and \
            all(len(t) <= MAX_TERMS for t in dw_terms.values()):
        for w_idx in np.ndindex(*w.shape):
            lines.append(_sum_line("∂" + Wt(w_idx), dw_terms.get(w_idx, []), grads[1][w_idx]))
    if len(grads) > 2 and grads[2] is not None and n_ * oh * ow <= MAX_TERMS and o_ <= 8:
        bname = names[2] or "b"
        for o in range(o_):
            terms = [(H((n, o, i, j)), _number(g[n, o, i, j]))
                     for n, i, j in itertools.product(range(n_), range(oh), range(ow))]
            target = f"∂{bname}{o + 1}" if slide else f"∂{bname}[{o}]"
            lines.append(_sum_line(target, terms, grads[2][o]))
    if grads[0] is not None and x.size <= MAX_ENTRIES and \
            all(len(t) <= MAX_TERMS for t in dx_terms.values()):
        for x_idx in np.ndindex(*x.shape):
            lines.append(_sum_line("∂" + X(x_idx), dx_terms.get(x_idx, []), grads[0][x_idx]))
    return lines


# ---------------------------------------------------------------------------------------------
# Max-pooling: where each gradient goes
# ---------------------------------------------------------------------------------------------
def pool_routes(ctx, names: list, values: list, output: str, grad_out, grads: list) -> list:
    """For a MaxPool2dFn step: '∂h11 = 0.5 → X22 (= 5, the maximum of its window)' per output."""
    saved = getattr(ctx, "saved_tensors", ())
    if not saved or values[0] is None or grads[0] is None:
        return []
    x, g = np.asarray(values[0]), np.asarray(grad_out)
    idx = np.asarray(saved[0]).reshape(g.shape)
    if g.size > MAX_ENTRIES:
        return []
    width = x.shape[-1]
    slide = x.ndim == 4 and x.shape[0] == 1 and x.shape[1] == 1 or x.ndim == 3 and x.shape[0] == 1
    slide = slide and max(x.shape[-2:]) < 10
    X, H = _indexer(names[0] or "X", slide), _indexer("∂" + output, slide)
    lines, arrivals = [], {}
    for pos in np.ndindex(*g.shape):
        ih, iw = divmod(int(idx[pos]), width)
        x_pos = pos[:-2] + (ih, iw)
        arrivals.setdefault(x_pos, []).append(H(pos))
        lines.append(f"{H(pos)} = {_number(g[pos])} → {X(x_pos)} "
                     f"(= {_number(x[x_pos])}, the maximum of its window)")
    for x_pos, sources in arrivals.items():
        if len(sources) > 1:  # overlapping windows that share their maximum
            lines.append(f"∂{X(x_pos)} = {' + '.join(sources)} = "
                         f"{_number(grads[0][x_pos])} (windows share this maximum)")
    lines.append(f"every other entry of ∂{names[0] or 'X'} is 0: it was no window's maximum")
    return lines


DETAILS = {"Conv2dFn": conv_sums, "MaxPool2dFn": pool_routes}
