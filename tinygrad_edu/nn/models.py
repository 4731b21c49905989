"""Model definitions: the small ones the tutorials train, and the famous ones of the decks.

Two LeNet-5s, both 61,706 parameters on 1×32×32 inputs:

- `LeNet5Classic`: tanh and average pooling, the simplified LeNet-5 of deck 2's Keras slide
  (Conv2D(6, 5×5, tanh), AveragePooling2D, Conv2D(16, 5×5, tanh), AveragePooling2D, Dense
  120/84 tanh, Dense 10). LeCun et al. 1998 differ: C3 connects each of its 16 maps to only
  some of S2's 6 maps, the pooling layers have a trainable weight and bias, and the output
  is a layer of RBF units; that network has 60,000 trainable parameters by the paper's count.
- `LeNet5`: the same sizes with ReLU and max pooling, the modern reading.

And for `summary` (parameter counts and shapes of the decks' architectures; torchvision's
layouts and parameter names, so a torchvision state_dict loads): `AlexNet`, `VGG16`, `VGG19`,
`ResNet18`.

>>> import tinygrad_edu.nn as nn
>>> sum(p.numel() for p in nn.LeNet5().parameters())   # the classic count
61706
>>> sum(p.numel() for p in LeNet5Classic().parameters())
61706
"""

from __future__ import annotations

from ..tensor import Tensor
from .activation import ReLU, Tanh
from .layers import (AvgPool2d, BasicBlock, BatchNorm2d, Conv2d, Dropout, Flatten, Linear,
                     MaxPool2d)
from .module import Module, Sequential

__all__ = ["LeNet5", "LeNet5Classic", "MLP", "AlexNet", "VGG16", "VGG19", "ResNet18"]


def LeNet5(num_classes: int = 10, in_channels: int = 1) -> Sequential:
    """LeNet-5 for 32×32 inputs, the modern reading (ReLU and max pooling):
    conv 5×5 → 6, pool, conv 5×5 → 16, pool, 400 → 120 → 84 → num_classes.
    The tanh/average-pooling version of the slides is `LeNet5Classic`."""
    return Sequential(
        Conv2d(in_channels, 6, 5), ReLU(), MaxPool2d(2),
        Conv2d(6, 16, 5), ReLU(), MaxPool2d(2),
        Flatten(),
        Linear(16 * 5 * 5, 120), ReLU(),
        Linear(120, 84), ReLU(),
        Linear(84, num_classes),
    )


def LeNet5Classic(num_classes: int = 10, in_channels: int = 1) -> Sequential:
    """LeNet-5 as deck 2's Keras slide has it (tanh and 2×2 average pooling), for 32×32 inputs:
    C1 conv 5×5 → 6, S2 avg pool, C3 conv 5×5 → 16 (all 6 input maps), S4 avg pool,
    F5 400 → 120, F6 120 → 84, output 84 → num_classes (raw scores: the softmax is in the loss).
    Not quite LeCun 1998 (partial C3, trainable pooling, RBF outputs): see the module docstring.
    The ReLU/max-pooling version is `LeNet5`."""
    return Sequential(
        Conv2d(in_channels, 6, 5), Tanh(), AvgPool2d(2),     # C1, S2
        Conv2d(6, 16, 5), Tanh(), AvgPool2d(2),              # C3, S4
        Flatten(),
        Linear(16 * 5 * 5, 120), Tanh(),                     # F5
        Linear(120, 84), Tanh(),                             # F6
        Linear(84, num_classes),                             # output scores
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


class AlexNet(Module):
    """AlexNet (Krizhevsky et al. 2012) in torchvision's single-GPU layout, for 3×224×224 inputs:
    five convolutions (11×11/4, 5×5, 3×3 ×3) with ReLU and three 3×3/2 max pools → 256×6×6,
    then dropout, 9216 → 4096 → 4096 → num_classes. 61,100,840 parameters for 1000 classes
    (the deck's "≈ 60M"). torchvision has an AdaptiveAvgPool2d((6, 6)) before the classifier;
    for 224×224 inputs it is the identity, so it is left out (no parameters either way)."""

    def __init__(self, num_classes: int = 1000, dropout: float = 0.5):
        super().__init__()
        self.features = Sequential(
            Conv2d(3, 64, 11, stride=4, padding=2), ReLU(), MaxPool2d(3, 2),
            Conv2d(64, 192, 5, padding=2), ReLU(), MaxPool2d(3, 2),
            Conv2d(192, 384, 3, padding=1), ReLU(),
            Conv2d(384, 256, 3, padding=1), ReLU(),
            Conv2d(256, 256, 3, padding=1), ReLU(), MaxPool2d(3, 2),
        )
        self.classifier = Sequential(
            Dropout(dropout), Linear(256 * 6 * 6, 4096), ReLU(),
            Dropout(dropout), Linear(4096, 4096), ReLU(),
            Linear(4096, num_classes),
        )

    def forward(self, x: Tensor) -> Tensor:
        x = self.features(x)
        if x.shape[2:] != (6, 6):
            raise ValueError(f"AlexNet: the features are {tuple(x.shape[1:])}, the classifier "
                             "needs 256×6×6 (give 3×224×224 images)")
        return self.classifier(x.flatten(1))


# The VGG configurations (Simonyan & Zisserman 2014): channels of the 3×3 convolutions, "M" a
# 2×2 max pool. D is VGG-16 (13 convolutions + 3 linear layers), E is VGG-19 (16 + 3).
_VGG_CONFIGS = {
    16: [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    19: [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
         512, 512, 512, 512, "M"],
}


class _VGG(Module):
    """VGG in torchvision's layout: `features` (3×3 convolutions, padding 1, ReLU; 2×2 max
    pools) → 512×7×7 for 224×224 inputs, then `classifier` 25088 → 4096 → 4096 → num_classes
    with ReLU and dropout. torchvision's AdaptiveAvgPool2d((7, 7)) is the identity at 224×224
    and is left out."""

    def __init__(self, depth: int, num_classes: int = 1000, dropout: float = 0.5):
        super().__init__()
        layers, channels = [], 3
        for v in _VGG_CONFIGS[depth]:
            if v == "M":
                layers.append(MaxPool2d(2, 2))
            else:
                layers += [Conv2d(channels, v, 3, padding=1), ReLU()]
                channels = v
        self.features = Sequential(*layers)
        self.classifier = Sequential(
            Linear(512 * 7 * 7, 4096), ReLU(), Dropout(dropout),
            Linear(4096, 4096), ReLU(), Dropout(dropout),
            Linear(4096, num_classes),
        )

    def forward(self, x: Tensor) -> Tensor:
        x = self.features(x)
        if x.shape[2:] != (7, 7):
            raise ValueError(f"VGG: the features are {tuple(x.shape[1:])}, the classifier needs "
                             "512×7×7 (give 3×224×224 images)")
        return self.classifier(x.flatten(1))


class VGG16(_VGG):
    """VGG-16 (configuration D): 13 convolutions and 3 linear layers, 138,357,544 parameters
    for 1000 classes. Layout and names: torchvision.models.vgg16."""

    def __init__(self, num_classes: int = 1000, dropout: float = 0.5):
        super().__init__(16, num_classes, dropout)


class VGG19(_VGG):
    """VGG-19 (configuration E, deck 2's "143 million parameters"): 16 convolutions and 3
    linear layers, 143,667,240 parameters for 1000 classes. torchvision.models.vgg19's layout."""

    def __init__(self, num_classes: int = 1000, dropout: float = 0.5):
        super().__init__(19, num_classes, dropout)


class ResNet18(Module):
    """ResNet-18 (He et al. 2015) in torchvision's layout: a 7×7/2 convolution, BatchNorm, ReLU
    and a 3×3/2 max pool, then four stages of two BasicBlocks (64, 128, 256, 512 channels; the
    first block of stages 2–4 halves the size with stride 2 and a 1×1 downsample), global average
    pooling and fc 512 → num_classes. 11,689,512 parameters for 1000 classes. Any input of
    at least 32×32 works (the pooling is global)."""

    def __init__(self, num_classes: int = 1000, in_channels: int = 3):
        super().__init__()
        self.conv1 = Conv2d(in_channels, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = BatchNorm2d(64)
        self.relu = ReLU()
        self.maxpool = MaxPool2d(3, stride=2, padding=1)
        self.layer1 = Sequential(BasicBlock(64, 64), BasicBlock(64, 64))
        self.layer2 = Sequential(BasicBlock(64, 128, stride=2), BasicBlock(128, 128))
        self.layer3 = Sequential(BasicBlock(128, 256, stride=2), BasicBlock(256, 256))
        self.layer4 = Sequential(BasicBlock(256, 512, stride=2), BasicBlock(512, 512))
        self.fc = Linear(512, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(x.mean(axis=(2, 3)))  # global average pooling: (N, 512)
