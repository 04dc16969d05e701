"""Forecast the 17 Burgers trajectories with the trained models and POD-Galerkin (r = 4).

For the 8 training mu and the 9 unseen mu, the latent code at t = 0 is found by inversion
on the full grid (Adam, 1000 steps), the latent ODE is integrated to 200 steps (twice the
training horizon) and decoded; the relative L2 error is averaged over t <= 100 steps and
100 < t <= 200. Beside Phi-ROM: the DINo mode (when OUT/ckpt_dino exists) and
POD-Galerkin with r = 4 (basis from the training window, float64).

    python examples/phirom/burgers_forecast.py --out runs/phirom

Reads OUT/ckpt_phirom (and OUT/ckpt_dino); writes OUT/predictions.npz (the fields, for
make_figures.py) and OUT/forecast.json (the errors, per mu as well).
"""

from __future__ import annotations

import argparse
import time

import jax
import numpy as np
from _common import (
    HORIZON,
    INVERT_LR,
    INVERT_STEPS,
    MODES,
    add_out_argument,
    authors_validation,
    burgers_data,
    errors,
    evaluate,
    load_model,
    machine,
    write_json,
)

from tensorrom.rom.pod import PODGalerkin

NAMES = {"phirom": "Phi-ROM", "dino": "DINo", "pod4": "POD-Galerkin r=4"}
SETS = {"train_mu": "training mu", "test_mu": "unseen mu"}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_out_argument(ap)
    ap.add_argument("--inv-steps", type=int, default=INVERT_STEPS,
                    help=f"Adam steps of the inversion at t = 0 (default {INVERT_STEPS})")
    ap.add_argument("--inv-lr", type=float, default=INVERT_LR,
                    help=f"Adam rate of the inversion (default {INVERT_LR})")
    args = ap.parse_args(argv)

    solver, full_train, test, train = burgers_data()
    sets = {"train_mu": full_train, "test_mu": test}
    results = {"inv_steps": args.inv_steps, "inv_lr": args.inv_lr, **machine()}
    preds = {}
    val = authors_validation(test)
    for mode in MODES:
        model = load_model(args.out, mode, required=mode == "phirom")
        if model is None:
            print(f"no {mode} checkpoint: {mode} left out")
            continue
        for name, d in sets.items():
            t0 = time.perf_counter()
            p = evaluate(model, solver, d, steps=args.inv_steps, lr=args.inv_lr)
            results[f"{mode}_{name}_eval_wall_s"] = time.perf_counter() - t0
            e, e1, e2 = errors(p, d.values)
            results[f"{mode}_{name}"] = [e1, e2]
            results[f"{mode}_{name}_per_mu"] = {
                f"{m:.5f}": [float(e[j, :HORIZON].mean()), float(e[j, HORIZON:].mean())]
                for j, m in enumerate(np.asarray(d.mus).reshape(d.n_traj))}
            if name == "test_mu":
                results[f"{mode}_val8"] = [float(e[val, :HORIZON].mean()),
                                           float(e[val, HORIZON:].mean())]
            preds[f"{mode}_{name}"] = p.astype(np.float32)

    t0 = time.perf_counter()
    with jax.enable_x64(True):  # POD-Galerkin in float64
        pod = PODGalerkin.fit(solver, train, rank=4)
        for name, d in sets.items():
            p = np.stack([np.asarray(pod.rollout(d.values[i, 0], d.mus[i, 0], d.times))
                          for i in range(d.n_traj)])
            _, e1, e2 = errors(p, d.values)
            results[f"pod4_{name}"] = [e1, e2]
            preds[f"pod4_{name}"] = p.astype(np.float32)
    results["pod4_wall_s"] = time.perf_counter() - t0

    np.savez(f"{args.out}/predictions.npz", x=solver.axes[0], times=test.times,
             horizon=HORIZON, mus_train_mu=full_train.mus, mus_test_mu=test.mus,
             truth_train_mu=full_train.values, truth_test_mu=test.values, **preds)
    write_json(f"{args.out}/forecast.json", results)

    print(f"\nrelative L2 error (mean over trajectories)   t <= {HORIZON}   "
          f"{HORIZON} < t <= {2 * HORIZON}")
    for method in (*MODES, "pod4"):
        for name, label in SETS.items():
            if f"{method}_{name}" in results:
                e1, e2 = results[f"{method}_{name}"]
                print(f"{NAMES[method]:<18} {label:<24} {100 * e1:8.2f} %  {100 * e2:8.2f} %")
        if f"{method}_val8" in results:
            e1, e2 = results[f"{method}_val8"]
            print(f"{NAMES[method]:<18} {'unseen mu, authors 8':<24} {100 * e1:8.2f} %  "
                  f"{100 * e2:8.2f} %")
    print("\nPhi-ROM per unseen mu (t <= 100 / t > 100):")
    print(", ".join(f"{m}: {100 * a:.2f}/{100 * b:.2f} %"
                    for m, (a, b) in results["phirom_test_mu_per_mu"].items()))
    print(f"\npredictions: {args.out}/predictions.npz; errors: {args.out}/forecast.json")


if __name__ == "__main__":
    main()
