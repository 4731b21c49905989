"""Tutorials 10 (what a CNN sees) and 11 (FCN segmentation) in quick mode, as
tests/test_tutorials.py runs 01–08: each shows that learning happened and that its figures
were made. Quick mode trains for a few seconds, so the thresholds are far below the full-run
numbers of tutorials/README.md."""

from __future__ import annotations

from test_tutorials import run_quick


def test_10_what_cnn_sees(tmp_path):
    r = run_quick("10_what_cnn_sees", tmp_path)
    assert r["final_loss"] < 0.9 * r["initial_loss"]
    assert r["test_accuracy"] > 0.15                       # ten classes: chance is 0.1
    assert r["gradcam_hit_rate"] > 2 * r["random_hit_rate"]   # the heat map finds the digit
    assert r["occlusion_hit_rate"] > 2 * r["random_hit_rate"]
    assert 0 <= r["saliency_hit_rate"] <= 1 and r["n_canvases"] > 0
    assert r["activation_gain"]["class"] > 0               # gradient ascent raised the scores
    assert {"10_feature_maps.png", "10_activation_maximisation.png", "10_heatmaps.png",
            "10_hit_rates.png"} <= set(r["pngs"])


def test_11_fcn_segmentation(tmp_path):
    r = run_quick("11_fcn_segmentation", tmp_path)
    assert r["final_loss"] < 0.8 * r["initial_loss"]
    assert r["mean_iou"] > 0.3                             # background alone gives about 0.23
    assert set(r["mean_iou_by_upsampling"]) == {"transposed", "nearest", "bilinear"}
    contrast = r["checkerboard_contrast"]                  # the stride-2, kernel-3 checkerboard
    assert contrast["transposed"] > 5 * max(contrast["nearest"], contrast["bilinear"])
    assert {"11_fcn_predictions.png", "11_translation.png", "11_upsampling.png"} <= set(r["pngs"])
