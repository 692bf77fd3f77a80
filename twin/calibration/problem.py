"""The calibration problem: physics parameters against real per-condition means.

A real log holds cycles under a set of conditions (an experiment class, or a
distinct combination of setpoints). For each condition we take the median of
every compared feature and the setpoints the machine ran with; the twin's
physics (:class:`physics.molding.cycle.MoldingModel`, with the nominal
machine state: no lot, leakage or temperature disturbance) predicts the same
features under the same setpoints. The residual of a feature is

    (predicted + offset − real median) / scale

with ``scale`` a per-feature tolerance (in the feature's unit) that makes
features comparable. Offsets are optional nuisance parameters, one per
group (e.g. per production day for the part weight: balances and material
lots drift from day to day), held near zero by a Gaussian prior that enters
as extra residuals ``offset / prior_sd``.

Parameters are dotted config keys (``mold.wall_thickness_mm``), optimised in
log space (they are all positive physical quantities) within bounds.

**Pass constraint** (``pass_constraint=True``, for logs of passed parts): the
medians say nothing about whether the twin's part is *good*, and a fit can
match every logged time and pressure with a shot that never fills the
cavity (seen on KAMP: fill fraction 0.83, every simulated part a short
shot, while the real parts passed). With the constraint, each condition
adds two one-sided (hinge) residuals that are zero for a good part:
the filled fraction's shortfall below ``defects.short_fill_fraction`` +
``PASS_FILL_MARGIN`` (scale ``PASS_FILL_SCALE``), and the trapped air's excess
over the melt's ignition temperature (scale ``PASS_AIR_SCALE_K``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from physics.molding.cycle import MoldingModel
from twin.config import apply_changes, get
from twin.config_spec import SPEC
from twin.schema import SETPOINT_FIELDS
from twin.sensor_model import to_logged

#: Features the physics predicts, with a default comparison scale (unit of the feature).
FEATURE_SCALES: dict[str, float] = {
    "part_weight_g": 0.05,
    "max_injection_pressure_bar": 15.0,
    "switchover_pressure_bar": 15.0,
    "cushion_mm": 0.5,
    "injection_time_s": 0.03,
    "dosing_time_s": 0.3,
    "cycle_time_s": 0.5,
    "hold_end_time_s": 0.05,
    "nozzle_melt_temp_C": 1.0,
    "mold_temp_fixed_C": 0.5,
    "mold_temp_moving_C": 0.5,
}


#: Pass constraint (module docstring): fill margin above the short-shot limit, and the residual scales.
PASS_FILL_MARGIN = 0.002
PASS_FILL_SCALE = 0.002
PASS_AIR_SCALE_K = 5.0


@dataclass(frozen=True)
class ParamSpec:
    """One calibrated config key with its bounds (in the key's unit)."""

    key: str
    lower: float
    upper: float

    @classmethod
    def parse(cls, text: str, cfg: dict) -> "ParamSpec":
        """``key`` or ``key=lo:hi``; default bounds: [x0/3, 3·x0] within the config spec's range."""
        key, _, rng = text.partition("=")
        key = key.strip()
        if key not in SPEC:
            raise KeyError(f"calibration parameter {key!r} is not a config key (see twin/config_spec.py)")
        if SPEC[key].type not in (float, int):
            raise TypeError(f"calibration parameter {key!r} is not numeric")
        x0 = float(get(cfg, key))
        if x0 <= 0:
            raise ValueError(f"calibration parameter {key!r}: start value {x0} must be > 0 (fitted in log space)")
        if rng:
            lo_s, _, hi_s = rng.partition(":")
            lo, hi = float(lo_s), float(hi_s)
        else:
            lo, hi = x0 / 3.0, x0 * 3.0
        f = SPEC[key]
        if f.min is not None:
            lo = max(lo, f.min + (1e-9 if f.min_open else 0.0))
        if f.max is not None:
            hi = min(hi, f.max)
        lo = max(lo, 1e-12)
        if not lo < hi:
            raise ValueError(f"calibration parameter {key!r}: empty bounds [{lo}, {hi}]")
        if not lo <= x0 <= hi:
            raise ValueError(f"calibration parameter {key!r}: start value {x0} outside its bounds [{lo}, {hi}]")
        return cls(key, lo, hi)


@dataclass(frozen=True)
class OffsetSpec:
    """Per-group additive offsets of one feature, with a zero-mean Gaussian prior."""

    feature: str
    groups: tuple[str, ...]
    prior_sd: float


@dataclass
class Conditions:
    """Per-condition setpoints and real feature means (arrays over conditions)."""

    names: list[str]
    setpoints: dict[str, np.ndarray]
    glass_fiber_pct: np.ndarray
    real_level: dict[str, np.ndarray]       # per-condition median (nan where a condition has no value)
    real_sd: dict[str, np.ndarray]          # robust sd: 1.4826 x MAD
    count: dict[str, np.ndarray]
    group: list[str] = field(default_factory=list)   # offset group of each condition
    #: Per setpoint: True where the log gave it; elsewhere the (calibrated) config's value applies.
    logged: dict[str, np.ndarray] = field(default_factory=dict)


def conditions_from_columns(cols: dict[str, np.ndarray], cfg: dict, features: list[str], *,
                            condition_col: str = "experiment", group_col: str | None = None) -> Conditions:
    """Group real rows by ``condition_col`` (sorted) and take each feature's median.

    The median, not the mean: real logs carry the odd mis-weighed part or a
    start-up cycle (one Kassel class has a weight sd of 3.6 g against the
    usual 0.03 g), and a condition's level should not follow them.

    Setpoints missing in the log (null column or null values) fall back to
    the config's value; the median of the logged setpoints is used (a
    condition's setpoint is constant up to logging noise).
    """
    keys = np.asarray(cols[condition_col], dtype=object)
    names = sorted({k for k in keys if k is not None})
    # Each column converted once (None -> nan), then sliced per condition.
    num = {k: _float_column(cols.get(k)) for k in (*SETPOINT_FIELDS, "glass_fiber_pct", *features)}
    sp = {k: np.zeros(len(names)) for k in SETPOINT_FIELDS}
    logged = {k: np.zeros(len(names), dtype=bool) for k in SETPOINT_FIELDS}
    gf = np.zeros(len(names))
    mean = {f: np.full(len(names), np.nan) for f in features}
    sd = {f: np.full(len(names), np.nan) for f in features}
    cnt = {f: np.zeros(len(names), dtype=int) for f in features}
    groups = []
    group_values = None if group_col is None else np.asarray(cols[group_col], dtype=object).astype(str)
    for j, name in enumerate(names):
        rows = keys == name
        for k in SETPOINT_FIELDS:
            v = None if num[k] is None else num[k][rows]
            logged[k][j] = v is not None and bool(np.isfinite(v).any())
            sp[k][j] = np.nanmedian(v) if logged[k][j] else float(cfg["setpoints"][k])
        v = None if num["glass_fiber_pct"] is None else num["glass_fiber_pct"][rows]
        gf[j] = np.nanmedian(v) if v is not None and np.isfinite(v).any() else float(cfg["material"]["glass_fiber_pct"])
        for f in features:
            if num[f] is None:
                continue
            v = num[f][rows]
            v = v[np.isfinite(v)]
            cnt[f][j] = v.size
            if v.size:
                mean[f][j] = np.median(v)
                # Robust sd (1.4826 x median absolute deviation): the spread of
                # the process, not of the odd mis-weighed part.
                sd[f][j] = 1.4826 * np.median(np.abs(v - mean[f][j])) if v.size > 1 else np.nan
        if group_values is not None:
            vals, counts = np.unique(group_values[rows], return_counts=True)
            groups.append(str(vals[np.argmax(counts)]))
    return Conditions(names, sp, gf, mean, sd, cnt, groups, logged)


def _float_column(col) -> np.ndarray | None:
    if col is None:
        return None
    arr = np.asarray(col, dtype=object)
    return np.array([np.nan if x is None else float(x) for x in arr], dtype=float)


def nominal_state(cfg: dict, n: int) -> dict[str, np.ndarray]:
    """The machine state without disturbances (calibration compares means)."""
    return {
        "lot_factor": np.ones(n),
        "leak_cm3_s_per_kbar": np.full(n, float(cfg["machine"]["check_ring_leak_cm3_s_per_kbar"])),
        "melt_temp_offset_K": np.zeros(n),
        "dosing_offset_cm3": np.zeros(n),
        "velocity_factor": np.ones(n),
        "mold_temp_offset_K": np.zeros(n),
        "wear_gap_mm": np.zeros(n),
        "vent_open_fraction": np.ones(n),
        "ambient_C": np.full(n, float(cfg["variation"]["ambient_mean_C"])),
    }


def predict(cfg: dict, cond: Conditions, features: list[str], idx: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Physics prediction of ``features`` for the conditions ``idx`` (all by default)."""
    idx = np.arange(len(cond.names)) if idx is None else np.asarray(idx)
    out = {f: np.full(len(idx), np.nan) for f in features}
    gf = cond.glass_fiber_pct[idx]
    for g in np.unique(gf):
        sel = np.flatnonzero(gf == g)
        model = MoldingModel.from_config(apply_changes(cfg, {"material.glass_fiber_pct": float(g)}))
        # Logged setpoints as logged; the others from the config being evaluated
        # (so a setpoint the log lacks can itself be calibrated).
        sp = {k: np.where(cond.logged[k][idx][sel], v[idx][sel], float(cfg["setpoints"][k])) if cond.logged
              else v[idx][sel] for k, v in cond.setpoints.items()}
        ph = model.simulate(sp, nominal_state(cfg, len(sel)))
        mc = model.machine
        half = model.mold.half_temp_difference_K
        derived = {
            "cycle_time_s": mc.close_time_s + ph["t_hold_end_s"] + ph["cool_phase_s"] + mc.open_time_s
            + mc.eject_time_s + model.mold.handling_time_s,
            "hold_end_time_s": ph["t_hold_end_s"],
            "nozzle_melt_temp_C": ph["melt_C"],
            "mold_temp_fixed_C": ph["wall_C"] - 0.5 * half,
            "mold_temp_moving_C": ph["wall_C"] + 0.5 * half,
            # not logged features: the pass constraint's physical margins
            "_fill_fraction": ph["fill_fraction"],
            "_air_over_ignition_K": ph["air_temp_C"] - model.material.ignition_temp_C,
        }
        for f in features:
            value = derived[f] if f in derived else ph[f]
            out[f][sel] = to_logged(f, value, cfg["sensors"])
    return out


@dataclass
class CalibrationProblem:
    """Residuals of ``params`` (+ offsets) on the conditions ``train``."""

    cfg: dict
    cond: Conditions
    params: list[ParamSpec]
    features: list[str]
    scales: dict[str, float]
    train: np.ndarray
    offsets: list[OffsetSpec] = field(default_factory=list)
    pass_constraint: bool = False

    @property
    def n_params(self) -> int:
        return len(self.params)

    @property
    def n_offsets(self) -> int:
        return sum(len(o.groups) for o in self.offsets)

    def x0(self) -> np.ndarray:
        x = [math.log(float(get(self.cfg, p.key))) for p in self.params]
        return np.array(x + [0.0] * self.n_offsets)

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        lo = [math.log(p.lower) for p in self.params] + [-np.inf] * self.n_offsets
        hi = [math.log(p.upper) for p in self.params] + [np.inf] * self.n_offsets
        return np.array(lo), np.array(hi)

    def config_for(self, x: np.ndarray) -> dict:
        changes = {p.key: float(math.exp(x[i])) for i, p in enumerate(self.params)}
        for p in self.params:  # integer keys stay integers
            if SPEC[p.key].type is int:
                changes[p.key] = int(round(changes[p.key]))
        return apply_changes(self.cfg, changes)

    def offset_values(self, x: np.ndarray, idx: np.ndarray) -> dict[str, np.ndarray]:
        """Offset added to each feature for the conditions ``idx``."""
        out: dict[str, np.ndarray] = {}
        k = self.n_params
        for o in self.offsets:
            vals = dict(zip(o.groups, x[k:k + len(o.groups)]))
            k += len(o.groups)
            out[o.feature] = np.array([vals.get(self.cond.group[i], 0.0) for i in idx])
        return out

    def predicted(self, x: np.ndarray, idx: np.ndarray) -> dict[str, np.ndarray]:
        return self._predicted(x, idx, self.features)

    def _predicted(self, x: np.ndarray, idx: np.ndarray, features: list[str]) -> dict[str, np.ndarray]:
        pred = predict(self.config_for(x), self.cond, features, idx)
        for f, off in self.offset_values(x, idx).items():
            pred[f] = pred[f] + off
        return pred

    def residuals(self, x: np.ndarray) -> np.ndarray:
        idx = self.train
        margins = ["_fill_fraction", "_air_over_ignition_K"] if self.pass_constraint else []
        pred = self._predicted(x, idx, self.features + margins)  # one physics call for both
        parts = []
        for f in self.features:
            real = self.cond.real_level[f][idx]
            r = (pred[f] - real) / self.scales[f]
            parts.append(np.where(np.isfinite(real), np.nan_to_num(r, nan=1e3), 0.0))
        k = self.n_params
        for o in self.offsets:
            parts.append(x[k:k + len(o.groups)] / o.prior_sd)
            k += len(o.groups)
        if self.pass_constraint:
            m = pred
            limit = float(self.cfg["defects"]["short_fill_fraction"]) + PASS_FILL_MARGIN
            parts.append(np.nan_to_num(np.maximum(0.0, limit - m["_fill_fraction"]) / PASS_FILL_SCALE, nan=1e3))
            parts.append(np.nan_to_num(np.maximum(0.0, m["_air_over_ignition_K"]) / PASS_AIR_SCALE_K, nan=1e3))
        return np.concatenate(parts)
