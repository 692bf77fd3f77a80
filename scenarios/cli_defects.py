"""``twinloop train defects`` and ``twinloop evaluate defects``: the image defect classifier on a folder."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from twin.runfolder import RunFolder

from scenarios.cli_runtime import EXIT_OK, EXIT_USAGE

MODEL_NAME = "model.twl"


def add_parsers(train_kinds: argparse._SubParsersAction, evaluate_kinds: argparse._SubParsersAction) -> None:
    tr = train_kinds.add_parser("defects", help="image defect classifier (ResNet-18 / EfficientNet-B0 from scratch)")
    _data_args(tr)
    tr.add_argument("--out", type=Path, required=True, help="output folder (model.twl, metrics.json)")
    tr.add_argument("--arch", choices=("resnet18", "efficientnet_b0"), default="resnet18")
    tr.add_argument("--epochs", type=int, default=15)
    tr.add_argument("--batch-size", type=int, default=32)
    tr.add_argument("--lr", type=float, default=2e-3)
    tr.add_argument("--seed", type=int, default=0)
    tr.add_argument("--test-fraction", type=float, default=0.3,
                    help="held-out share of every class, scored after training (default 0.3)")
    tr.add_argument("--threads", type=int, help="torch threads (default: torch's own)")
    tr.add_argument("--overwrite", action="store_true")
    tr.add_argument("--no-progress", action="store_true")
    tr.set_defaults(handler=cmd_train)
    ev = evaluate_kinds.add_parser("defects", help="score a trained defect classifier on a labelled image folder")
    ev.add_argument("--model", type=Path, required=True, help="folder with model.twl (or the file)")
    _data_args(ev, size=False)
    ev.add_argument("--out", type=Path, required=True, help="output folder (metrics.json)")
    ev.add_argument("--overwrite", action="store_true")
    ev.set_defaults(handler=cmd_evaluate)


def _data_args(p: argparse.ArgumentParser, size: bool = True) -> None:
    p.add_argument("--data", type=Path, required=True,
                   help="image folder: one subfolder per class (--layout subfolders) or CLASS_N.jpg files (prefix)")
    p.add_argument("--layout", choices=("subfolders", "prefix"), default="subfolders")
    p.add_argument("--pattern", default="*", help="file pattern inside the class folders (e.g. '*.jpg')")
    if size:
        p.add_argument("--size", type=int, default=96, help="images are resized to SIZE x SIZE grey (default 96)")


def _err(msg: str) -> int:
    sys.stderr.write(f"twinloop: {msg}\n")
    return EXIT_USAGE


def cmd_train(args: argparse.Namespace) -> int:
    from learners.defects import DefectClassifier, classification_scores, load_image_folder, split_stratified

    RunFolder(args.out, overwrite=args.overwrite).check_target()
    try:
        data = load_image_folder(args.data, size_px=args.size, layout=args.layout, pattern=args.pattern)
        train, test = split_stratified(data.labels, args.test_fraction, args.seed)
    except ValueError as exc:
        return _err(str(exc))
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    bar = None
    if not args.no_progress:
        from scenarios.progress import TqdmProgress

        bar = TqdmProgress(1, "steps", desc="train defects")
    clf = DefectClassifier(arch=args.arch, size_px=args.size, epochs=args.epochs, batch_size=args.batch_size,
                           lr=args.lr, seed=args.seed)
    try:
        clf.fit(data.subset(train), progress=(lambda d, t: (setattr(bar._bar, "total", t), bar(d))) if bar else None)
    finally:
        if bar is not None:
            bar.close()
    scores = classification_scores(data.labels[test], clf.predict(data.images[test]), data.classes)
    scores.update({"n_train": int(len(train)), "n_test": int(len(test)), "params": clf.get_params()})
    with RunFolder(args.out, overwrite=args.overwrite) as folder:
        clf.save(folder.path(MODEL_NAME))
        folder.write_json("metrics.json", scores)
    sys.stdout.write(f"held-out macro-F1 {scores['macro_f1']:.3f}, accuracy {scores['accuracy']:.3f}\n"
                     f"model: {args.out / MODEL_NAME}\n")
    return EXIT_OK


def cmd_evaluate(args: argparse.Namespace) -> int:
    from learners.defects import DefectClassifier, classification_scores, load_image_folder
    from learners.storage import LearnerFileError

    RunFolder(args.out, overwrite=args.overwrite).check_target()
    path = args.model / MODEL_NAME if args.model.is_dir() else args.model
    try:
        clf = DefectClassifier.load(path)
        data = load_image_folder(args.data, size_px=clf.size_px, layout=args.layout, pattern=args.pattern)
    except (LearnerFileError, ValueError) as exc:
        return _err(str(exc))
    unknown = set(data.classes) - set(clf.classes_)
    if unknown:
        return _err(f"{args.data}: classes {sorted(unknown)} were not in the model's training data {clf.classes_}")
    remap = {k: clf.classes_.index(c) for k, c in enumerate(data.classes)}
    y = [remap[int(v)] for v in data.labels]
    scores = classification_scores(y, clf.predict(data.images), clf.classes_)
    with RunFolder(args.out, overwrite=args.overwrite) as folder:
        folder.write_json("metrics.json", scores)
    sys.stdout.write(f"macro-F1 {scores['macro_f1']:.3f}, accuracy {scores['accuracy']:.3f}\n")
    return EXIT_OK
