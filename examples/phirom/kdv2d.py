"""Phi-ROM on the 2D Korteweg-de Vries equation, through an exponax solver.

The full-order model is exponax's ``KortewegDeVries`` stepper in 2D (two velocity
channels, periodic square of side 20, ETDRK2, hyper-diffusion 0.01), wrapped by
``tensorrom.rom.solvers.from_stepper`` so that Phi-ROM's latent-velocity target
``J^+ R(D(z))`` uses the residual ``R(u) = (step(u) - u) / dt``. Trajectories start from
random truncated Fourier series (``kdv2d_dataset``). A neural field with 2D inputs is
trained on the first half of the training trajectories (the training horizon); a
held-out initial condition is then encoded by inversion at t = 0, forecast to twice the
horizon, decoded on the grid and compared with the solver.

    python examples/phirom/kdv2d.py --out runs/kdv2d            # GPU-sized default
    python examples/phirom/kdv2d.py --quick --out /tmp/kdv2d    # 16x16 grid, minutes on a CPU

Writes OUT/ckpt_kdv2d/ (resumed when re-run), OUT/kdv2d.json and the figures
OUT/kdv2d_fields.{png,pdf} and OUT/kdv2d_error_vs_time.{png,pdf}. Needs exponax
(extra ``solvers``).

The defaults are ours, not the paper's: the authors' KdV set (repository phi-rom/PhiROM,
``data/scripts/kdv.py``) is single-channel on a side of 15 with dt = 0.04, and they train
a hyper-network decoder with latent size 100, which tensorrom does not provide.
"""

from __future__ import annotations

import argparse
import os
import shutil
import time
from pathlib import Path

import jax
import numpy as np
from _common import write_json

from tensorrom import plot
from tensorrom.rom import phirom, solvers

DOMAIN_EXTENT = 20.0  # kdv2d_dataset's default


def kdv_solver(num_points: int, dt: float, n_steps: int):
    """The solver ``kdv2d_dataset`` rolls out (same stepper arguments)."""
    import exponax as ex

    with jax.numpy_dtype_promotion("standard"):  # exponax mixes real and complex arrays
        stepper = ex.stepper.KortewegDeVries(2, DOMAIN_EXTENT, num_points, dt)
        return solvers.from_stepper(stepper, dt, n_steps=n_steps)


# defaults of the full run, sized for a GPU: latent 100, dynamics width 256, warm-up 400 and
# the rate decayed 0.985x every 80 steps as in the authors' KdV run, but a batch of 256
# snapshots instead of their 768: XLA's memory analysis of our compiled step (on the CPU)
# gives 64 GiB of temporaries at batch 256 and 193 GiB at 768 (32 GiB at 128)
FULL = dict(num_points=64, n_train=256, n_steps=100, latent=100, width=128, depth=4,
            dyn_width=256, dyn_depth=4, omega0=8.0, steps=5000, batch=256, lam=0.5, lr=5e-3,
            warmup=400, decay_every=80, inv_steps=1000)
# quick: lambda = 0.1, because at 0.5 the dynamics gradient undid the reconstruction within
# the 300 steps (relative reconstruction loss back to 0.98; 0.11 with lambda = 0.1)
QUICK = dict(num_points=16, n_train=4, n_steps=40, latent=8, width=32, depth=3,
             dyn_width=64, dyn_depth=3, omega0=8.0, steps=300, batch=32, lam=0.1, lr=1e-2,
             warmup=150, decay_every=5, inv_steps=300)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="16x16 grid, 4 trajectories of 40 steps, a tiny model, 300 steps")
    ap.add_argument("--out", default="phirom_kdv2d_out")
    ap.add_argument("--dt", type=float, default=0.01)
    ap.add_argument("--decoder", choices=("filter", "sine"), default="filter")
    ap.add_argument("--gamma", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--fresh", action="store_true", help="discard an existing checkpoint")
    helps = dict(num_points="grid points per axis", n_train="training trajectories",
                 n_steps="stored steps per trajectory; the first half is the horizon",
                 latent="latent size", width="decoder width", depth="decoder depth",
                 dyn_width="dynamics width", dyn_depth="dynamics depth",
                 omega0="decoder frequency", steps="optimiser steps",
                 batch="snapshots per step", lam="weight of the dynamics gradient",
                 lr="peak learning rate (networks and codes)",
                 warmup="steps without the dynamics gradient to decoder and codes",
                 decay_every="steps between 0.985x learning-rate decays",
                 inv_steps="Adam steps of the inversion at t = 0")
    for k, v in FULL.items():
        ap.add_argument("--" + k.replace("_", "-"), type=type(v), default=None,
                        help=f"{helps[k]} (default {v}; --quick: {QUICK[k]})")
    args = ap.parse_args(argv)
    a = {k: (getattr(args, k) if getattr(args, k) is not None else
             (QUICK if args.quick else FULL)[k]) for k in FULL}
    n_pts, n_train, n_steps = a["num_points"], a["n_train"], a["n_steps"]
    horizon = n_steps // 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.fresh and (out / "ckpt_kdv2d").exists():
        shutil.rmtree(out / "ckpt_kdv2d")
    res = {**a, "horizon": horizon, "dt": args.dt, "decoder": args.decoder,
           "gamma": args.gamma, "seed": args.seed, "backend": jax.default_backend()}

    t0 = time.perf_counter()
    # n_train + 1 trajectories: the last one is held out
    data = solvers.kdv2d_dataset(n_train + 1, seed=args.seed, num_points=n_pts, dt=args.dt,
                                 n_steps=n_steps, progress=True)
    solver = kdv_solver(n_pts, args.dt, n_steps)
    res["data_wall_s"] = time.perf_counter() - t0
    full = solvers.Snapshots(data.values[:n_train], data.mus[:n_train], data.times, data.grid,
                             channel_first=True)
    train = full.window(0, horizon)
    held = solvers.Snapshots(data.values[n_train:], data.mus[n_train:], data.times, data.grid,
                             channel_first=True)

    model = phirom.PhiROM.from_snapshots(solver, train, latent_size=a["latent"],
                                         decoder=args.decoder, decoder_width=a["width"],
                                         decoder_depth=a["depth"], omega0=a["omega0"],
                                         dynamics_width=a["dyn_width"],
                                         dynamics_depth=a["dyn_depth"],
                                         key=jax.random.PRNGKey(args.seed))
    cfg = phirom.TrainConfig(steps=a["steps"], batch_size=a["batch"], gamma=args.gamma,
                             lam=a["lam"], lr=a["lr"], lr_latent=a["lr"],
                             warmup_steps=a["warmup"], lr_decay_every=a["decay_every"],
                             seed=args.seed, checkpoint_every=max(1, min(500, a["steps"] // 4)))
    t0 = time.perf_counter()
    fit = phirom.train(model, solver, train, cfg, checkpoint_dir=out / "ckpt_kdv2d",
                       progress=True)
    res["train_wall_s"] = time.perf_counter() - t0
    res["nan_steps"] = fit.nan_steps
    res["loss_rec_last"] = float(np.mean(fit.loss_rec[-20:]))
    res["loss_dyn_last"] = float(np.mean(fit.loss_dyn[-20:]))

    pts = solver.points()

    def forecast(d):
        """Invert at t = 0 on the full grid, roll out, decode: fields (B, T, C, N, N)."""
        table = np.stack([np.asarray(solver.to_points(u)) for u in d.values[:, 0]])
        z0 = phirom.invert(fit.model, table, pts, steps=a["inv_steps"])
        us = np.asarray(phirom.forecast(fit.model, z0, d.mus, d.times, pts))  # (B, T, M, C)
        us = us.reshape(us.shape[:2] + (n_pts, n_pts, -1))
        return np.moveaxis(us, -1, 2)

    t0 = time.perf_counter()
    pred = {"held-out IC": forecast(held), "training IC 0": forecast(_first(full))}
    res["eval_wall_s"] = time.perf_counter() - t0
    truth = {"held-out IC": held.values, "training IC 0": full.values[:1]}
    err = {}
    for name in pred:
        e = phirom.relative_l2(pred[name][0].reshape(n_steps, -1),
                               truth[name][0].reshape(n_steps, -1))  # (T,)
        err[name] = e
        res[f"{name}_t<=horizon"] = float(e[:horizon].mean())
        res[f"{name}_t>horizon"] = float(e[horizon:].mean())
    res["loadavg"] = os.getloadavg()[0]
    write_json(out / "kdv2d.json", res)

    print(f"\nKdV 2D, {n_pts}x{n_pts} grid, {n_train} training trajectories, horizon "
          f"{horizon} of {n_steps} steps (dt = {args.dt}); training {a['steps']} steps in "
          f"{res['train_wall_s']:.1f} s ({jax.default_backend()}), NaN steps {fit.nan_steps}")
    print(f"relative L2 error           t <= {horizon}   {horizon} < t <= {n_steps}")
    for name, e in err.items():
        print(f"{name:<22} {100 * e[:horizon].mean():8.2f} %  {100 * e[horizon:].mean():8.2f} %")

    import matplotlib.pyplot as plt

    u, p = truth["held-out IC"][0, :, 0], pred["held-out IC"][0, :, 0]  # channel 0
    cols = [0, horizon - 1, n_steps - 1]
    ext = (0, DOMAIN_EXTENT, 0, DOMAIN_EXTENT)
    paths = []
    with plot.style():
        fig, axs = plt.subplots(3, len(cols), figsize=(plot.PAGE_WIDTH * 0.6, 4.4),
                                sharex=True, sharey=True, layout="constrained")
        lo, hi = float(u.min()), float(u.max())
        emax = float(np.abs(p - u).max())
        for j, t in enumerate(cols):
            for r, (v, kw_) in enumerate(((u[t], dict(vmin=lo, vmax=hi)),
                                          (p[t], dict(vmin=lo, vmax=hi)),
                                          (np.abs(p[t] - u[t]),
                                           dict(vmin=0, vmax=emax, cmap="magma")))):
                im = axs[r, j].imshow(v.T, origin="lower", extent=ext, **kw_)
                axs[r, j].grid(False)
                if r == 2 and j == len(cols) - 1:
                    fig.colorbar(im, ax=axs[2, :], shrink=0.8)
                if r == 1 and j == len(cols) - 1:
                    fig.colorbar(im, ax=axs[:2, :], shrink=0.8)
            axs[0, j].set_title(f"t = {data.times[t]:.2f}")
        for r, name in enumerate(("truth", "Phi-ROM", "|error|")):
            axs[r, 0].set_ylabel(f"{name}\ny")
        for ax in axs[-1]:
            ax.set_xlabel("x")
        fig.suptitle("KdV 2D, held-out initial condition, channel 0", fontsize=8)
        paths += plot.savefig(fig, out / "kdv2d_fields")
        plt.close(fig)
        fig, ax = plt.subplots(figsize=(plot.COLUMN_WIDTH, 2.2))
        for name, e in err.items():
            ax.semilogy(data.times, e, label=name)
        ax.axvline(data.times[horizon - 1], color="0.5", ls="--", lw=0.8,
                   label="training horizon")
        ax.set_xlabel("t")
        ax.set_ylabel("rel. L2 error")
        ax.legend()
        paths += plot.savefig(fig, out / "kdv2d_error_vs_time")
        plt.close(fig)
    print("figures:", ", ".join(str(x) for x in paths))


def _first(d):
    """The first trajectory of ``d`` as a one-trajectory set."""
    return solvers.Snapshots(d.values[:1], d.mus[:1], d.times, d.grid, channel_first=True)


if __name__ == "__main__":
    main()
