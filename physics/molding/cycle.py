"""One molding cycle end to end, vectorised over a batch of cycles.

:class:`MoldingModel` holds what does not change from shot to shot (grade,
mold, machine, defect thresholds); :meth:`MoldingModel.simulate` takes the
setpoints and the machine state of B cycles (arrays of shape (B,)) and
returns every physical quantity of those cycles, deterministic given its
inputs (the twin draws the shot-to-shot variation and passes it in).

Chain: plasticizing → melt temperature and dosing time; filling
(:mod:`.filling`) → fill fraction, pressures, flow-front temperature;
packing (:mod:`.packing`) → sealing state, part mass; Tait → shrinkage;
slab cooling → ejection temperatures, warpage; clamp balance → flash;
vent capacity → burn marks; thresholds → defect flags.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from physics.molding import pvt
from physics.molding.clamp import critical_flash_gap_mm, parting_gap_mm, separating_force_kN
from physics.molding.cooling import centre_temperature_ratio, mean_temperature_ratio, thermal_diffusivity_m2_s
from physics.molding.defects import DefectThresholds, classify
from physics.molding.filling import N_CELLS, VISCOUS_HEAT_RETAINED, FillInputs, fill_cavity
from physics.molding.mold_thermal import heat_per_shot_J, surface_rise_K
from physics.molding.geometry import MoldGeometry, screw_area_m2
from physics.molding.materials import GLASS_CP_J_KGK, GLASS_DENSITY_KG_M3, GLASS_K_W_MK, Material, get_material
from physics.molding.packing import PackInputs, pack_cavity
from physics.molding.plasticizing import melt_temperature_rise_K, metering_output_m3_s, screw_torque_Nm
from physics.molding.shrinkage import volumetric_shrinkage
from physics.molding.venting import trapped_air_temp_C
from physics.molding.warpage import warpage_mm

#: Decompression (suck-back) after dosing, s: a fixed machine move.
DECOMPRESSION_S = 0.3


@dataclass(frozen=True)
class MachineParams:
    screw_diameter_mm: float
    intensification_ratio: float
    hold_flow_limit_cm3_s: float
    post_hold_nozzle_pressure_bar: float
    screw_channel_depth_mm: float
    screw_flight_angle_deg: float
    metering_length_mm: float
    close_time_s: float
    open_time_s: float
    eject_time_s: float
    switchover_delay_s: float

    @classmethod
    def from_config(cls, m: dict) -> "MachineParams":
        return cls(**{k: float(m[k]) for k in cls.__dataclass_fields__})


@dataclass(frozen=True)
class MoldExtras:
    half_temp_difference_K: float
    cooling_conductance_W_K: float
    handling_time_s: float
    vent_area_m2: float
    last_fill_air_fraction: float
    parting_gap_initial_mm: float
    mold_stiffness_kN_per_mm: float


class MoldingModel:
    """Reduced-order physics of one machine + mold + grade."""

    def __init__(self, material: Material, glass_fiber_pct: float, geometry: MoldGeometry,
                 machine: MachineParams, mold: MoldExtras, thresholds: DefectThresholds,
                 viscosity_factor: float = 1.0):
        self.material = material
        #: Scales the grade's zero-shear viscosity: the unknown real compound
        #: (filler, additives, lot) against the catalogue grade; calibrated.
        self.viscosity_factor = float(viscosity_factor)
        self.glass_mass_fraction = glass_fiber_pct / 100.0
        self.geometry = geometry
        self.machine = machine
        self.mold = mold
        self.thresholds = thresholds
        self.screw_area_m2 = screw_area_m2(machine.screw_diameter_mm)
        w = self.glass_mass_fraction
        # Compound thermal properties by mass-weighted cp and volume-weighted k
        # (rule of mixtures; glass data in physics.molding.materials).
        self.cp_J_kgK = (1 - w) * material.cp_J_kgK + w * GLASS_CP_J_KGK
        self._k_glass = GLASS_K_W_MK

    @classmethod
    def from_config(cls, cfg: dict) -> "MoldingModel":
        mold = cfg["mold"]
        vent_area = mold["vent_count"] * mold["vent_depth_mm"] * 1e-3 * mold["vent_width_mm"] * 1e-3
        material = get_material(cfg["material"]["grade"])
        f = float(cfg["material"]["specific_volume_factor"])
        e = float(cfg["material"]["thermal_expansion_factor"])
        if f != 1.0 or e != 1.0:
            # A real compound against the catalogue grade: f scales the Tait
            # zero-pressure volumes (denser or lighter), e the temperature
            # slopes b2m, b2s (fibres restrain the matrix's thermal expansion
            # beyond the volume-additive mixture rule; Schapery's bounds).
            t = material.pvt
            material = replace(material, pvt=replace(t, b1m=t.b1m * f, b1s=t.b1s * f, b7=t.b7 * f,
                                                     b2m=t.b2m * f * e, b2s=t.b2s * f * e))
        return cls(
            material=material,
            glass_fiber_pct=float(cfg["material"]["glass_fiber_pct"]),
            geometry=MoldGeometry.from_config(mold),
            machine=MachineParams.from_config(cfg["machine"]),
            mold=MoldExtras(
                half_temp_difference_K=float(mold["half_temp_difference_K"]),
                cooling_conductance_W_K=float(mold["cooling_conductance_W_K"]),
                handling_time_s=float(cfg["cell"]["robot_takeout_s"]),
                vent_area_m2=vent_area,
                last_fill_air_fraction=float(mold["last_fill_air_fraction"]),
                parting_gap_initial_mm=float(mold["parting_gap_initial_mm"]),
                mold_stiffness_kN_per_mm=float(mold["mold_stiffness_kN_per_mm"]),
            ),
            thresholds=DefectThresholds.from_config(cfg["defects"]),
            viscosity_factor=float(cfg["material"]["viscosity_factor"]),
        )

    def _conductivity(self, rho_kg_m3):
        """k of the compound: volume fraction of glass from the mass fraction and densities."""
        w = self.glass_mass_fraction
        if w == 0:
            return self.material.k_W_mK
        phi = w * rho_kg_m3 / GLASS_DENSITY_KG_M3
        return (1 - phi) * self.material.k_W_mK + phi * self._k_glass

    def simulate(self, sp: dict[str, np.ndarray], st: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Physics of B cycles.

        ``sp``: setpoints (names of :data:`twin.schema.SETPOINT_FIELDS`), arrays (B,).
        ``st``: state and shot-to-shot disturbances, arrays (B,):
        ``lot_factor``, ``leak_cm3_s_per_kbar``, ``melt_temp_offset_K``,
        ``dosing_offset_cm3``, ``velocity_factor``, ``mold_temp_offset_K``,
        ``wear_gap_mm``, ``vent_open_fraction``, ``ambient_C``.
        """
        mat, geo, mc = self.material, self.geometry, self.machine
        w = self.glass_mass_fraction
        B = sp["melt_temp_C"].shape[0]
        A = self.screw_area_m2
        D = mc.screw_diameter_mm * 1e-3
        H = mc.screw_channel_depth_mm * 1e-3
        phi = np.deg2rad(mc.screw_flight_angle_deg)
        Lm = mc.metering_length_mm * 1e-3
        lot = st["lot_factor"] * self.viscosity_factor
        p_back = sp["back_pressure_bar"] * 1e5

        # --- plasticizing: melt temperature and dosing time
        rho_barrel = pvt.density_kg_m3(mat.pvt, sp["melt_temp_C"], p_back, w)
        q_plast = metering_output_m3_s(mat.viscosity, D, sp["screw_speed_rpm"], H, phi, Lm, p_back,
                                       sp["melt_temp_C"], lot)
        dT_plast = melt_temperature_rise_K(mat.viscosity, D, sp["screw_speed_rpm"], H, Lm, q_plast, p_back,
                                           sp["melt_temp_C"], rho_barrel, self.cp_J_kgK, lot)
        melt_C = sp["melt_temp_C"] + dT_plast + st["melt_temp_offset_K"]
        dose_m3 = (sp["dosing_volume_cm3"] + st["dosing_offset_cm3"]) * 1e-6
        torque = screw_torque_Nm(mat.viscosity, D, sp["screw_speed_rpm"], H, Lm, sp["melt_temp_C"], lot)

        # --- mold wall: coolant set point, the shot's heat load at this cycle
        # time (mold_thermal), and the twin's warm-up/coolant disturbances.
        q_vel = sp["injection_velocity_mm_s"] * 1e-3 * A * st["velocity_factor"]
        # Dosing refills at least what the screw swept up to switchover.
        dosing_est_s = (sp["dosing_volume_cm3"] - sp["switchover_volume_cm3"]) * 1e-6 / q_plast
        cycle_est_s = (mc.close_time_s + (sp["dosing_volume_cm3"] - sp["switchover_volume_cm3"]) * 1e-6 / q_vel
                       + sp["hold_time_s"] + np.maximum(sp["cooling_time_s"], dosing_est_s + DECOMPRESSION_S)
                       + mc.open_time_s + mc.eject_time_s + self.mold.handling_time_s)
        shot_kg = (geo.cavity_volume_m3 + geo.runner_volume_m3) * pvt.density_kg_m3(mat.pvt, 23.0, 0.0, w)
        load_J = heat_per_shot_J(shot_kg, self.cp_J_kgK, melt_C, mat.ejection_temp_C, mat.latent_heat_J_kg, w)
        wall_rise_K = surface_rise_K(load_J, cycle_est_s, self.mold.cooling_conductance_W_K)
        wall_C = sp["mold_temp_C"] + wall_rise_K + st["mold_temp_offset_K"]
        rho_melt = pvt.density_kg_m3(mat.pvt, melt_C, 0.0, w)
        alpha = thermal_diffusivity_m2_s(self._conductivity(rho_melt), rho_melt, self.cp_J_kgK)
        kappa = pvt.compressibility_1_Pa(mat.pvt, melt_C, 0.0)
        leak = st["leak_cm3_s_per_kbar"] * 1e-6 / 1e8

        fill = fill_cavity(mat, geo, FillInputs(
            melt_temp_C=melt_C, wall_temp_C=wall_C, lot_factor=lot, alpha_m2_s=alpha,
            rho_melt_kg_m3=rho_melt, cp_J_kgK=np.full(B, self.cp_J_kgK), compressibility_1_Pa=kappa,
            q_velocity_m3_s=q_vel, q_hold_max_m3_s=np.full(B, mc.hold_flow_limit_cm3_s * 1e-6),
            p_limit_Pa=sp["injection_pressure_limit_bar"] * 1e5, p_hold_Pa=sp["hold_pressure_bar"] * 1e5,
            hold_time_s=sp["hold_time_s"], dosing_volume_m3=dose_m3,
            switchover_volume_m3=dose_m3 - sp["switchover_volume_cm3"] * 1e-6,
            leak_m3_s_per_Pa=leak, switchover_delay_s=np.full(B, mc.switchover_delay_s),
        ))
        # The slab-cooling solution of the filled cavity starts from the melt
        # temperature at each cell's arrival time: the heat lost while filling
        # is already in that solution (it went into the frozen skin), so the
        # colder flow front must not be counted a second time.
        # The melt that comes to rest also keeps part of its viscous heating:
        # all of the injection pressure's work is dissipated on the way from
        # the screw to the flow front (ΔT = p/(ρ·cp) per unit volume), and the
        # same retained fraction as at the front stays in the melt.
        p_fill_mean = fill.rec_p_inj_Pa[:, 1:].mean(axis=1)
        fill_temp_C = melt_C + VISCOUS_HEAT_RETAINED * p_fill_mean / (rho_melt * self.cp_J_kgK)
        pack = pack_cavity(mat, geo, PackInputs(
            melt_temp_C=melt_C, wall_temp_C=wall_C, fill_temp_C=fill_temp_C, lot_factor=lot, alpha_m2_s=alpha,
            glass_mass_fraction=np.full(B, w), q_velocity_m3_s=q_vel,
            q_hold_max_m3_s=np.full(B, mc.hold_flow_limit_cm3_s * 1e-6),
            p_limit_Pa=sp["injection_pressure_limit_bar"] * 1e5, p_hold_Pa=sp["hold_pressure_bar"] * 1e5,
            p_back_Pa=np.full(B, mc.post_hold_nozzle_pressure_bar * 1e5), hold_time_s=sp["hold_time_s"],
            dosing_volume_m3=dose_m3, switchover_volume_m3=dose_m3 - sp["switchover_volume_cm3"] * 1e-6,
            leak_m3_s_per_Pa=leak, t_full_s=fill.t_end_s, t_switchover_s=fill.t_switchover_s,
            switch_not_before_s=fill.switch_not_before_s, switchover_delay_s=np.full(B, mc.switchover_delay_s),
            swept_m3=fill.swept_m3, p_inj_Pa=fill.p_inj_end_Pa, mean_arrival_s=fill.mean_arrival_s,
            gate_arrival_s=fill.gate_arrival_s, fill_fraction=fill.fill_fraction,
        ))

        # --- part mass: the sealed state of the filled volume (short shots included)
        V = geo.cavity_volume_m3
        mass_kg = pack.mass_kg
        shrink = volumetric_shrinkage(mat.pvt, np.maximum(mass_kg, 1e-9), V * np.maximum(fill.fill_fraction, 1e-3), w)

        # --- timing: hold end, dosing in parallel with cooling, ejection
        t_sw = np.where(np.isnan(fill.t_switchover_s), pack.t_switchover_s, fill.t_switchover_s)
        t_hold_end = t_sw + sp["hold_time_s"]
        # Dosing refills what the screw swept: from the cushion back to the dosing position.
        dosing_s = pack.swept_max_m3 / q_plast
        cool_phase_s = np.maximum(sp["cooling_time_s"], dosing_s + DECOMPRESSION_S)
        t_eject = t_hold_end + cool_phase_s
        since_fill = t_eject - fill.mean_arrival_s
        h = geo.wall_thickness_m
        eject_mean_C = wall_C + (fill_temp_C - wall_C) * mean_temperature_ratio(since_fill, h, alpha)
        eject_core_C = wall_C + (fill_temp_C - wall_C) * centre_temperature_ratio(since_fill, h, alpha)
        warp = warpage_mm(mat.pvt, geo.cavity_length_m, h, self.mold.half_temp_difference_K, eject_core_C,
                          mat.ejection_temp_C, w)

        # --- clamp balance and flash. The mean cavity pressure at the peak is
        # about the mean of the near-gate and end-of-flow pressures; the end
        # of flow sees ~half the gate pressure at that moment (packing gradient).
        p_cav_max_bar = np.maximum(pack.p_cav_max_Pa, fill.rec_p_gate_Pa.max(axis=1)) / 1e5
        p_mean_peak_bar = 0.75 * p_cav_max_bar
        f_sep = separating_force_kN(p_mean_peak_bar, geo.projected_area_m2)
        gap = parting_gap_mm(f_sep, sp["clamp_force_kN"], self.mold.mold_stiffness_kN_per_mm,
                             self.mold.parting_gap_initial_mm, st["wear_gap_mm"])
        gap_crit = critical_flash_gap_mm(p_cav_max_bar, mat.flash_gap_mm, self.thresholds.flash_pressure_ref_bar)

        # --- trapped air at the end of the fill
        dt_last = fill.rec_t_s[:, -1] - fill.rec_t_s[:, -2]
        q_end = np.where(fill.full, (V / N_CELLS) / np.maximum(dt_last, 1e-6), 0.0)
        air_C = trapped_air_temp_C(q_end, self.mold.vent_area_m2 * st["vent_open_fraction"], wall_C,
                                   self.mold.last_fill_air_fraction, fill.p_max_Pa)

        p_inj_max_bar = np.maximum(fill.p_max_Pa, pack.p_inj_max_Pa) / 1e5
        swept_max_m3 = pack.swept_max_m3
        cushion_mm = (dose_m3 - swept_max_m3) / A * 1e3
        defects = classify(self.thresholds, fill_fraction=fill.fill_fraction, parting_gap_mm=gap,
                           critical_gap_mm=gap_crit, air_temp_C=air_C, ignition_temp_C=mat.ignition_temp_C,
                           warpage_mm=warp, shrinkage_pct=shrink * 100.0)
        out = {
            "melt_C": melt_C,
            "wall_C": wall_C,
            "wall_rise_K": wall_rise_K,
            "fill_temp_C": fill_temp_C,
            "fill_fraction": fill.fill_fraction,
            "flow_front_temp_C": fill.flow_front_temp_C,
            # As machines log it: injection start to V/P switchover.
            "injection_time_s": t_sw,
            "fill_time_s": fill.t_end_s,
            "t_switchover_s": t_sw,
            "t_hold_end_s": t_hold_end,
            "t_seal_s": pack.t_seal_s,
            "dosing_time_s": dosing_s,
            "cool_phase_s": cool_phase_s,
            "t_eject_s": t_eject,
            "gate_freeze_time_s": pack.t_seal_s - fill.gate_arrival_s,
            "seal_pressure_bar": pack.p_seal_Pa / 1e5,
            "part_weight_g": mass_kg * 1e3,
            "volumetric_shrinkage_pct": shrink * 100.0,
            "max_injection_pressure_bar": p_inj_max_bar,
            "switchover_pressure_bar": np.where(np.isnan(fill.p_switchover_Pa), pack.p_inj_max_Pa,
                                                fill.p_switchover_Pa) / 1e5,
            "max_cavity_pressure_bar": p_cav_max_bar,
            "cushion_mm": cushion_mm,
            "dosing_volume_mm": dose_m3 / A * 1e3,
            "ejection_mean_temp_C": eject_mean_C,
            "ejection_core_temp_C": eject_core_C,
            "warpage_mm": warp,
            "separating_force_kN": f_sep,
            "parting_gap_mm": gap,
            "flash_critical_gap_mm": gap_crit,
            "air_temp_C": air_C,
            "screw_torque_Nm": torque,
            "plasticizing_rate_cm3_s": q_plast * 1e6,
            **defects,
            # Records for the curves (B, k) arrays.
            "_fill": fill,
            "_pack": pack,
        }
        return out
