"""Summary figures of a run's cycles, for metrics.json and the report."""
from __future__ import annotations

import math

import numpy as np

from twin.schema import DEFECT_TYPES


def _wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (95 % by default)."""
    if n == 0:
        return (math.nan, math.nan)
    p = k / n
    den = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return (max(0.0, centre - half), min(1.0, centre + half))


def summarize_cycles(rows: list[dict], sim_seconds: float) -> dict:
    n = len(rows)
    out: dict = {"cycles": n, "sim_hours": sim_seconds / 3600.0}
    if n == 0:
        return out
    good = sum(1 for r in rows if r["good"])
    out["good_parts"] = good
    out["scrap_rate"] = 1 - good / n
    out["scrap_rate_ci95"] = list(_wilson(n - good, n))
    out["throughput_parts_per_h"] = n / (sim_seconds / 3600.0) if sim_seconds > 0 else math.nan
    out["defect_rate_by_type"] = {d: sum(1 for r in rows if r[f"defect_{d}"]) / n for d in DEFECT_TYPES}
    out["primary_defect_counts"] = {d: sum(1 for r in rows if r["defect_type"] == d) for d in ("good",) + DEFECT_TYPES}
    for key in ("cycle_time_s", "part_weight_g", "cushion_mm", "max_injection_pressure_bar", "max_cavity_pressure_bar"):
        v = np.array([np.nan if r[key] is None else r[key] for r in rows], dtype=float)
        bad = int(np.count_nonzero(~np.isfinite(v)))
        if bad:
            # A physics failure must show, not vanish in a mean: count it.
            out.setdefault("non_finite_values", {})[key] = bad
        v = v[np.isfinite(v)]
        out[f"{key}_mean"] = float(np.mean(v)) if v.size else None
        out[f"{key}_sd"] = float(np.std(v, ddof=1)) if v.size > 1 else 0.0
    return out
