"""Per-op overhead of the engine: a chain of 1,000 small add/mul ops, forward and backward.

On 4-element tensors the arithmetic is free; what is measured is the bookkeeping per op
(making the result, recording the graph node, the topological sort, calling each backward).
Printed beside a minimal numpy tape written below (the least an autograd can do), in µs per op,
timed interleaved in the same run; "vs ..." is the row's time / that column's (lower is better).

PyTorch: benchmarks/bench_torch.py, each library in a process of its own.
"""

from __future__ import annotations

import time

import numpy as np
from common import print_machine, print_table, ratio

import tinygrad_edu as tg

CHAIN = 1000  # ops per run: 500 adds and 500 muls


def chain_ours():
    x = tg.Tensor(np.ones(4, dtype=np.float32), requires_grad=True)
    c = tg.Tensor(np.full(4, 0.999, dtype=np.float32))
    y = x
    for _ in range(CHAIN // 2):
        y = y * c
        y = y + c
    y.backward(np.ones(4, dtype=np.float32))
    return x.grad


def chain_numpy_tape():
    """The least an autograd can do: a list of (backward closure) recorded in forward order."""
    x = np.ones(4, dtype=np.float32)
    c = np.full(4, 0.999, dtype=np.float32)
    tape = []
    y = x
    for _ in range(CHAIN // 2):
        tape.append(lambda g, c=c: g * c)   # d(y·c)/dy = c
        y = y * c
        tape.append(lambda g: g)            # d(y+c)/dy = 1
        y = y + c
    g = np.ones(4, dtype=np.float32)
    for step in reversed(tape):
        g = step(g)
    return g


def interleaved_us_per_op(fns: dict, repeat: int) -> dict:
    """Median µs/op of each fn, timed in turn round after round, so that load on the machine
    hits all of them alike (a fairer ratio than timing one after the other)."""
    times = {name: [] for name in fns}
    for round_ in range(repeat + 3):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            if round_ >= 3:  # the first rounds are warm-up
                times[name].append(time.perf_counter() - start)
    return {name: float(np.median(t)) * 1e6 / CHAIN for name, t in times.items()}


def run(quick: bool = False) -> None:
    repeat = 10 if quick else 60
    measured = interleaved_us_per_op({"ours": chain_ours, "tape": chain_numpy_tape}, repeat)
    ours, tape = measured["ours"], measured["tape"]
    np.testing.assert_allclose(chain_ours(), chain_numpy_tape(), rtol=1e-5)
    rows = [["tinygrad_edu", ours, "1.00x", ratio(ours, tape)],
            ["numpy tape (no graph objects)", tape, ratio(tape, ours), "1.00x"]]
    print_table(f"Engine overhead: chain of {CHAIN} add/mul ops on 4 elements, forward+backward "
                "(ratio = row's time / column's, lower is better)",
                ["engine", "us/op", "vs ours", "vs numpy tape"], rows)


if __name__ == "__main__":
    import sys
    print_machine()
    run(quick="--quick" in sys.argv)
