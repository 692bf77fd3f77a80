"""Steel grades for the billet line: hot flow stress and high-temperature thermal data.

Every number is copied from ``shared/PHYSICS_REFERENCES.md`` §5 or from the
source named next to it, with its tag: [P] peer-reviewed, [OSS] open-source
code, [IND] industry page or standard summary, [D] derived here.

Hensel–Spittel ("Freiberg") coefficients [OSS]
    ``pyroll-project/pyroll-freiberg-flow-stress``,
    ``pyroll/freiberg_flow_stress/materials/c45.py`` and ``s355j2.py``
    (PHYSICS_REFERENCES §5 table). The coefficient files do not say which
    tests they were fitted to nor their validity range; the package cites
    Spittel & Spittel, Landolt-Börnstein VIII/2C (DOI 10.1007/978-3-540-44760-3_3)
    for the model. m3 = m6 = m9 = 0 for both grades, so they are not stored.

Thermal data at 900-1200 °C [IND], EN 1993-1-2:2005 (Eurocode 3, fire
design) §3.4, as summarised by the Dlubal knowledge-base article 001496
"Structural Fire Design According to DIN EN 1993-1-2 (Thermal Material
Properties)":
    * specific heat c_a = 650 J/(kg·K) for 900 °C ≤ θ ≤ 1200 °C,
    * thermal conductivity λ_a = 27.3 W/(m·K) for 800 °C ≤ θ ≤ 1200 °C,
    * density 7850 kg/m³, which EN 1993-1-2 §3.2.2 lets thermal analyses take
      as temperature-independent (the c_a above is per kg of that mass, so
      ρ·c_a = 5.1 MJ/(m³·K) is the consistent product).
    These are generic carbon-steel values: the standard does not distinguish
    grades, so C45 and S355J2 share them.

Emissivity [IND], FLIR T8xx user manual, Table 38.1 (PHYSICS_REFERENCES §5):
    oxidised steel 0.80 at 200-600 °C and 0.89 at 1227 °C; the working range
    for oxidised hot steel is 0.8-0.9, of which we take the middle, 0.85.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class SteelGrade:
    """One steel grade with what the billet physics needs.

    Hensel–Spittel flow stress (see :mod:`physics.billet.flow_stress`):
    σ = A·e^(m1·ϑ)·φ^m2·e^(m4/φ)·(1+φ)^(m5·ϑ)·e^(m7·φ)·φ̇^(m8·ϑ), ϑ in °C,
    A in MPa, φ the true strain, φ̇ the strain rate in 1/s.
    """

    name: str
    A_MPa: float
    m1: float
    m2: float
    m4: float
    m5: float
    m7: float
    m8: float
    density_kg_m3: float
    cp_J_kgK: float
    conductivity_W_mK: float
    emissivity: float
    notes: str = field(default="", compare=False)

    @property
    def diffusivity_m2_s(self) -> float:
        """Thermal diffusivity α = k / (ρ·cp) at high temperature (≈ 5.4e-6 m²/s)."""
        return self.conductivity_W_mK / (self.density_kg_m3 * self.cp_J_kgK)

    @property
    def effusivity_W_s05_m2K(self) -> float:
        """Thermal effusivity e = √(k·ρ·cp): sets how fast a suddenly exposed face cools."""
        return (self.conductivity_W_mK * self.density_kg_m3 * self.cp_J_kgK) ** 0.5


#: EN 1993-1-2 thermal data at 900-1200 °C (see the module docstring) [IND].
_EC3_DENSITY_KG_M3 = 7850.0
_EC3_CP_J_KGK = 650.0
_EC3_CONDUCTIVITY_W_MK = 27.3
#: FLIR Table 38.1, middle of the oxidised-steel range 0.8-0.9 [IND].
_OXIDISED_STEEL_EMISSIVITY = 0.85

C45 = SteelGrade(
    name="C45",
    A_MPa=3268.49, m1=-0.00267855, m2=0.34446, m4=0.000551814, m5=-0.00132042,
    m7=0.0166334, m8=0.000149907,
    density_kg_m3=_EC3_DENSITY_KG_M3, cp_J_kgK=_EC3_CP_J_KGK,
    conductivity_W_mK=_EC3_CONDUCTIVITY_W_MK, emissivity=_OXIDISED_STEEL_EMISSIVITY,
    notes="Hensel-Spittel: pyroll-freiberg-flow-stress materials/c45.py [OSS]; thermal: EN 1993-1-2 [IND]",
)

S355J2 = SteelGrade(
    name="S355J2",
    A_MPa=2852.66, m1=-0.00244, m2=0.41934, m4=0.00088, m5=-0.00149,
    m7=0.12169, m8=0.000127,
    density_kg_m3=_EC3_DENSITY_KG_M3, cp_J_kgK=_EC3_CP_J_KGK,
    conductivity_W_mK=_EC3_CONDUCTIVITY_W_MK, emissivity=_OXIDISED_STEEL_EMISSIVITY,
    notes="Hensel-Spittel: pyroll-freiberg-flow-stress materials/s355j2.py [OSS]; thermal: EN 1993-1-2 [IND]",
)

STEELS: dict[str, SteelGrade] = {s.name: s for s in (C45, S355J2)}


def get_steel(name: str) -> SteelGrade:
    """Look up a grade by name; a clear ValueError lists the known grades."""
    try:
        return STEELS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown steel grade {name!r}; known grades: {', '.join(sorted(STEELS))}") from None
