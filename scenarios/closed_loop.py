"""Closed loop: a replayed real stream, drift alarms, twin recalibration, retraining on fresh synthetic data.

The real KAMP log (``im_kamp``: one machine, three weeks, two molds — CN7
and RG3 — swapped in and out) is replayed part by part in time order. A
good/not-good classifier (:class:`learners.scalar_baseline.GradientBoostingScalar`
on the logged scalar features) starts from the first ``initial_labels``
labelled parts, and three arms follow the stream:

* **frozen**: never retrained;
* **real labels**: labels arrive ``label_delay`` parts after the part
  (inspection takes time); every ``refit_every`` new labels it is refitted
  on all labels so far;
* **twin**: no label after the initial ones. Drift detectors (River's
  ADWIN, :mod:`learners.drift`) watch every feature, standardised by the
  initial window; on an alarm, once ``recent_window`` parts of the new
  condition have been seen (their features only), the twin is
  **recalibrated** to their medians (:func:`twin.calibration.single.calibrate_window`,
  with the pass constraint: the bulk of the parts pass), generates fresh
  synthetic cycles for that condition — defect campaigns around it, as in
  :mod:`scenarios.synthetic_fraction_molding`, labelled by the twin's own
  physics — and the classifier is refitted on the initial real labels plus
  every synthetic set made so far. ``cooldown`` parts after a
  recalibration no new one starts.

Every part is predicted before anything about it is learned. Per arm:
prequential AUC, balanced accuracy, recall of fails and the share of good
parts flagged over the stream after the initial window, and per segment (a
run of one mold); the **time to recover** after each mold change — parts
until the rolling share of good parts flagged (window ``window``) is back
within ``recover_tolerance`` of its level before the change (None: never)
— and the **labels needed**. Fails are rare (60 in 5,232 parts), so the
recall figures rest on few parts; the share of good parts flagged is where
a mold change shows. The AUC over the whole stream rewards an arm that
flags every part of a mold run that happens to hold many fails; the mean
AUC *within* each mold run (``auc_within_segments``) is the figure for
telling parts apart.

Output: ``predictions.parquet`` (part, time, mold, truth, each arm's
P(fail) and call), ``alarms.parquet`` (the twin arm's drift alarms and
recalibrations), ``synthetic.parquet`` (every synthetic cycle with the
recalibration it came from), ``metrics.json``, ``report.html``.

Run: ``twinloop run scenarios/closed_loop.toml --out DIR`` (reads
``$TWINLOOP_REALDATA``; calibrates the starting twin first unless
``[twin] calibrated_config`` names one).
"""
from __future__ import annotations

import math
import tempfile
from pathlib import Path
from typing import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from scenarios.dask_tasks import DaskOptions, run_tasks, task_seed
from scenarios.spec import merge_spec
from scenarios.synthetic_fraction_molding import FEATURES, draw_synthetic, simulate_campaign
from twin.config import get, load_config
from twin.runfolder import RunFolder, finite_json

__all__ = ["DEFAULTS", "ARMS", "run", "time_to_recover", "rolling_flag_rate"]

ARMS = ("frozen", "real labels", "twin")

DEFAULTS: dict = {
    "real": {"log": "im_kamp/labeled_data_preprocessed.csv", "mapping": "mappings/kamp.toml", "features": FEATURES},
    "twin": {"calibrated_config": "", "calibration_scenario": "scenarios/kamp_calibration_pass.toml",
             "params": ["setpoints.hold_time_s=1:20", "setpoints.hold_pressure_bar=50:2400",
                        "setpoints.cooling_time_s=5:90", "setpoints.dosing_volume_cm3=20:1000",
                        "setpoints.injection_velocity_mm_s=2:80", "machine.close_time_s=0.5:20",
                        "material.viscosity_factor=0.05:20", "sensors.pressure_log_factor=0.02:1",
                        "mold.cavity_length_mm=200:2000"],
             "sensor_offsets": ["cushion_mm", "nozzle_melt_temp_C"],
             "setpoints_from_log": ["melt_temp_C", "back_pressure_bar", "screw_speed_rpm"],
             "max_nfev": 80, "pass_constraint": True},
    "stream": {"initial_labels": 500, "block": 25, "label_delay": 100, "refit_every": 200, "window": 300,
               "recover_tolerance": 0.05},
    "alarm": {"detector": "adwin", "cooldown": 600, "recent_window": 150},
    "synthetic": {"runs": 12, "cycles_per_run": 80, "warmup_cycles": 5, "not_good_share": 0.6, "per_recalibration": 600,
                  "seed": 11, "vary": {"material.viscosity_factor": [0.9, 1.5], "setpoints.dosing_volume_cm3": [0.9, 1.05],
                                       "setpoints.injection_velocity_mm_s": [0.8, 3.0], "mold.vent_depth_mm": [0.1, 1.0]}},
    "learner": {"max_iter": 150, "learning_rate": 0.1, "max_leaf_nodes": 15, "min_samples_leaf": 10, "seed": 0},
    "dask": {"workers": 2, "scheduler": "", "task_cache": ""},
}


def rolling_flag_rate(true_good: np.ndarray, pred_good: np.ndarray, window: int) -> np.ndarray:
    """Share of the last ``window`` good parts that were flagged, at every part (nan before one good part)."""
    g = np.asarray(true_good, bool)
    flagged = (g & ~np.asarray(pred_good, bool)).astype(float)
    out = np.full(g.size, np.nan)
    idx = np.flatnonzero(g)
    if idx.size == 0:
        return out
    c = np.concatenate([[0.0], np.cumsum(flagged[idx])])
    k = np.arange(1, idx.size + 1)
    lo = np.maximum(0, k - window)
    rates = (c[k] - c[lo]) / (k - lo)
    out[idx] = rates
    # carry the last value forward over not-good parts
    last = np.nan
    for i in range(g.size):
        if g[i]:
            last = out[i]
        else:
            out[i] = last
    return out


def time_to_recover(rate: np.ndarray, change: int, window: int, tolerance: float) -> int | None:
    """Parts after ``change`` until ``rate`` is back within ``tolerance`` of its level just before it.

    The level before is the rate at ``change - 1`` (the last ``window`` good
    parts of the old condition). Recovery is counted once the window has
    filled with the new condition (``window`` parts after the change) or
    earlier if the rate never left the band. None: never within the data.
    """
    if change <= 0 or change >= rate.size or not math.isfinite(rate[change - 1]):
        return None
    before = rate[change - 1]
    after = rate[change:]
    ok = np.abs(after - before) <= tolerance
    if ok[:window].all() if after.size >= window else ok.all():
        return 0
    # the first part from which the rate stays in the band for window parts (or to the end)
    for i in range(after.size):
        if ok[i] and ok[i:i + window].all():
            return int(i)
    return None


def _calibrated_start(spec: dict, folder: RunFolder) -> Path:
    from scenarios.synthetic_fraction_molding import _calibrated_config

    sub = {"twin": {"calibrated_config": spec["twin"]["calibrated_config"],
                    "calibration_scenario": spec["twin"]["calibration_scenario"]}}
    return _calibrated_config(sub, folder, None)


def _fit(learner_spec: dict, X: np.ndarray, y: np.ndarray, features: list[str]):
    from learners.scalar_baseline import GradientBoostingScalar

    m = GradientBoostingScalar(features=features, seed=int(learner_spec["seed"]),
                               **{k: v for k, v in learner_spec.items() if k != "seed"})
    m.fit([dict(zip(features, map(float, x))) for x in X], list(y))
    return m


def _p_fail(model, X: np.ndarray, features: list[str]) -> np.ndarray:
    return model.fail_probabilities([dict(zip(features, map(float, x))) for x in X])


def run(spec: dict, out: Path, *, progress: Callable[[int, int], None] | None = None, overwrite: bool = False,
        finalize: Callable | None = None, dask: dict | None = None) -> Path:
    """Run the closed loop (module docstring); returns the run folder."""
    import tomli_w

    from learners.drift import make_detector
    from scenarios.report_closed_loop import closed_loop_report_html
    from twin.calibration.single import calibrate_window
    from twin.config import dump_toml

    spec = merge_spec(DEFAULTS, spec, "closed_loop")
    if dask:
        spec["dask"].update({k: v for k, v in dask.items() if v is not None})
    st, al, sy, tw = spec["stream"], spec["alarm"], spec["synthetic"], spec["twin"]
    features = list(spec["real"]["features"])
    options = DaskOptions.from_spec(spec["dask"])
    n0 = int(st["initial_labels"])
    RunFolder(out, overwrite=overwrite).check_target()
    with tempfile.TemporaryDirectory(prefix="twinloop-closed-") as tmp, \
            RunFolder(out, overwrite=overwrite) as folder:
        start_cfg_path = _calibrated_start(spec, folder)
        twin_cfg = load_config(start_cfg_path)
        # -- the real stream, all parts, in time order
        real = _stream_table(spec, Path(tmp))
        real = real.sort_by([("start_time", "ascending"), ("cycle_id", "ascending")])
        X = np.column_stack([np.asarray(real[f].to_numpy(zero_copy_only=False), float) for f in features])
        keep = np.isfinite(X).all(axis=1)
        real, X = real.filter(pa.array(keep)), X[keep]
        y = np.asarray(real["good"].to_pylist(), bool)
        mold = np.array([str(e).split()[0] for e in real["experiment"].to_pylist()], dtype=object)
        t_s = np.asarray(pc.cast(real["start_time"], pa.int64()).to_numpy(zero_copy_only=False), float) / 1e6
        n = y.size
        if n <= n0 + 100:
            raise ValueError(f"closed_loop: {n} real parts, fewer than initial_labels + 100")
        if y[:n0].all():
            raise ValueError(f"closed_loop: the first {n0} parts have no fail to learn from: raise initial_labels")
        total = n - n0
        mu, sd = X[:n0].mean(axis=0), X[:n0].std(axis=0, ddof=1) + 1e-9
        # -- initial models
        init = _fit(spec["learner"], X[:n0], y[:n0], features)
        models = {a: init for a in ARMS}
        p_fail = {a: np.full(n, np.nan) for a in ARMS}
        labels_used = {a: n0 for a in ARMS}
        refits = {a: 0 for a in ARMS}
        detectors = [make_detector(str(al["detector"])) for _ in features]
        alarms: list[dict] = []
        syn_X, syn_y, syn_rows = [], [], []
        pending_alarm: int | None = None
        last_recal = -10**9
        since_refit = 0
        block = int(st["block"])
        for b0 in range(n0, n, block):
            b1 = min(n, b0 + block)
            for a in ARMS:          # predict before anything about these parts is learned
                p_fail[a][b0:b1] = _p_fail(models[a], X[b0:b1], features)
            # -- real labels: those of parts at least label_delay back have arrived
            arrived = max(n0, b1 - int(st["label_delay"]))
            new = arrived - labels_used["real labels"]
            since_refit += max(0, new)
            labels_used["real labels"] = max(labels_used["real labels"], arrived)
            if since_refit >= int(st["refit_every"]):
                models["real labels"] = _fit(spec["learner"], X[:arrived], y[:arrived], features)
                refits["real labels"] += 1
                since_refit = 0
            # -- twin: drift detectors on the features (no labels)
            z = (X[b0:b1] - mu) / sd
            for i in range(b1 - b0):
                fired = [features[j] for j, d in enumerate(detectors) if d.update(float(z[i, j]))]
                if fired and pending_alarm is None and b0 + i - last_recal >= int(al["cooldown"]):
                    pending_alarm = b0 + i
                    alarms.append({"part": b0 + i, "time_s": float(t_s[b0 + i]), "kind": "drift alarm",
                                   "features": ",".join(fired), "mold": str(mold[b0 + i])})
            if pending_alarm is not None and b1 - pending_alarm >= int(al["recent_window"]):
                w0 = b1 - int(al["recent_window"])
                window = real.slice(w0, b1 - w0)
                k = len([r for r in alarms if r["kind"] == "recalibration"])
                wfit = calibrate_window(twin_cfg, window, features, list(tw["params"]),
                                        sensor_offsets=list(tw["sensor_offsets"]),
                                        setpoints_keys=list(tw["setpoints_from_log"]), max_nfev=int(tw["max_nfev"]),
                                        pass_constraint=bool(tw["pass_constraint"]))
                cfg_path = Path(tmp) / f"recal{k}.toml"
                cfg_path.write_text(dump_toml(wfit.config), encoding="utf-8")
                base = {key: float(get(wfit.config, key)) for key in sy["vary"]}
                tasks = [{"run": r, "seed": task_seed(int(sy["seed"]), k, r), "config": str(cfg_path), "base": base,
                          "vary": sy["vary"], "cycles": int(sy["cycles_per_run"]),
                          "warmup_cycles": int(sy["warmup_cycles"]), "features": features}
                         for r in range(int(sy["runs"]))]
                pool = [row for rows in run_tasks(simulate_campaign, tasks, options) for row in rows]
                pool = [r for r in pool if all(r[f] is not None and math.isfinite(r[f]) for f in features)]
                good = np.array([r["good"] for r in pool], bool)
                share = float(sy["not_good_share"])
                n_syn = min(int(sy["per_recalibration"]), int(good.sum() / max(1e-9, 1 - share)) if share < 1 else 0,
                            int((~good).sum() / max(1e-9, share)) if share > 0 else int(good.sum()))
                pick = draw_synthetic(good, n_syn, share, np.random.default_rng(task_seed(int(sy["seed"]), k, 10**6)))
                for i in pick:
                    syn_rows.append({"recalibration": k, **{f: pool[i][f] for f in features},
                                     "good": bool(pool[i]["good"]), "defect_type": pool[i]["defect_type"]})
                syn_X.append(np.array([[pool[i][f] for f in features] for i in pick], float).reshape(-1, len(features)))
                syn_y.append(good[pick])
                models["twin"] = _fit(spec["learner"], np.vstack([X[:n0], *syn_X]),
                                      np.concatenate([y[:n0], *syn_y]), features)
                refits["twin"] += 1
                alarms.append({"part": b1, "time_s": float(t_s[b1 - 1]), "kind": "recalibration",
                               "features": f"cost {wfit.result.cost_start:.3g} -> {wfit.result.cost:.3g}; "
                                           f"{int((~good[pick]).sum())} of {len(pick)} synthetic not good; pool "
                                           f"{_kinds(pool)}",
                               "mold": str(mold[b1 - 1])})
                pending_alarm, last_recal = None, b1
                detectors = [make_detector(str(al["detector"])) for _ in features]
                mu, sd = X[w0:b1].mean(axis=0), X[w0:b1].std(axis=0, ddof=1) + 1e-9
            if progress:
                progress(b1 - n0, total)
        metrics = _metrics(spec, y, p_fail, mold, n0, labels_used, refits, alarms)
        folder.write_text("config.toml", tomli_w.dumps({"scenario": "closed_loop", **spec}))
        pred = {"part": np.arange(n), "time_s": t_s, "mold": mold.astype(str), "true_good": y}
        for a in ARMS:
            pred[f"p_fail:{a}"] = p_fail[a]
        pq.write_table(pa.table(pred), folder.path("predictions.parquet"))
        pq.write_table(pa.Table.from_pylist(alarms, schema=pa.schema([("part", pa.int64()), ("time_s", pa.float64()),
                                                                        ("kind", pa.string()), ("features", pa.string()),
                                                                        ("mold", pa.string())])),
                       folder.path("alarms.parquet"))
        if syn_rows:
            pq.write_table(pa.Table.from_pylist(syn_rows), folder.path("synthetic.parquet"))
        folder.write_json("metrics.json", finite_json(metrics))
        folder.write_text("report.html", closed_loop_report_html(metrics, pred, alarms, int(st["window"])))
        if finalize is not None:
            finalize(folder, metrics)
    return Path(out)


def _kinds(pool: list[dict]) -> str:
    counts: dict[str, int] = {}
    for r in pool:
        counts[r["defect_type"]] = counts.get(r["defect_type"], 0) + 1
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))


def _stream_table(spec: dict, tmp: Path) -> pa.Table:
    """The whole real log, ingested (every part: the stream is the log)."""
    from scenarios.kassel_calibration import REPO_ROOT, realdata_root
    from twin.ingest import ingest_molding

    mapping = Path(spec["real"]["mapping"])
    mapping = mapping if mapping.is_absolute() else REPO_ROOT / mapping
    d = ingest_molding(realdata_root() / spec["real"]["log"], mapping, tmp / "real")
    return pq.read_table(d / "cycles.parquet")


def _scores(y: np.ndarray, p: np.ndarray) -> dict:
    from learners.metrics import binary_metrics

    pred = p < 0.5
    m = binary_metrics(list(y), list(pred), list(p))
    return {"parts": int(y.size), "fails": int((~y).sum()), "auc_fail": m["auc_fail"],
            "balanced_accuracy": m["balanced_accuracy"], "recall_fail": m["recall_fail"],
            "good_flagged": m["false_alarm_rate"]}


def _metrics(spec: dict, y, p_fail, mold, n0, labels_used, refits, alarms) -> dict:
    st = spec["stream"]
    window, tol = int(st["window"]), float(st["recover_tolerance"])
    changes = [i for i in range(n0 + 1, y.size) if mold[i] != mold[i - 1]]
    segments = [(s, e) for s, e in zip([n0] + changes, changes + [y.size])]
    out: dict = {"stream": {"parts": int(y.size), "fails": int((~y).sum()), "initial_labels": n0,
                            "mold_changes": [{"part": c, "from": str(mold[c - 1]), "to": str(mold[c])} for c in changes]},
                 "arms": {}}
    for a in ARMS:
        p = p_fail[a]
        rate = rolling_flag_rate(y[n0:], p[n0:] < 0.5, window)
        rec = [{"part": c, "to": str(mold[c]), "parts_to_recover": time_to_recover(rate, c - n0, window, tol)}
               for c in changes if c - n0 > 0]
        segs = [{"start": s, "end": e, "mold": str(mold[s]), **_scores(y[s:e], p[s:e])} for s, e in segments]
        # An arm that flags every part of a fail-rich mold run scores a high AUC over the whole stream
        # without telling one part from another: the mean AUC within the runs that have fails says that.
        within = [g["auc_fail"] for g in segs if g["auc_fail"] is not None]
        out["arms"][a] = {"overall": _scores(y[n0:], p[n0:]), "labels_used": int(labels_used[a]),
                          "auc_within_segments": float(np.mean(within)) if within else None,
                          "refits": int(refits[a]),
                          "segments": segs,
                          "recovery": rec}
    out["alarms"] = sum(1 for r in alarms if r["kind"] == "drift alarm")
    out["recalibrations"] = sum(1 for r in alarms if r["kind"] == "recalibration")
    return out
