"""Whole-model steps: LeNet-5 training step, MLP training step, LSTM forward+backward.

Each is timed for tinygrad_edu and for plain numpy written out by hand below (no autograd: the
forward and backward formulas in straight numpy), in one run, interleaved; "vs numpy" is our
time / numpy's (lower is better):

  LeNet-5  batch 128, 1×32×32, cross-entropy, SGD step
  MLP      784-128-10, batch 128, cross-entropy, SGD step
  LSTM     T=32, batch 32, input 64, hidden 128: forward and backward of output.sum()

PyTorch: benchmarks/bench_torch.py, each library in a process of its own.
"""

from __future__ import annotations

import numpy as np
from common import median_ms, print_machine, print_table, ratio

import tinygrad_edu as tg
import tinygrad_edu.nn as nn
import tinygrad_edu.nn.functional as F
from tinygrad_edu import Tensor, optim

BATCH = 128
LSTM_T, LSTM_B, LSTM_IN, LSTM_H = 32, 32, 64, 128


# ---------------------------------------------------------------------------------------------
# Plain numpy baselines (no autograd)
# ---------------------------------------------------------------------------------------------
def _softmax_xent_grad(logits, labels):
    """Mean cross-entropy's gradient with respect to the logits: (softmax − one_hot) / N."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(shifted)
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(len(labels)), labels] -= 1
    return p / len(labels)


def _conv_forward(x, w, b):
    """Valid convolution, stride 1, by im2col: a (N·Ho·Wo, C·k·k) matrix of windows, one GEMM."""
    n, k = len(x), w.shape[-1]
    windows = np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(2, 3))  # N,C,Ho,Wo,k,k
    ho, wo = windows.shape[2:4]
    cols = windows.transpose(0, 2, 3, 1, 4, 5).reshape(n * ho * wo, -1)
    out = cols @ w.reshape(len(w), -1).T + b  # (N·Ho·Wo, O)
    return out.reshape(n, ho, wo, -1).transpose(0, 3, 1, 2), cols


def _conv_backward(g, cols, w, x_shape):
    """Gradients of _conv_forward; ∂x (when x_shape is given) by col2im: the window gradients
    g·W added back at the k·k offsets they were read from."""
    n, o, ho, wo = g.shape
    k = w.shape[-1]
    g2 = g.transpose(0, 2, 3, 1).reshape(-1, o)
    grad_w = (g2.T @ cols).reshape(w.shape)
    grad_b = g2.sum(axis=0)
    grad_x = None
    if x_shape is not None:
        dcols = (g2 @ w.reshape(o, -1)).reshape(n, ho, wo, x_shape[1], k, k)
        grad_x = np.zeros(x_shape, dtype=g.dtype)
        for m in range(k):
            for j in range(k):
                grad_x[:, :, m:m + ho, j:j + wo] += dcols[:, :, :, :, m, j].transpose(0, 3, 1, 2)
    return grad_x, grad_w, grad_b


def _pool_forward(x):
    n, c, h, w = x.shape
    blocks = x.reshape(n, c, h // 2, 2, w // 2, 2)
    out = blocks.max(axis=(3, 5))
    return out, blocks == out[:, :, :, None, :, None]


def _pool_backward(g, mask):
    n, c, h, _, w, _ = mask.shape
    return (mask * g[:, :, :, None, :, None]).reshape(n, c, 2 * h, 2 * w)


class NumpyLeNet:
    def __init__(self, model):
        self.p = [p.data.copy() for p in model.parameters()]

    def step(self, x, labels, lr=0.01):
        w1, b1, w2, b2, w3, b3, w4, b4, w5, b5 = self.p
        c1, cols1 = _conv_forward(x, w1, b1)
        r1 = np.maximum(c1, 0)
        p1, m1 = _pool_forward(r1)
        c2, cols2 = _conv_forward(p1, w2, b2)
        r2 = np.maximum(c2, 0)
        p2, m2 = _pool_forward(r2)
        f = p2.reshape(len(x), -1)
        h3 = np.maximum(f @ w3.T + b3, 0)
        h4 = np.maximum(h3 @ w4.T + b4, 0)
        logits = h4 @ w5.T + b5
        g = _softmax_xent_grad(logits, labels)
        grads = [None] * 10
        grads[8], grads[9] = g.T @ h4, g.sum(0)
        g = (g @ w5) * (h4 > 0)
        grads[6], grads[7] = g.T @ h3, g.sum(0)
        g = (g @ w4) * (h3 > 0)
        grads[4], grads[5] = g.T @ f, g.sum(0)
        g = (g @ w3).reshape(p2.shape)
        g = _pool_backward(g, m2) * (c2 > 0)
        g, grads[2], grads[3] = _conv_backward(g, cols2, w2, p1.shape)
        g = _pool_backward(g, m1) * (c1 > 0)
        _, grads[0], grads[1] = _conv_backward(g, cols1, w1, None)
        for p, gp in zip(self.p, grads):
            p -= lr * gp


class NumpyMLP:
    def __init__(self, model):
        self.w1, self.b1, self.w2, self.b2 = (p.data.copy() for p in model.parameters())

    def step(self, x, labels, lr=0.01):
        h = np.maximum(x @ self.w1.T + self.b1, 0)
        logits = h @ self.w2.T + self.b2
        g = _softmax_xent_grad(logits, labels)
        grad_w2, grad_b2 = g.T @ h, g.sum(0)
        g = (g @ self.w2) * (h > 0)
        grad_w1, grad_b1 = g.T @ x, g.sum(0)
        for p, gp in ((self.w1, grad_w1), (self.b1, grad_b1), (self.w2, grad_w2),
                      (self.b2, grad_b2)):
            p -= lr * gp


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


class NumpyLSTM:
    """A textbook LSTM in numpy: per step the gate product and the elementwise cell, then
    backpropagation through time of output.sum()."""

    def __init__(self, lstm):
        self.w_ih, self.w_hh, self.b_ih, self.b_hh = (p.data.copy() for p in lstm.parameters())

    def forward_backward(self, x):
        steps, batch, _ = x.shape
        hidden = self.w_hh.shape[1]
        h, c = np.zeros((batch, hidden), x.dtype), np.zeros((batch, hidden), x.dtype)
        cache = []
        for t in range(steps):
            z = x[t] @ self.w_ih.T + self.b_ih + h @ self.w_hh.T + self.b_hh
            i, f = _sigmoid(z[:, :hidden]), _sigmoid(z[:, hidden:2 * hidden])
            g, o = np.tanh(z[:, 2 * hidden:3 * hidden]), _sigmoid(z[:, 3 * hidden:])
            c_prev, h_prev = c, h
            c = f * c_prev + i * g
            tanh_c = np.tanh(c)
            h = o * tanh_c
            cache.append((i, f, g, o, c_prev, h_prev, tanh_c))
        grads = [np.zeros_like(a) for a in (self.w_ih, self.w_hh, self.b_ih)]
        dx = np.empty_like(x)
        dh_next, dc = np.zeros_like(h), np.zeros_like(c)
        for t in reversed(range(steps)):
            i, f, g, o, c_prev, h_prev, tanh_c = cache[t]
            dh = 1 + dh_next  # ∂(output.sum())/∂h_t = 1
            dc = dc + dh * o * (1 - tanh_c ** 2)
            dz = np.concatenate([dc * g * i * (1 - i), dc * c_prev * f * (1 - f),
                                 dc * i * (1 - g ** 2), dh * tanh_c * o * (1 - o)], axis=1)
            grads[0] += dz.T @ x[t]
            grads[1] += dz.T @ h_prev
            grads[2] += dz.sum(0)
            dx[t] = dz @ self.w_ih
            dh_next = dz @ self.w_hh
            dc = dc * f
        return dx, grads


# ---------------------------------------------------------------------------------------------
# The runs
# ---------------------------------------------------------------------------------------------
def _ours_train_step(model, x, labels):
    opt = optim.SGD(model.parameters(), lr=0.01)

    def step():
        opt.zero_grad()
        F.cross_entropy(model(x), labels).backward()
        opt.step()
    return step


def run(quick: bool = False) -> None:
    repeat = 5 if quick else 20
    rng = np.random.default_rng(0)
    tg.manual_seed(0)
    images = rng.random((BATCH, 1, 32, 32), dtype=np.float32)
    flat = rng.random((BATCH, 784), dtype=np.float32)
    labels = rng.integers(0, 10, BATCH)
    seq = rng.standard_normal((LSTM_T, LSTM_B, LSTM_IN)).astype(np.float32)

    lenet, mlp, lstm = nn.LeNet5(), nn.MLP([784, 128, 10]), nn.LSTM(LSTM_IN, LSTM_H)
    np_lenet, np_mlp, np_lstm = NumpyLeNet(lenet), NumpyMLP(mlp), NumpyLSTM(lstm)
    seq_t = Tensor(seq, requires_grad=True)

    def ours_lstm():
        out, _ = lstm(seq_t)
        out.sum().backward()

    cases = {
        "LeNet-5 train step (b=128)": (_ours_train_step(lenet, Tensor(images), labels),
                                       lambda: np_lenet.step(images, labels)),
        "MLP 784-128-10 train step (b=128)": (_ours_train_step(mlp, Tensor(flat), labels),
                                              lambda: np_mlp.step(flat, labels)),
        "LSTM fwd+bwd (T=32,b=32,64->128)": (ours_lstm, lambda: np_lstm.forward_backward(seq)),
    }
    rows = []
    for name, (ours, numpy_fn) in cases.items():
        # interleave the two so that a burst of load on the machine hits them alike
        t_ours, t_np = [], []
        for _ in range(3):
            t_ours.append(median_ms(ours, repeat=repeat, warmup=2))
            t_np.append(median_ms(numpy_fn, repeat=repeat, warmup=2))
        ours_ms, np_ms = min(t_ours), min(t_np)
        rows.append([name, ours_ms, np_ms, ratio(ours_ms, np_ms)])
    print_table("Models: milliseconds per step (vs numpy = our time / numpy's; lower is better)",
                ["case", "ours ms", "numpy ms", "vs numpy"], rows)


if __name__ == "__main__":
    import sys
    print_machine()
    run(quick="--quick" in sys.argv)
