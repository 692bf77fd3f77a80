"""The shipped mappings ingest the real Kassel and KAMP logs and curve files (read from TWINLOOP_REALDATA)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from twin.ingest import ingest_curves, ingest_molding
from twin.schema import CURVES_SCHEMA, CYCLES_SCHEMA, HIDDEN_FIELDS

MAPPINGS = Path(__file__).resolve().parents[2] / "mappings"
KASSEL = "im_kassel_cpc/data/injection_molding"


@pytest.fixture(scope="module")
def kassel(realdata, tmp_path_factory):
    out = tmp_path_factory.mktemp("kassel") / "run"
    ingest_molding(realdata / KASSEL / "lower_workpiece/static_data.csv", MAPPINGS / "kassel_cpc_static.toml", out)
    return out


@pytest.fixture(scope="module")
def kamp(realdata, tmp_path_factory):
    out = tmp_path_factory.mktemp("kamp") / "run"
    ingest_molding(realdata / "im_kamp/labeled_data_preprocessed.csv", MAPPINGS / "kamp.toml", out)
    return out


def _metrics(run: Path) -> dict:
    return json.loads((run / "metrics.json").read_text(encoding="utf-8"))


def test_kassel_rows_weights_experiments(kassel):
    t = pq.read_table(kassel / "cycles.parquet")
    assert t.schema.remove_metadata() == CYCLES_SCHEMA
    assert t.num_rows == 7861
    assert t.num_rows - t.column("part_weight_g").null_count == 5008
    assert len(set(t.column("experiment").to_pylist())) == 47
    assert set(t.column("source").to_pylist()) == {"real"}
    assert t.column("run_id")[0].as_py().startswith("kassel_cpc_static-")
    for name in HIDDEN_FIELDS + ("seed", "config_hash", "sim_time_s", "good"):
        assert t.column(name).null_count == t.num_rows, name
    assert t.column("code_version").null_count == 0
    ids = t.column("cycle_id").to_numpy()
    assert ids[0] == 1 and ids[-1] == 7861 and np.all(np.diff(ids) == 1)


def test_kassel_sanity_ranges(kassel):
    t = pq.read_table(kassel / "cycles.parquet")
    col = {n: t.column(n).to_numpy(zero_copy_only=False) for n in (
        "part_weight_g", "cycle_time_s", "cushion_mm", "hold_time_s", "hold_pressure_bar", "mold_temp_C",
        "cooling_time_s", "glass_fiber_pct", "injection_velocity_mm_s", "switchover_volume_cm3", "melt_temp_C")}
    w = col["part_weight_g"][~np.isnan(col["part_weight_g"])]
    assert 84 < np.median(w) < 85.5 and w.min() > 0
    assert 35 < np.nanmedian(col["cycle_time_s"]) < 40
    # cushion 15.2-15.8 cm3 through a 30 mm screw (706.9 mm2): about 21.5-22.4 mm
    assert 21 < np.nanmedian(col["cushion_mm"]) < 23
    assert np.nanmax(col["hold_time_s"]) == pytest.approx(3.2) and np.nanmax(col["hold_pressure_bar"]) == 250
    assert set(np.unique(col["mold_temp_C"])) <= {30, 35, 40, 45, 55, 65}
    assert set(np.unique(col["cooling_time_s"])) == {25, 26, 27, 28, 29, 30}
    assert set(np.unique(col["glass_fiber_pct"])) == {10, 15, 20, 25, 30}
    assert np.nanmedian(col["injection_velocity_mm_s"]) == pytest.approx(60 * 1000 / (np.pi / 4 * 30**2))
    assert np.all(col["melt_temp_C"] == 230)
    # the 1,625 rows with setpoints exported as 0 have null setpoints, not 0
    assert np.isnan(col["hold_pressure_bar"]).sum() == 1625 and np.nanmin(col["hold_pressure_bar"]) > 0


def test_kassel_timestamps_filled_and_ordered(kassel):
    t = pq.read_table(kassel / "cycles.parquet")
    start = t.column("start_time").cast("int64").to_numpy()
    assert np.all(np.diff(start) >= 0)
    m = _metrics(kassel)
    assert m["timestamps_filled"] == 2874 and m["rows_dropped"] == 0
    # the long reference runs without times are spread over the night by the interpolation
    assert m["timestamps_filled_off_date"] == 1354
    assert m["time_span"]["first_start_local"] == "2024-06-05T15:51:36+02:00"
    assert m["time_span"]["last_start_local"] == "2024-06-14T12:51:31+02:00"
    end = t.column("end_time").cast("int64").to_numpy()
    cyc = t.column("cycle_time_s").to_numpy(zero_copy_only=False)
    ok = ~np.isnan(cyc)
    assert np.all(end[ok] - start[ok] == np.round(cyc[ok] * 1000))


def test_kassel_curve_of_cycle_2_matches_its_row(kassel):
    curves = pq.read_table(kassel / "curves.parquet")
    assert curves.schema.remove_metadata() == CURVES_SCHEMA
    assert curves.num_rows == 1 and curves.column("cycle_id")[0].as_py() == 2
    m = _metrics(kassel)["curves"]
    assert m["rows_written"] == 1 and m["files_missing"] == 7861 - 2874 - 1 and m["rows_without_file"] == 2874
    row = curves.slice(0, 1).to_pylist()[0]
    cycles = pq.read_table(kassel / "cycles.parquet")
    two = cycles.filter(pc.equal(cycles.column("cycle_id"), 2)).to_pylist()[0]
    assert max(row["injection_pressure_bar"]) == pytest.approx(two["max_injection_pressure_bar"], abs=5)
    assert min(row["screw_position_mm"]) == pytest.approx(two["cushion_mm"], abs=0.2)
    assert row["cavity_pressure_far_bar"] is None


def test_kamp_rows_labels_and_order(kamp):
    t = pq.read_table(kamp / "cycles.parquet")
    assert t.num_rows == 5232
    good = t.column("good").to_pylist()
    assert good.count(False) == 60 and good.count(True) == 5172
    m = _metrics(kamp)
    assert m["labels"]["defect_type"] == {"burn_marks": 35, "good": 5172, "short_shot": 15, "startup_reject": 10}
    assert m["machines"] == {"S01": 1, "S12": 1, "S14": 5230}
    assert m["order"] == "sort" and m["rows_dropped"] == 0
    # sorted by time; cycle_id is the data row number, unique
    end = t.column("end_time").cast("int64").to_numpy()
    assert np.all(np.diff(end) >= 0)
    assert len(set(t.column("cycle_id").to_pylist())) == 5232
    # a start-up reject is bad but sets none of the twin's defect booleans
    rej = t.filter(pc.equal(t.column("defect_type"), "startup_reject")).to_pylist()
    assert all(r["good"] is False and not any(r[f"defect_{d}"] for d in
               ("short_shot", "flash", "burn_marks", "warpage", "sink_marks")) for r in rej)


def test_kamp_sanity_ranges(kamp):
    t = pq.read_table(kamp / "cycles.parquet")
    f = {n: t.column(n).to_numpy(zero_copy_only=False) for n in (
        "cycle_time_s", "injection_time_s", "hold_end_time_s", "cushion_mm", "screw_speed_rpm", "nozzle_melt_temp_C")}
    assert 58 < np.median(f["cycle_time_s"]) < 61
    assert np.all(f["injection_time_s"] <= f["hold_end_time_s"])
    assert 650 < np.median(f["cushion_mm"]) < 656  # absolute position, see mappings/kamp.toml
    assert np.max(f["screw_speed_rpm"]) < 35
    assert np.isnan(f["nozzle_melt_temp_C"]).sum() == 1


def test_both_real_curve_files(realdata, tmp_path):
    upper = realdata / KASSEL / "upper_workpiece/serial_data/upper_workpiece_cycle_00001.csv"
    lower = realdata / KASSEL / "lower_workpiece/serial_data/lower_workpiece_cycle_00002.txt"
    a = ingest_curves([upper], MAPPINGS / "kassel_cpc_upper_curves.toml", tmp_path / "upper")
    b = ingest_curves([lower], MAPPINGS / "kassel_cpc_static.toml", tmp_path / "lower")
    ra = pq.read_table(a / "curves.parquet").to_pylist()[0]
    rb = pq.read_table(b / "curves.parquet").to_pylist()[0]
    assert (ra["cycle_id"], ra["n_samples"], ra["sample_interval_s"]) == (1, 2048, 0.01)
    assert (rb["cycle_id"], rb["n_samples"], rb["sample_interval_s"]) == (2, 498, 0.03)
    assert rb["machine_id"] == "arburg_265995"
    for r in (ra, rb):
        assert 500 < max(r["injection_pressure_bar"]) < 800
        assert len(r["screw_position_mm"]) == r["n_samples"]
        assert r["phase"] is None
    # V3001I starts at 117.5 cm3 = 166.2 mm on a 30 mm screw
    assert rb["screw_position_mm"][0] == pytest.approx(117.5 * 1000 / (np.pi / 4 * 900), rel=1e-6)
    assert (a / "mapping.toml").read_bytes() == (MAPPINGS / "kassel_cpc_upper_curves.toml").read_bytes()
