"""The plotly figures of the molding report, one function per figure.

Each function takes the :class:`scenarios.report_data.RunData` (and, for the
curves, the arrays read by :func:`scenarios.report_data.read_curves`) and
returns a ``plotly.graph_objects.Figure``; layout, captions and HTML are the
business of :mod:`scenarios.report_molding`.

Conventions shared by the figures:

* time axes are wall-clock time in UTC (ISO strings, plotly date axes);
* the same colour means the same thing everywhere: good parts blue-grey,
  each defect type its own colour (:data:`DEFECT_COLORS`);
* stops of the machine are shaded (breakdown red, maintenance amber), and
  setpoint and material-lot changes are vertical lines, so that a jump in
  a trend can be matched with what happened on the shop floor.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from physics.molding.channels import CHANNEL_UNITS
from scenarios.report_data import RunData, iso_ms
from twin.schema import DEFECT_TYPES

__all__ = ["DEFECT_COLORS", "cycle_time_figure", "defect_rate_figure", "part_weight_figure", "curves_figure",
           "CURVE_CHANNELS"]

GOOD_COLOR = "#5b7aa6"
DEFECT_COLORS: dict[str, str] = {
    "short_shot": "#d62728",
    "flash": "#ff7f0e",
    "burn_marks": "#8c564b",
    "warpage": "#9467bd",
    "sink_marks": "#e7298a",
}
#: One colour per machine in the cycle-time plot (first machine = the good-part colour).
MACHINE_COLORS = (GOOD_COLOR, "#17becf", "#bcbd22", "#7f7f7f", "#1f77b4", "#9edae5")
#: Example curves: good cycles in a blue family, defective ones in a red/orange family.
GOOD_FAMILY = ("#08519c", "#3182bd", "#6baed6")
DEFECT_FAMILY = ("#a50f15", "#e6550d", "#fd8d3c")

#: The four channels of the example-curve panel, in subplot order.
CURVE_CHANNELS: tuple[str, ...] = ("injection_pressure_bar", "cavity_pressure_near_gate_bar",
                                   "cavity_pressure_far_bar", "screw_position_mm")
_CURVE_TITLES = {
    "injection_pressure_bar": "Injection pressure (melt, at screw tip)",
    "cavity_pressure_near_gate_bar": "Cavity pressure near gate",
    "cavity_pressure_far_bar": "Cavity pressure far from gate (end of flow)",
    "screw_position_mm": "Screw position (0 = fully forward)",
}

#: How each event kind is drawn: (legend label, colour, line dash or None for a shaded stop).
_EVENT_STYLE: dict[str, tuple[str, str, str | None]] = {
    "breakdown": ("breakdown (stop)", "#d62728", None),
    "maintenance": ("maintenance (stop)", "#f0a000", None),
    "setpoint_change": ("setpoint change", "#6a3d9a", "dash"),
    "lot_change": ("material lot change", "#2ca02c", "dot"),
}

_BASE_LAYOUT = dict(template="plotly_white", margin=dict(l=70, r=30, t=40, b=50),
                    legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="left", x=0, traceorder="normal"),
                    hoverlabel=dict(namelength=-1))


def _label(name: str) -> str:
    return name.replace("_", " ")


def _event_overlay(fig: go.Figure, data: RunData, markers: bool) -> None:
    """Shade stops and draw change lines on ``fig``; with ``markers``, add hoverable legend markers on top.

    Markers live on a hidden second y axis spanning [0, 1] so that they sit at
    the top of the plot whatever the data's scale.
    """
    shapes = []
    marks: dict[str, tuple[list, list]] = {k: ([], []) for k in _EVENT_STYLE}
    for iv in data.downtime:
        _, color, _ = _EVENT_STYLE[iv.kind]
        shapes.append(dict(type="rect", xref="x", yref="paper", x0=str(iso_ms(iv.start_ms)),
                           x1=str(iso_ms(max(iv.end_ms, iv.start_ms + 1000))), y0=0, y1=1,
                           fillcolor=color, opacity=0.15, line=dict(width=0), layer="below"))
        minutes = (iv.end_ms - iv.start_ms) / 60000.0
        marks[iv.kind][0].append(str(iso_ms(iv.start_ms)))
        marks[iv.kind][1].append(f"{iv.component}: {iv.kind}, stopped {minutes:.1f} min<br>{iv.detail}")
    ev = data.events
    for kind in ("setpoint_change", "lot_change"):
        _, color, dash = _EVENT_STYLE[kind]
        seen: set[int] = set()
        for t, comp, detail in zip(ev.time_ms[ev.kind == kind], ev.component[ev.kind == kind],
                                   ev.detail[ev.kind == kind]):
            if int(t) not in seen:  # one line per instant, even when several machines log it
                shapes.append(dict(type="line", xref="x", yref="paper", x0=str(iso_ms(t)), x1=str(iso_ms(t)),
                                   y0=0, y1=1, line=dict(color=color, width=1.5, dash=dash), layer="below"))
                seen.add(int(t))
            marks[kind][0].append(str(iso_ms(t)))
            marks[kind][1].append(f"{comp}: {_label(kind)}<br>{detail}")
    fig.update_layout(shapes=shapes)
    if not markers:
        return
    for kind, (xs, texts) in marks.items():
        if not xs:
            continue
        label, color, _ = _EVENT_STYLE[kind]
        fig.add_trace(go.Scatter(x=xs, y=[1.0] * len(xs), yaxis="y2", mode="markers", name=label,
                                 marker=dict(symbol="triangle-down", size=11, color=color),
                                 hovertext=texts, hoverinfo="text+x"))
    fig.update_layout(yaxis2=dict(overlaying="y", range=[0, 1.06], visible=False, fixedrange=True))


def _padded_range(values: np.ndarray, top: float = 0.25) -> list[float] | None:
    """A y range around ``values`` with a little room below and ``top`` (fraction) above for markers."""
    v = values[np.isfinite(values)]
    if v.size == 0:
        return None
    lo, hi = float(v.min()), float(v.max())
    span = max(hi - lo, 1e-3 * max(abs(hi), 1.0))
    return [lo - 0.1 * span, hi + top * span]


def _robust_range(values: np.ndarray, top: float = 0.25) -> tuple[list[float] | None, int]:
    """Like :func:`_padded_range`, but ignores a few far outliers; returns the range and how many points it hides.

    If the full span is more than 5 times the span of the central 99 % of the
    values (e.g. one cycle that waited for the shared robot), the axis is
    scaled to that central part so the normal scatter stays readable.
    """
    v = values[np.isfinite(values)]
    if v.size < 20:
        return _padded_range(v, top), 0
    lo, hi = np.percentile(v, [0.5, 99.5])
    if (v.max() - v.min()) <= 5 * max(hi - lo, 1e-9):
        return _padded_range(v, top), 0
    rng = _padded_range(v[(v >= lo) & (v <= hi)], top)
    return rng, int(np.sum((v < rng[0]) | (v > rng[1])))


def _x_range(data: RunData) -> list[str]:
    return [str(iso_ms(data.run_start_ms)), str(iso_ms(max(data.run_end_ms, data.run_start_ms + 1000)))]


def _time_axis(data: RunData) -> dict:
    """The x axis of the over-time plots: the whole run, labels pushed clear of the y axis's lowest tick."""
    return dict(title="time (UTC)", range=_x_range(data), ticklabelstandoff=8)


def cycle_time_figure(data: RunData) -> go.Figure:
    """Cycle time of every completed cycle over time, one trace per machine, with stops and changes."""
    c = data.cycles
    fig = go.Figure()
    for k, m in enumerate(sorted(set(c.machine_id.tolist()))):
        sel = c.machine_id == m
        fig.add_trace(go.Scattergl(  # WebGL: stays fast with 100,000 cycles
            x=iso_ms(c.start_ms[sel]), y=c.values["cycle_time_s"][sel], mode="markers", name=f"{m} cycle time",
            marker=dict(size=4, color=MACHINE_COLORS[k % len(MACHINE_COLORS)]),
            customdata=c.cycle_id[sel], hovertemplate="cycle %{customdata}<br>%{y:.3f} s<extra>" + m + "</extra>"))
    _event_overlay(fig, data, markers=True)
    y_range, hidden = _robust_range(c.values["cycle_time_s"])
    if hidden:
        fig.add_annotation(text=f"{hidden} cycle{'s' if hidden != 1 else ''} outside the axis range "
                                "(double-click the plot to show all)", xref="paper", yref="paper", x=1, y=1.0,
                           xanchor="right", yanchor="bottom", showarrow=False, font=dict(size=11, color="#5a6b7d"))
    fig.update_layout(**_BASE_LAYOUT, xaxis=_time_axis(data), yaxis=dict(title="cycle time (s)", range=y_range))
    return fig


def defect_rate_figure(data: RunData, bin_s: int) -> go.Figure:
    """Share of cycles per time bin, stacked by the primary (most severe) defect type.

    The stack height of a bin is its scrap rate; the dashed line is the
    scrap rate of the whole run. Bins without cycles (stops) have no bar.
    """
    c = data.cycles
    width_ms = bin_s * 1000
    n_bins = max(1, int(np.ceil((data.run_end_ms - data.run_start_ms) / width_ms)))
    idx = np.clip((c.start_ms - data.run_start_ms) // width_ms, 0, n_bins - 1).astype(int)
    total = np.bincount(idx, minlength=n_bins)
    centres = iso_ms(data.run_start_ms + np.arange(n_bins) * width_ms + width_ms // 2)
    has = total > 0
    fig = go.Figure()
    for d in DEFECT_TYPES:
        count = np.bincount(idx[c.defect_type == d], minlength=n_bins)
        if count.sum() == 0:
            continue
        rate = 100.0 * count[has] / total[has]
        fig.add_trace(go.Bar(x=centres[has], y=rate, width=width_ms, name=_label(d),
                             marker=dict(color=DEFECT_COLORS[d], line=dict(width=0)),
                             customdata=np.stack([count[has], total[has]], axis=1),
                             hovertemplate=f"{_label(d)}: %{{y:.1f}} %% (%{{customdata[0]}} of %{{customdata[1]}} cycles)"
                                           "<extra></extra>"))
    overall = 100.0 * float(np.mean(~c.good)) if len(c) else 0.0
    _event_overlay(fig, data, markers=False)
    fig.add_trace(go.Scatter(x=_x_range(data), y=[overall, overall], mode="lines", hoverinfo="skip",
                             line=dict(color="#333", width=1, dash="dash"),
                             name=f"scrap rate of the whole run: {overall:.2f} %"))
    if not (~c.good).any():
        fig.add_annotation(text="no defective parts in this run", xref="paper", yref="paper", x=0.5, y=0.5,
                           showarrow=False, font=dict(size=16, color="#5a6b7d"))
    scrap = np.bincount(idx[~c.good], minlength=n_bins)[has] / total[has] * 100.0 if has.any() else np.zeros(0)
    ymax = max([overall, *scrap.tolist()])
    fig.update_layout(**_BASE_LAYOUT, barmode="stack", bargap=0.05, showlegend=True,
                      xaxis=_time_axis(data),
                      yaxis=dict(title="share of cycles in the bin (%)", range=[0, max(5.0, 1.15 * ymax)]))
    return fig


def part_weight_figure(data: RunData) -> go.Figure:
    """Part weight of every cycle over time, good vs each primary defect, with the mean ± 3 sd band of good parts."""
    c = data.cycles
    w = c.values["part_weight_g"]
    fig = go.Figure()
    for label in ("good",) + DEFECT_TYPES:
        sel = c.defect_type == label
        if not sel.any():
            continue
        color = GOOD_COLOR if label == "good" else DEFECT_COLORS[label]
        fig.add_trace(go.Scattergl(
            x=iso_ms(c.start_ms[sel]), y=w[sel], mode="markers", name=_label(label),
            marker=dict(size=4 if label == "good" else 7, color=color, opacity=0.6 if label == "good" else 0.9),
            customdata=np.stack([c.cycle_id[sel], c.machine_id[sel]], axis=1),
            hovertemplate="cycle %{customdata[0]} (%{customdata[1]})<br>%{y:.3f} g<extra>" + _label(label)
                          + "</extra>"))
    good = w[c.good & np.isfinite(w)]
    _event_overlay(fig, data, markers=False)
    y_span = w
    if good.size:
        mean = float(good.mean())
        sd = float(good.std(ddof=1)) if good.size > 1 else 0.0
        y_span = np.concatenate([w, [mean - 3 * sd, mean + 3 * sd]])
        if sd > 0:
            fig.add_hrect(y0=mean - 3 * sd, y1=mean + 3 * sd, fillcolor=GOOD_COLOR, opacity=0.10, line_width=0,
                          layer="below")
            for y in (mean - 3 * sd, mean + 3 * sd):
                fig.add_hline(y=y, line=dict(color=GOOD_COLOR, width=1, dash="dot"))
        fig.add_trace(go.Scatter(x=_x_range(data), y=[mean, mean], mode="lines", hoverinfo="skip",
                                 line=dict(color=GOOD_COLOR, width=1.5),
                                 name=f"good parts: mean {mean:.3f} g, band ±3 sd = ±{3 * sd:.3f} g"))
    fig.update_layout(**_BASE_LAYOUT, showlegend=True, xaxis=_time_axis(data),
                      yaxis=dict(title="part weight (g)", range=_padded_range(y_span, top=0.15)))
    return fig


def curves_figure(data: RunData, curves: dict, good_idx: list[int], bad_idx: list[int]) -> go.Figure:
    """Example curves in a 2x2 grid: injection pressure, cavity pressure near/far, screw position vs cycle time.

    Good cycles in blues, defective ones in reds; a legend entry per cycle
    toggles all four of its curves.
    """
    c = data.cycles
    titles = [f"{_CURVE_TITLES[ch]} ({CHANNEL_UNITS[ch]})" for ch in CURVE_CHANNELS]
    fig = make_subplots(rows=2, cols=2, shared_xaxes=True, subplot_titles=titles,
                        vertical_spacing=0.10, horizontal_spacing=0.08)
    picks = [(i, GOOD_FAMILY[k]) for k, i in enumerate(good_idx)] + [(i, DEFECT_FAMILY[k]) for k, i in enumerate(bad_idx)]
    for i, color in picks:
        key = (str(c.machine_id[i]), int(c.cycle_id[i]))
        rec = curves.get(key)
        if rec is None:
            continue
        kind = "good" if c.good[i] else _label(str(c.defect_type[i]))
        name = f"{kind}: cycle {key[1]} ({key[0]})"
        for k, ch in enumerate(CURVE_CHANNELS):
            y = rec[ch]
            t = np.arange(y.size, dtype=np.float32) * np.float32(rec["dt"])
            fig.add_trace(go.Scatter(x=t, y=y, mode="lines", name=name, legendgroup=name, showlegend=k == 0,
                                     line=dict(color=color, width=1.3),
                                     hovertemplate="%{x:.2f} s: %{y:.1f} " + CHANNEL_UNITS[ch] + "<extra>" + name
                                                   + "</extra>"),
                          row=k // 2 + 1, col=k % 2 + 1)
    fig.update_layout(**{**_BASE_LAYOUT, "legend": dict(orientation="h", yanchor="top", y=-0.08, xanchor="left",
                                                        x=0)})
    fig.update_xaxes(title_text="time in cycle (s)", row=2)
    for k, ch in enumerate(CURVE_CHANNELS):
        fig.update_yaxes(title_text=CHANNEL_UNITS[ch], row=k // 2 + 1, col=k % 2 + 1)
    return fig
