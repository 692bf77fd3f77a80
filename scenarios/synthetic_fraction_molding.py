"""Synthetic-fraction sweep, molding: the injection-molding study's protocol on a real log.

The study (``../shared/studies/injection_molding_synthetic_data.txt``) mixed
0-30 % simulated cycles, deliberately rich in defects (60 % not good), into
a fixed set of real cycles, trained a classifier, and validated on real
cycles only. This scenario runs that protocol with the twin as the
simulator and **KAMP as the real set** (``im_kamp``: a 650 t machine, three
weeks of shots; only scalar features are logged, so the learner is the
scalar gradient-boosting baseline, :class:`learners.scalar_baseline.GradientBoostingScalar`,
not the LSTM on curves). The real set is the part pair ``[real] parts``
(CN7 LH and RH: one shot molds both, so they share the process values),
good against not good (burn marks, short shots, start-up rejects).

Steps:

1. **Twin**: the twin calibrated to KAMP — the ``config.toml`` of a
   ``kamp_calibration`` run (``[twin] calibrated_config``), or, when empty,
   calibrated here first (``scenarios/kamp_calibration.toml``, a few
   minutes; its run folder is kept in ``calibration/``).
2. **Synthetic pool** (Dask tasks): ``[synthetic] runs`` twin runs of the
   calibrated config, each a *defect campaign*: every key of
   ``[synthetic.vary]`` multiplied by a factor drawn uniformly from its
   range (a thicker lot, a smaller shot, a faster fill with fouled vents),
   so that a large share of the parts come out short or burnt. The twin's
   own physics labels every cycle.
3. **Arms** × **seeds** (Dask tasks): for each seed, the real shots are
   split into training and validation (stratified by whether the shot has
   a failed part; both parts of a shot on the same side). Each arm trains
   on the whole real training set plus ``fraction × (real training size)``
   synthetic cycles drawn from the pool with ``not_good_share`` of them
   not good — fraction 1.0 means as many synthetic as real cycles — and is
   scored on the real validation shots only. Controls: *synthetic only*
   (as many synthetic cycles as the real training set has, no real) and
   *small real only* (``small_real_fraction`` of the real training shots).
   (``synthetic_only_cycles`` sets the control's size; 0 = the real
   training set's.) And *labels shuffled*: ``shuffled_label_fraction`` of
   synthetic cycles with their labels permuted — if that helps as much as
   the real labels, the gain comes from extra points (regularisation, class
   mass), not from what the twin's physics says about defects.
4. **Robustness**: each model is also scored on perturbed copies of the
   real validation set: Gaussian noise (``noise_sd`` × each feature's real
   training sd), an offset (+``offset_sd`` sd on every feature) and a
   timing shift (+``time_shift_s`` on every ``*_time_s`` feature).

Per arm: training accuracy, validation accuracy, balanced accuracy, F1 and
AUC-ROC of fails (positive = not good), mean and 95 % t interval over the
seeds; and the paired difference to the 0 % arm (same seeds, same splits)
with a paired t test, Holm-corrected over the fractions — the figure that
says whether synthetic data helped.

Output: ``config.toml``, ``synthetic_pool.parquet`` (every synthetic
cycle with its run, campaign factors and label), ``arms.parquet`` (one row
per arm and seed), ``summary.parquet`` (one row per arm), ``metrics.json``
and ``report.html``.

Run: ``twinloop run scenarios/synthetic_fraction_molding.toml --out DIR``
(reads ``$TWINLOOP_REALDATA``).
"""
from __future__ import annotations

import math
import tempfile
import tomllib
from pathlib import Path
from typing import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from scenarios.dask_tasks import DaskOptions, run_tasks, task_seed
from scenarios.kassel_calibration import REPO_ROOT, realdata_root
from scenarios.spec import merge_spec
from scenarios.sweep_stats import holm, paired_test
from twin.config import ConfigError, get, load_config
from twin.replication_stats import mean_interval
from twin.runfolder import RunFolder, finite_json

__all__ = ["DEFAULTS", "run", "simulate_campaign", "fit_arm", "split_shots", "perturb", "draw_synthetic"]

FEATURES = ["cycle_time_s", "injection_time_s", "hold_end_time_s", "dosing_time_s", "cushion_mm",
            "max_injection_pressure_bar", "switchover_pressure_bar", "nozzle_melt_temp_C"]

DEFAULTS: dict = {
    "real": {"log": "im_kamp/labeled_data_preprocessed.csv", "mapping": "mappings/kamp.toml",
             "parts": ["CN7 W/S SIDE MLD'G LH", "CN7 W/S SIDE MLD'G RH"], "validation_fraction": 0.5,
             "features": FEATURES},
    "twin": {"calibrated_config": "", "calibration_scenario": "scenarios/kamp_calibration_pass.toml"},
    "synthetic": {"runs": 24, "cycles_per_run": 150, "warmup_cycles": 10, "not_good_share": 0.6, "seed": 11,
                  "vary": {}},
    "sweep": {"fractions": [0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0], "seeds": [0, 1, 2, 3, 4],
              "small_real_fraction": 0.1, "synthetic_only": True, "synthetic_only_cycles": 0,
              "small_real_only": True, "shuffled_label_fraction": 0.2},
    "learner": {"max_iter": 150, "learning_rate": 0.1, "max_leaf_nodes": 15, "min_samples_leaf": 10},
    "robustness": {"noise_sd": 0.5, "offset_sd": 0.5, "time_shift_s": 0.2},
    "dask": {"workers": 2, "scheduler": "", "task_cache": ""},
}

METRICS = ("train_accuracy", "accuracy", "balanced_accuracy", "f1_fail", "auc_fail")
PERTURBATIONS = ("noise", "offset", "time_shift")


# -- the synthetic pool -------------------------------------------------------------------------------------------
def simulate_campaign(task: dict) -> list[dict]:
    """One twin run with its campaign factors drawn from the task's seed (a Dask task); rows of features + label."""
    from twin.simulate import simulate_molding

    rng = np.random.default_rng(task["seed"])
    factors = {k: float(rng.uniform(lo, hi)) for k, (lo, hi) in sorted(task["vary"].items())}
    overrides = [f"{k}={task['base'][k] * f!r}" for k, f in factors.items()]
    cfg = load_config(task["config"], ["curves.enabled=false", "cell.mtbf_h=0", *overrides,
                                       f"run.seed={task['seed']}"])
    with tempfile.TemporaryDirectory(prefix="twinloop-synfrac-") as tmp:
        out = simulate_molding(cfg, Path(tmp) / "run", cycles=int(task["cycles"]))
        t = pq.read_table(out / "cycles.parquet", columns=[*task["features"], "good", "defect_type"]).to_pylist()
    rows = []
    for r in t[int(task["warmup_cycles"]):]:
        row = {"run": task["run"], **{f"factor:{k}": v for k, v in factors.items()}, **r}
        rows.append(row)
    return rows


def draw_synthetic(good: np.ndarray, n: int, not_good_share: float, rng: np.random.Generator) -> np.ndarray:
    """Indices of ``n`` pool cycles (``good``: the pool's labels), drawn without replacement,
    ``round(n * not_good_share)`` of them not good (as in the study); sorted."""
    good = np.asarray(good, bool)
    bad_i, good_i = np.flatnonzero(~good), np.flatnonzero(good)
    n_bad = int(round(n * not_good_share))
    n_good = n - n_bad
    if n_bad > bad_i.size or n_good > good_i.size:
        raise ValueError(f"synthetic pool too small: need {n_bad} not-good and {n_good} good cycles, it has "
                         f"{bad_i.size} and {good_i.size}: raise [synthetic] runs or cycles_per_run, or widen "
                         "[synthetic.vary]")
    pick = np.concatenate([rng.choice(bad_i, n_bad, replace=False), rng.choice(good_i, n_good, replace=False)])
    return np.sort(pick.astype(np.int64))


# -- the real set -----------------------------------------------------------------------------------------------
def split_shots(shot: np.ndarray, fail: np.ndarray, val_fraction: float, seed: int) -> np.ndarray:
    """Boolean mask of validation rows: whole shots, stratified by whether the shot has a failed part."""
    rng = np.random.default_rng(seed)
    shots, inverse = np.unique(shot, return_inverse=True)
    shot_fail = np.zeros(shots.size, bool)
    np.logical_or.at(shot_fail, inverse, fail)
    val = np.zeros(shots.size, bool)
    for stratum in (True, False):
        idx = np.flatnonzero(shot_fail == stratum)
        rng.shuffle(idx)
        val[idx[:int(round(val_fraction * idx.size))]] = True
    return val[inverse]


def perturb(X: np.ndarray, kind: str, features: list[str], sd: np.ndarray, spec: dict,
            rng: np.random.Generator) -> np.ndarray:
    """A perturbed copy of the validation features (module docstring, step 4)."""
    X = X.copy()
    if kind == "noise":
        X += rng.normal(size=X.shape) * sd * float(spec["noise_sd"])
    elif kind == "offset":
        X += sd * float(spec["offset_sd"])
    elif kind == "time_shift":
        cols = [j for j, f in enumerate(features) if f.endswith("_time_s")]
        X[:, cols] += float(spec["time_shift_s"])
    else:
        raise ValueError(f"unknown perturbation {kind!r}")
    return X


def _rows(X: np.ndarray, features: list[str]) -> list[dict]:
    return [dict(zip(features, map(float, x))) for x in X]


def _scores(model, X: np.ndarray, y_good: np.ndarray, features: list[str]) -> dict:
    from learners.metrics import binary_metrics

    p = model.fail_probabilities(_rows(X, features))
    pred_good = p < model.threshold
    m = binary_metrics(list(y_good), list(pred_good), list(p))
    return {"accuracy": m["accuracy"], "balanced_accuracy": m["balanced_accuracy"],
            # no part flagged: precision undefined, and the F1 of "catches nothing" is 0
            "f1_fail": m["f1_fail"] if m["f1_fail"] is not None else 0.0, "auc_fail": m["auc_fail"]}


def fit_arm(task: dict, shared: dict) -> dict:
    """Train one arm on one seed and score it on the real validation set, plain and perturbed (a Dask task).

    ``task`` holds row indices into ``shared`` (the real matrix and labels,
    the synthetic pool's), so the data travels to each worker once.
    """
    from learners.scalar_baseline import GradientBoostingScalar

    features = shared["features"]
    Xr, yr, Xp, yp = shared["X_real"], shared["y_real"], shared["X_pool"], shared["y_pool"]
    tr_i, syn_i, va_i = (np.asarray(task[k], dtype=np.int64) for k in ("train_idx", "synthetic_idx", "val_idx"))
    y_syn = yp[syn_i]
    if task.get("shuffle_synthetic_labels"):
        # the control: the same synthetic cycles with their labels permuted (the twin's physics removed)
        y_syn = np.random.default_rng(task["perturb_seed"] + 1).permutation(y_syn)
    Xtr, ytr = np.vstack([Xr[tr_i], Xp[syn_i]]), np.concatenate([yr[tr_i], y_syn])
    Xva, yva = Xr[va_i], yr[va_i]
    model = GradientBoostingScalar(features=features, seed=int(task["seed"]), **task["learner"])
    model.fit(_rows(Xtr, features), list(ytr))
    tr = _scores(model, Xtr, ytr, features)
    row = {"arm": task["arm"], "fraction": task["fraction"], "seed": task["seed"], "n_real": int(tr_i.size),
           "n_synthetic": int(syn_i.size), "n_val": int(yva.size), "val_fails": int((~yva).sum()),
           "train_accuracy": tr["accuracy"], **_scores(model, Xva, yva, features)}
    rng = np.random.default_rng(task["perturb_seed"])
    sd = np.nanstd(Xr[task_train_real(task)], axis=0, ddof=1)
    for kind in PERTURBATIONS:
        s = _scores(model, perturb(Xva, kind, features, sd, task["robustness"], rng), yva, features)
        row[f"{kind}:auc_fail"] = s["auc_fail"]
        row[f"{kind}:balanced_accuracy"] = s["balanced_accuracy"]
    return row


def task_train_real(task: dict) -> np.ndarray:
    """The seed's whole real training set (the perturbation scale; the same for every arm of a seed)."""
    return np.asarray(task["seed_train_idx"], dtype=np.int64)


# -- orchestration ------------------------------------------------------------------------------------------------
def _calibrated_config(spec: dict, folder: RunFolder, progress) -> Path:
    given = spec["twin"]["calibrated_config"]
    if given:
        p = Path(given)
        if not p.is_file():
            raise FileNotFoundError(f"synthetic_fraction_molding: [twin] calibrated_config {p} does not exist")
        return p
    from scenarios import kamp_calibration

    scen = Path(spec["twin"]["calibration_scenario"])
    scen = scen if scen.is_absolute() else REPO_ROOT / scen
    cal_spec = tomllib.loads(scen.read_text(encoding="utf-8"))
    out = kamp_calibration.run(cal_spec, folder.path("calibration"), overwrite=True)
    return out / "config.toml"


def _real_table(spec: dict, tmp: Path) -> pa.Table:
    from twin.ingest import ingest_molding

    log = realdata_root() / spec["real"]["log"]
    mapping = Path(spec["real"]["mapping"])
    mapping = mapping if mapping.is_absolute() else REPO_ROOT / mapping
    real_dir = ingest_molding(log, mapping, tmp / "real")
    t = pq.read_table(real_dir / "cycles.parquet")
    parts = list(spec["real"]["parts"])
    t = t.filter(pc.is_in(pc.cast(t["experiment"], pa.string()), value_set=pa.array(parts, pa.string())))
    if t.num_rows < 100:
        raise ValueError(f"synthetic_fraction_molding: only {t.num_rows} real rows of parts {parts}")
    return t


def _matrix(rows_or_table, features: list[str]) -> np.ndarray:
    if isinstance(rows_or_table, pa.Table):
        cols = [np.asarray(rows_or_table[f].to_numpy(zero_copy_only=False), float) for f in features]
        return np.column_stack(cols)
    return np.array([[np.nan if r[f] is None else float(r[f]) for f in features] for r in rows_or_table], float)


def run(spec: dict, out: Path, *, progress: Callable[[int, int], None] | None = None, overwrite: bool = False,
        finalize: Callable | None = None, dask: dict | None = None) -> Path:
    """Run the sweep (module docstring); returns the run folder."""
    import tomli_w

    from scenarios.report_synthetic_fraction import synthetic_fraction_report_html

    spec = merge_spec(DEFAULTS, spec, "synthetic_fraction_molding")
    if dask:
        spec["dask"].update({k: v for k, v in dask.items() if v is not None})
    sy, sw = spec["synthetic"], spec["sweep"]
    if not sy["vary"]:
        raise KeyError("synthetic_fraction_molding: [synthetic.vary] is empty: name the config keys a defect "
                       "campaign scales, with a factor range each")
    for k, v in sy["vary"].items():
        if not (isinstance(v, list) and len(v) == 2 and 0 < v[0] <= v[1]):
            raise KeyError(f"synthetic_fraction_molding: [synthetic.vary] {k!r} must be [low, high] factors > 0")
    if not 0 <= float(sy["not_good_share"]) <= 1 or any(not 0 <= f <= 10 for f in sw["fractions"]):
        raise KeyError("synthetic_fraction_molding: not_good_share must be in [0, 1] and fractions in [0, 10]")
    if len(sw["seeds"]) < 2:
        raise KeyError("synthetic_fraction_molding: [sweep] seeds needs at least 2 seeds (intervals)")
    options = DaskOptions.from_spec(spec["dask"])
    features = list(spec["real"]["features"])
    RunFolder(out, overwrite=overwrite).check_target()
    n_arms = len(sw["fractions"]) + int(bool(sw["synthetic_only"])) + int(bool(sw["small_real_only"])) + \
        int(float(sw["shuffled_label_fraction"]) > 0)
    total = int(sy["runs"]) + n_arms * len(sw["seeds"])
    offset = {"n": 0}

    def tick(done: int, _total: int) -> None:
        if progress:
            progress(offset["n"] + done, total)

    with tempfile.TemporaryDirectory(prefix="twinloop-synfrac-") as tmp, \
            RunFolder(out, overwrite=overwrite) as folder:
        cal_path = _calibrated_config(spec, folder, progress)
        cal_cfg = load_config(cal_path)
        try:
            base = {k: float(get(cal_cfg, k)) for k in sy["vary"]}
        except (KeyError, ConfigError) as exc:
            raise KeyError(f"synthetic_fraction_molding: [synthetic.vary] names an unknown config key: {exc}") from None
        real = _real_table(spec, Path(tmp))
        # -- synthetic pool
        tasks = [{"run": k, "seed": task_seed(int(sy["seed"]), k), "config": str(Path(cal_path).resolve()),
                  "base": base, "vary": sy["vary"], "cycles": int(sy["cycles_per_run"]),
                  "warmup_cycles": int(sy["warmup_cycles"]), "features": features} for k in range(int(sy["runs"]))]
        pool = [r for rows in run_tasks(simulate_campaign, tasks, options, progress=tick) for r in rows]
        offset["n"] = len(tasks)
        keep = np.isfinite(_matrix(pool, features)).all(axis=1)
        pool = [r for r, k in zip(pool, keep) if k]
        # -- real split and arms
        Xr = _matrix(real, features)
        ok = np.isfinite(Xr).all(axis=1)
        real = real.filter(pa.array(ok))
        Xr = Xr[ok]
        yr = np.asarray(real["good"].to_pylist(), bool)
        shot = np.asarray(pc.cast(real["start_time"], pa.int64()).to_numpy(zero_copy_only=False))
        arm_tasks = []
        y_pool = np.array([r["good"] for r in pool], bool)
        shared = {"features": features, "X_real": Xr, "y_real": yr, "X_pool": _matrix(pool, features),
                  "y_pool": y_pool}
        for seed in sw["seeds"]:
            val = split_shots(shot, ~yr, float(spec["real"]["validation_fraction"]), int(seed))
            tr_i, va_i = np.flatnonzero(~val), np.flatnonzero(val)
            rng = np.random.default_rng(task_seed(int(seed), 1))
            arms: list[tuple[str, float | None, np.ndarray, np.ndarray]] = []
            empty = np.empty(0, np.int64)
            for f in sw["fractions"]:
                n_syn = int(round(float(f) * tr_i.size))
                syn = draw_synthetic(y_pool, n_syn, float(sy["not_good_share"]), rng) if n_syn else empty
                arms.append((f"{100 * float(f):g} % synthetic", float(f), tr_i, syn))
            if sw["synthetic_only"]:
                n_only = int(sw["synthetic_only_cycles"]) or tr_i.size
                arms.append(("synthetic only", None, empty,
                             draw_synthetic(y_pool, n_only, float(sy["not_good_share"]), rng)))
            if sw["small_real_only"]:
                small = split_shots(shot[tr_i], ~yr[tr_i], float(sw["small_real_fraction"]), int(seed) + 10_000)
                arms.append(("small real only", None, tr_i[small], empty))
            shuffled = float(sw["shuffled_label_fraction"])
            if shuffled > 0:
                arms.append((f"{100 * shuffled:g} % synthetic, labels shuffled", None, tr_i,
                             draw_synthetic(y_pool, int(round(shuffled * tr_i.size)), float(sy["not_good_share"]),
                                            rng)))
            for name, f, real_i, syn_i in arms:
                arm_tasks.append({"arm": name, "fraction": f, "seed": int(seed), "train_idx": real_i.tolist(),
                                  "shuffle_synthetic_labels": name.endswith("labels shuffled"),
                                  "synthetic_idx": syn_i.tolist(), "val_idx": va_i.tolist(),
                                  "seed_train_idx": tr_i.tolist(), "robustness": spec["robustness"],
                                  "perturb_seed": task_seed(int(seed), 2), "learner": spec["learner"]})
        rows = run_tasks(fit_arm, arm_tasks, options, progress=tick, shared=shared)
        summary = summarize_arms(rows)
        metrics = {"real_set": {"log": spec["real"]["log"], "parts": spec["real"]["parts"], "rows": int(yr.size),
                                "fails": int((~yr).sum()), "shots": int(np.unique(shot).size),
                                "features": features},
                   "calibrated_config": str(cal_path if spec["twin"]["calibrated_config"] else
                                            "calibration/config.toml"),
                   "synthetic_pool": {"cycles": len(pool), "not_good": int(sum(not r["good"] for r in pool)),
                                      "by_type": _counts(pool)},
                   "seeds": list(sw["seeds"]), "summary": summary, "learner": "GradientBoostingScalar (HGB)"}
        folder.write_text("config.toml", tomli_w.dumps({"scenario": "synthetic_fraction_molding", **spec}))
        pq.write_table(pa.Table.from_pylist(pool), folder.path("synthetic_pool.parquet"))
        pq.write_table(pa.Table.from_pylist(rows), folder.path("arms.parquet"))
        pq.write_table(pa.Table.from_pylist(summary), folder.path("summary.parquet"))
        folder.write_json("metrics.json", finite_json(metrics))
        folder.write_text("report.html", synthetic_fraction_report_html(metrics, rows, summary))
        if finalize is not None:
            finalize(folder, metrics)
    return Path(out)


def _counts(pool: list[dict]) -> dict:
    out: dict[str, int] = {}
    for r in pool:
        out[r["defect_type"]] = out.get(r["defect_type"], 0) + 1
    return dict(sorted(out.items()))


def summarize_arms(rows: list[dict]) -> list[dict]:
    """One row per arm: mean and 95 % t interval over seeds; paired difference to the 0 % arm with a paired t test."""
    arms = list(dict.fromkeys(r["arm"] for r in rows))
    base = {r["seed"]: r for r in rows if r["fraction"] == 0.0}
    keys = [*METRICS, *(f"{p}:{m}" for p in PERTURBATIONS for m in ("auc_fail", "balanced_accuracy"))]
    out = []
    for arm in arms:
        sel = sorted((r for r in rows if r["arm"] == arm), key=lambda r: r["seed"])
        s: dict = {"arm": arm, "fraction": sel[0]["fraction"], "seeds": len(sel),
                   "n_real": int(np.mean([r["n_real"] for r in sel])),
                   "n_synthetic": int(np.mean([r["n_synthetic"] for r in sel]))}
        for k in keys:
            vals = [r[k] for r in sel if r[k] is not None]
            if len(vals) >= 1:
                s[k], s[f"{k}_lo"], s[f"{k}_hi"] = mean_interval(vals, bounds=(0.0, 1.0))   # all are shares
            else:
                s[k] = s[f"{k}_lo"] = s[f"{k}_hi"] = math.nan
            pairs = [(r[k], base[r["seed"]][k]) for r in sel
                     if r["seed"] in base and r[k] is not None and base[r["seed"]][k] is not None]
            if k in ("accuracy", "balanced_accuracy", "f1_fail", "auc_fail") and len(pairs) >= 2 and base:
                s[f"{k}_diff"], s[f"{k}_diff_p"] = paired_test(pairs)
        out.append(s)
    # Several fractions are each tested against 0 %: Holm's step-down correction keeps the chance of any
    # false "helped" / "hurt" at 5 % over the whole family (Holm 1979, Scand. J. Statist. 6:65).
    for k in ("accuracy", "balanced_accuracy", "f1_fail", "auc_fail"):
        fam = [s for s in out if s["fraction"] not in (None, 0.0) and f"{k}_diff_p" in s]
        for s, p in zip(fam, holm([s[f"{k}_diff_p"] for s in fam])):
            s[f"{k}_diff_p_holm"] = p
    return out


