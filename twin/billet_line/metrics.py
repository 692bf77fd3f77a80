"""Summary figures of a billet run, for metrics.json and the report."""
from __future__ import annotations

import math

import numpy as np

from twin.metrics import _wilson
from twin.schema import VISIBILITY_CLASSES


def summarize_billets(rows: list[dict], sim_seconds: float, line=None) -> dict:
    """Counts, rates (with 95 % Wilson intervals) and means of a run's billet records."""
    n = len(rows)
    hours = sim_seconds / 3600.0
    out: dict = {"billets": n, "sim_hours": hours}
    if n == 0:
        return out
    stamped = [r for r in rows if r["stamped"]]
    k_skip = n - len(stamped)
    out["stamped"] = len(stamped)
    out["labelled_unstamped_rate"] = k_skip / n
    out["labelled_unstamped_rate_ci95"] = list(_wilson(k_skip, n))
    out["billets_per_h"] = n / hours if hours > 0 else math.nan
    vis = [v for r in stamped for v in r["char_visibility"]]
    n_chars = len(vis)
    out["characters"] = n_chars
    out["character_visibility_rate"] = {c: (vis.count(c) / n_chars if n_chars else math.nan)
                                        for c in VISIBILITY_CLASSES}
    # As the billet-stamp study counts them: billets with any partially or poorly visible character.
    k_any = sum(1 for r in stamped if r["n_partial"] + r["n_poor"] > 0)
    out["billets_with_partial_or_poor_rate"] = k_any / len(stamped) if stamped else math.nan
    out["billets_with_partial_or_poor_ci95"] = list(_wilson(k_any, len(stamped)))
    for key in ("surface_temp_C", "time_since_cut_s", "scale_thickness_mm", "stamp_force_kN", "wait_at_station_s"):
        v = np.array([r[key] for r in rows if r.get(key) is not None], dtype=float)
        out[f"{key}_mean"] = float(v.mean()) if v.size else None
    depth = np.concatenate([np.asarray(r["char_depth_mm"], float) for r in stamped]) if stamped else np.zeros(0)
    out["char_depth_mm_mean"] = float(depth.mean()) if depth.size else None
    out["char_depth_mm_sd"] = float(depth.std(ddof=1)) if depth.size > 1 else None
    out["heats"] = sorted({int(r["heat"]) for r in rows})
    boxes = sum(len(r.get("boxes") or []) for r in rows)
    out["boxes"] = boxes
    if line is not None:
        busy_s = line.station.stamped * (line.station.positioning_s + 11 * line.station.strike_s)
        out["robot_utilization"] = busy_s / sim_seconds if sim_seconds > 0 else math.nan
        out["cooling_bed_max_occupancy"] = line.bed.max_occupancy
        out["cut_period_per_strand_s"] = line.caster.cut_period_s
        out["heat_duration_min"] = line.caster.heat_duration_s / 60.0
    return out
