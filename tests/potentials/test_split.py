"""RangeSplit: automatic and explicit parameters, bad input."""

import numpy as np
import pytest
from scipy.special import erf, erfc

from tensorrom.data import Box
from tensorrom.potentials import RangeSplit


@pytest.fixture
def box():
    return Box([-10.0, -10.0, -5.0], [10.0, 12.0, 5.0])


@pytest.mark.parametrize("rtol", [1e-4, 1e-6, 1e-8])
def test_automatic_choice_obeys_the_tolerance(box, rtol):
    s = RangeSplit.choose(box, rtol, n_particles=500)
    # short-range truncation: erfc(beta r_c) <= rtol / 4 by construction
    assert erfc(s.beta * s.r_cut) <= rtol / 4 * (1 + 1e-9)
    # the Chebyshev box holds the input box, padded
    assert np.all(s.box.lo <= box.lo) and np.all(s.box.hi >= box.hi)
    # long-range Gaussian sum: relative error <= rtol / 4 up to the box diagonal
    r = np.linspace(1e-6, np.linalg.norm(s.box.lengths), 4000)
    assert np.max(np.abs(s.long_sum(r) / (erf(s.beta * r) / r) - 1)) <= rtol / 4
    # the longest axis gets the highest degree
    assert s.degrees[int(np.argmax(s.box.lengths))] == s.degree


def test_max_beta_length_sets_the_rank_rule():
    # a 60 A box with many particles: the cutoff comes from beta L_max <= max_beta_length
    # (erfc^-1(rtol/4) L_max / max_beta_length = 10.9 and 13.7 A, inside the [3, 40] A clamp)
    big = Box([0.0, 0.0, 0.0], [60.0, 50.0, 40.0])
    a = RangeSplit.choose(big, 1e-6, n_particles=5000)
    b = RangeSplit.choose(big, 1e-6, n_particles=5000, max_beta_length=16.0)
    assert a.beta * 60.0 == pytest.approx(20.0) and b.beta * 60.0 == pytest.approx(16.0)
    assert b.r_cut > a.r_cut and b.degree <= a.degree
    with pytest.raises(ValueError, match="max_beta_length"):
        RangeSplit.choose(big, 1e-6, n_particles=5000, max_beta_length=-1.0)


def test_kernels_add_up_to_coulomb(box):
    s = RangeSplit.choose(box, 1e-6)
    r = np.linspace(0.01, s.r_cut, 100)
    np.testing.assert_allclose(s.long_kernel(r) + s.short_kernel(r), 1.0 / r, rtol=1e-14)
    assert s.self_term == pytest.approx(2 * s.beta / np.sqrt(np.pi))


def test_explicit_beta_sets_cutoff(box):
    s = RangeSplit.choose(box, 1e-6, beta=0.5)
    assert s.beta == 0.5
    # erfc(beta r_c) = rtol/4 exactly at the chosen cutoff (to the accuracy of erfcinv)
    assert erfc(0.5 * s.r_cut) == pytest.approx(0.25e-6, rel=1e-8)


def test_explicit_everything(box):
    s = RangeSplit.choose(box, 1e-6, beta=0.5, r_cut=9.0, degree=(40, 41, 42), padding=0.0)
    assert (s.beta, s.r_cut, s.degrees, s.padding) == (0.5, 9.0, (40, 41, 42), 0.0)
    assert s.box == box


def test_more_accuracy_needs_higher_degree(box):
    lo = RangeSplit.choose(box, 1e-4, beta=0.5)
    hi = RangeSplit.choose(box, 1e-8, beta=0.5)
    assert hi.degree > lo.degree


def test_cutoff_too_short_for_beta(box):
    with pytest.raises(ValueError, match="r_cut"):
        RangeSplit.choose(box, 1e-6, beta=0.5, r_cut=2.0)


def test_box_not_a_box():
    with pytest.raises(TypeError, match="box"):
        RangeSplit.choose([0, 1], 1e-6)


def test_box_not_3d():
    with pytest.raises(ValueError, match="3D"):
        RangeSplit.choose(Box([0, 0], [1, 1]), 1e-6)


def test_rtol_too_large(box):
    with pytest.raises(ValueError, match="rtol"):
        RangeSplit.choose(box, 0.5)


def test_degree_wrong_length(box):
    with pytest.raises(ValueError, match="degree"):
        RangeSplit.choose(box, 1e-6, degree=(10, 10))


def test_negative_padding(box):
    with pytest.raises(ValueError, match="padding"):
        RangeSplit.choose(box, 1e-6, padding=-1.0)


def test_large_boxes_get_the_rank_rule_cutoff_up_to_40_angstrom():
    from scipy.special import erfcinv

    x_c = float(erfcinv(1e-6 / 4))
    # a 150 A box: beta L_max <= 20 asks for x_c * 150 / 20 = 27 A (no longer clamped at 15)
    s = RangeSplit.choose(Box([0.0, 0.0, 0.0], [150.0, 120.0, 60.0]), 1e-6, n_particles=20_000)
    assert s.r_cut == pytest.approx(x_c * 150.0 / 20.0, rel=1e-12)
    assert s.beta * 150.0 == pytest.approx(20.0, rel=1e-12)
    # a very long box: the cutoff stops at 40 A
    s = RangeSplit.choose(Box([0.0, 0.0, 0.0], [1000.0, 50.0, 50.0]), 1e-6, n_particles=1000)
    assert s.r_cut == 40.0
    # ... or at max_cut (coulomb and field use 30 at scattered targets)
    s = RangeSplit.choose(Box([0.0, 0.0, 0.0], [1000.0, 50.0, 50.0]), 1e-6, n_particles=1000,
                          max_cut=30.0)
    assert s.r_cut == 30.0
    with pytest.raises(ValueError, match="max_cut"):
        RangeSplit.choose(Box([0.0, 0.0, 0.0], [100.0, 50.0, 50.0]), 1e-6, max_cut=0.0)


def test_potential_in_a_large_box_matches_the_direct_sum():
    # 300 charges spread over 150 A: at scattered targets the default split has
    # beta L_max <= 10, so the cutoff is the 40 A clamp; the grid rule (beta L_max <= 20) gives
    # 27 A. Both meet the tolerance (1e-6 of max|V|, the acceptance bound for the NaCl
    # cluster), and the default is exactly the split with those options
    from tensorrom.data import PointCloud
    from tensorrom.potentials import coulomb, direct_sum
    from tensorrom.potentials._coulomb import _union_box

    rng = np.random.default_rng(11)
    pc = PointCloud(rng.uniform([0, 0, 0], [150.0, 100.0, 40.0], size=(300, 3)),
                    {"charge": rng.choice([-1.0, 1.0], 300)})
    t = rng.uniform([0, 0, 0], [150.0, 100.0, 40.0], size=(400, 3))
    ref = direct_sum(pc, t, min_distance=0.0)
    v = coulomb(pc, t, method="split", min_distance=0.0)
    box = _union_box(pc.coords, t)
    points = RangeSplit.choose(box, 1e-6, n_particles=300, max_beta_length=10.0, max_cut=40.0)
    assert points.r_cut == 40.0
    np.testing.assert_array_equal(v, coulomb(pc, t, split=points, min_distance=0.0))
    grid_rule = RangeSplit.choose(box, 1e-6, n_particles=300)
    assert 25.0 < grid_rule.r_cut < 30.0
    w = coulomb(pc, t, split=grid_rule, min_distance=0.0)
    for got in (v, w):
        assert np.max(np.abs(got - ref)) / np.max(np.abs(ref)) <= 1e-6
