"""The closed loop: recovery arithmetic, and the loop end to end on the real KAMP stream (tiny budget)."""
from __future__ import annotations

import json

import numpy as np
import pyarrow.parquet as pq

from scenarios.closed_loop import rolling_flag_rate, run, time_to_recover


def test_rolling_flag_rate_counts_good_parts_only():
    good = np.array([1, 1, 0, 1, 1, 1], bool)
    pred = np.array([1, 0, 0, 0, 1, 1], bool)      # flags parts 1, 2 (a real fail), 3
    r = rolling_flag_rate(good, pred, window=2)
    np.testing.assert_allclose(r, [0.0, 0.5, 0.5, 1.0, 0.5, 0.0])


def test_time_to_recover():
    rate = np.array([0.0] * 10 + [1.0] * 5 + [0.02] * 20)
    assert time_to_recover(rate, 10, window=5, tolerance=0.05) == 5
    assert time_to_recover(np.zeros(30), 10, window=5, tolerance=0.05) == 0
    assert time_to_recover(np.array([0.0] * 10 + [1.0] * 20), 10, window=5, tolerance=0.05) is None


def test_loop_on_kamp_end_to_end(realdata, tmp_path, monkeypatch):
    monkeypatch.setenv("TWINLOOP_REALDATA", str(realdata))
    cfg = tmp_path / "twin.toml"          # a stand-in start twin (the scenario calibrates one to KAMP by default)
    cfg.write_text("[run]\nseed = 1\n")
    spec = {"twin": {"calibrated_config": str(cfg), "max_nfev": 3},
            "stream": {"initial_labels": 300, "block": 100, "refit_every": 1000},
            "alarm": {"cooldown": 1500, "recent_window": 100},
            "synthetic": {"runs": 2, "cycles_per_run": 30, "per_recalibration": 40,
                          "vary": {"setpoints.dosing_volume_cm3": [0.6, 1.1]}},
            "learner": {"max_iter": 20}, "dask": {"workers": 0}}
    out = run(spec, tmp_path / "cl")
    m = json.loads((out / "metrics.json").read_text())
    assert m["stream"]["parts"] > 5000 and len(m["stream"]["mold_changes"]) >= 3
    assert m["recalibrations"] >= 1 and m["alarms"] >= m["recalibrations"]
    assert m["arms"]["frozen"]["labels_used"] == m["arms"]["twin"]["labels_used"] == 300
    assert m["arms"]["real labels"]["labels_used"] > 4000 and m["arms"]["real labels"]["refits"] >= 4
    pred = pq.read_table(out / "predictions.parquet")
    assert pred.num_rows == m["stream"]["parts"]
    p = np.asarray(pred["p_fail:twin"].to_pylist()[300:], float)
    assert np.isfinite(p).all() and (0 <= p).all() and (p <= 1).all()
    assert "Time to recover" in (out / "report.html").read_text()
