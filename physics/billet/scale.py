"""Oxide scale on the stamped face: parabolic growth along the cooling history.

Once the torch has exposed fresh steel, iron oxidises in air; above ≈ 570 °C
the scale is mostly wüstite (FeO) and its growth is limited by the outward
diffusion of iron cations through it (Wagner), so the mass gain W of oxygen
per unit area follows the parabolic law

    W² = K(T)·t,        K(T) = K0·exp(−Q / (R·T)).

Constants [P, via abstract]: Stanley, Hoene & Huntoon, "Oxidation of pure
iron", Trans. ASM (1950), No. 5 (abstract 3262 in the U.S. Bureau of Mines
literature abstracts, fischer-tropsch.org/Bureau_of_Mines/abs_of_lit/lit-abs/3200/lit3262.htm):
electrolytic iron in air at 500-900 °C, parabolic, K = 0.37·e^(−33 000/RT)
with Q in cal/mol (R = 1.987 cal/(mol·K), Q = 138 kJ/mol).
The abstract does not state the units of K; we read it as g²·cm⁻⁴·s⁻¹ of
oxygen gain, the only reading that gives the familiar magnitude (≈ 0.25 mm
of scale on iron after 1 h at 900 °C) — an inference, flagged as such.
Above 900 °C (most of our range) the law is extrapolated; carbon steels
oxidise somewhat more slowly than pure iron (CO formation at the interface),
so the values here are an upper estimate within about a factor of two.

Mass gain → thickness (for a pure FeO scale):
    x = W / (f_O·ρ_FeO),  f_O = M_O/M_FeO = 15.999/71.844 = 0.2227 (atomic masses),
    ρ_FeO = 5.7 g/cm³ (wüstite; CRC Handbook of Chemistry and Physics,
    "Physical constants of inorganic compounds").
So x² = k_x·t with k_x = K/(f_O·ρ_FeO)²: at 1000 °C k_x ≈ 4.9e-11 m²/s, i.e.
≈ 70 µm after 100 s.

Along a cooling history T(t) the parabolic law integrates as (the rate
depends only on the current thickness and temperature, dx/dt = k_x/(2x)):
    x(t)² = x0² + ∫₀ᵗ k_x(T(t')) dt'.
"""
from __future__ import annotations

import numpy as np

#: Stanley, Hoene & Huntoon (1950): pre-exponential factor, g²·cm⁻⁴·s⁻¹ (units inferred, see docstring).
STANLEY_K0_G2_CM4_S = 0.37
#: Same source: activation energy 33 000 cal/mol.
STANLEY_Q_CAL_MOL = 33_000.0
#: Gas constant in cal/(mol·K) (CODATA R = 8.314462618 J/(mol·K) / 4.184 J/cal).
R_CAL_MOLK = 8.314462618 / 4.184
#: Oxygen mass fraction of FeO from atomic masses (IUPAC: O 15.999, Fe 55.845).
O_MASS_FRACTION_FEO = 15.999 / (55.845 + 15.999)
#: Density of wüstite, g/cm³ (CRC Handbook).
FEO_DENSITY_G_CM3 = 5.7


def oxygen_rate_constant_g2_cm4_s(temp_C):
    """Parabolic rate constant K of oxygen mass gain, g²·cm⁻⁴·s⁻¹ (Stanley et al. 1950)."""
    T = np.asarray(temp_C, dtype=float) + 273.15
    return STANLEY_K0_G2_CM4_S * np.exp(-STANLEY_Q_CAL_MOL / (R_CAL_MOLK * T))


def parabolic_rate_constant_m2_s(temp_C):
    """Thickness rate constant k_x (x² = k_x·t) of an FeO scale, m²/s."""
    kx_cm2_s = oxygen_rate_constant_g2_cm4_s(temp_C) / (O_MASS_FRACTION_FEO * FEO_DENSITY_G_CM3) ** 2
    return kx_cm2_s * 1e-4


def isothermal_scale_thickness_mm(temp_C, time_s, initial_mm=0.0):
    """x = √(x0² + k_x(T)·t) in mm at constant temperature."""
    t = np.asarray(time_s, dtype=float)
    if np.any(t < 0):
        raise ValueError("time_s must be >= 0")
    x0_m = np.asarray(initial_mm, dtype=float) * 1e-3
    return np.sqrt(x0_m**2 + parabolic_rate_constant_m2_s(temp_C) * t) * 1e3


def scale_thickness_history_mm(times_s, temps_C, initial_mm=0.0):
    """Scale thickness in mm at each point of a temperature history T(t).

    ``times_s`` (n_t,) increasing, starting at the cut; ``temps_C`` the face
    temperature there, (n_t,) or (n_t, K) for K histories on the same times.
    x² = x0² + ∫ k_x(T) dt by the trapezoidal rule.
    """
    t = np.asarray(times_s, dtype=float)
    T = np.asarray(temps_C, dtype=float)
    if t.ndim != 1 or T.shape[:1] != t.shape or T.ndim > 2:
        raise ValueError("times_s must be 1-D and temps_C (n_t,) or (n_t, K) on the same times")
    if np.any(np.diff(t) <= 0):
        raise ValueError("times_s must be strictly increasing")
    k = parabolic_rate_constant_m2_s(T)
    dt = np.diff(t).reshape((-1,) + (1,) * (T.ndim - 1))
    steps = 0.5 * (k[1:] + k[:-1]) * dt
    integral = np.concatenate([np.zeros((1,) + T.shape[1:]), np.cumsum(steps, axis=0)])
    x0_m = float(initial_mm) * 1e-3
    return np.sqrt(x0_m**2 + integral) * 1e3
