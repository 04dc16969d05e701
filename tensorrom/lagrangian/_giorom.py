"""GIOROM: a reduced-order neural-operator time-stepper on a sparse subset of the particles.

The stepper sees only ``n`` of the ``N`` particles (about 10-30 %). On their radius graph it
applies interaction-network layers, integrates the particle latents onto a regular latent grid
with a graph-kernel integral, mixes them with Fourier-neural-operator layers on the grid,
integrates back to the particles, applies more interaction layers and decodes the acceleration.
The motion of all particles (or of any other point cloud) is then obtained from the sparse set
with :class:`tensorrom.lagrangian.SparseToDense`.

Kernel integrals between the particles ``y`` and the grid nodes ``z`` (spacing ``h``) use the
smooth compact weight ``w(s) = (1 - s^2)^2`` for ``s = |z - y| / r_k < 1`` with
``r_k = kernel_radius * h``:

    particles -> grid:  g(z) = sum_y w k_in((z - y)/r_k, h(y)) / (1 + sum_y w)
    grid -> particles:  h'(y) = sum_z w k_out((y - z)/r_k, g(z)) / sum_z w

Each particle only interacts with the ``(2s+1)^d`` grid nodes of a fixed stencil, so shapes
are static and no neighbour search is needed.
"""

from __future__ import annotations

import math
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._validate import check_positive_float, check_positive_int
from ..data import Box, Graph
from ._layers import (
    MLP,
    InteractionBlock,
    Normalisation,
    box_arrays,
    check_acceleration_features,
    check_history,
    edge_features,
    node_feature_count,
    node_features,
    wall_hyperparameter,
)

__all__ = ["GIOROM", "SpectralConv", "subset_indices"]


def _complex_dtype(dtype):
    return jnp.complex128 if jnp.dtype(dtype) == jnp.float64 else jnp.complex64


class SpectralConv(eqx.Module):
    """Fourier layer kernel ``(K v)(z) = F^{-1}[R(k) F[v](k)]`` keeping the lowest ``modes``
    frequencies per axis (positive and negative on all but the last axis).

    References:
        Z. Li et al., "Fourier Neural Operator for Parametric Partial Differential Equations",
        ICLR 2021.
    """

    weight_re: Any
    weight_im: Any
    modes: int = eqx.field(static=True)
    dim: int = eqx.field(static=True)

    def __init__(self, channels: int, dim: int, modes: int, *, key, dtype=jnp.float32):
        shape = (channels, channels) + (2 * modes,) * (dim - 1) + (modes,)
        k1, k2 = jax.random.split(key)
        scale = 1.0 / (channels * channels)
        self.weight_re = scale * jax.random.uniform(k1, shape, dtype)
        self.weight_im = scale * jax.random.uniform(k2, shape, dtype)
        self.modes = modes
        self.dim = dim

    def __call__(self, v):
        """v: (channels, n_1, ..., n_d) real -> same shape."""
        axes = tuple(range(1, self.dim + 1))
        spatial = v.shape[1:]
        vf = jnp.fft.rfftn(v, axes=axes)
        m = self.modes
        idx = [np.concatenate([np.arange(m), np.arange(n - m, n)]) for n in spatial[:-1]]
        idx.append(np.arange(m))
        sel = (slice(None),) + np.ix_(*idx)
        w = jax.lax.complex(self.weight_re, self.weight_im)
        block = jnp.einsum("i...,io...->o...", vf[sel], w)
        out = jnp.zeros((w.shape[1],) + vf.shape[1:], vf.dtype).at[sel].set(block)
        return jnp.fft.irfftn(out, s=spatial, axes=axes).astype(v.dtype)


class _FourierLayer(eqx.Module):
    spectral: SpectralConv
    pointwise: eqx.nn.Linear

    def __init__(self, channels, dim, modes, *, key, dtype):
        k1, k2 = jax.random.split(key)
        self.spectral = SpectralConv(channels, dim, modes, key=k1, dtype=dtype)
        self.pointwise = eqx.nn.Linear(channels, channels, key=k2, dtype=dtype)

    def __call__(self, v):
        flat = v.reshape(v.shape[0], -1)
        local = jax.vmap(self.pointwise, in_axes=1, out_axes=1)(flat).reshape(v.shape)
        return v + jax.nn.gelu(self.spectral(v) + local)


def subset_indices(positions, n: int, *, method: str = "fps", key):
    """Indices of a sparse subset of ``n`` particles, traceable inside ``jit``.

    ``"random"``: a uniformly random subset without replacement. ``"fps"``: greedy
    farthest-point sampling started from a random particle (each next point maximises the
    distance to those chosen), which covers the body evenly.

    Args:
        positions: (N, d) positions the subset is chosen from.
        n: subset size, ``1 <= n <= N`` (static).
        method: "fps" or "random".
        key: PRNG key.

    Returns:
        (n,) int32 indices.
    """
    x = jnp.asarray(positions)
    if x.ndim != 2:
        raise ValueError(f"positions must have shape (N, d), got {tuple(x.shape)}")
    N = x.shape[0]
    n = check_positive_int(n, "n")
    if n > N:
        raise ValueError(f"n (subset size) must be at most the number of particles {N}, got {n}")
    if method == "random":
        return jax.random.permutation(key, N)[:n].astype(jnp.int32)
    if method != "fps":
        raise ValueError(f"method must be 'fps' or 'random', got {method!r}")
    first = jax.random.randint(key, (), 0, N, dtype=jnp.int32)
    chosen = jnp.zeros(n, jnp.int32).at[0].set(first)
    dist = jnp.sum((x - x[first]) ** 2, axis=-1)

    def body(j, carry):
        chosen, dist = carry
        nxt = jnp.argmax(dist).astype(jnp.int32)
        dist = jnp.minimum(dist, jnp.sum((x - x[nxt]) ** 2, axis=-1))
        return chosen.at[j].set(nxt), dist

    chosen, _ = jax.lax.fori_loop(1, n, body, (chosen, dist))
    return chosen


class GIOROM(eqx.Module):
    """GIOROM time-stepper on a sparse particle graph.

    ``model(history, graph)`` returns the per-frame acceleration of the sparse particles from
    their last ``H + 1`` positions and their radius graph (same conventions as :class:`GNS`).

    Args:
        dim: spatial dimension (2 or 3).
        box: the domain; the latent grid covers it (cell-centred nodes).
        radius: radius of the sparse particle graph (position units; larger than for the full
            set, e.g. ``R / sqrt(fraction)`` in 2D).
        normalisation: velocity / acceleration statistics.
        n_history: past velocities H.
        latent: particle latent width.
        grid_shape: latent grid nodes per axis (an int for all axes).
        grid_channels: channels of the grid latent.
        modes: Fourier modes kept per axis (<= grid_shape / 2 after padding).
        n_fourier: number of Fourier layers.
        n_pre, n_post: interaction-network layers before / after the grid.
        kernel_radius: graph-kernel radius in grid spacings.
        wall_distance: range of the wall-distance features (position units; default
            ``radius``), as in :class:`GNS`.
        acceleration_features: also give the ``H - 1`` past per-frame accelerations as node
            inputs, as in :class:`GNS` (default False).
        key: PRNG key. dtype: parameter dtype (float32 default).

    References:
        H. Viswanath, Y. Chang, A. Tong, J. Berner, P. Chen, A. Bera, "Reduced-Order Neural
        Operators: Learning Lagrangian Dynamics on Highly Sparse Graphs", arXiv:2407.03925.
    """

    node_encoder: MLP
    edge_encoder: MLP
    pre: list
    to_grid: MLP
    lift: eqx.nn.Linear
    fourier: list
    from_grid: MLP
    merge: MLP
    post: list
    decoder: MLP
    normalisation: Normalisation
    box_lower: Any
    box_upper: Any
    dim: int = eqx.field(static=True)
    radius: float = eqx.field(static=True)
    wall_distance: float = eqx.field(static=True)
    acceleration_features: bool = eqx.field(static=True)
    n_history: int = eqx.field(static=True)
    latent: int = eqx.field(static=True)
    grid_shape: tuple = eqx.field(static=True)
    grid_channels: int = eqx.field(static=True)
    modes: int = eqx.field(static=True)
    pad: int = eqx.field(static=True)
    kernel_radius: float = eqx.field(static=True)
    dtype: str = eqx.field(static=True)

    def __init__(self, dim: int, box: Box, radius: float, *,
                 normalisation: Normalisation | None = None, n_history: int = 5,
                 latent: int = 128, grid_shape: int | tuple = 32, grid_channels: int = 64,
                 modes: int = 12, n_fourier: int = 4, n_pre: int = 2, n_post: int = 2,
                 kernel_radius: float = 1.5, wall_distance: float | None = None,
                 acceleration_features: bool = False, key,
                 dtype=jnp.float32):
        dim = check_positive_int(dim, "dim")
        if dim not in (2, 3):
            raise ValueError(f"dim must be 2 or 3, got {dim}")
        lo, hi = box_arrays(box, dtype)
        if box.dim != dim:
            raise ValueError(f"box has dim {box.dim} but dim={dim}")
        self.radius = check_positive_float(radius, "radius")
        self.wall_distance = (self.radius if wall_distance is None
                              else check_positive_float(wall_distance, "wall_distance"))
        self.n_history = check_positive_int(n_history, "n_history")
        self.acceleration_features = check_acceleration_features(acceleration_features,
                                                                 self.n_history)
        self.latent = check_positive_int(latent, "latent")
        gs = (grid_shape,) * dim if isinstance(grid_shape, (int, np.integer)) else tuple(
            grid_shape)
        if len(gs) != dim:
            raise ValueError(f"grid_shape must have {dim} entries, got {gs}")
        self.grid_shape = tuple(check_positive_int(int(g), "grid_shape", minimum=4) for g in gs)
        self.grid_channels = check_positive_int(grid_channels, "grid_channels")
        self.pad = max(1, min(self.grid_shape) // 4)
        modes = check_positive_int(modes, "modes")
        if 2 * modes > min(self.grid_shape) + self.pad:
            raise ValueError(f"modes={modes} too large for grid_shape {self.grid_shape}: need "
                             f"2 * modes <= {min(self.grid_shape) + self.pad}")
        self.modes = modes
        self.kernel_radius = check_positive_float(kernel_radius, "kernel_radius")
        self.dim = dim
        self.dtype = jnp.dtype(dtype).name
        self.box_lower, self.box_upper = lo, hi
        norm = normalisation if normalisation is not None else Normalisation.identity(dim)
        self.normalisation = jax.tree_util.tree_map(lambda a: jnp.asarray(a, dtype), norm)
        keys = list(jax.random.split(key, 8 + n_pre + n_post + n_fourier))
        L, C = latent, grid_channels
        n_in = node_feature_count(dim, n_history, self.acceleration_features)
        self.node_encoder = MLP(n_in, L, L, key=keys.pop(), dtype=dtype)
        self.edge_encoder = MLP(dim + 1, L, L, key=keys.pop(), dtype=dtype)
        self.pre = [InteractionBlock(L, key=keys.pop(), dtype=dtype) for _ in range(n_pre)]
        self.to_grid = MLP(dim + L, C, L, layer_norm=False, key=keys.pop(), dtype=dtype)
        self.lift = eqx.nn.Linear(C + 1, C, key=keys.pop(), dtype=dtype)
        self.fourier = [_FourierLayer(C, dim, modes, key=keys.pop(), dtype=dtype)
                        for _ in range(n_fourier)]
        self.from_grid = MLP(dim + C, L, L, key=keys.pop(), dtype=dtype)
        self.merge = MLP(2 * L, L, L, key=keys.pop(), dtype=dtype)
        self.post = [InteractionBlock(L, key=keys.pop(), dtype=dtype) for _ in range(n_post)]
        self.decoder = MLP(L, dim, L, layer_norm=False, key=keys.pop(), dtype=dtype)

    def hyperparameters(self) -> dict:
        """Constructor arguments (JSON-serialisable), for checkpoint sidecars."""
        return {"model": "GIOROM", "dim": self.dim, "radius": self.radius,
                "box": [list(map(float, self.box_lower)), list(map(float, self.box_upper))],
                "n_history": self.n_history, "latent": self.latent,
                "grid_shape": list(self.grid_shape), "grid_channels": self.grid_channels,
                "modes": self.modes, "n_fourier": len(self.fourier), "n_pre": len(self.pre),
                "n_post": len(self.post), "kernel_radius": self.kernel_radius,
                "dtype": self.dtype, **wall_hyperparameter(self.wall_distance, self.radius),
                **({"acceleration_features": True} if self.acceleration_features
                   else {})}

    # -- particle <-> grid stencils ------------------------------------------------------
    def _stencil(self, x):
        """Grid nodes near each particle: flat ids (N, S), offsets (N, S, d) / r_k, weights."""
        lo = jax.lax.stop_gradient(self.box_lower)
        hi = jax.lax.stop_gradient(self.box_upper)
        shape = jnp.asarray(self.grid_shape, jnp.int32)
        h = (hi - lo) / shape.astype(self.dtype)
        s = int(math.ceil(self.kernel_radius))
        off = np.array(np.meshgrid(*([np.arange(-s, s + 1)] * self.dim), indexing="ij"))
        off = jnp.asarray(off.reshape(self.dim, -1).T, jnp.int32)              # (S, d)
        base = jnp.round((x - lo) / h - 0.5).astype(jnp.int32)                 # (N, d)
        node = base[:, None, :] + off[None]                                   # (N, S, d)
        inside = jnp.all((node >= 0) & (node < shape), axis=-1)
        z = lo + (node.astype(self.dtype) + 0.5) * h
        rk = self.kernel_radius * h
        rel = (x[:, None, :] - z) / rk                                         # (N, S, d)
        s2 = jnp.sum(rel**2, axis=-1)
        w = jnp.where(inside & (s2 < 1.0), (1.0 - s2) ** 2, 0.0).astype(self.dtype)
        strides = np.cumprod((1,) + self.grid_shape[::-1][:-1])[::-1].astype(np.int32)
        n_nodes = int(np.prod(self.grid_shape))
        flat = jnp.where(inside, node @ jnp.asarray(strides), n_nodes)
        return flat, rel, w

    def _to_grid(self, h, flat, rel, w):
        N, S, _ = rel.shape
        inp = jnp.concatenate([-rel, jnp.broadcast_to(h[:, None, :], (N, S, h.shape[-1]))], -1)
        k = self.to_grid.batched(inp) * w[..., None]
        n_nodes = int(np.prod(self.grid_shape))
        num = jax.ops.segment_sum(k.reshape(N * S, -1), flat.reshape(-1), num_segments=n_nodes)
        den = jax.ops.segment_sum(w.reshape(-1), flat.reshape(-1), num_segments=n_nodes)
        g = jnp.concatenate([num / (1.0 + den)[:, None], den[:, None]], axis=-1)
        g = jax.vmap(self.lift)(g)                                             # (nodes, C)
        return g.T.reshape((self.grid_channels,) + self.grid_shape)

    def _grid_operator(self, g):
        pad = [(0, 0)] + [(0, self.pad)] * self.dim
        v = jnp.pad(g, pad)
        for layer in self.fourier:
            v = layer(v)
        crop = (slice(None),) + tuple(slice(0, n) for n in self.grid_shape)
        return v[crop]

    def _from_grid(self, g, flat, rel, w):
        N, S, _ = rel.shape
        table = g.reshape(self.grid_channels, -1).T
        vals = jnp.take(table, flat, axis=0, mode="fill", fill_value=0)       # (N, S, C)
        k = self.from_grid.batched(jnp.concatenate([rel, vals], axis=-1)) * w[..., None]
        den = jnp.maximum(jnp.sum(w, axis=1, keepdims=True), jnp.asarray(1e-12, self.dtype))
        return jnp.sum(k, axis=1) / den

    def normalised_acceleration(self, history, graph: Graph):
        """Predicted acceleration of the sparse particles in normalised units, (n, d).

        Args:
            history: (H + 1, n, d) positions of the sparse particles, oldest first.
            graph: radius graph of ``history[-1]`` with ``n`` nodes.
        """
        h = check_history(history, self.n_history, graph)
        x = h[-1].astype(self.dtype)
        nodes = self.node_encoder.batched(
            node_features(h, self.normalisation, self.box_lower, self.box_upper,
                          self.wall_distance, self.dtype,
                          accelerations=self.acceleration_features))
        edges = self.edge_encoder.batched(edge_features(x, graph, self.radius, self.dtype))
        for block in self.pre:
            nodes, edges = block(nodes, edges, graph)
        flat, rel, w = self._stencil(x)
        g = self._grid_operator(self._to_grid(nodes, flat, rel, w))
        back = self._from_grid(g, flat, rel, w)
        nodes = nodes + self.merge.batched(jnp.concatenate([nodes, back], axis=-1))
        for block in self.post:
            nodes, edges = block(nodes, edges, graph)
        return self.decoder.batched(nodes)

    def __call__(self, history, graph: Graph):
        """Predicted per-frame acceleration of the sparse particles (n, d)."""
        out = self.normalised_acceleration(history, graph)
        n = jax.lax.stop_gradient(self.normalisation)
        return out * n.acc_std.astype(self.dtype) + n.acc_mean.astype(self.dtype)

    def step(self, history, graph: Graph):
        """Next positions (n, d) of the sparse particles (semi-implicit Euler)."""
        h = check_history(history, self.n_history, graph).astype(self.dtype)
        a = self(h, graph)
        return h[-1] + (h[-1] - h[-2]) + a
