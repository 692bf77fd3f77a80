"""Record sinks: Parquet files for runs, memory for tests and learners.

:class:`ParquetSink` turns the record stream of one topic into one Parquet
file in a run folder. Producer side::

    with RunFolder(out) as run:
        bus = Bus()
        cycles = ParquetSink(run.path, "cycles", CYCLES_SCHEMA,
                             metadata={"seed": 42, "config_hash": h})
        cycles.attach(bus)                      # subscribes rows and batches
        bus.publish("cycles", {"run_id": "r1", "cycle_id": 0, ...})
        bus.publish_batch("curves", {"cycle_id": ids, "screw_position_mm": arr2d, ...})
        cycles.close()                          # -> run/cycles.parquet

Rows are buffered and written in row groups of exactly ``row_group_rows``
rows (the last one shorter); the file is written as ``<name>.parquet.tmp``
and renamed on :meth:`ParquetSink.close`, so a reader never sees a
truncated file under the final name. Encoding: see
:mod:`twin.parquet_encoding`. Input conventions (timestamps as int64 ms
since the epoch UTC, curve rows as float arrays): see :mod:`twin.arrow_rows`.

Determinism: the same rows give a byte-identical file, however they were
split into rows and batches: row-group boundaries depend only on the row
count, dictionaries only on a row group's values, and the key-value
metadata holds lineage but no wall-clock time.
"""
from __future__ import annotations

import io
import logging
import os
from pathlib import Path
from types import TracebackType
from typing import Any, Callable, Mapping

import pyarrow as pa
import pyarrow.parquet as pq

from twin.arrow_rows import encode_dictionaries, plain_schema, to_record_batch
from twin.bus import Bus, Record, batch_len, iter_rows
from twin.column_rows import ColumnBlock, ColumnRow
from twin.config_field import suggest_key
from twin.parquet_encoding import lineage_metadata, parquet_write_options
from twin.runfolder import atomic_write_bytes

__all__ = ["ParquetSink", "MemorySink", "write_table_atomic", "DEFAULT_ROW_GROUP_ROWS"]

log = logging.getLogger(__name__)

#: Rows per row group by topic: a curve row is ~400 KB (34 channels x 3000 float32).
DEFAULT_ROW_GROUP_ROWS: dict[str, int] = {"cycles": 256, "curves": 32, "events": 256, "billets": 32}


class ParquetSink:
    """Buffer one topic's records and write them to ``<topic>.parquet``; see the module docstring.

    ``path_fn(name) -> Path`` places the file (``RunFolder.path``).
    ``extra="error"`` rejects record keys that are not schema columns (a typo
    would otherwise silently become a null column); ``"ignore"`` drops them.
    """

    def __init__(self, path_fn: Callable[[str], Path], topic: str, schema: pa.Schema, *,
                 row_group_rows: int | None = None, metadata: Mapping[str, Any] | None = None,
                 filename: str | None = None, extra: str = "error"):
        if extra not in ("error", "ignore"):
            raise ValueError(f"extra must be 'error' or 'ignore', got {extra!r}")
        n = row_group_rows if row_group_rows is not None else DEFAULT_ROW_GROUP_ROWS.get(topic, 256)
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"row_group_rows must be a positive integer, got {n!r}")
        self.topic = topic
        self.schema = schema
        self.row_group_rows = n
        self.path = Path(path_fn(filename or f"{topic}.parquet"))
        self._tmp = self.path.with_name(self.path.name + ".tmp")
        self._where = self.path.name
        self._plain = plain_schema(schema)
        self._names = tuple(schema.names)
        self._name_set = frozenset(self._names)
        self._check_extra = extra == "error"
        self._file_schema = lineage_metadata(schema, dict(metadata or {}))
        self._rows: list[Record] = []
        self._pending: list[pa.RecordBatch] = []
        self._pending_rows = 0
        self._rows_in = 0
        self._writer: pq.ParquetWriter | None = None
        self._closed = False
        self._checked_block: ColumnBlock | None = None

    # -- input ---------------------------------------------------------------
    def write_row(self, record: Record) -> None:
        """Buffer one record (a dict of column -> value); the bus calls this per record.

        A :class:`twin.column_rows.ColumnRow` is buffered as a reference into
        its block and written as a column slice (see :meth:`_rows_to_pending`).
        """
        if self._closed:
            raise RuntimeError(f"{self._where}: sink is closed")
        if type(record) is ColumnRow:
            block = record.block
            if block is not self._checked_block:
                if self._check_extra and not self._name_set.issuperset(block.columns):
                    self._raise_extra(block.columns, f"row {self._rows_in}")
                self._checked_block = block
        elif self._check_extra and not self._name_set.issuperset(record):
            self._raise_extra(record, f"row {self._rows_in}")
        self._rows.append(record)
        self._rows_in += 1
        if len(self._rows) + self._pending_rows >= self.row_group_rows:
            self._rows_to_pending()
            self._drain()

    def write_batch(self, batch: Any) -> None:
        """Buffer a batch: a list of records, a dict of equal-length columns, or a pyarrow Table/RecordBatch."""
        if self._closed:
            raise RuntimeError(f"{self._where}: sink is closed")
        if isinstance(batch, (pa.Table, pa.RecordBatch)):
            columns: Mapping[str, Any] = {name: batch.column(name) for name in batch.schema.names}
        elif isinstance(batch, Mapping):
            columns = batch
        else:
            for record in batch:
                self.write_row(record)
            return
        n = batch_len(columns, self.topic) if isinstance(batch, Mapping) else batch.num_rows
        if self._check_extra and not self._name_set.issuperset(columns):
            self._raise_extra(columns, f"batch at row {self._rows_in}")
        self._rows_to_pending()
        self._pending.append(to_record_batch(columns, self._plain, n, where=self._where, first_row=self._rows_in))
        self._pending_rows += n
        self._rows_in += n
        self._drain()

    def attach(self, bus: Bus) -> Callable[[], None]:
        """Subscribe to ``self.topic`` on ``bus`` (rows and batches); returns the unsubscribe function."""
        return bus.subscribe(self.topic, self.write_row, batch=self.write_batch)

    @property
    def rows_written(self) -> int:
        """Rows received so far (written or still buffered)."""
        return self._rows_in

    # -- output --------------------------------------------------------------
    def close(self) -> Path:
        """Write what is buffered, finish the file and rename it to its final name; returns that path."""
        if self._closed:
            return self.path
        try:
            self._rows_to_pending()
            self._drain(final=True)
            self._open_writer().close()
            os.replace(self._tmp, self.path)
        except BaseException:
            self.abort()
            raise
        self._closed = True
        log.debug("%s: %d rows", self.path, self._rows_in)
        return self.path

    def abort(self) -> None:
        """Drop buffered rows and the temporary file; the final file is not created."""
        self._closed = True
        self._rows, self._pending, self._pending_rows = [], [], 0
        if self._writer is not None:
            try:
                self._writer.close()
            except Exception:  # noqa: BLE001 - the file is being discarded anyway
                log.debug("%s: error while closing an aborted writer", self._tmp, exc_info=True)
            self._writer = None
        self._tmp.unlink(missing_ok=True)

    def __enter__(self) -> "ParquetSink":
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> bool:
        if exc_type is None:
            self.close()
        else:
            self.abort()
        return False

    # -- internals -----------------------------------------------------------
    def _rows_to_pending(self) -> None:
        rows = self._rows
        if not rows:
            return
        first = self._rows_in - len(rows)
        # Runs of consecutive ColumnRows of one block become column slices;
        # everything else is transposed from dicts.
        start = 0
        while start < len(rows):
            r0 = rows[start]
            end = start + 1
            if type(r0) is ColumnRow:
                while (end < len(rows) and type(rows[end]) is ColumnRow and rows[end].block is r0.block
                       and rows[end].i == r0.i + (end - start)):
                    end += 1
                cols = r0.block.columns
                i0, i1 = r0.i, r0.i + (end - start)
                columns = {name: cols[name][i0:i1] for name in self._names if name in cols}
            else:
                while end < len(rows) and type(rows[end]) is not ColumnRow:
                    end += 1
                columns = {name: [r.get(name) for r in rows[start:end]] for name in self._names}
            self._pending.append(to_record_batch(columns, self._plain, end - start, where=self._where,
                                                 first_row=first + start))
            start = end
        self._pending_rows += len(rows)
        self._rows = []

    def _drain(self, final: bool = False) -> None:
        """Write every complete row group (and, if final, the rest)."""
        n, total = self.row_group_rows, self._pending_rows
        if total == 0 or (total < n and not final):
            return
        table = pa.Table.from_batches(self._pending, schema=self._plain)
        done = total if final else total - total % n
        writer = self._open_writer()
        for start in range(0, done, n):
            group = table.slice(start, min(n, done - start)).combine_chunks()
            writer.write_table(encode_dictionaries(group, self.schema), row_group_size=n)
        rest = table.slice(done).combine_chunks()
        self._pending = rest.to_batches() if rest.num_rows else []
        self._pending_rows = rest.num_rows

    def _open_writer(self) -> pq.ParquetWriter:
        if self._writer is None:
            self._writer = pq.ParquetWriter(self._tmp, self._file_schema, **parquet_write_options(self.schema))
        return self._writer

    def _raise_extra(self, keys: Any, where: str) -> None:
        unknown = sorted(k for k in keys if k not in self._name_set)
        hints = "".join(suggest_key(k, self._names) for k in unknown)
        raise KeyError(f"{self._where}: {where}: unknown column(s) {unknown}{hints}; "
                       f"columns are defined in twin/schema.py (pass extra='ignore' to drop extra keys)")


class MemorySink:
    """Collects records in a list (no copy), for tests and in-process learners."""

    def __init__(self) -> None:
        self.rows: list[Record] = []

    def write_row(self, record: Record) -> None:
        """Append one record."""
        self.rows.append(record)

    def write_batch(self, batch: Any) -> None:
        """Append the rows of a batch (list of records, dict of columns, pyarrow Table)."""
        self.rows.extend(iter_rows(batch))

    def attach(self, bus: Bus, topic: str) -> Callable[[], None]:
        """Subscribe to ``topic`` on ``bus``; returns the unsubscribe function."""
        return bus.subscribe(topic, self.write_row, batch=self.write_batch)

    def to_table(self, schema: pa.Schema) -> pa.Table:
        """The collected rows as an Arrow table of ``schema`` (absent keys are null)."""
        columns = {name: [r.get(name) for r in self.rows] for name in schema.names}
        batch = to_record_batch(columns, plain_schema(schema), len(self.rows), where="memory sink")
        return encode_dictionaries(pa.Table.from_batches([batch]), schema)

    def __len__(self) -> int:
        return len(self.rows)


def write_table_atomic(path: Path | str, table: pa.Table, metadata: Mapping[str, Any] | None = None) -> Path:
    """Write a small table to ``path`` as Parquet (twinloop encoding, lineage metadata), atomically."""
    schema = lineage_metadata(table.schema, dict(metadata or {}))
    buf = io.BytesIO()
    with pq.ParquetWriter(buf, schema, **parquet_write_options(table.schema)) as writer:
        writer.write_table(table)
    return atomic_write_bytes(path, buf.getvalue())
