"""tinygrad_edu.optim, as torch.optim: optimizers with PyTorch's update equations
(optimizers.py) and learning-rate schedulers (lr_scheduler.py).

    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=30, gamma=0.1)
"""

from . import lr_scheduler
from .lr_scheduler import StepLR
from .optimizers import SGD, Adagrad, Adam, AdamW, Optimizer, RMSprop

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "StepLR", "lr_scheduler"]
