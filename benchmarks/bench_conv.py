"""conv2d forward + backward (∂x, ∂W, ∂b), float32: tinygrad_edu vs a numpy-only im2col.

Each case times one full training step of the layer: forward, then backward with a fixed
upstream gradient, through the public autograd API (Tensors in, .backward()). "raw" is the
same work calling the compiled kernels directly (no Tensor/graph bookkeeping); the last case
runs the direct (loop) kernels instead of the fast (im2col + GEMM) ones. GFLOP/s counts
3 × 2·N·O·OH·OW·C·KH·KW (the forward product and the two gradient products); "of sgemm" is
that rate as a fraction of this machine's float32 matmul ceiling (common.sgemm_ceiling(),
printed above the table). "vs numpy" is our time / numpy's (lower is better).

PyTorch: benchmarks/bench_torch.py, each library in a process of its own.
"""

from __future__ import annotations

import numpy as np
from common import median_ms, print_machine, print_table, ratio, sgemm_ceiling
from numpy.lib.stride_tricks import sliding_window_view

import tinygrad_edu as tg
from tinygrad_edu._C import conv as kernels
from tinygrad_edu.nn.functional import conv2d

CASES = [  # (label, input shape, out channels, kernel, padding, path)
    ("(64,3,32,32)->32 k3 p1", (64, 3, 32, 32), 32, 3, 1, "fast"),
    ("(64,32,16,16)->64 k3 p1", (64, 32, 16, 16), 64, 3, 1, "fast"),
    ("(128,1,32,32)->6 k5", (128, 1, 32, 32), 6, 5, 0, "fast"),
    ("(64,3,32,32)->32 k3 p1 direct", (64, 3, 32, 32), 32, 3, 1, "direct"),
]


def numpy_im2col_step(x, w, b, g, pad):
    """A fair numpy-only conv2d forward + backward: sliding-window im2col, BLAS products,
    and ∂x scattered back with one strided add per kernel offset."""
    N, C, H, W = x.shape
    O, _, KH, KW = w.shape
    padded = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    OH, OW = H + 2 * pad - KH + 1, W + 2 * pad - KW + 1
    windows = sliding_window_view(padded, (KH, KW), axis=(2, 3))             # (N, C, OH, OW, KH, KW)
    cols = windows.transpose(0, 2, 3, 1, 4, 5).reshape(N * OH * OW, C * KH * KW)
    w2 = w.reshape(O, -1)
    y = (cols @ w2.T).reshape(N, OH, OW, O).transpose(0, 3, 1, 2) + b.reshape(1, O, 1, 1)
    g2 = g.transpose(0, 2, 3, 1).reshape(N * OH * OW, O)
    dw = (g2.T @ cols).reshape(w.shape)
    db = g.sum(axis=(0, 2, 3))
    dcols = (g2 @ w2).reshape(N, OH, OW, C, KH, KW)
    d_padded = np.zeros_like(padded)
    for m in range(KH):
        for k in range(KW):
            d_padded[:, :, m:m + OH, k:k + OW] += dcols[:, :, :, :, m, k].transpose(0, 3, 1, 2)
    dx = d_padded[:, :, pad:pad + H, pad:pad + W]
    return y, dx, dw, db


def run(quick: bool = False) -> None:
    repeat = 5 if quick else 20
    ceiling = sgemm_ceiling()
    rng = np.random.default_rng(0)
    rows = []
    for label, shape, out_channels, k, pad, path in CASES:
        x = rng.standard_normal(shape, dtype=np.float32)
        w = rng.standard_normal((out_channels, shape[1], k, k), dtype=np.float32) * 0.1
        b = rng.standard_normal(out_channels, dtype=np.float32)
        OH, OW = shape[2] + 2 * pad - k + 1, shape[3] + 2 * pad - k + 1
        g = rng.standard_normal((shape[0], out_channels, OH, OW), dtype=np.float32)
        gflop = 3 * 2 * shape[0] * out_channels * OH * OW * shape[1] * k * k / 1e9
        tx, tw, tb = (tg.Tensor(a, requires_grad=True) for a in (x, w, b))

        def ours():
            tx.grad = tw.grad = tb.grad = None
            with tg.use_backend(path):
                conv2d(tx, tw, tb, padding=pad).backward(g)

        geo = ((1, 1), (pad, pad), (1, 1), 1)

        def raw():
            if path == "fast":
                _, cols = kernels.conv2d_forward_fast(x, w, b, (OH, OW), *geo)
                kernels.conv2d_grad_input_fast(g, w, shape[2:], *geo)
                kernels.conv2d_grad_weight_fast(x, g, (k, k), *geo, cols=cols)
            else:
                kernels.conv2d_forward_direct(x, w, b, (OH, OW), *geo)
                kernels.conv2d_grad_input_direct(g, w, shape[2:], *geo)
                kernels.conv2d_grad_weight_direct(x, g, (k, k), *geo)
            g.sum(axis=(0, 2, 3))

        ours_ms = median_ms(ours, repeat=repeat)
        raw_ms = median_ms(raw, repeat=repeat)
        numpy_ms = median_ms(lambda: numpy_im2col_step(x, w, b, g, pad), repeat=repeat)
        gflops = gflop / ours_ms * 1e3
        rows.append([label, ours_ms, raw_ms, gflops, f"{gflops / ceiling:.0%}",
                     numpy_ms, ratio(ours_ms, numpy_ms)])
    print_table("conv2d forward+backward, float32, ms (vs numpy = our time / numpy's; lower is better)"
                f"\nsgemm ceiling (numpy float32 matmul, best of 1024/2048/3072): {ceiling:.1f} GFLOP/s",
                ["case", "ours ms", "raw ms", "GFLOP/s", "of sgemm", "numpy ms", "vs numpy"],
                rows)


if __name__ == "__main__":
    import sys
    print_machine()
    run(quick="--quick" in sys.argv)
