"""How twinloop's tables are encoded in Parquet (one place, used by every writer).

Measured on the project machine (DESIGN.md, "Performance notes"): dictionary
encoding on noisy float32 columns makes writes about 3x slower and files no
smaller. So:

* dictionary encoding only for the dictionary-typed ID and category columns
  (:func:`twin.schema.dictionary_columns`);
* ``BYTE_STREAM_SPLIT`` for floating-point columns
  (:func:`twin.schema.float_columns`), including the ``list<float32>`` curve
  channels, whose Parquet leaf is ``<name>.list.element``;
* zstd compression for everything.

``BYTE_STREAM_SPLIT`` on a *nested* (list) leaf needs the per-leaf
``column_encoding`` option; pyarrow's ``use_byte_stream_split`` flag covers
only flat columns. :func:`byte_stream_split_support` probes once, by writing
and reading back a two-column table, what the installed pyarrow really does
(pyarrow 26 applies it to nested leaves), and :func:`parquet_write_options`
falls back to flat-only or no ``BYTE_STREAM_SPLIT`` (with a log warning)
when it is not supported.
"""
from __future__ import annotations

import functools
import importlib.metadata
import io
import logging
from typing import Any, Literal

import pyarrow as pa
import pyarrow.parquet as pq

from twin.schema import dictionary_columns, float_columns

__all__ = ["parquet_write_options", "byte_stream_split_support", "lineage_metadata", "package_version", "COMPRESSION"]

log = logging.getLogger(__name__)

COMPRESSION = "zstd"
_BSS = "BYTE_STREAM_SPLIT"


@functools.cache
def byte_stream_split_support() -> Literal["nested", "flat", "none"]:
    """Where the installed pyarrow applies BYTE_STREAM_SPLIT: list leaves too, flat columns only, or nowhere."""
    table = pa.table({
        "x": pa.array([1.0, 2.0], pa.float64()),
        "c": pa.array([[1.0, 2.0], [3.0]], pa.list_(pa.float32())),
    })
    for level, encoding in (("nested", {"x": _BSS, "c.list.element": _BSS}), ("flat", {"x": _BSS})):
        try:
            buf = io.BytesIO()
            with pq.ParquetWriter(buf, table.schema, use_dictionary=False, column_encoding=encoding) as w:
                w.write_table(table)
            meta = pq.ParquetFile(io.BytesIO(buf.getvalue())).metadata.row_group(0)
        except (pa.ArrowException, ValueError, TypeError) as exc:
            log.info("pyarrow %s: BYTE_STREAM_SPLIT (%s) not supported: %s", pa.__version__, level, exc)
            continue
        used = [_BSS in meta.column(i).encodings for i in range(meta.num_columns)]
        if all(used[: len(encoding)]):
            return level  # type: ignore[return-value]
    return "none"


@functools.lru_cache(maxsize=32)
def _float_leaves(schema: pa.Schema) -> tuple[tuple[str, bool], ...]:
    """Parquet leaf paths of the schema's float columns, each with "is nested"."""
    wanted = set(float_columns(schema))
    buf = io.BytesIO()
    pq.write_table(schema.empty_table(), buf)
    pschema = pq.ParquetFile(io.BytesIO(buf.getvalue())).schema
    leaves = []
    for i in range(len(pschema)):
        col = pschema.column(i)
        top = col.path.split(".")[0]
        if top in wanted and col.physical_type in ("FLOAT", "DOUBLE"):
            leaves.append((col.path, col.path != top))
    return tuple(leaves)


def parquet_write_options(schema: pa.Schema) -> dict[str, Any]:
    """Keyword arguments for :class:`pyarrow.parquet.ParquetWriter` for a table of ``schema``."""
    support = byte_stream_split_support()
    leaves = _float_leaves(schema.remove_metadata())
    if support == "none":
        encoded: list[str] = []
    else:
        encoded = [path for path, nested in leaves if support == "nested" or not nested]
    if len(encoded) < len(leaves):
        log.warning("pyarrow %s: BYTE_STREAM_SPLIT not applied to %d float column(s)",
                    pa.__version__, len(leaves) - len(encoded))
    options: dict[str, Any] = {
        "compression": COMPRESSION,
        "use_dictionary": dictionary_columns(schema),
    }
    if encoded:
        options["column_encoding"] = dict.fromkeys(encoded, _BSS)
    # Min/max statistics of noisy curve lists never let a reader skip data,
    # and computing them costs ~12 % of a curve row's write: keep them only
    # for the flat columns (cycle_id statistics do let readers skip row groups).
    flat = [f.name for f in schema if not pa.types.is_list(f.type)]
    if len(flat) < len(schema):
        options["write_statistics"] = flat
    return options


def package_version() -> str:
    """The installed twinloop version, or ``0+unknown`` when running from an uninstalled tree."""
    try:
        return importlib.metadata.version("twinloop")
    except importlib.metadata.PackageNotFoundError:
        return "0+unknown"


def lineage_metadata(schema: pa.Schema, metadata: dict[str, Any] | None) -> pa.Schema:
    """``schema`` with Parquet key-value metadata: ``twinloop_version`` plus the caller's lineage.

    Values must be str, int, float or bool (stored as text). No wall-clock
    time is added, so the same rows give byte-identical files.
    """
    merged = dict(schema.metadata or {})
    merged[b"twinloop_version"] = package_version().encode()
    for key, value in (metadata or {}).items():
        if not isinstance(key, str) or not isinstance(value, (str, int, float, bool)):
            raise TypeError(f"Parquet metadata must map str to str/int/float/bool, got {key!r}: {value!r}")
        merged[key.encode()] = str(value).encode()
    return schema.with_metadata(merged)
