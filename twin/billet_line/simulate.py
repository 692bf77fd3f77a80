"""Run the billet line into a run folder: ``billets.parquet``, ``events.parquet``, config, metrics.

``simulate_billets(cfg, out, billets=N)`` runs the line until N billets
have passed the camera, streams their records and the line's events through
the bus into Parquet sinks and writes ``config.toml`` (fully resolved) and
``metrics.json``; the ``finalize`` hook adds anything a caller wants (the
report). Everything is written into a partial folder that is renamed into
place only when complete (:class:`twin.runfolder.RunFolder`).
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Callable

from twin.billet_line.context import LineContext
from twin.billet_line.line import build_line
from twin.billet_line.metrics import summarize_billets
from twin.bus import Bus
from twin.config import config_hash, dump_toml
from twin.parquet_encoding import package_version
from twin.runfolder import RunFolder
from twin.schema import BILLETS_SCHEMA, EVENTS_SCHEMA
from twin.sinks import MemorySink, ParquetSink


def simulate_billets(cfg: dict, out_dir: Path | str, *, billets: int,
                     progress: Callable[[int, int], None] | None = None, overwrite: bool = False,
                     finalize: Callable[[RunFolder, dict], None] | None = None) -> Path:
    """Simulate the billet line until ``billets`` billets were photographed; returns the run folder."""
    if billets < 1:
        raise ValueError(f"billets must be >= 1, got {billets}")
    seed = int(cfg["run"]["seed"])
    chash = config_hash(cfg)
    run_id = cfg["run"].get("run_id") or f"billets-{seed}-{chash[:8]}"
    start = dt.datetime.fromisoformat(cfg["run"]["start_time"])
    meta = {"run_id": run_id, "seed": seed, "config_hash": chash, "code_version": package_version()}
    with RunFolder(out_dir, overwrite=overwrite) as run:
        bus = Bus()
        sinks = [ParquetSink(run.path, "billets", BILLETS_SCHEMA, metadata=meta),
                 ParquetSink(run.path, "events", EVENTS_SCHEMA, metadata=meta)]
        for s in sinks:
            s.attach(bus)
        summary = MemorySink()
        bus.subscribe("billets", lambda r: summary.write_row({k: v for k, v in r.items() if k != "image_png"}))
        ctx = LineContext(run_id=run_id, seed=seed, config_hash=chash, code_version=package_version(),
                          start_epoch_ms=int(round(start.timestamp() * 1000)), year_digit=start.year % 10, bus=bus)
        line = build_line(cfg, ctx)
        env = line.env
        done = env.event()
        count = {"n": 0}

        def on_billet(now: float) -> None:
            count["n"] += 1
            if progress is not None:
                progress(count["n"], billets)
            if count["n"] >= billets and not done.triggered:
                done.succeed()

        ctx.on_billet = on_billet
        ctx.event(0.0, "line", "run_start", f"seed {seed}, config {chash}")
        env.run(until=done)
        ctx.event(env.now, "line", "run_end", f"{count['n']} billets")
        for s in sinks:
            s.close()
        run.write_text("config.toml", dump_toml(cfg))
        metrics = summarize_billets(summary.rows, sim_seconds=env.now, line=line)
        metrics.update(meta)
        run.write_json("metrics.json", metrics)
        if finalize is not None:
            finalize(run, metrics)
    return Path(out_dir)
