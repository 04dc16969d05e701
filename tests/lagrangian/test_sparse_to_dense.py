"""SparseToDense kernel integral, the grid splat/gather variant and the Shepard baseline."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tensorrom.data import Box, farthest_point_sample
from tensorrom.lagrangian import (
    SparseToDense,
    SparseToDensePlan,
    grid_splat_gather,
    shepard_interpolate,
)


@eqx.filter_jit
def _apply(op, y, plan):
    return op(y, plan)


def _cloud(rng, n=400):
    return rng.uniform(0.1, 0.9, size=(n, 2))


def test_constant_displacement_is_reproduced(rng):
    # all three reconstructions are normalised weighted averages (partition of unity), so a
    # rigid translation of the sparse set is reproduced to rounding (1e-12 in float64).
    ref = _cloud(rng)
    sparse = ref[::4]
    shift = np.array([0.03, -0.02])
    op = SparseToDense(2, 0.25, key=jax.random.PRNGKey(0), dtype=jnp.float64)
    plan = op.plan(sparse, ref)
    want = ref + shift
    for got in (_apply(op, jnp.asarray(sparse + shift), plan),
                jax.jit(shepard_interpolate)(jnp.asarray(sparse + shift), plan),
                jax.jit(lambda y: grid_splat_gather(y, sparse, ref, Box([0, 0], [1, 1]), 16,
                                                    kernel_radius=2.5))(
                    jnp.asarray(sparse + shift))):
        np.testing.assert_allclose(np.asarray(got), want, rtol=0, atol=1e-12)


def test_plan_on_the_device_gives_the_same_result(rng):
    # to_device only converts the plan's arrays (floats to the operator's dtype, indices
    # kept): in float64 the output is the same to rounding (1e-13 on positions ~ 1)
    ref = _cloud(rng)
    sparse = ref[::4]
    op = _perturbed(SparseToDense(2, 0.25, width=16, key=jax.random.PRNGKey(2),
                                  dtype=jnp.float64))
    plan = op.plan(sparse, ref)
    dplan = plan.to_device(jnp.float64)
    assert isinstance(dplan.query.index, jax.Array) and dplan.query.index.dtype == jnp.int32
    assert dplan.query.offset.dtype == jnp.float64 and dplan.radius == plan.radius
    y = jnp.asarray(sparse + 0.02 * rng.normal(size=sparse.shape))
    np.testing.assert_allclose(np.asarray(_apply(op, y, dplan)),
                               np.asarray(_apply(op, y, plan)), rtol=0, atol=1e-13)
    with pytest.raises(TypeError, match="dtype"):
        plan.to_device(jnp.int32)


def test_kernel_depends_on_query_point(rng):
    # with a non-zero kernel the output at a query depends on x0 - y0 beyond the weights:
    # two queries with the same neighbours and weights but mirrored offsets differ.
    ref = _cloud(rng)
    sparse = ref[::4]
    op = SparseToDense(2, 0.25, key=jax.random.PRNGKey(0), dtype=jnp.float64)
    op = jax.tree_util.tree_map(lambda a: a + 0.1 if eqx_is_float(a) else a, op)
    q = np.array([sparse[5] + [0.02, 0.0], sparse[5] - [0.02, 0.0]])
    plan = op.plan(sparse, q)
    u = jnp.asarray(sparse + 0.01 * rng.normal(size=sparse.shape))
    out = np.asarray(_apply(op, u, plan)) - q
    assert np.max(np.abs(out[0] - out[1])) > 1e-6


def eqx_is_float(a):
    return hasattr(a, "dtype") and jnp.issubdtype(a.dtype, jnp.floating) and a.ndim > 0


def test_shepard_interpolates_at_the_sparse_points(rng):
    # a query that coincides with a sparse particle takes its value exactly
    ref = _cloud(rng)
    sparse = ref[::4]
    plan = SparseToDensePlan.build(sparse, sparse, 0.2)
    moved = sparse + 0.01 * rng.normal(size=sparse.shape)
    np.testing.assert_allclose(np.asarray(shepard_interpolate(jnp.asarray(moved), plan)), moved,
                               rtol=0, atol=1e-14)


def test_radius_with_no_edges_raises(rng):
    ref = _cloud(rng)
    with pytest.raises(ValueError, match="radius"):
        SparseToDensePlan.build(ref[:5], ref, 1e-4)


def test_mismatched_particle_counts_raise(rng):
    ref = _cloud(rng)
    sparse = ref[::4]
    op = SparseToDense(2, 0.25, key=jax.random.PRNGKey(0), dtype=jnp.float64)
    plan = op.plan(sparse, ref)
    with pytest.raises(ValueError, match="mismatched particle counts"):
        op(jnp.asarray(sparse[:-1]), plan)


@pytest.mark.parametrize("order", [1, 2])
def test_affine_displacement_is_reproduced_by_the_initial_operator(rng, order):
    # with the kernel at its zero initialisation the operator is modified Shepard with linear
    # (or quadratic) nodal functions: affine fields u = A y0 + b are reproduced up to the
    # 1e-12 relative Tikhonov term of the float64 least-squares fits (tolerance 1e-7 on
    # |u| ~ 0.05), while plain Shepard interpolation is off by O(|A| h) ~ 1e-3.
    ref = _cloud(rng)
    sparse = ref[::4]
    A = np.array([[0.05, -0.02], [0.03, 0.04]])
    b = np.array([0.01, -0.02])
    moved = sparse + sparse @ A.T + b
    op = SparseToDense(2, 0.25, order=order, key=jax.random.PRNGKey(0), dtype=jnp.float64)
    plan = op.plan(sparse, ref)
    want = ref + ref @ A.T + b
    got = np.asarray(_apply(op, jnp.asarray(moved), plan))
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-7)
    shep = np.asarray(shepard_interpolate(jnp.asarray(moved), plan))
    assert np.max(np.abs(shep - want)) > 1e-4


def test_quadratic_displacement_is_reproduced_by_the_initial_order_2_operator(rng):
    # order 2: every sparse particle's local least-squares fit is quadratic, so a quadratic
    # field is reproduced by each proposal and by their normalised blend, up to the 1e-12
    # relative Tikhonov term (measured ~1e-10 on |u| ~ 0.04: tolerance 1e-8); the linear
    # order-1 base misses the curvature by O(|H| r^2) ~ 1e-3.
    ref = _cloud(rng)
    sparse = ref[::4]

    def field(x):
        return np.stack([0.05 * x[:, 0] ** 2 - 0.03 * x[:, 0] * x[:, 1] + 0.01 * x[:, 1],
                         0.04 * x[:, 1] ** 2 + 0.02 * x[:, 0] * x[:, 1] - 0.02], -1)

    err = {}
    for order in (1, 2):
        op = SparseToDense(2, 0.25, order=order, key=jax.random.PRNGKey(0), dtype=jnp.float64)
        plan = op.plan(sparse, ref)
        got = np.asarray(_apply(op, jnp.asarray(sparse + field(sparse)), plan))
        err[order] = np.max(np.abs(got - ref - field(ref)))
    assert err[2] < 1e-8
    assert err[1] > 1e-4
    with pytest.raises(ValueError, match="order"):
        SparseToDense(2, 0.25, order=3, key=jax.random.PRNGKey(0))


def _perturbed(op, seed=0, amp=0.3):
    # non-zero kernel (the last layers start at zero): random perturbation of every weight
    leaves, tree = jax.tree_util.tree_flatten(op)
    keys = jax.random.split(jax.random.PRNGKey(seed), len(leaves))
    leaves = [a + amp * jax.random.normal(k, a.shape, a.dtype) if eqx_is_float(a) else a
              for a, k in zip(leaves, keys)]
    return jax.tree_util.tree_unflatten(tree, leaves)


@pytest.mark.parametrize("context_channels,extra", [
    (0, {}), (8, {}), (8, {"fit_features": False, "message_passing": 0, "gate": 0.0}),
    (8, {"message_passing": 2, "order": 2}), (8, {"shape_scales": (0.5, 1.0)})])
def test_translation_is_reproduced_by_a_nonzero_kernel(rng, context_channels, extra):
    # every input of the learned kernel (offsets, gradient terms, local-fit gradients and
    # residuals, proposals minus their blend, local descriptors and their message passing on
    # displacement differences) is unchanged when all sparse particles move by the same
    # vector c, and the blend is a normalised weighted average: the output moves by exactly c
    # (1e-12 in float64 on |u| ~ 0.05), whatever the weights.
    ref = _cloud(rng)
    sparse = ref[::4]
    op = _perturbed(SparseToDense(2, 0.25, context_channels=context_channels, width=16,
                                  key=jax.random.PRNGKey(1), dtype=jnp.float64, **extra))
    plan = op.plan(sparse, ref)
    u = 0.03 * rng.normal(size=sparse.shape)
    c = np.array([0.04, -0.07])
    a = np.asarray(_apply(op, jnp.asarray(sparse + u), plan))
    b = np.asarray(_apply(op, jnp.asarray(sparse + u + c), plan))
    np.testing.assert_allclose(b - a, np.broadcast_to(c, a.shape), rtol=0, atol=1e-12)
    # and the kernel is active: the output differs from the untrained operator's
    base = SparseToDense(2, 0.25, context_channels=context_channels, width=16,
                         key=jax.random.PRNGKey(1), dtype=jnp.float64, **extra)
    assert np.max(np.abs(a - np.asarray(_apply(base, jnp.asarray(sparse + u), plan)))) > 1e-4


def test_gate_makes_a_rigid_translation_exact_for_a_nonzero_kernel(rng):
    # with the gate (default) the learned correction is multiplied by d^2 / (d^2 + gate^2),
    # d^2 = |t_y - b(x)|^2 + |G(y)|^2 + fit residual^2, which is exactly 0 when the sparse set
    # translates rigidly: the trained operator then returns x0 + c exactly (1e-12, float64),
    # not x0 + c + a learned offset-only bias. Without the gate it does not (the bias of a
    # perturbed kernel is O(0.1 s) here), so the test sees the difference.
    ref = _cloud(rng)
    sparse = ref[::4]
    c = np.array([0.04, -0.07])
    got = {}
    for gate in (0.05, 0.0):
        op = _perturbed(SparseToDense(2, 0.25, width=16, gate=gate, displacement_scale=0.05,
                                      key=jax.random.PRNGKey(1), dtype=jnp.float64))
        plan = op.plan(sparse, ref)
        got[gate] = np.asarray(_apply(op, jnp.asarray(sparse + c), plan))
    np.testing.assert_allclose(got[0.05], ref + c, rtol=0, atol=1e-12)
    assert np.max(np.abs(got[0.0] - ref - c)) > 1e-4


def test_bad_message_passing_and_gate_raise():
    with pytest.raises(ValueError, match="message_passing"):
        SparseToDense(2, 0.25, message_passing=-1, key=jax.random.PRNGKey(0))
    with pytest.raises(TypeError, match="message_passing"):
        SparseToDense(2, 0.25, message_passing=1.5, key=jax.random.PRNGKey(0))
    with pytest.raises(ValueError, match="gate"):
        SparseToDense(2, 0.25, gate=-0.1, key=jax.random.PRNGKey(0))


def test_bad_context_channels_raise():
    with pytest.raises(ValueError, match="context_channels"):
        SparseToDense(2, 0.25, context_channels=-1, key=jax.random.PRNGKey(0))
    with pytest.raises(TypeError, match="context_channels"):
        SparseToDense(2, 0.25, context_channels=2.5, key=jax.random.PRNGKey(0))


def test_shape_features_of_a_half_plane_edge_and_of_the_interior():
    # on a square lattice (spacing h = rho / 20.5: no lattice point lies on a circle of
    # radius rho about a lattice point, so rounding cannot break the symmetry) the mean
    # offset to the lattice points within rho is 0 at an interior point (by symmetry, to
    # rounding) and, at the middle of the left edge, about the centroid of a half disc,
    # 4 / (3 pi) = 0.4244 in units of rho, pointing inwards; the lattice points on the edge
    # itself pull it down by O(h / rho), 0.015 here, so 0.02 bounds the difference.
    m = 81
    g = np.stack(np.meshgrid(np.arange(m), np.arange(m), indexing="ij"), -1).reshape(-1, 2)
    cloud = g / (m - 1.0)                                   # unit square, h = 1/80
    rho = 20.5 / (m - 1.0)
    probe = [(m // 2) * m + m // 2, m // 2]                 # centre, middle of the edge x = 0
    coarse = np.flatnonzero((g[:, 0] % 10 == 0) & (g[:, 1] % 10 == 0))
    sparse = cloud[np.concatenate([probe, coarse])]
    plan = SparseToDensePlan.build(sparse, cloud, rho, shape_scales=(1.0,),
                                   max_shape_points=m * m)
    for f in (np.asarray(plan.shape_sparse)[:2], np.asarray(plan.shape_query)[probe]):
        np.testing.assert_allclose(f[0], 0.0, atol=1e-12)
        assert abs(f[1, 1]) < 1e-12
        assert abs(f[1, 0] - 4.0 / (3.0 * np.pi)) < 0.02
    assert plan.shape_query.shape == (m * m, 2)
    # the default uses a random subset of 1024 points of the cloud: the edge still shows
    # (a 1024-point sample of the disc is noisy, about 0.02, hence the 0.1 bound)
    plan2 = SparseToDensePlan.build(sparse, cloud, rho, shape_scales=(1.0,))
    f2 = np.asarray(plan2.shape_sparse)
    assert f2.shape == (len(sparse), 2)
    assert abs(f2[1, 0] - 4.0 / (3.0 * np.pi)) < 0.1 and np.abs(f2[0]).max() < 0.1


def test_shape_scales_must_match_between_operator_and_plan(rng):
    ref = _cloud(rng)
    op = SparseToDense(2, 0.25, shape_scales=(0.5,), key=jax.random.PRNGKey(0))
    with pytest.raises(ValueError, match="shape_scales"):
        op(jnp.asarray(ref[::4]), SparseToDensePlan.build(ref[::4], ref, 0.25))
    assert op.plan(ref[::4], ref).shape_scales == (0.5,)
    assert op.hyperparameters()["shape_scales"] == [0.5]
    assert "shape_scales" not in SparseToDense(2, 0.25, key=jax.random.PRNGKey(0)
                                               ).hyperparameters()
    with pytest.raises(ValueError, match="shape_scales"):
        SparseToDense(2, 0.25, shape_scales=(0.5, -1.0), key=jax.random.PRNGKey(0))
    with pytest.raises(TypeError, match="shape_scales"):
        SparseToDense(2, 0.25, shape_scales=0.5, key=jax.random.PRNGKey(0))
    with pytest.raises(ValueError, match="shape_scales"):
        SparseToDensePlan.build(ref[::4], ref, 0.25, shape_scales=(0.0,))
    with pytest.raises(TypeError, match="shape_scales"):
        SparseToDensePlan.build(ref[::4], ref, 0.25, shape_scales=0.5)


def _smooth_trajectories(rng, m=12, n_frames=4):
    g = np.stack(np.meshgrid(np.arange(m), np.arange(m), indexing="ij"), -1).reshape(-1, 2)
    X = 0.1 + (g + 0.5 + 0.2 * rng.uniform(-1, 1, g.shape)) * (0.8 / m)
    t = np.linspace(0, 1, n_frames)[:, None, None]
    u = np.stack([0.05 * np.sin(np.pi * X[:, 1]), 0.04 * X[:, 0] ** 2], -1)
    return np.stack([X[None] + t * u[None], X[None] - t * u[None]])


@pytest.mark.parametrize("shape_scales", [(), (0.5,)])
def test_query_subsampling_with_all_particles_gives_the_full_loss(rng, shape_scales):
    # queries_per_sample = N draws every particle once in a random order; the loss is a mean
    # over particles, so the first step's loss equals the full-query loss (same subsets and
    # frames: the key schedule does not depend on the option) to float64 rounding (1e-12).
    from tensorrom.lagrangian import train_sparse_to_dense

    data = _smooth_trajectories(rng)
    n = data.shape[2]
    op = _perturbed(SparseToDense(2, 0.3, displacement_scale=0.03, width=16,
                                  shape_scales=shape_scales, key=jax.random.PRNGKey(0),
                                  dtype=jnp.float64), amp=0.1)
    losses = []
    for q in (None, n):
        _, log = train_sparse_to_dense(op, data, n_sparse=n // 4, steps=1, batch_size=3,
                                       n_plans=2, key=jax.random.PRNGKey(3),
                                       queries_per_sample=q)
        losses.append(log.losses[0])
    assert losses[0] > 1e-6
    np.testing.assert_allclose(losses[1], losses[0], rtol=1e-12)
    with pytest.raises(ValueError, match="queries_per_sample"):
        train_sparse_to_dense(op, data, n_sparse=n // 4, steps=1, key=jax.random.PRNGKey(3),
                              queries_per_sample=n + 1)


def test_training_log_keeps_one_loss_per_step_across_flushes_and_resume(rng, tmp_path):
    # the losses are read back from the device every 50 steps and before every checkpoint:
    # 57 steps with a checkpoint every 20 give 57 losses; a resumed run to 60 keeps the first
    # 57 exactly (they come from the checkpoint) and adds 3
    from tensorrom.lagrangian import train_sparse_to_dense

    data = _smooth_trajectories(rng)
    n = data.shape[2]
    op = SparseToDense(2, 0.3, displacement_scale=0.03, width=8, key=jax.random.PRNGKey(0),
                       dtype=jnp.float64)
    ckpt = tmp_path / "s2d.eqx"
    kw = dict(n_sparse=n // 4, batch_size=2, n_plans=1, key=jax.random.PRNGKey(3),
              checkpoint=ckpt, checkpoint_every=20, queries_per_sample=8)
    _, log = train_sparse_to_dense(op, data, steps=57, **kw)
    assert len(log.losses) == 57 and np.all(np.isfinite(log.losses))
    _, log2 = train_sparse_to_dense(op, data, steps=60, **kw)
    assert log2.resumed_from == 57 and len(log2.losses) == 60
    assert log2.losses[:57] == log.losses


@pytest.mark.slow
def test_trained_operator_beats_shepard_on_held_out_frames():
    # smooth non-affine deformations x_t = X + t a sin(pi X_y) e_x + t b X_x^2 e_y of a
    # jittered lattice; trained on 3 trajectories, tested on a 4th (different a, b), from one
    # particle in 20. The trained operator must beat inverse-distance Shepard and stay below
    # 2 % relative L2 displacement error (acceptance item 4 on smooth data).
    from tensorrom.lagrangian import train_sparse_to_dense

    rng = np.random.default_rng(0)
    m = 40
    g = np.stack(np.meshgrid(np.arange(m), np.arange(m), indexing="ij"), -1).reshape(-1, 2)
    X = 0.1 + (g + 0.5 + 0.2 * rng.uniform(-1, 1, g.shape)) * (0.8 / m)
    t = np.linspace(0, 1, 12)[:, None, None]

    def traj(a, b):
        u = np.stack([a * np.sin(np.pi * X[:, 1]), b * X[:, 0] ** 2], -1)
        return X[None] + t * u[None]

    train = np.stack([traj(a, b) for a, b in [(0.05, 0.04), (-0.04, 0.06), (0.03, -0.05)]])
    test = traj(0.045, -0.035)
    r = 3.0 * 0.8 / m * np.sqrt(20)
    op = SparseToDense(2, r, displacement_scale=float(np.std(train - train[:, :1])),
                       key=jax.random.PRNGKey(0))
    op, _ = train_sparse_to_dense(op, train, n_sparse=m * m // 20, method="fps", n_plans=8,
                                  steps=600, key=jax.random.PRNGKey(1))
    # one particle in 20, spread by farthest-point sampling (an index stride would pick two
    # lattice columns)
    idx = farthest_point_sample(X, m * m // 20, seed=123)
    plan = op.plan(X[idx], X)
    rec = np.asarray(jax.vmap(lambda y: op(y, plan))(jnp.asarray(test[:, idx], jnp.float32)))
    shep = np.asarray(jax.vmap(lambda y: shepard_interpolate(y, plan))(jnp.asarray(test[:, idx])))
    u = test - X[None]

    def rel(p):
        return np.linalg.norm(p - test) / np.linalg.norm(u)

    assert rel(rec) < rel(shep)
    assert rel(rec) < 0.02


@pytest.mark.slow
def test_trained_operator_reconstructs_held_out_mpm_sand_from_one_particle_in_20(drop_blocks):
    # acceptance item 4 on MPM sand: the default run of examples/giorom_reconstruction.py
    # (same data, split, keys and budget): 160 blocks of 20 x 20 particles dropped at random
    # places with random velocities, 160 frames each; 16 trajectories held out, the other 144
    # and their mirror images (x -> 1 - x) train the operator, 4000 steps x 32 (subset, frame)
    # pairs x 100 particles (about 20 minutes on 2 busy cores). 20 farthest-point particles
    # (1 in 20) give all 400; error: relative L2 error of the displacement x_t - x_0 over all
    # particles, frames and held-out trajectories, for three farthest-point subsets (seeds).
    # Measured (examples/giorom_reconstruction.py, the same run): 2.60, 2.33, 2.42 % for the
    # three subsets (Shepard 10.5, 10.6, 10.2 %); per (trajectory, subset) median 1.29 %, 34
    # of 48 below 2 %, but 1-7 % spread: the three held-out blocks thrown fast against a side
    # wall (3.5, 4.3, 6.8 %) dominate the aggregate. So the 2 % of acceptance item 4 holds for
    # the typical held-out trajectory, not for the aggregate over all of them. Bounds with
    # margin for run-to-run changes (float32 training; other XLA builds): aggregate below 3 %
    # and below a third of Shepard's error (measured a quarter), median below 2 %.
    # The 2 % aggregate of item 4 is reached with 1440 training flows and 24 000 steps x 64
    # (1.77 / 1.34 / 1.66 %, docs/log/giorom.md): 5 minutes on a GPU, hours on 2 cores, so it
    # is not repeated here.
    import tensorrom as tr
    from tensorrom.lagrangian import split_trajectories, train_sparse_to_dense

    spacing = 1.0 / 80
    pos = drop_blocks(np.random.default_rng(0), 160, spacing)
    train_ids, test_ids = split_trajectories(len(pos), 16, seed=0)
    train, test = pos[train_ids], pos[test_ids]
    mirrored = train.copy()
    mirrored[..., 0] = 1.0 - mirrored[..., 0]
    train = np.concatenate([train, mirrored])
    n = pos.shape[2] // 20
    key = jax.random.PRNGKey(0)
    op = SparseToDense(2, 3.0 * spacing * np.sqrt(20),
                       displacement_scale=float(np.std(train - train[:, :1])),
                       key=jax.random.fold_in(key, 4))
    op, _ = train_sparse_to_dense(op, train, n_sparse=n, method="fps", n_plans=8, steps=4000,
                                  batch_size=32, queries_per_sample=100, learning_rate=3e-3,
                                  key=jax.random.fold_in(key, 5))
    rec = jax.jit(jax.vmap(lambda y, plan: op(y, plan), in_axes=(0, None)))
    shep = jax.jit(jax.vmap(shepard_interpolate, in_axes=(0, None)))
    err2 = np.zeros((2, 3, len(test)))   # ([trained, Shepard], subset seed, trajectory)
    u2 = np.array([np.sum((traj - traj[:1]) ** 2) for traj in test])
    for j, traj in enumerate(test):
        for s in range(3):
            idx = tr.data.farthest_point_sample(traj[0], n, seed=s)
            plan = op.plan(traj[0][idx], traj[0])
            ys = jnp.asarray(traj[:, idx])
            err2[0, s, j] = np.sum((np.asarray(rec(ys, plan)) - traj) ** 2)
            err2[1, s, j] = np.sum((np.asarray(shep(ys, plan)) - traj) ** 2)
    rel = np.sqrt(err2.sum(axis=2) / u2.sum())        # (method, subset seed)
    per = np.sqrt(err2[0] / u2)                         # trained, (subset seed, trajectory)
    assert np.all(rel[0] < rel[1] / 3)
    assert np.all(rel[0] < 0.03)
    assert np.median(per) < 0.02
