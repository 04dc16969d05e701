"""Tucker format, HOSVD, HOOI and reduced HOSVD against exact constructions and tensorly."""

import jax
import numpy as np
import pytest

from tensorrom.tensor import (
    Tucker,
    hooi,
    hooi_jax,
    hosvd,
    hosvd_jax,
    reduced_hosvd,
    truncation_rank,
)
from tensorrom.tensor._tucker import _side_svd


def _orthonormal(rng, n, r):
    q, _ = np.linalg.qr(rng.standard_normal((n, r)))
    return q


def _low_rank(rng, shape=(12, 10, 9), ranks=(3, 4, 2)):
    core = rng.standard_normal(ranks)
    return Tucker(core, [_orthonormal(rng, n, r) for n, r in zip(shape, ranks)])


def _cp_full(weights, factors):
    letters = "abcdef"[: len(factors)]
    spec = "r," + ",".join(f"{c}r" for c in letters) + "->" + letters
    return np.einsum(spec, weights, *factors)


def test_full_shape_ranks_nbytes(rng):
    t = _low_rank(rng)
    assert t.shape == (12, 10, 9) and t.ranks == (3, 4, 2)
    assert t.nbytes == 8 * (3 * 4 * 2 + 12 * 3 + 10 * 4 + 9 * 2)
    ref = np.einsum("abc,ia,jb,kc->ijk", t.core, *t.factors)
    np.testing.assert_allclose(t.full(), ref, atol=1e-13)


def test_hosvd_recovers_exact_low_rank(rng):
    t = _low_rank(rng)
    a = t.full()
    h = hosvd(a, rtol=1e-10)
    # an exact multilinear rank-(3,4,2) tensor: the singular-value tails vanish to rounding
    assert h.ranks == (3, 4, 2)
    np.testing.assert_allclose(h.full(), a, atol=1e-12)
    assert all(np.allclose(f.T @ f, np.eye(f.shape[1]), atol=1e-13) for f in h.factors)


@pytest.mark.parametrize("sequential", [False, True])
@pytest.mark.parametrize("rtol", [1e-1, 1e-3, 1e-6])
def test_hosvd_error_bound_holds(rng, rtol, sequential):
    x = np.linspace(-1, 1, 20)
    a = 1.0 / (1.0 + x[:, None, None] ** 2 + 2 * x[None, :, None] ** 2 + x[None, None, :] ** 2)
    h = hosvd(a, rtol=rtol, sequential=sequential)
    # the HOSVD bound: ||A - T|| <= sqrt(sum_k tail_k^2) <= rtol ||A||
    assert np.linalg.norm(h.full() - a) <= rtol * np.linalg.norm(a)


def test_hosvd_ranks_match_tensorly_svd(rng):
    import tensorly as tl
    from tensorly.decomposition import tucker as tl_tucker

    t = _low_rank(rng, shape=(10, 9, 8), ranks=(3, 3, 2))
    a = t.full() + 1e-3 * rng.standard_normal((10, 9, 8))
    h = hosvd(a, ranks=(3, 3, 2))
    core, facs = tl_tucker(tl.tensor(a), rank=[3, 3, 2], n_iter_max=0, init="svd")
    ref = tl.tucker_to_tensor((core, facs))
    # same truncated HOSVD (n_iter_max=0 returns the SVD initialisation): same projector
    np.testing.assert_allclose(h.full(), ref, atol=1e-10)


def test_truncation_rank_rule():
    s = np.array([4.0, 2.0, 1.0, 0.5])
    # tails: ||s[1:]|| = sqrt(5.25), ||s[2:]|| = sqrt(1.25), ||s[3:]|| = 0.5, 0
    assert truncation_rank(s, 0.5) == 3
    assert truncation_rank(s, 1.1) == 3
    assert truncation_rank(s, 1.2) == 2
    assert truncation_rank(s, 0.0) == 4


def test_hooi_improves_on_hosvd_and_matches_tensorly(rng):
    import tensorly as tl
    from tensorly.decomposition import tucker as tl_tucker

    a = rng.standard_normal((9, 8, 7))
    ranks = (3, 3, 3)
    e_hosvd = np.linalg.norm(hosvd(a, ranks=ranks).full() - a)
    h = hooi(a, ranks, max_iter=200, tol=1e-14)
    e_hooi = np.linalg.norm(h.full() - a)
    assert e_hooi <= e_hosvd + 1e-12  # ALS never increases the error
    core, facs = tl_tucker(tl.tensor(a), rank=list(ranks), n_iter_max=200, init="svd",
                           tol=1e-14)
    e_tl = np.linalg.norm(tl.tucker_to_tensor((core, facs)) - a)
    # the same HOOI from the same start: errors agree to the stopping tolerance
    assert abs(e_hooi - e_tl) <= 1e-6 * e_tl


def test_tensorly_round_trip(rng):
    t = _low_rank(rng)
    back = Tucker.from_tensorly(t.to_tensorly())
    np.testing.assert_array_equal(back.core, t.core)
    np.testing.assert_allclose(back.full(), t.full(), atol=0)


@pytest.mark.parametrize("method", ["qr", "gram"])
def test_reduced_hosvd_of_cp_matches_full_tensor(rng, method):
    n_terms = 40  # more columns than rows: the m x m reduction is used
    x = np.linspace(-1, 1, 16)
    widths = np.geomspace(0.3, 3.0, n_terms)
    factors = [np.exp(-(x[:, None] / widths[None, :]) ** 2) for _ in range(3)]
    weights = rng.uniform(0.5, 1.5, n_terms)
    full = _cp_full(weights, factors)
    t = reduced_hosvd(weights, factors, rtol=1e-6, method=method)
    # RHOSVD bound: ||A - T|| <= ||w_normalised|| * sum_k tail_k <= ||w_normalised|| * rtol
    w_norm = weights * np.prod([np.linalg.norm(f, axis=0) for f in factors], axis=0)
    assert np.linalg.norm(t.full() - full) <= 1e-6 * np.linalg.norm(w_norm)
    assert max(t.ranks) < 16


def test_reduced_hosvd_qr_resolves_small_tails_gram_does_not():
    # side matrix with singular values 1, 1e-9, ...: the Gram matrix squares them to 1e-18,
    # below eps, so its eigen-decomposition cannot see the second one; the QR route can.
    rng = np.random.default_rng(1)
    u = _orthonormal(rng, 20, 2)
    v = _orthonormal(rng, 60, 2)
    side = u @ np.diag([1.0, 1e-9]) @ v.T
    _, s_qr = _side_svd(side, "qr")
    # backward-stable route: absolute error ~ eps * sigma_max ~ 1e-16 (allow 100 ulps)
    assert abs(s_qr[1] - 1e-9) <= 1e-14
    _, s_gram = _side_svd(side, "gram")
    # Gram route: eigenvalue noise ~ eps, so sigma_2 is only known to ~sqrt(eps) = 1e-8
    assert abs(s_gram[1] - 1e-9) > 1e-10


def test_jax_hosvd_and_hooi_agree_with_numpy(rng):
    a = rng.standard_normal((8, 7, 6))
    with jax.enable_x64(True):
        hj = hosvd_jax(a, (3, 3, 2))
        oj = hooi_jax(a, (3, 3, 2), n_iter=30)
        full_h = np.asarray(hj.full())
        full_o = np.asarray(oj.full())
    # same projectors up to the sign of singular vectors, which cancels in the full tensor
    np.testing.assert_allclose(full_h, hosvd(a, ranks=(3, 3, 2)).full(), atol=1e-12)
    ref = hooi(a, (3, 3, 2), max_iter=30, tol=0.0)
    # 30 identical sweeps from the same start, float64
    np.testing.assert_allclose(full_o, ref.full(), atol=1e-9)


def test_tucker_factor_column_mismatch_raises(rng):
    with pytest.raises(ValueError, match="factors"):
        Tucker(np.ones((2, 3)), [np.ones((4, 2)), np.ones((5, 2))])


def test_tucker_factor_count_mismatch_raises():
    with pytest.raises(ValueError, match="factors"):
        Tucker(np.ones((2, 3)), [np.ones((4, 2))])


def test_hosvd_nonfinite_raises():
    a = np.ones((3, 3))
    a[1, 1] = np.nan
    with pytest.raises(ValueError, match="array"):
        hosvd(a)


def test_hosvd_two_criteria_raises():
    with pytest.raises(ValueError, match="only one"):
        hosvd(np.ones((3, 3)), rtol=1e-3, ranks=2)


def test_hosvd_bad_ranks_length_raises():
    with pytest.raises(ValueError, match="ranks"):
        hosvd(np.ones((3, 3)), ranks=(1, 1, 1))


def test_hooi_zero_rank_raises():
    with pytest.raises(ValueError, match="ranks"):
        hooi(np.ones((3, 3)), (0, 1))


def test_reduced_hosvd_mismatched_factor_raises():
    with pytest.raises(ValueError, match=r"factors\[1\]"):
        reduced_hosvd(np.ones(3), [np.ones((5, 3)), np.ones((5, 4))])


def test_reduced_hosvd_bad_method_raises():
    with pytest.raises(ValueError, match="method"):
        reduced_hosvd(np.ones(3), [np.ones((5, 3))] * 2, method="eig")
