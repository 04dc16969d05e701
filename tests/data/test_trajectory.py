import numpy as np
import pytest

from tensorrom.data import Box, Trajectory


def _traj():
    t = np.arange(6)[:, None, None] * 0.1
    x0 = np.array([[0.1, 0.2], [0.5, 0.5], [0.3, 0.8]])
    pos = x0[None] + np.array([0.5, 0.0]) * t + np.array([0.0, -0.5]) * t**2 / 2
    pos = pos + np.array([0.0, 0.1])
    return Trajectory(pos, dt=0.1, box=Box([0, 0], [1, 1]), particle_type=np.array([0, 1, 1]))


def test_finite_differences_of_constant_acceleration():
    tr = _traj()
    assert (tr.n_frames, tr.n_particles, tr.dim) == (6, 3, 2)
    # x(t) quadratic: the second difference is exact, -0.5 in y (1e-12 for O(1) values / dt^2)
    np.testing.assert_allclose(tr.accelerations()[..., 1], -0.5, atol=1e-12)
    np.testing.assert_allclose(tr.accelerations()[..., 0], 0.0, atol=1e-12)
    np.testing.assert_allclose(tr.velocities()[..., 0], 0.5, atol=1e-13)
    frame = tr.frame(-1)
    assert frame.n == 3 and list(frame["particle_type"]) == [0, 1, 1]


def test_trajectory_rejects_positions_outside_box():
    with pytest.raises(ValueError, match="positions has 1 point.*outside"):
        Trajectory(np.array([[[0.5, 0.5], [1.5, 0.5]]]), 0.1, Box([0, 0], [1, 1]))


def test_trajectory_rejects_non_positive_dt():
    with pytest.raises(ValueError, match="dt must be > 0"):
        Trajectory(np.zeros((2, 1, 2)), 0.0, Box([0, 0], [1, 1]))


def test_trajectory_rejects_wrong_rank():
    with pytest.raises(ValueError, match="positions must have 3 dimensions"):
        Trajectory(np.zeros((2, 2)), 0.1, Box([0, 0], [1, 1]))


def test_trajectory_rejects_particle_type_length():
    with pytest.raises(ValueError, match="particle_type must have length 2"):
        Trajectory(np.zeros((2, 2, 2)), 0.1, Box([0, 0], [1, 1]), particle_type=np.zeros(3, int))


def test_trajectory_rejects_box_dimension():
    with pytest.raises(ValueError, match="box has dim 3"):
        Trajectory(np.zeros((2, 2, 2)), 0.1, Box([0, 0, 0], [1, 1, 1]))


def test_trajectory_rejects_nan():
    p = np.zeros((2, 2, 2))
    p[1, 0, 0] = np.nan
    with pytest.raises(ValueError, match="positions has 1 non-finite"):
        Trajectory(p, 0.1, Box([-1, -1], [1, 1]))
