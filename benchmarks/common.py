"""Timing helpers shared by the benchmark scripts (never used by the tests)."""

from __future__ import annotations

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


def try_import_torch():
    """PyTorch if installed (set to use both cores), else None."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(2)
    return torch


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
