"""Long acceptance runs (marked slow): held-out coordinates (3) and Beijing (5)."""

import numpy as np
import pytest

from tensorrom.funbat import FunBaT
from tensorrom.io.datasets import load_beijing, load_funbat_synthetic_r1


def _rmse(a, b):
    return float(np.sqrt(np.mean((np.asarray(a) - np.asarray(b)) ** 2)))


@pytest.mark.slow
def test_held_out_mode0_coordinates():
    # Acceptance 3 (second part): hold out 20% of mode-0's distinct coordinates with all
    # their entries; fit on half of the remaining entries; the held-out RMSE (bridge
    # interpolation) is at most 2x the in-sample test RMSE, and the predictive variance is
    # larger at the held-out coordinates. Hyperparameters are learned (with the fixed
    # ℓ = 0.1 the ratio is ~5 because the in-sample error of this noise-free set is ~3e-5).
    s = load_funbat_synthetic_r1()
    X = np.concatenate([s.X_train, s.X_test])
    y = np.concatenate([s.y_train, s.y_test])
    rng = np.random.default_rng(0)
    u = np.unique(X[:, 0])
    held = rng.choice(u, size=int(round(0.2 * u.size)), replace=False)
    out = np.isin(X[:, 0], held)
    Xin, yin = X[~out], y[~out]
    perm = rng.permutation(yin.size)
    tr, te = perm[: yin.size // 2], perm[yin.size // 2:]
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
