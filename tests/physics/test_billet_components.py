"""Billet physics components against published values and first principles."""
import numpy as np
import pytest

from physics.billet import scale, visibility
from physics.billet.characters import ALPHABET, STROKE_LENGTH_PER_HEIGHT, char_indices, stroke_length_mm
from physics.billet.flow_stress import hensel_spittel_MPa
from physics.billet.indentation import (MIN_RATE_DEPTH_MM, depth_for_flow_stress_mm, force_for_depth_kN, indentation_depth_mm,
                                        representative_strain, tilted_depths_mm)
from physics.billet.steel import C45, S355J2, get_steel
from physics.billet.surface_cooling import (STEFAN_BOLTZMANN_W_m2K4, SurfaceCooling, section_temp_at_cut_C,
                                            surface_heat_flux_W_m2)

# --- steel and flow stress ---------------------------------------------------------------


def test_get_steel_known_and_unknown():
    assert get_steel("C45") is C45 and get_steel("S355J2") is S355J2
    with pytest.raises(ValueError, match="known grades: C45, S355J2"):
        get_steel("X5CrNi18-10")


@pytest.mark.parametrize("steel, table", [
    (C45, {800: (151, 185, 241), 1000: (80, 103, 144), 1200: (43, 58, 86)}),
    (S355J2, {800: (145, 173, 216), 1000: (81, 101, 133), 1200: (45, 59, 82)}),
])
def test_hensel_spittel_reproduces_reference_table(steel, table):
    # PHYSICS_REFERENCES §5: φ = 0.1, φ̇ = 0.1 / 1 / 10 s⁻¹.
    for T, expected in table.items():
        got = hensel_spittel_MPa(steel, T, 0.1, np.array([0.1, 1.0, 10.0]))
        np.testing.assert_allclose(got, expected, rtol=0.02)


def test_flow_stress_falls_with_temperature_rises_with_rate():
    T = np.linspace(800, 1250, 10)
    s = hensel_spittel_MPa(C45, T, 0.2, 10.0)
    assert np.all(np.diff(s) < 0)
    r = hensel_spittel_MPa(C45, 1000.0, 0.2, np.array([0.1, 1.0, 10.0, 100.0]))
    assert np.all(np.diff(r) > 0)
    with pytest.raises(ValueError):
        hensel_spittel_MPa(C45, 1000.0, -0.1, 1.0)


# --- face cooling ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cooling():
    return SurfaceCooling(C45, 1000.0, ambient_C=25.0, emissivity=0.85, h_conv_W_m2K=10.0, max_time_s=900.0)


def test_section_profile_endpoints():
    assert section_temp_at_cut_C(1000.0, 1350.0, 0.0) == 1350.0
    assert section_temp_at_cut_C(1000.0, 1350.0, 1.0) == 1000.0
    with pytest.raises(ValueError):
        section_temp_at_cut_C(1000.0, 1350.0, 1.5)


def test_face_cools_monotonically_interior_stays_hotter(cooling):
    assert np.all(np.diff(cooling.surface_temps_C) < 0)
    t = np.array([30.0, 120.0, 600.0])
    prof = cooling.temp_at_depth_C(t[:, None], np.array([0.0, 1.0, 5.0, 20.0]))
    assert np.all(np.diff(prof, axis=1) > 0)
    np.testing.assert_allclose(prof[:, 0], cooling.surface_temp_C(t))


def test_early_cooling_matches_semi_infinite_constant_flux(cooling):
    # T_s(t) ≈ T0 − 2·q0·√t / (√π·e) while the face has barely cooled (q ≈ q0).
    q0 = surface_heat_flux_W_m2(1000.0, 25.0, 0.85, 10.0)
    assert q0 == pytest.approx(0.85 * STEFAN_BOLTZMANN_W_m2K4 * (1273.15**4 - 298.15**4) + 10 * 975, rel=1e-12)
    t = 3.0
    drop_analytic = 2 * q0 * np.sqrt(t) / (np.sqrt(np.pi) * C45.effusivity_W_s05_m2K)
    drop = 1000.0 - float(cooling.surface_temp_C(t))
    assert drop == pytest.approx(drop_analytic, rel=0.08)


def test_heat_leaving_matches_radiation_plus_convection(cooling):
    # Heat released by the steel (from the stored profiles) over 60-300 s equals the
    # time integral of ε·σ·(T⁴ − T_amb⁴) + h·ΔT evaluated on the face temperature.
    released = cooling.heat_released_J_m2()
    i0, i1 = np.searchsorted(cooling.times_s, [60.0, 300.0])
    t = cooling.times_s[i0:i1 + 1]
    q = surface_heat_flux_W_m2(cooling.surface_temps_C[i0:i1 + 1], 25.0, 0.85, 10.0)
    integral = np.sum(0.5 * (q[1:] + q[:-1]) * np.diff(t))
    assert released[i1] - released[i0] == pytest.approx(integral, rel=0.01)
    # And the whole history conserves energy to solver precision.
    np.testing.assert_allclose(released, cooling.heat_lost_J_m2, rtol=1e-6, atol=1.0)
    # Radiation dominates at ~1000 °C: ≈ 126 kW/m² against ≈ 10 kW/m² convection.
    rad = 0.85 * STEFAN_BOLTZMANN_W_m2K4 * (1273.15**4 - 298.15**4)
    assert 110e3 < rad < 140e3


def test_hotter_ambient_and_lower_emissivity_cool_slower(cooling):
    t = np.array([60.0, 300.0, 900.0])
    base = cooling.surface_temp_C(t)
    warm = SurfaceCooling(C45, 1000.0, ambient_C=400.0, emissivity=0.85, max_time_s=900.0).surface_temp_C(t)
    dull = SurfaceCooling(C45, 1000.0, ambient_C=25.0, emissivity=0.6, max_time_s=900.0).surface_temp_C(t)
    assert np.all(warm > base) and np.all(dull > base)


def test_cooling_rejects_times_outside_table(cooling):
    with pytest.raises(ValueError, match="time since cut"):
        cooling.surface_temp_C(-1.0)
    with pytest.raises(ValueError, match="max_time_s"):
        cooling.surface_temp_C(1000.0)


# --- scale -------------------------------------------------------------------------------------


def test_scale_parabolic_and_arrhenius():
    x1 = scale.isothermal_scale_thickness_mm(1000.0, 100.0)
    x4 = scale.isothermal_scale_thickness_mm(1000.0, 400.0)
    assert x4 == pytest.approx(2 * x1)
    # ~70 µm after 100 s at 1000 °C (Stanley et al. 1950 K, FeO density 5.7 g/cm³).
    assert 0.04 < x1 < 0.12
    assert scale.isothermal_scale_thickness_mm(900.0, 100.0) < x1
    # ≈ 0.24 mm of scale on iron after 1 h at 900 °C.
    assert scale.isothermal_scale_thickness_mm(900.0, 3600.0) == pytest.approx(0.24, rel=0.1)


def test_scale_history_integrates_rate_constant():
    t = np.linspace(0, 200, 401)
    x = scale.scale_thickness_history_mm(t, np.full_like(t, 1000.0))
    np.testing.assert_allclose(x, scale.isothermal_scale_thickness_mm(1000.0, t), rtol=1e-9)
    cooling_hist = scale.scale_thickness_history_mm(t, np.linspace(1000.0, 900.0, t.size))
    assert np.all(np.diff(cooling_hist) > 0) and cooling_hist[-1] < x[-1]
    with pytest.raises(ValueError):
        scale.scale_thickness_history_mm(t[::-1], np.full_like(t, 1000.0))


# --- characters and indentation --------------------------------------------------------------


def test_stroke_lengths():
    assert set(STROKE_LENGTH_PER_HEIGHT) == set(ALPHABET)
    assert stroke_length_mm("1", 15.0) < stroke_length_mm("8", 15.0)
    assert stroke_length_mm("I", 10.0) == pytest.approx(10.0)
    for bad in ("a", "-", "", "12"):
        with pytest.raises(ValueError, match="unknown character"):
            stroke_length_mm(bad, 15.0)
    idx = char_indices(["AB12", "ZZ09"])
    assert idx.shape == (2, 4) and ALPHABET[idx[1, 0]] == "Z"
    np.testing.assert_array_equal(char_indices(np.array([list("AB12"), list("ZZ09")])), idx)
    with pytest.raises(ValueError, match="unknown character 'b'"):
        char_indices(["AB12", "Zb09"])
    with pytest.raises(ValueError, match="same length"):
        char_indices(["AB12", "ZZ0"])


def test_closed_form_force_balance_round_trip():
    h = np.array([0.2, 1.0, 2.5])
    F = force_for_depth_kN(h, 120.0, 36.0, 0.3, 45.0)
    np.testing.assert_allclose(depth_for_flow_stress_mm(F, 120.0, 36.0, 0.3, 45.0), h)
    # The land alone carries a small force: no plastic indentation.
    assert depth_for_flow_stress_mm(1.0, 120.0, 36.0, 0.3, 45.0) == 0.0
    assert representative_strain(45.0) == pytest.approx(0.2)


def test_rate_dependent_depth_is_converged():
    h, sigma, rate = indentation_depth_mm(C45, np.array([[20.0], [50.0]]), np.array([[20.0, 36.0, 60.0]]),
                                          0.3, 1100.0, punch_speed_mm_s=50.0)
    assert h.shape == (2, 3) and np.all(h > 0)
    np.testing.assert_allclose(rate, 50.0 / np.maximum(h, MIN_RATE_DEPTH_MM))
    np.testing.assert_allclose(sigma, hensel_spittel_MPa(C45, 1100.0, 0.2, rate))
    np.testing.assert_allclose(force_for_depth_kN(h, sigma, np.array([20.0, 36.0, 60.0]), 0.3, 45.0),
                               np.broadcast_to([[20.0], [50.0]], h.shape), rtol=1e-6)


def test_depth_is_unique_and_monotone_in_force_for_worn_lands():
    F = np.linspace(0.0, 80.0, 81)[:, None]
    for T in (850.0, 1100.0, 1250.0):
        h, sigma, _ = indentation_depth_mm(C45, F, 36.0, np.array([[0.3, 1.5, 2.0]]), T)
        assert np.all(np.diff(h, axis=0) >= 0)
        ok = h > 0
        np.testing.assert_allclose(force_for_depth_kN(h, sigma, 36.0, np.array([[0.3, 1.5, 2.0]]), 45.0)[ok],
                                   np.broadcast_to(F, h.shape)[ok], rtol=1e-9)


def test_depth_responds_to_force_temperature_land_and_stroke():
    def depth(F=50.0, T=1100.0, w=0.3, L=36.0):
        return float(indentation_depth_mm(C45, F, L, w, T)[0])
    base = depth()
    assert 1.0 < base < 2.0
    assert depth(F=25.0) < base < depth(F=75.0)
    assert depth(T=950.0) < base < depth(T=1200.0)
    assert depth(w=1.5) < base
    assert depth(L=60.0) < base < depth(L=18.0)


def test_tilted_depth_profile():
    # No tilt: the flat depth everywhere.
    np.testing.assert_allclose(tilted_depths_mm(1.2, 0.0, 15.0, 0.3), (1.2, 1.2, 1.0))
    # Small tilt, full contact: mean unchanged, deepest point h + (e/2)·tanα.
    mean, deep, contact = tilted_depths_mm(1.2, 2.0, 15.0, 0.3)
    assert mean == pytest.approx(1.2) and contact == 1.0
    assert deep == pytest.approx(1.2 + 7.5 * np.tan(np.deg2rad(2.0)))
    # Large tilt: partial contact satisfying the tilted force balance.
    h, e, w, a = 0.3, 15.0, 0.3, np.tan(np.deg2rad(5.0))
    mean, deep, contact = tilted_depths_mm(h, 5.0, e, w)
    ell = contact * e
    assert 0 < contact < 1
    assert w * ell + a * ell**2 == pytest.approx(e * (w + 2 * h))
    assert deep == pytest.approx(ell * a)
    # Continuous at the full/partial boundary.
    h_b = 0.5 * e * a
    below = tilted_depths_mm(h_b * (1 - 1e-9), 5.0, e, w)
    above = tilted_depths_mm(h_b * (1 + 1e-9), 5.0, e, w)
    np.testing.assert_allclose(below, above, rtol=1e-6)


# --- visibility --------------------------------------------------------------------------------


def test_classification_rules():
    codes, vis = visibility.classify(np.array([0.0, 0.7, 1.0, 1.0, 0.9]), np.array([0.0, 0.0, 0.3, 0.1, 0.0]))
    assert [visibility.VISIBILITY[c] for c in codes] == ["poor", "partial", "partial", "well", "well"]
    np.testing.assert_allclose(vis, [0.0, 0.7, 0.7, 0.9, 0.9])
    assert codes.dtype == np.int8


def test_tilt_visible_fraction():
    # Flat face: all or nothing around the readable depth.
    f = visibility.tilt_visible_fraction(np.array([0.5, 0.2]), 0.0, 0.0, 15.0, 0.3)
    np.testing.assert_array_equal(f, [1.0, 0.0])
    # Tilted: the depth falls 15·tan α across the glyph; the share above 0.3 mm is linear.
    drop = 15.0 * np.tan(np.deg2rad(2.0))
    f = visibility.tilt_visible_fraction(0.3 + 0.25 * drop, 0.0, 2.0, 15.0, 0.3)
    assert f == pytest.approx(0.25)
    # Scale hides x·(1 + 1/sin θ): 2.414·x at 45°.
    assert visibility.scale_hidden_depth_mm(0.1) == pytest.approx(0.1 * (1 + np.sqrt(2)))


def test_occlusion_rises_with_scale_and_uses_fixed_draws():
    p = visibility.occlusion_probability(np.array([0.0, 0.1, 0.2, 0.4]))
    assert p[0] == pytest.approx(visibility.OCCLUSION_BASE_PROBABILITY) and np.all(np.diff(p) > 0)
    rng_a, rng_b = np.random.default_rng(3), np.random.default_rng(3)
    thin = visibility.draw_occlusion(np.full(2000, 0.05), 11, rng_a)
    thick = visibility.draw_occlusion(np.full(2000, 0.3), 11, rng_b)
    assert np.mean(thick > 0) > 3 * np.mean(thin > 0)
    # Common random numbers: both generators are in the same state afterwards,
    # and every character occluded on the thin face is occluded on the thick one.
    assert rng_a.random() == rng_b.random()
    assert np.all(thick[thin > 0] == thin[thin > 0])
    with pytest.raises(ValueError, match="Generator"):
        visibility.draw_occlusion(np.zeros(3), 11, 42)


def test_cooling_table_interpolates_single_solves():
    from physics.billet.surface_cooling import SurfaceCoolingTable
    table = SurfaceCoolingTable(C45, np.arange(900.0, 1301.0, 25.0), max_time_s=900.0)
    t = np.array([5.0, 60.0, 300.0, 900.0])
    for T0 in (1000.0, 1112.5, 1262.0):
        single = SurfaceCooling(C45, T0, max_time_s=900.0).surface_temp_C(t)
        np.testing.assert_allclose(table.surface_temp_C(t, T0), single, atol=0.2)
    with pytest.raises(ValueError, match="face temperature at the cut"):
        table.surface_temp_C(60.0, 1400.0)
