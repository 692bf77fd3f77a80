"""Rows that are views into column blocks: dict-like for subscribers, columnar for sinks.

A producer that computes a batch of records at once (the molding machine
plans up to a thousand cycles per physics call) keeps them as columns in a
:class:`ColumnBlock` and publishes one :class:`ColumnRow` per record, at the
record's simulated time. A learner reads a ColumnRow like a dict
(``row["part_weight_g"]``, ``row.get(...)``, ``dict(row)``); a Parquet sink
recognises consecutive rows of one block and writes them as column slices,
without transposing Python dicts (that transposition, not the Parquet
write, was most of the sink's cost per row).

A block's columns are numpy arrays or lists of length ``n``; per-record
fields known only at publish time (timestamps, ids) are written into the
block at index ``i`` *before* the row is published.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Iterator

import numpy as np


class ColumnBlock:
    """Named columns of equal length ``n``."""

    __slots__ = ("columns", "n")

    def __init__(self, columns: dict[str, Any], n: int):
        for name, col in columns.items():
            if len(col) != n:
                raise ValueError(f"column block: column {name!r} has {len(col)} values, expected {n}")
        self.columns = columns
        self.n = n

    def row(self, i: int) -> "ColumnRow":
        return ColumnRow(self, i)


class ColumnRow(Mapping):
    """Record ``i`` of a :class:`ColumnBlock`, read-only, behaving as a Mapping."""

    __slots__ = ("block", "i")

    def __init__(self, block: ColumnBlock, i: int):
        self.block = block
        self.i = i

    def __getitem__(self, key: str) -> Any:
        v = self.block.columns[key][self.i]
        # Python scalars, as in a dict record (numpy scalars do not convert
        # everywhere a Python int or float does, e.g. to Arrow timestamps).
        return v.item() if isinstance(v, np.generic) else v

    def __iter__(self) -> Iterator[str]:
        return iter(self.block.columns)

    def __len__(self) -> int:
        return len(self.block.columns)

    def __contains__(self, key: object) -> bool:
        return key in self.block.columns

    def get(self, key: str, default: Any = None) -> Any:
        return self[key] if key in self.block.columns else default

    def __repr__(self) -> str:
        return f"ColumnRow({dict(self)!r})"
