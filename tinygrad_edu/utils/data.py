"""`tinygrad_edu.utils.data`: the datasets and DataLoader of tinygrad_edu.data, under the path
PyTorch code imports them from (`from torch.utils.data import DataLoader, TensorDataset`).

>>> from tinygrad_edu.utils.data import DataLoader, TensorDataset
>>> import tinygrad_edu
>>> DataLoader is tinygrad_edu.data.DataLoader
True
"""

from ..data import (DataLoader, Dataset, Subset, TensorDataset, default_collate,  # noqa: F401
                    random_split)

__all__ = ["DataLoader", "Dataset", "Subset", "TensorDataset", "default_collate", "random_split"]
