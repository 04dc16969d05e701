"""Trajectory datasets from the MLS-MPM simulator: generation to HDF5, loading, windows.

HDF5 layout written by :func:`generate_dataset` (``format = "tensorrom-mpm-dataset"``,
``format_version = 1``; all lengths in m, times in s):

=====================================  ===================================================
``/`` attributes                       ``format``, ``format_version``, ``material`` (name),
                                       ``dim``, ``n_particles``, ``n_frames``, ``frame_dt``,
                                       ``seed``, ``config`` (JSON: every generation argument
                                       and the material parameters)
``/box_lower``, ``/box_upper``         (d,) float64, the simulation box (walls)
``/trajectories/<id>/positions``       (n_frames, N, d) float32 (``<id>`` = ``"00000"``...)
``/trajectories/<id>/particle_type``   (N,) int32, index into the scene's material list
``/trajectories/<id>`` attributes      ``seed`` (the scene seed), ``split``, ``metadata``
                                       (JSON of the trajectory's scalar metadata)
``/splits/train``, ``/splits/valid``,  int64 trajectory ids; the three sets are disjoint and
``/splits/test``                       together hold every trajectory
``/stats/velocity_mean`` ``_std``      (d,) float64, m/s: ``(x[t+1] - x[t]) / frame_dt``
``/stats/acceleration_mean`` ``_std``  (d,) float64, m/s^2:
                                       ``(x[t+2] - 2 x[t+1] + x[t]) / frame_dt^2``
=====================================  ===================================================

The statistics are pooled over every particle and frame of every *training* trajectory (one
mean and one standard deviation over all samples, accumulated in float64 with the pairwise
update of Chan et al. 1979), not averaged per trajectory; ``/stats`` attributes give the
sample counts. To normalise per-frame position differences multiply the velocity statistics
by ``frame_dt`` and the acceleration statistics by ``frame_dt**2``.

Generation is resumable and atomic: each finished trajectory is saved to
``<path>.parts/<id>.npz`` (written to a temporary name, then renamed); an interrupted run
called again with the same arguments skips the finished ones; the final file is written to
``<path>.tmp.h5`` and renamed, so a reader never sees a half-written dataset.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from ..._validate import check_positive_float, check_positive_int
from ...data import Box, Trajectory
from ._materials import material as make_material
from ._scene import random_scene
from ._solver import CFL_NUMBER, simulate

__all__ = ["generate_dataset", "load_dataset", "load_stats", "TrainingWindows"]

FORMAT = "tensorrom-mpm-dataset"
FORMAT_VERSION = 1
SPLITS = ("train", "valid", "test")


def _check_path(path: Any, name: str = "path") -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{name} must be a str or path, got {type(path).__name__}")
    p = Path(path)
    if p.suffix.lower() not in (".h5", ".hdf5"):
        raise ValueError(f"{name} must end in .h5 or .hdf5, got {p.name!r}")
    return p


def split_ids(n_trajectories: int, fractions: tuple[float, float, float], seed: int):
    """Random disjoint train/valid/test trajectory ids (each split non-empty)."""
    n = check_positive_int(n_trajectories, "n_trajectories", minimum=3)
    f = np.asarray(fractions, dtype=np.float64)
    if f.shape != (3,) or np.any(f <= 0) or not np.all(np.isfinite(f)):
        raise ValueError(f"splits must be three positive fractions (train, valid, test), "
                         f"got {fractions}")
    f = f / f.sum()
    n_valid = max(1, int(round(f[1] * n)))
    n_test = max(1, int(round(f[2] * n)))
    n_train = n - n_valid - n_test
    if n_train < 1:
        raise ValueError(f"splits {fractions} leave no training trajectory out of {n}")
    perm = np.random.default_rng(seed).permutation(n)
    return {"train": np.sort(perm[:n_train]), "valid": np.sort(perm[n_train:n_train + n_valid]),
            "test": np.sort(perm[n_train + n_valid:])}


class _Pooled:
    """Running per-axis mean and variance over many samples (Chan et al. pairwise update)."""

    def __init__(self, d: int):
        self.n = 0
        self.mean = np.zeros(d)
        self.m2 = np.zeros(d)

    def add(self, samples: np.ndarray) -> None:
        s = np.asarray(samples, dtype=np.float64).reshape(-1, self.mean.shape[0])
        nb = s.shape[0]
        if nb == 0:
            return
        mb = s.mean(axis=0)
        m2b = ((s - mb) ** 2).sum(axis=0)
        n = self.n + nb
        delta = mb - self.mean
        self.mean = self.mean + delta * nb / n
        self.m2 = self.m2 + m2b + delta**2 * self.n * nb / n
        self.n = n

    @property
    def std(self) -> np.ndarray:
        return np.sqrt(self.m2 / max(self.n, 1))


def _trajectory_seed(seed: int, i: int) -> int:
    return int(np.random.SeedSequence([seed, i]).generate_state(1)[0] % (2**31 - 1))


def _save_npz_atomic(path: Path, **arrays) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        np.savez(fh, **arrays)
    os.replace(tmp, path)


def generate_dataset(path: str | os.PathLike, material: str = "sand", *, dim: int = 2,
                     n_particles: int = 2000, n_trajectories: int = 20, n_frames: int = 300,
                     frame_dt: float = 1.0 / 300.0, substeps: int | None = None,
                     splits: tuple[float, float, float] = (0.8, 0.1, 0.1), seed: int = 0,
                     cells: int | None = None, max_bodies: int = 3, speed: float = 1.0,
                     material_params: dict | None = None, progress: bool = False,
                     resume: bool = True) -> Path:
    """Simulate ``n_trajectories`` random scenes of one material and write an HDF5 dataset.

    Each trajectory is a :func:`random_scene` (1..``max_bodies`` blocks of ``n_particles``
    particles in total, random places and initial velocities up to ``speed`` m/s) run for
    ``n_frames`` frames by :func:`simulate`. Trajectory ids are split at random into disjoint
    train/valid/test sets; velocity and acceleration statistics are pooled over all training
    frames. The file layout is described in the module docstring.

    Args:
        path: output file (.h5 / .hdf5).
        material: material name (``"jelly"``, ``"water"``, ``"sand"``, ``"plasticine"``).
        dim: 2 or 3.
        n_particles, n_trajectories, n_frames: positive counts (``n_trajectories >= 3``,
            ``n_frames >= 3``).
        frame_dt: time between frames (s).
        substeps: MPM substeps per frame (default: the fewest stable for the largest
            possible initial speed, the same for every trajectory: one jit compilation).
        splits: fractions (train, valid, test).
        seed: master seed; trajectory ``i`` uses a seed derived from ``(seed, i)``.
        cells: grid cells per box edge (default 64 in 2D, 32 in 3D).
        max_bodies, speed: see :func:`random_scene`.
        material_params: overrides of the material's default parameters.
        progress: tqdm progress bar over trajectories.
        resume: reuse finished trajectories in ``<path>.parts/`` from an interrupted run.

    Returns:
        the path written.
    """
    path = _check_path(path)
    mat = make_material(material, **(material_params or {}))
    if dim not in (2, 3):
        raise ValueError(f"dim must be 2 or 3, got {dim!r}")
    n_particles = check_positive_int(n_particles, "n_particles")
    n_trajectories = check_positive_int(n_trajectories, "n_trajectories", minimum=3)
    n_frames = check_positive_int(n_frames, "n_frames", minimum=3)
    frame_dt = check_positive_float(frame_dt, "frame_dt")
    if substeps is not None:
        substeps = check_positive_int(substeps, "substeps")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    ids = split_ids(n_trajectories, splits, seed)
    config = {"material": mat.to_dict(), "dim": dim, "n_particles": n_particles,
              "n_trajectories": n_trajectories, "n_frames": n_frames, "frame_dt": frame_dt,
              "substeps": substeps, "splits": list(map(float, splits)), "seed": int(seed),
              "cells": cells, "max_bodies": max_bodies, "speed": speed}
    # validate the scene parameters once, before any simulation
    scene0 = random_scene(mat, dim=dim, n_particles=n_particles, seed=_trajectory_seed(seed, 0),
                          max_bodies=max_bodies, speed=speed, cells=cells)
    if substeps is None:
        # one substep count for every trajectory (bounding the initial speed by
        # speed sqrt(d)), so that all trajectories share one compiled simulation
        limit = CFL_NUMBER * scene0.grid_spacing / (mat.wave_speed + speed * math.sqrt(dim))
        substeps = max(1, math.ceil(frame_dt / limit * (1 + 1e-9)))

    parts = path.with_name(path.name + ".parts")
    cfg_file = parts / "config.json"
    if parts.exists() and resume and cfg_file.exists():
        old = json.loads(cfg_file.read_text())
        if old != json.loads(json.dumps(config)):
            raise ValueError(f"path: {parts} holds an interrupted run with other arguments; "
                             f"delete it or use resume=False")
    elif parts.exists():
        shutil.rmtree(parts)
    parts.mkdir(parents=True, exist_ok=True)
    tmp_cfg = cfg_file.with_name("config.json.tmp")
    tmp_cfg.write_text(json.dumps(config))
    os.replace(tmp_cfg, cfg_file)

    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=n_trajectories, desc=f"{mat.name} {dim}D trajectories", unit="traj")
    try:
        for i in range(n_trajectories):
            part = parts / f"{i:05d}.npz"
            if not part.exists():
                s_i = _trajectory_seed(seed, i)
                scene = random_scene(mat, dim=dim, n_particles=n_particles, seed=s_i,
                                     max_bodies=max_bodies, speed=speed, cells=cells)
                traj = simulate(scene, n_frames, substeps, frame_dt=frame_dt)
                meta = {k: v for k, v in traj.metadata.items() if not isinstance(v, np.ndarray)}
                _save_npz_atomic(part, positions=np.asarray(traj.positions, dtype=np.float32),
                                 particle_type=np.asarray(traj.particle_type, dtype=np.int32),
                                 box_lower=np.asarray(traj.box.lower),
                                 box_upper=np.asarray(traj.box.upper),
                                 seed=np.int64(s_i), metadata=np.array(json.dumps(meta)))
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    _assemble(path, parts, config, ids, mat.name, frame_dt)
    shutil.rmtree(parts)
    return path


def _assemble(path: Path, parts: Path, config: dict, ids: dict, name: str,
              frame_dt: float) -> None:
    import h5py

    d = config["dim"]
    vel, acc = _Pooled(d), _Pooled(d)
    split_of = {int(i): s for s, arr in ids.items() for i in arr}
    tmp = path.with_name(path.name + ".tmp.h5")
    with h5py.File(tmp, "w") as f:
        f.attrs["format"] = FORMAT
        f.attrs["format_version"] = FORMAT_VERSION
        f.attrs["material"] = name
        f.attrs["dim"] = d
        f.attrs["n_particles"] = config["n_particles"]
        f.attrs["n_frames"] = config["n_frames"]
        f.attrs["frame_dt"] = frame_dt
        f.attrs["seed"] = config["seed"]
        f.attrs["config"] = json.dumps(config)
        g = f.create_group("trajectories")
        for i in range(config["n_trajectories"]):
            with np.load(parts / f"{i:05d}.npz", allow_pickle=False) as z:
                x = z["positions"]
                if i == 0:
                    f.create_dataset("box_lower", data=z["box_lower"])
                    f.create_dataset("box_upper", data=z["box_upper"])
                t = g.create_group(f"{i:05d}")
                t.create_dataset("positions", data=x, compression="gzip", compression_opts=1)
                t.create_dataset("particle_type", data=z["particle_type"])
                t.attrs["seed"] = int(z["seed"])
                t.attrs["split"] = split_of[i]
                t.attrs["metadata"] = str(z["metadata"])
            if split_of[i] == "train":
                x64 = x.astype(np.float64)
                v = (x64[1:] - x64[:-1]) / frame_dt
                a = (x64[2:] - 2 * x64[1:-1] + x64[:-2]) / frame_dt**2
                vel.add(v)
                acc.add(a)
        sp = f.create_group("splits")
        for s in SPLITS:
            sp.create_dataset(s, data=np.asarray(ids[s], dtype=np.int64))
        st = f.create_group("stats")
        st.create_dataset("velocity_mean", data=vel.mean)
        st.create_dataset("velocity_std", data=vel.std)
        st.create_dataset("acceleration_mean", data=acc.mean)
        st.create_dataset("acceleration_std", data=acc.std)
        st.attrs["n_velocity_samples"] = vel.n
        st.attrs["n_acceleration_samples"] = acc.n
        st.attrs["pooled_over"] = "all particles and frames of all training trajectories"
    os.replace(tmp, path)


# ------------------------------------------------------------------------------------------
# reading
# ------------------------------------------------------------------------------------------
_REQUIRED_ATTRS = ("format", "dim", "frame_dt")
_REQUIRED = ("box_lower", "box_upper", "trajectories", "splits/train", "splits/valid",
             "splits/test", "stats/velocity_mean", "stats/velocity_std",
             "stats/acceleration_mean", "stats/acceleration_std")


def _open(path: Any):
    import h5py

    p = _check_path(path)
    if not p.exists():
        raise FileNotFoundError(f"no such file: {p}")
    try:
        f = h5py.File(p, "r")
    except OSError as err:
        raise ValueError(f"path: {p} is not a readable HDF5 file ({err})") from None
    for a in _REQUIRED_ATTRS:
        if a not in f.attrs:
            f.close()
            raise ValueError(f"{p}: missing required attribute {a!r}; not a tensorrom MPM "
                             f"dataset")
    if f.attrs["format"] != FORMAT:
        f.close()
        raise ValueError(f"{p}: format is {f.attrs['format']!r}, expected {FORMAT!r}")
    for k in _REQUIRED:
        if k not in f:
            f.close()
            raise ValueError(f"{p}: missing required field {k!r}")
    return f


def _check_split(split: str) -> str:
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    return split


def load_stats(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """The pooled training statistics: ``velocity_mean/std`` (m/s) and
    ``acceleration_mean/std`` (m/s^2), each (d,), plus ``frame_dt``."""
    with _open(path) as f:
        out = {k: np.asarray(f["stats"][k][()]) for k in
               ("velocity_mean", "velocity_std", "acceleration_mean", "acceleration_std")}
        out["frame_dt"] = float(f.attrs["frame_dt"])
    return out


def load_dataset(path: str | os.PathLike, split: str = "train") -> list[Trajectory]:
    """The trajectories of one split as :class:`tensorrom.data.Trajectory` objects.

    Metadata of each trajectory holds the file's scalar metadata plus ``trajectory_id``,
    ``split`` and the pooled ``stats`` (arrays ``velocity_mean`` ... as NumPy).
    """
    split = _check_split(split)
    out = []
    with _open(path) as f:
        box = Box(f["box_lower"][()], f["box_upper"][()])
        dt = float(f.attrs["frame_dt"])
        stats = {k: np.asarray(f["stats"][k][()]) for k in f["stats"]}
        for i in f["splits"][split][()]:
            key = f"{int(i):05d}"
            if key not in f["trajectories"] or "positions" not in f["trajectories"][key]:
                raise ValueError(f"{path}: missing required field "
                                 f"'trajectories/{key}/positions'")
            g = f["trajectories"][key]
            pt = g["particle_type"][()] if "particle_type" in g else None
            meta = json.loads(g.attrs.get("metadata", "{}"))
            meta.update({"trajectory_id": int(i), "split": split})
            meta.update({f"stats_{k}": v for k, v in stats.items()})
            out.append(Trajectory(g["positions"][()], dt, box, particle_type=pt, metadata=meta))
    return out


class TrainingWindows:
    """Training samples ``(past positions, next position)`` cut from one split of a dataset.

    Sample ``j`` of trajectory ``x`` (frames ``T``) is ``history = x[s : s + H]`` (H, N, d)
    and ``target = x[s + H]`` (N, d) for ``s = 0 .. T - H - 1``; every trajectory gives
    ``T - H`` samples. The split is loaded into memory as float32.

    Args:
        source: a dataset path, or a list of :class:`Trajectory` (e.g. from
            :func:`load_dataset`).
        split: ``"train"``, ``"valid"`` or ``"test"`` (for a path).
        history: number of past frames ``H`` (>= 1; GNS uses 6: five velocities).
    """

    def __init__(self, source: Any, split: str = "train", *, history: int = 6):
        self.history = check_positive_int(history, "history")
        if isinstance(source, (str, os.PathLike)):
            trajs = load_dataset(source, split)
        else:
            trajs = list(source)
            for k, t in enumerate(trajs):
                if not isinstance(t, Trajectory):
                    raise TypeError(f"source[{k}] must be a Trajectory, got {type(t).__name__}")
        if not trajs:
            raise ValueError("source holds no trajectory")
        for k, t in enumerate(trajs):
            if t.n_frames <= self.history:
                raise ValueError(f"history={history} needs trajectories of more than {history} "
                                 f"frames; trajectory {k} has {t.n_frames}")
        self.trajectories = trajs
        self.positions = [np.asarray(t.positions, dtype=np.float32) for t in trajs]
        counts = np.array([t.n_frames - self.history for t in trajs])
        self._offsets = np.concatenate([[0], np.cumsum(counts)])

    def __len__(self) -> int:
        return int(self._offsets[-1])

    def __getitem__(self, j: int):
        """``(history (H, N, d), target (N, d), particle_type (N,))`` of sample ``j``."""
        if isinstance(j, bool) or not isinstance(j, (int, np.integer)):
            raise TypeError(f"index must be an integer, got {type(j).__name__}")
        n = len(self)
        if not -n <= j < n:
            raise IndexError(f"index {j} out of range for {n} windows")
        j = int(j) % n
        k = int(np.searchsorted(self._offsets, j, side="right") - 1)
        s = j - int(self._offsets[k])
        x = self.positions[k]
        pt = self.trajectories[k].particle_type
        pt = np.zeros(x.shape[1], np.int32) if pt is None else np.asarray(pt, np.int32)
        return x[s:s + self.history], x[s + self.history], pt

    def batches(self, batch_size: int, *, seed: int = 0, shuffle: bool = True,
                drop_last: bool = True):
        """Yield stacked batches ``(history (B, H, N, d), target (B, N, d), types (B, N))``.

        Trajectories must share the particle count to be stacked.
        """
        batch_size = check_positive_int(batch_size, "batch_size")
        ns = {x.shape[1] for x in self.positions}
        if len(ns) > 1:
            raise ValueError(f"batches needs one particle count, trajectories have {sorted(ns)}")
        order = np.arange(len(self))
        if shuffle:
            order = np.random.default_rng(seed).permutation(order)
        stop = len(order) - (len(order) % batch_size if drop_last else 0)
        for b in range(0, stop, batch_size):
            items = [self[int(j)] for j in order[b:b + batch_size]]
            yield (np.stack([it[0] for it in items]), np.stack([it[1] for it in items]),
                   np.stack([it[2] for it in items]))
