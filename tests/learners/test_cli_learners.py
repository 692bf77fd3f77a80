"""``twinloop train / evaluate / watch`` through the commands' own parser (scenarios.cli_learners.main)."""
from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from scenarios.cli_learners import main
from tests.learners.learner_data import sim_run

TINY_LSTM = ["--length", "16", "--hidden", "4", "--layers", "1", "--epochs", "2", "--threads", "1", "--no-progress"]


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    return sim_run(tmp_path_factory, cycles=40, seed=9, name="cli40")


def test_train_and_evaluate_lstm(run: Path, tmp_path: Path, capsys) -> None:
    assert main(["train", "lstm", "--data", str(run), "--out", str(tmp_path / "m")] + TINY_LSTM) == 0
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["history.parquet", "metrics.json", "model.twl"]
    m = json.loads((tmp_path / "m" / "metrics.json").read_text())
    assert m["cycles"] == 40 and m["params"]["length"] == 16
    assert pq.read_table(tmp_path / "m" / "history.parquet").num_rows == 2
    assert main(["evaluate", "lstm", "--model", str(tmp_path / "m"), "--data", str(run),
                 "--out", str(tmp_path / "ev")]) == 0
    ev = json.loads((tmp_path / "ev" / "metrics.json").read_text())
    assert ev["cycles"] == 40 and "macro_f1" in ev["defect_type"] and ev["binary"]["n"] == 40
    assert pq.read_table(tmp_path / "ev" / "predictions.parquet").num_rows == 40
    out = capsys.readouterr().out
    assert "model folder" in out and "macro-F1" in out
    # the wrong kind of model
    assert main(["evaluate", "scalar", "--model", str(tmp_path / "m"), "--data", str(run),
                 "--out", str(tmp_path / "ev2")]) == 2
    assert "not a scalar model" in capsys.readouterr().err
    assert not (tmp_path / "ev2").exists()


def test_train_scalar_evaluate_and_watch(run: Path, tmp_path: Path, capsys) -> None:
    assert main(["train", "scalar", "--data", str(run), "--out", str(tmp_path / "s"), "--model", "logreg"]) == 0
    assert main(["evaluate", "scalar", "--model", str(tmp_path / "s" / "model.twl"), "--data", str(run),
                 "--out", str(tmp_path / "se")]) == 0
    assert main(["watch", "--run", str(run), "--out", str(tmp_path / "w"), "--model", str(tmp_path / "s"),
                 "--learner", "hoeffding_adaptive", "--label-delay", "2", "--spc-in-control", "15",
                 "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "model:s:" in out and "hoeffding_adaptive:" in out and "report:" in out
    m = json.loads((tmp_path / "w" / "metrics.json").read_text())
    assert m["settings"]["label_delay"] == 2 and set(m["learners"]) == {"model:s", "hoeffding_adaptive"}


def test_bad_inputs_are_one_line_errors(run: Path, tmp_path: Path, capsys) -> None:
    assert main(["train", "scalar", "--data", str(tmp_path / "nope"), "--out", str(tmp_path / "x")]) == 2
    assert "nope: no such run folder" in capsys.readouterr().err
    no_curves = sim_run_without_curves(tmp_path)
    assert main(["train", "lstm", "--data", str(no_curves), "--out", str(tmp_path / "y")] + TINY_LSTM) == 2
    assert "no curves.parquet" in capsys.readouterr().err
    assert main(["evaluate", "lstm", "--model", str(tmp_path / "nomodel"), "--data", str(run),
                 "--out", str(tmp_path / "z")]) == 2
    assert "nomodel: no such model folder" in capsys.readouterr().err
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "model.twl").write_bytes(b"garbage")
    assert main(["watch", "--run", str(run), "--out", str(tmp_path / "w"), "--model", str(tmp_path / "broken"),
                 "--no-progress"]) == 2
    assert "model.twl: not a twinloop learner file" in capsys.readouterr().err
    unlabelled = _without_column(run, "good", tmp_path / "unlabelled")
    assert main(["train", "scalar", "--data", str(unlabelled), "--out", str(tmp_path / "u")]) == 2
    assert "missing column(s) ['good']" in capsys.readouterr().err
    assert main(["watch", "--run", str(run), "--out", str(tmp_path / "d"), "--detectors", "magic",
                 "--no-progress"]) == 2
    assert "unknown drift detector 'magic'" in capsys.readouterr().err
    for name in ("x", "y", "z", "w", "u", "d"):
        assert not (tmp_path / name).exists()


def sim_run_without_curves(tmp_path: Path) -> Path:
    from tests.learners.learner_data import _CACHE

    for key, path in _CACHE.items():
        if key[3] is False:
            return path
    from twin.config import load_config
    from twin.simulate import simulate_molding

    return simulate_molding(load_config(None, ["curves.enabled=false"]), tmp_path / "nocurves", cycles=5)


def _without_column(run: Path, column: str, dst: Path) -> Path:
    dst.mkdir()
    t = pq.read_table(run / "cycles.parquet")
    pq.write_table(t.drop_columns([column]), dst / "cycles.parquet")
    return dst


def test_train_and_evaluate_groups_are_shared_with_other_model_kinds() -> None:
    import argparse

    from scenarios.cli_learners import add_parsers, kinds_group

    for mine_first in (True, False):
        parser = argparse.ArgumentParser(prog="twinloop")
        commands = parser.add_subparsers(dest="command", required=True)
        if mine_first:
            add_parsers(commands)
        other = kinds_group(commands, "train").add_parser("detector")  # another module's model kind
        other.set_defaults(handler="detector")
        if not mine_first:
            add_parsers(commands)
        assert parser.parse_args(["train", "detector"]).handler == "detector"
        args = parser.parse_args(["evaluate", "scalar", "--model", "m", "--data", "d", "--out", "o"])
        assert args.kind == "scalar" and args.handler.__name__ == "cmd_evaluate"
        assert parser.parse_args(["watch", "--run", "r", "--out", "o"]).handler.__name__ == "cmd_watch"
