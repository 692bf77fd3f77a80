"""``twinloop calibrate`` and ``twinloop run``: parsers and handlers (registered by scenarios.cli)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from twin.config import load_config
from twin.runfolder import RunFolder

from scenarios.cli_runtime import EXIT_OK, EXIT_USAGE


def add_parsers(commands: argparse._SubParsersAction, add_config_args) -> None:
    cal = commands.add_parser("calibrate", help="fit twin parameters to an ingested real log")
    cal.add_argument("--real", type=Path, required=True, help="ingested real log (run folder with cycles.parquet)")
    cal.add_argument("--params", required=True,
                     help="comma-separated config keys to fit, each optionally KEY=LO:HI (e.g. "
                          "mold.wall_thickness_mm,material.viscosity_factor=0.5:5)")
    cal.add_argument("--out", type=Path, required=True, help="output folder (created atomically)")
    cal.add_argument("--features", help="comma-separated features to compare (default: all the physics predicts "
                                        "that the log has)")
    cal.add_argument("--condition", default="experiment", help="column that groups the log into conditions")
    cal.add_argument("--offset", help="FEATURE:GROUP_COLUMN[:PRIOR_SD] — one additive offset of FEATURE per "
                                      "group (e.g. part_weight_g:experiment:0.5 for a drifting balance)")
    cal.add_argument("--max-nfev", type=int, default=150, help="maximum physics evaluations (default 150)")
    add_config_args(cal)
    cal.add_argument("--overwrite", action="store_true", help="replace an existing non-empty --out folder")
    cal.set_defaults(handler=cmd_calibrate)

    run = commands.add_parser("run", help="run a scenario file (e.g. scenarios/kassel_calibration.toml)")
    run.add_argument("scenario", type=Path, help="scenario TOML")
    run.add_argument("--out", type=Path, required=True, help="output run folder (created atomically)")
    run.add_argument("--overwrite", action="store_true", help="replace an existing non-empty --out folder")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    run.add_argument("--workers", type=int, default=None,
                     help="sweeps: Dask LocalCluster worker processes (0 = in this process); overrides [dask] workers")
    run.add_argument("--scheduler", default=None, metavar="ADDRESS",
                     help="sweeps: address of an existing Dask scheduler, e.g. tcp://10.0.0.5:8786")
    run.add_argument("--task-cache", default=None, metavar="DIR",
                     help="sweeps: keep each finished task's result in DIR; a rerun (after a stop) resumes from them")
    run.set_defaults(handler=cmd_run)


def cmd_calibrate(args: argparse.Namespace) -> int:
    RunFolder(args.out, overwrite=args.overwrite).check_target()
    cfg = load_config(args.config, args.set)
    from scenarios.report_calibration import write_report
    from twin.calibration.run import calibrate

    params = [p.strip() for p in args.params.split(",") if p.strip()]
    features = [f.strip() for f in args.features.split(",")] if args.features else None
    offset_feature = offset_col = None
    prior = 0.5
    if args.offset:
        parts = args.offset.split(":")
        if len(parts) not in (2, 3):
            sys.stderr.write(f"twinloop: --offset {args.offset!r}: expected FEATURE:GROUP_COLUMN[:PRIOR_SD]\n")
            return EXIT_USAGE
        offset_feature, offset_col = parts[0], parts[1]
        prior = float(parts[2]) if len(parts) == 3 else prior
    try:
        out = calibrate(args.real, cfg, params, args.out, features=features, condition_col=args.condition,
                        offset_feature=offset_feature, offset_group_col=offset_col, offset_prior_sd=prior,
                        max_nfev=args.max_nfev, overwrite=args.overwrite, finalize=write_report)
    except (KeyError, ValueError, TypeError, FileNotFoundError) as exc:
        sys.stderr.write(f"twinloop: calibrate: {exc.args[0] if exc.args else exc}\n")
        return EXIT_USAGE
    sys.stdout.write(f"run folder: {out}\nreport: {Path(out).resolve() / 'report.html'}\n")
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    from scenarios.runner import ScenarioError, load_scenario, run_scenario

    try:
        load_scenario(args.scenario)
    except ScenarioError as exc:
        sys.stderr.write(f"twinloop: {exc}\n")
        return EXIT_USAGE
    RunFolder(args.out, overwrite=args.overwrite).check_target()
    bar: dict = {}

    def show_progress(done: int, total: int) -> None:
        from scenarios.progress import TqdmProgress

        if "bar" not in bar:  # the total is known only once the scenario starts
            bar["bar"] = TqdmProgress(total, "steps")
        bar["bar"](done, total)

    progress = None if args.no_progress else show_progress
    try:
        out = run_scenario(args.scenario, args.out, overwrite=args.overwrite, progress=progress,
                           dask={"workers": args.workers, "scheduler": args.scheduler,
                                 "task_cache": args.task_cache})
    except (ScenarioError, FileNotFoundError) as exc:
        sys.stderr.write(f"twinloop: {exc}\n")
        return EXIT_USAGE
    sys.stdout.write(f"\nrun folder: {out}\n")
    if (Path(out) / "report.html").is_file():
        sys.stdout.write(f"report: {Path(out).resolve() / 'report.html'}\n")
    return EXIT_OK
