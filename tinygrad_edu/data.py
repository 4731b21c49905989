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
from typing import Any, Callable, Sequence

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


def default_collate(samples: list):
    """Stack a list of samples into a batch: arrays/numbers → one Tensor with a leading batch
    axis; tuples/lists/dicts → the same structure of batches."""
    first = samples[0]
    if isinstance(first, (tuple, list)):
        return type(first)(default_collate(list(group)) for group in zip(*samples))
    if isinstance(first, dict):
        return {k: default_collate([s[k] for s in samples]) for k in first}
    return Tensor(np.stack([_array(s) for s in samples]))


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
                yield tuple(Tensor(a[idx]) for a in self.dataset.arrays)
            else:
                collate = self.collate_fn or default_collate
                yield collate([self.dataset[int(i)] for i in idx])
