"""Dask sweep speed-up: the what-if sweep's tasks in-process, on 1 and on 2 LocalCluster workers.

The same task list (a 2 x 2 x 2 setpoint grid, 3 replications, 2,000 cycles
per run: 24 twin runs) is run three ways, interleaved:

* in this process, one task after the other (the baseline);
* on a LocalCluster of 1 worker process;
* on a LocalCluster of 2 worker processes.

Times are end to end, *including* starting and stopping the cluster (what a
user waits for). The runner pins itself to one core; this benchmark lifts
the pin while it runs (workers inherit the affinity of the process that
starts them) and restores it afterwards. Speed-up = in-process time /
2-worker time; informational target >= 1.5 on a 2-core machine. On a
machine shared with other jobs the figure is a floor.

The results of all three are checked to be identical (a benchmark that got
faster by computing something else would be worthless).
"""
from __future__ import annotations

import os

from benchmarks.common import Result, interleaved, ratio

TARGET_SPEEDUP = 1.5


def _tasks(quick: bool):
    from scenarios.what_if_defect_rate import DEFAULTS, build_tasks
    from scenarios.spec import merge_spec

    spec = merge_spec(DEFAULTS, {"twin": {"cycles": 60 if quick else 2000, "warmup_cycles": 10},
                                 "replications": {"count": 2 if quick else 3, "seed": 1}}, "bench")
    grid = {"setpoints.mold_temp_C": [30.0, 40.0], "setpoints.hold_pressure_bar": [250.0, 300.0],
            "setpoints.cooling_time_s": [7.0, 9.0]}
    return build_tasks(spec, grid)[1]


def run(quick: bool = False, repeat: int = 3) -> list[Result]:
    from scenarios.dask_tasks import DaskOptions, run_tasks
    from scenarios.what_if_defect_rate import simulate_cell

    tasks = _tasks(quick)
    repeat = 1 if quick else repeat
    pinned = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    cores = os.cpu_count() or 1
    try:
        if pinned is not None:
            os.sched_setaffinity(0, set(range(cores)))
        t = interleaved({w: (lambda w=w: run_tasks(simulate_cell, tasks, DaskOptions(w))) for w in (0, 1, 2)},
                        repeat, warmup=not quick)
    finally:
        if pinned is not None:
            os.sched_setaffinity(0, set(pinned))
    same = t[0].payload == t[1].payload == t[2].payload
    base = len(tasks) / t[0].best
    rows = [Result("sweep: in-process (baseline)", base, "runs/s", note=f"{len(tasks)} twin runs",
                   extra={"timing": t[0].summary()})]
    for w in (1, 2):
        rate = len(tasks) / t[w].best
        rows.append(Result(f"sweep: dask LocalCluster, {w} worker(s)", rate, "runs/s", baseline=base,
                           ratio=ratio(rate, base), target=TARGET_SPEEDUP if w == 2 else None,
                           note=f"incl. cluster start/stop; {cores} cores; results identical: {same}",
                           extra={"timing": t[w].summary(), "identical": same}))
    return rows
