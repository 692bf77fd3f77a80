"""Replay of an ingested log into the twin's stream, beside simulated cycles."""
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import simpy

from twin.bus import Bus
from twin.config import load_config
from twin.replay import LogReplay
from twin.schema import CYCLES_SCHEMA
from twin.simulate import simulate_molding
from twin.sinks import MemorySink, write_table_atomic


def _fake_log(folder, times_s):
    """A tiny 'ingested' log: cycles.parquet with source=real rows at the given offsets."""
    folder.mkdir()
    t0 = 1_717_567_200_000
    n = len(times_s)
    cols = {name: [None] * n for name in CYCLES_SCHEMA.names}
    cols.update({"run_id": ["real-x"] * n, "source": ["real"] * n, "machine_id": ["R1"] * n,
                 "cycle_id": list(range(1, n + 1)), "start_time": [t0 + int(1000 * s) for s in times_s],
                 "end_time": [t0 + int(1000 * s) + 30_000 for s in times_s], "part_weight_g": [85.0 + 0.01 * k for k in range(n)]})
    from twin.arrow_rows import encode_dictionaries, plain_schema, to_record_batch
    batch = to_record_batch(cols, plain_schema(CYCLES_SCHEMA), n, where="test")
    write_table_atomic(folder / "cycles.parquet", encode_dictionaries(pa.Table.from_batches([batch]), CYCLES_SCHEMA))
    return folder


def test_replay_publishes_at_scaled_logged_times(tmp_path):
    log = _fake_log(tmp_path / "log", [0.0, 30.0, 90.0, 90.0, 200.0])
    env, bus, sink = simpy.Environment(), Bus(), MemorySink()
    sink.attach(bus, "cycles")
    seen = []
    bus.subscribe("cycles", lambda r: seen.append(env.now))
    LogReplay(env, bus, log, time_scale=0.5, align_at_s=10.0).start()
    env.run()
    assert seen == [10.0, 25.0, 55.0, 55.0, 110.0]
    assert [r["source"] for r in sink.rows] == ["real"] * 5
    assert [r["sim_time_s"] for r in sink.rows] == seen


def test_replay_rejects_a_log_out_of_time_order(tmp_path):
    log = _fake_log(tmp_path / "log", [0.0, 30.0, 20.0])
    with pytest.raises(ValueError, match="row 2"):
        LogReplay(simpy.Environment(), Bus(), log)


def test_real_and_simulated_records_side_by_side(tmp_path):
    log = _fake_log(tmp_path / "log", list(np.arange(0, 600, 37.0)))
    cfg = load_config(None, ["cell.mtbf_h=0", "curves.enabled=false"])
    out = simulate_molding(cfg, tmp_path / "run", hours=0.2, replay=[(log, 1.0)])
    t = pq.read_table(out / "cycles.parquet").to_pydict()
    sources = t["source"]
    assert sources.count("real") == 17 and sources.count("sim") > 20
    # One stream in time order: a simulated cycle is published when it ends
    # (sim_time_s is its start), a real one at its replay time.
    seen = [s + (c if src == "sim" else 0.0) for s, c, src in zip(t["sim_time_s"], t["cycle_time_s"], sources)]
    assert np.all(np.diff(seen) >= -1e-9)
