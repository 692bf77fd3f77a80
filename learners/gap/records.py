"""The inputs of the gap metrics: two record sets, and which of their columns to compare.

A *record set* is what the twin writes and what ingestion makes of a real
machine log: a ``cycles`` table (one row per cycle, :data:`twin.schema.CYCLES_SCHEMA`)
and, optionally, a ``curves`` table (one row per cycle, one ``list<float>``
column per sensor channel, :data:`twin.schema.CURVES_SCHEMA`).
:func:`load_records` accepts

* a run folder (``cycles.parquet``, and ``curves.parquet`` if present; the
  curves are opened lazily and later read row group by row group),
* a Parquet file of cycles,
* a ``pyarrow.Table`` of cycles,
* a dict of columns (``{"part_weight_g": [...], ...}``),
* a :class:`Records` (returned as it is).

Feature selection (:func:`select_features`). By default the candidates are
the logged scalar features :data:`twin.schema.FEATURE_FIELDS` that are
present in both sets; a candidate is dropped, with the reason recorded, if

* it is missing from one set or not numeric,
* more than ``max_null_frac`` of its values are null/NaN in either set
  ("mostly null": a test on the few remaining values would describe the
  rows that happen to have it, not the set),
* it is constant in both sets, with the same value (nothing to compare; a
  column constant at *different* values in the two sets is kept: that is
  a gap of its own).

``hidden_*`` columns are simulator state that a real machine does not log:
they are refused even when asked for by name. A user-given list is checked
(missing or non-numeric names are an error) and then goes through the same
null/constant screening.

Rows with a missing value (null or NaN) in any selected feature are dropped
for the multivariate tests, and counted (:func:`feature_matrix`); the
per-feature statistics use every non-missing value of each feature.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from twin.schema import FEATURE_FIELDS

__all__ = ["GapInputError", "Records", "FeatureSelection", "load_records", "select_features", "screen_columns",
           "feature_matrix", "column_values", "drop_nan_rows"]

#: Column-name prefix of simulator-only state (never a feature).
HIDDEN_PREFIX = "hidden_"


class GapInputError(ValueError):
    """A record set or a requested feature cannot be used; the message names the input and the column."""


@dataclass(frozen=True)
class Records:
    """One record set: the cycles table and, if there is one, the curves (a table or an open Parquet file)."""

    cycles: pa.Table
    curves: pa.Table | pq.ParquetFile | None = None
    name: str = "records"

    @property
    def n_rows(self) -> int:
        return int(self.cycles.num_rows)

    @property
    def curve_columns(self) -> tuple[str, ...]:
        """Names of the ``list<number>`` columns of the curves (the channels), in file order."""
        if self.curves is None:
            return ()
        schema = self.curves.schema_arrow if isinstance(self.curves, pq.ParquetFile) else self.curves.schema
        return tuple(f.name for f in schema if _is_numeric_list(f.type))


@dataclass(frozen=True)
class FeatureSelection:
    """The features compared, and every candidate that was dropped with its reason (``{name: reason}``)."""

    features: tuple[str, ...]
    dropped: dict[str, str] = field(default_factory=dict)
    requested: bool = False  # True when the user gave the list

    def to_dict(self) -> dict:
        return {"features": list(self.features), "dropped": dict(self.dropped),
                "source": "user list" if self.requested else "default: logged scalar features present in both"}


def load_records(source: Any, name: str = "records", curves: Any = None) -> Records:
    """Turn ``source`` (run folder, Parquet file, Table, dict of columns, or Records) into :class:`Records`.

    ``curves`` (a Table, a dict of columns or a Parquet file path) gives or replaces the curves.
    """
    rec = _load_cycles(source, name)
    if curves is None:
        return rec
    if isinstance(curves, (str, Path)):
        if not Path(curves).is_file():
            raise GapInputError(f"{name}: curves file {curves} does not exist")
        curves = pq.ParquetFile(curves)
    elif isinstance(curves, Mapping):
        curves = _load_cycles(curves, name).cycles
    elif not isinstance(curves, (pa.Table, pq.ParquetFile)):
        raise GapInputError(f"{name}: curves must be a Table, a dict of columns or a Parquet file")
    return Records(rec.cycles, curves, rec.name)


def _load_cycles(source: Any, name: str) -> Records:
    if isinstance(source, Records):
        return source
    if isinstance(source, pa.Table):
        return Records(source, None, name)
    if isinstance(source, Mapping):
        try:
            return Records(pa.table({k: _as_array(v) for k, v in source.items()}), None, name)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError) as exc:
            raise GapInputError(f"{name}: cannot make a table of the given columns: {exc}") from exc
    if isinstance(source, (str, Path)):
        path = Path(source)
        if path.is_dir():
            cycles = path / "cycles.parquet"
            if not cycles.is_file():
                raise GapInputError(f"{name}: {path} has no cycles.parquet (is it a run folder?)")
            curves_path = path / "curves.parquet"
            curves = pq.ParquetFile(curves_path) if curves_path.is_file() else None
            return Records(_read_parquet(cycles, name), curves, f"{name} ({path})")
        if path.is_file():
            return Records(_read_parquet(path, name), None, f"{name} ({path})")
        raise GapInputError(f"{name}: {path} does not exist")
    raise GapInputError(f"{name}: expected a run folder, a Parquet file, a pyarrow Table or a dict of columns, "
                        f"got {type(source).__name__}")


def select_features(a: Records, b: Records, features: Sequence[str] | None = None, *,
                     max_null_frac: float = 0.5, candidates: Sequence[str] = FEATURE_FIELDS) -> FeatureSelection:
    """Which columns of the cycles tables to compare (see the module docstring for the rules)."""
    requested = features is not None
    names = list(features) if requested else list(candidates)
    dropped: dict[str, str] = {}
    kept: list[str] = []
    for col in names:
        if col.startswith(HIDDEN_PREFIX):
            raise GapInputError(f"feature {col!r}: hidden_* columns are simulator state a real machine does not "
                                "log; they must never be used as features")
        missing = [r.name for r in (a, b) if col not in r.cycles.column_names]
        if missing:
            if requested:
                raise GapInputError(f"feature {col!r} is not a column of {' and '.join(missing)}")
            dropped[col] = f"missing in {' and '.join(missing)}"
            continue
        if not all(_is_numeric(r.cycles.schema.field(col).type) for r in (a, b)):
            if requested:
                raise GapInputError(f"feature {col!r} is not numeric")
            dropped[col] = "not numeric"
            continue
        va, vb = column_values(a.cycles, col), column_values(b.cycles, col)
        reason = _screen(va, vb, a.name, b.name, max_null_frac)
        if reason:
            dropped[col] = reason
        else:
            kept.append(col)
    return FeatureSelection(tuple(kept), dropped, requested)


def screen_columns(A: np.ndarray, B: np.ndarray, names: Sequence[str], name_a: str, name_b: str,
                   max_null_frac: float = 0.5) -> tuple[list[int], dict[str, str]]:
    """The null/constant screening of :func:`select_features` on two matrices: (kept column indices, dropped)."""
    kept, dropped = [], {}
    for j, col in enumerate(names):
        reason = _screen(A[:, j], B[:, j], name_a, name_b, max_null_frac)
        if reason:
            dropped[col] = reason
        else:
            kept.append(j)
    return kept, dropped


def column_values(table: pa.Table, col: str) -> np.ndarray:
    """A numeric column as float64 with NaN for nulls."""
    arr = pc.cast(table[col], pa.float64())
    return np.asarray(arr.fill_null(math.nan).to_numpy(zero_copy_only=False), dtype=np.float64)


def feature_matrix(records: Records, features: Sequence[str]) -> np.ndarray:
    """The ``(n_rows, n_features)`` float64 matrix of ``features``, NaN where missing (rows are not dropped)."""
    if not features:
        return np.zeros((records.n_rows, 0))
    return np.column_stack([column_values(records.cycles, f) for f in features])


def drop_nan_rows(X: np.ndarray) -> tuple[np.ndarray, int]:
    """``X`` without the rows that have a NaN anywhere, and how many rows were dropped."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 1:
        X = X[:, None]
    keep = np.all(np.isfinite(X.reshape(X.shape[0], int(np.prod(X.shape[1:])))), axis=1)
    return X[keep], int(X.shape[0] - keep.sum())


# -- helpers -------------------------------------------------------------------

def _screen(va: np.ndarray, vb: np.ndarray, name_a: str, name_b: str, max_null_frac: float) -> str | None:
    for v, nm in ((va, name_a), (vb, name_b)):
        frac = 1.0 if v.size == 0 else float(np.mean(~np.isfinite(v)))
        if frac > max_null_frac:
            return f"mostly null in {nm} ({100 * frac:.0f} % missing > {100 * max_null_frac:.0f} %)"
    fa, fb = va[np.isfinite(va)], vb[np.isfinite(vb)]
    for v, nm in ((fa, name_a), (fb, name_b)):
        if v.size == 0:
            return f"no values in {nm}"
    if np.ptp(fa) == 0 and np.ptp(fb) == 0 and fa[0] == fb[0]:
        return f"constant in both ({fa[0]:g})"
    return None


def _is_numeric(t: pa.DataType) -> bool:
    return pa.types.is_floating(t) or pa.types.is_integer(t) or pa.types.is_decimal(t)


def _is_numeric_list(t: pa.DataType) -> bool:
    return (pa.types.is_list(t) or pa.types.is_large_list(t)) and _is_numeric(t.value_type)


def _as_array(values: Any) -> Any:
    """A column of a dict input: 1-D numbers as they are; a 2-D array or a list of arrays as a list column."""
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        return values
    if isinstance(values, np.ndarray):
        return values if values.ndim == 1 else pa.array(list(values))
    values = list(values)
    if any(isinstance(v, (np.ndarray, list, tuple)) for v in values):
        return pa.array([None if v is None else np.asarray(v, dtype=np.float64) for v in values])
    return pa.array(values)


def _read_parquet(path: Path, name: str) -> pa.Table:
    try:
        return pq.read_table(path)
    except (OSError, pa.ArrowInvalid) as exc:
        raise GapInputError(f"{name}: cannot read {path}: {exc}") from exc
