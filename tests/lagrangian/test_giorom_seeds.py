"""The statistics over model seeds of examples/giorom_seeds.py (no training here)."""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="module")
def seeds_module():
    sys.path.insert(0, str(EXAMPLES))
    try:
        spec = importlib.util.spec_from_file_location("giorom_seeds", EXAMPLES / "giorom_seeds.py")
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        yield mod
    finally:
        sys.path.remove(str(EXAMPLES))


def _summary(seed, cv, gns, gio, material="water", flows=None):
    main = {"constant_velocity": {"mse20": cv}, "GNS": {"mse20": gns},
            "GIOROM": {"mse20": gio}}
    return {"material": material, "model_seed": seed, "main": main, "flows": flows or []}


def test_aggregate_ratios_and_pass(seeds_module):
    flows = [{"trajectory": 0, "mse20": {"constant_velocity": 1.0, "GNS": 0.2, "GIOROM": 0.1}},
             {"trajectory": 1, "mse20": {"constant_velocity": 1.0, "GNS": 0.2, "GIOROM": 0.5}}]
    s = [_summary(1, 1.0, 0.01, 0.03, flows=flows),   # GIOROM 3x GNS: outside
         _summary(2, 1.0, 0.02, 0.01),                # within
         _summary(3, 1.0, 0.05, 0.2)]                 # GIOROM above 0.1x const-vel: outside
    s[1]["free_flight"] = {"n_flows": 3, "GNS": {"mean": 0.1, "rms": 0.12},
                           "GIOROM_sparse": {"mean": 0.0, "rms": 0.05}, "giorom_closer": 1.0}
    res = seeds_module.aggregate(s, n_boot=2000)
    assert [r["pass"] for r in res["runs"]] == [False, True, False]
    # the free-flight drift is carried where a summary has it
    assert res["runs"][1]["free_flight_rms"] == {"GNS": 0.12, "GIOROM": 0.05}
    assert "free_flight_rms" not in res["runs"][0]
    s[2]["fresh"] = {"n": 8, "giorom_within_2x": 0.75, "ratio_of_means": 0.5, "flows": []}
    res = seeds_module.aggregate(s, n_boot=10)
    assert res["runs"][2]["fresh"] == {"n": 8, "giorom_within_2x": 0.75, "ratio_of_means": 0.5}
    assert "fresh" not in res["runs"][1]
    assert res["n"] == 3 and res["n_pass"] == 1
    # ratio of the seed means, not the mean of the ratios: (0.03+0.01+0.2) / (0.01+0.02+0.05)
    assert res["mean_ratio"] == pytest.approx(0.24 / 0.08, rel=1e-12)
    assert res["median_ratio"] == pytest.approx(3.0, rel=1e-12)
    assert res["runs"][0]["ratio_all_held_out"] == pytest.approx(0.6 / 0.4, rel=1e-12)
    assert "ratio_all_held_out" not in res["runs"][1]
    lo, hi = res["mean_ratio_ci95"]
    # a bootstrap mean ratio lies between the smallest and the largest per-seed ratio
    assert 0.5 - 1e-12 <= lo <= res["mean_ratio"] <= hi <= 4.0 + 1e-12


def test_aggregate_bootstrap_of_identical_seeds_is_a_point(seeds_module):
    res = seeds_module.aggregate([_summary(k, 2.0, 0.01, 0.015) for k in range(4)])
    np.testing.assert_allclose(res["mean_ratio_ci95"], [1.5, 1.5], rtol=1e-12)
    assert res["mean_gns_cv"] == pytest.approx(0.005) and res["n_pass"] == 4


def test_aggregate_bad_input(seeds_module):
    with pytest.raises(ValueError, match="empty"):
        seeds_module.aggregate([])
    with pytest.raises(ValueError, match="mix materials"):
        seeds_module.aggregate([_summary(1, 1, 1, 1), _summary(2, 1, 1, 1, material="sand")])
    a, b = _summary(1, 1, 1, 1), _summary(2, 1, 1, 1)
    a["args"], b["args"] = {"steps": 6000}, {"steps": 3000}
    with pytest.raises(ValueError, match="different arguments"):
        seeds_module.aggregate([a, b])


def test_find_summary_matches_arguments_and_seed(seeds_module, tmp_path):
    import json

    sand = seeds_module.giorom_sand
    argv = ["--quick", "--seed", "1", "--out", str(tmp_path)]
    settings = sand.run_settings(sand.parse_args(argv))
    assert settings["steps"] == 150 and "out" not in settings      # --quick sizes filled in
    (tmp_path / "summary_sand_m2.json").write_text(
        json.dumps({"material": "sand", "model_seed": 2, "args": settings}))
    found = seeds_module.find_summary(tmp_path, 2, argv + ["--model-seed", "2"])
    assert found == tmp_path / "summary_sand_m2.json"
    assert seeds_module.find_summary(tmp_path, 3, argv + ["--model-seed", "3"]) is None
    # another setting (the learning rate) is another run
    assert seeds_module.find_summary(
        tmp_path, 2, argv + ["--model-seed", "2", "--learning-rate", "1e-3"]) is None
    # an option added later (--giorom-accelerations) is absent from the settings when off, so
    # summaries written before it existed still match; when on, it is another run
    assert "giorom_accelerations" not in settings
    assert seeds_module.find_summary(
        tmp_path, 2, argv + ["--model-seed", "2", "--giorom-accelerations"]) is None
    # so is GIOROM's own learning rate (nineteenth session)
    assert "giorom_learning_rate" not in settings
    assert seeds_module.find_summary(
        tmp_path, 2, argv + ["--model-seed", "2", "--giorom-learning-rate", "1e-3"]) is None


@pytest.mark.parametrize("flag", ["--learning-rate", "--giorom-learning-rate"])
def test_learning_rates_must_be_positive(seeds_module, flag, capsys):
    with pytest.raises(SystemExit):
        seeds_module.giorom_sand.parse_args(["--quick", flag, "0"])
    assert f"{flag} must be > 0" in capsys.readouterr().err


class _ConstantAcceleration:
    """A stepper stand-in that moves every particle with a fixed per-frame acceleration."""

    n_history = 2
    dtype = np.float64

    def __init__(self, a):
        import jax.numpy as jnp

        self.a = jnp.asarray(a, jnp.float64)

    def step(self, history, graph):
        return 2 * history[-1] - history[-2] + self.a


def test_free_flight_drift_reads_only_the_free_frames(seeds_module):
    import jax

    import tensorrom as tr
    from tensorrom import lagrangian as lg

    g = 1e-3                                     # per frame^2, downwards
    t = np.arange(40.0)[:, None, None]
    block = np.stack(np.meshgrid(np.linspace(0, 0.1, 4), np.linspace(0, 0.1, 4)), -1)
    block = block.reshape(-1, 2)

    def fall(y0, vy):                            # (40, 16, 2) exact free fall
        x = block + [0.4, y0] + t * np.array([0.0, vy]) - 0.5 * g * t**2 * np.array([0, 1])
        return np.maximum(x, 0.0)                # resting on the floor once it is reached

    flows = np.stack([fall(0.8, 0.005), fall(0.05, -0.01), fall(0.2, 0.0)])
    builder = lg.RadiusGraphBuilder.from_data(flows.reshape(-1, 16, 2), 0.1,
                                              tr.Box([0, -1], [1, 1]), margin=3.0)
    with jax.enable_x64(True):
        # a model that lets blocks fall at 0.9 g: +0.1 g on every free frame
        model = _ConstantAcceleration([0.0, -0.9 * g])
        drift, index = seeds_module.giorom_sand.free_flight_drift(
            model, flows, builder, unit=g, floor=0.05, n_frames=20)
        # flow 1 starts at the floor and is left out. Flow 0 stays in the air for all 20
        # windows. Flow 2 comes within 0.05 of the floor at frame 18 and is stopped by it at
        # frame 21: its windows 15-20 would see the floor's push, and must not be read
        assert index.tolist() == [0, 2]
        np.testing.assert_allclose(drift, 0.1, rtol=1e-9)   # exact arithmetic up to rounding
        # on a farthest-point subset the same
        drift_sub, _ = seeds_module.giorom_sand.free_flight_drift(
            model, flows, builder, unit=g, floor=0.05, n_sub=5, n_frames=20)
        np.testing.assert_allclose(drift_sub, 0.1, rtol=1e-9)


def test_mse20_on_flows_and_landing(seeds_module):
    sand = seeds_module.giorom_sand
    t = np.arange(30.0)[:, None, None]
    block = np.array([[0.0, 0.0], [0.1, 0.0], [0.0, 0.1]])
    fall = block + [0.5, 0.6] - 0.5e-3 * t**2 * np.array([0.0, 1.0])   # (30, 3, 2)
    flows = np.stack([fall, fall - [0.0, 0.5]])          # the second nears the floor
    exact = lambda init: fall[6:26] if np.allclose(init, fall[:6]) else (fall - [0, 0.5])[6:26]
    still = lambda init: np.repeat(init[-1:], 20, axis=0)
    table = sand.mse20_on_flows(flows, (exact, still), 20, 5)
    assert table.shape == (2, 3)
    np.testing.assert_allclose(table[:, 1], 0.0, atol=1e-20)       # the exact rollout
    # constant velocity (x_5 + k (x_5 - x_4)) misses y_0 - a t^2 by a k (k + 1) at frame 5 + k;
    # rollout_mse averages over frames, particles and the d coordinates
    k = np.arange(1, 21)
    np.testing.assert_allclose(table[:, 0], np.mean((0.5e-3 * k * (k + 1)) ** 2) / 2,
                               rtol=1e-9)                          # float64 rounding only
    assert np.all(table[:, 2] > table[:, 0])                       # standing still is worse
    assert sand.lands_within(flows, 26, 0.05).tolist() == [False, True]


def test_plot_fresh_writes_the_figure(seeds_module, tmp_path):
    flows = [{"lands": la, "mse20": {"constant_velocity": 1.0, "GNS": g, "GIOROM": i}}
             for la, g, i in ((False, 0.01, 0.005), (True, 0.3, 0.05), (False, 0.002, 0.006))]
    paths = seeds_module.giorom_sand.plot_fresh({"n": 3, "flows": flows}, tmp_path / "fresh")
    assert [p.suffix for p in paths] == [".png", ".pdf"]
    assert all(p.stat().st_size > 0 for p in paths)


def test_pool_fresh_over_seeds_and_flows(seeds_module):
    def fresh(gio):
        gns = (0.01, 0.02, 0.4)
        return {"n": 3, "data_seed": 10001, "giorom_within_2x": None, "ratio_of_means": None,
                "flows": [{"lands": k == 2, "mse20": {"constant_velocity": 1.0, "GNS": g,
                                                      "GIOROM": i}}
                          for k, (g, i) in enumerate(zip(gns, gio))]}

    f = [fresh((0.03, 0.01, 0.1)), fresh((0.01, 0.05, 0.2))]
    res = seeds_module.pool_fresh(f, n_boot=200)
    assert (res["n_seeds"], res["n_flows"], res["n_landing"]) == (2, 3, 1)
    # pairs within 2x: (0.03 > 0.02) no, yes, yes; yes, (0.05 > 0.04) no, yes -> 4 of 6
    assert res["all"]["within_2x"] == 4 / 6
    np.testing.assert_allclose(res["all"]["ratio_of_means"], 0.40 / 0.86)
    np.testing.assert_allclose(res["in_the_air"]["ratio_of_means"], 0.10 / 0.06)
    np.testing.assert_allclose(res["landing"]["ratio_of_means"], 0.3 / 0.8)
    lo, hi = res["all"]["ratio_ci95"]
    assert lo <= res["all"]["ratio_of_means"] <= hi
    # aggregate pools them only when every summary has the same fresh flows
    s = [_summary(1, 1.0, 0.01, 0.01), _summary(2, 1.0, 0.02, 0.01)]
    s[0]["fresh"], s[1]["fresh"] = f
    assert seeds_module.aggregate(s, n_boot=10)["fresh_pooled"]["n_seeds"] == 2
    s[1]["fresh"] = dict(f[1], data_seed=7)
    assert "fresh_pooled" not in seeds_module.aggregate(s, n_boot=10)
