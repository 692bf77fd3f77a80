"""The defect-augmentation study: counts, synthetic sets from training data only, the split check, end to end."""
from __future__ import annotations

import json

import numpy as np
import pyarrow.parquet as pq
import pytest

from generative.defect_synth.data import DefectData
from scenarios.defect_augmentation import make_synthetic, run, synthetic_counts


def test_counts_fill_rare_classes_to_the_target_share():
    c = synthetic_counts({"Free": 700, "A": 80, "B": 400}, "Free", 0.5)
    assert c == {"A": 270, "B": 0}


def _toy(size=16):
    rng = np.random.default_rng(0)
    n_free, n_def = 6, 4
    images = np.concatenate([np.full((n_free, size, size), 200, np.uint8),
                             rng.integers(0, 60, (n_def, size, size)).astype(np.uint8)])
    masks = np.zeros(images.shape, bool)
    masks[n_free:, 4:10, 4:10] = True
    labels = np.array([0] * n_free + [1, 1, 2, 2])
    return DefectData(images, masks, labels, ("Free", "A", "B"))


def test_copy_paste_uses_training_tiles_and_donors_only():
    train = _toy()
    imgs, labels = make_synthetic("copy_paste", train, {"A": 3, "B": 2}, None, {"copy_paste_shift": 0.0}, seed=1)
    assert imgs.shape == (5, 16, 16) and list(labels) == [1, 1, 1, 2, 2]
    # outside the pasted box every pixel is a defect-free training tile's (200), inside a donor's (< 60)
    assert np.all(imgs[:, 0, 0] == 200) and np.all(imgs[:, 6, 6] < 60)


def test_model_with_unknown_split_is_refused(tmp_path, realdata, monkeypatch):
    monkeypatch.setenv("TWINLOOP_REALDATA", str(realdata))
    (tmp_path / "m").mkdir()
    with pytest.raises(KeyError, match="cannot be checked"):
        run({"synthesizer": {"model": str(tmp_path / "m")}, "data": {"size_px": 32},
             "classifier": {"epochs": 1, "seeds": [0, 1]}, "dask": {"workers": 0}}, tmp_path / "out")
    (tmp_path / "m" / "config.toml").write_text('[data]\nsize_px = 32\ntest_fraction = 0.3\n')
    with pytest.raises(KeyError, match="test_fraction"):
        run({"synthesizer": {"model": str(tmp_path / "m")}, "data": {"size_px": 32},
             "classifier": {"epochs": 1, "seeds": [0, 1]}, "dask": {"workers": 0}}, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_end_to_end_tiny(realdata, tmp_path, monkeypatch):
    monkeypatch.setenv("TWINLOOP_REALDATA", str(realdata))
    spec = {"data": {"size_px": 32},
            "synthesizer": {"steps": 12, "feature_steps": 4, "pretrain_steps": 4},
            "augmentation": {"target_share": 0.1},
            "classifier": {"epochs": 1, "batch_size": 64, "seeds": [0, 1]}, "dask": {"workers": 0}}
    out = run(spec, tmp_path / "aug")
    rows = pq.read_table(out / "arms.parquet").to_pylist()
    assert {(r["arm"], r["seed"]) for r in rows} == {(a, s) for a in ("none", "cutmix", "copy_paste", "sft_gan")
                                                     for s in (0, 1)}
    m = json.loads((out / "metrics.json").read_text())
    added = sum(m["synthetic_per_class"].values())
    assert added > 0
    for r in rows:
        assert 0 <= r["macro_f1"] <= 1 and r["synthetic_images"] == (added if r["arm"] in ("copy_paste", "sft_gan")
                                                                      else 0)
        assert all(r[f"acc:{c}"] is not None for c in m["data"]["classes"])
    assert (out / "synthesizer.ckpt").is_file() and "Verdict" in (out / "report.html").read_text()
