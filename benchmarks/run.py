"""Run every benchmark in one go: `python benchmarks/run.py [--only conv pool ...] [--quick]`.

Each benchmarks/bench_NAME.py defines run(quick: bool) and prints its own table. First one line
on the machine (CPU model, tinygrad_edu's thread count). Then, in this process, tinygrad_edu
against plain numpy measured in the same run: engine (per-op overhead), conv (milliseconds,
GFLOP/s and the fraction of numpy's sgemm ceiling), pool, models. Ratios are our time / theirs,
lower is better. PyTorch is never imported in this process: bench_torch (`--only torch`) runs
each library in a process of its own and always comes last. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from glob import glob

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

LAST = "torch"  # spawns its own processes: run after the in-process benchmarks


def main() -> None:
    names = sorted(os.path.basename(p)[len("bench_"):-3] for p in glob(os.path.join(HERE, "bench_*.py")))
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="*", choices=names, help="run only these benchmarks")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args()
    chosen = list(dict.fromkeys(args.only or names))            # keep the order given, once each
    chosen.sort(key=lambda name: name == LAST)                    # stable: only moves torch last

    from common import print_machine
    print_machine()
    for name in chosen:
        importlib.import_module(f"bench_{name}").run(quick=args.quick)


if __name__ == "__main__":
    main()
