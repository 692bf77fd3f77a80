"""KAMP study: calibrate the twin to a real machine's pass cycles; the gap before and after.

The KAMP log (``im_kamp``: a 650 t machine, three weeks of shots, pass/fail
labels) carries measurements, not most of the setpoints. The twin starts
from its defaults with the setpoints the log does give (melt and mold
temperature, back pressure, screw speed, injection speed); calibration then
fits what the log does not say — hold and cooling time, shot size,
switchover, the machine's clamp timing, the melt's viscosity — and the
sensors' conventions (the cushion logged as an absolute screw position, a
pressure scale) to the medians of the pass cycles of one part.

The gap (``learners.gap.SimRealGap``: per-feature Wasserstein/KS, MMD with
a permutation test, C2ST AUC with its CI) between the twin's cycles and the
real pass cycles is measured before and after calibration, on the same
features.

Run: ``twinloop run scenarios/kamp_calibration.toml --out DIR``. It writes
``metrics.json`` (both gaps, the estimates with their standard errors, the
noise-matching rounds, ``c2st_auc_lowered``), ``config_before.toml``,
``config.toml`` (the calibrated twin) and the two gap reports
``gap_before.html`` / ``gap_after.html``.
"""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from scenarios.kassel_calibration import REPO_ROOT, _toml_value, realdata_root
from scenarios.spec import merge_spec
from twin.calibration.single import calibrate_window, setpoints_from_log
from twin.config import apply_changes, dump_toml, get, load_config
from twin.runfolder import RunFolder

DEFAULTS: dict = {
    "data": {"log": "im_kamp/labeled_data_preprocessed.csv", "mapping": "mappings/kamp.toml",
             "part": "CN7 W/S SIDE MLD'G LH"},
    "twin": {"set": {}},
    "calibration": {"params": [], "features": [], "sensor_offsets": ["cushion_mm"], "scales": {}, "max_nfev": 150,
                    "noise": {}, "noise_rounds": 3, "noise_cycles": 300, "pass_constraint": False,
                    "infer_limits": []},
    "gap": {"cycles": 1000, "seed": 3, "n_perm": 300, "setpoints_from_log": []},
}


def _pass_cycles(real_dir: Path, part: str) -> pa.Table:
    t = pq.read_table(real_dir / "cycles.parquet")
    mask = pc.and_(pc.equal(t["good"], True), pc.equal(pc.cast(t["experiment"], pa.string()), part))
    sel = t.filter(mask)
    if sel.num_rows < 50:
        raise ValueError(f"kamp_calibration: only {sel.num_rows} pass cycles of part {part!r}")
    return sel


def _simulate(cfg: dict, cycles: int, folder: Path) -> Path:
    from twin.simulate import simulate_molding

    return simulate_molding(apply_changes(cfg, {"curves.enabled": False}), folder, cycles=cycles)


#: Part quality limits that can be inferred from a log without rejects of that kind: defect -> (config key, feature).
LIMITS: dict[str, tuple[str, str]] = {"warpage": ("defects.warpage_tolerance_mm", "warpage_mm"),
                                      "sink_marks": ("defects.sink_shrinkage_pct", "volumetric_shrinkage_pct")}
#: Inferred limit = this factor x the 99.9th percentile of the calibrated twin's passing process.
LIMIT_MARGIN = 1.05


def _infer_limits(cfg: dict, defects: list[str], cycles: int, folder: Path) -> tuple[dict, dict]:
    """Quality limits of a part whose log has no rejects of these kinds (warpage, sink marks).

    The part's own limits are not in the log, and the twin's defaults belong
    to its default strip. A log of three weeks without a single warped or
    sunk part says the limits lie above what the passing process makes: set
    each to ``LIMIT_MARGIN`` x the 99.9th percentile of the calibrated twin
    (never lower than the configured limit). Returns (config, {key: value}).
    """
    unknown = sorted(set(defects) - set(LIMITS))
    if unknown:
        raise KeyError(f"kamp_calibration: [calibration] infer_limits: unknown {unknown}; known: {sorted(LIMITS)}")
    if not defects:
        return cfg, {}
    t = pq.read_table(_simulate(cfg, cycles, folder) / "cycles.parquet").to_pydict()
    changes = {}
    for d in defects:
        key, feature = LIMITS[d]
        v = np.asarray(t[feature], float)
        changes[key] = max(float(get(cfg, key)), LIMIT_MARGIN * float(np.quantile(v[np.isfinite(v)], 0.999)))
    return apply_changes(cfg, changes), changes


def _robust_sd(v) -> float:
    v = np.asarray(v, dtype=float)
    v = v[np.isfinite(v)]
    return float(1.4826 * np.median(np.abs(v - np.median(v)))) if v.size > 1 else float("nan")


def _match_noise(cfg: dict, real: pa.Table, targets: dict[str, str], rounds: int, cycles: int,
                 folder: Path) -> tuple[dict, list[dict]]:
    """The distributional term: scale noise levels until the twin's spreads match the real ones.

    ``targets`` maps a noise key (e.g. ``variation.velocity_sd_pct``) to the
    logged feature whose spread it mainly sets (``injection_time_s``). Each
    round simulates ``cycles`` cycles and multiplies every key by
    sd_real / sd_sim of its feature (robust sds, 1.4826 x MAD, so the log's odd
    outliers do not count; factor clipped to [0.2, 5]; a zero key starts at
    a small value). Moment matching by fixed-point iteration, seeded: the
    result is deterministic.
    """
    log: list[dict] = []
    for r in range(rounds):
        run = _simulate(cfg, cycles, folder / f"round{r}")
        sim = pq.read_table(run / "cycles.parquet")
        changes, row = {}, {"round": r}
        for key, feature in targets.items():
            sd_real = _robust_sd(real.column(feature).to_pylist())
            sd_sim = _robust_sd(sim.column(feature).to_pylist())
            sec, name = key.split(".", 1)
            value = float(cfg[sec][name])
            if not (np.isfinite(sd_real) and np.isfinite(sd_sim)):
                continue
            factor = float(np.clip(sd_real / sd_sim, 0.2, 5.0)) if sd_sim > 0 else 5.0
            changes[key] = value * factor if value > 0 else 0.05
            row[key] = {"value": value, "feature": feature, "sd_real": sd_real, "sd_sim": sd_sim,
                        "new_value": changes[key]}
        log.append(row)
        cfg = apply_changes(cfg, changes)
    return cfg, log


def _gap(sim_dir: Path, real: pa.Table, features: list[str], seed: int, n_perm: int):
    from learners.gap import SimRealGap

    sim = pq.read_table(sim_dir / "cycles.parquet")
    return SimRealGap(features, curves=False, n_perm=n_perm, seed=seed).fit(sim, real)


def run(spec: dict, out: Path, *, progress: Callable[[int, int], None] | None = None,
        overwrite: bool = False, finalize: Callable | None = None) -> Path:
    spec = merge_spec(DEFAULTS, spec, "kamp_calibration")
    from twin.ingest import ingest_molding

    log = realdata_root() / spec["data"]["log"]
    mapping = Path(spec["data"]["mapping"])
    mapping = mapping if mapping.is_absolute() else REPO_ROOT / mapping
    cal, gap_spec = spec["calibration"], spec["gap"]
    features = list(cal["features"])
    steps, done = 6, 0

    def tick():
        nonlocal done
        done += 1
        if progress:
            progress(done, steps)

    with tempfile.TemporaryDirectory(prefix="twinloop-kamp-") as tmp:
        tmp = Path(tmp)
        real_dir = ingest_molding(log, mapping, tmp / "real")
        real = _pass_cycles(real_dir, spec["data"]["part"])
        tick()
        # Before: the default twin with the setpoints the log gives.
        overrides = [f"{k}={_toml_value(v)}" for k, v in spec["twin"]["set"].items()]
        before_cfg = apply_changes(load_config(None, overrides),
                                   setpoints_from_log(real, list(gap_spec["setpoints_from_log"])))
        before = _gap(_simulate(before_cfg, int(gap_spec["cycles"]), tmp / "before"), real, features,
                      int(gap_spec["seed"]), int(gap_spec["n_perm"]))
        tick()
        # Calibrate to the pass cycles' medians (one condition: the part; twin/calibration/single.py).
        # The log's setpoints named in gap.setpoints_from_log are already in before_cfg.
        wfit = calibrate_window(before_cfg, real, features, list(cal["params"]),
                                sensor_offsets=list(cal["sensor_offsets"]),
                                setpoints_keys=list(gap_spec["setpoints_from_log"]), scales=dict(cal["scales"]),
                                max_nfev=int(cal["max_nfev"]), pass_constraint=bool(cal["pass_constraint"]))
        res, after_cfg = wfit.result, wfit.config
        after_cfg, noise_log = _match_noise(after_cfg, real, cal["noise"], int(cal["noise_rounds"]),
                                            int(cal["noise_cycles"]), tmp / "noise")
        tick()
        after_cfg, limits = _infer_limits(after_cfg, list(cal["infer_limits"]), int(cal["noise_cycles"]),
                                          tmp / "limits")
        after_dir = _simulate(after_cfg, int(gap_spec["cycles"]), tmp / "after")
        after = _gap(after_dir, real, features, int(gap_spec["seed"]), int(gap_spec["n_perm"]))
        # The calibrated twin's own labels: the real parts compared here all passed.
        kinds = pq.read_table(after_dir / "cycles.parquet", columns=["defect_type"])["defect_type"].to_pylist()
        after_defects = {k: kinds.count(k) / len(kinds) for k in sorted(set(kinds))}
        tick()

    def summary(g) -> dict:
        d = g.to_dict()
        return {"mmd_p_value": d["mmd"]["p_value"], "mmd2": d["mmd"]["mmd2"], "c2st_auc": d["c2st"]["auc"],
                "c2st_auc_ci": d["c2st"]["auc_ci"], "verdict": d.get("verdict"),
                "per_feature": d["per_feature"]}

    metrics = {
        "part": spec["data"]["part"], "real_pass_cycles": real.num_rows, "features": features,
        "before": summary(before), "after": summary(after),
        "calibration": {"estimates": res.estimates, "std_errors": res.std_errors, "offsets": res.offsets,
                        "cost_start": res.cost_start, "cost": res.cost, "nfev": res.nfev,
                        "noise_levels": noise_log},
    }
    metrics["c2st_auc_lowered"] = bool(metrics["after"]["c2st_auc"] < metrics["before"]["c2st_auc"])
    metrics["twin_defect_rate_after"] = after_defects
    metrics["inferred_quality_limits"] = limits
    with RunFolder(out, overwrite=overwrite) as folder:
        folder.write_text("config_before.toml", dump_toml(before_cfg))
        folder.write_text("config.toml", dump_toml(after_cfg))
        folder.write_json("metrics.json", metrics)
        # The full gap reports (per-feature histograms, MMD null, C2ST ROC) on each side.
        from scenarios.report_gap import build_gap_report

        folder.write_text("gap_before.html", build_gap_report(before))
        folder.write_text("gap_after.html", build_gap_report(after))
        if finalize is not None:
            finalize(folder, metrics)
    tick()
    return Path(out)
