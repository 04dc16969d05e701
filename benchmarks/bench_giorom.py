"""GIOROM vs GNS: time of one inference step at many points, and time per training step.

One GIOROM inference step = the GIOROM stepper on the sparse set (``--sparse`` particles, its
radius graph built by the JAX cell list) plus the SparseToDense operator to ``--points``
query points. One GNS step = the GNS stepper on all ``--points`` particles (radius graph
included). Both use the paper's sizes (latent 128, GNS: 10 message-passing steps) with random
weights (the timing does not depend on them), float32, jit-compiled; compile time is
excluded and the median of ``--repeat`` runs is reported. The training step is one
``value_and_grad`` + Adam update of the normalised-acceleration loss on a batch of 2 windows
(GNS on ``--train-particles``, GIOROM on ``--fraction`` of them), and for GIOROM also on
``2 / --fraction`` windows, i.e. as many particle accelerations per step as GNS.

    python benchmarks/bench_giorom.py            # 100k points
    python benchmarks/bench_giorom.py --quick    # 10k points
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

import tensorrom as tr
from tensorrom import lagrangian as lg


def block(n: int, lo=(0.2, 0.1), side=0.5, seed=0) -> tuple[np.ndarray, float]:
    """n jittered lattice points in a square; returns (points, spacing)."""
    m = int(np.ceil(np.sqrt(n)))
    h = side / m
    g = np.stack(np.meshgrid(np.arange(m), np.arange(m), indexing="ij"), -1).reshape(-1, 2)
    rng = np.random.default_rng(seed)
    x = np.asarray(lo) + (g[:n] + 0.5 + 0.3 * rng.uniform(-1, 1, (n, 2))) * h
    return x.astype(np.float32), h


def history(x: np.ndarray, H: int = 5, seed: int = 1) -> jnp.ndarray:
    v = np.random.default_rng(seed).normal(scale=1e-3, size=x.shape).astype(np.float32)
    return jnp.asarray(np.stack([x + (k - H) * v for k in range(H + 1)]))


def timeit(fn, *args, repeat: int) -> tuple[float, float]:
    t = time.perf_counter()
    jax.block_until_ready(fn(*args))
    compile_s = time.perf_counter() - t
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        jax.block_until_ready(fn(*args))
        times.append(time.perf_counter() - t)
    return float(np.median(times)), compile_s


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--points", type=int, default=100_000)
    ap.add_argument("--sparse", type=int, default=1000)
    ap.add_argument("--train-particles", type=int, default=2000)
    ap.add_argument("--fraction", type=float, default=0.25)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    if args.quick:
        args.points, args.repeat, args.train_particles = 10_000, 2, 1000
    box = tr.Box([0.0, 0.0], [1.0, 1.0])
    key = jax.random.PRNGKey(0)
    H = 5
    print(f"machine: {platform.platform()}, {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs, jax {jax.__version__} backend {jax.default_backend()} "
          f"({jax.devices()[0].device_kind})")

    # ---- inference: GIOROM (sparse stepper + SparseToDense) vs GNS on all points -------
    dense, h_dense = block(args.points)
    sparse, h_sparse = block(args.sparse, seed=3)
    R_dense, R_sparse = 2.5 * h_dense, 2.5 * h_sparse
    gns = lg.GNS(2, box, R_dense, key=key)
    gio = lg.GIOROM(2, box, R_sparse, key=key)
    s2d = lg.SparseToDense(2, 3.0 * h_sparse, key=key)
    b_dense = lg.RadiusGraphBuilder.from_data(dense, R_dense, box)
    b_sparse = lg.RadiusGraphBuilder.from_data(sparse, R_sparse, box)
    # built once per query cloud and kept on the device for the whole rollout
    plan = s2d.plan(sparse, dense).to_device(s2d.dtype)
    hist_dense, hist_sparse = history(dense), history(sparse)

    @eqx.filter_jit
    def gns_step(model, hist):
        return model.step(hist, b_dense(hist[-1]))

    @eqx.filter_jit
    def giorom_step(model, op, hist, plan):
        nxt = model.step(hist, b_sparse(hist[-1]))
        return op(nxt, plan)

    t_gio, c_gio = timeit(giorom_step, gio, s2d, hist_sparse, plan, repeat=args.repeat)
    t_gns, c_gns = timeit(gns_step, gns, hist_dense, repeat=args.repeat)
    print(f"\none inference step to {args.points} points "
          f"(GNS graph: {b_dense.capacity} edge slots; GIOROM on {args.sparse} particles)")
    print(f"  GIOROM (stepper + SparseToDense): {t_gio * 1e3:10.1f} ms  (compile {c_gio:.1f} s)")
    print(f"  GNS on all points               : {t_gns * 1e3:10.1f} ms  (compile {c_gns:.1f} s)")
    print(f"  speed-up GNS / GIOROM           : {t_gns / t_gio:10.1f} x")

    # where GIOROM's step goes: the stepper on the sparse set alone, the operator alone
    @eqx.filter_jit
    def stepper_only(model, hist):
        return model.step(hist, b_sparse(hist[-1]))

    @eqx.filter_jit
    def operator_only(op, x, plan):
        return op(x, plan)

    @eqx.filter_jit
    def graph_only(x):
        g = b_sparse(x)
        return g.senders, g.receivers

    t_st, _ = timeit(stepper_only, gio, hist_sparse, repeat=args.repeat)
    t_gr, _ = timeit(graph_only, hist_sparse[-1], repeat=args.repeat)
    t_op, _ = timeit(operator_only, s2d, hist_sparse[-1], plan, repeat=args.repeat)
    print(f"  of which: stepper on {args.sparse} {t_st * 1e3:.1f} ms (its radius graph alone "
          f"{t_gr * 1e3:.1f} ms, {b_sparse.capacity} edge slots), "
          f"SparseToDense to {args.points} {t_op * 1e3:.1f} ms "
          f"(at most {plan.query.index.shape[1]} neighbours per query)")

    # ---- training step -----------------------------------------------------------------
    n_tr = args.train_particles
    n_sub = int(round(args.fraction * n_tr))
    full, h_full = block(n_tr, seed=5)
    sub = full[tr.data.farthest_point_sample(full, n_sub, seed=0)]
    R_full, R_sub = 2.5 * h_full, 2.5 * h_full / np.sqrt(args.fraction)
    bf = lg.RadiusGraphBuilder.from_data(full, R_full, box, margin=2.0)
    bs = lg.RadiusGraphBuilder.from_data(sub, R_sub, box, margin=2.0)
    opt = optax.adam(1e-3)

    def make_step(builder):
        @eqx.filter_jit
        def step(model, state, windows):
            def loss(m):
                def one(w):
                    g = builder(w[-2])
                    acc = w[-1] - 2 * w[-2] + w[-3]
                    return jnp.mean((m.normalised_acceleration(w[:-1], g) - acc) ** 2)

                return jnp.mean(jax.vmap(one)(windows))

            val, grads = eqx.filter_value_and_grad(loss)(model)
            upd, state = opt.update(grads, state, eqx.filter(model, eqx.is_inexact_array))
            return eqx.apply_updates(model, upd), state, val

        return step

    # GIOROM also with batch 2 / fraction windows: the same number of particle accelerations
    # per step as GNS (examples/giorom_sand.py --budget particles, its default)
    n_same = max(2, int(round(2 * n_tr / n_sub)))
    res = {}
    for name, model, pts, builder, batch in (
            ("GNS", lg.GNS(2, box, R_full, key=key), full, bf, 2),
            ("GIOROM", lg.GIOROM(2, box, R_sub, key=key), sub, bs, 2),
            ("GIOROM-same", lg.GIOROM(2, box, R_sub, key=key), sub, bs, n_same)):
        w = jnp.stack([history(pts, H + 1, seed=s) for s in range(1, batch + 1)])
        state = opt.init(eqx.filter(model, eqx.is_inexact_array))
        res[name] = timeit(make_step(builder), model, state, w, repeat=args.repeat)
    print(f"\none training step (batch 2): GNS on {n_tr} particles "
          f"{res['GNS'][0] * 1e3:.1f} ms, GIOROM on {n_sub} ({args.fraction:.0%}) "
          f"{res['GIOROM'][0] * 1e3:.1f} ms, ratio {res['GNS'][0] / res['GIOROM'][0]:.1f} x")
    print(f"the same particle accelerations per step (GIOROM batch {n_same}): GIOROM "
          f"{res['GIOROM-same'][0] * 1e3:.1f} ms, ratio "
          f"{res['GNS'][0] / res['GIOROM-same'][0]:.1f} x")


if __name__ == "__main__":
    main()
