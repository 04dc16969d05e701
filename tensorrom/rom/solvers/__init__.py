"""Differentiable full-order solvers ``du/dt = R(u; mu)`` and benchmark data generators.

Each solver is an :class:`equinox.Module` with ``residual(u, mu)`` (differentiable JAX),
``step``, ``rollout`` and a :class:`~tensorrom.data.TensorGrid` (``.grid``).
"""

from ._base import Solver as Solver
from ._base import check_residual_shape as check_residual_shape
from ._burgers import Burgers1D as Burgers1D
from ._burgers import burgers_initial_condition as burgers_initial_condition
from ._datasets import Snapshots as Snapshots
from ._datasets import burgers_dataset as burgers_dataset
from ._datasets import burgers_mus as burgers_mus
from ._datasets import diffusion_dataset as diffusion_dataset
from ._datasets import kdv2d_dataset as kdv2d_dataset
from ._diffusion import Diffusion2D as Diffusion2D
from ._stepper import StepperResidual as StepperResidual
from ._stepper import from_stepper as from_stepper

__all__ = ["Solver", "check_residual_shape", "Burgers1D", "burgers_initial_condition",
           "Diffusion2D", "StepperResidual", "from_stepper", "Snapshots", "burgers_mus",
           "burgers_dataset", "diffusion_dataset", "kdv2d_dataset"]
