r"""The short-range part :math:`\sum_{|x - x_j| < r_c} q_j\,\mathrm{erfc}(\beta|x-x_j|)/|x-x_j|`.

Only particles within the cutoff :math:`r_c` contribute (:math:`\mathrm{erfc}(\beta r_c)\le
\epsilon/4`, see :class:`RangeSplit`), so a cell list with cells of edge :math:`\ge r_c` finds
them in :math:`O(1)` per target: the total cost is :math:`O((N + M)\,\rho r_c^3)`.

Three kernels:

- scattered targets, Numba (CPU): particles sorted into cells by a counting sort, one
  ``prange`` over targets, each visiting its 27 neighbour cells;
- uniform or any tensor grid, Numba: a ``prange`` over the grid's x-slabs, each visiting the
  particles within :math:`r_c` of the slab (sorted by x) and only the y, z nodes inside the
  cutoff sphere (no write conflicts, no wasted pairs);
- scattered targets, JAX (GPU): the same cell list padded to a fixed occupancy, gathered per
  target and summed with masks under ``jax.jit``, in fixed-size target batches, float64 via a
  scoped ``jax.enable_x64(True)``.

Targets closer than ``min_distance`` to a particle raise ValueError (the potential is singular
there); with ``exclude_self=True`` (targets are the particles themselves, as in
:func:`energy`) the pair ``i == j`` is skipped and any other coincident pair raises.

References:
    M. P. Allen, D. J. Tildesley, Computer Simulation of Liquids, 2nd ed., OUP 2017,
    sec. 5.3 (cell lists).
    P. Benner, V. Khoromskaia, B. N. Khoromskij, SIAM J. Sci. Comput. 40(2) (2018).
"""

from __future__ import annotations

import math
from typing import Any

import numba
import numpy as np

from .._validate import check_positive_float
from ..data import PointCloud, TensorGrid
from ._particles import particle_arrays, target_array
from ._split import RangeSplit

__all__ = ["short_range", "short_range_field", "short_range_on_grid", "CellList"]

_BACKENDS = ("numba", "jax")


class CellList:
    """Particles sorted into cubic cells of edge ``>= r_cut`` (a counting sort).

    Attributes:
        lower: (3,) corner of the cell grid (Å).
        cell: cell edge (Å).
        shape: (3,) number of cells per axis.
        order: (N,) particle indices sorted by cell.
        start: (n_cells + 1,) offsets into ``order``; cell ``c`` holds
            ``order[start[c]:start[c+1]]``.
    """

    def __init__(self, coords: np.ndarray, r_cut: float, max_cells: int = 1 << 21):
        lo = coords.min(axis=0) - 1e-9
        hi = coords.max(axis=0) + 1e-9
        ext = hi - lo
        cell = float(r_cut)
        # keep the number of cells bounded (very sparse systems): enlarge the cells
        while np.prod(np.maximum(np.ceil(ext / cell), 1)) > max_cells:
            cell *= 1.26
        shape = np.maximum(np.ceil(ext / cell).astype(np.int64), 1)
        idx = np.minimum(((coords - lo) / cell).astype(np.int64), shape - 1)
        flat = (idx[:, 0] * shape[1] + idx[:, 1]) * shape[2] + idx[:, 2]
        order = np.argsort(flat, kind="stable")
        counts = np.bincount(flat, minlength=int(np.prod(shape)))
        start = np.zeros(counts.size + 1, dtype=np.int64)
        np.cumsum(counts, out=start[1:])
        self.lower = lo
        self.cell = cell
        self.shape = shape
        self.order = order.astype(np.int64)
        self.start = start
        self.max_occupancy = int(counts.max())


_TABLE_STEP = 0.01  # in t = beta r: cubic Hermite error below 2e-10 (see erfc_table)


def erfc_table(t_max: float, step: float = _TABLE_STEP) -> tuple[np.ndarray, float]:
    r"""Cubic Hermite table of :math:`\mathrm{erfc}(t)` on ``[0, t_max]``: rows
    ``(c0, c1, c2, c3)`` of ``c0 + c1 s + c2 s^2 + c3 s^3`` per interval, ``s`` in [0, 1].

    The interpolation error is at most :math:`h^4 \max|\mathrm{erfc}^{(4)}|/384
    \le 2\cdot 10^{-10}` for the step :math:`h = 0.01` (:math:`|\mathrm{erfc}^{(4)}| \le 7`),
    far below the tolerances the split uses; it replaces a ``math.erfc`` call in the inner
    loops by a lookup in a table that stays in the L1 cache and one Horner step.

    Returns:
        (table (n, 4), 1 / step).
    """
    from scipy.special import erfc

    n = int(math.ceil(t_max / step)) + 2
    t = step * np.arange(n + 1)
    f = erfc(t)
    df = -2.0 / math.sqrt(math.pi) * np.exp(-t * t) * step
    f0, f1, d0, d1 = f[:-1], f[1:], df[:-1], df[1:]
    table = np.stack([f0, d0, 3.0 * (f1 - f0) - 2.0 * d0 - d1, 2.0 * (f0 - f1) + d0 + d1],
                     axis=1)
    return np.ascontiguousarray(table), 1.0 / step


@numba.njit(cache=True, inline="always")
def _erfc_tab(t, table, inv_step):
    u = t * inv_step
    a = int(u)
    if a >= table.shape[0]:
        return 0.0
    s = u - a
    return table[a, 0] + s * (table[a, 1] + s * (table[a, 2] + s * table[a, 3]))


@numba.njit(cache=True, parallel=True)
def _short_points(targets, coords, charges, beta, r_cut2, lower, cell, shape, order, start,
                  self_index, table, inv_step, out, min_r2):
    m = targets.shape[0]
    nx, ny, nz = shape[0], shape[1], shape[2]
    for i in numba.prange(m):
        tx, ty, tz = targets[i, 0], targets[i, 1], targets[i, 2]
        cx = int(math.floor((tx - lower[0]) / cell))
        cy = int(math.floor((ty - lower[1]) / cell))
        cz = int(math.floor((tz - lower[2]) / cell))
        acc = 0.0
        best = np.inf
        si = self_index[i]
        for ix in range(max(cx - 1, 0), min(cx + 2, nx)):
            for iy in range(max(cy - 1, 0), min(cy + 2, ny)):
                for iz in range(max(cz - 1, 0), min(cz + 2, nz)):
                    c = (ix * ny + iy) * nz + iz
                    for p in range(start[c], start[c + 1]):
                        j = order[p]
                        if j == si:
                            continue
                        dx = tx - coords[j, 0]
                        dy = ty - coords[j, 1]
                        dz = tz - coords[j, 2]
                        r2 = dx * dx + dy * dy + dz * dz
                        if r2 < best:
                            best = r2
                        if r2 < r_cut2 and r2 > 0.0:
                            r = math.sqrt(r2)
                            acc += charges[j] * _erfc_tab(beta * r, table, inv_step) / r
        out[i] = acc
        min_r2[i] = best


@numba.njit(cache=True, parallel=True)
def _short_points_grad(targets, coords, charges, beta, r_cut2, lower, cell, shape, order,
                       start, out, min_r2):
    """out[i] = -grad of the short-range potential (the field), per target."""
    m = targets.shape[0]
    nx, ny, nz = shape[0], shape[1], shape[2]
    two_over_sqrt_pi = 2.0 / math.sqrt(math.pi)
    for i in numba.prange(m):
        tx, ty, tz = targets[i, 0], targets[i, 1], targets[i, 2]
        cx = int(math.floor((tx - lower[0]) / cell))
        cy = int(math.floor((ty - lower[1]) / cell))
        cz = int(math.floor((tz - lower[2]) / cell))
        ex = 0.0
        ey = 0.0
        ez = 0.0
        best = np.inf
        for ix in range(max(cx - 1, 0), min(cx + 2, nx)):
            for iy in range(max(cy - 1, 0), min(cy + 2, ny)):
                for iz in range(max(cz - 1, 0), min(cz + 2, nz)):
                    c = (ix * ny + iy) * nz + iz
                    for p in range(start[c], start[c + 1]):
                        j = order[p]
                        dx = tx - coords[j, 0]
                        dy = ty - coords[j, 1]
                        dz = tz - coords[j, 2]
                        r2 = dx * dx + dy * dy + dz * dz
                        if r2 < best:
                            best = r2
                        if r2 < r_cut2 and r2 > 0.0:
                            r = math.sqrt(r2)
                            br = beta * r
                            # -d/dr [erfc(br)/r] = erfc(br)/r^2 + 2b/sqrt(pi) exp(-b^2r^2)/r
                            g = (math.erfc(br) / r + two_over_sqrt_pi * beta
                                 * math.exp(-br * br)) / r2
                            g *= charges[j]
                            ex += g * dx
                            ey += g * dy
                            ez += g * dz
        out[i, 0] = ex
        out[i, 1] = ey
        out[i, 2] = ez
        min_r2[i] = best


@numba.njit(cache=True, parallel=True)
def _short_grid(ax, ay, az, xs_sorted, ys, zs, qs, beta, r_cut, table, inv_step, out, min_r2):
    """Grid kernel: out[i, j, k] += sum over particles within r_cut (particles sorted by x)."""
    nxg = ax.shape[0]
    r_cut2 = r_cut * r_cut
    n = xs_sorted.shape[0]
    for i in numba.prange(nxg):
        x = ax[i]
        lo = np.searchsorted(xs_sorted, x - r_cut)
        hi = np.searchsorted(xs_sorted, x + r_cut, side="right")
        best = np.inf
        for p in range(lo, min(hi, n)):
            dx = x - xs_sorted[p]
            dx2 = dx * dx
            rem = r_cut2 - dx2
            if rem < 0.0:
                continue
            ry = math.sqrt(rem)
            yp = ys[p]
            zp = zs[p]
            q = qs[p]
            j0 = np.searchsorted(ay, yp - ry)
            j1 = np.searchsorted(ay, yp + ry, side="right")
            for j in range(j0, j1):
                dy = ay[j] - yp
                dxy2 = dx2 + dy * dy
                rem2 = r_cut2 - dxy2
                if rem2 < 0.0:
                    continue
                rz = math.sqrt(rem2)
                k0 = np.searchsorted(az, zp - rz)
                k1 = np.searchsorted(az, zp + rz, side="right")
                for k in range(k0, k1):
                    dz = az[k] - zp
                    r2 = dxy2 + dz * dz
                    if r2 < best:
                        best = r2
                    if r2 > 0.0:
                        r = math.sqrt(r2)
                        out[i, j, k] += q * _erfc_tab(beta * r, table, inv_step) / r
        min_r2[i] = best


def _check_split(split: Any) -> RangeSplit:
    if not isinstance(split, RangeSplit):
        raise TypeError(f"split must be a RangeSplit, got {type(split).__name__}")
    return split


def _raise_too_close(min_r2: np.ndarray, min_distance: float, what: str) -> None:
    if min_distance > 0 and min_r2.size and float(min_r2.min()) < min_distance ** 2:
        i = int(np.argmin(min_r2))
        raise ValueError(
            f"{what} {i} lies {math.sqrt(max(float(min_r2[i]), 0.0)):.3g} Å from a particle, "
            f"closer than min_distance={min_distance} Å (the potential is singular there; "
            f"lower min_distance to accept it, or move the target)"
        )


def short_range(particles: PointCloud, targets: Any, split: RangeSplit, *,
                backend: str = "numba", min_distance: float = 1e-3,
                exclude_self: bool = False) -> Any:
    r"""Short-range potential :math:`\sum_{r_j < r_c} q_j\,\mathrm{erfc}(\beta r_j)/r_j` at
    targets (e/Å).

    Args:
        particles: :class:`PointCloud` (N, 3), Å, with a ``charge`` feature (e).
        targets: (M, 3) points (Å) or a PointCloud.
        split: the :class:`RangeSplit` (``beta``, ``r_cut``).
        backend: ``"numba"`` (CPU cell list, NumPy result) or ``"jax"`` (padded cell list
            under ``jax.jit``, runs on the default JAX device, returns a JAX array).
        min_distance: targets closer than this to a particle raise ValueError (Å); 0 turns the
            check off (a target exactly on a particle then skips that particle's term).
        exclude_self: targets are the particles themselves (M = N, same order): the term
            ``j == i`` is skipped.

    Returns:
        (M,) potential.

    References:
        Benner, Khoromskaia, Khoromskij, SIAM J. Sci. Comput. 40(2) (2018).
    """
    split = _check_split(split)
    coords, charges = particle_arrays(particles)
    t = target_array(targets)
    min_distance = check_positive_float(min_distance, "min_distance", allow_zero=True)
    if min_distance >= split.r_cut:
        raise ValueError(f"min_distance must be below r_cut={split.r_cut}, got {min_distance}")
    if backend not in _BACKENDS:
        raise ValueError(f"backend must be one of {_BACKENDS}, got {backend!r}")
    if exclude_self and t.shape[0] != coords.shape[0]:
        raise ValueError(f"exclude_self needs targets to be the particles: {t.shape[0]} "
                         f"targets for {coords.shape[0]} particles")
    if backend == "jax":
        return _short_points_jax(t, coords, charges, split, min_distance, exclude_self)
    out, min_r2 = _short_numba(coords, charges, t, split, exclude_self)
    _raise_too_close(min_r2, min_distance, "particle" if exclude_self else "target")
    return out


def _short_numba(coords, charges, t, split, exclude_self):
    """(potential (M,), squared distance to the nearest other particle (M,))."""
    cl = CellList(coords, split.r_cut)
    out = np.empty(t.shape[0])
    min_r2 = np.empty(t.shape[0])
    self_index = (np.arange(t.shape[0], dtype=np.int64) if exclude_self
                  else np.full(t.shape[0], -1, dtype=np.int64))
    table, inv_step = erfc_table(split.beta * split.r_cut)
    _short_points(t, coords, charges, split.beta, split.r_cut ** 2, cl.lower, cl.cell,
                  cl.shape, cl.order, cl.start, self_index, table, inv_step, out, min_r2)
    return out, min_r2


def short_range_field(particles: PointCloud, targets: Any, split: RangeSplit, *,
                      min_distance: float = 1e-3) -> np.ndarray:
    r"""Short-range field :math:`-\nabla\sum_j q_j\,\mathrm{erfc}(\beta r_j)/r_j` at targets
    (e/Å², (M, 3)); arguments as in :func:`short_range` (Numba backend)."""
    split = _check_split(split)
    coords, charges = particle_arrays(particles)
    t = target_array(targets)
    min_distance = check_positive_float(min_distance, "min_distance", allow_zero=True)
    cl = CellList(coords, split.r_cut)
    out = np.empty((t.shape[0], 3))
    min_r2 = np.empty(t.shape[0])
    _short_points_grad(t, coords, charges, split.beta, split.r_cut ** 2, cl.lower, cl.cell,
                       cl.shape, cl.order, cl.start, out, min_r2)
    _raise_too_close(min_r2, min_distance, "target")
    return out


def short_range_on_grid(particles: PointCloud, grid: TensorGrid, split: RangeSplit, *,
                        min_distance: float = 1e-3) -> np.ndarray:
    r"""Short-range potential on every node of a 3D :class:`TensorGrid` (e/Å), shape
    ``grid.shape``; the slab-parallel Numba kernel (see module docstring)."""
    split = _check_split(split)
    coords, charges = particle_arrays(particles)
    if not isinstance(grid, TensorGrid):
        raise TypeError(f"grid must be a tensorrom.data.TensorGrid, got {type(grid).__name__}")
    if grid.dim != 3:
        raise ValueError(f"grid must be 3D, got dim {grid.dim}")
    min_distance = check_positive_float(min_distance, "min_distance", allow_zero=True)
    order = np.argsort(coords[:, 0], kind="stable")
    xs = np.ascontiguousarray(coords[order, 0])
    ys = np.ascontiguousarray(coords[order, 1])
    zs = np.ascontiguousarray(coords[order, 2])
    qs = np.ascontiguousarray(charges[order])
    out = np.zeros(grid.shape)
    min_r2 = np.empty(grid.shape[0])
    table, inv_step = erfc_table(split.beta * split.r_cut)
    _short_grid(*(np.ascontiguousarray(a) for a in grid.axes), xs, ys, zs, qs, split.beta,
                split.r_cut, table, inv_step, out, min_r2)
    _raise_too_close(min_r2, min_distance, "a node of grid x-slab")
    return out


# -- JAX path ------------------------------------------------------------------------------
_JAX_FN = None


def _jax_fn():
    import jax
    import jax.numpy as jnp
    from jax.scipy.special import erfc

    @jax.jit
    def kernel(targets, target_self, neigh_idx, coords, charges, beta, r_cut2):
        # neigh_idx (B, P): candidate particle indices, -1 for padding
        valid = neigh_idx >= 0
        j = jnp.where(valid, neigh_idx, 0)
        d = targets[:, None, :] - coords[j]
        r2 = jnp.sum(d * d, axis=-1)
        keep = valid & (j != target_self[:, None])
        min_r2 = jnp.min(jnp.where(keep, r2, jnp.inf), axis=1)
        use = keep & (r2 < r_cut2) & (r2 > 0.0)
        r = jnp.sqrt(jnp.where(use, r2, 1.0))
        val = jnp.where(use, charges[j] * erfc(beta * r) / r, 0.0)
        return jnp.sum(val, axis=1), min_r2

    return kernel


def _short_points_jax(t, coords, charges, split, min_distance, exclude_self):
    """Padded-cell-list JAX kernel (float64 in a scoped ``jax.enable_x64(True)``)."""
    import jax
    import jax.numpy as jnp

    global _JAX_FN
    if _JAX_FN is None:
        _JAX_FN = _jax_fn()
    cl = CellList(coords, split.r_cut)
    n_cells = int(np.prod(cl.shape))
    cap = max(cl.max_occupancy, 1)
    # padded table of particles per cell, plus one empty cell at index n_cells
    table = np.full((n_cells + 1, cap), -1, dtype=np.int64)
    counts = np.diff(cl.start)
    slot = np.arange(coords.shape[0]) - np.repeat(cl.start[:-1], counts)
    cell_of = np.repeat(np.arange(n_cells), counts)
    table[cell_of, slot] = cl.order
    # 27 neighbour cells per target (out-of-range -> the empty cell)
    ci = np.floor((t - cl.lower) / cl.cell).astype(np.int64)
    offs = np.array([(a, b, c) for a in (-1, 0, 1) for b in (-1, 0, 1) for c in (-1, 0, 1)])
    nb = ci[:, None, :] + offs[None, :, :]
    inside = np.all((nb >= 0) & (nb < cl.shape), axis=-1)
    flat = (nb[..., 0] * cl.shape[1] + nb[..., 1]) * cl.shape[2] + nb[..., 2]
    flat = np.where(inside, flat, n_cells)
    m = t.shape[0]
    batch = int(max(256, min(1 << 15, (1 << 24) // (27 * cap))))
    batch = min(batch, 1 << max(int(m - 1).bit_length(), 8))  # small inputs: small batches
    self_idx = np.arange(m) if exclude_self else np.full(m, -1)
    outs, mins = [], []
    with jax.enable_x64(True):
        c_j = jnp.asarray(coords, dtype=jnp.float64)
        q_j = jnp.asarray(charges, dtype=jnp.float64)
        tab = jnp.asarray(table)
        beta = jnp.asarray(split.beta, dtype=jnp.float64)
        rc2 = jnp.asarray(split.r_cut ** 2, dtype=jnp.float64)
        for s in range(0, m, batch):
            e = min(m, s + batch)
            tb = np.zeros((batch, 3))
            tb[: e - s] = t[s:e]
            fb = np.full((batch, 27), n_cells, dtype=np.int64)
            fb[: e - s] = flat[s:e]
            sb = np.full(batch, -1, dtype=np.int64)
            sb[: e - s] = self_idx[s:e]
            neigh = tab[jnp.asarray(fb)].reshape(batch, 27 * cap)
            v, mr = _JAX_FN(jnp.asarray(tb), jnp.asarray(sb), neigh, c_j, q_j, beta, rc2)
            outs.append(v[: e - s])
            mins.append(mr[: e - s])
        out = jnp.concatenate(outs) if len(outs) > 1 else outs[0]
        min_r2 = np.asarray(jnp.concatenate(mins) if len(mins) > 1 else mins[0])
    _raise_too_close(min_r2, min_distance, "particle" if exclude_self else "target")
    return out
