"""Cavity, gate, runner and screw geometry of the reduced-order molding model.

The cavity is a rectangular plate (strip) of flow length L, width W and
wall thickness h, filled from a film gate at one end: the flow is 1-D in x
(Hele-Shaw in a slit), which is the textbook reduced-order cavity (Tadmor &
Gogos, *Principles of Polymer Processing*, ch. 13). The gate is a short slit
(W_g × h_g × L_g); nozzle, sprue and runner are one round channel (d_r, L_r).
"""
from __future__ import annotations

from dataclasses import dataclass
import math


@dataclass(frozen=True)
class MoldGeometry:
    cavity_length_m: float
    cavity_width_m: float
    wall_thickness_m: float
    gate_thickness_m: float
    gate_width_m: float
    gate_length_m: float
    runner_diameter_m: float
    runner_length_m: float
    runner_projected_area_m2: float

    @property
    def cavity_volume_m3(self) -> float:
        return self.cavity_length_m * self.cavity_width_m * self.wall_thickness_m

    @property
    def runner_volume_m3(self) -> float:
        return math.pi * self.runner_diameter_m**2 / 4.0 * self.runner_length_m

    @property
    def projected_area_m2(self) -> float:
        """Area the cavity pressure acts on to open the mold (cavity + runner)."""
        return self.cavity_length_m * self.cavity_width_m + self.runner_projected_area_m2

    @classmethod
    def from_config(cls, mold: dict) -> "MoldGeometry":
        mm = 1e-3
        return cls(
            cavity_length_m=mold["cavity_length_mm"] * mm,
            cavity_width_m=mold["cavity_width_mm"] * mm,
            wall_thickness_m=mold["wall_thickness_mm"] * mm,
            gate_thickness_m=mold["gate_thickness_mm"] * mm,
            gate_width_m=mold["gate_width_mm"] * mm,
            gate_length_m=mold["gate_length_mm"] * mm,
            runner_diameter_m=mold["runner_diameter_mm"] * mm,
            runner_length_m=mold["runner_length_mm"] * mm,
            runner_projected_area_m2=mold["runner_projected_area_cm2"] * 1e-4,
        )


def screw_area_m2(screw_diameter_mm: float) -> float:
    """Cross-section of the screw: swept volume per mm of stroke."""
    return math.pi * (screw_diameter_mm * 1e-3) ** 2 / 4.0
