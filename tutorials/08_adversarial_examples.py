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
# # 08 · Adversarial examples: fooling the CNN
#
# Backpropagation gives the gradient of the loss with respect to *anything* upstream, the input
# image included. Training moves the weights against that gradient; an attacker moves the
# **image** along it, to make the loss as large as possible with a change too small to matter
# to a person.
#
# The **fast gradient sign method** (FGSM, Goodfellow et al., 2015) takes one step of size
# $\varepsilon$ in the direction of the gradient's sign, which is the largest first-order increase
# of the loss among all changes with $|\delta_i| \le \varepsilon$ for every pixel:
#
# $$x_{adv} = \operatorname{clip}_{[0,1]}\big(x + \varepsilon\cdot\operatorname{sign}(\nabla_x L(f(x), y))\big).$$
#
# We train LeNet-5 (as in tutorial 04), then plot its test accuracy against $\varepsilon$ and
# compare with random sign noise of the same size.

# %%
import numpy as np

import tinygrad_edu as tg
import tinygrad_edu.nn as nn
import tinygrad_edu.nn.functional as F
import tinygrad_edu.optim as optim
from tinygrad_edu import datasets
from tinygrad_edu import tutorial_utils as tu
from tinygrad_edu.data import DataLoader, TensorDataset

args = tu.parse_args("FGSM adversarial examples")
tg.manual_seed(args.seed)
plt = tu.pyplot()
rng = np.random.default_rng(args.seed)

# %% [markdown]
# ## The trained CNN
#
# LeNet-5 on the 32×32 digits, trained as in tutorial 04 (fewer epochs: it is quick).

# %%
(X_train, y_train), (X_test, y_test) = datasets.load_digits(size=32)
if args.quick:
    X_train, y_train = X_train[:600], y_train[:600]

model = nn.Sequential(
    nn.Conv2d(1, 6, 5), nn.Tanh(), nn.AvgPool2d(2),
    nn.Conv2d(6, 16, 5), nn.Tanh(), nn.AvgPool2d(2),
    nn.Flatten(), nn.Linear(400, 120), nn.Tanh(), nn.Linear(120, 84), nn.Tanh(), nn.Linear(84, 10),
)
optimizer = optim.Adam(model.parameters(), lr=2e-3)
loader = DataLoader(TensorDataset(tg.Tensor(X_train), tg.Tensor(y_train)), batch_size=32, shuffle=True)
epochs = 3 if args.quick else 15
history = tg.fit(model, F.cross_entropy, optimizer, loader, epochs=epochs)  # the loop of tutorial 03
print(f"training loss after {epochs} epochs: {history['train_loss'][-1]:.4f}")
model.eval()


def accuracy(X, y):
    """tg.evaluate's accuracy on (X, y), in one batch."""
    whole = DataLoader(TensorDataset(tg.Tensor(X), tg.Tensor(y)), batch_size=len(X))
    return tg.evaluate(model, F.cross_entropy, whole)[1]   # (mean loss, accuracy)


clean_accuracy = accuracy(X_test, y_test)
print(f"clean test accuracy: {clean_accuracy:.1%}")

# %% [markdown]
# ## The attack
#
# One forward and one backward pass per batch. The weights are frozen; the image tensor is the
# only thing that requires a gradient.

# %%
for p in model.parameters():
    p.requires_grad_(False)


def fgsm(X, y, eps):
    """x + ε·sign(∂L/∂x), clipped to the valid pixel range [0, 1]."""
    x = tg.Tensor(X, requires_grad=True)
    loss = F.cross_entropy(model(x), tg.Tensor(y))
    loss.backward()
    return np.clip(X + eps * np.sign(x.grad), 0, 1).astype(np.float32)


def random_sign(X, eps):
    """The same size of change, in a random direction."""
    return np.clip(X + eps * rng.choice([-1.0, 1.0], size=X.shape), 0, 1).astype(np.float32)


epsilons = [0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3]
adv_acc, noise_acc = [], []
for eps in tu.progress(epsilons, desc="ε sweep"):
    adv_acc.append(accuracy(fgsm(X_test, y_test, eps), y_test))
    noise_acc.append(accuracy(random_sign(X_test, eps), y_test))
    print(f"ε = {eps:.2f}: accuracy under FGSM {adv_acc[-1]:.1%}, under random ±ε noise {noise_acc[-1]:.1%}")

# %%
fig, ax = plt.subplots(figsize=(6.5, 4))
ax.plot(epsilons, adv_acc, marker="o", color="C3", label="FGSM: ε · sign(∇ₓL)")
ax.plot(epsilons, noise_acc, marker="s", color="C0", label="random ±ε noise")
ax.axhline(0.1, color="gray", ls="--", label="chance")
ax.set(xlabel="ε (maximum change per pixel; pixels are in [0, 1])", ylabel="test accuracy",
       title="LeNet-5 under attack", ylim=(0, 1.02))
ax.legend()
ax.grid(alpha=0.3)
tu.save_figure(fig, args, "08_accuracy_vs_epsilon")

# %% [markdown]
# ## Images that fool it
#
# At $\varepsilon = 0.15$ the digits are still obvious to us, yet the network reads something
# else. Shown: original with the network's answer, the perturbation $\delta$ (red up, blue down),
# and the adversarial image with its new answer and confidence.

# %%
show_eps = 0.15
X_adv = fgsm(X_test, y_test, show_eps)
with tg.no_grad():
    clean_pred = model(tg.Tensor(X_test)).data.argmax(axis=1)
    adv_probs = model(tg.Tensor(X_adv)).softmax(dim=1).data
adv_pred = adv_probs.argmax(axis=1)
fooled = np.flatnonzero((clean_pred == y_test) & (adv_pred != y_test))[:6]
fooled_share = float(np.mean(adv_pred[clean_pred == y_test] != y_test[clean_pred == y_test]))
fig, axes = plt.subplots(3, max(len(fooled), 1), figsize=(2.2 * max(len(fooled), 1), 7), squeeze=False)
for col, i in enumerate(fooled):
    axes[0, col].imshow(X_test[i, 0], cmap="gray_r", vmin=0, vmax=1)
    axes[0, col].set_title(f"original: {clean_pred[i]}")
    axes[1, col].imshow(X_adv[i, 0] - X_test[i, 0], cmap="RdBu_r", vmin=-show_eps, vmax=show_eps)
    axes[1, col].set_title("perturbation δ")
    axes[2, col].imshow(X_adv[i, 0], cmap="gray_r", vmin=0, vmax=1)
    axes[2, col].set_title(f"adversarial: {adv_pred[i]} ({adv_probs[i].max():.0%})")
for ax in axes.flat:
    ax.axis("off")
fig.suptitle(f"FGSM with ε = {show_eps}: {fooled_share:.0%} of the correctly read test digits are fooled")
tu.save_figure(fig, args, "08_fooled_examples")

# %% [markdown]
# Random noise of the same size barely changes the accuracy; the gradient's direction does.
# The network is close to linear in a small neighbourhood of each image, and a change of
# $\varepsilon$ in each of 1,024 pixels, all aligned with the gradient, adds up to a large change
# of the scores. Training on such examples (adversarial training) is one defence.

# %%
tu.report("08_adversarial_examples", args, {
    "clean_accuracy": clean_accuracy, "epsilons": epsilons, "fgsm_accuracy": adv_acc,
    "random_noise_accuracy": noise_acc, "fooled_share_at_0.15": fooled_share})
