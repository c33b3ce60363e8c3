"""Bad input gets a clear error naming the argument, the value and what was expected --
never a wrong answer.  Wrong rank or channel count into Conv2d/Linear, non-integer or
out-of-range labels into cross_entropy, a kernel or stride larger than the padded input,
NaN in a batch passed to fit (in test_train.py); then the numbered worst cases of the
bad-input issue ("case N"), one test each, and the shared argument checks they rely on."""

import numpy as np
import pytest

from minicompress import distill, lowrank, metrics
from minicompress.lowrank import snippet
from minicompress.lowrank.tucker import tucker_error
from minicompress.nn import MLP, SGD, Conv2d, ConvNet, Linear, MaxPool2d, Sequential, cross_entropy, fit
from minicompress.nn import _checks as C
from minicompress.nn import functional as F
from minicompress.nn.gradcheck import numerical_gradient, relative_error
from minicompress.nn.models import LeNet300_100
from minicompress.nn.module import check_module
from minicompress.prune import iterative_prune
from minicompress.quantize import calibrate, quantize_affine
from minicompress.quantize.affine import affine_params
from minicompress.quantize.fixedpoint import zero_point_matmul

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


# ----------------------------------------------------------------------------- the cases
RNG = np.random.default_rng(0)
X8 = RNG.standard_normal((8, 4)).astype(np.float32)
Y8 = RNG.integers(0, 3, 8)


def two_layers(seed=0):
    return Sequential(a=Linear(4, 3, rng=seed), b=Linear(3, 3, rng=seed + 1))


def same_params(model, state):
    return all(np.array_equal(p, state[k]) for k, p in model.named_parameters())


def _with_inf(shape):
    W = np.ones(shape)
    W.flat[0] = np.inf
    return W


@pytest.mark.parametrize("call", [
    lambda: lowrank.svd(_with_inf((4, 3))),
    lambda: lowrank.svd_truncate(_with_inf((4, 3)), 2),
    lambda: lowrank.hosvd(_with_inf((2, 3, 2)), [1, 1, 1]),
    lambda: lowrank.hooi(_with_inf((2, 3, 2)), [1, 1, 1]),
    lambda: lowrank.cp_als(_with_inf((2, 3, 2)), 1),
    lambda: snippet.text_snippet_svd(_with_inf((4, 3))),  # np.linalg.svd never returns on this
    lambda: snippet.snippet_shapes(_with_inf((2, 2, 3, 3))),
    lambda: snippet.kernelwise_svd_truncate(_with_inf((2, 2, 3, 3)), 1),
])
def test_case_01_nonfinite_input_is_refused_before_lapack(call):
    match = r"contains 1 non-finite value\(s\) \(NaN or inf\), the first at index \(0,"
    with pytest.raises(ValueError, match=match):
        call()


def test_case_01_a_layer_with_an_inf_weight_is_refused_naming_it():
    layer = Linear(4, 3)
    layer.params["weight"][1, 2] = np.inf
    match = r"the weight of Linear\(4, 3, bias=True\) contains 1 non-finite .*\(1, 2\)"
    with pytest.raises(ValueError, match=match):
        lowrank.factorize_linear(layer, 1)


def test_case_02_accuracy_checks_labels_as_evaluate_does():
    from minicompress.nn import evaluate

    model = two_layers()
    pred = model(X8).argmax(axis=1)
    assert metrics.accuracy(model, X8, pred) == 1.0 == evaluate(model, X8, pred)[1]
    for bad, error, match in [
        (pred[:, None], ValueError, r"y must have shape \(8,\) to match the logits; got \(8, 1\)"),
        (pred + 3, ValueError, r"y must lie in \[0, 3\) for 3 classes"),
        (pred.astype(float), TypeError, "y must be integer class indices; got dtype float64"),
    ]:
        for fn in (metrics.accuracy, evaluate):
            with pytest.raises(error, match=match):
                fn(model, X8, bad)


def test_case_03_an_update_that_diverges_on_the_last_step_is_reported():
    model = two_layers()
    X = 100 * X8  # |gradients| up to 15: lr * g overflows float32 on the one and only step
    with np.errstate(over="ignore"), pytest.raises(FloatingPointError,
                       match=r"epoch 1, step 1: after the update, parameter 'a.weight' holds \d+ non-finite"):
        fit(model, X, Y8, epochs=1, batch_size=8, optimizer=SGD(model, lr=1e38), rng=0, verbose=False)


def test_case_04_an_optimizer_built_on_another_model_is_refused():
    model, other = two_layers(), two_layers(1)
    before = model.state_dict()
    match = r"optimizer does not hold this model's parameters: it updates 4 array\(s\), 0 of them"
    with pytest.raises(ValueError, match=match):
        fit(model, X8, Y8, epochs=1, batch_size=4, optimizer=SGD(other, 0.1), rng=0, verbose=False)
    with pytest.raises(ValueError, match=match):
        distill.distill(two_layers(2), model, X8, Y8, T=2.0, alpha=0.5, epochs=1, batch_size=4,
                        optimizer=SGD(other, 0.1), rng=0)
    with pytest.raises(ValueError, match=r"updates 2 array\(s\), 2 of them among the model's 4"):
        fit(model, X8, Y8, epochs=1, batch_size=4, optimizer=SGD(model.a, 0.1), rng=0, verbose=False)
    with pytest.raises(TypeError, match="optimizer must be an optimizer such as SGD"):
        fit(model, X8, Y8, epochs=1, batch_size=4, optimizer="sgd", rng=0, verbose=False)
    assert same_params(model, before)


@pytest.mark.parametrize("bad_key", ["a.weight", "a.bias", "b.weight", "b.bias"])
def test_case_05_a_failed_load_leaves_the_model_as_it_was(bad_key):
    model = two_layers()
    before = model.state_dict()
    state = {k: v + 1 for k, v in before.items()}
    state[bad_key] = np.full(before[bad_key].shape, np.nan)
    with pytest.raises(ValueError, match=rf"state\['{bad_key}'\] contains"):
        model.load_state_dict(state)
    assert same_params(model, before)


@pytest.mark.parametrize("value, error, match", [
    (np.array([np.nan, 1, 2]), ValueError, r"state\['b.bias'\] contains 1 non-finite value\(s\)"),
    (np.array([1.0, -np.inf, 2]), ValueError, r"contains 1 non-finite .* at index \(1,\)"),
    (np.array(["1.5", "2", "3"]), TypeError, r"state\['b.bias'\] must be a real floating array .* <U3"),
    (np.array([None, None, None]), TypeError, "must be a real floating array .* object"),
    ([None, None, None], TypeError, "must be a real floating array .* object"),
    (np.array([1 + 2j, 3j, 0]), TypeError, "must be a real floating array .* complex128"),
    (np.array([1, 2, 3]), TypeError, "must be a real floating array .* int64"),
    (np.array([1e300, 0, 0]), ValueError, r"1 value\(s\) beyond the float32 range .* 1e\+300 at index"),
    (np.zeros(4), ValueError, r"shape mismatch for key 'b.bias': model has \(3,\), state has \(4,\)"),
])
def test_case_06_load_state_dict_loads_only_finite_real_floats(value, error, match):
    model = two_layers()
    before = model.state_dict()
    state = dict(before, **{"b.bias": value})
    with pytest.raises(error, match=match):
        model.load_state_dict(state)
    assert same_params(model, before)
    with pytest.raises(TypeError, match="state must be a dict name -> array"):
        model.load_state_dict(list(before.items()))


@pytest.mark.parametrize("make", [
    lambda a: a.T,                 # transposed: x.reshape(-1) is a copy
    lambda a: a[::2, :3],          # step slice: a copy again
    lambda a: a[:, ::2],           # a slice that reshape(-1) can view
    lambda a: np.asfortranarray(a),
])
def test_case_09_numerical_gradient_of_a_view(make):
    x = make(np.random.default_rng(0).standard_normal((4, 6)))
    before = x.copy()
    g = numerical_gradient(lambda: 0.5 * float(np.sum(x * x)), x)
    assert relative_error(g, x) < 1e-8  # d(x^2/2)/dx = x
    np.testing.assert_array_equal(x, before)


def test_case_10_tiny_temperatures_are_computed_in_float64():
    s = np.array([[1.0, 3.0, 2.0], [0.5, -1.0, 0.0]], np.float32)
    t = np.array([[2.0, 1.0, 0.0], [0.0, 0.0, 1.0]], np.float32)
    for dtype, T in ((np.float32, 1e-300), (np.float16, 1e-8)):
        z = s.astype(dtype)
        np.testing.assert_array_equal(distill.softmax(z, T=T), np.eye(3, dtype=dtype)[[1, 0]])
        assert distill.softmax(z, T=T).dtype == dtype
    loss, d = distill.kd_loss(s, t, None, T=1e-300, alpha=0.0)
    assert np.isfinite(loss) and 0 <= loss < 1e-299 and np.all(np.isfinite(d)) and d.dtype == np.float32
    student = two_layers()
    distill.distill(two_layers(5), student, X8, Y8, T=1e-300, alpha=0.5, epochs=2, batch_size=4,
                    optimizer=SGD(student, 0.1), rng=0)
    assert all(np.isfinite(p).all() for p in student.parameters())
    # a scale of 1e-8 in float16 is 0: the codes are computed in float64
    x16 = np.array([1e-8, -2e-8, 0.0], np.float16)
    np.testing.assert_array_equal(quantize_affine(x16, 1e-8, 128),
                                  np.rint(x16.astype(np.float64) / 1e-8) + 128)


@pytest.mark.parametrize("kwargs, match", [
    (dict(epochs=1, lr=-1.0), r"lr must be in \(0.0, inf\); got -1.0"),
    (dict(epochs=1, lr=0.1, batch_size=0), "batch_size must be >= 1; got 0"),
    (dict(epochs=-1, lr=0.1), "epochs must be >= 0; got -1"),
    (dict(epochs=1, lr=0.1, momentum=1.5), r"momentum must be in \[0.0, 1.0\); got 1.5"),
    (dict(epochs=1, lr=0.1, verbose="yes"), "verbose must be True or False; got 'yes'"),
])
def test_case_14_iterative_prune_checks_everything_before_pruning(kwargs, match):
    model = two_layers()
    before = model.state_dict()
    with pytest.raises((ValueError, TypeError), match=match):
        iterative_prune(model, X8, Y8, s_f=0.5, rounds=2, **kwargs)
    assert same_params(model, before)


@pytest.mark.parametrize("shape", [(4, 3), (3, 4), (1, 5), (5, 1), (3, 3)])
def test_case_15_full_svd_of_a_non_square_matrix(shape):
    W = np.random.default_rng(0).standard_normal(shape)
    U, s, Vt = lowrank.svd(W, full_matrices=True)
    k = min(shape)
    assert U.shape == (shape[0],) * 2 and Vt.shape == (shape[1],) * 2 and s.shape == (k,)
    np.testing.assert_allclose((U[:, :k] * s) @ Vt[:k], W, atol=1e-12)
    np.testing.assert_allclose(U.T @ U, np.eye(shape[0]), atol=1e-12)
    np.testing.assert_allclose(Vt @ Vt.T, np.eye(shape[1]), atol=1e-12)
    U1, s1, Vt1 = lowrank.svd(W)  # the singular pairs are the thin SVD's, signs included
    np.testing.assert_allclose(U[:, :k], U1, atol=1e-12)
    np.testing.assert_allclose(Vt[:k], Vt1, atol=1e-12)
    with pytest.raises(TypeError, match="full_matrices must be True or False; got 1"):
        lowrank.svd(W, full_matrices=1)


def test_case_16_scale_invariant_results_at_extreme_scales():
    # shares 1 : 1 : 0.01 of 2.01: two values keep 99.5%
    assert lowrank.rank_for_energy(np.array([1e200, 1e200, 1e199]), 0.999) == 3
    assert lowrank.rank_for_energy(np.array([1e200, 1e200, 1e199]), 0.99) == 2
    assert lowrank.rank_for_energy(np.array([1e-200, 1e-201]), 0.99) == 1
    rng = np.random.default_rng(0)
    a, b, c = rng.standard_normal((3, 3))
    T = np.einsum("i,j,k->ijk", a, b, c)
    w1 = lowrank.cp_als(T, 1)[0]
    for scale in (1e-200, 1e200):
        np.testing.assert_allclose(lowrank.cp_als(T * scale, 1)[0], w1 * scale, rtol=1e-10)
    T = rng.standard_normal((3, 4, 2))
    core, factors = lowrank.hosvd(T, [2, 2, 1])
    err = tucker_error(T, core, factors)
    for scale in (1e-200, 1e160, 1e300):
        core_s, factors_s = lowrank.hooi(T * scale, [2, 2, 1], n_iter=0)
        assert tucker_error(T * scale, core_s, factors_s) == pytest.approx(err * scale, rel=1e-12)
    match = r"T must have at least one axis and one entry; got shape \(0, 3, 3\)"
    with pytest.raises(ValueError, match=match):
        lowrank.hosvd(np.zeros((0, 3, 3)), [1, 1, 1])
    with pytest.raises(ValueError, match=r"got shape \(3, 0\)"):
        lowrank.cp_als(np.zeros((3, 0)), 1)


def test_case_17_calibration_at_the_ends_of_the_float64_range():
    x = np.array([-1e308, 0.0, 1e308])
    for method in ("minmax", "percentile", "mse"):
        qp = calibrate(x, method, percentile=100.0)
        assert np.isfinite(qp.scale) and qp.scale > 0
        back = qp.scale * (quantize_affine(x, *qp).astype(np.float64) - qp.zero_point)
        assert np.all(np.abs(back - x) <= qp.scale / 2)
    match = r"the range \[lo, hi\] = \[0.0, 5e-324\] is too narrow for 256 codes"
    with pytest.raises(ValueError, match=match):
        affine_params(0, 5e-324)


def test_case_18_layers_refuse_integer_dtypes_and_non_bool_flags():
    for make in (lambda: Linear(3, 2, dtype=np.int8), lambda: Conv2d(1, 2, 3, dtype=np.int32)):
        match = r"dtype must be a floating dtype \(float16, float32 or float64\); got int"
        with pytest.raises(TypeError, match=match):
            make()
    with pytest.raises(TypeError, match="dtype must be a floating dtype such as np.float32; got None"):
        Linear(3, 2, dtype=None)
    with pytest.raises(TypeError, match="bias must be True or False; got 'no'"):
        Linear(3, 2, bias="no")
    with pytest.raises(TypeError, match="bias must be True or False; got 0"):
        Conv2d(1, 2, 3, bias=0)
    assert Linear(3, 2, dtype=np.float16).params["weight"].dtype == np.float16


def test_case_19_unfold_fold_and_khatri_rao_return_copies():
    T = np.asfortranarray(np.arange(24.0).reshape(2, 3, 4))  # mode 0 in F order: a reshape is a view
    for n in range(3):
        M = lowrank.unfold(T, n)
        assert not np.shares_memory(M, T)
        assert not np.shares_memory(lowrank.fold(M, n, T.shape), M)
    A = np.arange(6.0).reshape(3, 2)
    K = lowrank.khatri_rao([A])
    np.testing.assert_array_equal(K, A)
    assert K is not A and not np.shares_memory(K, A)


def test_case_20_no_zero_point_is_truncated_and_no_shape_is_broadcast():
    q1, q2 = np.ones((2, 3), np.uint8), np.ones((4, 3), np.int8)
    with pytest.raises(TypeError, match="z1 must be an integer; got 1.9"):
        zero_point_matmul(q1, 1.9, q2)
    with pytest.raises(TypeError, match="z2 must be an integer; got 1.9"):
        zero_point_matmul(q1, 1, q2, 1.9)
    with pytest.raises(TypeError, match="z2 must be an integer or an integer array .* float64"):
        zero_point_matmul(q1, 1, q2, np.full(4, 1.9))
    match = r"z1 must lie in the integer range \[qmin, qmax\] = \[0, 255\]; got 256"
    with pytest.raises(ValueError, match=match):
        zero_point_matmul(q1, 256, q2)
    match = r"analytic and numeric must have the same shape .* \(3,\) and \(2, 3\)"
    with pytest.raises(ValueError, match=match):
        relative_error(np.ones(3), np.ones((2, 3)))


# ----------------------------------------------------------------------------- the shared checks
@pytest.mark.parametrize("call, error, match", [
    (lambda: C.check_bool("no", "per_channel"), TypeError,
     "per_channel must be True or False; got 'no' \\(str\\)"),
    (lambda: C.check_bool(1, "flag"), TypeError, "flag must be True or False; got 1 \\(int\\)"),
    (lambda: check_module(None), TypeError,
     "model must be a minicompress Module .* got None \\(NoneType\\)"),
    (lambda: check_module("net", "teacher"), TypeError,
     "teacher must be a minicompress Module .* 'net' \\(str\\)"),
    (lambda: C.check_float_dtype(np.int16), TypeError, "dtype must be a floating dtype .* got int16"),
    (lambda: C.check_float_dtype("nonsense"), TypeError, "dtype must be a floating dtype such as np.float32"),
    (lambda: C.check_choice(3, "method", ("a", "b")), TypeError,
     "method must be one of \\('a', 'b'\\); got 3"),
    (lambda: C.check_choice("c", "method", ("a", "b")), ValueError, "method must be one of .* got 'c'"),
    (lambda: C.check_sequence(3, "modes", "ints"), TypeError, "modes must be a list or tuple of ints; got 3"),
    (lambda: C.check_ndarray([1.0], "X"), TypeError, "X must be a numpy array; got \\[1.0\\] \\(list\\)"),
    (lambda: C.check_array([[1.0], [1.0, 2.0]], "w"), TypeError,
     "w must be an array \\(or a rectangular list\\) of numbers; got \\[\\[1.0\\]"),
    (lambda: C.check_array(None, "w"), TypeError, "w must be an array of numbers; got None"),
    (lambda: C.check_float(-1.0, "lr", low=0.0, low_open=True), ValueError,
     "lr must be in \\(0.0, inf\\); got -1.0"),
    (lambda: C.check_callable(3, "loss"), TypeError, "loss must be a function; got 3"),
])
def test_shared_checks_name_the_argument_and_the_value(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_shared_checks_return_what_they_accept():
    assert C.check_bool(np.bool_(True), "f") is True
    assert C.check_float_dtype("float16") == np.float16
    assert C.check_sequence((1, 2), "modes") == [1, 2]
    x = np.zeros(3, np.float32)
    assert C.check_ndarray(x, "x") is x
