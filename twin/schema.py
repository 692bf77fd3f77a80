"""Arrow schemas of every record that flows through twinloop, defined once.

The sinks, the replay of real logs and the learners all use these. Column
naming rules:

* units in the name (``melt_temp_C``, ``hold_pressure_bar``);
* setpoints carry their plain setpoint name (as in the config's
  ``[setpoints]`` table);
* ``hidden_*`` columns are simulator state or physics diagnostics that a
  real machine does not log (null for ``source = real``): learners must
  not use them as inputs;
* ``defect_*`` booleans: one per defect type, several may be true; the
  ``defect_type`` string is the most severe one (order of
  :data:`DEFECT_TYPES`) or ``good``.
"""
from __future__ import annotations

import pyarrow as pa

from physics.molding.channels import CHANNEL_NAMES
# Defect types in order of severity (first = most severe, wins ``defect_type``),
# defined once, with the physics that decides them; re-exported here.
from physics.molding.defects import DEFECT_TYPES


#: Setpoint names (config ``[setpoints]`` keys) in column order.
SETPOINT_FIELDS: tuple[str, ...] = (
    "melt_temp_C",
    "mold_temp_C",
    "injection_velocity_mm_s",
    "dosing_volume_cm3",
    "switchover_volume_cm3",
    "injection_pressure_limit_bar",
    "hold_pressure_bar",
    "hold_time_s",
    "cooling_time_s",
    "back_pressure_bar",
    "screw_speed_rpm",
    "clamp_force_kN",
)

#: Hidden simulator state and physics diagnostics (sim rows only).
HIDDEN_FIELDS: tuple[str, ...] = (
    "hidden_lot_viscosity_factor",
    "hidden_check_ring_leak_cm3_s_per_kbar",
    "hidden_ambient_temp_C",
    "hidden_oil_temp_C",
    "hidden_mold_wear_gap_mm",
    "hidden_vent_open_fraction",
    "hidden_mold_warmup_K",
    "hidden_melt_temp_C",
    "hidden_fill_fraction",
    "hidden_flow_front_temp_C",
    "hidden_gate_freeze_time_s",
    "hidden_seal_pressure_bar",
    "hidden_parting_gap_mm",
    "hidden_flash_critical_gap_mm",
    "hidden_air_temp_C",
    "hidden_ejection_core_temp_C",
)

#: Scalar features a machine or QC station logs per cycle.
FEATURE_FIELDS: tuple[str, ...] = (
    "cycle_time_s",
    "injection_time_s",
    "hold_end_time_s",
    "dosing_time_s",
    "cushion_mm",
    "max_injection_pressure_bar",
    "switchover_pressure_bar",
    "max_cavity_pressure_bar",
    "nozzle_melt_temp_C",
    "mold_temp_fixed_C",
    "mold_temp_moving_C",
    "part_weight_g",
    "volumetric_shrinkage_pct",
    "warpage_mm",
    "ejection_temp_C",
)

_dict_str = pa.dictionary(pa.int32(), pa.string())
_ts = pa.timestamp("ms", tz="UTC")


def _cycles_schema() -> pa.Schema:
    fields = [
        pa.field("run_id", _dict_str, nullable=False),
        pa.field("source", _dict_str, nullable=False),
        pa.field("machine_id", _dict_str, nullable=False),
        pa.field("cycle_id", pa.int64(), nullable=False),
        pa.field("start_time", _ts, nullable=False),
        pa.field("end_time", _ts, nullable=False),
        pa.field("sim_time_s", pa.float64()),
        pa.field("material_grade", _dict_str),
        pa.field("glass_fiber_pct", pa.float64()),
        pa.field("lot_id", _dict_str),
        pa.field("experiment", _dict_str),
    ]
    fields += [pa.field(n, pa.float64()) for n in SETPOINT_FIELDS]
    fields += [pa.field(n, pa.float64()) for n in FEATURE_FIELDS]
    fields += [pa.field(n, pa.float64()) for n in HIDDEN_FIELDS]
    fields += [
        pa.field("good", pa.bool_()),
        pa.field("defect_type", _dict_str),
    ]
    fields += [pa.field(f"defect_{d}", pa.bool_()) for d in DEFECT_TYPES]
    fields += [
        pa.field("seed", pa.int64()),
        pa.field("config_hash", _dict_str),
        pa.field("code_version", _dict_str),
        pa.field("generator_checkpoint", _dict_str),
    ]
    return pa.schema(fields)


def _curves_schema() -> pa.Schema:
    fields = [
        pa.field("run_id", _dict_str, nullable=False),
        pa.field("source", _dict_str, nullable=False),
        pa.field("machine_id", _dict_str, nullable=False),
        pa.field("cycle_id", pa.int64(), nullable=False),
        pa.field("sample_interval_s", pa.float64(), nullable=False),
        pa.field("n_samples", pa.int32(), nullable=False),
    ]
    fields += [pa.field(n, pa.list_(pa.float32())) for n in CHANNEL_NAMES]
    return pa.schema(fields)


def _events_schema() -> pa.Schema:
    return pa.schema(
        [
            pa.field("run_id", _dict_str, nullable=False),
            pa.field("time", _ts, nullable=False),
            pa.field("sim_time_s", pa.float64(), nullable=False),
            pa.field("component", _dict_str, nullable=False),
            pa.field("kind", _dict_str, nullable=False),
            pa.field("detail", pa.string()),
            pa.field("duration_s", pa.float64()),
        ]
    )


#: Visibility classes of a stamped character (physics/billet/visibility.py).
VISIBILITY_CLASSES: tuple[str, ...] = ("well", "partial", "poor")

_BOX = pa.struct([
    pa.field("char", pa.string()),
    pa.field("position", pa.int32()),
    pa.field("x0", pa.int32()),
    pa.field("y0", pa.int32()),
    pa.field("x1", pa.int32()),
    pa.field("y1", pa.int32()),
    pa.field("visibility", pa.string()),
])


def _billets_schema() -> pa.Schema:
    """One row per billet: where it was cast, how it was stamped, what the camera saw.

    Per-character lists run over the stamped ID's characters in order
    (empty for a billet the robot skipped). ``boxes`` holds one entry per
    character that is visible in the image: the tight box of its rendered
    mask, pixel corners ``x0 <= x < x1``, ``y0 <= y < y1`` (exclusive right
    and bottom edges), with the character, its position in the ID and its
    visibility class.
    """
    f32 = pa.list_(pa.float32())
    return pa.schema([
        pa.field("run_id", _dict_str, nullable=False),
        pa.field("source", _dict_str, nullable=False),
        pa.field("billet_id", pa.string(), nullable=False),
        pa.field("billet_index", pa.int64(), nullable=False),
        pa.field("heat", pa.int64(), nullable=False),
        pa.field("strand", pa.int32(), nullable=False),
        pa.field("sequence_in_heat", pa.int32(), nullable=False),
        pa.field("steel_grade", _dict_str),
        pa.field("section_mm", pa.float64()),
        pa.field("length_m", pa.float64()),
        pa.field("cut_time", _ts, nullable=False),
        pa.field("stamp_time", _ts),
        pa.field("photo_time", _ts),
        pa.field("sim_time_s", pa.float64()),
        pa.field("stamped", pa.bool_(), nullable=False),
        pa.field("label_applied", pa.bool_(), nullable=False),
        pa.field("stamped_id", pa.string()),
        pa.field("wait_at_station_s", pa.float64()),
        pa.field("time_since_cut_s", pa.float64()),
        pa.field("surface_temp_C", pa.float64()),
        pa.field("scale_thickness_mm", pa.float64()),
        pa.field("stamp_force_kN", pa.float64()),
        pa.field("tilt_deg", pa.float64()),
        pa.field("char_depth_mm", f32),
        pa.field("char_effective_depth_mm", f32),
        pa.field("char_visible_fraction", f32),
        pa.field("char_pin_wear", f32),
        pa.field("char_visibility", pa.list_(pa.string())),
        pa.field("n_well", pa.int32()),
        pa.field("n_partial", pa.int32()),
        pa.field("n_poor", pa.int32()),
        pa.field("site", _dict_str),
        pa.field("image_png", pa.binary()),
        pa.field("image_width", pa.int32()),
        pa.field("image_height", pa.int32()),
        pa.field("image_channels", pa.int32()),
        pa.field("boxes", pa.list_(_BOX)),
        pa.field("seed", pa.int64()),
        pa.field("config_hash", _dict_str),
        pa.field("code_version", _dict_str),
        pa.field("generator_checkpoint", _dict_str),
    ])


CYCLES_SCHEMA: pa.Schema = _cycles_schema()
CURVES_SCHEMA: pa.Schema = _curves_schema()
EVENTS_SCHEMA: pa.Schema = _events_schema()
BILLETS_SCHEMA: pa.Schema = _billets_schema()

#: Event kinds written to ``events.parquet``.
EVENT_KINDS: tuple[str, ...] = (
    "run_start",
    "run_end",
    "breakdown",
    "repair_done",
    "cycle_aborted",
    "setpoint_change",
    "lot_change",
    "maintenance",
    "warmup_start",
    "heat_change",
    "billet_skipped",
    "pin_change",
)

SCHEMAS: dict[str, pa.Schema] = {
    "cycles": CYCLES_SCHEMA,
    "curves": CURVES_SCHEMA,
    "events": EVENTS_SCHEMA,
    "billets": BILLETS_SCHEMA,
}

#: Float columns that should use byte_stream_split encoding in Parquet
#: (noisy floats: dictionary encoding makes writes ~3x slower, no smaller).
def float_columns(schema: pa.Schema) -> list[str]:
    out = []
    for f in schema:
        t = f.type
        if pa.types.is_floating(t) or (pa.types.is_list(t) and pa.types.is_floating(t.value_type)):
            out.append(f.name)
    return out


def dictionary_columns(schema: pa.Schema) -> list[str]:
    return [f.name for f in schema if pa.types.is_dictionary(f.type)]
