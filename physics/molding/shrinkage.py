"""Volumetric shrinkage and part weight from the state at gate sealing.

Once the gate seals the part's mass is fixed: m = V_cav / v(T_seal, p_seal)
(Tait). It then cools to room temperature at atmospheric pressure, so the
volumetric shrinkage is

    S_v = 1 − v(T_room, 0) / v(T_seal, p_seal)

(the definition used by Moldflow's "volumetric shrinkage at ejection"
result, here evaluated at room temperature). Sink marks appear where the
shrinkage is not compensated: S_v above a threshold.
"""
from __future__ import annotations

import numpy as np

from physics.molding import pvt
from physics.molding.materials import Tait2Domain

ROOM_TEMP_C = 23.0


def volumetric_shrinkage(t: Tait2Domain, mass_kg, cavity_volume_m3, glass_mass_fraction=0.0):
    """S_v from the part's mass (fraction, 0..1)."""
    v_seal = cavity_volume_m3 / np.asarray(mass_kg)
    v_room = pvt.specific_volume_m3_kg(t, ROOM_TEMP_C, 0.0, glass_mass_fraction)
    return 1.0 - v_room / v_seal
