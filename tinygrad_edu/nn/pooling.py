"""Unpooling and fixed upsampling modules: MaxUnpool2d, UpsamplingNearest2d, UpsamplingBilinear2d.

MaxUnpool2d undoes a MaxPool2d(return_indices=True): each pooled value goes back to the place
its maximum came from, zeros fill the rest (SegNet's decoder). A sketch of the round trip:

>>> import tinygrad_edu as tg
>>> pool, unpool = MaxPool2d(2, return_indices=True), MaxUnpool2d(2)
>>> x = tg.Tensor([[[[1., 3., 2., 0.],
...                  [4., 2., 1., 5.]]]])
>>> pooled, indices = pool(x)
>>> unpool(pooled, indices).tolist()
[[[[0.0, 0.0, 0.0, 0.0], [4.0, 0.0, 0.0, 5.0]]]]
"""

from __future__ import annotations

from . import functional as F
from .layers import MaxPool2d, Upsample
from .module import Module

__all__ = ["MaxUnpool2d", "UpsamplingNearest2d", "UpsamplingBilinear2d"]


class MaxUnpool2d(Module):
    """F.max_unpool2d as a layer: forward(input, indices, output_size=None).

    kernel_size, stride (default: kernel_size) and padding are those of the MaxPool2d it undoes;
    output_size ((OH, OW) or (N, C, OH, OW)) picks the size when several pooled to the same one."""

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding

    def forward(self, input, indices, output_size=None):
        return F.max_unpool2d(input, indices, self.kernel_size, self.stride, self.padding,
                              output_size)

    def extra_repr(self) -> str:
        stride = self.kernel_size if self.stride is None else self.stride
        return f"kernel_size={self.kernel_size}, stride={stride}, padding={self.padding}"


class UpsamplingNearest2d(Upsample):
    """Upsample(size, scale_factor, mode="nearest"), PyTorch's older name."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """Upsample(size, scale_factor, mode="bilinear", align_corners=True): note True, as PyTorch's
    older layer of this name (nn.Upsample's bilinear default is align_corners=False)."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)
