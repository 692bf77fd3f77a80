"""HTML report of a synthetic-fraction sweep (:mod:`scenarios.synthetic_fraction_molding`).

Sections: the verdict (per fraction, the paired difference to the 0 % arm
and its p-value, in words), training against validation accuracy over
the fraction (the study's figure 6), F1 / AUC / balanced accuracy over the
fraction with 95 % intervals and the two controls as horizontal bands,
robustness under perturbations, and the tables. Self-contained and
deterministic (:mod:`scenarios.report_html`).
"""
from __future__ import annotations

import math

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from scenarios.report_html import Section, esc, figure_html, page_html, table_html

__all__ = ["synthetic_fraction_report_html", "verdict_rows"]

ALPHA = 0.05


def _f(v, d: int = 3) -> str:
    return "—" if v is None or (isinstance(v, float) and not math.isfinite(v)) else f"{v:.{d}f}"


def verdict_rows(summary: list[dict], metric: str = "auc_fail") -> list[tuple[str, str]]:
    """(arm, sentence) for each arm with a fraction > 0: helped / hurt / no detectable effect, by how much."""
    out = []
    for s in summary:
        if s["fraction"] in (None, 0.0) or f"{metric}_diff" not in s:
            continue
        d, p = s[f"{metric}_diff"], s[f"{metric}_diff_p"]
        ph = s.get(f"{metric}_diff_p_holm", p)
        if ph is not None and ph < ALPHA:
            word = "helped" if d > 0 else "hurt"
        else:
            word = "no detectable effect"
        out.append((s["arm"], f"{word}: {metric} {d:+.3f} against 0 % (paired t test over {s['seeds']} seeds, "
                              f"p = {p:.3g}, Holm-corrected over the fractions {ph:.3g})"))
    return out


def shuffled_control_rows(summary: list[dict]) -> list[tuple[str, str]]:
    """The labels-shuffled control next to the arm with the twin's labels at the same fraction."""
    by = {s["arm"]: s for s in summary}
    out = []
    for name, c in by.items():
        if not name.endswith(", labels shuffled"):
            continue
        twin = by.get(name.removesuffix(", labels shuffled"))
        if twin is None:
            continue
        out.append((name, "AUC {:.3f} / balanced accuracy {:.3f} / F1 {:.3f} with shuffled labels, against "
                          "{:.3f} / {:.3f} / {:.3f} with the twin's labels: what the shuffled arm gains is the "
                          "extra points, the difference is what the twin's physics adds".format(
                              c["auc_fail"], c["balanced_accuracy"], c["f1_fail"], twin["auc_fail"],
                              twin["balanced_accuracy"], twin["f1_fail"])))
    return out


def _band(fig, s: dict, key: str, colour: str, row: int, col: int, xmax: float) -> None:
    fig.add_trace(go.Scatter(x=[0, xmax], y=[s[key]] * 2, mode="lines", name=s["arm"],
                             line=dict(color=colour, dash="dash"), legendgroup=s["arm"],
                             showlegend=(row == 1 and col == 1)), row=row, col=col)


def _curves(summary: list[dict], keys: list[tuple[str, str]], div_id: str, title: str) -> str:
    frac = [s for s in summary if s["fraction"] is not None]
    controls = [s for s in summary if s["fraction"] is None]
    x = [100 * s["fraction"] for s in frac]
    xmax = max(x) if x else 100
    fig = make_subplots(rows=1, cols=len(keys), subplot_titles=[t for _, t in keys])
    for j, (key, label) in enumerate(keys):
        fig.add_trace(go.Scatter(
            x=x, y=[s[key] for s in frac], mode="lines+markers", name="real + synthetic",
            legendgroup="mix", showlegend=(j == 0), line=dict(color="#1f77b4"),
            error_y=dict(type="data", symmetric=False,
                         array=[max(0.0, s[f"{key}_hi"] - s[key]) if math.isfinite(s[f"{key}_hi"]) else 0 for s in frac],
                         arrayminus=[max(0.0, s[key] - s[f"{key}_lo"]) if math.isfinite(s[f"{key}_lo"]) else 0
                                     for s in frac])), row=1, col=j + 1)
        for c, colour in zip(controls, ("#d62728", "#2ca02c", "#9467bd")):
            if math.isfinite(c.get(key, math.nan)):
                _band(fig, c, key, colour, 1, j + 1, xmax)
        fig.update_xaxes(title_text="synthetic added (% of the real training set)", row=1, col=j + 1)
    fig.update_layout(title=title, margin=dict(t=70, b=50))
    return figure_html(fig, div_id, 400)


def _train_val(summary: list[dict]) -> str:
    frac = [s for s in summary if s["fraction"] is not None]
    x = [100 * s["fraction"] for s in frac]
    fig = go.Figure()
    for key, name, colour in (("train_accuracy", "training accuracy", "#ff7f0e"),
                              ("accuracy", "validation accuracy (real)", "#1f77b4"),
                              ("balanced_accuracy", "validation balanced accuracy (real)", "#9467bd")):
        fig.add_trace(go.Scatter(x=x, y=[s[key] for s in frac], mode="lines+markers", name=name,
                                 line=dict(color=colour)))
    fig.update_layout(xaxis_title="synthetic added (% of the real training set)", yaxis_title="accuracy",
                      margin=dict(t=30, b=50))
    return figure_html(fig, "train-val", 380)


def synthetic_fraction_report_html(metrics: dict, rows: list[dict], summary: list[dict]) -> str:
    rs = metrics["real_set"]
    pool = metrics["synthetic_pool"]
    verdict = verdict_rows(summary, "auc_fail") + verdict_rows(summary, "balanced_accuracy") + \
        shuffled_control_rows(summary)
    head = ["arm", "real", "synthetic", "train acc", "val acc (CI)", "balanced acc (CI)", "F1 fail (CI)",
            "AUC (CI)", "ΔAUC vs 0 %", "p (Holm)", "AUC noise", "AUC offset", "AUC time shift"]
    table = []
    for s in summary:
        table.append([s["arm"], s["n_real"], s["n_synthetic"], _f(s["train_accuracy"]),
                      f"{_f(s['accuracy'])} ({_f(s['accuracy_lo'])}–{_f(s['accuracy_hi'])})",
                      f"{_f(s['balanced_accuracy'])} ({_f(s['balanced_accuracy_lo'])}–{_f(s['balanced_accuracy_hi'])})",
                      f"{_f(s['f1_fail'])} ({_f(s['f1_fail_lo'])}–{_f(s['f1_fail_hi'])})",
                      f"{_f(s['auc_fail'])} ({_f(s['auc_fail_lo'])}–{_f(s['auc_fail_hi'])})",
                      _f(s.get("auc_fail_diff")), _f(s.get("auc_fail_diff_p_holm", s.get("auc_fail_diff_p")), 3),
                      _f(s["noise:auc_fail"]), _f(s["offset:auc_fail"]), _f(s["time_shift:auc_fail"])])
    per_seed = table_html([[r["arm"], r["seed"], r["n_real"], r["n_synthetic"], r["val_fails"], _f(r["train_accuracy"]),
                            _f(r["accuracy"]), _f(r["balanced_accuracy"]), _f(r["f1_fail"]), _f(r["auc_fail"])]
                           for r in rows],
                          ["arm", "seed", "real", "synthetic", "val fails", "train acc", "val acc", "bal acc", "F1",
                           "AUC"])
    sections = [
        Section("Verdict", "Each arm against the 0 % arm on the same seeds and splits (paired); "
                f"'helped' or 'hurt' only where the Holm-corrected p &lt; {ALPHA}.",
                table_html(verdict, ["arm", "effect on real validation data"]), "verdict"),
        Section("Real set and synthetic pool",
                f"Real set: <b>{esc(rs['log'])}</b>, parts {esc(', '.join(rs['parts']))}: {rs['rows']} parts of "
                f"{rs['shots']} shots, {rs['fails']} not good. Learner: {esc(metrics['learner'])} on "
                f"{esc(', '.join(rs['features']))}. Twin: {esc(metrics['calibrated_config'])} (calibrated to KAMP). "
                f"Synthetic pool: {pool['cycles']} cycles, {pool['not_good']} not good "
                f"({esc(pool['by_type'])}). Seeds: {esc(metrics['seeds'])}.", "", "data"),
        Section("Training against validation", "Training accuracy is on each arm's own training set (real + "
                "synthetic); validation is on real shots only.", _train_val(summary), "train-val-section"),
        Section("Validation metrics", "Mean over seeds with 95 % t intervals; dashed lines: the controls "
                "(synthetic only; small real only; synthetic with shuffled labels).",
                _curves(summary, [("balanced_accuracy", "balanced accuracy"), ("f1_fail", "F1 of fails"),
                                  ("auc_fail", "AUC-ROC of fails")], "val-metrics", ""), "val"),
        Section("Robustness", "AUC of fails on perturbed copies of the real validation set: Gaussian noise, an "
                "offset on every feature, a shift of every time feature.",
                _curves(summary, [("noise:auc_fail", "noise"), ("offset:auc_fail", "offset"),
                                  ("time_shift:auc_fail", "time shift")], "robust", ""), "robustness"),
        Section("Arms", "One row per arm (means over seeds).", table_html(table, head), "arms"),
        Section("Per seed", "Every trained model (arms.parquet).", per_seed, "per-seed"),
    ]
    return page_html("Synthetic fraction: real validation of a classifier trained on real + twin cycles",
                     f"real set {esc(rs['log'])}; fractions {esc([s['fraction'] for s in summary])}", sections)
