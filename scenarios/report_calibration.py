"""Report of ``twinloop calibrate``: sim against real per condition, and the fitted parameters."""
from __future__ import annotations

import json

import numpy as np
import plotly.graph_objects as go
import pyarrow.parquet as pq
from plotly.subplots import make_subplots

from scenarios.report_html import Section, figure_html, fmt, page_html, table_html


def conditions_figure(cond: dict, features: list[str]) -> go.Figure:
    fig = make_subplots(rows=len(features), cols=1, shared_xaxes=True, vertical_spacing=0.04,
                        subplot_titles=[f.replace("_", " ") for f in features])
    x = cond["condition"]
    for r, f in enumerate(features, start=1):
        fig.add_trace(go.Scatter(x=x, y=cond[f"real_{f}"], mode="markers", name="real (median)",
                                 marker=dict(color="#1f3b57"), legendgroup="real", showlegend=(r == 1),
                                 error_y=dict(type="data", array=np.nan_to_num(cond[f"real_sd_{f}"]), visible=True,
                                              color="#9aa9b8")), row=r, col=1)
        fig.add_trace(go.Scatter(x=x, y=cond[f"sim_{f}"], mode="markers", name="calibrated twin",
                                 marker=dict(color="#d9822b", symbol="diamond"), legendgroup="sim",
                                 showlegend=(r == 1)), row=r, col=1)
    fig.update_layout(plot_bgcolor="white", margin=dict(l=60, r=20, t=30, b=120),
                      legend=dict(orientation="h", y=1.02))
    return fig


def build_report(run_path, metrics: dict) -> str:
    cond = pq.read_table(run_path("conditions.parquet")).to_pydict()
    params = json.loads(open(run_path("params.json"), encoding="utf-8").read())
    features = list(metrics["features"])
    fit_rows = [[k, fmt(v, 5), fmt(params["std_errors"].get(k, float("nan")), 3)]
                for k, v in params["estimates"].items()]
    feat_rows = [[f, v["conditions"], fmt(v["mae"], 4), fmt(v["rmse"], 4)] for f, v in metrics["features"].items()]
    sections = [
        Section("Fit", f"Bounded least squares on per-condition medians: cost {metrics['cost_start']:.4g} → "
                       f"{metrics['cost']:.4g} in {metrics['nfev']} evaluations. Standard errors from the "
                       "Gauss-Newton covariance at the optimum (delta method from log space).",
                table_html(fit_rows, ["parameter", "estimate", "std. error"], [False, True, True])
                + table_html(feat_rows, ["feature", "conditions", "MAE", "RMSE"], [False, True, True, True]),
                "fit"),
        Section("Sim against real, per condition",
                "Real: the condition's median with its within-condition sd as error bar; twin: the calibrated "
                "physics under the condition's setpoints (nominal machine state, plus any fitted offset).",
                figure_html(conditions_figure(cond, features), "fig-conditions", 260 * len(features) + 120),
                "conditions"),
    ]
    return page_html("Calibration report", f"{metrics['conditions']} conditions, {len(params['estimates'])} "
                     "parameters", sections)


def write_report(run, metrics: dict) -> None:
    run.write_text("report.html", build_report(run.path, metrics))
