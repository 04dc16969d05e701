"""ChebTucker: accuracy on smooth functions, constructors, backends, calculus, bad input."""

import jax
import numpy as np
import pytest

from tensorrom.data import Box, TensorGrid
from tensorrom.tensor import ChebTucker, Tucker, hosvd, truncation_rank
from tensorrom.tensor._sampling import _node_axes


def runge(p):
    return 1.0 / (1.0 + 25.0 * np.sum(p**2, axis=1))


@pytest.fixture(scope="module")
def runge_ct():
    return ChebTucker.from_function(runge, Box.cube(1.0, 3), degree=128, rtol=1e-10)


@pytest.fixture(scope="module")
def smooth_ct():
    # exp(sin(x) + y z) on a non-symmetric box: small degree, non-trivial ranks
    box = Box([-1.0, 0.0, 0.5], [1.0, 2.0, 1.5])
    ct = ChebTucker.from_function(
        lambda p: np.exp(np.sin(p[:, 0]) + p[:, 1] * p[:, 2]), box, degree=30, rtol=1e-13)
    return ct


def test_runge_accuracy(runge_ct):
    # acceptance 2: degree 128, rtol 1e-10 -> max error <= 1e-8 at 1e4 random points
    p = np.random.default_rng(3).uniform(-1, 1, (10_000, 3))
    err = np.max(np.abs(runge_ct(p) - runge(p)))
    assert err <= 1e-8
    # the a-posteriori estimate is of the right size (within a factor 100 of the error)
    assert runge_ct.error_estimate <= 1e-8


def test_runge_ranks_match_hosvd_of_sampled_tensor(runge_ct):
    # acceptance 2: ranks within +-1 of a truncated HOSVD of the sampled values (same rule)
    axes = _node_axes(runge_ct.box, (128,) * 3)
    x, y, z = np.meshgrid(*axes, indexing="ij")
    values = 1.0 / (1.0 + 25.0 * (x**2 + y**2 + z**2))
    # the plain truncated HOSVD rule (tail_k <= rtol ||A|| / sqrt(3)) on the mode-1 unfolding;
    # Runge is symmetric in x, y, z, so the three unfoldings have the same singular values
    s = np.linalg.svd(values.reshape(129, -1), compute_uv=False)
    ref = truncation_rank(s, 1e-10 * np.linalg.norm(values) / np.sqrt(3))
    assert all(abs(a - ref) <= 1 for a in runge_ct.ranks), (runge_ct.ranks, ref)
    assert runge_ct.degree == 128
    assert runge_ct.nbytes == 8 * (np.prod(runge_ct.ranks) + 129 * sum(runge_ct.ranks))


def test_runge_2d_and_4d_ranks_and_accuracy():
    # acceptance 2 in d = 2 and d = 4 on a smooth function of our choice
    rng = np.random.default_rng(4)
    f2 = lambda p: 1.0 / (1.0 + 4.0 * np.sum(p**2, axis=1))
    ct2 = ChebTucker.from_function(f2, Box.cube(1.0, 2), degree=60, rtol=1e-10)
    p = rng.uniform(-1, 1, (2000, 2))
    # exponential convergence with rate ~ 1/(1/2 + sqrt(5)/2 ...): degree 60 is ample for 1e-8
    assert np.max(np.abs(ct2(p) - f2(p))) <= 1e-8
    axes = _node_axes(ct2.box, (60, 60))
    ref2 = hosvd(f2(np.stack([a.ravel() for a in np.meshgrid(*axes, indexing="ij")], 1))
                 .reshape(61, 61), rtol=1e-10).ranks
    assert all(abs(a - b) <= 1 for a, b in zip(ct2.ranks, ref2))

    f4 = lambda p: np.exp(-np.sum(p**2, axis=1)) * np.cos(p[:, 0] + p[:, 3])
    ct4 = ChebTucker.from_function(f4, Box.cube(1.0, 4), degree=20, rtol=1e-10)
    p4 = rng.uniform(-1, 1, (2000, 4))
    assert np.max(np.abs(ct4(p4) - f4(p4))) <= 1e-8
    axes = _node_axes(ct4.box, (20,) * 4)
    vals4 = f4(np.stack([a.ravel() for a in np.meshgrid(*axes, indexing="ij")], 1))
    ref4 = hosvd(vals4.reshape((21,) * 4), rtol=1e-10).ranks
    assert all(abs(a - b) <= 1 for a, b in zip(ct4.ranks, ref4)), (ct4.ranks, ref4)


def test_degree_convergence_is_geometric():
    # Runge 1/(1 + 25 x^2) in 1D-like form: the error falls like rho^-n, rho = 0.2+sqrt(1.04)
    box = Box.cube(1.0, 2)
    f = lambda p: 1.0 / (1.0 + 25.0 * p[:, 0] ** 2) + 0.0 * p[:, 1]
    p = np.random.default_rng(5).uniform(-1, 1, (2000, 2))
    errs = []
    degrees = (20, 40, 60)
    for n in degrees:
        ct = ChebTucker.from_function(f, box, degree=n, rtol=1e-14)
        errs.append(np.max(np.abs(ct(p) - f(p))))
    slope = np.polyfit(degrees, np.log(errs), 1)[0]
    rho = 0.2 + np.sqrt(1.04)
    # fitted rate within 15 % of the Bernstein-ellipse rate log(rho)
    assert abs(-slope - np.log(rho)) <= 0.15 * np.log(rho)


def test_separable_matches_function_constructor():
    box = Box([-2.0, -1.0, 0.0], [2.0, 1.0, 3.0])
    widths = np.array([0.5, 1.0, 2.0, 4.0])
    weights = np.array([1.0, -0.5, 2.0, 0.25])
    g = lambda x: np.exp(-(x[:, None] / widths[None, :]) ** 2)
    ct = ChebTucker.from_separable(weights, [g, g, g], box, degree=64, rtol=1e-12)
    p = box.from_reference(np.random.default_rng(6).uniform(-1, 1, (3000, 3)))
    exact = (weights[None, :] * g(p[:, 0]) * g(p[:, 1]) * g(p[:, 2])).sum(axis=1)
    # narrowest Gaussian (0.5 on a length-4 axis) is resolved to ~1e-13 at degree 64;
    # the RHOSVD bound is rtol * ||w|| ~ 1e-11
    assert np.max(np.abs(ct(p) - exact)) <= 1e-10
    assert max(ct.ranks) <= 4  # at most R = 4 terms
    assert ct.error_estimate <= 1e-10


def test_from_cp_on_sampled_grid_vectors():
    box = Box.cube(1.0, 3)
    grid = TensorGrid.uniform(box, 200)
    widths = np.array([0.4, 0.8, 1.6])
    weights = np.array([1.0, 1.0, -0.5])
    factors = [np.exp(-(a[:, None] / widths[None, :]) ** 2) for a in grid.axes]
    ct = ChebTucker.from_cp(weights, factors, grid, degree=64, rtol=1e-10)
    p = np.random.default_rng(7).uniform(-0.99, 0.99, (2000, 3))
    g = lambda x: np.exp(-(x[:, None] / widths[None, :]) ** 2)
    exact = (weights[None, :] * g(p[:, 0]) * g(p[:, 1]) * g(p[:, 2])).sum(axis=1)
    # cubic-spline error <= (5/384) h^4 max|g''''| = 0.013 * 1e-8 * 12/0.4^4 ~ 6e-8 per factor
    # (h = 0.01, narrowest width 0.4); three factors and weight sum 2.5: ~2e-7
    assert np.max(np.abs(ct(p) - exact)) <= 2e-7


def test_on_grid_matches_pointwise_evaluation(smooth_ct):
    grid = TensorGrid.uniform(smooth_ct.box, (7, 5, 6))
    t = smooth_ct.on_grid(grid)
    assert isinstance(t, Tucker) and t.shape == (7, 5, 6)
    vals = smooth_ct(grid.points()).reshape(7, 5, 6)
    # two summation orders of the same polynomial
    np.testing.assert_allclose(t.full(), vals, atol=1e-13)


def test_gradient_matches_analytic(smooth_ct):
    p = smooth_ct.box.from_reference(np.random.default_rng(8).uniform(-1, 1, (500, 3)))
    e = np.exp(np.sin(p[:, 0]) + p[:, 1] * p[:, 2])
    exact = np.stack([np.cos(p[:, 0]) * e, p[:, 2] * e, p[:, 1] * e], axis=1)
    # derivative of a degree-30 interpolant of an entire function: error ~ n^2 * 1e-15
    np.testing.assert_allclose(smooth_ct.gradient(p), exact, atol=1e-10)


def test_integral_matches_analytic():
    box = Box([0.0, -1.0, 1.0], [1.0, 2.0, 3.0])
    f = lambda p: np.exp(p[:, 0]) * np.cos(p[:, 1]) * p[:, 2] ** 2
    ct = ChebTucker.from_function(f, box, degree=24, rtol=1e-14)
    exact = (np.e - 1) * (np.sin(2) + np.sin(1)) * (27 - 1) / 3
    # degree-24 interpolation of entire functions: relative error ~1e-15
    assert abs(ct.integral() - exact) <= 1e-13 * abs(exact)


def test_numba_and_jax_agree(smooth_ct):
    p = smooth_ct.box.from_reference(np.random.default_rng(9).uniform(-1, 1, (3000, 3)))
    a = smooth_ct.evaluate(p, backend="numba")
    b = np.asarray(smooth_ct.evaluate(p, backend="jax"))
    # same algorithm, different summation order: float64 rounding only (issue: 1e-12)
    assert np.max(np.abs(a - b)) <= 1e-12
    ga = smooth_ct.gradient(p[:100])
    gb = np.asarray(smooth_ct.gradient(p[:100], backend="jax"))
    assert np.max(np.abs(ga - gb)) <= 1e-11  # derivative factors are ~n^2 larger


def test_jax_result_is_float64_with_x64_off_outside():
    ct = ChebTucker.from_function(lambda p: p[:, 0] * p[:, 1], Box.cube(1.0, 2), degree=4)
    with jax.enable_x64(False):
        out = ct.evaluate(np.array([[0.3, 0.7]]), backend="jax")
    assert out.dtype == np.float64
    assert abs(float(out[0]) - 0.21) <= 1e-15


def test_evaluate_in_4d_numba_jax(rng):
    f = lambda p: np.cos(p[:, 0] + 2 * p[:, 1]) * np.exp(p[:, 2] * p[:, 3])
    ct = ChebTucker.from_function(f, Box.cube(1.0, 4), degree=16, rtol=1e-12)
    p = rng.uniform(-1, 1, (500, 4))
    a = ct(p)
    assert np.max(np.abs(a - f(p))) <= 1e-9  # degree-16 interpolant of an entire function
    assert np.max(np.abs(a - np.asarray(ct.evaluate(p, backend="jax")))) <= 1e-12


def test_unsplit_newton_kernel_is_not_approximable():
    # acceptance 4 (synthetic form): 1/|x| as a Gaussian sum down to width 1e-3 on [-1,1]^3
    # (the range of the paper's CP data); degree 128 cannot resolve the narrow terms.
    box = Box.cube(1.0, 3)
    grid = TensorGrid.uniform(box, 256)
    t = np.linspace(np.log(1.0), np.log(1e3), 20)
    a = np.exp(t)  # inverse widths
    weights = np.full(20, t[1] - t[0]) * a * 2 / np.sqrt(np.pi)
    factors = [np.exp(-(ax[:, None] * a[None, :]) ** 2) for ax in grid.axes]
    ct = ChebTucker.from_cp(weights, factors, grid, degree=128, rtol=1e-7)
    kz = 128
    ref = np.einsum("r,ir,jr,r->ij", weights, factors[0], factors[1], factors[2][kz])
    slab = TensorGrid([grid.axes[0], grid.axes[1], grid.axes[2][kz:kz + 1]], box)
    val = ct.on_grid(slab).full()[:, :, 0]
    assert np.max(np.abs(val - ref)) / np.max(np.abs(ref)) > 0.1


def test_degree_below_two_raises():
    with pytest.raises(ValueError, match="degree"):
        ChebTucker.from_function(runge, Box.cube(1.0, 3), degree=1)


def test_invalid_box_raises():
    with pytest.raises(TypeError, match="box"):
        ChebTucker.from_function(runge, ([-1, -1, -1], [1, 1, 1]), degree=4)
    with pytest.raises(ValueError, match="upper"):
        ChebTucker.from_function(runge, Box([1.0, 0.0], [0.0, 1.0]), degree=4)


def test_function_wrong_shape_raises():
    with pytest.raises(ValueError, match="f must map"):
        ChebTucker.from_function(lambda p: p, Box.cube(1.0, 2), degree=4)


def test_function_nonfinite_raises():
    with pytest.raises(ValueError, match="non-finite"):
        ChebTucker.from_function(lambda p: np.where(p[:, 0] > 0.5, np.nan, 1.0),
                                 Box.cube(1.0, 2), degree=4)


def test_cp_factor_shape_mismatch_raises():
    grid = TensorGrid.uniform(Box.cube(1.0, 2), 10)
    with pytest.raises(ValueError, match=r"factors\[1\]"):
        ChebTucker.from_cp(np.ones(3), [np.ones((10, 3)), np.ones((10, 2))], grid, degree=8)


def test_separable_factor_wrong_shape_raises():
    g = lambda x: np.ones((x.size, 2))
    with pytest.raises(ValueError, match=r"factor_functions\[0\]"):
        ChebTucker.from_separable(np.ones(3), [g, g], Box.cube(1.0, 2), degree=8)


def test_separable_factor_nonfinite_raises():
    g = lambda x: np.full((x.size, 1), np.inf)
    with pytest.raises(ValueError, match=r"factor_functions\[0\]"):
        ChebTucker.from_separable(np.ones(1), [g, g], Box.cube(1.0, 2), degree=8)


def test_points_outside_box_raise_unless_extrapolate(smooth_ct):
    p = np.array([[0.0, 1.0, 1.55]])  # z = 1.55 > 1.5
    with pytest.raises(ValueError, match="points"):
        smooth_ct(p)
    v = smooth_ct.evaluate(p, extrapolate=True)
    # the interpolant of an entire function converges in a neighbourhood of the box too:
    # 5 % of the box length outside, the continuation is still accurate to ~1e-8
    assert abs(v[0] - np.exp(0.0 + 1.55)) <= 1e-6


def test_points_wrong_dimension_raises(smooth_ct):
    with pytest.raises(ValueError, match="points"):
        smooth_ct(np.zeros((4, 2)))


def test_unknown_backend_raises(smooth_ct):
    with pytest.raises(ValueError, match="backend"):
        smooth_ct.evaluate(np.zeros((1, 3)) + 1.0, backend="torch")


def test_on_grid_outside_box_raises(smooth_ct):
    grid = TensorGrid.uniform(Box.cube(3.0, 3), 4)
    with pytest.raises(ValueError, match="grid"):
        smooth_ct.on_grid(grid)


@pytest.mark.gpu
def test_jax_on_gpu_agrees_with_numba(runge_ct):
    assert jax.default_backend() == "gpu"
    p = np.random.default_rng(10).uniform(-1, 1, (200_000, 3))
    a = runge_ct(p)
    b = np.asarray(runge_ct.evaluate(p, backend="jax"))
    assert np.max(np.abs(a - b)) <= 1e-12  # float64 on the GPU as on the CPU


def test_auto_degree_resolves_polynomials_exactly():
    # x^2 y + z^3: after chopping, the degrees of the polynomial itself; exact to rounding
    box = Box.cube(1.0, 3)
    g = lambda p: p[:, 0] ** 2 * p[:, 1] + p[:, 2] ** 3  # noqa: E731
    ct = ChebTucker.from_function(g, box, degree="auto", rtol=1e-12)
    assert ct.degrees == (2, 2, 3)
    p = np.random.default_rng(0).uniform(-1, 1, (2000, 3))
    assert np.max(np.abs(ct(p) - g(p))) <= 1e-14


@pytest.mark.parametrize("rtol", [1e-6, 1e-10])
def test_auto_degree_runge_accuracy(rtol):
    # the degree grows until the top coefficients are below rtol ||C||_F, then is chopped; the
    # max error of 1/(1 + 25|x|^2) (max 1) is then within a small factor of rtol, as with a
    # fixed degree that resolves it (measured 2.5 rtol and 3.1 rtol; the tolerance is on the
    # Frobenius norm of the coefficients, not on the max norm: 10 rtol allowed)
    box = Box.cube(1.0, 3)
    runge = lambda p: 1.0 / (1.0 + 25.0 * np.sum(p**2, axis=1))  # noqa: E731
    ct = ChebTucker.from_function(runge, box, degree="auto", rtol=rtol)
    assert len(set(ct.degrees)) == 1  # symmetric in the axes
    p = np.random.default_rng(1).uniform(-1, 1, (5000, 3))
    assert np.max(np.abs(ct(p) - runge(p))) <= 10 * rtol


def test_auto_degree_is_per_axis():
    box = Box.cube(1.0, 3)
    f = lambda p: np.exp(np.sin(20 * p[:, 0])) * (1 + p[:, 1]) + p[:, 2] ** 3  # noqa: E731
    ct = ChebTucker.from_function(f, box, degree="auto", rtol=1e-10)
    assert ct.degrees[0] > 100 and ct.degrees[1] <= 4 and ct.degrees[2] <= 4
    p = np.random.default_rng(2).uniform(-1, 1, (5000, 3))
    # |f| <= 2e + 1 ~ 6.4; 10 rtol relative as above
    assert np.max(np.abs(ct(p) - f(p))) <= 10 * 1e-10 * 6.4


def test_auto_degree_warns_when_unresolved():
    box = Box.cube(1.0, 2)
    with pytest.warns(RuntimeWarning, match="not resolved"):
        ct = ChebTucker.from_function(lambda p: np.abs(p[:, 0]) + p[:, 1], box,
                                      degree="auto", rtol=1e-10, max_degree=32)
    assert ct.degrees[0] == 32 and ct.degrees[1] <= 2
    with pytest.raises(ValueError, match="degree"):
        ChebTucker.from_function(lambda p: p[:, 0], box, degree="adaptive")
    with pytest.raises(ValueError, match="max_degree"):
        ChebTucker.from_function(lambda p: p[:, 0], box, degree="auto", max_degree=1)


@pytest.fixture(scope="module")
def two_functions():
    box = Box.cube(1.0, 3)
    f = ChebTucker.from_function(lambda p: np.exp(-np.sum(p**2, 1)), box, degree=30,
                                 rtol=1e-12)
    g = ChebTucker.from_function(lambda p: np.sin(p[:, 0] + 2 * p[:, 1]) * p[:, 2], box,
                                 degree=(20, 24, 10), rtol=1e-12)
    return f, g, np.random.default_rng(0).uniform(-1, 1, (2000, 3))


def test_sum_and_difference_evaluate_pointwise(two_functions):
    f, g, p = two_functions
    h = f + g
    # the Tucker sum, recompressed only to 1e-13 of the norms: pointwise sums to rounding
    assert h.degrees == (30, 30, 30)
    assert all(r <= a + b for r, a, b in zip(h.ranks, f.ranks, g.ranks))
    np.testing.assert_allclose(h(p), f(p) + g(p), rtol=0, atol=1e-13)
    np.testing.assert_allclose((g - f)(p), g(p) - f(p), rtol=0, atol=1e-13)
    assert h.truncation_error >= f.truncation_error + g.truncation_error
    z = f - f
    assert z.ranks == (1, 1, 1) and np.max(np.abs(z(p))) <= 1e-14


def test_scalar_arithmetic(two_functions):
    f, _, p = two_functions
    np.testing.assert_allclose((2 * f)(p), 2 * f(p), rtol=1e-15)
    np.testing.assert_allclose((f * 2.5)(p), 2.5 * f(p), rtol=1e-15)
    np.testing.assert_allclose((f / 4)(p), f(p) / 4, rtol=1e-15)
    np.testing.assert_allclose((-f)(p), -f(p), rtol=0)
    # a constant is the rank-1 term c T_0 T_0 T_0
    np.testing.assert_allclose((f + 3)(p), f(p) + 3, rtol=0, atol=1e-13)
    np.testing.assert_allclose((3 - f)(p), 3 - f(p), rtol=0, atol=1e-13)
    np.testing.assert_allclose((1.5 + f)(p), f(p) + 1.5, rtol=0, atol=1e-13)


def test_recompress_drops_negligible_terms(two_functions):
    f, g, p = two_functions
    h = f + 1e-9 * g
    assert h.ranks != f.ranks  # the small term is kept by the sum itself
    c = h.recompress(1e-6)
    assert c.ranks == f.ranks
    # HOSVD bound: coefficient error <= 1e-6 ||C||_F; values are bounded by the coefficient
    # 1-norm, a few times that here (||C||_F ~ 0.6)
    assert np.max(np.abs(c(p) - h(p))) <= 1e-6
    assert c.truncation_error > h.truncation_error


def test_arithmetic_bad_operands(two_functions):
    f, _, _ = two_functions
    other_box = ChebTucker.from_function(lambda p: p[:, 0], Box.cube(2.0, 3), degree=4)
    with pytest.raises(ValueError, match="different boxes"):
        f + other_box
    flat = ChebTucker.from_function(lambda p: p[:, 0], Box.cube(1.0, 2), degree=4)
    with pytest.raises(ValueError, match="dimension"):
        f - flat
    with pytest.raises(TypeError, match="products"):
        f * f
    with pytest.raises(TypeError, match="ChebTucker"):
        f + "1"
    with pytest.raises(TypeError, match="finite"):
        f + np.nan
    with pytest.raises(TypeError, match="nonzero"):
        f / 0
    with pytest.raises(TypeError, match="finite"):
        f / np.inf
