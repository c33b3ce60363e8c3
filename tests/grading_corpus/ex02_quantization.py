"""Regression corpus of exercise 02 (see tests/test_grading_corpus.py): NumPy-only solutions,
``<function>__correct*`` pass, ``<function>__<mistake>`` fail with that mistake's hint."""

import numpy as np


def binarize__correct(w):
    return np.where(w >= 0, 1, -1).astype(w.dtype)


def binarize__sign(w):
    return np.sign(w)


def binarize__gt(w):
    return np.where(w > 0, 1.0, -1.0).astype(w.dtype)


def binarize__dtype(w):  # the int64
    return np.where(w >= 0, 1, -1)


def binarize__mutates(w):  # overwrites its input
    w[...] = np.where(w >= 0, 1, -1)
    return w.copy()


def _ternarize(w, strict=True, alpha_all=False, of_max=False):
    a = np.abs(w)
    delta = 0.7 * (a.max() if of_max else a.mean())
    keep = a > delta if strict else a >= delta
    t = (np.sign(w) * keep).astype(w.dtype)
    if alpha_all:
        return t, float(a.mean())
    return t, float(a[keep].mean()) if keep.any() else 0.0


def ternarize__correct(w):
    return _ternarize(w)


def ternarize__ge_delta(w):
    return _ternarize(w, strict=False)


def ternarize__alpha_all(w):
    return _ternarize(w, alpha_all=True)


def ternarize__delta_max(w):
    return _ternarize(w, of_max=True)


def ternarize__empty_mean(w):  # NaN for an all-zero w (the library's per-channel mutant)
    a = np.abs(w)
    keep = a > 0.7 * a.mean()
    return (np.sign(w) * keep).astype(w.dtype), float(a[keep].mean())


def ternarize__dtype(w):
    t, alpha = _ternarize(w)
    return t.astype(np.int8), alpha


def _int8(w, scale, rounding=np.rint, low=-127, clip=True, guard=True):
    if scale is None:
        scale = float(np.abs(w).max())
        if guard and scale == 0:
            scale = 1.0
    q = rounding(w / scale * 127)
    if clip:
        q = np.clip(q, low, 127)
    return q.astype(np.int8), scale


def int8_quantize__correct(w, scale=None):
    return _int8(w, scale)


def int8_quantize__correct_other_order(w, scale=None):
    if scale is None:
        scale = float(np.max(np.abs(w))) or 1.0
    return np.clip(np.round(127 * w / scale), -127, 127).astype(np.int8), scale


def int8_quantize__half_up(w, scale=None):
    return _int8(w, scale, rounding=lambda x: np.floor(x + 0.5))


def int8_quantize__half_away(w, scale=None):  # "school" rounding
    return _int8(w, scale, rounding=lambda x: np.sign(x) * np.floor(np.abs(x) + 0.5))


def int8_quantize__truncate(w, scale=None):
    return _int8(w, scale, rounding=lambda x: x)


def int8_quantize__no_clip(w, scale=None):  # the missing clip
    return _int8(w, scale, clip=False)


def int8_quantize__clip_128(w, scale=None):
    return _int8(w, scale, low=-128)


def int8_quantize__zero_scale(w, scale=None):
    return _int8(w, scale, guard=False)


def int8_quantize__dtype(w, scale=None):
    q, scale = _int8(w, scale)
    return q.astype(np.int64), scale


def ste_backward__correct(dout, x, scale, zero_point, qmin, qmax):
    return dout * ((x >= scale * (qmin - zero_point)) & (x <= scale * (qmax - zero_point)))


def ste_backward__correct_divided(dout, x, scale, zero_point, qmin, qmax):
    inside = (x / scale + zero_point >= qmin) & (x / scale + zero_point <= qmax)
    return np.where(inside, dout, 0.0)


def ste_backward__open_window(dout, x, scale, zero_point, qmin, qmax):
    return dout * ((x > scale * (qmin - zero_point)) & (x < scale * (qmax - zero_point)))


def ste_backward__no_zero_point(dout, x, scale, zero_point, qmin, qmax):
    return dout * ((x >= scale * qmin) & (x <= scale * qmax))


def ste_backward__rounded(dout, x, scale, zero_point, qmin, qmax):
    q = np.rint(x / scale) + zero_point
    return dout * ((q >= qmin) & (q <= qmax))


def _popcount(v):
    return np.unpackbits(v[..., None], axis=-1).sum(axis=(-1, -2))


def xnor_dot__correct(a_bits, b_bits, k):
    x = np.bitwise_xor(a_bits[:, None, :], b_bits[None, :, :])
    return k - 2 * np.bitwise_count(x).sum(axis=-1).astype(np.int64)


def xnor_dot__correct_unpacked(a_bits, b_bits, k):
    A = np.unpackbits(a_bits, axis=1, count=k).astype(np.int64) * 2 - 1
    B = np.unpackbits(b_bits, axis=1, count=k).astype(np.int64) * 2 - 1
    return A @ B.T


def xnor_dot__no_factor_2(a_bits, b_bits, k):
    return k - _popcount(np.bitwise_xor(a_bits[:, None, :], b_bits[None, :, :])).astype(np.int64)


def xnor_dot__padded_length(a_bits, b_bits, k):
    x = np.bitwise_xor(a_bits[:, None, :], b_bits[None, :, :])
    return 8 * a_bits.shape[1] - 2 * _popcount(x).astype(np.int64)


def gptq_column_update__correct(w, U, j, w_hat_j):
    w = np.array(w, dtype=float)
    e = (w[:, j] - w_hat_j) / U[j, j]
    w[:, j:] -= np.outer(e, U[j, j:])
    return w


def gptq_column_update__correct_obs(w, U, j, w_hat_j):
    # the OBS form: the inverse Hessian of the columns j.. still free is U[j:, j:]^T U[j:, j:]
    w = np.array(w, dtype=float)
    Hi = U[j:, j:].T @ U[j:, j:]
    w[:, j:] -= np.outer((w[:, j] - w_hat_j) / Hi[0, 0], Hi[0])
    w[:, j] = w_hat_j
    return w


def _gptq(w, U, j, w_hat_j, divide=lambda d: d, sign=-1.0, row=None):
    w = np.array(w, dtype=float)
    r = U[j, j:] if row is None else row
    e = (w[:, j] - w_hat_j) / divide(r[0])
    w[:, j:] += sign * np.outer(e, r)
    return w


def gptq_column_update__no_divide(w, U, j, w_hat_j):
    return _gptq(w, U, j, w_hat_j, divide=lambda d: 1.0)


def gptq_column_update__u_jj_squared(w, U, j, w_hat_j):
    return _gptq(w, U, j, w_hat_j, divide=lambda d: d**2)


def gptq_column_update__no_feedback(w, U, j, w_hat_j):  # round to nearest
    w = np.array(w, dtype=float)
    w[:, j] = w_hat_j
    return w


def gptq_column_update__sign(w, U, j, w_hat_j):
    return _gptq(w, U, j, w_hat_j, sign=1.0)


def gptq_column_update__full_inverse(w, U, j, w_hat_j):  # OBS with H^-1 of all columns
    return _gptq(w, U, j, w_hat_j, row=(U.T @ U)[j, j:])


def gptq_column_update__mutates(w, U, j, w_hat_j):
    w[:, j:] -= np.outer((w[:, j] - w_hat_j) / U[j, j], U[j, j:])
    return w


def _lsq(dout, x, s, Qn, Qp, low=-1, high=1, closed=False, residual=True, scaled=True):
    v = x / s
    inside = ((v >= -Qn) & (v <= Qp)) if closed else ((v > -Qn) & (v < Qp))
    grad = np.where(inside, np.rint(v) - (v if residual else 0), np.where(v <= -Qn, low * Qn, high * Qp))
    g = 1 / np.sqrt(x.size * Qp) if scaled else 1.0
    return dout * inside, float(g * np.sum(dout * grad))


def lsq_backward__correct(dout, x, s, Qn, Qp):
    return _lsq(dout, x, s, Qn, Qp)


def lsq_backward__correct_surrogate(dout, x, s, Qn, Qp):
    # d/ds of the STE surrogate s * (clip(v, -Qn, Qp) + r), r = round - clip held fixed
    v = x / s
    c = np.clip(v, -Qn, Qp)
    inside = (v > -Qn) & (v < Qp)
    r = np.rint(c) - c
    ds = np.sum(dout * (c + r - inside * v)) / np.sqrt(x.size * Qp)
    return np.where(inside, dout, 0.0), ds


def lsq_backward__no_grad_scale(dout, x, s, Qn, Qp):
    return _lsq(dout, x, s, Qn, Qp, scaled=False)


def lsq_backward__clip_sign(dout, x, s, Qn, Qp):  # +Qn at the low end
    return _lsq(dout, x, s, Qn, Qp, low=1)


def lsq_backward__closed_window(dout, x, s, Qn, Qp):
    return _lsq(dout, x, s, Qn, Qp, closed=True)


def lsq_backward__round_only(dout, x, s, Qn, Qp):  # forgets that v = x / s depends on s
    return _lsq(dout, x, s, Qn, Qp, residual=False)
