"""Sensor-texture GAN: windows, training, determinism, resume, the twin's texture plug, curve metrics, CLI.

Tiny models on synthetic curves (a smooth ramp-and-hold shape plus
coloured, quantised noise), a few dozen steps each; the real Kassel curves
are used by the scenario, not here.
"""
from __future__ import annotations

import argparse
import hashlib

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch

from generative.checkpoint import CheckpointError
from generative.curve_metrics import CurveDiscriminativeScore, CurvePredictiveScore, balance_by_channel, window_inputs
from generative.curve_overlap_add import overlap_add, overlap_starts
from generative.curve_quantisation import estimate_lattice
from generative.curve_smoothing import CurveSmoothing
from generative.curve_windows import CurveDataError, block_segments, windows_from_curves, windows_from_runs
from generative.sensor_texture import SensorTextureGAN
from generative.sensor_texture_adapter import SensorTextureAdapter, load_curve_texture
from twin.config import load_config
from twin.curve_texture import CurveTexture
from twin.simulate import simulate_molding

CH = ("injection_pressure_bar", "screw_position_mm")
DT = 0.01
TINY = dict(hidden=8, noise_channels=2, batch_size=8)


def _curve(rng: np.random.Generator, n: int = 600, amp: float = 1.0) -> np.ndarray:
    """A cycle-like shape (ramp, hold, decay) + AR(1) noise, quantised to 0.05."""
    t = np.arange(n)
    shape = np.interp(t, [0, 50, 80, 300, 400, n], [0, 0, 400, 380, 20, 0])
    e = rng.standard_normal(n)
    ar = np.zeros(n)
    for i in range(1, n):
        ar[i] = 0.8 * ar[i - 1] + e[i]
    return (np.round((shape + amp * ar) / 0.05) * 0.05).astype(np.float32)


def _curves(seed: int = 0, n_cycles: int = 3) -> dict[str, list[np.ndarray]]:
    rng = np.random.default_rng(seed)
    return {"injection_pressure_bar": [_curve(rng) for _ in range(n_cycles)],
            "screw_position_mm": [_curve(rng, amp=0.2) / 10 for _ in range(n_cycles)]}


@pytest.fixture(scope="module")
def data():
    return windows_from_curves(_curves(), DT, length=32, stride=8)


@pytest.fixture(scope="module")
def model(data):
    torch.set_num_threads(1)
    return SensorTextureGAN(steps=25, **TINY).fit(data, seed=0)


def _weights(m):
    return torch.cat([p.detach().flatten() for net in m.nets_.values() for p in net.parameters()])


def _write_curves_run(folder, curves: dict[str, list[np.ndarray]]):
    folder.mkdir(parents=True)
    n = len(next(iter(curves.values())))
    cols = {"cycle_id": pa.array(range(1, n + 1), pa.int64()), "sample_interval_s": pa.array([DT] * n, pa.float64())}
    for ch, rows in curves.items():
        cols[ch] = pa.array([r.tolist() for r in rows], pa.list_(pa.float32()))
    pq.write_table(pa.table(cols), folder / "curves.parquet")
    return folder


# -- windows, smoothing, lattice, overlap-add ---------------------------------------------------------

def test_windows_blocks_do_not_overlap_and_smoothing_keeps_shape():
    curves = _curves()
    tr = windows_from_curves(curves, DT, length=32, stride=4, block_samples=100, part="train")
    te = windows_from_curves(curves, DT, length=32, stride=32, block_samples=100, part="test")
    assert tr.condition.shape[1] == 32 and set(tr.channels) == set(CH)
    tr_spans = {(int(r), int(s) // 100) for r, s in tr.origin}
    te_spans = {(int(r), int(s) // 100) for r, s in te.origin}
    assert not tr_spans & te_spans  # blocks alternate: no window shares a block with the other part
    assert all(s % 200 < 100 for _, s in tr.origin) and all(s % 200 >= 100 for _, s in te.origin)
    assert block_segments(450, 100, "test") == [(100, 200), (300, 400)]
    x = curves["injection_pressure_bar"][0]
    sm = CurveSmoothing()(x)
    assert np.std(x - sm) < 0.1 * np.std(x) and sm.dtype == np.float32
    with pytest.raises(CurveDataError, match="no window of 5000 samples"):
        windows_from_curves(curves, DT, length=5000)


def test_lattice_and_overlap_add():
    lat = estimate_lattice(_curves()["injection_pressure_bar"])
    assert lat.step == pytest.approx(0.05, rel=1e-3)
    assert estimate_lattice(np.random.default_rng(0).normal(size=500)).step == 0.0
    starts = overlap_starts(100, 32)
    assert starts[0] == 0 and starts[-1] == 100 - 32
    wins = np.stack([np.full(32, 3.0) for _ in starts])
    np.testing.assert_allclose(overlap_add(wins, starts, 100), 3.0)


# -- the GAN --------------------------------------------------------------------------------------------

def test_finite_losses_shapes_and_determinism(data, model):
    assert model.step_ == 25 and len(model.history_) == 25
    assert all(np.isfinite([h["d_loss"], h["g_loss"]]).all() for h in model.history_)
    assert model.channels_ == CH and model.window_samples_ == 32
    cond = model.example_conditions(5)
    a = model.sample(5, condition=cond, seed=3)
    assert a.shape == (5, 32) and a.dtype == np.float32 and np.all(np.isfinite(a))
    np.testing.assert_array_equal(a, model.sample(5, condition=cond, seed=3))
    assert not np.array_equal(a, model.sample(5, condition=cond, seed=4))
    again = SensorTextureGAN(steps=25, **TINY).fit(data, seed=0)
    assert torch.equal(_weights(model), _weights(again))
    other = SensorTextureGAN(steps=25, **TINY).fit(data, seed=1)
    assert not torch.equal(_weights(model), _weights(other))
    with pytest.raises(CurveDataError, match="not learned by this model"):
        model.sample(2, condition=(np.zeros((2, 32)), "nozzle_melt_temp_C"), seed=0)


def test_critic_loss_falls_when_overfitting_a_few_windows(data):
    few = data.select(np.arange(8))
    m = SensorTextureGAN(steps=50, hidden=8, noise_channels=2, batch_size=8, lr_d=2e-3, lr_g=1e-5).fit(few, seed=0)
    d = np.array([h["d_loss"] for h in m.history_])
    assert d[-10:].mean() < d[:10].mean() - 0.2


def test_save_load_and_exact_resume(tmp_path, data):
    full = SensorTextureGAN(steps=20, checkpoint_every=10, **TINY).fit(data, seed=5, checkpoint_dir=tmp_path / "ck")
    resumed = SensorTextureGAN(steps=20, **TINY).fit(data, seed=5, resume_from=tmp_path / "ck" / "step_000010.ckpt")
    assert torch.equal(_weights(full), _weights(resumed))
    assert [h["g_loss"] for h in full.history_] == [h["g_loss"] for h in resumed.history_]
    loaded = SensorTextureGAN.load(full.save(tmp_path / "m.ckpt"))
    cond = full.example_conditions(4)
    np.testing.assert_array_equal(full.sample(4, condition=cond, seed=1), loaded.sample(4, condition=cond, seed=1))
    assert loaded.lattice_ == full.lattice_ and loaded.smoothing_ == full.smoothing_
    x = _curves(9)["injection_pressure_bar"][0]
    np.testing.assert_array_equal(full.texture_curves(CH[0], x, seed=2), loaded.texture_curves(CH[0], x, seed=2))


def test_texture_curves_shapes_seed_and_lattice(model):
    x = np.stack(_curves(3, 2)["injection_pressure_bar"])           # (2, 600)
    y = model.texture_curves(CH[0], x, seed=1)
    assert y.shape == x.shape and y.dtype == np.float32
    np.testing.assert_array_equal(y, model.texture_curves(CH[0], x, seed=1))
    assert not np.array_equal(y, model.texture_curves(CH[0], x, seed=2))
    lat = model.lattice_[CH[0]]
    k = (y - lat.offset) / lat.step
    assert np.allclose(k, np.round(k), atol=1e-2)                  # on the learned lattice
    short = model.texture_curves(CH[0], x[0, :10], seed=1)         # shorter than a window
    assert short.shape == (10,)


# -- the twin's texture plug ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def twin_model():
    """A tiny model of two twin channels (dt 10 ms), trained on the twin's own curves."""
    torch.set_num_threads(1)
    curves = _curves(4)
    curves = {"injection_pressure_bar": curves["injection_pressure_bar"], "cavity_pressure_far_bar":
              curves["screw_position_mm"]}
    return SensorTextureGAN(steps=10, **TINY).fit(windows_from_curves(curves, DT, length=32, stride=8), seed=0)


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_twin_with_texture_changes_only_the_textured_curves(tmp_path, twin_model):
    cfg = load_config(None, ["run.seed=3", "cell.mtbf_h=0"])
    plain = simulate_molding(cfg, tmp_path / "plain", cycles=3)
    none = simulate_molding(cfg, tmp_path / "none", cycles=3, curve_texture=None)
    for name in ("cycles.parquet", "curves.parquet", "events.parquet", "metrics.json"):
        assert _digest(plain / name) == _digest(none / name)  # the no-texture path is the old one
    adapter = SensorTextureAdapter(twin_model, "tiny.ckpt")
    assert isinstance(adapter, CurveTexture)
    tex = simulate_molding(cfg, tmp_path / "tex", cycles=3, curve_texture=adapter)
    again = simulate_molding(cfg, tmp_path / "again", cycles=3, curve_texture=adapter)
    assert _digest(tex / "curves.parquet") == _digest(again / "curves.parquet")  # reproducible from the seed
    a, b = pq.read_table(plain / "curves.parquet"), pq.read_table(tex / "curves.parquet")
    for ch in a.column_names:
        same = a.column(ch).equals(b.column(ch))
        assert same == (ch not in adapter.channels), ch
    ca, cb = pq.read_table(plain / "cycles.parquet"), pq.read_table(tex / "cycles.parquet")
    assert cb.column("generator_checkpoint").to_pylist() == ["tiny.ckpt"] * 3
    assert ca.drop_columns(["generator_checkpoint"]).equals(cb.drop_columns(["generator_checkpoint"]))


def test_config_key_needs_a_texture_and_bad_checkpoints_are_clear_errors(tmp_path, twin_model, capsys):
    cfg = load_config(None, [f"curves.texture_model={tmp_path / 'm.ckpt'}"])
    with pytest.raises(ValueError, match="curves.texture_model .* no curve_texture was passed"):
        simulate_molding(cfg, tmp_path / "r", cycles=1)
    with pytest.raises(CheckpointError, match="missing.ckpt: no such checkpoint"):
        load_curve_texture(tmp_path / "missing.ckpt")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CheckpointError, match="model.ckpt: no such checkpoint"):
        load_curve_texture(tmp_path / "empty")
    raw = bytearray(twin_model.save(tmp_path / "m.ckpt").read_bytes())
    raw[-3] ^= 0xFF
    (tmp_path / "bad.ckpt").write_bytes(bytes(raw))
    with pytest.raises(CheckpointError, match="bad.ckpt.*checksum"):
        load_curve_texture(tmp_path / "bad.ckpt")
    with pytest.raises(ValueError, match="m.ckpt: the texture model learned curves sampled every 10 ms"):
        load_curve_texture(tmp_path / "m.ckpt").check_sample_interval(0.02)
    from scenarios.cli import main

    code = main(["simulate", "molding", "--cycles", "1", "--out", str(tmp_path / "out"), "--no-progress",
                 "--no-report", "--set", f"curves.texture_model={tmp_path / 'bad.ckpt'}"])
    assert code == 2 and "bad.ckpt" in capsys.readouterr().err and not (tmp_path / "out").exists()


# -- metrics ----------------------------------------------------------------------------------------------

def test_discriminative_score_separates_different_sets_and_not_identical_ones():
    rng = np.random.default_rng(0)
    a, b, c = rng.normal(0, 1, (40, 1, 16)), rng.normal(0, 1, (40, 1, 16)), rng.normal(0, 4, (40, 1, 16))
    quick = dict(epochs=5, min_steps=60, hidden=8, n_splits=3, seed=0)
    far = CurveDiscriminativeScore(**quick).fit(c, b)
    same = CurveDiscriminativeScore(**quick).fit(a, b)
    assert far.score_ > 0.35 and far.score_ci_[0] > 0.2
    assert same.score_ < 0.2 and same.score_ci_[0] == 0.0
    strata = CurveDiscriminativeScore(**quick).fit([c[:20], c[20:]], [b[:20], b[20:]])
    assert strata.n_per_class_ == 40 and strata.n_strata_ == 2 and strata.score_ > 0.3
    lin = CurveDiscriminativeScore(classifier="quadratic", n_splits=3).fit(c[:, 0], b[:, 0])
    assert lin.to_dict()["classifier"] == "quadratic" and lin.score_ > 0.3


def test_window_inputs_and_predictive_scores(data):
    a, b = balance_by_channel(data, data.select(np.arange(len(data))[::-1]), np.random.default_rng(0))
    x = window_inputs(a, "texture", {c: 1.0 for c in CH}, channels=CH)
    assert x.shape == (len(a), 1 + len(CH), 32)
    real_train = windows_from_curves(_curves(5, 4), DT, length=32, stride=8)
    real_test = windows_from_curves(_curves(6, 4), DT, length=32, stride=32)
    rng = np.random.default_rng(1)
    white = {ch: [CurveSmoothing()(r) + rng.normal(0, 0.05, r.size).astype(np.float32) for r in rows]
             for ch, rows in _curves(7, 4).items()}      # same shapes, far too little texture
    white = windows_from_curves(white, DT, length=32, stride=8)
    scale = {c: 1.0 for c in CH}
    for task in CurvePredictiveScore.TASKS:
        good = CurvePredictiveScore(task, lags=8, n_boot=100).fit(real_train, real_test, scale)
        bad = CurvePredictiveScore(task, lags=8, n_boot=100).fit(white, real_test, scale)
        assert good.mae_ < bad.mae_, task
        assert good.mae_ci_[0] <= good.mae_ <= good.mae_ci_[1]
    strata = CurvePredictiveScore(n_boot=50).fit([real_train, white], [real_test, real_test], [scale, scale])
    assert strata.per_channel_[CH[0]]["n_test_windows"] == 2 * len(real_test.of_channel(CH[0]))


# -- CLI handlers through a local parser ----------------------------------------------------------------------

def _cli():
    from scenarios.cli_gan_sensor import add_sample_parser, add_train_parser

    parser = argparse.ArgumentParser(prog="twinloop")
    top = parser.add_subparsers(dest="command", required=True)
    gan = top.add_parser("train").add_subparsers(dest="train_kind", required=True).add_parser("gan")
    add_train_parser(gan.add_subparsers(dest="gan_kind", required=True))
    add_sample_parser(top.add_parser("sample").add_subparsers(dest="sample_kind", required=True))
    return lambda argv: (lambda a: a.handler(a))(parser.parse_args(argv))


def test_cli_train_resume_and_sample(tmp_path, capsys):
    run = _write_curves_run(tmp_path / "real", _curves(2))
    cli = _cli()
    out = tmp_path / "gan"
    base = ["train", "gan", "sensor", "--data", str(run), "--out", str(out), "--window", "32", "--stride", "8",
            "--hidden", "8", "--batch-size", "8", "--no-progress", "--seed", "1"]
    assert cli(base + ["--steps", "6", "--checkpoint-every", "3"]) == 0
    assert {p.name for p in out.iterdir()} >= {"model.ckpt", "checkpoints", "metrics.json", "report.html"}
    first = SensorTextureGAN.load(out / "model.ckpt")
    assert cli(base + ["--steps", "6"]) == 2 and "not empty" in capsys.readouterr().err
    assert cli(base + ["--steps", "6", "--resume", str(out / "checkpoints" / "step_000003.ckpt")]) == 0
    assert torch.equal(_weights(first), _weights(SensorTextureGAN.load(out / "model.ckpt")))
    assert cli(["sample", "sensor", "--model", str(out), "--out", str(tmp_path / "s"), "--n", "5", "--seed", "2"]) == 0
    w = pq.read_table(tmp_path / "s" / "windows.parquet")
    assert w.num_rows == 5 and len(w.column("textured")[0]) == 32
    assert cli(["sample", "sensor", "--model", str(tmp_path / "nope.ckpt"), "--out", str(tmp_path / "x")]) == 2
    assert "nope.ckpt: no such checkpoint" in capsys.readouterr().err
    assert cli(["sample", "sensor", "--model", str(out), "--twin", str(run), "--out", str(tmp_path / "t"),
                "--no-progress"]) == 0
    src, dst = pq.read_table(run / "curves.parquet"), pq.read_table(tmp_path / "t" / "curves.parquet")
    assert dst.num_rows == src.num_rows and dst.column("cycle_id").equals(src.column("cycle_id"))
    assert not dst.column(CH[0]).equals(src.column(CH[0]))
    bad = _write_curves_run(tmp_path / "nodata", {"cavity_pressure_far_bar": [np.zeros(10, np.float32)]})
    assert cli(["train", "gan", "sensor", "--data", str(bad), "--out", str(tmp_path / "g2"), "--steps", "2",
                "--no-progress"]) == 1
    assert "no window of 128 samples" in capsys.readouterr().err
    assert windows_from_runs(run, length=32, stride=32).channels == CH
