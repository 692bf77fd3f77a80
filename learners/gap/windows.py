"""Gap metrics on sliding time windows of a stream (for the online runner).

:func:`gap_windows` cuts the time axis into windows ``[t0 + k step,
t0 + k step + window)``, from the first record on, as many as it takes
to reach the last record (the last window is closed on the right and may
reach beyond the data, so it can hold fewer rows), and in each
window compares the rows of ``records_a`` with those of ``records_b``:
MMD permutation p-value and C2ST AUC with its interval
(:mod:`learners.gap.mmd`, :mod:`learners.gap.c2st`). With ``b_fixed=True``
``records_b`` is not windowed: every window of ``a`` is compared with all of
``b`` (e.g. each hour of the real stream against a reference simulation),
and the windows span ``a`` only.

The features are chosen once on the whole sets (so every window compares
the same columns); a window with fewer than ``min_rows`` complete rows on
a side is reported with ``skipped`` set and no metrics. Overlapping windows
(step < window) share rows, so their p-values are not independent; and a
stream checked every window will, by chance alone, show p < alpha in about
a fraction alpha of the windows where nothing changed. Use a smaller alpha
or a drift detector on the p-values for alarms.
"""
from __future__ import annotations

import datetime as dt
import math
from typing import Any, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sklearn.base import BaseEstimator

from learners.gap.analysis import child_seed
from learners.gap.c2st import C2ST
from learners.gap.mmd import MMDTest
from learners.gap.records import GapInputError, drop_nan_rows, feature_matrix, load_records, select_features

__all__ = ["gap_windows"]


def gap_windows(records_a: Any, records_b: Any, time_col: str, window: float | dt.timedelta,
                step: float | dt.timedelta | None = None, *, features: Sequence[str] | None = None,
                b_fixed: bool = False, n_perm: int = 200, classifier: str | BaseEstimator = "quadratic",
                min_rows: int = 20, alpha: float = 0.05, seed: int = 0) -> list[dict]:
    """MMD p-value and C2ST AUC on sliding windows; one dict per window, in time order.

    ``time_col`` is a timestamp column (``window``/``step`` then in seconds or
    as ``timedelta``; window bounds are returned as epoch seconds) or a
    numeric one (same unit as ``window``). ``step`` defaults to ``window``
    (adjacent windows). Keys of each dict: ``start``, ``end``, ``n_a``, ``n_b``
    (complete rows), ``mmd2``, ``mmd_p_value``, ``c2st_auc``, ``c2st_auc_ci``,
    ``skipped`` (None or the reason).
    """
    width = _seconds(window)
    stride = width if step is None else _seconds(step)
    if not (width > 0 and stride > 0):
        raise ValueError(f"window and step must be positive, got {window!r} and {step!r}")
    a, b = load_records(records_a, "a"), load_records(records_b, "b")
    sel = select_features(a, b, features)
    if not sel.features:
        raise GapInputError(f"no feature left to compare: {sel.dropped}")
    ta, tb = _times(a.cycles, time_col, "a"), _times(b.cycles, time_col, "b")
    Xa, Xb = feature_matrix(a, sel.features), feature_matrix(b, sel.features)
    span = ta if b_fixed else np.concatenate([ta, tb])
    if span.size == 0:
        return []
    t0, t1 = float(span.min()), float(span.max())
    n_win = int(math.ceil((t1 - t0 - width) / stride - 1e-9)) + 1 if t1 - t0 > width else 1
    out = []
    for k in range(n_win):  # a loop over windows, each vectorised inside
        lo = t0 + k * stride
        hi = lo + width
        last = k == n_win - 1
        in_a = (ta >= lo) & ((ta <= hi) if last else (ta < hi))
        in_b = np.ones(tb.size, bool) if b_fixed else (tb >= lo) & ((tb <= hi) if last else (tb < hi))
        A, _ = drop_nan_rows(Xa[in_a])
        B, _ = drop_nan_rows(Xb[in_b])
        row: dict = {"start": lo, "end": hi, "n_a": int(A.shape[0]), "n_b": int(B.shape[0]), "mmd2": None,
                     "mmd_p_value": None, "c2st_auc": None, "c2st_auc_ci": None, "skipped": None}
        if min(A.shape[0], B.shape[0]) < min_rows:
            row["skipped"] = f"fewer than {min_rows} complete rows on a side"
        else:
            mmd = MMDTest(n_perm=n_perm, seed=child_seed(seed, f"windows.{k}.mmd")).fit(A, B)
            c2 = C2ST(classifier=classifier, alpha=alpha, seed=child_seed(seed, f"windows.{k}.c2st")).fit(A, B)
            row.update(mmd2=mmd.mmd2_, mmd_p_value=mmd.p_value_, c2st_auc=c2.auc_, c2st_auc_ci=list(c2.auc_ci_))
        out.append(row)
    return out


def _seconds(value: float | dt.timedelta) -> float:
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


def _times(table: pa.Table, col: str, name: str) -> np.ndarray:
    """``col`` as float: epoch seconds for timestamps, the numbers themselves otherwise; NaN for nulls."""
    if col not in table.column_names:
        raise GapInputError(f"{name}: time column {col!r} is missing")
    c = table[col]
    if pa.types.is_timestamp(c.type):
        unit = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}[c.type.unit]
        ints = pc.cast(c, pa.int64())
        return np.asarray(pc.cast(ints, pa.float64()).fill_null(math.nan).to_numpy(zero_copy_only=False)) * unit
    if not (pa.types.is_integer(c.type) or pa.types.is_floating(c.type)):
        raise GapInputError(f"{name}: time column {col!r} must be a timestamp or a number, not {c.type}")
    return np.asarray(pc.cast(c, pa.float64()).fill_null(math.nan).to_numpy(zero_copy_only=False))
