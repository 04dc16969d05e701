import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import NamedSharding, PartitionSpec

from tensorrom.data import Box, Field, TensorGrid


def test_two_emulated_devices_shard_a_field_axis():
    # conftest emulates 2 CPU devices so sharded code paths are exercised without a GPU
    assert jax.device_count() == 2
    mesh = jax.make_mesh((2,), ("points",), axis_types=(jax.sharding.AxisType.Auto,))
    grid = TensorGrid.uniform(Box([0, 0], [1, 1]), 8)
    x, y = grid.meshgrid()
    field = Field(jnp.asarray(x * y), grid)
    q = jax.device_put(jnp.asarray(np.random.default_rng(0).uniform(0, 1, (64, 2))),
                       NamedSharding(mesh, PartitionSpec("points", None)))
    out = field.at(q)
    # bilinear function: exact up to rounding (1e-13)
    np.testing.assert_allclose(np.asarray(out), np.asarray(q[:, 0] * q[:, 1]), atol=1e-13)
