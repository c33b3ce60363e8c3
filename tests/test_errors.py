"""Bad input gets a clear error naming the argument, the value and what was expected --
never a wrong answer.  One place for the issue's list: wrong rank or channel count into
Conv2d/Linear, non-integer or out-of-range labels into cross_entropy, a kernel or stride
larger than the padded input, NaN in a batch passed to fit (in test_train.py)."""

import numpy as np
import pytest

from minicompress.nn import MLP, Conv2d, ConvNet, Linear, MaxPool2d, cross_entropy
from minicompress.nn import functional as F
from minicompress.nn.models import LeNet300_100

IMAGES = np.zeros((2, 1, 28, 28), np.float32)


# ----------------------------------------------------------------------------- Conv2d / Linear
@pytest.mark.parametrize("x, match", [
    (np.zeros((1, 28, 28), np.float32),
     r"input must be 4-D \(N, C, H, W\); got shape \(1, 28, 28\) \(3-D\); add the batch dimension"),
    (np.zeros((28, 28), np.float32), r"input must be 4-D .* \(2-D\)"),
    (np.zeros((2, 3, 28, 28), np.float32),
     r"input has 3 channels \(shape \(2, 3, 28, 28\)\) but the layer expects 1"),
])
def test_conv2d_wrong_rank_or_channels(x, match):
    with pytest.raises(ValueError, match=match):
        Conv2d(1, 16, 3)(x)


@pytest.mark.parametrize("x, match", [
    (IMAGES, r"input must be 2-D \(N, in_features\); got shape \(2, 1, 28, 28\) \(4-D\); flatten it first"),
    (np.zeros(784, np.float32), r"input must be 2-D .*\(784,\) \(1-D\)"),
    (np.zeros((2, 785), np.float32),
     r"input has 785 features \(shape \(2, 785\)\) but the layer expects 784"),
])
def test_linear_wrong_rank_or_features(x, match):
    with pytest.raises(ValueError, match=match):
        Linear(784, 10)(x)


def test_layer_input_must_be_an_array():
    with pytest.raises(TypeError, match="input must be a numpy array; got list"):
        Linear(2, 2)([[1.0, 2.0]])


def test_models_name_the_layer_that_refuses():
    with pytest.raises(ValueError, match=r"Conv2d\(1, 16, kernel_size=\(3, 3\).*3 channels"):
        ConvNet()(np.zeros((2, 3, 28, 28), np.float32))
    with pytest.raises(ValueError, match=r"Linear\(784, 300, bias=True\): input has 729 features"):
        LeNet300_100()(np.zeros((2, 1, 27, 27), np.float32))


@pytest.mark.parametrize("fn, match", [
    (lambda: F.conv2d_forward(np.zeros((1, 28, 28)), np.zeros((2, 1, 3, 3)), None), r"x must be a 4-D array"),
    (lambda: F.conv2d_forward(np.zeros((1, 1, 5, 5)), np.zeros((2, 3, 3)), None), r"w must be a 4-D array"),
    (lambda: F.conv2d_forward(np.zeros((1, 2, 5, 5)), np.zeros((4, 1, 3, 3)), None),
     r"x has 2 input channels but weight expects 1"),
    (lambda: F.conv2d_forward(np.zeros((1, 1, 5, 5)), np.zeros((4, 1, 3, 3)), np.zeros(3)),
     r"b must have shape \(4,\)"),
    (lambda: F.linear_forward(np.zeros((2, 3)), np.zeros((4, 5)), None), r"x has 3 features .* w expects 5"),
    (lambda: F.max_pool2d_forward(np.zeros((4, 4))), r"x must be a 4-D array"),
])
def test_functional_checks_shapes(fn, match):
    with pytest.raises(ValueError, match=match):
        fn()


# ----------------------------------------------------------------------------- sizes
@pytest.mark.parametrize("fn, match", [
    (lambda: Conv2d(1, 1, 5)(np.zeros((1, 1, 4, 4))),
     r"kernel size 5 is larger than the padded height size 4 \(size 4 \+ 2\*padding 0\)"),
    (lambda: Conv2d(1, 1, (1, 5), padding=1)(np.zeros((1, 1, 4, 2))),
     r"kernel size 5 is larger than the padded width size 4 \(size 2 \+ 2\*padding 1\)"),
    (lambda: Conv2d(1, 1, 1, stride=5)(np.zeros((1, 1, 4, 4))),
     r"stride 5 is larger than the padded height size 4"),
    (lambda: MaxPool2d(2)(np.zeros((1, 1, 1, 8))), r"kernel size 2 is larger than the padded height size 1"),
    (lambda: MaxPool2d(2, stride=9)(np.zeros((1, 1, 8, 8))),
     r"stride 9 is larger than the padded height size 8"),
    (lambda: F.im2col(np.zeros((1, 1, 2, 2)), 3, 3),
     r"kernel size 3 is larger than the padded height size 2"),
])
def test_kernel_or_stride_larger_than_the_padded_input(fn, match):
    with pytest.raises(ValueError, match=match):
        fn()


def test_a_kernel_that_just_fits_is_fine():
    # the edge of the rule: padded size == kernel size == stride gives one output pixel
    out = Conv2d(1, 1, 4, stride=4, padding=1)(np.zeros((1, 1, 2, 2)))
    assert out.shape == (1, 1, 1, 1)


@pytest.mark.parametrize("make, error, match", [
    (lambda: Conv2d(0, 4, 3), ValueError, "in_channels must be >= 1; got 0"),
    (lambda: Conv2d(1, 4, 3, stride=0), ValueError, "stride must be >= 1; got 0"),
    (lambda: Conv2d(1, 4, 3, padding=-1), ValueError, "padding must be >= 0; got -1"),
    (lambda: Conv2d(1, 4, 2.5), TypeError, r"kernel_size must be an integer; got 2.5"),
    (lambda: Linear(784.0, 10), TypeError, r"in_features must be an integer; got 784.0"),
    (lambda: Linear(True, 10), TypeError, r"in_features must be an integer; got True"),
    (lambda: MaxPool2d(0), ValueError, "kernel_size must be >= 1; got 0"),
    (lambda: Conv2d(1, 4, (3, 3, 3)), ValueError,
     r"kernel_size must be an int or a pair \(kh, kw\); got \(3, 3, 3\)"),
    (lambda: F.im2col(np.zeros((1, 1, 4, 4)), 0, 2), ValueError, "kernel size must be >= 1; got 0"),
    (lambda: MaxPool2d(2)(np.zeros((4, 4))), ValueError,
     r"MaxPool2d\(kernel_size=2, stride=2\): input must be 4-D"),
    (lambda: MaxPool2d(2)([[1.0]]), TypeError, "input must be a numpy array; got list"),
    (lambda: ConvNet(channels=0), ValueError, "channels must be >= 1; got 0"),
    (lambda: MLP([784]), ValueError, r"sizes needs at least an input and an output size; got \[784\]"),
    (lambda: Linear(2, 2, rng=np.random.RandomState(0)), TypeError,
     "rng must be a numpy Generator or an int seed"),
])
def test_constructor_arguments_are_validated(make, error, match):
    with pytest.raises(error, match=match):
        make()


# ----------------------------------------------------------------------------- cross-entropy
@pytest.mark.parametrize("labels, error, match", [
    (np.array([0.0, 1.0]), TypeError,
     r"labels must be integer class indices; got dtype float64. Convert with labels.astype\(int\)"),
    (np.array([True, False]), TypeError, "labels must be integer class indices; got dtype bool"),
    (np.array([0, 3]), ValueError, r"labels must lie in \[0, 3\) for 3 classes; got values from 0 to 3"),
    (np.array([-1, 2]), ValueError, r"labels must lie in \[0, 3\) .* from -1 to 2"),
    (np.array([0, 1, 2]), ValueError, r"labels must have shape \(2,\) to match the logits; got \(3,\)"),
    (np.array([[0], [1]]), ValueError, r"labels must have shape \(2,\) .* got \(2, 1\)"),
])
def test_cross_entropy_refuses_bad_labels(labels, error, match):
    with pytest.raises(error, match=match):
        cross_entropy(np.zeros((2, 3)), labels)


def test_cross_entropy_refuses_bad_logits():
    with pytest.raises(ValueError, match=r"logits must be a 2-D array; got shape \(3,\)"):
        cross_entropy(np.zeros(3), np.array([0]))
    with pytest.raises(ValueError, match="empty batch"):
        cross_entropy(np.zeros((0, 3)), np.zeros(0, dtype=int))
    with pytest.raises(TypeError, match="logits must be a numeric array"):
        cross_entropy(np.array([["a", "b"]]), np.array([0]))
