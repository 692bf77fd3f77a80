"""ColumnRow records: dict-like for subscribers, same Parquet bytes as dict rows."""
import hashlib

import numpy as np
import pyarrow as pa
import pytest

from twin.bus import Bus
from twin.column_rows import ColumnBlock, ColumnRow
from twin.sinks import ParquetSink

SCHEMA = pa.schema([
    pa.field("cycle_id", pa.int64(), nullable=False),
    pa.field("start_time", pa.timestamp("ms", tz="UTC"), nullable=False),
    pa.field("weight_g", pa.float64()),
    pa.field("kind", pa.dictionary(pa.int32(), pa.string())),
    pa.field("good", pa.bool_()),
])


def _block(n, offset=0):
    return ColumnBlock({
        "cycle_id": np.arange(offset, offset + n, dtype=np.int64),
        "start_time": 1_700_000_000_000 + 1000 * np.arange(offset, offset + n, dtype=np.int64),
        "weight_g": np.linspace(30.0, 31.0, n),
        "kind": ["good" if k % 3 else "flash" for k in range(n)],
        "good": np.arange(n) % 3 != 0,
    }, n)


def test_row_reads_like_a_dict():
    b = _block(4)
    r = b.row(2)
    assert isinstance(r, ColumnRow)
    assert r["cycle_id"] == 2 and type(r["cycle_id"]) is int
    assert type(r["good"]) is bool and r.get("missing", 7) == 7 and "weight_g" in r
    assert dict(r)["kind"] == "good"


def test_block_rejects_ragged_columns():
    with pytest.raises(ValueError, match="'b'"):
        ColumnBlock({"a": [1, 2], "b": [1]}, 2)


def _write(tmp_path, name, publish):
    bus = Bus()
    sink = ParquetSink(lambda f: tmp_path / f, "cycles", SCHEMA, row_group_rows=7, filename=name)
    sink.attach(bus)
    publish(bus)
    return hashlib.sha256(sink.close().read_bytes()).hexdigest()


def test_column_rows_and_dict_rows_give_identical_files(tmp_path):
    blocks = [_block(10), _block(5, offset=10)]

    def as_views(bus):
        for b in blocks:
            for i in range(b.n):
                bus.publish("cycles", b.row(i))
        bus.publish("cycles", {"cycle_id": 99, "start_time": 1_700_000_099_000, "weight_g": 1.0,
                               "kind": "x", "good": False})

    def as_dicts(bus):
        for b in blocks:
            for i in range(b.n):
                bus.publish("cycles", dict(b.row(i)))
        bus.publish("cycles", {"cycle_id": 99, "start_time": 1_700_000_099_000, "weight_g": 1.0,
                               "kind": "x", "good": False})

    assert _write(tmp_path, "a.parquet", as_views) == _write(tmp_path, "b.parquet", as_dicts)


def test_unknown_block_column_is_an_error(tmp_path):
    bus = Bus()
    sink = ParquetSink(lambda f: tmp_path / f, "cycles", SCHEMA)
    sink.attach(bus)
    b = ColumnBlock({"cycle_id": np.arange(2), "weigth_g": np.ones(2)}, 2)
    with pytest.raises(KeyError, match="weigth_g"):
        bus.publish("cycles", b.row(0))
