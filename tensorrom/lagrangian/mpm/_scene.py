"""Scene set-up for the MLS-MPM simulator: a box with walls, gravity and material bodies.

A :class:`Scene` holds the domain (a :class:`tensorrom.data.Box` whose faces are walls),
the gravity vector, the wall condition (``"slip"``: no penetration, free tangential motion;
``"sticky"``: no motion at all), the particle spacing ``h`` and the grid spacing ``dx``
(default ``2 h``: two particles per cell and axis), and a list of bodies. Each body is sampled
on a lattice of spacing ``h`` (cell-centred, so a block ``[a, b]`` holds
``round((b - a) / h)`` particles per axis), optionally jittered and given random velocities
from ``seed``. Each particle carries volume ``h^d`` and mass ``rho h^d``, fixed for the whole
simulation, so total mass is conserved exactly.

``particle_type`` is the index of the particle's material in ``Scene.materials`` (the distinct
materials in order of first appearance), stored with the trajectory metadata.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..._validate import as_array, check_finite, check_positive_float, check_positive_int
from ...data import Box
from ._materials import Material, material

__all__ = ["Block", "Sphere", "PointBody", "Scene", "random_scene"]


def _as_material(m: Any) -> Material:
    if isinstance(m, Material):
        return m
    if isinstance(m, str):
        return material(m)
    raise TypeError(f"material must be a name or a Material, got {type(m).__name__}")


def _as_velocity(v: Any, dim: int | None) -> np.ndarray | None:
    if v is None:
        return None
    a = np.asarray(as_array(v, "velocity", ndim=1), dtype=np.float64)
    check_finite(a, "velocity")
    if dim is not None and a.shape[0] != dim:
        raise ValueError(f"velocity must have {dim} entries, got {a.shape[0]}")
    return a


class _Body:
    material: Material
    velocity: np.ndarray | None

    def sample(self, spacing: float, dim: int) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def particle_volume(self, spacing: float, dim: int) -> float:
        """Volume (m^d) carried by each sampled particle: ``h^d`` unless overridden."""
        return spacing**dim


class Block(_Body):
    """An axis-aligned block ``[lower, upper]`` of one material.

    Args:
        lower, upper: corners (d,), in m.
        material: a :class:`Material` or a material name.
        velocity: initial velocity (d,), m/s (default at rest).
    """

    def __init__(self, lower: Any, upper: Any, material: Any, velocity: Any = None):
        self.box = Box(lower, upper)
        self.material = _as_material(material)
        self.velocity = _as_velocity(velocity, self.box.dim)

    def sample(self, spacing: float, dim: int) -> np.ndarray:
        if self.box.dim != dim:
            raise ValueError(f"Block has dim {self.box.dim}, scene has dim {dim}")
        counts = np.maximum(np.rint(self.box.lengths / spacing).astype(int), 1)
        axes = [self.box.lo[k] + (np.arange(counts[k]) + 0.5) * self.box.lengths[k] / counts[k]
                for k in range(dim)]
        mesh = np.meshgrid(*axes, indexing="ij")
        return np.stack([m.ravel() for m in mesh], axis=1)

    def particle_volume(self, spacing: float, dim: int) -> float:
        """The block's volume over its particle count (the lattice fills it exactly)."""
        counts = np.maximum(np.rint(self.box.lengths / spacing).astype(int), 1)
        return float(np.prod(self.box.lengths / counts))


class Sphere(_Body):
    """A ball (a disk in 2D) of radius ``radius`` (m) centred at ``center`` (d,)."""

    def __init__(self, center: Any, radius: float, material: Any, velocity: Any = None):
        c = np.asarray(as_array(center, "center", ndim=1), dtype=np.float64)
        check_finite(c, "center")
        self.center = c
        self.radius = check_positive_float(radius, "radius")
        self.material = _as_material(material)
        self.velocity = _as_velocity(velocity, c.shape[0])

    def sample(self, spacing: float, dim: int) -> np.ndarray:
        if self.center.shape[0] != dim:
            raise ValueError(f"Sphere has dim {self.center.shape[0]}, scene has dim {dim}")
        n = int(np.ceil(self.radius / spacing))
        ax = (np.arange(-n, n) + 0.5) * spacing
        mesh = np.meshgrid(*([ax] * dim), indexing="ij")
        pts = np.stack([m.ravel() for m in mesh], axis=1)
        pts = pts[np.sum(pts * pts, axis=1) <= self.radius**2]
        return pts + self.center


class PointBody(_Body):
    """Any point cloud (n, d) of one material; each point is one particle of volume ``h^d``."""

    def __init__(self, points: Any, material: Any, velocity: Any = None):
        p = np.asarray(as_array(points, "points", ndim=2), dtype=np.float64)
        if p.shape[0] < 1:
            raise ValueError("points must hold at least one point")
        check_finite(p, "points")
        self.points = p
        self.material = _as_material(material)
        self.velocity = _as_velocity(velocity, p.shape[1])

    def sample(self, spacing: float, dim: int) -> np.ndarray:
        if self.points.shape[1] != dim:
            raise ValueError(f"PointBody has dim {self.points.shape[1]}, scene has dim {dim}")
        return self.points.copy()


@dataclass
class Particles:
    """Sampled particle state (float64 NumPy arrays)."""

    positions: np.ndarray  # (N, d), m
    velocities: np.ndarray  # (N, d), m/s
    particle_type: np.ndarray  # (N,), int32 index into Scene.materials
    volume: np.ndarray  # (N,), m^d
    mass: np.ndarray  # (N,), kg (per unit depth in 2D)


class Scene:
    """A box, walls, gravity and bodies: everything :func:`simulate` needs.

    Args:
        box: the domain (:class:`tensorrom.data.Box`, 2D or 3D); its faces are walls.
        bodies: one body or a list of :class:`Block`, :class:`Sphere`, :class:`PointBody`.
        spacing: particle spacing ``h`` (m).
        grid_spacing: MPM grid cell size ``dx`` (m); default ``2 h``.
        gravity: a scalar ``g`` (m/s^2, acting along ``-e_{d-1}``) or a vector (d,).
        walls: ``"slip"`` or ``"sticky"``.
        jitter: random displacement of each particle, uniform in ``[-jitter h/2, jitter h/2]``
            per axis (``0 <= jitter <= 1``).
        velocity_noise: standard deviation (m/s) of a random velocity added per body
            (one random vector per body, so bodies stay rigid at start).
        seed: seed of the jitter and the random velocities.
    """

    def __init__(self, box: Box, bodies: Any, *, spacing: float, grid_spacing: float | None = None,
                 gravity: Any = 9.81, walls: str = "slip", jitter: float = 0.0,
                 velocity_noise: float = 0.0, seed: int = 0):
        if not isinstance(box, Box):
            raise TypeError(f"box must be a tensorrom.data.Box, got {type(box).__name__}")
        if box.dim not in (2, 3):
            raise ValueError(f"box must be 2D or 3D, got dim {box.dim}")
        self.box = box
        if isinstance(bodies, _Body):
            bodies = [bodies]
        bodies = list(bodies)
        if not bodies:
            raise ValueError("bodies must hold at least one body")
        for k, b in enumerate(bodies):
            if not isinstance(b, _Body):
                raise TypeError(f"bodies[{k}] must be a Block, Sphere or PointBody, got "
                                f"{type(b).__name__}")
        self.bodies = bodies
        self.spacing = check_positive_float(spacing, "spacing")
        self.grid_spacing = (2.0 * self.spacing if grid_spacing is None
                             else check_positive_float(grid_spacing, "grid_spacing"))
        if self.grid_spacing > 0.25 * float(box.lengths.min()):
            raise ValueError(f"grid_spacing {self.grid_spacing} is too coarse for the box "
                             f"(needs at least 4 cells per axis)")
        if np.ndim(gravity) == 0:
            g = float(gravity)
            if not np.isfinite(g):
                raise ValueError(f"gravity must be finite, got {g}")
            gvec = np.zeros(box.dim)
            gvec[-1] = -g
        else:
            gvec = np.asarray(as_array(gravity, "gravity", ndim=1), dtype=np.float64)
            check_finite(gvec, "gravity")
            if gvec.shape[0] != box.dim:
                raise ValueError(f"gravity must have {box.dim} entries, got {gvec.shape[0]}")
        self.gravity = gvec
        if walls not in ("slip", "sticky"):
            raise ValueError(f"walls must be 'slip' or 'sticky', got {walls!r}")
        self.walls = walls
        self.jitter = check_positive_float(jitter, "jitter", allow_zero=True)
        if self.jitter > 1:
            raise ValueError(f"jitter must be in [0, 1], got {jitter}")
        self.velocity_noise = check_positive_float(velocity_noise, "velocity_noise",
                                                   allow_zero=True)
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
        self.seed = int(seed)
        mats: list[Material] = []
        for b in bodies:
            if b.material not in mats:
                mats.append(b.material)
        self.materials = mats

    @property
    def dim(self) -> int:
        return self.box.dim

    def particles(self) -> Particles:
        """Sample every body; raises ValueError when a particle lies outside the box."""
        rng = np.random.default_rng(self.seed)
        d, h = self.dim, self.spacing
        xs, vs, ts, rhos, vols = [], [], [], [], []
        for k, b in enumerate(self.bodies):
            x = b.sample(h, d)
            if x.shape[0] == 0:
                raise ValueError(f"bodies[{k}] holds no particle at spacing {h}")
            if self.jitter > 0:
                x = x + (rng.random(x.shape) - 0.5) * self.jitter * h
            v = np.zeros_like(x)
            if b.velocity is not None:
                v += b.velocity
            if self.velocity_noise > 0:
                v += rng.normal(0.0, self.velocity_noise, size=d)
            xs.append(x)
            vs.append(v)
            ts.append(np.full(x.shape[0], self.materials.index(b.material), dtype=np.int32))
            rhos.append(np.full(x.shape[0], b.material.density))
            vols.append(np.full(x.shape[0], b.particle_volume(h, d)))
        x = np.concatenate(xs)
        inside = self.box.contains(x)
        if not np.all(inside):
            bad = int(np.argmin(inside))
            raise ValueError(f"bodies: {int(np.sum(~inside))} particles lie outside the box "
                             f"{self.box.lower}-{self.box.upper} at start (first at "
                             f"{x[bad].tolist()})")
        vol = np.concatenate(vols)
        return Particles(x, np.concatenate(vs), np.concatenate(ts), vol,
                         np.concatenate(rhos) * vol)

    @property
    def n_particles(self) -> int:
        return int(sum(b.sample(self.spacing, self.dim).shape[0] for b in self.bodies))

    def to_metadata(self) -> dict:
        """JSON-serialisable description (stored in Trajectory metadata)."""
        return {
            "materials": [m.to_dict() for m in self.materials],
            "spacing": self.spacing,
            "grid_spacing": self.grid_spacing,
            "gravity": self.gravity.tolist(),
            "walls": self.walls,
            "jitter": self.jitter,
            "velocity_noise": self.velocity_noise,
            "seed": self.seed,
        }


def random_scene(material_: Any, *, dim: int = 2, n_particles: int = 2000, seed: int = 0,
                 max_bodies: int = 3, speed: float = 1.0, domain: float = 1.0,
                 cells: int | None = None, **scene_kwargs) -> Scene:
    """A random scene in the style of the GNS benchmark datasets: 1..max_bodies blocks.

    The blocks hold about ``n_particles`` particles in total (exactly, up to the rounding
    of block sides to whole particles), sit at random non-overlapping places in the box
    ``[0, domain]^dim`` and start with a random velocity of up to ``speed`` m/s.

    Args:
        material_: material name or :class:`Material` of every body.
        dim: 2 or 3.
        n_particles: target particle count (> 0).
        seed: random seed (the same seed gives the same scene).
        max_bodies: the number of blocks is drawn from ``1..max_bodies``.
        speed: maximal initial speed (m/s).
        domain: box edge length (m).
        cells: grid cells per axis (default 64 in 2D, 32 in 3D); spacing is ``domain/(2 cells)``.
        **scene_kwargs: passed on to :class:`Scene` (gravity, walls, jitter, ...).
    """
    mat = _as_material(material_)
    if dim not in (2, 3):
        raise ValueError(f"dim must be 2 or 3, got {dim}")
    n_particles = check_positive_int(n_particles, "n_particles")
    max_bodies = check_positive_int(max_bodies, "max_bodies")
    cells = (64 if dim == 2 else 32) if cells is None else check_positive_int(cells, "cells",
                                                                               minimum=8)
    domain = check_positive_float(domain, "domain")
    speed = check_positive_float(speed, "speed", allow_zero=True)
    rng = np.random.default_rng(seed)
    h = domain / (2 * cells)
    margin = 4 * h
    usable = domain - 2 * margin
    capacity = int((usable / h) ** dim * 0.6)
    if n_particles > capacity:
        raise ValueError(f"n_particles={n_particles} does not fit the box at {cells} cells per "
                         f"axis (at most about {capacity}); raise cells")
    n_bodies = int(rng.integers(1, max_bodies + 1))
    while n_bodies > 1 and n_particles // n_bodies < 16:
        n_bodies -= 1
    shares = rng.dirichlet(np.full(n_bodies, 4.0))
    counts = np.maximum(np.round(shares * n_particles).astype(int), 1)
    counts[-1] = max(1, n_particles - int(counts[:-1].sum()))
    bodies: list[_Body] = []
    placed: list[tuple[np.ndarray, np.ndarray]] = []
    for n_b in counts:
        for _attempt in range(200):
            aspect = np.exp(rng.uniform(-0.7, 0.7, size=dim))
            aspect /= np.prod(aspect) ** (1.0 / dim)
            sides = np.maximum(np.rint(aspect * n_b ** (1.0 / dim)).astype(int), 1)
            # at least n_b lattice sites; the extra sites of the top layer stay empty
            sides[-1] = max(1, int(np.ceil(n_b / np.prod(sides[:-1]))))
            size = sides * h
            if np.any(size > usable):
                continue
            lo = margin + rng.uniform(0, 1, size=dim) * (usable - size)
            lo = np.round(lo / h) * h
            hi = lo + size
            if all(np.any(hi + h <= plo) or np.any(lo >= phi + h) for plo, phi in placed):
                placed.append((lo, hi))
                v = rng.uniform(-speed, speed, size=dim) if speed > 0 else None
                pts = Block(lo, hi, mat).sample(h, dim)
                order = np.lexsort((rng.random(pts.shape[0]), pts[:, -1]))
                bodies.append(PointBody(pts[order[:n_b]], mat, velocity=v))
                break
        else:
            raise ValueError(f"could not place {n_bodies} non-overlapping bodies of "
                             f"{n_particles} particles; lower n_particles or max_bodies")
    box = Box(np.zeros(dim), np.full(dim, domain))
    return Scene(box, bodies, spacing=h, seed=int(seed), **scene_kwargs)
