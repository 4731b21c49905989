"""Builds the compiled kernels: every csrc/NAME.pyx becomes the module tinygrad_edu._C.NAME.

A .pyx file that needs plain C next to it names it in its header
(`# distutils: sources = csrc/NAME_impl.c`). No OpenMP: the kernels release the GIL and run on
the one pool of threads in tinygrad_edu/threads.py, so the build needs only a C compiler.
"""

import os
from glob import glob

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))


class BuildExt(build_ext):
    def build_extensions(self):
        for ext in self.extensions:
            ext.extra_compile_args += ["-O3"]
        super().build_extensions()


def extensions():
    exts = []
    for pyx in sorted(glob(os.path.join("csrc", "*.pyx"))):
        name = os.path.splitext(os.path.basename(pyx))[0]
        exts.append(Extension(
            f"tinygrad_edu._C.{name}", [pyx],
            include_dirs=[np.get_include(), "csrc"],
            define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        ))
    return cythonize(exts, language_level=3, compiler_directives={"embedsignature": True})


os.chdir(HERE)  # csrc/ paths are relative to this file
setup(ext_modules=extensions(), cmdclass={"build_ext": BuildExt})
