"""MLS-MPM particle simulator (jelly, water, sand, plasticine) and trajectory datasets.

Quick start::

    import tensorrom as tr
    from tensorrom.lagrangian import mpm

    scene = mpm.Scene(tr.Box([0, 0], [1, 1]),
                      [mpm.Block([0.1, 0.05], [0.4, 0.45], "sand")], spacing=1 / 128)
    traj = mpm.simulate(scene, n_frames=100)          # Trajectory (100, N, 2)

See :mod:`tensorrom.lagrangian.mpm._dataset` for the HDF5 dataset layout.
"""

from ._dataset import TrainingWindows as TrainingWindows
from ._dataset import generate_dataset as generate_dataset
from ._dataset import load_dataset as load_dataset
from ._dataset import load_stats as load_stats
from ._materials import MATERIAL_NAMES as MATERIAL_NAMES
from ._materials import Material as Material
from ._materials import jelly as jelly
from ._materials import material as material
from ._materials import plasticine as plasticine
from ._materials import sand as sand
from ._materials import water as water
from ._scene import Block as Block
from ._scene import PointBody as PointBody
from ._scene import Scene as Scene
from ._scene import Sphere as Sphere
from ._scene import random_scene as random_scene
from ._solver import CFL_NUMBER as CFL_NUMBER
from ._solver import MPMDivergenceError as MPMDivergenceError
from ._solver import simulate as simulate
from ._solver import stable_dt as stable_dt

__all__ = [
    "MATERIAL_NAMES", "Material", "material", "jelly", "water", "sand", "plasticine",
    "Block", "Sphere", "PointBody", "Scene", "random_scene",
    "simulate", "stable_dt", "CFL_NUMBER", "MPMDivergenceError",
    "generate_dataset", "load_dataset", "load_stats", "TrainingWindows",
]
