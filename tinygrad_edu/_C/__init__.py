"""Compiled kernels, one module per file of `csrc/` (built by setup.py with Cython).

`from tinygrad_edu._C import index_add` imports the module built from `csrc/index_add.pyx`:

    conv       conv2d (and through it conv1d, conv_transpose2d)    csrc/conv.pyx
    max_pool   max_pool2d                                          csrc/max_pool.pyx
    avg_pool   avg_pool2d                                          csrc/avg_pool.pyx
    upsample   interpolate / upsample_nearest2d (mode 'nearest')   csrc/upsample.pyx
    index_add  the scatter-add of indexing and embedding           csrc/index_add.pyx

The three pooling modules share their argument checks and thread setting through
`csrc/pool_common.pxi` (included in each, not a module of its own). The plain-numpy version of
every kernel, the oracle the tests compare against, lives in `tinygrad_edu/reference/`.
"""
