"""Which compiled path convolution and pooling use: "fast" (default) or "direct".

- "fast": im2col/col2im in C and the big matrix product through BLAS.
- "direct": loop nests that read like the formulas of the slides.

Both give the same answer (the tests check it against tinygrad_edu/reference/).

The choice is per thread: `set_backend` changes it for the calling thread only, until that
thread changes it again; other threads, and threads started later, keep their own (a new
thread starts with "fast"). `use_backend` changes it for a `with` block of the calling thread.

>>> import tinygrad_edu as tg
>>> tg.get_backend()
'fast'
>>> with tg.use_backend("direct"):
...     tg.get_backend()
'direct'
"""

from __future__ import annotations

import contextlib
import threading

BACKENDS = ("fast", "direct")
_local = threading.local()


def get_backend() -> str:
    return getattr(_local, "backend", "fast")


def set_backend(name: str) -> None:
    """Select the kernel path, "fast" or "direct", for the calling thread only: it lasts
    until this thread changes it again; other threads (and new ones) are not affected."""
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}; choose one of {BACKENDS}")
    _local.backend = name


@contextlib.contextmanager
def use_backend(name: str):
    """Use another kernel path inside a `with` block, then restore the previous one."""
    previous = get_backend()
    set_backend(name)
    try:
        yield
    finally:
        set_backend(previous)
