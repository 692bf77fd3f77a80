"""CLI handlers of the sensor-texture GAN: ``twinloop train gan sensor`` and ``twinloop sample sensor``.

::

    twinloop train gan sensor --data DIR [--data DIR ...] --out DIR --steps N [--seed S]
                              [--checkpoint-every K] [--resume CKPT] [--channels a,b] [--window 128]
                              [--stride 4] [--hidden 32] [--batch-size 32] [--threads N] [--overwrite]
                              [--no-progress]
    twinloop sample sensor --model DIR|FILE --out DIR [--n N] [--seed S] [--overwrite]
    twinloop sample sensor --model DIR|FILE --twin RUN_DIR --out DIR [--seed S] [--overwrite] [--no-progress]

``train``: ``--data`` are run folders with ``curves.parquet`` (real curves
ingested with ``twinloop ingest curves``); the windows are their curves
against their own low-passed part (:mod:`generative.sensor_texture`).
Writes ``model.ckpt``, ``checkpoints/step_*.ckpt`` (every K steps, kept if
the run is interrupted: ``--resume OUT/checkpoints/step_000500.ckpt``
continues exactly, into the same ``--out``), ``metrics.json`` and
``report.html`` (losses, real vs generated windows).

``sample``: without ``--twin``, textures ``--n`` of the condition windows
kept with the model and writes ``windows.parquet`` (channel, condition,
textured), ``metrics.json`` and ``report.html``; with ``--twin``, textures
every curve of the model's channels in a twin run and writes a run folder
with the textured ``curves.parquet`` beside copies of the run's other
files (so ``twinloop gap --sim OUT`` works on it).

The parser groups ``train gan`` and ``sample`` belong to
:mod:`scenarios.cli`; it calls :func:`add_train_parser` and
:func:`add_sample_parser` with them. Handlers return the exit status: 0,
1 (bad data), 2 (bad arguments or checkpoint).
"""
from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

from scenarios.cli_runtime import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, set_torch_threads as _set_threads
from scenarios.cli_types import names as _names, nonneg_int as _nonneg_int, positive_int as _positive_int

__all__ = ["add_train_parser", "add_sample_parser", "cmd_train_sensor", "cmd_sample_sensor"]


def add_train_parser(gan_kinds: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``sensor`` to the ``twinloop train gan`` kinds; returns its parser."""
    p = gan_kinds.add_parser("sensor", help="sensor-curve texture GAN on real curves (curves.parquet run folders)")
    p.add_argument("--data", type=Path, action="append", required=True,
                   help="run folder with curves.parquet, e.g. from 'twinloop ingest curves' (repeatable)")
    p.add_argument("--out", type=Path, required=True, help="output folder (model.ckpt, checkpoints/, metrics, report)")
    p.add_argument("--steps", type=_positive_int, required=True, help="optimiser steps in total")
    p.add_argument("--seed", type=int, default=0, help="seed of weights, batches and noise (default 0)")
    p.add_argument("--checkpoint-every", type=_nonneg_int, default=500,
                   help="write checkpoints/step_N.ckpt every K steps (default 500, 0 = never)")
    p.add_argument("--resume", type=Path, help="continue exactly from this checkpoint (same data and settings)")
    p.add_argument("--channels", type=_names, help="comma-separated channels (default: every channel with data)")
    p.add_argument("--window", type=_positive_int, default=128, help="window length in samples (default 128)")
    p.add_argument("--stride", type=_positive_int, default=4, help="samples between training windows (default 4)")
    p.add_argument("--hidden", type=_positive_int, default=32, help="network width (default 32)")
    p.add_argument("--batch-size", type=_positive_int, default=32, help="windows per step (default 32)")
    p.add_argument("--threads", type=_positive_int, help="torch CPU threads (default: torch's choice; 1 on a shared "
                                                         "machine)")
    p.add_argument("--overwrite", action="store_true", help="delete an existing non-empty --out folder first")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(handler=cmd_train_sensor)
    return p


def add_sample_parser(sample_kinds: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``sensor`` to the ``twinloop sample`` kinds; returns its parser."""
    p = sample_kinds.add_parser("sensor", help="textured windows from a sensor-texture GAN, or a textured twin run")
    p.add_argument("--model", type=Path, required=True, help="training folder (model.ckpt inside) or a .ckpt file")
    p.add_argument("--out", type=Path, required=True, help="output folder (created atomically)")
    p.add_argument("--n", type=_positive_int, default=16, help="windows to sample (default 16; not with --twin)")
    p.add_argument("--seed", type=int, default=0, help="seed of the texture noise (default 0)")
    p.add_argument("--twin", type=Path, help="twin run folder: texture its curves.parquet instead")
    p.add_argument("--threads", type=_positive_int, help="torch CPU threads (default: torch's choice)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing non-empty --out folder")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(handler=cmd_sample_sensor)
    return p


def _error(message: str) -> None:
    sys.stderr.write(f"twinloop: {message}\n")


class _StepBar:
    """``progress(done, total)`` callback (absolute ``done``) moving a tqdm bar of optimiser steps."""

    def __init__(self, total: int, desc: str):
        from tqdm import tqdm

        self._bar = tqdm(total=total, unit="step", dynamic_ncols=True, desc=desc)

    def __call__(self, done: int, total: int) -> None:
        if done > self._bar.n:
            self._bar.update(done - self._bar.n)

    def close(self) -> None:
        self._bar.close()


def _prepare_train_out(out: Path, resume: Path | None, overwrite: bool) -> str | None:
    """Check (and with ``overwrite``, clear) the output folder; an error text or None."""
    if not out.exists():
        return None
    if not out.is_dir():
        return f"--out {out} is a file"
    if not any(out.iterdir()):
        return None
    inside = resume is not None and out.resolve() in resume.resolve().parents
    if inside and not overwrite:
        return None  # resuming in place: the old checkpoints stay, the final files are replaced
    if inside and overwrite:
        return f"--overwrite would delete the folder {out} that holds the --resume checkpoint {resume}"
    if not overwrite:
        return (f"output folder {out} already exists and is not empty; choose another folder, pass --overwrite, "
                f"or --resume from one of its checkpoints")
    shutil.rmtree(out)
    return None


def cmd_train_sensor(args: argparse.Namespace) -> int:
    problem = _prepare_train_out(args.out, args.resume, args.overwrite)
    if problem:
        _error(problem)
        return EXIT_USAGE
    from generative.checkpoint import CheckpointError
    from generative.curve_windows import CurveDataError, windows_from_runs
    from generative.sensor_texture import SensorTextureGAN
    from scenarios.sensor_texture import loss_summary, training_report_html
    from twin.runfolder import atomic_write_bytes, json_text

    _set_threads(args.threads)
    try:
        data = windows_from_runs(args.data, args.channels, length=args.window, stride=args.stride)
    except CurveDataError as exc:
        _error(f"nothing written: {exc}")
        return EXIT_FAILURE
    gan = SensorTextureGAN(steps=args.steps, checkpoint_every=args.checkpoint_every, hidden=args.hidden,
                           batch_size=args.batch_size)
    args.out.mkdir(parents=True, exist_ok=True)
    bar = None if args.no_progress else _StepBar(args.steps, "train gan sensor")
    t0 = time.perf_counter()
    try:
        gan.fit(data, seed=args.seed, checkpoint_dir=args.out / "checkpoints", resume_from=args.resume,
                progress=bar)
    except CheckpointError as exc:
        _error(str(exc))
        return EXIT_USAGE
    finally:
        if bar is not None:
            bar.close()
    seconds = time.perf_counter() - t0
    model_path = gan.save(args.out / "model.ckpt")
    metrics = {
        "data": [str(d) for d in args.data], "channels": list(gan.channels_), "sample_interval_s": gan.dt_s_,
        "window_samples": gan.window_samples_, "training_windows": len(data), "stride": args.stride,
        "steps": int(gan.step_), "seed": int(args.seed), "resumed_from": str(args.resume) if args.resume else None,
        "params": gan.get_params(), "smoothing": gan.smoothing_.to_dict(), "texture_sd": gan.texture_sd_,
        "lattice": {k: v.to_dict() for k, v in gan.lattice_.items()}, "final_losses": loss_summary(gan.history_),
        "train_seconds_this_run": seconds, "model": str(model_path),
    }
    atomic_write_bytes(args.out / "metrics.json", json_text(metrics).encode("utf-8"))
    html = training_report_html(gan, data, "Sensor texture GAN: training", seed=args.seed)
    atomic_write_bytes(args.out / "report.html", html.encode("utf-8"))
    sys.stdout.write(f"model: {model_path}\nreport: {(args.out / 'report.html').resolve()}\n")
    return EXIT_OK


def cmd_sample_sensor(args: argparse.Namespace) -> int:
    from generative.checkpoint import CheckpointError
    from generative.sensor_texture_adapter import load_curve_texture
    from twin.runfolder import RunFolder, RunFolderExistsError

    try:
        RunFolder(args.out, overwrite=args.overwrite).check_target()
    except RunFolderExistsError as exc:
        _error(str(exc))
        return EXIT_USAGE
    _set_threads(args.threads)
    try:
        adapter = load_curve_texture(args.model)
    except CheckpointError as exc:
        _error(str(exc))
        return EXIT_USAGE
    if args.twin is not None:
        return _texture_twin_run(adapter, args)
    return _sample_windows(adapter, args)


def _sample_windows(adapter, args: argparse.Namespace) -> int:
    import numpy as np
    import pyarrow as pa

    from scenarios.report_html import Section, figure_html, page_html
    from scenarios.sensor_texture import windows_figure
    from twin.runfolder import RunFolder
    from twin.sinks import write_table_atomic

    model = adapter.model
    cond = model.example_conditions(args.n)
    textured = model.sample(args.n, condition=cond, seed=args.seed)
    lst = pa.list_(pa.float32())
    table = pa.table({"channel": pa.array([str(c) for c in cond.channel], pa.string()),
                      "sample_interval_s": pa.array(np.full(args.n, model.dt_s_), pa.float64()),
                      "condition": pa.array(list(cond.condition), lst),
                      "textured": pa.array(list(textured.astype(np.float32)), lst)})
    panels = [(f"{cond.channel[k]} #{k}", {"smooth": cond.condition[k], "generated": textured[k]})
              for k in range(min(args.n, 12))]
    with RunFolder(args.out, overwrite=args.overwrite) as run:
        write_table_atomic(run.path("windows.parquet"), table, {"generator_checkpoint": adapter.checkpoint,
                                                                "seed": int(args.seed)})
        run.write_json("metrics.json", {"model": adapter.checkpoint, "n": int(args.n), "seed": int(args.seed),
                                        "channels": list(adapter.channels), "window_samples": model.window_samples_,
                                        "sample_interval_s": model.dt_s_})
        run.write_text("report.html", page_html(
            "Sensor texture GAN: samples", f"{args.n} windows, seed {args.seed}, model {adapter.checkpoint}",
            [Section("Windows", "Condition (the smooth curve) and the textured sample.",
                     figure_html(windows_figure(panels, model.dt_s_), "samples", 260 * ((len(panels) + 1) // 2)),
                     "windows")]))
    sys.stdout.write(f"windows: {(args.out / 'windows.parquet').resolve()}\n")
    return EXIT_OK


def _texture_twin_run(adapter, args: argparse.Namespace) -> int:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from twin.parquet_encoding import lineage_metadata, parquet_write_options
    from twin.runfolder import RunFolder

    src = args.twin / "curves.parquet"
    if not src.is_file():
        _error(f"{src}: no curves.parquet in the twin run folder {args.twin}")
        return EXIT_FAILURE
    pf = pq.ParquetFile(src)
    names = pf.schema_arrow.names
    channels = [c for c in adapter.channels if c in names]
    if not channels:
        _error(f"{src}: none of the model's channels {list(adapter.channels)} is in the run's curves")
        return EXIT_FAILURE
    total = pf.metadata.num_rows
    bar = None
    if not args.no_progress:
        from tqdm import tqdm

        bar = tqdm(total=total, unit="cycle", dynamic_ncols=True, desc="sample sensor --twin")
    rng = np.random.default_rng(args.seed)
    schema = lineage_metadata(pf.schema_arrow, {"generator_checkpoint": adapter.checkpoint,
                                                "texture_seed": int(args.seed)})
    try:
        with RunFolder(args.out, overwrite=args.overwrite) as run:
            with pq.ParquetWriter(run.path("curves.parquet"), schema, **parquet_write_options(pf.schema_arrow)) as w:
                for batch in pf.iter_batches(batch_size=64):
                    t = pa.Table.from_batches([batch])
                    dts = t.column("sample_interval_s").to_pylist()
                    for ch in channels:
                        col = t.column(ch).to_pylist()
                        out = []
                        for v, dt in zip(col, dts):
                            if v is None:
                                out.append(None)
                                continue
                            adapter.check_sample_interval(dt)
                            out.append(adapter.model.texture_curves(ch, np.asarray(v, np.float32),
                                                                    seed=int(rng.integers(0, 2**63 - 1))))
                        t = t.set_column(names.index(ch), pf.schema_arrow.field(ch),
                                         pa.array(out, pf.schema_arrow.field(ch).type))
                    w.write_table(t.cast(pf.schema_arrow))
                    if bar is not None:
                        bar.update(t.num_rows)
            for name in ("cycles.parquet", "events.parquet", "config.toml"):
                if (args.twin / name).is_file():
                    run.write_bytes(name, (args.twin / name).read_bytes())
            run.write_json("metrics.json", {"source_run": str(args.twin), "model": adapter.checkpoint,
                                            "seed": int(args.seed), "channels_textured": channels,
                                            "cycles": int(total),
                                            "note": "cycles.parquet is copied unchanged (its generator_checkpoint "
                                                    "column is not rewritten); curves.parquet carries the "
                                                    "checkpoint in its Parquet metadata"})
    except ValueError as exc:  # another sample interval than the model's
        _error(f"nothing written: {exc}")
        return EXIT_FAILURE
    finally:
        if bar is not None:
            bar.close()
    sys.stdout.write(f"run folder: {args.out}\n")
    return EXIT_OK
