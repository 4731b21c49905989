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
# # 12 · Residual networks
#
# Deck 1 ends its tour of architectures with a warning and a fix: *stacking more layers does
# not by itself give better results*; the **residual block** adds its input back to its output,
#
# $$\text{out} = \mathrm{relu}\big(F(x) + x\big),\qquad F(x) = \mathrm{BN}(\mathrm{conv}(\mathrm{relu}(\mathrm{BN}(\mathrm{conv}(x))))),$$
#
# and, the deck says, makes the loss surface "more convex" (Li et al. 2018, arXiv 1712.09913).
# Here we build two networks of the same depth, 20 weight layers, identical except for the
# `+ x`: a **plain** CNN and a **ResNet** (He et al. 2015's CIFAR ResNet-20, narrower), train both
# on the digits, and measure three things: the gradient that reaches each layer at
# initialisation, the training curves, and a one-dimensional slice of the loss surface around
# the trained weights. First, the other piece of deck 1 this tutorial covers: the ReLU family.

# %%
import numpy as np

import tinygrad_edu as tg
import tinygrad_edu.nn as nn
import tinygrad_edu.nn.functional as F
import tinygrad_edu.optim as optim
from tinygrad_edu import datasets
from tinygrad_edu import tutorial_utils as tu
from tinygrad_edu.data import DataLoader, TensorDataset

args = tu.parse_args("Residual networks")
tg.manual_seed(args.seed)
plt = tu.pyplot()

# %% [markdown]
# ## The ReLU family (deck 1)
#
# "ReLU(x) = max(0, x); alternatives: LeakyReLU, Param ReLU, Rand ReLU, exponential linear unit."
# They agree for x > 0 and differ on the negative side:
#
# | | negative side | in tinygrad_edu |
# |---|---|---|
# | ReLU | 0 (no gradient: a unit can "die") | `nn.ReLU()` |
# | LeakyReLU | a fixed small slope, 0.01·x by default | `nn.LeakyReLU(0.01)` |
# | PReLU | a·x with the slope a **learnt**, one per channel, starting at 0.25 | `nn.PReLU(num_parameters=C)` |
# | RReLU | a·x with a **random** a ~ U(1/8, 1/3) per element while training, the mean slope 0.229 in eval mode | `nn.RReLU()` |
# | ELU | α·(eˣ − 1): smooth, saturates at −α | `nn.ELU(1.0)` |

# %%
xs = np.linspace(-3, 3, 241).astype(np.float32)
x_t = tg.Tensor(xs)
rrelu = nn.RReLU()
family = [("ReLU", nn.ReLU()(x_t).numpy()),
          ("LeakyReLU (slope 0.1, to be visible)", nn.LeakyReLU(0.1)(x_t).numpy()),
          ("PReLU (a = 0.25, learnt)", nn.PReLU()(x_t).detach().numpy()),   # a is a Parameter
          ("RReLU (eval: mean slope)", rrelu.eval()(x_t).numpy()),
          ("ELU (α = 1)", nn.ELU()(x_t).numpy())]
rrelu.train()
x_train_mode = np.linspace(-3, -0.05, 60).astype(np.float32)
rrelu_samples = rrelu(tg.Tensor(np.tile(x_train_mode, 8))).numpy()    # training mode: random slopes
slopes = rrelu_samples / np.tile(x_train_mode, 8)
assert 1 / 8 <= slopes.min() and slopes.max() <= 1 / 3

fig, axes = plt.subplots(1, 5, figsize=(16, 3.4), sharey=True)
for ax, (name, ys) in zip(axes, family):
    ax.axhline(0, color="grey", lw=0.5)
    ax.axvline(0, color="grey", lw=0.5)
    ax.plot(xs, ys, lw=2)
    ax.set_title(name, fontsize=10)
    ax.set(xlim=(-3, 3), ylim=(-1.5, 3), xlabel="x")
axes[3].scatter(np.tile(x_train_mode, 8), rrelu_samples, s=3, color="tab:orange",
                label="training: a ~ U(1/8, 1/3)")
axes[3].legend(fontsize=8, loc="upper left")
axes[2].plot(xs, np.where(xs > 0, xs, 0.6 * xs), ls="--", color="tab:green", label="a = 0.6, if training moves it there")
axes[2].legend(fontsize=8, loc="upper left")
axes[0].set_ylabel("activation")
fig.suptitle("Deck 1's ReLU family: the same for x > 0, different on the negative side", y=1.04)
tu.save_figure(fig, args, "12_relu_family")

# %% [markdown]
# ## Data
#
# The 8×8 digits, as they ship (1,438 for training, 359 for testing). Three stages of 8×8,
# 4×4 and 2×2 feature maps are enough room for 20 layers and keep the run short.

# %%
(X_train, y_train), (X_test, y_test) = datasets.load_digits()
if args.quick:
    X_train, y_train = X_train[:500], y_train[:500]
print(f"train {X_train.shape}, test {X_test.shape}")
train_loader = DataLoader(TensorDataset(tg.Tensor(X_train), tg.Tensor(y_train)), batch_size=64, shuffle=True)
test_loader = DataLoader(TensorDataset(tg.Tensor(X_test), tg.Tensor(y_test)), batch_size=256)

# %% [markdown]
# ## Two networks of the same depth
#
# Both: a 3×3 convolution (8 channels) with BatchNorm and ReLU, then three stages of three
# blocks (8, 16 and 32 channels; the first block of stages 2 and 3 halves the size with
# stride 2), global average pooling and a linear layer: 1 + 3·3·2 + 1 = **20 weight layers**.
# A block is two 3×3 convolutions, each followed by BatchNorm. The plain block ends in a ReLU;
# `nn.BasicBlock` (torchvision's ResNet block) adds the skip connection first, `relu(F(x) + x)`,
# where the skip is a 1×1 convolution + BatchNorm when the shape changes (two blocks here).

# %%
class PlainBlock(nn.Module):
    """nn.BasicBlock without the skip connection: relu(bn2(conv2(relu(bn1(conv1(x))))))."""

    def __init__(self, inplanes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(out)))          # nn.BasicBlock: relu(… + skip(x))


class SmallNet(nn.Module):
    """Stem, three stages of `blocks` blocks, global average pooling, a linear classifier."""

    def __init__(self, residual: bool, widths=(8, 16, 32), blocks=3, num_classes=10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, widths[0], 3, padding=1, bias=False),
                                  nn.BatchNorm2d(widths[0]), nn.ReLU())
        layers, channels = [], widths[0]
        for stage, width in enumerate(widths):
            for b in range(blocks):
                stride = 2 if stage > 0 and b == 0 else 1
                block = nn.BasicBlock if residual else PlainBlock
                layers.append(block(channels, width, stride))
                channels = width
        self.blocks = nn.Sequential(*layers)
        self.fc = nn.Linear(channels, num_classes)

    def forward(self, x):
        return self.fc(self.blocks(self.stem(x)).mean(axis=(2, 3)))


def main_weights(model):
    """The 20 weight layers in order (the 1×1 skip convolutions are not counted as depth)."""
    return [(name, p) for name, p in model.named_parameters()
            if name.endswith("weight") and p.ndim in (2, 4) and "downsample" not in name]


nets = {}
for kind in ("plain", "resnet"):
    tg.manual_seed(args.seed)
    nets[kind] = SmallNet(residual=kind == "resnet")
    n_params = sum(p.numel() for p in nets[kind].parameters())
    print(f"{kind:7s}: {len(main_weights(nets[kind]))} weight layers, {n_params:,} parameters")
assert len(main_weights(nets["plain"])) == len(main_weights(nets["resnet"])) == 20

# %% [markdown]
# ## The gradient each layer gets at initialisation
#
# One batch of 256 training images, one backward pass, before any training: the norm of
# $\partial L/\partial W$ for each of the 20 weight layers, from the input side (layer 1) to the
# classifier (layer 20). In the plain net every signal on its way back crosses every block; in
# the ResNet the skip connections give it a path around each of them.

# %%
xb, yb = tg.Tensor(X_train[:256]), tg.Tensor(y_train[:256])
grad_norms = {}
for kind, net in nets.items():
    net.zero_grad()
    F.cross_entropy(net(xb), yb).backward()
    grad_norms[kind] = np.array([np.linalg.norm(p.grad) for _, p in main_weights(net)])
    net.zero_grad()
    print(f"{kind:7s}: ‖∂L/∂W‖ of layer 1 = {grad_norms[kind][0]:.3g}, layer 10 = "
          f"{grad_norms[kind][9]:.3g}, layer 20 = {grad_norms[kind][-1]:.3g}")
first_to_last = {k: float(v[0] / v[-1]) for k, v in grad_norms.items()}
spread = {k: float(v.max() / v.min()) for k, v in grad_norms.items()}
print("largest / smallest layer gradient norm:", {k: round(v, 1) for k, v in spread.items()})

fig, ax = plt.subplots(figsize=(8, 3.8))
for kind, norms in grad_norms.items():
    ax.plot(range(1, 21), norms, marker="o", label=kind)
ax.set(yscale="log", xlabel="layer (1 = next to the input, 20 = the classifier)",
       ylabel="‖∂L/∂W‖ at initialisation", title="Gradient norm per layer before training",
       xticks=range(1, 21))
ax.grid(alpha=0.3)
ax.legend()
tu.save_figure(fig, args, "12_gradient_norms_at_init")

# %% [markdown]
# ## Training both
#
# The same recipe for both (SGD with momentum 0.9, learning rate 0.05, batches of 64, no data
# augmentation, the same initial random state), so any difference comes from the skip
# connections. `tg.fit` measures the test set after each epoch only to draw its curve.

# %%
epochs = 2 if args.quick else 10
histories = {}
for kind, net in nets.items():
    tg.manual_seed(args.seed + 1)       # the same batch order for both
    optimizer = optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    print(f"training the {kind} net")
    histories[kind] = tg.fit(net, F.cross_entropy, optimizer, train_loader, val_loader=test_loader,
                             epochs=epochs, verbose=True)
final = {kind: {"train_loss": h["train_loss"][-1], "train_acc": h["train_acc"][-1],
                "test_acc": h["val_acc"][-1]} for kind, h in histories.items()}
for kind, f in final.items():
    print(f"{kind:7s}: final training loss {f['train_loss']:.4f}, training accuracy "
          f"{f['train_acc']:.2%}, test accuracy {f['test_acc']:.2%}")
# the first epoch after which the ResNet's training loss was already below the plain net's last
reached = next(e + 1 for e, v in enumerate(histories["resnet"]["train_loss"])
               if v <= final["plain"]["train_loss"])
print(f"the ResNet reached the plain net's final training loss after {reached} of {epochs} epochs")

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.8))
for kind, h in histories.items():
    ax1.plot(range(1, epochs + 1), h["train_loss"], marker=".", label=kind)
    ax2.plot(range(1, epochs + 1), h["val_acc"], marker=".", label=kind)
ax1.set(xlabel="epoch", ylabel="training loss (cross-entropy)", yscale="log",
        title="Training loss, 20 layers each")
ax2.set(xlabel="epoch", ylabel="test accuracy", title="Test accuracy")
for ax in (ax1, ax2):
    ax.grid(alpha=0.3)
    ax.legend()
tu.save_figure(fig, args, "12_training_curves")

# %% [markdown]
# ## A one-dimensional slice of the loss surface
#
# Li et al. (2018), the paper deck 1 cites: pick a random direction $d$ in weight space, scale
# each of its filters to the norm of the corresponding filter of the trained weights $\theta^*$
# ("filter normalisation", so that the step means the same for every layer), leave the
# BatchNorm parameters alone, and plot $L(\theta^* + \alpha d)$ for $\alpha \in [-1, 1]$. The
# loss is measured on 512 training images with BatchNorm using their batch statistics; the
# weights are restored afterwards.

# %%
def filter_normalised_direction(model, rng):
    """A random direction with each filter (row of a linear layer) as long as the weight's."""
    direction = {}
    for name, p in model.named_parameters():
        if p.ndim < 2:                              # biases and BatchNorm: not moved
            continue
        d = rng.standard_normal(p.shape).astype(p.dtype)
        axes = tuple(range(1, p.ndim))
        norm = lambda a: np.sqrt((a * a).sum(axis=axes, keepdims=True))   # one norm per filter
        d *= norm(p.data) / norm(d)
        direction[name] = d
    return direction


alphas = np.linspace(-1, 1, 9 if args.quick else 21)
slice_x, slice_y = tg.Tensor(X_train[:512]), tg.Tensor(y_train[:512])
landscape, valley = {}, {}
for kind, net in nets.items():
    saved = {k: v.data.copy() for k, v in net.state_dict().items()}
    params = dict(net.named_parameters())
    direction = filter_normalised_direction(net, np.random.default_rng(args.seed))
    losses = []
    with tg.no_grad():
        for alpha in alphas:
            for name, d in direction.items():
                params[name].data[...] = saved[name] + alpha * d
            losses.append(F.cross_entropy(net(slice_x), slice_y).item())   # train mode: batch statistics
    net.load_state_dict(saved)
    landscape[kind] = np.array(losses)
    low = alphas[landscape[kind] < 0.5]
    valley[kind] = (round(float(low.min()), 2), round(float(low.max()), 2)) if len(low) else None
    print(f"{kind:7s}: loss below 0.5 for α in {valley[kind]}")
    print(f"{kind:7s}: loss at α = 0: {landscape[kind][len(alphas) // 2]:.4f}, at α = ±0.5: "
          f"{np.interp(-0.5, alphas, landscape[kind]):.3f} / {np.interp(0.5, alphas, landscape[kind]):.3f}, "
          f"at α = ±1: {landscape[kind][0]:.3f} / {landscape[kind][-1]:.3f}")

fig, ax = plt.subplots(figsize=(7, 4))
for kind, losses in landscape.items():
    ax.plot(alphas, losses, marker=".", label=kind)
ax.set(yscale="log", xlabel="α (step along a filter-normalised random direction)",
       ylabel="training loss", title="A 1-D slice of the loss surface around the trained weights")
ax.grid(alpha=0.3)
ax.legend()
tu.save_figure(fig, args, "12_loss_landscape")

# %% [markdown]
# ## What the run measured
#
# The numbers printed above are this run's; the full run (`python tutorials/12_resnet.py`,
# seed 0) measured:
#
# - **Gradients at initialisation.** The plain net's gradient norms are uneven: 0.19 at the
#   classifier, growing layer by layer towards the input to 2.67 at layer 2, a factor of 14.
#   The ResNet's stay between 0.66 and 1.06 (a factor of 1.6) from the first layer to the last.
# - **Training.** After 10 epochs the plain net's training loss is 0.188 (test accuracy
#   95.5 %), the ResNet's 0.024 (97.5 %), eight times lower; the ResNet was below the plain
#   net's final training loss after 4 epochs. Same depth, same data, same optimiser: the plain
#   net trains worse, the degradation that residual connections were introduced to remove.
# - **The loss surface.** Along the random direction the ResNet's valley floor is 27 times
#   lower (0.0049 against 0.133) and its loss stays below 0.5 for α from −0.7 to 0.5, the plain
#   net's from −0.4 to 0.5; at |α| ≥ 0.9 both are above 1. At 20 layers the slice shows a
#   deeper and slightly wider valley, not a visibly smoother one: Li et al.'s chaotic surfaces
#   without skip connections appear for deeper nets (56 and 110 layers in their paper).

# %%
tu.report("12_resnet", args, {
    "plain_final_train_loss": final["plain"]["train_loss"],
    "resnet_final_train_loss": final["resnet"]["train_loss"],
    "plain_test_accuracy": final["plain"]["test_acc"], "resnet_test_accuracy": final["resnet"]["test_acc"],
    "plain_initial_train_loss": histories["plain"]["train_loss"][0],
    "resnet_initial_train_loss": histories["resnet"]["train_loss"][0],
    "resnet_epochs_to_plain_final_loss": reached, "epochs": epochs,
    "grad_norm_first_over_last": first_to_last, "grad_norm_max_over_min": spread,
    "landscape_below_half": valley,
    "grad_norms_plain": grad_norms["plain"].tolist(), "grad_norms_resnet": grad_norms["resnet"].tolist(),
    "landscape_alphas": alphas.tolist(), "landscape_plain": landscape["plain"].tolist(),
    "landscape_resnet": landscape["resnet"].tolist()})
