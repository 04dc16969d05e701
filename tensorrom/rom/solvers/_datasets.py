"""Data generators for the Phi-ROM benchmark sets (Burgers, diffusion, KdV 2D)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from tqdm.auto import tqdm

from ..._validate import check_positive_int
from ...data import Field, TensorGrid
from ._burgers import Burgers1D
from ._diffusion import Diffusion2D

__all__ = ["Snapshots", "burgers_mus", "burgers_dataset", "diffusion_dataset", "kdv2d_dataset"]


@dataclass(frozen=True)
class Snapshots:
    """A set of parametrised full-order trajectories on one grid.

    Attributes:
        values: ``(n_traj, n_times, *state_shape)`` states (NumPy or JAX).
        mus: ``(n_traj, n_params)`` parameters.
        times: ``(n_times,)`` sample times.
        grid: the :class:`~tensorrom.data.TensorGrid` of the states.
        channel_first: whether states carry a leading channel axis (exponax layout).
    """

    values: object
    mus: np.ndarray
    times: np.ndarray
    grid: TensorGrid
    channel_first: bool = False

    @property
    def n_traj(self) -> int:
        return int(self.values.shape[0])

    @property
    def n_times(self) -> int:
        return int(self.values.shape[1])

    def field(self, i: int) -> Field:
        """Trajectory ``i`` as a time-dependent :class:`~tensorrom.data.Field`."""
        v = np.asarray(self.values[i])
        if self.channel_first:
            v = np.moveaxis(v, 1, -1)
        return Field(v, self.grid, times=self.times)

    def window(self, start: int, stop: int) -> Snapshots:
        """The time steps ``start:stop`` of every trajectory."""
        return Snapshots(self.values[:, start:stop], self.mus, self.times[start:stop],
                         self.grid, self.channel_first)


def burgers_mus(split: str = "train") -> np.ndarray:
    """Source parameters of the Burgers benchmark, ``(n, 1)`` float64.

    ``"train"``: ``linspace(0.015, 0.03, 8)``; ``"test"``: the 7 midpoints of the training
    values, then ``0.015 - 0.015/7`` and ``0.03 + 0.015/7`` (extrapolation), 9 in all.
    """
    train = np.linspace(0.015, 0.03, 8)
    if split == "train":
        mus = train
    elif split == "test":
        step = train[1] - train[0]
        mus = np.concatenate([0.5 * (train[1:] + train[:-1]),
                              [train[0] - step, train[-1] + step]])
    else:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    return mus[:, None]


@eqx.filter_jit
def _batched_rollout(solver, u0s, mus, n):
    from ._base import _rollout_impl

    return jax.vmap(lambda u0, mu: _rollout_impl(solver, u0, mu, n))(u0s, mus)


def burgers_dataset(split: str = "train", *, solver: Burgers1D | None = None,
                    n_steps: int | None = None) -> Snapshots:
    """Full-order Burgers trajectories for the benchmark's training or test parameters.

    Runs :meth:`Burgers1D.rollout` in float64 (scoped ``jax.enable_x64``) from the bundled
    initial profile.

    Args:
        split: ``"train"`` (8 values of mu) or ``"test"`` (9 unseen values).
        solver: the solver (default ``Burgers1D()``).
        n_steps: stored states per trajectory (default the solver's, 200).

    Returns:
        :class:`Snapshots` with values ``(n_mu, n_steps, 256)`` float64 (NumPy).
    """
    solver = Burgers1D() if solver is None else solver
    if not isinstance(solver, Burgers1D):
        raise TypeError(f"solver must be a Burgers1D, got {type(solver).__name__}")
    n = solver.n_steps if n_steps is None else check_positive_int(n_steps, "n_steps")
    mus = burgers_mus(split)
    u0 = solver.initial_condition()
    with jax.enable_x64(True):
        u0s = jnp.broadcast_to(jnp.asarray(u0, jnp.float64), (len(mus),) + u0.shape)
        vals = np.asarray(_batched_rollout(solver, u0s, jnp.asarray(mus[:, 0]), n))
    return Snapshots(vals, mus, np.arange(n) * solver.dt, solver.grid)


def diffusion_dataset(n_traj: int, *, seed: int = 0, solver: Diffusion2D | None = None,
                      mu_range: tuple[float, float] = (0.5, 1.0), center: Any = None,
                      width: float | None = None) -> Snapshots:
    """Diffusion trajectories from random Gaussian initial conditions.

    Each trajectory starts from ``exp(-|x - c|^2 / (2 w^2))`` with centre ``c`` uniform in
    the middle half of the square and width ``w`` uniform in ``[0.05, 0.15] L`` (or the
    fixed ``center`` (2,) / ``width`` when given); its diffusivity ``mu`` is uniform in
    ``mu_range``. Float64 (scoped ``jax.enable_x64``).

    Returns:
        :class:`Snapshots` with values ``(n_traj, n_steps, n, n)``.
    """
    n_traj = check_positive_int(n_traj, "n_traj")
    solver = Diffusion2D() if solver is None else solver
    if not isinstance(solver, Diffusion2D):
        raise TypeError(f"solver must be a Diffusion2D, got {type(solver).__name__}")
    lo, hi = (float(v) for v in mu_range)
    if not (0 < lo <= hi):
        raise ValueError(f"mu_range must satisfy 0 < low <= high, got {mu_range}")
    if hi * solver.dt / solver.h**2 > 0.25:
        raise ValueError("mu_range too large for the explicit step: need mu dt / h^2 <= 1/4")
    rng = np.random.default_rng(seed)
    L = float(solver.length)
    u0 = []
    for _ in range(n_traj):
        c = rng.uniform(0.25 * L, 0.75 * L, 2)
        w = rng.uniform(0.05, 0.15) * L
        u0.append(solver.gaussian(c if center is None else center,
                                  w if width is None else float(width)))
    u0 = np.stack(u0)
    mus = rng.uniform(lo, hi, (n_traj, 1))
    with jax.enable_x64(True):
        vals = np.asarray(_batched_rollout(solver, jnp.asarray(u0), jnp.asarray(mus[:, 0]),
                                           solver.n_steps))
    return Snapshots(vals, mus, np.arange(solver.n_steps) * solver.dt, solver.grid)


def kdv2d_dataset(n_traj: int, *, seed: int = 0, num_points: int = 64,
                  domain_extent: float = 20.0, dt: float = 0.01, n_steps: int = 100,
                  progress: bool = False) -> Snapshots:
    """Korteweg-de Vries 2D trajectories (exponax) from random truncated Fourier series.

    Needs the optional dependency exponax (extra ``solvers``). Runs in float32 (exponax's
    default precision).

    Returns:
        :class:`Snapshots` with values ``(n_traj, n_steps, 2, N, N)`` (channel first).
    """
    try:
        import exponax as ex
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError("kdv2d_dataset needs exponax: pip install 'tensorrom[solvers]'") from err
    from ._stepper import from_stepper

    n_traj = check_positive_int(n_traj, "n_traj")
    # exponax mixes real and complex arrays implicitly: scoped standard promotion
    with jax.numpy_dtype_promotion("standard"):
        stepper = ex.stepper.KortewegDeVries(2, domain_extent, num_points, dt)
        solver = from_stepper(stepper, dt, n_steps=n_steps)
        gen = ex.ic.RandomMultiChannelICGenerator(
            [ex.ic.RandomTruncatedFourierSeries(2, cutoff=3)] * solver.n_channels)
        keys = jax.random.split(jax.random.PRNGKey(seed), n_traj)
        out = []
        for k in tqdm(keys, desc="KdV 2D", disable=not progress):
            u0 = jnp.asarray(gen(num_points, key=k), jnp.float32)
            out.append(np.asarray(solver.rollout(u0, 0.0, n_steps)))
    return Snapshots(np.stack(out), np.zeros((n_traj, 1)), np.arange(n_steps) * dt,
                     solver.grid, channel_first=True)
