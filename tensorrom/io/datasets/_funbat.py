"""FunBaT data sets: Beijing air quality (bundled, CC BY 4.0) and the paper's synthetic set.

Beijing: three targets (PM2.5, PM10, SO2) on modes (temperature, pressure, day), each mode
binned into ``n`` equal bins; bin ``i`` is placed at the continuous coordinate
``(i + 0.5)·10/n`` (bin centres of the [0, 10]-scaled variable). Five random 80/20 splits.

Synthetic (Fang et al. 2024, §5.1): ``u₁(t) = sin²(2πt) cos(2πt)``,
``u₂(t) = e^{−2t} sin(1.5πt)``, ``y = u₁(i₁) u₂(i₂)`` on six random 15×15 grids whose
coordinates are sorted U(0, 1) draws; a random 50/50 train/test split.

References:
    Fang, S. et al. (2024). Functional Bayesian Tucker decomposition for continuous-indexed
    tensor data. ICLR 2024.
    Zhang, S. et al. (2017). Cautionary tales on air-quality improvement in Beijing.
    Proc. R. Soc. A 473: 20170457 (data: UCI ML repository, CC BY 4.0).
"""

from __future__ import annotations

from importlib import resources
from typing import NamedTuple

import numpy as np

from ..._validate import check_positive_float, check_positive_int

__all__ = ["TensorSplit", "BEIJING_TARGETS", "BEIJING_MODES", "N_FOLDS", "load_beijing",
           "load_funbat_synthetic_r1", "make_funbat_synthetic", "funbat_synthetic_latents"]

BEIJING_TARGETS = ("pm25", "pm10", "so2")
BEIJING_MODES = ("temperature", "pressure", "day")
N_FOLDS = 5


class TensorSplit(NamedTuple):
    """A train/test split of continuous-indexed tensor entries.

    Attributes:
        X_train: (N_train, K) continuous coordinates.
        y_train: (N_train,) values.
        X_test: (N_test, K) coordinates.
        y_test: (N_test,) values.
        modes: names of the K modes.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    modes: tuple[str, ...]


def _data_file(name: str):
    return resources.files("tensorrom.io.datasets").joinpath("data", name)


def load_beijing(target: str = "pm25", fold: int = 0) -> TensorSplit:
    """One of the five Beijing air-quality splits (bundled, CC BY 4.0; see data/README.md).

    Args:
        target: ``"pm25"``, ``"pm10"`` or ``"so2"`` (the z-scored concentration).
        fold: split 0..4 (13,572 train / 3,393 test entries).

    Returns:
        :class:`TensorSplit` with coordinates ``(i + 0.5)·10/n`` in [0, 10] for the
        bins (428 temperature, 501 pressure, 1461 day).
    """
    if target not in BEIJING_TARGETS:
        raise ValueError(f"target must be one of {BEIJING_TARGETS}, got {target!r}")
    if isinstance(fold, bool) or not isinstance(fold, (int, np.integer)):
        raise TypeError(f"fold must be an integer, got {type(fold).__name__}")
    if not 0 <= fold < N_FOLDS:
        raise ValueError(f"fold must be in [0, {N_FOLDS}), got {fold}")
    with _data_file(f"beijing_{target}.npz").open("rb") as fh, \
            np.load(fh, allow_pickle=False) as d:
        index, y = d["index"].astype(np.int64), d["y"]
        order = d["fold_order"][fold].astype(np.int64)
        n_train, shape = int(d["n_train"]), d["shape"]
    X = (index[order] + 0.5) * (10.0 / shape)
    yy = y[order]
    return TensorSplit(X[:n_train], yy[:n_train], X[n_train:], yy[n_train:], BEIJING_MODES)


def load_funbat_synthetic_r1() -> TensorSplit:
    """The paper's synthetic rank-1 set as released with the authors' code (MIT licence).

    675 train / 675 test noise-free entries of ``u₁·u₂`` on 90×90 distinct coordinates,
    rescaled to [0, 1] per mode by the authors.
    """
    with _data_file("funbat_synthetic_r1.npz").open("rb") as fh, \
            np.load(fh, allow_pickle=False) as d:
        return TensorSplit(d["X_train"], d["y_train"], d["X_test"], d["y_test"],
                           ("mode 0", "mode 1"))


def funbat_synthetic_latents(t):
    """The true latent functions ``(u₁(t), u₂(t))`` of the synthetic set."""
    t = np.asarray(t, dtype=np.float64)
    u1 = np.sin(2 * np.pi * t) ** 2 * np.cos(2 * np.pi * t)
    u2 = np.exp(-2 * t) * np.sin(1.5 * np.pi * t)
    return u1, u2


def make_funbat_synthetic(seed: int = 0, *, noise: float = 0.0, n_grids: int = 6,
                          grid_size: int = 15, train_fraction: float = 0.5) -> TensorSplit:
    """Generate the FunBaT synthetic set: ``y = u₁(i₁)u₂(i₂) + σε`` on random grids.

    Each of ``n_grids`` grids takes ``grid_size`` sorted U(0, 1) coordinates per mode and all
    their pairs; the entries are split at random into train and test.

    Args:
        seed: NumPy seed (coordinates, noise, split).
        noise: σ >= 0 of the additive Gaussian noise (train and test).
        n_grids, grid_size: number and size of the grids (paper: 6 and 15).
        train_fraction: fraction of entries used for training (paper: 0.5).

    Returns:
        :class:`TensorSplit`.
    """
    n_grids = check_positive_int(n_grids, "n_grids")
    grid_size = check_positive_int(grid_size, "grid_size")
    noise = check_positive_float(noise, "noise", allow_zero=True)
    train_fraction = check_positive_float(train_fraction, "train_fraction")
    if train_fraction >= 1.0:
        raise ValueError(f"train_fraction must be in (0, 1), got {train_fraction}")
    rng = np.random.default_rng(seed)
    X = []
    for _ in range(n_grids):
        a = np.sort(rng.uniform(0.0, 1.0, grid_size))
        b = np.sort(rng.uniform(0.0, 1.0, grid_size))
        A, B = np.meshgrid(a, b, indexing="ij")
        X.append(np.stack([A.ravel(), B.ravel()], axis=1))
    X = np.concatenate(X)
    u1, _ = funbat_synthetic_latents(X[:, 0])
    _, u2 = funbat_synthetic_latents(X[:, 1])
    y = u1 * u2 + noise * rng.standard_normal(X.shape[0])
    perm = rng.permutation(X.shape[0])
    n_tr = int(round(train_fraction * X.shape[0]))
    tr, te = perm[:n_tr], perm[n_tr:]
    return TensorSplit(X[tr], y[tr], X[te], y[te], ("mode 0", "mode 1"))
