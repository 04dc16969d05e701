"""Phi-ROM on the parametrised Burgers benchmark (Hosseini Dashtbayaz et al., NeurIPS 2025).

Trains the physics-informed neural-field ROM with the paper's hyper-parameters (latent 4,
decoder 4x32 sine with omega0 = 1, dynamics 4x64 with the parameter embedded, batch 800,
gamma = 0.1, lambda = 0.5, relative-L2 losses, AdamW 5e-3 decayed 0.985x every 50 steps,
1000 warm-up steps, 5000 steps) on the first 100 steps of the 8 training trajectories,
then evaluates the 17 trajectories (8 training mu, 9 unseen mu) to 200 steps from a latent
code found by inversion at t = 0 (full grid, and from 5% of the points), against
POD-Galerkin (r = 4) and optionally the DINo mode.

    python examples/phirom_burgers.py --out runs/phirom            # full run (hours on CPU)
    python examples/phirom_burgers.py --quick --out /tmp/phirom    # a few minutes
    python examples/phirom_burgers.py --steps 1500 --dino          # shorter, with DINo

Training checkpoints go to OUT/ckpt_<mode> and are resumed when the script is re-run.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import jax
import numpy as np

from tensorrom import plot
from tensorrom.rom import phirom, solvers
from tensorrom.rom.pod import PODGalerkin


def evaluate(model, solver, data, *, frac=1.0, seed=0):
    """Invert at t = 0 (1000 Adam steps) from a fraction of the points, roll out, decode."""
    pts = solver.points()
    if frac < 1.0:
        rng = np.random.default_rng(seed)
        obs = np.sort(rng.choice(len(pts), max(2, int(round(frac * len(pts)))), replace=False))
    else:
        obs = np.arange(len(pts))
    z0 = phirom.invert(model, data.values[:, 0, obs], pts[obs], steps=1000, lr=1e-2)
    us = phirom.forecast(model, z0, data.mus, data.times, pts)
    return np.asarray(us)[..., 0]


def errors(pred, truth, horizon=100):
    e = phirom.relative_l2(pred, truth)  # (n_traj, T)
    return e, float(e[:, :horizon].mean()), float(e[:, horizon:].mean())


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="200 steps, batch 200")
    ap.add_argument("--out", default="phirom_burgers_out")
    ap.add_argument("--steps", type=int, default=None, help="optimiser steps (default 5000)")
    ap.add_argument("--dino", action="store_true", help="also train the DINo mode")
    ap.add_argument("--omega0", type=float, default=None,
                    help="first-layer frequency of the sine decoder (default 1)")
    ap.add_argument("--warmup", type=int, default=None,
                    help="warm-up steps (default min(1000, steps // 5))")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    steps = args.steps or (200 if args.quick else 5000)
    batch = 200 if args.quick else 800
    warmup = min(1000, steps // 5) if args.warmup is None else args.warmup

    solver = solvers.Burgers1D()
    full_train = solvers.burgers_dataset("train")
    test = solvers.burgers_dataset("test")
    train = full_train.window(0, 100)  # training horizon: the first 100 steps
    results = {"steps": steps, "batch": batch, "warmup": warmup,
               "machine": f"{jax.default_backend()}"}
    # the authors' validation set: the unseen mu without the upper extrapolation 0.03214
    val = np.asarray(test.mus).reshape(test.n_traj) < 0.032

    modes = ["phirom"] + (["dino"] if args.dino else [])
    preds = {}
    for mode in modes:
        model = phirom.PhiROM.from_snapshots(solver, train, latent_size=4, decoder="sine",
                                             decoder_width=32, decoder_depth=4,
                                             omega0=args.omega0, dynamics_width=64,
                                             dynamics_depth=4, key=jax.random.PRNGKey(args.seed))
        cfg = phirom.TrainConfig(mode=mode, steps=steps, batch_size=batch, gamma=0.1, lam=0.5,
                                 warmup_steps=warmup, seed=args.seed, checkpoint_every=100)
        t0 = time.perf_counter()
        res = phirom.train(model, solver, train, cfg, checkpoint_dir=out / f"ckpt_{mode}",
                           progress=True)
        results[f"{mode}_train_wall_s"] = time.perf_counter() - t0
        results[f"{mode}_nan_steps"] = res.nan_steps
        for name, d in (("train_mu", full_train), ("test_mu", test)):
            t0 = time.perf_counter()
            p = evaluate(res.model, solver, d)
            results[f"{mode}_{name}_eval_wall_s"] = time.perf_counter() - t0
            e, e1, e2 = errors(p, d.values)
            results[f"{mode}_{name}_t<=100"] = e1
            results[f"{mode}_{name}_t>100"] = e2
            if name == "test_mu":
                results[f"{mode}_val8_t<=100"] = float(e[val, :100].mean())
                results[f"{mode}_val8_t>100"] = float(e[val, 100:].mean())
            for j, m in enumerate(np.asarray(d.mus).reshape(d.n_traj)):
                results[f"{mode}_{name}_mu={m:.5f}"] = [float(e[j, :100].mean()),
                                                          float(e[j, 100:].mean())]
            preds[(mode, name)] = p
        if mode == "phirom":
            p = evaluate(res.model, solver, test, frac=0.05)
            _, e1, e2 = errors(p, test.values)
            results["phirom_sparse5_test_mu_t<=100"] = e1
            results["phirom_sparse5_test_mu_t>100"] = e2
            np.save(out / "loss_rec.npy", res.loss_rec)
            np.save(out / "loss_dyn.npy", res.loss_dyn)

    with jax.enable_x64(True):  # POD-Galerkin in float64
        pod = PODGalerkin.fit(solver, train, rank=4)
        for name, d in (("train_mu", full_train), ("test_mu", test)):
            p = np.stack([np.asarray(pod.rollout(d.values[i, 0], d.mus[i, 0], d.times))
                          for i in range(d.n_traj)])
            _, e1, e2 = errors(p, d.values)
            results[f"pod4_{name}_t<=100"] = e1
            results[f"pod4_{name}_t>100"] = e2
            preds[("pod4", name)] = p

    (out / "results.json").write_text(json.dumps(results, indent=1))
    for k, v in results.items():
        if isinstance(v, list):
            v = " / ".join(f"{x:.4g}" for x in v)
        print(f"{k:<34} {v:.4g}" if isinstance(v, float) else f"{k:<34} {v}")

    import matplotlib.pyplot as plt

    i = test.n_traj - 1  # the extrapolation mu = 0.03214, the hardest case
    x = solver.axes[0]
    with plot.style():
        panels = [("truth", test.values[i])] + [
            (m, preds[(m, "test_mu")][i]) for m in (*modes, "pod4")]
        fig, axs = plt.subplots(1, len(panels) + 1, figsize=(plot.PAGE_WIDTH, 2.0),
                                sharey=True)
        for ax, (title, v) in zip(axs, panels):
            ax.pcolormesh(x, test.times, v, shading="auto", vmin=1, vmax=5.5)
            ax.set_title(title)
            ax.set_xlabel("x")
        err = np.abs(preds[("phirom", "test_mu")][i] - test.values[i])
        axs[-1].pcolormesh(x, test.times, err, shading="auto", cmap="magma")
        axs[-1].set_title("|Phi-ROM - truth|")
        axs[0].set_ylabel("t")
        plot.savefig(fig, out / "burgers_xt")
        plt.close(fig)
        fig, ax = plt.subplots(figsize=(plot.COLUMN_WIDTH, 2.2))
        for m in (*modes, "pod4"):
            e = phirom.relative_l2(preds[(m, "test_mu")], test.values).mean(axis=0)
            ax.semilogy(test.times, e, label=m)
        ax.axvline(test.times[99], color="0.5", ls="--", lw=0.8, label="training horizon")
        ax.set_xlabel("t")
        ax.set_ylabel("rel. L2 error (unseen mu)")
        ax.legend()
        plot.savefig(fig, out / "burgers_error_vs_time")
        plt.close(fig)


if __name__ == "__main__":
    main()
