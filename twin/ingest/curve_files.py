"""Reading one per-cycle curve file: Arburg "MeasurementChart" text exports and plain CSV curves.

**Arburg MeasurementChart** (``format = "arburg_chart"``; ``"auto"`` picks it
when the file has a ``-start data-`` line)::

    content;chart data
    machine no.;265995
    time;2024_06_05__15_51_36
    -header-
    signals;4
    plotting points;498            <- number of data rows (fewer: the file is truncated)
    sampling rate;0.0300           <- seconds between samples
    -column description-
    s;bar;bar;cm³;cm³/s            <- units row
    time;Einspritzdruck, Soll;...  <- descriptions
    ;p3001S;p3001I;V3001I;Q3001I   <- signal codes (the time column has none)
    -start data-
    0.0000;1200;55;117.5;52.20     <- ';'-separated samples

A column is named by its signal code, or by its description when it has
no code (``time``). Units come from the units row.

**CSV curves** (``format = "csv"``): a header row of signal names, one row
per sample, the sample time in ``time_column`` (unit ``time_unit``); e.g.
Kassel's ``upper_workpiece_cycle_00001.csv`` (``,time,injection_pressure_target,
injection_pressure_actual,melt_volume,injection_velocity,state``). Units are
not in the file: the mapping gives them per channel.

**Sampling**: the time column must increase. When the steps differ by more
than 0.1 % from their median the samples are resampled linearly onto a
uniform grid at the median step (``resampled = True``, reported in the
metrics); a file without a time column uses the header's sampling rate or
``[curves] sample_interval_s``.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from twin.ingest.csv_table import parse_table
from twin.ingest.errors import IngestError, short, where
from twin.ingest.mapping_spec import CurvesSpec
from twin.ingest.markers import parse_number
from twin.ingest.textfile import read_text_file

__all__ = ["CurveData", "read_curve_file", "ARBURG_START"]

ARBURG_START = "-start data-"
_UNIFORM_RTOL = 1e-3


@dataclass
class CurveData:
    """The wanted signals of one curve file on a uniform time grid."""

    path: Path
    sha256: str
    signals: dict[str, np.ndarray]
    units: dict[str, str | None]
    sample_interval_s: float
    n_samples: int
    resampled: bool
    format: str


def read_curve_file(path: Path, spec: CurvesSpec, wanted: list[str]) -> CurveData:
    """Read the signals ``wanted`` (file signal names) from one curve file; raise :class:`IngestError` if bad."""
    tf = read_text_file(path, spec.encoding, what="curve file")
    fmt = spec.format
    if fmt == "auto":
        fmt = "arburg_chart" if ARBURG_START in tf.text else "csv"
    if fmt == "arburg_chart":
        columns, units, lines, header_interval = _arburg_columns(str(path), tf.text, spec.decimal)
    else:
        columns, units, lines, header_interval = _csv_columns(str(path), tf.text, spec)
    absent = [s for s in wanted if s not in columns]
    if absent:
        raise IngestError(f"{path}: signal{'s' if len(absent) > 1 else ''} {', '.join(repr(a) for a in absent)} "
                          f"(curves.channels) not in the file; it has: {', '.join(repr(c) for c in columns)}")
    signals = {s: _numbers(str(path), s, columns[s], lines, spec.decimal) for s in wanted}
    time_col = spec.time_column if spec.time_column in columns else None
    interval = spec.sample_interval_s or header_interval
    n = len(lines)
    resampled = False
    if time_col is not None:
        scale = {"s": 1.0, "ms": 1e-3, "min": 60.0, "h": 3600.0}[spec.time_unit]
        if fmt == "arburg_chart" and units.get(time_col) in ("ms",):
            scale = 1e-3
        t = _numbers(str(path), time_col, columns[time_col], lines, spec.decimal) * scale
        interval, signals, resampled = _uniform(str(path), time_col, t, signals, lines)
        n = len(next(iter(signals.values()))) if signals else n
    if interval is None:
        raise IngestError(f"{path}: no time column {spec.time_column!r} and no sampling rate: set "
                          "[curves] time_column or sample_interval_s")
    return CurveData(path=path, sha256=tf.sha256, signals=signals, units=units, sample_interval_s=interval,
                     n_samples=n, resampled=resampled, format=fmt)


def _arburg_columns(file: str, text: str, decimal: str) -> tuple[dict[str, list[str]], dict[str, str | None],
                                                                list[int], float | None]:
    raw_lines = text.splitlines()
    try:
        start = next(i for i, line in enumerate(raw_lines) if line.strip() == ARBURG_START)
    except StopIteration:
        raise IngestError(f"{file}: not an Arburg MeasurementChart: no {ARBURG_START!r} line") from None
    try:
        desc = next(i for i, line in enumerate(raw_lines[:start]) if line.strip() == "-column description-")
    except StopIteration:
        raise IngestError(f"{where(file, start + 1)}: no '-column description-' block before {ARBURG_START!r}") from None
    header: dict[str, str] = {}
    for line in raw_lines[:desc]:
        if ";" in line:
            k, v = line.split(";", 1)
            header[k.strip()] = v.strip()
    described = [line.split(";") for line in raw_lines[desc + 1: start]]
    if not described:
        raise IngestError(f"{where(file, desc + 1)}: the column description block is empty")
    units_row, codes_row = described[0], described[-1]
    names_row = described[1] if len(described) >= 3 else [""] * len(codes_row)
    width = len(codes_row)
    names = []
    for k in range(width):
        code = codes_row[k].strip()
        name = names_row[k].strip() if k < len(names_row) else ""
        names.append(code or name or f"column_{k + 1}")
    units = {names[k]: (units_row[k].strip() if k < len(units_row) else None) for k in range(width)}
    cells: list[list[str]] = [[] for _ in range(width)]
    lines: list[int] = []
    for i in range(start + 1, len(raw_lines)):
        line = raw_lines[i]
        if not line.strip():
            continue
        parts = line.split(";")
        if len(parts) != width:
            missing_col = names[len(parts)] if len(parts) < width else f"(extra field {width + 1})"
            raise IngestError(f"{where(file, i + 1, None, missing_col)}: has {len(parts)} fields, the signal-code "
                              f"row (line {start}) has {width}" + (" (truncated file?)" if i == len(raw_lines) - 1
                                                                     else ""))
        for k in range(width):
            cells[k].append(parts[k])
        lines.append(i + 1)
    if not lines:
        raise IngestError(f"{file}: no data rows after {ARBURG_START!r}")
    points = parse_number(header.get("plotting points", ""), ".")
    if points is not None and int(points) != len(lines):
        raise IngestError(f"{where(file, lines[-1])}: truncated: the header says {int(points)} plotting points, "
                          f"the file has {len(lines)} data rows")
    rate = parse_number(header.get("sampling rate", ""), ".")
    return dict(zip(names, cells)), units, lines, rate


def _csv_columns(file: str, text: str, spec: CurvesSpec) -> tuple[dict[str, list[str]], dict[str, str | None],
                                                                  list[int], float | None]:
    table = parse_table(text, file, separator=spec.separator, quote='"')
    if table.problems:
        p = table.problems[0]
        raise IngestError(p.message())
    columns = {name: table.column(k) for k, name in enumerate(table.header) if name}
    return columns, {name: None for name in columns}, table.lines, None


def _numbers(file: str, name: str, cells: list[str], lines: list[int], decimal: str) -> np.ndarray:
    out = np.empty(len(cells))
    for k, text in enumerate(cells):
        value = parse_number(text, decimal)
        if value is None:
            raise IngestError(f"{where(file, lines[k], None, name)}: cannot read {short(text)} as a number "
                              f"(decimal mark {decimal!r})")
        out[k] = value
    return out


def _uniform(file: str, time_col: str, t: np.ndarray, signals: dict[str, np.ndarray],
             lines: list[int]) -> tuple[float | None, dict[str, np.ndarray], bool]:
    """``(sample_interval_s, signals on a uniform grid, resampled?)``."""
    if len(t) < 2:
        return None, signals, False
    step = np.diff(t)
    bad = np.flatnonzero(step <= 0)
    if bad.size:
        k = int(bad[0]) + 1
        raise IngestError(f"{where(file, lines[k], None, time_col)}: time {t[k]:g} s does not increase "
                          f"(previous sample at line {lines[k - 1]}: {t[k - 1]:g} s)")
    median = float(np.median(step))
    interval = float(f"{median:.6g}")
    if np.max(np.abs(step - median)) <= _UNIFORM_RTOL * median:
        return interval, signals, False
    n = int(np.floor((t[-1] - t[0]) / interval + 1e-9)) + 1
    grid = t[0] + np.arange(n) * interval
    return interval, {s: np.interp(grid, t, v) for s, v in signals.items()}, True
