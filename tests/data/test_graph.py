import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.spatial import cKDTree

from tensorrom.data import farthest_point_sample, knn_graph, radius_graph


def _pairs(graph):
    e = graph.edges()
    return {(min(s, t), max(s, t)) for s, t in e}


@pytest.mark.parametrize("dim", [2, 3])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_radius_graph_matches_ckdtree_query_pairs(dim, seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, (300, dim))
    r = 0.12
    ref = cKDTree(x).query_pairs(r)
    g = radius_graph(x, r)
    assert not bool(g.overflow)
    assert int(g.n_edges) == 2 * len(ref)  # both directions
    assert _pairs(g) == ref
    e = g.edges()
    assert set(map(tuple, e)) == {(s, t) for s, t in e} | {(t, s) for s, t in e}
    one_way = radius_graph(x, r, symmetric=False)
    assert {tuple(p) for p in one_way.edges()} == ref  # query_pairs gives i < j


@pytest.mark.parametrize("dim", [2, 3])
def test_radius_graph_capacity_overflow(dim):
    rng = np.random.default_rng(5)
    x = rng.uniform(0, 1, (200, dim))
    full = radius_graph(x, 0.15)
    n = int(full.n_edges)
    big = radius_graph(x, 0.15, capacity=n + 10)
    assert not bool(big.overflow) and int(big.n_edges) == n
    assert np.all(big.senders[n:] == 200) and np.all(big.receivers[n:] == 200)
    assert _pairs(big) == _pairs(full)
    small = radius_graph(x, 0.15, capacity=n - 7)
    assert bool(small.overflow) and int(small.n_edges) == n - 7 == small.capacity
    # the kept edges are a subset of the true ones
    assert set(map(tuple, small.edges())) <= set(map(tuple, full.edges()))


def test_padded_edges_are_dropped_by_segment_sum():
    x = np.random.default_rng(0).uniform(0, 1, (50, 2))
    g = radius_graph(x, 0.2, capacity=2000)
    msg = jnp.ones(g.capacity)
    deg = jax.ops.segment_sum(msg, jnp.asarray(g.receivers), num_segments=g.n_nodes)
    ref = np.bincount(g.edges()[:, 1], minlength=50)
    np.testing.assert_array_equal(np.asarray(deg), ref)


def test_knn_graph_matches_brute_force():
    x = np.random.default_rng(3).uniform(0, 1, (40, 3))
    g = knn_graph(x, 4)
    d = np.linalg.norm(x[:, None] - x[None], axis=-1)
    np.fill_diagonal(d, np.inf)
    ref = np.argsort(d, axis=0)[:4].T  # 4 nearest senders of every receiver
    e = g.edges()
    for i in range(40):
        assert set(e[e[:, 1] == i, 0]) == set(ref[i])


def test_farthest_point_sample_is_greedy_maximin():
    x = np.random.default_rng(4).uniform(0, 1, (500, 2))
    idx = farthest_point_sample(x, 30, seed=7)
    assert len(set(idx.tolist())) == 30
    np.testing.assert_array_equal(idx, farthest_point_sample(x, 30, seed=7))
    # each chosen point is the farthest from the previous ones (brute-force check)
    for j in range(1, 30):
        dmin = np.min(np.linalg.norm(x[:, None] - x[idx[:j]][None], axis=-1), axis=1)
        assert dmin[idx[j]] == pytest.approx(dmin.max(), rel=1e-12)


def test_radius_graph_rejects_non_positive_radius():
    with pytest.raises(ValueError, match="r must be > 0"):
        radius_graph(np.zeros((3, 2)), 0.0)


def test_radius_graph_rejects_nan_coords():
    x = np.zeros((3, 2))
    x[0, 1] = np.nan
    with pytest.raises(ValueError, match="coords has 1 non-finite"):
        radius_graph(x, 0.1)


def test_radius_graph_rejects_negative_capacity():
    with pytest.raises(ValueError, match="capacity must be >= 0"):
        radius_graph(np.zeros((3, 2)), 0.1, capacity=-1)


def test_knn_rejects_too_many_neighbours():
    with pytest.raises(ValueError, match="k must be smaller than the number of points"):
        knn_graph(np.zeros((3, 2)), 3)


def test_fps_rejects_too_many_samples():
    with pytest.raises(ValueError, match="n must be at most the number of points"):
        farthest_point_sample(np.zeros((3, 2)), 4)
