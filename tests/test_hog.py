"""tinygrad_edu.features.hog: against scikit-image's skimage.feature.hog (skipped when
scikit-image is not installed), against hand-computed answers, gradcheck, and its errors."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu.features import (hog, image_gradients, normalize_blocks, orientation_bins,
                                   orientation_histograms)

RNG = np.random.default_rng(0)


def photo_crop() -> np.ndarray:
    """A grey 80×90 crop of scikit-learn's china.jpg (real edges), or random pixels without it."""
    try:
        from sklearn.datasets import load_sample_image
    except ImportError:
        return RNG.random((80, 90))
    return load_sample_image("china.jpg").mean(axis=2)[100:180, 200:290] / 255.0


@pytest.mark.parametrize("block_norm", ["L1", "L1-sqrt", "L2", "L2-Hys"])
@pytest.mark.parametrize("orientations, pixels_per_cell, cells_per_block",
                         [(9, (8, 8), (3, 3)), (8, (6, 5), (2, 3)), (12, (4, 4), (1, 1))])
def test_matches_skimage(block_norm, orientations, pixels_per_cell, cells_per_block):
    skimage_feature = pytest.importorskip("skimage.feature")
    image = photo_crop()
    kwargs = dict(orientations=orientations, pixels_per_cell=pixels_per_cell,
                  cells_per_block=cells_per_block, block_norm=block_norm)
    expected = skimage_feature.hog(image, **kwargs)
    ours = hog(image, **kwargs)
    assert ours.shape == expected.shape
    # scikit-image sums each cell in float32, hence the tolerance
    np.testing.assert_allclose(ours.data, expected, atol=1e-6)


def test_matches_skimage_block_layout_and_batch():
    skimage_feature = pytest.importorskip("skimage.feature")
    images = RNG.random((3, 24, 32))
    ours = hog(images, pixels_per_cell=(4, 4), cells_per_block=(2, 2), feature_vector=False)
    for n in range(3):
        expected = skimage_feature.hog(images[n], pixels_per_cell=(4, 4), cells_per_block=(2, 2),
                                       feature_vector=False)
        assert ours.shape[1:] == expected.shape          # (rows, cols, br, bc, bins)
        np.testing.assert_allclose(ours.data[n], expected, atol=1e-6)


def test_input_layouts_agree():
    images = RNG.random((2, 16, 16))
    batch = hog(images, pixels_per_cell=4, cells_per_block=2).data
    np.testing.assert_array_equal(hog(images[:, None], pixels_per_cell=4, cells_per_block=2).data, batch)
    np.testing.assert_array_equal(hog(images[1], pixels_per_cell=4, cells_per_block=2).data, batch[1])
    assert batch.shape == (2, 3 * 3 * 2 * 2 * 9)
    as_tensor = hog(tg.Tensor(images.astype(np.float32)), pixels_per_cell=4, cells_per_block=2)
    assert as_tensor.dtype == np.float32
    np.testing.assert_allclose(as_tensor.data, batch, atol=1e-5)
    uint8 = hog((images * 255).astype(np.uint8), pixels_per_cell=4, cells_per_block=2)
    assert uint8.dtype == np.float64


def test_central_and_sobel_gradients_by_hand():
    ramp = np.tile(np.arange(6.0), (5, 1))[None, None] * 2.0      # I[i, j] = 2j
    g_row, g_col = image_gradients(tg.Tensor(ramp), "central")
    assert np.all(g_row.data == 0)
    np.testing.assert_array_equal(g_col.data[0, 0, :, 1:-1], 4.0)   # I[j+1] − I[j−1] = 4
    np.testing.assert_array_equal(g_col.data[0, 0, :, [0, -1]], 0.0)  # no neighbour: 0
    g_row, g_col = image_gradients(tg.Tensor(ramp), "sobel")
    np.testing.assert_array_equal(g_col.data[0, 0, 1:-1, 1:-1], 16.0)  # (1 + 2 + 1) · 4
    assert np.all(g_col.data[0, 0, [0, -1]] == 0) and np.all(g_row.data == 0)


def test_sobel_matches_scipy_inside():
    ndimage = pytest.importorskip("scipy.ndimage")
    image = photo_crop()
    g_row, g_col = image_gradients(tg.Tensor(image[None, None]), "sobel")
    np.testing.assert_allclose(g_row.data[0, 0, 1:-1, 1:-1], ndimage.sobel(image, axis=0)[1:-1, 1:-1],
                               atol=1e-12)
    np.testing.assert_allclose(g_col.data[0, 0, 1:-1, 1:-1], ndimage.sobel(image, axis=1)[1:-1, 1:-1],
                               atol=1e-12)


def test_orientation_bins():
    # θ = atan2(g_row, g_col) mod 180: 0° → bin 0, 45° → 2, 90° → 4, 135° → 6, −45° = 135°
    g_row = np.array([0.0, 1.0, 1.0, 1.0, -1.0, 0.0])
    g_col = np.array([1.0, 1.0, 0.0, -1.0, 1.0, -1.0])
    np.testing.assert_array_equal(orientation_bins(g_row, g_col, 9), [0, 2, 4, 6, 6, 0])


def test_edge_votes_in_one_bin_and_cell_mean():
    image = np.zeros((8, 8))
    image[:, 4:] = 1.0                       # vertical edge between columns 3 and 4
    cells = orientation_histograms(image, orientations=9, pixels_per_cell=(8, 8)).data[0, :, 0, 0]
    # columns 3 and 4 have g_col = 1 on all 8 rows: 16 votes of 1 into bin 0, over 64 pixels
    np.testing.assert_allclose(cells, [16 / 64] + [0] * 8)


def test_l2hys_clips_at_0_2():
    cells = tg.Tensor(np.array([1.0, 0, 0, 0, 0, 0, 0, 0, 0])[None, :, None, None])   # (1, 9, 1, 1)
    out = normalize_blocks(cells, cells_per_block=1, block_norm="L2-Hys").data.ravel()
    np.testing.assert_allclose(out, [1.0] + [0] * 8, atol=1e-9)   # clip to 0.2, then renormalise
    cells = tg.Tensor(np.full((1, 4, 1, 1), 3.0))
    out = normalize_blocks(cells, cells_per_block=1, block_norm="L2").data.ravel()
    np.testing.assert_allclose(out, 0.5, atol=1e-9)               # 3 / √(4·9)


@pytest.mark.parametrize("block_norm", ["L1", "L2", "L2-Hys"])
def test_gradcheck(block_norm):
    image = tg.Tensor(RNG.random((1, 1, 8, 8)), requires_grad=True)
    assert tg.gradcheck(lambda x: hog(x, orientations=4, pixels_per_cell=4, cells_per_block=2,
                                      block_norm=block_norm), [image], eps=1e-7, atol=1e-5)


def test_bad_arguments():
    with pytest.raises(ValueError, match="grey"):
        hog(np.zeros((2, 3, 16, 16)))
    with pytest.raises(ValueError, match="block_norm"):
        hog(np.zeros((16, 16)), block_norm="L3")
    with pytest.raises(ValueError, match="cannot hold one block"):
        hog(np.zeros((16, 16)), pixels_per_cell=8, cells_per_block=3)
    with pytest.raises(ValueError, match="pixels_per_cell"):
        hog(np.zeros((16, 16)), pixels_per_cell=(0, 8))
    with pytest.raises(ValueError, match="gradient"):
        hog(np.zeros((16, 16)), gradient="prewitt")
    with pytest.raises(ValueError, match="smaller than one cell"):
        hog(np.zeros((5, 5)), pixels_per_cell=8)
    with pytest.raises(ValueError, match="orientations"):
        hog(np.zeros((16, 16)), orientations=0)
    with pytest.raises(ValueError, match="at least 3×3"):
        image_gradients(tg.Tensor(np.zeros((1, 1, 2, 5))))


def test_gradient_finite_on_flat_image():
    image = tg.Tensor(np.full((1, 1, 8, 8), 0.5), requires_grad=True)   # m = 0 everywhere
    hog(image, pixels_per_cell=4, cells_per_block=2, block_norm="L1-sqrt").sum().backward()
    assert np.all(np.isfinite(image.grad))
