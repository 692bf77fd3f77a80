"""Cross-WLF melt viscosity.

η0(T, p) = D1·exp[−A1·(T − T*) / (A2 + T − T*)],  T* = D2 + D3·p,  A2 = Ã2 + D3·p
η(T, γ̇, p) = η0 / (1 + (η0·γ̇ / τ*)^(1−n))

Source of the model form: Autodesk Moldflow help, "Cross-WLF viscosity
model" (see shared/PHYSICS_REFERENCES.md §1). Coefficients per grade are in
:mod:`physics.molding.materials`. Below the no-flow temperature the WLF term
diverges; callers clamp temperatures at the no-flow temperature.
"""
from __future__ import annotations

import numpy as np

from physics.molding.materials import CrossWLF


def zero_shear_viscosity_Pa_s(c: CrossWLF, temp_C, pressure_Pa=0.0):
    """Zero-shear viscosity η0 in Pa·s (array-friendly)."""
    T = np.asarray(temp_C, dtype=float) + 273.15
    t_star = c.D2_K + c.D3_K_per_Pa * np.asarray(pressure_Pa, dtype=float)
    a2 = c.A2_tilde_K + c.D3_K_per_Pa * np.asarray(pressure_Pa, dtype=float)
    dT = T - t_star
    # Keep the denominator positive: below T* − A2 the WLF form is undefined.
    denom = np.maximum(a2 + dT, 1.0)
    return c.D1_Pa_s * np.exp(-c.A1 * dT / denom)


def viscosity_Pa_s(c: CrossWLF, temp_C, shear_rate_1_s, pressure_Pa=0.0, lot_factor=1.0):
    """Cross-WLF shear viscosity in Pa·s.

    ``lot_factor`` multiplies η0 (lot-to-lot melt-flow-index variation: a lot
    with 10 % lower MFI has roughly a 10 % higher zero-shear viscosity).
    """
    eta0 = zero_shear_viscosity_Pa_s(c, temp_C, pressure_Pa) * np.asarray(lot_factor, dtype=float)
    gdot = np.maximum(np.asarray(shear_rate_1_s, dtype=float), 0.0)
    return eta0 / (1.0 + (eta0 * gdot / c.tau_star_Pa) ** (1.0 - c.n))
