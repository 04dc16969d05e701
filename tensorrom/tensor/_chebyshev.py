"""Chebyshev tools in any dimension: nodes, DCT-I transforms, evaluation, calculus.

All functions work on the reference cube ``[-1, 1]^d``. Values live on the tensor grid of
Chebyshev–Lobatto points in ascending order, ``x_j = -cos(pi j / n)``, ``j = 0..n`` (the order
of :func:`tensorrom.data.chebyshev_lobatto`; the DCT-I order is the reverse, handled here).
A coefficient array ``c`` of shape ``(n_0 + 1, ..., n_{d-1} + 1)`` represents

    p(x) = sum_{j} c[j_0, ..., j_{d-1}] T_{j_0}(x_0) ... T_{j_{d-1}}(x_{d-1}).

References:
    L. N. Trefethen, *Approximation Theory and Approximation Practice*, SIAM 2013, ch. 3-4
    (interpolation at Chebyshev points, the DCT-I link, Clenshaw's algorithm).
    J. C. Mason, D. C. Handscomb, *Chebyshev Polynomials*, CRC 2003, sec. 2.4 (derivatives
    and integrals of Chebyshev series).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.fft

from .._validate import as_array, check_finite, check_positive_int
from ..data import chebyshev_lobatto

__all__ = [
    "chebyshev_nodes",
    "values_to_coefficients",
    "coefficients_to_values",
    "chebyshev_basis",
    "clenshaw",
    "chebyshev_evaluate",
    "derivative_coefficients",
    "integral_weights",
    "chebyshev_integral",
]


def chebyshev_nodes(m: int) -> np.ndarray:
    """The ``m`` Chebyshev–Lobatto points ``-cos(pi j / (m - 1))`` on [-1, 1], ascending.

    Args:
        m: number of points (``m >= 2``); the interpolant has degree ``m - 1``.

    Returns:
        float64 array (m,).
    """
    return chebyshev_lobatto(m)


def _axes_arg(ndim: int, axes: int | Sequence[int] | None, name: str = "axes") -> tuple[int, ...]:
    if axes is None:
        return tuple(range(ndim))
    if isinstance(axes, (int, np.integer)):
        axes = (int(axes),)
    out = []
    for a in axes:
        if not isinstance(a, (int, np.integer)) or not -ndim <= a < ndim:
            raise ValueError(f"{name} entries must be integers in [-{ndim}, {ndim}), got {a}")
        out.append(int(a) % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"{name} must not repeat an axis, got {tuple(axes)}")
    return tuple(out)


def _dct1_axis(v: np.ndarray, a: int, out: np.ndarray) -> None:
    """out = Chebyshev coefficients along axis ``a`` of ascending-node values ``v``."""
    n = v.shape[a] - 1
    # reverse to the DCT-I order x_k = cos(pi k / n); y_j = f_0 + (-1)^j f_n + 2 sum f_k cos
    out[...] = scipy.fft.dct(np.flip(v, axis=a), type=1, axis=a)
    out /= n
    idx = [slice(None)] * v.ndim
    for j in (0, n):
        idx[a] = j
        out[tuple(idx)] *= 0.5


def values_to_coefficients(
    values: Any, axes: int | Sequence[int] | None = None, *, overwrite: bool = False
) -> np.ndarray:
    """Chebyshev coefficients of the interpolant of values at Chebyshev–Lobatto points.

    Along each transformed axis with ``n + 1`` ascending points, ``f_k = f(-cos(pi k/n))``,

        c_j = (2 / n) sum''_{k=0}^{n} (-1)^j f_k cos(pi j k / n),   c_0, c_n halved,

    (``''``: first and last terms halved), computed by one DCT-I per axis (scipy.fft).

    Args:
        values: array of values at the ascending Chebyshev–Lobatto points on the chosen axes
            (each of length >= 2).
        axes: axes to transform (default: all).
        overwrite: transform a float64 NumPy array in place, slab by slab, so that the extra
            memory is one slab instead of a copy of the array (``values`` is overwritten).

    Returns:
        float64 coefficient array of the same shape (``values`` itself when overwritten).
    """
    v = np.asarray(as_array(values, "values"), dtype=np.float64)
    ax = _axes_arg(v.ndim, axes)
    for a in ax:
        if v.shape[a] < 2:
            raise ValueError(f"values must have >= 2 points on axis {a}, got {v.shape[a]}")
    if not overwrite or not v.flags.writeable or v is not values:
        v = v.copy()
    for a in ax:
        if v.ndim == 1:
            _dct1_axis(v.copy(), a, v)
            continue
        # slabs along another axis b: each slab is transformed and written back in place
        b = 0 if a != 0 else 1
        step = max(1, (1 << 20) // max(1, v.size // v.shape[b]))
        for start in range(0, v.shape[b], step):
            sl = [slice(None)] * v.ndim
            sl[b] = slice(start, start + step)
            view = v[tuple(sl)]
            _dct1_axis(view.copy(), a, view)
    return v


def coefficients_to_values(coeffs: Any, axes: int | Sequence[int] | None = None) -> np.ndarray:
    """Values of a Chebyshev series at the ascending Chebyshev–Lobatto points (inverse DCT-I).

    ``f(cos(pi k/n)) = sum_j c_j cos(pi j k/n) = (DCT-I(c)_k + c_0 + (-1)^k c_n) / 2``.

    Args:
        coeffs: coefficient array; axis ``a`` of length ``n + 1`` gives ``n + 1`` points.
        axes: axes to transform (default: all).

    Returns:
        float64 array of values of the same shape.
    """
    c = np.asarray(as_array(coeffs, "coeffs"), dtype=np.float64)
    ax = _axes_arg(c.ndim, axes)
    for a in ax:
        m = c.shape[a]
        if m < 2:
            raise ValueError(f"coeffs must have >= 2 entries on axis {a}, got {m}")
        n = m - 1
        c0 = np.take(c, [0], axis=a)
        cn = np.take(c, [n], axis=a)
        sign = np.where(np.arange(m) % 2 == 0, 1.0, -1.0)
        shape = [1] * c.ndim
        shape[a] = m
        y = scipy.fft.dct(c, type=1, axis=a)
        y = 0.5 * (y + c0 + sign.reshape(shape) * cn)
        c = np.flip(y, axis=a)
    return np.ascontiguousarray(c)


def chebyshev_basis(x: Any, m: int) -> np.ndarray:
    """Matrix of Chebyshev polynomials ``T_j(x_i)``, ``j = 0..m-1``, by the three-term recurrence.

    ``T_0 = 1``, ``T_1 = x``, ``T_{j+1} = 2 x T_j - T_{j-1}``.

    Args:
        x: points (N,) (any real values; the recurrence is stable on [-1, 1]).
        m: number of polynomials (>= 1).

    Returns:
        float64 array (N, m).
    """
    m = check_positive_int(m, "m", minimum=1)
    x = np.asarray(as_array(x, "x", ndim=1), dtype=np.float64)
    out = np.empty((x.size, m))
    out[:, 0] = 1.0
    if m > 1:
        out[:, 1] = x
    for j in range(2, m):
        out[:, j] = 2.0 * x * out[:, j - 1] - out[:, j - 2]
    return out


def clenshaw(coeffs: Any, x: Any) -> np.ndarray:
    """Evaluate a 1D Chebyshev series ``sum_j c_j T_j(x)`` by Clenshaw's recurrence.

    ``b_k = c_k + 2 x b_{k+1} - b_{k+2}``, ``p(x) = c_0 + x b_1 - b_2``. Trailing axes of
    ``coeffs`` (shape (m, ...)) are evaluated together.

    Args:
        coeffs: coefficients (m, ...) with m >= 1.
        x: points (N,).

    Returns:
        float64 array (N, ...).
    """
    c = np.asarray(as_array(coeffs, "coeffs", ndim=(1, 2, 3, 4, 5, 6)), dtype=np.float64)
    x = np.asarray(as_array(x, "x", ndim=1), dtype=np.float64)
    xs = x.reshape((-1,) + (1,) * (c.ndim - 1))
    b1 = np.zeros((x.size,) + c.shape[1:])
    b2 = np.zeros_like(b1)
    for k in range(c.shape[0] - 1, 0, -1):
        b1, b2 = c[k] + 2.0 * xs * b1 - b2, b1
    return c[0] + xs * b1 - b2


def chebyshev_evaluate(coeffs: Any, points: Any) -> np.ndarray:
    """Evaluate a d-dimensional Chebyshev series at scattered points of [-1, 1]^d.

    ``p(x) = sum_j c_j prod_k T_{j_k}(x_k)``, contracting one axis at a time with the
    basis matrices (cost ``O(N m^d)``; for compressed series use :class:`ChebTucker`).

    Args:
        coeffs: coefficient array (m_0, ..., m_{d-1}).
        points: points (N, d) in the reference cube.

    Returns:
        float64 array (N,).
    """
    c = np.asarray(as_array(coeffs, "coeffs"), dtype=np.float64)
    p = np.asarray(as_array(points, "points", ndim=2), dtype=np.float64)
    if p.shape[1] != c.ndim:
        raise ValueError(f"points must have {c.ndim} columns (coeffs.ndim), got {p.shape[1]}")
    # contract the last axis first: t has shape (N, m_0, ..., m_{k-1})
    t = chebyshev_basis(p[:, -1], c.shape[-1]) @ c.reshape(-1, c.shape[-1]).T  # (N, prod)
    t = t.reshape((p.shape[0],) + c.shape[:-1])
    for k in range(c.ndim - 2, -1, -1):
        b = chebyshev_basis(p[:, k], c.shape[k])  # (N, m_k)
        t = np.einsum("nj,nj...->n...", b, np.moveaxis(t, k + 1, 1))
    return t


def derivative_coefficients(coeffs: Any, axis: int = 0) -> np.ndarray:
    """Coefficients of the derivative ``d/dx_axis`` of a Chebyshev series (same shape).

    Backward recurrence ``c'_{j-1} = c'_{j+1} + 2 j c_j`` (``c'_n = c'_{n+1} = 0``), then
    ``c'_0`` halved; the last coefficient of the result is zero.

    Args:
        coeffs: coefficient array, any number of axes.
        axis: the axis to differentiate along (reference variable on [-1, 1]).

    Returns:
        float64 array of the same shape.
    """
    c = np.asarray(as_array(coeffs, "coeffs"), dtype=np.float64)
    (axis,) = _axes_arg(c.ndim, axis, "axis")
    c = np.moveaxis(c, axis, 0)
    m = c.shape[0]
    d = np.zeros_like(c)
    if m >= 2:
        d[m - 2] = 2.0 * (m - 1) * c[m - 1]
        for j in range(m - 2, 0, -1):
            nxt = d[j + 1] if j + 1 < m else 0.0
            d[j - 1] = nxt + 2.0 * j * c[j]
        d[0] *= 0.5
    return np.moveaxis(d, 0, axis)


def integral_weights(m: int) -> np.ndarray:
    """``w_j = int_{-1}^{1} T_j(x) dx``: ``2 / (1 - j^2)`` for even ``j``, 0 for odd ``j``.

    Args:
        m: number of coefficients.

    Returns:
        float64 array (m,).
    """
    m = check_positive_int(m, "m", minimum=1)
    j = np.arange(m, dtype=np.float64)
    w = np.zeros(m)
    even = np.arange(m) % 2 == 0
    w[even] = 2.0 / (1.0 - j[even] ** 2)
    return w


def chebyshev_integral(coeffs: Any) -> float:
    """Integral of a d-dimensional Chebyshev series over the reference cube [-1, 1]^d.

    ``int p = sum_j c_j prod_k w_{j_k}`` with :func:`integral_weights`.

    Args:
        coeffs: coefficient array (m_0, ..., m_{d-1}).

    Returns:
        the integral (float).
    """
    c = np.asarray(as_array(coeffs, "coeffs"), dtype=np.float64)
    check_finite(c, "coeffs")
    for _ in range(c.ndim):
        c = np.tensordot(integral_weights(c.shape[0]), c, axes=(0, 0))
    return float(c)
