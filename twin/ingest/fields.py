"""Reading one mapped field from the rows of a log: text cells -> a column of the cycles table.

For a number field (:class:`~twin.ingest.mapping_spec.FieldSpec`, ``kind =
"number"``), per row:

1. each source cell is *missing* if it is empty or matches ``missing``
   (text or number, see :mod:`twin.ingest.markers`); otherwise it must read
   as a number with the file's decimal mark, else the row is bad
   ("cannot read 'abc' as a number");
2. several ``columns`` are joined by ``combine``: ``first`` (the first
   present value), ``sum`` (null if any is missing: a partial sum would be
   a wrong number, not a missing one), ``mean`` and ``max`` (over the
   present values; null if none);
   ``derive`` takes the regex group of another column instead (a row that
   does not match is missing); ``constant`` is the same value on every row;
3. ``value = raw * scale + offset`` (in the field's ``unit``);
4. missing values take ``default`` (in ``unit``) when there is one;
5. the value is converted from ``unit`` to the unit of the column name
   (through the screw cross-section for volume -> position and flow ->
   velocity, :mod:`twin.ingest.units`);
6. a value outside ``valid`` makes the row bad.

Nulls are ``NaN`` in the float array. String fields (``machine_id``,
``experiment`` ...) keep the stripped text; missing -> ``default`` or None.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from twin.ingest.csv_table import Table
from twin.ingest.errors import RowProblem, short
from twin.ingest.mapping_spec import FieldSpec
from twin.ingest.markers import ValueSet, parse_number
from twin.ingest.units import converter

__all__ = ["FieldResult", "read_field"]


@dataclass
class FieldResult:
    """One field's column: ``values`` (float array with NaN for null, or a list of str/None) and bad rows."""

    values: np.ndarray | list[str | None]
    problems: list[RowProblem] = field(default_factory=list)


def read_field(table: Table, spec: FieldSpec, index: dict[str, int], decimal: str,
               screw_diameter_mm: float | None) -> FieldResult:
    """Read ``spec`` from ``table`` (``index``: column name -> position, from :meth:`Table.require`)."""
    if spec.kind == "string":
        return _read_string(table, spec, index)
    return _read_number(table, spec, index, decimal, screw_diameter_mm)


def _read_number(table: Table, spec: FieldSpec, index: dict[str, int], decimal: str,
                 screw_diameter_mm: float | None) -> FieldResult:
    n = len(table.rows)
    problems: list[RowProblem] = []
    if spec.constant is not None:
        raw = np.full(n, float(spec.constant))
    elif spec.derive is not None:
        raw = _derive_numbers(table, spec, index[spec.derive.column], decimal, problems)
    else:
        cols = [_numbers(table, index[c], c, spec.missing, decimal, problems) for c in spec.columns]
        raw = _combine(cols, spec.combine)
    values = raw * spec.scale + spec.offset if (spec.scale != 1.0 or spec.offset != 0.0) else raw
    if spec.default is not None:
        values = np.where(np.isnan(values), spec.default, values)
    if spec.unit is not None and spec.target_unit is not None and spec.unit != spec.target_unit:
        values = converter(spec.unit, spec.target_unit, screw_diameter_mm)(values)
    if spec.valid is not None:
        lo, hi = spec.valid
        bad = np.flatnonzero(~np.isnan(values) & ((values < lo) | (values > hi)))
        column = spec.columns[0] if spec.columns else (spec.derive.column if spec.derive else spec.target)
        for i in bad:
            problems.append(_problem(table, int(i), column, table.rows[i][index[column]] if column in index else "",
                                     f"{values[i]:g} {spec.target_unit} ({spec.target}) is outside the valid range "
                                     f"[{lo:g}, {hi:g}] of {spec.key}.valid", "range"))
    return FieldResult(np.asarray(values, dtype=np.float64), problems)


def _numbers(table: Table, col: int, name: str, missing: ValueSet, decimal: str,
             problems: list[RowProblem]) -> np.ndarray:
    """One source column as floats (NaN = missing); unparsable cells go to ``problems`` (and are NaN)."""
    out = np.empty(len(table.rows))
    cache: dict[str, float] = {}
    nan = float("nan")
    for i, row in enumerate(table.rows):
        text = row[col]
        value = cache.get(text)
        if value is None:
            value = _cell_number(text, missing, decimal)
            if value is None:
                problems.append(_problem(table, i, name, text, f"cannot read {short(text)} as a number "
                                                               f"(decimal mark {decimal!r})", "number"))
                value = nan
            else:
                cache[text] = value
        out[i] = value
    return out


def _cell_number(text: str, missing: ValueSet, decimal: str) -> float | None:
    """NaN for a missing cell, the number, or None when the cell is not a number."""
    t = text.strip()
    if not t or (missing.texts and t in missing.texts):
        return float("nan")
    value = parse_number(t, decimal)
    if value is None:
        return None
    return float("nan") if missing.matches_number(value) else value


def _combine(cols: list[np.ndarray], how: str) -> np.ndarray:
    if len(cols) == 1:
        return cols[0]
    stack = np.vstack(cols)
    present = ~np.isnan(stack)
    any_present = present.any(axis=0)
    if how == "sum":
        return np.where(present.all(axis=0), np.nansum(stack, axis=0), np.nan)
    if how == "first":
        first = np.argmax(present, axis=0)
        return np.where(any_present, stack[first, np.arange(stack.shape[1])], np.nan)
    filled = np.where(present, stack, 0.0 if how == "mean" else -np.inf)
    if how == "mean":
        count = present.sum(axis=0)
        return np.where(any_present, filled.sum(axis=0) / np.maximum(count, 1), np.nan)
    return np.where(any_present, filled.max(axis=0), np.nan)  # max


def _derive_numbers(table: Table, spec: FieldSpec, col: int, decimal: str, problems: list[RowProblem]) -> np.ndarray:
    d = spec.derive
    assert d is not None
    out = np.full(len(table.rows), np.nan)
    cache: dict[str, float | None | str] = {}
    for i, row in enumerate(table.rows):
        text = row[col]
        if text not in cache:
            m = d.pattern.search(text)
            if m is None or m.group(d.group) is None:
                cache[text] = float("nan")
            else:
                found = m.group(d.group)
                value = parse_number(found, decimal)
                cache[text] = value if value is not None else found
        value = cache[text]
        if isinstance(value, str):
            problems.append(_problem(table, i, d.column, text, f"the text {short(value)} matched by "
                                     f"{spec.key}.derive.pattern is not a number", "number"))
            continue
        out[i] = value
    return out


def _read_string(table: Table, spec: FieldSpec, index: dict[str, int]) -> FieldResult:
    n = len(table.rows)
    if spec.constant is not None:
        return FieldResult([spec.constant] * n)
    out: list[str | None] = []
    if spec.derive is not None:
        d = spec.derive
        col = index[d.column]
        for row in table.rows:
            m = d.pattern.search(row[col])
            text = m.group(d.group) if m else None
            out.append(text if text else spec.default)
        return FieldResult(out)
    col = index[spec.columns[0]]
    for row in table.rows:
        t = row[col].strip()
        out.append(spec.default if not t or spec.missing.matches(t) else t)
    return FieldResult(out)


def _problem(table: Table, i: int, column: str, value: str, reason: str, kind: str) -> RowProblem:
    return RowProblem(table.file, table.lines[i], table.data_rows[i], column, value, reason, kind)
