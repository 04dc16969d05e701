"""Chebyshev tools, the Tucker format and its decompositions, and the ChebTucker format.

- Chebyshev tools on [-1, 1]^d: :func:`chebyshev_nodes`, :func:`values_to_coefficients` (DCT-I),
  :func:`coefficients_to_values`, :func:`clenshaw`, :func:`chebyshev_evaluate`,
  :func:`derivative_coefficients`, :func:`chebyshev_integral`.
- Tucker: :class:`Tucker`, :func:`hosvd`, :func:`hooi`, :func:`reduced_hosvd` (CP input),
  and the jitted JAX versions :func:`hosvd_jax`, :func:`hooi_jax`.
- :class:`ChebTucker`: the mesh-free Chebyshev–Tucker format (Benner, Khoromskij, Khoromskaia,
  Sun, arXiv:2503.01696).
"""

from ._chebtucker import ChebTucker as ChebTucker
from ._chebyshev import chebyshev_basis as chebyshev_basis
from ._chebyshev import chebyshev_evaluate as chebyshev_evaluate
from ._chebyshev import chebyshev_integral as chebyshev_integral
from ._chebyshev import chebyshev_nodes as chebyshev_nodes
from ._chebyshev import clenshaw as clenshaw
from ._chebyshev import coefficients_to_values as coefficients_to_values
from ._chebyshev import derivative_coefficients as derivative_coefficients
from ._chebyshev import integral_weights as integral_weights
from ._chebyshev import values_to_coefficients as values_to_coefficients
from ._tucker import Tucker as Tucker
from ._tucker import hooi as hooi
from ._tucker import hosvd as hosvd
from ._tucker import reduced_hosvd as reduced_hosvd
from ._tucker import truncation_rank as truncation_rank
from ._tucker_jax import hooi_jax as hooi_jax
from ._tucker_jax import hosvd_jax as hosvd_jax

__all__ = [
    "ChebTucker",
    "Tucker",
    "hosvd",
    "hooi",
    "reduced_hosvd",
    "truncation_rank",
    "hosvd_jax",
    "hooi_jax",
    "chebyshev_nodes",
    "values_to_coefficients",
    "coefficients_to_values",
    "chebyshev_basis",
    "clenshaw",
    "chebyshev_evaluate",
    "derivative_coefficients",
    "integral_weights",
    "chebyshev_integral",
]
