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
# # 11 · Segmentation with a fully convolutional network
#
# Classification gives one label per image; **segmentation** gives one per pixel. The label is
# then an image itself, and the lecture asks: can an ordinary CNN, convolutions followed by fully
# connected layers, produce it? It can be reshaped to, but the fully connected layers tie every
# output pixel to fixed input positions: **translation invariance is lost**. What the network
# learns in one part of the image it does not know in another. The cure is a network made only
# of convolutions, pooling and upsampling, a **fully convolutional network** (FCN).
#
# This tutorial
# 1. makes a data set of shapes with per-pixel labels (`datasets.make_segmentation_shapes`);
# 2. trains an encoder-decoder FCN (max pooling down, `ConvTranspose2d` up, skip connections)
#    with per-pixel cross-entropy and measures the mean intersection-over-union (IoU);
# 3. trains a CNN with a fully connected head and the FCN on shapes in the left half of the
#    image only, and tests both on the right half;
# 4. compares three ways up: nearest, bilinear and transposed convolution, shows the
#    transposed convolution's checkerboard, and max unpooling.

# %%
import numpy as np

import tinygrad_edu as tg
import tinygrad_edu.nn as nn
import tinygrad_edu.nn.functional as F
import tinygrad_edu.optim as optim
from tinygrad_edu import datasets
from tinygrad_edu import tutorial_utils as tu
from tinygrad_edu.data import DataLoader, TensorDataset

args = tu.parse_args("FCN segmentation")
tg.manual_seed(args.seed)
plt = tu.pyplot()

# %% [markdown]
# ## Data: shapes and their per-pixel classes
#
# 32×32 images with one to three filled shapes that do not touch, each of its own brightness;
# the mask gives every pixel a class: 0 background, 1 square, 2 disk, 3 triangle. Brightness
# says nothing about the class: the network has to look at the outline.

# %%
SIZE = 32
N_TRAIN, N_TEST = (300, 100) if args.quick else (1000, 300)
X_train, M_train, _ = datasets.make_segmentation_shapes(N_TRAIN, size=SIZE, seed=args.seed + 1)
X_test, M_test, boxes_test = datasets.make_segmentation_shapes(N_TEST, size=SIZE, seed=args.seed + 2)
CLASSES = datasets.SHAPE_CLASSES
print(f"train {X_train.shape} → masks {M_train.shape}; pixels per class:",
      {c: int(n) for c, n in zip(CLASSES, np.bincount(M_train.ravel(), minlength=4))})

# %% [markdown]
# ## The FCN: down, up, and skip connections
#
# | stage | layers | output (C × H × W) |
# |---|---|---|
# | enc1 | conv 3×3 + BN + ReLU | 8 × 32 × 32 |
# | enc2 | max pool 2, conv 3×3 + BN + ReLU | 16 × 16 × 16 |
# | middle | max pool 2, conv 3×3 + BN + ReLU | 32 × 8 × 8 |
# | up2, dec2 | upsample ×2, **concatenate enc2**, conv 3×3 + BN + ReLU | 16 × 16 × 16 |
# | up1, dec1 | upsample ×2, **concatenate enc1**, conv 3×3 + BN + ReLU | 8 × 32 × 32 |
# | head | conv 1×1 → class scores | 4 × 32 × 32 |
#
# Pooling throws away *where* exactly things are in exchange for context (the middle layer sees
# 18×18 pixels); the skip connections hand the fine positions of the encoder to the decoder.
# The upsampling is a **transposed convolution** (`nn.ConvTranspose2d(c, c, 3, stride=2,
# padding=1, output_padding=1)`): every input pixel adds a learned 3×3 stamp, scaled by its
# value, to the output, with stamps 2 pixels apart; or, for comparison, a fixed nearest or
# bilinear `nn.Upsample` followed by a 3×3 convolution (the same number of weights).
#
# The loss is the cross-entropy of every pixel, averaged: `F.cross_entropy` takes scores of
# shape (N, C, H, W) and targets (N, H, W), as PyTorch's does.

# %%
def block(c_in, c_out):
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU())


def upsampler(c, mode):
    if mode == "transposed":
        return nn.ConvTranspose2d(c, c, 3, stride=2, padding=1, output_padding=1)
    return nn.Sequential(nn.Upsample(scale_factor=2, mode=mode), nn.Conv2d(c, c, 3, padding=1))


class FCN(nn.Module):
    def __init__(self, up="transposed", widths=(8, 16, 32), classes=4):
        super().__init__()
        c1, c2, c3 = widths
        self.enc1, self.enc2, self.middle = block(1, c1), block(c1, c2), block(c2, c3)
        self.up2, self.dec2 = upsampler(c3, up), block(c3 + c2, c2)
        self.up1, self.dec1 = upsampler(c2, up), block(c2 + c1, c1)
        self.head = nn.Conv2d(c1, classes, 1)

    def forward(self, x):
        s1 = self.enc1(x)                                    # (N, 8, 32, 32)
        s2 = self.enc2(F.max_pool2d(s1, 2))                  # (N, 16, 16, 16)
        m = self.middle(F.max_pool2d(s2, 2))                 # (N, 32, 8, 8)
        d2 = self.dec2(tg.cat([self.up2(m), s2], dim=1))     # skip: concatenate the channels
        d1 = self.dec1(tg.cat([self.up1(d2), s1], dim=1))
        return self.head(d1)                                 # (N, 4, 32, 32) class scores


def predict(model, X, batch=100):
    model.eval()
    with tg.no_grad():
        out = np.concatenate([model(tg.Tensor(X[i:i + batch])).data.argmax(1)
                              for i in range(0, len(X), batch)])
    model.train()
    return out


def iou_per_class(pred, mask, classes=4):
    """|pred = c and mask = c| / |pred = c or mask = c| over all pixels of the set, per class."""
    return np.array([((pred == c) & (mask == c)).sum() / max(((pred == c) | (mask == c)).sum(), 1)
                     for c in range(classes)])


def train(model, X, M, epochs, lr=1e-2, desc=""):
    loader = DataLoader(TensorDataset(tg.Tensor(X), tg.Tensor(M)), batch_size=32, shuffle=True)
    optimizer = optim.Adam(model.parameters(), lr=lr)
    scheduler = optim.StepLR(optimizer, step_size=max(int(epochs * 0.6), 1), gamma=0.2)
    history = tg.fit(model, F.cross_entropy, optimizer, loader, epochs=epochs, scheduler=scheduler,
                     progress=False)
    print(f"{desc}: training loss {history['train_loss'][0]:.3f} → {history['train_loss'][-1]:.3f}")
    return history


EPOCHS = 3 if args.quick else 8
fcns, histories, ious = {}, {}, {}
for mode in tu.progress(("transposed", "nearest", "bilinear"), desc="FCN variants"):
    tg.manual_seed(args.seed)
    fcns[mode] = FCN(up=mode)
    histories[mode] = train(fcns[mode], X_train, M_train, EPOCHS, desc=f"FCN ({mode} upsampling)")
    ious[mode] = iou_per_class(predict(fcns[mode], X_test), M_test)
    print(f"   test IoU per class {np.round(ious[mode], 3)}, mean IoU {ious[mode].mean():.3f}")
fcn = fcns["transposed"]
nn.summary(fcn, (1, SIZE, SIZE))
mean_iou = float(ious["transposed"].mean())

# %% [markdown]
# ## What the FCN predicts
#
# Mean IoU: for each class, the pixels where prediction and truth agree on that class divided by
# the pixels where either says that class, over the whole test set; then the mean over the four
# classes (background included).

# %%
pred = predict(fcn, X_test[:8])
fig, axes = plt.subplots(3, 8, figsize=(14, 5.6))
for k in range(8):
    for row, (image, title) in enumerate(((X_test[k, 0], "input"), (M_test[k], "truth"), (pred[k], "FCN"))):
        ax = axes[row, k]
        if row == 0:
            ax.imshow(image, cmap="gray", vmin=0, vmax=1)
        else:
            ax.imshow(image, cmap="tab10", vmin=0, vmax=9, interpolation="nearest")
        ax.set_xticks([]), ax.set_yticks([])
        if k == 0:
            ax.set_ylabel(title)
fig.suptitle(f"FCN on test images (blue background, orange square, green disk, red triangle); "
             f"mean IoU {mean_iou:.3f}")
tu.save_figure(fig, args, "11_fcn_predictions")

# %% [markdown]
# ## Fully connected head vs FCN: learn on the left, test on the right
#
# The baseline is the same encoder followed by one more pooling and a **fully connected** layer
# from the 32 × 4 × 4 features to 4 × 32 × 32 class scores: an ordinary classification CNN whose
# output is reshaped into an image. Both networks are trained on images whose shapes all lie in
# the **left half**, then tested on new images of the same kind and on images whose shapes lie
# in the **right half**.

# %%
class FCHead(nn.Module):
    def __init__(self, widths=(8, 16, 32), classes=4, size=SIZE):
        super().__init__()
        c1, c2, c3 = widths
        self.enc1, self.enc2, self.middle = block(1, c1), block(c1, c2), block(c2, c3)
        self.fc = nn.Linear(c3 * (size // 8) ** 2, classes * size * size)
        self.classes, self.size = classes, size

    def forward(self, x):
        h = self.middle(F.max_pool2d(self.enc2(F.max_pool2d(self.enc1(x), 2)), 2))
        scores = self.fc(F.max_pool2d(h, 2).flatten(1))
        return scores.reshape(-1, self.classes, self.size, self.size)


LEFT, RIGHT = (0, 0, SIZE, SIZE // 2), (0, SIZE // 2, SIZE, SIZE)
N_HALF = 200 if args.quick else 800
X_left, M_left, _ = datasets.make_segmentation_shapes(N_HALF, size=SIZE, seed=args.seed + 3, region=LEFT)
halves = {side: datasets.make_segmentation_shapes(N_TEST, size=SIZE, seed=args.seed + 4 + i, region=region)[:2]
          for i, (side, region) in enumerate((("left", LEFT), ("right", RIGHT)))}
half_models = {"FC head": FCHead(), "FCN": FCN()}
half_iou = {}
for name, model in half_models.items():
    tg.manual_seed(args.seed)
    train(model, X_left, M_left, EPOCHS, lr=3e-3 if name == "FC head" else 1e-2, desc=f"{name}, left half")
    half_iou[name] = {side: float(iou_per_class(predict(model, X), M).mean()) for side, (X, M) in halves.items()}
    print(f"   mean IoU: left half {half_iou[name]['left']:.3f}, right half {half_iou[name]['right']:.3f}")
background_only = float(iou_per_class(np.zeros_like(halves["right"][1]), halves["right"][1]).mean())
print(f"labelling every pixel background would give a mean IoU of {background_only:.3f} on the right half")

# %%
fig, axes = plt.subplots(3, 6, figsize=(12, 6.2))
Xr, Mr = halves["right"]
preds = {name: predict(model, Xr[:6]) for name, model in half_models.items()}
for k in range(6):
    for row, (image, title) in enumerate(((Mr[k], "truth (right half)"), (preds["FC head"][k], "FC head"),
                                          (preds["FCN"][k], "FCN"))):
        ax = axes[row, k]
        ax.imshow(image, cmap="tab10", vmin=0, vmax=9, interpolation="nearest")
        ax.axvline(SIZE / 2 - 0.5, color="w", lw=0.8, ls=":")
        ax.set_xticks([]), ax.set_yticks([])
        if k == 0:
            ax.set_ylabel(title, fontsize=9)
fig.suptitle("Trained with shapes in the left half only, tested with shapes in the right half\n"
             f"mean IoU on the right: FC head {half_iou['FC head']['right']:.3f}, FCN {half_iou['FCN']['right']:.3f}")
tu.save_figure(fig, args, "11_translation")

# %% [markdown]
# ## Three ways up, and the transposed convolution's checkerboard
#
# Upsampling by 2 three ways (`F.interpolate`, `F.conv_transpose2d`):
#
# - **nearest**: each pixel becomes a 2×2 block;
# - **bilinear** (`align_corners=False`): each output pixel mixes the 2×2 input pixels around its
#   position with weights from the distances, so edges are smooth;
# - **transposed convolution**, kernel 3, stride 2: each input pixel stamps a 3×3 kernel onto the
#   output every 2 pixels. The stamps overlap in every other row and column only: with a kernel
#   of ones, an output pixel collects 1, 2 or 4 stamps, a **checkerboard** (Odena et al., 2016),
#   because 3 is not a multiple of 2. With kernel 4 the overlap is even away from the border.
#
# A fourth way, for a decoder that mirrors a max-pooling encoder (SegNet), is **max unpooling**:
# `F.max_pool2d(x, 2, return_indices=True)` also returns where each window's maximum was, and
# `nn.MaxUnpool2d(2)` puts each value back there, zeros elsewhere.

# %%
_, top, left, bottom, right = boxes_test[0][0]                   # a 16×16 crop around a shape
cy, cx = np.clip([(top + bottom) // 2, (left + right) // 2], 8, SIZE - 8)
small = X_test[:1, :, cy - 8:cy + 8, cx - 8:cx + 8]
ones3 = tg.ones(1, 1, 3, 3)
ups = {"nearest": F.interpolate(tg.Tensor(small), scale_factor=2, mode="nearest").data[0, 0],
       "bilinear": F.interpolate(tg.Tensor(small), scale_factor=2, mode="bilinear").data[0, 0],
       "transposed (kernel of ones)": F.conv_transpose2d(tg.Tensor(small), ones3, stride=2, padding=1,
                                                         output_padding=1).data[0, 0]}
pooled, where = F.max_pool2d(tg.Tensor(small), 2, return_indices=True)   # 8×8, and the argmax
unpooled = nn.MaxUnpool2d(2)(pooled, where).data[0, 0]                     # back to 16×16
flat = tg.ones(1, 1, 6, 6)
overlap3 = F.conv_transpose2d(flat, ones3, stride=2, padding=1, output_padding=1).data[0, 0]
overlap4 = F.conv_transpose2d(flat, tg.ones(1, 1, 4, 4), stride=2, padding=1).data[0, 0]


def phase_contrast(image):
    """Spread of the four 2×2 phases' means (rows and columns even/odd) over the overall mean:
    0 for an image without a period-2 pattern."""
    phases = [image[i::2, j::2].mean() for i in (0, 1) for j in (0, 1)]
    return float(np.std(phases) / (abs(np.mean(phases)) + 1e-12))


# The trained networks' decoders on a blank (constant) input: any pattern is made by the decoder.
blank = tg.Tensor(np.full((1, 1, SIZE, SIZE), 0.5, np.float32))
after_up = {}
for mode, model in fcns.items():
    kept = {}
    handle = model.up1.register_forward_hook(lambda m, i, o: kept.update(out=o.data[0]))
    model.eval()
    with tg.no_grad():
        model(blank)
    model.train()
    handle.remove()
    after_up[mode] = np.abs(kept["out"]).mean(axis=0)                # mean |activation| over channels
contrast = {mode: phase_contrast(m) for mode, m in after_up.items()}
print("period-2 contrast of the decoder's first upsampled maps on a constant input:",
      {k: round(v, 3) for k, v in contrast.items()})

fig, axes = plt.subplots(2, 6, figsize=(17, 6.2))
axes[0, 0].imshow(small[0, 0], cmap="gray", vmin=0, vmax=1)
axes[0, 0].set_title("input crop 16×16")
for ax, (name, image) in zip(axes[0, 1:4], ups.items()):
    ax.imshow(image, cmap="gray", vmin=0, vmax=1 if "ones" not in name else None)
    ax.set_title(f"{name}\n32×32", fontsize=9)
axes[0, 4].imshow(pooled.data[0, 0], cmap="gray", vmin=0, vmax=1)
axes[0, 4].set_title("max pool 2×2: 8×8\n(return_indices=True)", fontsize=9)
axes[0, 5].imshow(unpooled, cmap="gray", vmin=0, vmax=1)
axes[0, 5].set_title("MaxUnpool2d: 16×16, each max\nback in its place, zeros elsewhere", fontsize=9)
axes[1, 0].imshow(overlap3, cmap="viridis")
axes[1, 0].set_title("ones through a 3×3, stride-2\ntransposed conv: 1 / 2 / 4 stamps", fontsize=9)
for (i, j), v in np.ndenumerate(overlap3):
    axes[1, 0].text(j, i, f"{v:.0f}", ha="center", va="center", fontsize=6, color="w" if v < 3 else "k")
axes[1, 1].imshow(overlap4, cmap="viridis")
for (i, j), v in np.ndenumerate(overlap4):
    axes[1, 1].text(j, i, f"{v:.0f}", ha="center", va="center", fontsize=6, color="w" if v < 3 else "k")
axes[1, 1].set_title("kernel 4, stride 2:\neven overlap inside", fontsize=9)
for ax, (mode, image) in zip(axes[1, 2:5], after_up.items()):
    ax.imshow(image, cmap="magma")
    ax.set_title(f"trained FCN, {mode}:\nmaps after up1, constant input\n(contrast {contrast[mode]:.3f})", fontsize=9)
axes[1, 5].bar(list(ious), [ious[k].mean() for k in ious], color=["tab:purple", "tab:gray", "tab:green"])
for i, k in enumerate(ious):
    axes[1, 5].text(i, ious[k].mean() + 0.01, f"{ious[k].mean():.3f}", ha="center", fontsize=9)
axes[1, 5].set(ylim=(0, 1.15), title="test mean IoU")
axes[1, 5].tick_params(axis="x", labelsize=8)
for ax in axes.flat[:11]:
    ax.set_xticks([]), ax.set_yticks([])
fig.suptitle("Upsampling ×2: nearest, bilinear, transposed convolution and its checkerboard, max unpooling")
tu.save_figure(fig, args, "11_upsampling")

# %% [markdown]
# ## What the run shows
#
# The RESULT line below carries this run's numbers. The full run (seed 0, 8 epochs) measured:
#
# - the FCN with transposed convolutions: **mean IoU 0.999** on 300 test images (IoU per class
#   1.000 / 0.999 / 0.999 / 0.999); with nearest or bilinear upsampling plus a convolution
#   0.998 and 0.998. On this data all three ways up reach the same accuracy;
# - trained on the left half only, the FC head reached mean IoU 0.860 on new left-half images
#   and **0.213** on right-half ones, below the 0.217 of labelling every pixel background: it
#   has no way to carry what it learned to the right half (in the pictures it marks a
#   few stray pixels on the left and nothing on the right). The FCN trained on the same images:
#   0.999 on the left, **0.998** on the right, because it applies the same filters everywhere;
# - the decoder's maps after its last upsampling, for a constant input image: a period-2
#   contrast of 0.208 with the transposed convolution against 0.014 (nearest) and 0.007
#   (bilinear): the checkerboard is in the trained network too, even though the final
#   segmentation does not show it. The kernel-of-ones pictures are exact counts of stamps.

# %%
tu.report("11_fcn_segmentation", args, {
    "mean_iou": mean_iou, "iou_per_class": ious["transposed"].tolist(), "epochs": EPOCHS,
    "initial_loss": histories["transposed"]["train_loss"][0],
    "final_loss": histories["transposed"]["train_loss"][-1],
    "mean_iou_by_upsampling": {k: float(v.mean()) for k, v in ious.items()},
    "fc_head_iou_left": half_iou["FC head"]["left"], "fc_head_iou_right": half_iou["FC head"]["right"],
    "fcn_iou_left": half_iou["FCN"]["left"], "fcn_iou_right": half_iou["FCN"]["right"],
    "background_only_iou_right": background_only,
    "checkerboard_contrast": contrast})
