"""Warpage of a plate from asymmetric cooling and hot ejection.

A plate whose two faces shrink differently bends like a bimetal strip. A
through-thickness temperature difference ΔT frozen in at solidification
gives the curvature κ = α_lin·ΔT/h (Timoshenko's bimetal/thermal-bending
result for a free plate), so a plate of length L bows by δ = κ·L²/8.

Two sources of ΔT:

* the mold halves run at different temperatures (ΔT_halves): the part
  inherits it, reduced by the ratio ``HALF_DIFFERENCE_INHERITED``
  [D assumption, open to calibration];
* the part is ejected while still hot: everything it still has to shrink
  from its core temperature at ejection down to room temperature happens
  unconstrained, and a fraction ``POST_EJECTION_ASYMMETRY`` of that
  temperature drop acts asymmetrically (the ejector side cools on the
  pins, the other in air) [D assumption]; above the grade's ejection
  temperature the part is still soft and a larger fraction,
  ``HOT_EJECTION_ASYMMETRY``, of the excess acts [D assumption].
  Longer cooling therefore always lowers warpage, steeply once the part
  comes out above its ejection temperature.

α_lin = ⅓·(1/v)·∂v/∂T of the solid Tait domain (b2s / (3·b1s)).
"""
from __future__ import annotations

import numpy as np

from physics.molding.materials import Tait2Domain

HALF_DIFFERENCE_INHERITED = 0.2
POST_EJECTION_ASYMMETRY = 0.01
HOT_EJECTION_ASYMMETRY = 0.15
ROOM_TEMP_C = 23.0


def linear_expansion_1_K(t: Tait2Domain, glass_mass_fraction=0.0):
    """Linear thermal expansion of the solid; glass fibres restrain it (rule of mixtures on volume)."""
    return t.b2s / (3.0 * t.b1s) * (1.0 - np.asarray(glass_mass_fraction))


def warpage_mm(t: Tait2Domain, length_m, thickness_m, half_difference_K, core_eject_C, eject_limit_C,
               glass_mass_fraction=0.0):
    a = linear_expansion_1_K(t, glass_mass_fraction)
    core = np.asarray(core_eject_C)
    dT = (HALF_DIFFERENCE_INHERITED * np.abs(half_difference_K)
          + POST_EJECTION_ASYMMETRY * np.maximum(core - ROOM_TEMP_C, 0.0)
          + HOT_EJECTION_ASYMMETRY * np.maximum(core - eject_limit_C, 0.0))
    kappa = a * dT / thickness_m
    return kappa * length_m**2 / 8.0 * 1e3
