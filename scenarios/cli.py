"""The ``twinloop`` command line.

::

    twinloop simulate molding --cycles 500 --seed 1 --out runs/r1 [--config my.toml]
                              [--set setpoints.mold_temp_C=30 ...] [--overwrite] [--no-progress] [--no-report]
    twinloop simulate molding --hours 8 --seed 1 --out runs/shift
    twinloop demo [--out runs/demo]
    twinloop config show [--config my.toml] [--set key=value ...]
    twinloop config check my.toml [--set key=value ...]
    twinloop calibrate --real DIR --params KEY[=LO:HI],... --out DIR [--features ...] [--offset F:COL[:SD]]
    twinloop run SCENARIO.toml --out DIR
    twinloop gap --sim DIR --real DIR --out DIR [--features a,b,c] [--seed S] [--n-perm N]
                 [--classifier quadratic|logreg|hgb] [--curve-points N] [--no-curves] [--overwrite]
    twinloop ingest molding LOG.csv --mapping MAP.toml --out DIR [--skip-bad-rows] [--overwrite]
    twinloop ingest curves FILE... --mapping MAP.toml --out DIR [--skip-bad-rows] [--overwrite]

The configuration is resolved and validated (:func:`twin.config.load_config`)
before anything is written: a bad config prints every problem to stderr and
exits with status 2, and no output folder is created. The simulator, the
report and the demo are imported only when their command runs, so the CLI
(and ``config``) works without them. ``simulate molding`` and ``demo`` write
``report.html`` into the run folder (:mod:`scenarios.report_molding`, through
the simulator's ``finalize`` hook) and print its absolute path.

``ingest`` maps a real machine log onto the twin's schema with a mapping
file (:mod:`twin.ingest`): a bad mapping exits with status 2, bad data with
status 1, each with a message naming file, column and row; nothing is
written in either case.
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Callable, Sequence

from twin.config import ConfigError, config_hash, dump_toml, load_config
from twin.runfolder import RunFolder, RunFolderExistsError
from scenarios.cli_runtime import EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE
from scenarios.cli_types import positive_float as _positive_float, positive_int as _positive_int

__all__ = ["main", "build_parser"]

log = logging.getLogger("twinloop")



def build_parser() -> argparse.ArgumentParser:
    """The argparse parser of ``twinloop`` (exposed for docs and tests)."""
    parser = argparse.ArgumentParser(prog="twinloop", description="Digital twin of an injection-molding cell and a billet line.")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv: debug)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    simulate = commands.add_parser("simulate", help="run the simulated cell and write a run folder")
    lines = simulate.add_subparsers(dest="line", required=True, metavar="LINE")
    molding = lines.add_parser("molding", help="injection-molding cell")
    length = molding.add_mutually_exclusive_group(required=True)
    length.add_argument("--cycles", type=_positive_int, help="number of cycles to simulate")
    length.add_argument("--hours", type=_positive_float, help="simulated hours")
    molding.add_argument("--seed", type=int, help="root seed (sets run.seed; default: the config's)")
    molding.add_argument("--out", type=Path, required=True, help="output run folder (created atomically)")
    _add_config_args(molding)
    molding.add_argument("--overwrite", action="store_true", help="replace an existing non-empty --out folder")
    molding.add_argument("--no-progress", action="store_true", help="no progress bar")
    molding.add_argument("--no-report", action="store_true", help="do not write report.html into the run folder")
    molding.set_defaults(handler=_cmd_simulate_molding)

    demo = commands.add_parser("demo", help="a short end-to-end demonstration run")
    demo.add_argument("--out", type=Path, default=Path("runs/demo"), help="output folder (default: runs/demo)")
    demo.set_defaults(handler=_cmd_demo)

    config = commands.add_parser("config", help="show or check a configuration")
    config_cmds = config.add_subparsers(dest="config_command", required=True, metavar="ACTION")
    show = config_cmds.add_parser("show", help="print the resolved configuration as TOML")
    show.add_argument("--line", choices=("molding", "billets"), default="molding",
                      help="which line's configuration (default molding)")
    _add_config_args(show)
    show.set_defaults(handler=_cmd_config_show)
    check = config_cmds.add_parser("check", help="validate a config file")
    check.add_argument("file", type=Path, help="TOML config file")
    check.add_argument("--line", choices=("molding", "billets"), default="molding",
                       help="which line's configuration (default molding)")
    _add_set_arg(check)
    check.set_defaults(handler=_cmd_config_check)
    _add_ingest_parser(commands)
    _add_gap_parser(commands)
    from scenarios.cli_calibration import add_parsers as _add_calibration_parsers

    _add_calibration_parsers(commands, _add_config_args)
    from scenarios.cli_billets import add_parsers as _add_billet_parsers

    _add_billet_parsers(lines, commands, _add_config_args, _positive_int)
    from scenarios.cli_defects import add_parsers as _add_defect_parsers
    from scenarios.cli_learners import add_parsers as _add_learner_parsers
    from scenarios.cli_learners import kinds_group

    _add_learner_parsers(commands)
    _add_defect_parsers(kinds_group(commands, "train"), kinds_group(commands, "evaluate"))
    from scenarios.cli_detector import add_evaluate_parser as _add_detector_evaluate
    from scenarios.cli_detector import add_train_parser as _add_detector_train

    _add_detector_train(kinds_group(commands, "train"))
    _add_detector_evaluate(kinds_group(commands, "evaluate"))
    _add_gan_parsers(kinds_group(commands, "train"), commands)
    return parser


#: The GAN kinds of ``twinloop train gan KIND`` / ``twinloop sample KIND``, by the module that adds them.
GAN_CLI_MODULES: dict[str, str] = {"stamp": "scenarios.cli_gan_stamp", "defect": "scenarios.cli_gan_defect",
                                   "sensor": "scenarios.cli_gan_sensor"}


def _add_gan_parsers(train_kinds: argparse._SubParsersAction, commands: argparse._SubParsersAction) -> None:
    import importlib

    gan = train_kinds.add_parser("gan", help="train a generative texture model (writes model.ckpt, checkpoints/)")
    gan_kinds = gan.add_subparsers(dest="gan_kind", required=True, metavar="KIND")
    sample = commands.add_parser("sample", help="draw samples from a trained generative model")
    sample_kinds = sample.add_subparsers(dest="sample_kind", required=True, metavar="KIND")
    for module in GAN_CLI_MODULES.values():
        mod = importlib.import_module(module)
        mod.add_train_parser(gan_kinds)
        mod.add_sample_parser(sample_kinds)


def _add_ingest_parser(commands: argparse._SubParsersAction) -> None:
    ingest = commands.add_parser("ingest", help="map a real machine log onto the twin's schema (a run folder)")
    kinds = ingest.add_subparsers(dest="ingest_kind", required=True, metavar="KIND")
    molding = kinds.add_parser("molding", help="a molding machine's cycle log (CSV), one row per cycle")
    molding.add_argument("src", type=Path, help="the log file")
    curves = kinds.add_parser("curves", help="per-cycle curve files (Arburg MeasurementChart text or CSV)")
    curves.add_argument("files", type=Path, nargs="+", help="curve files")
    for sub, handler in ((molding, _cmd_ingest_molding), (curves, _cmd_ingest_curves)):
        sub.add_argument("--mapping", type=Path, required=True, help="mapping file (TOML), e.g. mappings/kamp.toml")
        sub.add_argument("--out", type=Path, required=True, help="output run folder (created atomically)")
        sub.add_argument("--skip-bad-rows", action="store_true",
                         help="drop bad rows (listed in dropped_rows.csv) instead of stopping at the first")
        sub.add_argument("--overwrite", action="store_true", help="replace an existing non-empty --out folder")
        sub.set_defaults(handler=handler)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``twinloop`` console script; returns the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        return int(exc.code or 0)
    logging.basicConfig(level=(logging.WARNING, logging.INFO, logging.DEBUG)[min(args.verbose, 2)],
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return args.handler(args)
    except (ConfigError, RunFolderExistsError) as exc:
        _error(str(exc))
        return EXIT_USAGE
    except KeyboardInterrupt:
        _error("interrupted")
        return EXIT_INTERRUPTED


def _cmd_simulate_molding(args: argparse.Namespace) -> int:
    overrides = list(args.set)
    if args.seed is not None:
        overrides.append(f"run.seed={args.seed}")
    cfg = load_config(args.config, overrides)
    out: Path = args.out
    RunFolder(out, overwrite=args.overwrite).check_target()  # fail before the simulator is even imported
    try:
        from twin.simulate import simulate_molding
    except ImportError as exc:
        _error(f"the molding simulator is not available: {exc}")
        return EXIT_FAILURE
    curve_texture = None
    if cfg["curves"].get("texture_model"):  # a learned sensor texture (generative/, needs torch)
        try:
            from generative.sensor_texture_adapter import load_curve_texture

            curve_texture = load_curve_texture(cfg["curves"]["texture_model"])
            curve_texture.check_sample_interval(float(cfg["curves"]["sample_interval_ms"]) / 1000.0)
        except ImportError as exc:
            _error(f"curves.texture_model needs the generative models (torch): {exc}")
            return EXIT_FAILURE
        except ValueError as exc:  # CheckpointError or another sample interval: names the file
            _error(f"curves.texture_model: {exc}")
            return EXIT_USAGE
    finalize = None
    if not args.no_report:
        from scenarios.report_molding import write_report as finalize

    total, unit = (args.cycles, "cycles") if args.cycles is not None else (args.hours, "sim_hours")
    progress = None
    if not args.no_progress:
        from scenarios.progress import TqdmProgress

        progress = TqdmProgress(total, unit)
    log.info("config %s, seed %s, %s %s -> %s", config_hash(cfg), cfg["run"]["seed"], total, unit, out)
    try:
        run_dir = simulate_molding(cfg, out, cycles=args.cycles, hours=args.hours, progress=progress,
                                   overwrite=args.overwrite, finalize=finalize,
                                   **({"curve_texture": curve_texture} if curve_texture is not None else {}))
    finally:
        if progress is not None:
            progress.close()
    _report_run(Path(run_dir))
    return EXIT_OK


def _cmd_demo(args: argparse.Namespace) -> int:
    try:
        from scenarios.demo import run_demo
    except ImportError as exc:
        _error(f"the demo is not available: {exc}")
        return EXIT_FAILURE
    result = Path(run_demo(args.out))  # the path of report.html
    _report_run(result if result.is_dir() else result.parent)
    from scenarios.demo import run_billet_demo

    billets = Path(run_billet_demo(args.out.parent / f"{args.out.name}_billets"))
    _report_run(billets.parent)
    return EXIT_OK


def _cmd_config_show(args: argparse.Namespace) -> int:
    cfg = load_config(args.config, args.set, kind=args.line)
    sys.stdout.write(f"# twinloop resolved configuration, config_hash = {config_hash(cfg)}\n")
    sys.stdout.write(dump_toml(cfg))
    return EXIT_OK


def _cmd_config_check(args: argparse.Namespace) -> int:
    cfg = load_config(args.file, args.set, kind=args.line)
    sys.stdout.write(f"OK {args.file} (config_hash {config_hash(cfg)})\n")
    return EXIT_OK


def _cmd_ingest_molding(args: argparse.Namespace) -> int:
    from twin.ingest import ingest_molding

    return _run_ingest(lambda: ingest_molding(args.src, args.mapping, args.out, skip_bad_rows=args.skip_bad_rows,
                                              overwrite=args.overwrite))


def _cmd_ingest_curves(args: argparse.Namespace) -> int:
    from twin.ingest import ingest_curves

    return _run_ingest(lambda: ingest_curves(args.files, args.mapping, args.out, skip_bad_rows=args.skip_bad_rows,
                                             overwrite=args.overwrite))


def _run_ingest(run: Callable[[], Path]) -> int:
    """Run an ingestion; print the run folder and its counts, or the error (exit 2: mapping, 1: data)."""
    import json

    from twin.ingest import IngestError, MappingError

    try:
        out = run()
    except MappingError as exc:
        _error(str(exc))
        return EXIT_USAGE
    except IngestError as exc:
        _error(f"nothing written: {exc}")
        return EXIT_FAILURE
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    sys.stdout.write(f"run folder: {out}\n")
    if "rows_read" in metrics:
        sys.stdout.write(f"rows: {metrics['rows_read']} read, {metrics['rows_written']} written, "
                         f"{metrics['rows_dropped']} dropped\n")
    curves = metrics.get("curves")
    if curves:
        sys.stdout.write(f"curves: {curves['rows_written']} written, {curves['files_missing']} files missing\n")
    if (out / "dropped_rows.csv").exists():
        sys.stdout.write(f"dropped rows: {out / 'dropped_rows.csv'}\n")
    return EXIT_OK


def _report_run(run_dir: Path) -> None:
    report = run_dir.resolve() / "report.html"
    sys.stdout.write(f"run folder: {run_dir}\n")
    if report.exists():
        sys.stdout.write(f"report: {report}\n")


def _add_gap_parser(commands: argparse._SubParsersAction) -> None:
    gap = commands.add_parser("gap", help="sim-to-real gap metrics of two record sets (metrics.json, report.html)")
    gap.add_argument("--sim", type=Path, required=True, help="simulated run folder (cycles.parquet, curves.parquet)")
    gap.add_argument("--real", type=Path, required=True, help="real (or second) run folder")
    gap.add_argument("--out", type=Path, required=True, help="output folder (created atomically)")
    gap.add_argument("--features", type=_name_list, help="comma-separated features (default: the logged scalar "
                                                          "features present in both)")
    gap.add_argument("--seed", type=int, default=0, help="seed of every subsample, permutation and fold (default 0)")
    gap.add_argument("--n-perm", type=_positive_int, default=500, help="MMD permutations (default 500)")
    gap.add_argument("--classifier", choices=("quadratic", "logreg", "hgb"), default="quadratic",
                     help="classifier of the two-sample test (default quadratic)")
    gap.add_argument("--curve-points", type=_positive_int, default=256,
                     help="grid points per channel for the raw-curve classifier (default 256)")
    gap.add_argument("--no-curves", action="store_true", help="skip the sensor-curve metrics")
    gap.add_argument("--overwrite", action="store_true", help="replace an existing non-empty --out folder")
    gap.set_defaults(handler=_cmd_gap)


def _cmd_gap(args: argparse.Namespace) -> int:
    RunFolder(args.out, overwrite=args.overwrite).check_target()  # fail before any computation
    from learners.gap import GapInputError, SimRealGap
    from scenarios.report_gap import METRICS_NAME, REPORT_NAME, write_gap_run

    gap = SimRealGap(args.features, curves=not args.no_curves, n_perm=args.n_perm, classifier=args.classifier,
                     curve_points=args.curve_points, seed=args.seed)
    try:
        gap.fit(args.sim, args.real)
    except GapInputError as exc:
        _error(str(exc))
        return EXIT_USAGE
    out = write_gap_run(gap, args.out, overwrite=args.overwrite).resolve()
    sys.stdout.write(f"{gap.verdict_['text']}\nmetrics: {out / METRICS_NAME}\nreport: {out / REPORT_NAME}\n")
    return EXIT_OK


def _name_list(text: str) -> list[str]:
    names = [t.strip() for t in text.split(",") if t.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"expected comma-separated names, got {text!r}")
    return names


def _add_config_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help="TOML file with any subset of the config keys")
    _add_set_arg(parser)


def _add_set_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override one dotted key, e.g. --set setpoints.mold_temp_C=30 (repeatable)")


def _error(message: str) -> None:
    sys.stderr.write(f"twinloop: {message}\n")


if __name__ == "__main__":
    sys.exit(main())
