# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 15 · The way out: a trained LeNet-5 as an ONNX file
#
# A trained network is only useful where it can run. **ONNX** (Open Neural Network Exchange) is
# the common file format for that: a model is a *graph* of standard operators (`Conv`,
# `AveragePool`, `Gemm`, `Tanh`, ... each defined once in the ONNX specification, version by
# version: the **opset**) and *initialisers*, the named weight arrays those operators read.
# Runtimes such as onnxruntime, TensorRT or OpenVINO, phones and browsers run these files
# without knowing which library trained them.
#
# `tinygrad_edu.onnx.export` needs no hand-written description of the model. The engine already
# records every op of a forward pass (each result's `_ctx`, the graph that `backward` walks);
# export runs one forward pass, reads that record and writes each op as ONNX nodes. Here we
# train the LeNet-5 of tutorial 04, export it, and let onnxruntime, which has never heard of
# tinygrad_edu, classify the test digits.
#
# Needs the optional packages: `pip install -e ".[onnx]"` (onnx and onnxruntime).

# %%
import numpy as np
import onnx
import onnxruntime as ort

import tinygrad_edu as tg
import tinygrad_edu.nn as nn
import tinygrad_edu.nn.functional as F
import tinygrad_edu.onnx as tonnx
import tinygrad_edu.optim as optim
from tinygrad_edu import datasets
from tinygrad_edu import tutorial_utils as tu
from tinygrad_edu.data import DataLoader, TensorDataset

args = tu.parse_args("Export LeNet-5 to ONNX and run it with onnxruntime")
tg.manual_seed(args.seed)
plt = tu.pyplot()

# %% [markdown]
# ## Train the LeNet-5 of tutorial 04
#
# The same network (tanh, average pooling, 61,706 parameters) on the same 32×32 digits, trained
# more briefly (no data augmentation): the point here is what happens after training.

# %%
(X_train, y_train), (X_test, y_test) = datasets.load_digits(size=32)
if args.quick:
    X_train, y_train = X_train[:600], y_train[:600]


def lenet5():
    return nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5), nn.Tanh(), nn.AvgPool2d(2),     # C1, S2
        nn.Conv2d(6, 16, kernel_size=5), nn.Tanh(), nn.AvgPool2d(2),    # C3, S4
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), nn.Tanh(),                          # F5
        nn.Linear(120, 84), nn.Tanh(),                                  # F6
        nn.Linear(84, 10),                                              # output scores
    )


model = lenet5()
optimizer = optim.Adam(model.parameters(), lr=2e-3)
loader = DataLoader(TensorDataset(tg.Tensor(X_train), tg.Tensor(y_train)), batch_size=32, shuffle=True)
epochs = 2 if args.quick else 12
history = tg.fit(model, F.cross_entropy, optimizer, loader, epochs=epochs)
model.eval()
with tg.no_grad():
    our_scores = model(tg.Tensor(X_test)).numpy()
our_accuracy = float((our_scores.argmax(1) == y_test).mean())
print(f"tinygrad_edu: test accuracy {our_accuracy:.2%} on {len(y_test)} digits")

# %% [markdown]
# ## Export
#
# `export(model, example_input, path)` runs the model once on the example (one digit is
# enough) and writes the file. It runs a second time at another batch size: the axes whose size
# follows the batch get the symbolic name `batch`, so the file takes one digit or a thousand.
# The weights go in as initialisers under their `state_dict` names (`0.weight`, `7.bias`, ...).

# %%
path = args.out / "15_lenet5.onnx"
proto = tonnx.export(model, tg.Tensor(X_test[:1]), path)
onnx.checker.check_model(onnx.load(path), full_check=True)   # the ONNX library's own check
inferred = onnx.shape_inference.infer_shapes(proto)
shapes = {v.name: [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]
          for v in list(inferred.graph.value_info) + list(inferred.graph.output)}
weights = {i.name: list(i.dims) for i in proto.graph.initializer}

print(f"{path.name}: {path.stat().st_size / 1024:.0f} KiB, opset {proto.opset_import[0].version}, "
      f"input {[d.dim_param or d.dim_value for d in proto.graph.input[0].type.tensor_type.shape.dim]}")
print(f"\n{'node':<20}{'op':<13}{'inputs':<44}{'output shape'}")
for node in proto.graph.node:
    print(f"{node.name:<20}{node.op_type:<13}{', '.join(node.input):<44}{shapes.get(node.output[0])}")
print("\ninitialisers:", ", ".join(f"{name} {shape}" for name, shape in weights.items()))

# %% [markdown]
# Twelve nodes for twelve layers, each named after its layer as PyTorch names them (`/0/Conv` is
# `model[0]`): `Conv` (with its `kernel_shape`, `strides`, `pads` attributes), `Tanh`,
# `AveragePool`, `Flatten`, and `Gemm` (general matrix multiply, $Y = X W^\top + b$ with the
# attribute `transB=1`: ONNX's fully connected layer). A model with
# an op that ONNX cannot express (or that we have not mapped) is refused with the op's name,
# and no file is written.
#
# ## Run it with onnxruntime
#
# onnxruntime reads only the file. The same test digits, all at once:

# %%
session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
onnx_scores = session.run(None, {"input": X_test})[0]
onnx_accuracy = float((onnx_scores.argmax(1) == y_test).mean())
max_diff = float(np.abs(onnx_scores - our_scores).max())
agree = float((onnx_scores.argmax(1) == our_scores.argmax(1)).mean())
one = session.run(None, {"input": X_test[:1]})[0]
print(f"onnxruntime:  test accuracy {onnx_accuracy:.2%}; largest difference of a class score "
      f"{max_diff:.1e}; same prediction for {agree:.0%} of the digits")
print(f"batch of one: output shape {one.shape}; batch of {len(X_test)}: {onnx_scores.shape}")

# %% [markdown]
# The scores agree to float32 rounding (the two libraries add the products of a convolution
# in different orders), so every prediction is the same.
#
# ## And back in
#
# `tonnx.load` reads an ONNX file (ours or, say, one written by `torch.onnx.export`) into a
# module made of our layers, weights as Parameters under their original names: a model trained
# elsewhere can be run, fine-tuned and explained here.

# %%
loaded = tonnx.load(path)
print(loaded)
with tg.no_grad():
    loaded_scores = loaded(tg.Tensor(X_test)).numpy()
loaded_accuracy = float((loaded_scores.argmax(1) == y_test).mean())
print(f"loaded back: test accuracy {loaded_accuracy:.2%}, largest difference "
      f"{np.abs(loaded_scores - our_scores).max():.1e}")

# %%
fig, ax = plt.subplots(figsize=(9, 3.6))
ax.scatter(our_scores.ravel(), onnx_scores.ravel(), s=4, alpha=0.4)
lim = [float(our_scores.min()), float(our_scores.max())]
ax.plot(lim, lim, color="grey", lw=0.8)
ax.set(xlabel="class score, tinygrad_edu", ylabel="class score, onnxruntime",
       title=f"{our_scores.size} scores of {len(X_test)} test digits (largest difference {max_diff:.1e})")
ax.grid(alpha=0.3)
tu.save_figure(fig, args, "15_onnxruntime_vs_ours")

# %% [markdown]
# ## Summary
#
# One traced forward pass is enough to write a trained network as a standard ONNX graph.
# onnxruntime runs it with the same accuracy, at any batch size, and the file loads back into
# our layers. For PyTorch, the weights need no file format at all: our `state_dict` has
# PyTorch's keys and layouts, so `torch_model.load_state_dict(...)` takes them as they are
# (see the README).

# %%
tu.report("15_onnx_export", args, {
    "test_accuracy": our_accuracy, "onnxruntime_test_accuracy": onnx_accuracy,
    "loaded_test_accuracy": loaded_accuracy, "max_abs_score_difference": max_diff,
    "predictions_agree": agree, "nodes": [n.op_type for n in proto.graph.node],
    "file_kib": path.stat().st_size / 1024, "epochs": epochs})
