"""Defect augmentation: the defect-synthesis study's protocol on magnetic tile.

Does a classifier of real tile defects get better when its rare classes
are filled up with synthetic defects? Four arms, each a ResNet-18 trained
from scratch (:class:`learners.defects.DefectClassifier`) on the same real
training split, scored on the same **real** held-out split:

* ``none``: the real training images only;
* ``cutmix``: the same images, CutMix on ``cutmix`` of the batches (Yun
  et al. 2019);
* ``copy_paste``: plus synthetic defect images — a real training defect of
  the class, cut out along its mask and pasted, shifted, onto a real
  defect-free training tile;
* ``sft_gan``: plus synthetic defect images from the SyNDGAN-like
  synthesizer (:class:`generative.defect_synth.DefectSynthesizer`): new
  masks (real training masks moved, scaled, rotated until their IoU with
  every real mask is below ``novel_max_iou``) painted onto real defect-free
  training tiles, blended in around the mask.

In both synthetic arms each rare class is brought to ``target_share`` of the
defect-free count (the study: about 50 %). Nothing of the held-out split is
seen by the synthesizer or the classifiers: the synthesizer is trained here
on the training split, or taken from a ``defect_synthesis`` run whose
``config.toml`` shows the same split (``[synthesizer] model``).

Every arm is trained with each seed of ``[classifier] seeds`` (seeded
weights, batches and, for the synthetic arms, a fresh synthetic draw per
seed); per arm: per-class accuracy (the share of each class's real test
images labelled right), macro-F1, balanced accuracy — mean and 95 % t
interval over seeds — and the paired difference to ``none`` (same seeds)
with a paired t test, Holm-corrected over the three augmentations.

Output: ``config.toml``, ``arms.parquet`` (one row per arm and seed, with
every class's accuracy), ``synthetic_counts.json``, ``metrics.json`` and
``report.html`` (per-class bars, sample grids of each synthetic arm).

Run: ``twinloop run scenarios/defect_augmentation.toml --out DIR`` (reads
``$TWINLOOP_REALDATA``; trains the synthesizer first unless a model is given).
"""
from __future__ import annotations

import math
import tomllib
from pathlib import Path
from typing import Callable

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from scenarios.dask_tasks import DaskOptions, run_tasks, task_seed
from scenarios.spec import merge_spec
from scenarios.sweep_stats import holm, paired_test
from twin.runfolder import finite_json

__all__ = ["DEFAULTS", "ARMS", "run", "synthetic_counts", "make_synthetic", "train_arm"]

ARMS = ("none", "cutmix", "copy_paste", "sft_gan")

DEFAULTS: dict = {
    "data": {"folder": "", "size_px": 64, "test_fraction": 0.25, "split_seed": 0},
    "synthesizer": {"model": "", "steps": 4000, "feature_steps": 1000, "pretrain_steps": 1500, "seed": 0},
    "augmentation": {"arms": list(ARMS), "target_share": 0.5, "cutmix": 0.5, "novel_max_iou": 0.5,
                     "rotation_deg": 30.0, "scale_min": 0.7, "scale_max": 1.3, "max_shift": 0.25,
                     "copy_paste_shift": 0.25, "blend_dilate_px": 1, "blend_feather_px": 1.0},
    "classifier": {"arch": "resnet18", "epochs": 20, "batch_size": 32, "lr": 2e-3, "class_weights": "sqrt",
                   "seeds": [0, 1, 2]},
    "run": {"threads": 1},
    "dask": {"workers": 2, "scheduler": "", "task_cache": ""},
}


def synthetic_counts(train_counts: dict[str, int], normal: str, target_share: float) -> dict[str, int]:
    """Synthetic images per defect class: enough to reach ``target_share`` x the normal count (never negative)."""
    goal = int(round(target_share * train_counts[normal]))
    return {c: max(0, goal - n) for c, n in train_counts.items() if c != normal}


def make_synthetic(kind: str, train, counts: dict[str, int], model, aug: dict, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(images, labels) of ``kind`` (``copy_paste`` or ``sft_gan``) for the class counts, on training tiles only."""
    from generative.defect_synth import blend_into, class_map, novel_masks
    from generative.defect_synth.copy_paste import copy_paste_set

    rng = np.random.default_rng(seed)
    normals, defects = train.normal(), train.defects()
    classes = np.concatenate([np.full(n, train.classes.index(c)) for c, n in counts.items() if n > 0]) \
        if any(counts.values()) else np.zeros(0, int)
    if classes.size == 0:
        return np.zeros((0,) + train.images.shape[1:], np.uint8), np.zeros(0, int)
    tiles = normals.images[rng.integers(len(normals), size=classes.size)]
    if kind == "copy_paste":
        size = train.images.shape[1]
        shift = np.round(rng.uniform(-1, 1, (classes.size, 2)) * float(aug["copy_paste_shift"]) * size).astype(int)
        images, _ = copy_paste_set(tiles, classes, defects.images, defects.masks, defects.labels, rng, shift=shift)
    elif kind == "sft_gan":
        masks, labels, _, _ = novel_masks(defects.masks, defects.labels, classes.size, rng, classes=classes,
                                          max_iou=float(aug["novel_max_iou"]), rotation_deg=float(aug["rotation_deg"]),
                                          scale_range=(float(aug["scale_min"]), float(aug["scale_max"])),
                                          max_shift=float(aug["max_shift"]))
        raw = model.sample(classes.size, condition=(tiles, class_map(masks, labels)), seed=seed)
        images = blend_into(tiles, raw, masks, dilate_px=int(aug["blend_dilate_px"]),
                            feather_px=float(aug["blend_feather_px"]))
        classes = np.asarray(labels)
    else:
        raise ValueError(f"unknown synthetic kind {kind!r}")
    return np.asarray(images, np.uint8), np.asarray(classes, int)


def train_arm(task: dict, shared: dict) -> dict:
    """Train one arm with one seed and score it on the real test split (a Dask task)."""
    import torch

    from learners.defects import DefectClassifier, classification_scores
    from learners.defects.image_folder import ImageSet

    torch.set_num_threads(int(task["threads"]))
    classes = tuple(shared["classes"])
    imgs, labels = shared["train_images"], shared["train_labels"]
    syn = shared["synthetic"].get((task["arm"], task["seed"]))
    if syn is not None:
        imgs, labels = np.concatenate([imgs, syn[0]]), np.concatenate([labels, syn[1]])
    data = ImageSet(imgs, labels, classes, tuple(f"train{i}" for i in range(len(labels))))
    c = task["classifier"]
    clf = DefectClassifier(arch=c["arch"], size_px=imgs.shape[1], epochs=int(c["epochs"]),
                           batch_size=int(c["batch_size"]), lr=float(c["lr"]), class_weights=c["class_weights"],
                           cutmix=float(task["cutmix"]), seed=int(task["seed"])).fit(data)
    pred = clf.predict(shared["test_images"])
    s = classification_scores(shared["test_labels"], pred, classes)
    row = {"arm": task["arm"], "seed": task["seed"], "train_images": int(len(labels)),
           "synthetic_images": int(0 if syn is None else len(syn[1])), "accuracy": s["accuracy"],
           "balanced_accuracy": s["balanced_accuracy"], "macro_f1": s["macro_f1"],
           "final_loss": clf.history_[-1]["loss"] if clf.history_ else math.nan}
    for k, v in s["per_class_accuracy"].items():
        row[f"acc:{k}"] = v
    return row


def _synthesizer(spec: dict, train, data_spec: dict, folder, progress):
    """The synthesizer: loaded from a ``defect_synthesis`` run with the same split, or trained on ``train``."""
    from generative.defect_synth import DefectSynthesizer
    from scenarios import defect_synthesis as ds

    sy = spec["synthesizer"]
    if sy["model"]:
        run_dir = Path(sy["model"])
        cfg_path = run_dir / "config.toml"
        if not cfg_path.is_file():
            raise KeyError(f"defect_augmentation: [synthesizer] model {run_dir}: no config.toml beside the model, so "
                           "its training split cannot be checked (a model that saw the test images would inflate "
                           "the result); train it here with model = \"\"")
        used = tomllib.loads(cfg_path.read_text(encoding="utf-8")).get("data", {})
        for k in ("folder", "size_px", "test_fraction", "split_seed"):
            if used.get(k, ds.DEFAULTS["data"][k]) != data_spec[k]:
                raise KeyError(f"defect_augmentation: [synthesizer] model {run_dir} was trained with [data] {k} = "
                               f"{used.get(k)!r}, this study splits with {data_spec[k]!r}: the split must be the same")
        return DefectSynthesizer.load(run_dir / "model.ckpt"), str(run_dir)
    from generative.defect_synth.tensors import pick_device

    m = {**ds.DEFAULTS["model"], **{k: sy[k] for k in ("steps", "feature_steps", "pretrain_steps", "seed")}}
    params = ds.synthesizer_params(m, int(data_spec["size_px"]), str(pick_device("auto")))
    model = DefectSynthesizer(**params).fit(train, seed=int(sy["seed"]), progress=progress)
    model.save(folder.path("synthesizer.ckpt"))
    return model, "trained here (synthesizer.ckpt)"


def run(spec: dict, out: Path, *, progress: Callable[[int, int], None] | None = None, overwrite: bool = False,
        finalize: Callable | None = None, dask: dict | None = None) -> Path:
    """Run the study (module docstring); returns the run folder."""
    import json

    import tomli_w
    import torch

    from generative.defect_synth import split_defect_data
    from scenarios.defect_synthesis import load_data
    from scenarios.report_defect_augmentation import augmentation_report_html
    from twin.runfolder import RunFolder

    spec = merge_spec(DEFAULTS, spec, "defect_augmentation")
    if dask:
        spec["dask"].update({k: v for k, v in dask.items() if v is not None})
    aug, cl = spec["augmentation"], spec["classifier"]
    arms = list(aug["arms"])
    if not arms or any(a not in ARMS for a in arms) or "none" not in arms:
        raise KeyError(f"defect_augmentation: [augmentation] arms must include 'none' and be among {list(ARMS)}, "
                       f"got {arms}")
    if len(cl["seeds"]) < 2:
        raise KeyError("defect_augmentation: [classifier] seeds needs at least 2 seeds (intervals)")
    if not 0 < float(aug["target_share"]) <= 1:
        raise KeyError("defect_augmentation: [augmentation] target_share must be in (0, 1]")
    options = DaskOptions.from_spec(spec["dask"])
    RunFolder(out, overwrite=overwrite).check_target()
    torch.set_num_threads(int(spec["run"]["threads"]))
    data = load_data({**spec["data"], "max_per_class": 0})
    train, test = split_defect_data(data, float(spec["data"]["test_fraction"]), int(spec["data"]["split_seed"]))
    normal = data.classes[0]
    counts = synthetic_counts(train.counts(), normal, float(aug["target_share"]))
    needs_gan = "sft_gan" in arms
    gan_steps = int(spec["synthesizer"]["steps"]) if needs_gan and not spec["synthesizer"]["model"] else 0
    n_fit = len(arms) * len(cl["seeds"])
    total = gan_steps + n_fit
    base = {"n": 0}

    def tick(done: int, _n: int) -> None:
        if progress:
            progress(base["n"] + done, total)

    with RunFolder(out, overwrite=overwrite) as folder:
        model, model_source = (_synthesizer(spec, train, spec["data"], folder, tick) if needs_gan else (None, None))
        base["n"] = gan_steps
        synthetic: dict[tuple[str, int], tuple[np.ndarray, np.ndarray]] = {}
        for arm in arms:
            if arm in ("copy_paste", "sft_gan"):
                for seed in cl["seeds"]:
                    synthetic[(arm, int(seed))] = make_synthetic(arm, train, counts, model, aug,
                                                                 task_seed(int(seed), ARMS.index(arm)))
        shared = {"classes": list(data.classes), "train_images": train.images, "train_labels": train.labels,
                  "test_images": test.images, "test_labels": test.labels, "synthetic": synthetic}
        tasks = [{"arm": a, "seed": int(s), "threads": int(spec["run"]["threads"]), "classifier": cl,
                  "cutmix": float(aug["cutmix"]) if a == "cutmix" else 0.0} for a in arms for s in cl["seeds"]]
        rows = run_tasks(train_arm, tasks, options, progress=tick, shared=shared)
        summary = summarize(rows, list(data.classes), [a for a in arms if a != "none"])
        metrics = {"data": {"source": spec["data"]["folder"] or "magnetic_tile", "classes": list(data.classes),
                            "train": train.counts(), "test": test.counts(), "size_px": int(spec["data"]["size_px"])},
                   "synthetic_per_class": counts, "synthesizer": model_source, "seeds": list(cl["seeds"]),
                   "summary": summary,
                   "pretrained_weights": "none: the classifiers and the synthesizer are trained from scratch"}
        folder.write_text("config.toml", tomli_w.dumps({"scenario": "defect_augmentation", **spec}))
        pq.write_table(pa.Table.from_pylist(rows), folder.path("arms.parquet"))
        folder.write_text("synthetic_counts.json", json.dumps(counts, indent=2) + "\n")
        folder.write_json("metrics.json", finite_json(metrics))
        samples = {arm: synthetic[(arm, int(cl["seeds"][0]))] for arm in ("copy_paste", "sft_gan") if arm in arms}
        folder.write_text("report.html", augmentation_report_html(metrics, rows, samples))
        if finalize is not None:
            finalize(folder, metrics)
    return Path(out)


def summarize(rows: list[dict], classes: list[str], augmented: list[str]) -> list[dict]:
    """Per arm: mean and 95 % t interval over seeds of each score; paired difference to ``none`` (Holm)."""
    from twin.replication_stats import mean_interval

    keys = ["accuracy", "balanced_accuracy", "macro_f1", *(f"acc:{c}" for c in classes)]
    base = {r["seed"]: r for r in rows if r["arm"] == "none"}
    out = []
    for arm in dict.fromkeys(r["arm"] for r in rows):
        sel = sorted((r for r in rows if r["arm"] == arm), key=lambda r: r["seed"])
        s: dict = {"arm": arm, "seeds": len(sel), "synthetic_images": int(np.mean([r["synthetic_images"] for r in sel]))}
        for k in keys:
            vals = [r[k] for r in sel if r.get(k) is not None]
            s[k], s[f"{k}_lo"], s[f"{k}_hi"] = mean_interval(vals, bounds=(0.0, 1.0)) if vals else (math.nan,) * 3
        for k in ("macro_f1", "balanced_accuracy"):
            pairs = [(r[k], base[r["seed"]][k]) for r in sel if r["seed"] in base]
            if arm != "none" and len(pairs) >= 2:
                s[f"{k}_diff"], s[f"{k}_diff_p"] = paired_test(pairs)
        out.append(s)
    for k in ("macro_f1", "balanced_accuracy"):
        fam = [s for s in out if s["arm"] in augmented and f"{k}_diff_p" in s]
        for s, p in zip(fam, holm([s[f"{k}_diff_p"] for s in fam])):
            s[f"{k}_diff_p_holm"] = p
    return out
