import jax.numpy as jnp
import numpy as np
import pytest

from tensorrom.data import Box, Field, PointCloud, TensorGrid


def _poly(points, degree):
    # a full tensor-product polynomial of the given degree per axis, random coefficients
    coef = np.random.default_rng(1).normal(size=(degree + 1,) * points.shape[1])
    out = np.zeros(points.shape[0])
    for idx in np.ndindex(coef.shape):
        out += coef[idx] * np.prod(points ** np.array(idx), axis=1)
    return out


@pytest.mark.parametrize("order", [1, 2, 3])
@pytest.mark.parametrize("dim", [1, 2, 3])
def test_local_interpolation_exact_for_polynomials_of_its_order(order, dim, rng):
    box = Box(np.zeros(dim), np.linspace(1.0, 2.0, dim))
    grid = TensorGrid.uniform(box, 7, centered=True)
    f = Field(_poly(grid.points(), order).reshape(grid.shape), grid)
    q = box.from_reference(rng.uniform(-1, 1, (200, dim)))  # includes extrapolated edges
    # exact up to rounding: values are O(10), sums of (order+1)^dim terms -> 1e-11 absolute
    np.testing.assert_allclose(f.at(q, order=order), _poly(q, order), rtol=0, atol=1e-11)


def test_linear_interpolation_not_exact_for_quadratics(rng):
    # guards the previous test against an interpolant that is accidentally of higher order
    box = Box([0.0], [1.0])
    grid = TensorGrid.uniform(box, 7)
    f = Field(grid.axes[0] ** 2, grid)
    q = rng.uniform(0, 1, (100, 1))
    assert np.max(np.abs(f.at(q, order=1) - q[:, 0] ** 2)) > 1e-3


@pytest.mark.parametrize("dim", [1, 2, 3])
def test_chebyshev_interpolation_exact_for_degree_m_minus_1(dim, rng):
    m = 6
    box = Box(-np.ones(dim), 2 * np.ones(dim))
    grid = TensorGrid.chebyshev(box, m)
    f = Field(_poly(grid.points(), m - 1).reshape(grid.shape), grid)
    q = box.from_reference(rng.uniform(-1, 1, (200, dim)))
    # barycentric interpolation is backward stable; values O(1e2) -> 1e-10 absolute
    np.testing.assert_allclose(f.at(q), _poly(q, m - 1), rtol=0, atol=1e-10)
    # at the nodes themselves the values are reproduced exactly
    np.testing.assert_array_equal(f.at(grid.points()[:5]), f.values.reshape(-1)[:5])


def test_time_and_channel_axes(rng):
    grid = TensorGrid.uniform(Box([0, 0], [1, 1]), (5, 6), centered=False)
    x, y = grid.meshgrid()
    vals = np.stack([np.stack([t * x + y, 2 * x - t * y], axis=-1) for t in range(3)])
    f = Field(vals, grid, times=[0.0, 1.0, 2.0])
    assert f.has_time and f.n_channels == 2
    q = rng.uniform(0, 1, (10, 2))
    out = f.at(q)
    assert out.shape == (3, 10, 2)
    # bilinear functions: multilinear interpolation is exact (1e-13 for O(1) values)
    np.testing.assert_allclose(out[2, :, 0], 2 * q[:, 0] + q[:, 1], atol=1e-13)
    np.testing.assert_allclose(out[1, :, 1], 2 * q[:, 0] - q[:, 1], atol=1e-13)
    g2 = TensorGrid.uniform(Box([0, 0], [1, 1]), 4)
    assert f.on(g2).values.shape == (3, 4, 4, 2)


def test_jax_values_stay_jax(rng):
    grid = TensorGrid.uniform(Box([0, 0], [1, 1]), 8)
    x, y = grid.meshgrid()
    f = Field(jnp.asarray(x + 2 * y), grid)
    q = jnp.asarray(rng.uniform(0.1, 0.9, (20, 2)))
    out = f.at(q)
    assert isinstance(out, type(jnp.zeros(1)))
    np.testing.assert_allclose(np.asarray(out), np.asarray(q[:, 0] + 2 * q[:, 1]), atol=1e-13)


def test_pointcloud_field_and_subset():
    pc = PointCloud(np.arange(12.0).reshape(6, 2), {"charge": np.array([1, -1, 1, -1, 1, -1.0])})
    f = Field(np.ones((6, 3)), pc)
    assert f.n_channels == 3
    sub = pc.subset([0, 2])
    np.testing.assert_array_equal(sub["charge"], [1, 1])
    assert pc.with_features(radius=np.ones(6)).features.keys() == {"charge", "radius"}


# -- bad input: one test each ------------------------------------------------------------
def test_field_rejects_wrong_shape():
    grid = TensorGrid.uniform(Box([0, 0], [1, 1]), 4)
    with pytest.raises(ValueError, match="values must have shape"):
        Field(np.zeros((4, 5)), grid)


def test_field_rejects_nan():
    grid = TensorGrid.uniform(Box([0, 0], [1, 1]), 4)
    v = np.zeros((4, 4))
    v[1, 1] = np.nan
    with pytest.raises(ValueError, match="values has 1 non-finite"):
        Field(v, grid)


def test_field_rejects_bad_support():
    with pytest.raises(TypeError, match="support must be a TensorGrid or a PointCloud"):
        Field(np.zeros(3), np.zeros(3))


def test_field_rejects_unsorted_times():
    grid = TensorGrid.uniform(Box([0], [1]), 4)
    with pytest.raises(ValueError, match="times must be strictly increasing"):
        Field(np.zeros((2, 4)), grid, times=[1.0, 0.0])


def test_at_rejects_points_outside_box():
    grid = TensorGrid.uniform(Box([0, 0], [1, 1]), 4)
    f = Field(np.zeros((4, 4)), grid)
    with pytest.raises(ValueError, match="points has 1 point.*outside the box"):
        f.at(np.array([[0.5, 0.5], [2.0, 0.5]]))


def test_at_rejects_wrong_dimension():
    grid = TensorGrid.uniform(Box([0, 0], [1, 1]), 4)
    with pytest.raises(ValueError, match="points must have 2 columns"):
        Field(np.zeros((4, 4)), grid).at(np.zeros((3, 3)))


def test_at_on_pointcloud_field_is_an_error():
    pc = PointCloud(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="interpolates grid fields"):
        Field(np.zeros(3), pc).at(np.zeros((1, 2)))


def test_pointcloud_rejects_feature_length():
    with pytest.raises(ValueError, match=r"features\['charge'\] must have leading length 3"):
        PointCloud(np.zeros((3, 2)), {"charge": np.zeros(2)})


def test_pointcloud_rejects_infinite_coords():
    c = np.zeros((3, 2))
    c[0, 0] = np.inf
    with pytest.raises(ValueError, match="coords has 1 non-finite"):
        PointCloud(c)


def test_pointcloud_rejects_points_outside_box():
    with pytest.raises(ValueError, match="coords has 1 point.*outside"):
        PointCloud(np.array([[0.5, 0.5], [1.5, 0.0]]), box=Box([0, 0], [1, 1]))


def test_pointcloud_rejects_1d_coords():
    with pytest.raises(ValueError, match="coords must have 2 dimensions"):
        PointCloud(np.zeros(3))
