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

**Resuming a long sweep** (``task_cache``, ``--task-cache DIR``): each
finished task's result is also written to that folder (pickled, under a
hash of the task, the shared data and the task function's source file), and
a rerun takes it from there instead of computing it again. A sweep of
hours that is stopped (a killed job, a machine reboot, a session's end)
goes on from the last finished task, and its output is the same as an
uninterrupted run's, because a task's result depends only on what its key
hashes (a file the task names by path, such as a twin config, is hashed by
its content). The key does not see *other* code the task calls: after
changing such code, point the sweep at a fresh folder (or empty it). The files are
pickles: use only a cache folder you wrote yourself.
"""
from __future__ import annotations

import dataclasses
import hashlib
import inspect
import logging
import os
import pickle
import tempfile
import warnings
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

__all__ = ["run_tasks", "task_seed", "SweepTaskError", "DaskOptions", "TaskCache", "content_digest"]

_log = logging.getLogger(__name__)


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
    """Where tasks run: ``workers`` (0 = in-process), an optional ``scheduler`` address, an optional ``task_cache``."""

    def __init__(self, workers: int = 2, scheduler: str | None = None, task_cache: Path | str | None = None):
        if int(workers) < 0:
            raise ValueError(f"dask workers must be >= 0, got {workers}")
        self.workers = int(workers)
        self.scheduler = scheduler or None
        self.task_cache = Path(task_cache) if task_cache else None

    @classmethod
    def from_spec(cls, section: dict) -> "DaskOptions":
        """From a scenario's ``[dask]`` table (``workers``, ``scheduler``, ``task_cache``; "" = none)."""
        return cls(int(section["workers"]), section.get("scheduler") or None, section.get("task_cache") or None)

    def describe(self) -> str:
        if self.scheduler:
            return f"dask cluster at {self.scheduler}"
        return "in-process" if self.workers == 0 else f"dask LocalCluster, {self.workers} worker process(es)"


def content_digest(obj: Any, h: Any) -> None:
    """Feed ``obj``'s *content* to ``h`` (a hashlib object): the same data gives the same bytes in any process.

    Not ``pickle.dumps``: a pickled torch tensor carries its storage's memory
    address, so the same image hashes differently in every process. Walks
    dicts (keys sorted), lists, tuples, sets, dataclasses, numpy arrays and
    torch tensors (dtype, shape, bytes) down to plain scalars; anything else
    is pickled.
    """
    if obj is None or isinstance(obj, (bool, int, float, str, bytes)):
        h.update(repr((type(obj).__name__, obj)).encode())
    elif isinstance(obj, np.generic):
        h.update(repr((obj.dtype.str, obj.item())).encode())
    elif isinstance(obj, np.ndarray) or (type(obj).__module__.startswith("torch") and hasattr(obj, "numpy")):
        a = obj if isinstance(obj, np.ndarray) else obj.detach().cpu().numpy()
        h.update(f"ndarray{a.dtype.str}{a.shape}".encode())
        h.update(np.ascontiguousarray(a).tobytes())
    elif isinstance(obj, dict):
        h.update(b"{")
        for k in sorted(obj, key=repr):
            content_digest(k, h)
            content_digest(obj[k], h)
        h.update(b"}")
    elif isinstance(obj, (list, tuple)):
        h.update(b"[" if isinstance(obj, list) else b"(")
        for v in obj:
            content_digest(v, h)
        h.update(b"]")
    elif isinstance(obj, (set, frozenset)):
        content_digest(sorted(obj, key=repr), h)
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        h.update(f"{type(obj).__module__}.{type(obj).__qualname__}".encode())
        content_digest({f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}, h)
    else:
        h.update(pickle.dumps(obj, protocol=5))


def _strings(obj: Any) -> set[str]:
    """Every string value in a task (nested dicts, lists and tuples)."""
    if isinstance(obj, str):
        return {obj}
    if isinstance(obj, dict):
        return set().union(*(_strings(v) for v in obj.values()))
    if isinstance(obj, (list, tuple)):
        return set().union(*(_strings(v) for v in obj))
    return set()


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
    With ``options.task_cache`` set, tasks finished by an earlier call are
    read back instead of run (they count as done on the progress bar at once).
    """
    options = options or DaskOptions()
    tasks = list(tasks)
    total = len(tasks)
    if total == 0:
        return []
    results: list = [None] * total
    cache = TaskCache(options.task_cache, fn, shared) if options.task_cache else None
    entries = [cache.path(t) for t in tasks] if cache else []   # each key hashed once
    pending = list(range(total))
    if cache:
        pending = []
        for k, entry in enumerate(entries):
            hit, results[k] = cache.load(entry)
            if not hit:
                pending.append(k)
    done = total - len(pending)
    if progress and done:
        progress(done, total)

    def finished(k: int, value: Any) -> None:
        nonlocal done
        results[k] = value
        if cache:
            cache.store(entries[k], value)
        done += 1
        if progress:
            progress(done, total)

    if not pending:
        return results
    if options.scheduler is None and options.workers == 0:
        for k in pending:
            try:
                value = fn(tasks[k]) if shared is None else fn(tasks[k], shared=shared)
            except Exception as exc:
                raise SweepTaskError(f"task {k} ({_describe(tasks[k])}) failed: {type(exc).__name__}: {exc}") from exc
            finished(k, value)
    else:
        _run_distributed(fn, tasks, pending, options, finished, shared)
    return results


class TaskCache:
    """A folder of finished task results, keyed by task, shared data and task code (module docstring).

    ``path(task)`` is the task's entry (hash it once per task);
    ``load(entry)`` -> ``(True, result)`` or ``(False, None)``;
    ``store(entry, result)`` writes atomically (a temporary name, then a
    rename), so a sweep killed while writing leaves no half-written entry.
    An unreadable entry is a miss (logged), and the task runs again.
    """

    def __init__(self, folder: Path | str, fn: Callable[..., Any], shared: Any = None):
        self.folder = Path(folder)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ValueError(f"task cache {self.folder}: cannot create the folder: {exc}") from exc
        h = hashlib.sha256(f"{fn.__module__}.{fn.__qualname__}".encode())
        source = inspect.getsourcefile(fn)
        if source and Path(source).is_file():
            h.update(Path(source).read_bytes())
        if shared is not None:
            content_digest(shared, h)
        self._prefix = h.digest()

    def path(self, task: Any) -> Path:
        """The entry of ``task``: ``<sha256>.pkl`` in the folder.

        A string in the task that names an existing file (a twin config) is
        keyed by the file's content too: editing the config at the same path
        must not hand back results made with the old one.
        """
        h = hashlib.sha256(self._prefix)
        content_digest(task, h)
        for name in sorted(_strings(task)):
            if len(name) < 4096 and os.path.isfile(name):
                h.update(name.encode() + b"\0" + Path(name).read_bytes())
        return self.folder / f"{h.hexdigest()}.pkl"

    def load(self, p: Path) -> tuple[bool, Any]:
        """The entry at ``p`` (from :meth:`path`): ``(True, result)``, or ``(False, None)`` if absent or unreadable."""
        if not p.is_file():
            return False, None
        try:
            with p.open("rb") as fh:
                return True, pickle.load(fh)
        except Exception as exc:   # a truncated or foreign file: run the task again, say so
            _log.warning("task cache %s: unreadable entry (%s: %s), running the task again", p,
                         type(exc).__name__, exc)
            return False, None

    def store(self, p: Path, value: Any) -> None:
        """Write ``value`` to the entry ``p`` atomically."""
        fd, tmp = tempfile.mkstemp(prefix=p.name + ".", suffix=".tmp", dir=self.folder)
        try:
            with os.fdopen(fd, "wb") as fh:
                pickle.dump(value, fh, protocol=5)
            os.replace(tmp, p)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def _run_distributed(fn, tasks: list, pending: list[int], options: DaskOptions,
                     finished: Callable[[int, Any], None], shared=None) -> None:
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
        futures = client.map(fn, [tasks[k] for k in pending], pure=False, **extra)
        index = {f.key: k for k, f in zip(pending, futures)}
        for fut in as_completed(futures, loop=client.loop):
            k = index[fut.key]
            try:
                value = fut.result()
            except Exception as exc:
                for f in futures:
                    f.cancel()
                raise SweepTaskError(f"task {k} ({_describe(tasks[k])}) failed: "
                                     f"{type(exc).__name__}: {exc}") from exc
            finished(k, value)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
