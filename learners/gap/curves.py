"""Per-cycle curve features and curves resampled onto a common grid.

A curves table has one row per cycle and one ``list<float>`` column per
sensor channel (:data:`twin.schema.CURVES_SCHEMA`), sampled every
``sample_interval_s`` seconds; cycles differ in length, and a real machine
may sample at another rate than the twin. Two reductions make cycles
comparable:

**Curve features** (:func:`curve_features`): for each channel, per cycle,

==========================  =====================================================
``max``, ``min``            extreme values (channel unit)
``mean``, ``std``           over the cycle's samples (std with ddof = 0)
``time_of_max_s``           time of the first maximum from the cycle start (s)
``integral``                sum of samples x sample interval (rectangle rule; unit x s)
``time_above_half_range_s`` time the curve spends above min + (max - min) / 2 (s):
                            the "duration above half-max" of a pulse, measured from
                            the curve's own floor so that temperature channels
                            with a large offset are treated like pressure pulses;
                            0 for a flat curve
``last``                    the final sample
==========================  =====================================================

plus ``cycle__duration_s`` (samples x interval of the longest channel).
Names are ``<channel>__<stat>``. Samples that are NaN are ignored.

**Resampled curves** (:func:`resample_curves`): each channel linearly
interpolated at ``n_points`` points, either over the cycle's own duration
(``time_window_s=None``: point k sits at k / (n_points - 1) of the cycle,
so cycles of different length are compared phase by phase and the cycle
length itself is factored out) or over a fixed window ``[0, time_window_s]``
seconds from the cycle start (cycles compared at equal times; a curve
shorter than the window holds its last value).

Large curve files are read row group by row group, only the requested
channels and only the row groups that hold requested rows, so a 200 MB
``curves.parquet`` is never loaded at once. All arithmetic is vectorised
per batch (rows padded with NaN to the longest curve of the batch).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

__all__ = ["CURVE_STATS", "CurveSummary", "summarize_curves", "curve_features", "resample_curves",
           "curve_row_count", "shared_channels"]

#: The per-channel statistics of :func:`curve_features`, in column order.
CURVE_STATS: tuple[str, ...] = ("max", "min", "mean", "std", "time_of_max_s", "integral",
                                "time_above_half_range_s", "last")

CurveTable = pa.Table | pq.ParquetFile

_BATCH_ROWS = 64


@dataclass(frozen=True)
class CurveSummary:
    """Features and (optionally) resampled curves of the same rows, from one pass over the data."""

    rows: np.ndarray                   # row indices into the curves table, increasing
    channels: tuple[str, ...]
    feature_names: tuple[str, ...]
    features: np.ndarray               # (n_rows, n_features) float64, NaN where undefined
    resampled: np.ndarray | None       # (n_rows, n_channels, n_points) float32, or None
    grid: str                          # description of the resampling grid


def curve_row_count(curves: CurveTable) -> int:
    """Number of rows (cycles) of a curves table or Parquet file."""
    return int(curves.metadata.num_rows if isinstance(curves, pq.ParquetFile) else curves.num_rows)


def shared_channels(a: CurveTable, b: CurveTable, channels: Sequence[str] | None = None) -> tuple[str, ...]:
    """Channels (numeric list columns) present in both, in ``a``'s order; ``channels`` restricts and checks."""
    in_a, in_b = _list_columns(a), _list_columns(b)
    if channels is None:
        return tuple(c for c in in_a if c in in_b)
    missing = [c for c in channels if c not in in_a or c not in in_b]
    if missing:
        raise ValueError(f"curve channels not present in both curve tables: {missing}")
    return tuple(channels)


def curve_features(curves: CurveTable, channels: Sequence[str], rows: np.ndarray | None = None
                   ) -> tuple[tuple[str, ...], np.ndarray]:
    """``(names, X)``: the per-cycle features of the module docstring, one row per requested row."""
    s = summarize_curves(curves, channels, rows=rows, n_points=None)
    return s.feature_names, s.features


def resample_curves(curves: CurveTable, channels: Sequence[str], n_points: int = 256,
                    rows: np.ndarray | None = None, time_window_s: float | None = None) -> np.ndarray:
    """``(n_rows, n_channels, n_points)`` float32 curves on the common grid of the module docstring."""
    s = summarize_curves(curves, channels, rows=rows, n_points=n_points, time_window_s=time_window_s)
    assert s.resampled is not None
    return s.resampled


def summarize_curves(curves: CurveTable, channels: Sequence[str], *, rows: np.ndarray | None = None,
                     n_points: int | None = 256, time_window_s: float | None = None) -> CurveSummary:
    """Features and, if ``n_points``, resampled curves of ``rows`` (all rows if None), in one pass."""
    channels = tuple(channels)
    total = curve_row_count(curves)
    rows = np.arange(total) if rows is None else np.unique(np.asarray(rows, dtype=np.int64))
    if rows.size and (rows[0] < 0 or rows[-1] >= total):
        raise IndexError(f"curve rows must be in [0, {total}), got {rows[0]}..{rows[-1]}")
    names = ("cycle__duration_s",) + tuple(f"{ch}__{st}" for ch in channels for st in CURVE_STATS)
    feats = np.full((rows.size, len(names)), np.nan)
    res = None if n_points is None else np.full((rows.size, len(channels), n_points), np.nan, dtype=np.float32)
    done = 0
    for batch in _iter_batches(curves, channels, rows):
        k = batch.num_rows
        dt = _sample_interval(batch)
        longest = np.zeros(k)
        for c, ch in enumerate(channels):
            P, lengths = _padded(batch.column(ch))
            longest = np.maximum(longest, lengths)
            feats[done:done + k, 1 + c * len(CURVE_STATS):1 + (c + 1) * len(CURVE_STATS)] = _stats(P, lengths, dt)
            if res is not None:
                res[done:done + k, c, :] = _resample(P, lengths, dt, n_points, time_window_s)
        feats[done:done + k, 0] = np.where(longest > 0, longest * dt, np.nan)
        done += k
    grid = ("none" if n_points is None else
            f"{n_points} points over each cycle's own duration" if time_window_s is None else
            f"{n_points} points over the first {time_window_s:g} s of each cycle")
    return CurveSummary(rows, channels, names, feats, res, grid)


# -- reading -------------------------------------------------------------------

def _list_columns(curves: CurveTable) -> tuple[str, ...]:
    schema = curves.schema_arrow if isinstance(curves, pq.ParquetFile) else curves.schema
    out = []
    for f in schema:
        t = f.type
        if (pa.types.is_list(t) or pa.types.is_large_list(t)) and (
                pa.types.is_floating(t.value_type) or pa.types.is_integer(t.value_type)):
            out.append(f.name)
    return tuple(out)


def _iter_batches(curves: CurveTable, channels: tuple[str, ...], rows: np.ndarray) -> Iterator[pa.Table]:
    """Tables of the requested rows, in increasing row order, with ``sample_interval_s`` and ``channels``."""
    columns = ["sample_interval_s", *channels]
    if isinstance(curves, pq.ParquetFile):
        meta = curves.metadata
        start = 0
        for rg in range(meta.num_row_groups):
            stop = start + meta.row_group(rg).num_rows
            lo, hi = np.searchsorted(rows, [start, stop])
            if hi > lo:
                t = curves.read_row_group(rg, columns=columns)
                yield t.take(pa.array(rows[lo:hi] - start, type=pa.int64()))
            start = stop
        return
    missing = [c for c in columns if c not in curves.column_names]
    if missing:
        raise ValueError(f"curves table lacks columns {missing}")
    for lo in range(0, rows.size, _BATCH_ROWS):
        yield curves.select(columns).take(pa.array(rows[lo:lo + _BATCH_ROWS], type=pa.int64()))


def _sample_interval(batch: pa.Table) -> np.ndarray:
    dt = np.asarray(pc.cast(batch.column("sample_interval_s"), pa.float64()).fill_null(np.nan)
                    .to_numpy(zero_copy_only=False), dtype=np.float64)
    if not np.all(np.isfinite(dt) & (dt > 0)):
        raise ValueError("curves: sample_interval_s must be a positive number in every row")
    return dt


def _padded(col: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """A list column as an ``(n, L)`` float64 array padded with NaN, and the row lengths (null rows: 0)."""
    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    n = len(arr)
    offsets = np.asarray(arr.offsets.to_numpy(), dtype=np.int64)
    lengths = np.diff(offsets)
    lengths = np.where(np.asarray(arr.is_valid().to_numpy(zero_copy_only=False), dtype=bool), lengths, 0)
    L = max(int(lengths.max()) if n else 0, 1)
    values = np.asarray(pc.cast(arr.values, pa.float64()).fill_null(np.nan).to_numpy(zero_copy_only=False))
    mask = np.arange(L)[None, :] < lengths[:, None]
    P = np.full((n, L), np.nan)
    P[mask] = values[(offsets[:-1, None] + np.arange(L)[None, :])[mask]]
    return P, lengths


# -- arithmetic ----------------------------------------------------------------

def _stats(P: np.ndarray, lengths: np.ndarray, dt: np.ndarray) -> np.ndarray:
    """The :data:`CURVE_STATS` of each row of the NaN-padded ``P``; NaN for rows without finite samples."""
    ok = np.isfinite(P)
    cnt = ok.sum(axis=1)
    has = cnt > 0
    safe = np.maximum(cnt, 1)
    total = np.where(ok, P, 0.0).sum(axis=1)
    mean = total / safe
    var = np.where(ok, (P - mean[:, None]) ** 2, 0.0).sum(axis=1) / safe
    hi_fill = np.where(ok, P, -np.inf)
    mx = hi_fill.max(axis=1)
    t_max = hi_fill.argmax(axis=1) * dt
    mn = np.where(ok, P, np.inf).min(axis=1)
    with np.errstate(invalid="ignore"):  # rows without samples: inf - inf, set to NaN below
        thr = mn + 0.5 * (mx - mn)
        above = (ok & (P > thr[:, None])).sum(axis=1) * dt
    last = P[np.arange(P.shape[0]), np.maximum(lengths - 1, 0)]
    out = np.column_stack([mx, mn, mean, np.sqrt(var), t_max, total * dt, above, last])
    out[~has] = np.nan
    return out


def _resample(P: np.ndarray, lengths: np.ndarray, dt: np.ndarray, n_points: int,
              time_window_s: float | None) -> np.ndarray:
    """Linear interpolation of each row at ``n_points`` positions (see the module docstring)."""
    n = P.shape[0]
    last = np.maximum(lengths - 1, 0).astype(np.float64)
    u = np.linspace(0.0, 1.0, n_points)[None, :]
    if time_window_s is None:
        pos = u * last[:, None]
    else:
        pos = np.minimum(u * float(time_window_s) / dt[:, None], last[:, None])
    i0 = np.floor(pos).astype(np.int64)
    i1 = np.minimum(i0 + 1, last[:, None].astype(np.int64))
    frac = pos - i0
    r = np.arange(n)[:, None]
    out = P[r, i0] * (1.0 - frac) + P[r, i1] * frac
    out[lengths == 0] = np.nan
    return out.astype(np.float32)
