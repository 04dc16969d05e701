"""Reading and writing: HDF5/npz for Field, Trajectory and ChebTucker (no pickle), and file
readers."""

from . import datasets as datasets
from ._chebtucker import load_chebtucker as load_chebtucker
from ._chebtucker import save_chebtucker as save_chebtucker
from ._fields import load_field as load_field
from ._fields import load_trajectory as load_trajectory
from ._fields import save_field as save_field
from ._fields import save_trajectory as save_trajectory
from ._molecules import read_pdb as read_pdb
from ._molecules import read_pqr as read_pqr
from ._molecules import read_xyz as read_xyz

__all__ = ["save_field", "load_field", "save_trajectory", "load_trajectory",
           "save_chebtucker", "load_chebtucker", "read_pqr", "read_xyz", "read_pdb"]
