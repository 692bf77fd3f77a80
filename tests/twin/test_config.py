"""Config spec, loading, validation, hashing and TOML round trip."""
from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path

import pytest

from physics.molding.materials import MATERIALS
from twin.config import (
    ConfigError,
    apply_changes,
    config_hash,
    dump_toml,
    get,
    load_config,
    load_defaults,
    parse_override,
)
from twin.config_field import Field, Issue, check_value
from twin.config_spec import SPEC, validate_cross
from twin.schema import SETPOINT_FIELDS


def _leaf_keys(tree: dict, prefix: str = "") -> set[str]:
    keys = set()
    for name, value in tree.items():
        key = prefix + name
        if key in SPEC:  # a leaf, even if its value is a table or array
            keys.add(key)
        elif isinstance(value, dict):
            keys |= _leaf_keys(value, key + ".")
        else:
            keys.add(key)
    return keys


def _errors(tmp_path: Path, text: str | None = None, overrides: list[str] | None = None) -> list[str]:
    path = None
    if text is not None:
        path = tmp_path / "user.toml"
        path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(path, overrides or [])
    return info.value.errors


# -- the spec --------------------------------------------------------------

def test_spec_covers_exactly_the_default_keys():
    text = resources.files("twin").joinpath("defaults/molding.toml").read_text()
    assert _leaf_keys(tomllib.loads(text)) == set(SPEC)


def test_every_setpoint_column_is_a_config_key():
    assert {f"setpoints.{n}" for n in SETPOINT_FIELDS} == {k for k in SPEC if k.startswith("setpoints.")}


def test_every_field_has_unit_doc_and_consistent_range():
    for key, field in SPEC.items():
        assert field.unit and field.doc, key
        if field.min is not None and field.max is not None:
            assert field.min < field.max, key
        if field.type is str and key == "material.grade":
            assert set(field.choices) == set(MATERIALS)


def test_defaults_are_valid_and_fully_resolved():
    cfg = load_config(None, [])
    assert _leaf_keys(cfg) == set(SPEC)
    assert validate_cross(cfg) == []
    assert isinstance(get(cfg, "setpoints.melt_temp_C"), float)


def test_allowed_text_shows_open_and_closed_bounds():
    assert SPEC["setpoints.hold_time_s"].allowed() == "[0, 60] s"
    assert SPEC["setpoints.hold_pressure_bar"].allowed() == "(0, 3000] bar"
    assert Field(float, "h", "x", min=0.0).allowed() == ">= 0 h"
    assert str(Issue("a.b", "bad", "[0, 1] s", "in f.toml")) == "a.b: bad (allowed: [0, 1] s) [in f.toml]"


@pytest.mark.parametrize(("field", "value", "ok"), [
    (Field(float, "s", "t", min=0.0), 3, True),          # int accepted for float
    (Field(float, "s", "t", min=0.0), True, False),      # bool is not a number
    (Field(float, "s", "t", min=0.0), "3", False),       # string is not a number
    (Field(float, "s", "t"), float("nan"), False),
    (Field(int, "-", "n", min=1), 2.0, False),           # a count is never fractional
    (Field(int, "-", "n", min=1), False, False),
    (Field(bool, "-", "b"), 1, False),
    (Field(float, "bar", "p", min=0.0, min_open=True), 0.0, False),
    (Field(float, "bar", "p", min=0.0, min_open=True), 1e-9, True),
])
def test_check_value_types_and_ranges(field, value, ok):
    _, issue = check_value("k", field, value)
    assert (issue is None) == ok


def test_int_for_float_is_normalized_so_the_hash_does_not_depend_on_spelling():
    a = load_config(None, ["setpoints.mold_temp_C=30"])
    b = load_config(None, ["setpoints.mold_temp_C=30.0"])
    assert a["setpoints"]["mold_temp_C"] == 30.0 and isinstance(a["setpoints"]["mold_temp_C"], float)
    assert config_hash(a) == config_hash(b)


# -- layering ---------------------------------------------------------------

def test_user_file_is_deep_merged_and_overrides_win(tmp_path):
    path = tmp_path / "user.toml"
    path.write_text("[setpoints]\nmold_temp_C = 50.0\n[material]\ngrade = \"ABS_F332\"\n")
    cfg = load_config(path, ["setpoints.mold_temp_C=55", "material.glass_fiber_pct=10"])
    defaults = load_config(None, [])
    assert cfg["setpoints"]["mold_temp_C"] == 55.0
    assert cfg["material"] == {"grade": "ABS_F332", "glass_fiber_pct": 10.0, "viscosity_factor": 1.0,
                                  "specific_volume_factor": 1.0, "thermal_expansion_factor": 1.0}
    assert cfg["setpoints"]["melt_temp_C"] == defaults["setpoints"]["melt_temp_C"]
    assert cfg["mold"] == defaults["mold"]


@pytest.mark.parametrize(("text", "expected"), [
    ("a.b=30", ("a.b", 30)),
    ("a.b = 30.5", ("a.b", 30.5)),
    ("a.b=true", ("a.b", True)),
    ("a.b=ABS_F332", ("a.b", "ABS_F332")),        # bare word -> string
    ('a.b="x y"', ("a.b", "x y")),
    ("a.b=", ("a.b", "")),
    ("a.b=[1, 2]", ("a.b", [1, 2])),
    ("a.b=1\nc = 2", ("a.b", "1\nc = 2")),         # no smuggling of extra keys
])
def test_parse_override(text, expected):
    assert parse_override(text) == expected


@pytest.mark.parametrize("text", ["a.b", "=3", ""])
def test_parse_override_rejects_malformed(text):
    with pytest.raises(ValueError, match="KEY=VALUE"):
        parse_override(text)


def test_schedule_events_are_validated_normalized_and_sorted(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(
        '[[schedule.events]]\nat_h = 3\nkind = "maintenance"\nduration_min = 30\n'
        '[[schedule.events]]\nat_h = 1\nkind = "setpoint"\nset = { "setpoints.mold_temp_C" = 30 }\n'
        '[[schedule.events]]\nat_h = 2.5\nkind = "lot"\n'
    )
    events = load_config(path, [])["schedule"]["events"]
    assert [e["at_h"] for e in events] == [1.0, 2.5, 3.0]
    assert events[0]["set"] == {"setpoints.mold_temp_C": 30.0}
    assert isinstance(events[0]["set"]["setpoints.mold_temp_C"], float)


# -- errors -----------------------------------------------------------------

def test_all_errors_are_collected_at_once(tmp_path):
    errors = _errors(tmp_path, "[setpoints]\nhold_time_s = -1\nmold_temp_C = \"hot\"\n[cell]\nmachnes = 2\n",
                     ["curves.sample_interval_ms=0", "oops"])
    assert len(errors) == 5
    joined = "\n".join(errors)
    for part in ("setpoints.hold_time_s", "setpoints.mold_temp_C", "cell.machnes", "did you mean 'cell.machines'",
                 "curves.sample_interval_ms", "KEY=VALUE"):
        assert part in joined


def test_error_text_has_key_problem_range_unit_and_file(tmp_path):
    [error] = _errors(tmp_path, "[setpoints]\nhold_time_s = 75.0\n")
    assert error.startswith("setpoints.hold_time_s: 75 s is above the maximum (allowed: [0, 60] s)")
    assert "user.toml" in error


def test_config_error_str_names_file_and_lists_each_problem(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[setpoints]\nhold_time_s = -1\nclamp_force_kN = 0\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, [])
    text = str(info.value)
    assert str(path) in text.splitlines()[0] and "2 problems" in text
    assert sum(line.startswith("  - ") for line in text.splitlines()) == 2


def test_toml_syntax_error_names_file_and_line(tmp_path):
    [error] = _errors(tmp_path, "[setpoints]\nmelt_temp_C = 230.0\nmold_temp_C = = 3\n")
    assert "user.toml" in error and "line 3" in error


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.toml", [])


def test_section_given_a_value_and_key_given_a_section(tmp_path):
    errors = _errors(tmp_path, "setpoints = 3\n", ["mold=4"])
    assert any(e.startswith("setpoints: expected a table") for e in errors)
    assert any(e.startswith("mold: is a section") for e in errors)


def test_range_error_is_not_repeated_by_the_cross_check(tmp_path):
    errors = _errors(tmp_path, overrides=["setpoints.melt_temp_C=100"])
    assert len(errors) == 1 and "below the minimum" in errors[0]


@pytest.mark.parametrize(("overrides", "key", "fragment"), [
    (["material.grade=ABS_F332", "setpoints.melt_temp_C=154.85"], "setpoints.melt_temp_C", "no-flow"),
    (["material.grade=ABS_F332", "setpoints.melt_temp_C=150"], "setpoints.melt_temp_C", "(154.85, 350] degC"),
    (["material.grade=PP_579S", "setpoints.mold_temp_C=95"], "setpoints.mold_temp_C", "[5, 90) degC for PP_579S"),
    (["setpoints.switchover_volume_cm3=60", "setpoints.dosing_volume_cm3=60"],
     "setpoints.switchover_volume_cm3", "[0, 60) cm3"),
    (["setpoints.hold_pressure_bar=2500", "machine.max_injection_pressure_bar=2200"],
     "setpoints.hold_pressure_bar", "machine.max_injection_pressure_bar"),
    (["setpoints.injection_pressure_limit_bar=2300", "machine.max_injection_pressure_bar=2200"],
     "setpoints.injection_pressure_limit_bar", "(0, 2200] bar"),
    (["setpoints.clamp_force_kN=1600", "machine.max_clamp_force_kN=1500"], "setpoints.clamp_force_kN", "(0, 1500] kN"),
    (["mold.gate_thickness_mm=3", "mold.wall_thickness_mm=2.5"], "mold.gate_thickness_mm", "(0, 2.5] mm"),
])
def test_cross_field_rules(tmp_path, overrides, key, fragment):
    [error] = _errors(tmp_path, overrides=overrides)
    assert error.startswith(key + ":") and fragment in error


def test_validate_cross_skips_checks_with_invalid_inputs():
    cfg = load_defaults()
    cfg["setpoints"]["dosing_volume_cm3"] = "lots"
    cfg["material"]["grade"] = "NOPE"
    assert validate_cross(cfg) == []


@pytest.mark.parametrize(("event", "fragment"), [
    ('at_h = -1\nkind = "lot"', "schedule.events[0].at_h: -1 h is below the minimum"),
    ('at_h = "soon"\nkind = "lot"', "schedule.events[0].at_h: expected a number"),
    ('kind = "lot"', "schedule.events[0].at_h: missing"),
    ('at_h = 1\nkind = "party"', "schedule.events[0].kind: 'party' is not a known choice"),
    ('at_h = 1\nkind = "setpoint"', "schedule.events[0].set: missing"),
    ('at_h = 1\nkind = "setpoint"\nset = { "setpoints.mold_tmp_C" = 30 }',
     "did you mean 'setpoints.mold_temp_C'"),
    ('at_h = 1\nkind = "setpoint"\nset = { "setpoints.hold_time_s" = 99 }',
     "schedule.events[0].set.setpoints.hold_time_s: 99 s is above the maximum (allowed: [0, 60] s)"),
    ('at_h = 1\nkind = "setpoint"\nset = { "run.seed" = 3 }', "cannot change during a run"),
    ('at_h = 1\nkind = "lot"\nduration_min = 3', "schedule.events[0].duration_min: unknown key for kind 'lot'"),
    ('at_h = 1\nkind = "setpoint"\nset = { "material.grade" = "PP_579S", "setpoints.mold_temp_C" = 95.0 }',
     "leaves an inconsistent config: setpoints.mold_temp_C"),
])
def test_schedule_event_errors(tmp_path, event, fragment):
    errors = _errors(tmp_path, f"[[schedule.events]]\n{event}\n")
    assert any(fragment in e for e in errors), errors


def test_later_event_conflict_is_found_after_earlier_events(tmp_path):
    text = (
        "[setpoints]\nswitchover_volume_cm3 = 20.0\ndosing_volume_cm3 = 60.0\n"
        '[[schedule.events]]\nat_h = 2\nkind = "setpoint"\nset = { "setpoints.switchover_volume_cm3" = 30.0 }\n'
        '[[schedule.events]]\nat_h = 1\nkind = "setpoint"\nset = { "setpoints.dosing_volume_cm3" = 25.0 }\n'
    )
    [error] = _errors(tmp_path, text)
    assert error.startswith("schedule.events[0]: at_h = 2 leaves an inconsistent config")


# -- helpers ----------------------------------------------------------------

def test_toml_round_trip(tmp_path):
    cfg = load_config(None, ['schedule.events=[{at_h = 1, kind = "setpoint", set = {"setpoints.mold_temp_C" = 30}}]',
                             "run.run_id=abc"])
    path = tmp_path / "dump.toml"
    path.write_text(dump_toml(cfg))
    assert load_config(path, []) == cfg


def test_config_hash_is_stable_and_ignores_run_identity():
    a = load_config(None, [])
    h = config_hash(a)
    assert len(h) == 16 and int(h, 16) >= 0
    assert config_hash(load_config(None, ["run.seed=7", "run.run_id=r7"])) == h
    assert config_hash(load_config(None, ["setpoints.mold_temp_C=41"])) != h
    assert a == load_config(None, [])  # hashing did not mutate the config


def test_get_and_apply_changes():
    cfg = load_config(None, [])
    assert get(cfg, "run.seed") == cfg["run"]["seed"]
    with pytest.raises(KeyError, match="setpoints.nope"):
        get(cfg, "setpoints.nope")
    changed = apply_changes(cfg, {"setpoints.mold_temp_C": 30.0})
    assert changed["setpoints"]["mold_temp_C"] == 30.0 and cfg["setpoints"]["mold_temp_C"] != 30.0
    with pytest.raises(KeyError):
        apply_changes(cfg, {"setpoints.nope": 1.0})


def test_start_time_accepts_toml_datetime_and_requires_offset(tmp_path):
    path = tmp_path / "t.toml"
    path.write_text("[run]\nstart_time = 2024-06-05T06:00:00Z\n")
    assert load_config(path, [])["run"]["start_time"] == "2024-06-05T06:00:00+00:00"
    [error] = _errors(tmp_path, '[run]\nstart_time = "2024-06-05T06:00:00"\n')
    assert error.startswith("run.start_time:") and "UTC offset" in error


def test_defaults_out_of_step_with_the_spec_is_an_error_not_a_silent_drop(monkeypatch):
    import twin.config as config_module

    defaults = load_defaults()
    defaults["mold"]["runner_colour"] = "red"
    del defaults["cell"]["mtbf_h"]
    monkeypatch.setattr(config_module, "load_defaults", lambda kind="molding": defaults)
    with pytest.raises(ConfigError) as info:
        load_config(None, [])
    text = str(info.value)
    assert "mold.runner_colour: unknown key" in text and "embedded defaults" in text
    assert "cell.mtbf_h: has no default" in text
