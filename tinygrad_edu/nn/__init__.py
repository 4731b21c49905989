"""tinygrad_edu.nn: modules, layers, losses and initialisation with PyTorch's names.

    import tinygrad_edu.nn as nn
    import tinygrad_edu.nn.functional as F
    model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    loss = F.cross_entropy(model(x), y)
"""

from . import functional, init
from .activation import PReLU, RReLU
from .layers import (ELU, AvgPool2d, BasicBlock, BatchNorm1d, BatchNorm2d, Conv1d, Conv2d,
                     ConvTranspose2d, Dropout, Embedding, Flatten, Identity, LeakyReLU, Linear,
                     LogSoftmax, MaxPool2d, ReLU, Sigmoid, Softmax, Tanh, Upsample)
from .loss import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MSELoss, NLLLoss,
                   SmoothL1Loss)
from . import models
from .models import MLP, LeNet5, LeNet5Classic
from .module import Module, ModuleList, Parameter, Sequential
from .pooling import MaxUnpool2d, UpsamplingBilinear2d, UpsamplingNearest2d
from .rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
from .summary import summary

__all__ = [
    "functional", "init", "Module", "Parameter", "Sequential", "ModuleList",
    "Linear", "Conv1d", "Conv2d", "ConvTranspose2d", "MaxPool2d", "AvgPool2d", "Upsample",
    "MaxUnpool2d", "UpsamplingNearest2d", "UpsamplingBilinear2d",
    "Flatten", "Dropout", "BatchNorm1d", "BatchNorm2d", "Embedding", "Identity", "BasicBlock",
    "ReLU", "LeakyReLU", "PReLU", "RReLU", "ELU", "Sigmoid", "Tanh", "Softmax", "LogSoftmax",
    "RNN", "LSTM", "LSTMCell", "RNNCell", "GRU", "GRUCell",
    "CrossEntropyLoss", "NLLLoss", "MSELoss", "L1Loss", "SmoothL1Loss", "BCELoss",
    "BCEWithLogitsLoss", "LeNet5", "LeNet5Classic", "MLP", "models", "summary",
]
