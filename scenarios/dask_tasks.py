"""Run a scenario's independent tasks (sweep cells, replications) on Dask.

Every sweep in ``scenarios/`` is a list of *tasks*: plain dicts that say
everything one piece of work needs (the config overrides, the seed, the
number of cycles), handed to a module-level function that returns a small
picklable result. :func:`run_tasks` maps the function over the tasks:

* ``scheduler`` set (``tcp://host:8786``): on that existing Dask cluster,
  through a :class:`distributed.Client`; the task function's module must
  be importable on the workers (install twinloop there too);
* else ``workers >= 1``: on a :class:`distributed.LocalCluster` of that many
  single-threaded worker *processes* started for this call (the GIL-bound
  simulator gains nothing from threads), shut down afterwards;
* ``workers == 0``: in this process, one task after the other (no Dask
  machinery at all; the reference for the determinism tests and for
  debugging with a plain traceback).

Results come back **in task order**, whatever order the workers finish in,
and each task carries its own seed (:func:`task_seed`, derived from the
root seed and the task's coordinates, never from a worker or a counter),
so the output is identical for 0, 1 or N workers.

A task that raises stops the sweep: the error is re-raised here with the
task's index and description, and the caller has written nothing yet
(scenarios write their run folder only after every task is back).
"""
from __future__ import annotations

import logging
import warnings
from typing import Any, Callable, Sequence

import numpy as np

__all__ = ["run_tasks", "task_seed", "SweepTaskError", "DaskOptions"]


class SweepTaskError(RuntimeError):
    """A task of a sweep failed; the message names the task."""


def task_seed(root_seed: int, *coords: int) -> int:
    """A 32-bit seed for the task at ``coords`` (e.g. cell index, replication) under ``root_seed``.

    :class:`numpy.random.SeedSequence` mixes the entropy so neighbouring
    cells get unrelated streams, and the seed of a task does not depend on
    which other tasks exist: adding a level to a grid leaves every other
    cell's seeds unchanged when its coordinates are unchanged.
    """
    if any(int(c) < 0 for c in coords):
        raise ValueError(f"task coordinates must be >= 0, got {coords}")
    return int(np.random.SeedSequence([int(root_seed), *map(int, coords)]).generate_state(1)[0])


class DaskOptions:
    """Where tasks run: ``workers`` (0 = in-process) and an optional ``scheduler`` address."""

    def __init__(self, workers: int = 2, scheduler: str | None = None):
        if int(workers) < 0:
            raise ValueError(f"dask workers must be >= 0, got {workers}")
        self.workers = int(workers)
        self.scheduler = scheduler or None

    def describe(self) -> str:
        if self.scheduler:
            return f"dask cluster at {self.scheduler}"
        return "in-process" if self.workers == 0 else f"dask LocalCluster, {self.workers} worker process(es)"


def _describe(task: Any) -> str:
    if isinstance(task, dict):
        return ", ".join(f"{k}={v!r}" for k, v in task.items() if not isinstance(v, (dict, list)))[:300]
    return repr(task)[:300]


def run_tasks(fn: Callable[..., Any], tasks: Sequence[Any], options: DaskOptions | None = None, *,
              progress: Callable[[int, int], None] | None = None, shared: Any = None) -> list:
    """``[fn(t) for t in tasks]``, on Dask as ``options`` say (module docstring); results in task order.

    ``shared``: data every task reads (arrays of a real set, a synthetic
    pool): sent to each worker once (``Client.scatter(broadcast=True)``)
    instead of inside every task; the function is then called ``fn(task, shared=shared)``.
    """
    options = options or DaskOptions()
    tasks = list(tasks)
    total = len(tasks)
    if total == 0:
        return []
    if options.scheduler is None and options.workers == 0:
        out = []
        for k, t in enumerate(tasks):
            try:
                out.append(fn(t) if shared is None else fn(t, shared=shared))
            except Exception as exc:
                raise SweepTaskError(f"task {k} ({_describe(t)}) failed: {type(exc).__name__}: {exc}") from exc
            if progress:
                progress(k + 1, total)
        return out
    return _run_distributed(fn, tasks, options, progress, shared)


def _run_distributed(fn, tasks: list, options: DaskOptions, progress, shared=None) -> list:
    from distributed import Client, LocalCluster, as_completed

    # distributed logs every worker start and stop at INFO; a sweep's user wants the progress bar, not that.
    for name in ("distributed", "tornado"):
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLogger(name).getEffectiveLevel()))
    cluster = None
    if options.scheduler:
        client = Client(options.scheduler, set_as_default=False)
    else:
        # No dashboard: it would bind port 8787, which a second sweep or a test on the same host may hold.
        with warnings.catch_warnings():
            # The scheduler's HTTP endpoint moves to a free port when 8787 is taken (another sweep): not news.
            warnings.filterwarnings("ignore", message=r"Port \d+ is already in use")
            cluster = LocalCluster(n_workers=options.workers, threads_per_worker=1, processes=True,
                                   dashboard_address=None, silence_logs=logging.ERROR)
        client = Client(cluster, set_as_default=False)
    try:
        # pure=False: two identical task dicts are still two tasks (and keys never collide across sweeps).
        extra = {} if shared is None else {"shared": client.scatter(shared, broadcast=True)}
        futures = client.map(fn, tasks, pure=False, **extra)
        index = {f.key: k for k, f in enumerate(futures)}
        results: list = [None] * len(tasks)
        done = 0
        for fut in as_completed(futures, loop=client.loop):
            k = index[fut.key]
            try:
                results[k] = fut.result()
            except Exception as exc:
                for f in futures:
                    f.cancel()
                raise SweepTaskError(f"task {k} ({_describe(tasks[k])}) failed: "
                                     f"{type(exc).__name__}: {exc}") from exc
            done += 1
            if progress:
                progress(done, len(tasks))
        return results
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
