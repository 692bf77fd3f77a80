"""LSTM on twin curves: does offset sampling help? Held-out accuracy with and without it.

The study behind it (``shared/studies/injection_molding_synthetic_data.txt``)
trains a 3 x 100 LSTM with dropout on 34 sensor curves at 10 ms and
"quadruples" its data by offset sampling (every 4th sample, from offsets
0-3). This scenario repeats that on the twin:

1. **Data.** A molding campaign of lots, each run with other settings
   (``apply_changes`` per lot: hold pressure and time, switchover, clamp
   force, cooling time), chosen so that the twin's physics makes a useful
   defect mix — sink marks (low hold pressure / short hold), short shots
   (late switchover), flash (low clamp force), warpage (short cooling),
   and borderline lots where the same settings give both good and bad
   parts (hold 245 bar, clamp 360 kN, switchover 35 cm³). Every lot starts
   with a cold mold, so its first cycles differ from its last. A training
   campaign and a held-out campaign are simulated with different seeds
   (other lots' viscosity, other noise); about 60 % of the parts are
   defective, as in the study's synthetic set.
2. **Arms.** The same network (``[model]``) is trained

   * ``offsets``: on all k = ``stride`` offsets (k x the sequences);
   * ``no_offsets``: on offset 0 only, the same number of epochs (1/k of
     the gradient steps);
   * ``no_offsets_equal_steps``: on offset 0 only with k x the epochs —
     as many sequences seen (and about as many gradient steps) as
     ``offsets``, so a difference between it and ``offsets`` is the
     augmentation, not the extra steps.

   All arms see the same sequences at test time (offset 0, the same
   resolution and length).
3. **Scores** on the held-out campaign: good / not good (accuracy,
   balanced accuracy, recall and precision of fails, AUC) and the defect
   type (accuracy, macro-F1), per arm and seed, with the mean over seeds.

Run: ``twinloop run scenarios/lstm_offset_sampling.toml --out DIR`` (about
7 minutes on 2 shared cores at the default budget: 2 seeds x 3 arms, one
torch thread; ``seeds = [0]`` halves it). It writes ``metrics.json``,
``report.html`` (loss curves, held-out scores, confusion matrices) and
``models/<arm>-seed<S>/model.twl``; with ``data.keep = true`` also the
simulated campaigns (``data/train``, ``data/test``; ~60 MB per 400 cycles).
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Callable

from scenarios.spec import merge_spec
from twin.config import apply_changes, load_config
from twin.runfolder import RunFolder, finite_json

__all__ = ["DEFAULTS", "DEFAULT_CONDITIONS", "ARMS", "run"]

#: The lots of a campaign: a name and the config changes of that lot (see the module docstring).
DEFAULT_CONDITIONS: list[dict] = [
    {"name": "nominal", "set": {}},
    {"name": "hold_300bar", "set": {"setpoints.hold_pressure_bar": 300.0}},
    {"name": "hold_245bar", "set": {"setpoints.hold_pressure_bar": 245.0}},
    {"name": "hold_200bar", "set": {"setpoints.hold_pressure_bar": 200.0}},
    {"name": "hold_time_3s", "set": {"setpoints.hold_time_s": 3.0}},
    {"name": "switchover_35cm3", "set": {"setpoints.switchover_volume_cm3": 35.0, "setpoints.hold_pressure_bar": 200.0}},
    {"name": "switchover_46cm3", "set": {"setpoints.switchover_volume_cm3": 46.0, "setpoints.hold_pressure_bar": 200.0}},
    {"name": "clamp_360kN", "set": {"setpoints.clamp_force_kN": 360.0}},
    {"name": "clamp_300kN", "set": {"setpoints.clamp_force_kN": 300.0}},
    {"name": "cooling_4s", "set": {"setpoints.cooling_time_s": 4.0}},
]

ARMS: tuple[str, ...] = ("offsets", "no_offsets", "no_offsets_equal_steps")

DEFAULTS: dict = {
    "data": {"conditions": DEFAULT_CONDITIONS, "train_cycles": 40, "test_cycles": 20, "train_seed": 11,
             "test_seed": 12, "set": {}, "keep": False},
    "model": {"length": 300, "stride": 4, "sample_interval_ms": 10.0, "hidden_size": 100, "num_layers": 3,
              "dropout": 0.2, "pooling": "mean", "epochs": 8, "batch_size": 32, "lr": 3e-3, "seeds": [0, 1],
              "threads": 1},
    "arms": {"run": list(ARMS)},
}


def _simulate_campaign(cfg: dict, conditions: list[dict], cycles: int, seed: int, folder: Path,
                       tick: Callable[[], None]) -> list[Path]:
    from twin.simulate import simulate_molding

    out = []
    for k, cond in enumerate(conditions):
        changes = {**cond.get("set", {}), "run.seed": int(seed) * 1000 + k, "curves.enabled": True}
        out.append(simulate_molding(apply_changes(cfg, changes), folder / cond["name"], cycles=int(cycles)))
        tick()
    return out


def _class_counts(labels: list) -> dict[str, int]:
    out: dict[str, int] = {}
    for lab in labels:
        out[lab] = out.get(lab, 0) + 1
    return dict(sorted(out.items(), key=lambda kv: (kv[0] != "good", kv[0])))


def run(spec: dict, out: Path, *, progress: Callable[[int, int], None] | None = None, overwrite: bool = False,
        finalize: Callable | None = None) -> Path:
    """Run the study (module docstring); returns the run folder."""
    spec = merge_spec(DEFAULTS, spec, "lstm_offset_sampling")
    import torch

    from learners.lstm import CurveGrid, LSTMCycleClassifier, read_curve_batch
    from learners.metrics import binary_metrics, multiclass_metrics
    from learners.storage import MODEL_FILE

    data, mspec, arms = spec["data"], spec["model"], list(spec["arms"]["run"])
    unknown = [a for a in arms if a not in ARMS]
    if unknown:
        raise KeyError(f"lstm_offset_sampling: unknown arm(s) {unknown} in [arms] run; known: {list(ARMS)}")
    conditions = list(data["conditions"])
    for c in conditions:
        if not isinstance(c, dict) or "name" not in c or set(c) - {"name", "set"}:
            raise KeyError(f"lstm_offset_sampling: each [[data.conditions]] needs 'name' and optional 'set', got {c!r}")
    seeds = [int(s) for s in mspec["seeds"]]
    overrides = [f"{k}={_toml_value(v)}" for k, v in data["set"].items()]
    cfg = load_config(None, overrides)
    for c in conditions:  # a bad key fails here, before anything is simulated
        apply_changes(cfg, c.get("set", {}))
    RunFolder(out, overwrite=overwrite).check_target()
    grid = CurveGrid(int(mspec["length"]), int(mspec["stride"]), float(mspec["sample_interval_ms"]) / 1000.0)
    steps, done = 2 * len(conditions) + len(arms) * len(seeds), 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress:
            progress(done, steps)

    threads_before = torch.get_num_threads()
    t_start = time.perf_counter()
    with RunFolder(out, overwrite=overwrite) as folder, tempfile.TemporaryDirectory(prefix="twinloop-lstm-") as tmp:
        data_root = folder.path("data") if data["keep"] else Path(tmp)
        t0 = time.perf_counter()
        train_dirs = _simulate_campaign(cfg, conditions, data["train_cycles"], data["train_seed"],
                                        data_root / "train", tick)
        test_dirs = _simulate_campaign(cfg, conditions, data["test_cycles"], data["test_seed"],
                                       data_root / "test", tick)
        sim_seconds = time.perf_counter() - t0
        train, _ = read_curve_batch(train_dirs, grid)
        test, _ = read_curve_batch(test_dirs, grid, train.channels)
        results: dict = {}
        histories: dict = {}
        try:
            if mspec["threads"]:
                torch.set_num_threads(int(mspec["threads"]))
            for arm in arms:
                per_seed = {}
                for seed in seeds:
                    epochs = int(mspec["epochs"]) * (grid.stride if arm == "no_offsets_equal_steps" else 1)
                    clf = LSTMCycleClassifier(length=grid.length, stride=grid.stride,
                                              sample_interval_ms=float(mspec["sample_interval_ms"]),
                                              offset_sampling=(arm == "offsets"), hidden_size=int(mspec["hidden_size"]),
                                              num_layers=int(mspec["num_layers"]), dropout=float(mspec["dropout"]),
                                              epochs=epochs, batch_size=int(mspec["batch_size"]), lr=float(mspec["lr"]),
                                              pooling=str(mspec["pooling"]), seed=seed)
                    t1 = time.perf_counter()
                    clf.fit(train)
                    secs = time.perf_counter() - t1
                    labels, p_fail = clf.predict_scored_many(test)
                    seqs = sum(h["sequences"] for h in clf.history_)
                    per_seed[str(seed)] = {
                        "binary": binary_metrics(test.labels, labels, p_fail),
                        "defect_type": multiclass_metrics(test.labels, labels),
                        "epochs": epochs, "sequences_per_epoch": clf.history_[0]["sequences"],
                        "gradient_steps": sum(-(-h["sequences"] // int(mspec["batch_size"])) for h in clf.history_),
                        "train_seconds": secs, "train_sequences_per_s": seqs / secs if secs > 0 else None,
                        "final_loss": clf.history_[-1]["loss"],
                    }
                    histories[f"{arm}-seed{seed}"] = [h["loss"] for h in clf.history_]
                    clf.save(folder.path(f"models/{arm}-seed{seed}/{MODEL_FILE}"))
                    tick()
                results[arm] = {"seeds": per_seed, "mean": _mean_over_seeds(per_seed)}
        finally:
            torch.set_num_threads(threads_before)
        fails_train = sum(lab != "good" for lab in train.labels) / len(train)
        metrics = {
            "data": {"conditions": conditions, "train_cycles": len(train), "test_cycles": len(test),
                     "train_classes": _class_counts(train.labels), "test_classes": _class_counts(test.labels),
                     "train_defective_fraction": fails_train,
                     "test_defective_fraction": sum(lab != "good" for lab in test.labels) / len(test),
                     "channels": list(train.channels), "grid": {"length": grid.length, "stride": grid.stride,
                                                                "window_s": grid.window_s},
                     "simulate_seconds": sim_seconds, "kept": bool(data["keep"])},
            "model": {k: v for k, v in mspec.items()},
            "arms": results,
            "comparison": _comparison(results),
            "seconds": time.perf_counter() - t_start,
        }
        folder.write_json("metrics.json", finite_json(metrics))
        folder.write_text("report.html", _report(metrics, histories))
        if finalize is not None:
            finalize(folder, metrics)
    return Path(out)


_KEYS = (("binary", "accuracy"), ("binary", "balanced_accuracy"), ("binary", "recall_fail"),
         ("binary", "precision_fail"), ("binary", "f1_fail"), ("binary", "auc_fail"),
         ("defect_type", "accuracy"), ("defect_type", "macro_f1"))


def _mean_over_seeds(per_seed: dict) -> dict:
    import numpy as np

    out = {}
    for group, key in _KEYS:
        vals = [s[group][key] for s in per_seed.values() if s[group].get(key) is not None]
        out[f"{group}.{key}"] = float(np.mean(vals)) if vals else None
        if len(vals) > 1:
            out[f"{group}.{key}.sd"] = float(np.std(vals, ddof=1))
    out["train_seconds"] = float(np.mean([s["train_seconds"] for s in per_seed.values()]))
    return out


def _comparison(results: dict) -> dict:
    """Held-out differences: offsets minus each other arm (mean over seeds)."""
    if "offsets" not in results:
        return {}
    base = results["offsets"]["mean"]
    out = {}
    for arm, r in results.items():
        if arm == "offsets":
            continue
        out[f"offsets_minus_{arm}"] = {k: (base[k] - r["mean"][k]) if base.get(k) is not None
                                       and r["mean"].get(k) is not None else None
                                       for k in (f"{g}.{k2}" for g, k2 in _KEYS)}
    return out


def _report(metrics: dict, histories: dict) -> str:
    import plotly.graph_objects as go

    from scenarios.report_html import Section, figure_html, fmt, page_html, table_html

    fig = go.Figure()
    for name, losses in histories.items():
        fig.add_trace(go.Scatter(x=list(range(1, len(losses) + 1)), y=losses, mode="lines+markers", name=name))
    fig.update_layout(xaxis_title="epoch", yaxis_title="training loss (binary + defect type)",
                      margin={"l": 60, "r": 20, "t": 20, "b": 40})
    rows = []
    for arm, r in metrics["arms"].items():
        m = r["mean"]
        first = next(iter(r["seeds"].values()))
        rows.append((arm, first["epochs"], first["sequences_per_epoch"], first["gradient_steps"],
                     fmt(m["binary.accuracy"]), fmt(m["binary.balanced_accuracy"]), fmt(m["binary.recall_fail"]),
                     fmt(m["binary.precision_fail"]), fmt(m["binary.auc_fail"]), fmt(m["defect_type.accuracy"]),
                     fmt(m["defect_type.macro_f1"]), fmt(m["train_seconds"], 1)))
    head = ("arm", "epochs", "sequences / epoch", "gradient steps", "accuracy", "balanced acc.", "recall of fails",
            "precision of fails", "AUC", "defect-type acc.", "defect macro-F1", "train s")
    scores = table_html(rows, head, [False] + [True] * 11)
    cms = []
    for arm, r in metrics["arms"].items():
        seed, s = next(iter(r["seeds"].items()))
        d = s["defect_type"]
        cm_rows = [[c] + row for c, row in zip(d["classes"], d["confusion"])]
        cms.append(f"<h3>{arm} (seed {seed}): rows = truth, columns = prediction</h3>"
                   + table_html(cm_rows, ["truth \\ pred"] + d["classes"], [False] + [True] * len(d["classes"])))
    dm = metrics["data"]
    cls = ", ".join(f"{k} {v}" for k, v in dm["train_classes"].items())
    sections = [
        Section("Held-out scores", f"Training campaign: {dm['train_cycles']} cycles ({cls}; "
                f"{100 * dm['train_defective_fraction']:.0f} % defective); held-out campaign: {dm['test_cycles']} "
                f"cycles from other seeds. Sequences of {dm['grid']['length']} points, every "
                f"{dm['grid']['stride']}th sample of the first {dm['grid']['window_s']:.1f} s. Mean over seeds "
                f"{metrics['model']['seeds']}.", scores, "scores"),
        Section("Training loss", "Mean loss per epoch (an epoch of the offsets arm has k times the sequences).",
                figure_html(fig, "loss", 380), "loss"),
        Section("Defect-type confusion", "First seed of each arm.", "".join(cms), "confusion"),
    ]
    return page_html("LSTM on twin curves: offset sampling", "scenarios/lstm_offset_sampling.py", sections)


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(v)

