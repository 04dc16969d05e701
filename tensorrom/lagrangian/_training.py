"""Training drivers: optax, jit-compiled steps, optional push-forward unrolls, atomic resumable
checkpoints and tqdm progress bars.

Training runs in the model's dtype (float32 by default: the GNS/GIOROM papers train in single
precision and it halves memory; the data are cast to it). Checkpoints hold
``equinox.tree_serialise_leaves((model, opt_state))`` plus a JSON sidecar with the model's
constructor arguments, the step and the loss history; both are written to a temporary name and
renamed with ``os.replace``, so an interrupted run never leaves a half-written checkpoint. A
run restarted with the same arguments resumes from the last checkpoint and, because the PRNG
key of step ``k`` is ``fold_in(key, k)``, draws the same batches as an uninterrupted run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from .._atomic import write_json_atomic, write_leaves_atomic
from .._validate import check_finite, check_positive_float, check_positive_int
from ..data import Trajectory
from ._giorom import subset_indices
from ._graph_ops import RadiusGraphBuilder
from ._sparse_to_dense import SparseToDense, SparseToDensePlan

__all__ = ["TrainLog", "stack_positions", "split_trajectories", "train_stepper",
           "train_sparse_to_dense", "save_checkpoint", "load_checkpoint"]

_FROZEN = ("normalisation", "box_lower", "box_upper", "scale")


@dataclass
class TrainLog:
    """Loss per step (``losses``), the step reached, and whether the run resumed."""

    losses: list = field(default_factory=list)
    step: int = 0
    resumed_from: int | None = None


def stack_positions(trajectories: Any, *, dtype=np.float32) -> np.ndarray:
    """Stack Trajectories (or (T, N, d) arrays) into (n_traj, T, N, d).

    Raises:
        ValueError: when the trajectories differ in frame or particle count (mismatched
            particle counts) or dimension.
    """
    items = list(trajectories) if isinstance(trajectories, (list, tuple)) else [trajectories]
    if not items:
        raise ValueError("trajectories must hold at least one trajectory")
    arrs = [np.asarray(t.positions if isinstance(t, Trajectory) else t) for t in items]
    for i, a in enumerate(arrs):
        if a.ndim != 3:
            raise ValueError(f"trajectories[{i}] must have shape (T, N, d), got {a.shape}")
        if a.shape != arrs[0].shape:
            raise ValueError(f"trajectories[{i}] has shape {a.shape}, trajectories[0] has "
                             f"{arrs[0].shape}: all must share frames and particle counts")
    return np.stack(arrs).astype(dtype)


def split_trajectories(n_trajectories: int, n_test: int, *, seed: int = 0
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Disjoint train / test trajectory indices (a random permutation split).

    Returns:
        (train_ids, test_ids), sorted, disjoint, together ``0 .. n_trajectories - 1``.
    """
    n = check_positive_int(n_trajectories, "n_trajectories", minimum=2)
    k = check_positive_int(n_test, "n_test")
    if k >= n:
        raise ValueError(f"n_test must be smaller than n_trajectories={n}, got {k}")
    perm = np.random.default_rng(seed).permutation(n)
    return np.sort(perm[k:]), np.sort(perm[:k])


def _trainable(model):
    spec = jax.tree_util.tree_map(eqx.is_inexact_array, model)
    for name in _FROZEN:
        if hasattr(model, name):
            spec = eqx.tree_at(lambda m, n=name: getattr(m, n), spec,
                               replace_fn=lambda sub: jax.tree_util.tree_map(lambda _: False,
                                                                             sub))
    return spec


def save_checkpoint(path: str | Path, model, opt_state, step: int, extra: dict | None = None
                    ) -> Path:
    """Write ``path`` (leaves) and ``path.json`` (sidecar) atomically (tmp file + os.replace)."""
    path = write_leaves_atomic(path, (model, opt_state))
    meta = {"step": int(step),
            "hyperparameters": model.hyperparameters() if hasattr(model, "hyperparameters")
            else {}}
    meta.update(extra or {})
    write_json_atomic(path.with_name(path.name + ".json"), meta)
    return path


def load_checkpoint(path: str | Path, model, opt_state):
    """Read a checkpoint written by :func:`save_checkpoint` into the structure of
    ``(model, opt_state)``; returns ``(model, opt_state, sidecar dict)``."""
    path = Path(path)
    side = path.with_name(path.name + ".json")
    if not path.exists() or not side.exists():
        raise ValueError(f"checkpoint {path} (or its sidecar {side.name}) does not exist")
    meta = json.loads(side.read_text())
    want = model.hyperparameters() if hasattr(model, "hyperparameters") else {}
    if meta.get("hyperparameters", want) != want:
        raise ValueError(f"checkpoint {path} was written for other hyperparameters: "
                         f"{meta.get('hyperparameters')} != {want}")
    model, opt_state = eqx.tree_deserialise_leaves(path, (model, opt_state))
    return model, opt_state, meta


def _noise(key, n_history: int, shape, std: float, dtype):
    """Random-walk position noise (H + 1, N, d): velocity noise std ``std / sqrt(H)`` per
    frame, accumulated, so the last velocity carries noise of std ``std``."""
    if std == 0.0:
        return jnp.zeros((n_history + 1,) + shape, dtype)
    dv = jax.random.normal(key, (n_history,) + shape, dtype) * float(std / np.sqrt(n_history))
    return jnp.concatenate([jnp.zeros((1,) + shape, dtype), jnp.cumsum(dv, axis=0)])


def _pointwise_loss(r, loss: str, delta: float):
    """Per-component loss of the normalised acceleration residual ``r``."""
    if loss == "huber":
        return optax.huber_loss(r, delta=delta) / delta
    return r**2


def _sample_loss(model, builder, window, key, *, noise_std, pushforward, subset_size,
                 subset_method, loss="mse", huber_delta=1.0):
    H = model.n_history
    kn, ks = jax.random.split(key)
    if subset_size is not None:
        idx = subset_indices(window[H], subset_size, method=subset_method, key=ks)
        window = window[:, idx]
    hist = window[: H + 1]
    noise = _noise(kn, H, hist.shape[1:], noise_std, hist.dtype)
    hist = hist + noise
    overflow = jnp.zeros((), bool)
    for _j in range(pushforward):
        g = builder(hist[-1])
        overflow = overflow | g.overflow
        x = model.step(hist, g)
        hist = jax.lax.stop_gradient(jnp.concatenate([hist[1:], x[None]]))
    target = window[H + 1 + pushforward]
    if pushforward == 0:
        target = target + noise[-1]
    acc = target - 2 * hist[-1] + hist[-2]
    norm = jax.lax.stop_gradient(model.normalisation)
    acc_n = (acc - norm.acc_mean) / norm.acc_std
    g = builder(hist[-1])
    pred = model.normalised_acceleration(hist, g)
    return jnp.mean(_pointwise_loss(pred - acc_n, loss, huber_delta)), overflow | g.overflow


@eqx.filter_jit
def _stepper_train_step(model, opt_state, data, key, optimizer, builder, spec, config):
    """One jitted optimisation step (module level, so repeated runs share the compilation)."""
    batch_size, W, noise_std, pushforward, subset_size, subset_method, loss, delta = config
    n_traj, T, N, d = data.shape
    kb, kt, ks = jax.random.split(key, 3)
    b = jax.random.randint(kb, (batch_size,), 0, n_traj, dtype=jnp.int32)
    t0 = jax.random.randint(kt, (batch_size,), 0, T - W + 1, dtype=jnp.int32)
    zero = jnp.zeros((), jnp.int32)
    windows = jax.vmap(lambda bi, ti: jax.lax.dynamic_slice(
        data, (bi, ti, zero, zero), (1, W, N, d))[0])(b, t0)
    params, static = eqx.partition(model, spec)

    def loss_fn(params):
        m = eqx.combine(params, static)
        losses, overflow = jax.vmap(
            lambda w, k: _sample_loss(m, builder, w, k, noise_std=noise_std,
                                      pushforward=pushforward, subset_size=subset_size,
                                      subset_method=subset_method, loss=loss,
                                      huber_delta=delta))(
            windows, jax.random.split(ks, batch_size))
        return jnp.mean(losses), jnp.any(overflow)

    (loss, overflow), grads = jax.value_and_grad(loss_fn, has_aux=True)(params)
    # optax mixes Python floats with its int32 step count; scoped standard promotion keeps it
    # working when the caller runs with strict promotion (as the tests do)
    with jax.numpy_dtype_promotion("standard"):
        updates, opt_state = optimizer.update(grads, opt_state, params)
    params = eqx.apply_updates(params, updates)
    return eqx.combine(params, static), opt_state, loss, overflow


def train_stepper(model, trajectories: Any, *, builder: RadiusGraphBuilder, steps: int,
                  key, batch_size: int = 2, optimizer=None, learning_rate: float = 1e-3,
                  noise_std: float = 3e-4, pushforward: int = 0,
                  subset_size: int | None = None, subset_method: str = "fps",
                  loss: str = "mse", huber_delta: float = 1.0,
                  checkpoint: str | Path | None = None, checkpoint_every: int = 200,
                  progress: bool = False):
    """Train a :class:`GNS` or :class:`GIOROM` stepper on normalised accelerations.

    Each step draws ``batch_size`` windows of ``H + 2 + pushforward`` consecutive frames from
    random trajectories, adds random-walk noise to the input history (GNS), optionally keeps a
    random sparse subset of ``subset_size`` particles per sample (GIOROM: farthest-point or
    random sampling, a new subset for every sample), optionally unrolls the model
    ``pushforward`` steps without gradient, and minimises
    ``mean |a_pred - (a_target - mu_a) / sigma_a|^2`` (``loss="mse"``, as in GNS) or its
    Huber form (``loss="huber"``: ``r^2 / 2`` up to ``|r| = huber_delta`` standard deviations,
    linear beyond, all divided by ``huber_delta``, so that the slope of the linear part is 1
    for every ``huber_delta``). The logged losses are those of the chosen loss.

    Why a Huber loss: on MPM flows the per-frame accelerations are heavy-tailed (in the
    2D sand blocks of ``examples/giorom_sand.py``, 1 % of the particle frames, the floor and
    wall impacts, carry 61-73 % of the variance). With the squared loss those samples
    dominate the gradient: a GNS trained for 2500 steps (Adam from 1e-3) had still not learnt
    free fall (it predicted 0.1 g), with the Huber loss it had (0.94 g after 1500 steps;
    docs/log/giorom.md, tenth session). The default stays the paper's squared loss.

    Args:
        model: GNS or GIOROM (its ``normalisation`` is used for the targets).
        trajectories: list of Trajectories / (T, N, d) arrays (same shape) or a stacked
            (n_traj, T, N, d) array.
        builder: jit-able radius graph for the (sub)sampled particles.
        steps: total optimisation steps (a resumed run continues up to ``steps``).
        key: PRNG key.
        batch_size: windows per step.
        optimizer: an optax optimiser (default ``adam`` with a cosine decay from
            ``learning_rate`` to 1 % of it).
        noise_std: random-walk noise std on the last input velocity (position units).
        pushforward: unrolled steps without gradient before the loss (0: plain one-step).
        subset_size: train on random sparse subsets of this size (None: all particles).
        subset_method: "fps" or "random".
        loss: "mse" (the GNS paper's squared loss) or "huber".
        huber_delta: where the Huber loss turns linear, in normalised units (> 0).
        checkpoint: checkpoint file path (None: no checkpoints); resumed when it exists.
        checkpoint_every: steps between checkpoints (also written at the end).
        progress: show a tqdm bar.

    Returns:
        (trained model, TrainLog).
    """
    steps = check_positive_int(steps, "steps")
    batch_size = check_positive_int(batch_size, "batch_size")
    noise_std = check_positive_float(noise_std, "noise_std", allow_zero=True)
    pushforward = check_positive_int(pushforward, "pushforward", minimum=0)
    if loss not in ("mse", "huber"):
        raise ValueError(f"loss must be 'mse' or 'huber', got {loss!r}")
    huber_delta = check_positive_float(huber_delta, "huber_delta")
    learning_rate = check_positive_float(learning_rate, "learning_rate")
    data = trajectories
    if not (hasattr(data, "ndim") and data.ndim == 4):
        data = stack_positions(trajectories, dtype=np.dtype(model.dtype))
    data = jnp.asarray(data, model.dtype)
    check_finite(data, "trajectories")
    n_traj, T, N, d = data.shape
    if d != model.dim:
        raise ValueError(f"trajectories have dim {d} but the model has dim {model.dim}")
    W = model.n_history + 2 + pushforward
    if T < W:
        raise ValueError(f"trajectories hold {T} frames, shorter than the training window "
                         f"n_history + 2 + pushforward = {W}")
    if subset_size is not None:
        subset_size = check_positive_int(subset_size, "subset_size")
        if subset_size > N:
            raise ValueError(f"subset_size={subset_size} exceeds the number of particles {N}")
        if subset_method not in ("fps", "random"):
            raise ValueError(f"subset_method must be 'fps' or 'random', got {subset_method!r}")
    if optimizer is None:
        lr = optax.cosine_decay_schedule(learning_rate, steps, alpha=0.01)
        optimizer = optax.adam(lr)
    spec = _trainable(model)
    params, static = eqx.partition(model, spec)
    opt_state = optimizer.init(params)
    log = TrainLog()
    start = 0
    if checkpoint is not None and Path(checkpoint).exists():
        model, opt_state, meta = load_checkpoint(checkpoint, model, opt_state)
        start = int(meta["step"])
        log.losses = list(meta.get("losses", []))
        log.resumed_from = start

    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=steps, initial=start, desc=f"train {type(model).__name__}")
    for step in range(start, steps):
        model, opt_state, loss, overflow = _stepper_train_step(
            model, opt_state, data, jax.random.fold_in(key, step), optimizer, builder, spec,
            (batch_size, W, noise_std, pushforward, subset_size, subset_method, loss,
             huber_delta))
        if bool(overflow):
            raise RuntimeError(f"step {step}: a radius graph overflowed its capacity "
                               f"({builder.capacity} edges, {builder.max_per_cell} per cell); "
                               "build the RadiusGraphBuilder with a larger margin")
        log.losses.append(float(loss))
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{float(loss):.3g}")
        if checkpoint is not None and ((step + 1) % checkpoint_every == 0 or step + 1 == steps):
            save_checkpoint(checkpoint, model, opt_state, step + 1, {"losses": log.losses})
    if bar is not None:
        bar.close()
    log.step = steps
    return model, log


def _subset_plans(op: SparseToDense, positions: np.ndarray, n_sparse: int, n_plans: int,
                  method: str, seed: int, max_neighbours: int):
    from ..data import farthest_point_sample

    rng = np.random.default_rng(seed)
    plans, idxs, trajs = [], [], []
    for j in range(positions.shape[0]):
        ref = positions[j, 0].astype(np.float64)
        N = ref.shape[0]
        for p in range(n_plans):
            if method == "stride":
                idx = np.arange(p % max(1, N // n_sparse), N, max(1, N // n_sparse))[:n_sparse]
            elif method == "fps":
                idx = farthest_point_sample(ref, n_sparse, seed=int(rng.integers(2**31)))
            else:
                idx = rng.choice(N, n_sparse, replace=False)
            plans.append(op.plan(ref[idx], ref, max_neighbours=max_neighbours))
            idxs.append(np.asarray(idx, np.int32))
            trajs.append(j)
    stacked = jax.tree_util.tree_map(lambda *a: np.stack(a), *plans)
    return stacked, np.stack(idxs), np.asarray(trajs, np.int32)


def train_sparse_to_dense(op: SparseToDense, trajectories: Any, *, n_sparse: int, steps: int,
                          key, batch_size: int = 8, n_plans: int = 4,
                          method: str = "random", max_neighbours: int = 16,
                          optimizer=None, learning_rate: float = 1e-3,
                          checkpoint: str | Path | None = None, checkpoint_every: int = 200,
                          progress: bool = False, queries_per_sample: int | None = None):
    """Train a :class:`SparseToDense` operator to reconstruct all particles from subsets.

    For every trajectory ``n_plans`` subsets of ``n_sparse`` particles are drawn in the
    reference configuration (``method``: "random", "fps" or "stride" = every k-th particle);
    a step samples ``batch_size`` (subset, frame) pairs and minimises the mean squared
    displacement error ``|u_pred - u_true|^2 / s^2`` over all particles, or over
    ``queries_per_sample`` of them drawn at random per pair (a cheaper sample, so that a
    larger batch covers more frames and subsets for the same cost).

    Returns:
        (trained operator, TrainLog).
    """
    steps = check_positive_int(steps, "steps")
    batch_size = check_positive_int(batch_size, "batch_size")
    n_plans = check_positive_int(n_plans, "n_plans")
    if method not in ("random", "fps", "stride"):
        raise ValueError(f"method must be 'random', 'fps' or 'stride', got {method!r}")
    data = trajectories
    if not (hasattr(data, "ndim") and data.ndim == 4):
        data = stack_positions(trajectories, dtype=np.float64)
    data = np.asarray(data, np.float64)
    n_traj, T, N, d = data.shape
    n_sparse = check_positive_int(n_sparse, "n_sparse")
    if n_sparse > N:
        raise ValueError(f"n_sparse={n_sparse} exceeds the number of particles {N}")
    if queries_per_sample is not None:
        queries_per_sample = check_positive_int(queries_per_sample, "queries_per_sample")
        if queries_per_sample > N:
            raise ValueError(f"queries_per_sample={queries_per_sample} exceeds the number of "
                             f"particles {N}")
    plans, idxs, trajs = _subset_plans(op, data, n_sparse, n_plans, method, 0, max_neighbours)
    plans = plans.to_device(op.dtype)
    dev = jnp.asarray(data, op.dtype)
    idxs, trajs = jnp.asarray(idxs), jnp.asarray(trajs)
    if optimizer is None:
        optimizer = optax.adam(optax.cosine_decay_schedule(learning_rate, steps, alpha=0.01))
    spec = _trainable(op)
    opt_state = optimizer.init(eqx.filter(op, spec))
    log = TrainLog()
    start = 0
    if checkpoint is not None and Path(checkpoint).exists():
        op, opt_state, meta = load_checkpoint(checkpoint, op, opt_state)
        start = int(meta["step"])
        log.losses = list(meta.get("losses", []))
        log.resumed_from = start
    n_total = int(idxs.shape[0])

    def one(m, plan, idx, j, t, kq):
        frame = dev[j, t]
        target = frame
        if queries_per_sample is not None:
            rows = jax.random.choice(kq, N, (queries_per_sample,), replace=False)
            plan = plan.select_queries(rows)
            target = frame[rows]
        pred = m(frame[idx], plan)
        s = jax.lax.stop_gradient(m.scale)
        return jnp.mean(((pred - target) / s) ** 2)

    @eqx.filter_jit
    def train_step(op, opt_state, plans, k):
        kp, kt, kq = jax.random.split(k, 3)
        p = jax.random.randint(kp, (batch_size,), 0, n_total)
        t = jax.random.randint(kt, (batch_size,), 1, T)
        kqs = jax.random.split(kq, batch_size)
        sel = jax.tree_util.tree_map(lambda a: a[p], plans)
        params, static = eqx.partition(op, spec)

        def loss_fn(params):
            m = eqx.combine(params, static)
            return jnp.mean(jax.vmap(lambda pl, i, j, tt, kk: one(m, pl, i, j, tt, kk))(
                sel, idxs[p], trajs[p], t, kqs))

        loss, grads = jax.value_and_grad(loss_fn)(params)
        # optax mixes Python floats with its int32 step count; scoped standard promotion
        # keeps it working when the caller runs with strict promotion (as the tests do)
        with jax.numpy_dtype_promotion("standard"):
            updates, opt_state = optimizer.update(grads, opt_state, params)
        return eqx.combine(eqx.apply_updates(params, updates), static), opt_state, loss

    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=steps, initial=start, desc="train SparseToDense")
    # the losses stay on the device between flushes, so that a GPU is not made to wait for
    # the host after every step
    pending = []

    def flush():
        if pending:
            log.losses.extend(float(v) for v in jax.device_get(jnp.stack(pending)))
            pending.clear()
            if bar is not None:
                bar.set_postfix(loss=f"{log.losses[-1]:.3g}")

    for step in range(start, steps):
        op, opt_state, loss = train_step(op, opt_state, plans, jax.random.fold_in(key, step))
        pending.append(loss)
        if bar is not None:
            bar.update(1)
        if len(pending) == 50:
            flush()
        if checkpoint is not None and ((step + 1) % checkpoint_every == 0 or step + 1 == steps):
            flush()
            save_checkpoint(checkpoint, op, opt_state, step + 1, {"losses": log.losses})
    flush()
    if bar is not None:
        bar.close()
    log.step = steps
    return op, log


def plan_for(op: SparseToDense, reference_positions: Any, sparse_index: Any, *,
             query: Any = None, max_neighbours: int = 16) -> SparseToDensePlan:
    """Plan from the full reference frame, the sparse indices and the query points (default:
    all particles)."""
    ref = np.asarray(reference_positions, np.float64)
    q = ref if query is None else np.asarray(query, np.float64)
    return op.plan(ref[np.asarray(sparse_index)], q, max_neighbours=max_neighbours)
