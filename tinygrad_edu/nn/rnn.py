"""Recurrent layers: RNN (tanh/relu), LSTM, GRU and their cells, PyTorch's names and shapes.

The LSTM and GRU steps, their backward through time and the Functions that compute them
(LSTMCellFn/GRUCellFn for one step, LSTMSequenceFn/GRUSequenceFn for a whole layer) are in
ops/rnn.py; reference/lstm.py has the LSTM loop in plain numpy, the oracle of the tests.

>>> import tinygrad_edu.nn as nn
>>> from tinygrad_edu import Tensor
>>> lstm = nn.LSTM(input_size=3, hidden_size=5, num_layers=2)
>>> out, (h, c) = lstm(Tensor.randn(7, 4, 3))       # (T, B, input) as PyTorch
>>> out.shape, h.shape, c.shape
((7, 4, 5), (2, 4, 5), (2, 4, 5))
>>> lstm.weight_ih_l0.shape, lstm.weight_hh_l1.shape
((20, 3), (20, 5))
"""

from __future__ import annotations

import math

import numpy as np

from ..ops.rnn import GRUCellFn, GRUSequenceFn, LSTMCellFn, LSTMSequenceFn
from ..tensor import Tensor, cat, stack
from . import functional as F
from . import init
from .module import Module, Parameter


# ---------------------------------------------------------------------------------------------
# Modules
# ---------------------------------------------------------------------------------------------
def _uniform_parameters(module: Module, hidden_size: int) -> None:
    """PyTorch's RNN initialisation: every weight and bias uniform(−1/√H, 1/√H)."""
    bound = 1.0 / math.sqrt(hidden_size) if hidden_size > 0 else 0
    for p in module.parameters():
        init.uniform_(p, -bound, bound)


class _RNNBase(Module):
    gates = 1
    mode = "RNN"

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False):
        super().__init__()
        if num_layers < 1 or hidden_size < 1:
            raise ValueError(f"num_layers ({num_layers}) and hidden_size ({hidden_size}) "
                             "must be positive")
        if not 0 <= dropout <= 1:
            raise ValueError(f"dropout must be in [0, 1], got {dropout}")
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, dropout
        self.bidirectional = bool(bidirectional)
        self.num_directions = 2 if bidirectional else 1
        rows = self.gates * hidden_size
        for layer in range(num_layers):
            width = input_size if layer == 0 else hidden_size * self.num_directions
            for suffix in self._suffixes():
                name = f"l{layer}{suffix}"
                setattr(self, f"weight_ih_{name}", Parameter(np.zeros((rows, width), np.float32)))
                setattr(self, f"weight_hh_{name}", Parameter(np.zeros((rows, hidden_size), np.float32)))
                if bias:
                    setattr(self, f"bias_ih_{name}", Parameter(np.zeros(rows, np.float32)))
                    setattr(self, f"bias_hh_{name}", Parameter(np.zeros(rows, np.float32)))
        self.reset_parameters()

    def _suffixes(self) -> tuple:
        """PyTorch's parameter name suffixes: '' forward in time, '_reverse' backward."""
        return ("", "_reverse") if self.bidirectional else ("",)

    def reset_parameters(self) -> None:
        _uniform_parameters(self, self.hidden_size)

    def _layer_params(self, layer: int, suffix: str = ""):
        get = lambda name: self._parameters.get(f"{name}_l{layer}{suffix}")  # noqa: E731
        return get("weight_ih"), get("weight_hh"), get("bias_ih"), get("bias_hh")

    def _run_layers(self, x: Tensor, states: list, run_direction):
        """Run every layer (and direction) over the sequence x (T, B, features).

        run_direction(x, params, initial_states or None) → (outputs (T, B, H), final states).
        The reverse direction reads the sequence backwards and its outputs are flipped back,
        so output[t] always holds both directions' state at time t (concatenated).
        Returns the last layer's output and each kind of final state stacked over
        layer·direction, as PyTorch's h_n / c_n.
        """
        finals = []
        for layer in range(self.num_layers):
            outputs = []
            for d, suffix in enumerate(self._suffixes()):
                k = layer * self.num_directions + d
                initial = [s[k] for s in states] or None
                reverse = suffix == "_reverse"
                out, last = run_direction(x.flip(0) if reverse else x,
                                          self._layer_params(layer, suffix), initial)
                outputs.append(out.flip(0) if reverse else out)
                finals.append(last)
            x = outputs[0] if len(outputs) == 1 else cat(outputs, dim=2)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, True)
        return x, [stack([f[i] for f in finals]) for i in range(len(finals[0]))]

    def _prepare(self, x: Tensor, hx):
        """Returns (x as (T, B, I), initial states as (L, B, H) arrays/tensors, unbatched?)."""
        if x.ndim not in (2, 3):
            raise ValueError(f"{self.mode}: expected a 2-D (unbatched) or 3-D input, got shape {x.shape}")
        unbatched = x.ndim == 2
        if unbatched:
            x = x.unsqueeze(1)
        elif self.batch_first:
            x = x.transpose(0, 1)
        if x.shape[0] == 0:
            raise ValueError(f"{self.mode}: the sequence is empty (input shape {x.shape})")
        if x.shape[2] != self.input_size:
            raise ValueError(f"{self.mode}: input has {x.shape[2]} features (shape {x.shape}), "
                             f"expected input_size={self.input_size}")
        batch = x.shape[1]
        expected = (self.num_layers * self.num_directions, batch, self.hidden_size)
        if hx is None:
            given = ()
        else:
            given = tuple(hx) if isinstance(hx, (tuple, list)) else (hx,)
        states = []
        for state in given:
            if unbatched:
                state = state.unsqueeze(1)
            if state.shape != expected:
                raise ValueError(f"{self.mode}: initial state of shape {state.shape}, expected "
                                 f"{expected[:1] + expected[2:] if unbatched else expected}")
            if state.dtype != x.dtype:
                raise TypeError(f"{self.mode}: initial state dtype {state.dtype} differs from "
                                f"the input's {x.dtype}")
            states.append(state)
        return x, states, unbatched

    def _finish(self, out: Tensor, states: list, unbatched: bool):
        if unbatched:
            return out.squeeze(1), [s.squeeze(1) for s in states]
        if self.batch_first:
            out = out.transpose(0, 1)
        return out, states

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s


class LSTM(_RNNBase):
    """Multi-layer LSTM as torch.nn.LSTM: lstm(x, (h0, c0)) → output, (h_n, c_n).

    x: (T, B, input_size), or (B, T, input_size) with batch_first=True, or (T, input_size).
    h0, c0: (num_layers·D, B, hidden_size), zeros when not given (D = 2 if bidirectional).
    output: (T, B, D·hidden_size), the last layer's h_t for every t (both directions
    concatenated); h_n, c_n: every layer's and direction's final states.
    """

    gates = 4
    mode = "LSTM"

    def forward(self, x: Tensor, hx=None):
        x, states, unbatched = self._prepare(x, hx)
        if hx is not None and len(states) != 2:
            raise ValueError("LSTM: hx must be a tuple (h0, c0)")
        if x.dtype != self.weight_ih_l0.dtype:
            raise TypeError(f"LSTM: input dtype {x.dtype} differs from the weights' "
                            f"{self.weight_ih_l0.dtype}; convert one (x.float() or lstm.double())")
        zeros = np.zeros((x.shape[1], self.hidden_size), dtype=x.dtype)

        def run_direction(x, params, initial):
            h0, c0 = initial if initial else (zeros, zeros)
            y = LSTMSequenceFn.apply(x, h0, c0, *params)
            steps = x.shape[0]
            return y[:steps], (y[steps - 1], y[steps])  # outputs, (h_T, c_T)

        out, (h, c) = self._run_layers(x, states, run_direction)
        out, (h, c) = self._finish(out, [h, c], unbatched)
        return out, (h, c)


class GRU(_RNNBase):
    """Multi-layer GRU as torch.nn.GRU: gru(x, h0) → output, h_n. Gates (r, z, n) stacked in
    weight_ih_l{k} (3H, I) and weight_hh_l{k} (3H, H), PyTorch's layout:

        r = σ(x W_irᵀ + b_ir + h W_hrᵀ + b_hr)      z = σ(x W_izᵀ + b_iz + h W_hzᵀ + b_hz)
        n = tanh(x W_inᵀ + b_in + r · (h W_hnᵀ + b_hn))      h' = (1 − z) · n + z · h

    Shapes as nn.RNN; each layer and direction is one GRUSequenceFn (ops/rnn.py).

    >>> gru = GRU(input_size=3, hidden_size=5, num_layers=2)
    >>> out, h = gru(Tensor.randn(7, 4, 3))
    >>> out.shape, h.shape, gru.weight_ih_l0.shape
    ((7, 4, 5), (2, 4, 5), (15, 3))
    """

    gates = 3
    mode = "GRU"

    def forward(self, x: Tensor, hx=None):
        x, states, unbatched = self._prepare(x, hx)
        if len(states) > 1:
            raise ValueError("GRU: hx must be one tensor h0 (a GRU has no cell state)")
        if x.dtype != self.weight_ih_l0.dtype:
            raise TypeError(f"GRU: input dtype {x.dtype} differs from the weights' "
                            f"{self.weight_ih_l0.dtype}; convert one (x.float() or gru.double())")
        zeros = np.zeros((x.shape[1], self.hidden_size), dtype=x.dtype)

        def run_direction(x, params, initial):
            h0 = initial[0] if initial else zeros
            y = GRUSequenceFn.apply(x, h0, *params)
            return y, (y[x.shape[0] - 1],)

        out, (h,) = self._run_layers(x, states, run_direction)
        out, (h,) = self._finish(out, [h], unbatched)
        return out, h


class RNN(_RNNBase):
    """Elman RNN as torch.nn.RNN: h_t = tanh(x_t W_ihᵀ + b_ih + h_{t−1} W_hhᵀ + b_hh)
    (nonlinearity='relu' for ReLU). rnn(x, h0) → output, h_n. Built from autograd ops, one
    small graph per step (the LSTM above shows the fused alternative)."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"unknown nonlinearity {nonlinearity!r}, use 'tanh' or 'relu'")
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional)
        self.nonlinearity = nonlinearity
        self.mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"

    def forward(self, x: Tensor, hx=None):
        x, states, unbatched = self._prepare(x, hx)
        act = F.tanh if self.nonlinearity == "tanh" else F.relu

        def run_direction(x, params, initial):
            w_ih, w_hh, b_ih, b_hh = params
            x_part = F.linear(x, w_ih, b_ih)  # the input's share, all steps at once
            h = initial[0] if initial else None
            outputs = []
            for step in range(x.shape[0]):
                z = x_part[step] if h is None else x_part[step] + F.linear(h, w_hh, b_hh)
                if h is None and b_hh is not None:
                    z = z + b_hh  # h0 = 0: only the bias of the hidden path remains
                h = act(z)
                outputs.append(h)
            return stack(outputs), (h,)

        out, (h,) = self._run_layers(x, states, run_direction)
        out, (h,) = self._finish(out, [h], unbatched)
        return out, h

    def extra_repr(self) -> str:
        s = super().extra_repr()
        return s if self.nonlinearity == "tanh" else s + ", nonlinearity='relu'"


class LSTMCell(Module):
    """One LSTM step as torch.nn.LSTMCell: cell(x, (h, c)) → (h', c').
    x: (B, input_size) or (input_size,); weight_ih: (4H, input_size), weight_hh: (4H, H)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True):
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        self.weight_ih = Parameter(np.zeros((4 * hidden_size, input_size), np.float32))
        self.weight_hh = Parameter(np.zeros((4 * hidden_size, hidden_size), np.float32))
        self.register_parameter("bias_ih", Parameter(np.zeros(4 * hidden_size, np.float32)) if bias else None)
        self.register_parameter("bias_hh", Parameter(np.zeros(4 * hidden_size, np.float32)) if bias else None)
        _uniform_parameters(self, hidden_size)

    def forward(self, x: Tensor, hx=None):
        unbatched = x.ndim == 1
        if unbatched:
            x = x.unsqueeze(0)
        if x.ndim != 2 or x.shape[1] != self.input_size:
            raise ValueError(f"LSTMCell: input of shape {x.shape}, expected (B, {self.input_size})")
        if hx is None:
            zeros = Tensor(np.zeros((x.shape[0], self.hidden_size), dtype=x.dtype))
            hx = (zeros, zeros)
        h, c = (t.unsqueeze(0) if unbatched else t for t in hx)
        if h.shape != (x.shape[0], self.hidden_size) or c.shape != h.shape:
            raise ValueError(f"LSTMCell: states of shapes {h.shape}, {c.shape}, expected "
                             f"{(x.shape[0], self.hidden_size)}")
        z = F.linear(x, self.weight_ih, self.bias_ih) + F.linear(h, self.weight_hh, self.bias_hh)
        hc = LSTMCellFn.apply(z, c)
        h, c = hc[0], hc[1]
        return (h[0], c[0]) if unbatched else (h, c)

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias_ih is not None else ", bias=False")


class GRUCell(Module):
    """One GRU step as torch.nn.GRUCell: cell(x, h) → h' (formulas: nn.GRU, GRUCellFn).
    x: (B, input_size) or (input_size,); weight_ih: (3H, input_size), weight_hh: (3H, H)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True):
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        self.weight_ih = Parameter(np.zeros((3 * hidden_size, input_size), np.float32))
        self.weight_hh = Parameter(np.zeros((3 * hidden_size, hidden_size), np.float32))
        self.register_parameter("bias_ih", Parameter(np.zeros(3 * hidden_size, np.float32)) if bias else None)
        self.register_parameter("bias_hh", Parameter(np.zeros(3 * hidden_size, np.float32)) if bias else None)
        _uniform_parameters(self, hidden_size)

    def forward(self, x: Tensor, hx=None):
        unbatched = x.ndim == 1
        if unbatched:
            x = x.unsqueeze(0)
        if x.ndim != 2 or x.shape[1] != self.input_size:
            raise ValueError(f"GRUCell: input of shape {x.shape}, expected (B, {self.input_size})")
        if hx is None:
            hx = Tensor(np.zeros((x.shape[0], self.hidden_size), dtype=x.dtype))
        elif unbatched:
            hx = hx.unsqueeze(0)
        if hx.shape != (x.shape[0], self.hidden_size):
            raise ValueError(f"GRUCell: state of shape {hx.shape}, expected "
                             f"{(x.shape[0], self.hidden_size)}")
        gi = F.linear(x, self.weight_ih, self.bias_ih)
        gh = F.linear(hx, self.weight_hh, self.bias_hh)
        h = GRUCellFn.apply(gi, gh, hx)
        return h[0] if unbatched else h

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias_ih is not None else ", bias=False")


class RNNCell(Module):
    """One Elman step as torch.nn.RNNCell: h' = tanh(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh"):
        super().__init__()
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"unknown nonlinearity {nonlinearity!r}, use 'tanh' or 'relu'")
        self.input_size, self.hidden_size, self.nonlinearity = input_size, hidden_size, nonlinearity
        self.weight_ih = Parameter(np.zeros((hidden_size, input_size), np.float32))
        self.weight_hh = Parameter(np.zeros((hidden_size, hidden_size), np.float32))
        self.register_parameter("bias_ih", Parameter(np.zeros(hidden_size, np.float32)) if bias else None)
        self.register_parameter("bias_hh", Parameter(np.zeros(hidden_size, np.float32)) if bias else None)
        _uniform_parameters(self, hidden_size)

    def forward(self, x: Tensor, h=None):
        if h is None:
            h = Tensor(np.zeros(x.shape[:-1] + (self.hidden_size,), dtype=x.dtype))
        z = F.linear(x, self.weight_ih, self.bias_ih) + F.linear(h, self.weight_hh, self.bias_hh)
        return F.tanh(z) if self.nonlinearity == "tanh" else F.relu(z)

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}"
