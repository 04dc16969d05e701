"""Figures of the Phi-ROM Burgers example from the saved predictions.

- ``burgers_xt``: x-t panels of one trajectory (default the hardest unseen mu, the
  extrapolation 0.03214): truth, Phi-ROM, DINo (when trained), POD-Galerkin r = 4, and the
  Phi-ROM error;
- ``burgers_error_vs_time``: relative L2 error versus time, averaged over the unseen mu
  (or the training mu with --set train_mu), with the training horizon marked; the sparse
  inversion of burgers_sparse.py is drawn too when OUT/sparse.npz exists.

    python examples/phirom/make_figures.py --out runs/phirom

Reads OUT/predictions.npz (burgers_forecast.py) and OUT/sparse.npz; writes .png and .pdf
files to OUT (or --figdir).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from _common import add_out_argument

from tensorrom import plot
from tensorrom.rom import phirom

NAMES = {"phirom": "Phi-ROM", "dino": "DINo", "pod4": "POD-Galerkin r=4"}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_out_argument(ap)
    ap.add_argument("--figdir", default=None, help="folder of the figures (default OUT)")
    ap.add_argument("--set", choices=("test_mu", "train_mu"), default="test_mu")
    ap.add_argument("--traj", type=int, default=-1,
                    help="trajectory of the x-t panels (default the last: mu = 0.03214)")
    args = ap.parse_args(argv)
    import matplotlib.pyplot as plt

    out = Path(args.out)
    figdir = out if args.figdir is None else Path(args.figdir)
    if not (out / "predictions.npz").exists():
        raise SystemExit(f"no {out / 'predictions.npz'}: run burgers_forecast.py --out {out}")
    data = np.load(out / "predictions.npz")
    s = args.set
    truth, times, x = data[f"truth_{s}"], data["times"], data["x"]
    horizon = int(data["horizon"])
    methods = [m for m in ("phirom", "dino", "pod4") if f"{m}_{s}" in data]
    preds = {m: data[f"{m}_{s}"] for m in methods}
    sparse = None
    if s == "test_mu" and (out / "sparse.npz").exists():
        sp = np.load(out / "sparse.npz")
        sparse = (float(sp["frac"]), sp["phirom_sparse_test_mu"])
    i = args.traj % truth.shape[0]
    mu = float(np.asarray(data[f"mus_{s}"]).reshape(-1)[i])
    paths = []
    with plot.style():
        panels = [("truth", truth[i])] + [(NAMES[m], preds[m][i]) for m in methods]
        fig, axs = plt.subplots(1, len(panels) + 1, figsize=(plot.PAGE_WIDTH, 2.0),
                                sharey=True, layout="constrained")
        lo, hi = float(truth[i].min()), float(truth[i].max())
        for ax, (title, v) in zip(axs, panels):
            im = ax.pcolormesh(x, times, v, shading="auto", vmin=lo, vmax=hi,
                               rasterized=True)
            ax.axhline(times[horizon - 1], color="w", ls="--", lw=0.6)
            ax.set_title(title)
            ax.set_xlabel("x")
            ax.grid(False)
        fig.colorbar(im, ax=axs[:-1], shrink=0.8, label="u")
        err = np.abs(preds["phirom"][i] - truth[i])
        im = axs[-1].pcolormesh(x, times, err, shading="auto", cmap="magma",
                                 rasterized=True)
        axs[-1].set_title("|Phi-ROM - truth|")
        axs[-1].set_xlabel("x")
        axs[-1].grid(False)
        fig.colorbar(im, ax=axs[-1], shrink=0.8)
        axs[0].set_ylabel("t")
        fig.suptitle(f"Burgers, mu = {mu:.5f} (dashed: training horizon)", fontsize=8)
        paths += plot.savefig(fig, figdir / "burgers_xt")
        plt.close(fig)

        fig, ax = plt.subplots(figsize=(plot.COLUMN_WIDTH, 2.2))
        for m in methods:
            ax.semilogy(times, phirom.relative_l2(preds[m], truth).mean(axis=0), label=NAMES[m])
        if sparse is not None:
            ax.semilogy(times, phirom.relative_l2(sparse[1], truth).mean(axis=0), ls=":",
                        color="C0", label=f"Phi-ROM, {100 * sparse[0]:g} % of points")
        ax.axvline(times[horizon - 1], color="0.5", ls="--", lw=0.8, label="training horizon")
        ax.set_xlabel("t")
        ax.set_ylabel(f"rel. L2 error ({'unseen' if s == 'test_mu' else 'training'} mu)")
        ax.legend()
        paths += plot.savefig(fig, figdir / "burgers_error_vs_time")
        plt.close(fig)
    print("figures:", ", ".join(str(p) for p in paths))


if __name__ == "__main__":
    main()
