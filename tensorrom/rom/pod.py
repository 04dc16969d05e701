"""POD-Galerkin reduced-order model on a differentiable solver's residual.

The baseline of Phi-ROM: a linear basis ``V`` (``N x r``, orthonormal columns) from the
singular value decomposition of training snapshots, and the Galerkin projection of the
same residual the neural ROM is trained on,

``u(t) ~ u_ref + V a(t),   da/dt = V^T R(u_ref + V a; mu)``,

integrated with diffrax. Optional hyper-reduction evaluates the residual only at ``m``
sampled grid entries ``P``: ``da/dt = V^T U (P^T U)^+ P^T R`` with ``U`` the leading
left singular vectors of residual snapshots, the entries chosen at random (a fraction
``gamma``, as Phi-ROM samples its points) or by DEIM's greedy selection.

References:
    Sirovich, "Turbulence and the dynamics of coherent structures", Q. Appl. Math. 1987;
    Chaturantabut & Sorensen, "Nonlinear model reduction via discrete empirical
    interpolation", SIAM J. Sci. Comput. 2010;
    Hosseini Dashtbayaz et al., NeurIPS 2025 (arXiv:2505.14595), POD-Galerkin baseline.
"""

from __future__ import annotations

from typing import Any

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._validate import as_array, check_finite, check_positive_int
from .solvers._base import check_residual_shape

__all__ = ["PODGalerkin", "pod_basis", "deim_indices"]


def pod_basis(matrix: Any, *, rank: int | None = None, rtol: float = 1e-10):
    """Leading left singular vectors of a ``(N, n_snapshots)`` matrix (float64 NumPy).

    Args:
        matrix: snapshots as columns.
        rank: number of modes; default all modes with ``s_k > rtol * s_0``.
        rtol: relative singular-value cut-off used when ``rank`` is None.

    Returns:
        ``(V, s)``: ``V`` (N, r) orthonormal columns and all singular values ``s``.
    """
    a = np.asarray(as_array(matrix, "matrix", ndim=2), dtype=np.float64)
    check_finite(a, "matrix")
    u, s, _ = np.linalg.svd(a, full_matrices=False)
    if rank is None:
        r = int(np.sum(s > rtol * s[0])) if s[0] > 0 else 1
    else:
        r = check_positive_int(rank, "rank")
        if r > len(s):
            raise ValueError(f"rank must be <= {len(s)} (the snapshot matrix rank bound), got {r}")
    return u[:, :r], s


def deim_indices(basis: Any) -> np.ndarray:
    """DEIM's greedy interpolation indices for the columns of ``basis`` (N, m).

    Index ``k`` maximises the residual of interpolating column ``k`` from the first ``k``
    columns at the indices already chosen (Chaturantabut & Sorensen 2010, Algorithm 1).
    """
    u = np.asarray(basis, dtype=np.float64)
    idx = [int(np.argmax(np.abs(u[:, 0])))]
    for k in range(1, u.shape[1]):
        c = np.linalg.solve(u[np.ix_(idx, range(k))], u[idx, k])
        r = u[:, k] - u[:, :k] @ c
        idx.append(int(np.argmax(np.abs(r))))
    return np.asarray(idx, dtype=np.int64)


class PODGalerkin(eqx.Module):
    """POD-Galerkin ROM ``da/dt = H R(u_ref + V a; mu)`` (``H = V^T`` without hyper-reduction).

    Build with :meth:`fit`; integrate with :meth:`rollout`.

    Attributes:
        solver: the full-order solver whose ``residual`` is projected.
        basis: ``V`` (N C, r), orthonormal columns (N grid nodes, C channels).
        offset: ``u_ref`` (N C,) (zero unless ``center=True``).
        sample: grid entries where the residual is used (all of them without hyper-reduction).
        projector: ``H`` (r, m).
    """

    solver: Any
    basis: jax.Array
    offset: jax.Array
    sample: jax.Array
    projector: jax.Array
    hyper: str | None = eqx.field(static=True)

    @classmethod
    def fit(cls, solver, snapshots: Any, *, rank: int | None = None, rtol: float = 1e-10,
            center: bool = False, hyper: str | None = None, gamma: float = 0.1,
            hyper_rank: int | None = None, mus: Any = None, seed: int = 0) -> PODGalerkin:
        """Basis from training snapshots; optional hyper-reduction.

        Args:
            solver: a :mod:`tensorrom.rom.solvers` solver.
            snapshots: ``(..., *state_shape)`` training states (leading axes flattened), or a
                :class:`~tensorrom.rom.solvers.Snapshots`.
            rank: POD rank ``r`` (default: all modes above ``rtol``).
            rtol: relative singular-value cut-off when ``rank`` is None.
            center: subtract the snapshot mean (``u_ref``) before the SVD.
            hyper: None, ``"random"`` (a fraction ``gamma`` of the grid entries, gappy
                least squares) or ``"deim"`` (``hyper_rank`` DEIM points).
            gamma: sampled fraction for ``hyper="random"``, in (0, 1].
            hyper_rank: residual modes ``U`` used for hyper-reduction (default ``r``; for
                ``"random"`` at most the number of samples).
            mus: ``(n_traj, p)`` parameters of the snapshot trajectories (needed for
                hyper-reduction, which samples residual snapshots; taken from a Snapshots).
            seed: random sample seed.

        Returns:
            the fitted :class:`PODGalerkin` (float64 arrays).
        """
        from .solvers import Snapshots

        if isinstance(snapshots, Snapshots):
            mus = snapshots.mus if mus is None else mus
            snaps = np.asarray(snapshots.values, dtype=np.float64)
        else:
            snaps = np.asarray(as_array(snapshots, "snapshots"), dtype=np.float64)
        ss = tuple(solver.state_shape)
        if tuple(snaps.shape[snaps.ndim - len(ss):]) != ss:
            raise ValueError(f"snapshots must end with the solver's state shape {ss}, "
                             f"got {snaps.shape}")
        check_finite(snaps, "snapshots")
        if hyper not in (None, "random", "deim"):
            raise ValueError(f"hyper must be None, 'random' or 'deim', got {hyper!r}")
        if not (0.0 < float(gamma) <= 1.0):
            raise ValueError(f"gamma must be in (0, 1], got {gamma}")
        with jax.enable_x64(True):
            check_residual_shape(solver.residual, jax.ShapeDtypeStruct(ss, jnp.float64),
                                 jnp.zeros((), jnp.float64), name="solver.residual")
            flat = snaps.reshape((-1,) + ss)
            table = np.stack([np.asarray(solver.to_points(jnp.asarray(u))).reshape(-1)
                              for u in flat], axis=1) if solver.channel_first else \
                flat.reshape(flat.shape[0], -1).T
            offset = table.mean(axis=1) if center else np.zeros(table.shape[0])
            v, _ = pod_basis(table - offset[:, None], rank=rank, rtol=rtol)
            n = table.shape[0]
            if hyper is None:
                sample = np.arange(n)
                proj = v.T
            else:
                if mus is None:
                    raise ValueError("mus is required for hyper-reduction (residual snapshots)")
                mus_a = np.asarray(mus, dtype=np.float64).reshape(snaps.shape[0], -1)
                per = flat.shape[0] // snaps.shape[0]
                res_fn = jax.jit(jax.vmap(lambda u, m: solver.to_points(
                    solver.residual(u, m[0])).reshape(-1)))
                rs = np.asarray(res_fn(jnp.asarray(flat), jnp.asarray(np.repeat(mus_a, per, 0))))
                m_modes = v.shape[1] if hyper_rank is None else check_positive_int(
                    hyper_rank, "hyper_rank")
                if hyper == "deim":
                    u_res, _ = pod_basis(rs.T, rank=min(m_modes, min(rs.shape)))
                    sample = np.sort(deim_indices(u_res))
                else:
                    n_s = max(1, int(round(float(gamma) * n)))
                    rng = np.random.default_rng(seed)
                    sample = np.sort(rng.choice(n, n_s, replace=False))
                    u_res, _ = pod_basis(rs.T, rank=min(m_modes, n_s, min(rs.shape)))
                proj = v.T @ u_res @ np.linalg.pinv(u_res[sample])
            return cls(solver, jnp.asarray(v), jnp.asarray(offset), jnp.asarray(sample),
                       jnp.asarray(proj), hyper)

    @property
    def rank(self) -> int:
        return int(self.basis.shape[1])

    def encode(self, u):
        """Coefficients ``a = V^T (u - u_ref)`` of a state ``(*state_shape)``."""
        flat = self.solver.to_points(u).reshape(-1)
        return self.basis.T.astype(u.dtype) @ (flat - self.offset.astype(u.dtype))

    def decode(self, a):
        """State ``u_ref + V a`` ``(*state_shape)``."""
        flat = self.offset.astype(a.dtype) + self.basis.astype(a.dtype) @ a
        return self.solver.from_points(flat.reshape(self.solver.grid_size, -1))

    def velocity(self, a, mu):
        """``da/dt = H P^T R(u_ref + V a; mu)``."""
        r = self.solver.to_points(self.solver.residual(self.decode(a), mu)).reshape(-1)
        return self.projector.astype(a.dtype) @ r[self.sample]

    def rollout(self, u0, mu, times, *, solver=None, dt0: float | None = None):
        """Reduced trajectory decoded to full states ``(len(times), *state_shape)``.

        Args:
            u0: initial state ``(*state_shape)`` (projected onto the basis).
            mu: parameter (scalar or (p,)).
            times: ``(T,)`` increasing output times; the initial state is at ``times[0]``.
            solver: a diffrax solver (default ``diffrax.Euler()``, the full-order scheme).
            dt0: constant step (default the full-order solver's ``dt``).

        Returns:
            states in ``u0``'s dtype (float64 needs ``jax.enable_x64``).
        """
        u0 = jnp.asarray(u0)
        if tuple(u0.shape) != tuple(self.solver.state_shape):
            raise ValueError(f"u0 must have shape {self.solver.state_shape}, got {u0.shape}")
        t = as_array(times, "times", ndim=1)
        check_finite(t, "times")
        ts = jnp.asarray(t, u0.dtype)
        ode = diffrax.Euler() if solver is None else solver
        h = float(self.solver.dt if dt0 is None else dt0)
        return _pod_rollout(self, u0, jnp.asarray(mu, u0.dtype), ts, ode, h)


@eqx.filter_jit
def _pod_rollout(model, u0, mu, ts, ode, h):
    a0 = model.encode(u0)
    term = diffrax.ODETerm(lambda t, a, args: model.velocity(a, mu))
    n_max = 1 << 20
    sol = diffrax.diffeqsolve(term, ode, ts[0], ts[-1], jnp.asarray(h, u0.dtype), a0,
                              saveat=diffrax.SaveAt(ts=ts),
                              stepsize_controller=diffrax.ConstantStepSize(),
                              max_steps=n_max)
    return jax.vmap(model.decode)(sol.ys)
