"""fit(): history, early stopping with restored weights, and a LeNet-5 that learns digits."""

import numpy as np
import pytest

import tinygrad_edu as tg
import tinygrad_edu.nn as nn
from tinygrad_edu import optim
from tinygrad_edu.data import DataLoader, TensorDataset
from tinygrad_edu.datasets import make_spirals
from tinygrad_edu.train import evaluate, fit


def _spiral_loaders(n=200):
    x, y = make_spirals(n, classes=2, seed=0)
    train = DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True, seed=0)
    val = DataLoader(TensorDataset(x[:64], y[:64]), batch_size=64)
    return train, val


def test_fit_history_and_learning(capsys):
    tg.manual_seed(0)
    train, val = _spiral_loaders()
    model = nn.MLP([2, 32, 32, 2])
    sched_opt = optim.Adam(model.parameters(), lr=0.02)
    history = fit(model, nn.CrossEntropyLoss(), sched_opt, train, val, epochs=8,
                  scheduler=optim.StepLR(sched_opt, step_size=4, gamma=0.5), progress=False,
                  verbose=True)
    assert all(len(v) == 8 for v in history.values())
    assert history["train_loss"][-1] < history["train_loss"][0]
    assert history["val_acc"][-1] > 0.7
    assert history["lr"] == [0.02] * 4 + [0.01] * 4
    assert "val_acc" in capsys.readouterr().out
    loss, acc = evaluate(model, nn.CrossEntropyLoss(), val)
    assert loss == pytest.approx(history["val_loss"][-1]) and acc == history["val_acc"][-1]


def test_regression_history_has_no_accuracy():
    x = np.random.default_rng(0).standard_normal((40, 3)).astype(np.float32)
    y = x @ np.array([[1.0], [-2.0], [0.5]], np.float32)
    loader = DataLoader(TensorDataset(x, y), batch_size=8)
    model = nn.Linear(3, 1)
    history = fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1), loader,
                  epochs=5, progress=False)
    assert sorted(history) == ["epoch_time", "lr", "train_loss"]
    assert history["train_loss"][-1] < 0.1 * history["train_loss"][0]


def test_early_stopping_restores_best_weights():
    tg.manual_seed(1)
    train, val = _spiral_loaders()
    model = nn.MLP([2, 16, 2])
    snapshots = []  # the weights after each epoch

    class Snapshot:  # fit calls scheduler.step() once at the end of every epoch
        def step(self):
            snapshots.append({k: v.data.copy() for k, v in model.state_dict().items()})

    # a learning rate so large that the validation loss soon gets worse
    history = fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=50.0), train,
                  val, epochs=30, early_stopping=2, scheduler=Snapshot(), progress=False)
    epochs_run = len(history["val_loss"])
    best = int(np.nanargmin(history["val_loss"]))
    assert epochs_run == best + 3 or epochs_run == 30  # patience 2: two epochs past the best
    assert epochs_run < 30  # (with lr=50 it does stop early)
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v.data, snapshots[best][k], err_msg=k)
    restored_loss, _ = evaluate(model, nn.CrossEntropyLoss(), val)
    assert restored_loss == pytest.approx(history["val_loss"][best])


def test_fit_rejects_bad_arguments():
    model = nn.Linear(2, 2)
    loader = DataLoader(TensorDataset(np.zeros((4, 2), np.float32), np.zeros(4, np.int64)), 2)
    with pytest.raises(ValueError, match="epochs"):
        fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters()), loader, epochs=0)
    with pytest.raises(ValueError, match="patience"):
        fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters()), loader, early_stopping=0)
    with pytest.raises(ValueError, match="inputs, targets"):
        fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters()),
            DataLoader(TensorDataset(np.zeros((4, 2), np.float32)), 2), epochs=1, progress=False)


def test_lenet5_learns_digits_quickly():
    pytest.importorskip("sklearn")
    pytest.importorskip("tinygrad_edu.ops.conv")
    pytest.importorskip("tinygrad_edu.ops.pool")
    from tinygrad_edu.datasets import load_digits
    tg.manual_seed(0)
    (x, y), (xt, yt) = load_digits(size=32)
    # 30 steps of 32 images: a few seconds; the full run belongs to the tutorials
    train = DataLoader(TensorDataset(x[:480], y[:480]), batch_size=32, shuffle=True, seed=0)
    test = DataLoader(TensorDataset(xt[:200], yt[:200]), batch_size=200)
    model = nn.LeNet5()
    history = fit(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=5e-3),
                  train, test, epochs=2, progress=False)
    assert history["val_acc"][-1] > 0.5  # chance is 0.1


def test_progress_bar_runs_when_asked(capsys):
    pytest.importorskip("tqdm")
    x, y = make_spirals(40, classes=2, seed=0)
    loader = DataLoader(TensorDataset(x, y), batch_size=10)
    model = nn.MLP([2, 4, 2])
    history = fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), loader,
                  epochs=2, progress=True, verbose=False)
    assert len(history["train_loss"]) == 2
    assert "epoch 2/2" in capsys.readouterr().err  # tqdm draws on stderr
