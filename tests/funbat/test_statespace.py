"""Matérn state-space form: closed-form transitions reproduce the covariance (acceptance 1)."""

import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg

from tensorrom.funbat import (
    KERNELS,
    matern_covariance,
    state_dim,
    stationary_covariance,
    transition,
)
from tensorrom.funbat._statespace import feedback_matrix

LAGS = np.concatenate([[0.0], np.geomspace(1e-6, 5.0, 60)])


@pytest.mark.parametrize("kernel", sorted(KERNELS))
@pytest.mark.parametrize("lengthscale,variance", [(0.1, 0.5), (0.7, 2.3)])
def test_transition_reproduces_matern_covariance(kernel, lengthscale, variance):
    # Acceptance 1: H A(Δ) P∞ Hᵀ = k(Δ). Both sides are closed forms of O(1) magnitude
    # evaluated in float64, so agreement to 1e-12 (about 1e4 ulp) is expected.
    A, _ = transition(kernel, lengthscale, variance, jnp.asarray(LAGS))
    Pinf = stationary_covariance(kernel, lengthscale, variance)
    k_ss = np.asarray((A @ Pinf)[:, 0, 0])
    k = np.asarray(matern_covariance(kernel, lengthscale, variance, jnp.asarray(LAGS)))
    np.testing.assert_allclose(k_ss, k, rtol=0, atol=1e-12)


@pytest.mark.parametrize("kernel", sorted(KERNELS))
def test_transition_is_matrix_exponential(kernel):
    # A(Δ) must equal expm(FΔ); scipy's Padé expm is accurate to ~1e-15 relative here,
    # the tolerance leaves a factor of 100 for the λ^3 Δ^2 terms of Matérn-5/2.
    ell = 0.3
    F = np.asarray(feedback_matrix(kernel, ell))
    for dt in (1e-3, 0.05, 0.4, 2.0):
        A, _ = transition(kernel, ell, 1.0, jnp.asarray([dt]))
        np.testing.assert_allclose(np.asarray(A[0]), scipy.linalg.expm(F * dt), rtol=1e-12,
                                   atol=1e-13)


@pytest.mark.parametrize("kernel", sorted(KERNELS))
def test_stationary_covariance_solves_lyapunov_and_q_is_psd(kernel):
    # P∞ is stationary: A P∞ Aᵀ + Q = P∞ by construction, so check the continuous
    # Lyapunov equation F P∞ + P∞ Fᵀ = −L q Lᵀ instead (only the last diagonal entry non-zero).
    ell, var = 0.25, 1.7
    F = np.asarray(feedback_matrix(kernel, ell))
    P = np.asarray(stationary_covariance(kernel, ell, var))
    lyap = F @ P + P @ F.T
    d = state_dim(kernel)
    off = lyap.copy()
    off[d - 1, d - 1] = 0.0
    np.testing.assert_allclose(off, 0.0, atol=1e-10 * np.abs(lyap).max())
    assert lyap[d - 1, d - 1] < 0
    _, Q = transition(kernel, ell, var, jnp.asarray([0.01, 0.3, 3.0]))
    # Q(Δ) is a covariance: symmetric PSD up to rounding of P∞ − A P∞ Aᵀ (~1e-12 relative)
    for q in np.asarray(Q):
        assert np.linalg.eigvalsh(q).min() > -1e-12 * np.abs(P).max()


def test_semigroup_property():
    # exact discretisation: A(a + b) = A(a) A(b) and Q(a + b) = A(b) Q(a) A(b)ᵀ + Q(b);
    # products of closed forms, agreement to rounding (1e-12).
    a, b = 0.13, 0.41
    A, Q = transition("matern52", 0.2, 1.3, jnp.asarray([a, b, a + b]))
    A, Q = np.asarray(A), np.asarray(Q)
    np.testing.assert_allclose(A[2], A[1] @ A[0], atol=1e-12)
    np.testing.assert_allclose(Q[2], A[1] @ Q[0] @ A[1].T + Q[1], atol=1e-12)


def test_unknown_kernel_raises():
    with pytest.raises(ValueError, match="kernel"):
        state_dim("matern72")
