"""Billet-stamp study, detector side: train the digit detector on the twin, read held-out billets.

The study (``billet_stamp_cgan.txt``, section 2.3) trains a Faster R-CNN on
stamped billet faces and scores it on a test set balanced between well
and partially / poorly visible stamps with TP, MC, FN, FP and CB at
IoU >= 0.5; section 4 adds that the billet ID schema, used as a prior on the
detector's output, raises the share of correctly read IDs. This scenario
does the same on the twin, on a CPU, from scratch:

1. **Data.** ``[train] runs`` and ``[test] runs`` are billet-line runs of
   the twin (:func:`twin.billet_line.simulate.simulate_billets`), each with
   its own seed and config overrides — the default training set mixes both
   camera sites, nominal and degraded stamping (low force, worn pins) and
   several caster letters, heats and years, so that letters and every
   digit position occur; the held-out set comes from other seeds, other
   heats, and half of it from degraded stamping (partial / poor characters),
   like the study's balanced test set.
2. **Training** the detector (:class:`learners.detector.DigitDetector`,
   MobileNetV3-Large FPN Faster R-CNN sized for small characters, no
   pretrained weights) for ``[detector] steps`` steps, checkpointing every
   ``checkpoint_every`` steps into ``<out>.checkpoints/``; rerunning an
   interrupted scenario with the same spec and ``--out`` resumes there.
3. **Scoring** the held-out billets: TP / MC / FN / FP / CB per visibility
   subset (:mod:`learners.detector.metrics`), and the whole ID read three
   ways (:mod:`learners.detector.evaluate`): the ordered characters alone
   (CB without the decoder), with the schema and check character, and with
   the previous ID of the same strand as well.
4. **Real-texture stand-in** (``[standin]``, when ``TWINLOOP_REALDATA`` is
   set): real ``meter_digits`` crops pasted onto real ``neu_det`` steel
   (:mod:`learners.detector.standin`) — NOT stamped billets, digits only,
   visibility classes imposed by the compositing. A second detector is
   trained and scored on it the same way (the ID decoder does not apply:
   no letters, no check character).

Run: ``twinloop run scenarios/billet_detector.toml --out DIR``. Writes
``metrics.json``, ``report.html``, ``spec.json`` (the merged spec),
``model.twl`` (the trained detector; ``twinloop evaluate detector`` reads
it), ``history.parquet`` (loss per step), ``readings.parquet`` (per
held-out billet: stamped ID, class, the three readings) and, with the
stand-in, ``standin_model.twl`` and ``standin_history.parquet``.
"""
from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Callable

from scenarios.spec import merge_spec

log = logging.getLogger(__name__)

#: Training runs of the default spec: both sites, nominal and degraded stamping, four casters.
_TRAIN_RUNS = [
    {"billets": 75, "seed": 11, "set": {"caster.code": "K", "caster.first_heat": 31875}},
    {"billets": 75, "seed": 12, "set": {"camera.site": "B", "caster.code": "R", "caster.first_heat": 20563,
                                        "run.start_time": "2021-03-01T06:00:00+00:00"}},
    {"billets": 75, "seed": 13, "set": {"stamping.force_kN": 35.0, "caster.code": "M", "caster.first_heat": 58014}},
    {"billets": 75, "seed": 14, "set": {"camera.site": "B", "stamping.pin_wear_initial": 0.7, "caster.code": "X",
                                        "caster.first_heat": 69452, "run.start_time": "2019-09-01T06:00:00+00:00"}},
    {"billets": 75, "seed": 15, "set": {"caster.code": "D", "caster.first_heat": 90127, "caster.strands": 6,
                                        "run.start_time": "2022-01-10T06:00:00+00:00"}},
    {"billets": 75, "seed": 16, "set": {"camera.site": "B", "transfer.to_stamping_s": 400.0, "caster.code": "W",
                                        "caster.first_heat": 46690}},
    {"billets": 75, "seed": 17, "set": {"stamping.force_kN": 30.0, "caster.code": "H", "caster.first_heat": 13358,
                                        "run.start_time": "2020-05-01T06:00:00+00:00"}},
    {"billets": 75, "seed": 18, "set": {"camera.site": "B", "caster.code": "Z", "caster.first_heat": 75201,
                                        "caster.strands": 8, "run.start_time": "2018-11-01T06:00:00+00:00"}},
]
#: Held-out runs: other seeds and heats; half nominal (mostly well), half degraded (partial / poor).
_TEST_RUNS = [
    {"billets": 50, "seed": 1001, "set": {"caster.first_heat": 52310}},
    {"billets": 50, "seed": 1002, "set": {"camera.site": "B", "caster.first_heat": 52340}},
    {"billets": 50, "seed": 1003, "set": {"stamping.force_kN": 35.0, "caster.first_heat": 52370}},
    {"billets": 50, "seed": 1004, "set": {"camera.site": "B", "stamping.pin_wear_initial": 0.7,
                                          "caster.first_heat": 52400}},
]

DEFAULTS: dict = {
    "twin": {"size_px": 256, "set": {}},
    "train": {"runs": _TRAIN_RUNS},
    "test": {"runs": _TEST_RUNS},
    "detector": {"model": "small_chars", "model_overrides": {}, "steps": 1200, "batch_size": 4, "lr": 1e-3,
                 "weight_decay": 1e-4, "warmup_steps": 100, "sampling": "balanced", "seed": 0, "threads": 2,
                 "score_threshold": 0.5, "checkpoint_every": 100},
    "decoder": {"top_k": 3, "max_filled": 1, "max_corrections": 1, "confident_score": 0.5, "layout_score": 0.3,
                "min_score": 0.05, "previous_bonus": 6.0, "max_previous_fixes": 2},
    "metrics": {"iou_threshold": 0.5},
    "standin": {"enabled": True, "required": False, "digits": "meter_digits/03_data_resize_all-use_for_training",
                "textures": "neu_det/IMAGES", "size_px": 192, "train_images": 400, "test_images": 150,
                "test_fraction": 0.3, "steps": 900, "seed": 5},
}


def _simulate(runs: list[dict], common: dict, size_px: int, folder: Path) -> list[tuple[Path, dict]]:
    from scenarios.kassel_calibration import _toml_value
    from twin.billet_line.simulate import simulate_billets
    from twin.config import load_config

    out = []
    for k, r in enumerate(runs):
        extra = set(r) - {"billets", "seed", "set"}
        if extra or "billets" not in r or "seed" not in r:
            raise KeyError(f"billet_detector: a run needs billets, seed and optionally set; got keys {sorted(r)}")
        changes = {**common, **r.get("set", {})}
        overrides = [f"run.seed={int(r['seed'])}", f"render.size_px={int(size_px)}"]
        overrides += [f"{key}={_toml_value(v)}" for key, v in changes.items()]
        cfg = load_config(None, overrides, kind="billets")
        out.append((simulate_billets(cfg, folder / f"run{k}", billets=int(r["billets"])), cfg))
    return out


def _decoder_for(run_dir: Path, dec: dict):
    """The ID decoder of a run: the caster letter, year and strands of its config.toml as the schema."""
    from learners.detector import BilletIdDecoder
    from learners.detector.run_schema import id_schema_of_run

    return BilletIdDecoder(id_schema_of_run(run_dir), top_k=int(dec["top_k"]), layout_score=float(dec["layout_score"]),
                           min_score=float(dec["min_score"]), max_filled=int(dec["max_filled"]),
                           max_corrections=int(dec["max_corrections"]), confident_score=float(dec["confident_score"]),
                           previous_bonus=float(dec["previous_bonus"]),
                           max_previous_fixes=int(dec["max_previous_fixes"]))


def _detector(spec_det: dict, steps: int, checkpoint: Path):
    from learners.detector import DigitDetector

    return DigitDetector(model=spec_det["model"], model_overrides=dict(spec_det["model_overrides"]) or None,
                         steps=int(steps), batch_size=int(spec_det["batch_size"]), lr=float(spec_det["lr"]),
                         weight_decay=float(spec_det["weight_decay"]), warmup_steps=int(spec_det["warmup_steps"]),
                         sampling=str(spec_det["sampling"]),
                         score_threshold=float(spec_det["score_threshold"]),
                         checkpoint_every=int(spec_det["checkpoint_every"]), checkpoint_path=checkpoint,
                         seed=int(spec_det["seed"]))


def _train(det, samples, tick: Callable[[int], None]) -> float:
    t0 = time.perf_counter()
    start = {"n": 0}

    def prog(step: int, total: int) -> None:
        tick(step - start["n"])
        start["n"] = step

    det.fit(samples, progress=prog, resume=True)
    return time.perf_counter() - t0


def run(spec: dict, out: Path, *, progress: Callable[[int, int], None] | None = None,
        overwrite: bool = False, finalize: Callable | None = None) -> Path:
    """Run the study; returns the run folder (see the module docstring)."""
    spec = merge_spec(DEFAULTS, spec, "billet_detector")
    import pyarrow as pa
    import torch

    from learners.detector import id_metrics, read_billet_images
    from learners.detector.evaluate import decode_ids
    from learners.detector.metrics import reading_metrics
    from twin.runfolder import RunFolder, finite_json

    out = Path(out)
    RunFolder(out, overwrite=overwrite).check_target()
    sd, st = spec["detector"], spec["standin"]
    standin_dirs = _standin_dirs(st) if st["enabled"] else None
    total = int(sd["steps"]) + (int(st["steps"]) if standin_dirs else 0) + 4
    done = {"n": 0}

    def tick(n: int = 1) -> None:
        done["n"] += n
        if progress:
            progress(min(done["n"], total), total)

    ckpt_dir = out.parent / f"{out.name}.checkpoints"
    ckpt_dir.mkdir(parents=True, exist_ok=True)
    threads_before = torch.get_num_threads()
    if sd["threads"]:
        torch.set_num_threads(int(sd["threads"]))
    try:
        with tempfile.TemporaryDirectory(prefix="twinloop-detector-") as tmp:
            tmp = Path(tmp)
            t0 = time.perf_counter()
            train_runs = _simulate(spec["train"]["runs"], spec["twin"]["set"], spec["twin"]["size_px"], tmp / "train")
            test_runs = _simulate(spec["test"]["runs"], spec["twin"]["set"], spec["twin"]["size_px"], tmp / "test")
            train = read_billet_images([p for p, _ in train_runs])
            tests = [(read_billet_images(p), p) for p, _ in test_runs]
            sim_seconds = time.perf_counter() - t0
            tick()
            det = _detector(sd, int(sd["steps"]), ckpt_dir / "detector.twl")
            train_seconds = _train(det, train, tick)
            t1 = time.perf_counter()
            test_all, dets_all, rows = [], [], []
            for samples, run_dir in tests:
                dets = det.predict_many(samples)
                rows += decode_ids(samples, dets, _decoder_for(run_dir, spec["decoder"]))
                test_all += samples
                dets_all += dets
            thr, iou = float(sd["score_threshold"]), float(spec["metrics"]["iou_threshold"])
            reading = reading_metrics(test_all, [d.above(thr) for d in dets_all], iou_threshold=iou)
            sweep = _threshold_sweep(test_all, dets_all, iou)
            predict_seconds = time.perf_counter() - t1
            tick()
            metrics = {
                "simulated": {
                    "train_billets": len(train), "test_billets": len(test_all),
                    "train_characters": int(sum(len(s.chars) for s in train)),
                    "real_steel_texture": _real_texture(train_runs + test_runs),
                    "train_visibility": _visibility_counts(train), "test_visibility": _visibility_counts(test_all),
                    "test_billet_classes": _class_counts(test_all),
                    "reading": reading, "reading_by_score_threshold": sweep, "ids": id_metrics(rows),
                    "final_loss": _mean_tail(det.history_, 50), "steps": int(det.step_),
                    "seconds": {"simulate": sim_seconds, "train": train_seconds, "predict_and_score": predict_seconds},
                },
                "detector": {"params": _plain(det.get_params()), "spec": det.spec_.to_dict(),
                             "threads": torch.get_num_threads()},
            }
            history = pa.Table.from_pylist(det.history_)
            readings = pa.Table.from_pylist([{k: r[k] for k in ("billet_id", "stamped_id", "strand", "class", "raw",
                                                                 "schema_check", "schema_check_previous", "how",
                                                                 "how_previous")} for r in rows])
        standin = None
        if standin_dirs:
            standin = _run_standin(st, sd, standin_dirs, ckpt_dir / "standin.twl", tick, iou)
            metrics["standin"] = standin["metrics"]
        else:
            metrics["standin"] = {"skipped": "TWINLOOP_REALDATA is not set or [standin] enabled = false"}
        metrics["seconds_total"] = time.perf_counter() - t0
        with RunFolder(out, overwrite=overwrite) as folder:
            import pyarrow.parquet as pq

            folder.write_json("spec.json", spec)
            det.save(folder.path("model.twl"))
            pq.write_table(history, folder.path("history.parquet"))
            pq.write_table(readings, folder.path("readings.parquet"))
            if standin is not None:
                standin["detector"].save(folder.path("standin_model.twl"))
                pq.write_table(pa.Table.from_pylist(standin["detector"].history_),
                               folder.path("standin_history.parquet"))
            folder.write_json("metrics.json", finite_json(metrics))
            folder.write_text("report.html", build_report(metrics, det.history_,
                                                          standin["detector"].history_ if standin else None))
            if finalize is not None:
                finalize(folder, metrics)
        tick()
    finally:
        torch.set_num_threads(threads_before)
    shutil.rmtree(ckpt_dir, ignore_errors=True)
    return out


def _standin_dirs(st: dict) -> tuple[Path, Path] | None:
    root = os.environ.get("TWINLOOP_REALDATA")
    if not root:
        if st["required"]:
            raise FileNotFoundError("billet_detector: [standin] required, but TWINLOOP_REALDATA is not set")
        log.warning("TWINLOOP_REALDATA is not set: the real-texture stand-in is skipped")
        return None
    digits, textures = Path(root) / st["digits"], Path(root) / st["textures"]
    for p in (digits, textures):
        if not p.is_dir():
            raise FileNotFoundError(f"billet_detector: {p} is not a folder (TWINLOOP_REALDATA={root})")
    return digits, textures


def _run_standin(st: dict, sd: dict, dirs: tuple[Path, Path], checkpoint: Path, tick, iou: float) -> dict:
    from learners.detector import BilletIdDecoder, compose_standin, reading_metrics
    from learners.detector.standin import list_digit_crops, list_textures, split_files

    seed = int(st["seed"])
    crops_tr, crops_te = split_files(list_digit_crops(dirs[0]), float(st["test_fraction"]), seed)
    tex_tr, tex_te = split_files(list_textures(dirs[1]), float(st["test_fraction"]), seed + 1)
    train = compose_standin(crops_tr, tex_tr, int(st["train_images"]), seed=seed, size_px=int(st["size_px"]),
                            name="standin-train")
    test = compose_standin(crops_te, tex_te, int(st["test_images"]), seed=seed + 100, size_px=int(st["size_px"]),
                           name="standin-test")
    det = _detector(sd, int(st["steps"]), checkpoint)
    seconds = _train(det, train, tick)
    dets = det.predict_many(test)
    thr = float(sd["score_threshold"])
    reading = reading_metrics(test, [d.above(thr) for d in dets], iou_threshold=iou)
    sweep = _threshold_sweep(test, dets, iou)
    layout = BilletIdDecoder()  # only its ordering is used: digits only, no schema, no check
    raw_ok = [layout.read_raw(d) == s.stamped_id for s, d in zip(test, dets)]
    metrics = {
        "note": ("STAND-IN, not stamped billets: real meter_digits crops (digits 0-9 only, no letters) pasted "
                 "onto real neu_det steel texture; visibility classes are imposed by the compositing. The ID "
                 "decoder does not apply (no caster letter, no check character)."),
        "digit_crops": {"train": len(crops_tr), "test": len(crops_te)},
        "textures": {"train": len(tex_tr), "test": len(tex_te)},
        "train_images": len(train), "test_images": len(test),
        "test_visibility": _visibility_counts(test), "reading": reading, "reading_by_score_threshold": sweep,
        "ids": {"all": {"billets": len(test), "raw": {"correct": sum(raw_ok) / len(test) if test else None}}},
        "final_loss": _mean_tail(det.history_, 50), "steps": int(det.step_), "seconds": {"train": seconds},
    }
    return {"metrics": metrics, "detector": det}


#: Operating points reported besides the detector's own (``score_threshold``).
SWEEP_THRESHOLDS = (0.2, 0.3, 0.5, 0.7)


def _threshold_sweep(samples, dets, iou: float) -> dict:
    """TP / MC / FN / FP / CB over all characters at several score thresholds (the operating-point trade-off)."""
    from learners.detector import reading_metrics

    out = {}
    for t in SWEEP_THRESHOLDS:
        a = reading_metrics(samples, [d.above(t) for d in dets], iou_threshold=iou)["subsets"]["all"]
        out[f"{t:g}"] = {k: a[k] for k in ("tp", "mc", "fn", "fp", "cb")}
    return out


def _real_texture(runs: list[tuple[Path, dict]]) -> bool:
    """True when the twin rendered the faces on real NEU-DET steel (render.real_texture and TWINLOOP_REALDATA)."""
    from physics.billet_render.surface_texture import neu_backgrounds_from_env

    wanted = any(bool(cfg["render"]["real_texture"]) for _, cfg in runs)
    return bool(wanted and neu_backgrounds_from_env() is not None)


def _visibility_counts(samples) -> dict:
    from collections import Counter

    return dict(sorted(Counter(v for s in samples for v in s.visibility).items()))


def _class_counts(samples) -> dict:
    from collections import Counter

    return dict(sorted(Counter(s.worst_visibility for s in samples).items()))


def _mean_tail(history: list[dict], n: int) -> float | None:
    tail = [h["loss"] for h in history[-n:]]
    return sum(tail) / len(tail) if tail else None


def _plain(params: dict) -> dict:
    return {k: (str(v) if isinstance(v, Path) else v) for k, v in params.items()}



# -- report ---------------------------------------------------------------------

_METRICS = ("tp", "mc", "fn", "fp", "cb")
_ORDER = ("all", "well", "partial", "poor")


def _ordered(d: dict) -> list:
    """Keys of a per-subset dict in the study's order (JSON files store them sorted)."""
    return [k for k in _ORDER if k in d] + sorted(k for k in d if k not in _ORDER)


def _classes_text(counts: dict) -> str:
    return ", ".join(f"{counts[k]} {k}" for k in _ordered(counts))
_COLOURS = {"tp": "#1a9850", "mc": "#f39c12", "fn": "#d73027", "fp": "#7b3294", "cb": "#2c7fb8"}


def _metrics_figure(reading: dict):
    import plotly.graph_objects as go

    subsets = [s for s in _ordered(reading["subsets"]) if reading["subsets"][s]["characters"]]
    fig = go.Figure()
    for m in _METRICS:
        y = [100 * (reading["subsets"][s][m] or 0.0) for s in subsets]
        fig.add_trace(go.Bar(x=subsets, y=y, name=m.upper(), marker_color=_COLOURS[m],
                             hovertemplate="%{x}: %{y:.1f} %<extra>" + m.upper() + "</extra>"))
    fig.update_layout(barmode="group", yaxis_title="%", plot_bgcolor="white", margin=dict(l=60, r=20, t=20, b=40),
                      legend=dict(orientation="h", y=-0.15))
    return fig


def _loss_figure(history: list[dict], standin: list[dict] | None):
    import numpy as np
    import plotly.graph_objects as go

    fig = go.Figure()
    for name, hist, colour in (("simulated billets", history, "#1f3b57"), ("real-texture stand-in", standin,
                                                                           "#d9822b")):
        if not hist:
            continue
        loss = np.asarray([h["loss"] for h in hist])
        k = min(25, len(loss))
        smooth = np.convolve(loss, np.ones(k) / k, mode="valid")
        fig.add_trace(go.Scatter(x=list(range(k, len(loss) + 1)), y=smooth, mode="lines", name=name,
                                 line=dict(color=colour)))
    fig.update_layout(xaxis_title="step", yaxis_title="training loss (mean of 25 steps)", yaxis_type="log",
                      plot_bgcolor="white", margin=dict(l=60, r=20, t=20, b=40), legend=dict(orientation="h", y=-0.2))
    return fig


def _reading_table(reading: dict) -> str:
    from scenarios.report_html import fmt, table_html

    rows = []
    for s in _ordered(reading["subsets"]):
        d = reading["subsets"][s]
        rows.append([s, d["characters"], d["billets"], *[fmt(100 * d[m], 1) if d[m] is not None else "—"
                                                         for m in _METRICS]])
    return table_html(rows, ["subset", "characters", "billets", "TP %", "MC %", "FN %", "FP %", "CB %"],
                      [False, True, True, True, True, True, True, True])


def _ids_table(ids: dict) -> str:
    from learners.detector.evaluate import READ_MODES
    from scenarios.report_html import fmt, table_html

    names = {"raw": "no decoder (ordered characters)", "schema_check": "schema + check character",
             "schema_check_previous": "schema + check + previous ID of the strand"}
    rows = []
    for s in _ordered(ids):
        block = ids[s]
        for mode in READ_MODES:
            if mode not in block:
                continue
            d = block[mode]
            rows.append([s, block["billets"], names[mode], *[fmt(100 * d[k], 1) if d.get(k) is not None else "—"
                                                             for k in ("correct", "refused", "wrong")]])
    return table_html(rows, ["subset", "billets", "reading", "ID right %", "refused %", "ID wrong %"],
                      [False, True, False, True, True, True])


def _sweep_table(sweep: dict) -> str:
    from scenarios.report_html import fmt, table_html

    rows = [[t, *[fmt(100 * d[m], 1) if d[m] is not None else "—" for m in _METRICS]] for t, d in sweep.items()]
    return "<h3>All characters at other score thresholds</h3>" + table_html(
        rows, ["score ≥", "TP %", "MC %", "FN %", "FP %", "CB %"], [True] * 6)


def _misreads_table(reading: dict, n: int = 12) -> str:
    from scenarios.report_html import table_html

    rows = [[t, r, k] for t, r, k in reading.get("misreads", [])[:n]]
    if not rows:
        return "<p class=\"caption\">No misreads.</p>"
    return "<h3>Most frequent misreads (MC)</h3>" + table_html(rows, ["stamped", "read as", "count"],
                                                               [False, False, True])


def build_report(metrics: dict, history: list[dict], standin_history: list[dict] | None = None) -> str:
    """The scenario's ``report.html`` (self-contained, deterministic for given metrics)."""
    from scenarios.report_html import Section, esc, figure_html, fmt, page_html

    sim = metrics["simulated"]
    sec = sim["seconds"]
    texture = "real NEU-DET steel texture" if sim.get("real_steel_texture") else "procedural texture"
    sections = [
        Section("Held-out simulated billets", (
            f"{sim['test_billets']} held-out billets ({esc(_classes_text(sim['test_billet_classes']))} by worst "
            f"character; faces rendered on {texture}), "
            f"detector trained from scratch on {sim['train_billets']} simulated billets for {sim['steps']} steps "
            f"({fmt(sec['train'] / 60, 1)} min). TP / MC / FN are fractions of the ground-truth characters of "
            "the subset's visibility class; FP (per character) and CB are over billets whose worst character "
            "is of that class. IoU &ge; 0.5, score &ge; "
            f"{fmt(metrics['detector']['params']['score_threshold'], 2)}."),
            _reading_table(sim["reading"]) + figure_html(_metrics_figure(sim["reading"]), "sim-metrics", 380)
            + _sweep_table(sim["reading_by_score_threshold"]) + _misreads_table(sim["reading"]), "sim"),
        Section("Billet IDs with and without the decoder", (
            "The whole 11-character ID: the characters ordered into the stamp's 6 + 5 grid (no decoder), then "
            "with the ID schema and its ISO 7064 MOD 37,36 check character, then also with the previous ID read "
            "on the same strand. <b>Refused</b>: no ID passes the check — the billet goes to a person; "
            "<b>ID wrong</b>: an ID was given and it is wrong."), _ids_table(sim["ids"]), "ids"),
    ]
    st = metrics.get("standin", {})
    if "reading" in st:
        sections.append(Section("Real-texture stand-in (not stamped billets)", (
            f"<b>Stand-in:</b> {esc(st['note'])} {st['test_images']} test images from "
            f"{st['digit_crops']['test']} held-out crops on {st['textures']['test']} held-out textures; trained on "
            f"{st['train_images']} images for {st['steps']} steps. Ordered-digit string right: "
            f"{fmt(100 * (st['ids']['all']['raw']['correct'] or 0.0), 1)} %."),
            _reading_table(st["reading"]) + figure_html(_metrics_figure(st["reading"]), "standin-metrics", 380)
            + _sweep_table(st["reading_by_score_threshold"]) + _misreads_table(st["reading"]), "standin"))
    else:
        sections.append(Section("Real-texture stand-in", esc(st.get("skipped", "not run")), "", "standin"))
    sections.append(Section("Training loss", "Sum of the four Faster R-CNN losses per step (moving mean).",
                            figure_html(_loss_figure(history, standin_history), "loss", 340), "loss"))
    return page_html("Billet digit detector", "Faster R-CNN (MobileNetV3-Large FPN) trained from scratch on the twin; "
                     "the study's TP / MC / FN / FP / CB per visibility subset", sections)
