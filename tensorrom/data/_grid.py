"""Tensor-product grids: one 1D node array per axis plus the box they span."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from .._validate import as_array, check_finite, check_positive_int
from ._box import Box

__all__ = ["TensorGrid", "chebyshev_lobatto"]

GridKind = Literal["uniform_centered", "uniform_nodal", "chebyshev", "custom"]


def chebyshev_lobatto(m: int) -> np.ndarray:
    """The ``m`` Chebyshev–Lobatto points on [-1, 1] in ascending order.

    ``x_j = -cos(pi j / (m - 1))`` for ``j = 0, ..., m - 1``: the extrema of the Chebyshev
    polynomial ``T_{m-1}`` together with the end points. Symmetric points are made exactly
    antisymmetric and the middle point (odd ``m``) exactly 0.

    Args:
        m: number of points, ``m >= 2``.

    Returns:
        float64 array (m,).
    """
    m = check_positive_int(m, "m", minimum=2)
    j = np.arange(m)
    # sin form: x_j = sin(pi (2j - (m-1)) / (2(m-1))) is exactly antisymmetric in floating point
    x = np.sin(np.pi * (2 * j - (m - 1)) / (2 * (m - 1)))
    return x


def _per_axis(value: Any, dim: int, name: str) -> tuple[int, ...]:
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        vals = (int(value),) * dim
    else:
        try:
            vals = tuple(value)
        except TypeError:
            raise TypeError(f"{name} must be an int or a sequence of {dim} ints") from None
        if len(vals) != dim:
            raise ValueError(f"{name} must have {dim} entries (one per axis), got {len(vals)}")
    return vals


class TensorGrid:
    """A tensor-product grid ``axes[0] x axes[1] x ... `` inside a :class:`Box`.

    Build one with :meth:`uniform` (cell-centred or nodal) or :meth:`chebyshev`
    (Chebyshev–Lobatto), or pass explicit strictly increasing axes.

    Args:
        axes: sequence of ``d`` strictly increasing 1D arrays; axis ``k`` has ``shape[k]`` nodes.
        box: the box the grid spans; every node must lie in it. Defaults to the nodes' hull.
        kind: how the axes were made; drives the interpolation used by :class:`Field`.

    Attributes:
        axes: tuple of float64 arrays.
        shape: number of nodes per axis.
        dim: number of axes ``d``.
        size: total number of nodes.
    """

    def __init__(self, axes: Any, box: Box | None = None, *, kind: GridKind = "custom"):
        if isinstance(axes, np.ndarray) and axes.ndim == 1:
            axes = [axes]
        ax_list = []
        for k, a in enumerate(axes):
            arr = np.asarray(as_array(a, f"axes[{k}]", ndim=1), dtype=np.float64)
            if arr.size < 1:
                raise ValueError(f"axes[{k}] must hold at least one node")
            check_finite(arr, f"axes[{k}]")
            if arr.size > 1 and np.any(np.diff(arr) <= 0):
                raise ValueError(f"axes[{k}] must be strictly increasing")
            arr.setflags(write=False)
            ax_list.append(arr)
        if not ax_list:
            raise ValueError("axes must hold at least one axis")
        if kind not in ("uniform_centered", "uniform_nodal", "chebyshev", "custom"):
            raise ValueError(f"kind must be one of uniform_centered, uniform_nodal, chebyshev, "
                             f"custom; got {kind!r}")
        if box is None:
            lo = [a[0] for a in ax_list]
            hi = [a[-1] if a.size > 1 else a[0] + 1.0 for a in ax_list]
            box = Box(lo, hi)
        if not isinstance(box, Box):
            raise TypeError(f"box must be a tensorrom.data.Box, got {type(box).__name__}")
        if box.dim != len(ax_list):
            raise ValueError(f"box has dim {box.dim} but {len(ax_list)} axes were given")
        for k, a in enumerate(ax_list):
            tol = 1e-12 * box.lengths[k]
            if a[0] < box.lower[k] - tol or a[-1] > box.upper[k] + tol:
                raise ValueError(f"axes[{k}] has nodes outside the box on axis {k}")
        self.axes: tuple[np.ndarray, ...] = tuple(ax_list)
        self.box = box
        self.kind: GridKind = kind

    # -- constructors ---------------------------------------------------------------------
    @classmethod
    def uniform(cls, box: Box, n: int | tuple[int, ...], *, centered: bool = True) -> TensorGrid:
        """A uniform grid on ``box`` with ``n`` nodes per axis (int or one per axis).

        ``centered=True`` gives cell centres ``lower + (i + 1/2) h`` with ``h = L / n``;
        ``centered=False`` gives nodes ``lower + i h`` with ``h = L / (n - 1)`` including
        both end points (``n >= 2``).
        """
        if not isinstance(box, Box):
            raise TypeError(f"box must be a tensorrom.data.Box, got {type(box).__name__}")
        ns = _per_axis(n, box.dim, "n")
        axes = []
        for k, nk in enumerate(ns):
            nk = check_positive_int(nk, "n", minimum=1 if centered else 2)
            lo, hi = box.lower[k], box.upper[k]
            if centered:
                h = (hi - lo) / nk
                axes.append(lo + (np.arange(nk) + 0.5) * h)
            else:
                axes.append(np.linspace(lo, hi, nk))
        return cls(axes, box, kind="uniform_centered" if centered else "uniform_nodal")

    @classmethod
    def chebyshev(cls, box: Box, m: int | tuple[int, ...]) -> TensorGrid:
        """Chebyshev–Lobatto grid with ``m`` nodes per axis (ascending), mapped onto ``box``.

        Node ``j`` of axis ``k`` is ``box.from_reference(-cos(pi j / (m_k - 1)))``.
        """
        if not isinstance(box, Box):
            raise TypeError(f"box must be a tensorrom.data.Box, got {type(box).__name__}")
        ms = _per_axis(m, box.dim, "m")
        axes = []
        for k, mk in enumerate(ms):
            s = chebyshev_lobatto(check_positive_int(mk, "m", minimum=2))
            ax = box.lower[k] + 0.5 * (s + 1.0) * (box.upper[k] - box.lower[k])
            ax[0], ax[-1] = box.lower[k], box.upper[k]
            axes.append(ax)
        return cls(axes, box, kind="chebyshev")

    # -- properties -----------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(a.size for a in self.axes)

    @property
    def dim(self) -> int:
        return len(self.axes)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    @property
    def spacing(self) -> np.ndarray:
        """Node spacing per axis (d,) for uniform grids; ValueError for other kinds."""
        if self.kind == "uniform_centered":
            return self.box.lengths / np.array(self.shape)
        if self.kind == "uniform_nodal":
            return self.box.lengths / (np.array(self.shape) - 1)
        raise ValueError(f"spacing is defined for uniform grids only; this grid is {self.kind!r}")

    def meshgrid(self) -> tuple[np.ndarray, ...]:
        """Coordinate arrays, each of ``shape`` (``indexing='ij'``)."""
        return tuple(np.meshgrid(*self.axes, indexing="ij"))

    def points(self) -> np.ndarray:
        """All nodes as an (size, d) array in C order (last axis fastest)."""
        return np.stack([m.ravel() for m in self.meshgrid()], axis=-1)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TensorGrid):
            return NotImplemented
        return (
            self.kind == other.kind
            and self.box == other.box
            and self.shape == other.shape
            and all(np.array_equal(a, b) for a, b in zip(self.axes, other.axes))
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"TensorGrid(kind={self.kind!r}, shape={self.shape}, box={self.box!r})"
