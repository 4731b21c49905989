"""Keep freed memory of large arrays in the process instead of handing it back to the system.

Every training step allocates the same large arrays again (im2col columns, activations,
gradients). glibc's malloc serves blocks above a threshold with fresh `mmap`s and returns them
on free, so each step first-touches every page again: thousands of page faults per step, a
third of the time of a conv layer's forward+backward. PyTorch avoids this with its own caching
allocator; here one call to glibc's `mallopt` does it: large blocks come from the heap (up to
32 MiB, glibc's limit) and up to 256 MiB of freed memory is kept for reuse. Elsewhere (macOS,
Windows, musl) nothing changes.

It changes the whole process (every library's allocations), so it is opt-in: importing
tinygrad_edu does not call it. `tinygrad_edu.keep_freed_memory()` once, at the start of a
training script, turns it on for the rest of the process.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

M_TRIM_THRESHOLD = -1   # mallopt parameter numbers, from glibc's malloc.h
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 * 1024 * 1024
TRIM_THRESHOLD = 256 * 1024 * 1024


def keep_freed_memory() -> bool:
    """Tune glibc's malloc as described above, for the rest of the process; True when it took
    effect (glibc on Linux), False elsewhere."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
