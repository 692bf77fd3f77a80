"""The errors of ingestion, and the one place their messages are phrased.

Two kinds of problems, because ``--skip-bad-rows`` treats them differently:

* :class:`IngestError`: a *file-level* problem (a mapped column is not in the
  header, the file is empty or not in the declared encoding, a unit in the
  mapping is unknown...). Ingestion stops, nothing is written.
* :class:`RowProblem`: a *row-level* problem (a number that does not parse,
  a row with the wrong number of fields, a duplicate cycle id, a bad or
  decreasing timestamp). Without ``skip_bad_rows`` the first one (in file
  order) is raised as an :class:`IngestError`; with it, the row is dropped
  and listed in ``dropped_rows.csv``.

Every message names the file, the column and the row. Rows are named by
their **line** in the file, as an editor shows it (the header is line 1 in
a plain CSV), and by their **data row** (1 = the first row after the
header), which is also what ``[id] row_number = true`` uses as cycle id::

    static_data.csv, line 43 (data row 42), column 'weight': cannot read 'abc' as a number (decimal mark ',')

:class:`MappingError` (a bad mapping file) lists every problem at once, one
line each, in the style of :class:`twin.config.ConfigError`.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["IngestError", "MappingError", "RowProblem", "where", "short"]


class IngestError(ValueError):
    """A problem that stops ingestion; the message names file, column and row where they apply."""


class MappingError(IngestError):
    """An invalid mapping file; ``problems`` holds one message per problem (each names its key)."""

    def __init__(self, problems: list[str], mapping_file: Path | str | None = None):
        self.problems = list(problems)
        self.mapping_file = mapping_file
        super().__init__(self.problems)

    def __str__(self) -> str:
        where_ = f" ({self.mapping_file})" if self.mapping_file else ""
        n = len(self.problems)
        head = f"invalid mapping{where_}: {n} problem{'s' if n != 1 else ''}"
        return "\n".join([head] + [f"  - {p}" for p in self.problems])


@dataclass(frozen=True)
class RowProblem:
    """One bad row: where it is, which column, the offending text and why.

    ``line`` is the 1-based line in the file (0 when the row has no line of
    its own), ``data_row`` the 1-based row after the header, ``column`` the
    source column, ``kind`` a short tag counted in ``metrics.json``
    (``number``, ``field_count``, ``truncated``, ``duplicate_id``,
    ``timestamp``, ``time_order``, ``label``, ``range``, ``curve_file``).
    """

    file: str
    line: int
    data_row: int
    column: str
    value: str
    reason: str
    kind: str = "bad_row"

    def message(self) -> str:
        """The problem as one sentence: ``FILE, line L (data row R), column 'C': REASON``."""
        return f"{where(self.file, self.line, self.data_row, self.column)}: {self.reason}"


def where(file: str, line: int | None = None, data_row: int | None = None, column: str | None = None) -> str:
    """``FILE, line L (data row R), column 'C'`` with the parts that are known."""
    text = str(file)
    if line:
        text += f", line {line}"
        if data_row:
            text += f" (data row {data_row})"
    elif data_row:
        text += f", data row {data_row}"
    if column:
        text += f", column {column!r}"
    return text


def short(value: object, limit: int = 60) -> str:
    """``repr`` of a value cut to ``limit`` characters, for messages."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
