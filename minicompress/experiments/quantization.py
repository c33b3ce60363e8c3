"""Tour section: quantization (text sections 3.2, 4.2, 5.2) on ConvNet and LeNet300_100.

Rows per model: post-training int8 (per tensor, per channel), binary and ternary without
retraining, binary and ternary after QAT fine-tuning from the float baseline
(BinaryConnect-style, STE), the text's dynamic quantization of Linear layers, and
integer-only inference (Jacob et al. 2018; int8 activations as TFLite).  Beyond the text
(:mod:`.quantization_beyond`): RTN and GPTQ at 2 and 3 bits, W4A4 QAT, an XNOR network.  Sizes are each
layer's own ``storage_bits()`` (packed codes + scales + biases), summed by
``metrics.model_size_bits(model, "auto")``.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np

from ..formats.symmetric import symmetric_round_trip
from ..nn import Conv2d, Linear
from ..quantize import (
    ShadowClip,
    binary_scale,
    convert_qat,
    int8_quantize,
    integer_only,
    prepare_qat,
    quantize_dynamic,
    quantize_weights,
    ternarize,
)
from . import quantization_beyond
from .scaffold import LR, TourContext, accuracy, measure, train

TITLE = "quantization (3.2 / 4.2): int8, binary, ternary, QAT, dynamic, integer-only"
MODELS = [("convnet", "ConvNet (dense fp32)", "ConvNet"),
          ("lenet300", "LeNet300_100 (dense fp32)", "LeNet300_100")]

#: Post-training rows: (scheme, per_channel, label); binary/ternary use per-channel alphas.
PTQ_ROWS = [("int8", False, "PTQ int8 per-tensor"), ("int8", True, "PTQ int8 per-channel"),
            ("binary", True, "binary, no retraining"), ("ternary", True, "ternary, no retraining")]

#: QAT fine-tuning (from the trained baseline): the recipe at the training rate, 2 epochs;
#: a quick run fine-tunes 1 epoch on the first QUICK_QAT digits.
QAT_EPOCHS, QAT_LR, QUICK_QAT = 2, LR, 500


def _row(model, method, ctx, reference):
    return measure(model, method, ctx, reference=reference, fmt="auto")


def qat_finetune(model, scheme: str, ctx: TourContext, label: str = "QAT"):
    """Fine-tune a QAT copy of ``model`` (shadow weights clipped to the STE window) and freeze it."""
    qat = prepare_qat(model, scheme)
    with ctx.step(f"{label} {scheme}") as step:
        train(qat, ctx, epochs=ctx.epochs(QAT_EPOCHS, 1), lr=QAT_LR, data=ctx.train_data(QUICK_QAT),
              hooks=[ShadowClip()], tick=step)
    return convert_qat(qat)


def tour_rows(ctx: TourContext) -> list[dict]:
    rows = []
    calib = ctx.data.X_train[:500]
    for name, ref, short in MODELS:
        base = ctx.baseline(name)
        for scheme, pc, label in PTQ_ROWS:
            rows.append(_row(quantize_weights(base, scheme, per_channel=pc), f"{short}: {label}", ctx, ref))
        for scheme in ("binary", "ternary"):
            qat = qat_finetune(base, scheme, ctx, f"{short} QAT")
            rows.append(_row(qat, f"{short}: {scheme} QAT", ctx, ref))
        rows.append(_row(quantize_dynamic(base), f"{short}: dynamic int8 (Linear)", ctx, ref))
        with ctx.step(f"{short} integer-only conversion and its row"):
            rows.append(_row(integer_only(base, calib), f"{short}: integer-only int8", ctx, ref))
    return rows + quantization_beyond.tour_rows(ctx, reference={name: ref for name, ref, _ in MODELS})


def _weight_bits_model(model, bits: int, per_channel: bool):
    """A copy whose Linear/Conv2d weights are replaced by their b-bit symmetric grid values."""
    model = copy.deepcopy(model)
    for _, mod in model.named_modules():
        if isinstance(mod, (Linear, Conv2d)):
            w = mod.params["weight"]
            w[...] = symmetric_round_trip(w, bits, per_channel=per_channel)
    return model


def make_figures(ctx: TourContext, outdir) -> list[Path]:
    """``quantization_error_vs_bits.png``, ``quantization_weight_histogram.png``, and those of
    :mod:`.quantization_beyond` (rounding, calibration)."""
    from ..plots.quantization import plot_error_vs_bits, plot_weight_histogram

    outdir = Path(outdir)
    base = ctx.baseline("convnet")
    weights = [base.get_submodule(n).params["weight"].astype(np.float64) for n in ("conv1", "fc")]
    bits = np.arange(2, 9)
    errors, accs = {}, {}
    for pc, label in [(False, "per-tensor"), (True, "per-channel")]:
        err = []
        for b in bits:
            num = sum(np.sum((w - symmetric_round_trip(w, int(b), per_channel=pc)) ** 2) for w in weights)
            err.append(np.sqrt(num / sum(np.sum(w**2) for w in weights)))
        errors[label] = np.array(err)
        accs[label] = np.array([100 * accuracy(_weight_bits_model(base, int(b), pc), ctx) for b in bits])
    paths = [plot_error_vs_bits(bits, errors, accs, 100 * accuracy(base, ctx),
                                outdir / "quantization_error_vs_bits.png", mark=ctx.mark)]
    w = base.fc.params["weight"]
    _, alpha_t = ternarize(w)
    levels = {"binary alpha = mean|w|": binary_scale(w),
              "ternary delta = 0.7 mean|w|": 0.7 * float(np.abs(w).mean()), "ternary alpha": alpha_t}
    paths.append(plot_weight_histogram(w, int8_quantize(w)[0], levels,
                                       outdir / "quantization_weight_histogram.png", mark=ctx.mark))
    return paths + quantization_beyond.make_figures(ctx, outdir)
