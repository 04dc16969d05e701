"""Range-separated electrostatics of NaCl clusters: Tucker rank versus the number of ions.

For rock-salt clusters of L^3 ions (L = 4, 8, 12, 16 by default; 4, 6, 8 with --quick) the
long-range part sum_j q_j erf(beta r_j) / r_j is built as a ChebTucker from exact Gaussian
factors, at a fixed kernel tolerance, once with a fixed splitting parameter beta and once with
the automatic choice. Prints a table (L, N, degree, Tucker ranks, build time, error against
the direct erf sum at random points) and writes two figures: rank versus N (log axis) and a
slice of the long-range potential of the largest cluster.

Usage: python examples/potential_lattice.py [--quick] [--out DIR] [--rtol 1e-6] [--beta 0.5]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from scipy.special import erf
from tqdm.auto import tqdm

from tensorrom import plot
from tensorrom.data import Box, Field, TensorGrid
from tensorrom.potentials import COULOMB_KCAL, RangeSplit, long_range, nacl_cluster


def study(sizes, rtol, beta, progress=True):
    rows = []
    for L in tqdm(sizes, desc=f"beta={beta or 'auto'}", disable=not progress):
        mol = nacl_cluster(L)
        box = Box.bounding(mol.coords)
        split = RangeSplit.choose(box, rtol, n_particles=mol.n,
                                  **({} if beta is None else {"beta": beta}))
        t0 = time.perf_counter()
        ct = long_range(mol, split)
        t_build = time.perf_counter() - t0
        rng = np.random.default_rng(L)
        pts = split.box.from_reference(rng.uniform(-1, 1, size=(500, 3)))
        r = np.linalg.norm(pts[:, None] - mol.coords[None], axis=-1)
        ref = (erf(split.beta * r) / r) @ mol["charge"]
        err = float(np.max(np.abs(ct(pts) - ref)) / np.max(np.abs(ref)))
        rows.append(dict(L=L, N=mol.n, beta=split.beta, degree=split.degree,
                         ranks=ct.ranks, build_s=t_build, error=err, ct=ct, mol=mol))
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="L = 4, 6, 8 only")
    ap.add_argument("--out", default="out_potential_lattice", help="figure folder")
    ap.add_argument("--rtol", type=float, default=1e-6, help="kernel tolerance")
    ap.add_argument("--beta", type=float, default=0.5, help="the fixed splitting parameter")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    sizes = (4, 6, 8) if args.quick else (4, 8, 12, 16)
    results = {"fixed": study(sizes, args.rtol, args.beta), "auto": study(sizes, args.rtol, None)}
    print(f"\nNaCl clusters, a = 2.82 Å, rtol = {args.rtol:g}")
    print("| beta | L | N | degree | Tucker ranks | build (s) | max err / max |V_long| |")
    print("|---|---|---|---|---|---|---|")
    for kind, rows in results.items():
        for r in rows:
            print(f"| {r['beta']:.3f} ({kind}) | {r['L']} | {r['N']} | {r['degree']} | "
                  f"{r['ranks']} | {r['build_s']:.2f} | {r['error']:.1e} |")
    import matplotlib.pyplot as plt

    with plot.style():
        fig, axes = plt.subplots(1, 2, figsize=(plot.PAGE_WIDTH, 2.6))
        fig.subplots_adjust(wspace=0.45)
        for kind, rows in results.items():
            n = [r["N"] for r in rows]
            axes[0].plot(n, [max(r["ranks"]) for r in rows], "o-",
                         label=(f"beta = {args.beta}/Å" if kind == "fixed" else "automatic beta"))
        axes[0].set_xscale("log")
        axes[0].set_xlabel("number of ions N")
        axes[0].set_ylabel("Tucker rank (max over modes)")
        axes[0].set_ylim(bottom=0)
        axes[0].legend()
        big = results["fixed"][-1]
        box = big["ct"].box
        plane = TensorGrid.uniform(Box(box.lo[:2], box.hi[:2]), 128)
        z0 = float(np.min(np.abs(big["mol"].coords[:, 2])))  # the ion plane nearest z = 0
        grid = TensorGrid([*plane.axes, np.array([z0])], box)
        fld = Field(big["ct"].on_grid(grid).full() * COULOMB_KCAL, grid, name="V_long",
                    units="kcal/mol/e")
        plot.field_slice(fld, axis=2, index=0, ax=axes[1], cmap="RdBu_r")
        axes[1].set_title(f"long-range part, L = {big['L']}, z = {z0:.2f} Å")
        paths = plot.savefig(fig, out / "potential_lattice")
        plt.close(fig)
    print("figures:", ", ".join(str(p) for p in paths))


if __name__ == "__main__":
    main()
