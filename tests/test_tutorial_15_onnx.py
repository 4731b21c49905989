"""Tutorial 15 (ONNX export of LeNet-5) in quick mode: onnxruntime reads the file and gets the
same accuracy as our engine on the test digits."""

import pytest

from test_tutorials import run_quick


def test_15_onnx_export(tmp_path):
    pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    r = run_quick("15_onnx_export", tmp_path)
    assert r["test_accuracy"] > 0.5                      # two short epochs on 600 digits
    assert r["onnxruntime_test_accuracy"] == r["test_accuracy"]
    assert r["loaded_test_accuracy"] == r["test_accuracy"]
    assert r["predictions_agree"] == 1.0
    assert r["max_abs_score_difference"] < 1e-4
    assert r["nodes"] == ["Conv", "Tanh", "AveragePool", "Conv", "Tanh", "AveragePool", "Flatten",
                          "Gemm", "Tanh", "Gemm", "Tanh", "Gemm"]
    assert (tmp_path / "15_lenet5.onnx").exists()
    assert "15_onnxruntime_vs_ours.png" in r["pngs"]
