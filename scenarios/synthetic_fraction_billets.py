"""Synthetic-fraction sweep, billets: the billet-stamp study's protocol on the real-texture stand-in.

The study trained its digit detector on equally large training sets with
0, 25, 50, 75 and 100 % synthetic images and scored every one on the same
real test images, split by how well the characters can be seen. Here:

* **real** = the real-texture stand-in of :mod:`learners.detector.standin`
  (real ``meter_digits`` crops on real ``neu_det`` steel; *not* stamped
  billets: printed digits, no letters, visibility imposed by the
  compositing), with crops and textures split so test images use glyphs
  and steel no training image used;
* **synthetic** = billet faces from the twin's billet line
  (:func:`twin.billet_line.simulate.simulate_billets`; both camera sites,
  nominal and degraded stamping) at the same image size.

Each arm trains the same Faster R-CNN recipe (:class:`learners.detector.DigitDetector`,
from scratch, the same steps) on ``train_images`` images, ``fraction`` of
them synthetic and the rest real, drawn per seed; the *small real only*
control trains on just the real part of the arm with the most synthetic
data short of 100 % (``small_real_images``). Every arm and seed is scored on
the same real test set: TP / MC / FN / FP per character and CB per image,
overall and per visibility subset (well / partial / poor), at IoU >= 0.5.

The stand-in's test images, like real production, hold mostly well visible
characters, so the overall figures are dominated by the easy ones. The
study balanced its test set instead (as many hard billets as easy ones);
here the **balanced** figures weigh the three visibility subsets equally
(the mean of their rates), which is what a test set with equally many
characters of each visibility would show in expectation.
Per arm: means and 95 % t intervals over seeds, and the paired difference
in TP (overall and balanced) to the 0 % arm, Holm-corrected over all those
comparisons together. Over the whole sweep: the **dose trend** of each score
in the synthetic share (:func:`scenarios.sweep_stats.dose_trend`, the seed as
a block), the one test that every fraction arm and seed informs.

Output: ``config.toml``, ``arms.parquet`` (one row per arm and seed, every
subset's figures and the balanced ones), ``metrics.json``, ``report.html``.

Run: ``twinloop run scenarios/synthetic_fraction_billets.toml --out DIR``
(reads ``$TWINLOOP_REALDATA``; a detector per arm and seed: budget with
``[detector] steps`` and ``[sweep] seeds``).
"""
from __future__ import annotations

import dataclasses
import math
import os
import tempfile
from pathlib import Path
from typing import Callable

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from scenarios.dask_tasks import DaskOptions, run_tasks, task_seed
from scenarios.spec import merge_spec
from scenarios.sweep_stats import dose_trend, holm, paired_test
from twin.runfolder import finite_json

__all__ = ["DEFAULTS", "run", "arm_sizes", "train_arm", "with_balanced", "summarize", "trends"]

VISIBILITY = ("well", "partial", "poor")
SUBSETS = ("all", *VISIBILITY)
SCORES = ("tp", "mc", "fn", "fp_per_billet", "cb")

DEFAULTS: dict = {
    "real": {"digits": "meter_digits/03_data_resize_all-use_for_training", "textures": "neu_det/IMAGES",
             "test_fraction": 0.3, "train_pool": 400, "test_images": 150, "seed": 5},
    "synthetic": {"billets_per_run": 50, "seed": 21,
                  "sets": [{}, {"camera.site": "B"}, {"stamping.force_kN": 35.0},
                           {"camera.site": "B", "stamping.pin_wear_initial": 0.7}]},
    "sweep": {"fractions": [0.0, 0.25, 0.5, 0.75, 1.0], "train_images": 200, "small_real_images": 50,
              "seeds": [0, 1]},
    "detector": {"model": "small_chars", "steps": 300, "batch_size": 4, "lr": 1e-3, "weight_decay": 1e-4,
                 "warmup_steps": 50, "sampling": "balanced", "score_threshold": 0.5, "threads": 1},
    "image": {"size_px": 192},
    "metrics": {"iou_threshold": 0.5},
    "dask": {"workers": 2, "scheduler": "", "task_cache": ""},
}


def arm_sizes(fractions: list[float], total: int, small_real: int) -> list[tuple[str, float | None, int, int]]:
    """(name, fraction, real images, synthetic images) of every arm, controls last."""
    out = []
    for f in fractions:
        n_syn = int(round(float(f) * total))
        out.append((f"{100 * float(f):g} % synthetic", float(f), total - n_syn, n_syn))
    if small_real:
        out.append(("small real only", None, int(small_real), 0))
    return out


def _synthetic_faces(spec: dict, n: int, folder: Path) -> list:
    """``n`` simulated, stamped billet faces (runs of ``[synthetic] sets`` in turn, until there are enough)."""
    from learners.detector import read_billet_images
    from scenarios.kassel_calibration import _toml_value
    from twin.billet_line.simulate import simulate_billets
    from twin.config import load_config

    sy = spec["synthetic"]
    faces: list = []
    for k in range(1000):
        if len(faces) >= n:
            break
        changes = sy["sets"][k % len(sy["sets"])]
        overrides = [f"run.seed={task_seed(int(sy['seed']), k)}", f"render.size_px={int(spec['image']['size_px'])}",
                     *(f"{key}={_toml_value(v)}" for key, v in changes.items())]
        cfg = load_config(None, overrides, kind="billets")
        run_dir = simulate_billets(cfg, folder / f"syn{k}", billets=int(sy["billets_per_run"]))
        # a labelled (unstamped) billet has no characters to learn from. The source names the run by its
        # set, not by the temporary folder, so the faces (and a --task-cache key over them) are the same every run.
        faces += [dataclasses.replace(f, source=f.source.replace(str(folder), "synthetic"))
                  for f in read_billet_images(run_dir) if len(f.chars)]
    return faces[:n]


def train_arm(task: dict, shared: dict) -> dict:
    """Train one arm with one seed and score it on the real test set (a Dask task)."""
    import torch

    from learners.detector import DigitDetector, reading_metrics

    torch.set_num_threads(int(task["threads"]))
    rng = np.random.default_rng(task["draw_seed"])
    real = [shared["real_train"][i] for i in rng.choice(len(shared["real_train"]), task["n_real"], replace=False)]
    syn = [shared["synthetic"][i] for i in rng.choice(len(shared["synthetic"]), task["n_synthetic"], replace=False)]
    d = task["detector"]
    det = DigitDetector(model=d["model"], steps=int(d["steps"]), batch_size=int(d["batch_size"]), lr=float(d["lr"]),
                        weight_decay=float(d["weight_decay"]), warmup_steps=int(d["warmup_steps"]),
                        sampling=str(d["sampling"]), score_threshold=float(d["score_threshold"]),
                        seed=int(task["seed"]))
    det.fit(real + syn)
    test = shared["real_test"]
    dets = det.predict_many(test)
    r = reading_metrics(test, [x.above(float(d["score_threshold"])) for x in dets],
                        iou_threshold=float(task["iou"]))
    row = {"arm": task["arm"], "fraction": task["fraction"], "seed": task["seed"], "n_real": task["n_real"],
           "n_synthetic": task["n_synthetic"], "final_loss": float(np.mean([h["loss"] for h in det.history_[-50:]]))
           if det.history_ else math.nan}
    for s in SUBSETS:
        sub = r["subsets"].get(s) or {}
        for k in SCORES:
            row[f"{s}:{k}"] = sub.get(k)
        row[f"{s}:characters"] = sub.get("characters")
    return row


def with_balanced(row: dict) -> dict:
    """``row`` plus ``balanced:<score>``: the mean of the well / partial / poor rates (None if a subset is empty).

    Equal weight per visibility class, whatever the test set's mix: the
    figure a test set with equally many characters of each class would give
    in expectation (the study balanced its test set for the same reason).
    """
    out = dict(row)
    for k in SCORES:
        vals = [row.get(f"{v}:{k}") for v in VISIBILITY]
        out[f"balanced:{k}"] = None if any(x is None for x in vals) else float(np.mean(vals))
    return out


def summarize(rows: list[dict]) -> list[dict]:
    """Per arm: mean and 95 % t interval over seeds; paired TP differences to 0 % (overall and balanced, Holm).

    ``rows`` are :func:`with_balanced` rows. Every arm with a fraction other
    than 0 gets ``tp_diff`` / ``tp_diff_p`` / ``tp_diff_p_holm`` (overall TP)
    and ``balanced:tp_diff`` / ``..._p`` / ``..._p_holm``; Holm runs over all
    of these comparisons as one family, so looking at both costs power, not
    error rate.
    """
    from twin.replication_stats import mean_interval

    keys = [f"{s}:{k}" for s in (*SUBSETS, "balanced") for k in SCORES]
    base = {r["seed"]: r for r in rows if r["fraction"] == 0.0}
    out = []
    for arm in dict.fromkeys(r["arm"] for r in rows):
        sel = sorted((r for r in rows if r["arm"] == arm), key=lambda r: r["seed"])
        s: dict = {"arm": arm, "fraction": sel[0]["fraction"], "n_real": sel[0]["n_real"],
                   "n_synthetic": sel[0]["n_synthetic"], "seeds": len(sel)}
        for k in keys:
            vals = [r[k] for r in sel if r.get(k) is not None]
            # every score is a share of the test characters except the FP count per billet (no upper bound)
            bounds = (0.0, math.inf) if k.endswith("fp_per_billet") else (0.0, 1.0)
            s[k], s[f"{k}_lo"], s[f"{k}_hi"] = mean_interval(vals, bounds=bounds) if vals else (math.nan,) * 3
        for key, name in (("all:tp", "tp_diff"), ("balanced:tp", "balanced:tp_diff")):
            pairs = [(r[key], base[r["seed"]][key]) for r in sel
                     if r["seed"] in base and r.get(key) is not None and base[r["seed"]].get(key) is not None]
            if sel[0]["fraction"] not in (None, 0.0) and len(pairs) >= 2:
                s[name], s[f"{name}_p"] = paired_test(pairs)
        out.append(s)
    family = [(s, f"{name}_p") for s in out for name in ("tp_diff", "balanced:tp_diff") if f"{name}_p" in s]
    for (s, key), p in zip(family, holm([s[key] for s, key in family])):
        s[f"{key}_holm"] = p
    return out


TREND_SCORES = ("all:tp", "balanced:tp", "all:mc", "all:fn", "all:fp_per_billet")


def trends(rows: list[dict]) -> dict:
    """Per score: the slope over the synthetic share (per 100 %), its 95 % interval and p, seeds as blocks.

    Only the fraction arms (not the small-real control); a score some row
    lacks is left out. Holm over the scores: they are read together.
    """
    frac = [r for r in rows if r["fraction"] is not None]
    out = {}
    for k in TREND_SCORES:
        sel = [r for r in frac if r.get(k) is not None]
        if len({r["fraction"] for r in sel}) < 2:
            continue
        try:
            out[k] = dose_trend([r["fraction"] for r in sel], [r[k] for r in sel], [r["seed"] for r in sel])
        except ValueError:          # too few runs for a residual degree of freedom
            continue
    for k, p in zip(list(out), holm([t["p"] for t in out.values()])):
        out[k]["p_holm"] = p
    return out


def run(spec: dict, out: Path, *, progress: Callable[[int, int], None] | None = None, overwrite: bool = False,
        finalize: Callable | None = None, dask: dict | None = None) -> Path:
    """Run the sweep (module docstring); returns the run folder."""
    import tomli_w

    from learners.detector import compose_standin
    from learners.detector.standin import list_digit_crops, list_textures, split_files
    from scenarios.report_synthetic_fraction_billets import billets_report_html
    from twin.runfolder import RunFolder

    spec = merge_spec(DEFAULTS, spec, "synthetic_fraction_billets")
    if dask:
        spec["dask"].update({k: v for k, v in dask.items() if v is not None})
    re_, sw = spec["real"], spec["sweep"]
    if len(sw["seeds"]) < 2:
        raise KeyError("synthetic_fraction_billets: [sweep] seeds needs at least 2 seeds (intervals)")
    if 0.0 not in [float(f) for f in sw["fractions"]]:
        raise KeyError("synthetic_fraction_billets: [sweep] fractions must include 0.0 (the reference arm)")
    total = int(sw["train_images"])
    if total > int(re_["train_pool"]) or int(sw["small_real_images"]) > int(re_["train_pool"]):
        raise KeyError(f"synthetic_fraction_billets: [sweep] train_images ({total}) and small_real_images must not "
                       f"exceed [real] train_pool ({re_['train_pool']})")
    root = os.environ.get("TWINLOOP_REALDATA")
    if not root:
        raise FileNotFoundError("synthetic_fraction_billets: TWINLOOP_REALDATA is not set (the real stand-in "
                                "needs meter_digits and neu_det)")
    options = DaskOptions.from_spec(spec["dask"])
    RunFolder(out, overwrite=overwrite).check_target()
    size = int(spec["image"]["size_px"])
    seed = int(re_["seed"])
    crops_tr, crops_te = split_files(list_digit_crops(Path(root) / re_["digits"]), float(re_["test_fraction"]), seed)
    tex_tr, tex_te = split_files(list_textures(Path(root) / re_["textures"]), float(re_["test_fraction"]), seed + 1)
    real_train = compose_standin(crops_tr, tex_tr, int(re_["train_pool"]), seed=seed, size_px=size,
                                 name="standin-train")
    real_test = compose_standin(crops_te, tex_te, int(re_["test_images"]), seed=seed + 100, size_px=size,
                                name="standin-test")
    arms = arm_sizes([float(f) for f in sw["fractions"]], total, int(sw["small_real_images"]))
    n_syn_max = max(a[3] for a in arms)
    with tempfile.TemporaryDirectory(prefix="twinloop-synbil-") as tmp, \
            RunFolder(out, overwrite=overwrite) as folder:
        synthetic = _synthetic_faces(spec, max(n_syn_max, 1), Path(tmp)) if n_syn_max else []
        shared = {"real_train": real_train, "real_test": real_test, "synthetic": synthetic}
        tasks = [{"arm": name, "fraction": f, "seed": int(s), "n_real": n_real, "n_synthetic": n_syn,
                  "draw_seed": task_seed(int(s), k), "detector": spec["detector"],
                  "threads": int(spec["detector"]["threads"]), "iou": float(spec["metrics"]["iou_threshold"])}
                 for k, (name, f, n_real, n_syn) in enumerate(arms) for s in sw["seeds"]]
        rows = [with_balanced(r) for r in run_tasks(train_arm, tasks, options, progress=progress, shared=shared)]
        summary = summarize(rows)
        metrics = {"real_set": {"what": "STAND-IN, not stamped billets: real meter_digits crops (digits only) on "
                                        "real neu_det steel; visibility imposed by the compositing",
                                "train_pool": len(real_train), "test_images": len(real_test),
                                "crops": {"train": len(crops_tr), "test": len(crops_te)}},
                   "synthetic": {"faces": len(synthetic), "size_px": size},
                   "train_images": total, "seeds": list(sw["seeds"]), "steps": int(spec["detector"]["steps"]),
                   "summary": summary, "trend_per_100pct_synthetic": trends(rows)}
        folder.write_text("config.toml", tomli_w.dumps({"scenario": "synthetic_fraction_billets", **spec}))
        pq.write_table(pa.Table.from_pylist(rows), folder.path("arms.parquet"))
        folder.write_json("metrics.json", finite_json(metrics))
        folder.write_text("report.html", billets_report_html(metrics, rows))
        if finalize is not None:
            finalize(folder, metrics)
    return Path(out)
