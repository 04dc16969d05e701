"""Matérn Gaussian processes as linear time-invariant SDEs (state-space form).

A Matérn-ν process with ν = p + 1/2 (p = 0, 1, 2) is the first component of a
``d = p + 1`` dimensional state ``z(t) = (u, u', ..., u^(p))`` solving

    dz = F z dt + L dβ,   F = companion matrix of (D + λ)^d,  λ = sqrt(2ν)/ℓ,

so that between two coordinates a distance Δ apart the state evolves *exactly* as

    z(t + Δ) = A(Δ) z(t) + q,   A(Δ) = exp(FΔ),   q ~ N(0, Q(Δ)),   Q(Δ) = P∞ − A(Δ) P∞ A(Δ)ᵀ,

with P∞ the stationary covariance. Because F + λI is nilpotent, ``A(Δ) = e^{−λΔ}
Σ_{i<d} (F + λI)^i Δ^i / i!`` in closed form. The covariance function is recovered as
``k(Δ) = H A(Δ) P∞ Hᵀ`` with ``H = (1, 0, ..., 0)``.

All functions are pure ``jax.numpy`` and keep the dtype of their inputs; call them inside
``with jax.enable_x64(True):`` for float64 (FunBaT does so).

References:
    Hartikainen, J. and Särkkä, S. (2010). Kalman filtering and smoothing solutions to
    temporal Gaussian process regression models. IEEE MLSP.
    Särkkä, S. and Solin, A. (2019). Applied Stochastic Differential Equations, §12.3.
"""

from __future__ import annotations

import math

import jax.numpy as jnp

__all__ = ["KERNELS", "state_dim", "matern_covariance", "stationary_covariance",
           "feedback_matrix", "transition", "check_kernel"]

#: supported kernels and their smoothness ν
KERNELS = {"matern12": 0.5, "matern32": 1.5, "matern52": 2.5}


def check_kernel(kernel: str) -> str:
    """Return ``kernel`` if it names a supported Matérn kernel, else raise ValueError."""
    if not isinstance(kernel, str) or kernel not in KERNELS:
        raise ValueError(f"kernel must be one of {sorted(KERNELS)}, got {kernel!r}")
    return kernel


def state_dim(kernel: str) -> int:
    """State dimension ``d = ν + 1/2`` of the Matérn-ν SDE."""
    return int(KERNELS[check_kernel(kernel)] + 0.5)


def _rate(kernel: str, lengthscale):
    return math.sqrt(2.0 * KERNELS[kernel]) / lengthscale


def matern_covariance(kernel: str, lengthscale, variance, tau):
    """Closed-form Matérn covariance ``k(τ)`` for ν = 1/2, 3/2, 5/2.

    k₁/₂ = σ² e^{−r/ℓ};  k₃/₂ = σ²(1 + √3 r/ℓ) e^{−√3 r/ℓ};
    k₅/₂ = σ²(1 + √5 r/ℓ + 5r²/(3ℓ²)) e^{−√5 r/ℓ},  r = |τ|.

    Args:
        kernel: ``"matern12"``, ``"matern32"`` or ``"matern52"``.
        lengthscale: ℓ > 0 (coordinate units).
        variance: σ² > 0.
        tau: array of lags (coordinate units), any shape.

    Returns:
        array of the shape of ``tau``.
    """
    check_kernel(kernel)
    lam = _rate(kernel, lengthscale)
    r = jnp.abs(tau) * lam
    if kernel == "matern12":
        poly = jnp.ones_like(r)
    elif kernel == "matern32":
        poly = 1.0 + r
    else:
        poly = 1.0 + r + r * r / 3.0
    return variance * poly * jnp.exp(-r)


def feedback_matrix(kernel: str, lengthscale):
    """The SDE feedback matrix ``F`` (d, d) in companion form for ``(D + λ)^d``."""
    d = state_dim(kernel)
    lam = _rate(kernel, lengthscale)
    lam = jnp.asarray(lam)
    if d == 1:
        return -lam.reshape(1, 1)
    if d == 2:
        return jnp.stack([jnp.stack([jnp.zeros_like(lam), jnp.ones_like(lam)]),
                          jnp.stack([-lam**2, -2.0 * lam])])
    z, o = jnp.zeros_like(lam), jnp.ones_like(lam)
    return jnp.stack([jnp.stack([z, o, z]), jnp.stack([z, z, o]),
                      jnp.stack([-lam**3, -3.0 * lam**2, -3.0 * lam])])


def stationary_covariance(kernel: str, lengthscale, variance):
    """Stationary state covariance ``P∞`` (d, d), solving ``F P∞ + P∞ Fᵀ + L q Lᵀ = 0``.

    ν=1/2: σ²; ν=3/2: diag(σ², λ²σ²); ν=5/2: [[σ², 0, −κ], [0, κ, 0], [−κ, 0, λ⁴σ²]],
    κ = λ²σ²/3.
    """
    d = state_dim(kernel)
    lam = jnp.asarray(_rate(kernel, lengthscale))
    var = jnp.asarray(variance) * jnp.ones_like(lam)
    if d == 1:
        return var.reshape(1, 1)
    z = jnp.zeros_like(lam)
    if d == 2:
        return jnp.stack([jnp.stack([var, z]), jnp.stack([z, lam**2 * var])])
    kap = lam**2 * var / 3.0
    return jnp.stack([jnp.stack([var, z, -kap]), jnp.stack([z, kap, z]),
                      jnp.stack([-kap, z, lam**4 * var])])


def transition(kernel: str, lengthscale, variance, delta):
    """Exact discrete transition ``A(Δ)`` and process noise ``Q(Δ)`` for lags ``delta``.

    ``A(Δ) = e^{−λΔ} Σ_{i<d} N^i Δ^i / i!`` with ``N = F + λI`` (nilpotent), and
    ``Q(Δ) = P∞ − A P∞ Aᵀ`` (exact for the stationary process).

    Args:
        kernel: Matérn kernel name.
        lengthscale, variance: ℓ > 0, σ² > 0 (scalars, may be traced).
        delta: lags Δ >= 0, shape (m,).

    Returns:
        ``(A, Q)``, each of shape (m, d, d).
    """
    d = state_dim(kernel)
    lam = jnp.asarray(_rate(kernel, lengthscale))
    delta = jnp.asarray(delta)
    F = feedback_matrix(kernel, lengthscale)
    N = F + lam * jnp.eye(d, dtype=F.dtype)
    terms = jnp.zeros(delta.shape + (d, d), dtype=F.dtype)
    Ni = jnp.eye(d, dtype=F.dtype)
    for i in range(d):
        terms = terms + (delta[..., None, None] ** i / math.factorial(i)) * Ni
        Ni = Ni @ N
    A = jnp.exp(-lam * delta)[..., None, None] * terms
    Pinf = stationary_covariance(kernel, lengthscale, variance)
    Q = Pinf - A @ Pinf @ jnp.swapaxes(A, -1, -2)
    Q = 0.5 * (Q + jnp.swapaxes(Q, -1, -2))
    return A, Q
