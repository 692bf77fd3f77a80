"""The defect synthesizer (SyNDGAN-like), its baselines, the image metrics and the CLI, on tiny models."""
from __future__ import annotations

import argparse
import json

import numpy as np
import pytest
import torch
from PIL import Image

from generative.base import CheckpointError
from generative.defect_synth import (DefectData, DefectSynthesizer, Pix2PixDefect, blend_into, class_map, copy_paste,
                                     load_defect_folder, load_magnetic_tile_masks, novel_masks, one_hot_map,
                                     split_defect_data)
from generative.defect_synth.masks import mask_iou, transform_mask
from generative.defect_synth.sft import SFTLayer
from generative.image_metrics import (extract_features, fid_kid, frechet_distance, kid, mmd2_unbiased,
                                      outside_mask_change, perceptual_distance)

S = 32
CLASSES = ("Free", "hole", "scratch")
TINY = dict(size_px=S, batch_size=4, feature_batch_size=8, width=8, latent_channels=8, feature_width=4, d_width=8,
            z_channels=4, n_blocks=1, device="cpu")


def _tiles(n: int, rng: np.random.Generator) -> np.ndarray:
    """Grey surfaces with vertical stripes and noise."""
    x = np.arange(S)
    base = 120 + 25 * np.sin(x / 3.0)[None, None, :] + rng.normal(0, 6, (n, S, S))
    return np.clip(base + rng.normal(0, 10, (n, 1, 1)), 0, 255)


def make_data(n_normal: int = 12, n_per_class: int = 6, seed: int = 0) -> DefectData:
    """Normal tiles, dark round holes (class 1) and bright thin scratches (class 2), with masks."""
    rng = np.random.default_rng(seed)
    imgs, masks, labels = [], [], []
    yy, xx = np.mgrid[:S, :S]
    for img in _tiles(n_normal, rng):
        imgs.append(img)
        masks.append(np.zeros((S, S), bool))
        labels.append(0)
    for k in (1, 2):
        for img in _tiles(n_per_class, rng):
            cy, cx = rng.integers(6, S - 6, 2)
            if k == 1:
                m = (yy - cy) ** 2 + (xx - cx) ** 2 <= rng.integers(4, 10)
                img = np.where(m, 30.0, img)
            else:
                m = (np.abs(xx - cx) <= 0) & (np.abs(yy - cy) <= 8)
                img = np.where(m, 250.0, img)
            imgs.append(img)
            masks.append(m)
            labels.append(k)
    return DefectData(np.clip(np.array(imgs), 0, 255).astype(np.uint8), np.array(masks), np.array(labels), CLASSES)


DATA = make_data()


@pytest.fixture(autouse=True)
def one_thread():
    """One torch thread: tiny models gain nothing from more, and on a busy machine the spin-waits of
    several threads make them many times slower."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _weights(m) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for net in m.nets_.values() for p in net.parameters()])


def _tiny(steps=8, **kw) -> DefectSynthesizer:
    return DefectSynthesizer(steps=steps, **{**dict(feature_steps=2, pretrain_steps=3), **TINY, **kw})


# -- the synthesizer ------------------------------------------------------------------------------------------
def test_all_phases_run_with_finite_losses_and_the_shapes_are_right():
    m = _tiny(steps=8).fit(DATA, seed=0)
    phases = [m.phase(h["step"] - 1) for h in m.history_]
    assert phases == ["feature"] * 2 + ["pretrain"] * 3 + ["synthesis"] * 3
    assert set(m.history_[0]) == {"step", "feature_ce"}
    assert {"pre_d", "pre_g"} <= set(m.history_[2])
    assert {"d", "adv", "pix", "perc", "inv", "g"} <= set(m.history_[-1])
    assert all(np.isfinite(v) for h in m.history_ for v in h.values())
    normal, d = DATA.normal(), DATA.defects()
    out = m.sample(5, condition=(normal.images[:5], class_map(d.masks[:5], d.labels[:5])), seed=0)
    assert out.shape == (5, S, S) and out.dtype == np.uint8
    one_hot = one_hot_map(class_map(d.masks[:5], d.labels[:5]), 2).numpy()
    assert np.array_equal(m.sample(5, condition=(normal.images[:5], one_hot), seed=0), out)
    assert m.sample(3, condition=(normal.images[:1], class_map(d.masks[:1], d.labels[:1])), seed=0).shape == (3, S, S)
    assert m.generate(4, seed=0).shape == (4, S, S)
    with pytest.raises(ValueError, match="condition"):
        m.sample(2, condition=normal.images[:2])
    with pytest.raises(ValueError, match="rows for n=4"):
        m.sample(4, condition=(normal.images[:2], class_map(d.masks[:2], d.labels[:2])))
    with pytest.raises(ValueError, match="0..2"):
        m.sample(1, condition=(normal.images[:1], np.full((1, S, S), 7)))


def test_the_reconstruction_loss_falls_on_a_short_overfit():
    small = DATA.subset(np.array([0, 1, 12, 18]))
    m = DefectSynthesizer(steps=60, feature_steps=0, pretrain_steps=0, lr_g=2e-3, **TINY).fit(small, seed=0)
    pix = np.array([h["pix"] for h in m.history_])
    assert pix[-10:].mean() < 0.6 * pix[:10].mean()


def test_sft_modulation_depends_on_the_map():
    torch.manual_seed(0)
    layer = SFTLayer(map_channels=2, feat_channels=6, hidden=4)
    x = torch.randn(2, 6, 8, 8)
    empty = torch.zeros(2, 2, 16, 16)
    crack = empty.clone()
    crack[:, 1, 4:12, 8] = 1.0
    gamma, beta = layer.modulation(crack, (8, 8))
    assert ((gamma > 0) & (gamma < 1)).all()  # the sigmoid gate
    a, b = layer(x, empty), layer(x, crack)
    assert torch.equal(layer(x, empty), a)
    changed = (a - b).abs().sum((0, 1)) > 1e-6
    assert changed[2:6, 4].all() and not changed[:, 7].any()  # only near the drawn crack (3x3 reach)
    # and in the model's encoder: another class in the same place gives another latent, there only
    from generative.defect_synth.common import masked_input
    from generative.defect_synth.tensors import to_tensor

    m = _tiny(steps=6).fit(DATA, seed=0)
    x = to_tensor(DATA.normal().images[:1])
    mask = np.zeros((1, S, S), bool)
    mask[0, 2:6, 2:6] = True
    hole, scratch = (one_hot_map(class_map(mask, np.array([k])), 2) for k in (1, 2))
    with torch.no_grad():
        w_hole = m.nets_["E"](masked_input(x, hole), hole)
        w_scratch = m.nets_["E"](masked_input(x, scratch), scratch)
    diff = (w_hole - w_scratch).abs().sum((0, 1))
    assert diff[0:3, 0:3].min() > 0 and diff.sum() > 0


def test_same_seed_same_model_and_samples():
    torch.manual_seed(5)
    before = torch.get_rng_state()
    a = _tiny(steps=7).fit(DATA, seed=3)
    assert torch.equal(torch.get_rng_state(), before)
    b = _tiny(steps=7).fit(DATA, seed=3)
    c = _tiny(steps=7).fit(DATA, seed=4)
    assert torch.equal(_weights(a), _weights(b))
    assert not torch.equal(_weights(a), _weights(c))
    cond = (DATA.normal().images[:3], class_map(DATA.defects().masks[:3], DATA.defects().labels[:3]))
    assert np.array_equal(a.sample(3, condition=cond, seed=1), b.sample(3, condition=cond, seed=1))


def test_save_load_and_exact_resume_across_phases(tmp_path):
    full = _tiny(steps=9, checkpoint_every=4).fit(DATA, seed=2, checkpoint_dir=tmp_path / "ck")
    assert sorted(p.name for p in (tmp_path / "ck").iterdir()) == ["step_000004.ckpt", "step_000008.ckpt"]
    resumed = _tiny(steps=9).fit(DATA, seed=2, resume_from=tmp_path / "ck" / "step_000004.ckpt")  # mid-pretraining
    assert resumed.step_ == 9
    assert torch.equal(_weights(full), _weights(resumed))
    assert [h.get("g") for h in resumed.history_] == [h.get("g") for h in full.history_]
    path = full.save(tmp_path / "m.ckpt")
    back = DefectSynthesizer.load(path)
    cond = (DATA.normal().images[:2], class_map(DATA.defects().masks[:2], DATA.defects().labels[:2]))
    assert np.array_equal(full.sample(2, condition=cond, seed=0), back.sample(2, condition=cond, seed=0))
    assert back.classes_ == CLASSES and np.array_equal(back.mask_bank_, full.mask_bank_)


def test_corrupt_and_foreign_checkpoints_are_clear_errors(tmp_path):
    path = _tiny(steps=3).fit(DATA, seed=0).save(tmp_path / "m.ckpt")
    raw = bytearray(path.read_bytes())
    raw[-7] ^= 0xFF
    (tmp_path / "bad.ckpt").write_bytes(bytes(raw))
    with pytest.raises(CheckpointError, match="bad.ckpt.*checksum"):
        DefectSynthesizer.load(tmp_path / "bad.ckpt")
    p2p = Pix2PixDefect(steps=2, width=8, **{k: TINY[k] for k in ("size_px", "batch_size", "device")}).fit(DATA)
    with pytest.raises(CheckpointError, match="holds a .*Pix2PixDefect"):
        DefectSynthesizer.load(p2p.save(tmp_path / "p.ckpt"))
    with pytest.raises(CheckpointError, match="settings differ.*width"):
        _tiny(steps=5, width=16).fit(DATA, resume_from=path)


def test_pix2pix_copy_paste_and_blend():
    p2p = Pix2PixDefect(steps=3, width=8, **{k: TINY[k] for k in ("size_px", "batch_size", "device")}).fit(DATA)
    assert all(np.isfinite(v) for h in p2p.history_ for v in h.values())
    d, tiles = DATA.defects(), DATA.normal().images[:len(DATA.defects())]
    out = p2p.sample(len(d), condition=(tiles, class_map(d.masks, d.labels)), seed=0)
    assert out.shape == tiles.shape
    pasted, masks = copy_paste(tiles, d.images, d.masks)
    assert np.array_equal(pasted[~masks], tiles[~masks]) and np.array_equal(pasted[masks], d.images[masks])
    blended = blend_into(tiles, out, d.masks, dilate_px=1, feather_px=0)
    from scipy import ndimage

    grown = np.stack([ndimage.binary_dilation(m, np.ones((3, 3)), iterations=1) for m in d.masks])
    assert np.array_equal(blended[~grown], tiles[~grown]) and np.array_equal(blended[d.masks], out[d.masks])


# -- masks and data -------------------------------------------------------------------------------------------
def test_new_masks_are_transformed_real_masks_no_real_image_had():
    d = DATA.defects()
    rng = np.random.default_rng(0)
    moved = transform_mask(d.masks[0], rng, rotation_deg=0, scale_range=(1, 1), p_flip=0, max_shift=0.1)
    assert moved.sum() == d.masks[0].sum()  # a pure move keeps the area ...
    shift = np.argwhere(moved).mean(0) - np.argwhere(d.masks[0]).mean(0)
    assert np.abs(shift).max() <= 0.1 * S + 0.5  # ... and goes no further than asked
    new, labels, src, iou = novel_masks(d.masks, d.labels, 10, rng, max_iou=0.3)
    assert new.shape == (10, S, S) and new.reshape(10, -1).any(1).all()
    assert set(labels) == {1, 2} and np.array_equal(labels, d.labels[src])
    assert (iou < 0.3).all()
    assert all(mask_iou(m, d.masks).max() == pytest.approx(i) for m, i in zip(new, iou))


def _write(path, array):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


def test_folder_layouts_are_read_with_their_masks(tmp_path):
    rng = np.random.default_rng(0)
    img = lambda: rng.integers(0, 255, (90, 70), dtype=np.uint8)  # noqa: E731
    crack = np.zeros((90, 70), np.uint8)
    crack[10:80, 30:32] = 255  # 2 px wide at 70 px: must survive the resize to 32
    for i in range(3):
        _write(tmp_path / "plant" / "normal" / f"n{i}.png", img())
        _write(tmp_path / "plant" / "crack" / "images" / f"c{i}.jpg", img())
        _write(tmp_path / "plant" / "crack" / "masks" / f"c{i}.png", crack)
        _write(tmp_path / "mt" / "MT_Free" / "Imgs" / f"f{i}.jpg", img())
        _write(tmp_path / "mt" / "MT_Free" / "Imgs" / f"f{i}.png", np.zeros((90, 70), np.uint8))
        _write(tmp_path / "mt" / "MT_Crack" / "Imgs" / f"c{i}.jpg", img())
        _write(tmp_path / "mt" / "MT_Crack" / "Imgs" / f"c{i}.png", crack)
    for root in ("plant", "mt"):
        d = load_defect_folder(tmp_path / root, size_px=S)
        assert d.classes[1:] == ("crack",) if root == "plant" else d.classes == ("Free", "Crack")
        assert d.counts()[d.classes[0]] == 3 and len(d) == 6 and d.images.shape == (6, S, S)
        assert d.masks[d.labels == 1].reshape(3, -1).any(1).all() and not d.masks[d.labels == 0].any()
    (tmp_path / "plant" / "crack" / "masks" / "c1.png").unlink()
    with pytest.raises(ValueError, match="c1.jpg: defect image without a mask"):
        load_defect_folder(tmp_path / "plant", size_px=S)
    train, test = split_defect_data(DATA, 0.25, seed=0)
    assert len(train) + len(test) == len(DATA) and set(test.labels) == {0, 1, 2}


def test_magnetic_tile_masks_are_read(realdata):
    d = load_magnetic_tile_masks(realdata, size_px=S, max_per_class=2)
    assert d.classes == ("Free", "Blowhole", "Break", "Crack", "Fray", "Uneven")
    assert len(d) == 12 and d.masks[d.labels > 0].reshape(10, -1).any(1).all()


# -- metrics ---------------------------------------------------------------------------------------------------
def test_fid_of_a_set_with_itself_is_zero_and_with_a_shifted_set_clearly_not():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(400, 8))
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    assert frechet_distance(a, a + 1.0) == pytest.approx(8.0, rel=1e-6)  # |mu shift|^2, same covariance
    # through an extractor, on images
    imgs = DATA.images
    pooled = lambda x: torch.nn.functional.avg_pool2d(x, 8).flatten(1)  # noqa: E731
    same = fid_kid(imgs, imgs, pooled, n_subsets=10, subset_size=20)
    brighter = fid_kid(imgs, np.clip(imgs.astype(int) + 40, 0, 255).astype(np.uint8), pooled, n_subsets=10,
                       subset_size=20)
    assert same["fid"] < 1e-6 and brighter["fid"] > 1.0 and brighter["kid"] > 10 * abs(same["kid"])


def test_kid_is_unbiased_near_zero_for_one_distribution_and_positive_for_two():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(600, 16)), rng.normal(size=(600, 16))
    k, k_std = kid(a, b, n_subsets=20, subset_size=200, seed=0)
    assert abs(k) < 0.01 and abs(k) < 3 * k_std
    # the unbiased estimate leaves the diagonals out: a biased one would be clearly positive here
    x = a[:50]
    y = b[:50]
    biased = float(((x @ x.T / 16 + 1) ** 3).mean() + ((y @ y.T / 16 + 1) ** 3).mean()
                   - 2 * ((x @ y.T / 16 + 1) ** 3).mean())
    assert biased > 0.1 > abs(mmd2_unbiased(x, y))
    shifted, s_std = kid(a, b + 0.5, n_subsets=20, subset_size=200, seed=0)
    assert shifted > 10 * s_std and shifted > 0.1


def test_perceptual_distance_is_zero_for_equal_images_and_grows_with_change():
    net = torch.nn.Conv2d(1, 4, 3, padding=1)
    stages = lambda x: [net(x), torch.nn.functional.avg_pool2d(net(x), 2)]  # noqa: E731
    imgs = DATA.images[:6]
    assert np.allclose(perceptual_distance(imgs, imgs, stages), 0.0)
    noisy = np.clip(imgs + np.random.default_rng(0).normal(0, 40, imgs.shape), 0, 255).astype(np.uint8)
    assert (perceptual_distance(imgs, noisy, stages) > 0.01).all()
    assert extract_features(imgs, lambda x: x.mean((2, 3))).shape == (6, 1)


def test_outside_mask_change_on_a_hand_made_case():
    before = np.full((1, 10, 10), 100, np.uint8)
    mask = np.zeros((1, 10, 10), bool)
    mask[0, 4:6, 4:6] = True
    after = before.copy()
    after[0, 4:6, 4:6] = 250          # the defect, inside: not counted
    after[0, 0, 0:3] = 200            # 3 outside pixels changed by 100/255 > 0.1
    after[0, 9, 9] = 110              # 10/255 < 0.1: not a change
    r = outside_mask_change(before, after, mask, tol=0.1)
    assert r["outside_changed_fraction"] == pytest.approx(3 / 96)
    assert r["inside_changed_fraction"] == 1.0
    assert r["outside_mean_abs_change"] == pytest.approx((3 * 100 + 10) / 255 / 96)
    grown = outside_mask_change(before, after, mask, tol=0.1, dilate_px=1)  # 4x4 band: 84 outside
    assert grown["outside_changed_fraction"] == pytest.approx(3 / 84)


# -- CLI and scenario --------------------------------------------------------------------------------------------
def _write_plant_folder(root, data: DefectData):
    for i, (img, m, k) in enumerate(zip(data.images, data.masks, data.labels)):
        cls = data.classes[k]
        if k == 0:
            _write(root / "normal" / f"n{i}.png", img)
        else:
            _write(root / cls / "images" / f"d{i}.png", img)
            _write(root / cls / "masks" / f"d{i}.png", (m * 255).astype(np.uint8))


def _parser():
    from scenarios.cli_gan_defect import add_sample_parser, add_train_parser

    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    train = sub.add_parser("train").add_subparsers(dest="t", required=True).add_parser("gan")
    add_train_parser(train.add_subparsers(dest="g", required=True))
    add_sample_parser(sub.add_parser("sample").add_subparsers(dest="s", required=True))
    return p


def test_cli_trains_reports_resumes_and_samples(tmp_path, capsys):
    _write_plant_folder(tmp_path / "data", make_data(n_normal=16, n_per_class=8))
    p = _parser()
    args = ["train", "gan", "defect", "--data", str(tmp_path / "data"), "--out", str(tmp_path / "run"), "--size",
            "32", "--batch-size", "4", "--steps", "6", "--feature-steps", "2", "--pretrain-steps", "2",
            "--checkpoint-every", "3", "--eval-feature-steps", "3", "--holdout", "0.25", "--no-progress"]
    a = p.parse_args(args)
    assert a.handler(a) == 0
    run = tmp_path / "run"
    assert {"model.ckpt", "metrics.json", "report.html", "checkpoints"} <= {x.name for x in run.iterdir()}
    m = json.loads((run / "metrics.json").read_text())
    methods = {r["method"]: r for r in m["table"]}
    assert np.isfinite(methods["SyNDGAN-like"]["fid"]) and "outside_changed_fraction" in methods["SyNDGAN-like"]
    assert "copy-paste" in methods
    a = p.parse_args(args)
    assert a.handler(a) == 2 and "already exists" in capsys.readouterr().err
    a = p.parse_args(args[:-1] + ["--steps", "8", "--resume", str(run / "checkpoints" / "step_000006.ckpt"),
                                  "--holdout", "0", "--no-progress"])
    assert a.handler(a) == 0
    assert json.loads((run / "metrics.json").read_text())["params"]["steps"] == 8
    _write(tmp_path / "normal" / "a.png", DATA.images[0])
    _write(tmp_path / "normal" / "b.png", DATA.images[1])
    a = p.parse_args(["sample", "defect", "--model", str(run), "--out", str(tmp_path / "s1"), "--normal",
                      str(tmp_path / "normal"), "--n", "4", "--seed", "1"])
    assert a.handler(a) == 0
    s1 = json.loads((tmp_path / "s1" / "metrics.json").read_text())
    assert s1["n"] == 4 and len(list((tmp_path / "s1" / "images").rglob("*.png"))) == 4
    _write(tmp_path / "masks" / "scratch" / "m.png", (DATA.defects().masks[-1] * 255).astype(np.uint8))
    a = p.parse_args(["sample", "defect", "--model", str(run), "--out", str(tmp_path / "s2"), "--normal",
                      str(tmp_path / "normal"), "--masks", str(tmp_path / "masks"), "--blend", "none"])
    assert a.handler(a) == 0
    assert (tmp_path / "s2" / "images" / "scratch").is_dir()
    _write(tmp_path / "badmasks" / "dent" / "m.png", np.zeros((S, S), np.uint8))
    a = p.parse_args(["sample", "defect", "--model", str(run), "--out", str(tmp_path / "s3"), "--normal",
                      str(tmp_path / "normal"), "--masks", str(tmp_path / "badmasks")])
    assert a.handler(a) == 2 and "unknown defect class 'dent'" in capsys.readouterr().err
    assert not (tmp_path / "s3").exists()


def test_scenario_runs_end_to_end_on_a_tiny_budget(tmp_path):
    from scenarios.defect_synthesis import run

    _write_plant_folder(tmp_path / "data", make_data(n_normal=16, n_per_class=8))
    spec = {"data": {"folder": str(tmp_path / "data"), "size_px": 32},
            "model": {"steps": 6, "feature_steps": 2, "pretrain_steps": 2, "batch_size": 4, "width": 8,
                      "latent_channels": 8, "n_blocks": 1},
            "baselines": {"pix2pix_width": 8},
            "evaluation": {"feature_steps": 3, "kid_subsets": 5, "kid_subset_size": 4},
            "run": {"threads": 1, "device": "cpu"}}
    out = run(spec, tmp_path / "out")
    m = json.loads((out / "metrics.json").read_text())
    names = [r["method"] for r in m["table"]]
    assert names[:4] == ["real held-out defects (reference)", "real training defects (floor)",
                         "defect-free tiles (no defect)", "copy-paste"]
    assert "pix2pix (no SFT), new masks, blended" in names and m["budget"]["pix2pix_steps"] == 4
    assert (out / "report.html").read_text().count("Plotly.newPlot") >= 4
    with pytest.raises(KeyError, match="unknown key"):
        run({"model": {"stepz": 3}}, tmp_path / "x")
