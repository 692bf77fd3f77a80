"""Calibrate the twin to one condition of a real log: the medians of a window of cycles.

The KAMP study and the closed loop both face a log that gives measurements
but few setpoints: the twin's unknown settings and the sensors' conventions
are fitted so that the nominal physics reproduces the window's median of
every compared feature (:class:`twin.calibration.problem.CalibrationProblem`,
one condition). Only the setpoints named in ``setpoints_from_log`` are taken
from the log (its other setpoint-like columns are not this twin's
settings: KAMP's injection speed is not a screw speed in mm/s); they are
set in the returned config too.

The start matters: least squares from a far start stalls in the piecewise
physics, so the linear sensor conventions start where the start physics
puts them — the pressure factor at the ratio of logged to physical
pressure, each free sensor offset at the gap between logged and physical
value.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from twin.calibration.fit import CalibrationResult, fit
from twin.calibration.problem import FEATURE_SCALES, CalibrationProblem, OffsetSpec, ParamSpec, conditions_from_columns
from twin.config import apply_changes
from twin.schema import SETPOINT_FIELDS
from twin.sensor_model import OFFSET_KEYS

__all__ = ["calibrate_window", "WindowFit", "setpoints_from_log"]


@dataclass
class WindowFit:
    """The calibrated config and the fit behind it."""

    config: dict
    result: CalibrationResult
    setpoints: dict[str, float]


def setpoints_from_log(table: pa.Table, keys: list[str]) -> dict[str, float]:
    """Median of each logged setpoint column (the log's own settings), as ``setpoints.KEY`` changes."""
    out = {}
    for k in keys:
        v = np.asarray(table.column(k).to_pylist(), dtype=float)
        v = v[np.isfinite(v)]
        if v.size:
            out[f"setpoints.{k}"] = float(np.median(v))
    return out


def calibrate_window(cfg: dict, real: pa.Table, features: list[str], params: list[str], *,
                     sensor_offsets: list[str] = (), setpoints_keys: list[str] = (), scales: dict | None = None,
                     max_nfev: int = 150, pass_constraint: bool = False) -> WindowFit:
    """Fit ``params`` (``KEY`` or ``KEY=LO:HI``) and free ``sensor_offsets`` to the medians of ``real``'s rows."""
    if real.num_rows == 0:
        raise ValueError("calibrate_window: the window has no rows")
    sp = setpoints_from_log(real, list(setpoints_keys))
    base = apply_changes(cfg, sp)
    cols = {name: np.asarray(real.column(name).to_pylist(), dtype=object) for name in real.column_names}
    cols["experiment"] = np.array(["pass"] * real.num_rows, dtype=object)
    cols["sensor_group"] = cols["experiment"]
    for k in SETPOINT_FIELDS:
        if k not in setpoints_keys:
            cols.pop(k, None)
    cond = conditions_from_columns(cols, base, features, group_col="sensor_group")
    specs = [ParamSpec.parse(p, base) for p in params]
    offsets = [OffsetSpec(f, ("pass",), 1e4) for f in sensor_offsets]
    sc = {f: float((scales or {}).get(f, FEATURE_SCALES[f])) for f in features}
    problem = CalibrationProblem(base, cond, specs, features, sc, np.arange(len(cond.names)), offsets,
                                 pass_constraint=pass_constraint)
    x0 = problem.x0()
    start = problem.predicted(x0, np.arange(1))
    keys = [p.key for p in specs]
    if "sensors.pressure_log_factor" in keys and "max_injection_pressure_bar" in features:
        i = keys.index("sensors.pressure_log_factor")
        ratio = cond.real_level["max_injection_pressure_bar"][0] / start["max_injection_pressure_bar"][0]
        lo, hi = problem.bounds()
        x0[i] = float(np.clip(x0[i] + np.log(ratio), lo[i], hi[i]))
    for j, f in enumerate(sensor_offsets):
        # an offset already in the config is part of the start physics: the free offset adds to it
        x0[problem.n_params + j] = float(cond.real_level[f][0] - start[f][0])
    res = fit(problem, max_nfev=int(max_nfev), x0=x0)
    after = problem.config_for(res.x)
    after = apply_changes(after, {f"sensors.{OFFSET_KEYS[f]}": float(after["sensors"][OFFSET_KEYS[f]])
                                  + float(res.offsets[f]["pass"]) for f in sensor_offsets})
    return WindowFit(after, res, sp)
