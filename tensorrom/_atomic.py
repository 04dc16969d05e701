"""Atomic file writes shared by every long-running driver (checkpoints, datasets).

Each writer produces ``<name>.tmp`` first and renames it over the target with
:func:`os.replace`, so an interrupted run never leaves a half-written file behind: a reader
sees either the previous complete file or the new one.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

__all__ = ["write_leaves_atomic", "write_json_atomic"]


def _tmp(path: Path) -> Path:
    return path.with_name(path.name + ".tmp")


def write_leaves_atomic(path: str | os.PathLike, tree: Any) -> Path:
    """Serialise the array leaves of ``tree`` (``equinox.tree_serialise_leaves``) to ``path``."""
    import equinox as eqx

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp(path)
    eqx.tree_serialise_leaves(tmp, tree)
    os.replace(tmp, path)
    return path


def write_json_atomic(path: str | os.PathLike, obj: Any, *, indent: int | None = 1) -> Path:
    """Write ``obj`` as JSON to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp(path)
    tmp.write_text(json.dumps(obj, indent=indent))
    os.replace(tmp, path)
    return path
