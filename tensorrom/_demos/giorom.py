"""GIOROM demo: a tiny 2D GIOROM stepper trained on sparse subsets, rolled out, and mapped back
to every particle with SparseToDense."""

from __future__ import annotations

from pathlib import Path

import numpy as np

TITLE = "GIOROM (sparse neural operator stepper)"


def _trajectories(n_traj: int, n_frames: int, seed: int) -> np.ndarray:
    """Blocks of 8 x 8 particles thrown under gravity with linear drag (exact solution):
    ``x(t) = x0 + v_inf t + (v0 - v_inf)(1 - exp(-gamma t)) / gamma``, ``v_inf = g / gamma``."""
    rng = np.random.default_rng(seed)
    g, gamma, dt = np.array([0.0, -2.0]), 2.0, 0.01
    grid = np.stack(np.meshgrid(np.arange(8), np.arange(8), indexing="ij"), -1).reshape(-1, 2)
    t = np.arange(n_frames)[:, None, None] * dt
    out = []
    for _ in range(n_traj):
        x0 = rng.uniform([0.2, 0.5], [0.5, 0.6]) + 0.03 * grid
        v0 = rng.uniform(-0.5, 0.5, 2)
        vinf = g / gamma
        out.append(x0[None] + vinf * t + (v0 - vinf) * (1 - np.exp(-gamma * t)) / gamma)
    return np.stack(out)


def run(out: Path, quick: bool) -> list[tuple[str, str]]:
    import jax
    import matplotlib.pyplot as plt

    from .. import lagrangian as lg
    from .. import plot
    from ..data import Box

    steps = 80 if quick else 200
    data = _trajectories(7, 40, seed=0)
    train, test = data[:6], data[6]
    box = Box([0.0, 0.0], [1.0, 1.0])
    norm = lg.Normalisation.from_positions(train)
    H, n_sub, R = 2, 32, 0.09
    model = lg.GIOROM(2, box, R, normalisation=norm, n_history=H, latent=16, grid_shape=8,
                      grid_channels=8, modes=3, n_fourier=1, n_pre=1, n_post=1,
                      key=jax.random.PRNGKey(0))
    builder = lg.RadiusGraphBuilder(R, box, 1024, 32)
    model, log = lg.train_stepper(model, train, builder=builder, steps=steps, batch_size=2,
                                  key=jax.random.PRNGKey(1), noise_std=1e-5, subset_size=n_sub,
                                  subset_method="random", learning_rate=3e-3)
    sub = np.arange(0, 64, 2)
    n_steps = test.shape[0] - (H + 1)
    pred_sparse = lg.rollout(model, test[: H + 1, sub], n_steps, builder=builder)
    op = lg.SparseToDense(2, 0.1, key=jax.random.PRNGKey(2))   # initial state: modified Shepard
    plan = op.plan(test[0, sub], test[0])
    pred = np.asarray(jax.jit(jax.vmap(lambda y: op(y, plan)))(pred_sparse))
    truth = test[H + 1:]
    cv = np.asarray(lg.constant_velocity_rollout(test[: H + 1], n_steps))
    mse, mse_cv = lg.rollout_mse(pred, truth), lg.rollout_mse(cv, truth)
    with plot.style():
        fig, axes = plt.subplots(1, 2, figsize=(plot.PAGE_WIDTH, 2.3))
        axes[0].semilogy(log.losses, lw=0.8)
        axes[0].set_xlabel("training step")
        axes[0].set_ylabel("normalised acceleration MSE")
        for k, c in ((0, "0.6"), (n_steps // 2, "C0"), (n_steps - 1, "C1")):
            axes[1].scatter(truth[k, :, 0], truth[k, :, 1], s=14, marker="o",
                            facecolors="none", edgecolors=c, linewidths=0.6)
            axes[1].scatter(pred[k, :, 0], pred[k, :, 1], s=2, c=c,
                            label=f"step {k + 1} of {n_steps}")
        axes[1].set_aspect("equal")
        axes[1].legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize="small",
                       markerscale=3, frameon=False)
        axes[1].set_title("truth (rings) vs GIOROM + SparseToDense (dots)")
        axes[1].set_xlabel("x [m]")
        axes[1].set_ylabel("y [m]")
        paths = plot.savefig(fig, out / "giorom_demo")
        plt.close(fig)
    return [
        ("training", f"{steps} steps on random {n_sub}/64-particle subsets"),
        ("final loss", f"{np.mean(log.losses[-20:]):.3g}"),
        ("rollout MSE (all particles)", f"{mse:.2e} ({n_steps} steps)"),
        ("constant-velocity MSE", f"{mse_cv:.2e}"),
        ("figure", ", ".join(p.name for p in paths)),
    ]
