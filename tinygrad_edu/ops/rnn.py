"""The LSTM and the GRU as Functions: one step (LSTMCellFn, GRUCellFn) and a whole layer through
time (LSTMSequenceFn, GRUSequenceFn). The GRU's formulas are above its Functions, further down.

The LSTM step, with PyTorch's gate order (i, f, g, o) stacked in weight_ih (4H, I), weight_hh (4H, H):

    z = x_t W_ihᵀ + b_ih + h_{t−1} W_hhᵀ + b_hh                (B, 4H), split into four (B, H)
    i = σ(z_i)   f = σ(z_f)   g = tanh(z_g)   o = σ(z_o)
    c_t = f · c_{t−1} + i · g
    h_t = o · tanh(c_t)

Backward through one step, with dh = ∂L/∂h_t and dc = ∂L/∂c_t (both including what flows back
from step t+1):

    dc  += dh · o · (1 − tanh²(c_t))
    di = dc · g    df = dc · c_{t−1}    dg = dc · i    do = dh · tanh(c_t)
    dz = [di·i(1−i), df·f(1−f), dg·(1−g²), do·o(1−o)]
    ∂L/∂h_{t−1} = dz W_hh      ∂L/∂c_{t−1} = dc · f      ∂L/∂W_hh += dzᵀ h_{t−1}

Speed: a graph of small ops per time step costs more Python than arithmetic, so the LSTM layer is
ONE Function (`LSTMSequenceFn`) that runs the loop above in numpy: the input projection for all
steps in one matrix product, one (B, H)×(H, 4H) product per step, and the weight gradients as
single products over all steps at the end. LSTMCell uses the one-step Function `LSTMCellFn`.
"""

from __future__ import annotations

import numpy as np

from ..function import Function


# ---------------------------------------------------------------------------------------------
# The gate nonlinearities of all four gates in one tanh
# ---------------------------------------------------------------------------------------------
def _gate_constants(hidden: int, dtype):
    """σ(z) = ½ + ½·tanh(z/2), so all four gates are act = s·tanh(s·z) + b with, per gate,
    (s, b) = (½, ½) for i, f, o and (1, 0) for g. The derivative is ∂act/∂z = s²·(1 − tanh²)."""
    ones = np.ones(hidden, dtype=dtype)
    s = np.concatenate([ones / 2, ones / 2, ones, ones / 2])
    b = np.concatenate([ones / 2, ones / 2, 0 * ones, ones / 2])
    return s, b


def _split_gates(a, hidden: int):
    """The four (…, H) gate blocks i, f, g, o of a (…, 4H) array (views, no copies)."""
    return (a[..., :hidden], a[..., hidden:2 * hidden], a[..., 2 * hidden:3 * hidden],
            a[..., 3 * hidden:])


def _gate_derivatives(t, s):
    """∂act/∂z for every gate from t = tanh(s·z): s²·(1 − t²)."""
    d = t * t
    np.subtract(1, d, out=d)
    d *= s * s
    return d


class LSTMCellFn(Function):
    """One LSTM step's elementwise part: z (B, 4H), c_prev (B, H) → stacked [h, c] (2, B, H).

    h = o·tanh(c), c = f·c_prev + i·g with (i, f, g, o) = (σ, σ, tanh, σ)(z split in four).
    Backward: the one-step formulas of the module docstring, with dh = g[0], dc = g[1].
    """

    rule = ("dc += dh·o·(1 − tanh²c);  ∂z = [dc·g·i(1−i), dc·c_prev·f(1−f), dc·i·(1−g²), "
            "dh·tanh(c)·o(1−o)];  ∂c_prev = dc·f")

    @staticmethod
    def forward(ctx, z, c_prev):
        hidden = c_prev.shape[-1]
        s, b = _gate_constants(hidden, z.dtype)
        t = np.tanh(z * s)
        act = t * s + b
        i, f, g, o = _split_gates(act, hidden)
        c = f * c_prev + i * g
        tanh_c = np.tanh(c)
        ctx.save_for_backward(t, act, c_prev, tanh_c, s)
        return np.stack([o * tanh_c, c])

    @staticmethod
    def backward(ctx, grad):
        t, act, c_prev, tanh_c, s = ctx.saved_tensors
        i, f, g, o = _split_gates(act, c_prev.shape[-1])
        dh, dc = grad[0], grad[1]
        dc = dc + dh * o * (1 - tanh_c * tanh_c)
        d_act = np.concatenate([dc * g, dc * c_prev, dc * i, dh * tanh_c], axis=-1)
        return d_act * _gate_derivatives(t, s), dc * f


class LSTMSequenceFn(Function):
    """A whole LSTM layer over a sequence, forward and backward (through time) written out.

    x: (T, B, I), h0, c0: (B, H), w_ih: (4H, I), w_hh: (4H, H), b_ih, b_hh: (4H,) or None.
    Returns one array Y (T+1, B, H): Y[:T] = h_1 … h_T (the output) and Y[T] = c_T.
    The loops write into preallocated arrays (`out=`) to spare numpy's temporaries.
    """

    rule = ("backward through time, t = T … 1: dc += dh·o·(1 − tanh²c_t);  ∂z_t = gate "
            "derivatives · [dc·g, dc·c_{t−1}, dc·i, dh·tanh c_t];  ∂h_{t−1} = ∂z_t W_hh,  "
            "∂c_{t−1} = dc·f;  then ∂W_ih = Σ_t ∂z_tᵀ x_t,  ∂W_hh = Σ_t ∂z_tᵀ h_{t−1},  ∂b = Σ_t ∂z_t")

    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh):
        steps, batch, _ = x.shape
        hidden = h0.shape[-1]
        dtype = x.dtype
        s, b = _gate_constants(hidden, dtype)
        # s·z for all steps: the input's share in one product (T·B, I) @ (I, 4H), and the
        # gate scale s folded into the weights once, so each step needs a single tanh.
        sz_input = (x.reshape(steps * batch, -1) @ (w_ih.T * s)).reshape(steps, batch, 4 * hidden)
        for bias in (b_ih, b_hh):
            if bias is not None:
                sz_input += bias * s
        w_hh_scaled = np.ascontiguousarray(w_hh.T * s)
        y = np.empty((steps + 1, batch, hidden), dtype=dtype)  # h_1 … h_T, then c_T
        cs = np.empty((steps + 1, batch, hidden), dtype=dtype)  # c_0 … c_T
        tanh_cs = np.empty((steps, batch, hidden), dtype=dtype)
        ts = np.empty((steps, batch, 4 * hidden), dtype=dtype)  # tanh(s·z)
        acts = np.empty((steps, batch, 4 * hidden), dtype=dtype)  # i, f, g, o
        ig = np.empty((batch, hidden), dtype=dtype)
        cs[0] = c0
        h = h0
        for step in range(steps):
            t, act = ts[step], acts[step]
            np.matmul(h, w_hh_scaled, out=t)
            t += sz_input[step]
            np.tanh(t, out=t)
            np.multiply(t, s, out=act)
            act += b
            i, f, g, o = _split_gates(act, hidden)
            c = cs[step + 1]
            np.multiply(f, cs[step], out=c)  # c_t = f·c_{t−1} + i·g
            np.multiply(i, g, out=ig)
            c += ig
            np.tanh(c, out=tanh_cs[step])
            h = y[step]
            np.multiply(o, tanh_cs[step], out=h)  # h_t = o·tanh(c_t)
        y[steps] = cs[steps]
        ctx.save_for_backward(x, h0, y, cs, tanh_cs, ts, acts, w_ih, w_hh, s)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, h0, y, cs, tanh_cs, ts, acts, w_ih, w_hh, s = ctx.saved_tensors
        steps, batch, hidden = tanh_cs.shape
        dz = _gate_derivatives(ts, s)  # ∂act/∂z for all steps; becomes ∂L/∂z step by step
        dh = np.empty((batch, hidden), dtype=grad.dtype)
        dh_next = np.zeros((batch, hidden), dtype=grad.dtype)
        tmp = np.empty((batch, hidden), dtype=grad.dtype)
        dc = grad[steps].copy()  # ∂L/∂c_T
        for step in reversed(range(steps)):
            np.add(grad[step], dh_next, out=dh)  # from the output and from step t+1
            i, f, g, o = _split_gates(acts[step], hidden)
            tanh_c = tanh_cs[step]
            np.multiply(tanh_c, tanh_c, out=tmp)  # dc += dh·o·(1 − tanh²(c_t))
            np.subtract(1, tmp, out=tmp)
            tmp *= o
            tmp *= dh
            dc += tmp
            di, df, dg, do = _split_gates(dz[step], hidden)
            di *= dc * g
            df *= dc * cs[step]
            dg *= dc * i
            do *= dh * tanh_c
            np.matmul(dz[step], w_hh, out=dh_next)
            dc *= f
        # Weight gradients as one product each over all steps: Σ_t dz_tᵀ · input_t.
        need = ctx.needs_input_grad
        dz2 = dz.reshape(steps * batch, 4 * hidden)
        h_prev = np.concatenate([h0[None], y[:steps - 1]]).reshape(steps * batch, hidden)
        grad_x = (dz2 @ w_ih).reshape(x.shape) if need[0] else None
        grad_w_ih = dz2.T @ x.reshape(steps * batch, -1) if need[3] else None
        grad_w_hh = dz2.T @ h_prev if need[4] else None
        grad_b = dz2.sum(axis=0) if need[5] or need[6] else None
        return grad_x, dh_next, dc, grad_w_ih, grad_w_hh, grad_b, grad_b


# ---------------------------------------------------------------------------------------------
# The GRU: PyTorch's gate order (r, z, n) stacked in weight_ih (3H, I), weight_hh (3H, H)
# ---------------------------------------------------------------------------------------------
#   gi = x_t W_ihᵀ + b_ih,  gh = h_{t−1} W_hhᵀ + b_hh           (B, 3H), each split into r, z, n
#   r = σ(gi_r + gh_r)    z = σ(gi_z + gh_z)    n = tanh(gi_n + r · gh_n)
#   h_t = (1 − z) · n + z · h_{t−1}
#
# Backward through one step, dh = ∂L/∂h_t (from the output and from step t+1):
#   dn = dh · (1 − z)        dz = dh · (h_{t−1} − n)         (direct path: dh · z to h_{t−1})
#   da_n = dn · (1 − n²)     dr = da_n · gh_n
#   ∂gi = [dr·r(1−r), dz·z(1−z), da_n]     ∂gh = [dr·r(1−r), dz·z(1−z), da_n · r]
#   ∂h_{t−1} = dh · z + ∂gh W_hh
# The reset gate multiplies only the hidden share gh_n (PyTorch's and cuDNN's form), which is
# why ∂gi and ∂gh differ in the n block.


def _gru_gates(gi, gh, hidden: int):
    """r, z, n and the hidden share gh_n from the two (B, 3H) projections."""
    a = gi[..., :2 * hidden] + gh[..., :2 * hidden]
    rz = 1 / (1 + np.exp(-a))
    r, z = rz[..., :hidden], rz[..., hidden:]
    gh_n = gh[..., 2 * hidden:]
    n = np.tanh(gi[..., 2 * hidden:] + r * gh_n)
    return r, z, n, gh_n


def _gru_step_backward(dh, h_prev, r, z, n, gh_n):
    """The one-step backward above: returns (∂gi, ∂gh, the direct part dh·z of ∂h_{t−1})."""
    dn = dh * (1 - z)
    dz = dh * (h_prev - n)
    da_n = dn * (1 - n * n)
    dr = da_n * gh_n
    da_r = dr * r * (1 - r)
    da_z = dz * z * (1 - z)
    d_gi = np.concatenate([da_r, da_z, da_n], axis=-1)
    d_gh = np.concatenate([da_r, da_z, da_n * r], axis=-1)
    return d_gi, d_gh, dh * z


class GRUCellFn(Function):
    """One GRU step's elementwise part: gi, gh (B, 3H), h_prev (B, H) → h (B, H).

    gi = x W_ihᵀ + b_ih and gh = h_prev W_hhᵀ + b_hh come from two linear layers;
    r = σ(gi_r + gh_r), z = σ(gi_z + gh_z), n = tanh(gi_n + r·gh_n), h = (1 − z)·n + z·h_prev.
    Backward: the one-step formulas above (∂gi, ∂gh, ∂h_prev).
    """

    rule = ("dn = g·(1−z), dz = g·(h_prev − n), da_n = dn·(1−n²), dr = da_n·gh_n;  "
            "∂gi = [dr·r(1−r), dz·z(1−z), da_n],  ∂gh = [dr·r(1−r), dz·z(1−z), da_n·r],  "
            "∂h_prev = g·z")

    @staticmethod
    def forward(ctx, gi, gh, h_prev):
        r, z, n, gh_n = _gru_gates(gi, gh, h_prev.shape[-1])
        ctx.save_for_backward(h_prev, r, z, n, gh_n)
        return (1 - z) * n + z * h_prev

    @staticmethod
    def backward(ctx, grad):
        h_prev, r, z, n, gh_n = ctx.saved_tensors
        return _gru_step_backward(grad, h_prev, r, z, n, gh_n)


class GRUSequenceFn(Function):
    """A whole GRU layer over a sequence, forward and backward through time written out.

    x: (T, B, I), h0: (B, H), w_ih: (3H, I), w_hh: (3H, H), b_ih, b_hh: (3H,) or None.
    Returns Y (T, B, H) = h_1 … h_T (so Y[T−1] is the final state h_n).
    The input projection gi of all steps is one product; each step adds one (B, H)×(H, 3H)
    product; the weight gradients are single products over all steps at the end.
    """

    rule = ("backward through time, t = T … 1: dh = g_t + ∂h_t from step t+1;  ∂gi_t, ∂gh_t "
            "by the one-step rule;  ∂h_{t−1} = dh·z + ∂gh_t W_hh;  then ∂W_ih = Σ_t ∂gi_tᵀ x_t,  "
            "∂W_hh = Σ_t ∂gh_tᵀ h_{t−1},  ∂b_ih = Σ_t ∂gi_t,  ∂b_hh = Σ_t ∂gh_t")

    @staticmethod
    def forward(ctx, x, h0, w_ih, w_hh, b_ih, b_hh):
        steps, batch, _ = x.shape
        hidden = h0.shape[-1]
        gi = (x.reshape(steps * batch, -1) @ w_ih.T).reshape(steps, batch, 3 * hidden)
        if b_ih is not None:
            gi += b_ih
        y = np.empty((steps, batch, hidden), dtype=x.dtype)
        gates = np.empty((4, steps, batch, hidden), dtype=x.dtype)  # r, z, n, gh_n per step
        h = h0
        for t in range(steps):
            gh = h @ w_hh.T
            if b_hh is not None:
                gh += b_hh
            r, z, n, gh_n = _gru_gates(gi[t], gh, hidden)
            gates[:, t] = r, z, n, gh_n
            y[t] = (1 - z) * n + z * h  # h_t
            h = y[t]
        ctx.save_for_backward(x, h0, y, gates, w_ih, w_hh)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, h0, y, gates, w_ih, w_hh = ctx.saved_tensors
        steps, batch, hidden = y.shape
        d_gi = np.empty((steps, batch, 3 * hidden), dtype=grad.dtype)
        d_gh = np.empty((steps, batch, 3 * hidden), dtype=grad.dtype)
        h_prev = np.concatenate([h0[None], y[:-1]])  # h_0 … h_{T−1}
        dh_next = np.zeros((batch, hidden), dtype=grad.dtype)
        for t in reversed(range(steps)):
            r, z, n, gh_n = gates[:, t]
            dh = grad[t] + dh_next
            d_gi[t], d_gh[t], direct = _gru_step_backward(dh, h_prev[t], r, z, n, gh_n)
            dh_next = direct + d_gh[t] @ w_hh
        need = ctx.needs_input_grad
        gi2 = d_gi.reshape(steps * batch, 3 * hidden)
        gh2 = d_gh.reshape(steps * batch, 3 * hidden)
        grad_x = (gi2 @ w_ih).reshape(x.shape) if need[0] else None
        grad_w_ih = gi2.T @ x.reshape(steps * batch, -1) if need[2] else None
        grad_w_hh = gh2.T @ h_prev.reshape(steps * batch, hidden) if need[3] else None
        grad_b_ih = gi2.sum(axis=0) if need[4] else None
        grad_b_hh = gh2.sum(axis=0) if need[5] else None
        return grad_x, dh_next, grad_w_ih, grad_w_hh, grad_b_ih, grad_b_hh
