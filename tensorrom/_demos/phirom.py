"""Phi-ROM demo: a short Burgers training run, a forecast beyond the horizon, POD beside it."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

TITLE = "Phi-ROM (Burgers)"


def run(out: Path, quick: bool) -> list[tuple[str, str]]:
    import jax
    import matplotlib.pyplot as plt

    from .. import plot
    from ..rom import phirom, solvers
    from ..rom.pod import PODGalerkin

    solver = solvers.Burgers1D()
    full = solvers.burgers_dataset("train")
    train = full.window(0, 100)
    # a small model and a short run (the paper trains 5000 steps with batch 800: see
    # examples/phirom/burgers_train.py and the scripts beside it)
    model = phirom.PhiROM.from_snapshots(solver, train, latent_size=4, decoder_width=16,
                                         decoder_depth=3, omega0=30.0, dynamics_width=32,
                                         dynamics_depth=2, key=jax.random.PRNGKey(0))
    steps = 15 if quick else 120
    # warm-up and ramp scaled to the short run (the defaults, 1000 and 2000, exceed it)
    cfg = phirom.TrainConfig(steps=steps, batch_size=32, gamma=0.1, lr=3e-3, lr_latent=3e-2,
                             warmup_steps=steps // 5, warmup_ramp=steps // 5)
    t0 = time.perf_counter()
    res = phirom.train(model, solver, train, cfg, progress=True)
    t_train = time.perf_counter() - t0
    test = solvers.burgers_dataset("test")
    i = 3  # an unseen mu between two training values
    pts = solver.points()
    z0 = phirom.invert(res.model, test.values[i, 0], pts, method="gauss_newton", steps=20)
    pred = np.asarray(phirom.forecast(res.model, z0, test.mus[i], test.times, pts))[..., 0]
    err = phirom.relative_l2(pred, test.values[i])
    with jax.enable_x64(True):
        pod = PODGalerkin.fit(solver, train, rank=4)
        pod_pred = np.asarray(pod.rollout(test.values[i, 0], test.mus[i, 0], test.times))
    pod_err = phirom.relative_l2(pod_pred, test.values[i])
    with plot.style():
        fig, axs = plt.subplots(1, 3, figsize=(plot.PAGE_WIDTH, 2.0), sharey=True)
        x = solver.axes[0]
        for ax, v, title in zip(axs[:2], (test.values[i], pred),
                                ("truth", f"Phi-ROM ({steps} steps)")):
            mesh = ax.pcolormesh(x, test.times, v, shading="auto", vmin=1.0, vmax=5.5)
            ax.set_title(title)
            ax.set_xlabel("x")
            ax.grid(False)
        cbar = fig.colorbar(mesh, ax=list(axs[:2]), pad=0.02, fraction=0.05)
        cbar.ax.set_title("u", fontsize="small")  # above the bar, not beside the next panel
        axs[0].set_ylabel("t")
        axs[2].plot(err, test.times, label="Phi-ROM")
        axs[2].plot(pod_err, test.times, label="POD-Galerkin r=4")
        axs[2].axhline(test.times[99], color="0.5", ls="--", lw=0.8,
                       label="training horizon")
        axs[2].set_xlabel("rel. L2 error")
        axs[2].legend()
        paths = plot.savefig(fig, out / "phirom_burgers")
        plt.close(fig)
    return [
        ("training", f"{steps} steps, batch 32, gamma 0.1 in {t_train:.1f} s "
                     f"({res.nan_steps} NaN steps)"),
        ("unseen mu", f"{float(test.mus[i, 0]):.5f}"),
        ("Phi-ROM rel. L2, t<=100 / t>100", f"{err[:100].mean():.3f} / {err[100:].mean():.3f}"),
        ("POD-Galerkin r=4, t<=100 / t>100",
         f"{pod_err[:100].mean():.3f} / {pod_err[100:].mean():.3f}"),
        ("figure", ", ".join(p.name for p in paths)),
    ]
