"""The billet stamping model: responses point the right way, determinism, input errors."""
import subprocess
import sys

import numpy as np
import pytest

from physics.billet import NOMINAL_STAMP_FORCE_KN, VISIBILITY, StampingModel, StampParams
from physics.billet.characters import STROKE_LENGTH_PER_HEIGHT
from scenarios.billet_responses import markdown_table, population, responses

N_BILLETS = 300


@pytest.fixture(scope="module")
def model():
    return StampingModel()


def _stamp(model, seed=11, **over):
    ids, t, force, wear, tilt, rng = population(N_BILLETS, seed, **over)
    return model.stamp(ids, t, force, wear, tilt, rng)


def _bad_share(r):
    return float(np.mean(r.visibility != VISIBILITY.index("well")))


def test_nominal_billets_mostly_well_with_depths_of_1_to_2_mm(model):
    r = _stamp(model)
    assert 1.0 < float(r.depth_mm.mean()) < 2.0
    assert 1000.0 < float(r.surface_temp_C.mean()) < 1200.0
    assert 0.003 < _bad_share(r) < 0.08
    assert r.visibility.shape == (N_BILLETS, 11) and r.visibility.dtype == np.int8
    assert np.all((r.visible_fraction >= 0) & (r.visible_fraction <= 1))
    assert np.all(r.effective_depth_mm <= r.depth_mm)
    assert set(np.unique(r.visibility_labels)) <= set(VISIBILITY)


def test_nominal_force_derivation(model):
    # 1.5 mm on a mean-length character 90 s after the cut, new pins (stamping docstring).
    assert model.force_for_depth_kN(1.5, 90.0) == pytest.approx(NOMINAL_STAMP_FORCE_KN, rel=0.05)


def test_later_stamping_is_colder_shallower_and_worse(model):
    runs = [_stamp(model, time_since_cut_s=t) for t in (60.0, 300.0, 600.0)]
    temps = [float(r.surface_temp_C.mean()) for r in runs]
    depths = [float(r.depth_mm.mean()) for r in runs]
    bad = [_bad_share(r) for r in runs]
    poor = [float(np.mean(r.visibility == 2)) for r in runs]
    assert temps[0] > temps[1] > temps[2]
    assert depths[0] > depths[1] > depths[2]
    assert bad[0] < bad[1] < bad[2] and bad[2] > 0.25
    assert poor[0] <= poor[1] < poor[2]
    scale = [float(r.scale_thickness_mm.mean()) for r in runs]
    assert scale[0] < scale[1] < scale[2]


def test_lower_force_is_shallower_and_worse(model):
    runs = [_stamp(model, force_factor=f) for f in (1.0, 0.75, 0.5)]
    depths = [float(r.depth_mm.mean()) for r in runs]
    bad = [_bad_share(r) for r in runs]
    assert depths[0] > depths[1] > depths[2]
    assert bad[0] < bad[1] < bad[2] and bad[2] > 0.4


def test_pin_wear_is_shallower_and_worse(model):
    runs = [_stamp(model, pin_wear=w) for w in (0.0, 0.5, 1.0)]
    depths = [float(r.depth_mm.mean()) for r in runs]
    bad = [_bad_share(r) for r in runs]
    assert depths[0] > depths[1] > depths[2]
    assert bad[0] < bad[1] < bad[2] and bad[2] > 0.25


def test_tilt_makes_partial_characters(model):
    ids = ["ABCDEFGHJK8"] * 200
    base = dict(time_since_cut_s=np.full(200, 90.0), stamp_force_kN=np.full(200, 35.0), pin_wear=0.0)
    flat = model.stamp(ids, tilt_deg=np.zeros(200), rng=np.random.default_rng(0), **base)
    tilted = model.stamp(ids, tilt_deg=np.full(200, 4.0), rng=np.random.default_rng(0), **base)
    full = tilted.contact_fraction == 1.0
    assert full.mean() > 0.5 and np.all(tilted.contact_fraction > 0)
    np.testing.assert_allclose(tilted.depth_mm[full], flat.depth_mm[full])  # full contact: same mean depth
    # Where a corner misses, less land carries load, so the mean depth is a little larger — but the
    # shallow end of the glyph is empty: the contact share is below one.
    assert np.all(tilted.depth_mm[~full] >= flat.depth_mm[~full]) and np.all(tilted.contact_fraction[~full] < 1)
    assert np.all(tilted.max_depth_mm > flat.max_depth_mm)
    assert np.mean(tilted.visibility == 1) > np.mean(flat.visibility == 1) + 0.2
    # A character that reads well on a square face can only lose glyph to tilt (a marginal one may
    # gain a readable corner: its deep end goes deeper).
    was_well = flat.visibility == 0
    assert np.all(tilted.visible_fraction[was_well] <= flat.visible_fraction[was_well] + 1e-12)


def test_short_ridges_go_deeper(model):
    r = model.stamp(["1IW8"], 90.0, 50.0, 0.0, 0.0, np.random.default_rng(0))
    d = dict(zip("1IW8", r.depth_mm[0]))
    assert d["I"] > d["1"] > d["8"] > d["W"]
    # A head that scales its force with the ridge length stamps all characters alike.
    L = np.array([[STROKE_LENGTH_PER_HEIGHT[c] for c in "1IW8"]])
    r2 = model.stamp(["1IW8"], 90.0, 20.0 * L, 0.0, 0.0, np.random.default_rng(0))
    assert np.ptp(r2.depth_mm) < 0.05


def test_same_seed_same_output_and_seed_matters(model):
    a = _stamp(model, seed=5)
    b = _stamp(model, seed=5)
    for name in a.__dataclass_fields__:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    ids, t, force, wear, tilt, _ = population(N_BILLETS, 5)
    c = model.stamp(ids, t, force, wear, tilt, np.random.default_rng(999))
    np.testing.assert_array_equal(c.depth_mm, a.depth_mm)  # physics has no dice
    assert not np.array_equal(c.occluded_fraction, a.occluded_fraction)


def test_other_grade_and_params(model):
    s355 = StampingModel(StampParams(steel="S355J2"))
    r = s355.stamp(["A1B2C3D4E5F"], 90.0, 50.0, 0.0, 0.0, np.random.default_rng(0))
    assert np.all(r.depth_mm > 0)
    hot = StampingModel(StampParams(surface_temp_at_cut_C=1100.0))
    assert hot.surface_temp_C(90.0) > model.surface_temp_C(90.0)


@pytest.mark.parametrize("kwargs, match", [
    (dict(chars=["A1B2C3D4E5f"]), "unknown character 'f'"),
    (dict(chars=["A1B2C3D4E5F", "A1B2"]), "same length"),
    (dict(stamp_force_kN=np.array([-1.0, 50.0])), "stamp_force_kN must be >= 0"),
    (dict(stamp_force_kN=np.array([50.0])), r"stamp_force_kN must have shape \(2,\)"),
    (dict(pin_wear=np.full((2, 11), 1.2)), r"pin_wear must be within \[0, 1\]"),
    (dict(pin_wear=np.full((2, 10), 0.1)), r"pin_wear must have shape \(2, 11\)"),
    (dict(time_since_cut_s=np.array([90.0, 5000.0])), "time_since_cut_s must be within"),
    (dict(time_since_cut_s=np.array([90.0, np.nan])), "time_since_cut_s must be finite"),
    (dict(tilt_deg=np.array([0.0, 40.0])), "tilt_deg"),
    (dict(rng=1234), "Generator"),
])
def test_bad_inputs_raise_clear_errors(model, kwargs, match):
    args = dict(chars=["A1B2C3D4E5F", "Z9Y8X7W6V5U"], time_since_cut_s=np.array([90.0, 90.0]),
                stamp_force_kN=np.array([50.0, 50.0]), pin_wear=np.zeros((2, 11)), tilt_deg=np.zeros(2),
                rng=np.random.default_rng(0))
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        model.stamp(**args)


@pytest.mark.parametrize("kwargs, match", [
    (dict(steel="X99"), "known grades"),
    (dict(emissivity=1.5), "emissivity"),
    (dict(core_temp_at_cut_C=900.0), "core_temp_at_cut_C"),
    (dict(char_height_mm=0.0), "char_height_mm"),
    (dict(readable_depth_mm=float("nan")), "finite"),
])
def test_bad_params_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        StampParams(**kwargs)


def test_batch_of_1000_stamps_every_character(model):
    # Speed of this batch is measured by `python -m benchmarks --only stamping` (a ratio, not a test).
    ids, t, force, wear, tilt, rng = population(1000, 1)
    r = model.stamp(ids, t, force, wear, tilt, rng)
    assert r.visibility.shape == (1000, 11)
    assert np.all(np.isfinite(r.depth_mm)) and np.all(np.isfinite(r.surface_temp_C))


def test_response_table_runs():
    rows = responses(n=60, seed=1)
    assert len(rows) == 10
    assert "| case |" in markdown_table(rows)


def test_billet_physics_imports_no_simpy_torch_pil():
    code = ("import sys, physics.billet, physics.billet.stamping; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('simpy', 'torch', 'PIL')]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_per_billet_section_temperatures(model):
    # The twin passes each billet's skin temperature at the cut (and may pass the core).
    skin = np.array([950.0, 1000.0, 1050.0])
    r = model.stamp([list("A1B2C3D4E5F")] * 3, time_since_cut_s=np.full(3, 90.0), stamp_force_kN=np.full(3, 50.0),
                    pin_wear=np.zeros((3, 11)), tilt_deg=np.zeros(3), rng=np.random.default_rng(0),
                    surface_temp_at_cut_C=skin)
    assert np.all(np.diff(r.surface_temp_C) > 0)
    assert np.all(np.diff(r.depth_mm, axis=0) > 0)
    assert r.surface_temp_C[1] == pytest.approx(float(model.surface_temp_C(90.0)), abs=0.1)
    cold_core = model.stamp(["A1B2C3D4E5F"], 90.0, 50.0, 0.0, 0.0, np.random.default_rng(0), core_temp_at_cut_C=1200.0)
    assert cold_core.surface_temp_C[0] < r.surface_temp_C[1]
    with pytest.raises(ValueError, match="core_temp_at_cut_C must be >="):
        model.stamp(["A1B2C3D4E5F"], 90.0, 50.0, 0.0, 0.0, np.random.default_rng(0), surface_temp_at_cut_C=1400.0)


def test_character_array_forms_agree(model):
    ids = ["A1B2C3D4E5F", "Z9Y8X7W6V5U"]
    kw = dict(time_since_cut_s=90.0, stamp_force_kN=50.0, pin_wear=0.0, tilt_deg=1.0)
    a = model.stamp(ids, rng=np.random.default_rng(4), **kw)
    b = model.stamp(np.array([list(s) for s in ids]), rng=np.random.default_rng(4), **kw)
    c = model.stamp([list(s) for s in ids], rng=np.random.default_rng(4), **kw)
    np.testing.assert_array_equal(a.depth_mm, b.depth_mm)
    np.testing.assert_array_equal(a.visibility, c.visibility)
    with pytest.raises(ValueError, match="unknown character 'y'"):
        model.stamp(np.array([list("A1B2C3D4E5y")]), rng=np.random.default_rng(4), **kw)
