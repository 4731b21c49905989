"""`no_grad()`: run code without recording the graph (inference, optimizer updates)."""

from __future__ import annotations

import functools
import inspect

from . import _state


class no_grad:
    """Context manager and decorator: ops inside record no graph (per thread).

    >>> import tinygrad_edu as tg
    >>> w = tg.Tensor([1.0], requires_grad=True)
    >>> with tg.no_grad():
    ...     y = w * 2
    >>> y.requires_grad
    False

    As PyTorch, it decorates with or without parentheses (`@no_grad()` or `@no_grad`), and a
    decorated generator function runs each of its steps under no_grad (not just the call that
    creates the generator), giving the caller its own mode back between steps:

    >>> @tg.no_grad
    ... def doubles(n):
    ...     for _ in range(n):
    ...         yield w * 2
    >>> [t.requires_grad for t in doubles(2)], tg.is_grad_enabled()
    ([False, False], True)
    """

    _mode = False

    def __new__(cls, orig_func=None):
        # `@no_grad` without parentheses: Python calls no_grad(func) and expects the decorated
        # function back (PyTorch's _NoParamDecoratorContextManager does the same)
        if orig_func is None:
            return super().__new__(cls)
        return cls()(orig_func)

    def __enter__(self):
        self._previous = _state.grad_enabled()
        _state.set_grad_enabled(self._mode)
        return self

    def __exit__(self, *exc):
        _state.set_grad_enabled(self._previous)
        return False

    def __call__(self, fn):
        if not callable(fn):
            raise TypeError(f"{type(self).__name__} decorates functions, got "
                            f"{type(fn).__name__}")
        factory = type(self)
        if inspect.isgeneratorfunction(fn):
            return _wrap_generator(factory, fn)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with factory():
                return fn(*args, **kwargs)
        return wrapper


def _wrap_generator(factory, fn):
    """Decorate a generator function so that each resumption of the generator (next, send,
    throw, close) runs inside a fresh `factory()` context, as torch.autograd's decorators."""

    @functools.wraps(fn)
    def generator_context(*args, **kwargs):
        gen = fn(*args, **kwargs)
        try:
            with factory():
                response = gen.send(None)
            while True:
                try:
                    request = yield response
                except GeneratorExit:
                    with factory():
                        gen.close()
                    raise
                except BaseException as exc:  # thrown in by the caller: pass it on
                    with factory():
                        response = gen.throw(exc)
                else:
                    with factory():
                        response = gen.send(request)
        except StopIteration as stop:
            return stop.value
    return generator_context


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
