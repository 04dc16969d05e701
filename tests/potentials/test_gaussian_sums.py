"""Gaussian sums by sinc quadrature: accuracy against the exact kernels, error control."""

import numpy as np
import pytest
from scipy.special import erf

from tensorrom.potentials import (
    gaussian_sum_erf,
    gaussian_sum_newton,
    gaussian_sum_slater,
    gaussian_sum_yukawa,
)


@pytest.mark.parametrize("rtol", [1e-6, 1e-8, 1e-10])
def test_newton_meets_rtol_at_1e4_log_spaced_points(rtol):
    # acceptance 1: the construction checks a different (denser-than-needed) log grid, so
    # these 10^4 points are an independent check; the target is rtol itself.
    r_min, r_max = 1e-2, 1e2
    gs = gaussian_sum_newton(r_min, r_max, rtol)
    r = np.geomspace(r_min, r_max, 10_000)
    rel = np.abs(gs(r) * r - 1.0)
    assert rel.max() <= rtol
    assert np.all(gs.exponents > 0) and np.all(gs.coefficients > 0)


def test_newton_term_count_grows_like_log_of_tolerance():
    # sinc quadrature: K ~ log(r_max/r_min) log(1/eps); from 1e-6 to 1e-10 the count must grow,
    # but by less than a factor (10/6)^2 ~ 2.8 (log^2 bound)
    k6 = gaussian_sum_newton(1e-2, 1e2, 1e-6).n_terms
    k10 = gaussian_sum_newton(1e-2, 1e2, 1e-10).n_terms
    assert k6 < k10 < 2.8 * k6


@pytest.mark.parametrize("rtol", [1e-6, 1e-9])
def test_yukawa_relative_accuracy(rtol):
    kappa = 0.7
    gs = gaussian_sum_yukawa(kappa, 0.05, 30.0, rtol)
    r = np.geomspace(0.05, 30.0, 10_000)
    assert np.max(np.abs(gs(r) / (np.exp(-kappa * r) / r) - 1.0)) <= rtol


@pytest.mark.parametrize("rtol", [1e-6, 1e-9])
def test_slater_relative_accuracy_including_zero(rtol):
    kappa = 1.3
    gs = gaussian_sum_slater(kappa, 0.0, 10.0, rtol)
    r = np.concatenate([[0.0], np.geomspace(1e-6, 10.0, 10_000)])
    assert np.max(np.abs(gs(r) / np.exp(-kappa * r) - 1.0)) <= rtol


@pytest.mark.parametrize("rtol", [1e-6, 1e-9])
def test_erf_long_range_kernel(rtol):
    beta, r_max = 0.4, 80.0
    gs = gaussian_sum_erf(beta, r_max, rtol)
    r = np.concatenate([np.linspace(1e-9, r_max, 5000), np.geomspace(1e-6, r_max, 5000)])
    exact = erf(beta * r) / r
    assert np.max(np.abs(gs(r) / exact - 1.0)) <= rtol
    # every term is a wide Gaussian: exponents never exceed beta^2
    assert gs.exponents.max() <= beta**2 * (1 + 1e-12)
    # at r = 0 the kernel is 2 beta / sqrt(pi)
    assert abs(gs(0.0) / (2 * beta / np.sqrt(np.pi)) - 1) <= rtol


@pytest.mark.parametrize("beta, r_max, rtol", [(0.3, 120.0, 2.5e-7), (0.5, 30.0, 1e-9),
                                               (1.0, 300.0, 1e-12)])
def test_erf_sum_refit_is_positive_sparse_and_accurate(beta, r_max, rtol, monkeypatch):
    # the non-negative least-squares refit keeps exponents, drops terms and must still meet
    # rtol between the points it was checked on: 2 x 10^5 points (linear and logarithmic)
    import tensorrom.potentials._gaussian_sums as gsm

    gs = gaussian_sum_erf(beta, r_max, rtol)
    assert np.all(gs.coefficients > 0)
    r = np.concatenate([np.linspace(1e-9, r_max, 100_000), np.geomspace(1e-7, r_max, 100_000)])
    assert np.max(np.abs(gs(r) / (erf(beta * r) / r) - 1.0)) <= rtol
    # sparser than the sinc sum it starts from (measured: 29 -> 22, 40 -> 24, 88 -> 51)
    monkeypatch.setattr(gsm, "_refit_nonnegative", lambda g, target, r_check: g)
    assert gs.n_terms <= 0.8 * gaussian_sum_erf(beta, r_max, rtol).n_terms


def test_split_of_newton_sum_into_wide_and_narrow_terms():
    gs = gaussian_sum_newton(1e-2, 1e2, 1e-8)
    wide, narrow = gs.split(1.0)
    assert wide.n_terms + narrow.n_terms == gs.n_terms
    r = np.geomspace(1e-2, 1e2, 100)
    # the two parts add up to the whole sum exactly (same terms, float rounding only)
    np.testing.assert_allclose(wide(r) + narrow(r), gs(r), rtol=1e-14)


def test_r_min_not_below_r_max():
    with pytest.raises(ValueError, match="r_max"):
        gaussian_sum_newton(2.0, 1.0, 1e-6)


def test_rtol_out_of_range():
    with pytest.raises(ValueError, match="rtol"):
        gaussian_sum_newton(1e-2, 1.0, 1.5)


def test_rtol_nan():
    with pytest.raises(ValueError, match="rtol"):
        gaussian_sum_newton(1e-2, 1.0, float("nan"))


def test_negative_kappa():
    with pytest.raises(ValueError, match="kappa"):
        gaussian_sum_yukawa(-1.0, 0.1, 1.0)


def test_zero_r_min_for_newton():
    with pytest.raises(ValueError, match="r_min"):
        gaussian_sum_newton(0.0, 1.0)


def test_beta_not_a_number():
    with pytest.raises(TypeError, match="beta"):
        gaussian_sum_erf("a", 1.0)
