"""Training drivers, rollout, metrics and the train/test split."""

import json

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from tensorrom.data import Box
from tensorrom.lagrangian import (
    GNS,
    Normalisation,
    RadiusGraphBuilder,
    chamfer_distance,
    constant_velocity_rollout,
    kinetic_energy,
    rollout,
    rollout_mse,
    split_trajectories,
    train_stepper,
)

BOX = Box([0.0, 0.0], [1.0, 1.0])


def _data(rng, n_traj=3, T=10, n=30):
    x0 = rng.uniform(0.3, 0.7, size=(n_traj, 1, n, 2))
    v = rng.normal(scale=3e-3, size=(n_traj, 1, n, 2))
    t = np.arange(T)[None, :, None, None]
    return x0 + t * v - 0.5e-4 * t**2 * np.array([0.0, 1.0])


def _tiny(key=0):
    return GNS(2, BOX, 0.2, n_history=2, latent=8, n_message_passing=1,
               key=jax.random.PRNGKey(key), dtype=jnp.float64)


def test_checkpoint_resume_equals_uninterrupted_run(rng, tmp_path):
    data = _data(rng)
    model = _tiny()
    model = type(model)(2, BOX, 0.2, normalisation=Normalisation.from_positions(data,
                        dtype=np.float64), n_history=2, latent=8, n_message_passing=1,
                        key=jax.random.PRNGKey(0), dtype=jnp.float64)
    builder = RadiusGraphBuilder.from_data(data.reshape(-1, 30, 2), 0.2, BOX)
    key = jax.random.PRNGKey(5)
    ck = tmp_path / "gns.eqx"
    # one optimiser object for all three runs: a fixed learning rate (a schedule over `steps`
    # would differ between the 2-step and the 4-step run) and a shared compilation
    # pushforward and per-sample sparse subsets are switched on to cover those code paths
    kw = dict(builder=builder, key=key, batch_size=2, optimizer=optax.adam(1e-3),
              pushforward=1, subset_size=20, subset_method="fps")
    part, log1 = train_stepper(model, data, steps=2, checkpoint=ck, checkpoint_every=1, **kw)
    meta = json.loads((tmp_path / "gns.eqx.json").read_text())
    assert meta["step"] == 2 and meta["hyperparameters"]["model"] == "GNS"
    resumed, log2 = train_stepper(model, data, steps=4, checkpoint=ck, **kw)
    assert log2.resumed_from == 2
    full, log3 = train_stepper(model, data, steps=4, **kw)
    # same batches (key folded with the step) and same updates: identical to rounding
    for a, b in zip(jax.tree_util.tree_leaves(resumed), jax.tree_util.tree_leaves(full)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=0, atol=1e-12)
    np.testing.assert_allclose(log2.losses, log3.losses, rtol=1e-10)
    assert not list(tmp_path.glob("*.tmp"))


def test_window_shorter_than_history_raises_in_training(rng):
    data = _data(rng, T=3)
    builder = RadiusGraphBuilder.from_data(data[0], 0.2, BOX)
    with pytest.raises(ValueError, match="shorter than the training window"):
        train_stepper(_tiny(), data, builder=builder, steps=1, key=jax.random.PRNGKey(0))


def test_subset_larger_than_count_raises_in_training(rng):
    data = _data(rng)
    builder = RadiusGraphBuilder.from_data(data[0], 0.2, BOX)
    with pytest.raises(ValueError, match="subset_size"):
        train_stepper(_tiny(), data, builder=builder, steps=1, key=jax.random.PRNGKey(0),
                      subset_size=31)


def test_mismatched_particle_counts_raise_in_training(rng):
    a, b = _data(rng, n_traj=1)[0], _data(rng, n_traj=1, n=29)[0]
    builder = RadiusGraphBuilder.from_data(a, 0.2, BOX)
    with pytest.raises(ValueError, match="particle counts"):
        train_stepper(_tiny(), [a, b], builder=builder, steps=1, key=jax.random.PRNGKey(0))


def test_huber_loss_matches_its_definition_and_bad_loss_raises(rng):
    from tensorrom.lagrangian._training import _pointwise_loss

    r = jnp.asarray(rng.normal(scale=3.0, size=200))
    for delta in (0.5, 1.0, 2.0):
        want = np.where(np.abs(r) <= delta, 0.5 * np.asarray(r) ** 2,
                        delta * (np.abs(r) - 0.5 * delta)) / delta
        # exact formula, float64: only rounding separates the two evaluations
        np.testing.assert_allclose(np.asarray(_pointwise_loss(r, "huber", delta)), want,
                                   rtol=1e-14, atol=0)
    np.testing.assert_allclose(np.asarray(_pointwise_loss(r, "mse", 1.0)), np.asarray(r) ** 2,
                               rtol=1e-15)
    data = _data(rng)
    builder = RadiusGraphBuilder.from_data(data[0], 0.2, BOX)
    with pytest.raises(ValueError, match="loss must be"):
        train_stepper(_tiny(), data, builder=builder, steps=1, key=jax.random.PRNGKey(0),
                      loss="l1")
    with pytest.raises(ValueError, match="huber_delta"):
        train_stepper(_tiny(), data, builder=builder, steps=1, key=jax.random.PRNGKey(0),
                      loss="huber", huber_delta=0.0)


def test_huber_training_lowers_the_loss(rng):
    data = _data(rng, T=12)
    norm = Normalisation.from_positions(data, dtype=np.float64)
    model = GNS(2, BOX, 0.2, normalisation=norm, n_history=2, latent=8, n_message_passing=1,
                key=jax.random.PRNGKey(0), dtype=jnp.float64)
    builder = RadiusGraphBuilder.from_data(data.reshape(-1, 30, 2), 0.2, BOX)
    _, log = train_stepper(model, data, builder=builder, steps=60, key=jax.random.PRNGKey(1),
                           batch_size=4, loss="huber", noise_std=0.0, learning_rate=3e-3)
    # a smooth free-fall-like flow: 60 Adam steps must at least halve the loss (observed
    # far more); the mean over 10 steps smooths the batch-to-batch noise
    assert np.mean(log.losses[-10:]) < 0.5 * np.mean(log.losses[:10])


def test_rollout_window_shorter_than_history_raises(rng):
    data = _data(rng)
    builder = RadiusGraphBuilder.from_data(data[0], 0.2, BOX)
    with pytest.raises(ValueError, match="shorter than the model's history"):
        rollout(_tiny(), data[0, :2], 3, builder=builder)


def test_train_and_test_trajectories_are_disjoint():
    for n, k, seed in [(20, 4, 0), (7, 2, 3), (2, 1, 1)]:
        train, test = split_trajectories(n, k, seed=seed)
        assert set(train).isdisjoint(test)
        assert sorted(set(train) | set(test)) == list(range(n)) and len(test) == k


def test_constant_velocity_rollout_is_exact_for_uniform_motion(rng):
    # x_t = x0 + t v is reproduced to rounding (1e-13 on O(1) positions)
    x0 = rng.uniform(size=(5, 2))
    v = rng.normal(size=(5, 2)) * 1e-2
    traj = x0[None] + np.arange(12)[:, None, None] * v[None]
    pred = constant_velocity_rollout(jnp.asarray(traj[:2]), 10)
    np.testing.assert_allclose(np.asarray(pred), traj[2:], rtol=0, atol=1e-13)
    assert rollout_mse(pred, traj[2:], 10) < 1e-25


def test_metrics_analytic():
    # Chamfer distance of two one-point clouds is 2 |a - b|^2; kinetic energy of uniform
    # motion at speed |v|/dt is |v|^2/(2 dt^2)
    assert chamfer_distance(np.array([[0.0, 0.0]]), np.array([[3.0, 4.0]])) == pytest.approx(50)
    x = np.arange(4)[:, None, None] * np.array([[[0.3, 0.4]]])
    np.testing.assert_allclose(kinetic_energy(x, 0.5), 0.5 * 0.25 / 0.25)
    with pytest.raises(ValueError, match="mismatched particle counts"):
        rollout_mse(np.zeros((3, 4, 2)), np.zeros((3, 5, 2)))


def test_non_finite_trajectories_and_bad_learning_rate_raise_before_training(rng):
    data = _data(rng)
    builder = RadiusGraphBuilder.from_data(data[0], 0.2, BOX)
    bad = data.copy()
    bad[1, 4, 7, 0] = np.nan
    with pytest.raises(ValueError, match="trajectories has 1 non-finite"):
        train_stepper(_tiny(), bad, builder=builder, steps=1, key=jax.random.PRNGKey(0))
    for lr in (0.0, -1e-3):
        with pytest.raises(ValueError, match="learning_rate"):
            train_stepper(_tiny(), data, builder=builder, steps=1, key=jax.random.PRNGKey(0),
                          learning_rate=lr)


class _BlowUp(eqx.Module):
    """A 'stepper' whose prediction overflows float64 on its second step."""

    n_history: int = 1
    dtype = jnp.float64

    def step(self, hist, graph):
        return hist[-1] * 1e200


def test_rollout_rejects_non_finite_history_and_reports_divergence(rng):
    data = _data(rng)[0]
    builder = RadiusGraphBuilder.from_data(data, 0.2, BOX)
    bad = data[:3].copy()
    bad[-1, 0, 1] = np.inf
    with pytest.raises(ValueError, match="initial has 1 non-finite"):
        rollout(_tiny(), bad, 2, builder=builder)
    with pytest.raises(RuntimeError, match="step 2 of 5 has non-finite"):
        rollout(_BlowUp(), data[:2], 5, builder=builder)
