"""The four MLS-MPM materials side by side: snapshots, an animation and a 3D scene.

Each material (jelly, water, sand, plasticine) starts as the same block thrown towards the
floor of a 1 m x 0.6 m tank; the strip of snapshots shows how each responds: the jelly
bounces back into shape, the water splashes, the sand forms a pile, the plasticine
flattens and stays flattened. A 3D scene (a sand ball hitting a jelly cube) is drawn as a
point scatter.

Usage::

    python examples/mpm_materials.py --out figures/         # 1-2 minutes on 2 cores
    python examples/mpm_materials.py --quick --out /tmp/x   # CI-sized
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

import tensorrom as tr
from tensorrom.lagrangian import mpm

MATERIALS = ("jelly", "water", "sand", "plasticine")


def simulate_2d(name: str, spacing: float, n_frames: int):
    box = tr.data.Box([0, 0], [1, 0.6])
    block = mpm.Block([0.1, 0.2], [0.35, 0.45], name, velocity=[2.0, -1.0])
    scene = mpm.Scene(box, [block], spacing=spacing, jitter=0.2, seed=0)
    return mpm.simulate(scene, n_frames, frame_dt=1 / 60, progress=True)


def simulate_3d(spacing: float, n_frames: int):
    box = tr.data.Box([0, 0, 0], [1, 1, 1])
    bodies = [mpm.Sphere([0.3, 0.5, 0.6], 0.15, "sand", velocity=[1.5, 0.0, 0.0]),
              mpm.Block([0.55, 0.35, 0.0], [0.8, 0.65, 0.25], "jelly")]
    scene = mpm.Scene(box, bodies, spacing=spacing, seed=0)
    return mpm.simulate(scene, n_frames, frame_dt=1 / 60, progress=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (CI)")
    ap.add_argument("--out", default="mpm_figures", help="output folder")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import animation

    spacing = 1 / 64 if args.quick else 1 / 128
    n_frames = 25 if args.quick else 61
    trajs = {}
    for name in MATERIALS:
        t0 = time.perf_counter()
        trajs[name] = simulate_2d(name, spacing, n_frames)
        t = trajs[name]
        print(f"{name:<10} {t.n_particles} particles, {t.metadata['substeps']} substeps/frame, "
              f"{time.perf_counter() - t0:.1f} s")

    snaps = np.linspace(0, n_frames - 1, 5).astype(int)
    with tr.plot.style():
        fig, axes = plt.subplots(len(MATERIALS), len(snaps),
                                 figsize=(tr.plot.PAGE_WIDTH, 0.75 * tr.plot.PAGE_WIDTH))
        for i, name in enumerate(MATERIALS):
            x = np.asarray(trajs[name].positions)
            for j, k in enumerate(snaps):
                ax = axes[i, j]
                ax.scatter(x[k, :, 0], x[k, :, 1], s=0.2, c=f"C{i}", linewidths=0)
                ax.set_xlim(0, 1)
                ax.set_ylim(0, 0.6)
                ax.set_aspect("equal")
                ax.set_xticks([])
                ax.set_yticks([])
                if i == 0:
                    ax.set_title(f"t = {k / 60:.2f} s")
            axes[i, 0].set_ylabel(name)
        fig.tight_layout()
        for p in tr.plot.savefig(fig, out / "mpm_materials_strip"):
            print("wrote", p)
        plt.close(fig)

        # animation of the four materials
        fig, axes = plt.subplots(2, 2, figsize=(tr.plot.COLUMN_WIDTH, 0.7 * tr.plot.COLUMN_WIDTH))
        dots = []
        for ax, (i, name) in zip(axes.ravel(), enumerate(MATERIALS)):
            x0 = np.asarray(trajs[name].positions[0])
            dots.append(ax.scatter(x0[:, 0], x0[:, 1], s=0.2, c=f"C{i}", linewidths=0))
            ax.set_xlim(0, 1)
            ax.set_ylim(0, 0.6)
            ax.set_aspect("equal")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(name)
        fig.tight_layout()

        def update(k):
            for d, name in zip(dots, MATERIALS):
                d.set_offsets(np.asarray(trajs[name].positions[k]))
            return dots

        anim = animation.FuncAnimation(fig, update, frames=n_frames, blit=True)
        try:
            import PIL  # noqa: F401

            path = out / "mpm_materials.gif"
            anim.save(path, writer=animation.PillowWriter(fps=20), dpi=120)
            print("wrote", path)
        except ImportError:
            print("pillow is not installed: no GIF written")
        plt.close(fig)

        # a 3D scene as a point scatter
        t3 = simulate_3d(1 / 32 if args.quick else 1 / 48, 16 if args.quick else 31)
        print(f"3D scene: {t3.n_particles} particles")
        fig = plt.figure(figsize=(tr.plot.PAGE_WIDTH, 0.45 * tr.plot.PAGE_WIDTH))
        types = np.asarray(t3.particle_type)
        for j, k in enumerate((0, t3.n_frames // 2, t3.n_frames - 1)):
            ax = fig.add_subplot(1, 3, j + 1, projection="3d")
            x = np.asarray(t3.positions[k])
            ax.scatter(x[:, 0], x[:, 1], x[:, 2], s=0.3, c=np.where(types == 0, "C2", "C0"),
                       linewidths=0)
            ax.set_xlim(0, 1)
            ax.set_ylim(0, 1)
            ax.set_zlim(0, 1)
            ax.set_title(f"t = {k * t3.dt:.2f} s")
        for p in tr.plot.savefig(fig, out / "mpm_3d_scene"):
            print("wrote", p)
        plt.close(fig)


if __name__ == "__main__":
    main()
