"""The Phi-ROM model: decoder, latent dynamics and latent memory in one pytree."""

from __future__ import annotations

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.linalg import solve_triangular

from ..._validate import as_array, check_finite, check_positive_int
from ._networks import DynamicsMLP, FilterDecoder, SineDecoder

__all__ = ["PhiROM", "latent_velocity"]

_DECODERS = {"sine": SineDecoder, "filter": FilterDecoder}


def latent_velocity(jacobian, f, *, tikhonov: float = 0.0):
    """Least-squares latent velocity ``zdot* = argmin |J zdot - f|^2 + eps |zdot|^2``.

    Solved by a QR factorisation of the stacked system ``[J; sqrt(eps) I] zdot = [f; 0]``
    (never the normal equations, whose condition number is squared: the networks train in
    float32), with the relative Tikhonov weight ``eps = tikhonov * trace(J^T J) / k``;
    ``tikhonov = 0`` gives the pseudo-inverse ``J^+ f`` for a full-column-rank ``J``.
    Differentiable (JAX's QR derivative).

    Args:
        jacobian: ``J = dD/dz`` at the sampled grid entries, (m, k).
        f: residual ``R(D(z); mu)`` at the same entries, (m,).
        tikhonov: relative regularisation weight (>= 0).

    Returns:
        ``zdot*`` (k,).

    References:
        Hosseini Dashtbayaz et al., NeurIPS 2025 (arXiv:2505.14595), eq. for the latent
        velocity target; Golub & Van Loan, *Matrix Computations*, 4th ed., sec. 5.3 (least
        squares by QR) and 6.1 (Tikhonov).
    """
    k = jacobian.shape[-1]
    if tikhonov > 0:
        eps = jnp.asarray(tikhonov, jacobian.dtype) * jnp.sum(jacobian**2) / k
        a = jnp.concatenate([jacobian, jnp.sqrt(eps) * jnp.eye(k, dtype=jacobian.dtype)])
        b = jnp.concatenate([f, jnp.zeros((k,), f.dtype)])
    else:
        a, b = jacobian, f
    q, r = jnp.linalg.qr(a)
    return solve_triangular(r, q.T @ b, lower=False)


class PhiROM(eqx.Module):
    """Neural-field reduced-order model ``u(x, t) = D(x; z(t))``, ``dz/dt = Psi(z, mu)``.

    Holds the decoder, the dynamics network and the latent memory (one code per training
    snapshot, the auto-decoder of DeepSDF/DINo), plus the normalisation of the field values
    (``u = shift + scale * network``) and of the parameters. Build with :meth:`create`,
    train with :func:`~tensorrom.rom.phirom.train`.

    Parameters default to float32 (neural training in single precision: 2x faster on CPU and
    the precision the paper's code trains in); inputs are cast to the parameter dtype.

    Attributes:
        decoder: :class:`SineDecoder` or :class:`FilterDecoder`.
        dynamics: :class:`DynamicsMLP`.
        latents: ``(n_traj, n_times, k)`` latent memory.
        u_shift, u_scale: ``(C,)`` output normalisation (frozen in training).
        mu_shift, mu_scale: ``(p,)`` parameter normalisation (frozen).
        config: the constructor arguments (a tuple of items), stored in checkpoints.

    References:
        Hosseini Dashtbayaz et al., "Physics-informed Reduced Order Modeling of
        Time-dependent PDEs via Differentiable Solvers", NeurIPS 2025 (arXiv:2505.14595).
    """

    decoder: eqx.Module
    dynamics: DynamicsMLP
    latents: jax.Array
    u_shift: jax.Array
    u_scale: jax.Array
    mu_shift: jax.Array
    mu_scale: jax.Array
    config: tuple = eqx.field(static=True)

    @classmethod
    def create(cls, *, box: Any, n_traj: int, n_times: int, n_channels: int = 1,
               n_params: int = 1, latent_size: int = 4, decoder: str = "sine",
               decoder_width: int = 32, decoder_depth: int = 4, omega0: float | None = None,
               decoder_init: str = "uniform", dynamics_width: int = 64,
               dynamics_depth: int = 4, dynamics_embed: bool = True,
               dynamics_activation: str = "swish_beta",
               u_stats: tuple = (0.0, 1.0), mu_stats: tuple = (0.0, 1.0),
               dtype: str = "float32", key) -> PhiROM:
        """A fresh model (latent memory initialised to zero).

        Args:
            box: ``(lower, upper)`` of the spatial domain (sequences of d floats) or a
                :class:`~tensorrom.data.Box`.
            n_traj, n_times: training trajectories and snapshots per trajectory.
            n_channels: field channels ``C``.
            n_params: size ``p`` of the parameter vector ``mu``.
            latent_size: ``k`` (>= 1; the paper uses 4 for Burgers).
            decoder: ``"sine"`` (sine MLP) or ``"filter"`` (multiplicative filter network).
            decoder_width, decoder_depth, omega0: decoder size and first frequency
                (default 1 for ``"sine"``, the paper's Burgers decoder; 30 for ``"filter"``).
            decoder_init: ``"uniform"`` (default) or ``"siren"`` (see :class:`SineDecoder`).
            dynamics_width, dynamics_depth: dynamics MLP size.
            dynamics_embed, dynamics_activation: see :class:`DynamicsMLP` (defaults: the
                parameter mapped linearly to ``k`` features, learned-slope swish).
            u_stats: ``(shift, scale)`` of the field values, scalars or (C,).
            mu_stats: ``(shift, scale)`` of the parameters, scalars or (p,).
            dtype: ``"float32"`` (default) or ``"float64"``.
            key: PRNG key.
        """
        from ...data import Box

        if isinstance(box, Box):
            box = (box.lower, box.upper)
        lower = tuple(float(v) for v in np.atleast_1d(box[0]))
        upper = tuple(float(v) for v in np.atleast_1d(box[1]))
        if len(lower) != len(upper) or any(h <= lo for lo, h in zip(lower, upper)):
            raise ValueError(f"box must be (lower, upper) with upper > lower, got {box}")
        if isinstance(latent_size, (int, np.integer)) and not isinstance(latent_size, bool) \
                and latent_size < 1:
            raise ValueError(f"latent_size must be >= 1, got {latent_size}")
        if decoder not in _DECODERS:
            raise ValueError(f"decoder must be one of {sorted(_DECODERS)}, got {decoder!r}")
        if dtype not in ("float32", "float64"):
            raise ValueError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
        if decoder_init not in ("uniform", "siren"):
            raise ValueError(f"decoder_init must be 'uniform' or 'siren', got {decoder_init!r}")
        if dynamics_activation not in ("swish", "swish_beta"):
            raise ValueError("dynamics_activation must be 'swish' or 'swish_beta', got "
                             f"{dynamics_activation!r}")
        if omega0 is None:
            omega0 = 1.0 if decoder == "sine" else 30.0
        config = dict(box=[list(lower), list(upper)],
                      n_traj=check_positive_int(n_traj, "n_traj"),
                      n_times=check_positive_int(n_times, "n_times"),
                      n_channels=check_positive_int(n_channels, "n_channels"),
                      n_params=check_positive_int(n_params, "n_params"),
                      latent_size=check_positive_int(latent_size, "latent_size"),
                      decoder=decoder, decoder_width=int(decoder_width),
                      decoder_depth=int(decoder_depth), omega0=float(omega0),
                      decoder_init=decoder_init,
                      dynamics_width=int(dynamics_width), dynamics_depth=int(dynamics_depth),
                      dynamics_embed=bool(dynamics_embed),
                      dynamics_activation=dynamics_activation,
                      dtype=dtype)
        return cls._build(config, u_stats, mu_stats, key)

    @classmethod
    def from_snapshots(cls, solver, snapshots, *, key, **kwargs) -> PhiROM:
        """:meth:`create` with the box, sizes and normalisation read from training data.

        Args:
            solver: the full-order solver (its grid box and channels are used).
            snapshots: :class:`~tensorrom.rom.solvers.Snapshots` of the training set.
            key: PRNG key.
            **kwargs: further :meth:`create` arguments (latent_size, decoder, ...).
        """
        vals = np.asarray(snapshots.values, dtype=np.float64)
        table = vals.reshape(vals.shape[:2] + (-1,)) if not solver.channel_first else \
            np.moveaxis(vals, 2, -1).reshape(vals.shape[:2] + (-1, solver.n_channels))
        table = table.reshape(-1, solver.n_channels)
        mus = np.asarray(snapshots.mus, dtype=np.float64).reshape(vals.shape[0], -1)
        mu_scale = mus.std(axis=0)
        mu_scale = np.where(mu_scale > 0, mu_scale, 1.0)
        u_scale = table.std(axis=0)
        u_scale = np.where(u_scale > 0, u_scale, 1.0)
        return cls.create(box=solver.box, n_traj=vals.shape[0], n_times=vals.shape[1],
                          n_channels=solver.n_channels, n_params=mus.shape[1],
                          u_stats=(table.mean(axis=0), u_scale),
                          mu_stats=(mus.mean(axis=0), mu_scale), key=key, **kwargs)

    @classmethod
    def from_config(cls, config: dict, *, key=None) -> PhiROM:
        """A model with the structure of ``config`` (e.g. a checkpoint's sidecar)."""
        key = jax.random.PRNGKey(0) if key is None else key
        return cls._build(dict(config), (0.0, 1.0), (0.0, 1.0), key)

    @classmethod
    def _build(cls, c: dict, u_stats, mu_stats, key):
        dt = jnp.float32 if c["dtype"] == "float32" else jnp.float64
        kd, kp = jax.random.split(key)
        d = len(c["box"][0])
        # configurations written before these options existed: SIREN init, plain swish MLP
        extra = {"init": c.get("decoder_init", "siren")} if c["decoder"] == "sine" else {}
        dec = _DECODERS[c["decoder"]](d, c["latent_size"], c["n_channels"],
                                      width=c["decoder_width"], depth=c["decoder_depth"],
                                      omega0=c["omega0"], box=c["box"], key=kd, dtype=dt,
                                      **extra)
        dyn = DynamicsMLP(c["latent_size"], c["n_params"], width=c["dynamics_width"],
                          depth=c["dynamics_depth"], embed=c.get("dynamics_embed", False),
                          activation=c.get("dynamics_activation", "swish"), key=kp, dtype=dt)
        lat = jnp.zeros((c["n_traj"], c["n_times"], c["latent_size"]), dt)

        def stat(v, n, name):
            a = np.broadcast_to(np.asarray(v, dtype=np.float64), (n,))
            check_finite(a, name)
            return jnp.asarray(a, dt)

        us, uc = stat(u_stats[0], c["n_channels"], "u_stats"), stat(u_stats[1], c["n_channels"],
                                                                      "u_stats")
        ms, mc = stat(mu_stats[0], c["n_params"], "mu_stats"), stat(mu_stats[1], c["n_params"],
                                                                    "mu_stats")
        if np.any(np.asarray(uc) <= 0) or np.any(np.asarray(mc) <= 0):
            raise ValueError("u_stats and mu_stats scales must be > 0")
        return cls(dec, dyn, lat, us, uc, ms, mc, tuple(sorted(
            (k, tuple(map(tuple, v)) if k == "box" else v) for k, v in c.items())))

    # -- properties ---------------------------------------------------------------------
    @property
    def config_dict(self) -> dict:
        c = dict(self.config)
        c["box"] = [list(c["box"][0]), list(c["box"][1])]
        return c

    @property
    def latent_size(self) -> int:
        return int(self.latents.shape[-1])

    @property
    def dtype(self):
        return self.latents.dtype

    @property
    def box(self):
        from ...data import Box

        c = self.config_dict
        return Box(c["box"][0], c["box"][1])

    # -- evaluation ---------------------------------------------------------------------
    def decode_point(self, z, x):
        """``D(x; z)`` (C,) at one point ``x`` (d,)."""
        out = self.decoder(x, z)
        return jax.lax.stop_gradient(self.u_shift) + jax.lax.stop_gradient(self.u_scale) * out

    def decode(self, z, points):
        """``D(x_j; z)`` at ``points`` (M, d) -> (M, C)."""
        many = getattr(self.decoder, "many", None)
        if many is None:  # a decoder with only the single-point call
            return jax.vmap(lambda x: self.decode_point(z, x))(points)
        return (jax.lax.stop_gradient(self.u_shift)
                + jax.lax.stop_gradient(self.u_scale) * many(points, z))

    def velocity(self, z, mu):
        """``Psi(z, mu)`` (k,) for a raw parameter ``mu`` (p,) or scalar."""
        mu = jnp.reshape(jnp.asarray(mu, z.dtype), (-1,))
        mun = (mu - jax.lax.stop_gradient(self.mu_shift)) / jax.lax.stop_gradient(self.mu_scale)
        return self.dynamics(z, mun)

    def check_points(self, points, name: str = "points"):
        """Cast ``points`` (M, d) to the model dtype, raising ValueError outside the box."""
        p = as_array(points, name, ndim=2)
        box = self.box
        if p.shape[1] != box.dim:
            raise ValueError(f"{name} must have {box.dim} columns, got {p.shape[1]}")
        check_finite(p, name)
        box.check_contains(np.asarray(p), name, atol=1e-9 * float(box.lengths.max()))
        return jnp.asarray(p, self.dtype)
