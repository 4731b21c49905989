"""Process-wide switches: gradient recording (thread-local), anomaly detection, the RNG."""

from __future__ import annotations

import threading

import numpy as np

class _ThreadState(threading.local):
    """Per-thread switches; the class attribute is every new thread's starting value."""
    grad_enabled = True


_local = _ThreadState()


def grad_enabled() -> bool:
    """True unless the current thread is inside `no_grad()`."""
    return _local.grad_enabled


def set_grad_enabled(mode: bool) -> None:
    _local.grad_enabled = bool(mode)


# One generator for everything random (randn, dropout, init, shuffling): manual_seed resets it.
_rng = np.random.default_rng()


def rng() -> np.random.Generator:
    return _rng


def manual_seed(seed: int) -> np.random.Generator:
    """Seed tinygrad_edu's random generator (as torch.manual_seed); returns it."""
    global _rng
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise TypeError(f"manual_seed expects an int, got {type(seed).__name__}")
    _rng = np.random.default_rng(int(seed))
    return _rng


# Anomaly detection: when on, backward checks every gradient it computes for NaN/Inf and
# names the forward op whose backward produced it first.
_anomaly = threading.local()


def anomaly_enabled() -> bool:
    return getattr(_anomaly, "enabled", False)


def set_anomaly_enabled(mode: bool) -> None:
    _anomaly.enabled = bool(mode)


def check_finite(ctx, grad: np.ndarray) -> None:
    """Raise if `grad`, just produced by ctx's backward, holds NaN or Inf.

    Anomaly mode runs this on every gradient as backward goes, so the first failure names the
    forward op whose backward made the first NaN/Inf (everything before it was finite).
    """
    if grad.dtype.kind != "f" or np.isfinite(grad).all():
        return
    bad = ~np.isfinite(grad)
    kind = "nan" if np.isnan(grad).any() else "inf"
    first = tuple(int(i) for i in np.argwhere(bad)[0]) if grad.ndim else ()
    doc = (type(ctx).__doc__ or "").strip().splitlines()
    clues = []
    for position, parent in enumerate(getattr(ctx, "parents", ())):
        if parent is None or parent.data.dtype.kind != "f":
            continue
        if not np.isfinite(parent.data).all():
            clues.append(f"input {position} already holds nan/inf: an op of the forward pass "
                         "made it (check the forward values)")
        elif (parent.data == 0).any():
            clues.append(f"input {position} has {int((parent.data == 0).sum())} zero(s): a "
                         "backward that divides by its input (log, sqrt, a / b) gives inf there")
    raise FloatingPointError(
        f"anomaly: the backward of {ctx.name} (made by {ctx.name} in the forward pass) produced "
        f"{kind} in a gradient of shape {grad.shape}: {int(bad.sum())} of {grad.size} "
        f"element(s), the first at index {first}. The gradients computed before it were finite, "
        f"so {ctx.name} is where it starts."
        + (f" Its rule: {doc[0]}" if doc else "")
        + (f" Clue: {'; '.join(clues)}." if clues else ""))
