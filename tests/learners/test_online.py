"""The online runner on tiny simulated runs: predict-then-learn order, label delay, outputs, gap, LSTM."""
from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import torch

from learners.lstm import CurveGrid, LSTMCycleClassifier, read_curve_batch
from learners.online import OnlineRunner
from learners.protocol import Learner
from learners.records import LearnerInputError, as_rows, to_good
from learners.river_scalar import RiverScalarClassifier
from learners.stream import RecordStream
from tests.learners.learner_data import as_real, sim_run

def drifting_run(tmp_path_factory) -> Path:
    """120 cycles; at 0.3 h the hold pressure drops to 200 bar (sink marks from then on)."""
    from tests.learners import learner_data

    key = ("drifting",)
    if key in learner_data._CACHE:
        return learner_data._CACHE[key]
    from twin.config import load_config
    from twin.simulate import simulate_molding

    cfg = load_config(None, ["run.seed=4", "cell.mtbf_h=0", 'schedule.events=[{at_h = 0.3, kind = "setpoint", '
                             'set = {"setpoints.hold_pressure_bar" = 200.0}}]'])
    path = tmp_path_factory.mktemp("learner-runs") / "drifting"
    simulate_molding(cfg, path, cycles=120)
    learner_data._CACHE[key] = path
    return path


class Recorder(Learner):
    """Remembers, at each prediction, how many labels it had learned."""

    target = "good"

    def __init__(self):
        pass

    def learn_one(self, x, y):
        self.learned_ = getattr(self, "learned_", []) + [x["cycle_id"]]
        return self

    def predict_scored_many(self, X):
        rows = as_rows(X)
        self.seen_ = getattr(self, "seen_", []) + [(r["cycle_id"], len(getattr(self, "learned_", []))) for r in rows]
        return [True] * len(rows), [0.0] * len(rows)


@pytest.mark.parametrize("delay", [0, 7])
def test_predict_then_learn_with_label_delay(tmp_path_factory, tmp_path: Path, delay: int) -> None:
    run = drifting_run(tmp_path_factory)
    rec = Recorder()
    OnlineRunner({"rec": rec}, label_delay=delay, spc_in_control=30, report=False).run([run], tmp_path / "out")
    for i, (_, learned) in enumerate(rec.seen_):
        assert learned == max(0, i - delay)  # record i is predicted knowing the labels of records < i - delay
    preds = pq.read_table(tmp_path / "out" / "predictions.parquet").to_pylist()
    n = len(preds)
    for p in preds:  # labels still pending at the end of the stream arrive at its last position
        assert p["label_position"] == min(p["position"] + delay, n - 1)


def test_runner_outputs_metrics_alarms_and_report(tmp_path_factory, tmp_path: Path) -> None:
    run = drifting_run(tmp_path_factory)
    learners = {"logreg": RiverScalarClassifier("logreg", seed=0),
                "tree": RiverScalarClassifier("hoeffding_adaptive", grace_period=20, seed=0)}
    runner = OnlineRunner(learners, label_delay=3, window=30, spc_in_control=40,
                          spc_features=["part_weight_g", "max_injection_pressure_bar"],
                          error_detectors=["adwin", "page_hinkley"], feature_detectors=["adwin"], seed=1)
    alarms_live: list[dict] = []
    snaps: list[dict] = []
    out = runner.run([run], tmp_path / "watch", on_alarm=alarms_live.append, on_metrics=snaps.append,
                     metrics_every=40)
    names = sorted(p.name for p in out.iterdir())
    assert names == ["alarms.parquet", "gap_windows.parquet", "metrics.json", "predictions.parquet",
                     "report.html", "rolling.parquet", "spc.parquet"]
    m = json.loads((out / "metrics.json").read_text())
    assert m["stream"]["records"] == 120
    for name in learners:
        lm = m["learners"][name]
        assert lm["labelled"] == 120 and lm["prequential"]["n"] == 120
        assert 0.0 <= lm["prequential"]["accuracy"] <= 1.0
    preds = pq.read_table(out / "predictions.parquet")
    assert preds.num_rows == 240
    rolling = pq.read_table(out / "rolling.parquet")
    assert rolling.num_rows == 240 and set(rolling["learner"].to_pylist()) == set(learners)
    spc = pq.read_table(out / "spc.parquet")
    assert set(spc["chart"].to_pylist()) == {"ewma", "cusum"}
    assert spc.num_rows == 2 * 2 * (120 - 40)
    alarms = pq.read_table(out / "alarms.parquet").to_pylist()
    assert alarms == alarms_live
    # The hold pressure drops at 0.3 h (cycle ~55): the peak-pressure / weight charts must see it after that.
    times = pq.read_table(run / "cycles.parquet")["sim_time_s"].to_pylist()
    change = next(i for i, t in enumerate(times) if t >= 0.3 * 3600)
    low = [a["position"] for a in alarms if a["detector"] == "cusum" and a["signal"] == "part_weight_g"
           and a["kind"] == "spc_low"]
    assert any(change <= p <= change + 5 for p in low), (change, low)
    assert snaps and snaps[0]["position"] >= 39 and "logreg" in snaps[0]
    html = (out / "report.html").read_text()
    assert "rolling recall of fails" in html and "CUSUM" in html


def test_runner_is_deterministic(tmp_path_factory, tmp_path: Path) -> None:
    run = drifting_run(tmp_path_factory)

    def go(name: str) -> bytes:
        r = OnlineRunner({"t": RiverScalarClassifier("hoeffding_adaptive", grace_period=20, seed=3)},
                         error_detectors=["kswin"], spc_in_control=30, report=False, seed=2)
        out = r.run([run], tmp_path / name)
        return (pq.read_table(out / "predictions.parquet").to_pylist(),
                pq.read_table(out / "alarms.parquet").to_pylist())

    assert go("a") == go("b")


def test_sim_and_real_streams_merge_and_the_gap_is_measured(tmp_path_factory, tmp_path: Path) -> None:
    sim = sim_run(tmp_path_factory, cycles=80, seed=6, curves=False, name="sim80")
    real = as_real(sim_run(tmp_path_factory, cycles=80, seed=7, curves=False, name="other80"), tmp_path / "real")
    stream = RecordStream([sim, real])
    t = stream.times()
    assert len(stream) == 160 and all(t[i] <= t[i + 1] for i in range(159))
    assert sorted(set(stream.kinds)) == ["real", "sim"]
    r = OnlineRunner(RiverScalarClassifier(), spc_in_control=20, gap_window_s=600.0, gap_n_perm=20,
                     gap_min_rows=10, report=True)
    out = r.run([sim, real], tmp_path / "both")
    gap = pq.read_table(out / "gap_windows.parquet")
    m = json.loads((out / "metrics.json").read_text())
    assert m["gap"]["mode"] == "both windowed" and gap.num_rows >= 2
    assert m["gap"]["windows_compared"] >= 1
    assert set(m["features"]) == {"sim", "real"}  # SPC per source
    assert set(m["learners"]["learner"]["by_source"]) == {"sim", "real"}


def test_lstm_in_the_runner(tmp_path_factory, tmp_path: Path) -> None:
    torch.set_num_threads(1)
    run = sim_run(tmp_path_factory, cycles=40, seed=8, name="lstm40")
    batch, _ = read_curve_batch([run], CurveGrid(16, 4))
    clf = LSTMCycleClassifier(length=16, stride=4, hidden_size=4, num_layers=1, epochs=2).fit(batch)
    r = OnlineRunner({"lstm": clf}, batch_size=8, learn_batch=8, label_delay=8, spc_in_control=20, report=False)
    out = r.run([run], tmp_path / "lstm")
    preds = pq.read_table(out / "predictions.parquet")
    assert preds.num_rows == 40
    assert all(to_good(v) is not None for v in preds["pred_label"].to_pylist() if v not in ("True", "False"))
    m = json.loads((out / "metrics.json").read_text())
    assert m["learners"]["lstm"]["learn_updates"] == 5 and clf.n_updates_ == 5


def test_bad_inputs_name_what_is_missing(tmp_path: Path, tmp_path_factory) -> None:
    with pytest.raises(LearnerInputError, match="nope: no such run folder"):
        OnlineRunner(RiverScalarClassifier()).run([tmp_path / "nope"], tmp_path / "o1")
    (tmp_path / "empty").mkdir()
    with pytest.raises(LearnerInputError, match="no cycles.parquet"):
        OnlineRunner(RiverScalarClassifier()).run([tmp_path / "empty"], tmp_path / "o2")
    run = sim_run(tmp_path_factory, cycles=40, seed=8, name="lstm40")
    with pytest.raises(LearnerInputError, match="missing column 'no_time'"):
        OnlineRunner(RiverScalarClassifier(), time_column="no_time").run([run], tmp_path / "o3")
    with pytest.raises(LearnerInputError, match=r"feature\(s\) \['torque'\] to monitor"):
        OnlineRunner(RiverScalarClassifier(), spc_features=["torque"]).run([run], tmp_path / "o4")
    with pytest.raises(LearnerInputError, match="hidden_"):
        OnlineRunner(RiverScalarClassifier(), drift_features=["hidden_melt_temp_C"]).run([run], tmp_path / "o5")
    for name in ("o1", "o2", "o3", "o4", "o5"):
        assert not (tmp_path / name).exists()


def test_records_in_memory_stream_like_the_run_folder(tmp_path_factory, tmp_path: Path) -> None:
    run = sim_run(tmp_path_factory, cycles=40, seed=8, name="lstm40")
    batch, _ = read_curve_batch([run], CurveGrid(16, 4))
    clf = LSTMCycleClassifier(length=16, stride=4, hidden_size=4, num_layers=1, epochs=1).fit(batch)
    memory = RecordStream.from_tables([("mem", pq.read_table(run / "cycles.parquet"),
                                        pq.read_table(run / "curves.parquet"))])
    outs = []
    for name, source in (("folder", [run]), ("memory", memory)):
        r = OnlineRunner({"lstm": clf}, batch_size=8, learn=False, spc_in_control=20, report=False)
        outs.append(pq.read_table(r.run(source, tmp_path / name) / "predictions.parquet").drop_columns(["run"]))
    assert outs[0].equals(outs[1])
