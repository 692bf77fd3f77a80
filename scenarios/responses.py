"""One-factor response sweeps of the molding twin: the physics sanity table.

For each value of one setting, run the seeded twin for a few cycles (no
curves, no breakdowns) and report mean part weight, volumetric shrinkage,
warpage and the rate of each defect type. ``python -m scenarios.responses``
prints the table used in the README.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from twin.config import load_config
from twin.schema import DEFECT_TYPES
from twin.simulate import simulate_molding

#: config key -> (values, extra overrides) of the default sweeps. The
#: switchover sweep runs at 200 bar hold: at the default 250 bar the hold
#: phase still completes the fill from any switchover this shot allows.
SWEEPS: dict[str, tuple[list[float], tuple[str, ...]]] = {
    "setpoints.hold_pressure_bar": ([200.0, 250.0, 300.0, 400.0], ()),
    "setpoints.hold_time_s": ([1.0, 2.0, 3.0, 4.0], ()),
    "setpoints.switchover_volume_cm3": ([22.0, 30.0, 38.0, 46.0, 54.0], ("setpoints.hold_pressure_bar=200",)),
    "material.glass_fiber_pct": ([0.0, 10.0, 20.0, 30.0], ()),
    "setpoints.clamp_force_kN": ([200.0, 250.0, 300.0, 600.0], ()),
    "setpoints.cooling_time_s": ([1.0, 4.0, 6.0, 10.0], ()),
}


def response(key: str, values: list[float], cycles: int = 40, seed: int = 1,
             extra: tuple[str, ...] = ()) -> list[dict]:
    """Means per value of ``key`` over ``cycles`` seeded cycles each."""
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for k, v in enumerate(values):
            # Warm mold from the first shot: the sweep compares steady states.
            cfg = load_config(None, ["cell.mtbf_h=0", "curves.enabled=false", f"run.seed={seed}",
                                     "variation.mold_warmup_deficit_K=0",
                                     f"{key}={v}", *extra])
            out = simulate_molding(cfg, Path(tmp) / f"r{k}", cycles=cycles)
            t = pq.read_table(out / "cycles.parquet").to_pydict()
            row = {"key": key, "value": v, "cycles": cycles,
                   "part_weight_g": float(np.mean(t["part_weight_g"])),
                   "volumetric_shrinkage_pct": float(np.mean(t["volumetric_shrinkage_pct"])),
                   "warpage_mm": float(np.mean(t["warpage_mm"])),
                   "max_cavity_pressure_bar": float(np.mean(t["max_cavity_pressure_bar"]))}
            for d in DEFECT_TYPES:
                row[f"rate_{d}"] = float(np.mean(t[f"defect_{d}"]))
            rows.append(row)
    return rows


def markdown_table(rows_by_key: dict[str, list[dict]]) -> str:
    head = ("| setting | value | weight g | shrinkage % | warpage mm | short | flash | sink | warp | burn |\n"
            "|---|---|---|---|---|---|---|---|---|---|")
    lines = [head]
    for key, rows in rows_by_key.items():
        for r in rows:
            lines.append(f"| {key} | {r['value']:g} | {r['part_weight_g']:.3f} | {r['volumetric_shrinkage_pct']:.2f} | "
                         f"{r['warpage_mm']:.2f} | {r['rate_short_shot']:.2f} | {r['rate_flash']:.2f} | "
                         f"{r['rate_sink_marks']:.2f} | {r['rate_warpage']:.2f} | {r['rate_burn_marks']:.2f} |")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover - CLI edge
    print(markdown_table({k: response(k, v, extra=extra) for k, (v, extra) in SWEEPS.items()}))
