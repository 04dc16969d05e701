"""Acceptance runs of issue 8 on the Burgers benchmark (slow: hours on a 2-core CPU)."""

import jax
import numpy as np
import pytest

from tensorrom.rom import phirom, solvers

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def trained():
    solver = solvers.Burgers1D()
    train = solvers.burgers_dataset("train").window(0, 100)
    model = phirom.PhiROM.from_snapshots(solver, train, latent_size=4, decoder_width=32,
                                         decoder_depth=4, dynamics_width=64,
                                         dynamics_depth=4, dtype="float32",
                                         key=jax.random.PRNGKey(0))
    cfg = phirom.TrainConfig(steps=5000, batch_size=800, gamma=0.1)
    return solver, phirom.train(model, solver, train, cfg).model


def _errors(model, solver, data, frac=1.0):
    pts = solver.points()
    obs = np.arange(len(pts))
    if frac < 1:
        obs = np.sort(np.random.default_rng(0).choice(len(pts), int(frac * len(pts)), False))
    z0 = phirom.invert(model, data.values[:, 0, obs], pts[obs], steps=1000)
    u = np.asarray(phirom.forecast(model, z0, data.mus, data.times, pts))[..., 0]
    e = phirom.relative_l2(u, data.values)
    return e[:, :100].mean(), e[:, 100:].mean()


def test_burgers_unseen_mu_after_5000_steps(trained):
    solver, model = trained
    e1, e2 = _errors(model, solver, solvers.burgers_dataset("test"))
    # acceptance item 4 of issue 8 (the authors' code: 2.16 % and 2.77 % after 5001 steps).
    # With the default 2000-step ramp, seed 0 (this test) measured 2.16 % / 2.49 % and seed 1
    # 2.10 / 2.91 %; seeds 2, 3 and 4 miss (2.24 / 2.87 %, 2.16 / 3.12 %, 2.04 / 3.34 %;
    # docs/log/phirom.md), so passing here does not settle the item.
    assert e1 <= 0.022 and e2 <= 0.030, (e1, e2)


@pytest.mark.xfail(strict=True, reason="issue 8 item 5 is not met in general: with the default "
                   "2000-step ramp this seed's inversion from these 12 nodes measured 5.3x")
def test_burgers_sparse_inversion(trained):
    solver, model = trained
    test = solvers.burgers_dataset("test")
    _, full = _errors(model, solver, test)
    _, sparse = _errors(model, solver, test, frac=0.05)
    # acceptance item 5: from 5 % of the points, at most 1.5x the full-observation error.
    # The inversion lands in a wrong minimum when no node sees the front: with the default
    # 2000-step ramp, 19 of 50 (seed, 13-node set) pairs meet the bound (seed 0: 5 of 10);
    # for this seed and these 12 nodes (the draw of this test) it measured 5.27x (full
    # 2.49 %, sparse 13.1 % beyond the horizon). Strict xfail: when the inversion is made
    # robust this passes, fails the run, and the marker goes; see docs/log/phirom.md.
    assert sparse <= 1.5 * full, (sparse, full)


def test_kdv2d_dataset_runs():
    pytest.importorskip("exponax")
    d = solvers.kdv2d_dataset(1, num_points=16, n_steps=3)
    assert d.values.shape[:2] == (1, 3) and np.all(np.isfinite(d.values))
