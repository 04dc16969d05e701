"""The ``tensorrom simulate`` command."""

import h5py

from tensorrom.cli import main


def test_simulate_writes_dataset(tmp_path, capsys):
    out = tmp_path / "w.h5"
    rc = main(["simulate", "--material", "water", "--dim", "2", "--particles", "100",
               "--trajectories", "3", "--frames", "5", "--cells", "16", "--no-progress",
               "--out", str(out)])
    assert rc == 0
    with h5py.File(out, "r") as f:
        assert f.attrs["material"] == "water"
        assert len(f["trajectories"]) == 3
        assert f["trajectories/00000/positions"].shape == (5, 100, 2)
    assert "wrote" in capsys.readouterr().out


def test_simulate_unknown_material(tmp_path, capsys):
    rc = main(["simulate", "--material", "lava", "--out", str(tmp_path / "x.h5")])
    assert rc == 2
    assert "material" in capsys.readouterr().err


def test_simulate_bad_param(tmp_path, capsys):
    rc = main(["simulate", "--param", "friction_angle", "--out", str(tmp_path / "x.h5")])
    assert rc == 2
    assert "--param" in capsys.readouterr().err


def test_simulate_non_positive_particles(tmp_path, capsys):
    rc = main(["simulate", "--particles", "0", "--out", str(tmp_path / "x.h5")])
    assert rc == 2
    assert "n_particles" in capsys.readouterr().err
