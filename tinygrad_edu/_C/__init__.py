"""Compiled kernels, one module per file of `csrc/` (built by setup.py with Cython).

`from tinygrad_edu._C import index_add` imports the module built from `csrc/index_add.pyx`.
The plain-numpy version of every kernel, the oracle the tests compare against, lives in
`tinygrad_edu/reference/`.
"""
