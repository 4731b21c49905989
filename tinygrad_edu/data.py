"""Datasets and the DataLoader that cuts them into (shuffled) mini-batches.

>>> import numpy as np
>>> ds = TensorDataset(np.arange(10, dtype=np.float32).reshape(5, 2), np.arange(5))
>>> len(ds), ds[1][0], int(ds[1][1])
(5, array([2., 3.], dtype=float32), 1)
>>> loader = DataLoader(ds, batch_size=2, shuffle=True, seed=0)
>>> [y.tolist() for x, y in loader]          # every sample once per epoch
[[2, 4], [3, 0], [1]]
>>> len(loader)
3
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Callable

import numpy as np

from . import _state
from .tensor import Tensor


class Dataset:
    """Anything with __getitem__(i) → sample and __len__()."""

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__")


def _array(t) -> np.ndarray:
    return t.data if isinstance(t, Tensor) else np.asarray(t)


class TensorDataset(Dataset):
    """Samples are rows of the given arrays/tensors: ds[i] = (a[i], b[i], …)."""

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset needs at least one array")
        self.arrays = [_array(t) for t in tensors]
        sizes = {len(a) for a in self.arrays}
        if len(sizes) != 1:
            raise ValueError(f"all arrays must have the same first dimension, got sizes "
                             f"{[a.shape for a in self.arrays]}")

    def __getitem__(self, index):
        return tuple(a[index] for a in self.arrays)

    def __len__(self) -> int:
        return len(self.arrays[0])


class Subset(Dataset):
    """The samples of `dataset` at the given indices."""

    def __init__(self, dataset: Dataset, indices: Sequence[int]):
        self.dataset, self.indices = dataset, np.asarray(indices, dtype=np.int64)

    def __getitem__(self, index):
        return self.dataset[int(self.indices[index])]

    def __len__(self) -> int:
        return len(self.indices)


def random_split(dataset: Dataset, lengths: Sequence, seed: int | None = None) -> list:
    """Split into non-overlapping Subsets of the given lengths (or fractions summing to 1)."""
    n = len(dataset)
    if all(isinstance(x, float) for x in lengths) and math.isclose(sum(lengths), 1.0):
        sizes = [int(math.floor(n * f)) for f in lengths]
        for i in range(n - sum(sizes)):  # hand out the remainder round-robin, as PyTorch
            sizes[i % len(sizes)] += 1
    else:
        sizes = [int(x) for x in lengths]
    if sum(sizes) != n:
        raise ValueError(f"lengths {list(lengths)} do not add up to the dataset size {n}")
    rng = np.random.default_rng(seed) if seed is not None else _state.rng()
    order = rng.permutation(n)
    bounds = np.cumsum([0] + sizes)
    return [Subset(dataset, order[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]


_COLLATE_ERROR = ("default_collate: batch must contain tensors, numpy arrays, numbers, dicts or "
                  "lists; found {}")


def _stack(samples: list) -> Tensor:
    arrays = [_array(s) for s in samples]
    for i, a in enumerate(arrays):
        if a.dtype.kind not in "biufc":  # strings, objects: not something a Tensor holds
            raise TypeError(_COLLATE_ERROR.format(a.dtype))
        if a.shape != arrays[0].shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                               f"{list(arrays[0].shape)} at entry 0 and {list(a.shape)} at "
                               f"entry {i}")
    return Tensor(np.stack(arrays))


def default_collate(samples):
    """Stack a list of samples into a batch, by PyTorch's rules (torch.utils.data.default_collate):

    - Tensors and numpy arrays → one Tensor with a leading batch axis (all the same shape);
    - numbers → a Tensor: Python floats as float64, ints as int64, bools as bool;
    - strings (and bytes) → left as they are: the list (or tuple) of them is returned;
    - dicts → the same kind of dict, each key collated over the batch;
    - namedtuples → the same namedtuple type, each field collated;
    - other tuples and lists → transposed and collated position by position, as a list.

    >>> from collections import namedtuple
    >>> Pair = namedtuple("Pair", "x name")
    >>> default_collate([Pair(1.5, "a"), Pair(2.5, "b")])
    Pair(x=tensor([1.5, 2.5], dtype=float64), name=('a', 'b'))
    """
    if len(samples) == 0:
        raise IndexError("default_collate: the batch is empty (no samples to collate)")
    first = samples[0]
    if isinstance(first, (Tensor, np.ndarray, np.number, np.bool_, bool, int, float)):
        return _stack(samples)
    if isinstance(first, (str, bytes)):
        return samples
    if isinstance(first, Mapping):
        collated = {key: default_collate([s[key] for s in samples]) for key in first}
        try:
            return type(first)(collated)
        except TypeError:  # a mapping type that cannot be built from a dict
            return collated
    if isinstance(first, tuple) and hasattr(first, "_fields"):  # a namedtuple
        return type(first)(*(default_collate(field) for field in zip(*samples)))
    if isinstance(first, Sequence):
        sizes = [len(s) for s in samples]
        if any(size != sizes[0] for size in sizes):
            raise RuntimeError(f"each element in list of batch should be of equal size "
                               f"(got sizes {sizes})")
        columns = [default_collate(column) for column in zip(*samples)]
        if isinstance(first, tuple):
            return columns  # PyTorch turns tuples into lists
        try:
            return type(first)(columns)
        except TypeError:  # a sequence type that cannot be built from a list
            return columns
    raise TypeError(_COLLATE_ERROR.format(type(first)))


class DataLoader:
    """Iterate over a dataset in mini-batches.

    batch_size: samples per batch; shuffle: a new order every epoch; seed: makes the sequence
    of orders reproducible (otherwise tinygrad_edu's global generator, see manual_seed);
    drop_last: skip a final smaller batch. Batches are Tensors (see default_collate).
    A TensorDataset is sliced directly (no per-sample Python loop).
    """

    def __init__(self, dataset: Dataset, batch_size: int = 1, shuffle: bool = False,
                 drop_last: bool = False, seed: int | None = None,
                 collate_fn: Callable | None = None):
        if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
        self.dataset, self.batch_size, self.shuffle = dataset, int(batch_size), shuffle
        self.drop_last, self.collate_fn = drop_last, collate_fn
        self._rng = np.random.default_rng(seed) if seed is not None else None

    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def _order(self) -> np.ndarray:
        n = len(self.dataset)
        if not self.shuffle:
            return np.arange(n)
        return (self._rng or _state.rng()).permutation(n)

    def __iter__(self):
        order = self._order()
        fast = isinstance(self.dataset, TensorDataset) and self.collate_fn is None
        for k in range(len(self)):
            idx = order[k * self.batch_size:(k + 1) * self.batch_size]
            if fast:
                # what default_collate gives for tuples of rows (a list, as PyTorch), sliced at once
                yield [Tensor(a[idx]) for a in self.dataset.arrays]
            else:
                collate = self.collate_fn or default_collate
                yield collate([self.dataset[int(i)] for i in idx])
