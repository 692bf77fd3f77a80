"""Defect classifier on real surface images: magnetic tile and NEU-DET, per-class accuracy and macro-F1.

For each data set named in ``[data] sets`` (``magnetic_tile``: 952 defect-free
tiles and 5 defect classes, 32-115 images each; ``neu``: 6 classes of
hot-rolled steel defects, 300 images each; both read from
``TWINLOOP_REALDATA``) the images are split per class (``test_fraction``,
seeded), a torchvision network (``[model] arch``: ResNet-18 or
EfficientNet-B0) is trained **from scratch** on the training part (no
pretrained weights can be downloaded here) and scored on the held-out real
images: per-class accuracy (the share of each class's test images labelled
right), macro-F1, accuracy, and the confusion matrix.

Run: ``twinloop run scenarios/defect_classifier.toml --out DIR``; writes
``metrics.json``, one model file per set (``<set>.twl``) and ``report.html``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from learners.defects import DefectClassifier, classification_scores, load_magnetic_tile, load_neu, split_stratified
from scenarios.kassel_calibration import realdata_root
from scenarios.spec import merge_spec
from twin.runfolder import RunFolder

DEFAULTS: dict = {
    "data": {"sets": ["magnetic_tile", "neu"], "size_px": 96, "test_fraction": 0.3, "split_seed": 0},
    "model": {"arch": "resnet18", "epochs": 15, "batch_size": 32, "lr": 2e-3, "seed": 0, "class_weights": True,
              "augment": True, "threads": 2},
}
LOADERS = {"magnetic_tile": load_magnetic_tile, "neu": load_neu}


def run(spec: dict, out: Path, *, progress: Callable[[int, int], None] | None = None, overwrite: bool = False,
        finalize: Callable | None = None) -> Path:
    spec = merge_spec(DEFAULTS, spec, "defect_classifier")
    d, m = spec["data"], spec["model"]
    unknown = [s for s in d["sets"] if s not in LOADERS]
    if unknown:
        raise KeyError(f"[data] sets: unknown {unknown}; known: {sorted(LOADERS)}")
    import torch

    torch.set_num_threads(int(m["threads"]))
    root = realdata_root()
    params = {k: m[k] for k in ("arch", "epochs", "batch_size", "lr", "seed", "class_weights", "augment")}
    results, models = {}, {}
    sets = [LOADERS[s](root, size_px=int(d["size_px"])) for s in d["sets"]]
    splits = [split_stratified(s.labels, float(d["test_fraction"]), int(d["split_seed"])) for s in sets]
    total = sum(int(np.ceil(len(tr) / int(m["batch_size"]))) * int(m["epochs"]) for tr, _ in splits)
    done = 0
    for name, data, (train, test) in zip(d["sets"], sets, splits):
        base = done

        def tick(step: int, _total: int, base: int = base) -> None:
            if progress is not None:
                progress(base + step, total)

        clf = DefectClassifier(size_px=int(d["size_px"]), **params).fit(data.subset(train), progress=tick)
        done = base + int(np.ceil(len(train) / int(m["batch_size"]))) * int(m["epochs"])
        pred = clf.predict(data.images[test])
        scores = classification_scores(data.labels[test], pred, data.classes)
        scores.update({"n_train": int(len(train)), "n_test": int(len(test)),
                       "train_counts": data.subset(train).counts(), "loss_history": clf.history_,
                       "chance_macro_f1_majority": float(classification_scores(
                           data.labels[test], np.full(len(test), np.bincount(data.labels[train]).argmax()),
                           data.classes)["macro_f1"])})
        results[name] = scores
        models[name] = clf
    metrics = {"sets": results, "model": params, "size_px": int(d["size_px"]),
               "test_fraction": float(d["test_fraction"]), "split_seed": int(d["split_seed"]),
               "note": "trained from scratch (no pretrained weights); scored on held-out real images"}
    with RunFolder(out, overwrite=overwrite) as folder:
        for name, clf in models.items():
            clf.save(folder.path(f"{name}.twl"))
        folder.write_json("metrics.json", metrics)
        folder.write_text("report.html", build_report(metrics))
        if finalize is not None:
            finalize(folder, metrics)
    return Path(out)


def build_report(metrics: dict) -> str:
    import plotly.graph_objects as go

    from scenarios.report_html import Section, figure_html, fmt, page_html, table_html

    sections = []
    for name, s in metrics["sets"].items():
        rows = [(c, s["support"][c], fmt(s["per_class_accuracy"][c], 3)) for c in s["classes"]]
        rows.append(("macro-F1", "", fmt(s["macro_f1"], 3)))
        rows.append(("accuracy", s["n_test"], fmt(s["accuracy"], 3)))
        rows.append(("macro-F1 of always the majority class", "", fmt(s["chance_macro_f1_majority"], 3)))
        cm = np.array(s["confusion"], dtype=float)
        norm = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
        fig = go.Figure(go.Heatmap(z=norm, x=s["classes"], y=s["classes"], colorscale="Blues", zmin=0, zmax=1,
                                   text=cm.astype(int), texttemplate="%{text}", colorbar=dict(title="row share")))
        fig.update_layout(xaxis_title="predicted", yaxis_title="true", yaxis_autorange="reversed",
                          template="plotly_white", margin=dict(l=80, r=20, t=20, b=60))
        body = table_html(rows, ["class", "test images", "accuracy"], [False, True, True]) + figure_html(
            fig, f"cm-{name}", 420)
        caption = (f"{s['n_train']} training and {s['n_test']} held-out real images; {metrics['model']['arch']} "
                   f"from scratch, {metrics['model']['epochs']} epochs at {metrics['size_px']} px. Per-class "
                   "accuracy = share of that class's test images labelled right.")
        sections.append(Section(name, caption, body, name))
    return page_html("Defect classifier on real surface images", "per-class accuracy and macro-F1", sections)
