"""--skip-bad-rows drops row-level problems and reports them; file-level problems still stop."""
from __future__ import annotations

import csv
import json

import pyarrow.parquet as pq
import pytest

from tests.ingest.helpers import LOG, MAPPING, assert_nothing_written, write
from twin.ingest import IngestError, ingest_molding

BAD_LOG = (
    "id;ts;cycle;p;reason\n"
    "1;2024-01-01 00:00:00;30,5;60,1;\n"
    "2;2024-01-01 00:00:31;abc;60,2;\n"          # unparsable number
    "3;2024-01-01 00:01:01;30,6;60,0;x;y\n"      # wrong field count
    "1;2024-01-01 00:01:31;30,6;60,0;\n"         # duplicate id
    "5;2023-12-31 23:59:59;30,6;60,0;\n"         # decreasing timestamp
    "6;not a time;30,6;60,0;\n"                  # bad timestamp
    "7;2024-01-01 00:02:31;30,5;60,1;\n"
    "8;2024-01-01 00:03:01;30,5"                 # truncated last line
)


@pytest.fixture
def skipped(tmp_path):
    src, mp = write(tmp_path, BAD_LOG)
    return ingest_molding(src, mp, tmp_path / "run", skip_bad_rows=True)


def test_without_skip_the_first_bad_row_stops(tmp_path):
    src, mp = write(tmp_path, BAD_LOG)
    with pytest.raises(IngestError, match=r"line 3 \(data row 2\), column 'cycle'.*5 more bad rows"):
        ingest_molding(src, mp, tmp_path / "run")
    assert_nothing_written(tmp_path / "run")


def test_bad_rows_are_dropped_and_listed(skipped):
    t = pq.read_table(skipped / "cycles.parquet")
    assert t.column("cycle_id").to_pylist() == [1, 7]
    with open(skipped / "dropped_rows.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["line"], r["column"], r["kind"]) for r in rows] == [
        ("3", "cycle", "number"),
        ("4", "(extra field 6)", "field_count"),
        ("5", "id", "duplicate_id"),
        ("6", "ts", "time_order"),
        ("7", "ts", "timestamp"),
        ("9", "p", "truncated"),
    ]
    assert rows[0]["value"] == "abc" and "as a number" in rows[0]["reason"]
    assert "already at line 2" in rows[2]["reason"]


def test_metrics_count_the_dropped_rows(skipped):
    m = json.loads((skipped / "metrics.json").read_text())
    assert (m["rows_read"], m["rows_written"], m["rows_dropped"]) == (8, 2, 6)
    assert m["dropped_by_kind"] == {"duplicate_id": 1, "field_count": 1, "number": 1, "time_order": 1,
                                    "timestamp": 1, "truncated": 1}


def test_no_dropped_rows_file_when_nothing_is_dropped(tmp_path):
    src, mp = write(tmp_path)
    out = ingest_molding(src, mp, tmp_path / "run", skip_bad_rows=True)
    assert not (out / "dropped_rows.csv").exists()
    assert json.loads((out / "metrics.json").read_text())["rows_dropped"] == 0


@pytest.mark.parametrize("log, mapping, match", [
    (LOG, MAPPING.replace('column = "p"', 'column = "nope"'), "column 'nope'"),
    (b"", MAPPING, "empty"),
    (LOG.replace("flash", "\u00e4").encode("cp1252"), MAPPING, "cannot decode"),
])
def test_file_level_errors_still_stop(tmp_path, log, mapping, match):
    src, mp = write(tmp_path, log, mapping)
    with pytest.raises(IngestError, match=match):
        ingest_molding(src, mp, tmp_path / "run", skip_bad_rows=True)
    assert_nothing_written(tmp_path / "run")


def test_unknown_unit_still_stops(tmp_path):
    src, mp = write(tmp_path, LOG, MAPPING.replace('unit = "MPa"', 'unit = "furlong"'))
    with pytest.raises(IngestError, match="unknown unit 'furlong'"):
        ingest_molding(src, mp, tmp_path / "run", skip_bad_rows=True)
    assert_nothing_written(tmp_path / "run")
