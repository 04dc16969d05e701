"""Values on a TensorGrid or a PointCloud, with optional time and channel axes."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validate import as_array, check_finite, check_positive_int
from ._grid import TensorGrid
from ._interp import interpolate_on_grid
from ._pointcloud import PointCloud

__all__ = ["Field"]


class Field:
    """Values sampled on a support (a :class:`TensorGrid` or a :class:`PointCloud`).

    The value array has shape ``(T?, *support_shape, C?)``: an optional leading time axis
    (present exactly when ``times`` is given) and an optional trailing channel axis (present
    when ``values.ndim`` is one more than the support and time axes need). ``support_shape``
    is ``grid.shape`` for a grid and ``(n,)`` for a point cloud.

    Args:
        values: NumPy or JAX array (no copy is forced).
        support: the TensorGrid or PointCloud the values live on.
        times: optional (T,) strictly increasing sample times.
        name: optional name (e.g. ``"potential"``).
        units: optional unit string (e.g. ``"e/Å"``).

    Example:
        >>> g = TensorGrid.uniform(Box([0, 0], [1, 1]), 8)
        >>> f = Field(np.zeros(g.shape), g)
        >>> f.at(np.array([[0.5, 0.5]])).shape
        (1,)
    """

    def __init__(self, values: Any, support: TensorGrid | PointCloud, *, times: Any = None,
                 name: str | None = None, units: str | None = None):
        if not isinstance(support, (TensorGrid, PointCloud)):
            raise TypeError(
                f"support must be a TensorGrid or a PointCloud, got {type(support).__name__}"
            )
        v = as_array(values, "values")
        sshape = support.shape if isinstance(support, TensorGrid) else (support.n,)
        t = None
        if times is not None:
            t = np.asarray(as_array(times, "times", ndim=1), dtype=np.float64)
            check_finite(t, "times")
            if t.size > 1 and np.any(np.diff(t) <= 0):
                raise ValueError("times must be strictly increasing")
        n_lead = 0 if t is None else 1
        expected = ((t.size,) if t is not None else ()) + tuple(sshape)
        if tuple(v.shape[: len(expected)]) != expected or v.ndim not in (
            len(expected),
            len(expected) + 1,
        ):
            raise ValueError(
                f"values must have shape {expected} or {expected + ('C',)} "
                f"({'(T, ' if t is not None else '('}support shape{', C?)'}), "
                f"got {tuple(v.shape)}"
            )
        check_finite(v, "values")
        self.values = v
        self.support = support
        self.times = t
        self.name = name
        self.units = units
        self._n_lead = n_lead

    @property
    def has_time(self) -> bool:
        return self.times is not None

    @property
    def n_channels(self) -> int | None:
        """Number of channels, or None when there is no channel axis."""
        n_support = self.support.dim if isinstance(self.support, TensorGrid) else 1
        if self.values.ndim == self._n_lead + n_support + 1:
            return int(self.values.shape[-1])
        return None

    @property
    def on_grid(self) -> bool:
        return isinstance(self.support, TensorGrid)

    def at(self, points: Any, *, order: int = 1, extrapolate: bool = False):
        """Interpolate a grid field at ``points`` (M, d).

        Uniform grids use local Lagrange interpolation of ``order`` (1: multilinear, exact for
        polynomials of degree 1 per axis; 3: cubic, exact for degree 3); Chebyshev grids use
        global barycentric interpolation (exact for degree ``m - 1`` per axis).

        Returns:
            array ``(T?, M, C?)``, NumPy or JAX like ``values``.
        """
        if not isinstance(self.support, TensorGrid):
            raise ValueError("at() interpolates grid fields; this field lives on a PointCloud")
        order = check_positive_int(order, "order", minimum=1)
        p = as_array(points, "points", ndim=2)
        grid = self.support
        if p.shape[1] != grid.dim:
            raise ValueError(f"points must have {grid.dim} columns (the grid dimension), "
                             f"got {p.shape[1]}")
        check_finite(p, "points")
        if not extrapolate:
            grid.box.check_contains(p, "points", atol=1e-12 * float(grid.box.lengths.max()))
        return interpolate_on_grid(self.values, grid.axes, grid.kind, p, order=order,
                                   n_lead=self._n_lead)

    def on(self, grid: TensorGrid, *, order: int = 1, extrapolate: bool = False) -> Field:
        """Resample onto another TensorGrid by :meth:`at`; returns a new Field."""
        if not isinstance(grid, TensorGrid):
            raise TypeError(f"grid must be a TensorGrid, got {type(grid).__name__}")
        vals = self.at(grid.points(), order=order, extrapolate=extrapolate)
        lead = vals.shape[: self._n_lead]
        trail = vals.shape[self._n_lead + 1:]
        vals = vals.reshape(tuple(lead) + grid.shape + tuple(trail))
        return Field(vals, grid, times=self.times, name=self.name, units=self.units)

    def __repr__(self) -> str:
        return (f"Field(name={self.name!r}, shape={tuple(self.values.shape)}, "
                f"support={self.support!r}, units={self.units!r})")
