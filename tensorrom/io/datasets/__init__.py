"""Bundled and generated data sets (see ``data/README.md`` for sources and licences)."""

from ._funbat import BEIJING_MODES as BEIJING_MODES
from ._funbat import BEIJING_TARGETS as BEIJING_TARGETS
from ._funbat import N_FOLDS as N_FOLDS
from ._funbat import TensorSplit as TensorSplit
from ._funbat import funbat_synthetic_latents as funbat_synthetic_latents
from ._funbat import load_beijing as load_beijing
from ._funbat import load_funbat_synthetic_r1 as load_funbat_synthetic_r1
from ._funbat import make_funbat_synthetic as make_funbat_synthetic

__all__ = ["TensorSplit", "BEIJING_TARGETS", "BEIJING_MODES", "N_FOLDS", "load_beijing",
           "load_funbat_synthetic_r1", "make_funbat_synthetic", "funbat_synthetic_latents"]
