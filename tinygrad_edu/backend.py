"""Which compiled path convolution and pooling use: "fast" (default) or "direct".

- "fast": im2col/col2im in C and the big matrix product through BLAS.
- "direct": loop nests that read like the formulas of the slides.

Both give the same answer (the tests check it against tinygrad_edu/reference/).

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
    """Select the kernel path for the current thread: "fast" or "direct"."""
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
