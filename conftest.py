"""pytest's settings for the whole repository (the options are in pyproject.toml)."""

import importlib.util

# tinygrad_edu.onnx refuses to import without its extra (pip install -e ".[onnx]"), so its
# doctests are only collected where onnx is installed.
collect_ignore = [] if importlib.util.find_spec("onnx") else ["tinygrad_edu/onnx"]
