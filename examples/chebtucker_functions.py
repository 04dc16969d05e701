"""ChebTucker on the Chebfun3 test functions and on a Newton long-range input.

Builds the Chebyshev–Tucker approximation of
  - Runge         1 / (1 + 25 |x|^2),
  - tanh(5 (x + y + z)),
  - cos(10 (x + y + z)),
on [-1, 1]^3 for a range of degrees, and of the long-range part of the Newton kernel 1/|x|
(a Gaussian sum in CP form on a 256^3 grid: the paper's Newt_canon_256.mat when --data points
to it, otherwise a sinc-quadrature Gaussian sum built here). Prints a table of degree, Tucker
ranks, storage and max error at random points, and writes two figures: error versus degree
and the decay of the mode-1 singular values.

Usage: python examples/chebtucker_functions.py [--quick] [--out DIR] [--data DIR]
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

import tensorrom as tr
from tensorrom.data import Box, TensorGrid
from tensorrom.tensor import ChebTucker

FUNCTIONS = {
    "Runge": lambda p: 1.0 / (1.0 + 25.0 * np.sum(p**2, axis=1)),
    "tanh(5(x+y+z))": lambda p: np.tanh(5.0 * p.sum(axis=1)),
    "cos(10(x+y+z))": lambda p: np.cos(10.0 * p.sum(axis=1)),
}


def newton_long_range(data_dir: Path | None, n: int = 256):
    """CP factors (n, R_long) of the long-range part of 1/|x| on the cell-centred n^3 grid."""
    box = Box.cube(1.0, 3)
    grid = TensorGrid.uniform(box, n)
    path = data_dir / f"Newt_canon_{n}.mat" if data_dir else None
    if path is not None and path.exists():
        import scipy.io

        d = scipy.io.loadmat(path)
        factors = [d[f"U{k}r"] for k in (1, 2, 3)]
        n_terms = factors[0].shape[1]
        n_long = math.ceil(n_terms / 2) - 3  # columns are sorted wide -> narrow
        return grid, np.ones(n_long), [f[:, :n_long] for f in factors], "paper data"
    # 1/r = (2/sqrt(pi)) int exp(-r^2 t^2) dt, t = e^s, sinc quadrature with step h
    h = 0.25
    s = np.arange(-12, 30) * h
    t = np.exp(s)
    w = 2.0 / np.sqrt(np.pi) * h * t
    wide = t < 3.0  # Gaussians wider than ~1/3: the long-range part
    w, t = w[wide], t[wide]
    factors = [np.exp(-(ax[:, None] * t[None, :]) ** 2) for ax in grid.axes]
    return grid, w, factors, "sinc quadrature"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", type=Path, default=Path("chebtucker-out"))
    ap.add_argument("--data", type=Path, default=None,
                    help="folder with the paper's Newt_canon_256.mat (optional)")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    degrees = (8, 16, 32) if args.quick else (16, 32, 48, 64, 96, 128)
    rng = np.random.default_rng(0)
    box = Box.cube(1.0, 3)
    probe = rng.uniform(-1, 1, (2_000 if args.quick else 10_000, 3))
    rows, curves, svals = [], {}, {}
    jobs = [(name, g) for name in FUNCTIONS for g in degrees]
    for name, g in tqdm(jobs, desc="ChebTucker builds"):
        f = FUNCTIONS[name]
        ct = ChebTucker.from_function(f, box, degree=g, rtol=1e-10)
        err = float(np.max(np.abs(ct(probe) - f(probe))))
        rows.append((name, g, ct.ranks, ct.nbytes, err, ct.error_estimate))
        curves.setdefault(name, []).append((g, err))
        svals[name] = ct.singular_values[0] / ct.singular_values[0][0]
    grid, w, factors, source = newton_long_range(args.data, n=128 if args.quick else 256)
    lr = {}
    for g in tqdm(degrees, desc="Newton long-range"):
        ct = ChebTucker.from_cp(w, factors, grid, degree=g, rtol=1e-7)
        kz = grid.shape[2] // 2
        ref = np.einsum("r,ir,jr,r->ij", w, factors[0], factors[1], factors[2][kz])
        slab = TensorGrid([grid.axes[0], grid.axes[1], grid.axes[2][kz:kz + 1]], grid.box)
        val = ct.on_grid(slab).full()[:, :, 0]
        vmax = float(np.max(np.abs(ref)))
        err = float(np.max(np.abs(val - ref)) / vmax)
        # relative error on the middle slice and relative estimate (the data are ~1e-6 in size)
        rows.append((f"Newton LR ({source}, rel.)", g, ct.ranks, ct.nbytes, err,
                     ct.error_estimate / vmax))
        lr[g] = err
        svals["Newton long-range"] = ct.singular_values[0] / ct.singular_values[0][0]
    curves["Newton long-range (rel.)"] = sorted(lr.items())

    print(f"{'function':32s} {'degree':>6s} {'ranks':>14s} {'storage':>10s} "
          f"{'max error':>10s} {'estimate':>9s}")
    for name, g, ranks, nbytes, err, est in rows:
        print(f"{name:32s} {g:6d} {str(ranks):>14s} {nbytes / 1024:8.1f}KB {err:10.2e} "
              f"{est:9.1e}")

    import matplotlib.pyplot as plt

    with tr.plot.style():
        fig, ax = plt.subplots(figsize=(tr.plot.COLUMN_WIDTH, 2.4))
        for name, pts in curves.items():
            g, e = zip(*pts)
            ax.semilogy(g, e, "o-", label=name, ms=3)
        ax.set_xlabel("degree per axis")
        ax.set_ylabel("max error")
        ax.legend(fontsize="small")
        paths = tr.plot.savefig(fig, args.out / "chebtucker_error_vs_degree")
        plt.close(fig)
        fig, ax = plt.subplots(figsize=(tr.plot.COLUMN_WIDTH, 2.4))
        for name, s in svals.items():
            ax.semilogy(np.arange(1, s.size + 1), np.maximum(s, 1e-17), label=name)
        ax.axhline(1e-10, color="0.5", lw=0.6, ls="--")
        ax.set_xlabel("index")
        ax.set_ylabel(r"$\sigma_i / \sigma_1$ (mode 1)")
        ax.set_ylim(1e-17, 2)
        ax.legend(fontsize="small")
        paths += tr.plot.savefig(fig, args.out / "chebtucker_singular_values")
        plt.close(fig)
    print("figures:", ", ".join(str(p) for p in paths))


if __name__ == "__main__":
    main()
