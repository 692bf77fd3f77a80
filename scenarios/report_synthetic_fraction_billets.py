"""HTML report of the billet synthetic-fraction sweep (:mod:`scenarios.synthetic_fraction_billets`).

The verdict (TP against the 0 % arm, paired, Holm-corrected), TP / MC / FN /
CB over the synthetic fraction per visibility subset with the small-real
control as a dashed line, and the tables. Self-contained and deterministic.
"""
from __future__ import annotations

import math

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from scenarios.report_html import Section, esc, figure_html, page_html, table_html

__all__ = ["billets_report_html"]

SUBSETS = ("all", "well", "partial", "poor")
ALPHA = 0.05


def _f(v, d: int = 3) -> str:
    return "—" if v is None or (isinstance(v, float) and not math.isfinite(v)) else f"{v:.{d}f}"


def _curves(summary: list[dict]) -> str:
    frac = [s for s in summary if s["fraction"] is not None]
    ctrl = [s for s in summary if s["fraction"] is None]
    x = [100 * s["fraction"] for s in frac]
    fig = make_subplots(rows=1, cols=4, subplot_titles=[f"{m.upper()}" for m in ("tp", "mc", "fn", "cb")])
    colours = {"all": "#444", "well": "#2ca02c", "partial": "#ff7f0e", "poor": "#d62728"}
    for j, m in enumerate(("tp", "mc", "fn", "cb")):
        for sub in SUBSETS:
            k = f"{sub}:{m}"
            fig.add_trace(go.Scatter(x=x, y=[s[k] for s in frac], mode="lines+markers", name=sub, legendgroup=sub,
                                     showlegend=(j == 0), line=dict(color=colours[sub])), row=1, col=j + 1)
            for c in ctrl:
                if math.isfinite(c.get(k, math.nan)) and sub == "all":
                    fig.add_trace(go.Scatter(x=[0, 100], y=[c[k]] * 2, mode="lines", name=c["arm"],
                                             legendgroup=c["arm"], showlegend=(j == 0),
                                             line=dict(color="#1f77b4", dash="dash")), row=1, col=j + 1)
        fig.update_xaxes(title_text="synthetic share of the training set (%)", row=1, col=j + 1)
    fig.update_layout(margin=dict(t=50, b=50))
    return figure_html(fig, "fraction-curves", 380)


def billets_report_html(metrics: dict, rows: list[dict]) -> str:
    summary = metrics["summary"]
    verdict = []
    for s in summary:
        if "tp_diff" in s:
            p = s.get("tp_diff_p_holm", s["tp_diff_p"])
            word = ("helped" if s["tp_diff"] > 0 else "hurt") if p < ALPHA else "no detectable effect"
            verdict.append((s["arm"], f"{word}: TP {s['tp_diff']:+.3f} against 0 % (paired over {s['seeds']} seeds, "
                                      f"Holm-corrected p = {p:.3g})"))
    head = ["arm", "real", "synthetic", *(f"{sub} {m}" for sub in SUBSETS for m in ("TP", "CB"))]
    table = [[s["arm"], s["n_real"], s["n_synthetic"],
              *(_f(s[f"{sub}:{m}"]) for sub in SUBSETS for m in ("tp", "cb"))] for s in summary]
    detail = table_html([[s["arm"], *(f"{_f(s[f'all:{m}'])} ({_f(s[f'all:{m}_lo'])}–{_f(s[f'all:{m}_hi'])})"
                                      for m in ("tp", "mc", "fn", "fp_per_billet", "cb"))] for s in summary],
                        ["arm", "TP (CI)", "MC (CI)", "FN (CI)", "FP per image (CI)", "CB (CI)"])
    per_seed = table_html([[r["arm"], r["seed"], r["n_real"], r["n_synthetic"], _f(r["final_loss"]),
                            *(_f(r[f"all:{m}"]) for m in ("tp", "mc", "fn", "fp_per_billet", "cb"))] for r in rows],
                          ["arm", "seed", "real", "synthetic", "final loss", "TP", "MC", "FN", "FP/image", "CB"])
    rs = metrics["real_set"]
    sections = [
        Section("Verdict", f"'helped' or 'hurt' only where the Holm-corrected p &lt; {ALPHA}.",
                table_html(verdict, ["arm", "effect on the real test set"]), "verdict"),
        Section("Data", f"<b>Real set: {esc(rs['what'])}</b>. {rs['train_pool']} real training images to draw from, "
                f"{rs['test_images']} real test images (glyphs and steel not used in training). Synthetic: "
                f"{metrics['synthetic']['faces']} twin billet faces at {metrics['synthetic']['size_px']} px. Every "
                f"arm: {metrics['train_images']} training images, {metrics['steps']} detector steps from scratch; "
                f"seeds {esc(metrics['seeds'])}.", "", "data"),
        Section("Over the synthetic share", "Mean over seeds per visibility subset; dashed: the small-real control "
                "(all characters).", _curves(summary), "curves"),
        Section("Arms", "Means over seeds; TP per character (right label at IoU ≥ 0.5), CB per image.",
                table_html(table, head) + detail, "arms"),
        Section("Per seed", "arms.parquet.", per_seed, "per-seed"),
    ]
    return page_html("Synthetic fraction, billets: detector trained on real stand-in + twin faces",
                     "scored on real-texture stand-in images only", sections)
