"""Pooling and upsampling, forward + backward through the public autograd API, float32.

Cases on x of shape (64, 32, 32, 32): max and average pooling 2×2 (stride 2), nearest upsampling
×2. Each is timed for tinygrad_edu's fast path, its direct path (for comparison) and a numpy-only
"reshape trick" version written below, all in the same run. "fast/numpy" is our time / numpy's
(lower is better); "direct/fast" is how many times longer the direct path takes.

PyTorch: benchmarks/bench_torch.py, each library in a process of its own.
"""

from __future__ import annotations

import numpy as np
from common import median_ms, print_machine, print_table, ratio

import tinygrad_edu as tg
from tinygrad_edu.nn.functional import avg_pool2d, interpolate, max_pool2d

SHAPE = (64, 32, 32, 32)


# --- numpy-only versions: view each 2×2 window as two extra axes of length 2 -----------------
# x.reshape(N, C, H/2, 2, W/2, 2)[n, c, i, r, j, s] = x[n, c, 2i + r, 2j + s]; elementwise ops on
# the four strided corner views are faster in numpy than a reduction over the axes (3, 5).
def _corners(windows):
    return (windows[:, :, :, 0, :, 0], windows[:, :, :, 0, :, 1],
            windows[:, :, :, 1, :, 0], windows[:, :, :, 1, :, 1])


def numpy_max_pool_2x2(x, g):
    """Forward: max of the four corners. Backward: g where x equals its window's max
    (a tie sends g to every maximum: the usual shortcut of this trick)."""
    N, C, H, W = x.shape
    windows = x.reshape(N, C, H // 2, 2, W // 2, 2)
    a, b, c, d = _corners(windows)
    out = np.maximum(np.maximum(a, b), np.maximum(c, d))
    grad = (windows == out[:, :, :, None, :, None]) * g[:, :, :, None, :, None]
    return out, grad.reshape(x.shape)


def numpy_avg_pool_2x2(x, g):
    """Forward: the four corners' mean. Backward: g / 4 broadcast into each window."""
    N, C, H, W = x.shape
    windows = x.reshape(N, C, H // 2, 2, W // 2, 2)
    a, b, c, d = _corners(windows)
    out = (a + b + c + d) * np.float32(0.25)
    grad = np.empty_like(x)
    grad.reshape(windows.shape)[...] = (g * np.float32(0.25))[:, :, :, None, :, None]
    return out, grad


def numpy_upsample_x2(x, g):
    """Forward: broadcast each pixel into a 2×2 block. Backward: sum each 2×2 block of g."""
    N, C, H, W = x.shape
    out = np.empty((N, C, H, 2, W, 2), dtype=x.dtype)
    out[...] = x[:, :, :, None, :, None]
    a, b, c, d = _corners(g.reshape(N, C, H, 2, W, 2))
    return out.reshape(N, C, 2 * H, 2 * W), a + b + c + d


def _ours(op, x_data, g, backend):
    x = tg.Tensor(x_data, requires_grad=True)

    def step():
        with tg.use_backend(backend):
            x.grad = None
            op(x).backward(g)
    return step


def run(quick: bool = False) -> None:
    repeat = 5 if quick else 30
    rng = np.random.default_rng(0)
    x = rng.standard_normal(SHAPE).astype(np.float32)
    g_small = rng.standard_normal((64, 32, 16, 16)).astype(np.float32)
    g_big = rng.standard_normal((64, 32, 64, 64)).astype(np.float32)
    cases = [
        ("max_pool2d 2x2", lambda t: max_pool2d(t, 2), numpy_max_pool_2x2, g_small),
        ("avg_pool2d 2x2", lambda t: avg_pool2d(t, 2), numpy_avg_pool_2x2, g_small),
        ("upsample nearest x2", lambda t: interpolate(t, scale_factor=2), numpy_upsample_x2, g_big),
    ]
    rows = []
    for name, op, numpy_op, g in cases:
        ours = median_ms(_ours(op, x, g, "fast"), repeat=repeat)
        direct = median_ms(_ours(op, x, g, "direct"), repeat=max(3, repeat // 5))
        numpy_ms = median_ms(lambda: numpy_op(x, g), repeat=repeat)
        rows.append([name, ours, direct, numpy_ms, ratio(ours, numpy_ms), ratio(direct, ours)])
    print_table(f"pooling / upsampling fwd+bwd on {SHAPE} float32 (ms, median of {repeat}; "
                "fast/numpy = our time / numpy's, lower is better)",
                ["case", "fast ms", "direct ms", "numpy ms", "fast/numpy", "direct/fast"],
                rows)


if __name__ == "__main__":
    import sys
    print_machine()
    run(quick="--quick" in sys.argv)
