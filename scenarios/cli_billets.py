"""``twinloop simulate billets`` and ``twinloop export coco``: parsers and handlers (registered by scenarios.cli)."""
from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

from twin.config import config_hash, load_config
from twin.runfolder import RunFolder

from scenarios.cli_runtime import EXIT_FAILURE, EXIT_OK, EXIT_USAGE


def add_parsers(lines: argparse._SubParsersAction, commands: argparse._SubParsersAction, add_config_args,
                positive_int) -> None:
    billets = lines.add_parser("billets", help="billet line: caster, hot stamping, camera")
    billets.add_argument("--billets", type=positive_int, required=True, help="number of billets to photograph")
    billets.add_argument("--seed", type=int, help="root seed (sets run.seed; default: the config's)")
    billets.add_argument("--out", type=Path, required=True, help="output run folder (created atomically)")
    billets.add_argument("--site", choices=("A", "B"), help="camera site (sets camera.site)")
    billets.add_argument("--size", type=positive_int, help="image width and height in px (sets render.size_px)")
    add_config_args(billets)
    billets.add_argument("--overwrite", action="store_true", help="replace an existing non-empty --out folder")
    billets.add_argument("--no-progress", action="store_true", help="no progress bar")
    billets.add_argument("--no-report", action="store_true", help="do not write report.html into the run folder")
    billets.set_defaults(handler=cmd_simulate_billets)

    export = commands.add_parser("export", help="export a run folder in another format")
    formats = export.add_subparsers(dest="export_format", required=True, metavar="FORMAT")
    coco = formats.add_parser("coco", help="billet images and character boxes as a COCO detection data set")
    coco.add_argument("run_dir", type=Path, help="billet run folder (billets.parquet)")
    coco.add_argument("--out", type=Path, help="output folder (default: RUN_DIR/coco)")
    coco.add_argument("--overwrite", action="store_true", help="replace an existing export")
    coco.set_defaults(handler=cmd_export_coco)


def billet_overrides(args: argparse.Namespace) -> list[str]:
    overrides = list(args.set)
    if args.seed is not None:
        overrides.append(f"run.seed={args.seed}")
    if args.site is not None:
        overrides.append(f"camera.site={args.site}")
    if args.size is not None:
        overrides.append(f"render.size_px={args.size}")
    return overrides


def cmd_simulate_billets(args: argparse.Namespace) -> int:
    cfg = load_config(args.config, billet_overrides(args), kind="billets")
    RunFolder(args.out, overwrite=args.overwrite).check_target()
    from twin.billet_line.simulate import simulate_billets

    texture = None
    if cfg["render"].get("stamp_gan") and cfg["render"]["enabled"]:   # the stamp cGAN (generative/, needs torch)
        try:
            from generative.stamp_texture_adapter import load_stamp_texture

            texture = load_stamp_texture(cfg["render"]["stamp_gan"])
        except ImportError as exc:
            sys.stderr.write(f"twinloop: render.stamp_gan needs the generative models (torch): {exc}\n")
            return EXIT_FAILURE
        except ValueError as exc:            # CheckpointError: names the file
            sys.stderr.write(f"twinloop: render.stamp_gan: {exc}\n")
            return EXIT_USAGE
    finalize = None
    if not args.no_report:
        from scenarios.report_billets import write_report as finalize
    progress = None
    if not args.no_progress:
        from scenarios.progress import TqdmProgress

        progress = TqdmProgress(args.billets, "billets")
    from twin.billet_line.physics_bridge import use_stamp_texture_factory

    try:
        with use_stamp_texture_factory(lambda spec: texture) if texture is not None else contextlib.nullcontext():
            run_dir = simulate_billets(cfg, args.out, billets=args.billets, progress=progress,
                                       overwrite=args.overwrite, finalize=finalize)
    finally:
        if progress is not None:
            progress.close()
    report = Path(run_dir).resolve() / "report.html"
    sys.stdout.write(f"run folder: {run_dir} (config_hash {config_hash(cfg)})\n")
    if report.exists():
        sys.stdout.write(f"report: {report}\n")
    return EXIT_OK


def cmd_export_coco(args: argparse.Namespace) -> int:
    from twin.billet_line.coco_export import export_coco

    try:
        out = export_coco(args.run_dir, args.out, overwrite=args.overwrite)
    except (FileNotFoundError, FileExistsError, ValueError) as exc:
        sys.stderr.write(f"twinloop: {exc}\n")
        return EXIT_USAGE
    sys.stdout.write(f"COCO export: {out / 'annotations.json'}\n")
    return EXIT_OK
