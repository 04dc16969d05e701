"""Train Phi-ROM (or the DINo baseline) on the parametrised Burgers benchmark.

Hosseini Dashtbayaz et al., NeurIPS 2025 (arXiv:2505.14595). The paper's hyper-parameters:
latent 4, decoder 4x32 sine with omega0 = 1, dynamics 4x64 with the parameter embedded,
batch 800, gamma = 0.1, lambda = 0.5, relative-L2 losses, AdamW 5e-3 decayed 0.985x every
50 steps, 1000 warm-up steps, 5000 steps, on the first 100 steps of the 8 training
trajectories.

    python examples/phirom/burgers_train.py --out runs/phirom               # 5000 steps
    python examples/phirom/burgers_train.py --mode dino --out runs/phirom   # DINo baseline
    python examples/phirom/burgers_train.py --quick --out /tmp/phirom       # 200 steps

Writes OUT/ckpt_<mode>/ (checkpoint every --checkpoint-every steps, atomic) and
OUT/train_<mode>.json. Re-running with the same OUT resumes from the checkpoint (a larger
--steps continues the run); --fresh starts over. Then run burgers_forecast.py,
burgers_sparse.py and make_figures.py with the same --out.
"""

from __future__ import annotations

import argparse
import shutil
import time

import jax
import numpy as np
from _common import add_out_argument, burgers_data, ckpt_dir, machine, write_json

from tensorrom.rom import phirom


def default_warmup(steps: int) -> tuple[int, int]:
    """Default (warm-up, ramp) for a run of ``steps``: the paper's 1000 warm-up steps and our
    2000-step ramp (docs/log/phirom.md), shortened to a fifth and two fifths of the run for
    short runs."""
    return min(1000, steps // 5), min(2000, 2 * steps // 5)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mode", choices=("phirom", "dino"), default="phirom")
    ap.add_argument("--quick", action="store_true", help="200 steps, batch 200")
    add_out_argument(ap)
    ap.add_argument("--steps", type=int, default=None, help="optimiser steps (default 5000)")
    ap.add_argument("--batch", type=int, default=None, help="snapshots per step (default 800)")
    ap.add_argument("--warmup", type=int, default=None,
                    help="warm-up steps (default min(1000, steps // 5))")
    ap.add_argument("--ramp", type=int, default=None,
                    help="steps over which the dynamics gradient is ramped in after the "
                         "warm-up (default min(2000, 2 * steps // 5))")
    ap.add_argument("--omega0", type=float, default=None,
                    help="first-layer frequency of the sine decoder (default 1)")
    ap.add_argument("--mu-augment", type=float, default=0.0,
                    help="fraction of each batch whose dynamics target is taken at a random "
                         "mu (parameter augmentation; default 0, the paper's training)")
    ap.add_argument("--mu-range", type=float, nargs=2, default=None, metavar=("LO", "HI"),
                    help="range of those random mu (default: the training mu, 0.015-0.03)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--checkpoint-every", type=int, default=100)
    ap.add_argument("--fresh", action="store_true", help="discard an existing checkpoint")
    args = ap.parse_args(argv)
    steps = args.steps or (200 if args.quick else 5000)
    batch = args.batch or (200 if args.quick else 800)
    warmup, ramp = default_warmup(steps)
    warmup = warmup if args.warmup is None else args.warmup
    ramp = ramp if args.ramp is None else args.ramp
    ckpt = ckpt_dir(args.out, args.mode)
    if args.fresh and ckpt.exists():
        shutil.rmtree(ckpt)

    solver, _, _, train = burgers_data()
    model = phirom.PhiROM.from_snapshots(solver, train, latent_size=4, decoder="sine",
                                         decoder_width=32, decoder_depth=4,
                                         omega0=args.omega0, dynamics_width=64,
                                         dynamics_depth=4, key=jax.random.PRNGKey(args.seed))
    cfg = phirom.TrainConfig(mode=args.mode, steps=steps, batch_size=batch, gamma=0.1, lam=0.5,
                             warmup_steps=warmup, warmup_ramp=ramp, seed=args.seed,
                             mu_augment=args.mu_augment, mu_range=args.mu_range,
                             checkpoint_every=args.checkpoint_every)
    start = 0
    if (ckpt / "ckpt.json").exists():
        _, _, start, _, side = phirom.load_checkpoint(ckpt, like=model)
        if side["model"] != model.config_dict:
            raise SystemExit(f"the checkpoint in {ckpt} holds another model configuration; "
                             "use --fresh or another --out")
        saved = phirom.TrainConfig(**side["train"])
        if (saved.mu_augment, saved.mu_range) != (cfg.mu_augment, cfg.mu_range):
            raise SystemExit(f"the checkpoint in {ckpt} was trained with mu_augment="
                             f"{saved.mu_augment}, mu_range={saved.mu_range}; use the same "
                             "options, --fresh or another --out")
        print(f"resuming {ckpt} from step {start}")
    t0 = time.perf_counter()
    res = phirom.train(model, solver, train, cfg, checkpoint_dir=ckpt, progress=True)
    wall = time.perf_counter() - t0
    tail = slice(max(0, len(res.loss_rec) - 50), None)
    info = {"mode": args.mode, "steps": steps, "batch": batch, "warmup": warmup, "ramp": ramp,
            "seed": args.seed, "omega0": args.omega0, "mu_augment": args.mu_augment,
            "mu_range": args.mu_range, "resumed_from": start,
            "wall_s": wall, "s_per_step": wall / max(1, steps - start),
            "nan_steps": res.nan_steps,
            "loss_rec_last50": float(np.mean(res.loss_rec[tail])),
            "loss_dyn_last50": float(np.mean(res.loss_dyn[tail])), **machine()}
    write_json(ckpt.parent / f"train_{args.mode}.json", info)
    print(f"{args.mode}: steps {start} -> {steps} in {wall:.1f} s "
          f"({info['s_per_step']:.3f} s/step, {jax.default_backend()}, "
          f"load {info['loadavg']:.2f}); NaN steps {res.nan_steps}; last 50 steps: "
          f"reconstruction {info['loss_rec_last50']:.3g}, dynamics {info['loss_dyn_last50']:.3g}")
    print(f"checkpoint: {ckpt}")


if __name__ == "__main__":
    main()
