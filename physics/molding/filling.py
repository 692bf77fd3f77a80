"""Filling of a strip cavity: velocity phase, V/P switchover, pressure-limited flow, freeze-off.

Vectorised over a batch of cycles (every array argument has shape (B,)).
The cavity is cut into ``N_CELLS`` equal cells along the flow length; the
loop advances the flow front one cell per step (a volume step), so the
time step follows from the flow rate: dt = ΔV / Q.

Per step:

1. Frozen skin in every filled cell from its age since the melt arrived
   (semi-infinite conduction, :func:`physics.molding.cooling.frozen_layer_m`);
   the open gap is h − 2δ.
2. Bulk melt temperature along the path (for the viscosity) and at the
   flow front (for freeze-off), Lévêque's thermal-entrance solution
   for laminar slit flow with a cold wall: mean Nusselt number
   Nu_m = 1.85·Gz^(1/3) (Shah & London, *Laminar Flow Forced Convection in
   Ducts*, 1978, Lévêque asymptote), which integrates to
   θ_b(x) = exp(−4·Nu_m/Gz) = exp(−7.4·Gz^(−2/3)), Gz = 4h²·v̄/(α·x).
   The flow front also gains a fraction ``VISCOUS_HEAT_RETAINED`` of the
   viscous dissipation, whose total per unit volume is the pressure drop
   (ΔT = Δp/(ρ·cp), the energy balance of steady flow).
3. The pressure needed to push the commanded flow Q through runner, gate
   and the filled cells (:mod:`physics.molding.hydraulics`). When it exceeds
   the active limit (the injection-pressure limit in the velocity phase,
   the hold pressure after V/P switchover) the flow falls to where the
   pressure-flow curve meets the limit (two evaluations and a log-log
   secant; at low rates the melt approaches its Newtonian plateau).
4. Leakage back over the check ring (∝ pressure) and compression of the
   melt ahead of the screw (Tait compressibility) are swept by the screw
   but do not reach the mold: the screw position, not the delivered
   volume, triggers the V/P switchover, as on a real machine.
5. A short shot happens when the front temperature falls to the no-flow
   temperature, when a filled cell or the gate freezes shut, when the flow stalls
   (a step longer than ``STALL_STEP_S``), when the screw bottoms out, or
   when the hold time ends before the cavity is full.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from physics.molding.cooling import frozen_layer_m, molten_fraction
from physics.molding.geometry import MoldGeometry
from physics.molding.hydraulics import round_pressure_drop_Pa, slit_pressure_drop_Pa
from physics.molding.materials import Material

N_CELLS = 40
#: Fraction of viscous dissipation heat kept by the flow front [D assumption:
#: most of it is generated in the high-shear layer next to the cold wall and
#: conducted away; half is a round figure, open to calibration].
VISCOUS_HEAT_RETAINED = 0.5
#: A volume step taking longer than this counts as a stalled front.
STALL_STEP_S = 2.0
#: A cell whose open gap falls below this fraction of the wall is frozen shut.
SHUT_GAP_FRACTION = 0.1
LEVEQUE_COEF = 4.0 * 1.85


@dataclass
class FillInputs:
    """Per-cycle inputs (arrays of shape (B,)) of the filling model; SI units."""

    melt_temp_C: np.ndarray
    wall_temp_C: np.ndarray
    lot_factor: np.ndarray
    alpha_m2_s: np.ndarray
    rho_melt_kg_m3: np.ndarray
    cp_J_kgK: np.ndarray
    compressibility_1_Pa: np.ndarray
    q_velocity_m3_s: np.ndarray      # screw displacement flow commanded in the velocity phase
    q_hold_max_m3_s: np.ndarray
    p_limit_Pa: np.ndarray
    p_hold_Pa: np.ndarray
    hold_time_s: np.ndarray
    dosing_volume_m3: np.ndarray     # melt ahead of the screw after dosing (swept volume at start)
    switchover_volume_m3: np.ndarray
    leak_m3_s_per_Pa: np.ndarray
    #: Machine response: the velocity phase runs this long past the switchover
    #: position before pressure control takes over (valve and controller lag).
    switchover_delay_s: np.ndarray | None = None


@dataclass
class FillResult:
    full: np.ndarray                 # bool, cavity volumetrically full
    fill_fraction: np.ndarray
    t_end_s: np.ndarray              # time the filling loop ended (full or stopped)
    t_switchover_s: np.ndarray       # start of pressure control; nan if not reached while filling
    switch_not_before_s: np.ndarray  # position reached but control not yet switched: switch at this time
    swept_m3: np.ndarray             # screw travel (as volume) at the end of filling
    p_inj_end_Pa: np.ndarray
    p_max_Pa: np.ndarray
    p_switchover_Pa: np.ndarray
    flow_front_temp_C: np.ndarray
    mean_arrival_s: np.ndarray
    in_hold: np.ndarray              # bool, pressure control active at the end
    gate_arrival_s: np.ndarray
    # Records for the curves: (B, N_CELLS + 1) arrays, starting at t = 0.
    rec_t_s: np.ndarray
    rec_p_inj_Pa: np.ndarray
    rec_swept_m3: np.ndarray
    rec_p_gate_Pa: np.ndarray


def fill_cavity(mat: Material, geo: MoldGeometry, inp: FillInputs) -> FillResult:
    """Run the filling loop for a batch of cycles."""
    c = mat.viscosity
    B = inp.melt_temp_C.shape[0]
    n = N_CELLS
    dx = geo.cavity_length_m / n
    dV = geo.cavity_volume_m3 / n
    x_mid = (np.arange(n) + 0.5) * dx
    h, W = geo.wall_thickness_m, geo.cavity_width_m
    Tm, Tw = inp.melt_temp_C, inp.wall_temp_C
    Tnf = mat.no_flow_temp_C
    inv_n = 1.0 / c.n
    # Runner first: it fills without cavity resistance; its volume is swept.
    q_ref = inp.q_velocity_m3_s
    p_runner_ref = round_pressure_drop_Pa(c, q_ref, geo.runner_diameter_m / 2, geo.runner_length_m, Tm, inp.lot_factor)

    t = geo.runner_volume_m3 / q_ref
    t_gate = t.copy()
    swept = geo.runner_volume_m3 + inp.compressibility_1_Pa * (p_runner_ref * 0.5) * inp.dosing_volume_m3
    t_arr = np.full((B, n), np.inf)
    active = np.ones(B, bool)
    in_hold = np.zeros(B, bool)
    t_sw = np.full(B, np.nan)
    p_sw = np.full(B, np.nan)
    pos_reached = np.zeros(B, bool)
    hold_at = np.full(B, np.inf)
    delay = np.zeros(B) if inp.switchover_delay_s is None else np.asarray(inp.switchover_delay_s, dtype=float)
    filled = np.zeros(B)
    p_inj = p_runner_ref * 0.5
    p_max = p_inj.copy()
    T_front = Tm.copy()
    rec_t = np.zeros((B, n + 1))
    rec_p = np.zeros((B, n + 1))
    rec_s = np.zeros((B, n + 1))
    rec_pg = np.zeros((B, n + 1))
    rec_t[:, 0], rec_p[:, 0], rec_s[:, 0] = t, p_inj, swept
    rho_cp = inp.rho_melt_kg_m3 * inp.cp_J_kgK
    q_prev = q_ref.copy()
    front_age = np.zeros(B)
    theta_range = Tm - Tw

    for k in range(n):
        # Provisional step time at the reference (velocity-phase) flow.
        q_cmd = np.where(in_hold, inp.q_hold_max_m3_s, q_ref)
        dt0 = dV / q_cmd
        age = (t + 0.5 * dt0)[:, None] - t_arr[:, : k + 1]
        age[:, k] = 0.5 * dt0  # the front cell is as old as half a step
        delta = frozen_layer_m(age, inp.alpha_m2_s[:, None], Tm[:, None], Tw[:, None], Tnf)
        gap = h - 2.0 * delta
        shut = (gap < SHUT_GAP_FRACTION * h).any(axis=1)
        gap = np.maximum(gap, SHUT_GAP_FRACTION * h)
        # Bulk temperature along the filled length (Lévêque), at the mean
        # velocity of the previous step (the actual, possibly pressure-limited flow).
        # Written in the residence time of the melt at x, t_res = x/v̄, which
        # cannot exceed the time since melt first entered the cavity: a stalling
        # flow cools its melt over real time, not instantly.
        v_bar = q_prev / (W * h)
        t_res = np.minimum(x_mid[None, : k + 1] / v_bar[:, None], (t - t_gate + dt0)[:, None])
        theta_b = np.exp(-LEVEQUE_COEF * (inp.alpha_m2_s[:, None] * t_res / (4.0 * h * h)) ** (2.0 / 3.0))
        T_b = Tw[:, None] + theta_range[:, None] * theta_b
        T_eval = np.maximum(T_b, Tnf)
        def pressure_at(q):
            """Screw-to-front pressure (and the cavity's share) at flow q, Cross viscosity throughout."""
            pc = slit_pressure_drop_Pa(c, q[:, None], W, gap, dx, T_eval, inp.lot_factor[:, None]).sum(axis=1)
            pr = round_pressure_drop_Pa(c, q, geo.runner_diameter_m / 2, geo.runner_length_m, Tm, inp.lot_factor)
            pg = slit_pressure_drop_Pa(c, q, geo.gate_width_m, geo.gate_thickness_m, geo.gate_length_m, Tm,
                                       inp.lot_factor)
            return pr + pg + pc, pc

        def flow_at_limit(q_want, p_lim):
            """Flow, pressure and cavity share when the pressure may not exceed p_lim.

            Two evaluations of the real (Cross) pressure-flow curve and a
            log-log secant between them: a plain power-law extrapolation
            with the high-rate index n would understate the flow at low
            pressure, where the melt approaches its Newtonian plateau.
            """
            p_want, pc_want = pressure_at(q_want)
            limited = p_want > p_lim
            if not limited.any():
                return q_want, p_want, pc_want
            q1 = q_want * np.minimum(1.0, p_lim / p_want) ** inv_n
            p1, pc1 = pressure_at(q1)
            with np.errstate(divide="ignore", invalid="ignore"):
                n_eff = np.log(p_want / p1) / np.log(q_want / q1)
            n_eff = np.clip(np.nan_to_num(n_eff, nan=c.n), c.n, 1.0)
            q2 = q1 * (p_lim / p1) ** (1.0 / n_eff)
            share = pc1 / p1
            q_out = np.where(limited, q2, q_want)
            p_out = np.where(limited, p_lim, p_want)
            return q_out, p_out, np.where(limited, p_out * share, pc_want)

        p_lim = np.where(in_hold, inp.p_hold_Pa, inp.p_limit_Pa)
        q, p, p_cav_now = flow_at_limit(q_cmd, p_lim)
        leak = inp.leak_m3_s_per_Pa * p
        q_del = np.maximum(q - leak, 1e-12)
        dt = dV / q_del
        # Switchover inside this step (velocity phase only): split the step.
        comp = inp.compressibility_1_Pa * p * np.maximum(inp.dosing_volume_m3 - swept, 0.0)
        swept_new = geo.runner_volume_m3 + (k + 1) * dV + leak * dt + comp
        swept_new = np.maximum(swept_new, swept)
        p_vel_step = p
        # The screw reaches the switchover position inside this step: log the
        # pressure there; pressure control starts `delay` later (the machine's
        # response), which may be inside this step or a later one.
        reach = active & ~in_hold & ~pos_reached & (swept_new >= inp.switchover_volume_m3)
        if reach.any():
            frac = np.clip((inp.switchover_volume_m3 - swept) / np.maximum(swept_new - swept, 1e-15), 0.0, 1.0)
            # The step's pressure rises from its start value to p as the front
            # crosses the cell: interpolate, so the logged switchover pressure
            # (and the peak after a response delay) vary continuously rather
            # than in cell-sized steps.
            p_sw = np.where(reach, p_inj + frac * (p - p_inj), p_sw)
            hold_at = np.where(reach, t + frac * dt + delay, hold_at)
            pos_reached = pos_reached | reach
        crosses = active & ~in_hold & pos_reached & (t + dt >= hold_at)
        if crosses.any():
            frac_t = np.clip((hold_at - t) / np.maximum(dt, 1e-15), 0.0, 1.0)
            q_h, p_h, _ = flow_at_limit(inp.q_hold_max_m3_s, inp.p_hold_Pa)
            q_h_del = np.maximum(q_h - inp.leak_m3_s_per_Pa * p_h, 1e-12)
            dt_split = frac_t * dt + (1.0 - frac_t) * dV / q_h_del
            t_sw = np.where(crosses, hold_at, t_sw)
            dt = np.where(crosses, dt_split, dt)
            # The velocity phase's last pressure: where the step's rise had got to at hold_at.
            p_vel_step = np.where(crosses, p_inj + frac_t * (p_vel_step - p_inj), p_vel_step)
            p = np.where(crosses, p_h, p)
            in_hold = in_hold | crosses
        # Front temperature: the Lévêque bulk solution written in the residence
        # time of the melt now at the front, θ = exp(−7.4·(α·t_res/(4h²))^(2/3))
        # (Gz = 4h²/(α·t_res)). A slowing flow ages the front melt, but never
        # faster than real time: t_res grows by at most the step duration.
        t_res_new = np.minimum((k + 1) * dx * W * h / np.maximum(q_del, 1e-12), front_age + dt)
        theta_f = np.exp(-LEVEQUE_COEF * (inp.alpha_m2_s * t_res_new / (4.0 * h * h)) ** (2.0 / 3.0))
        T_front_new = Tw + theta_range * theta_f + VISCOUS_HEAT_RETAINED * p_cav_now / rho_cp
        T_front_new = np.minimum(T_front_new, Tm + 30.0)
        hold_over = in_hold & (t + dt > t_sw + inp.hold_time_s)
        bottomed = swept_new > inp.dosing_volume_m3
        # The gate freezes from the moment melt reaches it (see packing).
        gate_sealed = molten_fraction(t + dt - t_gate, geo.gate_thickness_m, inp.alpha_m2_s, Tm, Tw, Tnf) <= 0.02
        stop = active & (shut | gate_sealed | (T_front_new < Tnf) | (dt > STALL_STEP_S) | hold_over | bottomed)
        go = active & ~stop
        t = np.where(go, t + dt, t)
        swept = np.where(go, swept_new, swept)
        p_inj = np.where(active, p, p_inj)
        # The step's pressure, and the velocity-phase pressure just before a switchover
        # inside this step (p now holds the hold-phase part).
        p_max = np.maximum(p_max, np.where(active, np.fmax(p, p_vel_step), 0.0))
        T_front = np.where(go, T_front_new, T_front)
        q_prev = np.where(go, dV / dt, q_prev)
        front_age = np.where(go, t_res_new, front_age)
        t_arr[go, k] = t[go] - 0.5 * dt[go]
        filled = np.where(go, (k + 1) / n, filled)
        # A front stopped by the end of the hold time got part of the way
        # through this cell: credit that share, so the fill fraction (and the
        # weight) fall continuously as the hold time runs short.
        partial = active & hold_over & ~(shut | gate_sealed | (T_front_new < Tnf) | bottomed)
        share = np.clip((t_sw + inp.hold_time_s - t) / np.maximum(dt, 1e-12), 0.0, 1.0)
        filled = np.where(partial, (k + share) / n, filled)
        active = go
        rec_t[:, k + 1] = t
        rec_p[:, k + 1] = p_inj
        rec_s[:, k + 1] = swept
        # Pressure at the gate-side cavity sensor: the cavity's share of the actual pressure.
        rec_pg[:, k + 1] = np.where(go, p_cav_now, rec_pg[:, k])

    finite = np.isfinite(t_arr)
    mean_arr = np.where(finite, t_arr, 0.0).sum(axis=1) / np.maximum(finite.sum(axis=1), 1)
    return FillResult(
        full=filled >= 1.0 - 1e-9,
        fill_fraction=filled,
        t_end_s=t,
        t_switchover_s=t_sw,
        switch_not_before_s=np.where(pos_reached & ~in_hold, hold_at, -np.inf),
        swept_m3=swept,
        p_inj_end_Pa=p_inj,
        p_max_Pa=p_max,
        p_switchover_Pa=p_sw,
        flow_front_temp_C=T_front,
        mean_arrival_s=mean_arr,
        in_hold=in_hold,
        gate_arrival_s=t_gate,
        rec_t_s=rec_t,
        rec_p_inj_Pa=rec_p,
        rec_swept_m3=rec_s,
        rec_p_gate_Pa=rec_pg,
    )
