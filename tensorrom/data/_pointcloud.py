"""Scattered points with named per-point features."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .._validate import as_array, check_finite
from ._box import Box

__all__ = ["PointCloud"]


class PointCloud:
    """``n`` points in ``d`` dimensions with named per-point arrays.

    Args:
        coords: (n, d) coordinates (NumPy or JAX; no copy is forced).
        features: mapping name -> array whose leading axis has length ``n``
            (e.g. ``charge`` in e, ``radius`` in Å, ``value``, ``particle_type``).
        box: optional :class:`Box`; when given every point must lie inside it.

    Example:
        >>> pc = PointCloud(np.zeros((3, 2)), {"charge": [1.0, -1.0, 0.0]})
        >>> pc.n, pc.dim, pc["charge"].shape
        (3, 2, (3,))
    """

    def __init__(self, coords: Any, features: Mapping[str, Any] | None = None,
                 box: Box | None = None):
        c = as_array(coords, "coords", ndim=2)
        if c.shape[1] < 1:
            raise ValueError("coords must have at least one coordinate per point, got shape "
                             f"{tuple(c.shape)}")
        check_finite(c, "coords")
        feats: dict[str, Any] = {}
        for name, val in (features or {}).items():
            if not isinstance(name, str) or not name:
                raise TypeError(f"feature names must be non-empty strings, got {name!r}")
            arr = as_array(val, f"features[{name!r}]")
            if arr.ndim == 0 or arr.shape[0] != c.shape[0]:
                raise ValueError(
                    f"features[{name!r}] must have leading length {c.shape[0]} (one per point), "
                    f"got shape {tuple(arr.shape)}"
                )
            check_finite(arr, f"features[{name!r}]")
            feats[name] = arr
        if box is not None:
            if not isinstance(box, Box):
                raise TypeError(f"box must be a tensorrom.data.Box, got {type(box).__name__}")
            if box.dim != c.shape[1]:
                raise ValueError(f"box has dim {box.dim} but coords has {c.shape[1]} columns")
            box.check_contains(c, "coords")
        self.coords = c
        self.features: dict[str, Any] = feats
        self.box = box

    @property
    def n(self) -> int:
        """Number of points."""
        return int(self.coords.shape[0])

    @property
    def dim(self) -> int:
        """Number of coordinates per point."""
        return int(self.coords.shape[1])

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, name: str):
        try:
            return self.features[name]
        except KeyError:
            raise KeyError(f"no feature {name!r}; this cloud has {sorted(self.features)}") from None

    def __contains__(self, name: str) -> bool:
        return name in self.features

    def subset(self, idx: Any) -> PointCloud:
        """The cloud restricted to ``idx`` (integer indices or a boolean mask)."""
        i = np.asarray(idx)
        if i.dtype == bool:
            if i.shape != (self.n,):
                raise ValueError(f"idx as a mask must have shape ({self.n},), got {i.shape}")
        elif i.dtype.kind in "iu":
            if i.size and (i.min() < -self.n or i.max() >= self.n):
                raise ValueError(f"idx has entries outside 0..{self.n - 1}")
        else:
            raise TypeError(f"idx must be integer indices or a boolean mask, got {i.dtype}")
        return PointCloud(self.coords[i], {k: v[i] for k, v in self.features.items()}, self.box)

    def with_features(self, **features: Any) -> PointCloud:
        """A new cloud with ``features`` added (or replaced)."""
        return PointCloud(self.coords, {**self.features, **features}, self.box)

    def __repr__(self) -> str:
        return f"PointCloud(n={self.n}, dim={self.dim}, features={sorted(self.features)})"
