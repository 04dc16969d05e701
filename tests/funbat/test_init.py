"""Spectral initialisation: the Tucker core is the truncated pseudo-inverse solution."""

import numpy as np

from tensorrom.funbat._init import spectral_init
from tensorrom.io.datasets import load_beijing


def test_core_init_is_truncated_pseudo_inverse_on_ill_conditioned_beijing_fold2():
    # Beijing PM2.5 fold 2, R = 2: the normal matrix of the initial factors has four
    # eigenvalues ~5-10 next to ~1e3-1e4 (condition ~3e3). The former tiny-ridge solve put
    # an O(1) core (max |W| = 1.97) into those near-null directions, and CEP never left that
    # basin (test RMSE 0.81). The core must now (i) have no component in the directions
    # with λ <= rcond·λ_max and (ii) solve the normal equations in the others.
    s = load_beijing("pm25", 2)
    X, y = s.X_train, s.y_train
    inv = [np.unique(X[:, k], return_inverse=True)[1].ravel() for k in range(3)]
    sizes = [int(i.max()) + 1 for i in inv]
    rcond = 1e-3
    means, W = spectral_init(inv, y, sizes, 2, [1.0] * 3, "tucker", 1.0, 0, core_rcond=rcond)
    B = np.einsum("na,nb,nc->nabc", *[means[k][inv[k]] for k in range(3)]).reshape(-1, 8)
    G, h = B.T @ B, B.T @ y
    evals, evecs = np.linalg.eigh(G)
    drop = evals <= rcond * evals[-1]
    assert 0 < drop.sum() < 8  # the case is ill-conditioned and not degenerate
    # (i) orthogonal to the dropped directions: round-off level relative to |W|
    # (eigh/solve in float64, ‖G‖ ~ 1e4: residuals ~1e-12 relative)
    assert np.max(np.abs(evecs[:, drop].T @ W)) <= 1e-8 * np.linalg.norm(W)
    # (ii) normal equations hold in the kept subspace, relative to ‖h‖ (float64 round-off)
    r = evecs[:, ~drop].T @ (G @ W - h)
    assert np.linalg.norm(r) <= 1e-8 * np.linalg.norm(h)
    # the initial core is small (prior scale 1) instead of the former max |W| = 1.97
    assert np.max(np.abs(W)) < 0.5
