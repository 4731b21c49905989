"""Helpers shared by the tutorials (tutorials/NN_name.py): command line, progress bar, figures
and the final machine-readable result line.

Every tutorial is a script and, through jupytext, a notebook. The helpers hide the small
differences between the two:

- `parse_args()` reads `--quick`, `--out` and `--seed` with `parse_known_args`, because inside a
  notebook `sys.argv` holds the kernel's own arguments (there, TINYGRAD_EDU_QUICK=1 in the
  environment selects quick mode).
- `pyplot()` returns matplotlib's pyplot with the file-only "Agg" backend when run as a script
  (no window pops up, works on a server) and leaves the notebook's inline backend alone.
- `save_figure()` writes a PNG into the output folder.
- `progress()` is a tqdm progress bar, or a plain iterator when tqdm is not installed.
- `report()` prints the last line, `RESULT {json}`, that tests/test_tutorials.py reads, and writes
  the same numbers to `<out>/<name>_metrics.json`.

>>> import tempfile
>>> folder = tempfile.mkdtemp()
>>> args = parse_args("demo", argv=["--quick", "--out", folder, "--seed", "3"])
>>> args.quick, args.seed, str(args.out) == folder
(True, 3, True)
>>> line = report("demo", args, {"accuracy": 0.975}, print_line=False)
>>> line["accuracy"], line["quick"]
(0.975, True)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np


def _default_out_dir() -> Path:
    """`out/` beside the running script (tutorials/out/), or, in a notebook, beside the notebook."""
    script = sys.argv[0] if sys.argv else ""
    if not in_notebook() and script.endswith(".py"):
        return Path(script).resolve().parent / "out"
    cwd = Path.cwd()  # a notebook's kernel runs in the notebook's folder
    return cwd / "out" if cwd.name == "tutorials" or not (cwd / "tutorials").is_dir() \
        else cwd / "tutorials" / "out"


def parse_args(description: str = "", argv: Sequence[str] | None = None,
               extra: Iterable[tuple[tuple, dict]] = ()) -> argparse.Namespace:
    """The tutorials' command line: `--quick`, `--out DIR`, `--seed N` (+ `extra` options).

    extra: pairs (args, kwargs) passed to `ArgumentParser.add_argument`, for a tutorial's own
        options. Unknown arguments are ignored (a notebook kernel passes its own).
    The result also carries `started` (time.perf_counter() at parsing), used by `report()`.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true",
                        default=os.environ.get("TINYGRAD_EDU_QUICK", "") not in ("", "0"),
                        help="a few iterations only (for CI); the metrics are then much lower. "
                             "In a notebook, set the environment variable TINYGRAD_EDU_QUICK=1")
    parser.add_argument("--out", type=Path, default=None,
                        help="folder for figures and metrics (default: tutorials/out/)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    for arg_names, kwargs in extra:
        parser.add_argument(*arg_names, **kwargs)
    args, _unknown = parser.parse_known_args(sys.argv[1:] if argv is None else list(argv))
    args.out = Path(args.out) if args.out is not None else _default_out_dir()
    args.out.mkdir(parents=True, exist_ok=True)
    args.started = time.perf_counter()
    return args


def in_notebook() -> bool:
    """True inside a Jupyter kernel."""
    return "ipykernel" in sys.modules


def pyplot():
    """matplotlib.pyplot, with the file-only Agg backend unless running inside a notebook."""
    import matplotlib

    if not in_notebook():
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, args: argparse.Namespace, name: str) -> Path:
    """Save `fig` as `<out>/<name>.png`, print where it went, and close it (unless in a notebook,
    where it is shown inline). Returns the path."""
    path = Path(args.out) / f"{name}.png"
    fig.savefig(path, dpi=110, bbox_inches="tight")
    print(f"saved figure {path}")
    if not in_notebook():
        pyplot().close(fig)
    return path


def progress(iterable: Iterable, desc: str = "", total: int | None = None, **kwargs):
    """A progress bar (tqdm) over `iterable`; a plain iterator when tqdm is missing.

    The bar object has `set_postfix(loss=...)` (a no-op without tqdm) so that loops can show
    their current loss either way.
    """
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return _PlainProgress(iterable)
    return tqdm(iterable, desc=desc, total=total, dynamic_ncols=True, mininterval=0.5, **kwargs)


class _PlainProgress:
    """Stand-in for tqdm: iterates and ignores postfix updates."""

    def __init__(self, iterable):
        self._iterable = iterable

    def __iter__(self):
        return iter(self._iterable)

    def set_postfix(self, *args, **kwargs):
        pass

    def close(self):
        pass


def _jsonable(value):
    if isinstance(value, (np.floating, float)):
        return float(f"{float(value):.6g}")  # six significant digits keep the line short
    if isinstance(value, (np.integer, np.bool_)):
        return value.item()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def report(name: str, args: argparse.Namespace, metrics: dict, print_line: bool = True) -> dict:
    """Finish a tutorial: add mode and wall time to `metrics`, write `<out>/<name>_metrics.json`,
    and print them as the last line `RESULT {json}` (read by tests/test_tutorials.py)."""
    line = {"tutorial": name, "quick": bool(args.quick),
            "seconds": round(time.perf_counter() - getattr(args, "started", time.perf_counter()), 1)}
    line.update(_jsonable(dict(metrics)))
    (Path(args.out) / f"{name}_metrics.json").write_text(json.dumps(line, indent=2) + "\n")
    if print_line:
        print("RESULT " + json.dumps(line), flush=True)
    return line
