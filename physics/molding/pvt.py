"""Two-domain Tait PVT: specific volume of a polymer as a function of p and T.

v(T, p) = v0(T)·[1 − C·ln(1 + p / B(T))] + vt(T, p),  C = 0.0894

Melt (T > Tt(p)):  v0 = b1m + b2m·(T − b5),  B = b3m·exp(−b4m·(T − b5)),  vt = 0
Solid (T ≤ Tt(p)): v0 = b1s + b2s·(T − b5),  B = b3s·exp(−b4s·(T − b5)),
                   vt = b7·exp(b8·(T − b5) − b9·p)
Transition:        Tt(p) = b5 + b6·p

Sources: Autodesk Moldflow help "2-domain Tait pvT model"; CRC Handbook,
"PVT relationship for polymer melts" (Wohlfarth) — shared/PHYSICS_REFERENCES.md §2.

Filled grades: the rule of mixtures on specific volume (volume additivity),
v_c = w_f / ρ_f + (1 − w_f)·v_polymer(T, p), with glass treated as
incompressible and of constant density (its thermal expansion, ~5e-6 1/K,
is two orders below the polymer's).
"""
from __future__ import annotations

import numpy as np

from physics.molding.materials import GLASS_DENSITY_KG_M3, Tait2Domain

TAIT_C = 0.0894  #: universal Tait constant (Moldflow help; CRC Handbook)


def transition_temp_C(t: Tait2Domain, pressure_Pa):
    """Tt(p) = b5 + b6·p, in °C."""
    return t.b5 + t.b6 * np.asarray(pressure_Pa, dtype=float) - 273.15


def polymer_specific_volume_m3_kg(t: Tait2Domain, temp_C, pressure_Pa):
    """Specific volume of the unfilled polymer, m³/kg."""
    T = np.asarray(temp_C, dtype=float) + 273.15
    p = np.maximum(np.asarray(pressure_Pa, dtype=float), 0.0)
    dT = T - t.b5
    melt = T > (t.b5 + t.b6 * p)
    v0 = np.where(melt, t.b1m + t.b2m * dT, t.b1s + t.b2s * dT)
    B = np.where(melt, t.b3m * np.exp(-t.b4m * dT), t.b3s * np.exp(-t.b4s * dT))
    vt = np.where(melt, 0.0, t.b7 * np.exp(t.b8 * dT - t.b9 * p))
    return v0 * (1.0 - TAIT_C * np.log1p(p / B)) + vt


def specific_volume_m3_kg(t: Tait2Domain, temp_C, pressure_Pa, glass_mass_fraction=0.0):
    """Specific volume of the (possibly glass-filled) compound, m³/kg."""
    w = np.asarray(glass_mass_fraction, dtype=float)
    return w / GLASS_DENSITY_KG_M3 + (1.0 - w) * polymer_specific_volume_m3_kg(t, temp_C, pressure_Pa)


def density_kg_m3(t: Tait2Domain, temp_C, pressure_Pa, glass_mass_fraction=0.0):
    """ρ = 1 / v, kg/m³."""
    return 1.0 / specific_volume_m3_kg(t, temp_C, pressure_Pa, glass_mass_fraction)


def pressure_for_specific_volume_Pa(t: Tait2Domain, temp_C, v_m3_kg, glass_mass_fraction=0.0, iterations=8,
                                    p_start_Pa=None):
    """Invert the Tait equation: the pressure at which the compound has specific volume v.

    Newton's method on g(p) = v(T, p) − v_target from p = 0, with the
    analytic slope ∂v/∂p = −C·v0/(B + p) − b9·vt. v(p) is convex and
    decreasing, so the tangent root never overshoots the true root and the
    iteration climbs to it monotonically (a fixed-point iteration on the
    solid-domain term vt oscillates for grades with a large b9, e.g. the
    HDPE card). From a warm start ``p_start_Pa`` to the right of the root
    the first step lands left of it and the climb continues from there, so
    a close warm start needs only a few iterations. Returns 0 where the
    requested volume exceeds the zero-pressure volume (the melt cannot be
    under tension in this model).
    """
    T = np.asarray(temp_C, dtype=float) + 273.15
    w = np.asarray(glass_mass_fraction, dtype=float)
    v_p = (np.asarray(v_m3_kg, dtype=float) - w / GLASS_DENSITY_KG_M3) / (1.0 - w)
    dT = T - t.b5
    shape = np.broadcast(T, v_p).shape
    p = np.zeros(shape) if p_start_Pa is None else np.broadcast_to(np.asarray(p_start_Pa, dtype=float), shape).copy()
    for _ in range(iterations):
        melt = T > (t.b5 + t.b6 * p)
        v0 = np.where(melt, t.b1m + t.b2m * dT, t.b1s + t.b2s * dT)
        B = np.where(melt, t.b3m * np.exp(-t.b4m * dT), t.b3s * np.exp(-t.b4s * dT))
        vt = np.where(melt, 0.0, t.b7 * np.exp(t.b8 * dT - t.b9 * p))
        g = v0 * (1.0 - TAIT_C * np.log1p(p / B)) + vt - v_p
        slope = -TAIT_C * v0 / (B + p) - t.b9 * vt
        p = np.maximum(p - g / slope, 0.0)
    return p


def compressibility_1_Pa(t: Tait2Domain, temp_C, pressure_Pa):
    """Isothermal melt compressibility κ = −(1/v)·∂v/∂p = C·v0 / (v·(B + p)) (melt domain)."""
    T = np.asarray(temp_C, dtype=float) + 273.15
    p = np.maximum(np.asarray(pressure_Pa, dtype=float), 0.0)
    dT = T - t.b5
    v0 = t.b1m + t.b2m * dT
    B = t.b3m * np.exp(-t.b4m * dT)
    v = v0 * (1.0 - TAIT_C * np.log1p(p / B))
    return TAIT_C * v0 / (v * (B + p))
