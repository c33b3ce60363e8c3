"""Regression corpus of exercise 05 (see tests/test_grading_corpus.py): NumPy-only solutions,
``<function>__correct*`` pass, ``<function>__<mistake>`` fail with that mistake's hint."""

import numpy as np


def _bits_for(value):
    for b in (8, 16, 32):
        if value < 2**b:
            return b
    raise ValueError(value)


def _csr(w, col_bound=lambda k: k - 1, ptr_bound=lambda z: z, pointers=lambda m: m + 1, header=128):
    m, k = w.shape
    z = int(np.count_nonzero(w))
    index_bits, pointer_bits = _bits_for(max(col_bound(k), 0)), _bits_for(max(ptr_bound(z), 0))
    return header + 32 * z + z * index_bits + pointers(m) * pointer_bits


def csr_bits__correct(w):
    return _csr(w)


def csr_bits__index_width(w):  # the one-off width: 256 columns -> 16-bit indices
    return _csr(w, col_bound=lambda k: k)


def csr_bits__pointer_width(w):
    return _csr(w, ptr_bound=lambda z: z - 1)


def csr_bits__m_pointers(w):
    return _csr(w, pointers=lambda m: m)


def csr_bits__no_header(w):
    return _csr(w, header=0)


def csr_bits__int32_indices(w):
    m, k = w.shape
    z = int(np.count_nonzero(w))
    return 128 + 32 * z + 32 * z + 32 * (m + 1)


def csr_bits__type(w):  # a float
    return float(_csr(w))


def compression_ratio__correct(original_bits, compressed_bits):
    return original_bits / compressed_bits


def compression_ratio__inverted(original_bits, compressed_bits):
    return compressed_bits / original_bits


def compression_ratio__floor_division(original_bits, compressed_bits):
    return original_bits // compressed_bits


def compression_rate_text__correct(original_bits, compressed_bits):
    return compressed_bits / original_bits


def compression_rate_text__inverted(original_bits, compressed_bits):
    return original_bits / compressed_bits


def compression_rate_text__floor_division(original_bits, compressed_bits):
    return compressed_bits // original_bits


def _macs(w, H, W, stride, padding, pad=True, use_stride=True, out_positions=True, nnz=True, factor=1):
    C_out, C_in, kh, kw = w.shape
    p = padding if pad else 0
    s = stride if use_stride else 1
    if out_positions:
        hw = (1 + (H + 2 * p - kh) // s) * (1 + (W + 2 * p - kw) // s)
    else:
        hw = H * W
    return factor * w.size * hw, factor * (np.count_nonzero(w) if nnz else w.size) * hw


def conv_macs__correct(w, H, W, stride, padding):
    return _macs(w, H, W, stride, padding)


def conv_macs__dense_effective(w, H, W, stride, padding):
    return _macs(w, H, W, stride, padding, nnz=False)


def conv_macs__input_positions(w, H, W, stride, padding):
    return _macs(w, H, W, stride, padding, out_positions=False)


def conv_macs__no_padding(w, H, W, stride, padding):
    return _macs(w, H, W, stride, padding, pad=False)


def conv_macs__no_stride(w, H, W, stride, padding):
    return _macs(w, H, W, stride, padding, use_stride=False)


def conv_macs__flops(w, H, W, stride, padding):
    return _macs(w, H, W, stride, padding, factor=2)
