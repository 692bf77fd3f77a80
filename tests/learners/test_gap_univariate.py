"""Per-feature statistics, BH adjustment, inputs and feature selection.

Assumes scipy's ``wasserstein_distance`` and ``ks_2samp`` as the reference:
the per-feature table must reproduce them exactly on known inputs (NaNs
are ignored per feature). BH is checked against values computed by hand
(the same as R's ``p.adjust(p, "BH")``).
"""
from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from scipy import stats

from learners.gap import (GapInputError, benjamini_hochberg, load_records, per_feature_gap, robust_standardize,
                          select_features)
from learners.gap.records import feature_matrix


def test_wasserstein_and_ks_match_scipy_on_known_inputs():
    sim = np.array([[1.0, 10.0], [2.0, 11.0], [3.0, np.nan], [4.0, 13.0]])
    real = np.array([[2.0, 10.5], [3.0, 12.5], [5.0, 14.0]])
    rows = per_feature_gap(sim, real, ["a", "b"])
    a, b = rows
    assert a["wasserstein"] == pytest.approx(stats.wasserstein_distance([1, 2, 3, 4], [2, 3, 5]))
    ks = stats.ks_2samp([1, 2, 3, 4], [2, 3, 5])
    assert (a["ks_statistic"], a["ks_p_value"]) == pytest.approx((ks.statistic, ks.pvalue))
    assert a["wasserstein_per_real_sd"] == pytest.approx(a["wasserstein"] / np.std([2, 3, 5], ddof=1))
    assert (a["n_sim"], a["n_real"], a["mean_sim"], a["sd_real"]) == (4, 3, 2.5, pytest.approx(1.5275252))
    # the NaN of feature b is ignored for b only
    assert b["n_sim"] == 3
    assert b["wasserstein"] == pytest.approx(stats.wasserstein_distance([10, 11, 13], [10.5, 12.5, 14]))
    # a pure shift: Wasserstein equals the shift, in the feature's unit
    x = np.random.default_rng(0).normal(size=500)
    (row,) = per_feature_gap(x[:, None] + 0.3, x[:, None], ["x"])
    assert row["wasserstein"] == pytest.approx(0.3)
    assert row["ks_p_value_bh"] == pytest.approx(row["ks_p_value"])  # one test: BH changes nothing


def test_benjamini_hochberg_values_and_missing_entries():
    p = [0.01, 0.04, 0.03, 0.005, None, 0.5]
    # by hand: sorted 0.005, 0.01, 0.03, 0.04, 0.5 (m = 5) -> 0.025, 0.025, 0.05, 0.05, 0.5
    assert benjamini_hochberg(p) == pytest.approx([0.025, 0.05, 0.05, 0.025, None, 0.5])
    assert benjamini_hochberg([None, float("nan")]) == [None, None]
    adj = benjamini_hochberg(list(np.linspace(0.001, 0.9, 17)))
    assert all(x <= 1.0 for x in adj) and adj == sorted(adj)  # monotone in p, capped at 1


def _table(n: int, seed: int, **extra) -> pa.Table:
    rng = np.random.default_rng(seed)
    cols = {"part_weight_g": rng.normal(30, 0.02, n), "cushion_mm": rng.normal(13, 0.2, n),
            "cycle_time_s": np.full(n, 19.5), "warpage_mm": np.where(rng.random(n) < 0.8, np.nan, 0.7),
            "hidden_melt_temp_C": rng.normal(230, 1, n)}
    cols.update(extra)
    return pa.table(cols)


def test_default_selection_drops_with_reasons_and_never_uses_hidden_columns():
    a = load_records(_table(50, 1), "sim")
    b = load_records(_table(40, 2), "real")
    sel = select_features(a, b)
    assert sel.features == ("cushion_mm", "part_weight_g")  # FEATURE_FIELDS order
    assert sel.dropped["cycle_time_s"] == "constant in both (19.5)"
    assert sel.dropped["warpage_mm"].startswith("mostly null in sim")
    assert sel.dropped["max_injection_pressure_bar"] == "missing in sim and real"
    assert not any(f.startswith("hidden_") for f in sel.features)
    with pytest.raises(GapInputError, match="hidden_"):
        select_features(a, b, ["hidden_melt_temp_C"])
    with pytest.raises(GapInputError, match="'nope' is not a column of sim and real"):
        select_features(a, b, ["nope"])
    # constant in both but at different values: kept (that is a gap of its own)
    c = load_records(_table(40, 3, cycle_time_s=np.full(40, 20.0)), "real")
    assert "cycle_time_s" in select_features(a, c).features


def test_inputs_dicts_tables_run_folders_and_nan_rows(tmp_path):
    rec = load_records({"part_weight_g": [1.0, np.nan, 3.0], "cushion_mm": [1, 2, 3]}, "sim")
    X = feature_matrix(rec, ["part_weight_g", "cushion_mm"])
    assert X.shape == (3, 2) and np.isnan(X[1, 0])
    with pytest.raises(GapInputError, match="has no cycles.parquet"):
        load_records(tmp_path, "sim")
    with pytest.raises(GapInputError, match="does not exist"):
        load_records(tmp_path / "missing", "real")
    curves = load_records(rec.cycles, "sim", curves={"sample_interval_s": [0.01, 0.01, 0.01],
                                                     "p": [np.ones(3), np.ones(5), np.ones(2)]})
    assert curves.curve_columns == ("p",)


def test_robust_standardisation_pooled_and_real():
    rng = np.random.default_rng(0)
    sim, real = rng.normal(5, 2, (400, 2)), rng.normal(0, 1, (400, 2))
    s, r = robust_standardize(sim, real, "real")
    assert np.median(r, axis=0) == pytest.approx([0, 0], abs=1e-12)
    assert np.median(s, axis=0) == pytest.approx([5, 5], rel=0.15)  # 5 real sds away
    s, r = robust_standardize(sim, real, "pooled")
    assert np.median(np.vstack([s, r]), axis=0) == pytest.approx([0, 0], abs=1e-12)
    # a feature stuck on one value more than half the time falls back to its sd, not a zero scale
    stuck = np.r_[np.zeros(300), rng.normal(size=100)][:, None]
    s, _ = robust_standardize(stuck, stuck, "pooled")
    assert np.isfinite(s).all() and s.std() == pytest.approx(1.0)


def test_learners_gap_does_not_import_the_simulator():
    """learners see records, not the simulator: no simpy and no twin module except schema and rng."""
    allowed_twin = {"twin.schema", "twin.rng"}
    for path in sorted(Path("learners/gap").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                assert not name.startswith("simpy"), (path, name)
                assert not name.startswith("twin") or name in allowed_twin, (path, name)
    for mod in allowed_twin:  # and those two do not pull simpy in
        src = Path(mod.replace(".", "/") + ".py").read_text(encoding="utf-8")
        assert "simpy" not in src
