"""HTML report of the billet synthetic-fraction sweep (:mod:`scenarios.synthetic_fraction_billets`).

The verdict (TP against the 0 % arm, overall and visibility-balanced, paired,
Holm-corrected), TP / MC / FN / CB over the synthetic fraction per visibility
subset with the small-real control as a dashed line, and the tables.
Self-contained and deterministic.
"""
from __future__ import annotations

import math

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from scenarios.report_html import Section, esc, figure_html, page_html, table_html

__all__ = ["billets_report_html"]

SUBSETS = ("all", "balanced", "well", "partial", "poor")
ALPHA = 0.05


def _f(v, d: int = 3) -> str:
    return "—" if v is None or (isinstance(v, float) and not math.isfinite(v)) else f"{v:.{d}f}"


def _curves(summary: list[dict]) -> str:
    frac = [s for s in summary if s["fraction"] is not None]
    ctrl = [s for s in summary if s["fraction"] is None]
    x = [100 * s["fraction"] for s in frac]
    fig = make_subplots(rows=1, cols=4, subplot_titles=[f"{m.upper()}" for m in ("tp", "mc", "fn", "cb")])
    colours = {"all": "#444", "balanced": "#9467bd", "well": "#2ca02c", "partial": "#ff7f0e", "poor": "#d62728"}
    for j, m in enumerate(("tp", "mc", "fn", "cb")):
        for sub in SUBSETS:
            k = f"{sub}:{m}"
            fig.add_trace(go.Scatter(x=x, y=[s.get(k, math.nan) for s in frac], mode="lines+markers", name=sub,
                                     legendgroup=sub, showlegend=(j == 0),
                                     line=dict(color=colours[sub], dash="dot" if sub == "balanced" else None)),
                          row=1, col=j + 1)
            for c in ctrl:
                if math.isfinite(c.get(k, math.nan)) and sub == "all":
                    fig.add_trace(go.Scatter(x=[0, 100], y=[c[k]] * 2, mode="lines", name=c["arm"],
                                             legendgroup=c["arm"], showlegend=(j == 0),
                                             line=dict(color="#1f77b4", dash="dash")), row=1, col=j + 1)
        fig.update_xaxes(title_text="synthetic share of the training set (%)", row=1, col=j + 1)
    fig.update_layout(margin=dict(t=50, b=50))
    return figure_html(fig, "fraction-curves", 380)


def _mix(rows: list[dict]) -> str:
    """How many test characters each visibility subset holds (the same test set for every row)."""
    if not rows:
        return "none scored"
    return ", ".join(f"{sub} {rows[0].get(f'{sub}:characters') or 0:,}" for sub in ("well", "partial", "poor"))


def billets_report_html(metrics: dict, rows: list[dict]) -> str:
    summary = metrics["summary"]
    verdict = []
    for s in summary:
        for name, what in (("tp_diff", "TP"), ("balanced:tp_diff", "balanced TP")):
            if name in s:
                p = s.get(f"{name}_p_holm", s[f"{name}_p"])
                word = ("helped" if s[name] > 0 else "hurt") if p < ALPHA else "no detectable effect"
                verdict.append((s["arm"], f"{word}: {what} {s[name]:+.3f} against 0 % (paired over {s['seeds']} "
                                          f"seeds, Holm-corrected p = {p:.3g})"))
    names = {"all:tp": "TP", "balanced:tp": "balanced TP", "all:mc": "MC", "all:fn": "FN",
             "all:fp_per_billet": "FP per image"}
    for k, t in metrics.get("trend_per_100pct_synthetic", {}).items():
        p = t.get("p_holm", t["p"])
        word = ("rises" if t["slope"] > 0 else "falls") if p < ALPHA else "no detectable trend"
        verdict.append((f"trend over 0-100 % synthetic: {names.get(k, k)}",
                        f"{word}: {t['slope']:+.3f} per 100 % synthetic (95 % CI {t['slope_lo']:+.3f} to "
                        f"{t['slope_hi']:+.3f}; {t['n']} runs, seed as block, Holm-corrected p = {p:.3g})"))
    head = ["arm", "real", "synthetic", *(f"{sub} {m}" for sub in SUBSETS for m in ("TP", "CB"))]
    table = [[s["arm"], s["n_real"], s["n_synthetic"],
              *(_f(s.get(f"{sub}:{m}")) for sub in SUBSETS for m in ("tp", "cb"))] for s in summary]
    detail = table_html([[s["arm"], *(f"{_f(s[f'all:{m}'])} ({_f(s[f'all:{m}_lo'])}–{_f(s[f'all:{m}_hi'])})"
                                      for m in ("tp", "mc", "fn", "fp_per_billet", "cb"))] for s in summary],
                        ["arm", "TP (CI)", "MC (CI)", "FN (CI)", "FP per image (CI)", "CB (CI)"])
    per_seed = table_html([[r["arm"], r["seed"], r["n_real"], r["n_synthetic"], _f(r["final_loss"]),
                            *(_f(r[f"all:{m}"]) for m in ("tp", "mc", "fn", "fp_per_billet", "cb"))] for r in rows],
                          ["arm", "seed", "real", "synthetic", "final loss", "TP", "MC", "FN", "FP/image", "CB"])
    rs = metrics["real_set"]
    sections = [
        Section("Verdict", f"'helped' or 'hurt' only where the Holm-corrected p &lt; {ALPHA} (Holm over every "
                "comparison in this table). Balanced: the well, partial and poor subsets weigh one third each.",
                table_html(verdict, ["comparison", "effect on the real test set"]), "verdict"),
        Section("Data", f"<b>Real set: {esc(rs['what'])}</b>. {rs['train_pool']} real training images to draw from, "
                f"{rs['test_images']} real test images (glyphs and steel not used in training; characters: "
                f"{esc(_mix(rows))}). Synthetic: "
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
