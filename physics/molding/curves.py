"""Sensor curves of one molding cycle: 34 channels at a fixed sample interval.

The physics of a cycle (:mod:`physics.molding.cycle`) gives pressure and
screw-travel records at the filling and packing steps and the timing of
every phase; this module lays them on the sampling grid with ``np.interp``
(the records are already physical) and adds the sensor effects: white
noise per channel (one normal draw for the whole array), a slow
per-cycle offset per channel, and quantisation to the sensor resolution.

Consistency with the scalars is enforced, not hoped for: after noise and
quantisation the injection-pressure curve is clipped at the recorded
``max_injection_pressure_bar`` and touches it at its peak sample, and the
screw-position curve is floored at the recorded ``cushion_mm`` and touches
it at its minimum — so max(curve) and min(curve) equal the logged scalars
exactly, as on a machine whose scalars are computed from its own curves.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from physics.molding.channels import CHANNEL_INDEX, CHANNEL_NAMES, PHASE_CODES

#: Noise standard deviation per channel, in the channel's unit.
NOISE_SD: dict[str, float] = {
    "screw_position_mm": 0.02, "screw_velocity_mm_s": 0.0, "injection_pressure_bar": 1.5,
    "hydraulic_pressure_bar": 0.15, "cavity_pressure_near_gate_bar": 1.0, "cavity_pressure_far_bar": 1.0,
    "injection_flow_cm3_s": 0.0, "nozzle_melt_temp_C": 0.3, "barrel_zone1_temp_C": 0.2,
    "barrel_zone2_temp_C": 0.2, "barrel_zone3_temp_C": 0.2, "barrel_zone4_temp_C": 0.2,
    "nozzle_heater_temp_C": 0.2, "feed_throat_temp_C": 0.2, "mold_temp_fixed_C": 0.1,
    "mold_temp_moving_C": 0.1, "cavity_wall_temp_C": 0.3, "coolant_flow_fixed_l_min": 0.05,
    "coolant_flow_moving_l_min": 0.05, "coolant_inlet_temp_C": 0.05, "coolant_outlet_temp_C": 0.05,
    "clamp_force_kN": 2.0, "tie_bar_strain_1_ue": 1.0, "tie_bar_strain_2_ue": 1.0,
    "tie_bar_strain_3_ue": 1.0, "tie_bar_strain_4_ue": 1.0, "screw_torque_Nm": 3.0,
    "screw_speed_rpm": 0.5, "back_pressure_bar": 0.8, "oil_temp_C": 0.05, "ejector_position_mm": 0.02,
    "mold_opening_mm": 0.05, "drive_power_kW": 0.1, "phase": 0.0,
}
_NOISE = np.array([NOISE_SD[n] for n in CHANNEL_NAMES], dtype=np.float32)[:, None]

#: Sensor resolution per channel (0 = no quantisation); overridden by the config.
_DEFAULT_RESOLUTION = {
    "injection_pressure_bar": 0.1, "hydraulic_pressure_bar": 0.01, "cavity_pressure_near_gate_bar": 0.1,
    "cavity_pressure_far_bar": 0.1, "screw_position_mm": 0.01,
}

#: Tie-bar imbalance (fixed for a machine: bars never carry exactly a quarter).
TIE_BAR_SHARE = (1.00, 1.02, 0.98, 1.01)
#: Tie-bar strain per kN of clamp force per bar: ε = F/(E·A), E = 210 GPa
#: (steel), bar diameter 60 mm → A = 2.83e-3 m² → 1.68 µε/kN.
MICROSTRAIN_PER_KN = 1e3 / (210e9 * np.pi * 0.03**2) * 1e6
MOLD_STROKE_MM = 250.0
EJECTOR_STROKE_MM = 40.0


@dataclass
class CycleTiming:
    """Phase boundaries of one cycle, seconds from the start of mold closing."""

    close_s: float
    hold_end_s: float          # from injection start
    cool_s: float              # cooling phase (max of set cooling and dosing)
    open_s: float
    eject_s: float
    takeout_s: float           # robot take-out, including any wait for the robot

    @property
    def total_s(self) -> float:
        return self.close_s + self.hold_end_s + self.cool_s + self.open_s + self.eject_s + self.takeout_s


def n_samples(timing: CycleTiming, dt_s: float) -> int:
    return max(int(np.floor(timing.total_s / dt_s)), 2)


def render_cycle(phys: dict, i: int, timing: CycleTiming, sp: dict, extra: dict, dt_s: float,
                 rng: np.random.Generator, noise_scale: float = 1.0,
                 resolution: dict[str, float] | None = None) -> np.ndarray:
    """The (n_channels, n_samples) float32 curve array of cycle ``i`` of a physics batch.

    ``phys``: output of :meth:`MoldingModel.simulate` (with the ``_fill`` and
    ``_pack`` records); ``sp``: that cycle's setpoints (scalars); ``extra``:
    scalars from the twin (``oil_C``, ``ambient_C``, ``coolant_flow_l_min``,
    ``screw_area_mm2``, ``intensification_ratio``, ``half_diff_K``,
    ``recorded_max_injection_pressure_bar``, ``recorded_cushion_mm``).
    """
    fill, pack = phys["_fill"], phys["_pack"]
    n = n_samples(timing, dt_s)
    t = np.arange(n, dtype=np.float64) * dt_s
    out = np.empty((len(CHANNEL_NAMES), n), dtype=np.float32)
    C = CHANNEL_INDEX
    t_inj0 = timing.close_s
    t_hold_end = t_inj0 + timing.hold_end_s
    t_cool_end = t_hold_end + timing.cool_s
    t_open_end = t_cool_end + timing.open_s
    t_eject_end = t_open_end + timing.eject_s
    t_dose = float(phys["dosing_time_s"][i])
    area_mm2 = extra["screw_area_mm2"]
    dose_mm = float(phys["dosing_volume_mm"][i])

    # --- screw travel and injection pressure from the physics records
    # Filling records, then packing records (every cycle is packed, a stalled
    # short shot too: physics.molding.packing).
    rt = np.concatenate([fill.rec_t_s[i], pack.rec_t_s[i, 1:]])
    rs = np.concatenate([fill.rec_swept_m3[i], pack.rec_swept_m3[i, 1:]])
    rp = np.concatenate([fill.rec_p_inj_Pa[i], pack.rec_p_inj_Pa[i, 1:]])
    keep = rt <= timing.hold_end_s
    rt, rs, rp = np.concatenate([[0.0], rt[keep], [timing.hold_end_s]]), \
        np.concatenate([[0.0], rs[keep], [rs[keep][-1] if keep.any() else 0.0]]), \
        np.concatenate([[0.0], rp[keep], [rp[keep][-1] if keep.any() else 0.0]])
    pos_inj = dose_mm - rs * 1e9 / area_mm2
    bp = sp["back_pressure_bar"]
    t_dose_end = t_hold_end + t_dose
    pos_t = np.concatenate([[0.0, t_inj0], t_inj0 + rt[1:], [t_dose_end, t_dose_end + 0.3, t[-1] + dt_s]])
    pos_v = np.concatenate([[dose_mm, dose_mm], pos_inj[1:], [dose_mm - 2.0, dose_mm, dose_mm]])
    out[C["screw_position_mm"]] = np.interp(t, pos_t, pos_v)
    p_t = np.concatenate([[0.0, t_inj0], t_inj0 + rt[1:], [t_hold_end + 0.05, t_dose_end, t_dose_end + 0.05, t[-1] + dt_s]])
    p_v = np.concatenate([[0.0, 0.0], rp[1:] / 1e5, [bp, bp, 0.0, 0.0]])
    p_inj = np.interp(t, p_t, p_v)
    out[C["injection_pressure_bar"]] = p_inj
    out[C["hydraulic_pressure_bar"]] = p_inj / extra["intensification_ratio"]

    # --- cavity pressures: filling (gate side), packing records, then isochoric decay
    ft = fill.rec_t_s[i]
    near_t = [0.0, t_inj0 + ft[0]]
    near_v = [0.0, 0.0]
    near_t += list(t_inj0 + ft[1:])
    near_v += list(fill.rec_p_gate_Pa[i, 1:] / 1e5)
    far_t, far_v = [0.0, t_inj0 + ft[-1]], [0.0, 0.0]
    near_t += list(t_inj0 + pack.rec_t_s[i, 1:])
    near_v += list(pack.rec_p_near_Pa[i, 1:] / 1e5)
    far_t += list(t_inj0 + pack.rec_t_s[i, 1:])
    far_v += list(pack.rec_p_far_Pa[i, 1:] / 1e5)
    decay_tau = max(0.25 * timing.cool_s, 0.5)
    last_t = near_t[-1]
    tail = np.linspace(0.0, 4.0 * decay_tau, 6)
    near_t += list(last_t + tail[1:])
    near_v += list(near_v[-1] * np.exp(-tail[1:] / decay_tau))
    far_t += list(far_t[-1] + tail[1:])
    far_v += list(far_v[-1] * np.exp(-tail[1:] / decay_tau))
    near_order = np.argsort(near_t, kind="stable")
    far_order = np.argsort(far_t, kind="stable")
    out[C["cavity_pressure_near_gate_bar"]] = np.interp(t, np.asarray(near_t)[near_order], np.asarray(near_v)[near_order], right=0.0)
    out[C["cavity_pressure_far_bar"]] = np.interp(t, np.asarray(far_t)[far_order], np.asarray(far_v)[far_order], right=0.0)

    # --- temperatures
    melt = float(phys["melt_C"][i])
    wall = float(phys["wall_C"][i])
    set_melt = sp["melt_temp_C"]
    out[C["nozzle_melt_temp_C"]] = melt
    for k, off in zip(("barrel_zone1_temp_C", "barrel_zone2_temp_C", "barrel_zone3_temp_C",
                       "barrel_zone4_temp_C", "nozzle_heater_temp_C"), (-20.0, -10.0, -5.0, 0.0, 0.0)):
        out[C[k]] = set_melt + off
    out[C["feed_throat_temp_C"]] = 45.0
    half = extra["half_diff_K"]
    # Thermocouples 2 mm below the surface see a lagged bump of the melt's heat.
    bump = np.where(t > t_inj0, np.exp(-np.maximum(t - t_inj0 - 1.0, 0.0) / 4.0) * np.minimum((t - t_inj0) / 1.0, 1.0), 0.0)
    heat_K = 0.02 * (melt - wall)
    out[C["mold_temp_fixed_C"]] = wall - 0.5 * half + heat_K * bump
    out[C["mold_temp_moving_C"]] = wall + 0.5 * half + heat_K * bump
    contact = np.where(t > t_inj0 + ft[-1] * 0.1, np.exp(-np.maximum(t - t_inj0, 0.0) / 2.0), 0.0)
    out[C["cavity_wall_temp_C"]] = wall + 0.3 * (melt - wall) * contact
    q = extra["coolant_flow_l_min"]
    out[C["coolant_flow_fixed_l_min"]] = q
    out[C["coolant_flow_moving_l_min"]] = q * 0.97
    out[C["coolant_inlet_temp_C"]] = sp["mold_temp_C"] - 1.5
    out[C["coolant_outlet_temp_C"]] = sp["mold_temp_C"] - 1.5 + 0.8 + 0.6 * bump

    # --- clamp, tie bars
    clamp = sp["clamp_force_kN"]
    f_t = [0.0, 0.7 * t_inj0, t_inj0, t_cool_end, t_cool_end + 0.3 * timing.open_s, t[-1] + dt_s]
    f_v = [0.0, 0.0, clamp, clamp, 0.0, 0.0]
    force = np.interp(t, f_t, f_v) + 0.05 * out[C["cavity_pressure_near_gate_bar"]] * 1e5 * extra["projected_area_m2"] / 1e3
    out[C["clamp_force_kN"]] = force
    for j, share in enumerate(TIE_BAR_SHARE):
        out[C[f"tie_bar_strain_{j + 1}_ue"]] = force / 4.0 * share * MICROSTRAIN_PER_KN

    # --- dosing
    dosing = (t >= t_hold_end) & (t < t_dose_end)
    out[C["screw_torque_Nm"]] = np.where(dosing, float(phys["screw_torque_Nm"][i]), 0.0)
    out[C["screw_speed_rpm"]] = np.where(dosing, sp["screw_speed_rpm"], 0.0)
    out[C["back_pressure_bar"]] = np.where(dosing, bp, 0.0)
    out[C["oil_temp_C"]] = extra["oil_C"]

    # --- mold and ejector strokes
    m_t = [0.0, t_inj0, t_cool_end, t_open_end, t_eject_end + timing.takeout_s + dt_s]
    m_v = [MOLD_STROKE_MM, 0.0, 0.0, MOLD_STROKE_MM, MOLD_STROKE_MM]
    out[C["mold_opening_mm"]] = np.interp(t, m_t, m_v)
    e_t = [0.0, t_open_end, t_open_end + 0.5 * timing.eject_s, t_eject_end, t[-1] + dt_s]
    out[C["ejector_position_mm"]] = np.interp(t, e_t, [0.0, 0.0, EJECTOR_STROKE_MM, 0.0, 0.0])

    # --- phase code
    edges = np.array([t_inj0, t_inj0 + float(phys["t_switchover_s"][i]), t_hold_end, t_cool_end, t_open_end, t_eject_end])
    codes = np.array([PHASE_CODES["close"], PHASE_CODES["inject"], PHASE_CODES["hold"], PHASE_CODES["cool"],
                      PHASE_CODES["open"], PHASE_CODES["eject"], PHASE_CODES["idle"]], dtype=np.float32)
    out[C["phase"]] = codes[np.searchsorted(edges, t, side="right")]

    # --- velocity, flow and power follow from the curves above
    vel = -np.gradient(out[C["screw_position_mm"]], dt_s)
    out[C["screw_velocity_mm_s"]] = vel
    out[C["injection_flow_cm3_s"]] = vel * area_mm2 / 1e3
    hyd_kW = np.maximum(p_inj * 1e5 * np.maximum(vel, 0.0) * 1e-3 * area_mm2 * 1e-6, 0.0) / 1e3
    screw_kW = out[C["screw_torque_Nm"]] * out[C["screw_speed_rpm"]] * 2 * np.pi / 60.0 / 1e3
    out[C["drive_power_kW"]] = 3.0 + hyd_kW / 0.75 + screw_kW / 0.9

    # --- sensor effects: white noise + per-cycle offset, quantisation
    noise = rng.standard_normal(out.shape, dtype=np.float32)
    noise *= _NOISE * np.float32(noise_scale)
    out += noise
    res = dict(_DEFAULT_RESOLUTION)
    if resolution:
        res.update(resolution)
    for name, q_res in res.items():
        if q_res > 0:
            row = out[C[name]]
            np.round(row / q_res, out=row)
            row *= q_res
    # Consistency with the logged scalars (see module docstring).
    pmax = np.float32(extra["recorded_max_injection_pressure_bar"])
    row = out[C["injection_pressure_bar"]]
    k = int(np.argmax(row))
    np.minimum(row, pmax, out=row)
    row[k] = pmax
    cmin = np.float32(extra["recorded_cushion_mm"])
    row = out[C["screw_position_mm"]]
    k = int(np.argmin(row))
    np.maximum(row, cmin, out=row)
    row[k] = cmin
    return out
