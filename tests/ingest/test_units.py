"""Unit conversion to the units in the schema's column names, including through the screw cross-section."""
from __future__ import annotations

import numpy as np
import pytest

from twin.ingest.units import UnitError, canonical_unit, column_unit, converter, screw_area_mm2


@pytest.mark.parametrize("column, unit", [
    ("cushion_mm", "mm"), ("injection_velocity_mm_s", "mm_s"), ("melt_temp_C", "degC"), ("cycle_time_s", "s"),
    ("hold_pressure_bar", "bar"), ("dosing_volume_cm3", "cm3"), ("part_weight_g", "g"), ("clamp_force_kN", "kN"),
    ("screw_speed_rpm", "rpm"), ("glass_fiber_pct", "pct"), ("injection_flow_cm3_s", "cm3_s"),
])
def test_unit_from_column_name(column, unit):
    assert column_unit(column) == unit


@pytest.mark.parametrize("src, dst, x, y", [
    ("MPa", "bar", 6.0, 60.0), ("psi", "bar", 14.5037738, 1.0), ("kgf_cm2", "bar", 100.0, 98.0665),
    ("K", "degC", 273.15, 0.0), ("degF", "degC", 212.0, 100.0), ("ms", "s", 1500.0, 1.5), ("min", "s", 0.5, 30.0),
    ("mm3", "cm3", 1000.0, 1.0), ("ml", "cm3", 2.0, 2.0), ("m", "mm", 0.01, 10.0), ("cm", "mm", 1.0, 10.0),
    ("kg", "g", 0.03, 30.0), ("mm3_s", "cm3_s", 5000.0, 5.0), ("m_s", "mm_s", 0.1, 100.0),
    ("t_force", "kN", 1.0, 9.80665), ("fraction", "pct", 0.3, 30.0), ("bar", "bar", 7.0, 7.0),
])
def test_linear_conversions(src, dst, x, y):
    assert converter(src, dst)(np.array([x]))[0] == pytest.approx(y)


def test_volume_and_flow_through_the_screw():
    area = screw_area_mm2(30.0)
    assert area == pytest.approx(706.858, rel=1e-5)
    assert converter("cm3", "mm", 30.0)(np.array([15.5]))[0] == pytest.approx(15.5 * 1000 / area)
    assert converter("cm3_s", "mm_s", 30.0)(np.array([60.0]))[0] == pytest.approx(84.88, rel=1e-3)
    assert converter("mm", "cm3", 30.0)(np.array([1000 / area]))[0] == pytest.approx(1.0)
    assert converter("mm3", "mm", 30.0)(np.array([area]))[0] == pytest.approx(1.0)


def test_impossible_conversions():
    with pytest.raises(UnitError, match="cannot convert pressure"):
        converter("bar", "s")
    with pytest.raises(UnitError, match="screw_diameter_mm"):
        converter("cm3", "mm")


def test_spellings_machines_print():
    assert canonical_unit("cm³/s") == "cm3_s" and canonical_unit("°C") == "degC" and canonical_unit("mm/s") == "mm_s"
    assert canonical_unit("nonsense") is None
