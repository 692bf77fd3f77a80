"""Curve files: Arburg MeasurementChart and CSV, uniform sampling checks and resampling, errors."""
from __future__ import annotations

import json

import numpy as np
import pyarrow.parquet as pq
import pytest

from tests.ingest.helpers import assert_nothing_written
from twin.ingest import IngestError, ingest_curves, ingest_molding

CHART = """content;chart data
machine no.;1
data complete;yes
-header-
signals;2
plotting points;4
sampling rate;0.0300
-column description-
s;bar;cm³
time;Einspritzdruck, Ist;Schneckenvolumen, Ist
;p3001I;V3001I
-start data-
0.0000;10;20.0
0.0300;20;19.0
0.0600;30;18.0
0.0900;40;17.0
"""

MAPPING = '''
[source]
machine_id = "m7"
[machine]
screw_diameter_mm = 20.0
[curves]
format = "auto"
cycle_id_pattern = "cycle_(\\\\d+)"
[curves.channels]
p3001I = "injection_pressure_bar"
V3001I = "screw_position_mm"
'''


def _files(tmp_path, chart=CHART, mapping=MAPPING, name="x_cycle_00042.txt"):
    f = tmp_path / name
    f.write_text(chart, encoding="utf-8")
    mp = tmp_path / "map.toml"
    mp.write_text(mapping, encoding="utf-8")
    return f, mp


def test_arburg_chart_with_units_from_the_file(tmp_path):
    f, mp = _files(tmp_path)
    out = ingest_curves([f], mp, tmp_path / "run")
    r = pq.read_table(out / "curves.parquet").to_pylist()[0]
    assert (r["cycle_id"], r["machine_id"], r["n_samples"], r["sample_interval_s"]) == (42, "m7", 4, 0.03)
    assert r["injection_pressure_bar"] == [10, 20, 30, 40]
    area = np.pi / 4 * 20.0**2  # cm³ from the units row -> mm through the 20 mm screw
    assert r["screw_position_mm"] == pytest.approx([v * 1000 / area for v in (20, 19, 18, 17)], rel=1e-6)
    assert r["cavity_pressure_far_bar"] is None


def test_truncated_chart(tmp_path):
    f, mp = _files(tmp_path, CHART.replace("0.0900;40;17.0\n", "0.0900;40"))
    with pytest.raises(IngestError, match=r"line 16, column 'V3001I'.*has 2 fields.*truncated"):
        ingest_curves([f], mp, tmp_path / "run")
    assert_nothing_written(tmp_path / "run")
    f, mp = _files(tmp_path, CHART.replace("0.0900;40;17.0\n", ""))
    with pytest.raises(IngestError, match="truncated: the header says 4 plotting points, the file has 3"):
        ingest_curves([f], mp, tmp_path / "run")


def test_missing_signal_and_bad_number(tmp_path):
    f, mp = _files(tmp_path, mapping=MAPPING.replace("p3001I", "p3001X"))
    with pytest.raises(IngestError, match="signal 'p3001X' .* not in the file"):
        ingest_curves([f], mp, tmp_path / "run")
    f, mp = _files(tmp_path, CHART.replace("0.0600;30;", "0.0600;3o;"))
    with pytest.raises(IngestError, match=r"line 15, column 'p3001I': cannot read '3o'"):
        ingest_curves([f], mp, tmp_path / "run")


def test_csv_curve_resampled_when_not_uniform(tmp_path):
    csv_text = "t_ms,p,q\n0,0,1\n10,10,1\n20,20,1\n35,35,1\n40,40,1\n"
    mapping = ('[curves]\nformat = "csv"\ntime_column = "t_ms"\ntime_unit = "ms"\n[curves.channels]\n'
               'p = { channel = "injection_pressure_bar", unit = "MPa" }\nq = "injection_flow_cm3_s"\n')
    f, mp = _files(tmp_path, csv_text, mapping, name="c.csv")
    out = ingest_curves([f], mp, tmp_path / "run")
    r = pq.read_table(out / "curves.parquet").to_pylist()[0]
    assert r["sample_interval_s"] == 0.01 and r["n_samples"] == 5 and r["cycle_id"] == 1
    assert r["injection_pressure_bar"] == pytest.approx([0, 100, 200, 300, 400])
    m = json.loads((out / "metrics.json").read_text())
    assert m["curves"]["files_resampled"] == [str(f)]


def test_decreasing_curve_time_is_an_error(tmp_path):
    f, mp = _files(tmp_path, CHART.replace("0.0600;30", "0.0200;30"))
    with pytest.raises(IngestError, match=r"line 15, column 'time': time 0.02 s does not increase"):
        ingest_curves([f], mp, tmp_path / "run")


def test_skip_bad_curve_files(tmp_path):
    good, mp = _files(tmp_path)
    bad = tmp_path / "x_cycle_00043.txt"
    bad.write_text(CHART.replace("0.0600;30;", "0.0600;3o;"), encoding="utf-8")
    out = ingest_curves([good, bad], mp, tmp_path / "run", skip_bad_rows=True)
    assert pq.read_table(out / "curves.parquet").column("cycle_id").to_pylist() == [42]
    assert "x_cycle_00043.txt" in (out / "dropped_rows.csv").read_text()


def test_log_with_curve_column(tmp_path):
    (tmp_path / "curves").mkdir()
    (tmp_path / "curves" / "x_cycle_00002.txt").write_text(CHART, encoding="utf-8")
    log = "id,ts,file\n1,1717570296,Missing\n2,1717570333,x_cycle_00002.txt\n3,1717570370,x_cycle_00003.txt\n"
    (tmp_path / "log.csv").write_text(log)
    mapping = ('[id]\ncolumn = "id"\n[time]\ncolumn = "ts"\nformat = "epoch_s"\n'
               + MAPPING.replace("[curves]", '[curves]\nfile_column = "file"\ndirectory = "curves"\nmissing = ["Missing"]'))
    (tmp_path / "map.toml").write_text(mapping)
    out = ingest_molding(tmp_path / "log.csv", tmp_path / "map.toml", tmp_path / "run")
    c = pq.read_table(out / "curves.parquet").to_pylist()
    assert [r["cycle_id"] for r in c] == [2] and c[0]["machine_id"] == "m7"
    m = json.loads((out / "metrics.json").read_text())["curves"]
    assert (m["rows_written"], m["rows_without_file"], m["files_missing"]) == (1, 1, 1)


def test_all_curve_files_bad_writes_nothing_even_when_skipping(tmp_path):
    f, mp = _files(tmp_path, CHART.replace("0.0600;30;", "0.0600;3o;"))
    with pytest.raises(IngestError, match="none of the 1 curve files could be read"):
        ingest_curves([f], mp, tmp_path / "run", skip_bad_rows=True)
    assert_nothing_written(tmp_path / "run")
