import numpy as np
import pytest

from tensorrom.rom import phirom


def test_relative_l2_over_several_axes_matches_flattened_norm():
    # 2D fields with channels: the norm over three axes equals the norm of the flattened
    # field (exact up to summation order, hence 1e-14 relative).
    rng = np.random.default_rng(0)
    t = rng.normal(size=(3, 5, 8, 8, 2))
    p = t + 0.1 * rng.normal(size=t.shape)
    got = phirom.relative_l2(p, t, axis=(2, 3, 4))
    flat = np.linalg.norm((p - t).reshape(3, 5, -1), axis=-1) / np.linalg.norm(
        t.reshape(3, 5, -1), axis=-1)
    assert got.shape == (3, 5)
    np.testing.assert_allclose(got, flat, rtol=1e-14)
    # the default (last axis) is unchanged: a 1D field error of a scaled copy is |c - 1|
    np.testing.assert_allclose(phirom.relative_l2(1.5 * t[..., 0], t[..., 0]), 0.5, rtol=1e-14)


def test_relative_l2_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="prediction has shape"):
        phirom.relative_l2(np.zeros((2, 3)), np.ones((3, 2)))
