"""Building blocks shared by the particle models: MLPs, interaction-network blocks, input
features (normalised velocity history, distance to the walls, relative displacements) and the
normalisation statistics.

Velocities and accelerations are per-frame finite differences in position units
(``v_t = x_t - x_{t-1}``, ``a_t = x_{t+1} - 2 x_t + x_{t-1}``), as in GNS; the frame spacing
``dt`` never enters the models.
"""

from __future__ import annotations

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._validate import as_array, check_finite
from ..data import Box, Graph
from ._graph_ops import aggregate_edges, gather_nodes

__all__ = ["MLP", "InteractionBlock", "Normalisation", "node_features", "edge_features",
           "check_history"]


class MLP(eqx.Module):
    """Multilayer perceptron ``Linear -> act -> ... -> Linear`` with an optional LayerNorm on
    the output (the GNS encoder/processor MLPs use two hidden layers and a LayerNorm).

    Args:
        in_size, out_size, width: layer sizes.
        depth: number of hidden layers.
        layer_norm: apply LayerNorm to the output.
        key: PRNG key.
        dtype: parameter dtype (inputs are cast to it).
    """

    layers: list
    norm: Any
    dtype: str = eqx.field(static=True)

    def __init__(self, in_size: int, out_size: int, width: int, depth: int = 2, *,
                 layer_norm: bool = True, key, dtype=jnp.float32):
        sizes = [in_size] + [width] * depth + [out_size]
        keys = jax.random.split(key, len(sizes) - 1)
        self.layers = [eqx.nn.Linear(a, b, key=k, dtype=dtype)
                       for a, b, k in zip(sizes[:-1], sizes[1:], keys)]
        self.norm = eqx.nn.LayerNorm(out_size, dtype=dtype) if layer_norm else None
        self.dtype = jnp.dtype(dtype).name

    def __call__(self, x):
        x = x.astype(self.dtype)
        for layer in self.layers[:-1]:
            x = jax.nn.relu(layer(x))
        x = self.layers[-1](x)
        if self.norm is not None:
            x = self.norm(x)
        return x

    def batched(self, x):
        """Apply to every row of ``x`` (..., in_size)."""
        flat = x.reshape(-1, x.shape[-1])
        return jax.vmap(self)(flat).reshape(x.shape[:-1] + (-1,))


class InteractionBlock(eqx.Module):
    """One interaction-network step with residual updates:

    ``e'_ij = e_ij + phi_e(e_ij, v_i, v_j)``, ``v'_i = v_i + phi_v(v_i, sum_j phi_e(...))``.

    References:
        Battaglia et al., "Interaction networks for learning about objects, relations and
        physics", NeurIPS 2016; Sanchez-Gonzalez et al., ICML 2020 (GNS processor).
    """

    edge_mlp: MLP
    node_mlp: MLP

    def __init__(self, latent: int, *, key, dtype=jnp.float32):
        k1, k2 = jax.random.split(key)
        self.edge_mlp = MLP(3 * latent, latent, latent, key=k1, dtype=dtype)
        self.node_mlp = MLP(2 * latent, latent, latent, key=k2, dtype=dtype)

    def __call__(self, nodes, edges, graph: Graph):
        vs = gather_nodes(nodes, graph.senders)
        vr = gather_nodes(nodes, graph.receivers)
        m = self.edge_mlp.batched(jnp.concatenate([edges, vs, vr], axis=-1))
        agg = aggregate_edges(m, graph)
        dv = self.node_mlp.batched(jnp.concatenate([nodes, agg], axis=-1))
        return nodes + dv, edges + m


class Normalisation(eqx.Module):
    """Mean and standard deviation of per-frame velocities and accelerations (per axis),
    pooled over every frame and particle of the training trajectories.

    Attributes:
        vel_mean, vel_std, acc_mean, acc_std: (d,) arrays in position units per frame
            (per frame squared for the accelerations).
    """

    vel_mean: Any
    vel_std: Any
    acc_mean: Any
    acc_std: Any

    @classmethod
    def from_positions(cls, positions: Any, *, dtype=np.float32,
                       min_std: float = 1e-8) -> Normalisation:
        """Statistics of ``positions`` (n_traj, T, N, d) or a list of (T, N, d) arrays."""
        arrays = list(positions) if isinstance(positions, (list, tuple)) else None
        if arrays is None:
            p = np.asarray(as_array(positions, "positions", ndim=(3, 4)), dtype=np.float64)
            arrays = [p] if p.ndim == 3 else list(p)
        vs, acs = [], []
        for i, a in enumerate(arrays):
            a = np.asarray(a, dtype=np.float64)
            if a.ndim != 3 or a.shape[0] < 3:
                raise ValueError(f"positions[{i}] must have shape (T >= 3, N, d), got {a.shape}")
            check_finite(a, f"positions[{i}]")
            v = np.diff(a, axis=0)
            vs.append(v.reshape(-1, a.shape[-1]))
            acs.append(np.diff(v, axis=0).reshape(-1, a.shape[-1]))
        v = np.concatenate(vs)
        ac = np.concatenate(acs)
        return cls(vel_mean=v.mean(0).astype(dtype),
                   vel_std=np.maximum(v.std(0), min_std).astype(dtype),
                   acc_mean=ac.mean(0).astype(dtype),
                   acc_std=np.maximum(ac.std(0), min_std).astype(dtype))

    @classmethod
    def identity(cls, dim: int, dtype=np.float32) -> Normalisation:
        return cls(np.zeros(dim, dtype), np.ones(dim, dtype), np.zeros(dim, dtype),
                   np.ones(dim, dtype))


def check_history(history, n_history: int, graph: Graph | None = None):
    """Validate a position history (H+1, N, d) against the model's history length and graph."""
    h = jnp.asarray(history)
    if h.ndim != 3:
        raise ValueError(f"history must have shape (n_history + 1, n_particles, dim), "
                         f"got {tuple(h.shape)}")
    if h.shape[0] != n_history + 1:
        raise ValueError(f"history must hold n_history + 1 = {n_history + 1} frames (the model "
                         f"uses {n_history} past velocities), got {h.shape[0]}")
    if graph is not None and graph.n_nodes != h.shape[1]:
        raise ValueError(f"graph has {graph.n_nodes} nodes but history has {h.shape[1]} "
                         "particles (mismatched particle counts)")
    return h


def wall_hyperparameter(wall_distance: float, radius: float) -> dict:
    """``{"wall_distance": ...}`` for a checkpoint sidecar, empty at the default (``radius``),
    so that checkpoints written before the option existed still load."""
    return {} if wall_distance == radius else {"wall_distance": float(wall_distance)}


def check_acceleration_features(value, n_history: int) -> bool:
    """Validate a model's ``acceleration_features`` flag (a bool; needs ``n_history >= 2``)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"acceleration_features must be a bool, got {type(value).__name__}")
    if value and n_history < 2:
        raise ValueError(f"acceleration_features needs n_history >= 2, got {n_history}")
    return bool(value)


def node_feature_count(dim: int, n_history: int, accelerations: bool = False) -> int:
    """Length of :func:`node_features`' per-particle vector."""
    return n_history * dim + 2 * dim + (n_history - 1) * dim * bool(accelerations)


def node_features(history, norm: Normalisation, box_lower, box_upper, wall_distance: float,
                  dtype, accelerations: bool = False):
    """Per-particle input: normalised past velocities (H d values) and the distance to the lower
    and upper walls divided by ``wall_distance`` and clipped to [-1, 1] (2 d values); with
    ``accelerations`` also the H - 1 past per-frame accelerations ``v_k - v_{k-1}``
    normalised by the acceleration statistics ((H - 1) d values, after the velocities).

    The accelerations are a linear function of the velocities, so they add no information;
    they present it on the scale of the output. Gravity is about 0.07 velocity standard
    deviations per frame in the MPM flows of ``examples/giorom_sand.py`` but 0.7 acceleration
    standard deviations, so a free fall is far easier to read from them."""
    h = history.astype(dtype)
    v = h[1:] - h[:-1]                                              # (H, N, d)
    mean = jax.lax.stop_gradient(jnp.asarray(norm.vel_mean)).astype(dtype)
    std = jax.lax.stop_gradient(jnp.asarray(norm.vel_std)).astype(dtype)
    vn = (v - mean) / std
    vn = jnp.moveaxis(vn, 0, 1).reshape(h.shape[1], -1)
    if accelerations:
        a_mean = jax.lax.stop_gradient(jnp.asarray(norm.acc_mean)).astype(dtype)
        a_std = jax.lax.stop_gradient(jnp.asarray(norm.acc_std)).astype(dtype)
        an = (v[1:] - v[:-1] - a_mean) / a_std                      # (H - 1, N, d)
        vn = jnp.concatenate([vn, jnp.moveaxis(an, 0, 1).reshape(h.shape[1], -1)], axis=-1)
    x = h[-1]
    lo = jax.lax.stop_gradient(jnp.asarray(box_lower)).astype(dtype)
    hi = jax.lax.stop_gradient(jnp.asarray(box_upper)).astype(dtype)
    r = jnp.asarray(wall_distance, dtype)
    walls = jnp.concatenate([jnp.clip((x - lo) / r, -1.0, 1.0),
                             jnp.clip((hi - x) / r, -1.0, 1.0)], axis=-1)
    return jnp.concatenate([vn, walls], axis=-1)


def edge_features(positions, graph: Graph, radius: float, dtype):
    """Per-edge input: ``(x_sender - x_receiver) / radius`` and its length."""
    x = positions.astype(dtype)
    rel = (gather_nodes(x, graph.senders) - gather_nodes(x, graph.receivers)) / jnp.asarray(
        radius, dtype)
    dist = jnp.sqrt(jnp.sum(rel**2, axis=-1, keepdims=True) + jnp.asarray(1e-12, dtype))
    return jnp.concatenate([rel, dist], axis=-1)


def box_arrays(box: Box, dtype) -> tuple[Any, Any]:
    if not isinstance(box, Box):
        raise TypeError(f"box must be a tensorrom.data.Box, got {type(box).__name__}")
    return jnp.asarray(box.lower, dtype), jnp.asarray(box.upper, dtype)
