"""Particle trajectories: positions of N particles in d dimensions at T equally spaced frames."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validate import as_array, check_finite, check_positive_float
from ._box import Box
from ._pointcloud import PointCloud

__all__ = ["Trajectory"]


class Trajectory:
    """Positions ``(T, N, d)`` sampled every ``dt`` inside a :class:`Box`.

    Args:
        positions: (T, N, d) array (NumPy or JAX).
        dt: time between frames (> 0, in the simulation's time unit).
        box: the domain; every position must lie inside it.
        particle_type: optional (N,) integer material / species label per particle.
        metadata: optional dict of JSON-serialisable values or NumPy arrays (material
            parameters, units, normalisation statistics); saved with the trajectory.
    """

    def __init__(self, positions: Any, dt: float, box: Box, particle_type: Any = None,
                 metadata: dict | None = None):
        x = as_array(positions, "positions", ndim=3)
        if x.shape[0] < 1 or x.shape[1] < 1:
            raise ValueError(f"positions must hold at least one frame and one particle, "
                             f"got shape {tuple(x.shape)}")
        check_finite(x, "positions")
        dt = check_positive_float(dt, "dt")
        if not isinstance(box, Box):
            raise TypeError(f"box must be a tensorrom.data.Box, got {type(box).__name__}")
        if box.dim != x.shape[2]:
            raise ValueError(f"box has dim {box.dim} but positions have {x.shape[2]} coordinates")
        box.check_contains(x.reshape(-1, x.shape[2]), "positions",
                           atol=1e-9 * float(box.lengths.max()))
        if particle_type is not None:
            pt = as_array(particle_type, "particle_type", ndim=1)
            if pt.shape[0] != x.shape[1]:
                raise ValueError(f"particle_type must have length {x.shape[1]} (one per "
                                 f"particle), got {pt.shape[0]}")
            if np.asarray(pt).dtype.kind not in "iu":
                raise TypeError(f"particle_type must hold integers, got {np.asarray(pt).dtype}")
            particle_type = pt
        if metadata is not None and not isinstance(metadata, dict):
            raise TypeError(f"metadata must be a dict, got {type(metadata).__name__}")
        self.positions = x
        self.dt = dt
        self.box = box
        self.particle_type = particle_type
        self.metadata: dict = dict(metadata or {})

    @property
    def n_frames(self) -> int:
        return int(self.positions.shape[0])

    @property
    def n_particles(self) -> int:
        return int(self.positions.shape[1])

    @property
    def dim(self) -> int:
        return int(self.positions.shape[2])

    def frame(self, t: int) -> PointCloud:
        """Frame ``t`` as a PointCloud (with a ``particle_type`` feature when known)."""
        if not -self.n_frames <= t < self.n_frames:
            raise ValueError(f"t must be in [-{self.n_frames}, {self.n_frames}), got {t}")
        feats = {} if self.particle_type is None else {"particle_type": self.particle_type}
        return PointCloud(self.positions[t], feats, self.box)

    def velocities(self):
        """Finite-difference velocities ``(x[t+1] - x[t]) / dt``, shape (T-1, N, d)."""
        return (self.positions[1:] - self.positions[:-1]) / self.dt

    def accelerations(self):
        """Second differences ``(x[t+2] - 2 x[t+1] + x[t]) / dt**2``, shape (T-2, N, d)."""
        x = self.positions
        return (x[2:] - 2 * x[1:-1] + x[:-2]) / self.dt**2

    def __repr__(self) -> str:
        return (f"Trajectory(frames={self.n_frames}, particles={self.n_particles}, "
                f"dim={self.dim}, dt={self.dt})")
