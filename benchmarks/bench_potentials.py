"""Full Coulomb potential of a protein: tensorrom (range-separated ChebTucker) versus
fmm3dpy (FMM, eps = 1e-6) versus a chunked direct sum.

Input: adk_open.pqr (adenylate kinase, 3341 atoms, from the optional MDAnalysisTests package)
or any PQR file given with --pqr. Two target sets, each timed as the median of --repeats runs
with everything built from scratch (tensorrom's long-range build and split included):

(a) the 128^3 cell-centred grid around the molecule (5 Å padding);
(b) 10^5 uniformly random points in the same box.

Errors are measured against the exact direct sum (float64, O(NM)) at 20 000 random grid nodes
and at (up to) the first 20 000 scattered points: max |V - V_ref| / max |V_ref| and the
relative 2-norm. fmm3dpy's Laplace kernel is 1/(4 pi r), so its potentials are multiplied by
4 pi. The direct sum is timed on those scattered points and scaled to all of them; for the
grid its time is that per-target cost times the number of nodes (stated). Wall time and the
process's CPU time (all threads) are both reported: on a shared machine the CPU time is the
steadier measure of work. The JAX path (``backend="jax"``: short range on padded per-bin
candidate lists, ChebTucker evaluation) is timed on the scattered points on the default JAX
device. At the scattered points both the range split
(``method="split"``) and the default ``method="auto"`` (``choose_method``: the direct sum where
it is cheaper) are timed.

Larger systems: ``--copies K`` places K x K copies of the molecule side by side in the
xy-plane (4 Å apart; the figures in docs/potentials.md for 13 364 and 30 069 atoms are K = 2
and 3). ``--field`` also times the electric field at the scattered points (``field``,
``method="auto"``) against fmm3dpy with gradients (``pgt=2``), errors against
``direct_field`` at the reference points.

Usage: python benchmarks/bench_potentials.py [--quick] [--pqr FILE] [--grid 128]
       [--points 100000] [--repeats 3] [--rtol 1e-6] [--no-jax] [--copies K] [--field]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import statistics
import time

import numpy as np


def machine() -> str:
    import jax

    return (f"{platform.platform()}, {platform.processor() or platform.machine()}, "
            f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, numba threads "
            f"{os.environ.get('NUMBA_NUM_THREADS', 'all')}, OPENBLAS_NUM_THREADS "
            f"{os.environ.get('OPENBLAS_NUM_THREADS', 'default')}, jax backend "
            f"{jax.default_backend()} ({jax.devices()[0].device_kind})")


def median_time(fn, repeats):
    """(result, median wall seconds, median CPU seconds of this process, all threads)."""
    times, cpu, out = [], [], None
    for _ in range(repeats):
        c0 = time.process_time()
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return out, statistics.median(times), statistics.median(cpu)


def errors(v, ref):
    v = np.asarray(v)
    return (float(np.max(np.abs(v - ref)) / np.max(np.abs(ref))),
            float(np.linalg.norm(v - ref) / np.linalg.norm(ref)))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="48^3 grid, 10^4 points, 1 repeat")
    ap.add_argument("--pqr", default=None, help="PQR file (default: adk_open.pqr)")
    ap.add_argument("--grid", type=int, default=128)
    ap.add_argument("--points", type=int, default=100_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--rtol", type=float, default=1e-6)
    ap.add_argument("--no-jax", action="store_true",
                    help="skip the JAX path (slow on a CPU-only machine)")
    ap.add_argument("--copies", type=int, default=1,
                    help="K x K copies of the molecule side by side (default 1)")
    ap.add_argument("--field", action="store_true",
                    help="also time the field at the points against fmm3dpy with gradients")
    args = ap.parse_args(argv)
    if args.copies < 1:
        raise SystemExit(f"--copies must be >= 1, got {args.copies}")
    if args.quick:
        args.grid, args.points, args.repeats = 48, 10_000, 1

    from tensorrom.data import Box, PointCloud, TensorGrid
    from tensorrom.io import read_pqr
    from tensorrom.potentials import (
        choose_method,
        coulomb,
        coulomb_on_grid,
        direct_energy,
        direct_field,
        direct_sum,
        energy,
        field,
    )

    path = args.pqr
    if path is None:
        if importlib.util.find_spec("MDAnalysisTests") is None:
            raise SystemExit("install MDAnalysisTests (adk_open.pqr) or pass --pqr FILE")
        from MDAnalysisTests.datafiles import PQR as path
    have_fmm = importlib.util.find_spec("fmm3dpy") is not None
    mol = read_pqr(path)
    if args.copies > 1:
        shift = np.ptp(mol.coords, axis=0) + 4.0
        k = args.copies
        mol = PointCloud(
            np.concatenate([mol.coords + np.array([i * shift[0], j * shift[1], 0.0])
                            for i in range(k) for j in range(k)]),
            {"charge": np.tile(mol["charge"], k * k)})
    x, q = mol.coords, mol["charge"]
    box = Box.bounding(x, pad=5.0)
    grid = TensorGrid.uniform(box, args.grid)
    rng = np.random.default_rng(0)
    pts = box.from_reference(rng.uniform(-1, 1, size=(args.points, 3)))
    print(f"machine: {machine()}")
    copies = "" if args.copies == 1 else f" ({args.copies}x{args.copies} copies)"
    print(f"input: {os.path.basename(path)}{copies}, {mol.n} atoms; grid {args.grid}^3 = "
          f"{grid.size} nodes; {args.points} random points; rtol {args.rtol:g}; "
          f"median of {args.repeats}")

    # warm-up (Numba compilation, JAX tracing) on a tiny problem, not timed
    small = mol.subset(np.arange(min(200, mol.n)))
    coulomb(small, pts[:100], args.rtol, min_distance=0.0, method="split")
    coulomb(small, pts[:100], args.rtol, min_distance=0.0, method="direct")
    energy(small, method="split")
    direct_energy(small)
    coulomb_on_grid(small, TensorGrid.uniform(box, 8), args.rtol, min_distance=0.0,
                    method="split")

    # references: exact direct sums
    check = rng.choice(grid.size, size=min(20_000, grid.size), replace=False)
    g_check = np.stack([a.ravel()[check] for a in grid.meshgrid()], axis=1)
    ref_grid = direct_sum(mol, g_check, min_distance=0.0)
    n_ref = min(20_000, args.points)
    ref_pts, t_direct, c_direct = median_time(
        lambda: direct_sum(mol, pts[:n_ref], min_distance=0.0), 1)
    t_direct_grid = t_direct / n_ref * grid.size
    c_direct_grid = c_direct / n_ref * grid.size
    t_direct, c_direct = t_direct / n_ref * args.points, c_direct / n_ref * args.points

    rows = []
    fld, t_ours, c_ours = median_time(
        lambda: coulomb_on_grid(mol, grid, args.rtol, min_distance=0.0, method="split"),
        args.repeats)
    rows.append(("grid", "tensorrom", t_ours, c_ours,
                 *errors(fld.values.reshape(-1)[check], ref_grid)))
    v_pts, t_ours_p, c_ours_p = median_time(
        lambda: coulomb(mol, pts, args.rtol, min_distance=0.0, method="split"), args.repeats)
    rows.append(("points", "tensorrom split", t_ours_p, c_ours_p,
                 *errors(v_pts[:n_ref], ref_pts)))
    auto = choose_method(mol.n, pts.shape[0])
    v_auto, t_auto, c_auto = median_time(
        lambda: coulomb(mol, pts, args.rtol, min_distance=0.0), args.repeats)
    rows.append(("points", f"tensorrom auto (-> {auto})", t_auto, c_auto,
                 *errors(v_auto[:n_ref], ref_pts)))
    t_jax = None
    if not args.no_jax:
        v_jax, t_jax, c_jax = median_time(
            lambda: np.asarray(coulomb(mol, pts, args.rtol, min_distance=0.0, backend="jax",
                                       method="split")), args.repeats)
        rows.append(("points", "tensorrom (jax)", t_jax, c_jax,
                     *errors(v_jax[:n_ref], ref_pts)))
    t_fmm = t_fmm_p = None
    if have_fmm:
        import fmm3dpy

        src = np.ascontiguousarray(x.T)
        gpts = np.ascontiguousarray(grid.points().T)

        def fmm(targets):
            out = fmm3dpy.lfmm3d(eps=1e-6, sources=src, charges=q, targets=targets, pgt=1)
            return out.pottarg * (4.0 * np.pi)

        v_fmm, t_fmm, c_fmm = median_time(lambda: fmm(gpts), args.repeats)
        rows.append(("grid", "fmm3dpy eps=1e-6", t_fmm, c_fmm, *errors(v_fmm[check], ref_grid)))
        v_fmm_p, t_fmm_p, c_fmm_p = median_time(lambda: fmm(np.ascontiguousarray(pts.T)),
                                                args.repeats)
        rows.append(("points", "fmm3dpy eps=1e-6", t_fmm_p, c_fmm_p,
                     *errors(v_fmm_p[:n_ref], ref_pts)))
    rows.append(("grid", "direct (per-target time x nodes)", t_direct_grid, c_direct_grid, 0.0,
                 0.0))
    rows.append(("points", f"direct (Numba; {n_ref} points, scaled)", t_direct, c_direct, 0.0,
                 0.0))
    if args.field:
        # the field: errors relative to max |E| at the reference points
        field(small, pts[:100], args.rtol, min_distance=0.0, method="split")  # warm-up
        ref_e = direct_field(mol, pts[:n_ref], min_distance=0.0)

        def field_errors(e):
            e = np.asarray(e)[:n_ref]
            return (float(np.max(np.abs(e - ref_e)) / np.max(np.abs(ref_e))),
                    float(np.linalg.norm(e - ref_e) / np.linalg.norm(ref_e)))

        fauto = choose_method(mol.n, pts.shape[0], quantity="field")
        e_auto, t_fa, c_fa = median_time(lambda: field(mol, pts, args.rtol, min_distance=0.0),
                                         args.repeats)
        rows.append(("points (field)", f"tensorrom auto (-> {fauto})", t_fa, c_fa,
                     *field_errors(e_auto)))
        if have_fmm:
            def fmm_grad():
                out = fmm3dpy.lfmm3d(eps=1e-6, sources=src, charges=q,
                                     targets=np.ascontiguousarray(pts.T), pgt=2)
                return -out.gradtarg.T * (4.0 * np.pi)

            e_fmm, t_ff, c_ff = median_time(fmm_grad, args.repeats)
            rows.append(("points (field)", "fmm3dpy eps=1e-6, pgt=2", t_ff, c_ff,
                         *field_errors(e_fmm)))

    print()
    print("| targets | method | wall (s) | CPU (s) | max err / max|V| | rel. 2-norm err |")
    print("|---|---|---|---|---|---|")
    for tgt, name, t, c, e_max, e_2 in rows:
        print(f"| {tgt} | {name} | {t:.3f} | {c:.3f} | {e_max:.1e} | {e_2:.1e} |")
    print()
    if have_fmm:
        print(f"grid:   fmm3dpy / tensorrom = {t_fmm / t_ours:.2f}x wall, "
              f"{c_fmm / c_ours:.2f}x CPU (direct / tensorrom = {t_direct_grid / t_ours:.1f}x)")
        jax_ratio = "" if t_jax is None else f", fmm3dpy / tensorrom-jax = {t_fmm_p / t_jax:.2f}x"
        print(f"points: fmm3dpy / tensorrom split = {t_fmm_p / t_ours_p:.2f}x{jax_ratio} "
              f"(direct / tensorrom split = {t_direct / t_ours_p:.2f}x)")
        print(f"points: fmm3dpy / tensorrom auto (-> {auto}) = {t_fmm_p / t_auto:.2f}x")
        if args.field:
            print(f"field:  fmm3dpy (potential and gradient) / tensorrom field auto "
                  f"(-> {fauto}) = {t_ff / t_fa:.2f}x")
    else:
        print("fmm3dpy not installed: pip install 'tensorrom[fmm]' for the FMM anchor")

    # the energy: the range split (O(N), rtol 1e-8) against the O(N^2) pair sum, and what
    # method="auto" picks
    e_split, t_es, _ = median_time(lambda: energy(mol, method="split"), args.repeats)
    e_dir, t_ed, _ = median_time(lambda: direct_energy(mol), args.repeats)
    print(f"energy: split {t_es:.3f} s, direct {t_ed:.3f} s (split / direct = "
          f"{t_es / t_ed:.1f}x, rel. difference {abs(e_split - e_dir) / abs(e_dir):.1e}); "
          f"auto -> {choose_method(mol.n, quantity='energy')}")


if __name__ == "__main__":
    main()
