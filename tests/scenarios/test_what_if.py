"""The what-if sweep: Dask determinism across worker counts, intervals, the constraint, bad input."""
from __future__ import annotations

import json
import math

import pyarrow.parquet as pq
import pytest

from scenarios.dask_tasks import DaskOptions, SweepTaskError, run_tasks, task_seed
from scenarios.what_if_defect_rate import best_cell, run
from twin.replication_stats import mean_interval, rate_interval, wilson_interval

SMALL = {
    "scenario": "what_if_defect_rate",
    "grid": {"setpoints.mold_temp_C": [30.0, 50.0], "setpoints.hold_pressure_bar": [250.0, 300.0]},
    "twin": {"cycles": 30, "warmup_cycles": 5},
    "replications": {"count": 2, "seed": 7},
}


def _spec(**dask):
    return {**SMALL, "dask": dask}


def test_same_results_in_process_and_on_1_and_2_workers(tmp_path):
    outs = {}
    for workers in (0, 1, 2):
        outs[workers] = run(_spec(workers=workers), tmp_path / f"w{workers}")
    ref = (outs[0] / "cells.parquet").read_bytes()
    for w in (1, 2):
        assert (outs[w] / "cells.parquet").read_bytes() == ref, f"{w} workers differ from in-process"
        assert (outs[w] / "replications.parquet").read_bytes() == (outs[0] / "replications.parquet").read_bytes()
    cells = pq.read_table(outs[0] / "cells.parquet").to_pylist()
    assert len(cells) == 4 and all(c["replications"] == 2 and c["cycles"] == 50 for c in cells)
    # the physics answers: at 250 bar hold a 50 C mold sinks far more than a 30 C one
    by = {(c["setpoints.mold_temp_C"], c["setpoints.hold_pressure_bar"]): c for c in cells}
    assert by[(50.0, 250.0)]["rate_sink_marks"] > by[(30.0, 250.0)]["rate_sink_marks"] + 0.3
    for c in cells:
        assert c["scrap_rate_lo"] <= c["scrap_rate"] <= c["scrap_rate_hi"]
        # Simulated parts per simulated hour (a twin output, not wall-clock speed): one machine cannot make
        # parts faster than its own cycle time allows, and breakdowns in 25 scored cycles are rare.
        ideal = 3600.0 / c["cycle_time_s_mean"]
        assert 0.5 * ideal < c["throughput_parts_per_h"] <= ideal * (1 + 1e-9)
    m = json.loads((outs[0] / "metrics.json").read_text())
    seeds = [r["seed"] for r in pq.read_table(outs[0] / "replications.parquet").to_pylist()]
    assert len(set(seeds)) == 8 and m["root_seed"] == 7
    html = (outs[0] / "report.html").read_text()
    assert "Best setting" in html or "No cell meets" in html


def test_bad_grid_key_names_it_and_writes_nothing(tmp_path):
    spec = {**_spec(workers=0), "grid": {"setpoints.mold_temperature": [30.0]}}
    with pytest.raises(KeyError, match="mold_temperature"):
        run(spec, tmp_path / "bad")
    assert not (tmp_path / "bad").exists()
    with pytest.raises(KeyError, match="count must be >= 2"):
        run({**_spec(workers=0), "replications": {"count": 1}}, tmp_path / "bad")
    with pytest.raises(KeyError, match="empty"):
        run({**_spec(workers=0), "grid": {}}, tmp_path / "bad")


def _boom(x):
    if x == 2:
        raise ValueError("bad cell")
    return x


def test_failing_task_is_named():
    with pytest.raises(SweepTaskError, match="task 2 .*bad cell"):
        run_tasks(_boom, [0, 1, 2, 3], DaskOptions(0))


def test_task_seed_depends_on_coordinates_only():
    assert task_seed(1, 3, 0) == task_seed(1, 3, 0)
    assert len({task_seed(1, c, r) for c in range(20) for r in range(5)}) == 100
    assert task_seed(1, 3, 0) != task_seed(2, 3, 0)
    with pytest.raises(ValueError):
        task_seed(1, -1)


def test_wilson_matches_reference_values():
    # Brown, Cai & DasGupta (2001), and the closed form: 0 of 10 -> upper 0.2775
    lo, hi = wilson_interval(0, 10)
    assert lo == 0.0 and hi == pytest.approx(0.2775, abs=1e-4)
    lo, hi = wilson_interval(5, 10)
    assert (lo, hi) == (pytest.approx(0.2366, abs=1e-4), pytest.approx(0.7634, abs=1e-4))


def test_rate_interval_widens_with_disagreeing_replications():
    # same pooled rate; replications that agree give the Wilson width, disagreeing ones the wider t width
    agree = rate_interval([10, 10, 10, 10], [100] * 4)
    disagree = rate_interval([0, 0, 20, 20], [100] * 4)
    assert agree[0] == disagree[0] == pytest.approx(0.1)
    assert disagree[2] - disagree[1] > 2 * (agree[2] - agree[1])
    zero = rate_interval([0, 0, 0], [50, 50, 50])
    assert zero[0] == 0 and zero[2] > 0.01  # never a [0, 0] interval from a few hundred parts
    with pytest.raises(ValueError):
        rate_interval([5], [3])
    m, lo, hi = mean_interval([1.0, 2.0, 3.0])
    assert m == 2 and lo == pytest.approx(2 - 4.302653 / math.sqrt(3), rel=1e-5)


def test_mean_interval_is_cut_to_the_bounds_of_a_share():
    # three accuracies far apart: the t(2) interval runs past 0 and 1 unless cut to the range a share can take
    m, lo, hi = mean_interval([0.05, 0.5, 0.95])
    assert lo < 0 and hi > 1
    mb, lob, hib = mean_interval([0.05, 0.5, 0.95], bounds=(0.0, 1.0))
    assert (mb, lob, hib) == (m, 0.0, 1.0)
    # inside the bounds nothing changes
    assert mean_interval([0.4, 0.5, 0.6], bounds=(0.0, 1.0)) == mean_interval([0.4, 0.5, 0.6])


def test_best_cell_respects_the_upper_bound():
    rows = [{"cell": 0, "scrap_rate_hi": 0.04, "good_parts_per_h": 100.0},
            {"cell": 1, "scrap_rate_hi": 0.06, "good_parts_per_h": 300.0},
            {"cell": 2, "scrap_rate_hi": 0.01, "good_parts_per_h": 150.0}]
    b = best_cell(rows, "good_parts_per_h", 0.05)
    assert b["best"]["cell"] == 2 and b["runner_up"]["cell"] == 0 and b["qualifying_cells"] == 2
    assert best_cell(rows, "good_parts_per_h", 0.001)["best"] is None


def test_dask_flags_are_refused_for_a_scenario_that_does_not_sweep(tmp_path):
    from pathlib import Path

    from scenarios.runner import ScenarioError, run_scenario

    toml = Path(__file__).resolve().parents[2] / "scenarios" / "stamp_cgan.toml"
    with pytest.raises(ScenarioError, match="does not run on Dask"):
        run_scenario(toml, tmp_path / "x", dask={"workers": 2, "scheduler": None})
    assert not (tmp_path / "x").exists()
