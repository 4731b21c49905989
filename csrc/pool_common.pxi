# What the pooling modules share: csrc/max_pool.pyx, csrc/avg_pool.pyx and csrc/upsample.pyx
# each `include` this file (Cython pastes it in; it is not a module of its own).
#
# - the argument checks every Python entry point runs before a loop starts: no argument can make
#   a loop read or write outside its arrays, and a bad one raises ValueError/TypeError naming it;
# - the thread pool the fast loops run on.

import numpy as np

cimport numpy as cnp
from cython cimport floating
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
# Threads of the fast path: ranges of (n, c) planes handed to the pool that every compiled kernel
# shares (tinygrad_edu/threads.py); each range runs without the GIL
# ---------------------------------------------------------------------------------------------
from tinygrad_edu.threads import parallel_for
