"""Trapped air ahead of the flow front: the diesel effect behind burn marks.

Air leaves the cavity through the vents. At choked (sonic) outflow the
mass flow is ṁ = C_d·A·p·√(γ/(R·T))·(2/(γ+1))^((γ+1)/(2(γ−1)))
(isentropic nozzle flow; any gas-dynamics text, e.g. Anderson, *Modern
Compressible Flow*, §5.4). Divided by the air density p/(R·T) this is a
volumetric capacity independent of the pressure:

    Q_vent = C_d·A·√(γ·R·T)·(2/(γ+1))^((γ+1)/(2(γ−1)))

While the melt fills at Q, the air volume V_a shrinks as V_a0 − Q·t and
its mass leaves at ṁ ∝ p, which integrates (isothermal) to
p/p0 = (V_a/V_a0)^(λ−1), λ = Q_vent/Q [D: derived here]. If λ ≥ 1 the
vents keep up; if λ < 1 the pressure rises as the last air pocket
shrinks to the fraction ε of the cavity that is filled last (the vent
land region). The pocket is compressed in a few milliseconds, close to
adiabatically: T_air = T0·(p/p0)^((γ−1)/γ). Burn marks appear when
T_air exceeds the melt's ignition temperature.

Constants: air γ = 1.4, R = 287.05 J/(kg·K); discharge coefficient of a
sharp-edged slot C_d = 0.6 (standard orifice value).
"""
from __future__ import annotations

import numpy as np

GAMMA_AIR = 1.4
R_AIR = 287.05
DISCHARGE_COEF = 0.6
_CHOKE = (2.0 / (GAMMA_AIR + 1.0)) ** ((GAMMA_AIR + 1.0) / (2.0 * (GAMMA_AIR - 1.0)))


def vent_capacity_m3_s(vent_area_m2, air_temp_C):
    T = np.asarray(air_temp_C) + 273.15
    return DISCHARGE_COEF * np.asarray(vent_area_m2) * np.sqrt(GAMMA_AIR * R_AIR * T) * _CHOKE


def trapped_air_temp_C(fill_rate_m3_s, vent_area_m2, air_temp_C, last_fill_fraction, melt_pressure_Pa):
    """Peak temperature of the last air pocket, °C.

    The pocket pressure cannot exceed the melt pressure that compresses it.
    """
    lam = vent_capacity_m3_s(vent_area_m2, air_temp_C) / np.maximum(fill_rate_m3_s, 1e-12)
    ratio = np.where(lam < 1.0, np.asarray(last_fill_fraction) ** (lam - 1.0), 1.0)
    ratio = np.minimum(ratio, np.maximum(np.asarray(melt_pressure_Pa) / 1e5 + 1.0, 1.0))
    T0 = np.asarray(air_temp_C) + 273.15
    return T0 * ratio ** ((GAMMA_AIR - 1.0) / GAMMA_AIR) - 273.15
