"""fit(): the training loop every tutorial would otherwise repeat.

For each epoch: train on every batch (forward, loss, backward, optimizer step), then measure
the validation loss and accuracy; optionally stop early when the validation loss has not
improved for `early_stopping` epochs, putting the best weights back.

>>> import numpy as np
>>> import tinygrad_edu as tg, tinygrad_edu.nn as nn
>>> from tinygrad_edu import optim
>>> from tinygrad_edu.data import DataLoader, TensorDataset
>>> from tinygrad_edu.datasets import make_spirals
>>> _ = tg.manual_seed(0)
>>> x, y = make_spirals(300, classes=2, seed=0)
>>> loader = DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True, seed=0)
>>> model = nn.MLP([2, 32, 2])
>>> history = fit(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=0.05),
...               loader, loader, epochs=3, progress=False)
>>> sorted(history), len(history["val_loss"])
(['epoch_time', 'lr', 'train_acc', 'train_loss', 'val_acc', 'val_loss'], 3)
"""

from __future__ import annotations

import sys
import time
from typing import Callable

import numpy as np

from .grad_mode import no_grad
from .tensor import Tensor


def _accuracy_count(output, target) -> tuple[int, int] | None:
    """(correct predictions, predictions) in a batch when output are class scores (N, C, …) and
    target class indices (N, …): one prediction per target element (per pixel for (N, H, W)
    targets); None when that does not apply (regression, autoencoders)."""
    if not isinstance(output, Tensor) or output.ndim < 2:
        return None
    t = target.data if isinstance(target, Tensor) else np.asarray(target)
    if t.dtype.kind not in "iu" or t.shape != (output.shape[0],) + output.shape[2:]:
        return None
    return int((output.data.argmax(axis=1) == t).sum()), t.size


def _add_counts(correct: int, predicted: int, count) -> tuple[int, int]:
    return (correct, predicted) if count is None else (correct + count[0], predicted + count[1])


def _split_batch(batch):
    if not isinstance(batch, (tuple, list)) or len(batch) != 2:
        length = len(batch) if hasattr(batch, "__len__") else "?"
        raise ValueError(f"fit expects batches of (inputs, targets); got "
                         f"{type(batch).__name__} of length {length}")
    return batch


def evaluate(model, loss_fn: Callable, loader) -> tuple[float, float | None]:
    """Mean loss over the loader (weighted by batch size) and accuracy (None if not a
    classification), in eval mode and without recording a graph."""
    was_training = model.training
    model.eval()
    total_loss, total, correct, predicted, classify = 0.0, 0, 0, 0, True
    try:
        with no_grad():
            for batch in loader:
                x, y = _split_batch(batch)
                out = model(x)
                n = len(x)
                total_loss += float(loss_fn(out, y).item()) * n
                total += n
                count = _accuracy_count(out, y)
                classify = classify and count is not None
                correct, predicted = _add_counts(correct, predicted, count)
    finally:
        model.train(was_training)
    if total == 0:
        raise ValueError("evaluate: the loader produced no batches")
    return total_loss / total, (correct / max(predicted, 1) if classify else None)


def _bar(iterable, total, desc, progress):
    if progress is None:
        progress = sys.stdout.isatty()
    if not progress:
        return iterable
    try:
        from tqdm import tqdm
    except ImportError:
        return iterable
    return tqdm(iterable, total=total, desc=desc, leave=False)


def fit(model, loss_fn: Callable, optimizer, train_loader, val_loader=None, epochs: int = 10,
        early_stopping: int | None = None, scheduler=None, progress: bool | None = None,
        verbose: bool | None = None) -> dict:
    """Train `model` and return the history: a dict of per-epoch lists
    train_loss, train_acc, val_loss, val_acc (accuracies when the task is classification),
    lr and epoch_time (seconds).

    early_stopping: patience in epochs. Training stops when the monitored loss (validation
    loss, or training loss without a val_loader) has not improved for that many epochs, and
    the weights of the best epoch are restored at the end.
    scheduler: anything with step(), called once per epoch (e.g. optim.StepLR).
    progress: a tqdm bar per epoch (default: when tqdm is installed and stdout is a terminal).
    verbose: print one line per epoch (default: the same as progress).
    """
    if epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {epochs}")
    if early_stopping is not None and early_stopping < 1:
        raise ValueError(f"early_stopping (patience) must be at least 1, got {early_stopping}")
    interactive = sys.stdout.isatty() if progress is None else progress
    verbose = interactive if verbose is None else verbose
    history: dict = {"train_loss": [], "train_acc": [], "val_loss": [], "val_acc": [],
                     "lr": [], "epoch_time": []}
    best_loss, best_state, since_best = float("inf"), None, 0
    for epoch in range(epochs):
        start = time.perf_counter()
        model.train()
        total_loss, total, correct, predicted, classify = 0.0, 0, 0, 0, True
        batches = _bar(train_loader, len(train_loader) if hasattr(train_loader, "__len__") else None,
                       f"epoch {epoch + 1}/{epochs}", interactive)
        for batch in batches:
            x, y = _split_batch(batch)
            optimizer.zero_grad()
            out = model(x)
            loss = loss_fn(out, y)
            loss.backward()
            optimizer.step()
            n = len(x)
            total_loss += float(loss.item()) * n
            total += n
            count = _accuracy_count(out, y)
            classify = classify and count is not None
            correct, predicted = _add_counts(correct, predicted, count)
        if total == 0:
            raise ValueError("fit: the training loader produced no batches")
        history["train_loss"].append(total_loss / total)
        history["train_acc"].append(correct / max(predicted, 1) if classify else None)
        if val_loader is not None:
            val_loss, val_acc = evaluate(model, loss_fn, val_loader)
            history["val_loss"].append(val_loss)
            history["val_acc"].append(val_acc)
        history["lr"].append(optimizer.param_groups[0]["lr"])
        if scheduler is not None:
            scheduler.step()
        history["epoch_time"].append(time.perf_counter() - start)
        if verbose:
            print(_epoch_line(epoch, epochs, history))
        if early_stopping is not None:
            monitored = history["val_loss" if val_loader is not None else "train_loss"][-1]
            if monitored < best_loss:
                best_loss, since_best = monitored, 0
                best_state = {k: v.data.copy() for k, v in model.state_dict().items()}
            else:
                since_best += 1
                if since_best >= early_stopping:
                    if verbose:
                        print(f"early stopping after epoch {epoch + 1}: no improvement for "
                              f"{early_stopping} epochs")
                    break
    if best_state is not None:
        model.load_state_dict(best_state)
    if val_loader is None:
        del history["val_loss"], history["val_acc"]
    if all(a is None for a in history["train_acc"]):
        del history["train_acc"]
        history.pop("val_acc", None)
    return history


def _epoch_line(epoch: int, epochs: int, history: dict) -> str:
    parts = [f"epoch {epoch + 1}/{epochs}", f"loss {history['train_loss'][-1]:.4f}"]
    if history["train_acc"][-1] is not None:
        parts.append(f"acc {history['train_acc'][-1]:.3f}")
    if history["val_loss"]:
        parts.append(f"val_loss {history['val_loss'][-1]:.4f}")
        if history["val_acc"][-1] is not None:
            parts.append(f"val_acc {history['val_acc'][-1]:.3f}")
    parts.append(f"{history['epoch_time'][-1]:.1f}s")
    return "  ".join(parts)
