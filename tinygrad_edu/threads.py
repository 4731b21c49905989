"""How many threads the compiled kernels use, and the one pool of threads they share.

Every compiled kernel (convolution, pooling, upsampling) splits its work into chunks, a range of
samples or of (n, c) planes, and hands them to `parallel_for`. The chunks run on one pool of
Python threads; the loops inside release the GIL, so they really run side by side. A worker with
nothing to do sleeps on a lock: it never spins, so it takes no core from numpy's BLAS, from
another library's OpenMP threads (PyTorch's) or from another process.

Every output element of our kernels is computed by exactly one thread, with the same additions
in the same order whichever thread it is, so their results are identical for any number of
threads. (numpy's BLAS, which `set_num_threads` also limits when it can, splits a matrix product
differently for another thread count and may round the last bit differently.)

Importing tinygrad_edu changes nothing in the process (no environment variable, no allocator
setting). The number of threads is, in this order:

1. what `set_num_threads(n)` set;
2. the environment variable OMP_NUM_THREADS, read (never written) when first needed;
3. the number of CPUs this process may run on.

>>> import tinygrad_edu as tg
>>> previous = tg.get_num_threads()
>>> tg.set_num_threads(1)          # every kernel on the calling thread alone
>>> tg.get_num_threads()
1
>>> tg.set_num_threads(previous)
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

# Below this many values touched, starting threads costs more than the work it would share.
SMALL_JOB = 1 << 15

_num_threads: int | None = None     # set by set_num_threads
_pool: ThreadPoolExecutor | None = None
_pool_size = 0
_lock = threading.Lock()


def _threads_from_environment() -> int:
    """OMP_NUM_THREADS if it holds a positive number, else the CPUs this process may use."""
    try:
        return max(1, int(os.environ.get("OMP_NUM_THREADS", "").split(",")[0]))
    except ValueError:
        pass
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def get_num_threads() -> int:
    """How many threads the compiled kernels use (as torch.get_num_threads)."""
    return _num_threads if _num_threads is not None else _threads_from_environment()


def set_num_threads(n: int) -> None:
    """Use n threads in the compiled kernels from now on, in every thread of the program (as
    torch.set_num_threads). numpy's BLAS, which does the matrix products, follows too when the
    package threadpoolctl is installed (it comes with scikit-learn, in the tutorials extra);
    without it, BLAS keeps its own count, which OMP_NUM_THREADS set before Python started."""
    global _num_threads
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads: n must be a positive int, got {n!r}")
    _num_threads = n
    _limit_blas_threads(n)


def _limit_blas_threads(n: int) -> None:
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    threadpool_limits(limits=n, user_api="blas")  # called, not used as `with`: stays in force


def _get_pool(size: int) -> ThreadPoolExecutor:
    """The shared pool, made (again) when first needed with `size` workers."""
    global _pool, _pool_size
    with _lock:
        if _pool is None or _pool_size != size:
            if _pool is not None:
                _pool.shutdown(wait=False)
            _pool = ThreadPoolExecutor(size, thread_name_prefix="tinygrad_edu")
            _pool_size = size
        return _pool


def _forget_pool() -> None:
    """A child made by fork() has none of its parent's threads: it starts a pool of its own."""
    global _pool, _pool_size, _lock
    _pool, _pool_size, _lock = None, 0, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def parallel_for(work: Callable[[int, int], None], n_items: int, n_values: int) -> None:
    """Run work(start, end) over the items 0 … n_items−1, cut into one range per thread: the
    calling thread runs the first range itself while the pool's workers run the others.

    `work` must release the GIL (the compiled loops do) and write only the outputs of its own
    items. n_values, roughly how many values the whole job reads and writes, decides whether
    threads are worth starting at all."""
    threads = min(get_num_threads(), n_items)
    if threads <= 1 or n_values < SMALL_JOB:
        work(0, n_items)
        return
    bounds = [n_items * k // threads for k in range(threads + 1)]
    pool = _get_pool(get_num_threads() - 1)     # one size for every job: the pool is kept
    futures = [pool.submit(work, bounds[k], bounds[k + 1]) for k in range(1, threads)]
    try:
        work(bounds[0], bounds[1])
    finally:
        for future in futures:
            future.result()   # waits (asleep), and re-raises what a range raised
