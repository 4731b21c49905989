"""The course site builds: `mkdocs build --strict` of mkdocs.yml (README, every tutorial as a
notebook page, the API reference from the docstrings), with the math renderer bundled.

To keep the suite's time down, only tutorial 01 is executed here (in quick mode); the others
become pages without outputs (tests/test_notebooks.py runs them all). Skipped when the docs
extra is not installed (`pip install -e ".[docs]"`). When Chromium is installed, the built
tutorial 01 is also opened headless to check that MathJax typeset its formulas offline.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CDN = re.compile(r"""(?:src|href)=["']?(?:https?:)?//[^"' >]*(?:cdn|googleapis|jsdelivr|unpkg)""",
                 re.I)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    for module in ("mkdocs", "material", "mkdocs_jupyter", "mkdocstrings_handlers.python",
                   "jupyter_server_mathjax", "jupytext", "nbclient", "ipykernel", "yaml",
                   "matplotlib", "sklearn"):
        pytest.importorskip(module)
    import yaml

    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    out = tmp_path_factory.mktemp("site")
    config["docs_dir"] = str(ROOT / config.get("docs_dir", "docs"))
    config["site_dir"] = str(out / "site")
    config["hooks"] = [str(ROOT / h) for h in config.get("hooks", [])]
    if isinstance(config.get("theme"), dict) and "custom_dir" in config["theme"]:
        config["theme"]["custom_dir"] = str(ROOT / config["theme"]["custom_dir"])
    for plugin in config["plugins"]:
        if isinstance(plugin, dict) and "mkdocstrings" in plugin:  # griffe extensions' paths
            options = plugin["mkdocstrings"]["handlers"]["python"]["options"]
            options["extensions"] = [str(ROOT / e) for e in options.get("extensions", [])]
        if isinstance(plugin, dict) and "mkdocs-jupyter" in plugin:
            plugin["mkdocs-jupyter"]["execute_ignore"] = ["tutorials/0[2-9]_*.py",
                                                           "tutorials/[1-9][0-9]_*.py"]
    path = out / "mkdocs.yml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    env = dict(os.environ, TINYGRAD_EDU_QUICK="1", TQDM_DISABLE="1")
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(path)],
                          capture_output=True, text=True, timeout=900, env=env, cwd=out)
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{proc.stderr[-5000:]}"
    return out / "site"


def test_site_has_home_tutorials_and_api(site):
    assert "tinygrad_edu" in (site / "index.html").read_text(encoding="utf-8")
    tutorials = sorted(p.stem for p in (ROOT / "tutorials").glob("[0-9][0-9]_*.py"))
    for name in tutorials:  # every tutorial is a page (found by glob)
        assert (site / "tutorials" / name / "index.html").exists(), name
    conv = (site / "api" / "conv" / "index.html").read_text(encoding="utf-8")
    assert "conv2d" in conv and "Conv2dFn" in conv and "∂L/∂W[o,c,m,k]" in conv
    assert "language-pycon" in conv or 'class="pycon' in conv or "highlight" in conv  # doctests as code
    assert "<blockquote>" not in conv.split('<div class="md-content"')[-1]


def test_tutorial_01_page_has_outputs_graph_and_math(site):
    page = (site / "tutorials" / "01_backprop_step_by_step" / "index.html").read_text(
        encoding="utf-8")
    assert "RESULT {" in page                                   # it was executed
    assert page.count("<svg") >= 2 and "MatMulFn" in page       # the graph pictures
    assert "image/png" in page or "data:image/png;base64" in page  # the training figure
    assert "backward pass from" in page and "<table" in page    # the trace as a table
    assert "assets/mathjax/MathJax.js" in page and "\\partial" in page


def test_math_renderer_is_bundled_and_nothing_comes_from_a_cdn(site):
    assert (site / "assets" / "mathjax" / "MathJax.js").exists()
    assert (site / "assets" / "mathjax" / "config" / "TeX-AMS-MML_HTMLorMML-full.js").exists()
    offenders = [str(p.relative_to(site)) for p in site.rglob("*.html")
                 if CDN.search(p.read_text(encoding="utf-8", errors="replace"))]
    assert not offenders, f"pages that load from a CDN: {offenders[:5]}"


def _chromium():
    return next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")
                 if shutil.which(n)), None)


@pytest.mark.skipif(_chromium() is None, reason="Chromium is not installed")
def test_formulas_are_typeset_offline_in_a_browser(site):
    page = site / "tutorials" / "01_backprop_step_by_step" / "index.html"
    proc = subprocess.run([_chromium(), "--headless", "--no-sandbox", "--disable-gpu",
                           "--virtual-time-budget=20000", "--dump-dom", page.as_uri()],
                          capture_output=True, text=True, timeout=180)
    dom = proc.stdout
    assert "<body" in dom, proc.stderr[-2000:]
    typeset = re.findall(r'class="MathJax(?:_SVG)?(?:_Display)?"', dom)
    assert len(typeset) > 10, "MathJax did not typeset the formulas"
    assert "[Math Processing Error]" not in dom and 'class="MathJax_Error' not in dom
