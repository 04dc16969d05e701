"""Validation of particle input shared by the potentials."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validate import as_array, check_finite
from ..data import PointCloud

__all__ = ["particle_arrays", "target_array"]


def particle_arrays(particles: Any, name: str = "particles") -> tuple[np.ndarray, np.ndarray]:
    """``(coords (N, 3), charges (N,))`` as float64 NumPy arrays from a PointCloud with a
    ``charge`` feature; ValueError/TypeError naming ``name`` for bad input."""
    if not isinstance(particles, PointCloud):
        raise TypeError(f"{name} must be a tensorrom.data.PointCloud with a 'charge' feature, "
                        f"got {type(particles).__name__}")
    if particles.dim != 3:
        raise ValueError(f"{name} must be 3D (coords (N, 3)), got dim {particles.dim}")
    if particles.n == 0:
        raise ValueError(f"{name} must hold at least one particle")
    if "charge" not in particles:
        raise ValueError(f"{name} needs a 'charge' feature (e); it has "
                         f"{sorted(particles.features)}")
    coords = np.ascontiguousarray(np.asarray(particles.coords, dtype=np.float64))
    charges = np.ascontiguousarray(np.asarray(particles["charge"], dtype=np.float64))
    if charges.shape != (coords.shape[0],):
        raise ValueError(f"{name}['charge'] must have shape ({coords.shape[0]},), got "
                         f"{charges.shape}")
    check_finite(coords, f"{name}.coords")
    check_finite(charges, f"{name}['charge']")
    return coords, charges


def target_array(targets: Any, name: str = "targets") -> np.ndarray:
    """Targets (M, 3) as a float64 array from an array or a PointCloud."""
    if isinstance(targets, PointCloud):
        targets = targets.coords
    t = as_array(targets, name, ndim=2)
    if t.shape[1] != 3:
        raise ValueError(f"{name} must have shape (M, 3), got {tuple(t.shape)}")
    t = np.ascontiguousarray(np.asarray(t, dtype=np.float64))
    check_finite(t, name)
    return t
