"""``tensorrom simulate``: MLS-MPM trajectory datasets from the command line.

Example::

    tensorrom simulate --material sand --dim 2 --particles 2000 --trajectories 20 \\
        --frames 300 --out sand2d.h5
"""

from __future__ import annotations

import argparse
import time


def _cmd_simulate(args: argparse.Namespace) -> int:
    from .lagrangian import mpm

    overrides = {}
    for item in args.param or []:
        if "=" not in item:
            raise ValueError(f"--param must look like NAME=VALUE, got {item!r}")
        k, v = item.split("=", 1)
        try:
            overrides[k.strip()] = float(v)
        except ValueError:
            raise ValueError(f"--param {k}: value must be a number, got {v!r}") from None
    t0 = time.perf_counter()
    path = mpm.generate_dataset(
        args.out, args.material, dim=args.dim, n_particles=args.particles,
        n_trajectories=args.trajectories, n_frames=args.frames, frame_dt=args.frame_dt,
        substeps=args.substeps, seed=args.seed, cells=args.cells, max_bodies=args.max_bodies,
        speed=args.speed, material_params=overrides, progress=not args.no_progress,
        resume=not args.restart)
    stats = mpm.load_stats(path)
    print(f"wrote {path} ({args.trajectories} trajectories x {args.frames} frames x "
          f"{args.particles} particles, {args.material}, {args.dim}D) in "
          f"{time.perf_counter() - t0:.1f} s")
    print("velocity std (m/s): " + " ".join(f"{v:.4g}" for v in stats["velocity_std"]))
    print("acceleration std (m/s^2): "
          + " ".join(f"{v:.4g}" for v in stats["acceleration_std"]))
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "simulate", help="generate an MLS-MPM trajectory dataset (HDF5)",
        description="Simulate random scenes of one material with MLS-MPM and write an HDF5 "
                    "dataset with disjoint train/valid/test trajectories and pooled "
                    "normalisation statistics.")
    p.add_argument("--material", default="sand", help="jelly | water | sand | plasticine "
                   "(default: %(default)s)")
    p.add_argument("--dim", type=int, default=2, choices=(2, 3))
    p.add_argument("--particles", type=int, default=2000, help="particles per trajectory")
    p.add_argument("--trajectories", type=int, default=20)
    p.add_argument("--frames", type=int, default=300, help="frames per trajectory")
    p.add_argument("--frame-dt", type=float, default=1.0 / 300.0, help="seconds between frames")
    p.add_argument("--substeps", type=int, default=None,
                   help="MPM substeps per frame (default: the fewest stable)")
    p.add_argument("--cells", type=int, default=None,
                   help="grid cells per box edge (default 64 in 2D, 32 in 3D)")
    p.add_argument("--max-bodies", type=int, default=3)
    p.add_argument("--speed", type=float, default=1.0, help="maximal initial speed, m/s")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--param", action="append", metavar="NAME=VALUE",
                   help="override a material parameter, e.g. --param friction_angle=30")
    p.add_argument("--out", required=True, help="output .h5 file")
    p.add_argument("--restart", action="store_true",
                   help="ignore the finished trajectories of an interrupted run")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_simulate)
