r"""The long-range part of a multi-particle Coulomb potential as a ChebTucker.

With the long-range kernel written as a Gaussian sum
:math:`\mathrm{erf}(\beta r)/r \approx \sum_{k=1}^K c_k e^{-p_k r^2}`, the long-range
potential of charges :math:`q_j` at :math:`x_j` is a sum of :math:`R = NK` separable terms,

.. math::
    V_{long}(x) = \sum_{j=1}^N q_j \,\frac{\mathrm{erf}(\beta|x - x_j|)}{|x - x_j|}
    \approx \sum_{j,k} q_j c_k \prod_{i=1}^{3} e^{-p_k (x_i - x_{j,i})^2},

so each 1D factor is known exactly at the Chebyshev–Lobatto nodes; the Chebyshev
coefficients of these factors are compressed by the reduced HOSVD (RHOSVD), and the small
core is truncated once more by its HOSVD (:func:`recompress`). No 3D array of values is
sampled; the cost is linear in ``N``.

The RHOSVD is organised around the structure of the terms (one group of ``N`` terms per
Gaussian ``k``; see :func:`_rhosvd_groups`):

1. per axis, the side matrix of the ``R = NK`` normalised coefficient columns; its leading
   left singular vectors ``U_i`` (the RHOSVD basis) come from its ``m x m`` Gram matrix,
   *deflated*: the eigenvectors whose eigenvalues the Gram matrix resolves are kept and the
   rest of the side matrix is projected onto their complement and decomposed again, so the
   singular-value tail is resolved far below ``sqrt(eps) sigma_max`` at the cost of a few
   BLAS-3 products (:func:`_left_basis`);
2. per Gaussian ``k``, the projected columns ``U_i^T a_{i,jk}`` (``j = 1..N``) are compressed
   once more by the same rule (the Gaussians with ``p_k L_max^2 <= 1`` form one group): a
   wide Gaussian is smooth over the box, its ``N`` columns have numerical rank 3–10, so its
   share of the core,
   ``sum_j w_jk (U_1^T a_1) o (U_2^T a_2) o (U_3^T a_3)``, costs ``N s_1 s_2 s_3`` instead of
   ``N r_1 r_2 r_3`` operations (chunked Khatri–Rao products and GEMMs);
3. the core is truncated by its own HOSVD (:func:`recompress`).

Error bound (Frobenius norm of the Chebyshev coefficients): with normalised columns, each
step that projects mode ``i`` of a set of terms with weights ``w`` adds at most
``||w||_2 * tail_i`` (Khoromskij & Khoromskaia 2009, Thm 2.5); step 1 uses ``3/4``, step 2
``1/4`` of the RHOSVD budget, step 3 its own.

References:
    P. Benner, V. Khoromskaia, B. N. Khoromskij, Range-separated tensor format for
    many-particle modeling, SIAM J. Sci. Comput. 40(2) (2018) A1034-A1062.
    P. Benner, B. N. Khoromskij, V. Khoromskaia, B. Sun, A mesh-free hybrid Chebyshev-Tucker
    tensor format with applications to multi-particle modelling, arXiv:2503.01696 (2025).
    B. N. Khoromskij, V. Khoromskaia, Multigrid accelerated tensor approximation of function
    related multidimensional arrays, SIAM J. Sci. Comput. 31 (2009) 3002-3026 (RHOSVD).
"""

from __future__ import annotations

import math

import numba
import numpy as np
from scipy.special import erf

from ..data import Box, PointCloud
from ..tensor import ChebTucker
from ..tensor._chebyshev import values_to_coefficients
from ..tensor._sampling import _node_axes
from ..tensor._tucker import truncation_rank
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


@numba.njit(cache=True, parallel=True)
def _grouped_factor_values(nodes, centres, exponents, out):
    """out[a, k, j] = exp(-p_k (nodes[a] - centres[j])^2) (terms grouped by Gaussian)."""
    m = nodes.shape[0]
    n = centres.shape[0]
    kk = exponents.shape[0]
    for t in numba.prange(m * kk):
        a = t // kk
        k = t - a * kk
        p = exponents[k]
        x = nodes[a]
        for j in range(n):
            d = x - centres[j]
            out[a, k, j] = math.exp(-p * d * d)


_GRAM_SPLIT = 1e-11  # eigenvalues of a Gram matrix above this x the largest are resolved


def _left_basis(c: np.ndarray, thr: float,
                max_pass: int = 5) -> tuple[np.ndarray, np.ndarray, float]:
    r"""Left singular vectors and values of ``c`` (m, n), n >> m, accurate enough to truncate
    at a Frobenius tail ``thr``.

    The Gram matrix :math:`cc^T` resolves eigenvalues only down to a small multiple of
    :math:`\epsilon\,\sigma_{max}^2` (singular values to about
    :math:`\sqrt\epsilon\,\sigma_{max}`). Deflation: the eigenvectors with eigenvalues above
    ``_GRAM_SPLIT`` x the largest are kept, ``c`` is projected onto the complement of their
    span and that remainder is decomposed the same way (its Gram matrix formed from the data),
    until the part a pass cannot resolve, :math:`\sqrt{n_{below}\cdot\text{floor}}`, is at
    most ``thr / 2``. The columns returned are orthonormal (products of orthogonal matrices).
    Cost per pass :math:`O(m^2 n)` in BLAS-3.

    Returns:
        (U (m, m), singular values (m,), noise): ``noise`` bounds the error of the tail
        estimates :math:`(\sum_{i\ge r}\sigma_i^2)^{1/2}`; truncate at ``thr - noise``.
    """
    vs, ss = [], []
    rot = None
    block = c
    noise = 0.0
    for it in range(max_pass):
        w, v = np.linalg.eigh(block @ block.T)
        w, v = np.clip(w[::-1], 0.0, None), v[:, ::-1]
        floor = _GRAM_SPLIT * float(w[0])
        k = int(np.count_nonzero(w > floor))
        noise = math.sqrt((w.size - k) * floor)
        if k == w.size or noise <= 0.5 * thr or it == max_pass - 1:
            k = w.size
        vs.append(v[:, :k] if rot is None else rot @ v[:, :k])
        ss.append(np.sqrt(w[:k]))
        if k == w.size:
            break
        tail = v[:, k:]
        rot = tail if rot is None else rot @ tail
        block = tail.T @ block
    return np.concatenate(vs, axis=1), np.concatenate(ss), noise


def _truncate(s: np.ndarray, thr: float, noise: float) -> tuple[int, float]:
    """(rank, bound on the discarded Frobenius tail) for singular values with estimate
    error ``noise`` (see :func:`_left_basis`)."""
    r = max(truncation_rank(s, max(thr - noise, 0.0)), 1)
    return r, float(np.sqrt(np.sum(s[r:] ** 2))) + noise


def _cp_core3(w: np.ndarray, a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    r"""The 3-way core :math:`\sum_j w_j a_j \circ b_j \circ c_j` of columns ``a`` (r1, n),
    ``b`` (r2, n), ``c`` (r3, n): chunks of the Khatri–Rao product of the two smaller modes
    times the third (one GEMM per chunk)."""
    mats = [a, b, c]
    big = int(np.argmax([x.shape[0] for x in mats]))
    rest = [i for i in range(3) if i != big]
    x, y, z = (mats[i] for i in (*rest, big))
    r1, r2, r3 = x.shape[0], y.shape[0], z.shape[0]
    n = w.size
    xw = x * w
    out = np.zeros((r1 * r2, r3))
    step = max(128, (1 << 19) // max(r1 * r2, 1))  # few, large GEMMs
    for s in range(0, n, step):
        e = min(n, s + step)
        kr = (xw[:, None, s:e] * y[None, :, s:e]).reshape(r1 * r2, e - s)
        out += kr @ z[:, s:e].T
    out = out.reshape(r1, r2, r3)
    # back to the order (a, b, c): axes currently (rest[0], rest[1], big)
    return np.ascontiguousarray(np.moveaxis(out, 2, big))


def _rhosvd_groups(coords: np.ndarray, charges: np.ndarray, exponents: np.ndarray,
                   coefficients: np.ndarray, box: Box, degrees: tuple[int, ...],
                   atol: float) -> ChebTucker:
    r"""Reduced HOSVD of :math:`\sum_{j,k} q_j c_k \prod_i e^{-p_k(x_i - x_{j,i})^2}` in
    Chebyshev coefficients, terms grouped by Gaussian (see the module docstring); absolute
    Frobenius tolerance ``atol`` (3/4 for the global bases, 1/4 for the per-Gaussian ones).
    Returns the (not yet recompressed) ChebTucker with its error bound."""
    n = coords.shape[0]
    kk = exponents.size
    srt = np.argsort(exponents, kind="stable")  # widest first (the grouping below needs it)
    exponents = np.ascontiguousarray(exponents[srt], dtype=np.float64)
    coefficients = np.asarray(coefficients, dtype=np.float64)[srt]
    axes = _node_axes(box, degrees)
    normed, norms = [], []
    for i in range(3):
        m = axes[i].size
        vals = np.empty((m, kk, n))
        _grouped_factor_values(axes[i], np.ascontiguousarray(coords[:, i]), exponents, vals)
        dct = values_to_coefficients(np.eye(m), axes=0)  # coefficients = dct @ values
        f = (dct @ vals.reshape(m, kk * n)).reshape(m, kk, n)
        del vals
        nrm = np.sqrt(np.einsum("akj,akj->kj", f, f))
        nrm[nrm == 0.0] = 1.0
        f /= nrm
        normed.append(f)
        norms.append(nrm)
    # weights of the normalised terms, (K, N)
    wt = coefficients[:, None] * charges[None, :] * norms[0] * norms[1] * norms[2]
    wnorm = float(np.linalg.norm(wt))
    if wnorm == 0.0:
        raise ValueError("the long-range weights vanish")
    # the groups of step 2: every Gaussian alone, except the widest ones (p L^2 <= 1: nearly
    # polynomials of low degree over the box), which share one group (one small basis)
    wide = int(np.count_nonzero(exponents * float(np.max(box.lengths)) ** 2 <= 1.0))
    groups = ([(0, wide)] if wide else []) + [(k, k + 1) for k in range(wide, kk)]
    group_norms = np.array([np.linalg.norm(wt[k0:k1]) for k0, k1 in groups])
    thr = 0.75 * atol / (3.0 * wnorm)
    thr_g = 0.25 * atol / (3.0 * float(group_norms.sum()))
    us, svals = [], []
    err = 0.0
    for f in normed:
        u, s, noise = _left_basis(f.reshape(f.shape[0], -1), thr)
        r, tail = _truncate(s, thr, noise)
        us.append(np.ascontiguousarray(u[:, :r]))
        svals.append(s)
        err += wnorm * tail
    ranks = tuple(u.shape[1] for u in us)
    proj = [(u.T @ f.reshape(f.shape[0], -1)).reshape(u.shape[1], kk, n)
            for u, f in zip(us, normed)]
    del normed
    core = np.zeros(ranks)
    for k0, k1 in groups:
        parts, bases = [], []
        tail = 0.0
        for p in proj:
            pk = p[:, k0:k1, :].reshape(p.shape[0], -1)
            q, s, noise = _left_basis(pk, thr_g)
            r, t = _truncate(s, thr_g, noise)
            tail += t
            q = q[:, :r]
            parts.append(q.T @ pk)
            bases.append(q)
        wg = wt[k0:k1].reshape(-1)
        err += float(np.linalg.norm(wg)) * tail
        g = _cp_core3(wg, *parts)  # (s1, s2, s3)
        s1, s2, s3 = g.shape
        g = (bases[0] @ g.reshape(s1, s2 * s3)).reshape(ranks[0], s2, s3)
        g = np.matmul(bases[1], g)  # (r1, r2, s3)
        core += (g.reshape(-1, s3) @ bases[2].T).reshape(ranks)
    return ChebTucker(core, us, box, truncation_error=err, singular_values=svals)


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
    (grouped by Gaussian, see the module docstring), then :func:`recompress`-ed, in ``O(N)``
    work and memory. Uncharged particles are skipped.

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
    scale = _long_scale(coords, charges, split)
    if scale == 0.0:
        scale = float(np.abs(charges).sum() * split.self_term) or 1.0
    atol = 0.25 * split.rtol * scale  # RHOSVD and core truncation: rtol/4 each
    ct = _rhosvd_groups(coords, charges, np.ascontiguousarray(gs.exponents, dtype=np.float64),
                        np.asarray(gs.coefficients, dtype=np.float64), split.box, split.degrees,
                        atol)
    return recompress(ct, atol)


def _basis_rows(s: np.ndarray, m: int) -> np.ndarray:
    """(m, M) matrix ``T_j(s_i)`` by the three-term recurrence, row by row (contiguous)."""
    out = np.empty((m, s.size))
    out[0] = 1.0
    if m > 1:
        out[1] = s
    s2 = 2.0 * s
    for j in range(2, m):
        np.multiply(s2, out[j - 1], out=out[j])
        out[j] -= out[j - 2]
    return out


def evaluate_points(ct: ChebTucker, points: np.ndarray, chunk: int = 512, *,
                    factors=None) -> np.ndarray:
    r"""Values of a 3D :class:`ChebTucker` at many points (M, 3) (inside its box), as
    :meth:`ChebTucker.evaluate` but through BLAS: per axis the Chebyshev basis times the
    factor, :math:`V_k = T_k(s_k)^T U_k` (M, r_k); then per chunk of points one GEMM
    :math:`V_a G_{(a)}` (``chunk x r_b r_c``, ``a`` the mode of the largest rank) and the
    row-wise contractions with :math:`V_c` and :math:`V_b`. Work :math:`M r_1 r_2 r_3` in
    GEMMs; all in NumPy/BLAS (no Numba region between the BLAS calls, whose idle OpenMP
    threads would slow them down). ``factors`` replaces ``ct.factors`` (e.g. the derivative
    factors of :meth:`ChebTucker.gradient`)."""
    pts = np.ascontiguousarray(points, dtype=np.float64)
    lo, lengths = ct.box.lower, ct.box.lengths
    vs = []
    for k, u in enumerate(ct.factors if factors is None else factors):
        s = np.clip(2.0 * (pts[:, k] - lo[k]) / lengths[k] - 1.0, -1.0, 1.0)
        vs.append(_basis_rows(s, u.shape[0]).T @ u)
    core = ct.core
    a = int(np.argmax(core.shape))
    b, c = (k for k in range(3) if k != a)
    g = np.moveaxis(core, a, 0).reshape(core.shape[a], -1)  # (r_a, r_b r_c)
    out = np.empty(pts.shape[0])
    for start in range(0, pts.shape[0], chunk):
        sl = slice(start, start + chunk)
        w = (vs[a][sl] @ g).reshape(-1, core.shape[b], core.shape[c])
        t = np.matmul(w, vs[c][sl, :, None])[:, :, 0]  # (chunk, r_b)
        out[sl] = np.einsum("pb,pb->p", t, vs[b][sl])
    return out


def recompress(ct: ChebTucker, atol: float) -> ChebTucker:
    r"""Truncate the Tucker core of a ChebTucker by its own HOSVD (absolute Frobenius
    tolerance ``atol`` on the Chebyshev coefficients).

    The reduced HOSVD chooses each factor from the side matrix of *unweighted, normalised*
    terms, so it cannot see cancellations between terms (the alternating charges of an ionic
    lattice); the HOSVD of the small core, :math:`G \approx G' \times_k V_k`, with factors
    :math:`U_k V_k`, finds the ranks of the sum itself. Cost :math:`O(r^4)`. This is
    :meth:`ChebTucker.recompress` with ``atol`` (which orthonormalises the factors first, a
    no-op up to signs for the reduced HOSVD's orthonormal factors).

    References:
        B. N. Khoromskij, V. Khoromskaia, SIAM J. Sci. Comput. 31 (2009) 3002-3026
        (RHOSVD followed by the Tucker-to-Tucker core truncation).
    """
    return ct.recompress(None, atol=atol)
