import subprocess
import sys

from tensorrom.cli import main


def test_help_runs(capsys):
    assert main([]) == 0
    assert "info" in capsys.readouterr().out


def test_console_script_help():
    out = subprocess.run([sys.executable, "-m", "tensorrom.cli", "--help"], capture_output=True,
                         text=True, check=True).stdout
    assert "demo" in out and "info" in out


def test_info_lists_versions_and_devices(capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert "numpy" in out and "JAX backend" in out and "Numba threads" in out


def test_data_demo_writes_png_and_pdf(tmp_path, capsys):
    assert main(["demo", "--quick", "--only", "data", "--out", str(tmp_path)]) == 0
    assert list(tmp_path.glob("*.png")) and list(tmp_path.glob("*.pdf"))
    assert "summary" in capsys.readouterr().out


def test_design_names_resolve():
    # DESIGN.md section 4: the names outside scripts rely on
    import tensorrom as tr
    from tensorrom.data import (  # noqa: F401
        Box,
        Field,
        Graph,
        PointCloud,
        TensorGrid,
        Trajectory,
        farthest_point_sample,
        radius_graph,
    )

    assert callable(tr.tensor.hosvd) and callable(tr.tensor.hooi)
    assert hasattr(tr.ChebTucker, "from_separable") and hasattr(tr.ChebTucker, "from_cp")
    assert callable(tr.io.read_pqr) and callable(tr.potentials.coulomb)
    assert callable(tr.potentials.long_range) and callable(tr.potentials.nacl_cluster)
    assert tr.FunBaT is tr.funbat.FunBaT
    assert hasattr(tr.rom.solvers, "Burgers1D") and hasattr(tr.rom.pod, "PODGalerkin")
    assert hasattr(tr.rom.phirom, "PhiROM")
    assert callable(tr.lagrangian.mpm.simulate)
    assert tr.lagrangian.GIOROM and tr.lagrangian.GNS
