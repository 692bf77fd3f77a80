"""Field options (combine, derive, default, missing, constant, scale) and timestamp filling and ordering."""
from __future__ import annotations

import json

import numpy as np
import pyarrow.parquet as pq
import pytest

from tests.ingest.helpers import write
from twin.ingest import IngestError, ingest_molding

LOG = (
    "n,date,time,a,b,klass,w\n"
    "7,05.06.2024,00:00:00,1,2,cooling_time_27,0\n"
    "8,05.06.2024,10:00:00,NA,3,reference_01,85.1\n"
    "9,05.06.2024,00:00:00,4,,mold_temperature_55,\n"
    "10,05.06.2024,00:00:00,5,6,cooling_time_30,0\n"
    "11,05.06.2024,10:01:00,7,8,reference_01,84.9\n"
    "12,05.06.2024,00:00:00,9,9,reference_01,84.0\n"
)

MAPPING = '''
[source]
machine_id = "m"
[id]
column = "n"
[time]
date_column = "date"
date_format = "%d.%m.%Y"
time_column = "time"
time_format = "%H:%M:%S"
timezone = "Europe/Berlin"
missing = ["00:00:00"]
fill = "interpolate"
[experiment]
column = "klass"
[fields]
material_grade = { constant = "PP_579S" }
lot_id = { column = "klass", missing = ["reference_01"], default = "L0" }
[fields.hold_time_s]
columns = ["a", "b"]
combine = "sum"
missing = ["NA"]
[fields.cycle_time_s]
columns = ["a", "b"]
combine = "first"
missing = ["NA"]
[fields.dosing_time_s]
columns = ["a", "b"]
combine = "mean"
missing = ["NA"]
[fields.injection_time_s]
columns = ["a", "b"]
combine = "max"
missing = ["NA"]
[fields.cooling_time_s]
derive = { column = "klass", pattern = "cooling_time_(\\\\d+)", group = 1 }
default = 25
[fields.mold_temp_C]
derive = { column = "klass", pattern = "mold_temperature_(\\\\d+)" }
[fields.part_weight_g]
column = "w"
missing = [0]
[fields.clamp_force_kN]
constant = 60
unit = "t_force"
[fields.dosing_volume_cm3]
column = "a"
missing = ["NA"]
scale = 2
offset = 1
'''


@pytest.fixture
def run(tmp_path):
    src, mp = write(tmp_path, LOG, MAPPING)
    out = ingest_molding(src, mp, tmp_path / "run")
    return pq.read_table(out / "cycles.parquet").to_pydict(), json.loads((out / "metrics.json").read_text())


def _eq(a, b):
    return [None if x is None else round(x, 9) for x in a] == b


def test_combine(run):
    t, _ = run
    assert _eq(t["hold_time_s"], [3, None, None, 11, 15, 18])      # sum: null if any part is missing
    assert _eq(t["cycle_time_s"], [1, 3, 4, 5, 7, 9])              # first present
    assert _eq(t["dosing_time_s"], [1.5, 3, 4, 5.5, 7.5, 9])       # mean of present
    assert _eq(t["injection_time_s"], [2, 3, 4, 6, 8, 9])          # max of present


def test_derive_default_missing_constant_scale(run):
    t, m = run
    assert _eq(t["cooling_time_s"], [27, 25, 25, 30, 25, 25])
    assert _eq(t["mold_temp_C"], [None, None, 55, None, None, None])
    assert _eq(t["part_weight_g"], [None, 85.1, None, None, 84.9, 84.0])
    assert _eq(t["clamp_force_kN"], [588.399] * 6)
    assert _eq(t["dosing_volume_cm3"], [3, None, 9, 11, 15, 19])
    assert t["material_grade"] == ["PP_579S"] * 6
    assert t["lot_id"] == ["cooling_time_27", "L0", "mold_temperature_55", "cooling_time_30", "L0", "L0"]
    assert t["experiment"][0] == "cooling_time_27"
    assert m["experiments"] == {"cooling_time_27": 1, "cooling_time_30": 1, "mold_temperature_55": 1,
                                "reference_01": 3}
    assert m["null_counts"]["part_weight_g"] == 3


def test_interpolated_and_filled_timestamps(run):
    t, m = run
    ms = np.array([x.timestamp() for x in t["start_time"]])
    t10 = ms[1]
    # row 1 is back-filled from row 2, rows 3 and 4 lie evenly between 10:00 and 10:01, row 6 is forward-filled
    assert list(ms - t10) == [0, 0, 20, 40, 60, 60]
    assert t["start_time"][1].isoformat() == "2024-06-05T08:00:00+00:00"  # 10:00 in Berlin (CEST)
    assert m["timestamps_filled"] == 4


def test_sorted_order_keeps_equal_times_in_file_order(tmp_path):
    log = "id,ts\n1,2024-01-01 10:00:05\n2,2024-01-01 10:00:00\n3,2024-01-01 10:00:05\n4,2024-01-01 10:00:01\n"
    mapping = ('[id]\nrow_number = true\n[time]\ncolumn = "ts"\nformat = "%Y-%m-%d %H:%M:%S"\norder = "sort"\n'
               'marks = "end"\n[fields.cycle_time_s]\nconstant = 2.0\n')
    src, mp = write(tmp_path, log, mapping)
    out = ingest_molding(src, mp, tmp_path / "run")
    t = pq.read_table(out / "cycles.parquet").to_pydict()
    assert t["cycle_id"] == [2, 4, 1, 3]
    assert all((e - s).total_seconds() == 2.0 for s, e in zip(t["start_time"], t["end_time"]))
    assert t["machine_id"] == ["unknown"] * 4


def test_all_timestamps_missing_is_an_error(tmp_path):
    log = "id,ts\n1,\n2,\n"
    mapping = '[id]\ncolumn = "id"\n[time]\ncolumn = "ts"\nformat = "iso"\nfill = "interpolate"\n'
    src, mp = write(tmp_path, log, mapping)
    with pytest.raises(IngestError, match="column 'ts': no row has a timestamp"):
        ingest_molding(src, mp, tmp_path / "run")


def test_epoch_and_iso_formats(tmp_path):
    log = "id,ts\n1,1717570296\n2,1717570333\n"
    mapping = '[id]\ncolumn = "id"\n[time]\ncolumn = "ts"\nformat = "epoch_s"\n'
    src, mp = write(tmp_path, log, mapping)
    t = pq.read_table(ingest_molding(src, mp, tmp_path / "a") / "cycles.parquet").to_pydict()
    assert t["start_time"][0].isoformat() == "2024-06-05T06:51:36+00:00"
    log = "id,ts\n1,2024-06-05T08:51:36+02:00\n"
    src, mp = write(tmp_path, log, mapping.replace("epoch_s", "iso"))
    t = pq.read_table(ingest_molding(src, mp, tmp_path / "b") / "cycles.parquet").to_pydict()
    assert t["start_time"][0].isoformat() == "2024-06-05T06:51:36+00:00"


def test_preamble_lines_crlf_and_blank_lines(tmp_path):
    log = "exported by X\r\nmachine 7\r\nid;ts;c\r\n1;2024-01-01 00:00:00;1,5\r\n\r\n2;2024-01-01 00:00:30;x\r\n"
    mapping = ('[source]\nseparator = ";"\ndecimal = ","\nheader_row = 3\n[id]\ncolumn = "id"\n[time]\ncolumn = "ts"\n'
               'format = "%Y-%m-%d %H:%M:%S"\n[fields.cycle_time_s]\ncolumn = "c"\n')
    src, mp = write(tmp_path, log, mapping)
    with pytest.raises(IngestError, match=r"line 6 \(data row 2\), column 'c': cannot read 'x'"):
        ingest_molding(src, mp, tmp_path / "run")
    out = ingest_molding(src, mp, tmp_path / "run", skip_bad_rows=True)
    assert pq.read_table(out / "cycles.parquet").column("cycle_time_s").to_pylist() == [1.5]
