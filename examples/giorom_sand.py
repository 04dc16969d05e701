"""GIOROM vs GNS on 2D MPM granular (or water) flows.

Generates trajectories with the MLS-MPM simulator (``tensorrom.lagrangian.mpm``), trains

* GNS on all particles, and
* GIOROM on sparse subsets (a new farthest-point subset of ``--fraction`` of the particles
  for every training sample) plus a SparseToDense operator that maps the sparse motion back
  to every particle / to a 100k-point cloud,

with the same number of optimisation steps (``--budget``: the same batch of windows, or the
same number of particle accelerations in the loss of every step), rolls both out on a held-out
trajectory and prints the error table (MSE over 20 steps, over the full rollout, Chamfer
distance, kinetic-energy error; the constant-velocity baseline for scale), each model's
free-fall error over the free flight of the training flows, and with ``--fresh N`` the
20-step comparison over N flows simulated outside the data set. Saves a
paper-style figure (ground truth / GNS / GIOROM snapshots), an animation (GIF) and the
numbers as ``OUT/summary_<material><tags>.json`` (``examples/giorom_seeds.py`` collects
these over several model seeds).

Everything that takes long (dataset, training) is cached / checkpointed in ``--out`` and
resumes when the script is run again.

    python examples/giorom_sand.py --quick --out /tmp/giorom          # minutes on a laptop
    python examples/giorom_sand.py --material water --out /tmp/giorom_water
    python examples/giorom_sand.py --latent 128 --message-passing 10 --steps 20000  # paper (GPU)
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

import tensorrom as tr
from tensorrom import lagrangian as lg
from tensorrom._atomic import write_json_atomic
from tensorrom.lagrangian import mpm

#: side of the square block dropped into the unit box in every flow of :func:`make_dataset`
BLOCK_SIDE = 0.25


def _simulate_block(material: str, lo, vel, spacing: float, n_frames: int, frame_dt: float,
                    seed: int) -> np.ndarray:
    """(T, N, 2) float32 positions of one block (a process-pool task of :func:`make_dataset`)."""
    scene = mpm.Scene(tr.Box([0, 0], [1, 1]),
                      [mpm.Block(lo, np.asarray(lo) + BLOCK_SIDE, material, velocity=vel)],
                      spacing=spacing, seed=seed)
    # twice the fewest stable substeps: a water splash can exceed the initial speed bound
    substeps = 2 * int(np.ceil(frame_dt / mpm.stable_dt(scene)))
    traj = mpm.simulate(scene, n_frames=n_frames, frame_dt=frame_dt, substeps=substeps)
    return np.asarray(traj.positions, np.float32)


def make_dataset(material: str, n_traj: int, n_frames: int, spacing: float, frame_dt: float,
                 seed: int, cache: Path, workers: int = 1) -> np.ndarray:
    """(n_traj, T, N, 2) positions: a square block of fixed size at a random place with a
    random initial velocity, collapsing in the unit box. Cached in ``cache`` (npz).

    ``workers > 1`` simulates the blocks in that many processes on the CPU (JAX's CPU
    backend, one thread each; the blocks are drawn first, so the set is the same as with
    one worker)."""
    if cache.exists():
        with np.load(cache, allow_pickle=False) as f:
            if f["positions"].shape[:2] == (n_traj, n_frames):
                return f["positions"]
    from tqdm.auto import tqdm

    rng = np.random.default_rng(seed)
    tasks = []
    for i in range(n_traj):
        lo = rng.uniform([0.05, 0.02], [1 - BLOCK_SIDE - 0.05, 0.45])
        vel = rng.uniform(-1.0, 1.0, 2)
        tasks.append((material, lo, vel, spacing, n_frames, frame_dt, int(seed * 1000 + i)))
    if workers > 1:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        # the children run on the CPU, single-threaded (set before they start, restored after)
        saved = {k: os.environ.get(k) for k in ("JAX_PLATFORMS", "XLA_FLAGS")}
        os.environ["JAX_PLATFORMS"] = "cpu"
        os.environ["XLA_FLAGS"] = "--xla_cpu_multi_thread_eigen=false"
        try:
            with ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn")) as pool:
                out = list(tqdm(pool.map(_simulate_block, *zip(*tasks), chunksize=4),
                                total=n_traj, desc=f"MPM {material} ({workers} processes)"))
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
    else:
        out = [_simulate_block(*t) for t in tqdm(tasks, desc=f"MPM {material}")]
    pos = np.stack(out)
    tmp = cache.with_name(cache.stem + ".tmp.npz")
    np.savez(tmp, positions=pos)
    os.replace(tmp, cache)
    return pos


# train_stepper's training noise; other values are part of the checkpoint / figure names
NOISE = 3e-4
#: the rows of the error table, as named in the JSON summary
MODELS = ("constant_velocity", "GNS", "GIOROM")
#: acceptance bounds on MSE-20: GIOROM / GNS, and each model / constant velocity
RATIO_BOUND, CV_BOUND = 2.0, 0.1
# switches added after summaries had been written: left out of a run's settings while off,
# so those summaries still match (giorom_seeds.py --reuse); add later switches here
LATER_SWITCHES = ("giorom_accelerations", "giorom_learning_rate", "fresh")


def free_flight_drift(model, flows: np.ndarray, builder, *, unit: float, floor: float,
                      n_sub: int | None = None, n_frames: int = 20
                      ) -> tuple[np.ndarray, np.ndarray]:
    """How fast ``model`` lets each block fall while it is in free flight.

    For every flow of ``flows`` ((F, T, N, 2) true positions) the model predicts the frames
    after its ``H + 1`` first ones from the true history
    (:func:`tensorrom.lagrangian.one_step_acceleration_error`). The particle mean of the
    vertical error is averaged over the frames predicted before the block's lowest particle
    comes within ``floor`` of the box floor (y = 0), at most ``n_frames`` of them; flows with
    fewer than 3 such frames are left out. With ``n_sub`` the model sees the farthest-point
    subset (seed 0) of that size of each flow, as GIOROM does in the rollouts.

    Returns:
        ``(drift, flow_index)``: the mean vertical error per flow in units of ``unit``
        (per frame^2; positive: the block falls too slowly) and the indices of those flows.
    """
    H = model.n_history
    drift, index = [], []
    for k, x in enumerate(flows):
        low = x[:, :, 1].min(axis=1)
        hit = np.flatnonzero(low < floor)
        n_win = min(n_frames, x.shape[0] - H - 1)       # windows the flow has
        # predicted frame H + 1 + j must come before the first frame near the floor
        n_free = min((hit[0] if len(hit) else x.shape[0]) - H - 2, n_win)
        if n_free < 3:
            continue
        if n_sub is not None:
            x = x[:, tr.data.farthest_point_sample(x[0], n_sub, seed=0)]
        # always n_win windows (one compilation per flow length), only the free ones are read
        e = lg.one_step_acceleration_error(model, x, builder=builder, n_frames=n_win)
        drift.append(float(e["mean_error"][:n_free, 1].mean()) / unit)
        index.append(k)
    return np.asarray(drift), np.asarray(index, int)


def mse20_on_flows(flows: np.ndarray, predictors, n_steps: int, n_history: int) -> np.ndarray:
    """MSE of ``n_steps``-step rollouts from the start of every flow.

    Args:
        flows: (F, T, N, d) true positions, ``T >= n_history + 1 + n_steps``.
        predictors: callables ``(initial (H + 1, N, d)) -> (n_steps, N, d)`` predictions.
        n_steps: rollout length (20 for MSE-20). n_history: H.

    Returns:
        (F, 1 + len(predictors)): the constant-velocity baseline's MSE, then each
        predictor's, over frames ``H + 1 .. H + n_steps``.
    """
    rows = []
    for x in flows:
        init, truth = x[: n_history + 1], x[n_history + 1: n_history + 1 + n_steps]
        rows.append([lg.rollout_mse(lg.constant_velocity_rollout(init, n_steps), truth)]
                    + [lg.rollout_mse(f(init), truth) for f in predictors])
    return np.asarray(rows, float)


def compare_errors(gns_cv, giorom_cv) -> dict:
    """GIOROM against GNS on MSE-20 values (fractions of constant velocity's) of the same
    flows, any shape (flows, or seeds x flows): the share with GIOROM <= ``RATIO_BOUND`` x
    GNS and the ratio of the means."""
    g, i = np.asarray(gns_cv, float), np.asarray(giorom_cv, float)
    return {"within_2x": float(np.mean(i <= RATIO_BOUND * g)),
            "ratio_of_means": float(i.mean() / g.mean())}


def lands_within(flows: np.ndarray, n_frames: int, floor: float) -> np.ndarray:
    """(F,) bool: the block's lowest particle comes within ``floor`` of the box floor
    (y = 0) in the first ``n_frames`` frames of each flow ((F, T, N, 2) positions)."""
    return np.asarray(flows)[:, :n_frames, :, 1].min(axis=(1, 2)) < floor


def plot_fresh(fresh: dict, stem: Path) -> list[Path]:
    """Scatter of GIOROM's against GNS's MSE-20 (fractions of constant velocity's) over the
    fresh flows of a summary (``fresh``), in the air and landing, with the 1x and 2x lines;
    saved as ``stem.png`` / ``stem.pdf``."""
    import matplotlib.pyplot as plt

    m = np.array([[f["mse20"][k] for k in MODELS] for f in fresh["flows"]])
    lands = np.array([f["lands"] for f in fresh["flows"]], bool)
    gns, gio = m[:, 1] / m[:, 0], m[:, 2] / m[:, 0]
    with tr.plot.style():
        fig, ax = plt.subplots(figsize=(tr.plot.PAGE_WIDTH / 2, tr.plot.PAGE_WIDTH / 2))
        for mask, label, marker in ((~lands, "in the air", "o"), (lands, "landing", "^")):
            if mask.any():
                ax.scatter(gns[mask], gio[mask], s=12, marker=marker, label=label)
        lo = 0.5 * min(gns.min(), gio.min())
        hi = 2.0 * max(gns.max(), gio.max())
        grid = np.array([lo, hi])
        ax.plot(grid, grid, "k-", lw=0.8, label="GIOROM = GNS")
        ax.plot(grid, RATIO_BOUND * grid, "k--", lw=0.8, label=f"GIOROM = {RATIO_BOUND:g} x GNS")
        ax.axhline(CV_BOUND, color="0.6", lw=0.6)
        ax.axvline(CV_BOUND, color="0.6", lw=0.6)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo, hi)
        ax.set_xlabel("GNS MSE-20 / constant velocity")
        ax.set_ylabel("GIOROM MSE-20 / constant velocity")
        ax.set_title(f"{fresh['n']} fresh flows")
        ax.legend(fontsize="small")
        paths = tr.plot.savefig(fig, stem)
        plt.close(fig)
    return paths


def _num(x: float) -> str:
    """A number for file names: 0.0001 -> '0p0001' (no '.', which would read as a suffix)."""
    return f"{x:g}".replace(".", "p")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The example's arguments from ``argv`` (default ``sys.argv[1:]``), checked, with the
    sizes of ``--quick`` filled in."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--material", default="sand", choices=["sand", "water"])
    ap.add_argument("--quick", action="store_true", help="tiny sizes for CI")
    ap.add_argument("--out", type=Path, default=Path("giorom_out"))
    ap.add_argument("--trajectories", type=int, default=10, help="train + 1 test")
    ap.add_argument("--frames", type=int, default=160)
    ap.add_argument("--steps", type=int, default=1000, help="optimisation steps (both models)")
    ap.add_argument("--batch", type=int, default=2,
                    help="windows per step of GNS (and of GIOROM with --budget windows)")
    ap.add_argument("--budget", default="particles", choices=["particles", "windows"],
                    help="what both steppers share per step besides the step count: "
                         "'particles' (default) gives GIOROM about --batch / --fraction "
                         "windows, so each step's loss holds as many particle accelerations "
                         "as GNS's (its checkpoints and figures get a _b<batch> suffix); "
                         "'windows' gives it --batch windows too, a --fraction of GNS's "
                         "particle accelerations (the runs before the twelfth session, "
                         "docs/log/giorom.md)")
    ap.add_argument("--latent", type=int, default=64)
    ap.add_argument("--message-passing", type=int, default=5,
                    help="GNS processor steps (paper: 10 with latent 128)")
    ap.add_argument("--fraction", type=float, default=0.25, help="GIOROM sparse fraction")
    ap.add_argument("--resolution", type=int, default=80,
                    help="particles per unit length (particle spacing 1/resolution)")
    ap.add_argument("--seed", type=int, default=0,
                    help="seeds the data, the train/test split and the models (the "
                         "steppers: unless --model-seed is given)")
    ap.add_argument("--model-seed", type=int, default=None,
                    help="seeds the steppers' initialisation and training batches "
                         "(default: --seed); the data, the split and SparseToDense stay those "
                         "of --seed, so runs with several model seeds share them (and their "
                         "checkpoints in --out)")
    ap.add_argument("--loss", default="huber", choices=["huber", "mse"],
                    help="acceleration loss of both steppers (default huber: the impacts make "
                         "the accelerations heavy-tailed, see train_stepper)")
    ap.add_argument("--wall-distance", type=float, default=0.25,
                    help="range of the wall-distance features (default 0.25 of the unit box; "
                         "the paper's choice, the graph radius, hides the floor from a block "
                         "falling at 2-3 units/s until about 3 frames before impact)")
    ap.add_argument("--giorom-wall-distance", type=float, default=None,
                    help="GIOROM's wall range (default: --wall-distance); its checkpoints and "
                         "figures get a _w<range> suffix where it differs")
    ap.add_argument("--noise", type=float, default=NOISE,
                    help="GNS training noise: random-walk std on the last input velocity "
                         "(position units; default 3e-4, train_stepper's)")
    ap.add_argument("--giorom-noise", type=float, default=NOISE,
                    help="GIOROM training noise, as --noise (default 3e-4). Checkpoints and "
                         "figures get a _n<noise> suffix for either model where it is not "
                         "3e-4 (_gns_n<noise> on the figures for GNS's)")
    ap.add_argument("--giorom-accelerations", action="store_true",
                    help="give GIOROM the past per-frame accelerations as node inputs as well "
                         "(GIOROM(acceleration_features=True); seventeenth session in "
                         "docs/log/giorom.md); its checkpoints and figures get an _acc suffix")
    ap.add_argument("--learning-rate", type=float, default=3e-4,
                    help="Adam, cosine decay to 1%% of it (both steppers, unless "
                         "--giorom-learning-rate)")
    ap.add_argument("--giorom-learning-rate", type=float, default=None,
                    help="GIOROM's own learning rate (default: --learning-rate); its "
                         "checkpoints and figures get an _lr<rate> suffix where it differs")
    ap.add_argument("--test", type=int, default=1,
                    help="held-out trajectories (MSE-20 is reported for each; the figures "
                         "show the first)")
    ap.add_argument("--workers", type=int, default=1,
                    help="processes that simulate the dataset on the CPU (default 1)")
    ap.add_argument("--fresh", type=int, default=0,
                    help="also roll out 20 steps from this many freshly simulated flows, "
                         "outside the data set (drawn with data seed --seed + 10000; cached "
                         "in --out), and summarise GIOROM against GNS over them (default 0)")
    ap.add_argument("--no-figures", action="store_true",
                    help="skip the figure and the animation (examples/giorom_seeds.py)")
    args = ap.parse_args(argv)
    if args.fresh < 0:
        ap.error(f"--fresh must be >= 0, got {args.fresh}")
    for name in ("noise", "giorom_noise"):
        if not getattr(args, name) >= 0:
            ap.error(f"--{name.replace('_', '-')} must be >= 0, got {getattr(args, name)}")
    for name in ("wall_distance", "giorom_wall_distance", "learning_rate",
                 "giorom_learning_rate"):
        value = getattr(args, name)
        if value is not None and not value > 0:
            ap.error(f"--{name.replace('_', '-')} must be > 0, got {value}")
    if args.quick:
        args.trajectories, args.frames, args.steps = 4, 60, 150
        args.latent, args.message_passing = 32, 3
    return args


def run_settings(args: argparse.Namespace) -> dict:
    """What sets a run's results: every argument but the output folder, the worker count,
    ``--no-figures`` and the model seed, and the ``LATER_SWITCHES`` that are off
    (JSON-serialisable; in the summary as ``"args"``)."""
    return {k: v for k, v in vars(args).items()
            if k not in ("out", "workers", "no_figures", "model_seed")
            and not (k in LATER_SWITCHES and not v)}


def main(argv: list[str] | None = None) -> dict:
    """Run the example with command-line arguments ``argv`` (default ``sys.argv[1:]``);
    returns the summary it also writes to ``OUT/summary_<material><tags>.json``."""
    args = parse_args(argv)
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    spacing, frame_dt = 1.0 / args.resolution, 1.0 / 150
    t0 = time.time()
    pos = make_dataset(args.material, args.trajectories, args.frames, spacing, frame_dt,
                       args.seed, out / f"{args.material}_data.npz", workers=args.workers)
    train_ids, test_ids = lg.split_trajectories(len(pos), args.test, seed=args.seed)
    assert set(train_ids).isdisjoint(test_ids)
    train, test = pos[train_ids], pos[test_ids[0]]
    n_part = pos.shape[2]
    box = tr.Box([0.0, 0.0], [1.0, 1.0])
    norm = lg.Normalisation.from_positions(train)
    print(f"data: {pos.shape} ({args.material}), {len(train_ids)} training trajectories, "
          f"held out {test_ids.tolist()}, "
          f"{time.time() - t0:.0f} s")

    # ---- models ----------------------------------------------------------------------
    key = jax.random.PRNGKey(args.seed)
    # the steppers' keys: --model-seed (default --seed); their checkpoints are named after it
    model_key = key if args.model_seed is None else jax.random.PRNGKey(args.model_seed)
    tag = "" if args.model_seed is None else f"_m{args.model_seed}"
    H = 5
    R = 2.5 * spacing
    n_sub = int(round(args.fraction * n_part))
    gio_batch = args.batch if args.budget == "windows" else max(
        1, int(round(args.batch * n_part / n_sub)))
    gio_tag = tag if gio_batch == args.batch else f"{tag}_b{gio_batch}"
    # training noise other than NOISE is part of the checkpoint name, as is
    # a GIOROM wall range of its own ("p" for the decimal point: figure names get suffixes)
    gns_tag = tag if args.noise == NOISE else f"{tag}_n{_num(args.noise)}"
    gio_tag = gio_tag if args.giorom_noise == NOISE else f"{gio_tag}_n{_num(args.giorom_noise)}"
    gio_wall = args.wall_distance if args.giorom_wall_distance is None else \
        args.giorom_wall_distance
    gio_tag = gio_tag if gio_wall == args.wall_distance else f"{gio_tag}_w{_num(gio_wall)}"
    gio_tag = f"{gio_tag}_acc" if args.giorom_accelerations else gio_tag
    gio_lr = args.learning_rate if args.giorom_learning_rate is None else \
        args.giorom_learning_rate
    gio_tag = gio_tag if gio_lr == args.learning_rate else f"{gio_tag}_lr{_num(gio_lr)}"
    # the figures show both models
    fig_tag = gio_tag if args.noise == NOISE else f"{gio_tag}_gns_n{_num(args.noise)}"
    R_sparse = R / np.sqrt(args.fraction)
    gns = lg.GNS(2, box, R, normalisation=norm, n_history=H, latent=args.latent,
                 n_message_passing=args.message_passing, wall_distance=args.wall_distance,
                 key=model_key)
    gio = lg.GIOROM(2, box, R_sparse, normalisation=norm, n_history=H, latent=args.latent,
                    grid_shape=32, grid_channels=32, modes=8, n_fourier=3,
                    n_pre=max(1, args.message_passing // 3), n_post=max(1,
                                                                        args.message_passing // 3),
                    wall_distance=gio_wall, acceleration_features=args.giorom_accelerations,
                    key=jax.random.fold_in(model_key, 1))
    frames_all = train.reshape(-1, n_part, 2)[:: max(1, train.shape[1] // 10)]
    b_full = lg.RadiusGraphBuilder.from_data(frames_all, R, box, margin=2.0)
    rng = np.random.default_rng(1)
    sub_frames = np.stack([f[rng.choice(n_part, n_sub, replace=False)] for f in frames_all])
    b_sparse = lg.RadiusGraphBuilder.from_data(sub_frames, R_sparse, box, margin=2.5)

    timing = {}
    for name, model, builder, batch, ctag, extra in (
            ("GNS", gns, b_full, args.batch, gns_tag,
             {"noise_std": args.noise, "learning_rate": args.learning_rate}),
            ("GIOROM", gio, b_sparse, gio_batch, gio_tag,
             {"subset_size": n_sub, "subset_method": "fps",
              "noise_std": args.giorom_noise, "learning_rate": gio_lr})):
        t = time.time()
        trained, log = lg.train_stepper(model, train, builder=builder, steps=args.steps,
                                        batch_size=batch, key=jax.random.fold_in(model_key, 7),
                                        checkpoint=out / f"{args.material}_{name}{ctag}.eqx",
                                        checkpoint_every=100, progress=True,
                                        loss=args.loss, **extra)
        timing[name] = f"{time.time() - t:.0f} s"
        if log.resumed_from is not None:
            timing[name] += f" (resumed at step {log.resumed_from})"
        if name == "GNS":
            gns = trained
        else:
            gio = trained
        print(f"{name}: final loss {np.mean(log.losses[-50:]):.3g}, {timing[name]}")

    # SparseToDense for GIOROM's subsets, and one for every 20th particle (acceptance 4)
    s2d_r = 3.0 * spacing / np.sqrt(args.fraction)
    disp_scale = float(np.std(train - train[:, :1]))
    s2d = lg.SparseToDense(2, s2d_r, displacement_scale=disp_scale, key=jax.random.fold_in(key, 2))
    s2d, _ = lg.train_sparse_to_dense(s2d, train, n_sparse=n_sub, method="fps",
                                      steps=max(100, args.steps // 2),
                                      key=jax.random.fold_in(key, 3), progress=True,
                                      checkpoint=out / f"{args.material}_s2d.eqx")
    r20 = 3.0 * spacing * np.sqrt(20)
    s2d20 = lg.SparseToDense(2, r20, displacement_scale=disp_scale, key=jax.random.fold_in(key, 4))
    # one particle in 20, farthest-point spread (a plain index stride picks one lattice column
    # of an MPM block, which leaves most of the body without a sparse neighbour)
    # budget of examples/giorom_reconstruction.py (1500 steps x 32 pairs x 100 particles
    # for the default --steps 1000): far cheaper per step than the steppers
    s2d20, _ = lg.train_sparse_to_dense(s2d20, train, n_sparse=n_part // 20, method="fps",
                                        n_plans=8, steps=max(300, 3 * args.steps // 2),
                                        batch_size=32, queries_per_sample=100,
                                        learning_rate=3e-3,
                                        key=jax.random.fold_in(key, 5), progress=True,
                                        checkpoint=out / f"{args.material}_s2d20.eqx")

    # ---- held-out rollout -----------------------------------------------------------
    init, truth = test[: H + 1], test[H + 1:]
    n_steps = len(truth)
    # rollouts get graphs with more edge slots than training: a poorly trained model can
    # bunch particles together, which would overflow the training capacity
    b_full_roll = lg.RadiusGraphBuilder.from_data(frames_all, R, box, margin=6.0)
    b_sparse_roll = lg.RadiusGraphBuilder.from_data(sub_frames, R_sparse, box, margin=6.0)

    def long_rollout(model, start, builder, frames, radius):
        # a long rollout can still pile particles up beyond that: retry with more edge slots
        margin = 6.0
        while True:
            try:
                return lg.rollout(model, start, n_steps, builder=builder)
            except RuntimeError:
                if margin >= 48:
                    raise
                margin *= 2
                print(f"{type(model).__name__} rollout: graph overflow, retrying with margin "
                      f"{margin:g}")
                builder = lg.RadiusGraphBuilder.from_data(frames, radius, box, margin=margin)

    pred_gns = np.asarray(long_rollout(gns, init, b_full_roll, frames_all, R))
    sub = tr.data.farthest_point_sample(test[0], n_sub, seed=0)
    pred_sparse = long_rollout(gio, init[:, sub], b_sparse_roll, sub_frames, R_sparse)
    plan = s2d.plan(test[0][sub], test[0])
    # sparse frames (T, n, 2) -> all particles (T, N, 2); the plan is an argument, so the
    # held-out flows below share one compilation
    to_dense = jax.jit(jax.vmap(lambda y, pl: s2d(y, pl), in_axes=(0, None)))
    pred_gio = np.asarray(to_dense(pred_sparse, plan))
    pred_cv = np.asarray(lg.constant_velocity_rollout(init, n_steps))
    n20 = min(20, n_steps)
    rows = []
    for name, p in (("constant velocity", pred_cv), ("GNS (all particles)", pred_gns),
                    ("GIOROM (sparse -> all)", pred_gio)):
        rows.append((name, lg.rollout_mse(p, truth, n20), lg.rollout_mse(p, truth),
                     np.mean([lg.chamfer_distance(p[t], truth[t])
                              for t in range(0, n_steps, max(1, n_steps // 10))]),
                     lg.kinetic_energy_error(p, truth, frame_dt)))
    rows.append(("GIOROM (sparse set only)",
                 lg.rollout_mse(pred_sparse, truth[:, sub], n20),
                 lg.rollout_mse(pred_sparse, truth[:, sub]), float("nan"),
                 lg.kinetic_energy_error(pred_sparse, truth[:, sub], frame_dt)))

    # reconstruction from every 20th particle (true sparse positions), held-out frames
    idx20 = tr.data.farthest_point_sample(test[0], n_part // 20, seed=0)
    plan20 = s2d20.plan(test[0][idx20], test[0])
    rec = np.asarray(jax.jit(jax.vmap(lambda y: s2d20(y, plan20)))(test[:, idx20]))
    shep = np.asarray(jax.jit(jax.vmap(lambda y: lg.shepard_interpolate(y, plan20)))(
        jnp.asarray(test[:, idx20])))
    u_true = test - test[:1]

    def rel(p):
        return float(np.linalg.norm((p - test[:1]) - u_true) / np.linalg.norm(u_true))

    # 100k-point cloud in the reference configuration of the held-out trajectory
    lo, hi = test[0].min(0), test[0].max(0)
    cloud = np.random.default_rng(2).uniform(lo, hi, size=(100_000, 2))
    plan_c = s2d.plan(test[0][sub], cloud)
    t = time.time()
    cloud_t = np.asarray(jax.jit(lambda y: s2d(y, plan_c))(pred_sparse[-1]))
    t_cloud = time.time() - t
    ch_cloud = lg.chamfer_distance(cloud_t, truth[-1])
    ch_cloud_true = lg.chamfer_distance(
        np.asarray(lg.shepard_interpolate(jnp.asarray(truth[-1][sub]), plan_c)), truth[-1])

    print(f"\nheld-out {args.material} trajectory: {n_part} particles, {n_steps} steps, "
          f"GIOROM on {n_sub} ({args.fraction:.0%}); same budget: {args.steps} steps, "
          f"batch GNS {args.batch} x {n_part} particles, GIOROM {gio_batch} x {n_sub}")
    print(f"{'model':26s} {'MSE-20':>10s} {'MSE-full':>10s} {'Chamfer':>10s} {'KE err':>8s}")
    for name, a, b, c, d in rows:
        print(f"{name:26s} {a:10.3e} {b:10.3e} {c:10.3e} {d:8.3f}")
    cv20, g20, i20 = rows[0][1], rows[1][1], rows[2][1]
    print(f"GIOROM / GNS MSE-20: {i20 / g20:.2f} (target <= {RATIO_BOUND:g}); GNS / const-vel: "
          f"{g20 / cv20:.3f}, GIOROM / const-vel: {i20 / cv20:.3f} (target <= {CV_BOUND:g})")
    # one-step accelerations from the true history over the same frames: the error's mean
    # over the particles (the body drifting, e.g. a free fall predicted too fast) and each
    # particle's deviation from it (a change of shape), in units of the true mean acceleration
    # (of all particles, one unit for both models)
    n_one = min(20, len(test) - H - 1)
    errs = {name: lg.one_step_acceleration_error(model, traj, builder=builder, n_frames=n_one)
            for name, model, traj, builder in (
                ("GNS", gns, test, b_full_roll),
                ("GIOROM_sparse", gio, test[:, sub], b_sparse_roll))}
    unit = float(np.mean(np.linalg.norm(errs["GNS"]["true_mean"], axis=-1)))
    one_step = {"unit": unit} | {
        name: {"drift": (e["mean_error"].mean(0) / unit).tolist(),
               "deviation": e["deviation"] / unit} for name, e in errs.items()}
    print(f"one-step acceleration error, first {n_one} frames from the true history, in units "
          f"of the mean true acceleration ({unit:.2e} per frame^2):")
    for name in errs:
        o = one_step[name]
        print(f"  {name:14s} mean over particles ({o['drift'][0]:+.3f}, {o['drift'][1]:+.3f}), "
              f"per-particle deviation {o['deviation']:.3f}")
    # the same over the free flight of every training flow: one flow, like the main one,
    # can sit where one model's bias happens to vanish (nineteenth session, docs/log/giorom.md)
    ff = {name: free_flight_drift(model, train, builder, unit=unit, floor=2 * spacing, n_sub=n)[0]
          for name, model, builder, n in (("GNS", gns, b_full_roll, None),
                                          ("GIOROM_sparse", gio, b_sparse_roll, n_sub))}
    free_flight = {"n_flows": len(ff["GNS"])}
    if len(ff["GNS"]):
        free_flight |= {name: {"mean": float(d.mean()), "rms": float(np.sqrt(np.mean(d**2)))}
                        for name, d in ff.items()}
        free_flight["giorom_closer"] = float(np.mean(np.abs(ff["GIOROM_sparse"])
                                                     < np.abs(ff["GNS"])))
        print(f"free flight of {len(ff['GNS'])} training flows, one-step vertical drift in the "
              f"same units (+: falls too slowly): GNS mean {free_flight['GNS']['mean']:+.3f}, "
              f"rms {free_flight['GNS']['rms']:.3f}; GIOROM mean "
              f"{free_flight['GIOROM_sparse']['mean']:+.3f}, rms "
              f"{free_flight['GIOROM_sparse']['rms']:.3f}; GIOROM the closer on "
              f"{free_flight['giorom_closer']:.0%} of them")

    # 20-step rollouts from a flow's first H + 1 frames, GIOROM mapped to all particles
    def gns_20(init):
        return lg.rollout(gns, init, n20, builder=b_full_roll)

    def gio_20(init):
        sub_k = tr.data.farthest_point_sample(init[0], n_sub, seed=0)
        p_sp = lg.rollout(gio, init[:, sub_k], n20, builder=b_sparse_roll)
        return to_dense(p_sp, s2d.plan(init[0][sub_k], init[0]))

    flows = []
    if len(test_ids) > 1:
        # the same 20-step rollout from the start of every held-out trajectory
        print(f"\nMSE-20 on each of the {len(test_ids)} held-out trajectories (ratio to "
              f"constant velocity):")
        table = mse20_on_flows(pos[test_ids], (gns_20, gio_20), n20, H)
        for k, m in zip(test_ids, table):
            flows.append({"trajectory": int(k), "mse20": dict(zip(MODELS, map(float, m)))})
            print(f"  trajectory {k:4d}: const-vel {m[0]:.3e}, GNS {m[1] / m[0]:.3f}x, "
                  f"GIOROM {m[2] / m[0]:.3f}x")
        sums = table.sum(axis=0)
        print(f"  all {len(test_ids)} (summed MSE-20): GNS / const-vel {sums[1] / sums[0]:.3f}, "
              f"GIOROM / const-vel {sums[2] / sums[0]:.3f}, GIOROM / GNS "
              f"{sums[2] / sums[1]:.2f}")
    fresh = {}
    if args.fresh:
        # flows outside the data set: one held-out flow can sit where one model's bias
        # happens to vanish (nineteenth session, docs/log/giorom.md)
        fresh_seed = args.seed + 10_000
        # only the frames the 20-step rollouts read
        fx = make_dataset(args.material, args.fresh, min(args.frames, H + 1 + n20), spacing,
                          frame_dt, fresh_seed, out / f"{args.material}_fresh_{fresh_seed}.npz",
                          workers=args.workers)
        table = mse20_on_flows(fx, (gns_20, gio_20), n20, H)
        lands = lands_within(fx, H + 1 + n20, 2 * spacing)
        gns_cv, gio_cv = table[:, 1] / table[:, 0], table[:, 2] / table[:, 0]
        every = compare_errors(gns_cv, gio_cv)
        fresh = {"n": int(args.fresh), "data_seed": fresh_seed,
                 "giorom_within_2x": every["within_2x"],
                 "giorom_below_gns": float(np.mean(gio_cv < gns_cv)),
                 "ratio_of_means": every["ratio_of_means"],
                 "within_0p1_cv": {"GNS": float(np.mean(gns_cv <= CV_BOUND)),
                                   "GIOROM": float(np.mean(gio_cv <= CV_BOUND))},
                 "flows": [{"lands": bool(la), "mse20": dict(zip(MODELS, map(float, m)))}
                           for la, m in zip(lands, table)]}
        print(f"\n{args.fresh} fresh flows (data seed {fresh_seed}; {int(lands.sum())} of them "
              f"landing within the 20 steps): GIOROM <= {RATIO_BOUND:g}x GNS on "
              f"{fresh['giorom_within_2x']:.0%}, below GNS on {fresh['giorom_below_gns']:.0%}; "
              f"mean MSE-20 / const-vel GNS {gns_cv.mean():.4f}, GIOROM {gio_cv.mean():.4f} "
              f"(ratio {fresh['ratio_of_means']:.2f}); within {CV_BOUND:g}x const-vel: GNS "
              f"{fresh['within_0p1_cv']['GNS']:.0%}, GIOROM "
              f"{fresh['within_0p1_cv']['GIOROM']:.0%}")
        for name, m in (("in the air", ~lands), ("landing", lands)):
            if m.any():
                part = compare_errors(gns_cv[m], gio_cv[m])
                print(f"  {name} ({int(m.sum())}): ratio of mean MSE-20 "
                      f"{part['ratio_of_means']:.2f}, GIOROM <= {RATIO_BOUND:g}x GNS on "
                      f"{part['within_2x']:.0%}")
    rel_s2d, rel_shep = rel(rec), rel(shep)
    print(f"reconstruction from 1 particle in 20 (FPS), relative L2 of displacement: "
          f"SparseToDense {rel_s2d:.3%}, Shepard {rel_shep:.3%}")
    print(f"100k-point cloud at the last frame: Chamfer to ground-truth particles "
          f"{ch_cloud:.3e} (Shepard from true sparse positions {ch_cloud_true:.3e}); "
          f"SparseToDense to 100k points {t_cloud:.2f} s incl. compile")
    machine = (f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
               f"jax {jax.__version__} ({jax.default_backend()})")
    print(f"training time: GNS {timing['GNS']}, GIOROM {timing['GIOROM']} ({machine})")

    # ---- machine-readable summary (examples/giorom_seeds.py collects these) -----------
    keys = ("mse20", "mse_full", "chamfer", "ke_err")
    summary = {
        "material": args.material,
        "model_seed": args.seed if args.model_seed is None else args.model_seed,
        "args": run_settings(args),
        # what the arguments imply
        "n_particles": int(n_part), "n_sparse": int(n_sub),
        "giorom_batch": gio_batch, "giorom_wall_distance": gio_wall,
        "held_out": [int(k) for k in test_ids],
        # MSE-20 etc. on the first held-out trajectory (the figures'); GIOROM through
        # SparseToDense to all particles, "GIOROM_sparse" on its own sparse particles
        "main": {name: {k: (float(v) if np.isfinite(v) else None)
                        for k, v in zip(keys, row[1:])}
                 for name, row in zip(MODELS + ("GIOROM_sparse",), rows)},
        # one-step acceleration error on the first held-out trajectory (see above)
        "one_step": one_step,
        # the same drift over the free flight of the training flows (free_flight_drift)
        "free_flight": free_flight,
        "flows": flows,
        # 20-step rollouts from flows outside the data set (--fresh; empty without it)
        "fresh": fresh,
        "reconstruction_1_in_20": {"SparseToDense": rel_s2d, "Shepard": rel_shep},
        "training_time": timing,
        "machine": machine,
    }
    summary_path = write_json_atomic(out / f"summary_{args.material}{fig_tag}.json", summary)
    print("wrote", summary_path)
    if args.no_figures:
        return summary

    # ---- figures ----------------------------------------------------------------------
    import matplotlib.pyplot as plt
    from matplotlib.animation import FuncAnimation, PillowWriter

    with tr.plot.style():
        snaps = [0, n_steps // 3, 2 * n_steps // 3, n_steps - 1]
        fig, axes = plt.subplots(3, len(snaps), figsize=(tr.plot.PAGE_WIDTH, 5.0),
                                 sharex=True, sharey=True)
        for r, (label, p) in enumerate((("ground truth", truth), ("GNS", pred_gns),
                                        ("GIOROM", pred_gio))):
            for c, s in enumerate(snaps):
                ax = axes[r, c]
                ax.scatter(p[s, :, 0], p[s, :, 1], s=0.6, c=test[0][:, 0], cmap="viridis",
                           linewidths=0)
                ax.set_xlim(0, 1)
                ax.set_ylim(0, 0.7)
                ax.set_aspect("equal")
                if r == 0:
                    ax.set_title(f"frame {s + H + 1}")
                if c == 0:
                    ax.set_ylabel(label)
        paths = tr.plot.savefig(fig, out / f"giorom_{args.material}{fig_tag}_rollout")
        plt.close(fig)
        if fresh:
            paths += plot_fresh(fresh, out / f"giorom_{args.material}{fig_tag}_fresh")

        fig, axes = plt.subplots(1, 3, figsize=(tr.plot.PAGE_WIDTH, 2.2))
        arts = []
        for ax, (label, p) in zip(axes, (("ground truth", truth), ("GNS", pred_gns),
                                         ("GIOROM", pred_gio))):
            arts.append(ax.scatter(p[0, :, 0], p[0, :, 1], s=0.6, c=test[0][:, 0],
                                   linewidths=0))
            ax.set_xlim(0, 1)
            ax.set_ylim(0, 0.7)
            ax.set_aspect("equal")
            ax.set_title(label)

        def update(k):
            for a, p in zip(arts, (truth, pred_gns, pred_gio)):
                a.set_offsets(p[k])
            return arts

        anim = FuncAnimation(fig, update, frames=range(0, n_steps, 2), blit=True)
        gif = out / f"giorom_{args.material}{fig_tag}.gif"
        anim.save(gif, writer=PillowWriter(fps=20))
        plt.close(fig)
    print("wrote", ", ".join(str(p) for p in paths), "and", gif)
    return summary


if __name__ == "__main__":
    main()
