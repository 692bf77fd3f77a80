"""Bad rows: stop on the first one, or drop them all and say which (``--skip-bad-rows``).

:func:`raise_or_keep` is the single decision point. Without
``skip_bad_rows`` the earliest problem in file order is raised as an
:class:`~twin.ingest.errors.IngestError` (with a count of the others);
with it, the problems are kept and end up in ``dropped_rows.csv``
(:func:`dropped_rows_csv`), one line per problem::

    file,line,data_row,column,value,kind,reason
    static_data.csv,43,42,weight,abc,number,cannot read 'abc' as a number (decimal mark ',')

A row with several problems is listed once per problem and dropped once.
"""
from __future__ import annotations

import csv
import io
from collections import Counter

from twin.ingest.errors import IngestError, RowProblem

__all__ = ["raise_or_keep", "dropped_rows_csv", "reason_counts", "DROPPED_COLUMNS"]

DROPPED_COLUMNS = ("file", "line", "data_row", "column", "value", "kind", "reason")


def raise_or_keep(problems: list[RowProblem], skip_bad_rows: bool) -> None:
    """Raise the first problem (file order) unless ``skip_bad_rows``; no-op when there are none."""
    if not problems or skip_bad_rows:
        return
    ordered = sorted(problems, key=lambda p: (p.file, p.line, p.data_row))
    first = ordered[0]
    others = len({(p.file, p.data_row) for p in ordered}) - 1
    more = (f" ({others} more bad row{'s' if others != 1 else ''}; --skip-bad-rows / skip_bad_rows=True drops them "
            "and lists them in dropped_rows.csv)") if others else \
        " (--skip-bad-rows / skip_bad_rows=True drops such rows and lists them in dropped_rows.csv)"
    raise IngestError(first.message() + more)


def dropped_rows_csv(problems: list[RowProblem]) -> str:
    """The problems as CSV text, in file order."""
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(DROPPED_COLUMNS)
    for p in sorted(problems, key=lambda p: (p.file, p.line, p.data_row, p.column)):
        writer.writerow([p.file, p.line, p.data_row, p.column, p.value, p.kind, p.reason])
    return buf.getvalue()


def reason_counts(problems: list[RowProblem]) -> dict[str, int]:
    """How many problems of each kind (:attr:`RowProblem.kind`)."""
    return dict(sorted(Counter(p.kind for p in problems).items()))
