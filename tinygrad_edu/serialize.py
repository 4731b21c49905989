"""save / load of state dicts as .npz files: no pickle, written atomically.

- `save` writes to a temporary file in the same directory and renames it over the target only
  when everything is written (os.replace is atomic), so a crash mid-save leaves the previous
  checkpoint intact. Saving through a symbolic link writes the file the link points to.
  A new file gets the usual permissions (0666 minus the umask, like open()); overwriting
  keeps the permissions of the file it replaces.
- The file is an ordinary .npz (a zip of .npy files, one per key; np.load reads it). It is
  written with zipfile and np.lib.format.write_array rather than np.savez(**arrays), so every
  key works, even `file` or `allow_pickle` (np.savez's own argument names).
- `load` reads plain numeric arrays only (allow_pickle=False): an .npz holding pickled
  objects (which could run code when loaded) is refused, and a file that is not an .npz at all
  (an .npy, a text file, a torch.save pickle) gets an error saying what it is.

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
import re
import secrets
import stat
import zipfile
from collections import OrderedDict

import numpy as np

from .tensor import Tensor

_NUMERIC_KINDS = "biufc"  # bool, int, uint, float, complex: what a state dict holds


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
    if array.dtype.kind not in _NUMERIC_KINDS:
        raise TypeError(f"cannot save {key!r}: an array of dtype {array.dtype} (strings or "
                        f"records); a state dict holds numbers only (bool, int, float, complex)")
    return array


# Temporary files -------------------------------------------------------------------------
# A save writes ".<name>.<pid>.<random>.part" next to the target, opened with O_EXCL and mode
# 0o666 (so the umask applies, as for open()). Any exception, KeyboardInterrupt included,
# removes it. A process killed by SIGKILL (or a power cut) cannot clean up, so each save first
# removes the leftovers of earlier saves *to the same target* whose process is gone: the pid in
# the name tells. A fixed name (".<name>.part", reused by the next save) would be simpler, but
# two programs saving the same checkpoint at once would then write into the same file; with
# unique names each writes its own and the last os.replace wins, whole.
_TEMP_SUFFIX = re.compile(r"(\d+)\.[0-9a-f]{8}\.part")  # after the prefix: <pid>.<token>.part


def _temp_prefix(target: str) -> str:
    return f".{os.path.basename(target)}."


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    if os.name != "posix":
        return True  # no safe "does it exist" probe without extra code: keep the file
    try:
        os.kill(pid, 0)  # signal 0: only checks that the process exists
    except ProcessLookupError:
        return False
    except OSError:  # e.g. PermissionError: it exists, owned by someone else
        return True
    return True


def _remove_stale_temp_files(target: str) -> None:
    directory, prefix = os.path.dirname(target), _temp_prefix(target)
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for name in names:
        match = _TEMP_SUFFIX.fullmatch(name[len(prefix):]) if name.startswith(prefix) else None
        if match and not _process_alive(int(match.group(1))):
            try:
                os.remove(os.path.join(directory, name))
            except OSError:
                pass  # already gone, or not ours to remove


def _member_name(key: str) -> str:
    name = key + ".npy"
    if zipfile.ZipInfo(name).filename != name:  # zipfile cuts at NUL (and maps os.sep to /)
        raise ValueError(f"cannot save key {key!r}: zip member names cannot hold it "
                         "(a NUL character, or a path separator other than /)")
    return name


def _write_npz(f, arrays: dict) -> None:
    """The .npz layout of np.savez: one `<key>.npy` member per array (any key works)."""
    with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for key, array in arrays.items():
            with zf.open(_member_name(key), "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asanyarray(array), allow_pickle=False)


def _fsync_directory(directory: str) -> None:
    """Make the rename itself durable (POSIX; other systems cannot open a directory)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def save(state_dict, path) -> None:
    """Write a state dict (name → Tensor or array; a Module is accepted too) to `path`.

    The file is an ordinary .npz (np.load can read it); it is written under exactly the
    given name (or, if `path` is a symbolic link, to the file the link points to)."""
    if hasattr(state_dict, "state_dict") and callable(state_dict.state_dict):
        state_dict = state_dict.state_dict()
    if not isinstance(state_dict, dict):
        raise TypeError(f"save expects a dict of arrays (a state_dict), got {type(state_dict).__name__}")
    arrays = {}
    for key, value in state_dict.items():
        if not isinstance(key, str):
            raise TypeError(f"state_dict keys must be strings, got {key!r}")
        _member_name(key)
        arrays[key] = _to_array(key, value)
    write_atomically(path, lambda f: _write_npz(f, arrays), "save to")


def write_atomically(path, write, what: str = "write") -> None:
    """Write a file so that readers see the old one or the new one, never half: `write(f)`
    fills a temporary file next to it, which is then renamed over it (also used by onnx.export).
    Through a symbolic link the file it points to is replaced, not the link."""
    target = os.path.realpath(os.fspath(path))
    directory = os.path.dirname(target)
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"cannot {what} {os.fspath(path)}: the directory {directory} "
                                "does not exist")
    _remove_stale_temp_files(target)
    tmp = os.path.join(directory,
                       f"{_temp_prefix(target)}{os.getpid()}.{secrets.token_hex(4)}.part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.chmod(tmp, stat.S_IMODE(os.stat(target).st_mode))  # keep the old file's mode
        except FileNotFoundError:
            pass  # a new file: 0o666 & ~umask from os.open
        os.replace(tmp, target)  # atomic: readers see the old file or the new one, never half
    except BaseException:  # KeyboardInterrupt too: never leave the temporary file behind
        try:
            os.remove(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_directory(directory)


def _describe(head: bytes) -> str:
    """What a file that is not an .npz seems to be, from its first bytes."""
    if not head:
        return "an empty file"
    if head.startswith(b"\x93NUMPY"):
        return ("a .npy file (one array, written by np.save); read it with np.load, or save a "
                "dict of arrays with tinygrad_edu.save")
    if head[:1] == b"\x80":
        return ("a Python pickle (e.g. written by torch.save or pickle.dump); pickles can run "
                "code when loaded and are never read")
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as err:  # maybe only the last character was cut at 64 bytes
        text = head[:err.start].decode("utf-8") if err.start >= len(head) - 3 else ""
    if text and all(c.isprintable() or c.isspace() for c in text):
        return f"a text file starting with {text[:40]!r}"
    return f"a binary file starting with {head[:8]!r}"


def load(path) -> "OrderedDict[str, Tensor]":
    """Read a file written by save(): an ordered dict name → Tensor (for load_state_dict)."""
    path = os.fspath(path)
    expected = "load expects an .npz archive of arrays, as written by tinygrad_edu.save"
    with open(path, "rb") as f:
        head = f.read(64)
        f.seek(0)
        if not zipfile.is_zipfile(f):
            raise ValueError(f"{path} is not an .npz archive: it is {_describe(head)}. "
                             f"{expected} (or np.savez)")
        f.seek(0)
        out = OrderedDict()
        with zipfile.ZipFile(f) as zf:
            members = zf.namelist()
            others = [m for m in members if not m.endswith(".npy")]
            if others:
                raise ValueError(f"{path} is a zip archive but not an .npz: it holds "
                                 f"{others[:5]} besides .npy arrays (a torch.save file is a "
                                 f"zip of pickles). {expected}")
            for member in members:
                with zf.open(member) as data:
                    try:
                        array = np.lib.format.read_array(data, allow_pickle=False)
                    except ValueError as err:
                        if "pickle" in str(err):
                            raise ValueError(
                                f"{path} contains pickled Python objects (in {member!r}); "
                                "refusing to load them (allow_pickle=False): only plain "
                                "numeric arrays are accepted") from None
                        raise ValueError(f"{path}: {member!r} is not a valid .npy array "
                                         f"({err})") from None
                key = member[:-len(".npy")]
                if array.dtype.kind not in _NUMERIC_KINDS:
                    raise ValueError(f"{path}: {key!r} is an array of dtype {array.dtype}; "
                                     "a state dict holds numbers only")
                out[key] = Tensor(array)
    return out
