"""A record stream: the cycles of one or more run folders, merged in time order.

The online runner "subscribes" to a stream of cycle records. Offline, that
stream is a set of run folders — simulated (``twin.simulate``) and/or
ingested real logs (``twin.ingest``) — replayed in the order their cycles
ended (``end_time``: when the part is out and could be inspected).
:class:`RecordStream` merges them: ties keep the order of the folders as
given, then the order of rows within a folder (a stable sort), so the
same inputs always give the same stream.

Each record is the cycles row as a dict (column -> Python value) with two
additions: ``_source`` (the ``source`` column: ``"sim"`` or ``"real"``)
and ``_run`` (the run folder's name). With ``curves=True`` the cycle's
curves are merged into the record (channel -> float32 array, plus
``sample_interval_s``); cycles whose curves are missing have none (a
curve learner skips them). Curves are read row group by row group
(:class:`learners.records.CurveReader`), never a whole file at once.

:meth:`RecordStream.from_tables` makes the same stream from tables already
in memory (what a live subscriber to the twin's bus holds).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from learners.records import (CurveReader, LearnerInputError, RunData, cycle_key, open_run, require_columns,
                              time_seconds)

__all__ = ["RecordStream", "StreamSource", "StreamRecord"]


@dataclass
class StreamSource:
    """One run folder of the stream."""

    run: RunData
    kind: str                 # "sim" / "real" (the source column), "unknown" without one
    curves: CurveReader | None
    _rows: list | None = None

    @property
    def name(self) -> str:
        return self.run.name

    def rows(self) -> list[dict]:
        if self._rows is None:
            self._rows = self.run.cycles.to_pylist()
        return self._rows


@dataclass(frozen=True)
class StreamRecord:
    """One cycle of the stream: its position, source index, time (epoch s) and record dict."""

    position: int
    source: int
    time_s: float
    record: dict


class RecordStream:
    """The cycles of ``runs`` merged by ``time_column``; see the module docstring.

    ``channels`` restricts the curves read (None: all of each file).
    """

    def __init__(self, runs: Sequence[Path | str], *, time_column: str = "end_time", curves: bool = False,
                 channels: Sequence[str] | None = None):
        if not runs:
            raise LearnerInputError("no run folder given to stream")
        sources = []
        for path in runs:
            run = open_run(path, need_curves=False)
            reader = CurveReader(run.curves_path, channels) if curves and run.curves_path is not None else None
            sources.append((run, reader))
        self._build(sources, time_column, curves)

    @classmethod
    def from_tables(cls, tables: Sequence[tuple[str, pa.Table, pa.Table | None]], *, time_column: str = "end_time",
                    channels: Sequence[str] | None = None) -> "RecordStream":
        """A stream of records already in memory: ``(name, cycles Table, curves Table or None)`` per source.

        This is what a live subscriber holds (records as they come off the
        twin's bus); the curves are decoded once, here.
        """
        if not tables:
            raise LearnerInputError("no record table given to stream")
        sources = []
        for name, cycles, curves in tables:
            require_columns(cycles, ("cycle_id",), name)
            run = RunData(Path(name), cycles, None)
            sources.append((run, CurveReader(curves, channels) if curves is not None else None))
        stream = cls.__new__(cls)
        stream._build(sources, time_column, any(c is not None for _, _, c in tables))
        return stream

    def _build(self, sources: list, time_column: str, curves: bool) -> None:
        self.time_column = time_column
        self.sources: list[StreamSource] = []
        times, src_idx, row_idx = [], [], []
        for k, (run, reader) in enumerate(sources):
            if time_column not in run.cycles.column_names:
                raise LearnerInputError(f"{run.path / 'cycles.parquet'}: missing column {time_column!r}")
            kind = "unknown"
            if "source" in run.cycles.column_names and run.cycles.num_rows:
                kind = str(pc.cast(run.cycles["source"], pa.string())[0].as_py())
            self.sources.append(StreamSource(run, kind, reader))
            t = time_seconds(run.cycles[time_column])
            if np.isnan(t).any():
                raise LearnerInputError(f"{run.path / 'cycles.parquet'}: column {time_column!r} has "
                                        f"{int(np.isnan(t).sum())} null value(s)")
            times.append(t)
            src_idx.append(np.full(t.size, k))
            row_idx.append(np.arange(t.size))
        t, s, r = np.concatenate(times), np.concatenate(src_idx), np.concatenate(row_idx)
        order = np.lexsort((r, s, t))
        self._t, self._s, self._r = t[order], s[order], r[order]
        self.curves = curves

    def __len__(self) -> int:
        return int(self._t.size)

    @property
    def kinds(self) -> list[str]:
        """The source kind of each folder (``sim`` / ``real``)."""
        return [s.kind for s in self.sources]

    def times(self) -> np.ndarray:
        """Epoch seconds of every record, in stream order."""
        return self._t

    def blocks(self, size: int = 1) -> Iterator[list[StreamRecord]]:
        """The stream in consecutive blocks of ``size`` records (the last may be shorter)."""
        size = max(1, int(size))
        for start in range(0, len(self), size):
            stop = min(start + size, len(self))
            recs = []
            for pos in range(start, stop):
                k, i = int(self._s[pos]), int(self._r[pos])
                src = self.sources[k]
                row = dict(src.rows()[i])
                row["_source"] = src.kind
                row["_run"] = src.name
                recs.append(StreamRecord(pos, k, float(self._t[pos]), row))
            if self.curves:
                self._attach_curves(recs)
            yield recs

    def _attach_curves(self, recs: list[StreamRecord]) -> None:
        by_source: dict[int, list[StreamRecord]] = {}
        for rec in recs:
            by_source.setdefault(rec.source, []).append(rec)
        for k, group in by_source.items():
            reader = self.sources[k].curves
            if reader is None:
                continue
            have = [g for g in group if cycle_key(g.record) in reader]
            if not have:
                continue
            for g, curves in zip(have, reader.get_many([cycle_key(g.record) for g in have])):
                g.record.update(curves)
                g.record["_has_curves"] = True
