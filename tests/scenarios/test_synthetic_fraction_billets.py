"""The billet synthetic-fraction sweep: arm sizes, and a tiny run end to end on the real stand-in."""
from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest

from scenarios.synthetic_fraction_billets import arm_sizes, run


def test_arms_are_equally_large_and_the_control_is_small():
    arms = arm_sizes([0.0, 0.25, 1.0], 200, 50)
    assert arms == [("0 % synthetic", 0.0, 200, 0), ("25 % synthetic", 0.25, 150, 50),
                    ("100 % synthetic", 1.0, 0, 200), ("small real only", None, 50, 0)]


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
    m = json.loads((out / "metrics.json").read_text())
    assert m["synthetic"]["faces"] == 4 and "STAND-IN" in m["real_set"]["what"]
    assert "Verdict" in (out / "report.html").read_text()
