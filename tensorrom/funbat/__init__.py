"""FunBaT: functional Bayesian Tucker decomposition with Matérn state-space GP factors.

Public names: :class:`FunBaT` (the model), the Matérn state-space helpers
(:func:`matern_covariance`, :func:`stationary_covariance`, :func:`transition`,
:func:`state_dim`) and the Kalman tools (:func:`kalman_smoother`, :func:`gaussian_bridge`,
:class:`SmootherResult`). The model runs in float64 through a scoped
``jax.enable_x64(True)``.
"""

from ._kalman import SmootherResult as SmootherResult
from ._kalman import block_transition as block_transition
from ._kalman import gaussian_bridge as gaussian_bridge
from ._kalman import kalman_smoother as kalman_smoother
from ._kalman import observation_matrix as observation_matrix
from ._model import FunBaT as FunBaT
from ._statespace import KERNELS as KERNELS
from ._statespace import matern_covariance as matern_covariance
from ._statespace import state_dim as state_dim
from ._statespace import stationary_covariance as stationary_covariance
from ._statespace import transition as transition

__all__ = ["FunBaT", "KERNELS", "matern_covariance", "stationary_covariance", "transition",
           "state_dim", "kalman_smoother", "gaussian_bridge", "SmootherResult",
           "block_transition", "observation_matrix"]
