"""Small example models used by the tests, tutorials and benchmarks.

>>> import tinygrad_edu.nn as nn
>>> sum(p.numel() for p in nn.LeNet5().parameters())   # the classic count
61706
"""

from __future__ import annotations

from .layers import Conv2d, Flatten, Linear, MaxPool2d, ReLU
from .module import Sequential


def LeNet5(num_classes: int = 10, in_channels: int = 1) -> Sequential:
    """LeNet-5 for 32×32 inputs (ReLU and max-pooling, the modern reading):
    conv 5×5 → 6, pool, conv 5×5 → 16, pool, 400 → 120 → 84 → num_classes."""
    return Sequential(
        Conv2d(in_channels, 6, 5), ReLU(), MaxPool2d(2),
        Conv2d(6, 16, 5), ReLU(), MaxPool2d(2),
        Flatten(),
        Linear(16 * 5 * 5, 120), ReLU(),
        Linear(120, 84), ReLU(),
        Linear(84, num_classes),
    )


def MLP(sizes, activation=ReLU) -> Sequential:
    """Linear layers of the given sizes with an activation between them:
    MLP([784, 128, 10]) = Linear(784, 128), ReLU(), Linear(128, 10)."""
    sizes = list(sizes)
    if len(sizes) < 2:
        raise ValueError(f"MLP needs at least an input and an output size, got {sizes}")
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(activation())
    return Sequential(*layers)
