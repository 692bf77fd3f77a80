"""Hold-out evaluation of a trained learner on run folders: predictions and metrics.

:func:`evaluate_learner` predicts every labelled cycle of the given run
folders (curves for a curve learner, read as a
:class:`~learners.lstm.dataset.CurveBatch`; scalar features otherwise) and
scores them: good / not good (:func:`learners.metrics.binary_metrics`,
positive = fail) and, for a defect-type learner, the defect type
(:func:`learners.metrics.multiclass_metrics`, macro-F1). Nothing is
learned: the learner is used as it is.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import pyarrow as pa

from learners.metrics import binary_metrics, multiclass_metrics
from learners.protocol import Learner
from learners.records import LearnerInputError, label_of, open_run, to_good

__all__ = ["evaluate_learner", "PREDICTION_COLUMNS"]

PREDICTION_COLUMNS = ("run", "run_id", "machine_id", "cycle_id", "true_label", "pred_label", "true_good",
                      "pred_good", "p_fail")


def evaluate_learner(learner: Learner, runs: Sequence[Path | str]) -> tuple[dict, pa.Table]:
    """``(metrics, predictions)`` of ``learner`` on the labelled cycles of ``runs`` (see the module docstring)."""
    if not runs:
        raise LearnerInputError("no run folder given")
    rows_out: dict[str, list] = {c: [] for c in PREDICTION_COLUMNS}
    if learner.needs_curves:
        from learners.lstm.dataset import read_curve_batch

        grid = getattr(learner, "grid")
        channels = getattr(learner, "channels_", None)
        for path in runs:
            batch, rows = read_curve_batch([path], grid, channels)
            labels, p_fail = learner.predict_scored_many(batch)
            _collect(rows_out, Path(path).name, rows, [label_of(r, learner.target) for r in rows], labels, p_fail)
    else:
        for path in runs:
            run = open_run(path, need_labels=True)
            rows = [r for r in run.cycles.to_pylist() if label_of(r, learner.target) is not None]
            if not rows:
                raise LearnerInputError(f"{run.path}: no labelled cycle")
            labels, p_fail = learner.predict_scored_many(rows)
            _collect(rows_out, run.name, rows, [label_of(r, learner.target) for r in rows], labels, p_fail)
    table = pa.table({k: pa.array([None if v is None else str(v) for v in vals], pa.string())
                      if k in ("true_label", "pred_label", "run", "run_id", "machine_id") else pa.array(vals)
                      for k, vals in rows_out.items()})
    metrics = {"cycles": table.num_rows, "runs": [str(p) for p in runs], "learner": type(learner).__name__,
               "target": learner.target,
               "binary": binary_metrics(rows_out["true_good"], rows_out["pred_good"], rows_out["p_fail"])}
    if learner.target == "defect_type":
        metrics["defect_type"] = multiclass_metrics(rows_out["true_label"], rows_out["pred_label"])
    return metrics, table


def _collect(out: dict, run: str, rows: list[dict], truth: list, labels: list, p_fail: list) -> None:
    for r, t, p, pf in zip(rows, truth, labels, p_fail):
        out["run"].append(run)
        out["run_id"].append(r.get("run_id"))
        out["machine_id"].append(r.get("machine_id"))
        out["cycle_id"].append(r.get("cycle_id"))
        out["true_label"].append(t)
        out["pred_label"].append(p)
        out["true_good"].append(to_good(t))
        out["pred_good"].append(to_good(p))
        out["p_fail"].append(float(pf))
