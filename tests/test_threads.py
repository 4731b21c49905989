"""Threads and the process: importing changes nothing, one pool for every kernel, set_num_threads
and OMP_NUM_THREADS are obeyed, and every compiled kernel gives identical results with 1 and 2
threads (each output element is computed by one thread, in the same order)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import threads
from tinygrad_edu._C import avg_pool, conv, max_pool, upsample
from tinygrad_edu.ops import conv as conv_ops
from tinygrad_edu.ops.pool import nearest_sources


def run_python(code: str, **env) -> str:
    """Run code in a fresh interpreter (with env added to the environment); its stdout."""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env={**os.environ, **env}, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


# ---------------------------------------------------------------------------------------------
# Importing changes nothing in the process
# ---------------------------------------------------------------------------------------------
def test_import_leaves_the_environment_alone():
    out = run_python("import os; before = dict(os.environ); import tinygrad_edu; "
                     "print(before == dict(os.environ), sorted(set(os.environ) ^ set(before)))")
    assert out.split()[0] == "True", out


def test_no_openmp_runtime_is_loaded():
    """The kernels use the one Python thread pool, so no OpenMP runtime (whose idle threads spin)
    is loaded, even after every kernel has run."""
    out = run_python(
        "import numpy as np, tinygrad_edu as tg, tinygrad_edu.nn.functional as F\n"
        "x = tg.Tensor(np.ones((8, 4, 32, 32), np.float32), requires_grad=True)\n"
        "w = tg.Tensor(np.ones((4, 4, 3, 3), np.float32), requires_grad=True)\n"
        "y = F.max_pool2d(F.conv2d(x, w, padding=1), 2) + F.avg_pool2d(x, 2)\n"
        "F.interpolate(y, scale_factor=2).sum().backward()\n"
        "maps = open('/proc/self/maps').read()\n"
        "print([name for name in ('libgomp', 'libiomp', 'libomp') if name in maps])")
    assert out.strip() == "[]", out


MALLOC_16_MIB_IS_MAPPED = (
    "import ctypes\n"
    "libc = ctypes.CDLL('libc.so.6'); libc.malloc.restype = ctypes.c_void_p\n"
    "p = libc.malloc(16 << 20)\n"
    "maps = open('/proc/self/maps').read().splitlines()\n"
    "print(any(int(a, 16) <= p < int(b, 16) and len(line.split()) == 5\n"
    "          for line in maps for a, b in [line.split()[0].split('-')]))")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc only")
def test_malloc_is_left_alone_at_import():
    """keep_freed_memory (a process-wide malloc setting) is opt-in: after import, a 16 MiB block
    still comes from an mmap of its own (glibc's default); after the call, from the heap."""
    assert run_python("import tinygrad_edu\n" + MALLOC_16_MIB_IS_MAPPED).strip() == "True"
    assert run_python("import tinygrad_edu\nassert tinygrad_edu.keep_freed_memory()\n"
                      + MALLOC_16_MIB_IS_MAPPED).strip() == "False"


# ---------------------------------------------------------------------------------------------
# How many threads
# ---------------------------------------------------------------------------------------------
@pytest.fixture
def restore_threads():
    previous = threads._num_threads
    yield
    threads._num_threads = previous


def test_set_num_threads(restore_threads):
    tg.set_num_threads(1)
    assert tg.get_num_threads() == 1
    tg.set_num_threads(3)
    assert tg.get_num_threads() == 3


@pytest.mark.parametrize("bad", [0, -1, 1.5, "2", True, None])
def test_set_num_threads_refuses_bad_values(bad, restore_threads):
    with pytest.raises(ValueError, match="positive int"):
        tg.set_num_threads(bad)


def test_omp_num_threads_is_honoured():
    assert run_python("import tinygrad_edu as tg; print(tg.get_num_threads())",
                      OMP_NUM_THREADS="1").strip() == "1"
    assert run_python("import tinygrad_edu as tg; print(tg.get_num_threads())",
                      OMP_NUM_THREADS="3").strip() == "3"


def test_set_num_threads_limits_blas_when_threadpoolctl_is_there():
    pytest.importorskip("threadpoolctl")
    out = run_python("import numpy, tinygrad_edu as tg\nfrom threadpoolctl import threadpool_info\n"
                     "tg.set_num_threads(1)\n"
                     "print({i['num_threads'] for i in threadpool_info() if i['user_api'] == 'blas'})")
    assert out.strip() in ("{1}", "set()"), out


def test_parallel_for_covers_every_item_once(restore_threads):
    tg.set_num_threads(2)
    seen = np.zeros(1000, dtype=np.int64)
    names = set()

    def work(start, end):
        seen[start:end] += 1
        names.add(threading.current_thread().name)

    threads.parallel_for(work, 1000, threads.SMALL_JOB)
    assert (seen == 1).all()
    # the calling thread runs one range, one worker of the pool the other
    assert names == {threading.current_thread().name} | {n for n in names if n.startswith("tinygrad_edu")}
    assert len(names) == 2


def test_parallel_for_small_jobs_stay_on_the_calling_thread(restore_threads):
    tg.set_num_threads(2)
    names = []
    threads.parallel_for(lambda s, e: names.append(threading.current_thread().name), 100, 10)
    assert names == [threading.current_thread().name]


def test_parallel_for_passes_errors_on(restore_threads):
    tg.set_num_threads(2)

    def work(start, end):
        if start > 0:
            raise ValueError(f"chunk at {start}")

    with pytest.raises(ValueError, match="chunk at"):
        threads.parallel_for(work, 100, threads.SMALL_JOB)


def test_kernels_from_several_threads_at_once(restore_threads):
    """Two user threads running big convolutions at the same time share the pool safely."""
    tg.set_num_threads(2)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 8, 24, 24))
    w = rng.standard_normal((8, 8, 3, 3))
    geometry = ((1, 1), (1, 1), (1, 1), 1)
    expected = conv.conv2d_forward_fast(x, w, None, (24, 24), *geometry)[0]
    results = [None] * 4

    def run(k):
        results[k] = conv.conv2d_forward_fast(x, w, None, (24, 24), *geometry)[0]

    workers = [threading.Thread(target=run, args=(k,)) for k in range(4)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    for r in results:
        np.testing.assert_array_equal(r, expected)


# ---------------------------------------------------------------------------------------------
# Identical results with 1 and 2 threads, for every compiled kernel (big enough to be split).
# numpy's BLAS is held at its own count here: OpenBLAS splits a product differently for another
# number of threads and may round differently; our kernels never do.
# ---------------------------------------------------------------------------------------------
@pytest.fixture
def blas_held(monkeypatch, restore_threads):
    monkeypatch.setattr(threads, "_limit_blas_threads", lambda n: None)
def every_kernel(dtype):
    """Every compiled kernel's outputs on inputs big enough to be cut into chunks."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((16, 12, 20, 18)).astype(dtype)
    w = rng.standard_normal((10, 12, 3, 3)).astype(dtype)
    b = rng.standard_normal(10).astype(dtype)
    outputs = []
    for geometry in [((1, 1), (1, 1), (1, 1), 1), ((2, 1), (0, 2), (1, 2), 2)]:
        out_size = tuple((n + 2 * p - d * 2 - 1) // s + 1 for n, s, p, d in
                         zip(x.shape[2:], geometry[0], geometry[1], geometry[2]))
        wg = w[:, :12 // geometry[3]].copy()
        h, cols = conv.conv2d_forward_fast(x, wg, b, out_size, *geometry)
        g = rng.standard_normal(h.shape).astype(dtype)
        outputs += [h, *conv.conv2d_backward_fast(x, wg, g, cols, True, True, *geometry),
                    conv.conv2d_forward_direct(x, wg, b, out_size, *geometry),
                    conv.conv2d_grad_input_direct(g, wg, x.shape[2:], *geometry),
                    conv.conv2d_grad_weight_direct(x, g, (3, 3), *geometry)]
    geo = conv_ops.conv_geometry("conv2d", x.shape, w.shape, b.shape, 1, 1, 1, 1)
    h, U = conv_ops.winograd_forward(x, w, b, geo)                # Winograd F(2×2, 3×3)
    outputs += [h, *conv_ops.winograd_backward(x, U, h, True, True, geo)]
    out, idx = max_pool.max_pool2d_forward(x, (3, 2), (2, 2), (1, 1), (1, 1), (10, 10))
    outputs += [out, idx, max_pool.max_pool2d_backward(out, idx, (20, 18))]
    avg = avg_pool.avg_pool2d_forward(x, (3, 3), (2, 2), (1, 1), (10, 9), False)
    outputs += [avg, avg_pool.avg_pool2d_backward(avg, (20, 18), (3, 3), (2, 2), (1, 1), False)]
    src_h, src_w = nearest_sources(20, 45, None, False), nearest_sources(18, 36, None, False)
    up = upsample.upsample_nearest2d_forward(x, src_h, src_w)
    outputs += [up, upsample.upsample_nearest2d_backward(up, src_h, src_w, (20, 18))]
    return outputs


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_every_kernel_is_identical_with_one_and_two_threads(dtype, blas_held):
    tg.set_num_threads(1)
    one = every_kernel(dtype)
    tg.set_num_threads(2)
    two = every_kernel(dtype)
    assert len(one) == len(two)
    for a, b in zip(one, two):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)


def test_a_training_step_is_identical_with_one_and_two_threads(blas_held):
    """A LeNet-5 step end to end (conv, pool, BLAS products): the same loss and gradients."""
    def step():
        tg.manual_seed(0)
        model = tg.nn.Sequential(tg.nn.Conv2d(1, 6, 5), tg.nn.Tanh(), tg.nn.AvgPool2d(2),
                                 tg.nn.Conv2d(6, 16, 5), tg.nn.Tanh(), tg.nn.MaxPool2d(2),
                                 tg.nn.Flatten(), tg.nn.Linear(16 * 5 * 5, 10))
        x = tg.Tensor(np.random.default_rng(2).standard_normal((64, 1, 32, 32)).astype(np.float32))
        loss = tg.nn.functional.cross_entropy(model(x), tg.Tensor(np.arange(64) % 10))
        loss.backward()
        return [loss.data] + [p.grad for p in model.parameters()]

    tg.set_num_threads(1)
    one = step()
    tg.set_num_threads(2)
    two = step()
    for a, b in zip(one, two):
        np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------------------------------------
# Scratch buffers: reused per thread and name, never shared between threads
# ---------------------------------------------------------------------------------------------
def test_scratch_reuses_one_buffer_per_name_and_thread():
    from tinygrad_edu import scratch as scratch_module
    from tinygrad_edu.scratch import release_scratch_memory, scratch
    a = scratch("test.a", (100, 100), np.float32)
    b = scratch("test.a", (50, 10), np.float64)            # smaller: the same memory
    assert b.ctypes.data == a.ctypes.data and b.shape == (50, 10) and b.dtype == np.float64
    assert scratch("test.b", (100, 100), np.float32).ctypes.data != a.ctypes.data
    other = []
    t = threading.Thread(target=lambda: other.append(scratch("test.a", (100, 100), np.float32)))
    t.start()
    t.join()
    assert other[0].ctypes.data != a.ctypes.data            # each thread its own
    release_scratch_memory()
    assert "buffers" not in scratch_module._local.__dict__    # this thread's buffers are gone


def test_outputs_never_live_in_scratch_memory():
    """Two convolutions' outputs and gradients kept side by side stay what they were."""
    rng = np.random.default_rng(8)
    for c in (3, 16):                       # im2col, Winograd
        x = tg.Tensor(rng.standard_normal((4, c, 10, 10)).astype(np.float32), requires_grad=True)
        w = tg.Tensor(rng.standard_normal((16, c, 3, 3)).astype(np.float32), requires_grad=True)
        first = tg.nn.functional.conv2d(x, w, padding=1)
        first_value = first.data.copy()
        first.sum().backward()
        grads = x.grad.copy(), w.grad.copy()
        x2 = tg.Tensor(rng.standard_normal((4, c, 10, 10)).astype(np.float32), requires_grad=True)
        second = tg.nn.functional.conv2d(x2, w, padding=1)
        (second * 3).sum().backward()
        np.testing.assert_array_equal(first.data, first_value)
        np.testing.assert_array_equal(x.grad, grads[0])
        assert not np.array_equal(second.data, first.data)


def _conv_in_child(queue):
    x = np.ones((8, 16, 20, 20), dtype=np.float32)
    w = np.ones((16, 16, 3, 3), dtype=np.float32)
    h, _ = conv.conv2d_forward_fast(x, w, None, (20, 20), (1, 1), (1, 1), (1, 1), 1)
    queue.put(float(h.sum()))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_a_forked_child_starts_its_own_pool(restore_threads):
    """A DataLoader worker or multiprocessing child made by fork() after the pool started has
    none of its threads: it must make its own instead of waiting forever on the parent's."""
    import multiprocessing
    tg.set_num_threads(2)
    x = np.ones((8, 16, 20, 20), dtype=np.float32)
    w = np.ones((16, 16, 3, 3), dtype=np.float32)
    expected = float(conv.conv2d_forward_fast(x, w, None, (20, 20), (1, 1), (1, 1), (1, 1), 1)[0].sum())
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_conv_in_child, args=(queue,))
    child.start()
    child.join(timeout=60)
    assert child.exitcode == 0
    assert queue.get(timeout=5) == expected
