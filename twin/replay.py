"""Replay of an ingested real log into the twin's record stream.

A :class:`LogReplay` is a SimPy component like a machine: it publishes the
log's ``cycles`` records (and their ``curves`` rows, when the log has them)
on the bus at their logged times, so subscribers see real and simulated
records side by side, in one time order. The records keep ``source =
"real"`` and their own ids and timestamps; ``sim_time_s`` is set to the
simulated time at which the stream saw them.

Time: the log's first record is published at simulated time
``align_at_s``; later ones follow at their logged offsets multiplied by
``time_scale`` (1 = as logged; 0.01 = a hundred times compressed). The
records' own ``start_time`` stays as logged.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import simpy

from twin.bus import Bus


class LogReplay:
    """Publish an ingested log's records at their (scaled) logged times."""

    def __init__(self, env: simpy.Environment, bus: Bus, real_dir: Path | str, *, time_scale: float = 1.0,
                 align_at_s: float = 0.0, name: str = "replay"):
        if time_scale <= 0:
            raise ValueError(f"replay {real_dir}: time_scale must be > 0, got {time_scale}")
        self.env, self.bus, self.name = env, bus, name
        self.real_dir = Path(real_dir)
        path = self.real_dir / "cycles.parquet"
        if not path.is_file():
            raise FileNotFoundError(f"replay: {path} not found (ingest the log first: twinloop ingest molding ...)")
        table = pq.read_table(path)
        if table.num_rows == 0:
            raise ValueError(f"replay: {path} has no rows")
        self.rows = table.to_pylist()
        times = np.array([r["start_time"].timestamp() for r in self.rows])
        if np.any(np.diff(times) < 0):
            i = int(np.flatnonzero(np.diff(times) < 0)[0]) + 1
            raise ValueError(f"replay: {path}, row {i}: start_time goes backwards; the log must be in time order")
        self.offsets_s = (times - times[0]) * time_scale + align_at_s
        self.curves = self._curves_by_cycle()
        self.published = 0

    def _curves_by_cycle(self) -> dict[int, dict]:
        path = self.real_dir / "curves.parquet"
        if not path.is_file():
            return {}
        return {r["cycle_id"]: r for r in pq.read_table(path).to_pylist()}

    def run(self):
        for offset, rec in zip(self.offsets_s, self.rows):
            if offset > self.env.now:
                yield self.env.timeout(offset - self.env.now)
            # sim_time_s: when the stream saw it (the log's own time stays in start_time).
            self.bus.publish("cycles", dict(rec, sim_time_s=float(self.env.now)))
            curve = self.curves.get(rec["cycle_id"])
            if curve is not None:
                self.bus.publish("curves", curve)
            self.published += 1

    def start(self) -> simpy.Process:
        return self.env.process(self.run())
