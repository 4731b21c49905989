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
# # 02 · Convolution as a filter
#
# Before a network *learns* its kernels, look at the classic hand-made ones. A convolution
# layer (in deep learning: a cross-correlation) slides a small kernel $W$ ($F\times F$) over the
# image $X$ and at every position takes the weighted sum of the pixels under it:
#
# $$h[i, j] = b + \sum_{m=0}^{F-1}\sum_{k=0}^{F-1} W[m, k]\; X[i\cdot S + m - P,\ j\cdot S + k - P]$$
#
# with stride $S$ and zero padding $P$. The kernel's numbers decide what the output responds
# to: edges, lines of one orientation, or a blur. We apply them with `F.conv2d` to a real
# photograph that ships with scikit-learn, then look at stride, padding, the output-size formula
# and pooling.

# %%
import numpy as np

import tinygrad_edu as tg
import tinygrad_edu.nn.functional as F
from tinygrad_edu import tutorial_utils as tu

args = tu.parse_args("Convolution as a filter")
plt = tu.pyplot()

# %% [markdown]
# ## The photograph
#
# `sklearn.datasets.load_sample_image("china.jpg")` is a 427×640 colour photograph stored inside
# scikit-learn (reading it needs pillow, which matplotlib installs). We turn it into grey levels
# in [0, 1], $Y = 0.299R + 0.587G + 0.114B$, and keep every second pixel so the filters' effect
# stays visible in a small figure. In `--quick` mode a smaller crop keeps CI fast.

# %%
def load_photo(quick: bool) -> tuple[np.ndarray, str]:
    try:
        from sklearn.datasets import load_sample_image
        rgb = load_sample_image("china.jpg").astype(np.float32) / 255.0
        name = "china.jpg (scikit-learn)"
    except ImportError as err:  # no pillow: fall back to a montage of digits, still offline
        print(f"could not read the sample photograph ({err}); using a montage of digits")
        from tinygrad_edu import datasets
        (digits, _), _ = datasets.load_digits(size=32)
        montage = np.block([[digits[r * 8 + c, 0] for c in range(8)] for r in range(6)])
        rgb, name = np.repeat(montage[..., None], 3, axis=2).astype(np.float32), "digits montage"
    grey = rgb @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    grey = grey[::2, ::2]
    if quick:
        grey = grey[40:140, 60:220]
    return np.ascontiguousarray(grey), name


photo, photo_name = load_photo(args.quick)
print(f"photo: {photo_name}, grey, shape {photo.shape}")
image = tg.Tensor(photo[None, None])   # (N=1, C=1, H, W): conv2d works on batches of images

# %% [markdown]
# ## The classic kernels
#
# | kernel | what it does |
# |---|---|
# | edge (8 in the centre, −1 around) | sums to 0: flat regions give 0, any change gives a response |
# | box blur (all 1/9) | the average of the 3×3 neighbourhood |
# | horizontal / vertical / 45° / 135° line | +2 along a line, −1 beside it: responds to lines of that direction |
# | sharpen | the pixel plus its difference to its neighbours (sums to 1) |
# | emboss | the pixel plus a diagonal derivative (sums to 1): the picture looks lit from one side |

# %%
KERNELS = {
    "edge": [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]],
    "box blur": np.full((3, 3), 1 / 9),
    "horizontal line": [[-1, -1, -1], [2, 2, 2], [-1, -1, -1]],
    "vertical line": [[-1, 2, -1], [-1, 2, -1], [-1, 2, -1]],
    "45° line": [[-1, -1, 2], [-1, 2, -1], [2, -1, -1]],
    "135° line": [[2, -1, -1], [-1, 2, -1], [-1, -1, 2]],
    "sharpen": [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
    "emboss": [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]],
}
# All eight kernels as one weight tensor of shape (out_channels=8, in_channels=1, 3, 3):
# a single conv2d call computes eight output channels, one per kernel.
weight = tg.Tensor(np.stack([np.asarray(k, dtype=np.float32) for k in KERNELS.values()])[:, None])
filtered = F.conv2d(image, weight, padding=1)
print("input", image.shape, "* weight", weight.shape, "→ output", filtered.shape)

# %%
fig, axes = plt.subplots(3, 3, figsize=(12, 9))
axes[0, 0].imshow(photo, cmap="gray")
axes[0, 0].set_title("original")
for ax, (name, channel) in zip(axes.flat[1:], zip(KERNELS, filtered.data[0])):
    if name in ("box blur", "sharpen", "emboss"):   # kernels that sum to 1 keep the grey levels:
        ax.imshow(np.clip(channel, 0, 1), cmap="gray")   # a flat region stays as it was
    else:   # detectors: show the size of the response, bright = strong
        ax.imshow(np.abs(channel), cmap="gray", vmax=np.percentile(np.abs(channel), 99.5))
    ax.set_title(name)
for ax in axes.flat:
    ax.axis("off")
fig.suptitle("Hand-made 3×3 kernels applied with F.conv2d (padding 1)")
tu.save_figure(fig, args, "02_filters")

# %% [markdown]
# ## Checking conv2d against the formula
#
# The same sum written with numpy: every output pixel is the kernel times the window under it.
# `sliding_window_view` gives all the $F\times F$ windows at once.

# %%
padded = np.pad(photo, 1)
windows = np.lib.stride_tricks.sliding_window_view(padded, (3, 3))   # (H, W, 3, 3)
by_formula = np.einsum("ijmk,omk->oij", windows, weight.data[:, 0])
max_abs_diff = float(np.max(np.abs(by_formula - filtered.data[0])))
print(f"conv2d vs the formula in numpy: max |difference| = {max_abs_diff:.2e}")

# %% [markdown]
# ## Stride, padding and the output size
#
# Along each axis an $F$-wide kernel fits at $(W_1 - F + 2P)/S + 1$ positions (rounded down):
#
# $$W_2 = \left\lfloor\frac{W_1 - F + 2P}{S}\right\rfloor + 1$$
#
# Padding $P = (F-1)/2$ with stride 1 keeps the size ("same" convolution); stride $S$ divides it
# by about $S$. Here the edge kernel (and a 5×5 and 7×7 blur) on the photo:

# %%
def out_size(w1, f, p, s):
    return (w1 - f + 2 * p) // s + 1


settings = [(3, 0, 1), (3, 1, 1), (5, 2, 1), (3, 1, 2), (7, 3, 3), (3, 0, 4)]
sizes_match = True
fig, axes = plt.subplots(1, len(settings), figsize=(3.2 * len(settings), 3.4))
H1, W1 = photo.shape
print(f"{'F':>3} {'P':>3} {'S':>3}   predicted H2×W2   conv2d gives")
for ax, (f, p, s) in zip(axes, settings):
    kernel = np.asarray(KERNELS["edge"]) if f == 3 else np.full((f, f), 1 / f**2)  # edge or blur
    out = F.conv2d(image, tg.Tensor(kernel.astype(np.float32)[None, None]), stride=s, padding=p)
    predicted = (out_size(H1, f, p, s), out_size(W1, f, p, s))
    sizes_match &= predicted == out.shape[2:]
    print(f"{f:>3} {p:>3} {s:>3}   {predicted[0]:>6}×{predicted[1]:<8}  {out.shape[2]}×{out.shape[3]}")
    shown = np.abs(out.data[0, 0]) if f == 3 else out.data[0, 0]
    ax.imshow(shown, cmap="gray", vmax=np.percentile(shown, 99.5))
    ax.set(xlim=(-0.5, W1 - 0.5), ylim=(H1 - 0.5, -0.5))   # same axes for all: smaller outputs look smaller
    ax.set_title(f"F={f} P={p} S={s}\n{out.shape[2]}×{out.shape[3]}")
    ax.set_xticks([])
    ax.set_yticks([])
fig.suptitle(f"Output size W₂ = (W₁ − F + 2P)/S + 1 on a {H1}×{W1} photo")
tu.save_figure(fig, args, "02_stride_padding")
print("every output size matches the formula:", sizes_match)

# %% [markdown]
# On a small grid you can count it: a 7×7 input, a 3×3 kernel, padding 1 and stride 2 give
# $(7 - 3 + 2)/2 + 1 = 4$ positions per axis. The kernel of all ones just sums each window:

# %%
toy = tg.Tensor(np.arange(49, dtype=np.float32).reshape(1, 1, 7, 7))
toy_out = F.conv2d(toy, tg.Tensor(np.ones((1, 1, 3, 3), dtype=np.float32)), stride=2, padding=1)
print("input 7×7:\n", toy.data[0, 0].astype(int))
print("3×3 sums, stride 2, padding 1 → 4×4:\n", toy_out.data[0, 0].astype(int))

# %% [markdown]
# ## Pooling
#
# Pooling summarises each $k\times k$ window by one number: its **maximum** (max pooling keeps the
# strongest response: "is there an edge somewhere here?") or its **average** (average pooling,
# a blur followed by subsampling). With $k = S = 2$ each axis halves. Applied to the edge map:

# %%
edges = filtered[:, 0:1].abs()                     # (1, 1, H, W): the edge detector's response
max_pooled = F.max_pool2d(edges, kernel_size=2, stride=2)
avg_pooled = F.avg_pool2d(edges, kernel_size=2, stride=2)
max_pooled4 = F.max_pool2d(edges, kernel_size=4, stride=4)
print("edges", edges.shape, "→ max pool 2×2", max_pooled.shape, "→ max pool 4×4", max_pooled4.shape)
pool_ok = bool(np.allclose(max_pooled.data[0, 0],
                           edges.data[0, 0, :edges.shape[2] // 2 * 2, :edges.shape[3] // 2 * 2]
                           .reshape(edges.shape[2] // 2, 2, edges.shape[3] // 2, 2).max(axis=(1, 3))))

fig, axes = plt.subplots(1, 4, figsize=(16, 4))
vmax = np.percentile(edges.data, 99.5)
for ax, (title, t) in zip(axes, [("edge response", edges), ("max pool 2×2, stride 2", max_pooled),
                                 ("average pool 2×2, stride 2", avg_pooled),
                                 ("max pool 4×4, stride 4", max_pooled4)]):
    ax.imshow(t.data[0, 0], cmap="gray", vmax=vmax)
    ax.set_title(f"{title}\n{t.shape[2]}×{t.shape[3]}")
    ax.axis("off")
tu.save_figure(fig, args, "02_pooling")

# %% [markdown]
# Max pooling keeps thin edges bright even at a quarter of the size; average pooling dims
# them, because each edge covers only part of its window. This is why CNNs that look for
# *whether* a feature is present use max pooling.

# %%
tu.report("02_convolution_as_filter", args, {
    "image_shape": list(photo.shape), "max_abs_diff_vs_formula": max_abs_diff,
    "output_sizes_match_formula": bool(sizes_match), "max_pool_matches_numpy": pool_ok})
