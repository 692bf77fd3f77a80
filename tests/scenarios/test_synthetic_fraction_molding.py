"""The molding synthetic-fraction sweep on the real KAMP log (tiny budget), and its pieces."""
from __future__ import annotations

import json

import numpy as np
import pyarrow.parquet as pq
import pytest

from scenarios.sweep_stats import holm
from scenarios.synthetic_fraction_molding import draw_synthetic, perturb, run, split_shots, summarize_arms


def test_split_keeps_shots_whole_and_stratifies():
    shot = np.repeat(np.arange(100), 2)           # two parts per shot
    fail = np.zeros(200, bool)
    fail[:20] = True                              # shots 0-9 have failed parts
    val = split_shots(shot, fail, 0.5, seed=3)
    assert np.all(val[0::2] == val[1::2])         # both parts of a shot on one side
    assert val[:20].sum() == 10 and val.sum() == 100
    assert np.array_equal(val, split_shots(shot, fail, 0.5, seed=3))
    assert not np.array_equal(val, split_shots(shot, fail, 0.5, seed=4))


def test_draw_has_the_asked_not_good_share_and_names_a_short_pool():
    good = np.arange(300) % 3 != 0                 # 100 bad, 200 good
    rng = np.random.default_rng(0)
    d = draw_synthetic(good, 100, 0.6, rng)
    assert d.size == 100 and (~good[d]).sum() == 60 and np.unique(d).size == 100
    with pytest.raises(ValueError, match="pool too small"):
        draw_synthetic(good, 200, 0.6, rng)


def test_holm():
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])


def test_perturbations():
    X = np.zeros((5, 3))
    sd = np.array([1.0, 2.0, 3.0])
    feats = ["cycle_time_s", "cushion_mm", "injection_time_s"]
    spec = {"noise_sd": 0.5, "offset_sd": 0.5, "time_shift_s": 0.2}
    assert np.allclose(perturb(X, "offset", feats, sd, spec, np.random.default_rng(0))[0], [0.5, 1.0, 1.5])
    assert np.allclose(perturb(X, "time_shift", feats, sd, spec, np.random.default_rng(0))[0], [0.2, 0.0, 0.2])
    noisy = perturb(X, "noise", feats, sd, spec, np.random.default_rng(0))
    assert noisy.std() > 0 and X.sum() == 0


def test_paired_difference_detects_a_real_gain():
    rows = [{"arm": a, "fraction": f, "seed": s, "n_real": 100, "n_synthetic": int(100 * f),
             "train_accuracy": 0.9, "accuracy": 0.9, "balanced_accuracy": 0.6 + 0.1 * f + 0.001 * s * (1 + f),
             "f1_fail": 0.2, "auc_fail": 0.6 + 0.1 * f + 0.002 * s * (1 + f),
             **{f"{p}:{m}": 0.5 for p in ("noise", "offset", "time_shift") for m in ("auc_fail", "balanced_accuracy")}}
            for a, f in (("0 %", 0.0), ("100 %", 1.0)) for s in range(4)]
    s = {r["arm"]: r for r in summarize_arms(rows)}
    assert s["100 %"]["auc_fail_diff"] == pytest.approx(0.103)
    assert s["100 %"]["auc_fail_diff_p"] < 1e-3
    assert s["0 %"]["auc_fail_diff"] == 0


def test_sweep_on_kamp_end_to_end(realdata, tmp_path, monkeypatch):
    monkeypatch.setenv("TWINLOOP_REALDATA", str(realdata))
    # A small stand-in twin for speed (the scenario calibrates one to KAMP when none is given): the default
    # cell; its shot size drawn low or high gives short shots and good parts.
    cfg = tmp_path / "twin.toml"
    cfg.write_text("[run]\nseed = 1\n")
    spec = {"twin": {"calibrated_config": str(cfg)},
            "synthetic": {"runs": 4, "cycles_per_run": 60, "warmup_cycles": 5, "seed": 1,
                          "vary": {"setpoints.dosing_volume_cm3": [0.6, 1.1]}},
            "sweep": {"fractions": [0.0, 0.1], "seeds": [0, 1], "small_real_fraction": 0.2,
                      "synthetic_only_cycles": 100, "shuffled_label_fraction": 0.05},
            "learner": {"max_iter": 20}, "dask": {"workers": 0}}
    out = run(spec, tmp_path / "sf")
    m = json.loads((out / "metrics.json").read_text())
    assert m["real_set"]["fails"] > 10 and m["real_set"]["rows"] > 3000
    arms = pq.read_table(out / "arms.parquet").to_pylist()
    assert {a["arm"] for a in arms} == {"0 % synthetic", "10 % synthetic", "synthetic only", "small real only",
                                          "5 % synthetic, labels shuffled"}
    for a in arms:
        assert a["val_fails"] > 0 and 0 <= a["accuracy"] <= 1
        if a["arm"] == "10 % synthetic":
            assert a["n_synthetic"] == round(0.1 * a["n_real"])
    assert "Verdict" in (out / "report.html").read_text()
    spec["dask"] = {"workers": 2}                 # same results on a LocalCluster
    again = run(spec, tmp_path / "sf2")
    assert (again / "arms.parquet").read_bytes() == (out / "arms.parquet").read_bytes()
