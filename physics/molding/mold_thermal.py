"""Mold thermal balance: how far the cavity surface runs above the coolant.

In steady production every shot brings the heat it gives up between
injection and ejection, E = m·[cp·(T_melt − T_eject) + (1 − w)·ΔH_f]
(sensible heat plus the latent heat of the crystallising polymer fraction),
and the coolant removes it through the steel between channel and cavity.
With a mold-to-coolant conductance UA the time-averaged surface rise is

    ΔT_surface = E / (t_cycle · UA)

(a lumped steady-state heat balance; Menges/Michaeli/Mohren, *How to Make
Injection Molds*, ch. on mold cooling, treat the mold the same way). Longer
cycles therefore run a cooler mold, which is how the cooling time reaches
the part weight.

Default UA [D]: water channels (Dittus-Boelter film coefficient ~5,000
W/m²K over ~0.04 m² of channel wall, ~200 W/K) in series with 15 mm of tool
steel (k ~ 30 W/mK over ~0.06 m², ~120 W/K) give ~75-85 W/K for a mold of
this size; it is a calibration parameter (`mold.cooling_conductance_W_K`).
"""
from __future__ import annotations

import numpy as np


def heat_per_shot_J(shot_mass_kg, cp_J_kgK, melt_C, eject_C, latent_J_kg, glass_mass_fraction=0.0):
    sensible = np.asarray(cp_J_kgK) * np.maximum(np.asarray(melt_C) - eject_C, 0.0)
    return np.asarray(shot_mass_kg) * (sensible + (1.0 - glass_mass_fraction) * latent_J_kg)


def surface_rise_K(heat_per_shot_J, cycle_time_s, conductance_W_K):
    return np.asarray(heat_per_shot_J) / (np.maximum(cycle_time_s, 1e-3) * conductance_W_K)
