import numpy as np
import pytest

import tensorrom as tr
from tensorrom.data import Box, Field, PointCloud, TensorGrid, Trajectory


def _grid_field():
    g = TensorGrid.chebyshev(Box([0, -1, 2], [1, 1, 3]), (5, 6, 7))
    v = np.random.default_rng(0).normal(size=(3, 5, 6, 7, 2))
    return Field(v, g, times=[0.0, 0.5, 1.25], name="u", units="m/s")


def _cloud_field():
    pc = PointCloud(np.random.default_rng(1).uniform(0, 1, (20, 3)),
                    {"charge": np.linspace(-1, 1, 20), "kind": np.arange(20)},
                    box=Box([0, 0, 0], [1, 1, 1]))
    return Field(np.random.default_rng(2).normal(size=20), pc, units="e/Å")


def _trajectory():
    rng = np.random.default_rng(3)
    pos = rng.uniform(0, 1, (4, 10, 2)).astype(np.float32)
    meta = {"material": "sand", "E": 3.5e5, "nu": [0.2, 0.3],
            "velocity_mean": np.array([1e-3, -2e-3]), "units": {"length": "m"}}
    return Trajectory(pos, 2.5e-3, Box([0, 0], [1, 1]), particle_type=np.arange(10) % 2,
                      metadata=meta)


@pytest.mark.parametrize("suffix", [".h5", ".npz"])
@pytest.mark.parametrize("make", [_grid_field, _cloud_field])
def test_field_round_trip_is_bit_exact(tmp_path, suffix, make):
    f = make()
    p = tr.io.save_field(tmp_path / f"f{suffix}", f)
    g = tr.io.load_field(p)
    assert g.values.dtype == f.values.dtype
    np.testing.assert_array_equal(g.values, f.values)
    assert g.name == f.name and g.units == f.units
    if f.times is not None:
        np.testing.assert_array_equal(g.times, f.times)
    if isinstance(f.support, TensorGrid):
        assert g.support == f.support
    else:
        np.testing.assert_array_equal(g.support.coords, f.support.coords)
        for k, v in f.support.features.items():
            np.testing.assert_array_equal(g.support[k], v)
            assert g.support[k].dtype == v.dtype
        assert g.support.box == f.support.box
    assert not list(tmp_path.glob("*.tmp*"))  # atomic write left no temporary behind


@pytest.mark.parametrize("suffix", [".h5", ".npz"])
def test_trajectory_round_trip_is_bit_exact(tmp_path, suffix):
    t = _trajectory()
    u = tr.io.load_trajectory(tr.io.save_trajectory(tmp_path / f"t{suffix}", t))
    assert u.positions.dtype == np.float32
    np.testing.assert_array_equal(u.positions, t.positions)
    np.testing.assert_array_equal(u.particle_type, t.particle_type)
    assert u.dt == t.dt and u.box == t.box
    assert u.metadata["material"] == "sand" and u.metadata["E"] == 3.5e5
    assert u.metadata["nu"] == [0.2, 0.3] and u.metadata["units"] == {"length": "m"}
    np.testing.assert_array_equal(u.metadata["velocity_mean"], t.metadata["velocity_mean"])


@pytest.mark.parametrize("suffix", [".h5", ".npz"])
def test_truncated_file_gives_clear_error(tmp_path, suffix):
    p = tr.io.save_field(tmp_path / f"f{suffix}", _grid_field())
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="not a readable"):
        tr.io.load_field(p)


@pytest.mark.parametrize("suffix", [".h5", ".npz"])
def test_garbage_file_gives_clear_error(tmp_path, suffix):
    p = tmp_path / f"junk{suffix}"
    p.write_bytes(b"this is not a data file" * 10)
    with pytest.raises(ValueError, match="not a readable"):
        tr.io.load_trajectory(p)


def test_foreign_npz_names_missing_entry(tmp_path):
    p = tmp_path / "other.npz"
    np.savez(p, x=np.zeros(3))
    with pytest.raises(ValueError, match="missing required entry 'kind'"):
        tr.io.load_field(p)


def test_loading_wrong_kind_is_an_error(tmp_path):
    p = tr.io.save_trajectory(tmp_path / "t.h5", _trajectory())
    with pytest.raises(ValueError, match="holds a trajectory, not a field"):
        tr.io.load_field(p)


def test_unknown_suffix_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="path must end in .h5, .hdf5 or .npz"):
        tr.io.save_field(tmp_path / "f.pkl", _grid_field())


def test_missing_file_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        tr.io.load_field(tmp_path / "nothing.h5")


def test_metadata_must_be_serialisable(tmp_path):
    t = _trajectory()
    t.metadata["bad"] = object()
    with pytest.raises(TypeError, match=r"metadata\['bad'\] must be JSON-serialisable"):
        tr.io.save_trajectory(tmp_path / "t.h5", t)
