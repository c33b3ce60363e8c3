"""The bad-input issue's cases that go through the storage formats and the stored layers
(cases 1, 11, 12, 13, 18 and 20; cases 7 and 8, the hostile files, are in
test_formats_hostile.py), and the checks every format shares: its expected parts, decode's
checks of an encoding, and the atomic load of a stored layer."""

import multiprocessing

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import float_arrays, small_shapes

from minicompress import formats as F
from minicompress import metrics
from minicompress.formats.encoding import Encoding, check_parts, get_format, parse_header
from minicompress.formats.symmetric import symmetric_qmax, symmetric_round_trip
from minicompress.nn import Conv2d, Linear, Sequential
from minicompress.prune import nm_mask, prune_model
from minicompress.quantize import ShadowClip, fake_quantize_backward, fake_quantize_forward, prepare_qat

#: one way to call each format on a float weight
OPTIONS = {"int": {"bits": 4}, "lowrank": {"rank": 1}, "bitmask": {"bits": 6}, "csr": {}}
FLOAT_FORMATS = ["fp32", "fp16", "raw", "int", "int8", "int8_channel", "binary", "ternary", "bitmask", "csr",
                 "lowrank"]


def _in_child(fn, queue):
    try:
        fn()
        queue.put(("returned", ""))
    except Exception as err:
        queue.put((type(err).__name__, str(err)))


def outcome_within(fn, seconds=30.0):
    """(exception name or 'returned', message) of ``fn()`` run in a forked process; 'hang' if
    it has not answered after ``seconds`` (the process is then killed)."""
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=_in_child, args=(fn, queue), daemon=True)
    proc.start()
    proc.join(seconds)
    if proc.is_alive():
        proc.kill()
        return "hang", ""
    return queue.get(timeout=5)


def _with(value, shape=(4, 3), at=(0, 0)):
    w = np.ones(shape, np.float32)
    w[at] = value
    return w


def _model_with(value):
    model = Sequential(fc=Linear(3, 4, rng=0))
    model.fc.params["weight"][1, 2] = value
    return model


# ----------------------------------------------------------------------------- case 1
@pytest.mark.parametrize("call, match", [
    (lambda: F.encode(_with(np.inf), "lowrank", rank=2), r"w contains 1 non-finite value\(s\)"),
    (lambda: F.save_model("/dev/null", _model_with(np.inf), "lowrank", rank=2),
     r"parameter 'fc.weight' cannot be stored as 'lowrank': w contains 1 non-finite .* index \(1, 2\)"),
    (lambda: metrics.model_size_bits(_model_with(np.inf), "lowrank", rank=2), "w contains 1 non-finite"),
    (lambda: F.compress_layer(_model_with(np.nan).fc, "lowrank", rank=1), "w contains 1 non-finite"),
])
def test_case_01_an_inf_through_the_formats_is_refused_and_nothing_hangs(call, match):
    name, message = outcome_within(call)
    assert name == "ValueError", (name, message)
    assert __import__("re").search(match, message), message


# ----------------------------------------------------------------------------- case 11
@given(float_arrays(np.float16, shape=small_shapes(min_dims=2, max_dims=2), max_abs=65504.0), st.booleans())
def test_case_11_sixteen_bit_codes_of_float16_weights_stay_in_range(w, per_channel):
    enc = F.encode(w, "int", bits=16, per_channel=per_channel)
    q = F.codes.int_codes(enc.arrays, enc.shape)
    assert np.abs(q).max() <= symmetric_qmax(16)
    w_hat = F.decode(enc)  # its own decode accepts them
    scale = enc.arrays["scale"].astype(np.float64)
    step = (scale[:, None] if scale.size > 1 else scale[0]) / symmetric_qmax(16)
    # half a step, plus half a float32 ulp of w_hat (the decoded dtype)
    bound = step / 2 + np.spacing(np.abs(w_hat).astype(np.float32)).astype(np.float64)
    assert np.all(np.abs(w.astype(np.float64) - w_hat) <= bound)


def test_case_11_the_float16_extremes_by_hand():
    w = np.array([[65504.0, -65504.0, 1.0, 6e-8]], np.float16)  # max, -max, one, a subnormal
    q = F.codes.int_codes(*(lambda e: (e.arrays, e.shape))(F.encode(w, "int", bits=16)))
    np.testing.assert_array_equal(q, [[32767, -32767, 1, 0]])  # 1 / 65504 * 32767 = 0.50002 -> 1


# ----------------------------------------------------------------------------- case 12
@pytest.mark.parametrize("fmt", FLOAT_FORMATS)
@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_case_12_no_format_stores_nan_or_inf(fmt, value):
    match = r"w contains 1 non-finite value\(s\) \(NaN or inf\), the first at index \(2, 1\)"
    with pytest.raises(ValueError, match=match):
        F.encode(_with(value, at=(2, 1)), fmt, **OPTIONS.get(fmt, {}))


def test_case_12_int8_no_longer_stores_nan_as_zero_or_spreads_an_inf():
    with pytest.raises(ValueError, match="non-finite"):
        F.encode(np.array([1.0, np.nan, -2.0], np.float32), "int8")
    with pytest.raises(ValueError, match="parameter 'fc.weight' cannot be stored as 'int8'"):
        F.save_model("/dev/null", _model_with(np.nan), "int8")


@pytest.mark.parametrize("fmt, w, match", [
    ("fp16", np.array([1.0, 70000.0], np.float32),
     r"beyond the float16 range \(\+-6.55e\+04\), up to 7e\+04"),
    ("fp32", np.array([1.0, 1e300]), r"beyond the float32 range"),
])
def test_case_12_a_cast_that_would_overflow_to_inf_is_refused(fmt, w, match):
    with pytest.raises(ValueError, match=match):
        F.encode(w, fmt)


def test_case_12_decode_refuses_non_finite_parts_and_results():
    enc = F.encode(np.ones((2, 2), np.float32), "lowrank", rank=1)
    bad = Encoding("lowrank", {**enc.arrays, "A": np.array([1e30, 1e30], np.float32),
                               "B": np.array([1e30, 1e30], np.float32)})
    with pytest.raises(ValueError, match="the array a 'lowrank' encoding decodes to contains 4 non-finite"):
        F.decode(bad)
    nan = Encoding("fp32", {**F.encode(np.ones(2, np.float32), "fp32").arrays,
                            "values": np.array([1.0, np.nan], np.float32)})
    with pytest.raises(ValueError, match="part 'values' of a 'fp32' encoding contains 1 non-finite"):
        F.decode(nan)


# ----------------------------------------------------------------------------- case 13
@pytest.mark.parametrize("limit, error, match", [
    (-1.0, ValueError, r"limit must be in \(0.0, inf\); got -1.0"),
    (0.0, ValueError, r"limit must be in \(0.0, inf\); got 0.0"),
    (float("nan"), ValueError, "got nan"),
    (float("inf"), ValueError, "got inf"),
    ("1", TypeError, "limit must be a real number; got '1'"),
    (True, TypeError, "limit must be a real number; got True"),
])
def test_case_13_shadow_clip_refuses_a_limit_that_would_destroy_the_weights(limit, error, match):
    with pytest.raises(error, match=match):
        ShadowClip(limit)


def test_case_13_shadow_clip_clips_binary_shadow_weights_to_its_limit():
    model = prepare_qat(Sequential(fc=Linear(3, 2, rng=0)), "binary")
    model.fc.params["weight"][...] = [[2.0, -3.0, 0.1], [0.4, -0.6, 1.0]]
    ShadowClip(0.5).after_step(model)
    np.testing.assert_array_equal(model.fc.params["weight"], np.float32([[0.5, -0.5, 0.1], [0.4, -0.5, 0.5]]))


# ----------------------------------------------------------------------------- case 18
def test_case_18_the_round_trip_of_integer_weights_is_not_truncated():
    w = np.array([[1, 2, -3], [4, 0, -10]])
    got = symmetric_round_trip(w, 8)
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, symmetric_round_trip(w.astype(np.float64), 8))
    assert got[0, 0] == 13 * 10 / 127  # round(1 / 10 * 127) = 13 codes: 1.0236..., not truncated to 1


def test_case_18_module_to_refuses_integer_dtypes_and_overflow_and_stays_as_it_was():
    layer = Linear(3, 2, rng=0)
    before = layer.params["weight"].copy()
    match = r"dtype must be a floating dtype \(float16, float32 or float64\); got int8"
    with pytest.raises(TypeError, match=match):
        layer.to(np.int8)
    layer.params["bias"][0] = 1e5
    with pytest.raises(ValueError, match=r"parameter 'bias' holds values beyond the float16 range"):
        layer.to(np.float16)
    assert layer.params["weight"].dtype == np.float32 and np.array_equal(layer.params["weight"], before)
    assert layer.to(np.float64).params["weight"].dtype == np.float64


# ----------------------------------------------------------------------------- case 20
@pytest.mark.parametrize("make", [
    lambda b: F.CompressedLinear(F.encode(np.ones((3, 2), np.float32), "int8"), b),
    lambda b: F.CompressedConv2d(F.encode(np.ones((3, 1, 2, 2), np.float32), "ternary"), b),
    lambda b: F.SparseLinear(F.encode(np.ones((3, 2), np.float32), "csr"), b),
])
def test_case_20_a_stored_layer_refuses_a_bias_it_would_broadcast_or_cast(make):
    with pytest.raises(ValueError, match=r"bias must have shape \(3,\) \(one per output\); got \(1,\)"):
        make(np.ones(1, np.float32))
    with pytest.raises(TypeError, match="bias must be a float array; got dtype int64"):
        make(np.ones(3, np.int64))
    with pytest.raises(TypeError, match=r"bias must be a float array; got 'abc' \(str\)"):
        make("abc")
    with pytest.raises(ValueError, match=r"bias \(as float32\) contains 1 non-finite"):
        make(np.array([0.0, 1e300, 0.0]))
    assert make(np.zeros(3)).encodings()["bias"].arrays["values"].dtype == np.float32


def test_case_20_fake_quantize_backward_checks_its_shapes():
    x = np.linspace(-2, 2, 6).reshape(2, 3)
    _, cache = fake_quantize_forward(x, 0.5, 0, -2, 1)
    match = r"dout and x \(the cached window\) must have the same shape .* \(3,\) and \(2, 3\)"
    with pytest.raises(ValueError, match=match):
        fake_quantize_backward(np.ones(3), cache)
    match = "cache must be the boolean window fake_quantize_forward returned; got dtype"
    with pytest.raises(TypeError, match=match):
        fake_quantize_backward(np.ones((2, 3)), cache.astype(float))
    np.testing.assert_array_equal(fake_quantize_backward(np.ones((2, 3)), cache), cache)


def test_prune_model_names_an_array_given_for_scope_or_criterion():
    model = Sequential(fc=Linear(3, 2))
    match = r"scope must be one of \('layer', 'global'\); got array\(\['layer'\]"
    with pytest.raises(TypeError, match=match):
        prune_model(model, 0.5, scope=np.array(["layer"]))
    with pytest.raises(TypeError, match=r"criterion must be one of .* got \['magnitude'\] \(list\)"):
        prune_model(model, 0.5, criterion=["magnitude"])
    with pytest.raises(TypeError, match="model must be a minicompress Module"):
        prune_model("model", 0.5)


# ----------------------------------------------------------------------------- every format
def test_every_format_declares_its_expected_parts():
    """A load reads a file's arrays only once their declared sizes match what the format
    expects for the model's shape: a format without the hook cannot be loaded boundedly."""
    missing = [name for name in F.FORMATS if get_format(name).expected_parts is None]
    assert not missing, f"formats without expected_parts (see formats.encoding.Format): {missing}"


@given(st.sampled_from(FLOAT_FORMATS), small_shapes(min_dims=1, max_dims=4, max_side=5), st.data())
def test_what_every_format_writes_is_what_it_expects(fmt, shape, data):
    w = data.draw(float_arrays(np.float32, shape=st.just(shape), max_abs=10.0))
    if fmt == "binary":
        w = np.where(w >= 0, 1.0, -1.0).astype(np.float32)
    if fmt == "ternary":
        w = np.sign(w).astype(np.float32)
    if fmt == "lowrank" and w.ndim < 2:
        w = w.reshape(1, -1)
    enc = F.encode(w, fmt, **OPTIONS.get(fmt, {}))
    shape_, fields = parse_header(fmt, enc.arrays["header"], ndim=w.ndim)
    assert shape_ == w.shape
    check_parts(fmt, shape_, fields, {p: (a.dtype, a.shape) for p, a in enc.arrays.items() if p != "header"})
    assert F.decode(enc).shape == w.shape


@pytest.mark.parametrize("arrays, match", [
    (lambda a: {**a, "header": a["header"].astype(np.int64)},
     "header of a 'csr' encoding must be a 1-D int32"),
    (lambda a: {**a, "header": np.array([3, 4, 99, 0], np.int32)}, r"z \(non-zeros\) must be in 0..12"),
    (lambda a: {**a, "indices": a["indices"][:-1]}, "part 'indices' .* must hold 12 values; got 11"),
    (lambda a: {**a, "indices": np.full(12, 7, np.uint8)}, r"CSR column indices must lie in \[0, 4\)"),
    (lambda a: {**a, "indices": np.zeros(12, np.uint8)}, "strictly increasing within each row"),
    (lambda a: {k: v for k, v in a.items() if k != "indptr"}, r"missing \['indptr'\]"),
    (lambda a: {**a, "values": [1.0] * 12}, "must be a dict of numpy arrays"),
])
def test_decode_refuses_a_corrupt_encoding_with_a_value_error(arrays, match):
    enc = F.encode(np.ones((3, 4), np.float32), "csr")
    with pytest.raises((ValueError, TypeError), match=match):
        F.decode(Encoding("csr", arrays(dict(enc.arrays))))


def test_a_stored_layer_loads_encodings_atomically():
    layer = F.compress_layer(Conv2d(1, 3, 2, rng=0), "csr")
    x = np.random.default_rng(0).standard_normal((2, 1, 5, 5)).astype(np.float32)
    before = layer(x)
    good = layer.encodings()
    other = F.encode(np.ones((3, 1, 2, 2), np.float16), "csr")  # float16 values: another dtype
    with pytest.raises(ValueError, match="'weight' must hold the parts"):
        layer.load_encodings({**good, "weight": other})
    arrays = good["weight"].arrays
    corrupt = Encoding("csr", {**arrays, "indices": np.full_like(arrays["indices"], 9)})
    with pytest.raises(ValueError, match=r"'weight': CSR column indices must lie in \[0, 4\)"):
        layer.load_encodings({**good, "weight": corrupt})
    assert np.array_equal(layer(x), before)
    new = F.compress_layer(Conv2d(1, 3, 2, rng=5), "csr").encodings()
    layer.load_encodings(new)
    assert np.array_equal(layer(x), F.compress_layer(Conv2d(1, 3, 2, rng=5), "csr")(x))


def _shared(shape=(4, 8), seed=0):
    """A weight-shared float32 array with zeros: what codebook/relative/huffman store."""
    rng = np.random.default_rng(seed)
    return (rng.integers(-2, 3, size=shape) * 0.5).astype(np.float32)


def _two_of_four(shape=(4, 8), seed=0):
    w = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    return w * nm_mask(w, 2, 4)


@pytest.mark.parametrize("fmt, make, options", [
    ("codebook", _shared, {}), ("relative", _shared, {"index_bits": 2}),
    ("huffman", _shared, {"index_bits": 3}), ("nm", _two_of_four, {}),
    ("nm", _two_of_four, {"positions": "index", "bits": 4}),
    ("int_group", lambda: np.random.default_rng(0).standard_normal((4, 8)).astype(np.float32),
     {"group_size": 4}),
])
def test_the_later_formats_write_what_they_expect_and_refuse_a_longer_part(fmt, make, options):
    w = make()
    enc = F.encode(w, fmt, **options)
    shape, fields = parse_header(fmt, enc.arrays["header"], ndim=w.ndim)
    parts = {p: (a.dtype, a.shape) for p, a in enc.arrays.items() if p != "header"}
    check_parts(fmt, shape, fields, parts)
    np.testing.assert_array_equal(F.decode(enc), F.decode(F.encode(F.decode(enc), fmt, **options)))
    name = max(parts, key=lambda p: parts[p][1][0])  # the longest part, declared 2**30 long
    with pytest.raises(ValueError, match=f"part '{name}' of a '{fmt}' encoding .*must hold"):
        check_parts(fmt, shape, fields, {**parts, name: (parts[name][0], (2**30,))})
