"""Autoregressive rollouts with ``lax.scan``."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._validate import check_finite, check_positive_int
from ._graph_ops import RadiusGraphBuilder

__all__ = ["rollout", "constant_velocity_rollout", "one_step_acceleration_error"]


def _check_initial(initial, n_history: int):
    x = jnp.asarray(initial)
    if x.ndim != 3:
        raise ValueError(f"initial must have shape (n_history + 1, n_particles, dim), got "
                         f"{tuple(x.shape)}")
    if x.shape[0] < n_history + 1:
        raise ValueError(f"initial holds {x.shape[0]} frames, shorter than the model's history "
                         f"window n_history + 1 = {n_history + 1}")
    x = x[x.shape[0] - (n_history + 1):]
    check_finite(x, "initial")
    return x


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

    Raises:
        ValueError: ``initial`` malformed or not finite.
        RuntimeError: a predicted frame is not finite (the model diverged), or a graph
            overflowed (``check_overflow``).
    """
    n_steps = check_positive_int(n_steps, "n_steps")
    hist = _check_initial(initial, model.n_history).astype(model.dtype)
    xs, overflow = _scan(model, builder, hist, n_steps)
    finite = np.asarray(jnp.all(jnp.isfinite(xs), axis=(1, 2)))
    if not finite.all():
        k = int(np.argmin(finite))
        raise RuntimeError(f"the rollout diverged: step {k + 1} of {n_steps} has non-finite "
                           "positions (the model's predictions blew up from a finite history)")
    if check_overflow:
        _raise_on_overflow(overflow, "during the rollout")
    return xs


def _raise_on_overflow(overflow, where: str) -> None:
    if bool(jnp.any(overflow)):
        raise RuntimeError(f"a radius graph overflowed its capacity {where}; build the "
                           f"RadiusGraphBuilder with a larger margin")


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


@eqx.filter_jit
def _one_step(model, builder, windows):
    def one(w):
        graph = builder(w[-2])
        x = model.step(w[:-1], graph)
        return x - 2 * w[-2] + w[-3], w[-1] - 2 * w[-2] + w[-3], graph.overflow

    return jax.lax.map(one, windows)


def one_step_acceleration_error(model, trajectory, *, builder: RadiusGraphBuilder,
                                start: int | None = None, n_frames: int = 20,
                                check_overflow: bool = True) -> dict:
    """One-step acceleration error of a stepper given the true history, split into the
    mean over the particles (a drift of the body as a whole) and each particle's deviation
    from that mean (a change of shape).

    For each frame ``t = start, ..., start + n_frames - 1`` the model gets the true frames
    ``t - n_history .. t`` and predicts ``x_{t+1}``; its acceleration
    ``a = x_{t+1} - 2 x_t + x_{t-1}`` (per frame², as the models predict it) is compared
    with the true ``x_{t+1} - 2 x_t + x_{t-1}``.

    Args:
        model: stepper with ``n_history`` and ``step(history, graph)`` (:class:`GNS`,
            :class:`GIOROM`).
        trajectory: (T, N, d) true positions (for GIOROM: of its sparse particles).
        builder: radius-graph builder for these particles.
        start: first predicted-from frame (default and minimum ``n_history``).
        n_frames: number of one-step predictions.
        check_overflow: raise RuntimeError when a radius graph overflowed its capacity.

    Returns:
        ``{"mean_error": (n_frames, d), "true_mean": (n_frames, d), "deviation": float}``:
        the particle mean of ``a_pred - a_true`` and of ``a_true`` per frame, and the rms
        over frames and particles of ``|(a_pred - a_true) - mean_error|``, all in position
        units per frame² (NumPy float64).
    """
    H = model.n_history
    x = jnp.asarray(trajectory)
    if x.ndim != 3:
        raise ValueError(f"trajectory must have shape (T, n_particles, dim), got "
                         f"{tuple(x.shape)}")
    n_frames = check_positive_int(n_frames, "n_frames")
    # at least n_history earlier frames
    start = H if start is None else check_positive_int(start, "start", minimum=H)
    if start + n_frames + 1 > x.shape[0]:
        raise ValueError(f"start + n_frames = {start + n_frames} needs {start + n_frames + 1} "
                         f"frames, the trajectory has {x.shape[0]}")
    x = x.astype(model.dtype)
    idx = jnp.arange(start, start + n_frames)[:, None] + jnp.arange(-H, 2)[None]
    pred, true, overflow = _one_step(model, builder, x[idx])
    if check_overflow:
        _raise_on_overflow(overflow, "in a one-step prediction")
    err = np.asarray(pred, np.float64) - np.asarray(true, np.float64)
    mean = err.mean(axis=1)
    dev = err - mean[:, None]
    return {"mean_error": mean, "true_mean": np.asarray(true, np.float64).mean(axis=1),
            "deviation": float(np.sqrt(np.mean(np.sum(dev ** 2, axis=-1))))}
