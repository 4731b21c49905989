"""save / load: round trip, atomic writes, refusal of pickles."""

import os

import numpy as np
import pytest

import tinygrad_edu.nn as nn
from tinygrad_edu import Tensor
from tinygrad_edu.serialize import load, save


def test_round_trip_restores_model_exactly(tmp_path):
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Flatten(), nn.Linear(8, 3))
    model[1].running_mean.data[:] = [0.5, -1.0]
    model[1].num_batches_tracked.data[...] = 7
    path = tmp_path / "ckpt.npz"
    save(model.state_dict(), path)
    loaded = load(path)
    assert list(loaded) == list(model.state_dict())
    assert loaded["1.num_batches_tracked"].dtype == np.int64
    fresh = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Flatten(), nn.Linear(8, 3))
    fresh.load_state_dict(loaded)
    for (k, a), (_, b) in zip(model.state_dict().items(), fresh.state_dict().items()):
        np.testing.assert_array_equal(a.data, b.data, err_msg=k)
        assert a.dtype == b.dtype
    save(model, tmp_path / "whole_module.weights")  # a Module is accepted; the name is kept
    assert os.path.exists(tmp_path / "whole_module.weights")


def test_interrupted_save_keeps_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.npz"
    save({"w": np.ones(3)}, path)

    def crash(*args, **kwargs):
        raise KeyboardInterrupt("power cut while writing")

    monkeypatch.setattr(np.lib.format, "write_array", crash)
    with pytest.raises(KeyboardInterrupt):
        save({"w": np.zeros(3)}, path)
    monkeypatch.undo()
    np.testing.assert_array_equal(load(path)["w"].data, np.ones(3))
    assert sorted(os.listdir(tmp_path)) == ["ckpt.npz"]  # no temporary file left behind


def test_pickled_object_array_is_refused(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, payload=np.array([{"code": "runs on load"}], dtype=object))
    with pytest.raises(ValueError, match="pickled"):
        load(path)
    with pytest.raises(TypeError, match="not a numeric array"):
        save({"bad": np.array([object()], dtype=object)}, tmp_path / "x.npz")


def test_bad_arguments(tmp_path):
    with pytest.raises(TypeError, match="dict"):
        save([1, 2, 3], tmp_path / "x.npz")
    with pytest.raises(TypeError, match="strings"):
        save({1: np.ones(2)}, tmp_path / "x.npz")
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "missing.npz")
    save({"t": Tensor([1.0, 2.0])}, tmp_path / "t.npz")
    assert load(tmp_path / "t.npz")["t"].tolist() == [1.0, 2.0]
