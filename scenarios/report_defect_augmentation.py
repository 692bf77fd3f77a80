"""HTML report of the defect-augmentation study (:mod:`scenarios.defect_augmentation`).

The verdict per augmentation (paired against no augmentation, Holm-corrected),
per-class accuracy bars with 95 % intervals, the arm table, and a sample
grid of each synthetic arm's images. Self-contained and deterministic.
"""
from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go

from scenarios.report_html import Section, esc, figure_html, page_html, table_html

__all__ = ["augmentation_report_html"]

ALPHA = 0.05
_COLOURS = {"none": "#7f7f7f", "cutmix": "#1f77b4", "copy_paste": "#ff7f0e", "sft_gan": "#2ca02c"}


def _f(v, d: int = 3) -> str:
    return "—" if v is None or (isinstance(v, float) and not math.isfinite(v)) else f"{v:.{d}f}"


def _verdict(summary: list[dict]) -> list[tuple[str, str]]:
    out = []
    for s in summary:
        if "macro_f1_diff" not in s:
            continue
        d, p = s["macro_f1_diff"], s.get("macro_f1_diff_p_holm", s["macro_f1_diff_p"])
        word = ("helped" if d > 0 else "hurt") if p < ALPHA else "no detectable effect"
        out.append((s["arm"], f"{word}: macro-F1 {d:+.3f} against no augmentation (paired t test over "
                              f"{s['seeds']} seeds, Holm-corrected p = {p:.3g}); balanced accuracy "
                              f"{s.get('balanced_accuracy_diff', math.nan):+.3f}"))
    return out


def _bars(summary: list[dict], classes: list[str]) -> str:
    fig = go.Figure()
    for s in summary:
        y = [s[f"acc:{c}"] for c in classes]
        fig.add_trace(go.Bar(name=s["arm"], x=classes, y=y, marker_color=_COLOURS.get(s["arm"]),
                             error_y=dict(type="data", symmetric=False,
                                          array=[max(0.0, s[f"acc:{c}_hi"] - s[f"acc:{c}"])
                                                 if math.isfinite(s[f"acc:{c}_hi"]) else 0 for c in classes],
                                          arrayminus=[max(0.0, s[f"acc:{c}"] - s[f"acc:{c}_lo"])
                                                      if math.isfinite(s[f"acc:{c}_lo"]) else 0 for c in classes])))
    fig.update_layout(barmode="group", yaxis_title="accuracy on the real test images of the class",
                      yaxis_range=[0, 1.05], margin=dict(t=30, b=40))
    return figure_html(fig, "per-class", 420)


def _grid(samples: dict, classes: list[str], per_class: int = 6) -> str:
    from generative.defect_synth.grid import png_data_uri, tile

    cols, titles = [], []
    for arm, (images, labels) in samples.items():
        pick = []
        for k in range(1, len(classes)):
            idx = np.flatnonzero(labels == k)[:per_class]
            pick += list(idx)
        if pick:
            cols.append(images[np.array(pick)])
            titles.append(arm)
    if not cols:
        return "<p>No synthetic arm.</p>"
    n = min(len(c) for c in cols)
    img = tile([c[:n] for c in cols])
    uri = png_data_uri(img, 2)
    return (f'<p class="caption">Columns: {esc(", ".join(titles))}; rows: {per_class} per defect class in the order '
            f'{esc(", ".join(classes[1:]))} (first seed\'s draw).</p><img src="{uri}" alt="synthetic samples" '
            'style="image-rendering: pixelated; max-width: 100%">')


def augmentation_report_html(metrics: dict, rows: list[dict], samples: dict) -> str:
    classes = metrics["data"]["classes"]
    summary = metrics["summary"]
    head = ["arm", "synthetic images", "macro-F1 (CI)", "balanced acc (CI)", "accuracy",
            *(f"{c}" for c in classes), "ΔF1 vs none", "p (Holm)"]
    table = [[s["arm"], s["synthetic_images"], f"{_f(s['macro_f1'])} ({_f(s['macro_f1_lo'])}–{_f(s['macro_f1_hi'])})",
              f"{_f(s['balanced_accuracy'])} ({_f(s['balanced_accuracy_lo'])}–{_f(s['balanced_accuracy_hi'])})",
              _f(s["accuracy"]), *(_f(s[f"acc:{c}"]) for c in classes), _f(s.get("macro_f1_diff")),
              _f(s.get("macro_f1_diff_p_holm"), 3)] for s in summary]
    per_seed = table_html([[r["arm"], r["seed"], r["train_images"], _f(r["macro_f1"]), _f(r["balanced_accuracy"]),
                            *(_f(r.get(f"acc:{c}")) for c in classes)] for r in rows],
                          ["arm", "seed", "training images", "macro-F1", "balanced acc", *classes])
    d = metrics["data"]
    sections = [
        Section("Verdict", f"'helped' or 'hurt' only where the Holm-corrected p &lt; {ALPHA}.",
                table_html(_verdict(summary), ["augmentation", "effect on the real test split"]), "verdict"),
        Section("Data", f"{esc(d['source'])} at {d['size_px']} px. Training split {esc(d['train'])}; real test split "
                f"{esc(d['test'])}. Synthetic images per class (each synthetic arm): "
                f"{esc(metrics['synthetic_per_class'])}. Synthesizer: {esc(metrics['synthesizer'])}. "
                f"{esc(metrics['pretrained_weights'])}.", "", "data"),
        Section("Per-class accuracy", "The share of each class's real test images labelled right; mean over seeds "
                "with 95 % t intervals.", _bars(summary, classes), "per-class-section"),
        Section("Arms", "Means over seeds.", table_html(table, head), "arms"),
        Section("Synthetic samples", "What the synthetic arms add.", _grid(samples, classes), "samples"),
        Section("Per seed", "Every trained classifier (arms.parquet).", per_seed, "per-seed"),
    ]
    return page_html("Defect augmentation: rare classes filled with synthetic defects, scored on real images",
                     f"seeds {esc(metrics['seeds'])}", sections)
