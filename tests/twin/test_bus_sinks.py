"""Record bus, Parquet and memory sinks: order, encoding, lineage, determinism, errors."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from physics.molding.channels import CHANNEL_NAMES
from twin.bus import Bus
from twin.parquet_encoding import byte_stream_split_support
from twin.runfolder import RunFolder
from twin.schema import CURVES_SCHEMA, CYCLES_SCHEMA, EVENTS_SCHEMA, dictionary_columns, float_columns
from twin.sinks import MemorySink, ParquetSink, write_table_atomic

T0_MS = 1_717_567_200_000  # 2024-06-05T06:00:00Z


def cycle(i: int) -> dict:
    return {
        "run_id": "r1", "source": "sim", "machine_id": f"M{i % 2}", "cycle_id": i,
        "start_time": T0_MS + 30_000 * i, "end_time": T0_MS + 30_000 * (i + 1), "sim_time_s": 30.0 * i,
        "material_grade": "PP_579S", "melt_temp_C": 230.0 + 0.01 * i, "part_weight_g": 40.0 + 1e-3 * i,
        "good": i % 5 != 0, "defect_type": "good" if i % 5 else "short_shot", "seed": 42,
    }


def curve_columns(ids: list[int], n_samples: int = 50) -> dict:
    rng = np.random.default_rng(ids[0] if ids else 0)
    cols = {"run_id": ["r1"] * len(ids), "source": ["sim"] * len(ids), "machine_id": ["M0"] * len(ids),
            "cycle_id": ids, "sample_interval_s": [0.01] * len(ids), "n_samples": [n_samples] * len(ids)}
    for name in CHANNEL_NAMES:
        cols[name] = rng.standard_normal((len(ids), n_samples)).astype(np.float32)
    return cols


# -- bus --------------------------------------------------------------------

def test_bus_delivers_in_publish_order_to_each_subscriber_of_the_topic():
    bus, a, b, other = Bus(), [], [], []
    bus.subscribe("cycles", a.append)
    bus.subscribe("cycles", b.append)
    bus.subscribe("events", other.append)
    records = [{"i": i} for i in range(5)]
    for r in records:
        bus.publish("cycles", r)
    bus.publish("nobody-listens", {"x": 1})
    assert a == records and b == records and other == []
    assert a[0] is records[0]  # no copy


def test_bus_batches_go_whole_to_batch_callbacks_and_row_by_row_otherwise():
    bus, rows, batches = Bus(), [], []
    bus.subscribe("t", rows.append)
    bus.subscribe("t", lambda r: pytest.fail("batch callback expected"), batch=batches.append)
    batch = {"a": [1, 2], "b": ["x", "y"]}
    bus.publish_batch("t", batch)
    bus.publish_batch("t", [{"a": 3, "b": "z"}])
    assert rows == [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}, {"a": 3, "b": "z"}]
    assert batches[0] is batch


def test_bus_rejects_ragged_column_batches_and_propagates_subscriber_errors():
    bus = Bus()
    bus.subscribe("t", lambda r: None)
    with pytest.raises(ValueError, match="different lengths"):
        bus.publish_batch("t", {"a": [1, 2], "b": [1]})

    def fail(record):
        raise RuntimeError("sink full")

    bus.subscribe("t", fail)
    with pytest.raises(RuntimeError, match="sink full"):
        bus.publish("t", {})


def test_bus_unsubscribe():
    bus, got = Bus(), []
    unsubscribe = bus.subscribe("t", got.append)
    bus.publish("t", {"i": 1})
    unsubscribe()
    bus.publish("t", {"i": 2})
    assert got == [{"i": 1}] and not bus.has_subscribers("t")


# -- parquet sink -------------------------------------------------------------

def _write_cycles(folder, records, *, batch_sizes=None, row_group_rows=4):
    with RunFolder(folder) as run:
        bus = Bus()
        sink = ParquetSink(run.path, "cycles", CYCLES_SCHEMA, row_group_rows=row_group_rows,
                           metadata={"seed": "42", "config_hash": "0123456789abcdef"})
        sink.attach(bus)
        if batch_sizes is None:
            for r in records:
                bus.publish("cycles", r)
        else:
            i = 0
            for n in batch_sizes:
                bus.publish_batch("cycles", records[i:i + n])
                i += n
        path = sink.close()
    return folder / path.name


def test_cycles_round_trip_with_schema_row_groups_and_lineage(tmp_path):
    records = [cycle(i) for i in range(10)]
    path = _write_cycles(tmp_path / "r", records)
    pf = pq.ParquetFile(path)
    table = pf.read()
    assert table.schema.equals(CYCLES_SCHEMA)
    assert table.column("cycle_id").to_pylist() == list(range(10))
    assert table.column("start_time").cast(pa.int64()).to_pylist() == [r["start_time"] for r in records]
    assert str(table.column("start_time")[0]) == "2024-06-05 06:00:00+00:00"
    assert table.column("hidden_melt_temp_C").null_count == 10  # absent keys are null
    assert [pf.metadata.row_group(i).num_rows for i in range(pf.num_row_groups)] == [4, 4, 2]
    meta = pf.schema_arrow.metadata
    assert meta[b"seed"] == b"42" and meta[b"config_hash"] == b"0123456789abcdef"
    assert b"twinloop_version" in meta


def test_encodings_follow_the_design(tmp_path):
    path = _write_cycles(tmp_path / "r", [cycle(i) for i in range(6)])
    rg = pq.ParquetFile(path).metadata.row_group(0)
    by_name = {rg.column(i).path_in_schema: rg.column(i) for i in range(rg.num_columns)}
    assert all(c.compression == "ZSTD" for c in by_name.values())
    for name in dictionary_columns(CYCLES_SCHEMA):
        assert "RLE_DICTIONARY" in by_name[name].encodings, name
    for name in float_columns(CYCLES_SCHEMA):
        assert "BYTE_STREAM_SPLIT" in by_name[name].encodings, name
        assert "RLE_DICTIONARY" not in by_name[name].encodings, name


def test_curves_list_columns_use_byte_stream_split_where_pyarrow_supports_it(tmp_path):
    with RunFolder(tmp_path / "r") as run:
        sink = ParquetSink(run.path, "curves", CURVES_SCHEMA)
        assert sink.row_group_rows == 32
        cols = curve_columns([0, 1, 2])
        sink.write_batch(cols)
        sink.close()
    table = pq.read_table(tmp_path / "r" / "curves.parquet")
    assert table.schema.equals(CURVES_SCHEMA)
    got = np.array(table.column("injection_pressure_bar").to_pylist(), dtype=np.float32)
    np.testing.assert_array_equal(got, cols["injection_pressure_bar"])
    rg = pq.ParquetFile(tmp_path / "r" / "curves.parquet").metadata.row_group(0)
    leaf = next(rg.column(i) for i in range(rg.num_columns)
                if rg.column(i).path_in_schema == "injection_pressure_bar.list.element")
    support = byte_stream_split_support()
    if int(pa.__version__.split(".")[0]) >= 26:  # the version this project pins in practice
        assert support == "nested"
    assert ("BYTE_STREAM_SPLIT" in leaf.encodings) == (support == "nested")


def test_same_rows_give_byte_identical_files_however_batched(tmp_path):
    records = [cycle(i) for i in range(11)]
    a = _write_cycles(tmp_path / "a", records).read_bytes()
    b = _write_cycles(tmp_path / "b", records).read_bytes()
    c = _write_cycles(tmp_path / "c", records, batch_sizes=[3, 1, 7]).read_bytes()
    assert a == b == c


def test_curve_rows_and_column_batches_give_identical_files(tmp_path):
    cols = curve_columns(list(range(5)))
    rows = [{k: v[i] for k, v in cols.items()} for i in range(5)]
    outputs = []
    for name, feed in (("rows", rows), ("batch", cols)):
        with RunFolder(tmp_path / name) as run:
            sink = ParquetSink(run.path, "curves", CURVES_SCHEMA, row_group_rows=2)
            if name == "rows":
                for r in feed:
                    sink.write_row(r)
            else:
                sink.write_batch(feed)
            sink.close()
        outputs.append((tmp_path / name / "curves.parquet").read_bytes())
    assert outputs[0] == outputs[1]


def test_file_is_written_under_tmp_name_until_close(tmp_path):
    with RunFolder(tmp_path / "r") as run:
        sink = ParquetSink(run.path, "cycles", CYCLES_SCHEMA, row_group_rows=2)
        for i in range(3):
            sink.write_row(cycle(i))
        assert run.path("cycles.parquet.tmp").exists() and not run.path("cycles.parquet").exists()
        sink.close()
        assert sorted(p.name for p in run.root.iterdir()) == ["cycles.parquet"]


def test_empty_sink_writes_a_valid_empty_file(tmp_path):
    with RunFolder(tmp_path / "r") as run:
        ParquetSink(run.path, "events", EVENTS_SCHEMA).close()
    table = pq.read_table(tmp_path / "r" / "events.parquet")
    assert table.num_rows == 0 and table.schema.equals(EVENTS_SCHEMA)


def test_abort_leaves_no_file(tmp_path):
    with pytest.raises(RuntimeError):
        with RunFolder(tmp_path / "r") as run:
            with ParquetSink(run.path, "cycles", CYCLES_SCHEMA, row_group_rows=1) as sink:
                sink.write_row(cycle(0))
                raise RuntimeError
    assert list(tmp_path.iterdir()) == []


def test_unknown_column_names_the_row_and_suggests(tmp_path):
    with RunFolder(tmp_path / "r") as run:
        sink = ParquetSink(run.path, "cycles", CYCLES_SCHEMA)
        sink.write_row(cycle(0))
        bad = cycle(1) | {"melt_temp_c": 1.0}
        with pytest.raises(KeyError, match=r"row 1: unknown column\(s\) \['melt_temp_c'\].*melt_temp_C"):
            sink.write_row(bad)
        lenient = ParquetSink(run.path, "cycles", CYCLES_SCHEMA, filename="c2.parquet", extra="ignore")
        lenient.write_row(bad)
        lenient.close()
        sink.close()


def test_missing_required_value_names_column_and_row(tmp_path):
    with RunFolder(tmp_path / "r") as run:
        sink = ParquetSink(run.path, "cycles", CYCLES_SCHEMA, row_group_rows=3)
        sink.write_row(cycle(0))
        sink.write_row(cycle(1))
        broken = cycle(2)
        del broken["cycle_id"]
        with pytest.raises(ValueError, match=r"cycles.parquet: column 'cycle_id', row 2: missing value"):
            sink.write_row(broken)


def test_unconvertible_value_names_column_and_row(tmp_path):
    with RunFolder(tmp_path / "r") as run:
        sink = ParquetSink(run.path, "cycles", CYCLES_SCHEMA, row_group_rows=10)
        rows = [cycle(i) for i in range(4)]
        rows[3]["melt_temp_C"] = "hot"
        for r in rows:
            sink.write_row(r)
        with pytest.raises(ValueError, match=r"column 'melt_temp_C', row 3: cannot convert 'hot'"):
            sink.close()


# -- memory sink and small tables ---------------------------------------------

def test_memory_sink_collects_rows_and_builds_the_same_table(tmp_path):
    bus, mem = Bus(), MemorySink()
    mem.attach(bus, "cycles")
    records = [cycle(i) for i in range(5)]
    bus.publish("cycles", records[0])
    bus.publish_batch("cycles", records[1:])
    assert len(mem) == 5 and mem.rows[0] is records[0]
    path = _write_cycles(tmp_path / "r", records)
    table = mem.to_table(CYCLES_SCHEMA)
    assert table.schema.equals(CYCLES_SCHEMA)
    assert table.to_pylist() == pq.read_table(path).to_pylist()


def test_write_table_atomic(tmp_path):
    table = pa.table({"name": pa.array(["a", "b"]).dictionary_encode(), "x": [1.0, 2.0]})
    path = write_table_atomic(tmp_path / "t.parquet", table, metadata={"seed": 1})
    again = write_table_atomic(tmp_path / "t2.parquet", table, metadata={"seed": 1})
    assert path.read_bytes() == again.read_bytes()
    assert pq.read_table(path).equals(table)
    assert pq.ParquetFile(path).schema_arrow.metadata[b"seed"] == b"1"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.parquet", "t2.parquet"]
