"""Potentials demo: an NaCl cluster's Coulomb potential through the range split."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

TITLE = "potentials (range-separated ChebTucker)"


def run(out: Path, quick: bool) -> list[tuple[str, str]]:
    import matplotlib.pyplot as plt

    from .. import plot
    from ..data import Box, Field, TensorGrid
    from ..potentials import (
        COULOMB_KCAL,
        RangeSplit,
        coulomb,
        direct_energy,
        direct_sum,
        energy,
        long_range,
        nacl_cluster,
    )

    L = 4 if quick else 8
    n_grid = 48 if quick else 96
    mol = nacl_cluster(L, vacancies=2, seed=0)
    bar = tqdm(total=4, desc="potentials demo", leave=False)
    rng = np.random.default_rng(0)
    lo, hi = mol.coords.min(axis=0) - 2.0, mol.coords.max(axis=0) + 2.0
    cand = rng.uniform(lo, hi, size=(4000, 3))
    dist = np.min(np.linalg.norm(cand[:, None] - mol.coords[None], axis=-1), axis=1)
    targets = cand[dist >= 0.5][:1000]
    t0 = time.perf_counter()
    v = coulomb(mol, targets, rtol=1e-6, method="split")  # the tensor method, not auto
    t_rs = time.perf_counter() - t0
    ref = direct_sum(mol, targets)
    err = float(np.max(np.abs(v - ref)) / np.max(np.abs(ref)))
    bar.update()
    e_rs = energy(mol, rtol=1e-8, method="split")
    e_dir = direct_energy(mol)
    bar.update()
    box = Box(lo, hi)
    split = RangeSplit.choose(box, 1e-6, n_particles=mol.n)
    ct = long_range(mol, split)
    plane = TensorGrid.uniform(Box(lo[:2], hi[:2]), n_grid)  # the plane z = a/2
    grid = TensorGrid([*plane.axes, np.array([0.5 * 2.82])], box)
    lr = Field(ct.on_grid(grid).full() * COULOMB_KCAL, grid, name="V_long",
               units="kcal/mol/e")
    bar.update()
    with plot.style():
        fig, axes = plt.subplots(1, 2, figsize=(plot.PAGE_WIDTH, 2.6))
        fig.subplots_adjust(wspace=0.6)
        plot.field_slice(lr, axis=2, index=0, ax=axes[0], cmap="RdBu_r", center=0.0,
                         coord_units="Å")
        axes[0].set_title(f"long-range part, z = {grid.axes[2][0]:.2f} Å")
        axes[1].plot(np.sort(np.abs(v - ref)) + 1e-18, np.linspace(0, 1, v.size), lw=1)
        axes[1].set_xscale("log")
        axes[1].set_xlabel("|V - V_direct| (e/Å)")
        axes[1].set_ylabel("fraction of targets")
        axes[1].set_title(f"{targets.shape[0]} targets, rtol 1e-6")
        paths = plot.savefig(fig, out / "potentials_nacl")
        plt.close(fig)
    bar.update()
    bar.close()
    return [
        ("system", f"NaCl {L}^3 cluster, 2 vacancies ({mol.n} ions)"),
        ("split", f"beta {split.beta:.3f}/Å, r_cut {split.r_cut:.2f} Å, "
                  f"degrees {split.degrees}, {split.long_sum.n_terms} Gaussians"),
        ("long-range Tucker ranks", str(ct.ranks)),
        ("max error / max|V| (1000 targets)", f"{err:.2e} ({t_rs:.2f} s)"),
        ("energy RS vs direct", f"{e_rs * COULOMB_KCAL:.6f} vs {e_dir * COULOMB_KCAL:.6f} "
                                f"kcal/mol (rel. {abs(e_rs - e_dir) / abs(e_dir):.1e})"),
        ("figure", ", ".join(p.name for p in paths)),
    ]
