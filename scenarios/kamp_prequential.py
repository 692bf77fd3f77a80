"""KAMP real stream, prequential: online learners on three weeks of real shots, in time order.

The KAMP log (``im_kamp``: a 650 t machine, 5,232 parts of 4 parts' molds,
Oct-Nov 2020, 60 labelled fails: 35 burn marks, 15 short shots, 10 start-up
rejects) is ingested with ``mappings/kamp.toml`` and replayed part by part
in time order through the online runner (:class:`learners.online.OnlineRunner`):
every part is predicted from its logged scalar features before its label
is used, then learned (prequential, "test-then-train" evaluation).

Learners (``[learners] models``): River's logistic regression and
Hoeffding (adaptive) tree with a running standard scaler, and
scikit-learn's gradient boosting refitted every ``hgb_refit_every`` labels
— all class-weighted, since always saying "good" is already 98.9 %
accurate. The figures that matter are the recall of real fails and the
share of good parts flagged.

Drift: ADWIN and Page-Hinkley on each learner's error stream; EWMA, CUSUM
and ADWIN on key process features, per part (``monitor_by =
"experiment"``: the log switches between four parts on two molds, whose
cycle and fill times differ by seconds), with limits from each part's
first ``spc_in_control`` shots. The LH and RH parts of one shot share its
process values, so their charts are twins. The same stream with a label delay
(``extra_label_delays``: labels arriving N parts later) shows what a
delayed inspection costs.

Reading the figures: fails come in bursts (a day of burn marks, a start-up
with short shots), and each row is one *part* — the LH and RH parts of a
shot share its timestamp and process values. With no label delay the
label of one part is learned before its twin is predicted, and a burst's
first fails teach the learner the next ones: the recall at delay 0 is
largely this persistence. The run with labels 100 parts late is the
figure for a plant where inspection lags production.

A detector study runs alongside (``[detector_study]``): each detector on
seeded synthetic streams with a known change point — a 1 sd mean shift of
a feature, and a rise of an error rate — counting the detection delay and
the false alarms before the change and on streams without one
(:func:`learners.drift.evaluate_detector`).

Run: ``twinloop run scenarios/kamp_prequential.toml --out DIR`` (1-3
minutes on 2 shared cores; reads ``$TWINLOOP_REALDATA``). Writes ``metrics.json``,
``report.html``, the runner's records in ``prequential/`` (predictions,
rolling metrics, alarms, SPC; Parquet) and ``prequential_delay<N>/``.
"""
from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Callable

from scenarios.kassel_calibration import REPO_ROOT, realdata_root
from scenarios.spec import merge_spec
from twin.runfolder import RunFolder, finite_json

__all__ = ["DEFAULTS", "run", "make_learners"]

DEFAULTS: dict = {
    "data": {"log": "im_kamp/labeled_data_preprocessed.csv", "mapping": "mappings/kamp.toml"},
    "learners": {"models": ["logreg", "hoeffding_adaptive", "hgb"], "seed": 0, "hgb_refit_every": 250,
                 "features": []},
    "stream": {"label_delay": 0, "window": 500, "spc_in_control": 200,
               "spc_features": ["cycle_time_s", "injection_time_s", "cushion_mm", "max_injection_pressure_bar"],
               "error_detectors": ["adwin", "page_hinkley"], "feature_detectors": ["adwin"],
               "monitor_by": "experiment", "extra_label_delays": [100]},
    "detector_study": {"detectors": ["adwin", "page_hinkley", "kswin"], "n_streams": 30, "n_before": 1000,
                       "n_after": 1000, "mean_shift_sd": 1.0, "error_rate_before": 0.1, "error_rate_rise": 0.15,
                       "seed": 0},
}


def make_learners(names: list[str], seed: int, refit_every: int, features: list[str] | None) -> dict:
    """Fresh learners by name: ``logreg``, ``hoeffding``, ``hoeffding_adaptive`` (River), ``hgb`` (scikit-learn)."""
    from learners.river_scalar import RIVER_MODELS, RiverScalarClassifier
    from learners.scalar_baseline import GradientBoostingScalar

    out = {}
    for name in names:
        if name == "hgb":
            out[name] = GradientBoostingScalar(features=features, refit_every=int(refit_every), seed=seed)
        elif name in RIVER_MODELS:
            out[name] = RiverScalarClassifier(name, features=features, seed=seed)
        else:
            raise KeyError(f"kamp_prequential: unknown learner {name!r} in [learners] models; known: "
                           f"{sorted(RIVER_MODELS + ('hgb',))}")
    return out


def detector_study(spec: dict) -> list[dict]:
    """The seeded change-point table: one row per (detector, stream kind)."""
    from learners.drift import evaluate_detector

    rows = []
    for kind, shift in (("mean", float(spec["mean_shift_sd"])), ("bernoulli", float(spec["error_rate_rise"]))):
        for name in spec["detectors"]:
            r = evaluate_detector(name, n_streams=int(spec["n_streams"]), n_before=int(spec["n_before"]),
                                  n_after=int(spec["n_after"]), kind=kind, shift=shift,
                                  p0=float(spec["error_rate_before"]), seed=int(spec["seed"]))
            r["stream"] = ("feature: mean shift of %.2g sd" % shift) if kind == "mean" else \
                ("error rate %.2g -> %.2g" % (float(spec["error_rate_before"]), float(spec["error_rate_before"]) + shift))
            r["name"] = name
            rows.append(r)
    return rows


def daily_table(predictions, alarms) -> list[dict]:
    """Per learner and (UTC) day: parts, fails, fails caught, good parts flagged, error-stream alarms."""
    import pyarrow.compute as pc

    days = [dt.datetime.fromtimestamp(t, dt.timezone.utc).date().isoformat()
            for t in predictions["time_s"].to_pylist()]
    learner = predictions["learner"].to_pylist()
    tg = predictions["true_good"].to_pylist()
    pg = predictions["pred_good"].to_pylist()
    out: dict[tuple, dict] = {}
    for d, lrn, t, p in zip(days, learner, tg, pg):
        if t is None:
            continue
        row = out.setdefault((lrn, d), {"learner": lrn, "day": d, "parts": 0, "fails": 0, "fails_caught": 0,
                                        "good_flagged": 0, "error_alarms": 0})
        row["parts"] += 1
        row["fails"] += int(not t)
        row["fails_caught"] += int((not t) and (not p))
        row["good_flagged"] += int(t and (not p))
    err = alarms.filter(pc.equal(alarms["signal"], "error")) if alarms.num_rows else alarms
    for t, lrn in zip(err["time_s"].to_pylist(), err["learner"].to_pylist()):
        d = dt.datetime.fromtimestamp(t, dt.timezone.utc).date().isoformat()
        if (lrn, d) in out:
            out[(lrn, d)]["error_alarms"] += 1
    return [out[k] for k in sorted(out)]


def run(spec: dict, out: Path, *, progress: Callable[[int, int], None] | None = None, overwrite: bool = False,
        finalize: Callable | None = None) -> Path:
    """Run the study (module docstring); returns the run folder."""
    spec = merge_spec(DEFAULTS, spec, "kamp_prequential")
    import json

    import pyarrow.parquet as pq

    from learners.online import OnlineRunner
    from learners.online_report import online_report_html
    from twin.ingest import ingest_molding

    log = realdata_root() / spec["data"]["log"]
    mapping = Path(spec["data"]["mapping"])
    mapping = mapping if mapping.is_absolute() else REPO_ROOT / mapping
    ls, st = spec["learners"], spec["stream"]
    features = list(ls["features"]) or None
    make_learners(list(ls["models"]), int(ls["seed"]), int(ls["hgb_refit_every"]), features)  # check names early
    RunFolder(out, overwrite=overwrite).check_target()
    delays = [int(st["label_delay"])] + [int(d) for d in st["extra_label_delays"]]
    steps, done = 2 + len(delays), 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress:
            progress(done, steps)

    def runner(delay: int, report: bool) -> OnlineRunner:
        return OnlineRunner(make_learners(list(ls["models"]), int(ls["seed"]), int(ls["hgb_refit_every"]), features),
                            label_delay=delay, window=int(st["window"]), spc_in_control=int(st["spc_in_control"]),
                            spc_features=list(st["spc_features"]), error_detectors=list(st["error_detectors"]),
                            feature_detectors=list(st["feature_detectors"]), monitor_by=st["monitor_by"] or None,
                            gap=False, report=report,
                            seed=int(ls["seed"]))

    with tempfile.TemporaryDirectory(prefix="twinloop-kamp-preq-") as tmp, \
            RunFolder(out, overwrite=overwrite) as folder:
        real_dir = ingest_molding(log, mapping, Path(tmp) / "real")
        tick()
        runs: dict[int, dict] = {}
        for k, delay in enumerate(delays):
            name = "prequential" if k == 0 else f"prequential_delay{delay}"
            r = runner(delay, report=(k == 0))
            r.run([real_dir], folder.path(name))
            runs[delay] = r.metrics_
            tick()
        main = folder.path("prequential")
        predictions = pq.read_table(main / "predictions.parquet")
        alarms = pq.read_table(main / "alarms.parquet")
        study = detector_study(spec["detector_study"])
        tick()
        ingest = json.loads((real_dir / "metrics.json").read_text(encoding="utf-8"))
        first = runs[delays[0]]
        metrics = {
            "data": {"log": spec["data"]["log"], "rows": ingest.get("rows_written"),
                     "time_span": [first["stream"]["time_start_s"], first["stream"]["time_end_s"]],
                     "fails": _fails(first)},
            "learners": {name: _summary(m) for name, m in first["learners"].items()},
            "label_delay": {str(d): {name: _summary(m) for name, m in runs[d]["learners"].items()} for d in delays},
            "feature_alarms": first["features"],
            "alarm_counts": first["alarm_counts"],
            "daily": daily_table(predictions, alarms),
            "detector_study": [{k: v for k, v in r.items() if k != "delays"} for r in study],
            "settings": {"learners": ls, "stream": st},
        }
        folder.write_json("metrics.json", finite_json(metrics))
        rolling = pq.read_table(main / "rolling.parquet")
        spc = pq.read_table(main / "spc.parquet")
        gap = pq.read_table(main / "gap_windows.parquet")
        folder.write_text("report.html", online_report_html(
            first, rolling, alarms, spc, gap, title="KAMP real stream: prequential learning, drift and SPC",
            extra_sections=[_delay_section(metrics, delays), _study_section(metrics["detector_study"])]))
        if finalize is not None:
            finalize(folder, metrics)
    return Path(out)


def _fails(m: dict) -> int | None:
    for lm in m["learners"].values():
        c = lm["prequential"]["confusion"]
        return c["tp"] + c["fn"]
    return None


def _summary(m: dict) -> dict:
    p = m["prequential"]
    return {"labelled": m["labelled"], "accuracy": p["accuracy"], "always_good_accuracy": m["always_good_accuracy"],
            "balanced_accuracy": p["balanced_accuracy"], "recall_fail": p["recall_fail"],
            "precision_fail": p["precision_fail"], "false_alarm_rate": p["false_alarm_rate"],
            "auc_fail": p.get("auc_fail"), "confusion": p["confusion"],
            "error_drift_alarms": {k: v["count"] for k, v in m["error_drift_alarms"].items()},
            "error_drift_alarm_positions": {k: v["positions"] for k, v in m["error_drift_alarms"].items()}}


def _fmt(v, digits: int = 3) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def _table(head, rows) -> str:
    import html

    th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(_fmt(c))}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><tr>{th}</tr>{body}</table>"


def _delay_section(metrics: dict, delays: list[int]) -> tuple[str, str]:
    rows = []
    for d in delays:
        for name, s in metrics["label_delay"][str(d)].items():
            rows.append((d, name, s["accuracy"], s["balanced_accuracy"], s["recall_fail"], s["precision_fail"],
                         s["false_alarm_rate"], s["auc_fail"]))
    return ("Label delay", "<p>The same stream with labels arriving N parts after the prediction "
            "(N = 0: right after).</p>" + _table(("label delay (parts)", "learner", "accuracy", "balanced accuracy",
                                                  "recall of fails", "precision of fails", "good parts flagged",
                                                  "AUC"), rows))


def _study_section(study: list[dict]) -> tuple[str, str]:
    rows = [(r["name"], r["stream"], r["detected_fraction"], r["delay_median"], r["delay_p90"],
             r["false_alarms_before_change_per_1000"], r["false_alarms_stationary_per_1000"],
             r["stationary_streams_with_alarm"]) for r in study]
    n = study[0]["n_streams"] if study else 0
    return ("Drift detectors on seeded streams with a known change point",
            f"<p>{n} streams per row, change after {study[0]['n_before'] if study else 0} samples; delay = samples "
            "from the change to the first alarm at or after it; false alarms per 1,000 samples before the change "
            "and on as many streams without a change.</p>"
            + _table(("detector", "stream", "detected", "median delay", "90 % delay", "false alarms / 1000 "
                      "(before change)", "false alarms / 1000 (stationary)", "stationary streams with an alarm"),
                     rows))

