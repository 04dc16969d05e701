"""Lagrangian particle dynamics: the MPM simulator (``mpm``), graph operations, the GNS and
GIOROM learned steppers, the SparseToDense operator, training, rollouts and metrics."""

from . import mpm as mpm
from ._giorom import GIOROM as GIOROM
from ._giorom import SpectralConv as SpectralConv
from ._giorom import subset_indices as subset_indices
from ._gns import GNS as GNS
from ._graph_ops import RadiusGraphBuilder as RadiusGraphBuilder
from ._graph_ops import aggregate_edges as aggregate_edges
from ._graph_ops import edge_mask as edge_mask
from ._graph_ops import estimate_capacity as estimate_capacity
from ._graph_ops import gather_nodes as gather_nodes
from ._graph_ops import radius_graph_jax as radius_graph_jax
from ._graph_ops import raise_if_overflow as raise_if_overflow
from ._layers import InteractionBlock as InteractionBlock
from ._layers import Normalisation as Normalisation
from ._metrics import chamfer_distance as chamfer_distance
from ._metrics import kinetic_energy as kinetic_energy
from ._metrics import kinetic_energy_error as kinetic_energy_error
from ._metrics import rollout_mse as rollout_mse
from ._rollout import constant_velocity_rollout as constant_velocity_rollout
from ._rollout import one_step_acceleration_error as one_step_acceleration_error
from ._rollout import rollout as rollout
from ._sparse_to_dense import SparseToDense as SparseToDense
from ._sparse_to_dense import SparseToDensePlan as SparseToDensePlan
from ._sparse_to_dense import grid_splat_gather as grid_splat_gather
from ._sparse_to_dense import shepard_interpolate as shepard_interpolate
from ._training import TrainLog as TrainLog
from ._training import load_checkpoint as load_checkpoint
from ._training import plan_for as plan_for
from ._training import save_checkpoint as save_checkpoint
from ._training import split_trajectories as split_trajectories
from ._training import stack_positions as stack_positions
from ._training import train_sparse_to_dense as train_sparse_to_dense
from ._training import train_stepper as train_stepper

__all__ = [
    "mpm", "GIOROM", "GNS", "SparseToDense", "SparseToDensePlan", "SpectralConv",
    "InteractionBlock", "Normalisation", "RadiusGraphBuilder", "radius_graph_jax",
    "aggregate_edges", "gather_nodes", "edge_mask", "estimate_capacity", "raise_if_overflow",
    "subset_indices", "rollout", "constant_velocity_rollout",
    "one_step_acceleration_error", "rollout_mse", "chamfer_distance",
    "kinetic_energy", "kinetic_energy_error", "shepard_interpolate", "grid_splat_gather",
    "train_stepper", "train_sparse_to_dense", "split_trajectories", "stack_positions",
    "save_checkpoint", "load_checkpoint", "plan_for", "TrainLog",
]
