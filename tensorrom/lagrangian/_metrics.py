"""Rollout metrics: position MSE over the first steps and the full rollout, Chamfer distance
between point clouds, and the kinetic-energy error."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.spatial import cKDTree

from .._validate import as_array, check_positive_float, check_positive_int

__all__ = ["rollout_mse", "chamfer_distance", "kinetic_energy", "kinetic_energy_error"]


def _pair(pred: Any, true: Any) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(as_array(pred, "pred", ndim=3), dtype=np.float64)
    t = np.asarray(as_array(true, "true", ndim=3), dtype=np.float64)
    if p.shape[1:] != t.shape[1:]:
        raise ValueError(f"pred and true must have the same particles and dim, got {p.shape} "
                         f"and {t.shape} (mismatched particle counts)")
    return p, t


def rollout_mse(pred: Any, true: Any, n_steps: int | None = None) -> float:
    """Mean squared position error over the first ``n_steps`` predicted frames (all if None):
    ``(1 / (n N d)) sum_t sum_i |x_pred - x_true|^2``.

    Args:
        pred, true: (T, N, d) positions of the same frames.
        n_steps: number of leading frames (e.g. 20 for the "MSE-20" of GNS papers).
    """
    p, t = _pair(pred, true)
    n = min(p.shape[0], t.shape[0])
    if n_steps is not None:
        n_steps = check_positive_int(n_steps, "n_steps")
        if n_steps > n:
            raise ValueError(f"n_steps={n_steps} exceeds the {n} frames available")
        n = n_steps
    return float(np.mean((p[:n] - t[:n]) ** 2))


def chamfer_distance(a: Any, b: Any) -> float:
    """Symmetric Chamfer distance between clouds (M, d) and (N, d):
    ``mean_a min_b |a - b|^2 + mean_b min_a |a - b|^2`` (k-d trees, any sizes)."""
    x = np.asarray(as_array(a, "a", ndim=2), dtype=np.float64)
    y = np.asarray(as_array(b, "b", ndim=2), dtype=np.float64)
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"a and b must have the same dim, got {x.shape[1]} and {y.shape[1]}")
    da, _ = cKDTree(y).query(x)
    db, _ = cKDTree(x).query(y)
    return float(np.mean(da**2) + np.mean(db**2))


def kinetic_energy(positions: Any, dt: float, mass: float = 1.0) -> np.ndarray:
    """Kinetic energy per particle ``E_t = (m / 2N) sum_i |x_{t+1} - x_t|^2 / dt^2``, (T-1,)."""
    x = np.asarray(as_array(positions, "positions", ndim=3), dtype=np.float64)
    dt = check_positive_float(dt, "dt")
    v = np.diff(x, axis=0) / dt
    return 0.5 * float(mass) * np.mean(np.sum(v**2, axis=-1), axis=-1)


def kinetic_energy_error(pred: Any, true: Any, dt: float) -> float:
    """Mean absolute kinetic-energy error relative to the mean true kinetic energy,
    ``mean_t |E_pred - E_true| / mean_t E_true`` over the frames both hold."""
    p, t = _pair(pred, true)
    n = min(p.shape[0], t.shape[0])
    ep, et = kinetic_energy(p[:n], dt), kinetic_energy(t[:n], dt)
    return float(np.mean(np.abs(ep - et)) / max(np.mean(et), 1e-300))
