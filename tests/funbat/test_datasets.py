"""Bundled Beijing splits and the seeded synthetic generator."""

import numpy as np
import pytest

from tensorrom.io.datasets import (
    BEIJING_TARGETS,
    N_FOLDS,
    funbat_synthetic_latents,
    load_beijing,
    load_funbat_synthetic_r1,
    make_funbat_synthetic,
)

SHAPE = np.array([428, 501, 1461])


@pytest.mark.parametrize("target", BEIJING_TARGETS)
def test_beijing_split_sizes_and_bin_centres(target):
    s = load_beijing(target, 0)
    assert s.X_train.shape == (13572, 3) and s.X_test.shape == (3393, 3)
    # coordinates are bin centres (i + 0.5)·10/n with integer bins 0 <= i < n
    bins = s.X_train * SHAPE / 10.0 - 0.5
    np.testing.assert_allclose(bins, np.round(bins), atol=1e-9)
    assert bins.min() >= 0 and np.all(bins.max(axis=0) < SHAPE)
    # z-scored target over all entries
    y = np.concatenate([s.y_train, s.y_test])
    assert abs(y.mean()) < 1e-6 and abs(y.std() - 1.0) < 1e-3


def test_beijing_folds_are_different_splits_of_the_same_entries():
    rows = []
    for fold in range(N_FOLDS):
        s = load_beijing("pm25", fold)
        full = np.column_stack([np.concatenate([s.X_train, s.X_test]),
                                np.concatenate([s.y_train, s.y_test])])
        rows.append(full[np.lexsort(full.T[::-1])])
        if fold:
            assert not np.array_equal(s.y_test, load_beijing("pm25", 0).y_test)
    for r in rows[1:]:
        np.testing.assert_array_equal(r, rows[0])


def test_beijing_bad_target_raises():
    with pytest.raises(ValueError, match="target"):
        load_beijing("no2")


def test_beijing_bad_fold_raises():
    with pytest.raises(ValueError, match="fold"):
        load_beijing("pm25", 5)


def test_synthetic_generator_is_seeded_and_exact():
    a = make_funbat_synthetic(seed=3)
    b = make_funbat_synthetic(seed=3)
    c = make_funbat_synthetic(seed=4)
    np.testing.assert_array_equal(a.X_train, b.X_train)
    assert not np.array_equal(a.X_train, c.X_train)
    X = np.concatenate([a.X_train, a.X_test])
    y = np.concatenate([a.y_train, a.y_test])
    assert X.shape == (1350, 2) and a.X_train.shape[0] == 675
    assert np.unique(X[:, 0]).size == 90 and np.unique(X[:, 1]).size == 90
    u1, _ = funbat_synthetic_latents(X[:, 0])
    _, u2 = funbat_synthetic_latents(X[:, 1])
    np.testing.assert_allclose(y, u1 * u2, rtol=0, atol=1e-15)  # noise-free: exact


def test_synthetic_noise_level():
    a = make_funbat_synthetic(seed=0, noise=0.05)
    u1, _ = funbat_synthetic_latents(a.X_train[:, 0])
    _, u2 = funbat_synthetic_latents(a.X_train[:, 1])
    # sample sd of 675 N(0, 0.05²) draws: relative standard error 1/sqrt(2·675) ≈ 2.7%
    assert abs(np.std(a.y_train - u1 * u2) / 0.05 - 1.0) < 0.1


def test_synthetic_negative_noise_raises():
    with pytest.raises(ValueError, match="noise"):
        make_funbat_synthetic(noise=-0.1)


def test_released_synthetic_r1_set():
    s = load_funbat_synthetic_r1()
    assert s.X_train.shape == (675, 2) and s.X_test.shape == (675, 2)
    assert np.unique(np.concatenate([s.X_train, s.X_test])[:, 0]).size == 90
