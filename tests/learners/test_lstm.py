"""The LSTM cycle classifier: grid, offset sampling, robust scaling, training, determinism, files."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from learners.lstm import (CurveBatch, CurveGrid, LSTMCycleClassifier, RobustChannelScaler, curves_to_grid,
                           offset_sample, read_curve_batch)
from learners.protocol import Learner
from learners.records import LearnerInputError
from learners.storage import LearnerFileError
from tests.learners.learner_data import SYN_CHANNELS, sim_run, synthetic_records

TINY = dict(length=32, stride=4, hidden_size=8, num_layers=1, dropout=0.0, batch_size=16, lr=0.01)


@pytest.fixture(autouse=True)
def _one_torch_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_offset_sampling_multiplies_the_data_by_k() -> None:
    fine = np.arange(2 * 3 * 16, dtype=np.float32).reshape(2, 3, 16)
    seqs, cyc = offset_sample(fine, 4)
    assert seqs.shape == (8, 3, 4)
    assert cyc.tolist() == [0, 0, 0, 0, 1, 1, 1, 1]
    for o in range(4):  # offset o of cycle 1 = every 4th sample from o
        assert np.array_equal(seqs[4 + o], fine[1, :, o::4])
    one, _ = offset_sample(fine, 4, (0,))
    assert one.shape == (2, 3, 4) and np.array_equal(one[1], fine[1, :, 0::4])
    with pytest.raises(ValueError):
        offset_sample(fine, 4, (4,))


def test_training_sequences_per_epoch_with_and_without_offsets() -> None:
    recs = synthetic_records(12)
    with_k = LSTMCycleClassifier(**TINY, epochs=1, offset_sampling=True).fit(recs)
    without = LSTMCycleClassifier(**TINY, epochs=1, offset_sampling=False).fit(recs)
    assert with_k.history_[0]["sequences"] == 4 * 12
    assert without.history_[0]["sequences"] == 12


def test_grid_slices_same_interval_pads_short_and_interpolates_other_rates() -> None:
    grid = CurveGrid(length=5, stride=2, sample_interval_s=0.01)
    same = {"a": np.arange(20, dtype=np.float32), "sample_interval_s": 0.01}
    short = {"a": np.arange(4, dtype=np.float32), "sample_interval_s": 0.01}
    slow = {"a": np.arange(10, dtype=np.float32) * 2.0, "sample_interval_s": 0.02}  # same signal at 20 ms
    missing = {"a": None, "sample_interval_s": 0.01}
    out = curves_to_grid([same, short, slow, missing], ["a"], grid)
    assert out.shape == (4, 1, 10)
    assert out[0, 0].tolist() == list(range(10))
    assert out[1, 0].tolist() == [0, 1, 2, 3, 3, 3, 3, 3, 3, 3]
    assert np.allclose(out[2, 0], np.arange(10))
    assert np.isnan(out[3, 0]).all()
    with pytest.raises(LearnerInputError, match="no curve channel 'b'"):
        curves_to_grid([same], ["b"], grid)


def test_robust_scaling_is_fitted_on_training_data_only() -> None:
    rng = np.random.default_rng(0)
    train = rng.normal(10.0, 2.0, size=(50, 2, 40)).astype(np.float32)
    test = rng.normal(1000.0, 50.0, size=(20, 2, 40)).astype(np.float32)
    scaler = RobustChannelScaler(clip=None).fit(train)
    flat = np.moveaxis(train, 1, 0).reshape(2, -1)
    assert np.allclose(scaler.center_, np.median(flat, axis=1), rtol=1e-5)
    q75, q25 = np.percentile(flat, [75, 25], axis=1)
    assert np.allclose(scaler.scale_, q75 - q25, rtol=1e-5)
    before = (scaler.center_.copy(), scaler.scale_.copy())
    z = scaler.transform(test)
    assert np.array_equal(before[0], scaler.center_) and np.array_equal(before[1], scaler.scale_)
    assert z.mean() > 100  # the test data is scaled with the training statistics, not its own

    # The classifier fits its scaler on the training cycles only.
    recs = synthetic_records(12, seed=1)
    clf = LSTMCycleClassifier(**TINY, epochs=1).fit(recs)
    fine = curves_to_grid(recs, clf.channels_, clf.grid)
    assert set(clf.channels_) == set(SYN_CHANNELS)
    assert np.allclose(clf.scaler_.center_, RobustChannelScaler().fit(fine).center_)
    shifted = [dict(r, pressure_bar=r["pressure_bar"] + 1e4) for r in synthetic_records(6, seed=2)]
    clf.predict_many(shifted)
    assert np.allclose(clf.scaler_.center_, RobustChannelScaler().fit(fine).center_)


def test_scaling_floor_keeps_pulses_from_exploding() -> None:
    x = np.zeros((10, 1, 100), dtype=np.float32)
    x[:, 0, 40:45] = 100.0  # a pulse on a plateau: IQR 0
    x += np.random.default_rng(0).normal(0, 0.01, x.shape).astype(np.float32)
    z = RobustChannelScaler().fit_transform(x)
    assert np.abs(z).max() <= 20.0 and np.abs(z).max() > 5.0


def test_loss_falls_on_a_small_overfit() -> None:
    recs = synthetic_records(24, seed=3)
    clf = LSTMCycleClassifier(**TINY, epochs=25, seed=0).fit(recs)
    losses = [h["loss"] for h in clf.history_]
    assert losses[-1] < 0.5 * losses[0], losses
    pred = clf.predict_many(recs)
    assert np.mean([p == r["defect_type"] for p, r in zip(pred, recs)]) >= 0.9
    assert clf.classes_[0] == "good" and set(clf.classes_) == {"good", "sink_marks", "flash"}


def test_same_seed_same_weights_and_global_rng_untouched() -> None:
    recs = synthetic_records(12, seed=4)
    torch.manual_seed(123)
    marker = torch.rand(1)
    torch.manual_seed(123)
    a = LSTMCycleClassifier(**{**TINY, "dropout": 0.3}, epochs=3, seed=5).fit(recs)
    assert torch.equal(torch.rand(1), marker)  # fit left the global torch RNG where it was
    b = LSTMCycleClassifier(**{**TINY, "dropout": 0.3}, epochs=3, seed=5).fit(recs)
    c = LSTMCycleClassifier(**{**TINY, "dropout": 0.3}, epochs=3, seed=6).fit(recs)
    sa, sb, sc = a.model_.state_dict(), b.model_.state_dict(), c.model_.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert not all(torch.equal(sa[k], sc[k]) for k in sa)
    assert a.history_ == b.history_


def test_save_load_round_trip_and_corrupt_file(tmp_path: Path) -> None:
    recs = synthetic_records(12, seed=5)
    clf = LSTMCycleClassifier(**TINY, epochs=2).fit(recs)
    path = clf.save(tmp_path / "lstm.twl")
    again = LSTMCycleClassifier.load(path)
    assert again.predict_many(recs) == clf.predict_many(recs)
    assert np.allclose(again.probabilities(recs)[0], clf.probabilities(recs)[0])
    assert isinstance(Learner.load(path), LSTMCycleClassifier)
    again.learn_many(recs[:4])  # keeps learning after a reload (optimizer state restored)
    assert again.n_updates_ == 1
    data = path.read_bytes()
    (tmp_path / "bad.twl").write_bytes(data[:-100])
    with pytest.raises(LearnerFileError, match="bad.twl.*corrupt"):
        LSTMCycleClassifier.load(tmp_path / "bad.twl")


def test_predictions_combine_the_heads_consistently() -> None:
    recs = synthetic_records(18, seed=6)
    clf = LSTMCycleClassifier(**TINY, epochs=10).fit(recs)
    labels, p_fail = clf.predict_scored_many(recs)
    for lab, p in zip(labels, p_fail):
        assert (lab == "good") == (p < clf.threshold)
    proba = clf.predict_proba_many(recs)
    assert all(abs(sum(d.values()) - 1.0) < 1e-6 for d in proba)
    clf_all = LSTMCycleClassifier(**TINY, epochs=1, predict_offsets="all").fit(recs)
    assert len(clf_all.predict_many(recs)) == len(recs)


def test_run_folders_on_the_grid_and_missing_channels(tmp_path_factory) -> None:
    run = sim_run(tmp_path_factory, cycles=12, seed=5)
    grid = CurveGrid(length=16, stride=4)
    batch, rows = read_curve_batch([run], grid)
    assert isinstance(batch, CurveBatch) and batch.values.shape == (12, len(batch.channels), 64)
    assert len(rows) == 12 and batch.labels[0] in ("good", "sink_marks", "short_shot", "flash", "warpage")
    clf = LSTMCycleClassifier(length=16, stride=4, hidden_size=4, num_layers=1, epochs=1).fit(batch)
    assert len(clf.predict_many(batch)) == 12
    with pytest.raises(LearnerInputError, match="missing curve channel"):
        LSTMCycleClassifier(channels=["no_such_channel"], length=16, epochs=1).fit(batch)
    no_curves = sim_run(tmp_path_factory, cycles=5, seed=5, curves=False, name="nocurves")
    with pytest.raises(LearnerInputError, match="no curves.parquet"):
        read_curve_batch([no_curves], grid)
