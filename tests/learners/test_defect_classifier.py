"""The defect classifier: image folders, training from scratch, scores, files, determinism."""
import numpy as np
import pytest
import torch
from PIL import Image

from learners.defects import (DefectClassifier, classification_scores, load_image_folder, load_magnetic_tile,
                              split_stratified)
from learners.defects.image_folder import ImageSet
from learners.storage import LearnerFileError


def _toy_set(n_per_class=12, size=32, seed=0) -> ImageSet:
    """Two easily told-apart classes: horizontal vs vertical stripes, with noise."""
    rng = np.random.default_rng(seed)
    imgs, labels = [], []
    yy, xx = np.mgrid[0:size, 0:size]
    for k, pattern in enumerate((np.sin(yy / 2.0), np.sin(xx / 2.0))):
        for _ in range(n_per_class):
            img = 128 + 80 * pattern + rng.normal(0, 20, (size, size))
            imgs.append(np.clip(img, 0, 255).astype(np.uint8))
            labels.append(k)
    return ImageSet(np.stack(imgs), np.array(labels), ("horizontal", "vertical"),
                    tuple(f"img{i}" for i in range(len(labels))))


@pytest.fixture(autouse=True)
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def test_learns_a_separable_toy_problem_and_the_loss_falls():
    data = _toy_set()
    clf = DefectClassifier(size_px=32, epochs=8, batch_size=8, lr=3e-3, augment=False, seed=1).fit(data)
    assert np.isfinite([h["loss"] for h in clf.history_]).all()
    assert clf.history_[-1]["loss"] < clf.history_[0]["loss"]
    test = _toy_set(seed=5)
    assert np.mean(clf.predict(test.images) == test.labels) >= 0.9


def test_same_seed_same_model_and_save_load_round_trip(tmp_path):
    data = _toy_set(n_per_class=6)
    a = DefectClassifier(size_px=32, epochs=1, batch_size=4, seed=3).fit(data)
    b = DefectClassifier(size_px=32, epochs=1, batch_size=4, seed=3).fit(data)
    np.testing.assert_array_equal(a.predict_proba(data.images), b.predict_proba(data.images))
    path = a.save(tmp_path / "m.twl")
    c = DefectClassifier.load(path)
    np.testing.assert_allclose(c.predict_proba(data.images), a.predict_proba(data.images), atol=1e-6)
    assert c.classes_ == data.classes and c.arch == "resnet18"


def test_corrupt_or_foreign_files_are_clear_errors(tmp_path):
    data = _toy_set(n_per_class=4)
    path = DefectClassifier(size_px=32, epochs=1, batch_size=4).fit(data).save(tmp_path / "m.twl")
    raw = bytearray(path.read_bytes())
    raw[-10] ^= 0xFF
    bad = tmp_path / "bad.twl"
    bad.write_bytes(bytes(raw))
    with pytest.raises(LearnerFileError, match="bad.twl.*checksum"):
        DefectClassifier.load(bad)
    (tmp_path / "x.twl").write_text("hello")
    with pytest.raises(LearnerFileError, match="not a twinloop learner file"):
        DefectClassifier.load(tmp_path / "x.twl")


def test_bad_inputs():
    data = _toy_set(n_per_class=4)
    with pytest.raises(ValueError, match="size_px=64"):
        DefectClassifier(size_px=64, epochs=1).fit(data)
    with pytest.raises(ValueError, match="arch"):
        DefectClassifier(arch="vgg", size_px=32, epochs=1).fit(data)
    with pytest.raises(RuntimeError, match="not fitted"):
        DefectClassifier().predict(data.images)


def test_efficientnet_variant_trains():
    data = _toy_set(n_per_class=4)
    clf = DefectClassifier(arch="efficientnet_b0", size_px=32, epochs=1, batch_size=4).fit(data)
    assert clf.predict_proba(data.images).shape == (8, 2)


def test_scores_per_class_and_macro_f1():
    s = classification_scores(np.array([0, 0, 1, 1, 2, 2]), np.array([0, 1, 1, 1, 0, 0]), ("a", "b", "c"))
    assert s["per_class_accuracy"] == {"a": 0.5, "b": 1.0, "c": 0.0}
    assert s["accuracy"] == pytest.approx(0.5)
    assert s["macro_f1"] == pytest.approx((0.4 + 0.8 + 0.0) / 3)
    assert s["confusion"] == [[1, 1, 0], [0, 2, 0], [2, 0, 0]]


def test_image_folder_layouts_and_errors(tmp_path):
    for cls in ("crack", "free"):
        (tmp_path / "sub" / cls).mkdir(parents=True)
        for i in range(3):
            Image.fromarray(np.full((20, 30), 40 * i, np.uint8)).save(tmp_path / "sub" / cls / f"{i}.png")
            Image.fromarray(np.full((20, 30), 40 * i, np.uint8)).save(tmp_path / f"{cls}_{i}.png")
    a = load_image_folder(tmp_path / "sub", size_px=16)
    assert a.classes == ("crack", "free") and a.images.shape == (6, 16, 16) and a.counts() == {"crack": 3, "free": 3}
    b = load_image_folder(tmp_path, size_px=16, layout="prefix", pattern="*.png")
    assert b.classes == ("crack", "free")
    (tmp_path / "sub" / "crack" / "broken.png").write_bytes(b"not an image")
    with pytest.raises(ValueError, match="broken.png"):
        load_image_folder(tmp_path / "sub", size_px=16)
    (tmp_path / "sub" / "empty").mkdir()
    with pytest.raises(ValueError, match="empty"):
        load_image_folder(tmp_path / "sub", size_px=16)


def test_stratified_split_keeps_every_class():
    labels = np.array([0] * 50 + [1] * 5 + [2] * 2)
    tr, te = split_stratified(labels, 0.3, seed=0)
    assert set(np.unique(labels[te])) == {0, 1, 2} and len(set(tr) & set(te)) == 0
    assert len(tr) + len(te) == len(labels)


def test_magnetic_tile_reads_images_not_masks(realdata):
    d = load_magnetic_tile(realdata, size_px=32)
    assert d.counts() == {"Blowhole": 115, "Break": 85, "Crack": 57, "Fray": 32, "Free": 952, "Uneven": 103}
    assert all(p.endswith(".jpg") for p in d.paths)


def test_cli_train_and_evaluate_defects(tmp_path, capsys):
    from scenarios.cli import main

    rng = np.random.default_rng(0)
    for cls, axis in (("horizontal", 0), ("vertical", 1)):
        (tmp_path / "data" / cls).mkdir(parents=True)
        for i in range(6):
            img = 128 + 80 * np.sin(np.indices((32, 32))[axis] / 2.0) + rng.normal(0, 10, (32, 32))
            Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(tmp_path / "data" / cls / f"{i}.png")
    assert main(["train", "defects", "--data", str(tmp_path / "data"), "--out", str(tmp_path / "m"), "--size", "32",
                 "--epochs", "2", "--batch-size", "4", "--no-progress"]) == 0
    assert (tmp_path / "m" / "model.twl").is_file()
    assert main(["evaluate", "defects", "--model", str(tmp_path / "m"), "--data", str(tmp_path / "data"),
                 "--out", str(tmp_path / "e")]) == 0
    assert "macro-F1" in capsys.readouterr().out
    assert main(["evaluate", "defects", "--model", str(tmp_path / "nope"), "--data", str(tmp_path / "data"),
                 "--out", str(tmp_path / "e2")]) == 2
    assert "no such learner file" in capsys.readouterr().err and not (tmp_path / "e2").exists()


def test_cutmix_box_and_kept_share():
    from learners.defects.classifier import _cutmix

    xb = torch.arange(4, dtype=torch.float32).view(4, 1, 1, 1).expand(4, 1, 16, 16).clone()
    mixed, partner, lam = _cutmix(xb, np.random.default_rng(3))
    for i in range(4):
        own = (mixed[i] == xb[i, 0, 0, 0]).float().mean().item()
        if partner[i] != i:
            assert own == pytest.approx(lam)        # the kept share is the area not replaced
        assert set(mixed[i].unique().tolist()) <= {float(i), float(partner[i])}
    assert 0.0 <= lam <= 1.0


def test_cutmix_training_is_finite_and_seeded():
    data = _toy_set(n_per_class=8)
    a = DefectClassifier(size_px=32, epochs=2, batch_size=8, cutmix=1.0, seed=2).fit(data)
    b = DefectClassifier(size_px=32, epochs=2, batch_size=8, cutmix=1.0, seed=2).fit(data)
    assert np.isfinite([h["loss"] for h in a.history_]).all()
    np.testing.assert_array_equal(a.predict_proba(data.images), b.predict_proba(data.images))
    with pytest.raises(ValueError, match="cutmix"):
        DefectClassifier(size_px=32, epochs=1, cutmix=2.0).fit(data)
