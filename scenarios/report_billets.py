"""The billet run report: a self-contained ``report.html`` in the run folder.

Sections: the summary (rates with 95 % intervals, line figures); a grid of
example face images with every character's box drawn in the colour of its
visibility class (well / partial / poor), as the labels in
``billets.parquet`` and the COCO export have them; the stamping physics
(depth against surface temperature at stamping and against pin wear); the
line (time from cut to stamp, waits at the robot, labelled billets).

Images are embedded as PNG data URIs inside inline SVG, so the boxes are
drawn over the pixels exactly, in image coordinates. The page is a pure
function of the run folder: same folder, same bytes.
"""
from __future__ import annotations

import base64
import json
import tomllib
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import pyarrow.parquet as pq
from plotly.subplots import make_subplots

from scenarios.report_html import Section, esc, figure_html, fmt, page_html, table_html
from twin.runfolder import RunFolder
from twin.schema import VISIBILITY_CLASSES

REPORT_NAME = "report.html"
VIS_COLOURS = {"well": "#1a9850", "partial": "#f39c12", "poor": "#d73027"}
#: Example images in the grid.
GRID_IMAGES = 12


def build_report(run_dir: Path, metrics: dict | None = None) -> str:
    run_dir = Path(run_dir)
    m = metrics if metrics is not None else json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))
    cfg = tomllib.loads((run_dir / "config.toml").read_text(encoding="utf-8"))
    table = pq.read_table(run_dir / "billets.parquet")
    rows = table.drop_columns(["image_png"]).to_pylist()
    sections = [_summary(m, cfg), _grid(table, rows), _physics(rows), _line(rows)]
    title = f"Billet line report — {m.get('run_id', '?')}"
    subtitle = esc(f"Simulated billet line · steel {cfg['steel']['grade']} · {cfg['caster']['strands']} strands · "
                   f"{cfg['caster']['section_mm']:g} mm section · camera site {cfg['camera']['site']} · "
                   f"{fmt(m.get('sim_hours'), 2)} simulated hours · {fmt(m.get('billets'))} billets")
    footer = esc(f"twinloop {m.get('code_version', '?')} · config hash {m.get('config_hash', '?')} · seed "
                 f"{m.get('seed', '?')}. Computed from the run folder alone; the same folder gives the same page.")
    return page_html(title, subtitle, sections, footer)


def write_report(run: RunFolder, metrics: dict) -> Path:
    """``finalize`` hook of :func:`twin.billet_line.simulate.simulate_billets`."""
    return run.write_text(REPORT_NAME, build_report(run.root, metrics))


def _summary(m: dict, cfg: dict) -> Section:
    vis = m.get("character_visibility_rate", {})
    ci = m.get("labelled_unstamped_rate_ci95", [None, None])
    ci2 = m.get("billets_with_partial_or_poor_ci95", [None, None])
    rows = [
        ("billets photographed", fmt(m.get("billets"))),
        ("billets per hour", fmt(m.get("billets_per_h"), 1)),
        ("stamped", fmt(m.get("stamped"))),
        ("left unstamped (stick-on label)", f"{fmt(100 * m.get('labelled_unstamped_rate', float('nan')), 2)} % "
                                            f"(95 % CI {fmt(100 * (ci[0] or 0), 2)}–{fmt(100 * (ci[1] or 0), 2)} %)"),
        ("characters well / partial / poor", " / ".join(f"{fmt(100 * vis.get(c, float('nan')), 1)} %"
                                                        for c in VISIBILITY_CLASSES)),
        ("stamped billets with a partial or poor character",
         f"{fmt(100 * m.get('billets_with_partial_or_poor_rate', float('nan')), 1)} % "
         f"(95 % CI {fmt(100 * (ci2[0] or 0), 1)}–{fmt(100 * (ci2[1] or 0), 1)} %)"),
        ("mean stamp depth", fmt(m.get("char_depth_mm_mean"), 2, "mm")),
        ("mean surface temperature at stamping", fmt(m.get("surface_temp_C_mean"), 0, "degC")),
        ("mean time from cut to stamping", fmt(m.get("time_since_cut_s_mean"), 0, "s")),
        ("robot utilisation", fmt(m.get("robot_utilization"), 2)),
        ("heats", ", ".join(str(h) for h in m.get("heats", []))),
    ]
    caption = ("What the line produced. A billet the robot could not take within "
               f"<code>stamping.max_wait_s</code> = {cfg['stamping']['max_wait_s']:g} s leaves with a stick-on label. "
               "Visibility is decided per character by the physics: effective depth (indentation minus scale), "
               "face tilt and occlusion.")
    return Section("Summary", caption, table_html(rows, ["", "value"]), "summary")


def _pick_examples(rows: list[dict]) -> list[int]:
    """Deterministic variety: billets with poor, with partial, all well, and an unstamped one."""
    poor = [i for i, r in enumerate(rows) if r["n_poor"]]
    partial = [i for i, r in enumerate(rows) if r["n_partial"] and not r["n_poor"]]
    well = [i for i, r in enumerate(rows) if r["stamped"] and not r["n_partial"] and not r["n_poor"]]
    skipped = [i for i, r in enumerate(rows) if not r["stamped"]]
    out: list[int] = []
    for group, k in ((poor, 4), (partial, 4), (well, 3), (skipped, 1)):
        out += group[:k]
    for i in range(len(rows)):  # fill up when a group is short
        if len(out) >= GRID_IMAGES:
            break
        if i not in out:
            out.append(i)
    return sorted(out[:GRID_IMAGES])


def _svg(png: bytes, w: int, h: int, boxes: list[dict]) -> str:
    uri = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    parts = [f'<svg viewBox="0 0 {w} {h}" width="100%" style="background:#000">',
             f'<image href="{uri}" x="0" y="0" width="{w}" height="{h}"/>']
    sw = max(1.0, w / 256)
    for b in boxes:
        c = VIS_COLOURS.get(b["visibility"], "#3182bd")
        parts.append(f'<rect x="{b["x0"]}" y="{b["y0"]}" width="{b["x1"] - b["x0"]}" height="{b["y1"] - b["y0"]}" '
                     f'fill="none" stroke="{c}" stroke-width="{sw:g}"/>')
        parts.append(f'<text x="{b["x0"]}" y="{max(b["y0"] - 2 * sw, 8 * sw)}" fill="{c}" '
                     f'font-size="{10 * sw:g}" font-family="monospace">{esc(b["char"])}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _grid(table, rows: list[dict]) -> Section:
    if "image_png" not in table.column_names or table.column("image_png").null_count == len(rows):
        return Section("Example images", "", '<p class="note">Rendering was off in this run '
                       "(<code>render.enabled = false</code>).</p>", "examples")
    pick = _pick_examples(rows)
    pngs = table.column("image_png").take(pick).to_pylist()
    cells = []
    for i, png in zip(pick, pngs):
        r = rows[i]
        if png is None:
            continue
        vis = r["char_visibility"]
        label = (f"{r['billet_id']} · " + (f"{vis.count('well')} well, {vis.count('partial')} partial, "
                                           f"{vis.count('poor')} poor" if r["stamped"] else "unstamped, label")
                 + f" · {fmt(r.get('surface_temp_C'), 0, 'degC') if r['stamped'] else ''}")
        cells.append(f'<figure style="margin:0">{_svg(png, r["image_width"], r["image_height"], r["boxes"] or [])}'
                     f'<figcaption style="font-size:12px;color:#3a4a5c">{esc(label)}</figcaption></figure>')
    body = ('<div style="display:grid;grid-template-columns:repeat(auto-fill,minmax(260px,1fr));gap:12px">'
            + "".join(cells) + "</div>")
    legend = " ".join(f'<span style="color:{c}">■ {k}</span>' for k, c in VIS_COLOURS.items())
    caption = (f"Billet faces as the camera saw them, with the labels written to <code>billets.parquet</code>: "
               f"each visible character's tight box, coloured by visibility class ({legend}). "
               "Chosen to show every class: billets with poor, with partial and with only well-visible characters.")
    return Section("Example images", caption, body, "examples")


def _physics(rows: list[dict]) -> Section:
    st = [r for r in rows if r["stamped"]]
    if not st:
        return Section("Stamping physics", "", '<p class="note">No billet was stamped.</p>', "physics")
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Depth vs surface temperature at stamping",
                                                        "Depth vs pin wear"))
    for c in VISIBILITY_CLASSES:
        T, d, w = [], [], []
        for r in st:
            for k, v in enumerate(r["char_visibility"]):
                if v == c:
                    T.append(r["surface_temp_C"])
                    d.append(r["char_depth_mm"][k])
                    w.append(r["char_pin_wear"][k])
        fig.add_trace(go.Scattergl(x=T, y=d, mode="markers", name=c, marker=dict(color=VIS_COLOURS[c], size=4),
                                   legendgroup=c), row=1, col=1)
        fig.add_trace(go.Scattergl(x=w, y=d, mode="markers", name=c, marker=dict(color=VIS_COLOURS[c], size=4),
                                   legendgroup=c, showlegend=False), row=1, col=2)
    fig.update_xaxes(title_text="surface temperature (degC)", row=1, col=1)
    fig.update_xaxes(title_text="pin wear (1 = worn out)", row=1, col=2)
    fig.update_yaxes(title_text="indentation depth (mm)", row=1, col=1)
    fig.update_layout(margin=dict(l=50, r=20, t=40, b=40), template="plotly_white")
    caption = ("Every stamped character: a hotter billet (softer steel, lower hot flow stress) and a sharper pin "
               "give deeper stamps; colour = visibility class.")
    return Section("Stamping physics", caption, figure_html(fig, "billet-physics", 420), "physics")


def _line(rows: list[dict]) -> Section:
    t = np.array([r["time_since_cut_s"] for r in rows if r["stamped"]], dtype=float)
    wait = np.array([r["wait_at_station_s"] or 0.0 for r in rows], dtype=float)
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Time from cut to stamping", "Wait for the robot"))
    fig.add_trace(go.Histogram(x=t, nbinsx=40, marker_color="#3182bd", name="stamped"), row=1, col=1)
    fig.add_trace(go.Histogram(x=wait, nbinsx=40, marker_color="#756bb1", name="all billets"), row=1, col=2)
    fig.update_xaxes(title_text="s", row=1, col=1)
    fig.update_xaxes(title_text="s", row=1, col=2)
    fig.update_layout(margin=dict(l=50, r=20, t=40, b=40), template="plotly_white", showlegend=False)
    caption = ("The roller table and the robot set how hot a billet is when stamped. Billets that waited the "
               "full limit left unstamped.")
    return Section("Line", caption, figure_html(fig, "billet-line", 360), "line")
