"""Kalman filter / RTS smoother against the dense GP posterior (acceptance 2)."""

import jax.numpy as jnp
import numpy as np
import pytest

from tensorrom.funbat import (
    block_transition,
    gaussian_bridge,
    kalman_smoother,
    matern_covariance,
    observation_matrix,
    stationary_covariance,
    transition,
)


def _chain(kernel, ell, var, t, rank=1):
    dt = np.diff(t, prepend=t[0])
    A, Q = transition(kernel, ell, var, jnp.asarray(dt))
    P0 = stationary_covariance(kernel, ell, var)
    H = observation_matrix(rank, P0.shape[0], jnp.float64)
    return (block_transition(A, rank), block_transition(Q, rank), block_transition(P0, rank),
            H)


# the associative variant compiles slowly (log-depth tree of batched solves): one kernel by
# default, the others under the slow marker
@pytest.mark.parametrize("kernel,method", [
    ("matern12", "scan"), ("matern32", "scan"), ("matern52", "scan"),
    ("matern32", "associative"),
    pytest.param("matern12", "associative", marks=pytest.mark.slow),
    pytest.param("matern52", "associative", marks=pytest.mark.slow),
])
def test_smoother_equals_dense_gp(kernel, method, rng):
    # Acceptance 2: one mode, Gaussian pseudo-observations y_j with noise s2: the smoother's
    # posterior mean/variance equal the dense GP posterior. Both are exact algorithms in
    # float64 on a well-conditioned problem (cond(K + s2 I) < 1e4), so 1e-8 holds with
    # margin (observed ~1e-14).
    ell, var, s2, M = 0.3, 1.7, 0.05, 40
    t = np.sort(rng.uniform(0.0, 2.0, M))
    y = np.sin(3 * t) + 0.1 * rng.standard_normal(M)
    A, Q, P0, H = _chain(kernel, ell, var, t)
    res = kalman_smoother(A, Q, P0, H, jnp.full((M, 1, 1), 1.0 / s2),
                          jnp.asarray(y / s2)[:, None], method=method)
    K = np.asarray(matern_covariance(kernel, ell, var, jnp.asarray(t[:, None] - t[None])))
    Ky = K + s2 * np.eye(M)
    mean = K @ np.linalg.solve(Ky, y)
    cov = K - K @ np.linalg.solve(Ky, K)
    np.testing.assert_allclose(np.asarray(res.m_smooth[:, 0]), mean, rtol=0, atol=1e-8)
    np.testing.assert_allclose(np.asarray(res.P_smooth[:, 0, 0]), np.diag(cov), rtol=0,
                               atol=1e-8)
    # log evidence of the natural-parameter pseudo-likelihood = GP log marginal likelihood
    # minus the pseudo-likelihood's normaliser Σ_j [½ log 2π s2 + ½ y_j²/s2]
    loglik = (-0.5 * y @ np.linalg.solve(Ky, y) - 0.5 * np.linalg.slogdet(Ky)[1]
              - 0.5 * M * np.log(2 * np.pi))
    shifted = float(res.log_evidence) - np.sum(0.5 * np.log(2 * np.pi * s2) + 0.5 * y**2 / s2)
    # the shift adds terms of size y²/s2 ~ 1e3; relative 1e-12 of that is 1e-9
    assert abs(shifted - loglik) < 1e-8

    # Gaussian bridge at off-grid points (left, between, at a node, right) = dense GP
    tq = np.array([-0.5, 0.3, t[5], 1.1, 2.5, t[-1]])

    def trans(dd):
        return transition(kernel, ell, var, dd)

    bm, bc = gaussian_bridge(jnp.asarray(tq), jnp.asarray(t), res, trans, P0)
    Kq = np.asarray(matern_covariance(kernel, ell, var, jnp.asarray(tq[:, None] - t[None])))
    mq = Kq @ np.linalg.solve(Ky, y)
    vq = var - np.sum(Kq * np.linalg.solve(Ky, Kq.T).T, axis=1)
    np.testing.assert_allclose(np.asarray(bm[:, 0]), mq, rtol=0, atol=1e-8)
    np.testing.assert_allclose(np.asarray(bc[:, 0, 0]), vq, rtol=0, atol=1e-8)


@pytest.mark.parametrize("method", ["scan", pytest.param("associative", marks=pytest.mark.slow)])
def test_coupled_rank2_singular_precisions_match_dense_posterior(method, rng):
    # Two latent functions coupled by rank-1 (singular) per-node precisions Λ_j = c_j c_jᵀ —
    # what FunBaT's messages look like. Dense reference: precision K⁻¹ ⊕ blockdiag(Λ_j).
    # Dense inversion of a 2M×2M matrix with cond ~1e6 loses ~1e-10; tolerance 1e-8.
    kernel, ell, var, M, R = "matern32", 0.4, 1.2, 25, 2
    t = np.sort(rng.uniform(0.0, 3.0, M))
    c = rng.standard_normal((M, R))
    Lam = 4.0 * c[:, :, None] * c[:, None, :]
    eta = rng.standard_normal((M, R))
    A, Q, P0, H = _chain(kernel, ell, var, t, rank=R)
    res = kalman_smoother(A, Q, P0, H, jnp.asarray(Lam), jnp.asarray(eta), method=method)
    K1 = np.asarray(matern_covariance(kernel, ell, var, jnp.asarray(t[:, None] - t[None])))
    # ordering of the dense vector: (node j, function r)
    Kfull = np.kron(K1, np.eye(R))
    prec = np.linalg.inv(Kfull)
    for j in range(M):
        prec[j * R:(j + 1) * R, j * R:(j + 1) * R] += Lam[j]
    cov = np.linalg.inv(prec)
    mean = cov @ eta.ravel()
    m = np.asarray(res.m_smooth @ H.T)
    V = np.asarray(H @ res.P_smooth @ H.T)
    np.testing.assert_allclose(m.ravel(), mean, rtol=0, atol=1e-8)
    dense_blocks = np.stack([cov[j * R:(j + 1) * R, j * R:(j + 1) * R] for j in range(M)])
    np.testing.assert_allclose(V, dense_blocks, rtol=0, atol=1e-8)


@pytest.mark.slow
def test_scan_and_associative_agree_on_log_evidence(rng):
    # both are exact; differences are rounding only (1e-9 on a value of size ~10)
    M, R = 30, 2
    t = np.sort(rng.uniform(0.0, 1.0, M))
    A, Q, P0, H = _chain("matern52", 0.2, 0.8, t, rank=R)
    c = rng.standard_normal((M, R, R))
    Lam = jnp.asarray(np.einsum("mij,mkj->mik", c, c))
    eta = jnp.asarray(rng.standard_normal((M, R)))
    a = kalman_smoother(A, Q, P0, H, Lam, eta, method="scan")
    b = kalman_smoother(A, Q, P0, H, Lam, eta, method="associative")
    assert abs(float(a.log_evidence) - float(b.log_evidence)) < 1e-9
    np.testing.assert_allclose(np.asarray(a.P_smooth), np.asarray(b.P_smooth), atol=1e-9)


def test_unknown_method_raises():
    A = jnp.zeros((3, 1, 1))
    with pytest.raises(ValueError, match="method"):
        kalman_smoother(A, A, jnp.eye(1), jnp.eye(1), A, jnp.zeros((3, 1)), method="loop")
