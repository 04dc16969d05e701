"""ChebTucker: the mesh-free Chebyshev–Tucker format of Benner, Khoromskij, Khoromskaia and Sun.

A function on a box ``B = prod_k [a_k, b_k]`` is interpolated at the tensor grid of
Chebyshev–Lobatto points, its tensor of Chebyshev coefficients ``C`` (one DCT-I per axis) is
compressed to Tucker format ``C ~ G x_1 U_1 ... x_d U_d``, and

    f(x) ~ sum_a G[a] prod_k (sum_j U_k[j, a_k] T_j(s_k)),   s_k = 2 (x_k - a_k) / (b_k - a_k) - 1.

Evaluating at any point costs ``O(sum_k m_k r_k + prod_k r_k)``; a Tucker tensor on any tensor
grid is ``G x_k (T_k U_k)`` with the basis matrices ``T_k`` of the grid axes, so no grid of
values is ever formed.

References:
    P. Benner, B. N. Khoromskij, V. Khoromskaia, B. Sun, "A mesh-free hybrid Chebyshev-Tucker
    tensor format with applications to multi-particle modelling", arXiv:2503.01696 (2025).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import numpy as np

from .._validate import as_array, check_finite, check_positive_int
from ..data import Box, TensorGrid
from ._chebyshev import (
    chebyshev_basis,
    derivative_coefficients,
    integral_weights,
    values_to_coefficients,
)
from ._kernels import evaluate_tucker_chebyshev
from ._sampling import _adaptive_coefficients, _node_axes, _sampled_coefficients
from ._tucker import Tucker, hosvd, reduced_hosvd

__all__ = ["ChebTucker"]

_BACKENDS = ("numba", "jax")


def _check_box(box: Any, name: str = "box") -> Box:
    if not isinstance(box, Box):
        raise TypeError(f"{name} must be a tensorrom.data.Box, got {type(box).__name__}")
    return box


def _check_degree(degree: Any, dim: int) -> tuple[int, ...]:
    if isinstance(degree, (int, np.integer)) and not isinstance(degree, bool):
        degs = (int(degree),) * dim
    else:
        try:
            degs = tuple(degree)
        except TypeError:
            raise TypeError(
                f"degree must be an int or a sequence of {dim} ints, got {type(degree).__name__}"
            ) from None
        if len(degs) != dim:
            raise ValueError(f"degree must have {dim} entries (one per axis), got {len(degs)}")
    return tuple(check_positive_int(g, "degree", minimum=2) for g in degs)


def _is_real(x: Any) -> bool:
    """A finite real scalar (not a bool): an operand of ChebTucker arithmetic."""
    return (isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool)
            and bool(np.isfinite(x)))


def _coefficient_decay(core: np.ndarray, factors: Sequence[np.ndarray]) -> list[np.ndarray]:
    """``e_k[j] = ||C[..., j (axis k), ...]||_F = ||U_k[j] G_(k)||``, for orthonormal factors."""
    out = []
    for k, u in enumerate(factors):
        gk = np.moveaxis(core, k, 0).reshape(core.shape[k], -1)
        out.append(np.linalg.norm(u @ gk, axis=1))
    return out


def _chebyshev_tail(decay: list[np.ndarray]) -> float:
    # the last two degrees per axis (two, because of parity: even or odd functions have every
    # other coefficient zero)
    return float(sum(e[-1] + e[-2] for e in decay))


class ChebTucker:
    """A function on a box in the Chebyshev–Tucker format.

    Usually built by :meth:`from_function`, :meth:`from_cp` or :meth:`from_separable`.

    Args:
        core: Tucker core (r_1, ..., r_d).
        factors: coefficient-space factors, ``factors[k]`` of shape ``(degree_k + 1, r_k)``:
            row ``j`` holds the coefficients of ``T_j`` in each of the ``r_k`` mode vectors.
        box: the :class:`tensorrom.data.Box` the function lives on.
        truncation_error: bound on the Frobenius error of the Tucker compression of the
            coefficient tensor (0 if unknown).

    Attributes:
        box: the box.
        tucker: the coefficient tensor as a :class:`Tucker`.
        degree: polynomial degree per axis (an int when all axes agree, else a tuple); the
            interpolation uses ``degree + 1`` Chebyshev–Lobatto points per axis.
        ranks: Tucker ranks.
        nbytes: storage in bytes (core plus factors).
        truncation_error: the compression bound above.
        chebyshev_tail: sum over axes of the norms of the coefficient slices of the two highest
            degrees (the usual a-posteriori indicator of the interpolation error).
        sampled_error: max absolute error at ``n_check`` random check points against the input
            (function, separable factors, or CP data at random grid nodes), set by the
            constructors (None for a bare ``ChebTucker(...)``).
        error_estimate: the a-posteriori estimate of the max absolute error: ``sampled_error``
            when available, else ``chebyshev_tail + truncation_error``. No sample-based
            estimate can see features narrower than the Chebyshev node spacing that fall
            between the nodes (the unsplit Newton kernel is the example).
        coefficient_decay: per axis, ``||C[:, ..., j, ..., :]||_F`` for ``j = 0..degree``.
        singular_values: per mode, the singular values behind the truncation (or None).

    References:
        P. Benner, B. N. Khoromskij, V. Khoromskaia, B. Sun, arXiv:2503.01696 (2025).
    """

    def __init__(self, core: Any, factors: Sequence[Any], box: Box, *,
                 truncation_error: float = 0.0, singular_values=None):
        box = _check_box(box)
        tucker = Tucker(np.asarray(core, dtype=np.float64),
                        [np.asarray(f, dtype=np.float64) for f in factors])
        if tucker.ndim != box.dim:
            raise ValueError(f"core must have box.dim = {box.dim} axes, got {tucker.ndim}")
        for k, f in enumerate(tucker.factors):
            if f.shape[0] < 3:
                raise ValueError(f"factors[{k}] must have >= 3 rows (degree >= 2)")
        self.box = box
        self.tucker = tucker
        self.truncation_error = float(truncation_error)
        self.singular_values = singular_values
        self.coefficient_decay = _coefficient_decay(tucker.core, tucker.factors)
        self.chebyshev_tail = _chebyshev_tail(self.coefficient_decay)
        self.sampled_error: float | None = None
        self.error_estimate = self.chebyshev_tail + self.truncation_error
        self._derivative_factors = None

    def _set_sampled_error(self, points: np.ndarray, reference: np.ndarray) -> None:
        if points.shape[0] == 0:
            return
        err = float(np.max(np.abs(self.evaluate(points) - reference)))
        self.sampled_error = err
        self.error_estimate = err

    # -- constructors ---------------------------------------------------------------------
    @classmethod
    def from_function(
        cls,
        f: Callable[[np.ndarray], Any],
        box: Box,
        degree: int | Sequence[int] | str = 64,
        rtol: float | None = 1e-8,
        *,
        atol: float | None = None,
        ranks: int | Sequence[int] | None = None,
        max_degree: int = 256,
        batch_size: int = 1 << 18,
        sequential: bool = True,
        n_check: int = 1000,
        seed: int = 0,
    ) -> ChebTucker:
        """Interpolate a vectorised function at the Chebyshev–Lobatto tensor grid, then compress.

        Samples ``f`` at the ``prod_k (degree_k + 1)`` nodes (in batches of points), applies
        a DCT-I per axis (in place) and a truncated HOSVD of the coefficient tensor with
        ``tail_k <= rtol ||C||_F / sqrt(d)`` per mode (the paper's rule for full input), so
        that ``||C - C_T||_F <= rtol ||C||_F``.

        Args:
            f: callable mapping points (M, d) (box coordinates) to values (M,).
            box: the domain.
            degree: polynomial degree per axis (int or one per axis, >= 2), or ``"auto"``:
                per axis, start at 16 and double until the coefficients of the highest
                eighth of the degrees fall below the tolerance (``rtol ||C||_F / (2 sqrt
                d)``, or ``atol``), then chop each axis to the lowest degree whose higher
                coefficients stay below it, as Chebfun builds a function; at most
                ``max_degree`` and 2^25 samples (RuntimeWarning if a direction stays
                unresolved). All sampling costs at most 8/7 of the last round in 3D.
            max_degree: the largest degree ``"auto"`` may reach (default 256).
            rtol: relative HOSVD tolerance (on the coefficient tensor, Frobenius norm).
            atol: absolute HOSVD tolerance instead of ``rtol``.
            ranks: fixed Tucker ranks instead of a tolerance.
            batch_size: number of points per call of ``f``.
            sequential: use the sequentially truncated HOSVD (same error bound, about d times
                cheaper; ``False`` gives the plain truncated HOSVD of the paper's code).
            n_check: number of uniformly random points where ``f`` is compared with the result
                to set ``error_estimate`` (0: skip).
            seed: seed of the check points.

        Returns:
            ChebTucker.
        """
        box = _check_box(box)
        if not callable(f):
            raise TypeError(f"f must be callable, got {type(f).__name__}")
        adaptive = isinstance(degree, str)
        if adaptive and degree != "auto":
            raise ValueError(f"degree must be an int, a sequence of ints or 'auto', got "
                             f"{degree!r}")
        degrees = None if adaptive else _check_degree(degree, box.dim)
        max_degree = check_positive_int(max_degree, "max_degree", minimum=2)
        batch_size = check_positive_int(batch_size, "batch_size")
        n_check = check_positive_int(n_check, "n_check", minimum=0)
        if ranks is not None:
            rtol = None
        elif atol is not None:
            rtol = None
        if adaptive:
            coeffs = _adaptive_coefficients(f, box, rtol, atol, max_degree, batch_size)
        else:
            coeffs = _sampled_coefficients(f, box, degrees, batch_size)
        t = hosvd(coeffs, rtol, atol=atol, ranks=ranks, sequential=sequential)
        # HOSVD bound ||C - C_T||_F <= sqrt(sum_k tail_k^2) (no cancellation, unlike
        # sqrt(||C||^2 - ||G||^2))
        err = float(np.sqrt(sum(np.sum(sv[r:] ** 2) for sv, r in zip(t.singular_values,
                                                                       t.ranks))))
        ct = cls(t.core, t.factors, box, truncation_error=err, singular_values=t.singular_values)
        if n_check:
            pts = box.from_reference(np.random.default_rng(seed).uniform(-1, 1, (n_check,
                                                                                 box.dim)))
            ref = np.asarray(f(pts), dtype=np.float64).reshape(-1)
            ct._set_sampled_error(pts, ref)
        return ct

    @classmethod
    def from_separable(
        cls,
        weights: Any,
        factor_functions: Sequence[Callable[[np.ndarray], Any]],
        box: Box,
        degree: int | Sequence[int] = 64,
        rtol: float | None = 1e-8,
        *,
        atol: float | None = None,
        ranks: int | Sequence[int] | None = None,
        n_check: int = 1000,
        seed: int = 0,
    ) -> ChebTucker:
        """Chebyshev–Tucker form of a sum of separable terms given by exact 1D callables.

        Represents ``f(x) = sum_{r=0}^{R-1} weights[r] * prod_{k=0}^{d-1} F_k(x_k)[r]``.
        Each ``F_k`` is evaluated once at the ``degree_k + 1`` Chebyshev–Lobatto nodes of axis
        ``k``, the (m_k, R) columns are transformed to Chebyshev coefficients (DCT-I), and the
        resulting CP coefficient tensor is compressed by the reduced HOSVD
        (:func:`tensorrom.tensor.reduced_hosvd`) without forming any d-dimensional array:
        per mode, tail of the singular values of the column-normalised side matrix
        ``<= rtol / d``, so the Frobenius error of the coefficients is
        ``<= rtol * ||w||_2`` with ``w_r = weights[r] prod_k ||column r of axis k||``.

        Args:
            weights: (R,) weights of the separable terms.
            factor_functions: sequence of ``d`` callables; ``factor_functions[k]`` maps a 1D
                array of node coordinates on axis ``k`` (m,) (box coordinates) to an (m, R)
                array of the R separable factor values on that axis.
            box: the :class:`tensorrom.data.Box` (d axes).
            degree: polynomial degree per axis, int or one per axis (>= 2; ``degree + 1``
                nodes).
            rtol: reduced-HOSVD tolerance (see above).
            atol: absolute Frobenius tolerance on the coefficient tensor instead of ``rtol``.
            ranks: fixed Tucker ranks instead of a tolerance.
            n_check: number of uniformly random points where the separable sum is compared
                with the result to set ``error_estimate`` (0: skip; costs ``d`` extra calls).
            seed: seed of the check points.

        Returns:
            ChebTucker.

        References:
            Benner, Khoromskij, Khoromskaia, Sun, arXiv:2503.01696 (2025), sec. 3-4;
            Khoromskij, Khoromskaia, SIAM J. Sci. Comput. 31 (2009) 3002-3026 (RHOSVD).
        """
        box = _check_box(box)
        w = np.asarray(as_array(weights, "weights", ndim=1), dtype=np.float64)
        check_finite(w, "weights")
        if isinstance(factor_functions, np.ndarray) or not isinstance(factor_functions,
                                                                     Sequence):
            raise TypeError("factor_functions must be a sequence of d callables")
        if len(factor_functions) != box.dim:
            raise ValueError(
                f"factor_functions must hold box.dim = {box.dim} callables, "
                f"got {len(factor_functions)}"
            )
        for k, fk in enumerate(factor_functions):
            if not callable(fk):
                raise TypeError(f"factor_functions[{k}] must be callable")
        degrees = _check_degree(degree, box.dim)
        n_check = check_positive_int(n_check, "n_check", minimum=0)
        axes = _node_axes(box, degrees)
        side = []
        for k, (fk, ax) in enumerate(zip(factor_functions, axes)):
            vals = np.asarray(fk(ax.copy()))
            if vals.shape != (ax.size, w.size):
                raise ValueError(
                    f"factor_functions[{k}] must return shape ({ax.size}, {w.size}) "
                    f"(nodes, len(weights)), got {vals.shape}"
                )
            if vals.dtype.kind not in "biuf":
                raise ValueError(f"factor_functions[{k}] must return real numbers")
            vals = vals.astype(np.float64)
            if not np.all(np.isfinite(vals)):
                raise ValueError(f"factor_functions[{k}] returned non-finite values")
            side.append(values_to_coefficients(vals, axes=0))
        ct = cls._from_cp_coefficients(w, side, box, rtol, atol, ranks)
        if n_check:
            pts = box.from_reference(np.random.default_rng(seed).uniform(-1, 1, (n_check,
                                                                                 box.dim)))
            ref = np.empty(n_check)
            step = max(1, (1 << 21) // max(w.size, 1))  # bound the (points, R) temporaries
            for start in range(0, n_check, step):
                q = pts[start:start + step]
                prod = np.broadcast_to(w, (q.shape[0], w.size))
                for k, fk in enumerate(factor_functions):
                    prod = prod * np.asarray(fk(q[:, k].copy()), dtype=np.float64)
                ref[start:start + step] = prod.sum(axis=1)
            ct._set_sampled_error(pts, ref)
        return ct

    @classmethod
    def from_cp(
        cls,
        weights: Any,
        factors: Sequence[Any],
        grid: TensorGrid,
        degree: int | Sequence[int] = 128,
        rtol: float | None = 1e-7,
        *,
        atol: float | None = None,
        ranks: int | Sequence[int] | None = None,
        n_check: int = 1000,
        seed: int = 0,
    ) -> ChebTucker:
        """Chebyshev–Tucker form of a CP tensor whose vectors are sampled on a grid.

        ``f(x) = sum_r weights[r] prod_k u_{k,r}(x_k)``, with ``u_{k,r}`` known at the nodes of
        ``grid.axes[k]``. Each column is interpolated to the Chebyshev–Lobatto nodes of
        ``grid.box`` by a not-a-knot cubic spline (extrapolated beyond the outermost grid nodes,
        as for cell-centred grids), transformed by DCT-I, and the CP coefficient tensor is
        compressed by the reduced HOSVD (rule as in :meth:`from_separable`). No d-dimensional
        array is formed.

        Args:
            weights: (R,) CP weights.
            factors: ``d`` arrays, ``factors[k]`` of shape ``(grid.shape[k], R)``.
            grid: :class:`tensorrom.data.TensorGrid` (>= 4 nodes per axis); its box is the
                domain.
            degree: polynomial degree per axis (>= 2).
            rtol: reduced-HOSVD tolerance (the paper uses 1e-7 with degree 128).
            atol: absolute tolerance instead.
            ranks: fixed ranks instead.
            n_check: number of random grid nodes where the CP data are compared with the
                result to set ``error_estimate`` (0: skip).
            seed: seed of the check nodes.

        Returns:
            ChebTucker.

        References:
            Benner, Khoromskij, Khoromskaia, Sun, arXiv:2503.01696 (2025), sec. 4.
        """
        from scipy.interpolate import CubicSpline

        if not isinstance(grid, TensorGrid):
            raise TypeError(f"grid must be a tensorrom.data.TensorGrid, got {type(grid).__name__}")
        w = np.asarray(as_array(weights, "weights", ndim=1), dtype=np.float64)
        if isinstance(factors, np.ndarray) or not isinstance(factors, Sequence):
            raise TypeError("factors must be a sequence of d 2D arrays")
        if len(factors) != grid.dim:
            raise ValueError(f"factors must hold grid.dim = {grid.dim} arrays, got {len(factors)}")
        facs = []
        for k, fk in enumerate(factors):
            a = np.asarray(as_array(fk, f"factors[{k}]", ndim=2), dtype=np.float64)
            if a.shape != (grid.shape[k], w.size):
                raise ValueError(
                    f"factors[{k}] must have shape ({grid.shape[k]}, {w.size}) "
                    f"(grid.shape[{k}], len(weights)), got {a.shape}"
                )
            facs.append(a)
        for k, n in enumerate(grid.shape):
            if n < 4:
                raise ValueError(f"grid must have >= 4 nodes per axis, axis {k} has {n}")
        check_finite(w, "weights")
        for k, a in enumerate(facs):
            check_finite(a, f"factors[{k}]")
        degrees = _check_degree(degree, grid.dim)
        n_check = check_positive_int(n_check, "n_check", minimum=0)
        axes = _node_axes(grid.box, degrees)
        side = []
        for k, (a, ax) in enumerate(zip(facs, axes)):
            vals = CubicSpline(grid.axes[k], a, axis=0, extrapolate=True)(ax)
            side.append(values_to_coefficients(vals, axes=0))
        ct = cls._from_cp_coefficients(w, side, grid.box, rtol, atol, ranks)
        if n_check:
            rng = np.random.default_rng(seed)
            idx = [rng.integers(0, n, n_check) for n in grid.shape]
            pts = np.stack([grid.axes[k][i] for k, i in enumerate(idx)], axis=1)
            ref = np.empty(n_check)
            step = max(1, (1 << 21) // max(w.size, 1))  # bound the (points, R) temporaries
            for start in range(0, n_check, step):
                prod = np.broadcast_to(w, (min(step, n_check - start), w.size))
                for k, i in enumerate(idx):
                    prod = prod * facs[k][i[start:start + step]]
                ref[start:start + step] = prod.sum(axis=1)
            ct._set_sampled_error(pts, ref)
        return ct

    @classmethod
    def _from_cp_coefficients(cls, w, side, box, rtol, atol, ranks) -> ChebTucker:
        if ranks is not None or atol is not None:
            rtol = None
        t = reduced_hosvd(w, side, rtol, atol=atol, ranks=ranks)
        # error bound of the RHOSVD: ||w_normalised||_2 * sum_k tail_k
        scale = w.copy()
        for c in side:
            scale = scale * np.linalg.norm(c, axis=0)
        tails = [float(np.sqrt(np.sum(s[r:] ** 2))) for s, r in zip(t.singular_values, t.ranks)]
        err = float(np.linalg.norm(scale)) * sum(tails)
        return cls(t.core, t.factors, box, truncation_error=err,
                   singular_values=t.singular_values)

    # -- attributes -----------------------------------------------------------------------
    @property
    def dim(self) -> int:
        return self.box.dim

    @property
    def degrees(self) -> tuple[int, ...]:
        """Polynomial degree per axis (tuple)."""
        return tuple(f.shape[0] - 1 for f in self.tucker.factors)

    @property
    def degree(self) -> int | tuple[int, ...]:
        g = self.degrees
        return g[0] if len(set(g)) == 1 else g

    @property
    def ranks(self) -> tuple[int, ...]:
        return self.tucker.ranks

    @property
    def nbytes(self) -> int:
        return self.tucker.nbytes

    @property
    def core(self) -> np.ndarray:
        return self.tucker.core

    @property
    def factors(self) -> tuple[np.ndarray, ...]:
        return self.tucker.factors

    def __repr__(self) -> str:
        return (f"ChebTucker(box={self.box!r}, degree={self.degree}, ranks={self.ranks}, "
                f"nbytes={self.nbytes}, error_estimate={self.error_estimate:.2e})")

    # -- evaluation -----------------------------------------------------------------------
    def _check_points(self, points: Any, extrapolate: bool, name: str = "points") -> np.ndarray:
        p = as_array(points, name, ndim=2)
        if p.shape[1] != self.dim:
            raise ValueError(
                f"{name} must have {self.dim} coordinates per point (box.dim), got {p.shape[1]}"
            )
        p = np.asarray(p, dtype=np.float64)
        check_finite(p, name)
        if not extrapolate:
            self.box.check_contains(p, name, atol=1e-12 * float(np.max(self.box.lengths)))
        return p

    def __call__(self, points: Any, *, extrapolate: bool = False) -> np.ndarray:
        """Values at points (N, d) of the box (Numba backend); see :meth:`evaluate`."""
        return self.evaluate(points, extrapolate=extrapolate)

    def evaluate(self, points: Any, backend: str = "numba", *, extrapolate: bool = False):
        """Evaluate the function at scattered points.

        ``f(x) = G x_1 v_1(x_1) ... x_d v_d(x_d)``, ``v_k = U_k^T [T_0(s_k), ..., T_n(s_k)]``.

        Args:
            points: (N, d) points in box coordinates.
            backend: ``"numba"`` (CPU, parallel over points; returns NumPy) or ``"jax"``
                (jitted, runs on the default JAX device in float64 through a scoped
                ``jax.enable_x64(True)``; returns a JAX array).
            extrapolate: allow points outside the box (the polynomial is extended; it grows
                fast outside). Otherwise such points raise ValueError.

        Returns:
            values (N,).
        """
        if backend not in _BACKENDS:
            raise ValueError(f"backend must be one of {_BACKENDS}, got {backend!r}")
        p = self._check_points(points, extrapolate)
        if backend == "numba":
            return evaluate_tucker_chebyshev(p, self.box.lo, self.box.lengths, self.core,
                                             self.factors)
        return _evaluate_jax(p, self.box.lo, self.box.lengths, self.core, self.factors)

    def _derivatives(self) -> list[np.ndarray]:
        if self._derivative_factors is None:
            self._derivative_factors = [
                derivative_coefficients(u, axis=0) * (2.0 / self.box.lengths[k])
                for k, u in enumerate(self.factors)
            ]
        return self._derivative_factors

    def gradient(self, points: Any, backend: str = "numba", *,
                 extrapolate: bool = False):
        """Gradient at points (N, d): axis ``k`` uses the derivative coefficients of ``U_k``.

        ``d f / d x_k = (2 / L_k) G x_k (T^T D U_k) x_{j != k} (T^T U_j)`` with the Chebyshev
        differentiation recurrence ``D`` (:func:`derivative_coefficients`).

        Args:
            points: (N, d) points in box coordinates.
            backend: ``"numba"`` or ``"jax"``.
            extrapolate: allow points outside the box.

        Returns:
            (N, d) gradient (units of f per unit length).
        """
        if backend not in _BACKENDS:
            raise ValueError(f"backend must be one of {_BACKENDS}, got {backend!r}")
        p = self._check_points(points, extrapolate)
        deriv = self._derivatives()
        cols = []
        for k in range(self.dim):
            facs = list(self.factors)
            facs[k] = deriv[k]
            if backend == "numba":
                cols.append(evaluate_tucker_chebyshev(p, self.box.lo, self.box.lengths,
                                                      self.core, facs))
            else:
                cols.append(_evaluate_jax(p, self.box.lo, self.box.lengths, self.core, facs))
        if backend == "numba":
            return np.stack(cols, axis=1)
        import jax.numpy as jnp

        return jnp.stack(cols, axis=1)

    def on_grid(self, grid: TensorGrid, *, extrapolate: bool = False) -> Tucker:
        """The function's values on a tensor grid as a Tucker tensor (no grid array formed).

        ``F = G x_1 (T_1 U_1) ... x_d (T_d U_d)``, ``T_k[i, j] = T_j(s_k(grid.axes[k][i]))``.

        Args:
            grid: :class:`tensorrom.data.TensorGrid` with ``d`` axes inside the box.
            extrapolate: allow grid nodes outside the box.

        Returns:
            :class:`Tucker` of shape ``grid.shape`` (factors no longer orthonormal).
        """
        if not isinstance(grid, TensorGrid):
            raise TypeError(f"grid must be a tensorrom.data.TensorGrid, got {type(grid).__name__}")
        if grid.dim != self.dim:
            raise ValueError(f"grid must have {self.dim} axes (box.dim), got {grid.dim}")
        facs = []
        for k, (ax, u) in enumerate(zip(grid.axes, self.factors)):
            lo, hi = self.box.lower[k], self.box.upper[k]
            tol = 1e-12 * (hi - lo)
            if not extrapolate and (ax[0] < lo - tol or ax[-1] > hi + tol):
                raise ValueError(f"grid has nodes outside the box on axis {k}")
            s = 2.0 * (ax - lo) / (hi - lo) - 1.0
            facs.append(chebyshev_basis(s, u.shape[0]) @ u)
        return Tucker(self.core.copy(), facs)

    def integral(self) -> float:
        """Integral over the box: ``prod_k (L_k / 2) G x_k (w^T U_k)``, ``w_j = int T_j``."""
        out = self.core
        for u in reversed(self.factors):
            out = out @ (integral_weights(u.shape[0]) @ u)
        return float(out) * float(np.prod(self.box.lengths / 2.0))

    # -- arithmetic -----------------------------------------------------------------------
    def recompress(self, rtol: float | None = 1e-12, *, atol: float | None = None,
                   ranks: int | Sequence[int] | None = None) -> ChebTucker:
        r"""The same function with the Tucker ranks truncated again: the factors are
        orthonormalised (QR), and the small core ``G x_k R_k`` is decomposed by its HOSVD
        (relative ``rtol``, absolute ``atol`` or fixed ``ranks``, as :func:`hosvd`); the
        Frobenius error of the coefficients grows by at most that tolerance, which is added
        to ``truncation_error``. Cost :math:`O(\sum_k m_k r_k^2 + r^{d+1})`."""
        qs, core = [], self.core
        for k, u in enumerate(self.factors):
            q, r = np.linalg.qr(u)
            qs.append(q)
            core = np.moveaxis(np.tensordot(r, core, axes=(1, k)), 0, k)
        norm = float(np.linalg.norm(core))
        if norm == 0.0:  # the zero function: rank 1, a zero core
            return ChebTucker(np.zeros((1,) * self.dim), [q[:, :1] for q in qs], self.box,
                              truncation_error=self.truncation_error)
        t = hosvd(core, rtol, atol=atol, ranks=ranks)
        err = float(np.sqrt(sum(np.sum(sv[r:] ** 2) for sv, r in zip(t.singular_values,
                                                                       t.ranks))))
        return ChebTucker(t.core, [q @ v for q, v in zip(qs, t.factors)], self.box,
                          truncation_error=self.truncation_error + err)

    def _as_operand(self, other: Any, op: str) -> ChebTucker:
        if isinstance(other, ChebTucker):
            if other.dim != self.dim:
                raise ValueError(f"cannot {op} ChebTuckers of dimension {self.dim} and "
                                 f"{other.dim}")
            scale = np.maximum(np.abs(np.asarray(self.box.lengths)), 1.0)
            lo_a, hi_a = np.asarray(self.box.lower), np.asarray(self.box.upper)
            lo_b, hi_b = np.asarray(other.box.lower), np.asarray(other.box.upper)
            if (np.any(np.abs(lo_b - lo_a) > 1e-12 * scale)
                    or np.any(np.abs(hi_b - hi_a) > 1e-12 * scale)):
                raise ValueError(f"cannot {op} ChebTuckers on different boxes: {self.box!r} "
                                 f"and {other.box!r} (rebuild one on the other's box)")
            return other
        if _is_real(other):
            # a constant is c T_0 ... T_0: a rank-1 term
            return ChebTucker(np.full((1,) * self.dim, float(other)),
                              [np.eye(g + 1, 1) for g in self.degrees], self.box)
        raise TypeError(f"cannot {op} a ChebTucker and {type(other).__name__} (expected a "
                        f"ChebTucker on the same box or a finite real number)")

    def __add__(self, other: Any) -> ChebTucker:
        """``f + g`` (same box; degrees may differ, the lower ones padded with zero
        coefficients) or ``f + c``: the Tucker sum (block-diagonal core, stacked factors),
        then :meth:`recompress` to ``1e-13`` of the operands' coefficient norms (only what
        rounding cannot tell apart is dropped; ``f - f`` has rank 1; call :meth:`recompress`
        with a looser tolerance to compress further)."""
        g = self._as_operand(other, "add")
        degs = [max(a, b) for a, b in zip(self.degrees, g.degrees)]
        ra, rb = self.ranks, g.ranks
        core = np.zeros(tuple(a + b for a, b in zip(ra, rb)))
        core[tuple(slice(0, a) for a in ra)] = self.core
        core[tuple(slice(a, a + b) for a, b in zip(ra, rb))] = g.core
        factors = []
        for k, m in enumerate(degs):
            u = np.zeros((m + 1, ra[k] + rb[k]))
            u[: self.factors[k].shape[0], : ra[k]] = self.factors[k]
            u[: g.factors[k].shape[0], ra[k]:] = g.factors[k]
            factors.append(u)
        out = ChebTucker(core, factors, self.box,
                         truncation_error=self.truncation_error + g.truncation_error)
        # the cores' norms are the operands' coefficient norms (for orthonormal factors, as
        # every constructor and recompress make them)
        scale = float(np.linalg.norm(self.core)) + float(np.linalg.norm(g.core))
        return out.recompress(None, atol=1e-13 * scale) if scale > 0 else out.recompress()

    __radd__ = __add__

    def __neg__(self) -> ChebTucker:
        return ChebTucker(-self.core, self.factors, self.box,
                          truncation_error=self.truncation_error)

    def __sub__(self, other: Any) -> ChebTucker:
        """``f - g`` or ``f - c``, as :meth:`__add__`."""
        return self + (-self._as_operand(other, "subtract"))

    def __rsub__(self, other: Any) -> ChebTucker:
        return (-self) + other

    def __mul__(self, other: Any) -> ChebTucker:
        """``c f`` for a finite real number ``c`` (the core scaled)."""
        if _is_real(other):
            return ChebTucker(float(other) * self.core, self.factors, self.box,
                              truncation_error=abs(float(other)) * self.truncation_error)
        raise TypeError(f"a ChebTucker can be multiplied by a finite real number, not by "
                        f"{type(other).__name__} (products of functions are not supported)")

    __rmul__ = __mul__

    def __truediv__(self, other: Any) -> ChebTucker:
        if _is_real(other) and other != 0:
            return self * (1.0 / float(other))
        raise TypeError(f"a ChebTucker can be divided by a finite nonzero real number, not by "
                        f"{other!r}")


# -- JAX backend ---------------------------------------------------------------------------
_JAX_BATCH = 1 << 18


def _jax_kernel():
    import jax
    import jax.numpy as jnp

    @partial(jax.jit, static_argnames=())
    def kernel(points, lower, scale, core, factors):
        d = points.shape[1]
        s = (points - lower) * scale - 1.0
        vs = []
        for k in range(d):
            m = factors[k].shape[0]
            x = s[:, k]

            def step(carry, _, x=x):
                t_prev, t_cur = carry
                t_next = 2.0 * x * t_cur - t_prev
                return (t_cur, t_next), t_next

            t0 = jnp.ones_like(x)
            if m > 2:
                _, rest = jax.lax.scan(step, (t0, x), None, length=m - 2)
                basis = jnp.concatenate([t0[None], x[None], rest], axis=0)  # (m, N)
            else:
                basis = jnp.stack([t0, x])[:m]
            vs.append(basis.T @ factors[k])  # (N, r_k)
        n = points.shape[0]
        # contract the last mode first: (N, P / r_d)
        t = vs[-1] @ core.reshape(-1, core.shape[-1]).T
        for k in range(d - 2, -1, -1):
            t = t.reshape(n, -1, core.shape[k])
            t = jnp.einsum("npc,nc->np", t, vs[k])
        return t.reshape(n)

    return kernel


_KERNEL = None


def _evaluate_jax(points, lower, lengths, core, factors):
    """Evaluate in float64 under a scoped ``jax.enable_x64(True)``, in fixed-size batches."""
    import jax
    import jax.numpy as jnp

    global _KERNEL
    if _KERNEL is None:
        _KERNEL = _jax_kernel()
    n = points.shape[0]
    inner = int(np.prod(core.shape[:-1])) if core.ndim > 1 else 1
    batch = int(min(_JAX_BATCH, max(1024, (1 << 26) // max(inner, 1))))
    batch = 1 << (batch.bit_length() - 1)
    if n <= batch:
        batch = max(1, 1 << (max(n - 1, 0)).bit_length())
    with jax.enable_x64(True):
        lo = jnp.asarray(lower, dtype=jnp.float64)
        sc = jnp.asarray(2.0 / np.asarray(lengths), dtype=jnp.float64)
        g = jnp.asarray(core, dtype=jnp.float64)
        fs = tuple(jnp.asarray(f, dtype=jnp.float64) for f in factors)
        outs = []
        for start in range(0, n, batch):
            chunk = np.asarray(points[start:start + batch], dtype=np.float64)
            m = chunk.shape[0]
            if m < batch:  # pad with the box centre so every call has the same shape
                pad = np.broadcast_to(np.asarray(lower) + 0.5 * np.asarray(lengths),
                                      (batch - m, chunk.shape[1]))
                chunk = np.concatenate([chunk, pad], axis=0)
            outs.append(_KERNEL(jnp.asarray(chunk), lo, sc, g, fs)[:m])
        if not outs:
            return jnp.zeros((0,), dtype=jnp.float64)
        return outs[0] if len(outs) == 1 else jnp.concatenate(outs)
