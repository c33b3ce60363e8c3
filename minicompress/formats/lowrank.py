"""The low-rank format: two factors A (m, r) and B (r, k) of the 2-D view, float32.

    stored = header(shape, r) + 32 r (m + k),   decodes to A @ B.

Pass the factors a low-rank method produced (``factors=(A, B)``), or ``rank`` for the
format's own split: the truncated SVD of :func:`minicompress.lowrank.svd_truncate`
(section 4.4.1), A = U_r diag(s_r), B = V_r^T.
"""

from __future__ import annotations

import numpy as np

from ..lowrank.svd import svd_truncate
from .encoding import Format, header, matrix_view, register

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
    A, B = (np.asarray(f, dtype=np.float32) for f in factors)
    if A.ndim != 2 or B.ndim != 2 or A.shape[0] != m or B.shape[1] != k or A.shape[1] != B.shape[0]:
        raise ValueError(
            f"factors must be (m, r) and (r, k) with (m, k) = {(m, k)}; got {A.shape}, {B.shape}"
        )
    return {"header": header(w.shape, A.shape[1]), "A": A.ravel(), "B": B.ravel()}


def _lowrank_dec(a, shape):
    m, k = matrix_view(shape)
    r = int(a["header"][-1])
    return (a["A"].reshape(m, r) @ a["B"].reshape(r, k)).reshape(shape)


register("lowrank", Format(_lowrank_enc, _lowrank_dec, lossless=False, extra=("r",), parts=("A", "B")))
