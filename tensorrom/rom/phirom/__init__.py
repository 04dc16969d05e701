"""Phi-ROM: physics-informed neural-field reduced-order models trained through solvers.

Hosseini Dashtbayaz et al., "Physics-informed Reduced Order Modeling of Time-dependent
PDEs via Differentiable Solvers", NeurIPS 2025 (arXiv:2505.14595).
"""

from ._inference import forecast as forecast
from ._inference import invert as invert
from ._inference import relative_l2 as relative_l2
from ._model import PhiROM as PhiROM
from ._model import latent_velocity as latent_velocity
from ._networks import DynamicsMLP as DynamicsMLP
from ._networks import FilterDecoder as FilterDecoder
from ._networks import SineDecoder as SineDecoder
from ._train import TrainConfig as TrainConfig
from ._train import TrainResult as TrainResult
from ._train import load_checkpoint as load_checkpoint
from ._train import make_optimizer as make_optimizer
from ._train import make_train_step as make_train_step
from ._train import save_checkpoint as save_checkpoint
from ._train import trace_count as trace_count
from ._train import train as train

__all__ = ["PhiROM", "SineDecoder", "FilterDecoder", "DynamicsMLP", "latent_velocity",
           "TrainConfig", "TrainResult", "train", "make_optimizer", "make_train_step",
           "save_checkpoint", "load_checkpoint", "trace_count", "invert", "forecast",
           "relative_l2"]
