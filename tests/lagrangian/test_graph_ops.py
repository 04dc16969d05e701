"""Graph operations: the JAX cell-list radius graph, padded segment-sum message passing."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.spatial import cKDTree

from tensorrom.data import Box, radius_graph
from tensorrom.lagrangian import (
    RadiusGraphBuilder,
    aggregate_edges,
    estimate_capacity,
    gather_nodes,
    raise_if_overflow,
)


def _edge_set(g):
    n = int(g.n_edges)
    s, r = np.asarray(g.senders)[:n], np.asarray(g.receivers)[:n]
    return set(zip(s.tolist(), r.tolist()))


@pytest.mark.parametrize("dim", [2, 3])
def test_radius_graph_jax_matches_ckdtree(rng, dim):
    box = Box([0.0] * dim, [1.0] * dim)
    x = rng.uniform(0, 1, size=(150, dim))
    r = 0.15
    builder = RadiusGraphBuilder.from_data(x, r, box)
    g = jax.jit(builder)(jnp.asarray(x))
    pairs = cKDTree(x).query_pairs(r, output_type="ndarray")
    want = set(map(tuple, pairs.tolist())) | set(map(tuple, pairs[:, ::-1].tolist()))
    assert not bool(g.overflow)
    assert _edge_set(g) == want
    # the scipy preprocessing graph agrees as well
    assert _edge_set(radius_graph(x, r)) == want


def test_radius_graph_jax_reports_overflow(rng):
    box = Box([0.0, 0.0], [1.0, 1.0])
    x = rng.uniform(0, 1, size=(200, 2))
    full = radius_graph(x, 0.15)
    small = RadiusGraphBuilder(0.15, box, int(full.n_edges) - 1, 64)
    g = jax.jit(small)(jnp.asarray(x))
    assert bool(g.overflow) and int(g.n_edges) == int(full.n_edges) - 1
    # raise_if_overflow (equinox.error_if: also works inside jit) reports it with a message
    with pytest.raises(Exception, match="overflowed"):
        raise_if_overflow(g)
    g2 = jax.jit(RadiusGraphBuilder(0.15, box, 4096, 2))(jnp.asarray(x))
    assert bool(g2.overflow)  # a cell holds more than 2 particles


def test_segment_sum_message_passing_matches_dense(rng):
    # padded segment-sum aggregation vs the dense adjacency product A^T M; both are sums of
    # the same O(10) float64 terms, so they agree to rounding (1e-12 << the 1e-6 required).
    x = rng.uniform(0, 1, size=(80, 2))
    g = radius_graph(x, 0.2, capacity=4000)
    feats = jnp.asarray(rng.normal(size=(80, 5)))
    msg = gather_nodes(feats, jnp.asarray(g.senders)) * 2.0
    out = aggregate_edges(msg, g)
    A = np.zeros((80, 80))
    e = g.edges()
    A[e[:, 0], e[:, 1]] = 1.0
    want = A.T @ (2.0 * np.asarray(feats))
    np.testing.assert_allclose(np.asarray(out), want, rtol=0, atol=1e-12)


def test_no_recompilation_for_other_edge_count(rng):
    traces = []

    @jax.jit
    def f(senders, receivers, n_edges, overflow, feats):
        traces.append(1)
        from tensorrom.data import Graph

        g = Graph(senders=senders, receivers=receivers, n_edges=n_edges, overflow=overflow,
                  n_nodes=60)
        return aggregate_edges(gather_nodes(feats, g.senders), g)

    feats = jnp.asarray(rng.normal(size=(60, 3)))
    x = rng.uniform(0, 1, size=(60, 2))
    g1 = radius_graph(x, 0.15, capacity=3000)
    g2 = radius_graph(x, 0.3, capacity=3000)
    assert int(g1.n_edges) != int(g2.n_edges)
    for g in (g1, g2):
        f(jnp.asarray(g.senders), jnp.asarray(g.receivers), jnp.asarray(g.n_edges),
          jnp.asarray(g.overflow), feats)
    assert len(traces) == 1


def test_radius_with_no_edges_raises():
    x = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 0.0]])
    with pytest.raises(ValueError, match="radius"):
        estimate_capacity(x, 0.1)
