"""Acceptance item 3 of GIOROM on the CPU (slow): held-out MPM sand rollouts of GNS and GIOROM
trained with the same budget, against the constant-velocity baseline."""

import jax
import numpy as np
import pytest

from tensorrom.data import Box, farthest_point_sample
from tensorrom.lagrangian import (
    GIOROM,
    GNS,
    Normalisation,
    RadiusGraphBuilder,
    constant_velocity_rollout,
    rollout,
    rollout_mse,
    split_trajectories,
    train_stepper,
)


@pytest.mark.slow
def test_held_out_sand_rollouts_learn_free_fall_and_beat_constant_velocity(drop_blocks):
    # examples/giorom_sand.py at --resolution 40 (blocks of 10 x 10 particles dropped at
    # random places with random velocities into the unit box, 160 frames of 1/150 s), smaller:
    # 32 flows, 4 held out, 1500 steps x batch 2 for each model (the example: 64 flows, 3000
    # steps). Both models: Huber loss, Adam from 3e-4, wall features reaching 0.25. Without
    # these the steppers had not learnt free fall after 2500 steps and stayed at 0.6-0.8x the
    # constant-velocity MSE-20 after 4000 (docs/log/giorom.md, tenth session). Item 3 asks for at
    # most 0.1x on a held-out flow for both models, GIOROM at most 2x GNS. Flows that land
    # within the 20 steps are at 0.1-1.2x in the example (64 flows, 3000 steps), so item 3 is
    # asserted only on flows in free flight for the 20 steps; all four held-out flows here
    # are. Measured here: GNS 0.020 / 0.060 / 0.0097 / 0.032, GIOROM 0.0017 / 0.012 / 0.0035 /
    # 0.0071 (a first run, with the Huber loss written out by hand instead of optax's, which
    # differs in float32 rounding: GNS up to 0.071, GIOROM up to 0.042; the example, 3000
    # steps: 0.004-0.038 and 0.001-0.014 on its free-flight flows).
    # Asserted:
    #   - flows in free flight for the 20 steps: both models at most 0.1x constant velocity;
    #   - summed over the four held-out flows: GIOROM at most 2x the MSE-20 of GNS and both
    #     at most 0.5x constant velocity.
    # GIOROM is scored on its own 25 % farthest-point particles (against constant velocity on
    # the same particles). About 5 minutes on 2 cores.
    rng = np.random.default_rng(0)
    spacing, frame_dt, box = 1.0 / 40, 1.0 / 150, Box([0, 0], [1, 1])
    pos = drop_blocks(rng, 32, spacing)
    train_ids, test_ids = split_trajectories(len(pos), 4, seed=0)
    train = pos[train_ids]
    N, H, R = pos.shape[2], 5, 2.5 * spacing
    n_sub, R_sub = N // 4, 2 * R
    norm = Normalisation.from_positions(train)
    key = jax.random.PRNGKey(0)
    gns = GNS(2, box, R, normalisation=norm, n_history=H, latent=64, n_message_passing=5,
              wall_distance=0.25, key=key)
    gio = GIOROM(2, box, R_sub, normalisation=norm, n_history=H, latent=64, grid_shape=32,
                 grid_channels=32, modes=8, n_fourier=3, n_pre=1, n_post=1, wall_distance=0.25,
                 key=jax.random.fold_in(key, 1))
    frames = train.reshape(-1, N, 2)[::16]
    sub_frames = np.stack([f[rng.choice(N, n_sub, replace=False)] for f in frames])
    b_full = RadiusGraphBuilder.from_data(frames, R, box, margin=2.0)
    b_sub = RadiusGraphBuilder.from_data(sub_frames, R_sub, box, margin=2.5)
    kw = dict(steps=1500, batch_size=2, key=jax.random.fold_in(key, 7), loss="huber",
              learning_rate=3e-4)
    gns, _ = train_stepper(gns, train, builder=b_full, **kw)
    gio, _ = train_stepper(gio, train, builder=b_sub, subset_size=n_sub, subset_method="fps",
                           **kw)
    b_full_roll = RadiusGraphBuilder.from_data(frames, R, box, margin=6.0)
    b_sub_roll = RadiusGraphBuilder.from_data(sub_frames, R_sub, box, margin=6.0)
    g_frame = 9.81 * frame_dt**2
    mse, free = [], []
    for k in test_ids:
        x = pos[k]
        s = farthest_point_sample(x[0], n_sub, seed=0)
        acc = x[2: H + 21] - 2 * x[1: H + 20] + x[: H + 19]
        free.append(np.max(np.abs(acc[..., 1] + g_frame)) < 0.05 * g_frame)
        truth = x[H + 1: H + 21]
        mse.append((rollout_mse(constant_velocity_rollout(x[: H + 1], 20), truth),
                    rollout_mse(rollout(gns, x[: H + 1], 20, builder=b_full_roll), truth),
                    rollout_mse(constant_velocity_rollout(x[: H + 1, s], 20), truth[:, s]),
                    rollout_mse(rollout(gio, x[: H + 1, s], 20, builder=b_sub_roll),
                                truth[:, s])))
    mse, free = np.array(mse), np.array(free)
    ratios = np.stack([mse[:, 1] / mse[:, 0], mse[:, 3] / mse[:, 2]], axis=1)
    print("held-out flows", test_ids.tolist(), "free flight", free.tolist(),
          "GNS, GIOROM / const-vel:", np.round(ratios, 4).tolist())
    assert free.any(), "no held-out flow stays in free flight for 20 steps: change the seed"
    assert np.all(ratios[free] <= 0.1)
    # GIOROM's sparse-set MSE-20 brought to the scale of the full set through its ratio
    gio_full_scale = ratios[:, 1] * mse[:, 0]
    assert gio_full_scale.sum() <= 2 * mse[:, 1].sum()
    assert mse[:, 1].sum() <= 0.5 * mse[:, 0].sum()
    assert mse[:, 3].sum() <= 0.5 * mse[:, 2].sum()
