"""Parquet sink write throughput against pyarrow writing the same table directly.

Two realistic tables, made by the twin itself (outside the timed spans):

* cycles: the records of a short simulation (curves off), replicated with
  fresh cycle ids and shifted times to ``CYCLES_ROWS`` rows (at least 256
  distinct source rows, so no row group holds a repeated row);
* curves: rendered curves of a simulation with a longer cooling time
  (cycles just over 30 s), each channel cut to exactly 3000 samples
  (34 x 3000 float32 a row, ~400 kB).

Timed, each into a fresh file in a temporary folder, close included:

* (a) ``rows via bus``: a :class:`twin.sinks.ParquetSink` attached to a bus,
  fed one record dict at a time (as the twin publishes them);
* (b) ``batches``: the same sink fed column batches (``dict`` of numpy
  arrays, curves as 2-D arrays; one batch = 4 row groups);
* (d) ``column rows via bus``: one :class:`twin.column_rows.ColumnRow` per
  record, views into blocks of 1024 rows — how the molding machine
  publishes its cycles (it computes them in planned batches);
* (c) baseline: ``pyarrow.parquet.write_table`` of the same Arrow table
  (dictionary columns encoded, lineage metadata) with the same writer
  options (:func:`twin.parquet_encoding.parquet_write_options`) and row
  group size.

Ratios (a)/(c) and (b)/(c) are the same in rows/s and MB/s (MB = the
in-memory Arrow size of the table, equal for all three).
"""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from benchmarks.common import Result, bench_config, interleaved, ratio, run_twin

TARGET_RATIO = 0.7
CURVE_SAMPLES = 3000


def cycles_rows(n_rows: int, n_source: int) -> list[dict]:
    src = run_twin(bench_config(**{"curves.enabled": False}), n_source, keep=("cycles",))["kept"]["cycles"]
    span_s = src[-1]["sim_time_s"] + src[-1]["cycle_time_s"]
    rows = []
    for k in range(n_rows):
        block, r = divmod(k, len(src))
        rec = src[r]
        shift_s = block * span_s
        rows.append(dict(rec, cycle_id=k + 1, sim_time_s=rec["sim_time_s"] + shift_s,
                         start_time=rec["start_time"] + int(round(shift_s * 1000)),
                         end_time=rec["end_time"] + int(round(shift_s * 1000))))
    return rows


def curves_rows(n_rows: int) -> list[dict]:
    # Cooling 21 s instead of 9 s: cycles of ~31.5 s, i.e. > 3000 samples at 10 ms.
    cfg = bench_config(**{"setpoints.cooling_time_s": 21.0})
    src = run_twin(cfg, n_rows, keep=("curves",))["kept"]["curves"]
    from physics.molding.channels import CHANNEL_NAMES

    rows = []
    for rec in src:
        if rec["n_samples"] < CURVE_SAMPLES:
            raise RuntimeError(f"curve of {rec['n_samples']} samples, need {CURVE_SAMPLES}: lengthen the cycle")
        row = dict(rec, n_samples=CURVE_SAMPLES)
        for name in CHANNEL_NAMES:
            row[name] = np.ascontiguousarray(rec[name][:CURVE_SAMPLES])
        rows.append(row)
    return rows


def column_batches(rows: list[dict], schema: pa.Schema, size: int) -> list[dict[str, Any]]:
    """Rows as column dicts of ``size`` rows: numbers as numpy arrays, curves as 2-D arrays."""
    batches = []
    for start in range(0, len(rows), size):
        chunk = rows[start:start + size]
        cols: dict[str, Any] = {}
        for field in schema:
            values = [r.get(field.name) for r in chunk]
            t = field.type
            if pa.types.is_list(t):
                cols[field.name] = np.stack(values)
            elif pa.types.is_floating(t) or pa.types.is_integer(t) or pa.types.is_boolean(t):
                cols[field.name] = np.asarray(values, dtype=t.to_pandas_dtype()) if None not in values else values
            elif pa.types.is_timestamp(t):
                cols[field.name] = np.asarray(values, dtype=np.int64)
            else:
                cols[field.name] = values
        batches.append(cols)
    return batches


def arrow_table(rows: list[dict], schema: pa.Schema, metadata: dict) -> pa.Table:
    """The table the sink writes: plain columns -> dictionary columns, lineage metadata."""
    from twin.arrow_rows import encode_dictionaries, plain_schema, to_record_batch
    from twin.parquet_encoding import lineage_metadata

    columns = {name: [r.get(name) for r in rows] for name in schema.names}
    batch = to_record_batch(columns, plain_schema(schema), len(rows), where="bench")
    table = encode_dictionaries(pa.Table.from_batches([batch]), schema)
    return table.replace_schema_metadata(lineage_metadata(schema, metadata).metadata)


def bench_topic(topic: str, rows: list[dict], repeat: int, tmp: Path) -> list[Result]:
    from twin.bus import Bus
    from twin.parquet_encoding import parquet_write_options
    from twin.schema import SCHEMAS
    from twin.sinks import DEFAULT_ROW_GROUP_ROWS, ParquetSink

    schema = SCHEMAS[topic]
    meta = {"run_id": "bench", "seed": 1, "config_hash": "bench", "code_version": "bench"}
    group = DEFAULT_ROW_GROUP_ROWS[topic]
    batches = column_batches(rows, schema, 4 * group)
    from twin.column_rows import ColumnBlock

    blocks = [ColumnBlock(b, len(next(iter(b.values())))) for b in column_batches(rows, schema, 1024)]
    table = arrow_table(rows, schema, meta)
    options = parquet_write_options(schema)
    n = len(rows)
    mb = table.nbytes / 1e6
    files = {k: tmp / f"{topic}-{k}.parquet" for k in ("rows", "views", "batches", "pyarrow")}

    def via_rows() -> None:
        bus = Bus()
        sink = ParquetSink(lambda name: tmp / name, topic, schema, metadata=meta, filename=files["rows"].name)
        sink.attach(bus)
        for rec in rows:
            bus.publish(topic, rec)
        sink.close()

    def via_views() -> None:
        bus = Bus()
        sink = ParquetSink(lambda name: tmp / name, topic, schema, metadata=meta, filename=files["views"].name)
        sink.attach(bus)
        for b in blocks:
            for i in range(b.n):
                bus.publish(topic, b.row(i))
        sink.close()

    def via_batches() -> None:
        bus = Bus()
        sink = ParquetSink(lambda name: tmp / name, topic, schema, metadata=meta, filename=files["batches"].name)
        sink.attach(bus)
        for b in batches:
            bus.publish_batch(topic, b)
        sink.close()

    def direct() -> None:
        pq.write_table(table, files["pyarrow"], row_group_size=group, **options)

    t = interleaved({"rows": via_rows, "views": via_views, "batches": via_batches, "pyarrow": direct}, repeat)
    sizes = {k: p.stat().st_size for k, p in files.items()}
    payload = {k: p.read_bytes() for k, p in files.items()}
    identical = payload["rows"] == payload["views"] == payload["batches"] == payload["pyarrow"]
    rate = {k: n / t[k].best for k in t}
    shape = {"rows": n, "arrow_MB": mb, "row_group_rows": group, "batch_rows": 4 * group,
             "file_MB": {k: v / 1e6 for k, v in sizes.items()},
             "files_byte_identical": identical,
             "MB_per_s": {k: mb / t[k].best for k in t}}
    what = f"{n} rows, {mb:.0f} MB Arrow"
    out = [Result(f"sink {topic}: pyarrow write_table (baseline)", rate["pyarrow"], "rows/s",
                  note=f"{what}, {mb / t['pyarrow'].best:.0f} MB/s",
                  extra={"timing": t["pyarrow"].summary(), **shape})]
    for key, label in (("rows", "ParquetSink, dict rows via bus"), ("views", "ParquetSink, column rows via bus"),
                       ("batches", "ParquetSink, column batches")):
        out.append(Result(f"sink {topic}: {label}", rate[key], "rows/s", baseline=rate["pyarrow"],
                          ratio=ratio(rate[key], rate["pyarrow"]), target=TARGET_RATIO,
                          note=f"{mb / t[key].best:.0f} MB/s vs {mb / t['pyarrow'].best:.0f} MB/s",
                          extra={"timing": t[key].summary(), **shape}))
    return out


def run(quick: bool = False, repeat: int = 3) -> list[Result]:
    repeat = 1 if quick else repeat
    results = []
    with tempfile.TemporaryDirectory(prefix="twinloop-bench-") as tmp:
        results += bench_topic("cycles", cycles_rows(2_000 if quick else 50_000, 300 if quick else 1_000),
                               repeat, Path(tmp))
        results += bench_topic("curves", curves_rows(16 if quick else 300), repeat, Path(tmp))
    return results
