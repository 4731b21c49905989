"""An LSTM layer as a plain numpy loop: the oracle for ops/rnn.py, and the version to read first.

ops/rnn.py (`LSTMCellFn`, `LSTMSequenceFn`) computes the same thing, made fast: the four gates
in one tanh, the input projection of all steps in one product, preallocated arrays, weight
gradients as one product over all steps. Here every line is one formula of ops/rnn.py's
docstring, one time step per loop iteration, σ and tanh spelled out, and the tests check the
fast version against this one.

Shapes: x (T, B, I), h0, c0 (B, H), w_ih (4H, I), w_hh (4H, H), b_ih, b_hh (4H,) or None; the
gates are stacked in PyTorch's order (i, f, g, o). One step:

    z = x_t W_ihᵀ + b_ih + h_{t−1} W_hhᵀ + b_hh
    i = σ(z_i)   f = σ(z_f)   g = tanh(z_g)   o = σ(z_o)
    c_t = f · c_{t−1} + i · g
    h_t = o · tanh(c_t)

Backward through time runs the steps in reverse; dh and dc are ∂L/∂h_t and ∂L/∂c_t, each the
sum of what reaches them from the output and from step t+1.

In the example below only the g gate sees the input, g = tanh(x_t) = tanh(1), and every other
gate is σ(0) = ½, so c_t = ½·c_{t−1} + ½·tanh(1): c_t = tanh(1)·(1 − 2⁻ᵗ) → 0.3808, 0.5712, 0.6664.

>>> import numpy as np
>>> x = np.ones((3, 1, 1))                        # T = 3 steps, batch 1, one input
>>> w_ih = np.array([[0.0], [0.0], [1.0], [0.0]])  # rows i, f, g, o: z_g = x_t
>>> w_hh = np.zeros((4, 1))                        # hidden size 1, no recurrence in z
>>> outputs, h, c, cache = lstm_forward(x, np.zeros((1, 1)), np.zeros((1, 1)), w_ih, w_hh)
>>> np.round(outputs[:, 0, 0], 4)                  # h_t = ½·tanh(c_t)
array([0.1817, 0.2581, 0.2913])
>>> np.round(c, 4)
array([[0.6664]])
>>> grads = lstm_backward(np.ones_like(outputs), None, None, cache)   # L = Σ_t h_t
>>> [None if g is None else g.shape for g in grads]    # x, h0, c0, w_ih, w_hh, b_ih, b_hh
[(3, 1, 1), (1, 1), (1, 1), (4, 1), (4, 1), None, None]
"""

from __future__ import annotations

import numpy as np


def sigmoid(z):
    """σ(z) = 1 / (1 + e^(−z))"""
    return 1 / (1 + np.exp(-z))


def lstm_forward(x, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None):
    """(outputs (T, B, H) = h_1 … h_T, h_T, c_T, cache for lstm_backward)."""
    hidden = h0.shape[-1]
    h, c = h0, c0
    outputs, steps = [], []
    for x_t in x:
        h_prev, c_prev = h, c
        z = x_t @ w_ih.T + h_prev @ w_hh.T                     # (B, 4H)
        if b_ih is not None:
            z = z + b_ih
        if b_hh is not None:
            z = z + b_hh
        i = sigmoid(z[:, 0 * hidden:1 * hidden])               # input gate
        f = sigmoid(z[:, 1 * hidden:2 * hidden])               # forget gate
        g = np.tanh(z[:, 2 * hidden:3 * hidden])               # candidate cell
        o = sigmoid(z[:, 3 * hidden:4 * hidden])               # output gate
        c = f * c_prev + i * g
        h = o * np.tanh(c)
        outputs.append(h)
        steps.append((x_t, h_prev, c_prev, i, f, g, o, c))     # what backward needs
    cache = (steps, w_ih, w_hh, b_ih is not None, b_hh is not None)
    return np.stack(outputs), h, c, cache


def lstm_backward(d_outputs, d_hT, d_cT, cache):
    """(∂x, ∂h0, ∂c0, ∂W_ih, ∂W_hh, ∂b_ih, ∂b_hh) for the upstream gradients ∂L/∂outputs
    (T, B, H), ∂L/∂h_T and ∂L/∂c_T (B, H; None for zero). A bias gradient is None when the
    forward pass had no such bias."""
    steps, w_ih, w_hh, has_b_ih, has_b_hh = cache
    x_0, h_0 = steps[0][:2]
    dtype = d_outputs.dtype
    dx = np.zeros((len(steps),) + x_0.shape, dtype=dtype)
    dw_ih = np.zeros(w_ih.shape, dtype=dtype)
    dw_hh = np.zeros(w_hh.shape, dtype=dtype)
    db = np.zeros(w_hh.shape[0], dtype=dtype)
    dh_next = np.zeros(h_0.shape, dtype=dtype) if d_hT is None else d_hT   # ∂L/∂h_t from step t+1
    dc = np.zeros(h_0.shape, dtype=dtype) if d_cT is None else d_cT        # ∂L/∂c_t
    for t in reversed(range(len(steps))):
        x_t, h_prev, c_prev, i, f, g, o, c = steps[t]
        dh = d_outputs[t] + dh_next                      # from the output and from step t+1
        dc = dc + dh * o * (1 - np.tanh(c) ** 2)         # h_t = o·tanh(c_t)
        di = dc * g                                      # c_t = f·c_{t−1} + i·g
        df = dc * c_prev
        dg = dc * i
        do = dh * np.tanh(c)
        dz = np.concatenate([di * i * (1 - i),           # σ' = σ(1 − σ)
                             df * f * (1 - f),
                             dg * (1 - g ** 2),          # tanh' = 1 − tanh²
                             do * o * (1 - o)], axis=1)  # (B, 4H)
        dx[t] = dz @ w_ih                                # z = x_t W_ihᵀ + h_{t−1} W_hhᵀ + b
        dw_ih += dz.T @ x_t
        dw_hh += dz.T @ h_prev
        db += dz.sum(axis=0)
        dh_next = dz @ w_hh                              # ∂L/∂h_{t−1}
        dc = dc * f                                      # ∂L/∂c_{t−1}
    return (dx, dh_next, dc, dw_ih, dw_hh,
            db.copy() if has_b_ih else None, db.copy() if has_b_hh else None)
