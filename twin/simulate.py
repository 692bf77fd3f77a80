"""Run the molding cell into a run folder: the one entry point for simulations.

``simulate_molding(cfg, out)`` builds the cell, runs it for N cycles or H
simulated hours, streams cycles, curves and events through the bus into
Parquet sinks, and writes ``config.toml`` (fully resolved), ``metrics.json``
and, through the ``finalize`` hook, anything a caller adds (the report).
Everything is written into a partial folder that is renamed into place
only when complete (:class:`twin.runfolder.RunFolder`).
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Callable

from twin.bus import Bus
from twin.cell import build_cell
from twin.config import config_hash, dump_toml
from twin.curve_texture import CurveTexture
from twin.machine import RunContext
from twin.metrics import summarize_cycles
from twin.parquet_encoding import package_version
from twin.replay import LogReplay
from twin.runfolder import RunFolder
from twin.schema import CURVES_SCHEMA, CYCLES_SCHEMA, EVENTS_SCHEMA
from twin.sinks import MemorySink, ParquetSink


def simulate_molding(cfg: dict, out_dir: Path | str, *, cycles: int | None = None, hours: float | None = None,
                     progress: Callable[[float, float], None] | None = None, overwrite: bool = False,
                     finalize: Callable[[RunFolder, dict], None] | None = None,
                     realtime_factor: float | None = None,
                     replay: list[tuple[Path | str, float]] | None = None,
                     curve_texture: CurveTexture | None = None) -> Path:
    """Simulate the cell; returns the completed run folder.

    Exactly one of ``cycles`` (total over all machines) or ``hours`` (simulated).
    ``progress(done, total)`` is called as cycles complete, in cycles or in
    simulated hours. ``replay``: ingested real logs ``(run folder, time
    scale)`` played into the same stream (:class:`twin.replay.LogReplay`),
    so the run's files hold real rows beside the simulated ones.
    ``curve_texture``: learned sensor texture applied to the rendered curves
    (:mod:`twin.curve_texture`); it is required when the config names one
    (``curves.texture_model``), since the twin does not load models itself.
    """
    if (cycles is None) == (hours is None):
        raise ValueError("give exactly one of cycles or hours")
    if cycles is not None and cycles < 1:
        raise ValueError(f"cycles must be >= 1, got {cycles}")
    if hours is not None and hours <= 0:
        raise ValueError(f"hours must be > 0, got {hours}")
    texture_model = cfg["curves"].get("texture_model", "")
    if texture_model and curve_texture is None:
        raise ValueError(f"curves.texture_model = {texture_model!r} is set but no curve_texture was passed: load it "
                         "with generative.sensor_texture_adapter.load_curve_texture (the twin does not import torch)")
    seed = int(cfg["run"]["seed"])
    chash = config_hash(cfg)
    run_id = cfg["run"].get("run_id") or f"sim-{seed}-{chash[:8]}"
    start = dt.datetime.fromisoformat(cfg["run"]["start_time"])
    start_ms = int(round(start.timestamp() * 1000))
    start_hour = start.hour + start.minute / 60.0
    meta = {"run_id": run_id, "seed": seed, "config_hash": chash, "code_version": package_version()}

    with RunFolder(out_dir, overwrite=overwrite) as run:
        bus = Bus()
        sinks = [ParquetSink(run.path, "cycles", CYCLES_SCHEMA, metadata=meta),
                 ParquetSink(run.path, "events", EVENTS_SCHEMA, metadata=meta)]
        if cfg["curves"]["enabled"]:
            sinks.append(ParquetSink(run.path, "curves", CURVES_SCHEMA, metadata=meta))
        for s in sinks:
            s.attach(bus)
        memory = MemorySink()
        bus.subscribe("cycles", memory.write_row)
        state = {"n": 0}
        ctx = RunContext(run_id=run_id, seed=seed, config_hash=chash, code_version=package_version(),
                         start_epoch_ms=start_ms, start_hour_of_day=start_hour, bus=bus,
                         curves=bool(cfg["curves"]["enabled"]),
                         sample_interval_s=float(cfg["curves"]["sample_interval_ms"]) / 1000.0,
                         curve_texture=curve_texture)
        cell = build_cell(cfg, ctx, realtime_factor=realtime_factor)
        env = cell.env
        replays = [LogReplay(env, bus, d, time_scale=scale, name=f"replay{k + 1}")
                   for k, (d, scale) in enumerate(replay or [])]
        for r in replays:
            r.start()
        done = env.event()

        def on_cycle(now: float) -> None:
            state["n"] += 1
            if progress is not None:
                if cycles is not None:
                    progress(state["n"], cycles)
                else:
                    progress(min(now / 3600.0, hours), hours)
            if cycles is not None and state["n"] >= cycles and not done.triggered:
                done.succeed()

        ctx.on_cycle = on_cycle
        _event(bus, run_id, start_ms, 0.0, "run_start", f"seed {seed}, config {chash}")
        env.run(until=done if cycles is not None else hours * 3600.0)
        _event(bus, run_id, start_ms, env.now, "run_end", f"{state['n']} cycles")
        for s in sinks:
            s.close()
        run.write_text("config.toml", dump_toml(cfg))
        metrics = summarize_cycles([r for r in memory.rows if r["source"] == "sim"], sim_seconds=env.now)
        if replays:
            metrics["replayed_real_cycles"] = sum(r.published for r in replays)
        metrics.update({"run_id": run_id, "seed": seed, "config_hash": chash, "code_version": package_version()})
        if curve_texture is not None and ctx.curves:
            metrics["curve_texture"] = {"checkpoint": curve_texture.checkpoint, "channels": list(curve_texture.channels)}
        run.write_json("metrics.json", metrics)
        if finalize is not None:
            finalize(run, metrics)
    return Path(out_dir)


def _event(bus: Bus, run_id: str, start_ms: int, now: float, kind: str, detail: str) -> None:
    bus.publish("events", {"run_id": run_id, "time": start_ms + int(round(now * 1000)), "sim_time_s": now,
                           "component": "cell", "kind": kind, "detail": detail, "duration_s": None})
