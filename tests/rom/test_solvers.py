"""Full-order solvers: residuals against independent NumPy code, rates, gradients, bad input."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

from tensorrom.data import Field, TensorGrid
from tensorrom.rom import solvers


def _burgers_residual_numpy(u, mu, dx, a=0.02):
    """Independent loop implementation of the benchmark's scheme (README of the data)."""
    n = len(u)
    r = np.zeros(n)
    for i in range(1, n):
        x = i * dx
        r[i] = -(u[i] ** 2 - u[i - 1] ** 2) / (2 * dx) + a * np.exp(mu * x)
    return r  # r[0] = 0: the leftmost node is held fixed


def test_burgers_residual_matches_numpy(rng):
    s = solvers.Burgers1D()
    u = rng.uniform(0.5, 5.0, 256)
    for mu in (0.015, 0.03214):
        got = np.asarray(s.residual(jnp.asarray(u), mu))
        ref = _burgers_residual_numpy(u, mu, 100 / 255)
        # same arithmetic in float64: agreement to round-off (|R| ~ 10, eps ~ 2e-16)
        np.testing.assert_allclose(got, ref, rtol=0, atol=1e-12)


def test_burgers_rollout_matches_numpy_euler():
    s = solvers.Burgers1D()
    u0 = s.initial_condition()
    traj = np.asarray(s.rollout(jnp.asarray(u0), 0.02))
    assert traj.shape == (200, 256)
    u = u0.copy()
    for n in range(1, 200):
        u = u + 0.07 * _burgers_residual_numpy(u, 0.02, 100 / 255)
        # 199 explicit updates; round-off grows at most linearly with the step count
        np.testing.assert_allclose(traj[n], u, rtol=0, atol=1e-11)


def test_burgers_initial_condition_bundled():
    u0 = solvers.burgers_initial_condition()
    assert u0.shape == (256,)
    # the data README: 4.25 at x = 0, falling to about 1.08
    assert abs(u0[0] - 4.2514) < 1e-4 and 1.0 < u0[40] < 1.1


def test_burgers_parameters():
    tr = solvers.burgers_mus("train")[:, 0]
    te = solvers.burgers_mus("test")[:, 0]
    np.testing.assert_allclose(tr, np.linspace(0.015, 0.03, 8), atol=1e-15)
    assert len(te) == 9
    # the issue quotes the extrapolation values to 4 significant digits
    np.testing.assert_allclose(te[-2:], [0.01286, 0.03214], atol=5e-6)
    np.testing.assert_allclose(te[:7], 0.5 * (tr[1:] + tr[:-1]), atol=1e-15)


def test_burgers_dataset_is_a_field_on_a_tensorgrid():
    d = solvers.burgers_dataset("test", n_steps=5)
    assert d.values.shape == (9, 5, 256)
    f = d.field(3)
    assert isinstance(f, Field) and isinstance(f.support, TensorGrid)
    np.testing.assert_allclose(f.support.axes[0], np.arange(256) * 100 / 255, atol=1e-12)


def test_burgers_gradients():
    s = solvers.Burgers1D(num_points=16, length=10.0)
    u = jnp.linspace(1.0, 3.0, 16)
    # check_grads compares AD with central finite differences (its own float64 tolerances)
    check_grads(lambda v, m: s.residual(v, m), (u, jnp.asarray(0.02)), order=1,
                modes=("rev",))


def test_burgers_pointwise_residual_analytic():
    s = solvers.Burgers1D()

    def u_fn(x):
        return 2.0 + jnp.sin(0.1 * x)

    x = jnp.asarray([3.0])
    got = s.pointwise_residual(u_fn, x, 0.02)
    ref = -(2 + np.sin(0.3)) * 0.1 * np.cos(0.3) + 0.02 * np.exp(0.06)
    np.testing.assert_allclose(np.asarray(got), [ref], rtol=1e-13)  # exact autodiff


def test_diffusion_residual_discrete_eigenfunction():
    s = solvers.Diffusion2D(n=12)
    x, y = np.meshgrid(*s.axes, indexing="ij")
    k, m = 2, 3
    phi = np.sin(k * np.pi * x) * np.sin(m * np.pi * y)
    h = s.h
    lam = -4 / h**2 * (np.sin(k * np.pi * h / 2) ** 2 + np.sin(m * np.pi * h / 2) ** 2)
    got = np.asarray(s.residual(jnp.asarray(phi), 0.7))
    # sine modes vanishing on the walls are exact eigenvectors of the 5-point Laplacian
    np.testing.assert_allclose(got, 0.7 * lam * phi, atol=1e-10 * abs(lam))


def test_diffusion_gradients():
    s = solvers.Diffusion2D(n=4)
    u = jnp.asarray(np.random.default_rng(1).normal(size=(4, 4)))
    check_grads(lambda v, m: s.residual(v, m), (u, jnp.asarray(0.5)), order=1,
                modes=("rev",))


def test_from_stepper_first_order_on_exponax_diffusion():
    ex = pytest.importorskip("exponax")
    L, n, nu = 1.0, 32, 0.01
    x = np.arange(n) * L / n
    u = jnp.asarray(np.sin(2 * np.pi * x)[None])
    exact = -nu * (2 * np.pi) ** 2 * np.sin(2 * np.pi * x)  # nu Laplace u
    dts = np.array([0.4, 0.2, 0.1, 0.05])
    errs = []
    for dt in dts:
        with jax.numpy_dtype_promotion("standard"):  # exponax is not strict-promotion clean
            st = ex.stepper.Diffusion(1, L, n, float(dt), diffusivity=nu)
        r = solvers.from_stepper(st, float(dt))
        errs.append(np.max(np.abs(np.asarray(r.residual(u, 0.0))[0] - exact)))
    slope = np.polyfit(np.log(dts), np.log(errs), 1)[0]
    # (exp(dt L) - 1)/dt = L + dt L^2/2 + ...: first order (slope 1 within 0.1)
    assert abs(slope - 1.0) < 0.1, slope


def test_from_stepper_rollout_and_grid():
    ex = pytest.importorskip("exponax")
    with jax.numpy_dtype_promotion("standard"):  # exponax is not strict-promotion clean
        st = ex.stepper.Diffusion(1, 1.0, 16, 0.1, diffusivity=0.01)
    r = solvers.from_stepper(st, 0.1, n_steps=3)
    assert r.state_shape == (1, 16) and r.grid.shape == (16,)
    u0 = jnp.asarray(np.sin(2 * np.pi * np.arange(16) / 16)[None])
    traj = r.rollout(u0, 0.0)
    with jax.numpy_dtype_promotion("standard"):
        ref = np.asarray(st(st(u0)))
    # the rollout applies the stepper itself: identical up to float64 round-off
    np.testing.assert_allclose(np.asarray(traj[2]), ref, rtol=0, atol=1e-12)


class _WrongShapeStepper:
    num_spatial_dims, num_points, num_channels, domain_extent = 1, 8, 1, 1.0

    def __call__(self, u):
        return u[..., :-1]


def test_from_stepper_rejects_shape_changing_residual():
    with pytest.raises(ValueError, match="shaped like its input"):
        solvers.from_stepper(_WrongShapeStepper(), 0.1)


def test_from_stepper_rejects_non_callable():
    with pytest.raises(TypeError, match="stepper"):
        solvers.from_stepper(3.0, 0.1)


def test_from_stepper_rejects_bad_dt():
    with pytest.raises(ValueError, match="dt"):
        solvers.from_stepper(_WrongShapeStepper(), -1.0)


def test_burgers_rejects_small_grid():
    with pytest.raises(ValueError, match="num_points"):
        solvers.Burgers1D(num_points=2)


def test_rollout_rejects_wrong_u0_shape():
    with pytest.raises(ValueError, match="u0"):
        solvers.Burgers1D().rollout(jnp.ones(10), 0.02)


def test_burgers_mus_rejects_bad_split():
    with pytest.raises(ValueError, match="split"):
        solvers.burgers_mus("valid")


def test_diffusion_dataset_rejects_unstable_mu():
    with pytest.raises(ValueError, match="mu_range"):
        solvers.diffusion_dataset(2, mu_range=(1.0, 100.0))
