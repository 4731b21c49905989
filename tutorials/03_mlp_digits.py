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
# # 03 · A multilayer perceptron on handwritten digits
#
# The simplest network that reads images: flatten each image into a vector (for MNIST's 28×28
# that is the famous 784 inputs; scikit-learn's bundled digits are 8×8, so 64), one hidden layer,
# and a linear layer that gives one score per class:
#
# $$h = \operatorname{ReLU}(W_1 x + b_1),\qquad s = W_2 h + b_2,\qquad
#   L = -\log\frac{e^{s_y}}{\sum_k e^{s_k}}\ \text{(cross-entropy)}$$
#
# trained with stochastic gradient descent on mini-batches,
# $\theta \leftarrow \theta - \eta\, \partial L/\partial\theta$.
#
# Part 2 trains the same kind of network on a *small* training subset, where it memorises the
# examples instead of learning the digits (overfitting), and then cures it four ways: L2 weight
# decay, dropout, input noise and early stopping.

# %%
import numpy as np

import tinygrad_edu as tg
import tinygrad_edu.nn as nn
import tinygrad_edu.nn.functional as F
import tinygrad_edu.optim as optim
from tinygrad_edu import datasets
from tinygrad_edu import tutorial_utils as tu
from tinygrad_edu.data import DataLoader, TensorDataset

args = tu.parse_args("MLP on digits")
tg.manual_seed(args.seed)
plt = tu.pyplot()

# %% [markdown]
# ## The data
#
# 1,797 grey 8×8 images of the digits 0–9 with pixel values 0…16, which we scale to [0, 1].
# `datasets.load_digits()` keeps a fixed random 20 % (359 images) aside as the **test set**, never used for
# training or for any decision; part of the rest is a **validation set** for the decisions
# (when to stop, which regulariser works).

# %%
(train_images, y_train), (test_images, y_test) = datasets.load_digits()   # (N, 1, 8, 8) in [0, 1]
X_train = train_images.reshape(len(train_images), -1)    # flatten: 8×8 → 64
X_test = test_images.reshape(len(test_images), -1)
print(f"train {X_train.shape}, test {X_test.shape}")

fig, axes = plt.subplots(2, 10, figsize=(10, 2.4))
for ax, i in zip(axes.flat, range(20)):
    ax.imshow(train_images[i, 0], cmap="gray_r")
    ax.set_title(str(y_train[i]))
    ax.axis("off")
tu.save_figure(fig, args, "03_digits")


# %% [markdown]
# ## The model, the loss, the training loop
#
# `nn.Sequential` chains the layers; `F.cross_entropy` takes the raw scores (logits) and the class
# indices. Each step: forward, loss, `zero_grad`, `backward`, `step`. We write this loop out once
# here; `tg.fit` runs the same loop for a whole training (tutorials 04 and 07 use it).
# `tg.evaluate(model, loss_fn, loader)` gives the mean loss and the accuracy over a loader, in eval
# mode and without recording a graph.

# %%
def make_mlp(hidden=128, dropout=0.0):
    # Dropout(0.0) does nothing; keeping the layer makes every variant's weights load the same way
    return nn.Sequential(nn.Linear(64, hidden), nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden, 10))


def whole_set(X, y):
    """A loader that gives (X, y) as one batch, in order: for tg.evaluate."""
    return DataLoader(TensorDataset(tg.Tensor(X), tg.Tensor(y)), batch_size=len(y))


def train_epoch(model, optimizer, loader, input_noise=0.0):
    # Written out by hand on purpose: this is the loop to learn (tg.fit runs the same steps), and
    # part 2 adds input noise inside it and watches every epoch.
    losses = []
    for xb, yb in loader:
        if input_noise:   # a new random perturbation of every image at every step
            xb = xb + tg.randn(*xb.shape) * input_noise
        loss = F.cross_entropy(model(xb), yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return float(np.mean(losses))


model = make_mlp()
print(model)
optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
loader = DataLoader(TensorDataset(tg.Tensor(X_train), tg.Tensor(y_train)), batch_size=32, shuffle=True)
test_loader = whole_set(X_test, y_test)
epochs = 3 if args.quick else 40
history = {"train_loss": [], "test_acc": []}
bar = tu.progress(range(epochs), desc="MLP epochs")
for epoch in bar:
    history["train_loss"].append(train_epoch(model, optimizer, loader))
    history["test_acc"].append(tg.evaluate(model, F.cross_entropy, test_loader)[1])
    bar.set_postfix(loss=f"{history['train_loss'][-1]:.3f}", test_acc=f"{history['test_acc'][-1]:.3f}")
test_loss, test_accuracy = tg.evaluate(model, F.cross_entropy, test_loader)
print(f"MLP test accuracy: {test_accuracy:.2%} ({round((1 - test_accuracy) * len(y_test))} "
      f"of {len(y_test)} test digits wrong)")

# %%
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
ax1.plot(range(1, epochs + 1), history["train_loss"], marker=".")
ax1.set(xlabel="epoch", ylabel="training loss", title="Cross-entropy while training", yscale="log")
ax2.plot(range(1, epochs + 1), history["test_acc"], marker=".", color="C2")
ax2.set(xlabel="epoch", ylabel="test accuracy", title=f"Test accuracy (final {test_accuracy:.1%})")
for ax in (ax1, ax2):
    ax.grid(alpha=0.3)
tu.save_figure(fig, args, "03_mlp_training")

# %% [markdown]
# ## Part 2 · Overfitting, made visible
#
# Give a larger network (two hidden layers of 256 units, trained with Adam) only **10 examples
# per class** (100 images) and train it for many epochs. The training loss goes to zero (it
# memorises the 100 images) while the loss on the validation images, after a first improvement,
# *rises*: the network becomes more and more sure of answers that do not generalise. The gap
# between the two curves is overfitting.
#
# Four classic cures, each trained from the same start:
#
# * **L2 weight decay**: add $\tfrac{\lambda}{2}\lVert W\rVert^2$ to the loss, i.e.
#   $\partial L/\partial W \mathrel{+}= \lambda W$ (`weight_decay=` in the optimizer): big weights cost.
# * **Dropout**: in training, zero each hidden unit with probability $p$ and scale the rest by
#   $1/(1-p)$, so no unit can rely on a particular other one; at test time nothing is dropped.
# * **Input noise**: add fresh Gaussian noise $\mathcal N(0, \sigma^2)$ to the pixels at every step:
#   the network cannot memorise exact pixel values.
# * **Early stopping**: keep training unregularised but remember the weights of the epoch with the
#   lowest validation loss, and use those.

# %%
per_class = 10
small_idx = np.concatenate([np.flatnonzero(y_train == c)[:per_class] for c in range(10)])
X_small, y_small = X_train[small_idx], y_train[small_idx]
val_idx = np.setdiff1d(np.arange(len(y_train)), small_idx)[:600]   # from the rest of the training set
X_val, y_val = X_train[val_idx], y_train[val_idx]
small_loader = DataLoader(TensorDataset(tg.Tensor(X_small), tg.Tensor(y_small)), batch_size=len(y_small),
                          shuffle=True)
small_set, val_set = whole_set(X_small, y_small), whole_set(X_val, y_val)   # for measuring, in order
reg_epochs = 30 if args.quick else 200


def make_big_mlp(dropout=0.0):
    return nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Dropout(dropout),
                         nn.Linear(256, 256), nn.ReLU(), nn.Dropout(dropout), nn.Linear(256, 10))


start_state = {k: v.data.copy() for k, v in make_big_mlp().state_dict().items()}

VARIANTS = {   # name: (optimizer weight_decay, dropout p, input noise σ)
    "no regularisation": (0.0, 0.0, 0.0),
    "L2 weight decay": (1e-3, 0.0, 0.0),
    "dropout": (0.0, 0.5, 0.0),
    "input noise": (0.0, 0.0, 0.3),
}
curves, final = {}, {}
for name, (decay, p_drop, noise) in VARIANTS.items():
    tg.manual_seed(args.seed)
    net = make_big_mlp(dropout=p_drop)
    net.load_state_dict(start_state)   # the same initial weights for every variant
    opt = optim.Adam(net.parameters(), lr=3e-3, weight_decay=decay)   # weight_decay adds λW to ∂L/∂W
    curve = {"train": [], "val": [], "val_acc": []}
    best = (np.inf, None, 0)   # (validation loss, weights, epoch): for early stopping
    # our own loop rather than tg.fit: fit's early stopping would end the run at its best epoch,
    # and here we want the whole curve and the test accuracy both at the end and at the best epoch
    for epoch in tu.progress(range(reg_epochs), desc=name):
        train_epoch(net, opt, small_loader, input_noise=noise)
        tr_loss, _ = tg.evaluate(net, F.cross_entropy, small_set)   # eval mode: no dropout here
        va_loss, va_acc = tg.evaluate(net, F.cross_entropy, val_set)
        curve["train"].append(tr_loss)
        curve["val"].append(va_loss)
        curve["val_acc"].append(va_acc)
        if va_loss < best[0]:
            best = (va_loss, {k: v.data.copy() for k, v in net.state_dict().items()}, epoch)
    curves[name] = curve
    final[name] = tg.evaluate(net, F.cross_entropy, test_loader)[1]
    if name == "no regularisation":   # early stopping = the same run, rolled back to its best epoch
        net.load_state_dict(best[1])
        final["early stopping"] = tg.evaluate(net, F.cross_entropy, test_loader)[1]
        stop_epoch = best[2]
for name, acc in final.items():
    print(f"{name:>18}: test accuracy {acc:.1%}")

# %%
fig, axes = plt.subplots(1, 5, figsize=(20, 3.8), sharey=True)
panels = list(VARIANTS) + ["early stopping"]
for ax, name in zip(axes, panels):
    curve = curves.get(name, curves["no regularisation"])
    ax.plot(curve["train"], label=f"training loss ({len(y_small)} images)")
    ax.plot(curve["val"], label="validation loss")
    if name == "early stopping":
        ax.axvline(stop_epoch, color="k", ls="--", label=f"stop at epoch {stop_epoch}")
    ax.set(title=f"{name}\ntest accuracy {final[name]:.1%}", xlabel="epoch", ylim=(0, 1.2))
    ax.grid(alpha=0.3)
axes[0].set_ylabel("cross-entropy")
axes[0].legend(fontsize=8)
axes[-1].legend(fontsize=8)
fig.suptitle(f"Overfitting on {per_class} examples per class, and four cures", y=1.04)
tu.save_figure(fig, args, "03_overfitting_cures")

# %% [markdown]
# Without regularisation the validation loss climbs after its minimum while the training loss
# goes to zero; L2, dropout and input noise keep the validation loss well below that, and early
# stopping simply keeps the weights of the epoch where it was lowest. The test *accuracy* moves
# much less than the loss (a point or two, up or down between runs): what overfitting mostly
# costs here is calibration, a network that is confidently wrong. And with 100 examples none of
# the cures comes near the accuracy of the full training set: more data is the best regulariser.

# %%
tu.report("03_mlp_digits", args, {
    "test_accuracy": test_accuracy, "initial_train_loss": history["train_loss"][0],
    "final_train_loss": history["train_loss"][-1],
    "small_subset_test_accuracy": final,
    "unregularised_val_loss_min": min(curves["no regularisation"]["val"]),
    "unregularised_val_loss_end": curves["no regularisation"]["val"][-1]})
