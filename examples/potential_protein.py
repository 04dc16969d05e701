"""Electrostatic potential of a protein from a PQR file, on a grid and at scattered points.

Reads the PQR file given on the command line; without one, uses adenylate kinase
(adk_open.pqr, 3341 atoms) from the optional MDAnalysisTests package. Computes the full
Coulomb potential sum_j q_j / |x - x_j| through the range split on a uniform grid around the
molecule and at random points, checks a sample against the direct sum, and writes a figure
with a slice of the potential (kcal/mol/e) and the long-range part alone.

Usage: python examples/potential_protein.py [FILE.pqr] [--grid 96] [--rtol 1e-6]
       [--quick] [--out DIR]
"""

from __future__ import annotations

import argparse
import importlib.util
import time
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from tensorrom import plot
from tensorrom.data import Box, Field, TensorGrid
from tensorrom.io import read_pqr
from tensorrom.potentials import (
    COULOMB_KCAL,
    RangeSplit,
    coulomb,
    direct_sum,
    long_range,
    short_range_on_grid,
)


def default_pqr() -> str | None:
    if importlib.util.find_spec("MDAnalysisTests") is None:
        return None
    from MDAnalysisTests.datafiles import PQR

    return PQR


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("pqr", nargs="?", default=None, help="PQR file (default: adk_open.pqr)")
    ap.add_argument("--grid", type=int, default=96, help="grid points per axis")
    ap.add_argument("--rtol", type=float, default=1e-6, help="kernel tolerance")
    ap.add_argument("--pad", type=float, default=5.0, help="space around the molecule (Å)")
    ap.add_argument("--quick", action="store_true", help="48^3 grid, 2000 points")
    ap.add_argument("--out", default="out_potential_protein", help="figure folder")
    args = ap.parse_args(argv)
    path = args.pqr or default_pqr()
    if path is None:
        ap.error("give a PQR file (or install MDAnalysisTests for adk_open.pqr)")
    n_grid = 48 if args.quick else args.grid
    n_points = 2000 if args.quick else 100_000
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    bar = tqdm(total=4, desc="protein potential")
    mol = read_pqr(path)
    box = Box.bounding(mol.coords, pad=args.pad)
    grid = TensorGrid.uniform(box, n_grid)
    split = RangeSplit.choose(box, args.rtol, n_particles=mol.n)
    t0 = time.perf_counter()
    ct = long_range(mol, split)
    t_long = time.perf_counter() - t0
    bar.update()
    t0 = time.perf_counter()
    v_long = np.asarray(ct.on_grid(grid).full())
    v_grid = v_long + short_range_on_grid(mol, grid, split, min_distance=0.0)
    t_grid = time.perf_counter() - t0
    bar.update()
    rng = np.random.default_rng(0)
    pts = box.from_reference(rng.uniform(-1, 1, size=(n_points, 3)))
    t0 = time.perf_counter()
    v_pts = coulomb(mol, pts, split=split, min_distance=0.0, long_part=ct)
    t_pts = time.perf_counter() - t0
    bar.update()
    check = rng.choice(n_points, size=min(2000, n_points), replace=False)
    ref = direct_sum(mol, pts[check], min_distance=0.0)
    err = float(np.max(np.abs(v_pts[check] - ref)) / np.max(np.abs(ref)))
    import matplotlib.pyplot as plt

    with plot.style():
        fig, axes = plt.subplots(1, 2, figsize=(plot.PAGE_WIDTH, 2.8))
        fig.subplots_adjust(wspace=0.55)
        clip = 40.0
        full = Field(np.clip(v_grid * COULOMB_KCAL, -clip, clip), grid, name="V",
                     units="kcal/mol/e")
        lr = Field(v_long * COULOMB_KCAL, grid, name="V_long", units="kcal/mol/e")
        z_mid = grid.axes[2][grid.shape[2] // 2]
        plot.field_slice(full, axis=2, ax=axes[0], cmap="RdBu_r", vmin=-clip, vmax=clip,
                         coord_units="Å")
        axes[0].set_title(f"full potential (clipped), z = {z_mid:.1f} Å")
        plot.field_slice(lr, axis=2, ax=axes[1], cmap="RdBu_r", center=0.0, coord_units="Å")
        axes[1].set_title(f"long-range part, ranks {ct.ranks}")
        paths = plot.savefig(fig, out / "potential_protein")
        plt.close(fig)
    bar.update()
    bar.close()
    print(f"{Path(path).name}: {mol.n} atoms, net charge {float(mol['charge'].sum()):+.3f} e")
    print(f"split: {split}")
    print(f"long range: build {t_long:.2f} s, Tucker ranks {ct.ranks}")
    print(f"grid {n_grid}^3: {t_grid:.2f} s after the build (potential in "
          f"[{v_grid.min():.3g}, {v_grid.max():.3g}] e/Å)")
    print(f"{n_points} random points: {t_pts:.2f} s after the build; max error / max |V| "
          f"against the direct sum at {check.size} of them: {err:.2e}")
    print("figures:", ", ".join(str(p) for p in paths))


if __name__ == "__main__":
    main()
