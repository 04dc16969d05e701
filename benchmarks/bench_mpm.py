"""MLS-MPM throughput: particle-substeps per second, 2D and 3D, 1e3 / 1e4 / 1e5 particles.

Ours: ``tensorrom.lagrangian.mpm.simulate`` (JAX, jit, float32, the backend JAX finds: CPU
here, GPU on the device machine). Anchor: a plain NumPy implementation of the same MLS-MPM
substep (fixed-corotated jelly, APIC, quadratic B-splines, ``np.add.at`` scatter, float64),
written here from Hu et al. (2018); before timing, one substep of both codes is run in
float64 from the same state and the particle positions are compared.

Usage::

    python benchmarks/bench_mpm.py            # 1e3, 1e4, 1e5 particles
    python benchmarks/bench_mpm.py --quick    # 1e3, 1e4
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import time

import jax
import numpy as np

import tensorrom as tr
from tensorrom.lagrangian import mpm
from tensorrom.lagrangian.mpm._solver import _PAD


def make_scene(dim: int, n: int, material: str = "jelly") -> mpm.Scene:
    """A cube of about ``n`` particles filling 1/4 of each axis' middle, at rest."""
    per_axis = round(n ** (1 / dim))
    h = 0.4 / per_axis
    box = tr.data.Box(np.zeros(dim), np.ones(dim))
    block = mpm.Block(np.full(dim, 0.3), np.full(dim, 0.7), material)
    return mpm.Scene(box, [block], spacing=h, gravity=9.81)


# ------------------------------------------------------------------------------------------
# NumPy reference substep (same algorithm, written independently of the JAX code)
# ------------------------------------------------------------------------------------------
def numpy_substep(scene: mpm.Scene, dt: float, x, v, c, f, mass, vol, mu, lam):
    d = scene.dim
    dx = scene.grid_spacing
    lo, hi = scene.box.lo, scene.box.hi
    cells = np.ceil(scene.box.lengths / dx - 1e-9).astype(int)
    shape = tuple(cells + 2 * _PAD + 1)
    origin = lo - _PAD * dx
    # stress: fixed corotated, P F^T = 2 mu (F - R) F^T + lam (J - 1) J I
    u, s, vh = np.linalg.svd(f)
    r = u @ vh
    j = np.linalg.det(f)
    tau = 2 * mu * (f - r) @ np.swapaxes(f, 1, 2) + (lam * (j - 1) * j)[:, None, None] * np.eye(d)
    affine = -dt * vol[:, None, None] * (4 / dx**2) * tau + mass[:, None, None] * c
    xi = (x - origin) / dx
    base = np.floor(xi - 0.5).astype(int)
    fx = xi - base
    w = [0.5 * (1.5 - fx) ** 2, 0.75 - (fx - 1) ** 2, 0.5 * (fx - 0.5) ** 2]
    gm = np.zeros(shape)
    gmv = np.zeros(shape + (d,))
    stencil = list(itertools.product(range(3), repeat=d))
    for off in stencil:
        wt = np.prod([w[off[k]][:, k] for k in range(d)], axis=0)
        dpos = (np.array(off) - fx) * dx
        node = tuple((base[:, k] + off[k]) for k in range(d))
        np.add.at(gm, node, wt * mass)
        np.add.at(gmv, node, wt[:, None] * (mass[:, None] * v
                                            + np.einsum("nij,nj->ni", affine, dpos)))
    gv = np.where(gm[..., None] > 0, gmv / np.where(gm > 0, gm, 1)[..., None], 0.0)
    gv += dt * scene.gravity
    axes = np.meshgrid(*[origin[k] + dx * np.arange(shape[k]) for k in range(d)], indexing="ij")
    for k in range(d):
        low = axes[k] <= lo[k] + 1e-6 * dx
        up = axes[k] >= hi[k] - 1e-6 * dx
        gv[..., k] = np.where(low, np.maximum(gv[..., k], 0), gv[..., k])
        gv[..., k] = np.where(up, np.minimum(gv[..., k], 0), gv[..., k])
    v_new = np.zeros_like(v)
    c_new = np.zeros_like(c)
    for off in stencil:
        wt = np.prod([w[off[k]][:, k] for k in range(d)], axis=0)
        dpos = (np.array(off) - fx) * dx
        g = gv[tuple((base[:, k] + off[k]) for k in range(d))]
        v_new += wt[:, None] * g
        c_new += (4 / dx**2) * wt[:, None, None] * g[:, :, None] * dpos[:, None, :]
    x_new = np.clip(x + dt * v_new, lo, hi)
    f_new = (np.eye(d) + dt * c_new) @ f
    return x_new, v_new, c_new, f_new


def check_agreement(dim: int, substeps: int = 10) -> float:
    """Max |x_ours - x_numpy| after ``substeps`` substeps in float64 (two jelly halves
    moving against each other, so that the body deforms and carries stress)."""
    scene = make_scene(dim, 500)
    x = scene.particles().positions
    left = x[:, 0] < 0.5
    vel = np.zeros(dim)
    vel[0] = 2.0
    bodies = [mpm.PointBody(x[left], "jelly", velocity=vel),
              mpm.PointBody(x[~left], "jelly", velocity=-vel)]
    scene = mpm.Scene(scene.box, bodies, spacing=scene.spacing, gravity=9.81, jitter=0.5)
    p = scene.particles()
    dt = 0.9 * mpm.stable_dt(scene)
    traj = mpm.simulate(scene, 2, substeps=substeps, frame_dt=substeps * dt, dtype="float64")
    mu, lam = mpm.jelly().lame
    n = p.positions.shape[0]
    state = (p.positions.copy(), p.velocities.copy(), np.zeros((n, dim, dim)),
             np.broadcast_to(np.eye(dim), (n, dim, dim)).copy())
    for _ in range(substeps):
        state = numpy_substep(scene, dt, *state, p.mass, p.volume, mu, lam)
    moved = float(np.max(np.abs(state[0] - p.positions)))
    return float(np.max(np.abs(np.asarray(traj.positions[-1]) - state[0]))), moved


def time_ours(scene: mpm.Scene, substeps: int, repeats: int) -> float:
    dt = 0.9 * mpm.stable_dt(scene)
    kw = dict(substeps=substeps, frame_dt=substeps * dt)
    mpm.simulate(scene, 2, **kw)  # compile
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        mpm.simulate(scene, 2, **kw)
        best = min(best, time.perf_counter() - t0)
    return scene.n_particles * substeps / best


def time_numpy(scene: mpm.Scene, substeps: int) -> float:
    p = scene.particles()
    n, d = p.positions.shape
    mu, lam = mpm.jelly().lame
    dt = 0.9 * mpm.stable_dt(scene)
    state = (p.positions, p.velocities, np.zeros((n, d, d)), np.broadcast_to(np.eye(d),
                                                                             (n, d, d)).copy())
    t0 = time.perf_counter()
    for _ in range(substeps):
        state = numpy_substep(scene, dt, *state, p.mass, p.volume, mu, lam)
    return n * substeps / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1e3 and 1e4 particles only")
    args = ap.parse_args()
    print(f"machine: {platform.platform()}, {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs; JAX {jax.__version__} backend {jax.default_backend()} "
          f"({', '.join(str(dv) for dv in jax.devices())})")
    for dim in (2, 3):
        with jax.enable_x64(True):
            err, moved = check_agreement(dim)
        print(f"{dim}D: max |x_jax - x_numpy| after 10 substeps (float64): {err:.2e} m "
              f"(particles moved up to {moved:.2e} m)")
    sizes = (1_000, 10_000) if args.quick else (1_000, 10_000, 100_000)
    print(f"{'dim':>3} {'particles':>9} {'ours (p-substeps/s)':>20} "
          f"{'numpy (p-substeps/s)':>21} {'ratio':>7}")
    for dim in (2, 3):
        for n in sizes:
            scene = make_scene(dim, n)
            substeps = 20 if n <= 10_000 else 5
            ours = time_ours(scene, substeps, repeats=1 if args.quick else 3)
            ref = time_numpy(scene, 2 if n <= 10_000 else 1)
            print(f"{dim:>3} {scene.n_particles:>9} {ours:>20.3e} {ref:>21.3e} "
                  f"{ours / ref:>7.1f}", flush=True)


if __name__ == "__main__":
    main()
