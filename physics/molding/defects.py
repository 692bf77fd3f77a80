"""Defect decisions: each defect type follows from a physical quantity and a threshold.

No dice here: the shot-to-shot variation enters through the inputs of the
physics (lot viscosity, leakage, temperatures...), and a defect appears
when the resulting quantity crosses its limit:

* ``short_shot``: filled fraction below ``short_fill_fraction``;
* ``flash``: parting-line gap above the critical gap at the peak cavity
  pressure (:mod:`physics.molding.clamp`);
* ``burn_marks``: trapped-air temperature above the melt's ignition
  temperature (:mod:`physics.molding.venting`);
* ``warpage``: bow above ``warpage_tolerance_mm`` (:mod:`physics.molding.warpage`);
* ``sink_marks``: volumetric shrinkage above ``sink_shrinkage_pct``
  (:mod:`physics.molding.shrinkage`).

The thresholds are quality limits of the part, set per product in the
config ([defects]); their defaults are [D] values chosen so the default
process runs at a few percent scrap.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: In order of severity: the first true flag names the cycle's defect_type.
DEFECT_TYPES: tuple[str, ...] = ("short_shot", "flash", "burn_marks", "warpage", "sink_marks")


@dataclass(frozen=True)
class DefectThresholds:
    sink_shrinkage_pct: float
    warpage_tolerance_mm: float
    short_fill_fraction: float
    flash_pressure_ref_bar: float

    @classmethod
    def from_config(cls, d: dict) -> "DefectThresholds":
        return cls(
            sink_shrinkage_pct=float(d["sink_shrinkage_pct"]),
            warpage_tolerance_mm=float(d["warpage_tolerance_mm"]),
            short_fill_fraction=float(d["short_fill_fraction"]),
            flash_pressure_ref_bar=float(d["flash_pressure_ref_bar"]),
        )


def classify(th: DefectThresholds, *, fill_fraction, parting_gap_mm, critical_gap_mm, air_temp_C,
             ignition_temp_C, warpage_mm, shrinkage_pct) -> dict[str, np.ndarray]:
    """Boolean flag per defect type, the primary ``defect_type`` and ``good``."""
    short = np.asarray(fill_fraction) < th.short_fill_fraction
    flags = {
        "short_shot": short,
        "flash": np.asarray(parting_gap_mm) > np.asarray(critical_gap_mm),
        "burn_marks": ~short & (np.asarray(air_temp_C) > ignition_temp_C),
        "warpage": ~short & (np.asarray(warpage_mm) > th.warpage_tolerance_mm),
        "sink_marks": ~short & (np.asarray(shrinkage_pct) > th.sink_shrinkage_pct),
    }
    n = short.shape[0]
    defect_type = np.full(n, "good", dtype=object)
    for name in reversed(DEFECT_TYPES):
        defect_type = np.where(flags[name], name, defect_type)
    any_defect = np.zeros(n, bool)
    for f in flags.values():
        any_defect |= f
    out = {f"defect_{k}": v for k, v in flags.items()}
    out["defect_type"] = defect_type
    out["good"] = ~any_defect
    return out
