"""Packing and holding: mass flow through a freezing gate until it seals.

After filling ends (the cavity is full, or the front has stalled) the mass in it grows (or, after the
hold pressure drops, shrinks by backflow) through the gate:

    dm/dt = ρ_in · G(t) · (p_drive(t) − p_cav(m, T̄(t)))

* G(t) = 1/(R_gate + R_cavity) is the hydraulic conductance of the gate
  slit and of half the cavity length, each with the still-molten gap from
  the finite-slab temperature profile
  (:func:`physics.molding.cooling.molten_fraction`); the gate seals when no
  molten core is left. Its clock starts when the melt first reaches the
  gate (the end of runner filling), the usual gate-freeze estimate: a slow
  hold-phase fill therefore leaves less time for packing, and a fill that
  is still running when the gate seals is a short shot.
* p_cav follows from the cavity's mean specific volume V/m and its mean
  temperature T̄(t) by inverting the Tait equation (:mod:`physics.molding.pvt`);
  T̄(t) is the slab-mean solution from the melt's mean arrival time.
* p_drive is the screw pressure: in the velocity phase (cavity full before
  V/P switchover) the screw keeps moving at the commanded speed and
  compresses the melt until the injection-pressure limit; then the hold
  pressure until ``hold_time_s`` after the switchover; then the back
  nozzle pressure after hold (``p_back_Pa``: 0 for a machine that
  decompresses at hold end, up to the back pressure for one that starts
  dosing against a closed shut-off), which lets melt flow back out of an
  unsealed gate.
* The stiff ODE is stepped with a linearly implicit Euler scheme,
  dp/dm = 1/(κ·m) from the Tait compressibility, on a time grid that is
  fine right after filling (the pressure spike) and coarse later.

The mass and pressure at sealing set the part weight and the volumetric
shrinkage (:mod:`physics.molding.shrinkage`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from physics.molding import pvt
from physics.molding.cooling import mean_temperature_ratio, molten_fraction
from physics.molding.geometry import MoldGeometry
from physics.molding.hydraulics import slit_pressure_drop_Pa
from physics.molding.materials import Material

N_STEPS = 36
#: Minimum molten fraction of the gate below which it counts as sealed.
SEALED_FRACTION = 0.02


@dataclass
class PackInputs:
    melt_temp_C: np.ndarray
    wall_temp_C: np.ndarray
    fill_temp_C: np.ndarray          # mean temperature of the melt as it came to rest
    lot_factor: np.ndarray
    alpha_m2_s: np.ndarray
    glass_mass_fraction: np.ndarray
    q_velocity_m3_s: np.ndarray
    q_hold_max_m3_s: np.ndarray
    p_limit_Pa: np.ndarray
    p_hold_Pa: np.ndarray
    p_back_Pa: np.ndarray
    hold_time_s: np.ndarray
    dosing_volume_m3: np.ndarray
    switchover_volume_m3: np.ndarray
    leak_m3_s_per_Pa: np.ndarray
    # State at the end of filling:
    t_full_s: np.ndarray
    t_switchover_s: np.ndarray       # nan if not yet switched over
    switch_not_before_s: np.ndarray  # position reached while filling: control switches at this time (else -inf)
    switchover_delay_s: np.ndarray   # the machine's response after the switchover position
    swept_m3: np.ndarray
    p_inj_Pa: np.ndarray
    mean_arrival_s: np.ndarray
    gate_arrival_s: np.ndarray       # melt reached the gate
    fill_fraction: np.ndarray        # filled share of the cavity: a stalled short shot is packed too


@dataclass
class PackResult:
    t_seal_s: np.ndarray
    t_switchover_s: np.ndarray
    t_hold_end_s: np.ndarray
    mass_kg: np.ndarray
    p_seal_Pa: np.ndarray
    p_cav_max_Pa: np.ndarray
    p_inj_max_Pa: np.ndarray
    swept_max_m3: np.ndarray
    rec_t_s: np.ndarray              # (B, N_STEPS + 1)
    rec_p_inj_Pa: np.ndarray
    rec_p_near_Pa: np.ndarray
    rec_p_far_Pa: np.ndarray
    rec_swept_m3: np.ndarray


def pack_cavity(mat: Material, geo: MoldGeometry, inp: PackInputs) -> PackResult:
    c = mat.viscosity
    # The filled volume is what the pressure packs: a fill that stalled short
    # of the end (hold time over, front frozen) still takes pressure behind
    # the front, so its weight joins the full parts' continuously.
    V = geo.cavity_volume_m3 * inp.fill_fraction
    Tw, Tm = inp.wall_temp_C, inp.melt_temp_C
    w = inp.glass_mass_fraction
    Tnf = mat.no_flow_temp_C
    h, hg = geo.wall_thickness_m, geo.gate_thickness_m

    def cavity_temp(t):
        return Tw + (inp.fill_temp_C - Tw) * mean_temperature_ratio(t - inp.mean_arrival_s, h, inp.alpha_m2_s)

    t = inp.t_full_s.copy()
    # Mass at the end of filling: the melt at rest at the mean filling pressure
    # in the cavity (about a third of the screw pressure reaches it).
    p_cav = 0.3 * inp.p_inj_Pa
    m = V / pvt.specific_volume_m3_kg(mat.pvt, cavity_temp(t), p_cav, w)
    swept = inp.swept_m3.copy()
    p_inj = inp.p_inj_Pa.copy()
    t_sw = inp.t_switchover_s.copy()
    sealed = np.zeros(len(t), dtype=bool)
    t_seal = np.where(sealed, t, np.nan)
    p_seal = np.where(sealed, 0.0, np.nan)
    m_seal = np.where(sealed, m, np.nan)
    p_cav_max = p_cav.copy()
    p_inj_max = p_inj.copy()
    swept_max = swept.copy()
    q_prev = np.where(np.isnan(inp.t_switchover_s), inp.q_velocity_m3_s, inp.q_hold_max_m3_s)
    # The horizon: long enough for the thickest section to freeze shut.
    t_gate_seal_est = 2.0 * hg**2 / (np.pi**2 * inp.alpha_m2_s) + 0.5 - (t - inp.gate_arrival_s)
    horizon = np.maximum(np.maximum(t_gate_seal_est, 0.2), np.nan_to_num(t_sw, nan=0.0) + inp.hold_time_s - t + 0.5)
    grid = (np.arange(1, N_STEPS + 1) / N_STEPS) ** 2
    rec_t = np.zeros((len(t), N_STEPS + 1))
    rec_pi = np.zeros_like(rec_t)
    rec_pn = np.zeros_like(rec_t)
    rec_pf = np.zeros_like(rec_t)
    rec_s = np.zeros_like(rec_t)
    rec_t[:, 0], rec_pi[:, 0], rec_pn[:, 0], rec_pf[:, 0], rec_s[:, 0] = t, p_inj, p_cav, 0.0, swept
    t0 = t.copy()
    hold_at = np.where(np.isfinite(inp.switch_not_before_s), inp.switch_not_before_s, np.inf)
    for j in range(N_STEPS):
        t_new = t0 + horizon * grid[j]
        dt = t_new - t
        t_mid = t + 0.5 * dt
        # Drive pressure and mode.
        in_vel = np.isnan(t_sw)
        hold_end = np.where(in_vel, np.inf, t_sw + inp.hold_time_s)
        in_hold = ~in_vel & (t_mid < hold_end)
        # Conductance of gate + half cavity, from the molten gaps.
        age = t_mid - inp.gate_arrival_s
        frac_g = molten_fraction(age, hg, inp.alpha_m2_s, Tm, Tw, Tnf)
        frac_c = molten_fraction(t_mid - inp.mean_arrival_s, h, inp.alpha_m2_s, inp.fill_temp_C, Tw, Tnf)
        gate_open = frac_g > SEALED_FRACTION
        q_eval = np.maximum(np.abs(q_prev), 1e-7)
        T_core = np.maximum(Tw + (Tm - Tw) * 0.5 * (1 + frac_g), Tnf)
        dp_gate = slit_pressure_drop_Pa(c, q_eval, geo.gate_width_m, np.maximum(frac_g, SEALED_FRACTION) * hg,
                                        geo.gate_length_m, T_core, inp.lot_factor)
        dp_cav = slit_pressure_drop_Pa(c, q_eval, geo.cavity_width_m, np.maximum(frac_c, SEALED_FRACTION) * h,
                                       0.5 * geo.cavity_length_m, np.maximum(inp.fill_temp_C, Tnf), inp.lot_factor)
        G = q_eval / (dp_gate + dp_cav)  # m³/(s·Pa), secant conductance at the current flow
        T_cav = cavity_temp(t_new)
        v_now = V / m
        # Warm-started Newton: the cavity pressure moves little per step.
        p_cav = pvt.pressure_for_specific_volume_Pa(mat.pvt, T_cav, v_now, w, iterations=3, p_start_Pa=p_cav)
        kappa = pvt.compressibility_1_Pa(mat.pvt, np.maximum(T_cav, Tnf), p_cav)
        rho_in = pvt.density_kg_m3(mat.pvt, Tm, p_inj, w)
        # Velocity phase after full: the screw keeps moving and compresses the
        # melt ahead of it; pressure rises by the displaced volume over κ·V_front.
        v_front = np.maximum(inp.dosing_volume_m3 - swept, 1e-6)
        kappa_b = pvt.compressibility_1_Pa(mat.pvt, Tm, p_inj)
        # The displaced volume that did not flow on into the cavity (the last
        # step's inflow, a one-step lag) or back over the check ring compresses it.
        compressed = (inp.q_velocity_m3_s - np.maximum(q_prev, 0.0) - inp.leak_m3_s_per_Pa * p_inj) * dt
        p_vel = np.clip(p_inj + compressed / (kappa_b * v_front), 0.0, inp.p_limit_Pa)
        p_drive = np.where(in_vel, p_vel, np.where(in_hold, inp.p_hold_Pa, inp.p_back_Pa))
        # Linearly implicit step of dm/dt = ρ·G·(p_drive − p_cav).
        a = rho_in * G * dt
        dm = a * (p_drive - p_cav) / (1.0 + a / (kappa * m))
        dm = np.where(in_hold, np.minimum(dm, rho_in * inp.q_hold_max_m3_s * dt), dm)
        dm = np.where(gate_open & ~sealed, dm, 0.0)
        m = m + dm
        q_prev = dm / (rho_in * np.maximum(dt, 1e-9))
        p_cav = pvt.pressure_for_specific_volume_Pa(mat.pvt, T_cav, V / m, w, iterations=3, p_start_Pa=p_cav)
        # Screw: moves by the delivered volume plus check-ring leakage.
        leak = inp.leak_m3_s_per_Pa * p_drive * dt
        d_swept = np.where(in_vel, inp.q_velocity_m3_s * dt, np.maximum(dm / rho_in, 0.0) + leak)
        d_swept = np.where(sealed & ~in_vel, leak, d_swept)  # sealed gate: only leakage moves the screw
        d_swept = np.where(~in_vel & ~in_hold, 0.0, d_swept)  # dosing: the screw retracts (curves handle it)
        swept = np.minimum(swept + d_swept, inp.dosing_volume_m3)
        # The screw keeps its pressure on a sealed gate until the hold time ends.
        p_inj = p_drive
        # Switchover by screw position during the velocity phase.
        # Position reached now (filling ended first): control switches after the
        # machine's response delay; reached while filling: at the given time.
        hold_at = np.where(in_vel & ~np.isfinite(hold_at) & (swept >= inp.switchover_volume_m3),
                           t_new + inp.switchover_delay_s, hold_at)
        newly = in_vel & (t_new >= hold_at)
        t_sw = np.where(newly, t_new, t_sw)
        # Pressure at the two cavity sensors: the flow gradient splits them.
        dp_flow = np.clip(q_prev, 0.0, None) * dp_cav / q_eval
        p_near = p_cav + 0.5 * dp_flow
        p_far = np.maximum(p_cav - 0.5 * dp_flow, 0.0) * (frac_c > SEALED_FRACTION)
        p_cav_max = np.maximum(p_cav_max, np.where(sealed, 0.0, p_near))
        p_inj_max = np.maximum(p_inj_max, p_inj)
        swept_max = np.maximum(swept_max, swept)
        now_sealed = ~sealed & ~gate_open
        t_seal = np.where(now_sealed, t_mid, t_seal)
        p_seal = np.where(now_sealed, p_cav, p_seal)
        m_seal = np.where(now_sealed, m, m_seal)
        sealed = sealed | now_sealed
        t = t_new
        rec_t[:, j + 1], rec_pi[:, j + 1], rec_pn[:, j + 1], rec_pf[:, j + 1], rec_s[:, j + 1] = (
            t, p_inj, np.where(sealed, p_cav, p_near), np.where(sealed, np.minimum(p_far, p_cav), p_far), swept)
    # Not sealed within the horizon (should not happen): seal at the end.
    left = ~sealed
    t_seal = np.where(left, t, t_seal)
    p_seal = np.where(left, p_cav, p_seal)
    m_seal = np.where(left, m, m_seal)
    t_hold_end = np.nan_to_num(t_sw, nan=inp.t_full_s) + inp.hold_time_s
    return PackResult(
        t_seal_s=t_seal,
        t_switchover_s=np.where(np.isnan(t_sw), inp.t_full_s, t_sw),
        t_hold_end_s=t_hold_end,
        mass_kg=m_seal,
        p_seal_Pa=p_seal,
        p_cav_max_Pa=p_cav_max,
        p_inj_max_Pa=p_inj_max,
        swept_max_m3=swept_max,
        rec_t_s=rec_t,
        rec_p_inj_Pa=rec_pi,
        rec_p_near_Pa=rec_pn,
        rec_p_far_Pa=rec_pf,
        rec_swept_m3=rec_s,
    )
