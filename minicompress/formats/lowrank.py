"""The low-rank format: two factors A (m, r) and B (r, k) of the 2-D view, float32.

    stored = header(shape, r) + 32 r (m + k),   decodes to A @ B.

Pass the factors a low-rank method produced (``factors=(A, B)``), or ``rank`` for the
format's own split: the truncated SVD of :func:`minicompress.lowrank.svd_truncate`
(section 4.4.1), A = U_r diag(s_r), B = V_r^T.
"""

from __future__ import annotations

import numpy as np

from ..lowrank.svd import svd_truncate
from ..nn._checks import check_array, check_finite
from .encoding import Format, header, matrix_view, register

_F32 = (np.dtype(np.float32),)

__all__: list[str] = []


def _lowrank_enc(w, *, rank=None, factors=None):
    m, k = matrix_view(w.shape)
    if factors is None:
        if rank is None:
            raise ValueError("lowrank format needs rank=r or factors=(A, B)")
        _, U, s, Vt = svd_truncate(w.reshape(m, k), rank)
        factors = (U * s, Vt)
    elif rank is not None:
        raise ValueError("give the lowrank format rank=r or factors=(A, B), not both")
    if not (isinstance(factors, (tuple, list)) and len(factors) == 2):
        raise TypeError(f"factors must be a pair (A, B) of arrays; got {type(factors).__name__}")
    A, B = (check_array(f, name) for f, name in zip(factors, ("factors[0]", "factors[1]")))
    if A.ndim != 2 or B.ndim != 2 or A.shape[0] != m or B.shape[1] != k or A.shape[1] != B.shape[0]:
        raise ValueError(
            f"factors must be (m, r) and (r, k) with (m, k) = {(m, k)}; got {A.shape}, {B.shape}"
        )
    if not 1 <= A.shape[1] <= min(m, k):
        raise ValueError(f"the factors' rank r must be in 1..min(m, k) = {min(m, k)} (a larger one stores "
                         f"more than the matrix); got {A.shape[1]}")
    with np.errstate(over="ignore"):
        A, B = A.astype(np.float32), B.astype(np.float32)
    for f, name in ((A, "factors[0]"), (B, "factors[1]")):
        check_finite(f, f"{name} (as float32)")
    return {"header": header(w.shape, A.shape[1]), "A": A.ravel(), "B": B.ravel()}


def _lowrank_parts(shape, fields):
    m, k = matrix_view(shape)
    r = fields["r"]
    if not 1 <= r <= min(m, k):
        raise ValueError(f"the header field r (rank) must be in 1..min(m, k) = {min(m, k)}; got {r}")
    return {"A": (_F32, m * r), "B": (_F32, r * k)}


def _lowrank_dec(a, shape):
    m, k = matrix_view(shape)
    r = int(a["header"][-1])
    with np.errstate(over="ignore"):  # an overflow to inf is refused by decode
        return (a["A"].reshape(m, r) @ a["B"].reshape(r, k)).reshape(shape)


register("lowrank", Format(_lowrank_enc, _lowrank_dec, lossless=False, extra=("r",), parts=("A", "B"),
                           expected_parts=_lowrank_parts))
