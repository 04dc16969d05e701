"""tensorrom: tensor-format function approximation and reduced-order modelling.

Four published methods on one data layer (:mod:`tensorrom.data`): ChebTucker
(:mod:`tensorrom.tensor`, :mod:`tensorrom.potentials`), FunBaT (:mod:`tensorrom.funbat`),
Phi-ROM (:mod:`tensorrom.rom`) and GIOROM (:mod:`tensorrom.lagrangian`).

The neural parts (``rom``, ``lagrangian``) and ``funbat`` are imported on first use, so
``import tensorrom`` stays quick; ``tr.rom``, ``tr.lagrangian``, ``tr.funbat`` and
``tr.FunBaT`` work as attributes.
"""

import importlib
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("tensorrom")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

from . import data as data
from . import io as io
from . import plot as plot
from . import potentials as potentials
from . import tensor as tensor
from .data import Box as Box
from .data import Field as Field
from .data import PointCloud as PointCloud
from .data import TensorGrid as TensorGrid
from .data import Trajectory as Trajectory
from .tensor import ChebTucker as ChebTucker

_LAZY_MODULES = ("funbat", "rom", "lagrangian")


def __getattr__(name: str):
    if name in _LAZY_MODULES:
        return importlib.import_module(f".{name}", __name__)
    if name == "FunBaT":
        return importlib.import_module(".funbat", __name__).FunBaT
    raise AttributeError(f"module 'tensorrom' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_LAZY_MODULES) + ["FunBaT"])


__all__ = ["__version__", "Box", "TensorGrid", "PointCloud", "Field", "Trajectory",
           "ChebTucker", "FunBaT", "data", "io", "plot", "tensor", "potentials", "funbat",
           "rom", "lagrangian"]
