# cython: language_level=3, boundscheck=False, wraparound=False
"""Scatter-add: the backward of gathering rows by index (x[idx], embedding lookup).

Forward gathered out[k] = x[idx[k]]; backward adds each row of g back where it came from:

    grad[idx[k], :] += g[k, :]      for k = 0 .. K-1   (a row picked twice gets both)

numpy's general tool for this, np.add.at, handles any index but is slow for the common case of
an integer vector indexing the first axis; this loop is that case. Other indexes fall back to
np.add.at.
"""

import numpy as np

cimport numpy as cnp
from cython cimport floating

cnp.import_array()


cdef void _add_rows(floating[:, ::1] grad, const cnp.int64_t[::1] idx,
                    const floating[:, ::1] g) noexcept nogil:
    """grad[idx[k], :] += g[k, :]  (idx already checked to be in range)."""
    cdef Py_ssize_t k, j, row
    cdef Py_ssize_t width = grad.shape[1]
    for k in range(idx.shape[0]):
        row = idx[k]
        for j in range(width):
            grad[row, j] += g[k, j]


def scatter_add(cnp.ndarray grad, index, cnp.ndarray g):
    """grad[index] += g with repeated positions summed (in place), like np.add.at."""
    if not (isinstance(index, np.ndarray) and index.ndim == 1 and index.dtype.kind in "iu"
            and grad.ndim >= 1 and grad.dtype == g.dtype and grad.dtype in (np.float32, np.float64)
            and grad.flags.c_contiguous):
        np.add.at(grad, index, g)
        return
    rows = grad.shape[0]
    idx = np.ascontiguousarray(index, dtype=np.int64)
    if idx.size and (idx.min() < -rows or idx.max() >= rows):
        raise IndexError(f"index out of range for axis 0 of size {rows}")
    idx = np.where(idx < 0, idx + rows, idx)
    width = grad.size // rows if rows else 0
    g2 = np.ascontiguousarray(g).reshape(idx.shape[0], width)
    grad2 = grad.reshape(rows, width)  # a view: grad is contiguous
    if grad.dtype == np.float32:
        _add_rows[float](grad2, idx, g2)
    else:
        _add_rows[double](grad2, idx, g2)
