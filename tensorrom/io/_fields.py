"""HDF5 and npz files for Field and Trajectory, with metadata; no pickle anywhere.

Layout (the same names in both formats; npz keeps scalar metadata as one JSON string):

- ``kind``: "field" or "trajectory"; ``format_version``: 1.
- Field: ``values``; ``times`` (optional); support ``grid/axis_<k>`` plus ``grid_kind``,
  or ``cloud/coords`` plus ``cloud/feature/<name>``; ``box_lower``/``box_upper``; ``name``,
  ``units``.
- Trajectory: ``positions``, ``particle_type`` (optional), ``dt``, ``box_lower``/``box_upper``,
  ``metadata`` (JSON for scalars/strings/lists) and ``metadata_array/<name>`` for arrays.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from ..data import Box, Field, PointCloud, TensorGrid, Trajectory

__all__ = ["save_field", "load_field", "save_trajectory", "load_trajectory"]

FORMAT_VERSION = 1


def _fmt(path: Path) -> str:
    suf = path.suffix.lower()
    if suf in (".h5", ".hdf5"):
        return "h5"
    if suf == ".npz":
        return "npz"
    raise ValueError(f"path must end in .h5, .hdf5 or .npz, got {path.name!r}")


def _split_metadata(metadata: dict) -> tuple[dict, dict]:
    scalars, arrays = {}, {}
    for k, v in metadata.items():
        if not isinstance(k, str):
            raise TypeError(f"metadata keys must be strings, got {k!r}")
        if isinstance(v, np.ndarray) or type(v).__module__.startswith("jax"):
            arrays[k] = np.asarray(v)
        else:
            try:
                json.dumps(v)
            except TypeError:
                raise TypeError(
                    f"metadata[{k!r}] must be JSON-serialisable or an array, got "
                    f"{type(v).__name__}"
                ) from None
            scalars[k] = v
    return scalars, arrays


def _to_flat(obj: Field | Trajectory) -> dict[str, Any]:
    """Flatten a Field or Trajectory to name -> array / str."""
    d: dict[str, Any] = {"format_version": FORMAT_VERSION}
    if isinstance(obj, Field):
        d["kind"] = "field"
        d["values"] = np.asarray(obj.values)
        if obj.times is not None:
            d["times"] = obj.times
        d["name"] = obj.name if obj.name is not None else ""
        d["units"] = obj.units if obj.units is not None else ""
        sup = obj.support
        box = sup.box
        if isinstance(sup, TensorGrid):
            d["support"] = "grid"
            d["grid_kind"] = sup.kind
            for k, a in enumerate(sup.axes):
                d[f"grid/axis_{k}"] = a
        else:
            d["support"] = "cloud"
            d["cloud/coords"] = np.asarray(sup.coords)
            for name, v in sup.features.items():
                d[f"cloud/feature/{name}"] = np.asarray(v)
        if box is not None:
            d["box_lower"] = np.array(box.lower)
            d["box_upper"] = np.array(box.upper)
    elif isinstance(obj, Trajectory):
        d["kind"] = "trajectory"
        d["positions"] = np.asarray(obj.positions)
        d["dt"] = np.float64(obj.dt)
        d["box_lower"] = np.array(obj.box.lower)
        d["box_upper"] = np.array(obj.box.upper)
        if obj.particle_type is not None:
            d["particle_type"] = np.asarray(obj.particle_type)
        scalars, arrays = _split_metadata(obj.metadata)
        d["metadata"] = json.dumps(scalars)
        for k, v in arrays.items():
            d[f"metadata_array/{k}"] = v
    else:
        raise TypeError(f"expected a Field or Trajectory, got {type(obj).__name__}")
    return d


def _from_flat(d: dict[str, Any], path: Path, want: str):
    def need(key):
        if key not in d:
            raise ValueError(f"{path}: missing required entry {key!r}; not a tensorrom {want} file")
        return d[key]

    kind = str(need("kind"))
    if kind != want:
        raise ValueError(f"{path} holds a {kind}, not a {want}")
    box = None
    if "box_lower" in d:
        box = Box(d["box_lower"], d["box_upper"])
    if kind == "field":
        if str(need("support")) == "grid":
            axes = []
            k = 0
            while f"grid/axis_{k}" in d:
                axes.append(d[f"grid/axis_{k}"])
                k += 1
            if not axes:
                raise ValueError(f"{path}: missing required entry 'grid/axis_0'")
            support = TensorGrid(axes, box, kind=str(need("grid_kind")))
        else:
            pre = "cloud/feature/"
            feats = {k[len(pre):]: v for k, v in d.items() if k.startswith(pre)}
            support = PointCloud(need("cloud/coords"), feats, box)
        name = str(d.get("name", "")) or None
        units = str(d.get("units", "")) or None
        return Field(need("values"), support, times=d.get("times"), name=name, units=units)
    meta = json.loads(str(d.get("metadata", "{}")))
    pre = "metadata_array/"
    meta.update({k[len(pre):]: v for k, v in d.items() if k.startswith(pre)})
    if box is None:
        raise ValueError(f"{path}: missing required entry 'box_lower'")
    return Trajectory(need("positions"), float(need("dt")), box,
                      particle_type=d.get("particle_type"), metadata=meta)


# -- HDF5 ---------------------------------------------------------------------------------
def _write_h5(path: Path, flat: dict[str, Any]) -> None:
    import h5py

    with h5py.File(path, "w") as f:
        for k, v in flat.items():
            if isinstance(v, str):
                f.attrs[k] = v
            elif np.ndim(v) == 0 and k in ("dt", "format_version"):
                f.attrs[k] = v
            else:
                f.create_dataset(k, data=v)


def _read_h5(path: Path) -> dict[str, Any]:
    import h5py

    out: dict[str, Any] = {}
    try:
        with h5py.File(path, "r") as f:
            for k, v in f.attrs.items():
                out[k] = v.decode() if isinstance(v, bytes) else v
            names: list[str] = []
            f.visit(lambda n: names.append(n) if isinstance(f[n], h5py.Dataset) else None)
            for n in names:
                out[n] = f[n][()]
    except (OSError, KeyError, RuntimeError) as err:
        raise ValueError(f"{path} is not a readable HDF5 file (corrupt or truncated?): "
                         f"{err}") from None
    return out


# -- npz ----------------------------------------------------------------------------------
def _write_npz(path: Path, flat: dict[str, Any]) -> None:
    arrays = {k: (np.array(v) if isinstance(v, str) else np.asarray(v)) for k, v in flat.items()}
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)


def _read_npz(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as fh, np.load(fh, allow_pickle=False) as z:
            out = {}
            for k in z.files:
                v = z[k]
                out[k] = str(v) if v.dtype.kind == "U" else v
            return out
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError) as err:
        raise ValueError(f"{path} is not a readable npz file (corrupt or truncated?): "
                         f"{err}") from None


def _save(path: str | Path, obj) -> Path:
    path = Path(path)
    fmt = _fmt(path)
    flat = _to_flat(obj)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp" + path.suffix)
    (_write_h5 if fmt == "h5" else _write_npz)(tmp, flat)
    tmp.replace(path)  # atomic: readers never see a half-written file
    return path


def _load(path: str | Path, want: str):
    path = Path(path)
    fmt = _fmt(path)
    if not path.exists():
        raise FileNotFoundError(f"no such file: {path}")
    flat = _read_h5(path) if fmt == "h5" else _read_npz(path)
    return _from_flat(flat, path, want)


def save_field(path: str | Path, field: Field) -> Path:
    """Write ``field`` to ``path`` (.h5/.hdf5 or .npz), atomically; returns the path."""
    if not isinstance(field, Field):
        raise TypeError(f"field must be a Field, got {type(field).__name__}")
    return _save(path, field)


def load_field(path: str | Path) -> Field:
    """Read a Field written by :func:`save_field`; ValueError for corrupt or foreign files."""
    return _load(path, "field")


def save_trajectory(path: str | Path, trajectory: Trajectory) -> Path:
    """Write ``trajectory`` to ``path`` (.h5/.hdf5 or .npz), atomically; returns the path."""
    if not isinstance(trajectory, Trajectory):
        raise TypeError(f"trajectory must be a Trajectory, got {type(trajectory).__name__}")
    return _save(path, trajectory)


def load_trajectory(path: str | Path) -> Trajectory:
    """Read a Trajectory written by :func:`save_trajectory`."""
    return _load(path, "trajectory")
