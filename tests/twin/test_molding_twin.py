"""The SimPy molding cell: timing, breakdowns, determinism, wear, plausibility, curves."""
import hashlib
import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from physics.molding.channels import CHANNEL_NAMES, PHASE_CODES
from twin.config import load_config
from twin.simulate import simulate_molding


def _cfg(*overrides):
    return load_config(None, list(overrides))


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_same_seed_same_bytes(tmp_path):
    cfg = _cfg("cell.mtbf_h=2", "run.seed=5")
    a = simulate_molding(cfg, tmp_path / "a", cycles=40)
    b = simulate_molding(cfg, tmp_path / "b", cycles=40)
    for name in ("cycles.parquet", "curves.parquet", "events.parquet", "config.toml", "metrics.json"):
        assert _digest(a / name) == _digest(b / name), name
    c = simulate_molding(_cfg("cell.mtbf_h=2", "run.seed=6"), tmp_path / "c", cycles=40)
    assert _digest(a / "cycles.parquet") != _digest(c / "cycles.parquet")


def test_cycle_time_is_the_sum_of_phases_exactly(tmp_path):
    cfg = _cfg("cell.mtbf_h=0", "curves.enabled=false")
    out = simulate_molding(cfg, tmp_path / "r", cycles=10)
    t = pq.read_table(out / "cycles.parquet").to_pydict()
    m, c = cfg["machine"], cfg["cell"]
    for i in range(10):
        cool = max(t["cooling_time_s"][i], t["dosing_time_s"][i] + 0.3)
        expected = m["close_time_s"] + t["hold_end_time_s"][i] + cool + m["open_time_s"] + m["eject_time_s"] + c["robot_takeout_s"]
        assert t["cycle_time_s"][i] == pytest.approx(expected, abs=1e-9)
    # Back to back: each cycle starts exactly when the previous one ended.
    np.testing.assert_allclose(np.diff(t["sim_time_s"]), t["cycle_time_s"][:-1], atol=1e-9)


def test_breakdowns_interrupt_and_need_the_operator(tmp_path):
    cfg = _cfg("cell.mtbf_h=0.2", "cell.mttr_min=5", "curves.enabled=false")
    out = simulate_molding(cfg, tmp_path / "r", hours=3)
    ev = pq.read_table(out / "events.parquet").to_pydict()
    kinds = ev["kind"]
    n_break = kinds.count("breakdown")
    assert n_break >= 3
    assert kinds.count("cycle_aborted") == n_break and kinds.count("repair_done") == n_break
    cyc = pq.read_table(out / "cycles.parquet").to_pydict()
    # Downtime: throughput well below the no-breakdown rate.
    assert len(cyc["cycle_id"]) < 3 * 3600 / 19.0
    # After a restart the mold is cold again.
    i_repair = [s for k, s in zip(kinds, ev["sim_time_s"]) if k == "repair_done"][0]
    after = [w for s, w in zip(cyc["sim_time_s"], cyc["hidden_mold_warmup_K"]) if s >= i_repair]
    assert after[0] < -5.0


def test_second_machine_does_not_change_first_machines_draws(tmp_path):
    one = simulate_molding(_cfg("cell.mtbf_h=0", "curves.enabled=false", "cell.machines=1"), tmp_path / "a", cycles=30)
    two = simulate_molding(_cfg("cell.mtbf_h=0", "curves.enabled=false", "cell.machines=2", "cell.robot_count=2"),
                           tmp_path / "b", cycles=60)
    a = pq.read_table(one / "cycles.parquet").to_pydict()
    b = pq.read_table(two / "cycles.parquet").to_pydict()
    leak_a = a["hidden_check_ring_leak_cm3_s_per_kbar"][:25]
    leak_b = [x for x, m in zip(b["hidden_check_ring_leak_cm3_s_per_kbar"], b["machine_id"]) if m == "M1"][:25]
    assert leak_a == leak_b
    leak_m2 = [x for x, m in zip(b["hidden_check_ring_leak_cm3_s_per_kbar"], b["machine_id"]) if m == "M2"][:25]
    assert leak_m2 != leak_b


def test_default_run_has_plausible_scrap(tmp_path):
    out = simulate_molding(_cfg("curves.enabled=false"), tmp_path / "r", cycles=1000)
    m = json.loads((out / "metrics.json").read_text())
    assert 0.005 <= m["scrap_rate"] <= 0.08, m["defect_rate_by_type"]
    # Part weight repeatability of a good process: cv below 0.2 % (PHYSICS_REFERENCES §6).
    assert m["part_weight_g_sd"] / m["part_weight_g_mean"] < 0.002


def test_wearing_mold_flash_rises(tmp_path):
    cfg = _cfg("curves.enabled=false", "cell.mtbf_h=0", "mold.wear_gap_per_kcycle_mm=0.03")
    out = simulate_molding(cfg, tmp_path / "r", cycles=1200)
    t = pq.read_table(out / "cycles.parquet").to_pydict()
    flash = np.array(t["defect_flash"], dtype=float)
    thirds = [flash[:400].mean(), flash[400:800].mean(), flash[800:].mean()]
    assert thirds[0] < thirds[1] < thirds[2] and thirds[0] == 0.0 and thirds[2] > 0.5, thirds


def test_scheduled_maintenance_resets_wear(tmp_path):
    cfg = _cfg("curves.enabled=false", "cell.mtbf_h=0", "mold.wear_gap_per_kcycle_mm=0.03")
    cfg["schedule"]["events"] = [{"at_h": 3.0, "kind": "maintenance", "duration_min": 20.0}]
    out = simulate_molding(cfg, tmp_path / "r", hours=6)
    t = pq.read_table(out / "cycles.parquet").to_pydict()
    gaps = [(s, g) for s, g in zip(t["sim_time_s"], t["hidden_mold_wear_gap_mm"])]
    before = [g for s, g in gaps if s < 3 * 3600]
    after = [g for s, g in gaps if s > 3 * 3600 + 20 * 60 + 100]
    assert after[0] < 0.1 * before[-1]


def test_curves_consistent_with_scalars(tmp_path):
    out = simulate_molding(_cfg("cell.mtbf_h=0"), tmp_path / "r", cycles=12)
    cyc = pq.read_table(out / "cycles.parquet").to_pydict()
    cur = pq.read_table(out / "curves.parquet").to_pydict()
    assert set(CHANNEL_NAMES) <= set(cur)
    assert len(CHANNEL_NAMES) == 34
    for i in range(12):
        assert cur["cycle_id"][i] == cyc["cycle_id"][i]
        p = np.asarray(cur["injection_pressure_bar"][i], dtype=np.float32)
        assert p.max() == np.float32(cyc["max_injection_pressure_bar"][i])
        x = np.asarray(cur["screw_position_mm"][i], dtype=np.float32)
        assert x.min() == np.float32(cyc["cushion_mm"][i])
        n = cur["n_samples"][i]
        assert n == len(p) and cur["sample_interval_s"][i] == pytest.approx(0.01)
        # The curve spans the whole cycle at 10 ms.
        assert abs(n * 0.01 - cyc["cycle_time_s"][i]) < 0.02
        phase = np.asarray(cur["phase"][i])
        assert set(np.unique(phase)) >= {PHASE_CODES["inject"], PHASE_CODES["hold"], PHASE_CODES["cool"]}


def test_realtime_mode_gives_the_same_records(tmp_path):
    cfg = _cfg("cell.mtbf_h=0", "curves.enabled=false")
    a = simulate_molding(cfg, tmp_path / "a", cycles=3)
    b = simulate_molding(cfg, tmp_path / "b", cycles=3, realtime_factor=0.002)
    assert _digest(a / "cycles.parquet") == _digest(b / "cycles.parquet")


def test_killed_run_leaves_no_complete_looking_folder(tmp_path):
    cfg = _cfg("cell.mtbf_h=0")
    calls = {"n": 0}

    def progress(done, total):
        calls["n"] += 1
        if done >= 5:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        simulate_molding(cfg, tmp_path / "r", cycles=50, progress=progress)
    assert not (tmp_path / "r").exists()
    assert list(tmp_path.iterdir()) == []
