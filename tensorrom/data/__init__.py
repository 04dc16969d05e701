"""The common grid / mesh-free data layer of tensorrom.

Every part talks in these types: a :class:`Box` domain, :class:`TensorGrid` axes,
scattered :class:`PointCloud` points with named features, :class:`Field` values on either,
particle :class:`Trajectory` data and padded neighbour :class:`Graph` objects.
"""

from ._box import Box as Box
from ._field import Field as Field
from ._graph import Graph as Graph
from ._graph import farthest_point_sample as farthest_point_sample
from ._graph import knn_graph as knn_graph
from ._graph import radius_graph as radius_graph
from ._grid import TensorGrid as TensorGrid
from ._grid import chebyshev_lobatto as chebyshev_lobatto
from ._pointcloud import PointCloud as PointCloud
from ._trajectory import Trajectory as Trajectory

__all__ = [
    "Box",
    "TensorGrid",
    "PointCloud",
    "Field",
    "Trajectory",
    "Graph",
    "radius_graph",
    "knn_graph",
    "farthest_point_sample",
    "chebyshev_lobatto",
]
