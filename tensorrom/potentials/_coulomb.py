r"""Full Coulomb potential, field and energy through the range split, and direct sums.

.. math::
    V(x) = \sum_j \frac{q_j}{|x - x_j|}
    = \underbrace{\sum_j q_j\frac{\mathrm{erf}(\beta r_j)}{r_j}}_{\text{ChebTucker}}
    + \underbrace{\sum_{r_j < r_c} q_j\frac{\mathrm{erfc}(\beta r_j)}{r_j}}_{\text{neighbour sum}},
    \qquad E = \frac12\sum_{i\ne j}\frac{q_i q_j}{r_{ij}}.

Units: charges in e, lengths in Å, potentials in e/Å, fields in e/Å², energies in e²/Å.
Multiply by :data:`COULOMB_KCAL` = 332.0637 kcal·Å/(mol·e²) for kcal/mol/e (potential) or
kcal/mol (energy); fmm3dpy's Laplace kernel is :math:`1/(4\pi r)`, so its potentials are ours
divided by :math:`4\pi`.

References:
    P. Benner, V. Khoromskaia, B. N. Khoromskij, Range-separated tensor format for
    many-particle modeling, SIAM J. Sci. Comput. 40(2) (2018) A1034-A1062.
    P. Benner, B. N. Khoromskij, V. Khoromskaia, B. Sun, arXiv:2503.01696 (2025).
"""

from __future__ import annotations

import math
from typing import Any

import numba
import numpy as np

from .._validate import check_positive_float
from ..data import Box, Field, PointCloud, TensorGrid
from ..tensor import ChebTucker
from ..tensor._chebyshev import derivative_coefficients
from ..tensor._kernels import evaluate_tucker_chebyshev
from ._long_range import long_range
from ._particles import particle_arrays, target_array
from ._short_range import (
    _BACKENDS,
    _raise_too_close,
    _short_numba,
    short_range,
    short_range_field,
    short_range_on_grid,
)
from ._split import RangeSplit, check_split_rtol

__all__ = ["coulomb", "coulomb_on_grid", "field", "energy", "forces", "direct_sum",
           "direct_field", "direct_energy", "choose_method", "COULOMB_KCAL"]

COULOMB_KCAL = 332.0637
"""Coulomb constant in kcal·Å/(mol·e²): potential [e/Å] x 332.0637 = kcal/mol/e."""

# The default split at scattered targets (coulomb, field): RangeSplit.choose's max_beta_length
# and max_cut. A longer cutoff than on grids (beta L_max <= 10, lower Chebyshev degrees and
# Tucker ranks: a cheaper build and evaluation) since the binned short-range kernel is cheap.
# Measured on the 2-core CPU (2026-12-06, method="split", copies of adk_open, random points in
# the padded box) against the previous (16, 30 A): 3 341 atoms 10^5 points 0.39 s against
# 1.15 s, 10^6 points 1.92 s against 2.24 s; 13 364 atoms 10^5 points 1.23 s against 1.98 s;
# 30 069 atoms 10^5 points 2.68 s against 3.72 s, 10^6 points 6.7-7.3 s against 6.2-6.3 s (the
# one case where the shorter cutoff stays ahead). The JAX short range keeps the shorter cutoff
# (its GPU timing with the binned kernel is still owed).
_POINTS_SPLIT = {"numba": {"max_beta_length": 10.0, "max_cut": 40.0},
                 "jax": {"max_beta_length": 16.0, "max_cut": 30.0}}

_METHODS = ("auto", "split", "direct")
# The cost model of method="auto" (choose_method), in units of one term q_j/r_ij of the
# (vectorised) direct sum, about 0.7 ns per pair with both cores of the development CPU
# (1.4 ns per pair on one core).
# Measured there (2026-12-06; adk_open.pqr and four and nine copies of it side by side, 10^4
# and 4*10^5 random points, rtol 1e-6 for potentials and fields, 1e-8 for energies): the
# build of the split 76-121 us per particle (1.1-1.8e5 units; 85-133 us with the grid's
# default split), the rest of the split 1.2-2.7 us per target (1.8-3.9e3 units; the field
# 2.3-6.3 us, 3.3-9.5e3 units), 0.17 us per node of adk_open's 128^3 grid, the energy's
# split 230-400 us per particle. Per-target figures before the binned short-range kernel
# (also 2026-12-06): 3.7-9.9 us, the field 13-25 us. Both methods run on all cores, so the
# ratios carry over to other CPUs to within a small factor; near the crossover both cost the
# same.
_SPLIT_PER_PARTICLE = 1.5e5  # long-range ChebTucker build (reduced HOSVD), per particle
_SPLIT_PER_TARGET = {"potential": 3.0e3,  # binned short range + Tucker evaluation
                     "field": 7.0e3,      # the same with three derivative evaluations
                     "grid": 2.2e2}       # a grid node: slab kernel + Tucker expansion
_DIRECT_PER_PAIR = {"potential": 1.0, "field": 1.0, "grid": 1.0}  # field: as much (measured)
_ENERGY_SPLIT_PER_PARTICLE = 4.0e5  # build at rtol 1e-8 + short range at the particles


@numba.njit(cache=True, parallel=True)
def _direct(targets, coords, charges, out, min_r2):
    m = targets.shape[0]
    n = coords.shape[0]
    for i in numba.prange(m):
        tx, ty, tz = targets[i, 0], targets[i, 1], targets[i, 2]
        acc = 0.0
        best = np.inf
        for j in range(n):
            dx = tx - coords[j, 0]
            dy = ty - coords[j, 1]
            dz = tz - coords[j, 2]
            r2 = dx * dx + dy * dy + dz * dz
            if r2 < best:
                best = r2
            if r2 > 0.0:
                acc += charges[j] / math.sqrt(r2)
        out[i] = acc
        min_r2[i] = best


@numba.njit(cache=True, parallel=True)
def _direct_field(targets, coords, charges, out, min_r2):
    m = targets.shape[0]
    n = coords.shape[0]
    for i in numba.prange(m):
        tx, ty, tz = targets[i, 0], targets[i, 1], targets[i, 2]
        ex = 0.0
        ey = 0.0
        ez = 0.0
        best = np.inf
        for j in range(n):
            dx = tx - coords[j, 0]
            dy = ty - coords[j, 1]
            dz = tz - coords[j, 2]
            r2 = dx * dx + dy * dy + dz * dz
            if r2 < best:
                best = r2
            if r2 > 0.0:
                w = charges[j] / (r2 * math.sqrt(r2))
                ex += w * dx
                ey += w * dy
                ez += w * dz
        out[i, 0] = ex
        out[i, 1] = ey
        out[i, 2] = ez
        min_r2[i] = best


# The fast direct sums: pure reductions over the particles (no branch, no running minimum),
# which LLVM vectorises under these fastmath flags (not "afn": the square root and the division
# stay correctly rounded; r2 ** -0.5 is lowered to them, math.sqrt would stay scalar), about
# 2x faster per pair than the loops above (measured: 1.4 against 2.7 ns per pair and thread,
# 2-core x86-64 with AVX-512). The nearest particle of every target comes from a k-d tree
# instead; targets exactly on a particle (min_distance=0) are summed by the loops above.
_FASTMATH = {"nnan", "ninf", "nsz", "arcp", "contract", "reassoc"}


@numba.njit(cache=True, fastmath=_FASTMATH)
def _potential_row(tx, ty, tz, xs, ys, zs, qs, j0, j1):
    acc = 0.0
    for j in range(j0, j1):
        dx = tx - xs[j]
        dy = ty - ys[j]
        dz = tz - zs[j]
        r2 = dx * dx + dy * dy + dz * dz
        acc += qs[j] * r2 ** -0.5
    return acc


@numba.njit(cache=True, fastmath=_FASTMATH)
def _field_row(tx, ty, tz, xs, ys, zs, qs):
    ex = 0.0
    ey = 0.0
    ez = 0.0
    for j in range(xs.shape[0]):
        dx = tx - xs[j]
        dy = ty - ys[j]
        dz = tz - zs[j]
        r2 = dx * dx + dy * dy + dz * dz
        inv = r2 ** -0.5
        w = qs[j] * (inv * inv * inv)
        ex += w * dx
        ey += w * dy
        ez += w * dz
    return ex, ey, ez


@numba.njit(cache=True, parallel=True)
def _direct_fast(targets, xs, ys, zs, qs, out):
    n = xs.shape[0]
    for i in numba.prange(targets.shape[0]):
        out[i] = _potential_row(targets[i, 0], targets[i, 1], targets[i, 2], xs, ys, zs, qs,
                                0, n)


@numba.njit(cache=True, parallel=True)
def _direct_field_fast(targets, xs, ys, zs, qs, out):
    for i in numba.prange(targets.shape[0]):
        ex, ey, ez = _field_row(targets[i, 0], targets[i, 1], targets[i, 2], xs, ys, zs, qs)
        out[i, 0] = ex
        out[i, 1] = ey
        out[i, 2] = ez


@numba.njit(cache=True, parallel=True)
def _direct_energy_fast(xs, ys, zs, qs, out):
    n = xs.shape[0]
    for i in numba.prange(n):
        v = (_potential_row(xs[i], ys[i], zs[i], xs, ys, zs, qs, 0, i)
             + _potential_row(xs[i], ys[i], zs[i], xs, ys, zs, qs, i + 1, n))
        out[i] = qs[i] * v


@numba.njit(cache=True, parallel=True)
def _direct_forces_fast(xs, ys, zs, qs, out):
    """out[i] = q_i sum_{j != i} q_j (x_i - x_j)/r_ij^3 (no two particles coincide)."""
    n = xs.shape[0]
    for i in numba.prange(n):
        ax, ay, az = _field_row(xs[i], ys[i], zs[i], xs[:i], ys[:i], zs[:i], qs[:i])
        bx, by, bz = _field_row(xs[i], ys[i], zs[i], xs[i + 1:], ys[i + 1:], zs[i + 1:],
                                qs[i + 1:])
        out[i, 0] = qs[i] * (ax + bx)
        out[i, 1] = qs[i] * (ay + by)
        out[i, 2] = qs[i] * (az + bz)


def _soa(coords: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return tuple(np.ascontiguousarray(coords[:, k], dtype=np.float64) for k in range(3))


def _nearest_r2(coords: np.ndarray, targets: np.ndarray, k: int = 1) -> np.ndarray:
    """Squared distance from each target to its k-th nearest particle (k-d tree)."""
    from scipy.spatial import cKDTree

    if targets.shape[0] == 0:
        return np.empty(0)
    d, _ = cKDTree(coords).query(targets, k=k, workers=-1)
    d = d if k == 1 else d[:, k - 1]
    return np.asarray(d, dtype=np.float64) ** 2


def direct_sum(particles: PointCloud, targets: Any, *, min_distance: float = 1e-3,
               chunk: int = 1 << 16) -> np.ndarray:
    r"""Direct :math:`O(NM)` sum :math:`V(x) = \sum_j q_j/|x - x_j|` (e/Å), in target chunks
    (Numba, parallel over targets, vectorised over the particles). The reference for
    :func:`coulomb`. Targets too close to a particle are found first (k-d tree), before the
    sum.

    Args:
        particles: PointCloud (N, 3), Å, with ``charge`` (e).
        targets: (M, 3) points or a PointCloud (Å).
        min_distance: targets closer than this to a particle raise ValueError (Å); with 0, a
            target exactly on a particle omits that particle's term.
        chunk: targets per chunk.
    """
    return _direct_at_targets(particles, targets, min_distance, chunk, _direct_fast, _direct,
                              ())


def direct_field(particles: PointCloud, targets: Any, *, min_distance: float = 1e-3,
                 chunk: int = 1 << 16) -> np.ndarray:
    r"""Direct :math:`O(NM)` field :math:`E(x) = \sum_j q_j (x - x_j)/|x - x_j|^3` (e/Å², (M, 3)),
    in target chunks (Numba, parallel over targets). The reference for :func:`field`.

    Args:
        particles: PointCloud (N, 3), Å, with ``charge`` (e).
        targets: (M, 3) points or a PointCloud (Å).
        min_distance: targets closer than this to a particle raise ValueError (Å).
        chunk: targets per chunk.
    """
    return _direct_at_targets(particles, targets, min_distance, chunk, _direct_field_fast,
                              _direct_field, (3,))


def _direct_at_targets(particles, targets, min_distance, chunk, fast, exact, tail):
    """The shared driver of :func:`direct_sum` and :func:`direct_field`: the nearest
    particles (k-d tree) checked first, then the vectorised kernel ``fast`` per chunk, and the
    exact loop ``exact`` (which skips r = 0) for targets on a particle (``min_distance=0``).
    ``tail`` is the shape of one target's value: () or (3,)."""
    coords, charges = particle_arrays(particles)
    t = target_array(targets)
    min_distance = check_positive_float(min_distance, "min_distance", allow_zero=True)
    min_r2 = _nearest_r2(coords, t)
    _raise_too_close(min_r2, min_distance, "target")
    xs, ys, zs = _soa(coords)
    q = np.ascontiguousarray(charges, dtype=np.float64)
    out = np.empty((t.shape[0], *tail))
    for s in range(0, t.shape[0], chunk):
        fast(t[s:s + chunk], xs, ys, zs, q, out[s:s + chunk])
    on = np.flatnonzero(min_r2 == 0.0)
    if on.size:
        tmp = np.empty((on.size, *tail))
        exact(np.ascontiguousarray(t[on]), coords, q, tmp, np.empty(on.size))
        out[on] = tmp
    return out


def _direct_sum_jax(t: np.ndarray, coords: np.ndarray, charges: np.ndarray,
                    min_distance: float):
    """The direct sum under JAX on the default device (float64 in a scoped
    ``jax.enable_x64(True)``), targets in chunks of at most 2^22 pair terms; a JAX array."""
    import jax
    import jax.numpy as jnp

    m, n = t.shape[0], coords.shape[0]
    chunk = int(min(max(1, _DIRECT_JAX_TERMS // max(n, 1)), max(m, 1)))
    n_chunks = -(-m // chunk)
    padded = np.zeros((n_chunks * chunk, 3))
    padded[:m] = t
    with jax.enable_x64(True):
        v, min_r2 = _direct_jax_kernel()(jnp.asarray(padded.reshape(n_chunks, chunk, 3)),
                                         jnp.asarray(coords, dtype=jnp.float64),
                                         jnp.asarray(charges, dtype=jnp.float64))
        v = v.reshape(-1)[:m]
        min_r2 = np.asarray(min_r2).reshape(-1)[:m]
    _raise_too_close(min_r2, min_distance, "target")
    return v


_DIRECT_JAX = None
_DIRECT_JAX_TERMS = 1 << 22  # pair terms per chunk of the JAX direct sum (32 MiB in float64)


def _direct_jax_kernel():
    global _DIRECT_JAX
    if _DIRECT_JAX is None:
        import jax
        import jax.numpy as jnp

        def one(tc, coords, charges):  # tc (chunk, 3)
            d = tc[:, None, :] - coords[None, :, :]
            r2 = jnp.sum(d * d, axis=-1)
            pos = r2 > 0.0
            inv = jnp.where(pos, 1.0 / jnp.sqrt(jnp.where(pos, r2, 1.0)), 0.0)
            return inv @ charges, jnp.min(r2, axis=1)

        @jax.jit
        def kernel(tcs, coords, charges):
            return jax.lax.map(lambda tc: one(tc, coords, charges), tcs)

        _DIRECT_JAX = kernel
    return _DIRECT_JAX


def choose_method(n_particles: int, n_targets: int | None = None, *,
                  quantity: str = "potential") -> str:
    r"""The method ``method="auto"`` picks: ``"direct"`` or ``"split"`` (range-separated
    ChebTucker), whichever a cost model calls cheaper.

    The direct sum costs :math:`c\,NM` (:math:`N^2` for the energy) and is exact. The range
    split costs a build of the long-range ChebTucker in about :math:`1.5\cdot10^5 N` units of
    one direct term, plus about :math:`3\cdot10^3` units per target (short range and Tucker
    evaluation; :math:`7\cdot10^3` for the field), so it pays only when both N and M are
    large: on a CPU the direct sum is faster for fewer than about 3000 particles at any number
    of points, and for fewer than about :math:`1.5\cdot10^5` points at any number of
    particles; the energy's direct sum is faster below about :math:`4\cdot10^5` particles.
    On grids (``"grid"``, :func:`coulomb_on_grid`) the split costs only about 220 units per
    node beyond its build, so the direct sum wins only on small grids (with 3341 atoms, up to
    about 48³ nodes). The constants were measured on a 2-core x86-64 CPU (the module's
    comments); both methods use all cores, so the choice carries over to other machines to
    within a small factor, and near the crossover both cost the same.

    Args:
        n_particles: N, the number of charges.
        n_targets: M, the number of target points or grid nodes; ignored for ``"energy"``.
        quantity: ``"potential"``, ``"field"``, ``"grid"`` or ``"energy"``.

    Returns:
        ``"direct"`` or ``"split"``.
    """
    if quantity not in ("potential", "field", "grid", "energy"):
        raise ValueError(f"quantity must be 'potential', 'field', 'grid' or 'energy', got "
                         f"{quantity!r}")
    n = int(n_particles)
    if n < 0:
        raise ValueError(f"n_particles must be >= 0, got {n_particles}")
    if quantity == "energy":
        return "direct" if float(n) * n <= _ENERGY_SPLIT_PER_PARTICLE * n else "split"
    if n_targets is None:
        raise ValueError(f"n_targets is needed for quantity={quantity!r}")
    m = int(n_targets)
    if m < 0:
        raise ValueError(f"n_targets must be >= 0, got {n_targets}")
    direct = _DIRECT_PER_PAIR[quantity] * float(n) * m
    split = _SPLIT_PER_PARTICLE * n + _SPLIT_PER_TARGET[quantity] * m
    return "direct" if direct <= split else "split"


def _resolve_method(method: Any, explicit_split: bool, n: int, m: int | None,
                    quantity: str) -> str:
    """Checks ``method`` and resolves ``"auto"``; an explicit split (``split``, ``long_part``
    or split options) always means the range split."""
    if not isinstance(method, str) or method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}, got {method!r}")
    if method == "direct" and explicit_split:
        raise ValueError("method='direct' takes no split, long_part or split options "
                         "(they configure the range split)")
    if method == "auto":
        return "split" if explicit_split else choose_method(n, m, quantity=quantity)
    return method


def direct_energy(particles: PointCloud, *, min_distance: float = 1e-6) -> float:
    r"""Direct :math:`O(N^2)` pair energy :math:`\frac12\sum_{i\ne j} q_iq_j/r_{ij}` (e²/Å).

    Raises ValueError when two particles are closer than ``min_distance`` (Å).
    """
    coords, charges = particle_arrays(particles)
    min_distance = check_positive_float(min_distance, "min_distance", allow_zero=True)
    if coords.shape[0] >= 2:  # the nearest other particle (the first neighbour is itself)
        _raise_coincident(_nearest_r2(coords, coords, k=2), min_distance)
    xs, ys, zs = _soa(coords)
    out = np.empty(coords.shape[0])
    _direct_energy_fast(xs, ys, zs, np.ascontiguousarray(charges, dtype=np.float64), out)
    return 0.5 * float(math.fsum(out))


def forces(particles: PointCloud, rtol: float = 1e-6, *, split: RangeSplit | None = None,
           min_distance: float = 1e-6, method: str = "auto", **split_options) -> np.ndarray:
    r"""Coulomb forces on the particles,
    :math:`F_i = q_i\sum_{j\ne i} q_j (x_i - x_j)/r_{ij}^3 = -\partial E/\partial x_i`
    (e²/Å², (N, 3); times :data:`COULOMB_KCAL` for kcal/(mol·Å)).

    ``method="direct"`` is the exact :math:`O(N^2)` pair sum (vectorised Numba, the term
    ``j = i`` skipped); ``"split"`` is :math:`q_i E(x_i)` with the field of :func:`field`
    at the particles (the own term drops out: the short-range sum skips ``r = 0`` and the
    smooth long-range kernel has zero gradient at its centre). ``"auto"`` (default) asks
    :func:`choose_method` (``quantity="field"``, ``M = N``): the direct sum below about
    :math:`1.5\cdot10^5` particles on a CPU.

    Args:
        particles: :class:`PointCloud` (N, 3), Å, with ``charge`` (e); N >= 2.
        rtol: kernel tolerance of the split (see :class:`RangeSplit`).
        split: explicit :class:`RangeSplit` (means the split).
        min_distance: two particles closer than this raise ValueError (Å); coincident
            particles always do (checked first, with a k-d tree).
        method: ``"auto"``, ``"split"`` or ``"direct"``.
        **split_options: passed to :meth:`RangeSplit.choose` (mean the split).

    Returns:
        (N, 3) forces in e²/Å²; they sum to zero (Newton's third law) up to rounding for
        the direct sum. The split's forces are accurate to about ``10 rtol`` of
        ``max |F|``, as fields are (the gradient of the long-range interpolant loses a
        factor of about its degree over the box length).
    """
    coords, charges = particle_arrays(particles)
    if coords.shape[0] < 2:
        raise ValueError(f"particles must hold at least 2 particles, got {coords.shape[0]}")
    min_distance = check_positive_float(min_distance, "min_distance", allow_zero=True)
    explicit = split is not None or bool(split_options)
    chosen = _resolve_method(method, explicit, coords.shape[0], coords.shape[0], "field")
    check_split_rtol(rtol)
    _raise_coincident(_nearest_r2(coords, coords, k=2), min_distance)
    if chosen == "direct":
        out = np.empty((coords.shape[0], 3))
        _direct_forces_fast(*_soa(coords), np.ascontiguousarray(charges, dtype=np.float64),
                            out)
        return out
    e = field(particles, coords, rtol, split=split, min_distance=0.0, method="split",
              **split_options)
    return charges[:, None] * e


def _raise_coincident(min_r2: np.ndarray, min_distance: float) -> None:
    if min_r2.size and (float(min_r2.min()) < min_distance ** 2 or float(min_r2.min()) == 0.0):
        i = int(np.argmin(min_r2))
        raise ValueError(
            f"particles has coincident particles: particle {i} lies "
            f"{math.sqrt(float(min_r2[i])):.3g} Å from another (min_distance={min_distance} Å); "
            f"the pair energy is infinite"
        )


def _resolve_split(split, rtol, box, n, split_options, long_part=None) -> RangeSplit:
    if split is None:
        if long_part is not None:
            raise ValueError("long_part needs the split it was built with")
        return RangeSplit.choose(box, rtol, n_particles=n, **split_options)
    if not isinstance(split, RangeSplit):
        raise TypeError(f"split must be a RangeSplit or None, got {type(split).__name__}")
    if split_options:
        raise ValueError(f"give either split or split options, not both: {sorted(split_options)}")
    return split


def _union_box(*arrays: np.ndarray) -> Box:
    pts = np.concatenate([a.reshape(-1, 3) for a in arrays], axis=0)
    return Box.bounding(pts)


def coulomb(particles: PointCloud, targets: Any, rtol: float = 1e-6, *,
            split: RangeSplit | None = None, backend: str = "numba",
            min_distance: float = 1e-3, long_part: ChebTucker | None = None,
            method: str = "auto", **split_options) -> Any:
    r"""Full Coulomb potential :math:`V(x) = \sum_j q_j/|x - x_j|` at targets (e/Å).

    Range split (``method="split"``): the long-range part by :func:`long_range` (ChebTucker,
    evaluated at the targets), the short-range part by :func:`short_range` (binned targets).
    Relative accuracy about ``rtol`` of :math:`\sum_j |q_j|/r_j`, typically much better
    relative to ``max |V|``. At scattered points the build of the long-range part is a fixed
    cost that the direct sum often undercuts, so ``method="auto"`` (the default) uses the
    exact direct sum where :func:`choose_method` calls it cheaper (fewer than about 3000
    particles, or fewer than about :math:`1.5\cdot10^5` points, on a CPU).

    Args:
        particles: :class:`PointCloud` (N, 3), Å, with a ``charge`` feature (e).
        targets: (M, 3) points (Å) or a PointCloud.
        rtol: kernel tolerance (see :class:`RangeSplit`).
        split: explicit :class:`RangeSplit` (its box must hold particles and targets).
        backend: ``"numba"`` (CPU) or ``"jax"`` (both parts under JAX on the default device;
            returns a JAX array).
        min_distance: targets closer than this to any particle raise ValueError (Å; the
            potential is singular on a particle). 0 disables the check; a target exactly on a
            particle then omits that particle's term.
        long_part: the long-range ChebTucker already built by :func:`long_range` with this
            ``split`` (reused, e.g. for several target sets); needs ``split``.
        method: ``"auto"`` (default: :func:`choose_method`; always the split when
            ``split``, ``long_part`` or split options are given), ``"split"`` (range split)
            or ``"direct"`` (exact :math:`O(NM)` sum, :func:`direct_sum`; under JAX with
            ``backend="jax"``).
        **split_options: ``beta``, ``r_cut``, ``degree``, ``padding``,
            ``max_beta_length``, ``max_cut`` for :meth:`RangeSplit.choose` (defaults here
            ``max_beta_length=10``, ``max_cut=40``: a longer cutoff and lower Chebyshev
            degrees and Tucker ranks than on grids, a cheaper build and evaluation; with
            ``backend="jax"`` 16 and 30).

    Returns:
        (M,) potential.

    References:
        Benner, Khoromskaia, Khoromskij, SIAM J. Sci. Comput. 40(2) (2018).
    """
    coords, charges = particle_arrays(particles)
    t = target_array(targets)
    if backend not in _BACKENDS:
        raise ValueError(f"backend must be one of {_BACKENDS}, got {backend!r}")
    explicit = split is not None or long_part is not None or bool(split_options)
    if _resolve_method(method, explicit, coords.shape[0], t.shape[0], "potential") == "direct":
        check_split_rtol(rtol)
        min_distance = check_positive_float(min_distance, "min_distance", allow_zero=True)
        if backend == "jax":
            return _direct_sum_jax(t, coords, charges, min_distance)
        return direct_sum(particles, t, min_distance=min_distance)
    if split is None:  # scattered targets: a longer default cutoff (see _POINTS_SPLIT)
        split_options = {**_POINTS_SPLIT[backend], **split_options}
    split = _resolve_split(split, rtol, _union_box(coords, t), coords.shape[0], split_options,
                           long_part)
    split.box.check_contains(t, "targets", atol=1e-9)
    short = short_range(particles, t, split, backend=backend, min_distance=min_distance)
    ct = _long_part(particles, split, long_part)
    if backend == "numba":
        return _evaluate(ct, t) + short
    return ct.evaluate(t, backend=backend) + short


def _evaluate(ct: ChebTucker, points: np.ndarray, factors=None) -> np.ndarray:
    """The long-range ChebTucker at points inside its box (the blocked Numba kernel of
    :mod:`tensorrom.tensor`; ``factors`` replaces ``ct.factors``, e.g. derivative factors).
    Measured 0.13-0.14 s for 10^5 points at ranks (27, 35, 36), against 0.21-0.30 s for the
    GEMM path :func:`~tensorrom.potentials._long_range.evaluate_points` (which the tests keep
    as an independent check)."""
    return evaluate_tucker_chebyshev(points, ct.box.lower, ct.box.lengths, ct.core,
                                     ct.factors if factors is None else factors)


def _long_part(particles, split, long_part) -> ChebTucker:
    if long_part is None:
        return long_range(particles, split)
    if not isinstance(long_part, ChebTucker):
        raise TypeError(f"long_part must be a ChebTucker from long_range, got "
                        f"{type(long_part).__name__}")
    if long_part.box != split.box:
        raise ValueError("long_part must be built with the same split (its box differs)")
    return long_part


def coulomb_on_grid(particles: PointCloud, grid: TensorGrid, rtol: float = 1e-6, *,
                    split: RangeSplit | None = None, min_distance: float = 1e-3,
                    long_part: ChebTucker | None = None, method: str = "auto",
                    **split_options) -> Field:
    r"""Full Coulomb potential on every node of a 3D :class:`TensorGrid`, as a
    :class:`~tensorrom.data.Field` named ``potential`` in e/Å.

    Range split: the long-range ChebTucker is expanded on the grid axes
    (``ct.on_grid(grid).full()``, one small matrix per axis and the Tucker core), the
    short-range part is added by the slab-parallel cell kernel. Arguments as in
    :func:`coulomb`; ``method="auto"`` takes the direct sum only for small grids (with
    adk_open's 3341 atoms, up to about 48³ nodes), where the build of the long-range part is
    not repaid (:func:`choose_method`, ``quantity="grid"``).
    """
    coords, _ = particle_arrays(particles)
    if not isinstance(grid, TensorGrid):
        raise TypeError(f"grid must be a tensorrom.data.TensorGrid, got {type(grid).__name__}")
    if grid.dim != 3:
        raise ValueError(f"grid must be 3D, got dim {grid.dim}")
    explicit = split is not None or long_part is not None or bool(split_options)
    if _resolve_method(method, explicit, coords.shape[0], grid.size, "grid") == "direct":
        check_split_rtol(rtol)
        values = direct_sum(particles, grid.points(), min_distance=min_distance)
        return Field(values.reshape(grid.shape), grid, name="potential", units="e/Å")
    corners = np.array([grid.box.lower, grid.box.upper])
    split = _resolve_split(split, rtol, _union_box(coords, corners), coords.shape[0],
                           split_options, long_part)
    split.box.check_contains(corners, "grid", atol=1e-9)
    short = short_range_on_grid(particles, grid, split, min_distance=min_distance)
    ct = _long_part(particles, split, long_part)
    values = np.asarray(ct.on_grid(grid).full()) + short
    return Field(values, grid, name="potential", units="e/Å")


def field(particles: PointCloud, targets: Any, rtol: float = 1e-6, *,
          split: RangeSplit | None = None, min_distance: float = 1e-3,
          method: str = "auto", **split_options) -> np.ndarray:
    r"""Electric field :math:`E = -\nabla V = \sum_j q_j (x - x_j)/|x - x_j|^3` at targets
    (e/Å², (M, 3)). Range split: the ChebTucker gradient of the long-range part (derivative
    coefficients, the blocked Numba kernel) plus the analytic short-range gradient. Arguments
    as in :func:`coulomb`; ``method="auto"`` uses :func:`direct_field` where
    :func:`choose_method` calls it cheaper.
    """
    coords, _ = particle_arrays(particles)
    t = target_array(targets)
    explicit = split is not None or bool(split_options)
    if _resolve_method(method, explicit, coords.shape[0], t.shape[0], "field") == "direct":
        check_split_rtol(rtol)
        return direct_field(particles, t, min_distance=min_distance)
    if split is None:  # scattered targets: a longer default cutoff (see _POINTS_SPLIT)
        split_options = {**_POINTS_SPLIT["numba"], **split_options}
    split = _resolve_split(split, rtol, _union_box(coords, t), coords.shape[0], split_options)
    split.box.check_contains(t, "targets", atol=1e-9)
    short = short_range_field(particles, t, split, min_distance=min_distance)
    ct = long_range(particles, split)
    # d/dx_k: the axis-k factor replaced by its Chebyshev derivative coefficients
    grad = np.empty((t.shape[0], 3))
    for k in range(3):
        facs = list(ct.factors)
        facs[k] = derivative_coefficients(facs[k], axis=0) * (2.0 / ct.box.lengths[k])
        grad[:, k] = _evaluate(ct, t, factors=facs)
    return short - grad


def energy(particles: PointCloud, rtol: float = 1e-8, *, split: RangeSplit | None = None,
           min_distance: float = 1e-6, method: str = "auto", **split_options) -> float:
    r"""Electrostatic energy :math:`E = \frac12\sum_{i\ne j} q_iq_j/r_{ij}` (e²/Å), in
    :math:`O(N)` through the range split (``method="split"``):

    .. math::
        E = \frac12\sum_i q_i\Big(V_{long}(x_i) - q_i\frac{2\beta}{\sqrt\pi}
        + \sum_{j\ne i,\ r_{ij}<r_c} q_j\frac{\mathrm{erfc}(\beta r_{ij})}{r_{ij}}\Big),

    where :math:`2\beta/\sqrt\pi` removes the self-term of the smooth long-range kernel.

    Args:
        particles: :class:`PointCloud` (N, 3), Å, with ``charge`` (e); N >= 2.
        rtol: kernel tolerance (see :class:`RangeSplit`); energies cancel strongly, so the
            default is tighter than for potentials.
        split: explicit :class:`RangeSplit`.
        min_distance: two particles closer than this raise ValueError (Å); coincident
            particles always do.
        method: ``"auto"`` (default), ``"split"`` or ``"direct"`` (:func:`direct_energy`,
            exact, :math:`O(N^2)`). The split's constant is large: on a CPU the direct sum is
            faster below about :math:`4\cdot10^5` particles, and ``"auto"`` uses it there
            (:func:`choose_method`); given ``split`` or split options, it uses the split.
        **split_options: passed to :meth:`RangeSplit.choose`.

    Returns:
        the energy (float, e²/Å; times :data:`COULOMB_KCAL` for kcal/mol).

    References:
        Benner, Khoromskaia, Khoromskij, SIAM J. Sci. Comput. 40(2) (2018), sec. 4 (energy).
    """
    coords, charges = particle_arrays(particles)
    if coords.shape[0] < 2:
        raise ValueError(f"particles must hold at least 2 particles, got {coords.shape[0]}")
    min_distance = check_positive_float(min_distance, "min_distance", allow_zero=True)
    explicit = split is not None or bool(split_options)
    if _resolve_method(method, explicit, coords.shape[0], None, "energy") == "direct":
        check_split_rtol(rtol)
        return direct_energy(particles, min_distance=min_distance)
    split = _resolve_split(split, rtol, Box.bounding(coords), coords.shape[0], split_options)
    short, min_r2 = _short_numba(coords, charges, coords, split, True, min_distance)
    _raise_coincident(min_r2, min_distance)
    ct = long_range(particles, split)
    v_long = _evaluate(ct, coords)
    per = charges * (v_long - charges * split.self_term + short)
    return 0.5 * float(math.fsum(per))
