"""The MLS-MPM core: APIC transfers with quadratic B-splines, 2D and 3D, in JAX.

One substep of length ``dt`` (Hu et al. 2018, moving least squares MPM with APIC):

1. particle to grid, with weights ``w_ip`` of the quadratic B-spline and
   ``D^-1 = 4 / dx^2``:
   ``m_i = sum_p w_ip m_p``,
   ``(m v)_i = sum_p w_ip [m_p v_p + (m_p C_p - dt V_p D^-1 tau_p)(x_i - x_p)]``,
   with ``tau_p`` the Kirchhoff stress of the particle's material after its return mapping;
2. grid update ``v_i = (m v)_i / m_i + dt g`` and the wall condition on the nodes on or
   outside the box faces (slip: no inward normal velocity; sticky: no velocity);
3. grid to particle ``v_p = sum_i w_ip v_i``, ``C_p = D^-1 sum_i w_ip v_i (x_i - x_p)^T``,
   ``x_p += dt v_p`` (clamped into the box), ``F_p <- (I + dt C_p) F_p``.

Frames are stored every ``substeps`` substeps; the substeps of a frame run in one
``jax.lax.scan`` and a chunk of frames in an outer scan, all under ``jax.jit``.

Precision: float32 by default. ``dtype="float64"`` runs the whole simulation inside the scoped
``with jax.enable_x64(True):`` context (no global JAX setting is changed).

References:
    Hu, Fang, Ge, Qu, Zhu, Pradhana, Jiang (2018), "A moving least squares material point
    method with displacement discontinuity and two-way rigid body coupling", ACM TOG 37(4).
    Jiang, Schroeder, Selle, Teran, Stomakhin (2015), "The affine particle-in-cell method",
    ACM TOG 34(4).
"""

from __future__ import annotations

import contextlib
import itertools
import math
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ..._validate import check_positive_float, check_positive_int
from ...data import Trajectory
from ._materials import (
    KIND_ID,
    jelly_update,
    plasticine_update,
    sand_update,
    water_pressure,
)
from ._scene import Particles, Scene

__all__ = ["simulate", "stable_dt", "MPMDivergenceError", "CFL_NUMBER"]

#: Courant number of the stable time step ``dt <= CFL_NUMBER dx / (c + |v0|)``.
CFL_NUMBER = 0.5
#: Number of grid nodes added outside the box on each side (the wall layer).
_PAD = 3


class MPMDivergenceError(ValueError):
    """Raised when a simulation produces NaN or infinite values (names the frame)."""


def stable_dt(scene: Scene, particles: Particles | None = None) -> float:
    """The largest stable substep ``dt = CFL dx / (c_max + |v0|_max)`` (s).

    ``c_max`` is the fastest elastic (P-wave) or sound speed over the scene's materials and
    ``|v0|_max`` the largest initial particle speed; ``CFL = 0.5``.
    """
    if not isinstance(scene, Scene):
        raise TypeError(f"scene must be a Scene, got {type(scene).__name__}")
    c = max(m.wave_speed for m in scene.materials)
    p = scene.particles() if particles is None else particles
    vmax = float(np.sqrt(np.max(np.sum(p.velocities**2, axis=1))))
    return CFL_NUMBER * scene.grid_spacing / (c + vmax)


# ------------------------------------------------------------------------------------------
# static configuration and per-particle parameters
# ------------------------------------------------------------------------------------------
class _Config(NamedTuple):
    dim: int
    grid_shape: tuple[int, ...]
    origin: tuple[float, ...]
    dx: float
    dt: float
    substeps: int
    gravity: tuple[float, ...]
    walls: str
    kinds: tuple[int, ...]
    lo: tuple[float, ...]
    hi: tuple[float, ...]


def _inward_float(v: float, dtype, up: bool) -> float:
    """The ``dtype`` number nearest to ``v`` on the inside (>= v when ``up``)."""
    f = np.asarray(v, dtype=dtype)
    if up and f < v:
        f = np.nextafter(f, np.asarray(np.inf, dtype=dtype))
    if not up and f > v:
        f = np.nextafter(f, np.asarray(-np.inf, dtype=dtype))
    return float(f)


def _make_config(scene: Scene, dt: float, substeps: int, dtype) -> _Config:
    box, dx = scene.box, scene.grid_spacing
    cells = np.ceil(box.lengths / dx - 1e-9).astype(int)
    shape = tuple(int(c) + 2 * _PAD + 1 for c in cells)
    origin = tuple(float(v) for v in box.lo - _PAD * dx)
    kinds = tuple(sorted({m.kind for m in scene.materials}))
    lo = tuple(_inward_float(v, dtype, True) for v in box.lo)
    hi = tuple(_inward_float(v, dtype, False) for v in box.hi)
    return _Config(scene.dim, shape, origin, float(dx), float(dt), int(substeps),
                   tuple(float(g) for g in scene.gravity), scene.walls, kinds, lo, hi)


def _particle_params(scene: Scene, p: Particles) -> dict[str, np.ndarray]:
    """Per-particle material constants gathered from ``particle_type`` (float64 NumPy)."""
    mats = scene.materials
    t = p.particle_type

    def table(fn):
        return np.array([fn(m) for m in mats], dtype=np.float64)[t]

    return {
        "mass": p.mass,
        "volume": p.volume,
        "kind": np.array([m.kind for m in mats], dtype=np.int32)[t],
        "mu": table(lambda m: m.lame[0]),
        "lam": table(lambda m: m.lame[1]),
        "alpha": table(lambda m: m.drucker_prager_alpha(scene.dim) if m.name == "sand" else 0.0),
        "yield_stress": table(lambda m: m.yield_stress if m.name == "plasticine" else 1.0),
        "tait_gamma": table(lambda m: m.tait_gamma),
        "viscosity": table(lambda m: m.viscosity),
    }


# ------------------------------------------------------------------------------------------
# singular value decompositions with proper rotations
# ------------------------------------------------------------------------------------------
def _svd2(f):
    """Closed-form 2x2 SVD ``F = U diag(s) V^T`` with ``det U = det V = 1`` (s may be < 0).

    Polar part first: ``R = rot(atan2(F10 - F01, F00 + F11))``, ``S = R^T F`` symmetric;
    then the Jacobi rotation ``W`` that diagonalises ``S``: ``U = R W``, ``V = W``.
    """
    x = f[:, 0, 0] + f[:, 1, 1]
    y = f[:, 1, 0] - f[:, 0, 1]
    th = jnp.arctan2(y, x)
    c, s = jnp.cos(th), jnp.sin(th)
    r = jnp.stack([jnp.stack([c, -s], -1), jnp.stack([s, c], -1)], -2)
    sym = jnp.einsum("nki,nkj->nij", r, f)
    a, b, d = sym[:, 0, 0], 0.5 * (sym[:, 0, 1] + sym[:, 1, 0]), sym[:, 1, 1]
    phi = 0.5 * jnp.arctan2(2 * b, a - d)
    cp, sp = jnp.cos(phi), jnp.sin(phi)
    w = jnp.stack([jnp.stack([cp, -sp], -1), jnp.stack([sp, cp], -1)], -2)
    s1 = cp * cp * a + 2 * cp * sp * b + sp * sp * d
    s2 = sp * sp * a - 2 * cp * sp * b + cp * cp * d
    u = jnp.einsum("nij,njk->nik", r, w)
    return u, jnp.stack([s1, s2], -1), w


def _svd3(f):
    """Batched 3x3 SVD with proper rotations (the last singular value carries the sign)."""
    u, s, vh = jnp.linalg.svd(f)
    v = jnp.swapaxes(vh, -1, -2)
    du = jnp.sign(jnp.linalg.det(u))
    dv = jnp.sign(jnp.linalg.det(v))
    flip_u = jnp.ones_like(s).at[:, -1].set(du)
    flip_v = jnp.ones_like(s).at[:, -1].set(dv)
    u = u * flip_u[:, None, :]
    v = v * flip_v[:, None, :]
    s = s * flip_u * flip_v
    return u, s, v


def _det(m):
    """Batched 2x2 or 3x3 determinant by cofactors."""
    if m.shape[-1] == 2:
        return m[:, 0, 0] * m[:, 1, 1] - m[:, 0, 1] * m[:, 1, 0]
    return (m[:, 0, 0] * (m[:, 1, 1] * m[:, 2, 2] - m[:, 1, 2] * m[:, 2, 1])
            - m[:, 0, 1] * (m[:, 1, 0] * m[:, 2, 2] - m[:, 1, 2] * m[:, 2, 0])
            + m[:, 0, 2] * (m[:, 1, 0] * m[:, 2, 1] - m[:, 1, 1] * m[:, 2, 0]))


# ------------------------------------------------------------------------------------------
# one substep
# ------------------------------------------------------------------------------------------
def _stress(cfg: _Config, f, c, prm):
    """Return-mapped deformation gradient and Kirchhoff stress (N, d, d)."""
    d = cfg.dim
    if cfg.kinds == (KIND_ID["water"],):  # water only: no decomposition needed
        j = _det(f)
        eye = jnp.eye(d, dtype=f.dtype)
        p = water_pressure(j, prm["lam"], prm["tait_gamma"])
        tau = (-(j * p))[:, None, None] * eye + (j * prm["viscosity"])[:, None, None] \
            * (c + jnp.swapaxes(c, 1, 2))
        return (jnp.sign(j) * jnp.power(jnp.abs(j), 1.0 / d))[:, None, None] * eye, tau
    u, sig, v = (_svd2 if d == 2 else _svd3)(f)
    kind = prm["kind"][:, None]
    sig_new = sig
    s = jnp.zeros_like(sig)
    eye = jnp.eye(d, dtype=f.dtype)
    water_tau = None
    for k in cfg.kinds:
        if k == KIND_ID["jelly"]:
            sk, tk = jelly_update(sig, prm["mu"], prm["lam"])
        elif k == KIND_ID["sand"]:
            sk, tk = sand_update(sig, prm["mu"], prm["lam"], prm["alpha"])
        elif k == KIND_ID["plasticine"]:
            sk, tk = plasticine_update(sig, prm["mu"], prm["lam"], prm["yield_stress"])
        else:  # water: isotropic, keep only J
            j = jnp.prod(sig, axis=1, keepdims=True)
            sk = jnp.broadcast_to(jnp.power(jnp.abs(j), 1.0 / d) * jnp.sign(j), sig.shape)
            tk = jnp.zeros_like(sig)
            jj = j[:, 0]
            p = water_pressure(jj, prm["lam"], prm["tait_gamma"])
            water_tau = (-(jj * p))[:, None, None] * eye + (jj * prm["viscosity"])[:, None, None] \
                * (c + jnp.swapaxes(c, 1, 2))
        sig_new = jnp.where(kind == k, sk, sig_new)
        s = jnp.where(kind == k, tk, s)
    f_new = jnp.einsum("nij,nj,nkj->nik", u, sig_new, v)
    tau = jnp.einsum("nij,nj,nkj->nik", u, s, u)
    if water_tau is not None:
        is_water = (prm["kind"] == KIND_ID["water"])[:, None, None]
        f_new = jnp.where(is_water, sig_new[:, :1, None] * eye, f_new)
        tau = jnp.where(is_water, water_tau, tau)
    return f_new, tau


def _offsets(d: int) -> np.ndarray:
    return np.array(list(itertools.product(range(3), repeat=d)), dtype=np.int32)  # (3^d, d)


def _wall_masks(cfg: _Config) -> tuple[np.ndarray, np.ndarray]:
    """Boolean (n_nodes, d) masks of nodes on/outside the lower and upper box faces."""
    axes = [cfg.origin[k] + cfg.dx * np.arange(cfg.grid_shape[k]) for k in range(cfg.dim)]
    mesh = np.meshgrid(*axes, indexing="ij")
    nodes = np.stack([m.ravel() for m in mesh], axis=1)
    tol = 1e-6 * cfg.dx
    lower = nodes <= np.asarray(cfg.lo) + tol
    upper = nodes >= np.asarray(cfg.hi) - tol
    return lower, upper


def _substep(cfg: _Config, prm, state):
    x, v, c, f = state
    dtype = x.dtype
    d = cfg.dim
    dx = jnp.asarray(cfg.dx, dtype)
    dt = jnp.asarray(cfg.dt, dtype)
    inv_dx = 1.0 / dx
    dinv = 4.0 * inv_dx * inv_dx
    n_nodes = int(np.prod(cfg.grid_shape))
    strides = np.array([int(np.prod(cfg.grid_shape[k + 1:])) for k in range(d)], dtype=np.int32)
    offs = jnp.asarray(_offsets(d))

    origin = jnp.asarray(cfg.origin, dtype)
    xi = (x - origin) * inv_dx
    base = jnp.floor(xi - 0.5).astype(jnp.int32)
    fx = xi - base.astype(dtype)
    w = jnp.stack([0.5 * (1.5 - fx) ** 2, 0.75 - (fx - 1.0) ** 2, 0.5 * (fx - 0.5) ** 2], axis=1)
    # stencil weights (N, 3^d) and offsets (N, 3^d, d) in metres
    wt = jnp.prod(jnp.stack([w[:, offs[:, k], k] for k in range(d)], axis=-1), axis=-1)
    dpos = (offs[None, :, :].astype(dtype) - fx[:, None, :]) * dx
    idx = jnp.sum((base[:, None, :] + offs[None, :, :]) * jnp.asarray(strides), axis=-1)

    f_new, tau = _stress(cfg, f, c, prm)
    mass = prm["mass"]
    affine = (-dt * dinv) * prm["volume"][:, None, None] * tau + mass[:, None, None] * c
    mom = mass[:, None, None] * v[:, None, :] + jnp.einsum("nij,nsj->nsi", affine, dpos)
    contrib = jnp.concatenate([wt[..., None] * mom, (wt * mass[:, None])[..., None]], axis=-1)
    grid = jnp.zeros((n_nodes, d + 1), dtype).at[idx.reshape(-1)].add(
        contrib.reshape(-1, d + 1))
    gm = grid[:, d:]
    gv = jnp.where(gm > 0, grid[:, :d] / jnp.where(gm > 0, gm, 1.0), 0.0)
    gv = gv + dt * jnp.asarray(cfg.gravity, dtype)
    lower, upper = _wall_masks(cfg)
    if cfg.walls == "sticky":
        on_wall = jnp.asarray(np.any(lower | upper, axis=1))[:, None]
        gv = jnp.where(on_wall, 0.0, gv)
    else:
        gv = jnp.where(jnp.asarray(lower), jnp.maximum(gv, 0.0), gv)
        gv = jnp.where(jnp.asarray(upper), jnp.minimum(gv, 0.0), gv)

    gvp = gv[idx]  # (N, 3^d, d)
    v_new = jnp.einsum("ns,nsi->ni", wt, gvp)
    c_new = dinv * jnp.einsum("ns,nsi,nsj->nij", wt, gvp, dpos)
    x_new = jnp.clip(x + dt * v_new, jnp.asarray(cfg.lo, dtype), jnp.asarray(cfg.hi, dtype))
    eye = jnp.eye(d, dtype=dtype)
    f_next = jnp.einsum("nij,njk->nik", eye + dt * c_new, f_new)
    return (x_new, v_new, c_new, f_next)


@partial(jax.jit, static_argnames=("cfg", "n_frames"))
def _run_chunk(cfg: _Config, n_frames: int, prm, state):
    """Advance ``n_frames`` frames; returns the new state, positions (n_frames, N, d),
    a finite flag and the maximal speed per frame."""

    def frame(st, _):
        st, _ = jax.lax.scan(lambda s, __: (_substep(cfg, prm, s), None), st, None,
                             length=cfg.substeps)
        x, v = st[0], st[1]
        ok = jnp.all(jnp.isfinite(x)) & jnp.all(jnp.isfinite(v)) & jnp.all(jnp.isfinite(st[3]))
        vmax = jnp.sqrt(jnp.max(jnp.sum(v * v, axis=1)))
        return st, (x, ok, vmax)

    return jax.lax.scan(frame, state, None, length=n_frames)


# ------------------------------------------------------------------------------------------
# driver
# ------------------------------------------------------------------------------------------
def _dtype_context(dtype: str):
    if dtype == "float64":
        return jax.enable_x64(True)
    return contextlib.nullcontext()


def simulate(scene: Scene, n_frames: int, substeps: int | None = None, *,
             frame_dt: float = 1.0 / 300.0, dtype: str = "float32", progress: bool = False,
             chunk: int = 25) -> Trajectory:
    """Run the MLS-MPM simulation of ``scene`` and return the particle trajectory.

    Args:
        scene: the :class:`Scene` (box, walls, gravity, bodies).
        n_frames: number of stored frames (>= 1), including the initial state at t = 0.
        substeps: MPM substeps per frame; default the fewest for which
            ``dt = frame_dt / substeps`` is below :func:`stable_dt`.
        frame_dt: time between stored frames (s).
        dtype: ``"float32"`` (default) or ``"float64"`` (run under a scoped
            ``jax.enable_x64(True)``).
        progress: show a tqdm progress bar over frames.
        chunk: frames per compiled call (NaN checks and the progress bar happen between
            chunks).

    Returns:
        :class:`tensorrom.data.Trajectory` with positions (n_frames, N, d) in ``dtype``,
        ``dt = frame_dt``, the scene's box, ``particle_type`` (N,) and metadata (materials,
        substeps, substep dt, grid spacing, gravity, walls, seed, total mass, particle mass and
        volume arrays).

    Raises:
        ValueError: non-positive counts, unknown dtype, particles outside the box, or a substep
            above the stable limit (the message gives the limit).
        MPMDivergenceError: NaN or inf appeared; the message names the first bad frame and the
            largest particle speed and Courant number before it.
    """
    if not isinstance(scene, Scene):
        raise TypeError(f"scene must be a Scene, got {type(scene).__name__}")
    n_frames = check_positive_int(n_frames, "n_frames")
    frame_dt = check_positive_float(frame_dt, "frame_dt")
    chunk = check_positive_int(chunk, "chunk")
    if dtype not in ("float32", "float64"):
        raise ValueError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
    particles = scene.particles()
    limit = stable_dt(scene, particles)
    if substeps is None:
        substeps = max(1, math.ceil(frame_dt / limit * (1 + 1e-9)))
    substeps = check_positive_int(substeps, "substeps")
    dt = frame_dt / substeps
    if dt > limit * (1 + 1e-12):
        raise ValueError(
            f"substeps={substeps} gives dt={dt:.3e} s, above the stable limit {limit:.3e} s "
            f"(CFL {CFL_NUMBER} dx / (c + |v0|) with c = "
            f"{max(m.wave_speed for m in scene.materials):.3g} m/s); use substeps >= "
            f"{math.ceil(frame_dt / limit)}")

    with _dtype_context(dtype):
        npdt = np.float64 if dtype == "float64" else np.float32
        cfg = _make_config(scene, dt, substeps, npdt)
        prm_np = _particle_params(scene, particles)
        prm = {k: jnp.asarray(a if a.dtype.kind in "iu" else a.astype(npdt))
               for k, a in prm_np.items()}
        n, d = particles.positions.shape
        x0 = np.clip(particles.positions, cfg.lo, cfg.hi).astype(npdt)
        state = (jnp.asarray(x0), jnp.asarray(particles.velocities.astype(npdt)),
                 jnp.zeros((n, d, d), npdt), jnp.broadcast_to(jnp.eye(d, dtype=npdt), (n, d, d)))
        frames = [x0[None]]
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=n_frames - 1, desc="MPM frames", unit="frame", leave=False)
        done, last_vmax = 1, float(np.sqrt(np.max(np.sum(particles.velocities**2, axis=1))))
        try:
            while done < n_frames:
                k = min(chunk, n_frames - done)
                state, (xs, ok, vmax) = _run_chunk(cfg, k, prm, state)
                ok = np.asarray(ok)
                vmax = np.asarray(vmax, dtype=np.float64)
                if not np.all(ok):
                    bad = int(np.argmin(ok))
                    prev = vmax[bad - 1] if bad > 0 else last_vmax
                    raise MPMDivergenceError(
                        f"simulation produced NaN/inf at frame {done + bad} "
                        f"(t = {(done + bad) * frame_dt:.4g} s); the largest particle speed "
                        f"before was {prev:.3g} m/s, Courant number |v| dt / dx = "
                        f"{prev * dt / cfg.dx:.3g} (unstable above ~1): lower dt (more "
                        f"substeps), soften the material or slow the bodies")
                frames.append(np.asarray(xs))
                last_vmax = float(vmax[-1])
                done += k
                if bar is not None:
                    bar.update(k)
        finally:
            if bar is not None:
                bar.close()
    positions = np.concatenate(frames, axis=0)
    meta = scene.to_metadata()
    meta.update({
        "simulator": "tensorrom.lagrangian.mpm (MLS-MPM, APIC, quadratic B-splines)",
        "dim": scene.dim,
        "substeps": substeps,
        "substep_dt": dt,
        "frame_dt": frame_dt,
        "stable_dt": limit,
        "dtype": dtype,
        "total_mass": float(np.sum(particles.mass)),
        "particle_mass": particles.mass,
        "particle_volume": particles.volume,
        "units": "SI (m, s, kg per m^(3-d) in 2D)",
    })
    return Trajectory(positions, frame_dt, scene.box, particle_type=particles.particle_type,
                      metadata=meta)


def _grid_mass(scene: Scene, particles: Particles, dtype=np.float64) -> np.ndarray:
    """Grid node masses after one particle-to-grid transfer (for tests: partition of unity)."""
    with _dtype_context("float64" if dtype == np.float64 else "float32"):
        return _grid_mass_impl(scene, particles, dtype)


def _grid_mass_impl(scene: Scene, particles: Particles, dtype) -> np.ndarray:
    cfg = _make_config(scene, 1.0, 1, dtype)
    d = cfg.dim
    x = jnp.asarray(particles.positions.astype(dtype))
    xi = (x - jnp.asarray(cfg.origin, dtype)) / cfg.dx
    base = jnp.floor(xi - 0.5).astype(jnp.int32)
    fx = xi - base.astype(dtype)
    w = jnp.stack([0.5 * (1.5 - fx) ** 2, 0.75 - (fx - 1.0) ** 2, 0.5 * (fx - 0.5) ** 2], axis=1)
    offs = jnp.asarray(_offsets(d))
    wt = jnp.prod(jnp.stack([w[:, offs[:, k], k] for k in range(d)], axis=-1), axis=-1)
    strides = np.array([int(np.prod(cfg.grid_shape[k + 1:])) for k in range(d)], dtype=np.int32)
    idx = jnp.sum((base[:, None, :] + offs[None, :, :]) * jnp.asarray(strides), axis=-1)
    m = jnp.asarray(particles.mass.astype(dtype))
    grid = jnp.zeros(int(np.prod(cfg.grid_shape)), dtype).at[idx.reshape(-1)].add(
        (wt * m[:, None]).reshape(-1))
    return np.asarray(grid)


