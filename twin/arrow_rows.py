"""Python records and column batches -> Arrow, with errors that name column and row.

Input conventions (what producers put in a record or a column):

* timestamps (``start_time``, ``end_time``, ``time``): **int64 milliseconds
  since the Unix epoch, UTC** (numpy ``datetime64`` and ``datetime`` also
  convert, but ints are the documented form and the fastest);
* ``list<float32>`` curve channels: a 1-D numpy array (or list) per row, or,
  in a column batch, one 2-D array of shape ``(n_rows, n_samples)`` — that
  form is converted without a per-row Python loop;
* dictionary (ID / category) columns: plain ``str`` (the dictionary is built
  when a row group is written, see :func:`encode_dictionaries`);
* anything may also come as a pyarrow Array.

Missing keys are nulls; a null in a non-nullable column is an error naming
the column and the row.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["plain_schema", "to_record_batch", "encode_dictionaries"]

_CONVERSION_ERRORS = (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, TypeError, ValueError,
                      OverflowError)


def plain_schema(schema: pa.Schema) -> pa.Schema:
    """``schema`` with every dictionary column replaced by its value type (the buffering form)."""
    fields = [
        pa.field(f.name, f.type.value_type, f.nullable, f.metadata) if pa.types.is_dictionary(f.type) else f
        for f in schema
    ]
    return pa.schema(fields, metadata=schema.metadata)


def to_record_batch(columns: Mapping[str, Any], schema: pa.Schema, n_rows: int, *,
                    where: str, first_row: int = 0) -> pa.RecordBatch:
    """Build a RecordBatch of ``schema`` from ``{name: column}``; absent columns are null.

    ``where`` (e.g. ``"cycles.parquet"``) and ``first_row`` (the global index of
    this batch's first row) make error messages point at the culprit.
    """
    arrays = []
    for field in schema:
        col = columns.get(field.name)
        arr = pa.nulls(n_rows, field.type) if col is None else _to_array(col, field, where, first_row)
        if len(arr) != n_rows:
            raise ValueError(f"{where}: column {field.name!r} has {len(arr)} rows, expected {n_rows}")
        if not field.nullable and arr.null_count:
            row = int(np.flatnonzero(arr.is_null().to_numpy(zero_copy_only=False))[0])
            raise ValueError(f"{where}: column {field.name!r}, row {first_row + row}: "
                             f"missing value in a non-nullable column ({field.type})")
        arrays.append(arr)
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def encode_dictionaries(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """Dictionary-encode the columns that ``schema`` types as dictionaries (one dictionary per chunk).

    ``table`` must be in :func:`plain_schema` form with single-chunk columns;
    the dictionary then depends only on the values of this table, so equal
    rows give equal bytes however they were batched.
    """
    arrays = []
    for i, field in enumerate(schema):
        col = table.column(i)
        if pa.types.is_dictionary(field.type):
            col = pc.dictionary_encode(col).cast(field.type)
        arrays.append(col)
    return pa.Table.from_arrays(arrays, schema=schema)


def _to_array(col: Any, field: pa.Field, where: str, first_row: int) -> pa.Array:
    target = field.type
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks()
    if isinstance(col, pa.Array):
        if pa.types.is_dictionary(col.type):
            col = col.dictionary_decode()
        return col if col.type == target else col.cast(target)
    try:
        if pa.types.is_list(target) and pa.types.is_floating(target.value_type):
            return _float_list_array(col, target)
        return pa.array(col, type=target)
    except _CONVERSION_ERRORS as exc:
        row, value = _first_bad_row(col, target)
        raise ValueError(f"{where}: column {field.name!r}, row {first_row + row}: cannot convert "
                         f"{_short(value)} to {target}: {exc}") from exc


def _float_list_array(col: Any, target: pa.ListType) -> pa.ListArray:
    """Rows of float arrays -> ListArray via one concatenation (no per-element Python conversion)."""
    dtype = target.value_type.to_pandas_dtype()
    if isinstance(col, np.ndarray) and col.ndim == 2:  # (n_rows, n_samples): equal lengths
        n, m = col.shape
        values = np.ascontiguousarray(col, dtype=dtype).reshape(-1)
        offsets = np.arange(n + 1, dtype=np.int64) * m
        mask = None
    else:
        parts = [None if x is None else np.asarray(x, dtype=dtype) for x in col]
        for p in parts:
            if p is not None and p.ndim != 1:
                raise ValueError(f"expected 1-D arrays, got shape {p.shape}")
        lengths = np.fromiter((0 if p is None else len(p) for p in parts), dtype=np.int64, count=len(parts))
        offsets = np.zeros(len(parts) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        present = [p for p in parts if p is not None]
        values = np.concatenate(present) if present else np.zeros(0, dtype=dtype)
        mask = pa.array([p is None for p in parts]) if len(present) < len(parts) else None
    if offsets[-1] > np.iinfo(np.int32).max:
        raise OverflowError("more than 2**31 list values in one batch: use a smaller row group")
    arr = pa.ListArray.from_arrays(pa.array(offsets.astype(np.int32)), pa.array(values), mask=mask)
    return arr if arr.type == target else arr.cast(target)


def _first_bad_row(col: Sequence[Any], target: pa.DataType) -> tuple[int, Any]:
    for i, value in enumerate(col):
        try:
            if pa.types.is_list(target) and pa.types.is_floating(target.value_type):
                _float_list_array([value], target)
            else:
                pa.array([value], type=target)
        except _CONVERSION_ERRORS:
            return i, value
    return 0, col[0] if len(col) else None


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
