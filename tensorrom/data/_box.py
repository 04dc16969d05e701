"""Axis-aligned boxes: the domains every grid, cloud and simulation lives in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._validate import as_array, check_finite, is_concrete

__all__ = ["Box"]


@dataclass(frozen=True, eq=True)
class Box:
    """An axis-aligned box ``[lower_0, upper_0] x ... x [lower_{d-1}, upper_{d-1}]``.

    The box is immutable and hashable, so it can be a static field of an ``eqx.Module``.

    Args:
        lower: lower corner, length ``d`` (any length unit; tensorrom's potentials use Å).
        upper: upper corner, length ``d``; every entry must exceed the matching ``lower``.

    Example:
        >>> Box([0, 0], [1, 2]).lengths
        array([1., 2.])
    """

    lower: tuple[float, ...]
    upper: tuple[float, ...]

    def __init__(self, lower: Any, upper: Any):
        lo = as_array(lower, "lower", ndim=(0, 1), dtype=np.float64)
        hi = as_array(upper, "upper", ndim=(0, 1), dtype=np.float64)
        lo = np.atleast_1d(np.asarray(lo, dtype=np.float64))
        hi = np.atleast_1d(np.asarray(hi, dtype=np.float64))
        if lo.shape != hi.shape:
            raise ValueError(
                f"lower and upper must have the same length, got {lo.shape[0]} and {hi.shape[0]}"
            )
        if lo.size == 0:
            raise ValueError("lower must have at least one entry (the box needs dim >= 1)")
        check_finite(lo, "lower")
        check_finite(hi, "upper")
        if np.any(hi <= lo):
            bad = int(np.argmax(hi <= lo))
            raise ValueError(
                f"upper must exceed lower on every axis; axis {bad} has "
                f"lower={lo[bad]} >= upper={hi[bad]}"
            )
        object.__setattr__(self, "lower", tuple(float(v) for v in lo))
        object.__setattr__(self, "upper", tuple(float(v) for v in hi))

    # -- constructors ---------------------------------------------------------------------
    @classmethod
    def cube(cls, half_width: float, dim: int = 3, center: Any = 0.0) -> Box:
        """The cube ``center + [-half_width, half_width]^dim``."""
        c = np.broadcast_to(np.asarray(center, dtype=np.float64), (dim,))
        return cls(c - half_width, c + half_width)

    @classmethod
    def bounding(cls, points: Any, pad: float = 0.0) -> Box:
        """The smallest box holding ``points`` (n, d), widened by ``pad`` on every side.

        Degenerate axes (all points share a coordinate) are widened so the box has volume.
        """
        p = np.asarray(as_array(points, "points", ndim=2), dtype=np.float64)
        if p.shape[0] == 0:
            raise ValueError("points must hold at least one point")
        check_finite(p, "points")
        lo, hi = p.min(axis=0) - pad, p.max(axis=0) + pad
        flat = hi - lo <= 0
        lo = np.where(flat, lo - 0.5, lo)
        hi = np.where(flat, hi + 0.5, hi)
        return cls(lo, hi)

    # -- properties -----------------------------------------------------------------------
    @property
    def dim(self) -> int:
        """Number of dimensions ``d``."""
        return len(self.lower)

    @property
    def lo(self) -> np.ndarray:
        """Lower corner as a float64 array (d,)."""
        return np.array(self.lower)

    @property
    def hi(self) -> np.ndarray:
        """Upper corner as a float64 array (d,)."""
        return np.array(self.upper)

    @property
    def lengths(self) -> np.ndarray:
        """Edge lengths (d,)."""
        return self.hi - self.lo

    @property
    def center(self) -> np.ndarray:
        """Centre (d,)."""
        return 0.5 * (self.hi + self.lo)

    @property
    def volume(self) -> float:
        """Product of the edge lengths."""
        return float(np.prod(self.lengths))

    # -- operations -----------------------------------------------------------------------
    def contains(self, points: Any, *, atol: float = 0.0):
        """Boolean mask (n,) of the points (n, d) inside the closed box, widened by ``atol``."""
        p = as_array(points, "points", ndim=(1, 2))
        if p.ndim == 1:
            p = p[None, :]
        self._check_dim(p, "points")
        return ((p >= self.lo - atol) & (p <= self.hi + atol)).all(axis=-1)

    def check_contains(self, points: Any, name: str = "points", *, atol: float = 0.0) -> None:
        """Raise ValueError naming ``name`` when any point lies outside the box."""
        if not is_concrete(points):
            return
        inside = np.asarray(self.contains(points, atol=atol))
        if not inside.all():
            p = np.asarray(points).reshape(-1, self.dim)
            i = int(np.argmin(inside))
            raise ValueError(
                f"{name} has {int((~inside).sum())} point(s) outside the box "
                f"{self.lower}..{self.upper}; the first is index {i} at {p[i].tolist()}"
            )

    def to_reference(self, x: Any):
        """Affine map of points (..., d) in the box to the reference cube [-1, 1]^d."""
        return 2.0 * (x - self.lo) / self.lengths - 1.0

    def from_reference(self, s: Any):
        """Affine map of points (..., d) in [-1, 1]^d back to the box."""
        return self.lo + 0.5 * (s + 1.0) * self.lengths

    def pad(self, width: Any) -> Box:
        """The box widened by ``width`` (scalar or (d,)) on every side; negative shrinks."""
        w = np.broadcast_to(np.asarray(width, dtype=np.float64), (self.dim,))
        return Box(self.lo - w, self.hi + w)

    def _check_dim(self, p, name: str) -> None:
        if p.shape[-1] != self.dim:
            raise ValueError(
                f"{name} must have {self.dim} coordinates per point (the box dimension), "
                f"got {p.shape[-1]}"
            )

    def __repr__(self) -> str:
        return f"Box(lower={list(self.lower)}, upper={list(self.upper)})"
