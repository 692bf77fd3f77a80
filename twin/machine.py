"""An injection-molding machine as a SimPy process.

Phases are timeouts in the order a machine runs them: close → inject+hold →
cool (dosing runs in parallel inside it; the phase lasts as long as the
longer of the two) → open → eject → robot take-out (a shared resource).
Breakdowns interrupt the process (SimPy's machine-shop pattern): the
running cycle is aborted, the repair needs the operator, and the mold cools
and warms up again after the restart.

Physics is evaluated in batches: when the machine needs its next cycle and
its plan is empty, it draws the shot-to-shot variation of the next
``BATCH_CYCLES`` cycles from its own generator, evaluates the slow state
(warm-up, oil, ambient, wear) at their predicted start times and runs the
vectorised physics once. Any change (setpoints, lot, maintenance, a
breakdown) discards the rest of the plan. The predicted start times differ
from the actual ones only by robot waits, a few seconds on states that
drift over tens of minutes.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import simpy

from physics.molding.channels import CHANNEL_NAMES
from physics.molding.curves import CycleTiming, render_cycle
from physics.molding.cycle import MoldingModel
from twin import machine_state as ms
from twin.column_rows import ColumnBlock
from twin.config import apply_changes
from twin.curve_texture import CurveTexture, apply_curve_texture
from twin.rng import component_rng
from twin.sensor_model import to_logged
from twin.schema import DEFECT_TYPES, SETPOINT_FIELDS

log = logging.getLogger(__name__)

BATCH_CYCLES = 1024


@dataclass
class RunContext:
    run_id: str
    seed: int
    config_hash: str
    code_version: str
    start_epoch_ms: int
    start_hour_of_day: float
    bus: object
    curves: bool
    sample_interval_s: float
    on_cycle: Callable[[float], None] | None = None
    #: Learned sensor texture for the curves (:mod:`twin.curve_texture`); None = the physics' own noise only.
    curve_texture: CurveTexture | None = None


@dataclass
class _Plan:
    phys: dict
    sp: dict
    state: dict
    extra: dict
    lot_ids: list
    i: int = 0
    n: int = 0
    columns: ColumnBlock | None = None


class MoldingMachine:
    """One machine of the cell; ``env.process(machine.run())`` starts it."""

    def __init__(self, env: simpy.Environment, name: str, cfg: dict, ctx: RunContext,
                 robot: simpy.Resource, operator: simpy.Resource):
        self.env, self.name, self.cfg, self.ctx = env, name, cfg, ctx
        self.robot, self.operator = robot, operator
        self.model = MoldingModel.from_config(cfg)
        seed = ctx.seed
        self.rng_process = component_rng(seed, f"{name}.process")
        self.rng_sensors = component_rng(seed, f"{name}.sensors")
        self.rng_curves = component_rng(seed, f"{name}.curves")
        self.rng_lot = component_rng(seed, f"{name}.lot")
        self.rng_breakdown = component_rng(seed, f"{name}.breakdown")
        self.rng_timing = component_rng(seed, f"{name}.timing")
        #: Draws of the curve texture only (none without one), so the other streams stay as they are.
        self.rng_texture = component_rng(seed, f"{name}.texture") if ctx.curve_texture is not None else None
        #: sd of the mold moves' durations (valve and pump response), s; 0 = exact.
        self.move_sd_s = float(cfg["variation"]["machine_move_sd_s"])
        self.setpoints = {k: float(cfg["setpoints"][k]) for k in SETPOINT_FIELDS}
        self.cycle_id = 0
        self.cycles_since_maintenance = 0
        self.t_start = 0.0
        self.t_restart = 0.0
        self.lot_no = 0
        self.lot_cycles = 0
        self.lot_name: str | None = None
        self.lot_factor = self._draw_lot_factor()
        self.plan: _Plan | None = None
        self.proc: simpy.Process | None = None
        self.nominal_cycle_s = 20.0
        self.broken = False
        #: Set by a maintenance stop: the machine finishes its cycle and waits for it.
        self.pause: simpy.Event | None = None

    # --- changes from the schedule -------------------------------------------------
    def apply_config_changes(self, changes: dict[str, object]) -> None:
        """Apply ``{"dotted.key": value}`` changes (a scheduled ``setpoint`` event).

        Setpoints take effect from the next planned cycle; any other key
        (material, mold, machine...) rebuilds the physics model.
        """
        self.cfg = apply_changes(self.cfg, changes)
        for k in SETPOINT_FIELDS:
            self.setpoints[k] = float(self.cfg["setpoints"][k])
        if any(not k.startswith("setpoints.") for k in changes):
            self.model = MoldingModel.from_config(self.cfg)
        self.plan = None

    def change_lot(self, lot_id: str | None = None, viscosity_factor: float | None = None) -> None:
        """Start a new material lot: its viscosity factor is drawn unless given."""
        self.lot_no += 1
        self.lot_cycles = 0
        self.lot_name = lot_id
        self.lot_factor = float(viscosity_factor) if viscosity_factor is not None else self._draw_lot_factor()
        self.plan = None

    @property
    def lot_label(self) -> str:
        return self.lot_name or f"{self.name}-L{self.lot_no:03d}"

    def maintenance_done(self) -> None:
        self.cycles_since_maintenance = 0
        self.t_restart = self.env.now
        self.plan = None

    def _draw_lot_factor(self) -> float:
        cv = float(self.cfg["variation"]["lot_viscosity_cv"])
        # Lognormal with mean 1 and the given coefficient of variation.
        s2 = math.log1p(cv * cv)
        return float(self.rng_lot.lognormal(-0.5 * s2, math.sqrt(s2)))

    # --- batch planning --------------------------------------------------------------
    def _plan_batch(self) -> _Plan:
        cfg, var = self.cfg, self.cfg["variation"]
        B = BATCH_CYCLES
        rng = self.rng_process
        now = self.env.now
        t_pred = now + np.arange(B) * self.nominal_cycle_s
        # Lots: a new lot every lot_size_cycles; the factor for lots beyond
        # the current one is drawn lazily when the lot starts (change_lot).
        lot_size = int(var["lot_size_cycles"])
        if lot_size > 0:
            remaining = max(lot_size - self.lot_cycles, 1)
            B = min(B, remaining)
            t_pred = t_pred[:B]
        amb = ms.ambient_C(t_pred, self.ctx.start_hour_of_day, var["ambient_mean_C"], var["ambient_daily_amplitude_K"])
        oil = ms.oil_C(t_pred, self.t_start, amb, var["oil_steady_C"], var["oil_warmup_tau_min"])
        mold_off = ms.mold_offset_K(t_pred, self.t_restart, var["mold_warmup_deficit_K"], var["mold_warmup_tau_min"])
        cyc = self.cycles_since_maintenance + np.arange(B)
        wear = ms.wear_gap_mm(cyc, cfg["mold"]["wear_gap_per_kcycle_mm"])
        vents = ms.vent_open_fraction(cyc, cfg["mold"]["vent_fouling_per_kcycle"])
        # Shot-to-shot variation: one block of draws per batch, in fixed order.
        z = rng.standard_normal((6, B))
        leak_cv = var["leak_cv"]
        s2 = math.log1p(leak_cv**2)
        leak = cfg["machine"]["check_ring_leak_cm3_s_per_kbar"] * np.exp(-0.5 * s2 + math.sqrt(s2) * z[0])
        # Never below a tenth of nominal: a large configured spread must not
        # turn the flow negative.
        coolant = var["coolant_flow_l_min"] * np.maximum(1 + var["coolant_flow_sd_pct"] / 100.0 * z[4], 0.1)
        # Hotter oil makes the valve-controlled screw run slightly fast
        # (lower oil viscosity, less leakage in the servo valve) [D].
        velocity_factor = (1 + var["velocity_sd_pct"] / 100.0 * z[3]) * (1 + 0.001 * (oil - var["oil_steady_C"]))
        # Less coolant flow → worse heat removal → warmer mold surface (film
        # coefficient ∝ flow^0.8, Dittus-Boelter) [D scaling of a 3 K load rise].
        coolant_rise = 3.0 * ((var["coolant_flow_l_min"] / coolant) ** 0.8 - 1.0)
        state = {
            "lot_factor": np.full(B, self.lot_factor),
            "leak_cm3_s_per_kbar": leak,
            "melt_temp_offset_K": var["melt_temp_sd_K"] * z[1] + 0.05 * (amb - var["ambient_mean_C"]),
            "dosing_offset_cm3": var["dosing_repeatability_cm3"] * z[2],
            "velocity_factor": velocity_factor,
            "mold_temp_offset_K": mold_off + coolant_rise,
            "wear_gap_mm": wear,
            "vent_open_fraction": vents,
            "ambient_C": amb,
        }
        sp = {k: np.full(B, v) for k, v in self.setpoints.items()}
        # The pressure controller holds the hold pressure to within its
        # repeatability: the physics sees the actual, the record the setpoint.
        sp_actual = dict(sp)
        sp_actual["hold_pressure_bar"] = sp["hold_pressure_bar"] * (1 + var["hold_pressure_sd_pct"] / 100.0 * z[5])
        phys = self.model.simulate(sp_actual, state)
        extra = {"oil_C": oil, "coolant_flow_l_min": coolant, "ambient_C": amb}
        lot_ids = [self.lot_label] * B
        return _Plan(phys=phys, sp=sp, state=state, extra=extra, lot_ids=lot_ids, n=B)

    # --- the process ----------------------------------------------------------------
    def run(self):
        env = self.env
        mc = self.model.machine
        while True:
            if self.pause is not None:
                yield self.pause
                self.pause = None
            if self.plan is None or self.plan.i >= self.plan.n:
                self.plan = self._plan_batch()
            plan, i = self.plan, self.plan.i
            ph = plan.phys
            t0 = env.now
            try:
                yield env.timeout(self._move(mc.close_time_s))
                yield env.timeout(float(ph["t_hold_end_s"][i]))
                yield env.timeout(float(ph["cool_phase_s"][i]))
                yield env.timeout(self._move(mc.open_time_s))
                yield env.timeout(self._move(mc.eject_time_s))
                t_take = env.now
                with self.robot.request() as req:
                    yield req
                    yield env.timeout(float(self.cfg["cell"]["robot_takeout_s"]))
            except simpy.Interrupt as stop:
                yield from self._handle_breakdown(t0, stop.cause)
                continue
            plan.i += 1
            self.lot_cycles += 1
            self.cycles_since_maintenance += 1
            self.nominal_cycle_s = env.now - t0
            self._publish(plan, i, t0, env.now, takeout_s=env.now - t_take)
            if int(self.cfg["variation"]["lot_size_cycles"]) > 0 and self.lot_cycles >= int(self.cfg["variation"]["lot_size_cycles"]):
                self.change_lot()
                self._event("lot_change", f"lot {self.lot_label}, viscosity factor {self.lot_factor:.3f}")
            if self.ctx.on_cycle is not None:
                self.ctx.on_cycle(env.now)

    def _move(self, nominal_s: float) -> float:
        """Duration of a mold move: nominal, or with the machine's timing jitter (never below half)."""
        if self.move_sd_s <= 0:
            return nominal_s
        return max(0.5 * nominal_s, nominal_s + self.move_sd_s * float(self.rng_timing.standard_normal()))

    def _handle_breakdown(self, t0: float, cause):
        env = self.env
        self._event("cycle_aborted", f"cycle {self.cycle_id + 1} aborted by breakdown")
        self._event("breakdown", str(cause or "breakdown"))
        self.broken = True
        mttr_s = float(self.cfg["cell"]["mttr_min"]) * 60.0
        # Lognormal repair time with mean MTTR and cv 0.5.
        s2 = math.log1p(0.25)
        repair = float(self.rng_breakdown.lognormal(math.log(mttr_s) - 0.5 * s2, math.sqrt(s2)))
        t_req = env.now
        with self.operator.request() as req:
            yield req
            yield env.timeout(repair)
        self.broken = False
        self._event("repair_done", f"repair {repair / 60:.1f} min, operator wait {max(env.now - t_req - repair, 0.0) / 60:.1f} min",
                    duration_s=env.now - t_req)
        if self.cfg["cell"]["restart_warmup"]:
            self.t_restart = env.now
            self._event("warmup_start", "mold warm-up after restart")
        self.plan = None

    def breakdowns(self):
        """Breakdown process: exponential times between failures while running."""
        mtbf_h = float(self.cfg["cell"]["mtbf_h"])
        if mtbf_h <= 0:
            return
        while True:
            yield self.env.timeout(float(self.rng_breakdown.exponential(mtbf_h * 3600.0)))
            if not self.broken and self.pause is None and self.proc is not None and self.proc.is_alive:
                self.proc.interrupt("breakdown")

    # --- records ----------------------------------------------------------------------
    def _event(self, kind: str, detail: str, duration_s: float | None = None) -> None:
        now = self.env.now
        self.ctx.bus.publish("events", {
            "run_id": self.ctx.run_id, "time": self.ctx.start_epoch_ms + int(round(now * 1000)),
            "sim_time_s": now, "component": self.name, "kind": kind, "detail": detail, "duration_s": duration_s,
        })

    def _record_columns(self, plan: _Plan) -> dict[str, list]:
        """Per-cycle record values of a whole batch, computed vectorised once.

        Logged scalars get the sensor model here: noise from the machine's
        own sensor generator and quantisation to the sensor resolution.
        """
        ph, sp, st = plan.phys, plan.sp, plan.state
        sens = self.cfg["sensors"]
        B = plan.n
        z = self.rng_sensors.standard_normal((4, B))
        ns = float(sens["noise_scale"])

        def q(x, res):
            return np.round(x / res) * res if res > 0 else np.asarray(x, dtype=float)

        p_res, t_res, x_res = sens["pressure_resolution_bar"], sens["temperature_resolution_K"], sens["position_resolution_mm"]
        half = self.model.mold.half_temp_difference_K
        wall = ph["wall_C"]
        cols = {k: sp[k] for k in SETPOINT_FIELDS}
        cols.update({
            "injection_time_s": ph["injection_time_s"],
            "hold_end_time_s": ph["t_hold_end_s"],
            "dosing_time_s": ph["dosing_time_s"],
            "cushion_mm": q(to_logged("cushion_mm", ph["cushion_mm"] + 0.01 * ns * z[1], sens), x_res),
            "max_injection_pressure_bar": q(to_logged("max_injection_pressure_bar",
                                                      ph["max_injection_pressure_bar"] + 1.0 * ns * z[0], sens), p_res),
            "switchover_pressure_bar": q(to_logged("switchover_pressure_bar", ph["switchover_pressure_bar"], sens),
                                         p_res),
            "max_cavity_pressure_bar": q(ph["max_cavity_pressure_bar"], p_res),
            "nozzle_melt_temp_C": q(to_logged("nozzle_melt_temp_C", ph["melt_C"] + 0.3 * ns * z[3], sens), t_res),
            "mold_temp_fixed_C": q(wall - 0.5 * half, t_res),
            "mold_temp_moving_C": q(wall + 0.5 * half, t_res),
            "part_weight_g": q(ph["part_weight_g"] + sens["weight_sd_g"] * ns * z[2], sens["weight_resolution_g"]),
            "volumetric_shrinkage_pct": ph["volumetric_shrinkage_pct"],
            "warpage_mm": ph["warpage_mm"],
            "ejection_temp_C": ph["ejection_mean_temp_C"],
            "hidden_lot_viscosity_factor": st["lot_factor"],
            "hidden_check_ring_leak_cm3_s_per_kbar": st["leak_cm3_s_per_kbar"],
            "hidden_ambient_temp_C": st["ambient_C"],
            "hidden_oil_temp_C": plan.extra["oil_C"],
            "hidden_mold_wear_gap_mm": st["wear_gap_mm"],
            "hidden_vent_open_fraction": st["vent_open_fraction"],
            "hidden_mold_warmup_K": st["mold_temp_offset_K"],
            "hidden_melt_temp_C": ph["melt_C"],
            "hidden_fill_fraction": ph["fill_fraction"],
            "hidden_flow_front_temp_C": ph["flow_front_temp_C"],
            "hidden_gate_freeze_time_s": ph["gate_freeze_time_s"],
            "hidden_seal_pressure_bar": ph["seal_pressure_bar"],
            "hidden_parting_gap_mm": ph["parting_gap_mm"],
            "hidden_flash_critical_gap_mm": ph["flash_critical_gap_mm"],
            "hidden_air_temp_C": ph["air_temp_C"],
            "hidden_ejection_core_temp_C": ph["ejection_core_temp_C"],
            "good": ph["good"],
            "defect_type": ph["defect_type"],
        })
        for d in DEFECT_TYPES:
            cols[f"defect_{d}"] = ph[f"defect_{d}"]
        cols = {k: np.asarray(v) for k, v in cols.items()}
        # Constant per batch, and per-cycle fields filled in at publish time.
        ctx = self.ctx
        const = {
            "run_id": ctx.run_id, "source": "sim", "machine_id": self.name,
            "material_grade": self.cfg["material"]["grade"],
            "glass_fiber_pct": float(self.cfg["material"]["glass_fiber_pct"]),
            "experiment": None, "seed": ctx.seed, "config_hash": ctx.config_hash,
            "code_version": ctx.code_version,
            "generator_checkpoint": None if ctx.curve_texture is None or not ctx.curves else ctx.curve_texture.checkpoint,
        }
        for k, v in const.items():
            cols[k] = [v] * B
        cols["lot_id"] = list(plan.lot_ids)
        for k in ("cycle_id", "start_time", "end_time"):
            cols[k] = np.zeros(B, dtype=np.int64)
        for k in ("sim_time_s", "cycle_time_s"):
            cols[k] = np.zeros(B, dtype=np.float64)
        return ColumnBlock(cols, B)

    def _publish(self, plan: _Plan, i: int, t0: float, t1: float, takeout_s: float) -> None:
        self.cycle_id += 1
        if plan.columns is None:
            plan.columns = self._record_columns(plan)
        cols = plan.columns.columns
        ph, sp = plan.phys, plan.sp
        mc = self.model.machine
        half = self.model.mold.half_temp_difference_K
        sens = self.cfg["sensors"]
        ns = float(sens["noise_scale"])
        p_res, x_res = sens["pressure_resolution_bar"], sens["position_resolution_mm"]
        cols["cycle_id"][i] = self.cycle_id
        cols["start_time"][i] = self.ctx.start_epoch_ms + int(round(t0 * 1000))
        cols["end_time"][i] = self.ctx.start_epoch_ms + int(round(t1 * 1000))
        cols["sim_time_s"][i] = t0
        cols["cycle_time_s"][i] = t1 - t0
        max_p, cushion = float(cols["max_injection_pressure_bar"][i]), float(cols["cushion_mm"][i])
        self.ctx.bus.publish("cycles", plan.columns.row(i))
        if self.ctx.curves:
            timing = CycleTiming(close_s=mc.close_time_s, hold_end_s=float(ph["t_hold_end_s"][i]),
                                 cool_s=float(ph["cool_phase_s"][i]), open_s=mc.open_time_s,
                                 eject_s=mc.eject_time_s, takeout_s=takeout_s)
            sp_i = {k: float(sp[k][i]) for k in SETPOINT_FIELDS}
            extra = {
                "oil_C": float(plan.extra["oil_C"][i]), "coolant_flow_l_min": float(plan.extra["coolant_flow_l_min"][i]),
                "screw_area_mm2": self.model.screw_area_m2 * 1e6, "intensification_ratio": mc.intensification_ratio,
                "half_diff_K": half, "projected_area_m2": self.model.geometry.projected_area_m2,
                "recorded_max_injection_pressure_bar": max_p, "recorded_cushion_mm": cushion,
            }
            res = {"injection_pressure_bar": p_res, "cavity_pressure_near_gate_bar": p_res,
                   "cavity_pressure_far_bar": p_res, "screw_position_mm": x_res}
            arr = render_cycle(ph, i, timing, sp_i, extra, self.ctx.sample_interval_s, self.rng_curves,
                               noise_scale=ns, resolution=res)
            if self.ctx.curve_texture is not None:
                apply_curve_texture(self.ctx.curve_texture, arr, CHANNEL_NAMES, self.ctx.sample_interval_s,
                                    self.rng_texture)
            row = {
                "run_id": self.ctx.run_id, "source": "sim", "machine_id": self.name, "cycle_id": self.cycle_id,
                "sample_interval_s": self.ctx.sample_interval_s, "n_samples": arr.shape[1],
            }
            for j, name in enumerate(CHANNEL_NAMES):
                row[name] = arr[j]
            self.ctx.bus.publish("curves", row)
