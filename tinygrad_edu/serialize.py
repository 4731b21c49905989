"""save / load of state dicts as .npz files: no pickle, written atomically.

- `save` writes to a temporary file in the same directory and renames it over the target only
  when everything is written (os.replace is atomic), so a crash mid-save leaves the previous
  checkpoint intact.
- `load` uses numpy's allow_pickle=False: an .npz holding pickled objects (which could run
  code when loaded) is refused.

>>> import os, tempfile
>>> import tinygrad_edu.nn as nn
>>> model = nn.Linear(3, 2)
>>> path = os.path.join(tempfile.mkdtemp(), "model.npz")
>>> save(model.state_dict(), path)
>>> copy = nn.Linear(3, 2)
>>> _ = copy.load_state_dict(load(path))
>>> bool((copy.weight.data == model.weight.data).all())
True
"""

from __future__ import annotations

import os
import tempfile
from collections import OrderedDict

import numpy as np

from .tensor import Tensor


def _to_array(key: str, value) -> np.ndarray:
    if isinstance(value, Tensor):
        array = value.data
    elif hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch.Tensor
        array = value.detach().cpu().numpy()
    else:
        array = np.asarray(value)
    if array.dtype == object:
        raise TypeError(f"cannot save {key!r}: it is not a numeric array "
                        f"(got {type(value).__name__}); only arrays are stored, never pickles")
    return array


def save(state_dict, path) -> None:
    """Write a state dict (name → Tensor or array; a Module is accepted too) to `path`.

    The file is an ordinary .npz (np.load can read it); it is written under exactly the
    given name."""
    if hasattr(state_dict, "state_dict") and callable(state_dict.state_dict):
        state_dict = state_dict.state_dict()
    if not isinstance(state_dict, dict):
        raise TypeError(f"save expects a dict of arrays (a state_dict), got {type(state_dict).__name__}")
    arrays = {}
    for key, value in state_dict.items():
        if not isinstance(key, str):
            raise TypeError(f"state_dict keys must be strings, got {key!r}")
        arrays[key] = _to_array(key, value)
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-" + os.path.basename(path), suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)  # atomic: readers see the old file or the new one, never half
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def load(path) -> "OrderedDict[str, Tensor]":
    """Read a file written by save(): an ordered dict name → Tensor (for load_state_dict)."""
    try:
        with np.load(os.fspath(path), allow_pickle=False) as data:
            return OrderedDict((key, Tensor(data[key])) for key in data.files)
    except ValueError as err:
        if "pickle" in str(err):
            raise ValueError(f"{path} contains pickled Python objects; refusing to load them "
                             "(allow_pickle=False): only plain numeric arrays are accepted") from None
        raise
