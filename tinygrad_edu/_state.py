"""Process-wide switches: gradient recording (thread-local), anomaly detection, the RNG."""

from __future__ import annotations

import threading

import numpy as np

_local = threading.local()


def grad_enabled() -> bool:
    """True unless the current thread is inside `no_grad()`."""
    return getattr(_local, "grad_enabled", True)


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
    """Raise if `grad`, just produced by ctx's backward, holds NaN or Inf."""
    if grad.dtype.kind == "f" and not np.isfinite(grad).all():
        bad = "nan" if np.isnan(grad).any() else "inf"
        raise FloatingPointError(
            f"anomaly: the backward of {ctx.name} (made in the forward pass) produced {bad} "
            f"in a gradient of shape {grad.shape}")
