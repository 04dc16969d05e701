r"""Test systems: finite rock-salt (NaCl) clusters and slabs of alternating charges.

An ion at lattice site :math:`a(i, j, k)` carries charge :math:`(-1)^{i+j+k}` e (Na+ at even
sites); the cluster is centred at the origin. An :math:`L^3` cluster with even :math:`L` is
neutral. Optional vacancies remove randomly chosen ions.

References:
    P. Benner, V. Khoromskaia, B. N. Khoromskij, Range-separated tensor format for
    many-particle modeling, SIAM J. Sci. Comput. 40(2) (2018), sec. 5 (lattice clusters).
"""

from __future__ import annotations

import numpy as np

from .._validate import check_positive_float, check_positive_int
from ..data import PointCloud

__all__ = ["nacl_cluster", "nacl_slab"]


def _lattice(shape: tuple[int, int, int], a: float, vacancies: int, seed) -> PointCloud:
    idx = np.stack(np.meshgrid(*(np.arange(n) for n in shape), indexing="ij"), axis=-1)
    idx = idx.reshape(-1, 3)
    charge = np.where(idx.sum(axis=1) % 2 == 0, 1.0, -1.0)
    coords = a * (idx - (np.array(shape) - 1) / 2.0)
    n = coords.shape[0]
    if vacancies:
        if vacancies >= n:
            raise ValueError(f"vacancies must be below the number of ions {n}, got {vacancies}")
        rng = np.random.default_rng(seed)
        keep = np.sort(rng.choice(n, size=n - vacancies, replace=False))
        coords, charge = coords[keep], charge[keep]
    return PointCloud(coords, {"charge": charge})


def nacl_cluster(L: int, a: float = 2.82, vacancies: int = 0, seed=None) -> PointCloud:
    """A cubic NaCl cluster of ``L x L x L`` ions (charges ±1 e), centred at the origin.

    Args:
        L: ions per edge (>= 1); neutral when ``L`` is even.
        a: nearest-neighbour distance (Å; 2.82 Å for rock salt).
        vacancies: number of ions removed at random (>= 0).
        seed: seed of the vacancy choice (int, Generator or None).

    Returns:
        :class:`PointCloud` with coords (L³ - vacancies, 3) in Å and feature ``charge`` (e).
    """
    L = check_positive_int(L, "L")
    a = check_positive_float(a, "a")
    vacancies = check_positive_int(vacancies, "vacancies", minimum=0)
    return _lattice((L, L, L), a, vacancies, seed)


def nacl_slab(nx: int, ny: int, nz: int = 4, a: float = 2.82, vacancies: int = 0,
              seed=None) -> PointCloud:
    """A rock-salt slab of ``nx x ny x nz`` ions (thin in z), charges ±1 e, centred.

    The ChebTuck paper's lattice example is ``nacl_slab(24, 24, 4, a=3.0)`` (2304 charges).

    Args:
        nx, ny, nz: ions per axis (>= 1).
        a: lattice spacing (Å).
        vacancies: ions removed at random.
        seed: seed of the vacancy choice.

    Returns:
        :class:`PointCloud` with ``charge`` (e).
    """
    shape = tuple(check_positive_int(v, name) for v, name in ((nx, "nx"), (ny, "ny"),
                                                                (nz, "nz")))
    a = check_positive_float(a, "a")
    vacancies = check_positive_int(vacancies, "vacancies", minimum=0)
    return _lattice(shape, a, vacancies, seed)
