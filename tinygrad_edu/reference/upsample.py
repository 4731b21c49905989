"""Bilinear resizing as a plain loop over the output pixels: the oracle for
UpsampleBilinear2dFn (tinygrad_edu/ops/pool.py), which does the same with two matrix products.

For each output pixel (i, j): find the source point (sy, sx) in the input (PyTorch's rule,
`source_index`), take the 2×2 pixels around it and mix them with the weights of the distances:

    out[i,j] = (1−λy)·((1−λx)·x[y0,x0] + λx·x[y0,x1]) + λy·((1−λx)·x[y1,x0] + λx·x[y1,x1])

and backward hands g[i,j] to the same four pixels with the same four weights.

>>> x = np.array([[[[0.0, 1.0], [2.0, 3.0]]]])
>>> upsample_bilinear2d_forward(x, (3, 3), align_corners=True)[0, 0]
array([[0. , 0.5, 1. ],
       [1. , 1.5, 2. ],
       [2. , 2.5, 3. ]])
"""

from __future__ import annotations

import math

import numpy as np


def source_index(dst: int, in_size: int, out_size: int, align_corners: bool, scale=None):
    """(lo, hi, λ): output position dst reads (1 − λ)·in[lo] + λ·in[hi]."""
    if in_size == out_size:
        return dst, dst, 0.0
    if align_corners:
        src = dst * (in_size - 1) / (out_size - 1) if out_size > 1 else 0.0
    else:
        ratio = 1.0 / scale if scale else in_size / out_size
        src = max((dst + 0.5) * ratio - 0.5, 0.0)
    lo = min(int(math.floor(src)), in_size - 1)
    hi = min(lo + 1, in_size - 1)
    return lo, hi, min(max(src - lo, 0.0), 1.0)


def upsample_bilinear2d_forward(x, out_size, align_corners=False, scales=(None, None)):
    """x (N, C, H, W) → (N, C, OH, OW), pixel by pixel (N and C ride along as numpy vectors)."""
    N, C, H, W = x.shape
    OH, OW = out_size
    out = np.zeros((N, C, OH, OW), dtype=x.dtype)
    for i in range(OH):
        y0, y1, ly = source_index(i, H, OH, align_corners, scales[0])
        for j in range(OW):
            x0, x1, lx = source_index(j, W, OW, align_corners, scales[1])
            top = (1 - lx) * x[:, :, y0, x0] + lx * x[:, :, y0, x1]
            bottom = (1 - lx) * x[:, :, y1, x0] + lx * x[:, :, y1, x1]
            out[:, :, i, j] = (1 - ly) * top + ly * bottom
    return out


def upsample_bilinear2d_backward(g, in_size, align_corners=False, scales=(None, None)):
    """∂L/∂x (N, C, H, W): each g[n,c,i,j] added to its four source pixels, times their weights."""
    N, C, OH, OW = g.shape
    H, W = in_size
    grad = np.zeros((N, C, H, W), dtype=g.dtype)
    for i in range(OH):
        y0, y1, ly = source_index(i, H, OH, align_corners, scales[0])
        for j in range(OW):
            x0, x1, lx = source_index(j, W, OW, align_corners, scales[1])
            gij = g[:, :, i, j]
            grad[:, :, y0, x0] += (1 - ly) * (1 - lx) * gij
            grad[:, :, y0, x1] += (1 - ly) * lx * gij
            grad[:, :, y1, x0] += ly * (1 - lx) * gij
            grad[:, :, y1, x1] += ly * lx * gij
    return grad
