"""HDF5 and npz files for :class:`~tensorrom.tensor.ChebTucker` (no pickle).

A ChebTucker is small (the Tucker core and one ``(degree_k + 1, r_k)`` factor per axis), so a
potential or function built once, for example the long-range part of a large protein, can be
saved and evaluated later without rebuilding it.

Layout (the same names in both formats, as for fields): ``kind = "chebtucker"``,
``format_version``; ``core``; ``factor_<k>``; ``box_lower``/``box_upper``;
``truncation_error``; ``sampled_error`` (NaN when unknown); ``singular_values_<k>`` (when
known); ``metadata`` (a JSON string of user scalars, e.g. the split of a potential).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ..data import Box
from ..tensor import ChebTucker
from ._fields import (
    FORMAT_VERSION,
    _fmt,
    _read_h5,
    _read_npz,
    _split_metadata,
    _write_h5,
    _write_npz,
)

__all__ = ["save_chebtucker", "load_chebtucker"]


def save_chebtucker(path: str | Path, ct: ChebTucker, *,
                    metadata: dict[str, Any] | None = None) -> Path:
    """Write ``ct`` to ``path`` (.h5/.hdf5 or .npz), atomically (a temporary file, then a
    rename); returns the path.

    Args:
        path: output file; the suffix picks the format.
        ct: the :class:`~tensorrom.tensor.ChebTucker`.
        metadata: JSON-serialisable scalars, strings or lists to store beside it (read back by
            :func:`load_chebtucker` with ``return_metadata=True``).
    """
    if not isinstance(ct, ChebTucker):
        raise TypeError(f"ct must be a ChebTucker, got {type(ct).__name__}")
    path = Path(path)
    fmt = _fmt(path)
    scalars, arrays = _split_metadata(dict(metadata or {}))
    if arrays:
        raise TypeError(f"metadata must hold JSON scalars, strings or lists, not arrays: "
                        f"{sorted(arrays)}")
    flat: dict[str, Any] = {"format_version": FORMAT_VERSION, "kind": "chebtucker",
                            "core": np.asarray(ct.core),
                            "box_lower": np.array(ct.box.lower),
                            "box_upper": np.array(ct.box.upper),
                            "truncation_error": np.float64(ct.truncation_error),
                            "sampled_error": np.float64(np.nan if ct.sampled_error is None
                                                        else ct.sampled_error),
                            "metadata": json.dumps(scalars)}
    for k, u in enumerate(ct.factors):
        flat[f"factor_{k}"] = np.asarray(u)
    if ct.singular_values is not None:
        for k, s in enumerate(ct.singular_values):
            flat[f"singular_values_{k}"] = np.asarray(s, dtype=np.float64)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp" + path.suffix)
    (_write_h5 if fmt == "h5" else _write_npz)(tmp, flat)
    tmp.replace(path)
    return path


def load_chebtucker(path: str | Path, *, return_metadata: bool = False):
    """Read a ChebTucker written by :func:`save_chebtucker` (ValueError for corrupt or
    foreign files); with ``return_metadata=True``, ``(ct, metadata dict)``."""
    path = Path(path)
    fmt = _fmt(path)
    if not path.exists():
        raise FileNotFoundError(f"no such file: {path}")
    d = _read_h5(path) if fmt == "h5" else _read_npz(path)

    def need(key):
        if key not in d:
            raise ValueError(f"{path}: missing required entry {key!r}; not a tensorrom "
                             f"chebtucker file")
        return d[key]

    kind = str(need("kind"))
    if kind != "chebtucker":
        raise ValueError(f"{path} holds a {kind}, not a chebtucker")
    core = np.asarray(need("core"))
    factors = [np.asarray(need(f"factor_{k}")) for k in range(core.ndim)]
    singular = None
    if all(f"singular_values_{k}" in d for k in range(core.ndim)):
        singular = [np.asarray(d[f"singular_values_{k}"]) for k in range(core.ndim)]
    ct = ChebTucker(core, factors, Box(need("box_lower"), need("box_upper")),
                    truncation_error=float(need("truncation_error")),
                    singular_values=singular)
    sampled = float(d.get("sampled_error", np.nan))
    if np.isfinite(sampled):
        ct.sampled_error = sampled
        ct.error_estimate = sampled
    if return_metadata:
        return ct, json.loads(str(d.get("metadata", "{}")))
    return ct
