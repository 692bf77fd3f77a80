"""What the learners read: run folders, their cycles and curves, as rows (dicts) and labels.

A learner sees *records*, never the simulator: a run folder written by the
twin (``twin.simulate``) or by the ingestion of a real log (``twin.ingest``)
holds ``cycles.parquet`` (one row per cycle, :data:`twin.schema.CYCLES_SCHEMA`)
and, optionally, ``curves.parquet`` (one row per cycle, one ``list<float32>``
column per sensor channel). This module

* opens run folders and checks them (:func:`open_run`; a missing folder,
  file or column is a :class:`LearnerInputError` that names it),
* turns tables, lists of dicts and dicts of columns into rows
  (:func:`as_rows`),
* reads a row's label for a learner's target (:func:`label_of`): ``good``
  (bool) or ``defect_type`` (``"good"`` or a defect name; a bad part
  without a reason is ``"not_good"``),
* picks the scalar features a learner may use (:func:`scalar_feature_names`:
  logged features and setpoints, never ``hidden_*`` simulator state),
* reads the curves of chosen cycles from a large ``curves.parquet`` one row
  group at a time (:class:`CurveReader`).
"""
from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from twin.schema import FEATURE_FIELDS, SETPOINT_FIELDS

__all__ = ["LearnerInputError", "RunData", "open_run", "as_rows", "label_of", "to_good", "labels_of",
           "scalar_feature_names", "require_columns", "CurveReader", "KEY_COLUMNS", "NOT_GOOD",
           "time_seconds", "cycle_key"]

#: The columns that identify a cycle in both ``cycles`` and ``curves``.
KEY_COLUMNS: tuple[str, ...] = ("run_id", "machine_id", "cycle_id")
#: Defect-type label of a bad part whose reason is not logged.
NOT_GOOD = "not_good"
HIDDEN_PREFIX = "hidden_"


class LearnerInputError(ValueError):
    """Input a learner cannot use: a missing folder, file or column, or no labels; the message names it."""


@dataclass(frozen=True)
class RunData:
    """A checked run folder: its cycles table and, if present, the path of its curves."""

    path: Path
    cycles: pa.Table
    curves_path: Path | None

    @property
    def name(self) -> str:
        return self.path.name


def open_run(path: Path | str, *, need_curves: bool = False, need_labels: bool = False) -> RunData:
    """Open a run folder; raise :class:`LearnerInputError` naming what is missing."""
    path = Path(path)
    if not path.exists():
        raise LearnerInputError(f"{path}: no such run folder")
    if not path.is_dir():
        raise LearnerInputError(f"{path}: is not a folder (expected a run folder with cycles.parquet)")
    cyc = path / "cycles.parquet"
    if not cyc.is_file():
        raise LearnerInputError(f"{path}: no cycles.parquet (is it a run folder?)")
    try:
        cycles = pq.read_table(cyc)
    except (OSError, pa.ArrowInvalid) as exc:
        raise LearnerInputError(f"{cyc}: cannot read: {exc}") from exc
    require_columns(cycles, ("cycle_id", "end_time"), str(cyc))
    curves = path / "curves.parquet"
    if need_curves and not curves.is_file():
        raise LearnerInputError(f"{path}: no curves.parquet, and this learner reads sensor curves "
                                "(simulate with curves.enabled = true, or ingest the curve files)")
    if need_labels:
        require_columns(cycles, ("good",), str(cyc))
        if cycles["good"].null_count == cycles.num_rows:
            raise LearnerInputError(f"{cyc}: column 'good' has no labels (all null)")
    return RunData(path, cycles, curves if curves.is_file() else None)


def require_columns(table: pa.Table | pa.Schema, columns: Iterable[str], where: str) -> None:
    """Raise :class:`LearnerInputError` listing every column of ``columns`` that ``table`` lacks."""
    names = table.names if isinstance(table, pa.Schema) else table.column_names
    missing = [c for c in columns if c not in names]
    if missing:
        raise LearnerInputError(f"{where}: missing column(s) {missing}")


def as_rows(X: Any) -> list[dict]:
    """``X`` as a list of row dicts: a pyarrow Table, a list of dicts, a dict of columns, or one dict."""
    if isinstance(X, pa.Table):
        return X.to_pylist()
    if isinstance(X, pa.RecordBatch):
        return X.to_pylist()
    if isinstance(X, Mapping):
        cols = {k: (v.to_pylist() if isinstance(v, (pa.Array, pa.ChunkedArray)) else v) for k, v in X.items()}
        lengths = {len(v) for v in cols.values() if _is_column(v)}
        if len(lengths) == 1 and all(_is_column(v) for v in cols.values()):
            n = lengths.pop()
            return [{k: cols[k][i] for k in cols} for i in range(n)]
        return [dict(X)]  # one record
    if isinstance(X, Sequence) and not isinstance(X, (str, bytes)):
        rows = list(X)
        if rows and not all(isinstance(r, Mapping) for r in rows):
            raise LearnerInputError("records must be dicts (one per cycle), a pyarrow Table or a dict of columns")
        return rows
    raise LearnerInputError(f"expected records (a pyarrow Table, a list of dicts or a dict of columns), "
                            f"got {type(X).__name__}")


def _is_column(v: Any) -> bool:
    return isinstance(v, (list, tuple, np.ndarray)) and not (isinstance(v, np.ndarray) and v.ndim == 0)


def label_of(row: Mapping, target: str) -> Any:
    """The label of ``row`` for a learner's ``target``; None when the row is unlabelled.

    ``good``: the bool. ``defect_type``: the logged defect type, ``"good"``
    for a good part, :data:`NOT_GOOD` for a bad part without a reason.
    """
    good = row.get("good")
    if target == "good":
        return None if good is None else bool(good)
    if target == "defect_type":
        d = row.get("defect_type")
        if good is None:
            return d if d is not None else None
        if good:
            return "good"
        return d if d not in (None, "good") else NOT_GOOD
    raise ValueError(f"unknown target {target!r}; expected 'good' or 'defect_type'")


def labels_of(rows: Sequence[Mapping], target: str) -> list:
    return [label_of(r, target) for r in rows]


def to_good(label: Any) -> bool | None:
    """A label of either target as good (True) / not good (False); None stays None."""
    if label is None:
        return None
    if isinstance(label, (bool, np.bool_)):
        return bool(label)
    return label == "good"


def scalar_feature_names(columns: Iterable[str], *, include_setpoints: bool = True) -> list[str]:
    """The scalar inputs among ``columns``: logged features, then setpoints; never ``hidden_*``."""
    cols = set(columns)
    names = [f for f in FEATURE_FIELDS if f in cols]
    if include_setpoints:
        names += [f for f in SETPOINT_FIELDS if f in cols]
    return [n for n in names if not n.startswith(HIDDEN_PREFIX)]


def time_seconds(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """A timestamp (or numeric) column as float epoch seconds; NaN for nulls."""
    t = column.type
    if pa.types.is_timestamp(t):
        unit = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}[t.unit]
        ints = pc.cast(column, pa.int64())
        return np.asarray(pc.cast(ints, pa.float64()).fill_null(math.nan).to_numpy(zero_copy_only=False)) * unit
    return np.asarray(pc.cast(column, pa.float64()).fill_null(math.nan).to_numpy(zero_copy_only=False))


class CurveReader:
    """The curves of chosen cycles from a ``curves.parquet`` (or a curves Table), one row group at a time.

    The key columns (``run_id``, ``machine_id``, ``cycle_id``) are read once
    to index the file; :meth:`get_many` then decodes only the row groups that
    hold the requested cycles and only the channels asked for, keeping the
    last ``cache_groups`` decoded row groups (a stream in file order decodes
    each row group once). Each curve is a float32 numpy array (a view into
    the decoded row group). Given a ``pyarrow.Table`` instead of a path (curves
    already in memory, as a live subscriber receives them), the whole table
    is one group, decoded once when the reader is made.
    """

    def __init__(self, source: Path | str | pa.Table, channels: Sequence[str] | None = None, cache_groups: int = 2):
        if isinstance(source, pa.Table):
            self.path = Path("<curves in memory>")
            self._file, self._table = None, source
            schema = source.schema
            group_rows = [source.num_rows]
        else:
            self.path = Path(source)
            try:
                self._file = pq.ParquetFile(self.path)
            except (OSError, pa.ArrowInvalid) as exc:
                raise LearnerInputError(f"{self.path}: cannot read: {exc}") from exc
            self._table = None
            schema = self._file.schema_arrow
            group_rows = [self._file.metadata.row_group(g).num_rows for g in range(self._file.num_row_groups)]
        require_columns(schema, KEY_COLUMNS + ("sample_interval_s",), str(self.path))
        available = [f.name for f in schema if pa.types.is_list(f.type) or pa.types.is_large_list(f.type)]
        if channels is None:
            channels = available
        missing = [c for c in channels if c not in available]
        if missing:
            raise LearnerInputError(f"{self.path}: missing curve channel(s) {missing}")
        self.channels = tuple(channels)
        keys = self._table.select(list(KEY_COLUMNS)) if self._file is None else \
            self._file.read(columns=list(KEY_COLUMNS))
        run = pc.cast(keys["run_id"], pa.string()).to_pylist()
        mach = pc.cast(keys["machine_id"], pa.string()).to_pylist()
        cyc = keys["cycle_id"].to_pylist()
        self._where: dict[tuple, tuple[int, int]] = {}
        row = 0
        for g, n in enumerate(group_rows):
            for i in range(n):
                self._where[(run[row + i], mach[row + i], cyc[row + i])] = (g, i)
            row += n
        self._cache: OrderedDict[int, dict] = OrderedDict()
        self._cache_groups = max(1, int(cache_groups))
        if self._file is None:
            self._group(0)

    def __contains__(self, key: tuple) -> bool:
        return key in self._where

    def __len__(self) -> int:
        return len(self._where)

    def _group(self, g: int) -> dict:
        if g in self._cache:
            self._cache.move_to_end(g)
            return self._cache[g]
        cols = list(self.channels) + ["sample_interval_s"]
        tab = self._table.select(cols) if self._file is None else self._file.read_row_group(g, columns=cols)
        dec = {"sample_interval_s": np.asarray(tab["sample_interval_s"].to_numpy(), dtype=np.float64)}
        for ch in self.channels:
            arr = tab[ch].combine_chunks()
            values = arr.values.to_numpy(zero_copy_only=False).astype(np.float32, copy=False)
            offsets = arr.offsets.to_numpy()
            valid = np.ones(len(arr), bool) if arr.null_count == 0 else \
                ~np.asarray(arr.is_null().to_numpy(zero_copy_only=False), dtype=bool)
            dec[ch] = (values, offsets, valid)
        self._cache[g] = dec
        if len(self._cache) > self._cache_groups:
            self._cache.popitem(last=False)
        return dec

    def get_many(self, keys: Sequence[tuple]) -> list[dict]:
        """One dict per key: ``{channel: float32 array or None, "sample_interval_s": float}``."""
        out: list[dict | None] = [None] * len(keys)
        order = sorted(range(len(keys)), key=lambda k: self._where_or_raise(keys[k]))
        for k in order:
            g, i = self._where[keys[k]]
            dec = self._group(g)
            rec: dict = {"sample_interval_s": float(dec["sample_interval_s"][i])}
            for ch in self.channels:
                values, offsets, valid = dec[ch]
                rec[ch] = values[offsets[i]:offsets[i + 1]] if valid[i] else None
            out[k] = rec
        return out  # type: ignore[return-value]

    def _where_or_raise(self, key: tuple) -> tuple[int, int]:
        try:
            return self._where[key]
        except KeyError:
            raise LearnerInputError(f"{self.path}: no curves for cycle {key}") from None


def cycle_key(row: Mapping) -> tuple:
    """The key of a cycles row, as :class:`CurveReader` indexes it."""
    return (str(row["run_id"]), str(row["machine_id"]), row["cycle_id"])
