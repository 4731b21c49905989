"""Tutorials 13 (Deep Image Prior) and 14 (HOG against CNN features, invariance) in quick mode.

As tests/test_tutorials.py: each runs as a subprocess and its RESULT line is checked against
"learning happened" thresholds, not the full-run numbers of tutorials/README.md.
OMP_NUM_THREADS=1 keeps the compiled kernels from waiting on each other when the machine is busy
(see the speed note in tutorials/README.md); it changes no result.
"""

from __future__ import annotations

import pytest

from test_tutorials import run_quick


@pytest.fixture(autouse=True)
def _one_thread(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")


def test_13_deep_image_prior(tmp_path):
    r = run_quick("13_deep_image_prior", tmp_path)
    assert 19.5 < r["noisy_psnr"] < 20.5                   # σ = 0.1 noise: 10·log10(1/0.01) = 20 dB
    assert r["final_loss"] < 0.5 * r["initial_loss"]       # the fit makes progress …
    assert r["best_raw_psnr"] > r["initial_psnr"] + 3      # … towards the image
    assert r["best_blur_psnr"] > r["noisy_psnr"]
    assert 0.03 < r["inpaint_missing_fraction"] < 0.5
    assert r["inpaint_psnr"] > r["inpaint_initial_psnr"]
    assert r["inpaint_diffusion_psnr"] > 15
    assert {"13_denoising_psnr.png", "13_denoising_images.png", "13_inpainting.png"} <= set(r["pngs"])


def test_14_hog_vs_cnn(tmp_path):
    r = run_quick("14_hog_vs_cnn", tmp_path)
    if r["hog_max_abs_diff_vs_skimage"] is not None:       # scikit-image installed
        assert r["hog_max_abs_diff_vs_skimage"] < 1e-6
    accuracy = r["linear_accuracy"]
    assert set(accuracy) == {"pixels", "HOG (Sobel)", "HOG (central)", "random CNN features",
                             "trained CNN features"}
    assert min(accuracy.values()) > 0.6                    # ten classes: chance is 0.1
    assert r["cnn_accuracy"] > 0.4 and r["mlp_accuracy"] > 0.4
    assert set(r["shift_accuracy"]) == {"MLP", "CNN", "CNN + global max pooling",
                                         "CNN trained on rotated digits", "HOG + softmax regression"}
    for name, shifted in r["shift_accuracy"].items():
        assert shifted[0] == r["rotation_accuracy"][name][0]   # shift 0 and 0° are the same images
    for name in ("MLP", "CNN"):                        # no invariance built in: moving hurts
        shifted, rotated = r["shift_accuracy"][name], r["rotation_accuracy"][name]
        assert shifted[-1] < shifted[0] - 0.2 and rotated[-1] < rotated[0] - 0.2
    assert {"14_hog_steps.png", "14_linear_on_features.png", "14_invariance.png",
            "14_transformed_examples.png"} <= set(r["pngs"])
