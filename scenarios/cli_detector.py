"""``twinloop train detector`` and ``twinloop evaluate detector``: the digit detector at the command line.

::

    twinloop train detector --data RUN_DIR[,RUN_DIR...] --out DIR [--steps N] [--batch-size B] [--seed S]
                            [--checkpoint-every K] [--resume] [--model small_chars|tiny|torchvision] [--lr LR]
                            [--score-threshold T] [--threads T] [--overwrite] [--no-progress]
    twinloop evaluate detector --model DIR --data RUN_DIR[,RUN_DIR...] --out DIR [--score-threshold T]
                               [--iou-threshold T] [--threads T] [--overwrite]

``train detector`` reads the billet images and character boxes of the run
folders (``billets.parquet``), trains :class:`learners.detector.DigitDetector`
from scratch and writes the model folder atomically: ``model.twl``,
``metrics.json`` (data, settings, time, final loss) and ``history.parquet``
(loss per step). Every K steps it writes a checkpoint beside the output
folder, ``<DIR>.checkpoint.twl``; after an interruption, the same command
with ``--resume`` continues from it (bit-identical to an uninterrupted run
with the same thread count); the checkpoint is removed once the model
folder is written.

``evaluate detector`` reads held-out run folders and writes ``metrics.json``
(TP / MC / FN / FP / CB at IoU >= 0.5 per visibility subset; the billet ID
read without the decoder, with schema and check character, and with the
previous ID of the strand as well) and ``readings.parquet`` (one row per
billet). The decoder's schema (caster letter, year, strands) comes from each
run folder's ``config.toml``.

Bad inputs (a missing folder or file, a billet row without an image, a
corrupt or foreign model file) print one line ``twinloop: ...`` naming
it and exit with status 2; nothing is written.

Register with :func:`add_train_parser` / :func:`add_evaluate_parser` on the
``train`` / ``evaluate`` sub-parser groups.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any, Sequence

from scenarios.cli_runtime import EXIT_OK, guard, set_torch_threads as _threads
from scenarios.cli_types import nonneg_int as _nonneg_int, positive_int as _pos_int

__all__ = ["add_train_parser", "add_evaluate_parser", "cmd_train_detector", "cmd_evaluate_detector",
           "checkpoint_path_for"]


def add_train_parser(kinds: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``detector`` to the ``train`` group."""
    p = kinds.add_parser("detector", help="digit detector (Faster R-CNN) on billet images, trained from scratch")
    _data_out(p)
    p.add_argument("--steps", type=_pos_int, default=1200, help="optimiser steps (default 1200)")
    p.add_argument("--batch-size", type=_pos_int, default=4, help="images per step (default 4)")
    p.add_argument("--seed", type=int, default=0, help="seed of weights, batches and augmentation (default 0)")
    p.add_argument("--checkpoint-every", type=_nonneg_int, default=100,
                   help="write <out>.checkpoint.twl every K steps (0: never; default 100)")
    p.add_argument("--resume", action="store_true", help="continue from <out>.checkpoint.twl if it exists")
    p.add_argument("--model", default="small_chars", choices=("small_chars", "tiny", "torchvision"),
                   help="architecture preset (default small_chars)")
    p.add_argument("--lr", type=float, default=1e-3, help="AdamW learning rate (default 1e-3)")
    p.add_argument("--score-threshold", type=float, default=0.5,
                   help="score of a detection that counts as a reading (default 0.5)")
    p.add_argument("--threads", type=_pos_int, help="torch threads (default: torch's own)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(handler=cmd_train_detector)
    return p


def add_evaluate_parser(kinds: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``detector`` to the ``evaluate`` group."""
    p = kinds.add_parser("detector", help="score a trained digit detector on billet run folders")
    p.add_argument("--model", type=Path, required=True,
                   help="model folder written by 'twinloop train detector' (or its model.twl)")
    _data_out(p)
    p.add_argument("--score-threshold", type=float, help="operating point (default: the model's)")
    p.add_argument("--iou-threshold", type=float, default=0.5, help="IoU of a found character (default 0.5)")
    p.add_argument("--threads", type=_pos_int, help="torch threads (default: torch's own)")
    p.set_defaults(handler=cmd_evaluate_detector)
    return p


def checkpoint_path_for(out: Path) -> Path:
    """Where ``train detector --out OUT`` keeps its checkpoint: ``OUT.checkpoint.twl`` beside OUT."""
    out = Path(out)
    return out.parent / f"{out.name}.checkpoint.twl"


# -- handlers ---------------------------------------------------------------------

def cmd_train_detector(args: argparse.Namespace) -> int:
    def work() -> int:
        import pyarrow as pa
        import pyarrow.parquet as pq

        from learners.detector import DigitDetector, read_billet_images
        from learners.storage import MODEL_FILE
        from twin.runfolder import RunFolder, finite_json

        RunFolder(args.out, overwrite=args.overwrite).check_target()
        _threads(args.threads)
        samples = read_billet_images(args.data)
        ckpt = checkpoint_path_for(args.out)
        ckpt.parent.mkdir(parents=True, exist_ok=True)
        det = DigitDetector(model=args.model, steps=args.steps, batch_size=args.batch_size, lr=args.lr,
                            score_threshold=args.score_threshold, checkpoint_every=args.checkpoint_every,
                            checkpoint_path=ckpt, seed=args.seed)
        resumed_at = 0
        if args.resume and ckpt.exists():
            resumed_at = DigitDetector.load(ckpt).step_
        from scenarios.progress import TqdmProgress

        bar = None if args.no_progress else TqdmProgress(args.steps, "steps", bar_format=None)
        if bar is not None and resumed_at:
            bar(resumed_at, args.steps)
        t0 = time.perf_counter()
        try:
            det.fit(samples, progress=bar, resume=args.resume)
        finally:
            if bar is not None:
                bar.close()
        seconds = time.perf_counter() - t0
        tail = [h["loss"] for h in det.history_[-50:]]
        metrics = {"model": "detector", "params": _plain(det.get_params()), "spec": det.spec_.to_dict(),
                   "data": [str(d) for d in args.data], "images": len(samples),
                   "characters": int(sum(len(s.chars) for s in samples)), "steps": int(det.step_),
                   "resumed_at_step": int(resumed_at), "train_seconds": seconds,
                   "final_loss": sum(tail) / len(tail) if tail else None}
        with RunFolder(args.out, overwrite=args.overwrite) as run:
            det.save(run.path(MODEL_FILE))
            pq.write_table(pa.Table.from_pylist(det.history_), run.path("history.parquet"))
            run.write_json("metrics.json", finite_json(metrics))
        ckpt.unlink(missing_ok=True)
        sys.stdout.write(f"trained on {len(samples)} billet images for {det.step_} steps"
                         f"{f' (resumed at step {resumed_at})' if resumed_at else ''} in {seconds:.1f} s; "
                         f"final loss {_f(metrics['final_loss'])}\nmodel folder: {args.out}\n")
        return EXIT_OK

    return _guard(work)


def cmd_evaluate_detector(args: argparse.Namespace) -> int:
    def work() -> int:
        import pyarrow as pa
        import pyarrow.parquet as pq

        from learners.detector import BilletIdDecoder, id_metrics, read_billet_images, reading_metrics
        from learners.detector.evaluate import decode_ids
        from learners.detector.run_schema import id_schema_of_run
        from twin.runfolder import RunFolder, finite_json

        RunFolder(args.out, overwrite=args.overwrite).check_target()
        _threads(args.threads)
        det = _load_detector(args.model)
        thr = float(args.score_threshold if args.score_threshold is not None else det.score_threshold)
        t0 = time.perf_counter()
        samples_all, readings, rows = [], [], []
        for d in args.data:
            samples = read_billet_images(d)
            dets = det.predict_many(samples)
            rows += decode_ids(samples, dets, BilletIdDecoder(id_schema_of_run(d)))
            samples_all += samples
            readings += [x.above(thr) for x in dets]
        reading = reading_metrics(samples_all, readings, iou_threshold=args.iou_threshold)
        metrics = {"model": str(args.model), "data": [str(d) for d in args.data], "billets": len(samples_all),
                   "score_threshold": thr, "reading": reading, "ids": id_metrics(rows),
                   "seconds": time.perf_counter() - t0}
        with RunFolder(args.out, overwrite=args.overwrite) as run:
            pq.write_table(pa.Table.from_pylist(rows), run.path("readings.parquet"))
            run.write_json("metrics.json", finite_json(metrics))
        a = reading["subsets"]["all"]
        ids = metrics["ids"]["all"]

        def pct(v: Any) -> str:
            return "—" if v is None else f"{100 * v:.1f} %"

        sys.stdout.write(
            f"{len(samples_all)} billets, {a['characters']} characters: TP {pct(a['tp'])}, MC {pct(a['mc'])}, "
            f"FN {pct(a['fn'])}, FP {pct(a['fp'])}, CB {pct(a['cb'])}\n"
            f"IDs right: no decoder {pct(ids['raw']['correct'])}, schema + check "
            f"{pct(ids['schema_check']['correct'])} (refused {pct(ids['schema_check']['refused'])}), "
            f"+ previous {pct(ids['schema_check_previous']['correct'])}\n"
            f"metrics: {Path(args.out) / 'metrics.json'}\n")
        return EXIT_OK

    return _guard(work)


# -- helpers ------------------------------------------------------------------------

def _load_detector(path: Path):
    from learners.detector import DigitDetector
    from learners.records import LearnerInputError
    from learners.storage import MODEL_FILE

    path = Path(path)
    if not path.exists():
        raise LearnerInputError(f"{path}: no such model folder")
    file = path / MODEL_FILE if path.is_dir() else path
    if path.is_dir() and not file.is_file():
        raise LearnerInputError(f"{path}: no {MODEL_FILE} (is it a folder written by 'twinloop train detector'?)")
    return DigitDetector.load(file)


def _guard(work) -> int:
    from learners.records import LearnerInputError
    from learners.storage import LearnerFileError
    from twin.runfolder import RunFolderExistsError

    return guard(work, (LearnerInputError, LearnerFileError, RunFolderExistsError, ValueError))


def _data_out(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", type=_paths, nargs="+", action=_Extend, required=True,
                   help="billet run folder(s) with billets.parquet (comma-separated or space-separated)")
    p.add_argument("--out", type=Path, required=True, help="output folder (created atomically)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing non-empty --out folder")


class _Extend(argparse.Action):
    """``--data a,b c --data d``: one flat list of paths."""

    def __call__(self, parser, namespace, values, option_string=None):
        items = list(getattr(namespace, self.dest, None) or [])
        for v in values:
            items += v
        setattr(namespace, self.dest, items)


def _paths(text: str) -> list[Path]:
    parts = [t.strip() for t in text.split(",") if t.strip()]
    if not parts:
        raise argparse.ArgumentTypeError(f"expected run folder(s), got {text!r}")
    return [Path(t) for t in parts]


def _plain(params: dict) -> dict:
    return {k: (str(v) if isinstance(v, Path) else v) for k, v in params.items()}



def _f(v: Any, digits: int = 3) -> str:
    return "—" if v is None else f"{v:.{digits}f}"


def main(argv: Sequence[str] | None = None) -> int:
    """These two commands without the rest of the CLI (tests; ``python -m scenarios.cli_detector``)."""
    parser = argparse.ArgumentParser(prog="twinloop")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    train = commands.add_parser("train", help="train a learner")
    add_train_parser(train.add_subparsers(dest="train_kind", required=True, metavar="MODEL"))
    ev = commands.add_parser("evaluate", help="score a trained model")
    add_evaluate_parser(ev.add_subparsers(dest="evaluate_kind", required=True, metavar="MODEL"))
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
