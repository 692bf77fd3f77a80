"""Assemble a self-contained HTML report from sections, tables and plotly figures.

A report is one HTML file that opens offline: plotly.js is embedded once,
in the page head, and every figure is a ``<div>`` plus a small script that
calls ``Plotly.newPlot`` (``plotly.io.to_html(..., include_plotlyjs=False,
full_html=False)``). Nothing is fetched from the network.

The output is deterministic: every figure gets an explicit ``div_id``
(plotly would otherwise draw a random one), tables are built from the
values in the order given, and no timestamps of the report's own creation
are written. The same inputs give byte-identical HTML.

Text is escaped with :func:`html.escape`; captions may contain trusted
inline markup (``<b>``, ``<code>``) written by the report module itself.
"""
from __future__ import annotations

import html
import math
from dataclasses import dataclass
from typing import Iterable, Sequence

import plotly.graph_objects as go
import plotly.io as pio
from plotly.offline import get_plotlyjs

__all__ = ["Section", "figure_html", "table_html", "page_html", "fmt", "esc"]

#: plotly options for every figure: no plotly logo, no editing, PNG export at 2x.
PLOT_CONFIG: dict = {"displaylogo": False, "responsive": True,
                     "toImageButtonOptions": {"format": "png", "scale": 2}}

_CSS = """
body { font-family: -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       color: #1d2733; background: #f6f7f9; margin: 0; }
main { max-width: 1280px; margin: 0 auto; padding: 24px 32px 48px; }
h1 { font-size: 26px; margin: 8px 0 4px; }
h2 { font-size: 20px; margin: 0 0 6px; }
h3 { font-size: 15px; margin: 14px 0 6px; color: #3a4a5c; }
.subtitle { color: #5a6b7d; margin: 0 0 18px; }
section { background: #fff; border: 1px solid #dde2e8; border-radius: 6px; padding: 18px 22px; margin: 0 0 18px; }
p.caption { color: #3a4a5c; font-size: 14px; line-height: 1.45; margin: 0 0 10px; max-width: 1100px; }
p.note { background: #fff8e1; border-left: 4px solid #f0b400; padding: 10px 14px; font-size: 14px; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(360px, 1fr)); gap: 8px 28px; }
table { border-collapse: collapse; font-size: 13.5px; width: 100%; }
th, td { text-align: left; padding: 4px 10px 4px 0; border-bottom: 1px solid #edf0f3; vertical-align: top; }
th { color: #5a6b7d; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
code { font-size: 12.5px; background: #f0f2f5; padding: 0 3px; border-radius: 3px; }
footer { color: #7a8a9b; font-size: 12px; }
"""


@dataclass(frozen=True)
class Section:
    """One block of the report: a title, a caption for the reader, and a body of HTML."""

    title: str
    caption: str  # trusted HTML (written by the report module)
    body: str     # trusted HTML: tables, figure divs, notes
    anchor: str   # id of the section, for the table of contents


def esc(text: object) -> str:
    """HTML-escape any value's text."""
    return html.escape(str(text), quote=True)


def fmt(value: object, digits: int = 3, unit: str = "") -> str:
    """Format a number for a table: fixed ``digits`` after the point, '—' for None/NaN, unit appended."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            return "—"
        text = f"{value:,d}" if isinstance(value, int) else f"{value:,.{digits}f}"
        return f"{text} {unit}".rstrip()
    return str(value)


def table_html(rows: Iterable[Sequence[object]], header: Sequence[str] | None = None,
               numeric: Sequence[bool] | None = None) -> str:
    """A plain HTML table. Cells are escaped; ``numeric[j]`` right-aligns column j."""
    out = ["<table>"]
    if header:
        out.append("<tr>" + "".join(f"<th>{esc(h)}</th>" for h in header) + "</tr>")
    for row in rows:
        cells = []
        for j, cell in enumerate(row):
            cls = ' class="num"' if numeric and j < len(numeric) and numeric[j] else ""
            cells.append(f"<td{cls}>{esc(cell)}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def figure_html(fig: go.Figure, div_id: str, height_px: int) -> str:
    """A figure as a ``<div>`` with a fixed id, without plotly.js (the page head carries it)."""
    fig.update_layout(height=height_px)
    return pio.to_html(fig, include_plotlyjs=False, full_html=False, div_id=div_id, config=PLOT_CONFIG,
                       default_width="100%", default_height=f"{height_px}px", validate=True)


def page_html(title: str, subtitle: str, sections: Sequence[Section], footer: str = "") -> str:
    """The complete document: head with CSS and the plotly.js bundle, a contents line, the sections."""
    toc = " · ".join(f'<a href="#{esc(s.anchor)}">{esc(s.title)}</a>' for s in sections)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(title)}</title>",
        f"<style>{_CSS}</style>",
        "<script>window.PlotlyConfig = {MathJaxConfig: 'local'};</script>",
        f'<script type="text/javascript">{get_plotlyjs()}</script>',
        "</head>",
        "<body><main>",
        f"<h1>{esc(title)}</h1>",
        f'<p class="subtitle">{subtitle}</p>',
        f'<p class="caption">{toc}</p>',
    ]
    for s in sections:
        parts += [f'<section id="{esc(s.anchor)}">', f"<h2>{esc(s.title)}</h2>",
                  f'<p class="caption">{s.caption}</p>', s.body, "</section>"]
    if footer:
        parts.append(f"<footer>{footer}</footer>")
    parts += ["</main></body>", "</html>", ""]
    return "\n".join(parts)
