"""Tests of minicompress.distill: softmax with temperature, the KD loss and its gradient, the
text's loss as written, jitter, and distill() on fit()."""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.special import rel_entr
from strategies import seeded_normal

from minicompress.distill import (
    KDLoss,
    distill,
    jitter,
    kd_loss,
    kd_loss_as_written,
    log_softmax,
    softmax,
)
from minicompress.nn import MLP, SGD, ConvNet, evaluate, fit, gradcheck_function, predict
from minicompress.nn.gradcheck import GRAD_TOL

temperatures = st.floats(0.5, 50.0)
alphas = st.floats(0.0, 1.0)


@st.composite
def logit_pairs(draw, max_n=4, max_c=8, scale=5.0):
    """(student, teacher, labels): float64 logits of one shape (N, C) and integer labels."""
    n, c = draw(st.integers(1, max_n)), draw(st.integers(2, max_c))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    s = scale * rng.standard_normal((n, c))
    t = scale * rng.standard_normal((n, c))
    return s, t, rng.integers(0, c, size=n)


# ----------------------------------------------------------------------------- softmax
def test_softmax_hand_case():
    # softmax([0, ln 3]) = [1/4, 3/4]; at T = 2 the logits [0, 2 ln 3] give the same.
    np.testing.assert_allclose(softmax(np.array([0.0, np.log(3)])), [0.25, 0.75])
    np.testing.assert_allclose(softmax(np.array([0.0, 2 * np.log(3)]), T=2), [0.25, 0.75])
    np.testing.assert_allclose(log_softmax(np.array([0.0, 2 * np.log(3)]), T=2), np.log([0.25, 0.75]))


@given(seeded_normal((3, 7)), st.floats(-1e3, 1e3), temperatures)
def test_softmax_rows_sum_to_one_and_ignore_a_row_constant(z, c, T):
    z = 4 * z
    p = softmax(z, T=T)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-12)
    shift = c * np.arange(1, 4)[:, None]  # a different constant for each row
    np.testing.assert_allclose(softmax(z + shift, T=T), p, atol=1e-9)
    np.testing.assert_allclose(log_softmax(z + shift, T=T), log_softmax(z, T=T), atol=1e-8)


@given(seeded_normal((2, 5)), temperatures)
def test_log_softmax_is_log_of_softmax(z, T):
    np.testing.assert_allclose(np.exp(log_softmax(z, T=T)), softmax(z, T=T), rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_is_stable_for_huge_logits(dtype):
    z = np.array([[1e4, 0.0, -1e4], [-1e4, -1e4, -1e4]], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow warning would fail the test
        p, logp = softmax(z, T=0.5), log_softmax(z, T=0.5)
    assert p.dtype == dtype and np.isfinite(logp).all()
    np.testing.assert_allclose(p, [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3]], atol=1e-7)
    np.testing.assert_allclose(logp[0], [0, -2e4, -4e4])


def test_temperature_flattens_towards_uniform():
    z = np.array([5.0, 1.0, -2.0])
    peaks = [softmax(z, T=T).max() for T in (1, 2, 4, 8, 20, 1e6)]
    assert all(a > b for a, b in zip(peaks, peaks[1:]))
    np.testing.assert_allclose(softmax(z, T=1e6), 1 / 3, atol=1e-5)


# ----------------------------------------------------------------------------- kd_loss: values
def test_kd_loss_hand_case():
    # N = 1, C = 2, T = 1: teacher p = [1/4, 3/4], student q = [1/2, 1/2].
    s, t = np.array([[0.0, 0.0]]), np.array([[0.0, np.log(3)]])
    kl = 0.25 * np.log(0.25 / 0.5) + 0.75 * np.log(0.75 / 0.5)  # 0.1308...
    loss, d = kd_loss(s, t, None, T=1, alpha=0)
    assert loss == pytest.approx(kl, rel=1e-12)
    np.testing.assert_allclose(d, [[0.25, -0.25]])  # T (q - p) / N
    # alpha = 1 is plain cross-entropy on the label: -log(1/2), gradient q - onehot
    loss, d = kd_loss(s, t, np.array([1]), T=3, alpha=1)
    assert loss == pytest.approx(np.log(2))
    np.testing.assert_allclose(d, [[0.5, -0.5]])
    # alpha = 1/2 at T = 2: the average of half the CE and half of 4 * KL at T = 2
    loss, _ = kd_loss(s, t, np.array([1]), T=2, alpha=0.5)
    p2 = softmax(t[0], T=2)
    assert loss == pytest.approx(0.5 * np.log(2) + 0.5 * 4 * rel_entr(p2, [0.5, 0.5]).sum())


@given(logit_pairs(), temperatures, alphas)
def test_kd_loss_matches_an_independent_formula(pair, T, alpha):
    s, t, y = pair
    hard = -np.log(softmax(s)[np.arange(len(y)), y]).mean()
    soft = T**2 * rel_entr(softmax(t, T=T), softmax(s, T=T)).sum(axis=1).mean()
    loss, _ = kd_loss(s, t, y, T=T, alpha=alpha)
    assert loss == pytest.approx(alpha * hard + (1 - alpha) * soft, rel=1e-9, abs=1e-12)


@given(logit_pairs(), temperatures, st.floats(-1e3, 1e3))
def test_soft_loss_is_nonnegative_and_zero_only_for_equal_logits(pair, T, c):
    s, t, _ = pair
    assert kd_loss(s, t, None, T=T, alpha=0)[0] >= 0
    loss, d = kd_loss(s, s.copy(), None, T=T, alpha=0)
    assert loss == 0.0 and not d.any()  # bit-equal logits: exactly zero
    loss, d = kd_loss(s, s + c, None, T=T, alpha=0)  # equal up to a per-row constant
    assert abs(loss) < 1e-9 and np.abs(d).max() < 1e-9
    # not equal up to a constant: strictly positive
    bump = np.zeros_like(s)
    bump[:, 0] = 1.0
    assert kd_loss(s, s + bump, None, T=T, alpha=0)[0] > 0


# ----------------------------------------------------------------------------- kd_loss: gradient
def _as_function(loss_fn, **kw):
    """Wrap a (loss, dlogits) function as the forward/backward pair gradcheck_function wants."""

    def forward(s, t, y):
        loss, d = loss_fn(s, t, y, **kw)
        return np.array([loss]), d

    def backward(dout, d):
        return {"s": dout[0] * d}

    return forward, backward


@given(logit_pairs(), temperatures, alphas)
def test_kd_loss_gradient_matches_finite_differences(pair, T, alpha):
    s, t, y = pair
    fwd, bwd = _as_function(kd_loss, T=T, alpha=alpha)
    err = gradcheck_function(fwd, bwd, {"s": s, "t": t, "y": y}, rng=0)["s"]
    assert err < 1e-6


@given(logit_pairs(), temperatures)
def test_as_written_gradient_matches_finite_differences(pair, T):
    s, t, _ = pair
    fwd, bwd = _as_function(lambda s, t, y, T: kd_loss_as_written(s, t, T=T), T=T)
    assert gradcheck_function(fwd, bwd, {"s": s, "t": t, "y": None}, rng=0)["s"] < GRAD_TOL


def test_gradcheck_catches_a_gradient_without_T():
    s, t = 3 * np.random.default_rng(0).standard_normal((2, 3, 5))
    y = np.array([0, 4, 2])

    def wrong(s, t, y, T, alpha):  # forgets the factor T of the soft term's gradient
        loss, d = kd_loss(s, t, y, T=T, alpha=alpha)
        return loss, d / T

    fwd, bwd = _as_function(wrong, T=4, alpha=0.5)
    assert gradcheck_function(fwd, bwd, {"s": s, "t": t, "y": y}, rng=0)["s"] > 0.1


# ----------------------------------------------------------------------------- Hinton's limit
@given(seeded_normal((2, 10)), st.integers(2, 10))
def test_high_temperature_limit_is_logit_matching(z, C):
    """T^2 KL(softmax(t/T) || softmax(s/T)) -> sum_i (s_i - t_i)^2 / (2C) for zero-mean logits."""
    s, t = 3 * z[0, :C], 3 * z[1, :C]
    s, t = s - s.mean(), t - t.mean()
    limit = ((s - t) ** 2).sum() / (2 * C)
    errors = []
    for T in (100.0, 1000.0):
        loss, d = kd_loss(s[None], t[None], None, T=T, alpha=0)
        errors.append(abs(loss - limit) / limit)
    # the gradient tends to that of the limit, (s - t) / C
    np.testing.assert_allclose(d[0], (s - t) / C, atol=1e-2 * np.abs(s - t).max() / C)
    # the error is O(1/T) (below T ~ 30 it may still change sign; above T ~ 1e4 float64
    # rounding of the tiny KL, about 1e-6 relative, takes over)
    assert errors[1] < errors[0]
    assert errors[0] < 5e-2 and errors[1] < 5e-3


# ----------------------------------------------------------------------------- the text's loss
@given(logit_pairs(max_c=12), temperatures)
def test_as_written_is_smaller_by_C_T_squared(pair, T):
    s, t, _ = pair
    N, C = s.shape
    ours, d_ours = kd_loss(s, t, None, T=T, alpha=0)
    text, d_text = kd_loss_as_written(s, t, T=T)
    # nn.KLDivLoss() default: mean over all N*C pointwise terms p (log p - log q)
    assert text == pytest.approx(rel_entr(softmax(t, T=T), softmax(s, T=T)).mean(), rel=1e-9, abs=1e-15)
    assert text == pytest.approx(ours / (C * T**2), rel=1e-9, abs=1e-15)
    np.testing.assert_allclose(d_text, d_ours / (C * T**2), rtol=1e-9, atol=1e-18)


def test_as_written_trains_like_a_learning_rate_C_T2_times_smaller(mnist):
    """SGD is linear in the gradient: one step of the text's loss moves the weights exactly
    C T^2 times less, and the text's loss at lr * C T^2 retraces ours at lr, step for step."""
    X, y = mnist.X_train[:256].astype(np.float64), mnist.y_train[:256]  # float64: tiny steps
    teacher = MLP([784, 20, 10], rng=1, dtype=np.float64)
    T, C, lr = 4.0, 10, 0.05

    def run(as_written, lr, batch_size):
        student = MLP([784, 10, 10], rng=2, dtype=np.float64)
        kd = KDLoss(teacher, T=T, alpha=0, as_written=as_written)
        fit(student, X, y, epochs=1, batch_size=batch_size, loss=kd, rng=0,
            optimizer=SGD(student, lr=lr, momentum=0.9), verbose=False)
        return student.state_dict()

    start = MLP([784, 10, 10], rng=2, dtype=np.float64).state_dict()
    ours, text = run(False, lr, 256), run(True, lr, 256)  # one step on the whole batch
    for name, w0 in start.items():
        np.testing.assert_allclose(text[name] - w0, (ours[name] - w0) / (C * T**2),
                                   rtol=1e-9, atol=1e-15)
    ours, text_scaled = run(False, lr, 32), run(True, lr * C * T**2, 32)  # 8 steps
    for name in start:
        np.testing.assert_allclose(text_scaled[name], ours[name], rtol=1e-9, atol=1e-12)


# ----------------------------------------------------------------------------- bad input
S = np.zeros((2, 3))
Y = np.array([0, 2])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(teacher_logits=np.zeros((2, 4))), "same shape"),
        (dict(teacher_logits=np.zeros((3, 3))), "same shape"),
        (dict(student_logits=np.zeros(3), teacher_logits=np.zeros(3)), "2-D"),
        (dict(T=0.0), "T must be in"),
        (dict(T=-1.0), "T must be in"),
        (dict(T=float("nan")), "T must be in"),
        (dict(alpha=-0.1), "alpha must be in"),
        (dict(alpha=1.5), "alpha must be in"),
        (dict(labels=np.array([0, 3])), r"labels must lie in \[0, 3\)"),
        (dict(labels=np.array([-1, 0])), r"labels must lie in \[0, 3\)"),
        (dict(labels=np.array([0, 1, 2])), r"shape \(2,\)"),
        (dict(labels=None, alpha=0.5), "labels=None is only allowed with alpha = 0"),
        (dict(student_logits=np.array([[0.0, np.nan, 1.0], [0, 0, 0]])),
         "student_logits contains 1 non-finite"),
        (dict(teacher_logits=np.array([[0.0, 0, 0], [np.inf, 0, 0]])),
         "teacher_logits contains 1 non-finite"),
        (dict(student_logits=np.zeros((0, 3)), teacher_logits=np.zeros((0, 3)), labels=np.zeros(0, int)),
         "empty batch"),
    ],
)
def test_kd_loss_rejects_bad_input(kwargs, match):
    args = dict(student_logits=S, teacher_logits=S, labels=Y, T=2.0, alpha=0.5) | kwargs
    with pytest.raises(ValueError, match=match):
        kd_loss(args.pop("student_logits"), args.pop("teacher_logits"), args.pop("labels"), **args)


@pytest.mark.parametrize("labels", [np.array([0.0, 1.0]), np.array([0.5, 1.0])])
def test_kd_loss_refuses_float_labels_with_a_type_error_as_the_nn_stack_does(labels):
    with pytest.raises(TypeError, match="integer class indices"):
        kd_loss(S, S, labels, T=2.0, alpha=0.5)


def test_other_entry_points_reject_bad_input():
    with pytest.raises(ValueError, match="T must be in"):
        softmax(S, T=0)
    with pytest.raises(ValueError, match="z contains 1 non-finite"):
        log_softmax(np.array([0.0, np.nan]))
    with pytest.raises(ValueError, match="same shape"):
        kd_loss_as_written(S, np.zeros((2, 4)), T=1)
    with pytest.raises(ValueError, match="alpha must be 0"):
        KDLoss(MLP([3, 3]), T=2, alpha=0.5, as_written=True)
    with pytest.raises(TypeError, match="forward"):
        KDLoss(object(), T=2, alpha=0.5)
    with pytest.raises(RuntimeError, match="on_batch"):
        KDLoss(MLP([3, 3]), T=2, alpha=0.5)(S, Y)


# ----------------------------------------------------------------------------- jitter
def test_jitter_hand_case():
    x = np.zeros((1, 1, 7, 7), dtype=np.float32)
    x[0, 0, 3, 3] = 1.0
    rng = np.random.default_rng(5)
    dy, dx = rng.integers(-2, 3, size=1), rng.integers(-2, 3, size=1)  # the draws jitter makes
    out = jitter(x, np.random.default_rng(5))
    assert out.dtype == np.float32 and out.shape == x.shape
    assert out[0, 0, 3 + dy[0], 3 + dx[0]] == 1.0 and out.sum() == 1.0


@given(st.integers(0, 2**32 - 1), st.integers(0, 3))
def test_jitter_equals_a_per_image_reference(seed, m):
    x = np.random.default_rng(seed).standard_normal((5, 2, 8, 9)).astype(np.float32)
    out = jitter(x, seed, max_shift=m)
    rng = np.random.default_rng(seed)
    dy, dx = rng.integers(-m, m + 1, size=5), rng.integers(-m, m + 1, size=5)
    H, W = 8, 9
    for n in range(5):  # slow reference: out[i, j] = x[clip(i - dy), clip(j - dx)] (edge fill)
        rows = np.clip(np.arange(H) - dy[n], 0, H - 1)
        cols = np.clip(np.arange(W) - dx[n], 0, W - 1)
        np.testing.assert_array_equal(out[n], x[n][:, rows][:, :, cols])
    np.testing.assert_array_equal(jitter(x, seed, max_shift=m), out)  # same seed, same shifts


def test_jitter_rejects_bad_input():
    with pytest.raises(ValueError, match="max_shift must be smaller"):
        jitter(np.zeros((1, 1, 2, 2)), 0, max_shift=2)
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        jitter(np.zeros((4, 4)), 0)


# ----------------------------------------------------------------------------- distill
class _Recorder:
    """A teacher that is just 'any object with forward': records what it was shown."""

    def __init__(self, model):
        self.model, self.seen = model, []

    def forward(self, x):
        self.seen.append(x)
        return self.model.forward(x)


def test_distill_runs_the_teacher_forward_only_on_the_augmented_batch(mnist):
    X, y = mnist.X_train[:128], mnist.y_train[:128]
    teacher = _Recorder(MLP([784, 16, 10], rng=3))
    before = copy.deepcopy(teacher.model.state_dict())
    student = MLP([784, 8, 10], rng=4)

    def plus_100(xb, rng):
        return xb + 100

    distill(teacher, student, X, y, T=4, alpha=0.5, epochs=1, batch_size=32,
            optimizer=SGD(student, lr=0.01), rng=0, augment=plus_100)
    assert len(teacher.seen) == 4 and all(xb.min() >= X.min() + 99 for xb in teacher.seen)
    for name, w in teacher.model.state_dict().items():
        np.testing.assert_array_equal(w, before[name])
    assert all(not g.any() for _, g in teacher.model.named_gradients())
    with pytest.raises(ValueError, match="same object"):
        distill(student, student, X, y, T=4, alpha=0.5, epochs=1, batch_size=32,
                optimizer=SGD(student, lr=0.01), rng=0)



def test_distill_as_written_trains_with_the_texts_loss(mnist):
    """as_written=True is fit() with KDLoss(as_written=True): the same weights bit for bit,
    and different ones from Hinton's loss; alpha != 0 is refused (the snippet has none)."""
    X, y = mnist.X_train[:64], mnist.y_train[:64]
    teacher = MLP([784, 16, 10], rng=3)
    students = [MLP([784, 8, 10], rng=4) for _ in range(3)]
    kd = KDLoss(teacher, T=4, alpha=0, as_written=True)
    fit(students[0], X, y, epochs=1, batch_size=32, optimizer=SGD(students[0], lr=0.1), loss=kd,
        rng=0, verbose=False)
    for student, as_written in zip(students[1:], (True, False)):
        distill(teacher, student, X, y, T=4, alpha=0, epochs=1, batch_size=32,
                optimizer=SGD(student, lr=0.1), rng=0, as_written=as_written)
    w = [s.state_dict()["fc1.weight"] for s in students]
    np.testing.assert_array_equal(w[1], w[0])
    assert not np.array_equal(w[2], w[0])
    with pytest.raises(ValueError, match="alpha must be 0"):
        distill(teacher, students[1], X, y, T=4, alpha=0.5, epochs=1, batch_size=32,
                optimizer=SGD(students[1], lr=0.1), rng=0, as_written=True)

@pytest.mark.slow
def test_distilled_student_learns_from_a_compressed_teacher(trained_convnet, mnist):
    """The trained ConvNet pruned 80% (prune_model) or with int8 weights (QuantConv2d /
    CompressedLinear layers from quantize_weights) teaches with no special code (section 2.3)."""
    from minicompress.prune import prune_model
    from minicompress.quantize import quantize_weights

    X, y = mnist.X_train[:1000], mnist.y_train[:1000]
    pruned = copy.deepcopy(trained_convnet)
    prune_model(pruned, 0.8, scope="global")
    for teacher in (pruned, quantize_weights(trained_convnet, "int8", per_channel=True)):
        student = ConvNet(2, rng=0)
        teacher_logits = predict(teacher, mnist.X_test)
        kl_before = kd_loss(predict(student, mnist.X_test), teacher_logits, None, T=4, alpha=0)[0]
        distill(teacher, student, X, y, T=4, alpha=0, epochs=2, batch_size=32,
                optimizer=SGD(student, lr=0.01, momentum=0.9), rng=0, augment=jitter)
        kl_after = kd_loss(predict(student, mnist.X_test), teacher_logits, None, T=4, alpha=0)[0]
        assert kl_after < kl_before / 3  # the student moved towards the teacher on unseen digits
        assert evaluate(student, mnist.X_test, mnist.y_test)[1] > 0.8  # without a single hard label


def test_fit_calls_a_losss_own_hooks_once_whether_or_not_it_is_also_in_hooks(mnist):
    """KDLoss is passed once, as loss=; listing it in hooks= as well does not run it twice."""
    X, y = mnist.X_train[:64], mnist.y_train[:64]
    teacher = MLP([784, 16, 10], rng=3)

    class Counting(KDLoss):
        calls = 0

        def on_batch(self, model, xb, yb):
            type(self).calls += 1
            super().on_batch(model, xb, yb)

    weights = []
    for hooks in ([], "self"):
        student = MLP([784, 8, 10], rng=4)
        kd = Counting(teacher, T=4, alpha=0.5)
        Counting.calls = 0
        fit(student, X, y, epochs=1, batch_size=32, optimizer=SGD(student, lr=0.1), loss=kd,
            hooks=[kd] if hooks else [], rng=0, verbose=False)
        assert Counting.calls == 2  # 64 examples, batches of 32: one teacher pass per batch
        weights.append(student.state_dict()["fc1.weight"])
    np.testing.assert_array_equal(weights[0], weights[1])


# ----------------------------------------------------------------------------- extreme temperatures
@given(logit_pairs(), st.sampled_from([np.float16, np.float32, np.float64]),
       st.sampled_from([1e-300, 1e-30, 1e-8]))
def test_a_tiny_temperature_gives_the_one_hot_argmax_in_every_dtype(stl, dtype, T):
    s = stl[0].astype(dtype)
    if (s == s.max(axis=1, keepdims=True)).sum(axis=1).max() > 1:
        return  # a tie at the maximum shares the mass
    p = softmax(s, T=T)
    assert p.dtype == dtype
    np.testing.assert_array_equal(p, np.eye(s.shape[1], dtype=dtype)[s.argmax(axis=1)])
    assert np.all(log_softmax(s, T=T)[np.arange(len(s)), s.argmax(axis=1)] == 0)


@given(logit_pairs(), temperatures, alphas)
def test_float32_kd_loss_agrees_with_float64(stl, T, alpha):
    """The soft term is computed in float64 whatever the logits' dtype, so float32 logits
    give the float64 loss to float32 rounding of the logits themselves."""
    s, t, y = stl
    s32, t32 = s.astype(np.float32), t.astype(np.float32)
    loss32, d32 = kd_loss(s32, t32, y, T=T, alpha=alpha)
    loss64, d64 = kd_loss(s32.astype(np.float64), t32.astype(np.float64), y, T=T, alpha=alpha)
    assert d32.dtype == np.float32
    assert loss32 == pytest.approx(loss64, rel=1e-5, abs=1e-6)
    np.testing.assert_allclose(d32, d64, rtol=1e-4, atol=1e-6)


def test_extreme_temperatures_stay_finite():
    s = np.array([[1.0, 3.0, 2.0]], np.float32)
    t = np.array([[2.0, 1.0, 0.0]], np.float32)
    for T in (1e-300, 1e200):  # T**2 would raise OverflowError at 1e200
        loss, d = kd_loss(s, t, None, T=T, alpha=0.0)
        assert np.isfinite(loss) and np.all(np.isfinite(d))
        loss, d = kd_loss_as_written(s, t, T=T)
        assert np.isfinite(loss)


def test_distill_and_kdloss_check_their_flags_and_student():
    teacher = MLP([4, 3])
    with pytest.raises(TypeError, match="as_written must be True or False; got 'no'"):
        KDLoss(teacher, T=2.0, alpha=0.0, as_written="no")
    with pytest.raises(TypeError, match="student must be a minicompress Module"):
        distill(teacher, "student", np.zeros((2, 4)), np.zeros(2, int), T=2.0, alpha=0.5, epochs=1,
                batch_size=2, optimizer=SGD(teacher, 0.1), rng=0)
    with pytest.raises(TypeError, match="x must be a numpy array; got \\[\\[0.0\\]\\] \\(list\\)"):
        jitter([[0.0]], 0)
