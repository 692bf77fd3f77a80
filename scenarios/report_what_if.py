"""HTML report of a what-if sweep (:mod:`scenarios.what_if_defect_rate`).

Sections: the answer (best qualifying setting against the base cell), heat
maps of the scrap rate and of good parts/h over the first two factors (one
panel per combination of the others), main-effects plots (each defect
type's rate and the throughput per level of each factor, averaged over the
other factors), and the cell table with every interval. Self-contained and
deterministic (:mod:`scenarios.report_html`).
"""
from __future__ import annotations

import itertools
import math

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from scenarios.report_html import Section, esc, figure_html, fmt, page_html, table_html
from twin.schema import DEFECT_TYPES

__all__ = ["what_if_report_html"]

_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")


def _short(key: str) -> str:
    return key.split(".")[-1]


def _pct(lo_mid_hi: tuple[float, float, float]) -> str:
    m, lo, hi = lo_mid_hi
    return f"{100 * m:.1f} % ({100 * lo:.1f}–{100 * hi:.1f})"


def _ci(m: float, lo: float, hi: float, digits: int = 1) -> str:
    if not math.isfinite(m):
        return "—"
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return f"{m:.{digits}f}"
    return f"{m:.{digits}f} ({lo:.{digits}f}–{hi:.{digits}f})"


def _heatmaps(rows: list[dict], grid: dict, key: str, title: str, scale: float, unit: str, colours: str,
              div_id: str) -> str:
    keys = list(grid)
    if len(keys) == 1:
        x = keys[0]
        fig = go.Figure(go.Bar(x=[str(v) for v in grid[x]], y=[scale * r[key] for r in rows],
                               error_y=dict(type="data", symmetric=False,
                                            array=[scale * (r[f"{key}_hi"] - r[key]) for r in rows],
                                            arrayminus=[scale * (r[key] - r[f"{key}_lo"]) for r in rows])))
        fig.update_layout(title=title, xaxis_title=x, yaxis_title=unit, margin=dict(t=50, b=40))
        return figure_html(fig, div_id, 360)
    x, y, rest = keys[0], keys[1], keys[2:]
    panels = list(itertools.product(*(grid[k] for k in rest))) or [()]
    ncol = min(3, len(panels))
    nrow = math.ceil(len(panels) / ncol)
    names = [", ".join(f"{_short(k)} = {v}" for k, v in zip(rest, p)) or title for p in panels]
    fig = make_subplots(rows=nrow, cols=ncol, subplot_titles=names, horizontal_spacing=0.08, vertical_spacing=0.16)
    vals = [scale * r[key] for r in rows if math.isfinite(r[key])]
    zmin, zmax = (min(vals), max(vals)) if vals else (0.0, 1.0)
    for k, p in enumerate(panels):
        sel = {(r[x], r[y]): r for r in rows if all(r[f] == v for f, v in zip(rest, p))}
        z, text = [], []
        for yv in grid[y]:
            z.append([scale * sel[(xv, yv)][key] for xv in grid[x]])
            text.append([f"{scale * sel[(xv, yv)][key]:.1f}" for xv in grid[x]])
        fig.add_trace(go.Heatmap(x=[str(v) for v in grid[x]], y=[str(v) for v in grid[y]], z=z, text=text,
                                 texttemplate="%{text}", zmin=zmin, zmax=zmax, colorscale=colours,
                                 showscale=(k == 0), colorbar=dict(title=unit)),
                      row=k // ncol + 1, col=k % ncol + 1)
        fig.update_xaxes(title_text=_short(x), row=k // ncol + 1, col=k % ncol + 1)
        fig.update_yaxes(title_text=_short(y), row=k // ncol + 1, col=k % ncol + 1)
    fig.update_layout(margin=dict(t=60, b=40))
    return figure_html(fig, div_id, 330 * nrow + 40)


def _main_effects(metrics: dict) -> str:
    effects = metrics["main_effects"]
    factors = list(effects)
    fig = make_subplots(rows=2, cols=len(factors), shared_yaxes=False, vertical_spacing=0.18,
                        subplot_titles=[_short(f) for f in factors] + ["" for _ in factors])
    for j, f in enumerate(factors):
        levels = [str(e["level"]) for e in effects[f]]
        for i, d in enumerate(("scrap_rate", *(f"rate_{d}" for d in DEFECT_TYPES))):
            if max(e[d] for e in effects[f]) == 0 and d != "scrap_rate":
                continue  # a defect that no cell shows only clutters the panel
            fig.add_trace(go.Scatter(x=levels, y=[100 * e[d] for e in effects[f]], mode="lines+markers",
                                     name=d.removeprefix("rate_"), legendgroup=d, showlegend=(j == 0),
                                     line=dict(color=_COLOURS[i % len(_COLOURS)],
                                               dash="solid" if d == "scrap_rate" else "dot")),
                          row=1, col=j + 1)
        fig.add_trace(go.Scatter(x=levels, y=[e["good_parts_per_h"] for e in effects[f]], mode="lines+markers",
                                 name="good parts/h", legendgroup="good", showlegend=(j == 0),
                                 line=dict(color="#444")), row=2, col=j + 1)
        fig.update_xaxes(title_text=f, row=2, col=j + 1)
    fig.update_yaxes(title_text="rate (%)", row=1, col=1)
    fig.update_yaxes(title_text="good parts/h", row=2, col=1)
    fig.update_layout(margin=dict(t=50, b=50))
    return figure_html(fig, "main-effects", 620)


def what_if_report_html(metrics: dict, rows: list[dict], reps: list[dict], grid: dict) -> str:
    keys = list(grid)
    best = metrics["best"]
    b = best["best"]
    if b is None:
        answer = (f"<p class=\"note\">No cell meets the constraint: every cell's scrap-rate upper 95 % bound is above "
                  f"{100 * best['max_scrap_rate']:.1f} %. Widen the grid or relax the limit.</p>")
    else:
        setting = ", ".join(f"<code>{esc(k)}</code> = {esc(b[k])}" for k in keys)
        answer = (f"<p><b>Best setting</b> ({esc(best['sense'])}imise <code>{esc(best['target'])}</code> with the "
                  f"scrap rate's upper 95 % bound ≤ {100 * best['max_scrap_rate']:.1f} %; "
                  f"{best['qualifying_cells']} of {len(rows)} cells qualify): {setting}. "
                  f"Scrap {_pct((b['scrap_rate'], b['scrap_rate_lo'], b['scrap_rate_hi']))}, "
                  f"{_ci(b['good_parts_per_h'], b['good_parts_per_h_lo'], b['good_parts_per_h_hi'])} good parts/h, "
                  f"{_ci(b['cost_per_good_part_eur'], b['cost_per_good_part_eur_lo'], b['cost_per_good_part_eur_hi'], 3)} "
                  f"EUR per good part.</p>")
        if best["runner_up"] is not None:
            r = best["runner_up"]
            answer += ("<p>Runner-up: " + ", ".join(f"<code>{esc(k)}</code> = {esc(r[k])}" for k in keys) +
                       f" ({esc(best['target'])} {fmt(r[best['target']], 3)}). Where the two intervals overlap, "
                       "the replications do not separate them: run more.</p>")
    head = [*(_short(k) for k in keys), "scrap % (95 % CI)",
            *(f"{d} %" for d in DEFECT_TYPES), "parts/h", "good parts/h (CI)", "scrap cost EUR/h", "EUR / good part"]
    table = []
    for r in rows:
        table.append([*(r[k] for k in keys), _pct((r["scrap_rate"], r["scrap_rate_lo"], r["scrap_rate_hi"])),
                      *(f"{100 * r[f'rate_{d}']:.1f} ({100 * r[f'rate_{d}_lo']:.1f}–{100 * r[f'rate_{d}_hi']:.1f})"
                        for d in DEFECT_TYPES),
                      f"{r['throughput_parts_per_h']:.1f}",
                      _ci(r["good_parts_per_h"], r["good_parts_per_h_lo"], r["good_parts_per_h_hi"]),
                      _ci(r["scrap_cost_eur_per_h"], r["scrap_cost_eur_per_h_lo"], r["scrap_cost_eur_per_h_hi"], 2),
                      _ci(r["cost_per_good_part_eur"], r["cost_per_good_part_eur_lo"],
                          r["cost_per_good_part_eur_hi"], 3)])
    seeds = table_html([[r["cell"], r["replication"], r["seed"], r["cycles"], f"{r['hours']:.2f}", r["scrap"]]
                        for r in reps], ["cell", "replication", "seed", "cycles scored", "hours", "scrapped"])
    sections = [
        Section("Answer", f"{len(rows)} cells × {metrics['replications_per_cell']} replications × "
                f"{metrics['cycles_per_run']} cycles (the first {metrics['warmup_cycles']} of each run, the warm-up, "
                f"not scored); root seed {metrics['root_seed']}. Intervals are 95 %: for rates the envelope of the "
                "Wilson interval and the t interval over replications, for throughput and cost the t interval.",
                answer, "answer"),
        Section("Heat maps", "Scrap rate and good parts per hour over the first two factors; one panel per "
                "level of the others.",
                _heatmaps(rows, grid, "scrap_rate", "scrap rate", 100.0, "scrap %", "Reds", "heat-scrap") +
                _heatmaps(rows, grid, "good_parts_per_h", "good parts/h", 1.0, "good parts/h", "Viridis",
                          "heat-good"), "heat-maps"),
        Section("Main effects", "Each factor's levels, averaged over the other factors: the defect rates by type "
                "(top; types that no cell shows are left out) and good parts per hour (bottom).",
                _main_effects(metrics), "main-effects-section"),
        Section("Cells", "Every cell with its intervals. Scrap cost: scrapped parts × (material + the machine "
                f"time they took) at {metrics['cost']['material_eur_per_part']} EUR material per part and "
                f"{metrics['cost']['machine_rate_eur_per_h']} EUR/h machine rate.",
                table_html(table, head), "cells"),
        Section("Replications", "One twin run per row, with the seed it ran on (replications.parquet).", seeds, "replications"),
    ]
    return page_html("What-if: defect rates over a setpoint grid",
                     " × ".join(f"<code>{esc(k)}</code> {esc(grid[k])}" for k in keys), sections)
