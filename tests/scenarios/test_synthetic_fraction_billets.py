"""The billet synthetic-fraction sweep: arm sizes, and a tiny run end to end on the real stand-in."""
from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest

from scenarios.synthetic_fraction_billets import arm_sizes, run, summarize, with_balanced


def test_arms_are_equally_large_and_the_control_is_small():
    arms = arm_sizes([0.0, 0.25, 1.0], 200, 50)
    assert arms == [("0 % synthetic", 0.0, 200, 0), ("25 % synthetic", 0.25, 150, 50),
                    ("100 % synthetic", 1.0, 0, 200), ("small real only", None, 50, 0)]


def _row(arm, fraction, seed, well, partial, poor, all_tp):
    row = {"arm": arm, "fraction": fraction, "seed": seed, "n_real": 4, "n_synthetic": 4, "all:tp": all_tp}
    for sub, tp in (("well", well), ("partial", partial), ("poor", poor)):
        row.update({f"{sub}:tp": tp, f"{sub}:mc": 0.0, f"{sub}:fn": 1.0 - tp, f"{sub}:fp_per_billet": 0.5,
                    f"{sub}:cb": 0.0})
    return with_balanced(row)


def test_balanced_scores_weigh_each_visibility_subset_equally():
    row = _row("0 % synthetic", 0.0, 0, well=0.9, partial=0.3, poor=0.0, all_tp=0.8)
    assert row["balanced:tp"] == pytest.approx(0.4)       # not the easy-dominated 0.8
    assert row["balanced:fn"] == pytest.approx(0.6)
    assert with_balanced({"well:tp": 0.5, "partial:tp": None, "poor:tp": 0.1})["balanced:tp"] is None


def test_summary_tests_overall_and_balanced_tp_with_one_holm_family():
    # the synthetic arm helps the hard subsets and hurts the easy one: the two TP views disagree
    rows = [_row("0 % synthetic", 0.0, s, 0.9, 0.2 + d, 0.1, 0.70 + d) for s, d in enumerate((0.0, 0.01, 0.02))]
    rows += [_row("50 % synthetic", 0.5, s, 0.8, 0.5 + d, 0.4 + 2 * d, 0.60 + 2 * d)
             for s, d in enumerate((0.0, 0.01, 0.03))]
    arm = {s["arm"]: s for s in summarize(rows)}["50 % synthetic"]
    assert arm["tp_diff"] < 0 < arm["balanced:tp_diff"]
    assert arm["balanced:tp_diff"] == pytest.approx((-0.1 + 0.3 + 0.3) / 3, abs=0.01)
    raw = sorted([arm["tp_diff_p"], arm["balanced:tp_diff_p"]])
    held = sorted([arm["tp_diff_p_holm"], arm["balanced:tp_diff_p_holm"]])
    assert held[0] == pytest.approx(min(1.0, 2 * raw[0]))  # Holm over both comparisons, not each alone
    assert "tp_diff" not in {s["arm"]: s for s in summarize(rows)}["0 % synthetic"]


def test_bad_spec_is_named(tmp_path, realdata, monkeypatch):
    monkeypatch.setenv("TWINLOOP_REALDATA", str(realdata))
    with pytest.raises(KeyError, match="include 0.0"):
        run({"sweep": {"fractions": [0.5, 1.0]}}, tmp_path / "x")
    with pytest.raises(KeyError, match="train_pool"):
        run({"sweep": {"train_images": 500}}, tmp_path / "x")
    assert not (tmp_path / "x").exists()


def test_tiny_sweep_end_to_end(realdata, tmp_path, monkeypatch):
    monkeypatch.setenv("TWINLOOP_REALDATA", str(realdata))
    spec = {"real": {"train_pool": 12, "test_images": 6},
            "synthetic": {"billets_per_run": 8},
            "sweep": {"fractions": [0.0, 0.5], "train_images": 8, "small_real_images": 4, "seeds": [0, 1]},
            "detector": {"steps": 3, "batch_size": 2, "warmup_steps": 1},
            "image": {"size_px": 128}, "dask": {"workers": 0}}
    out = run(spec, tmp_path / "sb")
    rows = pq.read_table(out / "arms.parquet").to_pylist()
    assert {(r["arm"], r["seed"]) for r in rows} == {(a, s) for a in ("0 % synthetic", "50 % synthetic",
                                                                      "small real only") for s in (0, 1)}
    for r in rows:
        assert r["n_real"] + r["n_synthetic"] == (4 if r["arm"] == "small real only" else 8)
        assert r["all:characters"] > 0 and 0 <= r["all:tp"] <= 1
        assert r["balanced:tp"] is None or 0 <= r["balanced:tp"] <= 1
    m = json.loads((out / "metrics.json").read_text())
    assert m["synthetic"]["faces"] == 4 and "STAND-IN" in m["real_set"]["what"]
    trend = m["trend_per_100pct_synthetic"]["all:tp"]
    assert trend["n"] == 4 and trend["df"] == 1 and trend["slope_lo"] <= trend["slope"] <= trend["slope_hi"]
    html = (out / "report.html").read_text()
    assert "Verdict" in html and "trend over 0-100 % synthetic: TP" in html
