"""Devices as CPU-only PyTorch code spells them: `device("cpu")`, `device=` in factories,
`.to(device)`, `cuda.is_available()`.

tinygrad_edu runs on the CPU (numpy underneath), so "cpu" is the one device there is: it is
accepted everywhere, and anything else ("cuda", "mps", …) raises an error that says so. The
usual boilerplate of the tutorials therefore runs unchanged and picks the CPU:

>>> import tinygrad_edu as torch
>>> device = "cuda" if torch.cuda.is_available() else "cpu"
>>> torch.zeros(2, device=device).device
device(type='cpu')
>>> torch.device("cuda")
Traceback (most recent call last):
...
RuntimeError: device 'cuda': tinygrad_edu runs on the CPU only (numpy underneath); use device='cpu'
"""

from __future__ import annotations

import numpy as np

__all__ = ["device", "check_device", "set_default_device", "get_default_device", "cuda",
           "accelerator", "backends", "split_to_args"]


def _cpu_only(name) -> RuntimeError:
    return RuntimeError(f"device {name!r}: tinygrad_edu runs on the CPU only (numpy "
                        "underneath); use device='cpu'")


class device:  # noqa: N801 - torch.device is a lower-case class
    """A device name; only `device("cpu")` (or "cpu:0", or `device("cpu", 0)`) exists here."""

    __slots__ = ("type", "index")

    def __init__(self, type="cpu", index=None):  # noqa: A002 - PyTorch's argument name
        if isinstance(type, device):
            type, index = type.type, type.index if index is None else index
        name = str(type)
        if ":" in name and index is None:
            name, _, number = name.partition(":")
            index = int(number) if number.isdigit() else number
        if name != "cpu" or index not in (None, 0):
            raise _cpu_only(str(type) if index is None else f"{name}:{index}")
        self.type, self.index = "cpu", index

    def __repr__(self) -> str:
        index = "" if self.index is None else f", index={self.index}"
        return f"device(type='cpu'{index})"

    def __str__(self) -> str:
        return "cpu" if self.index is None else f"cpu:{self.index}"

    def __eq__(self, other) -> bool:
        if isinstance(other, str):
            return other in ("cpu", str(self))
        return isinstance(other, device) and other.type == self.type

    def __hash__(self) -> int:
        return hash("cpu")


CPU = device("cpu")


def check_device(dev) -> device:
    """The device for a `device=` argument: None or "cpu" (or a `device`) give the CPU; an
    int (a CUDA ordinal in PyTorch) or any other name raises."""
    if dev is None or dev is CPU:
        return CPU
    if isinstance(dev, (device, str)):
        return device(dev)
    raise _cpu_only(dev)


def set_default_device(dev) -> None:
    """As torch.set_default_device: only the CPU (or None) can be the default here."""
    check_device(dev)


def get_default_device() -> device:
    return CPU


def split_to_args(args: tuple, kwargs: dict):
    """`tensor.to(...)` / `module.to(...)` take a dtype, a device, both, or a tensor whose dtype
    to copy (PyTorch's overloads). Checks the device and returns the dtype (None: keep it)."""
    kwargs = dict(kwargs)
    dtype, dev = kwargs.pop("dtype", None), kwargs.pop("device", None)
    kwargs.pop("non_blocking", None), kwargs.pop("copy", None)
    if kwargs:
        raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
    for arg in args:
        if isinstance(arg, str) and _is_dtype_name(arg):
            dtype = arg
        elif isinstance(arg, (str, device)) or isinstance(arg, int) and not isinstance(arg, bool):
            dev = arg
        elif hasattr(arg, "data") and hasattr(arg, "requires_grad"):  # to(other_tensor)
            dtype = arg.data.dtype
        elif arg is not None:
            dtype = arg
    if dev is not None:
        check_device(dev)
    return dtype


def _is_dtype_name(name: str) -> bool:
    try:
        np.dtype(name)
        return True
    except TypeError:
        return False


class _NoAccelerator:
    """`cuda`, `mps`, `accelerator`: present, so the usual checks run, and never available."""

    def __init__(self, name: str):
        self._name = name

    def is_available(self) -> bool:
        return False

    def device_count(self) -> int:
        return 0

    def current_accelerator(self):
        return None

    def manual_seed(self, seed) -> None:
        """Nothing to seed (torch.cuda.manual_seed on a machine without GPU does the same)."""

    manual_seed_all = manual_seed

    def __repr__(self) -> str:
        return f"<tinygrad_edu.{self._name}: not available, tinygrad_edu runs on the CPU>"


class _Backends:
    """`backends.mps.is_available()`, `backends.cuda.is_built()`: the tutorials' boilerplate."""

    def __init__(self):
        self.mps = _NoAccelerator("backends.mps")
        self.cuda = _NoAccelerator("backends.cuda")
        self.mps.is_built = self.cuda.is_built = lambda: False


cuda = _NoAccelerator("cuda")
accelerator = _NoAccelerator("accelerator")
backends = _Backends()
