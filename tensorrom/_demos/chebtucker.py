"""ChebTucker demo: the Runge function in the Chebyshev–Tucker format.

Builds ChebTucker approximations of 1/(1 + 25|x|^2) on [-1, 1]^3 at a few degrees, checks
the Numba and JAX evaluations against each other, and draws the error versus degree, the
mode-1 singular values and a slice of the approximation on a 128^2 grid (via ``on_grid``).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

TITLE = "ChebTucker (tensor)"


def _runge(p):
    return 1.0 / (1.0 + 25.0 * np.sum(p**2, axis=1))


def run(out: Path, quick: bool) -> list[tuple[str, str]]:
    import matplotlib.pyplot as plt

    from .. import plot
    from ..data import Box, TensorGrid
    from ..tensor import ChebTucker

    box = Box.cube(1.0, 3)
    degrees = (8, 16, 32, 48) if quick else (8, 16, 32, 48, 64, 80)
    probe = np.random.default_rng(0).uniform(-1, 1, (5_000, 3))
    exact = _runge(probe)
    errors, cts = [], {}
    for g in tqdm(degrees, desc="ChebTucker degrees", leave=False):
        ct = ChebTucker.from_function(_runge, box, degree=g, rtol=1e-10)
        errors.append(float(np.max(np.abs(ct(probe) - exact))))
        cts[g] = ct
    ct = cts[degrees[-1]]
    t0 = time.perf_counter()
    v_numba = ct(probe)
    t_numba = time.perf_counter() - t0
    v_jax = np.asarray(ct.evaluate(probe, backend="jax"))
    grid = TensorGrid.uniform(box, (128, 128, 1))
    slab = TensorGrid([grid.axes[0], grid.axes[1], np.array([0.0])], box)
    values = ct.on_grid(slab).full()[:, :, 0]
    with plot.style():
        fig, axes = plt.subplots(1, 3, figsize=(plot.PAGE_WIDTH, 2.2))
        fig.subplots_adjust(wspace=0.6)
        axes[0].semilogy(degrees, errors, "o-", ms=3)
        axes[0].set_xlabel("degree per axis")
        axes[0].set_ylabel("max error")
        axes[0].set_title("Runge, rtol 1e-10")
        s = ct.singular_values[0]
        axes[1].semilogy(np.arange(1, s.size + 1), np.maximum(s / s[0], 1e-17))
        axes[1].axvline(ct.ranks[0], color="0.5", lw=0.6, ls="--")
        axes[1].set_xlabel("index")
        axes[1].set_ylabel(r"$\sigma_i/\sigma_1$ (mode 1)")
        axes[1].set_title(f"ranks {ct.ranks}")
        im = axes[2].imshow(values.T, origin="lower", extent=(-1, 1, -1, 1), cmap="viridis")
        fig.colorbar(im, ax=axes[2], shrink=0.8).ax.set_title("f", fontsize="small")
        axes[2].set_title("on_grid slice z = 0")
        axes[2].set_xlabel("x")
        axes[2].set_ylabel("y")
        axes[2].grid(False)
        paths = plot.savefig(fig, out / "chebtucker_runge")
        plt.close(fig)
    return [
        ("Runge degree / ranks", f"{degrees[-1]} / {ct.ranks}"),
        ("max error at 5000 points", f"{errors[-1]:.2e}"),
        ("a-posteriori estimate", f"{ct.error_estimate:.2e}"),
        ("storage", f"{ct.nbytes / 1024:.1f} KiB (full coefficients "
                    f"{8 * (degrees[-1] + 1) ** 3 / 2**20:.1f} MiB)"),
        ("|numba - jax|", f"{float(np.max(np.abs(v_numba - v_jax))):.1e}"),
        ("numba evaluation", f"{t_numba * 1e6 / len(probe):.2f} us/point"),
        ("figure", ", ".join(p.name for p in paths)),
    ]
