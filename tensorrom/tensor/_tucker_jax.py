"""JAX versions of the truncated HOSVD and HOOI with fixed ranks and iteration counts.

They trace once per (shape, ranks, n_iter) and run under ``jax.jit`` on any device; the
ranks and the number of sweeps are static so that every array shape is known at trace time.
They compute in the dtype of the input (pass float64 inside ``with jax.enable_x64(True):``
for the accuracy of the NumPy versions).

References:
    L. De Lathauwer, B. De Moor, J. Vandewalle, SIAM J. Matrix Anal. Appl. 21 (2000)
    1253-1278 and 1324-1342 (HOSVD and HOOI).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp

from .._validate import as_array, check_positive_int
from ._tucker import Tucker, _check_ranks

__all__ = ["hosvd_jax", "hooi_jax"]


def _mode_product(tensor, matrix, mode: int):
    return jnp.moveaxis(jnp.tensordot(matrix, tensor, axes=([1], [mode])), 0, mode)


def _leading(unfolding, r: int):
    u, _, _ = jnp.linalg.svd(unfolding, full_matrices=False)
    return u[:, :r]


@partial(jax.jit, static_argnames=("ranks",))
def _hosvd(a, ranks: tuple[int, ...]):
    factors = []
    for k, r in enumerate(ranks):
        unfolding = jnp.moveaxis(a, k, 0).reshape(a.shape[k], -1)
        factors.append(_leading(unfolding, r))
    core = a
    for k, u in enumerate(factors):
        core = _mode_product(core, u.T, k)
    return core, tuple(factors)


@partial(jax.jit, static_argnames=("ranks", "n_iter"))
def _hooi(a, ranks: tuple[int, ...], n_iter: int):
    _, factors = _hosvd(a, ranks)
    d = a.ndim

    def sweep(factors, _):
        factors = list(factors)
        for k in range(d):
            y = a
            for j in range(d):
                if j != k:
                    y = _mode_product(y, factors[j].T, j)
            factors[k] = _leading(jnp.moveaxis(y, k, 0).reshape(a.shape[k], -1), ranks[k])
        return tuple(factors), None

    factors, _ = jax.lax.scan(sweep, factors, None, length=n_iter)
    core = a
    for k, u in enumerate(factors):
        core = _mode_product(core, u.T, k)
    return core, factors


def _as_jax(array: Any):
    a = as_array(array, "array")
    if a.ndim < 1 or a.size == 0:
        raise ValueError(f"array must be a non-empty tensor, got shape {tuple(a.shape)}")
    return jnp.asarray(a)


def hosvd_jax(array: Any, ranks: int | Sequence[int]) -> Tucker:
    """Truncated HOSVD with fixed ranks, jitted (JAX arrays in and out).

    ``U_k`` = leading ``r_k`` left singular vectors of the unfolding ``A_(k)``,
    ``core = A x_1 U_1^T ... x_d U_d^T``.

    Args:
        array: array (n_1, ..., n_d) (NumPy or JAX; its dtype is kept).
        ranks: ranks (int or one per mode), static.

    Returns:
        :class:`Tucker` holding JAX arrays.
    """
    a = _as_jax(array)
    ranks = _check_ranks(ranks, tuple(a.shape))
    core, factors = _hosvd(a, ranks)
    return Tucker(core, list(factors))


def hooi_jax(array: Any, ranks: int | Sequence[int], n_iter: int = 10) -> Tucker:
    """HOOI (ALS) with a fixed number of sweeps under ``jax.lax.scan``, jitted.

    Starts from :func:`hosvd_jax`; each sweep sets ``U_k`` to the leading left singular vectors
    of ``(A x_{j != k} U_j^T)_(k)``.

    Args:
        array: array (n_1, ..., n_d).
        ranks: ranks (int or one per mode), static.
        n_iter: number of sweeps (static, >= 0).

    Returns:
        :class:`Tucker` holding JAX arrays.
    """
    a = _as_jax(array)
    ranks = _check_ranks(ranks, tuple(a.shape))
    n_iter = check_positive_int(n_iter, "n_iter", minimum=0)
    core, factors = _hooi(a, ranks, n_iter)
    return Tucker(core, list(factors))
