"""datasets.make_segmentation_shapes and datasets.digits_on_canvas: shapes, dtypes, labels that
agree with the pixels, boxes that enclose their masks, regions, determinism, bad arguments."""

import numpy as np
import pytest

from tinygrad_edu.datasets import SHAPE_CLASSES, digits_on_canvas, make_segmentation_shapes


def test_segmentation_shapes_masks_boxes_and_pixels_agree():
    images, masks, boxes = make_segmentation_shapes(60, size=32, max_shapes=3, seed=3)
    assert images.shape == (60, 1, 32, 32) and images.dtype == np.float32
    assert masks.shape == (60, 32, 32) and masks.dtype == np.int64
    assert set(np.unique(masks)) == {0, 1, 2, 3} and len(SHAPE_CLASSES) == 4
    assert len(boxes) == 60
    counts = [len(b) for b in boxes]
    assert min(counts) >= 1 and max(counts) == 3
    for img, mask, rows in zip(images[:, 0], masks, boxes):
        np.testing.assert_array_equal(img > 0, mask > 0)      # ink exactly where labelled
        assert img.max() <= 1 and img[mask > 0].min() >= 0.5
        covered = np.zeros_like(mask, dtype=bool)
        for c, t, l, b, r in rows:
            inside = mask[t:b, l:r] == c
            assert inside[0].any() and inside[-1].any() and inside[:, 0].any() and inside[:, -1].any()
            covered[t:b, l:r] |= inside
        np.testing.assert_array_equal(covered, mask > 0)       # every labelled pixel is in a box
    # each class appears with a reasonable frequency (three shape kinds)
    per_class = np.bincount(np.concatenate([b[:, 0] for b in boxes]), minlength=4)[1:]
    assert per_class.min() > 0.15 * per_class.sum()


def test_segmentation_shapes_never_touch():
    _, masks, boxes = make_segmentation_shapes(40, size=24, max_shapes=4, seed=0)
    for mask, rows in zip(masks, boxes):
        labelled = np.zeros(mask.shape, dtype=int)   # which shape owns each pixel (1-based)
        for k, (c, t, l, b, r) in enumerate(rows, start=1):
            labelled[t:b, l:r][mask[t:b, l:r] == c] = k
        # two different shapes are never 8-neighbours
        a, b = labelled[:, :-1], labelled[:, 1:]
        assert not ((a > 0) & (b > 0) & (a != b)).any()
        a, b = labelled[:-1], labelled[1:]
        assert not ((a > 0) & (b > 0) & (a != b)).any()


def test_segmentation_shapes_region_determinism_and_noise():
    _, masks, _ = make_segmentation_shapes(50, size=32, seed=1, region=(0, 0, 32, 16))
    assert masks[:, :, 16:].max() == 0 and masks[:, :, :16].max() > 0
    _, masks, _ = make_segmentation_shapes(50, size=32, seed=1, region=(0, 16, 32, 32))
    assert masks[:, :, :16].max() == 0
    a = make_segmentation_shapes(5, seed=7)
    b = make_segmentation_shapes(5, seed=7)
    np.testing.assert_array_equal(a[0], b[0])
    noisy, clean_masks, _ = make_segmentation_shapes(5, seed=7, noise=0.1)
    np.testing.assert_array_equal(clean_masks, a[1])            # noise changes only the pixels
    assert 0 <= noisy.min() and noisy.max() <= 1 and np.abs(noisy - a[0]).mean() > 0.01


def test_segmentation_shapes_bad_arguments():
    with pytest.raises(ValueError, match="size"):
        make_segmentation_shapes(2, size=4)
    with pytest.raises(ValueError, match="region"):
        make_segmentation_shapes(2, size=32, region=(0, 0, 40, 16))
    with pytest.raises(ValueError, match="max_shapes"):
        make_segmentation_shapes(2, max_shapes=0)


def test_digits_on_canvas_boxes_hold_the_ink():
    rng = np.random.default_rng(0)
    tiles = rng.random((30, 1, 16, 16)).astype(np.float32) * (rng.random((30, 1, 16, 16)) > 0.6)
    labels = rng.integers(0, 10, 30)
    canvases, masks, boxes = digits_on_canvas(tiles, labels, canvas=40, seed=2)
    assert canvases.shape == (30, 1, 40, 40) and masks.shape == (30, 40, 40) and boxes.shape == (30, 4)
    for canvas, tile, mask, label, (t, l, b, r) in zip(canvases[:, 0], tiles[:, 0], masks, labels, boxes):
        np.testing.assert_allclose(canvas.sum(), tile.sum(), rtol=1e-5)   # the whole digit, once
        assert set(np.unique(mask)) <= {0, label + 1}
        ink = mask > 0
        assert ink[t:b, l:r].sum() == ink.sum()                              # the box holds all the ink
        assert ink[t].any() and ink[b - 1].any() and ink[:, l].any() and ink[:, r - 1].any()  # tightly
        np.testing.assert_array_equal(ink, canvas > 0.25)
    positions = {(int(t), int(l)) for t, l, _, _ in boxes}
    assert len(positions) > 20                                               # random places


def test_digits_on_canvas_bad_arguments():
    tiles = np.zeros((2, 1, 8, 8), np.float32)
    with pytest.raises(ValueError, match="smaller"):
        digits_on_canvas(tiles, np.array([1, 2]), canvas=6)
    with pytest.raises(ValueError, match="labels"):
        digits_on_canvas(tiles, np.array([1]), canvas=16)
    with pytest.raises(ValueError, match=r"\(n, 1, h, w\)"):
        digits_on_canvas(tiles[:, 0], np.array([1, 2]), canvas=16)
