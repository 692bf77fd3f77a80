"""The online runner's HTML report: rolling accuracy / recall with drift alarms, SPC charts, the gap.

One self-contained page (plotly.js embedded once, opens offline, figures
with fixed ``div`` ids so the same run gives the same file):

* a table of each learner's prequential figures (accuracy, balanced
  accuracy, recall and precision of fails, AUC, against "always good");
* rolling accuracy and rolling recall of fails over time per learner, with
  the error-stream drift alarms marked (triangles on the accuracy curve);
* per source and feature, the EWMA chart (z with its limits) and the
  CUSUM chart (C+ and -C- against ±H), signals in red;
* the sim-to-real gap per time window (C2ST AUC with its interval, MMD p).

Long streams are thinned for drawing (every k-th point, at most
``MAX_POINTS`` per trace); the Parquet files keep every row.
"""
from __future__ import annotations

import datetime as dt
import html
import math
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["online_report_html", "MAX_POINTS"]

MAX_POINTS = 4000
_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#17becf")


def _times(v) -> list:
    return [dt.datetime.fromtimestamp(float(x), dt.timezone.utc) for x in v]


def _thin(n: int) -> np.ndarray:
    step = max(1, math.ceil(n / MAX_POINTS))
    return np.arange(0, n, step)


def _num(v: Any, digits: int = 3) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return f"{v:,d}"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return html.escape(str(v))


def _fig_html(fig, div_id: str) -> str:
    import plotly.io as pio

    return pio.to_html(fig, include_plotlyjs=False, full_html=False, div_id=div_id,
                       config={"displaylogo": False, "responsive": True})


def _learner_table(metrics: dict) -> str:
    head = ("learner", "labelled", "accuracy", "always-good accuracy", "balanced accuracy", "recall of fails",
            "precision of fails", "AUC", "error-stream alarms")
    rows = []
    for name, m in metrics.get("learners", {}).items():
        p = m["prequential"]
        al = ", ".join(f"{k} {v['count']}" for k, v in m["error_drift_alarms"].items())
        rows.append((html.escape(name), _num(m["labelled"]), _num(p["accuracy"]), _num(m["always_good_accuracy"]),
                     _num(p["balanced_accuracy"]), _num(p["recall_fail"]), _num(p["precision_fail"]),
                     _num(p.get("auc_fail")), html.escape(al)))
    th = "".join(f"<th>{h}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><tr>{th}</tr>{body}</table>"


def _rolling_figure(rolling: pa.Table, alarms: pa.Table, window: int):
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08,
                        subplot_titles=(f"rolling accuracy (last {window} labels)",
                                        f"rolling recall of fails (last {window} labels)"))
    learners = list(dict.fromkeys(rolling["learner"].to_pylist())) if rolling.num_rows else []
    for j, name in enumerate(learners):
        sub = rolling.filter(pc.equal(rolling["learner"], name))
        keep = _thin(sub.num_rows)
        t = np.asarray(sub["time_s"].to_numpy())[keep]
        color = _COLORS[j % len(_COLORS)]
        acc = np.asarray(sub["accuracy"].to_numpy(zero_copy_only=False), dtype=float)
        rec = np.asarray(pc.fill_null(sub["recall_fail"], math.nan).to_numpy(zero_copy_only=False), dtype=float)
        fig.add_trace(go.Scatter(x=_times(t), y=acc[keep], name=f"{name}", mode="lines",
                                 line={"color": color}, legendgroup=name), row=1, col=1)
        fig.add_trace(go.Scatter(x=_times(t), y=rec[keep], name=f"{name} recall", mode="lines",
                                 line={"color": color}, legendgroup=name, showlegend=False), row=2, col=1)
        if alarms.num_rows:
            mine = alarms.filter(pc.and_(pc.equal(alarms["learner"], name), pc.equal(alarms["signal"], "error")))
            if mine.num_rows:
                pos_all = np.asarray(sub["position"].to_numpy())
                at = np.searchsorted(pos_all, np.asarray(mine["position"].to_numpy()), side="right") - 1
                at = np.clip(at, 0, len(pos_all) - 1)
                text = [f"{name}: {d} drift alarm" for d in mine["detector"].to_pylist()]
                fig.add_trace(go.Scatter(x=_times(np.asarray(mine["time_s"].to_numpy())), y=acc[at],
                                         mode="markers", marker={"symbol": "triangle-down", "size": 11,
                                                                 "color": "#d62728", "line": {"width": 1}},
                                         name=f"{name}: error-stream drift alarm", text=text,
                                         hoverinfo="text+x", legendgroup=name), row=1, col=1)
    fig.update_yaxes(title_text="accuracy", row=1, col=1)
    fig.update_yaxes(title_text="recall of fails", range=[-0.05, 1.05], row=2, col=1)
    fig.update_layout(height=560, margin={"l": 60, "r": 20, "t": 40, "b": 40}, legend={"orientation": "h"})
    return fig


def _spc_figure(spc: pa.Table, source: str, feature: str):
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    sel = spc.filter(pc.and_(pc.equal(spc["source"], source), pc.equal(spc["feature"], feature)))
    charts = list(dict.fromkeys(sel["chart"].to_pylist()))
    fig = make_subplots(rows=len(charts), cols=1, shared_xaxes=True, vertical_spacing=0.1,
                        subplot_titles=[f"{c.upper()} — {feature} ({source})" for c in charts])
    for r, chart in enumerate(charts, start=1):
        sub = sel.filter(pc.equal(sel["chart"], chart))
        keep = _thin(sub.num_rows)
        col = {k: np.asarray(pc.fill_null(sub[k], math.nan).to_numpy(zero_copy_only=False), dtype=float)[keep]
               for k in ("time_s", "value", "statistic", "statistic_low", "lcl", "ucl", "center")}
        t = _times(col["time_s"])
        sig = np.asarray([s is not None for s in sub["signal"].to_pylist()])[keep]
        if chart == "ewma":
            fig.add_trace(go.Scatter(x=t, y=col["value"], mode="markers", marker={"size": 3, "color": "#aab4c0"},
                                     name="value", showlegend=False), row=r, col=1)
            fig.add_trace(go.Scatter(x=t, y=col["statistic"], mode="lines", line={"color": "#1f77b4"},
                                     name="EWMA z", showlegend=False), row=r, col=1)
            ys = col["statistic"]
        else:
            fig.add_trace(go.Scatter(x=t, y=col["statistic"], mode="lines", line={"color": "#1f77b4"},
                                     name="C+", showlegend=False), row=r, col=1)
            fig.add_trace(go.Scatter(x=t, y=col["statistic_low"], mode="lines", line={"color": "#2ca02c"},
                                     name="-C-", showlegend=False), row=r, col=1)
            ys = np.where(col["statistic"] > col["ucl"], col["statistic"], col["statistic_low"])
        for k, dash in (("ucl", "dash"), ("lcl", "dash"), ("center", "dot")):
            fig.add_trace(go.Scatter(x=t, y=col[k], mode="lines", line={"color": "#7f7f7f", "dash": dash, "width": 1},
                                     name=k, showlegend=False, hoverinfo="skip"), row=r, col=1)
        if sig.any():
            fig.add_trace(go.Scatter(x=[t[i] for i in np.flatnonzero(sig)], y=ys[sig], mode="markers",
                                     marker={"color": "#d62728", "size": 5}, name="out of control",
                                     showlegend=False), row=r, col=1)
    fig.update_layout(height=260 * max(1, len(charts)), margin={"l": 60, "r": 20, "t": 40, "b": 30})
    return fig


def _gap_figure(gap: pa.Table):
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    done = gap.filter(pc.is_null(gap["skipped"]))
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.1,
                        subplot_titles=("C2ST AUC per window (0.5 = indistinguishable)", "MMD permutation p-value"))
    mid = (np.asarray(done["start_s"].to_numpy()) + np.asarray(done["end_s"].to_numpy())) / 2
    t = _times(mid)
    auc = np.asarray(pc.fill_null(done["c2st_auc"], math.nan).to_numpy(zero_copy_only=False), dtype=float)
    lo = np.asarray(pc.fill_null(done["c2st_auc_lo"], math.nan).to_numpy(zero_copy_only=False), dtype=float)
    hi = np.asarray(pc.fill_null(done["c2st_auc_hi"], math.nan).to_numpy(zero_copy_only=False), dtype=float)
    fig.add_trace(go.Scatter(x=t, y=auc, mode="lines+markers", name="AUC",
                             error_y={"type": "data", "symmetric": False, "array": hi - auc, "arrayminus": auc - lo}),
                  row=1, col=1)
    fig.add_trace(go.Scatter(x=t, y=np.asarray(pc.fill_null(done["mmd_p_value"], math.nan).to_numpy(
        zero_copy_only=False), dtype=float), mode="lines+markers", name="MMD p"), row=2, col=1)
    fig.update_yaxes(range=[0, 1.05], row=1, col=1)
    fig.update_yaxes(type="log", row=2, col=1)
    fig.update_layout(height=480, margin={"l": 60, "r": 20, "t": 40, "b": 30}, showlegend=False)
    return fig


def online_report_html(metrics: dict, rolling: pa.Table, alarms: pa.Table, spc: pa.Table, gap: pa.Table,
                       title: str = "twinloop — online learning on the record stream",
                       extra_sections: list[tuple[str, str]] | None = None) -> str:
    """The report page (see the module docstring) as an HTML string.

    ``extra_sections``: ``(title, trusted HTML body)`` pairs appended at the end.
    """
    from plotly.offline import get_plotlyjs

    s = metrics.get("stream", {})
    st = metrics.get("settings", {})
    sections = []
    runs = ", ".join(f"{html.escape(r['run'])} ({html.escape(r['source'])}, {r['cycles']:,d} cycles)"
                     for r in s.get("runs", []))
    sections.append(("Stream", f"<p>{s.get('records', 0):,d} records from {runs}; label delay "
                     f"{st.get('label_delay')} records, predictions in blocks of {st.get('batch_size')}, "
                     f"learning {'on' if st.get('learn') else 'off'}. Prequential: every record is predicted "
                     "before its label is used.</p>" + _learner_table(metrics)))
    if rolling.num_rows:
        sections.append(("Rolling accuracy and recall of fails",
                         "<p>Each point is the share right (top) and the share of bad parts flagged (bottom) over "
                         "the last labels; red triangles mark drift alarms on the learner's error stream.</p>"
                         + _fig_html(_rolling_figure(rolling, alarms, int(st.get("window", 0))), "rolling")))
    if spc.num_rows:
        figs = []
        pairs = list(dict.fromkeys(zip(spc["source"].to_pylist(), spc["feature"].to_pylist())))
        for k, (source, feature) in enumerate(pairs):
            figs.append(_fig_html(_spc_figure(spc, source, feature), f"spc-{k}"))
        sections.append(("SPC charts of process features",
                         f"<p>Limits from the first {st.get('spc_in_control')} values of each source "
                         f"(EWMA λ = {st.get('ewma_lambda')}, L = {st.get('ewma_L')}; CUSUM k = {st.get('cusum_k')}, "
                         f"h = {st.get('cusum_h')}, in σ; Montgomery, Introduction to Statistical Quality Control, "
                         "§9.1-9.2).</p>" + "".join(figs)))
    if gap.num_rows:
        g = metrics.get("gap") or {}
        sections.append(("Sim-to-real gap on sliding windows",
                         f"<p>Mode: {html.escape(str(g.get('mode')))}; windows of {_num(g.get('window_s'), 0)} s.</p>"
                         + _fig_html(_gap_figure(gap), "gap")))
    sections += list(extra_sections or [])
    body = "".join(f"<section><h2>{html.escape(t)}</h2>{b}</section>" for t, b in sections)
    css = ("body{font-family:sans-serif;color:#1d2733;background:#f6f7f9;margin:0}main{max-width:1280px;"
           "margin:0 auto;padding:24px 32px}section{background:#fff;border:1px solid #dde2e8;border-radius:6px;"
           "padding:16px 20px;margin:0 0 16px}table{border-collapse:collapse;font-size:13.5px}th,td{text-align:left;"
           "padding:4px 12px 4px 0;border-bottom:1px solid #edf0f3}")
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{css}</style><script type='text/javascript'>{get_plotlyjs()}</script></head>"
            f"<body><main><h1>{html.escape(title)}</h1>{body}</main></body></html>\n")
