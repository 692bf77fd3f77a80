"""Plasticizing: dosing time and melt temperature from screw speed and back pressure.

Metering-zone flow of a single-flighted screw, shallow-channel theory
(Tadmor & Klein, *Engineering Principles of Plasticating Extrusion*, 1970;
Rauwendaal, *Polymer Extrusion*, ch. 7):

    drag flow      Q_d = ½·π²·D²·N·H·sinφ·cosφ
    pressure flow  Q_p = π·D·H³·sin²φ·Δp / (12·η·L_m)
    output         Q = Q_d − Q_p  (Δp = back pressure over the metering length)

Dosing time = stroke volume / Q (the screw retracts as melt accumulates).

Melt temperature above the barrel set point:

* shear heating in the metering channel, η·γ̇²·t_res/(ρ·cp) with
  γ̇ = π·D·N/H and t_res the metering residence time, of which a fraction
  ``SHEAR_HEAT_RETAINED`` stays in the melt (the rest leaves through the
  temperature-controlled barrel) [D assumption, open to calibration];
* the work against back pressure, fully dissipated: ΔT = Δp/(ρ·cp)
  (steady-flow energy balance).
"""
from __future__ import annotations

import numpy as np

from physics.molding.materials import CrossWLF
from physics.molding.viscosity import viscosity_Pa_s

SHEAR_HEAT_RETAINED = 0.5


def drag_flow_m3_s(D_m, N_rpm, H_m, phi_rad):
    N = np.asarray(N_rpm) / 60.0
    return 0.5 * np.pi**2 * D_m**2 * N * H_m * np.sin(phi_rad) * np.cos(phi_rad)


def metering_output_m3_s(c: CrossWLF, D_m, N_rpm, H_m, phi_rad, L_m, back_pressure_Pa, melt_temp_C, lot_factor=1.0):
    """Net metering output (drag minus back-pressure flow), m³/s; never below 5 % of drag flow."""
    qd = drag_flow_m3_s(D_m, N_rpm, H_m, phi_rad)
    gdot = np.pi * D_m * (np.asarray(N_rpm) / 60.0) / H_m
    eta = viscosity_Pa_s(c, melt_temp_C, gdot, 0.0, lot_factor)
    qp = np.pi * D_m * H_m**3 * np.sin(phi_rad) ** 2 * back_pressure_Pa / (12.0 * eta * L_m)
    return np.maximum(qd - qp, 0.05 * qd)


def melt_temperature_rise_K(c: CrossWLF, D_m, N_rpm, H_m, L_m, q_m3_s, back_pressure_Pa, barrel_temp_C,
                            rho_kg_m3, cp_J_kgK, lot_factor=1.0):
    """Temperature rise of the melt over the barrel set point, K."""
    gdot = np.pi * D_m * (np.asarray(N_rpm) / 60.0) / H_m
    eta = viscosity_Pa_s(c, barrel_temp_C, gdot, 0.0, lot_factor)
    channel_volume = np.pi * D_m * H_m * L_m
    t_res = channel_volume / np.maximum(q_m3_s, 1e-9)
    shear = SHEAR_HEAT_RETAINED * eta * gdot**2 * t_res / (rho_kg_m3 * cp_J_kgK)
    work = back_pressure_Pa / (rho_kg_m3 * cp_J_kgK)
    return shear + work


def screw_torque_Nm(c: CrossWLF, D_m, N_rpm, H_m, L_m, barrel_temp_C, lot_factor=1.0):
    """Drag torque of the metering zone: τ·(π·D·L_m/sinφ ≈ π·D·L_m)·D/2 with τ = η·γ̇."""
    gdot = np.pi * D_m * (np.asarray(N_rpm) / 60.0) / H_m
    eta = viscosity_Pa_s(c, barrel_temp_C, gdot, 0.0, lot_factor)
    return eta * gdot * np.pi * D_m * L_m * D_m / 2.0
