"""`no_grad()`: run code without recording the graph (inference, optimizer updates)."""

from __future__ import annotations

import functools

from . import _state


class no_grad:
    """Context manager and decorator: ops inside record no graph (per thread).

    >>> import tinygrad_edu as tg
    >>> w = tg.Tensor([1.0], requires_grad=True)
    >>> with tg.no_grad():
    ...     y = w * 2
    >>> y.requires_grad
    False
    """

    _mode = False

    def __enter__(self):
        self._previous = _state.grad_enabled()
        _state.set_grad_enabled(self._mode)
        return self

    def __exit__(self, *exc):
        _state.set_grad_enabled(self._previous)
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with type(self)():
                return fn(*args, **kwargs)
        return wrapper


class enable_grad(no_grad):
    """Turn graph recording back on inside a no_grad block."""

    _mode = True


def is_grad_enabled() -> bool:
    return _state.grad_enabled()


class detect_anomaly:
    """Context manager: backward checks each gradient and names the op whose backward made the
    first NaN or Inf (slower; for debugging)."""

    def __enter__(self):
        self._previous = _state.anomaly_enabled()
        _state.set_anomaly_enabled(True)
        return self

    def __exit__(self, *exc):
        _state.set_anomaly_enabled(self._previous)
        return False
