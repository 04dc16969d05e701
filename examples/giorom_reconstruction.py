"""Reconstruct every particle of a 2D MPM flow from one particle in 20 (GIOROM acceptance 4).

Generates sand (or water) trajectories with the MLS-MPM simulator
(``tensorrom.lagrangian.mpm``): a square block of 20 x 20 particles dropped at a random place
with a random velocity into the unit box. ``--test`` of the ``--trajectories`` are held
out; ``--extra-train`` further blocks are drawn after them for training only. A
:class:`~tensorrom.lagrangian.SparseToDense` operator is trained to map the motion of a
farthest-point subset of 1/20 of the particles to all particles (new subsets for every
training trajectory; the training trajectories are also used mirrored, ``x -> 1 - x``, which
is a symmetry of the box and of gravity), then applied to the held-out trajectories with
their true sparse positions, for several farthest-point subsets (``--subsets`` seeds).

The error measure is the relative L2 error of the displacement ``u = x_t - x_0``,

    || u_rec - u_true || / || u_true ||   (all particles, all frames, all held-out
                                             trajectories together; per trajectory as well),

which is the error of the reconstructed positions relative to how far the particles moved
(the error of the positions relative to the positions themselves would be far smaller and
say little). Printed for

* Shepard's inverse-distance interpolation (baseline),
* the untrained operator (Franke-Nielson modified Shepard with linear, or quadratic, nodal
  functions from local least-squares fits: a moving-least-squares-like reconstruction),
* the trained operator,

with the wall time and the load average of the machine.

    python examples/giorom_reconstruction.py --quick            # about a minute
    python examples/giorom_reconstruction.py --out /tmp/recon   # sand, about 20 min on 2 cores
    python examples/giorom_reconstruction.py --steps 10000      # lower error, about 45 min
    python examples/giorom_reconstruction.py --extra-train 320 --width 128 --steps 10000
                                          # 320 more training flows, about 1 h
    python examples/giorom_reconstruction.py --extra-train 1280 --width 128 --batch 64 \
        --steps 24000 --workers 14        # 1440 flows: below 2 % (H200: 5 min; 2 cores: ~5 h)
    python examples/giorom_reconstruction.py --evaluate CHECKPOINT.eqx   # a trained operator
    python examples/giorom_reconstruction.py --order 2           # quadratic proposals
    python examples/giorom_reconstruction.py --shape-scales 0.25 0.5 1   # shape features
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


def load_operator(path: Path, radius: float) -> lg.SparseToDense:
    """The trained SparseToDense of a checkpoint of this script (hyperparameters from its
    sidecar); its radius must be the one of this run (``--every``)."""
    import json

    side = path.with_name(path.name + ".json")
    if not path.exists() or not side.exists():
        raise SystemExit(f"--evaluate: {path} or its sidecar {side.name} does not exist")
    hp = dict(json.loads(side.read_text())["hyperparameters"])
    if hp.pop("model") != "SparseToDense" or not np.isclose(hp["radius"], radius, rtol=1e-12):
        raise SystemExit(f"--evaluate: {path} is not a SparseToDense with radius {radius:.6g}")
    hp.pop("version")
    like = lg.SparseToDense(hp.pop("dim"), hp.pop("radius"), key=jax.random.PRNGKey(0),
                            dtype=jnp.dtype(hp.pop("dtype")),
                            shape_scales=tuple(hp.pop("shape_scales", ())), **hp)
    op, _, meta = lg.load_checkpoint(path, like, None)
    print(f"loaded {path} (step {meta['step']})")
    return op


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--material", default="sand", choices=["sand", "water"])
    ap.add_argument("--quick", action="store_true", help="tiny sizes (about a minute)")
    ap.add_argument("--out", type=Path, default=Path("giorom_reconstruction_out"))
    ap.add_argument("--trajectories", type=int, default=160, help="train + held out")
    ap.add_argument("--test", type=int, default=16, help="held-out trajectories")
    ap.add_argument("--extra-train", type=int, default=0,
                    help="further trajectories for training only (drawn after the first "
                         "--trajectories, so the held-out set does not change)")
    ap.add_argument("--frames", type=int, default=160)
    ap.add_argument("--steps", type=int, default=4000, help="optimisation steps")
    ap.add_argument("--batch", type=int, default=32, help="(subset, frame) pairs per step")
    ap.add_argument("--queries", type=int, default=100,
                    help="particles per pair in the loss (random; all: 0)")
    ap.add_argument("--plans", type=int, default=8, help="sparse subsets per trajectory")
    ap.add_argument("--no-mirror", action="store_true",
                    help="do not add the mirrored training trajectories")
    ap.add_argument("--learning-rate", type=float, default=3e-3)
    ap.add_argument("--every", type=int, default=20, help="keep one particle in EVERY")
    ap.add_argument("--width", type=int, default=64, help="width of the kernel MLPs")
    ap.add_argument("--order", type=int, default=1, choices=[1, 2],
                    help="Taylor order of the base proposals of the trained operator")
    ap.add_argument("--shape-scales", type=float, nargs="*", default=[],
                    help="shape features of the trained operator: scales in units of the "
                         "radius, e.g. 0.25 0.5 1 (default: none)")
    ap.add_argument("--subsets", type=int, default=3,
                    help="farthest-point subsets (seeds) per held-out trajectory")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--evaluate", type=Path, default=None, metavar="CHECKPOINT",
                    help="evaluate this trained operator (a .eqx checkpoint of this script, "
                         "e.g. trained on a GPU) on the held-out trajectories; no training")
    ap.add_argument("--workers", type=int, default=1,
                    help="processes that simulate the dataset on the CPU (default 1)")
    args = ap.parse_args()
    if args.extra_train < 0:
        raise SystemExit(f"--extra-train must be >= 0, got {args.extra_train}")
    if args.quick:
        args.trajectories, args.test, args.frames, args.steps = 6, 2, 60, 100
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    spacing, frame_dt = 1.0 / 80, 1.0 / 150
    t_start = time.time()
    # only the held-out trajectories are needed to evaluate a trained operator
    n_all = args.trajectories + (0 if args.evaluate else args.extra_train)
    # the generator draws the blocks one after the other: the first --trajectories of a
    # larger set are the same flows as in a set of that size
    pos = make_dataset(args.material, n_all, args.frames, spacing, frame_dt,
                       args.seed, out / f"{args.material}_{n_all}x{args.frames}.npz",
                       workers=args.workers)
    t_data = time.time() - t_start
    train_ids, test_ids = lg.split_trajectories(args.trajectories, args.test, seed=args.seed)
    train_ids = np.concatenate([train_ids, np.arange(args.trajectories, n_all)])
    assert set(train_ids).isdisjoint(test_ids)
    train, test = pos[train_ids], pos[test_ids]
    if not args.no_mirror:
        mirrored = train.copy()
        mirrored[..., 0] = 1.0 - mirrored[..., 0]          # unit box: x -> 1 - x
        train = np.concatenate([train, mirrored])
    n_part = pos.shape[2]
    n_sparse = n_part // args.every
    print(f"data: {pos.shape} ({args.material}), "
          + ("" if args.evaluate else f"{len(train_ids)} training trajectories"
             f"{'' if args.no_mirror else ' (+ mirrored)'}, ")
          + f"{len(test_ids)} held out, {t_data:.0f} s")

    # radius: three particle spacings per sparse spacing (about 8-16 sparse neighbours)
    radius = 3.0 * spacing * np.sqrt(args.every)
    scale = float(np.std(train - train[:, :1]))
    key = jax.random.PRNGKey(args.seed)
    op0 = lg.SparseToDense(2, radius, displacement_scale=scale, order=args.order,
                           width=args.width, shape_scales=tuple(args.shape_scales),
                           key=jax.random.fold_in(key, 4))
    bases = {o: lg.SparseToDense(2, radius, order=o, key=key) for o in (1, 2)}
    variant = "".join([
        f"_w{args.width}_{args.steps}steps",
        "_shape" + "-".join(f"{c:g}" for c in args.shape_scales) if args.shape_scales else "",
        "_order2" if args.order == 2 else "",
        "" if args.no_mirror else "_mirror"])
    t = time.time()
    if args.evaluate is not None:
        op, log = load_operator(args.evaluate, radius), None
    else:
        op, log = lg.train_sparse_to_dense(
            op0, train, n_sparse=n_sparse, method="fps", n_plans=args.plans, steps=args.steps,
            batch_size=args.batch, queries_per_sample=args.queries or None,
            learning_rate=args.learning_rate, key=jax.random.fold_in(key, 5), progress=True,
            checkpoint=out / (f"{args.material}_{n_all}x{args.frames}_every{args.every}"
                              f"{variant}.eqx"))
    t_train = time.time() - t

    # held-out trajectories, true sparse positions, farthest-point subsets
    methods = {"Shepard (inverse distance, p=2)": lg.shepard_interpolate,
               **{f"untrained, {('linear', 'quadratic')[o - 1]} local fits": b
                  for o, b in bases.items()},
               f"trained SparseToDense (order {op.order}, "
               f"{args.steps if log is not None else 'loaded'}"
               f"{' steps' if log is not None else ''})": op}
    apply = {name: jax.jit(jax.vmap(lambda y, plan, f=f: f(y, plan), in_axes=(0, None)))
             for name, f in methods.items()}
    err2 = {name: np.zeros((args.subsets, len(test))) for name in methods}
    u2 = np.zeros(len(test))
    for j, traj in enumerate(test):
        u2[j] = np.sum((traj - traj[:1]) ** 2)
        for s in range(args.subsets):
            idx = tr.data.farthest_point_sample(traj[0], n_sparse, seed=s)
            plan = op.plan(traj[0][idx], traj[0])
            ys = jnp.asarray(traj[:, idx])
            for name, f in apply.items():
                err2[name][s, j] = np.sum((np.asarray(f(ys, plan)) - traj) ** 2)
    print(f"\n{len(test)} held-out {args.material} trajectories: {n_part} particles, "
          f"{test.shape[1]} frames, reconstructed from {n_sparse} (1 in {args.every}, "
          f"farthest-point subsets with seeds 0..{args.subsets - 1}), radius {radius:.3f}")
    print("relative L2 error of the displacement over all held-out trajectories and frames, "
          "per subset seed; per trajectory (all seeds): median and max")
    print(f"{'reconstruction':46s} {'per subset seed':>24s} {'median':>8s} {'max':>8s}")
    summary = {}
    for name, e2 in err2.items():
        agg = np.sqrt(e2.sum(axis=1) / u2.sum())
        per = np.sqrt(e2 / u2)
        summary[name] = (agg, per)
        print(f"{name:46s} {' '.join(f'{a:7.3%}' for a in agg):>24s} "
              f"{np.median(per):8.3%} {per.max():8.3%}")
    agg, per = summary[list(methods)[-1]]
    agg_s = summary[list(methods)[0]][0]
    loss = (f"final training loss {np.mean(log.losses[-100:]):.3g}" if log is not None
            else f"evaluated {args.evaluate.name}")
    print(f"{loss}; trained beats Shepard: "
          f"{bool(np.all(agg < agg_s))}, below 2 % for every subset seed: "
          f"{bool(np.all(agg < 0.02))}; per trajectory below 2 %: "
          f"{int((per < 0.02).sum())}/{per.size}")
    # the aggregate is a ratio of sums, so one flow with large errors can dominate it
    e2 = err2[list(methods)[-1]]
    worst = int(np.argmax(e2.sum(axis=0)))
    rest = np.sqrt(np.delete(e2, worst, axis=1).sum(axis=1) / np.delete(u2, worst).sum())
    print(f"largest share of the squared error: held-out trajectory #{test_ids[worst]}, "
          f"{e2[:, worst].sum() / e2.sum():.0%} ({' '.join(f'{p:.2%}' for p in per[:, worst])} "
          f"per subset seed); aggregate over the other {len(test) - 1}: "
          f"{' '.join(f'{a:.2%}' for a in rest)}")
    with open("/proc/loadavg") as f:
        load = f.read().strip()
    what = (f"training {t_train:.0f} s (batch {args.batch} x {args.queries or n_part} "
            "particles)" if log is not None else f"loading {t_train:.0f} s")
    print(f"wall time: data {t_data:.0f} s, {what}, total {time.time() - t_start:.0f} s; "
          f"{os.cpu_count()} CPUs, jax {jax.default_backend()}; /proc/loadavg: {load}")


if __name__ == "__main__":
    main()
