"""Cycle timestamps from a log: parse, fill the missing ones, check (or establish) time order.

Three steps, each on the rows still kept:

1. :func:`parse_times` reads ``[time]`` ``column`` (or ``date_column`` +
   ``time_column``) with the strptime formats (``"iso"``, ``"epoch_s"`` and
   ``"epoch_ms"`` are accepted for one column). A naive time is local time
   of ``timezone`` (IANA name, default UTC; daylight saving is handled by
   :mod:`zoneinfo`); the result is int64 **milliseconds since the epoch,
   UTC** (:mod:`twin.arrow_rows`). Empty cells and cells listed in
   ``missing`` (Kassel: ``"00:00:00"``) are *missing*; a cell that does not
   match the format makes the row bad.
2. :func:`fill_times`: with ``fill = "interpolate"`` a missing timestamp is
   interpolated linearly **by row order** between the nearest valid
   timestamps before and after it; missing ones before the first (after
   the last) valid timestamp take that one (back-/forward-fill). With
   ``fill = "error"`` a missing timestamp makes the row bad.
3. :func:`order_problems`: with ``order = "check"`` timestamps must be
   non-decreasing in file order; a row earlier than the latest timestamp
   before it is bad, and the message gives both rows and both times. With
   ``order = "sort"`` (:func:`sort_order`) the rows are sorted by time
   (stable: equal times keep file order) instead.
"""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np

from twin.ingest.csv_table import Table
from twin.ingest.errors import IngestError, RowProblem, short
from twin.ingest.mapping_spec import TimeSpec

__all__ = ["parse_times", "fill_times", "filled_off_date", "order_problems", "sort_order", "format_ms"]

_UTC = dt.timezone.utc


def parse_times(table: Table, spec: TimeSpec, index: dict[str, int]) -> tuple[np.ndarray, np.ndarray, list[RowProblem]]:
    """``(ms, present, problems)``: int64 ms (0 where not present), a bool mask of parsed cells, bad rows."""
    zone = ZoneInfo(spec.timezone)
    n = len(table.rows)
    ms = np.zeros(n, dtype=np.int64)
    present = np.zeros(n, dtype=bool)
    problems: list[RowProblem] = []
    if spec.column is not None:
        parts = [(spec.column, spec.format)]
    else:
        parts = [(spec.date_column, spec.date_format), (spec.time_column, spec.time_format)]
    parsers = [(_Parser(fmt, zone), index[col], col) for col, fmt in parts]  # type: ignore[arg-type]
    for i, row in enumerate(table.rows):
        texts = [row[c].strip() for _, c, _ in parsers]
        if any(not t or spec.missing.matches(t) for t in texts):
            continue
        values = []
        for (parser, c, col), text in zip(parsers, texts):
            value = parser(text)
            if value is None:
                problems.append(RowProblem(table.file, table.lines[i], table.data_rows[i], col, row[c],
                                           f"cannot read {short(text)} as a time with format {parser.fmt!r}",
                                           "timestamp"))
                break
            values.append(value)
        else:
            ms[i] = _to_ms(values, zone)
            present[i] = True
    return ms, present, problems


def fill_times(table: Table, spec: TimeSpec, ms: np.ndarray, present: np.ndarray, keep: np.ndarray,
               index: dict[str, int]) -> tuple[np.ndarray, int, list[RowProblem]]:
    """Fill the missing timestamps of the kept rows; returns ``(ms, n_filled, problems)``."""
    missing = keep & ~present
    if not missing.any():
        return ms, 0, []
    col = spec.time_column or spec.column or ""
    if spec.fill == "error":
        problems = [RowProblem(table.file, table.lines[i], table.data_rows[i], col, table.rows[i][index[col]],
                               "no timestamp (empty or a [time] missing marker); set [time] fill = \"interpolate\" "
                               "to fill it from its neighbours", "timestamp")
                    for i in np.flatnonzero(missing)]
        return ms, 0, problems
    rows = np.flatnonzero(keep)
    valid = present[rows]
    if not valid.any():
        raise IngestError(f"{table.file}, column {col!r}: no row has a timestamp, nothing to interpolate from")
    pos = np.arange(len(rows), dtype=np.float64)
    filled = np.interp(pos, pos[valid], ms[rows][valid].astype(np.float64))
    out = ms.copy()
    out[rows] = np.where(valid, ms[rows], np.round(filled).astype(np.int64))
    return out, int((~valid).sum()), []


def filled_off_date(table: Table, spec: TimeSpec, ms: np.ndarray, filled: np.ndarray, index: dict[str, int]) -> int:
    """How many filled timestamps fall on another local day than their row's date cell (date + time columns only).

    Interpolating by row order assumes cycles ran evenly between the valid
    neighbours; a long run without times (Kassel's reference_02) can then
    spill past midnight while its date column says otherwise. The count goes
    into ``metrics.json`` as a warning sign, the timestamps are kept.
    """
    if spec.date_column is None or not filled.any():
        return 0
    zone = ZoneInfo(spec.timezone)
    parse = _Parser(spec.date_format or "", zone)
    col = index[spec.date_column]
    off = 0
    for i in np.flatnonzero(filled):
        day = parse(table.rows[i][col].strip())
        if day is None:
            continue
        local = dt.datetime.fromtimestamp(int(ms[i]) / 1000.0, tz=zone).date()
        off += local != day.date()  # type: ignore[attr-defined]
    return int(off)


def order_problems(table: Table, spec: TimeSpec, ms: np.ndarray, keep: np.ndarray,
                   index: dict[str, int]) -> list[RowProblem]:
    """Rows (among the kept ones) whose timestamp is earlier than the latest one before them in file order."""
    rows = np.flatnonzero(keep)
    t = ms[rows]
    running = np.maximum.accumulate(t)
    bad = np.flatnonzero(t[1:] < running[:-1]) + 1
    col = spec.time_column or spec.column or ""
    zone = ZoneInfo(spec.timezone)
    problems = []
    for k in bad:
        i = int(rows[k])
        j = int(rows[int(np.flatnonzero(t[:k] == running[k - 1])[-1])])  # the row holding the running maximum
        problems.append(RowProblem(
            table.file, table.lines[i], table.data_rows[i], col, table.rows[i][index[col]],
            f"timestamp {format_ms(int(ms[i]), zone)} is earlier than {format_ms(int(ms[j]), zone)} at line "
            f"{table.lines[j]} (data row {table.data_rows[j]}); timestamps must not decrease in file order "
            "(set [time] order = \"sort\" if the log is not written in time order)", "time_order"))
    return problems


def sort_order(ms: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``rows`` sorted by their timestamp; equal timestamps keep file order."""
    return rows[np.argsort(ms[rows], kind="stable")]


def format_ms(ms: int, zone: dt.tzinfo = _UTC) -> str:
    """Epoch milliseconds as ``2024-06-05 15:52:13+02:00`` in ``zone``."""
    return dt.datetime.fromtimestamp(ms / 1000.0, tz=zone).isoformat(sep=" ", timespec="seconds")


class _Parser:
    """Parse one cell with a strptime format (or iso / epoch_s / epoch_ms); returns None if it does not match."""

    def __init__(self, fmt: str, zone: dt.tzinfo):
        self.fmt = fmt
        self.zone = zone
        self.cache: dict[str, object] = {}

    def __call__(self, text: str) -> object | None:
        hit = self.cache.get(text)
        if hit is not None:
            return hit
        try:
            if self.fmt == "iso":
                value: object = dt.datetime.fromisoformat(text)
            elif self.fmt in ("epoch_s", "epoch_ms"):
                seconds = float(text) / (1000.0 if self.fmt == "epoch_ms" else 1.0)
                value = dt.datetime.fromtimestamp(seconds, tz=_UTC)
            else:
                value = dt.datetime.strptime(text, self.fmt)
        except (ValueError, OverflowError, OSError):
            return None
        if len(self.cache) < 100_000:
            self.cache[text] = value
        return value


def _to_ms(values: list, zone: dt.tzinfo) -> int:
    """One datetime, or a (date part, time part) pair, as epoch milliseconds."""
    if len(values) == 1:
        stamp = values[0]
    else:
        d, t = values
        stamp = dt.datetime.combine(d.date(), t.time())
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=zone)
    return int(round(stamp.timestamp() * 1000.0))
