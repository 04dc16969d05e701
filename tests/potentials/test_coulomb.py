"""Full potential, field and energy through the range split, against direct sums."""

import importlib.util

import numpy as np
import pytest
from scipy.special import erf

from tensorrom.data import Box, PointCloud, TensorGrid
from tensorrom.potentials import (
    COULOMB_KCAL,
    RangeSplit,
    coulomb,
    coulomb_on_grid,
    direct_energy,
    direct_field,
    direct_sum,
    energy,
    field,
    long_range,
    nacl_cluster,
)


def targets_away_from(coords, n, min_dist, pad, seed):
    rng = np.random.default_rng(seed)
    lo, hi = coords.min(axis=0) - pad, coords.max(axis=0) + pad
    out = []
    while len(out) < n:
        p = rng.uniform(lo, hi, size=(4 * n, 3))
        d = np.min(np.linalg.norm(p[:, None] - coords[None], axis=-1), axis=1)
        out.extend(p[d >= min_dist])
    return np.asarray(out[:n])


@pytest.fixture(scope="module")
def nacl8():
    return nacl_cluster(8)


def test_nacl8_potential_matches_direct_sum(nacl8):
    # acceptance 2: 1000 random targets >= 0.5 A from every ion, 1e-6 relative to max |V|
    t = targets_away_from(nacl8.coords, 1000, 0.5, 2.0, seed=1)
    v = coulomb(nacl8, t, rtol=1e-6, method="split")
    ref = direct_sum(nacl8, t)
    assert np.max(np.abs(v - ref)) / np.max(np.abs(ref)) <= 1e-6


def test_nacl8_energy_matches_direct_pair_sum(nacl8):
    # acceptance 2: RS energy vs the O(N^2) pair sum, 1e-8 relative
    e = energy(nacl8, rtol=1e-8, method="split")
    ref = direct_energy(nacl8)
    assert abs(e - ref) / abs(ref) <= 1e-8
    # Madelung check of sign and size: the bulk energy per ion is -M / (2 a) with
    # M = 1.7476; a finite cube is less bound (surface ions) but of the same order
    assert -1.7476 / (2 * 2.82) < e / nacl8.n < -1.5 / (2 * 2.82)


def test_long_range_matches_direct_erf_sum(rng):
    coords = rng.uniform(-6, 6, size=(100, 3))
    pc = PointCloud(coords, {"charge": rng.normal(size=100)})
    split = RangeSplit.choose(Box.bounding(coords), 1e-7, r_cut=4.0)
    ct = long_range(pc, split)
    pts = split.box.from_reference(rng.uniform(-1, 1, size=(500, 3)))
    r = np.linalg.norm(pts[:, None] - coords[None], axis=-1)
    ref = (erf(split.beta * r) / r) @ pc["charge"]
    # the kernel budget is rtol (1e-7) relative to max |V_long|
    assert np.max(np.abs(ct(pts) - ref)) / np.max(np.abs(ref)) <= 1e-7


def test_blas_evaluation_matches_chebtucker_evaluate(rng):
    # evaluate_points (the GEMM path coulomb uses) is the same polynomial as
    # ChebTucker.evaluate, in another summation order: agreement to rounding (1e-13 of max|V|)
    from tensorrom.potentials._long_range import evaluate_points

    coords = rng.uniform(-6, 6, size=(80, 3))
    pc = PointCloud(coords, {"charge": rng.normal(size=80)})
    ct = long_range(pc, rtol=1e-6)
    pts = ct.box.from_reference(rng.uniform(-1, 1, size=(3001, 3)))
    pts[0] = ct.box.lower  # the box corners are valid points
    pts[1] = ct.box.upper
    want = ct.evaluate(pts)
    got = evaluate_points(ct, pts, chunk=512)  # several chunks and a partial one
    assert np.max(np.abs(got - want)) <= 1e-13 * np.max(np.abs(want))
    # with derivative factors: the gradient of ChebTucker.gradient (field() uses this)
    from tensorrom.tensor._chebyshev import derivative_coefficients

    gw = ct.gradient(pts)
    for k in range(3):
        facs = list(ct.factors)
        facs[k] = derivative_coefficients(facs[k], axis=0) * (2.0 / ct.box.lengths[k])
        gk = evaluate_points(ct, pts, factors=facs)
        assert np.max(np.abs(gk - gw[:, k])) <= 1e-13 * np.max(np.abs(gw))


def test_field_matches_direct_field():
    pc = nacl_cluster(4, vacancies=3, seed=0)
    t = targets_away_from(pc.coords, 100, 0.8, 1.5, seed=2)
    e = field(pc, t, rtol=1e-7, method="split")
    d = t[:, None, :] - pc.coords[None]
    r = np.linalg.norm(d, axis=-1)
    ref = np.einsum("mn,mnk->mk", pc["charge"][None] / r**3, d)
    # the gradient of a Chebyshev interpolant loses about a factor degree/L ~ 3 of accuracy
    assert np.max(np.abs(e - ref)) / np.max(np.abs(ref)) <= 1e-6


def test_coulomb_on_grid_matches_direct(rng):
    pc = nacl_cluster(4)
    grid = TensorGrid.uniform(Box([-6.0, -6.0, -6.0], [6.5, 6.0, 6.2]), (14, 15, 16))
    f = coulomb_on_grid(pc, grid, rtol=1e-6, method="split")
    assert f.values.shape == grid.shape and f.units == "e/Å"
    ref = direct_sum(pc, grid.points()).reshape(grid.shape)
    assert np.max(np.abs(f.values - ref)) / np.max(np.abs(ref)) <= 1e-6


def test_jax_backend_agrees():
    pc = nacl_cluster(4, vacancies=1, seed=2)
    t = targets_away_from(pc.coords, 200, 0.5, 2.0, seed=3)
    a = coulomb(pc, t, rtol=1e-6, method="split")
    b = np.asarray(coulomb(pc, t, rtol=1e-6, backend="jax", method="split"))
    # same long-range tensor; the short parts differ by the erfc table (<= 2e-10 per pair)
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-8)


def test_potential_is_translation_invariant():
    pc = nacl_cluster(3, vacancies=2, seed=1)
    t = targets_away_from(pc.coords, 50, 0.6, 1.0, seed=4)
    shift = np.array([13.0, -7.5, 2.25])
    moved = PointCloud(pc.coords + shift, {"charge": pc["charge"]})
    a = coulomb(pc, t, rtol=1e-7, method="split")
    b = coulomb(moved, t + shift, rtol=1e-7, method="split")
    # both within 1e-7 of the exact (invariant) potential
    assert np.max(np.abs(a - b)) / np.max(np.abs(a)) <= 2e-7


def ranks_for(L, beta):
    pc = nacl_cluster(L)
    return long_range(pc, rtol=1e-6, beta=beta).ranks


def test_rank_growth_small():
    # acceptance 4 in miniature (fixed beta and tolerance): N grows 8x, ranks grow slowly
    r4, r8 = max(ranks_for(4, 0.5)), max(ranks_for(8, 0.5))
    assert r8 <= 2 * r4


@pytest.mark.slow
def test_rank_growth_logarithmic():
    # acceptance 4: L = 4 ... 16 (N = 64 ... 4096), ranks at L=16 at most twice those at L=4
    ranks = {L: max(ranks_for(L, 0.5)) for L in (4, 8, 12, 16)}
    assert ranks[16] <= 2 * ranks[4]


def _adk_path():
    if importlib.util.find_spec("MDAnalysisTests") is None:
        return None
    from MDAnalysisTests.datafiles import PQR

    return PQR


@pytest.mark.slow
@pytest.mark.skipif(_adk_path() is None, reason="MDAnalysisTests (adk_open.pqr) not installed")
def test_adk_long_range_accuracy_and_ranks():
    # acceptance 3 (accuracy and ranks; the build time is in the benchmark)
    from tensorrom.io import read_pqr

    mol = read_pqr(_adk_path())
    assert mol.n == 3341
    split = RangeSplit.choose(Box.bounding(mol.coords), 1e-6, n_particles=mol.n)
    ct = long_range(mol, split)
    assert max(ct.ranks) <= 60
    rng = np.random.default_rng(0)
    pts = split.box.from_reference(rng.uniform(-1, 1, size=(2000, 3)))
    r = np.linalg.norm(pts[:, None] - mol.coords[None], axis=-1)
    ref = (erf(split.beta * r) / r) @ mol["charge"]
    assert np.max(np.abs(ct(pts) - ref)) / np.max(np.abs(ref)) <= 1e-6


def test_kcal_constant():
    assert COULOMB_KCAL == pytest.approx(332.0637)


# -- bad input -----------------------------------------------------------------------------
def test_particles_not_a_pointcloud():
    with pytest.raises(TypeError, match="particles"):
        coulomb(np.zeros((3, 3)), np.ones((1, 3)))


def test_particles_without_charge():
    with pytest.raises(ValueError, match="charge"):
        coulomb(PointCloud(np.zeros((2, 3))), np.ones((1, 3)))


def test_particles_2d():
    with pytest.raises(ValueError, match="3D"):
        coulomb(PointCloud(np.zeros((2, 2)), {"charge": [1.0, -1.0]}), np.ones((1, 2)))


def test_charges_length_mismatch():
    # the PointCloud constructor rejects it, naming the feature
    with pytest.raises(ValueError, match="charge"):
        PointCloud(np.zeros((3, 3)), {"charge": [1.0, 2.0]})


def test_nan_charges():
    with pytest.raises(ValueError, match="charge"):
        PointCloud(np.zeros((2, 3)), {"charge": [1.0, np.nan]})


def test_infinite_coordinates():
    with pytest.raises(ValueError, match="coords"):
        PointCloud(np.array([[0.0, 0.0, np.inf]]), {"charge": [1.0]})


def test_infinite_targets(nacl8):
    with pytest.raises(ValueError, match="targets"):
        coulomb(nacl8, np.array([[0.0, np.inf, 0.0]]))


@pytest.mark.parametrize("method", ["auto", "split", "direct"])
def test_target_on_a_particle(nacl8, method):
    with pytest.raises(ValueError, match="min_distance"):
        coulomb(nacl8, nacl8.coords[:2] + 1e-4, method=method)
    with pytest.raises(ValueError, match="min_distance"):
        field(nacl8, nacl8.coords[:2] + 1e-4, method=method)


@pytest.mark.parametrize("method", ["auto", "split", "direct"])
def test_coincident_particles_in_energy(method):
    pc = PointCloud(np.array([[0.0, 0, 0], [1.0, 0, 0], [0.0, 0, 0]]), {"charge": [1.0, -1, 1]})
    with pytest.raises(ValueError, match="coincident"):
        energy(pc, method=method)


def test_coincident_particles_in_direct_energy():
    pc = PointCloud(np.array([[0.0, 0, 0], [0.0, 0, 0]]), {"charge": [1.0, -1]})
    with pytest.raises(ValueError, match="coincident"):
        direct_energy(pc)


def test_energy_single_particle():
    with pytest.raises(ValueError, match="at least 2"):
        energy(PointCloud(np.zeros((1, 3)), {"charge": [1.0]}))


def test_split_and_options_together(nacl8):
    split = RangeSplit.choose(Box.bounding(nacl8.coords), 1e-6)
    with pytest.raises(ValueError, match="split"):
        long_range(nacl8, split, beta=0.4)


def test_grid_not_a_grid(nacl8):
    with pytest.raises(TypeError, match="grid"):
        coulomb_on_grid(nacl8, np.zeros((4, 4, 4)))


# -- command line --------------------------------------------------------------------------
def test_cli_potential_writes_field_and_figure(tmp_path):
    from tensorrom.cli import main
    from tensorrom.io import load_field

    pqr = tmp_path / "ion_pair.pqr"
    pqr.write_text(
        "ATOM      1  NA  NA      1       0.000   0.000   0.000  1.0000 1.0000\n"
        "ATOM      2  CL  CL      2       2.820   0.000   0.000 -1.0000 1.8000\n"
        "ATOM      3  NA  NA      3       0.000   2.820   0.000  1.0000 1.0000\n"
    )
    out = tmp_path / "out"
    rc = main(["potential", str(pqr), "--grid", "9", "--out", str(out), "--no-progress"])
    assert rc == 0
    f = load_field(out / "potential.h5")
    assert f.values.shape == (9, 9, 9)
    assert (out / "potential_slice.png").exists() and (out / "potential_slice.pdf").exists()
    pts = f.support.points()
    ref = direct_sum(PointCloud(np.array([[0, 0, 0], [2.82, 0, 0], [0, 2.82, 0.0]]),
                                {"charge": [1.0, -1.0, 1.0]}), pts, min_distance=0.0)
    # the CLI runs at rtol 1e-6; near-atom nodes make max |V| large, so compare relatively
    assert np.max(np.abs(f.values.reshape(-1) - ref)) / np.max(np.abs(ref)) <= 1e-6
    # --field: E on the grid as a 3-channel Field (auto: the direct field at this size)
    rc = main(["potential", str(pqr), "--grid", "9", "--out", str(out), "--no-progress",
               "--field"])
    assert rc == 0
    e = load_field(out / "field.h5")
    assert e.values.shape == (9, 9, 9, 3) and e.units == "e/Å²"
    e_ref = direct_field(PointCloud(np.array([[0, 0, 0], [2.82, 0, 0], [0, 2.82, 0.0]]),
                                    {"charge": [1.0, -1.0, 1.0]}), pts, min_distance=0.0)
    np.testing.assert_allclose(e.values.reshape(-1, 3), e_ref, rtol=1e-12, atol=1e-12)


def test_cli_potential_at_points(tmp_path, capsys):
    from tensorrom.cli import main

    pqr = tmp_path / "ion_pair.pqr"
    pqr.write_text(
        "ATOM      1  NA  NA      1       0.000   0.000   0.000  1.0000 1.0000\n"
        "ATOM      2  CL  CL      2       2.820   0.000   0.000 -1.0000 1.8000\n"
    )
    pts = np.array([[1.0, 1.0, 1.0], [5.0, -2.0, 0.5], [-3.0, 0.0, 4.0]])
    pc = PointCloud(np.array([[0, 0, 0], [2.82, 0, 0.0]]), {"charge": [1.0, -1.0]})
    ref = direct_sum(pc, pts)
    for name, write in (("p.csv", lambda f: np.savetxt(f, pts, delimiter=",")),
                        ("p.txt", lambda f: np.savetxt(f, pts)),
                        ("p.npy", lambda f: np.save(f, pts))):
        write(tmp_path / name)
        out = tmp_path / ("out_" + name.replace(".", "_"))
        rc = main(["potential", str(pqr), "--points", str(tmp_path / name), "--out", str(out)])
        assert rc == 0
        table = np.loadtxt(out / "potential_points.csv", delimiter=",", skiprows=1, ndmin=2)
        np.testing.assert_allclose(table[:, :3], pts, rtol=1e-9)
        # 2 atoms, 3 points: method="auto" takes the direct sum; written with 10 digits
        np.testing.assert_allclose(table[:, 3], ref, rtol=1e-9)
        np.testing.assert_allclose(table[:, 4], ref * COULOMB_KCAL, rtol=1e-9)
    assert "potential (direct)" in capsys.readouterr().out
    (tmp_path / "bad.txt").write_text("1 2\n3 4\n")
    assert main(["potential", str(pqr), "--points", str(tmp_path / "bad.txt"),
                 "--out", str(tmp_path)]) == 2
    assert "(M, 3)" in capsys.readouterr().err
    assert main(["potential", str(pqr), "--points", str(tmp_path / "none.npy"),
                 "--out", str(tmp_path)]) == 2
    # --field: E = -grad V at the points, against the direct field (auto: direct here)
    out = tmp_path / "with_field"
    assert main(["potential", str(pqr), "--points", str(tmp_path / "p.npy"), "--field",
                 "--out", str(out)]) == 0
    table = np.loadtxt(out / "potential_points.csv", delimiter=",", skiprows=1, ndmin=2)
    e_ref = direct_field(pc, pts)
    np.testing.assert_allclose(table[:, 5:8], e_ref, rtol=1e-9)  # 10 written digits
    np.testing.assert_allclose(table[:, 8:11], e_ref * COULOMB_KCAL, rtol=1e-9)
    assert "Ez_e_per_A2" in (out / "potential_points.csv").read_text().splitlines()[0]
    assert "field (direct)" in capsys.readouterr().out


def test_cli_potential_bad_grid(tmp_path, capsys):
    from tensorrom.cli import main

    pqr = tmp_path / "a.pqr"
    pqr.write_text("ATOM      1  NA  NA      1       0.000   0.000   0.000  1.0000 1.0000\n")
    assert main(["potential", str(pqr), "--grid", "1", "--out", str(tmp_path)]) == 2
    assert "--grid" in capsys.readouterr().err


def test_reuse_of_the_long_part():
    pc = nacl_cluster(4)
    split = RangeSplit.choose(Box.bounding(pc.coords).pad(1.0), 1e-6, n_particles=pc.n)
    ct = long_range(pc, split)
    t = targets_away_from(pc.coords, 50, 0.5, 0.5, seed=5)
    a = coulomb(pc, t, split=split, long_part=ct)
    b = coulomb(pc, t, split=split)
    # the same tensor either way: identical results
    np.testing.assert_array_equal(a, b)


def test_long_part_without_split():
    pc = nacl_cluster(2)
    split = RangeSplit.choose(Box.bounding(pc.coords), 1e-6)
    ct = long_range(pc, split)
    with pytest.raises(ValueError, match="long_part"):
        coulomb(pc, np.zeros((1, 3)), long_part=ct)


def test_all_charges_zero():
    pc = PointCloud(np.array([[0.0, 0, 0], [1.0, 0, 0]]), {"charge": [0.0, 0.0]})
    with pytest.raises(ValueError, match="zero"):
        long_range(pc)
