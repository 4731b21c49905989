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
# # 13 · Deep Image Prior: an untrained network as a denoiser
#
# Ulyanov, Vedaldi and Lempitsky (CVPR 2018, in deck 0) asked how much of a CNN's success comes
# from training and how much from its **structure**. Their experiment needs no data set at all:
# take one corrupted photograph $x_0$, a fixed random input $z$, and a randomly initialised
# encoder-decoder $f_\theta$, and fit the network to reproduce the corrupted image,
#
# $$\theta^* = \arg\min_\theta \lVert f_\theta(z) - x_0\rVert^2, \qquad \hat x = f_{\theta^*}(z).$$
#
# Given enough steps the network reproduces $x_0$ almost exactly, noise included: ours has
# 91,359 parameters for 12,288 pixel values. The paper's finding is that it does not get there
# at the same speed for everything: convolutions with shared weights, upsampling and skip
# connections make smooth, self-similar structure (edges, petals, flat backgrounds) easy to
# produce and independent pixel noise hard. So the output passes through a clean-looking image
# on the way, and **stopping early** denoises. The network's architecture is the prior; nothing
# was learned from other images.
#
# With a mask $m$ (1 where the pixel is known) the same idea **inpaints**: fit only the known
# pixels, $\lVert m\odot(f_\theta(z) - x_0)\rVert^2$, and read what the network puts in the holes.

# %%
import numpy as np

import tinygrad_edu as tg
import tinygrad_edu.nn as nn
import tinygrad_edu.nn.functional as F
import tinygrad_edu.optim as optim
from tinygrad_edu import tutorial_utils as tu

args = tu.parse_args("Deep Image Prior: denoising and inpainting one photograph")
tg.manual_seed(args.seed)
plt = tu.pyplot()
rng = np.random.default_rng(args.seed)

# %% [markdown]
# ## One photograph, with noise
#
# scikit-learn ships two photographs. We take a 256×256 crop of `flower.jpg` and shrink it 4× by
# averaging 4×4 blocks (`avg_pool2d`), so that a full run stays under three minutes on two CPU
# cores: a 3 × 64 × 64 image $x$ in [0, 1]. The noisy image is $x_0 = x + \varepsilon$ with
# $\varepsilon \sim \mathcal N(0, \sigma^2)$, σ = 0.1 (25 of 255 grey levels, the paper's
# setting). Quality is measured by the peak signal-to-noise ratio against the clean image,
#
# $$\mathrm{PSNR}(\hat x, x) = 10\log_{10}\frac{1}{\mathrm{MSE}(\hat x, x)}\ \text{dB}$$
#
# (higher is better; +3 dB halves the squared error; peak value 1).

# %%
from sklearn.datasets import load_sample_image

photo = load_sample_image("flower.jpg")[80:336, 170:426]          # (256, 256, 3) uint8
photo = tg.Tensor(photo.transpose(2, 0, 1)[None].astype(np.float32) / 255)   # (1, 3, 256, 256)
clean = F.avg_pool2d(photo, 4).data                                # (1, 3, 64, 64)
sigma = 0.1
noisy = (clean + sigma * rng.standard_normal(clean.shape)).astype(np.float32)


def psnr(estimate: np.ndarray, reference: np.ndarray, region: np.ndarray | None = None) -> float:
    """10·log10(1 / MSE) in dB, over all pixels or only where `region` is True."""
    error = (estimate - reference) ** 2
    mse = error.mean() if region is None else error[np.broadcast_to(region, error.shape)].mean()
    return float(10 * np.log10(1.0 / mse))


noisy_psnr = psnr(noisy, clean)
print(f"image {clean.shape}, noisy PSNR {noisy_psnr:.2f} dB")

# %% [markdown]
# ## The network: an hourglass with skip connections
#
# The paper's "skip" architecture, smaller. The encoder halves the resolution three times with
# stride-2 convolutions (64 → 32 → 16 → 8); the decoder doubles it back with **nearest-neighbour
# upsampling** (`nn.Upsample(scale_factor=2)`, each pixel copied into a 2×2 block) followed by
# convolutions. At every level a 1×1 convolution sends 4 channels of the encoder's input
# straight across to the decoder (the skip connection), where they are concatenated
# (`tg.cat(..., dim=1)`). Each convolution is followed by BatchNorm and a leaky ReLU
# (slope 0.2); a final 1×1 convolution and a sigmoid give 3 channels in [0, 1].
#
# The input $z$ is 32 channels of uniform noise in [0, 0.1], fixed once. As in the paper, a
# little fresh noise (σ_z = 1/30) is added to $z$ at every step, the paper's regulariser
# against fitting the noise.

# %%
def conv_block(c_in: int, c_out: int, kernel_size: int = 3, stride: int = 1) -> list:
    return [nn.Conv2d(c_in, c_out, kernel_size, stride=stride, padding=kernel_size // 2),
            nn.BatchNorm2d(c_out), nn.LeakyReLU(0.2)]


class Hourglass(nn.Module):
    """Encoder-decoder with skip connections: (1, in_channels, H, W) -> (1, 3, H, W) in [0, 1].

    H and W must be divisible by 2**levels."""

    def __init__(self, in_channels: int = 32, width: int = 32, skip_channels: int = 4, levels: int = 3):
        super().__init__()
        self.down, self.skip, self.up = nn.ModuleList(), nn.ModuleList(), nn.ModuleList()
        channels = in_channels
        for _ in range(levels):
            self.skip.append(nn.Sequential(*conv_block(channels, skip_channels, kernel_size=1)))
            self.down.append(nn.Sequential(*conv_block(channels, width, stride=2), *conv_block(width, width)))
            channels = width
        for _ in range(levels):
            self.up.append(nn.Sequential(nn.BatchNorm2d(width + skip_channels),
                                         *conv_block(width + skip_channels, width),
                                         *conv_block(width, width, kernel_size=1)))
        self.upsample = nn.Upsample(scale_factor=2, mode="nearest")
        self.to_rgb = nn.Conv2d(width, 3, kernel_size=1)

    def forward(self, x):
        skips = []
        for skip, down in zip(self.skip, self.down):
            skips.append(skip(x))          # full resolution of this level
            x = down(x)                    # half the resolution
        for up, skipped in zip(self.up, reversed(skips)):
            x = up(tg.cat([self.upsample(x), skipped], dim=1))
        return self.to_rgb(x).sigmoid()


print(Hourglass())
print(f"{sum(p.numel() for p in Hourglass().parameters()):,} parameters for "
      f"{clean.size:,} pixel values")

# %% [markdown]
# ## Fitting one image
#
# Adam with step 0.01 on the mean squared error to the target, over the known pixels only.
# After every step we measure the PSNR of the output against the **clean** image (which the
# fit never sees), and of a running average of the outputs,
# $\bar x_t = 0.99\,\bar x_{t-1} + 0.01\,f_\theta(z_t)$, which the paper uses to smooth out
# the jitter that the input noise causes.

# %%
def fit_image(target: np.ndarray, known: np.ndarray, iterations: int, region: np.ndarray | None = None,
              desc: str = "fit") -> dict:
    """Fit a fresh Hourglass from fixed noise to `target` on the pixels where `known` is 1.

    Returns the loss, the PSNRs (raw output and running average, against the clean image, over
    `region` or everything) per step, and the running-average image at its best step and at the end.
    """
    net = Hourglass()
    optimizer = optim.Adam(net.parameters(), lr=0.01)
    z = (0.1 * rng.random((1, 32) + target.shape[2:])).astype(np.float32)
    target_t, known_t = tg.Tensor(target), tg.Tensor(known.astype(np.float32))
    n_known = float(known.sum() * target.shape[1] / known.shape[1])
    history = {"loss": [], "psnr": [], "psnr_average": []}
    average, best = None, (-np.inf, None, 0)
    bar = tu.progress(range(iterations), desc=desc)
    for step in bar:
        z_step = tg.Tensor(z + rng.standard_normal(z.shape).astype(np.float32) / 30)
        output = net(z_step)
        loss = (((output - target_t) * known_t) ** 2).sum() / n_known
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        average = output.data.copy() if average is None else 0.99 * average + 0.01 * output.data
        history["loss"].append(loss.item())
        history["psnr"].append(psnr(output.data, clean, region))
        history["psnr_average"].append(psnr(average, clean, region))
        if history["psnr_average"][-1] > best[0]:
            best = (history["psnr_average"][-1], average.copy(), step + 1)
        bar.set_postfix(loss=f"{loss.item():.4f}", psnr=f"{history['psnr_average'][-1]:.2f}")
    history.update(best_psnr=best[0], best_image=best[1], best_step=best[2], final_image=average)
    return history


iterations = 40 if args.quick else 1000
denoise = fit_image(noisy, np.ones((1, 1, 64, 64)), iterations, desc="denoising")
raw_best_step = int(np.argmax(denoise["psnr"])) + 1
below_noise = np.flatnonzero(np.array(denoise["loss"]) < sigma ** 2)
loss_below_noise_step = int(below_noise[0]) + 1 if len(below_noise) else None   # None: never got there
print(f"noisy input {noisy_psnr:.2f} dB -> best {denoise['best_psnr']:.2f} dB at step "
      f"{denoise['best_step']} (running average), {max(denoise['psnr']):.2f} dB at step {raw_best_step} "
      f"(raw output); after {iterations} steps {denoise['psnr_average'][-1]:.2f} dB; "
      f"MSE to the noisy image first below σ² at step {loss_below_noise_step}")

# %% [markdown]
# ## A fair comparison: Gaussian blur
#
# Choosing the best step needs the clean image, which a real user does not have; so does
# choosing the best amount of blur. With that same oracle, how well does the simplest denoiser
# do? A Gaussian kernel of width s, applied per channel with `conv2d(groups=3)` on a
# reflect-padded image:

# %%
def gaussian_blur(image: np.ndarray, s: float) -> np.ndarray:
    offsets = np.arange(-3, 4)
    g = np.exp(-offsets ** 2 / (2 * s ** 2))
    kernel = np.outer(g, g) / np.outer(g, g).sum()                         # (7, 7), sums to 1
    weight = tg.Tensor(np.tile(kernel[None, None], (3, 1, 1, 1)).astype(np.float32))
    padded = F.pad(tg.Tensor(image), (3, 3, 3, 3), mode="reflect")
    return F.conv2d(padded, weight, groups=3).data


blur_psnr = {s: psnr(gaussian_blur(noisy, s), clean) for s in (0.5, 0.75, 1.0, 1.25, 1.5, 2.0)}
best_blur = max(blur_psnr, key=blur_psnr.get)
print("Gaussian blur PSNR: " + ", ".join(f"s={s}: {p:.2f} dB" for s, p in blur_psnr.items()))

# %%
steps = np.arange(1, iterations + 1)
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4))
ax1.plot(steps, denoise["psnr"], lw=0.6, alpha=0.6, label="network output")
ax1.plot(steps, denoise["psnr_average"], lw=1.5, label="running average of outputs")
ax1.axhline(noisy_psnr, color="k", ls="--", lw=1, label=f"noisy input ({noisy_psnr:.1f} dB)")
ax1.axhline(blur_psnr[best_blur], color="tab:red", ls=":", lw=1.2,
            label=f"best Gaussian blur ({blur_psnr[best_blur]:.1f} dB)")
ax1.plot(denoise["best_step"], denoise["best_psnr"], "o", color="tab:orange")
ax1.annotate(f"stop here: {denoise['best_psnr']:.1f} dB", (denoise["best_step"], denoise["best_psnr"]),
             textcoords="offset points", xytext=(10, 6))
ax1.set(xlabel="step", ylabel="PSNR to the clean image (dB)", title="Early stopping denoises",
        ylim=(max(10, noisy_psnr - 6), max(denoise["best_psnr"], blur_psnr[best_blur]) + 1.5))
ax1.legend(loc="lower right", fontsize=8)
ax2.plot(steps, denoise["loss"], lw=0.8)
ax2.axhline(sigma ** 2, color="k", ls="--", lw=1, label="σ² = the noise's own MSE")
ax2.set(xlabel="step", ylabel="MSE to the noisy image", yscale="log",
        title="The fit goes on, into the noise")
ax2.legend()
for ax in (ax1, ax2):
    ax.grid(alpha=0.3)
tu.save_figure(fig, args, "13_denoising_psnr")


def show(ax, image: np.ndarray, title: str):
    ax.imshow(np.clip(image[0].transpose(1, 2, 0), 0, 1))
    ax.set_title(title, fontsize=9)
    ax.axis("off")


fig, axes = plt.subplots(1, 5, figsize=(15, 3.4))
show(axes[0], clean, "clean")
show(axes[1], noisy, f"noisy, {noisy_psnr:.1f} dB")
show(axes[2], denoise["best_image"], f"DIP, step {denoise['best_step']}: {denoise['best_psnr']:.1f} dB")
show(axes[3], denoise["final_image"], f"DIP, step {iterations}: {denoise['psnr_average'][-1]:.1f} dB")
show(axes[4], gaussian_blur(noisy, best_blur), f"Gaussian blur s={best_blur}: {blur_psnr[best_blur]:.1f} dB")
tu.save_figure(fig, args, "13_denoising_images")

# %% [markdown]
# The curve rises while the network draws the flower and falls once it starts to draw the
# noise too; the right panel shows the fit improving all along. In our full run (seed 0):
#
# - the noisy input is at 20.0 dB; the running average peaks at **25.9 dB at step 365**, 5.9 dB
#   above the input and 1.8 dB above the best Gaussian blur (24.1 dB, s = 0.75), then falls
#   back to 21.3 dB by step 1000;
# - the raw output peaks earlier and lower, 24.6 dB at step 249, which is exactly the step at
#   which its MSE to the noisy image first drops below σ² = 0.01. The clean image itself is at
#   MSE ≈ σ² from the noisy one, so from there on the output is closer to the noisy image than
#   the clean image is: the network has started copying the noise.

# %% [markdown]
# ## Inpainting: filling in missing pixels
#
# Now the clean photograph with text written over it: the mask is 0 on the letters. The loss
# only sees the pixels outside the letters; what the network draws under them comes from its
# structure alone. We compare with a classic fill: **diffusion**, which repeatedly replaces
# every missing pixel by the mean of its 3×3 neighbourhood (`avg_pool2d` with stride 1), the
# discrete heat equation. PSNR is measured on the missing pixels only.

# %%
def text_mask(size: int) -> np.ndarray:
    """(1, 1, size, size) mask: 0 where bold text covers the image, 1 elsewhere."""
    figure = plt.figure(figsize=(1, 1), dpi=size)
    figure.text(0.5, 0.5, "tiny\ngrad\nedu", ha="center", va="center", fontsize=15,
                fontweight="bold", linespacing=0.9)
    figure.canvas.draw()
    ink = np.asarray(figure.canvas.buffer_rgba())[..., 0] < 128                 # (size, size)
    plt.close(figure)
    return (~ink).astype(np.float32)[None, None]


def diffusion_fill(image: np.ndarray, known: np.ndarray, steps: int = 300) -> np.ndarray:
    """Fill unknown pixels with the 3×3 mean of their neighbours, `steps` times; known ones stay."""
    filled = np.where(known > 0, image, image[:, :, known[0, 0] > 0].mean(axis=2)[..., None, None])
    for _ in range(steps):
        smooth = F.avg_pool2d(F.pad(tg.Tensor(filled), (1, 1, 1, 1), mode="replicate"), 3, stride=1).data
        filled = np.where(known > 0, image, smooth)
    return filled


known = text_mask(64)
holes = known == 0
masked = clean * known
baseline = diffusion_fill(clean, known)
print(f"mask hides {holes.mean():.1%} of the pixels")
inpaint = fit_image(masked, known, 25 if args.quick else 400, region=holes, desc="inpainting")
inpaint_psnr = inpaint["psnr_average"][-1]
baseline_psnr = psnr(baseline, clean, holes)
mean_colour = masked.sum(axis=(2, 3), keepdims=True) / known.sum()              # (1, 3, 1, 1)
mean_colour_psnr = psnr(np.where(holes, mean_colour, clean), clean, holes)
print(f"PSNR on the missing pixels: DIP {inpaint_psnr:.2f} dB after {len(inpaint['loss'])} steps "
      f"(best {inpaint['best_psnr']:.2f} at step {inpaint['best_step']}), diffusion fill "
      f"{baseline_psnr:.2f} dB, the known pixels' mean colour {mean_colour_psnr:.2f} dB")

# %%
fig, axes = plt.subplots(1, 5, figsize=(16, 3.4), gridspec_kw={"width_ratios": [1, 1, 1, 1, 1.5]})
show(axes[0], clean, "clean")
show(axes[1], np.where(holes, 1.0, clean), f"input: {holes.mean():.0%} of pixels missing")
show(axes[2], baseline, f"diffusion fill: {baseline_psnr:.1f} dB")
show(axes[3], np.where(holes, inpaint["final_image"], clean),     # known pixels kept, as in the fill
     f"DIP fill, step {len(inpaint['loss'])}: {inpaint_psnr:.1f} dB")
axes[4].plot(np.arange(1, len(inpaint["loss"]) + 1), inpaint["psnr_average"], label="DIP (running average)")
axes[4].axhline(baseline_psnr, color="tab:red", ls=":", label="diffusion fill")
axes[4].set(xlabel="step", ylabel="PSNR on the missing pixels (dB)", title="Inpainting")
axes[4].grid(alpha=0.3)
axes[4].legend(fontsize=8)
fig.tight_layout()
tu.save_figure(fig, args, "13_inpainting")

# %% [markdown]
# In our full run the letters hide 9.2 % of the pixels. On those pixels the network reaches
# 20.1 dB after 400 steps (best 20.3 dB, at step 312), the diffusion fill 20.4 dB, and
# painting every hole in the mean colour of the known pixels 15.0 dB. So the untrained network
# fills thin strokes about as well as diffusion does, not better: closing a gap of two or three
# pixels takes only smoothness, which both provide. We did not measure larger holes here.
#
# ## Summary
#
# An untrained encoder-decoder, fitted to one noisy image, draws the image before it draws the
# noise: stopped at the right step it took the flower from 20.0 to 25.9 dB, above the best
# Gaussian blur (24.1 dB). Fitted to the known pixels only, it filled in the unknown ones about
# as well as a diffusion fill. Two caveats from this run: the best step (like the best blur
# width) was chosen by looking at the clean image, which a real user does not have; and the
# output's quality depends on that step, falling back towards the noisy image's PSNR later.

# %%
tu.report("13_deep_image_prior", args, {
    "noisy_psnr": noisy_psnr, "initial_psnr": denoise["psnr"][0], "best_psnr": denoise["best_psnr"],
    "best_step": denoise["best_step"],
    "best_raw_psnr": max(denoise["psnr"]), "best_raw_step": raw_best_step,
    "loss_below_noise_step": loss_below_noise_step, "final_psnr": denoise["psnr_average"][-1],
    "initial_loss": denoise["loss"][0], "final_loss": denoise["loss"][-1],
    "best_blur_psnr": blur_psnr[best_blur], "best_blur_sigma": best_blur, "iterations": iterations,
    "inpaint_missing_fraction": float(holes.mean()), "inpaint_psnr": inpaint_psnr,
    "inpaint_best_psnr": inpaint["best_psnr"],
    "inpaint_initial_psnr": inpaint["psnr_average"][0], "inpaint_diffusion_psnr": baseline_psnr,
    "inpaint_mean_colour_psnr": mean_colour_psnr})
