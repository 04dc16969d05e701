"""Scene set-up: sampling, seeds, several materials and every bad-input case."""

import numpy as np
import pytest

from tensorrom.data import Box
from tensorrom.lagrangian import mpm

BOX = Box([0, 0], [1, 1])


def test_block_sampling_counts_and_volume():
    sc = mpm.Scene(BOX, [mpm.Block([0.1, 0.1], [0.3, 0.2], "sand")], spacing=0.01)
    p = sc.particles()
    assert p.positions.shape == (20 * 10, 2)
    # the particle volumes add up to the block's area (exact lattice fill)
    assert p.volume.sum() == pytest.approx(0.2 * 0.1, rel=1e-12)
    assert p.mass.sum() == pytest.approx(0.02 * mpm.sand().density, rel=1e-12)
    # lattice spacing 0.01 along both axes
    assert np.allclose(np.diff(np.unique(p.positions[:, 0].round(9))), 0.01)


def test_sphere_sampling():
    sc = mpm.Scene(BOX, [mpm.Sphere([0.5, 0.5], 0.2, "water")], spacing=0.005)
    p = sc.particles()
    assert np.all(np.linalg.norm(p.positions - 0.5, axis=1) <= 0.2)
    # lattice count approximates the disk area pi r^2 / h^2 (boundary error ~ perimeter / h)
    assert p.positions.shape[0] == pytest.approx(np.pi * 0.04 / 0.005**2, rel=0.02)


def test_several_materials_particle_type():
    bodies = [mpm.Block([0.1, 0.1], [0.2, 0.2], "sand"),
              mpm.Block([0.5, 0.1], [0.6, 0.2], "water"),
              mpm.Block([0.7, 0.1], [0.8, 0.2], "sand")]
    sc = mpm.Scene(BOX, bodies, spacing=0.02)
    p = sc.particles()
    assert [m.name for m in sc.materials] == ["sand", "water"]
    np.testing.assert_array_equal(np.bincount(p.particle_type), [50, 25])


def test_seed_gives_same_particles():
    body = [mpm.Block([0.1, 0.1], [0.3, 0.3], "jelly")]
    a = mpm.Scene(BOX, body, spacing=0.02, jitter=0.5, velocity_noise=1.0, seed=3).particles()
    b = mpm.Scene(BOX, body, spacing=0.02, jitter=0.5, velocity_noise=1.0, seed=3).particles()
    c = mpm.Scene(BOX, body, spacing=0.02, jitter=0.5, velocity_noise=1.0, seed=4).particles()
    np.testing.assert_array_equal(a.positions, b.positions)
    np.testing.assert_array_equal(a.velocities, b.velocities)
    assert not np.array_equal(a.positions, c.positions)
    # jitter stays within half a spacing of the lattice
    lattice = mpm.Scene(BOX, body, spacing=0.02).particles().positions
    assert np.max(np.abs(a.positions - lattice)) <= 0.5 * 0.5 * 0.02


def test_random_scene_exact_count_and_seed():
    a = mpm.random_scene("sand", n_particles=500, seed=7, cells=32)
    b = mpm.random_scene("sand", n_particles=500, seed=7, cells=32)
    pa, pb = a.particles(), b.particles()
    assert pa.positions.shape == (500, 2)
    np.testing.assert_array_equal(pa.positions, pb.positions)
    np.testing.assert_array_equal(pa.velocities, pb.velocities)
    assert mpm.random_scene("water", dim=3, n_particles=300, seed=1, cells=16).particles() \
        .positions.shape == (300, 3)


def test_particles_outside_box():
    sc = mpm.Scene(BOX, [mpm.Block([0.9, 0.1], [1.2, 0.3], "sand")], spacing=0.02)
    with pytest.raises(ValueError, match="outside the box"):
        sc.particles()


def test_bad_walls():
    with pytest.raises(ValueError, match="walls"):
        mpm.Scene(BOX, [mpm.Block([0.1, 0.1], [0.2, 0.2], "sand")], spacing=0.02, walls="open")


def test_bad_spacing():
    with pytest.raises(ValueError, match="spacing"):
        mpm.Scene(BOX, [mpm.Block([0.1, 0.1], [0.2, 0.2], "sand")], spacing=0.0)


def test_too_coarse_grid():
    with pytest.raises(ValueError, match="grid_spacing"):
        mpm.Scene(BOX, [mpm.Block([0.1, 0.1], [0.2, 0.2], "sand")], spacing=0.2)


def test_bad_jitter():
    with pytest.raises(ValueError, match="jitter"):
        mpm.Scene(BOX, [mpm.Block([0.1, 0.1], [0.2, 0.2], "sand")], spacing=0.02, jitter=2.0)


def test_bad_seed():
    with pytest.raises(ValueError, match="seed"):
        mpm.Scene(BOX, [mpm.Block([0.1, 0.1], [0.2, 0.2], "sand")], spacing=0.02, seed=-1)


def test_no_bodies():
    with pytest.raises(ValueError, match="bodies"):
        mpm.Scene(BOX, [], spacing=0.02)


def test_body_wrong_type():
    with pytest.raises(TypeError, match="bodies"):
        mpm.Scene(BOX, ["sand"], spacing=0.02)


def test_unknown_material_in_body():
    with pytest.raises(ValueError, match="material"):
        mpm.Block([0.1, 0.1], [0.2, 0.2], "lava")


def test_body_dim_mismatch():
    sc = mpm.Scene(BOX, [mpm.Sphere([0.5, 0.5, 0.5], 0.1, "sand")], spacing=0.02)
    with pytest.raises(ValueError, match="dim"):
        sc.particles()


def test_bad_gravity_length():
    with pytest.raises(ValueError, match="gravity"):
        mpm.Scene(BOX, [mpm.Block([0.1, 0.1], [0.2, 0.2], "sand")], spacing=0.02,
                  gravity=[0.0, 0.0, -9.81])


def test_bad_box_dim():
    with pytest.raises(ValueError, match="box"):
        mpm.Scene(Box([0], [1]), [mpm.Block([0.1], [0.2], "sand")], spacing=0.02)


def test_random_scene_bad_count():
    with pytest.raises(ValueError, match="n_particles"):
        mpm.random_scene("sand", n_particles=0)


def test_random_scene_too_many_particles():
    with pytest.raises(ValueError, match="n_particles"):
        mpm.random_scene("sand", n_particles=10**6, cells=16)
