"""Builds the compiled kernels: every csrc/NAME.pyx becomes the module tinygrad_edu._C.NAME.

A .pyx file that needs plain C next to it names it in its header
(`# distutils: sources = csrc/NAME_impl.c`). OpenMP is used when the compiler supports it and
left out (the loops then run on one thread) when it does not.
"""

import os
import sys
import tempfile
from glob import glob

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))


def compiler_supports_openmp(compiler) -> bool:
    """Compile and link a tiny OpenMP program; True when that works."""
    with tempfile.TemporaryDirectory() as tmp:
        source = os.path.join(tmp, "probe.c")
        with open(source, "w") as f:
            f.write("#include <omp.h>\nint main(void){return omp_get_max_threads() > 0 ? 0 : 1;}\n")
        try:
            objects = compiler.compile([source], output_dir=tmp, extra_postargs=["-fopenmp"])
            compiler.link_executable(objects, "probe", output_dir=tmp, extra_postargs=["-fopenmp"])
        except Exception:  # any compile or link failure: build without OpenMP
            return False
    return True


class BuildExt(build_ext):
    def build_extensions(self):
        use_openmp = sys.platform != "win32" and compiler_supports_openmp(self.compiler)
        print(f"tinygrad_edu: building with OpenMP: {use_openmp}")
        for ext in self.extensions:
            ext.extra_compile_args += ["-O3"]
            if use_openmp:
                ext.extra_compile_args += ["-fopenmp"]
                ext.extra_link_args += ["-fopenmp"]
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
