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
# # 05 · A convolutional autoencoder
#
# An autoencoder learns without labels: an **encoder** squeezes the image into a small code
# $z = f(x)$, a **decoder** rebuilds the image from it, $\hat x = g(z)$, and training minimises
# the reconstruction error
#
# $$L = \frac{1}{N\cdot HW}\sum_n \lVert x_n - g(f(x_n))\rVert^2 .$$
#
# Because the code is smaller than the image, the network must keep what matters (the stroke
# shapes) and drop the rest. Our encoder is convolution + max pooling (16×16 → 8×8 → 4×4); the
# decoder goes back up with **transposed convolutions** of stride 2, which spread each input
# pixel over a 2×2 output patch: $H_{out} = (H_{in}-1)\,S - 2P + F$, so $4 \to 8 \to 16$.
#
# The **denoising** variant feeds the encoder a noisy image but asks for the clean one:
# $L = \lVert x - g(f(x + \varepsilon))\rVert^2$, $\varepsilon\sim\mathcal N(0,\sigma^2)$.

# %%
import numpy as np

import tinygrad_edu as tg
import tinygrad_edu.nn as nn
import tinygrad_edu.nn.functional as F
import tinygrad_edu.optim as optim
from tinygrad_edu import datasets
from tinygrad_edu import tutorial_utils as tu
from tinygrad_edu.data import DataLoader, TensorDataset

args = tu.parse_args("Convolutional autoencoder on digits")
tg.manual_seed(args.seed)
plt = tu.pyplot()
rng = np.random.default_rng(args.seed)

# %% [markdown]
# ## Data: the digits at 16×16

# %%
(X_train, _), (X_test, y_test) = datasets.load_digits(size=16)   # (N, 1, 16, 16); labels only to pick examples
if args.quick:
    X_train = X_train[:400]
print(f"train {X_train.shape}, test {X_test.shape}")

# %% [markdown]
# ## The network
#
# The code $z$ has 8 channels of 4×4 = 128 numbers, half the 256 pixels; a sigmoid at the end keeps
# the output in [0, 1] like the pixels.

# %%
class ConvAutoencoder(nn.Module):
    def __init__(self, code_channels=8):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),              # 16×16 → 8×8
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),             # 8×8 → 4×4
            nn.Conv2d(32, code_channels, 1),                                         # the code
        )
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(code_channels, 32, 2, stride=2), nn.ReLU(),           # 4×4 → 8×8
            nn.ConvTranspose2d(32, 16, 2, stride=2), nn.ReLU(),                      # 8×8 → 16×16
            nn.Conv2d(16, 1, 3, padding=1), nn.Sigmoid(),
        )

    def forward(self, x):
        return self.decoder(self.encoder(x))


def reconstruct(model, X, batch_size=256):
    model.eval()
    with tg.no_grad():
        out = np.concatenate([model(tg.Tensor(X[i:i + batch_size])).data for i in range(0, len(X), batch_size)])
    model.train()
    return out


def train_autoencoder(noise_std: float, epochs: int, desc: str):
    """Train a fresh autoencoder; inputs get Gaussian noise of noise_std (0: plain autoencoder)."""
    model = ConvAutoencoder()
    optimizer = optim.Adam(model.parameters(), lr=3e-3)
    loader = DataLoader(TensorDataset(tg.Tensor(X_train)), batch_size=32, shuffle=True)
    curve = []
    bar = tu.progress(range(epochs), desc=desc)
    for _ in bar:
        losses = []
        for (xb,) in loader:
            noisy = xb + tg.Tensor(rng.normal(0, noise_std, xb.shape).astype(np.float32)) if noise_std else xb
            loss = F.mse_loss(model(noisy), xb)     # the target is always the clean image
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        curve.append(float(np.mean(losses)))
        bar.set_postfix(mse=f"{curve[-1]:.4f}")
    return model, curve


model = ConvAutoencoder()
print(model)
print("code shape for one image:", model.encoder(tg.Tensor(X_test[:1])).shape)

# %% [markdown]
# ## Training the plain autoencoder
#
# A reference point for the error: predicting the average training image for every input.

# %%
epochs = 3 if args.quick else 15
model, curve = train_autoencoder(0.0, epochs, "autoencoder")
recon = reconstruct(model, X_test)
test_mse = float(np.mean((recon - X_test) ** 2))
baseline_mse = float(np.mean((X_train.mean(axis=0) - X_test) ** 2))
print(f"test reconstruction MSE {test_mse:.4f}  (predicting the mean image: {baseline_mse:.4f})")

# %%
def show_rows(rows, titles, name, suptitle):
    fig, axes = plt.subplots(len(rows), 10, figsize=(10, 1.1 * len(rows) + 0.6))
    for r, (row, title) in enumerate(zip(rows, titles)):
        for c in range(10):
            axes[r, c].imshow(row[c, 0], cmap="gray_r", vmin=0, vmax=1)
            axes[r, c].axis("off")
        axes[r, 0].set_title(title, fontsize=9, loc="left")
    fig.suptitle(suptitle)
    tu.save_figure(fig, args, name)


show = np.array([np.flatnonzero(y_test == d)[0] for d in range(10)])   # one of each digit
show_rows([X_test[show], recon[show]], ["original", "reconstruction"], "05_reconstructions",
          f"Originals and reconstructions (test MSE {test_mse:.4f})")

# %% [markdown]
# ## The denoising variant
#
# Same network, trained on inputs with Gaussian noise ($\sigma = 0.3$) and the clean images as
# targets. On new noisy test digits
# we compare its output with the clean originals, and with the plain autoencoder given the same
# noisy input.

# %%
noise_std = 0.3
denoiser, denoise_curve = train_autoencoder(noise_std, epochs, "denoising autoencoder")
noisy_test = (X_test + rng.normal(0, noise_std, X_test.shape)).astype(np.float32)
denoised = reconstruct(denoiser, noisy_test)
noisy_mse = float(np.mean((noisy_test - X_test) ** 2))
denoised_mse = float(np.mean((denoised - X_test) ** 2))
plain_on_noisy_mse = float(np.mean((reconstruct(model, noisy_test) - X_test) ** 2))
print(f"noisy input MSE {noisy_mse:.4f} → denoising autoencoder {denoised_mse:.4f} "
      f"(plain autoencoder on the same noisy input: {plain_on_noisy_mse:.4f})")
show_rows([noisy_test[show].clip(0, 1), denoised[show], X_test[show]],
          ["noisy input", "denoised", "clean original"], "05_denoising",
          f"Denoising autoencoder (σ = {noise_std}): MSE {noisy_mse:.3f} → {denoised_mse:.4f}")

# %%
fig, ax = plt.subplots(figsize=(6, 3.8))
ax.plot(range(1, epochs + 1), curve, marker=".", label="autoencoder")
ax.plot(range(1, epochs + 1), denoise_curve, marker=".", label=f"denoising (σ = {noise_std})")
ax.axhline(baseline_mse, color="gray", ls="--", label="mean image")
ax.set(xlabel="epoch", ylabel="training MSE", yscale="log", title="Reconstruction error while training")
ax.legend()
ax.grid(alpha=0.3)
tu.save_figure(fig, args, "05_training_curves")

# %%
tu.report("05_autoencoder", args, {
    "test_mse": test_mse, "mean_image_mse": baseline_mse, "initial_train_mse": curve[0],
    "final_train_mse": curve[-1], "noisy_mse": noisy_mse, "denoised_mse": denoised_mse,
    "plain_autoencoder_on_noisy_mse": plain_on_noisy_mse})
