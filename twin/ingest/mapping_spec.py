"""The validated mapping as plain data: one frozen dataclass per TOML table.

:func:`twin.ingest.mapping.load_mapping` builds these from a mapping file
(and is the place that documents the keys); everything downstream reads
only these objects, never the raw TOML. Units are canonical unit names of
:mod:`twin.ingest.units`; marker lists are :class:`~twin.ingest.markers.ValueSet`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from twin.ingest.markers import ValueSet

__all__ = [
    "SourceSpec", "IdSpec", "TimeSpec", "DeriveSpec", "FieldSpec", "LabelSpec",
    "ChannelSpec", "CurvesSpec", "MachineSpec", "Mapping",
]


@dataclass(frozen=True)
class SourceSpec:
    """``[source]``: how to read the log file."""

    separator: str = ","
    decimal: str = "."
    encoding: str = "utf-8"
    header_row: int = 1
    quote: str = '"'
    machine_id: str | None = None


@dataclass(frozen=True)
class IdSpec:
    """``[id]``: cycle_id from an integer ``column``, or the data row number (1 = first data row)."""

    column: str | None = None
    row_number: bool = False


@dataclass(frozen=True)
class TimeSpec:
    """``[time]``: one timestamp column, or a date column plus a time column."""

    column: str | None = None
    format: str | None = None
    date_column: str | None = None
    date_format: str | None = None
    time_column: str | None = None
    time_format: str | None = None
    timezone: str = "UTC"
    missing: ValueSet = field(default_factory=lambda: ValueSet([]))
    fill: str = "error"  # "error" | "interpolate"
    marks: str = "start"  # what the logged timestamp is: cycle "start" or "end"
    order: str = "check"  # "check" (must be non-decreasing in file order) | "sort"

    def columns(self) -> tuple[str, ...]:
        """The source columns this table reads."""
        return tuple(c for c in (self.column, self.date_column, self.time_column) if c)


@dataclass(frozen=True)
class DeriveSpec:
    """``derive = { column, pattern, group }``: a value extracted from another column by a regex."""

    column: str
    pattern: re.Pattern[str]
    group: int = 1


@dataclass(frozen=True)
class FieldSpec:
    """One cycles column and how to fill it. ``kind`` is ``"number"`` or ``"string"``.

    Exactly one source: ``columns`` (one or more source columns, joined by
    ``combine``), ``derive``, or ``constant``. Numbers: ``value =
    (raw * scale + offset)`` in ``unit``, converted to ``target_unit``.
    ``default`` (in ``unit``) replaces missing values; ``valid`` is the
    allowed range in the target unit (outside: a bad row).
    """

    key: str  # the mapping key, for messages: "fields.cushion_mm" or "experiment"
    target: str
    kind: str
    columns: tuple[str, ...] = ()
    combine: str = "first"
    unit: str | None = None
    target_unit: str | None = None
    missing: ValueSet = field(default_factory=lambda: ValueSet([]))
    scale: float = 1.0
    offset: float = 0.0
    constant: Any = None
    default: Any = None
    derive: DeriveSpec | None = None
    valid: tuple[float, float] | None = None

    def source_columns(self) -> tuple[str, ...]:
        """The source columns this field reads."""
        return self.columns + ((self.derive.column,) if self.derive else ())


@dataclass(frozen=True)
class LabelSpec:
    """``[label]``: good/bad from a pass/fail column and/or a reason column."""

    column: str | None = None
    good_values: ValueSet = field(default_factory=lambda: ValueSet([]))
    bad_values: ValueSet = field(default_factory=lambda: ValueSet([]))
    reason_column: str | None = None
    reasons: dict[str, str] = field(default_factory=dict)
    no_reason: ValueSet = field(default_factory=lambda: ValueSet([]))
    unmapped_reason: str = "error"  # "error" | "keep"

    def columns(self) -> tuple[str, ...]:
        """The source columns this table reads."""
        return tuple(c for c in (self.column, self.reason_column) if c)


@dataclass(frozen=True)
class ChannelSpec:
    """One curve signal of the file -> one CHANNEL. ``unit`` None: take it from the file (Arburg units row)."""

    signal: str
    channel: str
    unit: str | None = None
    scale: float = 1.0
    offset: float = 0.0


@dataclass(frozen=True)
class CurvesSpec:
    """``[curves]``: where the per-cycle curve files are and how to read them."""

    channels: tuple[ChannelSpec, ...]
    file_column: str | None = None
    directory: str = "."
    missing: ValueSet = field(default_factory=lambda: ValueSet([]))
    format: str = "auto"  # "auto" | "arburg_chart" | "csv"
    separator: str = ","
    decimal: str = "."
    encoding: str = "utf-8"
    time_column: str | None = "time"
    time_unit: str = "s"
    sample_interval_s: float | None = None
    cycle_id_pattern: re.Pattern[str] | None = None


@dataclass(frozen=True)
class MachineSpec:
    """``[machine]``: what the log does not say about the machine."""

    screw_diameter_mm: float | None = None


@dataclass(frozen=True)
class Mapping:
    """A whole validated mapping file."""

    path: Path
    name: str
    description: str
    text: bytes  # the file as read, copied into the run folder
    source: SourceSpec
    machine: MachineSpec
    id: IdSpec | None
    time: TimeSpec | None
    fields: dict[str, FieldSpec]
    label: LabelSpec | None
    curves: CurvesSpec | None
