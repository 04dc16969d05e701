"""``tensorrom potential``: the electrostatic potential of a PQR file on a grid.

Example::

    tensorrom potential adk_open.pqr --grid 128 --rtol 1e-6 --out adk_potential

writes ``DIR/potential.h5`` (a :class:`tensorrom.data.Field` in e/Å, readable with
:func:`tensorrom.io.load_field`) and ``DIR/potential_slice.{png,pdf}`` (the middle z-slice in
kcal/mol/e); ``--field`` adds ``DIR/field.h5``, the electric field on the grid (a Field with
three channels, e/Å²). With ``--points FILE`` (an (M, 3) array in Å: ``.npy``, or text with three
numbers per line separated by spaces or commas) it writes the potential at those points
instead, ``DIR/potential_points.csv`` (x, y, z in Å, V in e/Å and kcal/mol/e), computed by
:func:`tensorrom.potentials.coulomb` (``method="auto"``: the exact direct sum where it is
cheaper, else the range split); ``--field`` adds the electric field
:math:`E = -\nabla V` there (:func:`tensorrom.potentials.field`; E_x, E_y, E_z in e/Å² and
kcal/(mol·e·Å): the force on a unit probe charge).
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
    from .potentials import COULOMB_KCAL, coulomb_on_grid, field

    if args.grid < 2:
        raise ValueError(f"--grid must be >= 2, got {args.grid}")
    if not 1e-12 <= args.rtol <= 1e-2:
        raise ValueError(f"--rtol must lie in [1e-12, 1e-2], got {args.rtol}")
    if args.pad < 0:
        raise ValueError(f"--pad must be >= 0, got {args.pad}")
    if args.points is not None:
        return _potential_at_points(args)
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
    written = [path]
    if args.field:
        t1 = time.perf_counter()
        e = field(mol, grid.points(), rtol=args.rtol, min_distance=args.min_distance)
        t_field = time.perf_counter() - t1
        written.append(save_field(out / "field.h5", Field(e.reshape(*grid.shape, 3), grid,
                                                          name="E", units="e/Å²")))
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with plot.style():
        fig, ax = plt.subplots(figsize=(plot.COLUMN_WIDTH, 0.85 * plot.COLUMN_WIDTH))
        kcal = Field(np.clip(fld.values * COULOMB_KCAL, -args.clip, args.clip), grid,
                     name="V", units="kcal/mol/e")
        plot.field_slice(kcal, axis=2, ax=ax, cmap="RdBu_r", center=0.0, coord_units="Å")
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
    if args.field:
        print(f"field: |E| up to {float(np.linalg.norm(e, axis=1).max()):.4g} e/Å² "
              f"in {t_field:.2f} s (Field with 3 channels E_x, E_y, E_z)")
    print("wrote " + ", ".join(str(f) for f in [*written, *figs]))
    return 0


def _read_points(path: str):
    """(M, 3) float64 points from ``.npy`` or a text file (spaces or commas)."""
    import numpy as np

    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"--points: no such file {path}")
    if p.suffix == ".npy":
        pts = np.load(p)
    else:
        try:
            pts = np.loadtxt(p, delimiter="," if "," in p.read_text()[:4096] else None,
                             ndmin=2)
        except ValueError as err:
            raise ValueError(f"--points: {path} is not a table of numbers ({err})") from None
    pts = np.asarray(pts, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] != 3 or pts.shape[0] == 0:
        raise ValueError(f"--points: {path} must hold an (M, 3) array of coordinates in Å, "
                         f"got shape {pts.shape}")
    if not np.all(np.isfinite(pts)):
        raise ValueError(f"--points: {path} has non-finite coordinates")
    return pts


def _potential_at_points(args: argparse.Namespace) -> int:
    import numpy as np

    from .io import read_pqr
    from .potentials import COULOMB_KCAL, choose_method, coulomb, field

    pts = _read_points(args.points)
    mol = read_pqr(args.file)
    method = choose_method(mol.n, pts.shape[0])
    t0 = time.perf_counter()
    v = coulomb(mol, pts, rtol=args.rtol, min_distance=args.min_distance)
    t_pot = time.perf_counter() - t0
    columns = [pts, v, v * COULOMB_KCAL]
    header = "x_A,y_A,z_A,V_e_per_A,V_kcal_per_mol_e"
    if args.field:
        t1 = time.perf_counter()
        e = field(mol, pts, rtol=args.rtol, min_distance=args.min_distance)
        t_field = time.perf_counter() - t1
        columns += [e, e * COULOMB_KCAL]
        header += (",Ex_e_per_A2,Ey_e_per_A2,Ez_e_per_A2"
                   ",Ex_kcal_per_mol_e_A,Ey_kcal_per_mol_e_A,Ez_kcal_per_mol_e_A")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "potential_points.csv"
    tmp = path.with_suffix(".csv.tmp")
    np.savetxt(tmp, np.column_stack(columns), delimiter=",", header=header, comments="",
               fmt="%.10g")
    tmp.replace(path)
    print(f"{mol.n} atoms, total charge {float(mol['charge'].sum()):+.3f} e; "
          f"{pts.shape[0]} points")
    print(f"potential ({method}): min {v.min():.4g}, max {v.max():.4g} e/Å "
          f"(x {COULOMB_KCAL} = kcal/mol/e) in {t_pot:.2f} s")
    if args.field:
        fmethod = choose_method(mol.n, pts.shape[0], quantity="field")
        mag = np.linalg.norm(e, axis=1)
        print(f"field ({fmethod}): |E| up to {mag.max():.4g} e/Å² in {t_field:.2f} s")
    print(f"wrote {path}")
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "potential", help="electrostatic potential of a PQR file on a grid (HDF5 + figure)",
        description="Read a PQR file (charges in e, coordinates in Å), compute the Coulomb "
                    "potential sum_j q_j / |x - x_j| (e/Å) on a uniform cell-centred grid "
                    "around the molecule through the range-separated ChebTucker format (the "
                    "exact direct sum for small grids, where it is cheaper), and write it as "
                    "an HDF5 Field plus a slice figure.")
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
    p.add_argument("--points", default=None, metavar="FILE",
                   help="evaluate at these points instead of a grid: an (M, 3) array in Å "
                        "(.npy, or text with 3 numbers per line); writes "
                        "potential_points.csv")
    p.add_argument("--field", action="store_true",
                   help="also write the electric field E = -grad V: on the grid as field.h5 "
                        "(a Field with channels E_x, E_y, E_z in e/Å²), with --points as "
                        "columns of the CSV (e/Å² and kcal/(mol e Å))")
    p.add_argument("--out", default="potential", help="output folder (default: %(default)s)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(func=_cmd_potential)
