import numpy as np
import pytest

from tensorrom.data import Box, TensorGrid, chebyshev_lobatto


def test_chebyshev_lobatto_closed_form():
    # x_j = -cos(pi j / (m-1)); evaluated in a different (sine) form, so agreement to a few
    # ulps of 1 (1e-15) checks the closed form, symmetry and ordering.
    for m in (2, 3, 8, 33, 129):
        x = chebyshev_lobatto(m)
        ref = -np.cos(np.pi * np.arange(m) / (m - 1))
        np.testing.assert_allclose(x, ref, rtol=0, atol=1e-15)
        np.testing.assert_array_equal(x, -x[::-1])  # exactly antisymmetric
        assert x[0] == -1.0 and x[-1] == 1.0


def test_chebyshev_grid_maps_nodes_onto_box():
    box = Box([1.0, -2.0], [3.0, 2.0])
    g = TensorGrid.chebyshev(box, (5, 9))
    assert g.shape == (5, 9) and g.kind == "chebyshev"
    for k, m in enumerate((5, 9)):
        ref = box.lower[k] + 0.5 * (1 - np.cos(np.pi * np.arange(m) / (m - 1))) * box.lengths[k]
        np.testing.assert_allclose(g.axes[k], ref, rtol=0, atol=1e-15 * 4)


def test_uniform_grids():
    box = Box([0, 0, 0], [1, 2, 4])
    c = TensorGrid.uniform(box, 4)
    np.testing.assert_allclose(c.axes[2], [0.5, 1.5, 2.5, 3.5])
    np.testing.assert_allclose(c.spacing, [0.25, 0.5, 1.0])
    n = TensorGrid.uniform(box, (2, 3, 5), centered=False)
    np.testing.assert_allclose(n.axes[2], [0, 1, 2, 3, 4])
    np.testing.assert_allclose(n.spacing, [1.0, 1.0, 1.0])
    pts = n.points()
    assert pts.shape == (30, 3)
    np.testing.assert_array_equal(pts[1], [0, 0, 1])  # last axis fastest (C order)


def test_box_reference_maps_roundtrip(rng):
    box = Box([-1, 2, 5], [3, 4, 6])
    x = box.from_reference(rng.uniform(-1, 1, (50, 3)))
    assert box.contains(x).all()
    np.testing.assert_allclose(box.from_reference(box.to_reference(x)), x, rtol=1e-14)
    np.testing.assert_allclose(box.to_reference(box.lo), -1.0)
    np.testing.assert_allclose(box.to_reference(box.hi), 1.0)
    assert box.pad(0.5).lower == (-1.5, 1.5, 4.5)


def test_box_is_hashable_and_comparable():
    assert Box([0, 0], [1, 1]) == Box([0.0, 0.0], [1.0, 1.0])
    assert len({Box([0, 0], [1, 1]), Box([0, 0], [1, 1])}) == 1


# -- bad input: one test each ------------------------------------------------------------
def test_box_rejects_inverted_axis():
    with pytest.raises(ValueError, match="upper must exceed lower.*axis 1"):
        Box([0, 1], [1, 1])


def test_box_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match="same length"):
        Box([0, 0], [1, 1, 1])


def test_box_rejects_nan():
    with pytest.raises(ValueError, match="lower has 1 non-finite"):
        Box([np.nan, 0], [1, 1])


def test_box_rejects_strings():
    with pytest.raises(TypeError, match="lower must be array-like of numbers"):
        Box(["a", "b"], [1, 1])


def test_check_contains_names_the_argument():
    with pytest.raises(ValueError, match="coords has 1 point.*outside the box"):
        Box([0, 0], [1, 1]).check_contains(np.array([[0.5, 0.5], [1.5, 0.5]]), "coords")


def test_grid_rejects_non_positive_size():
    with pytest.raises(ValueError, match="n must be >= 1"):
        TensorGrid.uniform(Box([0], [1]), 0)


def test_grid_rejects_wrong_number_of_sizes():
    with pytest.raises(ValueError, match="n must have 2 entries"):
        TensorGrid.uniform(Box([0, 0], [1, 1]), (3, 4, 5))


def test_grid_rejects_unsorted_axis():
    with pytest.raises(ValueError, match=r"axes\[0\] must be strictly increasing"):
        TensorGrid([np.array([0.0, 0.5, 0.2])])


def test_grid_rejects_nodes_outside_box():
    with pytest.raises(ValueError, match="outside the box"):
        TensorGrid([np.array([0.0, 2.0])], Box([0], [1]))


def test_chebyshev_rejects_single_node():
    with pytest.raises(ValueError, match="m must be >= 2"):
        TensorGrid.chebyshev(Box([0], [1]), 1)


def test_grid_rejects_non_box():
    with pytest.raises(TypeError, match="box must be a tensorrom.data.Box"):
        TensorGrid.uniform(((0, 0), (1, 1)), 4)
