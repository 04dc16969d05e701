"""HDF5 trajectory datasets: disjoint splits, pooled statistics, loader, windows, bad input."""

import shutil

import h5py
import numpy as np
import pytest

from tensorrom.data import Trajectory
from tensorrom.lagrangian import mpm

KW = dict(n_particles=120, n_trajectories=5, n_frames=12, cells=16, frame_dt=1 / 100)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    path = tmp_path_factory.mktemp("mpmds") / "sand.h5"
    mpm.generate_dataset(path, "sand", seed=3, **KW)
    return path


def test_splits_disjoint_and_complete(dataset):
    with h5py.File(dataset, "r") as f:
        ids = {s: set(f["splits"][s][()].tolist()) for s in ("train", "valid", "test")}
        n = len(f["trajectories"])
        for s, members in ids.items():
            for i in members:
                assert f["trajectories"][f"{i:05d}"].attrs["split"] == s
    assert not (ids["train"] & ids["valid"]) and not (ids["train"] & ids["test"])
    assert not (ids["valid"] & ids["test"])
    assert ids["train"] | ids["valid"] | ids["test"] == set(range(n)) and n == 5
    assert all(len(v) >= 1 for v in ids.values())


def test_stats_pooled_over_training_frames(dataset):
    trajs = mpm.load_dataset(dataset, "train")
    dt = trajs[0].dt
    x = [np.asarray(t.positions, np.float64) for t in trajs]
    v = np.concatenate([(a[1:] - a[:-1]).reshape(-1, 2) for a in x]) / dt
    acc = np.concatenate([(a[2:] - 2 * a[1:-1] + a[:-2]).reshape(-1, 2) for a in x]) / dt**2
    st = mpm.load_stats(dataset)
    # pooled mean/std over every training sample; float64 accumulation: 1e-10 relative
    np.testing.assert_allclose(st["velocity_mean"], v.mean(0), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(st["velocity_std"], v.std(0), rtol=1e-10)
    np.testing.assert_allclose(st["acceleration_mean"], acc.mean(0), rtol=1e-10, atol=1e-9)
    np.testing.assert_allclose(st["acceleration_std"], acc.std(0), rtol=1e-10)
    # ... and not the average of per-trajectory standard deviations
    per_traj = np.mean([((a[1:] - a[:-1]) / dt).reshape(-1, 2).std(0) for a in x], axis=0)
    assert np.max(np.abs(per_traj - st["velocity_std"]) / st["velocity_std"]) > 1e-3


def test_load_dataset_trajectories(dataset):
    test = mpm.load_dataset(dataset, "test")
    assert all(isinstance(t, Trajectory) for t in test)
    t = test[0]
    assert t.positions.shape == (12, 120, 2)
    assert t.metadata["split"] == "test"
    assert t.particle_type.shape == (120,)


def test_same_seed_same_dataset(dataset, tmp_path, assert_repeatable):
    other = tmp_path / "again.h5"
    mpm.generate_dataset(other, "sand", seed=3, **KW)
    with h5py.File(dataset, "r") as a, h5py.File(other, "r") as b:
        for k in a["trajectories"]:
            # bit-identical on the CPU; GPU atomics reorder float32 sums (see test_solver's
            # test_same_seed_bit_identical): 1e-4 m is under 1 % of a 16-cell grid spacing
            assert_repeatable(a["trajectories"][k]["positions"][()],
                              b["trajectories"][k]["positions"][()], gpu_atol=1e-4)
    assert not list(tmp_path.glob("*.tmp*")) and not list(tmp_path.glob("*.parts"))


def test_training_windows(dataset):
    w = mpm.TrainingWindows(dataset, "train", history=4)
    trajs = mpm.load_dataset(dataset, "train")
    assert len(w) == len(trajs) * (12 - 4)
    hist, target, types = w[len(w) - 1]  # last window of the last trajectory
    x = np.asarray(trajs[-1].positions)
    np.testing.assert_array_equal(hist, x[-5:-1])
    np.testing.assert_array_equal(target, x[-1])
    assert types.shape == (120,)
    hb, tb, pb = next(w.batches(3, seed=0))
    assert hb.shape == (3, 4, 120, 2) and tb.shape == (3, 120, 2) and pb.shape == (3, 120)


def test_resume_reuses_finished_trajectories(tmp_path, monkeypatch):
    path = tmp_path / "r.h5"
    import tensorrom.lagrangian.mpm._dataset as ds

    calls = []
    real = ds.simulate

    def failing(*a, **k):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*a, **k)

    monkeypatch.setattr(ds, "simulate", failing)
    kw = dict(KW, n_frames=4)
    with pytest.raises(KeyboardInterrupt):
        mpm.generate_dataset(path, "water", **kw)
    assert not path.exists()  # nothing half-written
    assert len(list((tmp_path / "r.h5.parts").glob("*.npz"))) == 2
    calls.clear()
    monkeypatch.setattr(ds, "simulate", real)
    counted = []
    monkeypatch.setattr(ds, "simulate", lambda *a, **k: counted.append(1) or real(*a, **k))
    mpm.generate_dataset(path, "water", **kw)
    assert len(counted) == 3  # only the three unfinished trajectories ran again
    assert len(mpm.load_dataset(path, "train")) >= 1


def test_missing_field(dataset, tmp_path):
    broken = tmp_path / "broken.h5"
    shutil.copy(dataset, broken)
    with h5py.File(broken, "a") as f:
        del f["stats/velocity_std"]
    with pytest.raises(ValueError, match="stats/velocity_std"):
        mpm.load_dataset(broken)


def test_missing_trajectory_positions(dataset, tmp_path):
    broken = tmp_path / "broken.h5"
    shutil.copy(dataset, broken)
    with h5py.File(broken, "a") as f:
        i = int(f["splits/valid"][0])
        del f[f"trajectories/{i:05d}/positions"]
    with pytest.raises(ValueError, match="positions"):
        mpm.load_dataset(broken, "valid")


def test_missing_format_attribute(tmp_path):
    p = tmp_path / "x.h5"
    with h5py.File(p, "w") as f:
        f.attrs["dim"] = 2
    with pytest.raises(ValueError, match="format"):
        mpm.load_dataset(p)


def test_not_hdf5(tmp_path):
    p = tmp_path / "x.h5"
    p.write_bytes(b"not an hdf5 file")
    with pytest.raises(ValueError, match="HDF5"):
        mpm.load_stats(p)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        mpm.load_dataset(tmp_path / "none.h5")


def test_bad_split(dataset):
    with pytest.raises(ValueError, match="split"):
        mpm.load_dataset(dataset, "training")


def test_bad_history(dataset):
    with pytest.raises(ValueError, match="history"):
        mpm.TrainingWindows(dataset, "train", history=12)


def test_bad_suffix(tmp_path):
    with pytest.raises(ValueError, match="path"):
        mpm.generate_dataset(tmp_path / "x.npz", "sand", **KW)


def test_unknown_material(tmp_path):
    with pytest.raises(ValueError, match="material"):
        mpm.generate_dataset(tmp_path / "x.h5", "mud", **KW)


@pytest.mark.parametrize("arg", ["n_particles", "n_trajectories", "n_frames"])
def test_non_positive_counts(tmp_path, arg):
    with pytest.raises(ValueError, match=arg):
        mpm.generate_dataset(tmp_path / "x.h5", "sand", **dict(KW, **{arg: 0}))


def test_bad_splits(tmp_path):
    with pytest.raises(ValueError, match="splits"):
        mpm.generate_dataset(tmp_path / "x.h5", "sand", splits=(0.8, 0.2, 0.0), **KW)


def test_bad_dim(tmp_path):
    with pytest.raises(ValueError, match="dim"):
        mpm.generate_dataset(tmp_path / "x.h5", "sand", dim=4, **KW)
