"""2D diffusion with zero Dirichlet walls, 5-point Laplacian."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ._base import Solver

__all__ = ["Diffusion2D"]


class Diffusion2D(eqx.Module, Solver):
    """``u_t = mu (u_xx + u_yy)`` on ``[0, L]^2`` with ``u = 0`` on the walls.

    The state holds the ``n x n`` interior nodes ``x_i = (i + 1) h``, ``h = L / (n + 1)``;
    the residual is the 5-point Laplacian with zero wall values,

    ``R_ij = mu (u_{i+1,j} + u_{i-1,j} + u_{i,j+1} + u_{i,j-1} - 4 u_ij) / h^2``,

    and the diffusivity ``mu`` is the model parameter. Time stepping is forward Euler (stable
    for ``mu dt / h^2 <= 1/4``).

    Args:
        n: interior nodes per axis (default 32).
        length: side ``L`` of the square (default 1).
        dt: time step (default 2e-4).
        n_steps: stored states per trajectory (default 100).

    References:
        Hosseini Dashtbayaz et al., NeurIPS 2025 (arXiv:2505.14595), diffusion benchmark.
    """

    n: int = eqx.field(static=True, default=32)
    length: float = eqx.field(static=True, default=1.0)
    dt: float = eqx.field(static=True, default=2e-4)
    n_steps: int = eqx.field(static=True, default=100)

    grid_kind = "custom"

    def __check_init__(self):
        if not (isinstance(self.n, int) and self.n >= 2):
            raise ValueError(f"n must be an integer >= 2, got {self.n!r}")
        for name in ("length", "dt"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and np.isfinite(v) and v > 0):
                raise ValueError(f"{name} must be a positive number, got {v!r}")

    @property
    def h(self) -> float:
        return float(self.length) / (self.n + 1)

    @property
    def box(self):
        return ([0.0, 0.0], [float(self.length)] * 2)

    @property
    def axes(self):
        a = (np.arange(self.n) + 1.0) * self.h
        return (a, a)

    def residual(self, u, mu):
        """``du/dt`` on the interior nodes: ``(n, n)`` -> ``(n, n)`` in ``u``'s dtype."""
        dtype = u.dtype
        p = jnp.pad(u, 1)
        lap = (p[2:, 1:-1] + p[:-2, 1:-1] + p[1:-1, 2:] + p[1:-1, :-2] - 4.0 * u)
        mu = jnp.asarray(mu, dtype=dtype).reshape(())
        return mu * lap / jnp.asarray(self.h**2, dtype)

    def pointwise_residual(self, u_fn, x, mu):
        """Continuous residual ``mu Laplace u`` at one point ``x`` (2,) by autodiff."""
        hess = jax.hessian(lambda p: u_fn(p)[0])(x)
        mu = jnp.asarray(mu, dtype=x.dtype).reshape(())
        return (mu * jnp.trace(hess)).reshape(1)

    def gaussian(self, center, width: float):
        """A Gaussian bump ``exp(-|x - c|^2 / (2 w^2))`` on the interior nodes (float64)."""
        xx, yy = np.meshgrid(*self.axes, indexing="ij")
        c = np.asarray(center, dtype=np.float64)
        return np.exp(-((xx - c[0]) ** 2 + (yy - c[1]) ** 2) / (2.0 * width**2))
