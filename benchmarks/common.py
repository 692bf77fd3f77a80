"""Shared pieces of the benchmarks: result records, timing, configuration."""
from __future__ import annotations

import gc
import math
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

#: Seed of every benchmark run (fixed: the same cycles, curves and draws each time).
SEED = 20240605


@dataclass
class Result:
    """One line of the benchmark table (and of ``results.json``)."""

    name: str
    value: float
    unit: str
    baseline: float | None = None      # baseline figure in the same unit, measured in the same run
    ratio: float | None = None         # value / baseline (or the figure the target applies to)
    target: float | None = None        # informational target, see target_on / target_op
    target_on: str = "ratio"           # "ratio" or "value": which figure the target applies to
    target_op: str = ">="              # ">=" or "<="
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def target_met(self) -> bool | None:
        if self.target is None:
            return None
        x = self.ratio if self.target_on == "ratio" else self.value
        if x is None or not math.isfinite(x):
            return False
        return bool(x >= self.target) if self.target_op == ">=" else bool(x <= self.target)

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["target_met"] = self.target_met
        return d


@dataclass
class Timing:
    """Best and all wall (and process CPU) times of repeated runs, seconds."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    payload: Any = None                # what the last call returned

    @property
    def best(self) -> float:
        return min(self.wall)

    def summary(self) -> dict[str, Any]:
        return {"wall_s": [round(x, 6) for x in self.wall], "cpu_s": [round(x, 6) for x in self.cpu],
                "best_wall_s": round(self.best, 6)}


def time_once(fn: Callable[[], Any], timing: Timing) -> None:
    """Run ``fn`` once (after a garbage collection, outside the timed span) and record its times."""
    gc.collect()
    c0, t0 = time.process_time(), time.perf_counter()
    timing.payload = fn()
    t1, c1 = time.perf_counter(), time.process_time()
    timing.wall.append(t1 - t0)
    timing.cpu.append(c1 - c0)


def interleaved(fns: dict[str, Callable[[], Any]], repeat: int, warmup: bool = True) -> dict[str, Timing]:
    """Time each of ``fns`` ``repeat`` times, interleaved (A B C A B C ...), so drift on a shared
    machine hits candidate and baseline alike; an untimed warm-up call of each first."""
    if warmup:
        for fn in fns.values():
            fn()
    out = {name: Timing() for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            time_once(fn, out[name])
    return out


def bench_config(**changes: Any) -> dict:
    """The validated default configuration (as the CLI resolves it) with the benchmark seed and
    ``{"section.key": value}`` changes."""
    from twin.config import load_config

    def toml(v: Any) -> str:
        return ("true" if v else "false") if isinstance(v, bool) else repr(v)

    overrides = [f"run.seed={SEED}"] + [f"{k}={toml(v)}" for k, v in changes.items()]
    return load_config(overrides=overrides)


class Counter:
    """A bus subscriber that only counts records (and keeps the curve lengths)."""

    def __init__(self) -> None:
        self.rows = 0
        self.n_samples: list[int] = []

    def row(self, record: dict) -> None:
        self.rows += 1

    def curve(self, record: dict) -> None:
        self.rows += 1
        self.n_samples.append(record["n_samples"])


def run_twin(cfg: dict, cycles: int, rng_hook: Callable[[Any], None] | None = None,
             keep: tuple[str, ...] = ()) -> dict[str, Any]:
    """Run the cell for ``cycles`` cycles as :func:`twin.simulate.simulate_molding` does, but with
    counting subscribers instead of sinks: SimPy + physics + curve rendering + bus, no Parquet.

    ``rng_hook(machine)`` runs after the cell is built (to swap generators for counting proxies).
    Returns cycles, simulated seconds, curve lengths, record counts and, for the topics in
    ``keep``, the records themselves (``kept[topic]``).
    """
    import datetime as dt

    from twin.bus import Bus
    from twin.cell import build_cell
    from twin.config import config_hash
    from twin.machine import RunContext
    from twin.parquet_encoding import package_version

    bus = Bus()
    counters = {"cycles": Counter(), "curves": Counter(), "events": Counter()}
    bus.subscribe("cycles", counters["cycles"].row)
    bus.subscribe("events", counters["events"].row)
    bus.subscribe("curves", counters["curves"].curve)
    kept: dict[str, list] = {topic: [] for topic in keep}
    for topic, rows in kept.items():
        bus.subscribe(topic, rows.append)
    start = dt.datetime.fromisoformat(cfg["run"]["start_time"])
    chash = config_hash(cfg)
    ctx = RunContext(run_id="bench", seed=int(cfg["run"]["seed"]), config_hash=chash,
                     code_version=package_version(), start_epoch_ms=int(round(start.timestamp() * 1000)),
                     start_hour_of_day=start.hour + start.minute / 60.0, bus=bus,
                     curves=bool(cfg["curves"]["enabled"]),
                     sample_interval_s=float(cfg["curves"]["sample_interval_ms"]) / 1000.0)
    cell = build_cell(cfg, ctx)
    if rng_hook is not None:
        for m in cell.machines:
            rng_hook(m)
    done = cell.env.event()
    state = {"n": 0}

    def on_cycle(now: float) -> None:
        state["n"] += 1
        if state["n"] >= cycles and not done.triggered:
            done.succeed()

    ctx.on_cycle = on_cycle
    cell.env.run(until=done)
    return {"cycles": state["n"], "sim_s": cell.env.now, "n_samples": counters["curves"].n_samples,
            "records": {k: c.rows for k, c in counters.items()}, "kept": kept}


def run_full(cfg: dict, cycles: int, out_dir) -> dict[str, Any]:
    """:func:`twin.simulate.simulate_molding` into ``out_dir`` (overwritten): everything a user gets."""
    import json

    from twin.simulate import simulate_molding

    path = simulate_molding(cfg, out_dir, cycles=cycles, overwrite=True)
    metrics = json.loads((path / "metrics.json").read_text())
    return {"cycles": cycles, "sim_s": float(metrics.get("sim_hours", float("nan"))) * 3600.0, "metrics": metrics}


def ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")
