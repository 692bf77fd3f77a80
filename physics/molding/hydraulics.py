"""Pressure drop of a shear-thinning melt in a slit and in a round channel.

For a power-law fluid the true wall shear rate follows from the Newtonian
(apparent) one by the Rabinowitsch correction, and evaluating the viscosity
there makes the Newtonian pressure-drop formulas exact (Tadmor & Gogos,
*Principles of Polymer Processing*, 2nd ed., §12.1; Macosko, *Rheology*, §6.2):

slit  (W × h, length L):  γ̇_w = (2n+1)/(3n) · 6Q/(W h²),   Δp = 12·η(γ̇_w)·Q·L / (W h³) · (2n+1)/(3n)
round (radius R, length L): γ̇_w = (3n+1)/(4n) · 4Q/(πR³),  Δp = 8·η(γ̇_w)·Q·L / (πR⁴) · (3n+1)/(4n)

n is the Cross-WLF power-law index (the shear-thinning slope at high rates).
"""
from __future__ import annotations

import numpy as np

from physics.molding.materials import CrossWLF
from physics.molding.viscosity import viscosity_Pa_s


def slit_pressure_drop_Pa(c: CrossWLF, Q_m3_s, width_m, gap_m, length_m, temp_C, lot_factor=1.0):
    """Δp over a slit of the given (possibly frozen-narrowed) gap."""
    corr = (2.0 * c.n + 1.0) / (3.0 * c.n)
    gap = np.maximum(gap_m, 1e-6)
    gdot = corr * 6.0 * Q_m3_s / (width_m * gap**2)
    eta = viscosity_Pa_s(c, temp_C, gdot, 0.0, lot_factor)
    return 12.0 * eta * Q_m3_s * length_m / (width_m * gap**3) * corr


def round_pressure_drop_Pa(c: CrossWLF, Q_m3_s, radius_m, length_m, temp_C, lot_factor=1.0):
    """Δp over a round channel (nozzle, sprue, runner)."""
    corr = (3.0 * c.n + 1.0) / (4.0 * c.n)
    gdot = corr * 4.0 * Q_m3_s / (np.pi * radius_m**3)
    eta = viscosity_Pa_s(c, temp_C, gdot, 0.0, lot_factor)
    return 8.0 * eta * Q_m3_s * length_m / (np.pi * radius_m**4) * corr
