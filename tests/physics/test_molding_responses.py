"""Physics responses of the seeded twin point the right way (issue: 'What it must show')."""
import numpy as np

from scenarios.responses import response


def _col(rows, name):
    return np.array([r[name] for r in rows])


def test_hold_pressure_heavier_fewer_sinks():
    rows = response("setpoints.hold_pressure_bar", [200.0, 250.0, 300.0, 400.0])
    w = _col(rows, "part_weight_g")
    assert np.all(np.diff(w) > 0), w
    sink = _col(rows, "rate_sink_marks")
    assert sink[0] > 0.5 and sink[-1] == 0.0, sink
    assert np.all(np.diff(_col(rows, "volumetric_shrinkage_pct")) < 0)


def test_hold_time_heavier_fewer_sinks_until_gate_freeze():
    rows = response("setpoints.hold_time_s", [1.0, 2.0, 3.0, 4.0])
    w = _col(rows, "part_weight_g")
    assert w[0] < w[1] < w[2], w
    # Past gate freeze, holding longer adds nothing (the gate-freeze study).
    assert abs(w[3] - w[2]) < 0.02
    sink = _col(rows, "rate_sink_marks")
    assert sink[0] > 0.5 and sink[3] <= sink[0]
    assert np.all(np.diff(_col(rows, "volumetric_shrinkage_pct")[:3]) < 0)


def test_earlier_switchover_lighter_then_short_shots():
    # At 200 bar hold (at the default 250 bar the hold phase completes any fill).
    rows = response("setpoints.switchover_volume_cm3", [22.0, 30.0, 38.0, 46.0, 54.0],
                    extra=("setpoints.hold_pressure_bar=200",))
    w = _col(rows, "part_weight_g")
    assert np.all(np.diff(w) < 0), w
    short = _col(rows, "rate_short_shot")
    assert short[0] == 0.0 and short[1] == 0.0 and short[-1] >= 0.9, short
    assert np.all(np.diff(short) >= 0), short


def test_glass_fibre_heavier():
    rows = response("material.glass_fiber_pct", [0.0, 10.0, 20.0, 30.0])
    w = _col(rows, "part_weight_g")
    assert np.all(np.diff(w) > 0.5), w


def test_clamp_margin_less_flash():
    rows = response("setpoints.clamp_force_kN", [200.0, 250.0, 300.0, 600.0])
    flash = _col(rows, "rate_flash")
    assert flash[0] == 1.0 and flash[-1] == 0.0
    assert np.all(np.diff(flash) <= 0), flash


def test_longer_cooling_less_warpage():
    rows = response("setpoints.cooling_time_s", [1.0, 4.0, 6.0, 10.0])
    warp = _col(rows, "warpage_mm")
    assert np.all(np.diff(warp) < 0), warp
    rate = _col(rows, "rate_warpage")
    assert rate[0] > rate[-1]


def test_velocity_too_fast_for_vents_burns():
    rows = response("setpoints.injection_velocity_mm_s", [60.0, 250.0],
                    extra=("setpoints.switchover_volume_cm3=14", "setpoints.clamp_force_kN=1500"))
    burn = _col(rows, "rate_burn_marks")
    assert burn[0] == 0.0 and burn[1] == 1.0, burn
