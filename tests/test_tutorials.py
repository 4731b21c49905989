"""Every tutorial runs in quick mode (in a subprocess, as a user would run it) and shows that
learning happened: its last line `RESULT {json}` carries the metrics checked here.

Quick mode trains for a few seconds only, so the thresholds are "clearly better than chance /
clearly lower than at the start", not the full-run targets listed in tutorials/README.md.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

TUTORIALS = Path(__file__).resolve().parent.parent / "tutorials"


def run_quick(name: str, out: Path) -> dict:
    """Run tutorials/<name>.py --quick and return the parsed RESULT line (and the PNGs made)."""
    pytest.importorskip("matplotlib")
    pytest.importorskip("sklearn")
    script = TUTORIALS / f"{name}.py"
    assert script.exists(), f"missing tutorial {script}"
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONUNBUFFERED="1", TQDM_DISABLE="1")
    proc = subprocess.run([sys.executable, str(script), "--quick", "--out", str(out)],
                          capture_output=True, text=True, timeout=240, env=env,
                          cwd=TUTORIALS.parent)
    assert proc.returncode == 0, f"{name} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    assert lines, f"{name} printed no RESULT line:\n{proc.stdout[-2000:]}"
    result = json.loads(lines[-1][len("RESULT "):])
    assert result["quick"] is True
    saved = json.loads((out / f"{name}_metrics.json").read_text())
    assert saved == result, "metrics file and RESULT line disagree"
    result["pngs"] = sorted(p.name for p in out.glob("*.png"))
    return result


def test_01_backprop_step_by_step(tmp_path):
    r = run_quick("01_backprop_step_by_step", tmp_path)
    assert r["gradcheck"] is True
    assert r["max_abs_diff_engine_vs_hand"] < 1e-10
    assert r["final_loss"] < 0.6 * r["initial_loss"]
    assert r["train_accuracy"] > 0.6          # three classes: chance is 1/3
    assert r["pngs"]


def test_02_convolution_as_filter(tmp_path):
    r = run_quick("02_convolution_as_filter", tmp_path)
    assert r["max_abs_diff_vs_formula"] < 1e-4      # conv2d is the formula's sum (float32)
    assert r["output_sizes_match_formula"] is True
    assert r["max_pool_matches_numpy"] is True
    assert {"02_filters.png", "02_stride_padding.png", "02_pooling.png"} <= set(r["pngs"])


def test_03_mlp_digits(tmp_path):
    r = run_quick("03_mlp_digits", tmp_path)
    assert r["final_train_loss"] < 0.5 * r["initial_train_loss"]
    assert r["test_accuracy"] > 0.6                  # ten classes: chance is 0.1
    assert min(r["small_subset_test_accuracy"].values()) > 0.3
    assert "03_overfitting_cures.png" in r["pngs"]


def test_04_cnn_lenet(tmp_path):
    r = run_quick("04_cnn_lenet", tmp_path)
    assert r["parameters"] == 61706
    assert r["final_loss"] < 0.7 * r["initial_loss"]
    assert r["test_accuracy"] > 0.5
    assert r["mean_activation_gain"] > 0              # gradient ascent raised the activation
    assert {"04_confusion_matrix.png", "04_filters_and_feature_maps.png",
            "04_filter_maximising_inputs.png"} <= set(r["pngs"])


def test_05_autoencoder(tmp_path):
    r = run_quick("05_autoencoder", tmp_path)
    assert r["final_train_mse"] < 0.6 * r["initial_train_mse"]
    assert r["test_mse"] < r["mean_image_mse"]        # better than drawing the average digit
    assert r["denoised_mse"] < 0.7 * r["noisy_mse"]   # the denoiser removes noise
    assert {"05_reconstructions.png", "05_denoising.png"} <= set(r["pngs"])


def test_06_lstm(tmp_path):
    r = run_quick("06_lstm", tmp_path)
    assert r["digit_final_loss"] < 0.8 * r["digit_initial_loss"]
    assert r["lstm_digit_test_accuracy"] > 0.3
    assert r["adding_lstm_val_mse"] < r["adding_lstm_initial_mse"]
    assert r["adding_rnn_val_mse"] < r["adding_rnn_initial_mse"]
    assert r["adding_gru_val_mse"] < r["adding_gru_initial_mse"]
    assert "06_lstm_curves.png" in r["pngs"]


def test_07_transfer_learning(tmp_path):
    r = run_quick("07_transfer_learning", tmp_path)
    assert r["pretrain_accuracy_0_4"] > 0.6           # five classes: chance is 0.2
    assert max(r["transfer_accuracy"].values()) > 0.5
    assert (r["transfer_trainable_params"], r["frozen_params"]) == (2_565, 4_800)
    assert "07_transfer_vs_scratch.png" in r["pngs"]


def test_08_adversarial_examples(tmp_path):
    r = run_quick("08_adversarial_examples", tmp_path)
    clean, attacked = r["clean_accuracy"], r["fgsm_accuracy"]
    assert clean > 0.5
    assert attacked[0] == clean                        # ε = 0 changes nothing
    assert attacked[-1] < clean - 0.3                  # the attack works …
    assert r["random_noise_accuracy"][-1] > attacked[-1] + 0.2   # … and is not just noise
    assert {"08_accuracy_vs_epsilon.png", "08_fooled_examples.png"} <= set(r["pngs"])
