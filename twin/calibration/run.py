"""Calibrate the twin against an ingested real log and write a run folder.

``calibrate(real_dir, cfg, params, out)`` reads ``cycles.parquet`` of an
ingested log (``twinloop ingest molding``), groups it into conditions,
fits the parameters (:mod:`twin.calibration.fit`) and writes:

* ``config.toml`` — the base config with the fitted values;
* ``params.json`` — estimates, standard errors, correlation, cost, offsets;
* ``conditions.parquet`` — per condition: real median, sd, count and the
  calibrated prediction of every compared feature;
* ``metrics.json`` — fit summary;
* whatever the ``finalize`` hook adds (the CLI adds ``report.html``).
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from twin.calibration.fit import CalibrationResult, fit
from twin.calibration.problem import (
    FEATURE_SCALES,
    CalibrationProblem,
    Conditions,
    OffsetSpec,
    ParamSpec,
    conditions_from_columns,
    predict,
)
from twin.config import dump_toml
from twin.runfolder import RunFolder
from twin.sinks import write_table_atomic


def read_real_columns(real_dir: Path | str) -> dict[str, np.ndarray]:
    """The ingested log's cycles as numpy object columns (nulls as None)."""
    path = Path(real_dir) / "cycles.parquet"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no cycles.parquet (ingest the log first: twinloop ingest molding ...)")
    table = pq.read_table(path)
    return {name: np.asarray(table.column(name).to_pylist(), dtype=object) for name in table.column_names}


def condition_table(cond: Conditions, features: list[str], pred: dict[str, np.ndarray],
                    extra: dict[str, list] | None = None) -> pa.Table:
    cols: dict[str, list] = {"condition": list(cond.names)}
    if cond.group:
        cols["group"] = list(cond.group)
    for f in features:
        cols[f"real_{f}"] = cond.real_level[f].tolist()
        cols[f"real_sd_{f}"] = cond.real_sd[f].tolist()
        cols[f"n_{f}"] = cond.count[f].tolist()
        cols[f"sim_{f}"] = pred[f].tolist()
    for k, v in (extra or {}).items():
        cols[k] = v
    return pa.table(cols)


def calibrate(real_dir: Path | str, cfg: dict, params: list[str], out: Path | str, *,
              features: list[str] | None = None, condition_col: str = "experiment",
              offset_feature: str | None = None, offset_group_col: str | None = None, offset_prior_sd: float = 0.5,
              max_nfev: int = 150, overwrite: bool = False,
              finalize: Callable[[RunFolder, dict], None] | None = None) -> Path:
    """Fit ``params`` to the real log in ``real_dir``; see the module docstring."""
    cols = read_real_columns(real_dir)
    features = features or [f for f in FEATURE_SCALES if f in cols]
    unknown = [f for f in features if f not in FEATURE_SCALES]
    if unknown:
        raise KeyError(f"cannot compare feature(s) {unknown}: the physics predicts {sorted(FEATURE_SCALES)}")
    if condition_col not in cols:
        raise KeyError(f"{real_dir}: no column {condition_col!r} to group the log into conditions")
    specs = [ParamSpec.parse(p, cfg) for p in params]
    cond = conditions_from_columns(cols, cfg, features, condition_col=condition_col, group_col=offset_group_col)
    offsets = []
    if offset_feature:
        offsets.append(OffsetSpec(offset_feature, tuple(sorted(set(cond.group))), offset_prior_sd))
    train = np.flatnonzero(np.any([np.isfinite(cond.real_level[f]) for f in features], axis=0))
    problem = CalibrationProblem(cfg, cond, specs, features, {f: FEATURE_SCALES[f] for f in features}, train, offsets)
    with RunFolder(out, overwrite=overwrite) as run:
        result = fit(problem, max_nfev=max_nfev)
        fitted_cfg = problem.config_for(result.x)
        pred = problem.predicted(result.x, np.arange(len(cond.names)))
        run.write_text("config.toml", dump_toml(fitted_cfg))
        run.write_json("params.json", {"params": [p.key for p in specs], **result.as_dict()})
        write_table_atomic(run.path("conditions.parquet"), condition_table(cond, features, pred))
        metrics = fit_metrics(cond, features, pred, result)
        run.write_json("metrics.json", metrics)
        if finalize is not None:
            finalize(run, metrics)
    return Path(out)


def fit_metrics(cond: Conditions, features: list[str], pred: dict[str, np.ndarray],
                result: CalibrationResult) -> dict:
    """Per-feature RMSE and MAE of the calibrated prediction against the real medians."""
    per = {}
    for f in features:
        real = cond.real_level[f]
        ok = np.isfinite(real) & np.isfinite(pred[f])
        err = pred[f][ok] - real[ok]
        per[f] = {"conditions": int(ok.sum()), "mae": float(np.abs(err).mean()) if ok.any() else None,
                  "rmse": float(np.sqrt((err**2).mean())) if ok.any() else None}
    return {"conditions": len(cond.names), "features": per, "cost_start": result.cost_start, "cost": result.cost,
            "nfev": result.nfev, "success": result.success, "estimates": result.estimates,
            "std_errors": {k: v for k, v in result.std_errors.items() if not k.startswith("offset.")}}


__all__ = ["calibrate", "read_real_columns", "condition_table", "fit_metrics", "predict"]
