"""Tutorials 09 (the slides' numbers) and 12 (residual networks) in quick mode, as a user runs
them (a subprocess); thresholds as in test_tutorials.py: clearly learned, not the full-run targets."""

from __future__ import annotations

from test_tutorials import run_quick


def test_09_slides_numbers(tmp_path):
    r = run_quick("09_slides_numbers", tmp_path)
    assert r["all_match"] is True and r["examples_checked"] >= 15
    assert r["slips_found"] == 3
    assert r["cs231n_demo_output"][0] == [[-6, -7, -5], [-9, -6, -9], [3, -5, -8]]
    assert r["cs231n_demo_output"][1] == [[2, 3, -2], [7, 4, 1], [5, 5, 7]]
    assert r["curve_detector"] == [6600, 0]
    assert (r["mlp_params"], r["lenet5_params"]) == (636_010, 61_706)
    assert (r["alexnet_params"], r["alexnet_2012_params"]) == (61_100_840, 60_965_224)
    assert r["vgg16_params"] == 138_357_544
    assert {"09_cs231n_demo.png", "09_curve_detector.png"} <= set(r["pngs"])


def test_12_resnet(tmp_path):
    r = run_quick("12_resnet", tmp_path)
    assert r["plain_final_train_loss"] < r["plain_initial_train_loss"]
    assert r["resnet_final_train_loss"] < 0.7 * r["resnet_initial_train_loss"]
    assert r["resnet_final_train_loss"] < r["plain_final_train_loss"]     # the point of the tutorial
    assert len(r["grad_norms_plain"]) == len(r["grad_norms_resnet"]) == 20
    assert min(r["landscape_resnet"]) > 0 and len(r["landscape_alphas"]) == len(r["landscape_plain"])
    assert {"12_relu_family.png", "12_gradient_norms_at_init.png", "12_training_curves.png",
            "12_loss_landscape.png"} <= set(r["pngs"])
