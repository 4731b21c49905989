# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 09 · The slides' numbers
#
# Every worked example of the course's five decks (`../shared/course/` in the project's
# workspace), computed again with tinygrad_edu and checked with `assert` against the number
# printed on the slide. Where a slide has a slip, the cell shows the slide's value, the
# correct one and why they differ.
#
# One convention runs through all of them: what deep learning calls *convolution* is a
# cross-correlation, the kernel is **not** flipped,
#
# $$h[i, j] = b + \sum_{m}\sum_{k} W[m, k]\; X[i\cdot S + m - P,\ j\cdot S + k - P].$$
#
# This is what `F.conv2d` computes, what PyTorch and Keras compute, and what the slides compute.

# %%
import numpy as np

import tinygrad_edu as tg
import tinygrad_edu.nn as nn
import tinygrad_edu.nn.functional as F
from tinygrad_edu import tutorial_utils as tu

args = tu.parse_args("The slides' numbers")
plt = tu.pyplot()
checks = {}     # name → True when our numbers equal the slide's
slips = []      # (deck, what, slide's value, correct value, why)


def conv(x, w, **kwargs):
    """conv2d of one single-channel image by one kernel (2-D numpy arrays), as a 2-D array."""
    x = tg.Tensor(np.asarray(x, dtype=np.float64)[None, None])
    w = tg.Tensor(np.asarray(w, dtype=np.float64)[None, None])
    return F.conv2d(x, w, **kwargs).numpy()[0, 0]


def num(v):
    """A number as the slides write it: 3, −2, 0.5; negative ones in brackets inside a sum."""
    v = float(v)
    text = f"{v:g}".replace("-", "−")
    return f"({text})" if v < 0 else text


def check(name, ours, slide, slide_text=None):
    """Assert ours == the slide's numbers, remember it, and print both."""
    ours, slide = np.asarray(ours), np.asarray(slide)
    assert ours.shape == slide.shape and np.allclose(ours, slide), f"{name}: {ours} != {slide}"
    checks[name] = True
    as_ints = ours.astype(int) if np.all(ours == np.round(ours)) else ours
    print(f"✓ {name}: {as_ints.tolist()} (slide: {slide_text or slide.tolist()})")

# %% [markdown]
# ## 1 · The 1-D example (deck 1)
#
# Deck 1 defines $(f * g)(n) = \sum_t f(t)\, g(n + t)$ and works it out for $f = [a, b]$,
# $g = [w, x, y, z]$: $f * g = [aw + bx,\ ax + by,\ ay + bz]$. `F.conv1d` takes $g$ as the signal
# and $f$ as the kernel. With numbers, $a, b = 2, 3$ and $w, x, y, z = 5, 7, 11, 13$:

# %%
a, b = 2, 3
w_, x_, y_, z_ = 5, 7, 11, 13
out_1d = F.conv1d(tg.Tensor(np.array([[[w_, x_, y_, z_]]], dtype=np.float64)),
                  tg.Tensor(np.array([[[a, b]]], dtype=np.float64))).numpy()[0, 0]
by_hand = [a * w_ + b * x_, a * x_ + b * y_, a * y_ + b * z_]
for n, (value, (s1, s2)) in enumerate(zip(out_1d, [(w_, x_), (x_, y_), (y_, z_)])):
    print(f"(f*g)({n}) = a·{s1} + b·{s2} = {a}·{s1} + {b}·{s2} = {value:g}")
check("1-D example [aw+bx, ax+by, ay+bz]", out_1d, by_hand)

# %% [markdown]
# ## 2 · The cs231n demo: 7×7×3 input, two 3×3×3 filters (deck 1)
#
# A 5×5 image with three channels, padded with one ring of zeros (7×7×3), two filters W0, W1
# (3×3×3) with biases b0 = 1, b1 = 0, and a 3×3×2 output. The slide prints the arrays in
# NumPy's (height, width, channel) layout, `x[:, :, c]`; tinygrad_edu, like PyTorch, stores
# (channel, height, width), so `x[:, :, c]` of the slide is our `X[c]`.
#
# The text never says the stride, but only stride 2 turns the padded 7×7 into a 3×3 output:
# $W_2 = (5 - 3 + 2\cdot 1)/2 + 1 = 3$ (stride 1 would give 5×5).

# %%
X_demo = np.array([
    [[1, 2, 0, 0, 1], [2, 2, 0, 1, 0], [2, 2, 1, 2, 1], [0, 1, 1, 0, 2], [2, 1, 0, 2, 1]],   # x[:, :, 0]
    [[0, 2, 0, 0, 1], [1, 1, 0, 2, 2], [0, 1, 1, 0, 2], [1, 2, 0, 2, 0], [0, 2, 0, 1, 0]],   # x[:, :, 1]
    [[2, 2, 1, 0, 0], [2, 1, 0, 0, 1], [0, 2, 2, 2, 1], [1, 2, 1, 0, 2], [2, 1, 1, 1, 1]],   # x[:, :, 2]
], dtype=np.float64)
W_demo = np.array([
    [[[1, -1, -1], [-1, 0, 0], [-1, -1, 0]],       # w0[:, :, 0]
     [[-1, 0, 1], [-1, 0, 0], [-1, -1, -1]],       # w0[:, :, 1]
     [[-1, -1, 1], [0, 0, 0], [1, -1, -1]]],       # w0[:, :, 2]
    [[[0, 0, 1], [1, 1, 0], [0, 0, 0]],            # w1[:, :, 0]
     [[1, 0, 0], [1, -1, 1], [-1, 0, 0]],          # w1[:, :, 1]
     [[-1, 1, 0], [0, -1, 1], [1, 0, -1]]],        # w1[:, :, 2]
], dtype=np.float64)
b_demo = np.array([1.0, 0.0])
slide_o = np.array([[[-6, -7, -5], [-9, -6, -9], [3, -5, -8]],    # o[:, :, 0]
                    [[2, 3, -2], [7, 4, 1], [5, 5, 7]]])          # o[:, :, 1]

def demo(weights, stride=2):
    return F.conv2d(tg.Tensor(X_demo[None]), tg.Tensor(weights), tg.Tensor(b_demo),
                    stride=stride, padding=1).numpy()[0]

o_demo = demo(W_demo)
check("cs231n demo o[:, :, 0]", o_demo[0], slide_o[0])
check("cs231n demo o[:, :, 1]", o_demo[1], slide_o[1])
print("stride 1 would give", demo(W_demo, stride=1).shape[1:], "— only stride 2 gives the slide's 3×3")

# One output number written out: o[0, 0, 0] = b0 + the 27 products of W0 with the top-left
# 3×3×3 window of the padded input (the five that are not zero).
padded = np.pad(X_demo, ((0, 0), (1, 1), (1, 1)))
terms = [f"{num(W_demo[0, c, m, k])}·{num(padded[c, m, k])}" for c in range(3)
         for m in range(3) for k in range(3) if W_demo[0, c, m, k] and padded[c, m, k]]
print("o[0,0,0] = b0 + Σ W0·x = 1 + " + " + ".join(terms) + f" = {o_demo[0, 0, 0]:g}")
assert 1 + (W_demo[0] * padded[:, :3, :3]).sum() == o_demo[0, 0, 0] == -6

# %% [markdown]
# **Slip.** One of the deck's three copies of this demo prints the first row of `w0[:, :, 2]` as
# −1 1 1 instead of −1 −1 1. With that row the output is not the one the slide prints:

# %%
W_slip = W_demo.copy()
W_slip[0, 2, 0] = [-1, 1, 1]
o_slip = demo(W_slip)
wrong = np.argwhere(o_slip[0] != slide_o[0])
for i, j in wrong:
    print(f"o[{i},{j},0]: with the row −1 1 1 → {o_slip[0, i, j]:g}, the slide prints {slide_o[0, i, j]}")
assert len(wrong) > 0 and np.array_equal(o_demo[0], slide_o[0])
slips.append(("deck 1", "w0[:, :, 2] row 1 in one copy of the 7×7×3 demo", "−1 1 1", "−1 −1 1",
              f"only −1 −1 1 gives the printed o[:, :, 0]; −1 1 1 changes {len(wrong)} of its 9 numbers"))

# %% [markdown]
# ## 3 · The 4×4 ⋆ 3×3 example (deck 2) and the 3×3 example with centre 13 (deck 3)
#
# Deck 2: $\hat y[i, j] = \sum_u \sum_v x[i + u, j + v]\, w[u, v]$ with a 4×4 image and a 3×3
# kernel gives a 2×2 output, $[[9, -20], [22, 11]]$, and writes the last one out.

# %%
x4 = np.array([[1, 2, 2, -2], [1, 0, 2, 4], [2, -1, -1, 3], [0, 0, -3, -2]], dtype=np.float64)
w3 = np.array([[1, 0, 3], [2, -1, -1], [0, 1, -3]], dtype=np.float64)
y4 = conv(x4, w3)
check("deck 2: 4×4 ⋆ 3×3", y4, [[9, -20], [22, 11]])
window = x4[1:, 1:]
print("y[1,1] = " + " + ".join(f"{num(a)}·{num(b)}" for a, b in zip(window.flat, w3.flat))
      + f" = {y4[1, 1]:g}")
assert (window * w3).sum() == 11

# %% [markdown]
# Deck 3 shows a 3×3 patch of an image, a 3×3 kernel and the patch's centre replaced by the
# response, 13. The same sum (no flip) gives 13; a textbook convolution, which flips the kernel
# first, would give 32, so the slide too means cross-correlation.

# %%
patch = np.array([[1, 1, 2], [2, 2, 1], [1, 5, 0]], dtype=np.float64)
kernel3 = np.array([[2, 3, 0], [0, 1, 3], [3, 0, 3]], dtype=np.float64)
centre = conv(patch, kernel3)
print("centre = " + " + ".join(f"{int(a)}·{int(b)}" for a, b in zip(patch.flat, kernel3.flat))
      + f" = {centre[0, 0]:g}")
check("deck 3: 3×3 example, centre", centre, [[13]])
flipped = conv(patch, kernel3[::-1, ::-1].copy())
print(f"with the kernel flipped (textbook convolution): {flipped[0, 0]:g}")
assert flipped[0, 0] == 32

# %% [markdown]
# **Slip.** Deck 1's 2-D formula reads $(K * I)(i, j) = \sum_{m,n} K(m, n)\, I(i + n, j + m)$: the
# kernel's row index $m$ walks along the image's columns, so the formula applies the
# *transposed* kernel. On deck 2's 4×4 example it does not give the slide's numbers:

# %%
def deck1_formula(I, K):
    """(K * I)(i, j) = Σ_{m,n} K(m, n) · I(i + n, j + m), exactly as deck 1 writes it."""
    rows, cols = I.shape[0] - K.shape[0] + 1, I.shape[1] - K.shape[1] + 1
    return np.array([[sum(K[m, n] * I[i + n, j + m] for m in range(K.shape[0]) for n in range(K.shape[1]))
                      for j in range(cols)] for i in range(rows)])

as_written = deck1_formula(x4, w3)
print("deck 1's formula on the 4×4 example:", as_written.astype(int).tolist(),
      "— the slide (and conv2d):", y4.astype(int).tolist())
assert np.array_equal(as_written, conv(x4, w3.T.copy())) and not np.array_equal(as_written, y4)
slips.append(("deck 1", "2-D convolution formula", "K(m,n)·I(i+n, j+m)", "K(m,n)·I(i+m, j+n)",
              f"the swapped indices transpose the kernel: on deck 2's example {as_written.astype(int).tolist()} "
              f"instead of {y4.astype(int).tolist()}"))

# %% [markdown]
# ## 4 · The padding slide (deck 2)
#
# A 6×6 image padded with zeros to 8×8, convolved with the vertical-edge kernel
# [[1, 0, −1]] × 3, gives a 6×6 output (`padding=1`, or Keras's `padding="same"`). The slide
# fills in six numbers: −10 −13 1 in the first row and −9 3 0 in the second.

# %%
x6 = np.array([[3, 3, 4, 4, 7, 0], [9, 7, 6, 5, 8, 2], [6, 5, 5, 6, 9, 2],
               [7, 1, 3, 2, 7, 8], [0, 3, 7, 1, 8, 3], [4, 0, 4, 3, 2, 2]], dtype=np.float64)
edge = np.array([[1, 0, -1]] * 3, dtype=np.float64)
out6 = conv(x6, edge, padding=1)
assert out6.shape == (6, 6) and np.array_equal(out6, conv(x6, edge, padding="same"))
print(out6.astype(int))
slide_cells = {(0, 0): -10, (0, 1): -13, (0, 2): 1, (1, 0): -9, (1, 1): 3, (1, 2): 0}
agree = {cell: v for cell, v in slide_cells.items() if out6[cell] == v}
for cell, v in slide_cells.items():
    where = [tuple(int(i) for i in p) for p in np.argwhere(out6 == v) if tuple(p)[1] <= 2]
    print(f"slide {cell} = {v:4d}: computed {out6[cell]:4g}"
          + ("  ✓" if cell in agree else f"   (the value {v} is at {where[:2]})"))
check("deck 2 padding slide, the 4 cells that agree", [out6[c] for c in agree], list(agree.values()))
assert out6[0, 1] == 2 and out6[1, 0] == -15 and out6[2, 0] == -13 and out6[3, 0] == -9
slips.append(("deck 2", "padding slide, cells (0,1) and (1,0)", "−13, −9", "2, −15",
              "the text extraction lost the cells' positions: −13 and −9 are the first column's "
              "rows 3 and 4; the other four numbers are where the slide puts them"))

# %% [markdown]
# ## 5 · The pooling tables (decks 2 and 4)
#
# Deck 2 pools one 4×4 table with 2×2 windows and stride 2, by max and by average. Deck 4 shows
# only the result of cs231n's max-pooling figure, [[6, 8], [3, 4]]; its input was in the picture,
# lost in the extraction, so we take cs231n's input, [[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0],
# [1, 2, 3, 4]].

# %%
table = tg.Tensor(np.array([[[[5, 2, -3, 0], [2, -1, 4, -1], [-4, -4, -3, 0], [3, 5, 0, -1]]]],
                           dtype=np.float64))
check("deck 2 max pooling 2×2", F.max_pool2d(table, 2).numpy()[0, 0], [[5, 4], [5, 0]])
check("deck 2 average pooling 2×2", F.avg_pool2d(table, 2).numpy()[0, 0], [[2, 0], [0, -1]])
cs231n = tg.Tensor(np.array([[[[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]]]], dtype=np.float64))
check("deck 4 max pool 2×2 stride 2 (cs231n's input)", F.max_pool2d(cs231n, 2, stride=2).numpy()[0, 0],
      [[6, 8], [3, 4]])
print("average of the top-left window: (5 + 2 + 2 + (−1)) / 4 =", (5 + 2 + 2 - 1) / 4)

# %% [markdown]
# ## 6 · The curve detector (deck 4)
#
# A 7×7 filter with 30 along a curve, laid on two 7×7 receptive fields of a drawing (a mouse):
# where the drawing has the same curve the products sum to
# $(50\cdot30)+(50\cdot30)+(50\cdot30)+(20\cdot30)+(50\cdot30) = 6600$ ("a large number!");
# at the second place nothing overlaps and the sum is 0. One conv2d call
# computes both: the two fields are a batch of two images, the filter one output channel.

# %%
curve = np.zeros((7, 7))
curve[0, 5] = curve[1, 4] = 30
curve[2:6, 3] = 30
field_curve = np.array([[0, 0, 0, 0, 0, 0, 30], [0, 0, 0, 0, 50, 50, 50], [0, 0, 0, 20, 50, 0, 0],
                       [0, 0, 0, 50, 50, 0, 0], [0, 0, 0, 50, 50, 0, 0], [0, 0, 0, 50, 50, 0, 0],
                       [0, 0, 0, 50, 50, 0, 0]], dtype=np.float64)
field_other = np.array([[0, 0, 0, 0, 0, 0, 0], [0, 40, 0, 0, 0, 0, 0], [40, 0, 40, 0, 0, 0, 0],
                      [40, 20, 0, 0, 0, 0, 0], [0, 50, 0, 0, 0, 0, 0], [0, 0, 50, 0, 0, 0, 0],
                      [25, 25, 0, 50, 0, 0, 0]], dtype=np.float64)
responses = F.conv2d(tg.Tensor(np.stack([field_curve, field_other])[:, None]),
                     tg.Tensor(curve[None, None])).numpy().ravel()
products = [f"({int(field_curve[p])}·30)" for p in zip(*np.nonzero(curve * field_curve))]
print("on the curve: " + " + ".join(products) + f" = {responses[0]:g}")
check("deck 4 curve detector (6600 vs 0)", responses, [6600, 0])

fig, axes = plt.subplots(1, 5, figsize=(14, 3.2))
panels = [(curve, "filter (30 on the curve)"), (field_curve, "field on a curve"),
          (curve * field_curve, f"products: sum {responses[0]:g}"), (field_other, "field elsewhere"),
          (curve * field_other, f"products: sum {responses[1]:g}")]
for ax, (img, title) in zip(axes, panels):
    ax.imshow(img, cmap="Greys", vmin=0, vmax=max(img.max(), 1))
    for (i, j), v in np.ndenumerate(img):
        if v:
            ax.text(j, i, f"{v:g}", ha="center", va="center", fontsize=7,
                    color="white" if v > img.max() / 2 else "black")
    ax.set_title(title, fontsize=9)
    ax.set(xticks=[], yticks=[])
fig.suptitle("Deck 4's curve detector: one conv2d of the filter with two 7×7 receptive fields")
tu.save_figure(fig, args, "09_curve_detector")

# %% [markdown]
# ## 7 · The output-size formula (decks 1, 2 and 4)
#
# $W_2 = (W_1 - F + 2P)/S + 1$ for a convolution and $(W_1 - F)/S + 1$ for pooling (deck 1),
# rounded down when it is not an integer (as PyTorch and Keras's `padding="valid"`). Every case
# of the decks, each checked against the shape conv2d or max_pool2d really returns:

# %%
def conv_size(w1, f, p, s):
    return (w1 - f + 2 * p) // s + 1

cases = [  # (where, W1, F, P, S, pooling?, slide's W2)
    ("deck 1, cs231n demo", 5, 3, 1, 2, False, 3),
    ("deck 2, LeNet-5 C1 (32×32×1 → 28×28×6)", 32, 5, 0, 1, False, 28),
    ("deck 2, LeNet-5 S2 pooling (→ 14×14×6)", 28, 2, 0, 2, True, 14),
    ("deck 2, LeNet-5 C3 (→ 10×10×16)", 14, 5, 0, 1, False, 10),
    ("deck 2, LeNet-5 S4 pooling (→ 5×5×16)", 10, 2, 0, 2, True, 5),
    ("deck 2, padding slide (6×6 → 6×6)", 6, 3, 1, 1, False, 6),
    ("deck 2, stride slide (7×7 → 3×3)", 7, 3, 0, 2, False, 3),
    ("deck 2/4, 2×2 pooling with stride 2 (4×4 → 2×2)", 4, 2, 0, 2, True, 2),
    ("deck 3, the 3×3 example (3×3 → 1×1)", 3, 3, 0, 1, False, 1),
    ("deck 4, the curve detector (7×7 → 1×1)", 7, 7, 0, 1, False, 1),
]
for where, w1, f, p, s, pooling, slide in cases:
    x = tg.zeros(1, 1, w1, w1)
    real = (F.max_pool2d(x, f, stride=s) if pooling else F.conv2d(x, tg.zeros(1, 1, f, f), stride=s, padding=p)).shape[-1]
    formula = conv_size(w1, f, p, s)
    print(f"{where:50s} W2 = ({w1} − {f} + 2·{p})/{s} + 1 = {formula}  (conv2d/pool: {real}, slide: {slide})")
    assert formula == real == slide
checks["output-size formula, 10 cases"] = True
print("not an integer: W1 = 6, F = 3, P = 0, S = 2 → (6 − 3)/2 + 1 = 2.5 → rounded down:",
      F.conv2d(tg.zeros(1, 1, 6, 6), tg.zeros(1, 1, 3, 3), stride=2).shape[-1],
      "; Keras's padding='same' instead pads to ⌈6/2⌉ =",
      F.conv2d(tg.zeros(1, 1, 6, 6), tg.zeros(1, 1, 3, 3), stride=2, padding="same").shape[-1])

# %% [markdown]
# ## 8 · Backpropagation through a convolution: ∂W = Σ X·∂h (deck 4)
#
# A 3×3 input $X$, a 2×2 kernel $W$, a 2×2 output $h$ with
# $h_{11} = W_{11}X_{11} + W_{12}X_{12} + W_{21}X_{21} + W_{22}X_{22}$ and so on. Each weight
# touches four inputs, one per output, so its gradient is a sum of four products,
# $\partial W_{11} = X_{11}\,\partial h_{11} + X_{12}\,\partial h_{12} + X_{21}\,\partial h_{21} + X_{22}\,\partial h_{22}$:
# the correlation of the input with the output's gradient. The deck writes the symbols; here
# are numbers, with $\partial h$ (what flows back from the loss) chosen by hand, and the
# engine's `W.grad` after `h.backward(∂h)`.

# %%
X3 = np.array([[1, 2, 3], [4, 5, 6], [7, 8, 9]], dtype=np.float64)
dh = np.array([[1, -2], [3, 0.5]])
Xt = tg.Tensor(X3[None, None], requires_grad=True)
Wt = tg.Tensor(np.array([[[[0.5, -1.0], [2.0, 1.0]]]]), requires_grad=True)
h = F.conv2d(Xt, Wt)
h.backward(dh[None, None])
dW = Wt.grad[0, 0]
for r in range(2):
    for c in range(2):
        window = X3[r:r + 2, c:c + 2]
        symbols = " + ".join(f"X{r + i + 1}{c + j + 1}·∂h{i + 1}{j + 1}" for i in range(2) for j in range(2))
        numbers = " + ".join(f"{num(window[i, j])}·{num(dh[i, j])}" for i in range(2) for j in range(2))
        print(f"∂W{r + 1}{c + 1} = {symbols} = {numbers} = {(window * dh).sum():g}   (engine: {dW[r, c]:g})")
        assert (window * dh).sum() == dW[r, c]
checks["deck 4: ∂W = Σ X·∂h, all four sums"] = True
# ∂X: each input pixel collects W·∂h from every output it fed: the full correlation of ∂h
# with the flipped kernel.
dX = F.conv2d(tg.Tensor(np.pad(dh, 1)[None, None]), tg.Tensor(Wt.data[:, :, ::-1, ::-1].copy())).numpy()[0, 0]
print("∂X = full correlation of ∂h with the flipped kernel:", dX.tolist())
assert np.allclose(dX, Xt.grad[0, 0])
print("∂b = Σ ∂h =", dh.sum())

# %% [markdown]
# ## 9 · Parameter counts (decks 2, 1 and 4)
#
# **The MNIST MLP** of deck 2 ("784 features, 636 thousand parameters"): 784 → 800 → 10, each
# Linear layer has in·out weights and out biases.

# %%
mlp = nn.models.MLP([784, 800, 10])
mlp_info = nn.summary(mlp, (784,))
print(f"784·800 + 800 + 800·10 + 10 = {784 * 800 + 800 + 800 * 10 + 10:,}")
check("deck 2: MNIST MLP 784-800-10", mlp_info.total_params, 636_010, "636 thousand")

# %% [markdown]
# **LeNet-5.** Deck 2's Keras LeNet-5 (tanh, average pooling, every C3 map connected to all six
# S2 maps) is `nn.models.LeNet5Classic`: 61,706 parameters. Deck 4 says "60 thousand", which is
# the 1998 paper's count for a slightly different network: there C3 connects each of its 16
# maps to only 3, 4 or 6 of the S2 maps (a table in the paper: 6 maps × 3 + 9 × 4 + 1 × 6 = 60
# kernels of 5×5 instead of 96), each pooling map has a trainable coefficient and bias, and the
# output is made of RBF units with fixed weights.

# %%
lenet_info = nn.summary(nn.models.LeNet5Classic(), (1, 32, 32))
assert lenet_info.total_params == 61_706
checks["deck 2: LeNet-5 (Keras, simplified), 61,706"] = True
paper = {"C1": 6 * (25 + 1), "S2": 6 * 2, "C3": 25 * (6 * 3 + 9 * 4 + 1 * 6) + 16, "S4": 16 * 2,
         "C5": 120 * (400 + 1), "F6": 84 * (120 + 1)}
print("LeCun 1998:", " + ".join(f"{v:,} ({k})" for k, v in paper.items()), f"= {sum(paper.values()):,}")
assert sum(paper.values()) == 60_000 and paper["C5"] + paper["F6"] + paper["C1"] == 48_120 + 10_164 + 156

# %% [markdown]
# **AlexNet, VGG-16 and VGG-19**, from `nn.summary` of their definitions in `nn.models`
# (torchvision's layouts). Deck 1 says AlexNet has "≈ 60M" parameters, deck 2 that VGG-19 has
# "143 million". torchvision's AlexNet is the one-GPU variant (64, 192, 384, 256, 256 channels):
# 61.1 M. The 2012 paper's network, split over two GPUs (96, 256, 384, 384, 256 channels, and
# convolutions 2, 4 and 5 seeing only their own GPU's half: `groups=2`), has 60,965,224, the
# well-known "60 million". `summary` runs one image through each model, so the shapes are real.
# (Building a model initialises its weights: VGG-16's 138 M float32 numbers are 553 MB and take
# a few seconds to draw.)

# %%
alexnet_info = nn.summary(nn.models.AlexNet(), (3, 224, 224))
print(f"AlexNet (torchvision): {alexnet_info.total_params:,} parameters")
assert alexnet_info.total_params == 61_100_840
alexnet_2012 = nn.Sequential(
    nn.Conv2d(3, 96, 11, stride=4, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2),
    nn.Conv2d(96, 256, 5, padding=2, groups=2), nn.ReLU(), nn.MaxPool2d(3, 2),
    nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(),
    nn.Conv2d(384, 384, 3, padding=1, groups=2), nn.ReLU(),
    nn.Conv2d(384, 256, 3, padding=1, groups=2), nn.ReLU(), nn.MaxPool2d(3, 2),
    nn.Flatten(), nn.Linear(9216, 4096), nn.ReLU(), nn.Linear(4096, 4096), nn.ReLU(),
    nn.Linear(4096, 1000))
alexnet_2012_info = nn.summary(alexnet_2012, (3, 224, 224), verbose=False)
print(f"AlexNet (2012 paper, two GPUs): {alexnet_2012_info.total_params:,} parameters")
assert alexnet_2012_info.total_params == 60_965_224
checks["deck 1: AlexNet ≈ 60M (the 2012 two-GPU network)"] = True
del alexnet_2012

vgg16_info = nn.summary(nn.models.VGG16(), (3, 224, 224), verbose=not args.quick)
print(f"VGG-16: {vgg16_info.total_params:,} parameters")
assert vgg16_info.total_params == 138_357_544
vgg19_params = 0 if args.quick else nn.summary(nn.models.VGG19(), (3, 224, 224), verbose=False).total_params
if not args.quick:
    print(f"VGG-19: {vgg19_params:,} parameters (the slide: 143 million)")
    assert vgg19_params // 1_000_000 == 143
    checks["deck 2: VGG-19 143 million"] = True

# %% [markdown]
# Where do VGG-16's parameters sit? Its 13 convolutions hold 14.7 M, the three linear layers
# 123.6 M, 89 % of the total, and the first linear layer alone (25,088 → 4,096) 102.8 M.

# %%
conv_params = sum(count for _, kind, _, count in vgg16_info.rows if kind == "Conv2d")
linear_params = sum(count for _, kind, _, count in vgg16_info.rows if kind == "Linear")
print(f"VGG-16: convolutions {conv_params:,}, linear layers {linear_params:,} "
      f"({linear_params / vgg16_info.total_params:.0%})")
assert conv_params + linear_params == vgg16_info.total_params

# %% [markdown]
# ## The cs231n demo as a picture
#
# The three padded input channels, the two filters and the two output maps, with their numbers.

# %%
fig, axes = plt.subplots(3, 4, figsize=(11, 7.5))
for c in range(3):
    panels = [(padded[c], f"x[:, :, {c}] (padded)"), (W_demo[0, c], f"w0[:, :, {c}]"),
              (W_demo[1, c], f"w1[:, :, {c}]")]
    if c < 2:
        panels.append((o_demo[c], f"o[:, :, {c}] = Σ + b{c}"))
    for ax in axes[c]:
        ax.axis("off")
    for k, (img, title) in enumerate(panels):
        ax = axes[c, k]
        v = 1.8 * (np.abs(img).max() or 1)   # pale colours: the numbers stay readable
        ax.imshow(img, cmap="RdBu_r", vmin=-v, vmax=v)
        for (i, j), val in np.ndenumerate(img):
            ax.text(j, i, f"{val:g}", ha="center", va="center", fontsize=8)
        ax.set_title(title, fontsize=9)
axes[2, 3].text(0.0, 0.5, "stride 2, padding 1\nb0 = 1, b1 = 0\n7×7×3 ⋆ 3×3×3 → 3×3\n(2 filters → 2 maps)",
                fontsize=11, va="center")
fig.suptitle("Deck 1's cs231n demo, recomputed with F.conv2d (red > 0 > blue)")
tu.save_figure(fig, args, "09_cs231n_demo")

# %% [markdown]
# ## The slips, in one table

# %%
for deck, what, slide, correct, why in slips:
    print(f"{deck} · {what}\n    slide: {slide}   correct: {correct}\n    why: {why}")
print(f"\n{len(checks)} worked examples reproduced, each equal to the slide's numbers")

# %%
tu.report("09_slides_numbers", args, {
    "examples_checked": len(checks), "all_match": all(checks.values()), "slips_found": len(slips),
    "cs231n_demo_output": o_demo.astype(int).tolist(), "curve_detector": responses.tolist(),
    "mlp_params": mlp_info.total_params, "lenet5_params": lenet_info.total_params,
    "alexnet_params": alexnet_info.total_params, "alexnet_2012_params": alexnet_2012_info.total_params,
    "vgg16_params": vgg16_info.total_params, "vgg19_params": vgg19_params})
