"""Sampling a function at the Chebyshev–Lobatto tensor grid: the coefficient tensor of
:meth:`ChebTucker.from_function`, at given degrees or with the degree chosen per axis
(``degree="auto"``)."""

from __future__ import annotations

import math
import warnings

import numpy as np

from ..data import Box
from ._chebyshev import chebyshev_nodes, values_to_coefficients


def _node_axes(box: Box, degrees: tuple[int, ...]) -> list[np.ndarray]:
    """Ascending Chebyshev–Lobatto nodes of each axis, mapped onto the box."""
    out = []
    for k, g in enumerate(degrees):
        s = chebyshev_nodes(g + 1)
        ax = box.lower[k] + 0.5 * (s + 1.0) * (box.upper[k] - box.lower[k])
        ax[0], ax[-1] = box.lower[k], box.upper[k]
        out.append(ax)
    return out


def _sampled_coefficients(f, box: Box, degrees: tuple[int, ...], batch_size: int) -> np.ndarray:
    """Chebyshev coefficient tensor of ``f`` from its values at the Chebyshev–Lobatto tensor
    grid of the given degrees (``f`` called in batches of points, its output checked)."""
    axes = _node_axes(box, degrees)
    shape = tuple(a.size for a in axes)
    total = int(np.prod(shape))
    values = np.empty(total)
    for start in range(0, total, batch_size):
        idx = np.unravel_index(np.arange(start, min(start + batch_size, total)), shape)
        pts = np.stack([axes[k][idx[k]] for k in range(box.dim)], axis=1)  # C order
        v = np.asarray(f(pts))
        if v.shape not in ((pts.shape[0],), (pts.shape[0], 1)):
            raise ValueError(
                f"f must map points ({pts.shape[0]}, {box.dim}) to values "
                f"({pts.shape[0]},), got shape {v.shape}"
            )
        if v.dtype.kind not in "biuf":
            raise ValueError(f"f must return real numbers, got dtype {v.dtype}")
        v = v.reshape(-1).astype(np.float64)
        if not np.all(np.isfinite(v)):
            bad = int(np.argmin(np.isfinite(v)))
            raise ValueError(f"f returned a non-finite value at point {pts[bad].tolist()}")
        values[start:start + batch_size] = v
    coeffs = values_to_coefficients(values.reshape(shape), overwrite=True)
    del values
    return coeffs


_AUTO_START = 16  # first degree per axis of degree="auto"
_AUTO_MAX_SAMPLES = 1 << 25  # at most 33.6 million samples (268 MB of values)


def _adaptive_coefficients(f, box: Box, rtol, atol, max_degree: int,
                           batch_size: int) -> np.ndarray:
    """``degree="auto"``: per axis, the degree doubles from 16 until the Chebyshev coefficients
    of the highest eighth of the degrees (at least the top two) have a Frobenius norm of at
    most ``target = tol / (2 sqrt(d))``, ``tol = rtol ||C||_F`` (or ``atol``; 1e-13 relative
    with fixed ranks), or until ``max_degree`` or the sample budget is reached
    (RuntimeWarning). Then each axis is chopped to the lowest degree (at least 2) whose
    higher coefficients have a norm of at most ``target / 2`` (so the chop removes at most
    ``tol / 4`` in all)."""
    d = box.dim
    degrees = [min(_AUTO_START, max_degree)] * d
    while True:
        coeffs = _sampled_coefficients(f, box, tuple(degrees), batch_size)
        norm = float(np.linalg.norm(coeffs))
        tol = (atol if atol is not None else (rtol if rtol is not None else 1e-13) * norm)
        target = tol / (2.0 * math.sqrt(d))
        grow, keep = [], []
        for k in range(d):
            e = np.linalg.norm(np.moveaxis(coeffs, k, 0).reshape(coeffs.shape[k], -1), axis=1)
            m = max(2, (degrees[k] + 1) // 8)
            if float(np.linalg.norm(e[-m:])) > target:
                grow.append(k)
            # chop: the lowest degree whose higher coefficients are below the target
            tail = np.sqrt(np.cumsum((e ** 2)[::-1]))[::-1]  # tail[j] = ||e[j:]||
            keep.append(max(int(np.count_nonzero(tail > 0.5 * target)), 3))
        chopped = np.ascontiguousarray(coeffs[tuple(slice(0, c) for c in keep)])
        if not grow:
            return chopped
        new = list(degrees)
        for k in grow:
            new[k] = min(2 * degrees[k], max_degree)
        if new == degrees or math.prod(g + 1 for g in new) > _AUTO_MAX_SAMPLES:
            warnings.warn(
                f"degree='auto': axes {grow} are not resolved to tol {tol:.3g} at degrees "
                f"{tuple(degrees)} (max_degree={max_degree}, at most {_AUTO_MAX_SAMPLES} "
                f"samples); the result is built at these degrees, the resolved axes chopped "
                f"(see error_estimate)",
                RuntimeWarning, stacklevel=3)
            return chopped
        degrees = new
