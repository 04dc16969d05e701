"""Short-range sums: cell list (Numba), grid kernel and JAX path against brute force."""

import numpy as np
import pytest
from scipy.special import erfc

from tensorrom.data import Box, PointCloud, TensorGrid
from tensorrom.potentials import (
    RangeSplit,
    short_range,
    short_range_field,
    short_range_on_grid,
)
from tensorrom.potentials._short_range import (
    ColumnList,
    short_field_polynomial,
    short_kernel_polynomial,
)


@pytest.fixture
def system(rng):
    coords = rng.uniform(-8.0, 8.0, size=(300, 3))
    charges = rng.choice([-1.0, 1.0], size=300) * rng.uniform(0.2, 1.0, size=300)
    pc = PointCloud(coords, {"charge": charges})
    split = RangeSplit.choose(Box([-10.0] * 3, [10.0] * 3), 1e-6, r_cut=4.0)
    return pc, split


def brute_field(pc, targets, split):
    # E = sum_j q_j d (erfc(beta r)/r + 2 beta/sqrt(pi) exp(-beta^2 r^2)) / r^2, r < r_cut
    d = targets[:, None, :] - pc.coords[None, :, :]
    r = np.linalg.norm(d, axis=-1)
    b = split.beta
    g = (erfc(b * r) / r + 2 * b / np.sqrt(np.pi) * np.exp(-b * b * r * r)) / r ** 2
    g = np.where(r < split.r_cut, g, 0.0) * pc["charge"]
    return np.einsum("mn,mnk->mk", g, d)


def brute(pc, targets, split):
    d = np.linalg.norm(targets[:, None, :] - pc.coords[None, :, :], axis=-1)
    k = np.where(d < split.r_cut, erfc(split.beta * np.maximum(d, 1e-300)) / d, 0.0)
    return k @ pc["charge"]


@pytest.mark.parametrize("kind", ["potential", "field"])
@pytest.mark.parametrize("rtol", [1e-2, 1e-6, 1e-10, 1e-12])
def test_short_polynomial_accuracy(rtol, kind):
    # potential: erf(beta r)/r as a polynomial in y = 2 r^2/r_c^2 - 1 on [0, r_cut], checked
    # through 1/r - poly = erfc(beta r)/r; field: f(s) = 2 h'(s), h(s) = erf(beta sqrt s)/sqrt
    # s, checked through the exact field kernel (erfc(br)/r + 2b/sqrt(pi) e^{-b^2r^2})/r^2 =
    # 1/r^3 + f(r^2). r_cut from the split rule erfc(beta r_cut) = rtol/4; requested
    # accuracy tol times the function's maximum (2b/sqrt(pi), 4b^3/(3 sqrt(pi))), checked on a
    # grid 10x denser than the fit's. 1.5 x tol: the fit was verified on 4001 points only;
    # the subtraction of 1/r (1/r^3) cancels to ~eps/r (eps/r^3) = 2e-13 (2e-7) absolute at
    # r = 1e-3
    beta = 0.37
    split = RangeSplit.choose(Box([-10.0] * 3, [10.0] * 3), rtol, beta=beta)
    tol = max(1e-3 * rtol, 1e-13)
    r = np.linspace(1e-3, split.r_cut, 40001)
    y = 2.0 * r * r / split.r_cut ** 2 - 1.0
    if kind == "potential":
        c = short_kernel_polynomial(beta, split.r_cut, tol)
        err = 1.0 / r - np.polynomial.polynomial.polyval(y, c) - erfc(beta * r) / r
        bound = 1.5 * tol * 2.0 * beta / np.sqrt(np.pi) + 1e-12
    else:
        c = short_field_polynomial(beta, split.r_cut, tol)
        exact = (erfc(beta * r) / r + 2 * beta / np.sqrt(np.pi) * np.exp(-(beta * r) ** 2)) / r ** 2
        err = 1.0 / r ** 3 + np.polynomial.polynomial.polyval(y, c) - exact
        bound = 1.5 * tol * 4.0 * beta ** 3 / (3.0 * np.sqrt(np.pi)) + 1e-6
    assert np.max(np.abs(err)) <= bound


@pytest.mark.parametrize("layout", ["scattered", "dense cluster", "far and sparse"])
def test_short_field_matches_brute_force(system, rng, layout):
    pc, split = system
    targets = {
        "scattered": rng.uniform(-9.0, 9.0, size=(400, 3)),
        "dense cluster": rng.uniform(-0.5, 0.5, size=(2000, 3)) + 2.0,
        "far and sparse": rng.uniform(-14.0, 14.0, size=(40, 3)),
    }[layout]
    got = short_range_field(pc, targets, split, min_distance=0.0)
    # polynomial error <= 1.5 tol fmax per unit distance (tol = 1e-9, fmax = 4 b^3/(3 sqrt
    # pi) = 0.57 /Å^3 for beta = 0.91), times |d| < r_cut = 4 Å and sum |q| < 300: 1e-6
    np.testing.assert_allclose(got, brute_field(pc, targets, split), rtol=0, atol=1e-6)


def test_column_list_sorts_each_column_by_z(rng):
    coords = rng.normal(size=(2000, 3)) * 4
    cl = ColumnList(coords, 1.5)
    assert np.array_equal(np.sort(cl.order), np.arange(2000))
    assert cl.start[-1] == 2000 and cl.start.size == np.prod(cl.shape) + 1
    col = np.minimum(((coords[:, :2] - cl.lower) / cl.width).astype(int), cl.shape - 1)
    flat = col[:, 0] * cl.shape[1] + col[:, 1]
    for c in range(cl.start.size - 1):
        members = cl.order[cl.start[c]:cl.start[c + 1]]
        assert np.all(flat[members] == c)
        assert np.all(np.diff(coords[members, 2]) >= 0.0)


@pytest.mark.parametrize("backend", ["numba", "jax"])
@pytest.mark.parametrize("layout", ["dense cluster", "far and sparse", "flat sheet", "one",
                                    "line along z", "huge spread", "nothing in reach"])
def test_short_range_target_layouts(system, rng, layout, backend):
    # the target bins adapt to the targets' density and extent (see _short_numba): clustered
    # targets (bins at their smallest edge), a few targets mostly outside the particles'
    # columns, a flat sheet (zero extent along z), a single target, a line of targets in
    # one column, targets 10^12 Å apart (bin indices far beyond a flat int64 key); every case
    # must agree with brute force
    pc, split = system
    targets = {
        "dense cluster": rng.uniform(-0.5, 0.5, size=(3000, 3)) + 2.0,
        "far and sparse": rng.uniform(-14.0, 14.0, size=(40, 3)),
        "flat sheet": np.c_[rng.uniform(-9.0, 9.0, size=(500, 2)), np.full(500, 0.3)],
        "one": np.array([[0.1, -0.2, 0.3]]),
        "line along z": np.c_[np.full(300, 0.2), np.full(300, -0.1), np.linspace(-9, 9, 300)],
        "huge spread": np.r_[rng.uniform(-9.0, 9.0, size=(100, 3)), [[1e12, -1e12, 5e11]]],
        "nothing in reach": rng.uniform(30.0, 40.0, size=(20, 3)),
    }[layout]
    got = np.asarray(short_range(pc, targets, split, min_distance=0.0, backend=backend))
    # as in test_short_range_matches_brute_force
    np.testing.assert_allclose(got, brute(pc, targets, split), rtol=0, atol=2e-7)


def test_short_range_particles_in_one_column(rng):
    # all particles in a thin vertical needle: one xy-column, z-windows do all the pruning
    coords = np.c_[rng.uniform(0, 0.1, size=(400, 2)), rng.uniform(-20.0, 20.0, size=400)]
    pc = PointCloud(coords, {"charge": rng.choice([-1.0, 1.0], size=400)})
    split = RangeSplit.choose(Box([-5.0, -5.0, -25.0], [5.0, 5.0, 25.0]), 1e-6, r_cut=4.0)
    targets = rng.uniform([-5, -5, -25], [5, 5, 25], size=(1000, 3))
    got = short_range(pc, targets, split, min_distance=0.0)
    np.testing.assert_allclose(got, brute(pc, targets, split), rtol=0, atol=2e-7)


def test_too_close_message_names_the_distance(system):
    # the kernels count the particles closer than min_distance; the distance in the message
    # is the exact nearest one (k-d tree), for the first offending target
    pc, split = system
    t = np.array([[20.0, 20.0, 20.0], pc.coords[5] + [0.0, 3e-4, 4e-4]])
    for fn in (short_range, short_range_field):
        with pytest.raises(ValueError, match=r"target 1 lies 0\.0005 Å"):
            fn(pc, t, split)
    # a target on a particle with min_distance=0 raises nothing, and that particle's
    # term is skipped, as with exclude_self (same kernel and pairs: equal to rounding)
    on = short_range(pc, pc.coords, split, min_distance=0.0)
    np.testing.assert_allclose(on, short_range(pc, pc.coords, split, exclude_self=True),
                               rtol=0, atol=1e-12)


def test_self_exclusion_finds_coincident_pairs(system):
    pc, split = system
    coords = np.vstack([pc.coords, pc.coords[7]])
    twin = PointCloud(coords, {"charge": np.r_[pc["charge"], 1.0]})
    with pytest.raises(ValueError, match="particle 7 lies 0 Å|particle 300 lies 0 Å"):
        short_range(twin, coords, split, exclude_self=True)


def test_short_range_matches_brute_force(system, rng):
    pc, split = system
    targets = rng.uniform(-9.0, 9.0, size=(400, 3))
    got = short_range(pc, targets, split, min_distance=0.0)
    want = brute(pc, targets, split)
    # kernel error <= 1e-3 rtol * 2 beta/sqrt(pi) ~ 8e-10 per pair, times sum_j |q_j| (< 300)
    np.testing.assert_allclose(got, want, rtol=0, atol=2e-7)


def test_grid_kernel_matches_point_kernel(system):
    pc, split = system
    grid = TensorGrid.uniform(Box([-9.0, -9.0, -9.0], [9.0, 8.0, 9.5]), (11, 13, 12))
    on_grid = short_range_on_grid(pc, grid, split, min_distance=0.0)
    at_points = short_range(pc, grid.points(), split, min_distance=0.0)
    # same polynomial kernel, same pairs: identical up to summation order
    np.testing.assert_allclose(on_grid.reshape(-1), at_points, rtol=0, atol=1e-12)


def test_grid_kernel_nonuniform_axes_and_node_on_particle(system):
    # non-uniform z-axis (node ranges by search, not by the spacing) and a node exactly on a
    # particle with min_distance=0 (that particle's term is skipped there, as at points)
    pc, split = system
    z = np.sort(np.concatenate([np.cos(np.linspace(0, np.pi, 13)) * 9.0, [pc.coords[0, 2]]]))
    grid = TensorGrid([np.linspace(-9, 9, 10), np.linspace(-9, 8, 11), z])
    coords = pc.coords.copy()
    coords[0, :2] = grid.axes[0][4], grid.axes[1][5]  # particle 0 now sits on a node
    pc2 = PointCloud(coords, {"charge": pc["charge"]})
    on_grid = short_range_on_grid(pc2, grid, split, min_distance=0.0)
    at_points = short_range(pc2, grid.points(), split, min_distance=0.0)
    assert np.all(np.isfinite(on_grid))
    # same polynomial kernel, same pairs: identical up to summation order
    np.testing.assert_allclose(on_grid.reshape(-1), at_points, rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="min_distance"):
        short_range_on_grid(pc2, grid, split)


def test_jax_path_agrees_with_numba(system, rng):
    pc, split = system
    targets = rng.uniform(-9.0, 9.0, size=(300, 3))
    got = np.asarray(short_range(pc, targets, split, backend="jax", min_distance=0.0))
    want = brute(pc, targets, split)
    # JAX uses the exact erfc: agreement to float64 rounding of ~100-term sums
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-11)


def test_self_exclusion(system):
    pc, split = system
    got = short_range(pc, pc.coords, split, exclude_self=True)
    d = np.linalg.norm(pc.coords[:, None] - pc.coords[None], axis=-1)
    np.fill_diagonal(d, np.inf)
    want = np.where(d < split.r_cut, erfc(split.beta * d) / d, 0.0) @ pc["charge"]
    np.testing.assert_allclose(got, want, rtol=0, atol=2e-7)
    jx = np.asarray(short_range(pc, pc.coords, split, exclude_self=True, backend="jax"))
    np.testing.assert_allclose(jx, want, rtol=0, atol=1e-11)


def test_short_field_is_minus_gradient(system, rng):
    pc, split = system
    targets = rng.uniform(-6.0, 6.0, size=(20, 3))
    e = short_range_field(pc, targets, split)
    h = 1e-5
    fd = np.empty_like(e)
    for k in range(3):
        dp = targets.copy()
        dm = targets.copy()
        dp[:, k] += h
        dm[:, k] -= h
        fd[:, k] = -(brute(pc, dp, split) - brute(pc, dm, split)) / (2 * h)
    # central differences: O(h^2 V''') ~ 1e-10 * (1/r^4 ~ 1e3 near particles) plus
    # cancellation eps * V / h ~ 1e-16 * 1e2 / 1e-5; 1e-5 covers both
    np.testing.assert_allclose(e, fd, rtol=0, atol=1e-5)


def test_target_too_close(system):
    pc, split = system
    with pytest.raises(ValueError, match="min_distance"):
        short_range(pc, pc.coords[:3] + 1e-5, split)


def test_target_too_close_jax(system):
    pc, split = system
    with pytest.raises(ValueError, match="min_distance"):
        short_range(pc, pc.coords[:3] + 1e-5, split, backend="jax")


def test_grid_node_on_a_particle(system):
    pc, split = system
    grid = TensorGrid([np.array([pc.coords[0, 0]]), np.array([pc.coords[0, 1]]),
                       np.array([pc.coords[0, 2], pc.coords[0, 2] + 1])])
    with pytest.raises(ValueError, match="min_distance"):
        short_range_on_grid(pc, grid, split)


def test_nan_targets(system):
    pc, split = system
    with pytest.raises(ValueError, match="targets"):
        short_range(pc, np.array([[0.0, np.nan, 0.0]]), split)


def test_targets_wrong_shape(system):
    pc, split = system
    with pytest.raises(ValueError, match="targets"):
        short_range(pc, np.zeros((4, 2)), split)


def test_unknown_backend(system):
    pc, split = system
    with pytest.raises(ValueError, match="backend"):
        short_range(pc, np.zeros((1, 3)), split, backend="cuda")


def test_split_wrong_type(system):
    pc, _ = system
    with pytest.raises(TypeError, match="split"):
        short_range(pc, np.zeros((1, 3)), 0.5)


def test_exclude_self_needs_same_count(system):
    pc, split = system
    with pytest.raises(ValueError, match="exclude_self"):
        short_range(pc, np.zeros((2, 3)) + 20, split, exclude_self=True)


@pytest.mark.parametrize("seed", range(12))
def test_short_range_random_configurations(seed):
    # random sizes, cutoffs and tolerances on awkward particle layouts (a flat sheet, a
    # lattice with ties in z and targets on half-lattice planes, clusters, a line, a thin
    # slab): potential and field against brute force; the polynomial error per pair is
    # <= 1.5e-3 rtol of the kernel's maximum (2e-3 allowed), summed over |q|
    rng = np.random.default_rng(1000 + seed)
    n, m, big = int(rng.integers(2, 300)), int(rng.integers(1, 300)), rng.uniform(2, 30)
    kind = seed % 6
    x = {0: lambda: rng.uniform(-big, big, (n, 3)),
         1: lambda: np.c_[rng.uniform(-big, big, (n, 2)), np.full(n, 0.5)],
         2: lambda: np.unique(np.round(rng.uniform(-big, big, (n, 3))), axis=0),
         3: lambda: rng.normal(size=(n, 3)) * rng.uniform(0.1, 3),
         4: lambda: np.c_[rng.uniform(-big, big, n), np.zeros((n, 2))],
         5: lambda: rng.uniform(-big, big, (n, 3)) * np.array([1, 0.01, 1])}[kind]()
    q = rng.uniform(-1, 1, len(x))
    pc = PointCloud(x, {"charge": q})
    r_cut = float(rng.uniform(0.5, 15))
    lo, hi = x.min(0) - r_cut, x.max(0) + r_cut
    split = RangeSplit.choose(Box(lo - 1, hi + 1), float(rng.choice([1e-4, 1e-6, 1e-9])),
                              r_cut=r_cut)
    t = rng.uniform(lo, hi, (m, 3))
    if kind == 2:
        t = np.round(t * 2) / 2 + 0.25
    d = np.linalg.norm(t[:, None] - x[None], axis=-1)
    t = t[d.min(axis=1) > 1e-3]
    kmax = 2 * split.beta / np.sqrt(np.pi)
    got = short_range(pc, t, split)
    assert np.max(np.abs(got - brute(pc, t, split)), initial=0.0) \
        <= 2e-3 * split.rtol * kmax * np.abs(q).sum() + 1e-12
    fmax = 4 * split.beta ** 3 / (3 * np.sqrt(np.pi))
    e = short_range_field(pc, t, split)
    assert np.max(np.abs(e - brute_field(pc, t, split)), initial=0.0) \
        <= 2e-3 * split.rtol * fmax * split.r_cut * np.abs(q).sum() + 1e-10
