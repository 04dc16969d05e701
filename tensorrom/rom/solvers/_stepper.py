"""Residuals of arbitrary one-step solvers (exponax steppers)."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ._base import Solver, check_residual_shape

__all__ = ["StepperResidual", "from_stepper"]


class StepperResidual(eqx.Module, Solver):
    """The residual ``R(u) = (step(u) - u) / dt`` of a one-step solver.

    For a consistent stepper, ``R(u) = du/dt + O(dt)``: first-order accurate in ``dt``
    whatever the stepper's own order (the ``O(dt)`` term is ``dt/2 d^2u/dt^2``). The
    rollout applies ``step`` itself, so the full-order trajectory is the stepper's.
    The parameter ``mu`` is ignored (an exponax stepper carries its own coefficients).

    Built by :func:`from_stepper`.
    """

    stepper: object
    dt: float = eqx.field(static=True)
    n_steps: int = eqx.field(static=True)
    n_channels: int = eqx.field(static=True)
    num_spatial_dims: int = eqx.field(static=True)
    num_points: int = eqx.field(static=True)
    domain_extent: float = eqx.field(static=True)

    channel_first = True
    grid_kind = "custom"

    @property
    def box(self):
        return ([0.0] * self.num_spatial_dims, [float(self.domain_extent)] * self.num_spatial_dims)

    @property
    def axes(self):
        # exponax's periodic grid: x_i = i L / N, i = 0..N-1 (the right end is excluded)
        a = np.arange(self.num_points) * (float(self.domain_extent) / self.num_points)
        return (a,) * self.num_spatial_dims

    def step(self, u, mu):
        # exponax mixes real and complex arrays implicitly: run it under standard promotion
        # (a scoped setting; tensorrom's own code is strict-promotion clean)
        with jax.numpy_dtype_promotion("standard"):
            return self.stepper(u).astype(u.dtype)

    def residual(self, u, mu):
        """``(step(u) - u) / dt`` with ``u`` of shape ``(C, N, ..., N)``."""
        return (self.step(u, mu) - u) / jnp.asarray(self.dt, u.dtype)


def from_stepper(stepper, dt: float, *, n_steps: int = 100) -> StepperResidual:
    """Wrap an exponax stepper (or any object with exponax's attributes) as a solver.

    The stepper must be callable on a state ``(C, N, ..., N)`` and expose
    ``num_spatial_dims``, ``num_points``, ``num_channels`` and ``domain_extent``
    (all exponax steppers do). Exponax is an optional dependency (extra ``solvers``);
    this function does not import it.

    Args:
        stepper: the one-step map ``u_{n+1} = step(u_n)``.
        dt: its time step (> 0), the one the stepper was built with.
        n_steps: stored states of a default rollout.

    Returns:
        a :class:`StepperResidual` with ``residual(u, mu) = (step(u) - u) / dt``.

    References:
        Koehler et al., "APEBench: A Benchmark for Autoregressive Neural Emulators of PDEs"
        (exponax), NeurIPS 2024; Hosseini Dashtbayaz et al., NeurIPS 2025.
    """
    from ..._validate import check_positive_float, check_positive_int

    if not callable(stepper):
        raise TypeError(f"stepper must be callable, got {type(stepper).__name__}")
    dt = check_positive_float(dt, "dt")
    n_steps = check_positive_int(n_steps, "n_steps")
    missing = [a for a in ("num_spatial_dims", "num_points", "num_channels", "domain_extent")
               if not hasattr(stepper, a)]
    if missing:
        raise TypeError(f"stepper must expose {', '.join(missing)} (an exponax stepper)")
    solver = StepperResidual(stepper, dt, n_steps, int(stepper.num_channels),
                             int(stepper.num_spatial_dims), int(stepper.num_points),
                             float(stepper.domain_extent))
    u = jax.ShapeDtypeStruct(solver.state_shape, jnp.float32)
    check_residual_shape(solver.step, u, 0.0, name="stepper")
    return solver
