"""Clamp force against the separating force: parting-line gap and flash.

Separating force F_sep = p̄_cav · A_proj (mean cavity pressure times the
projected area of cavity and runner). The parting line opens by the part
of F_sep that exceeds the clamp force, over the mold/platen stiffness,
on top of the gap that wear has already opened:

    g = g_new + g_wear + max(0, F_sep − F_clamp)/k_mold

Critical gap for visible flash. Melt entering a gap g under pressure p
freezes after t ~ g²/α (conduction across the gap); in that time it
travels ℓ ~ (g²·p/(12·η·ℓ))·t, so ℓ² ∝ g⁴·p and a flash of fixed visible
length needs g ∝ p^(−1/4) [D: scaling from slit flow and conduction]:

    g_crit(p) = g_ref · (p_ref / p)^(1/4)

with g_ref the material's vent-depth guideline at p_ref
(:attr:`physics.molding.materials.Material.flash_gap_mm`).
"""
from __future__ import annotations

import numpy as np


def separating_force_kN(mean_cavity_pressure_bar, projected_area_m2):
    return np.asarray(mean_cavity_pressure_bar) * 1e5 * projected_area_m2 / 1e3


def parting_gap_mm(separating_force_kN, clamp_force_kN, stiffness_kN_per_mm, new_gap_mm, wear_gap_mm):
    excess = np.maximum(np.asarray(separating_force_kN) - clamp_force_kN, 0.0)
    return new_gap_mm + wear_gap_mm + excess / stiffness_kN_per_mm


def critical_flash_gap_mm(peak_pressure_bar, ref_gap_mm, ref_pressure_bar):
    p = np.maximum(np.asarray(peak_pressure_bar), 1.0)
    return ref_gap_mm * (ref_pressure_bar / p) ** 0.25
