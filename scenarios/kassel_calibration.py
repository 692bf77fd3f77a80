"""Kassel study: calibrate the twin on real experiments, predict a held-out factor.

The Kassel log (``im_kassel_cpc``) holds 47 experiment classes, each a
setpoint change of one factor (cooling time, injection velocity, switching
point, mold temperature, glass-fibre content) around reference runs; each
factor was run on its own day, and absolute weights drift by up to ~1 g
between days. So the study compares *shifts within a factor* — a class's
median weight minus the mean over that factor's classes — which the
day-to-day drift does not touch.

For each factor F (leave one factor out):

1. calibrate the physics parameters on the reference classes and every
   class of the other factors, with one weight offset per day-group
   (each factor's classes, each reference class) held near zero by a
   Gaussian prior (``offset_prior_sd_g``);
2. predict F's classes from their setpoints alone and compare the
   predicted shifts with the measured ones: Spearman's rho, MAE against the
   no-effect baseline (a shift of 0), and the absolute levels.

Pooled figures exclude the glass-fibre classes (their ±7 g shifts would
dominate; they are reported on their own). Then, with one calibration on
all classes, the twin (with its shot-to-shot noise model) runs each class
for a few dozen cycles, and the within-class spread of simulated weights is
set against the real spread.

Run: ``twinloop run scenarios/kassel_calibration.toml --out DIR``.
"""
from __future__ import annotations

import math
import os
import re
import tempfile
from pathlib import Path
from typing import Callable

import numpy as np
from scipy.stats import spearmanr

from scenarios.spec import merge_spec
from twin.calibration.fit import fit
from twin.calibration.problem import (
    FEATURE_SCALES,
    CalibrationProblem,
    OffsetSpec,
    ParamSpec,
    conditions_from_columns,
    predict,
)
from twin.calibration.run import read_real_columns
from twin.config import apply_changes, dump_toml, load_config
from twin.runfolder import RunFolder
from twin.schema import SETPOINT_FIELDS
from twin.sinks import write_table_atomic

REPO_ROOT = Path(__file__).resolve().parents[1]

#: Spec keys and their defaults (the TOML may override any of them).
DEFAULTS: dict = {
    "data": {"log": "im_kassel_cpc/data/injection_molding/lower_workpiece/static_data.csv",
             "mapping": "mappings/kassel_cpc_static.toml"},
    "twin": {"set": {}},
    "calibration": {"params": [], "features": ["part_weight_g"], "offset_prior_sd_g": 0.5, "max_nfev": 150},
    "study": {"factors": ["switching_point", "injection_velocity", "mold_temperature", "cooling_time",
                          "glass_fiber_content"],
              "pooled_exclude": ["glass_fiber_content"], "reference_prefix": "reference",
              "spread_cycles": 40, "seed": 1},
}


def factor_of(experiment: str, reference_prefix: str = "reference") -> str:
    """``injection_velocity_030_1`` → ``injection_velocity``; reference classes are their own day."""
    if experiment.startswith(reference_prefix):
        return experiment
    return re.sub(r"(_\d+)+$", "", experiment)


def realdata_root() -> Path:
    root = os.environ.get("TWINLOOP_REALDATA")
    if not root:
        raise FileNotFoundError("TWINLOOP_REALDATA is not set: point it at the folder holding im_kassel_cpc/")
    return Path(root)


def run(spec: dict, out: Path, *, progress: Callable[[int, int], None] | None = None,
        overwrite: bool = False, finalize: Callable | None = None) -> Path:
    """Run the study; returns the run folder."""
    spec = merge_spec(DEFAULTS, spec, "kassel_calibration")
    from twin.ingest import ingest_molding  # the ingestion of the real log

    log = realdata_root() / spec["data"]["log"]
    mapping = Path(spec["data"]["mapping"])
    mapping = mapping if mapping.is_absolute() else REPO_ROOT / mapping
    overrides = [f"{k}={_toml_value(v)}" for k, v in spec["twin"]["set"].items()]
    cfg = load_config(None, overrides)
    cal, study = spec["calibration"], spec["study"]
    features = list(cal["features"])
    with tempfile.TemporaryDirectory(prefix="twinloop-kassel-") as tmp:
        real_dir = ingest_molding(log, mapping, Path(tmp) / "real")
        cols = read_real_columns(real_dir)
    cols["day_group"] = np.array([None if e is None else factor_of(e, study["reference_prefix"])
                                  for e in cols["experiment"]], dtype=object)
    cond = conditions_from_columns(cols, cfg, features, group_col="day_group")
    factors_of_cond = np.array([factor_of(n, study["reference_prefix"]) for n in cond.names])
    has_weight = np.isfinite(cond.real_level["part_weight_g"])
    params = [ParamSpec.parse(p, cfg) for p in cal["params"]]
    groups = tuple(sorted(set(cond.group)))
    offsets = [OffsetSpec("part_weight_g", groups, float(cal["offset_prior_sd_g"]))]
    scales = {f: FEATURE_SCALES[f] for f in features}
    n_steps = len(study["factors"]) + 2
    done = 0

    per_factor: dict[str, dict] = {}
    rows_pred: dict[str, list] = {"condition": [], "factor": [], "real_shift_g": [], "sim_shift_g": [],
                                  "real_level_g": [], "sim_level_g": []}
    for F in study["factors"]:
        test = np.flatnonzero((factors_of_cond == F) & has_weight)
        train = np.flatnonzero((factors_of_cond != F) & np.any(
            [np.isfinite(cond.real_level[f]) for f in features], axis=0))
        if test.size < 2:
            raise ValueError(f"kassel_calibration: factor {F!r} has {test.size} weighed classes; need 2")
        problem = CalibrationProblem(cfg, cond, params, features, scales, train, offsets)
        res = fit(problem, max_nfev=int(cal["max_nfev"]))
        sim = predict(problem.config_for(res.x), cond, ["part_weight_g"], test)["part_weight_g"]
        real = cond.real_level["part_weight_g"][test]
        rs, ps = real - real.mean(), sim - sim.mean()
        rho = float(spearmanr(ps, rs).statistic)
        per_factor[F] = {
            "classes": [cond.names[i] for i in test],
            "spearman_rho": rho,
            "mae_g": float(np.abs(ps - rs).mean()),
            "baseline_mae_g": float(np.abs(rs).mean()),
            "level_mae_g": float(np.abs(sim - real).mean()),
            "fit_cost": res.cost, "fit_nfev": res.nfev,
            "estimates": res.estimates,
            "std_errors": {k: v for k, v in res.std_errors.items() if not k.startswith("offset.")},
        }
        for j, i in enumerate(test):
            rows_pred["condition"].append(cond.names[i])
            rows_pred["factor"].append(F)
            rows_pred["real_shift_g"].append(float(rs[j]))
            rows_pred["sim_shift_g"].append(float(ps[j]))
            rows_pred["real_level_g"].append(float(real[j]))
            rows_pred["sim_level_g"].append(float(sim[j]))
        done += 1
        if progress:
            progress(done, n_steps)

    pooled = [F for F in study["factors"] if F not in study["pooled_exclude"]]
    sel = np.isin(rows_pred["factor"], pooled)
    rsh = np.asarray(rows_pred["real_shift_g"])[sel]
    psh = np.asarray(rows_pred["sim_shift_g"])[sel]
    metrics = {
        "factors": list(study["factors"]),
        "sign_correct_factors": [F for F in study["factors"] if per_factor[F]["spearman_rho"] > 0],
        "heldout_mae_g": float(np.abs(psh - rsh).mean()),
        "baseline_mae_g": float(np.abs(rsh).mean()),
        "heldout_r2": float(1.0 - np.sum((psh - rsh) ** 2) / np.sum(rsh**2)),
        "pooled_factors": pooled,
        "pooled_classes": int(sel.sum()),
        "per_factor": per_factor,
    }
    metrics["mae_ratio"] = metrics["heldout_mae_g"] / metrics["baseline_mae_g"]
    metrics["goal_met"] = bool(len(metrics["sign_correct_factors"]) == len(study["factors"])
                               and metrics["mae_ratio"] <= 1.0 / 3.0)

    # One calibration on every class, then the within-class spread of the noisy twin.
    all_idx = np.flatnonzero(np.any([np.isfinite(cond.real_level[f]) for f in features], axis=0))
    full = CalibrationProblem(cfg, cond, params, features, scales, all_idx, offsets)
    full_res = fit(full, max_nfev=int(cal["max_nfev"]))
    fitted_cfg = full.config_for(full_res.x)
    done += 1
    if progress:
        progress(done, n_steps)
    spread = _within_class_spread(fitted_cfg, cond, np.flatnonzero(has_weight), int(study["spread_cycles"]),
                                  int(study["seed"]))
    done += 1
    if progress:
        progress(done, n_steps)
    metrics["spread"] = {
        "real_sd_median_g": float(np.nanmedian(spread["real_sd_g"])),
        "sim_sd_median_g": float(np.nanmedian(spread["sim_sd_g"])),
        "classes": len(spread["condition"]),
    }
    metrics["full_fit"] = {"estimates": full_res.estimates,
                           "std_errors": {k: v for k, v in full_res.std_errors.items() if not k.startswith("offset.")},
                           "cost": full_res.cost, "nfev": full_res.nfev}

    import pyarrow as pa

    with RunFolder(out, overwrite=overwrite) as folder:
        folder.write_text("config.toml", dump_toml(fitted_cfg))
        folder.write_text("scenario.toml", dump_toml(spec))
        folder.write_json("metrics.json", metrics)
        write_table_atomic(folder.path("predictions.parquet"), pa.table(rows_pred))
        write_table_atomic(folder.path("spread.parquet"), pa.table(spread))
        if finalize is not None:
            finalize(folder, metrics, rows_pred, spread)
    return Path(out)


def _within_class_spread(cfg: dict, cond, idx: np.ndarray, cycles: int, seed: int) -> dict[str, list]:
    """Simulate each class with the twin's noise model; sd of part weight, sim against real."""
    from twin.simulate import simulate_molding
    import pyarrow.parquet as pq

    out = {"condition": [], "real_sd_g": [], "sim_sd_g": [], "real_n": []}
    with tempfile.TemporaryDirectory(prefix="twinloop-spread-") as tmp:
        for j, i in enumerate(idx):
            changes = {f"setpoints.{k}": float(cond.setpoints[k][i]) for k in SETPOINT_FIELDS}
            changes["material.glass_fiber_pct"] = float(cond.glass_fiber_pct[i])
            changes.update({"cell.mtbf_h": 0.0, "curves.enabled": False, "variation.mold_warmup_deficit_K": 0.0,
                            "variation.lot_size_cycles": 0, "run.seed": seed + j})
            c = apply_changes(cfg, changes)
            run_dir = simulate_molding(c, Path(tmp) / f"c{j}", cycles=cycles)
            w = np.asarray(pq.read_table(run_dir / "cycles.parquet", columns=["part_weight_g"]).column(0).to_pylist())
            out["condition"].append(cond.names[i])
            out["real_sd_g"].append(float(cond.real_sd["part_weight_g"][i]))
            out["sim_sd_g"].append(float(1.4826 * np.median(np.abs(w - np.median(w)))))  # robust, as the real
            out["real_n"].append(int(cond.count["part_weight_g"][i]))
    return out


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return f'"{v}"'
    if isinstance(v, float) and math.isfinite(v):
        return repr(v)
    return str(v)
