"""save_chebtucker / load_chebtucker: round trips in both formats, metadata, bad files."""

import numpy as np
import pytest

from tensorrom.data import Box, Field, TensorGrid
from tensorrom.io import load_chebtucker, save_chebtucker, save_field
from tensorrom.tensor import ChebTucker


@pytest.fixture(scope="module")
def ct():
    box = Box([-1.0, 0.0, 2.0], [1.0, 3.0, 4.0])
    return ChebTucker.from_function(lambda p: np.exp(-np.sum(p**2, axis=1)) * p[:, 0], box,
                                    degree=(20, 24, 16), rtol=1e-10)


@pytest.mark.parametrize("suffix", [".h5", ".npz"])
def test_round_trip(tmp_path, ct, suffix):
    path = save_chebtucker(tmp_path / f"f{suffix}", ct, metadata={"beta": 0.3, "name": "x"})
    assert not list(tmp_path.glob("*.tmp*"))  # written, then renamed
    back, meta = load_chebtucker(path, return_metadata=True)
    assert meta == {"beta": 0.3, "name": "x"}
    # the same arrays: bit-identical values and diagnostics
    for a, b in zip(back.factors, ct.factors):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(back.core, ct.core)
    np.testing.assert_array_equal(back.box.lower, ct.box.lower)
    assert back.degrees == ct.degrees and back.ranks == ct.ranks
    assert back.truncation_error == ct.truncation_error
    assert back.sampled_error == ct.sampled_error and back.error_estimate == ct.error_estimate
    for a, b in zip(back.singular_values, ct.singular_values):
        np.testing.assert_array_equal(a, b)
    p = ct.box.from_reference(np.random.default_rng(0).uniform(-1, 1, (200, 3)))
    np.testing.assert_array_equal(back(p), ct(p))


def test_bare_chebtucker_round_trip(tmp_path, ct):
    bare = ChebTucker(ct.core, ct.factors, ct.box)  # no sampled error, no singular values
    back = load_chebtucker(save_chebtucker(tmp_path / "b.h5", bare))
    assert back.sampled_error is None and back.singular_values is None
    assert back.error_estimate == bare.error_estimate


def test_bad_input(tmp_path, ct):
    with pytest.raises(TypeError, match="ChebTucker"):
        save_chebtucker(tmp_path / "a.h5", np.zeros(3))
    with pytest.raises(ValueError, match="suffix|must end"):
        save_chebtucker(tmp_path / "a.txt", ct)
    with pytest.raises(TypeError, match="metadata"):
        save_chebtucker(tmp_path / "a.h5", ct, metadata={"a": np.zeros(2)})
    with pytest.raises(FileNotFoundError):
        load_chebtucker(tmp_path / "missing.h5")
    grid = TensorGrid.uniform(Box([0.0], [1.0]), 4)
    save_field(tmp_path / "field.h5", Field(np.zeros(4), grid))
    with pytest.raises(ValueError, match="not a chebtucker"):
        load_chebtucker(tmp_path / "field.h5")
    (tmp_path / "junk.npz").write_bytes(b"not a zip file")
    with pytest.raises(ValueError, match="corrupt"):
        load_chebtucker(tmp_path / "junk.npz")
