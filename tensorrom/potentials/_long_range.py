r"""The long-range part of a multi-particle Coulomb potential as a ChebTucker.

With the long-range kernel written as a Gaussian sum
:math:`\mathrm{erf}(\beta r)/r \approx \sum_{k=1}^K c_k e^{-p_k r^2}`, the long-range
potential of charges :math:`q_j` at :math:`x_j` is a sum of :math:`R = NK` separable terms,

.. math::
    V_{long}(x) = \sum_{j=1}^N q_j \,\frac{\mathrm{erf}(\beta|x - x_j|)}{|x - x_j|}
    \approx \sum_{j,k} q_j c_k \prod_{i=1}^{3} e^{-p_k (x_i - x_{j,i})^2},

so each 1D factor is known exactly at the Chebyshev–Lobatto nodes; the Chebyshev
coefficients of these factors are compressed by the reduced HOSVD
(:meth:`tensorrom.tensor.ChebTucker.from_separable`), and the small core is truncated once
more by its HOSVD (:func:`recompress`). No 3D array of values is sampled; the
cost is linear in ``N`` (``3 N K (degree+1)`` exponentials, the QR of the side matrices and the
projection of the core).

References:
    P. Benner, V. Khoromskaia, B. N. Khoromskij, Range-separated tensor format for
    many-particle modeling, SIAM J. Sci. Comput. 40(2) (2018) A1034-A1062.
    P. Benner, B. N. Khoromskij, V. Khoromskaia, B. Sun, A mesh-free hybrid Chebyshev-Tucker
    tensor format with applications to multi-particle modelling, arXiv:2503.01696 (2025).
"""

from __future__ import annotations

import math

import numba
import numpy as np
from scipy.special import erf

from ..data import Box, PointCloud
from ..tensor import ChebTucker, hosvd
from ._particles import particle_arrays
from ._split import RangeSplit

__all__ = ["long_range", "gaussian_factors", "recompress"]


@numba.njit(cache=True, parallel=True)
def _gaussian_factor_values(nodes, centres, exponents, out):
    """out[a, j*K + k] = exp(-p_k (nodes[a] - centres[j])^2)."""
    m = nodes.shape[0]
    n = centres.shape[0]
    kk = exponents.shape[0]
    for a in numba.prange(m):
        for j in range(n):
            d = nodes[a] - centres[j]
            d2 = d * d
            base = j * kk
            for k in range(kk):
                out[a, base + k] = math.exp(-exponents[k] * d2)


def gaussian_factors(centres: np.ndarray, exponents: np.ndarray):
    r"""The 1D factor callable of one axis: ``nodes (m,) -> (m, N K)`` with entry
    :math:`e^{-p_k(\text{node} - x_{j})^2}` in column ``j K + k``.

    Args:
        centres: (N,) particle coordinates on this axis (Å).
        exponents: (K,) Gaussian exponents (1/Å²).
    """
    c = np.ascontiguousarray(centres, dtype=np.float64)
    p = np.ascontiguousarray(exponents, dtype=np.float64)

    def factor(nodes):
        x = np.ascontiguousarray(nodes, dtype=np.float64).reshape(-1)
        out = np.empty((x.size, c.size * p.size))
        _gaussian_factor_values(x, c, p, out)
        return out

    return factor


def _long_scale(coords: np.ndarray, charges: np.ndarray, split: RangeSplit,
                n_sample: int = 96, seed: int = 0) -> float:
    """Estimate of ``max |V_long|``: exact erf sums at a sample of particle positions."""
    rng = np.random.default_rng(seed)
    idx = rng.choice(coords.shape[0], size=min(n_sample, coords.shape[0]), replace=False)
    d = np.linalg.norm(coords[idx, None, :] - coords[None, :, :], axis=-1)
    small = d * split.beta < 1e-8
    k = np.where(small, split.self_term, erf(split.beta * d) / np.where(small, 1.0, d))
    return float(np.max(np.abs(k @ charges)))


def long_range(particles: PointCloud, split: RangeSplit | None = None, rtol: float = 1e-6, *,
               box: Box | None = None, **split_options) -> ChebTucker:
    r"""The long-range potential :math:`\sum_j q_j\,\mathrm{erf}(\beta|x-x_j|)/|x-x_j|` as a
    :class:`~tensorrom.tensor.ChebTucker` (e/Å for charges in e and coordinates in Å).

    Built from exact 1D Gaussian factors at the Chebyshev–Lobatto nodes and the reduced HOSVD
    (:meth:`ChebTucker.from_separable`), then :func:`recompress`-ed, in ``O(N)`` work and
    memory. Uncharged particles are skipped.

    Args:
        particles: :class:`PointCloud` (N, 3) in Å with a ``charge`` feature (e).
        split: a :class:`RangeSplit`; default ``RangeSplit.choose(box, rtol, n_particles=N)``.
        rtol: kernel tolerance when ``split`` is None (see :class:`RangeSplit`). The Tucker
            truncations (absolute Frobenius tolerance of the Chebyshev coefficients, in the
            reduced HOSVD and again in the core recompression) are each ``rtol/4`` times an
            estimate of ``max|V_long|`` (exact erf sums at up to 96 particles).
        box: the region the result must cover (default: the particles' bounding box); the
            split pads it.
        **split_options: passed to :meth:`RangeSplit.choose` (``beta``, ``r_cut``,
            ``degree``, ``padding``).

    Returns:
        ChebTucker on ``split.box``.

    References:
        Benner, Khoromskaia, Khoromskij, SIAM J. Sci. Comput. 40(2) (2018);
        Benner, Khoromskij, Khoromskaia, Sun, arXiv:2503.01696 (2025).
    """
    coords, charges = particle_arrays(particles)
    keep = charges != 0.0  # uncharged particles add nothing: drop their terms (exact)
    if not keep.any():
        raise ValueError("particles['charge'] is zero everywhere: the potential vanishes")
    if split is None:
        if box is None:
            box = Box.bounding(coords)
        split = RangeSplit.choose(box, rtol, n_particles=coords.shape[0], **split_options)
    elif not isinstance(split, RangeSplit):
        raise TypeError(f"split must be a RangeSplit or None, got {type(split).__name__}")
    elif split_options:
        raise ValueError(f"give either split or split options, not both: {sorted(split_options)}")
    split.box.check_contains(coords, "particles.coords", atol=1e-9)
    coords, charges = coords[keep], charges[keep]
    gs = split.long_sum
    weights = (charges[:, None] * gs.coefficients[None, :]).reshape(-1)
    factors = [gaussian_factors(coords[:, i], gs.exponents) for i in range(3)]
    scale = _long_scale(coords, charges, split)
    if scale == 0.0:
        scale = float(np.abs(charges).sum() * split.self_term) or 1.0
    atol = 0.25 * split.rtol * scale  # RHOSVD and core truncation: rtol/4 each
    ct = ChebTucker.from_separable(weights, factors, split.box, split.degrees, None,
                                   atol=atol, n_check=0)
    return recompress(ct, atol)


def recompress(ct: ChebTucker, atol: float) -> ChebTucker:
    r"""Truncate the Tucker core of a ChebTucker by its own HOSVD (absolute Frobenius
    tolerance ``atol`` on the Chebyshev coefficients).

    The reduced HOSVD chooses each factor from the side matrix of *unweighted, normalised*
    terms, so it cannot see cancellations between terms (the alternating charges of an ionic
    lattice); the HOSVD of the small core, :math:`G \approx G' \times_k V_k`, with factors
    :math:`U_k V_k`, finds the ranks of the sum itself. Cost :math:`O(r^4)`.

    References:
        B. N. Khoromskij, V. Khoromskaia, SIAM J. Sci. Comput. 31 (2009) 3002-3026
        (RHOSVD followed by the Tucker-to-Tucker core truncation).
    """
    t = hosvd(ct.core, atol=atol)
    factors = [u @ v for u, v in zip(ct.factors, t.factors)]
    return ChebTucker(t.core, factors, ct.box, truncation_error=ct.truncation_error + atol)
