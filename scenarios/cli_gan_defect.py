"""``twinloop train gan defect`` and ``twinloop sample defect``: the defect synthesizer at the command line.

::

    twinloop train gan defect --data DIR --out DIR [--steps N] [--seed S] [--checkpoint-every K]
                              [--resume CKPT] [--size PX] [--batch-size B] [--feature-steps N]
                              [--pretrain-steps N] [--holdout F] [--eval-feature-steps N]
                              [--normal-class NAME] [--threads T] [--overwrite] [--no-progress]
    twinloop sample defect --model DIR --out DIR --normal IMG_DIR [--masks MASK_DIR | --n N]
                           [--classes a,b] [--seed S] [--blend mask|none] [--overwrite]

**Training data** (``--data``): any folder of defect-free images and defect
images with pixel masks, e.g. a plant's own (layouts in
:mod:`generative.defect_synth.data`)::

    DATA/normal/*.png                         defect-free images (folder: normal, free, good, ok or defect_free,
                                              or name it with --normal-class)
    DATA/<class>/images/NAME.jpg              defect images of <class>
    DATA/<class>/masks/NAME.png               their masks (white = defect)

or the magnetic-tile layout (``MT_<class>/Imgs/NAME.jpg`` + ``NAME.png``):
``--data $TWINLOOP_REALDATA/magnetic_tile``. Images are read as grey and
resized to ``--size`` (default 64 px).

**Training output** (``--out``): ``checkpoints/step_NNNNNN.ckpt`` written
during training (every ``--checkpoint-every`` steps; a crashed or stopped
run continues with ``--resume OUT/checkpoints/step_NNNNNN.ckpt --out OUT``
and gives the same weights as an uninterrupted one), then ``model.ckpt``,
``metrics.json`` and ``report.html`` (loss curves, sample grids). Unless
``--holdout 0``, a share of each class is held out (seeded) and never
trained on: the metrics (FID and KID on a feature network trained from
scratch on the training part; outside-mask change; copy-paste as a
reference) compare synthesized defects with those held-out real ones.
The output folder is not created atomically (checkpoints must survive a
crash): ``metrics.json`` is written last and marks a finished run.

**Sampling**: ``--normal IMG_DIR`` holds defect-free images (any size,
resized to the model's). ``--masks MASK_DIR`` holds one subfolder per
defect class with binary mask images (``MASK_DIR/Crack/m1.png``; white =
defect; any size); without it, ``--n`` new masks are drawn from the real
masks kept in the model, moved, scaled, rotated and mirrored
(:func:`~generative.defect_synth.masks.novel_masks`). Each mask goes onto
a normal image (in turn, shuffled with ``--seed``). Written atomically:
``images/<class>/NAME.png`` (a classifier's training layout),
``masks/<class>/NAME.png``, ``samples.csv``, ``metrics.json`` (outside-mask
change of the raw output) and ``preview.png``. ``--blend mask`` (default)
keeps the normal image outside the mask grown by 1 px; ``--blend none``
writes the raw network output.

Bad inputs print one line ``twinloop: ...`` and exit with status 2.
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import sys
import time
from pathlib import Path
from typing import Any

from scenarios.cli_runtime import EXIT_OK, guard
from scenarios.cli_runtime import set_torch_threads as _threads, torch_threads as _torch_threads
from scenarios.cli_types import names as _names, nonneg_int as _nonneg_int, positive_int as _pos_int

__all__ = ["add_train_parser", "add_sample_parser", "cmd_train_defect", "cmd_sample_defect"]

TRAIN_LAYOUT = """data folder layouts (--data; images read as grey, resized to --size):
  DATA/normal/*.png                   defect-free images (folder named normal, free, good, ok or
                                      defect_free, or give --normal-class)
  DATA/<class>/images/NAME.jpg        defect images of <class>
  DATA/<class>/masks/NAME.png         their masks, same stem (white = defect)
or the magnetic-tile layout: DATA/MT_<class>/Imgs/NAME.jpg + NAME.png (MT_Free = normal)

output: OUT/checkpoints/step_NNNNNN.ckpt during training; then model.ckpt, report.html and, last,
metrics.json. Continue a stopped run with --resume OUT/checkpoints/step_NNNNNN.ckpt --out OUT."""

SAMPLE_LAYOUT = """inputs:
  --normal IMG_DIR                    defect-free images (any size; resized to the model's)
  --masks MASK_DIR/<class>/*.png      binary masks per defect class (white = defect); without
                                      --masks, --n new masks from the model's real ones
output (atomic): images/<class>/*.png, masks/<class>/*.png, samples.csv, metrics.json, preview.png"""


def add_train_parser(gan_kinds: argparse._SubParsersAction) -> None:
    """Register ``defect`` on the ``twinloop train gan`` sub-command parser."""
    p = gan_kinds.add_parser("defect", help="SyNDGAN-like defect synthesizer: normal image + defect map -> defect "
                                            "image (trained from scratch)",
                             description="Train the SyNDGAN-like defect synthesizer on a folder of images.",
                             epilog=TRAIN_LAYOUT, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, required=True, help="folder of normal images and defect images with masks "
                                                            "(layout below)")
    p.add_argument("--out", type=Path, required=True, help="output folder (model.ckpt, checkpoints/, metrics.json, "
                                                           "report.html)")
    p.add_argument("--steps", type=_pos_int, default=4000, help="optimiser steps in all (feature network + "
                                                                "pretraining + synthesis; default 4000)")
    p.add_argument("--seed", type=int, default=0, help="seed of weights, batches and noise (default 0)")
    p.add_argument("--checkpoint-every", type=_nonneg_int, default=500, help="write a checkpoint every K steps "
                                                                             "(0: none; default 500)")
    p.add_argument("--resume", type=Path, help="continue from this checkpoint (its settings are used)")
    p.add_argument("--size", type=_pos_int, default=64, help="image size in px, a power of two >= 32 (default 64)")
    p.add_argument("--batch-size", type=_pos_int, default=8, help="images per GAN step (default 8)")
    p.add_argument("--feature-steps", type=_nonneg_int, help="steps of the feature network (default: 1/4 of "
                                                             "--steps, at most 1000)")
    p.add_argument("--pretrain-steps", type=_nonneg_int, help="steps of unconditional decoder pretraining "
                                                              "(default: 3/8 of --steps)")
    p.add_argument("--holdout", type=float, default=0.2, help="share of each class held out for the metrics "
                                                              "(0: none, no metrics; default 0.2)")
    p.add_argument("--eval-feature-steps", type=_pos_int, default=1000,
                   help="steps of the evaluation feature network (default 1000)")
    p.add_argument("--normal-class", help="name of the defect-free folder (default: recognised by name)")
    p.add_argument("--threads", type=_pos_int, help="torch threads (default: torch's own; on a shared machine "
                                                   "use 1: competing threads can make a step many times slower)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing non-empty --out folder")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(handler=cmd_train_defect)


def add_sample_parser(sample_kinds: argparse._SubParsersAction) -> None:
    """Register ``defect`` on the ``twinloop sample`` sub-command parser."""
    p = sample_kinds.add_parser("defect", help="paint defects onto normal images with a trained defect synthesizer",
                                description="Paint defects onto normal images with a trained defect synthesizer.",
                                epilog=SAMPLE_LAYOUT, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", type=Path, required=True, help="folder from 'twinloop train gan defect' (or a .ckpt)")
    p.add_argument("--out", type=Path, required=True, help="output folder (created atomically)")
    p.add_argument("--normal", type=Path, required=True, help="folder of defect-free images")
    p.add_argument("--masks", type=Path, help="folder with one subfolder of mask images per defect class "
                                              "(default: new masks from the model's real ones)")
    p.add_argument("--n", type=_pos_int, default=50, help="number of new masks without --masks (default 50)")
    p.add_argument("--classes", type=_names, help="comma-separated defect classes for new masks (default: all)")
    p.add_argument("--seed", type=int, default=0, help="seed of pairing, new masks and noise (default 0)")
    p.add_argument("--blend", choices=("mask", "none"), default="mask",
                   help="mask: keep the normal image outside the (1 px grown) mask (default); none: raw output")
    p.add_argument("--threads", type=_pos_int, help="torch threads (default: torch's own)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing non-empty --out folder")
    p.set_defaults(handler=cmd_sample_defect)


# -- train -------------------------------------------------------------------------------------------
def cmd_train_defect(args: argparse.Namespace) -> int:
    def work() -> int:
        from generative.base import qualified_name
        from generative.checkpoint import read_checkpoint
        from generative.defect_synth import DefectSynthesizer, load_defect_folder, split_defect_data

        out: Path = args.out
        _check_train_out(out, args.resume, args.overwrite)
        _threads(args.threads)
        if not 0.0 <= args.holdout < 1.0:
            raise ValueError(f"--holdout must be in [0, 1), got {args.holdout}")
        if args.resume is not None:
            _, state = read_checkpoint(args.resume, qualified_name(DefectSynthesizer))
            params = {**json.loads(state["params"]), "steps": args.steps, "checkpoint_every": args.checkpoint_every}
            size = int(params["size_px"])
        else:
            size = args.size
            fs = args.feature_steps if args.feature_steps is not None else min(1000, args.steps // 4)
            ps = args.pretrain_steps if args.pretrain_steps is not None else (3 * args.steps) // 8
            params = {"steps": args.steps, "checkpoint_every": args.checkpoint_every, "size_px": size,
                      "batch_size": args.batch_size, "feature_steps": fs, "pretrain_steps": ps}
        data = load_defect_folder(args.data, size_px=size, normal_class=args.normal_class)
        if args.holdout > 0:
            train, test = split_defect_data(data, args.holdout, 0)
        else:
            train, test = data, None
        model = DefectSynthesizer(**params)
        t0 = time.perf_counter()
        with _Bar(not args.no_progress, "steps") as bar:
            model.fit(train, seed=args.seed, checkpoint_dir=out / "checkpoints" if args.checkpoint_every else None,
                      resume_from=args.resume, progress=bar)
        seconds = time.perf_counter() - t0
        out.mkdir(parents=True, exist_ok=True)
        model.save(out / "model.ckpt")
        metrics: dict[str, Any] = {"data": str(args.data), "classes": list(data.classes), "counts": data.counts(),
                                   "train": train.counts(), "params": model.get_params(), "seed": args.seed,
                                   "resumed_from": str(args.resume) if args.resume else None,
                                   "train_seconds": seconds,
                                   "final_losses": model.history_[-1] if model.history_ else {},
                                   "pretrained_weights": "none: trained from scratch on --data"}
        report = None
        if test is not None:
            metrics_eval, report = _evaluate(model, train, test, args)
            metrics.update(metrics_eval)
        from scenarios.defect_synthesis import SYN
        from twin.runfolder import atomic_write_bytes, json_text

        if report is not None:
            atomic_write_bytes(out / "report.html", report.encode("utf-8"))
        else:
            from scenarios.defect_synthesis import loss_figure
            from scenarios.report_html import Section, figure_html, page_html

            page = page_html("Defect synthesizer training", "no held-out images (--holdout 0): no metrics",
                             [Section("Loss curves", "Per optimiser step.",
                                      figure_html(loss_figure(model.history_, SYN), "loss-0", 380), "losses")])
            atomic_write_bytes(out / "report.html", page.encode("utf-8"))
        atomic_write_bytes(out / "metrics.json", json_text(metrics).encode("utf-8"))
        line = f"trained {model.step_} steps in {seconds:.0f} s"
        for row in metrics.get("table", []):
            if row["method"] in (SYN, f"{SYN}, blended", "copy-paste", "real training defects (floor)"):
                line += f"\n  {row['method']}: FID {row['fid']:.2f}, KID {row['kid'] * 1e3:.2f}e-3"
                if "outside_changed_fraction" in row:
                    line += f", outside-mask changed {row['outside_changed_fraction']:.4f}"
        sys.stdout.write(f"{line}\nmodel: {out / 'model.ckpt'}\nreport: {(out / 'report.html').resolve()}\n")
        return EXIT_OK

    return _guard(work)


def _evaluate(model, train, test, args) -> tuple[dict, str]:
    from generative.defect_synth import train_feature_net
    from scenarios.defect_synthesis import DEFAULTS, SYN, build_report, evaluate

    espec = dict(DEFAULTS["evaluation"])
    espec["seed"] = args.seed
    net = train_feature_net(train.images, train.labels, len(train.classes), steps=args.eval_feature_steps,
                            seed=args.seed + 1, device=model.device_)
    metrics, samples = evaluate({SYN: model}, train, test, net, espec)
    metrics["budget"] = {"threads": _torch_threads(), "device": str(model.device_), "synthesizer_steps": model.step_,
                         "phases": {"feature": int(model.feature_steps), "pretrain": int(model.pretrain_steps),
                                    "synthesis": max(0, model.step_ - int(model.feature_steps)
                                                     - int(model.pretrain_steps))},
                         "pix2pix_steps": 0, "batch_size": int(model.batch_size),
                         "evaluation_feature_steps": args.eval_feature_steps}
    spec = {"evaluation": espec}
    return metrics, build_report(metrics, samples, {SYN: model}, spec)


def _check_train_out(out: Path, resume: Path | None, overwrite: bool) -> None:
    if not out.exists() or (out.is_dir() and not any(out.iterdir())):
        return
    if out.is_file():
        raise ValueError(f"--out {out} is a file")
    if resume is not None and Path(resume).resolve().is_relative_to(out.resolve()):
        return  # continuing a run in its own folder
    if overwrite:
        import shutil

        shutil.rmtree(out)
        return
    raise ValueError(f"output folder {out} already exists and is not empty; choose another, pass --overwrite, or "
                     f"--resume one of its checkpoints")


# -- sample --------------------------------------------------------------------------------------------
def cmd_sample_defect(args: argparse.Namespace) -> int:
    def work() -> int:
        import numpy as np

        from generative.defect_synth import DefectSynthesizer, blend_into, class_map, novel_masks
        from generative.defect_synth.grid import tile
        from generative.defect_synth.maps import overlay
        from generative.image_metrics import outside_mask_change
        from twin.runfolder import RunFolder

        RunFolder(args.out, overwrite=args.overwrite).check_target()
        _threads(args.threads)
        path = args.model / "model.ckpt" if args.model.is_dir() else args.model
        model = DefectSynthesizer.load(path)
        size = int(model.size_px)
        normals, normal_names = _read_folder(args.normal, size)
        rng = np.random.default_rng(args.seed)
        if args.masks is not None:
            masks, labels, names = _read_masks(args.masks, size, model.classes_)
            mask_info: dict[str, Any] = {"source": str(args.masks)}
        else:
            wanted = _class_indices(args.classes, model.classes_)
            bank_classes = np.unique(model.mask_bank_labels_)
            wanted = wanted if wanted is not None else bank_classes
            missing = sorted(set(wanted.tolist()) - set(bank_classes.tolist()))
            if missing:
                raise ValueError(f"the model keeps no real masks of class(es) {[model.classes_[k] for k in missing]}")
            masks, labels, _, iou = novel_masks(model.mask_bank_, model.mask_bank_labels_, args.n, rng,
                                                classes=wanted[np.arange(args.n) % len(wanted)])
            names = [f"new_{i:05d}" for i in range(args.n)]
            mask_info = {"source": "new masks from the model's real ones (moved, scaled, rotated, mirrored)",
                         "max_iou_with_real": float(iou.max()), "median_max_iou_with_real": float(np.median(iou))}
        order = rng.permutation(len(normals))
        pick = order[np.arange(len(masks)) % len(normals)]
        tiles = normals[pick]
        raw = model.sample(len(masks), condition=(tiles, class_map(masks, labels)), seed=args.seed)
        images = blend_into(tiles, raw, masks) if args.blend == "mask" else raw
        change = outside_mask_change(tiles, raw, masks)
        per_image = change.pop("outside_changed_fraction_per_image")
        with RunFolder(args.out, overwrite=args.overwrite) as run:
            rows = []
            for i, (img, m, k, name) in enumerate(zip(images, masks, labels, names)):
                cls = model.classes_[int(k)]
                fname = f"{i:05d}_{_safe(name)}.png"
                run.write_bytes(f"images/{cls}/{fname}", _png(img))
                run.write_bytes(f"masks/{cls}/{fname}", _png((m * 255).astype(np.uint8)))
                rows.append({"file": f"images/{cls}/{fname}", "mask": f"masks/{cls}/{fname}", "class": cls,
                             "normal": normal_names[int(pick[i])], "mask_source": name,
                             "outside_changed_fraction_raw": round(per_image[i], 6)})
            run.write_text("samples.csv", _csv(rows))
            k = min(len(images), 16)
            run.write_bytes("preview.png", _png(tile([tiles[:k], overlay(tiles[:k], class_map(masks[:k], labels[:k])),
                                                      raw[:k], images[:k]])))
            run.write_json("metrics.json", {"model": str(path), "n": int(len(images)), "blend": args.blend,
                                            "classes": {c: int(np.sum(labels == j)) for j, c in
                                                        enumerate(model.classes_) if np.sum(labels == j)},
                                            "masks": mask_info, "outside_mask_change_raw": change,
                                            "size_px": size, "seed": args.seed})
        sys.stdout.write(f"{len(images)} defect images ({args.blend} blend); raw output changed "
                         f"{change['outside_changed_fraction']:.4f} of the pixels outside the masks\n"
                         f"output folder: {args.out}\n")
        return EXIT_OK

    return _guard(work)


def _read_folder(folder: Path, size: int):
    import numpy as np

    from generative.defect_synth.data import list_images, read_image

    if not folder.is_dir():
        raise ValueError(f"{folder}: not a folder")
    files = list_images(folder)
    if not files:
        raise ValueError(f"{folder}: no images")
    return np.stack([read_image(p, size) for p in files]), [str(p) for p in files]


def _read_masks(folder: Path, size: int, classes: tuple[str, ...]):
    import numpy as np

    from generative.defect_synth.data import IMAGE_SUFFIXES, read_mask

    if not folder.is_dir():
        raise ValueError(f"{folder}: not a folder")
    subs = sorted(p for p in folder.iterdir() if p.is_dir())
    if not subs:
        raise ValueError(f"{folder}: no class subfolders (expected e.g. {folder}/{classes[1]}/mask.png)")
    masks, labels, names = [], [], []
    for sub in subs:
        cls = sub.name.removeprefix("MT_")
        if cls not in classes[1:]:
            raise ValueError(f"{sub}: unknown defect class {cls!r}; the model knows {list(classes[1:])}")
        for p in sorted(sub.rglob("*")):
            if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES:
                m = read_mask(p, size)
                if not m.any():
                    raise ValueError(f"{p}: empty mask (white = defect)")
                masks.append(m)
                labels.append(classes.index(cls))
                names.append(p.stem)
    if not masks:
        raise ValueError(f"{folder}: no mask images")
    return np.stack(masks), np.array(labels, dtype=np.int64), names


def _class_indices(names: list[str] | None, classes: tuple[str, ...]):
    import numpy as np

    if names is None:
        return None
    bad = [n for n in names if n not in classes[1:]]
    if bad:
        raise ValueError(f"unknown defect class(es) {bad}; the model knows {list(classes[1:])}")
    return np.array([classes.index(n) for n in names], dtype=np.int64)


# -- helpers ---------------------------------------------------------------------------------------------
class _Bar:
    def __init__(self, show: bool, unit: str):
        self.show, self.unit, self.bar = show, unit, None

    def __call__(self, done: int, total: int) -> None:
        if not self.show:
            return
        if self.bar is None:
            from scenarios.progress import TqdmProgress

            self.bar = TqdmProgress(total, self.unit)
        self.bar(done, total)

    def __enter__(self) -> "_Bar":
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.close()


def _png(a) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(a).save(buf, format="PNG")
    return buf.getvalue()


def _csv(rows: list[dict]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[:60]


def _guard(work) -> int:
    from generative.checkpoint import CheckpointError
    from twin.runfolder import RunFolderExistsError

    return guard(work, (CheckpointError, RunFolderExistsError, ValueError, FileNotFoundError))


