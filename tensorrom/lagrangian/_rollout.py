"""Autoregressive rollouts with ``lax.scan``."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp

from .._validate import check_positive_int
from ._graph_ops import RadiusGraphBuilder

__all__ = ["rollout", "constant_velocity_rollout"]


def _check_initial(initial, n_history: int):
    x = jnp.asarray(initial)
    if x.ndim != 3:
        raise ValueError(f"initial must have shape (n_history + 1, n_particles, dim), got "
                         f"{tuple(x.shape)}")
    if x.shape[0] < n_history + 1:
        raise ValueError(f"initial holds {x.shape[0]} frames, shorter than the model's history "
                         f"window n_history + 1 = {n_history + 1}")
    return x[x.shape[0] - (n_history + 1):]


@eqx.filter_jit
def _scan(model, builder, history, n_steps: int):
    def body(hist, _):
        graph = builder(hist[-1])
        x = model.step(hist, graph)
        return jnp.concatenate([hist[1:], x[None].astype(hist.dtype)]), (x, graph.overflow)

    _, (xs, overflow) = jax.lax.scan(body, history, None, length=n_steps)
    return xs, jnp.any(overflow)


def rollout(model, initial, n_steps: int, *, builder: RadiusGraphBuilder,
            check_overflow: bool = True):
    """Roll a stepper (:class:`GNS` or :class:`GIOROM`) forward ``n_steps`` frames.

    Each step builds the radius graph of the current positions with ``builder`` (inside the
    scan), predicts the acceleration and integrates ``x_{t+1} = 2 x_t - x_{t-1} + a_t``.

    Args:
        model: stepper with ``n_history`` and ``step(history, graph)``.
        initial: (>= H + 1, N, d) known positions; the last H + 1 frames start the rollout.
        n_steps: number of frames to predict.
        builder: radius-graph builder (radius, box, capacity) for these particles.
        check_overflow: raise RuntimeError when some graph overflowed its capacity.

    Returns:
        (n_steps, N, d) predicted positions (the model's dtype).
    """
    n_steps = check_positive_int(n_steps, "n_steps")
    hist = _check_initial(initial, model.n_history).astype(model.dtype)
    xs, overflow = _scan(model, builder, hist, n_steps)
    if check_overflow and bool(overflow):
        raise RuntimeError("a radius graph overflowed its capacity during the rollout; build "
                           "the RadiusGraphBuilder with a larger margin")
    return xs


def constant_velocity_rollout(initial, n_steps: int):
    """Baseline ``x_{t+1} = 2 x_t - x_{t-1}`` (every particle keeps its last velocity).

    Args:
        initial: (>= 2, N, d) known positions. n_steps: frames to predict.

    Returns:
        (n_steps, N, d) positions.
    """
    n_steps = check_positive_int(n_steps, "n_steps")
    x = _check_initial(initial, 1)
    v = x[-1] - x[-2]
    k = jnp.arange(1, n_steps + 1, dtype=x.dtype)[:, None, None]
    return x[-1][None] + k * v[None]
