"""tinygrad_edu against PyTorch, each measured as its users run it.

    python benchmarks/bench_torch.py [--quick] [--rounds 3]   (or as part of benchmarks/run.py)

Every case is written once against a library `lib` (tinygrad_edu's API is PyTorch's), and
each library runs in a process of its own with the environment you started this script in
(nothing is set for either). Two more processes check the import orders: tinygrad_edu timed
after PyTorch was imported and warmed up in the same process, and PyTorch timed after
tinygrad_edu was. The four processes run in rounds (3 by default); each cell of the table is
the median over the rounds of each process's median, in milliseconds (µs per op for the last
case). On a shared or virtual machine, single runs drift by ±20 %: compare medians of rounds.

Convolution cases also give their rate as a fraction of this machine's sgemm ceiling (numpy's
float32 matrix product at its best square size, measured in the same run):
fwd+bwd = 3 · 2·N·O·OH·OW·C·KH·KW / groups flops, divided by the time.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys

import numpy as np
from common import cpu_model, median_ms, sgemm_ceiling

CONV_CASES = {  # name: (input shape, out channels, kernel, padding)
    "conv (64,3,32,32)->32 k3 p1": ((64, 3, 32, 32), 32, 3, 1),
    "conv (64,32,16,16)->64 k3 p1": ((64, 32, 16, 16), 64, 3, 1),
    "conv (128,1,32,32)->6 k5": ((128, 1, 32, 32), 6, 5, 0),
}


# ---------------------------------------------------------------------------------------------
# The cases, once for both libraries: each returns a step() to time
# ---------------------------------------------------------------------------------------------
def conv_case(lib, rng, shape, out_channels, k, pad):
    x = lib.tensor(rng.standard_normal(shape, dtype=np.float32), requires_grad=True)
    w = lib.tensor(rng.standard_normal((out_channels, shape[1], k, k), dtype=np.float32) * 0.1,
                   requires_grad=True)
    b = lib.tensor(rng.standard_normal(out_channels, dtype=np.float32), requires_grad=True)
    size = shape[2] + 2 * pad - k + 1
    g = lib.tensor(rng.standard_normal((shape[0], out_channels, size, size), dtype=np.float32))

    def step():
        x.grad = w.grad = b.grad = None
        lib.nn.functional.conv2d(x, w, b, padding=pad).backward(g)
    return step


def pool_case(lib, rng, pool):
    x = lib.tensor(rng.standard_normal((64, 32, 32, 32), dtype=np.float32), requires_grad=True)
    g = lib.tensor(rng.standard_normal((64, 32, 16, 16), dtype=np.float32))

    def step():
        x.grad = None
        pool(x, 2).backward(g)
    return step


def training_case(lib, rng, model, x_shape):
    """One SGD step of `model` on a batch of 128 with cross-entropy."""
    lib.manual_seed(0)
    net = model(lib.nn)
    x = lib.tensor(rng.standard_normal((128,) + x_shape, dtype=np.float32))
    y = lib.tensor(rng.integers(0, 10, 128))
    opt = lib.optim.SGD(net.parameters(), lr=0.01)

    def step():
        opt.zero_grad()
        lib.nn.functional.cross_entropy(net(x), y).backward()
        opt.step()
    return step


def lenet5(nn):
    return nn.Sequential(nn.Conv2d(1, 6, 5), nn.Tanh(), nn.AvgPool2d(2), nn.Conv2d(6, 16, 5),
                         nn.Tanh(), nn.AvgPool2d(2), nn.Flatten(), nn.Linear(400, 120), nn.Tanh(),
                         nn.Linear(120, 84), nn.Tanh(), nn.Linear(84, 10))


def mlp(nn):
    return nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))


def lstm_case(lib, rng):
    lib.manual_seed(0)
    lstm = lib.nn.LSTM(64, 128)
    x = lib.tensor(rng.standard_normal((32, 32, 64), dtype=np.float32), requires_grad=True)

    def step():
        lstm.zero_grad()
        x.grad = None
        out, _ = lstm(x)
        out.sum().backward()
    return step


def small_ops_case(lib, rng):
    """1,000 adds and multiplies on 4 elements, with autograd (per-op overhead)."""
    a = lib.tensor(rng.standard_normal(4, dtype=np.float32), requires_grad=True)
    b = lib.tensor(rng.uniform(-0.9, 0.9, 4).astype(np.float32))   # |b| < 1: y stays finite

    def step():
        y = a
        for _ in range(500):
            y = y * b + a
        return y
    return step


def cases(lib):
    rng = np.random.default_rng(0)
    made = {name: conv_case(lib, rng, *args) for name, args in CONV_CASES.items()}
    made["max pool 2x2 (64,32,32,32)"] = pool_case(lib, rng, lib.nn.functional.max_pool2d)
    made["avg pool 2x2 (64,32,32,32)"] = pool_case(lib, rng, lib.nn.functional.avg_pool2d)
    made["LeNet-5 train step (batch 128)"] = training_case(lib, rng, lenet5, (1, 32, 32))
    made["MLP 784-128-10 train step"] = training_case(lib, rng, mlp, (784,))
    made["nn.LSTM fwd+bwd T=32 B=32 64->128"] = lstm_case(lib, rng)
    made["1,000 add/mul on 4 elements (us/op)"] = small_ops_case(lib, rng)
    return made


# ---------------------------------------------------------------------------------------------
# One process: time one library (optionally after importing and warming up the other)
# ---------------------------------------------------------------------------------------------
def warm_up(lib) -> None:
    """What a user's earlier code would do: a convolution and a matrix product, with backward."""
    x = lib.tensor(np.ones((8, 4, 16, 16), np.float32), requires_grad=True)
    w = lib.tensor(np.ones((4, 4, 3, 3), np.float32), requires_grad=True)
    (lib.nn.functional.conv2d(x, w).sum() + (x.reshape(8, -1) @ x.reshape(8, -1).T).sum()).backward()


def import_library(name):
    if name == "torch":
        import torch
        return torch
    import tinygrad_edu
    return tinygrad_edu


def worker(name: str, first: str | None, quick: bool) -> dict:
    if first:
        warm_up(import_library(first))
    lib = import_library(name)
    result = {"threads": lib.get_num_threads(), "times": {}}
    for case, step in cases(lib).items():
        repeat = 3 if case.startswith("1,000") else (7 if quick else 25)
        ms = median_ms(step, repeat=repeat)
        result["times"][case] = ms * 1e3 / 1000 if case.startswith("1,000") else ms
    if name == "tinygrad_edu" and not first:
        result["sgemm"] = sgemm_ceiling()
    return result


# ---------------------------------------------------------------------------------------------
# The driver: four processes, one table
# ---------------------------------------------------------------------------------------------
def run_worker(name: str, first: str | None, quick: bool) -> dict:
    command = [sys.executable, os.path.abspath(__file__), "--worker", name]
    command += ["--first", first] if first else []
    command += ["--quick"] if quick else []
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def blas_threads() -> str:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown (threadpoolctl not installed)"
    return ", ".join(f"{i['internal_api']} {i['num_threads']}" for i in threadpool_info()
                     if i["user_api"] == "blas") or "none found"


def conv_gflop(shape, out_channels, k, pad) -> float:
    n, c, h, w = shape
    oh, ow = h + 2 * pad - k + 1, w + 2 * pad - k + 1
    return 3 * 2 * n * out_channels * oh * ow * c * k * k / 1e9


def pct_change(after: float, before: float) -> str:
    return f"{(after / before - 1) * 100:+.0f}%"


def median_of_rounds(results: list) -> dict:
    """One worker's results over several rounds: each time the median over the rounds."""
    merged = dict(results[0])
    merged["times"] = {case: float(np.median([r["times"][case] for r in results]))
                       for case in results[0]["times"]}
    if "sgemm" in merged:
        merged["sgemm"] = float(np.median([r["sgemm"] for r in results]))
    return merged


def run(quick: bool = False, rounds: int = 3) -> None:
    """`rounds` rounds of the four processes, interleaved (a machine whose speed drifts moves
    all four alike); each cell is the median over the rounds."""
    have_torch = importlib.util.find_spec("torch") is not None   # (timed in its own process)
    configs = [("tinygrad_edu", None)]
    if have_torch:
        configs += [("torch", None), ("tinygrad_edu", "torch"), ("torch", "tinygrad_edu")]
    collected = {config: [] for config in configs}
    for _ in range(1 if quick else rounds):
        for config in configs:
            collected[config].append(run_worker(*config, quick))
    ours = median_of_rounds(collected[("tinygrad_edu", None)])
    theirs = ours_after_torch = torch_after_ours = None
    if have_torch:
        theirs = median_of_rounds(collected[("torch", None)])
        ours_after_torch = median_of_rounds(collected[("tinygrad_edu", "torch")])
        torch_after_ours = median_of_rounds(collected[("torch", "tinygrad_edu")])

    ceiling = ours["sgemm"]
    print(f"CPU: {cpu_model()}, {os.cpu_count()} logical CPUs; numpy {np.__version__}, "
          f"BLAS threads: {blas_threads()}")
    print(f"threads: tinygrad_edu {ours['threads']}"
          + (f", PyTorch {theirs['threads']}" if theirs else ", PyTorch not installed"))
    print(f"sgemm ceiling (numpy float32 matmul, best of 1024/2048/3072): {ceiling:.0f} GFLOP/s")
    header = ["case", "ours", "PyTorch", "ours/PyTorch", "ours after torch", "torch after ours"]
    rows = []
    for case, ms in ours["times"].items():
        row = [case, f"{ms:.2f}"]
        if case in CONV_CASES:
            rate = conv_gflop(*CONV_CASES[case]) / ms * 1e3
            row[1] += f" ({rate / ceiling:.0%})"
        if theirs:
            t = theirs["times"][case]
            cell = f"{t:.2f}"
            if case in CONV_CASES:
                cell += f" ({conv_gflop(*CONV_CASES[case]) / t * 1e3 / ceiling:.0%})"
            row += [cell, f"{ms / t:.2f}x",
                    f"{ours_after_torch['times'][case]:.2f} ({pct_change(ours_after_torch['times'][case], ms)})",
                    f"{torch_after_ours['times'][case]:.2f} ({pct_change(torch_after_ours['times'][case], t)})"]
        rows.append(row)
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(rows[0]))]
    print(f"\nmedians in ms (µs per op in the last row), median over {len(collected[configs[0]])} "
          "round(s) of separate processes; (x%) = fraction of the sgemm ceiling")
    for k, row in enumerate([header] + rows):
        print("  ".join(c.ljust(wd) if i == 0 else c.rjust(wd) for i, (c, wd) in
                        enumerate(zip(row, widths))))
        if k == 0:
            print("  ".join("-" * wd for wd in widths))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions, one round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the four processes")
    parser.add_argument("--worker", choices=["tinygrad_edu", "torch"], help=argparse.SUPPRESS)
    parser.add_argument("--first", choices=["tinygrad_edu", "torch"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.first, args.quick)))
    else:
        run(args.quick, args.rounds)
