"""Read a molding run folder into plain numpy arrays for the report.

The report never loads a whole run into memory at once: ``cycles.parquet``
and ``events.parquet`` are small (one row per cycle or event) and are read
with only the columns the report uses; ``curves.parquet`` can be hundreds
of megabytes (34 channels x ~2,000 samples per cycle), so
:func:`read_curves` reads only the row groups that hold the requested
cycles, and in those only the requested channels.

Everything here is pure reading and arithmetic (pyarrow + numpy, no
pandas): the same run folder always gives the same arrays, in the same
order, which is what makes the report deterministic.

Times are kept as integer milliseconds since the Unix epoch (UTC), the
unit of the ``timestamp[ms, UTC]`` columns of :mod:`twin.schema`.
"""
from __future__ import annotations

import json
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from twin.schema import DEFECT_TYPES

__all__ = [
    "Cycles",
    "Events",
    "Interval",
    "RunData",
    "load_run",
    "downtime_intervals",
    "choose_bin_seconds",
    "example_cycles",
    "read_curves",
    "iso_ms",
]

#: Scalar cycle columns the report reads (besides ids, times and labels).
SCALAR_COLUMNS: tuple[str, ...] = ("cycle_time_s", "part_weight_g", "cushion_mm")

#: Candidate time-bin widths in seconds, from 10 s to one week. Neighbours
#: differ by at most 2.5x, so the smallest width giving <= 40 bins gives >= 16
#: bins whenever the run is long enough to be split at all.
BIN_LADDER_S: tuple[int, ...] = (10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 14400,
                                 21600, 43200, 86400, 172800, 345600, 604800)


@dataclass(frozen=True)
class Cycles:
    """The cycles of a run as numpy columns, sorted by start time (then machine, cycle id)."""

    machine_id: np.ndarray          # str objects
    cycle_id: np.ndarray            # int64
    start_ms: np.ndarray            # int64, epoch ms UTC
    end_ms: np.ndarray              # int64, epoch ms UTC
    good: np.ndarray                # bool
    defect_type: np.ndarray         # str objects: "good" or one of DEFECT_TYPES (the most severe)
    defect_flags: dict[str, np.ndarray]  # DEFECT_TYPES -> bool (several may be true per cycle)
    values: dict[str, np.ndarray]   # SCALAR_COLUMNS -> float64

    def __len__(self) -> int:
        return int(self.cycle_id.size)


@dataclass(frozen=True)
class Events:
    """The events of a run (``events.parquet``), in file order (which is time order)."""

    time_ms: np.ndarray     # int64, epoch ms UTC
    component: np.ndarray   # str objects: "cell" or a machine id
    kind: np.ndarray        # str objects, see twin.schema.EVENT_KINDS
    detail: np.ndarray      # str objects
    duration_s: np.ndarray  # float64, NaN where not given

    def __len__(self) -> int:
        return int(self.time_ms.size)


@dataclass(frozen=True)
class Interval:
    """A stretch of time during which a machine did not produce: ``kind`` is breakdown or maintenance."""

    start_ms: int
    end_ms: int
    kind: str
    component: str
    detail: str


@dataclass
class RunData:
    """Everything the report needs from a run folder, except the curves."""

    run_dir: Path
    metrics: dict
    config: dict
    cycles: Cycles
    events: Events
    run_start_ms: int
    run_end_ms: int
    curves_path: Path | None
    downtime: list[Interval] = field(default_factory=list)

    @property
    def span_s(self) -> float:
        """Wall-clock length of the run in seconds (run_start to run_end)."""
        return max(0.0, (self.run_end_ms - self.run_start_ms) / 1000.0)


def load_run(run_dir: Path, metrics: dict | None = None) -> RunData:
    """Read ``config.toml``, ``metrics.json``, ``cycles.parquet`` and ``events.parquet`` of ``run_dir``.

    ``metrics`` overrides ``metrics.json`` (the simulator's ``finalize`` hook
    passes the dict it has just written). ``curves.parquet`` is only located,
    not read: see :func:`read_curves`.
    """
    run_dir = Path(run_dir)
    if metrics is None:
        metrics = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))
    config = tomllib.loads((run_dir / "config.toml").read_text(encoding="utf-8"))
    cycles = _read_cycles(run_dir / "cycles.parquet")
    events = _read_events(run_dir / "events.parquet")
    start, end = _run_span(cycles, events)
    curves = run_dir / "curves.parquet"
    data = RunData(run_dir=run_dir, metrics=metrics, config=config, cycles=cycles, events=events,
                   run_start_ms=start, run_end_ms=end, curves_path=curves if curves.is_file() else None)
    data.downtime = downtime_intervals(events, end)
    return data


def _strings(col: pa.ChunkedArray) -> np.ndarray:
    """A (possibly dictionary-encoded) string column as a numpy object array; nulls become ''."""
    col = pc.cast(col, pa.string()) if pa.types.is_dictionary(col.type) else col
    return np.array(["" if v is None else v for v in col.to_pylist()], dtype=object)


def _ms(col: pa.ChunkedArray) -> np.ndarray:
    """A timestamp[ms] column as int64 epoch milliseconds."""
    return np.asarray(pc.cast(col, pa.int64()).to_numpy(zero_copy_only=False), dtype=np.int64)


def _floats(col: pa.ChunkedArray) -> np.ndarray:
    """A numeric column as float64; nulls become NaN."""
    return np.asarray(pc.cast(col, pa.float64()).fill_null(math.nan).to_numpy(zero_copy_only=False), dtype=float)


def _bools(col: pa.ChunkedArray) -> np.ndarray:
    return np.asarray(col.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)


def _read_cycles(path: Path) -> Cycles:
    flags = [f"defect_{d}" for d in DEFECT_TYPES]
    columns = ["machine_id", "cycle_id", "start_time", "end_time", "good", "defect_type", *flags, *SCALAR_COLUMNS]
    t = pq.read_table(path, columns=columns)
    machine = _strings(t["machine_id"])
    cycle_id = np.asarray(t["cycle_id"].to_numpy(), dtype=np.int64)
    start = _ms(t["start_time"])
    order = np.lexsort((cycle_id, machine, start)) if len(t) else np.arange(0)
    return Cycles(
        machine_id=machine[order],
        cycle_id=cycle_id[order],
        start_ms=start[order],
        end_ms=_ms(t["end_time"])[order],
        good=_bools(t["good"])[order],
        defect_type=_strings(t["defect_type"])[order],
        defect_flags={d: _bools(t[f"defect_{d}"])[order] for d in DEFECT_TYPES},
        values={c: _floats(t[c])[order] for c in SCALAR_COLUMNS},
    )


def _read_events(path: Path) -> Events:
    t = pq.read_table(path, columns=["time", "component", "kind", "detail", "duration_s"])
    return Events(time_ms=_ms(t["time"]), component=_strings(t["component"]), kind=_strings(t["kind"]),
                  detail=_strings(t["detail"]), duration_s=_floats(t["duration_s"]))


def _run_span(cycles: Cycles, events: Events) -> tuple[int, int]:
    """Start and end of the run in epoch ms: the run_start / run_end events, else the cycles' extent."""
    times = [*events.time_ms[events.kind == "run_start"], *cycles.start_ms[:1]]
    ends = [*events.time_ms[events.kind == "run_end"], *cycles.end_ms]
    start = int(min(times)) if times else 0
    end = int(max(ends)) if ends else start
    return start, max(start, end)


def downtime_intervals(events: Events, run_end_ms: int) -> list[Interval]:
    """Breakdown and maintenance stops as intervals, sorted by start.

    A breakdown runs from its ``breakdown`` event to the next ``repair_done``
    of the same machine (which includes any wait for the operator), or to the
    end of the run if the repair was not finished. A maintenance stop runs
    from its ``maintenance`` event for ``duration_s``.
    """
    out: list[Interval] = []
    open_breakdowns: dict[str, int] = {}
    for t, comp, kind, detail, dur in zip(events.time_ms, events.component, events.kind, events.detail,
                                          events.duration_s):
        if kind == "breakdown":
            open_breakdowns.setdefault(comp, int(t))
        elif kind == "repair_done" and comp in open_breakdowns:
            out.append(Interval(open_breakdowns.pop(comp), int(t), "breakdown", comp, detail))
        elif kind == "maintenance":
            length_ms = int(round(dur * 1000)) if np.isfinite(dur) else 0
            out.append(Interval(int(t), min(int(t) + length_ms, max(run_end_ms, int(t))), "maintenance", comp, detail))
    for comp, t in sorted(open_breakdowns.items()):
        out.append(Interval(t, max(t, run_end_ms), "breakdown", comp, "not repaired before the end of the run"))
    return sorted(out, key=lambda iv: (iv.start_ms, iv.component, iv.kind))


def choose_bin_seconds(span_s: float, max_bins: int = 40) -> int:
    """Width of the time bins for a run of ``span_s`` seconds: the smallest ladder step with <= ``max_bins`` bins.

    With :data:`BIN_LADDER_S` this gives 16-40 bins for runs from ~3 minutes
    to ~40 weeks (e.g. 8 h -> 15 min bins, 32 bins), and fewer, 10 s wide,
    for shorter runs.
    """
    for width in BIN_LADDER_S:
        if math.ceil(span_s / width) <= max_bins:
            return width
    return int(math.ceil(span_s / max_bins))


def example_cycles(cycles: Cycles, n_good: int = 3, n_defect: int = 3) -> tuple[list[int], list[int]]:
    """Indices (into ``cycles``) of the first ``n_good`` good and ``n_defect`` defective cycles by cycle id.

    Deterministic: ordered by (cycle_id, machine_id), the same selection for
    the same run folder every time.
    """
    order = np.lexsort((cycles.machine_id, cycles.cycle_id)) if len(cycles) else np.arange(0)
    good = [int(i) for i in order if cycles.good[i]][:n_good]
    bad = [int(i) for i in order if not cycles.good[i]][:n_defect]
    return good, bad


def read_curves(path: Path, keys: list[tuple[str, int]], channels: list[str]) -> dict[tuple[str, int], dict]:
    """Read the curves of the cycles ``keys`` = [(machine_id, cycle_id), ...], only ``channels``.

    Returns ``{(machine_id, cycle_id): {"dt": sample interval s, channel: float32 array, ...}}``
    for the keys found (missing cycles are simply absent).

    Row groups are skipped using the min/max statistics of ``cycle_id``; in
    the remaining ones the id columns are read first and the channel columns
    only if a wanted cycle is there. A 400 MB file costs a few small reads.
    """
    wanted = set(keys)
    if not wanted:
        return {}
    ids = {c for _, c in wanted}
    lo, hi = min(ids), max(ids)
    pf = pq.ParquetFile(path)
    meta = pf.metadata
    id_col = next((j for j in range(meta.num_columns) if meta.schema.column(j).path == "cycle_id"), None)
    out: dict[tuple[str, int], dict] = {}
    for rg in range(meta.num_row_groups):
        stats = meta.row_group(rg).column(id_col).statistics if id_col is not None else None
        if stats is not None and stats.has_min_max and (stats.max < lo or stats.min > hi):
            continue
        head = pf.read_row_group(rg, columns=["machine_id", "cycle_id"])
        found = [i for i, k in enumerate(zip(_strings(head["machine_id"]), head["cycle_id"].to_pylist()))
                 if k in wanted and k not in out]
        if not found:
            continue
        body = pf.read_row_group(rg, columns=["machine_id", "cycle_id", "sample_interval_s", *channels])
        body = body.take(pa.array(found, type=pa.int64()))
        machines = _strings(body["machine_id"])
        for r in range(body.num_rows):
            key = (str(machines[r]), int(body["cycle_id"][r].as_py()))
            rec = {"dt": float(body["sample_interval_s"][r].as_py())}
            for ch in channels:
                values = body[ch][r].values
                rec[ch] = np.asarray(values.to_numpy(zero_copy_only=False), dtype=np.float32) if values is not None \
                    else np.zeros(0, dtype=np.float32)
            out[key] = rec
        if len(out) == len(wanted):
            break
    return out


def iso_ms(ms: np.ndarray | int) -> np.ndarray:
    """Epoch milliseconds -> ISO 8601 strings without zone (UTC), as plotly's date axes read them."""
    return np.datetime_as_string(np.asarray(ms, dtype="datetime64[ms]"), unit="ms")
