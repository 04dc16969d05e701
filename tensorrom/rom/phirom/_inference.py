"""Online stage: latent inversion from observations and latent forecasts with diffrax."""

from __future__ import annotations

from typing import Any

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from ..._validate import as_array, check_finite, check_positive_int
from ._model import PhiROM

__all__ = ["invert", "forecast", "relative_l2"]


def _invert_impl(model, values, points, z0, *, method, steps, lr, damping):
    def misfit(z):
        return (model.decode(z, points) - values).reshape(-1)

    if method == "adam":
        opt = optax.adam(lr)

        def obj(zz):
            return jnp.mean(misfit(zz) ** 2)

        def body(carry, _):
            z, st, zb, lb = carry
            val, g = jax.value_and_grad(obj)(z)
            better = val < lb  # keep the best iterate: Adam with a large rate oscillates
            zb = jnp.where(better, z, zb)
            lb = jnp.where(better, val, lb)
            with jax.numpy_dtype_promotion("standard"):  # optax's int32 step count
                up, st = opt.update(g, st, z)
            return (optax.apply_updates(z, up), st, zb, lb), None

        init = (z0, opt.init(z0), z0, jnp.asarray(jnp.inf, z0.dtype))
        (z, _, zb, lb), _ = jax.lax.scan(body, init, None, length=steps)
        return jnp.where(obj(z) < lb, z, zb)

    def gn(z, _):  # damped Gauss-Newton (Levenberg-Marquardt with a fixed damping)
        r = misfit(z)
        jac = jax.jacfwd(misfit)(z)
        jtj = jac.T @ jac
        k = jtj.shape[0]
        eps = jnp.asarray(damping, z.dtype) * jnp.trace(jtj) / k
        dz = jnp.linalg.solve(jtj + eps * jnp.eye(k, dtype=z.dtype), jac.T @ r)
        return z - dz, None

    z, _ = jax.lax.scan(gn, z0, None, length=steps)
    return z


_invert = eqx.filter_jit(
    lambda model, values, points, z0, **kw: jax.vmap(
        lambda v, z: _invert_impl(model, v, points, z, **kw))(values, z0))


def invert(model: PhiROM, values: Any, points: Any, *, method: str = "adam",
           steps: int = 1000, lr: float = 0.1, damping: float = 1e-4,
           z0: Any = None) -> jax.Array:
    """Latent codes of new states: ``z* = argmin_z sum_j |D(x_j; z) - u_j|^2``.

    The observations may cover the whole grid or a sparse subset of points (the decoder is
    a neural field, queried anywhere in the training box). Batched over states with ``vmap``
    and compiled once per shape.

    Args:
        model: a trained :class:`PhiROM`.
        values: observations ``(B, M, C)``, ``(M, C)`` or ``(M,)`` (single channel);
            must be finite.
        points: ``(M, d)`` observation points inside the training box (ValueError outside:
            the decoder is not trained to extrapolate in space).
        method: ``"adam"`` (``steps`` Adam steps with rate ``lr``, default 0.1, returning
            the iterate of least misfit) or ``"gauss_newton"`` (``steps`` damped
            Gauss-Newton steps, relative damping ``damping``).
        z0: starting codes ``(B, k)`` or ``(k,)`` (default: the mean code of the first
            training snapshots).

    Returns:
        codes ``(B, k)`` (or ``(k,)`` for unbatched input), in the model dtype.

    References:
        Park et al., "DeepSDF", CVPR 2019 (auto-decoding); Hosseini Dashtbayaz et al.,
        NeurIPS 2025.
    """
    if method not in ("adam", "gauss_newton"):
        raise ValueError(f"method must be 'adam' or 'gauss_newton', got {method!r}")
    steps = check_positive_int(steps, "steps")
    v = as_array(values, "values", ndim=(1, 2, 3))
    check_finite(v, "values")
    pts = model.check_points(points)
    n_ch = int(model.u_shift.shape[0])
    single = v.ndim == 1 or (v.ndim == 2 and v.shape[-1] == n_ch and v.shape[0] == pts.shape[0])
    if v.ndim == 1:
        v = v[:, None]
    if v.ndim == 2 and single:
        v = v[None]
    elif v.ndim == 2:
        v = v[..., None]
    if v.shape[1] != pts.shape[0] or v.shape[2] != n_ch:
        raise ValueError(f"values must have shape (B, {pts.shape[0]}, {n_ch}) to match points, "
                         f"got {tuple(np.shape(values))}")
    v = jnp.asarray(v, model.dtype)
    if z0 is None:
        z0 = jnp.mean(model.latents[:, 0], axis=0)
    z0 = jnp.broadcast_to(jnp.asarray(z0, model.dtype), (v.shape[0], model.latent_size))
    z = _invert(model, v, pts, z0, method=method, steps=steps, lr=float(lr),
                damping=float(damping))
    return z[0] if single else z


def _forecast_impl(model, z0, mu, ts, query, ode, dt0):
    term = diffrax.ODETerm(lambda t, z, args: model.velocity(z, mu))
    sol = diffrax.diffeqsolve(term, ode, ts[0], ts[-1], dt0, z0,
                              saveat=diffrax.SaveAt(ts=ts),
                              stepsize_controller=diffrax.ConstantStepSize(),
                              max_steps=1 << 16)
    zs = sol.ys
    return zs, jax.vmap(lambda z: model.decode(z, query))(zs)


_forecast = eqx.filter_jit(
    lambda model, z0, mu, ts, query, ode, dt0: jax.vmap(
        lambda z, m: _forecast_impl(model, z, m, ts, query, ode, dt0))(z0, mu))


def forecast(model: PhiROM, z0: Any, mu: Any, times: Any, query: Any = None, *,
             solver: Any = None, dt0: float | None = None, return_latents: bool = False):
    """Integrate ``dz/dt = Psi(z, mu)`` from ``z0`` and decode at ``query`` points.

    Args:
        model: a trained :class:`PhiROM`.
        z0: initial codes ``(k,)`` or ``(B, k)`` (from :func:`invert`).
        mu: parameters: scalar, ``(p,)``, or ``(B,)`` / ``(B, p)`` matching ``z0``.
        times: ``(T,)`` increasing output times, the first being the time of ``z0``.
        query: ``(M, d)`` points inside the training box (default: the grid the model was
            trained on is not known to the model, so ``query`` is required).
        solver: a diffrax solver (default ``diffrax.Tsit5()``).
        dt0: constant step (default the spacing of ``times``).
        return_latents: also return the latent trajectory ``(B?, T, k)``.

    Returns:
        fields ``(B?, T, M, C)`` in the model dtype (and the latents when asked).

    References:
        Kidger, "On Neural Differential Equations" (diffrax), 2021; Hosseini Dashtbayaz
        et al., NeurIPS 2025.
    """
    if query is None:
        raise ValueError("query must be given: the (M, d) points to decode at")
    q = model.check_points(query, "query")
    t = as_array(times, "times", ndim=1)
    check_finite(t, "times")
    if t.shape[0] < 2 or np.any(np.diff(np.asarray(t)) <= 0):
        raise ValueError("times must hold at least 2 strictly increasing values")
    z = jnp.asarray(z0, model.dtype)
    single = z.ndim == 1
    z = jnp.atleast_2d(z)
    if z.shape[-1] != model.latent_size:
        raise ValueError(f"z0 must end with the latent size {model.latent_size}, got {z.shape}")
    p = model.mu_shift.shape[0]
    mu_arr = np.asarray(mu, dtype=np.float64)
    check_finite(mu_arr, "mu")
    if mu_arr.size == p:  # one parameter vector for every code
        m = jnp.broadcast_to(jnp.asarray(mu_arr, model.dtype).reshape(1, p), (z.shape[0], p))
    elif not single and mu_arr.size == z.shape[0] * p:
        m = jnp.asarray(mu_arr, model.dtype).reshape(z.shape[0], p)
    else:
        raise ValueError(f"mu must hold {p} parameter(s) per code: a scalar or ({p},) for all "
                         f"codes, or ({z.shape[0]},) / ({z.shape[0]}, {p}) for the "
                         f"{z.shape[0]} codes of z0; got shape {mu_arr.shape}")
    ts = jnp.asarray(t, model.dtype)
    h = jnp.asarray(float(np.min(np.diff(np.asarray(t)))) if dt0 is None else float(dt0),
                    model.dtype)
    ode = diffrax.Tsit5() if solver is None else solver
    zs, us = _forecast(model, z, m, ts, q, ode, h)
    if single:
        zs, us = zs[0], us[0]
    return (us, zs) if return_latents else us


def relative_l2(prediction: Any, truth: Any, *, axis: Any = -1):
    """Relative L2 error ``|p - t| / |t|`` over ``axis`` (NumPy, float64).

    Args:
        prediction, truth: arrays of the same shape.
        axis: an axis or a tuple of any number of axes (e.g. ``(-3, -2, -1)`` for 2D fields
            with channels) over which the norms are taken.

    Returns:
        the ratio, with ``axis`` reduced.
    """
    p = np.asarray(prediction, dtype=np.float64)
    t = np.asarray(truth, dtype=np.float64)
    if p.shape != t.shape:
        raise ValueError(f"prediction has shape {p.shape} but truth has shape {t.shape}")

    def norm(a):
        return np.sqrt(np.sum(a * a, axis=axis))

    return norm(p - t) / norm(t)
