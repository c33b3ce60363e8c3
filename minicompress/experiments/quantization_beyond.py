"""Tour rows and figures of the quantization section beyond the source text:

- which rounding?  LeNet300_100 at 2 and 3 bits per weight (per-channel scales) with no
  retraining, by round to nearest (the text's formula at b bits) and by GPTQ (Frantar et al.
  2023) from :data:`N_CALIBRATION` training digits; ``quantization_rounding.png`` adds
  GPTQ with act-order and AdaRound (Nagel et al. 2020) at 2, 3, 4 bits;
- W4A4: the ConvNet with 4-bit weights and 4-bit activations (LSQ, Esser et al. 2020),
  fine-tuned :data:`QAT_EPOCHS` epochs from the baseline;
- an XNOR network (Rastegari et al. 2016): 784-512-512-10 with binary weights and
  activations, trained from scratch with the STE and run on packed bits;
- which range?  ``quantization_calibration.png``: the activation calibration methods on
  the heavy-tailed input of ConvNet's fc (min-max, moving average, percentile, MSE, entropy).

``benchmarks/ptq_rounding.py``, ``benchmarks/act_calibration.py`` and
``benchmarks/qat_low_bit.py`` print these experiments' tables, for other seeds and settings.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np

from ..nn import MLP, Linear
from ..nn.calibration import layer_inputs
from ..quantize import (
    ActQuant,
    ShadowClip,
    adaround,
    calibrate_activations,
    convert_qat,
    convert_xnor,
    fake_quantize_affine,
    gptq,
    prepare_qat,
    prepare_xnor,
    quantize_weights,
)
from ..quantize.actquant import quantize_inputs
from .scaffold import TourContext, accuracy, measure, train

__all__ = ["N_CALIBRATION", "QAT_EPOCHS", "XNOR_SIZES", "XNOR_EPOCHS", "ROUNDING_METHODS",
           "CALIBRATION_METHODS", "rounded", "low_bit_qat", "xnor_network", "rounding_sweep",
           "calibration_sweep", "tour_rows", "make_figures"]

N_CALIBRATION = 1000  # training digits GPTQ, AdaRound and the activation ranges calibrate on
QAT_EPOCHS = 2
XNOR_SIZES, XNOR_EPOCHS = [784, 512, 512, 10], 10
ROUNDING_METHODS = ("round to nearest", "GPTQ", "GPTQ act-order", "AdaRound")
CALIBRATION_METHODS = ("minmax", "moving_average", "percentile", "mse", "entropy")


def _calibration(ctx: TourContext) -> np.ndarray:
    return ctx.data.X_train[:N_CALIBRATION]


def rounded(ctx: TourContext, name: str, method: str, bits: int, *, adaround_iters: int = 1000):
    """The baseline ``name`` with b-bit per-channel weights rounded by ``method`` (one of
    :data:`ROUNDING_METHODS`), no retraining; cached per context."""
    def make():
        base, X = ctx.baseline(name), _calibration(ctx)
        with ctx.step(f"{name} {method} {bits}-bit"):
            if method == "round to nearest":
                return quantize_weights(base, "int", bits=bits)
            if method == "GPTQ":
                return gptq(base, X, bits)
            if method == "GPTQ act-order":
                return gptq(base, X, bits, act_order=True)
            if method == "AdaRound":
                return adaround(base, X, bits, iters=ctx.epochs(adaround_iters, 20))
        raise ValueError(f"method must be one of {ROUNDING_METHODS}; got {method!r}")

    return ctx.cached(("rounded", name, method, bits, adaround_iters), make)


def low_bit_qat(ctx: TourContext, bits: int, act_method: str = "lsq", *, epochs: int = QAT_EPOCHS):
    """The ConvNet baseline at W<bits>A<bits>: weights and every layer's input quantized,
    ranges calibrated on the calibration digits (``act_method``: a calibration method,
    ``"lsq"`` or ``"pact"``), fine-tuned ``epochs`` epochs by the recipe, then frozen."""
    def make():
        qat = prepare_qat(ctx.baseline("convnet"), "int", bits=bits, activations=True, act_bits=bits,
                          act_method=act_method, X_calib=_calibration(ctx))
        with ctx.step(f"ConvNet W{bits}A{bits} ({act_method}) QAT") as step:
            train(qat, ctx, epochs=ctx.epochs(epochs, 1), tick=step)
        return convert_qat(qat)

    return ctx.cached(("low_bit_qat", bits, act_method, epochs), make)


def xnor_network(ctx: TourContext, sizes=XNOR_SIZES, *, epochs: int = XNOR_EPOCHS):
    """``MLP(sizes, relu=False)`` with every layer an XNOR layer (binary weights and
    activations), trained from scratch by the recipe with BinaryConnect's shadow clip, then
    converted to its packed-bit inference model."""
    def make():
        xnor = prepare_xnor(MLP(list(sizes), rng=ctx.seed, relu=False))
        with ctx.step(f"XNOR MLP {'-'.join(map(str, sizes))}, {ctx.epochs(epochs, 1)} epochs") as step:
            train(xnor, ctx, epochs=ctx.epochs(epochs, 1), hooks=[ShadowClip()], tick=step)
        return convert_xnor(xnor)

    return ctx.cached(("xnor", tuple(sizes), epochs), make)


def tour_rows(ctx: TourContext, *, reference: dict) -> list[dict]:
    """RTN and GPTQ at 2 and 3 bits (LeNet300_100), W4A4 (ConvNet), the XNOR network.
    ``reference`` maps "convnet"/"lenet300" to the dense rows the rows are compared with."""
    rows = []
    for method, bits in (("round to nearest", 2), ("GPTQ", 2), ("GPTQ", 3)):
        label = "RTN" if method == "round to nearest" else method
        rows.append(measure(rounded(ctx, "lenet300", method, bits), f"LeNet300_100: {label} {bits}-bit, "
                            f"no retraining", ctx, reference=reference["lenet300"], fmt="auto"))
    rows.append(measure(low_bit_qat(ctx, 4), "ConvNet: W4A4 QAT (LSQ activations)", ctx,
                        reference=reference["convnet"], fmt="auto"))
    rows.append(measure(xnor_network(ctx), "XNOR MLP 784-512-512-10 (vs LeNet300)", ctx,
                        reference=reference["lenet300"], fmt="auto"))
    return rows


def rounding_sweep(ctx: TourContext, name: str = "lenet300", bits=(2, 3, 4), *,
                   adaround_iters: int = 1000) -> dict:
    """``{method: [accuracy % at each of bits]}`` for every rounding method, no retraining."""
    return {m: [100 * accuracy(rounded(ctx, name, m, b, adaround_iters=adaround_iters), ctx) for b in bits]
            for m in ROUNDING_METHODS}


def _fc_input_quantized(model, bits: int, method: str, X_calib):
    """A copy of ``model`` with an ActQuant before its Linear layer (ConvNet's fc), calibrated."""
    q = quantize_inputs(copy.deepcopy(model), lambda: ActQuant(bits, method), (Linear,))
    return calibrate_activations(q, X_calib, batch_size=100)


def calibration_sweep(ctx: TourContext, bits=(2, 3, 4, 8)) -> dict:
    """Each calibration method on the input of ConvNet's fc alone: accuracy % per activation
    bit width, the 4-bit range and its MSE, and the activations themselves (for the figure)."""
    def make():
        model, X = ctx.baseline("convnet"), _calibration(ctx)
        acts = layer_inputs(model, X, ["fc"])["fc"].astype(np.float64)
        out = {"acts": acts, "bits": list(bits), "accuracy": {}, "ranges": {}, "mse": {}}
        with ctx.step("activation calibration methods on ConvNet.fc's input"):
            for method in CALIBRATION_METHODS:
                out["accuracy"][method] = []
                for b in bits:
                    q = _fc_input_quantized(model, b, method, X)
                    out["accuracy"][method].append(100 * accuracy(q, ctx))
                    if b == 4:
                        out["ranges"][method] = q.fc_in.range()
                        err = fake_quantize_affine(acts, q.fc_in.qp) - acts
                        out["mse"][method] = float(np.mean(err**2))
        return out

    return ctx.cached(("calibration_sweep", tuple(bits)), make)


def make_figures(ctx: TourContext, outdir) -> list[Path]:
    """``quantization_rounding.png`` and ``quantization_calibration.png``."""
    from ..plots.rounding import plot_calibration_methods, plot_rounding_accuracy

    outdir = Path(outdir)
    bits = (2, 3, 4)
    acc = rounding_sweep(ctx, "lenet300", bits)
    base = 100 * accuracy(ctx.baseline("lenet300"), ctx)
    paths = [plot_rounding_accuracy(np.array(bits), acc, base, outdir / "quantization_rounding.png",
                                    title="Which rounding? LeNet300_100, no retraining", mark=ctx.mark)]
    cal = calibration_sweep(ctx)
    paths.append(plot_calibration_methods(cal["acts"], cal["ranges"],
                                          {m: np.array(a) for m, a in cal["accuracy"].items()},
                                          100 * accuracy(ctx.baseline("convnet"), ctx), np.array(cal["bits"]),
                                          outdir / "quantization_calibration.png", mark=ctx.mark))
    return paths
