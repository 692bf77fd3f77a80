"""Gap metrics on sliding windows of a stream.

Two synthetic streams of 1,000 s, one row per second: identical processes
until t = 600 s, then the second stream's first feature shifts by 1 sd. The
windows before the change must look alike, those after it must not.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pytest

from learners.gap import GapInputError, gap_windows


def _stream(seed: int, shift_after: float | None) -> dict:
    rng = np.random.default_rng(seed)
    t = np.arange(1000.0)
    x = rng.normal(size=(1000, 2))
    if shift_after is not None:
        x[t >= shift_after, 0] += 1.0
    return {"sim_time_s": t, "part_weight_g": x[:, 0], "cushion_mm": x[:, 1]}


def test_windows_find_the_change_and_only_after_it():
    rows = gap_windows(_stream(1, None), _stream(2, 600.0), "sim_time_s", window=200.0, step=200.0, n_perm=100)
    assert [r["start"] for r in rows] == [0.0, 200.0, 400.0, 600.0, 800.0]
    assert all(r["n_a"] == 200 and r["n_b"] == 200 for r in rows)  # the last window [800, 1000] holds 800..999
    before, after = rows[:3], rows[3:]
    assert all(r["mmd_p_value"] > 0.01 and r["c2st_auc"] < 0.65 for r in before)
    assert all(r["mmd_p_value"] < 0.01 and r["c2st_auc"] > 0.65 for r in after)
    assert all(r["c2st_auc_ci"][0] <= r["c2st_auc"] <= r["c2st_auc_ci"][1] for r in rows)


def test_timestamps_overlapping_windows_a_fixed_reference_and_thin_windows():
    a, b = _stream(3, 600.0), _stream(4, None)
    start = dt.datetime(2024, 6, 5, 6, tzinfo=dt.timezone.utc)
    a["start_time"] = pa.array([start + dt.timedelta(seconds=float(s)) for s in a["sim_time_s"]],
                               type=pa.timestamp("ms", tz="UTC"))
    b["start_time"] = a["start_time"]
    rows = gap_windows(a, b, "start_time", window=dt.timedelta(seconds=400), step=300.0, b_fixed=True, n_perm=200)
    assert [r["start"] - start.timestamp() for r in rows] == pytest.approx([0.0, 300.0, 600.0])
    assert [r["n_a"] for r in rows] == [400, 400, 400] and all(r["n_b"] == 1000 for r in rows)  # b not windowed
    assert rows[0]["mmd_p_value"] > 0.01 and rows[-1]["mmd_p_value"] < 0.01
    thin = gap_windows(a, b, "sim_time_s", window=10.0, step=500.0, min_rows=20, n_perm=10)
    assert thin[0]["skipped"] and thin[0]["mmd_p_value"] is None
    with pytest.raises(GapInputError, match="time column 'nope'"):
        gap_windows(a, b, "nope", window=10.0)
