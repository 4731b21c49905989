"""mkdocs hooks of the course site (mkdocs.yml → hooks:).

- The README is the home page and the tutorials (tutorials/NN_*.py and tutorials/README.md)
  become pages, read from where they live: no copies in docs/. mkdocs-jupyter turns each
  tutorial into a notebook page and runs it, so the outputs and figures are on the page.
- MathJax (2.7, from the `jupyter-server-mathjax` package of the docs extra) is copied into
  the built site, so formulas render offline: no CDN.

Environment: TINYGRAD_EDU_QUICK=1 runs the tutorials in quick mode (as the tests do).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from mkdocs.plugins import event_priority
from mkdocs.structure.files import File

ROOT = Path(__file__).resolve().parents[2]
MATHJAX_DIR = "assets/mathjax"


def _mathjax_source() -> Path:
    try:
        import jupyter_server_mathjax
    except ImportError as err:
        raise RuntimeError("the site bundles MathJax from the jupyter-server-mathjax package: "
                           'pip install -e ".[docs]"') from err
    return Path(jupyter_server_mathjax.__file__).parent / "static"


@event_priority(100)  # before mkdocs-jupyter looks for notebooks among the files
def on_files(files, config):
    sources = [ROOT / "README.md", ROOT / "tutorials" / "README.md"]
    for relative in [p.relative_to(ROOT).as_posix() for p in sources] + _tutorials():
        if files.get_file_from_path(relative) is None:
            files.append(File(relative, str(ROOT), config["site_dir"],
                              config["use_directory_urls"]))
    return files


def _tutorials() -> list:
    return [p.relative_to(ROOT).as_posix()
            for p in sorted((ROOT / "tutorials").glob("[0-9][0-9]_*.py"))]


def on_config(config):
    for section in config["nav"] or []:  # every tutorial, found by glob, under "Tutorials"
        if isinstance(section, dict) and "Tutorials" in section:
            listed = {next(iter(e.values())) if isinstance(e, dict) else e
                      for e in section["Tutorials"]}
            section["Tutorials"] += [t for t in _tutorials() if t not in listed]
    os.environ.setdefault("TQDM_DISABLE", "1")  # no progress bars in the pages
    os.environ.pop("MPLBACKEND", None)          # the kernels show figures inline
    return config


def on_post_build(config):
    target = Path(config["site_dir"]) / MATHJAX_DIR
    if not (target / "MathJax.js").exists():
        shutil.copytree(_mathjax_source(), target, dirs_exist_ok=True)
