"""max_pool2d, avg_pool2d, upsample_nearest2d and max_unpool2d as plain numpy loops: the oracle for
csrc/max_pool.pyx, csrc/avg_pool.pyx and csrc/upsample.pyx, and for MaxUnpool2dFn (numpy only).

The formulas: MaxPool2dFn, AvgPool2dFn and UpsampleNearest2dFn in tinygrad_edu/ops/pool.py (the
windows and their padding: that file's module docstring).

One Python loop over the output positions (i, j) and, inside it, over the window; the batch and
channel axes (N, C) ride along as numpy vectors. Same arguments and results as the compiled
kernels (tinygrad_edu._C.max_pool, .avg_pool, .upsample), same order of additions, so float
results agree bit for bit.

>>> x = np.arange(16.0).reshape(1, 1, 4, 4)
>>> out, idx = max_pool2d_forward(x, (2, 2), (2, 2), (0, 0), (1, 1), (2, 2))
>>> out[0, 0]
array([[ 5.,  7.],
       [13., 15.]])
>>> idx[0, 0]
array([[ 5,  7],
       [13, 15]])
"""

from __future__ import annotations

import numpy as np


def _window(i, j, kernel, stride, padding, dilation=(1, 1)):
    """The (ih, iw) of window (i, j), row by row, padding included (the callers skip it)."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    return [(i * sh - ph + m * dh, j * sw - pw + k * dw) for m in range(kh) for k in range(kw)]


def max_pool2d_forward(x, kernel, stride, padding, dilation, out_size):
    """(out, idx): MaxPool2dFn's maximum of each window and idx = ih·W + iw of the first one
    (NaN counts as the maximum; −1 when the window holds no input element)."""
    N, C, H, W = x.shape
    out = np.full((N, C) + tuple(out_size), -np.inf, dtype=x.dtype)
    idx = np.full(out.shape, -1, dtype=np.int64)
    for i in range(out_size[0]):
        for j in range(out_size[1]):
            best = np.full((N, C), -np.inf, dtype=x.dtype)
            best_at = np.full((N, C), -1, dtype=np.int64)
            for ih, iw in _window(i, j, kernel, stride, padding, dilation):
                if not (0 <= ih < H and 0 <= iw < W):
                    continue  # padding never wins
                v = x[:, :, ih, iw]
                wins = (best_at < 0) | (v > best) | np.isnan(v)
                best = np.where(wins, v, best)
                best_at = np.where(wins, ih * W + iw, best_at)
            out[:, :, i, j] = best
            idx[:, :, i, j] = best_at
    return out, idx


def max_pool2d_backward(g, idx, in_size):
    """MaxPool2dFn's ∂L/∂x: grad[n,c,·] (flattened H·W) gets g[n,c,i,j] added at idx[n,c,i,j]."""
    N, C = g.shape[:2]
    H, W = in_size
    grad = np.zeros((N, C, H * W), dtype=g.dtype)
    for n in range(N):
        for c in range(C):
            for p, at in enumerate(idx[n, c].ravel()):
                if at >= 0:
                    grad[n, c, at] += g[n, c].ravel()[p]
    return grad.reshape(N, C, H, W)


def avg_divisor(i, j, kernel, stride, padding, in_size, count_include_pad, divisor_override):
    """AvgPool2dFn's divisor of window (i, j) (0 when the window holds no input element)."""
    (kh, kw), (sh, sw), (ph, pw), (H, W) = kernel, stride, padding, in_size
    h0, w0 = i * sh - ph, j * sw - pw
    h1, w1 = min(h0 + kh, H + ph), min(w0 + kw, W + pw)
    padded_size = (h1 - h0) * (w1 - w0)
    h0, w0, h1, w1 = max(h0, 0), max(w0, 0), min(h1, H), min(w1, W)
    if h0 >= h1 or w0 >= w1:
        return 0
    if divisor_override:
        return divisor_override
    return padded_size if count_include_pad else (h1 - h0) * (w1 - w0)


def avg_pool2d_forward(x, kernel, stride, padding, out_size, count_include_pad=True,
                       divisor_override=None):
    """AvgPool2dFn's forward: each window's sum / its divisor."""
    N, C, H, W = x.shape
    out = np.zeros((N, C) + tuple(out_size), dtype=x.dtype)
    for i in range(out_size[0]):
        for j in range(out_size[1]):
            divisor = avg_divisor(i, j, kernel, stride, padding, (H, W), count_include_pad,
                                  divisor_override)
            total = np.zeros((N, C), dtype=x.dtype)
            for ih, iw in _window(i, j, kernel, stride, padding):
                if 0 <= ih < H and 0 <= iw < W:
                    total = total + x[:, :, ih, iw]
            if divisor > 0:
                out[:, :, i, j] = total / x.dtype.type(divisor)
    return out


def avg_pool2d_backward(g, in_size, kernel, stride, padding, count_include_pad=True,
                        divisor_override=None):
    """AvgPool2dFn's ∂L/∂x: each window's g / divisor added to each of its input elements."""
    N, C = g.shape[:2]
    H, W = in_size
    grad = np.zeros((N, C, H, W), dtype=g.dtype)
    for i in range(g.shape[2]):
        for j in range(g.shape[3]):
            divisor = avg_divisor(i, j, kernel, stride, padding, (H, W), count_include_pad,
                                  divisor_override)
            if divisor == 0:
                continue
            share = g[:, :, i, j] / g.dtype.type(divisor)
            for ih, iw in _window(i, j, kernel, stride, padding):
                if 0 <= ih < H and 0 <= iw < W:
                    grad[:, :, ih, iw] += share
    return grad


def upsample_nearest2d_forward(x, src_h, src_w):
    """UpsampleNearest2dFn's forward: out[n,c,i,j] = x[n,c,src_h[i],src_w[j]]."""
    out = np.empty(x.shape[:2] + (len(src_h), len(src_w)), dtype=x.dtype)
    for i, y in enumerate(src_h):
        for j, x_col in enumerate(src_w):
            out[:, :, i, j] = x[:, :, y, x_col]
    return out


def upsample_nearest2d_backward(g, src_h, src_w, in_size):
    """UpsampleNearest2dFn's ∂L/∂x: each g[n,c,i,j] added at (src_h[i], src_w[j])."""
    grad = np.zeros(g.shape[:2] + tuple(in_size), dtype=g.dtype)
    for i, y in enumerate(src_h):
        for j, x_col in enumerate(src_w):
            grad[:, :, y, x_col] += g[:, :, i, j]
    return grad


def max_unpool2d_forward(x, idx, out_size):
    """MaxUnpool2dFn's forward: each x[n,c,i,j] written at the flat position idx[n,c,i,j] of its
    (OH, OW) plane, in order (a later write to the same place wins), zeros elsewhere."""
    N, C = x.shape[:2]
    out = np.zeros((N, C, out_size[0] * out_size[1]), dtype=x.dtype)
    for n in range(N):
        for c in range(C):
            for value, at in zip(x[n, c].ravel(), idx[n, c].ravel()):
                out[n, c, at] = value
    return out.reshape(N, C, *out_size)


def max_unpool2d_backward(g, idx):
    """MaxUnpool2dFn's ∂L/∂x: element (i, j) reads g at the flat position idx[n,c,i,j]."""
    N, C = g.shape[:2]
    grad = np.zeros(idx.shape, dtype=g.dtype)
    for n in range(N):
        for c in range(C):
            flat = g[n, c].ravel()
            for p, at in enumerate(idx[n, c].ravel()):
                grad[n, c].flat[p] = flat[at]
    return grad
