"""Sensor texture study: does the texture GAN make the twin's curves harder to tell from real ones?

Real curves: the Kassel upper-workpiece export (``im_kassel_cpc``, one
cycle of 2,048 samples at 10 ms; channels injection pressure, screw
position and injection flow), ingested with its mapping. The twin runs a
Kassel-like machine (a 30 mm screw, a 41 cm3 shot; ``[twin.set]``) for a
few dozen cycles, once as it is and once with the texture GAN plugged in
through ``simulate_molding(..., curve_texture=...)`` — the same seed, so
the two runs differ only in the texture.

Held-out evaluation by **cross-fitting**: the real curve is cut into
blocks of ``block_samples`` that alternate between two halves (A = even
blocks, B = odd blocks; :func:`generative.curve_windows.block_segments`).
GAN 1 trains on A and is evaluated against B, GAN 2 the other way round;
every figure pools both folds, so every real window is used for testing
exactly once and never by a GAN that trained on it.

Measured, per fold, then pooled (:mod:`generative.curve_metrics`):

* **discriminative score** |out-of-fold accuracy - 0.5| of a 1-D CNN
  that tells twin windows from real windows, with its Wilson interval:
  twin vs real and twin + texture vs real, on non-overlapping windows of
  ``eval_length`` samples, balanced per channel. Two views: ``texture``
  (window minus its low-passed part — what the GAN is responsible for)
  and ``raw`` (the whole window, shape and texture; the twin's shape is
  not the Kassel part's, so this one is not expected to drop much);
* **predictive score** (TSTR): MAE on real windows of small models
  trained on twin, on twin + texture, and on real windows (the
  reference): the texture amplitude of a window from the shape of its
  smooth part, and the next increment of the curve from its recent past.

Measured with the default spec (one torch thread, on a shared 2-core
machine under a load of ~7: 7 min, of which GANs 5.4 min, metrics 1.5 min):
texture-view discriminative score 0.349 [0.291, 0.393] for the twin
against 0.130 [0.060, 0.195] with the texture (96 windows per class);
raw view 0.068 [0, 0.136] against 0.094 [0.023, 0.161] (no difference:
at this scale the classifier barely separates either); predictive score,
texture amplitude, MAE in log units: trained on the twin 1.56 [1.21,
1.87], on twin + texture 0.42 [0.30, 0.57], on real 0.62 [0.43, 0.83];
next increment: 1.01, 1.36 and 1.32 (dominated by the few windows with
injection transients: it says little about texture).

Run: ``twinloop run scenarios/sensor_texture.toml --out DIR``. Writes
``metrics.json``, ``report.html`` (losses, example windows real / twin /
twin + texture, the scores with intervals) and the two fold models
``model_fold1.ckpt``, ``model_fold2.ckpt``.
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np

from scenarios.kassel_calibration import REPO_ROOT, _toml_value, realdata_root
from scenarios.spec import merge_spec

__all__ = ["DEFAULTS", "run", "loss_figure", "windows_figure", "training_report_html"]

CHANNELS = ["injection_pressure_bar", "screw_position_mm", "injection_flow_cm3_s"]

#: Spec keys and their defaults (the TOML may override any of them).
DEFAULTS: dict = {
    "data": {"curves": ["im_kassel_cpc/data/injection_molding/upper_workpiece/serial_data/"
                        "upper_workpiece_cycle_00001.csv"],
             "mapping": "mappings/kassel_cpc_upper_curves.toml", "channels": list(CHANNELS)},
    "windows": {"length": 128, "stride": 4, "block_samples": 256, "eval_length": 64,
                "median_samples": 5, "sigma_samples": 2.0},
    "gan": {"steps": 1200, "hidden": 32, "noise_channels": 4, "batch_size": 32, "lr_g": 2e-4, "lr_d": 4e-4,
            "n_critic": 1, "quantise": True, "seed": 0},
    "twin": {"set": {}, "cycles": 20, "seed": 7},
    "metrics": {"classifier": "cnn", "n_splits": 5, "epochs": 40, "hidden": 16, "lags": 16, "ridge_alpha": 1.0,
                "seed": 0},
    "run": {"torch_threads": 1},
}


def _twin_config(spec: dict) -> dict:
    from twin.config import load_config

    overrides = [f"{k}={_toml_value(v)}" for k, v in spec["twin"]["set"].items()]
    overrides += [f"run.seed={int(spec['twin']['seed'])}", "curves.enabled=true"]
    return load_config(None, overrides)


_PART_NAMES = {"train": "even blocks", "test": "odd blocks"}


def _fold_parts(f: int) -> tuple[str, str]:
    """(training part, test part) of fold f: fold 0 trains on the even blocks, fold 1 on the odd ones."""
    return ("train", "test") if f == 0 else ("test", "train")


def run(spec: dict, out: Path, *, progress: Callable[[int, int], None] | None = None,
        overwrite: bool = False, finalize: Callable | None = None) -> Path:
    """Run the study; returns the run folder."""
    spec = merge_spec(DEFAULTS, spec, "sensor_texture")
    import torch

    from generative.curve_smoothing import CurveSmoothing
    from generative.curve_windows import read_curves, windows_from_curves
    from generative.sensor_texture import SensorTextureGAN
    from generative.sensor_texture_adapter import SensorTextureAdapter
    from twin.ingest import ingest_curves
    from twin.runfolder import RunFolder
    from twin.simulate import simulate_molding

    RunFolder(out, overwrite=overwrite).check_target()
    w, g, tw = spec["windows"], spec["gan"], spec["twin"]
    channels = list(spec["data"]["channels"])
    smoothing = CurveSmoothing(int(w["median_samples"]), float(w["sigma_samples"]))
    steps = int(g["steps"])
    total = 2 * steps + 4
    done = 0

    def tick(k: int = 1) -> None:
        nonlocal done
        done += k
        if progress is not None:
            progress(done, total)

    threads = torch.get_num_threads()
    torch.set_num_threads(int(spec["run"]["torch_threads"]))
    timing: dict[str, float] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="twinloop-texture-") as tmp:
            tmp = Path(tmp)
            files = [realdata_root() / f for f in spec["data"]["curves"]]
            mapping = Path(spec["data"]["mapping"])
            real_dir = ingest_curves(files, mapping if mapping.is_absolute() else REPO_ROOT / mapping, tmp / "real")
            dt, real = read_curves(real_dir, channels)
            cfg = _twin_config(spec)
            twin_dt = float(cfg["curves"]["sample_interval_ms"]) / 1000.0
            if abs(twin_dt - dt) > 1e-9:
                raise ValueError(f"sensor_texture: the real curves are sampled every {dt * 1000:g} ms, the twin every "
                                 f"{twin_dt * 1000:g} ms: set curves.sample_interval_ms in [twin.set]")
            t0 = time.perf_counter()
            twin_dir = simulate_molding(cfg, tmp / "twin", cycles=int(tw["cycles"]))
            _, twin = read_curves(twin_dir, channels)
            timing["twin_s"] = time.perf_counter() - t0
            tick()
            folds = []
            for f in range(2):
                train_part, test_part = _fold_parts(f)
                train = windows_from_curves(real, dt, length=int(w["length"]), stride=int(w["stride"]),
                                            smoothing=smoothing, block_samples=int(w["block_samples"]), part=train_part)
                gan = SensorTextureGAN(steps=steps, hidden=int(g["hidden"]), noise_channels=int(g["noise_channels"]),
                                       batch_size=int(g["batch_size"]), lr_g=float(g["lr_g"]), lr_d=float(g["lr_d"]),
                                       n_critic=int(g["n_critic"]), quantise=bool(g["quantise"]))
                t0 = time.perf_counter()
                base = done
                gan.fit(train, seed=int(g["seed"]) + f, progress=lambda k, n: tick(base + k - done))
                timing[f"gan_fold{f + 1}_s"] = time.perf_counter() - t0
                t0 = time.perf_counter()
                tex_dir = simulate_molding(cfg, tmp / f"twin_textured{f + 1}", cycles=int(tw["cycles"]),
                                           curve_texture=SensorTextureAdapter(gan, f"model_fold{f + 1}.ckpt"))
                _, textured = read_curves(tex_dir, channels)
                timing[f"twin_textured_fold{f + 1}_s"] = time.perf_counter() - t0
                tick()
                folds.append({"gan": gan, "train_part": train_part, "test_part": test_part, "n_train": len(train),
                              "textured": textured})
            t0 = time.perf_counter()
            results, examples = _evaluate(spec, dt, smoothing, real, twin, folds)
            timing["metrics_s"] = time.perf_counter() - t0
            tick()
    finally:
        torch.set_num_threads(threads)

    metrics = {
        "real": {"files": list(spec["data"]["curves"]), "sample_interval_s": dt, "channels": channels,
                 "samples_per_channel": {ch: int(sum(x.size for x in real[ch])) for ch in channels}},
        "twin": {"cycles": int(tw["cycles"]), "seed": int(tw["seed"]), "set": dict(tw["set"])},
        "gan": {f"fold{f + 1}": {"trained_on": _PART_NAMES[fd["train_part"]],
                                 "tested_on": _PART_NAMES[fd["test_part"]], "training_windows": fd["n_train"],
                                 "steps": steps,
                    "final_losses": loss_summary(fd["gan"].history_), "texture_sd": fd["gan"].texture_sd_,
                    "lattice": {k: v.to_dict() for k, v in fd["gan"].lattice_.items()}}
                for f, fd in enumerate(folds)},
        **results,
        "timing_s": timing, "torch_threads": int(spec["run"]["torch_threads"]), "spec": spec,
    }
    with RunFolder(out, overwrite=overwrite) as folder:
        for f, fd in enumerate(folds):
            fd["gan"].save(folder.path(f"model_fold{f + 1}.ckpt"))
        folder.write_json("metrics.json", metrics)
        folder.write_text("report.html", _report(metrics, folds, examples))
        if finalize is not None:
            finalize(folder, metrics)
    tick()
    return Path(out)


def loss_summary(history: list[dict], n: int = 100) -> dict:
    tail = history[-n:]
    return {k: float(np.mean([h[k] for h in tail])) for k in tail[0] if k != "step"} if tail else {}


def _evaluate(spec: dict, dt: float, smoothing, real: dict, twin: dict, folds: list[dict]) -> tuple[dict, dict]:
    """Discriminative scores (two views) and predictive scores, cross-fitted; and example windows for the report."""
    from generative.curve_metrics import (CurveDiscriminativeScore, CurvePredictiveScore, balance_by_channel,
                                          window_inputs)
    from generative.curve_windows import windows_from_curves

    w, m = spec["windows"], spec["metrics"]
    L, block = int(w["eval_length"]), int(w["block_samples"])
    channels = list(real)
    twin_w = windows_from_curves(twin, dt, length=L, stride=L, smoothing=smoothing)
    sets: dict[str, dict[str, list]] = {}
    pred_train: dict[str, list] = {"twin": [], "twin_textured": [], "real": []}
    pred_test, pred_scale = [], []
    for f, fd in enumerate(folds):
        gan = fd["gan"]
        real_test = windows_from_curves(real, dt, length=L, stride=L, smoothing=smoothing, block_samples=block,
                                        part=fd["test_part"])
        real_train = windows_from_curves(real, dt, length=L, stride=max(L // 4, 1), smoothing=smoothing,
                                         block_samples=block, part=fd["train_part"])
        tex_w = windows_from_curves(fd["textured"], dt, length=L, stride=L, smoothing=smoothing)
        fd["real_test"], fd["twin_w"], fd["tex_w"] = real_test, twin_w, tex_w
        for name, syn in (("twin", twin_w), ("twin_textured", tex_w)):
            # Same generator seed and set sizes: twin and twin+texture get the windows at the same places.
            a, b = balance_by_channel(syn, real_test, np.random.default_rng(int(m["seed"]) + f))
            for view in ("texture", "raw"):
                xa = window_inputs(a, view, gan.texture_sd_ if view == "texture" else gan.spread_, gan.center_,
                                   channels)
                xb = window_inputs(b, view, gan.texture_sd_ if view == "texture" else gan.spread_, gan.center_,
                                   channels)
                sets.setdefault(f"{view}:{name}", {"syn": [], "real": []})
                sets[f"{view}:{name}"]["syn"].append(xa)
                sets[f"{view}:{name}"]["real"].append(xb)
        pred_train["twin"].append(twin_w)
        pred_train["twin_textured"].append(tex_w)
        pred_train["real"].append(real_train)
        pred_test.append(real_test)
        pred_scale.append(dict(gan.texture_sd_))
    disc: dict[str, dict] = {"texture_view": {}, "raw_view": {}}
    for key, s in sets.items():
        view, name = key.split(":")
        d = CurveDiscriminativeScore(classifier=m["classifier"], n_splits=int(m["n_splits"]), epochs=int(m["epochs"]),
                                     hidden=int(m["hidden"]), seed=int(m["seed"])).fit(s["syn"], s["real"])
        disc[f"{view}_view"][name] = d.to_dict()
    for view in disc.values():
        view["dropped"] = bool(view["twin_textured"]["score"] < view["twin"]["score"])
        view["intervals_overlap"] = bool(view["twin_textured"]["score_ci"][1] >= view["twin"]["score_ci"][0])
    pred = {task: {f"train_on_{name}": CurvePredictiveScore(task, lags=int(m["lags"]),
                                                            ridge_alpha=float(m["ridge_alpha"]), seed=int(m["seed"])
                                                            ).fit(tr, pred_test, pred_scale).to_dict()
                   for name, tr in pred_train.items()}
            for task in CurvePredictiveScore.TASKS}
    amplitude = {ch: {"real": float(np.std(np.concatenate([fd["real_test"].of_channel(ch).residual.ravel()
                                                           for fd in folds]))),
                      "twin": float(np.std(twin_w.of_channel(ch).residual)),
                      "twin_textured": float(np.std(np.concatenate([fd["tex_w"].of_channel(ch).residual.ravel()
                                                                    for fd in folds])))}
                 for ch in channels}
    results = {"discriminative": {**disc, "eval_window_samples": L, "windows": "non-overlapping, balanced per channel"},
               "predictive": {**pred, "test": "real windows of the held-out blocks (both folds pooled)"},
               "texture_sd": amplitude,
               "discriminative_score_dropped": disc["texture_view"]["dropped"]}
    return results, {"twin_w": twin_w, "folds": folds}


# -- report ---------------------------------------------------------------------------------------

_COLORS = {"real": "#1f77b4", "twin": "#7f7f7f", "twin_textured": "#d62728", "generated": "#d62728",
           "smooth": "#2ca02c"}


def loss_figure(histories: dict[str, list[dict]], smooth_steps: int = 25):
    """Plotly figure of the GAN losses per step (rolling mean), one colour per run, one panel per loss."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    keys = ("d_loss", "g_loss", "texture_sd_ratio")
    fig = make_subplots(rows=1, cols=3, subplot_titles=("critic hinge loss", "generator loss",
                                                        "texture sd: generated / real"))
    palette = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd")
    for r, (name, hist) in enumerate(histories.items()):
        if not hist:
            continue
        step = np.array([h["step"] for h in hist])
        for c, k in enumerate(keys):
            v = np.array([h.get(k, np.nan) for h in hist], dtype=float)
            k_w = max(1, min(smooth_steps, v.size))
            sm = np.convolve(v, np.ones(k_w) / k_w, mode="valid")
            fig.add_trace(go.Scatter(x=step[k_w - 1:], y=sm, name=name, legendgroup=name, showlegend=c == 0,
                                     line={"color": palette[r % len(palette)]}), row=1, col=c + 1)
    fig.update_xaxes(title_text="step")
    fig.update_layout(margin={"t": 40, "b": 40})
    return fig


def windows_figure(panels: list[tuple[str, dict[str, np.ndarray]]], dt_s: float, cols: int = 2):
    """Plotly grid of example windows: ``panels`` = [(title, {"real"|"twin"|"twin_textured"|"smooth": values})]."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    rows = (len(panels) + cols - 1) // cols
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=[t for t, _ in panels])
    shown = set()
    for i, (_, series) in enumerate(panels):
        for name, y in series.items():
            y = np.asarray(y, dtype=float)
            fig.add_trace(go.Scatter(x=np.arange(y.size) * dt_s, y=y, name=name.replace("_", " + "), legendgroup=name,
                                     showlegend=name not in shown, line={"color": _COLORS.get(name), "width": 1.3}),
                          row=i // cols + 1, col=i % cols + 1)
            shown.add(name)
    fig.update_xaxes(title_text="s from window start")
    fig.update_layout(margin={"t": 40, "b": 40})
    return fig


def _active_index(windows, ch: str, quantile: float) -> int:
    """Index (into ``windows``) of the window of ``ch`` whose total |slope| is at ``quantile`` of its channel."""
    idx = np.flatnonzero(windows.channel == ch)
    act = np.abs(np.diff(windows.condition[idx], axis=1)).sum(axis=1)
    return int(idx[np.argsort(act, kind="stable")[int(round(quantile * (idx.size - 1)))]])


def _example_panels(examples: dict, quantile: float) -> list:
    folds = examples["folds"]
    fd = folds[0]
    panels = []
    for ch in fd["gan"].channels_:
        i = _active_index(fd["real_test"], ch, quantile)
        panels.append((f"{ch}: real (held out)", {"real": fd["real_test"].target[i],
                                                  "smooth": fd["real_test"].condition[i]}))
        j = _active_index(fd["twin_w"], ch, quantile)
        panels.append((f"{ch}: twin and twin + texture", {"twin": fd["twin_w"].target[j],
                                                          "twin_textured": fd["tex_w"].target[j]}))
    return panels


def _report(metrics: dict, folds: list[dict], examples: dict) -> str:
    import plotly.graph_objects as go

    from scenarios.report_html import Section, esc, figure_html, fmt, page_html, table_html

    disc, pred = metrics["discriminative"], metrics["predictive"]
    rows = []
    for view in ("texture_view", "raw_view"):
        for name in ("twin", "twin_textured"):
            d = disc[view][name]
            rows.append([view.replace("_view", ""), name.replace("_", " + "), fmt(d["score"]),
                         f"[{fmt(d['score_ci'][0])}, {fmt(d['score_ci'][1])}]", fmt(d["accuracy"]), fmt(d["auc"]),
                         d["n_per_class"]])
    disc_table = table_html(rows, ["view", "synthetic set", "score", "95 % CI", "accuracy", "AUC", "windows per class"],
                            [False, False, True, True, True, True, True])
    bars = go.Figure()
    for name, color in (("twin", _COLORS["twin"]), ("twin_textured", _COLORS["twin_textured"])):
        s = [disc[v][name]["score"] for v in ("texture_view", "raw_view")]
        lo = [disc[v][name]["score"] - disc[v][name]["score_ci"][0] for v in ("texture_view", "raw_view")]
        hi = [disc[v][name]["score_ci"][1] - disc[v][name]["score"] for v in ("texture_view", "raw_view")]
        bars.add_trace(go.Bar(x=["texture view", "raw view"], y=s, name=name.replace("_", " + "), marker_color=color,
                              error_y={"type": "data", "symmetric": False, "array": hi, "arrayminus": lo}))
    bars.update_layout(yaxis_title="|accuracy - 0.5|", yaxis_range=[0, 0.55], barmode="group")
    prow = []
    for task in ("texture_amplitude", "next_increment"):
        for name in ("twin", "twin_textured", "real"):
            p = pred[task][f"train_on_{name}"]
            prow.append([task.replace("_", " "), name.replace("_", " + "), fmt(p["mae"], 3),
                         f"[{fmt(p['mae_ci'][0], 3)}, {fmt(p['mae_ci'][1], 3)}]"]
                        + [fmt(p["per_channel"][ch]["mae"], 3) for ch in sorted(p["per_channel"])])
    chans = sorted(pred["texture_amplitude"]["train_on_twin"]["per_channel"])
    pred_table = table_html(prow, ["task", "trained on", "MAE", "95 % CI"] + [f"MAE {c}" for c in chans],
                            [False, False] + [True] * (2 + len(chans)))
    amp = metrics["texture_sd"]
    amp_table = table_html([[ch, fmt(v["real"], 4), fmt(v["twin"], 4), fmt(v["twin_textured"], 4)]
                            for ch, v in amp.items()],
                           ["channel", "real (held out)", "twin", "twin + texture"], [False, True, True, True])
    losses = figure_html(loss_figure({f"fold {f + 1}": fd["gan"].history_ for f, fd in enumerate(folds)}),
                         "losses", 340)
    dt = metrics["real"]["sample_interval_s"]
    ex_active = figure_html(windows_figure(_example_panels(examples, 0.9), dt), "examples_active", 720)
    ex_calm = figure_html(windows_figure(_example_panels(examples, 0.3), dt), "examples_calm", 720)
    timing = ", ".join(f"{k} {v:.0f} s" for k, v in metrics["timing_s"].items())
    t = metrics["discriminative"]["texture_view"]
    verdict = ("dropped" if t["dropped"] else "did not drop")
    sections = [
        Section("Discriminative score", (
            f"A 1-D CNN learns to tell synthetic from real windows of {disc['eval_window_samples']} samples "
            f"(non-overlapping, balanced per channel, 5-fold out-of-fold, both cross-fitting folds pooled). "
            f"<b>Texture view</b>: window minus its low-passed part. With the texture GAN the score "
            f"<b>{verdict}</b>: {fmt(t['twin']['score'])} → {fmt(t['twin_textured']['score'])}. "
            f"<b>Raw view</b>: the whole window; the twin's curve shape is not the Kassel part's, which no texture "
            f"model can fix."), disc_table + figure_html(bars, "disc_bars", 340), "disc"),
        Section("Predictive score (train on synthetic, test on real)", (
            "Per channel, a small model trained on each set and scored by MAE on the held-out real windows. "
            "<b>Texture amplitude</b>: predict log(texture sd) of a window from the shape of its smooth part "
            "(MAE in natural-log units; 0.7 = a factor 2 off). <b>Next increment</b>: ridge model of the next "
            "step from the 16 previous samples (level-free; MAE in units of the channel's texture sd), dominated "
            "by the few windows with fast transients, so it mostly measures shape dynamics. Close to the "
            "train-on-real row = the synthetic curves carry the real structure."), pred_table, "pred"),
        Section("Texture amplitude", "Standard deviation of window minus low-passed window, per channel.",
                amp_table, "amp"),
        Section("Example windows: active phase", (
            "Left: a held-out real window and its low-passed part; right: a twin window without and with the "
            "learned texture (same cycle, same span: the runs share their seed)."), ex_active, "ex_active"),
        Section("Example windows: calm phase", "As above, windows where the curves move little.", ex_calm,
                "ex_calm"),
        Section("GAN training", (
            "Per fold: hinge losses and the ratio of generated to real texture amplitude per batch "
            f"(rolling mean of 25 steps). Time: {esc(timing)}."), losses, "losses"),
    ]
    return page_html("Sensor texture GAN: twin vs real curves",
                     f"Kassel upper-workpiece curve, {len(metrics['real']['channels'])} channels at "
                     f"{metrics['real']['sample_interval_s'] * 1000:g} ms; twin {metrics['twin']['cycles']} cycles.",
                     sections)


def training_report_html(model, data, title: str, n_examples: int = 6, seed: int = 0) -> str:
    """Report of one training run (``twinloop train gan sensor``): losses and real vs generated windows."""
    from scenarios.report_html import Section, figure_html, fmt, page_html, table_html

    panels = []
    for ch in model.channels_:
        idx = np.flatnonzero(data.channel == ch)
        pick = idx[np.linspace(0, idx.size - 1, min(n_examples // 2 or 1, idx.size)).round().astype(int)]
        sub = data.select(pick)
        gen = model.sample(len(sub), condition=sub, seed=seed)
        for k in range(len(sub)):
            panels.append((f"{ch} #{int(pick[k])}", {"real": sub.target[k], "smooth": sub.condition[k],
                                                     "generated": gen[k]}))
    tab = table_html([[ch, fmt(model.texture_sd_[ch], 4), fmt(model.lattice_[ch].step, 5)] for ch in model.channels_],
                     ["channel", "texture sd (channel units)", "lattice step"], [False, True, True])
    sections = [
        Section("Losses", "Hinge losses and generated / real texture amplitude per batch (rolling mean of 25 steps).",
                figure_html(loss_figure({"training": model.history_}), "losses", 340), "losses"),
        Section("Windows", ("Training windows: the logged curve (real), its low-passed part (smooth, the "
                            "condition) and the GAN's textured version of the same condition (generated)."),
                figure_html(windows_figure(panels, model.dt_s_), "windows", 260 * ((len(panels) + 1) // 2)), "windows"),
        Section("Per channel", "What the model learned from the data besides the networks.", tab, "channels"),
    ]
    return page_html(title, f"{model.step_} steps, {len(data)} training windows of {model.window_samples_} samples",
                     sections)
