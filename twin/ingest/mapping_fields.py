"""``[fields.<column>]`` tables of a mapping: which cycles columns may be filled, and how.

Targets are columns of :data:`twin.schema.CYCLES_SCHEMA`:

* number columns (setpoints, logged features, ``glass_fiber_pct``): the
  unit is in the column name (:func:`twin.ingest.units.column_unit`);
* string columns ``machine_id``, ``material_grade``, ``lot_id`` (and
  ``experiment``, written as its own ``[experiment]`` table).

The other columns are not the mapping's to fill: :data:`RESERVED` says
where each comes from (``cycle_id`` from ``[id]``, ``good`` from
``[label]``, ``hidden_*`` stay null for real logs, ...).

A field table (all keys optional except one source)::

    [fields.cushion_mm]
    column = "V4062"          # or columns = ["t311", "t312"] with combine = "sum" | "mean" | "max" | "first"
                              # or constant = 30.0, or derive = { column = "class", pattern = "t_(\\d+)", group = 1 }
    unit = "cm3"              # the log's unit; converted to the column's (here mm, via [machine] screw_diameter_mm)
    missing = [0, "", "NA"]   # cells that mean "no value" (-> null); "" always does
    scale = 1.0               # value = raw * scale + offset, in `unit`, before conversion
    offset = 0.0
    default = 25.0            # in `unit`: replaces missing values (and non-matching derive rows)
    valid = [0, 100]          # allowed range in the column's unit; outside: a bad row

``[fields] part_weight_g = "Gewicht"`` is short for ``column = "Gewicht"``.
"""
from __future__ import annotations

import re
from typing import Any

import pyarrow as pa

from twin.config_field import suggest_key, toml_type_name
from twin.ingest.mapping_check import MISSING, Checker
from twin.ingest.mapping_spec import DeriveSpec, FieldSpec
from twin.ingest.markers import ValueSet
from twin.ingest.units import ALIASES, UNITS, UnitError, canonical_unit, column_unit, converter, dimension, needs_screw
from twin.schema import CYCLES_SCHEMA

__all__ = ["NUMBER_TARGETS", "STRING_TARGETS", "RESERVED", "parse_fields", "parse_field", "check_unit"]

#: Columns that are not filled from ``[fields]``, and where they come from instead.
RESERVED: dict[str, str] = {
    "run_id": "set by ingestion (mapping name + source file hash)",
    "source": "always 'real' for ingested logs",
    "cycle_id": "comes from the [id] table",
    "start_time": "comes from the [time] table",
    "end_time": "comes from the [time] table",
    "sim_time_s": "simulated time; null for real logs",
    "experiment": "use the [experiment] table",
    "good": "comes from the [label] table",
    "defect_type": "comes from the [label] table",
    "seed": "lineage; null for real logs",
    "config_hash": "lineage; null for real logs",
    "code_version": "lineage; set by ingestion",
    "generator_checkpoint": "lineage; null for real logs",
}
RESERVED.update({f.name: "comes from the [label] table" for f in CYCLES_SCHEMA if f.name.startswith("defect_")})
RESERVED.update({f.name: "simulator state; null for real logs (learners must not use it)"
                 for f in CYCLES_SCHEMA if f.name.startswith("hidden_")})

#: Number columns a mapping may fill.
NUMBER_TARGETS: tuple[str, ...] = tuple(
    f.name for f in CYCLES_SCHEMA if pa.types.is_floating(f.type) and f.name not in RESERVED
)
#: String columns a mapping may fill from ``[fields]``.
STRING_TARGETS: tuple[str, ...] = ("machine_id", "material_grade", "lot_id")

_NUMBER_KEYS = ("column", "columns", "combine", "unit", "missing", "scale", "offset", "constant", "default",
                "derive", "valid")
_STRING_KEYS = ("column", "missing", "constant", "default", "derive")
_COMBINE = ("first", "sum", "mean", "max")


def parse_fields(chk: Checker, table: dict, screw_diameter_mm: float | None, decimal: str) -> dict[str, FieldSpec]:
    """All ``[fields.*]`` tables -> ``{target: FieldSpec}``; problems go to ``chk``."""
    out: dict[str, FieldSpec] = {}
    for target, value in table.items():
        key = f"fields.{target}"
        if target in RESERVED:
            chk.add(key, f"{target!r} cannot be mapped here: {RESERVED[target]}")
            continue
        if target in NUMBER_TARGETS:
            kind = "number"
        elif target in STRING_TARGETS:
            kind = "string"
        else:
            chk.add(key, f"{target!r} is not a column of the cycles schema"
                         f"{suggest_key(target, NUMBER_TARGETS + STRING_TARGETS)} "
                         "(twin/schema.py CYCLES_SCHEMA lists them)")
            continue
        spec = parse_field(chk, key, target, kind, value, screw_diameter_mm, decimal)
        if spec is not None:
            out[target] = spec
    return out


def parse_field(chk: Checker, key: str, target: str, kind: str, value: Any,
                screw_diameter_mm: float | None, decimal: str) -> FieldSpec | None:
    """One field table (or a bare column-name string) -> :class:`FieldSpec`, or None after recording problems."""
    if isinstance(value, str):
        value = {"column": value}
    if not isinstance(value, dict):
        chk.add(key, f"expected a table or a column name, got {toml_type_name(value)}")
        return None
    n0 = len(chk.problems)
    chk.keys(key, value, _NUMBER_KEYS if kind == "number" else _STRING_KEYS)
    column = chk.string(f"{key}.column", value.get("column", MISSING), nonempty=True)
    columns = tuple(chk.strings(f"{key}.columns", value.get("columns", MISSING)))
    if "columns" in value and not columns and isinstance(value["columns"], list):
        chk.add(f"{key}.columns", "must name at least one column")
    derive = _parse_derive(chk, f"{key}.derive", value.get("derive", MISSING))
    has_constant = "constant" in value
    given = [k for k in ("column", "columns", "constant", "derive") if k in value]
    if len(given) != 1:
        chk.add(key, "give exactly one of column, columns, constant, derive"
                     + (f" (got {', '.join(given)})" if given else ""))
    if column:
        columns = (column,)
    missing = ValueSet(chk.scalars(f"{key}.missing", value.get("missing", MISSING)), decimal)
    if kind == "string":
        constant = chk.string(f"{key}.constant", value.get("constant", MISSING))
        default = chk.string(f"{key}.default", value.get("default", MISSING))
        if len(chk.problems) > n0:
            return None
        return FieldSpec(key=key, target=target, kind=kind, columns=columns, missing=missing,
                         constant=constant, default=default, derive=derive)
    combine = chk.string(f"{key}.combine", value.get("combine", MISSING), default="first", choices=_COMBINE)
    if "combine" in value and len(columns) < 2 and "columns" not in value:
        chk.add(f"{key}.combine", "only applies with columns = [...]")
    target_unit = column_unit(target)
    unit = check_unit(chk, f"{key}.unit", value.get("unit", MISSING), target_unit, screw_diameter_mm,
                      target_label=target)
    scale = chk.number(f"{key}.scale", value.get("scale", MISSING), default=1.0)
    offset = chk.number(f"{key}.offset", value.get("offset", MISSING), default=0.0)
    constant = chk.number(f"{key}.constant", value.get("constant", MISSING)) if has_constant else None
    default = chk.number(f"{key}.default", value.get("default", MISSING))
    valid = _parse_range(chk, f"{key}.valid", value.get("valid", MISSING))
    if len(chk.problems) > n0:
        return None
    return FieldSpec(key=key, target=target, kind=kind, columns=columns, combine=combine, unit=unit,
                     target_unit=target_unit, missing=missing, scale=scale, offset=offset, constant=constant,
                     default=default, derive=derive, valid=valid)


def check_unit(chk: Checker, key: str, value: Any, target_unit: str | None, screw_diameter_mm: float | None,
               *, target_label: str) -> str | None:
    """Validate a ``unit = "..."`` key against the target unit; returns the canonical unit (target's when absent)."""
    if value is MISSING or value is None:
        return target_unit
    text = chk.string(key, value)
    if text is None:
        return target_unit
    unit = canonical_unit(text)
    if unit is None:
        known = list(UNITS) + list(ALIASES)
        chk.add(key, f"unknown unit {text!r}{suggest_key(text, known)} (known: {', '.join(UNITS)})")
        return None
    if target_unit is None or target_unit not in UNITS:
        return unit
    try:
        converter(unit, target_unit, screw_diameter_mm if screw_diameter_mm is not None else None)
    except UnitError:
        if needs_screw(unit, target_unit):
            chk.add(key, f"{text!r} ({dimension(unit)}) -> {target_unit} ({dimension(target_unit)}) of "
                         f"{target_label} goes through the screw cross-section: add [machine] screw_diameter_mm")
        else:
            chk.add(key, f"{text!r} is a {dimension(unit)} unit and cannot be converted to {target_unit} "
                         f"({dimension(target_unit)}) of {target_label}")
        return None
    return unit


def _parse_derive(chk: Checker, key: str, value: Any) -> DeriveSpec | None:
    table = chk.table(key, value)
    if table is None:
        return None
    chk.keys(key, table, ("column", "pattern", "group"))
    column = chk.string(f"{key}.column", table.get("column", MISSING), required=True, nonempty=True)
    pattern_text = chk.string(f"{key}.pattern", table.get("pattern", MISSING), required=True, nonempty=True)
    group = chk.integer(f"{key}.group", table.get("group", MISSING), default=1, minimum=0)
    if column is None or pattern_text is None or group is None:
        return None
    try:
        pattern = re.compile(pattern_text)
    except re.error as exc:
        chk.add(f"{key}.pattern", f"not a valid regular expression: {exc}")
        return None
    if group > pattern.groups:
        chk.add(f"{key}.group", f"the pattern has {pattern.groups} group(s), asked for group {group}")
        return None
    return DeriveSpec(column=column, pattern=pattern, group=group)


def _parse_range(chk: Checker, key: str, value: Any) -> tuple[float, float] | None:
    if value is MISSING or value is None:
        return None
    if not isinstance(value, list) or len(value) != 2:
        chk.add(key, f"expected [min, max], got {toml_type_name(value)} {value!r}")
        return None
    lo = chk.number(f"{key}[0]", value[0])
    hi = chk.number(f"{key}[1]", value[1])
    if lo is None or hi is None:
        return None
    if lo > hi:
        chk.add(key, f"min {lo} is above max {hi}")
        return None
    return (lo, hi)
