"""The ``[curves]`` table of a mapping: per-cycle sensor curve files and their channel map.

::

    [curves]
    file_column = "file_name"        # log column naming each cycle's curve file (ingest molding)
    directory = "serial_data"        # where those files are, relative to the log file's folder
    missing = ["Missing"]            # file_column values that mean "no curve" (counted, not an error)
    format = "auto"                  # "arburg_chart" | "csv" | "auto" (Arburg if the file has "-start data-")
    # csv curves only:
    separator = ","
    decimal = "."
    encoding = "utf-8"
    time_column = "time"             # the sample time column; sample_interval_s when there is none
    time_unit = "s"
    cycle_id_pattern = "cycle_(\\d+)"  # ingest curves: cycle_id from the file name (else 1, 2, ... in argument order)

    [curves.channels]                # file signal -> CHANNEL (physics/molding/channels.py)
    p3001I = "injection_pressure_bar"                           # unit from the file's units row, or the channel's
    V3001I = { channel = "screw_position_mm", unit = "cm3" }    # screw volume -> position via [machine] screw_diameter_mm
    Q3001I = { channel = "injection_flow_cm3_s", unit = "cm3_s", scale = 1.0, offset = 0.0 }

Channels the file does not have stay null in ``curves.parquet``.
"""
from __future__ import annotations

import codecs
import re
from typing import Any

from twin.config_field import suggest_key, toml_type_name
from twin.ingest.mapping_check import MISSING, Checker
from twin.ingest.mapping_fields import check_unit
from twin.ingest.mapping_spec import ChannelSpec, CurvesSpec
from twin.ingest.markers import ValueSet
from twin.ingest.units import canonical_unit
from physics.molding.channels import CHANNEL_NAMES, CHANNEL_UNITS

__all__ = ["parse_curves", "CURVES_KEYS"]

CURVES_KEYS = ("file_column", "directory", "missing", "format", "separator", "decimal", "encoding", "time_column",
               "time_unit", "sample_interval_s", "cycle_id_pattern", "channels")
_CHANNEL_KEYS = ("channel", "unit", "scale", "offset")


def parse_curves(chk: Checker, table: dict, screw_diameter_mm: float | None) -> CurvesSpec | None:
    """The ``[curves]`` table -> :class:`CurvesSpec`, or None after recording problems in ``chk``."""
    n0 = len(chk.problems)
    chk.keys("curves", table, CURVES_KEYS)
    g = table.get
    file_column = chk.string("curves.file_column", g("file_column", MISSING), nonempty=True)
    directory = chk.string("curves.directory", g("directory", MISSING), default=".")
    fmt = chk.string("curves.format", g("format", MISSING), default="auto", choices=("auto", "arburg_chart", "csv"))
    separator = chk.string("curves.separator", g("separator", MISSING), default=",")
    if separator is not None and len(separator) != 1:
        chk.add("curves.separator", f"must be one character, got {separator!r}")
    decimal = chk.string("curves.decimal", g("decimal", MISSING), default=".", choices=(".", ","))
    missing = ValueSet(chk.scalars("curves.missing", g("missing", MISSING)), decimal or ".")
    encoding = chk.string("curves.encoding", g("encoding", MISSING), default="utf-8")
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except LookupError:
            chk.add("curves.encoding", f"unknown encoding {encoding!r}")
    time_column = chk.string("curves.time_column", g("time_column", MISSING), default="time")
    time_unit_text = chk.string("curves.time_unit", g("time_unit", MISSING), default="s")
    time_unit = canonical_unit(time_unit_text) if time_unit_text else "s"
    if time_unit is None or time_unit not in ("s", "ms", "min", "h"):
        chk.add("curves.time_unit", f"expected a time unit (s, ms, min, h), got {time_unit_text!r}")
    interval = chk.number("curves.sample_interval_s", g("sample_interval_s", MISSING), positive=True)
    pattern = _pattern(chk, "curves.cycle_id_pattern", g("cycle_id_pattern", MISSING))
    channels = _parse_channels(chk, g("channels", MISSING), screw_diameter_mm)
    if len(chk.problems) > n0:
        return None
    return CurvesSpec(channels=channels, file_column=file_column, directory=directory, missing=missing, format=fmt,
                      separator=separator, decimal=decimal, encoding=encoding, time_column=time_column or None,
                      time_unit=time_unit, sample_interval_s=interval, cycle_id_pattern=pattern)


def _parse_channels(chk: Checker, value: Any, screw_diameter_mm: float | None) -> tuple[ChannelSpec, ...]:
    table = chk.table("curves.channels", value, required=True)
    if table is None:
        return ()
    if not table:
        chk.add("curves.channels", "maps no signal to a channel")
    out = []
    used: dict[str, str] = {}
    for signal, spec in table.items():
        key = f"curves.channels.{signal}"
        if isinstance(spec, str):
            spec = {"channel": spec}
        if not isinstance(spec, dict):
            chk.add(key, f"expected a channel name or a table, got {toml_type_name(spec)}")
            continue
        chk.keys(key, spec, _CHANNEL_KEYS)
        channel = chk.string(f"{key}.channel", spec.get("channel", MISSING), required=True)
        if channel is None:
            continue
        if channel not in CHANNEL_NAMES:
            chk.add(f"{key}.channel", f"{channel!r} is not a curve channel{suggest_key(channel, CHANNEL_NAMES)} "
                                      "(physics/molding/channels.py lists them)")
            continue
        if channel in used:
            chk.add(f"{key}.channel", f"{channel!r} is already filled from signal {used[channel]!r}")
            continue
        used[channel] = signal
        unit = None
        if "unit" in spec:
            unit = check_unit(chk, f"{key}.unit", spec["unit"], canonical_unit(CHANNEL_UNITS[channel]),
                              screw_diameter_mm, target_label=f"channel {channel}")
        scale = chk.number(f"{key}.scale", spec.get("scale", MISSING), default=1.0)
        offset = chk.number(f"{key}.offset", spec.get("offset", MISSING), default=0.0)
        out.append(ChannelSpec(signal=signal, channel=channel, unit=unit, scale=scale or 1.0, offset=offset or 0.0))
    return tuple(out)


def _pattern(chk: Checker, key: str, value: Any) -> re.Pattern[str] | None:
    text = chk.string(key, value, nonempty=True)
    if text is None:
        return None
    try:
        pattern = re.compile(text)
    except re.error as exc:
        chk.add(key, f"not a valid regular expression: {exc}")
        return None
    if pattern.groups < 1:
        chk.add(key, "needs one group around the number, e.g. 'cycle_(\\d+)'")
        return None
    return pattern
