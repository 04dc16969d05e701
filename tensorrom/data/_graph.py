"""Neighbour graphs with padded edge lists of fixed capacity, and farthest-point sampling."""

from __future__ import annotations

from typing import Any

import equinox as eqx
import numpy as np
from scipy.spatial import cKDTree

from .._validate import as_array, check_finite, check_positive_float, check_positive_int

__all__ = ["Graph", "radius_graph", "knn_graph", "farthest_point_sample"]


class Graph(eqx.Module):
    """Directed graph on ``n_nodes`` nodes with edge arrays padded to a fixed capacity.

    Edge ``e`` carries a message from ``senders[e]`` to ``receivers[e]``. Entries at
    ``e >= n_edges`` are padding and equal ``n_nodes`` (an out-of-range index, so
    ``jax.ops.segment_sum(..., num_segments=n_nodes)`` drops them). A fixed capacity lets
    jitted message passing run on graphs with different edge counts without recompiling.

    Attributes:
        senders: (capacity,) int32 sender index per edge.
        receivers: (capacity,) int32 receiver index per edge.
        n_edges: number of real edges (<= capacity).
        overflow: True when more edges were found than fit; the extra ones were dropped.
        n_nodes: number of nodes (static).
    """

    senders: Any
    receivers: Any
    n_edges: Any
    overflow: Any
    n_nodes: int = eqx.field(static=True)

    @property
    def capacity(self) -> int:
        return int(self.senders.shape[0])

    @property
    def mask(self):
        """Boolean (capacity,) mask of the real edges."""
        return np.arange(self.capacity) < self.n_edges

    def edges(self) -> np.ndarray:
        """The real edges as an (n_edges, 2) array of (sender, receiver)."""
        n = int(self.n_edges)
        return np.stack([np.asarray(self.senders[:n]), np.asarray(self.receivers[:n])], axis=1)


def _pad(senders: np.ndarray, receivers: np.ndarray, n_nodes: int,
         capacity: int | None) -> Graph:
    n = senders.size
    cap = n if capacity is None else check_positive_int(capacity, "capacity", minimum=0)
    overflow = n > cap
    keep = min(n, cap)
    s = np.full(cap, n_nodes, dtype=np.int32)
    r = np.full(cap, n_nodes, dtype=np.int32)
    s[:keep] = senders[:keep]
    r[:keep] = receivers[:keep]
    return Graph(senders=s, receivers=r, n_edges=np.int32(keep), overflow=np.bool_(overflow),
                 n_nodes=n_nodes)


def _coords(coords: Any) -> np.ndarray:
    c = np.asarray(as_array(coords, "coords", ndim=2), dtype=np.float64)
    if c.shape[0] < 1:
        raise ValueError("coords must hold at least one point")
    check_finite(c, "coords")
    return c


def radius_graph(coords: Any, r: float, capacity: int | None = None, *,
                 symmetric: bool = True, include_self: bool = False) -> Graph:
    """All pairs of points closer than ``r`` (distance <= r), as a padded :class:`Graph`.

    Uses a k-d tree (``scipy.spatial.cKDTree``); the unordered pairs are exactly those of
    ``cKDTree.query_pairs(r)``. Edges are sorted by (receiver, sender).

    Args:
        coords: (n, d) point coordinates.
        r: cut-off radius (> 0), same unit as ``coords``.
        capacity: number of edge slots; ``None`` sizes the graph to fit exactly. When more
            edges exist than slots, the first ``capacity`` (in sorted order) are kept and
            ``overflow`` is set.
        symmetric: emit each pair in both directions (message passing needs this); with
            ``False`` each pair appears once as ``sender < receiver``.
        include_self: also add the self-loop ``(i, i)`` of every node.

    Returns:
        Graph with ``n_nodes = n``.
    """
    c = _coords(coords)
    r = check_positive_float(r, "r")
    pairs = cKDTree(c).query_pairs(r, output_type="ndarray").astype(np.int64)
    s, t = pairs[:, 0], pairs[:, 1]
    if symmetric:
        s, t = np.concatenate([s, t]), np.concatenate([t, s])
    if include_self:
        i = np.arange(c.shape[0])
        s, t = np.concatenate([s, i]), np.concatenate([t, i])
    order = np.lexsort((s, t))
    return _pad(s[order], t[order], c.shape[0], capacity)


def knn_graph(coords: Any, k: int, *, include_self: bool = False) -> Graph:
    """Each point receives edges from its ``k`` nearest other points (capacity ``n k``).

    Args:
        coords: (n, d) point coordinates with ``n > k``.
        k: neighbours per point (>= 1).
        include_self: add the self-loop of every node as well (capacity ``n (k + 1)``).
    """
    c = _coords(coords)
    k = check_positive_int(k, "k")
    n = c.shape[0]
    if k >= n:
        raise ValueError(f"k must be smaller than the number of points ({n}), got {k}")
    _, idx = cKDTree(c).query(c, k=k + 1)
    recv = np.repeat(np.arange(n), k + 1).reshape(n, k + 1)
    # drop each point itself (it may not be column 0 when points coincide)
    not_self = idx != recv
    send_list, recv_list = [], []
    for i in range(n):
        nb = idx[i][not_self[i]][:k]
        send_list.append(nb)
        recv_list.append(np.full(nb.size, i))
    s, t = np.concatenate(send_list), np.concatenate(recv_list)
    if include_self:
        s, t = np.concatenate([s, np.arange(n)]), np.concatenate([t, np.arange(n)])
        order = np.lexsort((s, t))
        s, t = s[order], t[order]
    return _pad(s, t, n, None)


def farthest_point_sample(coords: Any, n: int, seed: int | None = 0) -> np.ndarray:
    """Greedy farthest-point sampling of ``n`` indices from ``coords`` (N, d).

    The first index is drawn uniformly with ``seed``; each next one is the point farthest
    (Euclidean) from those chosen so far. Cost O(n N d).

    Returns:
        int64 array (n,) of distinct indices, in the order chosen.
    """
    c = _coords(coords)
    n = check_positive_int(n, "n")
    N = c.shape[0]
    if n > N:
        raise ValueError(f"n must be at most the number of points ({N}), got {n}")
    rng = np.random.default_rng(seed)
    chosen = np.empty(n, dtype=np.int64)
    chosen[0] = rng.integers(N)
    dist = np.sum((c - c[chosen[0]]) ** 2, axis=1)
    for j in range(1, n):
        nxt = int(np.argmax(dist))
        chosen[j] = nxt
        np.minimum(dist, np.sum((c - c[nxt]) ** 2, axis=1), out=dist)
    return chosen
