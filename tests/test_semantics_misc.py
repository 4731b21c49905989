"""PyTorch semantics of the small modules: Module attribute assignment, layer constructor
checks, optimizer hyperparameter checks, no_grad as a decorator, default_collate, draw_graph
on big graphs and after in-place ops, set_backend's scope and serialize's file handling."""

import collections
import math
import os
import stat
import sys
import threading
import time
import zipfile

import numpy as np
import pytest

import tinygrad_edu as tg
import tinygrad_edu.nn as nn
from tinygrad_edu import Tensor, optim
from tinygrad_edu.backend import get_backend, set_backend
from tinygrad_edu.data import DataLoader, Dataset, default_collate
from tinygrad_edu.draw import to_dot
from tinygrad_edu.grad_mode import enable_grad, is_grad_enabled, no_grad
from tinygrad_edu.serialize import load, save

NAN, INF = float("nan"), float("inf")


def _raises(exc, fn, *args, **kwargs):
    """The exception fn raises (pytest.fail if none, or of another type)."""
    with pytest.raises(exc) as info:
        fn(*args, **kwargs)
    return info.value


# =============================================================================================
# 1. Module.__setattr__ keeps registered parameters, modules and buffers typed, as PyTorch
# =============================================================================================
def test_assigning_plain_tensor_to_a_parameter_raises_and_keeps_it_registered():
    m = nn.Linear(2, 3)
    weight = m.weight
    err = _raises(TypeError, setattr, m, "weight", Tensor(np.zeros((3, 2), np.float32)))
    assert str(err) == ("cannot assign 'Tensor' as parameter 'weight' "
                        "(nn.Parameter or None expected)")
    assert m.weight is weight
    assert [n for n, _ in m.named_parameters()] == ["weight", "bias"]
    with pytest.raises(TypeError, match="cannot assign 'int' as parameter 'bias'"):
        m.bias = 5
    # a Parameter replaces it, None removes it from parameters() and state_dict()
    m.weight = nn.Parameter(np.ones((3, 2), np.float32))
    assert m.weight is not weight and m.weight.data.sum() == 6
    m.bias = None
    assert m.bias is None
    assert [n for n, _ in m.named_parameters()] == ["weight"]
    assert list(m.state_dict()) == ["weight"]
    assert m(Tensor(np.ones((1, 2), np.float32))).tolist() == [[2.0, 2.0, 2.0]]


def test_assigning_to_registered_modules_and_buffers_is_typed():
    seq = nn.Sequential(nn.Linear(2, 2))
    with pytest.raises(TypeError, match=r"cannot assign 'Tensor' as child module '0' "
                                        r"\(nn.Module or None expected\)"):
        setattr(seq, "0", Tensor([1.0]))
    assert isinstance(seq[0], nn.Linear)
    setattr(seq, "0", None)
    assert list(seq.named_children()) == [] and len(list(seq.parameters())) == 0

    bn = nn.BatchNorm1d(2)
    with pytest.raises(TypeError, match=r"cannot assign 'int' as buffer 'running_mean' "
                                        r"\(Tensor or None expected\)"):
        bn.running_mean = 5
    bn.running_mean = Tensor(np.full(2, 3.0, np.float32))  # a Tensor stays a buffer
    assert [n for n, _ in bn.named_buffers()] == ["running_mean", "running_var",
                                                  "num_batches_tracked"]
    bn.running_mean = None
    assert "running_mean" not in bn.state_dict()
    # a Parameter assigned over a buffer name becomes a parameter (PyTorch does the same)
    bn.running_var = nn.Parameter(np.ones(2, np.float32))
    assert [n for n, _ in bn.named_parameters()] == ["weight", "bias", "running_var"]
    # after del, the name is free: a plain Tensor is a plain attribute again
    del bn.num_batches_tracked
    bn.num_batches_tracked = Tensor([0.0])
    assert "num_batches_tracked" not in bn.state_dict()

    plain = nn.Module()
    plain.x = Tensor([1.0])  # a plain tensor on a new name is not registered
    assert list(plain.state_dict()) == [] and plain.x.tolist() == [1.0]


def test_register_methods_refuse_names_already_used():
    m = nn.Linear(2, 3)
    m.note = "a plain attribute"
    with pytest.raises(KeyError, match="attribute 'note' already exists"):
        m.register_parameter("note", None)
    with pytest.raises(KeyError, match="attribute 'weight' already exists"):
        m.register_buffer("weight", Tensor([1.0]))  # would silently drop the parameter
    with pytest.raises(KeyError, match="attribute 'bias' already exists"):
        m.add_module("bias", nn.ReLU())
    with pytest.raises(KeyError, match="attribute 'forward' already exists"):
        m.register_parameter("forward", None)
    with pytest.raises(KeyError, match="contain"):
        m.register_buffer("a.b", None)
    with pytest.raises(KeyError, match="empty"):
        m.add_module("", nn.ReLU())
    with pytest.raises(TypeError, match="should be a string"):
        m.register_parameter(1, None)
    m.register_parameter("weight", nn.Parameter(np.zeros((3, 2), np.float32)))  # same kind: ok
    assert m.weight.data.sum() == 0


def test_attribute_assignment_matches_torch():
    torch = pytest.importorskip("torch")
    ours, theirs = nn.Linear(2, 3), torch.nn.Linear(2, 3)
    with pytest.raises(TypeError) as a:
        ours.weight = Tensor(np.zeros((3, 2), np.float32))
    with pytest.raises(TypeError) as b:
        theirs.weight = torch.zeros(3, 2)
    # same sentence, with our class names in place of torch's
    assert str(a.value).split(" (")[0].replace("'Tensor'", "T") == \
        str(b.value).split(" (")[0].replace("'torch.FloatTensor'", "T")
    ours.bias, theirs.bias = None, None
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert list(ours.state_dict()) == list(theirs.state_dict())


# =============================================================================================
# 2. Layer constructors: empty layers work, bad sizes raise PyTorch's errors
# =============================================================================================
def test_empty_linear_and_conv_work_like_torch():
    with pytest.warns(UserWarning, match="zero-element"):
        lin = nn.Linear(0, 3)
    assert lin.weight.shape == (3, 0) and lin.bias.shape == (3,)
    assert lin.bias.tolist() == [0.0, 0.0, 0.0]  # bound 1/√fan_in with fan_in = 0 → 0
    out = lin(Tensor(np.zeros((2, 0), np.float32)))
    assert out.shape == (2, 3)
    with pytest.warns(UserWarning, match="zero-element"):
        assert nn.Linear(3, 0).weight.shape == (0, 3)
    with pytest.warns(UserWarning, match="zero-element"):
        assert nn.Conv2d(0, 4, 3).weight.shape == (4, 0, 3, 3)
    with pytest.warns(UserWarning, match="zero-element"):
        assert nn.Conv2d(3, 4, 0).weight.shape == (4, 3, 0, 0)
    with pytest.warns(UserWarning, match="zero-element"):
        assert nn.ConvTranspose2d(4, 0, 3).weight.shape == (4, 0, 3, 3)
    assert nn.BatchNorm2d(0).weight.shape == (0,)
    assert nn.Embedding(3, 0).weight.shape == (3, 0)
    assert nn.Embedding(0, 3).weight.shape == (0, 3)


def test_empty_layers_have_torch_shapes():
    torch = pytest.importorskip("torch")
    import warnings
    pairs = [(lambda m: m.Linear(0, 3)), (lambda m: m.Linear(3, 0)),
             (lambda m: m.Conv2d(0, 4, 3)), (lambda m: m.Conv2d(4, 0, 3)),
             (lambda m: m.Conv1d(0, 4, 3)), (lambda m: m.ConvTranspose2d(0, 4, 3)),
             (lambda m: m.BatchNorm1d(0)), (lambda m: m.Embedding(0, 3))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for make in pairs:
            ours, theirs = make(nn), make(torch.nn)
            assert [(n, p.shape) for n, p in ours.named_parameters()] == \
                [(n, tuple(p.shape)) for n, p in theirs.named_parameters()]


@pytest.mark.parametrize("groups", [0, -2])
def test_conv_groups_must_be_positive(groups):
    for make in (lambda: nn.Conv2d(4, 4, 3, groups=groups),
                 lambda: nn.Conv1d(4, 4, 3, groups=groups),
                 lambda: nn.ConvTranspose2d(4, 4, 3, groups=groups)):
        err = _raises(ValueError, make)
        assert str(err).startswith("groups must be a positive integer")
        assert f"groups={groups}" in str(err)


def test_conv_channels_must_be_divisible_by_groups():
    with pytest.raises(ValueError, match=r"in_channels must be divisible by groups "
                                         r"\(in_channels=3, groups=2\)"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match=r"out_channels must be divisible by groups "
                                         r"\(out_channels=3, groups=2\)"):
        nn.Conv2d(4, 3, 3, groups=2)
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        nn.ConvTranspose2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="Invalid padding string 'full'"):
        nn.Conv2d(3, 4, 3, padding="full")
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        nn.Conv2d(3, 4, 3, padding_mode="mirror")


@pytest.mark.parametrize("make, shape", [
    (lambda: nn.Linear(-1, 3), [3, -1]),
    (lambda: nn.Linear(3, -2), [-2, 3]),
    (lambda: nn.Conv2d(-1, 4, 3), [4, -1, 3, 3]),
    (lambda: nn.Conv2d(4, -1, 3), [-1, 4, 3, 3]),
    (lambda: nn.Conv2d(3, 4, -1), [4, 3, -1, -1]),
    (lambda: nn.BatchNorm2d(-1), [-1]),
    (lambda: nn.Embedding(-1, 3), [-1, 3]),
    (lambda: nn.Embedding(3, -1), [3, -1]),
    (lambda: nn.Linear(-1, -2), [-2, -1]),
    (lambda: nn.BatchNorm1d(-4, affine=False), [-4]),
])
def test_negative_sizes_raise_torch_error(make, shape):
    err = _raises(RuntimeError, make)
    first_negative = [d for d in shape if d < 0][0]
    assert str(err) == f"Trying to create tensor with negative dimension {first_negative}: {shape}"


def test_negative_sizes_match_torch_messages():
    torch = pytest.importorskip("torch")
    for make in (lambda m: m.Linear(-1, 3), lambda m: m.Conv2d(4, -1, 3),
                 lambda m: m.BatchNorm1d(-3), lambda m: m.Embedding(3, -1)):
        ours, theirs = _raises(RuntimeError, make, nn), _raises(RuntimeError, make, torch.nn)
        assert str(ours) == str(theirs)
    for make in (lambda m: m.Conv2d(4, 4, 3, groups=0), lambda m: m.Conv2d(3, 4, 3, groups=2),
                 lambda m: m.Conv2d(4, 3, 3, groups=2)):
        ours, theirs = _raises(ValueError, make, nn), _raises(ValueError, make, torch.nn)
        assert str(ours).startswith(str(theirs))


def test_non_integer_sizes_are_a_type_error():
    with pytest.raises(TypeError, match="2.5"):
        nn.Linear(2.5, 3)
    with pytest.raises(TypeError, match="groups"):
        nn.Conv2d(4, 4, 3, groups=1.5)


# =============================================================================================
# 3. Optimizer hyperparameters: PyTorch's messages, NaN refused
# =============================================================================================
def _param():
    return Tensor([1.0], requires_grad=True)


@pytest.mark.parametrize("make, message", [
    (lambda p: optim.SGD(p, lr=NAN), "Invalid learning rate: nan"),
    (lambda p: optim.SGD(p, lr=-0.1), "Invalid learning rate: -0.1"),
    (lambda p: optim.SGD(p, lr=0.1, momentum=NAN), "Invalid momentum value: nan"),
    (lambda p: optim.SGD(p, lr=0.1, momentum=-1), "Invalid momentum value: -1"),
    (lambda p: optim.SGD(p, lr=0.1, weight_decay=NAN), "Invalid weight_decay value: nan"),
    (lambda p: optim.SGD(p, lr=0.1, weight_decay=-1e-4), "Invalid weight_decay value: -0.0001"),
    (lambda p: optim.SGD(p, lr=0.1, dampening=NAN), "Invalid dampening value: nan"),
    (lambda p: optim.Adam(p, lr=NAN), "Invalid learning rate: nan"),
    (lambda p: optim.Adam(p, lr=-1.0), "Invalid learning rate: -1.0"),
    (lambda p: optim.Adam(p, eps=NAN), "Invalid epsilon value: nan"),
    (lambda p: optim.Adam(p, eps=-1e-8), "Invalid epsilon value: -1e-08"),
    (lambda p: optim.Adam(p, betas=(NAN, 0.999)), "Invalid beta parameter at index 0: nan"),
    (lambda p: optim.Adam(p, betas=(1.0, 0.999)), "Invalid beta parameter at index 0: 1.0"),
    (lambda p: optim.Adam(p, betas=(0.9, NAN)), "Invalid beta parameter at index 1: nan"),
    (lambda p: optim.Adam(p, betas=(0.9, -0.1)), "Invalid beta parameter at index 1: -0.1"),
    (lambda p: optim.Adam(p, weight_decay=NAN), "Invalid weight_decay value: nan"),
    (lambda p: optim.AdamW(p, lr=NAN), "Invalid learning rate: nan"),
    (lambda p: optim.AdamW(p, weight_decay=NAN), "Invalid weight_decay value: nan"),
    (lambda p: optim.AdamW(p, betas=(0.9, 1.0)), "Invalid beta parameter at index 1: 1.0"),
])
def test_invalid_hyperparameters_are_refused(make, message):
    err = _raises(ValueError, make, [_param()])
    assert str(err) == message


def test_hyperparameter_messages_match_torch():
    torch = pytest.importorskip("torch")
    bad = [("SGD", dict(lr=-0.1)), ("SGD", dict(lr=0.1, momentum=-1.0)),
           ("SGD", dict(lr=0.1, weight_decay=-1.0)),
           ("SGD", dict(lr=0.1, momentum=0.5, dampening=0.1, nesterov=True)),
           ("SGD", dict(lr=0.1, nesterov=True)),
           ("Adam", dict(lr=NAN)), ("Adam", dict(eps=NAN)), ("Adam", dict(betas=(NAN, 0.9))),
           ("Adam", dict(betas=(0.9, 1.0))), ("Adam", dict(weight_decay=NAN)),
           ("AdamW", dict(lr=-1.0)), ("AdamW", dict(betas=(-0.5, 0.9)))]
    for name, kwargs in bad:
        theirs = _raises(ValueError, getattr(torch.optim, name),
                         [torch.zeros(1, requires_grad=True)], **kwargs)
        ours = _raises(ValueError, getattr(optim, name), [_param()], **kwargs)
        assert str(ours).startswith(str(theirs)), (name, kwargs)
    # deliberately stricter than torch.optim.SGD, which accepts lr=nan and then makes NaN weights
    with pytest.raises(ValueError, match="Invalid learning rate: nan"):
        optim.SGD([_param()], lr=NAN)


def test_valid_edge_hyperparameters_are_accepted():
    optim.SGD([_param()], lr=0.0, momentum=0.0, weight_decay=0.0)
    optim.Adam([_param()], lr=0.0, betas=(0.0, 0.0), eps=0.0, weight_decay=0.0)
    optim.AdamW([_param()], lr=INF)  # torch accepts inf too
    with pytest.raises(ValueError, match="betas must be a pair"):
        optim.Adam([_param()], betas=(0.9,))


# =============================================================================================
# 4. no_grad / enable_grad as decorators: bare, and on generator functions
# =============================================================================================
def test_no_grad_decorator_without_parentheses():
    w = Tensor([1.0], requires_grad=True)

    @no_grad
    def double(x):
        """Docstring kept."""
        return x * 2

    assert double.__name__ == "double" and double.__doc__ == "Docstring kept."
    assert double(w).requires_grad is False
    assert is_grad_enabled()

    @tg.no_grad()
    def with_parens(x):
        return x * 2

    assert with_parens(w).requires_grad is False

    with no_grad():
        @enable_grad
        def recorded(x):
            return x * 2
        assert recorded(w).requires_grad is True
        assert not is_grad_enabled()


def test_no_grad_decorated_generator_runs_each_step_without_grad():
    w = Tensor([1.0], requires_grad=True)
    modes = []

    @no_grad()
    def steps(n):
        for i in range(n):
            modes.append(is_grad_enabled())
            received = yield w * i
            modes.append(("sent", received, is_grad_enabled()))
        return "done"

    gen = steps(2)
    assert is_grad_enabled()  # creating the generator changes nothing
    first = next(gen)
    assert first.requires_grad is False
    assert is_grad_enabled()  # between steps the caller's mode is back
    second = gen.send("hello")
    assert second.requires_grad is False and is_grad_enabled()
    with pytest.raises(StopIteration) as stop:
        next(gen)
    assert stop.value.value == "done"
    assert modes == [False, ("sent", "hello", False), False, ("sent", None, False)]

    @no_grad
    def bare():
        yield w * 3

    assert [t.requires_grad for t in bare()] == [False]

    with no_grad():
        @enable_grad()
        def regrad():
            yield w * 3
        assert [t.requires_grad for t in regrad()] == [True]


def test_no_grad_generator_throw_and_close_run_under_no_grad():
    seen = []

    @no_grad
    def guarded():
        try:
            yield 1
        except ValueError:
            seen.append(("caught", is_grad_enabled()))
            yield 2
        finally:
            seen.append(("finally", is_grad_enabled()))

    gen = guarded()
    assert next(gen) == 1
    assert gen.throw(ValueError("x")) == 2
    gen.close()
    assert seen == [("caught", False), ("finally", False)]
    assert is_grad_enabled()


def test_no_grad_generator_matches_torch():
    torch = pytest.importorskip("torch")
    for lib, make in ((tg, lambda: Tensor([1.0], requires_grad=True)),
                      (torch, lambda: torch.ones(1, requires_grad=True))):
        w = make()

        @lib.no_grad()
        def gen():
            yield w * 2
            yield w * 3

        @lib.no_grad
        def plain():
            return w * 2

        assert [t.requires_grad for t in gen()] == [False, False], lib.__name__
        assert plain().requires_grad is False, lib.__name__


# =============================================================================================
# 5. default_collate follows PyTorch
# =============================================================================================
Point = collections.namedtuple("Point", "x label")


def test_default_collate_namedtuples_strings_dicts_and_numbers():
    batch = default_collate([Point(np.array([1.0, 2.0]), "a"), Point(np.array([3.0, 4.0]), "b")])
    assert type(batch) is Point
    assert batch.x.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert batch.label == ("a", "b")  # strings are collected (zip gives a tuple, as PyTorch)
    assert default_collate(["a", "b"]) == ["a", "b"]
    out = default_collate([{"v": 1, "name": "x"}, {"v": 2, "name": "y"}])
    assert out["v"].tolist() == [1, 2] and out["v"].dtype == np.int64
    assert out["name"] == ["x", "y"]
    assert default_collate([1.5, 2.5]).dtype == np.float64
    assert default_collate([True, False]).dtype == np.bool_
    assert default_collate([np.float32(1), np.float32(2)]).dtype == np.float32
    pairs = default_collate([(1, "p"), (2, "q")])
    assert isinstance(pairs, list) and pairs[0].tolist() == [1, 2] and pairs[1] == ("p", "q")
    ordered = default_collate([collections.OrderedDict(a=1), collections.OrderedDict(a=2)])
    assert type(ordered) is collections.OrderedDict
    tensors = default_collate([Tensor([1.0, 2.0]), Tensor([3.0, 4.0])])
    assert tensors.shape == (2, 2)


def test_default_collate_errors_are_clear():
    with pytest.raises(RuntimeError, match=r"each element in list of batch should be of equal "
                                           r"size \(got sizes \[2, 1\]\)"):
        default_collate([[1, 2], [3]])
    with pytest.raises(RuntimeError, match=r"stack expects each tensor to be equal size, but "
                                           r"got \[2\] at entry 0 and \[3\] at entry 1"):
        default_collate([np.zeros(2), np.zeros(3)])
    with pytest.raises(TypeError, match="default_collate: batch must contain tensors, numpy "
                                        "arrays, numbers, dicts or lists; found <U1"):
        default_collate([np.array(["a"]), np.array(["b"])])
    with pytest.raises(TypeError, match="found <class 'NoneType'>"):
        default_collate([None, None])


def test_default_collate_matches_torch():
    torch = pytest.importorskip("torch")
    from torch.utils.data import default_collate as torch_collate

    def same(ours, theirs):
        if isinstance(theirs, torch.Tensor):
            assert isinstance(ours, Tensor)
            assert ours.dtype == theirs.numpy().dtype
            np.testing.assert_array_equal(ours.data, theirs.numpy())
        elif isinstance(theirs, dict):
            assert type(ours) is type(theirs) and list(ours) == list(theirs)
            for k in theirs:
                same(ours[k], theirs[k])
        elif isinstance(theirs, (list, tuple)) and not isinstance(theirs[0], str):
            assert type(ours) is type(theirs) and len(ours) == len(theirs)
            for a, b in zip(ours, theirs):
                same(a, b)
        else:
            assert ours == theirs and type(ours) is type(theirs)

    batches = [
        [Point(np.array([1.0, 2.0], np.float32), "a"), Point(np.array([3.0, 4.0], np.float32), "b")],
        [(1, "p", 2.5), (2, "q", 3.5)],
        [[1, 2], [3, 4]],
        [{"a": 1, "s": "x", "t": (np.int32(1), True)}, {"a": 2, "s": "y", "t": (np.int32(2), False)}],
        ["u", "v"],
        [np.array(1.0), np.array(2.0)],
    ]
    for batch in batches:
        same(default_collate(batch), torch_collate(batch))


def test_dataloader_batches_named_tuples():
    class Named(Dataset):
        def __len__(self):
            return 3

        def __getitem__(self, i):
            return Point(np.array([i, i], np.float32), f"s{i}")

    batches = list(DataLoader(Named(), batch_size=2))
    assert [type(b) for b in batches] == [Point, Point]
    assert batches[0].label == ("s0", "s1") and batches[1].x.shape == (1, 2)


def test_tensor_dataset_batches_have_the_structure_default_collate_gives():
    from tinygrad_edu.data import TensorDataset
    ds = TensorDataset(np.arange(6.0).reshape(3, 2), np.arange(3))
    fast = next(iter(DataLoader(ds, batch_size=2)))
    slow = default_collate([ds[0], ds[1]])
    assert type(fast) is type(slow) is list  # PyTorch's DataLoader gives [x, y] too
    for a, b in zip(fast, slow):
        np.testing.assert_array_equal(a.data, b.data)
        assert a.dtype == b.dtype


# =============================================================================================
# 6. draw_graph: linear in the graph size, edges from the right version of in-place tensors
# =============================================================================================
class _CountingName(str):
    """A name that counts how often it is compared: a linear to_dot compares names by hash."""
    comparisons = 0

    def __eq__(self, other):
        type(self).comparisons += 1
        return str.__eq__(self, other)

    __hash__ = str.__hash__


def _chain(n):
    x = Tensor(np.array([1.0]), requires_grad=True)
    tensors = [x]
    for _ in range(n):
        tensors.append(tensors[-1] * 1.0)
    return tensors


def test_to_dot_compares_each_name_a_bounded_number_of_times():
    tensors = _chain(2000)
    names = {_CountingName(f"v{i}"): t for i, t in enumerate(tensors)}
    _CountingName.comparisons = 0
    dot = to_dot(tensors[-1], names=names)
    assert dot.count(" -> ") == 2000
    # a scan of all ids taken so far per node would make ~2,000,000 comparisons
    assert _CountingName.comparisons < 10 * len(tensors)


def test_to_dot_of_a_20k_chain_is_fast():
    tensors = _chain(20_000)
    start = time.perf_counter()
    dot = to_dot(tensors[-1])
    elapsed = time.perf_counter() - start
    assert dot.count(" -> ") == 20_000 and dot.count("[label=") == 20_001
    assert elapsed < 10, f"to_dot of 20,001 nodes took {elapsed:.1f} s"


def test_to_dot_ids_stay_unique_when_names_look_like_generated_ids():
    a = Tensor([1.0], requires_grad=True)
    b = a * 2
    c = b + a
    dot = to_dot(c, names={'a"': a, "n0": b})  # a" is not a word: its id would be n0
    ids = [line.split(" [label=")[0].strip() for line in dot.splitlines() if "[label=" in line
           and "->" not in line]
    assert len(ids) == len(set(ids)) == 3


def test_to_dot_edges_use_the_tensor_as_it_was_before_an_in_place_change():
    a = Tensor([1.0, 2.0], requires_grad=True)
    b = a * 2
    c = b * 3       # uses b before the change
    b += 1          # b is now a new node; c still used the earlier b
    d = (b * c).sum()
    dot = to_dot(d, names={"a": a, "c": c, "d": d})
    edges = {tuple(line.strip().rstrip(";").split(" [")[0].split(" -> "))
             for line in dot.splitlines() if "->" in line}
    # t1 is b before `+=` (a * 2), t2 is b after; c was made from t1
    assert ("t1", "c") in edges and ("t2", "c") not in edges
    assert ("a", "t1") in edges and ("t1", "t2") in edges


# =============================================================================================
# 7. set_backend's docstring says it is per thread
# =============================================================================================
def test_set_backend_is_per_thread_as_documented():
    import tinygrad_edu.backend as backend
    for doc in (set_backend.__doc__, backend.__doc__):
        assert "thread" in doc and "rest of the program" not in doc
    seen = []
    try:
        set_backend("direct")
        worker = threading.Thread(target=lambda: seen.append(get_backend()))
        worker.start()
        worker.join()
        assert get_backend() == "direct"
    finally:
        set_backend("fast")
    assert seen == ["fast"]  # a new thread starts with the default


# =============================================================================================
# 8. serialize: any key, permissions, symlinks, clear errors, no temporary files left
# =============================================================================================
def test_any_key_round_trips(tmp_path):
    keys = ["file", "allow_pickle", "args", "kwds", "a.npy", "a", "dir/sub", "", "ünï"]
    state = {k: np.full(2, i, np.float32) for i, k in enumerate(keys)}
    save(state, tmp_path / "k.npz")
    loaded = load(tmp_path / "k.npz")
    assert list(loaded) == keys
    for k, v in state.items():
        np.testing.assert_array_equal(loaded[k].data, v, err_msg=k)
    with np.load(tmp_path / "k.npz") as plain:  # still an ordinary .npz for numpy
        np.testing.assert_array_equal(plain["allow_pickle"], state["allow_pickle"])


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
@pytest.mark.parametrize("umask", [0o022, 0o002, 0o077])
def test_saved_file_gets_umask_permissions(tmp_path, umask):
    old = os.umask(umask)
    try:
        save({"w": np.ones(2)}, tmp_path / "m.npz")
        with open(tmp_path / "plain", "wb"):
            pass
    finally:
        os.umask(old)
    mode = stat.S_IMODE(os.stat(tmp_path / "m.npz").st_mode)
    assert mode == 0o666 & ~umask == stat.S_IMODE(os.stat(tmp_path / "plain").st_mode)


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_overwriting_keeps_the_existing_file_mode(tmp_path):
    path = tmp_path / "m.npz"
    save({"w": np.ones(2)}, path)
    os.chmod(path, 0o640)
    save({"w": np.zeros(2)}, path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640  # as a plain open() would keep it


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_save_through_a_symlink_writes_the_target(tmp_path):
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "ckpt.npz"
    save({"w": np.ones(2)}, target)
    link = tmp_path / "latest.npz"
    try:
        os.symlink(target, link)
    except OSError:
        pytest.skip("cannot create symlinks here")
    save({"w": np.full(2, 7.0)}, link)
    assert os.path.islink(link)
    assert load(target)["w"].tolist() == [7.0, 7.0]
    assert sorted(os.listdir(tmp_path)) == ["latest.npz", "real"]
    assert sorted(os.listdir(tmp_path / "real")) == ["ckpt.npz"]


def test_loading_a_text_file_says_what_it_is(tmp_path):
    path = tmp_path / "notes.npz"
    path.write_text("hello, this is not a checkpoint\n")
    err = _raises(ValueError, load, path)
    assert "pickle" not in str(err)
    assert "text" in str(err) and str(path) in str(err) and ".npz" in str(err)


def test_loading_npy_and_other_files_gives_clear_errors(tmp_path):
    np.save(tmp_path / "w.npy", np.ones(3))
    err = _raises(ValueError, load, tmp_path / "w.npy")
    assert ".npy" in str(err) and "np.load" in str(err) and ".npz" in str(err)
    (tmp_path / "empty.npz").write_bytes(b"")
    assert "empty" in str(_raises(ValueError, load, tmp_path / "empty.npz"))
    with zipfile.ZipFile(tmp_path / "other.zip", "w") as zf:
        zf.writestr("data.pkl", b"\x80\x04N.")
    assert "data.pkl" in str(_raises(ValueError, load, tmp_path / "other.zip"))
    (tmp_path / "pickle.pt").write_bytes(b"\x80\x04\x95" + b"\0" * 20)
    assert "pickle" in str(_raises(ValueError, load, tmp_path / "pickle.pt"))


def test_string_arrays_are_refused_at_save_time(tmp_path):
    for value in (np.array(["a", "bc"]), np.array([b"x"]), "text"):
        err = _raises(TypeError, save, {"names": value}, tmp_path / "s.npz")
        assert "'names'" in str(err) and "numbers" in str(err)
    assert os.listdir(tmp_path) == []


def test_interrupted_save_leaves_no_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.npz"
    save({"w": np.ones(3)}, path)
    for error in (KeyboardInterrupt, OSError):
        def crash(*args, **kwargs):
            raise error("interrupted")
        monkeypatch.setattr(np.lib.format, "write_array", crash)
        with pytest.raises(error):
            save({"w": np.zeros(3)}, path)
        monkeypatch.undo()
        assert sorted(os.listdir(tmp_path)) == ["ckpt.npz"]
    assert load(path)["w"].tolist() == [1.0, 1.0, 1.0]


@pytest.mark.skipif(os.name != "posix", reason="liveness of a process id is checked on POSIX")
def test_stale_temporary_file_of_a_killed_save_is_removed_by_the_next_save(tmp_path):
    import subprocess
    # a process that has exited: its id is free (not reused this quickly in practice)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".ckpt.npz.{dead.pid}.deadbeef.part"
    stale.write_bytes(b"half a checkpoint")
    live = tmp_path / f".ckpt.npz.{os.getpid()}.cafecafe.part"  # another save of this process
    live.write_bytes(b"being written")
    other = tmp_path / f".other.npz.{dead.pid}.beefbeef.part"  # another file's: not ours to judge
    other.write_bytes(b"x")
    longer = tmp_path / f".ckpt.npz.7.{dead.pid}.abcdef12.part"  # a save to "ckpt.npz.7"
    longer.write_bytes(b"x")
    save({"w": np.ones(1)}, tmp_path / "ckpt.npz")
    assert sorted(os.listdir(tmp_path)) == sorted(["ckpt.npz", live.name, other.name, longer.name])


def test_save_into_a_missing_directory_names_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing"):
        save({"w": np.ones(1)}, tmp_path / "missing" / "m.npz")
