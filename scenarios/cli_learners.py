"""``twinloop train``, ``twinloop evaluate`` and ``twinloop watch``: the learners at the command line.

::

    twinloop train lstm   --data RUN_DIR [RUN_DIR ...] --out DIR [--epochs N] [--seed S] [--length L]
                          [--stride K] [--no-offset-sampling] [--hidden H] [--layers N] [--dropout P]
                          [--batch-size B] [--lr LR] [--pooling mean|last|last_mean] [--channels a,b,...]
                          [--threads T] [--overwrite] [--no-progress]
    twinloop train scalar --data RUN_DIR [RUN_DIR ...] --out DIR [--model hgb|logreg|hoeffding|hoeffding_adaptive]
                          [--features a,b,...] [--seed S] [--overwrite]
    twinloop evaluate {lstm,scalar} --model DIR --data RUN_DIR [RUN_DIR ...] --out DIR [--overwrite]
    twinloop watch --run DIR [--run DIR ...] [--real DIR ...] --out DIR [--model DIR] [--learner NAME ...]
                   [--label-delay N] [--window N] [--batch-size N] [--learn-batch N] [--no-learn]
                   [--spc-features a,b] [--drift-features a,b] [--spc-in-control N] [--monitor-by COLUMN]
                   [--detectors adwin,...]
                   [--no-gap] [--gap-window-s S] [--seed S] [--threads T] [--no-progress] [--overwrite]

Registration: :func:`add_parsers` adds all three to ``twinloop``'s commands.
``train`` and ``evaluate`` are groups shared with other model kinds
(``detector``, :mod:`scenarios.cli_detector`): :func:`kinds_group` returns
the group, making it on first use, so each module adds its models to the
same ``train`` / ``evaluate`` commands in any order.

``train`` writes a model folder (atomically): ``model.twl`` (the learner,
:mod:`learners.storage`), ``metrics.json`` (data, classes, training-set
figures, time) and, for the LSTM, ``history.parquet`` (loss per epoch).
``evaluate`` predicts the labelled cycles of run folders with a trained
model and writes ``predictions.parquet`` and ``metrics.json`` (good / not
good with fails as the positive class; defect type with macro-F1 for the
LSTM). ``watch`` runs the online runner (:class:`learners.online.OnlineRunner`)
over the cycles of the run folders merged in time order, printing the
rolling metrics and every drift alarm as it happens, and writes its
output folder with ``report.html``.

Bad inputs (a missing folder, file or column, a corrupt model file, a
model of the wrong kind) print one line ``twinloop: ...`` naming it and
exit with status 2; nothing is written.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any, Sequence

from scenarios.cli_runtime import EXIT_OK, guard, set_torch_threads as _threads
from scenarios.cli_types import names as _names, nonneg_int as _nonneg_int, positive_int as _pos_int

__all__ = ["add_parsers", "kinds_group", "add_train_parsers", "add_evaluate_parsers", "add_watch_parser",
           "cmd_train_lstm", "cmd_train_scalar", "cmd_evaluate", "cmd_watch"]

SCALAR_MODELS = ("hgb", "logreg", "hoeffding", "hoeffding_adaptive")


def kinds_group(commands: argparse._SubParsersAction, name: str) -> argparse._SubParsersAction:
    """The sub-parser group of ``twinloop train`` / ``twinloop evaluate`` (``MODEL``), made on first use.

    Several modules add their models to the same two commands (``lstm`` and
    ``scalar`` here, ``detector`` in :mod:`scenarios.cli_detector`); each gets
    the group from here, so the order of registration does not matter.
    """
    if name not in ("train", "evaluate"):
        raise ValueError(f"no model group for command {name!r}")
    parser = commands.choices.get(name)
    if parser is None:
        helps = {"train": "train a learner on run folders (writes a model folder)",
                 "evaluate": "score a trained model on labelled run folders"}
        parser = commands.add_parser(name, help=helps[name])
    for action in parser._actions:  # argparse keeps a parser's sub-parser group among its actions
        if isinstance(action, argparse._SubParsersAction):
            return action
    return parser.add_subparsers(dest=f"{name}_kind", required=True, metavar="MODEL")


def add_parsers(commands: argparse._SubParsersAction) -> None:
    """Register ``train {lstm,scalar}``, ``evaluate {lstm,scalar}`` and ``watch`` on ``twinloop``'s commands."""
    add_train_parsers(kinds_group(commands, "train"))
    add_evaluate_parsers(kinds_group(commands, "evaluate"))
    add_watch_parser(commands)


def add_train_parsers(kinds: argparse._SubParsersAction) -> None:
    """Add ``lstm`` and ``scalar`` to the ``train`` group."""
    lstm = kinds.add_parser("lstm", help="LSTM cycle classifier on the sensor curves (good / defect type)")
    _data_out(lstm)
    lstm.add_argument("--epochs", type=_pos_int, default=10, help="passes over the training sequences (default 10)")
    lstm.add_argument("--seed", type=int, default=0, help="seed of weights, dropout and shuffling (default 0)")
    lstm.add_argument("--length", type=_pos_int, default=300, help="points per sequence (default 300)")
    lstm.add_argument("--stride", type=_pos_int, default=4,
                      help="offset-sampling factor k: every k-th sample of the 10 ms curves (default 4)")
    lstm.add_argument("--no-offset-sampling", action="store_true",
                      help="train on offset 0 only (1/k of the sequences)")
    lstm.add_argument("--hidden", type=_pos_int, default=100, help="LSTM units per layer (default 100)")
    lstm.add_argument("--layers", type=_pos_int, default=3, help="LSTM layers (default 3)")
    lstm.add_argument("--dropout", type=float, default=0.2, help="dropout (default 0.2)")
    lstm.add_argument("--batch-size", type=_pos_int, default=32, help="sequences per step (default 32)")
    lstm.add_argument("--lr", type=float, default=3e-3, help="Adam learning rate (default 3e-3)")
    lstm.add_argument("--pooling", choices=("mean", "last", "last_mean"), default="mean",
                      help="readout of the LSTM outputs: mean over time (default), final state, or both")
    lstm.add_argument("--channels", type=_names, help="comma-separated curve channels (default: all)")
    lstm.add_argument("--threads", type=_pos_int, help="torch threads (default: torch's own)")
    lstm.add_argument("--no-progress", action="store_true", help="no progress bar")
    lstm.set_defaults(handler=cmd_train_lstm)

    scalar = kinds.add_parser("scalar", help="classifier on the scalar cycle features (logs without curves)")
    _data_out(scalar)
    scalar.add_argument("--model", choices=SCALAR_MODELS, default="hgb",
                        help="hgb: scikit-learn gradient boosting (default); logreg / hoeffding / "
                             "hoeffding_adaptive: River, learned record by record in time order")
    scalar.add_argument("--features", type=_names, help="comma-separated feature columns (default: the logged "
                                                         "features and setpoints present)")
    scalar.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    scalar.set_defaults(handler=cmd_train_scalar)


def add_evaluate_parsers(kinds: argparse._SubParsersAction) -> None:
    """Add ``lstm`` and ``scalar`` to the ``evaluate`` group."""
    for kind, what in (("lstm", "an LSTM cycle classifier"), ("scalar", "a scalar-feature classifier")):
        ev = kinds.add_parser(kind, help=f"score {what} on labelled run folders")
        ev.add_argument("--model", type=Path, required=True, help="model folder written by 'twinloop train' "
                                                                  "(or its model.twl)")
        _data_out(ev)
        ev.add_argument("--threads", type=_pos_int, help="torch threads (default: torch's own)")
        ev.set_defaults(handler=cmd_evaluate, kind=kind)


def add_watch_parser(commands: argparse._SubParsersAction) -> None:
    """Add ``watch`` (the online runner) to ``twinloop``'s commands."""
    watch = commands.add_parser("watch", help="online predict-then-learn over run folders, with drift and SPC")
    watch.add_argument("--run", type=Path, action="append", required=True,
                       help="run folder to stream (simulated or ingested; repeatable)")
    watch.add_argument("--real", type=Path, action="append", default=[],
                       help="ingested real log to stream beside it (repeatable); with both, the gap is measured")
    watch.add_argument("--out", type=Path, required=True, help="output folder (created atomically)")
    watch.add_argument("--model", type=Path, help="a trained model folder to run (and keep learning)")
    watch.add_argument("--learner", action="append", choices=SCALAR_MODELS,
                       help="an online scalar learner to run (repeatable; default logreg without --model)")
    watch.add_argument("--label-delay", type=_nonneg_int, default=0, help="labels arrive N records later")
    watch.add_argument("--window", type=_pos_int, default=500, help="records of the rolling metrics (default 500)")
    watch.add_argument("--batch-size", type=_pos_int, default=None,
                       help="records predicted at once (default: 1, or 32 for a curve model)")
    watch.add_argument("--learn-batch", type=_pos_int, default=None,
                       help="labels buffered per learning step (default: 1, or 32 for a curve model)")
    watch.add_argument("--no-learn", action="store_true", help="predict only (a frozen model)")
    watch.add_argument("--spc-features", type=_names, help="features on SPC charts (default: key process features)")
    watch.add_argument("--drift-features", type=_names, help="features fed to drift detectors (default: the SPC ones)")
    watch.add_argument("--spc-in-control", type=_pos_int, default=200,
                       help="first N values of each source set the control limits (default 200)")
    watch.add_argument("--monitor-by", help="column whose values get their own SPC charts and feature detectors "
                                            "(e.g. experiment: one per product); default: one per source")
    watch.add_argument("--detectors", type=_names, default=["adwin", "page_hinkley"],
                       help="drift detectors on the error stream (adwin, page_hinkley, kswin; "
                            "default adwin,page_hinkley)")
    watch.add_argument("--no-gap", action="store_true", help="skip the sim-to-real gap windows")
    watch.add_argument("--gap-window-s", type=float, help="gap window in seconds (default: a tenth of the real span)")
    watch.add_argument("--seed", type=int, default=0, help="seed of the learners, detectors and gap tests")
    watch.add_argument("--threads", type=_pos_int, help="torch threads (default: torch's own)")
    watch.add_argument("--max-alarm-lines", type=_nonneg_int, default=20,
                       help="alarm lines printed per signal and detector (default 20; all are in alarms.parquet)")
    watch.add_argument("--no-progress", action="store_true", help="no progress bar")
    watch.add_argument("--overwrite", action="store_true", help="replace an existing non-empty --out folder")
    watch.set_defaults(handler=cmd_watch)


# -- handlers ---------------------------------------------------------------------

def cmd_train_lstm(args: argparse.Namespace) -> int:
    def work() -> int:
        from learners.evaluate import evaluate_learner
        from learners.lstm import CurveGrid, LSTMCycleClassifier, read_curve_batch
        from twin.runfolder import RunFolder

        RunFolder(args.out, overwrite=args.overwrite).check_target()
        _threads(args.threads)
        clf = LSTMCycleClassifier(channels=args.channels, length=args.length, stride=args.stride,
                                  offset_sampling=not args.no_offset_sampling, hidden_size=args.hidden,
                                  num_layers=args.layers, dropout=args.dropout, epochs=args.epochs,
                                  batch_size=args.batch_size, lr=args.lr, pooling=args.pooling, seed=args.seed)
        batch, _ = read_curve_batch(args.data, CurveGrid(args.length, args.stride), args.channels)
        from scenarios.progress import TqdmProgress

        bar = None if args.no_progress else TqdmProgress(args.epochs, "epochs", bar_format=None)
        t0 = time.perf_counter()
        try:
            clf.fit(batch, progress=bar)
        finally:
            if bar is not None:
                bar.close()
        seconds = time.perf_counter() - t0
        seqs = sum(h["sequences"] for h in clf.history_)
        train_metrics, _ = evaluate_learner(clf, args.data)
        metrics = {"model": "lstm", "params": _plain(clf.get_params()), "data": [str(d) for d in args.data],
                   "cycles": len(batch), "classes": clf.classes_,
                   "class_counts": {c: batch.labels.count(c) for c in clf.classes_},
                   "train_seconds": seconds, "train_sequences_per_s": seqs / seconds if seconds > 0 else None,
                   "final_loss": clf.history_[-1]["loss"] if clf.history_ else None, "training_set": train_metrics}
        import pyarrow as pa

        history = pa.Table.from_pylist(clf.history_)
        out = _write_model_folder(args.out, args.overwrite, clf, metrics, {"history.parquet": history})
        tm = train_metrics["binary"]
        sys.stdout.write(f"trained on {len(batch)} cycles ({seqs / max(args.epochs, 1):.0f} sequences per epoch) in "
                         f"{seconds:.1f} s; training-set accuracy {_f(tm['accuracy'])}, recall of fails "
                         f"{_f(tm['recall_fail'])}, defect macro-F1 {_f(train_metrics['defect_type']['macro_f1'])}\n"
                         f"model folder: {out}\n")
        return EXIT_OK

    return _guard(work)


def cmd_train_scalar(args: argparse.Namespace) -> int:
    def work() -> int:
        from learners.evaluate import evaluate_learner
        from learners.records import open_run
        from twin.runfolder import RunFolder

        RunFolder(args.out, overwrite=args.overwrite).check_target()
        learner = _scalar_learner(args.model, args.features, args.seed)
        runs = [open_run(d, need_labels=True) for d in args.data]
        rows = _rows_in_time_order(runs)
        t0 = time.perf_counter()
        learner.fit(rows)
        seconds = time.perf_counter() - t0
        train_metrics, _ = evaluate_learner(learner, args.data)
        metrics = {"model": args.model, "params": _plain(learner.get_params()), "data": [str(d) for d in args.data],
                   "cycles": len(rows), "features": list(getattr(learner, "features_", []) or []),
                   "train_seconds": seconds, "training_set": train_metrics}
        out = _write_model_folder(args.out, args.overwrite, learner, metrics, {})
        tm = train_metrics["binary"]
        sys.stdout.write(f"trained {args.model} on {len(rows)} cycles in {seconds:.1f} s; training-set accuracy "
                         f"{_f(tm['accuracy'])}, recall of fails {_f(tm['recall_fail'])}\nmodel folder: {out}\n")
        return EXIT_OK

    return _guard(work)


def cmd_evaluate(args: argparse.Namespace) -> int:
    def work() -> int:
        from learners.evaluate import evaluate_learner
        from twin.runfolder import RunFolder, finite_json

        RunFolder(args.out, overwrite=args.overwrite).check_target()
        _threads(args.threads)
        learner = _load_model(args.model, args.kind)
        metrics, table = evaluate_learner(learner, args.data)
        metrics["model"] = str(args.model)
        import pyarrow.parquet as pq

        with RunFolder(args.out, overwrite=args.overwrite) as run:
            pq.write_table(table, run.path("predictions.parquet"), compression="zstd")
            run.write_json("metrics.json", finite_json(metrics))
        b = metrics["binary"]
        line = (f"{metrics['cycles']} cycles: accuracy {_f(b['accuracy'])}, balanced accuracy "
                f"{_f(b['balanced_accuracy'])}, recall of fails {_f(b['recall_fail'])}, precision of fails "
                f"{_f(b['precision_fail'])}")
        if "defect_type" in metrics:
            d = metrics["defect_type"]
            line += f"; defect type accuracy {_f(d['accuracy'])}, macro-F1 {_f(d['macro_f1'])}"
        sys.stdout.write(f"{line}\nmetrics: {Path(args.out) / 'metrics.json'}\n")
        return EXIT_OK

    return _guard(work)


def cmd_watch(args: argparse.Namespace) -> int:
    def work() -> int:
        from learners.online import OnlineRunner
        from twin.runfolder import RunFolder

        RunFolder(args.out, overwrite=args.overwrite).check_target()
        _threads(args.threads)
        learners: dict[str, Any] = {}
        if args.model is not None:
            model = _load_model(args.model, None)
            learners[f"model:{Path(args.model).name}"] = model
        for name in args.learner or ([] if learners else ["logreg"]):
            learners[name] = _scalar_learner(name, None, args.seed)
        curves = any(lrn.needs_curves for lrn in learners.values())
        runner = OnlineRunner(learners, label_delay=args.label_delay, window=args.window,
                              batch_size=args.batch_size or (32 if curves else 1),
                              learn=not args.no_learn, learn_batch=args.learn_batch or (32 if curves else 1),
                              error_detectors=args.detectors, spc_features=args.spc_features,
                              drift_features=args.drift_features, spc_in_control=args.spc_in_control,
                              monitor_by=args.monitor_by,
                              gap=not args.no_gap, gap_window_s=args.gap_window_s, seed=args.seed)
        runs = list(args.run) + list(args.real)
        live = _LiveView(not args.no_progress, args.max_alarm_lines)
        try:
            out = runner.run(runs, args.out, overwrite=args.overwrite, progress=live.progress,
                             on_alarm=live.alarm, on_metrics=live.metrics, metrics_every=50)
        finally:
            live.close()
        m = runner.metrics_
        for name, lm in m["learners"].items():
            p = lm["prequential"]
            al = ", ".join(f"{k} {v['count']}" for k, v in lm["error_drift_alarms"].items())
            sys.stdout.write(f"{name}: {lm['labelled']} labelled, accuracy {_f(p['accuracy'])} (always good: "
                             f"{_f(lm['always_good_accuracy'])}), recall of fails {_f(p['recall_fail'])}, precision "
                             f"{_f(p['precision_fail'])}; error-stream drift alarms: {al or 'none'}\n")
        if m.get("gap") and m["gap"].get("windows_compared") is not None:
            g = m["gap"]
            sys.stdout.write(f"gap: {g['windows_compared']} windows compared, median C2ST AUC "
                             f"{_f(g['c2st_auc_median'])}\n")
        sys.stdout.write(f"output folder: {out}\nreport: {Path(out).resolve() / 'report.html'}\n")
        return EXIT_OK

    return _guard(work)


# -- helpers ------------------------------------------------------------------------

class _LiveView:
    """The tqdm bar of ``watch``: rolling metrics in the postfix, alarms printed above the bar."""

    def __init__(self, show: bool, max_lines: int):
        self.show = show
        self.max_lines = max_lines
        self.bar = None
        self.printed: dict[tuple, int] = {}

    def progress(self, done: int, total: int) -> None:
        if not self.show:
            return
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="cycles", dynamic_ncols=True)
        self.bar.update(done - self.bar.n)

    def metrics(self, snap: dict) -> None:
        if self.bar is None:
            return
        parts = {}
        for name, s in snap.items():
            if isinstance(s, dict):
                parts[name] = f"acc {_f(s['accuracy'], 3)} rec {_f(s['recall_fail'], 2)}"
        self.bar.set_postfix_str("; ".join(f"{k}: {v}" for k, v in parts.items()), refresh=False)

    def alarm(self, a: dict) -> None:
        key = (a["learner"] or a["source"], a["signal"], a["detector"])
        n = self.printed.get(key, 0)
        self.printed[key] = n + 1
        if n > self.max_lines:
            return
        import datetime as dt

        when = dt.datetime.fromtimestamp(a["time_s"], dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
        who = f"{a['learner']} error stream" if a["learner"] else f"{a['source']} {a['signal']}"
        text = (f"[{when} #{a['position']}] {a['detector']} {a['kind']}: {who}" if n < self.max_lines else
                f"[{when}] further {a['detector']} alarms of {who} are not printed (see alarms.parquet)")
        if self.bar is not None:
            self.bar.write(text)
        else:
            sys.stdout.write(text + "\n")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _guard(work) -> int:
    from learners.gap import GapInputError
    from learners.records import LearnerInputError
    from learners.storage import LearnerFileError
    from twin.runfolder import RunFolderExistsError

    # ValueError: a bad setting (e.g. an unknown detector name)
    return guard(work, (LearnerInputError, LearnerFileError, GapInputError, RunFolderExistsError, ValueError))


def _data_out(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", type=Path, nargs="+", required=True, help="run folder(s) with cycles.parquet")
    p.add_argument("--out", type=Path, required=True, help="output folder (created atomically)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing non-empty --out folder")


def _scalar_learner(name: str, features: Sequence[str] | None, seed: int):
    from learners.river_scalar import RiverScalarClassifier
    from learners.scalar_baseline import GradientBoostingScalar

    if name == "hgb":
        return GradientBoostingScalar(features=features, seed=seed)
    return RiverScalarClassifier(name, features=features, seed=seed)


def _rows_in_time_order(runs: list) -> list[dict]:
    import numpy as np

    from learners.records import time_seconds

    rows, times = [], []
    for r in runs:
        rows += r.cycles.to_pylist()
        times.append(time_seconds(r.cycles["end_time"]))
    order = np.argsort(np.concatenate(times), kind="stable")
    return [rows[i] for i in order]


def _load_model(path: Path, kind: str | None):
    from learners.protocol import Learner
    from learners.records import LearnerInputError
    from learners.storage import MODEL_FILE

    path = Path(path)
    file = path / MODEL_FILE if path.is_dir() else path
    if not path.exists():
        raise LearnerInputError(f"{path}: no such model folder")
    if path.is_dir() and not file.is_file():
        raise LearnerInputError(f"{path}: no {MODEL_FILE} (is it a folder written by 'twinloop train'?)")
    learner = Learner.load(file)
    if kind == "lstm" and not learner.needs_curves:
        raise LearnerInputError(f"{file}: holds a {type(learner).__name__}, not an LSTM model "
                                "(use 'twinloop evaluate scalar')")
    if kind == "scalar" and learner.needs_curves:
        raise LearnerInputError(f"{file}: holds a {type(learner).__name__}, not a scalar model "
                                "(use 'twinloop evaluate lstm')")
    return learner


def _write_model_folder(out: Path, overwrite: bool, learner, metrics: dict, tables: dict) -> Path:
    import pyarrow.parquet as pq

    from learners.storage import MODEL_FILE
    from twin.runfolder import RunFolder, finite_json

    with RunFolder(out, overwrite=overwrite) as run:
        learner.save(run.path(MODEL_FILE))
        for name, table in tables.items():
            pq.write_table(table, run.path(name))
        run.write_json("metrics.json", finite_json(metrics))
    return Path(out)


def _plain(params: dict) -> dict:
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in params.items()
            if v is None or isinstance(v, (bool, int, float, str, list, tuple))}



def _f(v: Any, digits: int = 3) -> str:
    return "—" if v is None else f"{v:.{digits}f}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run these commands without the rest of the ``twinloop`` CLI (tests; ``python -m scenarios.cli_learners``)."""
    parser = argparse.ArgumentParser(prog="twinloop")
    add_parsers(parser.add_subparsers(dest="command", required=True, metavar="COMMAND"))
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
