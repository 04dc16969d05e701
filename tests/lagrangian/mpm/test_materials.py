"""Constitutive models: parameters, return mappings and the 2D/3D rotation-preserving SVDs."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tensorrom.lagrangian import mpm
from tensorrom.lagrangian.mpm._materials import (
    jelly_update,
    plasticine_update,
    sand_update,
    water_pressure,
)
from tensorrom.lagrangian.mpm._solver import _svd2, _svd3


def test_defaults_and_overrides():
    s = mpm.material("sand", friction_angle=25.0)
    assert s.friction_angle == 25.0 and s.density == mpm.sand().density
    mu, lam = mpm.jelly().lame
    e, nu = mpm.jelly().youngs_modulus, mpm.jelly().poisson_ratio
    # Lame parameters from E and nu: E = mu (3 lam + 2 mu) / (lam + mu) (exact identity)
    assert mu * (3 * lam + 2 * mu) / (lam + mu) == pytest.approx(e, rel=1e-12)
    assert lam / (2 * (lam + mu)) == pytest.approx(nu, rel=1e-12)
    assert mpm.water().wave_speed == pytest.approx(math.sqrt(2.0e5 / 1000.0), rel=1e-12)


def test_unknown_material():
    with pytest.raises(ValueError, match="material"):
        mpm.material("honey")


def test_unknown_parameter():
    with pytest.raises(ValueError, match="friction_angle"):
        mpm.material("water", friction_angle=30.0)


def test_bad_poisson_ratio():
    with pytest.raises(ValueError, match="poisson_ratio"):
        mpm.jelly(poisson_ratio=0.5)


def test_bad_density():
    with pytest.raises(ValueError, match="density"):
        mpm.water(density=-1.0)


def test_bad_friction_angle():
    with pytest.raises(ValueError, match="friction_angle"):
        mpm.sand(friction_angle=95.0)


def test_bad_yield_stress():
    with pytest.raises(ValueError, match="yield_stress"):
        mpm.plasticine(yield_stress=0.0)


def _rand_f(rng, n, d):
    return np.eye(d) + 0.3 * rng.standard_normal((n, d, d))


@pytest.mark.parametrize("d, svd", [(2, _svd2), (3, _svd3)])
def test_svd_reconstructs_with_rotations(rng, d, svd):
    f = _rand_f(rng, 200, d)
    f[:5, :, 0] *= -1  # some inverted (det < 0) gradients
    u, s, v = (np.asarray(a) for a in jax.jit(svd)(jnp.asarray(f)))
    rec = np.einsum("nij,nj,nkj->nik", u, s, v)
    # float64 round-off of a few flops on O(1) entries
    np.testing.assert_allclose(rec, f, atol=1e-12)
    np.testing.assert_allclose(np.linalg.det(u), 1.0, atol=1e-12)
    np.testing.assert_allclose(np.linalg.det(v), 1.0, atol=1e-12)
    np.testing.assert_allclose(np.einsum("nki,nkj->nij", u, u), np.broadcast_to(np.eye(d), u.shape),
                               atol=1e-12)


def test_jelly_stress_analytic():
    # uniaxial stretch sigma = (a, 1): tau_1 = 2 mu (a-1) a + lam (a-1) a, tau_2 = lam (a-1) a
    mu, lam, a = 2.0, 3.0, 1.2
    sig = jnp.asarray([[a, 1.0], [1.0, 1.0]])
    s_new, tau = jelly_update(sig, jnp.asarray([mu, mu]), jnp.asarray([lam, lam]))
    j = a
    np.testing.assert_allclose(np.asarray(tau[0]), [2 * mu * (a - 1) * a + lam * (j - 1) * j,
                                                    lam * (j - 1) * j], rtol=1e-14)
    np.testing.assert_allclose(np.asarray(tau[1]), [0.0, 0.0], atol=1e-15)  # rest state
    np.testing.assert_array_equal(np.asarray(s_new), np.asarray(sig))  # elastic: unchanged


def _dp_inside(sig, mu, lam, alpha, d):
    eps = np.log(sig)
    tr = eps.sum()
    dev = eps - tr / d
    return np.linalg.norm(dev) + (d * lam + 2 * mu) / (2 * mu) * tr * alpha


@pytest.mark.parametrize("d", [2, 3])
def test_sand_return_mapping_lands_on_cone(rng, d):
    mat = mpm.sand()
    mu, lam = mat.lame
    alpha = mat.drucker_prager_alpha(d)
    sig = np.exp(rng.normal(-0.02, 0.05, size=(300, d)))
    n = sig.shape[0]
    s_new, _ = jax.jit(sand_update)(jnp.asarray(sig), jnp.full(n, mu), jnp.full(n, lam),
                                    jnp.full(n, alpha))
    s_new = np.asarray(s_new)
    for k in range(n):
        tr = np.log(sig[k]).sum()
        g_before = _dp_inside(sig[k], mu, lam, alpha, d)
        g_after = _dp_inside(s_new[k], mu, lam, alpha, d)
        if tr > 0:  # tension: projected to the cone tip
            np.testing.assert_allclose(s_new[k], 1.0, atol=1e-15)
        elif g_before <= 0:  # inside the cone: untouched
            np.testing.assert_array_equal(s_new[k], sig[k])
        else:  # projected onto the cone surface (float64 round-off of log/exp)
            assert abs(g_after) < 1e-12
            # the projection keeps the volumetric strain tr(eps)
            assert np.log(s_new[k]).sum() == pytest.approx(tr, abs=1e-13)


def test_plane_strain_cone_matches_mohr_coulomb():
    # in 2D on the cone: (tau1 - tau2)/2 = sin(phi) * (-(tau1 + tau2)/2) exactly
    mat = mpm.sand(friction_angle=30.0)
    mu, lam = mat.lame
    alpha = mat.drucker_prager_alpha(2)
    sig = jnp.asarray([[0.95, 1.02]])  # compressed, outside the cone
    assert _dp_inside(np.asarray(sig[0]), mu, lam, alpha, 2) > 0
    s_new, tau = jax.jit(sand_update)(sig, jnp.asarray([mu]), jnp.asarray([lam]),
                                      jnp.asarray([alpha]))
    t1, t2 = np.asarray(tau[0])
    assert (abs(t1 - t2) / 2) / (-(t1 + t2) / 2) == pytest.approx(0.5, rel=1e-10)


def test_plasticine_radial_return(rng):
    mat = mpm.plasticine()
    mu, lam = mat.lame
    radius = math.sqrt(2 / 3) * mat.yield_stress / (2 * mu)
    sig = np.exp(rng.normal(0.0, 0.03, size=(200, 3)))
    n = sig.shape[0]
    s_new, _ = jax.jit(plasticine_update)(jnp.asarray(sig), jnp.full(n, mu),
                                          jnp.full(n, lam), jnp.full(n, mat.yield_stress))
    eps0, eps1 = np.log(sig), np.log(np.asarray(s_new))
    dev0 = eps0 - eps0.mean(1, keepdims=True)
    dev1 = eps1 - eps1.mean(1, keepdims=True)
    n0, n1 = np.linalg.norm(dev0, axis=1), np.linalg.norm(dev1, axis=1)
    assert np.any(n0 > radius) and np.any(n0 < radius)
    # yielded points sit on the von Mises circle, others are unchanged (float64 log/exp)
    np.testing.assert_allclose(n1[n0 > radius], radius, rtol=1e-10)
    np.testing.assert_allclose(eps1[n0 <= radius], eps0[n0 <= radius], atol=1e-15)
    np.testing.assert_allclose(eps1.sum(1), eps0.sum(1), atol=1e-13)  # volume kept


def test_tait_pressure():
    k, g = 2.0e5, 7.0
    j = jnp.asarray([0.99, 1.0, 1.01])
    p = np.asarray(water_pressure(j, k, g))
    np.testing.assert_allclose(p, k * (np.asarray(j) ** -g - 1) / g, rtol=1e-14)
    # linearised: p ~ K (1 - J) for small compressions (second-order term (g+1)/2 (1-J)^2)
    assert p[0] == pytest.approx(k * 0.01, rel=0.05)
