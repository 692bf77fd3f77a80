"""Cycle ids of a log: an integer column, or the data row number; duplicates are bad rows.

``[id] column = "..."``: each cell must be an integer (``"17"``; ``"17.0"``
is accepted, ``"17.5"`` and ``"5f8928bb"`` are not). ``[id] row_number =
true``: the data row number, 1 for the first row after the header — stable
for a given file, and what error messages call "data row".

A repeated id is a bad row: the first occurrence (in file order) is kept
and the later one is reported with both lines.
"""
from __future__ import annotations

import numpy as np

from twin.ingest.csv_table import Table
from twin.ingest.errors import RowProblem, short
from twin.ingest.mapping_spec import IdSpec
from twin.ingest.markers import parse_number

__all__ = ["read_ids", "duplicate_problems"]

_INT64_MAX = 2**63 - 1


def read_ids(table: Table, spec: IdSpec, index: dict[str, int], decimal: str) -> tuple[np.ndarray, list[RowProblem]]:
    """``(ids, problems)``: int64 cycle ids (0 where the cell is bad) and the bad rows."""
    n = len(table.rows)
    if spec.row_number:
        return np.asarray(table.data_rows, dtype=np.int64), []
    assert spec.column is not None
    col = index[spec.column]
    ids = np.zeros(n, dtype=np.int64)
    problems: list[RowProblem] = []
    for i, row in enumerate(table.rows):
        text = row[col].strip()
        value = _integer(text, decimal)
        if value is None:
            reason = "no cycle id (empty cell)" if not text else f"cannot read {short(text)} as an integer cycle id"
            problems.append(RowProblem(table.file, table.lines[i], table.data_rows[i], spec.column, row[col], reason,
                                       "cycle_id"))
            continue
        ids[i] = value
    return ids, problems


def duplicate_problems(table: Table, spec: IdSpec, ids: np.ndarray, keep: np.ndarray,
                       index: dict[str, int]) -> list[RowProblem]:
    """Kept rows whose id was already used by an earlier kept row."""
    seen: dict[int, int] = {}
    problems = []
    column = spec.column or "(data row number)"
    for i in np.flatnonzero(keep):
        cid = int(ids[i])
        first = seen.setdefault(cid, int(i))
        if first != i:
            problems.append(RowProblem(
                table.file, table.lines[i], table.data_rows[i], column,
                table.rows[i][index[spec.column]] if spec.column else str(cid),
                f"duplicate cycle_id {cid}: already at line {table.lines[first]} (data row {table.data_rows[first]})",
                "duplicate_id"))
    return problems


def _integer(text: str, decimal: str) -> int | None:
    if not text:
        return None
    try:
        value = int(text)
    except ValueError:
        number = parse_number(text, decimal)
        if number is None or not number.is_integer():
            return None
        value = int(number)
    return value if -_INT64_MAX <= value <= _INT64_MAX else None
