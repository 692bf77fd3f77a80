"""Mapping files: how the columns of a user's machine log become cycles (and curves) rows.

A mapping is a TOML file. Every problem in it is reported at once, one line
per problem naming the key, before any data is read::

    invalid mapping (mappings/my_press.toml): 2 problems
      - fields.cushon_mm: 'cushon_mm' is not a column of the cycles schema (did you mean 'cushion_mm'?) ...
      - fields.hold_pressure_bar.unit: unknown unit 'barr' (did you mean 'bar'?) ...

The tables (``[fields]`` is in :mod:`twin.ingest.mapping_fields`, ``[curves]``
in :mod:`twin.ingest.mapping_curves`)::

    name = "my_press"            # optional: the run_id prefix (default: the file name without .toml)
    description = "..."          # optional, free text

    [source]                     # how to read the file (all optional)
    separator = ","              # one character; "\\t" for tabs
    decimal = "."                # "." or ","
    encoding = "utf-8"           # any Python codec name: "cp1252", "latin-1", "euc-kr", ...
    header_row = 1               # line of the header; lines above it are skipped
    quote = '"'                  # "" for no quoting
    machine_id = "press_7"       # constant machine_id (or [fields.machine_id] column = "...")

    [machine]
    screw_diameter_mm = 30.0     # needed to convert screw volumes/flows to positions/velocities

    [id]                         # cycle_id: an integer column ...
    column = "Zyklus"
    # row_number = true          # ... or the data row number (1 = first row after the header)

    [time]                       # one timestamp column ...
    column = "Zeitstempel"
    format = "%d.%m.%Y %H:%M:%S" # strptime format, or "iso", "epoch_s", "epoch_ms"
    # date_column / date_format + time_column / time_format: a date and a time column
    timezone = "Europe/Berlin"   # IANA name of the log's local time (default "UTC")
    missing = ["00:00:00"]       # texts that mean "no timestamp"
    fill = "error"               # or "interpolate": by row order between valid neighbours
    marks = "start"              # the timestamp is the cycle "start" or "end"; the other end is
                                 # one cycle_time_s away when that field is mapped
    order = "check"              # or "sort": a log that is not in time order is sorted by time

    [experiment]                 # the experiment/batch name (a string field: column, constant, derive ...)
    column = "Versuch"

    [label]                      # good / defect_type / defect_* (absent: all null)
    column = "PassOrFail"
    good_values = [0]            # and/or bad_values = [1]
    reason_column = "Reason"
    reasons = { "가스" = "burn_marks" }
    no_reason = ["None", ""]
    unmapped_reason = "error"    # or "keep": an unlisted reason text becomes defect_type as it is

:func:`load_mapping` returns a :class:`~twin.ingest.mapping_spec.Mapping`.
"""
from __future__ import annotations

import codecs
import re
import tomllib
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from twin.ingest.errors import MappingError
from twin.ingest.mapping_check import MISSING, Checker
from twin.ingest.mapping_curves import parse_curves
from twin.ingest.mapping_fields import parse_field, parse_fields
from twin.ingest.mapping_spec import IdSpec, LabelSpec, MachineSpec, Mapping, SourceSpec, TimeSpec
from twin.ingest.markers import ValueSet

__all__ = ["load_mapping", "PURPOSES"]

_TOP = ("name", "description", "source", "machine", "id", "time", "fields", "experiment", "label", "curves")
_SOURCE = ("separator", "decimal", "encoding", "header_row", "quote", "machine_id")
_TIME = ("column", "format", "date_column", "date_format", "time_column", "time_format", "timezone", "missing",
         "fill", "marks", "order")
_LABEL = ("column", "good_values", "bad_values", "reason_column", "reasons", "no_reason", "unmapped_reason")
_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
#: What a mapping is loaded for, and the tables that purpose needs.
PURPOSES: dict[str, tuple[str, ...]] = {"molding": ("id", "time"), "curves": ("curves",)}


def load_mapping(path: Path | str, purpose: str = "molding") -> Mapping:
    """Read and validate a mapping file; raise :class:`MappingError` listing every problem.

    ``purpose``: ``"molding"`` (a cycle log: needs ``[id]`` and ``[time]``) or
    ``"curves"`` (curve files only: needs ``[curves]``).
    """
    path = Path(path)
    if purpose not in PURPOSES:
        raise ValueError(f"purpose must be one of {tuple(PURPOSES)}, got {purpose!r}")
    try:
        raw_bytes = path.read_bytes()
    except OSError as exc:
        raise MappingError([f"cannot read the mapping file: {exc.strerror or exc}"], path) from exc
    try:
        raw = tomllib.loads(raw_bytes.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise MappingError([f"not UTF-8 text at byte offset {exc.start} (TOML files are UTF-8)"], path) from exc
    except tomllib.TOMLDecodeError as exc:
        raise MappingError([f"TOML syntax error: {exc}"], path) from exc

    chk = Checker()
    chk.keys("", raw, _TOP)
    for key in PURPOSES[purpose]:
        if key not in raw:
            chk.add(key, f"missing table [{key}] (needed to ingest {purpose})")
    name = chk.string("name", raw.get("name", MISSING), default=path.stem, nonempty=True) or path.stem
    if not _NAME.match(name):
        chk.add("name", f"{name!r} may only contain letters, digits, '_', '-' and '.' (it starts the run_id)")
    description = chk.string("description", raw.get("description", MISSING), default="")

    source = _parse_source(chk, chk.table("source", raw.get("source", MISSING)) or {})
    machine = _parse_machine(chk, chk.table("machine", raw.get("machine", MISSING)) or {})
    screw = machine.screw_diameter_mm
    id_table = chk.table("id", raw.get("id", MISSING))
    id_spec = _parse_id(chk, id_table) if id_table is not None else None
    time_table = chk.table("time", raw.get("time", MISSING))
    time_spec = _parse_time(chk, time_table) if time_table is not None else None

    fields_table = chk.table("fields", raw.get("fields", MISSING)) or {}
    fields = parse_fields(chk, fields_table, screw, source.decimal)
    exp = raw.get("experiment", MISSING)
    if exp is not MISSING:
        spec = parse_field(chk, "experiment", "experiment", "string", exp, screw, source.decimal)
        if spec is not None:
            fields["experiment"] = spec
    if "machine_id" in fields and source.machine_id is not None:
        chk.add("fields.machine_id", "machine_id is given twice: here and as [source] machine_id; keep one")

    label_table = chk.table("label", raw.get("label", MISSING))
    label = _parse_label(chk, label_table, source.decimal) if label_table is not None else None
    curves_table = chk.table("curves", raw.get("curves", MISSING))
    curves = parse_curves(chk, curves_table, screw) if curves_table is not None else None

    if chk.problems:
        raise MappingError(chk.problems, path)
    return Mapping(path=path, name=name, description=description, text=raw_bytes, source=source, machine=machine,
                   id=id_spec, time=time_spec, fields=fields, label=label, curves=curves)


def _parse_source(chk: Checker, t: dict) -> SourceSpec:
    chk.keys("source", t, _SOURCE)
    sep = chk.string("source.separator", t.get("separator", MISSING), default=",")
    if len(sep) != 1:
        chk.add("source.separator", f"must be one character, got {sep!r}")
        sep = ","
    decimal = chk.string("source.decimal", t.get("decimal", MISSING), default=".", choices=(".", ","))
    if decimal == sep:
        chk.add("source.decimal", f"the decimal mark {decimal!r} is also the separator")
    encoding = chk.string("source.encoding", t.get("encoding", MISSING), default="utf-8")
    try:
        codecs.lookup(encoding)
    except LookupError:
        chk.add("source.encoding", f"unknown encoding {encoding!r} (Python codec names: utf-8, cp1252, latin-1, "
                                   "euc-kr, ...)")
        encoding = "utf-8"
    header_row = chk.integer("source.header_row", t.get("header_row", MISSING), default=1, minimum=1)
    quote = chk.string("source.quote", t.get("quote", MISSING), default='"')
    if len(quote) > 1:
        chk.add("source.quote", f"must be one character or empty, got {quote!r}")
        quote = '"'
    machine_id = chk.string("source.machine_id", t.get("machine_id", MISSING), nonempty=True)
    return SourceSpec(separator=sep, decimal=decimal, encoding=encoding, header_row=header_row, quote=quote,
                      machine_id=machine_id)


def _parse_machine(chk: Checker, t: dict) -> MachineSpec:
    chk.keys("machine", t, ("screw_diameter_mm",))
    d = chk.number("machine.screw_diameter_mm", t.get("screw_diameter_mm", MISSING), positive=True)
    return MachineSpec(screw_diameter_mm=d)


def _parse_id(chk: Checker, t: dict) -> IdSpec | None:
    chk.keys("id", t, ("column", "row_number"))
    column = chk.string("id.column", t.get("column", MISSING), nonempty=True)
    row_number = chk.boolean("id.row_number", t.get("row_number", MISSING), default=False)
    if (column is None) == (not row_number):
        chk.add("id", "give either column = \"...\" (an integer column) or row_number = true")
        return None
    return IdSpec(column=column, row_number=bool(row_number))


def _parse_time(chk: Checker, t: dict) -> TimeSpec | None:
    chk.keys("time", t, _TIME)
    n0 = len(chk.problems)
    s = {k: chk.string(f"time.{k}", t.get(k, MISSING), nonempty=True)
         for k in ("column", "format", "date_column", "date_format", "time_column", "time_format")}
    single = s["column"] is not None
    split = s["date_column"] is not None or s["time_column"] is not None
    if single == split:
        chk.add("time", "give either column + format, or date_column + date_format + time_column + time_format")
    elif single:
        if s["format"] is None:
            chk.add("time.format", "missing (a strptime format such as '%Y-%m-%d %H:%M:%S', or 'iso', 'epoch_s', "
                                   "'epoch_ms')")
        for k in ("date_format", "time_format"):
            if s[k] is not None:
                chk.add(f"time.{k}", "only applies with date_column + time_column")
    else:
        for k in ("date_column", "date_format", "time_column", "time_format"):
            if s[k] is None:
                chk.add(f"time.{k}", "missing (a date column and a time column each need a strptime format)")
        if s["format"] is not None:
            chk.add("time.format", "only applies with column = \"...\" (use date_format and time_format)")
    tz = chk.string("time.timezone", t.get("timezone", MISSING), default="UTC")
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        chk.add("time.timezone", f"unknown time zone {tz!r} (an IANA name such as 'UTC', 'Europe/Berlin', "
                                 "'Asia/Seoul')")
    missing = ValueSet([str(m) for m in chk.scalars("time.missing", t.get("missing", MISSING))])
    fill = chk.string("time.fill", t.get("fill", MISSING), default="error", choices=("error", "interpolate"))
    marks = chk.string("time.marks", t.get("marks", MISSING), default="start", choices=("start", "end"))
    order = chk.string("time.order", t.get("order", MISSING), default="check", choices=("check", "sort"))
    if len(chk.problems) > n0:
        return None
    return TimeSpec(column=s["column"], format=s["format"], date_column=s["date_column"],
                    date_format=s["date_format"], time_column=s["time_column"], time_format=s["time_format"],
                    timezone=tz, missing=missing, fill=fill, marks=marks, order=order)


def _parse_label(chk: Checker, t: dict, decimal: str) -> LabelSpec | None:
    chk.keys("label", t, _LABEL)
    n0 = len(chk.problems)
    column = chk.string("label.column", t.get("column", MISSING), nonempty=True)
    good = chk.scalars("label.good_values", t.get("good_values", MISSING))
    bad = chk.scalars("label.bad_values", t.get("bad_values", MISSING))
    reason_column = chk.string("label.reason_column", t.get("reason_column", MISSING), nonempty=True)
    reasons_raw: Any = chk.table("label.reasons", t.get("reasons", MISSING)) or {}
    reasons = {}
    for text, name in reasons_raw.items():
        value = chk.string(f"label.reasons.{text}", name, nonempty=True)
        if value is not None:
            reasons[text] = value
    no_reason = chk.scalars("label.no_reason", t.get("no_reason", MISSING))
    unmapped = chk.string("label.unmapped_reason", t.get("unmapped_reason", MISSING), default="error",
                          choices=("error", "keep"))
    if column is None and reason_column is None:
        chk.add("label", "give column (pass/fail) and/or reason_column")
    if column is not None and not good and not bad:
        chk.add("label", "with column = ..., list good_values and/or bad_values")
    if column is None and (good or bad):
        chk.add("label", "good_values / bad_values need column = ...")
    if reason_column is None and (reasons or no_reason):
        chk.add("label", "reasons / no_reason need reason_column = ...")
    if len(chk.problems) > n0:
        return None
    return LabelSpec(column=column, good_values=ValueSet(good, decimal), bad_values=ValueSet(bad, decimal),
                     reason_column=reason_column, reasons=reasons, no_reason=ValueSet(no_reason, decimal),
                     unmapped_reason=unmapped)
