"""one_step_acceleration_error: drift / shape split of one-step accelerations (float64: the
test suite enables x64 in tests/conftest.py)."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tensorrom.data import Box
from tensorrom.lagrangian import GNS, Normalisation, RadiusGraphBuilder, one_step_acceleration_error

BOX = Box([0.0, 0.0], [1.0, 1.0])
R = 0.15


class _ConstantAcceleration(eqx.Module):
    """Stub stepper: x_{t+1} = 2 x_t - x_{t-1} + c (a fixed acceleration per particle)."""
    c: jax.Array
    n_history: int = 2
    dtype: type = jnp.float64

    def step(self, history, graph):
        return 2 * history[-1] - history[-2] + self.c


def _free_fall(rng, n=30, T=12):
    x0 = rng.uniform(0.3, 0.7, size=(n, 2))
    v = rng.normal(scale=1e-3, size=(n, 2))
    g = np.array([0.0, -4e-4])
    t = np.arange(T, dtype=np.float64)[:, None, None]
    return x0 + v * t + 0.5 * g * t ** 2, g


def test_constant_acceleration_stub(rng):
    x, g = _free_fall(rng)
    c = rng.normal(scale=1e-4, size=x.shape[1:]) + np.array([1e-5, -2e-5])
    builder = RadiusGraphBuilder.from_data(x[::3], R, BOX, margin=3.0)
    res = one_step_acceleration_error(_ConstantAcceleration(jnp.asarray(c)), x,
                                      builder=builder, n_frames=8)
    # true acceleration of x0 + v t + g t^2 / 2 is g at every frame; the stub predicts c, so
    # the mean error is mean(c) - g and the deviation the rms of c about its mean. Positions
    # are O(1) in float64, accelerations O(1e-4): second differences lose ~1e-16 / 1e-4
    # relative, so 1e-10 relative (1e-14 absolute) is rounding.
    assert res["mean_error"].shape == (8, 2) and res["true_mean"].shape == (8, 2)
    np.testing.assert_allclose(res["true_mean"], np.broadcast_to(g, (8, 2)), rtol=0, atol=1e-14)
    np.testing.assert_allclose(res["mean_error"], np.broadcast_to(c.mean(0) - g, (8, 2)),
                               rtol=0, atol=1e-14)
    want = np.sqrt(np.mean(np.sum((c - c.mean(0)) ** 2, axis=-1)))
    np.testing.assert_allclose(res["deviation"], want, rtol=1e-10)


def test_matches_a_loop_over_model_step(rng):
    x, _ = _free_fall(rng, T=10)
    norm = Normalisation(vel_mean=np.array([0.0, -1e-3]), vel_std=np.array([2e-3, 2e-3]),
                         acc_mean=np.array([0.0, -1e-4]), acc_std=np.array([1e-3, 1e-3]))
    gns = GNS(2, BOX, R, normalisation=norm, n_history=3, latent=16, n_message_passing=2,
              key=jax.random.PRNGKey(0), dtype=jnp.float64)
    builder = RadiusGraphBuilder.from_data(x[::3], R, BOX, margin=3.0)
    res = one_step_acceleration_error(gns, x, builder=builder, start=4, n_frames=5)
    errs = []
    for t in range(4, 9):
        hist = jnp.asarray(x[t - 3:t + 1])
        xp = np.asarray(gns.step(hist, builder(hist[-1])))
        errs.append((xp - 2 * x[t] + x[t - 1]) - (x[t + 1] - 2 * x[t] + x[t - 1]))
    errs = np.array(errs)
    # the same float64 computation in another order (lax.map vs a loop): rounding only
    np.testing.assert_allclose(res["mean_error"], errs.mean(1), rtol=1e-9, atol=1e-16)
    dev = errs - errs.mean(1, keepdims=True)
    np.testing.assert_allclose(res["deviation"], np.sqrt(np.mean(np.sum(dev ** 2, -1))),
                               rtol=1e-9)


def test_bad_input(rng):
    x, _ = _free_fall(rng, T=10)
    stub = _ConstantAcceleration(jnp.zeros(x.shape[1:]))
    builder = RadiusGraphBuilder.from_data(x[::3], R, BOX, margin=3.0)
    with pytest.raises(ValueError, match="start"):
        one_step_acceleration_error(stub, x, builder=builder, start=1)
    with pytest.raises(ValueError, match="frames"):
        one_step_acceleration_error(stub, x, builder=builder, n_frames=8)
    with pytest.raises(ValueError, match="trajectory must have shape"):
        one_step_acceleration_error(stub, x[0], builder=builder)
