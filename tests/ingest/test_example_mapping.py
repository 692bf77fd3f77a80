"""A new user's log (German headers, ms, MPa) ingests with nothing but a mapping file (mappings/examples/)."""
from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from twin.ingest import ingest_molding

EXAMPLES = Path(__file__).resolve().parents[2] / "mappings" / "examples"


def test_german_example_log(tmp_path):
    out = ingest_molding(EXAMPLES / "spritzguss_beispiel.csv", EXAMPLES / "spritzguss_beispiel.toml", tmp_path / "r")
    t = pq.read_table(out / "cycles.parquet").to_pydict()
    assert t["cycle_id"] == list(range(1001, 1011))
    assert t["cycle_time_s"][0] == pytest.approx(30.51)           # 30510 ms
    assert t["injection_time_s"][0] == pytest.approx(1.21)
    assert t["max_injection_pressure_bar"][0] == pytest.approx(624.0)  # 62.4 MPa
    assert t["hold_pressure_bar"][6] == pytest.approx(320.0)
    assert t["cushion_mm"][0] == pytest.approx(5.12)
    assert t["mold_temp_C"][5] is None and t["part_weight_g"][5] is None   # empty cells
    assert t["start_time"][0].isoformat() == "2024-06-05T04:00:12+00:00"  # 06:00:12 in Berlin (CEST)
    assert (t["end_time"][0] - t["start_time"][0]).total_seconds() == pytest.approx(30.51)
    assert t["experiment"][:7] == ["A-4711"] * 6 + ["A-4712"]
    assert t["good"].count(False) == 2
    assert t["defect_type"][3] == "sink_marks" and t["defect_sink_marks"][3] is True
    assert t["defect_type"][7] == "flash" and t["defect_flash"][7] is True
    assert set(t["machine_id"]) == {"presse_7"} and set(t["material_grade"]) == {"PP_579S"}
