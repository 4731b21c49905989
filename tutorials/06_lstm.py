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
# # 06 · Recurrent networks: an LSTM (and a GRU) remembers
#
# A recurrent network reads a sequence $x_1, \dots, x_T$ one step at a time and carries a
# hidden state. The plain (Elman) RNN updates it as
#
# $$h_t = \tanh(W_{ih}x_t + W_{hh}h_{t-1} + b).$$
#
# Backpropagation through time multiplies the gradient by $W_{hh}^\top\operatorname{diag}(1-h_t^2)$ at
# every step back, so over many steps it shrinks (or explodes) geometrically: a plain RNN
# struggles to connect an output with an input seen long ago.
#
# The **LSTM** adds a cell state $c_t$ that is changed only by gated addition:
#
# $$\begin{aligned}
# i_t &= \sigma(W_i[x_t, h_{t-1}] + b_i) &&\text{input gate}\\
# f_t &= \sigma(W_f[x_t, h_{t-1}] + b_f) &&\text{forget gate}\\
# g_t &= \tanh(W_g[x_t, h_{t-1}] + b_g) &&\text{candidate}\\
# o_t &= \sigma(W_o[x_t, h_{t-1}] + b_o) &&\text{output gate}\\
# c_t &= f_t\odot c_{t-1} + i_t\odot g_t, \qquad h_t = o_t\odot\tanh(c_t)
# \end{aligned}$$
#
# Along $c$, the gradient is multiplied only by the forget gate $f_t$: when the network
# learns $f_t\approx 1$, information (and its gradient) passes through many steps unchanged.
#
# The **GRU** (Cho et al. 2014) keeps the gated addition with one state and two gates
# (PyTorch's form, as `nn.GRU`):
#
# $$\begin{aligned}
# r_t &= \sigma(W_{ir}x_t + b_{ir} + W_{hr}h_{t-1} + b_{hr}) &&\text{reset gate}\\
# z_t &= \sigma(W_{iz}x_t + b_{iz} + W_{hz}h_{t-1} + b_{hz}) &&\text{update gate}\\
# n_t &= \tanh(W_{in}x_t + b_{in} + r_t\odot(W_{hn}h_{t-1} + b_{hn})) &&\text{candidate}\\
# h_t &= (1 - z_t)\odot n_t + z_t\odot h_{t-1}
# \end{aligned}$$
#
# When $z_t\approx 1$ the state is copied forward unchanged, like the LSTM's cell with
# $f_t\approx 1$; it has three weight blocks per layer where the LSTM has four.
#
# Two experiments: (1) classify digits by reading each image **row by row** (8 steps of 8
# pixels), and (2) the **adding problem**, a task built to need long memory, where we race a
# plain RNN, a GRU and an LSTM.

# %%
import numpy as np

import tinygrad_edu as tg
import tinygrad_edu.nn as nn
import tinygrad_edu.nn.functional as F
import tinygrad_edu.optim as optim
from tinygrad_edu import datasets
from tinygrad_edu import tutorial_utils as tu
from tinygrad_edu.data import DataLoader, TensorDataset

args = tu.parse_args("LSTM and RNN")
tg.manual_seed(args.seed)
plt = tu.pyplot()
rng = np.random.default_rng(args.seed)

# %% [markdown]
# ## 1. Reading a digit row by row
#
# Each 8×8 image becomes a sequence of $T = 8$ rows, each a vector of 8 pixels. The LSTM reads
# the rows top to bottom; after the last row its hidden state $h_8$ must hold enough about the
# whole digit for a linear layer to name it. `batch_first=True` means inputs of shape
# (batch, time, features), as in PyTorch.

# %%
(X_train, y_train), (X_test, y_test) = datasets.load_digits()
X_train, X_test = X_train[:, 0], X_test[:, 0]    # (N, 8 rows, 8 pixels): drop the channel axis
if args.quick:
    X_train, y_train = X_train[:600], y_train[:600]


class RowReader(nn.Module):
    """An LSTM over the image rows, then a linear layer on the last hidden state."""

    def __init__(self, hidden=64):
        super().__init__()
        self.lstm = nn.LSTM(input_size=8, hidden_size=hidden, batch_first=True)
        self.head = nn.Linear(hidden, 10)

    def forward(self, x):                    # x: (N, T=8, 8)
        output, (h_last, c_last) = self.lstm(x)
        return self.head(output[:, -1])      # the hidden state after the last row


reader = RowReader()
optimizer = optim.Adam(reader.parameters(), lr=5e-3)
loader = DataLoader(TensorDataset(tg.Tensor(X_train), tg.Tensor(y_train)), batch_size=32, shuffle=True)
test_loader = DataLoader(TensorDataset(tg.Tensor(X_test), tg.Tensor(y_test)), batch_size=len(X_test))
epochs = 3 if args.quick else 25
scheduler = optim.StepLR(optimizer, step_size=max(int(epochs * 0.6), 2), gamma=0.2)   # smaller steps at the end
# tg.fit runs the loop of tutorial 03 (and evaluates on the test set after every epoch)
history = tg.fit(reader, F.cross_entropy, optimizer, loader, val_loader=test_loader,
                 epochs=epochs, scheduler=scheduler)
digit_curve, digit_test_acc = history["train_loss"], history["val_acc"]
lstm_digit_accuracy = digit_test_acc[-1]
print(f"LSTM reading rows: test accuracy {lstm_digit_accuracy:.2%}")

# %% [markdown]
# ## 2. The adding problem: a plain RNN against a GRU and an LSTM
#
# Each input step carries two numbers: a random value $u_t\in[0,1]$ and a marker $m_t\in\{0,1\}$.
# Exactly two steps are marked, one in the first half of the sequence, one in the second; the
# target is the sum of the two marked values, $y = \sum_t m_t u_t$. Everything else is noise to
# be ignored, and the first marked value must be remembered for up to $T$ steps.
#
# Always answering the average, $1$, gives a mean squared error of $\operatorname{Var}(u_a+u_b) = 2/12 \approx 0.167$:
# a model only learned the task when its error falls clearly below that line.

# %%
def adding_batch(n, T):
    values = rng.random((n, T))
    markers = np.zeros((n, T))
    first = rng.integers(0, T // 2, n)
    second = rng.integers(T // 2, T, n)
    markers[np.arange(n), first] = 1
    markers[np.arange(n), second] = 1
    x = np.stack([values, markers], axis=2).astype(np.float32)     # (n, T, 2)
    y = (values * markers).sum(axis=1, keepdims=True).astype(np.float32)
    return tg.Tensor(x), tg.Tensor(y)


class Adder(nn.Module):
    def __init__(self, cell: str, hidden=32):
        super().__init__()
        layer = {"RNN": nn.RNN, "GRU": nn.GRU, "LSTM": nn.LSTM}[cell]
        self.rnn = layer(input_size=2, hidden_size=hidden, batch_first=True)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x):
        output, _ = self.rnn(x)
        return self.head(output[:, -1])


T = 10 if args.quick else 30
steps = 100 if args.quick else 1000
x_val, y_val = adding_batch(500, T)
adding_curves, adding_val = {}, {}
for cell in ("RNN", "GRU", "LSTM"):
    tg.manual_seed(args.seed)
    net = Adder(cell)
    opt = optim.Adam(net.parameters(), lr=1e-2)
    curve = []
    bar = tu.progress(range(steps), desc=f"{cell} on the adding problem (T={T})")
    for step in bar:
        xb, yb = adding_batch(64, T)
        loss = F.mse_loss(net(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        curve.append(loss.item())
        if step % 20 == 0:
            bar.set_postfix(mse=f"{np.mean(curve[-20:]):.4f}")
    with tg.no_grad():
        adding_val[cell] = F.mse_loss(net(x_val), y_val).item()
    adding_curves[cell] = curve
    print(f"{cell}: validation MSE {adding_val[cell]:.4f}   (answering 1 always: 0.167)")

# %%
def smooth(values, width=20):
    values = np.asarray(values)
    width = min(width, len(values))
    return np.convolve(values, np.ones(width) / width, mode="valid")


fig, (ax1, ax1b, ax2) = plt.subplots(1, 3, figsize=(16, 4))
ax1.plot(range(1, epochs + 1), digit_curve, marker=".")
ax1.set(xlabel="epoch", ylabel="training cross-entropy", yscale="log", title="LSTM reading digit rows: training loss")
ax1b.plot(range(1, epochs + 1), digit_test_acc, marker=".", color="C2")
ax1b.set(xlabel="epoch", ylabel="test accuracy", title=f"Test accuracy (final {lstm_digit_accuracy:.1%})")
ax1b.grid(alpha=0.3)
for cell, color in (("RNN", "C3"), ("GRU", "C1"), ("LSTM", "C0")):
    ax2.plot(smooth(adding_curves[cell]), color=color, label=f"{cell} (val MSE {adding_val[cell]:.2g})")
ax2.axhline(1 / 6, color="gray", ls="--", label="always answer 1 (0.167)")
ax2.set(xlabel="training step (batches of 64)", ylabel="MSE (moving average)", yscale="log",
        title=f"Adding problem, T = {T}")
ax2.legend(loc="lower left")
for ax in (ax1, ax2):
    ax.grid(alpha=0.3)
tu.save_figure(fig, args, "06_lstm_curves")

# %% [markdown]
# The LSTM's error drops far below the "answer 1" line once it has learned to store the first
# marked value in its cell and add the second; the plain RNN with the same number of hidden
# units and the same training stays near the line: its gradient from the end of the sequence
# barely reaches the first marker. The GRU, with its single gated state, learns the task as
# well: in the full run (T = 30, 1,000 steps, seed 0) the validation MSE was 0.159 for the RNN,
# 0.00067 for the LSTM and 0.00013 for the GRU (always answering 1: 0.167).

# %%
tu.report("06_lstm", args, {
    "lstm_digit_test_accuracy": lstm_digit_accuracy, "digit_initial_loss": digit_curve[0],
    "digit_final_loss": digit_curve[-1], "adding_T": T,
    "adding_rnn_val_mse": adding_val["RNN"], "adding_lstm_val_mse": adding_val["LSTM"],
    "adding_gru_val_mse": adding_val["GRU"],
    "adding_rnn_initial_mse": float(np.mean(adding_curves["RNN"][:10])),
    "adding_lstm_initial_mse": float(np.mean(adding_curves["LSTM"][:10])),
    "adding_gru_initial_mse": float(np.mean(adding_curves["GRU"][:10]))})
