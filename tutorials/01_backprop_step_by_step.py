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
# # 01 · Backpropagation, step by step
#
# Backpropagation is the chain rule applied in a clever order. Every operation of a network
# is a small node that knows two things:
#
# * **forward**: how to compute its output from its inputs, and
# * **backward**: given $g = \partial L/\partial\,\text{out}$ (the gradient arriving from above),
#   how much of it flows to each input: $\partial L/\partial\,\text{in} = g\cdot
#   \partial\,\text{out}/\partial\,\text{in}$ (the *local rule*).
#
# The engine records the nodes while computing forward, then visits them once in reverse
# order, each multiplying the incoming gradient by its local derivative. In this tutorial we
#
# 1. watch every backward step of a tiny expression and of a sigmoid neuron (the classic slide numbers),
# 2. do the same for a two-layer network, derive its gradients by hand in numpy and compare,
# 3. let `gradcheck` (finite differences) confirm the engine, and
# 4. train that two-layer network with nothing but these gradients.
#
# Run it as a script (`python tutorials/01_backprop_step_by_step.py [--quick] [--out DIR]`)
# or open it as a notebook with jupytext.

# %%
import numpy as np

import tinygrad_edu as tg
import tinygrad_edu.nn.functional as F
from tinygrad_edu import tutorial_utils as tu
from tinygrad_edu.draw import draw_graph
from tinygrad_edu.explain import explain

args = tu.parse_args("Backpropagation step by step")
tg.manual_seed(args.seed)
np.set_printoptions(precision=4, suppress=True)

# %% [markdown]
# ## Watching the backward pass
#
# `explain(loss, names=...)` runs the backward pass and prints every step: the op, the incoming
# gradient $g$, the local rule, and what flows to each parent (`explain(loss, accumulate=True,
# retain_graph=False)` does the same while really accumulating the gradients, as `backward()`). `names` maps names to tensors so the
# printout says `q` instead of `t3`; `locals()` is the lazy way to pass them all.

# %% [markdown]
# ## 1. The smallest example: $f(x, y, z) = (x + y)\cdot z$
#
# With $x=-2,\ y=5,\ z=-4$: forward gives $q = x + y = 3$ and $f = q z = -12$.
# Backward starts from $\partial f/\partial f = 1$:
#
# * the multiply node: $\partial f/\partial z = q = 3$ and $\partial f/\partial q = z = -4$;
# * the add node passes its incoming gradient unchanged to both inputs:
#   $\partial f/\partial x = \partial f/\partial y = -4$.

# %%
x = tg.Tensor(-2.0, requires_grad=True, dtype=np.float64)
y = tg.Tensor(5.0, requires_grad=True, dtype=np.float64)
z = tg.Tensor(-4.0, requires_grad=True, dtype=np.float64)
q = x + y
f = q * z
print("forward: q =", q.item(), " f =", f.item())
explain(f, names={"x": x, "y": y, "z": z, "q": q, "f": f}, accumulate=True)
print("gradients: ∂f/∂x =", x.grad, " ∂f/∂y =", y.grad, " ∂f/∂z =", z.grad)
assert (x.grad, y.grad, z.grad) == (-4.0, -4.0, 3.0)

# %% [markdown]
# ## 2. A sigmoid neuron: $f(w, x) = \sigma(w_0x_0 + w_1x_1 + w_2)$, $\sigma(s) = 1/(1+e^{-s})$
#
# With $w = (2, -3, -3)$ and $x = (-1, -2)$: $s = 1$, $f = \sigma(1) \approx 0.73$.
# The sigmoid's local rule is $\sigma'(s) = \sigma(s)(1-\sigma(s)) \approx 0.20$, and then each
# product sends the gradient times *the other* factor: $\partial f/\partial w_0 = 0.20\cdot x_0 = -0.20$,
# $\partial f/\partial x_0 = 0.20\cdot w_0 = 0.39$, and so on.

# %%
w = [tg.Tensor(v, requires_grad=True, dtype=np.float64) for v in (2.0, -3.0, -3.0)]
xs = [tg.Tensor(v, requires_grad=True, dtype=np.float64) for v in (-1.0, -2.0)]
p0, p1 = w[0] * xs[0], w[1] * xs[1]
p01 = p0 + p1
s = p01 + w[2]
out = s.sigmoid()
names = {"w0": w[0], "w1": w[1], "w2": w[2], "x0": xs[0], "x1": xs[1],
         "w0x0": p0, "w1x1": p1, "w0x0+w1x1": p01, "s": s, "f": out}
print(f"forward: w0x0 = {p0.item()}, w1x1 = {p1.item()}, s = {s.item()}, f = {out.item():.4f}")
explain(out, names=names, accumulate=True)
neuron_grads = [t.grad.item() for t in (*w, *xs)]
print("∂f/∂(w0, w1, w2, x0, x1) =", np.round(neuron_grads, 2))
assert np.allclose(neuron_grads, [-0.20, -0.39, 0.20, 0.39, -0.59], atol=0.01)

# %% [markdown]
# ## 3. A two-layer network, by the engine and by hand
#
# Inputs $X$ ($N\times D$), labels $y$, a hidden layer with ReLU and a softmax cross-entropy loss:
#
# $$Z_1 = XW_1 + b_1,\quad H = \max(Z_1, 0),\quad S = HW_2 + b_2,\quad
#   L = -\frac1N\sum_n \log \operatorname{softmax}(S_n)_{y_n}.$$
#
# Backward, by hand (every line is one local rule, shapes in brackets):
#
# $$\frac{\partial L}{\partial S} = \frac{1}{N}\big(\operatorname{softmax}(S) - \text{onehot}(y)\big)\ [N\times C],\qquad
#   \frac{\partial L}{\partial W_2} = H^\top \frac{\partial L}{\partial S}\ [H\times C],\qquad
#   \frac{\partial L}{\partial b_2} = \sum_n \frac{\partial L}{\partial S_n}$$
# $$\frac{\partial L}{\partial H} = \frac{\partial L}{\partial S} W_2^\top\ [N\times H],\qquad
#   \frac{\partial L}{\partial Z_1} = \frac{\partial L}{\partial H}\odot[Z_1>0],\qquad
#   \frac{\partial L}{\partial W_1} = X^\top\frac{\partial L}{\partial Z_1},\qquad
#   \frac{\partial L}{\partial b_1} = \sum_n \frac{\partial L}{\partial Z_{1,n}}$$

# %%
rng = np.random.default_rng(args.seed)
N, D, HIDDEN, C = 4, 3, 5, 3
X_np = rng.standard_normal((N, D))
y_np = np.array([0, 2, 1, 2])
params_np = {"W1": rng.standard_normal((D, HIDDEN)) * 0.5, "b1": rng.standard_normal(HIDDEN) * 0.1,
             "W2": rng.standard_normal((HIDDEN, C)) * 0.5, "b2": rng.standard_normal(C) * 0.1}


def two_layer_loss(X, W1, b1, W2, b2, labels):
    """Cross-entropy of the two-layer network; returns (loss, intermediates by name)."""
    XW1 = X @ W1
    Z1 = XW1 + b1
    H = Z1.relu()
    HW2 = H @ W2
    S = HW2 + b2
    logp = S.log_softmax(dim=1)
    picked = logp[np.arange(len(labels)), labels]   # log-probability of the right class
    mean = picked.mean()
    L = -mean
    return L, {"XW1": XW1, "Z1": Z1, "H": H, "HW2": HW2, "S": S, "logp": logp,
               "picked": picked, "mean": mean, "L": L}


X = tg.Tensor(X_np)
P = {k: tg.Tensor(v, requires_grad=True) for k, v in params_np.items()}
L, inter = two_layer_loss(X, P["W1"], P["b1"], P["W2"], P["b2"], y_np)
for name in ("Z1", "H", "S"):
    print(f"forward: {name} =\n{inter[name].data}")
print(f"forward: loss L = {L.item():.4f}   (guessing uniformly would give log {C} = {np.log(C):.4f})")
names = {**P, **inter, "X": X}
# Every matrix here has at most 40 entries, so explain prints them in full (max_values=40):
# compare ReLU's mask, ∂W1 and ∂W2 with the formulas above. In a notebook the same steps show
# as a table (the trace is the cell's result); as a script they are printed.
trace = explain(L, names=names, accumulate=True, print_steps=not tu.in_notebook())
trace

# %% [markdown]
# ### The graph, inline
#
# `draw_graph` returns the graph's DOT text, which a notebook shows as a picture: a box per
# tensor (name, shape, value and `.grad`; leaves in blue, the loss in orange) and an oval per
# op. Graphviz draws it when installed, else networkx and matplotlib do.

# %%
graph = draw_graph(L, names=names)
(args.out / "01_two_layer_graph.dot").write_text(graph)   # the same object is the DOT text
print("graph written to", args.out / "01_two_layer_graph.dot")
graph

# %% [markdown]
# ### Stepping through the backward pass
#
# `explain(L, interactive=True)` shows a slider and Back/Next buttons in a notebook: at each
# step the current op is highlighted, the edges it sends gradients along turn red, every box
# shows the gradient it has collected so far, and the panel under the picture does the
# arithmetic of that step with the numbers. (Run as a script, it says so and carries on.)
# The stepper can also be moved from code: here, the picture after the step that
# differentiated $S = HW_2 + b_2$ with respect to $HW_2$ and $b_2$.

# %%
stepper = explain(L, names=names, interactive=True, print_steps=False)
if tu.in_notebook():
    from IPython.display import display

    stepper.go([s.output for s in stepper.trace].index("S"))   # or stepper.next() / .back()
    print(stepper.panel_text())
    display(stepper.graph())

# %% [markdown]
# ### The same gradients by hand
#
# With plain numpy, following the formulas above line by line:

# %%
def hand_gradients(X, labels, W1, b1, W2, b2):
    Z1 = X @ W1 + b1
    H = np.maximum(Z1, 0)
    S = H @ W2 + b2
    probs = np.exp(S - S.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    n = len(labels)
    dS = (probs - np.eye(S.shape[1])[labels]) / n
    dW2, db2 = H.T @ dS, dS.sum(axis=0)
    dH = dS @ W2.T
    dZ1 = dH * (Z1 > 0)
    dW1, db1 = X.T @ dZ1, dZ1.sum(axis=0)
    return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}


by_hand = hand_gradients(X_np, y_np, **params_np)
max_diff = max(np.max(np.abs(by_hand[k] - P[k].grad)) for k in P)
for k in P:
    print(f"∂L/∂{k}: engine vs hand, max |difference| = {np.max(np.abs(by_hand[k] - P[k].grad)):.2e}")
assert max_diff < 1e-10, max_diff

# %% [markdown]
# ## 3b. A convolution, entry by entry
#
# The slides' example: a $3\times3$ input $X$, a $2\times2$ kernel $W$, so $h$ is $2\times2$ and
# $h_{11} = X_{11}W_{11} + X_{12}W_{12} + X_{21}W_{21} + X_{22}W_{22}$. Backward, every kernel
# entry collects the input pixels it was multiplied with, each times the gradient of the output
# it helped make: $\partial W_{11} = X_{11}\,\partial h_{11} + X_{12}\,\partial h_{12} +
# X_{21}\,\partial h_{21} + X_{22}\,\partial h_{22}$. On inputs this small `explain` writes
# every such sum out with its numbers (and the sums for $\partial b$ and $\partial X$).

# %%
X_img = tg.Tensor(np.arange(1.0, 10.0).reshape(1, 1, 3, 3), requires_grad=True)  # X11…X33 = 1…9
W_k = tg.Tensor(np.array([[[[1.0, 2.0], [3.0, 4.0]]]]), requires_grad=True)
h = F.conv2d(X_img, W_k)
dh = np.array([[[[1.0, -1.0], [2.0, 0.5]]]])             # ∂L/∂h arriving from above
conv_trace = explain(h, gradient=dh, names={"X": X_img, "W": W_k, "h": h})
dW_by_hand = [[float(sum(X_img.data[0, 0, i + m, j + k] * dh[0, 0, i, j]
                         for i in range(2) for j in range(2)))
               for k in range(2)] for m in range(2)]
conv_dW_matches = bool(np.allclose(conv_trace.gradients["W"][0, 0], dW_by_hand))
print("∂W by the written-out sums:", dW_by_hand, " matches the engine:", conv_dW_matches)
assert conv_dW_matches

# %% [markdown]
# ## 3c. Max-pooling: where each gradient goes
#
# A $2\times2$ max-pool keeps the largest of each window, so backward hands each pooled gradient
# to the one input pixel that was its window's maximum; every other pixel gets 0.

# %%
X_pool = tg.Tensor(np.array([[[[1.0, 4, 2, 0], [3, 5, 1, 1], [0, 2, 6, 1], [1, 1, 2, 3]]]]),
                   requires_grad=True)
pooled = F.max_pool2d(X_pool, 2)
pool_trace = explain(pooled, gradient=np.array([[[[0.1, 0.2], [0.3, 0.4]]]]),
                     names={"X": X_pool, "h": pooled})
pool_routes_ok = bool(np.count_nonzero(pool_trace.gradients["X"]) == 4)
assert pool_routes_ok

# %% [markdown]
# ## 4. gradcheck: the engine against finite differences
#
# `gradcheck` nudges every input element by $\pm\varepsilon$ and compares
# $\big(L(x+\varepsilon e_i) - L(x-\varepsilon e_i)\big)/2\varepsilon$ with the analytic gradient,
# in float64. It returns True or raises with the worst element.

# %%
check_inputs = [tg.Tensor(v.copy(), requires_grad=True) for v in params_np.values()]
gradcheck_ok = tg.gradcheck(lambda W1, b1, W2, b2: two_layer_loss(X, W1, b1, W2, b2, y_np)[0],
                            check_inputs)
print("gradcheck of the two-layer network:", gradcheck_ok)

# %% [markdown]
# ## 5. These gradients are enough to learn
#
# Gradient descent, $\theta \leftarrow \theta - \eta\,\partial L/\partial\theta$, on a
# three-armed spiral: 300 points in the plane, three classes that no straight line separates.
# A linear model is stuck near 50 %; the hidden layer bends the decision boundary.

# %%
def make_spiral(points_per_class=100, classes=3, seed=0):
    r = np.random.default_rng(seed)
    Xs, ys = [], []
    for c in range(classes):
        radius = np.linspace(0.0, 1, points_per_class)
        angle = np.linspace(c * 4, (c + 1) * 4, points_per_class) + r.standard_normal(points_per_class) * 0.2
        Xs.append(np.c_[radius * np.sin(angle), radius * np.cos(angle)])
        ys.append(np.full(points_per_class, c))
    return np.concatenate(Xs), np.concatenate(ys)


spiral_X, spiral_y = make_spiral(seed=args.seed)
hidden = 100
net = {"W1": tg.Tensor(rng.standard_normal((2, hidden)) * np.sqrt(2 / 2), requires_grad=True),
       "b1": tg.Tensor(np.zeros(hidden), requires_grad=True),
       "W2": tg.Tensor(rng.standard_normal((hidden, 3)) * np.sqrt(2 / hidden), requires_grad=True),
       "b2": tg.Tensor(np.zeros(3), requires_grad=True)}
steps = 150 if args.quick else 2000
lr = 1.0
losses = []
Xt = tg.Tensor(spiral_X)
bar = tu.progress(range(steps), desc="gradient descent")
for step in bar:
    loss, _ = two_layer_loss(Xt, net["W1"], net["b1"], net["W2"], net["b2"], spiral_y)
    for p in net.values():
        p.grad = None
    loss.backward()
    with tg.no_grad():
        for p in net.values():
            p.data -= lr * p.grad   # the update itself is not part of the graph
    losses.append(loss.item())
    if step % 50 == 0:
        bar.set_postfix(loss=f"{loss.item():.3f}")


def predict(points):
    with tg.no_grad():
        H = (tg.Tensor(points) @ net["W1"] + net["b1"]).relu()
        return (H @ net["W2"] + net["b2"]).data.argmax(axis=1)


train_accuracy = float((predict(spiral_X) == spiral_y).mean())
print(f"loss {losses[0]:.3f} → {losses[-1]:.3f}, training accuracy {train_accuracy:.1%}")

# %% [markdown]
# The loss curve and the decision regions the network learned:

# %%
plt = tu.pyplot()
fig, (ax_loss, ax_regions) = plt.subplots(1, 2, figsize=(11, 4.5))
ax_loss.plot(losses)
ax_loss.set(xlabel="gradient-descent step", ylabel="cross-entropy loss", title="Training loss",
            yscale="log")
ax_loss.grid(alpha=0.3)
grid_x, grid_y = np.meshgrid(np.linspace(-1.1, 1.1, 200), np.linspace(-1.1, 1.1, 200))
regions = predict(np.c_[grid_x.ravel(), grid_y.ravel()]).reshape(grid_x.shape)
ax_regions.contourf(grid_x, grid_y, regions, alpha=0.3, cmap="brg", levels=[-0.5, 0.5, 1.5, 2.5])
ax_regions.scatter(spiral_X[:, 0], spiral_X[:, 1], c=spiral_y, cmap="brg", s=12, edgecolors="k",
                   linewidths=0.3)
ax_regions.set(title=f"Decision regions (training accuracy {train_accuracy:.0%})", aspect="equal")
tu.save_figure(fig, args, "01_spiral_training")

# %% [markdown]
# ## Summary
#
# * each backward step is *incoming gradient × local derivative*, sent to each parent;
# * gradients arriving at the same tensor from several paths add up;
# * the engine's gradients equal the hand-derived ones and the finite differences.

# %%
tu.report("01_backprop_step_by_step", args, {
    "max_abs_diff_engine_vs_hand": max_diff, "gradcheck": bool(gradcheck_ok),
    "conv_dW_sums_match": conv_dW_matches, "max_pool_routes_ok": pool_routes_ok,
    "initial_loss": losses[0], "final_loss": losses[-1], "train_accuracy": train_accuracy})
