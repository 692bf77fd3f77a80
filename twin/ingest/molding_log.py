"""A cycle log file + its mapping -> the columns of the ``cycles`` table, in memory.

:func:`read_molding_log` does every check before anything is written:

1. decode and split the file (:mod:`twin.ingest.textfile`,
   :mod:`twin.ingest.csv_table`); every mapped column must be in the header;
2. read each ``[fields]`` entry, the cycle ids, the labels and the
   timestamps row by row (:mod:`twin.ingest.fields`, :mod:`~twin.ingest.cycle_ids`,
   :mod:`~twin.ingest.labels`, :mod:`~twin.ingest.timestamps`);
3. among the rows still good: duplicate ids, then missing timestamps
   (filled or bad), then time order (checked, or sorted);
4. all bad rows together: the first one (file order) is raised, or with
   ``skip_bad_rows`` they are dropped and returned as ``problems``.

Rows keep file order unless ``[time] order = "sort"``. ``start_time`` /
``end_time``: the logged timestamp is the one ``[time] marks``; the other
is one ``cycle_time_s`` away when that field is mapped and present, else
the same instant.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from twin.ingest.csv_table import Table, parse_table
from twin.ingest.cycle_ids import duplicate_problems, read_ids
from twin.ingest.dropped import raise_or_keep
from twin.ingest.errors import RowProblem
from twin.ingest.fields import read_field
from twin.ingest.labels import read_labels
from twin.ingest.mapping_spec import Mapping
from twin.ingest.textfile import TextFile, read_text_file
from twin.ingest.timestamps import fill_times, filled_off_date, order_problems, parse_times, sort_order
from twin.schema import DEFECT_TYPES

__all__ = ["MoldingLog", "read_molding_log", "DEFAULT_MACHINE_ID"]

log = logging.getLogger(__name__)

#: machine_id of rows when the mapping gives none (the column is non-nullable).
DEFAULT_MACHINE_ID = "unknown"


@dataclass
class MoldingLog:
    """The checked rows of a log: ``columns`` (cycles column -> array or list) for ``rows`` (table indices, output order)."""

    file: TextFile
    table: Table
    rows: np.ndarray
    columns: dict[str, Any]
    problems: list[RowProblem] = field(default_factory=list)
    timestamps_filled: int = 0
    timestamps_filled_off_date: int = 0

    @property
    def n_rows(self) -> int:
        """Rows that will be written."""
        return len(self.rows)


def read_molding_log(src: Path, mapping: Mapping, skip_bad_rows: bool) -> MoldingLog:
    """Read and check ``src`` with ``mapping``; see the module docstring."""
    assert mapping.id is not None and mapping.time is not None, "load the mapping with purpose='molding'"
    s = mapping.source
    tf = read_text_file(src, s.encoding, what="log file", separator=s.separator, header_row=s.header_row)
    table = parse_table(tf.text, str(src), separator=s.separator, quote=s.quote, header_row=s.header_row)
    index = table.require(_wanted_columns(mapping))
    problems: list[RowProblem] = list(table.problems)

    values: dict[str, Any] = {}
    for target, spec in mapping.fields.items():
        result = read_field(table, spec, index, s.decimal, mapping.machine.screw_diameter_mm)
        values[target] = result.values
        problems += result.problems
    ids, id_problems = read_ids(table, mapping.id, index, s.decimal)
    problems += id_problems
    labels = read_labels(table, mapping.label, index) if mapping.label else None
    if labels:
        problems += labels.problems
    ms, present, time_problems = parse_times(table, mapping.time, index)
    problems += time_problems
    machine = values.get("machine_id")
    if machine is not None:
        problems += [RowProblem(table.file, table.lines[i], table.data_rows[i], mapping.fields["machine_id"].columns[0],
                                table.rows[i][index[mapping.fields["machine_id"].columns[0]]],
                                "no machine_id (machine_id may not be empty; give fields.machine_id.default)",
                                "machine_id")
                     for i, m in enumerate(machine) if m is None]

    keep = _keep(len(table.rows), table, problems)
    dup = duplicate_problems(table, mapping.id, ids, keep, index)
    problems += dup
    keep = _keep(len(table.rows), table, problems)
    ms, n_filled, fill_problems = fill_times(table, mapping.time, ms, present, keep, index)
    problems += fill_problems
    off_date = filled_off_date(table, mapping.time, ms, keep & ~present, index) if n_filled else 0
    if off_date:
        log.warning("%s: %d of %d interpolated timestamps fall on another day than their %r cell", src, off_date,
                    n_filled, mapping.time.date_column)
    keep = _keep(len(table.rows), table, problems)
    if mapping.time.order == "check":
        problems += order_problems(table, mapping.time, ms, keep, index)
        keep = _keep(len(table.rows), table, problems)
    raise_or_keep(problems, skip_bad_rows)

    rows = np.flatnonzero(keep)
    if mapping.time.order == "sort":
        rows = sort_order(ms, rows)
    columns = _columns(mapping, rows, ids, ms, values, labels)
    return MoldingLog(file=tf, table=table, rows=rows, columns=columns, problems=problems,
                      timestamps_filled=n_filled, timestamps_filled_off_date=off_date)


def _wanted_columns(mapping: Mapping) -> list[tuple[str, str]]:
    """Every source column the mapping reads, with the key that reads it (for the error message)."""
    wanted: list[tuple[str, str]] = []
    if mapping.id and mapping.id.column:
        wanted.append((mapping.id.column, "id.column"))
    if mapping.time:
        for k in ("column", "date_column", "time_column"):
            c = getattr(mapping.time, k)
            if c:
                wanted.append((c, f"time.{k}"))
    for spec in mapping.fields.values():
        for c in spec.columns:
            wanted.append((c, f"{spec.key}.column"))
        if spec.derive:
            wanted.append((spec.derive.column, f"{spec.key}.derive.column"))
    if mapping.label:
        if mapping.label.column:
            wanted.append((mapping.label.column, "label.column"))
        if mapping.label.reason_column:
            wanted.append((mapping.label.reason_column, "label.reason_column"))
    if mapping.curves and mapping.curves.file_column:
        wanted.append((mapping.curves.file_column, "curves.file_column"))
    return wanted


def _keep(n: int, table: Table, problems: list[RowProblem]) -> np.ndarray:
    keep = np.ones(n, dtype=bool)
    if problems:
        pos = {r: i for i, r in enumerate(table.data_rows)}
        for p in problems:
            i = pos.get(p.data_row)
            if i is not None:
                keep[i] = False
    return keep


def _columns(mapping: Mapping, rows: np.ndarray, ids: np.ndarray, ms: np.ndarray, values: dict[str, Any],
             labels: Any) -> dict[str, Any]:
    n = len(rows)
    t = ms[rows]
    cycle = values.get("cycle_time_s")
    span = np.zeros(n, dtype=np.int64)
    if cycle is not None:
        c = np.asarray(cycle)[rows]
        span = np.where(np.isnan(c), 0, np.round(c * 1000.0)).astype(np.int64)
    start, end = (t, t + span) if mapping.time.marks == "start" else (t - span, t)  # type: ignore[union-attr]
    ts = pa.timestamp("ms", tz="UTC")
    cols: dict[str, Any] = {
        "source": ["real"] * n,
        "cycle_id": ids[rows],
        "start_time": pa.array(start, type=ts),
        "end_time": pa.array(end, type=ts),
    }
    for target, v in values.items():
        if isinstance(v, np.ndarray):
            cols[target] = pa.array(v[rows], type=pa.float64(), from_pandas=True)  # NaN -> null
        else:
            cols[target] = [v[i] for i in rows]
    if "machine_id" not in cols:
        cols["machine_id"] = [mapping.source.machine_id or DEFAULT_MACHINE_ID] * n
    if labels is not None:
        cols["good"] = [labels.good[i] for i in rows]
        cols["defect_type"] = [labels.defect_type[i] for i in rows]
        for d in DEFECT_TYPES:
            cols[f"defect_{d}"] = [labels.defects[d][i] for i in rows]
    return cols
