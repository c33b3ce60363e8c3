"""Checks for tutorials/exercises/ex05_evaluation.py (section 2.2, tutorial 05): the stored
size of a CSR matrix, the compression ratio both ways round, and the dense and effective
MACs of a pruned convolution."""

from __future__ import annotations

import numpy as np

from .. import formats, metrics
from ..formats.encoding import index_dtype
from ..grading import Check, Mistake
from ..grading.strategies import floats, hnp, st
from ..nn.layers import Conv2d


def csr_bits(w):
    """Reference: the stored bits of ``formats.encode(w, "csr")``, header included."""
    return formats.size_bits(w, "csr")


def compression_ratio(original_bits, compressed_bits):
    """Reference: original / compressed (10.0 = ten times smaller)."""
    return metrics.compression_ratio(original_bits, compressed_bits)


def compression_rate_text(original_bits, compressed_bits):
    """Reference: the text's rate, compressed / original (0.1 for the same model)."""
    return metrics.compression_ratio_text(original_bits, compressed_bits)


def conv_macs(w, H, W, stride, padding):
    """Reference: (dense, effective) MACs of a Conv2d with weight ``w`` on one (C_in, H, W) input."""
    C_out, C_in, kh, kw = w.shape
    layer = Conv2d(C_in, C_out, (kh, kw), stride, padding, bias=False, dtype=w.dtype)
    layer.params["weight"] = w
    return metrics.layer_macs(layer, (1, C_in, H, W))


def _sparse(shape):
    """float32 arrays of ``shape`` with many exact zeros (every value drawn by Hypothesis)."""
    return hnp.arrays(np.float32, shape, elements=st.just(0.0) | floats(-2.0, 2.0, width=32))


@st.composite
def _csr_args(draw):
    m = draw(st.integers(1, 4))
    k = draw(st.integers(1, 12) | st.sampled_from([255, 256, 257]))  # the 8/16-bit index edges
    return (draw(_sparse((m, k))),)


@st.composite
def _bits_args(draw):
    return draw(st.integers(1, 10**7)), draw(st.integers(1, 10**7))


@st.composite
def _conv_args(draw):
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    stride, padding = draw(st.integers(1, 2)), draw(st.integers(0, 2))
    H = draw(st.integers(max(1, kh - 2 * padding, stride - 2 * padding), 9))
    W = draw(st.integers(max(1, kw - 2 * padding, stride - 2 * padding), 9))
    w = draw(_sparse((draw(st.integers(1, 3)), draw(st.integers(1, 3)), kh, kw)))
    return w, H, W, stride, padding


def _width(bound: int) -> int:
    return 8 * index_dtype(bound).itemsize


def _csr_wrong(*, col=lambda k: k - 1, ptr=lambda z: z, pointers=lambda m: m + 1, header=128):
    def wrong(w):
        m, k = w.shape
        z = int(np.count_nonzero(w))
        return header + 32 * z + z * _width(max(col(k), 0)) + pointers(m) * _width(max(ptr(z), 0))
    return wrong


def _out(n, k, stride, padding):
    return 1 + (n + 2 * padding - k) // stride


def _macs_wrong(positions, factor=1):
    def wrong(w, H, W, stride, padding):
        hw = positions(H, W, *w.shape[2:], stride, padding)
        return factor * w.size * hw, factor * int(np.count_nonzero(w)) * hw
    return wrong


_ONES = np.ones((1, 256), np.float32)
_MAT = np.array([[0.0, 1.5, 0.0, -2.0], [0.0, 0.0, 0.5, 0.0]], np.float32)
_DIRECTION = ("compression_ratio is original / compressed (10.0 = ten times smaller); the text's rate, "
              "compressed / original, is the other function.")
_TEXT = ("the text's rate is compressed / original (0.1 = a tenth of the size); original / compressed is "
         "compression_ratio.")
_CONV_W = np.zeros((2, 1, 3, 3), np.float32)
_CONV_W[0, 0, 1, 1], _CONV_W[1, 0, 0, 2], _CONV_W[1, 0, 2, 0] = 1.0, -1.0, 0.5

CHECKS = [
    Check("csr_bits", csr_bits, _csr_args,
          hand_cases=((_MAT,), (_ONES.reshape(2, 128),), (_ONES,), (_ONES[:, :255],),
                      (np.ones((1, 257), np.float32),),
                      (np.zeros((2, 3), np.float32),)),
          mistakes=(
              Mistake("index_width", "a column index is at most k - 1: with k = 256 columns it fits in "
                      "8 bits (0..255); size the indices by k - 1, not by k.",
                      wrong=_csr_wrong(col=lambda k: k)),
              Mistake("pointer_width", "the last row pointer equals z: with z = 256 non-zeros the pointers "
                      "need 16 bits; size them by z, not by z - 1.", wrong=_csr_wrong(ptr=lambda z: z - 1)),
              Mistake("m_pointers", "CSR stores m + 1 row pointers (row i runs from ptr[i] to ptr[i + 1]).",
                      wrong=_csr_wrong(pointers=lambda m: m)),
              Mistake("no_header", "count the header too: the shape (m, k), z and the value bits, four "
                      "int32 = 128 bits.",
                      wrong=_csr_wrong(header=0)),
              Mistake("int32_indices", "indices and pointers take the smallest of 8, 16, 32 bits that holds "
                      "their largest value, not always 32.",
                      wrong=_csr_wrong(col=lambda k: 2**31, ptr=lambda z: 2**31)),
          )),
    Check("compression_ratio", compression_ratio, _bits_args,
          params=("original_bits", "compressed_bits"),
          hand_cases=((8000, 1000), (1000, 8000), (10, 4)),
          mistakes=(
              Mistake("inverted", _DIRECTION, wrong=lambda o, c: c / o),
              Mistake("floor_division", "use true division (/): 10 // 4 is 2, the ratio is 2.5.",
                      wrong=lambda o, c: o // c),
          )),
    Check("compression_rate_text", compression_rate_text, _bits_args,
          params=("original_bits", "compressed_bits"),
          hand_cases=((8000, 1000), (1000, 8000), (10, 4)),
          mistakes=(
              Mistake("inverted", _TEXT, wrong=lambda o, c: o / c),
              Mistake("floor_division", "use true division (/): 1000 // 8000 is 0, the rate is 0.125.",
                      wrong=lambda o, c: c // o),
          )),
    Check("conv_macs", conv_macs, _conv_args, params=("w", "H", "W", "stride", "padding"),
          hand_cases=((_CONV_W, 5, 5, 1, 0), (_CONV_W, 5, 5, 2, 0), (_CONV_W, 5, 5, 2, 1)),
          mistakes=(
              Mistake("dense_effective", "effective MACs count only the non-zero weights: nnz(w) * H' * W'.",
                      part=1, wrong=lambda w, H, W, s, p: w.size * _out(H, w.shape[2], s, p)
                      * _out(W, w.shape[3], s, p)),
              Mistake("input_positions", "each weight is used once per OUTPUT position: H' * W' with "
                      "H' = 1 + (H + 2 padding - kh) // stride, not H * W.",
                      wrong=_macs_wrong(lambda H, W, kh, kw, s, p: H * W)),
              Mistake("no_padding", "the padding adds output positions: "
                      "H' = 1 + (H + 2 padding - kh) // stride.",
                      wrong=_macs_wrong(lambda H, W, kh, kw, s, p: _out(H, kh, s, 0) * _out(W, kw, s, 0))),
              Mistake("no_stride", "with stride s the kernel moves s pixels at a time: "
                      "H' = 1 + (H + 2 padding - kh) // stride.",
                      wrong=_macs_wrong(lambda H, W, kh, kw, s, p: _out(H, kh, 1, p) * _out(W, kw, 1, p))),
              Mistake("flops", "a MAC is one multiply AND its add: count it once (FLOPs are often 2 x MACs).",
                      wrong=_macs_wrong(lambda H, W, kh, kw, s, p: _out(H, kh, s, p) * _out(W, kw, s, p),
                                        factor=2)),
          )),
]
