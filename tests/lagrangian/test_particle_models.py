"""GNS and GIOROM: exact translation and permutation invariance, bad input."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tensorrom.data import Box, radius_graph
from tensorrom.lagrangian import GIOROM, GNS, Normalisation, subset_indices

BOX = Box([0.0, 0.0], [1.0, 1.0])
R = 0.15


def _history(rng, n=40, H=3):
    x0 = rng.uniform(0.2, 0.8, size=(n, 2))
    steps = rng.normal(scale=2e-3, size=(H, n, 2))
    return np.concatenate([x0[None], x0[None] + np.cumsum(steps, axis=0)])


def _models():
    key = jax.random.PRNGKey(0)
    norm = Normalisation(vel_mean=np.array([0.0, -1e-3]), vel_std=np.array([2e-3, 2e-3]),
                         acc_mean=np.array([0.0, -1e-4]), acc_std=np.array([1e-3, 1e-3]))
    gns = GNS(2, BOX, R, normalisation=norm, n_history=3, latent=16, n_message_passing=2,
              key=key, dtype=jnp.float64)
    gio = GIOROM(2, BOX, R, normalisation=norm, n_history=3, latent=16, grid_shape=8,
                 grid_channels=8, modes=3, n_fourier=1, n_pre=1, n_post=1, key=key,
                 dtype=jnp.float64)
    gns_acc = GNS(2, BOX, R, normalisation=norm, n_history=3, latent=16, n_message_passing=2,
                  acceleration_features=True, key=key, dtype=jnp.float64)
    gio_acc = GIOROM(2, BOX, R, normalisation=norm, n_history=3, latent=16, grid_shape=8,
                     grid_channels=8, modes=3, n_fourier=1, n_pre=1, n_post=1,
                     acceleration_features=True, key=key, dtype=jnp.float64)
    return {"GNS": gns, "GIOROM": gio, "GNS_acc": gns_acc, "GIOROM_acc": gio_acc}


MODELS = _models()


@eqx.filter_jit
def _apply(model, history, graph):
    # one compilation per model structure, shared by all tests (the graph capacity is fixed)
    return model(history, graph)


def _graph(x):
    g = radius_graph(np.asarray(x), R, capacity=2000)
    assert int(g.n_edges) > 0 and not bool(g.overflow)
    return g


def _shift(model, t):
    return eqx.tree_at(lambda m: (m.box_lower, m.box_upper), model,
                       (model.box_lower + t, model.box_upper + t))


@pytest.mark.parametrize("name", ["GNS", "GIOROM", "GNS_acc", "GIOROM_acc"])
def test_translation_invariance(rng, name):
    # translating particles and walls together: every input is a difference of positions,
    # so outputs agree up to float64 rounding of those differences (~1e-16 relative; the
    # network amplifies by O(10-100)); 1e-10 absolute on O(1e-3) accelerations is exact
    # invariance to rounding while any real dependence on absolute position shows as O(1e-4).
    model = MODELS[name]
    h = _history(rng)
    t = np.array([0.3125, -0.8125])
    a = _apply(model, jnp.asarray(h), _graph(h[-1]))
    b = _apply(_shift(model, t), jnp.asarray(h + t), _graph(h[-1] + t))
    assert float(jnp.max(jnp.abs(a))) > 1e-6
    np.testing.assert_allclose(np.asarray(b), np.asarray(a), rtol=0, atol=1e-10)


@pytest.mark.parametrize("name", ["GNS", "GIOROM", "GNS_acc", "GIOROM_acc"])
def test_permutation_equivariance(rng, name):
    # permuting particles permutes the outputs; only the summation order inside segment sums
    # changes, so the agreement is to rounding (1e-10 absolute, see above).
    model = MODELS[name]
    h = _history(rng)
    perm = rng.permutation(h.shape[1])
    a = _apply(model, jnp.asarray(h), _graph(h[-1]))
    b = _apply(model, jnp.asarray(h[:, perm]), _graph(h[-1, perm]))
    np.testing.assert_allclose(np.asarray(b), np.asarray(a)[perm], rtol=0, atol=1e-10)


@pytest.mark.parametrize("name", ["GNS", "GIOROM"])
def test_mismatched_particle_count_raises(rng, name):
    h = _history(rng)
    g = _graph(h[-1, :-3])
    with pytest.raises(ValueError, match="particle"):
        MODELS[name](jnp.asarray(h), g)


@pytest.mark.parametrize("name", ["GNS", "GIOROM"])
def test_window_shorter_than_history_raises(rng, name):
    h = _history(rng)
    with pytest.raises(ValueError, match="history"):
        MODELS[name](jnp.asarray(h[1:]), _graph(h[-1]))


def test_subset_larger_than_count_raises(rng):
    x = jnp.asarray(rng.uniform(size=(10, 2)))
    with pytest.raises(ValueError, match="subset size"):
        subset_indices(x, 11, key=jax.random.PRNGKey(0))


@pytest.mark.parametrize("method", ["fps", "random"])
def test_subset_indices_distinct(rng, method):
    x = jnp.asarray(rng.uniform(size=(50, 2)))
    idx = np.asarray(jax.jit(lambda k: subset_indices(x, 20, method=method, key=k))(
        jax.random.PRNGKey(1)))
    assert len(set(idx.tolist())) == 20 and idx.min() >= 0 and idx.max() < 50


def test_fps_matches_numpy_reference(rng):
    # same greedy rule as tensorrom.data.farthest_point_sample from the same first point
    from tensorrom.data import farthest_point_sample

    x = rng.uniform(size=(64, 2))
    key = jax.random.PRNGKey(3)
    idx = np.asarray(subset_indices(jnp.asarray(x), 12, key=key))
    ref = [int(idx[0])]
    dist = np.sum((x - x[ref[0]]) ** 2, axis=1)
    for _ in range(11):
        ref.append(int(np.argmax(dist)))
        dist = np.minimum(dist, np.sum((x - x[ref[-1]]) ** 2, axis=1))
    assert idx.tolist() == ref
    assert farthest_point_sample(x, 12).shape == (12,)


def test_wall_distance_sets_the_range_of_the_wall_features():
    from tensorrom.lagrangian._layers import node_features

    norm = Normalisation.identity(2, dtype=np.float64)
    h = np.array([[[0.5, 0.3]], [[0.5, 0.3]]])       # one particle, 0.3 above the floor
    lo, hi = np.zeros(2), np.ones(2)
    near = np.asarray(node_features(h, norm, lo, hi, 0.1, jnp.float64))[0, 2:]
    far = np.asarray(node_features(h, norm, lo, hi, 0.5, jnp.float64))[0, 2:]
    # (x - lo, hi - x) / range, clipped to [-1, 1]: exact in float64 up to one rounding
    np.testing.assert_allclose(near, [1.0, 1.0, 1.0, 1.0], rtol=1e-15)
    np.testing.assert_allclose(far, [1.0, 0.6, 1.0, 1.0], rtol=1e-15)
    key = jax.random.PRNGKey(0)
    for cls, kw in ((GNS, dict(latent=8, n_message_passing=1)),
                    (GIOROM, dict(latent=8, grid_shape=8, grid_channels=4, modes=2,
                                  n_fourier=1, n_pre=1, n_post=1))):
        default = cls(2, BOX, R, key=key, **kw)
        assert default.wall_distance == R and "wall_distance" not in default.hyperparameters()
        longer = cls(2, BOX, R, wall_distance=0.5, key=key, **kw)
        assert longer.hyperparameters()["wall_distance"] == 0.5
        with pytest.raises(ValueError, match="wall_distance"):
            cls(2, BOX, R, wall_distance=-1.0, key=key, **kw)


def test_acceleration_features_are_the_normalised_velocity_differences():
    from tensorrom.lagrangian._layers import node_feature_count, node_features

    norm = Normalisation(vel_mean=np.array([0.0, -1e-3]), vel_std=np.array([2e-3, 4e-3]),
                         acc_mean=np.array([0.0, -1e-4]), acc_std=np.array([1e-3, 5e-4]))
    # one particle in free fall from rest: positions y_k = -g k (k + 1) / 2 per frame^2
    g = 4e-4
    k = np.arange(4.0)
    h = np.stack([np.full(4, 0.5), 0.6 - g * k * (k + 1) / 2], axis=-1)[:, None, :]
    lo, hi = np.zeros(2), np.ones(2)
    plain = np.asarray(node_features(h, norm, lo, hi, 0.25, jnp.float64))[0]
    full = np.asarray(node_features(h, norm, lo, hi, 0.25, jnp.float64, accelerations=True))[0]
    H, d = 3, 2
    assert plain.size == node_feature_count(d, H) == 10
    assert full.size == node_feature_count(d, H, accelerations=True) == 14
    # velocities first, unchanged; then (H - 1) accelerations (0, -g) normalised; then walls
    np.testing.assert_array_equal(full[: H * d], plain[: H * d])
    np.testing.assert_array_equal(full[-2 * d:], plain[-2 * d:])
    # (a - mean) / std with a = (0, -g): x (0 - 0) / 1e-3 = 0, y (-4e-4 + 1e-4) / 5e-4 = -0.6;
    # float64 differences of O(1) positions carry ~1e-16 absolute error, 1e-12 after /5e-4
    np.testing.assert_allclose(full[H * d: -2 * d], [0.0, -0.6, 0.0, -0.6], rtol=0, atol=1e-11)


@pytest.mark.parametrize("cls", [GNS, GIOROM])
def test_acceleration_features_option(cls):
    key = jax.random.PRNGKey(0)
    kw = (dict(latent=8, n_message_passing=1) if cls is GNS else
          dict(latent=8, grid_shape=8, grid_channels=4, modes=2, n_fourier=1, n_pre=1,
               n_post=1))
    default = cls(2, BOX, R, key=key, **kw)
    # absent from the sidecar by default, so checkpoints written before the option still load
    assert not default.acceleration_features
    assert "acceleration_features" not in default.hyperparameters()
    on = cls(2, BOX, R, acceleration_features=True, key=key, **kw)
    assert on.hyperparameters()["acceleration_features"] is True
    with pytest.raises(TypeError, match="acceleration_features"):
        cls(2, BOX, R, acceleration_features="yes", key=key, **kw)
    with pytest.raises(ValueError, match="acceleration_features needs n_history"):
        cls(2, BOX, R, n_history=1, acceleration_features=True, key=key, **kw)
