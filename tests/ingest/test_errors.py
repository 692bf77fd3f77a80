"""Every kind of bad input stops ingestion with a message naming file, column and row, and writes nothing."""
from __future__ import annotations

import pytest

from tests.ingest.helpers import LOG, MAPPING, assert_nothing_written, write
from twin.ingest import IngestError, MappingError, ingest_molding


def _fails(tmp_path, log=LOG, mapping=MAPPING, match=None, exc=IngestError):
    src, mp = write(tmp_path, log, mapping)
    out = tmp_path / "run"
    with pytest.raises(exc) as info:
        ingest_molding(src, mp, out)
    assert_nothing_written(out)
    message = str(info.value)
    if match:
        for part in match:
            assert part in message, f"{part!r} not in: {message}"
    return message


def test_the_synthetic_log_itself_is_fine(tmp_path):
    src, mp = write(tmp_path)
    out = ingest_molding(src, mp, tmp_path / "run")
    assert (out / "cycles.parquet").is_file()


def test_missing_mapped_column(tmp_path):
    msg = _fails(tmp_path, mapping=MAPPING.replace('column = "p"', 'column = "P_max"'))
    assert "log.csv, line 1, column 'P_max'" in msg
    assert "fields.max_injection_pressure_bar.column" in msg and "not found in the header" in msg


def test_missing_column_suggests_a_close_header_name(tmp_path):
    msg = _fails(tmp_path, mapping=MAPPING.replace('column = "cycle"', 'column = "cycel"'))
    assert "did you mean 'cycle'?" in msg


def test_unparsable_number(tmp_path):
    log = LOG.replace("30,4;", "30,4x;")
    _fails(tmp_path, log, match=["log.csv", "line 3 (data row 2)", "column 'cycle'", "'30,4x'", "as a number"])


def test_number_with_the_wrong_decimal_mark(tmp_path):
    log = LOG.replace("60,2", "60.2")
    _fails(tmp_path, log, match=["line 3", "column 'p'", "'60.2'", "decimal mark ','"])


def test_unknown_unit_in_the_mapping(tmp_path):
    msg = _fails(tmp_path, mapping=MAPPING.replace('unit = "MPa"', 'unit = "Mpa"'), exc=MappingError)
    assert "map.toml" in msg and "fields.max_injection_pressure_bar.unit" in msg
    assert "unknown unit 'Mpa'" in msg and "did you mean 'MPa'?" in msg


def test_duplicate_cycle_id_names_both_rows(tmp_path):
    log = LOG.replace("3;2024-01-01 00:01:01", "1;2024-01-01 00:01:01")
    _fails(tmp_path, log, match=["log.csv, line 4 (data row 3), column 'id'", "duplicate cycle_id 1",
                                 "already at line 2 (data row 1)"])


def test_decreasing_timestamp_names_the_row_and_both_times(tmp_path):
    log = LOG.replace("2024-01-01 00:01:01", "2023-12-31 23:59:59")
    _fails(tmp_path, log, match=["log.csv, line 4 (data row 3), column 'ts'", "2023-12-31 23:59:59",
                                 "is earlier than 2024-01-01 00:00:31", "line 3"])


def test_unparsable_timestamp(tmp_path):
    log = LOG.replace("2024-01-01 00:00:31", "01/01/2024 00:00:31")
    _fails(tmp_path, log, match=["line 3 (data row 2), column 'ts'", "'01/01/2024 00:00:31'", "%Y-%m-%d %H:%M:%S"])


def test_missing_timestamp_with_fill_error(tmp_path):
    log = LOG.replace("2024-01-01 00:00:31", "")
    _fails(tmp_path, log, match=["line 3 (data row 2), column 'ts'", "no timestamp", "interpolate"])


@pytest.mark.parametrize("content", [b"", b"\n\n  \n"])
def test_empty_file(tmp_path, content):
    _fails(tmp_path, content, match=["log.csv", "empty"])


def test_header_without_rows(tmp_path):
    _fails(tmp_path, "id;ts;cycle;p;reason\n", match=["log.csv, line 1", "no data rows"])


def test_truncated_last_line(tmp_path):
    log = LOG.rstrip("\n")[: -len(";60,0;")]  # the file stops in the middle of the last row
    _fails(tmp_path, log, match=["log.csv, line 4 (data row 3), column 'p'", "truncated", "3 of the header's 5 fields"])


def test_row_with_the_wrong_number_of_fields(tmp_path):
    log = LOG.replace("2;2024-01-01 00:00:31;30,4;60,2;flash", "2;2024-01-01 00:00:31;30,4;60,2;flash;extra")
    _fails(tmp_path, log, match=["log.csv, line 3 (data row 2), column '(extra field 6)'", "has 6 fields",
                                 "header (line 1) has 5"])


def test_wrong_encoding_names_encoding_offset_and_line(tmp_path):
    log = LOG.replace("flash", "Gratbildung \u00e4").encode("cp1252")
    mapping = MAPPING.replace('"flash" = "flash"', '"Gratbildung \u00e4" = "flash"')
    offset = log.index(b"\xe4")
    _fails(tmp_path, log, mapping, match=["log.csv", "cannot decode as 'utf-8'", f"byte offset {offset}", "(line 3, column 'reason')",
                                          "bytes e4", "[source] encoding"])


def test_the_right_encoding_reads_the_same_file(tmp_path):
    log = LOG.replace("flash", "Gratbildung \u00e4").encode("cp1252")
    mapping = MAPPING.replace('"flash" = "flash"', '"Gratbildung \u00e4" = "flash"').replace(
        'decimal = ","', 'decimal = ","\nencoding = "cp1252"')
    src, mp = write(tmp_path, log, mapping)
    ingest_molding(src, mp, tmp_path / "run")


def test_unmapped_reason_is_a_row_error(tmp_path):
    log = LOG.replace(";flash", ";weird")
    _fails(tmp_path, log, match=["line 3 (data row 2), column 'reason'", "'weird'", "label.reasons"])


def test_value_outside_valid_range(tmp_path):
    mapping = MAPPING.replace('column = "cycle"', 'column = "cycle"\nvalid = [30.45, 40]')
    _fails(tmp_path, mapping=mapping, match=["line 3 (data row 2), column 'cycle'", "outside the valid range"])


def test_first_bad_row_in_file_order_is_reported_with_a_count(tmp_path):
    log = LOG.replace("60,0", "x").replace("30,4", "y")
    msg = _fails(tmp_path, log)
    assert msg.startswith(f"{tmp_path / 'log.csv'}, line 3")
    assert "1 more bad row" in msg and "--skip-bad-rows" in msg


def test_missing_source_file(tmp_path):
    _, mp = write(tmp_path)
    out = tmp_path / "run"
    with pytest.raises(IngestError, match="nope.csv: log file not found"):
        ingest_molding(tmp_path / "nope.csv", mp, out)
    assert_nothing_written(out)


def test_existing_output_folder_is_refused_before_reading(tmp_path):
    from twin.runfolder import RunFolderExistsError

    src, mp = write(tmp_path)
    out = tmp_path / "run"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    with pytest.raises(RunFolderExistsError):
        ingest_molding(src, mp, out)
    assert (out / "keep.txt").read_text() == "x"
    ingest_molding(src, mp, out, overwrite=True)
    assert not (out / "keep.txt").exists() and (out / "cycles.parquet").exists()
