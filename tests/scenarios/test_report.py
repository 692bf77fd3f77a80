"""The molding report: self-contained, complete, deterministic, and robust to thin runs.

The runs here are tiny (a few to 40 cycles, ~0.1 s each to simulate); the
report build dominates (~1 s, most of it embedding plotly.js).
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from scenarios.cli import main
from scenarios.demo import run_billet_demo, run_demo
from scenarios.report_data import Events, choose_bin_seconds, downtime_intervals, load_run, read_curves
from scenarios.report_molding import SECTION_TITLES, build_report, write_report
from twin.config import load_config
from twin.simulate import simulate_molding

#: Good parts first, then sink marks after a hold-pressure drop; a lot change and a short maintenance stop.
SCHEDULE_TOML = """
[[schedule.events]]
at_h = 0.05
kind = "setpoint"
set = { "setpoints.hold_pressure_bar" = 180.0 }

[[schedule.events]]
at_h = 0.08
kind = "lot"

[[schedule.events]]
at_h = 0.12
kind = "maintenance"
duration_min = 1.0
"""


def _simulate(tmp: Path, name: str, cycles: int, overrides: list[str], config: Path | None = None) -> Path:
    cfg = load_config(config, ["cell.mtbf_h=0", "run.seed=7", *overrides])
    return simulate_molding(cfg, tmp / name, cycles=cycles, finalize=write_report)


@pytest.fixture(scope="module")
def mixed_run(tmp_path_factory) -> Path:
    """40 cycles with good and sink-mark parts, a setpoint change, a lot change and a maintenance stop."""
    tmp = tmp_path_factory.mktemp("report")
    config = tmp / "schedule.toml"
    config.write_text(SCHEDULE_TOML)
    return _simulate(tmp, "mixed", 40, [], config)


def test_report_is_written_self_contained_and_complete(mixed_run):
    html = (mixed_run / "report.html").read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert "plotly.js v" in html and "Plotly.newPlot" in html      # the bundle is embedded...
    assert html.count("* plotly.js v") == 1                          # ...exactly once
    assert not re.search(r"<script[^>]+src=", html)                  # and nothing is fetched
    assert '<script src="http' not in html
    for title in SECTION_TITLES:
        assert f"<h2>{title}</h2>" in html
    for div in ("fig-cycle-time", "fig-defect-rate", "fig-part-weight", "fig-curves"):
        assert f'id="{div}"' in html
    assert "sink marks" in html and "setpoint change" in html and "material lot change" in html
    assert "maintenance (stop)" in html


def test_report_is_deterministic(mixed_run):
    first = build_report(mixed_run)
    assert first == build_report(mixed_run)
    # the finalize hook (partial folder, metrics dict) and a later build (final folder, metrics.json) agree
    assert first == (mixed_run / "report.html").read_text(encoding="utf-8")


def test_example_curves_are_read_by_row_group_and_key(mixed_run):
    data = load_run(mixed_run)
    keys = [("M1", 3), ("M1", 39), ("M1", 999)]
    curves = read_curves(mixed_run / "curves.parquet", keys, ["screw_position_mm", "cavity_pressure_far_bar"])
    assert sorted(curves) == [("M1", 3), ("M1", 39)]
    rec = curves[("M1", 3)]
    assert rec["dt"] == pytest.approx(0.01)
    assert rec["screw_position_mm"].dtype == np.float32 and rec["screw_position_mm"].size > 100
    assert set(rec) == {"dt", "screw_position_mm", "cavity_pressure_far_bar"}
    assert len(data.cycles) == 40 and (~data.cycles.good).any() and data.cycles.good.any()


def test_report_without_curves(tmp_path):
    run = _simulate(tmp_path, "nocurves", 12, ["curves.enabled=false"])
    assert not (run / "curves.parquet").exists()
    html = (run / "report.html").read_text(encoding="utf-8")
    assert "Sensor curves were not recorded for this run" in html
    assert 'id="fig-curves"' not in html and 'id="fig-part-weight"' in html


def test_report_with_no_defects_and_only_start_end_events(tmp_path):
    run = _simulate(tmp_path, "clean", 20, ["setpoints.hold_pressure_bar=300"])  # a comfortably good process
    data = load_run(run)
    assert data.cycles.good.all()
    assert sorted(set(data.events.kind.tolist())) == ["run_end", "run_start"]
    html = (run / "report.html").read_text(encoding="utf-8")
    assert "No defective part was produced in this run" in html
    assert "There is no defective cycle in this run." in html


def test_report_of_a_single_cycle(tmp_path):
    run = _simulate(tmp_path, "one", 1, ["setpoints.hold_pressure_bar=180"])
    html = (run / "report.html").read_text(encoding="utf-8")
    assert "the first 1 defective cycle (reds" in html and "There is no good cycle in this run." in html
    assert 'id="fig-curves"' in html


def test_run_demo_writes_the_report(tmp_path):
    report = run_demo(tmp_path / "demo", hours=0.1, progress=False)
    assert report == tmp_path / "demo" / "report.html" and report.is_file()
    assert "<h2>Cycle time</h2>" in report.read_text(encoding="utf-8")
    assert run_demo(tmp_path / "demo", hours=0.05, progress=False).is_file()  # the demo folder is overwritten


def test_cli_simulate_writes_and_prints_the_report(tmp_path, capsys):
    def argv(out: Path) -> list[str]:
        return ["simulate", "molding", "--cycles", "5", "--out", str(out), "--no-progress", "--set", "cell.mtbf_h=0"]

    assert main(argv(tmp_path / "with")) == 0
    assert f"report: {(tmp_path / 'with' / 'report.html').resolve()}" in capsys.readouterr().out
    assert main([*argv(tmp_path / "without"), "--no-report"]) == 0
    assert "report:" not in capsys.readouterr().out
    assert (tmp_path / "without" / "cycles.parquet").is_file()
    assert not (tmp_path / "without" / "report.html").exists()


@pytest.mark.parametrize("span_s", [1, 30, 599, 600, 3600, 8 * 3600, 24 * 3600, 7 * 86400, 400 * 86400])
def test_time_bins_are_between_10_and_40_when_the_run_allows(span_s):
    width = choose_bin_seconds(span_s)
    n = int(np.ceil(span_s / width))
    assert n <= 40
    if span_s >= 10 * 10:  # runs of 100 s or more can be split into 10 bins of the 10 s minimum
        assert n >= 10
    assert choose_bin_seconds(8 * 3600) == 900


def test_downtime_pairs_breakdowns_with_repairs_and_closes_open_ones():
    ms = np.array([0, 1000, 5000, 8000, 9000, 20000], dtype=np.int64)
    events = Events(
        time_ms=ms,
        component=np.array(["cell", "M1", "M1", "M2", "M1", "cell"], dtype=object),
        kind=np.array(["run_start", "breakdown", "repair_done", "breakdown", "maintenance", "run_end"], dtype=object),
        detail=np.array(["", "", "repair 0.1 min", "", "cleaned", ""], dtype=object),
        duration_s=np.array([np.nan, np.nan, 4.0, np.nan, 2.0, np.nan]),
    )
    got = [(iv.start_ms, iv.end_ms, iv.kind, iv.component) for iv in downtime_intervals(events, 20000)]
    assert got == [(1000, 5000, "breakdown", "M1"), (8000, 20000, "breakdown", "M2"),
                   (9000, 11000, "maintenance", "M1")]


def test_run_billet_demo_writes_the_report_with_an_image_grid(tmp_path):
    report = run_billet_demo(tmp_path / "b", billets=4, progress=False)
    assert report == tmp_path / "b" / "report.html"
    text = report.read_text()
    assert text.count("<svg") >= 3 and "data:image/png;base64," in text
