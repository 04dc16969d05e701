"""Multi-particle potentials: Gaussian sums, the range split, long- and short-range parts.

The Coulomb potential of N charges is split as ``1/r = erf(beta r)/r + erfc(beta r)/r``: the
smooth long-range part is a low-rank :class:`~tensorrom.tensor.ChebTucker` built from exact
separable Gaussian factors (never by sampling a 3D grid), the short-range part is summed over
the neighbours within a cutoff (bins of targets over z-sorted particle columns, or a
slab kernel on grids). Units: e and Å in, e/Å out
(x :data:`COULOMB_KCAL` = 332.0637 for kcal/mol/e).

References:
    P. Benner, V. Khoromskaia, B. N. Khoromskij, SIAM J. Sci. Comput. 40(2) (2018).
    P. Benner, B. N. Khoromskij, V. Khoromskaia, B. Sun, arXiv:2503.01696 (2025).
"""

from ._coulomb import COULOMB_KCAL as COULOMB_KCAL
from ._coulomb import choose_method as choose_method
from ._coulomb import coulomb as coulomb
from ._coulomb import coulomb_on_grid as coulomb_on_grid
from ._coulomb import direct_energy as direct_energy
from ._coulomb import direct_field as direct_field
from ._coulomb import direct_sum as direct_sum
from ._coulomb import energy as energy
from ._coulomb import field as field
from ._coulomb import forces as forces
from ._gaussian_sums import GaussianSum as GaussianSum
from ._gaussian_sums import gaussian_sum_erf as gaussian_sum_erf
from ._gaussian_sums import gaussian_sum_newton as gaussian_sum_newton
from ._gaussian_sums import gaussian_sum_slater as gaussian_sum_slater
from ._gaussian_sums import gaussian_sum_yukawa as gaussian_sum_yukawa
from ._lattices import nacl_cluster as nacl_cluster
from ._lattices import nacl_slab as nacl_slab
from ._long_range import long_range as long_range
from ._long_range import recompress as recompress
from ._short_range import short_range as short_range
from ._short_range import short_range_field as short_range_field
from ._short_range import short_range_on_grid as short_range_on_grid
from ._split import RangeSplit as RangeSplit

__all__ = [
    "GaussianSum",
    "gaussian_sum_newton",
    "gaussian_sum_yukawa",
    "gaussian_sum_slater",
    "gaussian_sum_erf",
    "RangeSplit",
    "long_range",
    "recompress",
    "short_range",
    "short_range_field",
    "short_range_on_grid",
    "coulomb",
    "coulomb_on_grid",
    "field",
    "energy",
    "forces",
    "direct_sum",
    "direct_field",
    "direct_energy",
    "choose_method",
    "nacl_cluster",
    "nacl_slab",
    "COULOMB_KCAL",
]
