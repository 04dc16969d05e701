"""Phi-ROM: latent-velocity target, networks, training modes, NaN skipping, checkpoints,
inversion, forecasts and bad input."""

import equinox as eqx
import jax
import jax.flatten_util
import jax.numpy as jnp
import numpy as np
import pytest

from tensorrom.rom import phirom, solvers
from tensorrom.rom.phirom._train import _dyn_target

# a small Burgers problem (32 nodes on [0, 10]) keeps the compile times short
_SOLVER = solvers.Burgers1D(num_points=32, length=10.0, dt=0.05, n_steps=6)


def _snapshots():
    x = np.linspace(0.0, 10.0, 32)
    u0 = 1.5 + np.tanh(2.0 - x)
    mus = np.array([[0.1], [0.2]])
    vals = np.stack([np.asarray(_SOLVER.rollout(jnp.asarray(u0), m[0])) for m in mus])
    return solvers.Snapshots(vals, mus, np.arange(6) * 0.05, _SOLVER.grid)


def _model(key=0, dtype="float64", decoder="sine"):
    return phirom.PhiROM.from_snapshots(
        _SOLVER, _snapshots(), latent_size=2, decoder=decoder, decoder_width=8,
        decoder_depth=2, dynamics_width=8, dynamics_depth=1, dtype=dtype,
        key=jax.random.PRNGKey(key))


# -- latent-velocity target ---------------------------------------------------------------
def test_latent_velocity_orthonormal_linear_decoder(rng):
    v, _ = np.linalg.qr(rng.normal(size=(50, 4)))
    f = rng.normal(size=50)
    got = phirom.latent_velocity(jnp.asarray(v), jnp.asarray(f))
    # J = V with V^T V = I: the pseudo-inverse is V^T (float64 round-off)
    np.testing.assert_allclose(np.asarray(got), v.T @ f, atol=1e-12)


def test_latent_velocity_equals_lstsq(rng):
    jac = rng.normal(size=(40, 4)) * np.array([1.0, 3.0, 0.3, 10.0])
    f = rng.normal(size=40)
    got = phirom.latent_velocity(jnp.asarray(jac), jnp.asarray(f))
    ref, *_ = jnp.linalg.lstsq(jnp.asarray(jac), jnp.asarray(f))
    # QR vs SVD least squares, cond(J) ~ 30: both backward stable, agreement to ~1e-13
    np.testing.assert_allclose(np.asarray(got), np.asarray(ref), rtol=1e-10, atol=1e-12)


def test_latent_velocity_tikhonov_matches_regularised_normal_equations(rng):
    jac = rng.normal(size=(25, 4)) * np.array([1.0, 3.0, 0.3, 10.0])
    f = rng.normal(size=25)
    tik = 1e-2
    got = phirom.latent_velocity(jnp.asarray(jac), jnp.asarray(f), tikhonov=tik)
    jtj = jac.T @ jac
    eps = tik * np.trace(jtj) / 4
    ref = np.linalg.solve(jtj + eps * np.eye(4), jac.T @ f)
    # stacked QR vs the normal equations (cond ~ 1e3 after regularisation): ~1e-12
    np.testing.assert_allclose(np.asarray(got), ref, rtol=1e-10, atol=1e-12)
    # and the regularisation is active: the plain least squares differs by O(eps) terms
    assert np.linalg.norm(np.asarray(got) - np.linalg.lstsq(jac, f, rcond=None)[0]) > 1e-4


class _LinearDecoder(eqx.Module):
    """D(x_i; z) = V[i] z on the solver's nodes x_i = i dx."""

    basis: jax.Array
    dx: float = eqx.field(static=True)

    def __call__(self, x, z):
        i = jnp.round(x[0] / self.dx).astype(jnp.int32)
        return (self.basis[i] @ z)[None]


def test_training_target_is_projected_solver_residual(rng):
    v, _ = np.linalg.qr(rng.normal(size=(32, 2)))
    model = _model()
    model = eqx.tree_at(lambda m: m.decoder, model, _LinearDecoder(jnp.asarray(v), 10.0 / 31))
    model = eqx.tree_at(lambda m: (m.u_shift, m.u_scale), model,
                        (jnp.zeros(1), jnp.ones(1)))
    z = jnp.asarray([0.7, -0.2])
    points = jnp.asarray(_SOLVER.points())
    u_hat = model.decode(z, points)
    idx = jnp.arange(32)  # gamma = 1
    got = eqx.filter_jit(_dyn_target)(model, _SOLVER, "phirom", z, 0.1, u_hat, points, idx,
                                      0.0, None, 0.05)
    f = np.asarray(_SOLVER.residual(jnp.asarray(v @ np.asarray(z)), 0.1))
    # linear orthonormal decoder: zdot* = V^T R(V z; mu) (float64 round-off)
    np.testing.assert_allclose(np.asarray(got), v.T @ f, atol=1e-12)


# -- networks -----------------------------------------------------------------------------
@pytest.mark.parametrize("decoder", ["sine", "filter"])
def test_decoders_depend_on_latent_and_pass_check_grads(decoder):
    m = _model(decoder=decoder)
    x = jnp.asarray([[2.5], [7.0]])
    a = m.decode(jnp.zeros(2), x)
    b = m.decode(jnp.asarray([0.5, -0.5]), x)
    assert a.shape == (2, 1) and float(jnp.max(jnp.abs(a - b))) > 1e-3
    from jax.test_util import check_grads

    check_grads(lambda z: m.decode(z, x), (jnp.asarray([0.1, 0.2]),), order=1, modes=("rev",))
    # the batched matrix form equals the textbook per-point network (float64 round-off)
    z = jnp.asarray([0.1, 0.2])
    one = jax.vmap(lambda p: _reference_network(m.decoder, p, z))(x)
    np.testing.assert_allclose(np.asarray(m.decoder.many(x, z)), np.asarray(one), rtol=1e-12,
                               atol=1e-12)


def _reference_network(dec, x, z):
    s = 2 * (x - jnp.asarray(dec.lower)) / (jnp.asarray(dec.upper) - jnp.asarray(dec.lower)) - 1
    if isinstance(dec, phirom.SineDecoder):
        h = jnp.sin(dec.omega0 * dec.layers[0](jnp.concatenate([s, z])))
        for lin in dec.layers[1:-1]:
            h = jnp.sin(lin(h))
        return dec.layers[-1](h)
    h = jnp.sin(dec.filters[0](s))
    for lin, mod, filt in zip(dec.linears, dec.modulations, dec.filters[1:]):
        h = (lin(h) + mod(z)) * jnp.sin(filt(s))
    return dec.output(h)


# one configuration for the training tests, so that they share one compiled step
_CFG = dict(batch_size=4, gamma=0.5, lam=0.5, lr=5e-3, lr_latent=2e-2, lr_decay=1.0)


# -- training -----------------------------------------------------------------------------
def test_train_phirom_compiles_once_and_learns():
    d = _snapshots()
    cfg = phirom.TrainConfig(steps=60, **_CFG)
    before = phirom.trace_count()
    res = phirom.train(_model(dtype="float32"), _SOLVER, d, cfg)
    assert phirom.trace_count() - before <= 1  # one trace for 60 steps (0 if cached)
    assert res.nan_steps == 0 and np.all(np.isfinite(res.loss_dyn))
    # reconstruction must drop clearly: the default loss is the relative L2 norm (not
    # squared), so a drop below 0.6x is 0.36x in squared terms (observed: 0.64 -> 0.33)
    assert res.loss_rec[-10:].mean() < 0.6 * res.loss_rec[:3].mean()
    res2 = phirom.train(res.model, _SOLVER, d, cfg)  # same structure: no new trace
    assert phirom.trace_count() - before <= 1 and res2.loss_rec.shape == (60,)


@pytest.mark.parametrize("mode", ["dino", pytest.param("pinn", marks=pytest.mark.slow)])
def test_other_modes_run(mode):
    cfg = phirom.TrainConfig(mode=mode, steps=2, batch_size=4, gamma=0.5)
    res = phirom.train(_model(dtype="float32"), _SOLVER, _snapshots(), cfg)
    assert res.nan_steps == 0 and np.all(np.isfinite(res.loss_dyn))
    assert float(res.loss_dyn[-1]) > 0


class _NaNBurgers(solvers.Burgers1D):
    def residual(self, u, mu):
        return super().residual(u, mu) * jnp.asarray(np.nan, u.dtype)


def test_nan_steps_are_skipped_and_counted():
    bad = _NaNBurgers(num_points=32, length=10.0, dt=0.05, n_steps=6)
    m0 = _model(dtype="float32")
    cfg = phirom.TrainConfig(steps=4, warmup_steps=2, max_nan_steps=10, **_CFG)
    res = phirom.train(m0, bad, _snapshots(), cfg)
    # two warm-up steps (dynamics loss still NaN, only its gradient path is cut) are
    # skipped as well: all 4 counted
    assert res.nan_steps == 4
    np.testing.assert_array_equal(np.asarray(res.model.latents), np.asarray(m0.latents))


def _loss_gradient(seed, times, first_point):
    """``grads(lam, couple)``: gradient of the training loss of a small float64 model with
    random codes, on three snapshots ``(trajectory, time)`` and every second grid point."""
    from tensorrom.rom.phirom._train import _loss, _prepare

    model = _model()
    data = _prepare(model, _SOLVER, _snapshots())
    model = eqx.tree_at(lambda m: m.latents, model, 0.1 * jax.random.normal(
        jax.random.PRNGKey(seed), model.latents.shape, model.dtype))
    batch = (jnp.asarray([0, 1, 1]), jnp.asarray(times))
    idx = jnp.tile(jnp.arange(first_point, 32, 2), (3, 1))
    params, static = eqx.partition(model, eqx.is_inexact_array)

    def grads(lam, couple):
        def f(p):
            return _loss(eqx.combine(p, static), _SOLVER, "phirom", data[:3], batch, idx,
                         jnp.asarray(lam), jnp.asarray(couple), 0.0, data[3], "relative")[0]
        return jax.grad(f)(params)

    return grads


def test_warmup_cuts_dynamics_gradient_to_decoder_and_codes():
    grads = _loss_gradient(1, [2, 0, 5], 0)
    warm, rec, full = grads(0.5, 0.0), grads(0.0, 0.0), grads(0.5, 1.0)
    # warm-up: decoder and codes see only (1 - lambda) grad L_rec (float64 round-off) ...
    for a, b in zip(jax.tree.leaves((warm.decoder, warm.latents)),
                    jax.tree.leaves((rec.decoder, rec.latents))):
        np.testing.assert_allclose(np.asarray(a), 0.5 * np.asarray(b), rtol=1e-12, atol=1e-14)
    # ... while Psi is trained by the dynamics loss, and after the warm-up the dynamics
    # gradient reaches the codes too
    assert float(jnp.linalg.norm(jax.flatten_util.ravel_pytree(warm.dynamics)[0])) > 0
    assert not np.allclose(np.asarray(full.latents), np.asarray(warm.latents), atol=1e-8)


def test_warmup_ramp_schedule():
    from tensorrom.rom.phirom._train import coupling

    ramp = phirom.TrainConfig(warmup_steps=3, warmup_ramp=4)
    sudden = phirom.TrainConfig(warmup_steps=3, warmup_ramp=0)
    # 0 during the warm-up, then (j + 1) / warmup_ramp, capped at 1; no ramp: a step to 1
    assert [coupling(i, ramp) for i in range(9)] == [0, 0, 0, 0.25, 0.5, 0.75, 1, 1, 1]
    assert phirom.TrainConfig().warmup_ramp == 2000  # the default (docs/log/phirom.md)
    assert [coupling(i, sudden) for i in range(5)] == [0, 0, 0, 1, 1]
    with pytest.raises(ValueError, match="warmup_ramp"):
        phirom.TrainConfig(warmup_ramp=-1)


def test_coupling_scales_dynamics_gradient_to_decoder_and_codes_linearly():
    loss_grads = _loss_gradient(2, [1, 3, 4], 1)

    def grads(couple):
        return jax.flatten_util.ravel_pytree(loss_grads(0.5, couple))[0]

    g0, g1, g_quarter = grads(0.0), grads(1.0), grads(0.25)
    # the coupling weight multiplies only the dynamics term of the decoder/code gradient,
    # so the gradient is affine in it: g(c) = (1 - c) g(0) + c g(1) (float64 round-off)
    np.testing.assert_allclose(np.asarray(g_quarter), np.asarray(0.75 * g0 + 0.25 * g1),
                               rtol=1e-10, atol=1e-13)
    assert float(jnp.linalg.norm(g1 - g0)) > 1e-6  # the dynamics term is not empty


def test_train_applies_warmup_ramp():
    # train() with warmup_steps=1, warmup_ramp=2 equals the compiled step driven by hand
    # with coupling 0, 1/2, 1, 1 and the same keys (same arithmetic: bitwise on one CPU)
    from tensorrom.rom.phirom._train import _prepare

    d = _snapshots()
    cfg = phirom.TrainConfig(steps=4, warmup_steps=1, warmup_ramp=2, **_CFG)
    res = phirom.train(_model(dtype="float32"), _SOLVER, d, cfg)
    model = _model(dtype="float32")
    step, state = phirom.make_train_step(model, _SOLVER, cfg, _prepare(model, _SOLVER, d))
    key = jax.random.PRNGKey(cfg.seed)
    for c in (0.0, 0.5, 1.0, 1.0):
        key, sub = jax.random.split(key)
        model, state, *_ = step(model, state, sub, jnp.asarray(0.5, jnp.float32),
                                jnp.asarray(c, jnp.float32))
    np.testing.assert_allclose(np.asarray(res.model.latents), np.asarray(model.latents),
                               rtol=0, atol=1e-7)
    # and differs from the sudden switch (the ramp is not a no-op)
    sudden = phirom.train(_model(dtype="float32"), _SOLVER, d,
                          phirom.TrainConfig(steps=4, warmup_steps=1, warmup_ramp=0,
                                             **_CFG))
    assert not np.allclose(np.asarray(sudden.model.latents), np.asarray(model.latents),
                           rtol=0, atol=1e-7)


def test_parameter_augmentation_targets_other_mu_and_trains_psi_only():
    # mu_augment: the last snapshots of a batch take their dynamics target at another mu.
    # Checked on the training loss of a small float64 model (three snapshots, every second
    # grid point), dynamics term only (lambda = 1) and fully coupled (couple = 1).
    from tensorrom.rom.phirom._train import _loss, _prepare

    model = _model()
    data = _prepare(model, _SOLVER, _snapshots())
    model = eqx.tree_at(lambda m: m.latents, model, 0.1 * jax.random.normal(
        jax.random.PRNGKey(3), model.latents.shape, model.dtype))
    batch = (jnp.asarray([0, 1, 1]), jnp.asarray([2, 0, 5]))
    idx = jnp.tile(jnp.arange(0, 32, 2), (3, 1))
    params, static = eqx.partition(model, eqx.is_inexact_array)

    def loss(p, mu_aug):
        return _loss(eqx.combine(p, static), _SOLVER, "phirom", data[:3], batch, idx,
                     jnp.asarray(1.0), jnp.asarray(1.0), 0.0, data[3], "relative", mu_aug)[0]

    # the snapshot's own mu as the "augmented" one: the same loss value (float64 round-off)
    own = jnp.asarray([[0.2]])
    np.testing.assert_allclose(float(loss(params, own)), float(loss(params, None)),
                               rtol=1e-12)
    # another mu: the third term is |Psi(z, mu') - J+ R(D(z); mu')| / |J+ R(D(z); mu')|,
    # computed here from _dyn_target directly (float64 round-off)
    mu_new = jnp.asarray([0.35])
    third = _term(model, data, idx, batch, 2, 0.35)
    first_two = 3 * loss(params, own) - _term(model, data, idx, batch, 2, 0.2)
    np.testing.assert_allclose(float(3 * loss(params, mu_new[None])),
                               float(first_two + third), rtol=1e-10)
    # its gradient trains Psi but does not reach that snapshot's code (exactly: the path
    # is cut)
    g_aug = jax.grad(loss)(params, mu_new[None])
    g_none = jax.grad(loss)(params, None)
    assert float(jnp.abs(g_aug.latents[1, 5]).max()) == 0.0
    assert float(jnp.abs(g_none.latents[1, 5]).max()) > 0.0
    # a batch augmented throughout: the dynamics term reaches neither the codes nor the
    # decoder at all (lambda = 1: no reconstruction term), only Psi
    g_all = jax.grad(loss)(params, jnp.asarray([[0.05], [0.3], [0.35]]))
    cut = jax.flatten_util.ravel_pytree((g_all.latents, g_all.decoder))[0]
    assert float(jnp.abs(cut).max()) == 0.0
    assert float(jnp.linalg.norm(jax.flatten_util.ravel_pytree(g_all.dynamics)[0])) > 0
    d_psi = jax.flatten_util.ravel_pytree(g_aug.dynamics)[0] - \
        jax.flatten_util.ravel_pytree(g_none.dynamics)[0]
    assert float(jnp.linalg.norm(d_psi)) > 1e-8


def _term(model, data, idx, batch, j, mu):
    """One snapshot's relative dynamics term of the training loss, from _dyn_target."""
    z = model.latents[batch[0][j], batch[1][j]]
    mu = jnp.asarray([mu])
    target = _dyn_target(model, _SOLVER, "phirom", z, mu, model.decode(z, data[2]), data[2],
                         idx[j], 0.0, None, data[3])
    return jnp.linalg.norm(model.velocity(z, mu) - target) / jnp.linalg.norm(target)


def test_parameter_augmentation_range_and_bad_input(tmp_path):
    from tensorrom.rom.phirom._train import _mu_box

    mus = np.array([[0.1], [0.2]])
    # default: the training parameters' range; given: broadcast to the parameters' size
    assert _mu_box(phirom.TrainConfig(mu_augment=0.5), mus) == ((0.1,), (0.2,))
    assert _mu_box(phirom.TrainConfig(mu_augment=0.5, mu_range=(0.05, [0.3])), mus) == \
        ((0.05,), (0.3,))
    with pytest.raises(ValueError, match="mu_range"):
        _mu_box(phirom.TrainConfig(mu_augment=0.5), np.array([[0.1], [0.1]]))
    for bad in (-0.1, 1.0):
        with pytest.raises(ValueError, match="mu_augment"):
            phirom.TrainConfig(mu_augment=bad)
    with pytest.raises(ValueError, match="mu_augment"):
        phirom.TrainConfig(mode="dino", mu_augment=0.5)
    for bad in ((0.3, 0.1), (0.1,), (0.1, np.nan)):
        with pytest.raises(ValueError, match="mu_range"):
            phirom.TrainConfig(mu_range=bad)
    # a short augmented run trains without non-finite steps and keeps its config in the
    # checkpoint sidecar
    cfg = phirom.TrainConfig(steps=3, mu_augment=0.5, mu_range=(0.05, [0.3]), **_CFG)
    res = phirom.train(_model(dtype="float32"), _SOLVER, _snapshots(), cfg,
                       checkpoint_dir=tmp_path)
    assert res.nan_steps == 0 and np.all(np.isfinite(res.loss_dyn))
    side = phirom.load_checkpoint(tmp_path)[4]
    assert phirom.TrainConfig(**side["train"]) == cfg


def test_too_many_nan_steps_raise():
    bad = _NaNBurgers(num_points=32, length=10.0, dt=0.05, n_steps=6)
    cfg = phirom.TrainConfig(steps=4, max_nan_steps=2, **_CFG)
    with pytest.raises(RuntimeError, match="non-finite"):
        phirom.train(_model(dtype="float32"), bad, _snapshots(), cfg)


def test_checkpoint_resume_matches_uninterrupted(tmp_path):
    d = _snapshots()
    kw = dict(checkpoint_every=2, **_CFG)
    full = phirom.train(_model(dtype="float32"), _SOLVER, d, phirom.TrainConfig(steps=4, **kw))
    phirom.train(_model(dtype="float32"), _SOLVER, d, phirom.TrainConfig(steps=2, **kw),
                 checkpoint_dir=tmp_path)
    assert (tmp_path / "ckpt.eqx").exists() and (tmp_path / "ckpt.json").exists()
    resumed = phirom.train(_model(dtype="float32"), _SOLVER, d,
                           phirom.TrainConfig(steps=4, **kw), checkpoint_dir=tmp_path)
    # same steps, same keys, same data: bitwise-identical arithmetic on one CPU
    np.testing.assert_allclose(np.asarray(resumed.model.latents),
                               np.asarray(full.model.latents), rtol=0, atol=1e-7)
    model, _, step, _, side = phirom.load_checkpoint(tmp_path)
    assert step == 4 and side["model"]["latent_size"] == 2
    np.testing.assert_array_equal(np.asarray(model.latents), np.asarray(resumed.model.latents))


# -- inversion and forecast ---------------------------------------------------------------
@pytest.mark.parametrize("method,steps", [("gauss_newton", 30), ("adam", 400)])
def test_invert_recovers_decoded_state(method, steps):
    m = _model()
    pts = _SOLVER.points()
    z_true = jnp.asarray([0.3, -0.2])
    u = m.decode(z_true, jnp.asarray(pts))
    z = phirom.invert(m, u, pts, method=method, steps=steps, lr=2e-2)
    err = float(jnp.linalg.norm(m.decode(z, jnp.asarray(pts)) - u) / jnp.linalg.norm(u))
    # a smooth 2-parameter manifold: both optimisers reach the observed state closely
    assert err < (1e-8 if method == "gauss_newton" else 1e-3), err


class _Decay(eqx.Module):
    def __call__(self, z, mu):
        return -jnp.exp(mu[0]) * z  # normalised mu enters through exp


def test_forecast_matches_analytic_latent_ode():
    m = eqx.tree_at(lambda mm: mm.dynamics, _model(), _Decay())
    z0 = jnp.asarray([1.0, -2.0])
    t = np.linspace(0.0, 1.0, 11)
    q = np.array([[1.0], [5.0]])
    us, zs = phirom.forecast(m, z0, 0.15, t, q, return_latents=True)
    mun = (0.15 - float(m.mu_shift[0])) / float(m.mu_scale[0])
    ref = np.asarray(z0)[None] * np.exp(-np.exp(mun) * t)[:, None]
    # Tsit5 (5th order) with dt = 0.1 on a rate ~ e^1: error ~ 1e-7
    np.testing.assert_allclose(np.asarray(zs), ref, rtol=1e-5, atol=1e-7)
    assert us.shape == (11, 2, 1)


# -- bad input ----------------------------------------------------------------------------
def test_rejects_latent_size_zero():
    with pytest.raises(ValueError, match="latent_size"):
        phirom.PhiROM.create(box=([0.0], [1.0]), n_traj=1, n_times=2, latent_size=0,
                             key=jax.random.PRNGKey(0))


@pytest.mark.parametrize("gamma", [0.0, 1.5])
def test_rejects_gamma_outside_unit_interval(gamma):
    with pytest.raises(ValueError, match="gamma"):
        phirom.TrainConfig(gamma=gamma)


@pytest.mark.parametrize("lam", [-0.1, 1.1])
def test_rejects_lambda_outside_unit_interval(lam):
    with pytest.raises(ValueError, match="lam"):
        phirom.TrainConfig(lam=lam)


def test_rejects_unknown_mode():
    with pytest.raises(ValueError, match="mode"):
        phirom.TrainConfig(mode="sindy")


class _ShrinkingBurgers(solvers.Burgers1D):
    def residual(self, u, mu):
        return super().residual(u, mu)[:-1]


def test_rejects_residual_changing_shape():
    bad = _ShrinkingBurgers(num_points=32, length=10.0, dt=0.05, n_steps=6)
    with pytest.raises(ValueError, match="shaped like its input"):
        phirom.train(_model(), bad, _snapshots(), phirom.TrainConfig(steps=1))


def test_rejects_observations_with_nan():
    u = np.ones(32)
    u[4] = np.nan
    with pytest.raises(ValueError, match="values"):
        phirom.invert(_model(), u, _SOLVER.points())


def test_rejects_query_outside_domain():
    with pytest.raises(ValueError, match="query"):
        phirom.forecast(_model(), jnp.zeros(2), 0.1, [0.0, 0.1], np.array([[11.0]]))


def test_rejects_bad_inversion_method():
    with pytest.raises(ValueError, match="method"):
        phirom.invert(_model(), np.ones(32), _SOLVER.points(), method="lbfgs")


def test_forecast_mu_per_code_and_bad_mu():
    m = eqx.tree_at(lambda mm: mm.dynamics, _model(), _Decay())
    z0 = jnp.asarray([[1.0, -2.0], [0.5, 3.0]])
    t = np.linspace(0.0, 0.5, 6)
    q = np.array([[1.0]])
    _, zs = phirom.forecast(m, z0, [0.1, 0.2], t, q, return_latents=True)
    _, z1 = phirom.forecast(m, z0[1], 0.2, t, q, return_latents=True)
    # code 1 with its own mu equals the single-code forecast: the same ODE, to rounding
    np.testing.assert_allclose(np.asarray(zs[1]), np.asarray(z1), rtol=1e-6, atol=1e-7)
    with pytest.raises(ValueError, match="mu must hold 1 parameter"):
        phirom.forecast(m, z0, [0.1, 0.2, 0.3], t, q)  # 3 values for 2 codes
    with pytest.raises(ValueError, match="mu must hold 1 parameter"):
        phirom.forecast(m, z0[0], [0.1, 0.2], t, q)  # 2 values for one code
    with pytest.raises(ValueError, match="mu"):
        phirom.forecast(m, z0, np.nan, t, q)
