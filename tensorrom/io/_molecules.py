"""Readers for molecular structure files: PQR (charges and radii), XYZ, PDB.

Every reader returns a :class:`tensorrom.data.PointCloud` with coordinates in Å and numeric
features (``charge`` in e, ``radius`` in Å, ``atomic_number``). Malformed lines raise
ValueError naming the file and the 1-based line number.

References:
    PQR: Dolinsky et al., PDB2PQR, Nucleic Acids Res. 32 (2004) W665 (whitespace-separated
    ``ATOM serial name resName [chain] resSeq x y z charge radius``).
    PDB: wwPDB Atomic Coordinate Entry Format 3.3, ATOM/HETATM records (x, y, z in columns
    31-38, 39-46, 47-54).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..data import PointCloud

__all__ = ["read_pqr", "read_xyz", "read_pdb"]

_ELEMENTS = (
    "H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe Co Ni Cu Zn Ga Ge As "
    "Se Br Kr Rb Sr Y Zr Nb Mo Tc Ru Rh Pd Ag Cd In Sn Sb Te I Xe Cs Ba La Ce Pr Nd Pm Sm Eu "
    "Gd Tb Dy Ho Er Tm Yb Lu Hf Ta W Re Os Ir Pt Au Hg Tl Pb Bi Po At Rn"
).split()
_Z = {e.upper(): i + 1 for i, e in enumerate(_ELEMENTS)}


def _open_lines(path: Any) -> tuple[Path, list[str]]:
    if not isinstance(path, (str, Path)):
        raise TypeError(f"path must be a str or pathlib.Path, got {type(path).__name__}")
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"no such file: {p}")
    try:
        text = p.read_text(encoding="utf-8", errors="strict")
    except UnicodeDecodeError as err:
        raise ValueError(f"{p} is not a text file ({err})") from None
    except OSError as err:
        raise ValueError(f"{p} cannot be read ({err})") from None
    return p, text.splitlines()


def _float(token: str, p: Path, lineno: int, what: str) -> float:
    try:
        v = float(token)
    except ValueError:
        raise ValueError(f"{p}, line {lineno}: {what} {token!r} is not a number") from None
    if not math.isfinite(v):
        raise ValueError(f"{p}, line {lineno}: {what} {token!r} is not finite")
    return v


def read_pqr(path: str | Path) -> PointCloud:
    """Read a PQR file: ATOM/HETATM records ``... x y z charge radius`` (whitespace
    separated; the last five fields are used, so the optional chain column may be absent).

    Args:
        path: the .pqr file.

    Returns:
        :class:`PointCloud` with coords (N, 3) in Å and features ``charge`` (e) and
        ``radius`` (Å).

    Raises:
        FileNotFoundError: no such file.
        ValueError: a malformed ATOM/HETATM line (the message names the line number), or no
            atoms at all.
    """
    p, lines = _open_lines(path)
    rows = []
    for lineno, line in enumerate(lines, start=1):
        rec = line[:6].strip().upper()
        if rec not in ("ATOM", "HETATM"):
            continue
        fields = line.split()
        if len(fields) < 10:
            raise ValueError(
                f"{p}, line {lineno}: a PQR {rec} record needs at least 10 fields "
                f"(record serial name resName resSeq x y z charge radius), got {len(fields)}"
            )
        names = ("x", "y", "z", "charge", "radius")
        vals = [_float(tok, p, lineno, nm) for tok, nm in zip(fields[-5:], names)]
        if vals[4] < 0:
            raise ValueError(f"{p}, line {lineno}: radius {vals[4]} is negative")
        rows.append(vals)
    if not rows:
        raise ValueError(f"{p} has no ATOM or HETATM records")
    a = np.asarray(rows, dtype=np.float64)
    return PointCloud(a[:, :3], {"charge": a[:, 3], "radius": a[:, 4]})


def read_xyz(path: str | Path, charges: Any = None) -> PointCloud:
    """Read an XYZ file: the atom count, a comment line, then ``element x y z`` per atom.

    Args:
        path: the .xyz file (the first frame is read).
        charges: optional (N,) charges (e) to attach as the ``charge`` feature.

    Returns:
        :class:`PointCloud` with coords in Å, feature ``atomic_number`` (0 for unknown
        symbols) and ``charge`` when given.
    """
    p, lines = _open_lines(path)
    if not lines:
        raise ValueError(f"{p}, line 1: empty file (an XYZ file starts with the atom count)")
    try:
        n = int(lines[0].split()[0])
    except (ValueError, IndexError):
        raise ValueError(f"{p}, line 1: expected the number of atoms, got {lines[0]!r}") from None
    if n < 1:
        raise ValueError(f"{p}, line 1: the number of atoms must be >= 1, got {n}")
    if len(lines) < n + 2:
        raise ValueError(f"{p}, line {len(lines) + 1}: file ends after {max(len(lines) - 2, 0)} "
                         f"atoms, the header announces {n}")
    coords = np.empty((n, 3))
    z = np.zeros(n)
    for i in range(n):
        lineno = i + 3
        fields = lines[i + 2].split()
        if len(fields) < 4:
            raise ValueError(f"{p}, line {lineno}: expected 'element x y z', got "
                             f"{lines[i + 2]!r}")
        sym = fields[0]
        if sym.isdigit():
            z[i] = int(sym)
        else:
            z[i] = _Z.get(sym.strip().upper(), 0)
        coords[i] = [_float(t, p, lineno, nm) for t, nm in zip(fields[1:4], "xyz")]
    feats: dict[str, Any] = {"atomic_number": z}
    if charges is not None:
        q = np.asarray(charges, dtype=np.float64)
        if q.shape != (n,):
            raise ValueError(f"charges must have shape ({n},) (one per atom), got {q.shape}")
        feats["charge"] = q
    return PointCloud(coords, feats)


def read_pdb(path: str | Path, charges: Any) -> PointCloud:
    """Read ATOM/HETATM records of a PDB file, with charges supplied by the caller.

    Args:
        path: the .pdb file (all models' atoms are read in file order).
        charges: (N,) array with one charge per atom in file order, or a mapping from
            ``(residue name, atom name)`` or from ``atom name`` to the charge (e); an atom the
            mapping lacks raises ValueError naming its line.

    Returns:
        :class:`PointCloud` with coords in Å, ``charge`` (e) and ``atomic_number`` (from the
        element columns 77-78, or the atom name).
    """
    if charges is None:
        raise TypeError("charges must be an array of per-atom charges or a mapping, got None")
    p, lines = _open_lines(path)
    coords, q, z = [], [], []
    mapping = charges if isinstance(charges, Mapping) else None
    for lineno, line in enumerate(lines, start=1):
        rec = line[:6].strip().upper()
        if rec not in ("ATOM", "HETATM"):
            continue
        if len(line) < 54:
            raise ValueError(f"{p}, line {lineno}: {rec} record shorter than 54 columns "
                             f"(x, y, z are in columns 31-54)")
        xyz = [_float(line[a:b], p, lineno, nm)
               for (a, b), nm in zip(((30, 38), (38, 46), (46, 54)), "xyz")]
        name = line[12:16].strip()
        res = line[17:20].strip()
        elem = line[76:78].strip() if len(line) >= 78 else ""
        if not elem:
            elem = "".join(ch for ch in name if ch.isalpha())[:1]
        z.append(_Z.get(elem.upper(), 0))
        coords.append(xyz)
        if mapping is not None:
            if (res, name) in mapping:
                q.append(float(mapping[(res, name)]))
            elif name in mapping:
                q.append(float(mapping[name]))
            else:
                raise ValueError(f"{p}, line {lineno}: no charge for atom {name!r} of residue "
                                 f"{res!r} in charges")
    if not coords:
        raise ValueError(f"{p} has no ATOM or HETATM records")
    n = len(coords)
    if mapping is None:
        qa = np.asarray(charges, dtype=np.float64)
        if qa.shape != (n,):
            raise ValueError(f"charges must have shape ({n},) (one per atom), got {qa.shape}")
    else:
        qa = np.asarray(q)
    return PointCloud(np.asarray(coords), {"charge": qa, "atomic_number": np.asarray(z, float)})
