"""Loss-based and Hessian-based saliency: which weights matter to the loss (section 3.1).

The text lists three importance measures (section 3.1.1, step 2): weight magnitude
(:mod:`.magnitude`), "influence on the loss" and "the Hessian".  Expanding the loss change
of setting w_k to 0 (dw = -w_k e_k) to second order,

    dL ~ g_k dw_k + 1/2 H_kk dw_k^2 = -g_k w_k + 1/2 H_kk w_k^2 ,

gives the first-order (Taylor) saliency |w_k g_k| (Molchanov et al. 2017) and, at a minimum
where g = 0, the Optimal Brain Damage saliency 1/2 H_kk w_k^2 (LeCun et al. 1990).
"""

from __future__ import annotations

import numpy as np

from ..nn import functional as F
from ..nn._checks import (
    as_array,
    check_array,
    check_choice,
    check_float,
    check_int,
    check_str,
    described,
)
from ..nn.layers import Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential
from ..nn.module import check_module

__all__ = ["loss_gradients", "taylor_saliency", "hessian_diagonal", "obd_saliency"]

#: Layers through which the logits are piecewise linear in a layer's weights.
_PIECEWISE_LINEAR = (Linear, Conv2d, ReLU, MaxPool2d, Flatten)


def _same_shape(w, g, names=("w", "g")):
    w = check_array(w, names[0], finite=True)
    g = check_array(g, names[1], finite=True)
    if w.shape != g.shape:
        raise ValueError(f"{names[0]} and {names[1]} must have the same shape; got {w.shape} and {g.shape}")
    return w, g


def _check_data(X, y):
    X = check_array(X, "X", finite=True)
    given, y = y, as_array(y, "y")
    if y.dtype.kind not in "iu" or y.ndim != 1:
        raise TypeError(f"y must be a 1-D array of integer class labels; got {described(given, y)}, "
                        f"shape {y.shape}")
    if X.ndim == 0 or len(X) == 0 or len(X) != len(y):
        raise ValueError(f"X and y must be non-empty and of the same length; got {len(X)} and {len(y)}")
    return X, y


def loss_gradients(model, X, y, *, batch_size: int = 500) -> dict[str, np.ndarray]:
    """dL/dw of the mean cross-entropy over all of (X, y), for every parameter, by name.

    Computed in batches with the written-out backward; the model's own ``grads`` are left as
    they were (saved and restored).
    """
    check_module(model)
    X, y = _check_data(X, y)
    batch_size = check_int(batch_size, "batch_size", low=1)
    saved = {n: g.copy() for n, g in model.named_gradients()}
    model.zero_grad()
    for start in range(0, len(X), batch_size):
        xb, yb = X[start : start + batch_size], y[start : start + batch_size]
        _, dlogits = F.cross_entropy(model.forward(xb), yb)
        model.backward(dlogits * (len(xb) / len(X)))  # mean over all N, not over the batch
    grads = {n: g.copy() for n, g in model.named_gradients()}
    for n, g in model.named_gradients():
        g[...] = saved[n]
    return grads


def taylor_saliency(w: np.ndarray, g: np.ndarray) -> np.ndarray:
    """First-order (Taylor) saliency |w * dL/dw| (section 4.1.2 "loss-based"; Molchanov et al. 2017).

    Removing w_k changes the loss by -g_k w_k to first order, so |w_k g_k| ranks weights by
    their first-order effect on the loss.

    Parameters
    ----------
    w, g : arrays of the same shape: the weights and dL/dw (e.g. from :func:`loss_gradients`)

    Returns
    -------
    saliency : non-negative array of w's shape

    Notes
    -----
    At a trained minimum g ~ 0 and this first-order estimate is mostly noise; the second
    order (:func:`obd_saliency`) is then the leading term.
    """
    w, g = _same_shape(w, g)
    return np.abs(w * g)


def obd_saliency(w: np.ndarray, h_diag: np.ndarray) -> np.ndarray:
    """Optimal Brain Damage saliency s_k = h_kk * w_k^2 / 2 (LeCun, Denker & Solla 1990).

    The text's "based on the Hessian" criterion (section 3.1.1).  On a quadratic loss at its
    minimum, s_k is exactly the loss increase of setting w_k (alone) to 0.

    Parameters
    ----------
    w, h_diag : arrays of the same shape: the weights and the Hessian diagonal dL^2/dw_k^2
        (e.g. from :func:`hessian_diagonal`)

    Returns
    -------
    saliency : array of w's shape (non-negative when h_diag is, as a Gauss-Newton diagonal is)
    """
    w, h_diag = _same_shape(w, h_diag, ("w", "h_diag"))
    return 0.5 * h_diag * w * w


def _split(model, layer: str):
    if not isinstance(model, Sequential):
        raise TypeError(f"model must be a Sequential; got {type(model).__name__}")
    children = model.children()
    if layer not in children:
        raise ValueError(f"layer name {layer!r} does not exist; the model's layers are {list(children)}")
    names = list(children)
    i = names.index(layer)
    target = children[layer]
    if not isinstance(target, (Linear, Conv2d)):
        raise ValueError(f"layer {layer!r} must be a Linear or Conv2d; got {type(target).__name__}")
    return [children[n] for n in names[:i]], target, [children[n] for n in names[i + 1 :]]


def _gn_diag_batch(p, M, x_in, target, param):
    """Sum over a batch of diag(J^T (diag(p) - p p^T) J) for one layer's parameter.

    p: (B, C) softmax;  M: (B, C, *a.shape[1:]) = dz_c/da (a = the layer's output);  x_in: its input.
    With J_c = dz_c/dw:  diag_k = sum_c p_c J_ck^2 - (sum_c p_c J_ck)^2.
    """
    if isinstance(target, Linear):
        if param == "bias":  # J_c = M_c
            pm = np.einsum("bc,bco->bo", p, M)
            return np.einsum("bc,bco->o", p, M * M) - (pm * pm).sum(0)
        # J_c[i, j] = M_c[i] x[j], so the diagonal factorises: D[b, i] * x[b, j]^2
        D = np.einsum("bc,bco->bo", p, M * M) - np.einsum("bc,bco->bo", p, M) ** 2
        return D.T @ (x_in * x_in)
    B, C = p.shape
    O = target.out_channels
    M = M.transpose(0, 1, 3, 4, 2).reshape(B, C, -1, O)  # (B, C, P, O), P = H'*W'
    if param == "bias":
        J = M.sum(axis=2)  # (B, C, O)
    else:
        kh, kw = target.kernel_size
        cols = F.im2col(x_in, kh, kw, target.stride, target.padding).reshape(B, M.shape[2], -1)
        J = np.einsum("bcpo,bpk->bcok", M, cols)  # (B, C, O, K), K = C_in*kh*kw
    pJ = np.einsum("bc,bc...->b...", p, J)
    return np.einsum("bc,bc...->...", p, J * J) - (pJ * pJ).sum(0)


def _gauss_newton_diagonal(model, X, layer, param, batch_size):
    before, target, after = _split(model, layer)
    bad = [type(m).__name__ for m in after if not isinstance(m, _PIECEWISE_LINEAR)]
    if bad:
        raise ValueError(
            f"the Gauss-Newton diagonal equals the exact Hessian diagonal only when the logits are "
            f"piecewise linear in the layer's weights; layers after {layer!r} include {bad}. "
            f"Use method='finite-difference'"
        )
    saved = {n: g.copy() for n, g in model.named_gradients()}
    total = np.zeros(target.params[param].shape)
    for start in range(0, len(X), batch_size):
        h = X[start : start + batch_size]
        for m in before:
            h = m.forward(h)
        x_in = h.astype(np.float64)
        z = target.forward(h)
        for m in after:
            z = m.forward(z)
        p = F.softmax(z.astype(np.float64))
        M = []
        for c in range(z.shape[1]):  # one backward pass per logit: M_c = dz_c / da
            d = np.zeros_like(z)
            d[:, c] = 1
            for m in reversed(after):
                d = m.backward(d)
            M.append(d.astype(np.float64))
        total += _gn_diag_batch(p, np.stack(M, axis=1), x_in, target, param).reshape(total.shape)
    for n, g in model.named_gradients():
        g[...] = saved[n]
    return total / len(X)


def _finite_difference_diagonal(model, X, y, layer, param, h):
    _, target, _ = _split(model, layer)
    w = target.params[param]
    if w.dtype != np.float64:
        raise TypeError(f"method='finite-difference' needs a float64 model; {layer}.{param} is "
                        f"{w.dtype}. Call model.to(np.float64) first")
    key = f"{layer}.{param}"
    flat = w.reshape(-1)  # a view: perturbing it perturbs the layer
    diag = np.empty(flat.size)
    for k in range(flat.size):  # two gradient evaluations per weight: for small layers only
        old = flat[k]
        flat[k] = old + h
        g_plus = loss_gradients(model, X, y)[key].reshape(-1)[k]
        flat[k] = old - h
        g_minus = loss_gradients(model, X, y)[key].reshape(-1)[k]
        flat[k] = old
        diag[k] = (g_plus - g_minus) / (2 * h)
    return diag.reshape(w.shape)


def hessian_diagonal(model, X, y, layer: str, *, param: str = "weight", method: str = "gauss-newton",
                     batch_size: int = 100, h: float = 1e-5) -> np.ndarray:
    """Exact diagonal of the Hessian of the mean cross-entropy w.r.t. one layer's parameter.

    H_kk = d^2 L / d w_k^2,   L = (1/N) sum_n CE(z_n, y_n),   z_n = the logits.

    Two methods, both exact (up to round-off / finite-difference error):

    ``method="gauss-newton"`` (default): H = (1/N) sum_n J_n^T (diag(p_n) - p_n p_n^T) J_n with
    J_n = dz_n/dw and p_n = softmax(z_n).  The full Hessian adds sum_c dL/dz_c * d^2 z_c/dw^2;
    in a net of Linear/Conv2d/ReLU/MaxPool2d/Flatten layers the logits are piecewise linear in
    one layer's weights (ReLU and max are linear on each side of their kinks), so that term is
    0 almost everywhere and Gauss-Newton IS the exact Hessian of that layer -- for any layer,
    not only the last.  Costs one backward pass per class from the layer's output; the
    diagonal of J^T H_z J is formed in closed form, without the full Hessian.  Labels do not
    enter: the Hessian of cross-entropy w.r.t. the logits, diag(p) - p p^T, does not depend on y.

    ``method="finite-difference"``: H_kk = (g_k(w + h e_k) - g_k(w - h e_k)) / (2h), central
    differences of the written-out gradient (:func:`loss_gradients`), two full gradient
    evaluations per weight: an independent check, for small layers of float64 models only.

    Parameters
    ----------
    model : Sequential whose child ``layer`` is a Linear or Conv2d (top-level name)
    X : (N, ...) inputs;  y : (N,) integer labels
    layer : e.g. ``"fc2"``;  param : ``"weight"`` or ``"bias"``
    batch_size : examples per batch (gauss-newton; memory ~ batch_size * classes * layer output)
    h : finite-difference step (finite-difference)

    Returns
    -------
    h_diag : float64 array of the parameter's shape

    Notes
    -----
    At a ReLU kink (a pre-activation exactly 0) the Hessian is not defined; both methods then
    use the ReLU convention that the gradient at 0 is 0.  LeCun et al. (1990) back-propagate
    an approximate diagonal; here it is exact, since these layers are small enough.
    """
    check_module(model)
    X, y = _check_data(X, y)
    check_str(layer, "layer", "a top-level layer name such as 'fc2'")
    check_choice(param, "param", ("weight", "bias"))
    check_choice(method, "method", ("gauss-newton", "finite-difference"))
    batch_size = check_int(batch_size, "batch_size", low=1)
    h = check_float(h, "h", low=0, low_open=True)
    _, target, _ = _split(model, layer)
    if param not in target.params:
        raise ValueError(f"layer {layer!r} has no {param!r} parameter")
    if method == "gauss-newton":
        return _gauss_newton_diagonal(model, X, layer, param, batch_size)
    return _finite_difference_diagonal(model, X, y, layer, param, h)
