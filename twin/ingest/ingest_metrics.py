"""``metrics.json`` of an ingestion run: what was read, written and dropped, and what the data looks like.

Keys (cycle logs)::

    run_id, source_file, source_sha256, mapping_file, mapping_name, code_version
    rows_read           data rows in the file (after the header; blank lines not counted)
    rows_written        rows in cycles.parquet
    rows_dropped        rows left out (--skip-bad-rows); dropped_by_kind counts problems per kind
    timestamps_filled   missing timestamps interpolated ([time] fill = "interpolate")
    timestamps_filled_off_date   of those, how many landed on another day than their date cell
    order               "check" (file order, verified) or "sort" (sorted by time)
    time_span           first/last start_time (UTC and the log's time zone) and the span in hours
    null_counts         per cycles column: how many written rows are null
    experiments         experiment -> rows; machines: machine_id -> rows
    labels              good / bad / unlabelled rows and rows per defect_type
    curves              (when [curves] is used) curve rows written, files missing, resampled ...
"""
from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["cycles_metrics", "time_span"]


def cycles_metrics(table: pa.Table, timezone: str) -> dict[str, Any]:
    """Data-describing metrics of a written ``cycles`` table (see the module docstring)."""
    out: dict[str, Any] = {
        "null_counts": {name: table.column(name).null_count for name in table.column_names},
        "time_span": time_span(table, timezone),
        "experiments": _counts(table, "experiment"),
        "machines": _counts(table, "machine_id"),
    }
    good = table.column("good")
    out["labels"] = {
        "good": int(pc.sum(pc.cast(pc.fill_null(good, False), pa.int64())).as_py() or 0),
        "bad": int(pc.sum(pc.cast(pc.fill_null(pc.invert(good), False), pa.int64())).as_py() or 0),
        "unlabelled": good.null_count,
        "defect_type": _counts(table, "defect_type"),
    }
    return out


def time_span(table: pa.Table, timezone: str) -> dict[str, Any]:
    """First and last ``start_time`` (ISO, UTC and local) and the span in hours; empty for an empty table."""
    if table.num_rows == 0:
        return {}
    start = table.column("start_time")
    lo = pc.min(start).as_py()
    hi = pc.max(start).as_py()
    zone = ZoneInfo(timezone)
    return {
        "first_start_utc": _iso(lo),
        "last_start_utc": _iso(hi),
        "first_start_local": lo.astimezone(zone).isoformat(timespec="seconds"),
        "last_start_local": hi.astimezone(zone).isoformat(timespec="seconds"),
        "timezone": timezone,
        "hours": round((hi - lo).total_seconds() / 3600.0, 4),
    }


def _counts(table: pa.Table, column: str) -> dict[str, int]:
    values = table.column(column).to_pylist()
    counts = Counter("(null)" if v is None else str(v) for v in values)
    return dict(sorted(counts.items()))


def _iso(t: dt.datetime) -> str:
    return t.astimezone(dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
