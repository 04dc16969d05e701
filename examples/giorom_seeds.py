"""GIOROM vs GNS over several model seeds: the spread of the 20-step comparison.

For each model seed, runs ``examples/giorom_sand.py`` with the same data, train/test split
and SparseToDense (those of ``--seed``) and the two steppers seeded by the model seed. The
example resumes from the checkpoints in ``--out``, so seeds trained before are only
evaluated. Collects the summaries and prints

* one row per seed: MSE over the first 20 rollout steps on the first held-out trajectory,
  as a fraction of the constant-velocity baseline's, for GNS and GIOROM (through
  SparseToDense to all particles), their ratio, and the same ratio summed over all held-out
  trajectories;
* over the seeds: how many runs have GIOROM / GNS <= 2 with both models <= 0.1 x constant
  velocity; the ratio of the seed-mean MSE-20 with a 95 % bootstrap interval (seeds drawn
  with replacement, each seed's GNS and GIOROM kept together); the median ratio.

Writes ``OUT/seeds_<material>.json`` and a figure (GIOROM's against GNS's error, one point
per seed). ``--reuse`` takes a seed's numbers from the summary of an earlier run with the
same arguments. Everything after ``--`` goes to ``giorom_sand.py`` unchanged:

    python examples/giorom_seeds.py --model-seeds 1 2 3 -- --seed 1 --resolution 40 \\
        --trajectories 128 --test 4 --steps 6000 --material water --out runs/water
    python examples/giorom_seeds.py --model-seeds 1 2 -- --quick --test 2 --out /tmp/gq

The model seed equal to ``--seed`` is run without ``--model-seed`` (the example then seeds
the steppers from ``--seed``, the same keys, and names the checkpoints without ``_m<k>``).
On a 2-core CPU one seed at ``--resolution 40 --steps 6000`` takes about 20 min per model.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import giorom_sand  # noqa: E402

from tensorrom._atomic import write_json_atomic  # noqa: E402

RATIO_BOUND, CV_BOUND = giorom_sand.RATIO_BOUND, giorom_sand.CV_BOUND


def aggregate(summaries: list[dict], *, n_boot: int = 10_000, seed: int = 0) -> dict:
    """Per-seed ratios and the statistics over seeds of ``giorom_sand`` summaries.

    Args:
        summaries: one summary per model seed (``giorom_sand.main``'s return value), all of
            one material and configuration.
        n_boot: bootstrap resamples of the seeds for the interval of the seed-mean ratio.
        seed: seeds the bootstrap.

    Returns:
        ``{"runs": [...], "n": ..., "n_pass": ..., "mean_ratio": ..., "mean_ratio_ci95":
        [lo, hi], "median_ratio": ..., "mean_gns_cv": ..., "mean_giorom_cv": ...}``; the
        MSE-20 values are those on the first held-out trajectory.
    """
    if not summaries:
        raise ValueError("summaries is empty: run at least one model seed")
    materials = {s["material"] for s in summaries}
    if len(materials) != 1:
        raise ValueError(f"summaries mix materials {sorted(materials)}; aggregate one at a time")
    if len({json.dumps(s.get("args"), sort_keys=True) for s in summaries}) != 1:
        raise ValueError("summaries come from runs with different arguments (their 'args'); "
                         "aggregate one configuration at a time")
    runs = []
    for s in summaries:
        m = s["main"]
        cv, gns, gio = (m[k]["mse20"] for k in giorom_sand.MODELS)
        run = {"model_seed": s["model_seed"], "gns_cv": gns / cv, "giorom_cv": gio / cv,
               "ratio": gio / gns}
        run["pass"] = bool(run["ratio"] <= RATIO_BOUND and run["gns_cv"] <= CV_BOUND
                           and run["giorom_cv"] <= CV_BOUND)
        if s.get("flows"):
            tot = {k: sum(f["mse20"][k] for f in s["flows"]) for k in giorom_sand.MODELS}
            run["ratio_all_held_out"] = tot["GIOROM"] / tot["GNS"]
        ff = s.get("free_flight") or {}
        if ff.get("n_flows"):
            # rms one-step vertical drift over the training flows' free flight (summaries
            # since the nineteenth session)
            run["free_flight_rms"] = {"GNS": ff["GNS"]["rms"],
                                      "GIOROM": ff["GIOROM_sparse"]["rms"]}
        if s.get("fresh"):
            # flows outside the data set (giorom_sand.py --fresh)
            run["fresh"] = {k: s["fresh"][k] for k in
                            ("n", "giorom_within_2x", "ratio_of_means")}
        runs.append(run)
    gns = np.array([r["gns_cv"] for r in runs])
    gio = np.array([r["giorom_cv"] for r in runs])
    idx = np.random.default_rng(seed).integers(0, len(runs), size=(n_boot, len(runs)))
    boot = gio[idx].mean(1) / gns[idx].mean(1)
    extra = {}
    fresh = [s.get("fresh") or {} for s in summaries]
    if all(f.get("flows") for f in fresh) and len({(f["n"], f.get("data_seed"))
                                                   for f in fresh}) == 1:
        extra["fresh_pooled"] = pool_fresh(fresh, n_boot=n_boot, seed=seed)
    return extra | {"material": materials.pop(), "runs": runs, "n": len(runs),
            "n_pass": int(sum(r["pass"] for r in runs)),
            "mean_gns_cv": float(gns.mean()), "mean_giorom_cv": float(gio.mean()),
            "mean_ratio": float(gio.mean() / gns.mean()),
            "mean_ratio_ci95": [float(q) for q in np.percentile(boot, [2.5, 97.5])],
            "median_ratio": float(np.median(gio / gns))}


def pool_fresh(fresh: list[dict], *, n_boot: int = 10_000, seed: int = 0) -> dict:
    """GIOROM against GNS over the same fresh flows (``giorom_sand.py --fresh``) of several
    model seeds: the share of (seed, flow) pairs with GIOROM <= 2x GNS and the ratio of the
    mean MSE-20 (fractions of constant velocity's), with a 95 % bootstrap interval that
    resamples flows and seeds; the same for the flows in the air and for those that land.
    """
    m = np.array([[[f["mse20"][k] for k in giorom_sand.MODELS] for f in r["flows"]]
                  for r in fresh])                              # (seeds, flows, 3)
    lands = np.array([f["lands"] for f in fresh[0]["flows"]], bool)
    gns, gio = m[..., 1] / m[..., 0], m[..., 2] / m[..., 0]
    rng = np.random.default_rng(seed)
    out = {"n_seeds": int(m.shape[0]), "n_flows": int(m.shape[1]),
           "n_landing": int(lands.sum())}
    for name, cols in (("all", np.ones_like(lands)), ("in_the_air", ~lands),
                       ("landing", lands)):
        g, i = gns[:, cols], gio[:, cols]
        if g.shape[1] == 0:
            continue
        S, F = g.shape
        boot = []
        for _ in range(n_boot):
            rs, rf = rng.integers(0, S, S), rng.integers(0, F, F)
            boot.append(i[np.ix_(rs, rf)].mean() / g[np.ix_(rs, rf)].mean())
        out[name] = giorom_sand.compare_errors(g, i) | {
            "ratio_ci95": [float(q) for q in np.percentile(boot, [2.5, 97.5])]}
    return out


def find_summary(out: Path, model_seed: int, example_argv: list[str]) -> Path | None:
    """A summary in ``out`` of a ``giorom_sand.py`` run with the arguments ``example_argv``
    and ``model_seed`` (None if there is none). The example writes it only after both
    steppers have finished training, and training is deterministic for given arguments and
    seed, so the summary stands for the checkpoints in ``out``."""
    settings = json.loads(json.dumps(giorom_sand.run_settings(
        giorom_sand.parse_args(example_argv))))
    for path in sorted(out.glob("summary_*.json")):
        s = json.loads(path.read_text())
        if s.get("model_seed") == model_seed and s.get("args") == settings:
            return path
    return None


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--model-seeds", type=int, nargs="+", required=True,
                    help="model seeds to train (or load) and evaluate")
    ap.add_argument("--figures", action="store_true",
                    help="let giorom_sand.py draw its figure and animation for every seed")
    ap.add_argument("--reuse", action="store_true",
                    help="take a seed's numbers from a summary in --out written by a run with "
                         "the same arguments, instead of evaluating it again")
    ap.add_argument("example_args", nargs=argparse.REMAINDER,
                    help="arguments for giorom_sand.py (after --)")
    args = ap.parse_args(argv)
    rest = [a for a in args.example_args if a != "--"]
    if any(a == "--model-seed" or a.startswith("--model-seed=") for a in rest):
        ap.error("give the model seeds with --model-seeds, not --model-seed")
    if len(set(args.model_seeds)) != len(args.model_seeds):
        ap.error(f"--model-seeds repeats a seed: {args.model_seeds}")
    probe = argparse.ArgumentParser(add_help=False)
    probe.add_argument("--seed", type=int, default=0)
    probe.add_argument("--out", type=Path, default=Path("giorom_out"))
    known, _ = probe.parse_known_args(rest)

    summaries = []
    for k in args.model_seeds:
        extra = [] if k == known.seed else ["--model-seed", str(k)]
        extra += [] if args.figures else ["--no-figures"]
        print(f"\n===== model seed {k} =====", flush=True)
        found = find_summary(known.out, k, rest + extra) if args.reuse else None
        if found is not None:
            print(f"reusing {found}")
            summaries.append(json.loads(found.read_text()))
        else:
            summaries.append(giorom_sand.main(rest + extra))
    res = aggregate(summaries)
    res["configuration"] = {k: summaries[0].get(k) for k in
                            ("args", "n_particles", "n_sparse", "giorom_batch",
                             "giorom_wall_distance", "held_out")}

    print(f"\n{res['material']}: MSE-20 on held-out trajectory {summaries[0]['held_out'][0]} "
          f"(fraction of constant velocity's), {res['n']} model seeds")
    print(f"{'seed':>5s} {'GNS':>8s} {'GIOROM':>8s} {'GIO/GNS':>8s} {'all held-out':>13s}  pass"
          f"   free-flight drift rms: GNS, GIOROM")
    nan = float("nan")
    for r in res["runs"]:
        ff = r.get("free_flight_rms", {"GNS": nan, "GIOROM": nan})
        print(f"{r['model_seed']:5d} {r['gns_cv']:8.4f} {r['giorom_cv']:8.4f} "
              f"{r['ratio']:8.2f} {r.get('ratio_all_held_out', nan):13.2f}  "
              f"{'yes' if r['pass'] else 'NO ':3s}  {ff['GNS']:8.3f} {ff['GIOROM']:8.3f}")
    if any("fresh" in r for r in res["runs"]):
        print("fresh flows (giorom_sand.py --fresh): seed, flows, GIOROM <= "
              f"{RATIO_BOUND:g}x GNS on, ratio of the mean MSE-20s")
        for r in res["runs"]:
            if "fresh" in r:
                f = r["fresh"]
                print(f"{r['model_seed']:5d} {f['n']:6d} {f['giorom_within_2x']:8.0%} "
                      f"{f['ratio_of_means']:8.2f}")
    if "fresh_pooled" in res:
        fp = res["fresh_pooled"]
        print(f"fresh flows pooled over {fp['n_seeds']} seeds and {fp['n_flows']} flows "
              f"({fp['n_landing']} landing):")
        for name in ("all", "in_the_air", "landing"):
            if name in fp:
                q = fp[name]
                print(f"  {name:10s} GIOROM <= {RATIO_BOUND:g}x GNS on {q['within_2x']:.0%} of the "
                      f"pairs; ratio of the mean MSE-20 {q['ratio_of_means']:.2f} (95 % "
                      f"bootstrap over flows and seeds {q['ratio_ci95'][0]:.2f}-"
                      f"{q['ratio_ci95'][1]:.2f})")
    lo, hi = res["mean_ratio_ci95"]
    print(f"runs with GIOROM/GNS <= {RATIO_BOUND:g} and both <= {CV_BOUND:g} x const-vel: "
          f"{res['n_pass']} of {res['n']}")
    print(f"seed means: GNS {res['mean_gns_cv']:.4f}, GIOROM {res['mean_giorom_cv']:.4f} x "
          f"const-vel; ratio {res['mean_ratio']:.2f} (95 % bootstrap over seeds "
          f"{lo:.2f}-{hi:.2f}); median per-seed ratio {res['median_ratio']:.2f}")
    path = write_json_atomic(known.out / f"seeds_{res['material']}.json", res)
    figs = plot_seeds(res, known.out / f"seeds_{res['material']}")
    print("wrote", path, "and", ", ".join(map(str, figs)))
    return res


def plot_seeds(res: dict, stem: Path) -> list[Path]:
    """GIOROM's against GNS's MSE-20 (fractions of constant velocity's), one point per
    seed, with the lines GIOROM = GNS and GIOROM = 2 x GNS; PNG and PDF at ``stem``."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter

    import tensorrom as tr

    gns = np.array([r["gns_cv"] for r in res["runs"]])
    gio = np.array([r["giorom_cv"] for r in res["runs"]])
    with tr.plot.style():
        fig, ax = plt.subplots(figsize=(tr.plot.COLUMN_WIDTH, tr.plot.COLUMN_WIDTH))
        lo, hi = min(gns.min(), gio.min()) / 2, max(gns.max(), gio.max()) * 2
        t = np.array([lo, hi])
        ax.plot(t, t, color="0.5", lw=0.8, label="GIOROM = GNS")
        ax.plot(t, RATIO_BOUND * t, color="0.5", lw=0.8, ls="--",
                label=f"GIOROM = {RATIO_BOUND:g} x GNS")
        ok = np.array([r["pass"] for r in res["runs"]])
        ax.scatter(gns[ok], gio[ok], s=14, color="C0", label="seed within the bounds")
        ax.scatter(gns[~ok], gio[~ok], s=14, color="C3", marker="x", label="seed outside")
        for r, x, y in zip(res["runs"], gns, gio):
            ax.annotate(str(r["model_seed"]), (x, y), fontsize=6, xytext=(3, 2),
                        textcoords="offset points")
        ax.scatter([res["mean_gns_cv"]], [res["mean_giorom_cv"]], s=40, marker="*",
                   color="k", label="seed means")
        ax.set_xscale("log")
        ax.set_yscale("log")
        for axis in (ax.xaxis, ax.yaxis):
            axis.set_minor_formatter(NullFormatter())
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo, hi)
        ax.set_aspect("equal")
        ax.set_xlabel("GNS MSE-20 / constant velocity")
        ax.set_ylabel("GIOROM MSE-20 / constant velocity")
        ax.set_title(f"{res['material']}, {res['n']} model seeds")
        ax.legend(fontsize=6, loc="lower right")  # the seeds lie along the diagonal
        paths = tr.plot.savefig(fig, stem)
        plt.close(fig)
    return paths


if __name__ == "__main__":
    main()
