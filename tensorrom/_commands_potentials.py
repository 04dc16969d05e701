"""``tensorrom potential``: the electrostatic potential of a PQR file on a grid.

Example::

    tensorrom potential adk_open.pqr --grid 128 --rtol 1e-6 --out adk_potential

writes ``DIR/potential.h5`` (a :class:`tensorrom.data.Field` in e/Å, readable with
:func:`tensorrom.io.load_field`) and ``DIR/potential_slice.{png,pdf}`` (the middle z-slice in
kcal/mol/e).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path


def _cmd_potential(args: argparse.Namespace) -> int:
    import numpy as np
    from tqdm.auto import tqdm

    from . import plot
    from .data import Box, Field, TensorGrid
    from .io import read_pqr, save_field
    from .potentials import COULOMB_KCAL, coulomb_on_grid

    if args.grid < 2:
        raise ValueError(f"--grid must be >= 2, got {args.grid}")
    if not 0 < args.rtol < 1e-1:
        raise ValueError(f"--rtol must lie in (0, 0.1), got {args.rtol}")
    if args.pad < 0:
        raise ValueError(f"--pad must be >= 0, got {args.pad}")
    out = Path(args.out)
    steps = tqdm(total=3, desc="potential", disable=args.no_progress)
    t0 = time.perf_counter()
    mol = read_pqr(args.file)
    steps.update()
    box = Box.bounding(mol.coords, pad=args.pad)
    grid = TensorGrid.uniform(box, args.grid)
    fld = coulomb_on_grid(mol, grid, rtol=args.rtol, min_distance=args.min_distance)
    steps.update()
    t_pot = time.perf_counter() - t0
    out.mkdir(parents=True, exist_ok=True)
    path = save_field(out / "potential.h5", fld)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with plot.style():
        fig, ax = plt.subplots(figsize=(plot.COLUMN_WIDTH, 0.85 * plot.COLUMN_WIDTH))
        kcal = Field(np.clip(fld.values * COULOMB_KCAL, -args.clip, args.clip), grid,
                     name="V", units="kcal/mol/e")
        plot.field_slice(kcal, axis=2, ax=ax, cmap="RdBu_r")
        ax.set_title(f"{Path(args.file).name}: z = {grid.axes[2][args.grid // 2]:.1f} Å")
        figs = plot.savefig(fig, out / "potential_slice")
        plt.close(fig)
    steps.update()
    steps.close()
    v = fld.values
    print(f"{mol.n} atoms, total charge {float(mol['charge'].sum()):+.3f} e; grid "
          f"{args.grid}^3 on {box!r}")
    print(f"potential: min {v.min():.4g}, max {v.max():.4g} e/Å "
          f"(x {COULOMB_KCAL} = kcal/mol/e) in {t_pot:.2f} s")
    print(f"wrote {path} and " + ", ".join(str(f) for f in figs))
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "potential", help="electrostatic potential of a PQR file on a grid (HDF5 + figure)",
        description="Read a PQR file (charges in e, coordinates in Å), compute the Coulomb "
                    "potential sum_j q_j / |x - x_j| (e/Å) on a uniform cell-centred grid "
                    "around the molecule through the range-separated ChebTucker format, and "
                    "write it as an HDF5 Field plus a slice figure.")
    p.add_argument("file", help="input .pqr file")
    p.add_argument("--grid", type=int, default=128, help="grid points per axis "
                   "(default: %(default)s)")
    p.add_argument("--rtol", type=float, default=1e-6, help="kernel tolerance "
                   "(default: %(default)s)")
    p.add_argument("--pad", type=float, default=5.0, help="space around the molecule, Å "
                   "(default: %(default)s)")
    p.add_argument("--min-distance", type=float, default=0.0,
                   help="fail when a grid node is closer than this to an atom, Å (default: "
                        "%(default)s: a node exactly on an atom omits that atom's term)")
    p.add_argument("--clip", type=float, default=50.0,
                   help="colour range of the figure, ± kcal/mol/e (default: %(default)s)")
    p.add_argument("--out", default="potential", help="output folder (default: %(default)s)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(func=_cmd_potential)
