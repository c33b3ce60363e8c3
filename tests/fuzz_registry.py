"""Every public callable of minicompress, with one good call: the fuzz test's registry.

One line per callable (every callable name in a package's ``__all__``), its good call's
arguments by name::

    E(prune.magnitude_mask, w=W, sparsity=0.5)

``tests/test_fuzz.py`` replaces each argument in turn by bad values of its kind -- inferred
from the good value (a Module, bool, int, float, str, array, rng, callable, dict, list or
tuple) -- and checks that each call raises ``ValueError``/``TypeError`` whose message names
the argument and the value.  The good call itself must succeed.  Options, all optional:

    kinds={"scale": "positive"}      another kind than the inferred one (see KINDS)
    bad={"k": [Bad(0, "0")]}         more bad values for an argument (tokens: what the
                                     message must quote)
    keep=("x",)                      arguments not fuzzed (say why in a comment)
    aliases={"x": ("input",)}        other words the message may call the argument by
    valid={"T": ("nan", "inf")}      bad values (by label, see KINDS) that the argument takes
                                     by design (NaN in a layout operation): say why
    record="why"                     a plain result record (not validated; no cases)

Arguments are deep-copied for every call, so a call may change its model.  A new public
callable fails ``test_every_public_callable_has_an_entry`` until it has its line here.
"""

from __future__ import annotations

import inspect
import tempfile
import types
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from minicompress import (
    baselines,
    combine,
    data,
    distill,
    formats,
    grading,
    lowrank,
    metrics,
    nn,
    pipeline,
    plots,
    prune,
    quantize,
)
from minicompress.combine.auto import estimated_losses, option_grid
from minicompress.combine.sensitivity import pruned_weight
from minicompress.data import normalize
from minicompress.formats.encoding import matrix_view
from minicompress.formats.entropy import huffman_decode, huffman_encode
from minicompress.formats.io import model_encodings
from minicompress.formats.packed import pack_parts
from minicompress.lowrank.layers import factorized_num_params
from minicompress.lowrank.svd import TruncatedSVD
from minicompress.lowrank.tucker import tucker_error
from minicompress.metrics.size import SizeReport
from minicompress.metrics.speed import LatencyReport
from minicompress.metrics.work import FlopsReport
from minicompress.nn import Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential
from minicompress.prune.hessian import flat_weights, set_flat_weights
from minicompress.prune.lottery import prune_survivors, train_masked
from minicompress.prune.magnitude import mask_from_scores, n_to_prune, score_threshold
from minicompress.prune.masks import select_parameters
from minicompress.prune.nm import nm_mask_from_scores, parse_pattern
from minicompress.prune.oneshot import prune_oneshot
from minicompress.prune.schedule import GradualPruning
from minicompress.prune.sparsegpt import inverse_hessian_cholesky
from minicompress.prune.structured import filter_l1_norms
from minicompress.quantize.adaround import adaround_loss_backward, adaround_loss_forward, rectified_sigmoid
from minicompress.quantize.affine import QParams, affine_params, integer_range
from minicompress.quantize.equalize import cle_scales
from minicompress.quantize.fixedpoint import multiply_by_quantized_multiplier, zero_point_matmul
from minicompress.quantize.gptq import gptq_quantize
from minicompress.quantize.histogram import entropy_threshold
from minicompress.quantize.intmodel import IntegerModel
from minicompress.quantize.kmeans import kmeans_init, kmeans_objective, kmeans_step
from minicompress.quantize.layers import quantized_values, weight_encoding
from minicompress.quantize.learned import pact_backward, pact_forward
from minicompress.quantize.observers import Observer
from minicompress.quantize.qat import QATConv2d, QATLinear
from minicompress.quantize.ternary import ternary_threshold
from minicompress.quantize.xnor import XnorConv2d, XnorLinear

# ----------------------------------------------------------------------------- fixtures
_rng = np.random.default_rng(0)
W = _rng.standard_normal((3, 4)).astype(np.float32)          # a Linear weight
W4 = _rng.standard_normal((2, 1, 3, 3)).astype(np.float32)   # a Conv2d weight
X = _rng.standard_normal((8, 4)).astype(np.float32)          # 8 inputs of mlp()
Y = np.arange(8) % 2                                         # their labels (2 classes)
IMG = _rng.standard_normal((4, 1, 8, 8)).astype(np.float32)  # 4 images of convnet()
YI = np.arange(4) % 2
T3 = _rng.standard_normal((3, 4, 2))                         # a 3-way tensor
LOGITS = _rng.standard_normal((8, 2)).astype(np.float32)
Q8 = np.array([[1, -2, 3, 4], [0, 5, -6, 7], [8, 9, -10, 11]], np.int8)


def mlp(seed=0):
    return Sequential(fc1=Linear(4, 3, rng=seed), relu=ReLU(), fc2=Linear(3, 2, rng=seed + 1))


def convnet(seed=0):
    return Sequential(conv=Conv2d(1, 2, 3, rng=seed), relu=ReLU(), pool=MaxPool2d(2), flatten=Flatten(),
                      fc=Linear(18, 2, rng=seed + 1))


def split():
    return data.Split(X, Y, X[:4], Y[:4])


MLP, NET, FC, CONV = mlp(), convnet(), Linear(4, 3), Conv2d(1, 2, 3)
ENC = formats.encode(W, "int8")
QP = quantize.calibrate(X, "minmax")
CTX = pipeline.TourContext(data=split(), quick=True, verbose=False)
ROW = {"method": "float", "accuracy": 0.5, "size_bits": 100, "macs": 10}
EXERCISE = Path(__file__).resolve().parents[1] / "tutorials" / "exercises" / "ex01_pruning.py"
IDX = Path(tempfile.mkdtemp()) / "labels.idx"  # an IDX file of three ubyte labels
IDX.write_bytes(b"\x00\x00\x08\x01" + (3).to_bytes(4, "big") + b"\x01\x02\x03")


def _sq(a, b, **kw):  # a forward for gradcheck_function: (a * b, cache)
    return a * b, (a, b)


def _sq_back(dout, cache):
    a, b = cache
    return {"a": dout * b, "b": dout * a}


# ----------------------------------------------------------------------------- entries
@dataclass(frozen=True)
class Bad:
    """A bad value and the words a message quoting it may use (any one suffices)."""

    value: object
    tokens: tuple | str = ()
    label: str = ""


@dataclass
class Entry:
    fn: object
    kwargs: dict
    kinds: dict = field(default_factory=dict)
    bad: dict = field(default_factory=dict)
    keep: tuple = ()
    aliases: dict = field(default_factory=dict)
    record: str | None = None
    valid: dict = field(default_factory=dict)
    name: str = ""


REGISTRY: dict[int, Entry] = {}


def E(fn, /, *, kinds=None, bad=None, keep=(), aliases=None, record=None, valid=None, **kwargs) -> Entry:
    """Register ``fn`` with a good call ``fn(**kwargs)`` (see the module docstring)."""
    entry = Entry(fn, kwargs, dict(kinds or {}), dict(bad or {}), tuple(keep), dict(aliases or {}), record,
                  dict(valid or {}), f"{fn.__module__}.{fn.__qualname__}")
    if id(fn) in REGISTRY:
        raise ValueError(f"{entry.name} is registered twice")
    if record is None:
        inspect.signature(fn).bind(**kwargs)  # a typo in an argument name fails here
    REGISTRY[id(fn)] = entry
    return entry


def R(fn, why: str) -> Entry:
    """A plain record or a no-argument callable: registered, no cases."""
    return E(fn, record=why)


NONFINITE = ("nan", "inf")
SLOW = ("not fuzzed: runs the whole tour / trains a baseline; its arguments are checked by the functions "
        "it calls")
# -- nn
E(nn.cross_entropy, logits=LOGITS, labels=Y)
E(nn.log_softmax, z=LOGITS, axis=-1)
E(nn.softmax, z=LOGITS, axis=-1)
E(nn.gradcheck_function, forward=_sq, backward=_sq_back, inputs={"a": np.ones(3), "b": np.ones(3)}, rng=0)
E(nn.gradcheck_module, module=Linear(4, 3, dtype=np.float64), x=X.astype(np.float64), rng=0)
E(nn.numerical_gradient, f=lambda: 0.0, x=np.ones(3))
E(nn.relative_error, analytic=np.ones(3), numeric=np.ones(3))
E(nn.Conv2d, in_channels=1, out_channels=2, kernel_size=3, stride=1, padding=0, bias=True, rng=0,
  dtype=np.float32, input_grad=True)
R(nn.Flatten, "no arguments")
E(nn.Linear, in_features=4, out_features=3, bias=True, rng=0, dtype=np.float32)
E(nn.MaxPool2d, kernel_size=2, stride=2)
R(nn.Module, "no arguments")
R(nn.ReLU, "no arguments")
E(nn.Sequential, fc=Linear(4, 3), bad={"fc": [Bad(3, "int"), Bad(None, "None"), Bad(np.zeros(2), "ndarray")]})
E(nn.MLP, sizes=[4, 3, 2], rng=0, dtype=np.float32)
E(nn.ConvNet, channels=2, rng=0, dtype=np.float32)
E(nn.LeNet5, rng=0, dtype=np.float32)
E(nn.LeNet300_100, rng=0, dtype=np.float32)
E(nn.SGD, model=MLP, lr=0.1, momentum=0.0, weight_decay=0.0, kinds={"lr": "positive", "momentum": "fraction"})
E(nn.Adam, model=MLP, lr=0.001, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
  kinds={"lr": "positive", "eps": "positive"})
E(nn.evaluate, model=MLP, X=X, y=Y, batch_size=4, loss=nn.cross_entropy)
E(nn.fit, model=MLP, X=X, y=Y, epochs=1, batch_size=4, optimizer=nn.SGD(MLP, 0.1), rng=0, verbose=False,
  keep=("optimizer",))  # an optimizer of the copied model: checked by test_case_04
E(nn.minibatches, n=8, batch_size=4, rng=0, shuffle=True)
E(nn.predict, model=MLP, X=X, batch_size=4)

# -- data
R(data.Split, "a record of four arrays, returned by load_mnist5k")
E(data.load_mnist5k, seed=0, n_train_per_class=1)
E(normalize, images=np.zeros((2, 28, 28), np.uint8))
E(data.load_idx, path=IDX)  # bad files: tests/test_data.py
E(data.shift_images, x=IMG, dy=1, dx=-1)
E(data.rotate_images, x=IMG, degrees=15.0)
E(data.add_noise, x=IMG, sigma=0.5, rng=0)
E(data.shifted_test_sets, x=IMG, rng=0, pixels=2, degrees=15.0, sigma=1.0)
# -- baselines
E(baselines.build_model, name="convnet", rng=0)
E(baselines.train_baseline, name="convnet", epochs=0, seed=0, verbose=False, record=SLOW)
E(baselines.baseline, name="convnet", epochs=0, seed=0, record=SLOW)

# -- distill
E(distill.softmax, z=LOGITS, T=2.0, kinds={"T": "positive"})
E(distill.log_softmax, z=LOGITS, T=2.0, kinds={"T": "positive"})
E(distill.kd_loss, student_logits=LOGITS, teacher_logits=LOGITS, labels=Y, T=2.0, alpha=0.5,
  kinds={"T": "positive", "alpha": "fraction"})
E(distill.kd_loss_as_written, student_logits=LOGITS, teacher_logits=LOGITS, T=2.0, kinds={"T": "positive"})
E(distill.KDLoss, teacher=MLP, T=2.0, alpha=0.5, as_written=False,
  kinds={"T": "positive", "alpha": "fraction"})
E(distill.jitter, x=IMG, rng=0, max_shift=1)
E(distill.distill, teacher=mlp(1), student=MLP, X=X, y=Y, T=2.0, alpha=0.5, epochs=1, batch_size=4,
  optimizer=nn.SGD(MLP, 0.1), rng=0, verbose=False, kinds={"T": "positive", "alpha": "fraction"},
  keep=("optimizer",))

# -- formats
R(formats.Encoding, "a record of arrays; decode() and load_encodings() check it (test_formats_hostile.py)")
E(formats.encode, w=W, fmt="int8", kinds={"fmt": "format"})
E(formats.decode, enc=ENC)
E(formats.size_bits, w=W, fmt="csr", kinds={"fmt": "format"})
E(formats.smallest, w=W, fmts=("int8", "csr"))
E(matrix_view, shape=(3, 4))
E(formats.save_model, path="/dev/null", model=MLP, fmt="fp32", layout="packed", kinds={"fmt": "format"},
  keep=("path",))
E(pack_parts, parts={"header": np.array([3], np.int32), "values": np.zeros(3, np.float32)})
E(formats.load_model, path="/dev/null", model=MLP, record="hostile files: tests/test_formats_hostile.py")
E(model_encodings, model=MLP, fmt="fp32", kinds={"fmt": "format"})
R(formats.Encoded, "an abstract base: no arguments")
E(formats.StoredLayer, weight=ENC, bias=np.zeros(3, np.float32), stride=1, padding=0)
E(formats.CompressedLinear, weight=ENC, bias=np.zeros(3, np.float32), stride=1, padding=0)
E(formats.CompressedConv2d, weight=formats.encode(W4, "int8"), bias=np.zeros(2, np.float32), stride=1,
  padding=0)
E(formats.SparseLinear, weight=formats.encode(W, "csr"), bias=np.zeros(3, np.float32))
E(formats.SparseConv2d, weight=formats.encode(W4, "csr"), bias=np.zeros(2, np.float32))
E(formats.compress_layer, layer=FC, fmt="int8", kinds={"fmt": "format"})
E(formats.to_sparse, model=MLP, min_sparsity=0.0, kinds={"min_sparsity": "fraction"})
E(formats.symmetric_quantize, w=W, bits=8, scale=1.0, per_channel=False, kinds={"scale": "positive"})
E(formats.symmetric_dequantize, q=Q8, scale=1.0, bits=8, dtype=np.float32, kinds={"scale": "positive"})

# -- grading


# -- grading
E(grading.Check, function="f", reference=np.sum, args=lambda: None,
  record="a record the exercise modules build")
R(grading.Mistake, "a record the exercise modules build")
R(grading.Difference, "a record returned by difference")
R(grading.Failure, "a record in a Result")
R(grading.Result, "a record returned by grade_function")
R(grading.Submission, "a record returned by grade_submission")
R(grading.GraderError, "an exception class")
R(grading.CallTimeout, "an exception class")
R(grading.WorkerDied, "an exception class")
E(grading.difference, expected=np.ones(3), got=np.ones(3), rtol=1e-5, atol=1e-6, dtype="kind",
  kinds={"rtol": "nonnegative", "atol": "nonnegative"}, keep=("expected", "got"))  # any answer: a Difference
E(grading.show, value=np.ones(3), keep=("value",))  # shows any value
E(grading.checks_for, exercise="ex01_pruning")
E(grading.exercise_for, path=EXERCISE, exercise="ex01_pruning")
R(grading.exercise_names, "no arguments")
E(grading.InProcess, namespace=types.SimpleNamespace(f=np.sum), record="wraps trusted functions")
E(grading.StudentProcess, path=EXERCISE, record="imports (runs) a student's file in a worker process")
E(grading.grade_function, student=None, check=None, record="grades one function (tests/test_grading*.py)")
E(grading.grade_submission, path=EXERCISE, exercise="ex01_pruning",
  record="grades a file in a worker process")
E(grading.check_files, paths=[EXERCISE], record="grades files (tests/test_grading*.py)")
E(grading.submission_files, paths=[EXERCISE])

# -- lowrank
E(lowrank.svd_truncate, W=W, rank=2)
E(lowrank.rank_for_energy, s=np.array([3.0, 2.0, 1.0]), energy=0.9, kinds={"energy": "fraction"})
E(lowrank.factorize_linear, layer=FC, rank=2)
E(lowrank.factorize_conv, layer=CONV, rank=1)
E(lowrank.unfold, T=T3, mode=1, valid={"T": NONFINITE})  # layout only
E(lowrank.fold, M=lowrank.unfold(T3, 1), mode=1, shape=(3, 4, 2), valid={"M": NONFINITE})  # layout only
# a product, as np.dot
E(lowrank.mode_dot, T=T3, M=np.ones((2, 4)), mode=1, valid={"T": NONFINITE, "M": NONFINITE})
E(lowrank.hosvd, T=T3, ranks=[2, 2, 1])
E(lowrank.hooi, T=T3, ranks=[2, 2, 1], n_iter=2, tol=1e-10, kinds={"tol": "nonnegative"})
E(lowrank.tucker_to_tensor, core=np.ones((2, 2, 1)),
  factors=[np.ones((3, 2)), np.ones((4, 2)), np.ones((2, 1))])
E(lowrank.cp_als, T=T3, rank=1, n_iter=5, tol=1e-12, rng=0, init="svd", n_restarts=1,
  kinds={"tol": "nonnegative"})
E(lowrank.cp_to_tensor, weights=np.ones(1), factors=[np.ones((3, 1)), np.ones((4, 1)), np.ones((2, 1))])
E(lowrank.tucker2_conv, layer=Conv2d(2, 2, 3), ranks=(1, 1), n_iter=1)
E(lowrank.rank_for_budget, layer=Linear(8, 8), max_params=40)
E(lowrank.break_even_rank, layer=FC)
E(factorized_num_params, layer=FC, rank=2)
E(lowrank.weight_matrix, layer=CONV)
E(lowrank.svd, W=W, full_matrices=False)
E(lowrank.svd_flip, U=np.eye(3), Vt=np.eye(3))
R(TruncatedSVD, "a record returned by svd_truncate")
E(lowrank.multi_mode_dot, T=T3, matrices=[np.ones((2, 3)), np.ones((2, 4))], modes=[0, 1],
  valid={"T": NONFINITE})  # a product, as np.dot
E(lowrank.khatri_rao, matrices=[np.ones((3, 2)), np.ones((4, 2))])
E(tucker_error, T=T3, core=np.ones((2, 2, 1)),
  factors=[np.ones((3, 2)), np.ones((4, 2)), np.ones((2, 1))])

# -- metrics
R(SizeReport, "a record returned by model_size_bits")
E(metrics.model_size_bits, model=MLP, fmt="fp32", kinds={"fmt": "format"})
E(metrics.compression_ratio, original=1000, compressed=100)
E(metrics.compression_ratio_text, original=1000, compressed=100)
E(metrics.parameter_counts, model=MLP)
E(metrics.sparsity, model=MLP, weights_only=False)
E(metrics.accuracy, model=MLP, X=X, y=Y, batch_size=4)
E(metrics.accuracy_loss, reference=0.9, compressed=0.8,
  kinds={"reference": "fraction", "compressed": "fraction"})
R(FlopsReport, "a record returned by flops")
E(metrics.flops, model=NET, input_shape=(1, 8, 8))
R(LatencyReport, "a record returned by latency")
E(metrics.latency, model=MLP, X=X, repeats=1, warmup=0, valid={"X": NONFINITE})  # times, whatever the values
R(metrics.thread_settings, "no arguments")

# -- pipeline and plots
R(pipeline.TourContext, "a record the tour builds")
E(pipeline.measure, model=MLP, method="float", ctx=CTX, fmt="fp32", latency_batch=2,
  kinds={"fmt": "format", "method": "name"})
E(pipeline.report, rows=[ROW], fmt="markdown")
E(pipeline.tour, quick=True, seed=0, record=SLOW)
E(pipeline.make_figures, outdir="figures", quick=True, record=SLOW)
E(plots.new_figure, title="t", xlabel="x", ylabel="y", ncols=1, size=(2.0, 2.0), record="matplotlib set-up")
E(plots.save_figure, fig=None, path="x.png", record="matplotlib output")

# -- prune
E(prune.magnitude_threshold, w=W, sparsity=0.5, kinds={"sparsity": "fraction"})
E(prune.magnitude_mask, w=W, sparsity=0.5, kinds={"sparsity": "fraction"})
E(mask_from_scores, scores=np.abs(W), sparsity=0.5, kinds={"sparsity": "fraction"})
E(score_threshold, scores=np.abs(W), sparsity=0.5, kinds={"sparsity": "fraction"})
E(n_to_prune, n=10, sparsity=0.5, kinds={"sparsity": "fraction"})
E(prune.text_snippet_prune, w=W, ratio=0.5)  # out of [0, 1]: the text's RuntimeError, on purpose
E(prune.prune_model, model=MLP, sparsity=0.5, scope="layer", criterion="magnitude", include=("weight",),
  apply=True, kinds={"sparsity": "fraction"})
E(prune.scope_masks, scores={"a": np.abs(W)}, sparsity=0.5, scope="global", kinds={"sparsity": "fraction"})
E(prune.apply_masks, model=MLP, masks={"fc1.weight": np.ones((3, 4), bool)})
E(prune.MaskHook, masks={"fc1.weight": np.ones((3, 4), bool)})
E(select_parameters, model=MLP, include=("weight",))
E(prune.sparsity_of, masks={"a": np.ones(3, bool)})
E(prune.l1_penalty, model=MLP, lam=0.1, include=("weight",), kinds={"lam": "nonnegative"})
E(prune.L1Penalty, lam=0.1, include=("weight",), kinds={"lam": "nonnegative"})
E(prune.soft_threshold, w=W, t=0.1, kinds={"t": "nonnegative"})
E(prune.ProximalL1, lam=0.1, lr=0.1, include=("weight",), kinds={"lam": "nonnegative", "lr": "positive"})
E(prune.taylor_saliency, w=W, g=W)
E(prune.loss_gradients, model=MLP, X=X, y=Y, batch_size=4)
E(prune.hessian_diagonal, model=MLP, X=X, y=Y, layer="fc2", param="weight", method="gauss-newton",
  batch_size=4, h=1e-5, kinds={"h": "positive"})
E(prune.obd_saliency, w=W, h_diag=np.abs(W))
E(prune.obs_prune, w=np.ones(3), H_inv=np.eye(3), n=1)
E(prune.quadratic_loss_increase, w_new=np.ones(3), w_star=np.zeros(3), H=np.eye(3))
E(filter_l1_norms, weight=W4)
E(prune.prune_filters, model=NET, layer_name="conv", n_keep=1)
E(prune.filter_masks, model=NET, layer_name="conv", kept=[0])
E(prune.gradual_sparsity, step=3, s_i=0.0, s_f=0.8, t0=0, n=4, dt=2,
  kinds={"s_i": "fraction", "s_f": "fraction"})
E(GradualPruning, s_f=0.8, s_i=0.0, t0=0, n=4, dt=2, scope="layer", include=("weight",),
  kinds={"s_i": "fraction", "s_f": "fraction"})
E(prune.iterative_prune, model=MLP, X=X, y=Y, s_f=0.5, rounds=1, epochs=1, lr=0.1, momentum=0.0, batch_size=4,
  rng=0, kinds={"s_f": "fraction", "lr": "positive", "momentum": "fraction"})

# -- quantize
E(quantize.binarize, w=W)
E(quantize.binarize_scaled, w=W, per_channel=False)
E(quantize.ternarize, w=W, delta=0.5, per_channel=False, kinds={"delta": "nonnegative"})
E(quantize.int8_quantize, w=W, scale=1.0, per_channel=False, kinds={"scale": "positive"})
E(quantize.int8_dequantize, q=Q8, scale=1.0, dtype=np.float32, kinds={"scale": "positive"})
E(quantize.quantize_affine, x=X, scale=0.1, zero_point=128, qmin=0, qmax=255, kinds={"scale": "positive"})
E(quantize.dequantize_affine, q=np.zeros(3, np.uint8), scale=0.1, zero_point=128, qmin=0, qmax=255,
  dtype=np.float32, kinds={"scale": "positive"})
E(quantize.calibrate, x=X, method="minmax", bits=8, signed=False, percentile=99.0, n_grid=10,
  valid={"x": ("ragged",)})  # a list of batches of any lengths
E(quantize.fake_quantize_forward, x=X, scale=0.1, zero_point=0, qmin=-128, qmax=127,
  kinds={"scale": "positive"})
E(quantize.fake_quantize_backward, dout=X, cache=np.ones(X.shape, bool))
E(quantize.quantize_dynamic, model=MLP, layer_types=(Linear,))
E(quantize.int_matmul, a=np.ones((2, 3), np.uint8), b=np.ones((3, 2), np.int8))
E(quantize.xnor_matmul, a_bits=quantize.pack_signs(W), b_bits=quantize.pack_signs(W), k=4)
E(quantize.integer_only, model=mlp(), X_calib=X, activations="int8", calibration="minmax")
E(quantize.binary_scale, w=W, per_channel=False)
E(ternary_threshold, w=W, factor=0.7, per_channel=False, kinds={"factor": "nonnegative"})
E(QParams, scale=0.1, zero_point=0, qmin=-128, qmax=127, record="a record returned by calibrate")
E(integer_range, bits=8, signed=False)
E(affine_params, lo=-1.0, hi=1.0, bits=8, signed=False)
E(quantize.fake_quantize_affine, x=X, qp=QP)
E(quantize.quantize_multiplier, M=0.5, kinds={"M": "positive"}, valid={"M": ("list",)})  # one per channel
E(multiply_by_quantized_multiplier, acc=np.ones(3, np.int32), M0=2**30, n=3)
E(zero_point_matmul, q1=np.ones((2, 3), np.uint8), z1=1, q2=np.ones((4, 3), np.int8), z2=0)
E(quantize.pack_signs, x=W, axis=-1)
E(quantize.unpack_signs, bits=quantize.pack_signs(W), k=4, axis=-1, dtype=np.float32)
E(quantized_values, w=W, scheme="int8", per_channel=True)
E(weight_encoding, w=W, scheme="int8", per_channel=True)
E(quantize.quantize_weights, model=MLP, scheme="int8", per_channel=True, layer_types=(Linear, Conv2d))
E(QATLinear, layer=FC, scheme="binary", per_channel=True)
E(QATConv2d, layer=CONV, scheme="binary", per_channel=True)
E(quantize.prepare_qat, model=MLP, scheme="binary", per_channel=True, layer_types=(Linear, Conv2d))
E(quantize.convert_qat, model=quantize.prepare_qat(mlp(), "binary"))
E(quantize.ShadowClip, limit=1.0, kinds={"limit": "positive"})
E(quantize.DynamicQuantLinear, layer=FC)
E(IntegerModel, fc=FC, bad={"fc": [Bad(3, "int"), Bad(None, "None")]})

# -- combine
E(combine.prune_then_quantize, model=MLP, sparsity=0.5, bits=8, scope="layer", epochs=0, lr=0.1,
  kinds={"sparsity": "fraction", "lr": "positive"})
E(combine.factorize_then_quantize, model=MLP, ranks={"fc1": 2}, bits=8, epochs=0, lr=0.1,
  kinds={"lr": "positive"})
E(combine.factorize_then_prune, model=MLP, ranks={"fc1": 2}, sparsity=0.5, bits=32, epochs=0, lr=0.1,
  kinds={"sparsity": "fraction", "lr": "positive"})
E(combine.compress, model=MLP, plan={"fc1": combine.LayerPlan(0.5, 8)}, epochs=0, lr=0.1, batch_size=4,
  scope="layer", per_channel=True, storage="auto", rng=0, kinds={"lr": "positive"})
E(combine.LayerPlan, sparsity=0.5, bits=8, rank=2, kinds={"sparsity": "fraction"})
E(combine.sensitivity, model=MLP, X=X, y=Y, sparsities=(0.5,), bits=(8,), per_channel=True)
E(combine.validation_split, X=X, y=Y, fraction=0.25, rng=0, kinds={"fraction": "fraction"},
  valid={"X": NONFINITE})  # splits rows, computes nothing from them
E(combine.auto_compress, model=MLP, data=split(), max_accuracy_loss=100.0, sparsities=(0.5,), bits=(8,),
  val_fraction=0.5, epochs=0, lr=0.1, max_verifications=1, per_channel=True, rng=0,
  kinds={"max_accuracy_loss": "nonnegative", "val_fraction": "fraction", "lr": "positive"})
E(combine.compress_weight, w=W, bits=8, per_channel=True, storage="auto")
E(combine.weight_layer_names, model=MLP)
E(pruned_weight, w=W, sparsity=0.5, kinds={"sparsity": "fraction"})
E(option_grid, sparsities=(0.5,), bits=(8,))
E(estimated_losses, table=combine.sensitivity(MLP, X, Y, sparsities=(0.5,), bits=(8,)),
  options=option_grid((0.5,), (8,)))
E(combine.greedy_path, sizes=np.array([[10.0, 5.0]]), losses=np.array([[0.0, 1.0]]), eps=1e-3,
  kinds={"eps": "positive"})

# -- merged later: second-order pruning, N:M, lottery tickets (issue 12)
H3 = np.eye(4) * 2.0 + 0.1
E(lowrank.cp_als_step, T=T3, factors=[np.ones((3, 1)), np.ones((4, 1)), np.ones((2, 1))], mode=1)
E(metrics.layer_macs, layer=FC, x_shape=(4,))
E(pipeline.evaluate_file, path=IDX, record="loads a saved model file (test_formats_hostile.py, test_cli.py)")
E(pipeline.title, ctx=CTX)
E(prune.accuracy_without_retraining, model=MLP, calibration=(X, Y), test=(X, Y), sparsities=(0.5,),
  methods=("magnitude",))
E(flat_weights, model=MLP, include=("weight",))
E(prune.full_hessian, model=mlp().to(np.float64), X=X.astype(np.float64), y=Y, include=("weight",), h=1e-4,
  kinds={"h": "positive"})
E(prune.gauss_newton_matrix, model=mlp().to(np.float64), X=X.astype(np.float64), include=("weight",))
E(prune.hessian_by_loss_differences, model=mlp().to(np.float64), X=X.astype(np.float64), y=Y,
  pairs=[(0, 1)], include=("weight",), h=1e-3, kinds={"h": "positive"})
E(inverse_hessian_cholesky, H=H3)
E(prune.layer_hessian, layer=FC, x=X, damp=0.01, batch_size=4, kinds={"damp": "nonnegative"})
E(prune.layer_inputs, model=MLP, X=X, names=["fc1"], batch_size=4)
E(prune.lottery_ticket, model_fn=mlp, X=X, y=Y, rate=0.5, rounds=1, rewind_to=0, epochs=1, lr=0.1,
  momentum=0.0,
  batch_size=4, scope="global", include=("weight",), controls=False, rng=0, validation=(X, Y),
  kinds={"rate": "fraction", "lr": "positive", "momentum": "fraction"})
E(prune.nm_mask, w=W, n=2, m=4)
E(nm_mask_from_scores, scores=np.abs(W), n=2, m=4)
E(prune.obs_update, w=np.ones(4), H_inv=np.linalg.inv(H3), q=1)
E(parse_pattern, pattern="2:4")
E(prune.prune_at_init, model_fn=mlp, X=X, y=Y, sparsity=0.5, method="snip", batch=4, epochs=1, lr=0.1,
  momentum=0.0, batch_size=4, rng=0, validation=(X, Y),
  kinds={"sparsity": "fraction", "lr": "positive", "momentum": "fraction"})
E(prune_oneshot, model=MLP, method="magnitude", sparsity=0.5, calibration=(X, Y),
  kinds={"sparsity": "fraction"})
E(prune_survivors, model=MLP, masks={"fc1.weight": np.ones((3, 4), bool),
  "fc2.weight": np.ones((2, 3), bool)},
  rate=0.5, scope="global", include=("weight",), kinds={"rate": "fraction"},
  valid={"masks": ("none",)})  # None: every weight survives so far
E(prune.random_masks, masks={"fc1.weight": np.ones((3, 4), bool)}, rng=0)
E(prune.removal_comparison, model=Sequential(fc=Linear(4, 2, rng=0)).to(np.float64),
  X=X.astype(np.float64), y=Y, ks=[1, 2],
  include=("weight",), damp=1e-3, h=1e-4, kinds={"damp": "nonnegative", "h": "positive"})
E(set_flat_weights, model=MLP, theta=np.zeros(18, np.float32), include=("weight",))
E(prune.snip_masks, model=MLP, X=X, y=Y, sparsity=0.5, include=("weight",), apply=True,
  kinds={"sparsity": "fraction"})
E(prune.sparsegpt, model=MLP, X=X, sparsity=0.5, blocksize=2, damp=0.01, kinds={"sparsity": "fraction",
  "damp": "nonnegative"})
E(prune.sparsegpt_prune, W=W.astype(np.float64), H=H3, sparsity=0.5, blocksize=2,
  kinds={"sparsity": "fraction"})
E(train_masked, model=MLP, masks={"fc1.weight": np.ones((3, 4), bool)}, X=X, y=Y, epochs=1, lr=0.1,
  momentum=0.0, batch_size=4, rng=0, kinds={"lr": "positive", "momentum": "fraction"},
  valid={"masks": ("none",)})  # None: train the dense model

# -- merged later: GPTQ, AdaRound, equalization, activation quantization, LSQ, PACT, XNOR (issue 13)
_V = np.zeros((3, 4))
_FLOOR, _STEP = np.floor(W / 0.1).astype(np.float64), np.full((3, 1), 0.1)
_ADA_CACHE = adaround_loss_forward(_V, W.astype(np.float64), _FLOOR, _STEP, np.eye(4), 2.0, 0.01)[1]
_LSQ_CACHE = quantize.lsq_forward(X, 0.1, 8, 7)[1]
_PACT_CACHE = pact_forward(X, 1.0, 4)[1]
E(quantize.ActQuant, bits=8, method="minmax", momentum=0.01, percentile=99.0, kinds={"momentum": "fraction"})
E(Observer, method="minmax", momentum=0.01, percentile=99.0, max_samples=100,
  kinds={"momentum": "fraction"})
E(XnorLinear, layer=FC)
E(XnorConv2d, layer=CONV)
E(quantize.adaround, model=MLP, X=X, bits=4, per_channel=True, iters=2, lam=0.01, lr=0.01,
  kinds={"lam": "nonnegative", "lr": "positive"})
E(adaround_loss_forward, V=_V, w=W.astype(np.float64), floor=_FLOOR, step=_STEP, Hx=np.eye(4),
  beta=2.0, lam=0.01, kinds={"beta": "positive", "lam": "nonnegative"})
E(adaround_loss_backward, dout=1.0, cache=_ADA_CACHE, keep=("cache",))  # the forward's own
E(quantize.bias_correction, float_model=MLP, quant_model=quantize.quantize_weights(MLP, "int8"), X=X)
E(quantize.calibrate_activations, model=quantize.prepare_qat(mlp(), "int8", activations=True), X=X,
  batch_size=4)
E(cle_scales, r1=np.ones(3), r2=np.full(3, 4.0))
E(quantize.convert_xnor, model=quantize.prepare_xnor(mlp()))
E(entropy_threshold, x=np.abs(X), levels=128, bins=2048)
E(quantize.equalize, model=MLP, iterations=1)
E(quantize.gptq, model=MLP, X=X, bits=4, per_channel=True, damp=0.01, act_order=False, blocksize=2,
  kinds={"damp": "nonnegative"})
E(quantize.gptq_column_update, w=W.astype(np.float64), U=quantize.gptq_hessian_inverse(H3), j=1,
  w_hat_j=np.zeros(3))
E(quantize.gptq_hessian_inverse, H=H3)
E(gptq_quantize, W=W.astype(np.float64), H=H3, bits=4, per_channel=True, act_order=False,
  blocksize=2)
E(quantize.lsq_forward, x=X, step=0.1, Qn=8, Qp=7, grad_scale=1.0, kinds={"step": "positive",
  "grad_scale": "positive"},
  valid={"step": ("list",)})  # step may be the learnable (1,) parameter
E(quantize.lsq_backward, dout=np.ones(X.shape, np.float32), cache=_LSQ_CACHE, keep=("cache",))
E(pact_forward, x=X, alpha=1.0, bits=4, signed=False, kinds={"alpha": "positive"},
  valid={"alpha": ("list",)})  # alpha may be the learnable (1,) parameter
E(pact_backward, dout=np.ones(X.shape, np.float32), cache=_PACT_CACHE, keep=("cache",))
E(quantize.prepare_xnor, model=MLP, layer_types=(Linear, Conv2d))
E(rectified_sigmoid, V=_V)

# -- merged later: Deep Compression (issue 11)
_LEN = np.array([1, 2, 2], np.int64)  # a complete prefix code for three symbols
_KIDX, _KC = quantize.kmeans_quantize(W, 2, rng=0)
E(combine.deep_compression, model=MLP, X=X, y=Y, sparsity=0.25, bits=2, index_bits=3, scope="layer", epochs=0,
  centroid_epochs=0, lr=0.1, centroid_lr=0.1, batch_size=4, init="linear", n_iter=2, fmt="huffman", rng=0,
  kinds={"sparsity": "fraction", "lr": "positive", "centroid_lr": "positive"})
_DEEP = combine.deep_compression(mlp(), X, Y, sparsity=0.25, bits=2, epochs=0, centroid_epochs=0, n_iter=2)
E(combine.deep_compression_table, report=_DEEP[1])
E(formats.canonical_codes, lengths=_LEN)
E(formats.entry_positions, gaps=np.array([0, 2, 1]))
E(formats.huffman_code_lengths, counts=np.array([5, 2, 2]))
E(huffman_encode, symbols=np.array([0, 1, 2, 0]), lengths=_LEN)
_PACKED = huffman_encode(np.array([0, 1, 2, 0]), _LEN)[0]
E(huffman_decode, packed=_PACKED, nbits=6, lengths=_LEN, count=4)
E(formats.index_width, k=5)
E(formats.kraft_sum, lengths=_LEN)
E(formats.mean_code_length, counts=np.array([5, 2, 2]), lengths=_LEN)
E(formats.relative_indices, positions=np.array([0, 3, 20]), index_bits=3)
E(formats.shannon_entropy, counts=np.array([5, 2, 2]))
E(quantize.CentroidHook, indices={"fc1.weight": _KIDX})
E(quantize.centroid_gradient, dw=W, indices=_KIDX, k=4)
E(quantize.kmeans_assign, w=W, centroids=_KC)
E(quantize.kmeans_dequantize, indices=_KIDX, centroids=_KC, dtype=np.float32)
E(kmeans_init, values=W.ravel(), k=4, init="linear", rng=0)
E(kmeans_objective, values=W.ravel(), indices=_KIDX.ravel(), centroids=_KC)
E(quantize.kmeans_quantize, w=W, bits=2, init="linear", n_iter=5, rng=0)
E(kmeans_step, values=W.ravel(), centroids=_KC)
