"""conv2d and conv_transpose2d as plain numpy loops: the oracle for csrc/conv.pyx, and the version
to read first.

The formulas: Conv2dFn and ConvTranspose2dFn in tinygrad_edu/ops/conv.py. Shapes: x (N, C, H, W),
w (O, C/groups, KH, KW), h (N, O, OH, OW); s stride, p padding, d dilation, all (height, width)
pairs (`padding` here is an int pair (p_h, p_w), never 'same').

The loops below run over (o, c, m, k); for one kernel tap (m, k), X[n,c, i·s+m·d−p, j·s+k·d−p]
for all i, j is a strided slice of the zero-padded input, so the loops over n, i, j are one
numpy expression.

>>> import numpy as np
>>> x = np.arange(9.0).reshape(1, 1, 3, 3)
>>> conv2d_forward(x, np.ones((1, 1, 2, 2)))     # each output = sum of a 2×2 window
array([[[[ 8., 12.],
         [20., 24.]]]])
"""

from __future__ import annotations

import numpy as np

from ..ops._args import ntuple


def _tap(padded, m, k, out_h, out_w, s, d):
    """The slice X[:, :, i·s+m·d−p, j·s+k·d−p] for all i < out_h, j < out_w of the padded input."""
    top, left = m * d[0], k * d[1]
    return padded[..., top: top + s[0] * (out_h - 1) + 1: s[0], left: left + s[1] * (out_w - 1) + 1: s[1]]


def conv_output_size(size, kernel, stride, padding, dilation):
    """OH of Conv2dFn's formulas, along one axis."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def conv2d_forward(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """h = b + the sum over c, m, k of W·X (Conv2dFn's formula for h)."""
    s, p, d = ntuple(stride, 2), ntuple(padding, 2), ntuple(dilation, 2)
    N, C, H, W = x.shape
    O, C_g, KH, KW = w.shape
    OH = conv_output_size(H, KH, s[0], p[0], d[0])
    OW = conv_output_size(W, KW, s[1], p[1], d[1])
    padded = np.pad(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])))
    h = np.zeros((N, O, OH, OW), dtype=np.result_type(x, w))
    O_g = O // groups
    for o in range(O):
        if b is not None:
            h[:, o] += b[o]
        for c in range(C_g):
            c_in = (o // O_g) * C_g + c          # the input channel c of o's group
            for m in range(KH):
                for k in range(KW):
                    h[:, o] += w[o, c, m, k] * _tap(padded[:, c_in], m, k, OH, OW, s, d)
    return h


def conv2d_backward(x, w, dh, stride=1, padding=0, dilation=1, groups=1):
    """(∂X, ∂W, ∂b) of conv2d for the upstream gradient ∂h (N, O, OH, OW): Conv2dFn's formulas."""
    s, p, d = ntuple(stride, 2), ntuple(padding, 2), ntuple(dilation, 2)
    N, C, H, W = x.shape
    O, C_g, KH, KW = w.shape
    OH, OW = dh.shape[2:]
    padded = np.pad(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])))
    d_padded = np.zeros_like(padded, dtype=np.result_type(x, dh))
    dw = np.zeros(w.shape, dtype=np.result_type(w, dh))
    O_g = O // groups
    for o in range(O):
        for c in range(C_g):
            c_in = (o // O_g) * C_g + c
            for m in range(KH):
                for k in range(KW):
                    # ∂W[o,c,m,k]: the sum over n, i, j of this tap's X times ∂h
                    dw[o, c, m, k] = np.sum(_tap(padded[:, c_in], m, k, OH, OW, s, d) * dh[:, o])
                    # ∂X: W[o,c,m,k]·∂h added back at the same positions (scattered)
                    _tap(d_padded[:, c_in], m, k, OH, OW, s, d)[...] += w[o, c, m, k] * dh[:, o]
    dx = d_padded[:, :, p[0]: p[0] + H, p[1]: p[1] + W]
    db = dh.sum(axis=(0, 2, 3))
    return dx, dw, db


def conv_transpose2d_forward(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1,
                             dilation=1):
    """The scatter of conv2d's ∂X, as a layer: x (N, C_in, H, W), w (C_in, C_out/groups, KH, KW);
    the formulas (and OH): ConvTranspose2dFn in tinygrad_edu/ops/conv.py."""
    s, p, d = ntuple(stride, 2), ntuple(padding, 2), ntuple(dilation, 2)
    op = ntuple(output_padding, 2)
    N, C_in, H, W = x.shape
    _, C_out_g, KH, KW = w.shape
    C_out = C_out_g * groups
    OH = (H - 1) * s[0] - 2 * p[0] + d[0] * (KH - 1) + op[0] + 1
    OW = (W - 1) * s[1] - 2 * p[1] + d[1] * (KW - 1) + op[1] + 1
    # a big enough canvas: the padded output plus room for every tap; cropped at the end
    canvas = np.zeros((N, C_out, OH + 2 * p[0] + s[0] + d[0] * KH, OW + 2 * p[1] + s[1] + d[1] * KW),
                      dtype=np.result_type(x, w))
    C_in_g = C_in // groups
    for ci in range(C_in):
        for co_g in range(C_out_g):
            co = (ci // C_in_g) * C_out_g + co_g
            for m in range(KH):
                for k in range(KW):
                    _tap(canvas[:, co], m, k, H, W, s, d)[...] += w[ci, co_g, m, k] * x[:, ci]
    out = canvas[:, :, p[0]: p[0] + OH, p[1]: p[1] + OW].copy()
    if b is not None:
        out += b.reshape(1, -1, 1, 1)
    return out


def conv_transpose2d_backward(x, w, dout, stride=1, padding=0, output_padding=0, groups=1,
                              dilation=1):
    """(∂X, ∂W, ∂b) of conv_transpose2d: gather from ∂out where the forward scattered."""
    s, p, d = ntuple(stride, 2), ntuple(padding, 2), ntuple(dilation, 2)
    N, C_in, H, W = x.shape
    _, C_out_g, KH, KW = w.shape
    OH, OW = dout.shape[2:]
    canvas = np.zeros((N, dout.shape[1], OH + 2 * p[0] + s[0] + d[0] * KH,
                       OW + 2 * p[1] + s[1] + d[1] * KW), dtype=dout.dtype)
    canvas[:, :, p[0]: p[0] + OH, p[1]: p[1] + OW] = dout
    dx = np.zeros(x.shape, dtype=np.result_type(x, dout))
    dw = np.zeros(w.shape, dtype=np.result_type(w, dout))
    C_in_g = C_in // groups
    for ci in range(C_in):
        for co_g in range(C_out_g):
            co = (ci // C_in_g) * C_out_g + co_g
            for m in range(KH):
                for k in range(KW):
                    tap = _tap(canvas[:, co], m, k, H, W, s, d)
                    dx[:, ci] += w[ci, co_g, m, k] * tap
                    dw[ci, co_g, m, k] = np.sum(x[:, ci] * tap)
    return dx, dw, dout.sum(axis=(0, 2, 3))
