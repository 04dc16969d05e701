"""Fixtures of the particle tests."""

import numpy as np
import pytest


@pytest.fixture
def drop_blocks():
    """``drop_blocks(rng, n, spacing)``: (n, 160, N, 2) float32 positions of square MPM sand
    blocks of side 0.25 dropped into the unit box, each at a random place with a random
    velocity (drawn from ``rng``, which the caller may go on using), 160 frames of 1/150 s;
    the data of examples/giorom_sand.py and examples/giorom_reconstruction.py."""
    from tensorrom.data import Box
    from tensorrom.lagrangian import mpm

    def make(rng, n, spacing, *, frame_dt=1.0 / 150, side=0.25):
        pos = []
        for i in range(n):
            lo = rng.uniform([0.05, 0.02], [1 - side - 0.05, 0.45])
            vel = rng.uniform(-1.0, 1.0, 2)
            scene = mpm.Scene(Box([0, 0], [1, 1]),
                              [mpm.Block(lo, lo + side, "sand", velocity=vel)],
                              spacing=spacing, seed=i)
            substeps = 2 * int(np.ceil(frame_dt / mpm.stable_dt(scene)))
            pos.append(np.asarray(mpm.simulate(scene, n_frames=160, frame_dt=frame_dt,
                                               substeps=substeps).positions, np.float32))
        return np.stack(pos)

    return make
