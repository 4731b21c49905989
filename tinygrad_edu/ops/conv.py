"""Convolution: conv2d, conv1d and conv_transpose2d as autograd Functions over compiled kernels.

Shapes (PyTorch's): x (N, C, H, W), W (O, C/groups, KH, KW), b (O,), h (N, O, OH, OW);
s stride, p padding, d dilation. Convolution is cross-correlation, as on the slides. The
formulas, forward and backward, are written out once, in `Conv2dFn`'s docstring below; the
compiled loops (csrc/conv.pyx) and the numpy reference (reference/conv.py) point back to it.

One op, one name, all the way down:

    F.conv2d (nn/functional.py)  →  Conv2dFn (here)  →  _C.conv.conv2d_forward_fast / _direct
    (csrc/conv.pyx)  →  reference.conv.conv2d_forward (the oracle)  →  tests/test_conv.py

"fast" (the default) = im2col + BLAS, "direct" = the loop nest of the formula; chosen by
`tinygrad_edu.set_backend`, both tested against the reference.

The slide example, a 3×3 input and a 2×2 kernel (so h is 2×2), with every ∂W sum written out:

>>> import numpy as np
>>> import tinygrad_edu as tg
>>> import tinygrad_edu.nn.functional as F
>>> X = tg.Tensor(np.arange(1.0, 10.0).reshape(1, 1, 3, 3))       # X11 … X33 = 1 … 9
>>> W = tg.Tensor(np.array([[[[1.0, 2.0], [3.0, 4.0]]]]), requires_grad=True)
>>> h = F.conv2d(X, W)                                               # h11 = X11·W11 + X12·W12 + X21·W21 + X22·W22
>>> h.data[0, 0]
array([[37., 47.],
       [67., 77.]])
>>> dh = np.array([[[[1.0, -1.0], [2.0, 0.5]]]])                  # ∂L/∂h arriving from above
>>> h.backward(dh)
>>> x, g = X.data[0, 0], dh[0, 0]                                  # x[0, 0] is X11, g[0, 0] is ∂h11
>>> dW11 = x[0, 0] * g[0, 0] + x[0, 1] * g[0, 1] + x[1, 0] * g[1, 0] + x[1, 1] * g[1, 1]
>>> dW12 = x[0, 1] * g[0, 0] + x[0, 2] * g[0, 1] + x[1, 1] * g[1, 0] + x[1, 2] * g[1, 1]
>>> dW21 = x[1, 0] * g[0, 0] + x[1, 1] * g[0, 1] + x[2, 0] * g[1, 0] + x[2, 1] * g[1, 1]
>>> dW22 = x[1, 1] * g[0, 0] + x[1, 2] * g[0, 1] + x[2, 1] * g[1, 0] + x[2, 2] * g[1, 1]
>>> print(dW11, dW12, dW21, dW22)      # ∂W11 = X11·∂h11 + X12·∂h12 + X21·∂h21 + X22·∂h22, …
9.5 12.0 17.0 19.5
>>> W.grad[0, 0]
array([[ 9.5, 12. ],
       [17. , 19.5]])
>>> bool(np.array_equal(W.grad[0, 0], [[dW11, dW12], [dW21, dW22]]))
True
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._C import conv as _kernels
from .._C import winograd as _winograd
from ..backend import get_backend
from ..function import Function
from ._args import ntuple


class ConvGeometry(NamedTuple):
    """Everything but the arrays: (height, width) pairs, padding = rows/columns added at the
    top/left (the bottom/right get whatever the output size needs), out_size = (OH, OW)."""
    stride: tuple
    padding: tuple
    dilation: tuple
    groups: int
    out_size: tuple

    @property
    def args(self):
        return self.stride, self.padding, self.dilation, self.groups


# ---------------------------------------------------------------------------------------------
# The three kernels, on whichever path the backend names (looked up at call time, so tests can
# watch which one runs)
# ---------------------------------------------------------------------------------------------
def _forward(x, w, b, out_size, geo, path):
    """(h, cols or None): the convolution of x with w (+ b) at output size out_size."""
    if path == "direct":
        return _kernels.conv2d_forward_direct(x, w, b, out_size, *geo.args), None
    return _kernels.conv2d_forward_fast(x, w, b, out_size, *geo.args)


def _grad_input(dh, w, in_size, geo, path):
    if path == "direct":
        return _kernels.conv2d_grad_input_direct(dh, w, in_size, *geo.args)
    return _kernels.conv2d_grad_input_fast(dh, w, in_size, *geo.args)


def _grad_weight(x, dh, kernel_size, geo, path, cols=None):
    if path == "direct":
        return _kernels.conv2d_grad_weight_direct(x, dh, kernel_size, *geo.args)
    return _kernels.conv2d_grad_weight_fast(x, dh, kernel_size, *geo.args, cols=cols)


# ---------------------------------------------------------------------------------------------
# Winograd F(2×2, 3×3) (csrc/winograd.pyx has the algorithm): the fast path's choice for 3×3,
# stride-1 convolutions with enough channels; 2.25 times fewer multiplications than im2col
# ---------------------------------------------------------------------------------------------
WINOGRAD_G = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0.0, 0.0, 1.0]])
# G w Gᵀ for every (o, c) at once, as one product: with w flattened row by row (9 values),
# (G w Gᵀ)[i, j] = Σ_m,k G[i, m]·G[j, k]·w[m, k] = (G ⊗ G)[4i + j, 3m + k] · w[3m + k]
WINOGRAD_GG = np.kron(WINOGRAD_G, WINOGRAD_G)   # (16, 9)
# Below this many input or output channels the 16 small products run far below BLAS's best
# rate and the transforms cost more than they save (benchmarks/bench_conv.py measures it).
WINOGRAD_MIN_CHANNELS = 16


def winograd_applies(x_shape, w_shape, geo) -> bool:
    return (tuple(w_shape[2:]) == (3, 3) and geo.stride == (1, 1) and geo.dilation == (1, 1)
            and geo.groups == 1 and x_shape[0] > 0 and min(x_shape[1], w_shape[0]) >=
            WINOGRAD_MIN_CHANNELS)


# The batch goes through in chunks of samples, each chunk's tile arrays (V, M, ∂M, ∂V) in
# scratch buffers of about this size, so one step's output is still in the cache when the
# next step reads it. V is made again in backward (one cheap pass) instead of being kept.
WINOGRAD_CHUNK_BYTES = 4 << 20


def _winograd_chunks(x_shape, out_size, channels, itemsize):
    """(n0, n1) ranges of samples whose largest tile array stays near WINOGRAD_CHUNK_BYTES."""
    tiles = ((out_size[0] + 1) // 2) * ((out_size[1] + 1) // 2)
    per_sample = 16 * channels * tiles * itemsize
    step = max(1, WINOGRAD_CHUNK_BYTES // max(per_sample, 1))
    return [(n0, min(n0 + step, x_shape[0])) for n0 in range(0, x_shape[0], step)]


def winograd_forward(x, w, b, geo):
    """(h, U): h = conv2d(x, w) + b; U (16, O, C), the transformed weight, is kept for backward."""
    N, O, C = x.shape[0], w.shape[0], w.shape[1]
    GG = WINOGRAD_GG.astype(x.dtype)
    U = (GG @ w.reshape(O * C, 9).T).reshape(16, O, C)                              # G w Gᵀ
    bias = np.zeros(O, dtype=x.dtype) if b is None else b
    h = np.empty((N, O) + tuple(geo.out_size), dtype=x.dtype)
    for n0, n1 in _winograd_chunks(x.shape, geo.out_size, max(C, O), x.itemsize):
        V = _winograd.input_transform(x[n0:n1], geo.out_size, geo.padding, "winograd.V")  # Bᵀ d B
        M = np.matmul(U, V, out=_winograd.tile_array(O, V.shape[2], x.dtype, "winograd.M"))
        _winograd.output_transform(M, bias, n1 - n0, geo.out_size, out=h[n0:n1])   # Aᵀ M A + b
    return h, U


def winograd_backward(x, U, g, need_x, need_w, geo):
    """(∂x or None, ∂w or None): each forward step's adjoint, in reverse order, chunk by chunk."""
    O, C = U.shape[1], U.shape[2]
    dx = np.zeros(x.shape, dtype=g.dtype) if need_x else None
    dU = np.zeros((16, O, C), dtype=g.dtype) if need_w else None
    for n0, n1 in _winograd_chunks(x.shape, geo.out_size, max(C, O), x.itemsize):
        dM = _winograd.output_adjoint(g[n0:n1], "winograd.dM")                         # A ∂h Aᵀ
        if need_x:
            dV = np.matmul(U.transpose(0, 2, 1), dM,                                   # U[ξ]ᵀ ∂M[ξ]
                           out=_winograd.tile_array(C, dM.shape[2], g.dtype, "winograd.dV"))
            _winograd.input_adjoint(dV, x[n0:n1].shape, geo.out_size, geo.padding,
                                    out=dx[n0:n1])                                      # B ∂V Bᵀ
        if need_w:
            V = _winograd.input_transform(x[n0:n1], geo.out_size, geo.padding, "winograd.V")
            dU += np.matmul(dM, V.transpose(0, 2, 1))                                  # ∂M[ξ] V[ξ]ᵀ
    dw = None
    if need_w:
        GG = WINOGRAD_GG.astype(g.dtype)
        dw = (dU.reshape(16, O * C).T @ GG).reshape(O, C, 3, 3)                        # Gᵀ ∂U G
    return dx, dw


def _has_infinity(a) -> bool:
    """Whether a holds +inf or −inf, from two reductions that make no temporary array (a NaN
    hides the answer from max/min: then the slower test)."""
    if a.size == 0:
        return False
    largest = max(abs(a.max()), abs(a.min()))
    return bool(largest == np.inf or (largest != largest and np.isinf(a).any()))


def _contiguous(*arrays):
    return [None if a is None else np.ascontiguousarray(a) for a in arrays]


# ---------------------------------------------------------------------------------------------
# Functions
# ---------------------------------------------------------------------------------------------
class Conv2dFn(Function):
    """h = conv2d(x, W) + b.   x (N, C, H, W), W (O, C/groups, KH, KW), b (O,) → h (N, O, OH, OW).

    The formulas of the slides (every other file points here), with g = ∂L/∂h:

        h[n,o,i,j]     = b[o] + Σ_c Σ_m Σ_k W[o,c,m,k] · X[n,c, i·s+m·d−p, j·s+k·d−p]  (0 outside X)
        ∂L/∂W[o,c,m,k] = Σ_n Σ_i Σ_j X[n,c, i·s+m·d−p, j·s+k·d−p] · g[n,o,i,j]
        ∂L/∂b[o]       = Σ_n Σ_i Σ_j g[n,o,i,j]
        ∂L/∂X[n,c, i·s+m·d−p, j·s+k·d−p] += W[o,c,m,k] · g[n,o,i,j]   (the same sum, scattered:
                         the full correlation of g with the flipped kernel, conv_transpose2d(g, W))
        OH             = ⌊(H + 2p − d·(KH−1) − 1) / s⌋ + 1

    With groups, channel c only meets the output channels o of its own group.
    """

    rule = ("∂W[o,c,m,k] = Σ_n,i,j X[n,c,i·s+m·d−p, j·s+k·d−p]·g[n,o,i,j];  ∂b[o] = Σ_n,i,j "
            "g[n,o,i,j];  ∂X = g scattered back through W (conv_transpose2d(g, W))")

    @staticmethod
    def forward(ctx, x, w, b, geo):
        x, w, b = _contiguous(x, w, b)
        ctx.path = get_backend()                    # backward uses the same path as forward
        ctx.geo = geo
        # (±inf: Winograd's transforms subtract, inf − inf would make NaN where the formula
        # gives ±inf, so such inputs take im2col; the check is one cheap pass over x)
        if ctx.path == "fast" and winograd_applies(x.shape, w.shape, geo) and not _has_infinity(x):
            ctx.path = "winograd"
            h, U = winograd_forward(x, w, b, geo)
            ctx.save_for_backward(x, w, U)          # x, and the transformed weight
            return h
        h, cols = _forward(x, w, b, geo.out_size, geo, ctx.path)
        ctx.save_for_backward(x, w, cols)           # cols (fast path): im2col(x), reused for ∂W
        return h

    @staticmethod
    def backward(ctx, g):
        x, w, kept = ctx.saved_tensors               # kept: U (winograd), cols (fast) or None
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        g = np.ascontiguousarray(g)
        db = g.sum(axis=(0, 2, 3)) if need_b else None
        path, cols = ctx.path, kept
        if path == "winograd":
            if not _has_infinity(g):
                dx, dw = winograd_backward(x, kept, g, need_x, need_w, ctx.geo)
                return dx, dw, db, None
            path, cols = "fast", None            # ±inf in g: im2col (recomputes the columns)
        if path == "fast":         # the same two formulas, sharing one transpose of g
            dx, dw = _kernels.conv2d_backward_fast(x, w, g, cols, need_x, need_w, *ctx.geo.args)
        else:
            dx = _grad_input(g, w, x.shape[2:], ctx.geo, path) if need_x else None
            dw = _grad_weight(x, g, w.shape[2:], ctx.geo, path) if need_w else None
        return dx, dw, db, None


class Conv1dFn(Function):
    """conv2d on a height-1 image: x (N, C, L), W (O, C/groups, K) → h (N, O, OL).

    Same formulas as Conv2dFn with m = 0 and i = 0: ∂W[o,c,k] = Σ_n Σ_j X[n,c, j·s+k·d−p]·g[n,o,j].
    """

    rule = ("∂W[o,c,k] = Σ_n,j X[n,c,j·s+k·d−p]·g[n,o,j];  ∂b[o] = Σ_n,j g[n,o,j];  "
            "∂X = g scattered back through W")

    @staticmethod
    def forward(ctx, x, w, b, geo):
        h = Conv2dFn.forward(ctx, x[:, :, np.newaxis, :], w[:, :, np.newaxis, :], b, geo)
        return h[:, :, 0, :]

    @staticmethod
    def backward(ctx, g):
        dx, dw, db, _ = Conv2dFn.backward(ctx, g[:, :, np.newaxis, :])
        return (None if dx is None else dx[:, :, 0, :]), (None if dw is None else dw[:, :, 0, :]), db, None


class ConvTranspose2dFn(Function):
    """out = conv_transpose2d(x, W) + b: the adjoint of conv2d, run on the same kernels.

    x (N, C_in, H, W), W (C_in, C_out/groups, KH, KW) → out (N, C_out, OH, OW),
    OH = (H−1)·s − 2p + d·(KH−1) + output_padding + 1.

    Read W as the weight of a conv2d from C_out to C_in channels. Then this layer's forward is
    that conv2d's input gradient (each x[n,ci,i,j] is scattered through W), and its backward is
    that conv2d's forward and weight gradient:
        out      = ∂X of conv2d(·, W) at ∂h = x
        ∂L/∂x    = conv2d(g, W)                      (gather where the forward scattered)
        ∂L/∂W    = conv2d's ∂W with X = g, ∂h = x:  Σ_n Σ_i Σ_j g[n,co, i·s+m·d−p, j·s+k·d−p]·x[n,ci,i,j]
        ∂L/∂b    = Σ_n Σ_i Σ_j g[n,co,i,j]
    """

    rule = ("∂x = conv2d(g, W) (gather where the forward scattered);  ∂W[ci,co,m,k] = Σ_n,i,j "
            "g[n,co,i·s+m·d−p, j·s+k·d−p]·x[n,ci,i,j];  ∂b[co] = Σ_n,i,j g[n,co,i,j]")

    @staticmethod
    def forward(ctx, x, w, b, geo):
        x, w, b = _contiguous(x, w, b)
        ctx.path = get_backend()
        ctx.geo = geo
        ctx.save_for_backward(x, w)
        out = _grad_input(x, w, geo.out_size, geo, ctx.path)
        if b is not None:
            out += b.reshape(1, -1, 1, 1)
        return out

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        g = np.ascontiguousarray(g)
        dx = cols = None
        if need_x or need_w:
            dx, cols = _forward(g, w, None, x.shape[2:], ctx.geo, ctx.path)   # cols = im2col(g)
        dw = _grad_weight(g, x, w.shape[2:], ctx.geo, ctx.path, cols) if need_w else None
        db = g.sum(axis=(0, 2, 3)) if need_b else None
        return (dx if need_x else None), dw, db, None


# ---------------------------------------------------------------------------------------------
# Argument checks (PyTorch's rules) on shapes, before a kernel runs. The Tensor-level functions
# conv2d, conv1d and conv_transpose2d (nn/functional.py) call these.
# ---------------------------------------------------------------------------------------------
def _check_groups(fn: str, shapes: str, groups) -> int:
    if not isinstance(groups, (int, np.integer)) or isinstance(groups, bool):
        raise TypeError(f"{fn}: groups must be an int, got {groups!r} ({shapes})")
    if groups <= 0:
        raise ValueError(f"{fn}: groups must be positive, got {groups} ({shapes})")
    return int(groups)


def _check_not_empty(fn: str, x_shape, w_shape, shapes: str) -> None:
    """No channels in the input, or an empty weight, is refused (PyTorch refuses an empty
    weight, and for an input with no channels its conv2d gives the wrong shape, (N, 0, OH, OW));
    so is an empty image in a non-empty batch (PyTorch refuses it too)."""
    if x_shape[1] == 0 or 0 in w_shape:
        raise ValueError(f"{fn}: the input's channels and every axis of the weight must be "
                         f"non-empty ({shapes})")
    if x_shape[0] != 0 and 0 in tuple(x_shape[2:]):   # PyTorch: "Only zero batch or zero
        raise ValueError(f"{fn}: an input with an empty spatial axis must have an empty batch "
                         f"too, as in PyTorch ({shapes})")   # channel inputs are supported"


def _check_positive(fn: str, shapes: str, stride, dilation, padding) -> None:
    if min(stride) <= 0:
        raise ValueError(f"{fn}: stride must be positive, got {stride} ({shapes})")
    if min(dilation) <= 0:
        raise ValueError(f"{fn}: dilation must be positive, got {dilation} ({shapes})")
    if min(padding) < 0:
        raise ValueError(f"{fn}: padding must not be negative, got {padding} ({shapes})")


def conv_geometry(fn, x_shape, w_shape, bias_shape, stride, padding, dilation,
                  groups) -> ConvGeometry:
    """Check a convolution's arguments (spatial dims = len(x_shape) − 2) and size its output:
    OH = ⌊(H + 2p − d·(KH−1) − 1) / s⌋ + 1 per spatial axis."""
    dims = len(x_shape) - 2
    shapes = f"input {x_shape}, weight {w_shape}"
    groups = _check_groups(fn, shapes, groups)
    stride = ntuple(stride, dims, "stride", fn)
    dilation = ntuple(dilation, dims, "dilation", fn)
    kernel = tuple(w_shape[2:])
    if isinstance(padding, str):
        if padding == "valid":
            pad_before = total_pad = (0,) * dims
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(f"{fn}: padding='same' is not supported for strided convolutions "
                                 f"(stride {stride}; {shapes})")
            total_pad = tuple(d * (k - 1) for d, k in zip(dilation, kernel))
            pad_before = tuple(t // 2 for t in total_pad)   # the odd one goes after, as PyTorch
        else:
            raise ValueError(f"{fn}: padding must be 'same', 'valid', an int or a tuple, got "
                             f"{padding!r} ({shapes})")
    else:
        pad_before = ntuple(padding, dims, "padding", fn)
        total_pad = tuple(2 * p for p in pad_before)
    _check_positive(fn, shapes, stride, dilation, pad_before)
    out_channels, in_per_group = w_shape[0], w_shape[1]
    _check_not_empty(fn, x_shape, w_shape, shapes)
    if x_shape[1] != in_per_group * groups:
        raise ValueError(f"{fn}: input of shape {x_shape} has {x_shape[1]} channels, but weight of "
                         f"shape {w_shape} with groups={groups} expects {in_per_group * groups}")
    if out_channels % groups:
        raise ValueError(f"{fn}: weight of shape {w_shape} has {out_channels} output channels, "
                         f"not divisible by groups={groups}")
    if bias_shape is not None and tuple(bias_shape) != (out_channels,):
        raise ValueError(f"{fn}: bias of shape {tuple(bias_shape)} does not match weight "
                         f"{w_shape}: expected ({out_channels},)")
    out_size = []
    for size, k, s, p, d in zip(x_shape[2:], kernel, stride, total_pad, dilation):
        span = d * (k - 1) + 1                                 # the dilated kernel's extent
        if size + p < span:
            raise ValueError(f"{fn}: kernel {kernel} (dilation {dilation}, extent {span}) is larger "
                             f"than the padded input: input {x_shape}, padding {pad_before}")
        out_size.append((size + p - span) // s + 1)
    return ConvGeometry(stride, pad_before, dilation, groups, tuple(out_size))


def conv_transpose2d_geometry(x_shape, w_shape, bias_shape, stride, padding, output_padding,
                              groups, dilation) -> ConvGeometry:
    """Check conv_transpose2d's arguments and size its output:
    OH = (H−1)·s − 2p + d·(KH−1) + output_padding + 1."""
    fn = "conv_transpose2d"
    shapes = f"input {x_shape}, weight {w_shape}"
    groups = _check_groups(fn, shapes, groups)
    stride = ntuple(stride, 2, "stride", fn)
    dilation = ntuple(dilation, 2, "dilation", fn)
    if isinstance(padding, str):
        raise ValueError(f"{fn}: padding must be an int or a tuple, got {padding!r} ({shapes})")
    padding = ntuple(padding, 2, "padding", fn)
    output_padding = ntuple(output_padding, 2, "output_padding", fn)
    _check_positive(fn, shapes, stride, dilation, padding)
    for op, s, d in zip(output_padding, stride, dilation):
        if op < 0 or op >= max(s, d):
            raise ValueError(f"{fn}: output_padding {output_padding} must be ≥ 0 and smaller than "
                             f"either stride {stride} or dilation {dilation} ({shapes})")
    in_channels, out_per_group = w_shape[0], w_shape[1]
    _check_not_empty(fn, x_shape, w_shape, shapes)
    if x_shape[1] != in_channels:
        raise ValueError(f"{fn}: input of shape {x_shape} has {x_shape[1]} channels, but weight of "
                         f"shape {w_shape} expects {in_channels}")
    if in_channels % groups:
        raise ValueError(f"{fn}: weight of shape {w_shape} has {in_channels} input channels, "
                         f"not divisible by groups={groups}")
    out_channels = out_per_group * groups
    if bias_shape is not None and tuple(bias_shape) != (out_channels,):
        raise ValueError(f"{fn}: bias of shape {tuple(bias_shape)} does not match weight {w_shape} "
                         f"with groups={groups}: expected ({out_channels},)")
    out_size = tuple((size - 1) * s - 2 * p + d * (k - 1) + op + 1 for size, s, p, d, k, op in
                     zip(x_shape[2:], stride, padding, dilation, w_shape[2:], output_padding))
    if min(out_size) <= 0:
        raise ValueError(f"{fn}: input {x_shape}, weight {w_shape}, stride {stride}, padding "
                         f"{padding}, dilation {dilation} give an empty output of size {out_size}")
    return ConvGeometry(stride, padding, dilation, groups, out_size)
