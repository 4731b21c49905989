"""Classic, hand-made image features, built from the library's own ops (deck 4).

`hog()` is the Histogram of Oriented Gradients of Dalal & Triggs (2005), the descriptor that
deck 4 opens with, computed in four steps that each use an op of the engine:

1. gradients: `conv2d` with a difference kernel, central [-1, 0, 1] or Sobel
   ([-1, 0, 1] smoothed by [1, 2, 1] across);
2. per pixel: magnitude m = √(g_row² + g_col²) and unsigned orientation θ = atan2(g_row, g_col)
   mod 180°; each pixel puts its whole magnitude into the bin that θ falls in
   (bin b covers [b·180°/B, (b+1)·180°/B));
3. cells: `avg_pool2d` over each cell of pixels_per_cell pixels gives one B-bin histogram per
   cell;
4. blocks: every cells_per_block window of neighbouring cells is normalised together (L2-Hys:
   v/‖v‖₂, clipped at 0.2, normalised again), so local contrast matters less. Cells sit in
   several blocks, and every block's copy is part of the feature vector.

With gradient="central" the numbers are those of scikit-image's `skimage.feature.hog` (grey
images, the same parameters; equal to about 1e-7, scikit-image sums cells in float32), which
tests/test_hog.py checks. Like scikit-image, each vote goes whole into one bin of one cell;
Dalal & Triggs also split votes between neighbouring bins and cells. The result is a Tensor
and is differentiable almost everywhere (the bin a pixel votes into is piecewise constant).

>>> import numpy as np
>>> image = np.zeros((16, 16)); image[:, 8:] = 1.0      # a vertical edge: intensity grows along x
>>> cells = orientation_histograms(image[None, None], orientations=9, pixels_per_cell=(8, 8))
>>> cells.shape                                         # (N, bins, cell rows, cell columns)
(1, 9, 2, 2)
>>> int(cells.data[0, :, 0, 0].argmax())                # all votes in bin 0: θ = 0°, a vertical edge
0
>>> hog(image, pixels_per_cell=(8, 8), cells_per_block=(2, 2)).shape   # 1 block · 2·2 cells · 9 bins
(36,)
"""

from __future__ import annotations

import numpy as np

from .nn import functional as F
from .tensor import Tensor, stack

BLOCK_NORMS = ("L1", "L1-sqrt", "L2", "L2-Hys")

# (row kernel, column kernel) for conv2d, as (kh, kw) arrays. g_row = ∂I/∂row (downwards),
# g_col = ∂I/∂col (rightwards). Cross-correlation: g_row[i, j] = I[i+1, j] − I[i−1, j] (central).
GRADIENT_KERNELS = {
    "central": (np.array([[-1.0], [0.0], [1.0]]), np.array([[-1.0, 0.0, 1.0]])),
    "sobel": (np.array([[-1.0, -2.0, -1.0], [0.0, 0.0, 0.0], [1.0, 2.0, 1.0]]),
              np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])),
}


def _as_grey_batch(images, fname: str) -> tuple[Tensor, int]:
    """images (H, W), (N, H, W) or (N, 1, H, W), array or Tensor -> ((N, 1, H, W) float Tensor,
    the number of axes to drop again at the end)."""
    x = images if isinstance(images, Tensor) else Tensor(np.asarray(images))
    if x.data.dtype.kind != "f":
        x = Tensor(x.data.astype(np.float64))   # integers (uint8 pixels) become float64
    if x.ndim == 2:
        return x.reshape(1, 1, *x.shape), 2
    if x.ndim == 3:
        return x.unsqueeze(1), 1
    if x.ndim == 4 and x.shape[1] == 1:
        return x, 0
    raise ValueError(f"{fname}: expected grey images (H, W), (N, H, W) or (N, 1, H, W), got shape "
                     f"{tuple(x.shape)}; convert colour images to grey first")


def _pair(value, name: str, fname: str) -> tuple[int, int]:
    pair = (value, value) if isinstance(value, (int, np.integer)) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, (int, np.integer)) and v >= 1 for v in pair):
        raise ValueError(f"{fname}: {name} must be a positive int or a pair of them, got {value!r}")
    return int(pair[0]), int(pair[1])


def image_gradients(images: Tensor, gradient: str = "central") -> tuple[Tensor, Tensor]:
    """(g_row, g_col) of (N, 1, H, W) images: conv2d with GRADIENT_KERNELS[gradient].

    Pixels where the kernel does not fit (the border rows for g_row, the border columns for
    g_col; both for the 3×3 Sobel kernels) get 0, as in scikit-image. Shapes: (N, 1, H, W) each.
    """
    if gradient not in GRADIENT_KERNELS:
        raise ValueError(f"image_gradients: gradient must be one of {tuple(GRADIENT_KERNELS)}, "
                         f"got {gradient!r}")
    if images.shape[2] < 3 or images.shape[3] < 3:
        raise ValueError(f"image_gradients: images must be at least 3×3, got shape {images.shape}")
    outputs = []
    for kernel in GRADIENT_KERNELS[gradient]:
        weight = Tensor(kernel.astype(images.data.dtype)[None, None])   # (1, 1, kh, kw)
        valid = F.conv2d(images, weight)                                # (N, 1, H−kh+1, W−kw+1)
        pad_h, pad_w = (kernel.shape[0] - 1) // 2, (kernel.shape[1] - 1) // 2
        outputs.append(F.pad(valid, (pad_w, pad_w, pad_h, pad_h)))      # zeros around: (N, 1, H, W)
    return outputs[0], outputs[1]


def orientation_bins(g_row: np.ndarray, g_col: np.ndarray, orientations: int) -> np.ndarray:
    """The bin of each pixel's unsigned orientation θ = atan2(g_row, g_col) mod 180°:
    ⌊θ / (180°/orientations)⌋, an int array of g_row's shape."""
    theta = np.rad2deg(np.arctan2(g_row.astype(np.float64), g_col.astype(np.float64))) % 180.0
    return np.minimum((theta // (180.0 / orientations)).astype(np.int64), orientations - 1)


def orientation_histograms(images, orientations: int = 9, pixels_per_cell=(8, 8),
                           gradient: str = "central") -> Tensor:
    """Steps 1–3 of HOG: one histogram of gradient orientations per cell, (N, orientations,
    H // cell_h, W // cell_w). Entry [n, b, r, c] = (1 / cell area) · Σ m over the pixels of cell
    (r, c) whose orientation is in bin b. Rows and columns left over at the bottom/right are
    not used (as in scikit-image)."""
    x, _ = _as_grey_batch(images, "orientation_histograms")
    cell = _pair(pixels_per_cell, "pixels_per_cell", "orientation_histograms")
    if not isinstance(orientations, (int, np.integer)) or orientations < 1:
        raise ValueError(f"orientation_histograms: orientations must be a positive int, "
                         f"got {orientations!r}")
    if x.shape[2] < cell[0] or x.shape[3] < cell[1]:
        raise ValueError(f"orientation_histograms: images of shape {tuple(x.shape)} are smaller "
                         f"than one cell of {cell} pixels")
    g_row, g_col = image_gradients(x, gradient)
    tiny = np.finfo(x.data.dtype).tiny        # keeps the gradient of √ finite where the image is flat
    magnitude = (g_row * g_row + g_col * g_col + tiny).sqrt()                     # (N, 1, H, W)
    bins = orientation_bins(g_row.data[:, 0], g_col.data[:, 0], orientations)     # (N, H, W)
    one_hot = (bins[:, None] == np.arange(orientations)[None, :, None, None])     # (N, B, H, W)
    votes = magnitude * Tensor(one_hot.astype(x.data.dtype))
    return F.avg_pool2d(votes, kernel_size=cell)


def normalize_blocks(cells: Tensor, cells_per_block=(3, 3), block_norm: str = "L2-Hys",
                     eps: float = 1e-5) -> Tensor:
    """Step 4 of HOG: (N, B, R, C) cell histograms -> (N, R−br+1, C−bc+1, br, bc, B), every
    window of br×bc cells normalised as one vector v (scikit-image's formulas and eps):
    L1: v/(‖v‖₁+eps); L1-sqrt: √(v/(‖v‖₁+eps)); L2: v/√(‖v‖₂²+eps²);
    L2-Hys: L2, then min(·, 0.2), then L2 again."""
    if block_norm not in BLOCK_NORMS:
        raise ValueError(f"normalize_blocks: block_norm must be one of {BLOCK_NORMS}, "
                         f"got {block_norm!r}")
    b_row, b_col = _pair(cells_per_block, "cells_per_block", "normalize_blocks")
    n, n_bins, n_rows, n_cols = cells.shape
    if n_rows < b_row or n_cols < b_col:
        raise ValueError(f"normalize_blocks: {n_rows}×{n_cols} cells cannot hold one block of "
                         f"{b_row}×{b_col} cells; use a larger image, or smaller pixels_per_cell "
                         f"or cells_per_block")
    rows, cols = n_rows - b_row + 1, n_cols - b_col + 1
    shifted = [cells[:, :, i:i + rows, j:j + cols] for i in range(b_row) for j in range(b_col)]
    blocks = stack(shifted, dim=2).reshape(n, n_bins, b_row, b_col, rows, cols)
    blocks = blocks.permute(0, 4, 5, 2, 3, 1)                    # (N, rows, cols, br, bc, B)
    return _normalize(blocks, block_norm, eps, dims=(3, 4, 5))


def _normalize(v: Tensor, block_norm: str, eps: float, dims: tuple) -> Tensor:
    if block_norm in ("L1", "L1-sqrt"):
        out = v / (v.abs().sum(dim=dims, keepdim=True) + eps)
        return (out + np.finfo(v.data.dtype).tiny).sqrt() if block_norm == "L1-sqrt" else out
    out = v / ((v * v).sum(dim=dims, keepdim=True) + eps ** 2).sqrt()
    if block_norm == "L2":
        return out
    out = out.clip(max=0.2)                                      # L2-Hys: clip, renormalise
    return out / ((out * out).sum(dim=dims, keepdim=True) + eps ** 2).sqrt()


def hog(images, orientations: int = 9, pixels_per_cell=(8, 8), cells_per_block=(3, 3),
        block_norm: str = "L2-Hys", feature_vector: bool = True, gradient: str = "central") -> Tensor:
    """Histogram of Oriented Gradients of grey images, as skimage.feature.hog.

    images: (H, W), (N, H, W) or (N, 1, H, W), a numpy array or a Tensor.
    Returns (N, D) features (D = blocks · br · bc · orientations), or (D,) for one (H, W)
    image; with feature_vector=False the blocks keep their axes: (N, rows, cols, br, bc, B).
    gradient: "central" ([-1, 0, 1], scikit-image's and Dalal & Triggs' choice) or "sobel".
    """
    x, squeeze = _as_grey_batch(images, "hog")
    cells = orientation_histograms(x, orientations, pixels_per_cell, gradient)
    blocks = normalize_blocks(cells, cells_per_block, block_norm)
    out = blocks.reshape(blocks.shape[0], -1) if feature_vector else blocks
    return out[0] if squeeze == 2 else out
