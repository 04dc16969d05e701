"""Training Phi-ROM (and its DINo / PINN variants): one jit-compiled optimiser step."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from tqdm.auto import tqdm

from ..._atomic import write_json_atomic, write_leaves_atomic
from ..._validate import check_finite, check_positive_int
from ..solvers._base import check_residual_shape
from ._model import PhiROM, latent_velocity

__all__ = ["TrainConfig", "TrainResult", "train", "make_optimizer", "load_checkpoint",
           "save_checkpoint", "trace_count"]

_MODES = ("phirom", "dino", "pinn")
_TRACES = {"train_step": 0}


def trace_count(name: str = "train_step") -> int:
    """How many times the jit-compiled function ``name`` has been traced in this process."""
    return _TRACES[name]


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters of :func:`train` (defaults: the paper's Burgers configuration).

    Attributes:
        mode: ``"phirom"`` (latent velocity ``J^+ R(D(z); mu)`` from the solver, default),
            ``"dino"`` (data-only: ``Psi`` fits one RK4 step between consecutive stored
            codes) or ``"pinn"`` (``J^+ r`` with the continuous residual ``r`` from autodiff
            spatial derivatives of the decoder; needs ``solver.pointwise_residual``).
        steps: optimiser steps.
        batch_size: snapshots per step (clipped to the number of snapshots).
        gamma: fraction of grid points used for the latent velocity, in (0, 1] (a fresh
            random subset for every snapshot of every step).
        lam: weight ``lambda`` of the dynamics gradient, in [0, 1]: the step follows
            ``(1 - lambda) grad L_rec + lambda grad L_dyn``.
        loss: ``"relative"`` (default): per-snapshot relative L2 norms, not squared,
            ``L_rec = mean_n |D(z_n) - u_n| / |u_n|`` and
            ``L_dyn = mean_n |Psi(z_n) - zdot*_n| / |zdot*_n|`` (denominators held constant);
            ``"mse"``: ``mean |D - u|^2 / scale^2`` and
            ``mean |Psi - zdot*|^2 / mean |zdot*|^2`` (batch means).
        tikhonov: relative Tikhonov weight of the least squares (see ``latent_velocity``).
        warmup_steps: first steps in which the dynamics loss trains ``Psi`` only: its
            gradient with respect to the decoder and the latent memory is cut, so the
            codes and the decoder first fit the data (default 1000).
        warmup_ramp: steps over which that gradient is then switched on linearly: at step
            ``warmup_steps + j`` it is multiplied by ``min(1, (j + 1) / warmup_ramp)``
            (default 2000; 0: switched on at once, as in the authors' code). At the end of
            the warm-up the dynamics gradient to the codes is ~100x the reconstruction
            gradient; switched on at once it dominates every component of the step and
            the Burgers reconstruction error jumps from 0.9 % to 55 % (with Adam's moments
            reset as well), and recovers only to 3 % by step 5000; with a 300-step ramp it
            stays below 6.3 %. Over five seeds of the 5000-step Burgers benchmark a
            2000-step ramp gave lower forecast errors than 300 steps (mean 2.14 / 2.95 %
            against 2.41 / 3.03 %; docs/log/phirom.md).
        lr: peak learning rate of the networks; ``lr_latent`` that of the latent memory.
        lr_schedule: ``"exponential"`` (default): ``lr * lr_decay_rate ** floor(step /
            lr_decay_every)``, never below ``lr_end``; ``"cosine"``: cosine decay over
            ``steps`` to ``lr_decay * lr``.
        lr_decay_rate, lr_decay_every, lr_end: the exponential staircase.
        lr_decay: final / peak learning rate of the cosine schedule (1 = constant).
        lr_warmup: steps of linear learning-rate warm-up (cosine schedule only).
        weight_decay: decoupled weight decay (AdamW) on the networks and the latent memory.
        mu_augment: fraction of each batch, in [0, 1), whose dynamics target is taken at a
            random parameter ``mu'`` instead of the snapshot's own (modes ``"phirom"`` and
            ``"pinn"`` only; default 0, the paper's training). The target
            ``J^+ R(D(z_n); mu')`` is the exact latent velocity of the state ``D(z_n)``
            under ``mu'``, so the solver supervises ``Psi`` between and beyond the training
            parameters at no extra cost per step; these samples train ``Psi`` only (their
            dynamics gradient to the codes and the decoder is cut). Our extension, not the
            paper's. On the Burgers benchmark (seeds 2-4, 0.5, docs/log/phirom.md) it lowered
            the error within the horizon and at the extrapolated mu; beyond the horizon
            at the interior mu it was unchanged or higher.
        mu_range: ``(low, high)`` box from which ``mu'`` is drawn uniformly, each a scalar
            or a ``(p,)`` sequence in the units of ``mu`` (default None: the training
            parameters' range).
        max_nan_steps: abort (RuntimeError) after this many skipped non-finite steps.
        seed: PRNG seed of the batches and point samples.
        checkpoint_every: steps between checkpoints (when a directory is given).
    """

    mode: str = "phirom"
    steps: int = 5000
    batch_size: int = 800
    gamma: float = 0.1
    lam: float = 0.5
    loss: str = "relative"
    tikhonov: float = 1e-6
    warmup_steps: int = 1000
    warmup_ramp: int = 2000
    lr: float = 5e-3
    lr_latent: float = 5e-3
    lr_schedule: str = "exponential"
    lr_decay_rate: float = 0.985
    lr_decay_every: int = 50
    lr_end: float = 1e-6
    lr_decay: float = 0.1
    lr_warmup: int = 0
    weight_decay: float = 1e-4
    mu_augment: float = 0.0
    mu_range: Any = None
    max_nan_steps: int = 100
    seed: int = 0
    checkpoint_every: int = 500

    def __post_init__(self):
        if self.mode not in _MODES:
            raise ValueError(f"mode must be one of {_MODES}, got {self.mode!r}")
        check_positive_int(self.steps, "steps")
        check_positive_int(self.batch_size, "batch_size")
        if not (isinstance(self.gamma, (int, float)) and 0.0 < self.gamma <= 1.0):
            raise ValueError(f"gamma must be in (0, 1], got {self.gamma!r}")
        if not (isinstance(self.lam, (int, float)) and 0.0 <= self.lam <= 1.0):
            raise ValueError(f"lam must be in [0, 1], got {self.lam!r}")
        if self.loss not in ("relative", "mse"):
            raise ValueError(f"loss must be 'relative' or 'mse', got {self.loss!r}")
        if self.lr_schedule not in ("exponential", "cosine"):
            raise ValueError(f"lr_schedule must be 'exponential' or 'cosine', got "
                             f"{self.lr_schedule!r}")
        if not (0 < self.lr_decay_rate <= 1):
            raise ValueError(f"lr_decay_rate must be in (0, 1], got {self.lr_decay_rate!r}")
        check_positive_int(self.lr_decay_every, "lr_decay_every")
        if not (self.lr_end >= 0):
            raise ValueError(f"lr_end must be >= 0, got {self.lr_end!r}")
        if not (self.weight_decay >= 0):
            raise ValueError(f"weight_decay must be >= 0, got {self.weight_decay!r}")
        if not (self.tikhonov >= 0):
            raise ValueError(f"tikhonov must be >= 0, got {self.tikhonov!r}")
        check_positive_int(self.warmup_steps, "warmup_steps", minimum=0)
        check_positive_int(self.warmup_ramp, "warmup_ramp", minimum=0)
        check_positive_int(self.lr_warmup, "lr_warmup", minimum=0)
        check_positive_int(self.checkpoint_every, "checkpoint_every")
        for n in ("lr", "lr_latent"):
            if not getattr(self, n) > 0:
                raise ValueError(f"{n} must be > 0, got {getattr(self, n)!r}")
        if not (0 < self.lr_decay <= 1):
            raise ValueError(f"lr_decay must be in (0, 1], got {self.lr_decay!r}")
        if not (isinstance(self.mu_augment, (int, float)) and 0.0 <= self.mu_augment < 1.0):
            raise ValueError(f"mu_augment must be in [0, 1), got {self.mu_augment!r}")
        if self.mu_augment > 0 and self.mode == "dino":
            raise ValueError("mu_augment needs a solver target: mode 'phirom' or 'pinn', "
                             "not 'dino'")
        if self.mu_range is not None:
            try:
                lo, hi = (np.asarray(b, np.float64) for b in self.mu_range)
            except (TypeError, ValueError):
                raise ValueError(f"mu_range must be a (low, high) pair, got "
                                 f"{self.mu_range!r}") from None
            if lo.ndim > 1 or hi.ndim > 1 or not (np.all(np.isfinite(lo))
                                                  and np.all(np.isfinite(hi))
                                                  and np.all(lo < hi)):
                raise ValueError(f"mu_range must be finite (low, high) with low < high, "
                                 f"each a scalar or a (p,) sequence, got {self.mu_range!r}")
            # hashable and JSON-friendly (checkpoint sidecars store the config)
            object.__setattr__(self, "mu_range", tuple(
                tuple(b.tolist()) if b.ndim else float(b) for b in (lo, hi)))


@dataclass
class TrainResult:
    """Outcome of :func:`train`: the model and per-step history (NumPy arrays)."""

    model: PhiROM
    loss_rec: np.ndarray
    loss_dyn: np.ndarray
    skipped: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))

    @property
    def nan_steps(self) -> int:
        """Number of steps skipped because the loss or a gradient was not finite."""
        return int(np.sum(self.skipped))


def _labels(model):
    lab = jax.tree.map(lambda _: "net", eqx.filter(model, eqx.is_inexact_array))
    lab = eqx.tree_at(lambda m: m.latents, lab, "latent")
    return eqx.tree_at(lambda m: (m.u_shift, m.u_scale, m.mu_shift, m.mu_scale), lab,
                       ("frozen",) * 4)


def make_optimizer(model: PhiROM, config: TrainConfig) -> optax.GradientTransformation:
    """AdamW with the configured schedule; separate peak rate for the latent memory.

    The normalisation arrays of the model are frozen. The transformation is cached per
    (schedule, model structure), so repeated :func:`train` calls reuse the compiled step.
    """
    struct = jax.tree.structure(eqx.filter(model, eqx.is_inexact_array))
    if config.lr_schedule == "exponential":
        sched = ("exponential", config.lr_decay_rate, config.lr_decay_every, config.lr_end)
    else:
        constant = config.lr_decay == 1 and config.lr_warmup == 0
        sched = ("cosine", None if constant else config.steps, config.lr_decay,
                 config.lr_warmup)
    return _cached_optimizer(config.lr, config.lr_latent, sched, config.weight_decay,
                             struct, model)


_OPT_CACHE: dict = {}


def _schedule(peak, sched):
    if sched[0] == "exponential":
        _, rate, every, end = sched
        if rate == 1:
            return peak
        return optax.exponential_decay(peak, every, rate, staircase=True,
                                       end_value=min(end, peak))
    _, steps, decay, warmup = sched
    if steps is None:
        return peak
    if warmup > 0:
        return optax.warmup_cosine_decay_schedule(peak * 1e-2, peak, warmup, steps,
                                                  peak * decay)
    return optax.cosine_decay_schedule(peak, steps, decay)


def _cached_optimizer(lr, lr_latent, sched, weight_decay, struct, model):
    k = (lr, lr_latent, sched, weight_decay, struct)
    if k in _OPT_CACHE:
        return _OPT_CACHE[k]

    def adam(peak):
        if weight_decay > 0:
            return optax.adamw(_schedule(peak, sched), weight_decay=weight_decay)
        return optax.adam(_schedule(peak, sched))

    opt = optax.multi_transform(
        {"net": adam(lr), "latent": adam(lr_latent), "frozen": optax.set_to_zero()},
        _labels(model))
    if len(_OPT_CACHE) > 32:
        _OPT_CACHE.clear()
    _OPT_CACHE[k] = opt
    return opt


# -- losses --------------------------------------------------------------------------------
def _scaled_grad(x, c):
    """``x`` in the forward pass, its gradient multiplied by ``c`` in the backward pass."""
    sg = jax.lax.stop_gradient(x)
    return sg + c * (x - sg)


def _norm(x, axis=-1):
    # sqrt with a floor far below float32 resolution: finite gradient at an exact zero
    return jnp.sqrt(jnp.sum(x * x, axis=axis) + jnp.asarray(1e-30, x.dtype))


def _dyn_target(model, solver, mode, z, mu, u_hat, points, idx, tikhonov, z_next, dt):
    """Latent velocity target for one snapshot."""
    if mode == "phirom":
        f = solver.to_points(solver.residual(solver.from_points(u_hat), mu))[idx].reshape(-1)
    else:  # pinn: continuous residual by autodiff of the decoder
        f = jax.vmap(lambda x: solver.pointwise_residual(lambda p: model.decode_point(z, p), x,
                                                         mu))(points[idx]).reshape(-1)
    jac = jax.jacfwd(lambda zz: model.decode(zz, points[idx]).reshape(-1))(z)
    return latent_velocity(jac, f, tikhonov=tikhonov)


def _loss(model, solver, mode, data, batch, idx, lam, couple, tikhonov, dt, loss_kind,
          mu_aug=None):
    u_all, mus, points = data
    ti, ni = batch
    z = model.latents[ti, ni]
    mu = mus[ti]
    u = u_all[ti, ni]
    dec = jax.vmap(lambda zz: model.decode(zz, points))(z)
    scale = jax.lax.stop_gradient(model.u_scale)
    if loss_kind == "relative":
        axes = tuple(range(1, dec.ndim))
        l_rec = jnp.mean(_norm(dec - u, axes) / _norm(u, axes))
    else:
        l_rec = jnp.mean(((dec - u) / scale) ** 2)
    if mode == "dino":
        n_t = model.latents.shape[1]
        nxt = jnp.minimum(ni + 1, n_t - 1)
        z0 = jax.lax.stop_gradient(z)
        z1 = jax.lax.stop_gradient(model.latents[ti, nxt])
        h = jnp.asarray(dt, z.dtype)

        def rk4(zz, m):
            k1 = model.velocity(zz, m)
            k2 = model.velocity(zz + 0.5 * h * k1, m)
            k3 = model.velocity(zz + 0.5 * h * k2, m)
            k4 = model.velocity(zz + h * k3, m)
            return zz + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)

        pred = jax.vmap(rk4)(z0, mu)
        mask = (ni + 1 < n_t).astype(z.dtype)[:, None]
        count = jnp.maximum(jnp.sum(mask) * z.shape[-1], 1.0)
        l_dyn = jnp.sum(mask * ((pred - z1) / h) ** 2) / count
        ref = jnp.sum(mask * ((z1 - z0) / h) ** 2) / count
        l_dyn = l_dyn / (ref + jnp.asarray(1e-12, z.dtype))
    else:
        # during the warm-up (couple = 0) the dynamics loss reaches Psi only: its gradient
        # through the codes, the decoded fields and the decoder Jacobian is cut
        if mu_aug is not None:
            # parameter augmentation: the last snapshots of the batch take the solver's
            # latent velocity of the same state under another mu and train Psi only (one
            # vmap over the whole batch: two independent branches made XLA's CPU runtime
            # hang at random in jaxlib 0.10)
            aug = jnp.arange(z.shape[0]) >= z.shape[0] - mu_aug.shape[0]
            mu = jnp.concatenate([mu[: z.shape[0] - mu_aug.shape[0]], mu_aug.astype(mu.dtype)])
            c = jnp.where(aug, jnp.zeros((), z.dtype), couple)
            cz, cd = c[:, None], c.reshape((-1,) + (1,) * (dec.ndim - 1))
        else:
            aug, cz, cd = None, couple, couple
        zd = _scaled_grad(z, cz)
        decd = _scaled_grad(dec, cd)
        md = eqx.tree_at(lambda m: m.decoder, model, jax.tree.map(
            lambda p: _scaled_grad(p, couple) if eqx.is_inexact_array(p) else p,
            model.decoder))
        target = jax.vmap(lambda zz, m, uh, ii: _dyn_target(
            md, solver, mode, zz, m, uh, points, ii, tikhonov, None, dt))(zd, mu, decd, idx)
        if aug is not None:
            # (the decoder's path into the augmented targets is cut here)
            target = jnp.where(aug[:, None], jax.lax.stop_gradient(target), target)
        pred = jax.vmap(model.velocity)(zd, mu)
        if loss_kind == "relative":
            ref = jax.lax.stop_gradient(_norm(target))
            l_dyn = jnp.mean(_norm(pred - target) / (ref + jnp.asarray(1e-12, z.dtype)))
        else:
            # relative to the batch's mean squared target: latent velocities are O(|z|/T),
            # far smaller than the normalised fields
            ref = jax.lax.stop_gradient(jnp.mean(target**2))
            l_dyn = jnp.mean((pred - target) ** 2) / (ref + jnp.asarray(1e-12, z.dtype))
    return (1.0 - lam) * l_rec + lam * l_dyn, (l_rec, l_dyn)


def _train_step_impl(model, opt_state, data, key, lam, couple, *, optimizer, solver, mode,
                     batch_size, n_sample, tikhonov, dt, loss_kind, n_aug=0, mu_box=None):
    _TRACES["train_step"] += 1
    n_traj, n_t = model.latents.shape[:2]
    if n_aug:
        # (only then a third stream: runs without augmentation keep their batches)
        kb, ks, km = jax.random.split(key, 3)
        lo, hi = (jnp.asarray(b, model.dtype) for b in mu_box)
        mu_aug = lo + (hi - lo) * jax.random.uniform(km, (n_aug, lo.shape[0]), model.dtype)
    else:
        kb, ks = jax.random.split(key)
        mu_aug = None
    flat = jax.random.permutation(kb, n_traj * n_t)[:batch_size]
    batch = (flat // n_t, flat % n_t)
    n_pts = data[2].shape[0]
    idx = jax.vmap(lambda k: jnp.sort(jax.random.permutation(k, n_pts)[:n_sample]))(
        jax.random.split(ks, batch_size))
    params, static = eqx.partition(model, eqx.is_inexact_array)

    def loss_fn(p):
        return _loss(eqx.combine(p, static), solver, mode, data, batch, idx, lam, couple,
                     tikhonov, dt, loss_kind, mu_aug)

    (loss, (l_rec, l_dyn)), grads = jax.value_and_grad(loss_fn, has_aux=True)(params)
    finite = jnp.isfinite(loss) & jnp.all(jnp.asarray(
        [jnp.all(jnp.isfinite(g)) for g in jax.tree.leaves(grads)]))
    grads = jax.tree.map(lambda g: jnp.where(finite, g, jnp.zeros_like(g)), grads)
    # optax's bias correction mixes weak floats with int32 counts: scoped standard promotion
    with jax.numpy_dtype_promotion("standard"):
        updates, new_state = optimizer.update(grads, opt_state, params)
    new_params = eqx.apply_updates(params, updates)
    # a non-finite step is skipped (parameters and optimiser state kept) and reported
    new_params = jax.tree.map(lambda a, b: jnp.where(finite, a, b), new_params, params)
    new_state = jax.tree.map(lambda a, b: jnp.where(finite, a, b), new_state, opt_state)
    return eqx.combine(new_params, static), new_state, l_rec, l_dyn, ~finite


_train_step = eqx.filter_jit(_train_step_impl)


def make_train_step(model: PhiROM, solver, config: TrainConfig, data, *,
                    optimizer: optax.GradientTransformation | None = None):
    """The compiled step ``(model, opt_state, key, lam, couple) -> (model, opt_state, l_rec,
    l_dyn, skipped)`` and the initial optimiser state (``couple``: the weight of the dynamics
    gradient to the decoder and the codes, :func:`coupling`; a traced scalar, so the warm-up
    ramp does not recompile). Compiled once per model structure."""
    optimizer = make_optimizer(model, config) if optimizer is None else optimizer
    n_snap = model.latents.shape[0] * model.latents.shape[1]
    n_points = data[2].shape[0]
    kw = dict(optimizer=optimizer, solver=solver, mode=config.mode,
              batch_size=min(config.batch_size, n_snap),
              n_sample=max(1, int(round(config.gamma * n_points))),
              tikhonov=float(config.tikhonov), dt=float(data[3]), loss_kind=config.loss)
    if config.mu_augment > 0:
        # at least one snapshot of the batch keeps its own mu
        kw["n_aug"] = min(int(round(config.mu_augment * kw["batch_size"])),
                          kw["batch_size"] - 1)
        kw["mu_box"] = _mu_box(config, np.asarray(data[1], np.float64))

    def step(model, opt_state, key, lam, couple):
        return _train_step(model, opt_state, data[:3], key, lam, couple, **kw)

    opt_state = optimizer.init(eqx.filter(model, eqx.is_inexact_array))
    return step, opt_state


def _mu_box(config: TrainConfig, mus: np.ndarray) -> tuple:
    """``((p,) low, (p,) high)`` as tuples of floats (static) for parameter augmentation."""
    p = mus.shape[-1]
    if config.mu_range is None:
        lo, hi = mus.min(axis=0), mus.max(axis=0)
        if not np.all(lo < hi):
            raise ValueError("mu_augment needs a parameter range: the training snapshots "
                             "share one mu in some component; give TrainConfig.mu_range")
    else:
        lo, hi = (np.asarray(b, np.float64) for b in config.mu_range)
        if lo.size not in (1, p) or hi.size not in (1, p):
            raise ValueError(f"mu_range bounds must be scalars or have the parameters' size "
                             f"{p}, got {config.mu_range!r}")
        lo, hi = np.broadcast_to(lo, (p,)), np.broadcast_to(hi, (p,))
    return tuple(map(float, lo)), tuple(map(float, hi))


def coupling(step: int, config: TrainConfig) -> float:
    """Weight of the dynamics gradient to the decoder and the latent memory at ``step``
    (0-based): 0 during the warm-up, then a linear ramp over ``warmup_ramp`` steps to 1."""
    j = step - config.warmup_steps
    if j < 0:
        return 0.0
    if config.warmup_ramp == 0:
        return 1.0
    return min(1.0, (j + 1) / config.warmup_ramp)


# -- checkpoints ---------------------------------------------------------------------------
def save_checkpoint(directory: str | os.PathLike, model: PhiROM, opt_state: Any, *, step: int,
                    config: TrainConfig, key: Any, history: dict | None = None) -> Path:
    """Write ``ckpt.eqx`` (equinox leaves) and ``ckpt.json`` (sidecar), each atomically.

    The leaves file holds ``(model, opt_state, step, key)``; the sidecar the model's
    constructor arguments, the training configuration, the step and the loss history.
    """
    d = Path(directory)
    tree = (model, opt_state, np.asarray(step, np.int64), key)
    path = write_leaves_atomic(d / "ckpt.eqx", tree)
    side = {"model": model.config_dict, "train": asdict(config), "step": int(step),
            "history": history or {}}
    write_json_atomic(d / "ckpt.json", side, indent=None)
    return path


def load_checkpoint(directory: str | os.PathLike, *, optimizer=None, like=None):
    """Read a checkpoint written by :func:`save_checkpoint`.

    Args:
        directory: the checkpoint folder.
        optimizer: the optimiser whose state was saved (default: rebuilt from the sidecar).
        like: a model with the saved structure (default: rebuilt from the sidecar).

    Returns:
        ``(model, opt_state, step, key, sidecar)``.
    """
    d = Path(directory)
    side = json.loads((d / "ckpt.json").read_text())
    model = PhiROM.from_config(side["model"]) if like is None else like
    cfg = TrainConfig(**side["train"])
    optimizer = make_optimizer(model, cfg) if optimizer is None else optimizer
    opt_state = optimizer.init(eqx.filter(model, eqx.is_inexact_array))
    skel = (model, opt_state, np.asarray(0, np.int64), jax.random.PRNGKey(0))
    model, opt_state, step, key = eqx.tree_deserialise_leaves(d / "ckpt.eqx", skel)
    return model, opt_state, int(step), key, side


# -- driver --------------------------------------------------------------------------------
def _prepare(model, solver, snapshots):
    from ..solvers import Snapshots

    if not isinstance(model, PhiROM):
        raise TypeError(f"model must be a PhiROM, got {type(model).__name__}")
    if not isinstance(snapshots, Snapshots):
        raise TypeError(f"snapshots must be a tensorrom.rom.solvers.Snapshots, got "
                        f"{type(snapshots).__name__}")
    dt = model.dtype
    vals = np.asarray(snapshots.values, dtype=np.float64)
    check_finite(vals, "snapshots.values")
    if vals.shape[:2] != model.latents.shape[:2]:
        raise ValueError(f"snapshots hold {vals.shape[:2]} (trajectories, times) but the model's "
                         f"latent memory has {model.latents.shape[:2]}")
    ss = tuple(solver.state_shape)
    if vals.shape[2:] != ss:
        raise ValueError(f"snapshots states must have the solver's shape {ss}, got "
                         f"{vals.shape[2:]}")
    check_residual_shape(solver.residual, jax.ShapeDtypeStruct(ss, dt),
                         jnp.zeros((), dt), name="solver.residual")
    table = jax.vmap(jax.vmap(solver.to_points))(jnp.asarray(vals, dt))
    mus = jnp.asarray(np.asarray(snapshots.mus, np.float64).reshape(vals.shape[0], -1), dt)
    points = jnp.asarray(solver.points(), dt)
    times = np.asarray(snapshots.times)
    step_dt = float(times[1] - times[0]) if times.size > 1 else float(solver.dt)
    return (table, mus, points, step_dt)


def train(model: PhiROM, solver, snapshots, config: TrainConfig | None = None, *,
          optimizer: optax.GradientTransformation | None = None,
          checkpoint_dir: str | os.PathLike | None = None, resume: bool = True,
          progress: bool = False) -> TrainResult:
    """Train a :class:`PhiROM` on full-order snapshots through a differentiable solver.

    Each step draws ``batch_size`` snapshots ``(u_n, mu)`` and, per snapshot, a random
    fraction ``gamma`` of the grid points, and descends ``(1 - lambda) L_rec + lambda L_dyn``
    with (``loss="relative"``, the default; see :class:`TrainConfig` for ``"mse"``)

    ``L_rec = mean_n |D(z_n) - u_n| / |u_n|``,
    ``L_dyn = mean_n |Psi(z_n, mu) - zdot*_n| / |zdot*_n|`` (the denominator held constant
    in the gradient),
    ``zdot*_n = (J^T J + eps I)^{-1} J^T R(D(z_n); mu)`` on the sampled points (``J = dD/dz``),

    differentiating through the solver residual and the least squares. Non-finite steps are
    skipped and counted (:attr:`TrainResult.nan_steps`); more than ``max_nan_steps`` raise.

    Args:
        model: from :meth:`PhiROM.create` (latent memory shaped like the snapshots).
        solver: a :mod:`tensorrom.rom.solvers` solver (``residual``, ``to_points``, grid).
        snapshots: :class:`~tensorrom.rom.solvers.Snapshots` ``(n_traj, n_times, *state)``.
        config: :class:`TrainConfig` (default: the paper's Burgers configuration).
        optimizer: an optax transformation (default :func:`make_optimizer`).
        checkpoint_dir: folder for atomic checkpoints every ``checkpoint_every`` steps and at
            the end; with ``resume=True`` an existing checkpoint there is continued.
        progress: show a tqdm bar.

    Returns:
        :class:`TrainResult`.

    References:
        Hosseini Dashtbayaz et al., NeurIPS 2025 (arXiv:2505.14595), Algorithm 1.
    """
    config = TrainConfig() if config is None else config
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a TrainConfig, got {type(config).__name__}")
    if config.mode == "pinn" and not hasattr(solver, "pointwise_residual"):
        raise ValueError(f"mode='pinn' needs a solver with pointwise_residual; "
                         f"{type(solver).__name__} has none")
    data = _prepare(model, solver, snapshots)
    optimizer = make_optimizer(model, config) if optimizer is None else optimizer
    step_fn, opt_state = make_train_step(model, solver, config, data, optimizer=optimizer)
    key = jax.random.PRNGKey(config.seed)
    start = 0
    hist = {"loss_rec": [], "loss_dyn": [], "skipped": []}
    if checkpoint_dir is not None and resume and (Path(checkpoint_dir) / "ckpt.eqx").exists():
        model, opt_state, start, key, side = load_checkpoint(checkpoint_dir, optimizer=optimizer,
                                                             like=model)
        hist = {k: list(v)[:start] for k, v in side.get("history", {}).items()} or hist
    lam = jnp.asarray(config.lam, model.dtype)
    np_dt = np.dtype(model.dtype)
    bar = tqdm(total=config.steps, initial=start, desc=f"train ({config.mode})",
               disable=not progress)
    buf = []
    for i in range(start, config.steps):
        key, sub = jax.random.split(key)
        couple = jnp.asarray(coupling(i, config), np_dt)
        model, opt_state, l_rec, l_dyn, bad = step_fn(model, opt_state, sub, lam, couple)
        buf.append((l_rec, l_dyn, bad))
        last = i + 1 == config.steps
        if (i + 1) % 50 == 0 or last or (checkpoint_dir is not None
                                         and (i + 1) % config.checkpoint_every == 0):
            vals = jax.device_get(buf)
            buf = []
            for a, b, c in vals:
                hist["loss_rec"].append(float(a))
                hist["loss_dyn"].append(float(b))
                hist["skipped"].append(bool(c))
            if sum(hist["skipped"]) > config.max_nan_steps:
                raise RuntimeError(f"{sum(hist['skipped'])} non-finite training steps (more "
                                   f"than max_nan_steps={config.max_nan_steps}); lower lr or "
                                   "raise tikhonov")
            bar.update(len(vals))
            bar.set_postfix(rec=f"{hist['loss_rec'][-1]:.2e}", dyn=f"{hist['loss_dyn'][-1]:.2e}",
                            nan=sum(hist["skipped"]))
            if checkpoint_dir is not None and ((i + 1) % config.checkpoint_every == 0 or last):
                save_checkpoint(checkpoint_dir, model, opt_state, step=i + 1, config=config,
                                key=key, history=hist)
    bar.close()
    return TrainResult(model, np.asarray(hist["loss_rec"]), np.asarray(hist["loss_dyn"]),
                       np.asarray(hist["skipped"], dtype=bool))
