"""Quality labels from a log: ``good``, ``defect_type`` and the ``defect_*`` booleans.

Per row, with a ``[label]`` table:

* ``good``: from the pass/fail ``column`` — ``true`` if the cell matches
  ``good_values``, ``false`` if it matches ``bad_values`` (with only one of
  the two lists given, everything else present is the other outcome; with
  both, any other value is a bad row). Without a pass/fail column, a row is
  good when its reason cell is empty or in ``no_reason``. An empty cell
  leaves the label null.
* ``defect_type``: ``"good"`` for a good part (the schema's convention).
  For a bad part, the reason cell looked up in ``reasons`` (log text ->
  name). The name may be one of :data:`twin.schema.DEFECT_TYPES`
  (``short_shot``, ``flash``, ``burn_marks``, ``warpage``, ``sink_marks``):
  then ``defect_<name>`` is true and the others false. **Any other name**
  (KAMP's ``초기허용불량`` -> ``startup_reject``) still makes the part bad with
  ``defect_type = name`` — the schema's ``defect_type`` is a free string —
  and all ``defect_*`` booleans false: the part was rejected for a reason
  the twin does not model. A bad part with no reason has ``defect_type``
  and ``defect_*`` null (we do not know what was wrong). A reason text not
  in ``reasons`` is a bad row, or (``unmapped_reason = "keep"``) becomes
  ``defect_type`` as it is.
* no ``[label]`` table: all of these stay null.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from twin.ingest.csv_table import Table
from twin.ingest.errors import RowProblem, short
from twin.ingest.mapping_spec import LabelSpec
from twin.schema import DEFECT_TYPES

__all__ = ["Labels", "read_labels"]


@dataclass
class Labels:
    """Per row: ``good`` (bool/None), ``defect_type`` (str/None), ``defects[name]`` (bool/None) and bad rows."""

    good: list[bool | None]
    defect_type: list[str | None]
    defects: dict[str, list[bool | None]]
    problems: list[RowProblem] = field(default_factory=list)


def read_labels(table: Table, spec: LabelSpec, index: dict[str, int]) -> Labels:
    """Labels of every row of ``table`` (``index``: column name -> position)."""
    n = len(table.rows)
    good: list[bool | None] = [None] * n
    kind: list[str | None] = [None] * n
    defects: dict[str, list[bool | None]] = {d: [None] * n for d in DEFECT_TYPES}
    problems: list[RowProblem] = []
    pf = index[spec.column] if spec.column else None
    rc = index[spec.reason_column] if spec.reason_column else None
    for i, row in enumerate(table.rows):
        reason = row[rc].strip() if rc is not None else ""
        no_reason = not reason or spec.no_reason.matches(reason)
        if pf is not None:
            text = row[pf]
            outcome = _outcome(text, spec)
            if outcome == "?":
                problems.append(RowProblem(table.file, table.lines[i], table.data_rows[i], spec.column or "", text,
                                           f"{short(text)} is neither in label.good_values nor in label.bad_values",
                                           "label"))
                continue
            if outcome is None:
                continue
        else:
            outcome = no_reason
        good[i] = outcome
        if outcome:
            kind[i] = "good"
            for d in DEFECT_TYPES:
                defects[d][i] = False
            continue
        if no_reason:
            continue  # rejected, reason unknown: defect_type and defect_* stay null
        name = spec.reasons.get(reason)
        if name is None:
            if spec.unmapped_reason != "keep":
                problems.append(RowProblem(table.file, table.lines[i], table.data_rows[i], spec.reason_column or "",
                                           reason, f"reason {short(reason)} is not in label.reasons (add it, or set "
                                                   "label.unmapped_reason = \"keep\")", "label"))
                good[i] = None
                continue
            name = reason
        kind[i] = name
        for d in DEFECT_TYPES:
            defects[d][i] = d == name
    return Labels(good=good, defect_type=kind, defects=defects, problems=problems)


def _outcome(text: str, spec: LabelSpec) -> bool | None | str:
    """True (good), False (bad), None (empty cell) or "?" (neither list)."""
    if not text.strip():
        return None
    is_good = bool(spec.good_values) and spec.good_values.matches(text)
    is_bad = bool(spec.bad_values) and spec.bad_values.matches(text)
    if is_good:
        return True
    if is_bad:
        return False
    if spec.good_values and spec.bad_values:
        return "?"
    return not spec.good_values  # only bad_values listed: the rest is good; only good_values: the rest is bad
