"""Reconstruct every particle of a 2D MPM flow from one particle in 20 (GIOROM acceptance 4).

Generates sand (or water) trajectories with the MLS-MPM simulator
(``tensorrom.lagrangian.mpm``): a square block of 20 x 20 particles dropped at a random place
with a random velocity into the unit box. One trajectory is held out. A
:class:`~tensorrom.lagrangian.SparseToDense` operator is trained to map the motion of a
farthest-point subset of 1/20 of the particles to all particles (new subsets for every
training trajectory), then applied to the held-out trajectory with the true sparse positions.
Printed: the relative L2 error of the displacement ``x_t - x_0`` over all particles and
frames for

* Shepard's inverse-distance interpolation (baseline),
* the untrained operator (Franke-Nielson modified Shepard with linear, or quadratic, nodal
  functions from local least-squares fits: a moving-least-squares-like reconstruction),
* the trained operator,

with the wall time and the load average of the machine.

    python examples/giorom_reconstruction.py --quick            # about a minute
    python examples/giorom_reconstruction.py --out /tmp/recon   # sand, a few minutes on 2 cores
    python examples/giorom_reconstruction.py --material water --out /tmp/recon
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

# the dataset generator of the GIOROM example beside this script (same blocks, same cache)
from giorom_sand import make_dataset

import tensorrom as tr
from tensorrom import lagrangian as lg


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--material", default="sand", choices=["sand", "water"])
    ap.add_argument("--quick", action="store_true", help="tiny sizes (about a minute)")
    ap.add_argument("--out", type=Path, default=Path("giorom_reconstruction_out"))
    ap.add_argument("--trajectories", type=int, default=24, help="train + 1 held out")
    ap.add_argument("--frames", type=int, default=160)
    ap.add_argument("--steps", type=int, default=1500, help="optimisation steps")
    ap.add_argument("--batch", type=int, default=32, help="(subset, frame) pairs per step")
    ap.add_argument("--queries", type=int, default=100,
                    help="particles per pair in the loss (random; all: 0)")
    ap.add_argument("--plans", type=int, default=8, help="sparse subsets per trajectory")
    ap.add_argument("--learning-rate", type=float, default=3e-3)
    ap.add_argument("--every", type=int, default=20, help="keep one particle in EVERY")
    ap.add_argument("--width", type=int, default=64, help="width of the kernel MLPs")
    ap.add_argument("--order", type=int, default=1, choices=[1, 2],
                    help="Taylor order of the base proposals of the trained operator")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if args.quick:
        args.trajectories, args.frames, args.steps = 4, 60, 100
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    spacing, frame_dt = 1.0 / 80, 1.0 / 150
    t_start = time.time()
    pos = make_dataset(args.material, args.trajectories, args.frames, spacing, frame_dt,
                       args.seed, out / f"{args.material}_{args.trajectories}x{args.frames}.npz")
    t_data = time.time() - t_start
    train_ids, test_ids = lg.split_trajectories(len(pos), 1, seed=args.seed)
    assert set(train_ids).isdisjoint(test_ids)
    train, test = pos[train_ids], pos[test_ids[0]]
    n_part = pos.shape[2]
    n_sparse = n_part // args.every
    print(f"data: {pos.shape} ({args.material}), train {len(train_ids)} trajectories, held out "
          f"#{int(test_ids[0])}, {t_data:.0f} s")

    # radius: three particle spacings per sparse spacing (about 8-16 sparse neighbours)
    radius = 3.0 * spacing * np.sqrt(args.every)
    scale = float(np.std(train - train[:, :1]))
    key = jax.random.PRNGKey(args.seed)
    op0 = lg.SparseToDense(2, radius, displacement_scale=scale, order=args.order,
                           width=args.width, key=jax.random.fold_in(key, 4))
    bases = {o: lg.SparseToDense(2, radius, order=o, key=key) for o in (1, 2)}
    t = time.time()
    op, log = lg.train_sparse_to_dense(
        op0, train, n_sparse=n_sparse, method="fps", n_plans=args.plans, steps=args.steps,
        batch_size=args.batch, queries_per_sample=args.queries or None,
        learning_rate=args.learning_rate, key=jax.random.fold_in(key, 5), progress=True,
        checkpoint=out / (f"{args.material}_{args.trajectories}x{args.frames}_every{args.every}"
                        f"_{args.steps}steps.eqx"))
    t_train = time.time() - t

    # held-out trajectory, true sparse positions, farthest-point subset
    idx = tr.data.farthest_point_sample(test[0], n_sparse, seed=0)
    plan = op.plan(test[0][idx], test[0])
    ys = jnp.asarray(test[:, idx])
    u_true = test - test[:1]

    def rel(p) -> float:
        return float(np.linalg.norm((np.asarray(p) - test[:1]) - u_true)
                     / np.linalg.norm(u_true))

    rows = [("Shepard (inverse distance, p=2)",
             rel(jax.jit(jax.vmap(lambda y: lg.shepard_interpolate(y, plan)))(ys))),
            *((f"untrained, {('linear', 'quadratic')[o - 1]} local fits",
               rel(jax.jit(jax.vmap(lambda y, b=b: b(y, plan)))(ys)))
              for o, b in bases.items()),
            (f"trained SparseToDense (order {args.order}, {args.steps} steps)",
             rel(jax.jit(jax.vmap(lambda y: op(y, plan)))(ys)))]
    print(f"\nheld-out {args.material} trajectory: {n_part} particles, {test.shape[0]} frames, "
          f"reconstructed from {n_sparse} (1 in {args.every}, farthest-point), radius "
          f"{radius:.3f}")
    print(f"{'reconstruction':46s} {'rel. L2 error':>14s}")
    for name, e in rows:
        print(f"{name:46s} {e:14.3%}")
    print(f"final training loss {np.mean(log.losses[-100:]):.3g}; trained beats Shepard: "
          f"{rows[-1][1] < rows[0][1]}, below 2 %: {rows[-1][1] < 0.02}")
    with open("/proc/loadavg") as f:
        load = f.read().strip()
    print(f"wall time: data {t_data:.0f} s, training {t_train:.0f} s (batch {args.batch} x "
          f"{args.queries or n_part} particles), total {time.time() - t_start:.0f} s; "
          f"{os.cpu_count()} CPUs, jax {jax.default_backend()}; /proc/loadavg: {load}")


if __name__ == "__main__":
    main()
