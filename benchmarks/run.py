"""Run every benchmark in one go: `python benchmarks/run.py [--only conv pool ...] [--quick]`.

Each benchmarks/bench_NAME.py defines run(quick: bool) and prints its own table of
milliseconds, GFLOP/s where it applies, and ratios to PyTorch (when installed) and to plain
numpy measured in the same run. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from glob import glob

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def main() -> None:
    names = sorted(os.path.basename(p)[len("bench_"):-3] for p in glob(os.path.join(HERE, "bench_*.py")))
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", nargs="*", choices=names, help="run only these benchmarks")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args()
    for name in args.only or names:
        importlib.import_module(f"bench_{name}").run(quick=args.quick)


if __name__ == "__main__":
    main()
