"""Graph Network-based Simulator (GNS): encode - process - decode on a radius graph.

Given the last ``H + 1`` positions of every particle, GNS predicts the per-frame acceleration
``a_t = x_{t+1} - 2 x_t + x_{t-1}``; the stepper then integrates with semi-implicit Euler,
``v_{t+1} = v_t + a_t``, ``x_{t+1} = x_t + v_{t+1}``.

Inputs depend on positions only through differences (velocities, edge displacements) and
through the distance to the walls, so translating particles *and* walls together, or
permuting the particles, leaves the predicted accelerations unchanged (permuted).
"""

from __future__ import annotations

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp

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

__all__ = ["GNS"]


class GNS(eqx.Module):
    """GNS particle stepper (Sanchez-Gonzalez et al. 2020).

    Node input: the ``H`` last velocities normalised by the training statistics, and the
    distances to the lower and upper walls (divided by ``wall_distance``, clipped to [-1, 1];
    ``wall_distance`` defaults to ``radius``, as in the paper). Edge
    input: ``(x_j - x_i) / R`` and its length. Encoder MLPs map both to ``latent`` channels,
    ``n_message_passing`` interaction-network blocks (unshared weights, residual) update them,
    and an MLP decodes the normalised acceleration.

    Args:
        dim: spatial dimension d.
        box: the domain (its walls give the distance features).
        radius: connectivity radius R (position units).
        normalisation: velocity / acceleration statistics (default: identity).
        n_history: number of past velocities H (paper: 5).
        latent: latent width (paper: 128).
        n_message_passing: processor steps (paper: 10).
        wall_distance: range of the wall-distance features (position units; default
            ``radius``). A wall farther away than this is invisible to the model; flows that
            move more than about ``radius / 3`` per frame need a longer range to see the
            floor coming (see docs/log/giorom.md, tenth session).
        acceleration_features: also give the ``H - 1`` past per-frame accelerations,
            normalised by the acceleration statistics, as node inputs (default False, the
            paper's inputs). They are differences of the velocity inputs, so they add no
            information, but they show a body force such as gravity on the scale of the
            output (docs/log/giorom.md, seventeenth session). Needs ``n_history >= 2``.
        key: PRNG key for the initial weights.
        dtype: parameter dtype; float32 is the default for training (float64 works when JAX's
            x64 mode is on, as in the tests).

    References:
        A. Sanchez-Gonzalez, J. Godwin, T. Pfaff, R. Ying, J. Leskovec, P. Battaglia,
        "Learning to Simulate Complex Physics with Graph Networks", ICML 2020.
    """

    node_encoder: MLP
    edge_encoder: MLP
    processor: list
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
    n_message_passing: int = eqx.field(static=True)
    dtype: str = eqx.field(static=True)

    def __init__(self, dim: int, box: Box, radius: float, *,
                 normalisation: Normalisation | None = None, n_history: int = 5,
                 latent: int = 128, n_message_passing: int = 10,
                 wall_distance: float | None = None,
                 acceleration_features: bool = False, key, dtype=jnp.float32):
        dim = check_positive_int(dim, "dim")
        self.radius = check_positive_float(radius, "radius")
        self.wall_distance = (self.radius if wall_distance is None
                              else check_positive_float(wall_distance, "wall_distance"))
        self.n_history = check_positive_int(n_history, "n_history")
        self.acceleration_features = check_acceleration_features(acceleration_features,
                                                                 self.n_history)
        self.latent = check_positive_int(latent, "latent")
        self.n_message_passing = check_positive_int(n_message_passing, "n_message_passing")
        lo, hi = box_arrays(box, dtype)
        if box.dim != dim:
            raise ValueError(f"box has dim {box.dim} but dim={dim}")
        self.dim = dim
        self.dtype = jnp.dtype(dtype).name
        self.box_lower, self.box_upper = lo, hi
        norm = normalisation if normalisation is not None else Normalisation.identity(dim)
        self.normalisation = jax.tree_util.tree_map(lambda a: jnp.asarray(a, dtype), norm)
        keys = jax.random.split(key, n_message_passing + 3)
        n_in = node_feature_count(dim, n_history, self.acceleration_features)
        self.node_encoder = MLP(n_in, latent, latent, key=keys[0], dtype=dtype)
        self.edge_encoder = MLP(dim + 1, latent, latent, key=keys[1], dtype=dtype)
        self.processor = [InteractionBlock(latent, key=k, dtype=dtype) for k in keys[3:]]
        self.decoder = MLP(latent, dim, latent, layer_norm=False, key=keys[2], dtype=dtype)

    def hyperparameters(self) -> dict:
        """Constructor arguments (JSON-serialisable), for checkpoint sidecars."""
        return {"model": "GNS", "dim": self.dim, "radius": self.radius,
                "box": [list(map(float, self.box_lower)), list(map(float, self.box_upper))],
                "n_history": self.n_history, "latent": self.latent,
                "n_message_passing": self.n_message_passing, "dtype": self.dtype,
                **wall_hyperparameter(self.wall_distance, self.radius),
                **({"acceleration_features": True} if self.acceleration_features
                   else {})}

    def normalised_acceleration(self, history, graph: Graph):
        """Predicted acceleration in normalised units, (N, d).

        Args:
            history: (H + 1, N, d) positions, oldest first.
            graph: radius graph of ``history[-1]`` (padded, N nodes).
        """
        h = check_history(history, self.n_history, graph)
        nodes = self.node_encoder.batched(
            node_features(h, self.normalisation, self.box_lower, self.box_upper,
                          self.wall_distance, self.dtype,
                          accelerations=self.acceleration_features))
        edges = self.edge_encoder.batched(edge_features(h[-1], graph, self.radius, self.dtype))
        for block in self.processor:
            nodes, edges = block(nodes, edges, graph)
        return self.decoder.batched(nodes)

    def __call__(self, history, graph: Graph):
        """Predicted per-frame acceleration ``x_{t+1} - 2 x_t + x_{t-1}`` (N, d)."""
        out = self.normalised_acceleration(history, graph)
        n = jax.lax.stop_gradient(self.normalisation)
        return out * n.acc_std.astype(self.dtype) + n.acc_mean.astype(self.dtype)

    def step(self, history, graph: Graph):
        """Next positions (N, d) by semi-implicit Euler with the predicted acceleration."""
        h = check_history(history, self.n_history, graph).astype(self.dtype)
        a = self(h, graph)
        return h[-1] + (h[-1] - h[-2]) + a
