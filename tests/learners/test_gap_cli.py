"""``twinloop gap`` end to end on small simulated run folders.

Three runs of 60 cycles (no breakdowns): seeds 1 and 2 of the default
process, and seed 3 with the holding pressure raised from 250 to 300 bar
(heavier parts, less shrinkage, higher cavity pressure). The two default
runs stand in for "sim vs real of the same process"; the shifted run for
a twin whose setpoint is wrong. The shift must show in every metric, the
same-process pair must not look like it. The raw-curve grid is 32 points
to keep the test fast (the metrics are the same code at 256).
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from learners.gap import SimRealGap
from scenarios.cli import main
from scenarios.report_gap import SECTION_TITLES, build_gap_report
from twin.config import load_config
from twin.simulate import simulate_molding

N_PERM = "200"


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("gap")
    out = {}
    for name, overrides in (("a", ["run.seed=1"]), ("b", ["run.seed=2"]),
                            ("shift", ["run.seed=3", "setpoints.hold_pressure_bar=300"])):
        cfg = load_config(None, ["cell.mtbf_h=0", *overrides])
        out[name] = simulate_molding(cfg, tmp / name, cycles=60)
    for name, real in (("same", "b"), ("shifted", "shift")):
        code = main(["gap", "--sim", str(out["a"]), "--real", str(out[real]), "--out", str(tmp / f"gap-{name}"),
                     "--n-perm", N_PERM, "--curve-points", "32", "--seed", "7"])
        assert code == 0
        out[f"gap-{name}"] = tmp / f"gap-{name}"
    return out


def _metrics(folder: Path) -> dict:
    return json.loads((folder / "metrics.json").read_text(encoding="utf-8"))


def test_a_shifted_setpoint_shows_in_every_metric_and_the_same_process_does_not(runs):
    same, shifted = _metrics(runs["gap-same"]), _metrics(runs["gap-shifted"])
    # multivariate: the shift is detected with the smallest possible p and separates perfectly
    assert shifted["mmd"]["p_value"] == pytest.approx(1 / (1 + int(N_PERM)))
    assert shifted["c2st"]["auc"] > 0.95 and shifted["c2st"]["auc_ci"][0] > 0.9
    assert shifted["verdict"]["level"] == "separable"
    assert same["mmd"]["p_value"] > 0.05 and same["c2st"]["auc"] < 0.7
    assert same["verdict"]["level"] == "no detectable gap"
    # per feature: the features the holding pressure drives lead the table
    top = [r["feature"] for r in shifted["per_feature"][:3]]
    assert "part_weight_g" in top and "volumetric_shrinkage_pct" in top
    weight = next(r for r in shifted["per_feature"] if r["feature"] == "part_weight_g")
    assert weight["mean_real"] > weight["mean_sim"] and weight["ks_p_value_bh"] < 1e-6
    assert max(r["wasserstein_per_real_sd"] for r in same["per_feature"]) < 1.0 < weight["wasserstein_per_real_sd"]
    # curves: per-cycle curve features and the raw-curve classifier see it too
    assert shifted["curves"]["mmd"]["p_value"] < 0.01 and shifted["curves"]["c2st"]["auc"] > 0.9
    assert shifted["curves"]["discriminative"]["score"] > 0.4
    assert same["curves"]["discriminative"]["score"] < 0.15
    assert shifted["curves"]["per_feature"][0]["wasserstein_per_real_sd"] > 3.0
    # what was compared and dropped is reported
    assert set(shifted["features"]["features"]) >= {"part_weight_g", "cycle_time_s"}
    assert "phase__min" in shifted["curves"]["features"]["dropped"]  # the phase code starts at 1 in every cycle
    assert shifted["settings"]["standardization_mmd"].startswith("robust")


def test_report_is_self_contained_complete_and_deterministic(runs):
    html = (runs["gap-shifted"] / "report.html").read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and html.count("* plotly.js v") == 1
    assert not re.search(r"<script[^>]+src=", html)
    for title in SECTION_TITLES:
        assert f"<h2>{title}</h2>" in html
    for div in ("fig-gap-hist", "fig-gap-ecdf", "fig-gap-mmd-null", "fig-gap-roc", "fig-gap-curves"):
        assert f'id="{div}"' in html
    assert "almost perfectly separable" in html and "part_weight_g" in html
    # same inputs and seed: identical numbers and identical page
    gap = SimRealGap(n_perm=int(N_PERM), curve_points=32, seed=7).fit(runs["a"], runs["shift"])
    assert json.loads(json.dumps(gap.to_dict())) == _metrics(runs["gap-shifted"])
    assert build_gap_report(gap) == html


def test_bad_inputs_exit_with_status_2_and_write_nothing(runs, tmp_path, capsys):
    out = tmp_path / "never"
    assert main(["gap", "--sim", str(runs["a"]), "--real", str(tmp_path / "missing"), "--out", str(out)]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["gap", "--sim", str(runs["a"]), "--real", str(runs["b"]), "--out", str(out),
                 "--features", "part_weight_g,hidden_melt_temp_C"]) == 2
    assert "hidden_melt_temp_C" in capsys.readouterr().err
    assert not out.exists()
    assert main(["gap", "--sim", str(runs["a"]), "--real", str(runs["b"]), "--out", str(runs["gap-same"])]) == 2
    assert "already exists" in capsys.readouterr().err
