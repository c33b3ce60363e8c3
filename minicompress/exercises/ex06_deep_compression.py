"""Checks for tutorials/exercises/ex06_deep_compression.py (Deep Compression, Han, Mao & Dally
2016; the source text's section 2.3; tutorial 06, part 6): the assignment step of k-means
with pruned positions, Huffman code lengths for given counts, and relative indices with
fillers.

Huffman lengths are not unique when counts tie (which two of three equal counts merge first
is a free choice), so ``huffman_code_lengths`` is graded by what every Huffman code shares:
a length of 0 exactly for the unused symbols, Kraft's equality sum 2**-l = 1 (1 bit for a
lone symbol), and the fewest total bits sum counts * l, the library's.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from .. import formats, quantize
from ..grading import Check, Difference, Mistake
from ..grading.checks import form_difference
from ..grading.strategies import hnp, st


def kmeans_assign(w, centroids, mask):
    """Reference: :func:`minicompress.quantize.kmeans_assign` (ties to the smaller centroid),
    and -1 where ``mask`` is False (pruned), as :func:`~minicompress.quantize.kmeans_quantize`."""
    return np.where(mask, quantize.kmeans_assign(w, centroids), -1)


def huffman_code_lengths(counts):
    """Reference: :func:`minicompress.formats.huffman_code_lengths`."""
    return formats.huffman_code_lengths(counts)


def relative_indices(positions, index_bits):
    """Reference: :func:`minicompress.formats.relative_indices`, ``(gaps, filler)``."""
    return formats.relative_indices(positions, index_bits)


# ----------------------------------------------------------------------------- inputs
@st.composite
def _assign_args(draw):
    # centroids on a grid of quarters, weights on a grid of eighths: every midpoint is a weight
    # value that can be drawn, and |w - C_k| is exact whichever way it is written
    k = draw(st.integers(1, 4))
    centroids = np.array(sorted(draw(st.lists(st.integers(-8, 8), min_size=k, max_size=k, unique=True)))) / 4
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=2, max_side=5))
    w = draw(hnp.arrays(np.int64, shape, elements=st.integers(-24, 24))) / 8
    mask = draw(hnp.arrays(bool, shape))
    return np.where(mask, w, 0.0), centroids, mask  # pruned weights are 0, as after pruning


@st.composite
def _counts_args(draw):
    counts = draw(hnp.arrays(np.int64, st.integers(1, 8), elements=st.sampled_from([0, 1, 2, 3, 4]) |
                             st.integers(0, 40)))
    if not counts.any():
        counts[draw(st.integers(0, counts.size - 1))] = draw(st.integers(1, 40))
    return (counts,)


@st.composite
def _positions_args(draw):
    bits = draw(st.integers(1, 4))
    M = 2**bits
    gaps = draw(st.lists(st.integers(0, 3 * M) | st.sampled_from([M - 1, M, M + 1, 2 * M]), min_size=1,
                         max_size=6))
    return np.cumsum(np.array(gaps, np.int64) + 1) - 1, bits


# ----------------------------------------------------------------------------- Huffman, by invariants
def _huffman_problem(counts, got, best_bits):
    """None if ``got`` are the lengths of a Huffman code for ``counts``, else why not."""
    form = form_difference(np.zeros(counts.shape, np.int64), got)  # one integer length per symbol
    if form is not None:
        return form
    used = counts > 0
    if np.any(got[~used] != 0):
        return Difference("value", "a symbol with count 0 gets no code: its length is 0")
    L = got[used].astype(np.int64)
    if np.any(L < 1):
        return Difference("value", "every counted symbol needs a code: a length of at least 1 bit")
    if L.size == 1:
        return None if L[0] == 1 else Difference("value", "a lone symbol takes 1 bit: the code '0'")
    if L.max() > 64:  # (a complete code of S symbols is at most S - 1 bits long anyway)
        return Difference("value", f"too long: a Huffman code of {L.size} symbols is at most {L.size - 1} "
                                   f"bits long; received a length of {L.max()}")
    top = int(L.max())
    kraft = Fraction(sum(2 ** (top - int(l)) for l in L), 2**top)  # sum 2**-l, exactly
    if kraft != 1:
        return Difference("value", f"Kraft's sum of 2**-l over the counted symbols is {kraft}, "
                                   f"not 1: these lengths are not the leaves of a Huffman tree (every "
                                   f"inner node has two children)")
    bits, n = int((counts * got.astype(np.int64)).sum()), int(counts.sum())
    if bits != best_bits:
        return Difference("value", f"a complete code, but not the shortest: {bits} bits for these counts "
                                   f"(mean {bits / n:.4g} per symbol); a Huffman code takes {best_bits} "
                                   f"(mean {best_bits / n:.4g})")
    return None


def _same_code(expected, got, args):
    (counts,) = args
    return _huffman_problem(counts, got, int((counts * expected).sum()))


def _valid(args, expected, got) -> bool:
    return _same_code(expected, got, args) is None


def _root_off_by_one(args, expected, got) -> bool:
    if not isinstance(got, np.ndarray) or got.shape != expected.shape or got.dtype.kind not in "iu":
        return False
    used = args[0] > 0
    return not _valid(args, expected, got) and _valid(args, expected, np.where(used, got - 1, got))


def _unused_coded(args, expected, got) -> bool:
    return isinstance(got, np.ndarray) and got.shape == args[0].shape and bool(np.any(got[args[0] == 0] > 0))


def _lone_symbol(args, expected, got) -> bool:
    used = args[0] > 0
    return (isinstance(got, np.ndarray) and got.shape == used.shape and used.sum() == 1
            and bool(np.all(got == 0)))


def _not_optimal(args, expected, got) -> bool:
    d = _same_code(expected, got, args)
    return d is not None and d.text.startswith("a complete code, but not the shortest")


# ----------------------------------------------------------------------------- mistakes' values
def _ties_larger(w, centroids, mask):
    k = centroids.size
    idx = k - 1 - np.argmin(np.abs(w[..., None] - centroids[::-1]), axis=-1)  # ties: the last
    return np.where(mask, idx, -1)


def _gaps(positions, index_bits, *, plus=0, fill=lambda g, M: g // M, step=lambda M: M, wrap=False):
    """(gaps, filler) the way a mistaken student builds them."""
    M = 2**index_bits
    gaps, filler = [], []
    for g in np.diff(positions, prepend=-1) - 1 + plus:
        if wrap:
            gaps.append(g % M)
            filler.append(False)
            continue
        n = int(fill(g, M))
        gaps += [M - 1] * n + [int(g - step(M) * n)]
        filler += [True] * n + [False]
    return np.array(gaps, np.int64), np.array(filler, bool)


_W = np.array([[-0.25, 0.0, 1.25, 3.0], [-2.0, 0.5, 0.0, 1.0]])
_MASK = np.array([[True, False, True, True], [True, True, False, True]])
_C = np.array([-1.0, 0.5, 2.0])
_PRUNED = ("pruned positions (mask False) are not clustered: their index is -1, whatever w holds there; "
           "np.where(mask, index, -1).")

CHECKS = [
    Check("kmeans_assign", kmeans_assign, _assign_args, params=("w", "centroids", "mask"),
          hand_cases=((_W, _C, _MASK), (np.array([0.0, 0.25, 0.5]), np.array([0.0, 0.5]), np.ones(3, bool))),
          mistakes=(
              Mistake("ties_larger", "a weight exactly halfway between two centroids goes to the SMALLER one "
                      "(the first minimum: np.argmin of |w - C| over increasing centroids), not the larger.",
                      wrong=_ties_larger),
              Mistake("pruned_assigned", _PRUNED,
                      wrong=lambda w, c, mask: quantize.kmeans_assign(w, c)),
              Mistake("values", "return the INDEX k of the nearest centroid (an integer array, -1 where "
                      "pruned), not its value C_k: the layer stores the index, the codebook the values.",
                      wrong=lambda w, c, mask: np.where(mask, c[quantize.kmeans_assign(w, c)], 0.0)),
          )),
    Check("huffman_code_lengths", huffman_code_lengths, _counts_args, compare=_same_code,
          hand_cases=((np.array([9, 4, 2, 1]),), (np.array([1, 1, 2, 2]),), (np.array([3, 0, 1, 1]),),
                      (np.array([0, 5, 0]),)),
          mistakes=(
              Mistake("root_off_by_one", "a symbol's length is its depth below the root, and the root has "
                      "depth 0: every length here is one too many (Kraft's sum is 1/2).",
                      when=_root_off_by_one),
              Mistake("unused_coded", "a symbol with count 0 is left out of the tree: its length is 0 (keep "
                      "only counts > 0 in the heap).", when=_unused_coded),
              Mistake("lone_symbol", "with a single counted symbol there is nothing to merge, but it still "
                      "takes 1 bit per occurrence (the code '0'), not 0.", when=_lone_symbol),
              Mistake("not_optimal", "the lengths form a complete code but not the shortest one: merge the "
                      "two SMALLEST counts each time, so that frequent symbols end near the root.",
                      when=_not_optimal),
          )),
    Check("relative_indices", relative_indices, _positions_args, params=("positions", "index_bits"),
          hand_cases=((np.array([1, 4, 15]), 3), (np.array([8]), 3), (np.array([0, 1, 18]), 2),
                      (np.array([5]), 1)),
          mistakes=(
              Mistake("gap_equal", "a gap of exactly M = 2**index_bits does not fit in index_bits bits "
                      "either (the largest is M - 1): it needs a filler too; fillers = g // M.",
                      wrong=lambda p, b: _gaps(p, b, fill=lambda g, M: (g - 1) // M if g > M else 0)),
              Mistake("diff", "store the number of zeros skipped, g_i = p_i - p_(i-1) - 1 (p_(-1) = -1), not "
                      "the difference of positions: non-zeros side by side have gap 0.",
                      wrong=lambda p, b: _gaps(p, b, plus=1)),
              Mistake("filler_size", "a filler (gap M - 1, value 0) takes M = 2**index_bits positions: its "
                      "M - 1 zeros and its own slot; subtract M per filler, not M - 1.",
                      wrong=lambda p, b: _gaps(p, b, step=lambda M: M - 1,
                                               fill=lambda g, M: (g - M) // (M - 1) + 1 if g >= M else 0)),
              Mistake("overflow", "a gap of 2**index_bits or more does not fit in index_bits bits (g % M "
                      "wraps it): insert g // M fillers of gap M - 1 before the entry.",
                      wrong=lambda p, b: _gaps(p, b, wrap=True)),
          )),
]
