"""The stamp cGAN (pix2pix): networks, training, checkpoints and pools, pair folders, the renderer hook, the twin.

Tiny models on 32-pixel patches: the whole file runs in well under a minute on one CPU core.
"""
import argparse
import json

import numpy as np
import pytest
import torch
from PIL import Image

from generative.checkpoint import CheckpointError
from generative.stamp_cgan import StampCGAN
from generative.stamp_nets import PatchDiscriminator, UNetGenerator, init_weights
from generative.stamp_pairs import PairFolderError, StampPairs, load_mask_folder, load_pair_folder, write_pair_folder
from generative.stamp_pool import StampCheckpointPool, resolve_checkpoints
from generative.stamp_texture_adapter import StampTextureAdapter, load_stamp_texture
from physics.billet_render.face_renderer import BilletFaceRenderer, RenderParams
from physics.billet_render.stamp_font import rasterize_glyph
from physics.billet_render.stamp_texture import render_stamp_patch

S = 32
TINY = dict(size=S, width=4, depth=4, d_width=4, d_layers=2, batch_size=4, procedural_variants=1)


def _pairs(n=4, seed=0) -> StampPairs:
    """Glyph masks, and 'photos': a dark stroke with a lighter edge on grainy metal."""
    rng = np.random.default_rng(seed)
    masks, images = [], []
    for ch in "0123456789"[:n]:
        g = rasterize_glyph(ch, 18)
        m = np.zeros((S, S), np.float32)
        y0, x0 = (S - 18) // 2, (S - g.shape[1]) // 2
        m[y0:y0 + 18, x0:x0 + g.shape[1]] = g
        grain = 0.45 + 0.02 * rng.standard_normal((S, S))
        images.append(np.clip(grain - 0.3 * m + 0.1 * np.roll(m, 1, axis=1) * (1 - m), 0, 1).astype(np.float32))
        masks.append(m)
    return StampPairs([f"p{i}" for i in range(n)], np.stack(masks), np.stack(images), labels=np.arange(n))


def _weights(m):
    return torch.cat([p.detach().flatten() for net in m.nets_.values() for p in net.parameters()])


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny networks: one thread is fastest, and the machine is shared."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def pairs():
    return _pairs()


@pytest.fixture(scope="module")
def trained(tmp_path_factory, pairs):
    """A tiny model with checkpoints at steps 3 and 6, and its folder."""
    root = tmp_path_factory.mktemp("stamp")
    gan = StampCGAN(steps=6, checkpoint_every=3, **TINY).fit(pairs, seed=1, checkpoint_dir=root / "checkpoints")
    gan.save(root / "model.ckpt")
    return gan, root


# ----------------------------------------------------------------------------- networks
def test_network_shapes():
    g = UNetGenerator(2, 1, width=4, depth=4)
    d = PatchDiscriminator(3, width=4, n_layers=2)
    x = torch.zeros(3, 2, S, S)
    with torch.no_grad():
        y = g(x)
    assert y.shape == (3, 1, S, S) and float(y.abs().max()) <= 1.0
    assert d(torch.cat([x, y], 1)).shape == (3, 1, 6, 6)        # 32 -> 16 -> 8 -> 7 -> 6 patch logits
    with pytest.raises(ValueError, match="depth"):
        UNetGenerator(depth=1)


@pytest.mark.parametrize("skips", [True, False])
def test_skip_connections_carry_fine_detail_past_the_bottleneck(skips):
    torch.manual_seed(0)
    g = init_weights(UNetGenerator(2, 1, width=4, depth=4, dropout=0.0, skips=skips)).eval()
    # Cut the bottleneck: whatever still reaches the output comes through the skips.
    g.down[-1].register_forward_hook(lambda mod, inp, out: torch.zeros_like(out))
    x = torch.rand(1, 2, S, S) * 2 - 1
    x2 = x.clone()
    x2[0, 0, 10:12, 10:12] *= -1                                      # a 2 x 2 pixel detail
    with torch.no_grad():
        change = (g(x2) - g(x)).abs()[0, 0]
    if skips:
        assert float(change.max()) > 1e-4
        # ...and most strongly near where the input changed (the outermost skip is local)
        near = np.zeros((S, S), bool)
        near[5:17, 5:17] = True
        assert float(change[near].mean()) > 2 * float(change[~near].mean())
    else:
        assert float(change.max()) == 0.0


# ----------------------------------------------------------------------------- training
def test_losses_are_finite_and_samples_have_the_right_shape(trained, pairs):
    gan, _ = trained
    assert len(gan.history_) == 6
    assert all(np.isfinite([h["d"], h["g_adv"], h["l1"]]).all() for h in gan.history_)
    out = gan.sample(4, {"masks": pairs.masks, "procedural": pairs.images}, seed=0)
    assert out.shape == (4, S, S) and out.dtype == np.float32 and 0 <= out.min() and out.max() <= 1
    # Without a procedural channel the masks are rendered procedurally (seeded).
    a, b = gan.sample(2, {"masks": pairs.masks[:2]}, seed=3), gan.sample(2, {"masks": pairs.masks[:2]}, seed=3)
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="n=3 but 4 masks"):
        gan.sample(3, {"masks": pairs.masks})
    with pytest.raises(ValueError, match=r"\(n, 32, 32\)"):
        gan.translate(np.zeros((1, 16, 16)), np.zeros((1, 16, 16)))


def test_l1_falls_when_overfitting_a_few_pairs(pairs):
    gan = StampCGAN(steps=60, **{**TINY, "width": 8, "lr": 2e-3}).fit(pairs, seed=0)
    l1 = np.array([h["l1"] for h in gan.history_])
    assert l1[-10:].mean() < 0.6 * l1[:10].mean(), l1


def test_same_seed_same_model_other_seed_other_model(pairs):
    a = StampCGAN(steps=3, **TINY).fit(pairs, seed=5)
    b = StampCGAN(steps=3, **TINY).fit(pairs, seed=5)
    c = StampCGAN(steps=3, **TINY).fit(pairs, seed=6)
    assert torch.equal(_weights(a), _weights(b)) and not torch.equal(_weights(a), _weights(c))
    np.testing.assert_array_equal(a.translate(pairs.masks, pairs.images), b.translate(pairs.masks, pairs.images))


def test_save_load_and_exact_resume(trained, pairs, tmp_path):
    gan, root = trained
    assert sorted(p.name for p in (root / "checkpoints").iterdir()) == ["step_000003.ckpt", "step_000006.ckpt"]
    loaded = StampCGAN.load(root / "model.ckpt")
    np.testing.assert_array_equal(loaded.translate(pairs.masks, pairs.images), gan.translate(pairs.masks, pairs.images))
    assert loaded.width == 4 and loaded.size_ == S
    resumed = StampCGAN(steps=6, **TINY).fit(pairs, seed=1, resume_from=root / "checkpoints" / "step_000003.ckpt")
    assert torch.equal(_weights(resumed), _weights(gan))
    assert [h["l1"] for h in resumed.history_] == [h["l1"] for h in gan.history_]
    with pytest.raises(CheckpointError, match="settings differ.*width=4 \\(here 8\\)"):
        StampCGAN(steps=6, **{**TINY, "width": 8}).fit(pairs, resume_from=root / "model.ckpt")


def test_corrupt_or_missing_checkpoints_are_clear_errors(trained, tmp_path):
    _, root = trained
    raw = bytearray((root / "model.ckpt").read_bytes())
    raw[-7] ^= 0xFF
    (tmp_path / "bad.ckpt").write_bytes(bytes(raw))
    with pytest.raises(CheckpointError, match="bad.ckpt.*checksum"):
        load_stamp_texture(str(tmp_path / "bad.ckpt"))
    with pytest.raises(CheckpointError, match="missing.ckpt: no such checkpoint"):
        load_stamp_texture(f"{root / 'model.ckpt'},{tmp_path / 'missing.ckpt'}")
    with pytest.raises(CheckpointError, match="folder without model.ckpt"):
        resolve_checkpoints(str(tmp_path))
    with pytest.raises(CheckpointError, match="matches"):
        resolve_checkpoints(str(tmp_path / "nothing_*.ckpt"))


# ----------------------------------------------------------------------------- several checkpoints
def test_pool_picks_different_checkpoints_per_sample(trained, pairs):
    _, root = trained
    pool = StampCheckpointPool.load(str(root / "checkpoints" / "*.ckpt"))
    assert [p.rsplit("/", 1)[-1] for p in pool.names] == ["step_000003.ckpt", "step_000006.ckpt"]
    masks = np.repeat(pairs.masks[:1], 20, axis=0)
    proc = np.repeat(pairs.images[:1], 20, axis=0)
    out, picks = pool.translate(masks, proc, np.random.default_rng(0))
    assert set(picks.tolist()) == {0, 1}
    for k in (0, 1):
        expect = pool.models[k].translate(masks[:1], proc[:1])[0]
        for i in np.flatnonzero(picks == k):
            np.testing.assert_array_equal(out[i], expect)
    assert not np.array_equal(out[picks == 0][0], out[picks == 1][0])          # the checkpoints differ
    out2, picks2 = pool.translate(masks, proc, np.random.default_rng(0))
    np.testing.assert_array_equal(picks, picks2)
    np.testing.assert_array_equal(out, out2)


# ----------------------------------------------------------------------------- pair folders
def test_pair_folder_round_trip_and_non_square_pairs(pairs, tmp_path):
    write_pair_folder(tmp_path / "p", pairs, {"what": "test pairs"})
    back = load_pair_folder(tmp_path / "p", size=S)
    assert back.names == pairs.names and back.info["what"] == "test pairs"
    np.testing.assert_allclose(back.images, pairs.images, atol=1 / 255)
    np.testing.assert_array_equal(back.labels, pairs.labels)
    # A non-square photo and mask are padded to a square and resized.
    Image.fromarray(np.full((20, 40), 200, np.uint8)).save(tmp_path / "p" / "images" / "wide.png")
    m = np.zeros((20, 40), np.uint8)
    m[5:15, 15:25] = 255
    Image.fromarray(m).save(tmp_path / "p" / "masks" / "wide.png")
    wide = load_pair_folder(tmp_path / "p", size=16)
    k = wide.names.index("wide")
    assert wide.masks.shape == (5, 16, 16) and wide.masks[k, :4].max() == 0 and wide.masks[k, 8, 8] > 0.5


def test_pair_folder_errors_name_the_file(pairs, tmp_path):
    root = write_pair_folder(tmp_path / "p", pairs)
    with pytest.raises(PairFolderError, match="no such pair folder"):
        load_pair_folder(tmp_path / "nope")
    (root / "images" / "p1.png").unlink()
    with pytest.raises(PairFolderError, match=r"masks/p1.png: no partner image images/p1.png"):
        load_pair_folder(root)
    (root / "images" / "p1.png").write_bytes(b"this is not a png")
    with pytest.raises(PairFolderError, match=r"images/p1.png: unreadable image"):
        load_pair_folder(root)
    Image.fromarray(np.zeros((10, 12), np.uint8)).save(root / "images" / "p1.png")
    with pytest.raises(PairFolderError, match=r"p1.png: image is 12x10 px, its mask p1.png 32x32 px"):
        load_pair_folder(root)
    Image.fromarray(np.zeros((S, S), np.uint8)).save(root / "images" / "p1.png")
    Image.fromarray(np.zeros((S, S), np.uint8)).save(root / "masks" / "p1.png")
    with pytest.raises(PairFolderError, match=r"masks/p1.png: empty mask"):
        load_pair_folder(root)
    Image.fromarray(np.zeros((S, S), np.uint8)).save(root / "images" / "extra.png")
    with pytest.raises(PairFolderError, match=r"images/extra.png: no partner mask"):
        load_pair_folder(root)
    (tmp_path / "q" / "masks").mkdir(parents=True)
    with pytest.raises(PairFolderError, match="no images/ folder"):
        load_pair_folder(tmp_path / "q")


def test_stand_in_pairs_from_real_data(realdata, tmp_path):
    from generative.stamp_realdata import build_stamp_pairs

    summary = build_stamp_pairs(realdata, tmp_path / "pairs", seed=0, max_pairs=6)
    assert summary["splits"]["train"]["pairs"] == 6 and summary["splits"]["holdout"]["pairs"] == 6
    train = load_pair_folder(tmp_path / "pairs" / "train", size=64)
    hold = load_pair_folder(tmp_path / "pairs" / "holdout", size=64)
    assert "NOT photos of stamped characters" in train.info["what"]
    src = lambda p: {v["digit"] for v in p.info["sources"].values()}  # noqa: E731
    assert not src(train) & src(hold)                                       # held-out photos are other photos
    assert ((train.labels >= 0) & (train.labels <= 9)).all()
    foot = (train.masks >= 0.5).mean(axis=(1, 2))
    assert ((foot > 0.03) & (foot < 0.4)).all()
    # stroke darker than the metal around it: the real digit's structure is in the image
    inside = [im[m >= 0.5].mean() for im, m in zip(train.images, train.masks)]
    outside = [im[m < 0.05].mean() for im, m in zip(train.images, train.masks)]
    assert np.all(np.array(inside) < np.array(outside))
    with pytest.raises(FileExistsError):
        build_stamp_pairs(realdata, tmp_path / "pairs", max_pairs=1)


# ----------------------------------------------------------------------------- the renderer hook
class _Darken:
    """A numpy stamp texture: darkens the stroke."""

    def apply(self, patch, mask, rng):
        return patch * (1.0 - 0.5 * mask) - 0.01 * rng.random()


class _Identity:
    def apply(self, patch, mask, rng):
        return patch


def _render(texture, seed=3, rgb=False):
    r = BilletFaceRenderer(RenderParams(size_px=160, rgb=rgb, texture_bank=1), stamp_texture=texture)
    return r.render("K12MN456460", np.full(11, 1.5), np.ones(11), "A", np.random.default_rng(seed))


@pytest.mark.parametrize("rgb", [False, True])
def test_texture_hook_changes_pixels_only_near_characters_and_keeps_boxes(rgb):
    plain, dark = _render(None, rgb=rgb), _render(_Darken(), rgb=rgb)
    np.testing.assert_array_equal(plain.boxes, dark.boxes)
    np.testing.assert_array_equal(plain.label_map, dark.label_map)
    diff = np.abs(plain.image.astype(int) - dark.image.astype(int))
    diff = diff if diff.ndim == 2 else diff.max(axis=2)
    near = np.zeros(diff.shape, bool)
    for x0, y0, x1, y1 in plain.boxes[plain.present]:
        m = (y1 - y0) // 2 + 3
        near[max(0, y0 - m):y1 + m, max(0, x0 - m):x1 + m] = True
    assert diff[near].sum() > 0                                    # the texture did something ...
    assert diff[~near].max() == 0                                  # ... and only near the characters
    # An identity texture gives the byte-identical image of the renderer without one.
    np.testing.assert_array_equal(_render(_Identity(), rgb=rgb).image, plain.image)


def test_texture_hook_checks_what_the_texture_returns():
    class Bad:
        def apply(self, patch, mask, rng):
            return patch[:-1]

    with pytest.raises(ValueError, match="keep the patch's shape"):
        _render(Bad())
    with pytest.raises(TypeError, match="apply"):
        BilletFaceRenderer(RenderParams(size_px=96, texture_bank=1), stamp_texture=object())


def test_the_cgan_adapter_on_a_face(trained):
    gan, _ = trained
    adapter = StampTextureAdapter(gan)
    plain, textured = _render(None), _render(adapter)
    np.testing.assert_array_equal(plain.boxes, textured.boxes)
    assert not np.array_equal(plain.image, textured.image)
    np.testing.assert_array_equal(_render(adapter).image, textured.image)          # deterministic per seed
    # The adapter keeps the patch's border (no seams) and its shape.
    patch = render_stamp_patch(np.pad(rasterize_glyph("5", 20), 8), np.random.default_rng(0))
    out = adapter.apply(patch, np.pad(rasterize_glyph("5", 20), 8), np.random.default_rng(1))
    assert out.shape == patch.shape
    np.testing.assert_array_equal(out[0], patch[0])


# ----------------------------------------------------------------------------- the twin
def test_billets_with_render_stamp_gan_simulate_end_to_end(trained, tmp_path):
    import pyarrow.parquet as pq

    from scenarios.cli import main
    from twin.billet_line.physics_bridge import renderer_from_config, use_stamp_texture_factory
    from twin.billet_line.simulate import simulate_billets
    from twin.config import load_config

    _, root = trained
    spec = f"{root / 'checkpoints' / 'step_000003.ckpt'},{root}"
    cfg = load_config(None, ["render.size_px=96", f'render.stamp_gan="{spec}"'], kind="billets")
    with pytest.raises(ValueError, match="needs the generative models"):
        renderer_from_config(cfg)
    with use_stamp_texture_factory(load_stamp_texture):
        run = simulate_billets(cfg, tmp_path / "run", billets=3)
    t = pq.read_table(run / "billets.parquet")
    assert t.num_rows == 3 and t.column("image_png").null_count == 0
    plain = simulate_billets(load_config(None, ["render.size_px=96"], kind="billets"), tmp_path / "plain", billets=3)
    tp = pq.read_table(plain / "billets.parquet")
    assert t.column("boxes").to_pylist() == tp.column("boxes").to_pylist()
    assert t.column("image_png").to_pylist() != tp.column("image_png").to_pylist()
    # The CLI resolves the key itself; a broken checkpoint is an error naming the file.
    assert main(["simulate", "billets", "--billets", "2", "--out", str(tmp_path / "cli"), "--no-progress",
                 "--no-report", "--size", "96", "--set", f'render.stamp_gan="{root}"']) == 0
    (tmp_path / "bad.ckpt").write_bytes(b"TWINLOOP-GAN\n garbage")
    assert main(["simulate", "billets", "--billets", "2", "--out", str(tmp_path / "cli2"), "--no-progress",
                 "--set", f'render.stamp_gan="{tmp_path / "bad.ckpt"}"']) == 2
    assert not (tmp_path / "cli2").exists()


def test_render_stamp_gan_key_is_validated():
    from twin.config import ConfigError, load_config

    with pytest.raises(ConfigError, match="render.stamp_gan"):
        load_config(None, ['render.stamp_gan="a.ckpt,,b.ckpt"'], kind="billets")
    assert load_config(None, [], kind="billets")["render"]["stamp_gan"] == ""


# ----------------------------------------------------------------------------- CLI handlers
def _cli():
    from scenarios.cli_gan_stamp import add_sample_parser, add_train_parser

    parser = argparse.ArgumentParser(prog="twinloop")
    cmds = parser.add_subparsers(dest="command", required=True)
    gan_kinds = cmds.add_parser("train").add_subparsers(dest="gan", required=True)
    add_train_parser(gan_kinds)
    add_sample_parser(cmds.add_parser("sample").add_subparsers(dest="kind", required=True))
    return parser


def test_cli_train_and_sample(pairs, tmp_path, capsys):
    data = write_pair_folder(tmp_path / "pairs", pairs)
    parser = _cli()
    args = parser.parse_args(["train", "stamp", "--data", str(data), "--out", str(tmp_path / "m"), "--steps", "4",
                              "--size", "32", "--width", "4", "--batch-size", "2", "--checkpoint-every", "2",
                              "--no-progress"])
    assert args.handler(args) == 0
    for name in ("model.ckpt", "metrics.json", "report.html", "checkpoints/step_000002.ckpt"):
        assert (tmp_path / "m" / name).is_file(), name
    metrics = json.loads((tmp_path / "m" / "metrics.json").read_text())
    assert metrics["steps"] == 4 and metrics["pairs"] == 4
    assert "Plotly.newPlot" in (tmp_path / "m" / "report.html").read_text()
    # resume inside the same folder, to more steps
    args = parser.parse_args(["train", "stamp", "--data", str(data), "--out", str(tmp_path / "m"), "--steps", "6",
                              "--resume", str(tmp_path / "m" / "checkpoints" / "step_000002.ckpt"), "--no-progress"])
    assert args.handler(args) == 0
    assert StampCGAN.load(tmp_path / "m" / "model.ckpt").step_ == 6
    # sample with two checkpoints on a mask folder
    masks = tmp_path / "masks"
    masks.mkdir()
    for i in range(3):
        Image.fromarray((pairs.masks[i] * 255).astype(np.uint8)).save(masks / f"c{i}.png")
    assert load_mask_folder(masks, 32)[1].shape == (3, 32, 32)
    models = f"{tmp_path / 'm'},{tmp_path / 'm' / 'checkpoints' / 'step_000002.ckpt'}"
    args = parser.parse_args(["sample", "stamp", "--model", models, "--masks", str(masks), "--out", str(tmp_path / "s"),
                              "--seed", "1"])
    assert args.handler(args) == 0
    rec = json.loads((tmp_path / "s" / "samples.json").read_text())
    assert sorted(rec["samples"]) == ["c0", "c1", "c2"] and len(rec["checkpoints"]) == 2
    assert Image.open(tmp_path / "s" / "c0.png").size == (32, 32)
    assert (tmp_path / "s" / "procedural" / "c0.png").is_file()
    # errors name the file and exit 2
    capsys.readouterr()
    (tmp_path / "pairs" / "images" / "p0.png").unlink()
    args = parser.parse_args(["train", "stamp", "--data", str(data), "--out", str(tmp_path / "m2"), "--steps", "2"])
    assert args.handler(args) == 2
    assert "p0.png: no partner image" in capsys.readouterr().err
    args = parser.parse_args(["sample", "stamp", "--model", str(tmp_path / "nope.ckpt"), "--masks", str(masks),
                              "--out", str(tmp_path / "s2")])
    assert args.handler(args) == 2
    assert "nope.ckpt: no such checkpoint" in capsys.readouterr().err
    args = parser.parse_args(["train", "stamp", "--data", str(data), "--out", str(tmp_path / "m"), "--steps", "2"])
    assert args.handler(args) == 2                                   # non-empty --out without --overwrite


def test_the_twin_side_of_the_hook_imports_no_torch():
    import subprocess
    import sys

    code = ("import sys, twin.billet_line.simulate, twin.billet_line.physics_bridge, "
            "physics.billet_render.stamp_texture; assert 'torch' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
