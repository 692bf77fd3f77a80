"""Slow machine and environment state: warm-up, oil temperature, ambient, wear.

Pure functions of time (and of counters) so a batch of upcoming cycles can
be planned at once. Each one names the physical process it stands for:

* ambient temperature: a daily sinusoid peaking at 15:00;
* hydraulic oil: first-order warm-up from ambient to its steady temperature
  after a start (τ_oil, a thermal mass heated by pump losses);
* mold warm-up: after a start or a long stop the mold runs below its set
  temperature and recovers with τ_mold (first-order, the coolant loop's
  heat capacity);
* parting-line wear opens the gap linearly with cycles since maintenance;
  vents foul (lose open area) linearly with cycles since maintenance.
"""
from __future__ import annotations

import numpy as np


def ambient_C(t_s, start_hour_of_day: float, mean_C: float, amplitude_K: float):
    hour = start_hour_of_day + np.asarray(t_s) / 3600.0
    return mean_C + amplitude_K * np.cos(2 * np.pi * (hour - 15.0) / 24.0)


def oil_C(t_s, t_start_s: float, ambient: np.ndarray, steady_C: float, tau_min: float):
    age = np.maximum(np.asarray(t_s) - t_start_s, 0.0)
    return steady_C + (ambient - steady_C) * np.exp(-age / (tau_min * 60.0))


def mold_offset_K(t_s, t_restart_s: float, deficit_K: float, tau_min: float):
    age = np.maximum(np.asarray(t_s) - t_restart_s, 0.0)
    return -deficit_K * np.exp(-age / (tau_min * 60.0))


def wear_gap_mm(cycles_since_maintenance, per_kcycle_mm: float):
    return np.asarray(cycles_since_maintenance) / 1000.0 * per_kcycle_mm


def vent_open_fraction(cycles_since_maintenance, fouling_per_kcycle: float):
    return np.clip(1.0 - np.asarray(cycles_since_maintenance) / 1000.0 * fouling_per_kcycle, 0.05, 1.0)
