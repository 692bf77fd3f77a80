"""The learner protocol: River and scikit-learn scalar learners, round trips, files and their errors."""
from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from sklearn.base import clone

from learners.protocol import Learner, fail_probability, load_learner
from learners.records import LearnerInputError, as_rows, label_of, scalar_feature_names
from learners.river_scalar import RiverScalarClassifier
from learners.scalar_baseline import GradientBoostingScalar
from learners.storage import LearnerFileError, MAGIC


def scalar_rows(n: int, seed: int = 0) -> list[dict]:
    """Records where a part fails when its cushion is low (a learnable rule) and a hidden column lies."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        cushion = float(rng.normal(5.0, 1.0))
        rows.append({"cycle_id": i, "cushion_mm": cushion, "cycle_time_s": float(rng.normal(20, 0.2)),
                     "max_injection_pressure_bar": float(rng.normal(900, 10)), "part_weight_g": None,
                     "hidden_melt_temp_C": 999.0, "good": cushion > 4.0,
                     "defect_type": "good" if cushion > 4.0 else "short_shot"})
    return rows


LEARNERS = [
    lambda: RiverScalarClassifier("logreg", seed=1),
    lambda: RiverScalarClassifier("hoeffding", grace_period=50, seed=1),
    lambda: RiverScalarClassifier("hoeffding_adaptive", grace_period=50, seed=1),
    lambda: GradientBoostingScalar(refit_every=100, max_iter=30, seed=1),
]


@pytest.mark.parametrize("make", LEARNERS, ids=["logreg", "hoeffding", "hoeffding_adaptive", "hgb"])
def test_scalar_learners_learn_predict_and_round_trip(make, tmp_path: Path) -> None:
    rows = scalar_rows(600)
    learner = make()
    assert learner.predict_one(rows[0]) is True  # nothing learned yet: "good"
    for r in rows[:400]:
        learner.learn_one(r, r["good"])
    test = rows[400:]
    pred = learner.predict_many(test)
    acc = np.mean([p == r["good"] for p, r in zip(pred, test)])
    assert acc > 0.8, acc
    assert [learner.predict_one(r) for r in test[:20]] == pred[:20]
    labels, p_fail = learner.predict_scored_many(test)
    assert labels == pred and all(0.0 <= p <= 1.0 for p in p_fail)
    assert "hidden_melt_temp_C" not in getattr(learner, "features_", [])
    path = learner.save(tmp_path / "m.twl")
    again = type(learner).load(path)
    assert again.predict_many(test) == pred
    assert type(load_learner(path)) is type(learner)
    assert np.allclose(again.predict_scored_many(test)[1], p_fail)


def test_learn_many_takes_tables_and_dicts_of_columns() -> None:
    rows = scalar_rows(300)
    table = pa.Table.from_pylist(rows)
    a = GradientBoostingScalar(max_iter=20, seed=0).fit(table)            # labels from the 'good' column
    b = GradientBoostingScalar(max_iter=20, seed=0).fit(rows, [r["good"] for r in rows])
    assert a.predict_many(table) == b.predict_many(rows)
    cols = {k: [r[k] for r in rows] for k in rows[0]}
    assert len(as_rows(cols)) == 300
    river = RiverScalarClassifier("logreg").learn_many(table)
    assert river.counts_[True] + river.counts_[False] == 300


def test_params_and_clone_follow_scikit_learn() -> None:
    learner = RiverScalarClassifier("hoeffding", threshold=0.3, seed=7)
    assert learner.get_params()["threshold"] == 0.3
    learner.learn_many(scalar_rows(50))
    fresh = clone(learner)
    assert not hasattr(fresh, "pipeline_") and fresh.get_params() == learner.get_params()


def test_labels_and_features() -> None:
    assert label_of({"good": True, "defect_type": "good"}, "defect_type") == "good"
    assert label_of({"good": False, "defect_type": None}, "defect_type") == "not_good"
    assert label_of({"good": None}, "good") is None
    assert fail_probability({True: 0.8, False: 0.2}) == pytest.approx(0.2)
    assert fail_probability({"good": 0.6, "flash": 0.4}) == pytest.approx(0.4)
    names = scalar_feature_names(["cycle_time_s", "hidden_melt_temp_C", "hold_pressure_bar", "good"])
    assert names == ["cycle_time_s", "hold_pressure_bar"]


def test_corrupt_truncated_foreign_and_wrong_class_files_name_the_file(tmp_path: Path) -> None:
    learner = RiverScalarClassifier("logreg").learn_many(scalar_rows(100))
    path = learner.save(tmp_path / "m.twl")
    data = path.read_bytes()

    flipped = tmp_path / "flipped.twl"
    flipped.write_bytes(data[:-10] + bytes([data[-10] ^ 0xFF]) + data[-9:])
    with pytest.raises(LearnerFileError, match="flipped.twl.*corrupt"):
        Learner.load(flipped)

    truncated = tmp_path / "truncated.twl"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(LearnerFileError, match="truncated.twl.*corrupt"):
        RiverScalarClassifier.load(truncated)

    foreign = tmp_path / "foreign.twl"
    foreign.write_bytes(b"PK\x03\x04 not a learner")
    with pytest.raises(LearnerFileError, match="foreign.twl.*not a twinloop learner file"):
        Learner.load(foreign)

    with pytest.raises(LearnerFileError, match="m.twl.*incompatible.*RiverScalarClassifier"):
        GradientBoostingScalar.load(path)

    with pytest.raises(LearnerFileError, match="missing.twl: no such learner file"):
        Learner.load(tmp_path / "missing.twl")

    newer = tmp_path / "newer.twl"
    newer.write_bytes(data.replace(b'"format": 1', b'"format": 9', 1))
    with pytest.raises(LearnerFileError, match="newer.twl.*incompatible.*format 9"):
        Learner.load(newer)
    assert data.startswith(MAGIC)


def test_save_is_atomic_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    learner = GradientBoostingScalar(max_iter=10).fit(scalar_rows(200))
    path = tmp_path / "model.twl"
    learner.save(path)
    first = path.read_bytes()
    learner.save(path)  # replacing an existing file
    assert path.read_bytes() == first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.twl"]


def test_bad_records_are_clear_errors() -> None:
    with pytest.raises(LearnerInputError, match="expected records"):
        as_rows(42)
    with pytest.raises(ValueError, match="3 records but 2 labels"):
        RiverScalarClassifier().learn_many(scalar_rows(3), [True, False])
    with pytest.raises(ValueError, match="unknown River model"):
        RiverScalarClassifier("svm").learn_one(scalar_rows(1)[0], True)


def test_learners_do_not_import_the_simulator() -> None:
    """learners/ sees records, never the simulator: no import of simpy or the twin's simulation modules."""
    forbidden = ("simpy", "twin.simulate", "twin.machine", "twin.cell", "twin.bus", "twin.replay", "twin.sinks")
    root = Path(__file__).resolve().parents[2] / "learners"
    offenders = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            for name in names:
                if any(name == f or name.startswith(f + ".") for f in forbidden):
                    offenders.append(f"{path.relative_to(root.parent)}: {name}")
    assert offenders == []
