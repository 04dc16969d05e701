"""Internals of the long-range build: deflated Gram bases and the grouped RHOSVD."""

import numpy as np
import pytest

from tensorrom.data import Box, PointCloud
from tensorrom.potentials import RangeSplit, long_range
from tensorrom.potentials._long_range import (
    _cp_core3,
    _left_basis,
    _long_scale,
    _rhosvd_groups,
    _truncate,
)


def graded_matrix(rng, m=40, n=3000, decades=14):
    # singular values 1 ... 10^-decades, random orthogonal factors
    u, _ = np.linalg.qr(rng.normal(size=(m, m)))
    v, _ = np.linalg.qr(rng.normal(size=(n, m)))
    s = np.logspace(0, -decades, m)
    return (u * s) @ v.T, s


@pytest.mark.parametrize("thr", [1e-4, 1e-9, 1e-12])
def test_left_basis_resolves_tails_below_sqrt_eps(rng, thr):
    # a single Gram pass resolves singular values only to ~sqrt(eps) = 1.5e-8; the deflated
    # passes must truncate at thr with a true residual <= thr (the reported tail bound)
    c, s_true = graded_matrix(rng)
    u, s, noise = _left_basis(c, thr)
    assert np.allclose(u.T @ u, np.eye(u.shape[1]), atol=1e-12)
    r, tail = _truncate(s, thr, noise)
    resid = np.linalg.norm(c - u[:, :r] @ (u[:, :r].T @ c))
    # the residual itself is computed with an absolute rounding error ~ eps ||c|| sqrt(m)
    assert resid <= tail + 1e-14 and tail <= thr
    # the rank is the one the exact singular values give for thr, or one more (truncation
    # at thr - noise); at 1e-12 sigma_max the eigenvectors split off by the first pass leak
    # ~ eps ||G|| / gap into the remainder, which the next pass keeps: a few more vectors,
    # never a larger residual than reported
    exact = int(np.count_nonzero(np.sqrt(np.cumsum(s_true[::-1] ** 2))[::-1] > thr))
    assert exact <= r <= exact + (1 if thr > 1e-11 else 4)


def test_cp_core3_matches_einsum(rng):
    a, b, c = rng.normal(size=(5, 700)), rng.normal(size=(9, 700)), rng.normal(size=(7, 700))
    w = rng.normal(size=700)
    want = np.einsum("j,aj,bj,cj->abc", w, a, b, c)
    # any mode may be the largest (it becomes the GEMM's output dimension)
    for perm in ([a, b, c], [b, a, c], [c, b, a]):
        got = _cp_core3(w, *perm)
        ref = np.einsum("j,aj,bj,cj->abc", w, *perm)
        np.testing.assert_allclose(got, ref, rtol=0, atol=1e-12 * np.abs(ref).max())
    assert want.shape == (5, 9, 7)


def test_grouped_rhosvd_error_bound_holds(rng):
    # the RHOSVD alone (before recompression): the Chebyshev-coefficient error is what the
    # reported bound says; compared with the untruncated coefficient tensor of the same sum
    coords = rng.uniform(-5, 5, size=(60, 3))
    q = rng.normal(size=60)
    split = RangeSplit.choose(Box.bounding(coords), 1e-6, r_cut=3.5, degree=20)
    gs = split.long_sum
    atol = 0.25 * split.rtol * _long_scale(coords, q, split)
    ct = _rhosvd_groups(coords, q, np.ascontiguousarray(gs.exponents),
                        np.asarray(gs.coefficients), split.box, split.degrees, atol)
    # the exact coefficient tensor: sum over all N K terms of outer products (small here)
    from tensorrom.tensor._chebyshev import values_to_coefficients
    from tensorrom.tensor._sampling import _node_axes

    axes = _node_axes(split.box, split.degrees)
    fac = [values_to_coefficients(np.exp(-gs.exponents[None, None, :]
                                         * (ax[:, None, None] - coords[None, :, i, None]) ** 2)
                                  .reshape(ax.size, -1), axes=0)
           for i, ax in enumerate(axes)]
    w = (q[:, None] * gs.coefficients[None, :]).reshape(-1)
    exact = np.einsum("r,ar,br,cr->abc", w, *fac)
    approx = np.einsum("abc,ia,jb,kc->ijk", ct.core, *ct.factors)
    err = np.linalg.norm(approx - exact)
    assert err <= ct.truncation_error <= atol


def test_long_range_is_reproducible_and_skips_uncharged(rng):
    coords = rng.uniform(-5, 5, size=(50, 3))
    q = rng.normal(size=50)
    q[::5] = 0.0  # uncharged particles add nothing
    pc = PointCloud(coords, {"charge": q})
    split = RangeSplit.choose(Box.bounding(coords), 1e-6, r_cut=4.0)
    a = long_range(pc, split)
    b = long_range(PointCloud(coords[q != 0], {"charge": q[q != 0]}), split)
    pts = split.box.from_reference(rng.uniform(-1, 1, size=(200, 3)))
    # same terms, same arithmetic: identical up to rounding
    np.testing.assert_allclose(a(pts), b(pts), rtol=0, atol=1e-13)
