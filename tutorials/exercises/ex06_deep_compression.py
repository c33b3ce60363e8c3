"""Exercise 07: three steps of Deep Compression by hand (Han, Mao & Dally 2016; source text
section 2.3; tutorial 06, part 6).

Fill in each function, then grade your work with

    python -m minicompress check tutorials/exercises/ex06_deep_compression.py

The grader imports your file in a separate process and compares each function with the
library's (minicompress.quantize and minicompress.formats): first on small cases you can
check by hand, then on inputs Hypothesis draws. For a wrong function it shows the failing
input (a hand case, or the smallest input Hypothesis could shrink it to), the expected and
the received value, what differs (value, shape, dtype, an argument changed in place) and,
for a known typical mistake, a hint. NumPy only (heapq from the standard library is fine):
a function that calls minicompress (the answer key) is flagged and fails.
"""

import numpy as np


def kmeans_assign(w, centroids, mask):
    """The assignment step of k-means weight sharing (Han et al. 2016, section 3.1).

    w: float array of any shape (a pruned layer's weights);  centroids: (k,) floats in
    increasing order, all different;  mask: bool array of w's shape, True = kept, False =
    pruned.  Every kept weight gets the index of its nearest centroid,

        I = argmin_k |w - C_k|

    and a weight exactly halfway between two centroids goes to the SMALLER one (the smaller
    index).  Pruned positions are not clustered: their index is -1, whatever w holds there.
    Return an integer array of w's shape with values in -1..k-1.
    Check: centroids [-1, 0.5, 2];  w = [[-0.25, 0, 1.25, 3], [-2, 0.5, 0, 1]] with
    mask [[T, F, T, T], [T, T, F, T]] gives [[0, -1, 1, 2], [0, 1, -1, 1]]
    (-0.25 is halfway between -1 and 0.5, 1.25 halfway between 0.5 and 2).
    """
    raise NotImplementedError


def huffman_code_lengths(counts):
    """Code length of every symbol of a Huffman code for ``counts`` (section 4 of the paper).

    counts: (S,) non-negative integers, at least one > 0 (how often each symbol occurs).
    Huffman's algorithm: every symbol with a count > 0 is a leaf; join the two nodes with
    the smallest counts under a new node whose count is their sum; repeat until one node,
    the root, is left.  A symbol's length is its depth below the root (the root has depth
    0, its children depth 1).  Symbols with count 0 get length 0; a lone counted symbol
    gets length 1 (the code "0": one bit per occurrence).  Return an integer array (S,).
    Ties: when counts are equal, any choice is fine.  The lengths can then differ (counts
    [1, 1, 2, 2] give [2, 2, 2, 2] or [3, 3, 2, 1]), so the grader checks what every
    Huffman code has: 0 for unused symbols, Kraft's equality sum 2**-l = 1 over the used
    ones, and the fewest total bits sum(counts * lengths) (the same mean length per symbol).
    Check: counts [9, 4, 2, 1] -> joins 1 + 2 = 3, 3 + 4 = 7, 7 + 9 = 16: lengths
    [1, 2, 3, 3], 26 bits.  Hint: heapq, with (count, tie-breaker, node) entries.
    """
    raise NotImplementedError


def relative_indices(positions, index_bits):
    """Relative-index storage of a sparse row (Figure 2 of the paper): each non-zero stores
    its gap, the number of zeros since the previous stored entry, in index_bits bits.

    positions: 1-D strictly increasing non-negative integers, the flat positions of the
    non-zeros (np.flatnonzero(w));  index_bits: int >= 1;  M = 2**index_bits.

        g_i = p_i - p_(i-1) - 1          (zeros skipped; p_(-1) = -1, so the first counts from 0)

    A gap only fits if g_i <= M - 1.  A larger gap (g_i >= M, g_i = M included) is preceded
    by g_i // M FILLER entries, each of gap M - 1 (and value 0), so that each filler covers
    M positions (its M - 1 zeros and its own slot); the entry keeps g_i - M * (g_i // M).
    Return (gaps, filler): gaps an integer array of the entries' gaps, fillers included,
    in order, each in 0..M-1; filler a bool array of the same length, True at the fillers.
    Check: positions [1, 4, 15], index_bits 3 (M = 8): gaps 1, 2, 10; 10 = 8 + 2, so
    gaps [1, 2, 7, 2], filler [F, F, T, F] (the filler sits at position 12).
    positions [8], 3 bits: the gap 8 = M needs one filler: gaps [7, 0], filler [T, F].
    """
    raise NotImplementedError
