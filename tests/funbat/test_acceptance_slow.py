"""Long acceptance runs (marked slow): held-out coordinates (3) and Beijing (5)."""

import numpy as np
import pytest

from tensorrom.funbat import FunBaT
from tensorrom.io.datasets import load_beijing, load_funbat_synthetic_r1


def _rmse(a, b):
    return float(np.sqrt(np.mean((np.asarray(a) - np.asarray(b)) ** 2)))


def _held_out_split():
    s = load_funbat_synthetic_r1()
    X = np.concatenate([s.X_train, s.X_test])
    y = np.concatenate([s.y_train, s.y_test])
    rng = np.random.default_rng(0)
    u = np.unique(X[:, 0])
    held = rng.choice(u, size=int(round(0.2 * u.size)), replace=False)
    out = np.isin(X[:, 0], held)
    perm = rng.permutation(int((~out).sum()))
    return X, y, out, perm[: perm.size // 2], perm[perm.size // 2:]


@pytest.mark.slow
def test_held_out_mode0_coordinates():
    # Acceptance 3 (second part): hold out 20% of mode-0's distinct coordinates with all
    # their entries; fit on half of the remaining entries; the held-out RMSE (bridge
    # interpolation) is at most 2x the in-sample test RMSE, and the predictive variance is
    # larger at the held-out coordinates. Hyperparameters are learned (with the fixed
    # ℓ = 0.1 the ratio is ~5 because the in-sample error of this noise-free set is ~3e-5;
    # the next test shows that no inference can do better with that fixed prior).
    X, y, out, tr, te = _held_out_split()
    Xin, yin = X[~out], y[~out]
    m = FunBaT(1, "matern32", 0.1, 0.5, core="cp", max_epochs=200, tol=1e-5,
               learn_hyperparameters=True).fit(Xin[tr], yin[tr])
    p_in, v_in = m.predict(Xin[te], return_var=True)
    p_out, v_out = m.predict(X[out], return_var=True)
    rmse_in, rmse_out = _rmse(p_in, yin[te]), _rmse(p_out, y[out])
    assert rmse_out <= 2.0 * rmse_in
    assert rmse_out <= 0.0042
    assert np.median(v_out) > np.median(v_in)
    # also for the function part of the variance alone (noise term removed); with the
    # learned long lengthscale it is only ~14% larger (measured 4.6e-7 vs 4.1e-7)
    noise = m.noise_variance_
    assert np.median(v_out - noise) > np.median(v_in - noise)


@pytest.mark.slow
def test_held_out_fixed_lengthscale_is_the_priors_interpolation():
    # Why the held-out ratio of acceptance 3 needs the learned lengthscale: with ℓ fixed at
    # 0.1 the posterior mean at a held-out coordinate is exactly the noise-free Matérn-3/2
    # (ℓ = 0.1) interpolation of the posterior means at the training coordinates (the bridge
    # conditions on the smoothed states), so its error is the prior's interpolation error
    # across the gaps, whatever the inference does. Checked: (a) the bridge equals the dense
    # noise-free GP interpolation to 1e-6 relative (measured 2e-9; the 1e-10 jitter and the
    # converged-but-not-exact smoothed states bound the agreement); (b) the generating u1 of
    # the issue, interpolated exactly from the same training coordinates with ℓ = 0.1, has a
    # held-out error (times u2) of 1.6e-4, i.e. > 2x our in-sample RMSE (3.2e-5), so no
    # method with this fixed prior meets the ratio; our held-out RMSE (1.7e-4) is within
    # 1.5x of that oracle and 25x below the 0.0042 bound.
    from tensorrom.funbat import matern_covariance
    from tensorrom.io.datasets import funbat_synthetic_latents

    X, y, out, tr, te = _held_out_split()
    Xin, yin = X[~out], y[~out]
    m = FunBaT(1, "matern32", 0.1, 0.5, core="cp", max_epochs=200, tol=1e-5).fit(Xin[tr], yin[tr])
    ctr = np.unique(Xin[tr][:, 0])

    def interp(values, t):
        K = np.asarray(matern_covariance("matern32", 0.1, 1.0, ctr[:, None] - ctr[None, :]))
        k = np.asarray(matern_covariance("matern32", 0.1, 1.0, t[:, None] - ctr[None, :]))
        return k @ np.linalg.solve(K + 1e-10 * np.eye(ctr.size), values)

    a_tr = np.asarray(m.latent(0, ctr)[0])[:, 0]
    a_out = np.asarray(m.latent(0, X[out, 0])[0])[:, 0]
    assert np.linalg.norm(interp(a_tr, X[out, 0]) - a_out) <= 1e-6 * np.linalg.norm(a_out)

    u1, _ = funbat_synthetic_latents(ctr)
    u1_out, u2_out = funbat_synthetic_latents(X[out, 0])
    _, u2_col = funbat_synthetic_latents(X[out, 1])
    oracle = _rmse(interp(u1, X[out, 0]) * u2_col, u1_out * u2_col)
    rmse_in = _rmse(m.predict(Xin[te]), yin[te])
    rmse_out = _rmse(m.predict(X[out]), y[out])
    assert oracle > 2.0 * rmse_in
    assert rmse_out <= 1.5 * oracle
    assert rmse_out <= 0.0042


BEIJING = dict(kernel="matern12", lengthscale=0.1, variance=1.0, core="tucker",
               max_epochs=100, tol=0.0)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(5))
def test_beijing_pm25_rank2(seed):
    # Acceptance 5: fold 0, Tucker, Matérn-1/2, ℓ=0.1, σ²=1, 100 epochs, R=2:
    # test RMSE <= 0.348 on the z-scored target for every seed (measured 0.341 for seeds
    # 0-4; 0.316-0.337 with the former tiny-ridge core start).
    s = load_beijing("pm25", 0)
    m = FunBaT(2, seed=seed, **BEIJING).fit(s.X_train, s.y_train)
    assert _rmse(m.predict(s.X_test), s.y_test) <= 0.348


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1])
def test_beijing_pm10_rank2(seed):
    # Acceptance 5: PM10 at R=2 reaches <= 0.41 (measured 0.361 over seeds 0-4).
    s = load_beijing("pm10", 0)
    m = FunBaT(2, seed=seed, **BEIJING).fit(s.X_train, s.y_train)
    assert _rmse(m.predict(s.X_test), s.y_test) <= 0.41


@pytest.mark.slow
def test_beijing_pm25_rank2_fold2_regression():
    # Regression: fold 2 at R=2 used to end at test RMSE 0.81 (fold 0: 0.338) because the
    # initial Tucker core was an O(1) tiny-ridge fit in near-null directions of an
    # ill-conditioned normal matrix. With the truncated pseudo-inverse core it reaches
    # 0.334 (fold 0: 0.341); allow 1.3x fold 0's RMSE (a poor optimum is >2x).
    rmse = {}
    for fold in (0, 2):
        s = load_beijing("pm25", fold)
        m = FunBaT(2, seed=0, **BEIJING).fit(s.X_train, s.y_train)
        rmse[fold] = _rmse(m.predict(s.X_test), s.y_test)
    assert rmse[2] <= 1.3 * rmse[0]
