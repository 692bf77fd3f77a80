"""Arrow schemas of what the online runner writes (one Parquet file each in its output folder).

``predictions.parquet`` — one row per (record, learner): the prediction made
*before* the label was known, the label, and when it arrived::

    position          int64    the record's place in the merged stream (0 = first)
    time_s            float64  its end time, epoch seconds
    source, run       string   sim / real; the run folder's name
    cycle_id          int64
    learner           string   the learner's name in the runner
    pred_label        string   the predicted label (as text: "True"/"False" or a defect type)
    pred_good         bool
    p_fail            float64  P(not good)
    true_label        string   the label (null: unlabelled record)
    true_good         bool
    label_position    int64    stream position at which the label arrived (position + label delay,
                               or the end of the stream)
    error             bool     pred_good != true_good

``rolling.parquet`` — one row per (labelled record, learner), at label arrival:
``position`` (arrival), ``record_position``, ``time_s``, ``learner`` and the
windowed and cumulative metrics of :class:`learners.rolling.RollingBinary`.

``alarms.parquet`` — one row per alarm: ``position``, ``time_s``, ``source``,
``learner`` (null for a feature), ``signal`` (``error`` or the feature),
``detector`` (``adwin``, ``page_hinkley``, ``kswin``, ``ewma``, ``cusum``),
``kind`` (``drift``, ``spc_high``, ``spc_low``), ``value`` (the value fed in).
An SPC chart that stays out of control raises one alarm when it goes out.

``spc.parquet`` — one row per (record, source, feature, chart) in Phase II:
the value, the chart statistic (EWMA z; CUSUM C+) and ``statistic_low``
(CUSUM -C-), center line, limits, signal (``high`` / ``low`` / null).

``gap_windows.parquet`` — one row per time window of
:func:`learners.gap.gap_windows` (real against simulated): window bounds
(epoch s), rows per side, MMD² and its permutation p-value, C2ST AUC and
its interval, ``skipped`` reason.
"""
from __future__ import annotations

import pyarrow as pa

__all__ = ["PREDICTIONS_SCHEMA", "ROLLING_SCHEMA", "ALARMS_SCHEMA", "SPC_SCHEMA", "GAP_WINDOWS_SCHEMA",
           "ROLLING_METRICS"]

_s = pa.string()
_f = pa.float64()
_i = pa.int64()

PREDICTIONS_SCHEMA = pa.schema([
    ("position", _i), ("time_s", _f), ("source", _s), ("run", _s), ("cycle_id", _i), ("learner", _s),
    ("pred_label", _s), ("pred_good", pa.bool_()), ("p_fail", _f), ("true_label", _s),
    ("true_good", pa.bool_()), ("label_position", _i), ("error", pa.bool_()),
])

#: The metric columns of ``rolling.parquet`` (see :class:`learners.rolling.RollingBinary`).
ROLLING_METRICS: tuple[str, ...] = (
    "accuracy", "error_rate", "recall_fail", "precision_fail", "fails", "n",
    "cum_accuracy", "cum_error_rate", "cum_recall_fail", "cum_precision_fail", "cum_fails", "cum_n",
)

ROLLING_SCHEMA = pa.schema(
    [("position", _i), ("record_position", _i), ("time_s", _f), ("learner", _s)]
    + [(m, _i if m in ("fails", "n", "cum_fails", "cum_n") else _f) for m in ROLLING_METRICS]
)

ALARMS_SCHEMA = pa.schema([
    ("position", _i), ("time_s", _f), ("source", _s), ("learner", _s), ("signal", _s), ("detector", _s),
    ("kind", _s), ("value", _f),
])

SPC_SCHEMA = pa.schema([
    ("position", _i), ("time_s", _f), ("source", _s), ("feature", _s), ("chart", _s), ("value", _f),
    ("statistic", _f), ("statistic_low", _f), ("center", _f), ("lcl", _f), ("ucl", _f), ("signal", _s),
])

GAP_WINDOWS_SCHEMA = pa.schema([
    ("start_s", _f), ("end_s", _f), ("n_real", _i), ("n_sim", _i), ("mmd2", _f), ("mmd_p_value", _f),
    ("c2st_auc", _f), ("c2st_auc_lo", _f), ("c2st_auc_hi", _f), ("skipped", _s),
])
