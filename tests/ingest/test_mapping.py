"""Mapping files are validated before any data is read, every problem named by its key."""
from __future__ import annotations

from pathlib import Path

import pytest

from twin.ingest import MappingError, load_mapping

MAPPINGS = Path(__file__).resolve().parents[2] / "mappings"

BASE = '''
[id]
column = "id"
[time]
column = "ts"
format = "iso"
'''


def _problems(tmp_path, text: str, purpose: str = "molding") -> list[str]:
    path = tmp_path / "m.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(MappingError) as info:
        load_mapping(path, purpose)
    assert str(info.value).startswith(f"invalid mapping ({path}):")
    return info.value.problems


@pytest.mark.parametrize("name", ["kassel_cpc_static.toml", "kamp.toml", "examples/spritzguss_beispiel.toml"])
def test_shipped_mappings_are_valid(name):
    m = load_mapping(MAPPINGS / name)
    assert m.id is not None and m.time is not None and m.fields


def test_shipped_curve_mappings_are_valid():
    for name in ("kassel_cpc_upper_curves.toml", "kassel_cpc_static.toml"):
        assert load_mapping(MAPPINGS / name, "curves").curves is not None


def test_unknown_keys_get_a_did_you_mean(tmp_path):
    p = _problems(tmp_path, BASE + '[source]\nseperator = ";"\n[fields.cycle_time_s]\ncolum = "c"\n')
    assert any(x.startswith("source.seperator: unknown key (did you mean 'separator'?)") for x in p)
    assert any(x.startswith("fields.cycle_time_s.colum: unknown key (did you mean 'column'?)") for x in p)


def test_wrong_types(tmp_path):
    p = _problems(tmp_path, BASE + '[source]\nheader_row = "1"\n[fields.cycle_time_s]\ncolumn = "c"\nscale = "2"\n')
    assert "source.header_row: expected an integer, got string '1'" in p
    assert "fields.cycle_time_s.scale: expected a number, got string '2'" in p


def test_unknown_and_reserved_targets(tmp_path):
    p = _problems(tmp_path, BASE + '[fields]\ncushon_mm = "c"\nhidden_melt_temp_C = "x"\ngood = "g"\n')
    assert any("fields.cushon_mm: 'cushon_mm' is not a column of the cycles schema (did you mean 'cushion_mm'?)"
               in x for x in p)
    assert any(x.startswith("fields.hidden_melt_temp_C:") and "null for real logs" in x for x in p)
    assert any(x.startswith("fields.good:") and "[label]" in x for x in p)


def test_unknown_unit_and_incompatible_unit(tmp_path):
    p = _problems(tmp_path, BASE + '[fields.hold_pressure_bar]\ncolumn = "p"\nunit = "barr"\n'
                                   '[fields.cycle_time_s]\ncolumn = "c"\nunit = "bar"\n')
    assert any(x.startswith("fields.hold_pressure_bar.unit: unknown unit 'barr' (did you mean 'bar'?)") for x in p)
    assert any(x.startswith("fields.cycle_time_s.unit: 'bar' is a pressure unit and cannot be converted to s")
               for x in p)


def test_volume_to_position_needs_the_screw_diameter(tmp_path):
    text = BASE + '[fields.cushion_mm]\ncolumn = "V"\nunit = "cm3"\n'
    p = _problems(tmp_path, text)
    assert any(x.startswith("fields.cushion_mm.unit:") and "[machine] screw_diameter_mm" in x for x in p)
    path = tmp_path / "ok.toml"
    path.write_text(text + "[machine]\nscrew_diameter_mm = 30\n")
    assert load_mapping(path).fields["cushion_mm"].unit == "cm3"


def test_one_source_per_field_and_required_tables(tmp_path):
    p = _problems(tmp_path, '[fields.cycle_time_s]\ncolumn = "a"\nconstant = 3\n')
    assert "id: missing table [id] (needed to ingest molding)" in p
    assert "time: missing table [time] (needed to ingest molding)" in p
    assert any(x.startswith("fields.cycle_time_s: give exactly one of column, columns, constant, derive") for x in p)


def test_time_label_id_and_curves_checks(tmp_path):
    p = _problems(tmp_path, '''
[id]
column = "id"
row_number = true
[time]
column = "ts"
timezone = "Mars/Olympus"
fill = "linear"
[label]
column = "ok"
[curves]
file_column = "f"
[curves.channels]
p = "injection_presure_bar"
''')
    assert 'id: give either column = "..." (an integer column) or row_number = true' in p
    assert any(x.startswith("time.format: missing") for x in p)
    assert any(x.startswith("time.timezone: unknown time zone 'Mars/Olympus'") for x in p)
    assert any(x.startswith("time.fill: 'linear' is not allowed") for x in p)
    assert "label: with column = ..., list good_values and/or bad_values" in p
    assert any(x.startswith("curves.channels.p.channel: 'injection_presure_bar' is not a curve channel (did you mean "
                            "'injection_pressure_bar'?)") for x in p)


def test_bad_regex_and_toml_syntax(tmp_path):
    p = _problems(tmp_path, BASE + '[fields.mold_temp_C]\nderive = { column = "c", pattern = "(", group = 1 }\n')
    assert any(x.startswith("fields.mold_temp_C.derive.pattern: not a valid regular expression") for x in p)
    p = _problems(tmp_path, "[id\ncolumn = 1")
    assert p[0].startswith("TOML syntax error")


def test_curves_purpose_needs_only_curves(tmp_path):
    p = _problems(tmp_path, "[source]\nmachine_id = \"m\"\n", purpose="curves")
    assert p == ["curves: missing table [curves] (needed to ingest curves)"]
