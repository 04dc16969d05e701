"""PQR, XYZ and PDB readers."""

import importlib.util

import numpy as np
import pytest

from tensorrom.io import read_pdb, read_pqr, read_xyz

PQR_TEXT = """REMARK   1 PQR file
ATOM      1  N   MET A   1     -10.500  12.250   3.000 -0.3000 1.8500
ATOM      2  CA  MET A   1      -9.000  11.000   2.500  0.2100 1.9000
HETATM    3  O   HOH     2       1.000   2.000   3.000 -0.8340 1.5200
TER
END
"""


def test_read_pqr(tmp_path):
    p = tmp_path / "m.pqr"
    p.write_text(PQR_TEXT)
    mol = read_pqr(p)
    assert mol.n == 3
    np.testing.assert_array_equal(mol.coords[0], [-10.5, 12.25, 3.0])
    np.testing.assert_array_equal(mol["charge"], [-0.3, 0.21, -0.834])
    np.testing.assert_array_equal(mol["radius"], [1.85, 1.9, 1.52])


def test_read_pqr_malformed_number_names_the_line(tmp_path):
    p = tmp_path / "bad.pqr"
    p.write_text(PQR_TEXT.replace("0.2100", "0.2x00"))
    with pytest.raises(ValueError, match="line 3"):
        read_pqr(p)


def test_read_pqr_too_few_fields_names_the_line(tmp_path):
    p = tmp_path / "short.pqr"
    p.write_text(PQR_TEXT.replace("HETATM    3  O   HOH     2       1.000   2.000   3.000",
                                  "HETATM    3  O   1.000"))
    with pytest.raises(ValueError, match="line 4"):
        read_pqr(p)


def test_read_pqr_nan_names_the_line(tmp_path):
    p = tmp_path / "nan.pqr"
    p.write_text(PQR_TEXT.replace("-10.500", "nan"))
    with pytest.raises(ValueError, match="line 2"):
        read_pqr(p)


def test_read_pqr_no_atoms(tmp_path):
    p = tmp_path / "empty.pqr"
    p.write_text("REMARK nothing\nEND\n")
    with pytest.raises(ValueError, match="no ATOM"):
        read_pqr(p)


def test_read_pqr_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_pqr(tmp_path / "nope.pqr")


def test_read_pqr_binary_file(tmp_path):
    p = tmp_path / "bin.pqr"
    p.write_bytes(b"\xff\xfe\x00\x81")
    with pytest.raises(ValueError, match="not a text file"):
        read_pqr(p)


def test_read_pqr_path_type():
    with pytest.raises(TypeError, match="path"):
        read_pqr(3)


@pytest.mark.skipif(importlib.util.find_spec("MDAnalysisTests") is None,
                    reason="MDAnalysisTests not installed")
def test_read_adk_open():
    from MDAnalysisTests.datafiles import PQR

    mol = read_pqr(PQR)
    assert mol.n == 3341
    # adenylate kinase in the CHARMM force field carries a net charge of -4 e
    assert mol["charge"].sum() == pytest.approx(-4.0, abs=1e-9)
    assert np.all(mol["radius"] >= 0)


XYZ_TEXT = """3
water and a sodium
O   0.000  0.000  0.117
H   0.000  0.757 -0.467
Na  5.0    0.0    0.0
"""


def test_read_xyz(tmp_path):
    p = tmp_path / "w.xyz"
    p.write_text(XYZ_TEXT)
    mol = read_xyz(p, charges=[-0.834, 0.417, 1.0])
    assert mol.n == 3
    np.testing.assert_array_equal(mol["atomic_number"], [8, 1, 11])
    np.testing.assert_array_equal(mol.coords[1], [0.0, 0.757, -0.467])
    assert "charge" in mol


def test_read_xyz_truncated_names_the_line(tmp_path):
    p = tmp_path / "t.xyz"
    p.write_text("\n".join(XYZ_TEXT.splitlines()[:4]))
    with pytest.raises(ValueError, match="line 5"):
        read_xyz(p)


def test_read_xyz_bad_coordinate_names_the_line(tmp_path):
    p = tmp_path / "b.xyz"
    p.write_text(XYZ_TEXT.replace("0.757", "O.757"))
    with pytest.raises(ValueError, match="line 4"):
        read_xyz(p)


def test_read_xyz_bad_count(tmp_path):
    p = tmp_path / "c.xyz"
    p.write_text("three\n\n")
    with pytest.raises(ValueError, match="line 1"):
        read_xyz(p)


def test_read_xyz_charges_wrong_length(tmp_path):
    p = tmp_path / "w.xyz"
    p.write_text(XYZ_TEXT)
    with pytest.raises(ValueError, match="charges"):
        read_xyz(p, charges=[1.0])


PDB_TEXT = (
    "HEADER    TEST\n"
    "ATOM      1  N   ALA A   1      11.104   6.134  -6.504  1.00  0.00           N\n"
    "ATOM      2  CA  ALA A   1      11.639   6.071  -5.147  1.00  0.00           C\n"
    "HETATM    3 NA    NA B   2      -1.000   2.500  10.000  1.00  0.00          NA\n"
    "END\n"
)


def test_read_pdb_with_array_charges(tmp_path):
    p = tmp_path / "a.pdb"
    p.write_text(PDB_TEXT)
    mol = read_pdb(p, charges=[-0.3, 0.1, 1.0])
    np.testing.assert_array_equal(mol.coords[2], [-1.0, 2.5, 10.0])
    np.testing.assert_array_equal(mol["charge"], [-0.3, 0.1, 1.0])
    np.testing.assert_array_equal(mol["atomic_number"], [7, 6, 11])


def test_read_pdb_with_mapping(tmp_path):
    p = tmp_path / "a.pdb"
    p.write_text(PDB_TEXT)
    mol = read_pdb(p, charges={("ALA", "N"): -0.3, "CA": 0.1, ("NA", "NA"): 1.0})
    np.testing.assert_array_equal(mol["charge"], [-0.3, 0.1, 1.0])


def test_read_pdb_missing_charge_names_the_line(tmp_path):
    p = tmp_path / "a.pdb"
    p.write_text(PDB_TEXT)
    with pytest.raises(ValueError, match="line 3"):
        read_pdb(p, charges={"N": -0.3})


def test_read_pdb_bad_coordinate_names_the_line(tmp_path):
    p = tmp_path / "a.pdb"
    p.write_text(PDB_TEXT.replace("11.639", "11.6x9"))
    with pytest.raises(ValueError, match="line 3"):
        read_pdb(p, charges=[0.0, 0.0, 0.0])


def test_read_pdb_charges_wrong_length(tmp_path):
    p = tmp_path / "a.pdb"
    p.write_text(PDB_TEXT)
    with pytest.raises(ValueError, match="charges"):
        read_pdb(p, charges=[0.0, 1.0])


def test_read_pdb_charges_required(tmp_path):
    p = tmp_path / "a.pdb"
    p.write_text(PDB_TEXT)
    with pytest.raises(TypeError, match="charges"):
        read_pdb(p, None)
