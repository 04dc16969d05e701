"""Chebyshev tools against numpy.polynomial.chebyshev and exact identities."""

import numpy as np
import pytest
from numpy.polynomial import chebyshev as npcheb

from tensorrom.tensor import (
    chebyshev_basis,
    chebyshev_evaluate,
    chebyshev_integral,
    chebyshev_nodes,
    clenshaw,
    coefficients_to_values,
    derivative_coefficients,
    integral_weights,
    values_to_coefficients,
)


def test_nodes_are_ascending_lobatto_points():
    x = chebyshev_nodes(9)
    # the definition -cos(pi j / (m-1)), to rounding
    np.testing.assert_allclose(x, -np.cos(np.pi * np.arange(9) / 8), atol=1e-15)
    assert np.all(np.diff(x) > 0)


def test_product_of_chebyshev_polynomials_gives_one_hot_coefficients():
    # acceptance 1: f = T5(x) T3(y) T7(z) sampled at 11 x 9 x 12 Lobatto points
    ms = (11, 9, 12)
    axes = [chebyshev_nodes(m) for m in ms]
    t5, t3, t7 = (npcheb.Chebyshev.basis(j)(a) for j, a in zip((5, 3, 7), axes))
    values = t5[:, None, None] * t3[None, :, None] * t7[None, None, :]
    c = values_to_coefficients(values)
    expected = np.zeros(ms)
    expected[5, 3, 7] = 1.0
    # exact up to the rounding of the DCT (a few ulps times log m)
    assert np.max(np.abs(c - expected)) <= 1e-14


def test_values_coefficients_round_trip(rng):
    values = rng.standard_normal((17, 8, 5))
    back = coefficients_to_values(values_to_coefficients(values))
    # two O(m log m) transforms of O(1) data: a few ulps; issue bound 1e-13
    assert np.max(np.abs(back - values)) <= 1e-13


def test_coefficients_to_values_matches_chebval(rng):
    c = rng.standard_normal(13)
    x = chebyshev_nodes(13)
    # same polynomial evaluated two ways, O(m) rounding
    np.testing.assert_allclose(coefficients_to_values(c), npcheb.chebval(x, c), atol=1e-13)


def test_interpolant_converges_spectrally():
    # a smooth analytic function: coefficients of exp(x) decay like 1/(2^j j!)
    x = chebyshev_nodes(20)
    c = values_to_coefficients(np.exp(x))
    ref = npcheb.chebinterpolate(np.exp, 19)  # oracle on first-kind points, same polynomial
    # both interpolants equal exp to ~1e-16 at degree 19, hence each other
    np.testing.assert_allclose(c, ref, atol=1e-14)


def test_clenshaw_matches_chebval(rng):
    c = rng.standard_normal((10, 3))
    x = rng.uniform(-1, 1, 50)
    # Clenshaw is backward stable: error O(m eps |c|)
    np.testing.assert_allclose(clenshaw(c, x), npcheb.chebval(x, c).T, atol=1e-13)


def test_basis_matches_chebvander(rng):
    x = rng.uniform(-1, 1, 30)
    np.testing.assert_allclose(chebyshev_basis(x, 12), npcheb.chebvander(x, 11), atol=1e-13)


def test_evaluate_matches_chebval3d(rng):
    c = rng.standard_normal((6, 5, 7))
    p = rng.uniform(-1, 1, (40, 3))
    ref = npcheb.chebval3d(p[:, 0], p[:, 1], p[:, 2], c)
    # sums of ~200 O(1) terms: 1e-13 is a few hundred ulps
    np.testing.assert_allclose(chebyshev_evaluate(c, p), ref, atol=1e-13)


def test_evaluate_in_2d_and_4d(rng):
    c2 = rng.standard_normal((4, 6))
    p2 = rng.uniform(-1, 1, (20, 2))
    np.testing.assert_allclose(chebyshev_evaluate(c2, p2),
                               npcheb.chebval2d(p2[:, 0], p2[:, 1], c2), atol=1e-13)
    c4 = rng.standard_normal((3, 4, 2, 5))
    p4 = rng.uniform(-1, 1, (10, 4))
    ref = np.einsum("abcd,na,nb,nc,nd->n", c4, *(npcheb.chebvander(p4[:, k], c4.shape[k] - 1)
                                                 for k in range(4)))
    np.testing.assert_allclose(chebyshev_evaluate(c4, p4), ref, atol=1e-13)


@pytest.mark.parametrize("axis", [0, 1, 2])
def test_derivative_matches_chebder(rng, axis):
    c = rng.standard_normal((7, 6, 5))
    d = derivative_coefficients(c, axis=axis)
    ref = npcheb.chebder(c, axis=axis)
    got = np.take(d, np.arange(c.shape[axis] - 1), axis=axis)
    # the recurrence multiplies by j <= 6: error ~ 10 ulps of 2 j |c|
    np.testing.assert_allclose(got, ref, atol=1e-12)
    assert np.all(np.take(d, [c.shape[axis] - 1], axis=axis) == 0.0)


def test_integral_weights_and_cube_integral(rng):
    w = integral_weights(9)
    ref = [npcheb.chebval(1, npcheb.chebint(np.eye(9)[j], lbnd=-1)) for j in range(9)]
    np.testing.assert_allclose(w, ref, atol=1e-15)
    # int over [-1,1]^3 of exp(x + y + z) = (e - 1/e)^3, from a degree-24 interpolant
    m = 25
    x = chebyshev_nodes(m)
    vals = np.exp(x[:, None, None] + x[None, :, None] + x[None, None, :])
    exact = (np.e - 1 / np.e) ** 3
    # interpolation error ~1e-16 relative at degree 24, quadrature rounding ~1e-15
    assert abs(chebyshev_integral(values_to_coefficients(vals)) - exact) <= 1e-13 * exact


def test_values_with_one_point_raises():
    with pytest.raises(ValueError, match="values"):
        values_to_coefficients(np.ones((1, 4)))


def test_coefficients_with_one_entry_raises():
    with pytest.raises(ValueError, match="coeffs"):
        coefficients_to_values(np.ones((4, 1)))


def test_bad_axes_raises():
    with pytest.raises(ValueError, match="axes"):
        values_to_coefficients(np.ones((4, 4)), axes=2)


def test_evaluate_wrong_point_dimension_raises():
    with pytest.raises(ValueError, match="points"):
        chebyshev_evaluate(np.ones((3, 3)), np.zeros((5, 3)))


def test_nodes_m_below_two_raises():
    with pytest.raises(ValueError, match="m"):
        chebyshev_nodes(1)


def test_round_trip_property_any_shape():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    @settings(max_examples=15, deadline=None)
    @given(st.lists(st.integers(2, 9), min_size=1, max_size=3), st.integers(0, 2**31 - 1))
    def check(shape, seed):
        v = np.random.default_rng(seed).standard_normal(shape)
        # two transforms of O(1) data of length <= 9: well below 1e-13
        assert np.max(np.abs(coefficients_to_values(values_to_coefficients(v)) - v)) <= 1e-13
        # in-place variant gives the same coefficients
        c = values_to_coefficients(v)
        w = v.copy()
        assert np.array_equal(values_to_coefficients(w, overwrite=True), c)

    check()
