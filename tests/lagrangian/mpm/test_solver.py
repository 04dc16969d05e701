"""MLS-MPM core: conservation, containment, determinism, free fall, stability checks."""

import numpy as np
import pytest

from tensorrom.data import Box, Trajectory
from tensorrom.lagrangian import mpm
from tensorrom.lagrangian.mpm._solver import _grid_mass

BOX = Box([0, 0], [1, 1])


def _thrown(seed=0, **kw):
    bodies = [mpm.Block([0.1, 0.5], [0.3, 0.7], "water", velocity=[-4.0, 3.0]),
              mpm.Block([0.6, 0.1], [0.8, 0.3], "sand", velocity=[4.0, -2.0]),
              mpm.Block([0.4, 0.7], [0.5, 0.8], "jelly", velocity=[0.0, 4.0])]
    return mpm.Scene(BOX, bodies, spacing=1 / 32, jitter=0.5, velocity_noise=0.5, seed=seed, **kw)


@pytest.fixture(scope="module")
def thrown_traj():
    return mpm.simulate(_thrown(), 30, frame_dt=1 / 100)


def test_returns_trajectory(thrown_traj):
    t = thrown_traj
    assert isinstance(t, Trajectory)
    assert t.positions.shape == (30, _thrown().n_particles, 2)
    assert t.positions.dtype == np.float32  # float32 by default
    assert t.dt == pytest.approx(0.01)
    assert [m["name"] for m in t.metadata["materials"]] == ["water", "sand", "jelly"]
    assert t.metadata["substep_dt"] <= t.metadata["stable_dt"]


def test_particles_never_leave_box(thrown_traj):
    x = np.asarray(thrown_traj.positions)
    # the bodies hit the walls at 4 m/s: exact containment (clamping, not a tolerance)
    assert np.all(x >= 0.0) and np.all(x <= 1.0)
    assert x[-1, :, 0].min() < 0.05 and x[:, :, 1].max() > 0.95  # they did reach the walls


def test_total_mass_conserved_on_grid(thrown_traj):
    # Particle masses are fixed; the particle-to-grid transfer must hand the grid exactly the
    # total mass at every frame (partition of unity of the quadratic B-splines). float64
    # round-off over ~300 particles x 9 weights: 1e-12 relative.
    sc = _thrown()
    p = sc.particles()
    total = p.mass.sum()
    for k in (0, 29):
        p.positions = np.asarray(thrown_traj.positions[k], dtype=np.float64)
        assert _grid_mass(sc, p).sum() == pytest.approx(total, rel=1e-12)
    assert thrown_traj.metadata["total_mass"] == pytest.approx(total, rel=1e-15)


def test_same_seed_bit_identical(thrown_traj, assert_repeatable):
    again = mpm.simulate(_thrown(), 30, frame_dt=1 / 100)
    # bit-identical on the CPU; on a GPU without deterministic ops the float32 atomic P2G sums
    # reorder (1e-7 relative per substep), amplified by three colliding bodies over 300
    # substeps to 2.2e-6 m on an H200: 1e-4 m is 0.3 % of the 1/32 m particle spacing.
    assert_repeatable(again.positions, thrown_traj.positions, gpu_atol=1e-4)
    other = mpm.simulate(_thrown(seed=1), 30, frame_dt=1 / 100)
    assert not np.array_equal(np.asarray(other.positions), np.asarray(thrown_traj.positions))


def test_linear_momentum_conserved_float64():
    # No gravity, no wall contact: APIC transfers and the internal forces conserve linear
    # momentum exactly, so the centre of mass moves on the straight line x0 + P0 t / M.
    body = mpm.Sphere([0.5, 0.5], 0.12, "jelly")
    sc = mpm.Scene(BOX, [body], spacing=1 / 64, gravity=0.0, velocity_noise=0.5, jitter=0.8,
                   seed=2)
    p = sc.particles()
    t = mpm.simulate(sc, 11, frame_dt=1 / 200, dtype="float64")
    assert t.positions.dtype == np.float64
    m = p.mass[:, None]
    com = (np.asarray(t.positions) * m).sum(1) / m.sum()
    p0 = (p.velocities * m).sum(0) / m.sum()
    times = np.arange(11) / 200
    # float64 round-off accumulated over ~100 substeps: 1e-12 m
    np.testing.assert_allclose(com, com[0] + times[:, None] * p0, atol=1e-12)


def test_free_fall_float64():
    # Acceptance 2: an elastic block in free fall follows z0 - g t^2 / 2 before touching the
    # floor. Symplectic Euler gives z0 - g t (t + dt) / 2, a relative error dt / t; with
    # dt ~ 7e-4 s this is below 1 % for t >= 0.1 s, and below 1 % of the total drop always.
    g = 9.81
    sc = mpm.Scene(Box([0, 0], [0.5, 1.0]), [mpm.Block([0.2, 0.6], [0.3, 0.7], "jelly")],
                   spacing=1 / 160)
    n = 60
    t = mpm.simulate(sc, n, frame_dt=1 / 200, dtype="float64")
    times = np.arange(n) / 200
    z = np.asarray(t.positions[:, :, 1]).mean(1)
    drop, exact = z[0] - z, g * times**2 / 2
    assert np.asarray(t.positions[-1, :, 1]).min() > 0.1  # still in the air
    late = times >= 0.1
    assert np.max(np.abs(drop[late] - exact[late]) / exact[late]) < 0.01
    assert np.max(np.abs(drop - exact)) < 0.01 * exact[-1]


def test_3d_scene():
    box = Box([0, 0, 0], [1, 1, 1])
    bodies = [mpm.Sphere([0.5, 0.5, 0.3], 0.15, "sand", velocity=[2.0, 0.0, 0.0]),
              mpm.Block([0.2, 0.2, 0.1], [0.35, 0.35, 0.25], "plasticine")]
    sc = mpm.Scene(box, bodies, spacing=1 / 24)
    t = mpm.simulate(sc, 8, frame_dt=1 / 100)
    x = np.asarray(t.positions)
    assert x.shape == (8, sc.n_particles, 3)
    assert np.all(x >= 0) and np.all(x <= 1)
    # the sphere moved along +x at about 2 m/s over 0.07 s (elastic/plastic response and
    # discretisation smear the speed a little: 30 % band)
    sphere = np.asarray(t.particle_type) == 0
    dx = x[-1, sphere, 0].mean() - x[0, sphere, 0].mean()
    assert dx == pytest.approx(2.0 * 0.07, rel=0.3)


def test_dt_above_stable_limit_reports_limit():
    sc = mpm.Scene(BOX, [mpm.Block([0.4, 0.4], [0.6, 0.6], "jelly")], spacing=1 / 32)
    limit = mpm.stable_dt(sc)
    with pytest.raises(ValueError, match=f"stable limit {limit:.3e}"):
        mpm.simulate(sc, 3, substeps=1, frame_dt=1 / 30)


def test_nan_names_frame():
    sc = mpm.Scene(BOX, [mpm.Block([0.4, 0.4], [0.6, 0.6], "jelly")], spacing=1 / 16,
                   gravity=1e38)  # overflows float32 within two frames
    with pytest.raises(mpm.MPMDivergenceError, match=r"NaN/inf at frame \d"):
        mpm.simulate(sc, 4)


def _small():
    return mpm.Scene(BOX, [mpm.Block([0.4, 0.4], [0.6, 0.6], "jelly")], spacing=1 / 16)


def test_bad_n_frames():
    with pytest.raises(ValueError, match="n_frames"):
        mpm.simulate(_small(), 0)


def test_bad_substeps():
    with pytest.raises(ValueError, match="substeps"):
        mpm.simulate(_small(), 3, substeps=0)


def test_bad_frame_dt():
    with pytest.raises(ValueError, match="frame_dt"):
        mpm.simulate(_small(), 3, frame_dt=-0.1)


def test_bad_dtype():
    with pytest.raises(ValueError, match="dtype"):
        mpm.simulate(_small(), 3, dtype="float16")


def test_bad_scene():
    with pytest.raises(TypeError, match="scene"):
        mpm.simulate("sand", 3)


def test_particles_outside_box_at_start():
    sc = mpm.Scene(BOX, [mpm.PointBody([[0.5, 0.5], [1.5, 0.5]], "water")], spacing=1 / 16)
    with pytest.raises(ValueError, match="outside the box"):
        mpm.simulate(sc, 3)


def test_water_only_path_matches_general_path():
    # Water-only scenes skip the SVD (J = det F); with a far-away jelly speck the general
    # path runs. Same arithmetic up to the SVD round-off: 1e-12 m over 100 substeps.
    water = mpm.Block([0.0, 0.0], [0.3, 0.5], "water")
    speck = mpm.Block([0.9, 0.9], [0.95, 0.95], "jelly")
    kw = dict(spacing=1 / 32, gravity=[0.0, -9.81])
    a = mpm.simulate(mpm.Scene(BOX, [water], **kw), 11, substeps=10, frame_dt=1 / 50,
                     dtype="float64")
    b = mpm.simulate(mpm.Scene(BOX, [water, speck], **kw), 11, substeps=10, frame_dt=1 / 50,
                     dtype="float64")
    n = a.n_particles
    assert np.abs(np.asarray(a.positions[-1]) - np.asarray(a.positions[0])).max() > 0.05
    np.testing.assert_allclose(np.asarray(b.positions)[:, :n], np.asarray(a.positions),
                               atol=1e-12)


@pytest.mark.gpu
def test_gpu_matches_cpu():
    # The same jitted algorithm on the GPU and on the CPU, float64: only the reduction order
    # of the scatter differs, 1e-10 m after 100 substeps of a colliding two-material scene.
    import jax

    sc = _thrown()
    kw = dict(frame_dt=1 / 100, dtype="float64")
    gpu = mpm.simulate(sc, 11, **kw)
    with jax.default_device(jax.devices("cpu")[0]):
        cpu = mpm.simulate(sc, 11, **kw)
    np.testing.assert_allclose(np.asarray(gpu.positions), np.asarray(cpu.positions), atol=1e-10)
