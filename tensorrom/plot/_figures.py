"""Figures people read in papers: field slices, point scatters, curves with bands."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..data import Field, PointCloud, TensorGrid

__all__ = ["field_slice", "scatter_points", "curves_with_band"]


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots()
    return ax


def field_slice(field: Field, *, axis: int = 2, index: int | None = None, time: int = 0,
                channel: int = 0, ax=None, cmap: str | None = None, colorbar: bool = True,
                label: str | None = None, center: float | None = None,
                coord_units: str | None = None, **kwargs: Any):
    """Colour map of a grid field: the whole field in 2D, or the slice ``index`` along ``axis``
    in 3D (default: the middle slice).

    Args:
        field: Field on a 2D or 3D TensorGrid.
        axis: the axis held fixed in 3D.
        index: node index along ``axis`` (default: middle).
        time: time index when the field has a time axis.
        channel: channel index when the field has channels.
        ax: matplotlib Axes (default: a new figure).
        label: colour-bar label (default: the field's name and units).
        center: a value to put at the middle of the colour range (``vmin``/``vmax``
            symmetric about it, as a diverging map such as ``"RdBu_r"`` needs; e.g. 0 for a
            potential); ignored when ``vmin``, ``vmax`` or ``norm`` is given.
        coord_units: units of the coordinates for the axis labels (e.g. ``"Å"``).

    Returns:
        the Axes.
    """
    if not isinstance(field, Field) or not isinstance(field.support, TensorGrid):
        raise TypeError("field must be a Field on a TensorGrid")
    grid = field.support
    if grid.dim not in (2, 3):
        raise ValueError(f"field_slice needs a 2D or 3D grid, got dim {grid.dim}")
    v = np.asarray(field.values)
    if field.has_time:
        v = v[time]
    if field.n_channels is not None:
        v = v[..., channel]
    axes = list(range(grid.dim))
    if grid.dim == 3:
        if axis not in (0, 1, 2):
            raise ValueError(f"axis must be 0, 1 or 2, got {axis}")
        i = grid.shape[axis] // 2 if index is None else index
        if not 0 <= i < grid.shape[axis]:
            raise ValueError(f"index must be in [0, {grid.shape[axis]}), got {i}")
        v = np.take(v, i, axis=axis)
        axes.remove(axis)
    ax = _axes(ax)
    xa, ya = grid.axes[axes[0]], grid.axes[axes[1]]
    if center is not None and not {"vmin", "vmax", "norm"} & set(kwargs):
        half = float(np.max(np.abs(v - center))) or 1.0
        kwargs.update(vmin=center - half, vmax=center + half)
    mesh = ax.pcolormesh(xa, ya, v.T, shading="nearest", cmap=cmap, **kwargs)
    names = "xyz"
    unit = f" [{coord_units}]" if coord_units else ""
    ax.set_xlabel(names[axes[0]] + unit)
    ax.set_ylabel(names[axes[1]] + unit)
    ax.set_aspect("equal")
    ax.grid(False)
    if colorbar:
        if label is None:
            label = " ".join(s for s in (field.name, f"[{field.units}]" if field.units else None)
                             if s)
        ax.figure.colorbar(mesh, ax=ax, label=label or None)
    return ax


def scatter_points(points: Any, *, c: Any = None, ax=None, size: float = 2.0,
                   cmap: str | None = None, colorbar: bool = False, **kwargs: Any):
    """Scatter plot of a PointCloud or (n, 2|3) coordinates (3D on a 3D Axes).

    Args:
        points: PointCloud or (n, d) array with d in {2, 3}.
        c: colours: an (n,) array, or the name of a feature of the PointCloud.
        ax: Axes (default: a new figure, 3D projection for d = 3).

    Returns:
        the Axes.
    """
    if isinstance(points, PointCloud):
        if isinstance(c, str):
            c = np.asarray(points[c])
        xyz = np.asarray(points.coords)
    else:
        xyz = np.asarray(points)
    if xyz.ndim != 2 or xyz.shape[1] not in (2, 3):
        raise ValueError(f"points must have shape (n, 2) or (n, 3), got {xyz.shape}")
    if ax is None:
        import matplotlib.pyplot as plt

        fig = plt.figure()
        ax = fig.add_subplot(projection="3d" if xyz.shape[1] == 3 else None)
    sc = ax.scatter(*xyz.T, c=c, s=size, cmap=cmap, linewidths=0, **kwargs)
    if xyz.shape[1] == 2:
        ax.set_aspect("equal")
    if colorbar and c is not None:
        ax.figure.colorbar(sc, ax=ax)
    return ax


def curves_with_band(x: Any, mean: Any, *, std: Any = None, lower: Any = None,
                     upper: Any = None, label: str | None = None, ax=None, alpha: float = 0.25,
                     n_std: float = 2.0, **kwargs: Any):
    """A curve with a shaded band: ``mean ± n_std·std`` or explicit ``lower``/``upper``.

    Returns:
        the Axes.
    """
    x = np.asarray(x)
    m = np.asarray(mean)
    if x.shape != m.shape or x.ndim != 1:
        raise ValueError(f"x and mean must be 1D of equal length, got {x.shape} and {m.shape}")
    if std is not None:
        s = np.asarray(std)
        lo, hi = m - n_std * s, m + n_std * s
    elif lower is not None and upper is not None:
        lo, hi = np.asarray(lower), np.asarray(upper)
    else:
        raise ValueError("give std, or both lower and upper")
    ax = _axes(ax)
    (line,) = ax.plot(x, m, label=label, **kwargs)
    ax.fill_between(x, lo, hi, color=line.get_color(), alpha=alpha, linewidth=0)
    return ax
