"""The parametrised inviscid Burgers benchmark of Phi-ROM (after the CROM benchmark)."""

from __future__ import annotations

from importlib import resources

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ._base import Solver

__all__ = ["Burgers1D", "burgers_initial_condition"]


def burgers_initial_condition() -> np.ndarray:
    """The benchmark's initial profile on the 256 nodes ``x_i = 100 i / 255`` (float64).

    The profile (4.25 at x = 0 falling steeply to about 1.08 near x = 12, then slowly rising)
    is the one shipped with the public Phi-ROM code (file ``data/h5_f_0000000000.h5``,
    MIT licence, copyright 2025 Autodesk Inc.; the licence text is shipped beside it as
    ``tensorrom/rom/solvers/data/LICENSE.PhiROM``).

    Returns:
        float64 array (256,).
    """
    ref = resources.files("tensorrom.rom.solvers").joinpath("data/burgers_ic.npz")
    with resources.as_file(ref) as path, np.load(path, allow_pickle=False) as d:
        return np.array(d["u0"], dtype=np.float64)


class Burgers1D(eqx.Module, Solver):
    """1D inviscid Burgers with an exponential source, first-order upwind, forward Euler.

    ``u_t + (u^2/2)_x = a exp(mu x)`` on ``x in [0, L]`` with ``num_points`` nodes
    ``x_i = i L / (num_points - 1)``. The semi-discrete residual is

    ``R_i(u; mu) = -(u_i^2 - u_{i-1}^2) / (2 dx) + a exp(mu x_i)`` for ``i >= 1`` and
    ``R_0 = 0`` (the leftmost node is held fixed),

    valid for ``u > 0`` (flow to the right, the benchmark's regime). Time stepping is
    forward Euler with ``dt`` (default 0.07 for ``n_steps = 200`` stored states).

    Args:
        length: domain length ``L`` (default 100).
        num_points: number of nodes (default 256).
        dt: time step (default 0.07).
        n_steps: stored states per trajectory (default 200).
        source_amplitude: ``a`` (default 0.02).

    References:
        Hosseini Dashtbayaz et al., "Physics-informed Reduced Order Modeling of
        Time-dependent PDEs via Differentiable Solvers", NeurIPS 2025 (arXiv:2505.14595);
        Chen et al., "CROM: Continuous Reduced-Order Modeling of PDEs Using Implicit Neural
        Representations", ICLR 2023.
    """

    length: float = eqx.field(static=True, default=100.0)
    num_points: int = eqx.field(static=True, default=256)
    dt: float = eqx.field(static=True, default=0.07)
    n_steps: int = eqx.field(static=True, default=200)
    source_amplitude: float = eqx.field(static=True, default=0.02)

    def __check_init__(self):
        if not (isinstance(self.num_points, int) and self.num_points >= 3):
            raise ValueError(f"num_points must be an integer >= 3, got {self.num_points!r}")
        for name in ("length", "dt"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and np.isfinite(v) and v > 0):
                raise ValueError(f"{name} must be a positive number, got {v!r}")
        if not (isinstance(self.n_steps, int) and self.n_steps >= 1):
            raise ValueError(f"n_steps must be an integer >= 1, got {self.n_steps!r}")

    # grid description used by Solver
    @property
    def box(self):
        return ([0.0], [float(self.length)])

    @property
    def axes(self):
        return (np.linspace(0.0, float(self.length), self.num_points),)

    grid_kind = "uniform_nodal"

    @property
    def dx(self) -> float:
        return float(self.length) / (self.num_points - 1)

    def initial_condition(self) -> np.ndarray:
        """The benchmark initial profile (float64, (256,)); needs the default grid."""
        if self.num_points != 256 or float(self.length) != 100.0:
            raise ValueError("the bundled initial condition is for num_points=256, length=100")
        return burgers_initial_condition()

    def residual(self, u, mu):
        """``du/dt`` on the grid: ``(num_points,)`` -> ``(num_points,)`` in ``u``'s dtype."""
        dtype = u.dtype
        x = jnp.linspace(0.0, self.length, self.num_points, dtype=dtype)
        mu = jnp.asarray(mu, dtype=dtype).reshape(())
        left = jnp.concatenate([u[:1], u[:-1]])
        flux = (u * u - left * left) / jnp.asarray(2.0 * self.dx, dtype)
        r = -flux + jnp.asarray(self.source_amplitude, dtype) * jnp.exp(mu * x)
        return r.at[0].set(jnp.zeros((), dtype))

    def pointwise_residual(self, u_fn, x, mu):
        """Continuous residual ``-u u_x + a exp(mu x)`` at one point ``x`` (1,) by autodiff.

        ``u_fn`` maps a point (1,) to values (1,); used by the ``"pinn"`` training mode.
        """
        u, ux = jax.jvp(u_fn, (x,), (jnp.ones_like(x),))
        mu = jnp.asarray(mu, dtype=x.dtype).reshape(())
        return -u * ux + jnp.asarray(self.source_amplitude, x.dtype) * jnp.exp(mu * x)
