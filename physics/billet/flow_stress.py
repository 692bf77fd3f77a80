"""Hot flow stress of steel: the Hensel–Spittel ("Freiberg") law.

    σ_f = A · e^(m1·ϑ) · φ^m2 · e^(m4/φ) · (1+φ)^(m5·ϑ) · e^(m7·φ) · φ̇^(m8·ϑ)

with ϑ the temperature in °C, φ the true (logarithmic) strain, φ̇ the strain
rate in 1/s and A in MPa (form: shared/PHYSICS_REFERENCES.md §5; m3 = m6 =
m9 = 0 for the grades used here). Reading the factors:

* e^(m1·ϑ), m1 < 0: the material softens by about 0.27 %/K (C45) — the
  dominant effect for stamping: 200 K colder is ≈ 1.7× harder.
* φ^m2 · e^(m4/φ) · e^(m7·φ) · (1+φ)^(m5·ϑ): strain hardening, weaker at
  high temperature (m5 < 0) where dynamic recovery balances it.
* φ̇^(m8·ϑ): strain-rate sensitivity m = m8·ϑ, ≈ 0.15 at 1000 °C — hot steel
  is viscous; ten times faster is ≈ 40 % harder.

Like ``pyroll-freiberg-flow-stress`` (the [OSS] source of the coefficients),
0.1 is added to both φ and φ̇ before evaluation, which keeps the law finite
at φ → 0 (e^(m4/φ)) and φ̇ → 0. With that shift the function reproduces the
table of PHYSICS_REFERENCES §5 (C45, φ = 0.1: 151/185/241 MPa at 800 °C for
φ̇ = 0.1/1/10 s⁻¹, 80/103/144 at 1000 °C, 43/58/86 at 1200 °C).

The coefficient files give no validity range. Hot-rolling data of this kind
usually span roughly 800-1250 °C and 0.1-100 s⁻¹; the stamping model stays
inside that (face 850-1200 °C, φ̇ ≈ 10-100 s⁻¹). Outside it the law is an
extrapolation and is evaluated without clipping.
"""
from __future__ import annotations

import numpy as np

from physics.billet.steel import SteelGrade

#: Offset added to strain and strain rate before evaluation, as pyroll does [OSS].
HS_OFFSET = 0.1


def hensel_spittel_MPa(steel: SteelGrade, temp_C, strain, strain_rate_1_s):
    """Flow stress σ_f in MPa (array-friendly, broadcasting).

    ``temp_C`` in °C, ``strain`` the true strain φ ≥ 0, ``strain_rate_1_s``
    the true strain rate φ̇ ≥ 0 in 1/s. Negative strain or rate raise a
    ValueError (the law is defined for their magnitudes only).
    """
    T = np.asarray(temp_C, dtype=float)
    phi = np.asarray(strain, dtype=float)
    rate = np.asarray(strain_rate_1_s, dtype=float)
    if np.any(phi < 0) or np.any(rate < 0):
        raise ValueError("hensel_spittel_MPa: strain and strain rate must be >= 0 (pass magnitudes)")
    p = phi + HS_OFFSET
    r = rate + HS_OFFSET
    # Evaluate in log space: one exp instead of four powers.
    log_sigma = (np.log(steel.A_MPa) + steel.m1 * T + steel.m2 * np.log(p) + steel.m4 / p
                 + steel.m5 * T * np.log1p(p) + steel.m7 * p + steel.m8 * T * np.log(r))
    return np.exp(log_sigma)


def strain_rate_sensitivity(steel: SteelGrade, temp_C):
    """m = ∂ln σ / ∂ln φ̇ = m8·ϑ (exact for φ̇ ≫ 0.1 s⁻¹): ≈ 0.15 for C45 at 1000 °C."""
    return steel.m8 * np.asarray(temp_C, dtype=float)
