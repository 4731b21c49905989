"""tinygrad_edu: a readable reverse-mode autograd engine with compiled CNN kernels.

    import tinygrad_edu as tg
    x = tg.Tensor([[1.0, 2.0]], requires_grad=True)
    loss = (x @ x.T).sum()
    loss.backward()          # x.grad == 2x
"""

# Importing changes nothing in the process: no environment variable, no allocator setting.
# What does is opt-in: set_num_threads(n) (threads.py) and keep_freed_memory() (_allocator.py).
import numpy as _np

from ._allocator import keep_freed_memory
from ._state import manual_seed
from .backend import get_backend, set_backend, use_backend
from .draw import draw_graph, to_dot
from .explain import BackwardStep, BackwardTrace, explain, trace_backward
from .function import Function
from .grad_mode import detect_anomaly, enable_grad, is_grad_enabled, no_grad
from .grad_mode import no_grad as inference_mode  # (PyTorch's faster no_grad; the same here)
from .gradcheck import GradcheckError, gradcheck
from .gradient_table import GradientRow, format_gradient_table, gradient_table
from .tensor import Tensor, cat, stack, where
from .threads import get_num_threads, set_num_threads
from .scratch import release_scratch_memory

# The library on top of the engine (imported after it: they build on Tensor and Function).
from . import autograd, data, datasets, nn, optim, utils  # noqa: E402
from . import features  # noqa: E402  (hog: classic image features built from conv2d)
from .devices import (accelerator, backends, cuda, device, get_default_device,  # noqa: E402
                      set_default_device)
from .torch_namespace import *  # noqa: E402,F401,F403 - torch.exp(x), torch.sum(x, dim=1), …
from .nn.summary import summary  # noqa: E402
from .serialize import load, save  # noqa: E402
from .train import evaluate, fit  # noqa: E402

__version__ = "0.1.0"

# dtypes under PyTorch's names (they are numpy's dtypes)
float32 = _np.float32
float64 = _np.float64
float16 = _np.float16
int32 = _np.int32
int64 = _np.int64
bool_ = _np.bool_
float = float32  # noqa: A001 - as torch.float
double = float64
long = int64
uint8, int8, int16, half = _np.uint8, _np.int8, _np.int16, _np.float16
int = int32  # noqa: A001 - as torch.int
bool = _np.bool_  # noqa: A001 - as torch.bool

# Factories as functions too, as torch.zeros(...) (tensor, linspace, randint, from_numpy, …:
# torch_namespace.py)
zeros, ones, full, eye, arange = Tensor.zeros, Tensor.ones, Tensor.full, Tensor.eye, Tensor.arange
randn, rand, uniform = Tensor.randn, Tensor.rand, Tensor.uniform
zeros_like, ones_like, full_like = Tensor.zeros_like, Tensor.ones_like, Tensor.full_like
randn_like, rand_like = Tensor.randn_like, Tensor.rand_like
