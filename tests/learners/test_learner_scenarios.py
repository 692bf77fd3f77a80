"""The learner scenarios at tiny sizes: LSTM offset sampling on twin curves; KAMP prequential on the real log."""
from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pyarrow.parquet as pq
import pytest

REPO = Path(__file__).resolve().parents[2]


def test_lstm_offset_sampling_tiny(tmp_path: Path) -> None:
    from scenarios.lstm_offset_sampling import run

    spec = {"data": {"conditions": [{"name": "nominal", "set": {}},
                                    {"name": "clamp_300kN", "set": {"setpoints.clamp_force_kN": 300.0}}],
                     "train_cycles": 6, "test_cycles": 3},
            "model": {"length": 16, "hidden_size": 4, "num_layers": 1, "epochs": 2, "seeds": [0]}}
    steps = []
    out = run(spec, tmp_path / "lstm", progress=lambda d, t: steps.append((d, t)))
    assert steps[-1] == (7, 7)
    m = json.loads((out / "metrics.json").read_text())
    assert m["data"]["train_cycles"] == 12 and m["data"]["test_cycles"] == 6
    assert "flash" in m["data"]["train_classes"]
    arms = m["arms"]
    assert set(arms) == {"offsets", "no_offsets", "no_offsets_equal_steps"}
    k = 4
    seq = {a: arms[a]["seeds"]["0"]["sequences_per_epoch"] for a in arms}
    assert seq["offsets"] == k * seq["no_offsets"] == k * 12
    seen = {a: arms[a]["seeds"]["0"]["sequences_per_epoch"] * arms[a]["seeds"]["0"]["epochs"] for a in arms}
    assert seen["offsets"] == seen["no_offsets_equal_steps"] == k * seen["no_offsets"]
    for a in arms:
        assert 0 <= arms[a]["mean"]["binary.accuracy"] <= 1 and "defect_type.macro_f1" in arms[a]["mean"]
        assert (out / "models" / f"{a}-seed0" / "model.twl").is_file()
    assert "offsets_minus_no_offsets" in m["comparison"]
    assert "Held-out scores" in (out / "report.html").read_text()


def test_lstm_scenario_rejects_typos(tmp_path: Path) -> None:
    from scenarios.lstm_offset_sampling import run

    with pytest.raises(KeyError, match="unknown key"):
        run({"model": {"epoch": 3}}, tmp_path / "x")
    with pytest.raises(KeyError, match="unknown arm"):
        run({"arms": {"run": ["augment"]}}, tmp_path / "y")
    assert not (tmp_path / "x").exists()


def test_scenario_files_parse_against_their_defaults() -> None:
    from scenarios.kamp_prequential import DEFAULTS as KAMP
    from scenarios.lstm_offset_sampling import DEFAULTS as LSTM
    from scenarios.spec import merge_spec

    for name, defaults in (("kamp_prequential", KAMP), ("lstm_offset_sampling", LSTM)):
        spec = tomllib.loads((REPO / "scenarios" / f"{name}.toml").read_text(encoding="utf-8"))
        assert spec["scenario"] == name
        merge_spec(defaults, spec, name)


def test_kamp_prequential_on_the_real_log(realdata: Path, tmp_path: Path, monkeypatch) -> None:
    """Predict-then-learn over the 3-week KAMP log in time order (skips without TWINLOOP_REALDATA)."""
    from scenarios.kamp_prequential import run

    monkeypatch.setenv("TWINLOOP_REALDATA", str(realdata))
    spec = {"learners": {"models": ["logreg"]},
            "stream": {"extra_label_delays": []},
            "detector_study": {"detectors": ["adwin"], "n_streams": 3, "n_before": 300, "n_after": 300}}
    out = run(spec, tmp_path / "kamp")
    m = json.loads((out / "metrics.json").read_text())
    assert m["data"]["rows"] == 5232 and m["data"]["fails"] == 60
    lm = m["learners"]["logreg"]
    assert lm["labelled"] == 5232
    assert lm["always_good_accuracy"] == pytest.approx(5172 / 5232)
    assert lm["recall_fail"] is not None and lm["recall_fail"] > 0.3  # a class-weighted online learner flags fails
    preds = pq.read_table(out / "prequential" / "predictions.parquet")
    t = preds["time_s"].to_pylist()
    assert preds.num_rows == 5232 and all(a <= b for a, b in zip(t, t[1:]))  # time order
    assert m["daily"] and sum(d["parts"] for d in m["daily"]) == 5232
    assert sum(d["fails"] for d in m["daily"]) == 60
    assert [r["name"] for r in m["detector_study"]] == ["adwin", "adwin"]
    assert "real/CN7 W/S SIDE MLD'G LH" in m["feature_alarms"]  # SPC per part
    html = (out / "report.html").read_text()
    assert "Drift detectors on seeded streams" in html and "rolling accuracy" in html
