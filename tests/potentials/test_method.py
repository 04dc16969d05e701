"""method="auto" | "split" | "direct" of coulomb, field and energy, and the direct sums."""

import numpy as np
import pytest

from tensorrom.data import Box, PointCloud
from tensorrom.potentials import (
    RangeSplit,
    choose_method,
    coulomb,
    direct_energy,
    direct_field,
    direct_sum,
    energy,
    field,
    nacl_cluster,
)


@pytest.fixture(scope="module")
def system():
    pc = nacl_cluster(4, vacancies=2, seed=3)  # 62 ions, net charge
    rng = np.random.default_rng(7)
    t = rng.uniform(-2.0, 10.5, size=(300, 3))
    d = np.min(np.linalg.norm(t[:, None] - pc.coords[None], axis=-1), axis=1)
    return pc, t[d > 0.5]


def test_choose_method_regimes():
    # few particles: the direct sum wins at any number of points (its cost per point, N terms,
    # is below the split's per-target cost)
    assert choose_method(500, 10**7) == "direct"
    assert choose_method(2500, 10**6) == "direct"
    # few points: the build of the long-range part is not repaid
    assert choose_method(10**5, 10**4) == "direct"
    # many of both: the split
    assert choose_method(50_000, 10**6) == "split"
    assert choose_method(50_000, 10**6, quantity="field") == "split"
    # energy: N^2 direct terms against a build of ~1.5e5 per particle
    assert choose_method(20_000, quantity="energy") == "direct"
    assert choose_method(10**6, quantity="energy") == "split"


def test_choose_method_bad_input():
    with pytest.raises(ValueError, match="quantity"):
        choose_method(10, 10, quantity="charge")
    with pytest.raises(ValueError, match="n_targets"):
        choose_method(10)
    with pytest.raises(ValueError, match="n_particles"):
        choose_method(-1, 10)
    with pytest.raises(ValueError, match="n_targets"):
        choose_method(10, -5)


def test_auto_uses_the_direct_sum_where_it_is_cheaper(system):
    pc, t = system
    assert choose_method(pc.n, t.shape[0]) == "direct"
    # the same function, hence bit-identical
    np.testing.assert_array_equal(coulomb(pc, t), direct_sum(pc, t))
    np.testing.assert_array_equal(coulomb(pc, t, method="direct"), direct_sum(pc, t))
    np.testing.assert_array_equal(field(pc, t), direct_field(pc, t))
    assert energy(pc) == direct_energy(pc)


def test_auto_with_an_explicit_split_uses_the_split(system):
    pc, t = system
    split = RangeSplit.choose(Box.bounding(np.concatenate([pc.coords, t])), 1e-6,
                              n_particles=pc.n)
    a = coulomb(pc, t, split=split)
    np.testing.assert_array_equal(a, coulomb(pc, t, split=split, method="split"))
    ref = direct_sum(pc, t)
    err = np.max(np.abs(a - ref)) / np.max(np.abs(ref))
    # the split's own error: nonzero (so this is not the direct sum) and within rtol 1e-6
    assert 0.0 < err <= 1e-6
    e = energy(pc, rtol=1e-8, beta=0.5)  # a split option: the split
    assert e != direct_energy(pc)
    assert abs(e - direct_energy(pc)) <= 1e-8 * abs(direct_energy(pc))


def test_bad_method(system):
    pc, t = system
    with pytest.raises(ValueError, match="method"):
        coulomb(pc, t, method="fmm")
    with pytest.raises(ValueError, match="method"):
        field(pc, t, method=None)
    with pytest.raises(ValueError, match="method"):
        energy(pc, method="Direct")
    split = RangeSplit.choose(Box.bounding(np.concatenate([pc.coords, t])), 1e-6)
    with pytest.raises(ValueError, match="direct"):
        coulomb(pc, t, split=split, method="direct")
    with pytest.raises(ValueError, match="direct"):
        energy(pc, method="direct", beta=0.4)
    with pytest.raises(ValueError, match="rtol"):
        coulomb(pc, t, rtol=-1.0, method="direct")
    for method in ("auto", "split", "direct"):  # one admissible range whichever method runs
        with pytest.raises(ValueError, match=r"rtol must lie in \[1e-12, 1e-2\]"):
            coulomb(pc, t, rtol=0.5, method=method)
        with pytest.raises(ValueError, match=r"rtol must lie in \[1e-12, 1e-2\]"):
            energy(pc, rtol=0.5, method=method)
    with pytest.raises(ValueError, match="backend"):
        coulomb(pc, t, backend="cuda")


def test_direct_field_is_the_gradient_of_the_direct_sum(system):
    pc, t = system
    e = direct_field(pc, t)
    h = 1e-4
    fd = np.empty_like(e)
    for k in range(3):
        dx = np.zeros(3)
        dx[k] = h
        fd[:, k] = -(direct_sum(pc, t + dx) - direct_sum(pc, t - dx)) / (2 * h)
    # central differences: truncation h^2 |V'''| / 6 ~ 1e-8 / d^4 with d >= 0.5 A, rounding
    # eps |V| / h ~ 1e-11: 1e-6 of max |E| holds with a wide margin
    assert np.max(np.abs(e - fd)) <= 1e-6 * np.max(np.abs(e))


def test_direct_field_of_one_charge_is_exact():
    pc = PointCloud(np.array([[1.0, -2.0, 0.5]]), {"charge": [-1.5]})
    t = np.array([[3.0, 1.0, -1.0], [1.0, -2.0, 2.5]])
    d = t - pc.coords[0]
    want = -1.5 * d / np.linalg.norm(d, axis=1, keepdims=True) ** 3
    # one term in float64: a few ulp
    np.testing.assert_allclose(direct_field(pc, t), want, rtol=1e-14)


def test_jax_direct_sum_matches_numba(system, monkeypatch):
    import tensorrom.potentials._coulomb as c

    pc, t = system
    ref = direct_sum(pc, t)
    got = np.asarray(coulomb(pc, t, backend="jax", method="direct"))
    # float64 in both; only the summation order differs (a BLAS dot against a loop): 1e-12
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-12 * np.max(np.abs(ref)))
    # many chunks and a padded last one: 7 targets per chunk
    monkeypatch.setattr(c, "_DIRECT_JAX_TERMS", 7 * pc.n)
    got = np.asarray(coulomb(pc, t, backend="jax", method="direct"))
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-12 * np.max(np.abs(ref)))
    with pytest.raises(ValueError, match="min_distance"):
        coulomb(pc, pc.coords[:3] + 1e-4, backend="jax", method="direct")


def test_vectorised_direct_sums_against_numpy(system):
    pc, t = system
    d = t[:, None, :] - pc.coords[None]
    r = np.linalg.norm(d, axis=-1)
    q = pc["charge"]
    ref_v = (q[None] / r).sum(axis=1)
    ref_e = np.einsum("mn,mnk->mk", q[None] / r**3, d)
    # float64 sums of 62 terms in another order (vectorised, fused multiply-adds): 1e-13
    np.testing.assert_allclose(direct_sum(pc, t), ref_v, rtol=0,
                               atol=1e-13 * np.abs(ref_v).max())
    np.testing.assert_allclose(direct_field(pc, t), ref_e, rtol=0,
                               atol=1e-13 * np.abs(ref_e).max())
    rr = np.linalg.norm(pc.coords[:, None] - pc.coords[None], axis=-1)
    np.fill_diagonal(rr, np.inf)
    ref_u = 0.5 * float(np.sum(q[:, None] * q[None] / rr))
    assert abs(direct_energy(pc) - ref_u) <= 1e-13 * np.sum(np.abs(q[:, None] * q[None] / rr))


def test_direct_sums_on_a_particle_omit_its_term(system):
    pc, _ = system
    t = np.vstack([pc.coords[5], pc.coords[5] + [0.7, 0.0, 0.0]])  # on particle 5, and off it
    keep = np.arange(pc.n) != 5
    d = t[0] - pc.coords[keep]
    q = pc["charge"][keep]
    r = np.linalg.norm(d, axis=1)
    v = direct_sum(pc, t, min_distance=0.0)
    e = direct_field(pc, t, min_distance=0.0)
    # the target on a particle: the sum without that particle (float64, 1e-13)
    assert v[0] == pytest.approx(np.sum(q / r), rel=1e-13)
    np.testing.assert_allclose(e[0], (q / r**3) @ d, rtol=1e-12)
    # the other target is unaffected by the special case
    assert v[1] == pytest.approx(direct_sum(pc, t[1:])[0], rel=1e-15)
    assert np.all(np.isfinite(v)) and np.all(np.isfinite(e))


def test_grid_auto(system):
    from tensorrom.data import TensorGrid
    from tensorrom.potentials import coulomb_on_grid

    pc, _ = system
    # the split costs ~220 direct terms per node beyond its build (1.5e5 per particle)
    assert choose_method(3341, 48**3, quantity="grid") == "direct"
    assert choose_method(3341, 128**3, quantity="grid") == "split"
    grid = TensorGrid.uniform(Box.bounding(pc.coords, pad=1.3), (7, 8, 9))
    f = coulomb_on_grid(pc, grid)  # 62 ions, 504 nodes: the direct sum
    assert f.values.shape == grid.shape and f.units == "e/Å" and f.name == "potential"
    np.testing.assert_array_equal(f.values.reshape(-1), direct_sum(pc, grid.points()))
    g = coulomb_on_grid(pc, grid, method="split")
    # the split on the same nodes, within its tolerance (1e-6 of max|V|)
    assert np.max(np.abs(g.values - f.values)) <= 1e-6 * np.max(np.abs(f.values))
    with pytest.raises(ValueError, match="method"):
        coulomb_on_grid(pc, grid, method="fft")


def test_forces_direct_are_minus_the_energy_gradient():
    from tensorrom.potentials import forces

    pc = nacl_cluster(3, vacancies=1, seed=4)  # 26 ions
    f = forces(pc)
    h = 1e-5
    for i in (0, 7, 25):
        for k in range(3):
            xp = pc.coords.copy()
            xm = pc.coords.copy()
            xp[i, k] += h
            xm[i, k] -= h
            ep = direct_energy(PointCloud(xp, {"charge": pc["charge"]}))
            em = direct_energy(PointCloud(xm, {"charge": pc["charge"]}))
            # central differences: h^2 E''' ~ 1e-10 plus cancellation eps |E| / h ~ 1e-9
            assert abs(f[i, k] + (ep - em) / (2 * h)) <= 1e-7


def test_forces_direct_against_numpy_and_newtons_third_law():
    from tensorrom.potentials import forces

    rng = np.random.default_rng(3)
    x = rng.uniform(-5.0, 5.0, size=(300, 3))
    q = rng.uniform(-1.0, 1.0, size=300)
    f = forces(PointCloud(x, {"charge": q}), method="direct")
    d = x[:, None] - x[None]
    r = np.linalg.norm(d, axis=-1)
    np.fill_diagonal(r, np.inf)
    want = q[:, None] * np.einsum("ij,ijk->ik", q[None] / r ** 3, d)
    # the same pair terms in another order: agreement to float64 rounding of sums of up to
    # 1e4 (pairs at ~0.05 Å); the total force cancels to rounding as well
    np.testing.assert_allclose(f, want, rtol=1e-10, atol=1e-9)
    assert np.max(np.abs(f.sum(axis=0))) <= 1e-10 * np.max(np.abs(f)) * 300


def test_forces_split_against_direct():
    from tensorrom.potentials import forces

    pc = nacl_cluster(5, vacancies=4, seed=1)  # 121 ions
    fd = forces(pc)  # auto: direct at this size
    np.testing.assert_array_equal(fd, forces(pc, method="direct"))
    fs = forces(pc, rtol=1e-7, method="split")
    # as test_field_matches_direct_field: the gradient of the long-range interpolant loses
    # about a factor degree/L ~ 3-10 of the kernel tolerance
    assert np.max(np.abs(fs - fd)) / np.max(np.abs(fd)) <= 1e-6
    assert np.max(np.abs(fs.sum(axis=0))) <= 1e-6 * np.max(np.abs(fd)) * pc.n


def test_forces_bad_input():
    from tensorrom.potentials import forces

    pc = nacl_cluster(2)
    twin = PointCloud(np.vstack([pc.coords, pc.coords[:1]]), {"charge": np.r_[pc["charge"], 1.0]})
    for method in ("direct", "split"):
        with pytest.raises(ValueError, match="coincident"):
            forces(twin, method=method)
    with pytest.raises(ValueError, match="at least 2"):
        forces(PointCloud(np.zeros((1, 3)), {"charge": [1.0]}))
    with pytest.raises(ValueError, match="method"):
        forces(pc, method="fmm")
