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
    res = seeds_module.aggregate(s, n_boot=2000)
    assert [r["pass"] for r in res["runs"]] == [False, True, False]
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
