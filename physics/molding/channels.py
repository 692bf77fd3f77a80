"""The sensor channels of a molding cycle curve.

One tuple per channel: ``(name, unit, description)``. The order is the
row order of the ``(n_channels, n_samples)`` curve arrays produced by
:mod:`physics.molding.curves` and the column order of the ``curves``
table. Nothing else in the code base may hard-code the channel count:
use ``len(CHANNELS)`` or :data:`CHANNEL_NAMES`.

Pressures are *specific* (melt) pressures in bar unless the name says
``hydraulic``; the machine's intensification ratio links the two.
"""
from __future__ import annotations

CHANNELS: tuple[tuple[str, str, str], ...] = (
    ("screw_position_mm", "mm", "screw position measured from the front end (0 = screw fully forward)"),
    ("screw_velocity_mm_s", "mm/s", "screw axial velocity, positive forward (injection)"),
    ("injection_pressure_bar", "bar", "specific melt pressure at the screw tip / nozzle"),
    ("hydraulic_pressure_bar", "bar", "injection-cylinder hydraulic pressure = specific / intensification ratio"),
    ("cavity_pressure_near_gate_bar", "bar", "cavity pressure sensor near the gate"),
    ("cavity_pressure_far_bar", "bar", "cavity pressure sensor near the end of flow"),
    ("injection_flow_cm3_s", "cm3/s", "volumetric flow displaced by the screw"),
    ("nozzle_melt_temp_C", "degC", "melt temperature at the nozzle (immersion thermocouple)"),
    ("barrel_zone1_temp_C", "degC", "barrel heater zone 1 (feed side)"),
    ("barrel_zone2_temp_C", "degC", "barrel heater zone 2"),
    ("barrel_zone3_temp_C", "degC", "barrel heater zone 3"),
    ("barrel_zone4_temp_C", "degC", "barrel heater zone 4 (front)"),
    ("nozzle_heater_temp_C", "degC", "nozzle heater band"),
    ("feed_throat_temp_C", "degC", "water-cooled feed throat"),
    ("mold_temp_fixed_C", "degC", "fixed mold half, thermocouple 2 mm below the cavity surface"),
    ("mold_temp_moving_C", "degC", "moving mold half, thermocouple 2 mm below the cavity surface"),
    ("cavity_wall_temp_C", "degC", "cavity wall temperature sensor near the gate (sees the melt)"),
    ("coolant_flow_fixed_l_min", "l/min", "coolant flow, fixed-half circuit"),
    ("coolant_flow_moving_l_min", "l/min", "coolant flow, moving-half circuit"),
    ("coolant_inlet_temp_C", "degC", "coolant supply temperature"),
    ("coolant_outlet_temp_C", "degC", "coolant return temperature"),
    ("clamp_force_kN", "kN", "clamp force from the tie-bar strain gauges"),
    ("tie_bar_strain_1_ue", "microstrain", "tie bar 1 strain"),
    ("tie_bar_strain_2_ue", "microstrain", "tie bar 2 strain"),
    ("tie_bar_strain_3_ue", "microstrain", "tie bar 3 strain"),
    ("tie_bar_strain_4_ue", "microstrain", "tie bar 4 strain"),
    ("screw_torque_Nm", "N*m", "screw drive torque (dosing)"),
    ("screw_speed_rpm", "rpm", "screw rotational speed (dosing)"),
    ("back_pressure_bar", "bar", "specific back pressure during dosing"),
    ("oil_temp_C", "degC", "hydraulic oil temperature"),
    ("ejector_position_mm", "mm", "ejector stroke"),
    ("mold_opening_mm", "mm", "moving platen opening stroke (0 = closed)"),
    ("drive_power_kW", "kW", "total electrical drive power (pump + screw + heaters' switching)"),
    ("phase", "-", "machine phase code, see PHASE_CODES"),
)

CHANNEL_NAMES: tuple[str, ...] = tuple(c[0] for c in CHANNELS)
CHANNEL_UNITS: dict[str, str] = {c[0]: c[1] for c in CHANNELS}
CHANNEL_INDEX: dict[str, int] = {name: i for i, name in enumerate(CHANNEL_NAMES)}

#: Phase codes used in the ``phase`` channel and in events.
PHASE_CODES: dict[str, int] = {
    "idle": 0,
    "close": 1,
    "inject": 2,
    "hold": 3,
    "cool": 4,
    "open": 5,
    "eject": 6,
}
