"""How a machine's controller logs a physical quantity: offsets and scales of its sensors.

Machines log what their sensors and controller report, not the physics:
a screw position measured from the machine's own zero (KAMP logs the
cushion as an absolute position near 653 mm), an injection pressure as the
hydraulic rather than the specific melt pressure, and so on. These are
config keys (``[sensors]``) that calibration can fit; the twin's records
and the calibration's predictions go through the same transform.
"""
from __future__ import annotations

import numpy as np

#: Additive sensor offsets: logged feature -> the [sensors] key holding its offset.
OFFSET_KEYS: dict[str, str] = {
    "cushion_mm": "cushion_offset_mm",          # a screw position from the machine's own zero
    "nozzle_melt_temp_C": "melt_temp_offset_K",  # an immersion thermocouple reads below the melt core
}
#: Pressures measured at the screw, logged x ``pressure_log_factor``.
SCREW_PRESSURE_FEATURES = ("max_injection_pressure_bar", "switchover_pressure_bar")


def to_logged(feature: str, value, sensors: dict):
    """The value the machine logs for the physical ``value`` of ``feature``."""
    if feature in OFFSET_KEYS:
        return np.asarray(value) + float(sensors[OFFSET_KEYS[feature]])
    if feature in SCREW_PRESSURE_FEATURES:
        return np.asarray(value) * float(sensors["pressure_log_factor"])
    return value
