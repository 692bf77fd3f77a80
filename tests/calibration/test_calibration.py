"""Calibration recovers known parameters from data the twin made with them."""
import numpy as np
import pyarrow.parquet as pq
import pytest

from twin.calibration.fit import fit
from twin.calibration.problem import (
    FEATURE_SCALES,
    CalibrationProblem,
    OffsetSpec,
    ParamSpec,
    conditions_from_columns,
    predict,
)
from twin.calibration.run import calibrate
from twin.config import apply_changes, load_config
from twin.simulate import simulate_molding

TRUE = {"mold.wall_thickness_mm": 2.3, "material.viscosity_factor": 1.6}
FEATURES = ["part_weight_g", "max_injection_pressure_bar", "injection_time_s"]


def _real_log(tmp_path):
    """Four conditions (hold pressure x velocity), 30 noisy twin cycles each, made with TRUE."""
    # No lot-to-lot viscosity change: each condition would otherwise run on its
    # own lot and the fitted viscosity factor would be their average.
    base = load_config(None, ["cell.mtbf_h=0", "curves.enabled=false", "variation.mold_warmup_deficit_K=0",
                              "variation.lot_viscosity_cv=0"])
    truth = apply_changes(base, TRUE)
    cols = {}
    for k, (hp, v) in enumerate([(250.0, 60.0), (350.0, 60.0), (250.0, 120.0), (350.0, 120.0)]):
        cfg = apply_changes(truth, {"setpoints.hold_pressure_bar": hp, "setpoints.injection_velocity_mm_s": v,
                                    "run.seed": 10 + k})
        out = simulate_molding(cfg, tmp_path / f"c{k}", cycles=30)
        t = pq.read_table(out / "cycles.parquet").to_pydict()
        t["experiment"] = [f"hp{hp:.0f}_v{v:.0f}"] * len(t["cycle_id"])
        for name, col in t.items():
            cols.setdefault(name, []).extend(col)
    return base, {k: np.asarray(v, dtype=object) for k, v in cols.items()}


def test_fit_recovers_known_parameters(tmp_path):
    base, cols = _real_log(tmp_path)
    cond = conditions_from_columns(cols, base, FEATURES)
    params = [ParamSpec.parse(k, base) for k in TRUE]
    prob = CalibrationProblem(base, cond, params, FEATURES, {f: FEATURE_SCALES[f] for f in FEATURES},
                              np.arange(len(cond.names)))
    res = fit(prob)
    assert res.cost < 0.01 * res.cost_start
    for k, v in TRUE.items():
        assert res.estimates[k] == pytest.approx(v, rel=0.03), (k, res.estimates[k])
        assert 0 < res.std_errors[k] < 0.2 * v
    # The calibrated physics reproduces the real condition medians.
    pred = predict(prob.config_for(res.x), cond, ["part_weight_g"])["part_weight_g"]
    np.testing.assert_allclose(pred, cond.real_level["part_weight_g"], atol=0.02)


def test_offsets_absorb_a_balance_drift_but_not_the_physics(tmp_path):
    base, cols = _real_log(tmp_path)
    # One "day" weighs everything 0.4 g heavier.
    day = np.array(["d1" if e.startswith("hp250") else "d2" for e in cols["experiment"]], dtype=object)
    cols["day"] = day
    cols["part_weight_g"] = np.array([w + (0.4 if d == "d2" else 0.0) for w, d in zip(cols["part_weight_g"], day)],
                                     dtype=object)
    cond = conditions_from_columns(cols, base, FEATURES, group_col="day")
    params = [ParamSpec.parse(k, base) for k in TRUE]
    offsets = [OffsetSpec("part_weight_g", ("d1", "d2"), 0.5)]
    prob = CalibrationProblem(base, cond, params, FEATURES, {f: FEATURE_SCALES[f] for f in FEATURES},
                              np.arange(len(cond.names)), offsets)
    res = fit(prob)
    assert res.offsets["part_weight_g"]["d2"] - res.offsets["part_weight_g"]["d1"] == pytest.approx(0.4, abs=0.05)
    assert res.estimates["mold.wall_thickness_mm"] == pytest.approx(2.3, rel=0.05)


def test_bad_parameter_names_and_bounds():
    cfg = load_config()
    with pytest.raises(KeyError, match="not a config key"):
        ParamSpec.parse("mold.wall_thicknes_mm", cfg)
    with pytest.raises(TypeError, match="not numeric"):
        ParamSpec.parse("material.grade", cfg)
    with pytest.raises(ValueError, match="outside its bounds"):
        ParamSpec.parse("mold.wall_thickness_mm=3:4", cfg)


def test_calibrate_writes_a_run_folder(tmp_path):
    base, cols = _real_log(tmp_path)
    import pyarrow as pa
    real = tmp_path / "real"
    real.mkdir()
    pq.write_table(pa.table({k: list(v) for k, v in cols.items() if k in
                             ("experiment", "part_weight_g", "max_injection_pressure_bar", "injection_time_s",
                              "hold_pressure_bar", "injection_velocity_mm_s")}), real / "cycles.parquet")
    out = calibrate(real, base, list(TRUE), tmp_path / "cal", features=FEATURES)
    for name in ("config.toml", "params.json", "conditions.parquet", "metrics.json"):
        assert (out / name).is_file(), name
    cfg = load_config(out / "config.toml")
    assert cfg["mold"]["wall_thickness_mm"] == pytest.approx(2.3, rel=0.03)


def test_pass_constraint_adds_hinges_that_vanish_for_a_good_part(tmp_path):
    base, cols = _real_log(tmp_path)
    cond = conditions_from_columns(cols, base, FEATURES)
    params = [ParamSpec.parse("mold.cavity_length_mm=100:1000", base)]
    scales = {f: FEATURE_SCALES[f] for f in FEATURES}
    plain = CalibrationProblem(base, cond, params, FEATURES, scales, np.arange(len(cond.names)))
    con = CalibrationProblem(base, cond, params, FEATURES, scales, np.arange(len(cond.names)), pass_constraint=True)
    x = con.x0()
    r_plain, r_con = plain.residuals(x), con.residuals(x)
    n = len(cond.names)
    assert r_con.size == r_plain.size + 2 * n
    np.testing.assert_array_equal(r_con[:r_plain.size], r_plain)
    assert np.all(r_con[r_plain.size:] == 0)          # the default shot fills the cavity, no burn
    big = x.copy()
    big[0] = np.log(600.0)                           # twice the cavity: the shot cannot fill it
    hinge = con.residuals(big)[r_plain.size:r_plain.size + n]
    assert np.all(hinge > 1)
