"""Polymer grades: Cross-WLF viscosity, two-domain Tait PVT, thermal data.

Every number below is copied from ``shared/PHYSICS_REFERENCES.md`` with its
source tag: [P] peer-reviewed, [DB] material-database record, [OSS]
open-source code, [IND] industry page, [D] derived in that file.

* ``PP_579S`` — SABIC PP 579S (MFI 47). Viscosity: Cross-WLF refit [D] of
  the Moldex3D Cross-Arrhenius record [DB] (max |Δln η0| = 0.03 over
  200-280 °C). PVT: Moldex3D record [DB], flagged "Generic Default" there.
  k = 0.20 W/m·K, cp = 2800 J/kg·K, T_eject = 90 °C, T_noflow = 110 °C,
  melt 210-270 °C, mold 20-60 °C [DB].
* ``ABS_F332`` — Versalis SINKRAL F332. Viscosity: Cross-WLF refit [D] of
  the Moldex3D/CAMPUS record [DB]. PVT [DB] (CAMPUS 5.0). k = 0.17,
  cp = 2150, T_eject = 114.85 °C, T_noflow = 134.85 °C, melt 230-270 °C,
  mold 40-80 °C [DB].
* ``HDPE_SABIC`` — reference card of ``krebeljk/openInjMoldSim`` [OSS]
  (Krebelj et al., Polymers 13(1):138, 2021): Cross-WLF and Tait
  coefficients. k, cp and temperatures are not in that card: k = 0.20 and
  cp = 2800 are taken equal to PP's [D assumption]; T_noflow = 383.15 K
  as in one openInjMoldSim tutorial [OSS]; T_eject = 90 °C [D].

Glass fibre: E-glass, ρ = 2580 kg/m³ [IND] fiber-line.com; cp = 763 J/kg·K,
k = 1.0 W/m·K [IND] kk-soyo.co.jp. The PVT of a filled grade follows from
the rule of mixtures on specific volume (see :mod:`physics.molding.pvt`).
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class CrossWLF:
    """Cross-WLF coefficients (Autodesk Moldflow help, "Cross-WLF viscosity model").

    η0 = D1·exp[−A1 (T − T*) / (A2 + T − T*)], T* = D2 + D3·p, A2 = Ã2 + D3·p;
    η = η0 / (1 + (η0·γ̇/τ*)^(1−n)). Temperatures in K, p in Pa.
    """

    n: float
    tau_star_Pa: float
    D1_Pa_s: float
    D2_K: float
    D3_K_per_Pa: float
    A1: float
    A2_tilde_K: float


@dataclass(frozen=True)
class Tait2Domain:
    """Two-domain Tait coefficients (Moldflow help "2-domain Tait pvT model").

    SI units: b1 m³/kg, b2 m³/(kg·K), b3 Pa, b4 1/K, b5 K, b6 K/Pa,
    b7 m³/kg, b8 1/K, b9 1/Pa. C = 0.0894 (universal constant).
    """

    b1m: float
    b2m: float
    b3m: float
    b4m: float
    b1s: float
    b2s: float
    b3s: float
    b4s: float
    b5: float
    b6: float
    b7: float
    b8: float
    b9: float


@dataclass(frozen=True)
class Material:
    """One polymer grade with everything the molding physics needs."""

    name: str
    family: str
    viscosity: CrossWLF
    pvt: Tait2Domain
    k_W_mK: float
    cp_J_kgK: float
    no_flow_temp_C: float
    ejection_temp_C: float
    melt_temp_range_C: tuple[float, float]
    mold_temp_range_C: tuple[float, float]
    #: Critical parting-line gap for visible flash at flash_pressure_ref_bar.
    #: Vent-depth guidelines [IND]: PP/PE 0.015-0.025 mm, ABS 0.03-0.05 mm
    #: (a gap the melt does not enter at normal pressure); we take the middle.
    flash_gap_mm: float
    #: Temperature of trapped air that scorches the melt (diesel effect).
    #: Flash-ignition temperatures by ASTM D1929 [IND, plastics handbooks]:
    #: PP ~ 350-370 °C, ABS ~ 390-400 °C, PE ~ 340 °C.
    ignition_temp_C: float
    #: Latent heat released on solidification, J/kg: heat of fusion of the
    #: fully crystalline polymer times a typical crystallinity [D, unverified
    #: handbook values: PP 207 J/g x 0.5, HDPE 293 J/g x 0.6 (Wunderlich,
    #: *Thermal Analysis of Polymeric Materials*); ABS is amorphous: 0].
    latent_heat_J_kg: float = 0.0
    notes: str = field(default="", compare=False)


PP_579S = Material(
    name="PP_579S",
    family="PP",
    viscosity=CrossWLF(n=0.341, tau_star_Pa=22_700.0, D1_Pa_s=1.01e15, D2_K=263.15,
                       D3_K_per_Pa=0.0, A1=34.56, A2_tilde_K=51.6),
    pvt=Tait2Domain(b1m=1.19495e-3, b2m=8.7183e-7, b3m=1.06e8, b4m=5.05911e-3,
                    b1s=1.13732e-3, b2s=6.29819e-7, b3s=1.41e8, b4s=6.91732e-3,
                    b5=393.15, b6=6.63e-8, b7=4.79338e-5, b8=0.1, b9=6.63e-9),
    k_W_mK=0.20,
    cp_J_kgK=2800.0,
    no_flow_temp_C=110.0,
    ejection_temp_C=90.0,
    melt_temp_range_C=(210.0, 270.0),
    mold_temp_range_C=(20.0, 60.0),
    flash_gap_mm=0.02,
    ignition_temp_C=360.0,
    latent_heat_J_kg=103.5e3,
    notes="SABIC PP 579S, Moldex3D bank 2023.02.02; PVT generic default",
)

ABS_F332 = Material(
    name="ABS_F332",
    family="ABS",
    viscosity=CrossWLF(n=0.273, tau_star_Pa=54_400.0, D1_Pa_s=2.87e12, D2_K=388.0,
                       D3_K_per_Pa=0.0, A1=29.08, A2_tilde_K=51.6),
    pvt=Tait2Domain(b1m=9.72e-4, b2m=5.78e-7, b3m=1.31e8, b4m=3.64e-3,
                    b1s=9.72e-4, b2s=1.94e-7, b3s=1.56e8, b4s=1.63e-3,
                    b5=388.0, b6=2.2e-7, b7=0.0, b8=0.0, b9=0.0),
    k_W_mK=0.17,
    cp_J_kgK=2150.0,
    no_flow_temp_C=134.85,
    ejection_temp_C=114.85,
    melt_temp_range_C=(230.0, 270.0),
    mold_temp_range_C=(40.0, 80.0),
    flash_gap_mm=0.04,
    ignition_temp_C=395.0,
    notes="Versalis SINKRAL F332, Moldex3D bank / CAMPUS 5.0",
)

HDPE_SABIC = Material(
    name="HDPE_SABIC",
    family="PE",
    viscosity=CrossWLF(n=0.393539, tau_star_Pa=64_568.9, D1_Pa_s=3.76174e15, D2_K=153.15,
                       D3_K_per_Pa=0.0, A1=33.21, A2_tilde_K=51.6),
    pvt=Tait2Domain(b1m=1.2495299e-3, b2m=1.026e-6, b3m=1.042149833644e8, b4m=4.941e-3,
                    b1s=1.070046e-3, b2s=2.077e-7, b3s=3.3241950281e8, b4s=2.46e-6,
                    b5=390.65, b6=1.543e-7, b7=1.89858e-4, b8=0.0283477, b9=1.023e-8),
    k_W_mK=0.20,
    cp_J_kgK=2800.0,
    no_flow_temp_C=110.0,
    ejection_temp_C=90.0,
    melt_temp_range_C=(200.0, 280.0),
    mold_temp_range_C=(20.0, 60.0),
    flash_gap_mm=0.02,
    ignition_temp_C=340.0,
    latent_heat_J_kg=175.8e3,
    notes="openInjMoldSim HDPE reference card; thermal data assumed equal to PP",
)

MATERIALS: dict[str, Material] = {m.name: m for m in (PP_579S, ABS_F332, HDPE_SABIC)}

#: E-glass fibre [IND]: density (specific gravity 2.58), cp, k.
GLASS_DENSITY_KG_M3 = 2580.0
GLASS_CP_J_KGK = 763.0
GLASS_K_W_MK = 1.0


def get_material(name: str) -> Material:
    """Look up a grade by name; a clear error lists the known grades."""
    try:
        return MATERIALS[name]
    except KeyError:
        raise KeyError(f"unknown material grade {name!r}; known grades: {', '.join(sorted(MATERIALS))}") from None
