"""tensorrom: tensor-format function approximation and reduced-order modelling.

Four published methods on one data layer (:mod:`tensorrom.data`): ChebTucker
(:mod:`tensorrom.tensor`, :mod:`tensorrom.potentials`), FunBaT (:mod:`tensorrom.funbat`),
Phi-ROM (:mod:`tensorrom.rom`) and GIOROM (:mod:`tensorrom.lagrangian`).
"""

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

__all__ = ["__version__", "Box", "TensorGrid", "PointCloud", "Field", "Trajectory", "ChebTucker"]
