"""Message passing over padded edge lists, and a JAX cell-list radius graph usable inside ``jit``.

Graphs are :class:`tensorrom.data.Graph` objects: ``senders`` and ``receivers`` of a fixed
``capacity``, where the slots ``e >= n_edges`` hold the out-of-range index ``n_nodes``. Because
the array shapes only depend on the capacity, a jitted function compiled once runs on graphs
with any edge count (no retracing). Sums over incoming edges use
``jax.ops.segment_sum(..., num_segments=n_nodes)``, which drops the padding slots.

For preprocessing (estimating a capacity, building graphs outside ``jit``) use the k-d tree
:func:`tensorrom.data.radius_graph`; inside ``jit`` use :func:`radius_graph_jax` (a uniform cell
list whose cell size is at least the radius, so all neighbours of a particle lie in the
``3^d`` surrounding cells).
"""

from __future__ import annotations

import math
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._validate import as_array, check_positive_float, check_positive_int
from ..data import Box, Graph
from ..data import radius_graph as _scipy_radius_graph

__all__ = [
    "edge_mask",
    "gather_nodes",
    "aggregate_edges",
    "radius_graph_jax",
    "raise_if_overflow",
    "estimate_capacity",
    "estimate_max_per_cell",
    "RadiusGraphBuilder",
]


def edge_mask(graph: Graph):
    """Boolean (capacity,) JAX mask of the real edges (``e < n_edges``)."""
    return jnp.arange(graph.senders.shape[0], dtype=jnp.int32) < jnp.asarray(graph.n_edges,
                                                                            jnp.int32)


def gather_nodes(values, index):
    """``values[index]`` along axis 0 with out-of-range indices (padding) giving zeros.

    Args:
        values: (n_nodes, ...) node values.
        index: (capacity,) integer indices; the padding value ``n_nodes`` yields zeros.
    """
    return jnp.take(values, index, axis=0, mode="fill", fill_value=0)


def aggregate_edges(messages, graph: Graph):
    """Sum of the messages of the incoming edges at every node: ``m_i = sum_{e: r_e = i} m_e``.

    Args:
        messages: (capacity, ...) per-edge messages (padding slots may hold anything; they are
            dropped because their receiver index is out of range and they are also masked).
        graph: the padded graph.

    Returns:
        (n_nodes, ...) summed messages.
    """
    mask = edge_mask(graph).reshape((-1,) + (1,) * (messages.ndim - 1))
    messages = jnp.where(mask, messages, jnp.zeros((), messages.dtype))
    return jax.ops.segment_sum(messages, graph.receivers, num_segments=graph.n_nodes)


def raise_if_overflow(graph: Graph, what: str = "graph") -> Graph:
    """Return ``graph`` unchanged, raising at run time (also inside ``jit``) if it overflowed.

    Uses :func:`equinox.error_if`, so a jitted caller stops with a message instead of silently
    training on a truncated edge list.
    """
    senders = eqx.error_if(
        graph.senders, graph.overflow,
        f"{what}: the edge list overflowed its capacity (or a cell held more particles than "
        "max_per_cell); increase capacity / max_per_cell",
    )
    return Graph(senders=senders, receivers=graph.receivers, n_edges=graph.n_edges,
                 overflow=graph.overflow, n_nodes=graph.n_nodes)


def _cell_shape(box: Box, radius: float) -> tuple[int, ...]:
    return tuple(max(1, int(math.floor(L / radius))) for L in box.lengths)


def radius_graph_jax(positions, radius: float, *, box: Box, capacity: int,
                     max_per_cell: int) -> Graph:
    """All ordered pairs ``(j -> i)``, ``i != j``, with ``|x_i - x_j| <= radius``, by a cell list.

    The box is cut into ``floor(L_k / radius)`` cells per axis (cell size >= radius), the
    particles are sorted by cell, and each particle tests the at most ``max_per_cell`` occupants
    of each of its ``3^d`` neighbouring cells. Shapes depend only on the static arguments, so
    the function is traceable inside ``jit`` and ``vmap``. Particles outside the box are
    clamped into the boundary cells (their distances are still exact).

    Args:
        positions: (n, d) particle positions (same length unit as ``radius`` and ``box``).
        radius: cut-off radius (static Python float, > 0).
        box: the domain (static), used to lay out the cells.
        capacity: number of edge slots (static); extra edges are dropped and ``overflow`` set.
        max_per_cell: occupants per cell examined (static); a fuller cell sets ``overflow``.

    Returns:
        Graph whose edges are grouped by receiver; ``overflow`` is a JAX bool that is True when
        edges were dropped (capacity or ``max_per_cell`` exceeded).

    References:
        Allen & Tildesley, *Computer Simulation of Liquids* (1987), sect. 5.3 (cell lists).
    """
    x = jnp.asarray(positions)
    if x.ndim != 2:
        raise ValueError(f"positions must have shape (n, d), got {tuple(x.shape)}")
    n, d = x.shape
    if not isinstance(box, Box):
        raise TypeError(f"box must be a tensorrom.data.Box, got {type(box).__name__}")
    if box.dim != d:
        raise ValueError(f"box has dim {box.dim} but positions have {d} coordinates")
    radius = check_positive_float(radius, "radius")
    capacity = check_positive_int(capacity, "capacity")
    max_per_cell = check_positive_int(max_per_cell, "max_per_cell")
    shape = _cell_shape(box, radius)
    n_cells = int(np.prod(shape))
    lo = jnp.asarray(box.lower, x.dtype)
    size = jnp.asarray([L / s for L, s in zip(box.lengths, shape)], x.dtype)
    cell = jnp.clip(jnp.floor((x - lo) / size).astype(jnp.int32), 0,
                    jnp.asarray(shape, jnp.int32) - 1)                     # (n, d)
    strides = np.cumprod((1,) + shape[::-1][:-1])[::-1].astype(np.int32)  # row-major
    flat = cell @ jnp.asarray(strides)                                     # (n,)
    order = jnp.argsort(flat).astype(jnp.int32)
    sorted_flat = flat[order]
    ids = jnp.arange(n_cells, dtype=jnp.int32)
    start = jnp.searchsorted(sorted_flat, ids, side="left").astype(jnp.int32)
    count = jnp.searchsorted(sorted_flat, ids, side="right").astype(jnp.int32) - start
    cell_overflow = jnp.max(count) > max_per_cell
    slot = jnp.arange(max_per_cell, dtype=jnp.int32)
    table = jnp.where(slot[None, :] < count[:, None],
                      order[jnp.clip(start[:, None] + slot[None, :], 0, n - 1)],
                      jnp.int32(n))                                     # (C, m)
    offsets = np.array(np.meshgrid(*([[-1, 0, 1]] * d), indexing="ij")).reshape(d, -1).T
    nb = cell[:, None, :] + jnp.asarray(offsets, jnp.int32)[None]         # (n, 3^d, d)
    inside = jnp.all((nb >= 0) & (nb < jnp.asarray(shape, jnp.int32)), axis=-1)
    nb_flat = jnp.where(inside, nb @ jnp.asarray(strides), n_cells)       # n_cells: no cell
    table_pad = jnp.concatenate([table, jnp.full((1, max_per_cell), n, table.dtype)])
    cand = table_pad[nb_flat].reshape(n, -1)                               # (n, K)
    xc = jnp.take(x, cand, axis=0, mode="fill", fill_value=0)
    d2 = jnp.sum((xc - x[:, None, :]) ** 2, axis=-1)
    recv = jnp.arange(n, dtype=jnp.int32)[:, None]
    ok = (cand < n) & (cand != recv) & (d2 <= jnp.asarray(radius, x.dtype) ** 2)
    ok_flat = ok.reshape(-1)
    n_found = jnp.sum(ok_flat, dtype=jnp.int32)
    (sel,) = jnp.nonzero(ok_flat, size=capacity, fill_value=ok_flat.shape[0])
    valid = jnp.arange(capacity, dtype=jnp.int32) < n_found
    cand_flat = jnp.concatenate([cand.reshape(-1).astype(jnp.int32),
                                 jnp.full((1,), n, jnp.int32)])
    recv_flat = jnp.concatenate([jnp.broadcast_to(recv, cand.shape).reshape(-1),
                                 jnp.full((1,), n, jnp.int32)])
    senders = jnp.where(valid, cand_flat[sel], jnp.int32(n))
    receivers = jnp.where(valid, recv_flat[sel], jnp.int32(n))
    return Graph(senders=senders, receivers=receivers,
                 n_edges=jnp.minimum(n_found, capacity).astype(jnp.int32),
                 overflow=(n_found > capacity) | cell_overflow, n_nodes=n)


def estimate_capacity(positions: Any, radius: float, *, margin: float = 1.5) -> int:
    """Edge capacity for the frames in ``positions`` ((T, n, d) or (n, d)): the largest edge
    count found by the k-d tree graph, times ``margin``, rounded up to a multiple of 256.

    Raises:
        ValueError: when ``radius`` yields no edge in any frame (a graph model would then see
            isolated particles only).
    """
    x = np.asarray(as_array(positions, "positions", ndim=(2, 3)), dtype=np.float64)
    frames = x[None] if x.ndim == 2 else x
    radius = check_positive_float(radius, "radius")
    most = max(int(_scipy_radius_graph(f, radius).n_edges) for f in frames)
    if most == 0:
        raise ValueError(f"radius={radius} yields no edges between the {frames.shape[1]} "
                         "particles; use a larger radius")
    cap = int(math.ceil(most * float(margin)))
    return int(256 * math.ceil(cap / 256))


def estimate_max_per_cell(positions: Any, radius: float, box: Box, *,
                          margin: float = 1.5) -> int:
    """Largest cell occupancy of the :func:`radius_graph_jax` cell layout over the frames,
    times ``margin`` (at least 4)."""
    x = np.asarray(as_array(positions, "positions", ndim=(2, 3)), dtype=np.float64)
    frames = x[None] if x.ndim == 2 else x
    shape = _cell_shape(box, check_positive_float(radius, "radius"))
    size = box.lengths / np.asarray(shape)
    most = 1
    for f in frames:
        c = np.clip(np.floor((f - box.lo) / size).astype(np.int64), 0, np.asarray(shape) - 1)
        _, counts = np.unique(np.ravel_multi_index(c.T, shape), return_counts=True)
        most = max(most, int(counts.max()))
    return max(4, int(math.ceil(most * float(margin))))


class RadiusGraphBuilder(eqx.Module):
    """A jit-friendly radius-graph factory with fixed radius, box, capacity and cell size.

    ``builder(positions)`` returns :func:`radius_graph_jax` of the positions. Build one with
    :meth:`from_data` to size the capacity from example frames.

    Attributes:
        radius: connectivity radius (length unit of the data).
        box: the domain.
        capacity: edge slots.
        max_per_cell: cell occupancy examined.
    """

    radius: float = eqx.field(static=True)
    box: Box = eqx.field(static=True)
    capacity: int = eqx.field(static=True)
    max_per_cell: int = eqx.field(static=True)

    @classmethod
    def from_data(cls, positions: Any, radius: float, box: Box, *,
                  margin: float = 1.5) -> RadiusGraphBuilder:
        """Size capacity and cell occupancy from example frames (T, n, d) or (n, d)."""
        return cls(radius=float(radius), box=box,
                   capacity=estimate_capacity(positions, radius, margin=margin),
                   max_per_cell=estimate_max_per_cell(positions, radius, box, margin=margin))

    def __call__(self, positions) -> Graph:
        return radius_graph_jax(positions, self.radius, box=self.box, capacity=self.capacity,
                                max_per_cell=self.max_per_cell)
