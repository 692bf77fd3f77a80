"""Units of real logs and their conversion to the units in the schema's column names.

A schema column carries its unit in its name (``hold_pressure_bar``,
``cushion_mm``, ``melt_temp_C``): :func:`column_unit` reads it from there, so
a mapping only says what unit the *log* uses and the converter does the rest.

Units by dimension (canonical name first; the aliases in :data:`ALIASES`,
e.g. ``cm³`` or ``mm/s`` as machines print them, are accepted too)::

    pressure     bar  MPa  kPa  Pa  psi  kgf_cm2
    temperature  degC  K  degF
    time         s  ms  min  h
    volume       cm3  mm3  ml  l
    length       mm  cm  m  um  in
    mass         g  kg  mg
    flow         cm3_s  mm3_s  ml_s  l_min
    velocity     mm_s  cm_s  m_s
    speed        rpm
    force        kN  N  t_force  (metric tonne-force = 9.80665 kN)
    fraction     pct  fraction  (0.3 fraction = 30 pct)
    power        kW  W;   torque  Nm;   strain  ue;   dimensionless  1

Screw geometry links two pairs of dimensions. Machines often log the screw
in *volume* (Arburg: cushion ``V4062`` in cm³, screw volume ``V3001I``) and
its speed as *flow* (``Q304`` in cm³/s), while the schema wants a position
and a velocity. With the screw diameter ``D`` (``[machine]
screw_diameter_mm`` of the mapping) the swept cross-section is
``A = pi * D**2 / 4`` and::

    position_mm  = volume_cm3 * 1000 / A_mm2      (a cylinder of length x has volume A*x)
    velocity_mm_s = flow_cm3_s * 1000 / A_mm2

and back. A 30 mm screw has ``A = 706.9 mm²``: 1 cm³ is 1.415 mm of stroke.
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np

__all__ = [
    "UNITS",
    "ALIASES",
    "UnitError",
    "canonical_unit",
    "column_unit",
    "dimension",
    "needs_screw",
    "converter",
    "screw_area_mm2",
]


class UnitError(ValueError):
    """A unit that is unknown or cannot be converted to the one asked for."""


#: canonical unit -> (dimension, factor, offset): value in the dimension's base unit = value * factor + offset.
UNITS: dict[str, tuple[str, float, float]] = {
    "bar": ("pressure", 1.0, 0.0),
    "MPa": ("pressure", 10.0, 0.0),
    "kPa": ("pressure", 0.01, 0.0),
    "Pa": ("pressure", 1e-5, 0.0),
    "psi": ("pressure", 0.0689475729, 0.0),
    "kgf_cm2": ("pressure", 0.980665, 0.0),
    "degC": ("temperature", 1.0, 0.0),
    "K": ("temperature", 1.0, -273.15),
    "degF": ("temperature", 5.0 / 9.0, -32.0 * 5.0 / 9.0),
    "s": ("time", 1.0, 0.0),
    "ms": ("time", 1e-3, 0.0),
    "min": ("time", 60.0, 0.0),
    "h": ("time", 3600.0, 0.0),
    "cm3": ("volume", 1.0, 0.0),
    "mm3": ("volume", 1e-3, 0.0),
    "ml": ("volume", 1.0, 0.0),
    "l": ("volume", 1000.0, 0.0),
    "mm": ("length", 1.0, 0.0),
    "cm": ("length", 10.0, 0.0),
    "m": ("length", 1000.0, 0.0),
    "um": ("length", 1e-3, 0.0),
    "in": ("length", 25.4, 0.0),
    "g": ("mass", 1.0, 0.0),
    "kg": ("mass", 1000.0, 0.0),
    "mg": ("mass", 1e-3, 0.0),
    "cm3_s": ("flow", 1.0, 0.0),
    "mm3_s": ("flow", 1e-3, 0.0),
    "ml_s": ("flow", 1.0, 0.0),
    "l_min": ("flow", 1000.0 / 60.0, 0.0),
    "mm_s": ("velocity", 1.0, 0.0),
    "cm_s": ("velocity", 10.0, 0.0),
    "m_s": ("velocity", 1000.0, 0.0),
    "rpm": ("speed", 1.0, 0.0),
    "kN": ("force", 1.0, 0.0),
    "N": ("force", 1e-3, 0.0),
    "t_force": ("force", 9.80665, 0.0),
    "pct": ("fraction", 1.0, 0.0),
    "fraction": ("fraction", 100.0, 0.0),
    "kW": ("power", 1.0, 0.0),
    "W": ("power", 1e-3, 0.0),
    "Nm": ("torque", 1.0, 0.0),
    "ue": ("strain", 1.0, 0.0),
    "1": ("dimensionless", 1.0, 0.0),
}

#: Other spellings (as machines and CHANNELS print them) -> canonical unit.
ALIASES: dict[str, str] = {
    "°C": "degC", "C": "degC", "celsius": "degC",
    "°F": "degF", "F": "degF",
    "sec": "s", "msec": "ms",
    "cm³": "cm3", "ccm": "cm3", "mm³": "mm3", "mL": "ml",
    "cm³/s": "cm3_s", "cm3/s": "cm3_s", "ccm/s": "cm3_s", "mm³/s": "mm3_s", "mm3/s": "mm3_s", "ml/s": "ml_s",
    "l/min": "l_min", "L/min": "l_min",
    "mm/s": "mm_s", "cm/s": "cm_s", "m/s": "m_s",
    "1/min": "rpm", "U/min": "rpm",
    "kgf/cm2": "kgf_cm2", "kgf/cm²": "kgf_cm2", "kg/cm2": "kgf_cm2", "kg/cm²": "kgf_cm2",
    "tf": "t_force",
    "%": "pct", "percent": "pct",
    "N*m": "Nm", "N·m": "Nm",
    "microstrain": "ue", "µε": "ue",
    "-": "1", "": "1",
    "µm": "um",
}

#: Schema-name unit suffixes, longest first (``_mm_s`` before ``_s``).
_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("_cm3_s", "cm3_s"),
    ("_mm_s", "mm_s"),
    ("_l_min", "l_min"),
    ("_cm3", "cm3"),
    ("_bar", "bar"),
    ("_rpm", "rpm"),
    ("_pct", "pct"),
    ("_kN", "kN"),
    ("_kW", "kW"),
    ("_Nm", "Nm"),
    ("_ue", "ue"),
    ("_mm", "mm"),
    ("_C", "degC"),
    ("_s", "s"),
    ("_g", "g"),
)

#: Pairs of dimensions that the screw cross-section links: (from, to).
_SCREW_PAIRS = {("volume", "length"), ("length", "volume"), ("flow", "velocity"), ("velocity", "flow")}


def canonical_unit(text: str) -> str | None:
    """The canonical name of a unit spelled ``text`` (``"cm³/s"`` -> ``"cm3_s"``), or None if unknown."""
    t = text.strip()
    if t in UNITS:
        return t
    return ALIASES.get(t)


def column_unit(column: str) -> str | None:
    """The unit in a schema column's name (``cushion_mm`` -> ``mm``, ``melt_temp_C`` -> ``degC``), or None."""
    for suffix, unit in _SUFFIXES:
        if column.endswith(suffix):
            return unit
    return None


def dimension(unit: str) -> str:
    """The dimension of a canonical unit (``"bar"`` -> ``"pressure"``)."""
    return UNITS[unit][0]


def needs_screw(src: str, dst: str) -> bool:
    """True when converting ``src`` to ``dst`` goes through the screw cross-section (volume <-> position, flow <-> velocity)."""
    return (dimension(src), dimension(dst)) in _SCREW_PAIRS


def screw_area_mm2(screw_diameter_mm: float) -> float:
    """Cross-section of a screw of diameter ``D``: ``pi * D**2 / 4`` in mm²."""
    return math.pi * screw_diameter_mm**2 / 4.0


def converter(src: str, dst: str, screw_diameter_mm: float | None = None) -> Callable[[np.ndarray], np.ndarray]:
    """A function converting a float array from canonical unit ``src`` to ``dst``.

    Raises :class:`UnitError` when the dimensions differ (and are not linked
    by the screw, or the screw diameter is not given).
    """
    dim_s, f_s, o_s = UNITS[src]
    dim_d, f_d, o_d = UNITS[dst]
    if dim_s == dim_d:
        if src == dst:
            return lambda x: x
        # base = x * f_s + o_s ; y = (base - o_d) / f_d
        return lambda x: (x * f_s + o_s - o_d) / f_d
    if (dim_s, dim_d) not in _SCREW_PAIRS:
        raise UnitError(f"cannot convert {dim_s} ({src}) to {dim_d} ({dst})")
    if screw_diameter_mm is None:
        raise UnitError(f"converting {dim_s} ({src}) to {dim_d} ({dst}) needs [machine] screw_diameter_mm")
    area = screw_area_mm2(screw_diameter_mm)
    # to the base unit of the source dimension (cm3 or cm3_s / mm or mm_s), across, then to dst
    if dim_s in ("volume", "flow"):
        across = 1000.0 / area  # cm3 -> mm, cm3/s -> mm/s
    else:
        across = area / 1000.0  # mm -> cm3, mm/s -> cm3/s
    return lambda x: ((x * f_s + o_s) * across - o_d) / f_d
