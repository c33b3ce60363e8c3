"""The source text's errata that tutorial 07 (and 04) show, each checked here: the snippets
of 3.2.2 and 5.1 cannot run, 4.4.1's orthogonality holds for the full SVD only, 4.1.2's
penalty covers the biases too, and the tutorial's measurements that answer 2.3, 8.1 and 1.3.

The snippets are read from tutorials/07_faq.md itself, so the test checks the quotation the
reader sees.
"""

import ast
import builtins
import re
import sys
import types

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minicompress.lowrank import svd_truncate
from minicompress.nn import MLP
from minicompress.prune import l1_penalty
from tests.tutorial_runner import blocks, read, run_notebook


def snippet(name: str) -> str:
    """The string the FAQ tutorial assigns to ``name`` in one of its python blocks."""
    for block in blocks(read("07_faq.md")):
        for node in ast.parse(block.code).body:
            if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == [name]:
                return ast.literal_eval(node.value)
    raise LookupError(f"07_faq.md assigns no {name}")


def undefined_names(code: str) -> set[str]:
    tree = ast.parse(code)
    bound = {a.asname or a.name.split(".")[0] for n in ast.walk(tree)
             if isinstance(n, (ast.Import, ast.ImportFrom)) for a in n.names}
    bound |= {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    return used - bound - set(dir(builtins))


# ----------------------------------------------------------------------------- 3.2.2 and 5.1
def test_3_2_2_uses_convnet_and_nn_without_defining_them(monkeypatch):
    code = snippet("SNIPPET_3_2_2")
    assert "torch.quantization.quantize_dynamic" in code
    assert undefined_names(code) == {"ConvNet", "nn"}
    torch = types.ModuleType("torch")  # a stand-in: only the names matter here
    torch.qint8 = "qint8"
    torch.quantization = types.SimpleNamespace(quantize_dynamic=lambda model, types, dtype: model)
    monkeypatch.setitem(sys.modules, "torch", torch)
    with pytest.raises(NameError, match="name 'ConvNet' is not defined"):
        exec(compile(code, "3.2.2", "exec"), {})
    with pytest.raises(NameError, match="name 'nn' is not defined"):
        exec(compile(code, "3.2.2", "exec"), {"ConvNet": lambda: "a model"})


def test_5_1_class_with_only_a_comment_is_a_syntax_error():
    code = snippet("SNIPPET_5_1")
    assert "class ConvNet(nn.Module):\n    # ...\n" in code
    with pytest.raises(SyntaxError, match="expected an indented block after class definition"):
        compile(code, "5.1", "exec")
    fixed = code.replace("    # ...\n", "    pass\n")
    compile(fixed, "5.1", "exec")  # a body is all it lacks to compile


# ----------------------------------------------------------------------------- 4.4.1
def test_4_4_1_by_hand_truncated_u_is_not_orthogonal():
    W = np.diag([3.0, 2.0, 1.0])
    _, U, _, Vt = svd_truncate(W, 2)                 # U = e1, e2 (signs fixed positive)
    np.testing.assert_allclose(U.T @ U, np.eye(2))
    np.testing.assert_allclose(U @ U.T, np.diag([1.0, 1.0, 0.0]), atol=1e-15)  # a projection


@given(st.integers(2, 7), st.integers(2, 7), st.data())
def test_4_4_1_truncated_factors_have_orthonormal_columns_only(m, n, data):
    r = data.draw(st.integers(1, min(m, n) - 1))
    W = np.random.default_rng(m * 10 + n).standard_normal((m, n))
    _, U, _, Vt = svd_truncate(W, r)
    for Q in (U, Vt.T):
        np.testing.assert_allclose(Q.T @ Q, np.eye(r), atol=1e-12)     # orthonormal columns
        P = Q @ Q.T
        np.testing.assert_allclose(np.trace(P), r, atol=1e-12)         # rank-r projection,
        assert not np.allclose(P, np.eye(len(P)))                      # not the identity
    U_full, _, Vt_full = np.linalg.svd(W)
    np.testing.assert_allclose(U_full @ U_full.T, np.eye(m), atol=1e-12)   # the full SVD is
    np.testing.assert_allclose(Vt_full.T @ Vt_full, np.eye(n), atol=1e-12)  # orthogonal


# ----------------------------------------------------------------------------- 4.1.2
def test_4_1_2_the_texts_sum_covers_the_biases_the_default_does_not():
    model = MLP([3, 2, 2], rng=0).to(np.float64)
    lam = 0.5
    params = dict(model.named_parameters())
    weights = lam * sum(np.abs(p).sum() for n, p in params.items() if n.endswith("weight"))
    everything = lam * sum(np.abs(p).sum() for p in params.values())
    value, grads = l1_penalty(model, lam)
    assert value == pytest.approx(weights) and set(grads) == {"fc1.weight", "fc2.weight"}
    value, grads = l1_penalty(model, lam, include=("weight", "bias"))
    assert value == pytest.approx(everything) and set(grads) == set(params)  # the text's n
    np.testing.assert_array_equal(grads["fc1.bias"], lam * np.sign(params["fc1.bias"]))


# ----------------------------------------------------------------------------- 2.3, 8.1, 1.3
def _percentages(pattern: str, out: str) -> list[float]:
    m = re.search(pattern, out)
    assert m, f"tutorial 07 no longer prints {pattern!r}"
    return [float(v) for v in m.groups()]


@pytest.mark.slow
def test_the_faq_measurements_answer_2_3_8_1_and_1_3():
    out = run_notebook("07_faq.md").output
    # 2.3: the 98%-pruned model, as the student of the dense one, recovers most of its loss
    pruned, labels, distilled, dense = _percentages(
        r"98% pruned: ([\d.]+)%; fine-tuned on the labels ([\d.]+)%; "
        r"distilled from the dense model ([\d.]+)% \(dense ([\d.]+)%\)", out)
    assert distilled > pruned + 20 and labels > pruned + 20 and distilled > dense - 10
    # 8.1: int8 and 50% pruning with fine-tuning lose nothing measurable
    assert "int8 loss +0.0 points" in out
    plain, longer, half = _percentages(
        r"dense ([\d.]+)%; dense \+ 2 epochs ([\d.]+)%; pruned 50% \+ 2 epochs ([\d.]+)%", out)
    assert half >= plain and half >= longer - 0.2
    # ... and so do the tour's committed rows (benchmarks/results/tour.json)
    assert int(re.search(r"(\d+) with no loss at all", out).group(1)) >= 1
    # 8.3: retraining recovers most of what binarising and masking lost (the tour's rows)
    recovered = [int(v) for v in re.findall(r"\((\d+)% of it recovered\)", out)]
    assert len(recovered) == 5 and min(recovered) >= 80
    # 1.3: every compression of the trained model costs at least its training
    ratios = [float(v) for v in re.findall(r"^\+ .*\(([\d.]+)x the dense training\)$", out, re.M)]
    assert len(ratios) == 4 and min(ratios) >= 1.0
