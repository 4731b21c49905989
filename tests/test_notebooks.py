"""Every tutorial runs as a notebook: converted with jupytext, executed in a real Jupyter kernel
(nbclient) in quick mode, as a student opening it would run it.

Checks: no cell raised, the last line `RESULT {json}` is printed (quick mode, finite metrics),
and every figure the tutorial saved also displayed inline (an image output). Tutorial 01 also
shows its graph as a picture and the backward-pass step-through widget.

The tutorials are found by glob (tutorials/NN_*.py), so new ones are checked without listing
them here. Two kernels run at a time (the machine's two cores) to keep the wall time near the
time of the scripts themselves. Skipped when jupytext, nbclient or ipykernel is missing
(`pip install -e ".[notebook]"`).
"""

from __future__ import annotations

import json
import math
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

TUTORIALS = Path(__file__).resolve().parent.parent / "tutorials"
NAMES = sorted(p.stem for p in TUTORIALS.glob("[0-9][0-9]_*.py"))
WORKERS = 2


def _execute(name: str, folder: Path) -> dict:
    """Run tutorials/<name>.py as a notebook in `folder` (its figures land in folder/out)."""
    import jupytext
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = jupytext.read(TUTORIALS / f"{name}.py")
    folder.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, TINYGRAD_EDU_QUICK="1", TQDM_DISABLE="1", PYTHONUNBUFFERED="1")
    env.pop("MPLBACKEND", None)  # the kernel's own inline backend shows the figures
    client = NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(folder)}})
    error = None
    try:
        client.execute(env=env, cwd=str(folder))
    except CellExecutionError as err:
        error = str(err)[-3000:]
    return {"nb": nb, "error": error, "out": folder / "out"}


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """All tutorials executed once, two at a time: name → {nb, error, out}."""
    pytest.importorskip("jupytext")
    pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    pytest.importorskip("matplotlib")
    pytest.importorskip("sklearn")
    root = tmp_path_factory.mktemp("notebooks")
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        futures = {name: pool.submit(_execute, name, root / name) for name in NAMES}
        return {name: f.result() for name, f in futures.items()}


def _outputs(nb) -> list:
    return [out for cell in nb.cells if cell.cell_type == "code" for out in cell.get("outputs", [])]


def test_the_tutorials_are_found():
    assert len(NAMES) >= 8 and NAMES[0].startswith("01_")


@pytest.mark.parametrize("name", NAMES)
def test_tutorial_runs_as_a_notebook(executed, name):
    run = executed[name]
    assert run["error"] is None, f"{name} failed in the kernel:\n{run['error']}"
    outputs = _outputs(run["nb"])
    errors = [o for o in outputs if o.get("output_type") == "error"]
    assert not errors, f"{name}: error output {errors[0].get('ename')}: {errors[0].get('evalue')}"
    text = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
    lines = [ln for ln in text.splitlines() if ln.startswith("RESULT ")]
    assert lines, f"{name} printed no RESULT line in the notebook"
    result = json.loads(lines[-1][len("RESULT "):])
    assert result["quick"] is True and result["tutorial"] == name
    numbers = [v for v in result.values() if isinstance(v, float)]
    assert numbers and all(math.isfinite(v) for v in numbers), result
    saved = sorted(run["out"].glob("*.png"))
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    # every saved figure was shown in the notebook too (at least as many inline images)
    assert len(images) >= len(saved), f"{name}: {len(saved)} figures saved, {len(images)} shown"


def test_tutorial_01_shows_the_graph_and_the_step_through(executed):
    name = next(n for n in NAMES if n.startswith("01_"))
    run = executed[name]
    assert run["error"] is None, run["error"]
    outputs = _outputs(run["nb"])
    pictures = [o["data"]["image/svg+xml"] for o in outputs if "image/svg+xml" in o.get("data", {})]
    assert pictures, "draw_graph's result did not render inline"
    assert any("W1" in svg and "MatMulFn" in svg for svg in pictures)  # the two-layer net
    widgets = [o for o in outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert widgets, "explain(interactive=True) showed no widget"
    tables = [o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {})]
    assert any("backward pass from" in t and "<table" in t for t in tables)  # the trace table
