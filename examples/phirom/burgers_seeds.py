"""Phi-ROM on Burgers over several seeds: the spread of acceptance item 4 (and 5).

For each seed, trains with ``burgers_train.py`` (the paper's hyper-parameters, model key and
batch seed = the seed) to each of ``--at`` steps in turn (a later step continues the run:
the learning-rate staircase depends only on the step, so the 5000-step model of a
12000-step run is the 5000-step run), and after each evaluates

* the 9 unseen mu (inversion at t = 0 on the full grid, 1000 Adam steps, 200-step rollout),
* the authors' 8 validation mu (0.03214 left out),
* the 9 unseen mu from 5 % of the grid nodes (acceptance item 5: ratio beyond the horizon),

as mean relative L2 errors for t <= 100 and 100 < t <= 200. Prints one row per (seed, step),
the mean and the worst over seeds, and writes OUT/seeds.json.

    python examples/phirom/burgers_seeds.py --seeds 0 1 2 3 4 --at 5000 12000 --out runs/seeds
    python examples/phirom/burgers_seeds.py --quick --out /tmp/seeds     # 2 seeds x 100 steps

Each seed trains in OUT/seed_<k>/ (resumable). On a 2-core CPU a 5000-step run takes
25-60 min; on one H100/H200 GPU a few minutes.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from _common import (
    HORIZON,
    add_out_argument,
    authors_validation,
    burgers_data,
    errors,
    evaluate,
    load_model,
    machine,
    observed_indices,
    write_json,
)
from burgers_train import default_warmup
from burgers_train import main as train_main

#: acceptance item 4 bounds on the 9 unseen mu (t <= 100, 100 < t <= 200)
BOUNDS = (0.022, 0.030)


def evaluate_run(out: Path, solver, test) -> dict:
    """Errors of the Phi-ROM checkpoint in ``out`` on the unseen mu (full and 5 % data)."""
    model = load_model(out, "phirom")
    e, e1, e2 = errors(evaluate(model, solver, test), test.values)
    val = authors_validation(test)
    obs = observed_indices(len(solver.points()), 0.05, seed=0)
    _, s1, s2 = errors(evaluate(model, solver, test, obs=obs), test.values)
    return {"test_mu": [e1, e2],
            "val8": [float(e[val, :HORIZON].mean()), float(e[val, HORIZON:].mean())],
            "worst_mu_beyond": float(e[:, HORIZON:].mean(1).max()),
            "sparse5": [s1, s2], "sparse5_ratio_beyond": s2 / e2}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_out_argument(ap)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--at", type=int, nargs="+", default=[5000],
                    help="training lengths at which to evaluate (ascending)")
    ap.add_argument("--quick", action="store_true", help="seeds 0 1, 100 steps")
    args = ap.parse_args(argv)
    if args.quick:
        args.seeds, args.at = [0, 1], [100]
    if sorted(args.at) != args.at or args.at[0] < 1:
        raise SystemExit(f"--at must be positive and ascending, got {args.at}")
    solver, _, test, _ = burgers_data()
    # one warm-up and ramp for every stage, those of the longest run: a continued run then
    # follows the same schedule as a run trained to that length directly
    warmup, ramp = default_warmup(args.at[-1])
    rows = []
    for seed in args.seeds:
        out = Path(args.out) / f"seed_{seed}"
        for steps in args.at:
            t0 = time.perf_counter()
            train_main(["--out", str(out), "--steps", str(steps), "--seed", str(seed),
                        "--warmup", str(warmup), "--ramp", str(ramp)])
            row = {"seed": seed, "steps": steps, "wall_s": time.perf_counter() - t0,
                   **evaluate_run(out, solver, test)}
            rows.append(row)
            write_json(Path(args.out) / "seeds.json", {"rows": rows, **machine()})

    print(f"\nrelative L2 error, 9 unseen mu: t <= {HORIZON} / {HORIZON} < t <= {2 * HORIZON} "
          f"(item 4 bounds {100 * BOUNDS[0]:.1f} / {100 * BOUNDS[1]:.1f} %)")
    print("seed  steps   unseen 9          authors' 8        worst mu beyond   "
          "5 % data ratio")
    for r in rows:
        ok = r["test_mu"][0] <= BOUNDS[0] and r["test_mu"][1] <= BOUNDS[1]
        print(f"{r['seed']:4d} {r['steps']:6d}   {100 * r['test_mu'][0]:5.2f} / "
              f"{100 * r['test_mu'][1]:5.2f} %   {100 * r['val8'][0]:5.2f} / "
              f"{100 * r['val8'][1]:5.2f} %   {100 * r['worst_mu_beyond']:6.2f} %"
              f"          {r['sparse5_ratio_beyond']:5.2f}   {'meets' if ok else 'misses'}")
    for steps in args.at:
        sel = np.array([r["test_mu"] for r in rows if r["steps"] == steps])
        print(f"steps {steps}: mean over {len(sel)} seeds {100 * sel[:, 0].mean():.2f} / "
              f"{100 * sel[:, 1].mean():.2f} %, worst {100 * sel[:, 0].max():.2f} / "
              f"{100 * sel[:, 1].max():.2f} %")
    print(f"table: {args.out}/seeds.json")


if __name__ == "__main__":
    main()
