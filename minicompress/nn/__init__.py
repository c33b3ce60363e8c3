"""The autograd-free NN stack: pure functions, thin layers, models, optimisers, one loop."""

from . import functional
from .functional import cross_entropy, log_softmax, softmax
from .gradcheck import gradcheck_function, gradcheck_module, numerical_gradient, relative_error
from .layers import Conv2d, Flatten, Linear, MaxPool2d, Module, ReLU, Sequential
from .models import MLP, ConvNet, LeNet5, LeNet300_100
from .optim import SGD, Adam
from .train import evaluate, fit, minibatches, predict

__all__ = [
    "functional", "cross_entropy", "log_softmax", "softmax",
    "gradcheck_function", "gradcheck_module", "numerical_gradient", "relative_error",
    "Conv2d", "Flatten", "Linear", "MaxPool2d", "Module", "ReLU", "Sequential",
    "MLP", "ConvNet", "LeNet5", "LeNet300_100", "SGD", "Adam",
    "evaluate", "fit", "minibatches", "predict",
]
