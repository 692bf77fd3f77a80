"""Splitting a delimited text file into a header and rows that remember their line numbers.

Python's :mod:`csv` module does the splitting (quotes, separators inside
quotes, line breaks inside quoted cells); this module adds what ingestion
needs on top:

* every row keeps the **line** where it starts and its **data row** number
  (1 = the first row after the header), so errors can point at it;
* lines above ``header_row`` are skipped (preambles);
* blank lines are skipped;
* a row whose number of fields differs from the header's is not returned
  but recorded as a :class:`~twin.ingest.errors.RowProblem` (a truncated
  last line is called that);
* a file with a header and no rows is an :class:`IngestError`.

Cells are kept as text: numbers are parsed by the field readers, which know
the decimal mark and the missing markers.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from twin.config_field import suggest_key
from twin.ingest.errors import IngestError, RowProblem, where

__all__ = ["Table", "parse_table"]


@dataclass
class Table:
    """The rows of a delimited file with a correct number of fields; see the module docstring."""

    file: str
    header: list[str]
    header_line: int
    rows: list[list[str]]
    lines: list[int]
    data_rows: list[int]
    problems: list[RowProblem] = field(default_factory=list)
    n_data_rows: int = 0

    def column_index(self, name: str, key: str) -> int:
        """Index of column ``name`` in the header; ``key`` (the mapping key asking) goes into the error."""
        return self.require([(name, key)])[name]

    def require(self, wanted: list[tuple[str, str]]) -> dict[str, int]:
        """``{column: index}`` for every ``(column, mapping key)``; one error naming every column not found."""
        out: dict[str, int] = {}
        missing: list[str] = []
        for name, key in wanted:
            hits = [i for i, h in enumerate(self.header) if h == name]
            if len(hits) == 1:
                out[name] = hits[0]
            elif hits:
                raise IngestError(f"{where(self.file, self.header_line, None, name)}: the header has this column "
                                  f"{len(hits)} times (fields {', '.join(str(h + 1) for h in hits)}); rename one "
                                  f"({key})")
            else:
                missing.append(f"column {name!r} ({key}){suggest_key(name, self.header)}")
        if not missing:
            return out
        n = len(self.header)
        tail = f"the header has {n} column{'s' if n != 1 else ''}: {_preview(self.header)}{self._separator_hint()}"
        if len(missing) == 1:
            raise IngestError(f"{self.file}, line {self.header_line}, {missing[0]}: not found in the header; {tail}")
        raise IngestError(f"{self.file}, line {self.header_line}: {len(missing)} mapped columns are not in the "
                          "header:\n" + "\n".join(f"  - {m}" for m in missing) + f"\n{tail}")

    def _separator_hint(self) -> str:
        if len(self.header) != 1:
            return ""
        found = [c for c in (",", ";", "\t", "|") if c in self.header[0]]
        return f" (is [source] separator right? the header line contains {found[0]!r})" if found else ""

    def column(self, index: int) -> list[str]:
        """The cells of column ``index``, one per row."""
        return [r[index] for r in self.rows]


def parse_table(text: str, file: str, *, separator: str, quote: str, header_row: int = 1) -> Table:
    """Parse ``text`` (the decoded file) into a :class:`Table`; raise :class:`IngestError` if it has no rows."""
    offset = 0
    body = text
    if header_row > 1:
        parts = text.split("\n", header_row - 1)
        if len(parts) < header_row:
            raise IngestError(f"{file}: header_row = {header_row}, but the file has only {len(parts)} lines")
        body = parts[-1]
        offset = header_row - 1
    dialect = {"delimiter": separator, "strict": True}
    if quote:
        dialect["quotechar"] = quote
    else:
        dialect["quoting"] = csv.QUOTE_NONE
    reader = csv.reader(io.StringIO(body, newline=""), **dialect)
    header: list[str] | None = None
    header_line = 0
    rows: list[list[str]] = []
    lines: list[int] = []
    data_rows: list[int] = []
    problems: list[RowProblem] = []
    records: list[tuple[int, list[str]]] = []
    prev = 0
    try:
        for record in reader:
            start = offset + prev + 1
            prev = reader.line_num
            if not record or (len(record) == 1 and not record[0].strip()):
                continue  # blank line
            if header is None:
                header, header_line = [h.strip() for h in record], start
                continue
            records.append((start, record))
    except csv.Error as exc:
        raise IngestError(f"{where(file, offset + reader.line_num)}: cannot split the line into fields: {exc}"
                          f" (check [source] separator and quote)") from None
    if header is None:
        raise IngestError(f"{file}: the file is empty: no header line")
    if not records:
        raise IngestError(f"{where(file, header_line)}: the file has a header but no data rows")
    n = len(header)
    ends_with_newline = text.endswith(("\n", "\r"))
    for k, (line, record) in enumerate(records, start=1):
        if len(record) == n:
            rows.append(record)
            lines.append(line)
            data_rows.append(k)
            continue
        last = k == len(records)
        kind = "field_count"
        if last and len(record) < n and not ends_with_newline:
            kind = "truncated"
            reason = (f"truncated: the last line has {len(record)} of the header's {n} fields and the file "
                      "does not end with a line break")
        else:
            reason = (f"has {len(record)} fields, the header (line {header_line}) has {n}"
                      " (check [source] separator and quote)")
        # name the first column the row lacks, or the first extra field
        column = header[len(record)] if len(record) < n else f"(extra field {n + 1})"
        problems.append(RowProblem(file, line, k, column, _preview(record, 80), reason, kind))
    return Table(file=file, header=header, header_line=header_line, rows=rows, lines=lines, data_rows=data_rows,
                 problems=problems, n_data_rows=len(records))


def _preview(cells: list[str], limit: int = 120) -> str:
    text = ", ".join(repr(c) for c in cells)
    return text if len(text) <= limit else text[: limit - 3] + "..."
