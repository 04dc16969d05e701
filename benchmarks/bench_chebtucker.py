"""ChebTucker versus the grid-based anchors (tensorly Tucker, numpy chebval3d).

(a) Compression: ChebTucker build (sampling at the Chebyshev nodes or CP interpolation, DCT,
    HOSVD / reduced HOSVD) plus ``on_grid`` for an n^3 grid, versus sampling the full n^3
    tensor and ``tensorly.decomposition.tucker`` at the same ranks. Wall time and peak traced
    memory (tracemalloc) of each, and their ratios. Inputs: the Runge function
    1/(1 + 25|x|^2) (degree 128, rtol 1e-10) and, when the paper's data are present, the
    protein long-range potential (n = 256 only, its grid).
(b) Evaluation at N scattered points: Numba and JAX (default JAX device) versus
    ``numpy.polynomial.chebyshev.chebval3d`` on the full coefficient tensor. chebval3d costs
    O(m^3) per point and builds (m, m, N) temporaries, so it is timed on a subset of points
    and its per-point time scaled to N (stated in the table).

Usage: python benchmarks/bench_chebtucker.py [--quick] [--sizes 128 256 512] [--points 1e6]
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import time
import tracemalloc
from pathlib import Path

import numpy as np

PAPER_DATA = Path(os.environ.get("TENSORROM_CHEBTUCK_DATA", "/work/shared/data/chebtuck"))


def machine() -> str:
    import jax

    return (f"{platform.platform()}, {platform.processor() or platform.machine()}, "
            f"{os.cpu_count()} CPUs, numba threads {os.environ.get('NUMBA_NUM_THREADS', 'all')}, "
            f"jax backend {jax.default_backend()} ({jax.devices()[0].device_kind})")


def measure(fn):
    """Run fn(); return (result, seconds, peak traced bytes)."""
    gc.collect()
    tracemalloc.start()
    tracemalloc.reset_peak()
    t0 = time.perf_counter()
    out = fn()
    dt = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return out, dt, peak


def runge(p):
    return 1.0 / (1.0 + 25.0 * np.sum(p**2, axis=1))


def runge_grid(grid):
    x, y, z = grid.axes
    r2 = x[:, None, None] ** 2 + y[None, :, None] ** 2 + z[None, None, :] ** 2
    return 1.0 / (1.0 + 25.0 * r2)


def tensorly_tucker(array, ranks):
    import tensorly as tl
    from tensorly.decomposition import tucker

    core, factors = tucker(tl.tensor(array), rank=list(ranks), init="svd", n_iter_max=100,
                           tol=1e-8)
    return core, factors


def bench_compression(sizes, with_protein=True):
    from tensorrom.data import Box, TensorGrid
    from tensorrom.tensor import ChebTucker

    rows = []
    box = Box.cube(1.0, 3)
    # warm up numba (the error-estimate check evaluates the result)
    ChebTucker.from_function(runge, box, degree=8, rtol=1e-6)
    for n in sizes:
        grid = TensorGrid.uniform(box, n)

        def ours(grid=grid):
            ct = ChebTucker.from_function(runge, box, degree=128, rtol=1e-10)
            return ct, ct.on_grid(grid)

        (ct, tk), t_ours, m_ours = measure(ours)

        def anchor(grid=grid, ranks=ct.ranks):
            full = runge_grid(grid)
            return full, tensorly_tucker(full, ranks)

        (full, (core, factors)), t_tl, m_tl = measure(anchor)
        # accuracy of both on a slice (forming the full ChebTucker grid would defeat the point)
        k = n // 2
        ours_slice = np.einsum("abc,ia,jb,c->ij", tk.core, tk.factors[0], tk.factors[1],
                               tk.factors[2][k])
        tl_slice = np.einsum("abc,ia,jb,c->ij", core, factors[0], factors[1], factors[2][k])
        rows.append(("Runge", n, ct.ranks, t_ours, m_ours, t_tl, m_tl,
                     float(np.max(np.abs(ours_slice - full[:, :, k]))),
                     float(np.max(np.abs(tl_slice - full[:, :, k])))))
        del full, core, factors
        gc.collect()
        print_row(rows[-1])
    protein = PAPER_DATA / "n256_Pn500.mat"
    if with_protein and protein.exists():
        import scipy.io

        d = scipy.io.loadmat(protein)
        red = d["LRed"][0, 0]
        h = float(d["Hunif"][0, 0])
        weights = red["LAM1C"][:, 0] / h**3
        facs = [np.ascontiguousarray(red[f"CU{k}"]) for k in (1, 2, 3)]
        pbox = Box.cube(25.0, 3)
        grid = TensorGrid.uniform(pbox, 256)

        def ours_p():
            ct = ChebTucker.from_cp(weights, facs, grid, degree=128, rtol=1e-7)
            return ct, ct.on_grid(grid)

        (ct, tk), t_ours, m_ours = measure(ours_p)

        def anchor_p():
            a = facs[0] * weights[None, :]
            full = np.einsum("ir,jkr->ijk", a, facs[1][:, None, :] * facs[2][None, :, :],
                             optimize=True)
            return full, tensorly_tucker(full, ct.ranks)

        (full, (core, factors)), t_tl, m_tl = measure(anchor_p)
        k = 128
        ours_slice = np.einsum("abc,ia,jb,c->ij", tk.core, tk.factors[0], tk.factors[1],
                               tk.factors[2][k])
        tl_slice = np.einsum("abc,ia,jb,c->ij", core, factors[0], factors[1], factors[2][k])
        rows.append(("protein", 256, ct.ranks, t_ours, m_ours, t_tl, m_tl,
                     float(np.max(np.abs(ours_slice - full[:, :, k]))),
                     float(np.max(np.abs(tl_slice - full[:, :, k])))))
        print_row(rows[-1])
    return rows


def print_header():
    print(f"{'input':8s} {'n':>5s} {'ranks':>14s} {'ours s':>8s} {'ours MB':>8s} "
          f"{'tensorly s':>10s} {'tl MB':>8s} {'time x':>7s} {'mem x':>7s} "
          f"{'err ours':>9s} {'err tl':>9s}")


def print_row(r):
    name, n, ranks, t_o, m_o, t_t, m_t, e_o, e_t = r
    print(f"{name:8s} {n:5d} {str(ranks):>14s} {t_o:8.2f} {m_o / 2**20:8.1f} {t_t:10.2f} "
          f"{m_t / 2**20:8.1f} {t_t / t_o:7.1f} {m_t / max(m_o, 1):7.1f} {e_o:9.1e} {e_t:9.1e}",
          flush=True)


def bench_evaluation(n_points, n_chebval):
    import jax
    from numpy.polynomial import chebyshev as npcheb

    from tensorrom.data import Box
    from tensorrom.tensor import ChebTucker

    ct = ChebTucker.from_function(runge, Box.cube(1.0, 3), degree=128, rtol=1e-10)
    rng = np.random.default_rng(0)
    p = rng.uniform(-1, 1, (n_points, 3))
    ct(p[:10])  # compile
    t0 = time.perf_counter()
    v_nb = ct(p)
    t_nb = time.perf_counter() - t0
    ct.evaluate(p[:10], backend="jax")
    v_jx = ct.evaluate(p, backend="jax")  # compile for the full batch shape
    jax.block_until_ready(v_jx)
    t0 = time.perf_counter()
    v_jx = ct.evaluate(p, backend="jax")
    jax.block_until_ready(v_jx)
    t_jx = time.perf_counter() - t0
    coeffs = ct.tucker.full()
    q = p[:n_chebval]
    t0 = time.perf_counter()
    v_cv = np.concatenate([npcheb.chebval3d(c[:, 0], c[:, 1], c[:, 2], coeffs)
                           for c in np.array_split(q, max(1, len(q) // 100))])
    t_cv = (time.perf_counter() - t0) * n_points / len(q)
    err_nb = float(np.max(np.abs(v_nb - runge(p))))
    print(f"\n(b) evaluation of Runge (degree 128, ranks {ct.ranks}) at {n_points:.0e} points")
    print(f"  numba            {t_nb:9.3f} s   max error {err_nb:.1e}")
    print(f"  jax ({jax.default_backend():3s})        {t_jx:9.3f} s   "
          f"|jax - numba| {float(np.max(np.abs(np.asarray(v_jx) - v_nb))):.1e}")
    print(f"  chebval3d        {t_cv:9.3f} s   (timed on {len(q)} points, scaled; "
          f"|chebval3d - numba| {float(np.max(np.abs(v_cv - v_nb[:len(q)]))):.1e})")
    print(f"  speed-up numba vs chebval3d: {t_cv / t_nb:.0f}x;  jax vs chebval3d: "
          f"{t_cv / t_jx:.0f}x")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (n = 64, 128)")
    ap.add_argument("--sizes", type=int, nargs="*", default=None)
    ap.add_argument("--points", type=float, default=None, help="evaluation points")
    ap.add_argument("--chebval-points", type=int, default=None)
    ap.add_argument("--skip-compression", action="store_true")
    ap.add_argument("--skip-evaluation", action="store_true")
    ap.add_argument("--no-protein", action="store_true", help="skip the protein input")
    args = ap.parse_args()
    sizes = args.sizes or ([64, 128] if args.quick else [128, 256, 512])
    n_points = int(args.points or (1e5 if args.quick else 1e6))
    n_cv = args.chebval_points or (200 if args.quick else 2000)
    print("machine:", machine())
    if not args.skip_compression:
        print("\n(a) build + on_grid (ours) vs full sample + tensorly tucker at the same ranks")
        print_header()
        bench_compression(sizes, with_protein=not (args.quick or args.no_protein))
    if not args.skip_evaluation:
        bench_evaluation(n_points, n_cv)


if __name__ == "__main__":
    main()
