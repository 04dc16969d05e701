"""NaCl clusters and slabs."""

import numpy as np
import pytest

from tensorrom.potentials import nacl_cluster, nacl_slab


@pytest.mark.parametrize("L", [2, 4, 5])
def test_cluster_counts_charges_and_spacing(L):
    pc = nacl_cluster(L, a=2.82)
    assert pc.n == L**3
    q = pc["charge"]
    assert set(np.unique(q)) <= {-1.0, 1.0}
    # neutral for even L, one excess Na+ for odd L (the corner sites are even)
    assert q.sum() == (0 if L % 2 == 0 else 1)
    # centred, nearest neighbours a apart with opposite charges
    np.testing.assert_allclose(pc.coords.mean(axis=0), 0.0, atol=1e-12)
    d = np.linalg.norm(pc.coords[:, None] - pc.coords[None], axis=-1)
    np.fill_diagonal(d, np.inf)
    assert d.min() == pytest.approx(2.82)
    i, j = np.nonzero(np.isclose(d, 2.82))
    assert np.all(q[i] * q[j] == -1)


def test_vacancies_are_reproducible():
    a = nacl_cluster(4, vacancies=5, seed=3)
    b = nacl_cluster(4, vacancies=5, seed=3)
    assert a.n == 59
    np.testing.assert_array_equal(a.coords, b.coords)


def test_slab_shape():
    pc = nacl_slab(24, 24, 4, a=3.0)
    assert pc.n == 2304
    ext = pc.coords.max(axis=0) - pc.coords.min(axis=0)
    np.testing.assert_allclose(ext, [69.0, 69.0, 9.0])
    assert pc["charge"].sum() == 0


def test_bad_L():
    with pytest.raises(ValueError, match="L"):
        nacl_cluster(0)


def test_L_not_int():
    with pytest.raises(TypeError, match="L"):
        nacl_cluster(2.5)


def test_too_many_vacancies():
    with pytest.raises(ValueError, match="vacancies"):
        nacl_cluster(2, vacancies=8)


def test_negative_spacing():
    with pytest.raises(ValueError, match="a"):
        nacl_slab(2, 2, 2, a=-1.0)
