"""Shared settings of the Phi-ROM Burgers example scripts: paths, data, evaluation.

The scripts in this folder exchange state through files in one output folder ``OUT``:

- ``burgers_train.py`` writes ``OUT/ckpt_<mode>/`` (``ckpt.eqx`` + ``ckpt.json``) and
  ``OUT/train_<mode>.json``;
- ``burgers_forecast.py`` reads the checkpoints and writes ``OUT/predictions.npz`` and
  ``OUT/forecast.json``;
- ``burgers_sparse.py`` reads the Phi-ROM checkpoint and writes ``OUT/sparse.npz`` and
  ``OUT/sparse.json``;
- ``make_figures.py`` reads the ``.npz`` files and writes the figures.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from tensorrom.rom import phirom, solvers

#: default output folder of every script
DEFAULT_OUT = "phirom_burgers_out"
#: training horizon: the models see the first 100 of the 200 stored steps
HORIZON = 100
#: training modes with a checkpoint folder of their own
MODES = ("phirom", "dino")
#: inversion at t = 0 for evaluation (the authors' evaluation: Adam, 1000 steps, rate 0.1)
INVERT_STEPS = 1000
INVERT_LR = 0.1
#: acceptance item 5: from 5 % of the nodes, error beyond the horizon at most this times
#: the full-observation error
SPARSE_BOUND = 1.5


def add_out_argument(ap):
    ap.add_argument("--out", default=DEFAULT_OUT,
                    help=f"folder shared by the scripts (default {DEFAULT_OUT})")


def ckpt_dir(out, mode: str) -> Path:
    return Path(out) / f"ckpt_{mode}"


def burgers_data():
    """``(solver, train_full, test, train)``: 200-step sets and the 100-step training window."""
    solver = solvers.Burgers1D()
    full_train = solvers.burgers_dataset("train")
    test = solvers.burgers_dataset("test")
    return solver, full_train, test, full_train.window(0, HORIZON)


def load_model(out, mode: str, *, required: bool = True):
    """The model saved by ``burgers_train.py --mode MODE`` (None when absent and optional)."""
    d = ckpt_dir(out, mode)
    if not (d / "ckpt.eqx").exists():
        if required:
            raise SystemExit(f"no checkpoint in {d}: run burgers_train.py --mode {mode} "
                             f"--out {out} first")
        return None
    model, _, step, _, side = phirom.load_checkpoint(d)
    print(f"loaded {mode} checkpoint: {d} (step {step} of {side['train']['steps']})")
    return model


def observed_indices(n_points: int, frac: float, seed: int) -> np.ndarray:
    """Sorted random subset of ``round(frac n)`` grid nodes (at least 2), or all of them."""
    if frac >= 1.0:
        return np.arange(n_points)
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n_points, max(2, int(round(frac * n_points))), replace=False))


def evaluate(model, solver, data, *, obs=None, steps=INVERT_STEPS, lr=INVERT_LR):
    """Invert at t = 0 from the nodes ``obs`` (default all), roll out, decode on the grid.

    Returns the predicted fields ``(n_traj, n_times, n_points)`` (float32).
    """
    pts = solver.points()
    obs = np.arange(len(pts)) if obs is None else obs
    z0 = phirom.invert(model, data.values[:, 0, obs], pts[obs], steps=steps, lr=lr)
    us = phirom.forecast(model, z0, data.mus, data.times, pts)
    return np.asarray(us)[..., 0]


def sparse_node_sets(model, solver, data, full: tuple[float, float], *, frac: float, seeds,
                     steps=INVERT_STEPS, lr=INVERT_LR):
    """Evaluate from ``frac`` of the grid nodes, one random node set per seed.

    Yields ``(record, obs, fields)`` per seed: ``record`` holds the seed, the node count,
    the errors for t <= / > the horizon and their ratios to the full-observation errors
    ``full`` (beyond the horizon, acceptance item 5 asks for at most ``SPARSE_BOUND``);
    ``obs`` the nodes; ``fields`` the predictions as from :func:`evaluate`.
    """
    for seed in seeds:
        obs = observed_indices(len(solver.points()), frac, seed)
        fields = evaluate(model, solver, data, obs=obs, steps=steps, lr=lr)
        _, s1, s2 = errors(fields, data.values)
        yield ({"seed": int(seed), "n_observed": int(len(obs)), "sparse_test_mu": [s1, s2],
                "ratio_t<=100": s1 / full[0], "ratio_t>100": s2 / full[1]}, obs, fields)


def errors(pred, truth):
    """Per-trajectory, per-time relative L2 error and its means for t <= / > the horizon."""
    e = phirom.relative_l2(pred, truth)  # (n_traj, T)
    return e, float(e[:, :HORIZON].mean()), float(e[:, HORIZON:].mean())


def authors_validation(test) -> np.ndarray:
    """Mask of the authors' 8 validation mu (the unseen mu without 0.03214)."""
    return np.asarray(test.mus).reshape(test.n_traj) < 0.032


def machine() -> dict:
    import jax

    return {"backend": jax.default_backend(), "loadavg": os.getloadavg()[0]}


def write_json(path, obj) -> None:
    Path(path).write_text(json.dumps(obj, indent=1))
