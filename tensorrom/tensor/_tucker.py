"""The Tucker format and its decompositions: truncated HOSVD, HOOI, reduced HOSVD of CP input.

A Tucker tensor is ``A = G x_1 U_1 x_2 U_2 ... x_d U_d``, i.e.

    A[i_1, ..., i_d] = sum_{a} G[a_1, ..., a_d] U_1[i_1, a_1] ... U_d[i_d, a_d],

with a core ``G`` of shape ``(r_1, ..., r_d)`` and factor matrices ``U_k`` of shape
``(n_k, r_k)`` (orthonormal columns when produced by the decompositions here).

Truncation rule (shared by :func:`hosvd` and :func:`reduced_hosvd`): per mode ``k`` keep the
smallest ``r_k`` whose singular-value tail ``sqrt(sum_{i > r_k} sigma_{k,i}^2)`` is at most a
threshold ``t``. For the HOSVD of a full array, ``t = rtol ||A||_F / sqrt(d)`` (or
``atol / sqrt(d)``), which guarantees ``||A - T||_F <= rtol ||A||_F`` (resp. ``<= atol``)
because the squared HOSVD error is at most the sum of the squared tails.

References:
    L. De Lathauwer, B. De Moor, J. Vandewalle, "A multilinear singular value decomposition",
    SIAM J. Matrix Anal. Appl. 21 (2000) 1253-1278 (HOSVD; HOOI in the companion paper
    "On the best rank-1 and rank-(R1,...,RN) approximation of higher-order tensors", 1324-1342).
    B. N. Khoromskij, V. Khoromskaia, "Multigrid accelerated tensor approximation of function
    related multidimensional arrays", SIAM J. Sci. Comput. 31 (2009) 3002-3026 (reduced HOSVD
    of canonical input).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .._validate import as_array, check_finite, check_positive_float, check_positive_int

__all__ = ["Tucker", "hosvd", "hooi", "reduced_hosvd", "truncation_rank"]


def _xp(*arrays):
    for a in arrays:
        if type(a).__module__.startswith(("jax", "jaxlib")):
            import jax.numpy as jnp

            return jnp
    return np


def _mode_product(xp, tensor, matrix, mode: int):
    """``tensor x_mode matrix``: contract axis ``mode`` of tensor with the columns of matrix."""
    out = xp.tensordot(matrix, tensor, axes=([1], [mode]))
    return xp.moveaxis(out, 0, mode)


class Tucker:
    """A tensor in Tucker format, ``core x_1 factors[0] ... x_d factors[d-1]``.

    Args:
        core: array of shape ``(r_1, ..., r_d)``.
        factors: sequence of ``d`` matrices, ``factors[k]`` of shape ``(n_k, r_k)``.
            NumPy or JAX arrays (kept as given, no copy is forced).

    Attributes:
        core, factors: as given (``factors`` as a tuple).
        ranks: ``(r_1, ..., r_d)``.
        shape: ``(n_1, ..., n_d)``, the shape of the full tensor.
        nbytes: storage of core and factors in bytes.
    """

    def __init__(self, core: Any, factors: Sequence[Any]):
        core = as_array(core, "core")
        if isinstance(factors, (np.ndarray,)) or not isinstance(factors, Sequence):
            raise TypeError("factors must be a sequence of 2D arrays (one per mode)")
        facs = tuple(as_array(f, f"factors[{k}]", ndim=2) for k, f in enumerate(factors))
        if core.ndim != len(facs):
            raise ValueError(
                f"factors must hold core.ndim = {core.ndim} matrices, got {len(facs)}"
            )
        for k, f in enumerate(facs):
            if f.shape[1] != core.shape[k]:
                raise ValueError(
                    f"factors[{k}] must have {core.shape[k]} columns (core.shape[{k}]), "
                    f"got shape {tuple(f.shape)}"
                )
        self.core = core
        self.factors = facs

    @property
    def ranks(self) -> tuple[int, ...]:
        return tuple(int(s) for s in self.core.shape)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(int(f.shape[0]) for f in self.factors)

    @property
    def ndim(self) -> int:
        return len(self.factors)

    @property
    def nbytes(self) -> int:
        return int(self.core.nbytes + sum(f.nbytes for f in self.factors))

    def full(self):
        """The full tensor (n_1, ..., n_d) (NumPy or JAX, like the stored arrays)."""
        xp = _xp(self.core, *self.factors)
        out = self.core
        for k, f in enumerate(self.factors):
            out = _mode_product(xp, out, f, k)
        return out

    def norm(self) -> float:
        """Frobenius norm, assuming orthonormal factor columns (then ``||A|| = ||core||``)."""
        return float(np.linalg.norm(np.asarray(self.core)))

    def to_tensorly(self):
        """The same tensor as a ``tensorly.tucker_tensor.TuckerTensor`` (NumPy arrays)."""
        from tensorly.tucker_tensor import TuckerTensor

        return TuckerTensor((np.asarray(self.core), [np.asarray(f) for f in self.factors]))

    @classmethod
    def from_tensorly(cls, tucker_tensor: Any) -> Tucker:
        """Build from a tensorly ``TuckerTensor`` or a ``(core, factors)`` pair."""
        try:
            core, factors = tucker_tensor
        except (TypeError, ValueError):
            raise TypeError(
                "tucker_tensor must be a tensorly TuckerTensor or a (core, factors) pair"
            ) from None
        return cls(np.asarray(core), [np.asarray(f) for f in factors])

    def __repr__(self) -> str:
        return f"Tucker(shape={self.shape}, ranks={self.ranks}, nbytes={self.nbytes})"


def truncation_rank(singular_values: Any, threshold: float) -> int:
    """Smallest ``r >= 1`` with ``sqrt(sum_{i >= r} sigma_i^2) <= threshold``.

    Args:
        singular_values: non-increasing singular values (n,).
        threshold: absolute tail bound (>= 0).

    Returns:
        the rank ``r`` (between 1 and n).
    """
    s = np.asarray(singular_values, dtype=np.float64)
    tails = np.sqrt(np.cumsum((s**2)[::-1]))[::-1]  # tails[i] = ||s[i:]||
    tails = np.append(tails, 0.0)
    return max(int(np.argmax(tails <= threshold)), 1)


def _check_ranks(ranks: Any, shape: tuple[int, ...], name: str = "ranks") -> tuple[int, ...]:
    d = len(shape)
    if isinstance(ranks, (int, np.integer)) and not isinstance(ranks, bool):
        ranks = (int(ranks),) * d
    try:
        rs = tuple(ranks)
    except TypeError:
        raise TypeError(f"{name} must be an int or a sequence of {d} ints") from None
    if len(rs) != d:
        raise ValueError(f"{name} must have {d} entries (one per mode), got {len(rs)}")
    out = []
    for k, r in enumerate(rs):
        r = check_positive_int(r, f"{name}[{k}]")
        out.append(min(r, shape[k]))
    return tuple(out)


def _criterion(rtol, atol, ranks, *, default_rtol: float = 1e-8):
    given = [v is not None for v in (rtol, atol, ranks)]
    if sum(given) > 1:
        raise ValueError("give only one of rtol, atol and ranks")
    if ranks is not None:
        return None, None, ranks
    if atol is not None:
        return None, check_positive_float(atol, "atol", allow_zero=True), None
    if rtol is None:
        rtol = default_rtol
    return check_positive_float(rtol, "rtol", allow_zero=True), None, None


def _leading_left_singular(mat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Left singular vectors and singular values of a (n, N) matrix (thin SVD).

    For wide matrices (N > n) a QR of ``mat^T`` first reduces the work to an (n, n) SVD, so
    the (n, N) right singular vectors are never formed.
    """
    return _side_svd(mat, "qr")


def _unfolding_left_singular(a: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Left singular vectors/values of the mode-k unfolding without copying the unfolding.

    Tall-skinny QR (TSQR): the columns of ``A_(k)`` are visited in slabs along another axis;
    each slab's transpose is QR-factorised to an (n_k, n_k) triangle, the stacked triangles
    are factorised once more, and the SVD of the final triangle gives ``sigma`` and ``U_k``
    (``A_(k) = R^T Q^T``). Extra memory: one slab plus the triangles.
    """
    import scipy.linalg

    n = a.shape[k]
    if a.ndim == 1 or a.size // n <= 4 * n:
        return _leading_left_singular(np.moveaxis(a, k, 0).reshape(n, -1))
    b = 0 if k != 0 else 1
    per_index = a.size // a.shape[b]
    step = max(1, max(1 << 18, 4 * n * n) // per_index)
    tris = []
    for start in range(0, a.shape[b], step):
        sl = [slice(None)] * a.ndim
        sl[b] = slice(start, start + step)
        block = np.moveaxis(a[tuple(sl)], k, 0).reshape(n, -1)  # (n, columns of the slab)
        if block.shape[1] <= n:
            tris.append(block.T.copy())
            continue
        (r,) = scipy.linalg.qr(block.T, mode="r", check_finite=False)
        tris.append(r[:n])
    stacked = np.concatenate(tris, axis=0)
    if stacked.shape[0] > n:
        (r,) = scipy.linalg.qr(stacked, mode="r", check_finite=False)
        stacked = r[:n]
    u, s, _ = np.linalg.svd(stacked.T, full_matrices=False)
    return u, s


def hosvd(
    array: Any,
    rtol: float | None = None,
    *,
    atol: float | None = None,
    ranks: int | Sequence[int] | None = None,
    sequential: bool = False,
) -> Tucker:
    """Truncated higher-order SVD of a full array.

    ``U_k`` = leading left singular vectors of the mode-``k`` unfolding ``A_(k)``;
    ``core = A x_1 U_1^T ... x_d U_d^T``. Ranks are chosen per mode by the tail rule of the
    module docstring, which bounds ``||A - T||_F <= rtol ||A||_F`` (or ``<= atol``).

    Args:
        array: float array (n_1, ..., n_d), d >= 1.
        rtol: relative Frobenius tolerance (default 1e-8 when no criterion is given).
        atol: absolute Frobenius tolerance (instead of rtol).
        ranks: fixed ranks (int or one per mode) instead of a tolerance.
        sequential: sequentially truncated HOSVD: mode ``k`` is decomposed after projecting
            modes ``< k``, so only the first unfolding has full size (about d times cheaper);
            the same error bound holds (Vannieuwenhoven et al. 2012).

    Returns:
        :class:`Tucker` with orthonormal factors. Its attribute ``singular_values`` holds the
        mode-k singular values (list of arrays; of the partially projected tensor when
        ``sequential``).

    References:
        De Lathauwer, De Moor, Vandewalle, SIAM J. Matrix Anal. Appl. 21 (2000) 1253-1278.
        N. Vannieuwenhoven, R. Vandebril, K. Meerbergen, "A new truncation strategy for the
        higher-order singular value decomposition", SIAM J. Sci. Comput. 34 (2012) A1027.
    """
    a = np.asarray(as_array(array, "array"), dtype=np.float64)
    if a.ndim < 1 or a.size == 0:
        raise ValueError(f"array must be a non-empty tensor, got shape {a.shape}")
    rtol, atol, ranks = _criterion(rtol, atol, ranks)
    if ranks is not None:
        ranks = _check_ranks(ranks, a.shape)
    check_finite(a, "array")
    d = a.ndim
    if ranks is None:
        thr = (atol if atol is not None else rtol * float(np.linalg.norm(a))) / np.sqrt(d)
    factors, svals = [], []
    work = a
    for k in range(d):
        u, s = _unfolding_left_singular(work if sequential else a, k)
        r = ranks[k] if ranks is not None else truncation_rank(s, thr)
        factors.append(np.ascontiguousarray(u[:, :r]))
        svals.append(s)
        if sequential:
            work = _mode_product(np, work, factors[k].T, k)
    if sequential:
        core = work
    else:
        core = a
        for k, u in enumerate(factors):
            core = _mode_product(np, core, u.T, k)
    t = Tucker(np.ascontiguousarray(core), factors)
    t.singular_values = svals
    return t


def hooi(
    array: Any,
    ranks: int | Sequence[int],
    max_iter: int = 50,
    *,
    tol: float = 1e-12,
) -> Tucker:
    """Higher-order orthogonal iteration (ALS) for the best rank-``ranks`` Tucker approximation.

    Starting from the truncated HOSVD, each sweep updates ``U_k`` to the leading ``r_k`` left
    singular vectors of ``(A x_{j != k} U_j^T)_(k)``; it stops when the core norm (which equals
    the norm of the approximation) changes by less than ``tol`` relatively, or after
    ``max_iter`` sweeps.

    Args:
        array: float array (n_1, ..., n_d).
        ranks: target ranks (int or one per mode).
        max_iter: maximum number of sweeps (>= 0; 0 returns the HOSVD).
        tol: relative stopping tolerance on the core norm.

    Returns:
        :class:`Tucker` with orthonormal factors; attribute ``n_iter`` holds the sweeps done.

    References:
        De Lathauwer, De Moor, Vandewalle, SIAM J. Matrix Anal. Appl. 21 (2000) 1324-1342.
    """
    a = np.asarray(as_array(array, "array"), dtype=np.float64)
    if a.ndim < 1 or a.size == 0:
        raise ValueError(f"array must be a non-empty tensor, got shape {a.shape}")
    ranks = _check_ranks(ranks, a.shape)
    max_iter = check_positive_int(max_iter, "max_iter", minimum=0)
    tol = check_positive_float(tol, "tol", allow_zero=True)
    t = hosvd(a, ranks=ranks)
    factors = list(t.factors)
    d = a.ndim
    prev = np.linalg.norm(t.core)
    n_iter = 0
    for _ in range(max_iter):
        n_iter += 1
        for k in range(d):
            y = a
            for j in range(d):
                if j != k:
                    y = _mode_product(np, y, factors[j].T, j)
            u, _ = _leading_left_singular(np.moveaxis(y, k, 0).reshape(a.shape[k], -1))
            factors[k] = np.ascontiguousarray(u[:, : ranks[k]])
        core = y if d == 1 else _mode_product(np, y, factors[d - 1].T, d - 1)
        nrm = np.linalg.norm(core)
        if abs(nrm - prev) <= tol * max(nrm, 1e-300):
            break
        prev = nrm
    core = a
    for k, u in enumerate(factors):
        core = _mode_product(np, core, u.T, k)
    out = Tucker(np.ascontiguousarray(core), factors)
    out.n_iter = n_iter
    return out


def _side_svd(c: np.ndarray, method: str) -> tuple[np.ndarray, np.ndarray]:
    """Left singular vectors and values of an (m, R) side matrix.

    ``"qr"``: when R > m, a Householder QR of ``c^T`` (R, m) reduces the problem to the SVD of
    the (m, m) triangular factor (``c = R^T Q^T``): the same O(m^2 R) work as forming the Gram
    matrix ``c c^T`` but without squaring the condition number, so tails down to
    ``eps * sigma_max`` are resolved. ``"gram"``: eigen-decomposition of the (m, m) Gram matrix
    ``c c^T`` (cheapest; singular values below ``~ sqrt(eps) sigma_max`` are noise).
    """
    m, r = c.shape
    if method == "gram":
        w, v = np.linalg.eigh(c @ c.T)
        w, v = w[::-1], v[:, ::-1]
        return v, np.sqrt(np.clip(w, 0.0, None))
    if r > m:
        import scipy.linalg

        (rr,) = scipy.linalg.qr(c.T, mode="r", check_finite=False)  # (m, m)
        rr = rr[:m]
        u, s, _ = np.linalg.svd(rr.T, full_matrices=False)
        return u, s
    u, s, _ = np.linalg.svd(c, full_matrices=False)
    return u, s


def _cp_core(weights: np.ndarray, projected: list[np.ndarray]) -> np.ndarray:
    """Core ``sum_r w_r P_1[:, r] o ... o P_d[:, r]`` built mode by mode (Khatri-Rao)."""
    d = len(projected)
    if d == 1:
        return projected[0] @ weights
    shape = tuple(p.shape[0] for p in projected)
    inner = int(np.prod(shape[1:]))
    n_terms = weights.shape[0]
    # the Khatri-Rao product of modes 2..d is formed for chunks of terms (<= ~32 MB each)
    step = max(1, (1 << 22) // max(inner, 1))
    core = np.zeros((shape[0], inner))
    for start in range(0, n_terms, step):
        sl = slice(start, start + step)
        kr = projected[-1][:, sl]
        for p in projected[-2:0:-1]:
            kr = (p[:, None, sl] * kr[None, :, :]).reshape(-1, kr.shape[1])
        core += (projected[0][:, sl] * weights[None, sl]) @ kr.T
    return core.reshape(shape)


def reduced_hosvd(
    weights: Any,
    factors: Sequence[Any],
    rtol: float | None = None,
    *,
    atol: float | None = None,
    ranks: int | Sequence[int] | None = None,
    method: str = "qr",
) -> Tucker:
    """Reduced HOSVD (RHOSVD) of a canonical (CP) tensor without forming it.

    For ``A = sum_r w_r a_{1,r} o ... o a_{d,r}``, the columns are normalised (norms moved
    into the weights), ``U_k`` = leading left singular vectors of the side matrix
    ``[a_{k,1} ... a_{k,R}]`` (n_k, R), and the core is the exact projection
    ``sum_r w_r (U_1^T a_{1,r}) o ... o (U_d^T a_{d,r})``. With per-mode tails
    ``<= tol / d`` the error obeys ``||A - T||_F <= ||w||_2 tol`` (Khoromskij & Khoromskaia,
    Thm 2.5); ``rtol`` is this ``tol`` (relative to ``||w||_2`` after normalisation), ``atol``
    the absolute bound ``||w||_2 tol``. This is the truncation of the paper's code (tail
    ``<= tol / d`` of the normalised side matrices).

    Args:
        weights: CP weights (R,).
        factors: ``d`` side matrices, ``factors[k]`` of shape ``(n_k, R)``.
        rtol: tolerance relative to ``||w||_2`` (default 1e-8 when no criterion is given).
        atol: absolute Frobenius tolerance instead.
        ranks: fixed ranks instead of a tolerance.
        method: ``"qr"`` (accurate, m x m after a QR; default) or ``"gram"`` (the (n_k, n_k)
            Gram matrix eigen-decomposition; only for tolerances above ``~1e-7``).

    Returns:
        :class:`Tucker` with orthonormal factors; attribute ``singular_values`` holds the
        side-matrix singular values per mode.

    References:
        B. N. Khoromskij, V. Khoromskaia, SIAM J. Sci. Comput. 31 (2009) 3002-3026.
        P. Benner, B. N. Khoromskij, V. Khoromskaia, B. Sun, arXiv:2503.01696 (2025), sec. 3.
    """
    w = np.asarray(as_array(weights, "weights", ndim=1), dtype=np.float64)
    if isinstance(factors, np.ndarray) or not isinstance(factors, Sequence) or not factors:
        raise TypeError("factors must be a non-empty sequence of 2D arrays (one per mode)")
    facs = [np.asarray(as_array(f, f"factors[{k}]", ndim=2), dtype=np.float64)
            for k, f in enumerate(factors)]
    n_terms = w.shape[0]
    for k, f in enumerate(facs):
        if f.shape[1] != n_terms:
            raise ValueError(
                f"factors[{k}] must have {n_terms} columns (len(weights)), got shape {f.shape}"
            )
    if method not in ("qr", "gram"):
        raise ValueError(f"method must be 'qr' or 'gram', got {method!r}")
    rtol, atol, ranks = _criterion(rtol, atol, ranks)
    shape = tuple(f.shape[0] for f in facs)
    if ranks is not None:
        ranks = _check_ranks(ranks, shape)
    check_finite(w, "weights")
    for k, f in enumerate(facs):
        check_finite(f, f"factors[{k}]")
    d = len(facs)
    scale = w.copy()
    normed = []
    for f in facs:
        nrm = np.linalg.norm(f, axis=0)
        safe = np.where(nrm > 0, nrm, 1.0)
        normed.append(f / safe)
        scale = scale * nrm
    wnorm = float(np.linalg.norm(scale))
    if ranks is None:
        tol = atol / wnorm if atol is not None and wnorm > 0 else (rtol or 0.0)
        thr = tol / d
    us, svals = [], []
    for k, f in enumerate(normed):
        u, s = _side_svd(f, method)
        r = ranks[k] if ranks is not None else truncation_rank(s, thr)
        r = min(r, u.shape[1])
        us.append(np.ascontiguousarray(u[:, :r]))
        svals.append(s)
    core = _cp_core(scale, [u.T @ f for u, f in zip(us, normed)])
    t = Tucker(np.ascontiguousarray(core), us)
    t.singular_values = svals
    return t
