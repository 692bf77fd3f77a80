"""HTML report of the closed loop (:mod:`scenarios.closed_loop`).

The answer table (per arm: AUC, balanced accuracy, recall, good parts
flagged after the initial window, labels needed, refits), the rolling share
of good parts flagged over the stream with the mold changes and the twin's
drift alarms and recalibrations marked, the time to recover after each mold
change, and the per-segment table. Self-contained and deterministic.
"""
from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go

from scenarios.closed_loop import ARMS, rolling_flag_rate
from scenarios.report_html import Section, esc, figure_html, page_html, table_html

__all__ = ["closed_loop_report_html"]

_COLOURS = {"frozen": "#7f7f7f", "real labels": "#1f77b4", "twin": "#2ca02c"}
MAX_POINTS = 3000


def _f(v, d: int = 3) -> str:
    return "—" if v is None or (isinstance(v, float) and not math.isfinite(v)) else f"{v:.{d}f}"


def _rolling(pred: dict, alarms: list[dict], metrics: dict, window: int) -> str:
    n0 = metrics["stream"]["initial_labels"]
    y = np.asarray(pred["true_good"], bool)[n0:]
    x = np.arange(n0, n0 + y.size)
    step = max(1, y.size // MAX_POINTS)
    fig = go.Figure()
    for a in ARMS:
        p = np.asarray(pred[f"p_fail:{a}"], float)[n0:]
        r = rolling_flag_rate(y, p < 0.5, window)
        fig.add_trace(go.Scatter(x=x[::step], y=r[::step], mode="lines", name=a, line=dict(color=_COLOURS[a])))
    for c in metrics["stream"]["mold_changes"]:
        fig.add_vline(x=c["part"], line=dict(color="#444", dash="dot"))
        fig.add_annotation(x=c["part"], y=1.02, yref="paper", text=f"→ {c['to']}", showarrow=False, font=dict(size=11))
    for kind, symbol, colour in (("drift alarm", "triangle-down", "#d62728"), ("recalibration", "star", "#2ca02c")):
        sel = [r for r in alarms if r["kind"] == kind]
        if sel:
            fig.add_trace(go.Scatter(x=[r["part"] for r in sel], y=[0.0] * len(sel), mode="markers", name=kind,
                                     marker=dict(symbol=symbol, size=11, color=colour),
                                     hovertext=[r["features"] for r in sel]))
    fig.update_layout(xaxis_title="part (time order)", yaxis_title=f"good parts flagged, last {window} good parts",
                      margin=dict(t=40, b=50))
    return figure_html(fig, "rolling-flagged", 440)


def closed_loop_report_html(metrics: dict, pred: dict, alarms: list[dict], window: int) -> str:
    arms = metrics["arms"]
    head = ["arm", "AUC of fails (whole stream)", "AUC within mold runs (mean)", "balanced accuracy",
            "recall of fails", "good parts flagged", "labels needed", "refits"]
    rows = [[a, _f(m["overall"]["auc_fail"]), _f(m["auc_within_segments"]), _f(m["overall"]["balanced_accuracy"]),
             _f(m["overall"]["recall_fail"]), _f(m["overall"]["good_flagged"]), m["labels_used"], m["refits"]]
            for a, m in arms.items()]
    rec_rows = []
    for c in metrics["stream"]["mold_changes"]:
        rec_rows.append([c["part"], f"{c['from']} → {c['to']}",
                         *(next((str(r["parts_to_recover"]) if r["parts_to_recover"] is not None else "never"
                                 for r in arms[a]["recovery"] if r["part"] == c["part"]), "—") for a in ARMS)])
    seg_rows = []
    for a in ARMS:
        for s in arms[a]["segments"]:
            seg_rows.append([a, f"{s['start']}–{s['end']}", s["mold"], s["parts"], s["fails"], _f(s["auc_fail"]),
                             _f(s["recall_fail"]), _f(s["good_flagged"])])
    st = metrics["stream"]
    sections = [
        Section("Answer", f"{st['parts']} real parts in time order, {st['fails']} not good; the first "
                f"{st['initial_labels']} are the initial labelled window. Figures over the rest. The twin arm raised "
                f"{metrics['alarms']} drift alarm(s) and recalibrated {metrics['recalibrations']} time(s).",
                table_html(rows, head), "answer"),
        Section("Over time", "The share of good parts each arm flags (rolling); dotted lines: mold changes; "
                "triangles: the twin arm's drift alarms; stars: its recalibrations.",
                _rolling(pred, alarms, metrics, window), "over-time"),
        Section("Time to recover", "Parts after each mold change until the rolling share of good parts flagged is "
                "back near its level before the change and stays there for a window.",
                table_html(rec_rows, ["part", "change", *ARMS]), "recover"),
        Section("Segments", "Each run of one mold.", table_html(seg_rows, ["arm", "parts", "mold", "n", "fails", "AUC",
                                                                         "recall", "good flagged"]), "segments"),
        Section("Alarms and recalibrations", "alarms.parquet.",
                table_html([[r["part"], r["kind"], r["mold"], r["features"]] for r in alarms],
                           ["part", "kind", "mold", "detail"]), "alarms"),
    ]
    return page_html("Closed loop: drift alarms, twin recalibration and retraining on a real stream",
                     esc("KAMP, replayed in time order"), sections)
