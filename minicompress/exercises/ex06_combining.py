"""Checks for tutorials/exercises/ex06_combining.py: the stored size of a pruned and
quantized weight (bitmask positions + b-bit codes + per-row scales, tutorial 06 part 1)
and the greedy walk of auto_compress (part 4, step 3)."""

from __future__ import annotations

import numpy as np

from .. import combine
from ..grading import Check, Difference, Mistake
from ..grading.strategies import floats, hnp, st


def bitmask_bits(w, bits):
    """Reference: bits of ``w`` (m, k) quantized per row to ``bits`` bits, stored as a bitmask."""
    return combine.compress_weight(w, bits, storage="bitmask").bits


def greedy_path(sizes, losses, eps):
    """Reference: :func:`minicompress.combine.greedy_path`, as a list of tuples."""
    return combine.greedy_path(sizes, losses, eps=eps)


@st.composite
def _weight_args(draw):
    shape = (draw(st.integers(1, 5)), draw(st.integers(1, 12)))
    # |w| >= 1e-6: a float32 scale (what the library stores) holds max|w| exactly enough that
    # the stub's float64 arithmetic gives the same codes
    w = draw(hnp.arrays(np.float64, shape, elements=st.just(0.0) | floats(1e-6, 2.0) | floats(-2.0, -1e-6)))
    return w, draw(st.sampled_from([2, 3, 4, 8]))


@st.composite
def _greedy_args(draw):
    layers, options = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    sizes = np.array(draw(hnp.arrays(np.int64, (layers, options), elements=st.integers(1, 50))), float)
    sizes[:, 0] = sizes.max(axis=1) + 1  # option 0 is the uncompressed (largest) one
    losses = draw(hnp.arrays(np.int64, (layers, options), elements=st.integers(0, 300))) / 100
    return sizes, losses, 0.01


def _same_path(expected, got, args):
    try:
        mine = [tuple(int(i) for i in s) for s in got]
    except TypeError:
        return Difference("type", "return a list of tuples of option indices, one tuple per state")
    if mine != [tuple(int(i) for i in s) for s in expected]:
        return Difference("value", "the paths differ")
    return None


def _bitmask_wrong(*, nonzero_codes=True, whole_bytes=True, scales="row", header=96):
    def wrong(w, bits):
        m, k = w.shape
        qmax = 2 ** (bits - 1) - 1
        amax = np.abs(w).max(axis=1, keepdims=True)
        codes = np.rint(w / np.where(amax > 0, amax, 1.0) * qmax)
        z = int(np.count_nonzero(codes if nonzero_codes else w))
        up = (lambda n: 8 * -(-n // 8)) if whole_bytes else (lambda n: n)
        return header + up(m * k) + up(z * bits) + 32 * (m if scales == "row" else 1)
    return wrong


def _walk(sizes, losses, eps, *, score="ratio", ties="first", start=True, use_eps=True):
    state = [0] * len(sizes)
    path = [tuple(state)] if start else []
    L, O = sizes.shape
    if ties == "option_first":  # option-major: a tie goes to the smallest option, then layer
        moves = [(layer, option) for option in range(O) for layer in range(L)]
    else:
        moves = [(layer, option) for layer in range(L) for option in range(O)]
    while True:
        best = None
        for layer, option in moves:
            saved = sizes[layer, state[layer]] - sizes[layer, option]
            if saved <= 0:
                continue
            extra = losses[layer, option] - losses[layer, state[layer]]
            with np.errstate(all="ignore"):
                cost = max(extra, eps) if use_eps else np.float64(extra)
                value = saved if score == "saved" else saved / cost
            if best is None or value > best[0] or (ties == "last" and value == best[0]):
                best = (value, layer, option)
        if best is None:
            return path
        state[best[1]] = best[2]
        path.append(tuple(state))


# tutorial 06: the 2 x 8 layer with four survivors (208 bits), and a survivor that rounds to 0
_W = np.zeros((2, 8))
_W[0, [1, 5]] = [0.5, -1.0]
_W[1, [0, 7]] = [2.0, 0.25]
_TINY = np.array([[1.0, 0.003, 0.0, -0.5]])
_SIZES, _LOSSES = np.array([[100.0, 50, 10], [40, 20, 30]]), np.array([[0, 0.5, 3], [0, 0.1, 0.2]])

CHECKS = [
    Check("bitmask_bits", bitmask_bits, _weight_args,
          hand_cases=((_W, 8), (_TINY, 8), (_W, 2), (np.ones((3, 3)), 3)),
          mistakes=(
              Mistake("mask_survivors", "only the non-zero CODES are stored: a survivor that rounds to "
                      "code 0 is not (count np.rint(w / scale * qmax) != 0, not w != 0).",
                      wrong=_bitmask_wrong(nonzero_codes=False)),
              Mistake("whole_bytes", "packed bits fill whole bytes: the mask takes 8 * ceil(m * k / 8) bits "
                      "and the codes 8 * ceil(z * bits / 8).", wrong=_bitmask_wrong(whole_bytes=False)),
              Mistake("one_scale", "one float32 scale per ROW: 32 * m bits.",
                      wrong=_bitmask_wrong(scales="one")),
              Mistake("no_header", "count the header: the shape and the code bits, three int32 = 96 bits.",
                      wrong=_bitmask_wrong(header=0)),
          )),
    Check("greedy_path", greedy_path, _greedy_args, compare=_same_path,
          hand_cases=((_SIZES, _LOSSES, 0.01),
                      (np.array([[10.0, 5.0], [10.0, 5.0]]), np.array([[0.0, 1.0], [0.0, 1.0]]), 0.01),
                      (np.array([[10.0, 6.0, 5.0]]), np.array([[0.5, 0.2, 0.6]]), 0.01),
                      (np.array([[10.0, 8.0, 5.0], [10.0, 5.0, 9.0]]),
                       np.array([[0.0, 1.0, 1.0], [0.0, 1.0, 1.0]]), 0.01)),
          mistakes=(
              Mistake("bits_saved", "rank the moves by bits saved PER POINT of loss, "
                      "(saved bits) / max(loss increase, eps), not by the bits saved alone.",
                      wrong=lambda s, l, e: _walk(s, l, e, score="saved")),
              Mistake("ties_last", "ties go to the smallest layer, then the smallest option: keep the first "
                      "maximum (a strict >, as np.argmax does).",
                      wrong=lambda s, l, e: _walk(s, l, e, ties="last")),
              Mistake("ties_option_first", "ties go to the smallest LAYER first, then the smallest option: "
                      "loop over the layers outside and the options inside (np.argmax on the (L, O) "
                      "score array does that), not options outside.",
                      wrong=lambda s, l, e: _walk(s, l, e, ties="option_first")),
              Mistake("no_start", "the path starts with the starting state (0, ..., 0) itself.",
                      wrong=lambda s, l, e: _walk(s, l, e, start=False)),
              Mistake("no_eps", "charge every move at least eps: max(loss increase, eps). A free move "
                      "divides by zero, and a move that lowers the loss would rank last.",
                      wrong=lambda s, l, e: _walk(s, l, e, use_eps=False)),
          )),
]
