"""The package style sheet and figure saving."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from importlib import resources
from pathlib import Path

__all__ = ["style", "style_path", "savefig", "COLUMN_WIDTH", "PAGE_WIDTH"]

COLUMN_WIDTH = 3.4
"""Width of a single journal column in inches."""
PAGE_WIDTH = 7.0
"""Width of a full two-column page in inches."""


def style_path() -> Path:
    """Path of the bundled ``paper.mplstyle`` style sheet."""
    return Path(str(resources.files("tensorrom.plot").joinpath("paper.mplstyle")))


@contextlib.contextmanager
def style() -> Iterator[None]:
    """Context manager applying the tensorrom paper style (matplotlib rcParams).

    Example:
        >>> with tr.plot.style():
        ...     ax = tr.plot.field_slice(field)
    """
    import matplotlib.pyplot as plt

    with plt.style.context(str(style_path())):
        yield


def savefig(fig, stem: str | Path, formats: Sequence[str] = ("png", "pdf")) -> list[Path]:
    """Save ``fig`` as ``stem.png`` and ``stem.pdf`` (by default); returns the paths."""
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = []
    for ext in formats:
        p = stem.with_suffix(f".{ext}")
        fig.savefig(p)
        paths.append(p)
    return paths
