"""Simulated time per wall time without curves (``curves.enabled = false``).

* ``simtime: twin, no Parquet``: the cell with counting bus subscribers;
* ``simtime: simulate_molding``: the full run with the cycles/events Parquet
  sinks and metrics.

Target: >= 100,000 x real time, i.e. one year of 30 s cycles (1,051,200
cycles) in about 5 minutes on one core. The year figure is extrapolated
from the measured wall time per cycle (the cost of a cycle does not depend
on its simulated length); the x-real-time figure uses the default
configuration's own cycle time (about 20 s, so it is the stricter one).

Baseline, informational (no target): a bare SimPy skeleton of the same cell
(the same sequence of timeouts and robot requests per cycle, constant phase
times summing to the twin's mean cycle time, no physics, no records) — the
floor that SimPy alone sets, and with it the share of the time that goes
to everything else.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

from benchmarks.common import Result, bench_config, interleaved, ratio, run_full, run_twin

TARGET_X_REALTIME = 100_000.0
YEAR_S = 365 * 24 * 3600.0
YEAR_30S_CYCLES = YEAR_S / 30.0
TARGET_YEAR_MIN = 5.0


def bare_simpy(cycles: int, cycle_s: float, cfg: dict) -> float:
    """One machine process with the twin's timeouts and robot request per cycle; returns sim seconds."""
    import simpy

    env = simpy.Environment()
    robot = simpy.Resource(env, capacity=int(cfg["cell"]["robot_count"]))
    mc = cfg["machine"]
    close, open_, eject = float(mc["close_time_s"]), float(mc["open_time_s"]), float(mc["eject_time_s"])
    takeout = float(cfg["cell"]["robot_takeout_s"])
    hold = float(cfg["setpoints"]["hold_time_s"]) + 1.0
    cool = max(cycle_s - close - hold - open_ - eject - takeout, 0.1)
    done = env.event()

    def machine():
        n = 0
        while True:
            yield env.timeout(close)
            yield env.timeout(hold)
            yield env.timeout(cool)
            yield env.timeout(open_)
            yield env.timeout(eject)
            with robot.request() as req:
                yield req
                yield env.timeout(takeout)
            n += 1
            if n >= cycles:
                done.succeed()
                return

    env.process(machine())
    env.run(until=done)
    return env.now


def run(quick: bool = False, repeat: int = 3) -> list[Result]:
    cycles = 300 if quick else 20_000
    repeat = 1 if quick else repeat
    cfg = bench_config(**{"curves.enabled": False})
    with tempfile.TemporaryDirectory(prefix="twinloop-bench-") as tmp:
        out = Path(tmp) / "run"
        first = run_twin(cfg, min(cycles, 200))           # warm-up, and the mean cycle time
        run_full(cfg, 20, out)
        mean_cycle_s = first["sim_s"] / first["cycles"]
        t = interleaved({
            "simpy": lambda: bare_simpy(cycles, mean_cycle_s, cfg),
            "twin": lambda: run_twin(cfg, cycles),
            "full": lambda: run_full(cfg, cycles, out),
        }, repeat, warmup=False)
    sim_s = {"simpy": t["simpy"].payload, "twin": t["twin"].payload["sim_s"], "full": t["full"].payload["sim_s"]}
    x = {k: sim_s[k] / t[k].best for k in t}
    per_cycle = {k: t[k].best / cycles for k in t}
    year_min = {k: YEAR_30S_CYCLES * per_cycle[k] / 60.0 for k in t}
    shape = {"cycles": cycles, "sim_hours": {k: v / 3600.0 for k, v in sim_s.items()},
             "mean_cycle_s": sim_s["twin"] / cycles, "wall_us_per_cycle": {k: v * 1e6 for k, v in per_cycle.items()}}
    out_rows = [
        Result("simtime: bare SimPy skeleton (baseline)", x["simpy"], "x real time",
               note="same timeouts + robot request per cycle, no physics, no records",
               extra={"timing": t["simpy"].summary(), **shape}),
    ]
    for key, label, note in (("twin", "simtime: twin, no Parquet", "SimPy + physics + bus (counting subscribers)"),
                             ("full", "simtime: simulate_molding", "incl. cycles/events Parquet + metrics")):
        out_rows.append(Result(label, x[key], "x real time", baseline=x["simpy"], ratio=ratio(x[key], x["simpy"]),
                               target=TARGET_X_REALTIME, target_on="value",
                               note=f"{cycles} cycles of {shape['mean_cycle_s']:.1f} s; baseline = bare SimPy",
                               extra={"timing": t[key].summary(), **shape}))
        out_rows.append(Result(f"{label}: year of 30 s cycles", year_min[key], "min (extrapolated)",
                               target=TARGET_YEAR_MIN, target_on="value", target_op="<=",
                               note=f"{YEAR_30S_CYCLES:,.0f} cycles x {per_cycle[key] * 1e6:.0f} us/cycle; {note}",
                               extra={"x_real_time_at_30s_cycles": 30.0 / per_cycle[key]}))
    return out_rows
