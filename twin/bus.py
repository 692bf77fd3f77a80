"""A minimal synchronous publish/subscribe bus for records.

Producers (the simulated cell, the replay of real logs) publish records on a
topic — ``"cycles"``, ``"curves"``, ``"events"`` or any other string — and
every subscriber of that topic is called at once, in subscription order,
with each record in publish order. There is no queue, no thread, no lock
and no copy: a record is a plain dict handed over by reference, so a
producer must not mutate a record after publishing it, and a subscriber that
keeps it must not mutate it either. Exceptions raised by a subscriber
propagate to the producer (a failing sink stops the run instead of silently
losing rows).

Batches: :meth:`Bus.publish_batch` takes a list of records, a dict of
equal-length columns (``{"cycle_id": [1, 2], "melt_temp_C": [230.0, 231.0]}``)
or a pyarrow Table / RecordBatch.
A subscriber that registered a ``batch`` callback gets the batch as is (a
Parquet sink can then skip per-row work); one that did not gets the rows one
by one.

Example::

    bus = Bus()
    sink = MemorySink()
    bus.subscribe("cycles", sink.write_row, batch=sink.write_batch)
    bus.publish("cycles", {"cycle_id": 1, "good": True})
"""
from __future__ import annotations

from typing import Any, Callable, Iterator, Mapping

__all__ = ["Bus", "Record", "Batch", "iter_rows", "batch_len"]

Record = dict[str, Any]
#: A list of records, a dict of equal-length columns, or a pyarrow Table / RecordBatch.
Batch = Any

_NO_SUBSCRIBERS: tuple = ()


class Bus:
    """Synchronous topic-based record bus; see the module docstring."""

    __slots__ = ("_rows", "_subs")

    def __init__(self) -> None:
        # topic -> tuple of per-record callbacks (tuples: publish iterates without copying,
        # and a subscribe during a publish does not disturb the running loop)
        self._rows: dict[str, tuple[Callable[[Record], Any], ...]] = {}
        # topic -> tuple of (record callback, batch callback or None)
        self._subs: dict[str, tuple[tuple[Callable[[Record], Any], Callable[[Batch], Any] | None], ...]] = {}

    def subscribe(self, topic: str, callback: Callable[[Record], Any],
                  batch: Callable[[Batch], Any] | None = None) -> Callable[[], None]:
        """Call ``callback(record)`` for every record on ``topic`` (and ``batch(b)`` for batches, if given).

        Returns a function that unsubscribes this pair.
        """
        if not callable(callback) or (batch is not None and not callable(batch)):
            raise TypeError(f"bus topic {topic!r}: subscriber callbacks must be callable")
        entry = (callback, batch)
        self._subs[topic] = self._subs.get(topic, ()) + (entry,)
        self._rows[topic] = tuple(cb for cb, _ in self._subs[topic])

        def unsubscribe() -> None:
            remaining = tuple(e for e in self._subs.get(topic, ()) if e is not entry)
            self._subs[topic] = remaining
            self._rows[topic] = tuple(cb for cb, _ in remaining)

        return unsubscribe

    def publish(self, topic: str, record: Record) -> None:
        """Hand ``record`` to every subscriber of ``topic``, now."""
        for callback in self._rows.get(topic, _NO_SUBSCRIBERS):
            callback(record)

    def publish_batch(self, topic: str, batch: Batch) -> None:
        """Hand a batch (list of records or dict of columns) to every subscriber of ``topic``."""
        subs = self._subs.get(topic, _NO_SUBSCRIBERS)
        if not subs:
            return
        rows: list[Record] | None = None
        for callback, batch_callback in subs:
            if batch_callback is not None:
                batch_callback(batch)
                continue
            if rows is None:
                rows = list(iter_rows(batch, topic))
            for record in rows:
                callback(record)

    def has_subscribers(self, topic: str) -> bool:
        """True if anything listens on ``topic`` (a producer may skip building records otherwise)."""
        return bool(self._subs.get(topic))


def batch_len(batch: Batch, topic: str = "?") -> int:
    """Number of rows in a batch; a dict of columns must have equal-length columns."""
    if hasattr(batch, "num_rows"):  # pyarrow Table / RecordBatch
        return batch.num_rows
    if isinstance(batch, Mapping):
        lengths = {name: len(col) for name, col in batch.items()}
        if len(set(lengths.values())) > 1:
            raise ValueError(f"topic {topic!r}: batch columns have different lengths: {lengths}")
        return next(iter(lengths.values()), 0)
    return len(batch)


def iter_rows(batch: Batch, topic: str = "?") -> Iterator[Record]:
    """The records of a batch, one dict per row."""
    if hasattr(batch, "to_pylist"):  # pyarrow Table / RecordBatch
        yield from batch.to_pylist()
    elif isinstance(batch, Mapping):
        batch_len(batch, topic)
        names = list(batch)
        for values in zip(*(batch[n] for n in names)):
            yield dict(zip(names, values))
    else:
        yield from batch
