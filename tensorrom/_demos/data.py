"""Data-layer demo: a field on a grid, sampled points, a radius graph, one figure."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

TITLE = "data layer"


def run(out: Path, quick: bool) -> list[tuple[str, str]]:
    import matplotlib.pyplot as plt

    from .. import plot
    from ..data import Box, Field, TensorGrid, farthest_point_sample, radius_graph

    n = 64 if quick else 128
    box = Box([0.0, 0.0], [2.0, 1.0])
    grid = TensorGrid.uniform(box, (2 * n, n))
    x, y = grid.meshgrid()
    field = Field(np.sin(2 * np.pi * x) * np.cos(np.pi * y) * np.exp(-x), grid, name="u",
                  units="a.u.")
    rng = np.random.default_rng(0)
    probe = box.from_reference(rng.uniform(-1, 1, size=(2000, 2)))
    exact = np.sin(2 * np.pi * probe[:, 0]) * np.cos(np.pi * probe[:, 1]) * np.exp(-probe[:, 0])
    errs = {}
    for order in tqdm((1, 3), desc="interpolation", leave=False):
        errs[order] = float(np.max(np.abs(field.at(probe, order=order) - exact)))
    idx = farthest_point_sample(grid.points(), 400 if quick else 800, seed=0)
    pts = grid.points()[idx]
    graph = radius_graph(pts, r=0.07)
    with plot.style():
        fig, axes = plt.subplots(1, 2, figsize=(plot.PAGE_WIDTH, 2.2))
        fig.subplots_adjust(wspace=0.45)  # the colour bar's label clear of the next panel
        plot.field_slice(field, ax=axes[0])
        axes[0].set_title("field on a 2D TensorGrid")
        e = graph.edges()
        segs = np.stack([pts[e[:, 0]], pts[e[:, 1]]], axis=1)
        from matplotlib.collections import LineCollection

        axes[1].add_collection(LineCollection(segs, linewidths=0.3, colors="0.6"))
        plot.scatter_points(pts, c=field.at(pts), ax=axes[1], size=3)
        axes[1].set_xlim(box.lower[0], box.upper[0])
        axes[1].set_ylim(box.lower[1], box.upper[1])
        axes[1].set_title("farthest-point sample + radius graph")
        axes[1].set_xlabel("x")
        axes[1].set_ylabel("y")
        paths = plot.savefig(fig, out / "data_layer")
        plt.close(fig)
    return [
        ("grid", f"{grid.shape[0]}x{grid.shape[1]} cell-centred"),
        ("max interp. error (linear)", f"{errs[1]:.2e}"),
        ("max interp. error (cubic)", f"{errs[3]:.2e}"),
        ("radius graph", f"{len(pts)} nodes, {int(graph.n_edges)} edges"),
        ("figure", ", ".join(p.name for p in paths)),
    ]
