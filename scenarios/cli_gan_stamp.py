"""``twinloop train gan stamp`` and ``twinloop sample stamp``: parsers and handlers (registered by scenarios.cli).

Train on a folder of (mask, image) pairs (:mod:`generative.stamp_pairs`)::

    twinloop train gan stamp --data PAIR_DIR --out runs/stamp --steps 4000 [--seed 0]
        [--checkpoint-every 1000] [--resume runs/stamp/checkpoints/step_002000.ckpt]
    twinloop train gan stamp --build-pairs --data pairs/ --out runs/stamp --steps 4000

``--build-pairs`` first writes stand-in pairs built from the real data under
``$TWINLOOP_REALDATA`` into ``PAIR_DIR/train`` and ``PAIR_DIR/holdout``
(:func:`generative.stamp_realdata.build_stamp_pairs`, which needs no
twinloop package) and trains on ``PAIR_DIR/train``; ``--data`` may also
name such a folder directly. The training folder gets ``checkpoints/``
(written as training goes, so an interrupted run can ``--resume``),
then ``model.ckpt``, ``metrics.json`` and ``report.html`` (each written
atomically). A resumed run takes its settings from the checkpoint.

Sample on masks of one's own::

    twinloop sample stamp --model runs/stamp[,runs/stamp/checkpoints/step_002000.ckpt] --masks MASK_DIR --out DIR

writes ``DIR/NAME.png`` (the cGAN's patch), ``DIR/procedural/NAME.png``
(the physics rendering it started from) and ``DIR/samples.json`` (which
checkpoint rendered each). With several checkpoints one is picked per
mask (seeded).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from scenarios.cli_runtime import EXIT_FAILURE, EXIT_OK, EXIT_USAGE
from scenarios.cli_types import nonneg_int as _nonneg_int, positive_int as _positive_int


def add_train_parser(gan_kinds: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = gan_kinds.add_parser("stamp", help="pix2pix stamp texture (U-Net + PatchGAN) from (mask, image) pairs",
                             description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, required=True,
                   help="pair folder (masks/NAME.png + images/NAME.png), or a folder with train/ inside")
    p.add_argument("--out", type=Path, required=True, help="training folder (model.ckpt, checkpoints/, ...)")
    p.add_argument("--steps", type=_positive_int, required=True, help="optimiser steps in total")
    p.add_argument("--seed", type=int, default=0, help="seed of weights, batches and dropout (default 0)")
    p.add_argument("--checkpoint-every", type=_nonneg_int, default=None,
                   help="a checkpoint every K steps (default: a quarter of --steps; 0 = none)")
    p.add_argument("--resume", type=Path, help="continue exactly from this checkpoint (its settings are used)")
    p.add_argument("--build-pairs", action="store_true",
                   help="first build stand-in pairs from $TWINLOOP_REALDATA into DATA/train and DATA/holdout")
    p.add_argument("--size", type=_positive_int, default=64, help="patch side in px (default 64)")
    p.add_argument("--width", type=_positive_int, default=16, help="U-Net and PatchGAN base width (default 16)")
    p.add_argument("--batch-size", type=_positive_int, default=16, help="pairs per step (default 16)")
    p.add_argument("--threads", type=_positive_int, default=None, help="torch CPU threads (default: torch's)")
    p.add_argument("--overwrite", action="store_true", help="write into a non-empty --out folder")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(handler=cmd_train_stamp)
    return p


def add_sample_parser(sample_kinds: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sample_kinds.add_parser("stamp", help="textured stamp patches from masks with a trained stamp cGAN")
    p.add_argument("--model", required=True,
                   help="training folder or .ckpt file; several comma-separated (one picked per mask)")
    p.add_argument("--masks", type=Path, required=True, help="folder of mask PNGs (255 = stamped)")
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument("--seed", type=int, default=0, help="seed of the procedural renderings and picks (default 0)")
    p.add_argument("--overwrite", action="store_true", help="write into a non-empty --out folder")
    p.set_defaults(handler=cmd_sample_stamp)
    return p


def _err(msg: str) -> None:
    sys.stderr.write(f"twinloop: {msg}\n")


def _pair_dir(data: Path) -> Path:
    if not (data / "masks").is_dir() and (data / "train" / "masks").is_dir():
        return data / "train"
    return data


def _check_out(out: Path, ok: bool) -> bool:
    if out.exists() and (out.is_file() or any(out.iterdir())) and not ok:
        _err(f"output folder {out} already exists and is not empty; choose another folder or pass --overwrite")
        return False
    return True


def cmd_train_stamp(args: argparse.Namespace) -> int:
    resume_inside = args.resume is not None and args.out.resolve() in Path(args.resume).resolve().parents
    if not _check_out(args.out, args.overwrite or resume_inside):
        return EXIT_USAGE
    try:
        import torch

        from generative.checkpoint import CheckpointError
        from generative.stamp_cgan import StampCGAN
        from generative.stamp_pairs import load_pair_folder
    except ImportError as exc:
        _err(f"the stamp cGAN needs torch: {exc}")
        return EXIT_FAILURE
    if args.threads:
        torch.set_num_threads(int(args.threads))
    build = None
    if args.build_pairs:
        import os

        from generative.stamp_realdata import StandInPairSpec, build_stamp_pairs

        root = os.environ.get("TWINLOOP_REALDATA")
        if not root:
            _err("--build-pairs reads the real data under TWINLOOP_REALDATA, which is not set")
            return EXIT_USAGE
        try:
            build = build_stamp_pairs(Path(root), args.data, seed=args.seed, spec=StandInPairSpec(size=args.size))
        except (FileNotFoundError, FileExistsError) as exc:
            _err(str(exc))
            return EXIT_USAGE
    data = _pair_dir(args.data)
    try:
        pairs = load_pair_folder(data, size=args.size)
        every = args.steps // 4 if args.checkpoint_every is None else args.checkpoint_every
        if args.resume is not None:
            saved = StampCGAN.load(args.resume).get_params()
            gan = StampCGAN(**{**saved, "steps": args.steps, "checkpoint_every": every})
            if pairs.size != gan.size:
                pairs = load_pair_folder(data, size=gan.size)
        else:
            gan = StampCGAN(steps=args.steps, checkpoint_every=every, size=args.size, width=args.width,
                            d_width=args.width, batch_size=args.batch_size)
    except (ValueError, CheckpointError) as exc:       # PairFolderError, CheckpointError: name the file
        _err(str(exc))
        return EXIT_USAGE
    progress = None
    if not args.no_progress:
        from scenarios.progress import TqdmProgress

        progress = TqdmProgress(args.steps, "steps")
    args.out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    try:
        gan.fit(pairs, seed=args.seed, checkpoint_dir=args.out / "checkpoints", resume_from=args.resume,
                progress=progress)
    except (ValueError, CheckpointError) as exc:
        _err(str(exc))
        return EXIT_USAGE
    finally:
        if progress is not None:
            progress.close()
    seconds = time.perf_counter() - t0
    gan.save(args.out / "model.ckpt")
    write_training_outputs(args.out, gan, pairs, data, seconds, build)
    sys.stdout.write(f"stamp cGAN: {args.out / 'model.ckpt'} ({gan.step_} steps, {seconds / 60:.1f} min)\n"
                     f"report: {(args.out / 'report.html').resolve()}\n")
    return EXIT_OK


def write_training_outputs(out: Path, gan, pairs, data: Path, seconds: float, build: dict | None) -> None:
    """``metrics.json`` and ``report.html`` of a training folder (atomic writes)."""
    import numpy as np

    from scenarios.stamp_cgan import training_sections
    from scenarios.report_html import esc, page_html
    from twin.runfolder import atomic_write_bytes, json_text

    last = gan.history_[-100:]
    metrics = {"data": str(data), "pairs": len(pairs), "what": pairs.info.get("what", ""), "params": gan.get_params(),
               "steps": int(gan.step_), "seed": int(gan.seed_), "seconds": round(seconds, 1),
               "final_losses": {k: float(np.mean([h[k] for h in last])) for k in ("d", "g_adv", "l1")} if last else {},
               "checkpoints": sorted(p.name for p in (out / "checkpoints").glob("step_*.ckpt")),
               "history_every_10": gan.history_[::10], "built_pairs": build}
    atomic_write_bytes(out / "metrics.json", json_text(metrics).encode("utf-8"))
    what = pairs.info.get("what", "")
    subtitle = (f"pix2pix U-Net + PatchGAN, {gan.step_} steps on {len(pairs)} pairs from <code>{esc(data)}</code>"
                + (f" — {esc(what)}" if what else ""))
    html = page_html("Stamp cGAN training", subtitle, training_sections(gan, pairs, seed=int(gan.seed_)))
    atomic_write_bytes(out / "report.html", html.encode("utf-8"))


def cmd_sample_stamp(args: argparse.Namespace) -> int:
    if not _check_out(args.out, args.overwrite):
        return EXIT_USAGE
    try:
        import numpy as np
        from PIL import Image

        from generative.checkpoint import CheckpointError
        from generative.stamp_pairs import load_mask_folder
        from generative.stamp_pool import StampCheckpointPool
        from physics.billet_render.stamp_texture import render_stamp_patch
    except ImportError as exc:
        _err(f"the stamp cGAN needs torch: {exc}")
        return EXIT_FAILURE
    try:
        pool = StampCheckpointPool.load(args.model)
        names, masks = load_mask_folder(args.masks, size=pool.size)
    except (ValueError, CheckpointError) as exc:
        _err(str(exc))
        return EXIT_USAGE
    seeds = np.random.SeedSequence(int(args.seed)).spawn(len(names) + 1)
    proc = np.stack([render_stamp_patch(m, np.random.default_rng(s), char_height_mm=pool.models[0].char_height_mm)
                     for m, s in zip(masks, seeds[1:])])
    out, picks = pool.translate(masks, proc, np.random.default_rng(seeds[0]))
    (args.out / "procedural").mkdir(parents=True, exist_ok=True)
    for name, a, b in zip(names, out, proc):
        Image.fromarray(np.clip(a * 255 + 0.5, 0, 255).astype(np.uint8), "L").save(args.out / f"{name}.png")
        Image.fromarray(np.clip(b * 255 + 0.5, 0, 255).astype(np.uint8), "L").save(args.out / "procedural" /
                                                                                  f"{name}.png")
    record = {"seed": int(args.seed), "checkpoints": pool.names,
              "samples": {n: pool.names[int(k)] for n, k in zip(names, picks)}}
    (args.out / "samples.json").write_text(json.dumps(record, indent=1), encoding="utf-8")
    sys.stdout.write(f"{len(names)} stamp patches: {args.out}\n")
    return EXIT_OK
