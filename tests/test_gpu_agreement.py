"""GPU paths agree with the CPU (run on the device machine: ``pytest -m gpu``).

Each test runs the same jitted float64 computation on the default device (the GPU) and,
inside ``jax.default_device(cpu)``, on the CPU. Only the order of floating-point reductions
(cuBLAS/cuSOLVER versus Eigen/LAPACK, atomic scatter-adds) differs, so agreement is to
rounding amplified by the algorithm; each tolerance says how much amplification it allows.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

pytestmark = pytest.mark.gpu


def _cpu():
    return jax.default_device(jax.devices("cpu")[0])


def test_funbat_fit_gpu_matches_cpu():
    from tensorrom.funbat import FunBaT
    from tensorrom.io.datasets import load_funbat_synthetic_r1

    d = load_funbat_synthetic_r1()
    kw = dict(rank=1, kernel="matern32", lengthscale=0.1, variance=0.5, core="cp",
              max_epochs=30, tol=0.0)
    gpu = FunBaT(**kw).fit(d.X_train, d.y_train)
    with _cpu():
        cpu = FunBaT(**kw).fit(d.X_train, d.y_train)
    a = np.asarray(gpu.predict(d.X_test))
    b = np.asarray(cpu.predict(d.X_test))
    # 30 damped EP epochs of Kalman filtering/smoothing: rounding differences (1e-16) are
    # contracted by the damping, not amplified; 1e-8 of predictions of size O(0.3).
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-8)


@pytest.mark.parametrize("name", ["GNS", "GIOROM"])
def test_particle_models_gpu_match_cpu(name):
    from tensorrom.data import Box, radius_graph
    from tensorrom.lagrangian import GIOROM, GNS, Normalisation

    box = Box([0.0, 0.0], [1.0, 1.0])
    rng = np.random.default_rng(0)
    x0 = rng.uniform(0.2, 0.8, size=(300, 2))
    h = np.concatenate([x0[None], x0[None] + np.cumsum(
        rng.normal(scale=2e-3, size=(3, 300, 2)), axis=0)])
    norm = Normalisation(vel_mean=np.zeros(2), vel_std=np.full(2, 2e-3),
                         acc_mean=np.zeros(2), acc_std=np.full(2, 1e-3))
    key = jax.random.PRNGKey(0)
    cls = {"GNS": GNS, "GIOROM": GIOROM}[name]
    extra = {} if name == "GNS" else dict(grid_shape=8, grid_channels=8, modes=3,
                                           n_fourier=1, n_pre=1, n_post=1)
    model = cls(2, box, 0.1, normalisation=norm, n_history=3, latent=32, key=key,
                dtype=jnp.float64, **extra)
    g = radius_graph(h[-1], 0.1, capacity=20_000)
    a = np.asarray(eqx.filter_jit(model)(jnp.asarray(h), g))
    with _cpu():
        b = np.asarray(eqx.filter_jit(model)(jnp.asarray(h), g))
    # float64 forward pass; segment-sum order differs (atomics on the GPU): 1e-10 absolute
    # on O(1) normalised accelerations is rounding times the network's O(10-100) gain.
    assert np.abs(a).max() > 1e-6
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-10)


def test_phirom_latent_velocity_gpu_matches_cpu():
    from tensorrom.rom import phirom

    rng = np.random.default_rng(1)
    jac = rng.normal(size=(256, 8))
    f = rng.normal(size=256)
    a = np.asarray(phirom.latent_velocity(jnp.asarray(jac), jnp.asarray(f)))
    with _cpu():
        b = np.asarray(phirom.latent_velocity(jnp.asarray(jac), jnp.asarray(f)))
    # a well-conditioned 256x8 least-squares problem (cond ~ 1.5): 1e-12 is rounding
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)


def test_potentials_jax_on_gpu_matches_numba():
    from tensorrom.potentials import coulomb, nacl_cluster

    pc = nacl_cluster(4)
    t = np.random.default_rng(2).uniform(-1.0, 9.0, (5000, 3))
    a = np.asarray(coulomb(pc, t, rtol=1e-8, min_distance=0.0, backend="jax", method="split"))
    assert jax.devices()[0].platform == "gpu"
    b = coulomb(pc, t, rtol=1e-8, min_distance=0.0, backend="numba", method="split")
    # the same range split and ChebTucker; the Numba short range reads erfc from a table
    # (<= 2e-10 per pair; 1.4e-11 of max|V| on the CPU), so 1e-9 of max|V|
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-9 * np.abs(b).max())
    # the direct sum under JAX on the GPU (float64) against the Numba loop: only the
    # summation order differs, 1e-12 of max|V|
    c = np.asarray(coulomb(pc, t, min_distance=0.0, backend="jax", method="direct"))
    d = coulomb(pc, t, min_distance=0.0, method="direct")
    np.testing.assert_allclose(c, d, rtol=0, atol=1e-12 * np.abs(d).max())
