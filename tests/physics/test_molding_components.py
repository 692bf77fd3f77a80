"""Component physics against the published checks in shared/PHYSICS_REFERENCES.md."""
import numpy as np
import pytest

from physics.molding import cooling, pvt, viscosity
from physics.molding.clamp import critical_flash_gap_mm, parting_gap_mm
from physics.molding.hydraulics import slit_pressure_drop_Pa
from physics.molding.materials import ABS_F332, HDPE_SABIC, PP_579S, CrossWLF, get_material
from physics.molding.venting import trapped_air_temp_C, vent_capacity_m3_s


def test_zero_shear_viscosity_at_230C_matches_reference():
    # §1: η0 at 230 °C ≈ 455 Pa·s (PP 579S), ≈ 5 400 Pa·s (ABS F332); refits within |Δln η0| ≤ 0.1.
    assert viscosity.zero_shear_viscosity_Pa_s(PP_579S.viscosity, 230.0) == pytest.approx(455, rel=0.05)
    assert viscosity.zero_shear_viscosity_Pa_s(ABS_F332.viscosity, 230.0) == pytest.approx(5400, rel=0.12)


def test_viscosity_shear_thinning_and_temperature():
    c = PP_579S.viscosity
    eta = viscosity.viscosity_Pa_s(c, 230.0, np.array([1.0, 100.0, 1e4]))
    assert np.all(np.diff(eta) < 0)
    assert viscosity.viscosity_Pa_s(c, 250.0, 100.0) < viscosity.viscosity_Pa_s(c, 210.0, 100.0)
    # High-rate slope approaches the power-law index n.
    e1, e2 = viscosity.viscosity_Pa_s(c, 230.0, np.array([1e5, 1e6]))
    assert np.log(e2 / e1) / np.log(10) == pytest.approx(c.n - 1, abs=0.02)


def test_tait_reference_checks():
    # §2 checks: ABS v(0 MPa) = 1.079 / 0.952 cm³/g at 300 / 10 °C; PP 1.352 / 1.068.
    v = pvt.specific_volume_m3_kg(ABS_F332.pvt, np.array([300.0, 10.0]), 0.0) * 1e3
    np.testing.assert_allclose(v, [1.079, 0.952], atol=0.002)
    v = pvt.specific_volume_m3_kg(PP_579S.pvt, np.array([300.0, 10.0]), 0.0) * 1e3
    np.testing.assert_allclose(v, [1.352, 1.068], atol=0.002)
    # Tt(200 MPa) = 159 °C for ABS.
    assert pvt.transition_temp_C(ABS_F332.pvt, 200e6) == pytest.approx(159.0, abs=1.0)


@pytest.mark.parametrize("mat", [PP_579S, ABS_F332, HDPE_SABIC])
@pytest.mark.parametrize("T", [60.0, 150.0, 240.0])
def test_tait_inversion_round_trip(mat, T):
    p = np.array([1e6, 30e6, 120e6])
    v = pvt.specific_volume_m3_kg(mat.pvt, T, p, 0.2)
    np.testing.assert_allclose(pvt.pressure_for_specific_volume_Pa(mat.pvt, T, v, 0.2), p, rtol=1e-3)


def test_glass_fibre_rule_of_mixtures():
    # §3: PP + 30 wt % GF at room temperature ≈ 1.124 g/cm³ (from ρ_PP = 0.905); with this PVT ~1.15.
    rho0 = pvt.density_kg_m3(PP_579S.pvt, 23.0, 0.0, 0.0)
    rho30 = pvt.density_kg_m3(PP_579S.pvt, 23.0, 0.0, 0.3)
    expected = 1.0 / (0.3 / 2580.0 + 0.7 / rho0)
    assert rho30 == pytest.approx(expected)
    assert rho30 > rho0


def test_cooling_time_worked_example():
    # §4: 2 mm wall, PP 579S (240/40/90 °C) → 5.1 s with α = 9.3e-8.
    assert cooling.cooling_time_s(0.002, 9.3e-8, 240.0, 40.0, 90.0) == pytest.approx(5.1, abs=0.05)


def test_series_mean_matches_first_term_late_and_starts_at_one():
    a, s = 9.3e-8, 0.002
    assert cooling.mean_temperature_ratio(0.0, s, a) == pytest.approx(1.0)
    t = 8.0
    first = 8 / np.pi**2 * np.exp(-np.pi**2 * a * t / s**2)
    assert cooling.mean_temperature_ratio(t, s, a) == pytest.approx(first, rel=1e-3)


def test_molten_fraction_shrinks_to_zero():
    t = np.linspace(0, 10, 50)
    f = cooling.molten_fraction(t, 0.0015, 9.3e-8, 230.0, 40.0, 110.0)
    assert np.all(np.diff(f) <= 1e-12) and f[0] > 0.9 and f[-1] == 0.0


def test_slit_pressure_drop_newtonian_limit():
    # n = 1: the Rabinowitsch factor is 1 and Δp = 12 η Q L / (W h³) exactly
    # (Cross with n = 1 gives η = η0/2 at every rate).
    c = CrossWLF(n=1.0, tau_star_Pa=1e12, D1_Pa_s=100.0, D2_K=0.0, D3_K_per_Pa=0.0, A1=0.0, A2_tilde_K=51.6)
    eta = viscosity.viscosity_Pa_s(c, 200.0, 1.0)
    assert eta == pytest.approx(50.0)
    dp = slit_pressure_drop_Pa(c, 1e-5, 0.05, 0.002, 0.1, 200.0)
    assert dp == pytest.approx(12 * eta * 1e-5 * 0.1 / (0.05 * 0.002**3))


def test_vent_capacity_and_trapped_air():
    cap = vent_capacity_m3_s(4 * 0.02e-3 * 6e-3, 40.0)
    assert 3e-5 < cap < 1e-4
    assert trapped_air_temp_C(0.5 * cap, 4 * 0.02e-3 * 6e-3, 40.0, 0.002, 50e6) == pytest.approx(40.0)
    hot = trapped_air_temp_C(3 * cap, 4 * 0.02e-3 * 6e-3, 40.0, 0.002, 50e6)
    assert hot > 300.0


def test_flash_gap_scaling():
    assert parting_gap_mm(500.0, 600.0, 5000.0, 0.004, 0.0) == pytest.approx(0.004)
    assert parting_gap_mm(700.0, 600.0, 5000.0, 0.004, 0.001) == pytest.approx(0.025)
    g = critical_flash_gap_mm(np.array([300.0, 4800.0]), 0.02, 300.0)
    np.testing.assert_allclose(g, [0.02, 0.01])


def test_unknown_grade_lists_known():
    with pytest.raises(KeyError, match="PP_579S"):
        get_material("PP_XYZ")
