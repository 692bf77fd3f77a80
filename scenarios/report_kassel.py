"""Report of the Kassel calibration study (scenarios/kassel_calibration.py).

Sections: the verdict (pooled MAE against the no-effect baseline, signs),
per factor the predicted against the measured weight shifts (one panel per
factor, classes in setpoint order), a table of the per-factor figures, the
absolute levels, the within-class spread of the noisy twin against the real
spread, and the calibrated parameters.
"""
from __future__ import annotations

import re

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from scenarios.report_html import Section, figure_html, fmt, page_html, table_html

REAL = "#1f3b57"
SIM = "#d9822b"


def _setpoint_of(name: str) -> float:
    m = re.search(r"_(\d+)(?:_\d+)?$", name)
    return float(m.group(1)) if m else float("nan")


def shifts_figure(rows: dict, factors: list[str]) -> go.Figure:
    fig = make_subplots(rows=1, cols=len(factors), subplot_titles=[f.replace("_", " ") for f in factors],
                        horizontal_spacing=0.05)
    fac = np.asarray(rows["factor"])
    for j, F in enumerate(factors, start=1):
        sel = np.flatnonzero(fac == F)
        x = np.array([_setpoint_of(rows["condition"][i]) for i in sel])
        order = np.argsort(x, kind="stable")
        xs = x[order]
        for key, color, label in (("real_shift_g", REAL, "measured"), ("sim_shift_g", SIM, "predicted (held out)")):
            y = np.asarray(rows[key])[sel][order]
            fig.add_trace(go.Scatter(x=xs, y=y, mode="lines+markers", line=dict(color=color), name=label,
                                     legendgroup=label, showlegend=(j == 1),
                                     text=[rows["condition"][sel[k]] for k in order],
                                     hovertemplate="%{text}<br>%{y:.3f} g<extra>" + label + "</extra>"),
                          row=1, col=j)
        fig.add_hline(y=0.0, line=dict(color="#999", width=1, dash="dot"), row=1, col=j)
    fig.update_yaxes(title_text="weight shift within the factor (g)", row=1, col=1)
    fig.update_layout(margin=dict(l=60, r=20, t=40, b=40), legend=dict(orientation="h", y=-0.15),
                      plot_bgcolor="white")
    return fig


def levels_figure(rows: dict) -> go.Figure:
    real = np.asarray(rows["real_level_g"])
    sim = np.asarray(rows["sim_level_g"])
    lo, hi = float(min(real.min(), sim.min())), float(max(real.max(), sim.max()))
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[lo, hi], y=[lo, hi], mode="lines", line=dict(color="#999", dash="dot"),
                             name="equal", hoverinfo="skip"))
    for F in sorted(set(rows["factor"])):
        sel = np.asarray(rows["factor"]) == F
        fig.add_trace(go.Scatter(x=real[sel], y=sim[sel], mode="markers", name=F.replace("_", " "),
                                 text=np.asarray(rows["condition"])[sel],
                                 hovertemplate="%{text}<br>real %{x:.2f} g<br>sim %{y:.2f} g<extra></extra>"))
    fig.update_layout(xaxis_title="measured class median (g)", yaxis_title="predicted (g)", plot_bgcolor="white",
                      margin=dict(l=60, r=20, t=20, b=50))
    return fig


def spread_figure(spread: dict) -> go.Figure:
    fig = go.Figure()
    fig.add_trace(go.Bar(x=spread["condition"], y=spread["real_sd_g"], name="real", marker_color=REAL))
    fig.add_trace(go.Bar(x=spread["condition"], y=spread["sim_sd_g"], name="twin", marker_color=SIM))
    fig.update_layout(barmode="group", yaxis_title="within-class robust sd of part weight (g)", plot_bgcolor="white",
                      margin=dict(l=60, r=20, t=20, b=140), legend=dict(orientation="h", y=1.08))
    fig.update_yaxes(range=[0, max(0.1, float(np.nanpercentile(spread["real_sd_g"], 90)) * 1.5)])
    return fig


def build_report(metrics: dict, rows: dict, spread: dict) -> str:
    factors = metrics["factors"]
    verdict = (f"Pooled over the {metrics['pooled_classes']} held-out classes of "
               f"{', '.join(f.replace('_', ' ') for f in metrics['pooled_factors'])}: "
               f"MAE of the predicted shifts <b>{metrics['heldout_mae_g']:.3f} g</b> against "
               f"<b>{metrics['baseline_mae_g']:.3f} g</b> for the no-effect baseline "
               f"(ratio {metrics['mae_ratio']:.2f}; goal ≤ 0.33), R² {metrics['heldout_r2']:.2f}. "
               f"Right sign (Spearman ρ > 0): {len(metrics['sign_correct_factors'])} of {len(factors)} factors.")
    table = table_html(
        [[F.replace("_", " "), len(v["classes"]), fmt(v["spearman_rho"], 3), fmt(v["mae_g"], 3),
          fmt(v["baseline_mae_g"], 3), fmt(v["level_mae_g"], 3)] for F, v in metrics["per_factor"].items()],
        header=["held-out factor", "classes", "Spearman ρ", "shift MAE (g)", "baseline MAE (g)", "level MAE (g)"],
        numeric=[False, True, True, True, True, True])
    est = metrics["full_fit"]["estimates"]
    se = metrics["full_fit"]["std_errors"]
    params = table_html([[k, fmt(v, 4), fmt(se.get(k, float("nan")), 3)] for k, v in est.items()],
                        header=["parameter", "estimate (all classes)", "std. error"], numeric=[False, True, True])
    sp = metrics["spread"]
    sections = [
        Section("Verdict", verdict, "", "verdict"),
        Section("Held-out factors: predicted against measured shifts",
                "Each panel is one factor, left out of the calibration and predicted from its setpoints alone. "
                "A shift is a class's median weight minus the mean over the factor's classes, so the day-to-day "
                "drift of absolute weights cancels.",
                figure_html(shifts_figure(rows, factors), "fig-shifts", 380) + table, "shifts"),
        Section("Absolute levels",
                "The same held-out predictions as absolute class weights. The held-out factor's day has no "
                "calibrated weight offset, so these carry the day-to-day drift (up to ~1 g in this log).",
                figure_html(levels_figure(rows), "fig-levels", 420), "levels"),
        Section("Within-class spread",
                f"The calibrated twin, with its shot-to-shot noise model, runs each class; the median "
                f"within-class robust sd (1.4826 × median absolute deviation, so a few mis-weighed parts "
                f"do not count) of part weight is {sp['sim_sd_median_g']:.3f} g in the twin against "
                f"{sp['real_sd_median_g']:.3f} g in the real log ({sp['classes']} classes).",
                figure_html(spread_figure(spread), "fig-spread", 420), "spread"),
        Section("Calibrated parameters", "One calibration on every class (the config.toml of this folder).",
                params, "params"),
    ]
    return page_html("Kassel calibration study", "leave one factor out, real Arburg log (im_kassel_cpc)", sections)


def write_report(folder, metrics: dict, rows: dict, spread: dict) -> None:
    folder.write_text("report.html", build_report(metrics, rows, spread))
