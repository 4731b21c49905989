# What the pooling modules share: csrc/max_pool.pyx, csrc/avg_pool.pyx and csrc/upsample.pyx
# each `include` this file (Cython pastes it in; it is not a module of its own).
#
# - the argument checks every Python entry point runs before a loop starts: no argument can make
#   a loop read or write outside its arrays, and a bad one raises ValueError/TypeError naming it;
# - how many threads a fast-path loop uses.

import os

import numpy as np

cimport numpy as cnp
from cython cimport floating
from cython.parallel cimport prange
from libc.string cimport memset, memcpy

cnp.import_array()

ctypedef cnp.int64_t index_t


# ---------------------------------------------------------------------------------------------
# Argument checks
# ---------------------------------------------------------------------------------------------
def _check_array(name, a, ndim):
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{name} must be a numpy array, got {type(a).__name__}")
    if a.dtype != np.float32 and a.dtype != np.float64:
        raise TypeError(f"{name} must be float32 or float64, got {a.dtype} (shape {a.shape})")
    if a.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions, got shape {a.shape}")
    if not a.flags.c_contiguous:
        raise ValueError(f"{name} of shape {a.shape} must be C-contiguous")


def _check_window(kernel, stride, padding, dilation=(1, 1)):
    for label, pair, low in (("kernel_size", kernel, 1), ("stride", stride, 1),
                             ("padding", padding, 0), ("dilation", dilation, 1)):
        if len(pair) != 2 or any(int(v) < low for v in pair):
            raise ValueError(f"{label} must be two integers ≥ {low}, got {tuple(pair)}")


def _check_sizes(label, sizes):
    if len(sizes) != 2 or any(int(v) < 1 for v in sizes):
        raise ValueError(f"{label} must be two integers ≥ 1, got {tuple(sizes)}")
    return int(sizes[0]), int(sizes[1])


# ---------------------------------------------------------------------------------------------
# Threads of the fast path: one (n, c) plane per task, planes handed out across the cores by
# OpenMP's prange (serial in a build without OpenMP)
# ---------------------------------------------------------------------------------------------
def _default_threads():
    """OMP_NUM_THREADS if set, else the CPUs this process may run on."""
    try:
        return max(1, int(os.environ.get("OMP_NUM_THREADS", "").split(",")[0]))
    except ValueError:
        pass
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


cdef int MAX_THREADS = _default_threads()
# What a big loop uses: every CPU (or what force_threads set). Idle OpenMP threads sleep rather
# than spin (tinygrad_edu sets OMP_WAIT_POLICY=PASSIVE), so two threads are no slower than one
# even when another process keeps a core busy.
cdef int THREADS = MAX_THREADS
# Planes are handed out in chunks of this many as threads become free ("dynamic"), so a thread
# that the OS pauses does not hold back a fixed half of the work.
cdef Py_ssize_t CHUNK = 8


def force_threads(n=None):
    """Make this module's fast path use n threads for big jobs (None: every CPU again)."""
    global THREADS
    THREADS = MAX_THREADS if n is None else max(1, int(n))


def fast_threads():
    """The number of threads this module's fast path uses for big jobs."""
    return THREADS


cdef inline int threads_for(Py_ssize_t planes, Py_ssize_t plane_size) noexcept nogil:
    """One thread for small jobs (starting threads costs more than it saves), else THREADS."""
    return 1 if planes * plane_size < 65536 else THREADS
