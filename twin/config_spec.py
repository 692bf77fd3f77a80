"""Declarative spec of every key of the molding configuration, and cross-field checks.

:data:`SPEC` maps each dotted key of ``twin/defaults/molding.toml`` to a
:class:`~twin.config_field.Field` (type, unit, inclusive physical range,
one-line doc). A key missing here is an unknown key to the loader, so a test
asserts that the defaults and the spec cover exactly the same keys.

The ranges are *physical plausibility* limits of an injection-molding cell
(a few-hundred-tonne hydraulic machine and a strip/plate cavity), wide enough
for what-if studies and narrow enough to catch a typo (``melt_temp_C = 23``)
or a unit slip (``hold_time_s = 4000`` meant as ms). Grade-specific limits
(no-flow and ejection temperature) and limits that depend on another key
(hold pressure vs machine maximum) are cross-field checks in
:func:`validate_cross`.

Schedule events (``[[schedule.events]]``) are tables with ``at_h`` (hour of
simulated time, >= 0) and ``kind``; the keys each kind takes are in
:data:`EVENT_FIELDS`. A ``setpoint`` event carries ``set = { "dotted.key" =
value, ... }``; each value is checked by the same machinery as the config
file, and the config as it stands after each event (events applied in
``at_h`` order) must still pass the cross-field checks.
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Any

from physics.molding.materials import MATERIALS
from twin.config_field import Field, Issue, check_value, finite_number, lookup, suggest_key

__all__ = [
    "Field",
    "Issue",
    "SPEC",
    "SECTIONS",
    "EVENT_KINDS",
    "EVENT_FIELDS",
    "NOT_SCHEDULABLE_PREFIXES",
    "MELT_MARGIN_ABOVE_NO_FLOW_K",
    "validate_cross",
    "normalize_events",
    "suggest_key",
]

#: The melt must be this much hotter than the grade's no-flow temperature.
MELT_MARGIN_ABOVE_NO_FLOW_K = 20.0

_POS = {"min": 0.0, "min_open": True}  # > 0
_NONNEG = {"min": 0.0}  # >= 0
_PRESSURE = {"min": 0.0, "min_open": True, "max": 3000.0}  # (0, 3000] bar
_MACHINE_TIME = {"min": 0.0, "max": 60.0}  # [0, 60] s


def _iso8601_with_offset(value: str) -> str | None:
    try:
        t = dt.datetime.fromisoformat(value)
    except ValueError:
        return f"{value!r} is not an ISO 8601 date-time"
    if t.tzinfo is None:
        return f"{value!r} has no UTC offset"
    return None


_RUN_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def _run_id(value: str) -> str | None:
    if value == "" or _RUN_ID_RE.fullmatch(value):
        return None
    return f"{value!r} is not a valid run id"


SPEC: dict[str, Field] = {
    # [run]
    "run.seed": Field(int, "-", "root seed of the run's numpy SeedSequence", min=0, max=2**63 - 1),
    "run.start_time": Field(
        str, "ISO 8601", "wall-clock time of simulated t = 0",
        check=_iso8601_with_offset, check_doc="ISO 8601 date-time with UTC offset, e.g. 2024-06-05T06:00:00+00:00",
    ),
    "run.run_id": Field(
        str, "-", "run identifier; empty: derived from seed and config hash",
        check=_run_id, check_doc="empty, or 1-64 of A-Z a-z 0-9 . _ - (not starting with . _ -)",
    ),
    # [material]
    "material.grade": Field(str, "-", "polymer grade (physics/molding/materials.py)", choices=tuple(MATERIALS)),
    "material.viscosity_factor": Field(
        float, "-", "scales the grade's zero-shear viscosity (real compound against the catalogue grade)",
        min=0.05, max=20.0),
    "material.specific_volume_factor": Field(
        float, "-", "scales the grade's Tait zero-pressure volumes (real compound against the catalogue grade)",
        min=0.7, max=1.3),
    "material.thermal_expansion_factor": Field(
        float, "-", "scales the grade's Tait temperature slopes b2m, b2s (e.g. fibre-restrained thermal expansion)",
        min=0.3, max=2.0),
    "material.glass_fiber_pct": Field(float, "wt%", "glass-fibre mass fraction", min=0.0, max=60.0),
    # [setpoints]
    "setpoints.melt_temp_C": Field(float, "degC", "barrel / nozzle set temperature", min=150.0, max=350.0),
    "setpoints.mold_temp_C": Field(float, "degC", "coolant set temperature of both mold halves", min=5.0, max=150.0),
    "setpoints.injection_velocity_mm_s": Field(
        float, "mm/s", "screw advance speed in the velocity phase", max=500.0, **_POS),
    "setpoints.dosing_volume_cm3": Field(
        float, "cm3", "screw position after dosing, as swept volume", max=5000.0, **_POS),
    "setpoints.switchover_volume_cm3": Field(
        float, "cm3", "V/P switchover at this screw position (volume)", max=5000.0, **_NONNEG),
    "setpoints.injection_pressure_limit_bar": Field(
        float, "bar", "specific-pressure limit during the velocity phase", **_PRESSURE),
    "setpoints.hold_pressure_bar": Field(float, "bar", "specific holding pressure", **_PRESSURE),
    "setpoints.hold_time_s": Field(float, "s", "holding-pressure time", min=0.0, max=60.0),
    "setpoints.cooling_time_s": Field(float, "s", "residual cooling time after hold", min=0.0, max=600.0),
    "setpoints.back_pressure_bar": Field(float, "bar", "specific back pressure during dosing", min=0.0, max=400.0),
    "setpoints.screw_speed_rpm": Field(float, "rpm", "screw rotational speed during dosing", max=600.0, **_POS),
    "setpoints.clamp_force_kN": Field(float, "kN", "clamp force", max=50_000.0, **_POS),
    # [mold]
    "mold.cavity_length_mm": Field(float, "mm", "flow length from the gate", max=2000.0, **_POS),
    "mold.cavity_width_mm": Field(float, "mm", "cavity width", max=2000.0, **_POS),
    "mold.wall_thickness_mm": Field(float, "mm", "cavity wall thickness", max=20.0, **_POS),
    "mold.gate_thickness_mm": Field(float, "mm", "gate thickness", max=20.0, **_POS),
    "mold.gate_width_mm": Field(float, "mm", "gate width", max=200.0, **_POS),
    "mold.gate_length_mm": Field(float, "mm", "gate land length", max=50.0, **_POS),
    "mold.runner_diameter_mm": Field(
        float, "mm", "diameter of nozzle + sprue + runner taken as one round channel", max=30.0, **_POS),
    "mold.runner_length_mm": Field(float, "mm", "length of nozzle + sprue + runner", min=0.0, max=2000.0),
    "mold.runner_projected_area_cm2": Field(float, "cm2", "projected area of the runner", min=0.0, max=2000.0),
    "mold.cooling_conductance_W_K": Field(
        float, "W/K", "mold-to-coolant conductance UA: sets how far the cavity surface runs above the coolant",
        min=1.0, max=100000.0),
    "mold.half_temp_difference_K": Field(
        float, "K", "moving minus fixed mold-half surface temperature", min=-30.0, max=30.0),
    "mold.vent_count": Field(int, "-", "number of vents (0 = unvented)", min=0, max=200),
    "mold.vent_depth_mm": Field(float, "mm", "vent depth", max=0.2, **_POS),
    "mold.vent_width_mm": Field(float, "mm", "vent width", max=50.0, **_POS),
    "mold.last_fill_air_fraction": Field(
        float, "-", "trapped-air volume at end of fill / cavity volume", min=0.0, max=0.1),
    "mold.parting_gap_initial_mm": Field(
        float, "mm", "parting-line gap of a new mold at nominal clamp", min=0.0, max=0.5),
    "mold.wear_gap_per_kcycle_mm": Field(
        float, "mm", "parting-line gap growth from wear per 1000 cycles", min=0.0, max=0.1),
    "mold.vent_fouling_per_kcycle": Field(
        float, "-", "fraction of vent area lost per 1000 cycles", min=0.0, max=1.0),
    "mold.mold_stiffness_kN_per_mm": Field(
        float, "kN/mm", "parting-line opening stiffness against separating force", max=1e7, **_POS),
    # [machine]
    "machine.screw_diameter_mm": Field(float, "mm", "screw diameter", min=10.0, max=250.0),
    "machine.intensification_ratio": Field(float, "-", "specific / hydraulic pressure", min=1.0, max=30.0),
    "machine.max_injection_pressure_bar": Field(
        float, "bar", "machine's maximum specific injection pressure", **_PRESSURE),
    "machine.max_clamp_force_kN": Field(float, "kN", "machine's maximum clamp force", max=50_000.0, **_POS),
    "machine.hold_flow_limit_cm3_s": Field(
        float, "cm3/s", "max screw displacement flow under pressure control", max=5000.0, **_POS),
    "machine.close_time_s": Field(float, "s", "mold closing time", **_MACHINE_TIME),
    "machine.open_time_s": Field(float, "s", "mold opening time", **_MACHINE_TIME),
    "machine.switchover_delay_s": Field(float, "s", "velocity phase running past the switchover position "
                                        "(valve and controller response)", min=0.0, max=2.0),
    "machine.eject_time_s": Field(float, "s", "ejection time", **_MACHINE_TIME),
    "machine.post_hold_nozzle_pressure_bar": Field(
        float, "bar", "melt pressure at the nozzle after hold (0 = decompression at hold end)", min=0.0, max=3000.0),
    "machine.check_ring_leak_cm3_s_per_kbar": Field(
        float, "cm3/s per 1000 bar", "leak flow back over the check ring", min=0.0, max=50.0),
    "machine.screw_channel_depth_mm": Field(float, "mm", "metering-zone channel depth", max=20.0, **_POS),
    "machine.screw_flight_angle_deg": Field(float, "deg", "screw flight (helix) angle", min=5.0, max=45.0),
    "machine.metering_length_mm": Field(float, "mm", "metering-zone length", max=3000.0, **_POS),
    "machine.heater_zones": Field(int, "-", "number of barrel heater zones", min=1, max=12),
    # [variation]
    "variation.lot_viscosity_cv": Field(float, "-", "lot-to-lot viscosity coefficient of variation", min=0.0, max=1.0),
    "variation.lot_size_cycles": Field(int, "cycles", "a new lot every N cycles (0 = never)", min=0, max=10**9),
    "variation.melt_temp_sd_K": Field(float, "K", "shot-to-shot melt temperature noise (sd)", min=0.0, max=20.0),
    "variation.dosing_repeatability_cm3": Field(
        float, "cm3", "shot-to-shot dosing volume noise (sd)", min=0.0, max=10.0),
    "variation.velocity_sd_pct": Field(float, "%", "velocity-control noise (sd)", min=0.0, max=20.0),
    "variation.machine_move_sd_s": Field(float, "s", "sd of each mold move's duration (close, open, eject)",
                                         min=0.0, max=10.0),
    "variation.hold_pressure_sd_pct": Field(float, "%", "hold-pressure control repeatability (sd)", min=0.0, max=20.0),
    "variation.leak_cv": Field(float, "-", "shot-to-shot variation of check-ring leakage (cv)", min=0.0, max=2.0),
    "variation.ambient_mean_C": Field(float, "degC", "mean hall temperature", min=-20.0, max=50.0),
    "variation.ambient_daily_amplitude_K": Field(float, "K", "daily hall temperature amplitude", min=0.0, max=20.0),
    "variation.oil_steady_C": Field(float, "degC", "steady hydraulic oil temperature", min=10.0, max=80.0),
    "variation.oil_warmup_tau_min": Field(float, "min", "oil warm-up time constant", min=0.0, max=600.0),
    "variation.mold_warmup_deficit_K": Field(
        float, "K", "mold below set temperature right after a start / long stop", min=0.0, max=100.0),
    "variation.mold_warmup_tau_min": Field(float, "min", "mold warm-up time constant", min=0.0, max=600.0),
    "variation.coolant_flow_l_min": Field(float, "l/min", "coolant flow per circuit", max=200.0, **_POS),
    "variation.coolant_flow_sd_pct": Field(float, "%", "coolant flow noise (sd)", min=0.0, max=50.0),
    # [sensors]
    "sensors.noise_scale": Field(float, "-", "multiplies every channel's noise sd", min=0.0, max=100.0),
    "sensors.pressure_resolution_bar": Field(float, "bar", "pressure quantization step", min=0.0, max=100.0),
    "sensors.temperature_resolution_K": Field(float, "K", "temperature quantization step", min=0.0, max=10.0),
    "sensors.position_resolution_mm": Field(float, "mm", "position quantization step", min=0.0, max=10.0),
    "sensors.weight_resolution_g": Field(float, "g", "scale quantization step", min=0.0, max=10.0),
    "sensors.cushion_offset_mm": Field(
        float, "mm", "logged screw position = physical + offset (a machine's own zero point)", min=-5000.0, max=5000.0),
    "sensors.melt_temp_offset_K": Field(
        float, "K", "logged nozzle melt temperature = melt + offset (thermocouple immersion, calibration)",
        min=-100.0, max=100.0),
    "sensors.pressure_log_factor": Field(
        float, "-", "logged screw pressure = specific pressure x factor (1/intensification ratio for a hydraulic "
        "pressure log)", min=0.001, max=10.0),
    "sensors.weight_sd_g": Field(float, "g", "scale repeatability (sd)", min=0.0, max=10.0),
    # [defects]
    "defects.sink_shrinkage_pct": Field(
        float, "%", "volumetric shrinkage above which sink marks show", min=0.0, max=100.0),
    "defects.warpage_tolerance_mm": Field(float, "mm", "warpage above which the part is rejected", max=100.0, **_POS),
    "defects.burn_air_temp_C": Field(
        float, "degC", "adiabatic trapped-air temperature that scorches the melt", min=100.0, max=2000.0),
    "defects.short_fill_fraction": Field(
        float, "-", "filled fraction below which the part is a short shot", max=1.0, **_POS),
    "defects.flash_pressure_ref_bar": Field(float, "bar", "reference pressure of the critical flash gap", **_PRESSURE),
    # [cell]
    "cell.machines": Field(int, "-", "molding machines in the cell", min=1, max=1000),
    "cell.robot_takeout_s": Field(float, "s", "robot take-out time per part", min=0.0, max=600.0),
    "cell.robot_count": Field(int, "-", "take-out robots", min=1, max=1000),
    "cell.operator_count": Field(int, "-", "operators who repair breakdowns", min=1, max=1000),
    "cell.mtbf_h": Field(float, "h", "mean time between breakdowns (exponential), 0 = none", min=0.0, max=1e6),
    "cell.mttr_min": Field(float, "min", "mean time to repair (lognormal, cv 0.5)", min=0.0, max=1e5),
    "cell.restart_warmup": Field(bool, "-", "after a breakdown, the mold cools and warms up again"),
    # [curves]
    "curves.enabled": Field(bool, "-", "write per-cycle sensor curves"),
    "curves.sample_interval_ms": Field(float, "ms", "sample interval of the curves", max=1000.0, **_POS),
    "curves.texture_model": Field(str, "-", "saved SensorTextureGAN checkpoint (model.ckpt) whose learned sensor "
                                  "texture replaces the curves' white noise; empty = none (loaded by the CLI)"),
    # [schedule]
    "schedule.events": Field(list, "-", "timed changes ([[schedule.events]] tables), applied at hour at_h"),
}

#: Every dotted section prefix of the spec ("setpoints", "schedule", ...).
SECTIONS: frozenset[str] = frozenset(
    ".".join(key.split(".")[:i]) for key in SPEC for i in range(1, key.count(".") + 1)
)

#: Keys a schedule event may not change: they define the run, not its course.
NOT_SCHEDULABLE_PREFIXES: tuple[str, ...] = ("run.", "schedule.")

#: Kinds of schedule events.
EVENT_KINDS: tuple[str, ...] = ("setpoint", "lot", "maintenance")

_EVENT_COMMON: dict[str, Field] = {
    "at_h": Field(float, "h", "hour of simulated time at which the event applies", min=0.0),
    "kind": Field(str, "-", "event kind", choices=EVENT_KINDS),
    "note": Field(str, "-", "free text, copied into the event log"),
}

#: Keys each event kind accepts (``set`` is checked key by key against :data:`SPEC`).
EVENT_FIELDS: dict[str, dict[str, Field]] = {
    "setpoint": {**_EVENT_COMMON},
    "lot": {
        **_EVENT_COMMON,
        "lot_id": Field(str, "-", "name of the new lot (default: numbered)"),
        "viscosity_factor": Field(
            float, "-", "viscosity of the new lot / nominal (default: drawn)", min=0.5, max=2.0),
    },
    "maintenance": {
        **_EVENT_COMMON,
        "duration_min": Field(float, "min", "machine stop for the maintenance", min=0.0, max=1440.0),
    },
}
_REQUIRED_EVENT_KEYS = ("at_h", "kind")


def validate_cross(cfg: dict) -> list[Issue]:
    """Checks that involve more than one key, on a nested config dict.

    Robust to a partly invalid config: a check whose inputs are missing or of
    the wrong type is skipped (the per-key check reports those). Returns the
    issues found; an empty list means the config is consistent.
    """
    issues = _cross_field_issues(lambda key: lookup(cfg, key))
    events = lookup(cfg, "schedule.events")
    if isinstance(events, list):
        issues += _schedule_issues(cfg, events, {str(i) for i in issues})
    return issues


def _fmt(x: float) -> str:
    return f"{x:g}"


def _cross_field_issues(get) -> list[Issue]:
    """The cross-field rules; ``get(dotted_key)`` returns a value or None."""
    issues: list[Issue] = []
    grade = get("material.grade")
    material = MATERIALS.get(grade) if isinstance(grade, str) else None
    melt = finite_number(get("setpoints.melt_temp_C"))
    if material is not None and melt is not None:
        floor = material.no_flow_temp_C + MELT_MARGIN_ABOVE_NO_FLOW_K
        if melt <= floor:
            top = _fmt(SPEC["setpoints.melt_temp_C"].max)
            issues.append(Issue(
                "setpoints.melt_temp_C",
                f"{_fmt(melt)} degC is too cold for grade {grade}: it must exceed the no-flow temperature "
                f"{_fmt(material.no_flow_temp_C)} degC by more than {_fmt(MELT_MARGIN_ABOVE_NO_FLOW_K)} K",
                f"({_fmt(floor)}, {top}] degC for {grade}",
            ))
    mold = finite_number(get("setpoints.mold_temp_C"))
    if material is not None and mold is not None and mold >= material.ejection_temp_C:
        bottom = _fmt(SPEC["setpoints.mold_temp_C"].min)
        issues.append(Issue(
            "setpoints.mold_temp_C",
            f"{_fmt(mold)} degC is not below the ejection temperature {_fmt(material.ejection_temp_C)} degC "
            f"of grade {grade}: the part could never be ejected",
            f"[{bottom}, {_fmt(material.ejection_temp_C)}) degC for {grade}",
        ))
    issues += _less("setpoints.switchover_volume_cm3", "setpoints.dosing_volume_cm3", "cm3", get, strict=True)
    issues += _less("setpoints.hold_pressure_bar", "machine.max_injection_pressure_bar", "bar", get)
    issues += _less("setpoints.injection_pressure_limit_bar", "machine.max_injection_pressure_bar", "bar", get)
    issues += _less("machine.post_hold_nozzle_pressure_bar", "machine.max_injection_pressure_bar", "bar", get)
    issues += _less("setpoints.clamp_force_kN", "machine.max_clamp_force_kN", "kN", get)
    issues += _less("mold.gate_thickness_mm", "mold.wall_thickness_mm", "mm", get)
    return issues


def _less(key: str, limit_key: str, unit: str, get, strict: bool = False) -> list[Issue]:
    """``key < limit_key`` (strict) or ``key <= limit_key``."""
    value, limit = finite_number(get(key)), finite_number(get(limit_key))
    if value is None or limit is None:
        return []
    if value < limit or (not strict and value == limit):
        return []
    field = SPEC[key]
    lo = "(" if field.min_open else "["
    hi = ")" if strict else "]"
    relation = "below" if strict else "at most"
    return [Issue(
        key,
        f"{_fmt(value)} {unit} must be {relation} {limit_key} = {_fmt(limit)} {unit}",
        f"{lo}{_fmt(field.min)}, {_fmt(limit)}{hi} {unit}",
    )]


def _schedule_issues(cfg: dict, events: list, known: set[str]) -> list[Issue]:
    """Per-event checks, then the cross-field rules on the config after each event."""
    issues: list[Issue] = []
    timeline: list[tuple[float, int, dict]] = []
    for i, event in enumerate(events):
        where = f"schedule.events[{i}]"
        if not isinstance(event, dict):
            issues.append(Issue(where, f"expected a table with at_h and kind, got {type(event).__name__}"))
            continue
        event_issues, changes = _event_issues(where, event)
        issues += event_issues
        if not event_issues:
            timeline.append((float(event["at_h"]), i, changes))
    # The state after each setpoint event must still satisfy the cross-field rules.
    state: dict[str, Any] = {}

    def get(key: str) -> Any:
        return state[key] if key in state else lookup(cfg, key)

    for at_h, i, changes in sorted(timeline, key=lambda t: t[:2]):
        if not changes:
            continue
        state.update(changes)
        for issue in _cross_field_issues(get):
            if str(issue) in known:
                continue
            known.add(str(issue))
            issues.append(Issue(
                f"schedule.events[{i}]",
                f"at_h = {_fmt(at_h)} leaves an inconsistent config: {issue.key}: {issue.problem}",
                issue.allowed,
            ))
    return issues


def _event_issues(where: str, event: dict) -> tuple[list[Issue], dict[str, Any]]:
    """Issues of one event table, and the checked changes of a setpoint event."""
    issues: list[Issue] = []
    for key in _REQUIRED_EVENT_KEYS:
        if key not in event:
            issues.append(Issue(f"{where}.{key}", "missing (required)", _EVENT_COMMON[key].allowed()))
    kind = event.get("kind")
    fields = EVENT_FIELDS.get(kind, _EVENT_COMMON) if isinstance(kind, str) else _EVENT_COMMON
    allowed_keys = set(fields) | ({"set"} if kind == "setpoint" else set())
    for key, value in event.items():
        if key == "set" and kind == "setpoint":
            continue
        if key not in allowed_keys:
            what = f"kind {kind!r}" if kind in EVENT_KINDS else "an event"
            issues.append(Issue(f"{where}.{key}", f"unknown key for {what}{suggest_key(key, allowed_keys)}",
                                "keys " + ", ".join(sorted(allowed_keys))))
            continue
        _, issue = check_value(f"{where}.{key}", fields[key], value)
        if issue is not None:
            issues.append(issue)
    changes: dict[str, Any] = {}
    if kind == "setpoint":
        set_issues, changes = _set_table_issues(where, event.get("set"))
        issues += set_issues
    return issues, changes


def _set_table_issues(where: str, table: Any) -> tuple[list[Issue], dict[str, Any]]:
    if table is None:
        return [Issue(f"{where}.set", "missing: a setpoint event needs set = { \"dotted.key\" = value, ... }")], {}
    if not isinstance(table, dict) or not table:
        return [Issue(f"{where}.set", "expected a non-empty table of dotted keys, e.g. "
                                      "set = { \"setpoints.mold_temp_C\" = 30.0 }")], {}
    issues: list[Issue] = []
    changes: dict[str, Any] = {}
    for key, value in table.items():
        at = f"{where}.set.{key}"
        if key not in SPEC:
            issues.append(Issue(at, f"unknown key{suggest_key(key, SPEC)}"))
        elif key.startswith(NOT_SCHEDULABLE_PREFIXES):
            issues.append(Issue(at, "cannot change during a run",
                                "keys outside " + ", ".join(p.rstrip(".") for p in NOT_SCHEDULABLE_PREFIXES)))
        else:
            normalized, issue = check_value(at, SPEC[key], value)
            if issue is not None:
                issues.append(issue)
            else:
                changes[key] = normalized
    return issues, changes


def normalize_events(events: list[dict]) -> list[dict]:
    """Valid events with normalized values (``at_h = 1`` -> ``1.0``), stably sorted by ``at_h``.

    Call only on events :func:`validate_cross` accepted.
    """
    out = []
    for event in events:
        kind = event["kind"]
        fields = EVENT_FIELDS[kind]
        norm = {key: check_value(key, fields[key], value)[0] for key, value in event.items() if key != "set"}
        if "set" in event:
            norm["set"] = {key: check_value(key, SPEC[key], value)[0] for key, value in event["set"].items()}
        out.append(norm)
    return sorted(out, key=lambda e: e["at_h"])
