"""Interpolation of values on a TensorGrid at scattered points (NumPy or JAX arrays)."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

__all__ = ["interpolate_on_grid"]


def _xp(*arrays):
    for a in arrays:
        if type(a).__module__.startswith(("jax", "jaxlib")):
            import jax.numpy as jnp

            return jnp
    return np


def _barycentric_weights_lobatto(m: int) -> np.ndarray:
    # Chebyshev–Lobatto barycentric weights (-1)^j, halved at both ends (Berrut & Trefethen 2004).
    w = (-1.0) ** np.arange(m)
    w[0] *= 0.5
    w[-1] *= 0.5
    return w


def _axis_weights_barycentric(nodes: np.ndarray, x, xp):
    """Dense (M, m) matrix of Lagrange basis values at x for Chebyshev–Lobatto nodes."""
    m = nodes.size
    w = _barycentric_weights_lobatto(m)
    diff = x[:, None] - nodes[None, :]
    exact = diff == 0
    safe = xp.where(exact, 1.0, diff)
    terms = w[None, :] / safe
    basis = terms / terms.sum(axis=1, keepdims=True)
    hit = exact.any(axis=1, keepdims=True)
    return xp.where(hit, exact.astype(basis.dtype), basis)


def _axis_weights_local(nodes: np.ndarray, x, order: int, xp):
    """Stencil start indices (M,) and local Lagrange weights (M, order+1) on one axis."""
    m = nodes.size
    p = min(order, m - 1)
    k = p + 1
    # interval index i with nodes[i] <= x < nodes[i+1], clipped into range
    i = xp.clip(xp.searchsorted(nodes, x, side="right") - 1, 0, m - 2 if m > 1 else 0)
    start = xp.clip(i - (k // 2 - 1) if k > 1 else i, 0, m - k)
    idx = start[:, None] + xp.arange(k, dtype=start.dtype)[None, :]
    xn = xp.asarray(nodes)[idx]  # (M, k)
    weights = []
    for a in range(k):
        num = 1.0
        for b in range(k):
            if b != a:
                num = num * (x - xn[:, b]) / (xn[:, a] - xn[:, b])
        weights.append(num if k > 1 else xp.ones_like(x))
    return start, xp.stack(weights, axis=1)


def interpolate_on_grid(values: Any, axes: tuple[np.ndarray, ...], kind: str, points: Any,
                        *, order: int, n_lead: int) -> Any:
    """Tensor-product interpolation of grid ``values`` at ``points``.

    Args:
        values: array of shape ``(*lead, n_0, ..., n_{d-1}, *trail)``; ``lead`` has ``n_lead``
            axes (0 or 1: time), ``trail`` the rest (0 or 1: channels).
        axes: the grid's node arrays.
        kind: grid kind; ``"chebyshev"`` uses global barycentric interpolation (exact for
            polynomials of degree m-1 per axis), the others local Lagrange interpolation of
            ``order`` on the nearest ``order + 1`` nodes (exact for polynomials of degree
            ``order`` per axis).
        points: (M, d) query points.
        order: polynomial order of the local stencil (1 = multilinear, 3 = cubic).
        n_lead: number of leading non-grid axes.

    Returns:
        array ``(*lead, M, *trail)``.
    """
    xp = _xp(values, points)
    d = len(axes)
    n_trail = values.ndim - d - n_lead
    M = points.shape[0]
    if kind == "chebyshev":
        mats = [_axis_weights_barycentric(axes[k], points[:, k], xp) for k in range(d)]
        grid_s = "abcdefghij"[:d]
        lead_s = "tuvw"[:n_lead]
        trail_s = "qrs"[:n_trail]
        ops = ",".join(f"p{c}" for c in grid_s)
        return xp.einsum(f"{lead_s}{grid_s}{trail_s},{ops}->{lead_s}p{trail_s}", values, *mats)
    starts, weights = [], []
    for k in range(d):
        s, w = _axis_weights_local(axes[k], points[:, k], order, xp)
        starts.append(s)
        weights.append(w)
    acc = None
    shape = (1,) * n_lead + (M,) + (1,) * n_trail
    for offs in itertools.product(*[range(w.shape[1]) for w in weights]):
        coef = weights[0][:, offs[0]]
        for k in range(1, d):
            coef = coef * weights[k][:, offs[k]]
        idx = tuple(starts[k] + offs[k] for k in range(d))
        gathered = values[(slice(None),) * n_lead + idx]  # (*lead, M, *trail)
        term = gathered * coef.reshape(shape)
        acc = term if acc is None else acc + term
    return acc
