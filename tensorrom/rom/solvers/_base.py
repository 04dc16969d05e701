"""The common interface of the differentiable full-order solvers.

A solver is an :class:`equinox.Module` holding one discretised PDE
``du/dt = R(u; mu)``. Its state ``u`` is an array of shape :attr:`Solver.state_shape`
(the grid shape, with a leading channel axis for multi-channel exponax states); the
reduced-order models see the same state as an ``(grid_size, n_channels)`` table of
values at :attr:`Solver.grid` nodes, through :meth:`Solver.to_points` and
:meth:`Solver.from_points`.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ...data import Box, TensorGrid

__all__ = ["Solver", "check_residual_shape"]


class Solver:
    """Mix-in interface of a differentiable full-order solver.

    Subclasses (``eqx.Module``) define ``residual(u, mu)``, ``dt``, ``n_steps`` and the
    grid description (``box``, ``axes``, ``grid_kind``) and may override
    :meth:`step` (default: forward Euler ``u + dt R(u; mu)``).
    """

    # subclasses provide these as (static) fields
    n_channels: int = 1
    channel_first: bool = False

    # -- grid ---------------------------------------------------------------------------
    @property
    def grid(self) -> TensorGrid:
        """The :class:`~tensorrom.data.TensorGrid` the state lives on."""
        return TensorGrid([np.asarray(a) for a in self.axes], Box(*self.box), kind=self.grid_kind)

    @property
    def grid_shape(self) -> tuple[int, ...]:
        return tuple(len(a) for a in self.axes)

    @property
    def state_shape(self) -> tuple[int, ...]:
        """Shape of the state array ``u``."""
        if self.channel_first:
            return (self.n_channels,) + self.grid_shape
        if self.n_channels == 1:
            return self.grid_shape
        return self.grid_shape + (self.n_channels,)

    @property
    def grid_size(self) -> int:
        """Number of grid nodes."""
        return int(np.prod(self.grid_shape))

    def points(self) -> np.ndarray:
        """Grid nodes as a (grid_size, d) float64 array (C order, last axis fastest)."""
        return self.grid.points()

    def to_points(self, u):
        """State ``(*state_shape)`` -> values table ``(grid_size, n_channels)``."""
        if self.channel_first:
            return jnp.moveaxis(u, 0, -1).reshape(self.grid_size, self.n_channels)
        return u.reshape(self.grid_size, self.n_channels)

    def from_points(self, values):
        """Values table ``(grid_size, n_channels)`` -> state ``(*state_shape)``."""
        if self.channel_first:
            v = values.reshape(self.grid_shape + (self.n_channels,))
            return jnp.moveaxis(v, -1, 0)
        return values.reshape(self.state_shape)

    # -- time stepping ------------------------------------------------------------------
    def step(self, u, mu):
        """One full-order time step (forward Euler unless overridden)."""
        return u + jnp.asarray(self.dt, u.dtype) * self.residual(u, mu)

    def rollout(self, u0, mu, n_steps: int | None = None):
        """Full-order trajectory ``(n_steps, *state_shape)``, the initial state first.

        ``n_steps`` counts stored states (``n_steps - 1`` updates), as in the Phi-ROM
        benchmark; it defaults to :attr:`n_steps`.
        """
        n = self.n_steps if n_steps is None else int(n_steps)
        if n < 1:
            raise ValueError(f"n_steps must be >= 1, got {n}")
        u0 = jnp.asarray(u0)
        if tuple(u0.shape) != self.state_shape:
            raise ValueError(f"u0 must have shape {self.state_shape}, got {tuple(u0.shape)}")
        return _rollout(self, u0, mu, n)


def _rollout_impl(solver, u0, mu, n):
    def body(u, _):
        un = solver.step(u, mu)
        return un, un

    _, us = jax.lax.scan(body, u0, None, length=n - 1)
    return jnp.concatenate([u0[None], us], axis=0)


_rollout = eqx.filter_jit(_rollout_impl)


def check_residual_shape(residual, u, mu, name: str = "residual") -> None:
    """Raise ValueError unless ``residual(u, mu)`` has the shape and dtype of ``u``.

    Uses :func:`jax.eval_shape`, so nothing is computed.
    """
    out = jax.eval_shape(residual, u, mu)
    if tuple(out.shape) != tuple(jnp.shape(u)):
        raise ValueError(f"{name} must return an array shaped like its input "
                         f"{tuple(jnp.shape(u))}, got {tuple(out.shape)}")
