"""Memory the compiled kernels reuse from one call to the next, instead of fresh pages each time.

A convolution's forward and backward pass make large temporary arrays (the products in the
layout BLAS gives them, the Winograd tile arrays): tens of megabytes per step that die within
the same call. Fresh memory of that size comes from the operating system page by page, each page
zeroed on first touch, and for a mid-sized layer that costs as much as the arithmetic. So each
thread keeps one buffer per kind of temporary and hands out views of it; it grows to the
largest size asked for and stays (as PyTorch's caching allocator keeps its blocks).
`release_scratch_memory()` frees the calling thread's buffers.

Only temporaries that never leave the function that asked for them may live there: nothing
returned to the user or saved for backward.
"""

from __future__ import annotations

import threading

import numpy as np

_local = threading.local()


def scratch(name: str, shape: tuple, dtype) -> np.ndarray:
    """An uninitialised C-contiguous array of `shape`, in this thread's buffer called `name`
    (the previous array from the same name is overwritten: use it before asking again)."""
    dtype = np.dtype(dtype)
    nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    buffers = _local.__dict__.setdefault("buffers", {})
    buffer = buffers.get(name)
    if buffer is None or buffer.nbytes < nbytes:
        buffer = buffers[name] = np.empty(max(nbytes, 1), dtype=np.uint8)
    return buffer[:nbytes].view(dtype).reshape(shape)


def release_scratch_memory() -> None:
    """Free the calling thread's scratch buffers (they are made again when next needed)."""
    _local.__dict__.pop("buffers", None)
