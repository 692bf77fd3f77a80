"""The online runner: predict-then-learn on a record stream, with drift detectors, SPC and the gap monitor.

:class:`OnlineRunner` replays a stream of cycle records — the cycles of
one or more run folders, simulated and/or ingested real logs, merged in
time order (:class:`learners.stream.RecordStream`) — through one or more
learners, the way they would meet a running machine:

1. **predict**: each record is predicted by every learner before its label
   is known;
2. **label delay**: the label of record *i* arrives ``label_delay`` records
   later (inspection takes time; 0 = right after the prediction); labels
   still pending when the stream ends arrive at its end;
3. **score**: when the label arrives, the (label, prediction) pair updates
   the learner's rolling and cumulative metrics (:mod:`learners.rolling`)
   and its *error stream* (1 = wrong) feeds the drift detectors
   (:mod:`learners.drift`);
4. **learn**: the labelled record is learned (``learn_many`` once
   ``learn_batch`` labels are buffered; ``learn=False`` for a frozen model).

Alongside, each record's key process features (``spc_features``) are
charted per source (``sim`` / ``real``; and per product with
``monitor_by``) on EWMA and CUSUM charts whose limits come from the first
``spc_in_control`` values of that source
(:mod:`learners.spc`), and fed, standardised by that same window, to
drift detectors (``drift_features``). When the stream holds both
simulated and real cycles, the sim-to-real gap is measured on sliding
time windows at the end (:func:`learners.gap.gap_windows`: each window of
the real stream against the simulated one — windowed too when their time
spans overlap, else all of it).

Mini-batches: ``batch_size`` records are predicted at once (a batched
LSTM is an order of magnitude faster than one record at a time). The
evaluation is exactly record-by-record predict-then-learn whenever
``batch_size <= label_delay + 1`` (no label of a block can arrive before
the block's last prediction); with a larger batch, records in a block are
predicted without the labels of earlier records of the same block.

Output (an atomic run folder, :class:`twin.runfolder.RunFolder`):
``predictions.parquet``, ``rolling.parquet``, ``alarms.parquet``,
``spc.parquet``, ``gap_windows.parquet`` (schemas in
:mod:`learners.online_records`), ``metrics.json`` and ``report.html``
(:mod:`learners.online_report`).
"""
from __future__ import annotations

import logging
import math
import time
from collections import deque
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from learners.drift import DriftDetector, make_detector
from learners.metrics import binary_metrics
from learners.online_records import (ALARMS_SCHEMA, GAP_WINDOWS_SCHEMA, PREDICTIONS_SCHEMA, ROLLING_SCHEMA,
                                     SPC_SCHEMA)
from learners.protocol import Learner
from learners.records import LearnerInputError, label_of, to_good
from learners.rolling import RollingBinary
from learners.spc import CUSUMChart, EWMAChart
from learners.stream import RecordStream
from twin.runfolder import RunFolder, finite_json
from twin.schema import FEATURE_FIELDS

__all__ = ["OnlineRunner", "DEFAULT_PROCESS_FEATURES"]

log = logging.getLogger(__name__)

#: Process features charted by default (those present in a source are used).
DEFAULT_PROCESS_FEATURES: tuple[str, ...] = ("cycle_time_s", "injection_time_s", "cushion_mm",
                                             "max_injection_pressure_bar", "part_weight_g")


class _FeatureMonitor:
    """SPC charts and drift detectors of one feature of one source (Phase I window, then Phase II)."""

    def __init__(self, source: str, feature: str, charts: dict[str, Any], detectors: list[DriftDetector],
                 n_in_control: int):
        self.source, self.feature = source, feature
        self.charts = charts
        self.detectors = detectors
        self.n_in_control = n_in_control
        self.window: list[float] = []
        self.fitted = False
        self.mean = self.sd = math.nan
        self.was_out = {name: False for name in charts}

    def update(self, pos: int, t: float, x: Any, spc_rows: list, alarms: list) -> None:
        if x is None:
            return
        x = float(x)
        if not math.isfinite(x):
            return
        if not self.fitted:
            self.window.append(x)
            if len(self.window) >= self.n_in_control:
                w = np.asarray(self.window)
                for chart in self.charts.values():
                    chart.fit(w)
                self.mean = float(w.mean())
                sd = float(w.std(ddof=1)) if w.size > 1 else 0.0
                self.sd = sd if sd > 0 else 1.0
                self.fitted = True
            return
        for name, chart in self.charts.items():
            chart.update(x)
            st = chart.state()
            spc_rows.append({"position": pos, "time_s": t, "source": self.source, "feature": self.feature,
                             "chart": name, "value": x, **st})
            out = st["signal"] is not None
            if out and not self.was_out[name]:
                alarms.append({"position": pos, "time_s": t, "source": self.source, "learner": None,
                               "signal": self.feature, "detector": name, "kind": f"spc_{st['signal']}",
                               "value": x})
            self.was_out[name] = out
        z = (x - self.mean) / self.sd
        for det in self.detectors:
            if det.update(z):
                alarms.append({"position": pos, "time_s": t, "source": self.source, "learner": None,
                               "signal": self.feature, "detector": det.name, "kind": "drift", "value": x})


class _LearnerState:
    def __init__(self, name: str, learner: Learner, window: int, detectors: list[DriftDetector]):
        self.name, self.learner = name, learner
        self.rolling = RollingBinary(window)
        self.detectors = detectors
        self.buffer_x: list[dict] = []
        self.buffer_y: list = []
        self.updates = 0


class OnlineRunner:
    """Predict-then-learn over a record stream; see the module docstring.

    ``learners``: ``{name: Learner}`` (or one learner, named ``"learner"``);
    they are trained in place. Settings: ``label_delay`` (records),
    ``window`` (records of the rolling metrics), ``batch_size``, ``learn``,
    ``learn_batch``, ``error_detectors`` and ``feature_detectors`` (names or
    :func:`~learners.drift.make_detector` specs), ``drift_features`` and
    ``spc_features`` (None: :data:`DEFAULT_PROCESS_FEATURES` present in the
    stream), ``spc_charts`` (``ewma``, ``cusum``), ``spc_in_control``
    (records of each source's Phase I window), ``ewma_lambda``, ``ewma_L``,
    ``cusum_k``, ``cusum_h``, ``monitor_by`` (a column, e.g. ``experiment``:
    separate charts and feature detectors per source *and* value of it, as
    for the parts of a family mold or the products of a changeover; None:
    per source), ``gap`` (measure the gap when both sources are
    present), ``gap_window_s`` (None: a tenth of the real stream's span),
    ``gap_features`` (None: the logged features both sides have),
    ``gap_n_perm``, ``gap_min_rows``, ``time_column``, ``report``, ``seed``.
    """

    def __init__(self, learners: dict[str, Learner] | Learner, *, label_delay: int = 0, window: int = 500,
                 batch_size: int = 1, learn: bool = True, learn_batch: int = 1,
                 error_detectors: Sequence[str | dict] = ("adwin", "page_hinkley"),
                 feature_detectors: Sequence[str | dict] = ("adwin",), drift_features: Sequence[str] | None = None,
                 spc_features: Sequence[str] | None = None, spc_charts: Sequence[str] = ("ewma", "cusum"),
                 spc_in_control: int = 200, ewma_lambda: float = 0.2, ewma_L: float = 3.0, cusum_k: float = 0.5,
                 cusum_h: float = 5.0, monitor_by: str | None = None, gap: bool = True,
                 gap_window_s: float | None = None,
                 gap_features: Sequence[str] | None = None, gap_n_perm: int = 100, gap_min_rows: int = 20,
                 time_column: str = "end_time", report: bool = True, seed: int = 0):
        self.learners = learners
        self.label_delay = label_delay
        self.window = window
        self.batch_size = batch_size
        self.learn = learn
        self.learn_batch = learn_batch
        self.error_detectors = error_detectors
        self.feature_detectors = feature_detectors
        self.drift_features = drift_features
        self.spc_features = spc_features
        self.spc_charts = spc_charts
        self.spc_in_control = spc_in_control
        self.ewma_lambda = ewma_lambda
        self.ewma_L = ewma_L
        self.cusum_k = cusum_k
        self.cusum_h = cusum_h
        self.monitor_by = monitor_by
        self.gap = gap
        self.gap_window_s = gap_window_s
        self.gap_features = gap_features
        self.gap_n_perm = gap_n_perm
        self.gap_min_rows = gap_min_rows
        self.time_column = time_column
        self.report = report
        self.seed = seed

    # -- setup ----------------------------------------------------------------
    def _learner_states(self) -> list[_LearnerState]:
        learners = self.learners if isinstance(self.learners, dict) else {"learner": self.learners}
        if not learners:
            raise ValueError("no learner given")
        states = []
        for j, (name, lrn) in enumerate(learners.items()):
            dets = [make_detector(spec, seed=self.seed + 1000 * j + k) for k, spec in enumerate(self.error_detectors)]
            states.append(_LearnerState(name, lrn, int(self.window), dets))
        return states

    def _make_chart(self, name: str):
        if name == "ewma":
            return EWMAChart(lam=self.ewma_lambda, L=self.ewma_L)
        if name == "cusum":
            return CUSUMChart(k=self.cusum_k, h=self.cusum_h)
        raise ValueError(f"unknown SPC chart {name!r}; expected 'ewma' or 'cusum'")

    def _feature_plan(self, stream: RecordStream) -> dict[str, tuple[list[str], list[str]]]:
        """Per source kind: the features charted (SPC) and those fed to drift detectors; inputs checked."""
        all_columns = {c for s in stream.sources for c in s.run.cycles.column_names}
        for given in (self.spc_features, self.drift_features):
            missing = [f for f in (given or ()) if f not in all_columns]
            if missing:
                raise LearnerInputError(f"feature(s) {missing} to monitor are not columns of the stream "
                                        f"({', '.join(str(s.run.path) for s in stream.sources)})")
            hidden = [f for f in (given or ()) if f.startswith("hidden_")]
            if hidden:
                raise LearnerInputError(f"feature(s) {hidden}: hidden_* columns are simulator state a real machine "
                                        "does not log; they cannot be monitored")
        if self.monitor_by is not None and self.monitor_by not in all_columns:
            raise LearnerInputError(f"monitor_by column {self.monitor_by!r} is not a column of the stream")
        plan = {}
        for kind in sorted(set(stream.kinds)):
            tables = [s.run.cycles for s in stream.sources if s.kind == kind]

            def mostly_present(f: str) -> bool:
                return all(f in t.column_names for t in tables) and \
                    sum(t[f].null_count for t in tables) < 0.5 * sum(t.num_rows for t in tables)

            # Defaults: the process features this source logs; a user's list: as given (a source that
            # lacks one of them simply never fills its in-control window).
            spc = list(self.spc_features) if self.spc_features is not None else \
                [f for f in DEFAULT_PROCESS_FEATURES if mostly_present(f)]
            drift = list(self.drift_features) if self.drift_features is not None else spc
            plan[kind] = (spc, drift)
        return plan

    def _new_monitor(self, group: str, feature: str, charted: bool, drifting: bool, k: int) -> _FeatureMonitor:
        charts = {c: self._make_chart(c) for c in self.spc_charts} if charted else {}
        dets = [make_detector(spec, seed=self.seed + 7919 + 31 * k + j)
                for j, spec in enumerate(self.feature_detectors)] if drifting else []
        return _FeatureMonitor(group, feature, charts, dets, int(self.spc_in_control))

    # -- the run ----------------------------------------------------------------
    def run(self, runs: Sequence[Path | str] | RecordStream, out: Path | str, *, overwrite: bool = False,
            progress: Callable[[int, int], None] | None = None, on_alarm: Callable[[dict], None] | None = None,
            on_metrics: Callable[[dict], None] | None = None, metrics_every: int = 100) -> Path:
        """Run the stream of ``runs`` and write the output folder ``out``; returns its path.

        ``runs``: run folders, or a :class:`~learners.stream.RecordStream`
        (e.g. records already in memory, :meth:`RecordStream.from_tables`).

        ``progress(done, total)`` after each block; ``on_alarm(alarm)`` for each
        alarm as it is raised; ``on_metrics({"position", "time_s", learner: snapshot})``
        every ``metrics_every`` records.
        """
        RunFolder(out, overwrite=overwrite).check_target()
        states = self._learner_states()
        curves = any(s.learner.needs_curves for s in states)
        if isinstance(runs, RecordStream):
            stream = runs
            if curves and not stream.curves:
                raise ValueError("a learner reads curves, but the record stream carries none")
        else:
            stream = RecordStream(runs, time_column=self.time_column, curves=curves)
        plan = self._feature_plan(stream)
        watched = {kind: list(dict.fromkeys(spc + drift)) for kind, (spc, drift) in plan.items()}
        monitors: dict[tuple[str, str], _FeatureMonitor] = {}
        n = len(stream)
        delay = max(0, int(self.label_delay))
        preds: list[dict] = []
        rolling_rows: list[dict] = []
        alarms: list[dict] = []
        spc_rows: list[dict] = []
        pending: deque = deque()
        t0 = time.perf_counter()
        next_metrics = metrics_every
        n_alarms_seen = 0

        def release(item: tuple, arrival: int) -> None:
            rec, made = item
            row = rec.record
            for st in states:
                y = label_of(row, st.learner.target)
                pred = made.get(st.name)
                if pred is None:
                    continue
                true_good = to_good(y)
                pred_good = to_good(pred[0])
                err = None if true_good is None else (pred_good != true_good)
                preds.append({"position": rec.position, "time_s": rec.time_s, "source": row["_source"],
                              "run": row["_run"], "cycle_id": row.get("cycle_id"), "learner": st.name,
                              "pred_label": str(pred[0]), "pred_good": pred_good, "p_fail": pred[1],
                              "true_label": None if y is None else str(y), "true_good": true_good,
                              "label_position": arrival if y is not None else None, "error": err})
                if true_good is None:
                    continue
                st.rolling.update(not true_good, not pred_good)
                rolling_rows.append({"position": arrival, "record_position": rec.position, "time_s": rec.time_s,
                                     "learner": st.name, **st.rolling.snapshot()})
                for det in st.detectors:
                    if det.update(1.0 if err else 0.0):
                        alarms.append({"position": arrival, "time_s": rec.time_s, "source": row["_source"],
                                       "learner": st.name, "signal": "error", "detector": det.name,
                                       "kind": "drift", "value": 1.0 if err else 0.0})
                if self.learn:
                    st.buffer_x.append(row)
                    st.buffer_y.append(y)
                    if len(st.buffer_x) >= max(1, int(self.learn_batch)):
                        flush(st)

        def flush(st: _LearnerState) -> None:
            if not st.buffer_x:
                return
            if len(st.buffer_x) == 1:
                st.learner.learn_one(st.buffer_x[0], st.buffer_y[0])
            else:
                st.learner.learn_many(st.buffer_x, st.buffer_y)
            st.updates += 1
            st.buffer_x, st.buffer_y = [], []

        for block in stream.blocks(self.batch_size):
            for rec in block:
                kind = rec.record["_source"]
                group = kind if self.monitor_by is None else f"{kind}/{rec.record.get(self.monitor_by)}"
                for f in watched[kind]:
                    mon = monitors.get((group, f))
                    if mon is None:
                        mon = monitors[(group, f)] = self._new_monitor(group, f, f in plan[kind][0],
                                                                       f in plan[kind][1], len(monitors))
                    mon.update(rec.position, rec.time_s, rec.record.get(f), spc_rows, alarms)
            made: list[dict] = [dict() for _ in block]
            for st in states:
                idx = [i for i, r in enumerate(block)
                       if not st.learner.needs_curves or r.record.get("_has_curves")]
                if not idx:
                    continue
                labels, p_fail = st.learner.predict_scored_many([block[i].record for i in idx])
                for i, lab, p in zip(idx, labels, p_fail):
                    made[i][st.name] = (lab, float(p))
            pending.extend(zip(block, made))
            end = block[-1].position
            while pending and pending[0][0].position + delay <= end:
                item = pending.popleft()
                release(item, item[0].position + delay)
            if on_alarm is not None:
                for a in alarms[n_alarms_seen:]:
                    on_alarm(a)
            n_alarms_seen = len(alarms)
            if progress is not None:
                progress(end + 1, n)
            if on_metrics is not None and end + 1 >= next_metrics:
                on_metrics({"position": end, "time_s": block[-1].time_s,
                            **{st.name: st.rolling.snapshot() for st in states}})
                next_metrics += metrics_every
        while pending:
            release(pending.popleft(), n - 1)
        for st in states:
            if self.learn:
                flush(st)
        if on_alarm is not None:
            for a in alarms[n_alarms_seen:]:
                on_alarm(a)
        elapsed = time.perf_counter() - t0
        log.info("online runner: %d records in %.1f s (%d alarms)", n, elapsed, len(alarms))
        gap_rows, gap_info = self._gap(stream)
        metrics = self._metrics(stream, states, preds, alarms, monitors, gap_info, elapsed)
        self.metrics_ = metrics
        with RunFolder(out, overwrite=overwrite) as folder:
            _write(folder, "predictions.parquet", preds, PREDICTIONS_SCHEMA)
            _write(folder, "rolling.parquet", rolling_rows, ROLLING_SCHEMA)
            _write(folder, "alarms.parquet", alarms, ALARMS_SCHEMA)
            _write(folder, "spc.parquet", spc_rows, SPC_SCHEMA)
            _write(folder, "gap_windows.parquet", gap_rows, GAP_WINDOWS_SCHEMA)
            folder.write_json("metrics.json", metrics)
            if self.report:
                from learners.online_report import online_report_html

                folder.write_text("report.html", online_report_html(
                    metrics, pa.Table.from_pylist(rolling_rows, ROLLING_SCHEMA),
                    pa.Table.from_pylist(alarms, ALARMS_SCHEMA), pa.Table.from_pylist(spc_rows, SPC_SCHEMA),
                    pa.Table.from_pylist(gap_rows, GAP_WINDOWS_SCHEMA)))
        return Path(out)

    # -- the gap monitor -----------------------------------------------------------
    def _gap(self, stream: RecordStream) -> tuple[list[dict], dict | None]:
        kinds = set(stream.kinds)
        if not self.gap or not {"sim", "real"} <= kinds:
            return [], None
        from learners.gap import GapInputError, gap_windows
        from learners.records import time_seconds

        def side(kind: str) -> dict:
            tables = [s.run.cycles for s in stream.sources if s.kind == kind]
            cols: dict[str, np.ndarray] = {"t": np.concatenate([time_seconds(t[self.time_column]) for t in tables])}
            for f in FEATURE_FIELDS:
                if all(f in t.column_names for t in tables):
                    cols[f] = np.concatenate([np.asarray(t[f].to_numpy(zero_copy_only=False), dtype=float)
                                              for t in tables])
            return cols

        real, sim = side("real"), side("sim")
        tr, ts = real["t"], sim["t"]
        overlap = max(0.0, min(tr.max(), ts.max()) - max(tr.min(), ts.min()))
        shorter = max(min(np.ptp(tr), np.ptp(ts)), 1e-9)
        windowed_both = overlap >= 0.5 * shorter
        width = float(self.gap_window_s) if self.gap_window_s else max(np.ptp(tr) / 10.0, 1.0)
        features = list(self.gap_features) if self.gap_features is not None else \
            [f for f in FEATURE_FIELDS if f in real and f in sim]
        info = {"mode": "both windowed" if windowed_both else "real windows vs all simulated",
                "window_s": width, "features": features}
        try:
            rows = gap_windows(real, sim, "t", width, features=features if self.gap_features is not None else None,
                               b_fixed=not windowed_both, n_perm=int(self.gap_n_perm),
                               min_rows=int(self.gap_min_rows), seed=int(self.seed))
        except GapInputError as exc:
            info["skipped"] = str(exc)
            return [], info
        out = []
        for r in rows:
            ci = r["c2st_auc_ci"] or [None, None]
            out.append({"start_s": r["start"], "end_s": r["end"], "n_real": r["n_a"], "n_sim": r["n_b"],
                        "mmd2": r["mmd2"], "mmd_p_value": r["mmd_p_value"], "c2st_auc": r["c2st_auc"],
                        "c2st_auc_lo": ci[0], "c2st_auc_hi": ci[1], "skipped": r["skipped"]})
        done = [r for r in out if r["skipped"] is None]
        info.update({"windows": len(out), "windows_compared": len(done),
                     "c2st_auc_median": float(np.median([r["c2st_auc"] for r in done])) if done else None,
                     "mmd_p_below_0_05": sum(r["mmd_p_value"] < 0.05 for r in done)})
        return out, info

    # -- metrics.json -----------------------------------------------------------------
    def _metrics(self, stream: RecordStream, states: list[_LearnerState], preds: list[dict], alarms: list[dict],
                 monitors: dict, gap_info: dict | None, elapsed: float) -> dict:
        t = stream.times()
        kinds = stream.kinds
        out: dict = {
            "stream": {"records": len(stream), "runs": [{"run": s.name, "path": str(s.run.path), "source": s.kind,
                                                         "cycles": s.run.cycles.num_rows} for s in stream.sources],
                       "sources": {k: kinds.count(k) for k in sorted(set(kinds))},
                       "time_start_s": float(t[0]) if t.size else None,
                       "time_end_s": float(t[-1]) if t.size else None, "time_column": self.time_column},
            "settings": {"label_delay": int(self.label_delay), "window": int(self.window),
                         "batch_size": int(self.batch_size), "learn": bool(self.learn),
                         "learn_batch": int(self.learn_batch), "spc_in_control": int(self.spc_in_control),
                         "error_detectors": [str(d) for d in self.error_detectors],
                         "feature_detectors": [str(d) for d in self.feature_detectors],
                         "spc_charts": list(self.spc_charts), "monitor_by": self.monitor_by,
                         "ewma_lambda": self.ewma_lambda, "ewma_L": self.ewma_L,
                         "cusum_k": self.cusum_k, "cusum_h": self.cusum_h, "seed": int(self.seed)},
            "learners": {}, "features": {}, "gap": gap_info,
            "timing": {"stream_seconds": elapsed, "records_per_s": len(stream) / elapsed if elapsed > 0 else None},
        }
        for st in states:
            mine = [p for p in preds if p["learner"] == st.name]
            scored = [p for p in mine if p["true_good"] is not None]
            overall = binary_metrics([p["true_good"] for p in scored], [p["pred_good"] for p in scored],
                                     [p["p_fail"] for p in scored])
            by_source = {}
            for kind in sorted({p["source"] for p in scored}):
                sub = [p for p in scored if p["source"] == kind]
                by_source[kind] = binary_metrics([p["true_good"] for p in sub], [p["pred_good"] for p in sub])
            majority = binary_metrics([p["true_good"] for p in scored], [True] * len(scored))
            my_alarms = [a for a in alarms if a["learner"] == st.name]
            out["learners"][st.name] = {
                "class": type(st.learner).__name__, "target": st.learner.target, "predicted": len(mine),
                "labelled": len(scored), "prequential": overall, "by_source": by_source,
                "always_good_accuracy": majority["accuracy"], "rolling_final": st.rolling.snapshot(),
                "learn_updates": st.updates,
                "error_drift_alarms": {d.name: {"count": len(d.alarms),
                                                "positions": [a["position"] for a in my_alarms
                                                              if a["detector"] == d.name]}
                                       for d in st.detectors},
            }
        for (kind, f), mon in monitors.items():
            entry = {"in_control_mean": mon.mean if mon.fitted else None,
                     "in_control_sd": mon.sd if mon.fitted else None, "fitted": mon.fitted, "charts": {},
                     "detectors": {}}
            for name, chart in mon.charts.items():
                sig = [a for a in alarms if a["learner"] is None and a["source"] == kind and a["signal"] == f
                       and a["detector"] == name]
                entry["charts"][name] = {"signals": len(sig), "first_signal_position": sig[0]["position"] if sig
                                         else None, "sigma": getattr(chart, "sigma_", None)}
            for det in mon.detectors:
                entry["detectors"][det.name] = {"alarms": len(det.alarms)}
            out["features"].setdefault(kind, {})[f] = entry
        counts: dict[str, int] = {}
        for a in alarms:
            key = f"{a['learner'] or a['source']}:{a['signal']}:{a['detector']}"
            counts[key] = counts.get(key, 0) + 1
        out["alarm_counts"] = dict(sorted(counts.items()))
        return finite_json(out)


def _write(folder: RunFolder, name: str, rows: list[dict], schema: pa.Schema) -> None:
    table = pa.Table.from_pylist(rows, schema=schema)
    pq.write_table(table, folder.path(name), compression="zstd")

