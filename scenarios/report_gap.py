"""The sim-to-real gap report: ``metrics.json`` and a self-contained ``report.html``.

Two entry points:

* :func:`build_gap_report` ``(gap) -> str``: the HTML page of a fitted
  :class:`learners.gap.SimRealGap` (plotly.js embedded once, opens offline);
* :func:`write_gap_run` ``(gap, out)``: ``metrics.json`` (``gap.to_dict()``)
  and ``report.html`` written into the run folder ``out`` atomically
  (:class:`twin.runfolder.RunFolder`). ``twinloop gap`` calls it.

Sections, in order: the verdict in plain words with the key numbers; the
per-feature table sorted by Wasserstein distance in real standard
deviations; overlaid histograms and ECDFs of sim and real per feature; the
multivariate tests (MMD null distribution with the observed value, C2ST
ROC curve); the sensor curves (mean profiles, curve-feature table,
discriminative score) when both sets have them; inputs and settings
(what was dropped and why).

The page is a pure function of the fitted object: fixed ``div`` ids, bins
and thinned curves computed here (no raw data handed to plotly), no
timestamps of its own creation. Same inputs and seed, byte-identical HTML.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from learners.gap.analysis import SimRealGap
from physics.molding.channels import CHANNEL_UNITS
from scenarios.report_html import Section, esc, figure_html, page_html, table_html
from twin.runfolder import RunFolder, json_text

__all__ = ["build_gap_report", "write_gap_run", "REPORT_NAME", "METRICS_NAME", "SECTION_TITLES"]

REPORT_NAME = "report.html"
METRICS_NAME = "metrics.json"

#: Section titles, in page order (tests look for them).
SECTION_TITLES: tuple[str, ...] = ("Verdict", "Per-feature gap", "Distributions", "Multivariate tests",
                                   "Sensor curves", "Inputs and settings")

SIM_COLOR = "#e6550d"
REAL_COLOR = "#3182bd"
#: At most this many features get a histogram / ECDF panel (the largest gaps first).
MAX_PANELS = 12
#: At most this many curve channels in the profile figure, and rows in the curve-feature table.
MAX_CHANNELS = 6
MAX_CURVE_ROWS = 20

_LAYOUT = dict(template="plotly_white", margin=dict(l=60, r=20, t=50, b=40), hoverlabel=dict(namelength=-1),
               legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="left", x=0))


def write_gap_run(gap: SimRealGap, out: Path | str, overwrite: bool = False) -> Path:
    """Write ``metrics.json`` and ``report.html`` of ``gap`` into the run folder ``out`` (atomically)."""
    metrics = gap.to_dict()
    html = build_gap_report(gap)
    with RunFolder(Path(out), overwrite=overwrite) as run:
        run.write_text(METRICS_NAME, json_text(metrics))
        run.write_text(REPORT_NAME, html)
    return Path(out)


def build_gap_report(gap: SimRealGap) -> str:
    """The report of a fitted :class:`SimRealGap` as one self-contained HTML string."""
    sections = [_verdict_section(gap), _table_section(gap), _distribution_section(gap),
                _multivariate_section(gap), _curves_section(gap), _inputs_section(gap)]
    title = "Sim-to-real gap report"
    subtitle = esc(f"sim: {gap.sim_name_} · real: {gap.real_name_} · {len(gap.selection_.features)} features · "
                   f"seed {gap.seed}")
    footer = esc("twinloop gap. Computed from the two record sets alone; the same inputs and seed always give "
                 "the same page. metrics.json holds every number shown here.")
    return page_html(title, subtitle, sections, footer)


# -- formatting ----------------------------------------------------------------

def _anchor(title: str) -> str:
    return "gap-" + title.lower().replace(" ", "-")


def _num(v: object, digits: int = 4) -> str:
    """A number with ``digits`` significant digits; '—' for None/NaN."""
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "—"
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        return f"{int(v):,d}"
    return f"{float(v):.{digits}g}"


def _p(v: float | None) -> str:
    """A p-value: 3 significant digits, scientific below 1e-4."""
    if v is None:
        return "—"
    return f"{v:.2e}" if v < 1e-4 else f"{v:.3g}"


def _ci(ci: list | tuple | None, digits: int = 3) -> str:
    return "—" if ci is None else f"{ci[0]:.{digits}f} – {ci[1]:.{digits}f}"


def _label(name: str) -> str:
    return name.replace("__", ": ").replace("_", " ")


# -- sections ------------------------------------------------------------------

def _key_rows(gap: SimRealGap) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    conf = f"{100 * (1 - gap.alpha):g} %"
    if gap.mmd_ is not None:
        m = gap.mmd_
        rows += [("MMD² (unbiased, RBF)", _num(m.mmd2_), f"bandwidth {_num(m.bandwidth_, 3)} (median heuristic), "
                  f"{m.n_sim_} sim / {m.n_real_} real rows" + (", subsampled" if m.subsampled_ else "")),
                 ("MMD permutation p-value", _p(m.p_value_), f"{gap.n_perm} permutations; smallest possible "
                  f"{_p(1 / (1 + gap.n_perm))}")]
    else:
        rows.append(("MMD", "—", gap.skipped_.get("mmd", "")))
    if gap.c2st_ is not None:
        c = gap.c2st_
        rows += [("C2ST AUC", f"{c.auc_:.3f}", f"{conf} CI {_ci(c.auc_ci_)} (DeLong); classifier "
                  f"{c.classifier_name_}, {c.n_splits_}-fold, {c.n_per_class_} rows per class"),
                 ("C2ST accuracy", f"{c.accuracy_:.3f}", f"{conf} CI {_ci(c.accuracy_ci_)} (Wilson); binomial p "
                  f"{_p(c.accuracy_p_value_)}")]
    else:
        rows.append(("C2ST", "—", gap.skipped_.get("c2st", "")))
    cg = gap.curves_
    if cg is not None and cg.discriminative is not None:
        d = cg.discriminative
        rows.append(("Discriminative score (raw curves)", f"{d.score_:.3f}",
                     f"{conf} CI {_ci(d.score_ci_)}; |accuracy − 0.5|, {len(cg.channels)} channels, {cg.grid}"))
    return rows


def _verdict_section(gap: SimRealGap) -> Section:
    body = (f'<p class="note">{esc(gap.verdict_["text"])}</p>'
            + table_html(_key_rows(gap), ("measure", "value", "details"), (False, True, False)))
    caption = ("How to read it. <b>C2ST AUC</b>: a classifier is trained to tell sim cycles from real ones and "
               "scored on cycles it did not see; 0.5 means it cannot tell them apart, 1 means it always can. "
               "<b>MMD p-value</b>: how often a difference as large as the observed one would appear if sim and "
               "real came from one distribution; small = a difference exists. It says nothing about how large the "
               "difference is (with thousands of cycles, tiny differences are significant) and a large p does not "
               "prove the twin right (with few cycles, large differences can hide). <b>Discriminative score</b>: "
               "|accuracy − 0.5| of a classifier on the raw sensor curves, 0 = indistinguishable, 0.5 = always "
               "told apart.")
    return Section(SECTION_TITLES[0], caption, body, _anchor(SECTION_TITLES[0]))


_TABLE_HEADER = ("feature", "n sim", "n real", "mean sim", "mean real", "sd sim", "sd real", "Wasserstein",
                 "W / sd real", "KS D", "KS p", "KS p (BH)")


def _feature_rows(rows: list[dict]) -> list[tuple]:
    return [(r["feature"], _num(r["n_sim"]), _num(r["n_real"]), _num(r["mean_sim"]), _num(r["mean_real"]),
             _num(r["sd_sim"]), _num(r["sd_real"]), _num(r["wasserstein"]), _num(r["wasserstein_per_real_sd"], 3),
             _num(r["ks_statistic"], 3), _p(r["ks_p_value"]), _p(r["ks_p_value_bh"])) for r in rows]


def _table_section(gap: SimRealGap) -> Section:
    if not gap.per_feature_:
        return Section(SECTION_TITLES[1], "", '<p class="note">No feature to compare.</p>',
                       _anchor(SECTION_TITLES[1]))
    body = table_html(_feature_rows(gap.per_feature_), _TABLE_HEADER, (False,) + (True,) * 11)
    caption = ("One row per feature, the largest gap first. <b>Wasserstein</b> is the area between the two "
               "cumulative distributions, in the feature's unit: how far, on average, values must move to turn "
               "the sim distribution into the real one (a pure shift of the mean by 0.3 g gives 0.3 g). <b>W / sd "
               "real</b> is the same in standard deviations of the real data, comparable across features: below "
               "0.1 small, around 1 the sim sits a whole real spread away. <b>KS D</b> is the largest gap between "
               "the two cumulative distributions (0–1) and <b>KS p</b> its two-sample Kolmogorov–Smirnov p-value, "
               "which assumes independent cycles; <b>BH</b> adjusts it for testing many features at once "
               "(Benjamini–Hochberg: features with BH p &lt; 0.05 are different with at most 5 % false "
               "discoveries expected among them). Each feature uses all its non-missing values.")
    return Section(SECTION_TITLES[1], caption, body, _anchor(SECTION_TITLES[1]))


def _panel_features(gap: SimRealGap) -> list[int]:
    order = [gap.selection_.features.index(r["feature"]) for r in gap.per_feature_]
    return order[:MAX_PANELS]


def _grid(n: int) -> tuple[int, int]:
    cols = min(3, max(n, 1))
    return int(math.ceil(max(n, 1) / cols)), cols


def _hist_figure(gap: SimRealGap, idx: list[int]) -> go.Figure:
    names = gap.selection_.features
    rows, cols = _grid(len(idx))
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=[_label(names[j]) for j in idx],
                        vertical_spacing=0.5 / rows, horizontal_spacing=0.07)
    for k, j in enumerate(idx):
        s, r = gap.X_sim_[:, j], gap.X_real_[:, j]
        s, r = s[np.isfinite(s)], r[np.isfinite(r)]
        both = np.concatenate([s, r])
        if both.size == 0:
            continue
        lo, hi = float(both.min()), float(both.max())
        if hi <= lo:
            hi = lo + max(abs(lo) * 1e-6, 1e-9)
        edges = np.linspace(lo, hi, 31)
        centres = 0.5 * (edges[:-1] + edges[1:])
        for vals, name, color in ((s, "sim", SIM_COLOR), (r, "real", REAL_COLOR)):
            dens, _ = np.histogram(vals, bins=edges, density=True) if vals.size else (np.zeros(30), None)
            fig.add_trace(go.Bar(x=centres, y=dens, width=edges[1] - edges[0], name=name, legendgroup=name,
                                 showlegend=k == 0, marker=dict(color=color, line=dict(width=0)), opacity=0.55,
                                 hovertemplate=f"{name}: %{{x:.4g}}: density %{{y:.3g}}<extra></extra>"),
                          row=k // cols + 1, col=k % cols + 1)
    fig.update_layout(**_LAYOUT, barmode="overlay", bargap=0)
    return fig


def _ecdf_xy(v: np.ndarray, max_points: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """ECDF as a step curve, thinned to at most ``max_points`` quantiles."""
    v = np.sort(v[np.isfinite(v)])
    if v.size == 0:
        return np.zeros(0), np.zeros(0)
    p = np.arange(1, v.size + 1) / v.size
    if v.size > max_points:
        take = np.unique(np.linspace(0, v.size - 1, max_points).round().astype(int))
        v, p = v[take], p[take]
    return v, p


def _ecdf_figure(gap: SimRealGap, idx: list[int]) -> go.Figure:
    names = gap.selection_.features
    rows, cols = _grid(len(idx))
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=[_label(names[j]) for j in idx],
                        vertical_spacing=0.5 / rows, horizontal_spacing=0.07)
    for k, j in enumerate(idx):
        for X, name, color in ((gap.X_sim_, "sim", SIM_COLOR), (gap.X_real_, "real", REAL_COLOR)):
            x, p = _ecdf_xy(X[:, j])
            fig.add_trace(go.Scatter(x=x, y=p, mode="lines", line=dict(color=color, width=1.6, shape="hv"),
                                     name=name, legendgroup=name, showlegend=k == 0,
                                     hovertemplate=f"{name}: %{{x:.4g}}: %{{y:.3f}}<extra></extra>"),
                          row=k // cols + 1, col=k % cols + 1)
    fig.update_layout(**_LAYOUT)
    fig.update_yaxes(range=[0, 1.02])
    return fig


def _distribution_section(gap: SimRealGap) -> Section:
    idx = _panel_features(gap)
    if not idx:
        return Section(SECTION_TITLES[2], "", '<p class="note">No feature to plot.</p>', _anchor(SECTION_TITLES[2]))
    rows, _ = _grid(len(idx))
    more = (f" Only the {MAX_PANELS} features with the largest gaps are shown (of {len(gap.selection_.features)})."
            if len(gap.selection_.features) > MAX_PANELS else "")
    caption = ("Sim (orange) and real (blue) per feature, in the order of the table: histograms as densities on "
               "common bins, then the empirical cumulative distributions. A horizontal offset between the ECDFs "
               "is a shift of level; a different slope is a different spread. The largest vertical distance "
               f"between the ECDFs is the KS statistic D; the area between them is the Wasserstein distance.{more}")
    height = 220 * rows + 80
    body = (figure_html(_hist_figure(gap, idx), "fig-gap-hist", height)
            + figure_html(_ecdf_figure(gap, idx), "fig-gap-ecdf", height))
    return Section(SECTION_TITLES[2], caption, body, _anchor(SECTION_TITLES[2]))


def _mmd_figure(gap: SimRealGap) -> go.Figure:
    m = gap.mmd_
    null = np.asarray(m.null_)
    lo = float(min(null.min(), m.mmd2_))
    hi = float(max(null.max(), m.mmd2_))
    edges = np.linspace(lo, hi if hi > lo else lo + 1e-12, 41)
    counts, _ = np.histogram(null, bins=edges)
    fig = go.Figure(go.Bar(x=0.5 * (edges[:-1] + edges[1:]), y=counts, width=edges[1] - edges[0],
                           marker=dict(color="#9aa8b8", line=dict(width=0)), name="MMD² of permuted labels",
                           hovertemplate="%{x:.3g}: %{y} permutations<extra></extra>"))
    fig.add_vline(x=m.mmd2_, line=dict(color="#d62728", width=2))
    fig.add_trace(go.Scatter(x=[m.mmd2_, m.mmd2_], y=[0, float(counts.max()) if counts.size else 1.0], mode="lines",
                             line=dict(color="#d62728", width=2), name=f"observed MMD² = {m.mmd2_:.3g}",
                             hoverinfo="skip"))
    fig.update_layout(**_LAYOUT, bargap=0, xaxis=dict(title="MMD²"), yaxis=dict(title="permutations"))
    return fig


def _roc_figure(gap: SimRealGap) -> go.Figure:
    c = gap.c2st_
    fpr, tpr = c.roc_
    if fpr.size > 300:
        take = np.unique(np.linspace(0, fpr.size - 1, 300).round().astype(int))
        fpr, tpr = fpr[take], tpr[take]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", line=dict(color="#9aa8b8", dash="dash", width=1),
                             name="chance (AUC 0.5)", hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=fpr, y=tpr, mode="lines", line=dict(color="#1d2733", width=2, shape="hv"),
                             name=f"out-of-fold ROC, AUC {c.auc_:.3f}",
                             hovertemplate="sim called real %{x:.3f}<br>real called real %{y:.3f}<extra></extra>"))
    fig.update_layout(**_LAYOUT, xaxis=dict(title="false-positive rate (sim rows scored as real)", range=[0, 1]),
                      yaxis=dict(title="true-positive rate (real rows scored as real)", range=[0, 1.02],
                                 scaleanchor="x"))
    return fig


def _multivariate_section(gap: SimRealGap) -> Section:
    title = SECTION_TITLES[3]
    if gap.mmd_ is None or gap.c2st_ is None:
        note = f'<p class="note">Skipped: {esc(gap.skipped_.get("mmd", "not computed"))}.</p>'
        return Section(title, "", note, _anchor(title))
    m = gap.mmd_
    caption = ("All features at once, on the cycles complete in every feature. <b>Top:</b> the MMD permutation "
               "test. The grey histogram is MMD² after shuffling the sim/real labels (what MMD² looks like when "
               "there is no difference), the red line the observed value; the p-value is the share of shuffles "
               f"at or above it (+1 correction). Features are standardised first ({esc(m.scale_)}). "
               "<b>Below:</b> the ROC curve of the classifier two-sample test, from out-of-fold predictions: the "
               "closer to the diagonal, the harder sim and real are to tell apart. Its confidence interval "
               "(DeLong) counts only the finite number of scored cycles, so it is somewhat too narrow; with two "
               "samples of one distribution cross-validated AUCs scatter slightly below 0.5.")
    body = figure_html(_mmd_figure(gap), "fig-gap-mmd-null", 340) + figure_html(_roc_figure(gap), "fig-gap-roc", 420)
    return Section(title, caption, body, _anchor(title))


def _profile_figure(gap: SimRealGap, channels: list[str]) -> go.Figure:
    cg = gap.curves_
    rows, cols = _grid(len(channels))
    titles = [f"{_label(ch)} ({CHANNEL_UNITS.get(ch, '')})".replace(" ()", "") for ch in channels]
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=titles, vertical_spacing=0.5 / rows,
                        horizontal_spacing=0.07)
    for k, ch in enumerate(channels):
        prof = cg.profiles[ch]
        x = np.linspace(0.0, 1.0, prof["sim_mean"].size)
        for side, name, color, fill in (("sim", "sim", SIM_COLOR, "rgba(230,85,13,0.15)"),
                                        ("real", "real", REAL_COLOR, "rgba(49,130,189,0.15)")):
            mu, sd = prof[f"{side}_mean"], prof[f"{side}_sd"]
            pos = dict(row=k // cols + 1, col=k % cols + 1)
            fig.add_trace(go.Scatter(x=np.concatenate([x, x[::-1]]), y=np.concatenate([mu + sd, (mu - sd)[::-1]]),
                                     fill="toself", fillcolor=fill, line=dict(width=0), hoverinfo="skip",
                                     name=f"{name} ± 1 sd", legendgroup=f"{name}-band", showlegend=k == 0), **pos)
            fig.add_trace(go.Scatter(x=x, y=mu, mode="lines", line=dict(color=color, width=1.6),
                                     name=f"{name} mean", legendgroup=name, showlegend=k == 0,
                                     hovertemplate=f"{name}: %{{y:.4g}}<extra></extra>"), **pos)
    xtitle = "fraction of the cycle" if "own duration" in cg.grid else "fraction of the time window"
    fig.update_xaxes(title_text=xtitle, row=rows)
    fig.update_layout(**_LAYOUT)
    return fig


def _curves_section(gap: SimRealGap) -> Section:
    title = SECTION_TITLES[4]
    cg = gap.curves_
    if cg is None:
        note = f'<p class="note">No curve metrics: {esc(gap.skipped_.get("curves", "curves were not requested"))}.</p>'
        return Section(title, "", note, _anchor(title))
    channels = [ch for ch, _ in sorted(cg.channel_gap.items(), key=lambda kv: (-(kv[1] if math.isfinite(kv[1])
                                                                                else -1.0), kv[0]))][:MAX_CHANNELS]
    conf = f"{100 * (1 - gap.alpha):g} %"
    rows = []
    if cg.mmd is not None and cg.c2st is not None:
        rows += [("curve features: MMD permutation p-value", _p(cg.mmd.p_value_),
                  f"MMD² {_num(cg.mmd.mmd2_)}, {len(cg.selection.features)} features"),
                 ("curve features: C2ST AUC", f"{cg.c2st.auc_:.3f}", f"{conf} CI {_ci(cg.c2st.auc_ci_)}")]
    else:
        rows.append(("curve features", "—", cg.skipped.get("mmd", "")))
    if cg.discriminative is not None:
        d = cg.discriminative
        rows.append(("raw curves: discriminative score", f"{d.score_:.3f}",
                     f"{conf} CI {_ci(d.score_ci_)}; accuracy {d.accuracy_:.3f}, AUC {d.auc_:.3f}, "
                     f"{d.n_per_class_} curves per class"))
    rows.append(("cycles used (sim / real)", f"{cg.n_cycles['sim']} / {cg.n_cycles['real']}",
                 f"of {cg.n_available['sim']} / {cg.n_available['real']} available"))
    table = table_html(rows, ("measure", "value", "details"), (False, True, False))
    feat_table = table_html(_feature_rows(cg.per_feature[:MAX_CURVE_ROWS]), _TABLE_HEADER, (False,) + (True,) * 11)
    caption = (f"The {len(cg.channels)} channels present in both sets. Per cycle and channel, features (max, min, "
               "mean, sd, time of the max, integral, time above half range, last value) go through the same "
               "per-feature and multivariate tests as the scalar features; the raw curves, resampled onto "
               f"{esc(cg.grid)}, go to a classifier whose |accuracy − 0.5| is the discriminative score "
               "(TimeGAN convention). The plot shows the mean curve ± 1 sd of each set for the channels whose "
               f"mean curves differ most (in pooled sds, averaged over the grid). The table lists the "
               f"{min(MAX_CURVE_ROWS, len(cg.per_feature))} curve features with the largest gaps.")
    height = 240 * _grid(len(channels))[0] + 80
    body = (table + figure_html(_profile_figure(gap, channels), "fig-gap-curves", height)
            + "<h3>Curve features, largest gaps</h3>" + feat_table)
    return Section(title, caption, body, _anchor(title))


def _inputs_section(gap: SimRealGap) -> Section:
    d = gap.to_dict()
    rows = [("sim", gap.sim_name_, f"{gap.n_rows_['sim']:,d} rows, {gap.nan_rows_['sim']} dropped for missing values "
             "(multivariate tests)"),
            ("real", gap.real_name_, f"{gap.n_rows_['real']:,d} rows, {gap.nan_rows_['real']} dropped for missing "
             "values (multivariate tests)"),
            ("features", d["features"]["source"], ", ".join(gap.selection_.features) or "none"),
            ("standardisation (MMD)", d["settings"]["standardization_mmd"], ""),
            ("standardisation (C2ST)", d["settings"]["standardization_c2st"], ""),
            ("seed", str(gap.seed), "every subsample, permutation, fold and model seed derives from it")]
    dropped = [(name, reason) for name, reason in gap.selection_.dropped.items()]
    body = table_html(rows, ("", "value", "details"))
    if dropped:
        body += "<h3>Dropped features</h3>" + table_html(dropped, ("feature", "why"))
    if gap.curves_ is not None and gap.curves_.dropped_channels:
        body += ("<h3>Curve channels left out</h3>"
                 + table_html(list(gap.curves_.dropped_channels.items()), ("channel", "why")))
    if gap.curves_ is not None and gap.curves_.selection.dropped:
        n = len(gap.curves_.selection.dropped)
        body += (f"<h3>Dropped curve features ({n})</h3>"
                 + table_html(list(gap.curves_.selection.dropped.items()), ("curve feature", "why")))
    caption = ("What was compared. By default the features are the logged scalar features present in both sets; "
               "a feature is dropped if it is mostly missing in either set or constant (at the same value) in "
               "both. <code>hidden_*</code> simulator state is never a feature.")
    return Section(SECTION_TITLES[5], caption, body, _anchor(SECTION_TITLES[5]))
