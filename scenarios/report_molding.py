"""The HTML report of a molding run folder, for the process engineer.

Two entry points:

* :func:`build_report` ``(run_dir) -> str``: the report of a finished run
  folder, as one self-contained HTML document (plotly.js embedded once, no
  network access needed to open it);
* :func:`write_report` ``(run, metrics)``: the same, written as
  ``report.html`` into a run folder that is still being written. Its
  signature is that of the ``finalize`` hook of
  :func:`twin.simulate.simulate_molding`, so the report becomes part of the
  atomic run folder::

      simulate_molding(cfg, "runs/r1", hours=8, finalize=write_report)

The report reads only the run folder (``config.toml``, ``metrics.json``,
``cycles.parquet``, ``events.parquet`` and, if curves were recorded, a few
rows of ``curves.parquet``) and is a pure function of it: the same folder
gives byte-identical HTML. Sections, in order:

1. Run summary — identity, output, scrap rate with its 95 % confidence
   interval, defect counts, process statistics, material and setpoints;
2. Cycle time over time, with stops and changes marked;
3. Defect rate by type over time, in 10-40 time bins;
4. Part weight over time with the ±3 sd band of good parts;
5. Example sensor curves of the first good and defective cycles;
6. Event log.

Data loading lives in :mod:`scenarios.report_data`, the figures in
:mod:`scenarios.report_figures`, the page assembly in
:mod:`scenarios.report_html`.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from scenarios.report_data import RunData, choose_bin_seconds, example_cycles, iso_ms, load_run, read_curves
from scenarios.report_figures import CURVE_CHANNELS, cycle_time_figure, curves_figure, defect_rate_figure, \
    part_weight_figure
from scenarios.report_html import Section, esc, figure_html, fmt, page_html, table_html
from twin.config_spec import SPEC
from twin.runfolder import RunFolder
from twin.schema import DEFECT_TYPES, SETPOINT_FIELDS

__all__ = ["build_report", "write_report", "REPORT_NAME", "SECTION_TITLES"]

REPORT_NAME = "report.html"

#: Section titles, in page order (tests look for them).
SECTION_TITLES: tuple[str, ...] = ("Run summary", "Cycle time", "Defect rate by type over time", "Part weight",
                                   "Example sensor curves", "Event log")

#: At most this many events are listed in the event log table (all are in events.parquet).
MAX_EVENT_ROWS = 200


def build_report(run_dir: Path, metrics: dict | None = None) -> str:
    """The report of the run folder ``run_dir`` as a self-contained HTML string.

    ``metrics`` defaults to the folder's ``metrics.json`` (the ``finalize``
    hook passes the same dict it has just written there).
    """
    data = load_run(Path(run_dir), metrics)
    sections = [_summary_section(data)]
    if len(data.cycles):
        sections += [_cycle_time_section(data), _defect_section(data), _weight_section(data),
                     _curves_section(data)]
    else:
        note = '<p class="note">No cycle was completed in this run, so there is nothing to plot.</p>'
        sections += [Section(t, "", note, _anchor(t)) for t in SECTION_TITLES[1:5]]
    sections.append(_event_section(data))
    m, cfg = data.metrics, data.config
    title = f"Molding run report — {m.get('run_id', '?')}"
    subtitle = esc(f"Simulated injection-molding cell · material {cfg['material']['grade']} · "
                   f"start {cfg['run']['start_time']} · {fmt(m.get('sim_hours'), 2)} simulated hours · "
                   f"{fmt(m.get('cycles'))} cycles")
    footer = esc(f"twinloop {m.get('code_version', '?')} · config hash {m.get('config_hash', '?')} · seed "
                 f"{m.get('seed', '?')}. This page is computed from the run folder alone (config.toml, "
                 "metrics.json, cycles / events / curves.parquet); the same folder always gives the same page.")
    return page_html(title, subtitle, sections, footer)


def write_report(run: RunFolder, metrics: dict) -> Path:
    """``finalize`` hook of :func:`twin.simulate.simulate_molding`: write ``report.html`` into the open run folder.

    Reads the Parquet files the simulator has just closed in the folder's
    temporary path, so the report is committed atomically with the run.
    """
    return run.write_text(REPORT_NAME, build_report(run.root, metrics))


# -- sections ------------------------------------------------------------------

def _anchor(title: str) -> str:
    return title.lower().replace(" ", "-")


def _summary_section(data: RunData) -> Section:
    m, cfg, c = data.metrics, data.config, data.cycles
    n = len(c)
    ci = m.get("scrap_rate_ci95") or [None, None]
    pct = (lambda v: None if v is None else 100.0 * v)
    breakdowns = [iv for iv in data.downtime if iv.kind == "breakdown"]
    maintenance = [iv for iv in data.downtime if iv.kind == "maintenance"]
    stop_min = sum(iv.end_ms - iv.start_ms for iv in data.downtime) / 60000.0
    curves = (f"yes, every {fmt(float(cfg['curves']['sample_interval_ms']), 0)} ms" if data.curves_path
              else "no (curves.enabled = false)")
    run_rows = [
        ("run id", m.get("run_id")),
        ("seed", m.get("seed")),
        ("config hash", m.get("config_hash")),
        ("code version", m.get("code_version")),
        ("start (UTC)", cfg["run"]["start_time"]),
        ("simulated time", fmt(m.get("sim_hours"), 2, "h")),
        ("machines", fmt(int(cfg["cell"]["machines"]))),
        ("sensor curves recorded", curves),
    ]
    out_rows = [
        ("completed cycles", fmt(m.get("cycles"))),
        ("good parts", fmt(m.get("good_parts"))),
        ("throughput", fmt(m.get("throughput_parts_per_h"), 1, "parts/h")),
        ("scrap rate", fmt(pct(m.get("scrap_rate")), 2, "%")),
        ("scrap rate, 95 % CI (Wilson)", f"{fmt(pct(ci[0]), 2)} – {fmt(pct(ci[1]), 2)} %"),
        ("breakdowns", f"{len(breakdowns)}"),
        ("maintenance stops", f"{len(maintenance)}"),
        ("time stopped", fmt(stop_min, 1, "min")),
    ]
    defect_rows = []
    for d in DEFECT_TYPES:
        primary = int(np.sum(c.defect_type == d))
        anyflag = int(np.sum(c.defect_flags[d]))
        defect_rows.append((d.replace("_", " "), primary, anyflag, fmt(100.0 * anyflag / n if n else None, 2, "%")))
    stats_rows = []
    for key, label, unit, digits in (("part_weight_g", "part weight", "g", 3), ("cushion_mm", "cushion", "mm", 3),
                                     ("cycle_time_s", "cycle time", "s", 3),
                                     ("max_injection_pressure_bar", "max. injection pressure", "bar", 1),
                                     ("max_cavity_pressure_bar", "max. cavity pressure", "bar", 1)):
        stats_rows.append((label, fmt(m.get(f"{key}_mean"), digits, unit), fmt(m.get(f"{key}_sd"), digits, unit)))
    setting_rows = [("material.grade", cfg["material"]["grade"], "", "polymer grade"),
                    ("material.glass_fiber_pct", fmt(float(cfg["material"]["glass_fiber_pct"]), 1), "wt%",
                     "glass-fibre mass fraction")]
    for name in SETPOINT_FIELDS:
        spec = SPEC.get(f"setpoints.{name}")
        value = cfg["setpoints"].get(name)
        setting_rows.append((f"setpoints.{name}", fmt(value, 1), spec.unit if spec else "", spec.doc if spec else ""))
    n_changes = len(cfg.get("schedule", {}).get("events", []))
    body = "\n".join([
        '<div class="grid">',
        "<div><h3>Run</h3>" + table_html(run_rows) + "</div>",
        "<div><h3>Output and quality</h3>" + table_html(out_rows) + "</div>",
        "<div><h3>Defects</h3>" + table_html(defect_rows, ("defect", "primary defect", "parts with it", "share"),
                                             (False, True, True, True)) + "</div>",
        "<div><h3>Process statistics (all cycles)</h3>"
        + table_html(stats_rows, ("quantity", "mean", "sd"), (False, True, True)) + "</div>",
        "</div>",
        "<h3>Material and setpoints at the start of the run"
        + (f" ({n_changes} scheduled change{'s' if n_changes != 1 else ''}, see the event log)" if n_changes else "")
        + "</h3>",
        table_html(setting_rows, ("config key", "value", "unit", "meaning"), (False, True, False, False)),
    ])
    caption = ("What ran and what came out. The scrap rate is the share of cycles with at least one defect; its "
               "95 % confidence interval (Wilson score) tells how far the true rate of this setup may lie from the "
               "observed one given the number of cycles. A part can show several defects: <i>primary defect</i> "
               "counts each part once under its most severe defect (short shot &gt; flash &gt; burn marks &gt; "
               "warpage &gt; sink marks), <i>parts with it</i> counts every part that shows the defect. Means and "
               "standard deviations are over all completed cycles, good and defective.")
    return Section(SECTION_TITLES[0], caption, body, _anchor(SECTION_TITLES[0]))


def _cycle_time_section(data: RunData) -> Section:
    caption = ("Each dot is one completed cycle (mold close to robot take-out), plotted at its start time. Red "
               "shading marks breakdowns (from the failure to the end of the repair, including any wait for the "
               "operator), amber shading maintenance stops; dashed purple lines are setpoint changes and dotted "
               "green lines material-lot changes. Hover over the triangles at the top for details. Cycles cut "
               "short by a breakdown are not counted; the gap they leave shows as a shaded stop.")
    if len(set(data.cycles.machine_id.tolist())) > 1:
        caption += (" With several machines, a shaded stop may concern only one of them: the triangle's tooltip "
                    "names the machine.")
    body = figure_html(cycle_time_figure(data), "fig-cycle-time", 420)
    return Section(SECTION_TITLES[1], caption, body, _anchor(SECTION_TITLES[1]))


def _defect_section(data: RunData) -> Section:
    bin_s = choose_bin_seconds(data.span_s)
    width = f"{bin_s // 60} min" if bin_s % 60 == 0 and bin_s < 3600 else (
        f"{bin_s / 3600:g} h" if bin_s >= 3600 else f"{bin_s} s")
    none = "" if (~data.cycles.good).any() else " <b>No defective part was produced in this run.</b>"
    caption = (f"Share of the cycles started in each {width} bin that were scrapped, stacked by primary defect: the "
               "height of a stack is the scrap rate of that bin, the dashed line the scrap rate of the whole run. "
               "Bins with few cycles (around a stop) are noisy; hover for the counts. Look for defects that "
               f"cluster after a lot change, a restart or a setpoint change.{none}")
    body = figure_html(defect_rate_figure(data, bin_s), "fig-defect-rate", 400)
    return Section(SECTION_TITLES[2], caption, body, _anchor(SECTION_TITLES[2]))


def _weight_section(data: RunData) -> Section:
    caption = ("Part weight is the most direct measure of how well the cavity was filled and packed. Good parts "
               "are blue-grey, defective parts coloured by their primary defect. The band is the mean ± 3 standard "
               "deviations of the good parts: a drift of the good parts towards its edge (mold warm-up after a "
               "restart, a new material lot, check-ring wear) comes before the scrap. Stops and changes are marked "
               "as in the cycle-time plot.")
    body = figure_html(part_weight_figure(data), "fig-part-weight", 440)
    return Section(SECTION_TITLES[3], caption, body, _anchor(SECTION_TITLES[3]))


def _curves_section(data: RunData) -> Section:
    title = SECTION_TITLES[4]
    if data.curves_path is None:
        note = ('<p class="note">Sensor curves were not recorded for this run (<code>curves.enabled = false</code>), '
                "so there are no example curves. Re-run with <code>--set curves.enabled=true</code> to get them."
                "</p>")
        return Section(title, "", note, _anchor(title))
    good_idx, bad_idx = example_cycles(data.cycles)
    c = data.cycles
    keys = [(str(c.machine_id[i]), int(c.cycle_id[i])) for i in good_idx + bad_idx]
    curves = read_curves(data.curves_path, keys, list(CURVE_CHANNELS))
    picked = []
    if good_idx:
        picked.append(f"the first {len(good_idx)} good cycle{'s' if len(good_idx) != 1 else ''} (blues)")
    if bad_idx:
        picked.append(f"the first {len(bad_idx)} defective cycle{'s' if len(bad_idx) != 1 else ''} (reds, defect "
                      "type in the legend)")
    missing = "".join(f" There is no {kind} cycle in this run." for kind, idx in (("good", good_idx),
                                                                                   ("defective", bad_idx)) if not idx)
    caption = (f"Sensor curves of {' and '.join(picked)}, over the time since mold close.{missing} "
               "Injection pressure rises while the screw pushes melt into the cavity and drops to the holding "
               "pressure at the V/P switchover; the cavity pressure near the gate follows it during filling and "
               "holding and decays as the part cools and the gate freezes, the sensor far from the gate rises only "
               "when the flow front arrives (a short shot never reaches it). Screw position falls during injection "
               "and stops at the cushion, then rises again while the screw doses the next shot. Click a legend "
               "entry to hide or show a cycle.")
    if not curves:
        note = '<p class="note">The selected cycles were not found in curves.parquet.</p>'
        return Section(title, caption, note, _anchor(title))
    body = figure_html(curves_figure(data, curves, good_idx, bad_idx), "fig-curves", 700)
    return Section(title, caption, body, _anchor(title))


def _event_section(data: RunData) -> Section:
    ev = data.events
    rows = []
    for k in range(min(len(ev), MAX_EVENT_ROWS)):
        dur = ev.duration_s[k]
        rows.append((str(iso_ms(ev.time_ms[k])).replace("T", " "), ev.component[k], ev.kind[k].replace("_", " "),
                     ev.detail[k], fmt(dur / 60.0, 1, "min") if np.isfinite(dur) else ""))
    more = (f" Only the first {MAX_EVENT_ROWS} of {len(ev)} events are listed; all are in events.parquet."
            if len(ev) > MAX_EVENT_ROWS else "")
    caption = ("Everything the cell logged besides the cycles, in time order (UTC): start and end of the run, "
               "breakdowns and repairs, aborted cycles, mold warm-up after restarts, setpoint and material-lot "
               f"changes and maintenance. The duration of a repair includes waiting for the operator.{more}")
    body = table_html(rows, ("time (UTC)", "where", "event", "detail", "duration"),
                      (False, False, False, False, True))
    return Section(SECTION_TITLES[5], caption, body, _anchor(SECTION_TITLES[5]))
