"""`tinygrad_edu.utils`, as `torch.utils`: `utils.data` is tinygrad_edu.data under PyTorch's
path, so `from torch.utils.data import DataLoader, TensorDataset` ports by renaming."""

from . import data

__all__ = ["data"]
