"""Physics validation against experiments (slow): dam break and granular column collapse."""

import numpy as np
import pytest

from tensorrom.data import Box
from tensorrom.lagrangian import mpm

G = 9.81

# Martin, J. C. & Moyce, W. J. (1952), "Part IV. An experimental study of the collapse of
# liquid columns on a rigid horizontal plane", Phil. Trans. R. Soc. Lond. A 244(882), 312-324,
# doi:10.1098/rsta.1952.0006; Table 2, square column n^2 = 2 (width a = 2.25 in, height 2a):
# surge-front position Z = x / a against dimensionless time T = t sqrt(2 g / a).
MARTIN_MOYCE_T = np.array([0.41, 0.84, 1.19, 1.43, 1.63, 1.83, 1.98, 2.20, 2.32, 2.51])
MARTIN_MOYCE_Z = np.array([1.11, 1.22, 1.44, 1.67, 1.89, 2.11, 2.33, 2.56, 2.78, 3.00])


def dam_break_front(a=0.1, particles_per_a=32, n_frames=60):
    """Surge front Z(T) of a water column a x 2a in the corner of a slip-walled tank."""
    box = Box([0, 0], [5 * a, 2.5 * a])
    scene = mpm.Scene(box, [mpm.Block([0, 0], [a, 2 * a], "water")], spacing=a / particles_per_a)
    frame_dt = 0.05 / np.sqrt(2 * G / a)  # 0.05 in T
    traj = mpm.simulate(scene, n_frames, frame_dt=frame_dt)
    t_dimless = np.arange(n_frames) * frame_dt * np.sqrt(2 * G / a)
    front = np.asarray(traj.positions[:, :, 0]).max(axis=1) / a
    return t_dimless, front


@pytest.mark.slow
def test_dam_break_martin_moyce():
    # Acceptance 3: within 20 % of the measurements for T <= 2.5. The experiment's gate
    # needs a finite time to lift, so a simulation with an instantaneous release runs ahead
    # of the measured front (here by 4-17 %); 20 % is the acceptance band of the issue.
    t, z = dam_break_front()
    z_at = np.interp(MARTIN_MOYCE_T, t, z)
    rel = np.abs(z_at - MARTIN_MOYCE_Z) / MARTIN_MOYCE_Z
    print("dam break Z(T):", np.round(z_at, 3), "relative error:", np.round(rel, 3))
    assert np.all(rel < 0.20)


def sand_collapse(friction_angle=35.0, width=0.2, height=0.2, n_frames=121):
    """Half of a granular column (at a wall) collapsing on a rough (sticky) floor."""
    h = 1 / 200
    box = Box([0, 0], [0.8, 0.4])
    scene = mpm.Scene(box, [mpm.Block([0, 0], [width, height],
                                      mpm.sand(friction_angle=friction_angle))],
                      spacing=h, walls="sticky")
    traj = mpm.simulate(scene, n_frames, frame_dt=1 / 100)
    v = np.asarray(traj.velocities(), dtype=np.float64)
    kinetic = (v**2).sum(axis=(1, 2))  # equal particle masses: proportional to the energy
    x = np.asarray(traj.positions[-1], dtype=np.float64)
    # free surface: highest particle per bin of two spacings
    edges = np.arange(0.0, x[:, 0].max() + 2 * h, 2 * h)
    which = np.digitize(x[:, 0], edges) - 1
    top = np.array([x[which == i, 1].max() if np.any(which == i) else 0.0
                    for i in range(len(edges) - 1)])
    centres = 0.5 * (edges[1:] + edges[:-1])
    hmax = top.max()
    band = (top > 0.1 * hmax) & (top < 0.9 * hmax)  # the slope between foot and summit
    slope = np.polyfit(centres[band], top[band], 1)[0]
    return kinetic, np.degrees(np.arctan(-slope)), x


@pytest.mark.slow
def test_sand_column_comes_to_rest_at_repose_angle():
    # Acceptance 4: at rest (kinetic energy < 1 % of its peak) with a slope of 20-40 degrees.
    kinetic, angle, x = sand_collapse()
    print(f"sand collapse: final/peak kinetic energy {kinetic[-1] / kinetic.max():.2e}, "
          f"slope {angle:.1f} deg, runout {x[:, 0].max():.3f} m")
    assert kinetic.argmax() > 0 and kinetic[-1] < 0.01 * kinetic.max()
    assert 20.0 <= angle <= 40.0
    assert x[:, 0].max() > 0.25  # it did collapse and spread
