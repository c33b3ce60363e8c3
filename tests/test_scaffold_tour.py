"""The tour's scaffold: the one training recipe, the one cache, progress lines, BLAS threads,
and the format names of the results table."""

import io
import os
import re

import numpy as np
import pytest

from minicompress import baselines
from minicompress.data import Split
from minicompress.experiments import scaffold
from minicompress.experiments.format_names import _join_values, format_name, value_name
from minicompress.experiments.scaffold import FT_LR, TourContext, blas_thread_count, blas_threads, train
from minicompress.nn import MLP, SGD, ConvNet, LeNet300_100, fit
from minicompress.prune import MaskHook, prune_model


@pytest.fixture
def small(mnist):
    X, y, Xt, yt = mnist
    return Split(X[:256], y[:256], Xt[:64], yt[:64])


def test_the_recipe_is_the_baselines_sgd_bit_for_bit(small):
    """train() is fit with the baselines' lr, momentum and batch size, seeded by the context."""
    assert FT_LR == baselines.LR / 10 == 0.001  # pruning fine-tunes at a tenth of the training rate
    ctx = TourContext(data=small, seed=3, verbose=False)
    ours, theirs = MLP([784, 16, 10], rng=0), MLP([784, 16, 10], rng=0)
    masks = prune_model(ours, 0.5)
    prune_model(theirs, 0.5)
    train(ours, ctx, epochs=2, lr=FT_LR, masks=masks)
    fit(theirs, small.X_train, small.y_train, epochs=2, batch_size=baselines.BATCH_SIZE, rng=3,
        optimizer=SGD(theirs, lr=0.001, momentum=baselines.MOMENTUM), hooks=[MaskHook(masks)], verbose=False)
    for a, b in zip(ours.parameters(), theirs.parameters()):
        assert np.array_equal(a, b)
    assert all(np.all(ours.get_submodule(n.rsplit(".", 1)[0]).params["weight"][~m] == 0)
               for n, m in masks.items())


def test_quick_runs_train_on_the_first_digits(small):
    quick = TourContext(data=small, quick=True, verbose=False)
    X, y = quick.train_data(100)
    assert len(X) == 100 and np.array_equal(y, small.y_train[:100])
    assert len(TourContext(data=small, verbose=False).train_data(100)[0]) == 256
    assert quick.epochs(20, 1) == 1 and quick.mark.startswith("SMOKE RUN")
    assert TourContext(data=small, verbose=False).mark is None


def test_one_cache_held_by_the_context(small):
    calls = []
    ctx, other = TourContext(data=small, verbose=False), TourContext(data=small, verbose=False)
    make = lambda: calls.append(1) or len(calls)  # noqa: E731
    assert ctx.cached(("work", 1), make) == ctx.cached(("work", 1), make) == 1
    assert ctx.cached(("work", 2), make) == 2
    assert other.cached(("work", 1), make) == 3  # a new context computes afresh
    assert not any(name.isupper() and isinstance(getattr(scaffold, name), dict) and name.startswith("_")
                   for name in dir(scaffold))


def test_progress_lines_tick_per_epoch_and_give_seconds(small):
    out = io.StringIO()
    ctx = TourContext(data=small, stream=out)
    with ctx.step("MLP, 3 epochs") as step:
        train(MLP([784, 8, 10], rng=0), ctx, epochs=3, tick=step)
    with ctx.step("cached", lazy=True):
        pass  # nothing trained: nothing printed
    with ctx.step("interrupted") as step:
        train(MLP([784, 8, 10], rng=0), ctx, epochs=1, tick=step)
        ctx.log("a line in between")
    lines = out.getvalue().splitlines()
    assert re.fullmatch(r"  MLP, 3 epochs \.\.\. \d+\.\d s", lines[0]), lines
    assert lines[1] == "  interrupted ." and lines[2] == "  a line in between"
    assert re.fullmatch(r"  interrupted: \d+\.\d s", lines[3]) and len(lines) == 4
    quiet = TourContext(data=small, verbose=False, stream=out)
    quiet.log("never shown")
    assert "never shown" not in out.getvalue()


def test_blas_threads_are_limited_and_restored():
    before = blas_thread_count()
    with blas_threads(2):
        assert blas_thread_count() == min(2, os.cpu_count())
    assert blas_thread_count() == before
    with pytest.raises(ValueError, match="threads"):
        blas_threads(0)


# ----------------------------------------------------------------------------- format names
def test_value_names_and_how_they_join():
    assert [value_name(b) for b in (32, 16, 8, 4, 1)] == ["fp32", "fp16", "int8", "4-bit", "1-bit"]
    assert _join_values(["3-bit", "2-bit", "3-bit"]) == "2/3-bit"
    assert _join_values(["fp32", "int8"]) == "fp32/int8"
    assert _join_values(["int8", "int8"]) == "int8"
    assert _join_values(["fp32", "int8", "4-bit"]) == "mixed"


def test_format_names_read_off_the_layers(small):
    from minicompress.combine import auto_compress, prune_then_quantize
    from minicompress.formats import to_sparse
    from minicompress.quantize import integer_only, quantize_dynamic, quantize_weights

    conv = ConvNet(rng=0)
    assert format_name(conv, "fp32") == ("fp32", {"conv1": "fp32", "fc": "fp32"})
    assert format_name(conv, "bitmask").summary == "bitmask"
    assert format_name(conv, "auto").summary == "fp32"
    for scheme, name in [("int8", "int8"), ("binary", "1-bit"), ("ternary", "2-bit")]:
        assert format_name(quantize_weights(conv, scheme), "auto").summary == name
    assert format_name(quantize_dynamic(conv), "auto") == ("fp32/int8", {"conv1": "fp32", "fc": "int8"})
    assert format_name(integer_only(conv, small.X_train[:32]), "auto").summary == "int8"
    prune_model(conv, 0.9, scope="global")
    assert format_name(to_sparse(conv), "auto").summary == "csr"
    pq = prune_then_quantize(LeNet300_100(rng=0), 0.9, bits=8, epochs=0)
    per_layer = format_name(pq, "auto").per_layer
    assert set(per_layer.values()) <= {"bitmask+int8", "csr+int8"}
    assert format_name(pq, "auto").summary == ("bitmask+int8" if len(set(per_layer.values())) == 1
                                                else "sparse+int8")
    model, _ = auto_compress(MLP([784, 32, 10], rng=0), small, max_accuracy_loss=50.0, sparsities=(0.5,),
                             bits=(4, 3), epochs=0, max_verifications=1)
    name = format_name(model, "auto").summary
    assert re.fullmatch(r"(bitmask\+|csr\+|sparse\+)?(fp32|int8|mixed|[0-9/]+-bit)(/int8|/fp32)?", name), name
