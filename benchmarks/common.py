"""Timing helpers shared by the benchmark scripts (never used by the tests).

PyTorch is never imported here: it is compared in benchmarks/bench_torch.py, each library in a
process of its own.
"""

from __future__ import annotations

import functools
import platform
import time
from typing import Callable

import numpy as np


def median_ms(fn: Callable[[], object], repeat: int = 20, warmup: int = 3) -> float:
    """Median wall time of fn() in milliseconds, after `warmup` untimed calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times) * 1e3)


@functools.lru_cache(maxsize=None)
def sgemm_ceiling(sizes: tuple[int, ...] = (1024, 2048, 3072), repeat: int = 5) -> float:
    """This machine's float32 matrix-product ceiling in GFLOP/s: numpy's best rate over square
    products of the given sizes (median of `repeat` runs each). Measured once per process."""
    rng = np.random.default_rng(0)
    best = 0.0
    for n in sizes:
        a = rng.standard_normal((n, n), dtype=np.float32)
        b = rng.standard_normal((n, n), dtype=np.float32)
        ms = median_ms(lambda: a @ b, repeat=repeat, warmup=1)
        best = max(best, 2 * n ** 3 / ms / 1e6)
    return best


def cpu_model() -> str:
    """The "model name" line of /proc/cpuinfo, else platform.processor() (or the machine)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def print_machine() -> None:
    """One line on what the timings were taken on: CPU model and tinygrad_edu's thread count."""
    import tinygrad_edu as tg

    print(f"CPU: {cpu_model()}; tinygrad_edu threads: {tg.get_num_threads()}")


def ratio(ours: float, other: float | None) -> str:
    """'1.23x' = how many times longer ours takes than the other (lower is better)."""
    return "-" if other is None or other == 0 else f"{ours / other:.2f}x"


def print_table(title: str, header: list[str], rows: list[list[object]]) -> None:
    """A plain fixed-width table."""
    cells = [header] + [[f"{c:.2f}" if isinstance(c, float) else str(c) for c in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    print(f"\n{title}")
    for k, row in enumerate(cells):
        print("  ".join(cell.rjust(w) if i else cell.ljust(w) for i, (cell, w) in enumerate(zip(row, widths))))
        if k == 0:
            print("  ".join("-" * w for w in widths))
